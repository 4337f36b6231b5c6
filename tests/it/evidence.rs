//! Evidence clips (issue 7): alert-triggered IQ with a pre-trigger buffer, cut from synth
//! captures and from the simulated radio, checked sample for sample against the source.

use std::path::{Path, PathBuf};
use std::process::Command;

use kuzet::alert::{Alert, AlertKind, AlertState};
use kuzet::formats::CaptureReader;
use kuzet::types::Annotation;
use num_complex::Complex32;

use crate::support::{alerts, kuzet, kuzet_ok, path, tmp};

/// Writes `scene` (TOML) and synthesises it into a cf32 capture; returns the capture.
fn synth(dir: &tempfile::TempDir, name: &str, scene: &str) -> PathBuf {
    synth_as(dir, name, scene, "cf32")
}

fn synth_as(dir: &tempfile::TempDir, name: &str, scene: &str, format: &str) -> PathBuf {
    let toml = path(dir, &format!("{name}.toml"));
    std::fs::write(&toml, scene).unwrap();
    let out = path(dir, &format!("{name}.h5"));
    kuzet_ok(&[
        "synth",
        "--scenario",
        toml.to_str().unwrap(),
        "--format",
        format,
        "-o",
        out.to_str().unwrap(),
    ]);
    out
}

fn read_all(path: &Path) -> Vec<Complex32> {
    let mut r = CaptureReader::open(path).unwrap();
    let mut v = vec![Complex32::default(); r.len() as usize];
    let mut at = 0;
    while at < v.len() {
        let n = r.read(&mut v[at..]).unwrap();
        assert!(n > 0, "{} ended early", path.display());
        at += n;
    }
    v
}

fn raised(a: &[Alert], kind: AlertKind) -> Vec<&Alert> {
    a.iter()
        .filter(|x| x.kind == kind && x.state == AlertState::Raised)
        .collect()
}

/// Asserts that `clip` holds exactly the source's samples from its `source_first_sample`,
/// and returns that index.
fn assert_bit_exact(clip: &Path, source: &[Complex32]) -> u64 {
    let first = CaptureReader::open(clip)
        .unwrap()
        .source_first_sample()
        .expect("an evidence clip names its first source sample");
    let samples = read_all(clip);
    let want = &source[first as usize..first as usize + samples.len()];
    assert!(
        samples == want,
        "{} differs from the source",
        clip.display()
    );
    first
}

fn evidence_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

const ONE_EMITTER: &str = r#"
sample_rate_hz = "250k"
center_freq_hz = "433.92M"
duration_s = 10.0
noise_dbfs = -45.0
seed = 7

[[emitter]]
type = "cw"
name = "intruder"
offset_hz = "50k"
snr_db = 20.0
start_s = 5.0
stop_s = 6.0
"#;

#[test]
fn a_clip_is_bit_exact_and_replays_to_the_same_alert() {
    let dir = tmp();
    let src = synth(&dir, "one", ONE_EMITTER);
    let ev = path(&dir, "evidence");
    let out = kuzet_ok(&[
        "analyze",
        src.to_str().unwrap(),
        "--evidence",
        ev.to_str().unwrap(),
        "--evidence-post",
        "1s",
    ]);
    let a = alerts(&out);
    let hits = raised(&a, AlertKind::NewEmitter);
    assert_eq!(hits.len(), 1, "{a:#?}");
    let alert = hits[0];
    let clip = PathBuf::from(alert.evidence.as_deref().expect("the alert names its clip"));
    assert!(
        a.iter()
            .filter(|x| x.id == alert.id)
            .all(|x| x.evidence == alert.evidence),
        "every line of the alert names the same clip"
    );
    assert_eq!(evidence_files(&ev), vec![clip.clone()]);
    let name = clip.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with("-new_emitter.h5"), "{name}");

    // Samples: exactly the source's, from 2 s before the alert was first seen.
    let source = read_all(&src);
    let first = assert_bit_exact(&clip, &source);
    let rate = 250_000.0;
    let pre_s = alert.first_seen_s - first as f64 / rate;
    assert!((pre_s - 2.0).abs() < 1e-3, "pre-trigger {pre_s} s");
    let len_s = read_all(&clip).len() as f64 / rate;
    let last = a.iter().rev().find(|x| x.id == alert.id).unwrap();
    let want = last.last_seen_s + 1.0 - first as f64 / rate;
    assert!((len_s - want).abs() < 0.05, "clip {len_s} s, want {want} s");

    // The annotation says where, what and how bad, relative to the clip.
    let anns: Vec<Annotation> = CaptureReader::open(&clip).unwrap().annotations().unwrap();
    assert_eq!(anns.len(), 1);
    assert_eq!(anns[0].label, format!("new_emitter warning #{}", alert.id));
    assert_eq!(anns[0].source, "kuzet/alert");
    assert!((anns[0].start_sample as f64 - 2.0 * rate).abs() <= 1.0);
    assert!(anns[0].freq_lo_hz < alert.freq_hz && alert.freq_hz < anns[0].freq_hi_hz);

    // Replayed alone, the clip raises the same alert at its pre-trigger offset.
    let again = alerts(&kuzet_ok(&["analyze", clip.to_str().unwrap()]));
    let hits2 = raised(&again, AlertKind::NewEmitter);
    assert_eq!(hits2.len(), 1, "{again:#?}");
    let bin = rate / 1024.0;
    assert!((hits2[0].freq_hz - alert.freq_hz).abs() <= bin);
    assert!(
        (hits2[0].first_seen_s - pre_s).abs() < 0.03,
        "first seen at {} s in the clip, pre-trigger {pre_s} s",
        hits2[0].first_seen_s
    );
}

