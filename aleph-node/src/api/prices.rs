//! Prices and costs (NETWORK.md §1.9): the recorded price of a resource, estimates for messages
//! not yet sent, and the costs overview.
//!
//! Deviations from the reference: a pending message answers 202 (the reference's 102 is not a
//! final HTTP status hyper can send); a removed STORE answers 410 (this node keeps no removal
//! snapshot); an estimate whose content is stored off-message and not on this node answers 404.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use aleph_core::api::{
    CostFilters, CostSummary, CostsOverview, CostsParams, PageNumberParams, Price, PriceParams, ResourceCost,
};
use aleph_core::content::{Content, PaymentType};
use aleph_core::cost::{self, cost_string, CostDetail, EstimatedSizes, PriceResponse, MIB};
use aleph_core::message::{MessageStatus, MessageType};

use super::error::{ApiError, ApiResult};
use super::query::{self, Params};
use super::{AppState, Wire};
use crate::payment::{self, PaymentError};
use crate::storage::balances::{self, CostFilter};

/// The payment type and owner of stored content (`payment.type`, default `hold`).
fn payment_and_owner(content: &Value) -> (PaymentType, String) {
    let payment = content
        .get("payment")
        .and_then(|p| p.get("type"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(PaymentType::Hold);
    let owner = content.get("address").and_then(Value::as_str).unwrap_or_default().to_owned();
    (payment, owner)
}

fn pricing_failure(e: PaymentError) -> ApiError {
    match e {
        PaymentError::Storage(s) => ApiError::Storage(s),
        PaymentError::Processing(p) => ApiError::NotFound(p.to_string()),
    }
}

/// What `GET /price/{item_hash}` found.
enum Priced {
    Response(PriceResponse),
    Pending,
}

/// `GET /api/v0/price/{item_hash}` (`?include_size=true`): the recorded costs of a PROGRAM,
/// INSTANCE, V-PROGRAM or STORE (processed or being removed); a forgotten STORE is priced from
/// its kept metadata.
pub(crate) async fn message_price(
    State(state): State<AppState>,
    Path(item_hash): Path<String>,
    Query(params): Query<Params>,
) -> ApiResult<Response> {
    let include_size = PriceParams::from_query(&params)?.sizes();
    let hash = item_hash.clone();
    let priced = state
        .pipeline
        .db()
        .read(move |c| -> Result<ApiResult<Priced>, crate::storage::StorageError> {
            let status = crate::pipeline::status_of(c, &hash)?;
            match status {
                None => return Ok(Err(ApiError::NotFound(format!("Message not found with hash: {hash}")))),
                Some(MessageStatus::Pending) => return Ok(Ok(Priced::Pending)),
                Some(MessageStatus::Rejected) => {
                    return Ok(Err(ApiError::NotFound(format!("This message was rejected: {hash}"))))
                }
                Some(MessageStatus::Removed) => {
                    return Ok(Err(ApiError::Gone(format!("This message has been removed: {hash}"))))
                }
                Some(MessageStatus::Forgotten) => return forgotten_store_price(c, &hash, include_size),
                Some(_) => {}
            }
            let row: Option<(String, String)> = rusqlite::OptionalExtension::optional(c.query_row(
                "SELECT type, content FROM messages WHERE item_hash = ?1",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ))?;
            let Some((message_type, content)) = row else {
                return Ok(Err(ApiError::NotFound(
                    "Message not found, despite appearing as processed".into(),
                )));
            };
            if !matches!(message_type.as_str(), "INSTANCE" | "PROGRAM" | "STORE" | "V-PROGRAM") {
                return Ok(Err(ApiError::BadRequest(format!(
                    "Message is not an executable or store message: {hash}"
                ))));
            }
            let content: Value = serde_json::from_str(&content)?;
            let (payment_type, owner) = payment_and_owner(&content);
            let rows: Vec<_> = balances::message_costs(c, &hash)?.into_iter().map(|s| s.row).collect();
            Ok(PriceResponse::new(payment_type, &owner, &rows, include_size)
                .map(Priced::Response)
                .map_err(|e| ApiError::NotFound(e.to_string())))
        })
        .await??;
    Ok(match priced {
        Priced::Response(r) => Json(Price::from(r)).into_response(),
        Priced::Pending => {
            (StatusCode::ACCEPTED, format!("Message still pending: {item_hash}")).into_response()
        }
    })
}

/// A forgotten STORE priced live from its kept owner, payment type and file size; 410 when
/// those are missing or the message was not a STORE.
fn forgotten_store_price(
    c: &rusqlite::Connection,
    hash: &str,
    include_size: bool,
) -> Result<ApiResult<Priced>, crate::storage::StorageError> {
    let gone = || ApiError::Gone(format!("This message has been forgotten: {hash}"));
    type Kept = (String, Option<String>, Option<String>, Option<i64>, f64);
    let row: Option<Kept> = rusqlite::OptionalExtension::optional(c.query_row(
        "SELECT type, owner, payment_type, size, time FROM forgotten_messages WHERE item_hash = ?1",
        [hash],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    ))?;
    let Some((message_type, Some(owner), payment_type, Some(size), time)) = row else {
        return Ok(Err(gone()));
    };
    if message_type != "STORE" {
        return Ok(Err(gone()));
    }
    let payment_type = payment_type.unwrap_or_else(|| "hold".into());
    // The content's item_hash only labels rows here; the estimate replaces the file lookup.
    let content = json!({
        "address": owner, "time": time, "item_type": "storage", "item_hash": hash,
        "payment": {"type": payment_type},
    });
    let Ok(content) = Content::parse(MessageType::Store, &content) else { return Ok(Err(gone())) };
    let estimates = EstimatedSizes {
        store_mib: cost::Decimal::from(size.max(0)).checked_div(cost::Decimal::from(MIB)),
        ..EstimatedSizes::default()
    };
    let costs = match payment::price(c, &content, hash, Some(&estimates)) {
        Ok(costs) => costs,
        Err(PaymentError::Storage(e)) => return Err(e),
        Err(e) => return Ok(Err(pricing_failure(e))),
    };
    Ok(costs
        .price_response(&owner, include_size)
        .map(Priced::Response)
        .map_err(|e| ApiError::NotFound(e.to_string())))
}

/// Prices estimate content: strips and applies `estimated_size_mib` fields, validates, prices.
fn estimate(
    c: &rusqlite::Connection,
    message_type: MessageType,
    mut content: Value,
    item_hash: &str,
) -> Result<ApiResult<PriceResponse>, crate::storage::StorageError> {
    let estimates = match EstimatedSizes::prepare(message_type, &mut content) {
        Ok(e) => e,
        Err(e) => return Ok(Err(ApiError::Unprocessable(e.to_string()))),
    };
    let content = match Content::parse(message_type, &content) {
        Ok(c) => c,
        Err(e) => return Ok(Err(ApiError::Unprocessable(format!("InvalidMessageFormat: {e}")))),
    };
    let costs = match payment::price(c, &content, item_hash, Some(&estimates)) {
        Ok(costs) => costs,
        Err(PaymentError::Storage(e)) => return Err(e),
        Err(e) => return Ok(Err(pricing_failure(e))),
    };
    Ok(costs.price_response(content.address(), true).map_err(|e| ApiError::NotFound(e.to_string())))
}

/// The envelope fields an estimate may leave out (the reference's `AlephBaseMessage` makes
/// `sender`, `chain`, `signature`, `time` and `channel` optional): absent or null is fine, a value
/// of the wrong kind is 422.
fn check_optional_envelope_fields(message: &Value) -> ApiResult<()> {
    let present = |k: &str| message.get(k).filter(|v| !v.is_null());
    for field in ["sender", "signature", "channel"] {
        if present(field).is_some_and(|v| !v.is_string()) {
            return Err(ApiError::Unprocessable(format!("{field}: Input should be a valid string")));
        }
    }
    if let Some(chain) = present("chain") {
        if chain.as_str().and_then(|c| c.parse::<aleph_core::Chain>().ok()).is_none() {
            return Err(ApiError::Unprocessable(format!("chain: invalid chain {chain}")));
        }
    }
    if let Some(time) = present("time") {
        if aleph_core::message::parse_time_value(time).is_none() {
            return Err(ApiError::Unprocessable(format!(
                "time: Input should be a valid datetime, not {time}"
            )));
        }
    }
    Ok(())
}

fn parse_body(body: &Bytes) -> ApiResult<Value> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("Invalid JSON body: {e}")))
}

