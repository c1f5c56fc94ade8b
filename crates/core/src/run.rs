//! Running a sweep: the object-safe [`DynExperiment`] the CLI holds, the parallel and resumable
//! run of all units (or of one shard), merging shards, and finalizing a complete sweep.
//!
//! The sweep is the list of units (condition index, seed) for every condition of
//! `Experiment::conditions` and seeds `0..seeds`, condition-major: unit `i` is condition
//! `i / seeds`, seed `i % seeds`. Units run in parallel with rayon; each is stored as soon as it
//! is finished, atomically, so an interrupted run resumes where it stopped. Everything written to
//! `results.json` is computed from the stored units in sweep order, so it is byte-identical
//! whatever the thread count, the interruptions, or the sharding.

use crate::artifact::{self, ArtifactCache, ArtifactKey};
use crate::claim::{self, Audit, Claim, ControlOutcome};
use crate::config::{self, Overrides, ResolvedConfig};
use crate::error::{Error, UserError};
use crate::experiment::{Experiment, Results, Verdict};
use crate::finalize;
use crate::report::ReportText;
use crate::shard::Shard;
use crate::store::{self, LastRun, Manifest, UnitRecord};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// How to run a sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOptions {
    /// The run folder.
    pub out: PathBuf,
    /// Run only this shard of the sweep.
    pub shard: Option<Shard>,
    /// Show progress on stderr: a bar on a terminal, an occasional plain line elsewhere
    /// ([`crate::progress::bar`]).
    pub progress: bool,
    /// Run in a rayon pool of this many threads (default: rayon's global pool).
    pub threads: Option<usize>,
    /// Stop after this many newly finished units (simulates an interruption, for tests).
    pub stop_after: Option<usize>,
    /// Refuse a sweep of more units than this, before anything is written.
    pub max_units: usize,
    /// The folder of shared artifacts (default: the run folder's `artifacts/`). A suite points
    /// every experiment, control and sample at one folder so they build each artifact once.
    pub artifacts: Option<PathBuf>,
}

impl RunOptions {
    /// Whole sweep into `out`, no progress bar, default threads.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        RunOptions {
            out: out.into(),
            shard: None,
            progress: false,
            threads: None,
            stop_after: None,
            max_units: DEFAULT_MAX_UNITS,
            artifacts: None,
        }
    }

    /// The artifact cache this run uses.
    pub fn artifact_cache(&self) -> ArtifactCache {
        match &self.artifacts {
            Some(dir) => ArtifactCache::new(dir),
            None => artifact::default_cache(&self.out),
        }
    }
}

/// The largest sweep a run starts unless told otherwise (`--max-units`).
pub const DEFAULT_MAX_UNITS: usize = 1_000_000;

/// What a run (or a finalize) ended with.
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    /// Every unit of the sweep is in the folder; results and report are written.
    Complete(Results),
    /// `done` of the sweep's `total` units are in the folder (a shard, or an interrupted run).
    Partial { done: usize, total: usize },
}

/// An experiment with its types erased, so the CLI can hold a list of them. Every
/// [`Experiment`] becomes one with [`erase`].
pub trait DynExperiment: Send + Sync {
    fn id(&self) -> &'static str;
    fn claim(&self) -> &'static str;
    fn model(&self) -> &'static str;
    /// The defaults as pretty TOML (a starting point for a config file).
    fn default_config_toml(&self, quick: bool) -> String;
    /// Defaults, then file, then `--set`s, then `--seeds`, then validation.
    fn resolve(&self, overrides: &Overrides) -> Result<ResolvedConfig, UserError>;
    /// [`DynExperiment::resolve`] with the config file's text already read (`overrides.file`
    /// only names it in messages).
    fn resolve_text(
        &self,
        overrides: &Overrides,
        text: Option<&str>,
    ) -> Result<ResolvedConfig, UserError>;
    /// Number of units (conditions x seeds) in the sweep of `config`.
    fn sweep_len(&self, config: &ResolvedConfig) -> Result<usize, Error>;
    /// Indices (in the sweep) of the units of `config` stored in run folder `dir`, by file name.
    fn stored_units(&self, config: &ResolvedConfig, dir: &Path) -> Result<BTreeSet<usize>, Error>;
    /// Read back every unit of `config` stored in `dir` and check that it belongs there (this
    /// experiment, this config and code version, the unit its name says), so that `merge` can
    /// refuse a folder before copying anything out of it.
    fn check_stored_units(&self, config: &ResolvedConfig, dir: &Path) -> Result<(), Error>;
    /// Run the sweep (or `opts.shard` of it) into `opts.out`, resuming from the units already
    /// there; finalize when the folder holds the whole sweep. A folder of another experiment or
    /// config is refused ([`UserError`]). A panic in `measure` propagates; stored units are kept.
    fn run(&self, config: &ResolvedConfig, opts: &RunOptions) -> Result<RunOutcome, Error>;
    /// Summarise and write results, CSV, plots and report from the units in `out`, if the sweep is
    /// complete there (else `Partial`, writing only `config.toml` and `run.json`). Re-renders a
    /// finished folder.
    fn finalize(&self, config: &ResolvedConfig, out: &Path) -> Result<RunOutcome, Error>;
    /// `config` with `sets` (`key=value`) applied on top and validated.
    fn resolve_over(
        &self,
        config: &ResolvedConfig,
        sets: &[String],
    ) -> Result<ResolvedConfig, UserError>;
    /// The claims `config` declares (with their controls).
    fn claims(&self, config: &ResolvedConfig) -> Result<Vec<Claim>, Error>;
    /// Run the sweep, then every distinct control of its claims as a sweep of its own in
    /// `opts.out/controls/NN` (same store, resume and shards), then finalize the main run with
    /// each claim's audit. `Partial` counts the units of all the sweeps together.
    fn audit(&self, config: &ResolvedConfig, opts: &RunOptions) -> Result<RunOutcome, Error>;
    /// Finalize an audited folder: when the main sweep and every control sweep are complete,
    /// attach the audits to the main run's verdicts and write it.
    fn finalize_audit(&self, config: &ResolvedConfig, out: &Path) -> Result<RunOutcome, Error>;
    /// The experiment's warnings for `config` ([`Experiment::warnings`]).
    fn warnings(&self, config: &ResolvedConfig) -> Result<Vec<String>, Error>;
}

