//! One error type for the whole request path, shared by server and browser. Internal errors are
//! logged on the server and reach the caller only as an opaque message.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("Sign in to continue.")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// The text is safe to show: the cause was logged on the server under this reference.
    #[error("Something went wrong on the server (reference {0}).")]
    Internal(String),
    /// The request never reached a result (network, decoding).
    #[error("{0}")]
    Transport(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(what: impl std::fmt::Display) -> AppError {
        AppError::NotFound(format!("{what} was not found."))
    }

    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::Invalid { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::Internal(_) => 500,
            AppError::Transport(_) => 502,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "Not found",
            AppError::Unauthorized => "Sign in required",
            AppError::Forbidden(_) => "Not allowed",
            AppError::Invalid { .. } => "Check your input",
            AppError::Conflict(_) => "Conflict",
            AppError::Internal(_) | AppError::Transport(_) => "Something went wrong",
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(message) | ServerFnErrorErr::MissingArg(message) => {
                AppError::invalid("request", message)
            }
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl AppError {
        /// Logs the real cause and returns an opaque error carrying a reference to the log line.
        pub fn internal(cause: impl std::fmt::Display) -> AppError {
            let reference = format!("{:08x}", rand_reference());
            tracing::error!(reference, "internal error: {cause}");
            AppError::Internal(reference)
        }
    }

    fn rand_reference() -> u32 {
        use std::sync::atomic::{AtomicU32, Ordering};
        use std::time::{SystemTime, UNIX_EPOCH};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        nanos ^ COUNTER.fetch_add(0x9E37_79B9, Ordering::Relaxed)
    }

    impl From<sea_orm::DbErr> for AppError {
        fn from(error: sea_orm::DbErr) -> Self {
            AppError::internal(error)
        }
    }

    impl<E: std::fmt::Display> From<sea_orm::TransactionError<E>> for AppError
    where
        E: std::error::Error + Into<AppError>,
    {
        fn from(error: sea_orm::TransactionError<E>) -> Self {
            match error {
                sea_orm::TransactionError::Connection(db) => AppError::internal(db),
                sea_orm::TransactionError::Transaction(inner) => inner.into(),
            }
        }
    }
}
