//! Header names: case-insensitive, with the compact forms of RFC 3261 and its extensions.

use std::fmt;

macro_rules! known_headers {
    ($( $variant:ident = $name:literal $(, $compact:literal)? ; )+) => {
        /// A header this crate knows by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum KnownHeader {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )+
        }

        impl KnownHeader {
            /// The full name, as written by this crate.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $name, )+ }
            }

            /// The header named `name` (full or compact form, any case).
            pub fn from_name(name: &str) -> Option<Self> {
                $(
                    if name.eq_ignore_ascii_case($name) $(|| name.eq_ignore_ascii_case($compact))? {
                        return Some(Self::$variant);
                    }
                )+
                None
            }
        }
    };
}

known_headers! {
    Accept = "Accept";
    AcceptContact = "Accept-Contact", "a";
    Allow = "Allow";
    AllowEvents = "Allow-Events", "u";
    Authorization = "Authorization";
    CallId = "Call-ID", "i";
    Contact = "Contact", "m";
    ContentDisposition = "Content-Disposition";
    ContentEncoding = "Content-Encoding", "e";
    ContentLength = "Content-Length", "l";
    ContentType = "Content-Type", "c";
    CSeq = "CSeq";
    Event = "Event", "o";
    Expires = "Expires";
    From = "From", "f";
    MaxForwards = "Max-Forwards";
    MinExpires = "Min-Expires";
    MinSe = "Min-SE";
    ProxyAuthenticate = "Proxy-Authenticate";
    ProxyAuthorization = "Proxy-Authorization";
    RAck = "RAck";
    RecordRoute = "Record-Route";
    ReferTo = "Refer-To", "r";
    ReferredBy = "Referred-By", "b";
    Replaces = "Replaces";
    Require = "Require";
    RetryAfter = "Retry-After";
    Route = "Route";
    RSeq = "RSeq";
    SessionExpires = "Session-Expires", "x";
    Server = "Server";
    Subject = "Subject", "s";
    SubscriptionState = "Subscription-State";
    Supported = "Supported", "k";
    To = "To", "t";
    Unsupported = "Unsupported";
    UserAgent = "User-Agent";
    Via = "Via", "v";
    WwwAuthenticate = "WWW-Authenticate";
}

/// A header's name: known, or any other token as it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderName<'a> {
    /// A header this crate knows.
    Known(KnownHeader),
    /// Any other header.
    Other(&'a str),
}

impl<'a> HeaderName<'a> {
    /// The name `name` (compact forms become the known header).
    pub fn from_name(name: &'a str) -> Self {
        KnownHeader::from_name(name).map_or(Self::Other(name), Self::Known)
    }

    /// The name as written by this crate (the full form).
    pub fn as_str(&self) -> &'a str {
        match self {
            Self::Known(known) => known.as_str(),
            Self::Other(name) => name,
        }
    }

    /// Whether this is `other` (case-insensitive for names this crate does not know).
    pub fn is(&self, other: &str) -> bool {
        match self {
            Self::Known(known) => KnownHeader::from_name(other) == Some(*known),
            Self::Other(name) => name.eq_ignore_ascii_case(other),
        }
    }
}

impl From<KnownHeader> for HeaderName<'_> {
    fn from(known: KnownHeader) -> Self {
        Self::Known(known)
    }
}

impl fmt::Display for HeaderName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case() {
        for (name, want) in [
            ("v", KnownHeader::Via),
            ("VIA", KnownHeader::Via),
            ("i", KnownHeader::CallId),
            ("call-id", KnownHeader::CallId),
            ("m", KnownHeader::Contact),
            ("l", KnownHeader::ContentLength),
            ("c", KnownHeader::ContentType),
            ("k", KnownHeader::Supported),
            ("x", KnownHeader::SessionExpires),
            ("o", KnownHeader::Event),
            ("r", KnownHeader::ReferTo),
            ("b", KnownHeader::ReferredBy),
            ("cseq", KnownHeader::CSeq),
        ] {
            assert_eq!(KnownHeader::from_name(name), Some(want), "{name}");
        }
        assert_eq!(
            HeaderName::from_name("X-Custom"),
            HeaderName::Other("X-Custom")
        );
        assert!(HeaderName::from_name("x-custom").is("X-CUSTOM"));
        assert!(HeaderName::from_name("f").is("From"));
        assert_eq!(HeaderName::from_name("t").as_str(), "To");
    }
}
