//! End-to-end: the learned-agent experiments through the `cruxlab` binary on tiny configs.

use crate::common;
use common::cruxlab;

/// Training small enough for a test: 7x7 mazes, a tiny MLP, 4 iterations of 256 steps.
const TINY: &[&str] = &[
    "--quick",
    "--seeds",
    "2",
    "--set",
    "train.ppo.total_steps=2048",
    "--set",
    "train.ppo.num_envs=8",
    "--set",
    "train.net.hidden=[16]",
    "--set",
    "train.checkpoints=2",
    "--set",
    "eval_levels=20",
];

#[test]
fn misgeneralize_runs_and_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let mut args = vec![
            "run",
            "misgeneralize",
            "--out",
            dir.to_str().unwrap(),
            "--threads",
            threads,
        ];
        args.extend_from_slice(TINY);
        args.extend_from_slice(&["--set", "regions=[1]"]);
        let out = cruxlab(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for file in ["config.toml", "results.json", "per_seed.csv", "report.html"] {
        assert!(a.join(file).is_file(), "missing {file}");
    }
    let read = |p: std::path::PathBuf| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(a.join("results.json")), read(b.join("results.json")));
    let results: serde_json::Value = serde_json::from_str(&read(a.join("results.json"))).unwrap();
    assert_eq!(results["experiment"], "misgeneralize");
    let metrics: Vec<&str> = results["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    for m in [
        "in_dist_success",
        "ood_success",
        "ood_corner",
        "p_diamond_branch_median",
    ] {
        assert!(metrics.contains(&m), "no metric {m}");
    }
    let ids: Vec<&str> = results["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "competent-in-distribution",
            "goal-misgeneralises",
            "capability-generalises",
            "diversity-helps",
            "features-predict"
        ]
    );
}

#[test]
fn retarget_learned_audits_with_planners_beside_the_network() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let mut args = vec!["audit", "retarget-learned", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(TINY);
    // The tiny network has one hidden layer: steer and edit there.
    args.extend_from_slice(&[
        "--set",
        "calibration_levels=5",
        "--set",
        "steer_levels=20",
        "--set",
        "layer=\"fc1\"",
        "--set",
        "steer_layers=[\"fc1\"]",
    ]);
    let out = cruxlab(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    let methods: Vec<String> = results["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["metric"] == "reach")
        .map(|m| m["condition"]["method"].as_str().unwrap().to_string())
        .collect();
    for m in ["edit", "none", "real", "astar", "bfs"] {
        assert!(methods.iter().any(|x| x == m), "no reach rate for {m}");
    }
    let verdicts = results["verdicts"].as_array().unwrap();
    assert_eq!(verdicts[0]["id"], "cheese-vector-steers");
    assert!(
        verdicts[0]["claim"]
            .as_str()
            .unwrap()
            .contains("0.81 -> 0.03")
    );
    // Every claim was audited: its controls ran (p_anywhere 0, a starved planner) and said something.
    for v in verdicts {
        let audit = &v["audit"];
        assert!(audit["status"].is_string(), "{v}");
        for c in audit["controls"].as_array().unwrap() {
            assert!(c["verdict"].is_string(), "{c}");
        }
    }
    assert!(dir.join("controls/01/results.json").is_file());
    assert!(dir.join("controls/02/results.json").is_file());
}

#[test]
fn a_bad_layer_name_is_a_user_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bad");
    let out = cruxlab(&[
        "run",
        "retarget-learned",
        "--quick",
        "--out",
        dir.to_str().unwrap(),
        "--set",
        "layer=conv9",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no activation site 'conv9'"));
}

#[test]
fn shards_follows_one_run_through_its_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let mut args = vec!["run", "shards", "--out", dir.to_str().unwrap()];
    args.extend_from_slice(TINY);
    args.extend_from_slice(&["--set", "probe_levels=60"]);
    let out = cruxlab(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    let metrics = results["metrics"].as_array().unwrap();
    // The initial network and two checkpoints, each with a probe per site of the one-layer MLP.
    let steps: Vec<u64> = metrics
        .iter()
        .filter(|m| m["metric"] == "competence")
        .map(|m| m["condition"]["env_steps"].as_u64().unwrap())
        .collect();
    // Two training distributions (regions 1 and 3), three snapshots each.
    assert_eq!(steps, vec![0, 1024, 2048, 0, 1024, 2048]);
    for m in [
        "probe_input",
        "probe_fc1",
        "probe_best_hidden",
        "probe_chance",
        "diamond_share",
    ] {
        assert!(metrics.iter().any(|x| x["metric"] == m), "no metric {m}");
    }
    assert_eq!(results["verdicts"].as_array().unwrap().len(), 5);
    assert!(dir.join("probe_fc1.svg").is_file());
    assert!(dir.join("probe_best_hidden.svg").is_file());
}
