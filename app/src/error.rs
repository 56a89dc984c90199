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
    /// Bad input: the first problem, and with it every other one the same submission has
    /// (`more`), so a form shows them all at once.
    #[error("{field}: {message}")]
    Invalid {
        field: String,
        message: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        more: Vec<FieldProblem>,
    },
    #[error("{0}")]
    Conflict(String),
    /// The text is safe to show: the cause was logged on the server under this reference.
    #[error("Something went wrong on the server (reference {0}).")]
    Internal(String),
    /// The request never reached a result (network, decoding).
    #[error("{0}")]
    Transport(String),
    /// A forge, registry or git remote that Slipway called refused for good (bad credentials, a
    /// missing repository): trying again will not help until someone changes something.
    #[error("{0}")]
    Upstream(String),
    /// A forge, registry or git remote that Slipway called is unreachable or busy for now.
    #[error("{0}")]
    Unavailable(String),
}

pub type AppResult<T> = Result<T, AppError>;

/// One field's problem in a submission with several.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
            more: Vec::new(),
        }
    }

    /// Every problem a submission has, as one error (`None` when there is none).
    pub fn invalid_all(problems: Vec<(String, String)>) -> Option<AppError> {
        let mut problems = problems.into_iter();
        let (field, message) = problems.next()?;
        Some(AppError::Invalid {
            field,
            message,
            more: problems
                .map(|(field, message)| FieldProblem { field, message })
                .collect(),
        })
    }

    /// Each (field, message) of a refused submission; empty for other errors.
    pub fn problems(&self) -> Vec<(&str, &str)> {
        match self {
            AppError::Invalid {
                field,
                message,
                more,
            } => std::iter::once((field.as_str(), message.as_str()))
                .chain(more.iter().map(|p| (p.field.as_str(), p.message.as_str())))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The message about `field`, if the submission was refused for it.
    pub fn message_for(&self, field: &str) -> Option<String> {
        self.problems()
            .into_iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.to_string())
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
            AppError::Transport(_) | AppError::Upstream(_) => 502,
            AppError::Unavailable(_) => 503,
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
            AppError::Upstream(_) => "Refused by a service Slipway calls",
            AppError::Unavailable(_) => "Try again shortly",
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

    /// A route outside the server functions (webhooks, `/api/events`) answers a refusal as the
    /// server functions do: the status it stands for, the error as JSON.
    impl axum::response::IntoResponse for AppError {
        fn into_response(self) -> axum::response::Response {
            let status = axum::http::StatusCode::from_u16(self.status_code())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            (status, axum::Json(self)).into_response()
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
