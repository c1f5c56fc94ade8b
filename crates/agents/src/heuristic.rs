//! Heuristics: what a planner knows about distance to its goal before it searches, and what that
//! knowledge cost.
//!
//! Every heuristic is charged the compute its construction takes, in the planners' unit (node
//! expansions, or one table read where nothing is expanded), whoever pays it:
//! - [`Heuristic::Blind`] knows nothing (the search degenerates to breadth-first / Dijkstra); cost 0.
//! - [`Heuristic::Relaxed`] is the exact solution of a relaxed problem, the same maze with its walls
//!   removed, so it is the Manhattan distance to the nearest anchor. Deriving it for a new target
//!   means reading off the target's coordinates: one unit per anchor.
//! - [`Heuristic::Field`] is a breadth-first distance field grown from the target (the diamond cue
//!   the environment shows is one): exact, and charged one expansion per reachable floor cell, the
//!   cost of growing it, even where the environment grows it.
//! - [`Heuristic::Table`] is a per-cell table of estimates for one target: a cue read through a
//!   sensor of limited radius and with noise ([`Heuristic::sensor`]), or a value table learned from
//!   experience of that target alone ([`Heuristic::learned`]).
//! - [`Heuristic::Landmarks`] is the ALT heuristic (Goldberg & Harrelson 2005; on an undirected
//!   graph the same bound as Sturtevant et al.'s differential heuristics): breadth-first fields from
//!   a few landmark cells, grown once per level whatever the target, give by the triangle inequality
//!   the lower bound `|d(L, v) - d(L, t)|` on the distance from `v` to `t`; the estimate is the
//!   largest such bound, or Manhattan distance if larger, to the nearest target. Deriving it for a
//!   new target reads one stored distance per landmark and target object.
//!
//! A heuristic is an estimate for one target; when the target changes and nothing is re-derived, the
//! old estimate keeps pointing at the old target.

use std::sync::Arc;

use cruxlab_grid::{DistanceField, Level, ObjectKind, Pos};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::episode::play;
use crate::planner::Planner;

#[derive(Clone, Debug)]
pub enum Heuristic {
    Blind,
    Relaxed {
        anchors: Vec<Pos>,
    },
    Field(DistanceField),
    /// Row-major estimates over a level `width` cells wide.
    Table {
        width: usize,
        values: Vec<u32>,
    },
    /// ALT: the landmarks' fields (shared, target-agnostic) and, per target object, its position
    /// and its distance from every landmark.
    Landmarks {
        landmarks: Arc<Landmarks>,
        goals: Vec<(Pos, Vec<u32>)>,
    },
}

/// A heuristic for a target, and the compute spent deriving it.
#[derive(Clone, Debug)]
pub struct Derived {
    pub heuristic: Heuristic,
    pub cost: u64,
}

/// Landmark cells and their breadth-first distance fields over one level: the target-agnostic half
/// of the ALT heuristic, built once per level.
#[derive(Clone, Debug)]
pub struct Landmarks {
    cells: Vec<Pos>,
    fields: Vec<DistanceField>,
    /// Expansions spent growing the fields.
    cost: u64,
}

impl Landmarks {
    /// Up to `k` landmarks chosen by farthest selection (Goldberg & Harrelson 2005): the first floor
    /// cell in row-major order (a corner in the generated levels), then repeatedly the floor cell
    /// whose distance to the nearest landmark chosen so far is largest (ties to the lower index;
    /// cells no landmark reaches are never chosen). Each landmark's field costs one expansion per
    /// cell it reaches; selection reads those fields and costs nothing more.
    pub fn select(level: &Level, k: usize) -> Landmarks {
        let mut cells = Vec::new();
        let mut fields: Vec<DistanceField> = Vec::new();
        let first = (0..level.cells())
            .map(|i| level.pos(i))
            .find(|&p| !level.is_wall(p));
        let Some(first) = first else {
            return Landmarks {
                cells,
                fields,
                cost: 0,
            };
        };
        let mut next = Some(first);
        while let Some(cell) = next {
            let field = DistanceField::from_sources(level, [cell]);
            cells.push(cell);
            fields.push(field);
            if cells.len() >= k {
                break;
            }
            // The farthest cell from the chosen set, among cells the set reaches.
            next = None;
            let mut best = 0;
            for i in 0..level.cells() {
                let p = level.pos(i);
                let nearest = fields.iter().filter_map(|f| f.get(p)).min();
                if let Some(d) = nearest
                    && d > best
                {
                    best = d;
                    next = Some(p);
                }
            }
        }
        let cost = fields.iter().map(DistanceField::expansions).sum();
        Landmarks {
            cells,
            fields,
            cost,
        }
    }

