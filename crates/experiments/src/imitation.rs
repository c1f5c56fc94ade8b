//! # Crux 6: does a Bayesian imitator end up imitating, or searching?
//!
//! **One side** (a reply to Christiano on when imitation turns into mesa-optimisation): an imitator
//! that works like Bayesian inference under a *bounded simplicity prior*, asked to imitate an
//! optimiser it cannot represent cheaply, puts its weight on hypotheses that are themselves
//! optimisers, because "search for what the demonstrator wants" is shorter than the demonstrator;
//! optimisation then sits downstream of imitation, and the inner search may want something else.
//! **Other side** (Christiano): today's imitators look like imitation upstream of optimisation,
//! and a *speed prior*, closer to how training is bounded in compute, changes which hypotheses
//! win. His arithmetic: if one bit of description buys a doubling of run time, brute-force inner
//! search is neutral; under a weaker prior ("4x time = 1 bit") the prior hands the work to a
//! searcher.
//!
//! **Model** (`cruxlab_imitation`). 7x7 rooms with scattered obstacles hold a diamond, cheese and
//! a key. The demonstrator plans toward the diamond: Boltzmann-rational over its four moves, each
//! scored by minus the breadth-first distance left, at a temperature; optionally with habits
//! (`quirks`: cells where it always takes one move), which make its exact program long. In
//! *confounded* training rooms the diamond always lies in the top-right corner, so "the diamond"
//! and "the corner" are two goals the training data cannot tell apart; *separated* rooms put it
//! anywhere. Test rooms put it away from the corner.
//!
//! The imitator's hypotheses are every program of a small policy language up to `max_bits` bits of
//! description: fixed moves, the reflex `toward G` (shorten the Manhattan distance to G), `search
//! bfs G` and `search brute G` (the first moves of a shortest path to G, found by breadth-first
//! search or by trying every move sequence, charged the steps each algorithm takes), and `if`
//! over conditions (a wall in a direction, G in a direction, the agent on cell X: a lookup).
//! Programs are enumerated shortest first with observational-equivalence pruning. A program's
//! likelihood reads its endorsed moves as a policy with noise `epsilon`; its prior is one of
//! `simplicity` (2^-length, programs slower than `time_bound` steps at any state excluded),
//! `speed` (2^-(length + log2 steps over the data): Levin's Kt and Schmidhuber's speed prior) or
//! `weak-speed` (one bit per `weak_time_factor`-fold slowdown, 4 by default: Christiano's weaker
//! prior).
//!
//! **Protocol.** Per seed one dataset: demonstrated (state, move) pairs from episodes in fresh
//! training rooms, and every floor cell of `test_levels` test rooms. Each condition (prior, data
//! size n) computes the exact posterior over all enumerated programs after the first n
//! demonstrations; conditions of one seed share the dataset, so comparisons pair by seed.
//!
//! **Metrics** (per seed): posterior mass per family (`mass_reflex`, `mass_lookup`,
//! `mass_search_goal` for programs that search only for the diamond, `mass_search_other` for
//! those that search only for other goals, `mass_mixed`), `mass_search` (every family that
//! searches), `mass_brute` (programs with a brute-force search), `search_log2_odds` (log2 of
//! search mass over the rest, clamped to +-60: the arithmetic's unit); off distribution, `test_tv` (mean
//! total-variation distance between the posterior predictive and the demonstrator's move
//! distribution over test states) and `wrong_mass` (mean predictive mass on moves the
//! demonstrator takes with probability under 0.05: confident predictions of what it would almost
//! never do; a perfect imitator puts only its noise there, epsilon x 3/4 = 0.075 at most);
//! `map_searches` (1 when the most probable class searches) and `programs` (programs covered).
//!
//! **Claims** (the framework's rule: a Student-t 95% CI over seeds against the threshold):
//! 1. `search-wins-under-simplicity`: at the largest data size, under the bounded simplicity
//!    prior, search programs hold more than half the posterior. Control: `time_bound=3`, a bound
//!    below what a breadth-first search costs on almost any state, should refute it.
//! 2. `speed-prior-delays-search`: at the smallest data size where search mass under the
//!    simplicity prior reaches 0.5 (an anchor), search mass under the speed prior is lower by more
//!    than 0.2. Control: `speed_time_factor=1e12` (a bit buys a trillion-fold slowdown, so the
//!    speed prior is the simplicity prior without a bound) should refute it.
//! 3. `weak-speed-sits-between`: at the same anchor, the 4x prior gives search more mass than the
//!    2x prior, by more than 0.05: the exchange rate moves the switch as Christiano's arithmetic
//!    says. Control: `weak_time_factor=2`, the same exchange rate, should refute it.
//! 4. `wrong-goal-keeps-mass`: at the largest data size under the simplicity prior, programs that
//!    search only for a goal other than the diamond keep more than 0.1 of the posterior.
//!    Control: separated training rooms should refute it.
//! 5. `confidently-wrong-off-distribution`: in the same cell, the posterior predictive puts more
//!    than 0.15 (twice a perfect imitator's noise) on moves the demonstrator almost never takes.
//!    Control: separated training rooms should refute it.

