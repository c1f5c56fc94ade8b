//! End-to-end tests of `cruxlab scaling fit | predict | plan` and of the `scaling` experiment: what
//! they print and write, and that bad input exits with code 2 and names the file, line and column.

use crate::common;
use common::{cruxlab, stderr, stdout, write};

use std::path::Path;
use std::process::Output;

use cruxlab_scaling::ParameterSet;
use cruxlab_scaling::synthetic::{Design, to_csv};

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "cruxlab failed: {}", stderr(&o));
    o
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

/// 48 runs from Besiroglu et al.'s law with log-noise 0.005 (4 budgets x 12 sizes).
fn planted_csv(dir: &Path) -> std::path::PathBuf {
    let runs = Design {
        budgets: 4,
        sizes_per_budget: 12,
        ..Design::chinchilla_like()
    }
    .draw(&ParameterSet::besiroglu().law, 4);
    let path = dir.join("runs.csv");
    std::fs::write(&path, to_csv(&runs)).unwrap();
    path
}

fn assert_user_error(o: &Output, needles: &[&str]) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    let err = stderr(o);
    for needle in needles {
        assert!(err.contains(needle), "missing '{needle}' in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn fit_prints_json_and_writes_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = planted_csv(tmp.path());
    let out = tmp.path().join("report");
    let o = ok(cruxlab(&[
        "scaling",
        "fit",
        csv.to_str().unwrap(),
        "--bootstrap",
        "60",
        "--seed",
        "3",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]));
    let v = json(&o);
    for key in ["E", "A", "B", "alpha", "beta"] {
        assert!(v["params"][key].as_f64().unwrap() > 0.0, "params.{key}");
        let ci = v["ci95"][key].as_array().unwrap();
        assert!(ci[0].as_f64().unwrap() <= ci[1].as_f64().unwrap());
    }
    assert_eq!(v["n_points"], 48);
    assert!(v["objective"].as_f64().unwrap() > 0.0);
    let (a, b) = (v["a_opt"].as_f64().unwrap(), v["b_opt"].as_f64().unwrap());
    assert!((a + b - 1.0).abs() < 1e-12);
    // Planted alpha = 0.3478, beta = 0.3658: 48 noisy runs recover them roughly.
    assert!((v["params"]["alpha"].as_f64().unwrap() - 0.3478).abs() < 0.1);
    assert!((v["params"]["beta"].as_f64().unwrap() - 0.3658).abs() < 0.1);
    for file in [
        "fit.json",
        "residuals.csv",
        "fit.svg",
        "residuals.svg",
        "report.html",
    ] {
        assert!(out.join(file).is_file(), "missing {file}");
    }
    let residuals = std::fs::read_to_string(out.join("residuals.csv")).unwrap();
    assert_eq!(residuals.lines().count(), 49);
    // The same seed gives the same intervals.
    let again = ok(cruxlab(&[
        "scaling",
        "fit",
        csv.to_str().unwrap(),
        "--bootstrap",
        "60",
        "--seed",
        "3",
        "--json",
    ]));
    assert_eq!(json(&again)["ci95"], v["ci95"]);

    // The fit's JSON is a parameter file for predict.
    let o = ok(cruxlab(&[
        "scaling",
        "predict",
        "--params",
        out.join("fit.json").to_str().unwrap(),
        "--n",
        "70B",
        "--d",
        "1.4T",
        "--json",
    ]));
    let p = json(&o);
    let law = &v["params"];
    let expected = law["E"].as_f64().unwrap()
        + law["A"].as_f64().unwrap() / 70e9f64.powf(law["alpha"].as_f64().unwrap())
        + law["B"].as_f64().unwrap() / 1.4e12f64.powf(law["beta"].as_f64().unwrap());
    assert!((p["loss"].as_f64().unwrap() - expected).abs() < 1e-12);
}

/// Runs whose tokens per parameter barely vary (about 10 to 40) with deterministic scatter: the model
/// and data terms are hard to tell apart.
fn narrow_ratio_csv(dir: &Path, ratio_spread: f64) -> String {
    let law = ParameterSet::besiroglu().law;
    let mut text = String::from("N,D,loss\n");
    for i in 0..60 {
        let j = (i * 37) % 60;
        let n = (1e7f64.ln() + (1e11f64.ln() - 1e7f64.ln()) * j as f64 / 59.0).exp();
        let d = n * 20.0 * (ratio_spread * (i as f64 * 2.1).sin()).exp();
        let noise = 0.007 * (i as f64 * 7.3).sin();
        text.push_str(&format!("{n},{d},{}\n", law.loss(n, d) * noise.exp()));
    }
    write(dir, &format!("narrow{ratio_spread}.csv"), &text)
}

#[test]
fn poorly_identified_exponents_are_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    // D/N between about 10 and 40: alpha and beta trade off (strong bootstrap correlation).
    let narrow = narrow_ratio_csv(tmp.path(), 0.69);
    let o = ok(cruxlab(&[
        "scaling",
        "fit",
        &narrow,
        "--bootstrap",
        "100",
        "--json",
    ]));
    let v = json(&o);
    let corr = v["bootstrap"]["corr_alpha_beta"].as_f64().unwrap();
    assert!(corr.abs() >= 0.8, "{corr}");
    assert!(
        stderr(&o).contains("alpha and beta are poorly identified"),
        "{}",
        stderr(&o)
    );
    assert!(!v["warnings"].as_array().unwrap().is_empty());
    // D/N fixed at 20: one term absorbs the other and an exponent's interval blows up.
    let fixed = narrow_ratio_csv(tmp.path(), 0.0);
    let o = ok(cruxlab(&["scaling", "fit", &fixed, "--bootstrap", "100"]));
    assert!(
        stderr(&o).contains("is poorly identified"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn fit_table_reads_compute_columns_and_drops_top_losses() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(planted_csv(tmp.path())).unwrap();
    // Rewrite as (size, flops, final) with C = 6ND.
    let mut renamed = String::from("size,flops,final\n");
    for line in text.lines().skip(1) {
        let f: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        renamed.push_str(&format!("{},{},{}\n", f[0], 6.0 * f[0] * f[1], f[2]));
    }
    let path = write(tmp.path(), "flops.csv", &renamed);
    let o = ok(cruxlab(&[
        "scaling",
        "fit",
        &path,
        "--n-col",
        "size",
        "--c-col",
        "flops",
        "--loss-col",
        "final",
        "--drop-top",
        "3",
        "--bootstrap",
        "30",
    ]));
    let table = stdout(&o);
    for needle in [
        "to 45 runs",
        "3 highest losses dropped",
        "D = C / 6N",
        "alpha",
        "a_opt",
        "95% CI",
    ] {
        assert!(table.contains(needle), "missing '{needle}' in:\n{table}");
    }
}

#[test]
fn bad_csv_exits_2_naming_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let good = "N,D,loss\n1e9,2e10,3.1\n2e9,4e10,2.9\n";
    let cases: [(&str, String, &[&str]); 6] = [
        (
            "nonnumeric.csv",
            format!("{good}3e9,abc,2.8\n"),
            &[
                "nonnumeric.csv",
                "line 4",
                "column 'D'",
                "'abc' is not a number",
            ],
        ),
        (
            "negative.csv",
            format!("{good}3e9,5e10,-2.8\n"),
            &[
                "negative.csv",
                "line 4",
                "column 'loss'",
                "not finite and positive",
            ],
        ),
        (
            "zero.csv",
            "N,D,loss\n0,2e10,3.1\n".to_owned(),
            &["zero.csv", "line 2", "column 'N'"],
        ),
        ("empty.csv", String::new(), &["empty.csv", "empty file"]),
        (
            "header.csv",
            "N,D,loss\n".to_owned(),
            &["header.csv", "no data rows"],
        ),
        (
            "columns.csv",
            "params,D,loss\n1,2,3\n".to_owned(),
            &["columns.csv", "no column named 'N'"],
        ),
    ];
    for (name, text, needles) in cases {
        let path = write(tmp.path(), name, &text);
        assert_user_error(&cruxlab(&["scaling", "fit", &path]), needles);
    }
    // Sixty identical rows are one point, not sixty runs; a header naming a column twice is
    // ambiguous.
    let same = write(
        tmp.path(),
        "same.csv",
        &format!("N,D,loss\n{}", "1e9,2e10,3.1\n".repeat(60)),
    );
    assert_user_error(
        &cruxlab(&["scaling", "fit", &same]),
        &["same.csv", "60 runs at only 1 distinct (N, D) points"],
    );
    let twice = write(tmp.path(), "twice.csv", "N,D,N,loss\n1,2,3,4\n");
    assert_user_error(
        &cruxlab(&["scaling", "fit", &twice]),
        &["twice.csv", "line 1", "'N' is named twice"],
    );
    let few = write(tmp.path(), "few.csv", good);
    assert_user_error(
        &cruxlab(&["scaling", "fit", &few]),
        &["few.csv", "2 runs", "at least 6"],
    );
    assert_user_error(
        &cruxlab(&[
            "scaling",
            "fit",
            tmp.path().join("absent.csv").to_str().unwrap(),
        ]),
        &["absent.csv"],
    );
    assert_user_error(
        &cruxlab(&["scaling", "fit", &few, "--d-col", "D", "--c-col", "C"]),
        &["--c-col"],
    );
}

#[test]
fn predict_splits_the_loss_under_published_sets() {
    // GPT-3 under Hoffmann et al.'s printed parameters, by hand (Python):
    // 1.69 + 406.4 / 175e9**0.34 + 410.7 / 300e9**0.28.
    let o = ok(cruxlab(&[
        "scaling",
        "predict",
        "--params",
        "hoffmann-printed",
        "--n",
        "175e9",
        "--d",
        "300e9",
        "--json",
    ]));
    let v = json(&o);
    assert!((v["loss"].as_f64().unwrap() - 2.0022879365177095).abs() < 1e-12);
    assert!((v["model_term"].as_f64().unwrap() - 0.06113934232593426).abs() < 1e-14);
    assert!((v["data_term"].as_f64().unwrap() - 0.2511485941917754).abs() < 1e-14);

    let o = ok(cruxlab(&[
        "scaling",
        "predict",
        "--params",
        "muennighoff",
        "--n",
        "6.34e9",
        "--d",
        "242e9",
        "--unique-tokens",
        "25e9",
        "--json",
    ]));
    let dc = &json(&o)["data_constrained"];
    assert!((dc["loss"].as_f64().unwrap() - 2.2256440889984477).abs() < 1e-9);
    assert!((dc["epochs"].as_f64().unwrap() - 9.68).abs() < 1e-12);

    let table = stdout(&ok(cruxlab(&[
        "scaling", "predict", "--n", "70B", "--d", "1.4T",
    ])));
    assert!(
        table.contains("hoffmann-printed") && table.contains("data term dominates"),
        "{table}"
    );
    let sets = stdout(&ok(cruxlab(&["scaling", "sets"])));
    for id in [
        "hoffmann-printed",
        "hoffmann-unrounded",
        "besiroglu",
        "muennighoff",
        "R_D* = 15.387756",
    ] {
        assert!(sets.contains(id), "missing {id}");
    }
}

#[test]
fn bad_predict_and_plan_input_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    assert_user_error(
        &cruxlab(&["scaling", "predict", "--n", "abc", "--d", "1e9"]),
        &["--n", "abc"],
    );
    assert_user_error(
        &cruxlab(&["scaling", "predict", "--n", "-5", "--d", "1e9"]),
        &["--n", "positive"],
    );
    assert_user_error(
        &cruxlab(&[
            "scaling", "predict", "--params", "kaplan", "--n", "1e9", "--d", "1e9",
        ]),
        &["kaplan", "hoffmann-printed"],
    );
    let bad = write(
        tmp.path(),
        "bad.json",
        "{\"params\": {\"E\": 1.7, \"A\": 400}}",
    );
    assert_user_error(
        &cruxlab(&[
            "scaling", "predict", "--params", &bad, "--n", "1e9", "--d", "1e9",
        ]),
        &["bad.json", "params.B"],
    );
    let broken = write(tmp.path(), "broken.json", "{\"params\": ");
    assert_user_error(
        &cruxlab(&["scaling", "plan", "--params", &broken, "--compute", "1e21"]),
        &["broken.json", "not valid JSON"],
    );
    assert_user_error(
        &cruxlab(&[
            "scaling",
            "plan",
            "--params",
            "besiroglu",
            "--compute",
            "1e21",
            "--unique-tokens",
            "1e9",
        ]),
        &["repetition constants"],
    );
}

