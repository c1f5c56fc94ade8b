//! Single-environment step semantics.

use cruxlab_grid::obs::{CH_AGENT, CH_CUE, code};
use cruxlab_grid::{
    Action, Env, EnvConfig, Level, LevelSource, LevelSpec, ObjectKind, ObsKind, Observation, Pos,
};
use proptest::prelude::*;

fn fixed(text: &str, target: ObjectKind, max_steps: u32) -> Env {
    Env::new(
        LevelSource::Fixed(Level::parse(text).unwrap()),
        EnvConfig::new(target, max_steps),
    )
}

const CORRIDOR: &str = "#######\n#A.C.D#\n#######\n";

#[test]
fn wall_bump_leaves_the_agent_in_place() {
    let mut env = fixed(CORRIDOR, ObjectKind::Diamond, 100);
    env.reset(0);
    for action in [Action::Up, Action::Down, Action::Left] {
        let s = env.step(action);
        assert!(!s.info.moved);
        assert_eq!(s.reward, 0.0);
        assert!(!s.terminated && !s.truncated);
        assert_eq!(env.agent(), Pos::new(1, 1));
    }
    assert_eq!(env.steps(), 3, "bumps count as steps");
    let s = env.step(Action::Right);
    assert!(s.info.moved);
    assert_eq!(s.info.steps, 4);
    assert_eq!(env.agent(), Pos::new(1, 2));
}

#[test]
fn target_gives_reward_and_terminates_other_objects_are_passable() {
    let mut env = fixed(CORRIDOR, ObjectKind::Diamond, 100);
    env.reset(0);
    assert_eq!(env.step(Action::Right).info.reached, None);
    let on_cheese = env.step(Action::Right);
    assert_eq!(on_cheese.info.reached, Some(ObjectKind::Cheese));
    assert_eq!(on_cheese.reward, 0.0);
    assert!(!on_cheese.terminated);
    // The compact observation shows the agent over the cheese, and the cheese again once it leaves.
    let cheese = env.level().index(Pos::new(1, 3));
    assert_eq!(
        on_cheese.observation.as_compact().unwrap()[cheese],
        code::AGENT
    );
    let past = env.step(Action::Right);
    assert_eq!(past.observation.as_compact().unwrap()[cheese], code::CHEESE);
    let goal = env.step(Action::Right);
    assert_eq!(goal.reward, 1.0);
    assert!(goal.terminated && !goal.truncated);
    assert_eq!(goal.info.reached, Some(ObjectKind::Diamond));
    assert_eq!(goal.info.steps, 4);
    assert!(env.is_done());
}

#[test]
fn cheese_as_target_terminates_on_cheese() {
    let mut env = fixed(CORRIDOR, ObjectKind::Cheese, 100);
    env.reset(0);
    env.step(Action::Right);
    let s = env.step(Action::Right);
    assert!(s.terminated);
    assert_eq!(s.reward, 1.0);
}

#[test]
fn truncation_at_max_steps() {
    let mut env = fixed(CORRIDOR, ObjectKind::Diamond, 3);
    env.reset(0);
    assert!(!env.step(Action::Left).truncated);
    assert!(!env.step(Action::Left).truncated);
    let last = env.step(Action::Left);
    assert!(last.truncated && !last.terminated);
    assert_eq!(last.reward, 0.0);
    assert_eq!(last.info.steps, 3);
    // Reaching the target on the very last step terminates rather than truncates.
    let mut env = fixed(CORRIDOR, ObjectKind::Cheese, 2);
    env.step(Action::Right);
    let s = env.step(Action::Right);
    assert!(s.terminated && !s.truncated);
}

#[test]
#[should_panic(expected = "call reset before stepping again")]
fn stepping_after_termination_panics() {
    let mut env = fixed("####\n#AD#\n####\n", ObjectKind::Diamond, 10);
    assert!(env.step(Action::Right).terminated);
    env.step(Action::Left);
}

#[test]
fn reset_restores_a_fixed_level_and_clears_the_episode() {
    let mut env = fixed(CORRIDOR, ObjectKind::Diamond, 100);
    let first = env.reset(0);
    env.step(Action::Right);
    env.step(Action::Right);
    assert_eq!(env.reset(5), first);
    assert_eq!(env.steps(), 0);
    assert_eq!(env.agent(), Pos::new(1, 1));
    assert_eq!(env.seed(), 5);
}

#[test]
fn plane_observations_follow_the_agent_and_carry_the_cue() {
    let level = Level::parse(CORRIDOR).unwrap();
    let mut env = Env::with_obs(
        LevelSource::Fixed(level),
        EnvConfig::new(ObjectKind::Diamond, 10),
        ObsKind::Planes,
    );
    let Observation::Planes(first) = env.reset(0) else {
        panic!("planes expected")
    };
    assert_eq!(first.plane(CH_AGENT)[8], 1.0);
    assert!((first.plane(CH_CUE)[8] - 0.9f32.powi(4)).abs() < 1e-6);
    let Observation::Planes(next) = env.step(Action::Right).observation else {
        panic!("planes expected")
    };
    assert_eq!(next.plane(CH_AGENT)[8], 0.0);
    assert_eq!(next.plane(CH_AGENT)[9], 1.0);
    assert_eq!(next.plane(CH_CUE), first.plane(CH_CUE));
}

#[test]
fn generated_resets_follow_the_seed() {
    let spec: LevelSpec = "maze:9".parse().unwrap();
    let mut env = Env::new(
        LevelSource::Generated(spec),
        EnvConfig::new(ObjectKind::Diamond, 50),
    );
    env.reset(42);
    assert_eq!(env.level(), &spec.generate(42));
    let cue_at_agent = env.cue().get(env.agent());
    env.reset(42);
    assert_eq!(env.cue().get(env.agent()), cue_at_agent);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_walks_never_enter_walls(
        k in 2usize..=7,
        rooms in any::<bool>(),
        seed in any::<u64>(),
        actions in proptest::collection::vec(0usize..4, 1..300),
    ) {
        let size = 2 * k + 1;
        let spec = if rooms { LevelSpec::Rooms { size, density: 0.3 } } else { LevelSpec::Maze { size } };
        let mut env = Env::new(LevelSource::Generated(spec), EnvConfig::new(ObjectKind::Key, 40));
        env.reset(seed);
        let mut walls = env.level().walls().to_vec();
        let mut episode = 0u64;
        for a in actions {
            let before = env.agent();
            let s = env.step(Action::from_index(a).unwrap());
            let after = env.agent();
            prop_assert!(!env.level().is_wall(after));
            prop_assert_eq!(env.level().walls(), &walls[..]);
            prop_assert!(before.manhattan(after) <= 1);
            prop_assert_eq!(s.info.moved, before != after);
            let codes = s.observation.as_compact().unwrap();
            prop_assert_eq!(codes.iter().filter(|&&c| c == code::AGENT).count(), 1);
            prop_assert_eq!(codes[env.level().index(after)], code::AGENT);
            if s.terminated || s.truncated {
                episode += 1;
                env.reset(seed.wrapping_add(episode));
                walls = env.level().walls().to_vec();
                prop_assert!(!env.level().is_wall(env.agent()));
            }
        }
    }
}
