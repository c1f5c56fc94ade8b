//! Compute-optimal allocation: for a training budget of C FLOPs, with C = 6 N D (the usual estimate
//! of a dense transformer's training cost: 2 FLOPs per parameter per token forward, 4 backward),
//! which N and D minimise L(N, D)?
//!
//! Along the iso-FLOP line D = C / (6N), the loss is `E + A N^-alpha + B (C/6)^-beta N^beta`.
//! Setting its derivative in N to zero gives `alpha A N^-alpha = beta B (C/6)^-beta N^beta`, so
//!
//! ```text
//! N_opt(C) = G (C/6)^a,   D_opt(C) = G^-1 (C/6)^b,
//! G = (alpha A / (beta B))^(1 / (alpha + beta)),   a = beta / (alpha + beta),   b = alpha / (alpha + beta)
//! ```
//!
//! (Hoffmann et al. 2022, Appendix D.2.) The closed form is checked against [`minimise_iso_flop`],
//! a derivative-free search along the same line, in the tests; the same search plans the
//! data-constrained case, which has no closed form.

use crate::law::{LossTerms, ScalingLaw};
use serde::{Deserialize, Serialize};

/// FLOPs per parameter per token of training (forward and backward pass).
pub const FLOPS_PER_PARAM_TOKEN: f64 = 6.0;

/// The closed-form compute-optimal frontier of one law.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComputeOptimal {
    /// G = (alpha A / (beta B))^(1 / (alpha + beta)).
    pub g: f64,
    /// Exponent of N_opt in C: beta / (alpha + beta).
    pub a: f64,
    /// Exponent of D_opt in C: alpha / (alpha + beta).
    pub b: f64,
}

/// One point of the frontier (or any allocation of a budget).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// Training compute C = 6 N D.
    pub compute: f64,
    pub n: f64,
    pub d: f64,
    /// Tokens per parameter, D / N.
    pub tokens_per_param: f64,
    pub terms: LossTerms,
}

impl ComputeOptimal {
    pub fn new(law: &ScalingLaw) -> Self {
        let sum = law.alpha + law.beta;
        ComputeOptimal {
            g: ((law.alpha * law.a) / (law.beta * law.b)).powf(1.0 / sum),
            a: law.beta / sum,
            b: law.alpha / sum,
        }
    }

    /// N_opt(C).
    pub fn n_opt(&self, compute: f64) -> f64 {
        self.g * (compute / FLOPS_PER_PARAM_TOKEN).powf(self.a)
    }

    /// D_opt(C).
    pub fn d_opt(&self, compute: f64) -> f64 {
        (compute / FLOPS_PER_PARAM_TOKEN).powf(self.b) / self.g
    }

    /// The compute-optimal parameter count for a model whose compute-optimal token count is `d`:
    /// invert D_opt(C) = d for C, then take N_opt(C), which gives `G (G d)^(a/b)`.
    pub fn n_for_tokens(&self, d: f64) -> f64 {
        self.g * (self.g * d).powf(self.a / self.b)
    }

    /// The compute at which the compute-optimal token count is `d`: the inverse of D_opt,
    /// `6 (G d)^(1/b)`.
    pub fn compute_for_tokens(&self, d: f64) -> f64 {
        FLOPS_PER_PARAM_TOKEN * (self.g * d).powf(1.0 / self.b)
    }

    /// The least compute at which a compute-optimal split reaches `loss` under `law` (the law this
    /// was built from). On the frontier both terms fall as `(C/6)^-gamma` with
    /// `gamma = alpha beta / (alpha + beta)`, so `L_opt(C) = E + K (C/6)^-gamma` with
    /// `K = A G^-alpha + B G^beta`, which inverts in closed form. Infinite for a loss at or below E.
    pub fn compute_for_loss(&self, law: &ScalingLaw, loss: f64) -> f64 {
        let gamma = law.alpha * law.beta / (law.alpha + law.beta);
        let k = law.a * self.g.powf(-law.alpha) + law.b * self.g.powf(law.beta);
        let reducible = loss - law.e;
        if reducible <= 0.0 {
            return f64::INFINITY;
        }
        FLOPS_PER_PARAM_TOKEN * (reducible / k).powf(-1.0 / gamma)
    }

