//! Reliability amplification in closed form, and the same recursion simulated deep.
//!
//! In the binary setting (every wrong answer agrees with every other, one lure) a question at height
//! `h` is answered wrongly by one run with probability `e_h`, and a vote of `k` copies errs with
//! `V(e) = rho e + (1 - rho) M_k(e)`, where `M_k(e)` is the chance that more than half of `k`
//! independent answers are wrong (`M_3(e) = 3e^2 - 2e^3`, Christiano's reliability amplification)
//! and `rho` is the share of questions in the base's common mode, where all copies answer alike. A
//! run at height `h + 1` asks `b` sub-questions and makes its own mistake with probability
//! `epsilon`; every wrong input makes it wrong, so
//!
//! `e_0 = epsilon`,  `e_{h+1} = 1 - (1 - epsilon) (1 - V(e_h))^b`.
//!
//! Without votes (`k = 1`) the root of depth `d` is right with probability `(1 - epsilon)^nodes`,
//! `nodes = (b^(d+1) - 1) / (b - 1)`. With `b = 1` the recursion is Christiano's erring voter,
//! `x' = eta + (1 - eta) M_3(x)` with `eta = epsilon`: its error stays small only while `eta` is
//! below a threshold, above which the small fixed point disappears.
//!
//! [`PoolSimulation`] simulates the same tree to depth 20 and beyond by population dynamics: a pool
//! of sampled runs at height `h` supplies the copies that answer sub-questions at height `h + 1`
//! (exact in distribution as the pool grows, since subtrees are independent). Its draws are
//! counter-based and the same for every `epsilon`, so the simulated error is monotone in `epsilon`
//! draw by draw and a bisection finds the largest `epsilon` a depth tolerates.

use crate::draw::mix;

/// The chance that more than half of `k` independent answers, each wrong with probability `e`,
/// are wrong (for even `k`, a tie counts as wrong).
pub fn majority_error(e: f64, k: u32) -> f64 {
    let need = if k.is_multiple_of(2) {
        k / 2
    } else {
        k / 2 + 1
    };
    (need..=k)
        .map(|j| binomial(k, j) * e.powi(j as i32) * (1.0 - e).powi((k - j) as i32))
        .sum()
}

fn binomial(n: u32, j: u32) -> f64 {
    (0..j).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
}

/// Error of a vote of `k` copies whose runs each err with `e`, a share `rho` in common mode.
pub fn vote_error(e: f64, k: u32, rho: f64) -> f64 {
    if k <= 1 {
        return e;
    }
    rho * e + (1.0 - rho) * majority_error(e, k)
}

/// Error of a run at each height `0..=depth`, by the recursion.
pub fn run_errors(epsilon: f64, rho: f64, k: u32, branching: u32, depth: u32) -> Vec<f64> {
    let mut e = vec![epsilon];
    for _ in 0..depth {
        let v = vote_error(*e.last().unwrap(), k, rho);
        e.push(1.0 - (1.0 - epsilon) * (1.0 - v).powi(branching as i32));
    }
    e
}

/// Questions in a complete tree of depth `d` and branching `b`.
pub fn nodes(branching: u32, depth: u32) -> f64 {
    (0..=depth).map(|l| (branching as f64).powi(l as i32)).sum()
}

/// Accuracy of an uncorrected tree with independent per-node errors: `(1 - epsilon)^nodes`.
pub fn uncorrected_accuracy(epsilon: f64, branching: u32, depth: u32) -> f64 {
    (1.0 - epsilon).powf(nodes(branching, depth))
}

/// Contamination of a run at each height `0..=depth` of an uncorrected tree (one copy per
/// question): a node passes a memetic sub-answer up with probability `tau`, starts one with
/// probability `meme_rate`, and a spot-check (probability `grounding`) removes it:
/// `c_0 = (1 - g) mu`, `c_{h+1} = (1 - g) (1 - (1 - mu)(1 - tau (1 - (1 - c_h)^b)))`.
/// Linearised, memes die out when `(1 - g) b tau < 1` and take over the tree when it exceeds 1.
pub fn meme_contamination(
    meme_rate: f64,
    tau: f64,
    grounding: f64,
    branching: u32,
    depth: u32,
) -> Vec<f64> {
    let mut c = vec![(1.0 - grounding) * meme_rate];
    for _ in 0..depth {
        let incoming = 1.0 - (1.0 - c.last().unwrap()).powi(branching as i32);
        c.push((1.0 - grounding) * (1.0 - (1.0 - meme_rate) * (1.0 - tau * incoming)));
    }
    c
}

/// One step of Christiano's erring voter: `eta + (1 - eta) (3x^2 - 2x^3)`.
pub fn erring_voter(x: f64, eta: f64) -> f64 {
    eta + (1.0 - eta) * majority_error(x, 3)
}

/// Where the erring voter's error settles from `x = 0` (after many steps).
pub fn erring_voter_limit(eta: f64) -> f64 {
    let mut x = 0.0;
    for _ in 0..100_000 {
        let next = erring_voter(x, eta);
        if (next - x).abs() < 1e-15 {
            return next;
        }
        x = next;
    }
    x
}

