//! `cruxlab play`: replays print the original environments' numbers; bad input exits 2.

use std::process::Command;

fn play(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cruxlab"))
        .arg("play")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn play_prints_reward_and_hidden_performance_as_json() {
    let out = play(&["side_effects_sokoban:0", "--actions", "DRDRD", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["reward"], 45.0);
    assert_eq!(v["hidden_performance"], 35.0);
    assert_eq!(v["terminated"], true);
    assert_eq!(v["steps"], 5);
    let out = play(&["absent_supervisor:absent", "--actions", "ddd", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["reward"].as_f64(), v["hidden_performance"].as_f64()),
        (Some(47.0), Some(17.0))
    );
}

#[test]
fn play_refuses_bad_input_with_exit_code_2() {
    let out = play(&["no_such_env", "--actions", "U"]);
    assert_eq!(out.status.code(), Some(2));
    let out = play(&["aup:options", "--actions", "UXD"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("character 2"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.txt");
    std::fs::write(&file, "rules = dog\nmax_steps = 5\n#####\n#AD.#\n#####\n").unwrap();
    let out = play(&[file.to_str().unwrap(), "--actions", "U"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.txt") && err.contains("movement_reward"),
        "{err}"
    );
}
