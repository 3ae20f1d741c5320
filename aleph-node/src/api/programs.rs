//! `GET /api/v0/programs/on/message`: the programs that subscribe to messages
//! (`content.on.message`), for CRNs that run them on matching messages.

use aleph_core::api::{ProgramSubscription, ProgramSubscriptionParams, SortOrder};
use axum::extract::{Query, State};
use serde_json::Value;

use super::error::{ApiError, ApiResult};
use super::query::Params;
use super::{AppState, Wire};

/// `[{"item_hash", "content": {"on": {"message": subscriptions}}}]`, newest first unless
/// `sort_order=1`. A subscription list written as JSON `null` is listed too, as the reference's
/// JSONB test has it.
pub(crate) async fn on_message(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<Vec<ProgramSubscription>>> {
    let p =
        ProgramSubscriptionParams::from_query(&params).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let ascending = SortOrder::is_ascending(p.sort_order);
    let order = if ascending { "ASC" } else { "DESC" };
    let rows = state
        .pipeline
        .db()
        .read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT item_hash, json_extract(content, '$.on.message') FROM messages \
                 WHERE type = 'PROGRAM' AND json_type(content, '$.on.message') IS NOT NULL \
                 ORDER BY time {order}, item_hash"
            ))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await?;
    let programs = rows
        .into_iter()
        .map(|(hash, subscriptions)| {
            let subscriptions =
                subscriptions.and_then(|s| serde_json::from_str::<Value>(&s).ok()).unwrap_or(Value::Null);
            ProgramSubscription::new(hash, subscriptions)
        })
        .collect();
    Ok(Wire(programs))
}
