//! Live path through the real libSoapySDR and the built-in simulated device (kuzetsim):
//! discovery, watch, overflow, hot-plug, recording, bad arguments. Every test uses its own
//! `serial=kuzetsim-<name>`, because libSoapySDR caches devices by arguments and the
//! simulator's hot-plug state is per serial.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use kuzet::formats::kuzet::CaptureReader;
use num_complex::Complex32;
use serde_json::Value;

/// Bin width at 2.4 MS/s with the default 1024-point FFT.
const BIN_HZ: f64 = 2.4e6 / 1024.0;
const TONE_HZ: f64 = 434.0e6;

fn kuzet() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kuzet"))
}

fn run(args: &[&str]) -> Output {
    kuzet().args(args).output().expect("run kuzet")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn alerts(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

fn sim(serial: &str, extra: &str) -> String {
    format!("driver=kuzetsim,serial=kuzetsim-{serial},tones={TONE_HZ}:-40,seed=1,{extra}")
}

fn watch(device: &str, duration: &str, more: &[&str]) -> Output {
    let mut args = vec![
        "watch",
        "--device",
        device,
        "--freq",
        "433.92M",
        "--rate",
        "2.4M",
        "--duration",
        duration,
        "--headless",
    ];
    args.extend_from_slice(more);
    let out = run(&args);
    assert!(
        out.status.success(),
        "kuzet watch failed: {}",
        text(&out.stderr)
    );
    out
}

fn of_kind<'a>(alerts: &'a [Value], kind: &str, state: &str) -> Vec<&'a Value> {
    alerts
        .iter()
        .filter(|a| a["kind"] == kind && a["state"] == state)
        .collect()
}

/// The tone was reported within one bin of its true frequency; returns the alerts about it.
fn tone_alerts(alerts: &[Value]) -> Vec<&Value> {
    let found: Vec<&Value> = alerts
        .iter()
        .filter(|a| a["kind"] == "new_emitter")
        .filter(|a| (a["freq_hz"].as_f64().unwrap_or(0.0) - TONE_HZ).abs() <= BIN_HZ)
        .collect();
    assert!(
        !found.is_empty(),
        "no emitter within one bin of {TONE_HZ} Hz: {alerts:#?}"
    );
    found
}