    pub fn cells(&self) -> &[Pos] {
        &self.cells
    }

    /// Expansions spent growing the landmark fields.
    pub fn cost(&self) -> u64 {
        self.cost
    }

    /// Every landmark's distance to `pos` (`u32::MAX` where a landmark does not reach it).
    fn distances(&self, pos: Pos) -> Vec<u32> {
        self.fields
            .iter()
            .map(|f| f.get(pos).unwrap_or(DistanceField::UNREACHABLE))
            .collect()
    }

    /// The landmark lower bound on the distance between `pos` and a cell whose landmark distances
    /// are `goal`: the largest `|d(L, pos) - d(L, goal)|` over landmarks reaching both.
    fn lower_bound(&self, pos: Pos, goal: &[u32]) -> u32 {
        self.fields
            .iter()
            .zip(goal)
            .filter_map(|(f, &dg)| {
                let dv = f.get(pos)?;
                (dg != DistanceField::UNREACHABLE).then(|| dv.abs_diff(dg))
            })
            .max()
            .unwrap_or(0)
    }
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

    /// ALT for `target` over already built `landmarks`: one read per landmark and target object.
    pub fn alt(landmarks: &Arc<Landmarks>, level: &Level, target: ObjectKind) -> Derived {
        let goals: Vec<(Pos, Vec<u32>)> = level
            .positions_of(target)
            .map(|t| (t, landmarks.distances(t)))
            .collect();
        let cost = (goals.len() * landmarks.cells.len()) as u64;
        Derived {
            heuristic: Heuristic::Landmarks {
                landmarks: Arc::clone(landmarks),
                goals,
            },
            cost,
        }
    }

    /// A cue for `target` read through a sensor: within `radius` steps of the target the reading is
    /// the true distance off by a uniform integer in `[-noise, noise]` (fixed per cell and level,
    /// never below 0); beyond it, the sensor says only "farther than `radius`" and reads
    /// `radius + 1`. Charged the expansions of a breadth-first field grown to `radius` (the cells
    /// within it). Without noise it is admissible. `radius = u32::MAX` is unlimited.
    pub fn sensor(level: &Level, target: ObjectKind, radius: u32, noise: u32) -> Derived {
        let field = DistanceField::from_sources(level, level.positions_of(target));
        let mut rng = ChaCha8Rng::seed_from_u64(fingerprint(level, target) ^ 0x5e45_0a11);
        let mut cost = 0;
        let values = field
            .as_slice()
            .iter()
            .map(|&d| {
                // One draw per cell whatever its distance, so the noise at a cell does not depend
                // on the radius.
                let shift = rng.random_range(0..=2 * noise as i64) - noise as i64;
                if d == DistanceField::UNREACHABLE {
                    UNREACHABLE_ESTIMATE
                } else if d <= radius {
                    cost += 1;
                    (d as i64 + shift).max(0) as u32
                } else {
                    radius.saturating_add(1)
                }
            })
            .collect();
        Derived {
            heuristic: Heuristic::Table {
                width: level.width(),
                values,
            },
            cost,
        }
    }

    /// A value table learned from experience of `target` alone: `trials` episodes of LSS-LRTA*
    /// (lookahead `lookahead` expansions per decision, starting from a blind heuristic) from random
    /// reachable start cells, the learned estimates carried from one trial to the next (Korf's
    /// learning over trials). The table holds what was learned (0 where nothing was), so it is
    /// admissible; the cost is every expansion of every trial. The starts are drawn from a seed fixed
    /// by the level and the target.
    pub fn learned(level: &Level, target: ObjectKind, trials: u32, lookahead: u64) -> Derived {
        let field = DistanceField::from_sources(level, level.positions_of(target));
        let starts: Vec<Pos> = (0..level.cells())
            .map(|i| level.pos(i))
            .filter(|&p| field.get(p).is_some_and(|d| d > 0))
            .collect();
        let mut planner = Planner::new(
            target,
            Derived {
                heuristic: Heuristic::Blind,
                cost: 0,
            },
            Some(lookahead.max(1)),
        );
        planner.keep_learning(true);
        let mut rng = ChaCha8Rng::seed_from_u64(fingerprint(level, target));
        let mut practice = level.clone();
        let max_steps = 2 * level.cells() as u32;
        if !starts.is_empty() {
            for _ in 0..trials {
                practice.set_agent(starts[rng.random_range(0..starts.len())]);
                play(&practice, target, &mut planner, max_steps);
            }
        }
        let values = planner.learned_values(level);
        Derived {
            heuristic: Heuristic::Table {
                width: level.width(),
                values,
            },
            cost: planner.compute().expansions,
        }
    }

