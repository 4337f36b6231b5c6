//! The recorder: IQ to HDF5 captures on its own thread, behind a large bounded queue.
//!
//! ```text
//!  source ──read──▶ TeeSource ──(same samples)──▶ pipeline
//!                      │ copy into a pooled block, try_send (never waits)
//!                      ▼
//!               bounded queue (≈256 MB) ──▶ [recorder] CaptureWriter (SWMR, flush per block)
//!                      ▲                         │   rollover: a new file every N s / bytes
//!                      └──── empty blocks ◀──────┘
//! ```
//!
//! The reader must never wait for a disk: when the queue is full the block is dropped from
//! the recording, counted as a recording overrun and marked in the file as a gap
//! annotation. Files are SWMR (libver v1.10, flushed per block), so a recording whose
//! process is killed still reads back up to its last flush, and can be read while written.
//! Gaps in the stream (device overflows, recording overruns) are annotated; short ones are
//! also zero-filled so that file time stays stream time.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use num_complex::Complex32;

use crate::error::{Error, Result};
use crate::sinks::recorder::Writer;
pub use crate::sinks::recorder::{RecordSummary, RecorderConfig, RecorderStats, Target};
use crate::source::{IqSource, ReadOutcome, SampleBuf};
use crate::types::{SourceEvent, StreamMeta};

enum Msg {
    /// A block of samples (pooled buffer).
    Samples(Vec<Complex32>),
    /// This many samples are missing before the next block, `dropped` of them by the
    /// recorder itself (a full queue) and the rest by the device.
    Gap { n: u64, dropped: u64 },
}

/// The recorder thread; [`Recorder::finish`] waits for it.
#[derive(Debug)]
pub struct Recorder {
    handle: JoinHandle<Result<RecordSummary>>,
    stats: Arc<RecorderStats>,
}

/// The feeding end: copies samples into blocks and queues them without ever waiting.
/// Dropping it (with the source that owns it) ends the recording.
#[derive(Debug)]
pub struct RecorderTap {
    tx: Option<Sender<Msg>>,
    pool: Receiver<Vec<Complex32>>,
    block: usize,
    cur: Vec<Complex32>,
    /// Samples missing since the last queued block (stream gaps and our own drops), and
    /// how many of them are our own drops.
    gap: u64,
    gap_dropped: u64,
    /// Wait for room instead of dropping: the source is not live (a file, an unpaced
    /// simulator), so waiting loses nothing and keeps the recording complete.
    blocking: bool,
    stats: Arc<RecorderStats>,
}

impl Recorder {
    /// Starts a recorder thread for a stream described by `meta`.
    ///
    /// # Errors
    /// [`Error::Io`] when the target directory does not exist or the thread cannot start.
    pub fn start(meta: &StreamMeta, cfg: RecorderConfig) -> Result<(Recorder, RecorderTap)> {
        let dir = match &cfg.target {
            Target::File(p) => p.parent().map(Path::to_path_buf),
            Target::Dir { dir, .. } => Some(dir.clone()),
        };
        if let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            if !d.is_dir() {
                return Err(Error::Io {
                    path: d,
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "recording directory does not exist",
                    ),
                });
            }
        }
        // Blocks of ~50 ms of stream: a flush per block bounds what a crash loses, and at
        // high rates 64k samples keep the per-block overhead small.
        let block = ((meta.sample_rate_hz * 0.05) as usize).clamp(4096, 1 << 16);
        let slots = (cfg.queue_bytes / (block * std::mem::size_of::<Complex32>())).max(8);
        // Drop policy at the sending end (try_send); large so a slow disk is absorbed.
        let (tx, rx) = bounded::<Msg>(slots);
        // Empty blocks back to the tap; as large as the queue so none is ever lost.
        let (pool_tx, pool_rx) = bounded::<Vec<Complex32>>(slots + 2);
        let stats = Arc::new(RecorderStats::default());
        let handle = thread::Builder::new()
            .name("recorder".into())
            .spawn({
                let meta = meta.clone();
                let stats = stats.clone();
                move || {
                    let w = Writer::new(meta, cfg, stats.clone());
                    write_all(w, &rx, &pool_tx, &stats)
                }
            })
            .map_err(|source| Error::Io {
                path: PathBuf::from("<recorder thread>"),
                source,
            })?;
        let tap = RecorderTap {
            tx: Some(tx),
            pool: pool_rx,
            block,
            cur: Vec::with_capacity(block),
            gap: 0,
            gap_dropped: 0,
            blocking: !meta.live,
            stats: stats.clone(),
        };
        Ok((Recorder { handle, stats }, tap))
    }

    /// Live counters.
    pub fn stats(&self) -> Arc<RecorderStats> {
        self.stats.clone()
    }

    /// Waits for the recorder to write what is queued and close its file. Drop the tap
    /// (or the source holding it) first, or this waits forever. A recording that stopped
    /// early (a full disk) says why in [`RecordSummary::stopped`].
    ///
    /// # Errors
    /// The last file could not be closed, or [`Error::StagePanicked`].
    pub fn finish(self) -> Result<RecordSummary> {
        self.handle
            .join()
            .map_err(|_| Error::StagePanicked("recorder"))?
    }
}

