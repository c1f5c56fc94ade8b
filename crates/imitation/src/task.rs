//! The task an imitator watches: rooms holding a diamond, cheese and a key, and the states it is
//! asked about, with what each primitive of the policy language reads there.
//!
//! Levels are the grid crate's obstacle rooms. Four *goals* can be named by a program: the three
//! objects and the room's top-right floor corner. In *confounded* training levels the diamond
//! always sits in that corner (as the coin sits at the end of every CoinRun level), so "the
//! diamond" and "the corner" are two goals that agree on every training state; in *separated*
//! training levels the diamond is anywhere. Test levels always put the diamond away from the
//! corner, where the two goals disagree.

use cruxlab_grid::{Action, DistanceField, Level, ObjectKind, Pos, rooms};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// What a program can name as the target of a reflex or a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    Diamond,
    Cheese,
    Key,
    /// The top-right floor cell of the room (row 1, column size - 2).
    Corner,
}

impl Goal {
    pub const ALL: [Goal; 4] = [Goal::Diamond, Goal::Cheese, Goal::Key, Goal::Corner];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Goal::Diamond => "diamond",
            Goal::Cheese => "cheese",
            Goal::Key => "key",
            Goal::Corner => "corner",
        }
    }

    /// Where the goal is in `level`.
    pub fn position(self, level: &Level) -> Pos {
        let object = |kind| {
            level
                .first_of(kind)
                .expect("task levels hold one of each object")
        };
        match self {
            Goal::Diamond => object(ObjectKind::Diamond),
            Goal::Cheese => object(ObjectKind::Cheese),
            Goal::Key => object(ObjectKind::Key),
            Goal::Corner => corner(level),
        }
    }
}

/// The top-right floor cell inside the border wall.
pub fn corner(level: &Level) -> Pos {
    Pos::new(1, level.width() - 2)
}

/// Where the diamond lies in training levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Training {
    /// Always in the corner: the diamond and the corner agree on every training state.
    Confounded,
    /// Anywhere: the training data separate the two goals.
    Separated,
}

/// Set of moves as a 4-bit mask over [`Action::MOVES`] (up, down, left, right).
pub type Moves = u8;
/// Every move: what a primitive answers when it has no preference.
pub const ALL_MOVES: Moves = 0b1111;

pub fn bit(a: Action) -> Moves {
    1 << a.index()
}

/// Where a move leads: walls (and the border) leave the agent in place.
pub fn next(level: &Level, pos: Pos, a: Action) -> Pos {
    match a.apply(pos) {
        Some(p) if level.in_bounds(p) && !level.is_wall(p) => p,
        _ => pos,
    }
}

/// Steps of the brute-force planner: it tries every move sequence of length 1, 2, ... in turn,
/// simulating each, until it has tried all sequences of the shortest length that reaches the goal
/// (so that it knows every optimal first move): sum over k = 1..d of k 4^k. At the goal, 1.
pub fn brute_force_steps(d: u32) -> u64 {
    (1..=d as u64)
        .map(|k| k * 4u64.pow(k as u32))
        .sum::<u64>()
        .max(1)
}

/// What the language's primitives read at one state, computed once per state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Features {
    /// Moves that bump into a wall.
    pub blocked: Moves,
    /// Per goal, the directions in which it lies (row or column strictly beyond the agent's).
    pub sees: [Moves; 4],
    /// Per goal, the moves that shorten the Manhattan distance (walls ignored): the reflex.
    pub toward: [Moves; 4],
    /// Per goal, the moves that shorten the true (breadth-first) distance: what a search returns.
    pub plan: [Moves; 4],
    /// Per goal, the cells a breadth-first search from the agent pops before it pops the goal:
    /// every cell nearer than the goal, plus the goal.
    pub plan_steps: [u64; 4],
    /// Per goal, [`brute_force_steps`] of the true distance.
    pub brute_steps: [u64; 4],
    /// The agent's cell, row-major.
    pub cell: u16,
}

