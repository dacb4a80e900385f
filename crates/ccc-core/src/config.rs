//! The workbench configuration (MAP.md C): every option that is not about the panel.
//!
//! The panel options (C1 `dom`, C4 `header`, C5 `width`, C6 `height`, C7
//! `defaultVisible`, C8/C9 images, C22 `moreActionList`, C35 `sideNavList`, C38
//! `reducePanel`, C40 `customizedNotification`) belong to the terminal softphone
//! example, which reads them itself. C41 `apiAxiosFunc` is a function, not data: it is
//! the custom transport of ccc-openapi.
//!
//! Build a [`Config`] in code with [`Config::builder`], or deserialize a
//! [`ConfigSource`] (the guide's camelCase names) from any serde format and convert it.
//! Either way the values are checked once, into [`ConfigError`]s.

use std::time::Duration;

use serde::Deserialize;

/// How after-call work ends (C10 `afterCallRule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCallRule {
    /// Go ready by itself after this long (the guide's default: 15 s).
    After(Duration),
    /// Stay in after-call work until `ready()` (`"manual"`).
    Manual,
}

/// How the SDK names the action in a proxy request (C13 `ajaxType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AjaxType {
    /// `origin/path?{ajaxApiParamName}=Action` (the default).
    #[default]
    Param,
    /// `origin/path/module/action`.
    Path,
}

/// The HTTP method of proxy requests (C18 `ajaxMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AjaxMethod {
    /// POST with a form body (the default).
    #[default]
    Post,
    /// GET with the parameters in the query.
    Get,
}

/// The integrator-proxy conventions (C13-C20).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AjaxConfig {
    /// C13.
    pub ajax_type: AjaxType,
    /// C14: scheme and host (and port) of the proxy; a browser would use its own origin.
    pub origin: Option<String>,
    /// C15: path of the proxy endpoint (default `/data/api.json`).
    pub path: String,
    /// C16: keep and send the proxy's cookies.
    pub with_credentials: bool,
    /// C17: the query key that names the action (default `action`).
    pub api_param_name: String,
    /// C18.
    pub method: AjaxMethod,
    /// C19: extra parameters sent beside `request`.
    pub other_params: Vec<(String, String)>,
    /// C20: extra request headers.
    pub headers: Vec<(String, String)>,
}

impl Default for AjaxConfig {
    fn default() -> Self {
        Self {
            ajax_type: AjaxType::Param,
            origin: None,
            path: "/data/api.json".to_owned(),
            with_credentials: false,
            api_param_name: "action".to_owned(),
            method: AjaxMethod::Post,
            other_params: Vec::new(),
            headers: Vec::new(),
        }
    }
}

/// A checked workbench configuration.
///
/// ```
/// use std::time::Duration;
/// use ccc_core::config::{AfterCallRule, Config};
///
/// let config = Config::builder("ccc-test", true)
///     .after_call_rule_seconds(30)
///     .auto_answer_call_seconds(3)
///     .build()
///     .unwrap();
/// assert_eq!(config.after_call_rule(), AfterCallRule::After(Duration::from_secs(30)));
/// assert_eq!(config.auto_answer_call(), Some(Duration::from_secs(3)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    instance_id: String,
    use_open_api_sdk: bool,
    after_call_rule: AfterCallRule,
    auto_answer_call: Option<Duration>,
    enable_record: bool,
    ajax: AjaxConfig,
    export_error_of_api: bool,
    use_local_storage_to_call: bool,
    disable_save_stats: bool,
    enable_switch_adapter: bool,
    ring_timeout: Duration,
    link_timeout: Duration,
    inbound_hang_up: bool,
}

impl Config {
    /// A builder with the two required options: C2 `instanceId` and C3 `useOpenApiSdk`.
    pub fn builder(instance_id: impl Into<String>, use_open_api_sdk: bool) -> ConfigBuilder {
        ConfigBuilder {
            instance_id: instance_id.into(),
            use_open_api_sdk,
            after_call: RawAfterCall::Seconds(15),
            auto_answer_seconds: None,
            enable_record: false,
            ajax_type: None,
            ajax_method: None,
            ajax: AjaxConfig::default(),
            export_error_of_api: false,
            use_local_storage_to_call: false,
            disable_save_stats: false,
            enable_switch_adapter: true,
            ring_timeout: Duration::from_secs(30),
            link_timeout: Duration::from_secs(30),
            inbound_hang_up: true,
        }
    }

