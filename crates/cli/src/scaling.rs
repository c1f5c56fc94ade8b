//! `cruxlab scaling ...`: fit, predict and plan with scaling laws.
//!
//! - `fit FILE.csv`: Hoffmann et al.'s Approach 3 fit (summed Huber loss on log loss, L-BFGS from
//!   4,500 starts) with bootstrap intervals, as a table, as JSON (`--json`) or as a report folder
//!   (`--out DIR`: fit.json, residuals.csv, fit.svg, residuals.svg, report.html).
//! - `predict`: the loss of (N, D) and its split into terms, under a built-in parameter set or a
//!   fitted parameter file; with `--unique-tokens`, under repetition (Muennighoff et al. 2023).
//! - `plan`: the compute-optimal N and D for budgets C, or with `--unique-tokens` the best N, tokens
//!   and epochs when unique data is limited; iso-FLOP and frontier figures with `--out DIR`.
//! - `sets`: the built-in parameter sets and their sources.
//!
//! The science lives in `cruxlab-scaling`, and so do the formats (the fit report, `fit.json` and
//! parameter files, predictions and plans as text and JSON); this module parses arguments, calls
//! it, prints and writes files (atomically).
//! Bad input (a CSV cell, a flag value, a parameter file) exits with code 2 and names the file, line
//! and column or key.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use cruxlab_scaling::observations::drop_highest_losses;
use cruxlab_scaling::{
    Bootstrap, BootstrapOptions, Columns, DataConstrained, FitReport, HuberFit, HuberObjective,
    LawFile, LbfgsOptions, LimitedData, ParameterSet, Plan, Prediction, Repetition, ScalingLaw,
    TokenColumn, hoffmann_grid, parse_csv, plan_figures,
};

use crate::input_error;

/// Scaling-law tools: fit Chinchilla-style laws, predict losses, plan compute-optimal and
/// data-constrained training.
#[derive(clap::Args)]
pub struct ScalingArgs {
    #[command(subcommand)]
    command: ScalingCommand,
}

#[derive(clap::Subcommand)]
enum ScalingCommand {
    /// Fit L(N,D) = E + A/N^alpha + B/D^beta to training runs in a CSV file (Hoffmann et al.
    /// Approach 3), with bootstrap confidence intervals.
    Fit(FitArgs),
    /// Loss of N parameters trained on D tokens, split into irreducible, model and data terms.
    Predict(PredictArgs),
    /// Compute-optimal N and D for a budget, or the best plan with limited unique tokens.
    Plan(PlanArgs),
    /// List the built-in parameter sets and their sources.
    Sets,
}

#[derive(clap::Args)]
struct FitArgs {
    /// CSV file with a header line.
    file: PathBuf,
    /// Column holding the parameter count N.
    #[arg(long, default_value = "N")]
    n_col: String,
    /// Column holding the token count D (default "D" unless --c-col is given).
    #[arg(long, conflicts_with = "c_col")]
    d_col: Option<String>,
    /// Column holding the training compute C in FLOPs instead of D; then D = C / (6N).
    #[arg(long)]
    c_col: Option<String>,
    /// Column holding the final loss.
    #[arg(long, default_value = "loss")]
    loss_col: String,
    /// Drop the K runs with the highest loss before fitting (Besiroglu et al. drop 5).
    #[arg(long, value_name = "K", default_value_t = 0)]
    drop_top: usize,
    /// Bootstrap resamples for the confidence intervals (0: none).
    #[arg(long, value_name = "COUNT", default_value_t = 1000)]
    bootstrap: usize,
    /// Seed of the bootstrap resampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write a report folder: fit.json, residuals.csv, fit.svg, residuals.svg, report.html.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print how long the grid fit and the bootstrap took (stderr).
    #[arg(long)]
    timing: bool,
}

