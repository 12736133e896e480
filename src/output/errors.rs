//! Error texts, as the original impt prints them.

use serde_json::{json, Value};

use super::Ui;
use crate::error::{ApiErrorItem, ConfigKind, ImptError};

fn error_line(ui: &Ui, text: &str) {
    if ui.is_json() {
        ui.dialog(&super::to_json(&json!({ "Error": text })));
    } else {
        ui.dialog(&format!("Error: {text}"));
    }
}

/// `<file> <type> (line <row>, column <column>): <text>` lines of a compile error item.
pub fn meta_lines(item: &ApiErrorItem) -> Vec<String> {
    let Value::Array(entries) = &item.meta else {
        return vec![];
    };
    entries
        .iter()
        .filter_map(|m| {
            let f = |k: &str| m.get(k).filter(|v| !v.is_null());
            let (file, typ, row, col, text) =
                (f("file")?, f("type")?, f("row")?, f("column")?, f("text")?);
            let s = |v: &Value| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            };
            Some(format!(
                "{} {} (line {}, column {}): {}",
                s(file),
                s(typ),
                s(row),
                s(col),
                s(text)
            ))
        })
        .collect()
}

fn relogin_hint(ui: &Ui, kind: &ConfigKind) {
    match kind {
        ConfigKind::GlobalAuth => {
            ui.info("Please relogin using \"impt auth login\" command and then try again.")
        }
        ConfigKind::LocalAuth => {
            ui.info("Please relogin using \"impt auth login --local\" command and then try again.")
        }
        _ => {}
    }
}

pub fn print(ui: &Ui, err: &ImptError) {
    match err {
        ImptError::Usage { help, msg } => {
            // Parser errors are always text, after the command's help (when there is one).
            if !help.is_empty() {
                ui.dialog(help.trim_end());
                ui.dialog("");
            }
            ui.dialog(&format!("Error: {msg}"));
        }
        ImptError::Multiple {
            matches,
            entity,
            ident,
        } => {
            error_line(ui, &err.to_string());
            if !ui.is_json() {
                ui.result(&Value::Array(matches.clone()));
            }
            ui.info("Impossible to execute the command.");
            if *entity == crate::error::Entity::Device && ident.is_none() {
                ui.info("Pick one of them with --device <DEVICE_IDENTIFIER> (its id, MAC address, agent id or name).");
            }
        }
        ImptError::Outdated { config, .. } => {
            error_line(ui, &err.to_string());
            ui.info("Impossible to execute the command.");
            match config {
                ConfigKind::Test => ui.info(
                    "Use \"impt test delete\" command to delete the outdated Test Configuration.",
                ),
                _ => ui.info("Use \"impt project delete\" command to delete the outdated Project."),
            }
        }
        ImptError::Corrupted(kind)
        | ImptError::RefreshFailed(kind)
        | ImptError::TokenExpired(kind) => {
            error_line(ui, &err.to_string());
            relogin_hint(ui, kind);
        }
        ImptError::Api(api) => {
            let mut printed = false;
            for item in &api.errors {
                if item.title.is_empty() && item.detail.is_empty() {
                    continue;
                }
                printed = true;
                let head = format!("{}: {}", item.title, item.detail);
                let lines = meta_lines(item);
                if ui.is_json() {
                    if lines.is_empty() {
                        error_line(ui, &head);
                    }
                    for l in &lines {
                        error_line(ui, &format!("{head} {l}"));
                    }
                } else {
                    ui.dialog(&format!("Error: {head}"));
                    for l in &lines {
                        ui.dialog(l);
                    }
                }
            }
            if !ui.is_json() {
                for n in &api.notes {
                    ui.dialog(n);
                }
            }
            if !printed {
                let raw = api.raw.trim();
                let text = if raw.is_empty() {
                    format!("impCentral API error HTTP/{}", api.status)
                } else {
                    format!(
                        "impCentral API error HTTP/{}: {}",
                        api.status,
                        raw.chars().take(300).collect::<String>()
                    )
                };
                error_line(ui, &text);
            }
        }
        ImptError::Canceled => {
            ui.info("Operation is canceled.");
            ui.json_empty();
        }
        other => error_line(ui, &other.to_string()),
    }
}

/// Info-level warning lines of a successful answer's `data.meta` (e.g. compiler warnings).
pub fn print_warnings(ui: &Ui, doc: &Value) {
    let Some(Value::Array(items)) = doc.get("data").and_then(|d| d.get("meta")) else {
        return;
    };
    for raw in items {
        let item = crate::api::parse_error_item(raw);
        if item.title.is_empty() && item.detail.is_empty() {
            continue;
        }
        ui.info(&format!("{}: {}", item.title, item.detail));
        for l in meta_lines(&item) {
            ui.info(&l);
        }
    }
}
