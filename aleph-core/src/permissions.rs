//! Who may act for whom (MESSAGES.md §6.7): one pure evaluation shared by the node, which calls
//! it with the owner's `security` aggregate it looked up, and by the SDK, which can predict a
//! node's verdict before sending.
//!
//! The rule: a sender may always act for its own address (compared case-insensitively). Anyone
//! else needs an entry of the owner's `security` aggregate (`content.authorizations`) naming the
//! sender (case-insensitively) whose filters all admit the message; the first matching entry
//! wins. Filters are exclusive ("only these"), and absent or empty means no restriction:
//!
//! * `chain`: the envelope chain code, compared exactly;
//! * `channels`: the envelope channel; a null channel matches only a list holding `null`;
//! * `types`: the envelope type;
//! * `post_types`: the POST's `content.type` (only applied to POSTs);
//! * `aggregate_keys`: the AGGREGATE's `content.key` (only applied to AGGREGATEs; an object key
//!   never matches a listed string).
//!
//! [`check_message`] applies the rule to a new message; [`check_amend`] to a POST amend whose
//! original is known (evaluated against the original); [`check_forget_target`] to each target of
//! a FORGET (evaluated against the target and its owner); [`check_replaces_owner`] and
//! [`check_file_tag_owner`] are the ownership checks of VM updates and STORE file tags.
//!
//! # Deviations from the reference node
//!
//! * **A delegate can never write the owner's `security` aggregate.** An AGGREGATE with the plain
//!   key `security` whose sender is not its `content.address` is denied whatever the
//!   authorizations say, and a FORGET by anyone but the owner cannot target an element of a
//!   `security` aggregate (forgetting an element can restore an older, broader grant). pyaleph
//!   lets any delegate authorized for AGGREGATE without an `aggregate_keys` filter rewrite the
//!   owner's delegations, which the protocol documentation says cannot happen (§6.7).
//! * **A `replaces` must target a program of the same owner.** [`check_replaces_owner`] refuses
//!   a PROGRAM/INSTANCE whose `content.address` differs (case-insensitively) from the replaced
//!   program's owner; pyaleph does not check it (§6.11), so anyone can take over a program that
//!   allows amends.
//! * A malformed `security` aggregate (`authorizations` not a list, an entry not an object, a
//!   non-string `address`, a filter that is neither absent nor a list) denies the message with
//!   [`PermissionError::MalformedSecurityAggregate`] (code 2). pyaleph raises on most of these
//!   (an internal error, retried then rejected with -1), and for string or object filters tests
//!   substring or key membership; those filters deny here.
//! * Entries are only evaluated up to the first match, as in pyaleph: a malformed entry after the
//!   matching one does not matter, one before it denies.

use serde_json::Value;

use crate::chain::Chain;
use crate::content::{AggregateKey, Content};
use crate::message::{MessageType, PendingMessage};
use crate::validate::ProcessingError;

/// The facts of a message that permissions read: its envelope (sender, chain, type, channel) and
/// its content (owner, POST type, AGGREGATE key).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MessageFacts<'a> {
    /// The envelope sender.
    pub sender: &'a str,
    /// The envelope chain.
    pub chain: Chain,
    /// The envelope type.
    pub message_type: MessageType,
    /// The envelope channel.
    pub channel: Option<&'a str>,
    /// `content.address`: the owner the message acts for.
    pub address: &'a str,
    /// `content.type` of a POST.
    pub post_type: Option<&'a str>,
    /// `content.key` of an AGGREGATE.
    pub aggregate_key: Option<&'a AggregateKey>,
}

impl<'a> MessageFacts<'a> {
    /// The facts of a message from its envelope and validated content.
    pub fn new(message: &'a PendingMessage, content: &'a Content) -> Self {
        let (post_type, aggregate_key) = match content {
            Content::Post(p) => (Some(p.post_type.as_str()), None),
            Content::Aggregate(a) => (None, Some(&a.key)),
            _ => (None, None),
        };
        MessageFacts {
            sender: &message.sender,
            chain: message.chain,
            message_type: message.message_type,
            channel: message.channel.as_deref(),
            address: content.address(),
            post_type,
            aggregate_key,
        }
    }

