//! The agents the retargeting experiment compares, and how each one is retargeted.
//!
//! Every agent is one search algorithm ([`Planner`]) holding a heuristic, and every heuristic is
//! charged what building it costs (see [`crate::heuristic`]). Families, by how their heuristic is
//! tied to a target:
//!
//! | agent | heuristic for its original target | construction cost | re-derivation for a new target |
//! |---|---|---|---|
//! | `bfs` | none (breadth-first / Dijkstra) | 0 | nothing to do, 0 |
//! | `astar` | Manhattan distance (walls relaxed away) | 1 per target object | read the new target's cells, 1 per object |
//! | `altK` (`alt4`) | ALT over K landmarks, or Manhattan if larger | K landmark fields (1 per reachable cell each) + K per target object | K reads per object; the landmarks are reused |
//! | `cue` | the exact diamond field (the environment's cue) | 1 per reachable cell | grow the field from the new target, 1 per reachable cell |
//! | `cue-rR-nA` (`cue-r4`, `cue-n2`) | the cue read within radius R, off by up to A | 1 per cell within R | the same sensor for the new target |
//! | `tableT` (`table32`) | a value table learned from T LRTA* trials toward the target | every expansion of the trials | T new trials toward the new target |
//!
//! Retargeting without re-derivation keeps the heuristic as it is: `astar` keeps Manhattan distance
//! to the old target's cells, `alt` the old target's landmark distances, `cue` and `table` their
//! estimates of distance to the old target.

use std::sync::Arc;

use cruxlab_grid::{Level, ObjectKind};

use crate::heuristic::{Derived, Heuristic, Landmarks};
use crate::planner::Planner;

/// Lookahead (expansions per decision) of the trials a value table is learned from.
pub const TABLE_LOOKAHEAD: u64 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentKind {
    /// General search, no heuristic.
    Bfs,
    /// General search with a heuristic derived from the target by relaxing the walls.
    Astar,
    /// General search with landmark (ALT) lower bounds: target-agnostic fields built once per level.
    Alt { landmarks: u32 },
    /// Search specialised to diamonds through the cue they emit, read within `radius` steps (`None`:
    /// everywhere) and off by up to `noise` steps; `Cue { radius: None, noise: 0 }` is exact.
    Cue { radius: Option<u32>, noise: u32 },
    /// Search with a value table learned from `trials` trials toward its target.
    Table { trials: u32 },
}

impl AgentKind {
    /// The three base agents.
    pub const ALL: [AgentKind; 3] = [AgentKind::Bfs, AgentKind::Astar, AgentKind::CUE];
    /// The exact cue.
    pub const CUE: AgentKind = AgentKind::Cue {
        radius: None,
        noise: 0,
    };

    /// The agent's name as configs and the command line spell it (`alt4`, `cue-r4-n1`, `table32`).
    pub fn name(self) -> String {
        match self {
            AgentKind::Bfs => "bfs".into(),
            AgentKind::Astar => "astar".into(),
            AgentKind::Alt { landmarks } => format!("alt{landmarks}"),
            AgentKind::Cue { radius, noise } => {
                let mut s = String::from("cue");
                if let Some(r) = radius {
                    s += &format!("-r{r}");
                }
                if noise > 0 {
                    s += &format!("-n{noise}");
                }
                s
            }
            AgentKind::Table { trials } => format!("table{trials}"),
        }
    }

    /// The family: `bfs`, `astar`, `alt`, `cue` or `table`.
    pub fn family(self) -> &'static str {
        match self {
            AgentKind::Bfs => "bfs",
            AgentKind::Astar => "astar",
            AgentKind::Alt { .. } => "alt",
            AgentKind::Cue { .. } => "cue",
            AgentKind::Table { .. } => "table",
        }
    }

    /// Whether the heuristic never overestimates the distance to its own target.
    pub fn admissible(self) -> bool {
        !matches!(self, AgentKind::Cue { noise, .. } if noise > 0)
    }

    /// The heuristic this agent builds from nothing for `target` in `level`, and what building it
    /// costs.
    pub fn derive(self, level: &Level, target: ObjectKind) -> Derived {
        match self {
            AgentKind::Bfs => Derived {
                heuristic: Heuristic::Blind,
                cost: 0,
            },
            AgentKind::Astar => Heuristic::relaxed(level, target),
            AgentKind::Alt { landmarks } => {
                let built = Arc::new(Landmarks::select(level, landmarks as usize));
                let mut derived = Heuristic::alt(&built, level, target);
                derived.cost += built.cost();
                derived
            }
            AgentKind::Cue { radius, noise } => {
                Heuristic::sensor(level, target, radius.unwrap_or(u32::MAX), noise)
            }
            AgentKind::Table { trials } => {
                Heuristic::learned(level, target, trials, TABLE_LOOKAHEAD)
            }
        }
    }

    /// The heuristic for a new `target`, derived again from what the agent holds (`current`): ALT
    /// reuses its landmarks; every other agent builds its heuristic again.
    pub fn rederive(self, current: &Heuristic, level: &Level, target: ObjectKind) -> Derived {
        match (self, current) {
            (AgentKind::Alt { .. }, Heuristic::Landmarks { landmarks, .. }) => {
                Heuristic::alt(landmarks, level, target)
            }
            _ => self.derive(level, target),
        }
    }

    /// A planner of this kind aimed at `target`.
    pub fn planner(self, level: &Level, target: ObjectKind, budget: Option<u64>) -> Planner {
        Planner::new(target, self.derive(level, target), budget)
    }

    /// Retarget `planner` (one of this kind) to `target`, re-deriving its heuristic and booking
    /// the cost.
    pub fn retarget(self, planner: &mut Planner, level: &Level, target: ObjectKind) {
        let derived = self.rederive(planner.heuristic(), level, target);
        planner.retarget_with(target, derived);
    }
}