    /// The optimal allocation of `compute` under `law` (which must be the law this was built from).
    pub fn allocate(&self, law: &ScalingLaw, compute: f64) -> Allocation {
        let (n, d) = (self.n_opt(compute), self.d_opt(compute));
        Allocation {
            compute,
            n,
            d,
            tokens_per_param: d / n,
            terms: law.terms(n, d),
        }
    }
}

impl Allocation {
    /// The allocation (N, D) of a given model, whatever its optimality.
    pub fn of(law: &ScalingLaw, n: f64, d: f64) -> Self {
        Allocation {
            compute: FLOPS_PER_PARAM_TOKEN * n * d,
            n,
            d,
            tokens_per_param: d / n,
            terms: law.terms(n, d),
        }
    }
}

/// Minimise `loss(N, D)` along the iso-FLOP line D = C / (6N) by a scan of ln N on a 400-point grid
/// (N from 1e3 up to the N that leaves 1e3 tokens) followed by golden-section search around the best
/// grid point. Returns `(N, loss)`. Deterministic, derivative-free, and safe for losses with more than
/// one local minimum on the line as long as their basins are wider than a grid step (0.07 in ln N for
/// C = 1e24).
pub fn minimise_iso_flop(compute: f64, loss: impl Fn(f64, f64) -> f64) -> (f64, f64) {
    let budget = compute / FLOPS_PER_PARAM_TOKEN;
    minimise_iso_flop_between(
        compute,
        1e3,
        (budget / 1e3).max(1e3 * std::f64::consts::E),
        loss,
    )
}

/// [`minimise_iso_flop`] with N kept in `[n_low, n_high]` (the same grid scan and golden-section
/// refinement over that range of ln N): the best split of a budget under a bound on the tokens
/// (N at least C / 6 D_max) or on the parameters.
pub fn minimise_iso_flop_between(
    compute: f64,
    n_low: f64,
    n_high: f64,
    loss: impl Fn(f64, f64) -> f64,
) -> (f64, f64) {
    let budget = compute / FLOPS_PER_PARAM_TOKEN;
    let (lo, hi) = (n_low.ln(), n_high.ln().max(n_low.ln()));
    let along = |ln_n: f64| {
        let n = ln_n.exp();
        loss(n, budget / n)
    };
    const GRID: usize = 400;
    let step = (hi - lo) / GRID as f64;
    let mut best = (0usize, f64::INFINITY);
    for i in 0..=GRID {
        let v = along(lo + step * i as f64);
        if v < best.1 {
            best = (i, v);
        }
    }
    // Golden-section search on [best - step, best + step].
    let (mut x0, mut x3) = (
        (lo + step * (best.0 as f64 - 1.0)).max(lo),
        (lo + step * (best.0 as f64 + 1.0)).min(hi),
    );
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut x1 = x3 - ratio * (x3 - x0);
    let mut x2 = x0 + ratio * (x3 - x0);
    let (mut f1, mut f2) = (along(x1), along(x2));
    for _ in 0..200 {
        if (x3 - x0).abs() <= 1e-13 * (1.0 + x1.abs()) {
            break;
        }
        if f1 <= f2 {
            x3 = x2;
            x2 = x1;
            f2 = f1;
            x1 = x3 - ratio * (x3 - x0);
            f1 = along(x1);
        } else {
            x0 = x1;
            x1 = x2;
            f1 = f2;
            x2 = x0 + ratio * (x3 - x0);
            f2 = along(x2);
        }
    }
    let (x, f) = if f1 <= f2 { (x1, f1) } else { (x2, f2) };
    if f <= best.1 {
        (x.exp(), f)
    } else {
        let x = lo + step * best.0 as f64;
        (x.exp(), best.1)
    }
}

