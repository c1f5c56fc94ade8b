//! What every end-to-end test needs: run the `cruxlab` binary and read what it said and wrote.
#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::{Command, Output};

/// Run `cruxlab ARGS` and wait for it.
pub fn cruxlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cruxlab"))
        .args(args)
        .output()
        .expect("run cruxlab")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file's text, panicking with its path if it cannot be read.
pub fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path.as_ref())
        .unwrap_or_else(|e| panic!("{}: {e}", path.as_ref().display()))
}

/// Write `text` to `dir/name` and return the path as a string argument.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}
