//! `GET /api/openapi.json`: the OpenAPI 3.1 description of the node's HTTP API, generated from
//! the wire types of `aleph_core::api` (their utoipa schemas and query parameters) and this
//! table of operations, which adds each route's area and summary. The routes themselves are the
//! router's (`api::routed`, `crn::routed`): tests/it/openapi.rs fails when one is not here.
//!
//! An operation whose answer is still built as free JSON says so (`Answer::AnyJson`: any JSON
//! value); the others name their type, and the same test validates real answers against it.

use aleph_core::api::{
    AccountFileList, AccountFileParams, AddressAggregates, AddressAggregatesParams, AddressChannels,
    AddressPostTypes, AddressStatsMap, AddressStatsPage, AddressStatsParams, AggregateList,
    AggregateListParams, AllocationNotification, AllocationsAnswer, AuthorizationParams, AuthorizationsPage,
    Balance, BalanceList, BalanceListParams, BalanceParams, ChannelList, ConsumedCredits, CostsOverview,
    CostsParams, CreditBalanceList, CreditBalanceListParams, CreditHistory, CreditHistoryParams,
    CreditHistorySummary, CreditSortParams, CrnError, CrnExecution, CrnExecutionV1, CrnLogEntry,
    EstimateRequest, FileContent, FileMetadata, FileRef, GranteeParams, GranterParams, HashesPage,
    HashesParams, MessageList, MessageParams, MessageStatusInfo, MessageWithStatusBody, NodeVersion,
    PageNumberParams, PageParams, PostList, PostParams, PostV1List, Price, PriceParams, ProgramSubscription,
    ProgramSubscriptionParams, PublicInfo, PublicationStatus, StorageLimits, SubmitRequest, SubmitResponse,
    UploadResponse, WsParams,
};
use axum::Json;
use serde_json::Value;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required,
    ResponseBuilder,
};
use utoipa::{IntoParams, ToSchema};

/// Named schemas an answer refers to, collected into the document's components.
type Schemas = Vec<(String, RefOr<Schema>)>;

/// What an operation answers (or, for a request body, takes).
#[derive(Clone, Copy)]
enum Answer {
    /// Nothing (a GET's body).
    None,
    /// JSON of an `aleph_core::api` type.
    Json(fn(&mut Schemas) -> RefOr<Schema>),
    /// Any JSON: a free-form document, or an answer not yet typed.
    AnyJson,
    /// A JSON integer.
    Integer,
    /// An HTML page.
    Html,
    /// Plain text.
    Text,
    /// A file's bytes.
    Bytes,
    /// A program's own answer.
    Program,
    /// A WebSocket.
    WebSocket,
}

/// The JSON answer of type `T`.
const fn json<T: ToSchema + 'static>() -> Answer {
    Answer::Json(schema_of::<T>)
}

/// The JSON object answer whose values are `V`s (by item hash).
const fn json_map<V: ToSchema + 'static>() -> Answer {
    Answer::Json(map_of::<V>)
}

/// The JSON array answer of `V`s.
const fn json_list<V: ToSchema + 'static>() -> Answer {
    Answer::Json(list_of::<V>)
}

fn map_of<V: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    ObjectBuilder::new().additional_properties(Some(schema_of::<V>(schemas))).into()
}

fn list_of<V: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    ArrayBuilder::new().items(schema_of::<V>(schemas)).into()
}

/// A reference to `T`'s schema, `T` and the schemas it uses collected.
fn schema_of<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    schemas.push((T::name().into_owned(), T::schema()));
    T::schemas(schemas);
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// The query parameters of an operation: typed ones and, for answers not yet typed, names.
#[derive(Clone, Copy)]
struct Params {
    typed: fn() -> Vec<Parameter>,
    names: &'static [&'static str],
}

fn none() -> Vec<Parameter> {
    Vec::new()
}

fn params<A: IntoParams>() -> Vec<Parameter> {
    A::into_params(|| Some(ParameterIn::Query))
}

