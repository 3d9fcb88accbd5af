//! Locating the workspace's binaries from a test of another crate (cargo only exposes a crate's
//! own binaries to its tests). `cargo test --workspace` builds every binary first.

use std::path::PathBuf;

/// The path of binary `name` of package `package` in this test's target directory.
pub fn workspace_binary(package: &str, name: &str) -> PathBuf {
    // target/debug/deps/<test> → target/debug/<name>
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target directory")
        .to_path_buf();
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build -p {package} --bin {name}` or `cargo test --workspace`",
        path.display()
    );
    path
}
