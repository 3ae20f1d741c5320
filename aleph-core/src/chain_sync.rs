//! The chain sync formats (NETWORK.md §4.1–4.2): the payload a sync contract event carries, the
//! archive of messages a packing node publishes, and the unsigned message built from a
//! smart-contract event (MESSAGES.md §4.10). Pure data: reading chains is the node's job.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::chain::pycompat::push_json_string;
use crate::ItemHash;

/// `protocol` of a payload whose messages are inline (`{"messages": [...]}`).
pub const ON_CHAIN_SYNC: &str = "aleph";
/// `protocol` of a payload that names an archive file (its `content` is the file's hash).
pub const OFF_CHAIN_SYNC: &str = "aleph-offchain";
/// `protocol` of a transaction built from a contract event (one unsigned message).
pub const SMART_CONTRACT: &str = "smart-contract";

/// Why a sync payload was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncFormatError {
    /// Not JSON, or not the `{"protocol","version","content"}` object.
    #[error("not a sync payload: {0}")]
    NotAPayload(String),
    /// A protocol/version pair the network does not define.
    #[error("unknown sync protocol {protocol:?} v{version}")]
    UnknownProtocol {
        /// The `protocol` given.
        protocol: String,
        /// The `version` given.
        version: u64,
    },
    /// The content does not fit the protocol.
    #[error("bad sync content: {0}")]
    BadContent(String),
}

/// What a sync payload holds.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncPayload {
    /// `aleph` v1: the messages themselves (each an envelope to validate and verify).
    Messages(Vec<Value>),
    /// `aleph-offchain` v1: the hash of an archive file holding an `aleph` payload.
    Archive(String),
}

impl SyncPayload {
    /// Reads the JSON text a `SyncEvent` carries (or an archive file's bytes).
    pub fn parse(text: &[u8]) -> Result<Self, SyncFormatError> {
        let value: Value =
            serde_json::from_slice(text).map_err(|e| SyncFormatError::NotAPayload(e.to_string()))?;
        Self::from_value(&value)
    }

    /// Reads a payload already parsed as JSON.
    pub fn from_value(value: &Value) -> Result<Self, SyncFormatError> {
        let obj = value.as_object().ok_or_else(|| SyncFormatError::NotAPayload("not an object".into()))?;
        let protocol = obj
            .get("protocol")
            .and_then(Value::as_str)
            .ok_or_else(|| SyncFormatError::NotAPayload("no protocol".into()))?;
        let version = obj
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| SyncFormatError::NotAPayload("no version".into()))?;
        let content = obj.get("content").ok_or_else(|| SyncFormatError::NotAPayload("no content".into()))?;
        match (protocol, version) {
            (ON_CHAIN_SYNC, 1) => {
                let messages = content
                    .get("messages")
                    .and_then(Value::as_array)
                    .ok_or_else(|| SyncFormatError::BadContent("content.messages is not a list".into()))?;
                Ok(SyncPayload::Messages(messages.clone()))
            }
            (OFF_CHAIN_SYNC, 1) => {
                let hash = content
                    .as_str()
                    .filter(|h| !h.is_empty())
                    .ok_or_else(|| SyncFormatError::BadContent("content is not a file hash".into()))?;
                Ok(SyncPayload::Archive(hash.to_owned()))
            }
            _ => Err(SyncFormatError::UnknownProtocol { protocol: protocol.to_owned(), version }),
        }
    }

    /// The protocol name, as recorded with the transaction.
    pub fn protocol(&self) -> &'static str {
        match self {
            SyncPayload::Messages(_) => ON_CHAIN_SYNC,
            SyncPayload::Archive(_) => OFF_CHAIN_SYNC,
        }
    }
}

/// A message as a sync archive carries it (`OnChainMessage`: exactly these fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnChainMessage {
    /// The sender.
    pub sender: String,
    /// The chain label.
    pub chain: String,
    /// The signature string.
    pub signature: Option<String>,
    /// The message type (`POST`, …).
    #[serde(rename = "type")]
    pub message_type: String,
    /// The content, for inline messages.
    pub item_content: Option<String>,
    /// `inline`, `storage` or `ipfs`.
    pub item_type: String,
    /// The item hash.
    pub item_hash: String,
    /// The envelope time, float seconds.
    pub time: f64,
    /// The channel.
    pub channel: Option<String>,
}

/// The archive a packing node publishes: an `aleph` v1 payload of `messages`, as JSON text.
pub fn archive_json(messages: &[OnChainMessage]) -> String {
    json!({"protocol": ON_CHAIN_SYNC, "version": 1, "content": {"messages": messages}}).to_string()
}

/// The payload a packing node emits for an archive stored under `hash`.
pub fn archive_reference_json(hash: &str) -> String {
    json!({"protocol": OFF_CHAIN_SYNC, "version": 1, "content": hash}).to_string()
}

/// A contract's message event: who called, what type, what content, when.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractMessage<'a> {
    /// The chain label the transaction is on.
    pub chain: &'a str,
    /// The event's address: the caller of the sync contract, the message's sender.
    pub address: &'a str,
    /// The event's type (`POST`, `AGGREGATE`, …, or the legacy `STORE_IPFS`).
    pub msgtype: &'a str,
    /// The event's content: the message content JSON, or a CID for `STORE_IPFS`.
    pub msgcontent: &'a str,
    /// The event's timestamp, seconds.
    pub event_time: f64,
    /// The transaction's time, seconds (the envelope's `time`).
    pub tx_time: f64,
}

