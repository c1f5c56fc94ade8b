//! End-to-end tests: run the `cruxlab` binary on tiny configs and check what it writes and says.

use crate::common;
use common::{cruxlab, read, stderr};

use std::path::Path;
use std::process::Output;

/// A retarget sweep small enough to run in well under a second.
const TINY: &[&str] = &[
    "--quick",
    "--seeds",
    "3",
    "--set",
    "sizes=[9]",
    "--set",
    "budgets=[1, 64]",
    "--set",
    "episodes=1",
];

fn run_tiny(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["run", "retarget", "--out", out.to_str().unwrap()];
    args.extend_from_slice(TINY);
    args.extend_from_slice(extra);
    let output = cruxlab(&args);
    assert!(
        output.status.success(),
        "cruxlab failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn run_writes_every_file_and_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_tiny(&a, &["--threads", "1"]);
    run_tiny(&b, &["--threads", "2"]);
    for file in ["config.toml", "results.json", "per_seed.csv", "report.html"] {
        assert!(a.join(file).is_file(), "missing {file}");
    }
    let svgs = std::fs::read_dir(&a).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "svg")
    });
    assert!(svgs.count() >= 4, "expected the report's plots");
    assert_eq!(read(a.join("results.json")), read(b.join("results.json")));
    assert_eq!(read(a.join("per_seed.csv")), read(b.join("per_seed.csv")));

    let results: serde_json::Value = serde_json::from_str(&read(a.join("results.json"))).unwrap();
    assert_eq!(results["experiment"], "retarget");
    let metric = &results["metrics"][0];
    for key in [
        "metric",
        "condition",
        "mean",
        "ci_low",
        "ci_high",
        "n",
        "values",
    ] {
        assert!(metric.get(key).is_some(), "metric lacks {key}");
    }
    assert_eq!(metric["n"], 3);
    let verdict = &results["verdicts"][0];
    for key in ["id", "claim", "verdict", "rule", "evidence", "controls"] {
        assert!(verdict.get(key).is_some(), "verdict lacks {key}");
    }
    // The evidence is data: per cell, estimate, CI, n and outcome.
    let cell = &verdict["evidence"]["cells"][0];
    for key in ["cell", "estimate", "ci_low", "ci_high", "n", "outcome"] {
        assert!(cell.get(key).is_some(), "evidence cell lacks {key}");
    }
    // 8 agents x 1 level size x 2 budgets x 2 generators, 3 seeds each, plus a header.
    assert_eq!(
        read(a.join("per_seed.csv")).lines().count(),
        1 + 8 * 2 * 2 * 3
    );
}

#[test]
fn resumed_run_equals_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, resumed) = (tmp.path().join("whole"), tmp.path().join("resumed"));
    run_tiny(&whole, &[]);
    run_tiny(&resumed, &[]);
    // Simulate an interruption: the finished outputs and some units never got written.
    std::fs::remove_file(resumed.join("results.json")).unwrap();
    let units: Vec<_> = std::fs::read_dir(resumed.join("units"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(units.len() > 4);
    for u in units.iter().step_by(3) {
        std::fs::remove_file(u).unwrap();
    }
    run_tiny(&resumed, &[]);
    assert_eq!(
        read(whole.join("results.json")),
        read(resumed.join("results.json"))
    );
}

#[test]
fn shards_merge_into_the_single_machine_run() {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    run_tiny(&single, &[]);
    let mut shard_dirs = Vec::new();
    for k in 1..=3 {
        let dir = tmp.path().join(format!("shard{k}"));
        run_tiny(&dir, &["--shard", &format!("{k}/3")]);
        assert!(
            !dir.join("results.json").exists(),
            "a lone shard is not a finished run"
        );
        shard_dirs.push(dir);
    }
    // Two of three shards do not make a run: exit 2, and nothing written to the output folder.
    let partial = tmp.path().join("partial");
    let o = cruxlab(&[
        "merge",
        shard_dirs[0].to_str().unwrap(),
        shard_dirs[1].to_str().unwrap(),
        "--out",
        partial.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("shard 3/3"), "{}", stderr(&o));
    assert!(!partial.exists(), "a failed merge writes nothing");

    let merged = tmp.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shard_dirs.iter().map(|d| d.to_str().unwrap().to_string()));
    args.extend(["--out".to_string(), merged.to_str().unwrap().to_string()]);
    let out = cruxlab(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "merge failed: {}", stderr(&out));
    assert_eq!(
        read(single.join("results.json")),
        read(merged.join("results.json"))
    );
    assert_eq!(
        read(single.join("per_seed.csv")),
        read(merged.join("per_seed.csv"))
    );
}

#[test]
fn unknown_set_key_exits_2_naming_the_key_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("never");
    let o = cruxlab(&[
        "run",
        "retarget",
        "--quick",
        "--set",
        "no.such.key=1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no.such.key"), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).trim().lines().count(),
        1,
        "one clear message: {}",
        stderr(&o)
    );
    assert!(!out.exists(), "nothing may be written on bad input");
}

