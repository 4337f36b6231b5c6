//! Live counters shared by the pipeline's threads, and the summary of a run.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Counters the stages bump as they go; readable at any time (status line).
#[derive(Debug, Default)]
pub struct Counters {
    /// Samples delivered by the source.
    pub samples_in: AtomicU64,
    /// Samples lost: device overflow, or dropped because the pipeline was full.
    pub dropped: AtomicU64,
    /// Averaged spectra computed.
    pub spectra: AtomicU64,
    /// Spectra the detector has processed.
    pub detected: AtomicU64,
    /// Alerts emitted.
    pub alerts: AtomicU64,
    /// Stream index of the newest sample delivered.
    pub stream_pos: AtomicU64,
}

impl Counters {
    /// A consistent-enough snapshot for display.
    pub fn snapshot(&self) -> (u64, u64, u64, u64) {
        (
            self.samples_in.load(Relaxed),
            self.dropped.load(Relaxed),
            self.spectra.load(Relaxed),
            self.alerts.load(Relaxed),
        )
    }
}

/// Summary of a finished run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStats {
    /// Samples processed.
    pub samples: u64,
    /// Samples lost.
    pub dropped: u64,
    /// Spectra computed.
    pub spectra: u64,
    /// Alert state changes emitted.
    pub alerts: u64,
    /// Samples that were NaN/Inf and read as zero.
    pub non_finite: u64,
    /// Wall-clock time of the run.
    pub wall: Duration,
    /// Stream time covered, seconds.
    pub stream_s: f64,
    /// Evidence clips cut during the run (with `--evidence`).
    pub evidence: Option<crate::sinks::evidence::EvidenceSummary>,
    /// What was recorded (with a recorder).
    pub recording: Option<super::recorder::RecordSummary>,
    /// What was published (with federation).
    pub federation: Option<super::federation::LinkSummary>,
    /// A sweep's steps as detection saw them (visits and when), by step.
    pub sweep: Option<Vec<crate::detect::sweep::StepStats>>,
}

impl RunStats {
    /// Throughput in million samples per second of wall time.
    pub fn msps(&self) -> f64 {
        self.samples as f64 / self.wall.as_secs_f64().max(1e-9) / 1e6
    }

    /// Stream time over wall time.
    pub fn realtime_factor(&self) -> f64 {
        self.stream_s / self.wall.as_secs_f64().max(1e-9)
    }
}
