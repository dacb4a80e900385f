//! The relay's own user authentication: a signed session token, sent as the
//! `ccc_session` cookie or as `Authorization: Bearer <token>`.
//!
//! A token is `v1.<user>.<expiry, Unix seconds>.<hex HMAC-SHA256 of what precedes>`
//! under the relay's session key; nothing is stored on the server.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ring::hmac;

/// Issues and checks session tokens.
pub(crate) struct Sessions {
    key: hmac::Key,
    ttl: Duration,
}

impl Sessions {
    pub(crate) fn new(secret: &[u8], ttl: Duration) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            ttl,
        }
    }

    /// A token for `user`, valid for the configured time from `now`.
    pub(crate) fn issue(&self, user: &str, now: SystemTime) -> String {
        let expiry = now.duration_since(UNIX_EPOCH).unwrap_or_default() + self.ttl;
        let signed = format!("v1.{user}.{}", expiry.as_secs());
        let tag = hmac::sign(&self.key, signed.as_bytes());
        format!("{signed}.{}", hex(tag.as_ref()))
    }

    /// The user of `token`, if it is ours, intact and not expired at `now`.
    pub(crate) fn check(&self, token: &str, now: SystemTime) -> Option<String> {
        let (signed, tag) = token.rsplit_once('.')?;
        let tag = unhex(tag)?;
        hmac::verify(&self.key, signed.as_bytes(), &tag).ok()?;
        let rest = signed.strip_prefix("v1.")?;
        let (user, expiry) = rest.rsplit_once('.')?;
        let expiry: u64 = expiry.parse().ok()?;
        let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
        (now < expiry && !user.is_empty()).then(|| user.to_owned())
    }

    /// Whether `given` is `expected`, in constant time (both are MACed first).
    pub(crate) fn same_secret(&self, given: &str, expected: &str) -> bool {
        let tag = hmac::sign(&self.key, expected.as_bytes());
        hmac::verify(&self.key, given.as_bytes(), tag.as_ref()).is_ok()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 128 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let s = Sessions::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60));
        let now = SystemTime::now();
        let t = s.issue("alice@x", now);
        assert_eq!(s.check(&t, now).as_deref(), Some("alice@x"));
        assert_eq!(s.check(&t, now + Duration::from_secs(61)), None, "expired");
        let forged = t.replace("alice", "mallory");
        assert_eq!(s.check(&forged, now), None, "tampered");
        let other = Sessions::new(b"another key of thirty-two bytes!", Duration::from_secs(60));
        assert_eq!(other.check(&t, now), None, "other key");
        for junk in ["", ".", "v1..1.zz", "v1.a.b.c", "ééé"] {
            assert_eq!(s.check(junk, now), None, "{junk:?}");
        }
        assert!(s.same_secret("pw", "pw") && !s.same_secret("pw", "pW"));
    }
}
