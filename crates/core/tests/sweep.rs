//! End-to-end tests of the framework with a toy experiment, `coin`: the condition is a coin's bias
//! p, the measurement the fraction of heads in a number of flips.

use cruxlab_core::{
    AuditStatus, Claim, Control, Direction, DynExperiment, Effect, Experiment, Overrides, PlotSpec,
    Results, RunOptions, RunOutcome, Shard, VerdictKind, at, erase, is_user_error, merge,
    read_run_folder, write_index,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Clone, Debug, Serialize, Deserialize)]
struct CoinConfig {
    seeds: u64,
    biases: Vec<f64>,
    flips: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Bias {
    p: f64,
}

/// Flips biased coins; counts its `measure` calls.
#[derive(Default)]
struct Coin {
    calls: Arc<AtomicUsize>,
    /// Its [`Experiment::code_version`].
    version: String,
}

impl Experiment for Coin {
    type Config = CoinConfig;
    type Condition = Bias;

    fn id(&self) -> &'static str {
        "coin"
    }
    fn claim(&self) -> &'static str {
        "The coin of the largest bias lands heads more than half the time"
    }
    fn model(&self) -> &'static str {
        "Each seed flips a coin of bias p a fixed number of times.\n\nMetric: the fraction of heads."
    }
    fn default_config(&self, quick: bool) -> CoinConfig {
        CoinConfig {
            seeds: if quick { 6 } else { 20 },
            biases: vec![0.2, 0.5, 0.8],
            flips: 100,
        }
    }
    fn validate(&self, config: &CoinConfig) -> Result<(), (String, String)> {
        if config.biases.iter().any(|p| !(0.0..=1.0).contains(p)) {
            return Err(("biases".into(), "every bias must lie in [0, 1]".into()));
        }
        Ok(())
    }
    fn conditions(&self, config: &CoinConfig) -> Vec<Bias> {
        config.biases.iter().map(|&p| Bias { p }).collect()
    }
    fn measure(
        &self,
        config: &CoinConfig,
        condition: &Bias,
        seed: u64,
        _: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut rng = ChaCha8Rng::seed_from_u64(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ condition.p.to_bits(),
        );
        let heads = (0..config.flips)
            .filter(|_| rng.random_bool(condition.p))
            .count();
        let fraction = heads as f64 / config.flips as f64;
        vec![
            ("heads".into(), fraction),
            // Only defined for odd seeds: exercises NaN handling.
            (
                "odd_heads".into(),
                if seed % 2 == 1 { fraction } else { f64::NAN },
            ),
            ("never".into(), f64::NAN),
        ]
    }
    fn metrics(&self, _: &CoinConfig) -> Vec<String> {
        ["heads", "odd_heads", "never"].map(String::from).to_vec()
    }
    fn claims(&self, config: &CoinConfig) -> Vec<Claim> {
        let Some(top) = config.biases.iter().copied().reduce(f64::max) else {
            return vec![];
        };
        vec![
            Claim::new(
                "biased-heads",
                self.claim(),
                Effect::metric("heads"),
                Direction::Above,
                0.5,
            )
            .filter(at(&[("p", serde_json::json!(top))]))
            .control(Control::new(
                &["biases=[0.1, 0.3]"],
                VerdictKind::Refuted,
                "coins that favour tails",
            ))
            .plot("heads.svg"),
        ]
    }
    fn code_version(&self, _: &CoinConfig) -> String {
        self.version.clone()
    }
    fn plots(&self, _: &CoinConfig) -> Vec<PlotSpec> {
        vec![PlotSpec {
            file: "heads.svg".into(),
            title: "Fraction of heads by bias".into(),
            metric: "heads".into(),
            y_label: "fraction of heads".into(),
            x: "p".into(),
            x_label: "bias p".into(),
            log_x: false,
            series: vec![],
            filter: vec![],
        }]
    }
}

fn coin() -> (Box<dyn DynExperiment>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (
        erase(Coin {
            calls: calls.clone(),
            ..Coin::default()
        }),
        calls,
    )
}