#[derive(clap::Args)]
struct LawArgs {
    /// A built-in parameter set (see `cruxlab scaling sets`) or a JSON file written by
    /// `cruxlab scaling fit --json` (its `params`; an optional `repetition` {r_d_star, r_n_star}).
    #[arg(long, value_name = "SET|FILE", default_value = "hoffmann-printed")]
    params: String,
    /// R_D*, the repetition constant for data (default: the set's, for sets that have one).
    #[arg(long, value_parser = parse_quantity)]
    r_d_star: Option<f64>,
    /// R_N*, the repetition constant for parameters (default: the set's).
    #[arg(long, value_parser = parse_quantity)]
    r_n_star: Option<f64>,
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
struct PredictArgs {
    #[command(flatten)]
    law: LawArgs,
    /// Parameters, e.g. 70e9 or 70B.
    #[arg(long, value_parser = parse_quantity)]
    n: f64,
    /// Training tokens, e.g. 1.4e12 or 1.4T.
    #[arg(long, value_parser = parse_quantity)]
    d: f64,
    /// Unique tokens available: D / U epochs, under Muennighoff et al.'s repetition law.
    #[arg(long, value_name = "U", value_parser = parse_quantity)]
    unique_tokens: Option<f64>,
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
#[command(allow_negative_numbers = true)]
struct PlanArgs {
    #[command(flatten)]
    law: LawArgs,
    /// Training budget in FLOPs (repeatable), e.g. 5.88e23.
    #[arg(long, value_name = "C", required = true, value_parser = parse_quantity)]
    compute: Vec<f64>,
    /// Unique tokens available: plan under Muennighoff et al.'s repetition law.
    #[arg(long, value_name = "U", value_parser = parse_quantity)]
    unique_tokens: Option<f64>,
    #[arg(long)]
    json: bool,
    /// Write plan.json, isoflop.svg and frontier.svg here.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn run(args: ScalingArgs) -> Result<()> {
    match args.command {
        ScalingCommand::Fit(a) => fit(a),
        ScalingCommand::Predict(a) => predict(a),
        ScalingCommand::Plan(a) => plan(a),
        ScalingCommand::Sets => {
            sets();
            Ok(())
        }
    }
}

/// A positive, finite number, with an optional suffix: K (1e3), M (1e6), B or G (1e9), T (1e12).
fn parse_quantity(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (digits, scale) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('B' | 'G') => (&t[..t.len() - 1], 1e9),
        Some('T') => (&t[..t.len() - 1], 1e12),
        _ => (t, 1.0),
    };
    let value: f64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a number (e.g. 70e9 or 70B)"))?;
    let value = value * scale;
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!("'{text}' must be finite and positive"))
    }
}

// ---------------------------------------------------------------- fit

