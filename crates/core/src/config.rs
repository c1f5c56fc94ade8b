//! Resolving an experiment's config: defaults, then an optional TOML config file, then `--set
//! KEY=VALUE` overrides in order, then `--seeds N`, then the experiment's own `validate`.
//!
//! Every key must already exist in the defaults (nested tables by dotted path) and keep the
//! default's TOML type (an integer is accepted where a float is expected). Errors name the config
//! file and line, or the `--set` argument, and the dotted key. [`ResolvedConfig`] keeps the merged
//! table, its pretty TOML text (what `config.toml` holds) and where each key was set.

use crate::error::{Origin, UserError};
use crate::experiment::Experiment;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// What the person running an experiment asked for on top of the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Start from the quick defaults (`default_config(true)`).
    pub quick: bool,
    /// A TOML config file applied over the defaults.
    pub file: Option<PathBuf>,
    /// `KEY=VALUE` overrides, applied in order after the file.
    pub sets: Vec<String>,
    /// Shorthand for a final `--set seeds=N`.
    pub seeds: Option<u64>,
}

/// A config after defaults, file, overrides and validation: what a run folder's `config.toml`
/// holds.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedConfig {
    /// The experiment the config belongs to.
    pub experiment: String,
    /// The merged table.
    pub table: Table,
    /// The table as pretty TOML (`config.toml` is this after a comment line).
    pub toml: String,
    /// Where each dotted key that is not a default was set.
    pub(crate) origins: BTreeMap<String, Origin>,
}

impl ResolvedConfig {
    /// Wrap a complete table (e.g. read back from a run folder).
    pub fn from_table(experiment: &str, table: Table) -> Self {
        let toml = pretty(&table);
        ResolvedConfig {
            experiment: experiment.to_owned(),
            table,
            toml,
            origins: BTreeMap::new(),
        }
    }

    /// The config as JSON (what `results.json` holds under `config`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(&self.table).expect("a TOML table converts to JSON")
    }

    /// Where `key` (a dotted path, possibly with `[i]` indices) or its nearest enclosing key was
    /// set; `None` for defaults.
    pub fn origin(&self, key: &str) -> Option<&Origin> {
        origin_of(&self.origins, key)
    }

    /// The text written to a run folder's `config.toml`.
    pub fn file_text(&self) -> String {
        format!(
            "# Resolved config of cruxlab experiment '{}'; pass it back with --config to rerun.\n\n{}",
            self.experiment, self.toml
        )
    }
}

/// Pretty TOML of a table.
pub(crate) fn pretty(table: &Table) -> String {
    toml::to_string_pretty(table).expect("a TOML table serializes")
}

/// The defaults of `e` as a TOML table.
pub fn default_table<E: Experiment>(e: &E, quick: bool) -> Table {
    Table::try_from(e.default_config(quick)).unwrap_or_else(|err| {
        panic!(
            "experiment '{}': default config does not serialize to a TOML table: {err}",
            e.id()
        )
    })
}

/// Resolve the config of `e`: defaults, file, `--set`s, `--seeds`, then deserialize and validate.
pub fn resolve<E: Experiment>(
    e: &E,
    overrides: &Overrides,
) -> Result<(ResolvedConfig, E::Config), UserError> {
    let text = overrides
        .file
        .as_deref()
        .map(read_config_file)
        .transpose()?;
    resolve_text(e, overrides, text.as_deref())
}

/// [`resolve`] with the config file's text already read: `text` stands for the contents of
/// `overrides.file` (which only names it in messages; a text without a file is read as from
/// `config.toml`). Everything after reading the file happens here, so the fuzz target and the
/// corpus replay test enter the resolver at this point.
pub fn resolve_text<E: Experiment>(
    e: &E,
    overrides: &Overrides,
    text: Option<&str>,
) -> Result<(ResolvedConfig, E::Config), UserError> {
    let mut table = default_table(e, overrides.quick);
    let mut origins = BTreeMap::new();
    if let Some(text) = text {
        let file = overrides
            .file
            .as_deref()
            .unwrap_or(Path::new("config.toml"));
        apply_text(&mut table, &mut origins, file, text)?;
    }
    let seeds = overrides.seeds.map(|n| format!("seeds={n}"));
    for arg in overrides.sets.iter().chain(&seeds) {
        apply_set(&mut table, &mut origins, arg)?;
    }
    let config = typed(e, &table, &origins)?;
    let toml = pretty(&table);
    Ok((
        ResolvedConfig {
            experiment: e.id().to_owned(),
            table,
            toml,
            origins,
        },
        config,
    ))
}

