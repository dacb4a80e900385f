//! Signal processing the tests and the quality checks use.

mod goertzel;

pub use goertzel::{Goertzel, dominant_tone, level_dbfs};