/// A coin whose [`Experiment::code_version`] is `version`, and its `measure` counter.
fn versioned_coin(version: &str) -> (Box<dyn DynExperiment>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let e = erase(Coin {
        calls: calls.clone(),
        version: version.into(),
    });
    (e, calls)
}

/// Run shard `shard` ("K/N") of `config` into `dir`.
fn run_shard(
    e: &dyn DynExperiment,
    config: &cruxlab_core::ResolvedConfig,
    dir: &Path,
    shard: &str,
) -> RunOutcome {
    let shard: Shard = shard.parse().unwrap();
    e.run(
        config,
        &RunOptions {
            shard: Some(shard),
            ..opts(dir)
        },
    )
    .unwrap()
}

fn quick() -> Overrides {
    Overrides {
        quick: true,
        ..Default::default()
    }
}

fn opts(out: &Path) -> RunOptions {
    RunOptions {
        threads: Some(2),
        ..RunOptions::new(out)
    }
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

fn complete(outcome: RunOutcome) -> Results {
    match outcome {
        RunOutcome::Complete(results) => results,
        RunOutcome::Partial { done, total } => panic!("partial: {done}/{total}"),
    }
}

/// All files under `dir`, relative, but the folder's lock file (which stays, empty of meaning, after
/// the writer is gone).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name() != Some(std::ffi::OsStr::new(cruxlab_core::LOCK_FILE)) {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A complete single-machine run into `dir`.
fn reference_run(dir: &Path) -> Results {
    let (e, _) = coin();
    let config = e.resolve(&quick()).unwrap();
    complete(e.run(&config, &opts(dir)).unwrap())
}

#[test]
fn run_writes_the_run_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("coin");
    let (e, calls) = coin();
    let config = e.resolve(&quick()).unwrap();
    let results = complete(e.run(&config, &opts(&dir)).unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 18);

    let names: Vec<String> = files(&dir)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    for expected in [
        "config.toml",
        "results.json",
        "per_seed.csv",
        "heads.svg",
        "report.html",
        "run.json",
    ] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected} missing from {names:?}"
        );
    }
    assert_eq!(names.iter().filter(|n| n.starts_with("units/")).count(), 18);

    // results.json reads back to the returned results (NaN means included).
    let text = read(dir.join("results.json"));
    let back: Results = serde_json::from_str(&text).unwrap();
    assert_eq!(back.metrics.len(), results.metrics.len());
    assert_eq!(back.verdicts, results.verdicts);
    assert_eq!(back.experiment, "coin");
    assert_eq!(back.config["seeds"], 6);
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let first = &json["metrics"][0];
    for key in [
        "metric",
        "condition",
        "mean",
        "ci_low",
        "ci_high",
        "n",
        "values",
        "seeds",
    ] {
        assert!(first.get(key).is_some(), "results.json metric lacks {key}");
    }
    for key in ["claim", "verdict", "evidence"] {
        assert!(
            json["verdicts"][0].get(key).is_some(),
            "results.json verdict lacks {key}"
        );
    }

    // The verdict is computed from the numbers.
    assert_eq!(results.verdicts.len(), 1);
    assert_eq!(
        results.verdicts[0].verdict,
        VerdictKind::Supported,
        "{:?}",
        results.verdicts
    );
    assert_eq!(results.verdicts[0].evidence.cells[0].n, 6);
    assert!(json["verdicts"][0]["evidence"]["cells"][0]["ci_low"].is_number());

    // The config in the folder is the resolved one, and can be read back.
    let folder = read_run_folder(&dir).unwrap();
    assert_eq!(folder.experiment, "coin");
    assert_eq!(folder.config.toml, config.toml);
    assert!(folder.manifest.complete);
    assert_eq!(
        folder.manifest.last_run.as_ref().map(|r| r.units_measured),
        Some(18)
    );

    let report = read(dir.join("report.html"));
    for needle in [
        "<img src=\"heads.svg\"",
        "verdict supported",
        "Fraction of heads by bias",
        "flips = 100",
        "95% CI",
    ] {
        assert!(report.contains(needle), "report lacks {needle}");
    }
    let svg = read(dir.join("heads.svg"));
    assert!(svg.contains("fraction of heads") && svg.contains("bias p"));
}