fn fit(args: FitArgs) -> Result<()> {
    if let Some(dir) = &args.out {
        crate::check_out_dir("--out", dir)?;
    }
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| input_error(format!("{}: {e}", args.file.display())))?;
    let columns = Columns {
        n: args.n_col.clone(),
        tokens: match (&args.d_col, &args.c_col) {
            (_, Some(c)) => TokenColumn::Compute(c.clone()),
            (Some(d), None) => TokenColumn::Tokens(d.clone()),
            (None, None) => TokenColumn::Tokens("D".into()),
        },
        loss: args.loss_col.clone(),
    };
    let all = parse_csv(&text, &columns)
        .map_err(|e| input_error(format!("{}: {e}", args.file.display())))?;
    if all.len() < args.drop_top + 6 {
        return Err(input_error(format!(
            "{}: {} runs{}; a fit of 5 parameters needs at least 6",
            args.file.display(),
            all.len(),
            if args.drop_top > 0 {
                format!(
                    ", {} after --drop-top {}",
                    all.len().saturating_sub(args.drop_top),
                    args.drop_top
                )
            } else {
                String::new()
            }
        )));
    }
    let runs = drop_highest_losses(&all, args.drop_top);
    let distinct = cruxlab_scaling::distinct_points(&runs);
    if distinct < 6 {
        return Err(input_error(format!(
            "{}: {} runs at only {distinct} distinct (N, D) points; a fit of 5 parameters needs at least 6",
            args.file.display(),
            runs.len()
        )));
    }
    let objective = HuberObjective::new(&runs);
    let options = LbfgsOptions::default();

    let started = Instant::now();
    let starts = hoffmann_grid();
    let bar = cruxlab_core::progress::bar("fit", starts.len() as u64, 0, "starts", true);
    let best = HuberFit::fit_observed(&objective, &starts, &options, &|| bar.inc(1));
    bar.finish_and_clear();
    let best = best.map_err(|e| input_error(format!("{}: {e}", args.file.display())))?;
    let fit_time = started.elapsed();
    let started = Instant::now();
    let bootstrap = (args.bootstrap > 0).then(|| {
        let bar =
            cruxlab_core::progress::bar("bootstrap", args.bootstrap as u64, 0, "refits", true);
        let bootstrap = Bootstrap::run_observed(
            &objective,
            &best.params,
            &BootstrapOptions {
                resamples: args.bootstrap,
                seed: args.seed,
            },
            &options,
            &|| bar.inc(1),
        );
        bar.finish_and_clear();
        bootstrap
    });
    let boot_time = started.elapsed();
    if args.timing {
        eprintln!(
            "timing: grid fit {:.3} s ({} starts, {} objective evaluations, {} threads); bootstrap {:.3} s ({} refits, each from the best fit)",
            fit_time.as_secs_f64(),
            best.starts,
            best.evaluations,
            cruxlab_scaling::fit::worker_threads(),
            boot_time.as_secs_f64(),
            args.bootstrap
        );
    }

    let report = FitReport::new(
        args.file.display().to_string(),
        columns,
        args.drop_top,
        runs,
        best,
        bootstrap,
    );
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        for (name, contents) in report.files()? {
            write_file(&dir.join(name), contents.as_bytes())?;
        }
    }
    if args.json {
        println!("{}", report.record().to_json()?);
    } else {
        print!("{}", report.table());
        if let Some(dir) = &args.out {
            println!("report: {}", dir.join("report.html").display());
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    cruxlab_core::write_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}

// ---------------------------------------------------------------- predict and plan

/// A law chosen on the command line.
struct ChosenLaw {
    label: String,
    law: ScalingLaw,
    repetition: Option<Repetition>,
}

fn choose_law(args: &LawArgs) -> Result<ChosenLaw> {
    let mut chosen = match ParameterSet::by_id(&args.params) {
        Some(set) => ChosenLaw {
            label: set.id.to_owned(),
            law: set.law,
            repetition: set.repetition,
        },
        None => read_parameter_file(Path::new(&args.params))?,
    };
    match (args.r_d_star, args.r_n_star, chosen.repetition) {
        (Some(d), Some(n), _) => {
            chosen.repetition = Some(Repetition {
                r_d_star: d,
                r_n_star: n,
            })
        }
        (Some(d), None, Some(r)) => chosen.repetition = Some(Repetition { r_d_star: d, ..r }),
        (None, Some(n), Some(r)) => chosen.repetition = Some(Repetition { r_n_star: n, ..r }),
        (Some(_), None, None) | (None, Some(_), None) => {
            return Err(input_error(format!(
                "--params {}: has no repetition constants; give both --r-d-star and --r-n-star",
                args.params
            )));
        }
        (None, None, _) => {}
    }
    Ok(chosen)
}

fn read_parameter_file(path: &Path) -> Result<ChosenLaw> {
    let ids: Vec<&str> = ParameterSet::builtin().iter().map(|s| s.id).collect();
    let text = std::fs::read_to_string(path).map_err(|e| {
        input_error(format!(
            "--params {}: not a built-in set ({}) and not a readable file: {e}",
            path.display(),
            ids.join(", ")
        ))
    })?;
    let file =
        LawFile::parse(&text).map_err(|e| input_error(format!("{}: {e}", path.display())))?;
    Ok(ChosenLaw {
        label: path.display().to_string(),
        law: file.law,
        repetition: file.repetition,
    })
}

/// The limited data of `--unique-tokens`, if given; the law must have repetition constants.
fn limited_data(chosen: &ChosenLaw, unique_tokens: Option<f64>) -> Result<Option<LimitedData>> {
    let Some(unique_tokens) = unique_tokens else {
        return Ok(None);
    };
    let repetition = chosen.repetition.ok_or_else(|| {
        input_error(format!(
            "--unique-tokens needs repetition constants: --params {} has none; use --params muennighoff or give --r-d-star and --r-n-star",
            chosen.label
        ))
    })?;
    Ok(Some(LimitedData {
        unique_tokens,
        law: DataConstrained::new(chosen.law, repetition),
    }))
}

fn predict(args: PredictArgs) -> Result<()> {
    let chosen = choose_law(&args.law)?;
    let limited = limited_data(&chosen, args.unique_tokens)?;
    let prediction = Prediction::new(chosen.label, &chosen.law, args.n, args.d, limited.as_ref());
    if args.json {
        println!("{}", prediction.to_json()?);
    } else {
        print!("{}", prediction.text());
    }
    Ok(())
}

fn plan(args: PlanArgs) -> Result<()> {
    if let Some(dir) = &args.out {
        crate::check_out_dir("--out", dir)?;
    }
    let chosen = choose_law(&args.law)?;
    let limited = limited_data(&chosen, args.unique_tokens)?;
    let plan = Plan::new(chosen.label, &chosen.law, &args.compute, limited.as_ref());
    if let Some(dir) = &args.out {
        create_dir(dir)?;
        for (name, svg) in plan_figures(&chosen.law, &args.compute, limited.as_ref())? {
            write_file(&dir.join(name), svg.as_bytes())?;
        }
        let mut text = plan.to_json()?;
        text.push('\n');
        write_file(&dir.join("plan.json"), text.as_bytes())?;
    }
    if args.json {
        println!("{}", plan.to_json()?);
    } else {
        print!("{}", plan.text());
        if let Some(dir) = &args.out {
            println!("figures: {}", dir.display());
        }
    }
    Ok(())
}

fn sets() {
    for set in ParameterSet::builtin() {
        print!("{}", set.listing());
    }
}

#[cfg(test)]
mod tests {
    use super::parse_quantity;

    #[test]
    fn quantities_take_suffixes() {
        assert_eq!(parse_quantity("70B"), Ok(70e9));
        assert_eq!(parse_quantity("1.4T"), Ok(1.4e12));
        assert_eq!(parse_quantity("5.88e23"), Ok(5.88e23));
        assert_eq!(parse_quantity("3k"), Ok(3e3));
        assert!(parse_quantity("-1").is_err());
        assert!(parse_quantity("0").is_err());
        assert!(parse_quantity("abc").is_err());
        assert!(parse_quantity("inf").is_err());
    }
}