    /// C2: the CCC instance.
    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }
    /// C3: the backend uses the official OpenAPI SDK (PascalCase, `Key.N` lists).
    pub fn use_open_api_sdk(&self) -> bool {
        self.use_open_api_sdk
    }
    /// C10: how after-call work ends.
    pub fn after_call_rule(&self) -> AfterCallRule {
        self.after_call_rule
    }
    /// C11: answer by itself after ringing this long; `None` is manual answer.
    pub fn auto_answer_call(&self) -> Option<Duration> {
        self.auto_answer_call
    }
    /// C12: record calls on the agent's side.
    pub fn enable_record(&self) -> bool {
        self.enable_record
    }
    /// C13-C20: the integrator-proxy conventions.
    pub fn ajax(&self) -> &AjaxConfig {
        &self.ajax
    }
    /// C21: report API errors with code, message, request id and API.
    pub fn export_error_of_api(&self) -> bool {
        self.export_error_of_api
    }
    /// C23: let other processes call and hang up through this agent's control endpoint.
    pub fn use_local_storage_to_call(&self) -> bool {
        self.use_local_storage_to_call
    }
    /// C37: do not keep audio and network statistics for upload.
    pub fn disable_save_stats(&self) -> bool {
        self.disable_save_stats
    }
    /// C39: use access points (TURN relays) chosen by speed test; false connects directly.
    pub fn enable_switch_adapter(&self) -> bool {
        self.enable_switch_adapter
    }
    /// How long a call may ring before the agent is put on break (the guide: 30 s).
    pub fn ring_timeout(&self) -> Duration {
        self.ring_timeout
    }
    /// How long a link may stay down before the agent is signed out (the guide's
    /// `ASM_SIP` is 30 s).
    pub fn link_timeout(&self) -> Duration {
        self.link_timeout
    }
    /// Whether the platform lets agents hang up inbound calls (table K9 "if permitted").
    pub fn inbound_hang_up(&self) -> bool {
        self.inbound_hang_up
    }
}

#[derive(Debug, Clone)]
enum RawAfterCall {
    Seconds(i64),
    Manual,
    Invalid(String),
}

/// Builds a [`Config`]; [`ConfigBuilder::build`] checks every value.
#[derive(Debug, Clone)]
#[must_use]
pub struct ConfigBuilder {
    instance_id: String,
    use_open_api_sdk: bool,
    after_call: RawAfterCall,
    auto_answer_seconds: Option<i64>,
    enable_record: bool,
    ajax_type: Option<String>,
    ajax_method: Option<String>,
    ajax: AjaxConfig,
    export_error_of_api: bool,
    use_local_storage_to_call: bool,
    disable_save_stats: bool,
    enable_switch_adapter: bool,
    ring_timeout: Duration,
    link_timeout: Duration,
    inbound_hang_up: bool,
}