/// The folder of the `index`-th (from 0) distinct control inside an audited run folder.
pub fn control_folder(index: usize) -> String {
    format!("{CONTROLS_DIR}/{:02}", index + 1)
}

/// The subfolder of an audited run folder that holds its controls' runs.
pub const CONTROLS_DIR: &str = "controls";

/// The distinct override lists of the claims' controls, in order of declaration.
pub fn control_sets(claims: &[Claim]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for c in claims.iter().flat_map(|c| &c.controls) {
        if !out.contains(&c.set) {
            out.push(c.set.clone());
        }
    }
    out
}

/// A control that leaves a config as it is, and the claims that declare it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InertControl {
    /// The control's overrides (`key=value`).
    pub set: Vec<String>,
    /// The ids of the claims that declare it.
    pub claims: Vec<String>,
}

/// The distinct controls of `claims` that leave `config` as it is, each with the ids of the claims
/// that declare it: run under such a control the model is the main run itself, so its verdict
/// cannot differ and an audit would call the claim foregone without having tested it (e.g.
/// `p_anywhere=0.0` on a run that already has `p_anywhere = 0.0`). `audit` refuses them.
pub fn inert_controls(
    e: &dyn DynExperiment,
    config: &ResolvedConfig,
) -> Result<Vec<InertControl>, Error> {
    let claims = e.claims(config)?;
    let mut inert = Vec::new();
    for sets in control_sets(&claims) {
        let control = e
            .resolve_over(config, &sets)
            .map_err(|err| Error::Contract {
                experiment: e.id().to_owned(),
                message: format!("control [{}] does not resolve: {err}", sets.join(" ")),
            })?;
        if control.table == config.table {
            let ids = claims
                .iter()
                .filter(|c| c.controls.iter().any(|k| k.set == sets))
                .map(|c| c.id.clone())
                .collect();
            inert.push(InertControl {
                set: sets,
                claims: ids,
            });
        }
    }
    Ok(inert)
}

/// An [`Experiment`] seen as a [`DynExperiment`].
pub struct Erased<E>(pub E);

/// Erase an experiment's types: `vec![erase(Coin), erase(Gridworld::default())]`.
pub fn erase<E: Experiment + 'static>(e: E) -> Box<dyn DynExperiment> {
    Box::new(Erased(e))
}

