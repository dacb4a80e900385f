//! Owned messages, written with a correct `Content-Length`.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::headers::KnownHeader;
use super::parse::{ParseError, is_token};

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

    /// A response `SIP/2.0 code reason`; control characters (line breaks) are left out
    /// of the reason phrase.
    pub fn response(code: u16, reason: &str) -> Self {
        let reason: String = reason.chars().filter(|c| !c.is_control()).collect();
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

    /// The message's bytes, with `Content-Length` last among the headers. A folded
    /// value (a line break followed by white space, as a parsed message may carry,
    /// RFC 3261 7.3.1) is written unfolded; any other line break in the start line or
    /// a header (which would inject headers), or a header name that is not a token,
    /// fails.
    pub fn build(&self) -> Result<Vec<u8>, ParseError> {
        if self.start.contains(['\r', '\n']) {
            return Err(ParseError::StartLine {
                offset: 0,
                expected: "no line break in the start line",
            });
        }
        let mut head = String::with_capacity(64 + self.headers.len() * 48);
        head.push_str(&self.start);
        head.push_str("\r\n");
        for (name, value) in &self.headers {
            let value = unfold(value).filter(|_| is_token(name));
            let Some(value) = value else {
                return Err(ParseError::Header {
                    offset: head.len(),
                    expected: "a token name and a value without line breaks",
                });
            };
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

/// `value` with each fold (CRLF or LF, then white space) replaced by one space; `None`
/// when it holds any other CR or LF.
fn unfold(value: &str) -> Option<Cow<'_, str>> {
    if !value.contains(['\r', '\n']) {
        return Some(Cow::Borrowed(value));
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find(['\r', '\n']) {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let after = after
            .strip_prefix("\r\n")
            .or_else(|| after.strip_prefix('\n'))?;
        let continued = after.trim_start_matches([' ', '\t']);
        if continued.len() == after.len() {
            return None;
        }
        out.push(' ');
        rest = continued;
    }
    out.push_str(rest);
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::parse;

    #[test]
    fn folds_are_unfolded_and_injections_refused() {
        assert_eq!(unfold("a\r\n  b\n\tc").as_deref(), Some("a b c"));
        assert_eq!(unfold("plain").as_deref(), Some("plain"));
        for bad in ["a\r\nX-Evil: 1", "a\rb", "a\n", "a\r\n"] {
            assert_eq!(unfold(bad), None, "{bad:?}");
        }
        let bytes = Builder::request("OPTIONS", "sip:a")
            .header(KnownHeader::Subject, "one\r\n two")
            .build()
            .unwrap();
        assert_eq!(
            parse(&bytes).unwrap().header(KnownHeader::Subject),
            Some("one two")
        );
        for name in ["X-Bad Name", "X:Y", ""] {
            assert!(
                Builder::request("OPTIONS", "sip:a")
                    .other_header(name, "v")
                    .build()
                    .is_err(),
                "{name:?}"
            );
        }
        let reason = Builder::response(486, "Busy\r\nX-Evil: 1").build().unwrap();
        assert!(reason.starts_with(b"SIP/2.0 486 BusyX-Evil: 1\r\n"));
    }
}
