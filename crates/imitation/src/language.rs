//! The policy language: programs that map a state to the set of moves they endorse.
//!
//! ```text
//! program ::= (move D)            a fixed move                       2 + 2 bits
//!           | (toward G)          the reflex: shorten Manhattan
//!                                 distance to G, walls ignored       2 + 2 bits
//!           | (search M G)        the moves that begin a shortest
//!                                 path to G; M = bfs | brute         2 + 1 + 2 bits
//!           | (if C P P)                                             2 + |C| + |P| + |P| bits
//! cond    ::= (blocked D)         a wall lies in direction D         2 + 2 bits
//!           | (sees G D)          G lies in direction D              2 + 2 + 2 bits
//!           | (at X)              the agent stands on cell X         2 + ceil(log2 cells) bits
//! ```
//!
//! Lengths are the code lengths of a prefix code (a 2-bit tag per node, then its fields), so
//! 2^-length sums to at most 1 over all programs (Kraft): the fourth condition tag is unused.
//! `search bfs` and `search brute` endorse the same moves; they differ in run time, which the
//! interpreter charges as the algorithm would spend it (breadth-first expansions, or every move
//! sequence up to the goal's distance, [`crate::task::brute_force_steps`]). `move`, `toward`
//! and every condition cost one step; `if` costs one step plus its condition and the branch taken.
//!
//! Families: a program with no `search` is a *reflex* (no `at`) or a *lookup* (some `at`); one
//! that searches only for the demonstrator's goal is *search-goal*, only for other goals
//! *search-other*, for both *mixed*.

use crate::task::{Features, Goal, Moves, bit};
use cruxlab_grid::Action;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How a search finds its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// Breadth-first search from the agent.
    Bfs,
    /// Every move sequence in turn, shortest first.
    Brute,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    Blocked(Action),
    Sees(Goal, Action),
    At(u16),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Program {
    Move(Action),
    Toward(Goal),
    Search(Method, Goal),
    If(Cond, Box<Program>, Box<Program>),
}

/// Field widths of the code; only `at` depends on the levels (their cell count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grammar {
    pub at_bits: u32,
    pub cells: u16,
}

impl Grammar {
    pub const TAG: u32 = 2;
    pub const MOVE: u32 = 4;
    pub const TOWARD: u32 = 4;
    pub const SEARCH: u32 = 5;
    pub const BLOCKED: u32 = 4;
    pub const SEES: u32 = 6;

    /// The grammar for levels of `cells` cells.
    pub fn for_cells(cells: usize) -> Grammar {
        assert!((2..=u16::MAX as usize).contains(&cells));
        Grammar {
            at_bits: usize::BITS - (cells - 1).leading_zeros(),
            cells: cells as u16,
        }
    }

    pub fn at_length(&self) -> u32 {
        Self::TAG + self.at_bits
    }

    pub fn cond_length(&self, c: &Cond) -> u32 {
        match c {
            Cond::Blocked(_) => Self::BLOCKED,
            Cond::Sees(..) => Self::SEES,
            Cond::At(_) => self.at_length(),
        }
    }

    /// Description length in bits.
    pub fn length(&self, p: &Program) -> u32 {
        match p {
            Program::Move(_) => Self::MOVE,
            Program::Toward(_) => Self::TOWARD,
            Program::Search(..) => Self::SEARCH,
            Program::If(c, a, b) => {
                Self::TAG + self.cond_length(c) + self.length(a) + self.length(b)
            }
        }
    }

    /// Every condition, shortest first, in a fixed order.
    pub fn conditions(&self) -> Vec<Cond> {
        let mut out: Vec<Cond> = Action::MOVES.into_iter().map(Cond::Blocked).collect();
        for g in Goal::ALL {
            out.extend(Action::MOVES.into_iter().map(|d| Cond::Sees(g, d)));
        }
        out.extend((0..self.cells).map(Cond::At));
        out.sort_by_key(|c| self.cond_length(c));
        out
    }
}

/// Every program of one node: the leaves, in a fixed order.
pub fn atoms() -> Vec<Program> {
    let mut out: Vec<Program> = Action::MOVES.into_iter().map(Program::Move).collect();
    out.extend(Goal::ALL.map(Program::Toward));
    for m in [Method::Bfs, Method::Brute] {
        out.extend(Goal::ALL.map(|g| Program::Search(m, g)));
    }
    out
}

impl Cond {
    pub fn holds(&self, f: &Features) -> bool {
        match *self {
            Cond::Blocked(d) => f.blocked & bit(d) != 0,
            Cond::Sees(g, d) => f.sees[g.index()] & bit(d) != 0,
            Cond::At(x) => f.cell == x,
        }
    }
}

impl Program {
    /// The moves the program endorses at a state and the steps it takes to say so: the
    /// reference interpreter (the enumerator computes the same on whole vectors of states).
    pub fn run(&self, f: &Features) -> (Moves, u64) {
        match self {
            Program::Move(d) => (bit(*d), 1),
            Program::Toward(g) => (f.toward[g.index()], 1),
            Program::Search(Method::Bfs, g) => (f.plan[g.index()], f.plan_steps[g.index()]),
            Program::Search(Method::Brute, g) => (f.plan[g.index()], f.brute_steps[g.index()]),
            Program::If(c, a, b) => {
                let (m, t) = if c.holds(f) { a.run(f) } else { b.run(f) };
                (m, t + 2)
            }
        }
    }

