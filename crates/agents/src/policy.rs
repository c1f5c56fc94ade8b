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

/// The number of episodes after which a heuristic that costs `build` to construct and `search` per
/// episode has spent less in total than a reference costing `reference_build` and
/// `reference_search`: the smallest K >= 1 with `build + K search < reference_build + K
/// reference_search`. `None` when no K does (the heuristic saves nothing per episode and is not
/// already ahead, or it costs more per episode, so amortising only widens the gap).
pub fn break_even(
    build: f64,
    search: f64,
    reference_build: f64,
    reference_search: f64,
) -> Option<f64> {
    let saving = reference_search - search;
    let head_start = build - reference_build;
    if saving > 0.0 {
        // K > head_start / saving.
        Some((head_start / saving).floor().max(0.0) + 1.0)
    } else if saving == 0.0 && head_start < 0.0 {
        Some(1.0)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::break_even;

    #[test]
    fn break_even_by_hand() {
        // A field of 100 expansions that saves 30 per episode: 100 + 3 x 10 = 130 = 0 + 3 x 40 ties,
        // so 4 episodes are needed (140 < 160).
        assert_eq!(break_even(100.0, 10.0, 0.0, 40.0), Some(4.0));
        // 101 needs 4 too (101 + 40 = 141 < 160); 89 needs 3 (119 < 120).
        assert_eq!(break_even(101.0, 10.0, 0.0, 40.0), Some(4.0));
        assert_eq!(break_even(89.0, 10.0, 0.0, 40.0), Some(3.0));
        // Cheaper to build and to run: the first episode.
        assert_eq!(break_even(0.0, 10.0, 5.0, 40.0), Some(1.0));
        assert_eq!(break_even(0.0, 40.0, 5.0, 40.0), Some(1.0));
        // Costlier per episode: ahead at first perhaps, but amortising never makes it cheaper.
        assert_eq!(break_even(0.0, 50.0, 5.0, 40.0), None);
        assert_eq!(break_even(10.0, 40.0, 5.0, 40.0), None);
    }
}