/// The experiment with this id, or a [`UserError::UnknownExperiment`].
pub fn find<'a>(
    experiments: &'a [Box<dyn DynExperiment>],
    id: &str,
) -> Result<&'a dyn DynExperiment, UserError> {
    experiments
        .iter()
        .find(|e| e.id() == id)
        .map(|e| e.as_ref())
        .ok_or_else(|| UserError::UnknownExperiment {
            id: id.to_owned(),
            known: experiments
                .iter()
                .map(|e| e.id())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

impl<E: Experiment> DynExperiment for Erased<E> {
    fn id(&self) -> &'static str {
        self.0.id()
    }

    fn claim(&self) -> &'static str {
        self.0.claim()
    }

    fn model(&self) -> &'static str {
        self.0.model()
    }

    fn default_config_toml(&self, quick: bool) -> String {
        config::pretty(&config::default_table(&self.0, quick))
    }

    fn resolve(&self, overrides: &Overrides) -> Result<ResolvedConfig, UserError> {
        config::resolve(&self.0, overrides).map(|(resolved, _)| resolved)
    }

    fn resolve_text(
        &self,
        overrides: &Overrides,
        text: Option<&str>,
    ) -> Result<ResolvedConfig, UserError> {
        config::resolve_text(&self.0, overrides, text).map(|(resolved, _)| resolved)
    }

    fn sweep_len(&self, config: &ResolvedConfig) -> Result<usize, Error> {
        Ok(Sweep::new(&self.0, config)?.len())
    }

    fn stored_units(&self, config: &ResolvedConfig, dir: &Path) -> Result<BTreeSet<usize>, Error> {
        Sweep::new(&self.0, config)?.stored(dir)
    }

    fn check_stored_units(&self, config: &ResolvedConfig, dir: &Path) -> Result<(), Error> {
        let sweep = Sweep::new(&self.0, config)?;
        for index in sweep.stored(dir)? {
            sweep.load(&unit_path(&sweep, dir, index), index)?;
        }
        Ok(())
    }

    fn run(&self, config: &ResolvedConfig, opts: &RunOptions) -> Result<RunOutcome, Error> {
        let sweep = Sweep::new(&self.0, config)?;
        sweep.check_size(opts.max_units)?;
        let _lock = store::lock_folder(&opts.out)?;
        run_sweep(&sweep, config, opts)
    }

    fn finalize(&self, config: &ResolvedConfig, out: &Path) -> Result<RunOutcome, Error> {
        let sweep = Sweep::new(&self.0, config)?;
        store::claim_folder(out, config)?;
        let outcome = finalize_sweep(&sweep, config, out)?;
        // A partial folder keeps the shard it was run with (merge uses it to name absent shards).
        let shard = match &outcome {
            RunOutcome::Complete(_) => None,
            RunOutcome::Partial { .. } => {
                let path = out.join(store::MANIFEST_FILE);
                let manifest: Option<Manifest> = if path.is_file() {
                    Some(store::read_json(&path)?)
                } else {
                    None
                };
                manifest.and_then(|m| m.shard).and_then(|s| s.parse().ok())
            }
        };
        write_manifest(&sweep, out, shard, &outcome, None)?;
        Ok(outcome)
    }

    fn resolve_over(
        &self,
        config: &ResolvedConfig,
        sets: &[String],
    ) -> Result<ResolvedConfig, UserError> {
        config::resolve_over(&self.0, config, sets)
    }

    fn claims(&self, config: &ResolvedConfig) -> Result<Vec<Claim>, Error> {
        Ok(Sweep::new(&self.0, config)?.claims)
    }

    fn warnings(&self, config: &ResolvedConfig) -> Result<Vec<String>, Error> {
        let sweep = Sweep::new(&self.0, config)?;
        Ok(self.0.warnings(&sweep.config))
    }

    fn audit(&self, config: &ResolvedConfig, opts: &RunOptions) -> Result<RunOutcome, Error> {
        let sweep = Sweep::new(&self.0, config)?;
        sweep.check_size(opts.max_units)?;
        if let Some(inert) = inert_controls(self, config)?.into_iter().next() {
            return Err(UserError::InertControl {
                experiment: self.0.id().to_owned(),
                control: inert.set.join(" "),
                claims: inert.claims.join(", "),
            }
            .into());
        }
        for sets in control_sets(&sweep.claims) {
            let control = self.control_config(config, &sets)?;
            Sweep::new(&self.0, &control)?.check_size(opts.max_units)?;
        }
        // One lock for the whole audit: the main folder and the controls inside it.
        let _lock = store::lock_folder(&opts.out)?;
        let mut partial = (0, 0);
        let mut count = |outcome: &RunOutcome, len: usize| match outcome {
            RunOutcome::Complete(_) => {
                partial.0 += len;
                partial.1 += len;
            }
            RunOutcome::Partial { done, total } => {
                partial.0 += done;
                partial.1 += total;
            }
        };
        let mut controls = Vec::new();
        for (k, sets) in control_sets(&sweep.claims).iter().enumerate() {
            let control = self.control_config(config, sets)?;
            let control_opts = RunOptions {
                out: opts.out.join(control_folder(k)),
                artifacts: Some(opts.artifact_cache().dir),
                ..opts.clone()
            };
            tracing::info!(experiment = self.0.id(), control = %sets.join(" "), folder = %control_opts.out.display(), "control");
            controls.push((control, control_opts));
        }
        let control_sweeps = controls
            .iter()
            .map(|(control, _)| Sweep::new(&self.0, control))
            .collect::<Result<Vec<_>, Error>>()?;
        // The main run and every control, as one batch.
        let batch: Vec<(&Sweep<E>, &ResolvedConfig, RunOptions)> =
            std::iter::once((&sweep, config, opts.clone()))
                .chain(
                    control_sweeps
                        .iter()
                        .zip(&controls)
                        .map(|(s, (control, o))| (s, control, o.clone())),
                )
                .collect();
        let outcomes = run_sweeps(&batch, opts)?;
        for ((s, _, _), outcome) in batch.iter().zip(&outcomes) {
            count(outcome, s.len());
        }
        if partial.0 < partial.1 {
            return Ok(RunOutcome::Partial {
                done: partial.0,
                total: partial.1,
            });
        }
        self.finalize_audit(config, &opts.out)
    }

    fn finalize_audit(&self, config: &ResolvedConfig, out: &Path) -> Result<RunOutcome, Error> {
        let sweep = Sweep::new(&self.0, config)?;
        let Some((mut results, records)) = summarised(&sweep, config, out)? else {
            return self.finalize(config, out);
        };
        let mut control_results = Vec::new();
        for (k, sets) in control_sets(&sweep.claims).iter().enumerate() {
            let control = self.control_config(config, sets)?;
            let control_sweep = Sweep::new(&self.0, &control)?;
            let dir = out.join(control_folder(k));
            store::claim_folder(&dir, &control)?;
            match summarised(&control_sweep, &control, &dir)? {
                Some((r, _)) => control_results.push((sets.clone(), control_folder(k), r)),
                None => {
                    let done = control_sweep.stored(&dir)?.len();
                    return Ok(RunOutcome::Partial {
                        done,
                        total: control_sweep.len(),
                    });
                }
            }
        }
        for verdict in &mut results.verdicts {
            let claim = sweep
                .claims
                .iter()
                .find(|c| c.id == verdict.id)
                .expect("every verdict comes from a claim");
            let outcomes = claim
                .controls
                .iter()
                .map(|control| {
                    let (_, folder, r) = control_results
                        .iter()
                        .find(|(sets, _, _)| *sets == control.set)
                        .expect("every control was run");
                    ControlOutcome {
                        set: control.set.clone(),
                        why: control.why.clone(),
                        expect: control.expect,
                        verdict: r
                            .verdicts
                            .iter()
                            .find(|v| v.id == claim.id)
                            .map(|v| v.verdict),
                        folder: folder.clone(),
                    }
                })
                .collect();
            verdict.audit = Some(Audit::from_controls(verdict.verdict, outcomes));
        }
        write_finished(&sweep, config, out, &results, &records)?;
        Ok(RunOutcome::Complete(results))
    }
}

/// Check an experiment's declarations against each other before anything runs: metric names are
/// unique, every claim is well formed over the declared metrics and the conditions, claim ids are
/// unique, and every plot names a declared metric.
fn check_declarations(
    experiment: &str,
    metrics: &[String],
    claims: &[Claim],
    plots: &[crate::experiment::PlotSpec],
    conditions: &[serde_json::Map<String, serde_json::Value>],
) -> Result<(), Error> {
    let fail = |message: String| {
        Err(Error::Contract {
            experiment: experiment.to_owned(),
            message,
        })
    };
    let names: Vec<&str> = metrics.iter().map(String::as_str).collect();
    for (i, m) in names.iter().enumerate() {
        if names[..i].contains(m) {
            return fail(format!("metric '{m}' is declared twice"));
        }
    }
    for (i, c) in claims.iter().enumerate() {
        if claims[..i].iter().any(|d| d.id == c.id) {
            return fail(format!("claim id '{}' is declared twice", c.id));
        }
        if let Err(e) = claim::check(c, &names, conditions) {
            return fail(e.to_string());
        }
        if let Some(plot) = &c.plot
            && !plots.iter().any(|p| &p.file == plot)
        {
            return fail(format!(
                "claim '{}' shows plot '{plot}', which the experiment does not draw",
                c.id
            ));
        }
    }
    for p in plots {
        if !names.contains(&p.metric.as_str()) {
            return fail(format!(
                "plot '{}' names metric '{}', which the experiment does not declare",
                p.file, p.metric
            ));
        }
    }
    Ok(())
}

impl<E: Experiment> Erased<E> {
    fn control_config(
        &self,
        config: &ResolvedConfig,
        sets: &[String],
    ) -> Result<ResolvedConfig, Error> {
        config::resolve_over(&self.0, config, sets).map_err(|e| Error::Contract {
            experiment: self.0.id().to_owned(),
            message: format!("control [{}] does not resolve: {e}", sets.join(" ")),
        })
    }
}

