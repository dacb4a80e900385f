//! [`Direct`]: signed requests straight to CCC (or any base URL).

use std::fmt;
use std::time::Duration;

use reqwest::Url;

use super::http::{self, TlsRoots};
use super::{BoxFuture, Request, Transport};
use crate::action::{Placement, Version};
use crate::credentials::Credentials;
use crate::decode::Reply;
use crate::endpoint;
use crate::error::{ApiError, Error};
use crate::sign::{self, HttpMethod, ParamStyle};
use crate::status::ErrorAnswer;

/// Which signature a [`Direct`] transport puts on its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// V2: HMAC-SHA1, `SignatureVersion=1.0`, the signature a query parameter. What the
    /// 2017-07-05 SDKs send, and accepted for 2020-07-01 too.
    #[default]
    V2,
    /// V3: `ACS3-HMAC-SHA256` in the `Authorization` header, what the 2020-07-01 tea SDK
    /// sends.
    V3,
}

/// Signed HTTPS straight to CCC with an AccessKey: for backends and tools.
///
/// Timeouts bound every call; throttling (`Throttling*`, HTTP 429, `x-acs-retry-after`:
/// CCC refused the request before doing anything) is retried with exponential backoff
/// and jitter, each attempt signed afresh (new nonce, new timestamp). A 5xx is retried
/// the same way only for actions that may safely run twice ([`safe_to_repeat`]): a
/// `MakeCall` that failed with a 5xx may still have dialed, and trying again could dial
/// the customer twice. Nothing else is retried.
///
/// ```no_run
/// # async fn run() -> Result<(), ccc_openapi::Error> {
/// use ccc_openapi::{Client, Credentials, transport::Direct, v2017::ListSkillGroupsOfUser};
/// let credentials = Credentials::from_env().expect("AccessKey in the environment");
/// let client = Client::new(Direct::builder(credentials).region("cn-shanghai").build()?);
/// let groups = client.send(ListSkillGroupsOfUser::new("ccc-test", "agent@ccc-test")).await?;
/// for level in &groups.skill_levels {
///     println!("{:?}", level.skill.as_ref().and_then(|s| s.skill_group_name.as_deref()));
/// }
/// # Ok(()) }
/// ```
pub struct Direct {
    http: reqwest::Client,
    credentials: Credentials,
    base: Url,
    /// `base` without a query, to which the signed query is appended.
    base_str: String,
    region: String,
    method: HttpMethod,
    style: ParamStyle,
    signature: SignatureVersion,
    timeout: Duration,
    retries: u32,
    backoff: (Duration, Duration),
    max_body: usize,
}

impl fmt::Debug for Direct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Direct")
            .field("credentials", &self.credentials)
            .field("base", &self.base.as_str())
            .field("region", &self.region)
            .field("method", &self.method)
            .field("style", &self.style)
            .field("signature", &self.signature)
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Direct`] transport.
#[derive(Debug)]
#[must_use]
pub struct DirectBuilder {
    credentials: Credentials,
    region: String,
    endpoint: Option<String>,
    method: HttpMethod,
    style: ParamStyle,
    signature: SignatureVersion,
    timeout: Duration,
    connect_timeout: Duration,
    retries: u32,
    backoff: (Duration, Duration),
    max_body: usize,
    roots: TlsRoots,
}

impl DirectBuilder {
    /// The region (default `cn-shanghai`): the host, and `RegionId` in the core style.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// A base URL instead of the region's host (`http://127.0.0.1:8080` for the
    /// emulator); `http` and `https` only.
    pub fn endpoint(mut self, base_url: impl Into<String>) -> Self {
        self.endpoint = Some(base_url.into());
        self
    }

    /// GET or POST (default POST).
    pub fn method(mut self, method: HttpMethod) -> Self {
        self.method = method;
        self
    }

    /// The common-parameter style (default tea: 2017 API parameters in the form body).
    pub fn style(mut self, style: ParamStyle) -> Self {
        self.style = style;
        self
    }

    /// The signature version (default V2).
    pub fn signature(mut self, signature: SignatureVersion) -> Self {
        self.signature = signature;
        self
    }

    /// The time a call may take, answer included (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time a connection may take (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times a throttled or 5xx call is retried (default 2), and the first and
    /// the longest wait (default 200 ms and 5 s).
    pub fn retries(mut self, retries: u32, first: Duration, max: Duration) -> Self {
        self.retries = retries;
        self.backoff = (first, max.max(first));
        self
    }

    /// The largest answer accepted (default 16 MiB).
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The certificate authorities to trust (default the platform's).
    pub fn roots(mut self, roots: TlsRoots) -> Self {
        self.roots = roots;
        self
    }

    /// The transport; fails on a bad base URL or TLS setup.
    pub fn build(self) -> Result<Direct, Error> {
        let fail = |message: String| Error::Request {
            action: "-".to_owned(),
            message,
        };
        let base = self
            .endpoint
            .clone()
            .unwrap_or_else(|| endpoint::base_url(&self.region));
        let base = Url::parse(&base).map_err(|e| fail(format!("base URL {base:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(fail(format!(
                "base URL {base}: not an http(s) URL with a host"
            )));
        }
        let http =
            http::client(&self.roots, self.timeout, self.connect_timeout, false).map_err(fail)?;
        let mut bare = base.clone();
        bare.set_query(None);
        Ok(Direct {
            http,
            credentials: self.credentials,
            base_str: bare.to_string(),
            base,
            region: self.region,
            method: self.method,
            style: self.style,
            signature: self.signature,
            timeout: self.timeout,
            retries: self.retries,
            backoff: self.backoff,
            max_body: self.max_body,
        })
    }
}

