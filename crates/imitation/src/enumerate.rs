//! Enumeration of every program up to a description length, shortest first, with
//! observational-equivalence pruning.
//!
//! The enumerator works bottom-up on whole vectors of states, in the style of DreamCoder's and
//! Stitch's enumerators and of the observational-equivalence pruning of program synthesis
//! (Udupa et al. 2013, TRANSIT; Albarghouthi et al. 2013, Escher): a program is represented by
//! what it does at every state the imitator will ever be asked about (the moves it endorses and
//! the steps it takes) and an `if` is composed from its parts' vectors without re-running them.
//!
//! **Pruning.** Programs of the same length whose moves *and* steps agree at every state, and
//! whose family traits agree, are one *class*, kept once with the number of programs it stands
//! for. Every prior here reads a program only through its length, its steps and its traits, and
//! the likelihood only through its moves, so replacing a class by one representative with its
//! count is exact: the posterior of every behaviour is the same as without pruning (a property
//! test checks this against the unpruned enumeration). Classes are only built for lengths that can
//! still be a branch of a longer program; the longest programs are streamed to the caller one by
//! one, since nothing is built from them.

use crate::language::{Cond, Grammar, Program, Traits, atoms};
use crate::task::Features;
use std::collections::HashMap;

/// A class of programs, stored for use as a branch.
#[derive(Clone, Debug)]
struct Class {
    length: u32,
    traits: Traits,
    count: f64,
    node: Node,
    /// Its tally over every state.
    whole: Tally,
    /// Up to [`TOP`] states with the most steps, most first.
    top: [u16; TOP],
    top_len: u8,
}

/// How many of a class's slowest states are kept for maxima over part of the states.
const TOP: usize = 4;

/// How to rebuild a class's representative program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// An index into [`atoms`].
    Atom(usize),
    /// Condition class, then-class and else-class indices.
    If(usize, usize, usize),
}

struct CondClass {
    cond: Cond,
    length: u32,
    count: f64,
    /// The states of the smaller side (where it holds, or where it fails), ascending.
    small: Vec<u16>,
    /// Whether `small` lists the states where the condition holds.
    small_holds: bool,
}

/// What a program's behaviour adds up to, the only sums the priors and the likelihood read.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Tally {
    /// Log-likelihood summed over the scored states ([`Enumerator::scored`]).
    pub loglik: f64,
    /// Steps summed over the scored states.
    pub total_steps: u64,
    /// The most steps taken at any one state, scored or not.
    pub max_steps: u64,
}

/// One hypothesis class as the caller sees it.
pub struct Hypothesis<'a> {
    pub length: u32,
    pub traits: Traits,
    /// How many programs the class stands for.
    pub count: f64,
    pub node: Node,
    pub tally: Tally,
    behaviour: Behaviour<'a>,
}

/// Where a hypothesis's per-state behaviour can be read.
enum Behaviour<'a> {
    /// Its own vectors.
    Vectors { moves: &'a [u8], steps: &'a [u64] },
    /// An `if` whose vectors were never composed: its condition's values and its branches'.
    If {
        holds: &'a [u8],
        then: (&'a [u8], &'a [u64]),
        other: (&'a [u8], &'a [u64]),
    },
}

impl Hypothesis<'_> {
    /// The moves endorsed at state `k`.
    pub fn move_at(&self, k: usize) -> u8 {
        match self.behaviour {
            Behaviour::Vectors { moves, .. } => moves[k],
            Behaviour::If { holds, then, other } => {
                if holds[k] != 0 {
                    then.0[k]
                } else {
                    other.0[k]
                }
            }
        }
    }

    /// The steps taken at state `k`.
    pub fn steps_at(&self, k: usize) -> u64 {
        match self.behaviour {
            Behaviour::Vectors { steps, .. } => steps[k],
            Behaviour::If { holds, then, other } => {
                2 + if holds[k] != 0 { then.1[k] } else { other.1[k] }
            }
        }
    }

    /// Moves at every state.
    pub fn moves(&self) -> Vec<u8> {
        (0..self.states()).map(|k| self.move_at(k)).collect()
    }

    /// Steps at every state.
    pub fn steps(&self) -> Vec<u64> {
        (0..self.states()).map(|k| self.steps_at(k)).collect()
    }

    fn states(&self) -> usize {
        match self.behaviour {
            Behaviour::Vectors { moves, .. } => moves.len(),
            Behaviour::If { holds, .. } => holds.len(),
        }
    }
}

