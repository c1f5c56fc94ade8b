//! Fitting a scaling law the way Hoffmann et al. (2022, Approach 3) did, and bootstrapping it.
//!
//! [`HuberFit::fit`] runs L-BFGS ([`crate::lbfgs`]) on the summed Huber objective
//! ([`HuberObjective`]) from every point of their grid of starts ([`hoffmann_grid`]: alpha, beta in
//! {0, 0.5, 1, 1.5, 2}, e in {-1, -0.5, 0, 0.5, 1}, a, b in {0, 5, 10, 15, 20, 25}: 5 x 5 x 5 x 6 x 6
//! = 4,500 starts) and keeps the lowest objective (ties to the earlier start, so the result does not
//! depend on the thread count). The grid exists because the objective has many local minima: starts
//! with a large alpha and a small a, for instance, switch the model term off and never find it again.
//!
//! [`Bootstrap::run`] resamples the runs with replacement (as multiplicity weights), refits each
//! resample by L-BFGS from the full-data best fit (not the whole grid: a resample is a small
//! perturbation of the data, so its minimum lies in the basin of the full fit; see docs/scaling.md for
//! a check against grid refits), and gives percentile intervals and correlations of the replicates.
//! Resample `r` draws from a ChaCha8 stream `(seed, r)`, so replicates do not depend on the thread
//! count either.

use crate::law::{LogParams, ScalingLaw};
use crate::lbfgs::{self, LbfgsOptions, Minimum, Stop};
use crate::objective::HuberObjective;
use crate::observations::Observation;
use crate::optimal::ComputeOptimal;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Hoffmann et al.'s grid of L-BFGS starts, as `[a, b, e, alpha, beta]`.
pub fn hoffmann_grid() -> Vec<[f64; 5]> {
    let half_steps = |lo: f64, count: usize| (0..count).map(move |i| lo + 0.5 * i as f64);
    let fives = || (0..6).map(|i| 5.0 * i as f64);
    let mut out = Vec::with_capacity(4500);
    for alpha in half_steps(0.0, 5) {
        for beta in half_steps(0.0, 5) {
            for e in half_steps(-1.0, 5) {
                for a in fives() {
                    for b in fives() {
                        out.push([a, b, e, alpha, beta]);
                    }
                }
            }
        }
    }
    out
}

/// Why a fit could not be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FitError {
    #[error("{0} runs are too few to fit 5 parameters (need at least 6)")]
    TooFewRuns(usize),
    #[error("no start gave a finite objective")]
    NoFiniteStart,
}

/// The best fit over a set of starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HuberFit {
    pub params: LogParams,
    /// The summed Huber objective at `params`.
    pub objective: f64,
    /// Runs fitted.
    pub n_points: usize,
    /// Index of the winning start in the start list, and the start itself.
    pub start_index: usize,
    pub start: [f64; 5],
    pub iterations: usize,
    pub stop: Stop,
    /// Starts tried.
    pub starts: usize,
    /// Starts that ended within 1e-9 (relative) of the best objective: how often the grid finds it.
    pub starts_at_best: usize,
    /// Objective evaluations over all starts.
    pub evaluations: usize,
}

impl HuberFit {
    /// Fit from every start in `starts` (in parallel) and keep the best.
    pub fn fit(
        objective: &HuberObjective,
        starts: &[[f64; 5]],
        options: &LbfgsOptions,
    ) -> Result<HuberFit, FitError> {
        Self::fit_with(objective, starts, options, true, &|| ())
    }

    /// [`HuberFit::fit`], calling `done` after each start (for a progress bar).
    pub fn fit_observed(
        objective: &HuberObjective,
        starts: &[[f64; 5]],
        options: &LbfgsOptions,
        done: &(dyn Fn() + Sync),
    ) -> Result<HuberFit, FitError> {
        Self::fit_with(objective, starts, options, true, done)
    }

