//! JavaScript value semantics needed to reproduce Builder's expression results exactly:
//! values, `String()`/`Number()` conversions, number formatting, loose equality, ordering.

use std::rc::Rc;

/// A callable value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Func {
    /// A built-in function, by its name (`include`, `abs`, `S.trim`, …).
    Builtin(&'static str),
    /// A macro declared with `@macro`, by name.
    Macro(Rc<str>),
    /// A JavaScript library function, by handle (see `jslib`), with the token that keeps
    /// the handle alive (the engine frees it once no value holds the token).
    Js(u32, Rc<str>),
}

/// A Builder expression value (the subset of JavaScript values Builder can produce).
#[derive(Debug, Clone)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<str>),
    Array(Rc<Vec<Value>>),
    Object(Rc<Vec<(String, Value)>>),
    Func(Func),
    /// A JavaScript library object, by handle, with its `String()` text.
    Js(u32, Rc<str>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    /// JavaScript `ToBoolean`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Undefined | Value::Null => false,
            Value::Bool(b) => *b,
            Value::Num(n) => !(*n == 0.0 || n.is_nan()),
            Value::Str(s) => !s.is_empty(),
            _ => true,
        }
    }

    pub fn is_func(&self) -> bool {
        matches!(self, Value::Func(_))
    }

    /// JavaScript `String(value)`.
    pub fn to_js_string(&self) -> String {
        match self {
            Value::Undefined => "undefined".into(),
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Num(n) => num_to_string(*n),
            Value::Str(s) => s.to_string(),
            Value::Array(a) => a
                .iter()
                .map(|v| match v {
                    Value::Undefined | Value::Null => String::new(),
                    v => v.to_js_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            Value::Object(_) => "[object Object]".into(),
            Value::Func(_) => "function () { [native code] }".into(),
            Value::Js(_, s) => s.to_string(),
        }
    }

    /// JavaScript `ToNumber`.
    pub fn to_number(&self) -> f64 {
        match self {
            Value::Undefined => f64::NAN,
            Value::Null => 0.0,
            Value::Bool(b) => {
                if *b {
                    1.0
                } else {
                    0.0
                }
            }
            Value::Num(n) => *n,
            Value::Str(s) => str_to_number(s),
            Value::Array(_) | Value::Object(_) | Value::Func(_) | Value::Js(..) => {
                str_to_number(&self.to_js_string())
            }
        }
    }

    /// JavaScript `ToPrimitive` (arrays, objects and functions become strings).
    pub fn to_primitive(&self) -> Value {
        match self {
            Value::Array(_) | Value::Object(_) | Value::Func(_) | Value::Js(..) => {
                Value::str(&self.to_js_string())
            }
            v => v.clone(),
        }
    }

    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Num(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => {
                Value::Array(Rc::new(a.iter().map(Value::from_json).collect()))
            }
            serde_json::Value::Object(o) => Value::Object(Rc::new(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            )),
        }
    }
}

/// JavaScript `WhiteSpace` + `LineTerminator` (what `\s` and `String.prototype.trim` use).
pub fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

pub fn js_trim(s: &str) -> &str {
    s.trim_matches(is_js_space)
}

/// JavaScript `Number.prototype.toString()` (radix 10).
pub fn num_to_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if x < 0.0 {
        return format!("-{}", num_to_string(-x));
    }
    // shortest round-trip digits
    let e = format!("{:e}", x);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let k = digits.len() as i64;
    let n = exp + 1;
    if k <= n && n <= 21 {
        let mut s = digits;
        for _ in 0..(n - k) {
            s.push('0');
        }
        s
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{}", "0".repeat((-n) as usize), digits)
    } else {
        let e = n - 1;
        let sign = if e < 0 { '-' } else { '+' };
        if k == 1 {
            format!("{}e{}{}", digits, sign, e.abs())
        } else {
            format!("{}.{}e{}{}", &digits[..1], &digits[1..], sign, e.abs())
        }
    }
}

/// JavaScript `ToNumber` applied to a string.
pub fn str_to_number(s: &str) -> f64 {
    let t = js_trim(s);
    if t.is_empty() {
        return 0.0;
    }
    for (prefix, radix) in [
        ("0x", 16),
        ("0X", 16),
        ("0o", 8),
        ("0O", 8),
        ("0b", 2),
        ("0B", 2),
    ] {
        if let Some(rest) = t.strip_prefix(prefix) {
            if rest.is_empty() || !rest.chars().all(|c| c.is_digit(radix)) {
                return f64::NAN;
            }
            return rest.chars().fold(0.0, |acc, c| {
                acc * radix as f64 + c.to_digit(radix).unwrap_or(0) as f64
            });
        }
    }
    let (sign, body) = match t.as_bytes()[0] {
        b'+' => (1.0, &t[1..]),
        b'-' => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body == "Infinity" {
        return sign * f64::INFINITY;
    }
    match decimal_literal_len(body) {
        Some(n) if n == body.len() => sign * parse_decimal(body),
        _ => f64::NAN,
    }
}

/// Length of the longest prefix of `s` that is a StrUnsignedDecimalLiteral (without Infinity).
fn decimal_literal_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i > int_start;
    if i < b.len() && b[i] == b'.' {
        let j = i + 1;
        let mut k = j;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > j || digits {
            digits = digits || k > j;
            i = k;
        }
    }
    if !digits {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut k = i + 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        let ds = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > ds {
            i = k;
        }
    }
    Some(i)
}

