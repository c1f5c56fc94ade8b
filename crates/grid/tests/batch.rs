//! Batched stepping: matches single environments, is thread-count independent, keeps agents out of
//! walls.

use cruxlab_grid::obs::{CHANNELS, code, cue_field};
use cruxlab_grid::{
    Action, Env, EnvConfig, Level, LevelSource, LevelSpec, ObjectKind, ObsKind, Observation,
    VecEnv, write_compact, write_planes,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_actions(rng: &mut ChaCha8Rng, n: usize) -> Vec<Action> {
    (0..n)
        .map(|_| Action::from_index(rng.random_range(0..4)).unwrap())
        .collect()
}

/// Step a `VecEnv` and one `Env` per slot side by side, checking every output after every step.
fn check_against_single_envs(
    spec: LevelSpec,
    config: EnvConfig,
    obs: ObsKind,
    n: usize,
    base: u64,
    steps: usize,
) {
    let mut batch = VecEnv::new(n, spec, config, obs, base);
    let mut singles: Vec<Env> = (0..n)
        .map(|_| Env::with_obs(LevelSource::Generated(spec), config, obs))
        .collect();
    let mut episodes = vec![0u64; n];
    let cells = spec.size() * spec.size();
    let compare = |batch: &VecEnv, i: usize, o: &Observation| {
        let compact = &batch.obs_compact()[i * cells..(i + 1) * cells];
        match o {
            Observation::Compact(c) => assert_eq!(compact, &c.cells[..], "env {i} compact"),
            Observation::Planes(p) => {
                let planes = &batch.obs_planes()[i * CHANNELS * cells..(i + 1) * CHANNELS * cells];
                assert_eq!(planes, &p.data[..], "env {i} planes");
            }
        }
    };
    for (i, env) in singles.iter_mut().enumerate() {
        let o = env.reset(VecEnv::episode_seed(base, i, 0));
        compare(&batch, i, &o);
        assert_eq!(batch.level(i), *env.level());
    }
    let mut rng = ChaCha8Rng::seed_from_u64(base ^ 0xabcdef);
    let mut ended = 0;
    for _ in 0..steps {
        let actions = random_actions(&mut rng, n);
        batch.step(&actions);
        for (i, env) in singles.iter_mut().enumerate() {
            let s = env.step(actions[i]);
            assert_eq!(batch.rewards()[i], s.reward, "env {i} reward");
            assert_eq!(batch.terminated()[i], s.terminated, "env {i} terminated");
            assert_eq!(batch.truncated()[i], s.truncated, "env {i} truncated");
            assert_eq!(batch.reached()[i], s.info.reached, "env {i} reached");
            assert_eq!(batch.episode_steps()[i], s.info.steps, "env {i} steps");
            if s.terminated || s.truncated {
                ended += 1;
                episodes[i] += 1;
                let o = env.reset(VecEnv::episode_seed(base, i, episodes[i]));
                compare(&batch, i, &o);
            } else {
                compare(&batch, i, &s.observation);
            }
            assert_eq!(batch.episode(i), episodes[i]);
            assert_eq!(batch.agent(i), env.agent());
            assert_eq!(batch.level(i), *env.level());
        }
    }
    assert!(
        ended > n,
        "the test should cross many auto-resets (saw {ended})"
    );
}

#[test]
fn batched_equals_single_compact_maze() {
    let config = EnvConfig::new(ObjectKind::Diamond, 30);
    check_against_single_envs(
        "maze:7".parse().unwrap(),
        config,
        ObsKind::Compact,
        13,
        7,
        300,
    );
}

#[test]
fn batched_equals_single_planes_rooms() {
    let config = EnvConfig::new(ObjectKind::Cheese, 25);
    check_against_single_envs(
        "rooms:8:0.3".parse().unwrap(),
        config,
        ObsKind::Planes,
        11,
        99,
        200,
    );
}

#[test]
fn batched_equals_single_planes_maze_many_chunks() {
    // 300 environments span many chunks.
    let config = EnvConfig::new(ObjectKind::Key, 20);
    check_against_single_envs(
        "maze:5".parse().unwrap(),
        config,
        ObsKind::Planes,
        300,
        3,
        60,
    );
}

/// Everything a run produces, for comparing runs.
#[derive(PartialEq)]
struct Outputs {
    /// Compact observations after every step.
    compact: Vec<u8>,
    /// Plane observations after the last step (empty for compact runs).
    planes: Vec<f32>,
    rewards: Vec<f32>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
}

fn run(n: usize, obs: ObsKind, steps: usize) -> Outputs {
    let spec: LevelSpec = "maze:9".parse().unwrap();
    let mut env = VecEnv::new(n, spec, EnvConfig::new(ObjectKind::Diamond, 40), obs, 1234);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut out = Outputs {
        compact: Vec::new(),
        planes: Vec::new(),
        rewards: Vec::new(),
        terminated: Vec::new(),
        truncated: Vec::new(),
    };
    for _ in 0..steps {
        env.step(&random_actions(&mut rng, n));
        out.compact.extend_from_slice(env.obs_compact());
        out.rewards.extend_from_slice(env.rewards());
        out.terminated.extend_from_slice(env.terminated());
        out.truncated.extend_from_slice(env.truncated());
    }
    if obs == ObsKind::Planes {
        out.planes = env.obs_planes().to_vec();
    }
    out
}

#[test]
fn identical_for_one_and_two_threads() {
    for obs in [ObsKind::Compact, ObsKind::Planes] {
        let pool = |t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
        };
        let one = pool(1).install(|| run(500, obs, 150));
        let two = pool(2).install(|| run(500, obs, 150));
        assert!(
            one == two,
            "{obs:?}: results differ between 1 and 2 threads"
        );
        assert!(one.terminated.iter().any(|&t| t), "some episodes terminate");
    }
}

