//! Reading content JSON with the reference schema library's rules: pydantic v2 in its default
//! ("lax") mode, as pyaleph validates content dicts.
//!
//! Field readers take the value and the field's dotted path (`volumes.0.size_mib`) and return the
//! typed value or a [`ContentError`] naming that path. The lax conversions accepted here are the
//! ones pydantic 2.13 applies to Python values:
//!
//! * `bool`: JSON booleans, the numbers 0 and 1, and the strings `0 1 f t n y no on off yes true
//!   false` in any case;
//! * `int`: JSON integers, floats with no fractional part, booleans, and decimal strings (surrounding
//!   whitespace, a sign, single `_` between digits and a `.0…` suffix allowed);
//! * `float`: any JSON number (integers included);
//! * `str`: JSON strings only.

use std::str::FromStr;

use serde_json::{Map, Value};

use super::ContentError;
use crate::item_hash::ItemHash;

pub(super) type R<T> = Result<T, ContentError>;

/// The path of `key` inside the object at `path`.
pub(super) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// The path of item `i` of the list at `path`.
pub(super) fn index(path: &str, i: usize) -> String {
    join(path, &i.to_string())
}

pub(super) fn wrong(path: &str, expected: &'static str) -> ContentError {
    ContentError::WrongType { path: path.to_owned(), expected }
}

pub(super) fn invalid(path: &str, reason: impl Into<String>) -> ContentError {
    ContentError::Invalid { path: path.to_owned(), reason: reason.into() }
}

/// What an object does with keys its model does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Extra {
    /// Unknown keys are an error (`extra = "forbid"`).
    Forbid,
    /// Unknown keys are dropped (`extra = "ignore"`, pydantic's default).
    Ignore,
}

/// An object being read field by field.
pub(super) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
    known: Vec<&'static str>,
    extra: Extra,
}

impl<'a> Obj<'a> {
    /// Starts reading `v`, which must be a JSON object.
    pub(super) fn new(v: &'a Value, path: &str, extra: Extra) -> R<Self> {
        let map = v.as_object().ok_or_else(|| wrong(path, "an object"))?;
        Ok(Obj { map, path: path.to_owned(), known: Vec::new(), extra })
    }

    fn take(&mut self, key: &'static str) -> (Option<&'a Value>, String) {
        self.known.push(key);
        (self.map.get(key), join(&self.path, key))
    }

    /// A required field: absent is an error; a present value (even null) goes to `f`.
    pub(super) fn required<T>(&mut self, key: &'static str, f: impl FnOnce(&'a Value, &str) -> R<T>) -> R<T> {
        match self.take(key) {
            (Some(v), p) => f(v, &p),
            (None, p) => Err(ContentError::Missing { path: p }),
        }
    }

    /// An `Optional[...] = None` field: absent and null are `None`.
    pub(super) fn optional<T>(
        &mut self,
        key: &'static str,
        f: impl FnOnce(&'a Value, &str) -> R<T>,
    ) -> R<Option<T>> {
        match self.take(key) {
            (None | Some(Value::Null), _) => Ok(None),
            (Some(v), p) => f(v, &p).map(Some),
        }
    }

    /// A non-optional field with a default: absent gives `default`; null is a type error.
    pub(super) fn or_default<T>(
        &mut self,
        key: &'static str,
        default: T,
        f: impl FnOnce(&'a Value, &str) -> R<T>,
    ) -> R<T> {
        match self.take(key) {
            (None, _) => Ok(default),
            (Some(v), p) => f(v, &p),
        }
    }

    /// Ends the read: with [`Extra::Forbid`], any key that was not read is an error.
    pub(super) fn finish(self) -> R<()> {
        if self.extra == Extra::Forbid {
            if let Some(key) = self.map.keys().find(|k| !self.known.contains(&k.as_str())) {
                return Err(ContentError::Unexpected { path: join(&self.path, key) });
            }
        }
        Ok(())
    }
}

/// A JSON string.
pub(super) fn string(v: &Value, p: &str) -> R<String> {
    v.as_str().map(str::to_owned).ok_or_else(|| wrong(p, "a string"))
}

/// A JSON string of at most `max` characters (Unicode code points, as Python counts).
pub(super) fn string_max(max: usize) -> impl Fn(&Value, &str) -> R<String> {
    move |v, p| {
        let s = string(v, p)?;
        let n = s.chars().count();
        if n > max {
            return Err(invalid(p, format!("at most {max} characters allowed, got {n}")));
        }
        Ok(s)
    }
}

/// An item hash (sha256 hex or IPFS CID).
pub(super) fn item_hash(v: &Value, p: &str) -> R<ItemHash> {
    let s = v.as_str().ok_or_else(|| wrong(p, "an item hash string"))?;
    s.parse().map_err(|e: crate::item_hash::ItemHashError| invalid(p, e.to_string()))
}

/// A value of one of the network's string enumerations.
pub(super) fn wire<T: FromStr>(expected: &'static str) -> impl Fn(&Value, &str) -> R<T> {
    move |v, p| v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| wrong(p, expected))
}

