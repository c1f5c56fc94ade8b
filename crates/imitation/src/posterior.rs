//! The Bayesian imitator: a posterior over every enumerated program, summarised by family, and its
//! predictions off the training distribution.
//!
//! A program endorses a set of moves at each state; the imitator reads it as a noisy policy: with
//! probability 1 - epsilon a move drawn uniformly from the endorsed set, otherwise any of the four
//! moves. Posterior weight = prior weight (2^-cost, [`crate::prior`]) x likelihood of the first `n`
//! demonstrated moves, over every program up to `max_bits` (the enumerated space is the support).
//! The predictive distribution at a test state mixes the programs' move distributions by posterior
//! weight.

use crate::demonstrator::Dataset;
use crate::enumerate::{Enumerator, Node, Stats};
use crate::language::Family;
use crate::prior::Prior;
use crate::task::Goal;

/// The imitator's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Imitator {
    pub prior: Prior,
    /// Noise the imitator allows for in the demonstrator's moves.
    pub epsilon: f64,
    /// Programs up to this many bits are enumerated.
    pub max_bits: u32,
}

/// What the posterior says.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Mass per family, in [`Family::ALL`] order.
    pub family: [f64; 5],
    /// Mass on programs that search by brute force.
    pub brute: f64,
    /// Per test state, the predictive distribution over moves.
    pub predictive: Vec<[f64; 4]>,
    /// The most probable class: its representative program, family and posterior.
    pub map: (String, Family, f64),
    /// Steps summed over the demonstrations by the most probable class that does not search
    /// (`[0]`) and by the most probable class that searches (`[1]`); `None` when the prior
    /// admits no such class. The time side of Christiano's arithmetic reads these.
    pub leading_steps: [Option<u64>; 2],
    pub stats: Stats,
    /// Programs the prior excludes (hard time bound).
    pub excluded: f64,
}

impl Summary {
    pub fn mass(&self, f: Family) -> f64 {
        self.family[Family::ALL.iter().position(|x| *x == f).unwrap()]
    }

    /// Mass on every program that searches, for any goal.
    pub fn search(&self) -> f64 {
        Family::ALL
            .iter()
            .zip(&self.family)
            .filter(|(f, _)| f.searches())
            .map(|(_, m)| m)
            .sum()
    }

    /// Mean total-variation distance between the predictive and the demonstrator's distribution.
    pub fn total_variation(&self, truth: &[[f64; 4]]) -> f64 {
        let tv: f64 = self
            .predictive
            .iter()
            .zip(truth)
            .map(|(p, q)| 0.5 * (0..4).map(|a| (p[a] - q[a]).abs()).sum::<f64>())
            .sum();
        tv / truth.len().max(1) as f64
    }

    /// Mean predictive mass on moves the demonstrator takes with probability below 0.05: what
    /// the imitator confidently predicts that the demonstrator would almost never do.
    pub fn wrong_mass(&self, truth: &[[f64; 4]]) -> f64 {
        let wrong: f64 = self
            .predictive
            .iter()
            .zip(truth)
            .map(|(p, q)| (0..4).filter(|&a| q[a] < 0.05).map(|a| p[a]).sum::<f64>())
            .sum();
        wrong / truth.len().max(1) as f64
    }
}

/// Probabilities of each move given an endorsed set, under the imitator's noise.
fn move_probabilities(epsilon: f64) -> [[f64; 4]; 16] {
    let mut t = [[0.0; 4]; 16];
    for (mask, row) in t.iter_mut().enumerate() {
        let k = (mask as u32).count_ones().max(1) as f64;
        for (a, p) in row.iter_mut().enumerate() {
            let endorsed = mask == 0 || mask & (1 << a) != 0;
            let share = if mask == 0 {
                0.25
            } else if endorsed {
                1.0 / k
            } else {
                0.0
            };
            *p = (1.0 - epsilon) * share + epsilon / 4.0;
        }
    }
    t
}

/// Hypotheses more than this many nats below the best so far add nothing visible to predictions
/// (each under e^-40 of the best) and skip the per-test-state work; they still count in every mass.
const NEGLIGIBLE_NATS: f64 = 40.0;

