//! Policies over the cruxlab gridworld.
//!
//! Every agent implements [`Policy`] and counts the compute it spends in node expansions. The
//! planners here have an explicit target (an [`ObjectKind`](cruxlab_grid::ObjectKind)) that can be
//! swapped, and a [`Heuristic`] whose provenance matters for retargeting: blind, derived from the
//! target by relaxation or from target-agnostic landmarks, read from a cue only one target kind
//! emits, or learned from experience of one target. Every heuristic is charged what building it
//! costs, and [`break_even`] says after how many episodes a costly one pays for itself. The
//! [`roster`] names the agents the experiments compare.

mod episode;
mod heuristic;
mod planner;
mod policy;
pub mod roster;

pub use episode::{Episode, play};
pub use heuristic::{Derived, Heuristic, Landmarks, UNREACHABLE_ESTIMATE};
pub use planner::{Planner, SearchOutcome};
pub use policy::{Compute, Policy, View, break_even};
pub use roster::AgentKind;
