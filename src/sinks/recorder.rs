//! The recorder's file policy, with no thread: a stream of IQ into one crash-safe capture
//! or a directory of files rolled over by time or size, gaps annotated and short ones
//! zero-filled. The pipeline's recorder thread ([`crate::pipeline::recorder`]) feeds it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use num_complex::Complex32;

use crate::error::{Error, Result};
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

/// Writes a recorded stream into one file or a directory of rolled-over files; gaps
/// are annotated and, when short, zero-filled so that file time stays stream time.
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

/// Gaps up to this many seconds are zero-filled (beyond that a file would fill with silence).
const ZERO_FILL_MAX_S: f64 = 1.0;

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
            summary: RecordSummary {
                files: Vec::new(),
                written: 0,
                overrun: 0,
                gaps: 0,
            },
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

    /// Appends samples, starting a new file when the rollover is due.
    ///
    /// # Errors
    /// The file cannot be created or written (a full disk).
    pub fn write(&mut self, samples: &[Complex32]) -> Result<()> {
        let w = self.file()?;
        w.append(samples)?;
        self.pos += samples.len() as u64;
        self.summary.written += samples.len() as u64;
        self.stats.written.fetch_add(samples.len() as u64, Relaxed);
        Ok(())
    }

    /// `n` samples of the stream are missing here.
    ///
    /// # Errors
    /// As [`Writer::write`].
    pub fn gap(&mut self, n: u64) -> Result<()> {
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

    /// Closes the file and returns what was written.
    ///
    /// # Errors
    /// The file cannot be closed.
    pub fn finish(mut self) -> Result<RecordSummary> {
        if let Some(w) = self.cur.take() {
            w.finish()?;
        }
        self.summary.overrun = self.stats.overrun.load(Relaxed);
        Ok(self.summary)
    }

    /// Gives up after a failed write: the file is leaked, not closed, because libhdf5
    /// (1.10) crashes closing a dataset whose write failed (a full disk). What was
    /// flushed stays readable.
    pub fn abandon(mut self) {
        std::mem::forget(self.cur.take());
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
