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

use kuzet::dsp::{SpectrumConfig, WindowKind};
use kuzet::formats::{CaptureWriter, SampleFormat, WriterOptions};
use kuzet::pipeline::{self, Counters, Event, PipelineConfig};
use kuzet::source::synth::{EmitterKind, EmitterSpec, Scene, SynthSource};
use kuzet::source::{IqSource, ReadOutcome, SampleBuf, SampleKind};
use kuzet::units::Hz;

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
        match src.read_cf32(&mut buf).expect("synth read") {
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

/// Holds the stream at two sample positions until the test has read the allocation
/// count there, so the measured span is fixed by the data, not by how quickly a watcher
/// thread gets scheduled on a loaded machine: the first reading is taken with the source
/// held at 30 % (after the warm-up), the second with it held at 95 % (before its end starts
/// the drain). Waits by sleeping on atomics: it allocates nothing itself.
struct Gate<S> {
    inner: S,
    pos: u64,
    marks: [u64; 2],
    /// How many readings the test has taken.
    taken: Arc<AtomicU64>,
}

impl<S: IqSource> IqSource for Gate<S> {
    fn meta(&self) -> &kuzet::types::StreamMeta {
        self.inner.meta()
    }
    fn native(&self) -> SampleKind {
        self.inner.native()
    }
    fn read(&mut self, buf: SampleBuf<'_>) -> kuzet::Result<ReadOutcome> {
        let mut want = buf.len() as u64;
        for (i, &mark) in self.marks.iter().enumerate() {
            if self.pos == mark {
                // Held: everything before the mark goes downstream (a pending read makes
                // the framer hand on its partial block), then nothing until measured.
                if self.taken.load(SeqCst) <= i as u64 {
                    std::thread::sleep(Duration::from_micros(200));
                    return Ok(ReadOutcome::Pending);
                }
            } else if self.pos < mark {
                want = want.min(mark - self.pos);
            }
        }
        let out = self.inner.read(buf.prefix(want as usize))?;
        if let ReadOutcome::Samples(n) = out {
            self.pos += n as u64;
        }
        Ok(out)
    }
}

fn steady_state_allocates_nothing(format: SampleFormat) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("scene.h5");
    write_capture(&path, format);

    let source = kuzet::source::open(&path, &kuzet::source::OpenOptions::default())
        .expect("open capture")
        .source;
    let total = source
        .meta()
        .total_samples
        .expect("a file knows its length");
    // 1024 bins, 50% overlap, 10 ms per spectrum and the carrier grid: what `kuzet
    // analyze` does at 2.4 MS/s.
    let spectrum = SpectrumConfig {
        carriers: true,
        ..SpectrumConfig::new(1024, 50, 47, WindowKind::Hann)
    };
    let mut cfg = PipelineConfig::new(spectrum);
    cfg.workers = 2;
    let span = spectrum.span() as u64;
    let taken = Arc::new(AtomicU64::new(0));
    let marks = [total * 3 / 10, total * 95 / 100];
    let source = Gate {
        inner: source,
        pos: 0,
        marks,
        taken: taken.clone(),
    };
    // What the detector has seen once the source is held at a mark: every spectrum that
    // ends before it (blocks are whole spans after the first frame's history).
    let before = |mark: u64| (mark - spectrum.history() as u64) / span;

    let counters = Arc::new(Counters::default());
    let stop = AtomicBool::new(false);
    let (mut events, mut during) = (0u64, None);
    std::thread::scope(|s| {
        // Reads the allocation count when the detector has caught up with each mark (all
        // stages running, pools full, first alerts raised before the first one). Polls
        // with atomics and sleeps, never allocating.
        let watcher = s.spawn(|| {
            let mut readings = [(0u64, 0u64); 2];
            for (i, &mark) in marks.iter().enumerate() {
                while counters.detected.load(SeqCst) < before(mark) {
                    std::thread::sleep(Duration::from_micros(200));
                }
                readings[i] = (ALLOCATIONS.load(SeqCst), counters.detected.load(SeqCst));
                taken.store(i as u64 + 1, SeqCst);
            }
            readings
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
        let [(a, from), (b, to)] = watcher.join().expect("watcher thread");
        assert_eq!(stats.samples, total);
        assert_eq!((from, to), (before(marks[0]), before(marks[1])));
        during = Some((b - a, from, to));
    });
    let (allocs, from, to) = during.expect("measured");
    assert!(events > 0, "the scene should raise alerts");
    assert_eq!(
        allocs, 0,
        "{format:?}: {allocs} allocations while the detector went from spectrum {from} to {to}"
    );
}
