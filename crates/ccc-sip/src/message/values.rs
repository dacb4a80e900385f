//! Typed views of header values, parsed on demand from the borrowed text.

use super::parse::ParseError;
use super::uri::SipUri;

const fn value_error(header: &'static str, reason: &'static str) -> ParseError {
    ParseError::Value { header, reason }
}

/// Splits a header value at the commas that separate list elements: not inside a
/// quoted string, not inside `<...>`.
pub fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(value);
    std::iter::from_fn(move || {
        loop {
            let text = rest?;
            let (mut quoted, mut angle, mut escaped) = (false, false, false);
            let mut cut = None;
            for (i, c) in text.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' if quoted => escaped = true,
                    '"' => quoted = !quoted,
                    '<' if !quoted => angle = true,
                    '>' if !quoted => angle = false,
                    ',' if !quoted && !angle => {
                        cut = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let (element, next) = match cut {
                Some(i) => (&text[..i], Some(&text[i + 1..])),
                None => (text, None),
            };
            rest = next;
            let element = element.trim_matches(|c: char| c.is_ascii_whitespace());
            if !element.is_empty() {
                return Some(element);
            }
        }
    })
}

/// `;name=value;flag` parameters, kept as text and read on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a>(&'a str);

impl<'a> Params<'a> {
    /// The parameters in `text` (which starts at the first `;`, or is empty).
    pub fn new(text: &'a str) -> Self {
        Self(text)
    }

    /// The text, starting with `;` (or empty).
    pub fn as_str(&self) -> &'a str {
        self.0
    }

    /// Each parameter: name, and value if it has one (quotes kept).
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        self.0.split(';').filter_map(|p| {
            let p = p.trim_matches(|c: char| c.is_ascii_whitespace());
            if p.is_empty() {
                return None;
            }
            Some(match p.split_once('=') {
                Some((name, value)) => (name.trim_end(), Some(value.trim_start())),
                None => (p, None),
            })
        })
    }

    /// The parameter `name` (case-insensitive): `Some(None)` for a flag without value.
    pub fn get(&self, name: &str) -> Option<Option<&'a str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether every parameter has a name (`;;` or a trailing `;` is malformed).
    pub fn is_well_formed(&self) -> bool {
        self.0.split(';').skip(1).all(|p| {
            !p.split('=')
                .next()
                .unwrap_or("")
                .trim_matches(|c: char| c.is_ascii_whitespace())
                .is_empty()
        })
    }

    /// The value of `name`, with the quotes of a quoted value removed.
    pub fn value(&self, name: &str) -> Option<&'a str> {
        let v = self.get(name)??;
        Some(
            v.strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v),
        )
    }
}

/// A `name-addr` or `addr-spec` with header parameters: From, To, Contact, Route, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// The display name, unquoted (escapes kept as written).
    pub display: Option<&'a str>,
    /// The URI, as written (without the angle brackets).
    pub uri: &'a str,
    /// The header parameters (`;tag=...`, `;expires=...`).
    pub params: Params<'a>,
}

impl<'a> NameAddr<'a> {
    /// Parses one element (use [`split_list`] first for lists).
    pub fn parse(value: &'a str) -> Result<Self, ParseError> {
        let value = value.trim_matches(|c: char| c.is_ascii_whitespace());
        if value == "*" {
            return Ok(Self {
                display: None,
                uri: "*",
                params: Params::default(),
            });
        }
        let (display, rest) = if let Some(quoted) = value.strip_prefix('"') {
            let end = closing_quote(quoted)
                .ok_or(value_error("name-addr", "an unterminated display name"))?;
            (Some(&quoted[..end]), quoted[end + 1..].trim_start())
        } else if let Some(lt) = value.find('<') {
            let name = value[..lt].trim();
            (
                if name.is_empty() { None } else { Some(name) },
                &value[lt..],
            )
        } else {
            (None, value)
        };
        if let Some(inside) = rest.strip_prefix('<') {
            let gt = inside
                .find('>')
                .ok_or(value_error("name-addr", "a < without >"))?;
            let uri = inside[..gt].trim();
            let after = inside[gt + 1..].trim_start();
            if !after.is_empty() && !after.starts_with(';') {
                return Err(value_error(
                    "name-addr",
                    "text after > that is not a parameter",
                ));
            }
            if uri.is_empty() || !uri.contains(':') {
                return Err(value_error("name-addr", "an absolute URI inside < >"));
            }
            let params = Params::new(after);
            if !params.is_well_formed() {
                return Err(value_error("name-addr", "a parameter without a name"));
            }
            return Ok(Self {
                display,
                uri,
                params,
            });
        }
        if display.is_some() {
            return Err(value_error(
                "name-addr",
                "a display name needs the URI in < >",
            ));
        }
        // addr-spec: everything after the first ';' is a header parameter (RFC 3261
        // 20.10), and the URI may not contain ',', '?' or ';' then.
        let (uri, params) = rest
            .find(';')
            .map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
        let uri = uri.trim();
        if uri.is_empty() || !uri.contains(':') || uri.contains([' ', '?', ',']) {
            return Err(value_error("addr-spec", "an absolute URI without spaces"));
        }
        let params = Params::new(params);
        if !params.is_well_formed() {
            return Err(value_error("addr-spec", "a parameter without a name"));
        }
        Ok(Self {
            display: None,
            uri,
            params,
        })
    }