impl ConfigBuilder {
    /// C10: go ready after this many seconds of after-call work (must not be negative).
    pub fn after_call_rule_seconds(mut self, seconds: i64) -> Self {
        self.after_call = RawAfterCall::Seconds(seconds);
        self
    }
    /// C10 `"manual"`: stay in after-call work until `ready()`.
    pub fn after_call_rule_manual(mut self) -> Self {
        self.after_call = RawAfterCall::Manual;
        self
    }
    /// C11: answer after ringing this many seconds (at least 1).
    pub fn auto_answer_call_seconds(mut self, seconds: i64) -> Self {
        self.auto_answer_seconds = Some(seconds);
        self
    }
    /// C12.
    pub fn enable_record(mut self, on: bool) -> Self {
        self.enable_record = on;
        self
    }
    /// C13, as the guide spells it: `"param"` or `"path"`.
    pub fn ajax_type(mut self, ajax_type: impl Into<String>) -> Self {
        self.ajax_type = Some(ajax_type.into());
        self
    }
    /// C14: `https://host[:port]`.
    pub fn ajax_origin(mut self, origin: impl Into<String>) -> Self {
        self.ajax.origin = Some(origin.into());
        self
    }
    /// C15: starts with `/`.
    pub fn ajax_path(mut self, path: impl Into<String>) -> Self {
        self.ajax.path = path.into();
        self
    }
    /// C16.
    pub fn with_credentials(mut self, on: bool) -> Self {
        self.ajax.with_credentials = on;
        self
    }
    /// C17.
    pub fn ajax_api_param_name(mut self, name: impl Into<String>) -> Self {
        self.ajax.api_param_name = name.into();
        self
    }
    /// C18, as the guide spells it: `"post"` or `"get"`.
    pub fn ajax_method(mut self, method: impl Into<String>) -> Self {
        self.ajax_method = Some(method.into());
        self
    }
    /// C19: one more parameter beside `request`.
    pub fn ajax_other_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.ajax.other_params.push((name.into(), value.into()));
        self
    }
    /// C20: one more request header.
    pub fn ajax_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.ajax.headers.push((name.into(), value.into()));
        self
    }
    /// C21.
    pub fn export_error_of_api(mut self, on: bool) -> Self {
        self.export_error_of_api = on;
        self
    }
    /// C23.
    pub fn use_local_storage_to_call(mut self, on: bool) -> Self {
        self.use_local_storage_to_call = on;
        self
    }
    /// C37.
    pub fn disable_save_stats(mut self, on: bool) -> Self {
        self.disable_save_stats = on;
        self
    }
    /// C39 `isEnableSwitchAdapter` (default true).
    pub fn enable_switch_adapter(mut self, on: bool) -> Self {
        self.enable_switch_adapter = on;
        self
    }
    /// The ring timeout (default 30 s, as the guide says); shorter in tests and demos.
    pub fn ring_timeout(mut self, timeout: Duration) -> Self {
        self.ring_timeout = timeout;
        self
    }
    /// The link timeout (default 30 s).
    pub fn link_timeout(mut self, timeout: Duration) -> Self {
        self.link_timeout = timeout;
        self
    }
    /// Whether the platform lets agents hang up inbound calls (default true).
    pub fn inbound_hang_up(mut self, allowed: bool) -> Self {
        self.inbound_hang_up = allowed;
        self
    }

    /// Checks every value and returns the configuration, or the first problem found.
    pub fn build(self) -> Result<Config, ConfigError> {
        if self.instance_id.trim().is_empty() {
            return Err(ConfigError::MissingInstanceId);
        }
        let after_call_rule = match self.after_call {
            RawAfterCall::Manual => AfterCallRule::Manual,
            RawAfterCall::Seconds(s) if s < 0 => return Err(ConfigError::NegativeAfterCallRule(s)),
            RawAfterCall::Seconds(s) => AfterCallRule::After(Duration::from_secs(s.unsigned_abs())),
            RawAfterCall::Invalid(text) => return Err(ConfigError::InvalidAfterCallRule(text)),
        };
        let auto_answer_call = match self.auto_answer_seconds {
            None => None,
            Some(s) if s < 1 => return Err(ConfigError::AutoAnswerTooShort(s)),
            Some(s) => Some(Duration::from_secs(s.unsigned_abs())),
        };
        let mut ajax = self.ajax;
        if let Some(text) = self.ajax_type {
            ajax.ajax_type = match text.to_ascii_lowercase().as_str() {
                "param" => AjaxType::Param,
                "path" => AjaxType::Path,
                _ => return Err(ConfigError::UnknownAjaxType(text)),
            };
        }
        if let Some(text) = self.ajax_method {
            ajax.method = match text.to_ascii_lowercase().as_str() {
                "post" => AjaxMethod::Post,
                "get" => AjaxMethod::Get,
                _ => return Err(ConfigError::UnknownAjaxMethod(text)),
            };
        }
        if let Some(origin) = &ajax.origin {
            check_origin(origin)?;
            ajax.origin = Some(origin.trim_end_matches('/').to_owned());
        }
        if !ajax.path.starts_with('/')
            || ajax
                .path
                .chars()
                .any(|c| c.is_whitespace() || c == '?' || c == '#')
        {
            return Err(ConfigError::InvalidAjaxPath(ajax.path));
        }
        if ajax.api_param_name.is_empty() || !ajax.api_param_name.bytes().all(is_token_byte) {
            return Err(ConfigError::InvalidApiParamName(ajax.api_param_name));
        }
        for (name, _) in &ajax.other_params {
            if name.is_empty() || name == "request" || *name == ajax.api_param_name {
                return Err(ConfigError::ReservedOtherParam(name.clone()));
            }
        }
        for (name, value) in &ajax.headers {
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(ConfigError::InvalidHeaderName(name.clone()));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                return Err(ConfigError::InvalidHeaderValue(name.clone()));
            }
        }
        for (what, timeout) in [("ring", self.ring_timeout), ("link", self.link_timeout)] {
            if timeout.is_zero() {
                return Err(ConfigError::ZeroTimeout(what));
            }
        }
        Ok(Config {
            instance_id: self.instance_id,
            use_open_api_sdk: self.use_open_api_sdk,
            after_call_rule,
            auto_answer_call,
            enable_record: self.enable_record,
            ajax,
            export_error_of_api: self.export_error_of_api,
            use_local_storage_to_call: self.use_local_storage_to_call,
            disable_save_stats: self.disable_save_stats,
            enable_switch_adapter: self.enable_switch_adapter,
            ring_timeout: self.ring_timeout,
            link_timeout: self.link_timeout,
            inbound_hang_up: self.inbound_hang_up,
        })
    }
}

