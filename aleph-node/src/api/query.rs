//! Query-string parsing shared by the list endpoints: comma-separated lists, numbers, paging.

use std::collections::HashMap;

use super::error::ApiError;
use crate::storage::messages::{decode_cursor, ContentFormat, MessageQuery, Paging};

/// The raw query parameters.
pub(crate) type Params = HashMap<String, String>;

/// A comma-separated list parameter (empty items dropped).
pub(crate) fn list(params: &Params, key: &str) -> Vec<String> {
    params
        .get(key)
        .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// A number a query parameter can hold, with the range the node accepts for it.
pub(crate) trait QueryNumber: std::str::FromStr + Copy {
    /// Why `self` is out of range, when it is.
    fn out_of_range(self, key: &str) -> Option<String>;
}

impl QueryNumber for u64 {
    /// Counts, pages and sizes end up in SQLite integers: at most `i64::MAX`.
    fn out_of_range(self, key: &str) -> Option<String> {
        (self > i64::MAX as u64).then(|| format!("{key} must be between 0 and {}", i64::MAX))
    }
}

impl QueryNumber for f64 {
    fn out_of_range(self, key: &str) -> Option<String> {
        (!self.is_finite()).then(|| format!("{key} must be a finite number"))
    }
}

macro_rules! in_type_range {
    ($($t:ty),*) => {$(
        impl QueryNumber for $t {
            fn out_of_range(self, _key: &str) -> Option<String> {
                None
            }
        }
    )*};
}
in_type_range!(i32, u8);

/// A numeric parameter: 422 naming the parameter when malformed or out of its range.
pub(crate) fn number<T: QueryNumber>(params: &Params, key: &str) -> Result<Option<T>, ApiError> {
    match params.get(key).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => {
            let n: T =
                v.parse().map_err(|_| ApiError::Unprocessable(format!("invalid value {v:?} for {key}")))?;
            match n.out_of_range(key) {
                Some(reason) => Err(ApiError::Unprocessable(reason)),
                None => Ok(Some(n)),
            }
        }
    }
}

/// `page` (or the page in the path): from 1 up to the last page whose offset a database can
/// address with `per_page` items a page; 422 naming `page` otherwise.
pub(crate) fn page(params: &Params, per_page: u64, path_page: Option<u64>) -> Result<u64, ApiError> {
    let last = i64::MAX as u64 / per_page.max(1);
    let page = match path_page {
        Some(p) => p,
        None => number::<u64>(params, "page")?.unwrap_or(1),
    };
    if page == 0 || page > last {
        return Err(ApiError::Unprocessable(format!("page must be between 1 and {last}")));
    }
    Ok(page)
}

/// A boolean parameter (`true/false/1/0/yes/no`), 422 when malformed.
pub(crate) fn boolean(params: &Params, key: &str) -> Result<Option<bool>, ApiError> {
    match params.get(key).map(|s| s.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => match v.as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(ApiError::Unprocessable(format!("invalid boolean {v:?} for {key}"))),
        },
    }
}

/// `sortOrder`: -1 (default, descending) or 1.
pub(crate) fn ascending(params: &Params, key: &str) -> Result<bool, ApiError> {
    match number::<i32>(params, key)? {
        None | Some(-1) => Ok(false),
        Some(1) => Ok(true),
        Some(other) => Err(ApiError::Unprocessable(format!("{key} must be -1 or 1, not {other}"))),
    }
}

/// Page or cursor paging, with the reference's rules: `cursor=` (even empty) selects cursor mode,
/// where `pagination` is capped at 200 and may not be 0. In page mode `pagination` is capped at
/// `max` (the node's `limits.max_pagination`), and `pagination=0`, which asks the reference for
/// every match, means `max` items a page: the answer's `pagination_per_page` says so.
pub(crate) fn paging(
    params: &Params,
    default_per_page: u64,
    path_page: Option<u64>,
    max: u64,
) -> Result<Paging, ApiError> {
    let max = max.max(1);
    let per_page = number::<u64>(params, "pagination")?.unwrap_or(default_per_page);
    if let Some(cursor) = params.get("cursor") {
        if per_page == 0 {
            return Err(ApiError::Unprocessable("pagination=0 is not allowed with a cursor".into()));
        }
        let after = if cursor.is_empty() {
            None
        } else {
            Some(decode_cursor(cursor).ok_or_else(|| ApiError::Unprocessable("invalid cursor".into()))?)
        };
        return Ok(Paging::Cursor { after, per_page: per_page.min(200).min(max) });
    }
    let per_page = if per_page == 0 { max } else { per_page.min(max) };
    let page = page(params, per_page, path_page)?;
    Ok(Paging::Page { page, per_page })
}

