//! The borrowing parser.

use super::headers::{HeaderName, KnownHeader};
use super::values::{CSeq, NameAddr, Via, split_list};

/// How much a message may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest message (default 64 KiB).
    pub max_size: usize,
    /// The most header lines (default 128).
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_size: 64 * 1024,
            max_headers: 128,
        }
    }
}

/// Why bytes are not a SIP message. Offsets are into the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// No bytes at all.
    #[error("empty message")]
    Empty,
    /// Larger than [`Limits::max_size`].
    #[error("message of {size} bytes exceeds the limit of {max}")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// More header lines than [`Limits::max_headers`].
    #[error("more than {0} header lines")]
    TooManyHeaders(usize),
    /// The head (start line and headers) is not UTF-8.
    #[error("byte {0}: the start line and headers must be UTF-8")]
    NotUtf8(usize),
    /// No empty line ends the headers.
    #[error("no empty line ends the headers")]
    Unterminated,
    /// The start line is neither a request line nor a status line.
    #[error("byte {offset}: bad start line, expected {expected}")]
    StartLine {
        /// Where.
        offset: usize,
        /// What was expected there.
        expected: &'static str,
    },
    /// A header line is malformed.
    #[error("byte {offset}: bad header line, expected {expected}")]
    Header {
        /// Where.
        offset: usize,
        /// What was expected there.
        expected: &'static str,
    },
    /// `Content-Length` is not a number, or two of them disagree.
    #[error("byte {0}: bad Content-Length")]
    ContentLength(usize),
    /// The body is not as long as `Content-Length` says.
    #[error("Content-Length says {declared} bytes, the body has {actual}")]
    LengthMismatch {
        /// What the header said.
        declared: usize,
        /// What came.
        actual: usize,
    },
    /// A header value cannot be read as its type.
    #[error("bad {header} value: {reason}")]
    Value {
        /// The header.
        header: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A header the operation needs is missing.
    #[error("no {0} header")]
    Missing(&'static str),
}

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `METHOD uri SIP/2.0`.
    Request {
        /// The method (a token, case-sensitive).
        method: &'a str,
        /// The Request-URI, unparsed.
        uri: &'a str,
    },
    /// `SIP/2.0 code reason`.
    Response {
        /// The status code (100-699).
        code: u16,
        /// The reason phrase (may be empty).
        reason: &'a str,
    },
}

/// One header line: its name and its raw value (folded lines included, trimmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The name.
    pub name: HeaderName<'a>,
    /// The value as written.
    pub value: &'a str,
}

/// A parsed message, borrowing from the bytes it was parsed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// The start line.
    pub start: StartLine<'a>,
    /// The SIP version (`SIP/2.0`; others are parsed so a server can answer 505).
    pub version: &'a str,
    /// The header lines, in order.
    pub headers: Vec<Header<'a>>,
    /// The body.
    pub body: &'a [u8],
}

/// Parses one whole message with the default [`Limits`].
///
/// ```
/// let bytes = b"OPTIONS sip:ccc.test SIP/2.0\r\nv: SIP/2.0/WS a.invalid;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n";
/// let message = ccc_sip::message::parse(bytes).unwrap();
/// assert_eq!(message.method(), Some("OPTIONS"));
/// assert_eq!(message.via().unwrap().branch(), Some("z9hG4bK1"));
/// ```
pub fn parse(bytes: &[u8]) -> Result<Message<'_>, ParseError> {
    parse_with(bytes, Limits::default())
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Whether `text` is an RFC 3261 token (a method, a header name).
pub(super) fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(is_token_byte)
}

