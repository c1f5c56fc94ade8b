//! End-to-end tests of `cruxlab bargain matchups` and of `cruxlab run bargaining`.

use crate::common;
use common::{cruxlab, stderr, stdout, write};

#[test]
fn matchups_table_prints_moves_and_payoffs() {
    let o = cruxlab(&["bargain", "matchups"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    let row = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no row {name} in\n{text}"))
            .split_whitespace()
            .skip(1)
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    // Columns: CooperateBot DefectBot FairBot PrudentBot TrollBot CliqueBot.
    assert_eq!(row("PrudentBot")[..4], ["D/C", "D/D", "C/C", "C/C"]);
    assert_eq!(row("FairBot")[..4], ["C/C", "D/D", "C/C", "C/C"]);
    assert_eq!(row("CliqueBot")[5], "C/C");
    assert!(text.contains("Row's payoff (T=5, R=3, P=1, S=0)"));
    assert!(text.contains("PrudentBot   = box them(me) & box (!box false -> !them(DefectBot))"));
}

#[test]
fn matchups_json_with_user_agents() {
    let tmp = tempfile::tempdir().unwrap();
    let agents = write(
        tmp.path(),
        "agents.txt",
        "# my agents\nCopycat = box them(me)\nGrudger = box them(me) & !them(DefectBot)\n",
    );
    let o = cruxlab(&["bargain", "matchups", "--agents", &agents, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let agents = v["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 8);
    assert_eq!(agents[6]["name"], "Copycat");
    let find = |row: &str, column: &str| {
        v["matchups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["row"] == row && m["column"] == column)
            .cloned()
            .unwrap()
    };
    let m = find("Copycat", "PrudentBot");
    assert_eq!(
        (m["row_move"].as_str(), m["column_move"].as_str()),
        (Some("C"), Some("C"))
    );
    assert_eq!(m["row_payoff"], 3.0);
    let m = find("FairBot", "DefectBot");
    assert_eq!(m["row_move"], "D");
    assert_eq!(m["stable_from_world"], 1);
    assert_eq!(v["matchups"].as_array().unwrap().len(), 64);
}

#[test]
fn agent_file_errors_exit_2_with_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = write(tmp.path(), "bad.txt", "Ok = true\nBroken = box (them(me)\n");
    let o = cruxlab(&["bargain", "matchups", "--agents", &bad]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "agents file {bad}: line 2, column 23: expected ')'"
        )),
        "{err}"
    );

    let unknown = write(tmp.path(), "unknown.txt", "X = box them(Nobody)\n");
    let o = cruxlab(&["bargain", "matchups", "--agents", &unknown]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("line 1, column 14: unknown agent 'Nobody'"),
        "{}",
        stderr(&o)
    );

    let cycle = write(tmp.path(), "cycle.txt", "Mirror = them(me)\n");
    let o = cruxlab(&["bargain", "matchups", "--agents", &cycle]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("'Mirror(Mirror)' depends on itself outside any box"),
        "{}",
        stderr(&o)
    );

    let o = cruxlab(&["bargain", "matchups", "--agents", "/no/such/file.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("panicked"));
}

#[test]
fn bargaining_runs_and_reports_verdicts_and_matchups() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = cruxlab(&[
        "run",
        "bargaining",
        "--quick",
        "--seeds",
        "3",
        "--set",
        "encounters=60",
        "--set",
        "sigmas=[0.0, 0.2]",
        "--set",
        "matchups.samples=10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for file in [
        "config.toml",
        "results.json",
        "per_seed.csv",
        "report.html",
        "failure_rate.svg",
    ] {
        assert!(out.join(file).is_file(), "missing {file}");
    }
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let verdicts = results["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 16);
    let table = verdicts
        .iter()
        .find(|v| v["id"] == "modal-matchups-agree-with-literature")
        .expect("the modal table's claim");
    assert_eq!(table["verdict"], "supported");
    // One cell per modal matchup the paper states, each reproduced in every seed.
    let cells = table["evidence"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 25);
    let prudent = cells
        .iter()
        .find(|c| c["cell"]["row"] == "PrudentBot" && c["cell"]["column"] == "CooperateBot")
        .unwrap();
    assert_eq!(
        (prudent["estimate"].as_f64(), prudent["n"].as_u64()),
        (Some(1.0), Some(3))
    );
    // (c) is split into two claims per adoption mode.
    for id in [
        "homogeneity-makes-surrogates-universal-inherited",
        "homogeneity-averts-more-damage-inherited",
    ] {
        assert!(verdicts.iter().any(|v| v["id"] == id), "no claim {id}");
    }
    let metrics = results["metrics"].as_array().unwrap();
    let m = metrics
        .iter()
        .find(|m| {
            m["metric"] == "row_cooperates"
                && m["condition"]["part"] == "modal"
                && m["condition"]["row"] == "FairBot"
                && m["condition"]["column"] == "PrudentBot"
        })
        .unwrap();
    assert_eq!(m["mean"], 1.0);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("row_cooperates") && html.contains("failure_rate"));

    let bad = cruxlab(&["run", "bargaining", "--quick", "--set", "surrogate_p=[1.5]"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("surrogate_p"), "{}", stderr(&bad));
}

#[test]
fn a_formula_nested_ten_thousand_deep_is_bad_input_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let agents = write(
        dir.path(),
        "deep.txt",
        &format!("Deep = {}them(me)\n", "!".repeat(10_000)),
    );
    let o = cruxlab(&["bargain", "matchups", "--agents", &agents]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("line 1"), "{}", stderr(&o));
}