    /// What its family depends on.
    pub fn traits(&self) -> Traits {
        match self {
            Program::Move(_) | Program::Toward(_) => Traits::default(),
            Program::Search(m, g) => Traits {
                searched: 1 << g.index(),
                brute: *m == Method::Brute,
                lookup: false,
            },
            Program::If(c, a, b) => {
                let mut t = a.traits().union(b.traits());
                t.lookup |= matches!(c, Cond::At(_));
                t
            }
        }
    }
}

/// The syntactic facts a family is read from; composed bottom-up by the enumerator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Traits {
    /// Bit g set when the program searches for goal g.
    pub searched: u8,
    /// Some search is brute force.
    pub brute: bool,
    /// Some condition is `at`.
    pub lookup: bool,
}

impl Traits {
    pub fn union(self, o: Traits) -> Traits {
        Traits {
            searched: self.searched | o.searched,
            brute: self.brute | o.brute,
            lookup: self.lookup | o.lookup,
        }
    }

    pub fn family(self, goal: Goal) -> Family {
        let own = 1u8 << goal.index();
        match self.searched {
            0 if self.lookup => Family::Lookup,
            0 => Family::Reflex,
            s if s == own => Family::SearchGoal,
            s if s & own == 0 => Family::SearchOther,
            _ => Family::Mixed,
        }
    }
}

/// Hypothesis families.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Reflex,
    Lookup,
    SearchGoal,
    SearchOther,
    Mixed,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Reflex,
        Family::Lookup,
        Family::SearchGoal,
        Family::SearchOther,
        Family::Mixed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Family::Reflex => "reflex",
            Family::Lookup => "lookup",
            Family::SearchGoal => "search_goal",
            Family::SearchOther => "search_other",
            Family::Mixed => "mixed",
        }
    }

    pub fn searches(self) -> bool {
        !matches!(self, Family::Reflex | Family::Lookup)
    }
}

fn dir(a: Action) -> &'static str {
    match a {
        Action::Up => "up",
        Action::Down => "down",
        Action::Left => "left",
        Action::Right => "right",
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::Blocked(d) => write!(f, "(blocked {})", dir(*d)),
            Cond::Sees(g, d) => write!(f, "(sees {} {})", g.name(), dir(*d)),
            Cond::At(x) => write!(f, "(at {x})"),
        }
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Program::Move(d) => write!(f, "(move {})", dir(*d)),
            Program::Toward(g) => write!(f, "(toward {})", g.name()),
            Program::Search(Method::Bfs, g) => write!(f, "(search bfs {})", g.name()),
            Program::Search(Method::Brute, g) => write!(f, "(search brute {})", g.name()),
            Program::If(c, a, b) => write!(f, "(if {c} {a} {b})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_by_hand() {
        let g = Grammar::for_cells(49);
        assert_eq!(g.at_bits, 6);
        assert_eq!(Grammar::for_cells(64).at_bits, 6);
        assert_eq!(Grammar::for_cells(65).at_bits, 7);
        let p = Program::If(
            Cond::At(10),
            Box::new(Program::Move(Action::Up)),
            Box::new(Program::Search(Method::Bfs, Goal::Diamond)),
        );
        // 2 (if) + 8 (at: 2 + 6) + 4 (move) + 5 (search).
        assert_eq!(g.length(&p), 19);
        assert_eq!(p.to_string(), "(if (at 10) (move up) (search bfs diamond))");
        assert_eq!(p.traits().family(Goal::Diamond), Family::SearchGoal);
        assert_eq!(p.traits().family(Goal::Corner), Family::SearchOther);
        let reflex = Program::If(
            Cond::Blocked(Action::Up),
            Box::new(Program::Move(Action::Left)),
            Box::new(Program::Toward(Goal::Key)),
        );
        assert_eq!(g.length(&reflex), 14);
        assert_eq!(reflex.traits().family(Goal::Diamond), Family::Reflex);
    }

    #[test]
    fn kraft_holds_for_the_code() {
        // Action programs: f(L) = number of length-L programs; the Kraft sum over the leaves is
        // 4 x 2^-4 + 4 x 2^-4 + 8 x 2^-5 = 3/4, and the `if` tag's quarter is shared among its
        // children; with conditions summing to 4/16 + 16/64 + 64/256 = 3/4 < 1 the total is < 1.
        let g = Grammar::for_cells(49);
        let leaves: f64 = atoms()
            .iter()
            .map(|p| 2f64.powi(-(g.length(p) as i32)))
            .sum();
        assert_eq!(leaves, 0.75);
        let conds: f64 = g
            .conditions()
            .iter()
            .map(|c| 2f64.powi(-(g.cond_length(c) as i32)))
            .sum();
        assert!(conds <= 0.75 + 1e-12, "{conds}");
    }
}