#[test]
fn reset_restarts_at_episode_zero() {
    let spec: LevelSpec = "maze:9".parse().unwrap();
    let mut env = VecEnv::new(
        40,
        spec,
        EnvConfig::new(ObjectKind::Diamond, 10),
        ObsKind::Compact,
        8,
    );
    let first = env.obs_compact().to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for _ in 0..25 {
        env.step(&random_actions(&mut rng, 40));
    }
    assert!(env.episode(0) >= 2);
    env.reset();
    assert_eq!(env.obs_compact(), &first[..]);
    assert_eq!(env.episode(0), 0);
    assert!(env.rewards().iter().all(|&r| r == 0.0));
    env.reseed(9);
    assert_ne!(env.obs_compact(), &first[..]);
    assert_eq!(env.level(3), spec.generate(VecEnv::episode_seed(9, 3, 0)));
}

#[test]
#[should_panic(expected = "one action per environment")]
fn wrong_action_count_panics() {
    let mut env = VecEnv::new(
        4,
        "maze:5".parse().unwrap(),
        EnvConfig::new(ObjectKind::Key, 5),
        ObsKind::Compact,
        0,
    );
    env.step(&[Action::Up; 3]);
}

#[test]
fn episode_seeds_differ() {
    let mut seeds: Vec<u64> = (0..64)
        .flat_map(|i| (0..64).map(move |k| VecEnv::episode_seed(0, i, k)))
        .collect();
    seeds.sort();
    seeds.dedup();
    assert_eq!(seeds.len(), 64 * 64);
    assert_ne!(VecEnv::episode_seed(1, 0, 0), VecEnv::episode_seed(0, 0, 0));
}