    /// Whether this is the `*` of a `Contact: *` (unregister all).
    pub fn is_star(&self) -> bool {
        self.uri == "*"
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&'a str> {
        self.params.value("tag")
    }

    /// The URI as a SIP URI.
    pub fn sip_uri(&self) -> Result<SipUri<'a>, ParseError> {
        SipUri::parse(self.uri)
    }
}

/// The index of the closing quote of a quoted string whose opening quote was removed.
fn closing_quote(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i),
            _ => {}
        }
    }
    None
}

/// One `Via` element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// The transport (`UDP`, `TCP`, `TLS`, `WS`, `WSS`, ...).
    pub transport: &'a str,
    /// The sent-by host (an IPv6 reference keeps its brackets).
    pub host: &'a str,
    /// The sent-by port.
    pub port: Option<u16>,
    /// The parameters.
    pub params: Params<'a>,
}

impl<'a> Via<'a> {
    /// Parses one element: `SIP/2.0/WS host[:port];params`.
    pub fn parse(value: &'a str) -> Result<Self, ParseError> {
        let bad = |reason| value_error("Via", reason);
        let mut parts = value.splitn(3, '/');
        let (Some(name), Some(version), Some(rest)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("SIP/2.0/transport"));
        };
        if !name.trim().eq_ignore_ascii_case("SIP") || version.trim() != "2.0" {
            return Err(bad("SIP/2.0/transport"));
        }
        let rest = rest.trim_start();
        let transport_end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .ok_or(bad("a sent-by after the transport"))?;
        let transport = &rest[..transport_end];
        if transport.is_empty()
            || !transport
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(bad("a transport token"));
        }
        let rest = rest[transport_end..].trim_start();
        let (sent_by, params) = rest
            .find(';')
            .map_or((rest, ""), |i| (&rest[..i], &rest[i..]));
        let sent_by = sent_by.trim();
        let (host, port) = split_host_port(sent_by).ok_or(bad("a host[:port]"))?;
        let via = Self {
            transport,
            host,
            port,
            params: Params::new(params),
        };
        if !via.params.is_well_formed() {
            return Err(bad("a parameter without a name"));
        }
        if let Some(Some(rport)) = via.params.get("rport")
            && rport.parse::<u16>().is_err()
        {
            return Err(bad("rport must be empty or a port"));
        }
        Ok(via)
    }

    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&'a str> {
        self.params.value("branch")
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&'a str> {
        self.params.value("received")
    }

    /// The `rport` parameter: `Some(None)` when asked for (no value yet), `Some(Some(port))`
    /// when filled in by the server.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }
}

/// Splits `host[:port]`, with IPv6 references in brackets. `None` when malformed.
pub(crate) fn split_host_port(text: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if text.starts_with('[') {
        let end = text.find(']')?;
        let host = &text[..=end];
        match &text[end + 1..] {
            "" => (host, None),
            rest => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b));
    if !host_ok {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => None,
    };
    Some((host, port))
}

/// A `CSeq`: sequence number and method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    /// The number (below 2^31, RFC 3261 8.1.1.5).
    pub seq: u32,
    /// The method.
    pub method: &'a str,
}

