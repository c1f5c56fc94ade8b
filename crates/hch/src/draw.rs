//! Counter-based random draws: every random number a node uses is a hash of the tree's seed, the
//! node's identity and the purpose of the draw. Nothing is consumed from a stream, so the same node
//! sees the same numbers whatever the parameters (common random numbers): raising a rate can only add
//! events, never reshuffle the others. That coupling is what makes the monotonicity properties in the
//! tests hold draw by draw, and it makes results independent of evaluation order.

/// The SplitMix64 finaliser (Steele, Lea & Flood 2014).
#[inline]
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The identity of the `i`-th child (sub-question, copy or re-run) of node `id`.
#[inline]
pub fn child(id: u64, i: u64) -> u64 {
    mix(id ^ i.wrapping_add(1).wrapping_mul(0xd6e8_feb8_6659_fd93))
}

/// What a draw is for. Each purpose gets its own independent number at every node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// The node's own mistake.
    Error = 1,
    /// Which wrong answer a mistake gives.
    Lure = 2,
    /// Whether a question falls in the base's common mode (all copies answer alike).
    Common = 3,
    /// Whether a parent is fooled into passing a memetic answer up.
    Fooled = 4,
    /// Whether a node ignores its task and emits a memetic answer.
    Meme = 5,
    /// Whether the verifier flags the node's answer.
    Verify = 6,
    /// Whether the node's answer is grounded (spot-checked against the world).
    Ground = 7,
    /// Whether a blame comparison is grounded.
    BlameGround = 8,
    /// Whether a fresh copy asked during blame repeats the original (common mode).
    BlameCommon = 9,
}

/// The draws of one node.
#[derive(Clone, Copy, Debug)]
pub struct Draws(u64);

impl Draws {
    #[inline]
    pub fn at(seed: u64, id: u64) -> Draws {
        Draws(mix(seed ^ mix(id)))
    }

    /// A uniform number in [0, 1) for `purpose`.
    #[inline]
    pub fn unit(self, purpose: Purpose) -> f64 {
        let bits = mix(self.0 ^ (purpose as u64).wrapping_mul(0xa076_1d64_78bd_642f));
        (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    #[inline]
    pub fn chance(self, purpose: Purpose, p: f64) -> bool {
        self.unit(purpose) < p
    }

    /// A uniform index below `n` (n >= 1).
    #[inline]
    pub fn index(self, purpose: Purpose, n: u32) -> u32 {
        ((self.unit(purpose) * n as f64) as u32).min(n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_uniform_enough_and_purposes_differ() {
        let n = 100_000;
        let mean: f64 = (0..n)
            .map(|i| Draws::at(7, i).unit(Purpose::Error))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.5).abs() < 0.005, "{mean}");
        let d = Draws::at(7, 3);
        assert_ne!(d.unit(Purpose::Error), d.unit(Purpose::Meme));
        assert_ne!(child(3, 0), child(3, 1));
        assert_eq!(Draws::at(7, 3).unit(Purpose::Lure), d.unit(Purpose::Lure));
    }
}