    /// Whether this writes the `security` aggregate of `address`.
    fn writes_security(&self) -> bool {
        self.message_type == MessageType::Aggregate
            && self.aggregate_key.is_some_and(AggregateKey::is_security)
    }
}

/// Why a permission was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// The sender is the owner.
    Owner,
    /// The sender is authorized by the owner's `security` aggregate.
    Delegate {
        /// The index of the first matching entry of `authorizations`.
        entry: usize,
    },
}

/// Why a permission was denied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PermissionError {
    /// The owner has no `security` aggregate.
    #[error("Sender {sender} is not authorized to post on behalf of address {owner}: the owner has no security aggregate")]
    NoSecurityAggregate {
        /// The sender.
        sender: String,
        /// The owner.
        owner: String,
    },
    /// No entry of the owner's `security` aggregate admits the message.
    #[error("Sender {sender} is not authorized to post on behalf of address {owner}")]
    NotAuthorized {
        /// The sender.
        sender: String,
        /// The owner.
        owner: String,
    },
    /// The owner's `security` aggregate cannot be evaluated.
    #[error("the security aggregate of {owner} is malformed: {reason}")]
    MalformedSecurityAggregate {
        /// The owner.
        owner: String,
        /// What is wrong.
        reason: String,
    },
    /// A delegate tried to write (or forget part of) the owner's `security` aggregate.
    #[error("Sender {sender} may not modify the security aggregate of {owner}: only the owner can")]
    SecurityAggregateByDelegate {
        /// The sender.
        sender: String,
        /// The owner.
        owner: String,
    },
    /// An amend's owner differs from the original post's owner.
    #[error("amend message address {amend_address} does not match original post owner {original_owner}")]
    AmendOwnerMismatch {
        /// The amend's `content.address`.
        amend_address: String,
        /// The original's `content.address`.
        original_owner: String,
    },
    /// A `replaces` targets a program of another owner.
    #[error("{owner} may not replace program {target} owned by {target_owner}")]
    ReplacesOtherOwner {
        /// The replacing message's `content.address`.
        owner: String,
        /// The replaced program.
        target: String,
        /// Its owner.
        target_owner: String,
    },
    /// A STORE updates a file tag that belongs to another owner.
    #[error("{item_hash} attempts to update a file tag belonging to another user")]
    FileTagOwnedByOther {
        /// The STORE message.
        item_hash: String,
    },
    /// A FORGET targets a FORGET (code 502, not a permission error).
    #[error("FORGET messages cannot be forgotten: {target}")]
    ForgetTargetIsForget {
        /// The targeted FORGET.
        target: String,
    },
}

impl From<PermissionError> for ProcessingError {
    fn from(e: PermissionError) -> Self {
        match e {
            PermissionError::ForgetTargetIsForget { target } => {
                ProcessingError::ForgetForget { target_hash: target }
            }
            other => ProcessingError::permission_denied(other.to_string()),
        }
    }
}

/// Case-insensitive address equality, as the reference compares senders and owners.
pub fn same_address(a: &str, b: &str) -> bool {
    a == b || a.to_lowercase() == b.to_lowercase()
}

