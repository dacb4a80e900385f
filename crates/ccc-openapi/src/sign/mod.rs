//! Request signing: V2 (HMAC-SHA1, `SignatureVersion` 1.0) and V3
//! (`ACS3-HMAC-SHA256`), as `signing.md` sets out from the official SDKs' code.
//!
//! Everything here is pure: the timestamp and the nonce are inputs, so a signature can
//! be reproduced (and `ccc api --dry-run` can show the exact string to sign).

mod v2;
mod v3;

pub use v2::{HttpMethod, ParamStyle, SignedRequest, percent_encode, sign_v2, v2_common_params};
pub use v3::{SignedV3, V3_ALGORITHM, sign_v3, v3_headers};
