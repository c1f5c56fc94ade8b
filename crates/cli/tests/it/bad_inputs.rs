//! The bad-input corpus (`tests/bad-inputs/`, cases in its `manifest.toml`): every case runs the
//! `cruxlab` binary in a fresh temporary folder and must exit with its code, print one `error:`
//! message naming the place (file, line, column or key) the manifest lists, never panic, and write
//! nothing at all (the `--out` folder included).

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn inputs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-inputs")
}

struct Case {
    name: String,
    args: Vec<String>,
    exit: i32,
    stderr: Vec<String>,
}

fn strings(case: &toml::Table, key: &str, name: &str) -> Vec<String> {
    case.get(key)
        .and_then(|v| v.as_array())
        .unwrap_or_else(|| panic!("case {name}: '{key}' must be an array"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("case {name}: '{key}' holds strings"))
                .to_owned()
        })
        .collect()
}

fn cases() -> Vec<Case> {
    let text = common::read(inputs().join("manifest.toml"));
    let manifest: toml::Table = toml::from_str(&text).expect("manifest.toml parses");
    let cases = manifest["case"].as_array().expect("[[case]] entries");
    cases
        .iter()
        .map(|c| {
            let c = c.as_table().expect("a case is a table");
            let name = c["name"].as_str().expect("a case has a name").to_owned();
            for key in c.keys() {
                assert!(
                    ["name", "why", "args", "exit", "stderr"].contains(&key.as_str()),
                    "case {name}: unknown key '{key}'"
                );
            }
            Case {
                args: strings(c, "args", &name),
                stderr: strings(c, "stderr", &name),
                exit: c["exit"].as_integer().expect("exit is an integer") as i32,
                name,
            }
        })
        .collect()
}

/// Every file and folder under `dir` with the contents of the files: what "nothing was written"
/// compares.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                out.insert(path.clone(), None);
                stack.push(path);
            } else {
                out.insert(path.clone(), Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

/// Run one case; the list of what went wrong (empty if it held).
fn check(case: &Case) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::write(root.join("a-file"), "keep").unwrap();
    std::fs::create_dir(root.join("empty")).unwrap();
    let substitute = |arg: &str| {
        arg.replace("{inputs}", inputs().to_str().unwrap())
            .replace("{tmp}", root.to_str().unwrap())
            .replace("{out}", root.join("out").to_str().unwrap())
            .replace("{file}", root.join("a-file").to_str().unwrap())
            .replace("{empty}", root.join("empty").to_str().unwrap())
    };
    let args: Vec<String> = case.args.iter().map(|a| substitute(a)).collect();
    let before = snapshot(root);
    let output = Command::new(env!("CARGO_BIN_EXE_cruxlab"))
        .args(&args)
        .current_dir(root)
        .env_remove("RUST_LOG")
        .output()
        .expect("run cruxlab");
    let stderr = common::stderr(&output);
    let mut wrong = Vec::new();
    match output.status.code() {
        Some(code) if code == case.exit => {}
        code => wrong.push(format!("exit code {code:?}, expected {}", case.exit)),
    }
    if !stderr.starts_with("error:") {
        wrong.push("stderr does not start with 'error:'".into());
    }
    if stderr.contains("panicked") {
        wrong.push("panicked".into());
    }
    for text in &case.stderr {
        if !stderr.contains(text.as_str()) {
            wrong.push(format!("the message does not name {text:?}"));
        }
    }
    let after = snapshot(root);
    if after != before {
        let changed: Vec<_> = after
            .keys()
            .chain(before.keys())
            .filter(|p| after.get(*p) != before.get(*p))
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        wrong.push(format!("wrote {changed:?}"));
    }
    if !wrong.is_empty() {
        wrong.push(format!("cruxlab {}\n    {}", args.join(" "), stderr.trim()));
    }
    wrong
}

#[test]
fn every_bad_input_is_refused_with_its_code_and_place_and_writes_nothing() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "the corpus shrank to {} cases",
        cases.len()
    );
    let mut names = std::collections::BTreeSet::new();
    for c in &cases {
        assert!(
            names.insert(c.name.as_str()),
            "case {} appears twice",
            c.name
        );
        assert!(!c.stderr.is_empty(), "case {}: names no place", c.name);
    }
    let inputs_before = snapshot(&inputs());
    // Two at a time: each case is a process start and a config resolution, well under a second.
    let failures: Vec<String> = std::thread::scope(|s| {
        let half = cases.len().div_ceil(2);
        let handles: Vec<_> = cases
            .chunks(half)
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|c| {
                            let wrong = check(c);
                            (!wrong.is_empty()).then(|| format!("{}: {}", c.name, wrong.join("; ")))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(
        snapshot(&inputs()),
        inputs_before,
        "a case wrote into tests/bad-inputs/"
    );
    assert!(
        failures.is_empty(),
        "{} of {} bad-input cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_input_file_is_used_by_a_case() {
    let manifest = common::read(inputs().join("manifest.toml"));
    for e in std::fs::read_dir(inputs()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name != "manifest.toml" {
            assert!(
                manifest.contains(&format!("{{inputs}}/{name}")),
                "tests/bad-inputs/{name} is in no case"
            );
        }
    }
}
