//! The uncertainty a parameter set's authors published with it, carried into everything computed
//! from the set.
//!
//! Besiroglu et al. (2024, "Chinchilla Scaling: A replication attempt", Epoch AI) print each of
//! their five estimates with a bootstrap standard error: E 1.82 (0.03), A 482.01 (124.58),
//! B 2085.43 (1293.23), alpha 0.3478 (0.02), beta 0.3658 (0.02). Hoffmann et al. (2022) print
//! Approach 3's estimates without uncertainty, and the Muennighoff et al. (2023) set is used here
//! as a point too. They print no covariance, and the estimates' errors are strongly correlated (A with
//! alpha, B with beta, in every refit), so no interval for a derived quantity (a data share, an
//! optimal size) can be built from the marginal errors alone: sampling them independently gives
//! intervals that reach zero. The experiment therefore reports these errors beside the bootstrap
//! of the replicated fit (which carries the covariance) and gives every published set NaN
//! interval bounds: claims that read a bound are undecided for a published set rather than judged
//! on its point.

use crate::law::ScalingLaw;

/// Standard errors of (E, A, B, alpha, beta), in the law's own fields, where the set's authors
/// published them.
pub fn standard_errors(set_id: &str) -> Option<ScalingLaw> {
    match set_id {
        "besiroglu" => Some(ScalingLaw {
            e: 0.03,
            a: 124.58,
            b: 1293.23,
            alpha: 0.02,
            beta: 0.02,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_besiroglu_carries_published_errors() {
        assert!(standard_errors("besiroglu").is_some());
        for id in ["hoffmann-printed", "hoffmann-unrounded", "muennighoff"] {
            assert!(standard_errors(id).is_none(), "{id}");
        }
    }
}
