//! Audio codecs of the calls.

pub mod g711;
