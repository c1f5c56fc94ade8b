//! Diagnostics of a fit: the reported statistics, a summary of the residuals, and warnings for fits
//! that should not be read at face value.
//!
//! A fit is flagged ([`diagnose`]) when
//! - a fitted exponent is not positive: one term does not fall with scale and the compute-optimal
//!   frontier is undefined;
//! - fewer than [`RARELY_REACHED`] of the grid's starts reached the best objective: the optimum is
//!   hard to find and may not be the global one;
//! - an exponent's 95% bootstrap interval is wider than [`WIDE_INTERVAL`] times its estimate;
//! - alpha and beta correlate over the bootstrap refits with |r| >= [`IDENTIFICATION_CORRELATION`]:
//!   the data pin down a combination of the two exponents, not each one.
//!
//! The last two are how a design whose tokens per parameter hardly vary shows up: the model and data
//! terms trade off and one can absorb the other.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::fit::{Bootstrap, HuberFit, a_opt, b_opt};
use crate::law::LogParams;
use crate::report::format_number as num;

/// A quantity computed from log-space parameters.
pub type Statistic = fn(&LogParams) -> f64;

/// The reported quantities, in report order: name and how to compute it from log-space parameters.
pub const STATISTICS: [(&str, Statistic); 7] = [
    ("E", |p| p.log_e.exp()),
    ("A", |p| p.log_a.exp()),
    ("B", |p| p.log_b.exp()),
    ("alpha", |p| p.alpha),
    ("beta", |p| p.beta),
    ("a_opt", a_opt),
    ("b_opt", b_opt),
];

/// |corr(alpha, beta)| over bootstrap refits at or above which the two exponents are reported as
/// poorly identified: then over 64% of one's bootstrap variance moves with the other.
pub const IDENTIFICATION_CORRELATION: f64 = 0.8;

/// A 95% bootstrap interval of an exponent wider than this fraction of its estimate marks it as
/// poorly identified. On Epoch's Chinchilla points the widths are 16% (alpha) and 22% (beta).
pub const WIDE_INTERVAL: f64 = 1.0;

/// Fewer starts than this reaching the best objective marks the optimum as hard to find.
pub const RARELY_REACHED: usize = 10;

/// Something about a fit that its reader should know.
#[derive(Clone, Debug, PartialEq)]
pub enum FitWarning {
    /// alpha or beta is zero or negative.
    NonPositiveExponent { alpha: f64, beta: f64 },
    /// Few starts of the grid reached the best objective.
    RarelyReached {
        starts_at_best: usize,
        starts: usize,
    },
    /// An exponent's 95% bootstrap interval is wider than [`WIDE_INTERVAL`] times its estimate.
    WideInterval {
        exponent: &'static str,
        interval: (f64, f64),
        estimate: f64,
    },
    /// alpha and beta correlate strongly over the bootstrap refits.
    CorrelatedExponents { replicates: usize, correlation: f64 },
}

impl fmt::Display for FitWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitWarning::NonPositiveExponent { alpha, beta } => write!(
                f,
                "a fitted exponent is not positive (alpha = {}, beta = {}): one term does not decrease with scale and the compute-optimal frontier is undefined",
                num(*alpha),
                num(*beta)
            ),
            FitWarning::RarelyReached {
                starts_at_best,
                starts,
            } => write!(
                f,
                "only {starts_at_best} of {starts} starts reached the best objective: the optimum is hard to find and may not be the global one"
            ),
            FitWarning::WideInterval {
                exponent,
                interval: (lo, hi),
                estimate,
            } => write!(
                f,
                "{exponent} is poorly identified: its 95% bootstrap interval [{}, {}] is wider than {}% of its estimate {}; the data may not separate the model and data terms (for instance when D/N hardly varies, one term can absorb the other)",
                num(*lo),
                num(*hi),
                100.0 * WIDE_INTERVAL,
                num(*estimate)
            ),
            FitWarning::CorrelatedExponents {
                replicates,
                correlation,
            } => write!(
                f,
                "alpha and beta are poorly identified: their correlation over {replicates} bootstrap refits is {correlation:.2} (|r| >= {IDENTIFICATION_CORRELATION}); the data pin down a combination of them, so read their separate intervals, and a_opt's, with care"
            ),
        }
    }
}

