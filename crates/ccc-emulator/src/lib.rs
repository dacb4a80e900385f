//! A local Call Center platform for examples, tests and benchmarks. Not yet built: see the ccc-emulator issue.
