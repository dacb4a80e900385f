//! A local Alibaba Cloud Call Center (CCC) for examples, tests and benchmarks.
//!
//! It speaks what the SDK speaks to CCC (`../shared/DESIGN.md`, "The platform and its
//! three links"): the OpenAPI (both versions, signed or proxied), the agent link
//! (snapshots pushed over a WebSocket, and `PollUserStatus`) and SIP over WebSocket.
//!
//! - [`scenario`]: what the call center holds (instance, agents, skill groups,
//!   numbers, customers), built in or read from TOML.

pub mod scenario;
mod server;

pub use scenario::Scenario;
pub use server::{
    AgentLogin, CLOSE_SIGNED_OUT, CONNECTION_QUEUE, Emulator, EmulatorConfig, EmulatorInfo,
    LinkFault, LinkKind, PING_EVERY, SILENCE_LIMIT, StartError,
};
pub mod api;
pub mod platform;
pub mod token;