/// The end of the line starting at `from` (the index of its LF, or of its CR when CRLF),
/// and where the next line starts.
fn line_end(bytes: &[u8], from: usize) -> Option<(usize, usize)> {
    let lf = from + bytes[from..].iter().position(|b| *b == b'\n')?;
    let end = if lf > from && bytes[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    Some((end, lf + 1))
}

/// Parses one whole message within `limits`.
pub fn parse_with(bytes: &[u8], limits: Limits) -> Result<Message<'_>, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::Empty);
    }
    if bytes.len() > limits.max_size {
        return Err(ParseError::TooLarge {
            size: bytes.len(),
            max: limits.max_size,
        });
    }
    // RFC 3261 7.5: CRLFs before the start line are ignored.
    let mut pos = bytes
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .ok_or(ParseError::Empty)?;
    let (end, next) = line_end(bytes, pos).ok_or(ParseError::Unterminated)?;
    let line = std::str::from_utf8(&bytes[pos..end])
        .map_err(|e| ParseError::NotUtf8(pos + e.valid_up_to()))?;
    let (start, version) = start_line(line, pos)?;
    pos = next;

    let mut headers: Vec<Header<'_>> = Vec::with_capacity(24);
    let body_start = loop {
        let (end, next) = line_end(bytes, pos).ok_or(ParseError::Unterminated)?;
        if end == pos {
            break next;
        }
        if matches!(bytes[pos], b' ' | b'\t') {
            // A folded continuation of the previous header's value.
            let last = headers.last_mut().ok_or(ParseError::Header {
                offset: pos,
                expected: "a header name, not whitespace",
            })?;
            let value_start = last.value.as_ptr() as usize - bytes.as_ptr() as usize;
            let extended = std::str::from_utf8(&bytes[value_start..end])
                .map_err(|e| ParseError::NotUtf8(value_start + e.valid_up_to()))?;
            last.value = extended.trim_end();
            pos = next;
            continue;
        }
        if headers.len() == limits.max_headers {
            return Err(ParseError::TooManyHeaders(limits.max_headers));
        }
        headers.push(header_line(bytes, pos, end)?);
        pos = next;
    };
    let body = &bytes[body_start..];

    let mut declared = None;
    for header in headers
        .iter()
        .filter(|h| h.name == HeaderName::Known(KnownHeader::ContentLength))
    {
        let offset = header.value.as_ptr() as usize - bytes.as_ptr() as usize;
        let n: usize = header
            .value
            .trim()
            .parse()
            .ok()
            .filter(|_| header.value.trim().bytes().all(|b| b.is_ascii_digit()))
            .ok_or(ParseError::ContentLength(offset))?;
        if declared.is_some_and(|d| d != n) {
            return Err(ParseError::ContentLength(offset));
        }
        declared = Some(n);
    }
    if let Some(declared) = declared
        && declared != body.len()
    {
        return Err(ParseError::LengthMismatch {
            declared,
            actual: body.len(),
        });
    }
    Ok(Message {
        start,
        version,
        headers,
        body,
    })
}

fn start_line(line: &str, offset: usize) -> Result<(StartLine<'_>, &str), ParseError> {
    let bad = |at: usize, expected| ParseError::StartLine {
        offset: offset + at,
        expected,
    };
    if let Some(rest) = line.strip_prefix("SIP/") {
        let (version_number, rest) = rest
            .split_once(' ')
            .ok_or_else(|| bad(4, "a space after the version"))?;
        check_version(version_number).ok_or_else(|| bad(4, "a version like SIP/2.0"))?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code
            .parse()
            .ok()
            .filter(|c| (100..=699).contains(c) && code.len() == 3)
            .ok_or_else(|| {
                bad(
                    5 + version_number.len(),
                    "a three-digit status code 100-699",
                )
            })?;
        let version = &line[..4 + version_number.len()];
        return Ok((StartLine::Response { code, reason }, version));
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad(
            0,
            "METHOD SP Request-URI SP SIP-Version, single spaces",
        ));
    };
    if !is_token(method) {
        return Err(bad(0, "a method token"));
    }
    let scheme = uri.split_once(':').map_or("", |(scheme, _)| scheme);
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !scheme_ok || uri.bytes().any(|b| b.is_ascii_control()) {
        return Err(bad(method.len() + 1, "an absolute Request-URI"));
    }
    let version_number = version
        .strip_prefix("SIP/")
        .ok_or_else(|| bad(method.len() + uri.len() + 2, "SIP/2.0"))?;
    check_version(version_number)
        .ok_or_else(|| bad(method.len() + uri.len() + 2, "a version like SIP/2.0"))?;
    Ok((StartLine::Request { method, uri }, version))
}

/// `1*DIGIT "." 1*DIGIT`.
fn check_version(v: &str) -> Option<()> {
    let (major, minor) = v.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(major) && digits(minor)).then_some(())
}

