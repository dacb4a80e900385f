//! Turning an answer (status and body) into the action's typed answer or an [`Error`].

use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error};
use crate::shape::{Shape, pascal_case_keys};
use crate::status::{AnswerStatus, ErrorAnswer};

/// The body of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// Bytes from HTTP.
    Bytes(Vec<u8>),
    /// JSON a custom function returned.
    Json(serde_json::Value),
}

/// An answer as a transport received it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// The HTTP status (200 for a custom function's answer).
    pub http_status: u16,
    /// The body.
    pub body: Body,
    /// The shape it is in.
    pub shape: Shape,
}

impl Reply {
    /// An answer in CCC's own shape.
    pub fn openapi(http_status: u16, body: Vec<u8>) -> Self {
        Self {
            http_status,
            body: Body::Bytes(body),
            shape: Shape::OpenApi,
        }
    }
}

/// Decodes `reply` as the answer `T` of `action`.
///
/// Non-2xx: CCC's error JSON gives [`Error::Api`], anything else [`Error::Status`].
/// 2xx: the typed answer, unless the body is empty, not JSON, not the action's shape
/// ([`Error::Decode`], raw body kept) or says it failed (`Success: false`, a non-2xx
/// `HttpStatusCode`, a 2020 `Code` other than `OK`: [`Error::Api`]).
pub fn decode<T>(action: &str, reply: Reply) -> Result<T, Error>
where
    T: DeserializeOwned + AnswerStatus,
{
    let status = reply.http_status;
    let ok = (200..300).contains(&status);
    match reply.body {
        Body::Bytes(bytes) => {
            if !ok {
                return Err(
                    match ErrorAnswer::parse(&bytes).or_else(|| {
                        let value = serde_json::from_slice(&bytes).ok()?;
                        ErrorAnswer::from_value(&pascal_case_keys(value))
                    }) {
                        Some(answer) => api_error(action, status, answer).into(),
                        None => Error::Status {
                            action: action.to_owned(),
                            http_status: status,
                            body: lossy(&bytes),
                        },
                    },
                );
            }
            if let Some(reason) = not_json(&bytes) {
                return Err(decode_error(action, status, reason.to_owned(), &bytes));
            }
            let typed = match reply.shape {
                // The fast path: straight from the bytes.
                Shape::OpenApi => serde_json::from_slice::<T>(&bytes),
                Shape::Demo => serde_json::from_slice::<serde_json::Value>(&bytes)
                    .and_then(|v| T::deserialize(pascal_case_keys(v))),
            };
            match typed {
                Ok(answer) => checked(action, status, answer),
                Err(e) => Err(match ErrorAnswer::parse(&bytes) {
                    Some(answer) => api_error(action, status, answer).into(),
                    None => decode_error(action, status, e.to_string(), &bytes),
                }),
            }
        }
        Body::Json(value) => {
            let value = match reply.shape {
                Shape::OpenApi => value,
                Shape::Demo => pascal_case_keys(value),
            };
            if !ok {
                return Err(match ErrorAnswer::from_value(&value) {
                    Some(answer) => api_error(action, status, answer).into(),
                    None => Error::Status {
                        action: action.to_owned(),
                        http_status: status,
                        body: value.to_string(),
                    },
                });
            }
            let typed = if value.is_object() {
                T::deserialize(&value)
            } else {
                Err(serde::de::Error::custom("not a JSON object"))
            };
            match typed {
                Ok(answer) => checked(action, status, answer),
                Err(e) => Err(match ErrorAnswer::from_value(&value) {
                    Some(answer) => api_error(action, status, answer).into(),
                    None => Error::Decode {
                        action: action.to_owned(),
                        http_status: status,
                        reason: e.to_string(),
                        body: value.to_string(),
                    },
                }),
            }
        }
    }
}

/// Why `bytes` cannot be a JSON answer, if it plainly cannot.
fn not_json(bytes: &[u8]) -> Option<&'static str> {
    let start = bytes.iter().find(|b| !b.is_ascii_whitespace());
    match start {
        None => Some("empty body"),
        Some(b'<') => Some("an HTML or XML page, not JSON"),
        Some(b'{') => None,
        Some(_) => Some("not a JSON object"),
    }
}

fn checked<T: AnswerStatus>(action: &str, status: u16, answer: T) -> Result<T, Error> {
    if !answer.says_failure() {
        return Ok(answer);
    }
    Err(ApiError {
        action: action.to_owned(),
        code: answer.code().unwrap_or("Unknown").to_owned(),
        message: answer.message().unwrap_or_default().to_owned(),
        request_id: answer.request_id().map(str::to_owned),
        http_status: answer
            .http_status_code()
            .and_then(|s| u16::try_from(s).ok())
            .filter(|s| !(200..300).contains(s))
            .unwrap_or(status),
        recommend: None,
    }
    .into())
}

fn api_error(action: &str, status: u16, answer: ErrorAnswer) -> ApiError {
    ApiError {
        action: action.to_owned(),
        code: answer.code.unwrap_or_else(|| "Unknown".to_owned()),
        message: answer.message.unwrap_or_default(),
        request_id: answer.request_id,
        http_status: status,
        recommend: answer.recommend,
    }
}

