//! Tasks defined outside the maptask crate.