/// `POST /api/v0/price/estimate`: `{"message": envelope}` with inline content, or content this
/// node stores; the signature is not checked. Contents may carry `estimated_size_mib` (STORE;
/// PROGRAM `code`, `runtime`, `data`; immutable volumes).
pub(crate) async fn estimate_message(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Price>> {
    let body = parse_body(&body).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    let message = body
        .get("message")
        .filter(|m| m.is_object())
        .ok_or_else(|| ApiError::Unprocessable("message: field required".into()))?;
    let text = |k: &str| message.get(k).and_then(Value::as_str);
    let message_type: MessageType = text("type")
        .and_then(|t| t.parse().ok())
        .filter(|t| {
            matches!(
                t,
                MessageType::Instance | MessageType::Program | MessageType::Store | MessageType::VProgram
            )
        })
        .ok_or_else(|| {
            ApiError::Unprocessable(format!("Invalid message_type: '{}'", text("type").unwrap_or_default()))
        })?;
    let item_hash = text("item_hash")
        .ok_or_else(|| ApiError::Unprocessable("Could not determine item hash".into()))?
        .to_owned();
    check_optional_envelope_fields(message)?;
    let inline = match (text("item_type"), message.get("item_content")) {
        (Some("inline"), _) | (None, Some(Value::String(_))) => true,
        (Some("storage" | "ipfs"), None | Some(Value::Null)) | (None, None | Some(Value::Null)) => false,
        (Some("storage" | "ipfs"), Some(_)) => {
            return Err(ApiError::Unprocessable(
                "storage and ipfs messages cannot define item_content".into(),
            ))
        }
        _ => return Err(ApiError::Unprocessable("invalid item_type".into())),
    };
    let content: Value = if inline {
        let item_content = text("item_content").ok_or_else(|| {
            ApiError::Unprocessable("Item content not specified for inline item type".into())
        })?;
        if item_content.len() > aleph_core::message::INLINE_CONTENT_MAX_CHARS {
            return Err(ApiError::Unprocessable("Message too long".into()));
        }
        serde_json::from_str(item_content)
            .map_err(|_| ApiError::Unprocessable("Message content is not valid JSON data".into()))?
    } else {
        let bytes = state
            .pipeline
            .files()
            .get(&item_hash)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("content of {item_hash} is not available")))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| ApiError::Unprocessable("Message content is not valid JSON data".into()))?
    };
    let response =
        state.pipeline.db().read(move |c| estimate(c, message_type, content, &item_hash)).await??;
    Ok(Json(response.into()))
}

