//! End to end: `kuzet synth` a scene with known emitters, `kuzet analyze` it, compare
//! with the ground truth.

use std::collections::BTreeMap;

use kuzet::alert::{AlertKind, AlertState};
use kuzet::formats::kuzet::CaptureReader;

use crate::support::{alerts, kuzet_ok, path, tmp};

#[test]
fn every_emitter_at_10_db_is_reported_within_one_bin() {
    let dir = tmp();
    let cap = path(&dir, "nb.h5");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/captures/narrowband.toml");
    kuzet_ok(&["synth", "--scenario", scenario, "-o", cap.to_str().unwrap()]);
    let truth = CaptureReader::open(&cap).unwrap().annotations().unwrap();
    assert_eq!(truth.len(), 4);
    let out = kuzet_ok(&["analyze", cap.to_str().unwrap()]);
    let got = alerts(&out);
    let raised: Vec<_> = got
        .iter()
        .filter(|a| a.state == AlertState::Raised && a.kind == AlertKind::NewEmitter)
        .collect();
    // 2.4 MS/s / 1024 bins.
    let bin_hz = 2.4e6 / 1024.0;
    for t in &truth {
        let centre = (t.freq_lo_hz + t.freq_hi_hz) / 2.0;
        let hit = raised.iter().find(|a| (a.freq_hz - centre).abs() <= bin_hz);
        assert!(
            hit.is_some(),
            "{} at {centre} not reported; got {raised:?}",
            t.label
        );
        let a = hit.unwrap();
        let start_s = t.start_sample as f64 / 2.4e6;
        assert!(
            a.first_seen_s >= start_s - 0.05,
            "{}: seen before it started",
            t.label
        );
    }
    assert_eq!(
        raised.len(),
        truth.len(),
        "one alert per emitter: {raised:?}"
    );
    // Every raised alert is cleared exactly once.
    let mut states: BTreeMap<u64, Vec<AlertState>> = BTreeMap::new();
    for a in &got {
        states.entry(a.id).or_default().push(a.state);
    }
    for (id, s) in states {
        assert_eq!(s.first(), Some(&AlertState::Raised), "alert {id}");
        assert_eq!(s.last(), Some(&AlertState::Cleared), "alert {id}");
    }
}

#[test]
fn ten_seconds_of_noise_raise_nothing() {
    let dir = tmp();
    let cap = path(&dir, "noise.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        cap.to_str().unwrap(),
        "--rate",
        "2.4M",
        "--duration",
        "10",
        "--seed",
        "3",
    ]);
    let out = kuzet_ok(&["analyze", cap.to_str().unwrap()]);
    assert!(out.is_empty(), "false alerts: {out}");
}

#[test]
fn two_runs_give_identical_alerts_with_any_worker_count() {
    let dir = tmp();
    let cap = path(&dir, "det.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        cap.to_str().unwrap(),
        "--rate",
        "1M",
        "--duration",
        "3",
        "--emitter",
        "cw:-200k:15",
        "--emitter",
        "gfsk:100k:15:0.5",
    ]);
    let c = cap.to_str().unwrap();
    let a = kuzet_ok(&["analyze", c]);
    let b = kuzet_ok(&["analyze", c]);
    let w2 = kuzet_ok(&["analyze", c, "--workers", "2"]);
    assert!(!a.is_empty());
    assert_eq!(a, b);
    assert_eq!(a, w2);
}

#[test]
fn synth_is_deterministic() {
    let dir = tmp();
    let (p1, p2) = (path(&dir, "a.h5"), path(&dir, "b.h5"));
    for p in [&p1, &p2] {
        kuzet_ok(&[
            "synth",
            "-o",
            p.to_str().unwrap(),
            "--rate",
            "1M",
            "--duration",
            "0.5",
            "--emitter",
            "fm:100k:20",
            "--emitter",
            "hopper:0:10",
            "--emitter",
            "jammer:0:5:0.2",
        ]);
    }
    let mut r1 = CaptureReader::open(&p1).unwrap();
    let mut r2 = CaptureReader::open(&p2).unwrap();
    let mut b1 = vec![num_complex::Complex32::default(); 500_000];
    let mut b2 = b1.clone();
    assert_eq!(r1.read(&mut b1).unwrap(), 500_000);
    assert_eq!(r2.read(&mut b2).unwrap(), 500_000);
    assert_eq!(b1, b2);
}