    /// The same on a private pool of `threads` threads (sequential if the pool cannot be built).
    /// A caller inside another rayon pool that must not run that pool's jobs while it waits (for
    /// instance while holding a lock) should call this from a plain thread.
    pub fn fit_in_pool(
        objective: &HuberObjective,
        starts: &[[f64; 5]],
        options: &LbfgsOptions,
        threads: usize,
    ) -> Result<HuberFit, FitError> {
        match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
            Ok(pool) => pool.install(|| Self::fit(objective, starts, options)),
            Err(_) => Self::fit_sequential(objective, starts, options),
        }
    }

    /// The same on one thread (for callers already inside a parallel loop).
    pub fn fit_sequential(
        objective: &HuberObjective,
        starts: &[[f64; 5]],
        options: &LbfgsOptions,
    ) -> Result<HuberFit, FitError> {
        Self::fit_with(objective, starts, options, false, &|| ())
    }

    /// Minimise from every start, in parallel or in order (the results are the same), and keep the
    /// best.
    fn fit_with(
        objective: &HuberObjective,
        starts: &[[f64; 5]],
        options: &LbfgsOptions,
        parallel: bool,
        done: &(dyn Fn() + Sync),
    ) -> Result<HuberFit, FitError> {
        if objective.len() < 6 {
            return Err(FitError::TooFewRuns(objective.len()));
        }
        let from = |x0: &[f64; 5]| {
            let minimum = lbfgs::minimise(|x| objective.value_grad(x), *x0, options);
            done();
            minimum
        };
        let results: Vec<Minimum> = if parallel {
            starts.par_iter().map(from).collect()
        } else {
            starts.iter().map(from).collect()
        };
        Self::best(objective.len(), starts, &results)
    }

    fn best(
        n_points: usize,
        starts: &[[f64; 5]],
        results: &[Minimum],
    ) -> Result<HuberFit, FitError> {
        let (index, best) = results
            .iter()
            .enumerate()
            .filter(|(_, m)| m.f.is_finite() && m.x.iter().all(|v| v.is_finite()))
            .min_by(|(i, a), (j, b)| a.f.total_cmp(&b.f).then(i.cmp(j)))
            .ok_or(FitError::NoFiniteStart)?;
        let at_best = results
            .iter()
            .filter(|m| m.f <= best.f + 1e-9 * best.f.abs())
            .count();
        Ok(HuberFit {
            params: LogParams::from_array(best.x),
            objective: best.f,
            n_points,
            start_index: index,
            start: starts[index],
            iterations: best.iterations,
            stop: best.stop,
            starts: starts.len(),
            starts_at_best: at_best,
            evaluations: results.iter().map(|m| m.evaluations).sum(),
        })
    }

    /// The fitted law in linear notation.
    pub fn law(&self) -> ScalingLaw {
        self.params.to_law()
    }
}

/// Settings of a bootstrap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BootstrapOptions {
    pub resamples: usize,
    pub seed: u64,
}

/// The refitted parameters of every resample, in resample order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub seed: u64,
    pub replicates: Vec<LogParams>,
    /// Objective of each replicate's refit.
    pub objectives: Vec<f64>,
}

/// The multiplicities of one resample of `n` runs: `n` draws with replacement from stream
/// `(seed, resample)`.
pub fn resample_weights(n: usize, seed: u64, resample: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(resample);
    let mut weights = vec![0.0; n];
    for _ in 0..n {
        weights[rng.random_range(0..n)] += 1.0;
    }
    weights
}

/// Blocks of runs by training compute C = 6ND: runs whose log10 C falls in the same bin of
/// `width` decades (bins aligned on whole decades) share a block. Blocks are numbered 0, 1, ...
/// from the smallest compute, empty bins skipped. A run's block stands for its compute budget:
/// Hoffmann et al. trained their runs in IsoFLOP groups, and runs of one group share its data
/// pipeline and tuning, so their errors are not independent.
///
/// # Panics
/// If `width` is not positive.
pub fn compute_blocks(runs: &[Observation], width: f64) -> Vec<usize> {
    assert!(width > 0.0, "block width must be positive");
    let bins: Vec<i64> = runs
        .iter()
        .map(|r| ((6.0 * r.n * r.d).log10() / width).floor() as i64)
        .collect();
    let mut distinct = bins.clone();
    distinct.sort_unstable();
    distinct.dedup();
    bins.iter()
        .map(|b| distinct.binary_search(b).expect("every bin is listed"))
        .collect()
}