fn params2<A: IntoParams, B: IntoParams>() -> Vec<Parameter> {
    let mut out = params::<A>();
    out.extend(params::<B>());
    out
}

fn params3<A: IntoParams, B: IntoParams, C: IntoParams>() -> Vec<Parameter> {
    let mut out = params2::<A, B>();
    out.extend(params::<C>());
    out
}

/// One operation of the document.
struct Op {
    method: &'static str,
    path: &'static str,
    tag: &'static str,
    summary: &'static str,
    params: Params,
    body: Answer,
    answer: Answer,
}

/// `GET path`, answering any JSON until said otherwise.
const fn get(path: &'static str, tag: &'static str, summary: &'static str) -> Op {
    Op {
        method: "get",
        path,
        tag,
        summary,
        params: Params { typed: none, names: &[] },
        body: Answer::None,
        answer: Answer::AnyJson,
    }
}

/// `POST path`, taking and answering any JSON until said otherwise.
const fn post(path: &'static str, tag: &'static str, summary: &'static str) -> Op {
    Op { method: "post", body: Answer::AnyJson, ..get(path, tag, summary) }
}

impl Op {
    /// Its typed query parameters.
    const fn query(mut self, typed: fn() -> Vec<Parameter>) -> Self {
        self.params.typed = typed;
        self
    }

    /// Query parameters of answers not typed yet, by name.
    const fn names(mut self, names: &'static [&'static str]) -> Self {
        self.params.names = names;
        self
    }

    /// What it takes.
    const fn body(mut self, body: Answer) -> Self {
        self.body = body;
        self
    }

    /// What it answers.
    const fn answer(mut self, answer: Answer) -> Self {
        self.answer = answer;
        self
    }
}

