//! Query parameters: how one value of a query string is read (by the node) and written (by a
//! client), with the node's rules and error messages, and the macro that declares a parameter
//! struct once: its field names, API names, defaults, readers, writers, builder setters and
//! OpenAPI parameters.
//!
//! The node's rules, kept from before these types existed:
//! - a repeated key keeps its last value (the node reads the query into a map first);
//! - lists are comma-separated, each item trimmed, empty items dropped;
//! - numbers are trimmed, an empty value is absent, a malformed one is refused naming the key;
//!   counts and pages are at most `i64::MAX` (they end up in SQLite integers), floats are finite;
//! - booleans are `true/false/1/0/yes/no/on/off` in any case;
//! - free text (`cursor`, `address`…) is kept as written: `cursor=` (empty) is present.

use std::collections::HashMap;
use std::hash::BuildHasher;

use crate::{Chain, ItemHash, MessageStatus, MessageType};

/// A query string read into key → value (the last value of a repeated key).
pub trait QueryMap {
    /// The value of `key`, when present (possibly empty).
    fn param(&self, key: &str) -> Option<&str>;
}

impl<S: BuildHasher> QueryMap for HashMap<String, String, S> {
    fn param(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl QueryMap for [(String, String)] {
    /// The last value of `key`, as the node's map keeps it.
    fn param(&self, key: &str) -> Option<&str> {
        self.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A query parameter the node refuses (answered 422 with the message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    /// The parameter.
    pub key: &'static str,
    /// Why, as the node words it.
    pub message: String,
}

impl QueryError {
    /// A refusal of `key`.
    pub fn new(key: &'static str, message: impl Into<String>) -> Self {
        QueryError { key, message: message.into() }
    }
}

/// A value one query parameter holds: read from the raw text (absent: `None`), written back as
/// text (nothing to write: `None`).
pub trait QueryValue: Sized {
    /// What a builder setter takes: a list's item, an option's value.
    type Item;
    /// Reads the parameter `key` from its raw value.
    fn parse(key: &'static str, raw: Option<&str>) -> Result<Self, QueryError>;
    /// The text to send, or `None` to leave the parameter out.
    fn render(&self) -> Option<String>;
    /// Sets (option) or adds (list) a value, for builders.
    fn set(&mut self, item: Self::Item);
    /// The parameter's schema in the OpenAPI document.
    #[cfg(feature = "openapi")]
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>;
}

/// What a builder setter accepts for an item of type `T`: the item itself, or text for a text
/// item (`&str`, `&String`).
pub trait Arg<T> {
    /// The item.
    fn into_item(self) -> T;
}

impl<T> Arg<T> for T {
    fn into_item(self) -> T {
        self
    }
}

impl Arg<String> for &str {
    fn into_item(self) -> String {
        self.to_owned()
    }
}

impl Arg<String> for &String {
    fn into_item(self) -> String {
        self.clone()
    }
}

/// A single value (`Option<T>` parameters).
pub trait Scalar: Sized {
    /// Reads a present value (`None`: treated as absent, e.g. an empty number).
    fn parse_scalar(key: &'static str, raw: &str) -> Result<Option<Self>, QueryError>;
    /// The text form.
    fn render_scalar(&self) -> String;
    /// The OpenAPI type.
    #[cfg(feature = "openapi")]
    fn schema_type() -> utoipa::openapi::schema::Type {
        utoipa::openapi::schema::Type::String
    }
}

/// An item of a comma-separated list (`Vec<T>` parameters).
pub trait ListItem: Sized {
    /// Reads one trimmed, non-empty item.
    fn parse_item(key: &'static str, raw: &str) -> Result<Self, QueryError>;
    /// The text form.
    fn render_item(&self) -> &str;
}

impl<T: Scalar> QueryValue for Option<T> {
    type Item = T;

    fn parse(key: &'static str, raw: Option<&str>) -> Result<Self, QueryError> {
        match raw {
            None => Ok(None),
            Some(raw) => T::parse_scalar(key, raw),
        }
    }

    fn render(&self) -> Option<String> {
        self.as_ref().map(T::render_scalar)
    }

    fn set(&mut self, item: T) {
        *self = Some(item);
    }

    #[cfg(feature = "openapi")]
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new().schema_type(T::schema_type()).into()
    }
}

impl<T: ListItem> QueryValue for Vec<T> {
    type Item = T;

    fn parse(key: &'static str, raw: Option<&str>) -> Result<Self, QueryError> {
        let Some(raw) = raw else { return Ok(Vec::new()) };
        raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| T::parse_item(key, s)).collect()
    }

    fn render(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.iter().map(T::render_item).collect::<Vec<_>>().join(","))
    }

    fn set(&mut self, item: T) {
        self.push(item);
    }

    #[cfg(feature = "openapi")]
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Comma-separated list."))
            .into()
    }
}

fn trimmed(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|s| !s.is_empty())
}

fn malformed(key: &'static str, v: &str) -> QueryError {
    QueryError::new(key, format!("invalid value {v:?} for {key}"))
}

impl Scalar for u64 {
    /// Counts, pages and sizes end up in SQLite integers: at most `i64::MAX`.
    fn parse_scalar(key: &'static str, raw: &str) -> Result<Option<Self>, QueryError> {
        let Some(v) = trimmed(raw) else { return Ok(None) };
        let n: u64 = v.parse().map_err(|_| malformed(key, v))?;
        if n > i64::MAX as u64 {
            return Err(QueryError::new(key, format!("{key} must be between 0 and {}", i64::MAX)));
        }
        Ok(Some(n))
    }

    fn render_scalar(&self) -> String {
        self.to_string()
    }

    #[cfg(feature = "openapi")]
    fn schema_type() -> utoipa::openapi::schema::Type {
        utoipa::openapi::schema::Type::Integer
    }
}

impl Scalar for f64 {
    fn parse_scalar(key: &'static str, raw: &str) -> Result<Option<Self>, QueryError> {
        let Some(v) = trimmed(raw) else { return Ok(None) };
        let n: f64 = v.parse().map_err(|_| malformed(key, v))?;
        if !n.is_finite() {
            return Err(QueryError::new(key, format!("{key} must be a finite number")));
        }
        Ok(Some(n))
    }

    /// Rust's shortest form: `2` for 2.0, `1.5`.
    fn render_scalar(&self) -> String {
        self.to_string()
    }

    #[cfg(feature = "openapi")]
    fn schema_type() -> utoipa::openapi::schema::Type {
        utoipa::openapi::schema::Type::Number
    }
}

macro_rules! plain_number {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn parse_scalar(key: &'static str, raw: &str) -> Result<Option<Self>, QueryError> {
                let Some(v) = trimmed(raw) else { return Ok(None) };
                v.parse().map(Some).map_err(|_| malformed(key, v))
            }

            fn render_scalar(&self) -> String {
                self.to_string()
            }

            #[cfg(feature = "openapi")]
            fn schema_type() -> utoipa::openapi::schema::Type {
                utoipa::openapi::schema::Type::Integer
            }
        }
    )*};
}
plain_number!(i32, u8);

