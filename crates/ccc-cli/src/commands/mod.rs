//! One module per subcommand.

pub(crate) mod agent;
pub(crate) mod api;
#[cfg(unix)]
pub(crate) mod ctl;
pub(crate) mod emulator;
pub(crate) mod phone;
pub(crate) mod turn_test;
