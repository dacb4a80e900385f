//! The OpenAPI of the emulated call center: every action the SDK uses, both versions,
//! on one endpoint, answering in CCC's shapes.
//!
//! [`gateway`] checks who asks (signed or proxied); [`dispatch`] runs the action against
//! the [`Platform`] and wraps the answer: 2017-07-05 answers carry their fields at the
//! top level beside `Success`/`Code`/`Message`/`HttpStatusCode` with every list wrapped
//! one level deeper; 2020-07-01 answers put theirs in `Data`, beside `Params`. Errors
//! are CCC's error JSON with its HTTP status.

pub mod gateway;
pub mod params;
mod store;
pub mod upload;
mod v2017;
mod v2020;

use std::time::Instant;

use ccc_openapi::{Action, ParamError, WireParams};
use serde_json::{Map, Value, json};

use crate::platform::{Platform, PlatformError};
use crate::token::Tokens;
pub use gateway::{ApiRequest, Gateway, Incoming, Key, Style};
pub use store::{AgentDevice, Fault, Store, Upload};
pub(crate) use v2020::time_limited_password;

/// An API version of CCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2017-07-05`: the workbench SDK 1.x data actions.
    V2017,
    /// `2020-07-01`: agent control and the newer data actions.
    V2020,
}

impl Version {
    /// As the `Version` parameter spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V2017 => "2017-07-05",
            Self::V2020 => "2020-07-01",
        }
    }

    /// The version spelled `wire`.
    pub fn parse(wire: &str) -> Option<Self> {
        [Self::V2017, Self::V2020]
            .into_iter()
            .find(|v| v.as_str() == wire)
    }
}

/// How TURN servers authenticate their users.
#[derive(Clone, PartialEq, Eq)]
pub enum TurnAuth {
    /// A fixed user and password.
    Static {
        /// The user.
        username: String,
        /// The password.
        password: String,
    },
    /// The time-limited scheme: user `expiry:name`, password base64 HMAC-SHA1 of the
    /// user under the shared secret.
    Secret(String),
}

impl std::fmt::Debug for TurnAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Static { username, .. } => write!(f, "Static({username}, <redacted>)"),
            Self::Secret(_) => f.write_str("Secret(<redacted>)"),
        }
    }
}

/// One region's TURN servers, as `GetTURNServerList` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnAccess {
    /// The region.
    pub region: String,
    /// The servers' URLs.
    pub urls: Vec<String>,
    /// How they authenticate.
    pub auth: TurnAuth,
}

/// The emulator's own addresses, for login info and download links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Urls {
    /// The OpenAPI endpoint (`http://127.0.0.1:PORT/`).
    pub api: String,
    /// The agent link (`ws://127.0.0.1:PORT/`).
    pub agent_server: String,
    /// The SIP-over-WebSocket server (`ws://127.0.0.1:PORT/`).
    pub sip_ws: String,
}

/// What the actions need besides the platform.
#[derive(Debug)]
pub struct Context<'a> {
    /// The emulator's addresses.
    pub urls: &'a Urls,
    /// Login tokens and download links.
    pub tokens: &'a Tokens,
    /// TURN access points by region.
    pub turn: &'a [TurnAccess],
    /// How `GetTURNCredentials` makes credentials: the first region's scheme (every
    /// region should share it), or the emulator's own static pair when it has none.
    pub turn_auth: &'a TurnAuth,
    /// Records only the API keeps (devices, faults, privacy numbers).
    pub store: &'a mut Store,
    /// Wall-clock milliseconds now.
    pub now_ms: i64,
    /// The request id of this answer.
    pub request_id: String,
}

/// An answer: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

/// The request id of the `n`-th answer: CCC's uppercase UUID shape.
pub fn request_id(seed: u64, n: u64) -> String {
    let x = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08X}-{:04X}-4{:03X}-A{:03X}-{:012X}",
        (x >> 32) as u32,
        (x >> 16) as u16,
        (x >> 4) as u16 & 0xFFF,
        n as u16 & 0xFFF,
        n & 0xFFFF_FFFF_FFFF
    )
}

