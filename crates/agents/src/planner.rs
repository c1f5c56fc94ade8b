//! A* with a per-decision compute budget, and real-time learning when the budget runs out.
//!
//! Each decision runs an A* search from the agent's cell toward any object of the target kind,
//! expanding at most `budget` cells (an expansion pops a cell and generates its neighbours; it is the
//! unit of compute throughout cruxlab's planning experiments).
//!
//! - If the search reaches a goal, the whole path is kept and followed at no further cost. With an
//!   admissible, consistent heuristic (blind, relaxed, exact field) that path is optimal, so an
//!   unbudgeted planner is plain A* (or breadth-first search when blind).
//! - If the budget runs out first, the planner acts as LSS-LRTA* (Koenig & Sun 2009, real-time
//!   search with a local search space): every cell the lookahead expanded has its estimate raised to
//!   its distance, through expanded cells, to the frontier plus the frontier cell's estimate (a
//!   Dijkstra sweep inward from the frontier), and the agent walks the path to the frontier cell with
//!   the lowest f = g + h before searching again. Learned estimates replace the heuristic's for the
//!   rest of the episode, so a budgeted agent fills in the heuristic's depressions (dead ends, a
//!   stale target) instead of circling; LSS-LRTA* reaches the goal in any finite, connected state
//!   space whatever its starting estimates. With a budget of one expansion it is Korf's LRTA*.
//!
//! Ties in f prefer the deeper cell, then the lower cell index, so every run is deterministic.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use cruxlab_grid::{Action, Level, ObjectKind, Pos};

use crate::heuristic::{Derived, Heuristic};
use crate::policy::{Compute, Policy, View};

const UNSET: u32 = u32::MAX;

/// A planner with an explicit, swappable target and the heuristic it currently believes in.
#[derive(Clone, Debug)]
pub struct Planner {
    target: ObjectKind,
    heuristic: Heuristic,
    budget: Option<u64>,
    compute: Compute,
    /// LRTA* estimates learned this episode (UNSET where none).
    learned: Vec<u32>,
    /// The rest of a found path, next cell last.
    plan: Vec<Pos>,
    search: SearchScratch,
    /// Expansions per cell, when tracing (see [`Planner::trace_expansions`]).
    heat: Option<Vec<u32>>,
    /// Carry learned estimates from one episode to the next (learning over trials).
    keep_learning: bool,
}

/// What one bounded search found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SearchOutcome {
    /// A goal was reached: the path from the start (excluded) to the goal (included).
    Found { path: Vec<Pos> },
    /// The budget ran out: the path toward the best frontier cell and that cell's f value.
    Exhausted { path: Vec<Pos>, f: u32 },
    /// No goal is reachable.
    Unreachable,
}

impl Planner {
    /// A planner for `target` using a derived heuristic; the derivation cost is booked as compute.
    /// `budget` bounds the expansions of each decision (`None`: unbounded).
    pub fn new(target: ObjectKind, derived: Derived, budget: Option<u64>) -> Planner {
        assert!(
            budget != Some(0),
            "a decision needs a budget of at least one expansion"
        );
        let mut planner = Planner {
            target,
            heuristic: derived.heuristic,
            budget,
            compute: Compute::default(),
            learned: Vec::new(),
            plan: Vec::new(),
            search: SearchScratch::default(),
            heat: None,
            keep_learning: false,
        };
        planner.compute.derivation = derived.cost;
        planner
    }

    pub fn target(&self) -> ObjectKind {
        self.target
    }
    pub fn heuristic(&self) -> &Heuristic {
        &self.heuristic
    }
    pub fn budget(&self) -> Option<u64> {
        self.budget
    }

    /// Swap the target and re-derive nothing: the heuristic still estimates distance to the old one.
    pub fn retarget(&mut self, target: ObjectKind) {
        self.target = target;
        self.forget_episode();
    }

    /// Swap the target and install a heuristic derived for it, booking the derivation's compute.
    pub fn retarget_with(&mut self, target: ObjectKind, derived: Derived) {
        self.target = target;
        self.heuristic = derived.heuristic;
        self.compute.derivation += derived.cost;
        self.forget_episode();
    }

    /// Start counting expansions per cell (row-major over a level of `cells` cells), to see where the
    /// planner spent its compute; [`Planner::heat`] reads the counts.
    pub fn trace_expansions(&mut self, cells: usize) {
        self.heat = Some(vec![0; cells]);
    }

    /// Expansions per cell since tracing started, if it did.
    pub fn heat(&self) -> Option<&[u32]> {
        self.heat.as_deref()
    }

    /// The learned LRTA* estimate of a cell this episode, if any.
    pub fn learned(&self, level: &Level, pos: Pos) -> Option<u32> {
        self.learned
            .get(level.index(pos))
            .copied()
            .filter(|&l| l != UNSET)
    }

    /// Forget the learned estimates and the current plan (a new episode or a new target).
    pub fn forget_episode(&mut self) {
        self.learned.clear();
        self.plan.clear();
    }

