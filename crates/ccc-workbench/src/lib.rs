//! The Workbench facade of ccc-rs: the browser workbench SDK 1.1.0 of Alibaba Cloud Call
//! Center for Rust programs.
//!
//! One [`Workbench`] is one agent, as `new WorkbenchSdk(config)` is in the browser:
//!
//! - **Construction** ([`Workbench::builder`]): the typed config of ccc-core (the
//!   guide's C2-C41), an OpenAPI [`Client`](ccc_openapi::Client) over any transport
//!   (direct signed requests, the integrator's proxy in the `ajax*` conventions, or a
//!   custom function as C41 `apiAxiosFunc`), the agent, and what a program adds: each
//!   call's audio ([`audio`]), media settings, timeouts, the H25 hook ([`hook`]).
//!   `build().await` emits `onInit`.
//! - **Events** ([`Workbench::events`]): the guide's hooks H21-H34 as [`Event`]s on an
//!   async stream, for any number of subscribers, in order.
//! - **Methods**: every method M2-M35 as an `async fn` named after the guide in snake
//!   case (`register`, `log_in`, `call`, `conference_init`, ...), checked against
//!   table K before anything is sent, settling with a result, an error or a timeout;
//!   and the data of the panel (call log, agents, states, "my work", devices).
//!   The UI-only methods M0 `changeVisible` and M1 `reRender` have no meaning without a
//!   panel; the terminal softphone example shows and hides its own.
//! - **Links**: the OpenAPI (login info, token refresh, the 2020 agent-control
//!   actions), the agent link ([`agent_link`](crate#the-agent-link): pushed snapshots,
//!   polling while the push is down) and SIP with WebRTC media per call; each
//!   reconnects by itself, and a sign-out carries the guide's reason on `onLogOut` and
//!   `onErrorNotify`.
//! - **One per agent per machine** ([`local`], Unix): the lock of section 10 and the
//!   local control channel of C23 (`ccc ctl call NUMBER`).
//!
//! A single driver task per workbench owns ccc-core's sans-IO `Agent` and the links:
//! there is no lock around the core; the methods reach it through a channel.
//!
//! # The agent link
//!
//! `AgentServerUrl?UserId=..&SignData=..&Signature=..&DeviceId=..`, one JSON snapshot
//! (`PollUserStatus`'s `Data`) per text frame, a text heartbeat from the client, close
//! code 4001 for a platform sign-out with the guide's reason; `PollUserStatus` every
//! [`LinkOptions::poll_every`] while the WebSocket is down.

mod agent_link;
mod api;
pub mod audio;
mod builder;
pub mod deployment;
mod driver;
mod error;
pub mod event;
pub mod hook;
#[cfg(unix)]
pub mod local;
mod records;
mod time;
mod transport;
mod types;
mod workbench;

pub use audio::{AudioFactory, CallAudioInfo, SilentAudio};
pub use builder::{LinkOptions, SipAuth, WorkbenchBuilder};
pub use error::Error;
pub use event::{Event, EventStream, RegisterInfo};
pub use hook::{BeforeCallDialing, Dial};
pub use transport::proxy_client;
pub use types::{CallLogPage, CallRequest, Dialed, EnvironmentReport, Recording, StatusCode};
pub use workbench::Workbench;

pub use ccc_core::config;
pub use ccc_core::config::Config;
pub use ccc_core::helpers::LoginSkillGroup;
pub use ccc_core::{Status, StatusDescription};
