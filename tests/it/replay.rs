//! Paced replay, baseline learning and scoring over every recording format, not only
//! kuzet HDF5: the same flags (`--rate`, `--freq`, `--iq-format`) and the same alerts as
//! `kuzet analyze`.

use std::path::{Path, PathBuf};

use kuzet::alert::{AlertKind, AlertState};

use crate::support::{alerts, kuzet, kuzet_ok, path, tmp};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// A 1 s scene at 1 MS/s: a carrier throughout and a packet source from 0.3 s.
fn scene(dir: &tempfile::TempDir) -> PathBuf {
    let p = path(dir, "scene.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        s(&p),
        "--rate",
        "1M",
        "--freq",
        "433.92M",
        "--duration",
        "1s",
        "--emitter",
        "cw:-200k:20",
        "--emitter",
        "gfsk:150k:15:0.3",
    ]);
    p
}

/// A RIFF/WAVE file of 16-bit stereo PCM (I left, Q right) with no `auxi` chunk, as a
/// plain audio tool writes it: the centre frequency must come from `--freq`.
fn wav_from_cs16(cs16: &[u8], rate: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + cs16.len() as u32).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes()); // PCM
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * 4).to_le_bytes());
    v.extend_from_slice(&4u16.to_le_bytes());
    v.extend_from_slice(&16u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&(cs16.len() as u32).to_le_bytes());
    v.extend_from_slice(cs16);
    v
}

/// Runs kuzet expecting failure; returns (exit code, stderr).
fn fails(args: &[&str]) -> (Option<i32>, String) {
    let out = kuzet(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "kuzet {args:?} succeeded: {err}");
    (out.status.code(), err)
}