/// Build every artifact the `wanted` lists name (and what they need) that the cache lacks: in
/// rounds, each round in parallel, an artifact once everything it needs is stored. Each list comes
/// with the sweep that wants it, whose config builds it; a key wanted by several sweeps (an audit's
/// main run and a control that leaves training alone) is built once, since an artifact is a pure
/// function of its key.
fn prepare<E: Experiment>(
    wanted: Vec<(&Sweep<E>, Vec<ArtifactKey>)>,
    cache: &ArtifactCache,
    progress: bool,
) -> Result<(), Error> {
    let Some(id) = wanted.first().map(|(sweep, _)| sweep.e.id()) else {
        return Ok(());
    };
    let mut missing: Vec<(ArtifactKey, &Sweep<E>)> = Vec::new();
    for (sweep, keys) in wanted {
        let mut stack = keys;
        while let Some(key) = stack.pop() {
            if missing.iter().any(|(k, _)| *k == key) || cache.has(&key) {
                continue;
            }
            stack.extend(sweep.e.artifact_needs(&sweep.config, &key));
            missing.push((key, sweep));
        }
    }
    missing.sort_by(|a, b| a.0.cmp(&b.0));
    if !missing.is_empty() {
        let removed = cache.remove_abandoned()?;
        if removed > 0 {
            tracing::info!(cache = %cache.dir.display(), removed, "removed abandoned temporary files");
        }
        tracing::info!(experiment = id, artifacts = missing.len(), cache = %cache.dir.display(), "building shared artifacts");
    }
    let bar = crate::progress::bar(
        &format!("{id} artifacts"),
        missing.len() as u64,
        0,
        "built",
        progress && !missing.is_empty(),
    );
    while !missing.is_empty() {
        let (ready, waiting): (Vec<_>, Vec<_>) = missing.into_iter().partition(|(key, sweep)| {
            sweep
                .e
                .artifact_needs(&sweep.config, key)
                .iter()
                .all(|need| cache.has(need))
        });
        if ready.is_empty() {
            return Err(Error::Contract {
                experiment: id.to_owned(),
                message: format!(
                    "artifacts {} need each other",
                    waiting
                        .iter()
                        .map(|(key, _)| key.file_name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        ready
            .par_iter()
            .try_for_each(|(key, sweep)| -> Result<(), Error> {
                let needs = cache.load(&sweep.e.artifact_needs(&sweep.config, key))?;
                let bytes =
                    sweep
                        .e
                        .build_artifact(&sweep.config, key, &needs, &cache.progress(key)?);
                cache.store(key, &bytes)?;
                bar.inc(1);
                Ok(())
            })?;
        missing = waiting;
    }
    bar.finish_and_clear();
    Ok(())
}

/// Check an experiment's declarations as `run` and `audit` would, without running anything: under
/// both default configs and under every control of the quick config (resolved as `cruxlab audit`
/// resolves it) the metrics, claims, plots and conditions pass the framework's checks; every claim
/// declares a control; each control's config still declares the claims that name it; and no
/// control leaves either default config as it is ([`inert_controls`]). Returns the quick config's
/// claim ids.
pub fn check_claims(e: &dyn DynExperiment) -> Result<Vec<String>, String> {
    let resolve = |quick| {
        e.resolve(&Overrides {
            quick,
            ..Overrides::default()
        })
        .map_err(|err| format!("{}: the defaults do not resolve: {err}", e.id()))
    };
    let full = e.claims(&resolve(false)?).map_err(|err| err.to_string())?;
    let quick = resolve(true)?;
    let claims = e.claims(&quick).map_err(|err| err.to_string())?;
    if let Some(c) = full.iter().chain(&claims).find(|c| c.controls.is_empty()) {
        return Err(format!("{}: claim {} declares no control", e.id(), c.id));
    }
    for sets in control_sets(&claims) {
        let controlled = e
            .resolve_over(&quick, &sets)
            .map_err(|err| format!("{}: control {sets:?} does not resolve: {err}", e.id()))?;
        let declared: Vec<String> = e
            .claims(&controlled)
            .map_err(|err| format!("{}: under control {sets:?}: {err}", e.id()))?
            .into_iter()
            .map(|c| c.id)
            .collect();
        if let Some(c) = claims
            .iter()
            .filter(|c| c.controls.iter().any(|k| k.set == sets))
            .find(|c| !declared.contains(&c.id))
        {
            return Err(format!(
                "{}: claim {} is not declared under its control {sets:?}",
                e.id(),
                c.id
            ));
        }
    }
    for (name, config) in [("full", resolve(false)?), ("quick", quick)] {
        let inert = inert_controls(e, &config).map_err(|err| err.to_string())?;
        if let Some(InertControl { set, claims }) = inert.first() {
            return Err(format!(
                "{}: control {set:?} of {} leaves the {name} config as it is",
                e.id(),
                claims.join(", ")
            ));
        }
    }
    Ok(claims.into_iter().map(|c| c.id).collect())
}

/// The conditions as the flat JSON maps results and claims read.
fn condition_maps<E: Experiment>(
    e: &E,
    conditions: &[E::Condition],
) -> Result<Vec<serde_json::Map<String, serde_json::Value>>, Error> {
    conditions
        .iter()
        .enumerate()
        .map(|(i, c)| match serde_json::to_value(c) {
            Ok(serde_json::Value::Object(map)) => Ok(map),
            Ok(other) => Err(format!("condition {i} is not a JSON object: {other}")),
            Err(err) => Err(format!("condition {i} does not serialize: {err}")),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|message| Error::Contract {
            experiment: e.id().to_owned(),
            message,
        })
}

/// The claim ids a typed `config` declares, once its declarations pass the checks `run` makes
/// (metrics, claims, plots, conditions) and every claim declares a control.
pub fn checked_claims<E: Experiment>(e: &E, config: &E::Config) -> Result<Vec<String>, String> {
    let conditions = condition_maps(e, &e.conditions(config)).map_err(|err| err.to_string())?;
    let claims = e.claims(config);
    check_declarations(
        e.id(),
        &e.metrics(config),
        &claims,
        &e.plots(config),
        &conditions,
    )
    .map_err(|err| err.to_string())?;
    if let Some(c) = claims.iter().find(|c| c.controls.is_empty()) {
        return Err(format!("{}: claim {} declares no control", e.id(), c.id));
    }
    Ok(claims.into_iter().map(|c| c.id).collect())
}

/// Measure one unit outside a sweep, building the artifacts it reads in memory (for tests and
/// callers that want one number, not a run folder).
pub fn measure_unit<E: Experiment>(
    e: &E,
    config: &E::Config,
    condition: &E::Condition,
    seed: u64,
) -> Vec<(String, f64)> {
    fn build<E: Experiment>(
        e: &E,
        config: &E::Config,
        key: &ArtifactKey,
        built: &mut Vec<(ArtifactKey, Vec<u8>)>,
    ) {
        if built.iter().any(|(k, _)| k == key) {
            return;
        }
        let needs = e.artifact_needs(config, key);
        for need in &needs {
            build(e, config, need, built);
        }
        let inputs = artifact::Artifacts::from_built(
            built
                .iter()
                .filter(|(k, _)| needs.contains(k))
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let bytes = e.build_artifact(config, key, &inputs, &artifact::Progress::none());
        built.push((key.clone(), bytes));
    }
    let mut built = Vec::new();
    let keys = e.artifacts(config, condition, seed);
    for key in &keys {
        build(e, config, key, &mut built);
    }
    let artifacts =
        artifact::Artifacts::from_built(built.into_iter().filter(|(k, _)| keys.contains(k)));
    e.measure(config, condition, seed, &artifacts)
}

/// Measure every condition of `config` under `seed` and check that the metrics emitted are exactly
/// the declared ones: none undeclared, none declared and never emitted (tests).
pub fn check_metrics_emitted<E: Experiment>(
    e: &E,
    config: &E::Config,
    seed: u64,
) -> Result<(), String> {
    let declared = e.metrics(config);
    let mut seen = BTreeSet::new();
    for condition in e.conditions(config) {
        for (name, _) in measure_unit(e, config, &condition, seed) {
            if !declared.contains(&name) {
                return Err(format!("'{}' emits undeclared metric '{name}'", e.id()));
            }
            seen.insert(name);
        }
    }
    let never: Vec<&String> = declared.iter().filter(|m| !seen.contains(*m)).collect();
    if never.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "'{}' declares metrics it never emits: {never:?}",
            e.id()
        ))
    }
}

/// A typed config and its grid, ready to run.
struct Sweep<'a, E: Experiment> {
    e: &'a E,
    config: E::Config,
    conditions: Vec<E::Condition>,
    condition_json: Vec<serde_json::Map<String, serde_json::Value>>,
    seeds: u64,
    metrics: Vec<String>,
    claims: Vec<Claim>,
    config_hash: String,
}

impl<'a, E: Experiment> Sweep<'a, E> {
    fn new(e: &'a E, resolved: &ResolvedConfig) -> Result<Self, Error> {
        if resolved.experiment != e.id() {
            return Err(Error::Contract {
                experiment: e.id().to_owned(),
                message: format!(
                    "given a config resolved for experiment '{}'",
                    resolved.experiment
                ),
            });
        }
        let config = config::typed(e, &resolved.table, &resolved.origins)?;
        let conditions = e.conditions(&config);
        let condition_json = condition_maps(e, &conditions)?;
        let seeds = match resolved.table.get("seeds") {
            Some(toml::Value::Integer(n)) if *n >= 1 => *n as u64,
            _ => {
                return Err(Error::Contract {
                    experiment: e.id().to_owned(),
                    message: "the config needs a top-level integer `seeds` key of at least 1"
                        .into(),
                });
            }
        };
        let metrics = e.metrics(&config);
        let claims = e.claims(&config);
        let config_hash = store::config_hash(resolved, &e.code_version(&config));
        check_declarations(
            e.id(),
            &metrics,
            &claims,
            &e.plots(&config),
            &condition_json,
        )?;
        Ok(Sweep {
            e,
            config,
            conditions,
            condition_json,
            seeds,
            metrics,
            claims,
            config_hash,
        })
    }

    fn len(&self) -> usize {
        self.conditions.len() * self.seeds as usize
    }

    /// Refuse a sweep larger than `max` units (or too large to count) before anything is written.
    fn check_size(&self, max: usize) -> Result<(), Error> {
        let units = (self.conditions.len() as u128) * u128::from(self.seeds);
        if units > max as u128 {
            return Err(UserError::SweepTooLarge {
                experiment: self.e.id().to_owned(),
                conditions: self.conditions.len(),
                seeds: self.seeds,
                limit: max,
            }
            .into());
        }
        Ok(())
    }

    /// (condition index, seed) of unit `index`.
    fn unit(&self, index: usize) -> (usize, u64) {
        (index / self.seeds as usize, index as u64 % self.seeds)
    }

    fn index(&self, condition_index: usize, seed: u64) -> Option<usize> {
        (condition_index < self.conditions.len() && seed < self.seeds)
            .then(|| condition_index * self.seeds as usize + seed as usize)
    }

    /// The artifacts unit `index` reads.
    fn artifact_keys(&self, index: usize) -> Vec<ArtifactKey> {
        let (condition_index, seed) = self.unit(index);
        self.e
            .artifacts(&self.config, &self.conditions[condition_index], seed)
    }

    fn measure(&self, index: usize, cache: &ArtifactCache) -> Result<UnitRecord, Error> {
        let (condition_index, seed) = self.unit(index);
        let artifacts = cache.load(&self.artifact_keys(index))?;
        let mut metrics: Vec<(String, Option<f64>)> = Vec::new();
        for (name, value) in self.e.measure(
            &self.config,
            &self.conditions[condition_index],
            seed,
            &artifacts,
        ) {
            if !self.metrics.contains(&name) {
                return Err(Error::Contract {
                    experiment: self.e.id().to_owned(),
                    message: format!(
                        "measure emitted metric '{name}', which the experiment does not declare"
                    ),
                });
            }
            if value.is_infinite() {
                tracing::warn!(experiment = self.e.id(), metric = %name, condition_index, seed, "infinite value treated as NaN");
            }
            let value = value.is_finite().then_some(value);
            match metrics.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => {
                    tracing::warn!(experiment = self.e.id(), metric = %name, "metric measured twice; keeping the last");
                    slot.1 = value;
                }
                None => metrics.push((name, value)),
            }
        }
        Ok(UnitRecord {
            experiment: self.e.id().to_owned(),
            condition_index,
            seed,
            condition: serde_json::Value::Object(self.condition_json[condition_index].clone()),
            metrics,
            config: self.config_hash.clone(),
        })
    }

    /// Read a stored unit and check it belongs to this sweep.
    fn load(&self, path: &Path, index: usize) -> Result<UnitRecord, Error> {
        let record: UnitRecord = store::read_json(path)?;
        let (condition_index, seed) = self.unit(index);
        let bad = |message: String| {
            Err(Error::BadUnit {
                path: path.to_path_buf(),
                message,
            })
        };
        if record.experiment != self.e.id() {
            return bad(format!(
                "belongs to experiment '{}', not '{}'",
                record.experiment,
                self.e.id()
            ));
        }
        if record.config != self.config_hash {
            return bad(format!(
                "was measured under another config or code version (hash '{}', this run's is '{}'); move it away or use another --out",
                record.config, self.config_hash
            ));
        }
        if (record.condition_index, record.seed) != (condition_index, seed) {
            return bad(format!(
                "holds condition {} seed {}",
                record.condition_index, record.seed
            ));
        }
        if record.condition.as_object() != Some(&self.condition_json[condition_index]) {
            return bad(format!(
                "holds condition {} where the sweep has {}",
                record.condition,
                serde_json::Value::Object(self.condition_json[condition_index].clone())
            ));
        }
        Ok(record)
    }

    /// Indices of the sweep's units stored in `dir` (by file name).
    fn stored(&self, dir: &Path) -> Result<BTreeSet<usize>, Error> {
        Ok(store::list_units(dir)?
            .keys()
            .filter_map(|&(c, s)| self.index(c, s))
            .collect())
    }
}

fn unit_path<E: Experiment>(sweep: &Sweep<E>, dir: &Path, index: usize) -> PathBuf {
    let (condition_index, seed) = sweep.unit(index);
    dir.join(store::UNITS_DIR)
        .join(store::unit_file_name(condition_index, seed))
}

fn run_sweep<E: Experiment>(
    sweep: &Sweep<E>,
    config: &ResolvedConfig,
    opts: &RunOptions,
) -> Result<RunOutcome, Error> {
    let mut outcomes = run_sweeps(&[(sweep, config, opts.clone())], opts)?;
    Ok(outcomes.pop().expect("one outcome per sweep"))
}

/// A sweep whose folder is claimed and scanned, with the units still to measure.
struct Pending<'a, E: Experiment> {
    sweep: &'a Sweep<'a, E>,
    config: &'a ResolvedConfig,
    opts: &'a RunOptions,
    todo: Vec<usize>,
    measured: AtomicUsize,
}

/// Run several sweeps of one experiment as one batch (an audit's main run and its controls):
/// every folder is claimed and scanned first, then every missing artifact of all of them is built
/// in one parallel stage, then every remaining unit of all of them is measured in one parallel
/// loop, so that no core idles at the tail of one sweep while another waits. Each sweep keeps its
/// own folder, manifest and results, exactly as a run of it alone would write them. `batch` gives
/// the thread count, the progress bar and `stop_after` (counted over the whole batch).
fn run_sweeps<E: Experiment>(
    sweeps: &[(&Sweep<E>, &ResolvedConfig, RunOptions)],
    batch: &RunOptions,
) -> Result<Vec<RunOutcome>, Error> {
    let started_at = Instant::now();
    let mut pending = Vec::with_capacity(sweeps.len());
    for (sweep, config, opts) in sweeps {
        pending.push(begin_sweep(sweep, config, opts)?);
    }
    let units: u64 = pending.iter().map(|p| p.shard_units() as u64).sum();
    let todo: Vec<(usize, usize)> = pending
        .iter()
        .enumerate()
        .flat_map(|(k, p)| p.todo.iter().map(move |&index| (k, index)))
        .collect();
    let Some(first) = pending.first() else {
        return Ok(Vec::new());
    };
    let bar = crate::progress::bar(
        first.sweep.e.id(),
        units,
        units - todo.len() as u64,
        "units",
        batch.progress,
    );
    let tickets = AtomicUsize::new(0);
    let cache = batch.artifact_cache();
    let work = || {
        // The prepare stage: every artifact the remaining units read, built once, in parallel.
        let wanted = pending
            .iter()
            .map(|p| {
                let mut keys: Vec<ArtifactKey> = Vec::new();
                for &index in &p.todo {
                    for key in p.sweep.artifact_keys(index) {
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                }
                (p.sweep, keys)
            })
            .collect();
        prepare(wanted, &cache, batch.progress)?;
        todo.par_iter()
            .try_for_each(|&(k, index)| -> Result<(), Error> {
                if batch
                    .stop_after
                    .is_some_and(|limit| tickets.fetch_add(1, Ordering::SeqCst) >= limit)
                {
                    return Ok(());
                }
                let p = &pending[k];
                let record = p.sweep.measure(index, &cache)?;
                let mut bytes = serde_json::to_vec(&record).expect("a unit record serializes");
                bytes.push(b'\n');
                store::write_atomic(&unit_path(p.sweep, &p.opts.out, index), &bytes)?;
                p.measured.fetch_add(1, Ordering::Relaxed);
                bar.inc(1);
                Ok(())
            })
    };
    let result = match batch.threads {
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::ThreadPool(e.to_string()))?
            .install(work),
        None => work(),
    };
    bar.finish_and_clear();
    result?;
    pending
        .iter()
        .map(|p| finish_sweep(p, batch, started_at))
        .collect()
}

impl<E: Experiment> Pending<'_, E> {
    fn shard_units(&self) -> usize {
        (0..self.sweep.len())
            .filter(|index| self.opts.shard.is_none_or(|s| s.contains(*index)))
            .count()
    }
}

