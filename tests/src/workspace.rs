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
