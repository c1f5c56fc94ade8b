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
}

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
}

/// One hypothesis class as the caller sees it.
pub struct Hypothesis<'a> {
    pub length: u32,
    pub traits: Traits,
    /// How many programs the class stands for.
    pub count: f64,
    /// Per state, the moves endorsed.
    pub moves: &'a [u8],
    /// Per state, the steps taken.
    pub steps: &'a [u64],
    pub node: Node,
}

/// What an enumeration did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    /// Programs covered (every syntactic program up to the bound).
    pub programs: f64,
    /// Vector evaluations performed (each class or streamed program computed once).
    pub evaluated: u64,
    /// Classes handed to the caller.
    pub hypotheses: u64,
}

pub struct Enumerator<'a> {
    grammar: Grammar,
    states: &'a [Features],
    max_bits: u32,
    prune: bool,
    atoms: Vec<Program>,
    conds: Vec<CondClass>,
    cond_values: Vec<u8>,
    classes: Vec<Class>,
    moves: Vec<u8>,
    steps: Vec<u64>,
}

/// The shortest `if`: tag, shortest condition, two shortest branches.
const MIN_IF_OVERHEAD: u32 = Grammar::TAG + Grammar::BLOCKED + Grammar::MOVE;

impl<'a> Enumerator<'a> {
    /// `prune = false` keeps every program as its own class (for tests of the pruning).
    pub fn new(grammar: Grammar, states: &'a [Features], max_bits: u32, prune: bool) -> Self {
        let s = states.len();
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
            cond_values.extend_from_slice(&values);
            conds.push(CondClass {
                cond,
                length,
                count: 1.0,
            });
        }
        debug_assert_eq!(cond_values.len(), conds.len() * s);
        Enumerator {
            grammar,
            states,
            max_bits,
            prune,
            atoms: atoms(),
            conds,
            cond_values,
            classes: Vec::new(),
            moves: Vec::new(),
            steps: Vec::new(),
        }
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

    /// Hand every class of programs up to `max_bits` to `visit`, in nondecreasing length.
    pub fn run(&mut self, mut visit: impl FnMut(&Hypothesis<'_>, &Self)) -> Stats {
        let s = self.states.len();
        let mut stats = Stats::default();
        let mut by_length: Vec<Vec<usize>> = vec![Vec::new(); self.max_bits as usize + 1];
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
                    for c in 0..self.conds.len() {
                        if self.conds[c].length != lc {
                            continue;
                        }
                        for ai in 0..by_length[la as usize].len() {
                            for bi in 0..by_length[lb as usize].len() {
                                let (a, b) =
                                    (by_length[la as usize][ai], by_length[lb as usize][bi]);
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
                                    &scratch_m,
                                    &scratch_t,
                                    store,
                                    &mut index,
                                    &mut by_length,
                                    &mut stats,
                                    &mut visit,
                                );
                            }
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
                    moves: &self.moves[k * s..(k + 1) * s],
                    steps: &self.steps[k * s..(k + 1) * s],
                    node: c.node,
                };
                stats.hypotheses += 1;
                visit(&h, self);
            }
        }
        stats
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
                moves: m,
                steps: t,
                node,
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
        self.moves.extend_from_slice(m);
        self.steps.extend_from_slice(t);
        self.classes.push(Class {
            length,
            traits,
            count,
            node,
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
    use rand::SeedableRng;
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
                assert_eq!(p.run(s), (h.moves[k], h.steps[k]), "{p}");
            }
            checked += 1;
        });
        assert!(checked > 1000);
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
                h.moves.to_vec(),
                h.steps.to_vec(),
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
