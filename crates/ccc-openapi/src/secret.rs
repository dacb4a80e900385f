//! [`Secret`]: a string of an answer that must never print (passwords, signatures,
//! tokens, signed URLs).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret string of an answer: serialized as itself, but `Debug` prints
/// `<redacted>`. Read it with [`Secret::expose`].
///
/// ```
/// let s = ccc_openapi::Secret::from("turn-password");
/// assert_eq!(format!("{s:?}"), "<redacted>");
/// assert_eq!(s.expose(), "turn-password");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}