#[test]
fn plan_matches_the_closed_form_and_writes_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    let o = ok(cruxlab(&[
        "scaling",
        "plan",
        "--params",
        "besiroglu",
        "--compute",
        "5.88e23",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]));
    let v = json(&o);
    // G = (alpha A / (beta B))^(1/(alpha+beta)), N_opt = G (C/6)^(beta/(alpha+beta)).
    let (a, b, alpha, beta) = (482.01f64, 2085.43f64, 0.3478f64, 0.3658f64);
    let g = (alpha * a / (beta * b)).powf(1.0 / (alpha + beta));
    let n_opt = g * (5.88e23f64 / 6.0).powf(beta / (alpha + beta));
    let plan = &v["plans"][0];
    assert!((plan["N"].as_f64().unwrap() / n_opt - 1.0).abs() < 1e-12);
    assert!(
        (plan["N"].as_f64().unwrap() * plan["D"].as_f64().unwrap() * 6.0 / 5.88e23 - 1.0).abs()
            < 1e-12
    );
    for file in ["plan.json", "isoflop.svg", "frontier.svg"] {
        assert!(out.join(file).is_file(), "missing {file}");
    }

    // With 100B unique tokens and 1e24 FLOPs, data must be repeated. Under Muennighoff et al.'s law
    // parameters beyond what the unique data supports lose value faster (R_N* = 5.3) than repeated
    // tokens do (R_D* = 15.4), so the best plan is a smaller model trained for more epochs than the
    // unconstrained plan, and it does at least as well under repetition.
    let o = ok(cruxlab(&[
        "scaling",
        "plan",
        "--params",
        "muennighoff",
        "--compute",
        "1e24",
        "--unique-tokens",
        "100B",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]));
    let dc = &json(&o)["plans"][0]["data_constrained"];
    let epochs = dc["epochs"].as_f64().unwrap();
    assert!(
        epochs > dc["unconstrained_plan_epochs"].as_f64().unwrap(),
        "{dc}"
    );
    assert!(dc["N"].as_f64().unwrap() < json(&o)["plans"][0]["N"].as_f64().unwrap());
    assert!(dc["loss"].as_f64().unwrap() <= dc["unconstrained_plan_loss"].as_f64().unwrap());
    let svg = std::fs::read_to_string(out.join("isoflop.svg")).unwrap();
    assert!(svg.contains("limited unique data"));
}