/// `N dropped` from the run summary on stderr.
fn dropped(out: &Output) -> u64 {
    let err = text(&out.stderr);
    err.split(", ")
        .find_map(|part| {
            part.trim()
                .strip_suffix(" dropped")
                .and_then(|n| n.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no dropped count in {err}"))
}

#[test]
fn devices_lists_the_simulator() {
    let out = run(&["devices"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("driver=kuzetsim"))
        .unwrap_or_else(|| panic!("kuzetsim not listed: {stdout}"));
    assert!(line.contains("label=\"kuzet simulator\""), "{line}");
    assert!(line.contains("serial=kuzetsim-0"), "{line}");
}

#[test]
fn probe_prints_ranges_and_native_format() {
    let out = run(&[
        "devices",
        "--probe",
        "driver=kuzetsim,serial=kuzetsim-probe",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    for want in [
        "sample rate:  0.1–62 MS/s",
        "gain:         0–50 dB",
        "antennas:     RX",
        "native format: CS16",
        "frequency:",
        "bandwidths:",
    ] {
        assert!(s.contains(want), "missing {want:?} in\n{s}");
    }
}

#[test]
fn watch_reports_the_tone_at_its_absolute_frequency() {
    let out = watch(&sim("watch", "realtime=false"), "3s", &[]);
    let a = alerts(&out);
    let tone = tone_alerts(&a);
    assert_eq!(tone[0]["state"], "raised");
    assert_eq!(dropped(&out), 0, "{}", text(&out.stderr));
    // Nothing else on a clean band.
    assert!(
        a.iter().all(|x| x["kind"] == "new_emitter"),
        "unexpected alerts: {a:#?}"
    );
}

#[test]
fn watch_paced_in_real_time() {
    // The simulator paced at the sample rate, as a radio is: the live drop policy applies.
    let started = Instant::now();
    let out = watch(&sim("paced", "buffer_ms=0"), "1.5s", &[]);
    assert!(started.elapsed() >= Duration::from_millis(1400));
    tone_alerts(&alerts(&out));
}

#[test]
fn overflow_is_counted_and_raises_overrun_and_the_pipeline_goes_on() {
    let out = watch(
        &sim("overflow", "realtime=false,overflow_every=20"),
        "3s",
        &[],
    );
    let a = alerts(&out);
    assert!(dropped(&out) > 0, "{}", text(&out.stderr));
    assert_eq!(of_kind(&a, "overrun", "raised").len(), 1, "{a:#?}");
    // Detection ran to the end of the stream.
    let tone = tone_alerts(&a);
    let last = tone.last().expect("tone alerts");
    assert!(last["last_seen_s"].as_f64().unwrap_or(0.0) > 2.5, "{a:#?}");
}

#[test]
fn unplug_raises_device_lost_then_restored_and_detection_resumes() {
    let dev = sim("unplug", "realtime=false,unplug_after=1,replug_after=0.5");
    let out = watch(&dev, "3s", &[]);
    let a = alerts(&out);
    let pos = |kind: &str, state: &str| {
        a.iter()
            .position(|x| x["kind"] == kind && x["state"] == state)
            .unwrap_or_else(|| panic!("no {kind} {state}: {a:#?}"))
    };
    let lost = pos("device_lost", "raised");
    let restored = pos("device_restored", "raised");
    assert!(lost < restored, "{a:#?}");
    let t_lost = a[lost]["first_seen_s"].as_f64().unwrap_or(0.0);
    assert!((t_lost - 1.0).abs() < 0.05, "lost at {t_lost}");
    // The emitter is still tracked after the replug, to the end of the stream.
    let tone = tone_alerts(&a);
    let last = tone.last().expect("tone alerts");
    assert!(last["last_seen_s"].as_f64().unwrap_or(0.0) > 2.5, "{a:#?}");
}

#[test]
fn record_then_analyze_finds_the_same_emitter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("rec.h5");
    let f = file.to_str().expect("utf-8 path");
    let out = run(&[
        "record",
        "--device",
        &sim("record", "realtime=false"),
        "--freq",
        "433.92M",
        "--rate",
        "2.4M",
        "--gain",
        "30",
        "--duration",
        "2s",
        "-o",
        f,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let r = CaptureReader::open(&file).expect("open recording");
    let m = r.meta();
    assert_eq!(m.sample_rate_hz, 2.4e6);
    assert_eq!(m.center_freq_hz, 433.92e6);
    assert_eq!(m.gain_db, Some(30.0));
    assert!(m.device.contains("driver=kuzetsim"), "{}", m.device);
    assert!(m.device.contains("serial=kuzetsim-record"), "{}", m.device);
    assert!(m.start_time_utc.is_some());
    assert_eq!(r.len(), 4_800_000);

    let out = run(&["analyze", f]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let a = alerts(&out);
    tone_alerts(&a);
}

#[test]
fn a_killed_recording_reads_back_to_its_last_flush() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("killed.h5");
    let file2 = file.clone();
    kill_once_written(
        &[
            "record",
            "--device",
            &sim("killed", "buffer_ms=0"),
            "--freq",
            "433.92M",
            "--rate",
            "1M",
            "--duration",
            "60s",
            "-o",
            file.to_str().expect("utf-8 path"),
        ],
        move || Some(file2.clone()),
    );
    let mut r = CaptureReader::open(&file).expect("a killed recording still opens");
    let n = r.len();
    assert!(n >= 500_000, "only {n} samples survived");
    let mut buf = vec![Complex32::default(); 1 << 16];
    let mut total = 0u64;
    loop {
        let got = r.read(&mut buf).expect("read back");
        if got == 0 {
            break;
        }
        total += got as u64;
    }
    assert_eq!(total, n);
    let out = run(&["analyze", file.to_str().expect("utf-8 path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    tone_alerts(&alerts(&out));
    h5py_agrees(&file, n);
}

/// Runs kuzet with `args`, waits until the file `find` names holds about a second of
/// samples, then SIGKILLs it mid-stream; returns that file.
fn kill_once_written(
    args: &[&str],
    find: impl Fn() -> Option<std::path::PathBuf>,
) -> Option<std::path::PathBuf> {
    let mut child = kuzet()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kuzet");
    let t = Instant::now();
    let mut file = None;
    while t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
        file = find();
        if file
            .as_ref()
            .is_some_and(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 8_000_000))
        {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    file
}

/// h5py (SWMR read; .ci/run installs python3-h5py) sees the same number of samples.
fn h5py_agrees(file: &Path, n: u64) {
    let script = "import sys, h5py\n\
                  f = h5py.File(sys.argv[1], 'r', libver='latest', swmr=True)\n\
                  print(f['iq'].shape[0])";
    let (k, v) = crate::support::NO_HDF5_LOCKING;
    let out = Command::new(crate::support::PYTHON)
        .env(k, v)
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("/usr/bin/python3 with python3-h5py");
    assert!(out.status.success(), "h5py: {}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), n.to_string());
}

#[test]
fn watch_records_continuously_with_rollover() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = watch(
        &sim("rollover", "realtime=false"),
        "2.5s",
        &[
            "--record",
            dir.path().to_str().expect("utf-8 path"),
            "--rollover",
            "1s",
        ],
    );
    tone_alerts(&alerts(&out));
    let mut files: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    let total: u64 = files
        .iter()
        .map(|f| CaptureReader::open(f).expect("open").len())
        .sum();
    assert_eq!(total, 6_000_000);
}

#[test]
fn bad_device_arguments_are_clear_errors_with_status_2() {
    let cases: [(&str, &[&str], &str); 5] = [
        ("driver=nosuchradio", &[], "no SoapySDR device matches"),
        (
            "driver=kuzetsim,serial=kuzetsim-bad1",
            &["--rate", "80M"],
            "sample rate 80 MS/s is outside driver=kuzetsim's range 0.1–62 MS/s",
        ),
        (
            "driver=kuzetsim,serial=kuzetsim-bad2",
            &["--gain", "70"],
            "gain 70 dB is outside driver=kuzetsim's range 0–50 dB",
        ),
        (
            "driver=kuzetsim,serial=kuzetsim-bad3",
            &["--antenna", "TX"],
            "antenna TX is not one of driver=kuzetsim's antennas: RX",
        ),
        (
            "driver=kuzetsim,serial=kuzetsim-bad4,noise=loud",
            &[],
            "kuzetsim: invalid noise=loud",
        ),
    ];
    for (device, more, want) in cases {
        let mut args = vec!["watch", "--device", device, "--freq", "433.92M"];
        args.extend_from_slice(more);
        let out = run(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{device} {more:?}: {err}");
        assert!(err.contains(want), "{device} {more:?}: {err}");
        assert!(err.contains(device), "error names the device: {err}");
    }
    let out = run(&[
        "watch",
        "--device",
        "driver=kuzetsim,serial=kuzetsim-bad5",
        "--freq",
        "7G",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("frequency 7 GHz is outside"));
}

#[test]
fn a_paced_radio_outage_is_a_gap_in_stream_time() {
    // Paced like a radio: the time the device was away shows as a gap in the sample index,
    // so device_lost spans the outage and later alerts stay on the wall clock.
    let dev = sim("outage", "buffer_ms=0,unplug_after=0.5,replug_after=0.4");
    let out = watch(&dev, "2s", &[]);
    let a = alerts(&out);
    let cleared = of_kind(&a, "device_lost", "cleared");
    assert_eq!(cleared.len(), 1, "{a:#?}");
    let span = cleared[0]["last_seen_s"].as_f64().unwrap_or(0.0)
        - cleared[0]["first_seen_s"].as_f64().unwrap_or(0.0);
    assert!(span >= 0.35, "outage of {span} s in stream time: {a:#?}");
    assert_eq!(of_kind(&a, "device_restored", "raised").len(), 1, "{a:#?}");
    assert!(dropped(&out) > 0);
}

#[test]
fn throughput_mode_reads_and_reports() {
    let out = run(&[
        "devices",
        "--probe",
        "driver=kuzetsim,serial=kuzetsim-tput,realtime=false",
        "--throughput",
        "1s",
        "--rate",
        "10M",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let line = s
        .lines()
        .find(|l| l.starts_with("throughput: 10000000 samples"))
        .unwrap_or_else(|| panic!("{s}"));
    assert!(line.contains("CS16 read as complex f32"), "{line}");
    assert!(line.contains("0 lost"), "{line}");
}

#[test]
fn duration_ends_a_paced_run_whose_device_never_returns() {
    let started = Instant::now();
    let out = watch(&sim("gone", "buffer_ms=0,unplug_after=0.3"), "1.5s", &[]);
    assert!(started.elapsed() < Duration::from_secs(10));
    let a = alerts(&out);
    assert_eq!(of_kind(&a, "device_lost", "raised").len(), 1, "{a:#?}");
    assert!(
        of_kind(&a, "device_restored", "raised").is_empty(),
        "{a:#?}"
    );
}

/// Issue 7, item 4: a live run with a recording and evidence; replaying the recording
/// gives exactly the live alerts in sample time, and the live clip is the recording's
/// samples.
#[test]
fn replay_of_a_live_recording_gives_the_live_alerts_and_its_evidence_matches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = dir.path().join("rec");
    std::fs::create_dir(&rec).expect("mkdir");
    let ev = dir.path().join("ev");
    let out = watch(
        &sim("evidence", "realtime=false"),
        "3s",
        &[
            "--record",
            rec.to_str().expect("utf-8 path"),
            "--evidence",
            ev.to_str().expect("utf-8 path"),
        ],
    );
    let live = alerts(&out);
    let clip = tone_alerts(&live)[0]["evidence"]
        .as_str()
        .expect("the live alert names its clip")
        .to_string();
    let files: Vec<_> = std::fs::read_dir(&rec)
        .expect("recording dir")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let out2 = run(&["analyze", files[0].to_str().expect("utf-8 path")]);
    assert!(out2.status.success(), "{}", text(&out2.stderr));
    let strip = |v: Vec<Value>| -> Vec<Value> {
        v.into_iter()
            .map(|mut a| {
                a.as_object_mut().expect("object").remove("evidence");
                a
            })
            .collect()
    };
    assert_eq!(strip(live), strip(alerts(&out2)));

    // The tone is on from the first sample: the clip starts at the stream's start.
    let read = |p: &Path| {
        let mut r = CaptureReader::open(p).expect("open");
        let first = r.source_first_sample();
        let mut v = vec![Complex32::default(); r.len() as usize];
        let mut at = 0;
        while at < v.len() {
            at += r.read(&mut v[at..]).expect("read");
        }
        (first, v)
    };
    let (first, clip_samples) = read(Path::new(&clip));
    assert_eq!(first, Some(0));
    let (_, recorded) = read(&files[0]);
    assert!(clip_samples.len() > 100_000);
    assert!(clip_samples[..] == recorded[..clip_samples.len()]);
}

/// A live stream keeps its pre-trigger in memory: one that cannot fit is refused up
/// front, naming the flag (a recording's clips are read back from the file and need none).
#[test]
fn a_pre_trigger_too_large_for_memory_is_refused_live() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ev = dir.path().join("ev");
    let device = sim("bigpre", "realtime=false");
    let out = run(&[
        "watch",
        "--device",
        &device,
        "--freq",
        "433.92M",
        "--rate",
        "2.4M",
        "--duration",
        "1s",
        "--headless",
        "--evidence",
        ev.to_str().expect("utf-8 path"),
        "--evidence-pre",
        "1000000s",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--evidence-pre") && stderr.contains("MB"),
        "{stderr}"
    );
}

/// A clip whose writer is killed mid-stream still opens up to its last flush, with its
/// alert's annotation and its place in the stream.
#[test]
fn an_evidence_clip_survives_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ev = dir.path().join("ev");
    // The tone is on from the start: one clip grows while it lasts.
    let dir_ev = ev.clone();
    let clip = kill_once_written(
        &[
            "watch",
            "--device",
            &sim("evkilled", "buffer_ms=0"),
            "--freq",
            "433.92M",
            "--rate",
            "1M",
            "--duration",
            "60s",
            "--headless",
            "--evidence",
            ev.to_str().expect("utf-8 path"),
        ],
        move || {
            std::fs::read_dir(&dir_ev)
                .ok()?
                .next()?
                .ok()
                .map(|e| e.path())
        },
    );
    let clip = clip.expect("a clip was started");
    let r = CaptureReader::open(&clip).expect("a killed clip still opens");
    assert!(r.len() >= 500_000, "only {} samples survived", r.len());
    assert_eq!(r.source_first_sample(), Some(0));
    let anns = r.annotations().expect("annotations");
    assert_eq!(anns.len(), 1, "{anns:?}");
    assert!(anns[0].label.starts_with("new_emitter"), "{anns:?}");
    h5py_agrees(&clip, r.len());
}
