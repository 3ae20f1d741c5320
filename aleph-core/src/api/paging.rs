//! The two paging envelopes every list answer uses, flattened into the answer beside its items.

use serde::{Deserialize, Serialize};

/// Page mode (`page`, `pagination`): where this page is among all matches. Read leniently (a
/// missing number reads as 0: some nodes leave `pagination_total` out); written whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageInfo {
    /// The page number, from 1.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_page: u64,
    /// Items per page (the page size applied: `pagination=0` asks the reference for everything,
    /// this node then gives its largest page and says so here).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_per_page: u64,
    /// How many items match in all.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_total: u64,
    /// The key holding the items (`messages`, `balances`…). The reference leaves it out of some
    /// answers (the credit history), and so does this type when it is `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination_item: Option<String>,
}

impl PageInfo {
    /// A page `page` of `per_page` items out of `total`, its items under `item`.
    pub fn new(page: u64, per_page: u64, total: u64, item: &str) -> Self {
        PageInfo {
            pagination_page: page,
            pagination_per_page: per_page,
            pagination_total: total,
            pagination_item: Some(item.to_owned()),
        }
    }
}

/// Cursor mode (`cursor`, even empty): the page size and where the next page starts. The
/// `next_cursor` key tells it from a page-mode answer, so it must be there (`null` or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CursorInfo {
    /// Items per page.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pagination_per_page: u64,
    /// The cursor of the next page; `null` on the last one (always written).
    #[serde(deserialize_with = "present_option")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_cursor: Option<String>,
}

/// An option whose key must be present (a `null` value is `None`).
fn present_option<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// Declares the page, cursor-page and either-form answers of a list whose items sit under one key.
macro_rules! list_answer {
    ($(#[$meta:meta])* $list:ident, $page:ident, $cursor:ident, $key:ident: $item:ty) => {
        #[doc = concat!("`", stringify!($key), "`, one page (page mode).")]
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $page {
            /// The items.
            pub $key: Vec<$item>,
            /// Where this page is.
            #[serde(flatten)]
            pub page: $crate::api::paging::PageInfo,
        }

        #[doc = concat!("`", stringify!($key), "`, one page in cursor mode.")]
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $cursor {
            /// The items.
            pub $key: Vec<$item>,
            /// The next page.
            #[serde(flatten)]
            pub cursor: $crate::api::paging::CursorInfo,
        }

        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(untagged)]
        pub enum $list {
            /// Cursor mode (tried first when reading: its `next_cursor` key tells it).
            Cursor($cursor),
            /// Page mode.
            Page($page),
        }
    };
}
pub(crate) use list_answer;

/// Fills a list's page out of one more row than asked for: whether there is more, with the
/// rows cut to `per_page`.
pub fn split_extra<T>(rows: &mut Vec<T>, per_page: u64) -> bool {
    let more = rows.len() as u64 > per_page;
    rows.truncate(usize::try_from(per_page).unwrap_or(usize::MAX));
    more
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extra_row_means_a_next_page() {
        let mut rows = vec![1, 2, 3];
        assert!(split_extra(&mut rows, 2));
        assert_eq!(rows, [1, 2]);
        assert!(!split_extra(&mut rows, 2));
    }

    #[test]
    fn cursor_info_writes_a_null_cursor() {
        let c = CursorInfo { pagination_per_page: 2, next_cursor: None };
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"pagination_per_page":2,"next_cursor":null}"#);
        let p = PageInfo { pagination_item: None, ..PageInfo::new(1, 2, 3, "x") };
        assert!(!serde_json::to_string(&p).unwrap().contains("pagination_item"));
        assert!(serde_json::from_str::<CursorInfo>(r#"{"pagination_per_page":2}"#).is_err());
        let lenient: PageInfo = serde_json::from_str(r#"{"pagination_page":2}"#).unwrap();
        assert_eq!((lenient.pagination_page, lenient.pagination_total), (2, 0));
    }
}
