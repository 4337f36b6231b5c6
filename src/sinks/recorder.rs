//! The recorder's file policy, with no thread: a stream of IQ into one crash-safe capture
//! or a directory of files rolled over by time or size, gaps annotated and short ones
//! zero-filled. The pipeline's recorder thread ([`crate::pipeline::recorder`]) feeds it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};

use num_complex::Complex32;

use crate::error::{CaptureProblem, Error, Result};
use crate::formats::{CaptureWriter, SampleFormat, WriterOptions};
use crate::types::{Annotation, StreamMeta};

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
    /// Sample format on disk. An integer format with a scale of 0 takes its scale from
    /// the first block: its RMS sits at full scale / 4.5, so Gaussian peaks fit (a radio
    /// that streams integers natively is recorded at its own scale instead).
    pub format: SampleFormat,
    /// Memory the queue may hold before blocks are dropped.
    pub queue_bytes: usize,
    /// Root attributes added to every file (`driver`, `serial`).
    pub extra_attrs: Vec<(String, String)>,
    /// Put in directory file names so that two radios recording into one directory in
    /// the same second never pick the same name (the device's serial, else its driver).
    pub name_tag: String,
    /// A single-file target may replace an existing file (`--force`); otherwise it is
    /// created exclusively and an existing file is never overwritten.
    pub overwrite: bool,
}

impl RecorderConfig {
    /// A recorder for `target` with the default queue (256 MB) and cf32 samples.
    pub fn new(target: Target) -> Self {
        RecorderConfig {
            target,
            format: SampleFormat::Cf32,
            queue_bytes: 256 << 20,
            extra_attrs: Vec::new(),
            name_tag: String::new(),
            overwrite: false,
        }
    }
}

/// Counters readable while recording (status line, health alerts) and after.
#[derive(Debug, Default)]
pub struct RecorderStats {
    /// Samples of the stream written to files (zero-filled gaps not counted).
    pub written: AtomicU64,
    /// Samples dropped from the recording because the queue was full (slow disk) or the
    /// recorder had stopped.
    pub overrun: AtomicU64,
    /// Files started.
    pub files: AtomicU64,
    /// Why the recording stopped, once it has (a full disk): set once.
    pub stopped: OnceLock<String>,
}

/// What a finished recording produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RecordSummary {
    /// Files written, in order.
    pub files: Vec<PathBuf>,
    /// Samples of the stream written.
    pub written: u64,
    /// Zeros written in place of missing samples, so that file time stays stream time.
    pub zero_filled: u64,
    /// Samples dropped from the recording (queue full, or after it stopped).
    pub overrun: u64,
    /// Samples missing from the stream itself (device overflow, an unplugged radio).
    pub lost_by_device: u64,
    /// Why the recording stopped before the stream ended, if it did.
    pub stopped: Option<String>,
}