#[test]
fn no_arguments_plays_the_bundled_demo() {
    let out = kuzet_ok(&[]);
    let got = alerts(&out);
    assert!(
        got.iter().any(|a| a.state == AlertState::Raised),
        "demo raised nothing"
    );
}

/// The file source of a capture, seen only through `read`: the pipeline then takes its
/// complex-float path, as it does for any source that cannot hand over stored pairs.
struct FloatsOnly(Box<dyn kuzet::source::SeekableSource>);

impl kuzet::source::IqSource for FloatsOnly {
    fn meta(&self) -> &kuzet::types::StreamMeta {
        self.0.meta()
    }
    fn read(
        &mut self,
        buf: kuzet::source::SampleBuf<'_>,
    ) -> kuzet::error::Result<kuzet::source::ReadOutcome> {
        self.0.read(buf)
    }
}

/// A recording's source, as `kuzet::source::open` gives it.
fn opened(p: &std::path::Path) -> Box<dyn kuzet::source::SeekableSource> {
    kuzet::source::open(p, &kuzet::source::OpenOptions::default())
        .unwrap()
        .source
}

/// The alerts of one pipeline run, one JSON line each.
fn pipeline_alerts(source: Box<dyn kuzet::source::IqSource>, workers: usize) -> String {
    use kuzet::dsp::{SpectrumConfig, WindowKind};
    use kuzet::pipeline::{self, Counters, Event, PipelineConfig};
    let mut cfg = PipelineConfig::new(SpectrumConfig::new(1024, 50, 10, WindowKind::Hann));
    cfg.workers = workers;
    let stop = std::sync::atomic::AtomicBool::new(false);
    let mut out = String::new();
    pipeline::run(
        source,
        &cfg,
        std::sync::Arc::new(Counters::default()),
        &stop,
        &mut |e| {
            if let Event::Alert(a) = e {
                out.push_str(&serde_json::to_string(&a).unwrap());
                out.push('\n');
            }
            Ok(())
        },
    )
    .unwrap();
    out
}

/// A 16-bit capture travels through the pipeline as stored and is converted as it is
/// windowed: the alerts are those of its samples converted to complex floats first, to
/// the byte, with any number of workers.
#[test]
fn a_16_bit_capture_gives_the_alerts_of_its_float_samples_with_any_worker_count() {
    use kuzet::source::{IqSource, SampleKind};
    let dir = tmp();
    let cap = path(&dir, "det16.h5");
    kuzet_ok(&[
        "synth",
        "-o",
        cap.to_str().unwrap(),
        "--format",
        "ci16",
        "--rate",
        "1M",
        "--duration",
        "3",
        "--emitter",
        "cw:-200k:15",
        "--emitter",
        "gfsk:100k:15:0.5",
        "--emitter",
        "hopper:0:10",
    ]);
    let c = cap.to_str().unwrap();
    assert!(matches!(opened(&cap).native(), SampleKind::Ci16 { .. }));

    // The command line, with 1, 2 and 3 workers.
    let w1 = kuzet_ok(&["analyze", c, "--workers", "1"]);
    assert!(!w1.is_empty());
    for w in ["2", "3"] {
        assert_eq!(w1, kuzet_ok(&["analyze", c, "--workers", w]), "{w} workers");
    }

    // The pipeline on stored int16 pairs and on the same samples as complex floats.
    let floats = pipeline_alerts(Box::new(FloatsOnly(opened(&cap))), 1);
    assert!(!floats.is_empty());
    for workers in 1..=3 {
        let stored = pipeline_alerts(opened(&cap), workers);
        assert_eq!(stored, floats, "{workers} workers");
    }
}
