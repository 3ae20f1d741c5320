//! What the pipeline announces: processing outcomes, for `sync` submissions and websockets.

use std::sync::Arc;

use serde_json::Value;

/// One processing outcome.
#[derive(Debug, Clone)]
pub enum Event {
    /// A message was processed; `message` is its list-form JSON (with `size`).
    Processed {
        /// The message's item hash.
        item_hash: String,
        /// The message as `messages.json` renders it.
        message: Arc<Value>,
    },
    /// A message was rejected.
    Rejected {
        /// The message's item hash.
        item_hash: String,
        /// The processing error code.
        code: i32,
    },
    /// A message will be retried later.
    Retry {
        /// The message's item hash.
        item_hash: String,
    },
}

impl Event {
    /// The item hash the event is about.
    pub fn item_hash(&self) -> &str {
        match self {
            Event::Processed { item_hash, .. }
            | Event::Rejected { item_hash, .. }
            | Event::Retry { item_hash } => item_hash,
        }
    }
}