fn check_origin(origin: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::InvalidAjaxOrigin(origin.to_owned());
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    let host_ok = !host.is_empty()
        && !host.contains(['/', '?', '#', '@'])
        && !host.chars().any(char::is_whitespace);
    if host_ok { Ok(()) } else { Err(bad()) }
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A configuration value that cannot work, found when the configuration is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// C2 is empty.
    #[error("instanceId (C2) is required")]
    MissingInstanceId,
    /// C3 is missing from a configuration source.
    #[error("useOpenApiSdk (C3) is required: true when the backend uses the official OpenAPI SDK")]
    MissingUseOpenApiSdk,
    /// C10 is negative.
    #[error("afterCallRule (C10) must be 0 or more seconds, or \"manual\"; got {0}")]
    NegativeAfterCallRule(i64),
    /// C10 is neither a number nor `"manual"`.
    #[error("afterCallRule (C10) must be a number of seconds or \"manual\"; got {0:?}")]
    InvalidAfterCallRule(String),
    /// C11 is below one second.
    #[error(
        "autoAnswerCall (C11) must be at least 1 second; leave it out for manual answer; got {0}"
    )]
    AutoAnswerTooShort(i64),
    /// C13 is neither `param` nor `path`.
    #[error("ajaxType (C13) must be \"param\" or \"path\"; got {0:?}")]
    UnknownAjaxType(String),
    /// C18 is neither `post` nor `get`.
    #[error("ajaxMethod (C18) must be \"post\" or \"get\"; got {0:?}")]
    UnknownAjaxMethod(String),
    /// C14 is not `http(s)://host[:port]`.
    #[error("ajaxOrigin (C14) must look like https://host[:port]; got {0:?}")]
    InvalidAjaxOrigin(String),
    /// C15 does not start with `/` or holds a query, fragment or space.
    #[error("ajaxPath (C15) must start with / and hold no query, fragment or space; got {0:?}")]
    InvalidAjaxPath(String),
    /// C17 is empty or not a plain token.
    #[error("ajaxApiParamName (C17) must be a plain non-empty name; got {0:?}")]
    InvalidApiParamName(String),
    /// C19 names a parameter the SDK sends itself.
    #[error("ajaxOtherParams (C19) may not use the name {0:?}: the SDK sends it itself")]
    ReservedOtherParam(String),
    /// C20 has a header name that is not an HTTP token.
    #[error("ajaxHeaders (C20): {0:?} is not a valid header name")]
    InvalidHeaderName(String),
    /// C20 has a header value with CR, LF or NUL.
    #[error("ajaxHeaders (C20): the value of {0:?} holds a line break or NUL")]
    InvalidHeaderValue(String),
    /// A timeout is zero.
    #[error("the {0} timeout must be longer than zero")]
    ZeroTimeout(&'static str),
}

