//! The run folder on disk: atomic writes, one JSON file per finished unit, the `run.json`
//! manifest, and the check that a folder belongs to the config being run.
//!
//! ```text
//! DIR/config.toml          resolved config (written first; a folder holds one config)
//! DIR/run.json             manifest: experiment, shard, counts, timing (not part of the results)
//! DIR/units/c0003-s0007.json   one finished (condition 3, seed 7) unit
//! DIR/results.json, per_seed.csv, *.svg, report.html   once the sweep is complete
//! ```
//!
//! Every file is written to a temporary file in the same folder and renamed into place, so a
//! reader (or a resumed run) never sees half a file. A temporary file's name carries the writing
//! process's id (`.cruxlab-PID-XXXXXX.tmp`), so that one a killed writer left behind can be told
//! from one being written ([`remove_abandoned_temporaries`]).

use crate::config::{ResolvedConfig, pretty};
use crate::error::{Error, UserError};
use crate::shard::Shard;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How every temporary file's name starts, and how it ends.
const TEMP_PREFIX: &str = ".cruxlab-";
const TEMP_SUFFIX: &str = ".tmp";

/// File names inside a run folder.
pub const CONFIG_FILE: &str = "config.toml";
pub const MANIFEST_FILE: &str = "run.json";
pub const UNITS_DIR: &str = "units";
pub const RESULTS_FILE: &str = "results.json";
pub const PER_SEED_FILE: &str = "per_seed.csv";
pub const REPORT_FILE: &str = "report.html";

/// Write `bytes` to `path` atomically: a temporary file in the same folder, renamed into place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = new_temporary(dir)?;
    file.write_all(bytes).map_err(Error::io(file.path()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Temporary files are private (0600); results are meant to be shared.
        let permissions = std::fs::Permissions::from_mode(0o644);
        file.as_file()
            .set_permissions(permissions)
            .map_err(Error::io(file.path()))?;
    }
    file.persist(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        reason: e.error,
    })?;
    Ok(())
}

/// Pretty JSON with a final newline, written atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let mut text = serde_json::to_string_pretty(value).map_err(|reason| Error::Json {
        path: path.to_path_buf(),
        reason,
    })?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
    serde_json::from_str(&text).map_err(|reason| Error::Json {
        path: path.to_path_buf(),
        reason,
    })
}

/// One finished unit: the measurements of one condition under one seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct UnitRecord {
    pub experiment: String,
    pub condition_index: usize,
    pub seed: u64,
    pub condition: serde_json::Value,
    /// In the order `measure` returned them; `None` for NaN (and for infinities, which JSON cannot
    /// hold).
    pub metrics: Vec<(String, Option<f64>)>,
    /// A hash of the resolved config the unit was measured under ([`config_hash`]): a folder is
    /// never finalised from units of another config.
    #[serde(default)]
    pub config: String,
}

/// A short content hash of a resolved config's TOML and, when not empty, the experiment's code
/// version ([`crate::Experiment::code_version`]).
pub(crate) fn config_hash(config: &ResolvedConfig, code_version: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(config.toml.as_bytes());
    if !code_version.is_empty() {
        hash.update([0]);
        hash.update(code_version.as_bytes());
    }
    let digest = hash.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The lock file of a run folder.
pub const LOCK_FILE: &str = ".cruxlab.lock";

/// An exclusive advisory lock on a run folder, held by the one process that writes it (a run, an
/// audit, a merge) until it is dropped. The lock file says who holds it.
pub(crate) struct FolderLock {
    _file: std::fs::File,
}

/// Lock run folder `dir` (creating it), or fail with [`UserError::FolderBusy`] naming the holder.
pub(crate) fn lock_folder(dir: &Path) -> Result<FolderLock, Error> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(Error::io(&path))?;
    match file.try_lock() {
        Ok(()) => {
            let holder = format!(
                "process {} ({})\n",
                std::process::id(),
                std::env::args().collect::<Vec<_>>().join(" ")
            );
            file.set_len(0).map_err(Error::io(&path))?;
            file.write_all(holder.as_bytes())
                .map_err(Error::io(&path))?;
            Ok(FolderLock { _file: file })
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            Err(UserError::FolderBusy {
                dir: dir.to_path_buf(),
                holder: holder.trim().to_owned(),
            }
            .into())
        }
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path)(e)),
    }
}

