//! Hostile and careless inputs that are not HDF5: special files, absurd rates and
//! scenarios, escape sequences in names, outputs that exist or cannot be written, a full
//! disk under a recording, several writers on one alert log. Each gets one clear line
//! and exit status 2, or is handled without losing anything.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::{kuzet, kuzet_ok, path, tmp};

const BIN: &str = env!("CARGO_BIN_EXE_kuzet");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exit 2, nothing on stdout, one line on stderr containing every `want`.
fn refused(out: &Output, want: &[&str]) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    for w in want {
        assert!(stderr.contains(w), "{w:?} missing from: {stderr}");
    }
    stderr
}

fn synth(out: &Path, extra: &[&str]) {
    let mut args = vec!["synth", "-o", out.to_str().unwrap(), "--rate", "250k"];
    args.extend_from_slice(&["--duration", "1", "--emitter", "cw:50k:20"]);
    args.extend_from_slice(extra);
    kuzet_ok(&args);
}

#[test]
fn a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer() {
    let dir = tmp();
    let fifo = path(&dir, "pipe_433.92M_250k.cu8");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // Were it opened, this would block for ever: no one ever writes to the FIFO.
    let out = kuzet(&["analyze", fifo.to_str().unwrap()]);
    refused(&out, &["pipe_433.92M_250k.cu8", "FIFO"]);
    let out = kuzet(&["analyze", "/dev/zero", "--iq-format", "cu8", "--rate", "1M"]);
    refused(&out, &["/dev/zero", "device"]);
}

#[test]
fn absurd_sample_rates_are_refused_wherever_they_come_from() {
    let dir = tmp();
    let raw = path(&dir, "x_1M.cs8");
    std::fs::write(&raw, [0u8; 4096]).unwrap();
    for rate in ["1e12", "1e300", "-1", "0"] {
        let out = kuzet(&["analyze", raw.to_str().unwrap(), "--rate", rate]);
        refused(&out, &["--rate"]);
    }
    let out = kuzet(&[
        "synth",
        "-o",
        path(&dir, "s.h5").to_str().unwrap(),
        "--rate",
        "1e308",
    ]);
    refused(&out, &["--rate"]);
    // A SigMF header claiming a terasample per second.
    let meta = path(&dir, "t.sigmf-meta");
    std::fs::write(
        &meta,
        r#"{"global":{"core:datatype":"ci8","core:sample_rate":1e12,"core:version":"1.0.0"}}"#,
    )
    .unwrap();
    std::fs::write(path(&dir, "t.sigmf-data"), [0u8; 4096]).unwrap();
    let out = kuzet(&["analyze", meta.to_str().unwrap()]);
    refused(&out, &["t.sigmf-meta", "sample rate"]);
}

#[test]
fn scenarios_that_would_exhaust_memory_or_disk_are_refused_naming_the_field() {
    let dir = tmp();
    let out_h5 = path(&dir, "never.h5");
    for (emitter, field) in [
        (
            "type = \"gfsk\"\noffset_hz = 0\nsnr_db = 10\nbandwidth_hz = 1e-300",
            "bandwidth_hz",
        ),
        (
            "type = \"hopper\"\noffset_hz = 0\nsnr_db = 10\ndwell_ms = 1e308",
            "dwell_ms",
        ),
        (
            "type = \"hopper\"\noffset_hz = 0\nsnr_db = 10\nhops = 1000000000",
            "hops",
        ),
        (
            "type = \"gfsk\"\noffset_hz = 0\nsnr_db = 10\nburst_ms = 1e300\nperiod_ms = 1e301",
            "burst_ms",
        ),
    ] {
        let scenario = path(&dir, "s.toml");
        std::fs::write(
            &scenario,
            format!("sample_rate_hz = \"1M\"\nduration_s = 1\n[[emitter]]\n{emitter}\n"),
        )
        .unwrap();
        let out = kuzet(&[
            "synth",
            "--scenario",
            scenario.to_str().unwrap(),
            "-o",
            out_h5.to_str().unwrap(),
        ]);
        refused(&out, &["s.toml", field]);
    }
    // Longer than the disk can hold: refused before writing a byte.
    let out = kuzet(&[
        "synth",
        "-o",
        out_h5.to_str().unwrap(),
        "--duration",
        "1e12",
    ]);
    refused(&out, &["--duration", "GB"]);
    assert!(!out_h5.exists());
}