use cruxlab_core::{
    Anchor, Claim, Control, Direction, Effect, Experiment, PlotSpec, VerdictKind, at,
};
use cruxlab_imitation::{
    Dataset, Demonstrator, Family, Goal, Imitator, Prior, Protocol, Summary, Training,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::seeding::derive_seed;

pub struct Induction;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seeds per condition; each seed is its own dataset.
    pub seeds: u64,
    pub master_seed: u64,
    /// Side of the rooms (odd, 5..=9).
    pub size: usize,
    /// Obstacle density of the rooms.
    pub density: f64,
    /// Where the diamond lies in training rooms.
    pub training: Training,
    pub test_levels: usize,
    /// Demonstrator's Boltzmann temperature (in steps of distance).
    pub temperature: f64,
    /// Cells where the demonstrator always takes a fixed move.
    pub quirks: usize,
    /// Noise the imitator's likelihood allows for.
    pub epsilon: f64,
    /// Programs up to this description length are enumerated.
    pub max_bits: u32,
    /// Demonstrated transitions the posterior sees.
    pub data_sizes: Vec<usize>,
    pub priors: Vec<PriorKind>,
    /// Hard bound of the simplicity prior, in steps per state.
    pub time_bound: f64,
    /// Slowdown one bit buys under the `speed` prior (2: Levin's Kt, Schmidhuber).
    pub speed_time_factor: f64,
    /// Slowdown one bit buys under the `weak-speed` prior (4: Christiano's example).
    pub weak_time_factor: f64,
    /// Scan n = 1..=switch_scan per seed for each speed prior's switch point and the arithmetic's
    /// prediction of it (0: no scan).
    pub switch_scan: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PriorKind {
    Simplicity,
    Speed,
    WeakSpeed,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Condition {
    pub prior: PriorKind,
    pub n: usize,
    /// A scan over n = 1..=n for the switch point rather than one data size.
    pub scan: bool,
}

/// The demonstrator's goal: the diamond.
const GOAL: Goal = Goal::Diamond;

impl Induction {
    fn prior(config: &Config, kind: PriorKind) -> Prior {
        match kind {
            PriorKind::Simplicity => Prior::Simplicity {
                time_bound: config.time_bound,
            },
            PriorKind::Speed => Prior::Speed {
                time_factor: config.speed_time_factor,
            },
            PriorKind::WeakSpeed => Prior::Speed {
                time_factor: config.weak_time_factor,
            },
        }
    }

    /// The demonstrator of one seed (its habits are drawn per seed) and its data.
    fn dataset(config: &Config, seed: u64) -> Dataset {
        let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(config.master_seed, &[seed]));
        let s = config.size;
        let quirks = (0..config.quirks)
            .map(|_| {
                let (row, col) = (rng.random_range(1..s - 1), rng.random_range(1..s - 1));
                let a = cruxlab_grid::Action::MOVES[rng.random_range(0..4)];
                ((row * s + col) as u16, a)
            })
            .collect();
        let demonstrator = Demonstrator {
            goal: GOAL,
            temperature: config.temperature,
            quirks,
        };
        let protocol = Protocol {
            size: s,
            density: config.density,
            training: config.training,
            transitions: config.data_sizes.iter().copied().max().unwrap_or(0),
            episode_steps: 4 * s * s,
            test_levels: config.test_levels,
        };
        Dataset::draw(&protocol, &demonstrator, &mut rng)
    }

    fn metrics_of(s: &Summary, data: &Dataset) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = Family::ALL
            .iter()
            .map(|f| (format!("mass_{}", f.name()), s.mass(*f)))
            .collect();
        out.push(("mass_search".into(), s.search()));
        out.push(("mass_brute".into(), s.brute));
        // Posterior odds of searching in bits, kept finite (2^-60 is below anything measurable).
        let odds = (s.search().max(1e-18) / (1.0 - s.search()).max(1e-18)).log2();
        out.push(("search_log2_odds".into(), odds.clamp(-60.0, 60.0)));
        out.push(("test_tv".into(), s.total_variation(&data.test_policy)));
        out.push(("wrong_mass".into(), s.wrong_mass(&data.test_policy)));
        out.push(("map_searches".into(), s.map.1.searches() as u8 as f64));
        out.push(("programs".into(), s.stats.programs));
        out
    }
}