/// `c0003-s0007.json`.
pub(crate) fn unit_file_name(condition_index: usize, seed: u64) -> String {
    format!("c{condition_index:04}-s{seed:04}.json")
}

/// The (condition index, seed) of a unit file name.
pub(crate) fn parse_unit_file_name(name: &str) -> Option<(usize, u64)> {
    let rest = name.strip_prefix('c')?.strip_suffix(".json")?;
    let (condition, seed) = rest.split_once("-s")?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(condition) || !all_digits(seed) {
        return None;
    }
    Some((condition.parse().ok()?, seed.parse().ok()?))
}

/// The unit files in `dir/units`, by (condition index, seed).
pub(crate) fn list_units(dir: &Path) -> Result<BTreeMap<(usize, u64), PathBuf>, Error> {
    let units = dir.join(UNITS_DIR);
    let mut found = BTreeMap::new();
    let entries = match std::fs::read_dir(&units) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => {
            return Err(Error::Io {
                path: units,
                reason: e,
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(Error::io(&units))?;
        let name = entry.file_name();
        if let Some(key) = name.to_str().and_then(parse_unit_file_name) {
            found.insert(key, entry.path());
        }
    }
    Ok(found)
}

/// The `run.json` manifest: what the folder holds and how far it got. Not part of the results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub experiment: String,
    /// The shard of the last run into this folder (`"K/N"`), `None` for a whole sweep or a merge.
    pub shard: Option<String>,
    /// Units in the whole sweep, and how many of them the folder holds.
    pub sweep_units: usize,
    pub sweep_done: usize,
    /// Units in the shard, and how many of them the folder holds.
    pub shard_units: usize,
    pub shard_done: usize,
    /// Whether the sweep is complete and the results written.
    pub complete: bool,
    /// How the last `run` into this folder went (absent after a merge).
    #[serde(default)]
    pub last_run: Option<LastRun>,
}

/// Timing of the last run into a folder: kept out of `results.json`, which must not depend on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    pub threads: usize,
    pub units_measured: usize,
    pub wall_seconds: f64,
}

/// A run folder read back: its experiment, config and the shard it last ran.
#[derive(Clone, Debug)]
pub struct RunFolder {
    pub dir: PathBuf,
    pub experiment: String,
    pub config: ResolvedConfig,
    pub shard: Option<Shard>,
    pub manifest: Manifest,
}