/// A literal string.
pub(super) fn literal(lit: &'static str, expected: &'static str) -> impl Fn(&Value, &str) -> R<()> {
    move |v, p| if v.as_str() == Some(lit) { Ok(()) } else { Err(wrong(p, expected)) }
}

/// A lax boolean.
pub(super) fn boolean(v: &Value, p: &str) -> R<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(0.0) => Some(false),
            Some(1.0) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
            "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
            _ => None,
        },
        _ => None,
    }
    .ok_or_else(|| wrong(p, "a boolean"))
}

/// `Literal[True]`: `true`, or a number equal to 1.
pub(super) fn literal_true(v: &Value, p: &str) -> R<bool> {
    match v {
        Value::Bool(true) => Ok(true),
        Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        _ => Err(wrong(p, "true")),
    }
}

/// Python's decimal integer string syntax as pydantic reads it.
fn parse_int_str(s: &str) -> Option<i128> {
    let s = s.trim();
    let (neg, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    // A `.000` suffix is tolerated.
    let digits = match rest.split_once('.') {
        Some((int, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
        Some(_) => return None,
        None => rest,
    };
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_digit() || !bytes[bytes.len() - 1].is_ascii_digit() {
        return None;
    }
    let mut value: i128 = 0;
    let mut prev_underscore = false;
    for &b in bytes {
        if b == b'_' {
            if prev_underscore {
                return None;
            }
            prev_underscore = true;
            continue;
        }
        if !b.is_ascii_digit() {
            return None;
        }
        prev_underscore = false;
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    Some(if neg { -value } else { value })
}

/// A lax integer, as an `i128` (wide enough for every integer JSON can carry here).
pub(super) fn integer(v: &Value, p: &str) -> R<i128> {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                return Ok(i128::from(i));
            }
            if let Some(u) = n.as_u64() {
                return Ok(i128::from(u));
            }
            match n.as_f64() {
                Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() <= i64::MAX as f64 => Ok(f as i128),
                Some(f) if f.is_finite() && f.fract() != 0.0 => {
                    Err(invalid(p, "input should be a valid integer, got a number with a fractional part"))
                }
                _ => Err(wrong(p, "an integer")),
            }
        }
        Value::Bool(b) => Ok(i128::from(*b)),
        Value::String(s) => parse_int_str(s).ok_or_else(|| wrong(p, "an integer")),
        _ => Err(wrong(p, "an integer")),
    }
}

/// A lax integer in `lo..=hi`, converted to `T`.
pub(super) fn int_in<T: TryFrom<i128>>(lo: i128, hi: i128) -> impl Fn(&Value, &str) -> R<T> {
    move |v, p| range(integer(v, p)?, lo, hi, p)
}

/// A strict integer (a JSON integer, nothing else) in `lo..=hi`.
pub(super) fn strict_int_in<T: TryFrom<i128>>(lo: i128, hi: i128) -> impl Fn(&Value, &str) -> R<T> {
    move |v, p| {
        let i = match v {
            Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
            _ => None,
        }
        .ok_or_else(|| wrong(p, "an integer (strict: no floats, strings or booleans)"))?;
        range(i, lo, hi, p)
    }
}

fn range<T: TryFrom<i128>>(i: i128, lo: i128, hi: i128, p: &str) -> R<T> {
    if i < lo || i > hi {
        return Err(invalid(p, format!("must be between {lo} and {hi}, got {i}")));
    }
    T::try_from(i).map_err(|_| invalid(p, format!("must be between {lo} and {hi}, got {i}")))
}

/// A JSON number as a float (integers included). Booleans and strings are refused.
pub(super) fn number(v: &Value, p: &str) -> R<f64> {
    match v {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| wrong(p, "a number")),
        _ => Err(wrong(p, "a number")),
    }
}

