//! Shared artifacts: expensive results several units need (a trained network, a fit), built once
//! by a declared stage before the units that read them, and stored content-addressed by their
//! inputs.
//!
//! An experiment names the artifacts a unit needs ([`crate::Experiment::artifacts`]) as
//! [`ArtifactKey`]s: a kind and the JSON of every input the artifact is a pure function of. Before
//! the units of a sweep run, the framework builds each missing artifact once (in parallel,
//! [`crate::Experiment::build_artifact`]) and writes it atomically to the cache folder as
//! `KIND-HASH.bin`, where HASH is the SHA-256 of the key's canonical JSON. The cache folder is the
//! run folder's `artifacts/` unless the caller names another (the suite shares one between its
//! experiments and their audits), so artifacts are reused on resume, by control runs and by sibling
//! experiments, and never held in a process-wide memo. Because an artifact is a pure function of
//! its key, where it was built never changes what a unit measures.
//!
//! A long build (a training run) may keep its progress beside the artifact as it goes
//! ([`Progress`], `KIND-HASH.progress`), so that an interrupted sweep resumes it where it stopped
//! rather than from the start; the file goes once the artifact is stored.

use crate::error::Error;
use crate::store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What an artifact is a pure function of.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ArtifactKey {
    /// A short name of the kind of artifact (`ppo-run`): letters, digits and '-'.
    pub kind: String,
    /// The canonical JSON of every input.
    pub inputs: String,
}

impl ArtifactKey {
    /// The key of an artifact of `kind` built from `inputs`.
    pub fn new(kind: &str, inputs: &impl Serialize) -> ArtifactKey {
        ArtifactKey {
            kind: kind.to_owned(),
            inputs: serde_json::to_string(inputs).expect("artifact inputs serialize to JSON"),
        }
    }

    /// The file name the artifact is stored under.
    pub fn file_name(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.kind.as_bytes());
        hash.update([0]);
        hash.update(self.inputs.as_bytes());
        let digest = hash.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{hex}.bin", self.kind)
    }
}

/// The artifacts one unit may read, loaded from the cache.
#[derive(Clone, Debug, Default)]
pub struct Artifacts {
    items: BTreeMap<ArtifactKey, Arc<Vec<u8>>>,
}

impl Artifacts {
    /// The bytes of `key`. Panics when the unit did not declare it: an error in the experiment.
    pub fn get(&self, key: &ArtifactKey) -> &[u8] {
        self.items.get(key).unwrap_or_else(|| {
            panic!(
                "artifact {} was not declared by this unit's `artifacts`",
                key.file_name()
            )
        })
    }

    /// An artifact set built in memory (tests, and callers outside a sweep).
    pub fn from_built(items: impl IntoIterator<Item = (ArtifactKey, Vec<u8>)>) -> Artifacts {
        Artifacts {
            items: items.into_iter().map(|(k, v)| (k, Arc::new(v))).collect(),
        }
    }
}

/// How long a temporary file in the cache must lie untouched before it counts as abandoned: an
/// atomic write lasts milliseconds, so this is many times more than any live write takes.
pub const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// The cache folder of artifacts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactCache {
    pub dir: PathBuf,
}

impl ArtifactCache {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ArtifactCache { dir: dir.into() }
    }

    fn path(&self, key: &ArtifactKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// Whether `key` is stored.
    pub fn has(&self, key: &ArtifactKey) -> bool {
        self.path(key).is_file()
    }

    /// Store `bytes` under `key` (atomically), with the key itself beside it for people, and drop
    /// the build's progress file.
    pub fn store(&self, key: &ArtifactKey, bytes: &[u8]) -> Result<(), Error> {
        std::fs::create_dir_all(&self.dir).map_err(Error::io(&self.dir))?;
        let path = self.path(key);
        let mut json = serde_json::to_vec_pretty(key).expect("a key serializes");
        json.push(b'\n');
        store::write_atomic(&path.with_extension("json"), &json)?;
        store::write_atomic(&path, bytes)?;
        let progress = path.with_extension("progress");
        match std::fs::remove_file(&progress) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(&progress)(e)),
            _ => Ok(()),
        }
    }

    /// Where the build of `key` keeps its progress (the cache folder is made now, if missing).
    pub fn progress(&self, key: &ArtifactKey) -> Result<Progress, Error> {
        std::fs::create_dir_all(&self.dir).map_err(Error::io(&self.dir))?;
        Ok(Progress {
            path: Some(self.path(key).with_extension("progress")),
        })
    }

    /// Delete the temporary files that writers killed part-way left in the cache folder (see
    /// `store::remove_abandoned_temporaries`: those of processes gone from this machine and
    /// untouched for [`ABANDONED_AFTER`]). Other processes may write the cache meanwhile.
    pub fn remove_abandoned(&self) -> Result<usize, Error> {
        store::remove_abandoned_temporaries(&self.dir, ABANDONED_AFTER)
    }

    /// Load the artifacts `keys` (each must be stored).
    pub fn load(&self, keys: &[ArtifactKey]) -> Result<Artifacts, Error> {
        let mut items = BTreeMap::new();
        for key in keys {
            let path = self.path(key);
            let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
            items.insert(key.clone(), Arc::new(bytes));
        }
        Ok(Artifacts { items })
    }
}

/// Where one artifact's build keeps its progress (see the module notes): a file, or nowhere
/// ([`Progress::none`], for builds outside a cache). What the file holds is the builder's
/// business; it is written atomically, so a build stopped at any moment leaves the last whole
/// save or none.
#[derive(Clone, Debug)]
pub struct Progress {
    path: Option<PathBuf>,
}

impl Progress {
    /// Keep no progress: the build runs from the start to the end.
    pub fn none() -> Progress {
        Progress { path: None }
    }

    /// The last saved progress, if there is one and it can be read.
    pub fn load(&self) -> Option<Vec<u8>> {
        std::fs::read(self.path.as_ref()?).ok()
    }

    /// Save progress, replacing the last save (nothing where progress is not kept).
    pub fn save(&self, bytes: &[u8]) -> Result<(), Error> {
        match &self.path {
            Some(path) => store::write_atomic(path, bytes),
            None => Ok(()),
        }
    }
}

/// The default cache of a run folder.
pub fn default_cache(run_folder: &Path) -> ArtifactCache {
    ArtifactCache::new(run_folder.join("artifacts"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_address_content_and_round_trip() {
        let a = ArtifactKey::new("ppo-run", &serde_json::json!({"seed": 1}));
        let b = ArtifactKey::new("ppo-run", &serde_json::json!({"seed": 2}));
        assert_ne!(a.file_name(), b.file_name());
        assert_eq!(
            a.file_name(),
            ArtifactKey::new("ppo-run", &serde_json::json!({"seed": 1})).file_name()
        );
        assert!(a.file_name().starts_with("ppo-run-") && a.file_name().ends_with(".bin"));
        let dir = tempfile::tempdir().unwrap();
        let cache = ArtifactCache::new(dir.path().join("cache"));
        assert!(!cache.has(&a));
        cache.store(&a, b"weights").unwrap();
        assert!(cache.has(&a));
        let loaded = cache.load(std::slice::from_ref(&a)).unwrap();
        assert_eq!(loaded.get(&a), b"weights");
        assert!(cache.load(&[b]).is_err());
    }
}
