//! Heuristics: what a planner knows about distance to its goal before it searches.
//!
//! Each heuristic is tied to a target by how it was obtained:
//! - [`Heuristic::Blind`] knows nothing (the search degenerates to breadth-first / Dijkstra);
//! - [`Heuristic::Relaxed`] is the exact solution of a relaxed problem, the same maze with its walls
//!   removed, so it is the Manhattan distance to the nearest anchor. Deriving it for a new target
//!   means reading off the target's coordinates: one unit of compute per anchor.
//! - [`Heuristic::Cue`] reads the environment's cue field, which only the cue-source kind (diamonds)
//!   emits. It is accurate and free, but only for that kind.
//! - [`Heuristic::Field`] is a distance field the agent grew itself by breadth-first search from the
//!   target: as accurate as the cue, paid for with one expansion per reachable floor cell.
//!
//! A heuristic is an estimate for one target; when the target changes and nothing is re-derived, the
//! old estimate keeps pointing at the old target.

use cruxlab_grid::{DistanceField, Level, ObjectKind, Pos};

#[derive(Clone, Debug)]
pub enum Heuristic {
    Blind,
    Relaxed { anchors: Vec<Pos> },
    Cue,
    Field(DistanceField),
}

/// A heuristic for a target, and the compute spent deriving it.
#[derive(Clone, Debug)]
pub struct Derived {
    pub heuristic: Heuristic,
    pub cost: u64,
}

impl Heuristic {
    /// The relaxation heuristic for `target` in `level`: Manhattan distance to the nearest object.
    pub fn relaxed(level: &Level, target: ObjectKind) -> Derived {
        let anchors: Vec<Pos> = level.positions_of(target).collect();
        let cost = anchors.len() as u64;
        Derived {
            heuristic: Heuristic::Relaxed { anchors },
            cost,
        }
    }

    /// A breadth-first distance field grown from every object of `target`.
    pub fn field(level: &Level, target: ObjectKind) -> Derived {
        let field = DistanceField::from_sources(level, level.positions_of(target));
        let cost = field.expansions();
        Derived {
            heuristic: Heuristic::Field(field),
            cost,
        }
    }

    /// The estimate at `pos`. `cue` is the environment's cue field. Unreachable cells of a field give
    /// a large finite value so that search still terminates.
    pub fn estimate(&self, pos: Pos, cue: &DistanceField) -> u32 {
        match self {
            Heuristic::Blind => 0,
            Heuristic::Relaxed { anchors } => anchors
                .iter()
                .map(|a| a.manhattan(pos) as u32)
                .min()
                .unwrap_or(0),
            Heuristic::Cue => cue.get(pos).unwrap_or(UNREACHABLE_ESTIMATE),
            Heuristic::Field(field) => field.get(pos).unwrap_or(UNREACHABLE_ESTIMATE),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Heuristic::Blind => "blind",
            Heuristic::Relaxed { .. } => "relaxed",
            Heuristic::Cue => "cue",
            Heuristic::Field(_) => "field",
        }
    }
}

/// Estimate given to cells a distance field does not reach.
pub const UNREACHABLE_ESTIMATE: u32 = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxed_is_manhattan_to_nearest_anchor() {
        let level = Level::parse("#######\n#A...C#\n#.###.#\n#C....#\n#######\n").unwrap();
        let d = Heuristic::relaxed(&level, ObjectKind::Cheese);
        assert_eq!(d.cost, 2);
        let cue = DistanceField::from_sources(&level, []);
        assert_eq!(d.heuristic.estimate(Pos::new(1, 1), &cue), 2);
        assert_eq!(d.heuristic.estimate(Pos::new(1, 4), &cue), 1);
    }

    #[test]
    fn field_costs_one_expansion_per_reachable_cell() {
        let level = Level::parse("#####\n#A.C#\n#.#.#\n#####\n").unwrap();
        let d = Heuristic::field(&level, ObjectKind::Cheese);
        assert_eq!(d.cost, level.floor_cells() as u64);
        let cue = DistanceField::from_sources(&level, []);
        assert_eq!(d.heuristic.estimate(Pos::new(2, 1), &cue), 3);
    }
}
