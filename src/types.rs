//! Small shared types: the description of an IQ stream and the sample-index clock.
//!
//! Pipeline time is the sample index since the start of the stream; seconds are
//! `index / sample_rate_hz`. Wall-clock time exists only as the stream's UTC start.

/// The highest sample rate kuzet accepts, from any file header, flag or scenario: 10 GS/s.
/// The fastest receivers that stream complex baseband to a host (RFSoC-based USRPs, 100
/// GbE digitisers) deliver a few GS/s; a header that claims more is damaged or hostile,
/// and would make every rate-sized buffer (10 ms spectra, evidence rings) absurd.
pub const MAX_SAMPLE_RATE_HZ: f64 = 10e9;

/// Why `rate` cannot be a stream's sample rate, if it cannot.
pub fn check_sample_rate(rate: f64) -> Option<String> {
    if !(rate.is_finite() && rate > 0.0) {
        Some(format!("must be positive, got {rate}"))
    } else if rate > MAX_SAMPLE_RATE_HZ {
        Some(format!(
            "{rate} S/s is more than any receiver streams (at most {MAX_SAMPLE_RATE_HZ:e})"
        ))
    } else {
        None
    }
}

/// Index of a complex sample since the start of the stream. Gaps (dropped samples on a
/// live source) advance it without delivering samples.
pub type SampleIndex = u64;

/// What is known about an IQ stream before its first sample.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamMeta {
    /// Complex samples per second.
    pub sample_rate_hz: f64,
    /// RF frequency at baseband 0 Hz.
    pub center_freq_hz: f64,
    /// UTC time of sample 0, ISO 8601, when known.
    pub start_time_utc: Option<String>,
    /// Receiver gain, when known.
    pub gain_db: Option<f64>,
    /// Device that produced the samples (`driver=rtlsdr,serial=…`, `kuzet synth`, …).
    pub device: String,
    /// Free text.
    pub description: String,
    /// Where the samples come from, for people: a file path or device arguments.
    pub origin: String,
    /// Number of samples when the stream is finite and its length known.
    pub total_samples: Option<u64>,
    /// A live source drops blocks rather than wait for a slow consumer.
    pub live: bool,
}

impl StreamMeta {
    /// A recording's metadata with nothing but its rate and centre (tests' streams).
    #[cfg(test)]
    pub(crate) fn for_test(sample_rate_hz: f64, center_freq_hz: f64) -> Self {
        StreamMeta {
            sample_rate_hz,
            center_freq_hz,
            start_time_utc: None,
            gain_db: None,
            device: String::new(),
            description: String::new(),
            origin: "test".into(),
            total_samples: None,
            live: false,
        }
    }

    /// Seconds from the start of the stream to `index`.
    pub fn seconds(&self, index: SampleIndex) -> f64 {
        index as f64 / self.sample_rate_hz
    }

    /// Sample index at `seconds` from the start of the stream.
    pub fn index_at(&self, seconds: f64) -> SampleIndex {
        (seconds * self.sample_rate_hz).round().max(0.0) as SampleIndex
    }
}

/// Health changes a live source reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    /// The device stopped answering; the source keeps retrying.
    DeviceLost(String),
    /// The device is streaming again.
    DeviceRestored,
    /// The stream's recording stopped (a full disk); monitoring goes on.
    RecordingStopped(String),
    /// The recorder dropped this many samples it could not write in time (a slow disk).
    RecordingOverrun(u64),
}

/// A time-frequency box with a label: a row of a kuzet capture's `/annotations`, a SigMF annotation, ground truth or an alert: a time-frequency box with a label.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// First sample of the annotated span.
    pub start_sample: u64,
    /// Length of the span in samples.
    pub length: u64,
    /// Lower edge, absolute Hz.
    pub freq_lo_hz: f64,
    /// Upper edge, absolute Hz.
    pub freq_hi_hz: f64,
    /// What it is (emitter name, alert kind, ...). Truncated to 63 bytes on disk.
    pub label: String,
    /// Who wrote it (`synth/cw`, `kuzet/alert`, ...). Truncated to 31 bytes on disk.
    pub source: String,
}

/// An emitter the baseline has seen, with its usual level and how often it is on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnownEmitter {
    /// Mean centre frequency.
    pub freq_hz: f64,
    /// Mean occupied bandwidth.
    pub bandwidth_hz: f64,
    /// Mean in-band power while on, dBFS.
    pub power_dbfs: f64,
    /// Fraction of the learning time it was on, 0..=1.
    pub duty: f64,
}

/// One entry of the known-emitters file (`--known FILE`, docs/known.md): a transmitter the
/// operator has said is expected here. The detector treats it as it treats a baseline
/// emitter; the file format lives in `formats::known`, the matching in `detect::knowledge`.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownEntry {
    /// Centre frequency.
    pub freq_hz: f64,
    /// Occupied bandwidth.
    pub bandwidth_hz: f64,
    /// Short name shown beside its mark on the spectrum.
    pub label: Option<String>,
    /// Free text: who marked it and why.
    pub note: Option<String>,
    /// Its usual in-band power, dBFS; without it, `power_change` cannot apply.
    pub power_dbfs: Option<f64>,
    /// Normally always on: going silent raises `emitter_lost`.
    pub always_on: bool,
}

/// A learned baseline: per-bin statistics on the learning grid, and the emitters seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Baseline {
    /// Centre frequency of the learning grid.
    pub center_freq_hz: f64,
    /// Sample rate of the learning grid.
    pub sample_rate_hz: f64,
    /// Bins of the learning grid.
    pub bins: usize,
    /// Per bin: fraction of frames in which it was flagged.
    pub occupancy: Vec<f32>,
    /// Per bin: mean power in dB when flagged (NaN if never).
    pub power_db_mean: Vec<f32>,
    /// Per bin: standard deviation of that power, dB (NaN if never flagged).
    pub power_db_std: Vec<f32>,
    /// Per bin: mean noise floor, dB.
    pub floor_db: Vec<f32>,
    /// Emitters seen, by frequency.
    pub emitters: Vec<KnownEmitter>,
    /// Learning time.
    pub seconds: f64,
}