/// Claim a sweep's folder, keep the stored units that read back, and write the manifest of a
/// partial run before anything is measured.
fn begin_sweep<'a, E: Experiment>(
    sweep: &'a Sweep<'a, E>,
    config: &'a ResolvedConfig,
    opts: &'a RunOptions,
) -> Result<Pending<'a, E>, Error> {
    let dir = opts.out.as_path();
    store::claim_folder(dir, config)?;
    // A shard run must not relabel a folder that holds the complete, unsharded run.
    let manifest_path = dir.join(store::MANIFEST_FILE);
    if let Some(shard) = opts.shard
        && manifest_path.is_file()
    {
        let manifest: Manifest = store::read_json(&manifest_path)?;
        if manifest.complete && manifest.shard.is_none() {
            return Err(UserError::Usage(format!(
                "--shard {shard}: {} holds the complete unsharded run; give the shard its own --out",
                dir.display()
            ))
            .into());
        }
    }

    // Resume: keep the stored units that read back; re-measure unreadable ones.
    let mut present = BTreeSet::new();
    for index in sweep.stored(dir)? {
        let path = unit_path(sweep, dir, index);
        match sweep.load(&path, index) {
            Ok(_) => {
                present.insert(index);
            }
            Err(Error::Json { path, reason }) => {
                tracing::warn!(path = %path.display(), error = %reason, "unreadable unit file; measuring it again");
            }
            Err(e) => return Err(e),
        }
    }
    let in_shard = |index: &usize| opts.shard.is_none_or(|s| s.contains(*index));
    let todo: Vec<usize> = (0..sweep.len())
        .filter(in_shard)
        .filter(|i| !present.contains(i))
        .collect();
    let pending = Pending {
        sweep,
        config,
        opts,
        todo,
        measured: AtomicUsize::new(0),
    };
    let shard_units = pending.shard_units();
    tracing::info!(
        experiment = sweep.e.id(),
        dir = %dir.display(),
        shard = opts.shard.map(|s| s.to_string()),
        units = shard_units,
        stored = shard_units - pending.todo.len(),
        "running sweep"
    );

    // The manifest goes down before any unit is measured, so that a run killed part-way is still a
    // run folder (experiment and shard) that `merge` and a resumed run recognise.
    let before = RunOutcome::Partial {
        done: present.len(),
        total: sweep.len(),
    };
    write_manifest(sweep, dir, opts.shard, &before, None)?;
    Ok(pending)
}