/// The multiplicities of one block resample: as many draws with replacement from the blocks as
/// there are blocks, from stream `(seed, resample)`; each run counts as often as its block was
/// drawn. `blocks[i]` is run `i`'s block, numbered `0..k` as [`compute_blocks`] numbers them.
pub fn resample_block_weights(blocks: &[usize], seed: u64, resample: u64) -> Vec<f64> {
    let k = blocks.iter().max().map_or(0, |&b| b + 1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(resample);
    let mut drawn = vec![0.0; k];
    for _ in 0..k {
        drawn[rng.random_range(0..k)] += 1.0;
    }
    blocks.iter().map(|&b| drawn[b]).collect()
}

impl Bootstrap {
    /// Refit `options.resamples` resamples of `objective`'s runs, each from `from` (in parallel).
    pub fn run(
        objective: &HuberObjective,
        from: &LogParams,
        options: &BootstrapOptions,
        lbfgs_options: &LbfgsOptions,
    ) -> Bootstrap {
        Self::run_observed(objective, from, options, lbfgs_options, &|| ())
    }

    /// [`Bootstrap::run`], calling `done` after each refit (for a progress bar).
    pub fn run_observed(
        objective: &HuberObjective,
        from: &LogParams,
        options: &BootstrapOptions,
        lbfgs_options: &LbfgsOptions,
        done: &(dyn Fn() + Sync),
    ) -> Bootstrap {
        let refits: Vec<Minimum> = (0..options.resamples)
            .into_par_iter()
            .map(|r| {
                let refit = Self::refit(objective, from, options.seed, r as u64, lbfgs_options);
                done();
                refit
            })
            .collect();
        Self::collect(options.seed, refits)
    }

    /// The same on one thread.
    pub fn run_sequential(
        objective: &HuberObjective,
        from: &LogParams,
        options: &BootstrapOptions,
        lbfgs_options: &LbfgsOptions,
    ) -> Bootstrap {
        let refits: Vec<Minimum> = (0..options.resamples)
            .map(|r| Self::refit(objective, from, options.seed, r as u64, lbfgs_options))
            .collect();
        Self::collect(options.seed, refits)
    }

    /// [`Bootstrap::run_sequential`] resampling whole blocks of runs ([`resample_block_weights`])
    /// instead of single runs: the block bootstrap, whose intervals allow for errors shared
    /// within a block (a compute budget, [`compute_blocks`]).
    ///
    /// # Panics
    /// If `blocks` does not have one entry per run.
    pub fn run_blocks_sequential(
        objective: &HuberObjective,
        from: &LogParams,
        blocks: &[usize],
        options: &BootstrapOptions,
        lbfgs_options: &LbfgsOptions,
    ) -> Bootstrap {
        assert_eq!(blocks.len(), objective.len(), "one block per run");
        let refits: Vec<Minimum> = (0..options.resamples)
            .map(|r| {
                let weights = resample_block_weights(blocks, options.seed, r as u64);
                Self::refit_weighted(objective, from, &weights, lbfgs_options)
            })
            .collect();
        Self::collect(options.seed, refits)
    }

    fn refit(
        objective: &HuberObjective,
        from: &LogParams,
        seed: u64,
        resample: u64,
        lbfgs_options: &LbfgsOptions,
    ) -> Minimum {
        let weights = resample_weights(objective.len(), seed, resample);
        Self::refit_weighted(objective, from, &weights, lbfgs_options)
    }

    fn refit_weighted(
        objective: &HuberObjective,
        from: &LogParams,
        weights: &[f64],
        lbfgs_options: &LbfgsOptions,
    ) -> Minimum {
        let resampled = objective.reweighted(weights);
        lbfgs::minimise(|x| resampled.value_grad(x), from.to_array(), lbfgs_options)
    }

    fn collect(seed: u64, refits: Vec<Minimum>) -> Bootstrap {
        Bootstrap {
            seed,
            replicates: refits.iter().map(|m| LogParams::from_array(m.x)).collect(),
            objectives: refits.iter().map(|m| m.f).collect(),
        }
    }

    /// `statistic` of every replicate, in order.
    pub fn values(&self, statistic: impl Fn(&LogParams) -> f64) -> Vec<f64> {
        self.replicates.iter().map(statistic).collect()
    }

    /// The 95% percentile interval of `statistic` over the replicates (quantiles 0.025 and 0.975,
    /// interpolated linearly between order statistics). Non-finite values are left out; `None`
    /// with fewer than 2 finite values.
    pub fn interval(&self, statistic: impl Fn(&LogParams) -> f64) -> Option<(f64, f64)> {
        percentile_interval(&self.values(statistic), 0.95)
    }

    /// Pearson correlation of two statistics over the replicates.
    pub fn correlation(
        &self,
        x: impl Fn(&LogParams) -> f64,
        y: impl Fn(&LogParams) -> f64,
    ) -> Option<f64> {
        correlation(&self.values(x), &self.values(y))
    }
}

/// The `level` central percentile interval of `values` (finite ones only).
pub fn percentile_interval(values: &[f64], level: f64) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Some((quantile(&v, tail), quantile(&v, 1.0 - tail)))
}