impl RecorderTap {
    /// Copies `samples` into the recording.
    pub fn push(&mut self, mut samples: &[Complex32]) {
        while !samples.is_empty() {
            let room = self.block - self.cur.len();
            let (now, rest) = samples.split_at(room.min(samples.len()));
            self.cur.extend_from_slice(now);
            samples = rest;
            if self.cur.len() == self.block {
                self.send_block();
            }
        }
    }

    /// `n` samples of the stream are missing here.
    pub fn gap(&mut self, n: u64) {
        self.send_block();
        self.gap += n;
    }

    fn send_block(&mut self) {
        if self.cur.is_empty() {
            return;
        }
        let Some(tx) = &self.tx else {
            // The recorder has stopped: nothing more is recorded.
            self.stats.overrun.fetch_add(self.cur.len() as u64, Relaxed);
            self.cur.clear();
            return;
        };
        let next = self
            .pool
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(self.block));
        let full = std::mem::replace(&mut self.cur, next);
        self.cur.clear();
        if self.blocking {
            let n = std::mem::take(&mut self.gap);
            let dropped = std::mem::take(&mut self.gap_dropped);
            let sent = (n == 0 || tx.send(Msg::Gap { n, dropped }).is_ok())
                && tx.send(Msg::Samples(full)).is_ok();
            if !sent {
                self.tx = None;
            }
            return;
        }
        if self.gap > 0 {
            let gap = Msg::Gap {
                n: self.gap,
                dropped: self.gap_dropped,
            };
            match tx.try_send(gap) {
                Ok(()) => (self.gap, self.gap_dropped) = (0, 0),
                Err(TrySendError::Full(_)) => {
                    // No room to mark the gap: this block joins it.
                    self.gap += full.len() as u64;
                    self.gap_dropped += full.len() as u64;
                    self.stats.overrun.fetch_add(full.len() as u64, Relaxed);
                    self.recycle(full);
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.tx = None;
                    return;
                }
            }
        }
        let n = full.len() as u64;
        match tx.try_send(Msg::Samples(full)) {
            Ok(()) => {}
            Err(TrySendError::Full(Msg::Samples(b))) => {
                self.gap += n;
                self.gap_dropped += n;
                self.stats.overrun.fetch_add(n, Relaxed);
                self.recycle(b);
            }
            Err(_) => {
                self.stats.overrun.fetch_add(n, Relaxed);
                self.tx = None;
            }
        }
    }

    fn recycle(&mut self, mut b: Vec<Complex32>) {
        // Keep the larger buffer as the current one; the other is freed.
        if b.capacity() > self.cur.capacity() && self.cur.is_empty() {
            b.clear();
            self.cur = b;
        }
    }
}

impl Drop for RecorderTap {
    fn drop(&mut self) {
        // The stream has ended: queue the last partial block, waiting for room if need be
        // (the reader is done, so waiting stalls nothing).
        if let Some(tx) = self.tx.take() {
            if self.gap > 0 {
                let _ = tx.send(Msg::Gap {
                    n: self.gap,
                    dropped: self.gap_dropped,
                });
            }
            if !self.cur.is_empty() {
                let _ = tx.send(Msg::Samples(std::mem::take(&mut self.cur)));
            }
        }
    }
}

