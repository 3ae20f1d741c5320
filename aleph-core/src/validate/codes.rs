//! The processing error codes of MESSAGES.md §6.5, with the `details` payloads the reference
//! node stores and returns for rejected messages.

use std::fmt;

use serde_json::{json, Map, Value};

/// Whether a processing failure is final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Transient: the message is retried with backoff and rejected only after the retry budget.
    Retry,
    /// Final: the message is rejected at once.
    Reject,
}

macro_rules! codes {
    ($($(#[$m:meta])* $variant:ident = $code:literal, $name:literal, $kind:ident;)*) => {
        /// A processing error code, as stored with a rejected message (`error_code`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode { $($(#[$m])* $variant),* }

        impl ErrorCode {
            /// Every code, in numeric order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The numeric code.
            pub const fn code(self) -> i32 {
                match self { $(ErrorCode::$variant => $code),* }
            }

            /// The reference's name (`INVALID_FORMAT`…).
            pub const fn name(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name),* }
            }

            /// Whether a failure with this code is retried or final.
            pub const fn kind(self) -> ErrorKind {
                match self { $(ErrorCode::$variant => ErrorKind::$kind),* }
            }

            /// The code with this number, if the network defines it.
            pub const fn from_i32(code: i32) -> Option<ErrorCode> {
                match code { $($code => Some(ErrorCode::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    /// -1: an unexpected exception.
    InternalError = -1, "INTERNAL_ERROR", Retry;
    /// 0: schema, JSON, hash, `\u0000` or unknown-chain error.
    InvalidFormat = 0, "INVALID_FORMAT", Reject;
    /// 1: missing or bad signature, or a duplicate with a different signature.
    InvalidSignature = 1, "INVALID_SIGNATURE", Reject;
    /// 2: the sender may not act for the owner or on the target.
    PermissionDenied = 2, "PERMISSION_DENIED", Reject;
    /// 3: storage/IPFS content not fetchable yet.
    ContentUnavailable = 3, "CONTENT_UNAVAILABLE", Retry;
    /// 4: a STORE's file not fetchable yet.
    FileUnavailable = 4, "FILE_UNAVAILABLE", Retry;
    /// 5: token balance too low.
    BalanceInsufficient = 5, "BALANCE_INSUFFICIENT", Reject;
    /// 6: fewer credits than one day of cost.
    CreditInsufficient = 6, "CREDIT_INSUFFICIENT", Reject;
    /// 100: amend without a target (normally caught as 0).
    PostAmendNoTarget = 100, "POST_AMEND_NO_TARGET", Reject;
    /// 101: the amended post is not (yet) known.
    PostAmendTargetNotFound = 101, "POST_AMEND_TARGET_NOT_FOUND", Retry;
    /// 102: the amended post is itself an amend.
    PostAmendAmend = 102, "POST_AMEND_AMEND", Reject;
    /// 200: `ref` names an unknown STORE.
    StoreRefNotFound = 200, "STORE_REF_NOT_FOUND", Retry;
    /// 201: the `ref` target itself has a `ref`.
    StoreUpdateUpdate = 201, "STORE_UPDATE_UPDATE", Reject;
    /// 202: payment type no longer allowed (§6.13).
    InvalidPaymentMethod = 202, "INVALID_PAYMENT_METHOD", Reject;
    /// 300: the `replaces` target program is unknown.
    VmRefNotFound = 300, "VM_REF_NOT_FOUND", Retry;
    /// 301: a referenced volume, code, runtime or rootfs is not found.
    VmVolumeNotFound = 301, "VM_VOLUME_NOT_FOUND", Retry;
    /// 302: the target has `allow_amend: false`.
    VmAmendNotAllowed = 302, "VM_AMEND_NOT_ALLOWED", Reject;
    /// 303: the target itself has `replaces`.
    VmUpdateUpdate = 303, "VM_UPDATE_UPDATE", Reject;
    /// 304: a volume is smaller than its parent image.
    VmVolumeTooSmall = 304, "VM_VOLUME_TOO_SMALL", Reject;
    /// 500: a FORGET naming nothing.
    ForgetNoTarget = 500, "FORGET_NO_TARGET", Reject;
    /// 501: a FORGET target is not (yet) processed, or an aggregate is missing.
    ForgetTargetNotFound = 501, "FORGET_TARGET_NOT_FOUND", Retry;
    /// 502: a FORGET targets a FORGET.
    ForgetForget = 502, "FORGET_FORGET", Reject;
    /// 503: the target STORE is a volume of a VM.
    ForgetNotAllowed = 503, "FORGET_NOT_ALLOWED", Reject;
    /// 504: the message was already forgotten.
    ForgottenDuplicate = 504, "FORGOTTEN_DUPLICATE", Reject;
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

/// The `errors` list of a rejection's details: usually strings, sometimes objects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorList(pub Vec<Value>);

impl ErrorList {
    /// No errors (the reference then stores `details: null`).
    pub fn none() -> Self {
        ErrorList(Vec::new())
    }

    /// One message.
    pub fn one(message: impl Into<String>) -> Self {
        ErrorList(vec![Value::String(message.into())])
    }

    /// The `{"errors": […]}` object, or null when empty.
    fn details(&self) -> Value {
        if self.0.is_empty() {
            Value::Null
        } else {
            json!({ "errors": self.0 })
        }
    }

    /// Reads the list out of a `details` value: `{"errors": […]}`, null, or anything else
    /// (kept as the single item).
    fn from_details(details: &Value) -> Self {
        match details {
            Value::Null => ErrorList::none(),
            Value::Object(m) => match m.get("errors") {
                Some(Value::Array(items)) => ErrorList(items.clone()),
                Some(Value::Null) => ErrorList::none(),
                Some(other) => ErrorList(vec![other.clone()]),
                None if m.is_empty() => ErrorList::none(),
                None => ErrorList(vec![details.clone()]),
            },
            other => ErrorList(vec![other.clone()]),
        }
    }

    /// The first error, when it is an object.
    fn first_object(&self) -> Option<&Map<String, Value>> {
        self.0.first().and_then(Value::as_object)
    }
}

impl From<&str> for ErrorList {
    fn from(s: &str) -> Self {
        ErrorList::one(s)
    }
}

impl From<String> for ErrorList {
    fn from(s: String) -> Self {
        ErrorList::one(s)
    }
}

impl fmt::Display for ErrorList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no details");
        }
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match e {
                Value::String(s) => f.write_str(s)?,
                other => write!(f, "{other}")?,
            }
        }
        Ok(())
    }
}

/// Why a message failed processing: one variant per §6.5 code, each with the payload its
/// `details` carries. [`ProcessingError::details`] gives the JSON the reference stores and
/// returns; [`ProcessingError::from_code`] reads a node's rejection back.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessingError {
    /// -1, retry.
    #[error("internal error: {0}")]
    Internal(ErrorList),
    /// 0, reject.
    #[error("invalid message format: {0}")]
    InvalidFormat(ErrorList),
    /// 1, reject.
    #[error("invalid signature: {0}")]
    InvalidSignature(ErrorList),
    /// 2, reject.
    #[error("permission denied: {0}")]
    PermissionDenied(ErrorList),
    /// 3, retry.
    #[error("message content unavailable: {0}")]
    ContentUnavailable(ErrorList),
    /// 4, retry.
    #[error("file unavailable: {0}")]
    FileUnavailable(ErrorList),
    /// 5, reject. Amounts are decimal strings, as the reference writes them.
    #[error("balance insufficient: {required_balance} required, {account_balance} available")]
    BalanceInsufficient {
        /// Tokens needed for every held resource including this one.
        required_balance: String,
        /// Tokens the account holds.
        account_balance: String,
    },
    /// 6, reject. Amounts are decimal strings, as the reference writes them.
    #[error("credit insufficient: {required_credits} required for {min_runtime_days} day(s), {account_credits} available")]
    CreditInsufficient {
        /// Credits needed.
        required_credits: String,
        /// Credits the account has.
        account_credits: String,
        /// The runtime the requirement covers, in days.
        min_runtime_days: i64,
    },
    /// 100, reject.
    #[error("amend without a target: {0}")]
    PostAmendNoTarget(ErrorList),
    /// 101, retry.
    #[error("amended post not found: {0}")]
    PostAmendTargetNotFound(ErrorList),
    /// 102, reject.
    #[error("cannot amend an amend: {0}")]
    PostAmendAmend(ErrorList),
    /// 200, retry.
    #[error("store ref not found: {0}")]
    StoreRefNotFound(ErrorList),
    /// 201, reject.
    #[error("store ref targets an update: {0}")]
    StoreUpdateUpdate(ErrorList),
    /// 202, reject.
    #[error("payment method not allowed: {0}")]
    InvalidPaymentMethod(ErrorList),
    /// 300, retry.
    #[error("replaced program not found: {0}")]
    VmRefNotFound(ErrorList),
    /// 301, retry.
    #[error("VM volume not found: {0}")]
    VmVolumeNotFound(ErrorList),
    /// 302, reject.
    #[error("program does not allow amends: {0}")]
    VmAmendNotAllowed(ErrorList),
    /// 303, reject.
    #[error("replaced program is itself an update: {0}")]
    VmUpdateUpdate(ErrorList),
    /// 304, reject. Sizes in bytes.
    #[error("volume {volume_name} ({volume_size} bytes) is smaller than its parent {parent_ref} ({parent_size} bytes)")]
    VmVolumeTooSmall {
        /// The volume's name (`rootfs` for an instance's root filesystem).
        volume_name: String,
        /// The volume size, `size_mib × 1 MiB`.
        volume_size: u64,
        /// The parent's `ref`.
        parent_ref: String,
        /// The parent's file hash.
        parent_file: String,
        /// The parent file's size.
        parent_size: u64,
    },
    /// 500, reject.
    #[error("FORGET names nothing to forget")]
    ForgetNoTarget,
    /// 501, retry.
    #[error("FORGET target not found: {}", forget_target(.target_hash, .aggregate_key))]
    ForgetTargetNotFound {
        /// The missing message.
        target_hash: Option<String>,
        /// The missing aggregate key.
        aggregate_key: Option<String>,
    },
    /// 502, reject.
    #[error("FORGET cannot target the FORGET {target_hash}")]
    ForgetForget {
        /// The targeted FORGET.
        target_hash: String,
    },
    /// 503, reject.
    #[error("file {file_hash} is used by the VM {vm_hash}")]
    ForgetNotAllowed {
        /// The STORE's file.
        file_hash: String,
        /// A VM using it.
        vm_hash: String,
    },
    /// 504, reject.
    #[error("message already forgotten")]
    ForgottenDuplicate,
    /// A code this library does not know (from a newer node), with its raw details. Treated as
    /// final.
    #[error("processing error {code}: {details}")]
    Unknown {
        /// The numeric code.
        code: i32,
        /// The details as received.
        details: Value,
    },
}

fn forget_target(hash: &Option<String>, key: &Option<String>) -> String {
    match (hash, key) {
        (Some(h), Some(k)) => format!("message {h}, aggregate {k}"),
        (Some(h), None) => format!("message {h}"),
        (None, Some(k)) => format!("aggregate {k}"),
        (None, None) => "unspecified".to_owned(),
    }
}

impl ProcessingError {
    /// A code-0 rejection with one reason.
    pub fn invalid_format(reason: impl Into<String>) -> Self {
        ProcessingError::InvalidFormat(ErrorList::one(reason))
    }

    /// A code-1 rejection with one reason.
    pub fn invalid_signature(reason: impl Into<String>) -> Self {
        ProcessingError::InvalidSignature(ErrorList::one(reason))
    }

    /// A code-2 rejection with one reason.
    pub fn permission_denied(reason: impl Into<String>) -> Self {
        ProcessingError::PermissionDenied(ErrorList::one(reason))
    }

    /// A code-(-1) failure with one reason.
    pub fn internal(reason: impl Into<String>) -> Self {
        ProcessingError::Internal(ErrorList::one(reason))
    }

    /// Code 3 for a message whose content cannot be fetched, worded as the reference words it.
    pub fn content_unavailable(item_hash: &str) -> Self {
        ProcessingError::ContentUnavailable(ErrorList::one(format!(
            "File not found: {item_hash} (could not fetch message content)"
        )))
    }

    /// Code 4 for a STORE file that cannot be fetched, worded as the reference words it.
    pub fn file_unavailable(file_hash: &str, reason: Option<&str>) -> Self {
        let msg = match reason {
            Some(r) => format!("File not found: {file_hash} ({r})"),
            None => format!("File not found: {file_hash}"),
        };
        ProcessingError::FileUnavailable(ErrorList::one(msg))
    }

    /// The code, when it is one this library knows.
    pub fn error_code(&self) -> Option<ErrorCode> {
        use ProcessingError as P;
        Some(match self {
            P::Internal(_) => ErrorCode::InternalError,
            P::InvalidFormat(_) => ErrorCode::InvalidFormat,
            P::InvalidSignature(_) => ErrorCode::InvalidSignature,
            P::PermissionDenied(_) => ErrorCode::PermissionDenied,
            P::ContentUnavailable(_) => ErrorCode::ContentUnavailable,
            P::FileUnavailable(_) => ErrorCode::FileUnavailable,
            P::BalanceInsufficient { .. } => ErrorCode::BalanceInsufficient,
            P::CreditInsufficient { .. } => ErrorCode::CreditInsufficient,
            P::PostAmendNoTarget(_) => ErrorCode::PostAmendNoTarget,
            P::PostAmendTargetNotFound(_) => ErrorCode::PostAmendTargetNotFound,
            P::PostAmendAmend(_) => ErrorCode::PostAmendAmend,
            P::StoreRefNotFound(_) => ErrorCode::StoreRefNotFound,
            P::StoreUpdateUpdate(_) => ErrorCode::StoreUpdateUpdate,
            P::InvalidPaymentMethod(_) => ErrorCode::InvalidPaymentMethod,
            P::VmRefNotFound(_) => ErrorCode::VmRefNotFound,
            P::VmVolumeNotFound(_) => ErrorCode::VmVolumeNotFound,
            P::VmAmendNotAllowed(_) => ErrorCode::VmAmendNotAllowed,
            P::VmUpdateUpdate(_) => ErrorCode::VmUpdateUpdate,
            P::VmVolumeTooSmall { .. } => ErrorCode::VmVolumeTooSmall,
            P::ForgetNoTarget => ErrorCode::ForgetNoTarget,
            P::ForgetTargetNotFound { .. } => ErrorCode::ForgetTargetNotFound,
            P::ForgetForget { .. } => ErrorCode::ForgetForget,
            P::ForgetNotAllowed { .. } => ErrorCode::ForgetNotAllowed,
            P::ForgottenDuplicate => ErrorCode::ForgottenDuplicate,
            P::Unknown { .. } => return None,
        })
    }

    /// The numeric code (`error_code` of a rejection).
    pub fn code(&self) -> i32 {
        match self {
            ProcessingError::Unknown { code, .. } => *code,
            other => other.error_code().map_or(-1, ErrorCode::code),
        }
    }

    /// Whether the failure is retried or final (unknown codes are final).
    pub fn kind(&self) -> ErrorKind {
        self.error_code().map_or(ErrorKind::Reject, ErrorCode::kind)
    }

    /// The `details` JSON the reference stores with a rejection: `{"errors": […]}`, or null when
    /// there is nothing to say.
    pub fn details(&self) -> Value {
        use ProcessingError as P;
        match self {
            P::Internal(e)
            | P::InvalidFormat(e)
            | P::InvalidSignature(e)
            | P::PermissionDenied(e)
            | P::ContentUnavailable(e)
            | P::FileUnavailable(e)
            | P::PostAmendNoTarget(e)
            | P::PostAmendTargetNotFound(e)
            | P::PostAmendAmend(e)
            | P::StoreRefNotFound(e)
            | P::StoreUpdateUpdate(e)
            | P::InvalidPaymentMethod(e)
            | P::VmRefNotFound(e)
            | P::VmVolumeNotFound(e)
            | P::VmAmendNotAllowed(e)
            | P::VmUpdateUpdate(e) => e.details(),
            P::BalanceInsufficient { required_balance, account_balance } => json!({
                "errors": [{ "required_balance": required_balance, "account_balance": account_balance }]
            }),
            P::CreditInsufficient { required_credits, account_credits, min_runtime_days } => json!({
                "errors": [{
                    "required_credits": required_credits,
                    "account_credits": account_credits,
                    "min_runtime_days": min_runtime_days,
                }]
            }),
            P::VmVolumeTooSmall { volume_name, volume_size, parent_ref, parent_file, parent_size } => json!({
                "errors": [{
                    "volume_name": volume_name,
                    "parent_ref": parent_ref,
                    "parent_file": parent_file,
                    "parent_size": parent_size,
                    "volume_size": volume_size,
                }]
            }),
            P::ForgetNoTarget | P::ForgottenDuplicate => Value::Null,
            P::ForgetTargetNotFound { target_hash, aggregate_key } => {
                let mut errors = Vec::new();
                if let Some(h) = target_hash {
                    errors.push(json!({ "message": h }));
                }
                if let Some(k) = aggregate_key {
                    errors.push(json!({ "aggregate": k }));
                }
                json!({ "errors": errors })
            }
            P::ForgetForget { target_hash } => json!({ "errors": [{ "message": target_hash }] }),
            P::ForgetNotAllowed { file_hash, vm_hash } => {
                json!({ "errors": [format!("File {file_hash} used on vm {vm_hash}")] })
            }
            P::Unknown { details, .. } => details.clone(),
        }
    }

    /// Reads a node's rejection (`error_code` and `details`) back into the typed error. Payload
    /// fields missing from `details` read as empty strings or zero; unknown codes give
    /// [`ProcessingError::Unknown`].
    pub fn from_code(code: i32, details: &Value) -> ProcessingError {
        use ProcessingError as P;
        let Some(known) = ErrorCode::from_i32(code) else {
            return P::Unknown { code, details: details.clone() };
        };
        let list = ErrorList::from_details(details);
        let first = list.first_object().cloned().unwrap_or_default();
        let text = |k: &str| match first.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let number = |k: &str| first.get(k).and_then(Value::as_u64).unwrap_or(0);
        match known {
            ErrorCode::InternalError => P::Internal(list),
            ErrorCode::InvalidFormat => P::InvalidFormat(list),
            ErrorCode::InvalidSignature => P::InvalidSignature(list),
            ErrorCode::PermissionDenied => P::PermissionDenied(list),
            ErrorCode::ContentUnavailable => P::ContentUnavailable(list),
            ErrorCode::FileUnavailable => P::FileUnavailable(list),
            ErrorCode::BalanceInsufficient => P::BalanceInsufficient {
                required_balance: text("required_balance"),
                account_balance: text("account_balance"),
            },
            ErrorCode::CreditInsufficient => P::CreditInsufficient {
                required_credits: text("required_credits"),
                account_credits: text("account_credits"),
                min_runtime_days: first.get("min_runtime_days").and_then(Value::as_i64).unwrap_or(1),
            },
            ErrorCode::PostAmendNoTarget => P::PostAmendNoTarget(list),
            ErrorCode::PostAmendTargetNotFound => P::PostAmendTargetNotFound(list),
            ErrorCode::PostAmendAmend => P::PostAmendAmend(list),
            ErrorCode::StoreRefNotFound => P::StoreRefNotFound(list),
            ErrorCode::StoreUpdateUpdate => P::StoreUpdateUpdate(list),
            ErrorCode::InvalidPaymentMethod => P::InvalidPaymentMethod(list),
            ErrorCode::VmRefNotFound => P::VmRefNotFound(list),
            ErrorCode::VmVolumeNotFound => P::VmVolumeNotFound(list),
            ErrorCode::VmAmendNotAllowed => P::VmAmendNotAllowed(list),
            ErrorCode::VmUpdateUpdate => P::VmUpdateUpdate(list),
            ErrorCode::VmVolumeTooSmall => P::VmVolumeTooSmall {
                volume_name: text("volume_name"),
                volume_size: number("volume_size"),
                parent_ref: text("parent_ref"),
                parent_file: text("parent_file"),
                parent_size: number("parent_size"),
            },
            ErrorCode::ForgetNoTarget => P::ForgetNoTarget,
            ErrorCode::ForgetTargetNotFound => {
                let find =
                    |k: &str| list.0.iter().find_map(|e| e.get(k).and_then(Value::as_str).map(str::to_owned));
                P::ForgetTargetNotFound { target_hash: find("message"), aggregate_key: find("aggregate") }
            }
            ErrorCode::ForgetForget => P::ForgetForget { target_hash: text("message") },
            ErrorCode::ForgetNotAllowed => {
                let msg = list.0.first().and_then(Value::as_str).unwrap_or_default();
                let (file_hash, vm_hash) = msg
                    .strip_prefix("File ")
                    .and_then(|rest| rest.split_once(" used on vm "))
                    .map(|(f, v)| (f.to_owned(), v.to_owned()))
                    .unwrap_or_default();
                P::ForgetNotAllowed { file_hash, vm_hash }
            }
            ErrorCode::ForgottenDuplicate => P::ForgottenDuplicate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_from_minus_one_to_504() {
        let codes: Vec<i32> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(
            codes,
            [
                -1, 0, 1, 2, 3, 4, 5, 6, 100, 101, 102, 200, 201, 202, 300, 301, 302, 303, 304, 500, 501,
                502, 503, 504
            ]
        );
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_i32(c.code()), Some(*c));
        }
        assert_eq!(ErrorCode::from_i32(7), None);
        assert_eq!(ErrorCode::InvalidFormat.name(), "INVALID_FORMAT");
        assert_eq!(ErrorCode::ForgottenDuplicate.to_string(), "FORGOTTEN_DUPLICATE (504)");
    }

    #[test]
    fn kinds_follow_the_reference() {
        let retry: Vec<i32> =
            ErrorCode::ALL.iter().filter(|c| c.kind() == ErrorKind::Retry).map(|c| c.code()).collect();
        assert_eq!(retry, [-1, 3, 4, 101, 200, 300, 301, 501]);
        assert_eq!(ProcessingError::invalid_format("x").kind(), ErrorKind::Reject);
        assert_eq!(ProcessingError::content_unavailable("h").kind(), ErrorKind::Retry);
        assert_eq!(ProcessingError::Unknown { code: 999, details: Value::Null }.kind(), ErrorKind::Reject);
        assert_eq!(ProcessingError::Unknown { code: 999, details: Value::Null }.code(), 999);
    }

    #[test]
    fn details_payloads() {
        let e = ProcessingError::BalanceInsufficient {
            required_balance: "2000.5".into(),
            account_balance: "10".into(),
        };
        assert_eq!(e.code(), 5);
        assert_eq!(e.details(), json!({"errors": [{"required_balance": "2000.5", "account_balance": "10"}]}));
        let e = ProcessingError::CreditInsufficient {
            required_credits: "86400".into(),
            account_credits: "0".into(),
            min_runtime_days: 1,
        };
        assert_eq!(
            e.details(),
            json!({"errors": [{"required_credits": "86400", "account_credits": "0", "min_runtime_days": 1}]})
        );
        let e = ProcessingError::VmVolumeTooSmall {
            volume_name: "rootfs".into(),
            volume_size: 1 << 20,
            parent_ref: "r".into(),
            parent_file: "f".into(),
            parent_size: 2 << 20,
        };
        assert_eq!(
            e.details(),
            json!({"errors": [{"volume_name": "rootfs", "parent_ref": "r", "parent_file": "f",
                               "parent_size": 2097152, "volume_size": 1048576}]})
        );
        assert_eq!(ProcessingError::ForgetNoTarget.details(), Value::Null);
        assert_eq!(ProcessingError::InvalidFormat(ErrorList::none()).details(), Value::Null);
        assert_eq!(
            ProcessingError::ForgetTargetNotFound { target_hash: Some("h".into()), aggregate_key: None }
                .details(),
            json!({"errors": [{"message": "h"}]})
        );
        assert_eq!(
            ProcessingError::ForgetTargetNotFound { target_hash: None, aggregate_key: Some("k".into()) }
                .details(),
            json!({"errors": [{"aggregate": "k"}]})
        );
        assert_eq!(
            ProcessingError::ForgetNotAllowed { file_hash: "f".into(), vm_hash: "v".into() }.details(),
            json!({"errors": ["File f used on vm v"]})
        );
        assert_eq!(
            ProcessingError::content_unavailable("abc").details(),
            json!({"errors": ["File not found: abc (could not fetch message content)"]})
        );
    }

    #[test]
    fn decoding_a_rejection_round_trips() {
        let samples = vec![
            ProcessingError::internal("boom"),
            ProcessingError::invalid_format("bad"),
            ProcessingError::InvalidFormat(ErrorList(vec![
                json!({"loc": ["time"], "msg": "Field required"}),
            ])),
            ProcessingError::invalid_signature("Invalid signature for x"),
            ProcessingError::permission_denied("no"),
            ProcessingError::content_unavailable("h"),
            ProcessingError::file_unavailable("h", Some("timeout")),
            ProcessingError::BalanceInsufficient {
                required_balance: "1".into(),
                account_balance: "0".into(),
            },
            ProcessingError::CreditInsufficient {
                required_credits: "5".into(),
                account_credits: "1".into(),
                min_runtime_days: 1,
            },
            ProcessingError::PostAmendNoTarget(ErrorList::none()),
            ProcessingError::PostAmendTargetNotFound(ErrorList::none()),
            ProcessingError::PostAmendAmend(ErrorList::none()),
            ProcessingError::StoreRefNotFound(ErrorList::one("ref")),
            ProcessingError::StoreUpdateUpdate(ErrorList::none()),
            ProcessingError::InvalidPaymentMethod(ErrorList::none()),
            ProcessingError::VmRefNotFound(ErrorList::one("ref")),
            ProcessingError::VmVolumeNotFound(ErrorList(vec![json!("a"), json!("b")])),
            ProcessingError::VmAmendNotAllowed(ErrorList::none()),
            ProcessingError::VmUpdateUpdate(ErrorList::none()),
            ProcessingError::VmVolumeTooSmall {
                volume_name: "data".into(),
                volume_size: 1,
                parent_ref: "p".into(),
                parent_file: "f".into(),
                parent_size: 2,
            },
            ProcessingError::ForgetNoTarget,
            ProcessingError::ForgetTargetNotFound {
                target_hash: Some("h".into()),
                aggregate_key: Some("k".into()),
            },
            ProcessingError::ForgetForget { target_hash: "h".into() },
            ProcessingError::ForgetNotAllowed { file_hash: "f".into(), vm_hash: "v".into() },
            ProcessingError::ForgottenDuplicate,
            ProcessingError::Unknown { code: 42, details: json!({"x": 1}) },
        ];
        let mut seen = std::collections::BTreeSet::new();
        for e in samples {
            seen.insert(e.code());
            let back = ProcessingError::from_code(e.code(), &e.details());
            assert_eq!(back, e, "{e}");
            assert!(!e.to_string().is_empty());
        }
        for c in ErrorCode::ALL {
            assert!(seen.contains(&c.code()), "{c} not covered");
        }
    }

    #[test]
    fn decoding_is_lenient() {
        assert_eq!(
            ProcessingError::from_code(0, &json!("plain text")),
            ProcessingError::InvalidFormat(ErrorList(vec![json!("plain text")]))
        );
        assert_eq!(
            ProcessingError::from_code(5, &Value::Null),
            ProcessingError::BalanceInsufficient {
                required_balance: String::new(),
                account_balance: String::new()
            }
        );
        assert_eq!(
            ProcessingError::from_code(503, &json!({"errors": ["weird"]})),
            ProcessingError::ForgetNotAllowed { file_hash: String::new(), vm_hash: String::new() }
        );
    }
}
