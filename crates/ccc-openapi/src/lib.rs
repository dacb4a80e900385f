//! Typed client for the Alibaba Cloud Call Center OpenAPI (2017-07-05 and 2020-07-01).
//!
//! Built so far: [`Credentials`] (never printed) and [`sign`], the V2 request signer.
//! The typed actions, the transports (direct, integrator proxy, custom) and the relay
//! follow in the ccc-openapi issue.

mod credentials;
pub mod sign;

pub use credentials::{
    Credentials, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN, MissingCredentials,
};
