//! The status fields every answer carries, and CCC's error body.

use serde::{Deserialize, Serialize};

/// The status fields of an answer: `RequestId`, `Code`, `Message`, `HttpStatusCode`
/// and, in 2017-07-05, `Success`.
pub trait AnswerStatus {
    /// `RequestId`.
    fn request_id(&self) -> Option<&str>;
    /// `Code`: `OK` on success.
    fn code(&self) -> Option<&str>;
    /// `Message`.
    fn message(&self) -> Option<&str>;
    /// `HttpStatusCode`, as the body repeats it.
    fn http_status_code(&self) -> Option<i64>;
    /// `Success` (2017-07-05 only).
    fn success(&self) -> Option<bool> {
        None
    }

    /// Whether the body itself says the call failed although HTTP said 2xx, as a proxy
    /// may answer: `Success: false`, a non-2xx `HttpStatusCode`, or a 2020-07-01 `Code`
    /// other than `OK`.
    fn says_failure(&self) -> bool {
        self.success() == Some(false)
            || self
                .http_status_code()
                .is_some_and(|s| !(200..300).contains(&s))
            || (self.success().is_none() && self.code().is_some_and(|c| c != "OK"))
    }
}

/// Any answer read as plain JSON: the status fields are looked up by name.
impl AnswerStatus for serde_json::Value {
    fn request_id(&self) -> Option<&str> {
        self.get("RequestId").and_then(Self::as_str)
    }
    fn code(&self) -> Option<&str> {
        self.get("Code").and_then(Self::as_str)
    }
    fn message(&self) -> Option<&str> {
        self.get("Message").and_then(Self::as_str)
    }
    fn http_status_code(&self) -> Option<i64> {
        self.get("HttpStatusCode").and_then(Self::as_i64)
    }
    fn success(&self) -> Option<bool> {
        self.get("Success").and_then(Self::as_bool)
    }
}

/// CCC's error answer: `{"RequestId","HostId","Code","Message","Recommend"}`, sent with a
/// 4xx or 5xx status. Read leniently: keys with either case of their first letter (the
/// tea SDK reads `Code` and `code`), numbers taken as text.
///
/// ```
/// let e = ccc_openapi::ErrorAnswer::new("r-1", "Forbidden.NoPermission", "No permission.");
/// let json = serde_json::to_value(&e).unwrap();
/// assert_eq!(json["Code"], "Forbidden.NoPermission");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorAnswer {
    /// `RequestId`.
    #[serde(alias = "requestId")]
    #[serde(rename = "RequestId", default, deserialize_with = "text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `HostId`: the gateway host.
    #[serde(alias = "hostId")]
    #[serde(rename = "HostId", default, deserialize_with = "text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    /// `Code`: the error code (`InvalidParameter`, `Forbidden.NoPermission`, ...).
    #[serde(alias = "code", alias = "errorCode", alias = "ErrorCode")]
    #[serde(rename = "Code", default, deserialize_with = "text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `Message`: what went wrong.
    #[serde(alias = "message", alias = "errorMsg", alias = "ErrorMsg")]
    #[serde(rename = "Message", default, deserialize_with = "text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Recommend`: a troubleshooting link.
    #[serde(alias = "recommend")]
    #[serde(rename = "Recommend", default, deserialize_with = "text")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommend: Option<String>,
    /// `Success`: `false` in some proxies' error answers.
    #[serde(alias = "success")]
    #[serde(rename = "Success", default, skip_serializing_if = "Option::is_none")]
    pub success: Option<serde_json::Value>,
}

/// A string, or a number or boolean taken as its text; anything else is `None`.
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

impl ErrorAnswer {
    /// An error answer as CCC sends it.
    pub fn new(
        request_id: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            request_id: Some(request_id.into()),
            host_id: None,
            code: Some(code.into()),
            message: Some(message.into()),
            recommend: None,
            success: None,
        }
    }

    /// The error in `body`, if it is a JSON object naming a `Code` that is not `OK`.
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        Self::from_value(&serde_json::from_slice(body).ok()?)
    }

    /// The same from an already parsed value.
    pub(crate) fn from_value(value: &serde_json::Value) -> Option<Self> {
        if !value.is_object() {
            return None;
        }
        let parsed = Self::deserialize(value).ok()?;
        parsed.is_error().then_some(parsed)
    }

    fn is_error(&self) -> bool {
        let failed = matches!(self.success, Some(serde_json::Value::Bool(false)));
        match self.code.as_deref() {
            Some(code) => (code != "OK" && code != "200") || failed,
            None => failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies() {
        let e = ErrorAnswer::parse(
            br#"{"RequestId":"r","HostId":"ccc.cn-shanghai.aliyuncs.com","Code":"Forbidden.NoPermission","Message":"no","Recommend":"https://x"}"#,
        )
        .unwrap();
        assert_eq!(e.code.as_deref(), Some("Forbidden.NoPermission"));
        assert_eq!(e.request_id.as_deref(), Some("r"));
        assert_eq!(e.recommend.as_deref(), Some("https://x"));
        let lower =
            ErrorAnswer::parse(br#"{"code":404,"message":"gone","requestId":"q"}"#).unwrap();
        assert_eq!(lower.code.as_deref(), Some("404"));
        assert!(ErrorAnswer::parse(br#"{"Code":"OK","Success":true}"#).is_none());
        assert!(ErrorAnswer::parse(br#"{"Success":false,"Message":"x"}"#).is_some());
        assert!(ErrorAnswer::parse(b"<html>").is_none());
        assert!(ErrorAnswer::parse(b"[1]").is_none());
        assert!(ErrorAnswer::parse(br#"{"Code":{"x":1}}"#).is_none());
    }
}
