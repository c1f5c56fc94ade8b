//! End to end: the induction experiment's quick config, its files, claims and audit.

use crate::common;
use common::{cruxlab, read, stderr};

#[test]
fn induction_quick_runs_audits_and_is_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    // The quick config with fewer seeds and a shorter program bound, to keep the test fast.
    let args = |dir: &std::path::Path| {
        vec![
            "audit".to_string(),
            "induction".into(),
            "--quick".into(),
            "--seeds".into(),
            "4".into(),
            "--set".into(),
            "max_bits=20".into(),
            "--set".into(),
            "data_sizes=[1, 8, 32]".into(),
            "--out".into(),
            dir.to_str().unwrap().into(),
        ]
    };
    let run = |dir: &std::path::Path| {
        let a = args(dir);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        cruxlab(&a)
    };
    let o = run(&out);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in [
        "config.toml",
        "results.json",
        "per_seed.csv",
        "report.html",
        "mass_search.svg",
        "mass_search_other.svg",
    ] {
        assert!(out.join(file).is_file(), "missing {file}");
    }
    let results: serde_json::Value = serde_json::from_str(&read(out.join("results.json"))).unwrap();
    let verdicts = results["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 6);
    assert!(
        verdicts
            .iter()
            .any(|v| v["id"] == "switch-follows-the-arithmetic")
    );
    for v in verdicts {
        assert!(v["audit"]["status"].is_string(), "{v}");
    }
    // Family masses sum to one in every condition.
    let metrics = results["metrics"].as_array().unwrap();
    for prior in ["simplicity", "speed", "weak-speed"] {
        let total: f64 = ["reflex", "lookup", "search_goal", "search_other", "mixed"]
            .iter()
            .map(|f| {
                metrics
                    .iter()
                    .find(|m| {
                        m["metric"] == format!("mass_{f}")
                            && m["condition"]["prior"] == prior
                            && m["condition"]["n"] == 8
                    })
                    .unwrap()["mean"]
                    .as_f64()
                    .unwrap()
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "{prior}: {total}");
    }
    // Same config and seeds: the same bytes.
    let again = tmp.path().join("again");
    assert!(run(&again).status.success());
    assert_eq!(
        read(out.join("results.json")),
        read(again.join("results.json"))
    );

    let bad = cruxlab(&["run", "induction", "--quick", "--set", "size=8"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("size"), "{}", stderr(&bad));
}
