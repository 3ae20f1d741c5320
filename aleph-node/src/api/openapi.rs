//! `GET /api/openapi.json`: an OpenAPI 3.1 description of the node's HTTP API.

use axum::Json;
use serde_json::{json, Map, Value};

/// (method, path, area, summary, query parameters)
const OPERATIONS: &[(&str, &str, &str, &str, &[&str])] = &[
    ("get", "/", "pages", "The operator's status page (HTML): version, role, message counts, peers, latest messages; q= searches an item hash (redirects to its page) or an address.", &["q"]),
    ("get", "/message/{item_hash}", "pages", "One message as an HTML page: status, content, confirmations, signature check.", &[]),
    ("post", "/api/v0/messages", "messages", "Submit a signed message: {sync, message}. 200 processed, 202 pending, 422 rejected or invalid.", &[]),
    ("get", "/api/v0/messages.json", "messages", "List messages (page or cursor paging).", MESSAGE_FILTERS),
    ("get", "/api/v0/messages/page/{page}.json", "messages", "List messages, page in the path.", MESSAGE_FILTERS),
    ("get", "/api/v0/messages/{item_hash}", "messages", "One message with its status (processed, pending, rejected with error_code and details, forgotten with forgotten_by).", &[]),
    ("get", "/api/v0/messages/{item_hash}/status", "messages", "The status of a message.", &[]),
    ("get", "/api/v0/messages/{item_hash}/content", "messages", "The content of a processed message (a POST's payload).", &[]),
    ("get", "/api/v0/messages/hashes", "messages", "Item hashes by reception time (bare, or with status and reception time when hash_only=false).", &["status", "page", "pagination", "startDate", "endDate", "sortOrder", "hash_only"]),
    ("post", "/api/v0/ipfs/pubsub/pub", "messages", "Legacy publish: {topic, data} with the message in data (JSON text or object).", &[]),
    ("post", "/api/v0/p2p/pubsub/pub", "messages", "Legacy publish: {topic, data} with the message in data (JSON text or object).", &[]),
    ("get", "/api/v0/posts.json", "posts", "Posts merged with their latest amend (v0 shape).", POST_FILTERS),
    ("get", "/api/v0/posts/page/{page}.json", "posts", "Posts, page in the path.", POST_FILTERS),
    ("get", "/api/v1/posts.json", "posts", "Posts (v1 shape).", POST_FILTERS),
    ("get", "/api/v1/posts/page/{page}.json", "posts", "Posts (v1 shape), page in the path.", POST_FILTERS),
    ("get", "/api/v0/aggregates/{address}.json", "aggregates", "An address's aggregates (404 when none).", &["keys", "with_info", "value_only", "limit"]),
    ("get", "/api/v0/aggregates", "aggregates", "Every aggregate.", &["keys", "addresses", "sortBy", "sortOrder", "pagination", "page", "cursor"]),
    ("get", "/api/v0/aggregates.json", "aggregates", "Every aggregate.", &["keys", "addresses", "sortBy", "sortOrder", "pagination", "page", "cursor"]),
    ("post", "/api/v0/storage/add_file", "storage", "Upload a file: raw body, multipart `file`, or multipart `metadata` (signed STORE message) + `file`; with a message, its owner must be able to pay for the file (priced as whole MiB) before the bytes are stored, else 402.", &[]),
    ("post", "/api/v0/storage/add_json", "storage", "Upload a JSON document (stored compact with sorted keys).", &[]),
    ("post", "/api/v0/ipfs/add_file", "storage", "Upload a file addressed by its CID as `ipfs add` computes it (CIDv0 by default; cid-version=1, raw-leaves=true as kubo's flags), its blocks served over bitswap, with an optional `metadata` STORE message as for storage/add_file (402 when its owner cannot pay).", &["cid-version", "raw-leaves"]),
    ("post", "/api/v0/ipfs/add_json", "storage", "Upload a JSON document addressed by its CIDv0.", &[]),
    ("post", "/api/v0/ipfs/add_car", "storage", "Import a CARv1 (multipart `file`) with its signed STORE (`metadata`, required): one root, equal to the STORE's item_hash, its whole DAG in the archive, every block hash-checked.", &[]),
    ("get", "/api/v0/ipfs/id", "storage", "The IPFS engine's identity in kubo's `id` shape: {ID, Addresses} (multiaddrs with /p2p/ID).", &[]),
    ("get", "/api/v0/storage/raw/{hash}", "storage", "A file's bytes (an IPFS file not held is fetched over bitswap, within ipfs.max_fetch_bytes and ipfs.fetch_timeout_secs).", &[]),
    ("get", "/api/v0/storage/{hash}", "storage", "A file as MIME-style base64, for peers (IPFS files fetched over bitswap when missing).", &[]),
    ("get", "/api/v0/storage/metadata/{hash}", "storage", "A file's size and type.", &[]),
    ("get", "/api/v0/storage/by-message-hash/{hash}", "storage", "The file of a STORE message.", &[]),
    ("get", "/api/v0/storage/by-ref/{ref}", "storage", "The file behind an item-hash ref.", &[]),
    ("get", "/api/v0/storage/by-ref/{address}/{ref}", "storage", "The file behind an owner's ref.", &[]),
    ("get", "/api/v0/storage/count/{hash}", "storage", "How many pins keep a file.", &[]),
    ("get", "/api/v0/storage/limits.json", "storage", "Upload limits.", &[]),
    ("get", "/api/v0/addresses/stats.json", "addresses", "Message counts per address.", &["addresses[]"]),
    ("get", "/api/v1/addresses/stats.json", "addresses", "Message counts per address, paginated.", &["addressContains", "sortBy", "sortOrder", "pagination", "page"]),
    ("get", "/api/v0/addresses/{address}/files", "addresses", "Files an address stores (404 for an empty page). Page mode: {address, total_size, files, pagination_page, pagination_total, pagination_per_page}, `created` in RFC 3339. With `cursor` (even empty): {address, total_size, files, pagination_per_page, next_cursor}, `created` in epoch seconds, `next_cursor` from the last file's (created, item_hash).", &["pagination", "page", "cursor", "sort_order", "file_hash"]),
    ("get", "/api/v0/addresses/{address}/post_types", "addresses", "Post types an address uses.", &[]),
    ("get", "/api/v0/addresses/{address}/channels", "addresses", "Channels an address posts on.", &[]),
    ("get", "/api/v0/addresses/{address}/balance", "accounts", "ALEPH and credit balance.", &["chain", "include_credit_details"]),
    ("get", "/api/v0/balances", "accounts", "ALEPH balances.", &["chains", "pagination", "page", "min_balance"]),
    ("get", "/api/v0/credit_balances", "accounts", "Credit balances.", &["pagination", "page", "min_balance"]),
    ("get", "/api/v0/addresses/{address}/credit_history", "accounts", "Credit history.", &["pagination", "page"]),
    ("post", "/api/v0/price/estimate", "prices", "Estimate the cost of a message: {message} with `type`, `item_type`, `item_hash` and `item_content` (or content this node stores); `sender`, `chain`, `time`, `signature` and `channel` are optional.", &[]),
    ("get", "/api/v0/price/{item_hash}", "prices", "The recorded cost of a message.", &[]),
    ("post", "/api/v0/price/estimate/instance", "prices", "Estimate the cost of an INSTANCE from its content alone (no message): {content} or the content itself.", &[]),
    ("get", "/api/v0/costs", "prices", "Recorded costs of messages, with totals per payment type.", &["address", "item_hash", "payment_type", "include_details", "include_size", "pagination", "page"]),
    ("get", "/api/v0/messages/{item_hash}/consumed_credits", "accounts", "Credits a message has consumed.", &[]),
    ("get", "/api/v0/addresses/{address}/credit_history/summary", "accounts", "Totals of an address's credit history (incoming, outgoing, entries).", &[]),
    ("get", "/api/openapi.json", "misc", "This description.", &[]),
    ("get", "/version", "misc", "The node's version (as /api/v0/version).", &[]),
    ("get", "/vm/{reference}", "crn", "CRN: a program's HTTP root (started on first use); any method.", &[]),
    ("get", "/vm/{reference}/{rest}", "crn", "CRN: a path of a program's HTTP interface; any method.", &[]),
    ("get", "/about/executions/list", "crn", "CRN: running executions (aleph-vm v1 shape).", &[]),
    ("get", "/v2/about/executions/list", "crn", "CRN: running executions and allocations (aleph-vm v2 shape).", &[]),
    ("get", "/about/usage/system", "crn", "CRN: the host's resources and use.", &[]),
    ("get", "/status/check/version", "crn", "CRN: the version check aleph-vm answers.", &[]),
    ("get", "/status/config", "crn", "CRN: the public configuration (domain, payment, computing, limits this host applies).", &[]),
    ("post", "/control/allocation/notify", "crn", "CRN: a user notifies an allocation ({instance}); 503 with the reason when it cannot run.", &[]),
    ("post", "/control/allocations", "crn", "CRN: the scheduler sets the persistent allocations (signed Aleph-EIP191-V1).", &[]),
    ("post", "/control/machine/{reference}/stop", "crn", "CRN: the owner stops a program (signed operation).", &[]),
    ("post", "/control/machine/{reference}/reboot", "crn", "CRN: the owner reboots a program (signed operation).", &[]),
    ("post", "/control/machine/{reference}/erase", "crn", "CRN: the owner stops an instance and deletes its disk (signed operation).", &[]),
    ("get", "/control/machine/{reference}/logs", "crn", "CRN: the owner reads a program's logs (signed operation).", &[]),
    ("get", "/api/v0/channels/list.json", "misc", "Every channel in use.", &[]),
    ("get", "/api/v0/authorizations/granted/{address}.json", "authorizations", "Authorizations an address grants.", &["grantee", "types", "channels", "chains", "postTypes", "aggregateKeys", "pagination", "page"]),
    ("get", "/api/v0/authorizations/received/{address}.json", "authorizations", "Authorizations an address received.", &["granter", "types", "channels", "chains", "postTypes", "aggregateKeys", "pagination", "page"]),
    ("get", "/api/ws0/messages", "messages", "WebSocket: `history` past messages, then every newly processed one matching the filters.", MESSAGE_FILTERS),
    ("get", "/api/v0/programs/on/message", "programs", "Programs subscribed to messages (content.on.message).", &["sort_order"]),
    ("get", "/api/ws0/status", "misc", "WebSocket: the /metrics.json object, sent again every 10 s when it changed.", &[]),
    ("get", "/api/v0/version", "misc", "The node's version.", &[]),
    ("get", "/api/v0/info/public.json", "misc", "The node's P2P addresses.", &[]),
    ("get", "/metrics", "misc", "Prometheus metrics.", &[]),
    ("get", "/metrics.json", "misc", "Metrics as JSON.", &[]),
    ("get", "/api/v0/chains/status", "misc", "The chain bridges: each task's height, head, RPC calls and failures, the readers' positions, and the latest skipped events with their reasons.", &[]),
];