/// The stream length `kuzet: N samples (…` in a run's summary on stderr.
fn samples_in_summary(args: &[&str]) -> (u64, String) {
    let out = kuzet(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "kuzet {args:?} failed: {err}");
    let n = err
        .lines()
        .find_map(|l| {
            l.strip_prefix("kuzet: ")?
                .split_once(" samples (")?
                .0
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no summary line: {err}"));
    (n, String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn replay_gives_the_alerts_of_analyze_on_raw_sigmf_wav_and_sm2117() {
    let dir = tmp();
    let h5 = scene(&dir);
    let cu8 = path(&dir, "g001_433.92M_1M.cu8");
    let sigmf = path(&dir, "scene.sigmf-meta");
    let sm2117 = path(&dir, "scene.sm2117.h5");
    let cs16 = path(&dir, "scene.cs16");
    for out in [&cu8, &sigmf, &sm2117, &cs16] {
        kuzet_ok(&["convert", s(&h5), s(out)]);
    }
    let wav = path(&dir, "scene.wav");
    std::fs::write(
        &wav,
        wav_from_cs16(&std::fs::read(&cs16).unwrap(), 1_000_000),
    )
    .unwrap();

    let cases: [(&Path, &[&str]); 4] = [
        (&cu8, &[]),
        (&sigmf, &[]),
        (&sm2117, &[]),
        (&wav, &["--freq", "433.92M"]),
    ];
    for (file, flags) in cases {
        let mut analyze = vec!["analyze", s(file)];
        analyze.extend_from_slice(flags);
        let mut replay = vec!["replay", s(file), "--speed", "max", "--headless"];
        replay.extend_from_slice(flags);
        let (n_analyzed, analyzed) = samples_in_summary(&analyze);
        let (n_replayed, replayed) = samples_in_summary(&replay);
        assert_eq!(n_replayed, 1_000_000, "{file:?}");
        assert_eq!(n_replayed, n_analyzed, "{file:?}");
        assert_eq!(replayed, analyzed, "{file:?}: replay and analyze differ");
        // Both emitters, at their absolute frequencies (so --freq reached the WAV replay);
        // the packets' first spectrum may catch one FSK tone, off the centre.
        let got = alerts(&replayed);
        for f in [433.72e6, 434.07e6] {
            assert!(
                got.iter().any(|a| a.kind == AlertKind::NewEmitter
                    && a.state == AlertState::Raised
                    && (a.freq_hz - f).abs() < 30e3),
                "{file:?}: nothing raised at {f}: {replayed}"
            );
        }
    }
}

#[test]
fn a_looping_replay_of_a_raw_file_runs_past_its_end_until_the_duration() {
    let dir = tmp();
    let h5 = scene(&dir);
    // No rate in the name: it comes from the flag, and the format from --iq-format.
    let raw = path(&dir, "loop.bin");
    kuzet_ok(&["convert", s(&h5), s(&raw), "--to", "cf32"]);
    let flags = ["--rate", "1M", "--freq", "433.92M", "--iq-format", "cf32"];
    let run = |extra: &[&str]| {
        let mut args = vec!["replay", s(&raw), "--speed", "max", "--headless"];
        args.extend_from_slice(&flags);
        args.extend_from_slice(extra);
        samples_in_summary(&args)
    };
    let (once, _) = run(&[]);
    assert_eq!(once, 1_000_000);
    let (looped, out) = run(&["--loop", "--duration", "2.5s"]);
    assert_eq!(looped, 2_500_000);
    // The carrier is on the whole time, so its alert lasts into the third pass: stream
    // time kept counting across the wraps.
    let carrier_last_seen = alerts(&out)
        .iter()
        .filter(|a| (a.freq_hz - 433.72e6).abs() < 10e3)
        .map(|a| a.last_seen_s)
        .fold(0.0, f64::max);
    assert!(carrier_last_seen > 2.0, "{out}");
}

#[test]
fn learn_and_score_take_the_rate_of_a_raw_file_from_the_flag() {
    let dir = tmp();
    let h5 = scene(&dir);
    let cf32 = path(&dir, "air.cf32");
    kuzet_ok(&["convert", s(&h5), s(&cf32)]);
    let baseline = path(&dir, "baseline.h5");

    let (code, err) = fails(&["baseline", "learn", s(&cf32), "-o", s(&baseline)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("air.cf32") && err.contains("--rate"), "{err}");
    assert!(!baseline.exists());
    let (code, err) = fails(&["score", s(&cf32)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("air.cf32") && err.contains("--rate"), "{err}");

    kuzet_ok(&[
        "baseline",
        "learn",
        s(&cf32),
        "--rate",
        "1M",
        "--freq",
        "433.92M",
        "-o",
        s(&baseline),
    ]);
    assert!(baseline.exists());
    // What was learned from the raw file is known on the HDF5 original: the carrier is
    // no longer new.
    let known = alerts(&kuzet_ok(&["analyze", s(&h5), "--baseline", s(&baseline)]));
    assert!(
        !known
            .iter()
            .any(|a| a.kind == AlertKind::NewEmitter && (a.freq_hz - 433.72e6).abs() < 10e3),
        "{known:?}"
    );

    // A raw file has no ground truth: every alert is a false alert, and the score says so.
    let score = kuzet_ok(&["score", s(&cf32), "--rate", "1M", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&score).unwrap();
    assert_eq!(v["total"].as_u64(), Some(0), "{score}");
    assert!(v["false_alert_count"].as_u64().unwrap() >= 2, "{score}");

    // The flags read recordings; a scenario sets its own rate.
    let toml = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/narrowband.toml");
    let (code, err) = fails(&["score", toml, "--rate", "1M"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--rate") && err.contains("narrowband.toml"),
        "{err}"
    );
}

#[test]
fn score_reads_ground_truth_from_sigmf_annotations() {
    let dir = tmp();
    let h5 = scene(&dir);
    let sigmf = path(&dir, "scene.sigmf-meta");
    kuzet_ok(&["convert", s(&h5), s(&sigmf)]);
    for file in [&h5, &sigmf] {
        let score = kuzet_ok(&["score", s(file), "--json"]);
        let v: serde_json::Value = serde_json::from_str(&score).unwrap();
        assert_eq!(v["total"].as_u64(), Some(2), "{file:?}: {score}");
        assert_eq!(v["detected"].as_u64(), Some(2), "{file:?}: {score}");
    }
}