fn spec_strategy() -> impl Strategy<Value = LevelSpec> {
    prop_oneof![
        (2usize..=6).prop_map(|k| LevelSpec::Maze { size: 2 * k + 1 }),
        (5usize..=14, 0.0f64..=0.8).prop_map(|(size, density)| LevelSpec::Rooms { size, density }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// `VecEnv`'s in-place fast path against the step rule itself (`EnvConfig::step` on plain
    /// levels, reloaded from the episode seeds when an episode ends): same outcomes, same state and
    /// same observations after every step.
    #[test]
    fn fast_path_follows_the_step_rule(
        spec in spec_strategy(),
        target in 0usize..3,
        max_steps in 1u32..=40,
        planes in any::<bool>(),
        n in 1usize..=20,
        base in any::<u64>(),
        actions in proptest::collection::vec(proptest::collection::vec(0usize..4, 20), 1..80),
    ) {
        let config = EnvConfig::new(ObjectKind::ALL[target], max_steps);
        let obs = if planes { ObsKind::Planes } else { ObsKind::Compact };
        let mut batch = VecEnv::new(n, spec, config, obs, base);
        let cells = spec.size() * spec.size();
        // The rule's side: one plain level per environment.
        let load = |i: usize, episode: u64| spec.generate(VecEnv::episode_seed(base, i, episode));
        let mut levels: Vec<Level> = (0..n).map(|i| load(i, 0)).collect();
        let mut steps = vec![0u32; n];
        let mut episodes = vec![0u64; n];
        for row in &actions {
            let row: Vec<Action> = row[..n].iter().map(|&a| Action::MOVES[a]).collect();
            batch.step(&row);
            for i in 0..n {
                let t = config.step(&mut levels[i], steps[i], row[i]);
                prop_assert_eq!(batch.rewards()[i], t.reward, "env {} reward", i);
                prop_assert_eq!(batch.terminated()[i], t.terminated, "env {} terminated", i);
                prop_assert_eq!(batch.truncated()[i], t.truncated, "env {} truncated", i);
                prop_assert_eq!(batch.reached()[i], t.info.reached, "env {} reached", i);
                prop_assert_eq!(batch.episode_steps()[i], t.info.steps, "env {} steps", i);
                steps[i] = t.info.steps;
                if t.terminated || t.truncated {
                    episodes[i] += 1;
                    levels[i] = load(i, episodes[i]);
                    steps[i] = 0;
                }
                let level = &levels[i];
                prop_assert_eq!(batch.episode(i), episodes[i]);
                prop_assert_eq!(batch.agent(i), level.agent());
                prop_assert_eq!(&batch.level(i), level);
                let mut compact = vec![0; cells];
                write_compact(level, &mut compact);
                prop_assert_eq!(&batch.obs_compact()[i * cells..(i + 1) * cells], &compact[..]);
                if planes {
                    let mut expected = vec![0.0; CHANNELS * cells];
                    write_planes(level, &cue_field(level), &mut expected);
                    let got = &batch.obs_planes()[i * CHANNELS * cells..(i + 1) * CHANNELS * cells];
                    prop_assert_eq!(got, &expected[..]);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn batched_random_walks_never_enter_walls(
        k in 2usize..=6,
        rooms in any::<bool>(),
        base in any::<u64>(),
        action_seed in any::<u64>(),
    ) {
        let size = 2 * k + 1;
        let spec = if rooms { LevelSpec::Rooms { size, density: 0.4 } } else { LevelSpec::Maze { size } };
        let n = 17;
        let mut env = VecEnv::new(n, spec, EnvConfig::new(ObjectKind::Cheese, 30), ObsKind::Compact, base);
        let cells = size * size;
        let mut rng = ChaCha8Rng::seed_from_u64(action_seed);
        for _ in 0..120 {
            env.step(&random_actions(&mut rng, n));
            for i in 0..n {
                let grid = &env.obs_compact()[i * cells..(i + 1) * cells];
                let level = spec.generate(VecEnv::episode_seed(base, i, env.episode(i)));
                // The walls are those of the episode's level, and the agent stands on its floor.
                for (c, &wall) in grid.iter().zip(level.walls()) {
                    prop_assert_eq!(*c == code::WALL, wall);
                }
                prop_assert_eq!(grid.iter().filter(|&&c| c == code::AGENT).count(), 1);
                prop_assert!(!level.is_wall(env.agent(i)));
                prop_assert_eq!(grid[level.index(env.agent(i))], code::AGENT);
            }
        }
    }
}
