//! The cruxlab gridworld engine.
//!
//! A [`Level`] is a rectangle of floor and wall with one agent and some objects (diamonds, cheese,
//! keys). Levels come from text files ([`Level::parse`]) or from seeded generators ([`generate`]).
//! [`Env`] steps one level with Gymnasium semantics (`reset(seed) -> observation`,
//! `step(action) -> (observation, reward, terminated, truncated, info)`), and [`VecEnv`] steps many at
//! once with auto-reset. Observations come as one-hot planes (C x H x W, f32) or a compact u8 grid.
//! Levels render to text and PNG. The engine knows nothing about agents.
//!
//! ```
//! use cruxlab_grid::{Level, ObjectKind, DistanceField};
//! let level = Level::parse("#####\n#A.D#\n#####\n").unwrap();
//! let to_diamond = DistanceField::from_sources(&level, level.positions_of(ObjectKind::Diamond));
//! assert_eq!(to_diamond.get(level.agent()), Some(2));
//! ```

mod action;
mod distance;
mod level;

pub use action::Action;
pub use distance::DistanceField;
pub use level::{Level, LevelError, Object, ObjectKind, Pos};
