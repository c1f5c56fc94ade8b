//! The simulation reproduces the closed forms within its confidence interval: per seed an error
//! rate over many questions, then a Student-t interval over 20 seeds. The tests use the 99.9%
//! interval: there are a dozen comparisons, and at 95% one in twenty would fail by chance alone
//! (the experiment's claim `majority-matches-closed-form` is the 95% equivalence test).

use cruxlab_hch::amplify::{
    erring_voter, majority_error, meme_contamination, run_errors, uncorrected_accuracy,
};
use cruxlab_hch::task::Task;
use cruxlab_hch::{Agent, AnyTask, PoolSimulation, TaskKind, TaskShape, Tree};

/// t(0.9995, 19).
const T19: f64 = 3.883;

/// Mean and half-width of a 99.9% interval over 20 per-seed values.
fn interval(values: &[f64]) -> (f64, f64) {
    assert_eq!(values.len(), 20);
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, T19 * (var / n).sqrt())
}

fn assert_within(values: &[f64], expected: f64, what: &str) {
    let (mean, half) = interval(values);
    assert!(
        (mean - expected).abs() <= half,
        "{what}: simulated {mean} +- {half}, closed form {expected}"
    );
}

fn shape(depth: u32) -> TaskShape {
    TaskShape {
        depth,
        branching: 2,
        context: 2,
        width: 2,
    }
}

/// Per seed, the share of `questions` root answers that are wrong.
fn tree_error(kind: TaskKind, depth: u32, agent: Agent, seed: u64, questions: u64) -> f64 {
    let mut wrong = 0;
    for q in 0..questions {
        let task = AnyTask::generate(kind, shape(depth), seed * 1_000_003 + q);
        let mut tree = Tree::new(&task, agent, seed * 7919 + q);
        wrong += (tree.answer().value != task.truth(task.root())) as u64;
    }
    wrong as f64 / questions as f64
}

#[test]
fn majority_of_three_independent_answers_fails_with_3e2_minus_2e3() {
    for (eps, rho) in [(0.1, 0.0), (0.3, 0.0), (0.2, 0.4)] {
        let agent = Agent {
            epsilon: eps,
            rho,
            k: 3,
            ..Agent::PERFECT
        };
        // A question one agent answers directly, put to a vote of three copies.
        let per_seed: Vec<f64> = (0..20)
            .map(|seed| {
                let task = AnyTask::generate(TaskKind::Count, shape(0), seed);
                let mut wrong = 0;
                for q in 0..4000u64 {
                    let mut tree = Tree::new(&task, agent, seed * 100_000 + q);
                    let (a, _) = tree.ask(task.root(), 1);
                    wrong += (a.value != task.truth(task.root())) as u64;
                }
                wrong as f64 / 4000.0
            })
            .collect();
        let closed = rho * eps + (1.0 - rho) * (3.0 * eps * eps - 2.0 * eps.powi(3));
        assert!((closed - (rho * eps + (1.0 - rho) * majority_error(eps, 3))).abs() < 1e-15);
        assert_within(&per_seed, closed, &format!("eps {eps}, rho {rho}"));
    }
}

#[test]
fn an_uncorrected_tree_is_right_with_probability_one_minus_eps_to_the_nodes() {
    // Counting and arithmetic never mask a wrong sub-answer (sums of shifted counts, products
    // modulo a prime), so the root is right exactly when no node erred.
    for kind in [TaskKind::Count, TaskKind::Arithmetic] {
        let agent = Agent {
            epsilon: 0.02,
            ..Agent::PERFECT
        };
        let per_seed: Vec<f64> = (0..20)
            .map(|seed| 1.0 - tree_error(kind, 4, agent, seed, 300))
            .collect();
        assert_within(&per_seed, uncorrected_accuracy(0.02, 2, 4), kind.as_str());
    }
}

#[test]
fn the_erring_voter_settles_where_the_closed_form_says_on_both_sides_of_its_threshold() {
    // A chain (one sub-question per node) with a vote of three is Christiano's erring voter with
    // eta = epsilon; its threshold is 1/9.
    for eta in [0.05, 0.1, 0.12, 0.2] {
        let mut x = 0.0;
        let mut closed = vec![];
        for _ in 0..=61 {
            closed.push(x);
            x = erring_voter(x, eta);
        }
        let per_seed: Vec<f64> = (0..20)
            .map(|seed| {
                let sim = PoolSimulation {
                    rho: 0.0,
                    k: 3,
                    branching: 1,
                    pool: 20_000,
                    seed,
                };
                sim.errors(eta, 60)[60]
            })
            .collect();
        // errors()[h] is a run at height h; the closed form's step h + 1 is the same run.
        assert_within(&per_seed, closed[61], &format!("eta {eta}"));
    }
}

#[test]
fn the_deep_simulation_follows_the_recursion_with_correlated_copies() {
    for (eps, rho) in [(0.02, 0.0), (0.01, 0.3), (0.004, 0.6)] {
        let closed = run_errors(eps, rho, 3, 2, 12);
        let per_seed: Vec<f64> = (0..20)
            .map(|seed| {
                PoolSimulation {
                    rho,
                    k: 3,
                    branching: 2,
                    pool: 20_000,
                    seed,
                }
                .errors(eps, 12)[12]
            })
            .collect();
        assert_within(&per_seed, closed[12], &format!("eps {eps} rho {rho}"));
    }
}

#[test]
fn meme_contamination_follows_its_recursion() {
    // Fit memes that take over ((1 - g) b tau = 1.08 > 1) and unfit ones that die out (0.54).
    for (tau, grounding) in [(0.6, 0.1), (0.3, 0.1), (0.9, 0.0)] {
        let agent = Agent {
            meme_rate: 0.03,
            tau,
            grounding,
            ..Agent::PERFECT
        };
        let per_seed: Vec<f64> = (0..20)
            .map(|seed| {
                (0..400u64)
                    .filter(|&q| {
                        let task = AnyTask::generate(TaskKind::Count, shape(6), seed * 1000 + q);
                        Tree::new(&task, agent, seed * 7919 + q).answer().meme
                    })
                    .count() as f64
                    / 400.0
            })
            .collect();
        let closed = meme_contamination(0.03, tau, grounding, 2, 6)[6];
        assert_within(
            &per_seed,
            closed,
            &format!("tau {tau}, grounding {grounding}"),
        );
    }
}
