//! Means with 95% confidence intervals: Student t intervals for one sample and for paired
//! differences, and Welch-Satterthwaite intervals for the difference of two independent samples.
//!
//! NaN values ("not applicable for this seed") are left out everywhere, and `n` counts the values
//! that remain. With n < 2 no interval can be given and the bounds are `None`.

use crate::experiment::MetricSummary;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Two-sided confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;

/// A mean and its 95% confidence interval over `n` values.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    /// The mean; NaN when n = 0.
    pub mean: f64,
    /// `None` when n < 2.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub n: usize,
}

impl Summary {
    /// Half the width of the interval, when there is one.
    pub fn half_width(&self) -> Option<f64> {
        Some((self.ci_high? - self.ci_low?) / 2.0)
    }

    /// Whether the whole interval lies above `x` (false without an interval).
    pub fn is_above(&self, x: f64) -> bool {
        self.ci_low.is_some_and(|low| low > x)
    }

    /// Whether the whole interval lies below `x` (false without an interval).
    pub fn is_below(&self, x: f64) -> bool {
        self.ci_high.is_some_and(|high| high < x)
    }

    /// Whether `x` lies inside the interval (false without an interval).
    pub fn contains(&self, x: f64) -> bool {
        matches!((self.ci_low, self.ci_high), (Some(low), Some(high)) if low <= x && x <= high)
    }
}

/// `0.532 [0.481, 0.583] (n=20)`: a mean with its interval and n, for verdict evidence and reports.
impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.ci_low, self.ci_high) {
            (Some(low), Some(high)) => write!(
                f,
                "{} [{}, {}] (n={})",
                format_number(self.mean),
                format_number(low),
                format_number(high),
                self.n
            ),
            _ => write!(f, "{} [no CI] (n={})", format_number(self.mean), self.n),
        }
    }
}

/// Resamples of the stratified bootstrap behind every [`Robust`] interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;

/// The interquartile mean and its stratified-bootstrap 95% interval (Agarwal et al. 2021, "Deep
/// Reinforcement Learning at the Edge of the Statistical Precipice"): robust to a few outlying
/// runs, and an interval that assumes no normality.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Robust {
    #[serde(deserialize_with = "deserialize_nan_as_null")]
    pub iqm: f64,
    /// Percentile bootstrap bounds; `None` with fewer than 2 values.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub resamples: usize,
}

/// The interquartile mean: the mean of what is left after dropping the lowest and the highest
/// quarter of the values, `floor(n / 4)` from each end (`scipy.stats.trim_mean(x, 0.25)`, which
/// rliable uses). NaN for no values.
pub fn iqm(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let cut = v.len() / 4;
    let kept = &v[cut..v.len() - cut];
    kept.iter().sum::<f64>() / kept.len() as f64
}