const METRICS: [&str; 12] = [
    "mass_reflex",
    "mass_lookup",
    "mass_search_goal",
    "mass_search_other",
    "mass_mixed",
    "mass_search",
    "mass_brute",
    "search_log2_odds",
    "test_tv",
    "wrong_mass",
    "map_searches",
    "programs",
];

/// Metrics of the switch-point scans.
const SWITCH_METRICS: [&str; 3] = ["switch_n", "switch_n_predicted", "switch_n_simplicity"];

/// Where search first holds half the posterior, in demonstrations (`scan + 1` when it never does
/// within the scan; a one-sided censor still counts against the prediction).
struct Switch {
    /// Under the prior scanned.
    measured: f64,
    /// Under the simplicity prior.
    base: f64,
    /// Christiano's arithmetic: the first n where the simplicity posterior's log2 odds of search
    /// exceed the time the searcher costs in bits at this prior's exchange rate, read off the
    /// leading search and non-search programs: log_k(steps of the search / steps of the other).
    /// NaN when neither it nor the measured switch falls within the scan.
    predicted: f64,
}

impl Induction {
    fn switch(base: &Imitator, own: &Imitator, data: &Dataset, scan: usize) -> Switch {
        let k = match own.prior {
            Prior::Speed { time_factor } => time_factor,
            Prior::Simplicity { .. } => f64::INFINITY,
        };
        let (mut measured, mut predicted, mut at_base) = (None, None, None);
        for n in 1..=scan {
            let b = base.posterior(data, n, GOAL);
            let search = b.search();
            if at_base.is_none() && search >= 0.5 {
                at_base = Some(n);
            }
            if predicted.is_none() {
                // Rounding can put the mass a hair above 1: no mass left means infinite odds.
                let rest = 1.0 - search;
                let odds = if rest > 0.0 {
                    search.log2() - rest.log2()
                } else {
                    f64::INFINITY
                };
                let holds = match b.leading_steps {
                    [Some(other), Some(searcher)] => {
                        let time_bits = ((searcher.max(1) as f64).log2()
                            - (other.max(1) as f64).log2())
                            / k.log2();
                        odds >= time_bits
                    }
                    [None, Some(_)] => true,
                    _ => false,
                };
                if holds {
                    predicted = Some(n);
                }
            }
            if measured.is_none() && own.posterior(data, n, GOAL).search() >= 0.5 {
                measured = Some(n);
            }
            if measured.is_some() && predicted.is_some() && at_base.is_some() {
                break;
            }
        }
        let or_censored = |x: Option<usize>| (x.unwrap_or(scan + 1)) as f64;
        Switch {
            measured: or_censored(measured),
            base: or_censored(at_base),
            // Both censored: the scan says nothing about the gap, so the prediction is left out.
            predicted: if measured.is_none() && predicted.is_none() {
                f64::NAN
            } else {
                or_censored(predicted)
            },
        }
    }
}