/// Quantile `q` of sorted values, linear between order statistics (Hyndman & Fan type 7).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, frac) = (h.floor() as usize, h - h.floor());
    if lo + 1 < sorted.len() {
        sorted[lo] + frac * (sorted[lo + 1] - sorted[lo])
    } else {
        sorted[lo]
    }
}

/// Pearson correlation over the pairs where both values are finite.
pub fn correlation(x: &[f64], y: &[f64]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in pairs {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Threads the parallel fits and bootstraps run on (rayon's current pool).
pub fn worker_threads() -> usize {
    rayon::current_num_threads()
}

/// The compute-optimal exponent a = beta / (alpha + beta) of log-space parameters.
pub fn a_opt(p: &LogParams) -> f64 {
    p.beta / (p.alpha + p.beta)
}

/// The compute-optimal exponent b = alpha / (alpha + beta) of log-space parameters.
pub fn b_opt(p: &LogParams) -> f64 {
    p.alpha / (p.alpha + p.beta)
}

/// The frontier of log-space parameters.
pub fn frontier(p: &LogParams) -> ComputeOptimal {
    ComputeOptimal::new(&p.to_law())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_at(compute: f64) -> Observation {
        // N = 1e9, D = C / 6N.
        Observation {
            n: 1e9,
            d: compute / 6e9,
            loss: 3.0,
            line: 0,
        }
    }

    #[test]
    fn compute_blocks_bin_log_compute_by_hand() {
        // log10 C = 18.1, 18.2, 19.9, 18.6, 21.0 in quarter-decade bins: bins 72, 72, 79, 74, 84
        // (floor(log10 C / 0.25)), numbered from the smallest: 0, 0, 2, 1, 3.
        let runs: Vec<Observation> = [18.1, 18.2, 19.9, 18.6, 21.0]
            .iter()
            .map(|&e| run_at(10f64.powf(e)))
            .collect();
        assert_eq!(compute_blocks(&runs, 0.25), vec![0, 0, 2, 1, 3]);
        // One-decade bins: 18, 18, 19, 18, 21 -> 0, 0, 1, 0, 2.
        assert_eq!(compute_blocks(&runs, 1.0), vec![0, 0, 1, 0, 2]);
    }

    #[test]
    fn a_block_resample_keeps_blocks_whole() {
        let blocks = [0, 0, 1, 2, 2, 2];
        for r in 0..50 {
            let w = resample_block_weights(&blocks, 7, r);
            // Runs of one block share a weight, and the weights of the blocks sum to 3 draws.
            assert_eq!(w[0], w[1]);
            assert_eq!(w[3], w[4]);
            assert_eq!(w[4], w[5]);
            assert_eq!(w[0] + w[2] + w[3], 3.0);
            assert_eq!(w, resample_block_weights(&blocks, 7, r), "deterministic");
        }
    }

    #[test]
    fn grid_has_4500_distinct_starts_on_the_published_ranges() {
        let grid = hoffmann_grid();
        assert_eq!(grid.len(), 4500);
        let mut seen = grid.clone();
        seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
        seen.dedup();
        assert_eq!(seen.len(), 4500);
        for x in &grid {
            assert!((0.0..=25.0).contains(&x[0]) && (0.0..=25.0).contains(&x[1]));
            assert!((-1.0..=1.0).contains(&x[2]));
            assert!((0.0..=2.0).contains(&x[3]) && (0.0..=2.0).contains(&x[4]));
        }
    }

    #[test]
    fn percentiles_and_correlation_by_hand() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        // Type 7 with 101 values: the 2.5% quantile is v[2.5] = 2.5.
        let (lo, hi) = percentile_interval(&v, 0.95).unwrap();
        assert!(
            (lo - 2.5).abs() < 1e-12 && (hi - 97.5).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert_eq!(percentile_interval(&[1.0], 0.95), None);
        let y: Vec<f64> = v.iter().map(|x| -2.0 * x + 1.0).collect();
        assert!((correlation(&v, &y).unwrap() + 1.0).abs() < 1e-12);
        assert_eq!(correlation(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
    }

    #[test]
    fn resamples_are_reproducible_and_sum_to_n() {
        let a = resample_weights(50, 7, 3);
        assert_eq!(a, resample_weights(50, 7, 3));
        assert_ne!(a, resample_weights(50, 7, 4));
        assert_eq!(a.iter().sum::<f64>(), 50.0);
    }
}