const OPERATIONS: &[Op] = &[
    get("/", "pages", "The operator's status page (HTML): version, role, message counts, peers, latest messages; q= searches an item hash (redirects to its page) or an address.")
        .names(&["q"])
        .answer(Answer::Html),
    get("/message/{item_hash}", "pages", "One message as an HTML page: status, content, confirmations, signature check.")
        .answer(Answer::Html),
    post("/api/v0/messages", "messages", "Submit a signed message: {sync, message}. 200 processed, 202 pending, 422 rejected or invalid.")
        .body(json::<SubmitRequest>())
        .answer(json::<SubmitResponse>()),
    get("/api/v0/messages.json", "messages", "List messages (page or cursor paging).")
        .query(params2::<MessageParams, PageParams>)
        .answer(json::<MessageList>()),
    get("/api/v0/messages/page/{page}.json", "messages", "List messages, page in the path.")
        .query(params2::<MessageParams, PageParams>)
        .answer(json::<MessageList>()),
    get("/api/v0/messages/{item_hash}", "messages", "One message with its status (processed, pending, rejected with error_code and details, forgotten with forgotten_by).")
        .answer(json::<MessageWithStatusBody>()),
    get("/api/v0/messages/{item_hash}/status", "messages", "The status of a message.")
        .answer(json::<MessageStatusInfo>()),
    get("/api/v0/messages/{item_hash}/content", "messages", "The content of a processed message (a POST's payload)."),
    get("/api/v0/messages/hashes", "messages", "Item hashes by reception time (bare, or with status and reception time when hash_only=false).")
        .query(params2::<HashesParams, PageParams>)
        .answer(json::<HashesPage>()),
    post("/api/v0/ipfs/pubsub/pub", "messages", "Legacy publish: {topic, data} with the message in data (JSON text or object).")
        .answer(json::<PublicationStatus>()),
    post("/api/v0/p2p/pubsub/pub", "messages", "Legacy publish: {topic, data} with the message in data (JSON text or object).")
        .answer(json::<PublicationStatus>()),
    get("/api/v0/posts.json", "posts", "Posts merged with their latest amend (v0 shape).")
        .query(params2::<PostParams, PageParams>)
        .answer(json::<PostList>()),
    get("/api/v0/posts/page/{page}.json", "posts", "Posts, page in the path.")
        .query(params2::<PostParams, PageParams>)
        .answer(json::<PostList>()),
    get("/api/v1/posts.json", "posts", "Posts (v1 shape).")
        .query(params2::<PostParams, PageParams>)
        .answer(json::<PostV1List>()),
    get("/api/v1/posts/page/{page}.json", "posts", "Posts (v1 shape), page in the path.")
        .query(params2::<PostParams, PageParams>)
        .answer(json::<PostV1List>()),
    get("/api/v0/aggregates/{address}.json", "aggregates", "An address's aggregates (404 when none).")
        .query(params::<AddressAggregatesParams>)
        .answer(json::<AddressAggregates>()),
    post("/api/v0/storage/add_file", "storage", "Upload a file: raw body, multipart `file`, or multipart `metadata` (signed STORE message) + `file`; with a message, its owner must be able to pay for the file (priced as whole MiB) before the bytes are stored, else 402.")
        .answer(json::<UploadResponse>()),
    post("/api/v0/storage/add_json", "storage", "Upload a JSON document (stored compact with sorted keys).")
        .answer(json::<UploadResponse>()),
    post("/api/v0/ipfs/add_file", "storage", "Upload a file addressed by its CID as `ipfs add` computes it (CIDv0 by default; cid-version=1, raw-leaves=true as kubo's flags), its blocks served over bitswap, with an optional `metadata` STORE message as for storage/add_file (402 when its owner cannot pay).")
        .names(&["cid-version", "raw-leaves"])
        .answer(json::<UploadResponse>()),
    post("/api/v0/ipfs/add_json", "storage", "Upload a JSON document addressed by its CIDv0.")
        .answer(json::<UploadResponse>()),
    post("/api/v0/ipfs/add_car", "storage", "Import a CARv1 (multipart `file`) with its signed STORE (`metadata`, required): one root, equal to the STORE's item_hash, its whole DAG in the archive, every block hash-checked.")
        .answer(json::<UploadResponse>()),
    get("/api/v0/aggregates", "aggregates", "Every aggregate.")
        .query(params2::<AggregateListParams, PageParams>)
        .answer(json::<AggregateList>()),
    get("/api/v0/aggregates.json", "aggregates", "Every aggregate.")
        .query(params2::<AggregateListParams, PageParams>)
        .answer(json::<AggregateList>()),
    get("/api/v0/ipfs/id", "storage", "The IPFS engine's identity in kubo's `id` shape: {ID, Addresses} (multiaddrs with /p2p/ID)."),
    get("/api/v0/storage/raw/{hash}", "storage", "A file's bytes (an IPFS file not held is fetched over bitswap, within ipfs.max_fetch_bytes and ipfs.fetch_timeout_secs).")
        .answer(Answer::Bytes),
    get("/api/v0/storage/{hash}", "storage", "A file as MIME-style base64, for peers (IPFS files fetched over bitswap when missing).")
        .answer(json::<FileContent>()),
    get("/api/v0/storage/metadata/{hash}", "storage", "A file's size and type.")
        .answer(json::<FileMetadata>()),
    get("/api/v0/storage/by-message-hash/{hash}", "storage", "The file of a STORE message.")
        .answer(json::<FileRef>()),
    get("/api/v0/storage/by-ref/{ref}", "storage", "The file behind an item-hash ref.")
        .answer(json::<FileRef>()),
    get("/api/v0/storage/by-ref/{address}/{ref}", "storage", "The file behind an owner's ref.")
        .answer(json::<FileRef>()),
    get("/api/v0/storage/count/{hash}", "storage", "How many pins keep a file.")
        .answer(Answer::Integer),
    get("/api/v0/storage/limits.json", "storage", "Upload limits.")
        .answer(json::<StorageLimits>()),
    get("/api/v0/addresses/stats.json", "addresses", "Message counts per address.")
        .names(&["addresses[]"])
        .answer(json::<AddressStatsMap>()),
    get("/api/v1/addresses/stats.json", "addresses", "Message counts per address, paginated.")
        .query(params2::<AddressStatsParams, PageNumberParams>)
        .answer(json::<AddressStatsPage>()),
    get("/api/v0/addresses/{address}/files", "addresses", "Files an address stores (404 for an empty page). Page mode: {address, total_size, files, pagination_page, pagination_total, pagination_per_page}, `created` in RFC 3339. With `cursor` (even empty): {address, total_size, files, pagination_per_page, next_cursor}, `created` in epoch seconds, `next_cursor` from the last file's (created, item_hash).")
        .query(params2::<AccountFileParams, PageParams>)
        .answer(json::<AccountFileList>()),
    get("/api/v0/addresses/{address}/post_types", "addresses", "Post types an address uses.")
        .answer(json::<AddressPostTypes>()),
    get("/api/v0/addresses/{address}/channels", "addresses", "Channels an address posts on.")
        .answer(json::<AddressChannels>()),
    get("/api/v0/addresses/{address}/balance", "accounts", "ALEPH and credit balance.")
        .query(params::<BalanceParams>)
        .answer(json::<Balance>()),
    post("/api/v0/price/estimate", "prices", "Estimate the cost of a message: {message} with `type`, `item_type`, `item_hash` and `item_content` (or content this node stores); `sender`, `chain`, `time`, `signature` and `channel` are optional.")
        .body(json::<EstimateRequest>())
        .answer(json::<Price>()),
    get("/api/v0/balances", "accounts", "ALEPH balances.")
        .query(params2::<BalanceListParams, PageParams>)
        .answer(json::<BalanceList>()),
    get("/api/v0/credit_balances", "accounts", "Credit balances.")
        .query(params2::<CreditBalanceListParams, PageParams>)
        .answer(json::<CreditBalanceList>()),
    get("/api/v0/addresses/{address}/credit_history", "accounts", "Credit history.")
        .query(params3::<CreditHistoryParams, CreditSortParams, PageParams>)
        .answer(json::<CreditHistory>()),
    get("/api/v0/price/{item_hash}", "prices", "The recorded cost of a message.")
        .query(params::<PriceParams>)
        .answer(json::<Price>()),
    post("/api/v0/price/estimate/instance", "prices", "Estimate the cost of an INSTANCE from its content alone (no message): {content} or the content itself.")
        .answer(json::<Price>()),
    get("/api/v0/costs", "prices", "Recorded costs of messages, with totals per payment type.")
        .query(params2::<CostsParams, PageNumberParams>)
        .answer(json::<CostsOverview>()),
    get("/api/v0/messages/{item_hash}/consumed_credits", "accounts", "Credits a message has consumed.")
        .answer(json::<ConsumedCredits>()),
    get("/api/v0/addresses/{address}/credit_history/summary", "accounts", "Totals of an address's credit history (incoming, outgoing, entries).")
        .query(params::<CreditHistoryParams>)
        .answer(json::<CreditHistorySummary>()),
    get("/api/openapi.json", "misc", "This description."),
    get("/version", "misc", "The node's version (as /api/v0/version).")
        .answer(json::<NodeVersion>()),
    get("/vm/{reference}", "crn", "CRN: a program's HTTP root (started on first use); any method.")
        .answer(Answer::Program),
    get("/vm/{reference}/{rest}", "crn", "CRN: a path of a program's HTTP interface; any method.")
        .answer(Answer::Program),
    get("/about/executions/list", "crn", "CRN: running executions (aleph-vm v1 shape).")
        .answer(json_map::<CrnExecutionV1>()),
    get("/v2/about/executions/list", "crn", "CRN: running executions and allocations (aleph-vm v2 shape).")
        .answer(json_map::<CrnExecution>()),
    get("/about/usage/system", "crn", "CRN: the host's resources and use."),
    get("/status/check/version", "crn", "CRN: the version check aleph-vm answers.")
        .answer(Answer::Text),
    get("/status/config", "crn", "CRN: the public configuration (domain, payment, computing, limits this host applies)."),
    post("/control/allocation/notify", "crn", "CRN: a user notifies an allocation ({instance}); 503 with the reason when it cannot run.")
        .answer(json::<AllocationNotification>()),
    post("/control/allocations", "crn", "CRN: the scheduler sets the persistent allocations (signed Aleph-EIP191-V1).")
        .answer(json::<AllocationsAnswer>()),
    post("/control/machine/{reference}/stop", "crn", "CRN: the owner stops a program (signed operation).")
        .answer(Answer::Text),
    post("/control/machine/{reference}/reboot", "crn", "CRN: the owner reboots a program (signed operation).")
        .answer(Answer::Text),
    post("/control/machine/{reference}/erase", "crn", "CRN: the owner stops an instance and deletes its disk (signed operation).")
        .answer(Answer::Text),
    get("/control/machine/{reference}/logs", "crn", "CRN: the owner reads a program's logs (signed operation).")
        .answer(json_list::<CrnLogEntry>()),
    get("/api/v0/channels/list.json", "misc", "Every channel in use.")
        .answer(json::<ChannelList>()),
    get("/api/v0/authorizations/granted/{address}.json", "authorizations", "Authorizations an address grants.")
        .query(params3::<GranteeParams, AuthorizationParams, PageNumberParams>)
        .answer(json::<AuthorizationsPage>()),
    get("/api/v0/authorizations/received/{address}.json", "authorizations", "Authorizations an address received.")
        .query(params3::<GranterParams, AuthorizationParams, PageNumberParams>)
        .answer(json::<AuthorizationsPage>()),
    get("/api/ws0/messages", "messages", "WebSocket: `history` past messages, then every newly processed one matching the filters.")
        .query(params2::<MessageParams, WsParams>)
        .answer(Answer::WebSocket),
    get("/api/v0/programs/on/message", "programs", "Programs subscribed to messages (content.on.message).")
        .query(params::<ProgramSubscriptionParams>)
        .answer(json_list::<ProgramSubscription>()),
    get("/api/ws0/status", "misc", "WebSocket: the /metrics.json object, sent again every 10 s when it changed.")
        .answer(Answer::WebSocket),
    get("/api/v0/version", "misc", "The node's version.")
        .answer(json::<NodeVersion>()),
    get("/api/v0/info/public.json", "misc", "The node's P2P addresses.")
        .answer(json::<PublicInfo>()),
    get("/metrics", "misc", "Prometheus metrics.").answer(Answer::Text),
    get("/metrics.json", "misc", "Metrics as JSON."),
    get("/api/v0/chains/status", "misc", "The chain bridges: each task's height, head, RPC calls and failures, the readers' positions, and the latest skipped events with their reasons."),
];

