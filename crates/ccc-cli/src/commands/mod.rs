//! One module per subcommand.

pub(crate) mod api;
pub(crate) mod turn_test;
