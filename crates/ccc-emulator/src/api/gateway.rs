//! The gateway in front of the actions: which action, which version, who asks.
//!
//! Two ways in, as the SDK and integrators use CCC:
//! - **Signed** (`/`): the RPC style of the official SDKs, V2 `HMAC-SHA1` signatures
//!   (parameters) or V3 `ACS3-HMAC-SHA256` ones (the `Authorization` header, action and
//!   version in `x-acs-action` / `x-acs-version`), checked against the instance's (or an
//!   agent's) AccessKey as CCC checks them, with CCC's error codes
//!   (`SignatureDoesNotMatch` with the server's string to sign,
//!   `InvalidTimeStamp.Expired`, `SignatureNonceUsed`, ...).
//! - **Proxied** (the guide's `ajax*` conventions, C13-C20): the workbench's own request
//!   to its integrator's backend, `request=<JSON>` in a form body or the query, the
//!   action in `?action=` (C17) or the last path segment (`ajaxType: "path"`), the
//!   2020 additions `product`, `version`, `region`. The emulator then plays the
//!   integrator's backend: the request acts as the administrator, the agent named by
//!   `UserId`. Keys with a lower-case first letter mean `useOpenApiSdk: false` (C3),
//!   and the answer comes back in the Java demo's shape.

use std::collections::{HashSet, VecDeque};

use ccc_openapi::Credentials;
use ccc_openapi::sign::{HttpMethod, V3_ALGORITHM, V3Refused, sign_v2, verify_v3};
use serde_json::Value;

use super::Version;
use super::params::Params;
use crate::platform::{PlatformError, Principal};

/// How far a request's `Timestamp` may be from the emulator's clock.
pub const TIMESTAMP_WINDOW_MS: i64 = 15 * 60 * 1_000;

/// How many recent nonces are remembered (the oldest are forgotten first).
const MAX_NONCES: usize = 100_000;

/// An HTTP request, as the server received it.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// `GET` or `POST` (anything else is refused before).
    pub post: bool,
    /// The path.
    pub path: String,
    /// The decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// The decoded form-body pairs, in order.
    pub form: Vec<(String, String)>,
    /// The headers, names in lower case (what a V3 signature covers).
    pub headers: Vec<(String, String)>,
    /// The body as it came (what a V3 signature hashes).
    pub body: Vec<u8>,
}

impl Incoming {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How a request came in, which decides the shape of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Signed, straight to the OpenAPI.
    Signed,
    /// Through the workbench's proxy conventions; `demo_shape` when the keys were
    /// lower-case (`useOpenApiSdk: false`).
    Proxied {
        /// Answer in the Java demo's shape.
        demo_shape: bool,
    },
}

/// A request the gateway let through.
#[derive(Debug, Clone)]
pub struct ApiRequest {
    /// The action.
    pub action: String,
    /// Its version.
    pub version: Version,
    /// Its parameters.
    pub params: Params,
    /// Who asks.
    pub principal: Principal,
    /// How it came in.
    pub style: Style,
}

/// An AccessKey the gateway knows.
#[derive(Clone)]
pub struct Key {
    /// Who it acts as.
    pub principal: Principal,
    /// Its credentials.
    pub credentials: Credentials,
}

/// The gateway's memory: keys and recently used nonces.
pub struct Gateway {
    keys: Vec<(String, Key)>,
    nonces: HashSet<String>,
    nonce_order: VecDeque<(i64, String)>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field(
                "keys",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .field("nonces", &self.nonces.len())
            .finish()
    }
}

fn missing(name: &str) -> PlatformError {
    PlatformError::new(
        400,
        format!("Missing{name}"),
        format!("{name} is mandatory for this action."),
    )
}

