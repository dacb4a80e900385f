//! Tags, branches, Call-IDs, and how this side names itself on the flow (its Via
//! sent-by and its Contact).

use crate::message::Message;

/// Makes the identifiers of one user agent from a seed (SplitMix64: fast, and unique
/// enough for identifiers that need not be secret beyond the seed's 64 bits).
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    state: u64,
    /// The key of the To tags of answers outside a dialog: fixed, unlike `state`.
    tag_key: u64,
    /// The Via sent-by.
    host: String,
    /// `WS`, `WSS` or `TCP`.
    transport: &'static str,
    /// The Contact of this side's requests and answers, `<sip:...>`.
    contact: String,
}

impl Ids {
    /// A WebSocket client's: RFC 7118 section 5 gives it no reachable address, so it
    /// names itself by a random host in `.invalid`, with `ob` (RFC 5626) in its Contact.
    pub(crate) fn new(seed: u64, user: &str) -> Self {
        let mut ids = Self {
            state: seed,
            tag_key: seed.rotate_left(17),
            host: String::new(),
            transport: "WS",
            contact: String::new(),
        };
        ids.host = format!("{}.invalid", ids.token(12));
        ids.contact = format!("<sip:{user}@{};transport=ws;ob>", ids.host);
        ids
    }

    /// A server's on one accepted flow: its own address, the flow's transport.
    pub(crate) fn for_server(seed: u64, user: &str, host: &str, transport: &'static str) -> Self {
        Self {
            state: seed,
            tag_key: seed.rotate_left(17),
            host: host.to_owned(),
            transport,
            contact: format!(
                "<sip:{user}@{host};transport={}>",
                transport.to_ascii_lowercase()
            ),
        }
    }

    /// The flow is secure (`wss://`): Via says `WSS` (RFC 7118 section 5.2).
    pub(crate) fn set_secure(&mut self) {
        if self.transport == "WS" {
            self.transport = "WSS";
        }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (the randomized glare and retry timers).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    /// `len` characters of [0-9a-z].
    pub(crate) fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut out = String::with_capacity(len);
        while out.len() < len {
            let mut n = self.next();
            for _ in 0..12 {
                if out.len() == len {
                    break;
                }
                out.push(char::from(ALPHABET[(n % 36) as usize]));
                n /= 36;
            }
        }
        out
    }

    /// A fresh branch with the RFC 3261 magic cookie.
    pub(crate) fn branch(&mut self) -> String {
        format!("z9hG4bK{}", self.token(16))
    }

    /// The Via sent-by host.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The Via header value of a request with `branch`.
    pub(crate) fn via(&self, branch: &str) -> String {
        format!("SIP/2.0/{} {};branch={branch}", self.transport, self.host)
    }

    /// The Contact header value.
    pub(crate) fn contact(&self) -> &str {
        &self.contact
    }

    /// A To tag for a response to `request`: derived from its Call-ID and From tag (and
    /// a fixed key), so that a retransmitted request gets the same tag whatever was
    /// made in between.
    pub(crate) fn tag_for(&self, request: &Message<'_>) -> String {
        let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ self.tag_key;
        let from_tag = request.from().ok().and_then(|f| f.tag()).unwrap_or("");
        for b in request
            .call_id()
            .unwrap_or("")
            .bytes()
            .chain(from_tag.bytes())
        {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        format!("{h:016x}")
    }
}
