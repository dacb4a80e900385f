//! V2 signing (RPC style): sorted, percent-encoded parameters, HMAC-SHA1 with the
//! secret and `&`.

use base64::Engine as _;
use ring::hmac;

use crate::Credentials;

/// The HTTP method; it is part of the string to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET: every parameter in the query.
    Get,
    /// POST: the common parameters in the query, API parameters in the query or the
    /// form body depending on the style.
    Post,
}

impl HttpMethod {
    /// `GET` or `POST`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// Which SDK's set of common parameters to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `aliyun-python-sdk-core`: `Format=JSON`, `RegionId`, an empty `SignatureType`.
    Core,
    /// `alibabacloud-tea-openapi`: `Format=json`, no `RegionId`, no `SignatureType`.
    Tea,
}

/// A request with its signature. `Debug` leaves the signature and the security token
/// out.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// Every signed parameter, sorted (the body ones included).
    pub params: Vec<(String, String)>,
    /// `name=value&...` of the sorted, percent-encoded parameters.
    pub canonical_query: String,
    /// What was signed: `METHOD&%2F&` + the encoded canonical query.
    pub string_to_sign: String,
    /// Base64 HMAC-SHA1.
    pub signature: String,
}

impl std::fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.params.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("SignedRequest")
            .field("params", &names)
            .field("signature", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// RFC 3986 percent-encoding of the UTF-8 bytes: only `A-Z a-z 0-9 - _ . ~` stay, the
/// rest becomes `%XY` with upper-case hex (so a space is `%20`, never `+`).
///
/// ```
/// assert_eq!(ccc_openapi::sign::percent_encode("a b*~+/é"), "a%20b%2A~%2B%2F%C3%A9");
/// ```
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    percent_encode_into(&mut out, text);
    out
}

/// [`percent_encode`] appended to `out`.
pub fn percent_encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// `name=value&...` of `pairs`, both percent-encoded: the canonical query when sorted,
/// and what goes in a URL query or a form body.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::with_capacity(256);
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode_into(&mut out, name);
        out.push('=');
        percent_encode_into(&mut out, value);
    }
    out
}

/// The common parameters of a V2 request (everything but `Signature`).
pub fn v2_common_params(
    action: &str,
    version: &str,
    credentials: &Credentials,
    style: ParamStyle,
    region: &str,
    timestamp: &str,
    nonce: &str,
) -> Vec<(String, String)> {
    let mut params = vec![
        ("Action".to_owned(), action.to_owned()),
        ("Version".to_owned(), version.to_owned()),
        (
            "AccessKeyId".to_owned(),
            credentials.access_key_id().to_owned(),
        ),
        ("SignatureMethod".to_owned(), "HMAC-SHA1".to_owned()),
        ("SignatureVersion".to_owned(), "1.0".to_owned()),
        ("SignatureNonce".to_owned(), nonce.to_owned()),
        ("Timestamp".to_owned(), timestamp.to_owned()),
    ];
    match style {
        ParamStyle::Core => {
            params.push(("Format".to_owned(), "JSON".to_owned()));
            params.push(("RegionId".to_owned(), region.to_owned()));
            params.push(("SignatureType".to_owned(), String::new()));
        }
        ParamStyle::Tea => params.push(("Format".to_owned(), "json".to_owned())),
    }
    if let Some(token) = credentials.security_token() {
        params.push(("SecurityToken".to_owned(), token.to_owned()));
    }
    params
}

/// Signs `params` (all that will be sent, query and form body alike) for `method`.
///
/// ```
/// use ccc_openapi::Credentials;
/// use ccc_openapi::sign::{HttpMethod, sign_v2};
/// // Alibaba's published example (ECS DescribeRegions).
/// let params = [
///     ("Timestamp", "2016-02-23T12:46:24Z"), ("Format", "XML"), ("AccessKeyId", "testid"),
///     ("Action", "DescribeRegions"), ("SignatureMethod", "HMAC-SHA1"),
///     ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"), ("Version", "2014-05-26"),
///     ("SignatureVersion", "1.0"),
/// ];
/// let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
/// let signed = sign_v2(HttpMethod::Get, params, &Credentials::new("testid", "testsecret"));
/// assert_eq!(signed.signature, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
/// ```
pub fn sign_v2(
    method: HttpMethod,
    mut params: Vec<(String, String)>,
    credentials: &Credentials,
) -> SignedRequest {
    // Plain byte order of the raw names: `ConfigItem.10` before `ConfigItem.2`.
    params.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let canonical_query = encode_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut string_to_sign = String::with_capacity(canonical_query.len() * 5 / 4 + 16);
    string_to_sign.push_str(method.as_str());
    // `&` + percentEncode("/") + `&`.
    string_to_sign.push_str("&%2F&");
    percent_encode_into(&mut string_to_sign, &canonical_query);
    let key = hmac::Key::new(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{}&", credentials.secret()).as_bytes(),
    );
    let tag = hmac::sign(&key, string_to_sign.as_bytes());
    SignedRequest {
        params,
        canonical_query,
        string_to_sign,
        signature: base64::engine::general_purpose::STANDARD.encode(tag.as_ref()),
    }
}

