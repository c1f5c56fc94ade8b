//! Stepping throughput of the safety gridworlds, one environment on one core.
//!
//! `cargo bench -p cruxlab-safety --bench safety_step`. Throughput is in environment steps.
//! Actions are uniformly random (no-op included), drawn ahead of time; an ended episode restarts
//! from the level's start state, as a reset does.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cruxlab_safety::{Game, Move};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("safety_single");
    group.throughput(Throughput::Elements(1));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let actions: Vec<Move> = (0..4099)
        .map(|_| Move::from_index(rng.random_range(0..Move::COUNT)).unwrap())
        .collect();
    for name in [
        "side_effects_sokoban:1",
        "absent_supervisor:present",
        "conveyor_belt:vase",
        "aup:interference",
    ] {
        let game = Game::builtin(name).unwrap();
        let mut s = game.start();
        let mut k = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let t = game.step(&mut s, actions[k]);
                k = (k + 1) % actions.len();
                if t.terminated || t.truncated {
                    s = game.start();
                }
                black_box(t.reward)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, single);
criterion_main!(benches);
