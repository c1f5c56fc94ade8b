//! The demonstrator the imitator watches, and the data it produces.
//!
//! The demonstrator is an optimiser: Boltzmann-rational over its moves, scoring each by minus
//! the true distance to its goal after the move, with a temperature (Ziebart et al. 2008's
//! maximum-entropy model of a noisy planner). With `quirks`, it also has habits: on each of a few
//! cells it always takes one fixed move. Its exact program is then in the language but long
//! (`quirks` nested `(if (at X) (move D) ...)` around a search, 14 bits per habit on 7x7 rooms):
//! the pseudo-realisable case. Without quirks, its zero-temperature limit is exactly the 5-bit
//! `(search bfs G)`.

use crate::language::{Cond, Grammar, Method, Program};
use crate::task::{Features, Goal, Room, Training, next};
use cruxlab_grid::{Action, Pos};
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
pub struct Demonstrator {
    pub goal: Goal,
    pub temperature: f64,
    /// Cells (row-major index) on which it always takes the given move.
    pub quirks: Vec<(u16, Action)>,
}

impl Demonstrator {
    /// The probability of each move (in [`Action::MOVES`] order) at `pos`.
    pub fn policy(&self, room: &Room, pos: Pos) -> [f64; 4] {
        let cell = room.level.index(pos) as u16;
        if let Some(&(_, a)) = self.quirks.iter().find(|(c, _)| *c == cell) {
            let mut p = [0.0; 4];
            p[a.index()] = 1.0;
            return p;
        }
        let field = &room.fields[self.goal.index()];
        let q = Action::MOVES.map(|a| {
            -(field
                .get(next(&room.level, pos, a))
                .expect("rooms are connected") as f64)
        });
        let best = q.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let w = q.map(|x| ((x - best) / self.temperature.max(1e-9)).exp());
        let z: f64 = w.iter().sum();
        w.map(|x| x / z)
    }

    /// Its exact program at temperature zero: habits first, then a breadth-first search.
    pub fn program(&self) -> Program {
        self.quirks.iter().rev().fold(
            Program::Search(Method::Bfs, self.goal),
            |rest, &(cell, a)| {
                Program::If(Cond::At(cell), Box::new(Program::Move(a)), Box::new(rest))
            },
        )
    }

    /// Its exact program's description length.
    pub fn length(&self, grammar: &Grammar) -> u32 {
        grammar.length(&self.program())
    }
}

fn sample(p: &[f64; 4], rng: &mut impl Rng) -> Action {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for (i, &x) in p.iter().enumerate() {
        acc += x;
        if u < acc {
            return Action::MOVES[i];
        }
    }
    Action::MOVES[3]
}

/// What the imitator is given and asked: demonstrated states and moves, then test states with the
/// demonstrator's true move distribution there.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Features of the training states in the order demonstrated.
    pub train: Vec<Features>,
    /// The demonstrated move at each training state.
    pub actions: Vec<Action>,
    pub test: Vec<Features>,
    /// The demonstrator's move distribution at each test state.
    pub test_policy: Vec<[f64; 4]>,
    pub grammar: Grammar,
}

/// How to draw a dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Protocol {
    pub size: usize,
    pub density: f64,
    pub training: Training,
    /// Training transitions to record.
    pub transitions: usize,
    /// Steps per episode before the demonstrator gives up and a new room is drawn.
    pub episode_steps: usize,
    pub test_levels: usize,
}

impl Dataset {
    pub fn draw(protocol: &Protocol, demonstrator: &Demonstrator, rng: &mut impl Rng) -> Dataset {
        let confounded = protocol.training == Training::Confounded;
        let mut train = Vec::new();
        let mut actions = Vec::new();
        let mut cells = 0;
        while train.len() < protocol.transitions {
            let room = Room::generate(protocol.size, protocol.density, confounded, rng);
            cells = room.level.cells();
            let starts = room.floor_except(demonstrator.goal);
            let mut pos = starts[rng.random_range(0..starts.len())];
            let goal = demonstrator.goal.position(&room.level);
            for _ in 0..protocol.episode_steps {
                if pos == goal || train.len() == protocol.transitions {
                    break;
                }
                let a = sample(&demonstrator.policy(&room, pos), rng);
                train.push(room.features(pos));
                actions.push(a);
                pos = next(&room.level, pos, a);
            }
        }
        let mut test = Vec::new();
        let mut test_policy = Vec::new();
        for _ in 0..protocol.test_levels {
            let room = Room::generate(protocol.size, protocol.density, false, rng);
            cells = room.level.cells();
            for pos in room.floor_except(demonstrator.goal) {
                test.push(room.features(pos));
                test_policy.push(demonstrator.policy(&room, pos));
            }
        }
        Dataset {
            train,
            actions,
            test,
            test_policy,
            grammar: Grammar::for_cells(cells.max(2)),
        }
    }

    /// The first `n` training states, then every test state: what the enumerator runs programs on.
    pub fn states(&self, n: usize) -> Vec<Features> {
        let mut s = self.train[..n].to_vec();
        s.extend_from_slice(&self.test);
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_cold_demonstrator_is_its_program() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let room = Room::generate(7, 0.2, true, &mut rng);
        let d = Demonstrator {
            goal: Goal::Diamond,
            temperature: 1e-6,
            quirks: vec![(8, Action::Down)],
        };
        let program = d.program();
        assert_eq!(
            program.to_string(),
            "(if (at 8) (move down) (search bfs diamond))"
        );
        assert_eq!(d.length(&Grammar::for_cells(49)), 2 + 8 + 4 + 5);
        for pos in room.floor_except(Goal::Diamond) {
            let p = d.policy(&room, pos);
            let (moves, _) = program.run(&room.features(pos));
            for a in Action::MOVES {
                let endorsed = moves & crate::task::bit(a) != 0;
                let share = 1.0 / moves.count_ones() as f64;
                assert!((p[a.index()] - if endorsed { share } else { 0.0 }).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn datasets_are_a_function_of_the_seed() {
        let protocol = Protocol {
            size: 7,
            density: 0.2,
            training: Training::Confounded,
            transitions: 30,
            episode_steps: 40,
            test_levels: 2,
        };
        let d = Demonstrator {
            goal: Goal::Diamond,
            temperature: 0.3,
            quirks: vec![],
        };
        let a = Dataset::draw(&protocol, &d, &mut ChaCha8Rng::seed_from_u64(5));
        let b = Dataset::draw(&protocol, &d, &mut ChaCha8Rng::seed_from_u64(5));
        assert_eq!(a.train, b.train);
        assert_eq!(a.actions, b.actions);
        assert_eq!(a.train.len(), 30);
        assert!(a.test.len() > 20);
        assert_eq!(a.states(4).len(), 4 + a.test.len());
    }
}
