//! HTTP digest authentication for SIP (RFC 3261 section 22, RFC 7616, RFC 8760): reading a
//! `WWW-Authenticate` / `Proxy-Authenticate` challenge and answering it ([`Challenge`],
//! [`DigestClient`]), and, on the server side, writing challenges and checking the
//! answers ([`Challenge::header`], [`DigestAnswer`]).
//!
//! MD5 and SHA-256 (and their `-sess` forms), `qop=auth` with a nonce count and a
//! client nonce, or no qop (RFC 2069 style). `auth-int` is not offered: SIP servers
//! accept `auth`, and `auth-int` would hash the whole body. A challenge with
//! `stale=true` means the password was right and only the nonce is old: answer the
//! new challenge with the same credentials.

use std::fmt::{self, Write as _};

use md5::Md5;
use sha2::{Digest as _, Sha256};

/// A digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// `MD5` (the default when the challenge names none).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256`.
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl Algorithm {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.to_ascii_uppercase().as_str() {
            "MD5" => Self::Md5,
            "MD5-SESS" => Self::Md5Sess,
            "SHA-256" => Self::Sha256,
            "SHA-256-SESS" => Self::Sha256Sess,
            _ => return None,
        })
    }

    /// As written in the header.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Md5Sess => "MD5-sess",
            Self::Sha256 => "SHA-256",
            Self::Sha256Sess => "SHA-256-sess",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Self::Md5 | Self::Md5Sess => hex(&Md5::digest(data.as_bytes())),
            Self::Sha256 | Self::Sha256Sess => hex(&Sha256::digest(data.as_bytes())),
        }
    }

    fn is_session(self) -> bool {
        matches!(self, Self::Md5Sess | Self::Sha256Sess)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Not a `Digest` challenge.
    #[error("not a Digest challenge: {0:?}")]
    NotDigest(String),
    /// A parameter cannot be read.
    #[error("malformed challenge: {0}")]
    Malformed(&'static str),
    /// The challenge lacks `realm` or `nonce`.
    #[error("the challenge has no {0}")]
    Missing(&'static str),
    /// The algorithm is none of MD5, SHA-256 and their -sess forms.
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The server offers only `auth-int`.
    #[error("the server requires qop {0:?}, which is not supported")]
    UnsupportedQop(String),
    /// The response carries no challenge at all.
    #[error("no Digest challenge")]
    NoChallenge,
}

/// A digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The protection space.
    pub realm: String,
    /// The server's nonce.
    pub nonce: String,
    /// Echoed back unchanged.
    pub opaque: Option<String>,
    /// The hash.
    pub algorithm: Algorithm,
    /// Whether the server offers `qop=auth` (else the RFC 2069 form is used).
    pub qop_auth: bool,
    /// The nonce was stale: the credentials were right.
    pub stale: bool,
}

impl Challenge {
    /// Reads the value of a `WWW-Authenticate` or `Proxy-Authenticate` header.
    ///
    /// ```
    /// use ccc_sip::auth::{Algorithm, Challenge};
    /// let c = Challenge::parse(r#"Digest realm="ccc.test", nonce="abc", qop="auth", algorithm=SHA-256"#).unwrap();
    /// assert_eq!((c.realm.as_str(), c.algorithm, c.qop_auth), ("ccc.test", Algorithm::Sha256, true));
    /// ```
    pub fn parse(header: &str) -> Result<Self, AuthError> {
        let header = header.trim();
        let (scheme, params) = header.split_once([' ', '\t']).unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("digest") {
            return Err(AuthError::NotDigest(scheme.to_owned()));
        }
        let (mut realm, mut nonce, mut opaque) = (None, None, None);
        let mut algorithm = Algorithm::Md5;
        let mut qop = None::<String>;
        let mut stale = false;
        for (name, value) in params_of(params)? {
            match name.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(value),
                "nonce" => nonce = Some(value),
                "opaque" => opaque = Some(value),
                "algorithm" => {
                    algorithm =
                        Algorithm::parse(&value).ok_or(AuthError::UnsupportedAlgorithm(value))?;
                }
                "qop" => qop = Some(value),
                "stale" => stale = value.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        let qop_auth = match qop {
            None => false,
            Some(list)
                if list
                    .split(',')
                    .any(|q| q.trim().eq_ignore_ascii_case("auth")) =>
            {
                true
            }
            Some(list) => return Err(AuthError::UnsupportedQop(list)),
        };
        Ok(Self {
            realm: realm.ok_or(AuthError::Missing("realm"))?,
            nonce: nonce.ok_or(AuthError::Missing("nonce"))?,
            opaque,
            algorithm,
            qop_auth,
            stale,
        })
    }
}

impl Challenge {
    /// The challenge to answer among the `WWW-Authenticate` (or `Proxy-Authenticate`)
    /// values of one response: the first one this side can answer. A server that
    /// offers several algorithms sends one challenge each, the one it prefers first
    /// (RFC 7616 section 3.7, RFC 8760 section 2.4), and may list some this side does
    /// not know (`SHA-512-256`). When none can be answered, why the first Digest one
    /// cannot.
    ///
    /// ```
    /// use ccc_sip::auth::{Algorithm, Challenge};
    /// let offered = [
    ///     r#"Digest realm="r", nonce="n", algorithm=SHA-512-256, qop="auth""#,
    ///     r#"Digest realm="r", nonce="n", algorithm=SHA-256, qop="auth""#,
    ///     r#"Digest realm="r", nonce="n", algorithm=MD5, qop="auth""#,
    /// ];
    /// assert_eq!(Challenge::select(offered).unwrap().algorithm, Algorithm::Sha256);
    /// ```
    pub fn select<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Self, AuthError> {
        let mut first_error = None;
        for value in values {
            match Self::parse(value) {
                Ok(challenge) => return Ok(challenge),
                Err(AuthError::NotDigest(_)) => {}
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or(AuthError::NoChallenge))
    }

    /// The header value that carries this challenge, as a server writes it.
    ///
    /// ```
    /// use ccc_sip::auth::{Algorithm, Challenge};
    /// let c = Challenge {
    ///     realm: "ccc.test".into(),
    ///     nonce: "n1".into(),
    ///     opaque: None,
    ///     algorithm: Algorithm::Sha256,
    ///     qop_auth: true,
    ///     stale: false,
    /// };
    /// assert_eq!(Challenge::parse(&c.header()).unwrap(), c);
    /// ```
    pub fn header(&self) -> String {
        let mut header = format!(
            "Digest realm=\"{}\", nonce=\"{}\", algorithm={}",
            quote(&self.realm),
            quote(&self.nonce),
            self.algorithm.as_str()
        );
        if self.qop_auth {
            header.push_str(", qop=\"auth\"");
        }
        if let Some(opaque) = &self.opaque {
            let _ = write!(header, ", opaque=\"{}\"", quote(opaque));
        }
        if self.stale {
            header.push_str(", stale=true");
        }
        header
    }
}

/// A client's answer to a challenge (the value of an `Authorization` or
/// `Proxy-Authorization` header), as a server reads it to check it.
#[derive(Clone, PartialEq, Eq)]
pub struct DigestAnswer {
    /// Who answers.
    pub username: String,
    /// The protection space it answers for.
    pub realm: String,
    /// The server's nonce it answers.
    pub nonce: String,
    /// The request URI it was computed over.
    pub uri: String,
    /// The hash.
    pub algorithm: Algorithm,
    response: String,
    cnonce: Option<String>,
    nc: Option<String>,
    qop_auth: bool,
}

impl fmt::Debug for DigestAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestAnswer")
            .field("username", &self.username)
            .field("realm", &self.realm)
            .field("uri", &self.uri)
            .field("response", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl DigestAnswer {
    /// Reads the value of an `Authorization` or `Proxy-Authorization` header.
    pub fn parse(header: &str) -> Result<Self, AuthError> {
        let header = header.trim();
        let (scheme, params) = header.split_once([' ', '\t']).unwrap_or((header, ""));
        if !scheme.eq_ignore_ascii_case("digest") {
            return Err(AuthError::NotDigest(scheme.to_owned()));
        }
        let (mut username, mut realm, mut nonce, mut uri, mut response) =
            (None, None, None, None, None);
        let (mut cnonce, mut nc, mut qop) = (None, None, None);
        let mut algorithm = Algorithm::Md5;
        for (name, value) in params_of(params)? {
            match name.to_ascii_lowercase().as_str() {
                "username" => username = Some(value),
                "realm" => realm = Some(value),
                "nonce" => nonce = Some(value),
                "uri" => uri = Some(value),
                "response" => response = Some(value),
                "cnonce" => cnonce = Some(value),
                "nc" => nc = Some(value),
                "qop" => qop = Some(value),
                "algorithm" => {
                    algorithm =
                        Algorithm::parse(&value).ok_or(AuthError::UnsupportedAlgorithm(value))?;
                }
                _ => {}
            }
        }
        let qop_auth = match qop {
            None => false,
            Some(q) if q.eq_ignore_ascii_case("auth") => true,
            Some(q) => return Err(AuthError::UnsupportedQop(q)),
        };
        if qop_auth && (cnonce.is_none() || nc.is_none()) {
            return Err(AuthError::Missing("cnonce and nc"));
        }
        Ok(Self {
            username: username.ok_or(AuthError::Missing("username"))?,
            realm: realm.ok_or(AuthError::Missing("realm"))?,
            nonce: nonce.ok_or(AuthError::Missing("nonce"))?,
            uri: uri.ok_or(AuthError::Missing("uri"))?,
            response: response.ok_or(AuthError::Missing("response"))?,
            algorithm,
            cnonce,
            nc,
            qop_auth,
        })
    }

    /// Whether the answer is computed with `qop=auth` (else in the RFC 2069 form).
    pub fn qop_auth(&self) -> bool {
        self.qop_auth
    }

    /// Whether the answer is right for a request of `method` with `password` (the
    /// nonce, realm, URI, algorithm and qop are the caller's to check). Compared in
    /// constant time.
    pub fn verify(&self, method: &str, password: &str) -> bool {
        let hash = |s: &str| self.algorithm.hash(s);
        let cnonce = self.cnonce.as_deref().unwrap_or("");
        let mut ha1 = hash(&format!("{}:{}:{password}", self.username, self.realm));
        if self.algorithm.is_session() {
            ha1 = hash(&format!("{ha1}:{}:{cnonce}", self.nonce));
        }
        let ha2 = hash(&format!("{method}:{}", self.uri));
        let expected = if self.qop_auth {
            let nc = self.nc.as_deref().unwrap_or("");
            hash(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
        } else {
            hash(&format!("{ha1}:{}:{ha2}", self.nonce))
        };
        constant_time_eq(
            expected.as_bytes(),
            self.response.to_ascii_lowercase().as_bytes(),
        )
    }
}

/// Equality that takes as long whatever the first difference (the lengths are public).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Splits `name=value, name="quoted \" value"` pairs.
fn params_of(text: &str) -> Result<Vec<(String, String)>, AuthError> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or(AuthError::Malformed("a parameter without ="))?;
        let name = rest[..eq].trim().to_owned();
        if name.is_empty() || name.contains([' ', ',', '"']) {
            return Err(AuthError::Malformed("a parameter name"));
        }
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut text = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, escaped)) => text.push(escaped),
                        None => return Err(AuthError::Malformed("an escape at the end")),
                    },
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => text.push(c),
                }
            }
            let end = end.ok_or(AuthError::Malformed("an unterminated quoted string"))?;
            value = text;
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        out.push((name, value));
        rest = rest.trim_start();
        match rest.strip_prefix(',') {
            Some(after) => rest = after.trim_start(),
            None if rest.is_empty() => {}
            None => return Err(AuthError::Malformed("parameters not separated by commas")),
        }
    }
    Ok(out)
}