/// The configuration as the guide writes it (camelCase names), for reading from a file.
/// Convert it with [`Config::try_from`].
///
/// ```
/// use ccc_core::config::{Config, ConfigError, ConfigSource};
///
/// let source: ConfigSource = serde_json::from_str(
///     r#"{"instanceId": "ccc-test", "useOpenApiSdk": true, "afterCallRule": "manual", "ajaxType": "path"}"#,
/// ).unwrap();
/// let config = Config::try_from(source).unwrap();
/// assert_eq!(config.after_call_rule(), ccc_core::config::AfterCallRule::Manual);
///
/// let bad: ConfigSource = serde_json::from_str(r#"{"instanceId": "x", "useOpenApiSdk": false, "afterCallRule": -5}"#).unwrap();
/// assert_eq!(Config::try_from(bad), Err(ConfigError::NegativeAfterCallRule(-5)));
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ConfigSource {
    /// C2.
    pub instance_id: Option<String>,
    /// C3.
    pub use_open_api_sdk: Option<bool>,
    /// C10: seconds, or `"manual"`.
    pub after_call_rule: Option<NumberOrText>,
    /// C11: seconds.
    pub auto_answer_call: Option<NumberOrText>,
    /// C12.
    pub enable_record: Option<bool>,
    /// C13.
    pub ajax_type: Option<String>,
    /// C14.
    pub ajax_origin: Option<String>,
    /// C15.
    pub ajax_path: Option<String>,
    /// C16.
    pub with_credentials: Option<bool>,
    /// C17.
    pub ajax_api_param_name: Option<String>,
    /// C18.
    pub ajax_method: Option<String>,
    /// C19.
    pub ajax_other_params: Option<std::collections::BTreeMap<String, String>>,
    /// C20.
    pub ajax_headers: Option<std::collections::BTreeMap<String, String>>,
    /// C21.
    pub export_error_of_api: Option<bool>,
    /// C23.
    pub use_local_storage_to_call: Option<bool>,
    /// C37.
    pub disable_save_stats: Option<bool>,
    /// C39.
    pub is_enable_switch_adapter: Option<bool>,
    /// Ring timeout in seconds (beyond the guide; default 30).
    pub ring_timeout_seconds: Option<u64>,
    /// Link timeout in seconds (beyond the guide; default 30).
    pub link_timeout_seconds: Option<u64>,
    /// Whether agents may hang up inbound calls (beyond the guide; default true).
    pub inbound_hang_up: Option<bool>,
}

/// A value the guide lets be a number or a word (`afterCallRule: 15 | "manual"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum NumberOrText {
    /// A number.
    Number(f64),
    /// A word (or a number written as text).
    Text(String),
}

impl NumberOrText {
    /// Whole seconds, if the value is a whole number (as a number or as text).
    fn whole(&self) -> Option<i64> {
        let n = match self {
            Self::Number(n) => *n,
            Self::Text(t) => t.trim().parse::<f64>().ok()?,
        };
        #[allow(clippy::cast_possible_truncation)]
        let whole = n as i64;
        (n.fract() == 0.0 && n.is_finite() && (whole as f64) == n).then_some(whole)
    }

    fn describe(&self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(t) => t.clone(),
        }
    }
}

impl TryFrom<ConfigSource> for Config {
    type Error = ConfigError;

