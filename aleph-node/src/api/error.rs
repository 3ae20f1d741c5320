//! API errors: every failure is an HTTP status with a reason, never a panic.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::storage::StorageError;

/// An API failure.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// 400 with a reason.
    #[error("{0}")]
    BadRequest(String),
    /// 404 with a reason.
    #[error("{0}")]
    NotFound(String),
    /// 422 with a reason (validation failures, as the reference node answers).
    #[error("{0}")]
    Unprocessable(String),
    /// 403 with a reason.
    #[error("{0}")]
    Forbidden(String),
    /// 402: the account cannot pay.
    #[error("{0}")]
    PaymentRequired(String),
    /// 413: over a size limit.
    #[error("{0}")]
    TooLarge(String),
    /// 410: the resource is gone.
    #[error("{0}")]
    Gone(String),
    /// 500: storage failed. The answer says only that; the detail goes to the log.
    #[error("internal error")]
    Storage(#[from] StorageError),
    /// 503: the node is shutting down.
    #[error("the node is shutting down")]
    Unavailable,
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PaymentRequired(_) => StatusCode::PAYMENT_REQUIRED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Gone(_) => StatusCode::GONE,
            ApiError::Storage(e) if e.is_disk_full() => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Storage(e) => tracing::error!(error = %e, "request failed: storage"),
            e if status.is_server_error() => tracing::error!(error = %e, "request failed"),
            _ => {}
        }
        if status == StatusCode::INSUFFICIENT_STORAGE {
            let reason = "the node's disk is full: nothing was recorded; retry once space returns";
            return (status, [(axum::http::header::RETRY_AFTER, "60")], format!("507: {reason}"))
                .into_response();
        }
        // Plain text, like the reference node; clients branch on the status code.
        (status, format!("{}: {}", status.as_u16(), self)).into_response()
    }
}

impl From<crate::pipeline::SubmitError> for ApiError {
    fn from(e: crate::pipeline::SubmitError) -> Self {
        match e {
            crate::pipeline::SubmitError::Envelope(e) => {
                ApiError::Unprocessable(format!("InvalidMessageFormat: {e}"))
            }
            crate::pipeline::SubmitError::Storage(e) => ApiError::Storage(e),
            crate::pipeline::SubmitError::ShuttingDown => ApiError::Unavailable,
        }
    }
}

impl From<aleph_core::api::QueryError> for ApiError {
    fn from(e: aleph_core::api::QueryError) -> Self {
        ApiError::Unprocessable(e.message)
    }
}

/// A `Result` for handlers.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
