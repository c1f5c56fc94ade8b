//! Policies over the cruxlab gridworld.
//!
//! Every agent implements [`Policy`] and counts the compute it spends in node expansions. The
//! planners here have an explicit target (an [`ObjectKind`](cruxlab_grid::ObjectKind)) that can be
//! swapped, and a [`Heuristic`] whose provenance matters for retargeting: blind, derived from the
//! target by relaxation, read from a cue only one target kind emits, or grown by search. The
//! [`roster`] names the agents the experiments compare.

mod episode;
mod heuristic;
mod planner;
mod policy;
pub mod roster;

pub use episode::{Episode, play};
pub use heuristic::{Derived, Heuristic, UNREACHABLE_ESTIMATE};
pub use planner::{Planner, SearchOutcome};
pub use policy::{Compute, Policy, View};
pub use roster::AgentKind;
