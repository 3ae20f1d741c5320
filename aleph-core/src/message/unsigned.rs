//! A message before signing: everything but the chain, sender and signature, which the signer
//! supplies.

use super::{ItemType, MessageType};
use crate::item_hash::ItemHash;

/// A message ready to be signed.
#[derive(Debug, Clone, PartialEq)]
pub struct UnsignedMessage {
    /// The message type.
    pub message_type: MessageType,
    /// Where the content lives.
    pub item_type: ItemType,
    /// The exact content string, for inline messages.
    pub item_content: Option<String>,
    /// The content's hash or CID.
    pub item_hash: ItemHash,
    /// Envelope time in float seconds.
    pub time: f64,
    /// Application channel.
    pub channel: Option<String>,
}

impl UnsignedMessage {
    /// An inline message whose content is `item_content`, hashed here exactly as given.
    pub fn inline(
        message_type: MessageType,
        item_content: String,
        time: f64,
        channel: Option<String>,
    ) -> Self {
        UnsignedMessage {
            message_type,
            item_type: ItemType::Inline,
            item_hash: ItemHash::sha256(item_content.as_bytes()),
            item_content: Some(item_content),
            time,
            channel,
        }
    }

    /// A message whose content is stored out of band under `item_hash` (`storage` for sha256,
    /// `ipfs` for CIDs).
    pub fn stored(
        message_type: MessageType,
        item_hash: ItemHash,
        time: f64,
        channel: Option<String>,
    ) -> Self {
        UnsignedMessage {
            message_type,
            item_type: item_hash.item_type(),
            item_content: None,
            item_hash,
            time,
            channel,
        }
    }
}
