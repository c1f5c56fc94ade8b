//! The Chinchilla functional form L(N, D) = E + A / N^alpha + B / D^beta and the published parameter
//! sets that the lab ships.
//!
//! N is the number of (non-embedding) parameters, D the number of training tokens, L the final
//! training loss in nats per token. The three terms have names in the field: E is the *irreducible*
//! loss (the entropy of text under this law), A / N^alpha the *model term* (what a finite model
//! loses against an infinite one), B / D^beta the *data term* (what finite data loses).
//!
//! Fitting works in log space with `a = ln A`, `b = ln B`, `e = ln E` ([`LogParams`]), because that is
//! where Hoffmann et al. (2022) minimised and where the objective is well scaled.

use serde::{Deserialize, Serialize};

/// One scaling law, in the paper's linear notation: `E + A / N^alpha + B / D^beta`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScalingLaw {
    /// E, the irreducible loss.
    #[serde(rename = "E")]
    pub e: f64,
    /// A, the coefficient of the model term.
    #[serde(rename = "A")]
    pub a: f64,
    /// B, the coefficient of the data term.
    #[serde(rename = "B")]
    pub b: f64,
    /// Exponent of the parameter count.
    pub alpha: f64,
    /// Exponent of the token count.
    pub beta: f64,
}

/// The same law in log space: `a = ln A`, `b = ln B`, `e = ln E`, so that
/// `ln L = logsumexp(a - alpha ln N, b - beta ln D, e)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogParams {
    pub log_a: f64,
    pub log_b: f64,
    pub log_e: f64,
    pub alpha: f64,
    pub beta: f64,
}

impl LogParams {
    /// As an array in the order the optimiser uses: `[a, b, e, alpha, beta]`.
    pub fn to_array(self) -> [f64; 5] {
        [self.log_a, self.log_b, self.log_e, self.alpha, self.beta]
    }

    /// From `[a, b, e, alpha, beta]`.
    pub fn from_array(x: [f64; 5]) -> Self {
        LogParams {
            log_a: x[0],
            log_b: x[1],
            log_e: x[2],
            alpha: x[3],
            beta: x[4],
        }
    }

    pub fn to_law(self) -> ScalingLaw {
        ScalingLaw {
            e: self.log_e.exp(),
            a: self.log_a.exp(),
            b: self.log_b.exp(),
            alpha: self.alpha,
            beta: self.beta,
        }
    }
}

/// A loss and its three terms.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LossTerms {
    /// E.
    pub irreducible: f64,
    /// A / N^alpha.
    pub model: f64,
    /// B / D^beta.
    pub data: f64,
    /// The sum of the three.
    pub loss: f64,
}

impl LossTerms {
    /// The data term's share of the reducible loss, `data / (model + data)`: above 0.5 the data term
    /// dominates.
    pub fn data_share(&self) -> f64 {
        self.data / (self.model + self.data)
    }

    /// The share of the marginal gain per doubling that comes from parameters:
    /// `alpha model / (alpha model + beta data)`, where `alpha * model = -dL/dln N` and
    /// `beta * data = -dL/dln D`. It is exactly 0.5 on the compute-optimal frontier, since there a
    /// FLOP spent on parameters buys as much as one spent on tokens.
    pub fn parameter_gain_share(&self, law: &ScalingLaw) -> f64 {
        let (m, d) = (law.alpha * self.model, law.beta * self.data);
        m / (m + d)
    }
}

impl ScalingLaw {
    /// L(N, D).
    pub fn loss(&self, n: f64, d: f64) -> f64 {
        self.terms(n, d).loss
    }

    /// L(N, D) and its split into irreducible, model and data terms.
    pub fn terms(&self, n: f64, d: f64) -> LossTerms {
        let model = self.a * n.powf(-self.alpha);
        let data = self.b * d.powf(-self.beta);
        LossTerms {
            irreducible: self.e,
            model,
            data,
            loss: self.e + model + data,
        }
    }

    /// The log-space parameters `a = ln A`, `b = ln B`, `e = ln E`.
    pub fn to_log(&self) -> LogParams {
        LogParams {
            log_a: self.a.ln(),
            log_b: self.b.ln(),
            log_e: self.e.ln(),
            alpha: self.alpha,
            beta: self.beta,
        }
    }

    /// Whether every parameter is finite and positive (what a law needs to be evaluated and planned
    /// with).
    pub fn is_valid(&self) -> bool {
        [self.e, self.a, self.b, self.alpha, self.beta]
            .iter()
            .all(|v| v.is_finite() && *v > 0.0)
    }
}

/// Muennighoff et al.'s (2023) repetition constants: how fast repeated tokens (R_D*) and excess
/// parameters (R_N*) decay in value. See [`crate::DataConstrained`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Repetition {
    /// R_D*: the number of repetitions after which a repeated token is worth 1/e of a fresh one.
    pub r_d_star: f64,
    /// R_N*: the same for parameters beyond the compute-optimal count for the unique data.
    pub r_n_star: f64,
}

/// A named, published parameter set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ParameterSet {
    /// Short id used on the command line (`--params hoffmann-printed`).
    pub id: &'static str,
    /// Who published it, and where.
    pub source: &'static str,
    pub law: ScalingLaw,
    /// The repetition constants, for sets fitted to repeated data.
    pub repetition: Option<Repetition>,
}

/// Muennighoff et al.'s log-space parameters, exactly as published.
pub const MUENNIGHOFF_LOG: LogParams = LogParams {
    log_a: 6.255414,
    log_b: 7.3049974,
    log_e: 0.6254804,
    alpha: 0.3526596,
    beta: 0.3526596,
};

