//! The record of a webhook call and the encoding of its body (the calls themselves are made
//! by the delivery module; the records live in the world, see the app module).

use serde::Serialize;
use serde_json::{Map, Value};

/// One webhook call and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: u64,
    /// The account of the webhook (caps are per account, see the delivery module).
    pub owner: String,
    pub webhook: String,
    pub devicegroup: String,
    pub event: String,
    pub url: String,
    pub content_type: String,
    pub body: String,
    /// `pending`, `delivered` or `failed`.
    pub outcome: String,
    pub attempts: u32,
    /// HTTP status of the last try, if it got an answer.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The body of a call in `content_type`: JSON, or the payload's members form-encoded.
pub fn encode(content_type: &str, payload: &Map<String, Value>) -> String {
    if content_type == "application/x-www-form-urlencoded" {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in payload {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            ser.append_pair(k, &text);
        }
        ser.finish()
    } else {
        Value::Object(payload.clone()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_follow_the_content_type() {
        let Value::Object(p) = json!({"device_id": "abc", "n": 2, "ok": true}) else {
            unreachable!()
        };
        assert_eq!(
            encode("application/json", &p),
            r#"{"device_id":"abc","n":2,"ok":true}"#
        );
        assert_eq!(
            encode("application/x-www-form-urlencoded", &p),
            "device_id=abc&n=2&ok=true"
        );
    }
}
