//! Pieces shared by the macros.

pub mod description;
pub mod diagnostics;
pub mod duration;
pub mod resources;
pub mod signature;
pub mod tokens;