/// Finalize a sweep of a batch whose units have all been measured (or stopped).
fn finish_sweep<E: Experiment>(
    p: &Pending<'_, E>,
    batch: &RunOptions,
    started_at: Instant,
) -> Result<RunOutcome, Error> {
    let dir = p.opts.out.as_path();
    let outcome = finalize_sweep(p.sweep, p.config, dir)?;
    let last_run = LastRun {
        threads: batch.threads.unwrap_or_else(rayon::current_num_threads),
        units_measured: p.measured.load(Ordering::Relaxed),
        wall_seconds: started_at.elapsed().as_secs_f64(),
    };
    write_manifest(p.sweep, dir, p.opts.shard, &outcome, Some(last_run))?;
    match &outcome {
        RunOutcome::Complete(_) => {
            tracing::info!(experiment = p.sweep.e.id(), dir = %dir.display(), "sweep complete")
        }
        RunOutcome::Partial { done, total } => {
            tracing::info!(experiment = p.sweep.e.id(), dir = %dir.display(), done, total, "sweep partial")
        }
    }
    Ok(outcome)
}

fn write_manifest<E: Experiment>(
    sweep: &Sweep<E>,
    dir: &Path,
    shard: Option<Shard>,
    outcome: &RunOutcome,
    last_run: Option<LastRun>,
) -> Result<(), Error> {
    let stored = sweep.stored(dir)?;
    let in_shard = |index: &usize| shard.is_none_or(|s| s.contains(*index));
    let manifest = Manifest {
        experiment: sweep.e.id().to_owned(),
        shard: shard.map(|s| s.to_string()),
        sweep_units: sweep.len(),
        sweep_done: stored.len(),
        shard_units: (0..sweep.len()).filter(in_shard).count(),
        shard_done: stored.iter().filter(|i| in_shard(i)).count(),
        complete: matches!(outcome, RunOutcome::Complete(_)),
        last_run,
    };
    store::write_json(&dir.join(store::MANIFEST_FILE), &manifest)
}

