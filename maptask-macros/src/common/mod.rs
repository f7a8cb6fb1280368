//! Pieces shared by the macros.

pub mod diagnostics;
pub mod duration;
