//! Long work shows progress on a terminal, and only there: a bar on stderr when it is a terminal
//! (run under `script`, which gives the command a pseudo-terminal), nothing when it is a pipe.

use crate::common;
use common::{cruxlab, stderr};

use std::process::Command;

/// `cruxlab ARGS` under a pseudo-terminal; `None` where `script` (util-linux) is not installed.
fn on_a_terminal(args: &str) -> Option<String> {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_cruxlab"));
    let o = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .ok()?;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn matchups_draw_a_bar_on_a_terminal_and_not_in_a_pipe() {
    let piped = cruxlab(&["bargain", "matchups"]);
    assert!(piped.status.success());
    assert!(!stderr(&piped).contains("pairs"), "{}", stderr(&piped));
    match on_a_terminal("bargain matchups") {
        Some(screen) => assert!(screen.contains("/36 pairs"), "{screen}"),
        None => eprintln!("`script` is not installed: the terminal half of this test is skipped"),
    }
}

#[test]
fn a_sweep_draws_a_bar_on_a_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let args = format!(
        "run scaling --quick --set 'sets=[\"hoffmann-printed\"]' --out {}",
        out.display()
    );
    match on_a_terminal(&args) {
        Some(screen) => assert!(screen.contains("units"), "{screen}"),
        None => eprintln!("`script` is not installed: this test is skipped"),
    }
}
