//! The Workbench facade of ccc-rs: the browser workbench SDK 1.1.0 for Rust programs.
//!
//! Being built (the ccc-workbench issue). Ready so far:
//! - [`local`]: one registered workbench per agent per machine, and the local control
//!   channel other processes use to dial and hang up through it (C23, section 10).

#[cfg(unix)]
pub mod local;