/// A lax float: a number, a boolean or a numeric string (finite values only).
pub(super) fn number_lax(v: &Value, p: &str) -> R<f64> {
    match v {
        Value::Bool(b) => Ok(f64::from(u8::from(*b))),
        Value::String(s) => {
            let cleaned: String = s.trim().chars().filter(|&c| c != '_').collect();
            let valid_underscores =
                !s.contains("__") && !s.trim().starts_with('_') && !s.trim().ends_with('_');
            match cleaned.parse::<f64>() {
                Ok(f) if f.is_finite() && valid_underscores => Ok(f),
                _ => Err(wrong(p, "a number")),
            }
        }
        _ => number(v, p),
    }
}

/// A JSON object, copied.
pub(super) fn object(v: &Value, p: &str) -> R<Map<String, Value>> {
    v.as_object().cloned().ok_or_else(|| wrong(p, "an object"))
}

/// A JSON object of at most `max` entries, copied.
pub(super) fn object_max(max: usize) -> impl Fn(&Value, &str) -> R<Map<String, Value>> {
    move |v, p| {
        let m = object(v, p)?;
        if m.len() > max {
            return Err(invalid(p, format!("at most {max} entries allowed, got {}", m.len())));
        }
        Ok(m)
    }
}

/// A JSON array of at most `max` items (when given), each read with `f`.
pub(super) fn list<T>(
    max: Option<usize>,
    f: impl Fn(&Value, &str) -> R<T>,
) -> impl Fn(&Value, &str) -> R<Vec<T>> {
    move |v, p| {
        let items = v.as_array().ok_or_else(|| wrong(p, "a list"))?;
        if let Some(max) = max {
            if items.len() > max {
                return Err(invalid(p, format!("at most {max} items allowed, got {}", items.len())));
            }
        }
        items.iter().enumerate().map(|(i, item)| f(item, &index(p, i))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lax_booleans_follow_pydantic() {
        for (v, want) in [
            (json!(true), Some(true)),
            (json!(1), Some(true)),
            (json!(0), Some(false)),
            (json!(1.0), Some(true)),
            (json!(2), None),
            (json!(0.5), None),
            (json!("tRuE"), Some(true)),
            (json!("Y"), Some(true)),
            (json!("off"), Some(false)),
            (json!(" true"), None),
            (json!(""), None),
            (json!(null), None),
        ] {
            assert_eq!(boolean(&v, "x").ok(), want, "{v}");
        }
    }

    #[test]
    fn lax_integers_follow_pydantic() {
        for (v, want) in [
            (json!(10), Some(10)),
            (json!(10.0), Some(10)),
            (json!(10.5), None),
            (json!("10"), Some(10)),
            (json!(" +1_0 "), Some(10)),
            (json!("10.00"), Some(10)),
            (json!("-10.0"), Some(-10)),
            (json!("10."), None),
            (json!("10.50"), None),
            (json!("1__0"), None),
            (json!("_10"), None),
            (json!("10_"), None),
            (json!("1e1"), None),
            (json!("0x10"), None),
            (json!(true), Some(1)),
            (json!(1e20), None),
            (json!(-0.0), Some(0)),
            (json!(u64::MAX), Some(i128::from(u64::MAX))),
            (json!(null), None),
            (json!([]), None),
        ] {
            assert_eq!(integer(&v, "x").ok(), want, "{v}");
        }
    }

    #[test]
    fn strict_integers_refuse_coercion() {
        let f = strict_int_in::<u32>(1, 1000);
        assert_eq!(f(&json!(10), "x").ok(), Some(10));
        for bad in [json!(10.0), json!(true), json!("10"), json!(0), json!(1001), json!(-1)] {
            assert!(f(&bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn lax_floats() {
        assert_eq!(number_lax(&json!("1_000.5"), "t").ok(), Some(1000.5));
        assert_eq!(number_lax(&json!(" -1.5e-3 "), "t").ok(), Some(-0.0015));
        assert_eq!(number_lax(&json!(true), "t").ok(), Some(1.0));
        assert!(number_lax(&json!("inf"), "t").is_err());
        assert!(number_lax(&json!("1__0"), "t").is_err());
        assert!(number(&json!("1"), "t").is_err());
        assert!(number(&json!(true), "t").is_err());
        assert_eq!(number(&json!(12), "t").ok(), Some(12.0));
    }

    #[test]
    fn forbid_reports_the_first_unknown_key() {
        let v = json!({"a": 1, "b": 2});
        let mut o = Obj::new(&v, "root", Extra::Forbid).unwrap();
        let _ = o.required("a", integer).unwrap();
        assert_eq!(o.finish(), Err(ContentError::Unexpected { path: "root.b".into() }));
        let mut o = Obj::new(&v, "", Extra::Ignore).unwrap();
        let _ = o.required("a", integer).unwrap();
        assert!(o.finish().is_ok());
    }
}