impl Features {
    pub fn at(level: &Level, fields: &[DistanceField; 4], pos: Pos) -> Features {
        let from_agent = DistanceField::from_sources(level, [pos]);
        let mut f = Features {
            blocked: 0,
            sees: [0; 4],
            toward: [0; 4],
            plan: [0; 4],
            plan_steps: [0; 4],
            brute_steps: [0; 4],
            cell: level.index(pos) as u16,
        };
        for a in Action::MOVES {
            if next(level, pos, a) == pos {
                f.blocked |= bit(a);
            }
        }
        for g in Goal::ALL {
            let i = g.index();
            let target = g.position(level);
            let d = fields[i].get(pos).expect("rooms are connected");
            for a in Action::MOVES {
                let ahead = |p: Pos, q: Pos| match a {
                    Action::Up => q.row < p.row,
                    Action::Down => q.row > p.row,
                    Action::Left => q.col < p.col,
                    Action::Right => q.col > p.col,
                };
                if ahead(pos, target) {
                    f.sees[i] |= bit(a);
                }
                if fields[i].get(next(level, pos, a)).expect("connected") < d {
                    f.plan[i] |= bit(a);
                }
            }
            // Walls ignored: the moves whose direction reduces the Manhattan distance are exactly
            // the directions in which the target lies.
            f.toward[i] = if f.sees[i] == 0 { ALL_MOVES } else { f.sees[i] };
            if f.plan[i] == 0 {
                f.plan[i] = ALL_MOVES;
            }
            let nearer = from_agent
                .as_slice()
                .iter()
                .filter(|&&x| x != DistanceField::UNREACHABLE && x < d)
                .count() as u64;
            f.plan_steps[i] = nearer + 1;
            f.brute_steps[i] = brute_force_steps(d);
        }
        f
    }
}

/// A room with its four goals' distance fields.
#[derive(Clone, Debug)]
pub struct Room {
    pub level: Level,
    pub fields: [DistanceField; 4],
}

impl Room {
    /// A `size x size` obstacle room (corner kept floor) with the diamond in the corner when
    /// `diamond_in_corner`, else on another random floor cell; cheese and key on random free cells.
    pub fn generate(
        size: usize,
        density: f64,
        diamond_in_corner: bool,
        rng: &mut impl Rng,
    ) -> Room {
        let mut level = loop {
            let level = rooms(size, density, rng);
            if !level.is_wall(corner(&level)) {
                break level;
            }
        };
        let c = corner(&level);
        let mut free: Vec<Pos> = (0..level.cells())
            .map(|i| level.pos(i))
            .filter(|&p| !level.is_wall(p) && p != c)
            .collect();
        let mut draw = |rng: &mut dyn rand::RngCore| {
            let k = rng.random_range(0..free.len());
            free.swap_remove(k)
        };
        let diamond = if diamond_in_corner { c } else { draw(rng) };
        level.place(ObjectKind::Diamond, diamond);
        let cheese = draw(rng);
        level.place(ObjectKind::Cheese, cheese);
        let key = draw(rng);
        level.place(ObjectKind::Key, key);
        let fields = Goal::ALL.map(|g| DistanceField::from_sources(&level, [g.position(&level)]));
        Room { level, fields }
    }

    pub fn features(&self, pos: Pos) -> Features {
        Features::at(&self.level, &self.fields, pos)
    }

    /// Floor cells other than `goal`'s.
    pub fn floor_except(&self, goal: Goal) -> Vec<Pos> {
        let g = goal.position(&self.level);
        (0..self.level.cells())
            .map(|i| self.level.pos(i))
            .filter(|&p| !self.level.is_wall(p) && p != g)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn brute_force_steps_by_hand() {
        assert_eq!(brute_force_steps(0), 1);
        assert_eq!(brute_force_steps(1), 4);
        // 1*4 + 2*16 + 3*64 = 228.
        assert_eq!(brute_force_steps(3), 228);
    }

    /// The brute-force planner, run for real: its first moves are the search's.
    fn brute_first_moves(level: &Level, from: Pos, target: Pos) -> Moves {
        if from == target {
            return ALL_MOVES;
        }
        for len in 1..=10u32 {
            let mut found = 0;
            for code in 0..4u32.pow(len) {
                let (mut p, mut c, mut first) = (from, code, None);
                for _ in 0..len {
                    let a = Action::MOVES[(c % 4) as usize];
                    first.get_or_insert(a);
                    c /= 4;
                    p = next(level, p, a);
                    if p == target {
                        break;
                    }
                }
                // Only sequences whose last step reaches the target count as length `len`.
                if p == target {
                    found |= bit(first.unwrap());
                }
            }
            if found != 0 {
                return found;
            }
        }
        unreachable!("targets are within 10 steps in 5x5 rooms")
    }

    #[test]
    fn search_returns_the_first_moves_of_every_shortest_path() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..5 {
            let room = Room::generate(5, 0.3, false, &mut rng);
            for pos in room.floor_except(Goal::Key) {
                let f = room.features(pos);
                let target = Goal::Key.position(&room.level);
                assert_eq!(
                    f.plan[Goal::Key.index()],
                    brute_first_moves(&room.level, pos, target)
                );
            }
        }
    }

    #[test]
    fn confounded_rooms_put_the_diamond_in_the_corner() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..10 {
            let room = Room::generate(7, 0.2, true, &mut rng);
            assert_eq!(Goal::Diamond.position(&room.level), corner(&room.level));
            let apart = Room::generate(7, 0.2, false, &mut rng);
            assert_ne!(Goal::Diamond.position(&apart.level), corner(&apart.level));
        }
    }
}
