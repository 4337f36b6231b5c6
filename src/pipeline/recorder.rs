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
use crate::types::StreamMeta;

enum Msg {
    /// A block of samples (pooled buffer).
    Samples(Vec<Complex32>),
    /// This many samples are missing before the next block.
    Gap(u64),
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
    /// Samples missing since the last queued block (stream gaps and our own drops).
    gap: u64,
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
                    let r = write_all(Writer::new(meta, cfg, stats), &rx, &pool_tx);
                    if let Err(e) = &r {
                        // The run goes on without a recording; say so now, not at exit.
                        eprintln!("kuzet: recording stopped: {e}");
                    }
                    r
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
    /// (or the source holding it) first, or this waits forever.
    ///
    /// # Errors
    /// The first write error ([`Error::Capture`]), or [`Error::StagePanicked`].
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
            // The recorder has failed: nothing more is recorded.
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
            let gap = std::mem::take(&mut self.gap);
            let sent =
                (gap == 0 || tx.send(Msg::Gap(gap)).is_ok()) && tx.send(Msg::Samples(full)).is_ok();
            if !sent {
                self.tx = None;
            }
            return;
        }
        if self.gap > 0 {
            match tx.try_send(Msg::Gap(self.gap)) {
                Ok(()) => self.gap = 0,
                Err(TrySendError::Full(_)) => {
                    // No room to mark the gap: this block joins it.
                    self.gap += full.len() as u64;
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
                let _ = tx.send(Msg::Gap(self.gap));
            }
            if !self.cur.is_empty() {
                let _ = tx.send(Msg::Samples(std::mem::take(&mut self.cur)));
            }
        }
    }
}

/// The recorder thread: writes what arrives until the tap hangs up.
fn write_all(
    mut w: Writer,
    rx: &Receiver<Msg>,
    pool: &Sender<Vec<Complex32>>,
) -> Result<RecordSummary> {
    for msg in rx.iter() {
        let r = match msg {
            Msg::Samples(b) => w.write(&b).map(|()| {
                let _ = pool.try_send(b);
            }),
            Msg::Gap(n) => w.gap(n),
        };
        if let Err(e) = r {
            w.abandon();
            return Err(e);
        }
    }
    w.finish()
}

/// A source whose samples are also recorded; gaps are passed on as gaps.
pub struct TeeSource<S: IqSource> {
    inner: S,
    tap: RecorderTap,
}

impl<S: IqSource> TeeSource<S> {
    /// Records everything `inner` delivers through `tap`.
    pub fn new(inner: S, tap: RecorderTap) -> Self {
        TeeSource { inner, tap }
    }
}

impl<S: IqSource> IqSource for TeeSource<S> {
    fn meta(&self) -> &StreamMeta {
        self.inner.meta()
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        // A live radio's complex floats: what the recorder writes.
        let buf = buf.cf32()?;
        let r = self.inner.read_cf32(buf)?;
        match &r {
            ReadOutcome::Samples(n) => self.tap.push(&buf[..*n]),
            ReadOutcome::Lost(n) => self.tap.gap(*n),
            _ => {}
        }
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

/// Records `source` (a radio) without analysing it, until it ends or `stop` is set,
/// reading `chunk` samples at a time; `on_event` hears of the device's health changes.
///
/// # Errors
/// The source's error, or the recorder's (a full disk), after the recorder has closed its
/// file.
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
            Ok(ReadOutcome::Event(e)) => on_event(&e),
            Ok(ReadOutcome::Pending) => {}
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

    fn meta() -> StreamMeta {
        StreamMeta {
            sample_rate_hz: 100_000.0,
            center_freq_hz: 433.92e6,
            start_time_utc: None,
            gain_db: Some(20.0),
            device: "driver=test".into(),
            description: String::new(),
            origin: "test".into(),
            total_samples: None,
            live: true,
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
        assert_eq!(s.written, 13_500);
        assert_eq!(s.gaps, 500);
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
        assert!(t.elapsed() < std::time::Duration::from_secs(5));
        drop(tap);
        let s = rec.finish().unwrap();
        assert!(s.overrun > 0 && s.written > 0, "{s:?}");
    }
}
