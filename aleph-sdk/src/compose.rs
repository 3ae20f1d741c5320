//! Pure message construction: [`MessageBuilder`] turns what a caller wants to publish into the
//! exact content document, validates it against the network's schema, and signs it. Nothing here
//! does I/O; [`crate::AlephClient::publish`] submits (and uploads content too large to inline).
//!
//! The content is written as the official Python SDK writes it: compact JSON, the model's field
//! order (`address`, `time`, then the type's fields), `address` = the owner (the signer unless
//! acting [on behalf of](MessageBuilder::on_behalf_of) another address), and inlined when under
//! [`MAX_INLINE_SIZE`] characters.
//!
//! ```
//! use aleph_sdk::{MessageBuilder, Composed, core::{Signer, chain::ethereum::EthereumSigner}};
//! use serde_json::json;
//!
//! let signer = EthereumSigner::from_hex(&"ac".repeat(32))?;
//! let pending = MessageBuilder::post("chat", json!({"body": "hello"}))
//!     .channel("TEST")
//!     .time(1_700_000_000.5)
//!     .build(&signer)?;
//! assert_eq!(pending.sender, signer.address());
//! aleph_sdk::core::verify_signature(&pending.signed_fields()).unwrap();
//! // A signed message serializes to a file and back, byte-exact.
//! let text = serde_json::to_string(&pending)?;
//! let back: aleph_sdk::core::PendingMessage = serde_json::from_str(&text)?;
//! assert_eq!(serde_json::to_string(&back)?, text);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;

use aleph_core::content::{Content, SECURITY_KEY};
use aleph_core::{ItemHash, ItemType, MessageType, PendingMessage, Signer, UnsignedMessage};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::error::{ClientError, Result};
use crate::types::Authorization;

/// Content of at least this many characters is not inlined but uploaded first (the Python SDK's
/// `MAX_INLINE_SIZE`).
pub const MAX_INLINE_SIZE: usize = 50_000;

/// The channel messages go to when none is set (the Python SDK's `DEFAULT_CHANNEL`).
pub const DEFAULT_CHANNEL: &str = "ALEPH-CLOUDSOLUTIONS";

/// The official Python runtime for programs (Debian 12).
pub const DEFAULT_RUNTIME: &str = "63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696";

/// The official Debian 12 root filesystem for QEMU instances.
pub const DEBIAN_12_QEMU_ROOTFS: &str = "b6ff5c3a8205d1ca4c7c3369300eeafff498b558f71b851aa2114afd0a532717";

/// Where content that is not inlined is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageEngine {
    /// The node-native sha256-addressed store (default).
    #[default]
    Storage,
    /// IPFS.
    Ipfs,
}

impl StorageEngine {
    /// The item type of content stored there.
    pub fn item_type(self) -> ItemType {
        match self {
            StorageEngine::Storage => ItemType::Storage,
            StorageEngine::Ipfs => ItemType::Ipfs,
        }
    }
}

/// The current time in float seconds.
pub fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// Builds a message of any type, purely. See the [module docs](self).
#[derive(Debug, Clone)]
#[must_use]
pub struct MessageBuilder {
    message_type: MessageType,
    fields: Map<String, Value>,
    address: Option<String>,
    time: Option<f64>,
    channel: Option<String>,
    allow_inline: bool,
    engine: StorageEngine,
    error: Option<String>,
}

/// What [`MessageBuilder::compose`] gives: a message ready to sign, or content to upload first.
#[derive(Debug, Clone, PartialEq)]
pub enum Composed {
    /// Inline content: sign it.
    Inline(UnsignedMessage),
    /// Content too large to inline (or inlining disabled): upload it, then
    /// [`ContentUpload::into_unsigned`] with the hash the node returns.
    Upload(ContentUpload),
}

/// Content that must be uploaded before its message can be signed.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentUpload {
    /// The message type.
    pub message_type: MessageType,
    /// The content document (compact JSON).
    pub content_json: String,
    /// Where to upload it.
    pub engine: StorageEngine,
    /// The envelope time.
    pub time: f64,
    /// The channel.
    pub channel: Option<String>,
}

