//! What the log lines of a device mean to a test session (the events the runner reacts to).

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
pub enum LogEvent {
    AgentRestarted,
    CodeSpaceUsage(f64),
    OutOfCodeSpace,
    OutOfMemory,
    LastExitCode(String),
    DeviceError(String),
    AgentError(String),
    Connected,
    Disconnected,
    Powerstate(String),
    Firmware(String),
    /// A framework message (`__IMPUNIT__`) of the tested side, parsed.
    ImpUnit(Value),
    /// A framework message that is not valid JSON.
    BadImpUnit(String),
    /// Anything else (shown as `Message of type UNKNOWN: …`).
    Unknown(Value),
    /// Logs of the other side and plain logs of the tested side.
    Ignored,
}

fn code_space(msg: &str) -> Option<(bool, f64)> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r"(Out of space)?.*?([\d.]+)% program storage used").expect("valid")
    });
    let c = re.captures(msg)?;
    let v: f64 = c.get(2)?.as_str().parse().ok()?;
    Some((c.get(1).is_some(), v))
}

/// Classifies one log entry (`{type, msg, …}`) for a test of `kind` (`agent`/`device`):
/// the device's logs come as `server.*`.
pub fn classify(log: &Value, kind: &str) -> Vec<LogEvent> {
    let typ = log.get("type").and_then(Value::as_str).unwrap_or("");
    let msg = log
        .get("msg")
        .or_else(|| log.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let api_type = if kind == "agent" { "agent" } else { "server" };
    match typ {
        "status" => {
            if msg.contains("Agent restarted") {
                vec![LogEvent::AgentRestarted]
            } else if let Some((out, v)) = code_space(&msg) {
                let mut ev = vec![LogEvent::CodeSpaceUsage(v)];
                if out {
                    ev.push(LogEvent::OutOfCodeSpace);
                }
                ev
            } else if msg.contains("Device disconnected") {
                vec![LogEvent::Disconnected]
            } else if msg.contains("Device connected") {
                vec![LogEvent::Connected]
            } else {
                vec![LogEvent::Unknown(log.clone())]
            }
        }
        "lastexitcode" => {
            if msg.contains("out of memory") {
                vec![LogEvent::OutOfMemory]
            } else {
                vec![LogEvent::LastExitCode(msg)]
            }
        }
        "server.log" | "agent.log" => {
            if typ.trim_end_matches(".log") == api_type && msg.contains("__IMPUNIT__") {
                match serde_json::from_str::<Value>(&msg) {
                    Ok(v) => vec![LogEvent::ImpUnit(v)],
                    Err(_) => vec![LogEvent::BadImpUnit(msg)],
                }
            } else {
                vec![LogEvent::Ignored]
            }
        }
        "agent.error" => vec![LogEvent::AgentError(msg)],
        "server.error" => vec![LogEvent::DeviceError(msg)],
        "powerstate" => vec![LogEvent::Powerstate(msg)],
        "firmware" => vec![LogEvent::Firmware(msg)],
        _ => vec![LogEvent::Unknown(log.clone())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies() {
        let l = |t: &str, m: &str| json!({"type": t, "msg": m});
        assert_eq!(
            classify(&l("status", "Agent restarted: reload."), "device"),
            vec![LogEvent::AgentRestarted]
        );
        assert_eq!(
            classify(
                &l("status", "Out of space; 99.5% program storage used"),
                "device"
            ),
            vec![LogEvent::CodeSpaceUsage(99.5), LogEvent::OutOfCodeSpace]
        );
        let m = r#"{"__IMPUNIT__":1,"type":"SESSION_START","session":"a-b","message":""}"#;
        assert!(matches!(
            classify(&l("server.log", m), "device")[0],
            LogEvent::ImpUnit(_)
        ));
        assert_eq!(
            classify(&l("agent.log", m), "device"),
            vec![LogEvent::Ignored]
        );
        assert_eq!(
            classify(&l("agent.log", "__IMPUNIT__ {"), "agent"),
            vec![LogEvent::BadImpUnit("__IMPUNIT__ {".into())]
        );
        assert_eq!(
            classify(&l("lastexitcode", "out of memory"), "device"),
            vec![LogEvent::OutOfMemory]
        );
    }
}
