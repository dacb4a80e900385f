//! The OSS-style upload that `GetRecordOssUploadParam` points at: the workbench uploads
//! the agent-side recording (C12) with an OSS PostObject form there.
//!
//! `GetRecordOssUploadParam` answers `Host` (`api_url` + `oss`), `Dir`, `OssFileName`,
//! `OssAccessKeyId`, `Expires`, `Policy` (base64 of OSS's policy JSON: expiration,
//! the bucket, `["starts-with","$key",Dir]`, a content-length range) and `Signature`
//! (base64 HMAC-SHA1 of the base64 policy, as OSS signs it). The client POSTs a
//! `multipart/form-data` form to `Host` with `key` (`Dir` + file name), `policy`,
//! `OSSAccessKeyId`, `Signature`, optionally `success_action_status`, and the `file`
//! last, as OSS wants. This module builds the policy and checks a form against it; the
//! HTTP handler stores the file under the recordings directory at `key`.

use base64::Engine as _;
use serde_json::{Value, json};

use super::Context;
use crate::token::Tokens;

/// The `OssAccessKeyId` of the emulator's upload endpoint.
pub const ACCESS_KEY_ID: &str = "emulator-oss";
/// The bucket the policy names.
pub const BUCKET: &str = "ccc-emulator";
/// The largest file taken.
pub const MAX_UPLOAD: usize = 64 << 20;
/// How long a policy is valid.
const POLICY_TTL_S: i64 = 3_600;

/// What `GetRecordOssUploadParam` hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadForm {
    /// Where to POST.
    pub host: String,
    /// When the policy expires (Unix seconds).
    pub expires: i64,
    /// The base64 policy.
    pub policy: String,
    /// Its signature.
    pub signature: String,
}

impl UploadForm {
    /// A form for uploads under `dir`, valid for an hour.
    pub fn new(ctx: &Context<'_>, dir: &str) -> Self {
        let expires = ctx.now_ms / 1_000 + POLICY_TTL_S;
        let expiration = time::OffsetDateTime::from_unix_timestamp(expires)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default();
        let policy = json!({
            "expiration": expiration,
            "conditions": [
                {"bucket": BUCKET},
                ["starts-with", "$key", dir],
                ["content-length-range", 0, MAX_UPLOAD],
            ],
        });
        let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
        Self {
            host: format!("{}oss", ctx.urls.api),
            expires,
            signature: ctx.tokens.sign_policy(&policy),
            policy,
        }
    }
}

/// Why an upload is refused, with OSS's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UploadError {
    /// A form field is missing.
    #[error("the form has no {0} field")]
    Missing(&'static str),
    /// Not the emulator's key, or the signature does not match the policy.
    #[error("{0}")]
    AccessDenied(&'static str),
    /// The policy cannot be read.
    #[error("the policy is not base64 of a policy JSON")]
    BadPolicy,
    /// The policy expired.
    #[error("the policy expired")]
    Expired,
    /// The key is not one the policy allows, or not a plain relative path.
    #[error("the key {0:?} is not allowed by the policy")]
    Key(String),
    /// The file is larger than the policy allows.
    #[error("the file is {0} bytes, above the policy's limit")]
    TooLarge(usize),
}

impl UploadError {
    /// OSS's error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Missing(_) | Self::BadPolicy => "InvalidArgument",
            Self::AccessDenied(_) | Self::Expired | Self::Key(_) => "AccessDenied",
            Self::TooLarge(_) => "EntityTooLarge",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Missing(_) | Self::BadPolicy | Self::TooLarge(_) => 400,
            Self::AccessDenied(_) | Self::Expired | Self::Key(_) => 403,
        }
    }

    /// OSS's XML error body.
    pub fn xml(&self) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{}</Code>\n  <Message>{}</Message>\n  <HostId>ccc.emulator.local</HostId>\n</Error>\n",
            self.code(),
            xml_escape(&self.to_string())
        )
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Whether `key` is a relative path of plain names (no `..`, no absolute path, no
/// hidden files).
pub fn safe_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 1_024
        && key.split('/').all(|part| {
            !part.is_empty()
                && !part.starts_with('.')
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
        })
}

