//! One file per crux. Each experiment opens with a doc comment that reads like a methods section: the
//! claim on each side, the model, the protocol, the metrics and the verdict rules.
//!
//! [`registry`] lists them for the command line.

pub mod bargaining;
pub mod hch;
pub mod imitation;
mod learned;
pub mod misgeneralize;
pub mod oversight;
pub mod retarget;
pub mod retarget_learned;
pub mod scaling;
mod seeding;
pub mod shards;

pub use learned::{PPO_RUN, Trained, decode_run};
pub use seeding::derive_seed;

use cruxlab_core::{DynExperiment, erase};

/// Every experiment the lab runs, in suite order.
pub fn registry() -> Vec<Box<dyn DynExperiment>> {
    vec![
        erase(retarget::Retarget),
        erase(misgeneralize::Misgeneralize),
        erase(shards::Shards),
        erase(retarget_learned::RetargetLearned),
        erase(bargaining::Bargaining),
        erase(hch::Hch),
        erase(scaling::Scaling),
        erase(imitation::Induction),
        erase(oversight::Oversight),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_experiment_declares_checked_claims_each_with_a_control() {
        for e in super::registry() {
            let ids = cruxlab_core::check_claims(e.as_ref()).unwrap_or_else(|err| panic!("{err}"));
            assert!(!ids.is_empty(), "{} declares no claim", e.id());
        }
    }
}