/// Actions that exist only in 2020-07-01, to read the version of a proxied request
/// that names none.
const ONLY_2020: &[&str] = &[
    "GetLoginDetails",
    "SignInGroup",
    "SignOutGroup",
    "ReadyForService",
    "TakeBreak",
    "ChangeWorkMode",
    "ResetAgentState",
    "PollUserStatus",
    "MakeCall",
    "AnswerCall",
    "ReleaseCall",
    "HoldCall",
    "RetrieveCall",
    "MuteCall",
    "UnmuteCall",
    "SendDtmfSignaling",
    "RedialCall",
    "BlindTransfer",
    "InitiateAttendedTransfer",
    "CompleteAttendedTransfer",
    "CancelAttendedTransfer",
    "StartConference",
    "MonitorCall",
    "BargeInCall",
    "InterceptCall",
    "CoachCall",
    "LaunchSurvey",
    "GetTurnServerList",
    "GetTurnCredentials",
];

/// Constant-time comparison of two signatures.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `2024-01-02T03:04:05Z` in milliseconds since the Unix epoch.
fn parse_timestamp(text: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

impl Gateway {
    /// A gateway for these keys.
    pub fn new(keys: impl IntoIterator<Item = Key>) -> Self {
        Self {
            keys: keys
                .into_iter()
                .map(|k| (k.credentials.access_key_id().to_owned(), k))
                .collect(),
            nonces: HashSet::new(),
            nonce_order: VecDeque::new(),
        }
    }

    fn key(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|(k, _)| k == id).map(|(_, key)| key)
    }

    /// Forgets nonces older than the timestamp window, and the oldest beyond the cap.
    fn prune(&mut self, now_ms: i64) {
        while let Some((at, nonce)) = self.nonce_order.front() {
            if *at + TIMESTAMP_WINDOW_MS >= now_ms && self.nonce_order.len() < MAX_NONCES {
                break;
            }
            self.nonces.remove(nonce);
            self.nonce_order.pop_front();
        }
    }

    /// Checks a signed request (V2) and reads its action, version and parameters.
    pub fn signed(
        &mut self,
        incoming: &Incoming,
        now_ms: i64,
    ) -> Result<ApiRequest, PlatformError> {
        if incoming
            .header("authorization")
            .is_some_and(|a| a.starts_with(V3_ALGORITHM))
        {
            return self.signed_v3(incoming, now_ms);
        }
        let all: Vec<(String, String)> = incoming
            .query
            .iter()
            .chain(&incoming.form)
            .cloned()
            .collect();
        let get = |name: &str| {
            all.iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        if let Some(kind) = get("SignatureType").filter(|t| !t.is_empty()) {
            return Err(PlatformError::new(
                400,
                "InvalidParameter.SignatureType",
                format!("The signature type {kind} is not supported by the emulator."),
            ));
        }
        for name in [
            "Action",
            "Version",
            "AccessKeyId",
            "Signature",
            "SignatureMethod",
            "SignatureVersion",
            "SignatureNonce",
            "Timestamp",
        ] {
            if get(name).is_none_or(str::is_empty) {
                return Err(missing(name));
            }
        }
        let action = get("Action").unwrap_or_default().to_owned();
        let version = Version::parse(get("Version").unwrap_or_default()).ok_or_else(|| {
            PlatformError::new(
                400,
                "InvalidVersion",
                "Specified parameter Version is not valid.",
            )
        })?;
        if get("SignatureMethod") != Some("HMAC-SHA1") {
            return Err(PlatformError::new(
                400,
                "InvalidSignatureMethod",
                "Specified signature method is not valid.",
            ));
        }
        if get("SignatureVersion") != Some("1.0") {
            return Err(PlatformError::new(
                400,
                "InvalidSignatureVersion",
                "Specified signature version is not valid.",
            ));
        }
        let stamp = parse_timestamp(get("Timestamp").unwrap_or_default()).ok_or_else(|| {
            PlatformError::new(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        })?;
        if (stamp - now_ms).abs() > TIMESTAMP_WINDOW_MS {
            return Err(PlatformError::new(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        let key_id = get("AccessKeyId").unwrap_or_default();
        let key = self.key(key_id).cloned().ok_or_else(|| {
            PlatformError::new(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            )
        })?;
        let method = if incoming.post {
            HttpMethod::Post
        } else {
            HttpMethod::Get
        };
        let unsigned: Vec<(String, String)> = all
            .iter()
            .filter(|(k, _)| k != "Signature")
            .cloned()
            .collect();
        let expected = sign_v2(method, unsigned, &key.credentials);
        if !same(&expected.signature, get("Signature").unwrap_or_default()) {
            return Err(PlatformError::new(
                400,
                "SignatureDoesNotMatch",
                format!(
                    "Specified signature is not matched with our calculation. server string to sign is:{}",
                    expected.string_to_sign
                ),
            ));
        }
        // Only a request with a valid signature spends its nonce.
        self.spend_nonce(get("SignatureNonce").unwrap_or_default(), now_ms)?;
        let params = Params::new(version, all);
        Ok(ApiRequest {
            action,
            version,
            params,
            principal: key.principal,
            style: Style::Signed,
        })
    }

    /// Spends a nonce of a request whose signature is good.
    fn spend_nonce(&mut self, nonce: &str, now_ms: i64) -> Result<(), PlatformError> {
        self.prune(now_ms);
        if !self.nonces.insert(nonce.to_owned()) {
            return Err(PlatformError::new(
                400,
                "SignatureNonceUsed",
                "Specified signature nonce was used already.",
            ));
        }
        self.nonce_order.push_back((now_ms, nonce.to_owned()));
        Ok(())
    }

    /// Checks a V3 (`ACS3-HMAC-SHA256`) request: the action and version in
    /// `x-acs-action` / `x-acs-version`, the time in `x-acs-date`, the nonce in
    /// `x-acs-signature-nonce`; the parameters in the query and the form body.
    fn signed_v3(&mut self, incoming: &Incoming, now_ms: i64) -> Result<ApiRequest, PlatformError> {
        for name in [
            "x-acs-action",
            "x-acs-version",
            "x-acs-date",
            "x-acs-signature-nonce",
        ] {
            if incoming.header(name).is_none_or(str::is_empty) {
                return Err(PlatformError::new(
                    400,
                    "MissingHeader",
                    format!("The header {name} is mandatory for an ACS3-HMAC-SHA256 request."),
                ));
            }
        }
        let header = |name: &str| incoming.header(name).unwrap_or_default();
        let action = header("x-acs-action").to_owned();
        let version = Version::parse(header("x-acs-version")).ok_or_else(|| {
            PlatformError::new(
                400,
                "InvalidVersion",
                "Specified parameter Version is not valid.",
            )
        })?;
        let stamp = parse_timestamp(header("x-acs-date")).ok_or_else(|| {
            PlatformError::new(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        })?;
        if (stamp - now_ms).abs() > TIMESTAMP_WINDOW_MS {
            return Err(PlatformError::new(
                400,
                "InvalidTimeStamp.Expired",
                "Specified time stamp or date value is expired.",
            ));
        }
        let key_id = header("authorization")
            .split([' ', ','])
            .find_map(|part| part.trim().strip_prefix("Credential="))
            .unwrap_or_default();
        let key = self.key(key_id).cloned().ok_or_else(|| {
            PlatformError::new(
                404,
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            )
        })?;
        let method = if incoming.post {
            HttpMethod::Post
        } else {
            HttpMethod::Get
        };
        verify_v3(
            method,
            &incoming.query,
            &incoming.headers,
            &incoming.body,
            &key.credentials,
        )
        .map_err(|e| match e {
            V3Refused::Mismatch { string_to_sign } => PlatformError::new(
                400,
                "SignatureDoesNotMatch",
                format!(
                    "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
                ),
            ),
            V3Refused::BodyHash => PlatformError::new(
                400,
                "SignatureDoesNotMatch",
                "x-acs-content-sha256 is not the SHA-256 of the body.",
            ),
            other => PlatformError::new(400, "IncompleteSignature", other.to_string()),
        })?;
        self.spend_nonce(header("x-acs-signature-nonce"), now_ms)?;
        let all: Vec<(String, String)> = incoming
            .query
            .iter()
            .chain(&incoming.form)
            .cloned()
            .collect();
        Ok(ApiRequest {
            action,
            version,
            params: Params::new(version, all),
            principal: key.principal,
            style: Style::Signed,
        })
    }

    /// Reads a request in the workbench's proxy conventions.
    pub fn proxied(
        &self,
        incoming: &Incoming,
        api_param: &str,
    ) -> Result<ApiRequest, PlatformError> {
        let field = |name: &str| {
            incoming
                .form
                .iter()
                .chain(&incoming.query)
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let action = field(api_param)
            .map(str::to_owned)
            .or_else(|| {
                incoming
                    .path
                    .rsplit('/')
                    .next()
                    .filter(|seg| !seg.is_empty() && !seg.contains('.'))
                    .map(str::to_owned)
            })
            .ok_or_else(|| missing("Action"))?;
        let version = match field("version").or_else(|| field("Version")) {
            Some(v) => Version::parse(v).ok_or_else(|| {
                PlatformError::new(
                    400,
                    "InvalidVersion",
                    "Specified parameter Version is not valid.",
                )
            })?,
            None if ONLY_2020.contains(&action.as_str()) => Version::V2020,
            None => Version::V2017,
        };
        let request: serde_json::Map<String, Value> = match field("request") {
            None | Some("") => serde_json::Map::new(),
            Some(json) => serde_json::from_str(json).map_err(|e| {
                PlatformError::invalid("request", format_args!("not a JSON object: {e}"))
            })?,
        };
        let demo_shape = request
            .keys()
            .any(|k| k.starts_with(|c: char| c.is_ascii_lowercase()));
        let mut pairs = Vec::new();
        // Other fields beside `request` (C19 ajaxOtherParams) count as parameters too.
        let reserved = [api_param, "request", "product", "version", "region"];
        for (k, v) in incoming.query.iter().chain(&incoming.form) {
            if !reserved.contains(&k.as_str()) {
                pairs.push((pascal(k), v.clone()));
            }
        }
        for (k, v) in request {
            flatten(&pascal(&k), v, version, &mut pairs);
        }
        Ok(ApiRequest {
            action,
            version,
            params: Params::new(version, pairs),
            principal: Principal::Admin,
            style: Style::Proxied { demo_shape },
        })
    }
}

fn pascal(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A JSON value as wire parameters: scalars as text, arrays as `Key.N` (2017) or one
/// JSON string (2020).
fn flatten(key: &str, value: Value, version: Version, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::String(s) => out.push((key.to_owned(), s)),
        Value::Array(items) if version == Version::V2017 => {
            for (i, item) in items.into_iter().enumerate() {
                flatten(&format!("{key}.{}", i + 1), item, version, out);
            }
        }
        other => out.push((key.to_owned(), other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use ccc_openapi::sign::{ParamStyle, v2_common_params};

    use super::*;

    const NOW_MS: i64 = 1_704_164_645_000; // 2024-01-02T03:04:05Z

    fn gateway() -> Gateway {
        Gateway::new([Key {
            principal: Principal::Admin,
            credentials: Credentials::new("testid", "testsecret"),
        }])
    }

    fn signed_request(nonce: &str, secret: &str) -> Incoming {
        let credentials = Credentials::new("testid", secret);
        let mut params = v2_common_params(
            "RequestLoginInfo",
            "2017-07-05",
            &credentials,
            ParamStyle::Core,
            "cn-shanghai",
            "2024-01-02T03:04:05Z",
            nonce,
        );
        params.push(("InstanceId".into(), "ccc-test-instance".into()));
        params.push(("UserId".into(), "agent@ccc-test".into()));
        let signed = sign_v2(HttpMethod::Post, params.clone(), &credentials);
        params.push(("Signature".into(), signed.signature));
        Incoming {
            post: true,
            path: "/".into(),
            query: params,
            ..Incoming::default()
        }
    }

    fn v3_request(nonce: &str, secret: &str, body: &str) -> Incoming {
        use ccc_openapi::sign::{sign_v3, v3_headers};
        let credentials = Credentials::new("testid", secret);
        let headers = v3_headers(
            "127.0.0.1:8080",
            "SignInGroup",
            "2020-07-01",
            "2024-01-02T03:04:05Z",
            nonce,
            Some("application/x-www-form-urlencoded"),
            &credentials,
        );
        let query = vec![("InstanceId".to_owned(), "ccc-test".to_owned())];
        let signed = sign_v3(
            HttpMethod::Post,
            &query,
            headers,
            body.as_bytes(),
            &credentials,
        );
        Incoming {
            post: true,
            path: "/".into(),
            query,
            form: form_urlencoded::parse(body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            headers: signed.headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn v3_signatures_are_checked_too() {
        let mut g = gateway();
        let body = "UserId=agent%40ccc-test&DeviceId=d";
        let req = g
            .signed(&v3_request("v1", "testsecret", body), NOW_MS)
            .unwrap();
        assert_eq!(
            (req.action.as_str(), req.version),
            ("SignInGroup", Version::V2020)
        );
        assert_eq!(req.params.opt("InstanceId"), Some("ccc-test"));
        assert_eq!(req.params.opt("UserId"), Some("agent@ccc-test"));
        let again = g.signed(&v3_request("v1", "testsecret", body), NOW_MS);
        assert_eq!(again.unwrap_err().code, "SignatureNonceUsed");
        let wrong = g
            .signed(&v3_request("v2", "wrong", body), NOW_MS)
            .unwrap_err();
        assert_eq!(wrong.code, "SignatureDoesNotMatch");
        assert!(
            wrong
                .message
                .contains("server string to sign is:ACS3-HMAC-SHA256\n"),
            "{}",
            wrong.message
        );
        let mut tampered = v3_request("v3", "testsecret", body);
        tampered.body = b"UserId=other%40ccc-test".to_vec();
        assert_eq!(
            g.signed(&tampered, NOW_MS).unwrap_err().code,
            "SignatureDoesNotMatch"
        );
        let late = g.signed(&v3_request("v4", "testsecret", body), NOW_MS + 16 * 60_000);
        assert_eq!(late.unwrap_err().code, "InvalidTimeStamp.Expired");
        let mut unsigned = v3_request("v5", "testsecret", body);
        unsigned.headers.retain(|(k, _)| k != "x-acs-action");
        assert_eq!(
            g.signed(&unsigned, NOW_MS).unwrap_err().code,
            "MissingHeader"
        );
    }

    #[test]
    fn a_good_signature_passes_once() {
        let mut g = gateway();
        let req = g
            .signed(&signed_request("n1", "testsecret"), NOW_MS)
            .unwrap();
        assert_eq!(req.action, "RequestLoginInfo");
        assert_eq!(req.version, Version::V2017);
        assert_eq!(req.params.opt("UserId"), Some("agent@ccc-test"));
        let again = g
            .signed(&signed_request("n1", "testsecret"), NOW_MS)
            .unwrap_err();
        assert_eq!(again.code, "SignatureNonceUsed");
    }

    #[test]
    fn a_wrong_secret_gets_signature_does_not_match_with_the_string_to_sign() {
        let mut g = gateway();
        let e = g
            .signed(&signed_request("n2", "wrong"), NOW_MS)
            .unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.http_status),
            ("SignatureDoesNotMatch", 400)
        );
        // The published CCC example's string to sign (signing.md).
        assert!(e.message.ends_with(
            "server string to sign is:POST&%2F&AccessKeyId%3Dtestid%26Action%3DRequestLoginInfo%26Format%3DJSON%26InstanceId%3Dccc-test-instance%26RegionId%3Dcn-shanghai%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dn2%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-02T03%253A04%253A05Z%26UserId%3Dagent%2540ccc-test%26Version%3D2017-07-05"
        ), "{}", e.message);
        // A failed request does not spend the nonce.
        assert!(
            g.signed(&signed_request("n2", "testsecret"), NOW_MS)
                .is_ok()
        );
    }

    #[test]
    fn method_body_time_key_and_missing_parameters() {
        let mut g = gateway();
        let mut get = signed_request("n3", "testsecret");
        get.post = false;
        assert_eq!(
            g.signed(&get, NOW_MS).unwrap_err().code,
            "SignatureDoesNotMatch"
        );
        let mut moved = signed_request("n4", "testsecret");
        let user = moved.query.iter().position(|(k, _)| k == "UserId").unwrap();
        let pair = moved.query.remove(user);
        moved.form.push(pair);
        assert!(
            g.signed(&moved, NOW_MS).is_ok(),
            "form parameters are signed too"
        );
        let late = g.signed(&signed_request("n5", "testsecret"), NOW_MS + 16 * 60_000);
        assert_eq!(late.unwrap_err().code, "InvalidTimeStamp.Expired");
        let mut bad = signed_request("n6", "testsecret");
        bad.query.retain(|(k, _)| k != "SignatureNonce");
        let e = g.signed(&bad, NOW_MS).unwrap_err();
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            (
                "MissingSignatureNonce",
                "SignatureNonce is mandatory for this action."
            )
        );
        let mut other = signed_request("n7", "testsecret");
        for (k, v) in &mut other.query {
            if k == "AccessKeyId" {
                *v = "nobody".into();
            }
        }
        assert_eq!(g.signed(&other, NOW_MS).unwrap_err().http_status, 404);
    }

    #[test]
    fn proxied_requests_in_both_key_styles() {
        let g = gateway();
        let req = g
            .proxied(
                &Incoming {
                    post: true,
                    path: "/data/api.json".into(),
                    query: vec![("action".into(), "ListSkillGroupsOfUser".into())],
                    form: vec![(
                        "request".into(),
                        r#"{"instanceId":"ccc-test","userId":"a@ccc-test","skillGroupId":["s1","s2"]}"#.into(),
                    )],
                    ..Incoming::default()
                },
                "action",
            )
            .unwrap();
        assert_eq!(req.version, Version::V2017);
        assert_eq!(req.style, Style::Proxied { demo_shape: true });
        assert_eq!(req.params.opt("UserId"), Some("a@ccc-test"));
        assert_eq!(req.params.list("SkillGroupId").unwrap(), ["s1", "s2"]);
        let req = g
            .proxied(
                &Incoming {
                    post: false,
                    path: "/data/api.json/CloudCallCenter/SignInGroup".into(),
                    query: vec![
                        ("request".into(), r#"{"InstanceId":"ccc-test","SignedSkillGroupIdList":["s1"],"DeviceId":"d"}"#.into()),
                        ("product".into(), "CloudCallCenter".into()),
                        ("UserId".into(), "a@ccc-test".into()),
                    ],
                    ..Incoming::default()
                },
                "action",
            )
            .unwrap();
        assert_eq!(
            (req.action.as_str(), req.version),
            ("SignInGroup", Version::V2020)
        );
        assert_eq!(req.style, Style::Proxied { demo_shape: false });
        assert_eq!(req.params.list("SignedSkillGroupIdList").unwrap(), ["s1"]);
        assert_eq!(req.params.opt("UserId"), Some("a@ccc-test"));
        let e = g
            .proxied(
                &Incoming {
                    post: true,
                    path: "/data/api.json".into(),
                    query: vec![("action".into(), "X".into())],
                    form: vec![("request".into(), "{nope".into())],
                    ..Incoming::default()
                },
                "action",
            )
            .unwrap_err();
        assert_eq!(e.code, "Parameter.Invalid");
    }
}