impl ContractMessage<'_> {
    /// The unsigned pending envelope built from the event (NETWORK.md §4.2): inline, no
    /// signature, `item_hash` the sha256 of `item_content`. A `STORE_IPFS` event becomes a
    /// STORE of the ipfs item it names, its content written as Python's `json.dumps` writes it.
    pub fn envelope(&self) -> Value {
        let (message_type, item_content) = if self.msgtype == "STORE_IPFS" {
            let mut text = String::from("{\"address\": ");
            push_json_string(&mut text, self.address);
            text.push_str(", \"time\": ");
            text.push_str(&py_float_repr(self.event_time));
            text.push_str(", \"item_type\": \"ipfs\", \"item_hash\": ");
            push_json_string(&mut text, self.msgcontent);
            text.push('}');
            ("STORE".to_owned(), text)
        } else {
            (self.msgtype.to_owned(), self.msgcontent.to_owned())
        };
        let mut m = Map::new();
        m.insert("sender".into(), Value::String(self.address.to_owned()));
        m.insert("chain".into(), Value::String(self.chain.to_owned()));
        m.insert("signature".into(), Value::Null);
        m.insert("item_type".into(), Value::String("inline".into()));
        m.insert("time".into(), json!(self.tx_time));
        m.insert("item_hash".into(), Value::String(ItemHash::sha256(item_content.as_bytes()).to_string()));
        m.insert("type".into(), Value::String(message_type));
        m.insert("item_content".into(), Value::String(item_content));
        Value::Object(m)
    }
}

/// Python's `repr` of a float for the values timestamps take (finite, below 1e16): the shortest
/// digits that round-trip, with `.0` on integral values.
fn py_float_repr(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_parse_by_protocol_and_version() {
        let inline = br#"{"protocol":"aleph","version":1,"content":{"messages":[{"a":1}]}}"#;
        assert_eq!(SyncPayload::parse(inline).unwrap(), SyncPayload::Messages(vec![json!({"a":1})]));
        let off = br#"{"protocol":"aleph-offchain","version":1,"content":"QmX"}"#;
        assert_eq!(SyncPayload::parse(off).unwrap(), SyncPayload::Archive("QmX".into()));
        assert!(matches!(
            SyncPayload::parse(br#"{"protocol":"aleph","version":2,"content":{}}"#),
            Err(SyncFormatError::UnknownProtocol { version: 2, .. })
        ));
        assert!(matches!(SyncPayload::parse(b"not json"), Err(SyncFormatError::NotAPayload(_))));
        assert!(matches!(
            SyncPayload::parse(br#"{"protocol":"aleph","version":1,"content":{"messages":3}}"#),
            Err(SyncFormatError::BadContent(_))
        ));
        assert!(matches!(
            SyncPayload::parse(br#"{"protocol":"aleph-offchain","version":1,"content":""}"#),
            Err(SyncFormatError::BadContent(_))
        ));
    }

    #[test]
    fn an_archive_reads_back_as_its_messages() {
        let m = OnChainMessage {
            sender: "0xA".into(),
            chain: "ETH".into(),
            signature: Some("0x00".into()),
            message_type: "POST".into(),
            item_content: Some("{}".into()),
            item_type: "inline".into(),
            item_hash: "h".into(),
            time: 1.5,
            channel: None,
        };
        let SyncPayload::Messages(back) =
            SyncPayload::parse(archive_json(std::slice::from_ref(&m)).as_bytes()).unwrap()
        else {
            panic!("not messages")
        };
        let read: OnChainMessage = serde_json::from_value(back[0].clone()).unwrap();
        assert_eq!(read, m);
        let r = archive_reference_json("QmY");
        assert_eq!(SyncPayload::parse(r.as_bytes()).unwrap(), SyncPayload::Archive("QmY".into()));
    }

    #[test]
    fn contract_events_become_unsigned_inline_messages() {
        let post = ContractMessage {
            chain: "ETH",
            address: "0xabc",
            msgtype: "POST",
            msgcontent: r#"{"type":"t","address":"0xabc","time":1,"content":{}}"#,
            event_time: 1700000000.0,
            tx_time: 1700000000.0,
        }
        .envelope();
        assert_eq!(post["signature"], Value::Null);
        assert_eq!(post["type"], "POST");
        assert_eq!(
            post["item_hash"].as_str().unwrap(),
            ItemHash::sha256(post["item_content"].as_str().unwrap().as_bytes()).to_string()
        );
        let store = ContractMessage {
            chain: "TEZOS",
            address: "KT1x",
            msgtype: "STORE_IPFS",
            msgcontent: "QmCid",
            event_time: 1700000000.0,
            tx_time: 1700000000.5,
        }
        .envelope();
        assert_eq!(store["type"], "STORE");
        // json.dumps with the default separators, `time` as Python's float repr.
        assert_eq!(
            store["item_content"],
            r#"{"address": "KT1x", "time": 1700000000.0, "item_type": "ipfs", "item_hash": "QmCid"}"#
        );
        assert_eq!(store["time"], json!(1700000000.5));
        assert_eq!(py_float_repr(1.25), "1.25");
        assert_eq!(py_float_repr(1663944079.029), "1663944079.029");
    }
}