fn header_line(bytes: &[u8], start: usize, end: usize) -> Result<Header<'_>, ParseError> {
    let line = std::str::from_utf8(&bytes[start..end])
        .map_err(|e| ParseError::NotUtf8(start + e.valid_up_to()))?;
    let colon = line.find(':').ok_or(ParseError::Header {
        offset: start,
        expected: "a colon after the header name",
    })?;
    let name = line[..colon].trim_end_matches([' ', '\t']);
    if !is_token(name) {
        return Err(ParseError::Header {
            offset: start,
            expected: "a header name token",
        });
    }
    Ok(Header {
        name: HeaderName::from_name(name),
        value: line[colon + 1..].trim_matches([' ', '\t']),
    })
}

impl<'a> Message<'a> {
    /// The method, for a request.
    pub fn method(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code, for a response.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// The Request-URI, for a request.
    pub fn request_uri(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The value of the first header `name`.
    pub fn header(&self, name: KnownHeader) -> Option<&'a str> {
        self.headers_named(name).next()
    }

    /// The values of every header line `name`, in order.
    pub fn headers_named(&self, name: KnownHeader) -> impl Iterator<Item = &'a str> + '_ {
        self.headers
            .iter()
            .filter(move |h| h.name == HeaderName::Known(name))
            .map(|h| h.value)
    }

    /// The comma-separated elements of every header line `name` (Via, Contact, Route,
    /// Allow, ...), in order.
    pub fn list(&self, name: KnownHeader) -> impl Iterator<Item = &'a str> + '_ {
        self.headers_named(name).flat_map(split_list)
    }

    /// The value of the first header with a name this crate does not know.
    pub fn other_header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|h| h.name.is(name))
            .map(|h| h.value)
    }

    /// The topmost Via.
    pub fn via(&self) -> Result<Via<'a>, ParseError> {
        let first = self
            .list(KnownHeader::Via)
            .next()
            .ok_or(ParseError::Missing("Via"))?;
        Via::parse(first)
    }

    /// Every Via, topmost first.
    pub fn vias(&self) -> impl Iterator<Item = Result<Via<'a>, ParseError>> + '_ {
        self.list(KnownHeader::Via).map(Via::parse)
    }

    /// `From`.
    pub fn from(&self) -> Result<NameAddr<'a>, ParseError> {
        NameAddr::parse(
            self.header(KnownHeader::From)
                .ok_or(ParseError::Missing("From"))?,
        )
    }

    /// `To`.
    pub fn to(&self) -> Result<NameAddr<'a>, ParseError> {
        NameAddr::parse(
            self.header(KnownHeader::To)
                .ok_or(ParseError::Missing("To"))?,
        )
    }

    /// `Call-ID`.
    pub fn call_id(&self) -> Option<&'a str> {
        self.header(KnownHeader::CallId)
    }

    /// `CSeq`.
    pub fn cseq(&self) -> Result<CSeq<'a>, ParseError> {
        CSeq::parse(
            self.header(KnownHeader::CSeq)
                .ok_or(ParseError::Missing("CSeq"))?,
        )
    }

    /// Every `Contact` (a `*` contact comes as [`NameAddr::is_star`]).
    pub fn contacts(&self) -> impl Iterator<Item = Result<NameAddr<'a>, ParseError>> + '_ {
        self.list(KnownHeader::Contact).map(NameAddr::parse)
    }

    /// `Max-Forwards`.
    pub fn max_forwards(&self) -> Result<Option<u8>, ParseError> {
        self.header(KnownHeader::MaxForwards)
            .map(|v| {
                v.parse().map_err(|_| ParseError::Value {
                    header: "Max-Forwards",
                    reason: "not a number 0-255",
                })
            })
            .transpose()
    }

    /// `Expires`, in seconds.
    pub fn expires(&self) -> Result<Option<u32>, ParseError> {
        self.header(KnownHeader::Expires)
            .map(|v| {
                v.parse().map_err(|_| ParseError::Value {
                    header: "Expires",
                    reason: "not a number of seconds",
                })
            })
            .transpose()
    }

    /// `Content-Type`, without parameters, lower-cased comparisons left to the caller.
    pub fn content_type(&self) -> Option<&'a str> {
        self.header(KnownHeader::ContentType)
            .map(|v| v.split(';').next().unwrap_or(v).trim())
    }
}
