//! The local compile check before a deployment is requested (`build deploy`, `build run`,
//! `impt watch`): the embedded Squirrel compiler compiles the code that would be sent, so a
//! save that does not compile costs no request and shows its error at once. The errors have
//! the service's shape (a 400 `CX005` answer whose `meta` lists `{file, type, row, column,
//! text}` with `file` `device_code`/`agent_code`), so they are mapped and shown the same way.
//! The cloud compiler stays the authority: code that passes here can still fail there, and
//! `--no-local-check` skips this check.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiErrorItem, ImptError};

/// The compile errors of the code, as the service's `meta` entries; empty when it compiles.
/// `#require` lines are resolved as the service does (see `builder::require`: the user
/// cache, `$IMPT_LIBRARIES`, `$IMPT_GITHUB_API`); a library that cannot be had is an error
/// at its line.
pub fn compile_errors(device_code: &str, agent_code: &str) -> Vec<Value> {
    use impt_builder::require::{resolve, Settings, Side};
    let libs = Settings::from_env();
    let mut out = Vec::new();
    for (file, src, side) in [
        ("device_code", device_code, Side::Device),
        ("agent_code", agent_code, Side::Agent),
    ] {
        if let Err(e) = resolve(src, side, &libs) {
            out.push(json!({"file": file, "type": "error", "row": e.row, "column": e.column, "text": e.text}));
            continue;
        }
        if let Err(e) = impt_vm::compile_check(src, file) {
            out.push(json!({"file": file, "type": "error", "row": e.row, "column": e.column, "text": e.text}));
        }
    }
    out
}

/// The error a deployment request would get for these compile errors (the same texts, so
/// the output does not depend on where the error was found).
pub fn compile_failure(meta: Vec<Value>) -> ImptError {
    let detail = if meta.iter().any(|e| e["file"] == "device_code") {
        "Device code compile failed"
    } else {
        "Agent code compile failed"
    };
    ImptError::Api(ApiError {
        status: 400,
        errors: vec![ApiErrorItem {
            status: "400".into(),
            code: "CX005".into(),
            title: "Compilation Error".into(),
            detail: detail.into(),
            meta: Value::Array(meta),
        }],
        raw: String::new(),
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_errors_of_either_side() {
        assert!(compile_errors("server.log(1);", "local a = 2;").is_empty());
        let e = compile_errors("local x = 1;\nlocal y = ;\n", "");
        assert_eq!(e.len(), 1);
        assert_eq!(e[0]["file"], "device_code");
        assert_eq!(e[0]["row"], 2);
        let e = compile_errors("", "function f( {");
        assert_eq!(e[0]["file"], "agent_code");
        let ImptError::Api(a) = compile_failure(e) else {
            panic!("an API error")
        };
        assert_eq!(a.status, 400);
        assert!(a.errors[0].detail.starts_with("Agent code compile failed"));
    }
}
