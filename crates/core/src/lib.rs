//! The cruxlab experiment framework.
//!
//! An [`Experiment`] declares a claim, a typed config with defaults, a swept grid of conditions, a
//! measurement per (condition, seed), and verdicts computed from the summarised metrics. The framework
//! does the rest: it resolves configs (TOML defaults, a config file, `--set key=value`; unknown keys are
//! errors that name file, line and key), runs the sweep in parallel with rayon and deterministically,
//! stores each finished unit atomically so an interrupted run resumes, runs a deterministic shard of
//! the sweep and merges shards, summarises every metric as a mean over seeds with a 95% CI, and writes
//! the run folder: `config.toml`, `results.json`, `per_seed.csv`, SVG plots and `report.html`.

mod experiment;

pub use experiment::{Experiment, MetricSummary, PlotSpec, Results, Verdict, VerdictKind};
