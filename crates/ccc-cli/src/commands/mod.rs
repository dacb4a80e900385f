//! One module per subcommand.

pub(crate) mod phone;
pub(crate) mod turn_test;