    fn try_from(source: ConfigSource) -> Result<Self, ConfigError> {
        let use_open_api_sdk = source
            .use_open_api_sdk
            .ok_or(ConfigError::MissingUseOpenApiSdk)?;
        let mut b = Self::builder(source.instance_id.unwrap_or_default(), use_open_api_sdk);
        if let Some(rule) = source.after_call_rule {
            b.after_call = match &rule {
                NumberOrText::Text(t) if t.trim().eq_ignore_ascii_case("manual") => {
                    RawAfterCall::Manual
                }
                other => other.whole().map_or_else(
                    || RawAfterCall::Invalid(other.describe()),
                    RawAfterCall::Seconds,
                ),
            };
        }
        if let Some(auto) = source.auto_answer_call {
            // A fraction of a second or a word can never be a valid number of seconds.
            b.auto_answer_seconds = Some(auto.whole().unwrap_or(0));
        }
        let flags = [
            (source.enable_record, &mut b.enable_record),
            (source.with_credentials, &mut b.ajax.with_credentials),
            (source.export_error_of_api, &mut b.export_error_of_api),
            (
                source.use_local_storage_to_call,
                &mut b.use_local_storage_to_call,
            ),
            (source.disable_save_stats, &mut b.disable_save_stats),
            (
                source.is_enable_switch_adapter,
                &mut b.enable_switch_adapter,
            ),
            (source.inbound_hang_up, &mut b.inbound_hang_up),
        ];
        for (value, slot) in flags {
            if let Some(value) = value {
                *slot = value;
            }
        }
        b.ajax_type = source.ajax_type;
        b.ajax_method = source.ajax_method;
        b.ajax.origin = source.ajax_origin;
        if let Some(path) = source.ajax_path {
            b.ajax.path = path;
        }
        if let Some(name) = source.ajax_api_param_name {
            b.ajax.api_param_name = name;
        }
        b.ajax.other_params = source
            .ajax_other_params
            .unwrap_or_default()
            .into_iter()
            .collect();
        b.ajax.headers = source
            .ajax_headers
            .unwrap_or_default()
            .into_iter()
            .collect();
        if let Some(s) = source.ring_timeout_seconds {
            b.ring_timeout = Duration::from_secs(s);
        }
        if let Some(s) = source.link_timeout_seconds {
            b.link_timeout = Duration::from_secs(s);
        }
        b.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(json: &str) -> Result<Config, ConfigError> {
        Config::try_from(serde_json::from_str::<ConfigSource>(json).unwrap())
    }

    #[test]
    fn defaults_are_the_guides() {
        let c = Config::builder("ccc-test", false).build().unwrap();
        assert_eq!(c.instance_id(), "ccc-test");
        assert!(!c.use_open_api_sdk());
        assert_eq!(
            c.after_call_rule(),
            AfterCallRule::After(Duration::from_secs(15))
        );
        assert_eq!(c.auto_answer_call(), None);
        assert!(!c.enable_record());
        assert_eq!(c.ajax().ajax_type, AjaxType::Param);
        assert_eq!(c.ajax().path, "/data/api.json");
        assert_eq!(c.ajax().api_param_name, "action");
        assert_eq!(c.ajax().method, AjaxMethod::Post);
        assert!(c.enable_switch_adapter());
        assert_eq!(c.ring_timeout(), Duration::from_secs(30));
        assert_eq!(c.link_timeout(), Duration::from_secs(30));
        assert!(c.inbound_hang_up());
    }

    #[test]
    fn every_option_from_a_source() {
        let c = source(
            r#"{"instanceId":"i","useOpenApiSdk":true,"afterCallRule":"20","autoAnswerCall":2,"enableRecord":true,
                "ajaxType":"PATH","ajaxOrigin":"https://crm.example.com/","ajaxPath":"/ccc/api","withCredentials":true,
                "ajaxApiParamName":"api","ajaxMethod":"get","ajaxOtherParams":{"tenant":"t1"},
                "ajaxHeaders":{"X-Token":"abc"},"exportErrorOfApi":true,"useLocalStorageToCall":true,
                "disableSaveStats":true,"isEnableSwitchAdapter":false,"ringTimeoutSeconds":5,"linkTimeoutSeconds":7,
                "inboundHangUp":false}"#,
        )
        .unwrap();
        assert_eq!(
            c.after_call_rule(),
            AfterCallRule::After(Duration::from_secs(20))
        );
        assert_eq!(c.auto_answer_call(), Some(Duration::from_secs(2)));
        assert!(c.enable_record() && c.export_error_of_api() && c.use_local_storage_to_call());
        assert!(c.disable_save_stats() && !c.enable_switch_adapter() && !c.inbound_hang_up());
        let a = c.ajax();
        assert_eq!(a.ajax_type, AjaxType::Path);
        assert_eq!(a.origin.as_deref(), Some("https://crm.example.com"));
        assert_eq!(a.path, "/ccc/api");
        assert!(a.with_credentials);
        assert_eq!(a.api_param_name, "api");
        assert_eq!(a.method, AjaxMethod::Get);
        assert_eq!(a.other_params, [("tenant".to_owned(), "t1".to_owned())]);
        assert_eq!(a.headers, [("X-Token".to_owned(), "abc".to_owned())]);
        assert_eq!(c.ring_timeout(), Duration::from_secs(5));
        assert_eq!(c.link_timeout(), Duration::from_secs(7));
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let base = |extra: &str| format!(r#"{{"instanceId":"i","useOpenApiSdk":true{extra}}}"#);
        let cases: [(&str, ConfigError); 14] = [
            (
                ",\"afterCallRule\":-1",
                ConfigError::NegativeAfterCallRule(-1),
            ),
            (
                ",\"afterCallRule\":\"soon\"",
                ConfigError::InvalidAfterCallRule("soon".into()),
            ),
            (
                ",\"afterCallRule\":1.5",
                ConfigError::InvalidAfterCallRule("1.5".into()),
            ),
            (",\"autoAnswerCall\":0", ConfigError::AutoAnswerTooShort(0)),
            (
                ",\"autoAnswerCall\":-3",
                ConfigError::AutoAnswerTooShort(-3),
            ),
            (
                ",\"ajaxType\":\"query\"",
                ConfigError::UnknownAjaxType("query".into()),
            ),
            (
                ",\"ajaxMethod\":\"put\"",
                ConfigError::UnknownAjaxMethod("put".into()),
            ),
            (
                ",\"ajaxOrigin\":\"crm.example.com\"",
                ConfigError::InvalidAjaxOrigin("crm.example.com".into()),
            ),
            (
                ",\"ajaxOrigin\":\"https://a.com/x\"",
                ConfigError::InvalidAjaxOrigin("https://a.com/x".into()),
            ),
            (
                ",\"ajaxPath\":\"api?x=1\"",
                ConfigError::InvalidAjaxPath("api?x=1".into()),
            ),
            (
                ",\"ajaxApiParamName\":\"a b\"",
                ConfigError::InvalidApiParamName("a b".into()),
            ),
            (
                ",\"ajaxOtherParams\":{\"request\":\"x\"}",
                ConfigError::ReservedOtherParam("request".into()),
            ),
            (
                ",\"ajaxHeaders\":{\"Bad Name\":\"x\"}",
                ConfigError::InvalidHeaderName("Bad Name".into()),
            ),
            (
                ",\"ringTimeoutSeconds\":0",
                ConfigError::ZeroTimeout("ring"),
            ),
        ];
        for (extra, want) in cases {
            assert_eq!(source(&base(extra)), Err(want), "{extra}");
        }
        assert_eq!(
            source(r#"{"instanceId":"i"}"#),
            Err(ConfigError::MissingUseOpenApiSdk)
        );
        assert_eq!(
            source(r#"{"useOpenApiSdk":true}"#),
            Err(ConfigError::MissingInstanceId)
        );
        let header = Config::builder("i", true)
            .ajax_header("X-A", "a\r\nInjected: 1")
            .build();
        assert_eq!(header, Err(ConfigError::InvalidHeaderValue("X-A".into())));
        let msg = ConfigError::AutoAnswerTooShort(0).to_string();
        assert!(msg.contains("autoAnswerCall (C11)"), "{msg}");
    }
}
