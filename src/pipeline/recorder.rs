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
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use num_complex::Complex32;

use crate::error::{Error, Result};
use crate::formats::{CaptureWriter, SampleFormat, WriterOptions};
use crate::source::{IqSource, ReadOutcome, SampleBuf};
use crate::types::Annotation;
use crate::types::StreamMeta;

/// Where recordings go.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// One file (`kuzet record -o FILE`).
    File(PathBuf),
    /// Files named by start time in a directory, a new one every `max_s` seconds of stream
    /// or `max_bytes` of samples (`kuzet watch --record DIR`).
    Dir {
        /// The directory (must exist).
        dir: PathBuf,
        /// Stream seconds per file.
        max_s: Option<f64>,
        /// Sample bytes per file.
        max_bytes: Option<u64>,
    },
}

/// How to record.
#[derive(Debug, Clone)]
pub struct RecorderConfig {
    /// File or directory.
    pub target: Target,
    /// Sample format on disk.
    pub format: SampleFormat,
    /// Memory the queue may hold before blocks are dropped.
    pub queue_bytes: usize,
    /// Root attributes added to every file (`driver`, `serial`).
    pub extra_attrs: Vec<(String, String)>,
}

impl RecorderConfig {
    /// A recorder for `target` with the default queue (256 MB) and cf32 samples.
    pub fn new(target: Target) -> Self {
        RecorderConfig {
            target,
            format: SampleFormat::Cf32,
            queue_bytes: 256 << 20,
            extra_attrs: Vec::new(),
        }
    }
}

/// Counters readable while recording (status line) and after.
#[derive(Debug, Default)]
pub struct RecorderStats {
    /// Samples written to files.
    pub written: AtomicU64,
    /// Samples dropped from the recording because the queue was full (slow disk).
    pub overrun: AtomicU64,
    /// Files started.
    pub files: AtomicU64,
}

/// What a finished recording produced.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSummary {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Samples written.
    pub written: u64,
    /// Samples dropped from the recording (queue full).
    pub overrun: u64,
    /// Samples the stream lost (device overflow) that show as gaps in the files.
    pub gaps: u64,
}

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
                    let r = Writer::new(meta, cfg, stats).run(&rx, &pool_tx);
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

/// The recorder thread's state.
struct Writer {
    meta: StreamMeta,
    cfg: RecorderConfig,
    stats: Arc<RecorderStats>,
    cur: Option<CaptureWriter>,
    /// Stream index of the next sample, and where the current file began.
    pos: u64,
    file_start: u64,
    summary: RecordSummary,
    zeros: Vec<Complex32>,
}

/// Gaps up to this many seconds are zero-filled (beyond that a file would fill with silence).
const ZERO_FILL_MAX_S: f64 = 1.0;

impl Writer {
    fn new(meta: StreamMeta, cfg: RecorderConfig, stats: Arc<RecorderStats>) -> Self {
        Writer {
            meta,
            cfg,
            stats,
            cur: None,
            pos: 0,
            file_start: 0,
            summary: RecordSummary {
                files: Vec::new(),
                written: 0,
                overrun: 0,
                gaps: 0,
            },
            zeros: Vec::new(),
        }
    }

    fn run(mut self, rx: &Receiver<Msg>, pool: &Sender<Vec<Complex32>>) -> Result<RecordSummary> {
        for msg in rx.iter() {
            let r = match msg {
                Msg::Samples(b) => self.write(&b).map(|()| {
                    let _ = pool.try_send(b);
                }),
                Msg::Gap(n) => self.gap(n),
            };
            if let Err(e) = r {
                // Leaked, not closed: libhdf5 (1.10) crashes closing a dataset whose write
                // failed (a full disk). What was flushed stays readable.
                std::mem::forget(self.cur.take());
                return Err(e);
            }
        }
        if let Some(w) = self.cur.take() {
            w.finish()?;
        }
        self.summary.overrun = self.stats.overrun.load(Relaxed);
        Ok(self.summary)
    }