fn decode_error(action: &str, status: u16, reason: String, bytes: &[u8]) -> Error {
    Error::Decode {
        action: action.to_owned(),
        http_status: status,
        reason,
        body: lossy(bytes),
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2017::ListSkillGroupsOfUserResponse as Skills;
    use crate::v2020::MakeCallResponse;

    fn bytes(status: u16, body: &str) -> Reply {
        Reply::openapi(status, body.as_bytes().to_vec())
    }

    fn go(reply: Reply) -> Result<Skills, Error> {
        decode("ListSkillGroupsOfUser", reply)
    }

    #[test]
    fn every_bad_body_is_a_typed_error() {
        for (body, reason) in [
            ("", "empty body"),
            ("  \n", "empty body"),
            ("<html><body>502</body></html>", "HTML"),
            ("[1,2]", "not a JSON object"),
            ("\"text\"", "not a JSON object"),
            (r#"{"SkillLevels": "#, "EOF"),
            (r#"{"SkillLevels": 7}"#, "list"),
            (r#"{"Success": "yes"}"#, "boolean"),
        ] {
            match go(bytes(200, body)) {
                Err(Error::Decode {
                    reason: r,
                    body: b,
                    http_status: 200,
                    ..
                }) => {
                    assert!(r.contains(reason), "{body:?}: {r}");
                    assert_eq!(b, body);
                }
                other => panic!("{body:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn statuses_with_and_without_error_json() {
        let e = go(bytes(
            400,
            r#"{"RequestId":"r","Code":"MissingParameter","Message":"UserId is mandatory"}"#,
        ))
        .unwrap_err();
        let api = e.api().unwrap();
        assert_eq!(api.code, "MissingParameter");
        assert_eq!(api.http_status, 400);
        assert_eq!(api.request_id.as_deref(), Some("r"));
        let e = go(bytes(503, "<html>busy</html>")).unwrap_err();
        assert!(
            matches!(&e, Error::Status { http_status: 503, body, .. } if body == "<html>busy</html>")
        );
        assert!(e.is_retryable());
        let e = go(bytes(500, "")).unwrap_err();
        assert!(matches!(
            e,
            Error::Status {
                http_status: 500,
                ..
            }
        ));
        let e = go(bytes(
            404,
            r#"{"code":"NotExists.InstanceId","message":"m"}"#,
        ))
        .unwrap_err();
        assert!(e.api().is_some_and(|a| a.code == "NotExists.InstanceId"));
    }

    #[test]
    fn failure_inside_a_200() {
        let e = go(bytes(
            200,
            r#"{"Success":false,"Code":"Agent.NotFound","Message":"x","RequestId":"q"}"#,
        ))
        .unwrap_err();
        assert!(
            e.api()
                .is_some_and(|a| a.code == "Agent.NotFound" && a.http_status == 200)
        );
        let e = decode::<MakeCallResponse>(
            "MakeCall",
            bytes(
                200,
                r#"{"Code":"Forbidden","HttpStatusCode":403,"Message":"no"}"#,
            ),
        )
        .unwrap_err();
        assert_eq!(e.api().map(|a| a.http_status), Some(403));
    }

    #[test]
    fn missing_optional_fields_are_a_value() {
        let r = go(bytes(200, r#"{"RequestId":"r"}"#)).unwrap();
        assert!(r.skill_levels.is_empty());
        assert_eq!(r.success, None);
        let r = go(bytes(
            200,
            r#"{"Success":true,"Code":"OK","SkillLevels":{"SkillLevel":[{}]}}"#,
        ))
        .unwrap();
        assert_eq!(r.skill_levels.len(), 1);
        assert!(r.skill_levels[0].skill.is_none());
        let r = decode::<MakeCallResponse>("MakeCall", bytes(200, r#"{"Code":"OK","Data":null}"#))
            .unwrap();
        assert!(r.data.is_none());
    }

    #[test]
    fn proxy_shapes() {
        let demo = Reply {
            http_status: 200,
            body: Body::Bytes(
                br#"{"success":true,"code":"OK","skillLevels":[{"level":3,"skill":{"skillGroupId":"s"}}]}"#
                    .to_vec(),
            ),
            shape: Shape::Demo,
        };
        let r = go(demo).unwrap();
        assert_eq!(r.skill_levels[0].level, Some(3));
        let custom = Reply {
            http_status: 200,
            body: Body::Json(serde_json::json!({"requestId": "r", "skillLevels": []})),
            shape: Shape::Demo,
        };
        assert_eq!(go(custom).unwrap().request_id.as_deref(), Some("r"));
        let failed = Reply {
            http_status: 200,
            body: Body::Json(serde_json::json!({"code": "Throttling.User", "message": "slow"})),
            shape: Shape::Demo,
        };
        assert!(go(failed).unwrap_err().is_retryable());
        let garbage = Reply {
            http_status: 200,
            body: Body::Json(serde_json::json!(["no"])),
            shape: Shape::Demo,
        };
        assert!(matches!(go(garbage), Err(Error::Decode { .. })));
    }
}