#[test]
fn escape_sequences_in_a_sigmf_archive_never_reach_the_terminal() {
    let dir = tmp();
    // A member name and a datatype that would clear the screen and print a fake verdict.
    let evil = "\u{1b}[2J\u{1b}[31mALL CLEAR - NO THREATS\u{1b}[0m";
    let meta = format!(
        r#"{{"global":{{"core:datatype":"{}","core:sample_rate":1000}}}}"#,
        evil.replace('\u{1b}', "\\u001b")
    );
    let tarp = path(&dir, "evil.sigmf");
    {
        let mut b = tar::Builder::new(std::fs::File::create(&tarp).unwrap());
        for (name, data) in [
            (format!("{evil}/x.sigmf-meta"), meta.into_bytes()),
            (format!("{evil}/x.sigmf-data"), vec![0u8; 64]),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            // Raw name bytes: the builder would refuse the escape in a path.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_cksum();
            b.append(&h, &data[..]).unwrap();
        }
        b.finish().unwrap();
    }
    let out = kuzet(&["analyze", tarp.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        !out.stderr.contains(&0x1b),
        "an escape byte reached the terminal: {stderr:?}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn outputs_are_never_silently_replaced() {
    let dir = tmp();
    let out = path(&dir, "s.h5");
    synth(&out, &[]);
    let before = std::fs::metadata(&out).unwrap().len();
    refused(
        &kuzet(&["synth", "-o", out.to_str().unwrap()]),
        &["s.h5", "--force"],
    );
    assert_eq!(std::fs::metadata(&out).unwrap().len(), before);
    kuzet_ok(&[
        "synth",
        "-o",
        out.to_str().unwrap(),
        "--rate",
        "250k",
        "--duration",
        "0.5",
        "--force",
    ]);
    assert_ne!(std::fs::metadata(&out).unwrap().len(), before);

    let conv = path(&dir, "c.cf32");
    kuzet_ok(&["convert", out.to_str().unwrap(), conv.to_str().unwrap()]);
    refused(
        &kuzet(&["convert", out.to_str().unwrap(), conv.to_str().unwrap()]),
        &["c.cf32", "--force"],
    );
    kuzet_ok(&[
        "convert",
        out.to_str().unwrap(),
        conv.to_str().unwrap(),
        "--force",
    ]);

    let rec = path(&dir, "r.h5");
    std::fs::write(&rec, b"keep me").unwrap();
    let out = kuzet(&[
        "record",
        "--device",
        "driver=kuzetsim,serial=kuzetsim-exists",
        "--freq",
        "433.92M",
        "--rate",
        "1M",
        "--duration",
        "0.2s",
        "-o",
        rec.to_str().unwrap(),
    ]);
    refused(&out, &["r.h5", "--force"]);
    assert_eq!(std::fs::read(&rec).unwrap(), b"keep me");
}

#[test]
fn output_paths_that_cannot_be_used_exit_2_naming_them() {
    let dir = tmp();
    let device = "driver=kuzetsim,serial=kuzetsim-badout,realtime=false";
    let missing = path(&dir, "no/such/dir");
    let out = kuzet(&[
        "watch",
        "--device",
        device,
        "--freq",
        "433.92M",
        "--rate",
        "1M",
        "--duration",
        "0.2s",
        "--headless",
        "--record",
        missing.to_str().unwrap(),
    ]);
    refused(&out, &["no/such/dir"]);
    let file = path(&dir, "a-file");
    std::fs::write(&file, b"x").unwrap();
    let cap = path(&dir, "c.h5");
    synth(&cap, &[]);
    let out = kuzet(&[
        "analyze",
        cap.to_str().unwrap(),
        "--evidence",
        file.to_str().unwrap(),
    ]);
    refused(&out, &["a-file"]);
    let out = kuzet(&[
        "watch",
        "--device",
        device,
        "--freq",
        "433.92M",
        "--rate",
        "2.4M",
        "--duration",
        "0.2s",
        "--headless",
        "--evidence",
        path(&dir, "ev").to_str().unwrap(),
        "--evidence-pre",
        "10000h",
    ]);
    refused(&out, &["--evidence-pre", "MB"]);
}

/// Several processes appending to one alert log: every line whole.
#[test]
fn concurrent_writers_never_tear_an_alert_line() {
    let dir = tmp();
    let cap = path(&dir, "busy.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        cap.to_str().unwrap(),
        "--rate",
        "1M",
        "--duration",
        "4",
        "--emitter",
        "hopper:0:15",
        "--emitter",
        "gfsk:200k:15",
        "--emitter",
        "cw:-300k:20",
    ]);
    let log = path(&dir, "shared.jsonl");
    let one = kuzet_ok(&["analyze", cap.to_str().unwrap()])
        .lines()
        .count();
    assert!(one > 2);
    let children: Vec<_> = (0..6)
        .map(|_| {
            Command::new(BIN)
                .args([
                    "analyze",
                    cap.to_str().unwrap(),
                    "--workers",
                    "1",
                    "--alerts",
                ])
                .arg(&log)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6 * one);
    for l in lines {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("torn line {l:?}: {e}"));
    }
}

/// Under a file-size limit (a disk that fills), `record` stops at once with one line on
/// what happened and exit 2, long before its duration; `watch --record` raises a
/// `recording_stopped` alert and keeps monitoring to its end.
#[test]
fn a_full_disk_stops_the_recording_not_the_watch() {
    let dir = tmp();
    let limited = |args: &[&str]| {
        Command::new("bash")
            .arg("-c")
            // Ignore SIGXFSZ so that writes past 8 MB fail with EFBIG, as on a full disk.
            .arg("trap '' XFSZ; ulimit -f 8192; exec \"$@\"")
            .arg("bash")
            .arg(BIN)
            .args(args)
            .output()
            .unwrap()
    };
    let file = path(&dir, "full.h5");
    let out = limited(&[
        "record",
        "--device",
        "driver=kuzetsim,serial=kuzetsim-full1,realtime=false",
        "--freq",
        "433.92M",
        "--rate",
        "1M",
        "--duration",
        "600s",
        "-o",
        file.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("recording stopped"), "{stderr}");
    assert!(
        !stderr.contains("600.00 s of stream"),
        "it read on: {stderr}"
    );
    assert!(stderr.lines().all(|l| l.starts_with("kuzet")), "{stderr}");

    let recdir = path(&dir, "rec");
    std::fs::create_dir(&recdir).unwrap();
    let out = limited(&[
        "watch",
        "--device",
        "driver=kuzetsim,serial=kuzetsim-full2,realtime=false,tones=434.0e6:-40",
        "--freq",
        "433.92M",
        "--rate",
        "1M",
        "--duration",
        "20s",
        "--headless",
        "--record",
        recdir.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("\"kind\":\"recording_stopped\""),
        "no health alert: {stdout}"
    );
    assert!(
        stderr.contains("20.00 s of stream"),
        "monitoring ended early: {stderr}"
    );
    assert!(stderr.contains("recording stopped early"), "{stderr}");
}