#[test]
fn nan_values_are_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let results = reference_run(tmp.path());
    let odd = results
        .find("odd_heads", &[("p", serde_json::json!(0.5))])
        .unwrap();
    assert_eq!(odd.n, 3);
    assert_eq!(odd.seeds, vec![1, 3, 5]);
    let heads = results
        .find("heads", &[("p", serde_json::json!(0.5))])
        .unwrap();
    assert_eq!(heads.seeds, vec![0, 1, 2, 3, 4, 5]);
    for (seed, value) in odd.seeds.iter().zip(&odd.values) {
        assert_eq!(*value, heads.values[*seed as usize]);
    }
    let never = results
        .find("never", &[("p", serde_json::json!(0.5))])
        .unwrap();
    assert!(never.mean.is_nan());
    assert_eq!((never.n, never.ci_low, never.ci_high), (0, None, None));
}

#[test]
fn per_seed_csv_has_one_row_per_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let results = reference_run(tmp.path());
    let csv = read(tmp.path().join("per_seed.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "p,seed,heads,odd_heads,never");
    assert_eq!(lines.len(), 1 + 3 * 6);
    assert!(lines.iter().all(|l| l.split(',').count() == 5));
    // Row order: condition-major, seeds ascending; NaN as empty cells.
    let heads = results
        .find("heads", &[("p", serde_json::json!(0.2))])
        .unwrap();
    assert_eq!(lines[1], format!("0.2,0,{},,", heads.values[0]));
    assert_eq!(lines[2], format!("0.2,1,{0},{0},", heads.values[1]));
    assert!(lines[18].starts_with("0.8,5,"));
}

#[test]
fn thread_count_does_not_change_results() {
    let tmp = tempfile::tempdir().unwrap();
    let (e, _) = coin();
    let config = e.resolve(&quick()).unwrap();
    for threads in [1, 2, 3] {
        let out = tmp.path().join(format!("t{threads}"));
        complete(
            e.run(
                &config,
                &RunOptions {
                    threads: Some(threads),
                    // Hidden when stderr is not a terminal; must not change anything either way.
                    progress: threads == 3,
                    ..RunOptions::new(&out)
                },
            )
            .unwrap(),
        );
    }
    for file in [
        "results.json",
        "per_seed.csv",
        "report.html",
        "heads.svg",
        "config.toml",
    ] {
        let one = read(tmp.path().join("t1").join(file));
        assert_eq!(
            one,
            read(tmp.path().join("t2").join(file)),
            "{file} differs between 1 and 2 threads"
        );
        assert_eq!(
            one,
            read(tmp.path().join("t3").join(file)),
            "{file} differs between 1 and 3 threads"
        );
    }
}

#[test]
fn interrupted_run_resumes_to_identical_results() {
    let tmp = tempfile::tempdir().unwrap();
    reference_run(&tmp.path().join("reference"));

    let dir = tmp.path().join("resumed");
    let (e, calls) = coin();
    let config = e.resolve(&quick()).unwrap();
    let outcome = e
        .run(
            &config,
            &RunOptions {
                stop_after: Some(3),
                ..opts(&dir)
            },
        )
        .unwrap();
    assert_eq!(outcome, RunOutcome::Partial { done: 3, total: 18 });
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(!dir.join("results.json").exists());

    // The second run measures only the 15 missing units.
    complete(e.run(&config, &opts(&dir)).unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 18);
    for file in ["results.json", "per_seed.csv", "report.html"] {
        assert_eq!(
            read(dir.join(file)),
            read(tmp.path().join("reference").join(file)),
            "{file} differs"
        );
    }

    // A third run measures nothing and rewrites the same results.
    complete(e.run(&config, &opts(&dir)).unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 18);
}

#[test]
fn unreadable_unit_is_measured_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    reference_run(&dir);
    let reference = read(dir.join("results.json"));
    std::fs::write(dir.join("units/c0001-s0002.json"), "{ truncated").unwrap();
    let (e, calls) = coin();
    let config = e.resolve(&quick()).unwrap();
    complete(e.run(&config, &opts(&dir)).unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(read(dir.join("results.json")), reference);
}

#[test]
fn shards_merge_to_the_single_run() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("reference");
    reference_run(&reference);

    let (e, calls) = coin();
    let config = e.resolve(&quick()).unwrap();
    let mut dirs = Vec::new();
    for k in 1..=3 {
        let dir = tmp.path().join(format!("shard{k}"));
        let shard: Shard = format!("{k}/3").parse().unwrap();
        let outcome = run_shard(e.as_ref(), &config, &dir, &format!("{k}/3"));
        assert_eq!(outcome, RunOutcome::Partial { done: 6, total: 18 });
        // A partial shard holds its config, manifest and units, and nothing else.
        let names: Vec<String> = files(&dir)
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(names.len(), 2 + 6, "{names:?}");
        assert!(
            names.contains(&"config.toml".to_owned()) && names.contains(&"run.json".to_owned())
        );
        assert_eq!(names.iter().filter(|n| n.starts_with("units/c")).count(), 6);
        assert_eq!(read_run_folder(&dir).unwrap().shard, Some(shard));
        dirs.push(dir);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 18);

    let experiments = vec![coin().0];
    // Merging two of three shards says what is missing.
    let err = merge(
        &experiments,
        &dirs[..1]
            .iter()
            .chain(&dirs[2..])
            .cloned()
            .collect::<Vec<_>>(),
        &tmp.path().join("m"),
    )
    .unwrap_err();
    assert!(err.is_user());
    assert_eq!(
        err.to_string(),
        "the sweep is incomplete: 6 of 18 units missing (shard 2/3 looks absent)"
    );

    // Into a new folder, and into one of the shards' folders.
    for out in [tmp.path().join("merged"), dirs[0].clone()] {
        let results = merge(&experiments, &dirs, &out).unwrap();
        assert_eq!(results.experiment, "coin");
        for file in ["results.json", "per_seed.csv", "report.html", "heads.svg"] {
            assert_eq!(
                read(out.join(file)),
                read(reference.join(file)),
                "{file} differs after merge into {}",
                out.display()
            );
        }
    }
}

