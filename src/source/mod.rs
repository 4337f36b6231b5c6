//! Sources of IQ samples: recorded captures ([`file`]), real-time pacing of a capture for
//! replays ([`paced`]), the scene simulator ([`synth`]) and live radios through SoapySDR
//! ([`soapy`], with the built-in simulated device [`sim`]). A source fills the caller's
//! buffer; it never owns threads. The pipeline decides whether a slow consumer makes it
//! wait (files) or drop (live radios).

pub mod file;
pub mod paced;
pub mod sim;
pub mod soapy;
pub mod synth;

use num_complex::Complex32;

use crate::error::Result;
use crate::types::StreamMeta;

/// What one [`IqSource::read`] produced.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadOutcome {
    /// This many samples were written to the front of the buffer.
    Samples(usize),
    /// No data yet (a live source's read timed out); try again.
    Pending,
    /// The device lost this many samples (overflow); the next samples come after the gap.
    Lost(u64),
    /// A change in the source's health, reported once.
    Event(SourceEvent),
    /// The stream has ended.
    Eof,
}

/// Health changes a live source reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceEvent {
    /// The device stopped answering; the source keeps retrying.
    DeviceLost(String),
    /// The device is streaming again.
    DeviceRestored,
}

/// A stream of complex baseband samples.
pub trait IqSource: Send {
    /// What is known about the stream.
    fn meta(&self) -> &StreamMeta;

    /// Reads up to `buf.len()` samples into `buf`.
    ///
    /// # Errors
    /// A failure that ends the stream (a damaged file); recoverable conditions are
    /// reported through [`ReadOutcome`] instead.
    fn read(&mut self, buf: &mut [Complex32]) -> Result<ReadOutcome>;

    /// Samples replaced by zero because they were NaN or infinite.
    fn non_finite_samples(&self) -> u64 {
        0
    }
}

impl IqSource for Box<dyn IqSource> {
    fn meta(&self) -> &StreamMeta {
        (**self).meta()
    }
    fn read(&mut self, buf: &mut [Complex32]) -> Result<ReadOutcome> {
        (**self).read(buf)
    }
    fn non_finite_samples(&self) -> u64 {
        (**self).non_finite_samples()
    }
}