/// Read a run folder's `run.json` and `config.toml` (to resume it, merge it, or re-render it).
pub fn read_run_folder(dir: &Path) -> Result<RunFolder, Error> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let config_path = dir.join(CONFIG_FILE);
    if !manifest_path.is_file() || !config_path.is_file() {
        return Err(UserError::NotARunFolder {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    let manifest: Manifest = read_json(&manifest_path)?;
    let table = read_config_table(dir)?;
    let config = ResolvedConfig::from_table(&manifest.experiment, table);
    let shard = manifest.shard.as_deref().and_then(|s| s.parse().ok());
    Ok(RunFolder {
        dir: dir.to_path_buf(),
        experiment: manifest.experiment.clone(),
        config,
        shard,
        manifest,
    })
}

fn read_config_table(dir: &Path) -> Result<toml::Table, Error> {
    let path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    toml::from_str(&text).map_err(|e| {
        UserError::ConfigMismatch {
            dir: dir.to_path_buf(),
            detail: format!("its {CONFIG_FILE} does not parse: {}", e.message().trim()),
        }
        .into()
    })
}

/// The first dotted key at which two tables differ, with both values, for messages.
pub(crate) fn first_difference(
    here: &toml::Table,
    there: &toml::Table,
    prefix: &str,
) -> Option<String> {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    let show = |v: Option<&toml::Value>| v.map_or_else(|| "absent".to_owned(), |v| v.to_string());
    let mut keys: Vec<&String> = here.keys().chain(there.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        match (here.get(k), there.get(k)) {
            (Some(toml::Value::Table(a)), Some(toml::Value::Table(b))) => {
                if let Some(d) = first_difference(a, b, &key(k)) {
                    return Some(d);
                }
            }
            (a, b) if a.map(toml::Value::to_string) != b.map(toml::Value::to_string) => {
                return Some(format!(
                    "key '{}' is {} there, {} here",
                    key(k),
                    show(b),
                    show(a)
                ));
            }
            _ => {}
        }
    }
    None
}

/// Check that `dir` is empty of runs or holds a run of this experiment and config, then write
/// `config.toml` (unless it already holds the same) and create `units/`.
pub(crate) fn claim_folder(dir: &Path, config: &ResolvedConfig) -> Result<(), Error> {
    std::fs::create_dir_all(dir.join(UNITS_DIR)).map_err(Error::io(dir))?;
    remove_stale_temporaries(dir)?;
    let manifest_path = dir.join(MANIFEST_FILE);
    if manifest_path.is_file() {
        let manifest: Manifest = read_json(&manifest_path)?;
        if manifest.experiment != config.experiment {
            return Err(UserError::ExperimentMismatch {
                dir: dir.to_path_buf(),
                found: manifest.experiment,
                expected: config.experiment.clone(),
            }
            .into());
        }
    }
    let config_path = dir.join(CONFIG_FILE);
    if config_path.is_file() {
        let there = read_config_table(dir)?;
        if pretty(&there) != config.toml {
            let detail =
                first_difference(&config.table, &there, "").unwrap_or_else(|| "formatting".into());
            return Err(UserError::ConfigMismatch {
                dir: dir.to_path_buf(),
                detail,
            }
            .into());
        }
        let text = std::fs::read_to_string(&config_path).map_err(Error::io(&config_path))?;
        if text == config.file_text() {
            return Ok(());
        }
    } else if !list_units(dir)?.is_empty() {
        return Err(UserError::ConfigMismatch {
            dir: dir.to_path_buf(),
            detail: format!("it holds units but no {CONFIG_FILE}"),
        }
        .into());
    }
    write_atomic(&config_path, config.file_text().as_bytes())
}

/// Delete temporary files an interrupted writer left in `dir` and its units folder. A run folder
/// belongs to one process at a time, so no live writer owns them.
fn remove_stale_temporaries(dir: &Path) -> Result<(), Error> {
    for folder in [dir.to_path_buf(), dir.join(UNITS_DIR)] {
        let entries = std::fs::read_dir(&folder).map_err(Error::io(&folder))?;
        for entry in entries {
            let path = entry.map_err(Error::io(&folder))?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if is_temporary(name) && path.is_file() {
                std::fs::remove_file(&path).map_err(Error::io(&path))?;
            }
        }
    }
    Ok(())
}

/// A new temporary file in `dir`, named for this process.
fn new_temporary(dir: &Path) -> Result<tempfile::NamedTempFile, Error> {
    tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(Error::io(dir))
}

fn is_temporary(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)
}

/// The id of the process that wrote a temporary file, where its name carries one.
fn writer_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?;
    let (pid, _) = rest.split_once('-')?;
    pid.parse().ok()
}

/// Whether process `pid` runs on this machine. Where that cannot be told (no `/proc`), every
/// process is taken to be alive, so that only age decides.
fn process_alive(pid: u32) -> bool {
    pid == std::process::id()
        || !Path::new("/proc/self").exists()
        || Path::new("/proc").join(pid.to_string()).exists()
}