/// The largest voter error `eta` (1/9, with the fixed point at 1/4) for which the erring voter keeps a small fixed point (found by
/// bisection on where the iteration from 0 settles: below 1/2 or above).
pub fn erring_voter_threshold() -> f64 {
    let (mut lo, mut hi) = (0.0, 0.5);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if erring_voter_limit(mid) < 0.5 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The bracket searched for a critical epsilon.
pub const EPSILON_RANGE: (f64, f64) = (1e-7, 0.5);

/// Bisection in log epsilon for the largest epsilon whose error `error(epsilon)` stays at or below
/// `tolerance`, given that `error` is non-decreasing. Returns the bracket's geometric middle, or
/// an end of [`EPSILON_RANGE`] when the whole range passes or fails.
pub fn critical_epsilon(tolerance: f64, steps: u32, mut error: impl FnMut(f64) -> f64) -> f64 {
    let (mut lo, mut hi) = EPSILON_RANGE;
    if error(hi) <= tolerance {
        return hi;
    }
    if error(lo) > tolerance {
        return lo;
    }
    for _ in 0..steps {
        let mid = (lo * hi).sqrt();
        if error(mid) <= tolerance {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo * hi).sqrt()
}

/// The tree of [`run_errors`], simulated by population dynamics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolSimulation {
    pub rho: f64,
    pub k: u32,
    pub branching: u32,
    /// Sampled runs per height.
    pub pool: usize,
    pub seed: u64,
}

impl PoolSimulation {
    /// The simulated error of a run at each height `0..=depth`.
    pub fn errors(&self, epsilon: f64, depth: u32) -> Vec<f64> {
        let mut out = Vec::with_capacity(depth as usize + 1);
        let n = self.pool.max(1);
        let mut current = vec![false; n];
        let mut next = vec![false; n];
        let unit = |x: u64| (x >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        for h in 0..=depth {
            let level = mix(self.seed ^ mix(h as u64 + 1));
            let mut wrong = 0usize;
            for (j, slot) in next.iter_mut().enumerate() {
                let mut c = mix(level ^ (j as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                let mut draw = || {
                    c = c.wrapping_add(0x6a09_e667_f3bc_c909);
                    mix(c)
                };
                let mut bad = unit(draw()) < epsilon;
                if h > 0 {
                    for _ in 0..self.branching {
                        let common = unit(draw()) < self.rho;
                        let mut wrong_copies = 0;
                        for copy in 0..self.k.max(1) {
                            let pick = ((draw() as u128 * n as u128) >> 64) as usize;
                            if copy == 0 || !common {
                                wrong_copies += current[pick] as u32;
                            }
                        }
                        let vote_wrong = if common || self.k <= 1 {
                            wrong_copies > 0
                        } else {
                            2 * wrong_copies >= self.k + (self.k % 2)
                        };
                        bad |= vote_wrong;
                    }
                }
                *slot = bad;
                wrong += bad as usize;
            }
            out.push(wrong as f64 / n as f64);
            std::mem::swap(&mut current, &mut next);
        }
        out
    }

    /// Node runs one call of [`PoolSimulation::errors`] simulates.
    pub fn runs(&self, depth: u32) -> u64 {
        (depth as u64 + 1) * self.pool as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms_by_hand() {
        let e: f64 = 0.1;
        assert!((majority_error(e, 3) - (3.0 * e * e - 2.0 * e.powi(3))).abs() < 1e-15);
        assert!((majority_error(e, 1) - e).abs() < 1e-15);
        // Five voters: 10 e^3 (1-e)^2 + 5 e^4 (1-e) + e^5.
        let m5 = 10.0 * e.powi(3) * 0.81 + 5.0 * e.powi(4) * 0.9 + e.powi(5);
        assert!((majority_error(e, 5) - m5).abs() < 1e-15);
        assert!((vote_error(e, 3, 0.25) - (0.025 + 0.75 * 0.028)).abs() < 1e-15);
        // k = 1: the tree is right iff no node errs.
        let r = run_errors(0.01, 0.0, 1, 2, 4);
        assert!((1.0 - r[4] - uncorrected_accuracy(0.01, 2, 4)).abs() < 1e-12);
        assert_eq!(nodes(2, 4), 31.0);
    }

    #[test]
    fn the_erring_voter_has_a_threshold() {
        let t = erring_voter_threshold();
        // By hand: at eta = 1/9, x = 1/4 solves both x = eta + (1 - eta)(3x^2 - 2x^3)
        // (1/9 + 8/9 * 10/64 = 1/4) and the tangency (1 - eta)(6x - 6x^2) = 1 (8/9 * 18/16 = 1).
        assert!((t - 1.0 / 9.0).abs() < 1e-9, "{t}");
        assert!((erring_voter(0.25, 1.0 / 9.0) - 0.25).abs() < 1e-15);
        assert!(erring_voter_limit(t * 0.95) < 0.2);
        assert!(erring_voter_limit(t * 1.05) > 0.5);
    }

    #[test]
    fn monotone_in_epsilon_draw_by_draw() {
        let sim = PoolSimulation {
            rho: 0.2,
            k: 3,
            branching: 2,
            pool: 2000,
            seed: 4,
        };
        let mut last = vec![0.0; 9];
        for eps in [0.0, 0.001, 0.01, 0.03, 0.1, 0.3] {
            let e = sim.errors(eps, 8);
            for (a, b) in e.iter().zip(&last) {
                assert!(a >= b, "{eps}: {e:?} vs {last:?}");
            }
            last = e;
        }
    }
}