/// The recorder thread: writes what arrives until the tap hangs up. A write error (a
/// full disk) stops the recording at once: the reason is published in the stats (the
/// tee turns it into a health alert, `record` into its exit), the queue is dropped so
/// the tap counts what follows as not recorded, and the run goes on.
fn write_all(
    mut w: Writer,
    rx: &Receiver<Msg>,
    pool: &Sender<Vec<Complex32>>,
    stats: &RecorderStats,
) -> Result<RecordSummary> {
    for msg in rx.iter() {
        let r = match msg {
            Msg::Samples(b) => w.write(&b).map(|()| {
                let _ = pool.try_send(b);
            }),
            Msg::Gap { n, dropped } => w.gap(n, dropped),
        };
        if let Err(e) = r {
            let why = crate::units::one_line(&e.to_string());
            let _ = stats.stopped.set(why.clone());
            return Ok(w.abandon(why));
        }
    }
    w.finish()
}

/// A source whose samples are also recorded; gaps are passed on as gaps.
///
/// What the recorder cannot keep reaches the detector as source events, riding on the
/// stream like a device's: `RecordingStopped` once when it stops (a full disk), and
/// `RecordingOverrun` for samples it had to drop (a slow disk), at most twice a second of
/// stream, so the operator sees an alert rather than a summary at the end.
pub struct TeeSource<S: IqSource> {
    inner: S,
    tap: RecorderTap,
    stats: Arc<RecorderStats>,
    /// An event to hand over before the next samples.
    pending: Option<SourceEvent>,
    stop_told: bool,
    overrun_told: u64,
    /// Samples read since overrun was last told of.
    since_told: u64,
}

impl<S: IqSource> TeeSource<S> {
    /// Records everything `inner` delivers through `tap`.
    pub fn new(inner: S, tap: RecorderTap) -> Self {
        let stats = tap.stats.clone();
        TeeSource {
            inner,
            tap,
            stats,
            pending: None,
            stop_told: false,
            overrun_told: 0,
            since_told: 0,
        }
    }

    /// What the recorder has not been able to keep since the last call, as an event.
    fn recorder_news(&mut self, read: u64) -> Option<SourceEvent> {
        if !self.stop_told {
            if let Some(why) = self.stats.stopped.get() {
                self.stop_told = true;
                self.overrun_told = self.stats.overrun.load(Relaxed);
                return Some(SourceEvent::RecordingStopped(why.clone()));
            }
        }
        self.since_told += read;
        let half_second = (self.inner.meta().sample_rate_hz / 2.0) as u64;
        if self.stop_told || self.since_told < half_second {
            return None;
        }
        self.since_told = 0;
        let overrun = self.stats.overrun.load(Relaxed);
        let new = overrun - self.overrun_told;
        self.overrun_told = overrun;
        (new > 0).then_some(SourceEvent::RecordingOverrun(new))
    }
}

impl<S: IqSource> IqSource for TeeSource<S> {
    fn meta(&self) -> &StreamMeta {
        self.inner.meta()
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        if let Some(e) = self.pending.take() {
            return Ok(ReadOutcome::Event(e));
        }
        // A live radio's complex floats: what the recorder writes.
        let buf = buf.cf32()?;
        let r = self.inner.read_cf32(buf)?;
        let read = match &r {
            ReadOutcome::Samples(n) => {
                self.tap.push(&buf[..*n]);
                *n as u64
            }
            ReadOutcome::Lost(n) => {
                self.tap.gap(*n);
                *n
            }
            _ => 0,
        };
        self.pending = self.recorder_news(read);
        Ok(r)
    }

    fn non_finite_samples(&self) -> u64 {
        self.inner.non_finite_samples()
    }
}

/// What [`record`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Samples read from the source.
    pub read: u64,
    /// Samples the source lost (device overflow).
    pub lost: u64,
    /// Wall time of the run.
    pub wall: std::time::Duration,
    /// What the recorder wrote.
    pub summary: RecordSummary,
}

