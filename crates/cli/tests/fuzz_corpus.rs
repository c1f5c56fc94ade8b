//! The fuzz targets' corpus, replayed on the stable toolchain: every file under `fuzz/corpus/TARGET/`
//! (the seed corpus) and `fuzz/regressions/TARGET/` (inputs the fuzzer once broke a parser with)
//! goes through the same entry point the fuzz target calls (`fuzz/src/lib.rs`, compiled in here),
//! which panics if the parser panics or breaks its contract. See docs/fuzzing.md.

#[path = "../../../fuzz/src/lib.rs"]
mod entry;

use std::path::{Path, PathBuf};

const TARGETS: [&str; 4] = ["level", "config", "modal", "scaling"];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) -> (usize, usize) {
    let run = entry::by_target(target).unwrap();
    let (mut ok, mut err) = (0, 0);
    for folder in ["corpus", "regressions"] {
        for path in files(&fuzz_dir().join(folder).join(target)) {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data))
                .unwrap_or_else(|_| panic!("{target}: {} broke the parser", path.display()));
            match outcome {
                Ok(_) => ok += 1,
                Err(_) => err += 1,
            }
        }
    }
    (ok, err)
}

#[test]
fn every_corpus_file_parses_or_fails_cleanly() {
    for target in TARGETS {
        let (ok, err) = replay(target);
        // The seed corpus holds both inputs that parse and inputs that must be refused: a corpus
        // that lost either half would no longer test what it claims to.
        assert!(ok >= 3, "{target}: only {ok} corpus files parse");
        assert!(err >= 3, "{target}: only {err} corpus files are refused");
    }
}

#[test]
fn every_corpus_folder_belongs_to_a_target() {
    for folder in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz_dir().join(folder)) else {
            continue;
        };
        for e in entries {
            let name = e.unwrap().file_name().into_string().unwrap();
            assert!(
                entry::by_target(&name).is_some(),
                "fuzz/{folder}/{name} is not a fuzz target"
            );
        }
    }
}
