//! Stepping throughput: single environments and batched `VecEnv`s on generated mazes.
//!
//! `cargo bench -p cruxlab-grid --bench step`. Throughput is reported in elements = environment
//! steps. Actions are uniformly random, drawn ahead of time so the measurement is the engine's.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cruxlab_grid::{Action, Env, EnvConfig, LevelSource, LevelSpec, ObjectKind, ObsKind, VecEnv};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rows of random actions, cycled through. A prime far longer than an episode, so no environment
/// replays a short cycle of moves (which would make episodes longer than a random walk's).
const ACTION_ROWS: usize = 4099;

fn action_table(n: usize) -> Vec<Vec<Action>> {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    (0..ACTION_ROWS)
        .map(|_| {
            (0..n)
                .map(|_| Action::from_index(rng.random_range(0..4)).unwrap())
                .collect()
        })
        .collect()
}

fn config(size: usize) -> EnvConfig {
    EnvConfig::new(ObjectKind::Diamond, (4 * size * size) as u32)
}

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("single");
    group.throughput(Throughput::Elements(1));
    for size in [9usize, 25] {
        let spec = LevelSpec::Maze { size };
        let actions = action_table(1009);
        for (name, with_obs) in [("step", true), ("advance", false)] {
            let mut env = Env::new(LevelSource::Generated(spec), config(size));
            let mut seed = 0;
            let mut t = 0usize;
            group.bench_function(format!("{name}/maze{size}"), |b| {
                b.iter(|| {
                    let a = actions[t % ACTION_ROWS][t % 1009];
                    t += 1;
                    let ended = if with_obs {
                        let s = env.step(a);
                        black_box(&s.observation);
                        s.terminated || s.truncated
                    } else {
                        let s = env.advance(a);
                        s.terminated || s.truncated
                    };
                    if ended {
                        seed += 1;
                        black_box(env.reset(seed));
                    }
                })
            });
        }
    }
    group.finish();
}

fn batched(c: &mut Criterion) {
    let mut group = c.benchmark_group("batched");
    let cases = [
        (9usize, 1024usize, ObsKind::Compact),
        (9, 4096, ObsKind::Compact),
        (25, 1024, ObsKind::Compact),
        (9, 1024, ObsKind::Planes),
    ];
    for (size, n, obs) in cases {
        let mut env = VecEnv::new(n, LevelSpec::Maze { size }, config(size), obs, 7);
        let actions = action_table(n);
        let mut t = 0;
        group.throughput(Throughput::Elements(n as u64));
        let name = match obs {
            ObsKind::Compact => "compact",
            ObsKind::Planes => "planes",
        };
        group.bench_function(format!("{name}/maze{size}/n{n}"), |b| {
            b.iter(|| {
                env.step(&actions[t % ACTION_ROWS]);
                t += 1;
                black_box(env.rewards());
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = single, batched
}
criterion_main!(benches);
