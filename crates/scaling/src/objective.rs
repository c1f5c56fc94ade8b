//! The objective Hoffmann et al. (2022, Approach 3) minimise: the Huber loss of the log-loss
//! residuals, summed over training runs,
//!
//! ```text
//! f(a, b, e, alpha, beta) = sum_i w_i Huber_delta( LSE(a - alpha ln N_i, b - beta ln D_i, e) - ln L_i )
//! Huber_delta(r) = r^2 / 2 if |r| <= delta, else delta (|r| - delta / 2),   delta = 1e-3
//! ```
//!
//! where LSE is log-sum-exp, so that `exp(LSE(...)) = E + A/N^alpha + B/D^beta` exactly, computed
//! stably by subtracting the largest of the three arguments. The sum (not the mean) matters: with the
//! mean, the objective and its changes are 1/n as large and an optimiser's absolute tolerances stop
//! it early. Weights `w_i` are 1 for a plain fit and the multiplicity of each run in a bootstrap
//! resample.
//!
//! [`HuberObjective::value_grad`] returns the value and its analytic gradient in one pass: with
//! softmax weights `p_k` of the three LSE arguments and `psi = Huber'(r)`,
//! `df/da = sum psi p_1`, `df/dalpha = -sum psi p_1 ln N`, `df/db = sum psi p_2`,
//! `df/dbeta = -sum psi p_2 ln D`, `df/de = sum psi p_3`.

use crate::law::LogParams;
use crate::observations::Observation;

/// Hoffmann et al.'s Huber threshold on log-loss residuals.
pub const HUBER_DELTA: f64 = 1e-3;

/// The fitting objective over a fixed set of runs (logs precomputed).
#[derive(Clone, Debug)]
pub struct HuberObjective {
    ln_n: Vec<f64>,
    ln_d: Vec<f64>,
    ln_loss: Vec<f64>,
    weight: Vec<f64>,
    delta: f64,
}

/// The Huber loss and its derivative at residual `r`.
#[inline]
fn huber(r: f64, delta: f64) -> (f64, f64) {
    if r.abs() <= delta {
        (0.5 * r * r, r)
    } else {
        (delta * (r.abs() - 0.5 * delta), delta * r.signum())
    }
}

impl HuberObjective {
    /// Unit weights, delta = [`HUBER_DELTA`].
    pub fn new(observations: &[Observation]) -> Self {
        HuberObjective {
            ln_n: observations.iter().map(|o| o.n.ln()).collect(),
            ln_d: observations.iter().map(|o| o.d.ln()).collect(),
            ln_loss: observations.iter().map(|o| o.loss.ln()).collect(),
            weight: vec![1.0; observations.len()],
            delta: HUBER_DELTA,
        }
    }