impl ContentUpload {
    /// The content as a JSON value (the body of `storage/add_json` / `ipfs/add_json`).
    pub fn content_value(&self) -> Result<Value> {
        Ok(serde_json::from_str(&self.content_json)?)
    }

    /// The message referring to the uploaded content by the hash the node returned.
    pub fn into_unsigned(self, item_hash: ItemHash) -> UnsignedMessage {
        UnsignedMessage::stored(self.message_type, item_hash, self.time, self.channel)
    }
}

impl MessageBuilder {
    fn new(message_type: MessageType) -> Self {
        MessageBuilder {
            message_type,
            fields: Map::new(),
            address: None,
            time: None,
            channel: None,
            allow_inline: true,
            engine: StorageEngine::Storage,
            error: None,
        }
    }

    fn set(mut self, key: &str, value: impl Serialize) -> Self {
        match serde_json::to_value(value) {
            Ok(v) => {
                self.fields.insert(key.to_owned(), v);
            }
            Err(e) => self.error = Some(format!("{key}: {e}")),
        }
        self
    }

    /// A POST of `post_type` carrying `content` (any serializable value).
    pub fn post(post_type: impl Into<String>, content: impl Serialize) -> Self {
        Self::new(MessageType::Post).set("type", post_type.into()).set("content", content)
    }

    /// A POST amending `original`: its content replaces the original's.
    pub fn amend(original: &ItemHash, content: impl Serialize) -> Self {
        Self::new(MessageType::Post)
            .set("type", "amend")
            .set("ref", original.as_str())
            .set("content", content)
    }

    /// An AGGREGATE element: `content` (an object) is merged into the owner's `key` document.
    pub fn aggregate(key: impl Into<String>, content: impl Serialize) -> Self {
        let b = Self::new(MessageType::Aggregate).set("key", key.into()).set("content", content);
        match b.fields.get("content") {
            Some(Value::Object(_)) | None => b,
            Some(_) => MessageBuilder { error: Some("aggregate content must be a JSON object".into()), ..b },
        }
    }

    /// The owner's `security` aggregate holding exactly the delegations `list` (an AGGREGATE
    /// whose `authorizations` replace the previous ones; empty revokes them all).
    pub fn authorizations(list: &[Authorization]) -> Self {
        Self::aggregate(SECURITY_KEY, json!({ "authorizations": list }))
    }

    /// A STORE of the file `file_hash` (sha256 for native storage, a CID for IPFS).
    pub fn store(file_hash: &ItemHash) -> Self {
        Self::new(MessageType::Store)
            .set("item_type", file_hash.item_type().as_str())
            .set("item_hash", file_hash.as_str())
    }

    /// A FORGET of messages.
    pub fn forget(hashes: impl IntoIterator<Item = ItemHash>) -> Self {
        let hashes: Vec<String> = hashes.into_iter().map(|h| h.to_string()).collect();
        Self::new(MessageType::Forget).set("hashes", hashes)
    }

    /// A FORGET of whole aggregates of the owner (by key).
    pub fn forget_aggregates(keys: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let keys: Vec<String> = keys.into_iter().map(Into::into).collect();
        Self::new(MessageType::Forget).set("hashes", Vec::<String>::new()).set("aggregates", keys)
    }

    /// A PROGRAM.
    pub fn program(spec: &ProgramSpec) -> Self {
        let mut b = Self::new(MessageType::Program);
        b.fields = spec.fields();
        b
    }

    /// An INSTANCE.
    pub fn instance(spec: &InstanceSpec) -> Self {
        let mut b = Self::new(MessageType::Instance);
        b.fields = spec.fields();
        b
    }

    /// A message of any type with the given content object; `address` and `time` are filled in
    /// when absent.
    pub fn raw(message_type: MessageType, content: Value) -> Self {
        let mut b = Self::new(message_type);
        match content {
            Value::Object(mut m) => {
                if let Some(Value::String(a)) = m.remove("address") {
                    b.address = Some(a);
                }
                if let Some(t) = m.remove("time").and_then(|t| t.as_f64()) {
                    b.time = Some(t);
                }
                b.fields = m;
            }
            _ => b.error = Some("content must be a JSON object".into()),
        }
        b
    }

