//! Planted data: training runs drawn from a known law with known noise, for testing that a fit
//! recovers what was planted and for benchmarks.
//!
//! The design imitates Hoffmann et al.'s iso-FLOP experiments (their Figure 3 and Approach 2):
//! `budgets` training budgets spaced evenly in ln C between `compute_range`, and at each budget
//! `sizes_per_budget` model sizes spaced evenly in ln N over a factor of 8 either side of the
//! planted law's N_opt(C), with D = C / 6N. Each loss is `L(N, D) * exp(eps)`, with `eps` drawn
//! from a normal distribution of standard deviation `noise_sd`: multiplicative noise, additive on
//! the log scale on which the fit works.

use crate::law::ScalingLaw;
use crate::observations::Observation;
use crate::optimal::{ComputeOptimal, FLOPS_PER_PARAM_TOKEN};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The shape of a planted data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Design {
    pub budgets: usize,
    pub sizes_per_budget: usize,
    /// Smallest and largest training compute (FLOPs).
    pub compute_range: (f64, f64),
    /// Standard deviation of the log-loss noise.
    pub noise_sd: f64,
}

impl Design {
    /// 10 budgets x 25 sizes = 250 runs between 6e18 and 3e21 FLOPs, log-noise 0.005 (about the
    /// scatter of the Chinchilla points around Besiroglu et al.'s fit: their summed Huber objective
    /// of 1.02e-3 over 240 runs, almost all in the linear part of the Huber loss, means a mean
    /// absolute log residual of about 0.004).
    pub fn chinchilla_like() -> Self {
        Design {
            budgets: 10,
            sizes_per_budget: 25,
            compute_range: (6e18, 3e21),
            noise_sd: 0.005,
        }
    }

    /// Draw the runs from `law` with noise from `seed`.
    pub fn draw(&self, law: &ScalingLaw, seed: u64) -> Vec<Observation> {
        let frontier = ComputeOptimal::new(law);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let spaced = |lo: f64, hi: f64, i: usize, count: usize| {
            if count < 2 {
                (lo.ln() + hi.ln()) / 2.0
            } else {
                lo.ln() + (hi.ln() - lo.ln()) * i as f64 / (count - 1) as f64
            }
            .exp()
        };
        let mut out = Vec::with_capacity(self.budgets * self.sizes_per_budget);
        for i in 0..self.budgets {
            let compute = spaced(self.compute_range.0, self.compute_range.1, i, self.budgets);
            let centre = frontier.n_opt(compute);
            for j in 0..self.sizes_per_budget {
                let n = spaced(centre / 8.0, centre * 8.0, j, self.sizes_per_budget);
                let d = compute / (FLOPS_PER_PARAM_TOKEN * n);
                let eps = self.noise_sd * standard_normal(&mut rng);
                out.push(Observation {
                    n,
                    d,
                    loss: law.loss(n, d) * eps.exp(),
                    line: (out.len() + 2) as u64,
                });
            }
        }
        out
    }
}

/// A standard normal draw (Box-Muller; one of the pair is thrown away, which keeps the stream
/// position a simple function of the draw count).
pub fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // in (0, 1]
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The runs as CSV text with columns `N,D,loss` (shortest round-trip formatting, so parsing it
/// back gives the same numbers).
pub fn to_csv(runs: &[Observation]) -> String {
    let mut text = String::from("N,D,loss\n");
    for r in runs {
        text.push_str(&format!("{:e},{:e},{}\n", r.n, r.d, r.loss));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::ParameterSet;
    use crate::observations::{Columns, TokenColumn, parse_csv};

    #[test]
    fn design_has_the_planted_shape_and_noise() {
        let law = ParameterSet::besiroglu().law;
        let design = Design::chinchilla_like();
        let runs = design.draw(&law, 3);
        assert_eq!(runs.len(), 250);
        let eps: Vec<f64> = runs
            .iter()
            .map(|r| (r.loss / law.loss(r.n, r.d)).ln())
            .collect();
        let mean = eps.iter().sum::<f64>() / 250.0;
        let sd = (eps.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / 249.0).sqrt();
        // 250 draws: the sample sd is within 15% of 0.005 with overwhelming probability.
        assert!((sd / 0.005 - 1.0).abs() < 0.15, "{sd}");
        assert!(mean.abs() < 4.0 * 0.005 / 250f64.sqrt(), "{mean}");
        assert_eq!(runs, design.draw(&law, 3));
    }

    #[test]
    fn csv_round_trips() {
        let runs = Design::chinchilla_like().draw(&ParameterSet::besiroglu().law, 1);
        let columns = Columns {
            n: "N".into(),
            tokens: TokenColumn::Tokens("D".into()),
            loss: "loss".into(),
        };
        assert_eq!(parse_csv(&to_csv(&runs), &columns).unwrap(), runs);
    }
}
