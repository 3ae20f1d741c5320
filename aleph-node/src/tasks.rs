//! Background tasks under one cancellation token, with critical tasks that bring the node down
//! when they fail.

use std::future::Future;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Owns the node's background tasks.
#[derive(Debug)]
pub(crate) struct TaskManager {
    token: CancellationToken,
    tasks: JoinSet<(&'static str, Result<(), String>)>,
    /// Cancelled when a critical task fails, so the node shuts down.
    failed: CancellationToken,
}

impl TaskManager {
    pub(crate) fn new() -> Self {
        TaskManager {
            token: CancellationToken::new(),
            tasks: JoinSet::new(),
            failed: CancellationToken::new(),
        }
    }

    /// The token every task watches for shutdown.
    pub(crate) fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    /// Cancelled when a critical task fails.
    pub(crate) fn failed(&self) -> CancellationToken {
        self.failed.clone()
    }

    /// Spawns a task that must not fail: if it returns an error or panics, the node stops.
    pub(crate) fn spawn_critical<F>(&mut self, name: &'static str, fut: F)
    where
        F: Future<Output = Result<(), String>> + Send + 'static,
    {
        let failed = self.failed.clone();
        self.tasks.spawn(async move {
            let res = fut.await;
            if let Err(e) = &res {
                tracing::error!(task = name, error = %e, "critical task failed; shutting down");
                failed.cancel();
            }
            (name, res)
        });
    }

    /// Cancels every task and waits for them, logging failures and panics.
    pub(crate) async fn shutdown(mut self) {
        self.token.cancel();
        while let Some(joined) = self.tasks.join_next().await {
            match joined {
                Ok((name, Ok(()))) => tracing::debug!(task = name, "task stopped"),
                Ok((name, Err(e))) => tracing::warn!(task = name, error = %e, "task ended with an error"),
                Err(e) => tracing::error!(error = %e, "task panicked"),
            }
        }
    }
}
