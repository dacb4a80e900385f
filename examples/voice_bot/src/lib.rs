//! A voice bot: an agent program with no one at the desk. It answers every call that
//! rings, plays a WAV prompt, collects the digits the caller presses (RFC 4733
//! telephone events on the call's WebRTC audio), hangs up when they are complete and is
//! ready for the next call: the headless use the browser SDK could not serve.
//!
//! ```text
//! cargo run -p voice_bot                          # the embedded emulator, 3 simulated callers
//! cargo run -p voice_bot -- --calls 5 --wav hello.wav
//! cargo run -p voice_bot -- --config agent.json   # a real deployment (the file of `ccc agent`)
//! ```
//!
//! As a library:
//!
//! ```no_run
//! # async fn demo(setup: voice_bot::Setup) -> Result<(), Box<dyn std::error::Error>> {
//! use voice_bot::{DigitRules, Prompt, VoiceBot};
//!
//! let prompt = Prompt::open("welcome.wav")?;
//! let builder = setup.builder.audio(prompt.audio()); // every call plays the prompt
//! let events = builder.events();
//! let workbench = builder.build().await?;
//! workbench.register(setup.skill_groups, &setup.access_point).await?;
//! VoiceBot::new(DigitRules::default())
//!     .serve(&workbench, events, None, |call| println!("{:?} pressed {}", call.caller, call.digits))
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! - [`VoiceBot`]: the loop (answer, collect, hang up, ready again).
//! - [`DigitRules`]: when the digits are complete (a terminator, a count, timeouts).
//! - [`Prompt`]: the WAV it plays (a file, or a chime made in memory).
//! - [`setup`]: a workbench builder from a config file, or for the embedded emulator,
//!   and the emulator's simulated callers.

mod bot;
mod digits;
mod prompt;
pub mod setup;

pub use bot::{BotError, CallOutcome, RING, VoiceBot};
pub use digits::{DigitRules, Ended};
pub use prompt::{CHIME_HZ, Prompt, PromptError};
pub use setup::{Setup, SetupError};