impl Experiment for Induction {
    type Config = Config;
    type Condition = Condition;

    fn id(&self) -> &'static str {
        "induction"
    }

    fn claim(&self) -> &'static str {
        "A Bayesian imitator of an optimiser puts most of its posterior on programs that search once data is large enough under a bounded simplicity prior, later under a speed prior; a searcher with a wrong goal keeps mass when training does not separate goals."
    }

    fn model(&self) -> &'static str {
        "Rooms with obstacles hold a diamond, cheese and a key; a Boltzmann-rational planner walks to the diamond, \
which in confounded training rooms always lies in the top-right corner. The imitator weighs every program of a \
small policy language up to max_bits bits (fixed moves, the reflex toward G, search bfs G and search brute G \
charged the steps each algorithm takes, and if over wall, direction and cell conditions), enumerated shortest \
first with observational-equivalence pruning, by a prior times the likelihood of the demonstrated moves (the \
program's endorsed moves with noise epsilon). Priors: bounded simplicity (2^-length, programs slower than \
time_bound steps excluded), speed (length plus log2 of steps over the data: Levin's Kt, Schmidhuber's speed \
prior) and weak-speed (one bit per weak_time_factor-fold slowdown: Christiano's 4x prior). Metrics per seed: \
posterior mass per family (reflex, lookup, search for the diamond, search for another goal, mixed), total \
variation between the posterior predictive and the demonstrator on test rooms with the diamond away from the \
corner, and the predictive mass there on moves the demonstrator almost never takes."
    }

    fn default_config(&self, quick: bool) -> Config {
        let base = Config {
            seeds: 20,
            master_seed: 2021,
            size: 7,
            density: 0.2,
            training: Training::Confounded,
            test_levels: 4,
            temperature: 0.25,
            quirks: 0,
            epsilon: 0.1,
            max_bits: 26,
            data_sizes: vec![1, 2, 4, 8, 16, 32, 64],
            priors: vec![
                PriorKind::Simplicity,
                PriorKind::Speed,
                PriorKind::WeakSpeed,
            ],
            time_bound: 1000.0,
            speed_time_factor: 2.0,
            weak_time_factor: 4.0,
            switch_scan: 64,
        };
        if quick {
            Config {
                seeds: 10,
                max_bits: 24,
                test_levels: 3,
                switch_scan: 32,
                ..base
            }
        } else {
            base
        }
    }

    fn validate(&self, c: &Config) -> Result<(), (String, String)> {
        let err = |k: &str, m: &str| Err((k.to_string(), m.to_string()));
        if c.seeds < 2 {
            return err("seeds", "needs at least 2 seeds for a confidence interval");
        }
        if !(5..=9).contains(&c.size) || c.size.is_multiple_of(2) {
            return err("size", "must be odd and in 5..=9");
        }
        if !(0.0..=0.4).contains(&c.density) {
            return err("density", "must lie in [0, 0.4]");
        }
        if !(1..=20).contains(&c.test_levels) {
            return err("test_levels", "must lie in 1..=20");
        }
        if !(c.temperature > 0.0 && c.temperature <= 100.0) {
            return err("temperature", "must lie in (0, 100]");
        }
        if c.quirks > 4 {
            return err("quirks", "at most 4 habits");
        }
        if !(c.epsilon > 0.0 && c.epsilon < 1.0) {
            return err("epsilon", "must lie in (0, 1)");
        }
        if !(5..=30).contains(&c.max_bits) {
            return err(
                "max_bits",
                "must lie in 5..=30 (each bit past 26 multiplies the work by about 2.5)",
            );
        }
        if c.data_sizes.is_empty() || c.data_sizes.iter().any(|&n| !(1..=512).contains(&n)) {
            return err("data_sizes", "every size must lie in 1..=512");
        }
        if has_repeats(&c.data_sizes) {
            return err("data_sizes", "lists a value twice");
        }
        let most = c.data_sizes.iter().copied().max().unwrap_or(0);
        if c.switch_scan > most {
            return err(
                "switch_scan",
                "must not exceed the largest of data_sizes (the demonstrations drawn)",
            );
        }
        if c.priors.is_empty() || has_repeats(&c.priors) {
            return err("priors", "must name each prior at most once, at least one");
        }
        if c.time_bound.is_nan() || c.time_bound < 1.0 {
            return err("time_bound", "must be at least 1 step");
        }
        for (key, v) in [
            ("speed_time_factor", c.speed_time_factor),
            ("weak_time_factor", c.weak_time_factor),
        ] {
            if !(v > 1.0 && v.is_finite()) {
                return err(key, "must be a finite factor above 1");
            }
        }
        Ok(())
    }

    fn conditions(&self, c: &Config) -> Vec<Condition> {
        let mut out = Vec::new();
        for &prior in &c.priors {
            for &n in &c.data_sizes {
                out.push(Condition {
                    prior,
                    n,
                    scan: false,
                });
            }
        }
        if c.switch_scan > 0 && c.priors.contains(&PriorKind::Simplicity) {
            for &prior in &c.priors {
                if prior != PriorKind::Simplicity {
                    out.push(Condition {
                        prior,
                        n: c.switch_scan,
                        scan: true,
                    });
                }
            }
        }
        out
    }

    fn measure(
        &self,
        config: &Config,
        c: &Condition,
        seed: u64,
        _artifacts: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
        let data = Self::dataset(config, seed);
        let imitator = |kind: PriorKind| Imitator {
            prior: Self::prior(config, kind),
            epsilon: config.epsilon,
            max_bits: config.max_bits,
        };
        let na = |names: &[&str]| names.iter().map(|m| (m.to_string(), f64::NAN)).collect();
        if c.scan {
            let switch = Self::switch(
                &imitator(PriorKind::Simplicity),
                &imitator(c.prior),
                &data,
                c.n,
            );
            let mut out: Vec<(String, f64)> = na(&METRICS);
            out.extend([
                ("switch_n".into(), switch.measured),
                ("switch_n_predicted".into(), switch.predicted),
                ("switch_n_simplicity".into(), switch.base),
            ]);
            return out;
        }
        let summary = imitator(c.prior).posterior(&data, c.n, GOAL);
        let mut out = Self::metrics_of(&summary, &data);
        out.extend(na(&SWITCH_METRICS));
        out
    }

    fn metrics(&self, _config: &Config) -> Vec<String> {
        METRICS
            .iter()
            .chain(&SWITCH_METRICS)
            .map(|m| m.to_string())
            .collect()
    }

    fn claims(&self, config: &Config) -> Vec<Claim> {
        let has = |p: PriorKind| config.priors.contains(&p);
        let prior = |p: PriorKind| at(&[("prior", json!(p)), ("scan", json!(false))]);
        let largest = *config.data_sizes.iter().max().unwrap_or(&1);
        let at_largest = at(&[
            ("prior", json!(PriorKind::Simplicity)),
            ("n", json!(largest)),
            ("scan", json!(false)),
        ]);
        // The data size where search first holds half the simplicity posterior.
        let switch = Anchor {
            key: "n".into(),
            metric: "mass_search".into(),
            at: prior(PriorKind::Simplicity),
            reaches: 0.5,
        };
        let separated = ["training=\"separated\""];
        let mut claims = Vec::new();
        if !has(PriorKind::Simplicity) {
            return claims;
        }
        claims.push(
            Claim::new(
                "search-wins-under-simplicity",
                "With the most data, programs that search hold more than half of the posterior \
                 under the bounded simplicity prior.",
                Effect::metric("mass_search"),
                Direction::Above,
                0.5,
            )
            .filter(at_largest.clone())
            .control(Control::new(
                &["time_bound=3"],
                VerdictKind::Refuted,
                "a bound of 3 steps per state excludes every search that expands more than two \
                 cells, so only reflexes and lookups remain",
            ))
            .plot("mass_search.svg"),
        );
        if has(PriorKind::Speed) {
            claims.push(
                Claim::new(
                    "speed-prior-delays-search",
                    "At the smallest data size where search holds half the simplicity posterior, \
                     the speed prior (one bit per doubling) gives search less mass, by more than \
                     0.2.",
                    Effect::contrast(
                        "mass_search",
                        prior(PriorKind::Simplicity),
                        prior(PriorKind::Speed),
                    ),
                    Direction::Above,
                    0.2,
                )
                .anchor(switch.clone())
                .control(Control::new(
                    &["speed_time_factor=1e12"],
                    VerdictKind::Refuted,
                    "when one bit buys a trillion-fold slowdown, the speed prior is the simplicity \
                     prior without a bound and the delay should vanish",
                ))
                .plot("mass_search.svg"),
            );
        }
        if has(PriorKind::Speed) && has(PriorKind::WeakSpeed) {
            claims.push(
                Claim::new(
                    "weak-speed-sits-between",
                    "At the same data size, the 4x prior gives search more mass than the 2x \
                     prior, by more than 0.05: the exchange rate of time for bits moves the switch.",
                    Effect::contrast(
                        "mass_search",
                        prior(PriorKind::WeakSpeed),
                        prior(PriorKind::Speed),
                    ),
                    Direction::Above,
                    0.05,
                )
                .anchor(switch)
                .control(Control::new(
                    &["weak_time_factor=2"],
                    VerdictKind::Refuted,
                    "with the same exchange rate the two priors are one prior",
                ))
                .plot("mass_search.svg"),
            );
        }
        if config.switch_scan > 0 && (has(PriorKind::Speed) || has(PriorKind::WeakSpeed)) {
            claims.push(
                Claim::new(
                    "switch-follows-the-arithmetic",
                    "Under each speed prior, search first holds half the posterior within one \
                     demonstration of where Christiano's arithmetic puts it: where the simplicity \
                     posterior's odds of search, in bits, first exceed the searcher's extra run \
                     time in bits at that prior's exchange rate.",
                    Effect::gap("switch_n", "switch_n_predicted"),
                    Direction::Within,
                    0.0,
                )
                .margin(1.0)
                .filter(at(&[("scan", json!(true))]))
                .cells(&["prior"])
                .control(Control::new(
                    &["time_bound=3"],
                    VerdictKind::Refuted,
                    "a bound of 3 steps removes search from the simplicity posterior the \
                     arithmetic starts from, while the speed priors still admit it",
                ))
                .plot("mass_search.svg"),
            );
        }
        claims.push(
            Claim::new(
                "wrong-goal-keeps-mass",
                "With the most data, under the simplicity prior, programs that search only for a \
                 goal other than the demonstrator's keep more than 0.1 of the posterior.",
                Effect::metric("mass_search_other"),
                Direction::Above,
                0.1,
            )
            .filter(at_largest.clone())
            .control(Control::new(
                &separated,
                VerdictKind::Refuted,
                "when the diamond is anywhere in training rooms, a search for the corner \
                 mispredicts and loses its mass",
            ))
            .plot("mass_search_other.svg"),
        );
        claims.push(
            Claim::new(
                "confidently-wrong-off-distribution",
                "With the most data, under the simplicity prior, the imitator puts more than 0.15 \
                 of its predictions off distribution on moves the demonstrator almost never takes \
                 (twice the noise a perfect imitator puts there).",
                Effect::metric("wrong_mass"),
                Direction::Above,
                0.15,
            )
            .filter(at_largest)
            .control(Control::new(
                &separated,
                VerdictKind::Refuted,
                "training rooms that separate the goals leave no wrong searcher to follow",
            ))
            .plot("wrong_mass.svg"),
        );
        claims
    }

    fn plots(&self, _config: &Config) -> Vec<PlotSpec> {
        let plot = |metric: &str, title: &str| PlotSpec {
            file: format!("{metric}.svg"),
            title: title.into(),
            metric: metric.into(),
            y_label: metric.replace('_', " "),
            x: "n".into(),
            x_label: "demonstrated transitions".into(),
            log_x: true,
            series: vec!["prior".into()],
            filter: vec![("scan".into(), json!(false))],
        };
        vec![
            plot("mass_search", "Posterior mass on programs that search"),
            plot("mass_reflex", "Posterior mass on reflexes"),
            plot("mass_lookup", "Posterior mass on lookups"),
            plot(
                "mass_search_goal",
                "Posterior mass on search for the diamond",
            ),
            plot(
                "mass_search_other",
                "Posterior mass on search for another goal",
            ),
            plot(
                "mass_mixed",
                "Posterior mass on programs searching for both",
            ),
            plot("mass_brute", "Posterior mass on brute-force search"),
            plot("search_log2_odds", "Posterior odds of search, bits"),
            plot(
                "test_tv",
                "Off distribution: predictive vs demonstrator (TV)",
            ),
            plot(
                "wrong_mass",
                "Off distribution: predictive mass on moves the demonstrator almost never takes",
            ),
        ]
    }
}