/// The warnings a fit and its bootstrap (if any) call for, in a fixed order: exponents' signs, how
/// often the grid found the optimum, interval widths (alpha, then beta), exponent correlation.
pub fn diagnose(fit: &HuberFit, bootstrap: Option<&Bootstrap>) -> Vec<FitWarning> {
    let mut warnings = Vec::new();
    let p = fit.params;
    if p.alpha <= 0.0 || p.beta <= 0.0 {
        warnings.push(FitWarning::NonPositiveExponent {
            alpha: p.alpha,
            beta: p.beta,
        });
    }
    if fit.starts_at_best < RARELY_REACHED {
        warnings.push(FitWarning::RarelyReached {
            starts_at_best: fit.starts_at_best,
            starts: fit.starts,
        });
    }
    for (exponent, statistic) in [("alpha", STATISTICS[3].1), ("beta", STATISTICS[4].1)] {
        let estimate = statistic(&p);
        if let Some((lo, hi)) = bootstrap.and_then(|b| b.interval(statistic))
            && (hi - lo) > WIDE_INTERVAL * estimate.abs()
        {
            warnings.push(FitWarning::WideInterval {
                exponent,
                interval: (lo, hi),
                estimate,
            });
        }
    }
    if let Some(boot) = bootstrap
        && let Some(r) = exponent_correlation(boot)
        && r.abs() >= IDENTIFICATION_CORRELATION
    {
        warnings.push(FitWarning::CorrelatedExponents {
            replicates: boot.replicates.len(),
            correlation: r,
        });
    }
    warnings
}

/// The correlation of alpha and beta over the bootstrap refits.
pub fn exponent_correlation(bootstrap: &Bootstrap) -> Option<f64> {
    bootstrap.correlation(|p| p.alpha, |p| p.beta)
}

/// Mean, sample standard deviation and mean absolute value of residuals.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResidualSummary {
    pub mean: f64,
    /// Sample standard deviation (divisor n - 1, or 1 for a single residual).
    pub sd: f64,
    pub mean_abs: f64,
}