    /// The estimate at `pos`. Unreachable cells of a field give a large finite value so that search
    /// still terminates.
    pub fn estimate(&self, pos: Pos) -> u32 {
        match self {
            Heuristic::Blind => 0,
            Heuristic::Relaxed { anchors } => anchors
                .iter()
                .map(|a| a.manhattan(pos) as u32)
                .min()
                .unwrap_or(0),
            Heuristic::Field(field) => field.get(pos).unwrap_or(UNREACHABLE_ESTIMATE),
            Heuristic::Table { width, values } => values
                .get(pos.row * width + pos.col)
                .copied()
                .unwrap_or(UNREACHABLE_ESTIMATE),
            Heuristic::Landmarks { landmarks, goals } => goals
                .iter()
                .map(|(t, dt)| landmarks.lower_bound(pos, dt).max(t.manhattan(pos) as u32))
                .min()
                .unwrap_or(0),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Heuristic::Blind => "blind",
            Heuristic::Relaxed { .. } => "relaxed",
            Heuristic::Field(_) => "field",
            Heuristic::Table { .. } => "table",
            Heuristic::Landmarks { .. } => "landmarks",
        }
    }
}

/// Estimate given to cells a distance field does not reach.
pub const UNREACHABLE_ESTIMATE: u32 = 1 << 20;

/// A seed fixed by a level's walls and objects and a target kind (not by the agent's cell), so a
/// heuristic built with randomness is the same whenever the same level and target are given.
fn fingerprint(level: &Level, target: ObjectKind) -> u64 {
    let mut h = splitmix(level.width() as u64 ^ ((level.height() as u64) << 32));
    for (i, &w) in level.walls().iter().enumerate() {
        if w {
            h = splitmix(h ^ i as u64);
        }
    }
    for o in level.objects() {
        h = splitmix(h ^ ((o.kind.index() as u64) << 48) ^ level.index(o.pos) as u64);
    }
    splitmix(h ^ target.index() as u64)
}