fn check_hashes(values: &[String], key: &str) -> Result<(), ApiError> {
    for v in values {
        if !aleph_core::ItemHash::is_valid(v) {
            return Err(ApiError::Unprocessable(format!("invalid item hash {v:?} in {key}")));
        }
    }
    Ok(())
}

/// The message filters of `messages.json` and the websocket.
/// `startDate` and `endDate` (0 or absent: no bound), with the reference's rules: neither is
/// negative and the end is not before the start.
pub(crate) fn date_range(params: &Params) -> Result<(f64, f64), ApiError> {
    let start = number::<f64>(params, "startDate")?.unwrap_or(0.0);
    let end = number::<f64>(params, "endDate")?.unwrap_or(0.0);
    if start < 0.0 {
        return Err(ApiError::Unprocessable("startDate must not be negative".into()));
    }
    if end < 0.0 {
        return Err(ApiError::Unprocessable("endDate must not be negative".into()));
    }
    if end > 0.0 && end < start {
        return Err(ApiError::Unprocessable("invalid date range".into()));
    }
    Ok((start, end))
}

pub(crate) fn message_query(params: &Params) -> Result<(MessageQuery, ContentFormat), ApiError> {
    let mut types = list(params, "msgTypes");
    types.extend(list(params, "msgType"));
    for t in &types {
        t.parse::<aleph_core::MessageType>().map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    }
    let chains = list(params, "chains");
    for c in &chains {
        c.parse::<aleph_core::Chain>().map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    }
    let hashes = list(params, "hashes");
    check_hashes(&hashes, "hashes")?;
    let content_hashes = list(params, "contentHashes");
    check_hashes(&content_hashes, "contentHashes")?;
    let statuses = list(params, "msgStatuses");
    for s in &statuses {
        if !matches!(s.as_str(), "processed" | "removing" | "pending" | "rejected" | "forgotten" | "removed")
        {
            return Err(ApiError::Unprocessable(format!("invalid message status {s:?}")));
        }
    }
    let (start_date, end_date) = date_range(params)?;
    let payment_types = list(params, "paymentTypes");
    for p in &payment_types {
        if !matches!(p.as_str(), "hold" | "superfluid" | "credit") {
            return Err(ApiError::Unprocessable(format!("invalid payment type {p:?}")));
        }
    }
    if let Some(sort_by) = params.get("sortBy") {
        if !matches!(sort_by.as_str(), "time" | "tx-time" | "") {
            return Err(ApiError::Unprocessable(format!("invalid sortBy {sort_by:?}")));
        }
        if sort_by == "tx-time" && params.contains_key("cursor") {
            return Err(ApiError::Unprocessable("sortBy=tx-time cannot be used with a cursor".into()));
        }
    }
    if params.contains_key("cursor") && (params.contains_key("startBlock") || params.contains_key("endBlock"))
    {
        return Err(ApiError::Unprocessable("startBlock and endBlock cannot be used with a cursor".into()));
    }
    let format = match params.get("contentFormat").map(String::as_str) {
        None | Some("") | Some("full") => ContentFormat::Full,
        Some("headers") => ContentFormat::Headers,
        Some("none") => ContentFormat::None,
        Some(other) => return Err(ApiError::Unprocessable(format!("invalid contentFormat {other:?}"))),
    };
    let format =
        if boolean(params, "excludeContent")?.unwrap_or(false) { ContentFormat::None } else { format };
    let query = MessageQuery {
        types,
        addresses: list(params, "addresses"),
        owners: list(params, "owners"),
        refs: list(params, "refs"),
        content_hashes,
        content_keys: list(params, "contentKeys"),
        content_types: list(params, "contentTypes"),
        chains,
        channels: list(params, "channels"),
        tags: list(params, "tags"),
        hashes,
        payment_types,
        statuses,
        start_date,
        end_date,
        ascending: ascending(params, "sortOrder")?,
        after_seq: None,
        start_block: number::<u64>(params, "startBlock")?,
        end_block: number::<u64>(params, "endBlock")?,
        by_tx_time: params.get("sortBy").is_some_and(|s| s == "tx-time"),
    };
    Ok((query, format))
}