    fn rollover_due(&self, w: &CaptureWriter) -> bool {
        let Target::Dir {
            max_s, max_bytes, ..
        } = &self.cfg.target
        else {
            return false;
        };
        let secs = (self.pos - self.file_start) as f64 / self.meta.sample_rate_hz;
        let bytes = w.len() * self.cfg.format.bytes_per_sample() as u64;
        max_s.is_some_and(|m| secs >= m) || max_bytes.is_some_and(|m| bytes >= m)
    }

    fn file(&mut self) -> Result<&mut CaptureWriter> {
        if self.cur.as_ref().is_some_and(|w| self.rollover_due(w)) {
            if let Some(w) = self.cur.take() {
                w.finish()?;
            }
        }
        if self.cur.is_none() {
            let now = chrono::Utc::now();
            let mut meta = self.meta.clone();
            if self.pos > 0 {
                // Later files start now, not when the stream did.
                meta.start_time_utc =
                    Some(now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true));
            }
            meta.description = format!(
                "recorded by kuzet from {} (stream sample {})",
                self.meta.origin, self.pos
            );
            let path = match &self.cfg.target {
                Target::File(p) => p.clone(),
                Target::Dir { dir, .. } => dir.join(format!(
                    "kuzet-{}-{}-{:04}.h5",
                    now.format("%Y%m%dT%H%M%SZ"),
                    compact_hz(self.meta.center_freq_hz),
                    self.summary.files.len() + 1
                )),
            };
            let w = CaptureWriter::create(
                &path,
                &meta,
                &WriterOptions {
                    format: self.cfg.format,
                    swmr: true,
                    // Flush per block: a crash loses at most the block being written.
                    flush_every: 0,
                    extra_attrs: self.cfg.extra_attrs.clone(),
                    ..WriterOptions::default()
                },
            )?;
            self.summary.files.push(path);
            self.stats.files.fetch_add(1, Relaxed);
            self.file_start = self.pos;
            self.cur = Some(w);
        }
        self.cur
            .as_mut()
            .ok_or(Error::StagePanicked("recorder: no file"))
    }

    fn write(&mut self, samples: &[Complex32]) -> Result<()> {
        let w = self.file()?;
        w.append(samples)?;
        self.pos += samples.len() as u64;
        self.summary.written += samples.len() as u64;
        self.stats.written.fetch_add(samples.len() as u64, Relaxed);
        Ok(())
    }

    fn gap(&mut self, n: u64) -> Result<()> {
        self.summary.gaps += n;
        let rate = self.meta.sample_rate_hz;
        let freq = self.meta.center_freq_hz;
        let fill = n as f64 <= ZERO_FILL_MAX_S * rate;
        let w = self.file()?;
        let start = w.len();
        w.annotate(&Annotation {
            start_sample: start,
            length: if fill { n } else { 0 },
            freq_lo_hz: freq - rate / 2.0,
            freq_hi_hz: freq + rate / 2.0,
            label: format!("gap: {n} samples lost"),
            source: "kuzet/record".into(),
        })?;
        if fill {
            let mut left = n as usize;
            while left > 0 {
                let m = left.min(1 << 16);
                if self.zeros.len() < m {
                    self.zeros.resize(m, Complex32::default());
                }
                let zeros = std::mem::take(&mut self.zeros);
                let r = self.write(&zeros[..m]);
                self.zeros = zeros;
                r?;
                left -= m;
            }
        } else {
            self.pos += n;
        }
        Ok(())
    }
}

/// `433.92MHz`-style frequency for file names.
fn compact_hz(hz: f64) -> String {
    let (v, unit) = if hz >= 1e9 {
        (hz / 1e9, "GHz")
    } else if hz >= 1e6 {
        (hz / 1e6, "MHz")
    } else {
        (hz / 1e3, "kHz")
    };
    let s = format!("{v:.6}");
    format!("{}{unit}", s.trim_end_matches('0').trim_end_matches('.'))
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
