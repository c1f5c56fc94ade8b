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
//! The science lives in `cruxlab-scaling`; this module parses, prints and writes files (atomically).
//! Bad input (a CSV cell, a flag value, a parameter file) exits with code 2 and names the file, line
//! and column or key.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use cruxlab_core::escape_html;
use cruxlab_core::stats::format_number as num;
use cruxlab_scaling::figure::{self, Curve, Mark, Series};
use cruxlab_scaling::fit::{a_opt, b_opt};
use cruxlab_scaling::observations::drop_highest_losses;
use cruxlab_scaling::optimal::minimise_iso_flop;
use cruxlab_scaling::{
    Allocation, Bootstrap, BootstrapOptions, Columns, ComputeOptimal, DataConstrained, HuberFit,
    HuberObjective, LbfgsOptions, LogParams, Observation, ParameterSet, Repetition, ScalingLaw,
    TokenColumn, hoffmann_grid, parse_csv,
};
use serde_json::{Value, json};

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

/// What a fit produced, ready to print or write.
struct FitReport {
    file: PathBuf,
    columns: Columns,
    drop_top: usize,
    runs: Vec<Observation>,
    fit: HuberFit,
    bootstrap: Option<Bootstrap>,
    residuals: Vec<f64>,
    warnings: Vec<String>,
}

type Statistic = fn(&LogParams) -> f64;

/// The reported quantities: name and how to compute it from log-space parameters.
const STATISTICS: [(&str, Statistic); 7] = [
    ("E", |p| p.log_e.exp()),
    ("A", |p| p.log_a.exp()),
    ("B", |p| p.log_b.exp()),
    ("alpha", |p| p.alpha),
    ("beta", |p| p.beta),
    ("a_opt", a_opt),
    ("b_opt", b_opt),
];

/// |corr(alpha, beta)| over bootstrap refits at or above which the two exponents are reported as
/// poorly identified: then over 64% of one's bootstrap variance moves with the other.
const IDENTIFICATION_CORRELATION: f64 = 0.8;

/// A 95% bootstrap interval of an exponent wider than this fraction of its estimate marks it as
/// poorly identified. On Epoch's Chinchilla points the widths are 16% (alpha) and 22% (beta).
const WIDE_INTERVAL: f64 = 1.0;