/// Delete the temporary files in `dir` that no writer will finish: unmodified for at least
/// `min_age` and written by a process that no longer runs here (or whose name does not say). A
/// write lasts milliseconds, so this is safe in a folder other processes write at the same time
/// (the suite's shared artifact cache, or one on a file system several machines share: a writer
/// on another machine is judged by age alone). Returns how many were deleted (one that cannot be
/// deleted is logged and left); a missing folder has none.
pub(crate) fn remove_abandoned_temporaries(
    dir: &Path,
    min_age: std::time::Duration,
) -> Result<usize, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io(dir)(e)),
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for entry in entries {
        let path = entry.map_err(Error::io(dir))?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !is_temporary(name) || writer_pid(name).is_some_and(process_alive) {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&path) else {
            continue; // renamed or removed meanwhile
        };
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if meta.is_file() && age >= min_age {
            // Housekeeping: a file that cannot be deleted (another owner's, on a shared file
            // system) is reported and left, not a reason to stop the run.
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "could not delete an abandoned temporary file")
                }
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claiming_a_folder_removes_stale_temporaries() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join(UNITS_DIR)).unwrap();
        let stale = tmp.path().join(UNITS_DIR).join(".cruxlab-abc123.tmp");
        std::fs::write(&stale, b"half a unit").unwrap();
        let keep = tmp.path().join("notes.txt");
        std::fs::write(&keep, b"mine").unwrap();
        remove_stale_temporaries(tmp.path()).unwrap();
        assert!(!stale.exists());
        assert!(keep.exists());
    }

    /// A temporary file left by a process that is gone and old enough goes; one of a live
    /// process, a recent one, and any other file stay.
    #[test]
    #[cfg(target_os = "linux")]
    fn abandoned_temporaries_go_and_live_ones_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        // Process ids are below 2^22 on Linux, so this one runs nowhere.
        let gone = dir.join(".cruxlab-4294967295-abc.tmp");
        let live = dir.join(format!(".cruxlab-{}-def.tmp", std::process::id()));
        let unnamed = dir.join(".cruxlab-ghi.tmp");
        let other = dir.join("ppo-run-0123.bin");
        for path in [&gone, &live, &unnamed, &other] {
            std::fs::write(path, b"x").unwrap();
        }
        let hour = std::time::Duration::from_secs(3600);
        assert_eq!(
            remove_abandoned_temporaries(dir, hour).unwrap(),
            0,
            "all are recent"
        );
        assert_eq!(
            remove_abandoned_temporaries(dir, std::time::Duration::ZERO).unwrap(),
            2
        );
        assert!(!gone.exists() && !unnamed.exists());
        assert!(live.exists() && other.exists());
        assert_eq!(
            remove_abandoned_temporaries(&dir.join("absent"), hour).unwrap(),
            0
        );
    }

    #[test]
    fn temporary_names_carry_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let file = new_temporary(dir.path()).unwrap();
        let name = file.path().file_name().unwrap().to_str().unwrap();
        assert!(is_temporary(name));
        assert_eq!(writer_pid(name), Some(std::process::id()));
        assert_eq!(writer_pid(".cruxlab-abc.tmp"), None);
    }

    #[test]
    fn unit_names_round_trip() {
        assert_eq!(unit_file_name(3, 7), "c0003-s0007.json");
        assert_eq!(parse_unit_file_name("c0003-s0007.json"), Some((3, 7)));
        assert_eq!(
            parse_unit_file_name(&unit_file_name(12345, 99999)),
            Some((12345, 99999))
        );
        assert_eq!(parse_unit_file_name(".cruxlab-abc.tmp"), None);
        assert_eq!(parse_unit_file_name("c00x3-s0007.json"), None);
        assert_eq!(parse_unit_file_name("c-s.json"), None);
    }

    #[test]
    fn atomic_write_replaces_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.txt")]);
    }

    #[test]
    fn differences_are_named() {
        let a: toml::Table = toml::from_str("seeds = 3\n[grid]\nsize = 5\n").unwrap();
        let b: toml::Table = toml::from_str("seeds = 3\n[grid]\nsize = 7\n").unwrap();
        assert_eq!(
            first_difference(&a, &b, "").unwrap(),
            "key 'grid.size' is 7 there, 5 here"
        );
        assert_eq!(first_difference(&a, &a, ""), None);
    }
}
