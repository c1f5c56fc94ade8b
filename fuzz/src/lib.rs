//! The entry points of the fuzz targets: each takes arbitrary bytes, hands them to one of the
//! parsers that read what a person gives `cruxlab` (a level file, a config file with `--set`
//! overrides, a modal agent file, a scaling CSV or parameter file) the way the command does, and
//! checks the parser's contract: it returns, without panicking, either a value that keeps the
//! parser's invariants or an error whose message names the place (line, column or key).
//!
//! The same file is compiled into the stable corpus replay test (`crates/cli/tests/fuzz_corpus.rs`),
//! which feeds every file under `fuzz/corpus/` and `fuzz/regressions/` through these functions, so
//! the fuzz targets and the test cannot drift apart. Each function returns `Ok(summary)` or
//! `Err(message)` (the parser's error message, checked to be well formed) for the test to print;
//! a broken contract is a panic.

use std::sync::OnceLock;

use cruxlab_core::{DynExperiment, Overrides};
use cruxlab_games::modal::{Roster, parse_formula};
use cruxlab_grid::{DistanceField, Level, LevelError, ObjectKind};
use cruxlab_scaling::{Columns, DataError, LawFile, TokenColumn, distinct_points, parse_csv};

/// The bytes as the command would read them (`read_to_string` refuses what is not UTF-8, with the
/// file's name, before any parser sees it).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The number of lines `str::lines` sees, at least 1.
fn line_count(text: &str) -> usize {
    text.lines().count().max(1)
}

fn one_line(message: &str) {
    assert!(!message.is_empty(), "an empty error message");
    assert!(
        !message.contains('\n'),
        "an error message over several lines: {message:?}"
    );
}

/// A level file (`cruxlab render LEVEL.txt`, `cruxlab trace LEVEL.txt`).
pub fn level(data: &[u8]) -> Result<String, String> {
    let Some(text) = text(data) else {
        return Err("not UTF-8".into());
    };
    match Level::parse(text) {
        Ok(level) => {
            assert!(level.height() > 0 && level.width() > 0);
            assert_eq!(level.walls().len(), level.cells());
            assert!(level.in_bounds(level.agent()) && !level.is_wall(level.agent()));
            for o in level.objects() {
                assert!(level.in_bounds(o.pos) && !level.is_wall(o.pos), "{o:?}");
            }
            // The text form reads back as the same level.
            assert_eq!(Level::parse(&level.to_text()).as_ref(), Ok(&level));
            // What `render --cue` and the planners compute first: a distance field over the floor.
            let field =
                DistanceField::from_sources(&level, level.positions_of(ObjectKind::CUE_SOURCE));
            let _ = field.get(level.agent());
            Ok(format!("{}x{} level", level.height(), level.width()))
        }
        Err(e) => {
            let message = e.to_string();
            one_line(&message);
            let lines = line_count(text);
            let place = |line: usize, column: usize| {
                assert!(
                    (1..=lines).contains(&line),
                    "line {line} of {lines}: {message}"
                );
                let width = text.lines().nth(line - 1).map_or(0, |l| l.chars().count());
                assert!(
                    (1..=width.max(1)).contains(&column),
                    "column {column} of {width}: {message}"
                );
            };
            match e {
                LevelError::StrayCharacter { line, column, .. } => place(line, column),
                LevelError::SecondAgent {
                    line,
                    column,
                    first_line,
                    first_column,
                } => {
                    place(line, column);
                    place(first_line, first_column);
                    assert!((first_line, first_column) < (line, column));
                }
                LevelError::RaggedRow { line, .. } => place(line, 1),
                _ => {}
            }
            Err(message)
        }
    }
}

fn registry() -> &'static [Box<dyn DynExperiment>] {
    static REGISTRY: OnceLock<Vec<Box<dyn DynExperiment>>> = OnceLock::new();
    REGISTRY.get_or_init(cruxlab_experiments::registry)
}

/// The name the config text is read under (messages name it).
pub const CONFIG_FILE: &str = "fuzz.toml";

/// A config file and `--set` overrides (`cruxlab run EXP --config FILE --set K=V ...`).
///
/// Input layout: the first line names the experiment, optionally followed by ` quick` (a line
/// naming no experiment picks one by its bytes); then the config file's text, up to a line `%%`;
/// then one `--set` argument per line.
pub fn config(data: &[u8]) -> Result<String, String> {
    let Some(text) = text(data) else {
        return Err("not UTF-8".into());
    };
    let (head, rest) = text.split_once('\n').unwrap_or((text, ""));
    let experiments = registry();
    let mut words = head.split_whitespace();
    let name = words.next().unwrap_or("");
    let quick = words.next() == Some("quick");
    let e = experiments
        .iter()
        .find(|e| e.id() == name)
        .unwrap_or_else(|| {
            let pick = head.bytes().map(usize::from).sum::<usize>() % experiments.len();
            &experiments[pick]
        });
    let (file, sets) = match rest.split_once("\n%%\n") {
        Some((file, sets)) => (file, sets.lines().map(str::to_owned).collect()),
        None => (rest, Vec::new()),
    };
    let overrides = Overrides {
        quick,
        file: Some(CONFIG_FILE.into()),
        sets,
        seeds: None,
    };
    match e.resolve_text(&overrides, Some(file)) {
        Ok(resolved) => {
            // What the run folder's config.toml holds reads back, given with --config, as the
            // same config.
            let back = Overrides {
                quick,
                file: Some("config.toml".into()),
                sets: Vec::new(),
                seeds: None,
            };
            let again = e
                .resolve_text(&back, Some(&resolved.file_text()))
                .unwrap_or_else(|err| {
                    panic!(
                        "the resolved config.toml does not resolve again: {err}\n{}",
                        resolved.file_text()
                    )
                });
            assert_eq!(
                again.table, resolved.table,
                "config.toml does not round-trip"
            );
            Ok(format!("{} config", e.id()))
        }
        Err(err) => {
            let message = err.to_string();
            one_line(&message);
            Err(message)
        }
    }
}

