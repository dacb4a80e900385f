//! What can go wrong with a call, and how it reaches the workbench's `onErrorNotify`.

use std::time::Duration;

use ccc_core::{ErrorCode, ErrorNotify};

/// CCC (or the proxy in front of it) answered with an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action}: {code}: {message} (HTTP {http_status}{})", request_suffix(.request_id.as_deref()))]
#[non_exhaustive]
pub struct ApiError {
    /// The action that failed.
    pub action: String,
    /// CCC's error code (`Forbidden.NoPermission`, `SignatureDoesNotMatch`, ...).
    pub code: String,
    /// CCC's message. For `SignatureDoesNotMatch` it ends with the string CCC signed,
    /// which `ccc api --dry-run` shows ours beside.
    pub message: String,
    /// The request id, for Alibaba's support.
    pub request_id: Option<String>,
    /// The HTTP status (200 when a proxy put an error body in a 200 answer).
    pub http_status: u16,
    /// CCC's troubleshooting link, if it sent one.
    pub recommend: Option<String>,
}

fn request_suffix(id: Option<&str>) -> String {
    id.map(|id| format!(", request {id}")).unwrap_or_default()
}

impl ApiError {
    /// Whether retrying later may help: throttling or a 5xx.
    pub fn is_retryable(&self) -> bool {
        self.is_throttling()
            || self.code == "ServiceUnavailable"
            || self.http_status == 429
            || self.http_status >= 500
    }

    /// Whether CCC refused the call for its rate (`Throttling*`, HTTP 429) before doing
    /// anything, so another try later cannot do the work twice.
    pub fn is_throttling(&self) -> bool {
        self.code.starts_with("Throttling") || self.http_status == 429
    }
}

/// A call that did not give a typed answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// CCC answered with an error (boxed: it is the largest variant).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// A 4xx or 5xx without CCC's error JSON (a gateway's HTML page, an empty body).
    #[error("{action}: HTTP {http_status} without an error answer: {}", excerpt(.body))]
    Status {
        /// The action.
        action: String,
        /// The HTTP status.
        http_status: u16,
        /// The body as it came (lossy UTF-8).
        body: String,
    },
    /// A 2xx answer that is not the action's JSON: empty, HTML, malformed, wrong types.
    #[error("{action}: the answer does not decode: {reason}: {}", excerpt(.body))]
    Decode {
        /// The action.
        action: String,
        /// The HTTP status.
        http_status: u16,
        /// What is wrong with it.
        reason: String,
        /// The body as it came (lossy UTF-8).
        body: String,
    },
    /// No answer in time.
    #[error("{action}: no answer within {after:?}")]
    Timeout {
        /// The action.
        action: String,
        /// The time allowed.
        after: Duration,
    },
    /// The request did not get through: connection refused, TLS, reset, a body too big.
    #[error("{action}: {message}")]
    Transport {
        /// The action.
        action: String,
        /// What happened.
        message: String,
        /// The cause.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The request cannot be made as configured (a bad base URL, a custom function's
    /// own failure).
    #[error("{action}: {message}")]
    Request {
        /// The action.
        action: String,
        /// What is wrong.
        message: String,
    },
}

fn excerpt(body: &str) -> String {
    const MAX: usize = 200;
    if body.trim().is_empty() {
        return "(empty body)".to_owned();
    }
    match body.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &body[..cut]),
        None => body.to_owned(),
    }
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        Self::Api(Box::new(error))
    }
}

impl Error {
    /// CCC's error, if that is what this is.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The action the error is about.
    pub fn action(&self) -> &str {
        match self {
            Self::Api(e) => &e.action,
            Self::Status { action, .. }
            | Self::Decode { action, .. }
            | Self::Timeout { action, .. }
            | Self::Transport { action, .. }
            | Self::Request { action, .. } => action,
        }
    }

    /// The raw body of the answer, when there was one that was not CCC's.
    pub fn body(&self) -> Option<&str> {
        match self {
            Self::Status { body, .. } | Self::Decode { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The HTTP status, when an answer came.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.http_status),
            Self::Status { http_status, .. } | Self::Decode { http_status, .. } => {
                Some(*http_status)
            }
            _ => None,
        }
    }

    /// Whether retrying later may help: throttling, 5xx, a timeout or a lost connection.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(e) => e.is_retryable(),
            Self::Status { http_status, .. } => *http_status == 429 || *http_status >= 500,
            Self::Timeout { .. } | Self::Transport { .. } => true,
            Self::Decode { .. } | Self::Request { .. } => false,
        }
    }

    /// The error as the workbench reports it (`onErrorNotify`, C21 `exportErrorOfApi`):
    /// CCC's code, message and request id; `network error` for everything that is not
    /// CCC's own answer.
    pub fn to_notify(&self) -> ErrorNotify {
        match self {
            Self::Api(e) => {
                let notify = ErrorNotify::new(
                    e.action.as_str(),
                    ErrorCode::parse(&e.code),
                    e.message.as_str(),
                );
                match &e.request_id {
                    Some(id) => notify.with_request_id(id.as_str()),
                    None => notify,
                }
            }
            other => ErrorNotify::new(
                other.action(),
                ErrorCode::NetworkError,
                other.to_string().as_str(),
            ),
        }
    }
}

impl From<&Error> for ErrorNotify {
    fn from(error: &Error) -> Self {
        error.to_notify()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_carries_code_message_and_request() {
        let api = Error::from(ApiError {
            action: "MakeCall".into(),
            code: "Forbidden.NoPermission".into(),
            message: "no".into(),
            request_id: Some("r-1".into()),
            http_status: 403,
            recommend: None,
        });
        let n = api.to_notify();
        assert_eq!(&*n.api, "MakeCall");
        assert_eq!(n.code.as_str(), "Forbidden.NoPermission");
        assert_eq!(&*n.msg, "no");
        assert_eq!(n.request_id.as_deref(), Some("r-1"));
        assert!(!api.is_retryable());
        let timeout = Error::Timeout {
            action: "PollUserStatus".into(),
            after: Duration::from_secs(3),
        };
        let n = ErrorNotify::from(&timeout);
        assert_eq!(n.code, ErrorCode::NetworkError);
        assert!(n.msg.contains("PollUserStatus"));
        assert!(timeout.is_retryable());
        let status = Error::Status {
            action: "A".into(),
            http_status: 502,
            body: "<html>".repeat(100),
        };
        assert!(status.to_string().ends_with("..."));
        assert_eq!(status.body().map(str::len), Some(600));
    }
}
