//! The agents the retargeting experiment compares, and how each one is retargeted.
//!
//! | agent   | heuristic for its original target | after a swap, nothing re-derived | re-derivation for a new target |
//! |---------|-----------------------------------|----------------------------------|--------------------------------|
//! | `bfs`   | none (breadth-first / Dijkstra)   | unchanged, nothing to go stale   | nothing to do, cost 0 |
//! | `astar` | Manhattan distance to the target (walls relaxed away) | Manhattan to the old target's cells | read the new target's cells, 1 per object |
//! | `cue`   | the environment's cue field (only diamonds emit it) | still the diamond cue | no cue exists for other kinds: grow a breadth-first field from the new target, 1 per reachable cell |

use cruxlab_grid::{Level, ObjectKind};

use crate::heuristic::{Derived, Heuristic};
use crate::planner::Planner;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AgentKind {
    /// General search, no heuristic.
    Bfs,
    /// General search with a heuristic derived from the target by relaxing the walls.
    Astar,
    /// Search specialised to diamonds through the cue field they emit.
    Cue,
}

impl AgentKind {
    pub const ALL: [AgentKind; 3] = [AgentKind::Bfs, AgentKind::Astar, AgentKind::Cue];

    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Bfs => "bfs",
            AgentKind::Astar => "astar",
            AgentKind::Cue => "cue",
        }
    }

    /// The heuristic this agent uses for `target` in `level`, and what deriving it costs.
    pub fn derive(self, level: &Level, target: ObjectKind) -> Derived {
        match self {
            AgentKind::Bfs => Derived {
                heuristic: Heuristic::Blind,
                cost: 0,
            },
            AgentKind::Astar => Heuristic::relaxed(level, target),
            AgentKind::Cue if target == ObjectKind::CUE_SOURCE => Derived {
                heuristic: Heuristic::Cue,
                cost: 0,
            },
            AgentKind::Cue => Heuristic::field(level, target),
        }
    }

    /// A planner of this kind aimed at `target`.
    pub fn planner(self, level: &Level, target: ObjectKind, budget: Option<u64>) -> Planner {
        Planner::new(target, self.derive(level, target), budget)
    }
}

impl std::str::FromStr for AgentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        AgentKind::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown agent '{s}' (expected bfs, astar or cue)"))
    }
}
