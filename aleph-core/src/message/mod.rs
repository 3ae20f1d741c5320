//! Messages: the enumerations of the envelope, the pending (wire) form a client submits, the
//! API form a node returns, and the one signing-payload builder.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod api;
mod pending;
pub(crate) mod time;
mod unsigned;
pub mod verification;

pub use api::{Confirmation, Message};
pub use pending::{EnvelopeError, PendingMessage, INLINE_CONTENT_MAX_CHARS};
pub use time::{parse_time_value, time_to_rfc3339};
pub use unsigned::UnsignedMessage;
pub use verification::{verification_buffer, SignedFields};

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $err:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $code:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        #[doc = concat!("A string that is not a ", $what, ".")]
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("unknown {} {:?}", $what, .0)]
        pub struct $err(pub String);

        impl $name {
            #[doc = concat!("Every ", $what, ".")]
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire string.
            pub const fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $code),* }
            }
        }

        impl FromStr for $name {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)*
                    other => Err($err(other.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

wire_enum! {
    /// The type of a message (`type` in the envelope).
    MessageType, UnknownMessageType, "message type" {
        /// `POST`: a free-form document, amendable.
        Post => "POST",
        /// `AGGREGATE`: a key/value document merged over time.
        Aggregate => "AGGREGATE",
        /// `STORE`: a file reference.
        Store => "STORE",
        /// `PROGRAM`: a function VM.
        Program => "PROGRAM",
        /// `INSTANCE`: a persistent VM.
        Instance => "INSTANCE",
        /// `FORGET`: removes earlier messages or aggregates.
        Forget => "FORGET",
        /// `V-PROGRAM`: verifiable program (experimental in the reference node).
        VProgram => "V-PROGRAM",
    }
}

wire_enum! {
    /// Where a message's content lives (`item_type`).
    ItemType, UnknownItemType, "item type" {
        /// In the envelope, as the `item_content` string.
        Inline => "inline",
        /// In the node-native, sha256-addressed store.
        Storage => "storage",
        /// On IPFS, addressed by CID.
        Ipfs => "ipfs",
    }
}

wire_enum! {
    /// The processing status of a message on a node.
    MessageStatus, UnknownMessageStatus, "message status" {
        /// Queued or waiting for a retry.
        Pending => "pending",
        /// Accepted and applied.
        Processed => "processed",
        /// Invalid, or retries exhausted.
        Rejected => "rejected",
        /// Removed by a FORGET; only envelope metadata is kept.
        Forgotten => "forgotten",
        /// A paid resource whose owner lacks funds; will be removed.
        Removing => "removing",
        /// Resources deleted after `removing`.
        Removed => "removed",
    }
}

impl MessageType {
    /// Whether messages of this type run or reserve machines.
    pub const fn is_executable(&self) -> bool {
        matches!(self, MessageType::Program | MessageType::Instance | MessageType::VProgram)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_round_trip() {
        for t in MessageType::ALL {
            assert_eq!(t.as_str().parse::<MessageType>().unwrap(), *t);
        }
        for t in ItemType::ALL {
            assert_eq!(t.as_str().parse::<ItemType>().unwrap(), *t);
        }
        for t in MessageStatus::ALL {
            assert_eq!(t.as_str().parse::<MessageStatus>().unwrap(), *t);
        }
        assert!("post".parse::<MessageType>().is_err());
        assert!("STORAGE".parse::<ItemType>().is_err());
        assert_eq!(serde_json::to_string(&MessageType::VProgram).unwrap(), "\"V-PROGRAM\"");
    }
}
