//! The speed target of issue 4: Hoffmann et al.'s full 4,500-start L-BFGS fit on 250 runs plus
//! 1,000 bootstrap refits (each refit starts from the best fit), on the machine's cores.
//!
//! `cargo bench -p cruxlab-scaling --bench fit`

use criterion::{Criterion, criterion_group, criterion_main};
use cruxlab_scaling::synthetic::Design;
use cruxlab_scaling::{
    Bootstrap, BootstrapOptions, HuberFit, HuberObjective, LbfgsOptions, ParameterSet,
    hoffmann_grid,
};
use std::hint::black_box;

fn fit_and_bootstrap(c: &mut Criterion) {
    let runs = Design::chinchilla_like().draw(&ParameterSet::besiroglu().law, 0);
    assert_eq!(runs.len(), 250);
    let objective = HuberObjective::new(&runs);
    let starts = hoffmann_grid();
    let options = LbfgsOptions::default();
    let mut group = c.benchmark_group("scaling_fit");
    group.sample_size(10);
    group.bench_function("grid_4500_starts_250_runs", |b| {
        b.iter(|| HuberFit::fit(black_box(&objective), &starts, &options).unwrap())
    });
    let best = HuberFit::fit(&objective, &starts, &options).unwrap();
    group.bench_function("bootstrap_1000_refits_from_best", |b| {
        b.iter(|| {
            Bootstrap::run(
                black_box(&objective),
                &best.params,
                &BootstrapOptions {
                    resamples: 1000,
                    seed: 1,
                },
                &options,
            )
        })
    });
    group.bench_function("grid_fit_plus_1000_bootstrap", |b| {
        b.iter(|| {
            let fit = HuberFit::fit(black_box(&objective), &starts, &options).unwrap();
            Bootstrap::run(
                &objective,
                &fit.params,
                &BootstrapOptions {
                    resamples: 1000,
                    seed: 1,
                },
                &options,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, fit_and_bootstrap);
criterion_main!(benches);
