//! [`Envelope`]: the frame of every 2020-07-01 answer.

use serde::{Deserialize, Serialize};

use crate::status::AnswerStatus;

/// A 2020-07-01 answer: `{"RequestId","Code","HttpStatusCode","Message","Params","Data"}`,
/// with the action's `Data` typed as `D`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Envelope<D> {
    /// `RequestId`: the request id, for Alibaba's support.
    #[serde(rename = "RequestId", default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// `Code`: `OK` on success, else the error code.
    #[serde(rename = "Code", default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `HttpStatusCode`: the HTTP status, repeated in the body.
    #[serde(
        rename = "HttpStatusCode",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub http_status_code: Option<i64>,
    /// `Message`: empty on success, else what went wrong.
    #[serde(rename = "Message", default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `Params`: the values an error message refers to.
    #[serde(rename = "Params", default, deserialize_with = "crate::wire::list")]
    pub params: Vec<String>,
    /// `Data`: the action's answer.
    #[serde(rename = "Data", default, skip_serializing_if = "Option::is_none")]
    pub data: Option<D>,
}

impl<D> Envelope<D> {
    /// A successful answer (`Code: OK`, `HttpStatusCode: 200`) carrying `data`, as CCC
    /// sends it.
    pub fn ok(request_id: impl Into<String>, data: D) -> Self {
        Self {
            request_id: Some(request_id.into()),
            code: Some("OK".to_owned()),
            http_status_code: Some(200),
            message: Some(String::new()),
            params: Vec::new(),
            data: Some(data),
        }
    }
}

impl<D> AnswerStatus for Envelope<D> {
    fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
    fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
    fn http_status_code(&self) -> Option<i64> {
        self.http_status_code
    }
}
