//! One module per subcommand.

pub(crate) mod api;
pub(crate) mod emulator;
pub(crate) mod phone;
pub(crate) mod turn_test;