/// Points of one iso-FLOP curve: `(N, L(N, C/6N))` for `points` values of N spaced evenly in ln N
/// between `n_opt / span` and `n_opt * span`.
pub fn iso_flop_curve(
    compute: f64,
    n_centre: f64,
    span: f64,
    points: usize,
    loss: impl Fn(f64, f64) -> f64,
) -> Vec<(f64, f64)> {
    let budget = compute / FLOPS_PER_PARAM_TOKEN;
    let (lo, hi) = ((n_centre / span).ln(), (n_centre * span).ln());
    (0..points)
        .map(|i| {
            let n = (lo + (hi - lo) * i as f64 / (points.max(2) - 1) as f64).exp();
            (n, loss(n, budget / n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::ParameterSet;

    #[test]
    fn closed_form_matches_numeric_minimum() {
        for set in ParameterSet::builtin() {
            let law = set.law;
            let opt = ComputeOptimal::new(&law);
            for compute in [1e18, 5.88e23, 1e26] {
                let (n, l) = minimise_iso_flop(compute, |n, d| law.loss(n, d));
                let n_opt = opt.n_opt(compute);
                assert!(
                    (n / n_opt - 1.0).abs() < 1e-5,
                    "{} C={compute:e}: numeric {n:e} vs closed {n_opt:e}",
                    set.id
                );
                let at = opt.allocate(&law, compute);
                assert!(at.terms.loss <= l + 1e-12);
                assert!((at.compute_check() / compute - 1.0).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn optimum_balances_marginal_gains() {
        let law = ParameterSet::besiroglu().law;
        let at = ComputeOptimal::new(&law).allocate(&law, 1e24);
        assert!((at.terms.parameter_gain_share(&law) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn n_for_tokens_inverts_d_opt() {
        let law = ParameterSet::hoffmann_printed().law;
        let opt = ComputeOptimal::new(&law);
        let c = 3e23;
        assert!((opt.n_for_tokens(opt.d_opt(c)) / opt.n_opt(c) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn compute_for_loss_inverts_the_frontier() {
        for set in ParameterSet::builtin() {
            let law = set.law;
            let opt = ComputeOptimal::new(&law);
            for compute in [1e18, 5.88e23, 1e27] {
                let loss = opt.allocate(&law, compute).terms.loss;
                let back = opt.compute_for_loss(&law, loss);
                assert!((back / compute - 1.0).abs() < 1e-9, "{}: {back:e}", set.id);
                let d = opt.d_opt(compute);
                assert!((opt.compute_for_tokens(d) / compute - 1.0).abs() < 1e-12);
            }
            assert!(opt.compute_for_loss(&law, law.e).is_infinite());
        }
        // By hand, Hoffmann et al.'s printed set and GPT-3: the same loss on the frontier takes a
        // third of GPT-3's compute (Python floats, bisection: 0.33553).
        let law = ParameterSet::hoffmann_printed().law;
        let opt = ComputeOptimal::new(&law);
        let c = 6.0 * 175e9 * 300e9;
        let ratio = opt.compute_for_loss(&law, law.loss(175e9, 300e9)) / c;
        assert!((ratio - 0.3355).abs() < 5e-4, "{ratio}");
    }

    #[test]
    fn bounded_search_keeps_to_its_bounds() {
        let law = ParameterSet::besiroglu().law;
        let c = 1e24;
        let n_opt = ComputeOptimal::new(&law).n_opt(c);
        // With the optimum above the range the bound is the answer; inside it, the optimum.
        let (n, _) =
            minimise_iso_flop_between(c, n_opt / 100.0, n_opt / 10.0, |n, d| law.loss(n, d));
        assert!((n / (n_opt / 10.0) - 1.0).abs() < 1e-9, "{n:e}");
        let (n, _) =
            minimise_iso_flop_between(c, n_opt / 10.0, n_opt * 10.0, |n, d| law.loss(n, d));
        assert!((n / n_opt - 1.0).abs() < 1e-5, "{n:e}");
    }

    impl Allocation {
        fn compute_check(&self) -> f64 {
            FLOPS_PER_PARAM_TOKEN * self.n * self.d
        }
    }
}
