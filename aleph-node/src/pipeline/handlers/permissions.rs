//! The node side of permissions: loads the facts and `security` aggregates the core rules need.

use aleph_core::content::Content;
use aleph_core::message::{MessageType, PendingMessage};
use aleph_core::permissions::{self as rules, MessageFacts};
use aleph_core::Chain;
use rusqlite::{OptionalExtension, Transaction};
use serde_json::Value;

use super::{Decoded, HResult};

/// The `security` aggregate of `owner` (exact owner string, as the reference looks it up).
fn security_of(tx: &Transaction<'_>, owner: &str) -> HResult<Option<Value>> {
    let text: Option<String> = tx
        .prepare_cached("SELECT content FROM aggregates WHERE owner = ?1 AND key = 'security'")?
        .query_row([owner], |r| r.get(0))
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// A processed message's envelope facts and typed content, for judging against it.
struct Stored {
    sender: String,
    chain: Chain,
    message_type: MessageType,
    channel: Option<String>,
    content: Content,
}

impl Stored {
    fn load(tx: &Transaction<'_>, item_hash: &str) -> HResult<Option<Stored>> {
        let row: Option<(String, String, String, Option<String>, String)> = tx
            .prepare_cached(
                "SELECT sender, chain, type, channel, content FROM messages WHERE item_hash = ?1",
            )?
            .query_row([item_hash], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .optional()?;
        let Some((sender, chain, message_type, channel, content)) = row else { return Ok(None) };
        let (Ok(chain), Ok(message_type), Ok(value)) =
            (chain.parse(), message_type.parse(), serde_json::from_str::<Value>(&content))
        else {
            return Ok(None);
        };
        let Ok(content) = Content::parse(message_type, &value) else { return Ok(None) };
        Ok(Some(Stored { sender, chain, message_type, channel, content }))
    }

    fn facts(&self) -> MessageFacts<'_> {
        let (post_type, aggregate_key) = match &self.content {
            Content::Post(p) => (Some(p.post_type.as_str()), None),
            Content::Aggregate(a) => (None, Some(&a.key)),
            _ => (None, None),
        };
        MessageFacts {
            sender: &self.sender,
            chain: self.chain,
            message_type: self.message_type,
            channel: self.channel.as_deref(),
            address: self.content.address(),
            post_type,
            aggregate_key,
        }
    }
}

/// Whether the message's sender may act for `content.address` (amends judged against their
/// original when it is known).
pub(super) fn check(tx: &Transaction<'_>, m: &PendingMessage, content: &Decoded) -> HResult<()> {
    let facts = MessageFacts::new(m, &content.content);
    let is_owner = rules::same_address(&m.sender, facts.address);
    if let Content::Post(post) = &content.content {
        if post.post_type == "amend" {
            if let Some(original) = super::post::ref_of(&content.raw) {
                if let Some(stored) = Stored::load(tx, &original)? {
                    let original_facts = stored.facts();
                    let security = if is_owner { None } else { security_of(tx, original_facts.address)? };
                    rules::check_amend(&facts, &original_facts, security.as_ref())?;
                    return Ok(());
                }
            }
        }
    }
    let security = if is_owner { None } else { security_of(tx, facts.address)? };
    rules::check_message(&facts, security.as_ref())?;
    Ok(())
}

/// Whether a FORGET's sender may forget `target` (judged with the target's own facts).
pub(super) fn check_forget_target(
    tx: &Transaction<'_>,
    forget: &PendingMessage,
    target: &str,
) -> HResult<()> {
    let Some(stored) = Stored::load(tx, target)? else { return Ok(()) };
    let facts = stored.facts();
    let security = if rules::same_address(&forget.sender, facts.address) {
        None
    } else {
        security_of(tx, facts.address)?
    };
    rules::check_forget_target(&forget.sender, target, &facts, security.as_ref())?;
    Ok(())
}
