//! POST content (§5.1): a free document with a user-defined type; `amend` posts replace the
//! content of an earlier post.

use serde::Serialize;
use serde_json::Value;

use super::reader::{item_hash, literal, number_lax, string, string_max, wire, Extra, Obj, R};
use super::{base, skip_none, ContentError};
use crate::chain::Chain;
use crate::item_hash::ItemHash;
use crate::message::{ItemType, MessageType};

/// The post type reserved for amendments.
pub const AMEND: &str = "amend";

/// POST content (`PostContent`, `extra = forbid`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostContent {
    /// The owner.
    pub address: String,
    /// The signed time.
    pub time: f64,
    /// The free payload (`None` when absent or null).
    #[serde(skip_serializing_if = "skip_none")]
    pub content: Option<Value>,
    /// The reference: for amends, the original post.
    #[serde(rename = "ref", skip_serializing_if = "skip_none")]
    pub reference: Option<PostRef>,
    /// The user-defined post type (`amend` is reserved).
    #[serde(rename = "type")]
    pub post_type: String,
}

/// A POST `ref`: a free string, or a copy of the referenced POST's envelope.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum PostRef {
    /// A string (for amends, the original's item hash).
    Text(String),
    /// A POST envelope, whose `item_hash` is the reference.
    Chain(Box<ChainRef>),
}

impl PostRef {
    /// The referenced string: the text itself, or the envelope's item hash.
    pub fn target(&self) -> &str {
        match self {
            PostRef::Text(s) => s,
            PostRef::Chain(c) => c.item_hash.as_str(),
        }
    }

    /// Python truthiness of the reference: an empty string is no reference.
    fn is_set(&self) -> bool {
        match self {
            PostRef::Text(s) => !s.is_empty(),
            PostRef::Chain(_) => true,
        }
    }
}

/// A POST envelope used as a reference (`ChainRef`, `extra = ignore`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainRef {
    /// The chain.
    pub chain: Chain,
    /// The channel (at most 128 characters).
    #[serde(skip_serializing_if = "skip_none")]
    pub channel: Option<String>,
    /// The referenced message's inline content.
    pub item_content: String,
    /// The referenced message's item hash.
    pub item_hash: ItemHash,
    /// The referenced message's item type.
    pub item_type: ItemType,
    /// The referenced message's sender.
    pub sender: String,
    /// The referenced message's signature.
    pub signature: String,
    /// The referenced message's time.
    pub time: f64,
    /// Always [`MessageType::Post`] (the model's literal).
    #[serde(rename = "type")]
    pub message_type: MessageType,
}

impl ChainRef {
    fn parse(v: &Value, path: &str) -> R<Self> {
        let mut o = Obj::new(v, path, Extra::Ignore)?;
        let c = ChainRef {
            chain: o.required("chain", wire::<Chain>("a chain code"))?,
            channel: o.optional("channel", string_max(128))?,
            item_content: o.required("item_content", string)?,
            item_hash: o.required("item_hash", item_hash)?,
            item_type: o.required("item_type", wire::<ItemType>("one of inline, storage, ipfs"))?,
            sender: o.required("sender", string)?,
            signature: o.required("signature", string)?,
            time: o.required("time", number_lax)?,
            message_type: {
                o.or_default("type", (), literal("POST", "\"POST\""))?;
                MessageType::Post
            },
        };
        o.finish()?;
        Ok(c)
    }
}

impl PostContent {
    /// Validates `v` against the POST schema.
    pub fn parse(v: &Value) -> Result<Self, ContentError> {
        let mut o = Obj::new(v, "", Extra::Forbid)?;
        let (address, time) = base(&mut o)?;
        let content = o.optional("content", |v, _| Ok(v.clone()))?;
        let reference = o.optional("ref", |v, p| match v {
            Value::String(s) => Ok(PostRef::Text(s.clone())),
            Value::Object(_) => ChainRef::parse(v, p).map(|c| PostRef::Chain(Box::new(c))),
            _ => Err(super::reader::wrong(p, "a string or a POST envelope object")),
        })?;
        let post_type = o.required("type", string)?;
        if post_type == AMEND && !reference.as_ref().is_some_and(PostRef::is_set) {
            return Err(ContentError::Invalid {
                path: "type".into(),
                reason: "a 'ref' is required for POST type 'amend'".into(),
            });
        }
        o.finish()?;
        Ok(PostContent { address, time, content, reference, post_type })
    }

    /// Whether this post amends another.
    pub fn is_amend(&self) -> bool {
        self.post_type == AMEND
    }

    /// The referenced string (`ref` itself, or a ref envelope's item hash).
    pub fn ref_target(&self) -> Option<&str> {
        self.reference.as_ref().map(PostRef::target)
    }

    /// For an amend, the original post's item hash; `None` for other posts and for amends whose
    /// `ref` is not shaped like an item hash (which can then never find their original).
    pub fn amend_target(&self) -> Option<ItemHash> {
        if !self.is_amend() {
            return None;
        }
        self.ref_target()?.parse().ok()
    }
}