/// What an enumeration did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Programs covered (every syntactic program up to the bound).
    pub programs: f64,
    /// Classes scored (each class or streamed program scored once).
    pub evaluated: u64,
    /// Classes handed to the caller.
    pub hypotheses: u64,
    /// Classes kept as possible branches of longer programs.
    pub stored: u64,
    /// Programs scored from their branches' tallies without composing their vectors.
    pub streamed: u64,
}

pub struct Enumerator<'a> {
    grammar: Grammar,
    states: &'a [Features],
    /// Per scored state and endorsed-move set, the log-likelihood the caller gives it.
    scores: &'a [[f64; 16]],
    max_bits: u32,
    prune: bool,
    /// Compose every program's vectors, the longest included (the reference for benchmarks).
    compose_all: bool,
    atoms: Vec<Program>,
    conds: Vec<CondClass>,
    cond_values: Vec<u8>,
    classes: Vec<Class>,
    moves: Vec<u8>,
    steps: Vec<u64>,
}

/// The shortest `if`: tag, shortest condition, two shortest branches.
const MIN_IF_OVERHEAD: u32 = Grammar::TAG + Grammar::BLOCKED + Grammar::MOVE;

/// Per condition class and branch length, the tallies of each stored class of that length on the
/// states where the condition holds and where it fails, computed when first needed.
type Parts = Vec<Vec<Option<Vec<[Tally; 2]>>>>;

