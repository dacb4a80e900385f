//! The login token of `RequestLoginInfo` / `RefreshToken` / `GetLoginDetails`: what
//! the agent presents to the agent link (and may use as its SIP password).
//!
//! `SignData` is `<user>:<extension>:<expiry ms>`; `Signature` is the base64
//! HMAC-SHA256 of it under a secret the emulator draws at start. Stateless: any token
//! issued since start verifies until it expires.

use base64::Engine as _;
use ring::hmac;

/// Issues and checks login tokens.
pub struct Tokens {
    key: hmac::Key,
    /// OSS's POST-policy signature: HMAC-SHA1 (what OSS uses), under the same secret.
    policy_key: hmac::Key,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(<redacted>)")
    }
}

/// A token: the signed data and its signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    /// `SignData`.
    pub sign_data: String,
    /// `Signature`.
    pub signature: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("sign_data", &self.sign_data)
            .field("signature", &"<redacted>")
            .finish()
    }
}

/// Why a token does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// `SignData` is not `<user>:<extension>:<expiry ms>`.
    #[error("the sign data is not <user>:<extension>:<expiry>")]
    Malformed,
    /// The signature does not match.
    #[error("the signature does not match the sign data")]
    BadSignature,
    /// The token expired.
    #[error("the token expired")]
    Expired,
}

impl Tokens {
    /// Tokens under `secret` (at least 32 bytes of randomness in practice).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
            policy_key: hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret),
        }
    }

    /// A token for the agent, valid until `expires_ms`.
    pub fn issue(&self, user_id: &str, extension: &str, expires_ms: i64) -> Token {
        let sign_data = format!("{user_id}:{extension}:{expires_ms}");
        let tag = hmac::sign(&self.key, sign_data.as_bytes());
        Token {
            sign_data,
            signature: base64::engine::general_purpose::STANDARD.encode(tag.as_ref()),
        }
    }

    /// The user id of a valid token at `now_ms`.
    pub fn verify(
        &self,
        sign_data: &str,
        signature: &str,
        now_ms: i64,
    ) -> Result<String, TokenError> {
        let tag = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| TokenError::BadSignature)?;
        hmac::verify(&self.key, sign_data.as_bytes(), &tag)
            .map_err(|_| TokenError::BadSignature)?;
        let mut parts = sign_data.rsplitn(3, ':');
        let expiry: i64 = parts
            .next()
            .and_then(|e| e.parse().ok())
            .ok_or(TokenError::Malformed)?;
        let _extension = parts.next().ok_or(TokenError::Malformed)?;
        let user = parts
            .next()
            .filter(|u| !u.is_empty())
            .ok_or(TokenError::Malformed)?;
        if expiry < now_ms {
            return Err(TokenError::Expired);
        }
        Ok(user.to_owned())
    }
}

impl Tokens {
    /// The OSS signature of a POST policy: base64 HMAC-SHA1 of the base64 policy.
    pub fn sign_policy(&self, policy: &str) -> String {
        let tag = hmac::sign(&self.policy_key, policy.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
    }

    /// Whether `signature` is the OSS signature of `policy`.
    pub fn check_policy(&self, policy: &str, signature: &str) -> bool {
        let Ok(tag) = base64::engine::general_purpose::STANDARD.decode(signature) else {
            return false;
        };
        hmac::verify(&self.policy_key, policy.as_bytes(), &tag).is_ok()
    }

    /// A signature for a download link of `path`, valid until `expires_s`.
    pub fn sign_link(&self, path: &str, expires_s: i64) -> String {
        let tag = hmac::sign(&self.key, format!("link:{path}:{expires_s}").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref())
    }

    /// Whether a download link of `path` is genuine and not expired at `now_s`.
    pub fn check_link(&self, path: &str, expires_s: i64, signature: &str, now_s: i64) -> bool {
        let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        expires_s >= now_s
            && hmac::verify(
                &self.key,
                format!("link:{path}:{expires_s}").as_bytes(),
                &tag,
            )
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tokens_verify_until_they_expire() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let t = tokens.issue("alice@ccc-emulator", "8001", 2_000);
        assert_eq!(t.sign_data, "alice@ccc-emulator:8001:2000");
        assert_eq!(
            tokens.verify(&t.sign_data, &t.signature, 1_999).unwrap(),
            "alice@ccc-emulator"
        );
        assert_eq!(
            tokens.verify(&t.sign_data, &t.signature, 2_001),
            Err(TokenError::Expired)
        );
        let forged = "bob@ccc-emulator:8002:2000";
        assert_eq!(
            tokens.verify(forged, &t.signature, 0),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            tokens.verify(&t.sign_data, "not base64!", 0),
            Err(TokenError::BadSignature)
        );
        let other = Tokens::new(b"another secret of thirty-two byt");
        assert_eq!(
            other.verify(&t.sign_data, &t.signature, 0),
            Err(TokenError::BadSignature)
        );
        assert!(!format!("{t:?}").contains(&t.signature));
    }

    #[test]
    fn links_are_bound_to_their_path_and_expiry() {
        let tokens = Tokens::new(b"0123456789abcdef0123456789abcdef");
        let sig = tokens.sign_link("job-1.wav", 100);
        assert!(tokens.check_link("job-1.wav", 100, &sig, 100));
        assert!(!tokens.check_link("job-1.wav", 100, &sig, 101));
        assert!(!tokens.check_link("job-2.wav", 100, &sig, 0));
        assert!(!tokens.check_link("job-1.wav", 101, &sig, 0));
        assert!(!tokens.check_link("job-1.wav", 100, "%%%", 0));
    }
}
