//! Planner invariants on generated levels: unbounded A* and breadth-first search return optimal paths;
//! budgeted planners never exceed their budget and still reach the goal (LRTA* completeness).

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
    fn unbounded_planners_find_optimal_paths(spec in spec(), seed in 0u64..1000, agent in 0usize..3, swap in any::<bool>()) {
        let level = spec.generate(seed);
        let agent = AgentKind::ALL[agent];
        let target = if swap { ObjectKind::Cheese } else { ObjectKind::Diamond };
        let optimal = DistanceField::from_sources(&level, level.positions_of(target)).get(level.agent()).unwrap();
        let cue = DistanceField::from_sources(&level, level.positions_of(ObjectKind::CUE_SOURCE));
        let mut planner = agent.planner(&level, target, None);
        let (outcome, _) = planner.search(&level, &cue, level.agent());
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
    fn budgeted_planners_respect_the_budget_and_arrive(spec in spec(), seed in 0u64..1000, agent in 0usize..3, budget in 1u64..12) {
        let level = spec.generate(seed);
        let agent = AgentKind::ALL[agent];
        // Swapped target with a stale heuristic: the hardest case for completeness.
        let mut planner = agent.planner(&level, ObjectKind::Diamond, Some(budget));
        planner.retarget(ObjectKind::Cheese);
        let steps = walk(&level, ObjectKind::Cheese, &mut planner, 200 * level.cells());
        prop_assert!(steps.is_some(), "LRTA* did not arrive");
        let c = planner.compute();
        prop_assert!(c.peak <= budget, "one decision spent {} > {budget}", c.peak);
    }
}
