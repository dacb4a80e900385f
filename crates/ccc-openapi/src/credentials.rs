//! AccessKey credentials, held so they never print.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// An AccessKey pair and, for STS, its security token. `Debug` shows the key id only.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: SecretString,
    security_token: Option<SecretString>,
}

/// The environment variables the official SDKs read.
pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// See [`ENV_ACCESS_KEY_ID`].
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";
/// See [`ENV_ACCESS_KEY_ID`].
pub const ENV_SECURITY_TOKEN: &str = "ALIBABA_CLOUD_SECURITY_TOKEN";

/// No credentials where they were looked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no AccessKey: set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET} (and {ENV_SECURITY_TOKEN} for STS)"
)]
pub struct MissingCredentials;

impl Credentials {
    /// An AccessKey pair.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            access_key_secret: SecretString::from(access_key_secret.into()),
            security_token: None,
        }
    }

    /// The same with an STS security token.
    #[must_use]
    pub fn with_security_token(mut self, token: impl Into<String>) -> Self {
        self.security_token = Some(SecretString::from(token.into()));
        self
    }

    /// From the environment variables the official SDKs read.
    pub fn from_env() -> Result<Self, MissingCredentials> {
        let get = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let id = get(ENV_ACCESS_KEY_ID).ok_or(MissingCredentials)?;
        let secret = get(ENV_ACCESS_KEY_SECRET).ok_or(MissingCredentials)?;
        let credentials = Self::new(id, secret);
        Ok(match get(ENV_SECURITY_TOKEN) {
            Some(token) => credentials.with_security_token(token),
            None => credentials,
        })
    }

    /// The AccessKey id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub(crate) fn secret(&self) -> &str {
        self.access_key_secret.expose_secret()
    }

    pub(crate) fn security_token(&self) -> Option<&str> {
        self.security_token
            .as_ref()
            .map(ExposeSecret::expose_secret)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c = Credentials::new("LTAI-id", "very-secret").with_security_token("sts-token-value");
        let debug = format!("{c:?}");
        assert!(debug.contains("LTAI-id"));
        assert!(
            !debug.contains("very-secret") && !debug.contains("sts-token-value"),
            "{debug}"
        );
        assert_eq!(debug.matches("<redacted>").count(), 2);
    }
}