#[test]
fn merge_refuses_mismatched_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let (e, _) = coin();
    let a = tmp.path().join("a");
    let b = tmp.path().join("b");
    let shard = Some(Shard { index: 1, count: 2 });
    e.run(
        &e.resolve(&quick()).unwrap(),
        &RunOptions { shard, ..opts(&a) },
    )
    .unwrap();
    let other = e
        .resolve(&Overrides {
            sets: vec!["flips=50".into()],
            ..quick()
        })
        .unwrap();
    e.run(&other, &RunOptions { shard, ..opts(&b) }).unwrap();
    let experiments = vec![coin().0];
    let err = merge(&experiments, &[a.clone(), b.clone()], &tmp.path().join("m")).unwrap_err();
    assert!(err.is_user());
    let message = err.to_string();
    assert!(
        message.contains(&b.display().to_string()) && message.contains("flips"),
        "{message}"
    );

    // Merging into a folder of another config is refused before anything is copied there.
    let units_in_b = files(&b).len();
    let err = merge(&experiments, std::slice::from_ref(&a), &b).unwrap_err();
    assert!(
        err.is_user() && err.to_string().contains("holds a different config"),
        "{err}"
    );
    assert_eq!(files(&b).len(), units_in_b);

    let err = merge(
        &experiments,
        &[tmp.path().join("nothing")],
        &tmp.path().join("m"),
    )
    .unwrap_err();
    assert!(
        err.is_user() && err.to_string().contains("not a run folder"),
        "{err}"
    );
    assert!(
        merge(&experiments, &[], &tmp.path().join("m"))
            .unwrap_err()
            .is_user()
    );
    assert_eq!(
        merge(&[], &[a], &tmp.path().join("m"))
            .unwrap_err()
            .to_string(),
        "unknown experiment 'coin' (known: )"
    );
}

