//! Query-string parsing shared by the list endpoints: comma-separated lists, numbers, paging.

use std::collections::HashMap;

use aleph_core::api::query::{QueryValue, Scalar};
use aleph_core::api::{ContentFormat, MessageParams, SortBy, SortOrder};

use super::error::ApiError;
use crate::storage::messages::{decode_cursor, MessageQuery, Paging};

/// The raw query parameters.
pub(crate) type Params = HashMap<String, String>;

/// A comma-separated list parameter (empty items dropped).
pub(crate) fn list(params: &Params, key: &'static str) -> Vec<String> {
    <Vec<String>>::parse(key, params.get(key).map(String::as_str)).unwrap_or_default()
}

/// A numeric parameter: 422 naming the parameter when malformed or out of its range (the
/// rules of [`aleph_core::api::query::Scalar`]).
pub(crate) fn number<T: Scalar>(params: &Params, key: &'static str) -> Result<Option<T>, ApiError> {
    Ok(<Option<T>>::parse(key, params.get(key).map(String::as_str))?)
}

/// `page` (or the page in the path): from 1 up to the last page whose offset a database can
/// address with `per_page` items a page; 422 naming `page` otherwise.
pub(crate) fn page(params: &Params, per_page: u64, path_page: Option<u64>) -> Result<u64, ApiError> {
    let page = match path_page {
        Some(p) => p,
        None => number::<u64>(params, "page")?.unwrap_or(1),
    };
    page_in_range(page, per_page)
}

/// A page already read: the range rule of [`page`].
pub(crate) fn page_in_range(page: u64, per_page: u64) -> Result<u64, ApiError> {
    let last = i64::MAX as u64 / per_page.max(1);
    if page == 0 || page > last {
        return Err(ApiError::Unprocessable(format!("page must be between 1 and {last}")));
    }
    Ok(page)
}

/// A boolean parameter (`true/false/1/0/yes/no`), 422 when malformed.
pub(crate) fn boolean(params: &Params, key: &'static str) -> Result<Option<bool>, ApiError> {
    number::<bool>(params, key)
}

/// `sortOrder`: -1 (default, descending) or 1.
pub(crate) fn ascending(params: &Params, key: &'static str) -> Result<bool, ApiError> {
    Ok(SortOrder::is_ascending(number::<SortOrder>(params, key)?))
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

/// `startDate` and `endDate` (0 or absent: no bound), with the reference's rules: neither is
/// negative and the end is not before the start.
pub(crate) fn date_range(params: &Params) -> Result<(f64, f64), ApiError> {
    let start = number::<f64>(params, "startDate")?;
    let end = number::<f64>(params, "endDate")?;
    Ok(aleph_core::api::date_range(start, end)?)
}

/// The message filters of `messages.json` and the websocket, read into [`MessageParams`], with
/// the rules that join parameters.
pub(crate) fn message_query(params: &Params) -> Result<(MessageQuery, ContentFormat), ApiError> {
    let p = MessageParams::from_query(params)?;
    let (start_date, end_date) = aleph_core::api::date_range(p.start_date, p.end_date)?;
    for t in &p.payment_types {
        if !matches!(t.as_str(), "hold" | "superfluid" | "credit") {
            return Err(ApiError::Unprocessable(format!("invalid payment type {t:?}")));
        }
    }
    let cursor = params.contains_key("cursor");
    if p.sort_by == Some(SortBy::TxTime) && cursor {
        return Err(ApiError::Unprocessable("sortBy=tx-time cannot be used with a cursor".into()));
    }
    if cursor && (params.contains_key("startBlock") || params.contains_key("endBlock")) {
        return Err(ApiError::Unprocessable("startBlock and endBlock cannot be used with a cursor".into()));
    }
    let texts = |v: &[String]| v.to_vec();
    let query = MessageQuery {
        types: p.all_types().iter().map(|t| t.as_str().to_owned()).collect(),
        addresses: texts(&p.addresses),
        owners: texts(&p.owners),
        refs: texts(&p.refs),
        content_hashes: p.content_hashes.iter().map(ToString::to_string).collect(),
        content_keys: texts(&p.content_keys),
        content_types: texts(&p.content_types),
        chains: p.chains.iter().map(|c| c.as_str().to_owned()).collect(),
        channels: texts(&p.channels),
        tags: texts(&p.tags),
        hashes: p.hashes.iter().map(ToString::to_string).collect(),
        payment_types: texts(&p.payment_types),
        statuses: p.statuses.iter().map(|s| s.as_str().to_owned()).collect(),
        start_date,
        end_date,
        ascending: SortOrder::is_ascending(p.sort_order),
        after_seq: None,
        start_block: p.start_block,
        end_block: p.end_block,
        by_tx_time: p.sort_by == Some(SortBy::TxTime),
    };
    Ok((query, p.format()))
}
