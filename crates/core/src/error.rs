//! Errors: [`UserError`] for bad input (config files, `--set`, `--shard`, run folders), which the CLI
//! reports with exit code 2, and [`Error`] for everything else (I/O, JSON, plotting).
//!
//! Every user error names where the bad input came from: the config file and line, the `--set`
//! argument, or the run folder, and the dotted config key.

use std::path::PathBuf;

/// Where a config value came from, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Line `line` (1-based) of config file `file`.
    File { file: PathBuf, line: usize },
    /// A `--set KEY=VALUE` argument (or `--seeds N`, reported as `--set seeds=N`).
    Set { arg: String },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File { file, line } => write!(f, "config file {}, line {line}", file.display()),
            Origin::Set { arg } => write!(f, "--set {arg}"),
        }
    }
}

fn origin_suffix(origin: &Option<Origin>) -> String {
    origin
        .as_ref()
        .map(|o| format!(" ({o})"))
        .unwrap_or_default()
}

/// Bad input from the person running an experiment. The CLI exits with code 2 on any of these.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The config file could not be read.
    #[error("config file {}: {reason}", file.display())]
    ConfigRead {
        file: PathBuf,
        reason: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {}, line {line}: TOML syntax error: {message}", file.display())]
    ConfigSyntax {
        file: PathBuf,
        line: usize,
        message: String,
    },
    /// A key (dotted path) the experiment's config does not have.
    #[error("{origin}: unknown key '{key}'")]
    UnknownKey { origin: Origin, key: String },
    /// A value whose TOML type differs from the default's.
    #[error("{origin}: key '{key}' expects {expected}, found {found}")]
    WrongType {
        origin: Origin,
        key: String,
        expected: String,
        found: String,
    },
    /// A `--set` argument without `=`.
    #[error("--set {arg}: expected KEY=VALUE")]
    SetSyntax { arg: String },
    /// The experiment's `validate` rejected a value.
    #[error("invalid value for key '{key}'{}: {message}", origin_suffix(origin))]
    InvalidValue {
        key: String,
        origin: Option<Origin>,
        message: String,
    },
    /// The merged table does not deserialize into the experiment's config type.
    #[error("config does not fit experiment '{experiment}': {message}")]
    ConfigShape { experiment: String, message: String },
    /// A `--shard` argument that is not `K/N` with 1 <= K <= N.
    #[error("--shard {arg}: {message}")]
    Shard { arg: String, message: String },
    /// A run folder that already holds a run of another config.
    #[error(
        "run folder {} holds a different config ({detail}); choose another folder or resume with the same config",
        dir.display()
    )]
    ConfigMismatch { dir: PathBuf, detail: String },
    /// A run folder that already holds a run of another experiment.
    #[error("run folder {} holds experiment '{found}', not '{expected}'", dir.display())]
    ExperimentMismatch {
        dir: PathBuf,
        found: String,
        expected: String,
    },
    /// A folder given as a run folder that holds no run.
    #[error("{} is not a run folder (no config.toml or run.json)", dir.display())]
    NotARunFolder { dir: PathBuf },
    /// A sweep larger than the limit (`--max-units`).
    #[error(
        "experiment '{experiment}': the sweep has {conditions} conditions x {seeds} seeds, more than {limit} units; lower seeds or the swept lists, or raise --max-units"
    )]
    SweepTooLarge {
        experiment: String,
        conditions: usize,
        seeds: u64,
        limit: usize,
    },
    /// Another process is writing the run folder.
    #[error(
        "run folder {} is being written by another cruxlab process ({holder}); wait for it to finish, or give each process its own --out (to spread one sweep over processes, run --shard K/N into separate folders and merge them)",
        dir.display()
    )]
    FolderBusy { dir: PathBuf, holder: String },
    /// An audit whose config already is what one of its controls sets, so that control could
    /// not test anything.
    #[error(
        "experiment '{experiment}': the control [{control}] of claim(s) {claims} leaves this config as it is, so running it could not test the claim; audit a config that control changes, or run without audit"
    )]
    InertControl {
        experiment: String,
        control: String,
        claims: String,
    },
    /// An experiment id nobody registered.
    #[error("unknown experiment '{id}' (known: {known})")]
    UnknownExperiment { id: String, known: String },
    /// A bad command-line argument (a malformed `--vary`, too few `--samples`, ...).
    #[error("{0}")]
    Usage(String),
    /// `merge` without folders.
    #[error("merge needs at least one run folder")]
    NothingToMerge,
    /// `merge` of shards that do not cover the sweep.
    #[error(
        "the sweep is incomplete: {missing} of {total} units missing{}",
        absent_suffix(absent_shards)
    )]
    Incomplete {
        missing: usize,
        total: usize,
        absent_shards: Vec<String>,
    },
}