    /// Sets any content field (an escape hatch for fields without a method).
    pub fn field(self, key: &str, value: impl Serialize) -> Self {
        self.set(key, value)
    }

    /// The application channel (default [`DEFAULT_CHANNEL`]).
    pub fn channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// Acts on behalf of `owner` (`content.address`): the signer must be authorized in the
    /// owner's `security` aggregate.
    pub fn on_behalf_of(mut self, owner: impl Into<String>) -> Self {
        self.address = Some(owner.into());
        self
    }

    /// The time (content and envelope), in float seconds; default: now.
    pub fn time(mut self, time: f64) -> Self {
        self.time = Some(time);
        self
    }

    /// `ref`: for POSTs a free reference, for STOREs a previous STORE hash or a name.
    pub fn reference(self, reference: impl Into<String>) -> Self {
        self.set("ref", reference.into())
    }

    /// FORGET: the reason.
    pub fn reason(self, reason: impl Into<String>) -> Self {
        self.set("reason", reason.into())
    }

    /// STORE: the MIME type.
    pub fn content_type(self, mime: impl Into<String>) -> Self {
        self.set("content_type", mime.into())
    }

    /// STORE: the file size in bytes.
    pub fn size(self, size: u64) -> Self {
        self.set("size", size)
    }

    /// STORE, PROGRAM, INSTANCE: free-form metadata.
    pub fn metadata(self, metadata: impl Serialize) -> Self {
        self.set("metadata", metadata)
    }

    /// STORE, PROGRAM, INSTANCE: the payment (`{"type": "hold"|"credit"|"superfluid", …}`).
    pub fn payment(self, payment: impl Serialize) -> Self {
        self.set("payment", payment)
    }

    /// Whether content may be inlined (default true); when false it is always uploaded.
    pub fn inline(mut self, allow: bool) -> Self {
        self.allow_inline = allow;
        self
    }

    /// Where content that is not inlined goes (default native storage).
    pub fn storage_engine(mut self, engine: StorageEngine) -> Self {
        self.engine = engine;
        self
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// The content document for a message signed by `signer_address`, validated against the
    /// type's schema, as compact JSON in model field order.
    pub fn content_json(&self, signer_address: &str) -> Result<String> {
        Ok(self.content_at(signer_address, self.time.unwrap_or_else(now))?.0)
    }

    fn content_at(&self, signer_address: &str, time: f64) -> Result<(String, f64)> {
        if let Some(e) = &self.error {
            return Err(ClientError::InvalidArgument(e.clone()));
        }
        let mut doc = Map::new();
        doc.insert(
            "address".into(),
            Value::String(self.address.clone().unwrap_or_else(|| signer_address.to_owned())),
        );
        doc.insert("time".into(), json!(time));
        for (k, v) in &self.fields {
            doc.insert(k.clone(), v.clone());
        }
        let content = Content::parse(self.message_type, &Value::Object(doc))?;
        Ok((content.to_json(), time))
    }

    /// Composes the message for `signer_address`: inline content ready to sign, or content to
    /// upload first.
    pub fn compose(&self, signer_address: &str) -> Result<Composed> {
        let (content_json, time) = self.content_at(signer_address, self.time.unwrap_or_else(now))?;
        let channel = Some(self.channel.clone().unwrap_or_else(|| DEFAULT_CHANNEL.to_owned()));
        if self.allow_inline && content_json.chars().count() < MAX_INLINE_SIZE {
            Ok(Composed::Inline(UnsignedMessage::inline(self.message_type, content_json, time, channel)))
        } else {
            Ok(Composed::Upload(ContentUpload {
                message_type: self.message_type,
                content_json,
                engine: self.engine,
                time,
                channel,
            }))
        }
    }

    /// Composes and signs an inline message. Content that must be uploaded first is an error
    /// here: use [`crate::AlephClient::publish`], or [`MessageBuilder::compose`] then
    /// [`MessageBuilder::build_stored`].
    pub fn build(&self, signer: &impl Signer) -> Result<PendingMessage> {
        match self.compose(signer.address())? {
            Composed::Inline(unsigned) => Ok(signer.sign(unsigned)?),
            Composed::Upload(u) => Err(ClientError::InvalidArgument(format!(
                "the content is {} characters (inline limit {MAX_INLINE_SIZE}, or inlining disabled): upload it \
                 first (AlephClient::publish does)",
                u.content_json.chars().count()
            ))),
        }
    }

    /// Signs the message of content already uploaded under `item_hash`.
    pub fn build_stored(
        upload: ContentUpload,
        item_hash: ItemHash,
        signer: &impl Signer,
    ) -> Result<PendingMessage> {
        Ok(signer.sign(upload.into_unsigned(item_hash))?)
    }
}

/// The parameters of a PROGRAM (a function VM), with the Python SDK's defaults.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ProgramSpec {
    /// The STORE message holding the code (its item hash).
    pub code_ref: ItemHash,
    /// `module:app` for ASGI, or the executable to run.
    pub entrypoint: String,
    /// `zip` (default), `squashfs` or `plain`.
    pub encoding: String,
    /// The runtime's STORE message (default [`DEFAULT_RUNTIME`]).
    pub runtime: String,
    /// The runtime's comment.
    pub runtime_comment: String,
    /// Memory in MiB (default 256).
    pub memory_mib: u64,
    /// Virtual CPUs (default 1).
    pub vcpus: u64,
    /// Seconds a request may take (default 30).
    pub timeout_seconds: f64,
    /// Keep the VM running (default false: on demand).
    pub persistent: bool,
    /// Whether later messages may replace this one (default false).
    pub allow_amend: bool,
    /// Internet access (default true).
    pub internet: bool,
    /// Access to the Aleph API (default true).
    pub aleph_api: bool,
    /// Environment variables.
    pub variables: BTreeMap<String, String>,
    /// Volumes (JSON objects as the schema defines them).
    pub volumes: Vec<Value>,
    /// Message subscriptions that trigger the program.
    pub subscriptions: Vec<Value>,
    /// Free-form metadata.
    pub metadata: Option<Value>,
    /// Payment.
    pub payment: Option<Value>,
}