impl std::fmt::Display for AgentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::str::FromStr for AgentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "unknown agent '{s}' (expected bfs, astar, altK for K landmarks (alt4), cue, \
                 cue-rR-nA for a cue read within R steps and off by up to A (cue-r4, cue-n2, \
                 cue-r4-n1), or tableT for a table learned from T trials (table32))"
            )
        };
        let number = |t: &str| -> Result<u32, String> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            t.parse().map_err(|_| bad())
        };
        match s {
            "bfs" => return Ok(AgentKind::Bfs),
            "astar" => return Ok(AgentKind::Astar),
            _ => {}
        }
        if let Some(k) = s.strip_prefix("alt") {
            let landmarks = number(k)?;
            if !(1..=64).contains(&landmarks) {
                return Err(format!("agent '{s}': an ALT agent needs 1 to 64 landmarks"));
            }
            return Ok(AgentKind::Alt { landmarks });
        }
        if let Some(t) = s.strip_prefix("table") {
            let trials = number(t)?;
            if trials > 100_000 {
                return Err(format!("agent '{s}': at most 100000 trials"));
            }
            return Ok(AgentKind::Table { trials });
        }
        if let Some(rest) = s.strip_prefix("cue") {
            let (mut radius, mut noise) = (None, 0);
            let mut parts = rest.split('-');
            if parts.next() != Some("") {
                return Err(bad());
            }
            let mut seen = String::new();
            for part in parts {
                if let Some(r) = part.strip_prefix('r')
                    && radius.is_none()
                    && noise == 0
                    && seen.is_empty()
                {
                    radius = Some(number(r)?);
                    seen.push('r');
                } else if let Some(a) = part.strip_prefix('n')
                    && !seen.contains('n')
                {
                    noise = number(a)?;
                    if noise == 0 {
                        return Err(format!("agent '{s}': write 'cue' for a cue without noise"));
                    }
                    seen.push('n');
                } else {
                    return Err(bad());
                }
            }
            if noise > 1000 {
                return Err(format!("agent '{s}': noise of at most 1000 steps"));
            }
            return Ok(AgentKind::Cue { radius, noise });
        }
        Err(bad())
    }
}

impl serde::Serialize for AgentKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> serde::Deserialize<'de> for AgentKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cruxlab_grid::DistanceField;

    #[test]
    fn names_round_trip() {
        for name in [
            "bfs",
            "astar",
            "alt1",
            "alt16",
            "cue",
            "cue-r4",
            "cue-n2",
            "cue-r4-n1",
            "table0",
            "table32",
        ] {
            let agent: AgentKind = name.parse().unwrap();
            assert_eq!(agent.name(), name);
        }
        for bad in [
            "",
            "alt",
            "alt0",
            "altx",
            "cue-",
            "cue-r",
            "cue-n0",
            "cue-n1-r4",
            "cue-r1-r2",
            "cuer4",
            "table",
            "table-1",
            "dfs",
        ] {
            assert!(bad.parse::<AgentKind>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn construction_costs_are_charged_by_hand() {
        // 7 floor cells in a U; cheese at the top right.
        let level = Level::parse("#####\n#A#C#\n#.#.#\n#...#\n#####\n").unwrap();
        let cost = |a: &str| {
            a.parse::<AgentKind>()
                .unwrap()
                .derive(&level, ObjectKind::Cheese)
                .cost
        };
        assert_eq!(cost("bfs"), 0);
        assert_eq!(cost("astar"), 1);
        assert_eq!(cost("cue"), 7);
        // Within 2 steps of the cheese: (1,3), (2,3), (3,3).
        assert_eq!(cost("cue-r2"), 3);
        // Two landmark fields of 7 cells each, then 2 reads for the one cheese.
        assert_eq!(cost("alt2"), 2 * 7 + 2);
        assert_eq!(cost("table0"), 0);
    }

    #[test]
    fn alt_retargets_by_reading_its_landmarks_again() {
        let level = Level::parse("#######\n#A...C#\n#.###.#\n#D....#\n#######\n").unwrap();
        let agent: AgentKind = "alt3".parse().unwrap();
        let mut planner = agent.planner(&level, ObjectKind::Diamond, None);
        let built = planner.compute().derivation;
        assert_eq!(built, 3 * level.floor_cells() as u64 + 3);
        agent.retarget(&mut planner, &level, ObjectKind::Cheese);
        assert_eq!(planner.compute().derivation - built, 3);
        // The re-derived heuristic bounds the distance to the cheese.
        let truth = DistanceField::from_sources(&level, level.positions_of(ObjectKind::Cheese));
        for i in 0..level.cells() {
            let p = level.pos(i);
            if let Some(t) = truth.get(p) {
                assert!(planner.heuristic().estimate(p) <= t);
            }
        }
        // A cue agent pays its field again.
        let cue = AgentKind::CUE;
        let mut planner = cue.planner(&level, ObjectKind::Diamond, None);
        cue.retarget(&mut planner, &level, ObjectKind::Cheese);
        assert_eq!(planner.compute().derivation, 2 * level.floor_cells() as u64);
    }
}
