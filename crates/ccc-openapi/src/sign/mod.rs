//! Request signing: V2 (HMAC-SHA1, `SignatureVersion` 1.0) and V3
//! (`ACS3-HMAC-SHA256`), as `signing.md` sets out from the official SDKs' code.
//!
//! Everything here is pure: the timestamp and the nonce are inputs, so a signature can
//! be reproduced (and `ccc api --dry-run` can show the exact string to sign).

mod v2;
mod v3;

pub use v2::{
    HttpMethod, ParamStyle, SignatureRefused, SignedRequest, encode_pairs, percent_encode,
    percent_encode_into, sign_v2, v2_common_params, verify_v2,
};
pub use v3::{SignedV3, V3_ALGORITHM, V3Refused, sign_v3, v3_headers, verify_v3};

/// Now, as `Timestamp` and `x-acs-date` want it: UTC, `2024-01-02T03:04:05Z`.
pub fn timestamp_now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// A fresh `SignatureNonce`: 128 random bits in hex (the SDKs send 32 hex digits too).
pub fn nonce() -> Result<String, String> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| "the system random source failed".to_owned())?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_and_nonces() {
        let ts = super::timestamp_now();
        assert_eq!(ts.len(), 20);
        assert!(humantime::parse_rfc3339(&ts).is_ok());
        let (a, b) = (super::nonce().unwrap(), super::nonce().unwrap());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
