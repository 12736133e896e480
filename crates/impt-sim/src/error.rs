//! JSON:API error documents.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A failed request: an HTTP status and one or more JSON:API error objects.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub errors: Vec<Value>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: u16, code: &str, title: &str, detail: &str) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        ApiError {
            status,
            errors: vec![error_object(status.as_u16(), code, title, detail)],
        }
    }

    /// Attach `meta` to the first error.
    pub fn with_meta(mut self, meta: Value) -> Self {
        if let Some(Value::Object(o)) = self.errors.first_mut() {
            o.insert("meta".into(), meta);
        }
        self
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            404,
            "NF001",
            "Resource Not Found",
            &format!("The requested {what} could not be found."),
        )
    }

    /// 405: the method is not allowed on this resource.
    pub fn method_not_allowed() -> Self {
        ApiError::new(
            405,
            "VX405",
            "Method Not Allowed",
            "This method is not allowed on this resource.",
        )
    }

    pub fn bad_request(detail: &str) -> Self {
        ApiError::new(400, "VX001", "Invalid Request", detail)
    }

    pub fn invalid_attr(detail: &str) -> Self {
        ApiError::new(400, "VX002", "Invalid Attribute", detail)
    }

    pub fn conflict(code: &str, title: &str, detail: &str) -> Self {
        ApiError::new(409, code, title, detail)
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            401,
            "PX101",
            "Unauthorized",
            "Access token is invalid or expired.",
        )
    }

    pub fn invalid_credentials() -> Self {
        ApiError::new(
            401,
            "PX100",
            "Invalid Credentials",
            "The provided credentials are invalid.",
        )
    }

    pub fn type_mismatch() -> Self {
        ApiError::new(
            409,
            "VX010",
            "Type Mismatch",
            "The resource type or id in the body does not match the request.",
        )
    }
}

pub fn error_object(status: u16, code: &str, title: &str, detail: &str) -> Value {
    json!({"status": status.to_string(), "code": code, "title": title, "detail": detail})
}

pub const JSONAPI: &str = "application/vnd.api+json";

/// A JSON response with the JSON:API content type: `body` serialised as it is (a tree, or
/// a typed document written field by field).
pub fn json_response<T: serde::Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "null".into());
    let mut r = (status, text).into_response();
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static(JSONAPI));
    r
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &json!({ "errors": self.errors }))
    }
}