    /// With `keep` set, a new episode (`reset`) forgets only the current plan and keeps the
    /// estimates learned so far, so that repeated trials toward one target keep improving them
    /// (Korf 1990). Retargeting still forgets them.
    pub fn keep_learning(&mut self, keep: bool) {
        self.keep_learning = keep;
    }

    /// Every cell's current estimate, row-major: the learned one where there is one, else the
    /// heuristic's.
    pub fn learned_values(&self, level: &Level) -> Vec<u32> {
        (0..level.cells())
            .map(|i| match self.learned.get(i) {
                Some(&l) if l != UNSET => l,
                _ => self.heuristic.estimate(level.pos(i)),
            })
            .collect()
    }

    /// One bounded A* search from `start` (exposed for tests and for inspecting the plan).
    pub fn search(&mut self, level: &Level, start: Pos) -> (SearchOutcome, u64) {
        if self.learned.len() != level.cells() {
            self.learned = vec![UNSET; level.cells()];
        }
        let estimate = |learned: &[u32], p: Pos| {
            let l = learned[level.index(p)];
            if l != UNSET {
                l
            } else {
                self.heuristic.estimate(p)
            }
        };
        let s = &mut self.search;
        s.prepare(level.cells());
        let start_i = level.index(start) as u32;
        s.open(start_i, 0, UNSET);
        s.heap.push(Reverse((
            estimate(&self.learned, start),
            Reverse(0),
            start_i,
        )));
        let mut expansions = 0u64;
        while let Some(&Reverse((f, Reverse(g), i))) = s.heap.peek() {
            if g > s.g[i as usize] {
                s.heap.pop();
                continue;
            }
            let pos = level.pos(i as usize);
            if level.object_at(pos).is_some_and(|o| o.kind == self.target) && i != start_i {
                return (
                    SearchOutcome::Found {
                        path: s.path_to(level, i),
                    },
                    expansions,
                );
            }
            if self.budget.is_some_and(|b| expansions >= b) {
                return (
                    SearchOutcome::Exhausted {
                        path: s.path_to(level, i),
                        f,
                    },
                    expansions,
                );
            }
            s.heap.pop();
            s.close(i);
            if let Some(heat) = self.heat.as_mut() {
                heat[i as usize] += 1;
            }
            expansions += 1;
            for n in level.floor_neighbours(pos) {
                let ni = level.index(n) as u32;
                let ng = g + 1;
                if s.g_of(ni) > ng {
                    s.open(ni, ng, i);
                    s.heap
                        .push(Reverse((ng + estimate(&self.learned, n), Reverse(ng), ni)));
                }
            }
        }
        (SearchOutcome::Unreachable, expansions)
    }

    /// After an exhausted search: raise the estimate of every expanded cell to its distance through
    /// expanded cells to the frontier plus that frontier cell's estimate (LSS-LRTA*'s update).
    fn learn(&mut self, level: &Level) {
        let s = &mut self.search;
        let mut sweep: BinaryHeap<Reverse<(u32, u32)>> = BinaryHeap::new();
        for &Reverse((f, Reverse(g), i)) in s.heap.iter() {
            if g == s.g[i as usize] && !s.is_closed(i) {
                sweep.push(Reverse((f - g, i)));
            }
        }
        for &c in &s.closed {
            s.g[c as usize] = UNSET; // reused as the new estimate of closed cells
        }
        while let Some(Reverse((v, i))) = sweep.pop() {
            if s.is_closed(i) && v > s.g[i as usize] {
                continue;
            }
            for n in level.floor_neighbours(level.pos(i as usize)) {
                let ni = level.index(n) as u32;
                if s.is_closed(ni) && s.g[ni as usize] > v + 1 {
                    s.g[ni as usize] = v + 1;
                    sweep.push(Reverse((v + 1, ni)));
                }
            }
        }
        for &c in &s.closed {
            let new = s.g[c as usize];
            if new != UNSET {
                let old = match self.learned[c as usize] {
                    UNSET => self.heuristic.estimate(level.pos(c as usize)),
                    l => l,
                };
                self.learned[c as usize] = old.max(new);
            }
        }
    }

    /// The compute spent so far.
    pub fn compute(&self) -> Compute {
        self.compute
    }
}

impl Policy for Planner {
    fn act(&mut self, view: &View<'_>) -> Action {
        let here = view.level.agent();
        self.compute.decisions += 1;
        if let Some(&next) = self.plan.last() {
            if Action::between(here, next).is_some() {
                self.plan.pop();
                return Action::between(here, next).expect("adjacent");
            }
            self.plan.clear();
        }
        let (outcome, expansions) = self.search(view.level, here);
        self.compute.expansions += expansions;
        self.compute.peak = self.compute.peak.max(expansions);
        let step = match outcome {
            SearchOutcome::Found { mut path } => {
                path.reverse();
                let step = path.pop();
                self.plan = path;
                step
            }
            SearchOutcome::Exhausted { mut path, .. } => {
                self.learn(view.level);
                path.reverse();
                let step = path.pop();
                self.plan = path;
                step
            }
            SearchOutcome::Unreachable => None,
        };
        step.and_then(|next| Action::between(here, next))
            .unwrap_or(Action::Up)
    }

