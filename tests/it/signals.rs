//! SIGTERM, SIGHUP and SIGQUIT end a run exactly as Ctrl-C (SIGINT) does: the source
//! stops, the pipeline drains, `cleared` lines and the summary are written, recordings are
//! closed so that a plain (non-SWMR) reader opens them, and the console restores the
//! terminal.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{NO_HDF5_LOCKING, PYTHON};

const BIN: &str = env!("CARGO_BIN_EXE_kuzet");

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .args(["-s", name, &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(ok.success(), "kill -s {name}");
}

/// Waits until `file` (or the first file in a directory) holds `bytes`, for at most a
/// generous while (a loaded CI machine).
fn wait_for_bytes(path: &Path, bytes: u64) -> PathBuf {
    let t = Instant::now();
    loop {
        let file = if path.is_dir() {
            std::fs::read_dir(path)
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| e.ok())
                .map(|e| e.path())
        } else {
            Some(path.to_path_buf())
        };
        if let Some(f) = file {
            if std::fs::metadata(&f).is_ok_and(|m| m.len() >= bytes) {
                return f;
            }
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "nothing recorded in {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the child to exit (with a generous deadline); returns (status, stdout, stderr).
fn finish(mut child: Child) -> (std::process::ExitStatus, String, String) {
    let t = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            return (
                out.status,
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            );
        }
        if t.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("kuzet did not stop after the signal");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain h5py open (no SWMR): refused while the file is still flagged open for writing.
fn plain_h5py_samples(file: &Path) -> u64 {
    let out = Command::new(PYTHON)
        .env(NO_HDF5_LOCKING.0, NO_HDF5_LOCKING.1)
        .args([
            "-c",
            "import sys, h5py\nprint(h5py.File(sys.argv[1], 'r')['iq'].shape[0])",
        ])
        .arg(file)
        .output()
        .expect("/usr/bin/python3 with python3-h5py");
    assert!(
        out.status.success(),
        "plain h5py cannot open {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a sample count")
}

#[test]
fn every_stop_signal_ends_watch_as_ctrl_c_does() {
    for sig in ["INT", "TERM", "HUP", "QUIT"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let device = format!(
            "driver=kuzetsim,serial=kuzetsim-sig{sig},tones=434.0e6:-40,seed=1,buffer_ms=0"
        );
        let child = Command::new(BIN)
            .args([
                "watch",
                "--device",
                &device,
                "--freq",
                "433.92M",
                "--rate",
                "1M",
                "--duration",
                "120s",
                "--headless",
                "--record",
            ])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kuzet");
        let file = wait_for_bytes(dir.path(), 2_000_000);
        signal(&child, sig);
        let (status, stdout, stderr) = finish(child);
        assert!(status.success(), "SIG{sig}: {status:?}\n{stderr}");
        assert!(
            stderr.contains("samples (") && stderr.contains("recorded"),
            "SIG{sig}: no summary\n{stderr}"
        );
        assert!(
            stdout.lines().any(|l| l.contains("\"state\":\"cleared\"")),
            "SIG{sig}: the tone's alert was not cleared\n{stdout}"
        );
        assert!(plain_h5py_samples(&file) > 0, "SIG{sig}");
    }
}

#[test]
fn sigterm_ends_record_with_a_closed_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("r.h5");
    let child = Command::new(BIN)
        .args([
            "record",
            "--device",
            "driver=kuzetsim,serial=kuzetsim-sigrecord,buffer_ms=0",
            "--freq",
            "433.92M",
            "--rate",
            "1M",
            "--duration",
            "120s",
            "-o",
        ])
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kuzet");
    wait_for_bytes(&file, 2_000_000);
    signal(&child, "TERM");
    let (status, _, stderr) = finish(child);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("recorded"), "{stderr}");
    assert!(plain_h5py_samples(&file) > 0);
}
