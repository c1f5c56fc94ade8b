//! Node evaluations per second: the tree rule on a real task, and the population-dynamics
//! simulation the stability maps use. Throughput is reported in node runs (criterion's
//! "elements"), one core.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use cruxlab_hch::{Agent, AnyTask, PoolSimulation, TaskKind, TaskShape, Tree};
use std::hint::black_box;

fn tree_runs(c: &mut Criterion) {
    let shape = TaskShape {
        depth: 8,
        branching: 2,
        context: 2,
        width: 2,
    };
    let task = AnyTask::generate(TaskKind::Count, shape, 1);
    let agent = Agent {
        epsilon: 0.01,
        rho: 0.1,
        k: 3,
        meme_rate: 0.01,
        tau: 0.3,
        grounding: 0.05,
        ..Agent::PERFECT
    };
    let runs = {
        let mut t = Tree::new(&task, agent, 0);
        t.answer();
        t.tally.runs
    };
    let mut g = c.benchmark_group("tree");
    g.throughput(Throughput::Elements(runs));
    g.bench_function("count_depth8_k3", |b| {
        let mut seed = 0;
        b.iter(|| {
            seed += 1;
            let mut t = Tree::new(&task, agent, seed);
            black_box(t.answer())
        })
    });
    g.finish();
}

fn pool_runs(c: &mut Criterion) {
    let sim = PoolSimulation {
        rho: 0.2,
        k: 3,
        branching: 2,
        pool: 10_000,
        seed: 1,
    };
    let mut g = c.benchmark_group("pool");
    g.throughput(Throughput::Elements(sim.runs(20)));
    g.bench_function("depth20_k3_b2", |b| {
        b.iter(|| black_box(sim.errors(black_box(0.01), 20)))
    });
    g.finish();
}

criterion_group!(benches, tree_runs, pool_runs);
criterion_main!(benches);
