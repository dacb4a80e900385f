//! Shared helpers of the ccc-rs benchmarks.