/// If `dir` holds every unit: the results (verdicts without audits) and the unit records in
/// sweep order.
fn summarised<E: Experiment>(
    sweep: &Sweep<E>,
    config: &ResolvedConfig,
    dir: &Path,
) -> Result<Option<(Results, Vec<UnitRecord>)>, Error> {
    let stored = sweep.stored(dir)?;
    if stored.len() < sweep.len() {
        return Ok(None);
    }
    let records = (0..sweep.len())
        .map(|index| sweep.load(&unit_path(sweep, dir, index), index))
        .collect::<Result<Vec<_>, _>>()?;
    let mut results = finalize::summarise(
        sweep.e.id(),
        config.to_json(),
        &sweep.condition_json,
        &records,
        sweep.e.robust_intervals(),
    );
    results.warnings = sweep.e.warnings(&sweep.config);
    results.verdicts = sweep
        .claims
        .iter()
        .map(|claim| {
            let (verdict, evidence) = claim::evaluate(claim, &results);
            Verdict {
                id: claim.id.clone(),
                claim: claim.statement.clone(),
                verdict,
                rule: claim.rule(),
                evidence,
                controls: claim.controls.clone(),
                audit: None,
                plot: claim.plot.clone(),
            }
        })
        .collect();
    Ok(Some((results, records)))
}

/// Write results, CSV, plots, figures and report of a complete sweep.
fn write_finished<E: Experiment>(
    sweep: &Sweep<E>,
    config: &ResolvedConfig,
    dir: &Path,
    results: &Results,
    records: &[UnitRecord],
) -> Result<(), Error> {
    let plots = sweep.e.plots(&sweep.config);
    let figures = sweep.e.figures(&sweep.config);
    let text = ReportText {
        id: sweep.e.id(),
        claim: sweep.e.claim(),
        model: sweep.e.model(),
        config: &config.toml,
    };
    finalize::write_outputs(
        dir,
        results,
        records,
        &sweep.condition_json,
        &plots,
        &figures,
        &text,
    )
}

/// If `dir` holds every unit: summarise them (in sweep order), compute verdicts, write outputs.
fn finalize_sweep<E: Experiment>(
    sweep: &Sweep<E>,
    config: &ResolvedConfig,
    dir: &Path,
) -> Result<RunOutcome, Error> {
    match summarised(sweep, config, dir)? {
        Some((results, records)) => {
            write_finished(sweep, config, dir, &results, &records)?;
            Ok(RunOutcome::Complete(results))
        }
        None => Ok(RunOutcome::Partial {
            done: sweep.stored(dir)?.len(),
            total: sweep.len(),
        }),
    }
}

