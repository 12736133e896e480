//! Built-in functions and filters: `escape`, `base64`, `abs`, `min`, `max` and the `S.*`
//! string functions (JavaScript string method semantics, UTF-16 positions).

use std::rc::Rc;

use base64::Engine;

use super::js::{is_js_space, num_to_string, to_integer, Value};

pub const STRING_FUNCTIONS: [&str; 13] = [
    "concat",
    "endsWith",
    "includes",
    "repeat",
    "split",
    "startsWith",
    "substr",
    "substring",
    "toLowerCase",
    "toUpperCase",
    "trim",
    "trimLeft",
    "trimRight",
];

/// Names bound at the root context, with their values.
pub fn root_bindings() -> Vec<(&'static str, Value)> {
    let s: Vec<(String, Value)> = STRING_FUNCTIONS
        .iter()
        .map(|n| {
            (
                n.to_string(),
                Value::Func(super::js::Func::Builtin(s_name(n))),
            )
        })
        .collect();
    let f = |n: &'static str| (n, Value::Func(super::js::Func::Builtin(n)));
    vec![
        f("include"),
        f("escape"),
        f("base64"),
        ("S", Value::Object(Rc::new(s))),
        f("abs"),
        f("min"),
        f("max"),
    ]
}

fn s_name(n: &str) -> &'static str {
    match n {
        "concat" => "S.concat",
        "endsWith" => "S.endsWith",
        "includes" => "S.includes",
        "repeat" => "S.repeat",
        "split" => "S.split",
        "startsWith" => "S.startsWith",
        "substr" => "S.substr",
        "substring" => "S.substring",
        "toLowerCase" => "S.toLowerCase",
        "toUpperCase" => "S.toUpperCase",
        "trim" => "S.trim",
        "trimLeft" => "S.trimLeft",
        _ => "S.trimRight",
    }
}

fn utf16(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn from16(v: &[u16]) -> Value {
    Value::str(&String::from_utf16_lossy(v))
}

fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Undefined)
}

fn clamp_pos(v: &Value, len: usize, default: usize) -> usize {
    if matches!(v, Value::Undefined) {
        return default;
    }
    let n = to_integer(v);
    n.max(0.0).min(len as f64) as usize
}

fn find16(hay: &[u16], needle: &[u16], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    (from..=hay.len().saturating_sub(needle.len()))
        .find(|&i| i + needle.len() <= hay.len() && hay[i..i + needle.len()] == *needle)
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\'' => o.push_str("\\'"),
            '\\' => o.push_str("\\\\"),
            '\u{8}' => o.push_str("\\b"),
            '\u{c}' => o.push_str("\\f"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c => o.push(c),
        }
    }
    o
}

fn math(name: &str, args: &[Value]) -> Result<Value, String> {
    if args.is_empty() {
        return Err(format!("Wrong number of arguments for {}()", name));
    }
    let nums: Vec<f64> = args.iter().map(|a| a.to_number()).collect();
    Ok(Value::Num(match name {
        "abs" => nums[0].abs(),
        _ => {
            let mut acc = if name == "min" {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            };
            for n in nums {
                if n.is_nan() {
                    return Ok(Value::Num(f64::NAN));
                }
                let better = if name == "min" {
                    n < acc || (n == 0.0 && acc == 0.0 && n.is_sign_negative())
                } else {
                    n > acc || (n == 0.0 && acc == 0.0 && n.is_sign_positive())
                };
                if better {
                    acc = n;
                }
            }
            acc
        }
    }))
}

/// Call a built-in (other than `include`, which needs the machine).
pub fn call(name: &str, args: &[Value]) -> Result<Value, String> {
    match name {
        "escape" => Ok(Value::str(&escape(&arg(args, 0).to_js_string()))),
        "base64" => Ok(Value::str(
            &base64::engine::general_purpose::STANDARD
                .encode(arg(args, 0).to_js_string().as_bytes()),
        )),
        "abs" | "min" | "max" => math(name, args),
        _ => match name.strip_prefix("S.") {
            Some(m) => string_fn(m, args),
            None => Err(format!("Function \"{}\" is not defined", name)),
        },
    }
}