/// A modal agent file (`cruxlab bargain matchups --agents FILE`).
pub fn modal(data: &[u8]) -> Result<String, String> {
    let Some(text) = text(data) else {
        return Err("not UTF-8".into());
    };
    let mut roster = Roster::classic();
    match roster.extend_from_text(text) {
        Ok(names) => {
            for name in &names {
                let agent = roster.get(name).expect("a parsed agent is in the roster");
                // The printed formula reads back as the same formula, unless printing it (with all
                // its parentheses) takes it past the size limits.
                match parse_formula(&agent.formula.to_string()) {
                    Ok(back) => assert_eq!(back, agent.formula, "{name}: {}", agent.formula),
                    Err(e) => assert!(
                        e.message.contains("longer than") || e.message.contains("nests deeper"),
                        "{name} = {} does not read back: {e}",
                        agent.formula
                    ),
                }
            }
            // Play the first few new agents against themselves and FairBot; a formula that cannot
            // be evaluated is an error the command reports (exit 2), never a panic.
            let mut played = 0;
            for name in names.iter().take(3) {
                for (row, column) in [(name, name), (name, &"FairBot".to_owned())] {
                    match roster.matchup(row, column) {
                        Ok(_) => played += 1,
                        Err(e) => one_line(&e.to_string()),
                    }
                }
            }
            Ok(format!("{} agents, {played} matchups", names.len()))
        }
        Err(e) => {
            let message = e.to_string();
            one_line(&message);
            let lines = line_count(text);
            assert!(
                (1..=lines).contains(&e.line),
                "line {} of {lines}: {message}",
                e.line
            );
            let width = text
                .lines()
                .nth(e.line - 1)
                .map_or(0, |l| l.chars().count());
            assert!(
                (1..=width + 1).contains(&e.column),
                "column {} of {width}: {message}",
                e.column
            );
            Err(message)
        }
    }
}

/// A scaling CSV (`cruxlab scaling fit FILE.csv`, read with the default columns N, D, loss, and
/// with `--c-col C`), and the same bytes as a parameter file (`cruxlab scaling predict --params
/// FILE`).
pub fn scaling(data: &[u8]) -> Result<String, String> {
    let Some(text) = text(data) else {
        return Err("not UTF-8".into());
    };
    // The CSV reader also ends a line at a lone carriage return.
    let lines = line_count(&text.replace("\r\n", "\n").replace('\r', "\n")) as u64;
    let mut summary = Vec::new();
    let mut parsed = false;
    for tokens in [
        TokenColumn::Tokens("D".into()),
        TokenColumn::Compute("C".into()),
    ] {
        let columns = Columns {
            n: "N".into(),
            tokens,
            loss: "loss".into(),
        };
        match parse_csv(text, &columns) {
            Ok(runs) => {
                assert!(!runs.is_empty());
                for o in &runs {
                    for x in [o.n, o.d, o.loss] {
                        assert!(x.is_finite() && x > 0.0, "{o:?} from {columns:?}");
                    }
                    assert!((2..=lines).contains(&o.line), "{o:?} of {lines} lines");
                }
                assert!(distinct_points(&runs) <= runs.len());
                summary.push(format!("{} runs", runs.len()));
                parsed = true;
            }
            Err(e) => {
                let message = e.to_string();
                one_line(&message);
                match e {
                    DataError::Syntax { line, .. }
                    | DataError::NotNumeric { line, .. }
                    | DataError::NotPositive { line, .. } => {
                        assert!(
                            (1..=lines).contains(&line),
                            "line {line} of {lines}: {message}"
                        )
                    }
                    _ => {}
                }
                summary.push(message);
            }
        }
    }
    match LawFile::parse(text) {
        Ok(file) => {
            let law = file.law;
            for x in [law.e, law.a, law.b, law.alpha, law.beta] {
                assert!(x.is_finite() && x > 0.0, "{law:?}");
            }
            summary.push("a parameter file".into());
            parsed = true;
        }
        Err(e) => {
            let message = e.to_string();
            one_line(&message);
        }
    }
    let summary = summary.join("; ");
    if parsed { Ok(summary) } else { Err(summary) }
}

/// An entry point: `Ok(summary)` or `Err(the parser's message)`; a broken contract panics.
pub type Entry = fn(&[u8]) -> Result<String, String>;

/// The entry point of a target by name (the corpus folders are named after the targets).
pub fn by_target(target: &str) -> Option<Entry> {
    Some(match target {
        "level" => level,
        "config" => config,
        "modal" => modal,
        "scaling" => scaling,
        _ => return None,
    })
}