    /// The same runs weighted by `weights` (one per run; a bootstrap resample's multiplicities).
    /// Runs of weight 0 are dropped from the arrays, so they cost nothing.
    pub fn reweighted(&self, weights: &[f64]) -> Self {
        assert_eq!(weights.len(), self.weight.len(), "one weight per run");
        let keep: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0.0).collect();
        let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<_>>();
        HuberObjective {
            ln_n: pick(&self.ln_n),
            ln_d: pick(&self.ln_d),
            ln_loss: pick(&self.ln_loss),
            weight: keep.iter().map(|&i| weights[i] * self.weight[i]).collect(),
            delta: self.delta,
        }
    }

    /// Number of runs with non-zero weight.
    pub fn len(&self) -> usize {
        self.ln_n.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ln_n.is_empty()
    }

    /// Predicted log loss of run `i` under `x = [a, b, e, alpha, beta]`.
    #[inline]
    fn lse(&self, x: &[f64; 5], i: usize) -> (f64, [f64; 3]) {
        let t = [x[0] - x[3] * self.ln_n[i], x[1] - x[4] * self.ln_d[i], x[2]];
        let m = t[0].max(t[1]).max(t[2]);
        let w = [(t[0] - m).exp(), (t[1] - m).exp(), (t[2] - m).exp()];
        let s = w[0] + w[1] + w[2];
        (m + s.ln(), [w[0] / s, w[1] / s, w[2] / s])
    }

    /// f(x).
    pub fn value(&self, x: &[f64; 5]) -> f64 {
        (0..self.len())
            .map(|i| self.weight[i] * huber(self.lse(x, i).0 - self.ln_loss[i], self.delta).0)
            .sum()
    }

    /// f(x) and its gradient.
    pub fn value_grad(&self, x: &[f64; 5]) -> (f64, [f64; 5]) {
        let mut f = 0.0;
        let mut g = [0.0; 5];
        for i in 0..self.len() {
            let (pred, p) = self.lse(x, i);
            let (h, dh) = huber(pred - self.ln_loss[i], self.delta);
            let w = self.weight[i];
            f += w * h;
            let psi = w * dh;
            g[0] += psi * p[0];
            g[3] -= psi * p[0] * self.ln_n[i];
            g[1] += psi * p[1];
            g[4] -= psi * p[1] * self.ln_d[i];
            g[2] += psi * p[2];
        }
        (f, g)
    }

    /// Log-loss residuals `predicted - observed` of every run, in order.
    pub fn residuals(&self, params: &LogParams) -> Vec<f64> {
        let x = params.to_array();
        (0..self.len())
            .map(|i| self.lse(&x, i).0 - self.ln_loss[i])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::ParameterSet;

    fn runs() -> Vec<Observation> {
        let law = ParameterSet::besiroglu().law;
        let mut out = Vec::new();
        for (i, n) in [1e8, 3e8, 1e9, 5e9].iter().enumerate() {
            for (j, d) in [2e9, 2e10, 1e11].iter().enumerate() {
                // Residuals on both sides of delta.
                let noise = [0.0, 0.0004, -0.003, 0.02][(i + j) % 4];
                out.push(Observation {
                    n: *n,
                    d: *d,
                    loss: law.loss(*n, *d) * f64::exp(noise),
                    line: 0,
                });
            }
        }
        out
    }

    #[test]
    fn lse_is_the_law() {
        let law = ParameterSet::hoffmann_printed().law;
        let obs = [Observation {
            n: 70e9,
            d: 1.4e12,
            loss: 1.0,
            line: 0,
        }];
        let r = HuberObjective::new(&obs).residuals(&law.to_log());
        assert!((r[0] - law.loss(70e9, 1.4e12).ln()).abs() < 1e-14);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let objective = HuberObjective::new(&runs());
        let x = [6.0, 7.5, 0.55, 0.33, 0.37];
        let (f, g) = objective.value_grad(&x);
        assert!((f - objective.value(&x)).abs() < 1e-15);
        for k in 0..5 {
            let h = 1e-7;
            let (mut up, mut down) = (x, x);
            up[k] += h;
            down[k] -= h;
            let fd = (objective.value(&up) - objective.value(&down)) / (2.0 * h);
            assert!(
                (fd - g[k]).abs() <= 1e-6 * (1.0 + g[k].abs()),
                "component {k}: analytic {} vs numeric {fd}",
                g[k]
            );
        }
    }

    #[test]
    fn weights_are_multiplicities() {
        let runs = runs();
        let objective = HuberObjective::new(&runs);
        let mut weights = vec![0.0; runs.len()];
        weights[1] = 2.0;
        weights[4] = 1.0;
        let doubled = [runs[1], runs[1], runs[4]];
        let x = [6.0, 7.5, 0.55, 0.33, 0.37];
        let a = objective.reweighted(&weights).value_grad(&x);
        let b = HuberObjective::new(&doubled).value_grad(&x);
        assert!((a.0 - b.0).abs() < 1e-15);
        assert_eq!(objective.reweighted(&weights).len(), 2);
    }
}