fn string_schema() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(Type::String).into()
}

fn any_json() -> RefOr<Schema> {
    ObjectBuilder::new().schema_type(SchemaType::AnyValue).into()
}

/// The media type and schema of an answer or body (`None`: no content).
fn content(answer: Answer, schemas: &mut Schemas) -> Option<(&'static str, Option<RefOr<Schema>>)> {
    match answer {
        Answer::None | Answer::WebSocket => None,
        Answer::Json(schema) => Some(("application/json", Some(schema(schemas)))),
        Answer::AnyJson => Some(("application/json", Some(any_json()))),
        Answer::Integer => {
            Some(("application/json", Some(ObjectBuilder::new().schema_type(Type::Integer).into())))
        }
        Answer::Html => Some(("text/html", Some(string_schema()))),
        Answer::Text => Some(("text/plain", Some(string_schema()))),
        Answer::Bytes | Answer::Program => Some(("application/octet-stream", None)),
    }
}

fn path_parameters(path: &str) -> Vec<Parameter> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.split('}').next()))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(string_schema()))
                .build()
        })
        .collect()
}

fn text_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content("text/plain", ContentBuilder::new().schema(Some(string_schema())).build())
        .build()
}

fn operation(op: &Op, schemas: &mut Schemas) -> utoipa::openapi::path::Operation {
    let mut parameters = path_parameters(op.path);
    parameters.extend((op.params.typed)());
    parameters.extend(op.params.names.iter().map(|name| {
        ParameterBuilder::new()
            .name(*name)
            .parameter_in(ParameterIn::Query)
            .required(Required::False)
            .schema(Some(string_schema()))
            .build()
    }));
    let ok = match content(op.answer, schemas) {
        None => ResponseBuilder::new().description("OK"),
        Some((media, schema)) => ResponseBuilder::new()
            .description("OK")
            .content(media, ContentBuilder::new().schema(schema).build()),
    };
    // The CCN refuses in plain text (`422: reason`), the CRN in JSON (`{"error": reason}`).
    let mut refusal = |description: &str| {
        if op.tag == "crn" {
            let schema = schema_of::<CrnError>(schemas);
            ResponseBuilder::new()
                .description(description)
                .content("application/json", ContentBuilder::new().schema(Some(schema)).build())
                .build()
        } else {
            text_response(description)
        }
    };
    let mut builder = OperationBuilder::new()
        .tag(op.tag)
        .summary(Some(op.summary))
        .parameters(Some(parameters))
        .response("200", ok.build())
        .response("400", refusal("Malformed path parameter"))
        .response("404", refusal("Not found"))
        .response("422", refusal("Invalid query or body"));
    if let Some((media, schema)) = content(op.body, schemas) {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .content(media, ContentBuilder::new().schema(schema).build())
                .required(Some(Required::True))
                .build(),
        ));
    }
    if op.method == "post" {
        builder = builder
            .response("202", ResponseBuilder::new().description("Accepted, pending").build())
            .response("413", text_response("Over the size limit"));
    }
    if op.path.ends_with("/add_file") {
        builder = builder
            .response(
                "402",
                text_response(
                    "The STORE message's owner cannot pay for the file (text body `402: Payment Required`)",
                ),
            )
            .response("403", text_response("The STORE message's signature is invalid"));
    }
    builder.build()
}