impl<'a> CSeq<'a> {
    /// Parses `1*DIGIT LWS Method`.
    pub fn parse(value: &'a str) -> Result<Self, ParseError> {
        let mut parts = value.split_ascii_whitespace();
        let (Some(seq), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(value_error("CSeq", "a number and a method"));
        };
        let seq: u32 = seq
            .parse()
            .ok()
            .filter(|n| *n < 1 << 31)
            .ok_or(value_error("CSeq", "a number below 2^31"))?;
        if !super::parse::is_token(method) {
            return Err(value_error("CSeq", "a method token"));
        }
        Ok(Self { seq, method })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_outside_quotes_and_angles() {
        let v: Vec<_> =
            split_list(r#""a, b" <sip:x@y;p=1,2>;q=0.5, <sip:z@w> , sip:u@v"#).collect();
        assert_eq!(
            v,
            [r#""a, b" <sip:x@y;p=1,2>;q=0.5"#, "<sip:z@w>", "sip:u@v"]
        );
        assert_eq!(split_list(" , ,").count(), 0);
        assert_eq!(split_list(r#""unterminated, x"#).count(), 1);
    }

    #[test]
    fn name_addrs() {
        let a = NameAddr::parse(r#""Queue \"7\"" <sip:1003@127.0.0.1>;tag=31415"#).unwrap();
        assert_eq!(a.display, Some(r#"Queue \"7\""#));
        assert_eq!(a.uri, "sip:1003@127.0.0.1");
        assert_eq!(a.tag(), Some("31415"));
        let b = NameAddr::parse("Bob <sips:bob@biloxi.com>").unwrap();
        assert_eq!((b.display, b.uri), (Some("Bob"), "sips:bob@biloxi.com"));
        let c = NameAddr::parse("sip:alice@atlanta.com;tag=88sja8x").unwrap();
        assert_eq!((c.uri, c.tag()), ("sip:alice@atlanta.com", Some("88sja8x")));
        assert!(NameAddr::parse("*").unwrap().is_star());
        for bad in [
            "",
            "<sip:a@b",
            "\"x <sip:a@b>",
            "Bob sip:a@b",
            "<>",
            "<sip:a@b> junk",
            "noscheme",
        ] {
            assert!(NameAddr::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn vias() {
        let v = Via::parse(
            "SIP/2.0/WS df7jal23ls0d.invalid;rport=42254;received=127.0.0.1;branch=z9hG4bK5839283",
        )
        .unwrap();
        assert_eq!(
            (v.transport, v.host, v.port),
            ("WS", "df7jal23ls0d.invalid", None)
        );
        assert_eq!(v.branch(), Some("z9hG4bK5839283"));
        assert_eq!(v.received(), Some("127.0.0.1"));
        assert_eq!(v.rport(), Some(Some(42254)));
        let w = Via::parse("SIP / 2.0 / UDP [2001:db8::9]:5060;rport;branch=z9hG4bKx").unwrap();
        assert_eq!(
            (w.transport, w.host, w.port, w.rport()),
            ("UDP", "[2001:db8::9]", Some(5060), Some(None))
        );
        for bad in [
            "SIP/2.0/UDP",
            "SIP/3.0/UDP a",
            "HTTP/2.0/UDP a",
            "SIP/2.0/UDP a:0",
            "SIP/2.0/UDP a:99999",
            "SIP/2.0/UDP a;rport=x",
            "SIP/2.0/U@P a",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cseqs() {
        assert_eq!(
            CSeq::parse("2 INVITE").unwrap(),
            CSeq {
                seq: 2,
                method: "INVITE"
            }
        );
        for bad in [
            "",
            "INVITE",
            "x INVITE",
            "4294967296 INVITE",
            "2147483648 INVITE",
            "1 IN VITE",
            "1 IN\"V",
        ] {
            assert!(CSeq::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn params() {
        let p = Params::new(";lr;transport=ws ; ;x=\"a b\"");
        assert_eq!(p.get("LR"), Some(None));
        assert_eq!(p.value("transport"), Some("ws"));
        assert_eq!(p.value("x"), Some("a b"));
        assert_eq!(p.get("missing"), None);
        assert_eq!(p.iter().count(), 3);
    }
}