/// Whether `sender` may act for `owner` on a message with the facts `scope` (the message being
/// submitted, or the existing message acted on), given `security`, the content of the `security`
/// aggregate owned by exactly `owner` (`None` when there is none).
///
/// This is the bare rule, without the `security`-aggregate protection of [`check_message`].
pub fn is_authorized(
    sender: &str,
    owner: &str,
    scope: &MessageFacts<'_>,
    security: Option<&Value>,
) -> Result<Grant, PermissionError> {
    if same_address(sender, owner) {
        return Ok(Grant::Owner);
    }
    let Some(security) = security else {
        return Err(PermissionError::NoSecurityAggregate {
            sender: sender.to_owned(),
            owner: owner.to_owned(),
        });
    };
    let malformed =
        |reason: String| PermissionError::MalformedSecurityAggregate { owner: owner.to_owned(), reason };
    let content = security.as_object().ok_or_else(|| malformed("its content is not an object".into()))?;
    let entries = match content.get("authorizations") {
        None => &[][..],
        Some(Value::Array(entries)) => entries.as_slice(),
        Some(_) => return Err(malformed("`authorizations` is not a list".into())),
    };
    let sender_lower = sender.to_lowercase();
    for (i, entry) in entries.iter().enumerate() {
        let entry =
            entry.as_object().ok_or_else(|| malformed(format!("authorization {i} is not an object")))?;
        let address = match entry.get("address") {
            None => "",
            Some(Value::String(a)) => a,
            Some(_) => return Err(malformed(format!("authorization {i} has a non-string address"))),
        };
        if address.to_lowercase() != sender_lower {
            continue;
        }
        if entry.get("chain").is_some_and(truthy)
            && entry.get("chain") != Some(&Value::from(scope.chain.as_str()))
        {
            continue;
        }
        let filter = |key: &str| -> Result<Option<&Vec<Value>>, PermissionError> {
            match entry.get(key) {
                None => Ok(None),
                Some(Value::Array(list)) if list.is_empty() => Ok(None),
                Some(Value::Array(list)) => Ok(Some(list)),
                Some(_) => Err(malformed(format!("authorization {i}: `{key}` is not a list"))),
            }
        };
        let channel = scope.channel.map_or(Value::Null, Value::from);
        if filter("channels")?.is_some_and(|channels| !channels.contains(&channel)) {
            continue;
        }
        if filter("types")?.is_some_and(|types| !types.contains(&Value::from(scope.message_type.as_str()))) {
            continue;
        }
        if scope.message_type == MessageType::Post {
            let post_type = scope.post_type.map_or(Value::Null, Value::from);
            if filter("post_types")?.is_some_and(|types| !types.contains(&post_type)) {
                continue;
            }
        }
        if scope.message_type == MessageType::Aggregate {
            if let Some(keys) = filter("aggregate_keys")? {
                let key = scope.aggregate_key.and_then(AggregateKey::as_plain);
                if !key.is_some_and(|k| keys.contains(&Value::from(k))) {
                    continue;
                }
            }
        }
        return Ok(Grant::Delegate { entry: i });
    }
    Err(PermissionError::NotAuthorized { sender: sender.to_owned(), owner: owner.to_owned() })
}

/// Python truthiness of a JSON value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// The permission check of a new POST, AGGREGATE, STORE, PROGRAM, INSTANCE or V-PROGRAM: the
/// sender must be `content.address` or authorized by its `security` aggregate (`security`, looked
/// up by the exact `content.address`).
///
/// Deviation: an AGGREGATE writing the `security` key is allowed to the owner only.
pub fn check_message(message: &MessageFacts<'_>, security: Option<&Value>) -> Result<Grant, PermissionError> {
    if message.writes_security() && !same_address(message.sender, message.address) {
        return Err(PermissionError::SecurityAggregateByDelegate {
            sender: message.sender.to_owned(),
            owner: message.address.to_owned(),
        });
    }
    is_authorized(message.sender, message.address, message, security)
}

/// The permission check of a POST amend whose original post is known (when it is not, use
/// [`check_message`]; the amend will then wait for its original, code 101).
///
/// A sender acting for itself passes. A delegate must amend for the original's owner (compared
/// case-insensitively) and be authorized for it as if it were creating the **original** (its
/// chain, type, channel and post type); `security` is the `security` aggregate of exactly
/// `original.address`. In both cases the amend's `content.address` must equal the original's
/// owner exactly (case-sensitive), as the reference's POST handler requires.
pub fn check_amend(
    amend: &MessageFacts<'_>,
    original: &MessageFacts<'_>,
    security: Option<&Value>,
) -> Result<Grant, PermissionError> {
    let mismatch = || PermissionError::AmendOwnerMismatch {
        amend_address: amend.address.to_owned(),
        original_owner: original.address.to_owned(),
    };
    let grant = if same_address(amend.sender, amend.address) {
        Grant::Owner
    } else {
        if !same_address(amend.address, original.address) {
            return Err(mismatch());
        }
        is_authorized(amend.sender, original.address, original, security)?
    };
    if original.address != amend.address {
        return Err(mismatch());
    }
    Ok(grant)
}