#[test]
fn different_config_in_existing_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let (e, calls) = coin();
    e.run(
        &e.resolve(&quick()).unwrap(),
        &RunOptions {
            stop_after: Some(2),
            ..opts(&dir)
        },
    )
    .unwrap();
    let other = e
        .resolve(&Overrides {
            seeds: Some(7),
            ..quick()
        })
        .unwrap();
    let err = e.run(&other, &opts(&dir)).unwrap_err();
    assert!(err.is_user());
    assert_eq!(
        err.to_string(),
        format!(
            "run folder {} holds a different config (key 'seeds' is 6 there, 7 here); choose another folder or resume with the same config",
            dir.display()
        )
    );
    assert!(is_user_error(&anyhow::Error::from(err)));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Units measured by another version of the code (same config) are never taken into a run: the
/// folder's stored units are refused, not mixed with this code's.
#[test]
fn units_of_another_code_version_are_not_mixed_in() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let versioned = versioned_coin;
    let (old, _) = versioned("kernel=1");
    let config = old.resolve(&quick()).unwrap();
    old.run(
        &config,
        &RunOptions {
            stop_after: Some(2),
            ..opts(&dir)
        },
    )
    .unwrap();
    let (new, calls) = versioned("kernel=2");
    let err = new.run(&config, &opts(&dir)).unwrap_err();
    assert!(
        err.to_string()
            .contains("was measured under another config or code version"),
        "{err}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "nothing measured");
    // The same code resumes it.
    complete(old.run(&config, &opts(&dir)).unwrap());
    // An empty version hashes as the config alone: folders of experiments without one stay valid.
    let (plain, calls) = coin();
    complete(
        plain
            .run(&config, &opts(&tmp.path().join("plain")))
            .unwrap(),
    );
    let (empty, empty_calls) = versioned("");
    complete(
        empty
            .run(&config, &opts(&tmp.path().join("plain")))
            .unwrap(),
    );
    assert_eq!(calls.load(Ordering::SeqCst), 18);
    assert_eq!(
        empty_calls.load(Ordering::SeqCst),
        0,
        "every stored unit taken"
    );
}

/// Shards of one config measured by two code versions are refused by `merge` before anything is
/// copied: neither the output folder nor the shards change.
#[test]
fn merge_refuses_shards_of_another_code_version_before_copying() {
    let tmp = tempfile::tempdir().unwrap();
    let versioned = |v: &str| versioned_coin(v).0;
    let config = versioned("kernel=1").resolve(&quick()).unwrap();
    let mut dirs = Vec::new();
    for (k, v) in [(1, "kernel=1"), (2, "kernel=2")] {
        let dir = tmp.path().join(format!("shard{k}"));
        run_shard(versioned(v).as_ref(), &config, &dir, &format!("{k}/2"));
        dirs.push(dir);
    }
    let before: Vec<Vec<PathBuf>> = dirs.iter().map(|d| files(d)).collect();
    for experiments in [vec![versioned("kernel=2")], vec![versioned("kernel=1")]] {
        for out in [tmp.path().join("merged"), dirs[1].clone()] {
            let err = merge(&experiments, &dirs, &out).unwrap_err();
            assert!(
                err.to_string()
                    .contains("was measured under another config or code version"),
                "{err}"
            );
            assert!(!tmp.path().join("merged").exists(), "nothing written");
            let after: Vec<Vec<PathBuf>> = dirs.iter().map(|d| files(d)).collect();
            assert_eq!(after, before, "the shards are untouched");
        }
    }
}

/// A second experiment, to check folders are not shared between experiments.
struct OtherCoin;