/// 8- and 16-bit captures travel through the pipeline as stored; their clips keep the
/// format and the scale, so they still equal the source sample for sample.
#[test]
fn clips_of_8_and_16_bit_captures_keep_their_format_and_are_exact() {
    for format in ["ci8", "ci16"] {
        let dir = tmp();
        let src = synth_as(&dir, format, ONE_EMITTER, format);
        let ev = path(&dir, "evidence");
        let a = alerts(&kuzet_ok(&[
            "analyze",
            src.to_str().unwrap(),
            "--evidence",
            ev.to_str().unwrap(),
        ]));
        let hits = raised(&a, AlertKind::NewEmitter);
        assert_eq!(hits.len(), 1, "{format}: {a:#?}");
        let clip = PathBuf::from(hits[0].evidence.as_deref().unwrap());
        let fmt = CaptureReader::open(&clip).unwrap().sample_format();
        assert_eq!(fmt.name(), format, "{fmt:?}");
        assert_eq!(fmt, CaptureReader::open(&src).unwrap().sample_format());
        assert_bit_exact(&clip, &read_all(&src));
    }
}

const THREE_EMITTERS: &str = r#"
sample_rate_hz = "100k"
center_freq_hz = "433.92M"
duration_s = 20.0
noise_dbfs = -45.0
seed = 11

[[emitter]]
type = "cw"
name = "a"
offset_hz = "20k"
snr_db = 20.0
start_s = 3.0
stop_s = 3.5

[[emitter]]
type = "cw"
name = "b"
offset_hz = "-20k"
snr_db = 20.0
start_s = 4.0
stop_s = 4.5

[[emitter]]
type = "cw"
name = "c"
offset_hz = "30k"
snr_db = 20.0
start_s = 14.0
stop_s = 14.5
"#;

#[test]
fn overlapping_triggers_share_a_clip_and_replay_cuts_the_same_clips() {
    let dir = tmp();
    let src = synth(&dir, "three", THREE_EMITTERS);
    let source = read_all(&src);
    let (ev1, ev2) = (path(&dir, "ev-analyze"), path(&dir, "ev-replay"));
    let args = |cmd: &'static str, ev: &Path| -> Vec<String> {
        let mut v = vec![cmd.to_string(), src.to_str().unwrap().to_string()];
        if cmd == "replay" {
            v.extend(["--speed", "max", "--headless"].map(String::from));
        }
        v.extend(["--evidence", ev.to_str().unwrap(), "--evidence-post", "1s"].map(String::from));
        v
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        alerts(&kuzet_ok(&a))
    };
    let a = run(args("analyze", &ev1));
    let hits = raised(&a, AlertKind::NewEmitter);
    assert_eq!(hits.len(), 3, "{a:#?}");
    // a and b overlap (b starts 2 s before 4 s = 2 s, inside a's clip): one file.
    assert_eq!(hits[0].evidence, hits[1].evidence);
    assert_ne!(hits[0].evidence, hits[2].evidence);
    let files = evidence_files(&ev1);
    assert_eq!(files.len(), 2, "{files:?}");
    let shared = CaptureReader::open(&files[0])
        .unwrap()
        .annotations()
        .unwrap();
    assert_eq!(shared.len(), 2, "{shared:?}");
    for f in &files {
        assert_bit_exact(f, &source);
    }

    // An instructor's replay cuts the same clips, sample for sample.
    let b = run(args("replay", &ev2));
    let strip = |v: &[Alert]| -> Vec<Alert> {
        v.iter()
            .cloned()
            .map(|mut x| {
                x.evidence = x
                    .evidence
                    .map(|p| Path::new(&*p).file_name().unwrap().to_string_lossy().into());
                x
            })
            .collect()
    };
    assert_eq!(strip(&a), strip(&b));
    let files2 = evidence_files(&ev2);
    assert_eq!(files2.len(), 2);
    for (x, y) in files.iter().zip(&files2) {
        assert_eq!(x.file_name(), y.file_name());
        assert!(read_all(x) == read_all(y), "{} differs", y.display());
    }
}