#[test]
fn scaling_experiment_runs_with_published_sets_and_a_small_fit() {
    let tmp = tempfile::tempdir().unwrap();
    // The experiment reads C (FLOPs) columns, as in Epoch's file.
    let runs = Design {
        budgets: 4,
        sizes_per_budget: 8,
        ..Design::chinchilla_like()
    }
    .draw(&ParameterSet::besiroglu().law, 9);
    let mut text = String::from("Model Size,Training FLOP,loss\n");
    for r in &runs {
        text.push_str(&format!("{},{},{}\n", r.n, 6.0 * r.n * r.d, r.loss));
    }
    let data = write(tmp.path(), "points.csv", &text);
    let out = tmp.path().join("run");
    // What a writer killed mid-write leaves in the artifact cache: the prepare stage deletes it
    // once it is old and its process gone, and leaves a recent one (a live write elsewhere).
    let cache = out.join("artifacts");
    std::fs::create_dir_all(&cache).unwrap();
    let abandoned = cache.join(".cruxlab-4294967295-old.tmp");
    let recent = cache.join(".cruxlab-4294967295-new.tmp");
    std::fs::write(&recent, b"half").unwrap();
    std::fs::File::create(&abandoned)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    let o = ok(cruxlab(&[
        "run",
        "scaling",
        "--quick",
        "--seeds",
        "2",
        "--set",
        &format!("data_file=\"{data}\""),
        "--set",
        "drop_top=0",
        "--set",
        "resamples_per_seed=20",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(stdout(&o).contains("scaling: report at"));
    assert!(
        !abandoned.exists(),
        "an abandoned temporary file is deleted"
    );
    assert!(recent.exists(), "a recent one is left to its writer");
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let verdicts = results["verdicts"].as_array().unwrap();
    let printed = verdicts
        .iter()
        .find(|v| v["id"] == "data-dominates-printed")
        .expect("the claim about the printed parameters");
    assert_eq!(printed["verdict"], "supported", "{printed}");
    let fitted = results["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["metric"] == "data_share_lo"
                && m["condition"]["model"] == "GPT-3"
                && m["condition"]["set"] == "fit-epoch"
        })
        .expect("the fit's bootstrap bounds");
    assert_eq!(fitted["condition"]["set"], "fit-epoch");
    assert_eq!(fitted["n"], 2);
    let fixed = results["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "data_share" && m["condition"]["set"] == "hoffmann-printed")
        .unwrap();
    assert_eq!(
        fixed["ci_low"], fixed["ci_high"],
        "a fixed set's interval collapses"
    );
    assert!(out.join("data_share.svg").is_file());
    // The data half: where a stock of text binds, and what repeating it is worth.
    let metric = |name: &str, set: &str, stock: f64| {
        results["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| {
                m["metric"] == name
                    && m["condition"]["set"] == set
                    && m["condition"]["stock"].as_f64() == Some(stock)
            })
            .unwrap_or_else(|| panic!("{name} for {set} at {stock:e}"))["mean"]
            .as_f64()
            .unwrap()
    };
    // Under the printed set (alpha 0.34, beta 0.28) D_opt(C) = 3e14 at C = 6 (G 3e14)^(1/b), by
    // hand: G = (0.34 406.4 / (0.28 410.7))^(1/0.62) = 1.3447, b = 0.34/0.62, so C = 2.583e27.
    let bind = metric("bind_compute", "hoffmann-printed", 3e14);
    assert!((bind / 2.583e27 - 1.0).abs() < 1e-3, "{bind:e}");
    let value = metric("repeated_compute_value", "muennighoff", 3e14);
    let once = metric("one_epoch_compute_value", "muennighoff", 3e14);
    assert!(0.0 < once && once < value && value < 1.0, "{once} {value}");
    assert!(out.join("repeated_compute_value.svg").is_file());
    for (set, message) in [
        ("text_stocks=[]", "text_stocks"),
        ("text_stocks=[0.5]", "text_stocks"),
        ("repeat_epochs=1", "repeat_epochs"),
    ] {
        let bad = tmp.path().join("bad");
        let o = cruxlab(&[
            "run",
            "scaling",
            "--quick",
            "--set",
            set,
            "--out",
            bad.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{set}");
        assert!(stderr(&o).contains(message), "{set}: {}", stderr(&o));
        assert!(!bad.exists());
    }
}

#[test]
fn the_experiment_rejects_a_malformed_data_file_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write(
        tmp.path(),
        "points.csv",
        "Model Size,Training FLOP,loss\n1e9,6e19,2.5\n2e9,not-a-number,2.4\n",
    );
    let out = tmp.path().join("run");
    let o = cruxlab(&[
        "run",
        "scaling",
        "--quick",
        "--set",
        &format!("data_file=\"{data}\""),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("data_file") && err.contains("points.csv") && err.contains("line 3"),
        "{err}"
    );
    assert!(!out.exists());
}

/// `cruxlab ARGS` started in `dir` with extra environment variables.
fn cruxlab_in(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_cruxlab"));
    command.current_dir(dir).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run cruxlab")
}

#[test]
fn the_experiment_never_falls_back_silently_from_its_data_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("named");
    // A file the user named and that cannot be read is bad input: exit 2, nothing written.
    assert_user_error(
        &cruxlab(&[
            "run",
            "scaling",
            "--quick",
            "--set",
            "data_file=\"/nonexistent/points.csv\"",
            "--out",
            out.to_str().unwrap(),
        ]),
        &["data_file", "/nonexistent/points.csv"],
    );
    assert!(!out.exists());

    // The reference data absent: the run says so on stderr, in results.json and in the report,
    // and fits planted data.
    let empty = tmp.path().join("no-data");
    std::fs::create_dir(&empty).unwrap();
    let out = tmp.path().join("absent");
    let small = [
        "--set",
        "sets=[\"fit\"]",
        "--set",
        "seeds=2",
        "--set",
        "resamples_per_seed=20",
    ];
    let mut args = vec!["run", "scaling", "--quick", "--out", out.to_str().unwrap()];
    args.extend(small);
    let o = ok(cruxlab_in(
        tmp.path(),
        &[("CRUXLAB_DATA", empty.to_str().unwrap())],
        &args,
    ));
    let err = stderr(&o);
    assert!(
        err.contains("warning: scaling:") && err.contains("claims that need real data are skipped"),
        "{err}"
    );
    let results = common::read(out.join("results.json"));
    assert!(results.contains("claims that need real data are skipped"));
    assert!(results.contains("fit-synthetic"));
    assert!(common::read(out.join("report.html")).contains("class=\"warning\""));

    // The default is found from any working directory where the reference data is on the machine.
    if cruxlab_core::reference::locate("chinchilla/svg_extracted_data.csv").is_some()
        && std::env::var_os(cruxlab_core::reference::DATA_ENV).is_none()
    {
        let out = tmp.path().join("found");
        let mut args = vec!["run", "scaling", "--quick", "--out", out.to_str().unwrap()];
        args.extend(small);
        let o = ok(cruxlab_in(&empty, &[], &args));
        assert!(!stderr(&o).contains("warning: scaling:"), "{}", stderr(&o));
        assert!(common::read(out.join("results.json")).contains("fit-epoch"));
    }
}