impl Experiment for OtherCoin {
    type Config = CoinConfig;
    type Condition = Bias;
    fn id(&self) -> &'static str {
        "other-coin"
    }
    fn claim(&self) -> &'static str {
        Coin::default().claim()
    }
    fn model(&self) -> &'static str {
        ""
    }
    fn default_config(&self, quick: bool) -> CoinConfig {
        Coin::default().default_config(quick)
    }
    fn validate(&self, _: &CoinConfig) -> Result<(), (String, String)> {
        Ok(())
    }
    fn conditions(&self, config: &CoinConfig) -> Vec<Bias> {
        Coin::default().conditions(config)
    }
    fn measure(
        &self,
        config: &CoinConfig,
        condition: &Bias,
        seed: u64,
        artifacts: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
        Coin::default().measure(config, condition, seed, artifacts)
    }
    fn metrics(&self, config: &CoinConfig) -> Vec<String> {
        Coin::default().metrics(config)
    }
    fn claims(&self, _: &CoinConfig) -> Vec<Claim> {
        vec![]
    }
    fn plots(&self, _: &CoinConfig) -> Vec<PlotSpec> {
        vec![]
    }
}

#[test]
fn another_experiment_in_existing_folder_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    reference_run(tmp.path());
    let other = erase(OtherCoin);
    let err = other
        .run(&other.resolve(&quick()).unwrap(), &opts(tmp.path()))
        .unwrap_err();
    assert!(err.is_user());
    assert!(
        err.to_string()
            .contains("holds experiment 'coin', not 'other-coin'"),
        "{err}"
    );
    // A config resolved for one experiment cannot be run by another.
    let (e, _) = coin();
    assert!(
        !e.run(
            &other.resolve(&quick()).unwrap(),
            &opts(&tmp.path().join("x"))
        )
        .unwrap_err()
        .is_user()
    );
}