/// CCC's error JSON for `error` in answer to a request of `version`.
pub fn error_body(error: &PlatformError, version: Option<Version>, request_id: &str) -> Value {
    let mut body = json!({
        "RequestId": request_id,
        "HostId": "ccc.emulator.local",
        "Code": error.code,
        "Message": error.message,
        "HttpStatusCode": error.http_status,
    });
    if let Some(map) = body.as_object_mut() {
        match version {
            Some(Version::V2017) => {
                map.insert("Success".into(), Value::Bool(false));
            }
            Some(Version::V2020) => {
                map.insert("Params".into(), json!([]));
            }
            None => {
                map.insert(
                    "Recommend".into(),
                    Value::String(format!(
                        "https://api.aliyun.com/troubleshoot?q={}",
                        error.code
                    )),
                );
            }
        }
    }
    body
}

/// Reads the request of `A` with ccc-openapi's model of it (`Action::from_params`):
/// values are trimmed and a blank one counts as absent, as CCC's `Parameter.Blank`
/// says ("may not be null or blank").
pub(crate) fn decode<A: Action>(req: &ApiRequest) -> Result<A, PlatformError> {
    let wire: WireParams = req
        .params
        .pairs()
        .into_iter()
        .filter_map(|(k, v)| {
            let v = v.trim();
            (!v.is_empty()).then(|| (k, v.to_owned()))
        })
        .collect();
    A::from_params(&wire).map_err(|e| match e {
        ParamError::Missing { name } => PlatformError::blank(name),
        ParamError::Invalid {
            name,
            value,
            expected,
        } => PlatformError::invalid(&name, format_args!("`{value}` is not {expected}")),
        other => PlatformError::invalid("(request)", other),
    })
}

/// A typed answer (or its `Data`) as JSON.
pub(crate) fn encode<T: serde::Serialize>(answer: &T) -> Result<Value, PlatformError> {
    serde_json::to_value(answer)
        .map_err(|e| PlatformError::new(500, "InternalService.Common", e.to_string()))
}

/// The success body: 2017 fields at the top level beside the status fields, 2020
/// ccc-openapi's [`Envelope`](ccc_openapi::Envelope) around `Data`.
fn ok_body(version: Version, payload: Value, request_id: &str) -> Value {
    match version {
        Version::V2017 => {
            let mut map = match payload {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            map.insert("RequestId".into(), request_id.into());
            map.insert("Success".into(), true.into());
            map.insert("Code".into(), "OK".into());
            map.insert("Message".into(), "".into());
            map.insert("HttpStatusCode".into(), 200.into());
            Value::Object(map)
        }
        Version::V2020 => serde_json::to_value(ccc_openapi::Envelope::ok(request_id, payload))
            .unwrap_or(Value::Null),
    }
}

/// Runs one action and answers as CCC would.
pub fn dispatch(
    platform: &mut Platform,
    ctx: &mut Context<'_>,
    now: Instant,
    req: &ApiRequest,
) -> Answer {
    let request_id = ctx.request_id.clone();
    let result = check_instance(platform, req).and_then(|()| match req.version {
        Version::V2017 => v2017::handle(platform, ctx, now, req),
        Version::V2020 => v2020::handle(platform, ctx, now, req),
    });
    let (status, body) = match result {
        Ok(payload) => (200, ok_body(req.version, payload, &request_id)),
        Err(e) => (
            e.http_status,
            error_body(&e, Some(req.version), &request_id),
        ),
    };
    let body = match req.style {
        Style::Proxied { demo_shape: true } => ccc_openapi::shape::demo_shape(body),
        _ => body,
    };
    Answer { status, body }
}

fn check_instance(platform: &Platform, req: &ApiRequest) -> Result<(), PlatformError> {
    // `Encrypt` is the one action without an instance.
    if req.action == "Encrypt" && req.params.opt("InstanceId").is_none() {
        return Ok(());
    }
    let instance = req.params.req("InstanceId")?;
    if instance == platform.instance_id() {
        Ok(())
    } else {
        Err(PlatformError::no_instance(instance))
    }
}

/// The error for an action neither version has.
pub(crate) fn unknown_action(action: &str) -> PlatformError {
    PlatformError::new(
        404,
        "InvalidAction.NotFound",
        format!("Specified api {action} is not found, please check your url and method."),
    )
}

#[cfg(test)]
mod tests;