/// Why a V2 signature was refused ([`verify_v2`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureRefused {
    /// No `Signature` parameter (CCC: `IncompleteSignature`).
    #[error("the request has no Signature parameter")]
    Missing,
    /// The signature is not ours (CCC: `SignatureDoesNotMatch`); CCC's message, with
    /// the string the server signed.
    #[error(
        "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
    )]
    Mismatch {
        /// What the server signed.
        string_to_sign: String,
    },
}

/// The server's side: checks that `params` (query and form body together, `Signature`
/// among them) are signed for `method` with `credentials`' secret, in constant time.
///
/// ```
/// use ccc_openapi::Credentials;
/// use ccc_openapi::sign::{HttpMethod, sign_v2, verify_v2};
/// let c = Credentials::new("id", "secret");
/// let mut params = vec![("Action".to_owned(), "A".to_owned())];
/// let signed = sign_v2(HttpMethod::Post, params.clone(), &c);
/// params.push(("Signature".to_owned(), signed.signature));
/// assert!(verify_v2(HttpMethod::Post, &params, &c).is_ok());
/// assert!(verify_v2(HttpMethod::Get, &params, &c).is_err());
/// ```
pub fn verify_v2(
    method: HttpMethod,
    params: &[(String, String)],
    credentials: &Credentials,
) -> Result<(), SignatureRefused> {
    let signature = params
        .iter()
        .find(|(k, _)| k == "Signature")
        .map(|(_, v)| v.as_str())
        .ok_or(SignatureRefused::Missing)?;
    let rest: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "Signature")
        .cloned()
        .collect();
    let expected = sign_v2(method, rest, credentials);
    let key = hmac::Key::new(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        format!("{}&", credentials.secret()).as_bytes(),
    );
    let tag = base64::engine::general_purpose::STANDARD
        .decode(signature)
        .unwrap_or_default();
    hmac::verify(&key, expected.string_to_sign.as_bytes(), &tag).map_err(|_| {
        SignatureRefused::Mismatch {
            string_to_sign: expected.string_to_sign,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_table_of_signing_md() {
        for (plain, encoded) in [
            (" ", "%20"),
            ("*", "%2A"),
            ("~", "~"),
            ("+", "%2B"),
            ("/", "%2F"),
            (":", "%3A"),
            ("@", "%40"),
            ("=", "%3D"),
            ("&", "%26"),
            ("%", "%25"),
            ("é", "%C3%A9"),
            ("😀", "%F0%9F%98%80"),
            ("AZaz09-_.", "AZaz09-_."),
        ] {
            assert_eq!(percent_encode(plain), encoded, "{plain:?}");
        }
    }

    #[test]
    fn the_ccc_example_of_signing_md() {
        let credentials = Credentials::new("testid", "testsecret");
        let mut params = v2_common_params(
            "RequestLoginInfo",
            "2017-07-05",
            &credentials,
            ParamStyle::Core,
            "cn-shanghai",
            "2024-01-02T03:04:05Z",
            "3f1a9c2e-0b7d-4e21-9a55-5c0d1e2f3a4b",
        );
        params.push(("InstanceId".into(), "ccc-test-instance".into()));
        params.push(("UserId".into(), "agent@ccc-test".into()));
        let signed = sign_v2(HttpMethod::Post, params, &credentials);
        assert_eq!(
            signed.string_to_sign,
            "POST&%2F&AccessKeyId%3Dtestid%26Action%3DRequestLoginInfo%26Format%3DJSON%26InstanceId%3Dccc-test-instance%26RegionId%3Dcn-shanghai%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3f1a9c2e-0b7d-4e21-9a55-5c0d1e2f3a4b%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-02T03%253A04%253A05Z%26UserId%3Dagent%2540ccc-test%26Version%3D2017-07-05"
        );
        assert_eq!(signed.signature, "Q3yncJGXspH16F0E/CB6v5gftfM=");
        assert!(!format!("{signed:?}").contains(&signed.signature));
    }

    #[test]
    fn names_sort_as_bytes_and_sts_is_signed() {
        let credentials = Credentials::new("id", "s+/=&").with_security_token("tok");
        let mut params = v2_common_params(
            "A",
            "2020-07-01",
            &credentials,
            ParamStyle::Tea,
            "cn-shanghai",
            "t",
            "n",
        );
        for i in [1, 2, 10, 11] {
            params.push((format!("ConfigItem.{i}"), format!("v{i}")));
        }
        params.push(("aLower".into(), String::new()));
        params.push(("Zed".into(), "z".into()));
        let signed = sign_v2(HttpMethod::Get, params, &credentials);
        let names: Vec<&str> = signed.params.iter().map(|(k, _)| k.as_str()).collect();
        let items: Vec<&&str> = names
            .iter()
            .filter(|n| n.starts_with("ConfigItem"))
            .collect();
        assert_eq!(
            items,
            [
                &"ConfigItem.1",
                &"ConfigItem.10",
                &"ConfigItem.11",
                &"ConfigItem.2"
            ]
        );
        assert_eq!(names.last(), Some(&"aLower"), "upper case first");
        assert!(names.contains(&"SecurityToken"));
        assert!(
            !names.contains(&"RegionId") && !names.contains(&"SignatureType"),
            "tea style"
        );
        assert!(
            signed.canonical_query.ends_with("&aLower="),
            "empty values are signed"
        );
    }
}
