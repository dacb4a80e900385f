//! Owned messages, written with a correct `Content-Length`.

use std::fmt::Write as _;

use super::headers::KnownHeader;
use super::parse::ParseError;

/// Builds a request or a response.
///
/// ```
/// use ccc_sip::message::{Builder, KnownHeader, parse};
/// let bytes = Builder::request("OPTIONS", "sip:ccc.test")
///     .header(KnownHeader::Via, "SIP/2.0/WS a.invalid;branch=z9hG4bK1")
///     .header(KnownHeader::CSeq, "1 OPTIONS")
///     .build()
///     .unwrap();
/// assert_eq!(parse(&bytes).unwrap().method(), Some("OPTIONS"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Builder {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Builder {
    /// A request `method uri SIP/2.0`.
    pub fn request(method: &str, uri: &str) -> Self {
        Self {
            start: format!("{method} {uri} SIP/2.0"),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response `SIP/2.0 code reason`.
    pub fn response(code: u16, reason: &str) -> Self {
        Self {
            start: format!("SIP/2.0 {code} {reason}"),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header line (in the order added).
    pub fn header(mut self, name: KnownHeader, value: impl Into<String>) -> Self {
        self.headers.push((name.as_str().to_owned(), value.into()));
        self
    }

    /// Adds a header line this crate does not know by name.
    pub fn other_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body and its `Content-Type`.
    pub fn body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers.push((
            KnownHeader::ContentType.as_str().to_owned(),
            content_type.to_owned(),
        ));
        self.body = body.into();
        self
    }

    /// The message's bytes, with `Content-Length` last among the headers. Fails on a
    /// line break in the start line or a header (which would inject headers).
    pub fn build(&self) -> Result<Vec<u8>, ParseError> {
        let injection = |s: &str| s.contains(['\r', '\n']);
        if injection(&self.start) {
            return Err(ParseError::StartLine {
                offset: 0,
                expected: "no line break in the start line",
            });
        }
        let mut head = String::with_capacity(64 + self.headers.len() * 48);
        head.push_str(&self.start);
        head.push_str("\r\n");
        for (name, value) in &self.headers {
            if injection(name) || injection(value) || name.is_empty() {
                return Err(ParseError::Header {
                    offset: head.len(),
                    expected: "a name and a value without line breaks",
                });
            }
            if name.eq_ignore_ascii_case("Content-Length") || name.eq_ignore_ascii_case("l") {
                continue;
            }
            let _ = write!(head, "{name}: {value}\r\n");
        }
        let _ = write!(head, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        Ok(bytes)
    }
}
