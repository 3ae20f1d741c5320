//! AGGREGATE content (§5.2): one element of a key/value document owned by `address`.

use std::borrow::Cow;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::reader::{object, string, wrong, Extra, Obj, R};
use super::{base, ContentError};

/// The key of the owner's `security` aggregate, which holds their delegations (§6.7).
pub const SECURITY_KEY: &str = "security";

/// AGGREGATE content (`AggregateContent`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateContent {
    /// The owner.
    pub address: String,
    /// The signed time (orders the merge).
    pub time: f64,
    /// The aggregate's name.
    pub key: AggregateKey,
    /// The top-level keys to merge.
    pub content: Map<String, Value>,
}

/// An aggregate key: a string, or an object `{"name": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AggregateKey {
    /// A plain string key (the only form to use).
    Name(String),
    /// The object form `{"name": …}` (`extra = forbid`).
    Object {
        /// The name inside the object.
        name: String,
    },
}

impl AggregateKey {
    /// The plain string key, or `None` for the object form.
    ///
    /// This is what the reference compares with `aggregate_keys` permission filters: an object
    /// key never equals a listed string.
    pub fn as_plain(&self) -> Option<&str> {
        match self {
            AggregateKey::Name(s) => Some(s),
            AggregateKey::Object { .. } => None,
        }
    }

    /// The key under which the reference stores the aggregate: the string itself, or for the
    /// object form Python's `str()` of the model, `name='…'`.
    pub fn storage_key(&self) -> Cow<'_, str> {
        match self {
            AggregateKey::Name(s) => Cow::Borrowed(s),
            AggregateKey::Object { name } => Cow::Owned(format!("name={}", python_repr(name))),
        }
    }

    /// Whether this writes the owner's `security` aggregate (only the plain key `security` does:
    /// the object form is stored as `name='security'`).
    pub fn is_security(&self) -> bool {
        self.as_plain() == Some(SECURITY_KEY)
    }

    fn parse(v: &Value, p: &str) -> R<Self> {
        match v {
            Value::String(s) => Ok(AggregateKey::Name(s.clone())),
            Value::Object(_) => {
                let mut o = Obj::new(v, p, Extra::Forbid)?;
                let name = o.required("name", string)?;
                o.finish()?;
                Ok(AggregateKey::Object { name })
            }
            _ => Err(wrong(p, "a string or an object {\"name\": …}")),
        }
    }
}

impl Serialize for AggregateKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AggregateKey::Name(name) => s.serialize_str(name),
            AggregateKey::Object { name } => {
                use serde::ser::SerializeStruct;
                let mut st = s.serialize_struct("AggregateContentKey", 1)?;
                st.serialize_field("name", name)?;
                st.end()
            }
        }
    }
}

impl AggregateContent {
    /// Validates `v` against the AGGREGATE schema.
    pub fn parse(v: &Value) -> Result<Self, ContentError> {
        let mut o = Obj::new(v, "", Extra::Forbid)?;
        let (address, time) = base(&mut o)?;
        let key = o.required("key", AggregateKey::parse)?;
        let content = o.required("content", object)?;
        o.finish()?;
        Ok(AggregateContent { address, time, key, content })
    }
}

/// Python's `repr()` of a string: single quotes unless the text has a single quote and no double
/// quote; backslash, the quote, `\n \r \t` and non-printable characters escaped. Printability
/// follows Python for ASCII, Latin-1 and the usual Unicode separators and format characters.
fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if !is_printable(c) => {
                let n = u32::from(c);
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn is_printable(c: char) -> bool {
    let n = u32::from(c);
    !(c.is_control()
        || n == 0xa0
        || n == 0xad
        || n == 0x1680
        || (0x2000..=0x200f).contains(&n)
        || (0x2028..=0x202f).contains(&n)
        || (0x205f..=0x206f).contains(&n)
        || n == 0x3000
        || n == 0xfeff
        || (0xfff9..=0xfffb).contains(&n)
        || (0xe000..=0xf8ff).contains(&n)
        || (0xf0000..).contains(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_key_is_python_str_of_the_model() {
        assert_eq!(AggregateKey::Name("profile".into()).storage_key(), "profile");
        assert_eq!(AggregateKey::Object { name: "security".into() }.storage_key(), "name='security'");
        assert_eq!(AggregateKey::Object { name: "it's".into() }.storage_key(), "name=\"it's\"");
        assert_eq!(AggregateKey::Object { name: "a'\"b\n".into() }.storage_key(), "name='a\\'\"b\\n'");
        assert_eq!(AggregateKey::Object { name: "é\u{0}\u{a0}".into() }.storage_key(), "name='é\\x00\\xa0'");
    }
}
