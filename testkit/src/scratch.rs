//! Scratch directories for tests, so a test run leaves nothing behind in the temp dir.
//!
//! * [`Scratch`]: one test's directory under the system temp dir, named after the test and
//!   the process, created empty and removed when the guard is dropped. A test that panics
//!   keeps its files (the guard is dropped while panicking) so a failure can be looked at.
//! * [`fresh_dir`]: an emptied directory at a given path, for data a whole test binary
//!   shares (generated once behind a `OnceLock`, which never drops): give it a fixed path
//!   under `env!("CARGO_TARGET_TMPDIR")` so each run replaces the last one's copy instead of
//!   adding another.

use std::ops::Deref;
use std::path::{Path, PathBuf};

/// `path`, emptied (removed if it exists, then created with its parents).
pub fn fresh_dir(path: impl Into<PathBuf>) -> PathBuf {
    let path = path.into();
    match std::fs::remove_dir_all(&path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("cannot empty {}: {e}", path.display()),
    }
    std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    path
}

/// One test's directory, `<temp dir>/cflog-<name>-<pid>`, empty when made and removed on drop
/// unless the thread is panicking. Derefs to its [`Path`].
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// A fresh directory for the test `name` (unique among the tests of one binary).
    pub fn new(name: &str) -> Scratch {
        Scratch { path: fresh_dir(std::env::temp_dir().join(format!("cflog-{name}-{}", std::process::id()))) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scratch_dir_starts_empty_and_is_removed_on_drop() {
        let stale = std::env::temp_dir().join(format!("cflog-scratch-selftest-{}", std::process::id()));
        std::fs::create_dir_all(&stale).unwrap();
        std::fs::write(stale.join("left-over"), b"x").unwrap();
        let s = Scratch::new("scratch-selftest");
        assert_eq!(s.path(), stale);
        assert_eq!(std::fs::read_dir(&*s).unwrap().count(), 0, "a stale file survived");
        std::fs::create_dir_all(s.join("a/b")).unwrap();
        std::fs::write(s.join("a/b/c"), b"y").unwrap();
        drop(s);
        assert!(!stale.exists(), "{} was not removed", stale.display());
    }

    #[test]
    fn a_panicking_test_keeps_its_files() {
        let path = std::env::temp_dir().join(format!("cflog-scratch-panics-{}", std::process::id()));
        let p = path.clone();
        let joined = std::thread::spawn(move || {
            let s = Scratch::new("scratch-panics");
            std::fs::write(s.join("evidence"), b"z").unwrap();
            assert_eq!(s.path(), p);
            panic!("on purpose");
        })
        .join();
        assert!(joined.is_err());
        assert!(path.join("evidence").is_file(), "the failed test's files were removed");
        std::fs::remove_dir_all(&path).unwrap();
    }
}
