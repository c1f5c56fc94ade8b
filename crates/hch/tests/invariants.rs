//! Invariants of the tree rule, over random tasks and agents.

use cruxlab_hch::allocation::log_accuracy;
use cruxlab_hch::task::Task;
use cruxlab_hch::{Agent, AnyTask, Mechanism, TaskKind, TaskShape, Tree, Verifier, allocate};
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = TaskKind> {
    prop::sample::select(TaskKind::ALL.to_vec())
}

fn shape() -> impl Strategy<Value = TaskShape> {
    (0u32..4, 2u32..4, 1u32..4, 1u32..3).prop_map(|(depth, branching, context, width)| TaskShape {
        depth,
        branching,
        context,
        width,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Copies that never err and never emit memes answer every task right, whatever the votes,
    /// common modes, verifiers and grounding around them.
    #[test]
    fn a_perfect_tree_is_always_right(
        kind in kind(), shape in shape(), seed in 0u64..1000,
        k in prop::sample::select(vec![1u32, 3, 5]), rho in 0.0..1.0f64, tau in 0.0..1.0f64,
        grounding in 0.0..1.0f64, false_alarm in 0.0..1.0f64,
    ) {
        let task = AnyTask::generate(kind, shape, seed);
        let agent = Agent {
            k, rho, tau, grounding,
            verifier: Verifier { power: 1.0, false_alarm, cost: 1.0 },
            ..Agent::PERFECT
        };
        let a = Tree::new(&task, agent, seed).answer();
        prop_assert_eq!(a.value, task.truth(task.root()));
        prop_assert!(!a.meme);
    }

    /// On the same draws, a fitter meme reaches the root at least as often: contamination is
    /// monotone in tau, and grounding only ever removes it.
    #[test]
    fn contamination_is_monotone_in_tau_and_in_grounding(
        shape in shape(), seed in 0u64..1000, k in prop::sample::select(vec![1u32, 3]),
        rho in 0.0..1.0f64, meme_rate in 0.0..0.3f64, epsilon in 0.0..0.2f64,
        tau in 0.0..1.0f64, more in 0.0..1.0f64, grounding in 0.0..0.5f64,
    ) {
        let task = AnyTask::generate(TaskKind::Count, shape, seed);
        let base = Agent { k, rho, meme_rate, epsilon, tau, grounding, ..Agent::PERFECT };
        let contaminated = |agent: Agent| {
            (0..20u64).filter(|s| Tree::new(&task, agent, seed * 31 + s).answer().meme).count()
        };
        let low = contaminated(base);
        let fitter = contaminated(Agent { tau: tau + (1.0 - tau) * more, ..base });
        let grounded = contaminated(Agent { grounding: grounding + (1.0 - grounding) * more, ..base });
        prop_assert!(fitter >= low, "{} < {}", fitter, low);
        prop_assert!(grounded <= low, "{} > {}", grounded, low);
    }

    /// No mechanism overspends, and the price's allocation is never worse than the fixed split.
    #[test]
    fn allocations_fit_the_budget_and_prices_never_lose_to_fixed_splits(
        eps in prop::collection::vec(0.0..0.45f64, 2..8), base_k in prop::sample::select(vec![1u32, 3, 5]),
        rho in 0.0..0.9f64,
    ) {
        let budget = eps.len() as u32 * base_k;
        for m in Mechanism::ALL {
            let a = allocate(m, &eps, base_k, rho, 100);
            prop_assert!(a.copies.iter().sum::<u32>() <= budget);
            prop_assert!(a.copies.iter().all(|k| k % 2 == 1));
        }
        let price = allocate(Mechanism::Price, &eps, base_k, rho, 100);
        let fixed = allocate(Mechanism::Fixed, &eps, base_k, rho, 100);
        prop_assert!(log_accuracy(&eps, &price.copies, rho) >= log_accuracy(&eps, &fixed.copies, rho) - 1e-12);
    }
}
