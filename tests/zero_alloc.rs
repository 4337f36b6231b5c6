//! The steady state allocates nothing: a counting global allocator watches the real
//! pipeline (HDF5 file source → framer → 2 spectrum workers → detector → caller) over a
//! synthesised capture with several emitters, and no allocation may happen between the
//! end of the warm-up and the start of the drain. Every block type is checked: complex
//! floats (a cf32 capture) and stored int8 and int16 pairs (ci8 and ci16 captures).
//!
//! Its own test binary, because a global allocator applies to the whole binary. It counts
//! Rust allocations only: the HDF5 C library's own `malloc`s are outside its view.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use kuzet::capture::{CaptureWriter, SampleFormat, WriterOptions};
use kuzet::dsp::{SpectrumConfig, WindowKind};
use kuzet::pipeline::{self, Counters, Event, PipelineConfig};
use kuzet::source::file::FileSource;
use kuzet::source::synth::{EmitterKind, EmitterSpec, Hz, Scene, SynthSource};
use kuzet::source::{IqSource, ReadOutcome};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn emitter(kind: EmitterKind, offset_hz: f64, snr_db: f64, start_s: f64) -> EmitterSpec {
    EmitterSpec {
        start_s,
        ..EmitterSpec::new(kind, offset_hz, snr_db)
    }
}

/// Writes a 2.4 MS/s capture with a carrier, an FM voice channel, GFSK packets and a
/// hopper, some switching on mid-way so the tracker raises alerts in the measured span.
fn write_capture(path: &std::path::Path, format: SampleFormat) {
    let scene = Scene {
        sample_rate_hz: Hz(2.4e6),
        center_freq_hz: Hz(433.92e6),
        duration_s: 3.0,
        noise_dbfs: -50.0,
        seed: 3,
        description: "zero-alloc test".into(),
        emitters: vec![
            emitter(EmitterKind::Cw, 300e3, 20.0, 0.0),
            emitter(EmitterKind::Fm, -500e3, 15.0, 1.2),
            emitter(EmitterKind::Gfsk, 700e3, 15.0, 0.0),
            emitter(EmitterKind::Hopper, 0.0, 15.0, 1.5),
        ],
    };
    let mut src = SynthSource::new(&scene).expect("valid scene");
    let opts = WriterOptions {
        format,
        ..WriterOptions::default()
    };
    let mut w = CaptureWriter::create(path, &scene.meta(), &opts).expect("create capture");
    let mut buf = vec![num_complex::Complex32::default(); 1 << 16];
    loop {
        match src.read(&mut buf).expect("synth read") {
            ReadOutcome::Samples(n) => w.append(&buf[..n]).expect("append"),
            ReadOutcome::Eof => break,
            _ => {}
        }
    }
    w.finish().expect("finish capture");
}

#[test]
fn pipeline_steady_state_allocates_nothing() {
    // One after the other: the allocation counter is global to the binary.
    for format in [
        SampleFormat::Cf32,
        SampleFormat::Ci8 { scale: 1.0 / 128.0 },
        SampleFormat::Ci16 {
            scale: 1.0 / 32768.0,
        },
    ] {
        steady_state_allocates_nothing(format);
    }
}

fn steady_state_allocates_nothing(format: SampleFormat) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scene.h5");
    write_capture(&path, format);

    let source = FileSource::open(&path).expect("open capture");
    let total = source
        .meta()
        .total_samples
        .expect("a file knows its length");
    // 1024 bins, 50% overlap, 10 ms per spectrum: what `kuzet analyze` does at 2.4 MS/s.
    let spectrum = SpectrumConfig::new(1024, 50, 47, WindowKind::Hann);
    let mut cfg = PipelineConfig::new(spectrum);
    cfg.workers = 2;
    let spectra_total = total / spectrum.span() as u64;

    let counters = Arc::new(Counters::default());
    let stop = AtomicBool::new(false);
    let done = AtomicBool::new(false);
    let (mut events, mut during) = (0u64, None);
    std::thread::scope(|s| {
        // Samples the allocation count when the detector has seen 25% of the spectra (all
        // stages running, pools full, first alerts raised) and again at 90% (before the
        // source's end starts the drain). Polls with atomics and sleeps, never allocating.
        let watcher = s.spawn(|| {
            let wait_for = |n: u64| {
                while counters.detected.load(SeqCst) < n && !done.load(SeqCst) {
                    std::thread::sleep(Duration::from_micros(200));
                }
                ALLOCATIONS.load(SeqCst)
            };
            let a = wait_for(spectra_total / 4);
            let at = counters.detected.load(SeqCst);
            let b = wait_for(spectra_total * 9 / 10);
            let bt = counters.detected.load(SeqCst);
            (b - a, at, bt)
        });
        let stats = pipeline::run(
            Box::new(source),
            &cfg,
            counters.clone(),
            &stop,
            &mut |_: Event| {
                events += 1;
                Ok(())
            },
        )
        .expect("pipeline run");
        done.store(true, SeqCst);
        let (allocs, from, to) = watcher.join().expect("watcher thread");
        assert_eq!(stats.samples, total);
        assert!(
            to > from + spectra_total / 2,
            "measured {from}..{to} spectra"
        );
        during = Some((allocs, from, to));
    });
    let (allocs, from, to) = during.expect("measured");
    assert!(events > 0, "the scene should raise alerts");
    assert_eq!(
        allocs, 0,
        "{format:?}: {allocs} allocations while the detector went from spectrum {from} to {to}"
    );
}
