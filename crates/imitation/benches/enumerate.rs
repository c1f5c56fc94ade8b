//! Enumerator throughput, one thread: programs covered and classes scored per second, scoring the
//! longest programs from their branches' tallies (the enumerator's way) beside composing every
//! program's vectors (the reference), in one run.
//!
//! `cargo bench -p cruxlab-imitation --bench enumerate`; the numbers go to docs/benchmarks.md.

use cruxlab_imitation::{
    Dataset, Demonstrator, Enumerator, Goal, Imitator, Prior, Protocol, Stats, Summary, Training,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::time::Instant;

/// Best wall time of three runs (after one warm-up) and the last result.
fn best_of_three<T>(mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = f();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        out = f();
        best = best.min(t.elapsed().as_secs_f64());
    }
    (best, out)
}

fn main() {
    // An optional argument keeps only the rows whose label contains it (for profiling one row).
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |label: &str| only.as_ref().is_none_or(|o| label.contains(o.as_str()));
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
    println!(
        "{} demonstrated + {} test states; columns: programs covered, classes scored, stored \
         classes, best of 3 s, programs/s, classes scored/s",
        64,
        data.test.len()
    );
    let line = |what: &str, max_bits: u32, s: Stats, secs: f64| {
        println!(
            "{what:<34} {max_bits} bits: {:.3e} programs, {} scored, {} stored, {secs:.4} s: \
             {:.3e} programs/s, {:.3e} scored/s",
            s.programs,
            s.evaluated,
            s.stored,
            s.programs / secs,
            s.evaluated as f64 / secs
        );
    };
    for max_bits in [24, 26, 28] {
        // The enumerator alone: every class handed to a visitor that reads its tally.
        for (what, all) in [("enumerate, parts", false), ("enumerate, vectors", true)] {
            if !wanted(&format!("{what} {max_bits}")) {
                continue;
            }
            let (secs, stats) = best_of_three(|| {
                let mut sink = 0u64;
                let mut e = Enumerator::new(data.grammar, &states, max_bits, true);
                if all {
                    e = e.composing_all();
                }
                let stats = e.run(|h, _| sink += h.tally.max_steps);
                std::hint::black_box(sink);
                stats
            });
            line(what, max_bits, stats, secs);
        }
    }
    let priors = [
        ("simplicity", Prior::Simplicity { time_bound: 1000.0 }),
        ("speed (Kt)", Prior::LEVIN),
        ("weak speed (4x)", Prior::FOUR_X),
    ];
    for max_bits in [24, 26, 28] {
        for (name, prior) in priors {
            if !wanted(&format!("posterior {name}, parts {max_bits}")) {
                continue;
            }
            let imitator = Imitator {
                prior,
                epsilon: 0.1,
                max_bits,
            };
            let (parts, a): (f64, Summary) =
                best_of_three(|| imitator.posterior(&data, 64, Goal::Diamond));
            line(
                &format!("posterior {name}, parts"),
                max_bits,
                a.stats,
                parts,
            );
            if !wanted(&format!("posterior {name}, vectors {max_bits}")) {
                continue;
            }
            let (vectors, b): (f64, Summary) =
                best_of_three(|| imitator.posterior_composing_vectors(&data, 64, Goal::Diamond));
            line(
                &format!("posterior {name}, vectors"),
                max_bits,
                b.stats,
                vectors,
            );
            let gap = a
                .family
                .iter()
                .zip(&b.family)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f64::max);
            println!(
                "    speed-up {:.1}x, largest family-mass difference {gap:.1e}",
                vectors / parts
            );
        }
    }
}