/// A raw recording (no HDF5, read through the span reader) is read back for its clips
/// too: they hold the same samples as the clips of the capture it was converted from.
#[test]
fn a_raw_recording_cuts_the_clips_of_its_capture() {
    let dir = tmp();
    let src = synth(&dir, "three", THREE_EMITTERS);
    let raw = path(&dir, "three.cf32");
    kuzet_ok(&["convert", src.to_str().unwrap(), raw.to_str().unwrap()]);
    let (ev1, ev2) = (path(&dir, "ev-h5"), path(&dir, "ev-raw"));
    let post = ["--evidence-post", "1s"];
    let mut a = vec![
        "analyze",
        src.to_str().unwrap(),
        "--evidence",
        ev1.to_str().unwrap(),
    ];
    a.extend(post);
    kuzet_ok(&a);
    let mut b = vec![
        "analyze",
        raw.to_str().unwrap(),
        "--rate",
        "100k",
        "--freq",
        "433.92M",
    ];
    b.extend(["--evidence", ev2.to_str().unwrap()]);
    b.extend(post);
    kuzet_ok(&b);
    let clips = |dir: &Path| -> Vec<(u64, Vec<Complex32>)> {
        let mut v: Vec<_> = evidence_files(dir)
            .iter()
            .map(|f| {
                let first = CaptureReader::open(f).unwrap().source_first_sample();
                (first.expect("source_first_sample"), read_all(f))
            })
            .collect();
        v.sort_by_key(|c| c.0);
        v
    };
    let (x, y) = (clips(&ev1), clips(&ev2));
    assert_eq!(x.len(), 2);
    assert_eq!(x.len(), y.len());
    for (cx, cy) in x.iter().zip(&y) {
        assert_eq!(cx.0, cy.0);
        assert!(cx.1 == cy.1, "clip from {} differs", cx.0);
    }
}

const FOUR_SEPARATE: &str = r#"
sample_rate_hz = "100k"
center_freq_hz = "433.92M"
duration_s = 26.0
noise_dbfs = -45.0
seed = 5

[[emitter]]
type = "cw"
offset_hz = "20k"
snr_db = 20.0
start_s = 3.0
stop_s = 3.3

[[emitter]]
type = "cw"
offset_hz = "-20k"
snr_db = 20.0
start_s = 9.0
stop_s = 9.3

[[emitter]]
type = "cw"
offset_hz = "30k"
snr_db = 20.0
start_s = 15.0
stop_s = 15.3

[[emitter]]
type = "cw"
offset_hz = "-30k"
snr_db = 20.0
start_s = 21.0
stop_s = 21.3
"#;

#[test]
fn the_quota_deletes_the_oldest_clips_first() {
    let dir = tmp();
    let src = synth(&dir, "four", FOUR_SEPARATE);
    let ev = path(&dir, "evidence");
    std::fs::create_dir(&ev).unwrap();
    // Not evidence: never deleted, never counted.
    std::fs::write(ev.join("notes.txt"), vec![b'x'; 5_000_000]).unwrap();
    let out = kuzet(&[
        "analyze",
        src.to_str().unwrap(),
        "--evidence",
        ev.to_str().unwrap(),
        "--evidence-pre",
        "1s",
        "--evidence-post",
        "0.5s",
        "--evidence-quota",
        "4M",
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let a = alerts(&String::from_utf8(out.stdout).unwrap());
    let hits = raised(&a, AlertKind::NewEmitter);
    assert_eq!(hits.len(), 4, "{a:#?}");
    assert!(hits.iter().all(|h| h.evidence.is_some()));
    // Each clip is about 1.8 s of cf32 at 100 kS/s (1.5 MB): two fit in 4 MB.
    let left = evidence_files(&ev);
    assert!(left.contains(&ev.join("notes.txt")));
    let clips: Vec<_> = left
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "h5"))
        .collect();
    let newest: Vec<PathBuf> = hits[2..]
        .iter()
        .map(|h| PathBuf::from(h.evidence.as_deref().unwrap()))
        .collect();
    assert_eq!(clips, newest.iter().collect::<Vec<_>>(), "{stderr}");
    assert!(stderr.contains("deleted"), "{stderr}");
    let source = read_all(&src);
    for c in clips {
        assert_bit_exact(c, &source);
    }
}

const DISK_FULL: &str = r#"
sample_rate_hz = "100k"
center_freq_hz = "433.92M"
duration_s = 20.0
noise_dbfs = -45.0
seed = 3