/// The `q` quantile of sorted values, linear between order statistics (Hyndman & Fan type 7).
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// A 95% percentile-bootstrap interval for `stat` of the pooled values, resampling each stratum
/// separately: a resample draws, within every stratum, as many values as it holds, with
/// replacement (Agarwal et al.'s stratified bootstrap, where a stratum is one task's runs). The
/// stream is ChaCha8 from `seed`, so the interval depends on nothing else. `None` when fewer than
/// 2 values are given.
pub fn stratified_bootstrap(
    strata: &[&[f64]],
    stat: impl Fn(&[f64]) -> f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    use rand::{Rng, SeedableRng};
    let total: usize = strata.iter().map(|s| s.len()).sum();
    if total < 2 || resamples == 0 {
        return None;
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut pooled = vec![0.0; total];
    let mut stats: Vec<f64> = (0..resamples)
        .map(|_| {
            let mut k = 0;
            for s in strata {
                for _ in 0..s.len() {
                    pooled[k] = s[rng.random_range(0..s.len())];
                    k += 1;
                }
            }
            stat(&pooled)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    let tail = (1.0 - CONFIDENCE) / 2.0;
    Some((
        quantile_sorted(&stats, tail),
        quantile_sorted(&stats, 1.0 - tail),
    ))
}

impl Robust {
    /// The IQM of `values` (one stratum: the runs of one condition) with its bootstrap interval,
    /// the stream seeded by `seed`.
    pub fn of(values: &[f64], seed: u64) -> Robust {
        let bounds = stratified_bootstrap(&[values], iqm, BOOTSTRAP_RESAMPLES, seed);
        Robust {
            iqm: iqm(values),
            ci_low: bounds.map(|b| b.0),
            ci_high: bounds.map(|b| b.1),
            resamples: BOOTSTRAP_RESAMPLES,
        }
    }
}

impl MetricSummary {
    /// Summarise per-seed `values` (NaN already left out) of `metric` under `condition`.
    pub fn from_seeds(
        metric: &str,
        condition: serde_json::Map<String, serde_json::Value>,
        seeds: Vec<u64>,
        values: Vec<f64>,
    ) -> MetricSummary {
        let s = mean_ci(&values);
        MetricSummary {
            metric: metric.to_owned(),
            condition,
            mean: s.mean,
            ci_low: s.ci_low,
            ci_high: s.ci_high,
            n: s.n,
            values,
            seeds,
            robust: None,
        }
    }

    /// Add the interquartile mean and its bootstrap interval, the stream seeded from the metric's
    /// name and condition (so the numbers are the same in every run of the same sweep).
    pub fn with_robust(mut self) -> MetricSummary {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.metric.as_bytes());
        h.update(
            serde_json::Value::Object(self.condition.clone())
                .to_string()
                .as_bytes(),
        );
        let digest = h.finalize();
        let seed = u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"));
        self.robust = Some(Robust::of(&self.values, seed));
        self
    }

    /// The mean, interval and n of this summary.
    pub fn summary(&self) -> Summary {
        Summary {
            mean: self.mean,
            ci_low: self.ci_low,
            ci_high: self.ci_high,
            n: self.n,
        }
    }
}

/// Read a float that JSON may hold as `null` (how serde_json writes NaN) back as NaN.
pub(crate) fn deserialize_nan_as_null<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<f64, D::Error> {
    use serde::Deserialize;
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

/// A number with four significant digits, for people (reports, evidence strings); `NaN` as `n/a`.
pub fn format_number(x: f64) -> String {
    if x.is_nan() {
        return "n/a".to_owned();
    }
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{x:.3e}");
    }
    let decimals = (3 - magnitude).max(0) as usize;
    let text = format!("{x:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// The two-sided 95% quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile(df: f64) -> f64 {
    let t = StudentsT::new(0.0, 1.0, df).expect("degrees of freedom are positive");
    t.inverse_cdf(1.0 - (1.0 - CONFIDENCE) / 2.0)
}

/// Mean and sample variance of finite-or-infinite values (NaN already removed), computed in the
/// given order. Identical values give exactly that value and a variance of exactly zero.
fn mean_var(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    if n == 0 {
        return (f64::NAN, f64::NAN);
    }
    if values.iter().all(|v| *v == values[0]) {
        return (values[0], if n > 1 { 0.0 } else { f64::NAN });
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, f64::NAN);
    }
    let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    (mean, ss / (n - 1) as f64)
}

fn interval(mean: f64, half_width: f64) -> (Option<f64>, Option<f64>) {
    (Some(mean - half_width), Some(mean + half_width))
}

/// Mean with a Student t 95% interval, `mean +- t(0.975, n-1) * s / sqrt(n)`. NaN values are left
/// out; n < 2 gives no bounds; zero variance gives a zero-width interval.
pub fn mean_ci(values: &[f64]) -> Summary {
    let values: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    let n = values.len();
    let (mean, var) = mean_var(&values);
    if n < 2 {
        return Summary {
            mean,
            ci_low: None,
            ci_high: None,
            n,
        };
    }
    let half_width = if var == 0.0 {
        0.0
    } else {
        t_quantile((n - 1) as f64) * (var / n as f64).sqrt()
    };
    let (ci_low, ci_high) = interval(mean, half_width);
    Summary {
        mean,
        ci_low,
        ci_high,
        n,
    }
}

/// Paired comparison: a t interval on the per-seed differences `a - b` over the seeds both
/// summaries have (in `a`'s seed order). `None` when they share no seed.
pub fn paired_difference(a: &MetricSummary, b: &MetricSummary) -> Option<Summary> {
    let differences: Vec<f64> = a
        .seeds
        .iter()
        .zip(&a.values)
        .filter_map(|(seed, va)| {
            let j = b.seeds.iter().position(|s| s == seed)?;
            Some(va - b.values[j])
        })
        .filter(|d| !d.is_nan())
        .collect();
    if differences.is_empty() {
        None
    } else {
        Some(mean_ci(&differences))
    }
}

/// Unpaired comparison: mean(a) - mean(b) with a Welch-Satterthwaite 95% interval. NaN values are
/// left out; `n` is the total count. Either side with fewer than 2 values gives no bounds.
pub fn welch_difference(a_values: &[f64], b_values: &[f64]) -> Summary {
    let a: Vec<f64> = a_values.iter().copied().filter(|v| !v.is_nan()).collect();
    let b: Vec<f64> = b_values.iter().copied().filter(|v| !v.is_nan()).collect();
    let (mean_a, var_a) = mean_var(&a);
    let (mean_b, var_b) = mean_var(&b);
    let mean = mean_a - mean_b;
    let n = a.len() + b.len();
    if a.len() < 2 || b.len() < 2 {
        return Summary {
            mean,
            ci_low: None,
            ci_high: None,
            n,
        };
    }
    let (sa, sb) = (var_a / a.len() as f64, var_b / b.len() as f64);
    let se2 = sa + sb;
    let half_width = if se2 == 0.0 {
        0.0
    } else {
        let df = se2 * se2 / (sa * sa / (a.len() - 1) as f64 + sb * sb / (b.len() - 1) as f64);
        t_quantile(df) * se2.sqrt()
    };
    let (ci_low, ci_high) = interval(mean, half_width);
    Summary {
        mean,
        ci_low,
        ci_high,
        n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iqm_by_hand() {
        // Eight values: the lowest two (0, 1) and the highest two (9, 100) go, the mean of
        // 2, 3, 4, 5 remains; with seven values floor(7/4) = 1 goes from each end.
        assert_eq!(iqm(&[100.0, 3.0, 0.0, 5.0, 1.0, 4.0, 9.0, 2.0]), 3.5);
        assert_eq!(iqm(&[7.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), 4.0);
        // Fewer than four values: nothing is cut.
        assert_eq!(iqm(&[1.0, 2.0, 6.0]), 3.0);
        assert!(iqm(&[]).is_nan());
    }

    #[test]
    fn stratified_bootstrap_resamples_within_strata() {
        // Stratum A is all 0 and stratum B all 1: every resample keeps two of each, so the mean is
        // 0.5 in every resample and the interval has zero width. Pooled resampling would not.
        let (a, b) = ([0.0, 0.0], [1.0, 1.0]);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert_eq!(
            stratified_bootstrap(&[&a, &b], mean, 500, 1),
            Some((0.5, 0.5))
        );
        let pooled = [0.0, 0.0, 1.0, 1.0];
        let (lo, hi) = stratified_bootstrap(&[&pooled], mean, 500, 1).unwrap();
        assert!(lo < 0.5 && hi > 0.5, "{lo} {hi}");
        // The same seed gives the same interval; one value gives none.
        assert_eq!(
            stratified_bootstrap(&[&pooled], mean, 500, 1),
            stratified_bootstrap(&[&pooled], mean, 500, 1)
        );
        assert_eq!(stratified_bootstrap(&[&[1.0]], mean, 500, 1), None);
        // The interval holds the statistic of the data.
        let r = Robust::of(&[0.1, 0.5, 0.4, 0.45, 0.9, 0.42, 0.38, 0.47], 9);
        let (lo, hi) = (r.ci_low.unwrap(), r.ci_high.unwrap());
        assert!(lo <= r.iqm && r.iqm <= hi, "{r:?}");
        // With an outlier on each side, the IQM's interval is narrower than the mean's.
        let data = [0.1, 0.5, 0.4, 0.45, 0.9, 0.42, 0.38, 0.47];
        let (mlo, mhi) = stratified_bootstrap(&[&data], mean, BOOTSTRAP_RESAMPLES, 9).unwrap();
        assert!(
            hi - lo < mhi - mlo,
            "IQM [{lo}, {hi}] vs mean [{mlo}, {mhi}]"
        );
    }
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert!(close(t_quantile(1.0), 12.706205, 1e-5));
        assert!(close(t_quantile(3.0), 3.182446, 1e-6));
        assert!(close(t_quantile(9.0), 2.262157, 1e-6));
        assert!(close(t_quantile(29.0), 2.045230, 1e-6));
    }

    #[test]
    fn mean_ci_by_hand() {
        // mean 2.5, s = sqrt(5/3) = 1.290994, half-width = 3.182446 * 1.290994 / 2 = 2.054260
        let s = mean_ci(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        assert_eq!(s.n, 4);
        assert!(close(s.ci_low.unwrap(), 2.5 - 2.054260, 1e-5), "{s:?}");
        assert!(close(s.ci_high.unwrap(), 2.5 + 2.054260, 1e-5), "{s:?}");
        assert!(close(s.half_width().unwrap(), 2.054260, 1e-5));
    }

    #[test]
    fn mean_ci_edge_cases() {
        let empty = mean_ci(&[]);
        assert!(empty.mean.is_nan());
        assert_eq!((empty.ci_low, empty.ci_high, empty.n), (None, None, 0));
        let one = mean_ci(&[0.7]);
        assert_eq!(
            (one.mean, one.ci_low, one.ci_high, one.n),
            (0.7, None, None, 1)
        );
        let flat = mean_ci(&[0.1, 0.1, 0.1]);
        assert_eq!(
            (flat.mean, flat.ci_low, flat.ci_high),
            (0.1, Some(0.1), Some(0.1))
        );
        let with_nan = mean_ci(&[1.0, f64::NAN, 3.0]);
        assert_eq!((with_nan.mean, with_nan.n), (2.0, 2));
        // s = sqrt(2), half-width = 12.706205 * sqrt(2) / sqrt(2)
        assert!(close(with_nan.half_width().unwrap(), 12.706205, 1e-5));
    }

    fn summary(values: &[f64], seeds: &[u64]) -> MetricSummary {
        MetricSummary::from_seeds("m", Default::default(), seeds.to_vec(), values.to_vec())
    }

    #[test]
    fn paired_difference_uses_shared_seeds() {
        let a = summary(&[5.0, 6.0, 7.0, 9.0], &[0, 1, 2, 3]);
        let b = summary(&[4.0, 4.0, 100.0], &[0, 1, 3]);
        // differences over seeds 0, 1, 3: 1, 2, -91
        let d = paired_difference(&a, &b).unwrap();
        assert_eq!(d.n, 3);
        assert!(close(d.mean, -88.0 / 3.0, 1e-12));
        let none = summary(&[1.0], &[7]);
        assert!(paired_difference(&a, &none).is_none());
    }

    #[test]
    fn welch_by_hand() {
        // a: mean 2.5, var 5/3, n 4; b (NaN left out): mean 6, var 4, n 3
        // se2 = 5/12 + 4/3 = 1.75; df = 1.75^2 / ((5/12)^2/3 + (4/3)^2/2) = 3.234719
        let d = welch_difference(&[1.0, 2.0, 3.0, 4.0], &[4.0, f64::NAN, 6.0, 8.0]);
        assert_eq!(d.n, 7);
        assert!(close(d.mean, -3.5, 1e-12));
        let df = 1.75f64.powi(2) / ((5.0f64 / 12.0).powi(2) / 3.0 + (4.0f64 / 3.0).powi(2) / 2.0);
        assert!(close(df, 3.234719, 1e-6));
        let t = d.half_width().unwrap() / 1.75f64.sqrt();
        assert!(close(t, t_quantile(df), 1e-12));
        // between t(0.975, 4) = 2.776445 and t(0.975, 3) = 3.182446
        assert!(t > 2.776445 && t < 3.182446, "{t}");
        let flat = welch_difference(&[1.0, 1.0], &[2.0, 2.0]);
        assert_eq!(
            (flat.mean, flat.ci_low, flat.ci_high),
            (-1.0, Some(-1.0), Some(-1.0))
        );
        assert_eq!(welch_difference(&[1.0], &[2.0, 3.0]).ci_low, None);
    }

    #[test]
    fn display_shows_interval_and_n() {
        assert_eq!(
            mean_ci(&[1.0, 2.0, 3.0, 4.0]).to_string(),
            "2.5 [0.4457, 4.554] (n=4)"
        );
        assert_eq!(mean_ci(&[1.0]).to_string(), "1 [no CI] (n=1)");
        assert_eq!(format_number(1234567.0), "1.235e6");
        assert_eq!(format_number(0.00012346), "0.0001235");
        assert_eq!(format_number(f64::NAN), "n/a");
    }

    proptest! {
        #[test]
        fn mean_lies_inside_interval(values in proptest::collection::vec(-1e6f64..1e6, 2..40)) {
            let s = mean_ci(&values);
            let (low, high) = (s.ci_low.unwrap(), s.ci_high.unwrap());
            prop_assert!(low <= s.mean && s.mean <= high, "{s:?}");
            let min = values.iter().copied().fold(f64::INFINITY, f64::min);
            let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            prop_assert!(min - 1e-6 <= s.mean && s.mean <= max + 1e-6);
        }

        #[test]
        fn duplicating_data_shrinks_interval(values in proptest::collection::vec(-1e3f64..1e3, 2..30)) {
            let once = mean_ci(&values);
            let twice: Vec<f64> = values.iter().chain(&values).copied().collect();
            let twice = mean_ci(&twice);
            prop_assert!(twice.half_width().unwrap() <= once.half_width().unwrap() * (1.0 + 1e-9) + 1e-12);
            prop_assert!((twice.mean - once.mean).abs() <= 1e-9 * (1.0 + once.mean.abs()));
        }

        #[test]
        fn welch_contains_difference_of_means(
            a in proptest::collection::vec(-1e3f64..1e3, 2..20),
            b in proptest::collection::vec(-1e3f64..1e3, 2..20),
        ) {
            let d = welch_difference(&a, &b);
            prop_assert!(d.ci_low.unwrap() <= d.mean && d.mean <= d.ci_high.unwrap());
        }
    }
}