/// `resolved` with `sets` applied on top (a control's or a sensitivity sample's overrides), then
/// deserialized and validated like any config.
pub(crate) fn resolve_over<E: Experiment>(
    e: &E,
    resolved: &ResolvedConfig,
    sets: &[String],
) -> Result<ResolvedConfig, UserError> {
    let mut table = resolved.table.clone();
    let mut origins = resolved.origins.clone();
    for arg in sets {
        apply_set(&mut table, &mut origins, arg)?;
    }
    typed(e, &table, &origins)?;
    let toml = pretty(&table);
    Ok(ResolvedConfig {
        experiment: e.id().to_owned(),
        table,
        toml,
        origins,
    })
}

/// Deserialize a merged table into the experiment's config and validate it.
pub(crate) fn typed<E: Experiment>(
    e: &E,
    table: &Table,
    origins: &BTreeMap<String, Origin>,
) -> Result<E::Config, UserError> {
    // The path of the failing value (`agents[1]`) locates it in the file or `--set` it came from.
    let config: E::Config =
        serde_path_to_error::deserialize(Value::Table(table.clone())).map_err(|err| {
            let key = err.path().to_string();
            let message = err.inner().to_string().trim().replace('\n', " ");
            if key.is_empty() || key == "." {
                UserError::ConfigShape {
                    experiment: e.id().to_owned(),
                    message,
                }
            } else {
                UserError::InvalidValue {
                    origin: origin_of(origins, &key).cloned(),
                    key,
                    message,
                }
            }
        })?;
    e.validate(&config)
        .map_err(|(key, message)| UserError::InvalidValue {
            origin: origin_of(origins, &key).cloned(),
            key,
            message,
        })?;
    Ok(config)
}

/// The origin of `key` or of its nearest enclosing key.
fn origin_of<'a>(origins: &'a BTreeMap<String, Origin>, key: &str) -> Option<&'a Origin> {
    let mut key = key;
    loop {
        if let Some(origin) = origins.get(key) {
            return Some(origin);
        }
        key = &key[..key.rfind(['.', '['])?];
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The TOML type of a value, with its article, for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// A type mismatch found while merging, located later.
struct Mismatch {
    key: String,
    expected: String,
    found: String,
}

/// Where merged values come from: a file (with a line per dotted key) or one `--set` argument.
enum Source<'a> {
    File {
        file: &'a Path,
        lines: &'a HashMap<String, usize>,
    },
    Set {
        arg: &'a str,
    },
}

impl Source<'_> {
    fn locate(&self, key: &str) -> Origin {
        match self {
            Source::File { file, lines } => {
                let mut k = key;
                let line = loop {
                    if let Some(line) = lines.get(k) {
                        break *line;
                    }
                    match k.rfind(['.', '[']) {
                        Some(i) => k = &k[..i],
                        None => break 1,
                    }
                };
                Origin::File {
                    file: file.to_path_buf(),
                    line,
                }
            }
            Source::Set { arg } => Origin::Set {
                arg: (*arg).to_owned(),
            },
        }
    }

    fn line(&self, key: &str) -> usize {
        match self.locate(key) {
            Origin::File { line, .. } => line,
            Origin::Set { .. } => 0,
        }
    }
}

/// Merge `source` into `target`, every key of which must exist in `target` with a compatible type.
/// All problems are collected; the caller reports the first in file order.
fn merge_table(
    target: &mut Table,
    source: Table,
    prefix: &str,
    from: &Source,
    origins: &mut BTreeMap<String, Origin>,
    problems: &mut Vec<UserError>,
) {
    for (key, value) in source {
        let path = join(prefix, &key);
        let Some(current) = target.get_mut(&key) else {
            problems.push(UserError::UnknownKey {
                origin: from.locate(&path),
                key: path,
            });
            continue;
        };
        match (current, value) {
            (Value::Table(current), Value::Table(value)) => {
                origins.insert(path.clone(), from.locate(&path));
                merge_table(current, value, &path, from, origins, problems);
            }
            (current, value) => match coerce(current, value, &path) {
                Ok(value) => {
                    *current = value;
                    let nested = format!("{path}.");
                    let indexed = format!("{path}[");
                    origins.retain(|k, _| !k.starts_with(&nested) && !k.starts_with(&indexed));
                    origins.insert(path.clone(), from.locate(&path));
                }
                Err(m) => problems.push(match m.expected.as_str() {
                    "a known key" => UserError::UnknownKey {
                        origin: from.locate(&m.key),
                        key: m.key,
                    },
                    _ => UserError::WrongType {
                        origin: from.locate(&m.key),
                        key: m.key,
                        expected: m.expected,
                        found: m.found,
                    },
                }),
            },
        }
    }
}

