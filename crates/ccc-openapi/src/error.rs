//! What can go wrong with a call, and how it reaches the workbench's `onErrorNotify`.

use std::fmt;
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
///
/// `Display` and `Debug` show an excerpt of a raw body with the values of secret-looking
/// keys (passwords, signatures, tokens, credentials) replaced by `<redacted>`, so an
/// answer that failed to decode cannot put a TURN password or a signed URL into a log;
/// [`Error::body`] gives the body as it came.
#[derive(thiserror::Error)]
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

/// Words in a key that mark its value as a secret.
const SECRET_WORDS: [&str; 6] = [
    "password",
    "secret",
    "signature",
    "token",
    "signdata",
    "credential",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| key.contains(word))
}

/// The body with the values of secret-looking keys replaced, when it is JSON.
fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if is_secret_key(key) && !value.is_object() && !value.is_array() {
                    *value = serde_json::Value::String("<redacted>".to_owned());
                } else {
                    redact_json(value);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

/// What `Display` and `Debug` show of a raw body: at most 200 characters, secrets
/// redacted. A body that is not JSON but names a secret is not shown at all (a cut-off
/// JSON answer would still hold the value).
fn excerpt(body: &str) -> String {
    const MAX: usize = 200;
    if body.trim().is_empty() {
        return "(empty body)".to_owned();
    }
    let shown = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut json) => {
            redact_json(&mut json);
            json.to_string()
        }
        Err(_) if is_secret_key(body) => {
            return format!("({} bytes, not shown: they may hold a secret)", body.len());
        }
        Err(_) => body.to_owned(),
    };
    match shown.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &shown[..cut]),
        None => shown,
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Api(e) => f.debug_tuple("Api").field(e).finish(),
            Self::Status {
                action,
                http_status,
                body,
            } => f
                .debug_struct("Status")
                .field("action", action)
                .field("http_status", http_status)
                .field("body", &excerpt(body))
                .finish(),
            Self::Decode {
                action,
                http_status,
                reason,
                body,
            } => f
                .debug_struct("Decode")
                .field("action", action)
                .field("http_status", http_status)
                .field("reason", reason)
                .field("body", &excerpt(body))
                .finish(),
            Self::Timeout { action, after } => f
                .debug_struct("Timeout")
                .field("action", action)
                .field("after", after)
                .finish(),
            Self::Transport {
                action,
                message,
                source,
            } => f
                .debug_struct("Transport")
                .field("action", action)
                .field("message", message)
                .field("source", source)
                .finish(),
            Self::Request { action, message } => f
                .debug_struct("Request")
                .field("action", action)
                .field("message", message)
                .finish(),
        }
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
    fn raw_bodies_never_show_secrets() {
        let turn = r#"{"Code":"OK","Password":"turn-pass-1","Username":"u","Data":{"SignData":"sd-2","Token":{"Signature":"sig-3"}},"List":[{"AccessKeySecret":"ak-4"}]}"#;
        let decode = Error::Decode {
            action: "GetTURNCredentials".into(),
            http_status: 200,
            reason: "invalid type".into(),
            body: turn.into(),
        };
        let cut = Error::Status {
            action: "GetTURNCredentials".into(),
            http_status: 502,
            body: turn[..40].into(),
        };
        for error in [&decode, &cut] {
            for shown in [error.to_string(), format!("{error:?}")] {
                for secret in ["turn-pass-1", "sd-2", "sig-3", "ak-4"] {
                    assert!(!shown.contains(secret), "{secret} in {shown}");
                }
            }
        }
        assert!(
            decode.to_string().contains(r#""Username":"u""#),
            "the rest is shown"
        );
        assert!(decode.to_string().contains("<redacted>"));
        assert_eq!(
            decode.body(),
            Some(turn),
            "the raw body is still there for the program"
        );
        let html = Error::Status {
            action: "A".into(),
            http_status: 502,
            body: "<html>Bad Gateway</html>".into(),
        };
        assert!(html.to_string().contains("Bad Gateway"));
    }

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