fn absent_suffix(absent: &[String]) -> String {
    match absent.len() {
        0 => String::new(),
        1 => format!(" (shard {} looks absent)", absent[0]),
        _ => format!(" (shards {} look absent)", absent.join(", ")),
    }
}

/// Any failure of the framework.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    User(#[from] UserError),
    /// The cause is part of the message, not a separate `source`, so it is printed once.
    #[error("{}: {reason}", path.display())]
    Io {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Json {
        path: PathBuf,
        reason: serde_json::Error,
    },
    /// A unit file whose content does not belong to the sweep (hand-edited or from another version).
    #[error("{}: {message}", path.display())]
    BadUnit { path: PathBuf, message: String },
    /// The experiment broke its contract (e.g. a condition that is not a JSON object).
    #[error("experiment '{experiment}': {message}")]
    Contract { experiment: String, message: String },
    #[error("plot {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    #[error("cannot build a thread pool: {0}")]
    ThreadPool(String),
}

impl Error {
    /// Whether this is bad input (exit code 2) rather than a failure.
    pub fn is_user(&self) -> bool {
        matches!(self, Error::User(_))
    }

    /// The user error, if it is one.
    pub fn as_user(&self) -> Option<&UserError> {
        match self {
            Error::User(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |reason| Error::Io { path, reason }
    }
}

/// Whether an `anyhow` error (anywhere in its chain of causes) is a [`UserError`], for the CLI's
/// exit code: `std::process::exit(if cruxlab_core::is_user_error(&e) { 2 } else { 1 })`.
pub fn is_user_error(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<UserError>() || cause.downcast_ref::<Error>().is_some_and(Error::is_user)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_line_and_key() {
        let e = UserError::UnknownKey {
            origin: Origin::File {
                file: "runs/x.toml".into(),
                line: 3,
            },
            key: "grid.sise".into(),
        };
        assert_eq!(
            e.to_string(),
            "config file runs/x.toml, line 3: unknown key 'grid.sise'"
        );
        let e = UserError::InvalidValue {
            key: "sizes".into(),
            origin: Some(Origin::File {
                file: "f.toml".into(),
                line: 4,
            }),
            message: "must be odd".into(),
        };
        assert_eq!(
            e.to_string(),
            "invalid value for key 'sizes' (config file f.toml, line 4): must be odd"
        );
        let e = UserError::InvalidValue {
            key: "sizes".into(),
            origin: None,
            message: "must be odd".into(),
        };
        assert_eq!(e.to_string(), "invalid value for key 'sizes': must be odd");
        let e = UserError::Incomplete {
            missing: 10,
            total: 30,
            absent_shards: vec!["2/3".into()],
        };
        assert_eq!(
            e.to_string(),
            "the sweep is incomplete: 10 of 30 units missing (shard 2/3 looks absent)"
        );
    }

    #[test]
    fn user_errors_are_found_through_anyhow() {
        let user: anyhow::Error = Error::from(UserError::NothingToMerge).into();
        assert!(is_user_error(&user));
        let user = anyhow::Error::from(UserError::NothingToMerge).context("while merging");
        assert!(is_user_error(&user));
        let io: anyhow::Error = Error::ThreadPool("x".into()).into();
        assert!(!is_user_error(&io));
    }
}