/// `value` converted to the type of `default`, or why it cannot be.
fn coerce(default: &Value, value: Value, key: &str) -> Result<Value, Mismatch> {
    let mismatch = |value: &Value| Mismatch {
        key: key.to_owned(),
        expected: type_name(default).to_owned(),
        found: type_name(value).to_owned(),
    };
    match (default, value) {
        (Value::Float(_), Value::Integer(i)) => Ok(Value::Float(i as f64)),
        (Value::Array(defaults), Value::Array(values)) => match defaults.first() {
            None => Ok(Value::Array(values)),
            Some(element) => values
                .into_iter()
                .enumerate()
                .map(|(i, v)| coerce(element, v, &format!("{key}[{i}]")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
        },
        (Value::Table(template), Value::Table(values)) => {
            // An element of an array of tables: keys must exist in the default's first element.
            let mut out = Table::new();
            for (k, v) in values {
                let path = join(key, &k);
                let Some(element) = template.get(&k) else {
                    return Err(Mismatch {
                        key: path,
                        expected: "a known key".into(),
                        found: String::new(),
                    });
                };
                out.insert(k, coerce(element, v, &path)?);
            }
            Ok(Value::Table(out))
        }
        (default, value) if std::mem::discriminant(default) == std::mem::discriminant(&value) => {
            Ok(value)
        }
        (_, value) => Err(mismatch(&value)),
    }
}

/// 1-based line of byte offset `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Record the line of every dotted key of a parsed file.
fn record_lines(
    text: &str,
    table: &dyn toml_edit::TableLike,
    prefix: &str,
    lines: &mut HashMap<String, usize>,
) {
    for (key, item) in table.iter() {
        let path = join(prefix, key);
        let span = table
            .key(key)
            .and_then(|k| k.span())
            .or_else(|| item.span());
        if let Some(span) = span {
            lines.insert(path.clone(), line_of(text, span.start));
        }
        record_item(text, item, &path, lines);
    }
}

fn record_item(text: &str, item: &toml_edit::Item, path: &str, lines: &mut HashMap<String, usize>) {
    match item {
        toml_edit::Item::Table(t) => record_lines(text, t, path, lines),
        toml_edit::Item::ArrayOfTables(tables) => {
            for (i, t) in tables.iter().enumerate() {
                let element = format!("{path}[{i}]");
                if let Some(span) = t.span() {
                    lines.insert(element.clone(), line_of(text, span.start));
                }
                record_lines(text, t, &element, lines);
            }
        }
        toml_edit::Item::Value(v) => record_value(text, v, path, lines),
        toml_edit::Item::None => {}
    }
}

fn record_value(
    text: &str,
    value: &toml_edit::Value,
    path: &str,
    lines: &mut HashMap<String, usize>,
) {
    match value {
        toml_edit::Value::InlineTable(t) => record_lines(text, t, path, lines),
        toml_edit::Value::Array(values) => {
            for (i, v) in values.iter().enumerate() {
                let element = format!("{path}[{i}]");
                if let Some(span) = v.span() {
                    lines.insert(element.clone(), line_of(text, span.start));
                }
                record_value(text, v, &element, lines);
            }
        }
        _ => {}
    }
}

/// The text of a config file, or a [`UserError::ConfigRead`] naming it.
fn read_config_file(file: &Path) -> Result<String, UserError> {
    std::fs::read_to_string(file).map_err(|reason| UserError::ConfigRead {
        file: file.to_path_buf(),
        reason,
    })
}

/// Apply the text of config file `file` (already read) over `table`.
fn apply_text(
    table: &mut Table,
    origins: &mut BTreeMap<String, Origin>,
    file: &Path,
    text: &str,
) -> Result<(), UserError> {
    let syntax = |message: &str, span: Option<std::ops::Range<usize>>| UserError::ConfigSyntax {
        file: file.to_path_buf(),
        line: span.map_or(1, |s| line_of(text, s.start)),
        message: message.trim().replace('\n', " "),
    };
    let document = toml_edit::Document::parse(text).map_err(|e| syntax(e.message(), e.span()))?;
    let mut lines = HashMap::new();
    record_lines(text, document.as_table(), "", &mut lines);
    let values: Table = toml::from_str(text).map_err(|e| syntax(e.message(), e.span()))?;
    let from = Source::File {
        file,
        lines: &lines,
    };
    let mut problems = Vec::new();
    merge_table(table, values, "", &from, origins, &mut problems);
    let first = problems.into_iter().min_by_key(|p| match p {
        UserError::UnknownKey { key, .. } | UserError::WrongType { key, .. } => from.line(key),
        _ => 0,
    });
    first.map_or(Ok(()), Err)
}

/// Parse a `--set` value: TOML if it parses, else the raw text as a string.
fn parse_set_value(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

/// Apply one `KEY=VALUE` override.
fn apply_set(
    table: &mut Table,
    origins: &mut BTreeMap<String, Origin>,
    arg: &str,
) -> Result<(), UserError> {
    let (key, raw) = arg.split_once('=').ok_or_else(|| UserError::SetSyntax {
        arg: arg.to_owned(),
    })?;
    let (key, raw) = (key.trim(), raw.trim());
    if key.is_empty() {
        return Err(UserError::SetSyntax {
            arg: arg.to_owned(),
        });
    }
    let unknown = || UserError::UnknownKey {
        origin: Origin::Set {
            arg: arg.to_owned(),
        },
        key: key.to_owned(),
    };
    let (parents, last) = match key.rsplit_once('.') {
        Some((parents, last)) => (parents.split('.').collect::<Vec<_>>(), last),
        None => (Vec::new(), key),
    };
    let mut parent = &mut *table;
    for part in parents {
        parent = match parent.get_mut(part) {
            Some(Value::Table(t)) => t,
            _ => return Err(unknown()),
        };
    }
    let current = parent.get(last).ok_or_else(unknown)?;
    let value = match (current, parse_set_value(raw)) {
        // A string key takes the text as given, even if it happens to parse as another type.
        (Value::String(_), Value::String(s)) => Value::String(s),
        (Value::String(_), _) => Value::String(raw.to_owned()),
        (_, value) => value,
    };
    // Reuse the merge (for tables, key checks; for everything, type checks) on a one-key table.
    let mut one = Table::new();
    one.insert(last.to_owned(), value);
    let prefix = key.rsplit_once('.').map_or("", |(p, _)| p);
    let from = Source::Set { arg };
    let mut problems = Vec::new();
    merge_table(parent, one, prefix, &from, origins, &mut problems);
    problems.into_iter().next().map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::PlotSpec;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
    struct Grid {
        size: i64,
        walls: f64,
    }

    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
    struct Agent {
        name: String,
        rate: f64,
    }

    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
    struct Config {
        seeds: u64,
        label: String,
        sizes: Vec<i64>,
        tags: Vec<String>,
        grid: Grid,
        agents: Vec<Agent>,
    }

    struct Toy;

    impl Experiment for Toy {
        type Config = Config;
        type Condition = serde_json::Value;
        fn id(&self) -> &'static str {
            "toy"
        }
        fn claim(&self) -> &'static str {
            "toys work"
        }
        fn model(&self) -> &'static str {
            "a toy"
        }
        fn default_config(&self, quick: bool) -> Config {
            Config {
                seeds: if quick { 3 } else { 30 },
                label: "base".into(),
                sizes: vec![5, 7],
                tags: vec![],
                grid: Grid {
                    size: 9,
                    walls: 0.1,
                },
                agents: vec![Agent {
                    name: "a".into(),
                    rate: 0.5,
                }],
            }
        }
        fn validate(&self, config: &Config) -> Result<(), (String, String)> {
            if config.sizes.iter().any(|s| s % 2 == 0) {
                return Err(("sizes".into(), "must be odd".into()));
            }
            if config.grid.size < 3 {
                return Err(("grid.size".into(), "must be at least 3".into()));
            }
            Ok(())
        }
        fn conditions(&self, _: &Config) -> Vec<serde_json::Value> {
            vec![]
        }
        fn measure(
            &self,
            _: &Config,
            _: &serde_json::Value,
            _: u64,
            _: &crate::artifact::Artifacts,
        ) -> Vec<(String, f64)> {
            vec![]
        }
        fn metrics(&self, _: &Config) -> Vec<String> {
            vec![]
        }
        fn claims(&self, _: &Config) -> Vec<crate::claim::Claim> {
            vec![]
        }
        fn plots(&self, _: &Config) -> Vec<PlotSpec> {
            vec![]
        }
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn with_file(path: &Path) -> Overrides {
        Overrides {
            quick: true,
            file: Some(path.to_path_buf()),
            ..Default::default()
        }
    }

    fn sets(sets: &[&str]) -> Overrides {
        Overrides {
            sets: sets.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    fn err(overrides: &Overrides) -> String {
        resolve(&Toy, overrides).unwrap_err().to_string()
    }

    #[test]
    fn defaults_resolve() {
        let (resolved, config) = resolve(&Toy, &Overrides::default()).unwrap();
        assert_eq!(config, Toy.default_config(false));
        assert_eq!(resolved.experiment, "toy");
        assert!(resolved.toml.contains("seeds = 30"), "{}", resolved.toml);
        let (_, quick) = resolve(
            &Toy,
            &Overrides {
                quick: true,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(quick.seeds, 3);
    }

    #[test]
    fn file_overrides_and_integer_for_float() {
        let (_dir, path) = file(
            "seeds = 4\ntags = [\"x\"]\n[grid]\nwalls = 1\n\n[[agents]]\nname = \"b\"\nrate = 2\n",
        );
        let (resolved, config) = resolve(&Toy, &with_file(&path)).unwrap();
        assert_eq!(config.seeds, 4);
        assert_eq!(
            config.grid,
            Grid {
                size: 9,
                walls: 1.0
            }
        );
        assert_eq!(config.tags, vec!["x".to_owned()]);
        assert_eq!(
            config.agents,
            vec![Agent {
                name: "b".into(),
                rate: 2.0
            }]
        );
        assert_eq!(
            resolved.origin("grid.walls"),
            Some(&Origin::File {
                file: path.clone(),
                line: 4
            })
        );
        assert_eq!(
            resolved.origin("grid.size"),
            Some(&Origin::File {
                file: path.clone(),
                line: 3
            })
        );
        assert_eq!(resolved.origin("label"), None);
    }

    #[test]
    fn unknown_key_in_file_names_file_line_and_key() {
        let (_dir, path) = file("seeds = 4\n\n[grid]\nsise = 3\n");
        assert_eq!(
            err(&with_file(&path)),
            format!(
                "config file {}, line 4: unknown key 'grid.sise'",
                path.display()
            )
        );
        let (_dir, path) = file("seeds = 4\ngrid.sise = 3\n");
        assert_eq!(
            err(&with_file(&path)),
            format!(
                "config file {}, line 2: unknown key 'grid.sise'",
                path.display()
            )
        );
        let (_dir, path) = file("seeds = 4\n[gird]\nsize = 3\n");
        assert_eq!(
            err(&with_file(&path)),
            format!("config file {}, line 2: unknown key 'gird'", path.display())
        );
        let (_dir, path) = file("[[agents]]\nname = \"b\"\nrat = 2\n");
        assert_eq!(
            err(&with_file(&path)),
            format!(
                "config file {}, line 3: unknown key 'agents[0].rat'",
                path.display()
            )
        );
    }

    #[test]
    fn first_problem_in_file_order_is_reported() {
        let (_dir, path) = file("zeta = 1\nalpha = 2\n");
        assert_eq!(
            err(&with_file(&path)),
            format!("config file {}, line 1: unknown key 'zeta'", path.display())
        );
    }

    #[test]
    fn wrong_type_in_file() {
        let (_dir, path) = file("seeds = 4\n[grid]\nsize = \"big\"\n");
        assert_eq!(
            err(&with_file(&path)),
            format!(
                "config file {}, line 3: key 'grid.size' expects an integer, found a string",
                path.display()
            )
        );
        let (_dir, path) = file("sizes = [5, 7.5]\n");
        assert_eq!(
            err(&with_file(&path)),
            format!(
                "config file {}, line 1: key 'sizes[1]' expects an integer, found a float",
                path.display()
            )
        );
        let (_dir, path) = file("grid = 3\n");
        assert_eq!(
            err(&with_file(&path)),
            format!(
                "config file {}, line 1: key 'grid' expects a table, found an integer",
                path.display()
            )
        );
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let (_dir, path) = file("seeds = 4\n\n[grid\nsize = 3\n");
        let message = err(&with_file(&path));
        assert!(
            message.starts_with(&format!(
                "config file {}, line 3: TOML syntax error",
                path.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn missing_file_is_a_user_error() {
        let message = err(&with_file(Path::new("/no/such/file.toml")));
        assert!(
            message.starts_with("config file /no/such/file.toml: "),
            "{message}"
        );
    }

    #[test]
    fn sets_apply_in_order() {
        let (resolved, config) = resolve(
            &Toy,
            &sets(&[
                "grid.size=11",
                "grid.size=13",
                "label=hello world",
                "sizes=[3, 9]",
            ]),
        )
        .unwrap();
        assert_eq!(config.grid.size, 13);
        assert_eq!(config.label, "hello world");
        assert_eq!(config.sizes, vec![3, 9]);
        assert_eq!(
            resolved.origin("grid.size"),
            Some(&Origin::Set {
                arg: "grid.size=13".into()
            })
        );
        // A string key takes the text even when it parses as something else.
        let (_, config) = resolve(&Toy, &sets(&["label=true", "grid={walls=0.5}"])).unwrap();
        assert_eq!(config.label, "true");
        assert_eq!(
            config.grid,
            Grid {
                size: 9,
                walls: 0.5
            }
        );
    }

    #[test]
    fn seeds_shorthand_wins() {
        let overrides = Overrides {
            seeds: Some(7),
            ..sets(&["seeds=5"])
        };
        assert_eq!(resolve(&Toy, &overrides).unwrap().1.seeds, 7);
    }

    #[test]
    fn set_errors() {
        assert_eq!(
            err(&sets(&["no.such.key=1"])),
            "--set no.such.key=1: unknown key 'no.such.key'"
        );
        assert_eq!(
            err(&sets(&["grid.size.x=1"])),
            "--set grid.size.x=1: unknown key 'grid.size.x'"
        );
        assert_eq!(
            err(&sets(&["seeds=abc"])),
            "--set seeds=abc: key 'seeds' expects an integer, found a string"
        );
        assert_eq!(err(&sets(&["seeds"])), "--set seeds: expected KEY=VALUE");
        assert_eq!(
            err(&sets(&["grid={sise=1}"])),
            "--set grid={sise=1}: unknown key 'grid.sise'"
        );
    }

    #[test]
    fn validate_errors_name_key_and_origin() {
        assert_eq!(
            err(&sets(&["sizes=[4]"])),
            "invalid value for key 'sizes' (--set sizes=[4]): must be odd"
        );
        let (_dir, path) = file("label = \"x\"\n\n\nsizes = [5, 6]\n");
        assert_eq!(
            err(&with_file(&path)),
            format!(
                "invalid value for key 'sizes' (config file {}, line 4): must be odd",
                path.display()
            )
        );
        // Set in the file, then overridden: the override is named.
        let overrides = Overrides {
            sets: vec!["grid.size=1".into()],
            ..with_file(&path)
        };
        let message = err(&Overrides {
            file: Some(file("[grid]\nsize = 5\n").1),
            ..overrides
        });
        assert_eq!(
            message,
            "invalid value for key 'grid.size' (--set grid.size=1): must be at least 3"
        );
    }

    #[test]
    fn element_type_of_empty_default_array_is_checked_by_the_config_type() {
        let (_dir, path) = file("tags = [1]\n");
        let message = err(&with_file(&path));
        assert!(
            message.starts_with(&format!(
                "invalid value for key 'tags[0]' (config file {}, line 1): invalid type: integer `1`, expected a string",
                path.display()
            )),
            "{message}"
        );
    }

    #[test]
    fn resolved_toml_round_trips() {
        let (resolved, _) = resolve(&Toy, &sets(&["grid.walls=0.3"])).unwrap();
        let back: Table = toml::from_str(&resolved.file_text()).unwrap();
        assert_eq!(back, resolved.table);
        assert_eq!(ResolvedConfig::from_table("toy", back).toml, resolved.toml);
    }
}