/// Writes a recorded stream into one file or a directory of rolled-over files. Every
/// file is continuous in stream time: gaps of up to [`ZERO_FILL_MAX_S`] are zero-filled
/// and annotated; after a longer one a directory recording starts a new file (its
/// `source_first_sample` says where it sits in the stream), and a single file is
/// zero-filled through it.
pub struct Writer {
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

/// Gaps up to this many seconds are zero-filled in a directory recording; a longer one
/// (an unplugged radio) starts a new file rather than fill one with silence.
pub const ZERO_FILL_MAX_S: f64 = 1.0;

/// Integer formats put the first block's RMS at full scale divided by this.
const RMS_HEADROOM: f32 = 4.5;

impl Writer {
    /// A writer for a stream described by `meta`; nothing is created before the first
    /// samples.
    pub fn new(meta: StreamMeta, cfg: RecorderConfig, stats: Arc<RecorderStats>) -> Self {
        Writer {
            meta,
            cfg,
            stats,
            cur: None,
            pos: 0,
            file_start: 0,
            summary: RecordSummary::default(),
            zeros: Vec::new(),
        }
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

    /// An integer format's scale from the first samples, when it was left to be found.
    fn settle_format(&mut self, first: &[Complex32]) {
        let (scale, full) = match self.cfg.format {
            SampleFormat::Ci8 { scale } => (scale, i8::MAX as f32),
            SampleFormat::Ci16 { scale } => (scale, i16::MAX as f32),
            SampleFormat::Cf32 => return,
        };
        if scale > 0.0 {
            return;
        }
        let n = first.len().max(1) as f64;
        let rms = (first.iter().map(|s| s.norm_sqr() as f64).sum::<f64>() / (2.0 * n)).sqrt();
        // Silence (or nothing yet): one LSB of a full-scale receiver.
        let rms = if rms > 0.0 { rms as f32 } else { 1.0 / full };
        let scale = rms * RMS_HEADROOM / full;
        self.cfg.format = match self.cfg.format {
            SampleFormat::Ci8 { .. } => SampleFormat::Ci8 { scale },
            _ => SampleFormat::Ci16 { scale },
        };
    }

    fn file(&mut self, first: &[Complex32]) -> Result<&mut CaptureWriter> {
        if self.cur.as_ref().is_some_and(|w| self.rollover_due(w)) {
            if let Some(w) = self.cur.take() {
                w.finish()?;
            }
        }
        if self.cur.is_none() {
            self.settle_format(first);
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
            let opts = WriterOptions {
                format: self.cfg.format,
                swmr: true,
                // Flush per block: a crash loses at most the block being written.
                flush_every: 0,
                extra_attrs: self.cfg.extra_attrs.clone(),
                source_first_sample: Some(self.pos),
                exclusive: !self.cfg.overwrite || matches!(self.cfg.target, Target::Dir { .. }),
                ..WriterOptions::default()
            };
            let w = match &self.cfg.target {
                Target::File(p) => (p.clone(), CaptureWriter::create(p, &meta, &opts)?),
                Target::Dir { dir, .. } => {
                    let tag = file_tag(&self.cfg.name_tag);
                    let stamp = now.format("%Y%m%dT%H%M%SZ");
                    let hz = compact_hz(self.meta.center_freq_hz);
                    let mut k = self.summary.files.len() + 1;
                    loop {
                        let path = dir.join(format!("kuzet-{stamp}-{hz}{tag}-{k:04}.h5"));
                        match CaptureWriter::create(&path, &meta, &opts) {
                            Ok(w) => break (path, w),
                            // Another recorder took the name: the next number.
                            Err(Error::Capture {
                                problem: CaptureProblem::Io(e),
                                ..
                            }) if e.kind() == std::io::ErrorKind::AlreadyExists => k += 1,
                            Err(e) => return Err(e),
                        }
                    }
                }
            };
            let (path, w) = w;
            self.summary.files.push(path);
            self.stats.files.fetch_add(1, Relaxed);
            self.file_start = self.pos;
            self.cur = Some(w);
        }
        self.cur
            .as_mut()
            .ok_or(Error::StagePanicked("recorder: no file"))
    }

    fn append(&mut self, samples: &[Complex32]) -> Result<()> {
        let w = self.file(samples)?;
        w.append(samples)?;
        self.pos += samples.len() as u64;
        Ok(())
    }

    /// Appends samples of the stream, starting a new file when the rollover is due.
    ///
    /// # Errors
    /// The file cannot be created or written (a full disk).
    pub fn write(&mut self, samples: &[Complex32]) -> Result<()> {
        self.append(samples)?;
        self.summary.written += samples.len() as u64;
        self.stats.written.fetch_add(samples.len() as u64, Relaxed);
        Ok(())
    }

    /// `n` samples of the stream are missing here, `dropped` of them by the recorder
    /// itself (the rest by the device).
    ///
    /// # Errors
    /// As [`Writer::write`].
    pub fn gap(&mut self, n: u64, dropped: u64) -> Result<()> {
        self.summary.lost_by_device += n.saturating_sub(dropped);
        let rate = self.meta.sample_rate_hz;
        let freq = self.meta.center_freq_hz;
        let long = n as f64 > ZERO_FILL_MAX_S * rate;
        if long && matches!(self.cfg.target, Target::Dir { .. }) {
            // A new file after the gap: each file stays continuous in stream time.
            if let Some(w) = self.cur.take() {
                w.finish()?;
            }
            self.pos += n;
            return Ok(());
        }
        let w = self.file(&[])?;
        let start = w.len();
        w.annotate(&Annotation {
            start_sample: start,
            length: n,
            freq_lo_hz: freq - rate / 2.0,
            freq_hi_hz: freq + rate / 2.0,
            label: format!("gap: {n} samples lost"),
            source: "kuzet/record".into(),
        })?;
        let mut left = n;
        while left > 0 {
            let m = left.min(1 << 16) as usize;
            if self.zeros.len() < m {
                self.zeros.resize(m, Complex32::default());
            }
            let zeros = std::mem::take(&mut self.zeros);
            let r = self.append(&zeros[..m]);
            self.zeros = zeros;
            r?;
            self.summary.zero_filled += m as u64;
            left -= m as u64;
        }
        Ok(())
    }

    /// Closes the file and returns what was written.
    ///
    /// # Errors
    /// The file cannot be closed.
    pub fn finish(mut self) -> Result<RecordSummary> {
        if let Some(w) = self.cur.take() {
            w.finish()?;
        }
        Ok(self.into_summary())
    }

    /// Gives up after a failed write: the file is leaked, not closed, because libhdf5
    /// (1.10) crashes closing a dataset whose write failed (a full disk). What was
    /// flushed stays readable. Returns what was written before, with why it stopped.
    pub fn abandon(mut self, why: String) -> RecordSummary {
        std::mem::forget(self.cur.take());
        self.summary.stopped = Some(why);
        self.into_summary()
    }

    fn into_summary(self) -> RecordSummary {
        let mut s = self.summary;
        s.overrun = self.stats.overrun.load(Relaxed);
        s
    }
}

/// `-<tag>` for file names: letters, digits, `.` and `-` only (a serial may hold anything).
fn file_tag(tag: &str) -> String {
    let clean: String = tag
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(32)
        .collect();
    if clean.is_empty() {
        clean
    } else {
        format!("-{clean}")
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