fn string_fn(m: &str, args: &[Value]) -> Result<Value, String> {
    let Some(first) = args.first() else {
        return Err(format!(
            "Missing string as required first argument in {}()",
            m
        ));
    };
    let s = match first {
        Value::Null => return Err("Cannot read properties of null (reading 'toString')".into()),
        Value::Undefined => {
            return Err("Cannot read properties of undefined (reading 'toString')".into())
        }
        v => v.to_js_string(),
    };
    let rest = &args[1..];
    let u = utf16(&s);
    Ok(match m {
        "concat" => {
            let mut o = s.clone();
            for a in rest {
                o.push_str(&a.to_js_string());
            }
            Value::str(&o)
        }
        "endsWith" => {
            let search = utf16(&arg(rest, 0).to_js_string());
            let end = clamp_pos(&arg(rest, 1), u.len(), u.len());
            Value::Bool(end >= search.len() && u[end - search.len()..end] == *search)
        }
        "startsWith" => {
            let search = utf16(&arg(rest, 0).to_js_string());
            let start = clamp_pos(&arg(rest, 1), u.len(), 0);
            Value::Bool(
                start + search.len() <= u.len() && u[start..start + search.len()] == *search,
            )
        }
        "includes" => {
            let search = utf16(&arg(rest, 0).to_js_string());
            let start = clamp_pos(&arg(rest, 1), u.len(), 0);
            Value::Bool(find16(&u, &search, start).is_some())
        }
        "repeat" => {
            let c = arg(rest, 0);
            let n = to_integer(&c);
            if n < 0.0 || n.is_infinite() {
                return Err(format!(
                    "Invalid count value: {}",
                    num_to_string(c.to_number())
                ));
            }
            if (n * s.len() as f64) > (1u64 << 29) as f64 {
                return Err("Invalid string length".into());
            }
            Value::str(&s.repeat(n as usize))
        }
        "split" => {
            let lim = match arg(rest, 1) {
                Value::Undefined => u32::MAX as f64,
                v => {
                    let n = v.to_number();
                    if n.is_finite() {
                        n.trunc().rem_euclid(4294967296.0)
                    } else {
                        0.0
                    }
                }
            } as usize;
            let mut out = Vec::new();
            if lim == 0 {
                return Ok(Value::Array(Rc::new(out)));
            }
            match arg(rest, 0) {
                Value::Undefined => out.push(Value::str(&s)),
                sep => {
                    let sep = utf16(&sep.to_js_string());
                    if sep.is_empty() {
                        for c in u.iter().take(lim) {
                            out.push(from16(&[*c]));
                        }
                    } else {
                        let mut p = 0;
                        while let Some(q) = find16(&u, &sep, p) {
                            if q + sep.len() > u.len() {
                                break;
                            }
                            out.push(from16(&u[p..q]));
                            if out.len() >= lim {
                                return Ok(Value::Array(Rc::new(out)));
                            }
                            p = q + sep.len();
                        }
                        out.push(from16(&u[p..]));
                    }
                }
            }
            Value::Array(Rc::new(out))
        }
        "substr" => {
            let size = u.len() as f64;
            let start = to_integer(&arg(rest, 0));
            let start = if start < 0.0 {
                (size + start).max(0.0)
            } else {
                start.min(size)
            };
            let len = match arg(rest, 1) {
                Value::Undefined => size,
                v => to_integer(&v).max(0.0).min(size),
            };
            let end = (start + len).min(size);
            if start >= end {
                Value::str("")
            } else {
                from16(&u[start as usize..end as usize])
            }
        }
        "substring" => {
            let a = clamp_pos(&arg(rest, 0), u.len(), 0);
            let b = clamp_pos(&arg(rest, 1), u.len(), u.len());
            from16(&u[a.min(b)..a.max(b)])
        }
        "toLowerCase" => Value::str(&s.to_lowercase()),
        "toUpperCase" => Value::str(&s.to_uppercase()),
        "trim" => Value::str(s.trim_matches(is_js_space)),
        "trimLeft" => Value::str(s.trim_start_matches(is_js_space)),
        _ => Value::str(s.trim_end_matches(is_js_space)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::str(v)
    }

    #[test]
    fn string_functions() {
        let r = |m: &str, a: &[Value]| call(m, a).map(|v| v.to_js_string());
        assert_eq!(
            r(
                "S.substr",
                &[s("abcdef"), Value::Num(-3.0), Value::Num(2.0)]
            )
            .as_deref(),
            Ok("de")
        );
        assert_eq!(
            r(
                "S.substring",
                &[s("abcdef"), Value::Num(4.0), Value::Num(1.0)]
            )
            .as_deref(),
            Ok("bcd")
        );
        assert_eq!(
            r("S.split", &[s("a,b,,c"), s(",")]).as_deref(),
            Ok("a,b,,c")
        );
        assert_eq!(
            r("S.repeat", &[s("ab"), Value::Num(3.0)]).as_deref(),
            Ok("ababab")
        );
        assert_eq!(r("escape", &[s("a\"b\n")]).as_deref(), Ok("a\\\"b\\n"));
        assert_eq!(r("base64", &[s("hello")]).as_deref(), Ok("aGVsbG8="));
        assert_eq!(r("min", &[Value::Num(3.0), s("2")]).as_deref(), Ok("2"));
        assert!(r("max", &[]).is_err());
    }
}