/// Answers challenges for one set of credentials, counting nonce uses.
#[derive(Clone)]
pub struct DigestClient {
    username: String,
    password: String,
    nonce: String,
    count: u32,
}

impl fmt::Debug for DigestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestClient")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// What to answer a challenge with: the header value and the values it was made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The value of the `Authorization` (or `Proxy-Authorization`) header.
    pub header: String,
    /// The `response` it carries.
    pub response: String,
}

impl DigestClient {
    /// A client for `username` with `password`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            nonce: String::new(),
            count: 0,
        }
    }

    /// The answer to `challenge` for a request of `method` to `uri`, with `cnonce` as
    /// the client nonce (a fresh random string per answer, from the caller).
    pub fn authorize(
        &mut self,
        challenge: &Challenge,
        method: &str,
        uri: &str,
        cnonce: &str,
    ) -> Authorization {
        if self.nonce != challenge.nonce {
            self.nonce.clone_from(&challenge.nonce);
            self.count = 0;
        }
        self.count += 1;
        let nc = format!("{:08x}", self.count);
        let hash = |s: &str| challenge.algorithm.hash(s);
        let mut ha1 = hash(&format!(
            "{}:{}:{}",
            self.username, challenge.realm, self.password
        ));
        if challenge.algorithm.is_session() {
            ha1 = hash(&format!("{ha1}:{}:{cnonce}", challenge.nonce));
        }
        let ha2 = hash(&format!("{method}:{uri}"));
        let response = if challenge.qop_auth {
            hash(&format!(
                "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
                challenge.nonce
            ))
        } else {
            hash(&format!("{ha1}:{}:{ha2}", challenge.nonce))
        };
        let mut header = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm={}",
            quote(&self.username),
            quote(&challenge.realm),
            quote(&challenge.nonce),
            quote(uri),
            challenge.algorithm.as_str(),
        );
        if challenge.qop_auth || challenge.algorithm.is_session() {
            let _ = write!(header, ", cnonce=\"{}\"", quote(cnonce));
        }
        if challenge.qop_auth {
            let _ = write!(header, ", qop=auth, nc={nc}");
        }
        if let Some(opaque) = &challenge.opaque {
            let _ = write!(header, ", opaque=\"{}\"", quote(opaque));
        }
        Authorization { header, response }
    }
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_example() {
        let challenge = Challenge::parse(
            r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        let mut client = DigestClient::new("Mufasa", "Circle Of Life");
        let answer = client.authorize(&challenge, "GET", "/dir/index.html", "0a4f113b");
        assert_eq!(answer.response, "6629fae49393a05397450978507c4ef1");
        assert!(
            answer.header.contains("nc=00000001")
                && answer
                    .header
                    .contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"")
        );
        // The same nonce again counts up.
        let again = client.authorize(&challenge, "GET", "/dir/index.html", "0a4f113b");
        assert!(again.header.contains("nc=00000002"));
    }

    #[test]
    fn rfc_7616_examples() {
        let base = r#"realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        for (algorithm, want) in [
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            (
                "SHA-256",
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let challenge =
                Challenge::parse(&format!("Digest {base}, algorithm={algorithm}")).unwrap();
            let answer = DigestClient::new("Mufasa", "Circle of Life").authorize(
                &challenge,
                "GET",
                "/dir/index.html",
                cnonce,
            );
            assert_eq!(answer.response, want, "{algorithm}");
        }
    }

    #[test]
    fn challenges_that_cannot_be_answered() {
        assert!(matches!(
            Challenge::parse("Basic realm=\"x\""),
            Err(AuthError::NotDigest(_))
        ));
        assert_eq!(
            Challenge::parse("Digest nonce=\"n\""),
            Err(AuthError::Missing("realm"))
        );
        assert!(matches!(
            Challenge::parse("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256"),
            Err(AuthError::UnsupportedAlgorithm(_))
        ));
        assert!(matches!(
            Challenge::parse("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\""),
            Err(AuthError::UnsupportedQop(_))
        ));
        assert!(matches!(
            Challenge::parse("Digest realm=\"r, nonce=\"n\""),
            Err(AuthError::Malformed(_))
        ));
        assert!(Challenge::parse("Digest realm=\"r\" nonce=\"n\"").is_err());
        let stale = Challenge::parse("Digest realm=\"a \\\"b\\\"\", nonce=n2, stale=TRUE").unwrap();
        assert!(stale.stale && !stale.qop_auth);
        assert_eq!(stale.realm, "a \"b\"");
    }

    #[test]
    fn without_qop_and_with_sess() {
        let plain = Challenge::parse("Digest realm=\"r\", nonce=\"n\"").unwrap();
        let answer = DigestClient::new("u", "p").authorize(&plain, "REGISTER", "sip:r", "c");
        let ha1 = Algorithm::Md5.hash("u:r:p");
        let ha2 = Algorithm::Md5.hash("REGISTER:sip:r");
        assert_eq!(
            answer.response,
            Algorithm::Md5.hash(&format!("{ha1}:n:{ha2}"))
        );
        assert!(!answer.header.contains("qop") && !answer.header.contains("cnonce"));
        let sess =
            Challenge::parse("Digest realm=\"r\", nonce=\"n\", qop=auth, algorithm=MD5-sess")
                .unwrap();
        let answer = DigestClient::new("u", "p").authorize(&sess, "REGISTER", "sip:r", "c");
        assert!(
            answer.header.contains("algorithm=MD5-sess") && answer.header.contains("cnonce=\"c\"")
        );
    }

    #[test]
    fn a_server_checks_what_the_client_answers() {
        for algorithm in [
            Algorithm::Md5,
            Algorithm::Sha256,
            Algorithm::Md5Sess,
            Algorithm::Sha256Sess,
        ] {
            for qop_auth in [true, false] {
                let challenge = Challenge {
                    realm: "ccc.test".into(),
                    nonce: "abc\"def".into(),
                    opaque: Some("op".into()),
                    algorithm,
                    qop_auth,
                    stale: false,
                };
                let parsed = Challenge::parse(&challenge.header()).unwrap();
                assert_eq!(parsed, challenge);
                let mut client = DigestClient::new("1001", "secret");
                let answer = client.authorize(&parsed, "REGISTER", "sip:ccc.test", "cn1");
                let read = DigestAnswer::parse(&answer.header).unwrap();
                assert_eq!(
                    (read.username.as_str(), read.uri.as_str()),
                    ("1001", "sip:ccc.test")
                );
                assert!(
                    read.verify("REGISTER", "secret"),
                    "{algorithm:?} {qop_auth}"
                );
                assert!(!read.verify("REGISTER", "secreT"));
                assert!(!read.verify("INVITE", "secret"));
            }
        }
        // RFC 2617's example, read by the server side.
        let answer = DigestAnswer::parse(
            r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
        )
        .unwrap();
        assert!(answer.verify("GET", "Circle Of Life"));
        assert!(!format!("{answer:?}").contains("6629fae4"));
        assert!(matches!(
            DigestAnswer::parse(
                r#"Digest username="u", realm="r", nonce="n", uri="u", response="x", qop=auth"#
            ),
            Err(AuthError::Missing(_))
        ));
        assert!(DigestAnswer::parse("Basic dXNlcjpwYXNz").is_err());
    }

    #[test]
    fn the_password_stays_out_of_debug() {
        let debug = format!("{:?}", DigestClient::new("1001", "hunter2"));
        assert!(!debug.contains("hunter2") && debug.contains("<redacted>"));
    }
}