impl ResidualSummary {
    pub fn of(residuals: &[f64]) -> Self {
        let n = residuals.len() as f64;
        let mean = residuals.iter().sum::<f64>() / n;
        let sd =
            (residuals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        ResidualSummary {
            mean,
            sd,
            mean_abs: residuals.iter().map(|v| v.abs()).sum::<f64>() / n,
        }
    }
}

/// The index and value of the residual largest in absolute value (the last of equals); `None` for
/// no residuals.
pub fn largest_residual(residuals: &[f64]) -> Option<(usize, f64)> {
    residuals
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(i, v)| (i, *v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lbfgs::Stop;

    fn fit(alpha: f64, beta: f64, starts_at_best: usize) -> HuberFit {
        HuberFit {
            params: LogParams {
                log_a: 6.0,
                log_b: 7.0,
                log_e: 0.5,
                alpha,
                beta,
            },
            objective: 1e-4,
            n_points: 10,
            start_index: 0,
            start: [0.0; 5],
            iterations: 5,
            stop: Stop::Gradient,
            starts: 4500,
            starts_at_best,
            evaluations: 100,
        }
    }

    fn bootstrap(pairs: &[(f64, f64)]) -> Bootstrap {
        Bootstrap {
            seed: 0,
            replicates: pairs
                .iter()
                .map(|&(alpha, beta)| LogParams {
                    log_a: 6.0,
                    log_b: 7.0,
                    log_e: 0.5,
                    alpha,
                    beta,
                })
                .collect(),
            objectives: vec![0.0; pairs.len()],
        }
    }

    #[test]
    fn residual_summary_by_hand() {
        // Mean 0; squares sum to 1 + 1 + 9 + 9 = 20 over n - 1 = 3; mean |r| = 8 / 4.
        let s = ResidualSummary::of(&[1.0, -1.0, 3.0, -3.0]);
        assert_eq!(s.mean, 0.0);
        assert!((s.sd - (20.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(s.mean_abs, 2.0);
        // One residual: the divisor is 1, not 0.
        assert_eq!(
            ResidualSummary::of(&[0.5]),
            ResidualSummary {
                mean: 0.5,
                sd: 0.0,
                mean_abs: 0.5
            }
        );
        assert_eq!(largest_residual(&[0.1, -0.4, 0.3]), Some((1, -0.4)));
        assert_eq!(largest_residual(&[]), None);
    }

    #[test]
    fn a_clean_fit_has_no_warnings() {
        assert!(diagnose(&fit(0.34, 0.28, 500), None).is_empty());
        // Exponents that move a little and independently: narrow intervals, no correlation.
        let boot = bootstrap(&[(0.33, 0.28), (0.35, 0.28), (0.34, 0.29), (0.34, 0.27)]);
        assert!(exponent_correlation(&boot).unwrap().abs() < 1e-9);
        assert!(diagnose(&fit(0.34, 0.28, 500), Some(&boot)).is_empty());
    }

    #[test]
    fn bad_signs_and_rare_optima_are_flagged() {
        let w = diagnose(&fit(-0.1, 0.28, 3), None);
        assert_eq!(
            w,
            vec![
                FitWarning::NonPositiveExponent {
                    alpha: -0.1,
                    beta: 0.28
                },
                FitWarning::RarelyReached {
                    starts_at_best: 3,
                    starts: 4500
                }
            ]
        );
        assert!(
            w[0].to_string()
                .starts_with("a fitted exponent is not positive (alpha = -0.1, beta = 0.28)"),
            "{}",
            w[0]
        );
        assert!(
            w[1].to_string()
                .starts_with("only 3 of 4500 starts reached the best objective"),
            "{}",
            w[1]
        );
        assert!(diagnose(&fit(0.34, 0.28, RARELY_REACHED), None).is_empty());
    }

    #[test]
    fn wide_intervals_and_correlated_exponents_are_flagged() {
        // Three replicates, alpha in {0.1, 0.3, 0.5} and beta = 1 - alpha: type-7 quantiles at
        // 2.5% and 97.5% of 3 sorted values are v[0.05] and v[1.95], so alpha's interval is
        // [0.11, 0.49] (width 0.38 > 0.3) and beta's [0.51, 0.89] (width 0.38 < 0.7). The
        // correlation is exactly -1.
        let boot = bootstrap(&[(0.1, 0.9), (0.3, 0.7), (0.5, 0.5)]);
        let w = diagnose(&fit(0.3, 0.7, 100), Some(&boot));
        assert_eq!(w.len(), 2, "{w:?}");
        let FitWarning::WideInterval {
            exponent,
            interval: (lo, hi),
            estimate,
        } = w[0]
        else {
            panic!("{w:?}")
        };
        assert_eq!((exponent, estimate), ("alpha", 0.3));
        assert!(
            (lo - 0.11).abs() < 1e-12 && (hi - 0.49).abs() < 1e-12,
            "{lo} {hi}"
        );
        assert_eq!(
            w[0].to_string(),
            "alpha is poorly identified: its 95% bootstrap interval [0.11, 0.49] is wider than 100% of its estimate 0.3; the data may not separate the model and data terms (for instance when D/N hardly varies, one term can absorb the other)"
        );
        let FitWarning::CorrelatedExponents {
            replicates,
            correlation,
        } = w[1]
        else {
            panic!("{w:?}")
        };
        assert_eq!(replicates, 3);
        assert!((correlation + 1.0).abs() < 1e-12);
        assert!(
            w[1].to_string().starts_with(
                "alpha and beta are poorly identified: their correlation over 3 bootstrap refits is -1.00 (|r| >= 0.8)"
            ),
            "{}",
            w[1]
        );
    }
}
