//! [`Proxy`]: requests through the integrator's backend, in the workbench's `ajax*`
//! conventions (C13-C20), which signs them and forwards them to CCC.

use std::fmt;
use std::time::Duration;

use reqwest::Url;

use super::http::{self, TlsRoots};
use super::{BoxFuture, Request, Transport};
use crate::action::Version;
use crate::decode::{Body, Reply};
use crate::error::Error;
use crate::shape::{Shape, request_json};
use crate::sign::HttpMethod;

/// How the action is named in the URL (C13 `ajaxType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AjaxType {
    /// `"param"`: `origin/path?{name}=Action` (C17 `ajaxApiParamName`, default `action`).
    Param {
        /// The query key that names the action.
        api_param_name: String,
    },
    /// `"path"`: `origin/path/module/Action`. The guide does not say what `module` is;
    /// it is the caller's choice.
    Path {
        /// The path segment before the action.
        module: String,
    },
}

impl Default for AjaxType {
    fn default() -> Self {
        Self::Param {
            api_param_name: "action".to_owned(),
        }
    }
}

/// Calls through the integrator's backend as the browser SDK does: a form body
/// `request=<JSON of the parameters>` plus `ajaxOtherParams`, to
/// `ajaxOrigin + ajaxPath` with the action in the query or the path; 2020-07-01 calls
/// add `product=CloudCallCenter&version=2020-07-01&region=<RegionId>` to the query.
/// `useOpenApiSdk` (C3) decides the request's shape ([`Shape`]); answers are read in
/// either shape.
///
/// ```no_run
/// # async fn run() -> Result<(), ccc_openapi::Error> {
/// use ccc_openapi::{Client, shape::Shape, transport::Proxy, v2020::PollUserStatus};
/// let proxy = Proxy::builder("https://crm.example.com")
///     .path("/aliyun/ccc/api")
///     .with_credentials(true)
///     .header("x-csrf-token", "t")
///     .shape(Shape::Demo)
///     .build()?;
/// let state = Client::new(proxy).send(PollUserStatus::new("ccc-test")).await?;
/// # Ok(()) }
/// ```
///
/// `Debug` names the headers and other parameters but never prints their values
/// (they carry the integrator's tokens).
pub struct Proxy {
    http: reqwest::Client,
    base: Url,
    ajax_type: AjaxType,
    method: HttpMethod,
    other_params: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    shape: Shape,
    region: String,
    timeout: Duration,
    max_body: usize,
}

/// Builds a [`Proxy`] transport. `Debug` prints no header or parameter values.
#[must_use]
pub struct ProxyBuilder {
    origin: String,
    path: String,
    ajax_type: AjaxType,
    method: HttpMethod,
    other_params: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    with_credentials: bool,
    shape: Shape,
    region: String,
    timeout: Duration,
    connect_timeout: Duration,
    max_body: usize,
    roots: TlsRoots,
}

/// The names of `pairs`, for a `Debug` that must not print their values.
fn names(pairs: &[(String, String)]) -> Vec<&str> {
    pairs.iter().map(|(name, _)| name.as_str()).collect()
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("base", &self.base.as_str())
            .field("ajax_type", &self.ajax_type)
            .field("method", &self.method)
            .field("other_params", &names(&self.other_params))
            .field("headers", &names(&self.headers))
            .field("shape", &self.shape)
            .field("region", &self.region)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ProxyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyBuilder")
            .field("origin", &self.origin)
            .field("path", &self.path)
            .field("ajax_type", &self.ajax_type)
            .field("method", &self.method)
            .field("other_params", &names(&self.other_params))
            .field("headers", &names(&self.headers))
            .field("with_credentials", &self.with_credentials)
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

impl ProxyBuilder {
    /// C15 `ajaxPath` (default `/data/api.json`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// C13 `ajaxType` with C17 `ajaxApiParamName`.
    pub fn ajax_type(mut self, ajax_type: AjaxType) -> Self {
        self.ajax_type = ajax_type;
        self
    }

    /// C18 `ajaxMethod` (default POST). GET puts `request=` in the query.
    pub fn method(mut self, method: HttpMethod) -> Self {
        self.method = method;
        self
    }

    /// One more C19 `ajaxOtherParams` entry, sent beside `request`.
    pub fn other_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.other_params.push((name.into(), value.into()));
        self
    }

    /// One more C20 `ajaxHeaders` entry.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// C16 `withCredentials`: keep the cookies the backend sets and send them back.
    pub fn with_credentials(mut self, yes: bool) -> Self {
        self.with_credentials = yes;
        self
    }

    /// C3 `useOpenApiSdk` as a [`Shape`] (default [`Shape::Demo`], i.e. `false`).
    pub fn shape(mut self, shape: Shape) -> Self {
        self.shape = shape;
        self
    }

    /// The region of the 2020-07-01 query additions (default `cn-shanghai`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The time a call may take (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
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

    /// The transport; fails on a bad origin or path, or a bad header.
    pub fn build(self) -> Result<Proxy, Error> {
        let fail = |message: String| Error::Request {
            action: "-".to_owned(),
            message,
        };
        let joined = format!("{}{}", self.origin.trim_end_matches('/'), self.path);
        let base = Url::parse(&joined).map_err(|e| fail(format!("proxy URL {joined:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(fail(format!(
                "proxy URL {base}: not an http(s) URL with a host"
            )));
        }
        for (name, value) in &self.headers {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| fail(format!("header {name:?}: {e}")))?;
            reqwest::header::HeaderValue::from_str(value)
                .map_err(|e| fail(format!("header {name:?}: {e}")))?;
        }
        let http = http::client(
            &self.roots,
            self.timeout,
            self.connect_timeout,
            self.with_credentials,
        )
        .map_err(fail)?;
        Ok(Proxy {
            http,
            base,
            ajax_type: self.ajax_type,
            method: self.method,
            other_params: self.other_params,
            headers: self.headers,
            shape: self.shape,
            region: self.region,
            timeout: self.timeout,
            max_body: self.max_body,
        })
    }
}

