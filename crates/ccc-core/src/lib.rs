//! Pure core of ccc-rs.