    fn compute(&self) -> Compute {
        self.compute
    }

    fn reset(&mut self) {
        if self.keep_learning {
            self.plan.clear();
        } else {
            self.forget_episode();
        }
    }
}

/// Reusable A* buffers: g values and parents, stamped per search so nothing is cleared per call.
#[derive(Clone, Debug, Default)]
struct SearchScratch {
    g: Vec<u32>,
    parent: Vec<u32>,
    stamp: Vec<u32>,
    /// Cells expanded by the current search, and their stamp.
    closed: Vec<u32>,
    closed_stamp: Vec<u32>,
    current: u32,
    heap: BinaryHeap<Reverse<(u32, Reverse<u32>, u32)>>,
}

impl SearchScratch {
    fn prepare(&mut self, cells: usize) {
        if self.g.len() != cells {
            self.g = vec![UNSET; cells];
            self.parent = vec![UNSET; cells];
            self.stamp = vec![0; cells];
            self.closed_stamp = vec![0; cells];
            self.current = 0;
        }
        self.current = self.current.wrapping_add(1);
        if self.current == 0 {
            self.stamp.fill(0);
            self.closed_stamp.fill(0);
            self.current = 1;
        }
        self.heap.clear();
        self.closed.clear();
    }

    fn close(&mut self, i: u32) {
        self.closed_stamp[i as usize] = self.current;
        self.closed.push(i);
    }

    fn is_closed(&self, i: u32) -> bool {
        self.closed_stamp[i as usize] == self.current
    }

    fn g_of(&self, i: u32) -> u32 {
        if self.stamp[i as usize] == self.current {
            self.g[i as usize]
        } else {
            UNSET
        }
    }

    fn open(&mut self, i: u32, g: u32, parent: u32) {
        let i = i as usize;
        self.stamp[i] = self.current;
        self.g[i] = g;
        self.parent[i] = parent;
    }

    /// Cells from the start (excluded) to `end` (included).
    fn path_to(&self, level: &Level, end: u32) -> Vec<Pos> {
        let mut path = Vec::new();
        let mut i = end;
        while self.parent[i as usize] != UNSET {
            path.push(level.pos(i as usize));
            i = self.parent[i as usize];
        }
        path.reverse();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heuristic::Heuristic;

    fn derived(h: Heuristic) -> Derived {
        Derived {
            heuristic: h,
            cost: 0,
        }
    }

    const CORRIDOR: &str = "#########\n#A.....C#\n#.#####.#\n#...D...#\n#########\n";

    #[test]
    fn unbounded_search_finds_the_shortest_path() {
        let level = Level::parse(CORRIDOR).unwrap();
        for h in [
            Heuristic::Blind,
            Heuristic::relaxed(&level, ObjectKind::Cheese).heuristic,
        ] {
            let mut p = Planner::new(ObjectKind::Cheese, derived(h), None);
            let (out, _) = p.search(&level, level.agent());
            match out {
                SearchOutcome::Found { path } => {
                    assert_eq!(path.len(), 6);
                    assert_eq!(path.last(), Some(&Pos::new(1, 7)));
                }
                other => panic!("expected a path, got {other:?}"),
            }
        }
    }

    #[test]
    fn relaxed_heuristic_expands_fewer_cells_than_blind_search() {
        let level = Level::parse(CORRIDOR).unwrap();
        let mut blind = Planner::new(ObjectKind::Cheese, derived(Heuristic::Blind), None);
        let mut relaxed = Planner::new(
            ObjectKind::Cheese,
            Heuristic::relaxed(&level, ObjectKind::Cheese),
            None,
        );
        let (_, eb) = blind.search(&level, level.agent());
        let (_, er) = relaxed.search(&level, level.agent());
        assert!(er < eb, "relaxed {er} vs blind {eb}");
        // A perfect heuristic expands only the cells on the path before the goal.
        let mut exact = Planner::new(
            ObjectKind::Cheese,
            Heuristic::field(&level, ObjectKind::Cheese),
            None,
        );
        let (_, ee) = exact.search(&level, level.agent());
        assert_eq!(ee, 6);
    }

    #[test]
    fn exhausted_budget_reports_the_best_frontier() {
        let level = Level::parse(CORRIDOR).unwrap();
        let mut p = Planner::new(ObjectKind::Cheese, derived(Heuristic::Blind), Some(1));
        let (out, e) = p.search(&level, level.agent());
        assert_eq!(e, 1);
        // Two neighbours at g = 1, h = 0: the lower cell index (1,2) wins the tie.
        assert_eq!(
            out,
            SearchOutcome::Exhausted {
                path: vec![Pos::new(1, 2)],
                f: 1
            }
        );
    }
}