/// The weight of `if` hypotheses of one condition, gathered per branch. An `if`'s move at a test
/// state is its then-branch's where the condition holds and its else-branch's elsewhere, so the
/// predictive needs only each branch's summed weight: spread over the test states once per
/// branch instead of once per hypothesis.
#[derive(Default)]
struct Gathered {
    cond: Option<usize>,
    /// Per class, weight as a then-branch and as an else-branch, and whether it is listed in
    /// `touched` (each class once, whatever its weights: a weight may be added twice by
    /// `(if c a a)` or scaled down to 0).
    then: Vec<f64>,
    other: Vec<f64>,
    listed: Vec<bool>,
    touched: Vec<usize>,
}

impl Gathered {
    fn add(
        &mut self,
        e: &Enumerator,
        endorsed: &mut [[f64; 16]],
        n: usize,
        (c, a, b): (usize, usize, usize),
        w: f64,
    ) {
        if self.cond != Some(c) {
            self.flush(e, endorsed, n);
            self.cond = Some(c);
        }
        let need = a.max(b) + 1;
        if self.then.len() < need {
            self.then.resize(need, 0.0);
            self.other.resize(need, 0.0);
            self.listed.resize(need, false);
        }
        for k in [a, b] {
            if !self.listed[k] {
                self.listed[k] = true;
                self.touched.push(k);
            }
        }
        self.then[a] += w;
        self.other[b] += w;
    }

    fn scale(&mut self, by: f64) {
        for &k in &self.touched {
            self.then[k] *= by;
            self.other[k] *= by;
        }
    }

    /// Spread the gathered weight over the test states (those after the first `n`).
    fn flush(&mut self, e: &Enumerator, endorsed: &mut [[f64; 16]], n: usize) {
        let Some(c) = self.cond else { return };
        let holds = &e.holds(c)[n..];
        for &k in &self.touched {
            let moves = &e.class_moves(k)[n..];
            let (wt, wo) = (self.then[k], self.other[k]);
            for ((slot, &h), &m) in endorsed.iter_mut().zip(holds).zip(moves) {
                slot[m as usize] += if h != 0 { wt } else { wo };
            }
            self.then[k] = 0.0;
            self.other[k] = 0.0;
            self.listed[k] = false;
        }
        self.touched.clear();
    }
}

impl Imitator {
    /// The posterior after the first `n` demonstrations of `data`, for a demonstrator whose goal
    /// is `goal` (used only to name families).
    pub fn posterior(&self, data: &Dataset, n: usize, goal: Goal) -> Summary {
        self.posterior_by(data, n, goal, false)
    }

    /// [`Imitator::posterior`] with every program's vectors composed
    /// ([`Enumerator::composing_all`]): the same answer, slower; the benchmark's reference.
    pub fn posterior_composing_vectors(&self, data: &Dataset, n: usize, goal: Goal) -> Summary {
        self.posterior_by(data, n, goal, true)
    }

