//! The experiments for Python: `list`, `show`, `run` (and `audit`), `merge`, as the CLI's commands
//! do them, through cruxlab-core's run API and cruxlab-experiments' registry.

use std::path::PathBuf;

use pyo3::prelude::*;

use cruxlab_core::{Overrides, RunOptions, RunOutcome, Shard};

use crate::{Failure, guard};

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(list, m)?)?;
    m.add_function(wrap_pyfunction!(show, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(merge, m)?)?;
    m.add("DEFAULT_MAX_UNITS", cruxlab_core::DEFAULT_MAX_UNITS)?;
    Ok(())
}

fn framework(err: impl Into<anyhow::Error>) -> Failure {
    Failure::from_anyhow(err.into())
}

/// `(id, claim)` of every registered experiment, in suite order.
#[pyfunction]
fn list() -> Vec<(&'static str, &'static str)> {
    cruxlab_experiments::registry()
        .iter()
        .map(|e| (e.id(), e.claim()))
        .collect()
}

/// `(id, claim, model, default config as TOML)` of one experiment.
#[pyfunction]
#[pyo3(signature = (experiment, quick = false))]
fn show(
    experiment: &str,
    quick: bool,
) -> PyResult<(&'static str, &'static str, &'static str, String)> {
    guard(|| {
        let experiments = cruxlab_experiments::registry();
        let e = cruxlab_core::find(&experiments, experiment).map_err(framework)?;
        Ok((e.id(), e.claim(), e.model(), e.default_config_toml(quick)))
    })
}

/// Run (or, with `audit`, audit) one experiment into `out`, as `cruxlab run|audit` does.
/// Returns the results as JSON (`results.json`'s content) when the sweep is complete, else
/// `None` and how many of the sweep's units are stored (a shard): `(json, 0, 0)` or
/// `(None, done, total)`. The GIL is released while it runs.
#[pyfunction]
#[pyo3(signature = (experiment, out, quick = false, sets = Vec::new(), seeds = None, config = None, shard = None, threads = None, audit = false, max_units = cruxlab_core::DEFAULT_MAX_UNITS))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    experiment: &str,
    out: PathBuf,
    quick: bool,
    sets: Vec<String>,
    seeds: Option<u64>,
    config: Option<PathBuf>,
    shard: Option<String>,
    threads: Option<usize>,
    audit: bool,
    max_units: usize,
) -> PyResult<(Option<String>, usize, usize)> {
    let experiment = experiment.to_owned();
    py.detach(move || {
        guard(move || {
            if let Some(t) = threads {
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let most = 4 * cores;
                if t == 0 || t > most {
                    return Err(Failure::user(format!(
                        "threads {t}: must lie in 1..={most} (4 x this machine's {cores} cores)"
                    )));
                }
            }
            let experiments = cruxlab_experiments::registry();
            let e = cruxlab_core::find(&experiments, &experiment).map_err(framework)?;
            let shard = shard
                .map(|s| s.parse::<Shard>())
                .transpose()
                .map_err(framework)?;
            let overrides = Overrides {
                quick,
                file: config,
                sets,
                seeds,
            };
            let resolved = e.resolve(&overrides).map_err(framework)?;
            let opts = RunOptions {
                shard,
                threads,
                max_units,
                ..RunOptions::new(out)
            };
            let outcome = if audit {
                e.audit(&resolved, &opts)
            } else {
                e.run(&resolved, &opts)
            }
            .map_err(framework)?;
            outcome_tuple(outcome)
        })
    })
}

/// Combine shard folders into one finished run folder, as `cruxlab merge` does; returns the
/// results as JSON.
#[pyfunction]
fn merge(py: Python<'_>, dirs: Vec<PathBuf>, out: PathBuf) -> PyResult<String> {
    py.detach(move || {
        guard(move || {
            if dirs.is_empty() {
                return Err(Failure::user("merge: no shard folders given"));
            }
            let experiments = cruxlab_experiments::registry();
            let results = cruxlab_core::merge(&experiments, &dirs, &out).map_err(framework)?;
            serde_json::to_string(&results).map_err(|e| Failure::internal(e.to_string()))
        })
    })
}

fn outcome_tuple(outcome: RunOutcome) -> Result<(Option<String>, usize, usize), Failure> {
    match outcome {
        RunOutcome::Complete(results) => {
            let json =
                serde_json::to_string(&results).map_err(|e| Failure::internal(e.to_string()))?;
            Ok((Some(json), 0, 0))
        }
        RunOutcome::Partial { done, total } => Ok((None, done, total)),
    }
}