impl ProgramSpec {
    /// A program running `entrypoint` from the code in the STORE `code_ref`.
    pub fn new(code_ref: ItemHash, entrypoint: impl Into<String>) -> Self {
        ProgramSpec {
            code_ref,
            entrypoint: entrypoint.into(),
            encoding: "zip".into(),
            runtime: DEFAULT_RUNTIME.into(),
            runtime_comment: "Official aleph.im runtime".into(),
            memory_mib: 256,
            vcpus: 1,
            timeout_seconds: 30.0,
            persistent: false,
            allow_amend: false,
            internet: true,
            aleph_api: true,
            variables: BTreeMap::new(),
            volumes: Vec::new(),
            subscriptions: Vec::new(),
            metadata: None,
            payment: None,
        }
    }

    fn fields(&self) -> Map<String, Value> {
        let mut on = json!({"http": true, "persistent": self.persistent});
        if !self.subscriptions.is_empty() {
            on["message"] = Value::Array(self.subscriptions.clone());
        }
        let mut m = Map::new();
        m.insert("type".into(), json!("vm-function"));
        m.insert("allow_amend".into(), json!(self.allow_amend));
        m.insert(
            "code".into(),
            json!({"encoding": self.encoding, "entrypoint": self.entrypoint, "ref": self.code_ref.as_str(), "use_latest": true}),
        );
        m.insert("on".into(), on);
        m.insert(
            "environment".into(),
            json!({"reproducible": false, "internet": self.internet, "aleph_api": self.aleph_api, "shared_cache": false}),
        );
        m.insert(
            "resources".into(),
            json!({"vcpus": self.vcpus, "memory": self.memory_mib, "seconds": self.timeout_seconds}),
        );
        m.insert(
            "runtime".into(),
            json!({"ref": self.runtime, "use_latest": true, "comment": self.runtime_comment}),
        );
        m.insert("volumes".into(), Value::Array(self.volumes.clone()));
        if !self.variables.is_empty() {
            m.insert("variables".into(), json!(self.variables));
        }
        if let Some(md) = &self.metadata {
            m.insert("metadata".into(), md.clone());
        }
        if let Some(p) = &self.payment {
            m.insert("payment".into(), p.clone());
        }
        m
    }
}

