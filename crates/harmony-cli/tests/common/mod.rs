//! Fixtures shared by the `harmony vpn` tests.
#![allow(dead_code)] // each test binary uses part of it

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `harmony vpn --gateway examples/vpn-gateway.yaml --state STATE ...`
pub fn vpn(state: &Path) -> Command {
    let mut cmd = Command::cargo_bin("harmony").unwrap();
    cmd.arg("vpn")
        .arg("--gateway")
        .arg(root().join("examples/vpn-gateway.yaml"))
        .arg("--state")
        .arg(state)
        .env("USER", "operator");
    cmd
}