[[emitter]]
type = "cw"
offset_hz = "20k"
snr_db = 20.0
start_s = 2.0
stop_s = 2.3

[[emitter]]
type = "cw"
offset_hz = "-20k"
snr_db = 20.0
start_s = 5.0
stop_s = 11.0

[[emitter]]
type = "cw"
offset_hz = "30k"
snr_db = 20.0
start_s = 16.0
stop_s = 16.3
"#;

/// A file-size limit (`ulimit -f`) makes writes past 2 MB fail as a full disk does: the
/// long clip fails, the clips before and after it are whole, and the run goes on.
#[test]
fn a_full_disk_fails_one_clip_and_keeps_the_others() {
    let dir = tmp();
    let src = synth(&dir, "full", DISK_FULL);
    let ev = path(&dir, "evidence");
    let out = Command::new("bash")
        .arg("-c")
        // Ignore SIGXFSZ so the write returns EFBIG instead of killing the process.
        .arg("trap '' XFSZ; ulimit -f 2048; exec \"$@\"")
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_kuzet"))
        .args(["analyze", src.to_str().unwrap(), "--evidence"])
        .arg(&ev)
        .args(["--evidence-pre", "1s", "--evidence-post", "0.5s"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let a = alerts(&String::from_utf8(out.stdout).unwrap());
    let hits = raised(&a, AlertKind::NewEmitter);
    assert_eq!(hits.len(), 3, "{a:#?}");
    let clip = |i: usize| PathBuf::from(hits[i].evidence.as_deref().unwrap());
    assert!(
        stderr.contains(&*clip(1).to_string_lossy()) && stderr.contains("evidence goes on"),
        "{stderr}"
    );
    assert!(stderr.contains("1 failed"), "{stderr}");
    let source = read_all(&src);
    assert_bit_exact(&clip(0), &source);
    assert_bit_exact(&clip(2), &source);
    // The failed clip still opens, with the source's samples up to its last flush; what
    // was written after it may read back as zeros, never as anything else.
    let failed = clip(1);
    let first = CaptureReader::open(&failed)
        .unwrap()
        .source_first_sample()
        .unwrap() as usize;
    let got = read_all(&failed);
    let want = &source[first..first + got.len()];
    let good = got.iter().zip(want).take_while(|(g, w)| g == w).count();
    assert!(good > 100_000, "only {good} of {} samples", got.len());
    assert!(got[good..].iter().all(|s| *s == Complex32::default()));
    assert!(
        read_all(&clip(2)).len() > 150_000,
        "the clip after the failure is whole"
    );
}

/// A disk that takes nothing (a zero file-size limit, as a full disk behaves): every clip
/// fails at creation, no alert names one, no empty file is left behind, the summary says
/// so, and the run goes on to its end.
#[test]
fn clips_that_cannot_be_created_are_never_named() {
    let dir = tmp();
    let src = synth(&dir, "full0", DISK_FULL);
    let ev = path(&dir, "evidence");
    std::fs::create_dir(&ev).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 0; exec \"$@\"")
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_kuzet"))
        .args(["analyze", src.to_str().unwrap(), "--evidence"])
        .arg(&ev)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let a = alerts(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(raised(&a, AlertKind::NewEmitter).len(), 3, "{a:#?}");
    assert!(
        a.iter().all(|x| x.evidence.is_none()),
        "an alert names a clip that does not exist: {a:#?}"
    );
    let left: Vec<_> = std::fs::read_dir(&ev).unwrap().collect();
    assert!(left.is_empty(), "empty clips left behind: {left:?}");
    assert!(
        stderr.contains("evidence: 0 clip(s)") && stderr.contains(" failed"),
        "{stderr}"
    );
    assert!(
        stderr.lines().all(|l| l.starts_with("kuzet")),
        "one line per message: {stderr}"
    );
}

#[test]
fn bad_evidence_flags_name_the_flag() {
    let dir = tmp();
    let src = synth(&dir, "one", ONE_EMITTER);
    let ev = path(&dir, "ev");
    for (flag, value, want) in [
        ("--evidence-kinds", "hopping,bogus", "--evidence-kinds"),
        ("--evidence-severity", "loud", "--evidence-severity"),
        ("--evidence-pre", "never", "--evidence-pre"),
        ("--evidence-post", "soon", "--evidence-post"),
        ("--evidence-quota", "lots", "--evidence-quota"),
    ] {
        let out = kuzet(&[
            "analyze",
            src.to_str().unwrap(),
            "--evidence",
            ev.to_str().unwrap(),
            flag,
            value,
        ]);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{flag} {value}: {stderr}");
        assert!(out.stdout.is_empty());
    }
}