/// The parameters of an INSTANCE (a persistent VM), with the Python SDK's defaults.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct InstanceSpec {
    /// The root filesystem image's STORE message (default [`DEBIAN_12_QEMU_ROOTFS`]).
    pub rootfs: String,
    /// Root filesystem size in MiB (default 20 480).
    pub rootfs_size_mib: u64,
    /// Memory in MiB (default 2 048).
    pub memory_mib: u64,
    /// Virtual CPUs (default 1).
    pub vcpus: u64,
    /// `qemu` (default) or `firecracker`.
    pub hypervisor: String,
    /// Internet access (default true).
    pub internet: bool,
    /// Access to the Aleph API (default true).
    pub aleph_api: bool,
    /// Whether later messages may replace this one.
    pub allow_amend: bool,
    /// SSH public keys.
    pub ssh_keys: Vec<String>,
    /// Environment variables.
    pub variables: BTreeMap<String, String>,
    /// Extra volumes.
    pub volumes: Vec<Value>,
    /// Free-form metadata.
    pub metadata: Option<Value>,
    /// Payment (default `{"chain": "ETH", "type": "hold"}`).
    pub payment: Value,
    /// Host requirements (CRN node hash, GPU…).
    pub requirements: Option<Value>,
}

impl Default for InstanceSpec {
    fn default() -> Self {
        InstanceSpec {
            rootfs: DEBIAN_12_QEMU_ROOTFS.into(),
            rootfs_size_mib: 20_480,
            memory_mib: 2_048,
            vcpus: 1,
            hypervisor: "qemu".into(),
            internet: true,
            aleph_api: true,
            allow_amend: false,
            ssh_keys: Vec::new(),
            variables: BTreeMap::new(),
            volumes: Vec::new(),
            metadata: None,
            payment: json!({"chain": "ETH", "type": "hold"}),
            requirements: None,
        }
    }
}

impl InstanceSpec {
    /// The defaults: Debian 12 on QEMU, 1 vCPU, 2 GiB, 20 GiB disk, paid by holding tokens.
    pub fn new() -> Self {
        Self::default()
    }

