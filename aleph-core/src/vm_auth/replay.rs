//! Exact-replay rejection for scheduler requests, as a value the caller keeps.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::scheduler::{SchedulerAuth, SchedulerAuthError, SCHEDULER_MAX_AGE_SECS};

/// Remembers, per signer, the payloads it accepted, to refuse a byte-identical resubmission.
///
/// Keyed by the payload's hash, not the signature (ECDSA signatures are malleable). Entries are
/// dropped once their `iat` is older than the time window, since the window alone then rejects
/// them. One guard per process, behind the caller's lock: the check and the record are one call.
#[derive(Debug, Clone)]
pub struct ReplayGuard {
    max_age_secs: i64,
    seen: HashMap<String, HashMap<[u8; 32], i64>>,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        ReplayGuard::new(SCHEDULER_MAX_AGE_SECS)
    }
}

impl ReplayGuard {
    /// A guard for a time window of `max_age_secs` (use the policy's).
    pub fn new(max_age_secs: i64) -> Self {
        ReplayGuard { max_age_secs, seen: HashMap::new() }
    }

    /// Records `auth`'s payload if it is new for its signer; refuses it with
    /// [`SchedulerAuthError::Replay`] if it was accepted before. Prunes that signer's entries
    /// whose `iat` is older than the window at `now`.
    pub fn accept(&mut self, auth: &SchedulerAuth, now: DateTime<Utc>) -> Result<(), SchedulerAuthError> {
        let cutoff = now.timestamp() - self.max_age_secs;
        let seen = self.seen.entry(auth.signer.to_ascii_lowercase()).or_default();
        // `iat < now − max_age` with a fractional now: an integer iat equal to the whole-second
        // cutoff is still inside the window unless now has no fraction.
        let whole = now.timestamp_subsec_nanos() == 0;
        seen.retain(|_, iat| if whole { *iat >= cutoff } else { *iat > cutoff });
        if seen.contains_key(&auth.payload_sha256) {
            return Err(SchedulerAuthError::Replay);
        }
        seen.insert(auth.payload_sha256, auth.iat);
        Ok(())
    }

    /// How many payloads are remembered.
    pub fn len(&self) -> usize {
        self.seen.values().map(HashMap::len).sum()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
