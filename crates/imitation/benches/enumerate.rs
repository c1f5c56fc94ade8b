//! Enumerator throughput: programs covered and vector evaluations per second, one thread.
//!
//! `cargo bench -p cruxlab-imitation --bench enumerate`; the numbers go to docs/benchmarks.md.

use cruxlab_imitation::{
    Dataset, Demonstrator, Enumerator, Goal, Imitator, Prior, Protocol, Training,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

fn main() {
    let protocol = Protocol {
        size: 7,
        density: 0.2,
        training: Training::Confounded,
        transitions: 64,
        episode_steps: 40,
        test_levels: 4,
    };
    let demonstrator = Demonstrator {
        goal: Goal::Diamond,
        temperature: 0.25,
        quirks: vec![],
    };
    let data = Dataset::draw(&protocol, &demonstrator, &mut ChaCha8Rng::seed_from_u64(1));
    let states = data.states(64);
    for max_bits in [24, 26, 28] {
        // The enumerator alone: every class handed to a visitor that reads one byte.
        let mut best = f64::INFINITY;
        let mut stats = Default::default();
        for _ in 0..3 {
            let t = Instant::now();
            let mut sink = 0u64;
            stats = Enumerator::new(data.grammar, &states, max_bits, true)
                .run(|h, _| sink += h.moves[0] as u64);
            std::hint::black_box(sink);
            best = best.min(t.elapsed().as_secs_f64());
        }
        let s: cruxlab_imitation::Stats = stats;
        println!(
            "enumerate only, max_bits {max_bits}: {:.3e} programs, {} evaluations, {:.3} s: \
             {:.3e} programs/s, {:.3e} evaluations/s",
            s.programs,
            s.evaluated,
            best,
            s.programs / best,
            s.evaluated as f64 / best
        );
    }
    for max_bits in [24, 26, 28] {
        let imitator = Imitator {
            prior: Prior::Simplicity { time_bound: 1000.0 },
            epsilon: 0.1,
            max_bits,
        };
        // Warm up, then time the best of three.
        let mut best = f64::INFINITY;
        let mut summary = imitator.posterior(&data, 64, Goal::Diamond);
        for _ in 0..3 {
            let t = Instant::now();
            summary = imitator.posterior(&data, 64, Goal::Diamond);
            best = best.min(t.elapsed().as_secs_f64());
        }
        let s = summary.stats;
        let states = 64 + data.test.len();
        println!(
            "max_bits {max_bits}: {:.3e} programs covered, {} evaluations over {states} states, \
             pruning ratio {:.1}, {:.3} s: {:.3e} programs/s, {:.3e} evaluations/s, {:.3e} program-state evaluations/s",
            s.programs,
            s.evaluated,
            s.programs / s.evaluated as f64,
            best,
            s.programs / best,
            s.evaluated as f64 / best,
            s.evaluated as f64 * states as f64 / best
        );
    }
}
