//! V3 signing (`ACS3-HMAC-SHA256`): a canonical request over the method, the query,
//! the signed headers and the SHA-256 of the body, HMAC-SHA256 with the secret.

use std::fmt::Write as _;

use ring::{digest, hmac};

use super::HttpMethod;
use super::v2::encode_pairs;
use crate::Credentials;

/// The algorithm name, the first word of `Authorization`.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// A request signed with V3.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedV3 {
    /// Every header to send, `authorization` included, names in lower case, sorted.
    pub headers: Vec<(String, String)>,
    /// The canonical request that was hashed.
    pub canonical_request: String,
    /// What was signed: `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request.
    pub string_to_sign: String,
    /// Lower-case hex HMAC-SHA256.
    pub signature: String,
    /// The `Authorization` header's value.
    pub authorization: String,
}

impl std::fmt::Debug for SignedV3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The canonical request holds the STS token, if any: nothing of it prints.
        f.debug_struct("SignedV3")
            .field("signature", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The headers the official SDKs set before a V3 signature, less
/// `x-acs-content-sha256`, which [`sign_v3`] adds: `host`, `x-acs-action`,
/// `x-acs-version`, `x-acs-date`, `x-acs-signature-nonce`, `accept`, `content-type` when
/// there is a body, and `x-acs-security-token` for STS.
#[allow(clippy::too_many_arguments)]
pub fn v3_headers(
    host: &str,
    action: &str,
    version: &str,
    date: &str,
    nonce: &str,
    content_type: Option<&str>,
    credentials: &Credentials,
) -> Vec<(String, String)> {
    let mut headers = vec![
        ("host".to_owned(), host.to_owned()),
        ("x-acs-action".to_owned(), action.to_owned()),
        ("x-acs-version".to_owned(), version.to_owned()),
        ("x-acs-date".to_owned(), date.to_owned()),
        ("x-acs-signature-nonce".to_owned(), nonce.to_owned()),
        ("accept".to_owned(), "application/json".to_owned()),
    ];
    if let Some(content_type) = content_type {
        headers.push(("content-type".to_owned(), content_type.to_owned()));
    }
    if let Some(token) = credentials.security_token() {
        headers.push(("x-acs-security-token".to_owned(), token.to_owned()));
    }
    headers
}

/// Signs a request: `query` as it will be sent, `headers` (every one is signed; see
/// [`v3_headers`]) and the exact `body` bytes. The path is always `/` (RPC style).
///
/// ```
/// use ccc_openapi::Credentials;
/// use ccc_openapi::sign::{HttpMethod, sign_v3};
/// // Alibaba's published example (ECS RunInstances).
/// let query = [
///     ("ImageId".to_owned(), "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd".to_owned()),
///     ("RegionId".to_owned(), "cn-shanghai".to_owned()),
/// ];
/// let headers = [
///     ("host", "ecs.cn-shanghai.aliyuncs.com"), ("x-acs-action", "RunInstances"),
///     ("x-acs-version", "2014-05-26"), ("x-acs-date", "2023-10-26T09:01:01Z"),
///     ("x-acs-signature-nonce", "d410180a5abf7fe235dd9b74aca91fc0"),
/// ].map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec();
/// let credentials = Credentials::new("YourAccessKeyId", "YourAccessKeySecret");
/// let signed = sign_v3(HttpMethod::Post, &query, headers, b"", &credentials);
/// assert_eq!(signed.signature, "e521358f7776c97df52e6b2891a8bc73026794a071b50c3323388c4e0df64804");
/// ```
pub fn sign_v3(
    method: HttpMethod,
    query: &[(String, String)],
    headers: Vec<(String, String)>,
    body: &[u8],
    credentials: &Credentials,
) -> SignedV3 {
    let payload_hash = hex(digest::digest(&digest::SHA256, body).as_ref());
    let mut headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_owned()))
        .filter(|(k, _)| k != "authorization" && k != "x-acs-content-sha256")
        .collect();
    headers.push(("x-acs-content-sha256".to_owned(), payload_hash.clone()));
    headers.sort_by(|a, b| a.0.cmp(&b.0));

    let mut sorted: Vec<&(String, String)> = query.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let canonical_query = encode_pairs(sorted.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut canonical_headers = String::new();
    for (k, v) in &headers {
        let _ = writeln!(canonical_headers, "{k}:{v}");
    }
    let signed_headers = headers
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n/\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        method.as_str()
    );
    let string_to_sign = format!(
        "{V3_ALGORITHM}\n{}",
        hex(digest::digest(&digest::SHA256, canonical_request.as_bytes()).as_ref())
    );
    let key = hmac::Key::new(hmac::HMAC_SHA256, credentials.secret().as_bytes());
    let signature = hex(hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    let authorization = format!(
        "{V3_ALGORITHM} Credential={},SignedHeaders={signed_headers},Signature={signature}",
        credentials.access_key_id()
    );
    headers.push(("authorization".to_owned(), authorization.clone()));
    SignedV3 {
        headers,
        canonical_request,
        string_to_sign,
        signature,
        authorization,
    }
}