fn fit(args: FitArgs) -> Result<()> {
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
    let objective = HuberObjective::new(&runs);
    let options = LbfgsOptions::default();

    let started = Instant::now();
    let best = HuberFit::fit(&objective, &hoffmann_grid(), &options)
        .map_err(|e| input_error(format!("{}: {e}", args.file.display())))?;
    let fit_time = started.elapsed();
    let started = Instant::now();
    let bootstrap = (args.bootstrap > 0).then(|| {
        Bootstrap::run(
            &objective,
            &best.params,
            &BootstrapOptions {
                resamples: args.bootstrap,
                seed: args.seed,
            },
            &options,
        )
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

    let residuals = objective.residuals(&best.params);
    let warnings = fit_warnings(&best, bootstrap.as_ref());
    let report = FitReport {
        file: args.file.clone(),
        columns,
        drop_top: args.drop_top,
        runs,
        fit: best,
        bootstrap,
        residuals,
        warnings,
    };
    if let Some(dir) = &args.out {
        write_fit_report(dir, &report)?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&fit_json(&report))?);
    } else {
        print!("{}", fit_table(&report));
        if let Some(dir) = &args.out {
            println!("report: {}", dir.join("report.html").display());
        }
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    Ok(())
}

fn fit_warnings(fit: &HuberFit, bootstrap: Option<&Bootstrap>) -> Vec<String> {
    let mut warnings = Vec::new();
    let p = fit.params;
    if p.alpha <= 0.0 || p.beta <= 0.0 {
        warnings.push(format!(
            "a fitted exponent is not positive (alpha = {}, beta = {}): one term does not decrease with scale and the compute-optimal frontier is undefined",
            num(p.alpha),
            num(p.beta)
        ));
    }
    if fit.starts_at_best < 10 {
        warnings.push(format!(
            "only {} of {} starts reached the best objective: the optimum is hard to find and may not be the global one",
            fit.starts_at_best, fit.starts
        ));
    }
    for (name, statistic) in [("alpha", STATISTICS[3].1), ("beta", STATISTICS[4].1)] {
        let estimate = statistic(&p);
        if let Some((lo, hi)) = bootstrap.and_then(|b| b.interval(statistic))
            && (hi - lo) > WIDE_INTERVAL * estimate.abs()
        {
            warnings.push(format!(
                "{name} is poorly identified: its 95% bootstrap interval [{}, {}] is wider than {}% of its estimate {}; the data may not separate the model and data terms (for instance when D/N hardly varies, one term can absorb the other)",
                num(lo),
                num(hi),
                100.0 * WIDE_INTERVAL,
                num(estimate)
            ));
        }
    }
    if let Some(boot) = bootstrap
        && let Some(r) = boot.correlation(|p| p.alpha, |p| p.beta)
        && r.abs() >= IDENTIFICATION_CORRELATION
    {
        warnings.push(format!(
            "alpha and beta are poorly identified: their correlation over {} bootstrap refits is {:.2} (|r| >= {}); the data pin down a combination of them, so read their separate intervals, and a_opt's, with care",
            boot.replicates.len(),
            r,
            IDENTIFICATION_CORRELATION
        ));
    }
    warnings
}

fn tokens_description(columns: &Columns) -> String {
    match &columns.tokens {
        TokenColumn::Tokens(d) => format!("D from column '{d}'"),
        TokenColumn::Compute(c) => format!("D = C / 6N with C from column '{c}'"),
    }
}

fn fit_table(r: &FitReport) -> String {
    let mut out = String::new();
    let p = r.fit.params;
    let law = p.to_law();
    let _ = writeln!(
        out,
        "Fit of L(N, D) = E + A/N^alpha + B/D^beta to {} runs from {} (N from '{}', {}, loss from '{}'{})",
        r.fit.n_points,
        r.file.display(),
        r.columns.n,
        tokens_description(&r.columns),
        r.columns.loss,
        if r.drop_top > 0 {
            format!("; {} highest losses dropped", r.drop_top)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "Huber loss (delta 1e-3) on log loss, summed; L-BFGS from {} starts, best from start {} ({} starts reached it); objective {:.10}",
        r.fit.starts, r.fit.start_index, r.fit.starts_at_best, r.fit.objective
    );
    match &r.bootstrap {
        Some(b) => {
            let _ = writeln!(
                out,
                "95% intervals: bootstrap percentiles over {} resamples of the runs (seed {}), each refitted from the best fit\n",
                b.replicates.len(),
                b.seed
            );
        }
        None => out.push_str("no bootstrap (--bootstrap 0): no intervals\n\n"),
    }
    let _ = writeln!(out, "{:<8} {:>12}   {:<28}", "", "estimate", "95% CI");
    for (name, statistic) in STATISTICS {
        let ci = r
            .bootstrap
            .as_ref()
            .and_then(|b| b.interval(statistic))
            .map_or_else(
                || "-".to_owned(),
                |(lo, hi)| format!("[{}, {}]", num(lo), num(hi)),
            );
        let _ = writeln!(out, "{name:<8} {:>12}   {ci:<28}", num(statistic(&p)));
    }
    let _ = writeln!(
        out,
        "\nlog-space: a = ln A = {:.6}, b = ln B = {:.6}, e = ln E = {:.6}",
        p.log_a, p.log_b, p.log_e
    );
    if let Some(r) = r
        .bootstrap
        .as_ref()
        .and_then(|b| b.correlation(|p| p.alpha, |p| p.beta))
    {
        let _ = writeln!(out, "bootstrap correlation of alpha and beta: {r:.3}");
    }
    if law.is_valid() {
        let g = ComputeOptimal::new(&law);
        let _ = writeln!(
            out,
            "compute-optimal: N_opt = {} (C/6)^{}, D_opt = {} (C/6)^{}",
            num(g.g),
            num(g.a),
            num(1.0 / g.g),
            num(g.b)
        );
    }
    let stats = residual_stats(&r.residuals);
    let worst = r
        .residuals
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .map(|(i, v)| (r.runs[i].line, *v));
    let _ = writeln!(
        out,
        "residuals (ln fitted - ln observed): mean {}, sd {}, mean |r| {}{}",
        num(stats.0),
        num(stats.1),
        num(stats.2),
        worst.map_or_else(String::new, |(line, v)| format!(
            ", largest {} (line {line})",
            num(v)
        ))
    );
    out
}

/// Mean, sample sd and mean absolute value.
fn residual_stats(r: &[f64]) -> (f64, f64, f64) {
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let sd = (r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    (mean, sd, r.iter().map(|v| v.abs()).sum::<f64>() / n)
}

fn fit_json(r: &FitReport) -> Value {
    let p = r.fit.params;
    let law = p.to_law();
    let mut ci95 = serde_json::Map::new();
    if let Some(b) = &r.bootstrap {
        for (name, statistic) in STATISTICS {
            if let Some((lo, hi)) = b.interval(statistic) {
                ci95.insert(name.into(), json!([lo, hi]));
            }
        }
    }
    let (mean, sd, mean_abs) = residual_stats(&r.residuals);
    json!({
        "params": {"E": law.e, "A": law.a, "B": law.b, "alpha": law.alpha, "beta": law.beta},
        "log_params": {"a": p.log_a, "b": p.log_b, "e": p.log_e},
        "ci95": ci95,
        "objective": r.fit.objective,
        "n_points": r.fit.n_points,
        "a_opt": a_opt(&p),
        "b_opt": b_opt(&p),
        "fit": {
            "loss": "huber(delta=1e-3) on log loss, summed over runs",
            "starts": r.fit.starts,
            "best_start_index": r.fit.start_index,
            "best_start": r.fit.start,
            "starts_at_best": r.fit.starts_at_best,
            "iterations": r.fit.iterations,
            "stop": r.fit.stop,
        },
        "bootstrap": r.bootstrap.as_ref().map(|b| json!({
            "resamples": b.replicates.len(),
            "seed": b.seed,
            "refit_from": "best fit",
            "interval": "percentile, 2.5% and 97.5%",
            "corr_alpha_beta": b.correlation(|p| p.alpha, |p| p.beta),
        })),
        "residuals": {"mean": mean, "sd": sd, "mean_abs": mean_abs},
        "data": {
            "file": r.file.display().to_string(),
            "n_col": r.columns.n,
            "tokens": tokens_description(&r.columns),
            "loss_col": r.columns.loss,
            "drop_top": r.drop_top,
        },
        "warnings": r.warnings,
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    cruxlab_core::write_atomic(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn write_fit_report(dir: &Path, r: &FitReport) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut json_text = serde_json::to_string_pretty(&fit_json(r))?;
    json_text.push('\n');
    write_file(&dir.join("fit.json"), json_text.as_bytes())?;

    let law = r.fit.params.to_law();
    let mut csv = String::from("line,N,D,loss,fitted,residual\n");
    for (run, res) in r.runs.iter().zip(&r.residuals) {
        let _ = writeln!(
            csv,
            "{},{:e},{:e},{},{},{}",
            run.line,
            run.n,
            run.d,
            run.loss,
            law.loss(run.n, run.d),
            res
        );
    }
    write_file(&dir.join("residuals.csv"), csv.as_bytes())?;
    let fit_svg = figure::render(&figure::fit_panels(&r.runs, &law))?;
    write_file(&dir.join("fit.svg"), fit_svg.as_bytes())?;
    let residual_svg = figure::render(&figure::residual_panels(&r.runs, &r.residuals))?;
    write_file(&dir.join("residuals.svg"), residual_svg.as_bytes())?;

    let table = fit_table(r);
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Scaling-law fit</title>\
<style>body{{font-family:sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}\
pre{{background:#f6f8fa;padding:0.8rem;overflow-x:auto}}.warning{{color:#a40}}img{{max-width:100%}}</style>\
</head><body>\n<h1>Scaling-law fit</h1>\n<pre>{}</pre>\n",
        escape_html(&table)
    );
    for w in &r.warnings {
        let _ = writeln!(html, "<p class=\"warning\">Warning: {}</p>", escape_html(w));
    }
    html.push_str(
        "<h2>Fit</h2>\n<img src=\"fit.svg\" alt=\"loss against compute, and observed against fitted\">\n\
<h2>Residuals</h2>\n<img src=\"residuals.svg\" alt=\"residuals against N and D\">\n\
<p>Files: <a href=\"fit.json\">fit.json</a> (parameters, intervals; usable as <code>--params</code>), \
<a href=\"residuals.csv\">residuals.csv</a>.</p>\n</body></html>\n",
    );
    write_file(&dir.join("report.html"), html.as_bytes())
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
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| input_error(format!("{}: not valid JSON: {e}", path.display())))?;
    let number = |section: &str, key: &str| -> Result<f64> {
        let v = value.get(section).and_then(|s| s.get(key)).ok_or_else(|| {
            input_error(format!("{}: missing key '{section}.{key}'", path.display()))
        })?;
        match v.as_f64() {
            Some(x) if x.is_finite() && x > 0.0 => Ok(x),
            _ => Err(input_error(format!(
                "{}: key '{section}.{key}' must be a positive number, found {v}",
                path.display()
            ))),
        }
    };
    let law = ScalingLaw {
        e: number("params", "E")?,
        a: number("params", "A")?,
        b: number("params", "B")?,
        alpha: number("params", "alpha")?,
        beta: number("params", "beta")?,
    };
    let repetition = if value.get("repetition").is_some() {
        Some(Repetition {
            r_d_star: number("repetition", "r_d_star")?,
            r_n_star: number("repetition", "r_n_star")?,
        })
    } else {
        None
    };
    Ok(ChosenLaw {
        label: path.display().to_string(),
        law,
        repetition,
    })
}

fn constrained(chosen: &ChosenLaw, flag: &str) -> Result<DataConstrained> {
    let repetition = chosen.repetition.ok_or_else(|| {
        input_error(format!(
            "{flag} needs repetition constants: --params {} has none; use --params muennighoff or give --r-d-star and --r-n-star",
            chosen.label
        ))
    })?;
    Ok(DataConstrained::new(chosen.law, repetition))
}

fn allocation_json(a: &Allocation) -> Value {
    json!({
        "N": a.n, "D": a.d, "compute": a.compute, "tokens_per_param": a.tokens_per_param,
        "loss": a.terms.loss, "irreducible": a.terms.irreducible,
        "model_term": a.terms.model, "data_term": a.terms.data,
    })
}

fn predict(args: PredictArgs) -> Result<()> {
    let chosen = choose_law(&args.law)?;
    let law = chosen.law;
    let here = Allocation::of(&law, args.n, args.d);
    let frontier = ComputeOptimal::new(&law);
    let best = frontier.allocate(&law, here.compute);
    let repeated = match args.unique_tokens {
        Some(u) => Some(constrained(&chosen, "--unique-tokens")?.scale(args.n, args.d, u)),
        None => None,
    };
    if args.json {
        let mut v = allocation_json(&here);
        v["params_source"] = json!(chosen.label);
        v["data_share"] = json!(here.terms.data_share());
        v["compute_optimal"] = allocation_json(&best);
        if let Some(s) = &repeated {
            v["data_constrained"] = serde_json::to_value(s)?;
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let t = here.terms;
    println!(
        "{}: N = {}, D = {} ({} tokens per parameter, C = 6ND = {} FLOPs)",
        chosen.label,
        num(args.n),
        num(args.d),
        num(here.tokens_per_param),
        num(here.compute)
    );
    println!(
        "loss {} = E {} + model term A/N^alpha {} + data term B/D^beta {}",
        num(t.loss),
        num(t.irreducible),
        num(t.model),
        num(t.data)
    );
    println!(
        "the data term is {:.1}% of the reducible loss; {} term dominates",
        100.0 * t.data_share(),
        if t.data > t.model {
            "the data"
        } else {
            "the model"
        }
    );
    println!(
        "compute-optimal at the same C: N_opt = {}, D_opt = {} ({} tokens per parameter), loss {} ({} lower)",
        num(best.n),
        num(best.d),
        num(best.tokens_per_param),
        num(best.terms.loss),
        num(t.loss - best.terms.loss)
    );
    if let Some(s) = repeated {
        println!(
            "with {} unique tokens ({} epochs): effective tokens D' = {}, unique parameters U_N = {}, effective parameters N' = {}",
            num(s.unique_tokens),
            num(s.epochs),
            num(s.effective_tokens),
            num(s.unique_params),
            num(s.effective_params)
        );
        println!(
            "data-constrained loss {} = E {} + model term {} + data term {}",
            num(s.loss),
            num(s.irreducible),
            num(s.model),
            num(s.data)
        );
    }
    Ok(())
}

fn plan(args: PlanArgs) -> Result<()> {
    let chosen = choose_law(&args.law)?;
    let law = chosen.law;
    let frontier = ComputeOptimal::new(&law);
    let limited = match args.unique_tokens {
        Some(u) => Some((u, constrained(&chosen, "--unique-tokens")?)),
        None => None,
    };
    let mut rows = Vec::new();
    for &c in &args.compute {
        let best = frontier.allocate(&law, c);
        let mut row = allocation_json(&best);
        if let Some((u, dc)) = &limited {
            let p = dc.plan(c, *u);
            row["data_constrained"] = json!({
                "unique_tokens": u,
                "N": p.n, "D": p.d, "epochs": p.scale.epochs, "loss": p.scale.loss,
                "effective_tokens": p.scale.effective_tokens,
                "effective_params": p.scale.effective_params,
                "model_term": p.scale.model, "data_term": p.scale.data,
                "unconstrained_plan_loss": dc.loss(best.n, best.d, *u),
                "unconstrained_plan_epochs": best.d / u,
            });
        }
        rows.push(row);
    }
    let doc = json!({
        "params_source": chosen.label,
        "params": {"E": law.e, "A": law.a, "B": law.b, "alpha": law.alpha, "beta": law.beta},
        "G": frontier.g, "a_opt": frontier.a, "b_opt": frontier.b,
        "plans": rows,
    });
    if let Some(dir) = &args.out {
        write_plan_figures(dir, &args, &law, limited.as_ref())?;
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        write_file(&dir.join("plan.json"), text.as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!(
            "{}: N_opt = {} (C/6)^{}, D_opt = {} (C/6)^{}",
            chosen.label,
            num(frontier.g),
            num(frontier.a),
            num(1.0 / frontier.g),
            num(frontier.b)
        );
        for (c, row) in args.compute.iter().zip(&rows) {
            let f = |k: &str| num(row[k].as_f64().unwrap_or(f64::NAN));
            println!(
                "C = {}: N_opt = {}, D_opt = {} ({} tokens per parameter), loss {} (model term {}, data term {})",
                num(*c),
                f("N"),
                f("D"),
                f("tokens_per_param"),
                f("loss"),
                f("model_term"),
                f("data_term")
            );
            if let Some(dc) = row.get("data_constrained") {
                let g = |k: &str| num(dc[k].as_f64().unwrap_or(f64::NAN));
                println!(
                    "  with {} unique tokens: best N = {}, tokens = {} ({} epochs), loss {}; the unconstrained plan would take {} epochs and reach {}",
                    g("unique_tokens"),
                    g("N"),
                    g("D"),
                    g("epochs"),
                    g("loss"),
                    g("unconstrained_plan_epochs"),
                    g("unconstrained_plan_loss")
                );
            }
        }
        if let Some(dir) = &args.out {
            println!("figures: {}", dir.display());
        }
    }
    Ok(())
}

fn write_plan_figures(
    dir: &Path,
    args: &PlanArgs,
    law: &ScalingLaw,
    limited: Option<&(f64, DataConstrained)>,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let frontier = ComputeOptimal::new(law);
    let mut budgets = args.compute.clone();
    budgets.sort_by(f64::total_cmp);
    budgets.dedup();
    if budgets.len() == 1 {
        let c = budgets[0];
        budgets = vec![c / 100.0, c / 10.0, c, c * 10.0, c * 100.0];
    }
    budgets.truncate(10);
    let plain = |n: f64, d: f64| law.loss(n, d);
    let centre = |c: f64| frontier.n_opt(c);
    let mut minima: Vec<(f64, f64)> = budgets
        .iter()
        .map(|&c| {
            let a = frontier.allocate(law, c);
            (a.n, a.terms.loss)
        })
        .collect();
    let limited_loss;
    let mut curves = vec![Curve {
        label: "unlimited data",
        loss: &plain,
        mark: Mark::Line,
    }];
    if let Some((u, dc)) = limited {
        let u = *u;
        limited_loss = move |n: f64, d: f64| dc.loss(n, d, u);
        curves.push(Curve {
            label: "limited unique data",
            loss: &limited_loss,
            mark: Mark::Dashed,
        });
        minima.extend(budgets.iter().map(|&c| minimise_iso_flop(c, limited_loss)));
    }
    let iso = figure::iso_flop_panel(&budgets, &centre, &curves, &minima);
    write_file(&dir.join("isoflop.svg"), figure::render(&[iso])?.as_bytes())?;

    let (lo, hi) = (budgets[0] / 10.0, budgets[budgets.len() - 1] * 10.0);
    let mut extra = Vec::new();
    if let Some((u, dc)) = limited {
        let grid: Vec<f64> = (0..=24)
            .map(|i| (lo.ln() + (hi.ln() - lo.ln()) * i as f64 / 24.0).exp())
            .collect();
        let plans: Vec<_> = grid.iter().map(|&c| dc.plan(c, *u)).collect();
        extra.push(Series {
            label: format!("N with {} unique tokens", num(*u)),
            points: plans.iter().map(|p| (p.compute, p.n)).collect(),
            mark: Mark::Dashed,
            color: 0,
        });
        extra.push(Series {
            label: format!("D with {} unique tokens", num(*u)),
            points: plans.iter().map(|p| (p.compute, p.d)).collect(),
            mark: Mark::Dashed,
            color: 1,
        });
    }
    let panel = figure::frontier_panel(law, (lo, hi), extra);
    write_file(
        &dir.join("frontier.svg"),
        figure::render(&[panel])?.as_bytes(),
    )
}

fn sets() {
    for set in ParameterSet::builtin() {
        let l = set.law;
        println!(
            "{:<20} E = {}, A = {}, B = {}, alpha = {}, beta = {}{}",
            set.id,
            l.e,
            l.a,
            l.b,
            l.alpha,
            l.beta,
            set.repetition.map_or_else(String::new, |r| format!(
                ", R_D* = {}, R_N* = {}",
                r.r_d_star, r.r_n_star
            ))
        );
        println!("{:<20} source: {}", "", set.source);
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