/// The permission check of one FORGET target (a message named in `hashes`, or an element of a
/// named aggregate) that is currently processed or being removed: `forget_sender` must be allowed
/// to have created the target, i.e. be authorized for the target's owner with the target's facts.
/// `security` is the `security` aggregate of exactly `target.address`. A FORGET target gives
/// [`PermissionError::ForgetTargetIsForget`] (code 502 once converted).
///
/// Deviation: elements of a `security` aggregate can only be forgotten by its owner.
pub fn check_forget_target(
    forget_sender: &str,
    target_hash: &str,
    target: &MessageFacts<'_>,
    security: Option<&Value>,
) -> Result<Grant, PermissionError> {
    if target.message_type == MessageType::Forget {
        return Err(PermissionError::ForgetTargetIsForget { target: target_hash.to_owned() });
    }
    if target.writes_security() && !same_address(forget_sender, target.address) {
        return Err(PermissionError::SecurityAggregateByDelegate {
            sender: forget_sender.to_owned(),
            owner: target.address.to_owned(),
        });
    }
    is_authorized(forget_sender, target.address, target, security)
}

/// The ownership check of a VM update (deviation: pyaleph has none): the replacing message's
/// `content.address` (`owner`) must be the replaced program's owner (`target_owner`, its
/// `content.address`), compared case-insensitively like every other owner comparison of
/// permissions. Whether the sender may act for `owner` is [`check_message`]'s concern.
pub fn check_replaces_owner(owner: &str, target: &str, target_owner: &str) -> Result<(), PermissionError> {
    if same_address(owner, target_owner) {
        return Ok(());
    }
    Err(PermissionError::ReplacesOtherOwner {
        owner: owner.to_owned(),
        target: target.to_owned(),
        target_owner: target_owner.to_owned(),
    })
}

