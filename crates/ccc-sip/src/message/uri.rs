//! SIP and SIPS URIs (RFC 3261 section 19.1).

use super::parse::ParseError;
use super::values::{Params, split_host_port};

/// The host part of a URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Host<'a>(pub &'a str);

impl Host<'_> {
    /// Whether it is an IP address (IPv4, or an IPv6 reference in brackets).
    pub fn is_ip(&self) -> bool {
        self.0.starts_with('[') || self.0.parse::<std::net::Ipv4Addr>().is_ok()
    }
}

/// A `sip:` or `sips:` URI, borrowing from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SipUri<'a> {
    /// Whether it is `sips:`.
    pub secure: bool,
    /// The user part, escapes kept as written.
    pub user: Option<&'a str>,
    /// The password part (deprecated, but parsed).
    pub password: Option<&'a str>,
    /// The host.
    pub host: Host<'a>,
    /// The port.
    pub port: Option<u16>,
    /// The URI parameters (`;transport=ws;lr`).
    pub params: Params<'a>,
    /// The headers part after `?`, unparsed.
    pub headers: Option<&'a str>,
}

impl<'a> SipUri<'a> {
    /// Parses `sip:[user[:password]@]host[:port][;params][?headers]`.
    ///
    /// ```
    /// use ccc_sip::message::SipUri;
    /// let uri = SipUri::parse("sip:k0fq8v3s@df7jal23ls0d.invalid;transport=ws").unwrap();
    /// assert_eq!(uri.user, Some("k0fq8v3s"));
    /// assert_eq!(uri.params.value("transport"), Some("ws"));
    /// ```
    pub fn parse(text: &'a str) -> Result<Self, ParseError> {
        let bad = |reason| ParseError::Value {
            header: "SIP URI",
            reason,
        };
        let (scheme, rest) = text.split_once(':').ok_or(bad("a scheme"))?;
        let secure = if scheme.eq_ignore_ascii_case("sip") {
            false
        } else if scheme.eq_ignore_ascii_case("sips") {
            true
        } else {
            return Err(bad("the scheme sip or sips"));
        };
        let (rest, headers) = match rest.split_once('?') {
            Some((rest, headers)) => (rest, Some(headers)),
            None => (rest, None),
        };
        // The user part may contain ';' and '@' only before the last '@'.
        let (userinfo, hostpart) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            Some(info) => {
                let (user, password) = info
                    .split_once(':')
                    .map_or((info, None), |(u, p)| (u, Some(p)));
                if user.is_empty()
                    || user
                        .bytes()
                        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
                {
                    return Err(bad("a user without spaces"));
                }
                (Some(user), password)
            }
            None => (None, None),
        };
        let (host_port, params) = hostpart
            .find(';')
            .map_or((hostpart, ""), |i| (&hostpart[..i], &hostpart[i..]));
        let (host, port) = split_host_port(host_port).ok_or(bad("a host[:port]"))?;
        if params
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            return Err(bad("parameters without spaces"));
        }
        Ok(Self {
            secure,
            user,
            password,
            host: Host(host),
            port,
            params: Params::new(params),
            headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let u = SipUri::parse("sips:alice:secret@[2001:db8::1]:5061;transport=tls;lr?subject=x")
            .unwrap();
        assert!(u.secure);
        assert_eq!((u.user, u.password), (Some("alice"), Some("secret")));
        assert_eq!((u.host, u.port), (Host("[2001:db8::1]"), Some(5061)));
        assert!(u.host.is_ip());
        assert_eq!(u.params.get("lr"), Some(None));
        assert_eq!(u.headers, Some("subject=x"));
        let plain = SipUri::parse("sip:ccc.test").unwrap();
        assert_eq!(
            (plain.user, plain.host.0, plain.port),
            (None, "ccc.test", None)
        );
        assert!(!plain.host.is_ip());
        let odd_user = SipUri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(odd_user.user, Some("user;par=u%40example.net"));
        for bad in [
            "",
            "tel:+123",
            "sip:",
            "sip:@host",
            "sip:a b@host",
            "sip:host:0",
            "sip:host:x",
            "sip:ho st",
        ] {
            assert!(SipUri::parse(bad).is_err(), "{bad}");
        }
    }
}