impl ParameterSet {
    /// Hoffmann et al. (2022), "Training Compute-Optimal Large Language Models", Approach 3 as
    /// printed in the paper (rounded).
    pub fn hoffmann_printed() -> Self {
        ParameterSet {
            id: "hoffmann-printed",
            source: "Hoffmann et al. 2022 (arXiv:2203.15556), Approach 3, as printed (rounded)",
            law: ScalingLaw {
                e: 1.69,
                a: 406.4,
                b: 410.7,
                alpha: 0.34,
                beta: 0.28,
            },
            repetition: None,
        }
    }

    /// Hoffmann et al.'s Approach 3 estimates before rounding (they round to the printed set).
    pub fn hoffmann_unrounded() -> Self {
        ParameterSet {
            id: "hoffmann-unrounded",
            source: "Hoffmann et al. 2022, Approach 3, unrounded estimates (they round to the printed set)",
            law: ScalingLaw {
                e: 1.69337368,
                a: 406.401018,
                b: 410.722827,
                alpha: 0.33917084,
                beta: 0.2849083,
            },
            repetition: None,
        }
    }

    /// Besiroglu, Erdil, Barnett & You (2024), "Chinchilla Scaling: A replication attempt": Epoch
    /// AI's refit of the points digitised from Hoffmann et al.'s Figure 4, as printed in their paper.
    pub fn besiroglu() -> Self {
        ParameterSet {
            id: "besiroglu",
            source: "Besiroglu et al. 2024 (Epoch AI, arXiv:2404.10102), refit of the data digitised from Hoffmann et al.'s Figure 4, as printed",
            law: ScalingLaw {
                e: 1.82,
                a: 482.01,
                b: 2085.43,
                alpha: 0.3478,
                beta: 0.3658,
            },
            repetition: None,
        }
    }

    /// Muennighoff et al. (2023), "Scaling Data-Constrained Language Models": fitted in log space
    /// ([`MUENNIGHOFF_LOG`]; A = exp(a), B = exp(b), E = exp(e)) with repetition constants
    /// R_D* = 15.387756 and R_N* = 5.309743.
    pub fn muennighoff() -> Self {
        ParameterSet {
            id: "muennighoff",
            source: "Muennighoff et al. 2023 (arXiv:2305.16264), data-constrained fit: log-space a, b, e, alpha = beta, R_D*, R_N*",
            law: MUENNIGHOFF_LOG.to_law(),
            repetition: Some(Repetition {
                r_d_star: 15.387756,
                r_n_star: 5.309743,
            }),
        }
    }

    /// Every built-in set, in the order they are listed.
    pub fn builtin() -> [ParameterSet; 4] {
        [
            Self::hoffmann_printed(),
            Self::hoffmann_unrounded(),
            Self::besiroglu(),
            Self::muennighoff(),
        ]
    }

    /// The built-in set with this id.
    pub fn by_id(id: &str) -> Option<ParameterSet> {
        Self::builtin().into_iter().find(|s| s.id == id)
    }

    /// Two lines for a listing of sets: the id and the parameters (exactly as stored), then the
    /// source.
    pub fn listing(&self) -> String {
        let l = self.law;
        format!(
            "{:<20} E = {}, A = {}, B = {}, alpha = {}, beta = {}{}\n{:<20} source: {}\n",
            self.id,
            l.e,
            l.a,
            l.b,
            l.alpha,
            l.beta,
            self.repetition.map_or_else(String::new, |r| format!(
                ", R_D* = {}, R_N* = {}",
                r.r_d_star, r.r_n_star
            )),
            "",
            self.source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_and_linear_round_trip() {
        let law = ParameterSet::hoffmann_printed().law;
        let back = law.to_log().to_law();
        for (x, y) in [
            (law.e, back.e),
            (law.a, back.a),
            (law.b, back.b),
            (law.alpha, back.alpha),
        ] {
            assert!((x - y).abs() <= 1e-12 * x.abs());
        }
        let p = law.to_log();
        assert_eq!(LogParams::from_array(p.to_array()), p);
    }

    #[test]
    fn builtin_sets_are_valid_and_found_by_id() {
        for set in ParameterSet::builtin() {
            assert!(set.law.is_valid(), "{}", set.id);
            assert_eq!(ParameterSet::by_id(set.id), Some(set));
        }
        assert!(ParameterSet::by_id("kaplan").is_none());
        let m = ParameterSet::by_id("muennighoff").unwrap();
        assert_eq!(m.law.a, 6.255414f64.exp());
    }

    #[test]
    fn listings_show_parameters_repetition_and_source() {
        let printed = ParameterSet::hoffmann_printed().listing();
        assert!(
            printed.starts_with(
                "hoffmann-printed     E = 1.69, A = 406.4, B = 410.7, alpha = 0.34, beta = 0.28\n                     source: Hoffmann et al. 2022"
            ),
            "{printed}"
        );
        assert_eq!(printed.lines().count(), 2);
        let m = ParameterSet::muennighoff();
        let r = m.repetition.unwrap();
        assert!(
            m.listing()
                .contains(&format!(", R_D* = {}, R_N* = {}\n", r.r_d_star, r.r_n_star))
        );
    }

    #[test]
    fn terms_add_up() {
        let t = ParameterSet::hoffmann_printed().law.terms(70e9, 1.4e12);
        assert_eq!(t.loss, t.irreducible + t.model + t.data);
        assert!(t.data_share() > 0.0 && t.data_share() < 1.0);
    }
}
