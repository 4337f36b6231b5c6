//! Small shared types: the description of an IQ stream and the sample-index clock.
//!
//! Pipeline time is the sample index since the start of the stream; seconds are
//! `index / sample_rate_hz`. Wall-clock time exists only as the stream's UTC start.

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
    /// Seconds from the start of the stream to `index`.
    pub fn seconds(&self, index: SampleIndex) -> f64 {
        index as f64 / self.sample_rate_hz
    }

    /// Sample index at `seconds` from the start of the stream.
    pub fn index_at(&self, seconds: f64) -> SampleIndex {
        (seconds * self.sample_rate_hz).round().max(0.0) as SampleIndex
    }
}
