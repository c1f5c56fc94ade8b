//! Program agents that decide by running each other rather than by proof search: the
//! epsilon-grounded FairBot (Oesterheld 2019, "Robust program equilibrium") and similarity-based
//! cooperation.
//!
//! - **Epsilon-grounded FairBot**: with probability `epsilon` it cooperates outright; otherwise it
//!   runs its opponent against itself and copies the opponent's move. Two of them cooperate with
//!   probability 1 (each simulation bottoms out in the grounding cooperation), and against
//!   DefectBot it cooperates only with probability `epsilon`. A simulation deeper than the depth
//!   limit counts as a defection.
//! - **Similarity-based cooperation**: cooperate iff the opponent shows a parameter vector within
//!   `threshold` (Euclidean distance) of one's own; an opponent that shows no parameters gets a
//!   defection. Copies of one base model tuned with small divergence cooperate; distant ones don't.
//!
//! Randomness comes only from the generator passed in.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// A program that plays the one-shot prisoner's dilemma with access to its opponent's program.
#[derive(Clone, Debug, PartialEq)]
pub enum ProgramAgent {
    CooperateBot,
    DefectBot,
    EpsilonGroundedFairBot {
        epsilon: f64,
    },
    SimilarityBot {
        threshold: f64,
        parameters: Vec<f64>,
    },
}

/// How deep simulations may nest before the innermost counts as a defection.
pub const DEPTH_LIMIT: usize = 1_000;

impl ProgramAgent {
    pub fn name(&self) -> String {
        match self {
            ProgramAgent::CooperateBot => "CooperateBot".into(),
            ProgramAgent::DefectBot => "DefectBot".into(),
            ProgramAgent::EpsilonGroundedFairBot { .. } => "EpsilonGroundedFairBot".into(),
            ProgramAgent::SimilarityBot { .. } => "SimilarityBot".into(),
        }
    }

    /// Whether `self` cooperates against `opponent`.
    pub fn cooperates(&self, opponent: &ProgramAgent, rng: &mut ChaCha8Rng) -> bool {
        self.cooperates_at(opponent, rng, 0)
    }

    fn cooperates_at(&self, opponent: &ProgramAgent, rng: &mut ChaCha8Rng, depth: usize) -> bool {
        if depth > DEPTH_LIMIT {
            return false;
        }
        match self {
            ProgramAgent::CooperateBot => true,
            ProgramAgent::DefectBot => false,
            ProgramAgent::EpsilonGroundedFairBot { epsilon } => {
                if rng.random::<f64>() < *epsilon {
                    true
                } else {
                    opponent.cooperates_at(self, rng, depth + 1)
                }
            }
            ProgramAgent::SimilarityBot {
                threshold,
                parameters,
            } => match opponent {
                ProgramAgent::SimilarityBot {
                    parameters: theirs, ..
                } => distance(parameters, theirs) <= *threshold,
                _ => false,
            },
        }
    }

    /// The exact probability that `self` cooperates against `opponent` (ignoring the depth limit).
    pub fn cooperation_probability(&self, opponent: &ProgramAgent) -> f64 {
        use ProgramAgent::*;
        // Probability that an agent cooperates when its move does not depend on the other's
        // simulation of it.
        let direct = |a: &ProgramAgent, b: &ProgramAgent| -> Option<f64> {
            match a {
                CooperateBot => Some(1.0),
                DefectBot => Some(0.0),
                SimilarityBot {
                    threshold,
                    parameters,
                } => Some(match b {
                    SimilarityBot {
                        parameters: theirs, ..
                    } => (distance(parameters, theirs) <= *threshold) as u8 as f64,
                    _ => 0.0,
                }),
                EpsilonGroundedFairBot { .. } => None,
            }
        };
        match (self, opponent) {
            (EpsilonGroundedFairBot { epsilon: a }, EpsilonGroundedFairBot { epsilon: b }) => {
                // q = a + (1-a) r and r = b + (1-b) q give q = 1 whenever a + b > 0: every chain
                // of simulations ends in a grounding cooperation. With a = b = 0 the chain never
                // ends and the depth limit turns it into a defection.
                if *a + *b > 0.0 { 1.0 } else { 0.0 }
            }
            (EpsilonGroundedFairBot { epsilon }, other) => {
                epsilon + (1.0 - epsilon) * direct(other, self).expect("not epsilon-grounded")
            }
            (me, other) => direct(me, other).expect("not epsilon-grounded"),
        }
    }
}

/// Euclidean distance; vectors of different lengths are infinitely far apart.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn epsilon_fairbots_cooperate_with_each_other() {
        let a = ProgramAgent::EpsilonGroundedFairBot { epsilon: 0.05 };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert!((0..200).all(|_| a.cooperates(&a, &mut rng)));
        assert_eq!(a.cooperation_probability(&a), 1.0);
    }

    #[test]
    fn similarity_threshold() {
        let a = ProgramAgent::SimilarityBot {
            threshold: 0.1,
            parameters: vec![0.5, 0.5],
        };
        let near = ProgramAgent::SimilarityBot {
            threshold: 0.1,
            parameters: vec![0.55, 0.45],
        };
        let far = ProgramAgent::SimilarityBot {
            threshold: 0.1,
            parameters: vec![0.7, 0.5],
        };
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert!(a.cooperates(&near, &mut rng));
        assert!(!a.cooperates(&far, &mut rng));
        assert!(!a.cooperates(&ProgramAgent::CooperateBot, &mut rng));
    }
}
