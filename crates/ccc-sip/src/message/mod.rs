//! SIP messages (RFC 3261 section 7 and 25): a borrowing parser and an owned builder.
//!
//! [`parse`] reads a whole message (one WebSocket message carries exactly one SIP
//! message) into a [`Message`] that borrows from the input: the start line, the headers
//! as (name, value) slices, the body as bytes. It allocates one vector for the header
//! list and nothing per header. Typed views of the headers a user agent needs are
//! parsed on demand from those slices ([`Via`], [`NameAddr`], [`SipUri`], [`CSeq`], ...).
//!
//! [`Builder`] makes owned messages and writes them with a correct `Content-Length`.

mod builder;
mod headers;
mod parse;
mod uri;
mod values;

pub use builder::Builder;
pub use headers::{HeaderName, KnownHeader};
pub use parse::{Header, Limits, Message, ParseError, StartLine, parse, parse_with};
pub use uri::{Host, SipUri};
pub use values::{CSeq, NameAddr, Params, Via, split_list};