    fn fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("allow_amend".into(), json!(self.allow_amend));
        m.insert(
            "environment".into(),
            json!({"internet": self.internet, "aleph_api": self.aleph_api, "hypervisor": self.hypervisor,
                   "reproducible": false, "shared_cache": false}),
        );
        m.insert("resources".into(), json!({"vcpus": self.vcpus, "memory": self.memory_mib, "seconds": 30}));
        m.insert(
            "rootfs".into(),
            json!({"parent": {"ref": self.rootfs, "use_latest": true}, "persistence": "host", "size_mib": self.rootfs_size_mib}),
        );
        m.insert("volumes".into(), Value::Array(self.volumes.clone()));
        m.insert("payment".into(), self.payment.clone());
        if !self.ssh_keys.is_empty() {
            m.insert("authorized_keys".into(), json!(self.ssh_keys));
        }
        if !self.variables.is_empty() {
            m.insert("variables".into(), json!(self.variables));
        }
        if let Some(md) = &self.metadata {
            m.insert("metadata".into(), md.clone());
        }
        if let Some(r) = &self.requirements {
            m.insert("requirements".into(), r.clone());
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aleph_core::chain::ethereum::EthereumSigner;

    fn signer() -> EthereumSigner {
        EthereumSigner::from_hex(&"ac".repeat(32)).unwrap()
    }

    #[test]
    fn post_content_is_compact_in_python_model_order() {
        let s = signer();
        let json =
            MessageBuilder::post("chat", json!({"body": "hi"})).time(1.5).content_json(s.address()).unwrap();
        assert_eq!(
            json,
            format!(r#"{{"address":"{}","time":1.5,"content":{{"body":"hi"}},"type":"chat"}}"#, s.address())
        );
        let amend =
            MessageBuilder::amend(&ItemHash::sha256(b"o"), json!(1)).time(2.0).content_json("0xO").unwrap();
        assert!(amend.contains(r#""ref":""#) && amend.contains(r#""type":"amend""#), "{amend}");
    }

    #[test]
    fn every_type_builds_validates_and_verifies() {
        let s = signer();
        let h = ItemHash::sha256(b"file");
        let builders = [
            MessageBuilder::post("t", json!({"a": 1})),
            MessageBuilder::aggregate("profile", json!({"name": "x"})),
            MessageBuilder::store(&h).reference("my-file").content_type("text/plain").size(4),
            MessageBuilder::forget([h.clone()]).reason("bye"),
            MessageBuilder::program(&ProgramSpec::new(h.clone(), "main:app")),
            MessageBuilder::instance(&InstanceSpec::new()),
            MessageBuilder::raw(MessageType::Post, json!({"type": "x", "time": 3.0})),
        ];
        for b in &builders {
            let m =
                b.clone().channel("TEST").build(&s).unwrap_or_else(|e| panic!("{:?}: {e}", b.message_type()));
            aleph_core::verify_signature(&m.signed_fields()).unwrap();
            assert_eq!(m.channel.as_deref(), Some("TEST"));
            let content: Value = serde_json::from_str(m.item_content.as_deref().unwrap()).unwrap();
            assert_eq!(content["address"], s.address());
            Content::parse(b.message_type(), &content).unwrap();
        }
    }

    #[test]
    fn delegation_sets_the_owner_not_the_sender() {
        let m = MessageBuilder::post("t", json!(null)).on_behalf_of("0xOwner").build(&signer()).unwrap();
        assert_eq!(m.sender, signer().address());
        assert!(m.item_content.unwrap().starts_with(r#"{"address":"0xOwner""#));
    }

    #[test]
    fn default_channel_and_time() {
        let m = MessageBuilder::post("t", 1).build(&signer()).unwrap();
        assert_eq!(m.channel.as_deref(), Some(DEFAULT_CHANNEL));
        assert!(m.time > 1.7e9);
        let content: Value = serde_json::from_str(m.item_content.as_deref().unwrap()).unwrap();
        assert_eq!(content["time"].as_f64(), Some(m.time));
    }

    #[test]
    fn large_content_must_be_uploaded() {
        let big = "x".repeat(MAX_INLINE_SIZE);
        let b = MessageBuilder::post("t", big);
        assert!(b.build(&signer()).is_err());
        match b.compose(signer().address()).unwrap() {
            Composed::Upload(u) => {
                assert!(u.content_value().unwrap().is_object());
                let h = ItemHash::sha256(u.content_json.as_bytes());
                let m = MessageBuilder::build_stored(u, h.clone(), &signer()).unwrap();
                assert_eq!(m.item_type, ItemType::Storage);
                assert_eq!(m.item_hash, h);
                assert!(m.item_content.is_none());
            }
            Composed::Inline(_) => panic!("should not inline"),
        }
        // Just under the limit stays inline; inlining can be turned off.
        assert!(matches!(MessageBuilder::post("t", 1).compose("0xA").unwrap(), Composed::Inline(_)));
        assert!(matches!(
            MessageBuilder::post("t", 1).inline(false).compose("0xA").unwrap(),
            Composed::Upload(_)
        ));
    }

    #[test]
    fn invalid_content_is_refused_before_signing() {
        assert!(MessageBuilder::aggregate("k", json!([1])).build(&signer()).is_err());
        assert!(MessageBuilder::raw(MessageType::Post, json!("x")).build(&signer()).is_err());
        // POST content forbids unknown keys.
        let e = MessageBuilder::post("t", 1).field("bogus", 1).build(&signer()).unwrap_err();
        assert!(matches!(e, ClientError::Content(_)), "{e}");
    }

    #[test]
    fn signed_messages_round_trip_byte_exact() {
        let m = MessageBuilder::post("t", json!({"é": 0.1})).time(1735689600.125).build(&signer()).unwrap();
        let text = serde_json::to_string(&m).unwrap();
        let back = PendingMessage::from_json(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
    }
}