/// `POST /api/v0/price/estimate/instance`: a bare INSTANCE content (`time` and `allow_amend`
/// optional, volumes may carry `estimated_size_mib`).
pub(crate) async fn estimate_instance(State(state): State<AppState>, body: Bytes) -> ApiResult<Json<Price>> {
    let content = parse_body(&body)?;
    let response =
        state.pipeline.db().read(move |c| estimate(c, MessageType::Instance, content, "estimate")).await??;
    Ok(Json(response.into()))
}

/// `GET /api/v0/costs`: cost totals of the resources matching `address`, `item_hash` and
/// `payment_type` (default `credit`); `include_details=1` lists the resources (paginated,
/// `pagination` 10–1000), `2` adds each one's components (needs `address` or `item_hash`).
pub(crate) async fn costs(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> ApiResult<Wire<CostsOverview>> {
    let p = CostsParams::from_query(&params)?;
    let payment_type = match p.payment_type.as_deref() {
        None => PaymentType::Credit,
        Some(t) => t
            .parse::<PaymentType>()
            .map_err(|_| ApiError::Unprocessable(format!("invalid payment_type {t:?}")))?,
    };
    let include_details = p.include_details.unwrap_or(0);
    if include_details > 2 {
        return Err(ApiError::Unprocessable("include_details must be 0, 1 or 2".into()));
    }
    let include_size = p.include_size.unwrap_or(false);
    let paging = PageNumberParams::from_query(&params)?;
    let per_page = paging.pagination.unwrap_or(100);
    if !(10..=1000).contains(&per_page) {
        return Err(ApiError::Unprocessable("pagination must be between 10 and 1000".into()));
    }
    let page = query::page_in_range(paging.page.unwrap_or(1), per_page)?;
    let filter = CostFilter {
        address: p.address,
        item_hash: p.item_hash,
        payment_type: Some(payment_type.as_str().to_owned()),
    };
    if include_details >= 2 && filter.address.is_none() && filter.item_hash.is_none() {
        return Err(ApiError::Unprocessable(
            "include_details=2 requires at least one of 'address' or 'item_hash' filters to avoid fetching breakdowns for all resources"
                .into(),
        ));
    }
    let body = state
        .pipeline
        .db()
        .read(move |c| {
            let (hold, stream, credit, resource_count) = balances::cost_summary(c, &filter)?;
            let total_consumed_credits =
                balances::consumed_credits(c, filter.address.as_deref(), filter.item_hash.as_deref())?;
            let mut body = CostsOverview {
                summary: CostSummary {
                    total_consumed_credits,
                    total_cost_hold: cost_string(hold),
                    total_cost_stream: cost_string(stream),
                    total_cost_credit: cost_string(credit),
                    resource_count,
                },
                filters: CostFilters {
                    address: filter.address.clone(),
                    item_hash: filter.item_hash.clone(),
                    payment_type: filter.payment_type.clone(),
                },
                resources: None,
                pagination_page: None,
                pagination_total: None,
                pagination_per_page: None,
                pagination_item: None,
            };
            if include_details >= 1 {
                let (resources, total) = balances::resources_with_costs(c, &filter, page, per_page)?;
                let mut items = Vec::with_capacity(resources.len());
                for r in resources {
                    let detail = if include_details >= 2 {
                        let rows = balances::message_costs(c, &r.item_hash)?;
                        Some(rows.iter().map(|s| CostDetail::of(&s.row, include_size)).collect())
                    } else {
                        None
                    };
                    items.push(ResourceCost {
                        consumed_credits: balances::consumed_credits(c, None, Some(&r.item_hash))?,
                        item_hash: r.item_hash,
                        owner: r.owner,
                        payment_type: r.payment_type,
                        cost_hold: cost_string(r.cost_hold),
                        cost_stream: cost_string(r.cost_stream),
                        cost_credit: cost_string(r.cost_credit),
                        detail,
                    });
                }
                body.resources = Some(items);
                body.pagination_page = Some(page);
                body.pagination_total = Some(total);
                body.pagination_per_page = Some(per_page);
                body.pagination_item = Some("resources".into());
            }
            Ok(body)
        })
        .await?;
    Ok(Wire(body))
}

/// Endpoint tests for this module and `accounts`, through a router holding only their routes.
#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::{get, post};
    use axum::Router;
    use rusqlite::params;
    use tower::ServiceExt;

    use super::*;
    use crate::api::accounts;
    use crate::config::NodeConfig;
    use crate::pipeline::Pipeline;
    use crate::storage::{Db, MemoryFileStore};

    const OWNER: &str = "0x1111111111111111111111111111111111111111";
    const OTHER: &str = "0x2222222222222222222222222222222222222222";
    const VM: &str = "1000000000000000000000000000000000000000000000000000000000000001";
    const PENDING: &str = "2000000000000000000000000000000000000000000000000000000000000002";
    const POST: &str = "3000000000000000000000000000000000000000000000000000000000000003";
    const ROOTFS: &str = "b00b000000000000000000000000000000000000000000000000000000000003";

    struct Harness {
        router: Router,
        state: AppState,
        _tasks: crate::tasks::TaskManager,
        _dir: tempfile::TempDir,
    }

    fn instance_content(payment: &str) -> Value {
        json!({
            "address": OWNER, "time": 1_750_000_000.0, "allow_amend": false,
            "environment": {"internet": true},
            "resources": {"vcpus": 1, "memory": 2048},
            "rootfs": {"parent": {"ref": ROOTFS}, "persistence": "host", "size_mib": 20480},
            "payment": {"type": payment},
        })
    }

    async fn harness() -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("db.sqlite")).unwrap();
        let mut tasks = crate::tasks::TaskManager::new();
        let token = tasks.token();
        let pipeline = Pipeline::start(
            db,
            Arc::new(MemoryFileStore::default()),
            None,
            NodeConfig::ephemeral(dir.path()),
            token,
            &mut tasks,
        );
        let state = AppState::new(pipeline, None, "test");
        let router = Router::new()
            .route("/api/v0/addresses/{address}/balance", get(accounts::balance))
            .route("/api/v0/balances", get(accounts::balances_list))
            .route("/api/v0/credit_balances", get(accounts::credit_balances))
            .route("/api/v0/addresses/{address}/credit_history", get(accounts::credit_history))
            .route(
                "/api/v0/addresses/{address}/credit_history/summary",
                get(accounts::credit_history_summary),
            )
            .route("/api/v0/price/estimate", post(estimate_message))
            .route("/api/v0/price/estimate/instance", post(estimate_instance))
            .route("/api/v0/price/{item_hash}", get(message_price))
            .route("/api/v0/costs", get(costs))
            .route("/api/v0/messages/{item_hash}/consumed_credits", get(accounts::consumed_credits))
            .with_state(state.clone());
        Harness { router, state, _tasks: tasks, _dir: dir }
    }

    impl Harness {
        fn seed(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>) {
            self.state.pipeline.db().write_blocking(|tx| Ok(f(tx)?)).unwrap();
        }

        async fn call(&self, method: &str, uri: &str, body: Option<Value>) -> (u16, Value) {
            let req = Request::builder().method(method).uri(uri);
            let req = match body {
                Some(b) => req.header("content-type", "application/json").body(Body::from(b.to_string())),
                None => req.body(Body::empty()),
            }
            .unwrap();
            let res = self.router.clone().oneshot(req).await.unwrap();
            let status = res.status().as_u16();
            let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
            (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
        }

        async fn get(&self, uri: &str) -> (u16, Value) {
            self.call("GET", uri, None).await
        }
    }

    fn seed_accounts(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
        for (address, chain, dapp, amount) in [
            (OWNER, "ETH", "", "1000.5"),
            (OWNER, "SOL", "", "200"),
            (OWNER, "ETH", "dapp", "999"),
            (OTHER, "ETH", "", "5"),
        ] {
            tx.execute(
                "INSERT INTO balances (address, chain, dapp, balance) VALUES (?1, ?2, ?3, ?4)",
                params![address, chain, dapp, amount],
            )?;
        }
        type Grant<'a> = (&'a str, i64, Option<f64>, f64, &'a str, Option<&'a str>);
        let credits: [Grant<'_>; 4] = [
            (OWNER, 500, None, 1_700_000_000.0, "g1", Some("card")),
            (OWNER, 300, Some(4_000_000_000.0), 1_700_000_100.0, "g2", Some("card")),
            (OWNER, -100, None, 1_700_000_200.0, "e1", Some("credit_expense")),
            (OTHER, 7, None, 1_700_000_000.0, "g3", None),
        ];
        for (i, (address, amount, exp, time, r, method)) in credits.into_iter().enumerate() {
            tx.execute(
                "INSERT INTO credit_history (address, amount, credit_ref, credit_index, expiration_date, message_timestamp,
                                             payment_method, origin)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![address, amount, r, i as i64, exp, time, method, if amount < 0 { Some(VM) } else { None }],
            )?;
        }
        Ok(())
    }

    fn seed_instance(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
        let content = instance_content("hold");
        tx.execute(
            "INSERT INTO messages (item_hash, seq, type, chain, sender, item_type, content, time, size, owner, payment_type)
             VALUES (?1, 1, 'INSTANCE', 'ETH', ?2, 'inline', ?3, 1750000000, 10, ?2, 'hold')",
            params![VM, OWNER, content.to_string()],
        )?;
        tx.execute(
            "INSERT INTO messages (item_hash, seq, type, chain, sender, item_type, content, time, size, owner)
             VALUES (?1, 2, 'POST', 'ETH', ?2, 'inline', '{}', 1750000000, 10, ?2)",
            params![POST, OWNER],
        )?;
        for (hash, status) in [(VM, "processed"), (POST, "processed"), (PENDING, "pending")] {
            tx.execute(
                "INSERT INTO message_status (item_hash, status, reception_time) VALUES (?1, ?2, 0)",
                params![hash, status],
            )?;
        }
        let parsed = Content::parse(MessageType::Instance, &content)
            .map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))?;
        let costs = payment::price(tx, &parsed, VM, None)
            .map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))?;
        balances::record_costs(tx, OWNER, VM, costs.payment_type, &costs.rows)
            .map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))?;
        Ok(())
    }

    #[tokio::test]
    async fn account_balance() {
        let h = harness().await;
        h.seed(seed_accounts);
        h.seed(seed_instance);
        let (status, body) = h.get(&format!("/api/v0/addresses/{OWNER}/balance")).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"address": OWNER, "balance": 1200.5, "details": {"ETH": 1000.5, "SOL": 200.0},
                   "locked_amount": 1000.0, "credit_balance": 700, "credit_balance_details": null})
        );
        let (_, body) =
            h.get(&format!("/api/v0/addresses/{OWNER}/balance?chain=ETH&include_credit_details=true")).await;
        assert_eq!(body["balance"], json!(1000.5));
        assert_eq!(body["details"], json!({}));
        // The expense drew on the oldest grant first.
        assert_eq!(
            body["credit_balance_details"],
            json!([{"expiration_date": null, "amount": 400}, {"expiration_date": "2096-10-02T07:06:40Z", "amount": 300}])
        );
        assert_eq!(body["credit_balance"], json!(700));
        let (_, body) = h.get("/api/v0/addresses/0xnobody/balance").await;
        assert_eq!(body["balance"], json!(0.0));
        assert_eq!(body["locked_amount"], json!(0.0));
        assert_eq!(h.get("/api/v0/addresses/x/balance?chain=NOPE").await.0, 422);
    }

    #[tokio::test]
    async fn balance_lists() {
        let h = harness().await;
        h.seed(seed_accounts);
        let (status, body) = h.get("/api/v0/balances?chains=ETH").await;
        assert_eq!(status, 200);
        assert_eq!(body["pagination_total"], json!(3));
        assert_eq!(body["pagination_item"], json!("balances"));
        assert_eq!(body["balances"][0], json!({"address": OWNER, "balance": 1000.5, "chain": "ETH"}));
        let (_, body) = h.get("/api/v0/balances?min_balance=100").await;
        assert_eq!(body["pagination_total"], json!(3));
        assert_eq!(h.get("/api/v0/balances?min_balance=0").await.0, 422);
        // Cursor mode.
        let (_, body) = h.get("/api/v0/balances?pagination=2&cursor=").await;
        assert_eq!(body["balances"].as_array().unwrap().len(), 2);
        let next = body["next_cursor"].as_str().unwrap().to_owned();
        let (_, body) = h.get(&format!("/api/v0/balances?pagination=2&cursor={next}")).await;
        assert_eq!(body["balances"], json!([{"address": OTHER, "balance": 5.0, "chain": "ETH"}]));
        assert_eq!(body["next_cursor"], Value::Null);
        assert_eq!(h.get("/api/v0/balances?pagination=0&cursor=").await.0, 422);

        let (_, body) = h.get("/api/v0/credit_balances").await;
        assert_eq!(
            body,
            json!({"credit_balances": [{"address": OWNER, "credits": 700}, {"address": OTHER, "credits": 7}],
                   "pagination_per_page": 100, "pagination_page": 1, "pagination_total": 2,
                   "pagination_item": "credit_balances"})
        );
        let (_, body) = h.get("/api/v0/credit_balances?min_balance=10").await;
        assert_eq!(body["pagination_total"], json!(1));
    }

    #[tokio::test]
    async fn credit_history_and_summary() {
        let h = harness().await;
        h.seed(seed_accounts);
        h.seed(seed_instance);
        let (status, body) = h.get(&format!("/api/v0/addresses/{OWNER}/credit_history")).await;
        assert_eq!(status, 200);
        let refs: Vec<&str> = body["credit_history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["credit_ref"].as_str().unwrap())
            .collect();
        assert_eq!(refs, ["e1", "g2", "g1"]);
        assert_eq!(body["pagination_total"], json!(3));
        assert_eq!(body["pagination_per_page"], json!(0));
        assert_eq!(body["credit_history"][2]["message_timestamp"], json!("2023-11-14T22:13:20Z"));
        let (_, body) =
            h.get(&format!("/api/v0/addresses/{OWNER}/credit_history?direction=incoming&sort_order=1")).await;
        let refs: Vec<&str> = body["credit_history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["credit_ref"].as_str().unwrap())
            .collect();
        assert_eq!(refs, ["g1", "g2"]);
        let (_, body) =
            h.get(&format!("/api/v0/addresses/{OWNER}/credit_history?resourceTypes=INSTANCE")).await;
        assert_eq!(body["pagination_total"], json!(1));
        let (_, body) =
            h.get(&format!("/api/v0/addresses/{OWNER}/credit_history?sort_by=expiration_date")).await;
        let refs: Vec<&str> = body["credit_history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["credit_ref"].as_str().unwrap())
            .collect();
        assert_eq!(refs, ["g2", "g1", "e1"]);
        // Cursor paging walks the same order.
        let mut cursor = String::new();
        let mut walked = Vec::new();
        loop {
            let (_, body) = h
                .get(&format!("/api/v0/addresses/{OWNER}/credit_history?pagination=1&cursor={cursor}"))
                .await;
            walked.push(body["credit_history"][0]["credit_ref"].as_str().unwrap().to_owned());
            match body["next_cursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(walked, ["e1", "g2", "g1"]);
        assert_eq!(
            h.get(&format!("/api/v0/addresses/{OWNER}/credit_history?sort_by=amount&cursor={cursor}"))
                .await
                .0,
            422
        );
        assert_eq!(h.get("/api/v0/addresses/0xnobody/credit_history").await.0, 404);
        let (status, body) = h.get(&format!("/api/v0/addresses/{OWNER}/credit_history/summary")).await;
        assert_eq!(status, 200);
        assert_eq!(
            body,
            json!({"address": OWNER, "entry_count": 3, "total_amount": 700, "total_incoming": 800, "total_outgoing": -100})
        );
        assert_eq!(
            h.get("/api/v0/addresses/0xnobody/credit_history/summary").await.1["entry_count"],
            json!(0)
        );
    }

    #[tokio::test]
    async fn prices() {
        let h = harness().await;
        h.seed(seed_accounts);
        h.seed(seed_instance);
        let (status, body) = h.get(&format!("/api/v0/price/{VM}")).await;
        assert_eq!(status, 200);
        assert_eq!(body["required_tokens"], json!(1000.0));
        assert_eq!(body["cost"], json!("1000.000000000000000000"));
        assert_eq!(body["payment_type"], json!("hold"));
        assert_eq!(body["charged_address"], json!(OWNER));
        assert_eq!(body["detail"].as_array().unwrap().len(), 3);
        assert_eq!(body["detail"][1]["size_mib"], Value::Null);
        let (_, body) = h.get(&format!("/api/v0/price/{VM}?include_size=true")).await;
        assert_eq!(body["detail"][1]["size_mib"], json!(20480.0));
        assert_eq!(h.get(&format!("/api/v0/price/{PENDING}")).await.0, 202);
        assert_eq!(h.get(&format!("/api/v0/price/{POST}")).await.0, 400);
        assert_eq!(
            h.get("/api/v0/price/4000000000000000000000000000000000000000000000000000000000000004").await.0,
            404
        );

        // An inline STORE estimate with its size.
        let content = json!({"address": OWNER, "time": 1.0, "item_type": "storage", "item_hash": ROOTFS,
                             "estimated_size_mib": 100});
        let message = json!({"message": {"sender": OWNER, "chain": "ETH", "type": "STORE", "item_type": "inline",
                                         "item_hash": VM, "item_content": content.to_string(), "time": 1.0}});
        let (status, body) = h.call("POST", "/api/v0/price/estimate", Some(message)).await;
        assert_eq!(status, 200);
        assert_eq!(body["cost"], json!("33.333333300000000000"));
        assert_eq!(body["detail"][0]["size_mib"], json!(100.0));
        let post = json!({"message": {"sender": OWNER, "chain": "ETH", "type": "POST", "item_hash": VM, "item_content": "{}"}});
        assert_eq!(h.call("POST", "/api/v0/price/estimate", Some(post)).await.0, 422);

        let mut content = instance_content("credit");
        content.as_object_mut().unwrap().remove("time");
        let (status, body) = h.call("POST", "/api/v0/price/estimate/instance", Some(content)).await;
        assert_eq!(status, 200);
        assert_eq!(body["cost"], json!("3.958333333333333333"));
        assert_eq!(body["payment_type"], json!("credit"));
        assert_eq!(
            h.call("POST", "/api/v0/price/estimate/instance", Some(json!({"address": OWNER}))).await.0,
            422
        );
    }

    #[tokio::test]
    async fn costs_overview() {
        let h = harness().await;
        h.seed(seed_accounts);
        h.seed(seed_instance);
        let (status, body) =
            h.get(&format!("/api/v0/costs?address={OWNER}&payment_type=hold&include_details=2")).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["summary"],
            json!({"total_consumed_credits": 100, "total_cost_hold": "1000.000000000000000000",
                   "total_cost_stream": "0.000015277777777777", "total_cost_credit": "3.958333333333333333",
                   "resource_count": 1})
        );
        assert_eq!(body["filters"], json!({"address": OWNER, "item_hash": null, "payment_type": "hold"}));
        assert_eq!(body["resources"][0]["consumed_credits"], json!(100));
        assert_eq!(body["resources"][0]["cost_hold"], json!("1000.000000000000000000"));
        assert_eq!(body["resources"][0]["detail"].as_array().unwrap().len(), 3);
        assert_eq!(body["pagination_item"], json!("resources"));
        // Default payment type: credit (none here).
        let (_, body) = h.get("/api/v0/costs").await;
        assert_eq!(body["summary"]["resource_count"], json!(0));
        assert_eq!(body["resources"], Value::Null);
        assert_eq!(h.get("/api/v0/costs?include_details=2").await.0, 422);
        assert_eq!(h.get("/api/v0/costs?pagination=5").await.0, 422);
        let (_, body) = h.get(&format!("/api/v0/messages/{VM}/consumed_credits")).await;
        assert_eq!(body, json!({"item_hash": VM, "consumed_credits": 100}));
    }
}