#[test]
fn config_file_errors_name_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("x.toml");
    std::fs::write(&path, "seeds = 3\n\nflip = 10\n").unwrap();
    let (e, _) = coin();
    let err = e
        .resolve(&Overrides {
            file: Some(path.clone()),
            ..quick()
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("config file {}, line 3: unknown key 'flip'", path.display())
    );

    std::fs::write(&path, "seeds = 3\nbiases = [0.5, 2]\n").unwrap();
    let err = e
        .resolve(&Overrides {
            file: Some(path.clone()),
            ..quick()
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "invalid value for key 'biases' (config file {}, line 2): every bias must lie in [0, 1]",
            path.display()
        )
    );

    std::fs::write(&path, "seeds = 3\nbiases = [0.5, 1]\n").unwrap();
    let config = e
        .resolve(&Overrides {
            file: Some(path.clone()),
            ..quick()
        })
        .unwrap();
    assert!(
        config.toml.contains("1.0"),
        "integer accepted where a float is expected: {}",
        config.toml
    );
    // The written config.toml is itself a valid config file that resolves to the same config.
    let dir = tmp.path().join("run");
    e.run(
        &config,
        &RunOptions {
            stop_after: Some(0),
            ..opts(&dir)
        },
    )
    .unwrap();
    let again = e
        .resolve(&Overrides {
            file: Some(dir.join("config.toml")),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(again.toml, config.toml);
}

#[test]
fn set_errors_name_the_key() {
    let (e, _) = coin();
    let set = |arg: &str| {
        e.resolve(&Overrides {
            sets: vec![arg.into()],
            ..quick()
        })
        .unwrap_err()
        .to_string()
    };
    assert_eq!(
        set("no.such.key=1"),
        "--set no.such.key=1: unknown key 'no.such.key'"
    );
    assert_eq!(
        set("seeds=abc"),
        "--set seeds=abc: key 'seeds' expects an integer, found a string"
    );
    assert_eq!(
        set("biases=[0.5, \"x\"]"),
        "--set biases=[0.5, \"x\"]: key 'biases[1]' expects a float, found a string"
    );
    let ok = e.resolve(&Overrides {
        sets: vec!["flips=10".into(), "biases=[0.1]".into()],
        seeds: Some(2),
        ..quick()
    });
    let ok = ok.unwrap();
    assert!(
        ok.toml.contains("flips = 10") && ok.toml.contains("seeds = 2"),
        "{}",
        ok.toml
    );
    assert_eq!(e.sweep_len(&ok).unwrap(), 2);
}

#[test]
fn no_temporary_files_are_left() {
    let tmp = tempfile::tempdir().unwrap();
    reference_run(tmp.path());
    let leftovers: Vec<PathBuf> = files(tmp.path())
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with('.') || name.ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn index_links_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let results = reference_run(&tmp.path().join("coin"));
    write_index(
        tmp.path(),
        &[("coin".into(), Coin::default().claim().into(), results)],
    )
    .unwrap();
    let html = read(tmp.path().join("index.html"));
    assert!(html.contains("href=\"coin/report.html\""));
    assert!(html.contains("verdict supported"));
}

#[test]
fn default_config_toml_is_editable() {
    let (e, _) = coin();
    let text = e.default_config_toml(true);
    assert!(
        text.contains("seeds = 6") && text.contains("flips = 100"),
        "{text}"
    );
    assert_eq!(e.id(), "coin");
    assert!(e.claim().contains("largest bias"));
}

/// A coin whose claim misspells its metric, or whose measure emits an undeclared one.
struct Misspelt {
    claim_metric: &'static str,
    declared: &'static [&'static str],
}

impl Experiment for Misspelt {
    type Config = CoinConfig;
    type Condition = Bias;
    fn id(&self) -> &'static str {
        "misspelt"
    }
    fn claim(&self) -> &'static str {
        ""
    }
    fn model(&self) -> &'static str {
        ""
    }
    fn default_config(&self, quick: bool) -> CoinConfig {
        Coin::default().default_config(quick)
    }
    fn validate(&self, _: &CoinConfig) -> Result<(), (String, String)> {
        Ok(())
    }
    fn conditions(&self, config: &CoinConfig) -> Vec<Bias> {
        Coin::default().conditions(config)
    }
    fn measure(
        &self,
        config: &CoinConfig,
        condition: &Bias,
        seed: u64,
        artifacts: &cruxlab_core::Artifacts,
    ) -> Vec<(String, f64)> {
        Coin::default().measure(config, condition, seed, artifacts)
    }
    fn metrics(&self, _: &CoinConfig) -> Vec<String> {
        self.declared.iter().map(|s| s.to_string()).collect()
    }
    fn claims(&self, _: &CoinConfig) -> Vec<Claim> {
        vec![
            Claim::new(
                "c",
                "",
                Effect::metric(self.claim_metric),
                Direction::Above,
                0.5,
            )
            .cells(&["p"]),
        ]
    }
    fn plots(&self, _: &CoinConfig) -> Vec<PlotSpec> {
        vec![]
    }
}

#[test]
fn a_misspelt_metric_in_a_claim_fails_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let e = erase(Misspelt {
        claim_metric: "head",
        declared: &["heads", "odd_heads", "never"],
    });
    let err = e
        .run(&e.resolve(&quick()).unwrap(), &opts(tmp.path()))
        .unwrap_err();
    assert!(!err.is_user());
    assert!(
        err.to_string()
            .contains("claim 'c': names metric 'head', which the experiment does not declare"),
        "{err}"
    );
    assert!(!tmp.path().join("units").exists(), "nothing was run");
}

#[test]
fn an_undeclared_metric_from_measure_fails_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let e = erase(Misspelt {
        claim_metric: "heads",
        declared: &["heads", "never"],
    });
    let err = e
        .run(&e.resolve(&quick()).unwrap(), &opts(tmp.path()))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("measure emitted metric 'odd_heads', which the experiment does not declare"),
        "{err}"
    );
    assert!(!tmp.path().join("results.json").exists());
}

