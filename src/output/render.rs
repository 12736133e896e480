//! The text renderer of result objects: the layout of the original impt (key alignment,
//! `"""` blocks for multi-line strings, inline scalar arrays, nested blocks).

use serde_json::Value;

/// How keys are styled and inline arrays joined.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Wrap keys in green ANSI codes.
    pub color: bool,
    /// Separator of inline arrays: `", "` in default/debug mode, `","` in minimal mode.
    pub inline_sep: &'static str,
}

/// Longest string shown in text mode before it is cut.
pub const MAX_TEXT: usize = 512;

fn is_scalar(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains('\n'),
        Value::Array(_) | Value::Object(_) => false,
        _ => true,
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

fn is_inline_array(v: &Value) -> bool {
    matches!(v, Value::Array(a) if a.first().is_some_and(is_scalar))
}

/// Cuts strings longer than [`MAX_TEXT`] chars to that length plus a `...` line.
fn cut(v: &Value) -> std::borrow::Cow<'_, Value> {
    match v {
        Value::String(s) if s.chars().count() > MAX_TEXT => {
            let head: String = s.chars().take(MAX_TEXT).collect();
            std::borrow::Cow::Owned(Value::String(format!("{head}\n...")))
        }
        _ => std::borrow::Cow::Borrowed(v),
    }
}

/// Renders `value` at `indent` into lines (without line ends).
pub fn render(value: &Value, indent: usize, style: Style) -> Vec<String> {
    let mut out = Vec::new();
    render_into(value, indent, style, &mut out);
    out
}

fn render_into(value: &Value, indent: usize, style: Style, out: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    let value = cut(value);
    let value = value.as_ref();
    if is_scalar(value) {
        out.push(format!("{pad}{}", scalar_text(value)));
        return;
    }
    match value {
        Value::String(s) => {
            out.push(format!("{pad}\"\"\""));
            let inner = " ".repeat(indent + 2);
            for line in s.split('\n') {
                out.push(format!("{inner}{line}"));
            }
            out.push(format!("{pad}\"\"\""));
        }
        Value::Array(items) => {
            if items.is_empty() {
                out.push(format!("{pad}-"));
            }
            for item in items {
                render_into(item, indent, style, out);
            }
        }
        Value::Object(map) => {
            let width = map.keys().map(|k| k.chars().count()).max().unwrap_or(0);
            for (key, v) in map {
                let v = cut(v);
                let v = v.as_ref();
                let key_text = if style.color {
                    format!("\x1b[32m{key}: \x1b[39m")
                } else {
                    format!("{key}: ")
                };
                if is_scalar(v) || is_inline_array(v) {
                    let text = match v {
                        Value::Array(a) => a
                            .iter()
                            .map(scalar_text)
                            .collect::<Vec<_>>()
                            .join(style.inline_sep),
                        _ => scalar_text(v),
                    };
                    let fill = " ".repeat(width - key.chars().count());
                    out.push(format!("{pad}{key_text}{fill}{text}"));
                } else {
                    out.push(format!("{pad}{key_text}"));
                    render_into(v, indent + 2, style, out);
                }
            }
        }
        _ => unreachable!("scalars handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PLAIN: Style = Style {
        color: false,
        inline_sep: ", ",
    };

    #[test]
    fn aligns_keys_and_nests_blocks() {
        let v = json!({"Device Group": {"id": "d1", "type": "development", "name": "DG1",
            "region": "", "Product": {"id": "p1", "name": "P1"}}});
        let lines = render(&v, 0, PLAIN);
        assert_eq!(
            lines,
            vec![
                "Device Group: ",
                "  id:      d1",
                "  type:    development",
                "  name:    DG1",
                "  region:  ",
                "  Product: ",
                "    id:   p1",
                "    name: P1",
            ]
        );
    }

    #[test]
    fn multiline_strings_and_inline_arrays() {
        let v = json!({"code": "a\nb\n", "tags": ["T1", "7"]});
        assert_eq!(
            render(&v, 0, PLAIN),
            vec![
                "code: ",
                "  \"\"\"",
                "    a",
                "    b",
                "    ",
                "  \"\"\"",
                "tags: T1, 7"
            ]
        );
        let minimal = Style {
            color: false,
            inline_sep: ",",
        };
        assert_eq!(
            render(&json!({"tags": ["T1", "7"]}), 0, minimal),
            vec!["tags: T1,7"]
        );
    }

    #[test]
    fn arrays_of_objects_stay_at_indent_and_empty_is_dash() {
        let v = json!([{"Device": {"id": "a"}}, {"Device": {"id": "b"}}]);
        assert_eq!(
            render(&v, 0, PLAIN),
            vec!["Device: ", "  id: a", "Device: ", "  id: b"]
        );
        assert_eq!(render(&json!({"x": []}), 0, PLAIN), vec!["x: ", "  -"]);
    }

    #[test]
    fn colors_keys_and_cuts_long_strings() {
        let style = Style {
            color: true,
            inline_sep: ", ",
        };
        assert_eq!(
            render(&json!({"ab": 1, "c": true}), 0, style),
            vec!["\x1b[32mab: \x1b[39m1", "\x1b[32mc: \x1b[39m true"]
        );
        let long = "x".repeat(600);
        let lines = render(&json!({"code": long}), 0, PLAIN);
        assert_eq!(lines[2].len(), 2 + 2 + 512);
        assert_eq!(lines[3], "    ...");
    }
}
