//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kuzet::alert::Alert;

/// Runs the kuzet binary with `args`.
pub fn kuzet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kuzet"))
        .args(args)
        .output()
        .expect("run kuzet")
}

/// Runs kuzet and expects success; returns stdout.
pub fn kuzet_ok(args: &[&str]) -> String {
    let out = kuzet(args);
    assert!(
        out.status.success(),
        "kuzet {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Parses JSON-line alerts.
pub fn alerts(stdout: &str) -> Vec<Alert> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad alert line {l}: {e}")))
        .collect()
}

/// Debian's Python, which sees Debian's python3-h5py (a pyenv `python3` first on PATH does not).
pub const PYTHON: &str = "/usr/bin/python3";

/// Set on Python readers: libhdf5 opens files without close-on-exec, so a child spawned by
/// another test while this process has a capture open inherits that file's lock, and a
/// reader that insists on locking then fails at random. The readers here need no lock.
pub const NO_HDF5_LOCKING: (&str, &str) = ("HDF5_USE_FILE_LOCKING", "FALSE");

/// Runs a Python snippet with h5py/numpy; fails loudly if they are missing, because
/// .ci/run installs them and a silent skip would hide a missing install step.
pub fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new(PYTHON)
        .env(NO_HDF5_LOCKING.0, NO_HDF5_LOCKING.1)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("/usr/bin/python3 is required (apt-get install python3-h5py)");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// A fresh temporary directory.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// `dir/name` as a string.
pub fn path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}