/// Checks a POST form (its text fields, names compared without case as OSS does) and
/// the file's length against the policy; the key to store the file at.
pub fn check(
    tokens: &Tokens,
    fields: &[(String, String)],
    file_len: usize,
    now_s: i64,
) -> Result<String, UploadError> {
    let field = |name: &'static str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .ok_or(UploadError::Missing(name))
    };
    let key = field("key")?;
    let policy = field("policy")?;
    if field("OSSAccessKeyId")? != ACCESS_KEY_ID {
        return Err(UploadError::AccessDenied(
            "the OSSAccessKeyId is not the emulator's",
        ));
    }
    if !tokens.check_policy(policy, field("Signature")?) {
        return Err(UploadError::AccessDenied(
            "the signature does not match the policy",
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(policy)
        .map_err(|_| UploadError::BadPolicy)?;
    let policy: Value = serde_json::from_slice(&decoded).map_err(|_| UploadError::BadPolicy)?;
    let expiration = policy["expiration"]
        .as_str()
        .and_then(|t| {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
        })
        .ok_or(UploadError::BadPolicy)?;
    if expiration.unix_timestamp() < now_s {
        return Err(UploadError::Expired);
    }
    let conditions = policy["conditions"]
        .as_array()
        .ok_or(UploadError::BadPolicy)?;
    for condition in conditions {
        let Some(items) = condition.as_array() else {
            continue;
        };
        match (
            items.first().and_then(Value::as_str),
            items.get(1),
            items.get(2),
        ) {
            (Some("starts-with"), Some(Value::String(name)), Some(Value::String(prefix)))
                if name == "$key" && !key.starts_with(prefix.as_str()) =>
            {
                return Err(UploadError::Key(key.to_owned()));
            }
            (Some("content-length-range"), _, Some(max))
                if max.as_u64().is_none_or(|m| file_len as u64 > m) =>
            {
                return Err(UploadError::TooLarge(file_len));
            }
            _ => {}
        }
    }
    if !safe_key(key) {
        return Err(UploadError::Key(key.to_owned()));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Store, TurnAuth, Urls};

    fn form(tokens: &Tokens, now_ms: i64) -> UploadForm {
        let urls = Urls {
            api: "http://127.0.0.1:1/".into(),
            agent_server: String::new(),
            sip_ws: String::new(),
        };
        let mut store = Store::default();
        let auth = TurnAuth::Secret("s".into());
        let ctx = Context {
            urls: &urls,
            tokens,
            turn: &[],
            turn_auth: &auth,
            store: &mut store,
            now_ms,
            request_id: String::new(),
        };
        UploadForm::new(&ctx, "uploads/bob/")
    }

    fn fields(f: &UploadForm, key: &str) -> Vec<(String, String)> {
        vec![
            ("key".into(), key.into()),
            ("policy".into(), f.policy.clone()),
            ("OSSAccessKeyId".into(), ACCESS_KEY_ID.into()),
            ("Signature".into(), f.signature.clone()),
        ]
    }

    #[test]
    fn a_form_is_checked_against_its_policy() {
        let tokens = Tokens::new(&[7; 32]);
        let f = form(&tokens, 1_000_000);
        assert_eq!(f.host, "http://127.0.0.1:1/oss");
        assert_eq!(
            check(&tokens, &fields(&f, "uploads/bob/a.wav"), 10, 1_000).as_deref(),
            Ok("uploads/bob/a.wav")
        );
        let e = check(&tokens, &fields(&f, "uploads/alice/a.wav"), 10, 1_000).unwrap_err();
        assert_eq!((e.code(), e.status()), ("AccessDenied", 403));
        let e = check(&tokens, &fields(&f, "uploads/bob/../x"), 10, 1_000).unwrap_err();
        assert!(matches!(e, UploadError::Key(_)));
        let e = check(
            &tokens,
            &fields(&f, "uploads/bob/a.wav"),
            MAX_UPLOAD + 1,
            1_000,
        );
        assert_eq!(e.unwrap_err().code(), "EntityTooLarge");
        let e = check(&tokens, &fields(&f, "uploads/bob/a.wav"), 10, 1_000 + 3_601);
        assert_eq!(e.unwrap_err(), UploadError::Expired);
        let mut forged = fields(&f, "uploads/bob/a.wav");
        forged[3].1 = tokens.sign_policy("other");
        let e = check(&tokens, &forged, 10, 1_000).unwrap_err();
        assert!(e.xml().contains("<Code>AccessDenied</Code>"), "{}", e.xml());
        let mut missing = fields(&f, "uploads/bob/a.wav");
        missing.remove(0);
        assert_eq!(
            check(&tokens, &missing, 10, 1_000).unwrap_err(),
            UploadError::Missing("key")
        );
        assert!(!safe_key("/etc/passwd") && !safe_key("a//b") && !safe_key(".x"));
    }
}