fn has_repeats<T: PartialEq>(items: &[T]) -> bool {
    items
        .iter()
        .enumerate()
        .any(|(i, a)| items[..i].contains(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_check_against_the_declared_metrics_and_conditions() {
        for quick in [true, false] {
            let ids = cruxlab_core::checked_claims(&Induction, &Induction.default_config(quick))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(ids.len(), 6);
        }
        let only_simplicity = Config {
            priors: vec![PriorKind::Simplicity],
            ..Induction.default_config(true)
        };
        let ids = cruxlab_core::checked_claims(&Induction, &only_simplicity).unwrap();
        assert_eq!(
            ids,
            [
                "search-wins-under-simplicity",
                "wrong-goal-keeps-mass",
                "confidently-wrong-off-distribution"
            ]
        );
    }

    #[test]
    fn measure_emits_exactly_the_declared_metrics_and_masses_sum_to_one() {
        let config = Config {
            max_bits: 16,
            data_sizes: vec![4],
            ..Induction.default_config(true)
        };
        let condition = Condition {
            prior: PriorKind::Speed,
            n: 4,
            scan: false,
        };
        let m = cruxlab_core::measure_unit(&Induction, &config, &condition, 3);
        let mut names: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        names.sort();
        let mut declared: Vec<&str> = METRICS.iter().chain(&SWITCH_METRICS).copied().collect();
        declared.sort();
        assert_eq!(names, declared);
        assert!(m.iter().any(|(k, v)| k == "switch_n" && v.is_nan()));
        let mass: f64 = m
            .iter()
            .filter(|(k, _)| {
                Family::ALL
                    .iter()
                    .any(|f| *k == format!("mass_{}", f.name()))
            })
            .map(|(_, v)| v)
            .sum();
        assert!((mass - 1.0).abs() < 1e-9);
        // A scan measures the switch metrics only.
        let scan = Condition {
            prior: PriorKind::Speed,
            n: 4,
            scan: true,
        };
        let m = cruxlab_core::measure_unit(&Induction, &config, &scan, 3);
        for (k, v) in &m {
            assert_eq!(SWITCH_METRICS.contains(&k.as_str()), !v.is_nan(), "{k}");
        }
    }

    #[test]
    fn validation_names_the_key() {
        let bad = |f: fn(&mut Config)| {
            let mut c = Induction.default_config(true);
            f(&mut c);
            Induction.validate(&c).unwrap_err().0
        };
        assert_eq!(bad(|c| c.size = 8), "size");
        assert_eq!(bad(|c| c.max_bits = 40), "max_bits");
        assert_eq!(bad(|c| c.data_sizes = vec![4, 4]), "data_sizes");
        assert_eq!(bad(|c| c.weak_time_factor = 1.0), "weak_time_factor");
        assert_eq!(bad(|c| c.switch_scan = 100), "switch_scan");
        assert!(Induction.validate(&Induction.default_config(false)).is_ok());
    }
}