impl Scalar for bool {
    fn parse_scalar(key: &'static str, raw: &str) -> Result<Option<Self>, QueryError> {
        let v = raw.trim().to_ascii_lowercase();
        match v.as_str() {
            "" => Ok(None),
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(QueryError::new(key, format!("invalid boolean {v:?} for {key}"))),
        }
    }

    fn render_scalar(&self) -> String {
        self.to_string()
    }

    #[cfg(feature = "openapi")]
    fn schema_type() -> utoipa::openapi::schema::Type {
        utoipa::openapi::schema::Type::Boolean
    }
}

impl Scalar for String {
    /// Kept as written, empty included.
    fn parse_scalar(_key: &'static str, raw: &str) -> Result<Option<Self>, QueryError> {
        Ok(Some(raw.to_owned()))
    }

    fn render_scalar(&self) -> String {
        self.clone()
    }
}

impl ListItem for String {
    fn parse_item(_key: &'static str, raw: &str) -> Result<Self, QueryError> {
        Ok(raw.to_owned())
    }

    fn render_item(&self) -> &str {
        self
    }
}

impl ListItem for MessageType {
    fn parse_item(key: &'static str, raw: &str) -> Result<Self, QueryError> {
        raw.parse().map_err(|e: crate::message::UnknownMessageType| QueryError::new(key, e.to_string()))
    }

    fn render_item(&self) -> &str {
        self.as_str()
    }
}

impl ListItem for Chain {
    fn parse_item(key: &'static str, raw: &str) -> Result<Self, QueryError> {
        raw.parse().map_err(|e: crate::chain::UnknownChain| QueryError::new(key, e.to_string()))
    }

    fn render_item(&self) -> &str {
        self.as_str()
    }
}

impl ListItem for ItemHash {
    fn parse_item(key: &'static str, raw: &str) -> Result<Self, QueryError> {
        raw.parse().map_err(|_| QueryError::new(key, format!("invalid item hash {raw:?} in {key}")))
    }

    fn render_item(&self) -> &str {
        self.as_str()
    }
}

impl ListItem for MessageStatus {
    fn parse_item(key: &'static str, raw: &str) -> Result<Self, QueryError> {
        raw.parse().map_err(|_| QueryError::new(key, format!("invalid message status {raw:?}")))
    }

    fn render_item(&self) -> &str {
        self.as_str()
    }
}

