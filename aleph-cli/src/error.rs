//! The CLI's own errors, which carry an exit code; everything else is exit code 1.

use aleph_sdk::ClientError;

/// An error with a documented exit code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Bad input or usage (exit code 2): an unreadable file, malformed JSON, a missing option.
    #[error("{0}")]
    Usage(String),
    /// The command ran and its answer is negative (exit code 1), e.g. an invalid message.
    #[error("{0}")]
    Failed(String),
    /// Exit with this code without printing anything more (the output already said it).
    #[error("exit code {0}")]
    Exit(u8),
}

/// A usage error (exit code 2).
pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    CliError::Usage(msg.into()).into()
}

/// The exit code for `error`: 2 for bad input, 1 otherwise.
pub(crate) fn exit_code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<CliError>() {
            return match e {
                CliError::Usage(_) => 2,
                CliError::Failed(_) => 1,
                CliError::Exit(code) => *code,
            };
        }
        if let Some(ClientError::InvalidArgument(_)) = cause.downcast_ref::<ClientError>() {
            return 2;
        }
    }
    1
}