/// Merge the run folders of shards (or any runs of the same experiment and config) into `out`,
/// which may be one of them: copy their units, check the sweep is complete, finalize. Folders of
/// an audit (`cruxlab audit --shard`) have their controls merged too, and the audit attached.
pub fn merge(
    experiments: &[Box<dyn DynExperiment>],
    dirs: &[PathBuf],
    out: &Path,
) -> Result<Results, Error> {
    // The lock on `out`, taken once the inputs are checked, is held through the controls and
    // the audit.
    let (results, _lock) = merge_one(experiments, dirs, out)?;
    let mut names = BTreeSet::new();
    for dir in dirs {
        let controls = dir.join(CONTROLS_DIR);
        if controls.is_dir() {
            for entry in std::fs::read_dir(&controls).map_err(Error::io(&controls))? {
                let entry = entry.map_err(Error::io(&controls))?;
                if entry.path().is_dir() {
                    names.insert(entry.file_name());
                }
            }
        }
    }
    if names.is_empty() {
        return Ok(results);
    }
    for name in &names {
        let inputs: Vec<PathBuf> = dirs
            .iter()
            .map(|d| d.join(CONTROLS_DIR).join(name))
            .filter(|d| d.is_dir())
            .collect();
        merge_one(experiments, &inputs, &out.join(CONTROLS_DIR).join(name))?;
    }
    let experiment = find(experiments, &results.experiment)?;
    let config = store::read_run_folder(out)?.config;
    match experiment.finalize_audit(&config, out)? {
        RunOutcome::Complete(results) => Ok(results),
        RunOutcome::Partial { done, total } => Err(UserError::Incomplete {
            missing: total - done,
            total,
            absent_shards: Vec::new(),
        }
        .into()),
    }
}

fn merge_one(
    experiments: &[Box<dyn DynExperiment>],
    dirs: &[PathBuf],
    out: &Path,
) -> Result<(Results, store::FolderLock), Error> {
    let folders = dirs
        .iter()
        .map(|d| store::read_run_folder(d))
        .collect::<Result<Vec<_>, _>>()?;
    let first = folders.first().ok_or(UserError::NothingToMerge)?;
    // An existing output folder must hold the same run; it is checked here, before anything is
    // written, like the inputs.
    let existing_out =
        if out.join(store::CONFIG_FILE).is_file() && out.join(store::MANIFEST_FILE).is_file() {
            Some(store::read_run_folder(out)?)
        } else {
            None
        };
    for folder in folders[1..].iter().chain(existing_out.as_ref()) {
        if folder.experiment != first.experiment {
            return Err(UserError::ExperimentMismatch {
                dir: folder.dir.clone(),
                found: folder.experiment.clone(),
                expected: first.experiment.clone(),
            }
            .into());
        }
        if folder.config.toml != first.config.toml {
            let detail = store::first_difference(&first.config.table, &folder.config.table, "")
                .map(|d| format!("{d} than in {}", first.dir.display()))
                .unwrap_or_else(|| "formatting".into());
            return Err(UserError::ConfigMismatch {
                dir: folder.dir.clone(),
                detail,
            }
            .into());
        }
    }
    let experiment = find(experiments, &first.experiment)?;
    let config = first.config.clone();
    let total = experiment.sweep_len(&config)?;

    // Check that the folders cover the sweep before writing anything.
    let mut covered = BTreeSet::new();
    for dir in folders
        .iter()
        .map(|f| f.dir.as_path())
        .chain(out.is_dir().then_some(out))
    {
        covered.extend(experiment.stored_units(&config, dir)?);
    }
    if covered.len() < total {
        return Err(UserError::Incomplete {
            missing: total - covered.len(),
            total,
            absent_shards: absent_shards(&folders, total, |index| covered.contains(&index)),
        }
        .into());
    }
    // Every unit must read back as this config's (and this code's) before any is copied: a shard
    // measured by another code version has the same config text but not the same unit hash.
    for dir in folders
        .iter()
        .map(|f| f.dir.as_path())
        .chain(out.is_dir().then_some(out))
    {
        experiment.check_stored_units(&config, dir)?;
    }

    // Lock and claim `out` (refusing another writer, experiment or config) before copying
    // anything into it.
    let lock = store::lock_folder(out)?;
    store::claim_folder(out, &config)?;
    if !out.join(store::MANIFEST_FILE).is_file() {
        let manifest = Manifest {
            experiment: first.experiment.clone(),
            shard: None,
            sweep_units: total,
            sweep_done: 0,
            shard_units: total,
            shard_done: 0,
            complete: false,
            last_run: None,
        };
        store::write_json(&out.join(store::MANIFEST_FILE), &manifest)?;
    }
    let out_canonical = out.canonicalize().map_err(Error::io(out))?;
    let units_out = out.join(store::UNITS_DIR);
    std::fs::create_dir_all(&units_out).map_err(Error::io(&units_out))?;
    for folder in &folders {
        if folder.dir.canonicalize().map_err(Error::io(&folder.dir))? == out_canonical {
            continue;
        }
        let existing = store::list_units(out)?;
        for (key, path) in store::list_units(&folder.dir)? {
            if existing.contains_key(&key) {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
            store::write_atomic(&units_out.join(store::unit_file_name(key.0, key.1)), &bytes)?;
        }
    }

    match experiment.finalize(&config, out)? {
        RunOutcome::Complete(results) => Ok((results, lock)),
        RunOutcome::Partial { done, total } => {
            let stored = experiment.stored_units(&config, out)?;
            let absent_shards = absent_shards(&folders, total, |index| stored.contains(&index));
            Err(UserError::Incomplete {
                missing: total - done,
                total,
                absent_shards,
            }
            .into())
        }
    }
}

/// The shards `K/N` (for each N the folders were run with) of which no folder was run and whose
/// units are missing.
fn absent_shards(
    folders: &[store::RunFolder],
    total: usize,
    stored: impl Fn(usize) -> bool,
) -> Vec<String> {
    let counts: BTreeSet<usize> = folders
        .iter()
        .filter_map(|f| f.shard.map(|s| s.count))
        .collect();
    let mut absent = Vec::new();
    for count in counts {
        for index in 1..=count {
            let shard = Shard { index, count };
            let ran = folders.iter().any(|f| f.shard == Some(shard));
            let missing = (0..total)
                .filter(|u| shard.contains(*u))
                .any(|u| !stored(u));
            if !ran && missing {
                absent.push(shard.to_string());
            }
        }
    }
    absent
}
