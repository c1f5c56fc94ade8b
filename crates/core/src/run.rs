//! Running a sweep: the object-safe [`DynExperiment`] the CLI holds, the parallel and resumable
//! run of all units (or of one shard), merging shards, and finalizing a complete sweep.
//!
//! The sweep is the list of units (condition index, seed) for every condition of
//! `Experiment::conditions` and seeds `0..seeds`, condition-major: unit `i` is condition
//! `i / seeds`, seed `i % seeds`. Units run in parallel with rayon; each is stored as soon as it
//! is finished, atomically, so an interrupted run resumes where it stopped. Everything written to
//! `results.json` is computed from the stored units in sweep order, so it is byte-identical
//! whatever the thread count, the interruptions, or the sharding.

use crate::config::{self, Overrides, ResolvedConfig};
use crate::error::{Error, UserError};
use crate::experiment::{Experiment, Results};
use crate::finalize::{self, ReportText};
use crate::shard::Shard;
use crate::store::{self, LastRun, Manifest, UnitRecord};
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::io::IsTerminal;
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
    /// Show a progress bar on stderr (only when stderr is a terminal).
    pub progress: bool,
    /// Run in a rayon pool of this many threads (default: rayon's global pool).
    pub threads: Option<usize>,
    /// Stop after this many newly finished units (simulates an interruption, for tests).
    pub stop_after: Option<usize>,
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
        }
    }
}

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
    /// Number of units (conditions x seeds) in the sweep of `config`.
    fn sweep_len(&self, config: &ResolvedConfig) -> Result<usize, Error>;
    /// Indices (in the sweep) of the units of `config` stored in run folder `dir`, by file name.
    fn stored_units(&self, config: &ResolvedConfig, dir: &Path) -> Result<BTreeSet<usize>, Error>;
    /// Run the sweep (or `opts.shard` of it) into `opts.out`, resuming from the units already
    /// there; finalize when the folder holds the whole sweep. A folder of another experiment or
    /// config is refused ([`UserError`]). A panic in `measure` propagates; stored units are kept.
    fn run(&self, config: &ResolvedConfig, opts: &RunOptions) -> Result<RunOutcome, Error>;
    /// Summarise and write results, CSV, plots and report from the units in `out`, if the sweep is
    /// complete there (else `Partial`, writing only `config.toml` and `run.json`). Re-renders a
    /// finished folder.
    fn finalize(&self, config: &ResolvedConfig, out: &Path) -> Result<RunOutcome, Error>;
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

    fn sweep_len(&self, config: &ResolvedConfig) -> Result<usize, Error> {
        Ok(Sweep::new(&self.0, config)?.len())
    }

    fn stored_units(&self, config: &ResolvedConfig, dir: &Path) -> Result<BTreeSet<usize>, Error> {
        Sweep::new(&self.0, config)?.stored(dir)
    }

    fn run(&self, config: &ResolvedConfig, opts: &RunOptions) -> Result<RunOutcome, Error> {
        run_sweep(&Sweep::new(&self.0, config)?, config, opts)
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
}

/// A typed config and its grid, ready to run.
struct Sweep<'a, E: Experiment> {
    e: &'a E,
    config: E::Config,
    conditions: Vec<E::Condition>,
    condition_json: Vec<serde_json::Map<String, serde_json::Value>>,
    seeds: u64,
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
        let condition_json = conditions
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
            })?;
        let seeds = e.seeds(&config);
        Ok(Sweep {
            e,
            config,
            conditions,
            condition_json,
            seeds,
        })
    }

    fn len(&self) -> usize {
        self.conditions.len() * self.seeds as usize
    }

    /// (condition index, seed) of unit `index`.
    fn unit(&self, index: usize) -> (usize, u64) {
        (index / self.seeds as usize, index as u64 % self.seeds)
    }

    fn index(&self, condition_index: usize, seed: u64) -> Option<usize> {
        (condition_index < self.conditions.len() && seed < self.seeds)
            .then(|| condition_index * self.seeds as usize + seed as usize)
    }

    fn measure(&self, index: usize) -> UnitRecord {
        let (condition_index, seed) = self.unit(index);
        let mut metrics: Vec<(String, Option<f64>)> = Vec::new();
        for (name, value) in self
            .e
            .measure(&self.config, &self.conditions[condition_index], seed)
        {
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
        UnitRecord {
            experiment: self.e.id().to_owned(),
            condition_index,
            seed,
            condition: serde_json::Value::Object(self.condition_json[condition_index].clone()),
            metrics,
        }
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

fn progress_bar(id: &str, len: usize, done: usize, show: bool) -> indicatif::ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} units (eta {eta})",
    )
    .expect("progress template is valid");
    bar.set_style(style);
    bar.set_prefix(id.to_owned());
    bar.set_position(done as u64);
    bar
}