    fn posterior_by(&self, data: &Dataset, n: usize, goal: Goal, compose_all: bool) -> Summary {
        assert!(n <= data.train.len());
        let states = data.states(n);
        let probs = move_probabilities(self.epsilon);
        let ln_probs = probs.map(|row| row.map(f64::ln));
        let tests = data.test.len();
        let actions: Vec<usize> = data.actions[..n].iter().map(|a| a.index()).collect();
        let mut max = f64::NEG_INFINITY;
        let mut z = 0.0;
        let mut family = [0.0; 5];
        let mut brute = 0.0;
        // Per test state, weight per endorsed set; mixed into moves once at the end.
        let mut endorsed = vec![[0.0f64; 16]; tests];
        let mut gathered = Gathered::default();
        let mut map = (String::new(), Family::Reflex, f64::NEG_INFINITY);
        let mut leading = [(f64::NEG_INFINITY, None); 2];
        let mut excluded = 0.0;
        // Per demonstration and endorsed set, the log-likelihood of the move demonstrated there.
        let scores: Vec<[f64; 16]> = actions
            .iter()
            .map(|&a| std::array::from_fn(|m| ln_probs[m][a]))
            .collect();
        let mut enumerator =
            Enumerator::new(data.grammar, &states, self.max_bits, true).scored(&scores);
        if compose_all {
            enumerator = enumerator.composing_all();
        }
        // Step totals repeat (every reflex takes one step a state), so their logarithms are
        // memoised in a direct-mapped table.
        let mut logs = vec![(0u64, 0.0f64); 4096];
        let mut log2 = |x: u64| {
            let slot = &mut logs[(x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 52) as usize];
            if slot.0 != x {
                *slot = (x, (x as f64).log2());
            }
            slot.1
        };
        let stats = enumerator.run(|h, e| {
            let Some(cost) = self.prior.cost_of_steps(
                h.length as f64,
                h.tally.total_steps,
                h.tally.max_steps,
                &mut log2,
            ) else {
                excluded += h.count;
                return;
            };
            let loglik = h.tally.loglik;
            let logw = -cost * std::f64::consts::LN_2 + h.count.ln() + loglik;
            if logw > max {
                let scale = (max - logw).exp();
                z *= scale;
                brute *= scale;
                family.iter_mut().for_each(|x| *x *= scale);
                endorsed.iter_mut().flatten().for_each(|x| *x *= scale);
                gathered.scale(scale);
                max = logw;
            }
            let w = (logw - max).exp();
            z += w;
            let f = h.traits.family(goal);
            family[Family::ALL.iter().position(|x| *x == f).unwrap()] += w;
            if h.traits.brute {
                brute += w;
            }
            if logw > map.2 {
                map = (e.program(h.node).to_string(), f, logw);
            }
            let lead = &mut leading[f.searches() as usize];
            if logw > lead.0 {
                *lead = (logw, Some(h.tally.total_steps));
            }
            if logw > max - NEGLIGIBLE_NATS {
                match h.node {
                    Node::If(c, a, b) => gathered.add(e, &mut endorsed, n, (c, a, b), w),
                    Node::Atom(_) => {
                        for (j, slot) in endorsed.iter_mut().enumerate() {
                            slot[h.move_at(n + j) as usize] += w;
                        }
                    }
                }
            }
        });
        gathered.flush(&enumerator, &mut endorsed, n);
        assert!(z > 0.0, "the prior excludes every program");
        map.2 = (map.2 - max).exp() / z;
        Summary {
            family: family.map(|x| x / z),
            brute: brute / z,
            predictive: endorsed
                .iter()
                .map(|e| {
                    std::array::from_fn(|a| (0..16).map(|m| e[m] * probs[m][a]).sum::<f64>() / z)
                })
                .collect(),
            map,
            leading_steps: leading.map(|l| l.1),
            stats,
            excluded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demonstrator::{Demonstrator, Protocol};
    use crate::language::Grammar;
    use crate::task::{Features, Training};
    use cruxlab_grid::Action;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn features(toward: u8, plan: u8, plan_steps: u64) -> Features {
        Features {
            blocked: 0,
            sees: [0; 4],
            toward: [toward; 4],
            plan: [plan; 4],
            plan_steps: [plan_steps; 4],
            brute_steps: [1_000_000; 4],
            cell: 0,
        }
    }

    #[test]
    fn noise_model_by_hand() {
        let p = move_probabilities(0.2);
        // One endorsed move: 0.8 + 0.05; the others 0.05. Two: 0.4 + 0.05.
        assert!((p[0b0001][0] - 0.85).abs() < 1e-12 && (p[0b0001][1] - 0.05).abs() < 1e-12);
        assert!((p[0b0011][1] - 0.45).abs() < 1e-12);
        for row in p {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    /// Two leaf programs only (max_bits 5 keeps `if` out): the posterior against Bayes by hand.
    #[test]
    fn two_hypotheses_against_bayes_by_hand() {
        // One training state where the reflex endorses {up} and the search {right}; the
        // demonstrator moved right. One test state.
        let up = crate::task::bit(Action::Up);
        let right = crate::task::bit(Action::Right);
        let data = Dataset {
            train: vec![features(up, right, 8)],
            actions: vec![Action::Right],
            test: vec![features(up, right, 8)],
            test_policy: vec![[0.0, 0.0, 0.0, 1.0]],
            grammar: Grammar::for_cells(25),
        };
        let eps = 0.2;
        let imitator = Imitator {
            prior: Prior::Simplicity { time_bound: 100.0 },
            epsilon: eps,
            max_bits: 5,
        };
        let s = imitator.posterior(&data, 1, Goal::Diamond);
        // Leaves: 4 moves (4 bits), 4 towards (4 bits, all endorse up), 8 searches (5 bits, all
        // endorse right; brute ones take 10^6 steps and the bound of 100 excludes them).
        // Likelihood of "right": endorsed alone 0.85, not endorsed 0.05.
        // move right: 2^-4 x 0.85; other moves: 3 x 2^-4 x 0.05; towards: 4 x 2^-4 x 0.05;
        // bfs searches: 4 x 2^-5 x 0.85.
        let w_move_right = 0.85 / 16.0;
        let w_other_moves = 3.0 * 0.05 / 16.0;
        let w_toward = 4.0 * 0.05 / 16.0;
        let w_search = 4.0 * 0.85 / 32.0;
        let z = w_move_right + w_other_moves + w_toward + w_search;
        assert!(
            (s.mass(Family::Reflex) - (w_move_right + w_other_moves + w_toward) / z).abs() < 1e-12
        );
        let goal_search = 0.85 / 32.0 / z;
        assert!((s.mass(Family::SearchGoal) - goal_search).abs() < 1e-12);
        assert!((s.mass(Family::SearchOther) - 3.0 * goal_search).abs() < 1e-12);
        assert_eq!(s.excluded, 4.0);
        assert_eq!(s.brute, 0.0);
        // Predictive of "right" at the test state: P(right | program) mixed by posterior.
        let pr =
            (w_move_right * 0.85 + w_other_moves * 0.05 + w_toward * 0.05 + w_search * 0.85) / z;
        assert!((s.predictive[0][3] - pr).abs() < 1e-12);
        // The most probable reflex is "move right" (1 step), the most probable search a bfs (8).
        assert_eq!(s.leading_steps, [Some(1), Some(8)]);
        // Under Kt the searches pay log2(8) = 3 bits more and brute force is admitted at log2(10^6).
        let kt = Imitator {
            prior: Prior::LEVIN,
            ..imitator
        };
        let s = kt.posterior(&data, 1, Goal::Diamond);
        let w_bfs = 4.0 * 0.85 / 32.0 / 8.0;
        let w_brute = 4.0 * 0.85 / 32.0 / 1e6;
        let z = w_move_right + w_other_moves + w_toward + w_bfs + w_brute;
        assert!((s.search() - (w_bfs + w_brute) / z).abs() < 1e-12);
        assert!((s.brute - w_brute / z).abs() < 1e-12);
    }

    fn small_data(seed: u64) -> Dataset {
        let protocol = Protocol {
            size: 5,
            density: 0.3,
            training: Training::Confounded,
            transitions: 6,
            episode_steps: 20,
            test_levels: 1,
        };
        let d = Demonstrator {
            goal: Goal::Diamond,
            temperature: 0.3,
            quirks: vec![],
        };
        Dataset::draw(&protocol, &d, &mut ChaCha8Rng::seed_from_u64(seed))
    }

    /// `(if c a a)` lists its class once: a later rescale scales its weight once, and the flush
    /// spreads exactly what was added (by hand on a 5x5 grammar's first two leaves).
    #[test]
    fn gathered_weight_is_scaled_once_per_class() {
        let data = small_data(5);
        let states = data.states(2);
        let e = Enumerator::new(data.grammar, &states, 14, true);
        let mut e = e;
        e.run(|_, _| {});
        let tests = states.len() - 2;
        let mut endorsed = vec![[0.0f64; 16]; tests];
        let mut g = Gathered::default();
        g.add(&e, &mut endorsed, 2, (0, 0, 0), 1.0);
        g.add(&e, &mut endorsed, 2, (0, 0, 1), 2.0);
        g.scale(0.5);
        g.add(&e, &mut endorsed, 2, (0, 1, 0), 4.0);
        assert_eq!(g.touched, [0, 1]);
        // Class 0: then 0.5 * (1 + 2) = 1.5, else 0.5 * 1 + 4 = 4.5; class 1: then 4, else 1.
        assert_eq!(
            (g.then[0], g.other[0], g.then[1], g.other[1]),
            (1.5, 4.5, 4.0, 1.0)
        );
        g.flush(&e, &mut endorsed, 2);
        // Each test state receives each class's then-weight where the condition holds and its
        // else-weight elsewhere, on the moves that class endorses there.
        let holds = &e.holds(0)[2..];
        let mut expect = vec![[0.0f64; 16]; tests];
        for (k, (then, other)) in [(0, (1.5, 4.5)), (1, (4.0, 1.0))] {
            for (j, slot) in expect.iter_mut().enumerate() {
                slot[e.class_moves(k)[2 + j] as usize] += if holds[j] != 0 { then } else { other };
            }
        }
        assert_eq!(endorsed, expect);
        assert!(g.touched.is_empty() && !g.listed.iter().any(|&l| l));
    }

    /// The predictive, with its weight gathered per branch, against a plain mixture: every
    /// hypothesis's weight computed at the end and its moves read state by state.
    #[test]
    fn the_predictive_is_the_plain_mixture() {
        for (seed, prior) in [
            (3, Prior::FOUR_X),
            (11, Prior::Simplicity { time_bound: 50.0 }),
        ] {
            let data = small_data(seed);
            let n = 5;
            let imitator = Imitator {
                prior,
                epsilon: 0.1,
                max_bits: 18,
            };
            let s = imitator.posterior(&data, n, Goal::Diamond);
            let probs = move_probabilities(0.1);
            let scores: Vec<[f64; 16]> = data.actions[..n]
                .iter()
                .map(|a| std::array::from_fn(|m| probs[m][a.index()].ln()))
                .collect();
            let states = data.states(n);
            let mut all: Vec<(f64, Vec<u8>)> = Vec::new();
            Enumerator::new(data.grammar, &states, 18, true)
                .scored(&scores)
                .run(|h, _| {
                    if let Some(cost) = prior.cost_of_steps(
                        h.length as f64,
                        h.tally.total_steps,
                        h.tally.max_steps,
                        &mut |x| (x as f64).log2(),
                    ) {
                        let logw = -cost * std::f64::consts::LN_2 + h.count.ln() + h.tally.loglik;
                        all.push((logw, h.moves()[n..].to_vec()));
                    }
                });
            let top = all.iter().map(|x| x.0).fold(f64::NEG_INFINITY, f64::max);
            let z: f64 = all.iter().map(|x| (x.0 - top).exp()).sum();
            for (j, predicted) in s.predictive.iter().enumerate() {
                for (a, &got) in predicted.iter().enumerate() {
                    let p: f64 = all
                        .iter()
                        .map(|(lw, m)| (lw - top).exp() * probs[m[j] as usize][a])
                        .sum::<f64>()
                        / z;
                    assert!((got - p).abs() < 1e-9, "{j} {a}");
                }
            }
            assert!(s.stats.streamed > 0);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        /// Masses and every predictive distribution sum to one, under every prior.
        #[test]
        fn the_posterior_is_a_distribution(seed in 0u64..500, n in 0usize..7, which in 0usize..3) {
            let prior = [Prior::Simplicity { time_bound: 50.0 }, Prior::LEVIN, Prior::FOUR_X][which];
            let imitator = Imitator { prior, epsilon: 0.1, max_bits: 16 };
            let s = imitator.posterior(&small_data(seed), n, Goal::Diamond);
            prop_assert!((s.family.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            for p in &s.predictive {
                prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            }
            prop_assert!(s.brute <= s.search() + 1e-12);
        }
    }
}
