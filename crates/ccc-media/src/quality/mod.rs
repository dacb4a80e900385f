//! Call quality figures.

mod emodel;

pub use emodel::{CodecImpairment, mos_from_r, r_factor};