fn run_sweep<E: Experiment>(
    sweep: &Sweep<E>,
    config: &ResolvedConfig,
    opts: &RunOptions,
) -> Result<RunOutcome, Error> {
    let started_at = Instant::now();
    let dir = opts.out.as_path();
    store::claim_folder(dir, config)?;

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
    let shard_units = (0..sweep.len()).filter(in_shard).count();
    let todo: Vec<usize> = (0..sweep.len())
        .filter(in_shard)
        .filter(|i| !present.contains(i))
        .collect();
    tracing::info!(
        experiment = sweep.e.id(),
        dir = %dir.display(),
        shard = opts.shard.map(|s| s.to_string()),
        units = shard_units,
        stored = shard_units - todo.len(),
        "running sweep"
    );

    // The manifest goes down before any unit is measured, so that a run killed part-way is still a
    // run folder (experiment and shard) that `merge` and a resumed run recognise.
    let before = RunOutcome::Partial {
        done: present.len(),
        total: sweep.len(),
    };
    write_manifest(sweep, dir, opts.shard, &before, None)?;

    let bar = progress_bar(
        sweep.e.id(),
        shard_units,
        shard_units - todo.len(),
        opts.progress,
    );
    let tickets = AtomicUsize::new(0);
    let measured = AtomicUsize::new(0);
    let work = || {
        todo.par_iter().try_for_each(|&index| -> Result<(), Error> {
            if opts
                .stop_after
                .is_some_and(|limit| tickets.fetch_add(1, Ordering::SeqCst) >= limit)
            {
                return Ok(());
            }
            let record = sweep.measure(index);
            let mut bytes = serde_json::to_vec(&record).expect("a unit record serializes");
            bytes.push(b'\n');
            store::write_atomic(&unit_path(sweep, dir, index), &bytes)?;
            measured.fetch_add(1, Ordering::Relaxed);
            bar.inc(1);
            Ok(())
        })
    };
    let result = match opts.threads {
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| Error::ThreadPool(e.to_string()))?
            .install(work),
        None => work(),
    };
    bar.finish_and_clear();
    result?;

    let outcome = finalize_sweep(sweep, config, dir)?;
    let last_run = LastRun {
        threads: opts.threads.unwrap_or_else(rayon::current_num_threads),
        units_measured: measured.load(Ordering::Relaxed),
        wall_seconds: started_at.elapsed().as_secs_f64(),
    };
    write_manifest(sweep, dir, opts.shard, &outcome, Some(last_run))?;
    match &outcome {
        RunOutcome::Complete(_) => {
            tracing::info!(experiment = sweep.e.id(), dir = %dir.display(), "sweep complete")
        }
        RunOutcome::Partial { done, total } => {
            tracing::info!(experiment = sweep.e.id(), dir = %dir.display(), done, total, "sweep partial")
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

/// If `dir` holds every unit: summarise them (in sweep order), compute verdicts, write outputs.
fn finalize_sweep<E: Experiment>(
    sweep: &Sweep<E>,
    config: &ResolvedConfig,
    dir: &Path,
) -> Result<RunOutcome, Error> {
    let stored = sweep.stored(dir)?;
    if stored.len() < sweep.len() {
        return Ok(RunOutcome::Partial {
            done: stored.len(),
            total: sweep.len(),
        });
    }
    let records = (0..sweep.len())
        .map(|index| sweep.load(&unit_path(sweep, dir, index), index))
        .collect::<Result<Vec<_>, _>>()?;
    let mut results = finalize::summarise(
        sweep.e.id(),
        config.to_json(),
        &sweep.condition_json,
        &records,
    );
    results.verdicts = sweep.e.verdicts(&sweep.config, &results);
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
        &results,
        &records,
        &sweep.condition_json,
        &plots,
        &figures,
        &text,
    )?;
    Ok(RunOutcome::Complete(results))
}

/// Merge the run folders of shards (or any runs of the same experiment and config) into `out`,
/// which may be one of them: copy their units, check the sweep is complete, finalize.
pub fn merge(
    experiments: &[Box<dyn DynExperiment>],
    dirs: &[PathBuf],
    out: &Path,
) -> Result<Results, Error> {
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

    // Claim `out` (refusing another experiment or config) before copying anything into it.
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
        RunOutcome::Complete(results) => Ok(results),
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
