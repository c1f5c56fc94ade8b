//! Planner invariants on generated levels: every admissible heuristic (relaxed, ALT, a cue of
//! limited radius, a learned table) never overestimates, and unbounded planners holding one return
//! optimal paths; budgeted planners never exceed their budget and still reach the goal (LRTA*
//! completeness), noisy heuristics included.

use cruxlab_agents::roster::AgentKind;
use cruxlab_agents::{Policy, SearchOutcome, play};
use cruxlab_grid::{Action, DistanceField, Level, LevelSpec, ObjectKind};
use proptest::prelude::*;

fn spec() -> impl Strategy<Value = LevelSpec> {
    prop_oneof![
        (2usize..8).prop_map(|h| LevelSpec::Maze { size: 2 * h + 1 }),
        (2usize..8, 0.0f64..0.35).prop_map(|(h, density)| LevelSpec::Rooms {
            size: 2 * h + 1,
            density
        }),
    ]
}

/// Agents of every family, the noisy cue last (index 7): the others are admissible.
const AGENTS: [&str; 8] = [
    "bfs",
    "astar",
    "alt1",
    "alt4",
    "cue",
    "cue-r3",
    "table6",
    "cue-r5-n2",
];

fn agent(i: usize) -> AgentKind {
    AGENTS[i].parse().unwrap()
}

/// Steps to the target under the engine's rules, if reached within `limit` steps.
fn walk(
    level: &Level,
    target: ObjectKind,
    policy: &mut impl Policy,
    limit: usize,
) -> Option<usize> {
    let episode = play(level, target, policy, limit as u32);
    episode.success.then_some(episode.steps as usize)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn admissible_heuristics_never_overestimate(spec in spec(), seed in 0u64..1000, agent_i in 0usize..7, swap in any::<bool>()) {
        let level = spec.generate(seed);
        let agent = agent(agent_i);
        prop_assert!(agent.admissible());
        let target = if swap { ObjectKind::Cheese } else { ObjectKind::Diamond };
        let truth = DistanceField::from_sources(&level, level.positions_of(target));
        let derived = agent.derive(&level, target);
        for i in 0..level.cells() {
            let p = level.pos(i);
            if let Some(t) = truth.get(p) {
                let h = derived.heuristic.estimate(p);
                prop_assert!(h <= t, "{} at {}: {} > {}", agent, p, h, t);
            }
        }
        // Re-derived for the other target, it bounds that target's distance instead.
        let other = if swap { ObjectKind::Diamond } else { ObjectKind::Cheese };
        let truth = DistanceField::from_sources(&level, level.positions_of(other));
        let again = agent.rederive(&derived.heuristic, &level, other);
        for i in 0..level.cells() {
            let p = level.pos(i);
            if let Some(t) = truth.get(p) {
                prop_assert!(again.heuristic.estimate(p) <= t);
            }
        }
    }

    #[test]
    fn unbounded_planners_find_optimal_paths(spec in spec(), seed in 0u64..1000, agent_i in 0usize..7, swap in any::<bool>()) {
        let level = spec.generate(seed);
        let agent = agent(agent_i);
        let target = if swap { ObjectKind::Cheese } else { ObjectKind::Diamond };
        let optimal = DistanceField::from_sources(&level, level.positions_of(target)).get(level.agent()).unwrap();
        let mut planner = agent.planner(&level, target, None);
        let (outcome, _) = planner.search(&level, level.agent());
        match outcome {
            SearchOutcome::Found { path } => {
                prop_assert_eq!(path.len() as u32, optimal);
                // The path is a chain of floor cells, one move apart.
                let mut here = level.agent();
                for p in &path {
                    prop_assert!(!level.is_wall(*p));
                    prop_assert!(Action::between(here, *p).is_some());
                    here = *p;
                }
            }
            other => prop_assert!(false, "no path: {:?}", other),
        }
        // Following the plan takes exactly the optimal number of steps.
        let mut planner = agent.planner(&level, target, None);
        prop_assert_eq!(walk(&level, target, &mut planner, 10_000), Some(optimal as usize));
    }

    #[test]
    fn budgeted_planners_respect_the_budget_and_arrive(spec in spec(), seed in 0u64..1000, agent_i in 0usize..8, budget in 1u64..12) {
        let level = spec.generate(seed);
        let agent = agent(agent_i);
        // Swapped target with a stale heuristic: the hardest case for completeness.
        let mut planner = agent.planner(&level, ObjectKind::Diamond, Some(budget));
        planner.retarget(ObjectKind::Cheese);
        let steps = walk(&level, ObjectKind::Cheese, &mut planner, 200 * level.cells());
        prop_assert!(steps.is_some(), "LRTA* did not arrive");
        let c = planner.compute();
        prop_assert!(c.peak <= budget, "one decision spent {} > {budget}", c.peak);
    }
}
