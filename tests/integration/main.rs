//! Behaviour tests of `maptask`, through the facade only: `#[task]` descriptions and
//! `map_task!` maps run on the engine.

mod backend;
mod describe;
mod errors;
mod map_task;
mod task;
mod workflow;