#[test]
fn an_audit_runs_the_controls_and_reports_what_they_gave() {
    let tmp = tempfile::tempdir().unwrap();
    let (e, _) = coin();
    let config = e.resolve(&quick()).unwrap();
    let results = complete(e.audit(&config, &opts(tmp.path())).unwrap());
    let v = &results.verdicts[0];
    assert_eq!(v.verdict, VerdictKind::Supported);
    let audit = v.audit.as_ref().expect("audited");
    assert_eq!(audit.controls.len(), 1);
    assert_eq!(audit.controls[0].verdict, Some(VerdictKind::Refuted));
    assert_eq!(audit.status, AuditStatus::Falsifiable);
    assert_eq!(audit.controls[0].folder, "controls/01");
    let control = read_run_folder(&tmp.path().join("controls/01")).unwrap();
    assert_eq!(
        control.config.table["biases"],
        toml::Value::try_from(vec![0.1, 0.3]).unwrap()
    );
    let report = std::fs::read_to_string(tmp.path().join("report.html")).unwrap();
    assert!(report.contains("falsifiable"));
    assert!(report.contains("controls/01/report.html"));
    let reference = std::fs::read(tmp.path().join("results.json")).unwrap();

    // Interrupted and resumed, on one thread: the same bytes.
    let resumed = tempfile::tempdir().unwrap();
    let stop = RunOptions {
        stop_after: Some(2),
        ..opts(resumed.path())
    };
    assert!(matches!(
        e.audit(&config, &stop).unwrap(),
        RunOutcome::Partial { .. }
    ));
    let one = RunOptions {
        threads: Some(1),
        ..opts(resumed.path())
    };
    complete(e.audit(&config, &one).unwrap());
    assert_eq!(
        std::fs::read(resumed.path().join("results.json")).unwrap(),
        reference
    );

    // Sharded and merged: the same bytes.
    let shards: Vec<PathBuf> = (1..=2)
        .map(|k| {
            let dir = tmp.path().join(format!("shard{k}"));
            let o = RunOptions {
                shard: Some(Shard { index: k, count: 2 }),
                ..opts(&dir)
            };
            assert!(matches!(
                e.audit(&config, &o).unwrap(),
                RunOutcome::Partial { .. }
            ));
            dir
        })
        .collect();
    let merged = tmp.path().join("merged");
    merge(&[e], &shards, &merged).unwrap();
    assert_eq!(
        std::fs::read(merged.join("results.json")).unwrap(),
        reference
    );
}

#[test]
fn a_second_writer_of_a_folder_is_refused_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let (e, _) = coin();
    let config = e.resolve(&quick()).unwrap();
    // Another process holds the folder's lock (an open file handle with the lock taken).
    std::fs::create_dir_all(tmp.path()).unwrap();
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp.path().join(cruxlab_core::LOCK_FILE))
        .unwrap();
    lock.lock().unwrap();
    std::fs::write(
        tmp.path().join(cruxlab_core::LOCK_FILE),
        "process 42 (cruxlab run coin)\n",
    )
    .unwrap();
    for err in [
        e.run(&config, &opts(tmp.path())).unwrap_err(),
        e.audit(&config, &opts(tmp.path())).unwrap_err(),
    ] {
        assert!(err.is_user(), "{err}");
        assert!(
            err.to_string().contains("process 42 (cruxlab run coin)"),
            "{err}"
        );
    }
    assert!(!tmp.path().join("units").exists(), "nothing written");
    drop(lock);
    complete(e.run(&config, &opts(tmp.path())).unwrap());
}

#[test]
fn units_of_another_config_are_never_finalised() {
    let tmp = tempfile::tempdir().unwrap();
    let (e, _) = coin();
    let a = e.resolve(&quick()).unwrap();
    let b = e
        .resolve(&Overrides {
            sets: vec!["flips=50".into()],
            ..quick()
        })
        .unwrap();
    let (da, db) = (tmp.path().join("a"), tmp.path().join("b"));
    complete(e.run(&a, &opts(&da)).unwrap());
    complete(e.run(&b, &opts(&db)).unwrap());
    // A unit of config b lands in a's folder (as a racing writer could leave it).
    let name = "units/c0001-s0002.json";
    std::fs::copy(db.join(name), da.join(name)).unwrap();
    let err = e.finalize(&a, &da).unwrap_err();
    assert!(
        err.to_string()
            .contains("was measured under another config"),
        "{err}"
    );
}