/// A request ready to send: what `ccc api --dry-run` prints. `Debug` shows neither the
/// signature nor the string to sign (which holds the STS token, if any).
#[derive(Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The method.
    pub method: HttpMethod,
    /// The URL, query included (V2: the signature is in it).
    pub url: String,
    /// The form body, if any.
    pub body: Option<String>,
    /// The headers to set (V3: the signed ones and `authorization`).
    pub headers: Vec<(String, String)>,
    /// V3 only: the canonical request that was hashed.
    pub canonical_request: Option<String>,
    /// Exactly what was signed; for V2 the string CCC compares when it answers
    /// `SignatureDoesNotMatch`.
    pub string_to_sign: String,
    /// The signature.
    pub signature: String,
}

impl fmt::Debug for Prepared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prepared")
            .field("method", &self.method)
            .field("body", &self.body.as_ref().map(|_| "<form>"))
            .field("signature", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl Direct {
    /// A builder with `credentials`.
    pub fn builder(credentials: Credentials) -> DirectBuilder {
        DirectBuilder {
            credentials,
            region: endpoint::DEFAULT_REGION.to_owned(),
            endpoint: None,
            method: HttpMethod::Post,
            style: ParamStyle::Tea,
            signature: SignatureVersion::V2,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            retries: 2,
            backoff: (Duration::from_millis(200), Duration::from_secs(5)),
            max_body: 16 << 20,
            roots: TlsRoots::Platform,
        }
    }

    /// Builds and signs `request` with the given timestamp (`2024-01-02T03:04:05Z`) and
    /// nonce, sending nothing: the exact request [`Transport::call`] would send.
    pub fn prepare(&self, request: &Request, timestamp: &str, nonce: &str) -> Prepared {
        let api = request.params.to_wire();
        // Where each API parameter goes.
        let in_body = |placement: Placement| {
            self.method == HttpMethod::Post
                && match self.signature {
                    SignatureVersion::V2 => {
                        placement == Placement::Body
                            || (self.style == ParamStyle::Tea
                                && request.version == Version::V20170705)
                    }
                    SignatureVersion::V3 => placement == Placement::Body,
                }
        };
        let (body_params, query_params): (Vec<_>, Vec<_>) = api
            .into_iter()
            .partition(|(_, _, placement)| in_body(*placement));
        let body_pairs: Vec<(String, String)> =
            body_params.into_iter().map(|(k, v, _)| (k, v)).collect();
        let body = (!body_pairs.is_empty())
            .then(|| http::form(body_pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
        match self.signature {
            SignatureVersion::V2 => {
                let mut query = sign::v2_common_params(
                    &request.action,
                    request.version.as_str(),
                    &self.credentials,
                    self.style,
                    &self.region,
                    timestamp,
                    nonce,
                );
                query.extend(query_params.into_iter().map(|(k, v, _)| (k, v)));
                query.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                // The URL's query, written before the pairs move into the signer.
                let mut url_query =
                    sign::encode_pairs(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let mut all = query;
                all.extend(body_pairs);
                let signed = sign::sign_v2(self.method, all, &self.credentials);
                if !url_query.is_empty() {
                    url_query.push('&');
                }
                url_query.push_str("Signature=");
                sign::percent_encode_into(&mut url_query, &signed.signature);
                let mut headers = vec![
                    ("x-acs-action".to_owned(), request.action.to_string()),
                    (
                        "x-acs-version".to_owned(),
                        request.version.as_str().to_owned(),
                    ),
                ];
                if body.is_some() {
                    headers.push((
                        "content-type".to_owned(),
                        "application/x-www-form-urlencoded".to_owned(),
                    ));
                }
                Prepared {
                    method: self.method,
                    url: self.url_with(&url_query),
                    body,
                    headers,
                    canonical_request: None,
                    string_to_sign: signed.string_to_sign,
                    signature: signed.signature,
                }
            }
            SignatureVersion::V3 => {
                let query: Vec<(String, String)> =
                    query_params.into_iter().map(|(k, v, _)| (k, v)).collect();
                let headers = sign::v3_headers(
                    &self.host(),
                    &request.action,
                    request.version.as_str(),
                    timestamp,
                    nonce,
                    body.as_ref().map(|_| "application/x-www-form-urlencoded"),
                    &self.credentials,
                );
                let signed = sign::sign_v3(
                    self.method,
                    &query,
                    headers,
                    body.as_deref().unwrap_or_default().as_bytes(),
                    &self.credentials,
                );
                Prepared {
                    method: self.method,
                    url: self.url(&query),
                    body,
                    headers: signed.headers,
                    canonical_request: Some(signed.canonical_request),
                    string_to_sign: signed.string_to_sign,
                    signature: signed.signature,
                }
            }
        }
    }

    /// `host[:port]` as the `Host` header carries it.
    fn host(&self) -> String {
        let host = self.base.host_str().unwrap_or_default();
        match self.base.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }
    }

    fn url(&self, query: &[(String, String)]) -> String {
        self.url_with(&http::form(
            query.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
    }

    fn url_with(&self, encoded: &str) -> String {
        if encoded.is_empty() {
            return self.base_str.clone();
        }
        let mut url = String::with_capacity(self.base_str.len() + 1 + encoded.len());
        url.push_str(&self.base_str);
        url.push('?');
        url.push_str(encoded);
        url
    }

    async fn attempt(&self, request: &Request) -> Result<Reply, Error> {
        let nonce = sign::nonce().map_err(|message| Error::Request {
            action: request.action.to_string(),
            message,
        })?;
        let prepared = self.prepare(request, &sign::timestamp_now(), &nonce);
        let mut builder = match prepared.method {
            HttpMethod::Get => self.http.get(&prepared.url),
            HttpMethod::Post => self.http.post(&prepared.url),
        };
        for (name, value) in &prepared.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = prepared.body {
            builder = builder.body(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| http::transport_error(&request.action, self.timeout, e))?;
        let status = response.status().as_u16();
        let retry_after = response.headers().contains_key("x-acs-retry-after");
        let body = http::read_body(&request.action, self.timeout, self.max_body, response).await?;
        tracing::debug!(action = %request.action, status, bytes = body.len(), "ccc answer");
        if retry_after && (200..300).contains(&status) {
            return Err(throttled(&request.action, status, &body));
        }
        Ok(Reply::openapi(status, body))
    }
}

/// A 2xx answer that still asks to retry later.
fn throttled(action: &str, status: u16, body: &[u8]) -> Error {
    let answer = ErrorAnswer::parse(body).unwrap_or_default();
    ApiError {
        action: action.to_owned(),
        code: answer.code.unwrap_or_else(|| "Throttling".to_owned()),
        message: answer.message.unwrap_or_default(),
        request_id: answer.request_id,
        http_status: status,
        recommend: answer.recommend,
    }
    .into()
}

/// Whether `action` may run twice with the effect of once: reads, and the agent-state
/// and call-state setters whose second run finds the state already set. Calls,
/// transfers, DTMF, messages, surveys and records made are not: a 5xx after them may
/// hide work done.
pub fn safe_to_repeat(action: &str) -> bool {
    const READS: [&str; 10] = [
        "List", "Get", "Describe", "Request", "Pick", "Check", "Download", "Generate", "Poll",
        "Encrypt",
    ];
    const SETTERS: [&str; 15] = [
        "SignInGroup",
        "SignOutGroup",
        "ReadyForService",
        "TakeBreak",
        "ChangeWorkMode",
        "ResetAgentState",
        "ResetUserStatus",
        "AnswerCall",
        "ReleaseCall",
        "HoldCall",
        "RetrieveCall",
        "MuteCall",
        "UnmuteCall",
        "ModifyAgentDevice",
        "RefreshToken",
    ];
    READS.iter().any(|prefix| action.starts_with(prefix)) || SETTERS.contains(&action)
}

/// Whether `result` is worth another try: throttling always, a 5xx when the action is
/// [`safe_to_repeat`].
fn retryable(action: &str, result: &Result<Reply, Error>) -> bool {
    let repeatable = safe_to_repeat(action);
    match result {
        Ok(reply) => {
            if reply.http_status == 429 || (reply.http_status >= 500 && repeatable) {
                return true;
            }
            let crate::decode::Body::Bytes(body) = &reply.body else {
                return false;
            };
            !(200..300).contains(&reply.http_status)
                && ErrorAnswer::parse(body)
                    .and_then(|a| a.code)
                    .is_some_and(|code| code.starts_with("Throttling"))
        }
        Err(Error::Api(e)) => e.is_throttling() || (e.is_retryable() && repeatable),
        Err(_) => false,
    }
}

impl Transport for Direct {
    fn call<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, Error>> {
        Box::pin(async move {
            let mut delays = backon::BackoffBuilder::build(
                backon::ExponentialBuilder::default()
                    .with_min_delay(self.backoff.0)
                    .with_max_delay(self.backoff.1)
                    .with_max_times(self.retries as usize)
                    .with_jitter(),
            );
            loop {
                let result = self.attempt(request).await;
                if !retryable(&request.action, &result) {
                    return result;
                }
                match delays.next() {
                    Some(delay) => {
                        tracing::debug!(action = %request.action, ?delay, "ccc throttled or 5xx; retrying");
                        tokio::time::sleep(delay).await;
                    }
                    None => return result,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Action;
    use crate::v2017::{AddAgentDevice, ListSkillGroupsOfUser};

    fn direct(style: ParamStyle, method: HttpMethod, signature: SignatureVersion) -> Direct {
        Direct::builder(Credentials::new("testid", "testsecret"))
            .endpoint("http://127.0.0.1:9/")
            .style(style)
            .method(method)
            .signature(signature)
            .build()
            .unwrap()
    }

    const TS: &str = "2024-01-02T03:04:05Z";
    const NONCE: &str = "3f1a9c2e-0b7d-4e21-9a55-5c0d1e2f3a4b";

    #[test]
    fn core_post_matches_the_ccc_example() {
        let d = direct(ParamStyle::Core, HttpMethod::Post, SignatureVersion::V2);
        let a = crate::v2017::RequestLoginInfo::new("ccc-test-instance").user_id("agent@ccc-test");
        let p = d.prepare(&Request::of(&a), TS, NONCE);
        // signing.md's worked example.
        assert_eq!(p.signature, "Q3yncJGXspH16F0E/CB6v5gftfM=");
        assert!(p.body.is_none());
        assert!(
            p.url
                .contains("&Signature=Q3yncJGXspH16F0E%2FCB6v5gftfM%3D"),
            "{}",
            p.url
        );
        assert!(p.url.contains("UserId=agent%40ccc-test"));
    }

    #[test]
    fn placement_per_style_and_method() {
        let a = ListSkillGroupsOfUser::new("i", "u");
        let tea = direct(ParamStyle::Tea, HttpMethod::Post, SignatureVersion::V2);
        let p = tea.prepare(&Request::of(&a), TS, NONCE);
        assert_eq!(p.body.as_deref(), Some("InstanceId=i&UserId=u"));
        assert!(!p.url.contains("InstanceId") && !p.url.contains("RegionId"));
        let get = direct(ParamStyle::Tea, HttpMethod::Get, SignatureVersion::V2);
        let p = get.prepare(&Request::of(&a), TS, NONCE);
        assert!(p.body.is_none() && p.url.contains("InstanceId=i"));
        assert!(p.string_to_sign.starts_with("GET&%2F&"));
        let core = direct(ParamStyle::Core, HttpMethod::Post, SignatureVersion::V2);
        let device = AddAgentDevice::new("i", "Chrome 120", "10.0.0.1").remark("r");
        let p = core.prepare(&Request::of(&device), TS, NONCE);
        assert_eq!(
            p.body.as_deref(),
            Some("BrowserVersion=Chrome%20120&Remark=r")
        );
        assert!(p.url.contains("ClientIp=10.0.0.1"));
        let v3 = direct(ParamStyle::Tea, HttpMethod::Post, SignatureVersion::V3);
        let p = v3.prepare(&Request::of(&a), TS, NONCE);
        assert!(p.body.is_none() && p.url.ends_with("/?InstanceId=i&UserId=u"));
        assert!(
            p.headers
                .iter()
                .any(|(k, v)| k == "host" && v == "127.0.0.1:9")
        );
        assert!(p.headers.iter().any(|(k, _)| k == "authorization"));
        assert_eq!(ListSkillGroupsOfUser::NAME, "ListSkillGroupsOfUser");
    }

    #[test]
    fn bad_base_urls() {
        for base in ["ftp://x/", "not a url", "http://"] {
            let e = Direct::builder(Credentials::new("a", "b"))
                .endpoint(base)
                .build();
            assert!(matches!(e, Err(Error::Request { .. })), "{base}");
        }
        let region = Direct::builder(Credentials::new("a", "secret-b"))
            .region("ap-southeast-1")
            .build()
            .unwrap();
        assert_eq!(region.base.as_str(), "https://ccc.aliyuncs.com/");
        let debug = format!("{region:?}");
        assert!(
            !debug.contains("secret-b") && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}
