//! One module per subcommand.

pub(crate) mod turn_test;