/// Records `source` (a radio) without analysing it, until it ends, `stop` is set or the
/// recording stops (a full disk: [`RecordSummary::stopped`] says why), reading `chunk`
/// samples at a time; `on_event` hears of the device's and the recorder's health.
///
/// # Errors
/// The source's error, or the last file could not be closed.
pub fn record(
    source: Box<dyn IqSource>,
    cfg: RecorderConfig,
    chunk: usize,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(&crate::types::SourceEvent),
) -> Result<Recorded> {
    let (rec, tap) = Recorder::start(source.meta(), cfg)?;
    let mut src = TeeSource::new(source, tap);
    let mut buf = vec![Complex32::default(); chunk.max(1)];
    let started = std::time::Instant::now();
    let (mut read, mut lost) = (0u64, 0u64);
    let result = loop {
        if stop.load(Relaxed) {
            break Ok(());
        }
        match src.read_cf32(&mut buf) {
            Ok(ReadOutcome::Samples(n)) => read += n as u64,
            Ok(ReadOutcome::Lost(n)) => lost += n,
            Ok(ReadOutcome::Event(e)) => {
                on_event(&e);
                // Nothing more would be kept: stop reading at once.
                if matches!(e, SourceEvent::RecordingStopped(_)) {
                    break Ok(());
                }
            }
            Ok(ReadOutcome::Pending) => {}
            // `record` tunes one frequency; a sweep is never recorded.
            Ok(ReadOutcome::Retuned(_)) => {}
            Ok(ReadOutcome::Eof) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    // Dropping the source drops the tap, which lets the recorder finish.
    drop(src);
    let summary = rec.finish()?;
    result?;
    Ok(Recorded {
        read,
        lost,
        wall: started.elapsed(),
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::kuzet::CaptureReader;
    use crate::formats::SampleFormat;

    fn meta() -> StreamMeta {
        StreamMeta {
            gain_db: Some(20.0),
            device: "driver=test".into(),
            live: true,
            ..StreamMeta::for_test(100_000.0, 433.92e6)
        }
    }

    fn ramp(n: usize, from: usize) -> Vec<Complex32> {
        (from..from + n)
            .map(|i| Complex32::new(i as f32, -(i as f32)))
            .collect()
    }

    #[test]
    fn records_every_sample_and_zero_fills_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.h5");
        let mut cfg = RecorderConfig::new(Target::File(path.clone()));
        cfg.extra_attrs = vec![("driver".into(), "test".into())];
        let (rec, mut tap) = Recorder::start(&meta(), cfg).unwrap();
        tap.push(&ramp(10_000, 0));
        tap.gap(500);
        tap.push(&ramp(3_000, 10_500));
        drop(tap);
        let s = rec.finish().unwrap();
        assert_eq!(s.files, vec![path.clone()]);
        assert_eq!(s.written, 13_000);
        assert_eq!((s.zero_filled, s.lost_by_device, s.overrun), (500, 500, 0));
        let mut r = CaptureReader::open(&path).unwrap();
        let mut buf = vec![Complex32::default(); 20_000];
        let n = r.read(&mut buf).unwrap();
        assert_eq!(n, 13_500);
        assert_eq!(buf[9_999], Complex32::new(9_999.0, -9_999.0));
        assert_eq!(buf[10_200], Complex32::default());
        assert_eq!(buf[10_500], Complex32::new(10_500.0, -10_500.0));
        assert_eq!(r.meta().gain_db, Some(20.0));
    }

    #[test]
    fn rolls_over_by_stream_time() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RecorderConfig::new(Target::Dir {
            dir: dir.path().to_path_buf(),
            max_s: Some(0.5),
            max_bytes: None,
        });
        let (rec, mut tap) = Recorder::start(&meta(), cfg).unwrap();
        // 1.2 s at 100 kS/s in 5000-sample blocks: files of 0.5, 0.5 and 0.2 s.
        for k in 0..24 {
            tap.push(&ramp(5_000, k * 5_000));
        }
        drop(tap);
        let s = rec.finish().unwrap();
        assert_eq!(s.files.len(), 3, "{:?}", s.files);
        assert_eq!(s.written, 120_000);
        for f in &s.files {
            assert!(f
                .file_name()
                .unwrap()
                .to_string_lossy()
                .contains("433.92MHz"));
            CaptureReader::open(f).unwrap();
        }
    }

    #[test]
    fn a_full_queue_counts_an_overrun_and_never_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = RecorderConfig::new(Target::File(dir.path().join("o.h5")));
        // Room for 8 blocks of 5000 samples: pushing far more at once must drop, not wait.
        cfg.queue_bytes = 1;
        let (rec, mut tap) = Recorder::start(&meta(), cfg).unwrap();
        let chunk = ramp(5_000, 0);
        let t = std::time::Instant::now();
        for _ in 0..2_000 {
            tap.push(&chunk);
        }
        // Generous: a blocked tap would take as long as the disk, this takes milliseconds.
        assert!(t.elapsed() < std::time::Duration::from_secs(60));
        drop(tap);
        let s = rec.finish().unwrap();
        assert!(s.overrun > 0 && s.written > 0, "{s:?}");
    }

    /// Every file is continuous in stream time: a long gap in a directory recording
    /// starts a new file that knows where it sits in the stream; a single file is
    /// zero-filled through it.
    #[test]
    fn a_long_gap_starts_a_new_file_or_is_zero_filled() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RecorderConfig::new(Target::Dir {
            dir: dir.path().to_path_buf(),
            max_s: None,
            max_bytes: None,
        });
        let (rec, mut tap) = Recorder::start(&meta(), cfg).unwrap();
        tap.push(&ramp(10_000, 0));
        // Two seconds at 100 kS/s: an unplugged radio.
        tap.gap(200_000);
        tap.push(&ramp(5_000, 210_000));
        drop(tap);
        let s = rec.finish().unwrap();
        assert_eq!(s.files.len(), 2, "{s:?}");
        assert_eq!(
            (s.written, s.zero_filled, s.lost_by_device),
            (15_000, 0, 200_000)
        );
        let second = CaptureReader::open(&s.files[1]).unwrap();
        assert_eq!(second.source_first_sample(), Some(210_000));
        assert_eq!(second.len(), 5_000);

        let path = dir.path().join("one.h5");
        let (rec, mut tap) =
            Recorder::start(&meta(), RecorderConfig::new(Target::File(path.clone()))).unwrap();
        tap.push(&ramp(10_000, 0));
        tap.gap(200_000);
        tap.push(&ramp(5_000, 210_000));
        drop(tap);
        let s = rec.finish().unwrap();
        assert_eq!(s.zero_filled, 200_000);
        assert_eq!(CaptureReader::open(&path).unwrap().len(), 215_000);
    }

    /// An 8-bit recording left to find its scale puts the signal well inside the int8
    /// range instead of a fixed 1/127 that leaves a weak radio a handful of levels.
    #[test]
    fn an_integer_recording_takes_its_scale_from_the_signal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ci8.h5");
        let mut cfg = RecorderConfig::new(Target::File(path.clone()));
        cfg.format = SampleFormat::Ci8 { scale: 0.0 };
        let (rec, mut tap) = Recorder::start(&meta(), cfg).unwrap();
        // A -40 dBFS tone: amplitude 0.01.
        let tone: Vec<Complex32> = (0..20_000)
            .map(|i| Complex32::from_polar(0.01, i as f32 * 0.3))
            .collect();
        tap.push(&tone);
        drop(tap);
        rec.finish().unwrap();
        let r = CaptureReader::open(&path).unwrap();
        let SampleFormat::Ci8 { scale } = r.sample_format() else {
            panic!("{:?}", r.sample_format());
        };
        let levels = 0.01 / scale;
        assert!(
            (20.0..=40.0).contains(&levels),
            "{levels} levels for the tone"
        );
    }

    /// Two radios recording into one directory in the same second never share a file.
    #[test]
    fn recorders_sharing_a_directory_never_share_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = RecorderConfig::new(Target::Dir {
            dir: dir.path().to_path_buf(),
            max_s: None,
            max_bytes: None,
        });
        let (a, mut ta) = Recorder::start(&meta(), cfg.clone()).unwrap();
        let (b, mut tb) = Recorder::start(&meta(), cfg).unwrap();
        ta.push(&ramp(5_000, 0));
        tb.push(&ramp(5_000, 0));
        drop((ta, tb));
        let (sa, sb) = (a.finish().unwrap(), b.finish().unwrap());
        assert_ne!(sa.files, sb.files);
        for f in sa.files.iter().chain(&sb.files) {
            assert_eq!(CaptureReader::open(f).unwrap().len(), 5_000);
        }
    }
}