/// The ownership check of a STORE with `ref` (§6.10): when the file tag it updates already
/// exists, its owner must be exactly the STORE's `content.address`.
pub fn check_file_tag_owner(tag_owner: &str, owner: &str, item_hash: &str) -> Result<(), PermissionError> {
    if tag_owner == owner {
        return Ok(());
    }
    Err(PermissionError::FileTagOwnedByOther { item_hash: item_hash.to_owned() })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const OWNER: &str = "0xB68B9D4f3771c246233823ed1D3Add451055F9Ef";
    const DELEGATE: &str = "0x5C8476b5a577d00c1563F9Fe234843BCDCC5353d";

    fn facts<'a>(message_type: MessageType, channel: Option<&'a str>) -> MessageFacts<'a> {
        MessageFacts {
            sender: DELEGATE,
            chain: Chain::Eth,
            message_type,
            channel,
            address: OWNER,
            post_type: (message_type == MessageType::Post).then_some("blog"),
            aggregate_key: None,
        }
    }

    fn security(entries: Value) -> Value {
        json!({ "authorizations": entries })
    }

    fn allowed(f: &MessageFacts<'_>, entries: Value) -> bool {
        check_message(f, Some(&security(entries))).is_ok()
    }

    #[test]
    fn the_owner_is_always_allowed() {
        let mut f = facts(MessageType::Post, None);
        f.sender = OWNER;
        assert_eq!(check_message(&f, None), Ok(Grant::Owner));
        // Case-insensitively.
        f.sender = "0xb68b9d4f3771c246233823ed1d3add451055f9ef";
        assert_eq!(check_message(&f, None), Ok(Grant::Owner));
    }

    #[test]
    fn delegates_need_a_security_aggregate_entry() {
        let f = facts(MessageType::Post, Some("TEST"));
        assert!(matches!(check_message(&f, None), Err(PermissionError::NoSecurityAggregate { .. })));
        assert!(matches!(check_message(&f, Some(&json!({}))), Err(PermissionError::NotAuthorized { .. })));
        assert!(!allowed(&f, json!([])));
        assert!(!allowed(&f, json!([{"address": "0xsomeoneelse"}])));
        assert!(!allowed(&f, json!([{}])));
        assert_eq!(
            check_message(&f, Some(&security(json!([{"address": DELEGATE}])))),
            Ok(Grant::Delegate { entry: 0 })
        );
        // The entry's address matches case-insensitively.
        assert!(allowed(&f, json!([{"address": DELEGATE.to_lowercase()}])));
        assert!(allowed(&f, json!([{"address": DELEGATE.to_uppercase()}])));
        let e = check_message(&f, None).unwrap_err();
        assert_eq!(ProcessingError::from(e).code(), 2);
    }

    #[test]
    fn chain_filter() {
        let f = facts(MessageType::Post, None);
        assert!(allowed(&f, json!([{"address": DELEGATE, "chain": "ETH"}])));
        assert!(allowed(&f, json!([{"address": DELEGATE, "chain": ""}])));
        assert!(allowed(&f, json!([{"address": DELEGATE, "chain": null}])));
        assert!(!allowed(&f, json!([{"address": DELEGATE, "chain": "SOL"}])));
        assert!(!allowed(&f, json!([{"address": DELEGATE, "chain": "eth"}])));
        assert!(!allowed(&f, json!([{"address": DELEGATE, "chain": ["ETH"]}])));
    }

    #[test]
    fn channel_filter_and_null_channels() {
        let entry = json!([{"address": DELEGATE, "channels": ["TEST", "OTHER"]}]);
        assert!(allowed(&facts(MessageType::Post, Some("TEST")), entry.clone()));
        assert!(!allowed(&facts(MessageType::Post, Some("test")), entry.clone()));
        assert!(!allowed(&facts(MessageType::Post, Some("NOPE")), entry.clone()));
        // A null channel never matches a non-empty list of strings…
        assert!(!allowed(&facts(MessageType::Post, None), entry));
        // …only a list holding null.
        assert!(allowed(&facts(MessageType::Post, None), json!([{"address": DELEGATE, "channels": [null]}])));
        // Empty means no restriction.
        assert!(allowed(&facts(MessageType::Post, None), json!([{"address": DELEGATE, "channels": []}])));
    }

    #[test]
    fn type_filter() {
        let entry = json!([{"address": DELEGATE, "types": ["POST", "STORE"]}]);
        assert!(allowed(&facts(MessageType::Post, None), entry.clone()));
        assert!(allowed(&facts(MessageType::Store, None), entry.clone()));
        assert!(!allowed(&facts(MessageType::Program, None), entry.clone()));
        assert!(!allowed(&facts(MessageType::Post, None), json!([{"address": DELEGATE, "types": ["post"]}])));
    }

    #[test]
    fn post_types_apply_to_posts_only() {
        let entry = json!([{"address": DELEGATE, "post_types": ["blog"]}]);
        assert!(allowed(&facts(MessageType::Post, None), entry.clone()));
        let mut other = facts(MessageType::Post, None);
        other.post_type = Some("comment");
        assert!(!allowed(&other, entry.clone()));
        // Other types ignore the filter, even a malformed one.
        assert!(allowed(&facts(MessageType::Store, None), entry));
        assert!(allowed(&facts(MessageType::Store, None), json!([{"address": DELEGATE, "post_types": 5}])));
    }

    #[test]
    fn aggregate_keys_apply_to_aggregates_only() {
        let profile = AggregateKey::Name("profile".into());
        let object_key = AggregateKey::Object { name: "profile".into() };
        let entry = json!([{"address": DELEGATE, "aggregate_keys": ["profile"]}]);
        let mut f = facts(MessageType::Aggregate, None);
        f.aggregate_key = Some(&profile);
        assert!(allowed(&f, entry.clone()));
        // An object key never equals a listed string.
        f.aggregate_key = Some(&object_key);
        assert!(!allowed(&f, entry.clone()));
        assert!(allowed(&f, json!([{"address": DELEGATE}])));
        let other = AggregateKey::Name("settings".into());
        f.aggregate_key = Some(&other);
        assert!(!allowed(&f, entry.clone()));
        assert!(allowed(&facts(MessageType::Post, None), entry));
    }

    #[test]
    fn first_matching_entry_wins() {
        let f = facts(MessageType::Post, Some("TEST"));
        let entries = json!([
            {"address": "0xother"},
            {"address": DELEGATE, "types": ["STORE"]},
            {"address": DELEGATE, "channels": ["TEST"]},
            "malformed after the match is never read",
        ]);
        assert_eq!(check_message(&f, Some(&security(entries))), Ok(Grant::Delegate { entry: 2 }));
        // A malformed entry before the match denies.
        let entries = json!([{"address": DELEGATE, "channels": "TEST"}, {"address": DELEGATE}]);
        assert!(matches!(
            check_message(&f, Some(&security(entries))),
            Err(PermissionError::MalformedSecurityAggregate { .. })
        ));
        let entries = json!([42, {"address": DELEGATE}]);
        assert!(matches!(
            check_message(&f, Some(&security(entries))),
            Err(PermissionError::MalformedSecurityAggregate { .. })
        ));
        let entries = json!([{"address": 1}, {"address": DELEGATE}]);
        assert!(check_message(&f, Some(&security(entries))).is_err());
        // Entries of other addresses are skipped without looking at their filters.
        let entries = json!([{"address": "0xother", "channels": "x"}, {"address": DELEGATE}]);
        assert!(check_message(&f, Some(&security(entries))).is_ok());
        // Malformed aggregate shapes.
        for bad in [json!({"authorizations": {}}), json!({"authorizations": null}), json!([])] {
            assert!(matches!(
                check_message(&f, Some(&bad)),
                Err(PermissionError::MalformedSecurityAggregate { .. })
            ));
        }
    }

    #[test]
    fn delegates_cannot_write_the_security_aggregate() {
        let key = AggregateKey::Name("security".into());
        let mut f = facts(MessageType::Aggregate, None);
        f.aggregate_key = Some(&key);
        // Even with an unrestricted authorization, or one naming the key explicitly.
        for entries in
            [json!([{"address": DELEGATE}]), json!([{"address": DELEGATE, "aggregate_keys": ["security"]}])]
        {
            assert_eq!(
                check_message(&f, Some(&security(entries))),
                Err(PermissionError::SecurityAggregateByDelegate {
                    sender: DELEGATE.into(),
                    owner: OWNER.into()
                })
            );
        }
        // The owner can.
        f.sender = OWNER;
        assert_eq!(check_message(&f, None), Ok(Grant::Owner));
        // The object key form is stored under another name: normal rules.
        let object_key = AggregateKey::Object { name: "security".into() };
        let mut f = facts(MessageType::Aggregate, None);
        f.aggregate_key = Some(&object_key);
        assert!(allowed(&f, json!([{"address": DELEGATE}])));
        // The bare rule (used for existing messages) is unchanged.
        let mut g = facts(MessageType::Aggregate, None);
        g.aggregate_key = Some(&key);
        assert!(is_authorized(DELEGATE, OWNER, &g, Some(&security(json!([{"address": DELEGATE}])))).is_ok());
    }

    #[test]
    fn amends_are_judged_against_the_original() {
        let sec = security(json!([{"address": DELEGATE, "channels": ["BLOG"], "post_types": ["blog"]}]));
        let mut original = facts(MessageType::Post, Some("BLOG"));
        original.sender = OWNER;
        let mut amend = facts(MessageType::Post, Some("ELSEWHERE"));
        amend.post_type = Some("amend");
        // The amend's own channel and type would not pass; the original's do.
        assert!(check_message(&amend, Some(&sec)).is_err());
        assert_eq!(check_amend(&amend, &original, Some(&sec)), Ok(Grant::Delegate { entry: 0 }));
        // An original the delegate could not have created.
        let mut other_channel = original;
        other_channel.channel = Some("PRIVATE");
        assert!(matches!(
            check_amend(&amend, &other_channel, Some(&sec)),
            Err(PermissionError::NotAuthorized { .. })
        ));
        // A delegate amending for another owner.
        let mut foreign = original;
        foreign.address = "0x0000000000000000000000000000000000000001";
        assert!(matches!(
            check_amend(&amend, &foreign, Some(&sec)),
            Err(PermissionError::AmendOwnerMismatch { .. })
        ));
        // The owner amending its own post.
        let mut own = amend;
        own.sender = OWNER;
        assert_eq!(check_amend(&own, &original, None), Ok(Grant::Owner));
        // The owner strings must match exactly, even for the owner itself.
        let lower = OWNER.to_lowercase();
        let mut own_lower = own;
        own_lower.address = &lower;
        own_lower.sender = &lower;
        assert!(matches!(
            check_amend(&own_lower, &original, None),
            Err(PermissionError::AmendOwnerMismatch { .. })
        ));
    }

    #[test]
    fn forget_targets_are_judged_with_their_own_facts() {
        let h = "d281eb8a69ba1f4dda2d71aaf3ded06caa92edd690ef3d0632f41aa91167762c";
        let sec = security(json!([{"address": DELEGATE, "types": ["STORE"], "channels": ["FILES"]}]));
        let store = facts(MessageType::Store, Some("FILES"));
        assert_eq!(check_forget_target(DELEGATE, h, &store, Some(&sec)), Ok(Grant::Delegate { entry: 0 }));
        let post = facts(MessageType::Post, Some("FILES"));
        assert!(check_forget_target(DELEGATE, h, &post, Some(&sec)).is_err());
        assert_eq!(check_forget_target(OWNER, h, &post, None), Ok(Grant::Owner));
        // FORGETs cannot be forgotten: code 502.
        let forget = facts(MessageType::Forget, None);
        let e = check_forget_target(OWNER, h, &forget, None).unwrap_err();
        assert_eq!(ProcessingError::from(e), ProcessingError::ForgetForget { target_hash: h.into() });
        // Elements of a security aggregate: the owner only.
        let key = AggregateKey::Name("security".into());
        let mut element = facts(MessageType::Aggregate, None);
        element.aggregate_key = Some(&key);
        let open = security(json!([{"address": DELEGATE}]));
        assert!(matches!(
            check_forget_target(DELEGATE, h, &element, Some(&open)),
            Err(PermissionError::SecurityAggregateByDelegate { .. })
        ));
        assert_eq!(check_forget_target(OWNER, h, &element, None), Ok(Grant::Owner));
    }

    #[test]
    fn replaces_must_target_the_same_owner() {
        assert_eq!(check_replaces_owner(OWNER, "h", OWNER), Ok(()));
        assert_eq!(check_replaces_owner(OWNER, "h", &OWNER.to_lowercase()), Ok(()));
        let e = check_replaces_owner(DELEGATE, "h", OWNER).unwrap_err();
        assert_eq!(
            e,
            PermissionError::ReplacesOtherOwner {
                owner: DELEGATE.into(),
                target: "h".into(),
                target_owner: OWNER.into()
            }
        );
        assert_eq!(ProcessingError::from(e).code(), 2);
    }

    #[test]
    fn file_tags_belong_to_their_first_owner() {
        assert_eq!(check_file_tag_owner(OWNER, OWNER, "h"), Ok(()));
        assert!(check_file_tag_owner(OWNER, &OWNER.to_lowercase(), "h").is_err());
    }

    #[test]
    fn facts_from_a_message() {
        let item_content = format!(r#"{{"address":"{OWNER}","time":1,"key":"security","content":{{}}}}"#);
        let m =
            crate::message::UnsignedMessage::inline(MessageType::Aggregate, item_content.clone(), 1.0, None);
        let m = PendingMessage {
            sender: DELEGATE.into(),
            chain: Chain::Eth,
            signature: Some("0x".into()),
            message_type: m.message_type,
            item_type: m.item_type,
            item_content: m.item_content,
            item_hash: m.item_hash,
            time: m.time,
            channel: m.channel,
        };
        let content =
            Content::parse(MessageType::Aggregate, &serde_json::from_str(&item_content).unwrap()).unwrap();
        let f = MessageFacts::new(&m, &content);
        assert_eq!((f.sender, f.address, f.channel), (DELEGATE, OWNER, None));
        assert!(matches!(
            check_message(&f, Some(&security(json!([{"address": DELEGATE}])))),
            Err(PermissionError::SecurityAggregateByDelegate { .. })
        ));
    }
}
