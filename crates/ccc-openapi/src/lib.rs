//! Typed client for the Alibaba Cloud Call Center OpenAPI (2017-07-05 and 2020-07-01).
//!
//! Built so far: [`Credentials`] (never printed), [`sign`] (the V2 request signer) and
//! [`shape`] (the answer shapes of CCC, the Java demo proxy and custom functions).
//! The typed actions, the transports (direct, integrator proxy, custom) and the relay
//! follow in the ccc-openapi issue.

mod credentials;
pub mod shape;
pub mod sign;

pub use credentials::{
    Credentials, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN, MissingCredentials,
};