/// Why a V3 signature was refused ([`verify_v3`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum V3Refused {
    /// No `Authorization` header, or not an `ACS3-HMAC-SHA256` one.
    #[error("no ACS3-HMAC-SHA256 Authorization header")]
    Missing,
    /// The header names another AccessKey id.
    #[error("the request is signed for AccessKey {0}")]
    OtherKey(String),
    /// A header it says is signed is not in the request.
    #[error("the signed header {0} is missing")]
    MissingHeader(String),
    /// `x-acs-content-sha256` is not the hash of the body.
    #[error("x-acs-content-sha256 is not the SHA-256 of the body")]
    BodyHash,
    /// The signature is not ours; the string the server signed.
    #[error(
        "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
    )]
    Mismatch {
        /// What the server signed.
        string_to_sign: String,
    },
}

/// The server's side of V3: checks the `authorization` header of a request (headers
/// with any case of names) against its query, its signed headers and its body.
pub fn verify_v3(
    method: HttpMethod,
    query: &[(String, String)],
    headers: &[(String, String)],
    body: &[u8],
    credentials: &Credentials,
) -> Result<(), V3Refused> {
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let auth = header("authorization")
        .and_then(|v| v.strip_prefix(V3_ALGORITHM))
        .and_then(|v| v.strip_prefix(' '))
        .ok_or(V3Refused::Missing)?;
    let field = |name: &str| {
        auth.split(',')
            .find_map(|part| part.trim().strip_prefix(name))
            .unwrap_or_default()
    };
    let key_id = field("Credential=");
    if key_id != credentials.access_key_id() {
        return Err(V3Refused::OtherKey(key_id.to_owned()));
    }
    let given = field("Signature=");
    let mut signed = Vec::new();
    for name in field("SignedHeaders=").split(';').filter(|n| !n.is_empty()) {
        let value = header(name).ok_or_else(|| V3Refused::MissingHeader(name.to_owned()))?;
        signed.push((name.to_owned(), value.to_owned()));
    }
    let hash = hex(digest::digest(&digest::SHA256, body).as_ref());
    if header("x-acs-content-sha256").is_some_and(|h| h != hash) {
        return Err(V3Refused::BodyHash);
    }
    let expected = sign_v3(method, query, signed, body, credentials);
    let given = unhex(given).unwrap_or_default();
    let key = hmac::Key::new(hmac::HMAC_SHA256, credentials.secret().as_bytes());
    hmac::verify(&key, expected.string_to_sign.as_bytes(), &given).map_err(|_| {
        V3Refused::Mismatch {
            string_to_sign: expected.string_to_sign,
        }
    })
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_body_hash_and_shape() {
        let credentials = Credentials::new("id", "secret").with_security_token("sts");
        let headers = v3_headers(
            "ccc.cn-shanghai.aliyuncs.com",
            "MakeCall",
            "2020-07-01",
            "2024-01-02T03:04:05Z",
            "n",
            None,
            &credentials,
        );
        let signed = sign_v3(HttpMethod::Post, &[], headers, b"", &credentials);
        let lines: Vec<&str> = signed.canonical_request.split('\n').collect();
        assert_eq!(lines[0], "POST");
        assert_eq!(lines[1], "/");
        assert_eq!(lines[2], "", "empty query, empty line");
        assert_eq!(
            lines.last().copied(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert!(signed.authorization.contains("SignedHeaders=accept;host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version"));
        assert!(!format!("{signed:?}").contains(&signed.signature));
        let headers = signed.headers.clone();
        assert_eq!(
            verify_v3(HttpMethod::Post, &[], &headers, b"", &credentials),
            Ok(())
        );
        assert_eq!(
            verify_v3(HttpMethod::Post, &[], &headers, b"x", &credentials),
            Err(V3Refused::BodyHash)
        );
        let query = [("A".to_owned(), "1".to_owned())];
        assert!(matches!(
            verify_v3(HttpMethod::Post, &query, &headers, b"", &credentials),
            Err(V3Refused::Mismatch { .. })
        ));
        let other = Credentials::new("other", "secret");
        assert!(matches!(
            verify_v3(HttpMethod::Post, &[], &headers, b"", &other),
            Err(V3Refused::OtherKey(_))
        ));
        let no_host: Vec<_> = headers
            .iter()
            .filter(|(k, _)| k != "host")
            .cloned()
            .collect();
        assert_eq!(
            verify_v3(HttpMethod::Post, &[], &no_host, b"", &credentials),
            Err(V3Refused::MissingHeader("host".into()))
        );
        assert_eq!(
            verify_v3(HttpMethod::Post, &[], &[], b"", &credentials),
            Err(V3Refused::Missing)
        );
    }
}
