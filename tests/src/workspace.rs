//! Where the workspace and its built binaries are.

use std::path::{Path, PathBuf};

/// The workspace root (the checkout).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// The directory holding the binaries of the profile this program was built
/// with (`<target>/debug` for tests, `<target>/release` for the benchmark),
/// unless `FUNCTION_BIN_DIR` names another.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FUNCTION_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the running program has a path");
    let mut dir = exe
        .parent()
        .expect("an executable lives in a directory")
        .to_path_buf();
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.pop();
    }
    dir
}

/// A function's built binary; the panic message says how to build it.
pub fn function_binary(name: &str) -> PathBuf {
    let path = bin_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: build the function binaries first (`cargo build --workspace --bins`, which `make test` does)",
        path.display()
    );
    path
}

/// An `events/<function>/<case>.json` sample.
pub fn event(function: &str, case: &str) -> serde_json::Value {
    let path = root()
        .join("events")
        .join(function)
        .join(format!("{case}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh directory under the system temp dir, removed with everything in it
/// on drop, so test and bench runs do not pile up output.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// Creates `<tmp>/<prefix>-<uuid>`.
    pub fn new(prefix: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Self(dir)
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