#[test]
fn config_file_typo_exits_2_naming_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("typo.toml");
    std::fs::write(&config, "seeds = 3\n# a comment\nsises = [9]\n").unwrap();
    let out = tmp.path().join("never");
    let o = cruxlab(&[
        "run",
        "retarget",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let msg = stderr(&o);
    assert!(
        msg.contains("typo.toml") && msg.contains("line 3") && msg.contains("sises"),
        "{msg}"
    );
    assert!(!out.exists());
}

#[test]
fn invalid_value_exits_2_naming_the_key() {
    let o = cruxlab(&[
        "run",
        "retarget",
        "--quick",
        "--set",
        "sizes=[8]",
        "--out",
        "/nonexistent/never",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sizes"), "{}", stderr(&o));
    let o = cruxlab(&["run", "retarget", "--quick", "--set", "seeds=many"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("seeds"), "{}", stderr(&o));
    // A choice is an enum: a misspelt generator or method names its key and the choices.
    for (experiment, set, key) in [
        ("retarget", "levels=[\"mazes\"]", "levels[0]"),
        ("retarget-learned", "methods=[\"stear\"]", "methods[0]"),
    ] {
        let o = cruxlab(&[
            "run",
            experiment,
            "--quick",
            "--set",
            set,
            "--out",
            "/nonexistent/never",
        ]);
        assert_eq!(o.status.code(), Some(2), "{set}");
        let err = stderr(&o);
        assert!(
            err.contains(key) && err.contains("unknown variant"),
            "{err}"
        );
    }
}

#[test]
fn bad_flags_and_names_exit_2() {
    assert_eq!(
        cruxlab(&["run", "retarget", "--no-such-flag"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        cruxlab(&["run", "no-such-experiment"]).status.code(),
        Some(2)
    );
    assert_eq!(
        cruxlab(&["run", "retarget", "--shard", "4/3"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        cruxlab(&["render", "--generate", "maze:8"]).status.code(),
        Some(2)
    );
}

#[test]
fn level_with_stray_character_exits_2_naming_line_and_column() {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/stray.txt");
    let o = cruxlab(&["render", fixture]);
    assert_eq!(o.status.code(), Some(2));
    let msg = stderr(&o);
    assert!(
        msg.contains("stray.txt") && msg.contains("line 3, column 4"),
        "{msg}"
    );
}

#[test]
fn render_prints_and_draws_levels() {
    let o = cruxlab(&["render", "--generate", "maze:13", "--seed", "7"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.lines().count(), 13);
    assert!(text.lines().all(|l| l.chars().count() == 13));
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("maze.png");
    let o = cruxlab(&[
        "render",
        "--generate",
        "rooms:15",
        "--png",
        png.to_str().unwrap(),
        "--cue",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let level = concat!(env!("CARGO_MANIFEST_DIR"), "/../../levels/corridor.txt");
    assert!(cruxlab(&["render", level]).status.success());
}

#[test]
fn list_and_show_describe_experiments() {
    let o = cruxlab(&["list"]);
    assert!(String::from_utf8(o.stdout).unwrap().starts_with("retarget"));
    let o = cruxlab(&["show", "retarget", "--quick"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("Claim:") && text.contains("seeds = 20"),
        "{text}"
    );
}

#[test]
fn trace_shows_where_a_planner_spent_its_compute() {
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("trace.png");
    let args = [
        "trace",
        "--generate",
        "maze:15",
        "--seed",
        "2",
        "--agent",
        "cue",
        "--budget",
        "4",
    ];
    let stale = cruxlab(
        &[
            &args[..],
            &["--swap-to", "cheese", "--png", png.to_str().unwrap()],
        ]
        .concat(),
    );
    assert!(stale.status.success(), "{}", stderr(&stale));
    assert_eq!(&std::fs::read(&png).unwrap()[1..4], b"PNG");
    let rederived = cruxlab(&[&args[..], &["--swap-to", "cheese", "--rederive"]].concat());
    let (stale, rederived) = (
        String::from_utf8(stale.stdout).unwrap(),
        String::from_utf8(rederived.stdout).unwrap(),
    );
    // Re-deriving for cheese makes the cue agent's field exact: SPL 1 at a derivation cost.
    assert!(
        rederived.contains("SPL 1.000") && !rederived.contains("re-derivation cost 0"),
        "{rederived}"
    );
    assert!(stale.contains("re-derivation cost 0"), "{stale}");
    let bad = cruxlab(&["trace", "--generate", "maze:15", "--agent", "dfs"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("unknown agent 'dfs'"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn a_shard_killed_mid_run_is_still_a_run_folder_for_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("killed");
    // The full retarget sweep takes seconds: kill its first shard once some units are stored.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cruxlab"))
        .args([
            "run",
            "retarget",
            "--shard",
            "1/2",
            "--threads",
            "1",
            "--out",
        ])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let units = dir.join("units");
    let started = std::time::Instant::now();
    while std::fs::read_dir(&units).map_or(0, |d| d.count()) < 2 && started.elapsed().as_secs() < 60
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        dir.join("run.json").is_file(),
        "no manifest in the killed run"
    );
    let out = tmp.path().join("merged");
    let o = cruxlab(&[
        "merge",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("2/2"), "{err}");
}

#[test]
fn audit_runs_every_control_and_records_the_status_per_claim() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("audit");
    let mut args = vec!["audit", "retarget", "--out", out.to_str().unwrap()];
    args.extend_from_slice(TINY);
    let output = cruxlab(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("audit:"), "{stdout}");
    let results: serde_json::Value = serde_json::from_str(&read(out.join("results.json"))).unwrap();
    let verdicts = results["verdicts"].as_array().unwrap();
    assert!(!verdicts.is_empty());
    for v in verdicts {
        let status = v["audit"]["status"].as_str().unwrap();
        assert!(
            ["falsifiable", "foregone", "untested"].contains(&status),
            "{status}"
        );
        for c in v["audit"]["controls"].as_array().unwrap() {
            let folder = out.join(c["folder"].as_str().unwrap());
            assert!(
                folder.join("results.json").is_file(),
                "{}",
                folder.display()
            );
        }
    }
    assert!(read(out.join("report.html")).contains("class=\"audit "));
}

#[test]
fn an_audit_whose_config_already_is_a_control_is_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("audit");
    let mut args = vec!["audit", "retarget", "--out", out.to_str().unwrap()];
    args.extend_from_slice(TINY);
    // `swap-loses-half` declares the control `sizes=[5]`: on 5x5 levels it is this run itself.
    args.extend_from_slice(&["--set", "sizes=[5]"]);
    let o = cruxlab(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("[sizes=[5]]") && err.contains("swap-loses-half"),
        "{err}"
    );
    assert!(!out.exists(), "a refused audit writes nothing");
    // The same config runs without audit.
    let mut args = vec!["run", "retarget", "--out", out.to_str().unwrap()];
    args.extend_from_slice(TINY);
    args.extend_from_slice(&["--set", "sizes=[5]"]);
    let o = cruxlab(&args);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn sensitivity_reports_shares_and_rejects_bad_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sens");
    let mut args = vec![
        "sensitivity",
        "retarget",
        "--out",
        out.to_str().unwrap(),
        "--vary",
        "room_density=0..0.4",
        "--samples",
        "3",
    ];
    args.extend_from_slice(TINY);
    let output = cruxlab(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let analysis: serde_json::Value =
        serde_json::from_str(&read(out.join("sensitivity.json"))).unwrap();
    for c in analysis["claims"].as_array().unwrap() {
        let total = c["supported"].as_f64().unwrap()
            + c["refuted"].as_f64().unwrap()
            + c["inconclusive"].as_f64().unwrap();
        assert!((total - 1.0).abs() < 1e-9, "{c}");
    }
    assert!(out.join("sensitivity.html").is_file());
    for bad in ["room_density=0.4..0", "no_such_key=0..1", "levels=0..1"] {
        let output = cruxlab(&[
            "sensitivity",
            "retarget",
            "--quick",
            "--out",
            tmp.path().join("bad").to_str().unwrap(),
            "--vary",
            bad,
        ]);
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", stderr(&output));
        assert!(stderr(&output).contains("--vary"), "{}", stderr(&output));
    }
}

#[test]
fn concurrent_runs_on_one_folder_never_mix_configs() {
    let spawn = |out: &Path, budgets: &str| {
        let mut args = vec!["run", "retarget", "--out", out.to_str().unwrap()];
        args.extend_from_slice(TINY);
        args.extend_from_slice(&["--set", budgets]);
        std::process::Command::new(env!("CARGO_BIN_EXE_cruxlab"))
            .args(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start cruxlab")
    };
    let configs = ["budgets=[1, 64]", "budgets=[1, 16]"];
    let tmp = tempfile::tempdir().unwrap();
    // Clean runs of each config, to compare against.
    let clean: Vec<String> = configs
        .iter()
        .enumerate()
        .map(|(i, budgets)| {
            let dir = tmp.path().join(format!("clean{i}"));
            assert!(spawn(&dir, budgets).wait().unwrap().success());
            read(dir.join("results.json"))
        })
        .collect();
    for attempt in 0..4 {
        let out = tmp.path().join(format!("shared{attempt}"));
        let children: Vec<_> = configs.iter().map(|b| spawn(&out, b)).collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let codes: Vec<Option<i32>> = outputs.iter().map(|o| o.status.code()).collect();
        // One writer wins; the other is refused with exit 2 (the folder is busy, or, if the
        // winner had already finished, holds another config), never a mixed folder.
        let winner = codes
            .iter()
            .position(|c| *c == Some(0))
            .unwrap_or_else(|| panic!("no run succeeded: {codes:?}"));
        let loser = 1 - winner;
        assert_eq!(codes[loser], Some(2), "{}", stderr(&outputs[loser]));
        let err = stderr(&outputs[loser]);
        assert!(
            err.contains("being written by another cruxlab process")
                || err.contains("holds a different config"),
            "{err}"
        );
        assert_eq!(read(out.join("results.json")), clean[winner]);
    }
}

#[test]
fn resource_limits_exit_2_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("never");
    let o = cruxlab(&[
        "run",
        "retarget",
        "--quick",
        "--seeds",
        "1000000000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--max-units"), "{}", stderr(&o));
    let o = cruxlab(&[
        "audit",
        "retarget",
        "--quick",
        "--seeds",
        "1000000000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists(), "nothing written");
    for threads in ["0", "100000"] {
        let o = cruxlab(&["--threads", threads, "list"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--threads"), "{}", stderr(&o));
    }
    // The limit can be raised on purpose.
    let mut args = vec![
        "run",
        "retarget",
        "--max-units",
        "10",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(TINY);
    assert_eq!(cruxlab(&args).status.code(), Some(2));
    let mut args = vec![
        "run",
        "retarget",
        "--max-units",
        "100",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(TINY);
    assert!(cruxlab(&args).status.success());
}

#[test]
fn impossible_output_paths_exit_2_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let under = file.join("sub");
    for out in [&file, &under] {
        let mut args = vec!["run", "retarget", "--out", out.to_str().unwrap()];
        args.extend_from_slice(TINY);
        let o = cruxlab(&args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
    }
    let o = cruxlab(&["run", "retarget", "--quick", "--out", "/proc/cruxlab-run"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    for png in [tmp.path().to_str().unwrap(), under.to_str().unwrap()] {
        let o = cruxlab(&["render", "--generate", "maze:9", "--png", png]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("--png"), "{}", stderr(&o));
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "x",
        "nothing written"
    );
}

#[test]
fn a_shard_into_a_complete_run_and_a_swap_to_the_same_target_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    run_tiny(&whole, &[]);
    let before = read(whole.join("run.json"));
    let mut args = vec![
        "run",
        "retarget",
        "--shard",
        "1/2",
        "--out",
        whole.to_str().unwrap(),
    ];
    args.extend_from_slice(TINY);
    let o = cruxlab(&args);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("complete unsharded run"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        read(whole.join("run.json")),
        before,
        "the folder keeps its label"
    );
    let o = cruxlab(&[
        "trace",
        "--generate",
        "maze:9",
        "--target",
        "cheese",
        "--swap-to",
        "cheese",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--swap-to"), "{}", stderr(&o));
    // A walled-off target is said to be unreachable, not given a sentinel distance.
    let walled = tmp.path().join("walled.txt");
    std::fs::write(&walled, "#####\n#A#D#\n#####\n").unwrap();
    let o = cruxlab(&["trace", walled.to_str().unwrap(), "--budget", "4"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("unreachable") && !out.contains("4294967295"),
        "{out}"
    );
}
