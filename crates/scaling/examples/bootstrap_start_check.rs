//! Does refitting a bootstrap resample from the full-data best fit find the same minimum as
//! refitting it from Hoffmann et al.'s whole grid of 4,500 starts? For each of the first RESAMPLES
//! resamples (default 20) of a CSV of runs, refit both ways and print the gap in objective and
//! parameters. docs/scaling.md reports the result on Epoch's Chinchilla points.
//!
//! `cargo run --release -p cruxlab-scaling --example bootstrap_start_check -- FILE.csv [RESAMPLES]`
//! (columns as in Epoch's file: "Model Size", "Training FLOP", "loss"; the 5 highest losses dropped)

use cruxlab_scaling::fit::resample_weights;
use cruxlab_scaling::observations::drop_highest_losses;
use cruxlab_scaling::{
    Bootstrap, BootstrapOptions, Columns, HuberFit, HuberObjective, LbfgsOptions, TokenColumn,
    hoffmann_grid, parse_csv,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: bootstrap_start_check FILE.csv [RESAMPLES]");
    let resamples: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    let text = std::fs::read_to_string(&path).expect("readable CSV");
    let columns = Columns {
        n: "Model Size".into(),
        tokens: TokenColumn::Compute("Training FLOP".into()),
        loss: "loss".into(),
    };
    let runs = drop_highest_losses(&parse_csv(&text, &columns).expect("valid CSV"), 5);
    let objective = HuberObjective::new(&runs);
    let options = LbfgsOptions::default();
    let grid = hoffmann_grid();
    let best = HuberFit::fit(&objective, &grid, &options).expect("a fit");
    let seed = 0;
    let from_best = Bootstrap::run(
        &objective,
        &best.params,
        &BootstrapOptions { resamples, seed },
        &options,
    );
    let (mut worst_objective, mut worst_param) = (0.0f64, 0.0f64);
    let mut lower_from_grid = 0;
    for r in 0..resamples {
        let resampled = objective.reweighted(&resample_weights(objective.len(), seed, r as u64));
        let full = HuberFit::fit(&resampled, &grid, &options).expect("a fit");
        let gap = from_best.objectives[r] - full.objective;
        if gap > 1e-9 * full.objective {
            lower_from_grid += 1;
        }
        worst_objective = worst_objective.max(gap / full.objective);
        let a = from_best.replicates[r].to_array();
        let b = full.params.to_array();
        for k in 0..5 {
            worst_param = worst_param.max((a[k] - b[k]).abs());
        }
        println!(
            "resample {r}: objective from best {:.12}, from grid {:.12}; alpha {:.6} vs {:.6}, beta {:.6} vs {:.6}",
            from_best.objectives[r], full.objective, a[3], b[3], a[4], b[4]
        );
    }
    println!(
        "{resamples} resamples: the grid found a lower objective (by more than 1e-9 relative) in {lower_from_grid}; largest relative objective gap {worst_objective:.3e}; largest parameter difference {worst_param:.3e}"
    );
}