impl Proxy {
    /// A builder for the backend at `origin` (C14 `ajaxOrigin`, `https://crm.example.com`).
    pub fn builder(origin: impl Into<String>) -> ProxyBuilder {
        ProxyBuilder {
            origin: origin.into(),
            path: "/data/api.json".to_owned(),
            ajax_type: AjaxType::default(),
            method: HttpMethod::Post,
            other_params: Vec::new(),
            headers: Vec::new(),
            with_credentials: false,
            shape: Shape::Demo,
            region: crate::endpoint::DEFAULT_REGION.to_owned(),
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
            max_body: 16 << 20,
            roots: TlsRoots::Platform,
        }
    }

    /// The URL and the form pairs of `request`.
    pub(crate) fn url_and_form(&self, request: &Request) -> (Url, Vec<(String, String)>) {
        let mut url = self.base.clone();
        match &self.ajax_type {
            AjaxType::Param { api_param_name } => {
                url.query_pairs_mut()
                    .append_pair(api_param_name, &request.action);
            }
            AjaxType::Path { module } => {
                if let Ok(mut segments) = url.path_segments_mut() {
                    segments.pop_if_empty().push(module).push(&request.action);
                }
            }
        }
        if request.version == Version::V20200701 {
            url.query_pairs_mut()
                .append_pair("product", "CloudCallCenter")
                .append_pair("version", request.version.as_str())
                .append_pair("region", &self.region);
        }
        let json = request_json(&request.params, request.model, self.shape);
        let mut form = vec![("request".to_owned(), json.to_string())];
        form.extend(self.other_params.iter().cloned());
        (url, form)
    }
}

impl Transport for Proxy {
    fn call<'a>(&'a self, request: &'a Request) -> BoxFuture<'a, Result<Reply, Error>> {
        Box::pin(async move {
            let (mut url, form) = self.url_and_form(request);
            let mut builder = match self.method {
                HttpMethod::Get => {
                    url.query_pairs_mut().extend_pairs(form.iter());
                    self.http.get(url)
                }
                HttpMethod::Post => {
                    let body = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(form.iter())
                        .finish();
                    self.http
                        .post(url)
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(body)
                }
            };
            for (name, value) in &self.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            let response = builder
                .send()
                .await
                .map_err(|e| http::transport_error(&request.action, self.timeout, e))?;
            let status = response.status().as_u16();
            let body =
                http::read_body(&request.action, self.timeout, self.max_body, response).await?;
            // Either shape reads the same: PascalCase keys are left as they are.
            Ok(Reply {
                http_status: status,
                body: Body::Bytes(body),
                shape: Shape::Demo,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2017::ListConfig;
    use crate::v2020::TakeBreak;

    #[test]
    fn urls_of_both_ajax_types_and_versions() {
        let p = Proxy::builder("https://crm.example.com/")
            .path("/aliyun/ccc/api")
            .build()
            .unwrap();
        let (url, form) =
            p.url_and_form(&Request::of(&ListConfig::new("i").config_item(["A", "B"])));
        assert_eq!(
            url.as_str(),
            "https://crm.example.com/aliyun/ccc/api?action=ListConfig"
        );
        assert_eq!(form[0].1, r#"{"configItem":["A","B"],"instanceId":"i"}"#);
        let p = Proxy::builder("http://127.0.0.1:1")
            .ajax_type(AjaxType::Path {
                module: "ccc".into(),
            })
            .region("cn-hangzhou")
            .shape(Shape::OpenApi)
            .other_param("token", "t")
            .build()
            .unwrap();
        let (url, form) = p.url_and_form(&Request::of(&TakeBreak::new("i", "lunch")));
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/data/api.json/ccc/TakeBreak?product=CloudCallCenter&version=2020-07-01&region=cn-hangzhou"
        );
        assert_eq!(form[0].1, r#"{"Code":"lunch","InstanceId":"i"}"#);
        assert_eq!(form[1], ("token".to_owned(), "t".to_owned()));
    }

    #[test]
    fn bad_configuration() {
        assert!(Proxy::builder("nope").build().is_err());
        assert!(
            Proxy::builder("http://h")
                .header("bad name", "v")
                .build()
                .is_err()
        );
        assert!(
            Proxy::builder("http://h")
                .header("x", "bad\nvalue")
                .build()
                .is_err()
        );
    }
}