impl<'a> Enumerator<'a> {
    /// `prune = false` keeps every program as its own class (for tests of the pruning).
    pub fn new(grammar: Grammar, states: &'a [Features], max_bits: u32, prune: bool) -> Self {
        let s = states.len();
        assert!(s <= u16::MAX as usize, "at most 65535 states");
        let mut conds: Vec<CondClass> = Vec::new();
        let mut cond_values: Vec<u8> = Vec::new();
        let mut seen: HashMap<(u32, Vec<u8>), usize> = HashMap::new();
        for cond in grammar.conditions() {
            let length = grammar.cond_length(&cond);
            let values: Vec<u8> = states.iter().map(|f| cond.holds(f) as u8).collect();
            if prune && let Some(&k) = seen.get(&(length, values.clone())) {
                conds[k].count += 1.0;
                continue;
            }
            seen.insert((length, values.clone()), conds.len());
            let holds = values.iter().filter(|&&v| v != 0).count();
            let small_holds = 2 * holds <= s;
            let small = (0..s as u16)
                .filter(|&k| (values[k as usize] != 0) == small_holds)
                .collect();
            cond_values.extend_from_slice(&values);
            conds.push(CondClass {
                cond,
                length,
                count: 1.0,
                small,
                small_holds,
            });
        }
        debug_assert_eq!(cond_values.len(), conds.len() * s);
        Enumerator {
            grammar,
            states,
            scores: &[],
            max_bits,
            prune,
            compose_all: false,
            atoms: atoms(),
            conds,
            cond_values,
            classes: Vec::new(),
            moves: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Score the first `scores.len()` states: a hypothesis's [`Tally::loglik`] sums
    /// `scores[k][moves endorsed at k]` and its [`Tally::total_steps`] its steps over them.
    pub fn scored(mut self, scores: &'a [[f64; 16]]) -> Self {
        assert!(scores.len() <= self.states.len());
        self.scores = scores;
        self
    }

    /// Compose the vectors of the longest programs too instead of scoring them from their parts:
    /// the same hypotheses and tallies, slower (kept as the benchmark's reference).
    pub fn composing_all(mut self) -> Self {
        self.compose_all = true;
        self
    }

    /// Per state, whether condition class `c` holds (1) or not (0).
    pub fn holds(&self, c: usize) -> &[u8] {
        let s = self.states.len();
        &self.cond_values[c * s..(c + 1) * s]
    }

    /// Per state, the moves stored class `k` endorses.
    pub fn class_moves(&self, k: usize) -> &[u8] {
        let s = self.states.len();
        &self.moves[k * s..(k + 1) * s]
    }

    /// The representative program of a node.
    pub fn program(&self, node: Node) -> Program {
        match node {
            Node::Atom(i) => self.atoms[i].clone(),
            Node::If(c, a, b) => Program::If(
                self.conds[c].cond,
                Box::new(self.program(self.classes[a].node)),
                Box::new(self.program(self.classes[b].node)),
            ),
        }
    }

    /// The tally of a behaviour given as vectors.
    fn tally(&self, m: &[u8], t: &[u64]) -> Tally {
        let n = self.scores.len();
        let mut loglik = 0.0;
        for (row, &mk) in self.scores.iter().zip(m) {
            loglik += row[mk as usize];
        }
        Tally {
            loglik,
            total_steps: t[..n].iter().sum(),
            max_steps: t.iter().copied().max().unwrap_or(0),
        }
    }

    /// Class `a`'s tallies where condition class `c` holds and where it fails. The smaller side
    /// is summed state by state; the other is the whole minus it, and its maximum is the first of
    /// the class's slowest states outside the smaller side (a full scan when all of those are in).
    fn split(&self, c: usize, a: usize) -> [Tally; 2] {
        let s = self.states.len();
        let n = self.scores.len();
        let (m, t) = (
            &self.moves[a * s..(a + 1) * s],
            &self.steps[a * s..(a + 1) * s],
        );
        let cond = &self.conds[c];
        let class = &self.classes[a];
        let mut small = Tally::default();
        for &k in &cond.small {
            let k = k as usize;
            if k < n {
                small.loglik += self.scores[k][m[k] as usize];
                small.total_steps += t[k];
            }
            small.max_steps = small.max_steps.max(t[k]);
        }
        let values = &self.cond_values[c * s..(c + 1) * s];
        let outside = |k: usize| (values[k] != 0) != cond.small_holds;
        let max_steps = match class.top[..class.top_len as usize]
            .iter()
            .find(|&&k| outside(k as usize))
        {
            Some(&k) => t[k as usize],
            None => (0..s)
                .filter(|&k| outside(k))
                .map(|k| t[k])
                .max()
                .unwrap_or(0),
        };
        let rest = Tally {
            loglik: class.whole.loglik - small.loglik,
            total_steps: class.whole.total_steps - small.total_steps,
            max_steps,
        };
        if cond.small_holds {
            [small, rest]
        } else {
            [rest, small]
        }
    }

    /// Hand every class of programs up to `max_bits` to `visit`, in nondecreasing length.
    pub fn run(&mut self, mut visit: impl FnMut(&Hypothesis<'_>, &Self)) -> Stats {
        let s = self.states.len();
        let mut stats = Stats::default();
        let mut by_length: Vec<Vec<usize>> = vec![Vec::new(); self.max_bits as usize + 1];
        let mut parts: Parts = vec![vec![None; self.max_bits as usize + 1]; self.conds.len()];
        let mut cond_lengths: Vec<u32> = self.conds.iter().map(|c| c.length).collect();
        cond_lengths.dedup();
        let mut scratch_m = vec![0u8; s];
        let mut scratch_t = vec![0u64; s];
        for length in 1..=self.max_bits {
            let store = length + MIN_IF_OVERHEAD <= self.max_bits;
            let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
            let first_new = self.classes.len();
            // Leaves of this length.
            for i in 0..self.atoms.len() {
                let p = &self.atoms[i];
                if self.grammar.length(p) != length {
                    continue;
                }
                for (k, f) in self.states.iter().enumerate() {
                    (scratch_m[k], scratch_t[k]) = p.run(f);
                }
                stats.evaluated += 1;
                stats.programs += 1.0;
                let traits = p.traits();
                self.emit(
                    length,
                    traits,
                    1.0,
                    Node::Atom(i),
                    &scratch_m,
                    &scratch_t,
                    store,
                    &mut index,
                    &mut by_length,
                    &mut stats,
                    &mut visit,
                );
            }
            // `if` of this length: every split of the remaining bits between condition and branches.
            for &lc in &cond_lengths {
                let Some(rest) = length.checked_sub(Grammar::TAG + lc) else {
                    continue;
                };
                for la in 1..rest {
                    let lb = rest - la;
                    if by_length.get(la as usize).is_none_or(|v| v.is_empty())
                        || by_length.get(lb as usize).is_none_or(|v| v.is_empty())
                    {
                        continue;
                    }
                    for (c, cond_parts) in parts.iter_mut().enumerate() {
                        if self.conds[c].length != lc {
                            continue;
                        }
                        if store || self.compose_all {
                            self.compose(
                                length,
                                c,
                                (la, lb),
                                store,
                                (&mut scratch_m, &mut scratch_t),
                                &mut index,
                                &mut by_length,
                                &mut stats,
                                &mut visit,
                            );
                        } else {
                            // Nothing is built from it, so it is scored from its parts.
                            for l in [la, lb] {
                                if cond_parts[l as usize].is_none() {
                                    let split =
                                        by_length[l as usize].iter().map(|&a| self.split(c, a));
                                    cond_parts[l as usize] = Some(split.collect());
                                }
                            }
                            self.stream(
                                length,
                                c,
                                (&by_length[la as usize], &by_length[lb as usize]),
                                cond_parts,
                                (la, lb),
                                &mut stats,
                                &mut visit,
                            );
                        }
                    }
                }
            }
            // Stored classes of this length are complete only now: hand them over.
            for k in first_new..self.classes.len() {
                let c = &self.classes[k];
                let h = Hypothesis {
                    length: c.length,
                    traits: c.traits,
                    count: c.count,
                    node: c.node,
                    tally: c.whole,
                    behaviour: Behaviour::Vectors {
                        moves: &self.moves[k * s..(k + 1) * s],
                        steps: &self.steps[k * s..(k + 1) * s],
                    },
                };
                stats.hypotheses += 1;
                visit(&h, self);
            }
        }
        stats
    }

    /// Every `if` of condition class `c` with branches of lengths `la` and `lb`, too long to be a
    /// branch itself: each is scored from its branches' tallies on the two sides of the
    /// condition, and its moves and steps are read through its branches only when asked for.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn stream(
        &self,
        length: u32,
        c: usize,
        (branches_a, branches_b): (&[usize], &[usize]),
        cond_parts: &[Option<Vec<[Tally; 2]>>],
        (la, lb): (u32, u32),
        stats: &mut Stats,
        visit: &mut impl FnMut(&Hypothesis<'_>, &Self),
    ) {
        let s = self.states.len();
        let n = self.scores.len() as u64;
        let (pa, pb) = (
            cond_parts[la as usize].as_ref().unwrap(),
            cond_parts[lb as usize].as_ref().unwrap(),
        );
        let cond = &self.conds[c];
        let holds = &self.cond_values[c * s..(c + 1) * s];
        let at = matches!(cond.cond, Cond::At(_));
        // Counted locally so that the loop keeps them in registers.
        let (mut scored, mut programs) = (0u64, 0.0);
        for (&a, ta) in branches_a.iter().zip(pa) {
            let ca = &self.classes[a];
            let ta = ta[0];
            let mut traits_a = ca.traits;
            traits_a.lookup |= at;
            let count_a = cond.count * ca.count;
            let then = (
                &self.moves[a * s..(a + 1) * s],
                &self.steps[a * s..(a + 1) * s],
            );
            for (&b, tb) in branches_b.iter().zip(pb) {
                let cb = &self.classes[b];
                let tb = tb[1];
                let h = Hypothesis {
                    length,
                    traits: traits_a.union(cb.traits),
                    count: count_a * cb.count,
                    node: Node::If(c, a, b),
                    tally: Tally {
                        loglik: ta.loglik + tb.loglik,
                        total_steps: 2 * n + ta.total_steps + tb.total_steps,
                        max_steps: 2 + ta.max_steps.max(tb.max_steps),
                    },
                    behaviour: Behaviour::If {
                        holds,
                        then,
                        other: (
                            &self.moves[b * s..(b + 1) * s],
                            &self.steps[b * s..(b + 1) * s],
                        ),
                    },
                };
                scored += 1;
                programs += h.count;
                visit(&h, self);
            }
        }
        stats.evaluated += scored;
        stats.streamed += scored;
        stats.hypotheses += scored;
        stats.programs += programs;
    }

    /// Every `if` of condition class `c` with branches of lengths `la` and `lb`, composed as
    /// vectors: stored when it may become a branch of a longer program, streamed otherwise.
    #[allow(clippy::too_many_arguments)]
    fn compose(
        &mut self,
        length: u32,
        c: usize,
        (la, lb): (u32, u32),
        store: bool,
        (scratch_m, scratch_t): (&mut [u8], &mut [u64]),
        index: &mut HashMap<u64, Vec<usize>>,
        by_length: &mut [Vec<usize>],
        stats: &mut Stats,
        visit: &mut impl FnMut(&Hypothesis<'_>, &Self),
    ) {
        let s = self.states.len();
        for ai in 0..by_length[la as usize].len() {
            for bi in 0..by_length[lb as usize].len() {
                let (a, b) = (by_length[la as usize][ai], by_length[lb as usize][bi]);
                let cv = &self.cond_values[c * s..(c + 1) * s];
                let (ma, mb) = (
                    &self.moves[a * s..(a + 1) * s],
                    &self.moves[b * s..(b + 1) * s],
                );
                let (ta, tb) = (
                    &self.steps[a * s..(a + 1) * s],
                    &self.steps[b * s..(b + 1) * s],
                );
                for k in 0..s {
                    let pick = cv[k] != 0;
                    scratch_m[k] = if pick { ma[k] } else { mb[k] };
                    scratch_t[k] = 2 + if pick { ta[k] } else { tb[k] };
                }
                let (ca, cb) = (&self.classes[a], &self.classes[b]);
                let mut traits = ca.traits.union(cb.traits);
                traits.lookup |= matches!(self.conds[c].cond, Cond::At(_));
                let count = self.conds[c].count * ca.count * cb.count;
                stats.evaluated += 1;
                stats.programs += count;
                self.emit(
                    length,
                    traits,
                    count,
                    Node::If(c, a, b),
                    scratch_m,
                    scratch_t,
                    store,
                    index,
                    by_length,
                    stats,
                    visit,
                );
            }
        }
    }

    /// Store a candidate (merged into its class when pruning) or stream it to the caller.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        length: u32,
        traits: Traits,
        count: f64,
        node: Node,
        m: &[u8],
        t: &[u64],
        store: bool,
        index: &mut HashMap<u64, Vec<usize>>,
        by_length: &mut [Vec<usize>],
        stats: &mut Stats,
        visit: &mut impl FnMut(&Hypothesis<'_>, &Self),
    ) {
        let s = self.states.len();
        if !store {
            stats.hypotheses += 1;
            let h = Hypothesis {
                length,
                traits,
                count,
                node,
                tally: self.tally(m, t),
                behaviour: Behaviour::Vectors { moves: m, steps: t },
            };
            visit(&h, self);
            return;
        }
        if self.prune {
            let key = fingerprint(traits, m, t);
            if let Some(list) = index.get(&key) {
                for &k in list {
                    if self.classes[k].traits == traits
                        && &self.moves[k * s..(k + 1) * s] == m
                        && &self.steps[k * s..(k + 1) * s] == t
                    {
                        self.classes[k].count += count;
                        return;
                    }
                }
            }
            index.entry(key).or_default().push(self.classes.len());
        }
        by_length[length as usize].push(self.classes.len());
        stats.stored += 1;
        // The slowest states, most first (insertion into a short sorted list).
        let mut top = [0u16; TOP];
        let mut top_len = 0usize;
        for (k, &steps) in t.iter().enumerate() {
            if top_len == TOP && steps <= t[top[TOP - 1] as usize] {
                continue;
            }
            let mut i = top_len.min(TOP - 1);
            while i > 0 && t[top[i - 1] as usize] < steps {
                top[i] = top[i - 1];
                i -= 1;
            }
            top[i] = k as u16;
            top_len = (top_len + 1).min(TOP);
        }
        let whole = self.tally(m, t);
        self.moves.extend_from_slice(m);
        self.steps.extend_from_slice(t);
        self.classes.push(Class {
            length,
            traits,
            count,
            node,
            whole,
            top,
            top_len: top_len as u8,
        });
    }
}

/// A 64-bit fingerprint of a behaviour (FxHash-style multiply-rotate).
fn fingerprint(traits: Traits, m: &[u8], t: &[u64]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (traits.searched as u64) | (traits.brute as u64) << 8 | (traits.lookup as u64) << 9;
    for chunk in m.chunks(8) {
        let mut w = 0u64;
        for (i, &b) in chunk.iter().enumerate() {
            w |= (b as u64) << (8 * i);
        }
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    for &x in t {
        h = (h.rotate_left(5) ^ x).wrapping_mul(K);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{Goal, Room};
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeMap;

    fn states(seed: u64, n: usize) -> (Grammar, Vec<Features>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let room = Room::generate(5, 0.3, seed.is_multiple_of(2), &mut rng);
        let grammar = Grammar::for_cells(room.level.cells());
        let f = room
            .floor_except(Goal::Diamond)
            .into_iter()
            .take(n)
            .map(|p| room.features(p))
            .collect();
        (grammar, f)
    }

    #[test]
    fn counts_per_length_by_hand() {
        // 5x5 levels: 25 cells, at = 2 + 5 = 7 bits. Leaves: 8 of 4 bits, 8 of 5 bits.
        // Shortest ifs: 14 bits = tag 2 + blocked 4 + 4 + 4: 4 x 8 x 8 = 256 programs;
        // 15 bits: blocked with one 5-bit branch: 4 x (8 x 8) x 2 = 512;
        // 16 bits: blocked with two 5-bit branches (4 x 64 = 256) + sees with two 4-bit (16 x 64).
        let (g, f) = states(1, 6);
        assert_eq!(g.at_bits, 5);
        let mut per_length: BTreeMap<u32, f64> = BTreeMap::new();
        let mut last = 0;
        let stats = Enumerator::new(g, &f, 16, true).run(|h, _| {
            assert!(h.length >= last, "lengths must not decrease");
            last = h.length;
            *per_length.entry(h.length).or_default() += h.count;
        });
        let expect: BTreeMap<u32, f64> = [
            (4, 8.0),
            (5, 8.0),
            (14, 256.0),
            (15, 512.0),
            (16, 256.0 + 1024.0),
        ]
        .into();
        assert_eq!(per_length, expect);
        assert_eq!(stats.programs, 8.0 + 8.0 + 256.0 + 512.0 + 1280.0);
    }

    #[test]
    fn the_representative_runs_as_the_class_says() {
        let (g, f) = states(4, 8);
        let mut e = Enumerator::new(g, &f, 20, true);
        let mut checked = 0;
        e.run(|h, e| {
            let p = e.program(h.node);
            assert_eq!(g.length(&p), h.length);
            assert_eq!(p.traits(), h.traits);
            for (k, s) in f.iter().enumerate() {
                assert_eq!(p.run(s), (h.move_at(k), h.steps_at(k)), "{p}");
            }
            checked += 1;
        });
        assert!(checked > 1000);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// Every hypothesis's tally, streamed ones scored from their branches' parts included,
        /// equals the sums read off its own moves and steps.
        #[test]
        fn tallies_equal_the_sums_over_states(seed in 0u64..1000, n in 1usize..7, scored in 0usize..7, bits in 14u32..19) {
            let (g, f) = states(seed, n);
            let scored = scored.min(f.len());
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let scores: Vec<[f64; 16]> = (0..scored)
                .map(|_| std::array::from_fn(|_| -rng.random_range(0.0..5.0)))
                .collect();
            let mut streamed = 0;
            let stats = Enumerator::new(g, &f, bits, true).scored(&scores).run(|h, _| {
                let (m, t) = (h.moves(), h.steps());
                let loglik: f64 = (0..scored).map(|k| scores[k][m[k] as usize]).sum();
                assert!((h.tally.loglik - loglik).abs() < 1e-9);
                assert_eq!(h.tally.total_steps, t[..scored].iter().sum::<u64>());
                assert_eq!(h.tally.max_steps, t.iter().copied().max().unwrap());
                streamed += matches!(h.behaviour, Behaviour::If { .. }) as u64;
            });
            prop_assert_eq!(stats.streamed, streamed);
            prop_assert!(bits < 15 || streamed > 0);
        }
    }

    #[test]
    fn scoring_from_parts_equals_composing_vectors() {
        let (g, f) = states(7, 6);
        let scores: Vec<[f64; 16]> = (0..4)
            .map(|k| std::array::from_fn(|m| -((k * 16 + m) as f64) / 10.0))
            .collect();
        let collect = |e: Enumerator| {
            let mut out = Vec::new();
            let mut e = e;
            let stats = e.run(|h, _| out.push((h.length, h.count, h.tally, h.moves(), h.steps())));
            (out, stats)
        };
        let (parts, sp) = collect(Enumerator::new(g, &f, 18, true).scored(&scores));
        let (vectors, sv) = collect(
            Enumerator::new(g, &f, 18, true)
                .scored(&scores)
                .composing_all(),
        );
        assert_eq!(parts.len(), vectors.len());
        for (p, v) in parts.iter().zip(&vectors) {
            assert_eq!((p.0, p.1, &p.3, &p.4), (v.0, v.1, &v.3, &v.4));
            assert_eq!(
                (p.2.total_steps, p.2.max_steps),
                (v.2.total_steps, v.2.max_steps)
            );
            assert!((p.2.loglik - v.2.loglik).abs() < 1e-9);
        }
        assert!(sp.streamed > 1000 && sv.streamed == 0);
        assert_eq!((sp.programs, sp.evaluated), (sv.programs, sv.evaluated));
    }

    /// (length, traits, moves, steps) -> total count.
    type Behaviours = BTreeMap<(u32, u8, bool, bool, Vec<u8>, Vec<u64>), f64>;

    fn behaviours(g: Grammar, f: &[Features], bits: u32, prune: bool) -> (Behaviours, Stats) {
        let mut out = Behaviours::new();
        let stats = Enumerator::new(g, f, bits, prune).run(|h, _| {
            let t = h.traits;
            *out.entry((
                h.length,
                t.searched,
                t.brute,
                t.lookup,
                h.moves(),
                h.steps(),
            ))
            .or_default() += h.count;
        });
        (out, stats)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(12))]
        /// Pruning never drops a distinct behaviour, and every behaviour keeps its program count.
        #[test]
        fn pruning_keeps_every_behaviour_and_its_count(seed in 0u64..1000, n in 1usize..6, bits in 14u32..19) {
            let (g, f) = states(seed, n);
            let (pruned, sp) = behaviours(g, &f, bits, true);
            let (naive, sn) = behaviours(g, &f, bits, false);
            prop_assert_eq!(&pruned, &naive);
            prop_assert_eq!(sp.programs, sn.programs);
            prop_assert!(sp.evaluated <= sn.evaluated);
        }
    }
}
