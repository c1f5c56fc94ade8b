//! The `cruxlab` command: parse the arguments, dispatch to the library crates, print. No science here.

mod bargain;
mod safety;
mod scaling;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use cruxlab_agents::{AgentKind, play};
use cruxlab_core::{DynExperiment, Overrides, ResolvedConfig, RunOptions, RunOutcome, Shard};
use cruxlab_grid::{Level, LevelSpec, ObjectKind};

/// Training allocates and frees megabyte tensors at every op; mimalloc reuses those blocks where
/// the system allocator hands out fresh zeroed pages (about 2x on the update phase, see
/// docs/benchmarks.md). Results do not depend on the allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cruxlab",
    version,
    about = "Alignment cruxes as runnable, measured experiments"
)]
struct Cli {
    /// Worker threads for sweeps (default: all cores). Results do not depend on it.
    #[arg(long, global = true)]
    threads: Option<usize>,
    /// The largest sweep (conditions x seeds, per run, control or sample) a command may start;
    /// a larger one is refused before anything is written.
    #[arg(long, global = true, default_value_t = cruxlab_core::DEFAULT_MAX_UNITS)]
    max_units: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the experiments and the claim each one tests.
    List,
    /// Show an experiment's claim, model and default config (TOML).
    Show {
        experiment: String,
        /// Show the quick config instead of the full one.
        #[arg(long)]
        quick: bool,
    },
    /// Run one experiment's sweep and write its run folder.
    Run {
        experiment: String,
        #[command(flatten)]
        config: ConfigArgs,
        /// Run folder (default: runs/EXPERIMENT, or runs/EXPERIMENT-quick with --quick).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only shard K of N (1-based), e.g. for a Slurm job array; combine with `merge`.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
    /// Run an experiment and every control its claims declare (each a sweep of its own, in
    /// OUT/controls/NN), and report per claim whether a control flipped its verdict.
    Audit {
        experiment: String,
        #[command(flatten)]
        config: ConfigArgs,
        /// Run folder (default: runs/ID-audit, or runs/ID-quick-audit with --quick).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only shard K of N of every sweep (merge the folders afterwards).
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
    /// How each claim's verdict depends on the model's assumptions: run the experiment at
    /// Sobol-sampled points of the box of varied config keys and report, per claim, the share
    /// supported / refuted / inconclusive and the key that moves it most.
    Sensitivity {
        experiment: String,
        #[command(flatten)]
        config: ConfigArgs,
        /// A numeric config key and its range, KEY=LO..HI (repeatable).
        #[arg(long = "vary", value_name = "KEY=LO..HI", required = true)]
        vary: Vec<String>,
        /// Number of sampled points.
        #[arg(long, default_value_t = 64)]
        samples: usize,
        /// Output folder (default: runs/ID-sensitivity).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run every experiment and write an index.html linking their reports.
    Suite {
        /// Quick configs, sized to finish in minutes on a laptop; audits them too.
        #[arg(long)]
        quick: bool,
        /// Audit every experiment (run its claims' controls); on by default with --quick.
        #[arg(long)]
        audit: bool,
        /// Output folder (default: runs/suite, or runs/suite-quick with --quick).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Combine shard folders of one run into a finished run folder.
    Merge {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged run goes (default: the first folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a level as text, or draw it as PNG.
    Render {
        #[command(flatten)]
        source: LevelArgs,
        /// Write a PNG here instead of printing text.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        /// Shade floor cells by the diamond cue field in the PNG.
        #[arg(long)]
        cue: bool,
    },
    /// Play one planner episode and show where it spent its compute (text summary, optional PNG).
    Trace {
        #[command(flatten)]
        source: LevelArgs,
        /// The planner: bfs, astar, altK (alt4), cue, cue-rR-nA (cue-r4, cue-n2) or tableT (table64).
        #[arg(long, default_value = "astar")]
        agent: String,
        /// Per-decision expansion budget (default: unbounded).
        #[arg(long)]
        budget: Option<u64>,
        /// The target the planner was built for.
        #[arg(long, default_value = "diamond")]
        target: String,
        /// Swap the target to this kind before the episode.
        #[arg(long, value_name = "KIND")]
        swap_to: Option<String>,
        /// With --swap-to: re-derive the heuristic for the new target (default: keep it as it was).
        #[arg(long, requires = "swap_to")]
        rederive: bool,
        /// Write the picture (expansions per cell, path walked) here.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
    },
    /// Scaling laws: fit, predict, plan.
    Scaling(scaling::ScalingArgs),
    /// Open-source game theory and bargaining: modal-agent matchups and more.
    Bargain(bargain::BargainArgs),
    /// Replay actions in a safety gridworld: reward, hidden performance, how the episode ended.
    Play(safety::PlayArgs),
}

/// Where a level comes from: a file, or a generator and a seed.
#[derive(clap::Args)]
struct LevelArgs {
    /// A level file (see levels/ for the format).
    #[arg(required_unless_present = "generate", conflicts_with = "generate")]
    level: Option<PathBuf>,
    /// Generate a level instead: maze:SIZE or rooms:SIZE[:DENSITY].
    #[arg(long, value_name = "SPEC")]
    generate: Option<String>,
    /// Seed for --generate.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl ConfigArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            quick: self.quick,
            file: self.config.clone(),
            sets: self.sets.clone(),
            seeds: self.seeds,
        }
    }
}

#[derive(clap::Args)]
struct ConfigArgs {
    /// A TOML file overriding the defaults (unknown keys are errors).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one config key, e.g. --set sizes=[9,15] (repeatable; applied after --config).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    sets: Vec<String>,
    /// Number of seeds (shorthand for --set seeds=N).
    #[arg(long)]
    seeds: Option<u64>,
    /// Start from the quick config.
    #[arg(long)]
    quick: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        // Warnings (a unit file measured again, a plot point left out) show unless RUST_LOG
        // says otherwise.
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let user =
                cruxlab_core::is_user_error(&err) || err.chain().any(|e| e.is::<InputError>());
            eprintln!("error: {err:#}");
            ExitCode::from(if user { 2 } else { 1 })
        }
    }
}

/// Bad input the binary itself detects (level files, render specs).
#[derive(Debug)]
struct InputError(String);

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

pub(crate) fn input_error(message: String) -> anyhow::Error {
    anyhow::Error::new(InputError(message))
}

/// Check, before any work and without writing anything that stays, that `dir` (given by `flag`) is
/// or can become a writable folder: no file in the way, not under a file, not in a read-only place.
/// Exit code 2.
pub(crate) fn check_out_dir(flag: &str, dir: &Path) -> Result<()> {
    let bad = |why: String| input_error(format!("{flag} {}: {why}", dir.display()));
    // The nearest part of the path that exists must be a folder we can write in.
    let mut existing = dir;
    while !existing.exists() {
        existing = match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
    }
    if !existing.is_dir() {
        return Err(bad(if existing == dir {
            "exists and is not a folder".into()
        } else {
            format!("{} is a file, not a folder", existing.display())
        }));
    }
    let probe = existing.join(format!(".cruxlab-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| bad(format!("cannot write in {}: {e}", existing.display())))
}

/// Check, before any work, that a file can be written at `path` (given by `flag`): not a folder,
/// and its folder exists. Exit code 2.
pub(crate) fn check_out_file(flag: &str, path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(input_error(format!(
            "{flag} {}: is a folder",
            path.display()
        )));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(input_error(format!(
            "{flag} {}: {} is not an existing folder",
            path.display(),
            parent.display()
        )));
    }
    // A folder that exists but takes no files (/proc, a read-only mount).
    let probe = parent.join(format!(".cruxlab-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| {
            input_error(format!(
                "{flag} {}: cannot write in {}: {e}",
                path.display(),
                parent.display()
            ))
        })
}

/// Resolve an experiment's config and say on stderr what the user must know before trusting the
/// run (the experiment's warnings: reference data not on this machine, say).
fn resolve(e: &dyn DynExperiment, overrides: &Overrides) -> Result<ResolvedConfig> {
    let resolved = e.resolve(overrides)?;
    for warning in e.warnings(&resolved)? {
        eprintln!("warning: {}: {warning}", e.id());
    }
    Ok(resolved)
}

fn dispatch(cli: Cli) -> Result<()> {
    if let Some(threads) = cli.threads {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let most = 4 * cores;
        if threads == 0 || threads > most {
            return Err(input_error(format!(
                "--threads {threads}: must lie in 1..={most} (4 x this machine's {cores} cores)"
            )));
        }
    }
    let experiments = cruxlab_experiments::registry();
    // Progress is always asked for: on a terminal it is a bar, in a log a plain line now and then
    // (cruxlab_core::progress).
    let progress = true;
    let run_options = |out: PathBuf, shard: Option<Shard>| RunOptions {
        out,
        shard,
        progress,
        threads: cli.threads,
        stop_after: None,
        max_units: cli.max_units,
        artifacts: None,
    };
    match cli.command {
        Command::List => {
            let width = experiments.iter().map(|e| e.id().len()).max().unwrap_or(0);
            for e in &experiments {
                println!("{:<width$}  {}", e.id(), e.claim());
            }
        }
        Command::Show { experiment, quick } => {
            let e = cruxlab_core::find(&experiments, &experiment)?;
            println!(
                "{}\n\nClaim: {}\n\nModel: {}\n",
                e.id(),
                e.claim(),
                e.model()
            );
            println!("# Default config{}", if quick { " (quick)" } else { "" });
            print!("{}", e.default_config_toml(quick));
        }
        Command::Run {
            experiment,
            config,
            out,
            shard,
        } => {
            let e = cruxlab_core::find(&experiments, &experiment)?;
            let shard = shard.map(|s| s.parse::<Shard>()).transpose()?;
            let resolved = resolve(e, &config.overrides())?;
            let default_out = format!(
                "runs/{}{}",
                e.id(),
                if config.quick { "-quick" } else { "" }
            );
            let out = out.unwrap_or_else(|| PathBuf::from(default_out));
            check_out_dir("--out", &out)?;
            let opts = run_options(out.clone(), shard);
            report_outcome(e.id(), &out, e.run(&resolved, &opts)?);
        }
        Command::Audit {
            experiment,
            config,
            out,
            shard,
        } => {
            let e = cruxlab_core::find(&experiments, &experiment)?;
            let shard = shard.map(|s| s.parse::<Shard>()).transpose()?;
            let resolved = resolve(e, &config.overrides())?;
            let out = out.unwrap_or_else(|| {
                PathBuf::from(format!(
                    "runs/{}{}-audit",
                    e.id(),
                    if config.quick { "-quick" } else { "" }
                ))
            });
            check_out_dir("--out", &out)?;
            let opts = run_options(out.clone(), shard);
            report_outcome(e.id(), &out, e.audit(&resolved, &opts)?);
        }
        Command::Sensitivity {
            experiment,
            config,
            vary,
            samples,
            out,
        } => {
            let e = cruxlab_core::find(&experiments, &experiment)?;
            let vary = vary
                .iter()
                .map(|v| cruxlab_core::sensitivity::Vary::parse(v))
                .collect::<Result<Vec<_>, _>>()?;
            let resolved = resolve(e, &config.overrides())?;
            let out = out.unwrap_or_else(|| PathBuf::from(format!("runs/{}-sensitivity", e.id())));
            check_out_dir("--out", &out)?;
            let opts = run_options(out.clone(), None);
            if let Some(analysis) =
                cruxlab_core::sensitivity::run(e, &resolved, &vary, samples, &opts)?
            {
                println!(
                    "{}: {} samples over {}",
                    analysis.experiment,
                    analysis.samples.len(),
                    analysis
                        .vary
                        .iter()
                        .map(|v| v.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let width = analysis
                    .claims
                    .iter()
                    .map(|c| c.id.len())
                    .max()
                    .unwrap_or(0);
                for c in &analysis.claims {
                    println!(
                        "  {:<width$}  supported {:.2}  inconclusive {:.2}  refuted {:.2}  (n={})  moved most by: {}",
                        c.id,
                        c.supported,
                        c.inconclusive,
                        c.refuted,
                        c.n,
                        c.most_influential
                            .as_deref()
                            .unwrap_or("none (verdict constant)")
                    );
                }
                println!("report: {}", out.join("sensitivity.html").display());
            }
        }
        Command::Suite { quick, audit, out } => {
            let audit = audit || quick;
            let out = out.unwrap_or_else(|| {
                PathBuf::from(if quick {
                    "runs/suite-quick"
                } else {
                    "runs/suite"
                })
            });
            check_out_dir("--out", &out)?;
            let mut finished = Vec::new();
            for e in &experiments {
                let resolved = resolve(
                    e.as_ref(),
                    &Overrides {
                        quick,
                        ..Overrides::default()
                    },
                )?;
                let dir = out.join(e.id());
                let opts = RunOptions {
                    // One cache for the whole suite: experiments that train the same policy
                    // share it.
                    artifacts: Some(out.join("artifacts")),
                    ..run_options(dir.clone(), None)
                };
                eprintln!(
                    "{} {} ...",
                    if audit { "auditing" } else { "running" },
                    e.id()
                );
                let outcome = if audit {
                    e.audit(&resolved, &opts)?
                } else {
                    e.run(&resolved, &opts)?
                };
                match outcome {
                    RunOutcome::Complete(results) => {
                        report_outcome(e.id(), &dir, RunOutcome::Complete(results.clone()));
                        finished.push((e.id().to_string(), e.claim().to_string(), results));
                    }
                    partial => report_outcome(e.id(), &dir, partial),
                }
            }
            cruxlab_core::write_index(&out, &finished)?;
            println!("suite index: {}", out.join("index.html").display());
        }
        Command::Merge { dirs, out } => {
            let out = out.unwrap_or_else(|| dirs[0].clone());
            check_out_dir("--out", &out)?;
            let results = cruxlab_core::merge(&experiments, &dirs, &out)?;
            report_outcome(
                &results.experiment.clone(),
                &out,
                RunOutcome::Complete(results),
            );
        }
        Command::Render { source, png, cue } => {
            if let Some(path) = &png {
                check_out_file("--png", path)?;
            }
            let level = load_level(source)?;
            match png {
                Some(path) => {
                    let cue_field = cue.then(|| {
                        cruxlab_grid::DistanceField::from_sources(
                            &level,
                            level.positions_of(cruxlab_grid::ObjectKind::CUE_SOURCE),
                        )
                    });
                    let image = cruxlab_grid::render_png(&level, cue_field.as_ref(), 24);
                    cruxlab_core::write_atomic(&path, &cruxlab_grid::encode_png(&image)?)?;
                    println!("wrote {}", path.display());
                }
                None => print!("{}", level.to_text()),
            }
        }
        Command::Trace {
            source,
            agent,
            budget,
            target,
            swap_to,
            rederive,
            png,
        } => {
            if let Some(path) = &png {
                check_out_file("--png", path)?;
            }
            let origin = match (&source.level, &source.generate) {
                (Some(path), _) => format!("level file {}", path.display()),
                (None, spec) => format!(
                    "--generate {} --seed {}",
                    spec.as_deref().unwrap_or(""),
                    source.seed
                ),
            };
            let level = load_level(source)?;
            // The level must hold what the episode ends at (a misspelt kind is left to `trace`).
            if let Ok(kind) = swap_to.as_deref().unwrap_or(&target).parse::<ObjectKind>()
                && level.first_of(kind).is_none()
            {
                return Err(input_error(format!(
                    "{origin}: the level has no {} to reach",
                    kind.name()
                )));
            }
            trace(
                &level,
                &agent,
                budget,
                &target,
                swap_to.as_deref(),
                rederive,
                png.as_deref(),
            )?;
        }
        Command::Scaling(args) => scaling::run(args)?,
        Command::Bargain(args) => bargain::run(args)?,
        Command::Play(args) => safety::run(args)?,
    }
    Ok(())
}

/// A level from a file, or generated from a spec and seed (clap guarantees one of the two).
fn load_level(
    LevelArgs {
        level,
        generate,
        seed,
    }: LevelArgs,
) -> Result<Level> {
    match (level, generate) {
        (Some(path), _) => read_level(&path),
        (None, Some(spec)) => {
            let spec: LevelSpec = spec.parse().map_err(|e: cruxlab_grid::LevelSpecError| {
                input_error(format!("--generate {spec}: {e}"))
            })?;
            Ok(spec.generate(seed))
        }
        (None, None) => unreachable!("clap requires a level or --generate"),
    }
}

/// `cruxlab trace`: one planner episode, summarised, and optionally drawn.
fn trace(
    level: &Level,
    agent: &str,
    budget: Option<u64>,
    target: &str,
    swap_to: Option<&str>,
    rederive: bool,
    png: Option<&Path>,
) -> Result<()> {
    let kind = |flag: &str, s: &str| {
        s.parse::<ObjectKind>()
            .map_err(|e| input_error(format!("--{flag} {s}: {e}")))
    };
    let agent: AgentKind = agent
        .parse()
        .map_err(|e: String| input_error(format!("--agent: {e}")))?;
    if budget == Some(0) {
        return Err(input_error(
            "--budget 0: a decision needs at least one expansion".into(),
        ));
    }
    let mut target = kind("target", target)?;
    let mut planner = agent.planner(level, target, budget);
    let derived_before = planner.compute().derivation;
    if let Some(new) = swap_to {
        let new_target = kind("swap-to", new)?;
        if new_target == target {
            return Err(input_error(format!(
                "--swap-to {new}: must differ from the target ({})",
                target.name()
            )));
        }
        target = new_target;
        if rederive {
            agent.retarget(&mut planner, level, target);
        } else {
            planner.retarget(target);
        }
    }
    planner.trace_expansions(level.cells());
    let episode = play(level, target, &mut planner, 2 * level.cells() as u32);
    println!(
        "{} -> {}: {} in {} steps (optimal {}, SPL {:.3}); {} expansions over {} decisions (at most {} in one); re-derivation cost {}",
        agent.name(),
        target.name(),
        if episode.success {
            "reached"
        } else {
            "not reached"
        },
        episode.steps,
        // The episode marks an unreachable target with the largest distance.
        if episode.optimal == u32::MAX {
            "unreachable: no path".to_owned()
        } else {
            episode.optimal.to_string()
        },
        episode.spl(),
        episode.expansions,
        episode.decisions,
        planner.compute().peak,
        planner.compute().derivation - derived_before
    );
    if let Some(path) = png {
        let image =
            cruxlab_grid::render_trace(level, planner.heat().unwrap_or(&[]), &episode.path, 24);
        cruxlab_core::write_atomic(path, &cruxlab_grid::encode_png(&image)?)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn read_level(path: &Path) -> Result<Level> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| input_error(format!("{}: {e}", path.display())))?;
    Level::parse(&text).map_err(|e| input_error(format!("level file {}: {e}", path.display())))
}

fn report_outcome(id: &str, dir: &Path, outcome: RunOutcome) {
    match outcome {
        RunOutcome::Complete(results) => {
            println!("{id}: report at {}", dir.join("report.html").display());
            let width = results
                .verdicts
                .iter()
                .map(|v| v.id.len())
                .max()
                .unwrap_or(0);
            for v in &results.verdicts {
                let audit = match &v.audit {
                    Some(a) => {
                        let controls: Vec<String> = a
                            .controls
                            .iter()
                            .map(|c| {
                                format!(
                                    "[{}] -> {}",
                                    c.set.join(" "),
                                    c.verdict.map_or("not declared", |k| k.as_str())
                                )
                            })
                            .collect();
                        format!(
                            "  audit: {}{}{}",
                            a.status.as_str(),
                            if controls.is_empty() { "" } else { "; " },
                            controls.join("; ")
                        )
                    }
                    None => String::new(),
                };
                println!("  {:<width$}  {:<12}{audit}", v.id, v.verdict.as_str());
            }
        }
        RunOutcome::Partial { done, total } => {
            println!(
                "{id}: {done} of {total} units stored in {}; run the other shards, then `cruxlab merge`",
                dir.display()
            );
        }
    }
}
