//! Tags, branches, Call-IDs and the flow's `.invalid` host name.

use crate::message::Message;

/// Makes the identifiers of one user agent from a seed (SplitMix64: fast, and unique
/// enough for identifiers that need not be secret beyond the seed's 64 bits).
#[derive(Debug, Clone)]
pub(crate) struct Ids {
    state: u64,
    host: String,
}

impl Ids {
    pub(crate) fn new(seed: u64) -> Self {
        let mut ids = Self {
            state: seed,
            host: String::new(),
        };
        // RFC 7118 section 5: a WebSocket client has no reachable address; it uses a
        // random host name in `.invalid` in Via and Contact.
        ids.host = format!("{}.invalid", ids.token(12));
        ids
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
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

    /// The `.invalid` host of Via and Contact.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// A To tag for a response to `request`: derived from its Call-ID and From tag, so
    /// that a retransmitted request gets the same tag.
    pub(crate) fn tag_for(&self, request: &Message<'_>) -> String {
        let mut h: u64 = 0xCBF2_9CE4_8422_2325 ^ self.state.rotate_left(17);
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
