//! Typed client for the Alibaba Cloud Call Center OpenAPI (2017-07-05 and 2020-07-01).
//!
//! - **Actions**: one type per action, [`v2017`] (the workbench SDK 1.x data actions)
//!   and [`v2020`] (agent control), each implementing [`Action`]: its name, version,
//!   model, parameters (required ones required by `new`) and its typed answer, which
//!   reads and writes CCC's exact JSON.
//! - **Shapes** ([`shape`]): the answers of integrator proxies (the Java demo's, custom
//!   functions') read by the same types.
//! - **Signing** ([`sign`]): V2 (HMAC-SHA1) as the official SDKs do it, and V3
//!   (ACS3-HMAC-SHA256).
//! - **Transports** ([`transport`]): [`Direct`](transport::Direct) (signed HTTPS),
//!   [`Proxy`](transport::Proxy) (the integrator's backend, C13-C20) and
//!   [`Custom`](transport::Custom) (a function, C41), behind one trait; a [`Client`]
//!   sends through any of them: `client.send(action).await`.
//! - **Errors** ([`Error`]): CCC's own ([`ApiError`]), HTTP statuses, undecodable
//!   answers (raw body kept), timeouts, transport failures; each converts to the
//!   workbench's `ErrorNotify`.
//! - [`Credentials`] that never print, [`Secret`] answer fields that never print.

mod action;
mod client;
mod credentials;
pub mod decode;
pub mod endpoint;
mod envelope;
mod error;
pub mod models;
mod secret;
pub mod shape;
pub mod sign;
mod status;
pub mod transport;
pub mod v2017;
pub mod v2020;
pub mod wire;

pub use action::{
    Action, ActionModel, FromParam, Param, ParamError, ParamKind, ParamModel, ParamText,
    ParamValue, Params, Placement, Version, WireParams,
};
pub use client::Client;
pub use credentials::{
    Credentials, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SECURITY_TOKEN, MissingCredentials,
};
pub use envelope::Envelope;
pub use error::{ApiError, Error};
pub use secret::Secret;
pub use status::{AnswerStatus, ErrorAnswer};