/// The OpenAPI document.
pub(crate) fn document(version: &str) -> Value {
    let mut schemas = Schemas::new();
    let mut paths = PathsBuilder::new();
    for op in OPERATIONS {
        let method = if op.method == "post" { HttpMethod::Post } else { HttpMethod::Get };
        paths = paths.path(op.path, PathItem::new(method, operation(op, &mut schemas)));
    }
    schemas.sort_by(|a, b| a.0.cmp(&b.0));
    schemas.dedup_by(|a, b| a.0 == b.0);
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("aleph-node CCN API")
                .version(version)
                .description(Some("The Aleph.im core channel node API, as served by aleph-node."))
                .build(),
        )
        .paths(paths.build())
        .components(Some(ComponentsBuilder::new().schemas_from_iter(schemas).build()))
        .build();
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

/// `GET /api/openapi.json`.
pub(crate) async fn serve() -> Json<Value> {
    Json(document(crate::VERSION))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_operation_has_a_unique_method_and_path() {
        let mut seen = std::collections::HashSet::new();
        for op in super::OPERATIONS {
            assert!(seen.insert((op.method, op.path)), "{} {} twice", op.method, op.path);
        }
        let doc = super::document("test");
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["paths"]["/api/v0/messages/{item_hash}"]["get"]["parameters"][0]["name"], "item_hash");
        let files = &doc["paths"]["/api/v0/addresses/{address}/files"]["get"]["parameters"];
        assert!(files.as_array().unwrap().iter().any(|p| p["name"] == "cursor"));
        assert!(doc["paths"]["/api/v0/storage/add_file"]["post"]["responses"]["402"].is_object());
        let list = &doc["paths"]["/api/v0/messages.json"]["get"];
        assert!(list["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "startBlock"));
        let schema = &list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        assert_eq!(schema, "#/components/schemas/MessageList");
        assert!(doc["components"]["schemas"]["PageInfo"].is_object(), "nested schemas are collected");
    }
}