/// Parse a string already validated as a decimal literal.
fn parse_decimal(s: &str) -> f64 {
    let mut t = String::with_capacity(s.len() + 2);
    if s.starts_with('.') {
        t.push('0');
    }
    let mut prev_dot = false;
    for c in s.chars() {
        if prev_dot && !c.is_ascii_digit() {
            t.push('0');
        }
        prev_dot = c == '.';
        t.push(c);
    }
    if prev_dot {
        t.push('0');
    }
    t.parse().unwrap_or(f64::NAN)
}

/// JavaScript `parseFloat` (used by jsep for numeric literals).
pub fn parse_float(s: &str) -> f64 {
    let t = s.trim_start_matches(is_js_space);
    let (sign, body) = match t.as_bytes().first() {
        Some(b'+') => (1.0, &t[1..]),
        Some(b'-') => (-1.0, &t[1..]),
        _ => (1.0, t),
    };
    if body.starts_with("Infinity") {
        return sign * f64::INFINITY;
    }
    match decimal_literal_len(body) {
        Some(n) => sign * parse_decimal(&body[..n]),
        None => f64::NAN,
    }
}

/// JavaScript `==`.
pub fn loose_eq(a: &Value, b: &Value) -> bool {
    use Value::*;
    match (a, b) {
        (Undefined | Null, Undefined | Null) => true,
        (Undefined | Null, _) | (_, Undefined | Null) => false,
        (Num(x), Num(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Bool(x), Bool(y)) => x == y,
        (Array(x), Array(y)) => Rc::ptr_eq(x, y),
        (Object(x), Object(y)) => Rc::ptr_eq(x, y),
        (Func(x), Func(y)) => x == y,
        (Js(x, _), Js(y, _)) => x == y,
        (Num(x), Str(_)) => *x == b.to_number(),
        (Str(_), Num(y)) => a.to_number() == *y,
        (Bool(_), _) => loose_eq(&Num(a.to_number()), b),
        (_, Bool(_)) => loose_eq(a, &Num(b.to_number())),
        (Array(_) | Object(_) | Func(_) | Js(..), _) => loose_eq(&a.to_primitive(), b),
        (_, Array(_) | Object(_) | Func(_) | Js(..)) => loose_eq(a, &b.to_primitive()),
    }
}

/// JavaScript abstract relational comparison `a < b`; `None` stands for `undefined` (NaN).
pub fn less_than(a: &Value, b: &Value) -> Option<bool> {
    let pa = a.to_primitive();
    let pb = b.to_primitive();
    if let (Value::Str(x), Value::Str(y)) = (&pa, &pb) {
        return Some(x.encode_utf16().lt(y.encode_utf16()));
    }
    let x = pa.to_number();
    let y = pb.to_number();
    if x.is_nan() || y.is_nan() {
        None
    } else {
        Some(x < y)
    }
}

/// JavaScript binary `+`.
pub fn add(a: &Value, b: &Value) -> Value {
    let pa = a.to_primitive();
    let pb = b.to_primitive();
    if matches!(pa, Value::Str(_)) || matches!(pb, Value::Str(_)) {
        let mut s = pa.to_js_string();
        s.push_str(&pb.to_js_string());
        Value::str(&s)
    } else {
        Value::Num(pa.to_number() + pb.to_number())
    }
}

/// JavaScript `ToIntegerOrInfinity`.
pub fn to_integer(v: &Value) -> f64 {
    let n = v.to_number();
    if n.is_nan() {
        0.0
    } else {
        n.trunc()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_like_js() {
        for (x, s) in [
            (56088.0, "56088"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e21, "1e+21"),
            (1e-7, "1e-7"),
            (123e-20, "1.23e-18"),
            (0.000001, "0.000001"),
            (-1.5, "-1.5"),
            (2.5e25, "2.5e+25"),
        ] {
            assert_eq!(num_to_string(x), s);
        }
        assert!(str_to_number("abc").is_nan());
        assert_eq!(str_to_number(" 12 "), 12.0);
        assert_eq!(str_to_number("0x1f"), 31.0);
        assert_eq!(str_to_number(".5"), 0.5);
        assert_eq!(str_to_number("5."), 5.0);
        assert!(str_to_number("inf").is_nan());
        assert_eq!(parse_float("1.e5"), 100000.0);
        assert!(parse_float(".").is_nan());
    }
}