/// The SplitMix64 finaliser (Steele, Lea & Flood 2014).
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A corridor: every cell lies on one line, so one landmark at an end makes ALT exact.
    const CORRIDOR: &str = "#########\n#A.....C#\n#########\n";

    #[test]
    fn relaxed_is_manhattan_to_nearest_anchor() {
        let level = Level::parse("#######\n#A...C#\n#.###.#\n#C....#\n#######\n").unwrap();
        let d = Heuristic::relaxed(&level, ObjectKind::Cheese);
        assert_eq!(d.cost, 2);
        assert_eq!(d.heuristic.estimate(Pos::new(1, 1)), 2);
        assert_eq!(d.heuristic.estimate(Pos::new(1, 4)), 1);
    }

    #[test]
    fn field_costs_one_expansion_per_reachable_cell() {
        let level = Level::parse("#####\n#A.C#\n#.#.#\n#####\n").unwrap();
        let d = Heuristic::field(&level, ObjectKind::Cheese);
        assert_eq!(d.cost, level.floor_cells() as u64);
        assert_eq!(d.heuristic.estimate(Pos::new(2, 1)), 3);
    }

    #[test]
    fn alt_is_exact_on_a_corridor_and_costs_its_fields_once() {
        let level = Level::parse(CORRIDOR).unwrap();
        let landmarks = Arc::new(Landmarks::select(&level, 2));
        // Farthest selection: the first floor cell (1,1), then the far end (1,7).
        assert_eq!(landmarks.cells(), [Pos::new(1, 1), Pos::new(1, 7)]);
        assert_eq!(landmarks.cost(), 2 * 7);
        let d = Heuristic::alt(&landmarks, &level, ObjectKind::Cheese);
        assert_eq!(d.cost, 2, "one read per landmark and target object");
        for col in 1..=7 {
            assert_eq!(d.heuristic.estimate(Pos::new(1, col)), 7 - col as u32);
        }
    }

    #[test]
    fn alt_bound_on_a_u_shaped_level_by_hand() {
        // A U: the only way from (1,1) to (1,3) is down, across and up (6 steps); Manhattan says 2.
        let level = Level::parse("#####\n#A#C#\n#.#.#\n#...#\n#####\n").unwrap();
        let landmarks = Arc::new(Landmarks::select(&level, 1));
        assert_eq!(landmarks.cells(), [Pos::new(1, 1)]);
        let d = Heuristic::alt(&landmarks, &level, ObjectKind::Cheese);
        // d(L, cheese) = 6. From (2,1), d(L, .) = 1, so the bound is |1 - 6| = 5, the true
        // distance ((2,1) -> (3,1) -> (3,2) -> (3,3) -> (2,3) -> (1,3)); Manhattan says 3.
        assert_eq!(d.heuristic.estimate(Pos::new(2, 1)), 5);
        // From the landmark itself the bound is d(L, cheese) = 6, exact, while Manhattan says 2.
        assert_eq!(d.heuristic.estimate(Pos::new(1, 1)), 6);
        // At (3,2), the bottom of the U: |3 - 6| = 3 = the true distance; Manhattan is also 3.
        assert_eq!(d.heuristic.estimate(Pos::new(3, 2)), 3);
    }

    #[test]
    fn sensor_reads_exact_within_its_radius_and_a_floor_beyond() {
        let level = Level::parse(CORRIDOR).unwrap();
        let d = Heuristic::sensor(&level, ObjectKind::Cheese, 2, 0);
        // Cells within 2 steps of the cheese: distances 0, 1, 2.
        assert_eq!(d.cost, 3);
        assert_eq!(d.heuristic.estimate(Pos::new(1, 6)), 1);
        assert_eq!(d.heuristic.estimate(Pos::new(1, 5)), 2);
        assert_eq!(d.heuristic.estimate(Pos::new(1, 1)), 3);
        let exact = Heuristic::sensor(&level, ObjectKind::Cheese, u32::MAX, 0);
        assert_eq!(exact.cost, 7);
        assert_eq!(exact.heuristic.estimate(Pos::new(1, 1)), 6);
    }

    #[test]
    fn sensor_noise_stays_within_its_amplitude() {
        let level = Level::parse(CORRIDOR).unwrap();
        let d = Heuristic::sensor(&level, ObjectKind::Cheese, u32::MAX, 2);
        let again = Heuristic::sensor(&level, ObjectKind::Cheese, u32::MAX, 2);
        let mut off = 0;
        for col in 1..=7 {
            let truth = 7 - col as i64;
            let read = d.heuristic.estimate(Pos::new(1, col)) as i64;
            assert!((read - truth).abs() <= 2 && read >= 0);
            assert_eq!(read, again.heuristic.estimate(Pos::new(1, col)) as i64);
            off += (read != truth) as u32;
        }
        assert!(off > 0, "noise of amplitude 2 left every reading exact");
    }

    #[test]
    fn learned_table_is_paid_for_and_never_overestimates() {
        let level =
            Level::parse("#########\n#A.....C#\n#.#####.#\n#...D...#\n#########\n").unwrap();
        let truth = DistanceField::from_sources(&level, level.positions_of(ObjectKind::Cheese));
        let none = Heuristic::learned(&level, ObjectKind::Cheese, 0, 1);
        assert_eq!(none.cost, 0);
        let d = Heuristic::learned(&level, ObjectKind::Cheese, 20, 1);
        assert!(d.cost > 0);
        let mut informed = 0;
        for i in 0..level.cells() {
            let p = level.pos(i);
            if let Some(t) = truth.get(p) {
                let h = d.heuristic.estimate(p);
                assert!(h <= t, "{p}: {h} > {t}");
                informed += (h > 0) as u32;
            }
        }
        assert!(informed > 0, "twenty trials learned nothing");
    }
}
