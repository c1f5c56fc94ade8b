//! Priors over programs, each a cost in bits read from a program's length and run time.
//!
//! * **Bounded simplicity**: 2^-length among programs that answer every state within `time_bound`
//!   steps; slower programs are excluded (a hard bound on computation).
//! * **Speed**: 2^-(length + log_k time), one extra bit per `k`-fold slowdown. With k = 2 this is
//!   Levin's Kt (length plus log2 of run time) and, up to normalisation, Schmidhuber's speed prior
//!   (a program of length l that takes t steps gets weight about 2^-l / t); with k = 4 it is the
//!   weaker prior of Christiano's arithmetic, "4x time = 1 bit". Time is the run time on the data
//!   the imitator has seen (summed over its states), as Levin's and Schmidhuber's priors charge the
//!   time to produce the observations.
//!
//! Lengths and times are passed as bits and log2 steps so that Christiano's examples (2^2000 steps)
//! can be computed exactly.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Prior {
    Simplicity { time_bound: f64 },
    Speed { time_factor: f64 },
}

impl Prior {
    /// Levin's Kt and Schmidhuber's speed prior: one bit per doubling.
    pub const LEVIN: Prior = Prior::Speed { time_factor: 2.0 };
    /// Christiano's weaker speed prior: one bit per quadrupling.
    pub const FOUR_X: Prior = Prior::Speed { time_factor: 4.0 };

    /// The cost in bits (minus log2 of the unnormalised prior weight) of a program of `length`
    /// bits that took 2^`log2_total` steps over the data and at most 2^`log2_max` steps on any
    /// state; `None` when the prior excludes it.
    pub fn cost_bits(&self, length: f64, log2_total: f64, log2_max: f64) -> Option<f64> {
        match *self {
            Prior::Simplicity { time_bound } => (log2_max <= time_bound.log2()).then_some(length),
            Prior::Speed { time_factor } => Some(length + log2_total / time_factor.log2()),
        }
    }

    /// [`Prior::cost_bits`] from step counts: `total` steps over the data, at most `max` on any
    /// state (a count of 0 is read as 1), with `log2` the base-2 logarithm of a count (callers
    /// may memoise it). The simplicity prior's bound is compared in steps, so only the speed
    /// priors take a logarithm.
    pub fn cost_of_steps(
        &self,
        length: f64,
        total: u64,
        max: u64,
        log2: &mut impl FnMut(u64) -> f64,
    ) -> Option<f64> {
        match *self {
            Prior::Simplicity { time_bound } => (max.max(1) as f64 <= time_bound).then_some(length),
            Prior::Speed { .. } => self.cost_bits(length, log2(total.max(1)), 0.0),
        }
    }

    /// The cost of a brute-force search of `search_bits` that tries all 2^`target_bits` programs of
    /// `target_bits` bits, each for 2^`log2_target_time` steps, to run the one it wants: the same
    /// work as the target's 2^`log2_target_time` steps times 2^`target_bits` candidates.
    pub fn brute_force_cost(
        &self,
        search_bits: f64,
        target_bits: f64,
        log2_target_time: f64,
    ) -> Option<f64> {
        let log2_time = target_bits + log2_target_time;
        self.cost_bits(search_bits, log2_time, log2_time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn christianos_examples() {
        // A 1000-bit program running 2^2000 steps scores 2000 bits under the 4x prior; a search
        // that finds it by trying every 1000-bit program takes 2^3000 steps and scores 1500 (plus
        // its own length, here taken as 0 as in the example), so the prior hands the work to it.
        let direct = Prior::FOUR_X.cost_bits(1000.0, 2000.0, 2000.0).unwrap();
        assert_eq!(direct, 2000.0);
        let search = Prior::FOUR_X.brute_force_cost(0.0, 1000.0, 2000.0).unwrap();
        assert_eq!(search, 1500.0);
        // Under "1 bit = 2x time" brute-force search is neutral: the 1000 bits the searcher saves
        // come back as 1000 doublings of run time. Both score 3000, to within the searcher's
        // own length.
        assert_eq!(Prior::LEVIN.cost_bits(1000.0, 2000.0, 2000.0), Some(3000.0));
        assert_eq!(
            Prior::LEVIN.brute_force_cost(0.0, 1000.0, 2000.0),
            Some(3000.0)
        );
        for search_bits in [0.0, 7.0, 40.0] {
            let s = Prior::LEVIN
                .brute_force_cost(search_bits, 1000.0, 2000.0)
                .unwrap();
            assert_eq!(s - 3000.0, search_bits);
        }
        // Under a pure simplicity prior with no binding bound the searcher wins by all 1000 bits;
        // with a bound below its run time it is excluded.
        let free = Prior::Simplicity {
            time_bound: f64::INFINITY,
        };
        assert_eq!(free.brute_force_cost(0.0, 1000.0, 2000.0), Some(0.0));
        let bounded = Prior::Simplicity {
            time_bound: 2f64.powi(1000),
        };
        assert_eq!(bounded.brute_force_cost(0.0, 1000.0, 2000.0), None);
    }

    #[test]
    fn each_prior_on_hand_computed_programs() {
        // A 5-bit search taking 12 steps on each of 4 states (48 in all) against a 4-bit reflex
        // taking 1 step on each (4 in all).
        let (search_total, search_max) = (48f64.log2(), 12f64.log2());
        let (reflex_total, reflex_max) = (4f64.log2(), 0.0);
        let bounded = Prior::Simplicity { time_bound: 12.0 };
        assert_eq!(bounded.cost_bits(5.0, search_total, search_max), Some(5.0));
        assert_eq!(bounded.cost_bits(4.0, reflex_total, reflex_max), Some(4.0));
        let tight = Prior::Simplicity { time_bound: 11.0 };
        assert_eq!(tight.cost_bits(5.0, search_total, search_max), None);
        // The same from step counts.
        let log2 = &mut |x: u64| (x as f64).log2();
        assert_eq!(bounded.cost_of_steps(5.0, 48, 12, log2), Some(5.0));
        assert_eq!(tight.cost_of_steps(5.0, 48, 12, log2), None);
        assert_eq!(Prior::LEVIN.cost_of_steps(4.0, 4, 1, log2), Some(6.0));
        assert_eq!(Prior::FOUR_X.cost_of_steps(4.0, 4, 1, log2), Some(5.0));
        assert_eq!(Prior::LEVIN.cost_of_steps(4.0, 0, 0, log2), Some(4.0));
        // Kt: 5 + log2 48 = 10.585; 4 + log2 4 = 6.
        let kt = Prior::LEVIN
            .cost_bits(5.0, search_total, search_max)
            .unwrap();
        assert!((kt - (5.0 + 48f64.log2())).abs() < 1e-12 && (kt - 10.585).abs() < 1e-3);
        assert_eq!(
            Prior::LEVIN.cost_bits(4.0, reflex_total, reflex_max),
            Some(6.0)
        );
        // 4x: 5 + log2(48)/2 = 7.792; 4 + 1 = 5.
        let weak = Prior::FOUR_X
            .cost_bits(5.0, search_total, search_max)
            .unwrap();
        assert!((weak - 7.792).abs() < 1e-3);
        assert_eq!(
            Prior::FOUR_X.cost_bits(4.0, reflex_total, reflex_max),
            Some(5.0)
        );
    }
}
