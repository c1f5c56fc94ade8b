//! Where the lab finds third-party reference data that it reads but does not redistribute (such
//! as Epoch's digitised Chinchilla points, whose repository carries no licence).
//!
//! The folder is `$CRUXLAB_DATA` when that variable is set, else `shared/data` beside the project
//! (`<project>/../shared/data`), found from where the project was built rather than from the working
//! directory, so a run finds it wherever it is started.

use std::path::{Component, Path, PathBuf};

/// The environment variable that names the reference data folder.
pub const DATA_ENV: &str = "CRUXLAB_DATA";

/// The reference data folder (which may not exist on this machine).
pub fn data_dir() -> PathBuf {
    match std::env::var_os(DATA_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => lexically_normal(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")),
    }
}

/// `path` with `.` and `name/..` removed by text alone (the folder may not exist, so it cannot be
/// canonicalised), so that messages name it plainly.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The file `relative` inside the reference data folder, when it is there and is a file.
pub fn locate(relative: &str) -> Option<PathBuf> {
    let path = data_dir().join(relative);
    path.is_file().then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_not_located() {
        assert_eq!(locate("no/such/file.csv"), None);
    }

    #[test]
    fn the_default_folder_is_beside_the_project_not_the_working_directory() {
        if std::env::var_os(DATA_ENV).is_none() {
            let dir = data_dir();
            assert!(dir.is_absolute(), "{}", dir.display());
            assert!(dir.ends_with("shared/data"));
            assert!(!dir.components().any(|c| c == Component::ParentDir));
        }
    }

    #[test]
    fn paths_are_normalised_by_text() {
        assert_eq!(
            lexically_normal(Path::new("/a/b/c/../../d/./e")),
            PathBuf::from("/a/d/e")
        );
        assert_eq!(lexically_normal(Path::new("../x")), PathBuf::from("../x"));
    }
}