/// Declares a query-parameter struct: each field with its API name. Generates the struct
/// (`Default`: nothing asked), `NAMES`, `from_query` (the node), `to_query` (clients), a builder
/// setter per field (a list's adds an item, an option's sets it) and, with the `openapi`
/// feature, `utoipa::IntoParams`.
macro_rules! query_params {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $key:literal => $setter:ident
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        #[must_use]
        pub struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl $name {
            /// The API names of the parameters, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($key),*];

            /// Nothing asked: every parameter absent.
            pub fn new() -> Self {
                Self::default()
            }

            /// Reads the parameters from a query string's map (as the node does).
            pub fn from_query(
                q: &(impl $crate::api::query::QueryMap + ?Sized),
            ) -> Result<Self, $crate::api::query::QueryError> {
                Ok(Self {
                    $( $field: <$ty as $crate::api::query::QueryValue>::parse($key, q.param($key))?, )*
                })
            }

            /// The parameters to send, in the API's names (lists comma-separated, absent ones
            /// left out).
            pub fn to_query(&self) -> Vec<(String, String)> {
                let mut out = Vec::new();
                $(
                    if let Some(v) = $crate::api::query::QueryValue::render(&self.$field) {
                        out.push(($key.to_owned(), v));
                    }
                )*
                out
            }

            $(
                #[doc = concat!("Sets (or, for a list, adds to) `", $key, "`.")]
                pub fn $setter(
                    mut self,
                    v: impl $crate::api::query::Arg<<$ty as $crate::api::query::QueryValue>::Item>,
                ) -> Self {
                    $crate::api::query::QueryValue::set(&mut self.$field, $crate::api::query::Arg::into_item(v));
                    self
                }
            )*
        }

        #[cfg(feature = "openapi")]
        impl utoipa::IntoParams for $name {
            fn into_params(
                _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
            ) -> Vec<utoipa::openapi::path::Parameter> {
                vec![$(
                    utoipa::openapi::path::ParameterBuilder::new()
                        .name($key)
                        .parameter_in(utoipa::openapi::path::ParameterIn::Query)
                        .required(utoipa::openapi::Required::False)
                        .description(Some(concat!($($doc, "\n"),*).trim()))
                        .schema(Some(<$ty as $crate::api::query::QueryValue>::schema()))
                        .build()
                ),*]
            }
        }
    };
}
pub(crate) use query_params;

/// Declares a wire enum of a query parameter: its text values, reading (an empty value is
/// absent; anything else unknown is refused with `$what`) and writing.
macro_rules! query_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// The query-string text.
            pub const fn as_str(&self) -> &'static str {
                match self { $( $name::$variant => $text, )* }
            }
        }

        impl $crate::api::query::Scalar for $name {
            fn parse_scalar(
                key: &'static str,
                raw: &str,
            ) -> Result<Option<Self>, $crate::api::query::QueryError> {
                match raw {
                    "" => Ok(None),
                    $( $text => Ok(Some($name::$variant)), )*
                    other => Err($crate::api::query::QueryError::new(key, format!(concat!("invalid ", $what, " {:?}"), other))),
                }
            }

            fn render_scalar(&self) -> String {
                self.as_str().to_owned()
            }
        }
    };
}
pub(crate) use query_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_nodes_rules() {
        assert_eq!(<Option<u64>>::parse("page", Some(" 3 ")).unwrap(), Some(3));
        assert_eq!(<Option<u64>>::parse("page", Some("")).unwrap(), None);
        assert_eq!(
            <Option<u64>>::parse("page", Some("x")).unwrap_err().message,
            "invalid value \"x\" for page"
        );
        assert!(<Option<u64>>::parse("page", Some("9223372036854775808")).is_err());
        assert!(<Option<f64>>::parse("startDate", Some("inf")).is_err());
        assert_eq!(<Option<bool>>::parse("b", Some("YES")).unwrap(), Some(true));
        assert_eq!(
            <Option<bool>>::parse("b", Some("maybe")).unwrap_err().message,
            "invalid boolean \"maybe\" for b"
        );
        assert_eq!(<Option<String>>::parse("cursor", Some("")).unwrap(), Some(String::new()));
        let types = <Vec<MessageType>>::parse("msgTypes", Some("POST, ,STORE")).unwrap();
        assert_eq!(types, [MessageType::Post, MessageType::Store]);
        assert_eq!(types.render().as_deref(), Some("POST,STORE"));
        assert!(<Vec<ItemHash>>::parse("hashes", Some("nope")).is_err());
        assert_eq!(<Vec<String>>::new().render(), None);
        assert_eq!(Some(2.0f64).render().as_deref(), Some("2"));
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value() {
        let pairs = vec![("a".to_owned(), "1".to_owned()), ("a".to_owned(), "2".to_owned())];
        assert_eq!(pairs.as_slice().param("a"), Some("2"));
        assert_eq!(pairs.as_slice().param("b"), None);
    }
}
