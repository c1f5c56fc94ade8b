//! The cruxlab gridworld engine.
//!
//! A [`Level`] is a rectangle of floor and wall with one agent and some objects (diamonds, cheese,
//! keys). Levels come from text files ([`Level::parse`]) or from seeded generators ([`generate`]).
//! [`Env`] steps one level with Gymnasium semantics (`reset(seed) -> observation`,
//! `step(action) -> (observation, reward, terminated, truncated, info)`), and [`VecEnv`] steps many at
//! once with auto-reset. Observations come as one-hot planes (C x H x W, f32) or a compact u8 grid.
//! Levels render to text and PNG. The engine knows nothing about agents.
//!
//! | module | what |
//! |--------|------|
//! | [`Level`], [`Pos`], [`ObjectKind`] | the level model and its text format |
//! | [`generate`] | seeded mazes and rooms, [`LevelSpec`] (`maze:13`, `rooms:15:0.3`) |
//! | [`Env`] | one environment: reset/step, rewards, termination, truncation, the cue field |
//! | [`VecEnv`] | many environments stepped in parallel with same-step auto-reset |
//! | [`obs`] | compact (`u8` codes) and plane (`f32` one-hot + cue) observation encodings |
//! | [`DistanceField`] | breadth-first distance fields (the cue, planner heuristics) |
//! | [`render`] | PNG pictures of levels |
//!
//! ```
//! use cruxlab_grid::{Level, ObjectKind, DistanceField};
//! let level = Level::parse("#####\n#A.D#\n#####\n").unwrap();
//! let to_diamond = DistanceField::from_sources(&level, level.positions_of(ObjectKind::Diamond));
//! assert_eq!(to_diamond.get(level.agent()), Some(2));
//! ```

mod action;
mod batch;
mod distance;
mod env;
pub mod generate;
mod level;
pub mod obs;
pub mod render;

pub use action::Action;
pub use batch::VecEnv;
pub use distance::DistanceField;
pub use env::{Env, EnvConfig, EnvError, Info, LevelSource, Step, Transition};
pub use generate::{LevelSpec, LevelSpecError, centre_in_walls, maze, rooms, scatter};
pub use level::{Level, LevelError, Object, ObjectKind, Pos};
pub use obs::{CompactObs, ObsKind, Observation, PlanesObs, write_compact, write_planes};
pub use render::{encode_png, render_png, render_trace, save_png};
