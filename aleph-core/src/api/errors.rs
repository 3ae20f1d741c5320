//! Error answers.
//!
//! The CCN answers every refusal in plain text, `"<status>: <reason>"` (`422: invalid cursor`),
//! as the reference node does; clients branch on the status code. The CRN answers JSON,
//! [`CrnError`], as aleph-vm does.

use serde::{Deserialize, Serialize};

/// The text of a CCN error answer.
pub fn error_text(status: u16, reason: &str) -> String {
    format!("{status}: {reason}")
}

/// A CRN error answer: `{"error": reason}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CrnError {
    /// Why.
    pub error: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ccn_error_text_starts_with_the_status() {
        assert_eq!(super::error_text(422, "invalid cursor"), "422: invalid cursor");
    }
}