const MESSAGE_FILTERS: &[&str] = &[
    "msgType",
    "msgTypes",
    "msgStatuses",
    "addresses",
    "owners",
    "refs",
    "contentHashes",
    "contentKeys",
    "contentTypes",
    "chains",
    "channels",
    "tags",
    "hashes",
    "paymentTypes",
    "startDate",
    "endDate",
    "startBlock",
    "endBlock",
    "sortBy",
    "sortOrder",
    "contentFormat",
    "excludeContent",
    "pagination",
    "page",
    "cursor",
    "history",
];

const POST_FILTERS: &[&str] = &[
    "addresses",
    "hashes",
    "refs",
    "types",
    "tags",
    "channels",
    "startDate",
    "endDate",
    "sortBy",
    "sortOrder",
    "pagination",
    "page",
    "cursor",
];

/// The OpenAPI document.
pub(crate) fn document(version: &str) -> Value {
    let mut paths = Map::new();
    for (method, path, tag, summary, params) in OPERATIONS {
        let mut parameters: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.split('}').next()))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(
            params
                .iter()
                .map(|p| json!({"name": p, "in": "query", "required": false, "schema": {"type": "string"}})),
        );
        let media = if *tag == "pages" { "text/html" } else { "application/json" };
        let mut responses = json!({
            "200": {"description": "OK", "content": {media: {}}},
            "400": {"description": "Malformed path parameter"},
            "404": {"description": "Not found"},
            "422": {"description": "Invalid query or body"},
        });
        if *method == "post" {
            responses["202"] = json!({"description": "Accepted, pending"});
            responses["413"] = json!({"description": "Over the size limit"});
        }
        if path.ends_with("/add_file") {
            responses["402"] = json!({"description": "The STORE message's owner cannot pay for the file (text body `402: Payment Required`)"});
            responses["403"] = json!({"description": "The STORE message's signature is invalid"});
        }
        let op = json!({"tags": [tag], "summary": summary, "parameters": parameters, "responses": responses});
        let entry = paths.entry(path.to_string()).or_insert_with(|| Value::Object(Map::new()));
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "aleph-node CCN API", "version": version,
                 "description": "The Aleph.im core channel node API, as served by aleph-node."},
        "paths": paths,
    })
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
        for (method, path, ..) in super::OPERATIONS {
            assert!(seen.insert((method, path)), "{method} {path} twice");
        }
        let doc = super::document("test");
        assert_eq!(doc["paths"]["/api/v0/messages/{item_hash}"]["get"]["parameters"][0]["name"], "item_hash");
        let files = &doc["paths"]["/api/v0/addresses/{address}/files"]["get"]["parameters"];
        assert!(files.as_array().unwrap().iter().any(|p| p["name"] == "cursor"));
        assert!(doc["paths"]["/api/v0/storage/add_file"]["post"]["responses"]["402"].is_object());
    }
}
