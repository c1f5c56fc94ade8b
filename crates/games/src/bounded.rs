//! Critch's parametric bounded Löb theorem (Critch 2019, "A parametric, resource-bounded
//! generalization of Löb's theorem, and a robust cooperation criterion for open-source game
//! theory"): FairBot_k, which cooperates iff it finds a proof of length at most k that its opponent
//! cooperates with it.
//!
//! Critch shows that the Löbian argument survives the bound: the proof that two bounded FairBots
//! cooperate has a length that grows only with the number of symbols needed to *write down* the
//! bounds (logarithmically in k), so for every k past a threshold FairBot_k cooperates with
//! itself, and below it the proof does not fit and it defects. This module does not search proofs
//! in PA. It carries the length accounting of that argument as a model with two constants of the
//! proof system, [`ProofLengths`]: a fixed `overhead` (the Löbian steps, the agents' code and the
//! proof system's encoding, in symbols) and `per_digit` symbols for each decimal digit of each bound
//! the proof mentions. The Löbian proof that FairBot_k and FairBot_m cooperate mentions both
//! bounds, so its length is `L(k, m) = overhead + per_digit (digits(k) + digits(m))`.
//!
//! The model assumes no shorter proof of either outcome exists: FairBot_k and FairBot_m cooperate
//! iff `L(k, m) <= min(k, m)` (the proof is only sound if it fits both searches), and both defect
//! otherwise. FairBot_k never cooperates with DefectBot (no proof that DefectBot cooperates
//! exists, PA being sound). The threshold is set by the assumed constants; what the model shows is
//! Critch's qualitative point, that it exists for any constants, since k outgrows its digits.

use serde::{Deserialize, Serialize};

/// The constants of the proof-length model, in symbols.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofLengths {
    /// Length of the Löbian proof apart from the bounds written in it.
    pub overhead: f64,
    /// Symbols per decimal digit of each bound the proof mentions.
    pub per_digit: f64,
}

/// The number of decimal digits of `k` (1 for 0).
pub fn digits(k: u64) -> u32 {
    k.checked_ilog10().map_or(1, |d| d + 1)
}

impl ProofLengths {
    /// The length of the Löbian proof that FairBot_k and FairBot_m cooperate with each other.
    pub fn loebian_proof(&self, k: u64, m: u64) -> f64 {
        self.overhead + self.per_digit * (digits(k) + digits(m)) as f64
    }

    /// Whether FairBot_k and FairBot_m cooperate (both or neither do).
    pub fn fairbots_cooperate(&self, k: u64, m: u64) -> bool {
        self.loebian_proof(k, m) <= k.min(m) as f64
    }

    /// The smallest k at which FairBot_k cooperates with itself, searching up to `limit`.
    pub fn self_threshold(&self, limit: u64) -> Option<u64> {
        (0..=limit).find(|&k| self.fairbots_cooperate(k, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fairbot_k_by_hand() {
        let p = ProofLengths {
            overhead: 100.0,
            per_digit: 10.0,
        };
        assert_eq!(
            (digits(0), digits(9), digits(10), digits(999)),
            (1, 1, 2, 3)
        );
        // k = 9: 100 + 2 x 10 = 120 > 9. k = 119: 100 + 60 = 160 > 119. k = 159: 160 > 159.
        // k = 160: 160 <= 160. k = 1000: 100 + 80 = 180 <= 1000.
        for (k, coop) in [
            (0, false),
            (9, false),
            (119, false),
            (159, false),
            (160, true),
            (1000, true),
        ] {
            assert_eq!(p.fairbots_cooperate(k, k), coop, "k = {k}");
        }
        assert_eq!(p.self_threshold(10_000), Some(160));
        // Different bounds: L(160, 5000) = 100 + 30 + 40 = 170 > 160, so both defect; with
        // m = 999, L = 160 <= 160 and they cooperate.
        assert!(!p.fairbots_cooperate(160, 5000));
        assert!(p.fairbots_cooperate(160, 999));
        assert!(p.fairbots_cooperate(999, 160));
    }

    #[test]
    fn free_proofs_cooperate_at_every_bound() {
        let p = ProofLengths {
            overhead: 0.0,
            per_digit: 0.0,
        };
        assert_eq!(p.self_threshold(10), Some(0));
    }
}
