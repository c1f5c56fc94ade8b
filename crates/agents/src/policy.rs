//! The `Policy` trait: anything that picks an action in a gridworld, and counts what that cost.

use cruxlab_grid::{Action, DistanceField, Level};

/// What an agent sees when it decides: the level as it stands (agent position included) and the
/// environment's cue field. Planners read the level as their world model; learned policies will read
/// observations built from the same state.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    pub level: &'a Level,
    pub cue: &'a DistanceField,
}

/// Compute an agent has spent, in node expansions (or an equivalent unit it documents).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Compute {
    /// Expansions spent deciding.
    pub expansions: u64,
    /// Decisions taken.
    pub decisions: u64,
    /// Expansions spent deriving heuristics (before or between episodes).
    pub derivation: u64,
    /// The most expansions any single decision spent.
    pub peak: u64,
}

impl Compute {
    /// Mean expansions per decision (0 before the first decision).
    pub fn per_decision(&self) -> f64 {
        if self.decisions == 0 {
            0.0
        } else {
            self.expansions as f64 / self.decisions as f64
        }
    }
}

/// A decision rule over gridworld states.
pub trait Policy {
    /// Choose the next action.
    fn act(&mut self, view: &View<'_>) -> Action;
    /// Compute spent so far.
    fn compute(&self) -> Compute;
    /// Forget per-episode state before a new episode.
    fn reset(&mut self);
}
