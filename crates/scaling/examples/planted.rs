//! Print a planted data set as CSV (`N,D,loss`): 250 runs (10 budgets x 25 sizes) drawn from
//! Besiroglu et al.'s law with log-noise 0.005, the benchmark set of docs/benchmarks.md.
//!
//! `cargo run --release -p cruxlab-scaling --example planted [SEED] > planted.csv`

use cruxlab_scaling::ParameterSet;
use cruxlab_scaling::synthetic::{Design, to_csv};

fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let runs = Design::chinchilla_like().draw(&ParameterSet::besiroglu().law, seed);
    print!("{}", to_csv(&runs));
}
