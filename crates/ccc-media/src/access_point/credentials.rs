//! TURN credentials: fixed, or time-limited (the TURN REST API scheme).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rtc_crypto::HmacAlgorithm;
use rtc_crypto::RTCCrypto as _;
use rtc_crypto::providers::RingCrypto;

use super::ProbeError;

/// The credentials of an access point's TURN servers. `Debug` hides the secrets.
#[derive(Clone)]
pub enum TurnCredentials {
    /// A fixed user and password (long-term credentials, RFC 8489 9.2).
    Static {
        /// The user.
        username: String,
        /// The password.
        password: String,
    },
    /// Time-limited credentials from a shared secret: user `expiry:name`, password the
    /// base64 of HMAC-SHA1(secret, user), valid until `expires`.
    TimeLimited {
        /// The secret shared with the TURN servers.
        secret: String,
        /// The name after the expiry in the user.
        name: String,
        /// When the credentials stop working.
        expires: SystemTime,
    },
}

impl fmt::Debug for TurnCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Static { username, .. } => f
                .debug_struct("Static")
                .field("username", username)
                .field("password", &"<redacted>")
                .finish(),
            Self::TimeLimited { name, expires, .. } => f
                .debug_struct("TimeLimited")
                .field("secret", &"<redacted>")
                .field("name", name)
                .field("expires", expires)
                .finish(),
        }
    }
}

impl TurnCredentials {
    /// Time-limited credentials for `name`, valid for `ttl` from now.
    pub fn time_limited(secret: impl Into<String>, name: impl Into<String>, ttl: Duration) -> Self {
        Self::TimeLimited {
            secret: secret.into(),
            name: name.into(),
            expires: SystemTime::now() + ttl,
        }
    }

    /// The user and password to present, or [`ProbeError::CredentialsExpired`] for
    /// time-limited credentials past their expiry.
    pub fn user_and_password(&self) -> Result<(String, String), ProbeError> {
        match self {
            Self::Static { username, password } => Ok((username.clone(), password.clone())),
            Self::TimeLimited {
                secret,
                name,
                expires,
            } => {
                let expiry = expires
                    .duration_since(UNIX_EPOCH)
                    .map_err(|_| ProbeError::CredentialsExpired)?;
                if *expires <= SystemTime::now() {
                    return Err(ProbeError::CredentialsExpired);
                }
                let username = format!("{}:{name}", expiry.as_secs());
                let mut mac = RingCrypto
                    .new_hmac(HmacAlgorithm::Sha1, secret.as_bytes())
                    .map_err(|e| ProbeError::Crypto(e.to_string()))?;
                let mut tag = vec![0; mac.output_len()];
                mac.sign(&[username.as_bytes()], &mut tag)
                    .map_err(|e| ProbeError::Crypto(e.to_string()))?;
                Ok((username, base64(&tag)))
            }
        }
    }
}

/// Standard base64 with padding (RFC 4648), for the REST API password.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        // RFC 4648 section 10.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn rest_api_password() {
        // HMAC-SHA1(key "north", "4000000000:agent"), as Python's hmac module computes it.
        let creds = TurnCredentials::TimeLimited {
            secret: "north".into(),
            name: "agent".into(),
            expires: UNIX_EPOCH + Duration::from_secs(4_000_000_000),
        };
        let (user, password) = creds.user_and_password().unwrap();
        assert_eq!(user, "4000000000:agent");
        assert_eq!(password, "hjiCXb+Z+QYlkWtNmDhdPT5Lqsg=");
    }

    #[test]
    fn expired_and_redacted() {
        let old = TurnCredentials::TimeLimited {
            secret: "s".into(),
            name: "a".into(),
            expires: UNIX_EPOCH + Duration::from_secs(1000),
        };
        assert!(matches!(
            old.user_and_password(),
            Err(ProbeError::CredentialsExpired)
        ));
        let debug = format!(
            "{:?}{:?}",
            old,
            TurnCredentials::Static {
                username: "u".into(),
                password: "hunter2".into()
            }
        );
        assert!(
            !debug.contains("hunter2") && debug.contains("<redacted>"),
            "{debug}"
        );
    }
}
