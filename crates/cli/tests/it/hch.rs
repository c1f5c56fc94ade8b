//! End to end: `cruxlab run hch` on a tiny quick config writes the run folder with every claim,
//! the stability boundary plot and reproducible results; bad values exit 2 naming the key.

use crate::common;
use common::{cruxlab, read, stderr};

const TINY: &[&str] = &[
    "--quick",
    "--seeds",
    "3",
    "--set",
    "questions=20",
    "--set",
    "closed_form.trials=500",
    "--set",
    "closed_form.questions=100",
    "--set",
    "allocation.questions=200",
    "--set",
    "debate.questions=50",
    "--set",
    "stability.pool=200",
];

#[test]
fn hch_runs_and_reports_every_claim_with_the_boundary_plot() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        let out = tmp.path().join(name);
        let mut args = vec!["run", "hch", "--out", out.to_str().unwrap()];
        args.extend_from_slice(TINY);
        let o = cruxlab(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        out
    };
    let out = run("a");
    for file in [
        "config.toml",
        "results.json",
        "per_seed.csv",
        "report.html",
        "stability_boundary.svg",
        "contamination.svg",
        "accuracy_path.svg",
    ] {
        assert!(out.join(file).is_file(), "missing {file}");
    }
    let results: serde_json::Value = serde_json::from_str(&read(out.join("results.json"))).unwrap();
    let verdicts = results["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 11);
    let metric = |name: &str, filter: &[(&str, serde_json::Value)]| {
        results["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["metric"] == name && filter.iter().all(|(k, v)| m["condition"][*k] == *v))
            .unwrap_or_else(|| panic!("no {name}"))["mean"]
            .as_f64()
            .unwrap()
    };
    // The closed form of a vote of three is computed, not sampled: 3 * 0.2^2 - 2 * 0.2^3.
    let closed = metric(
        "majority_closed_form",
        &[("part", "closed_form".into()), ("epsilon", 0.2.into())],
    );
    assert!((closed - 0.104).abs() < 1e-12);
    // Uncorrected trees lose accuracy with depth.
    let at = |d: u64| {
        metric(
            "accuracy",
            &[
                ("part", "depth".into()),
                ("task", "count".into()),
                ("correction", "none".into()),
                ("depth", d.into()),
            ],
        )
    };
    assert!(at(3) < at(1));
    // Same config and seeds: the same bytes.
    let again = run("b");
    assert_eq!(
        read(out.join("results.json")),
        read(again.join("results.json"))
    );
    assert!(read(out.join("report.html")).contains("correlation-lowers-threshold"));

    let bad = cruxlab(&["run", "hch", "--quick", "--set", "agent.k=2"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("agent.k"), "{}", stderr(&bad));
}
