//! The cruxlab experiment framework.
//!
//! An [`Experiment`] declares a claim, a typed config with defaults, a swept grid of conditions, a
//! measurement per (condition, seed), and verdicts computed from the summarised metrics. The framework
//! does the rest: it resolves configs (TOML defaults, a config file, `--set key=value`; unknown keys are
//! errors that name file, line and key), runs the sweep in parallel with rayon and deterministically,
//! stores each finished unit atomically so an interrupted run resumes, runs a deterministic shard of
//! the sweep and merges shards, summarises every metric as a mean over seeds with a 95% CI, and writes
//! the run folder: `config.toml`, `results.json`, `per_seed.csv`, SVG plots and `report.html`.
//!
//! A CLI holds `Vec<Box<dyn DynExperiment>>` (built with [`erase`]), resolves a config with
//! [`DynExperiment::resolve`], runs it with [`DynExperiment::run`], merges shards with [`merge`] and
//! writes an overview with [`write_index`]. Any [`UserError`] (see [`is_user_error`]) is bad input.

pub mod artifact;
pub mod claim;
mod condition;
mod config;
mod error;
mod experiment;
mod finalize;
mod plot;
pub mod progress;
pub mod reference;
mod report;
mod run;
pub mod sensitivity;
mod shard;
pub mod stats;
mod store;

pub use artifact::{ArtifactCache, ArtifactKey, Artifacts, Progress};
pub use claim::{
    Anchor, Audit, AuditStatus, Claim, Combine, Control, ControlOutcome, Direction, Effect,
    Evidence, Scope, Where, at,
};
pub use config::{Overrides, ResolvedConfig};
pub use error::{Error, Origin, UserError, is_user_error};
pub use experiment::{Experiment, Figure, MetricSummary, PlotSpec, Results, Verdict, VerdictKind};
pub use report::{escape_html, write_index};
pub use run::{
    CONTROLS_DIR, DEFAULT_MAX_UNITS, DynExperiment, Erased, InertControl, RunOptions, RunOutcome,
    check_claims, check_metrics_emitted, checked_claims, control_folder, control_sets, erase, find,
    inert_controls, measure_unit, merge,
};
pub use shard::Shard;
pub use stats::{Summary, mean_ci, paired_difference, welch_difference};
pub use store::{LOCK_FILE, LastRun, Manifest, RunFolder, read_run_folder, write_atomic};
