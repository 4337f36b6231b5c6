//! Sources of IQ samples: recorded captures ([`file`]), real-time pacing of a capture for
//! replays ([`paced`]), the scene simulator ([`synth`]) and live radios through SoapySDR
//! ([`soapy`], with the built-in simulated device [`sim`]). A source fills the caller's
//! buffer; it never owns threads. The pipeline decides whether a slow consumer makes it
//! wait (files) or drop (live radios).

pub mod paced;
pub mod recording;
pub mod soapy;
pub mod synth;

use num_complex::Complex32;

pub use recording::{open, OpenOptions};

use crate::error::Result;
use crate::formats::raw::SpanReader;
use crate::types::Annotation;
use crate::types::{SourceEvent, StreamMeta};

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

    /// What one int8 sample is worth, when the source can deliver its samples as an
    /// 8-bit capture stores them through [`IqSource::read_ci8`]: the spectrum stage then
    /// converts them as it windows them, and the source neither converts nor writes 8
    /// bytes of float per sample.
    fn ci8_scale(&self) -> Option<f32> {
        None
    }

    /// Reads up to `buf.len()` samples as stored int8 pairs (each worth
    /// [`IqSource::ci8_scale`]); like [`IqSource::read`] otherwise.
    ///
    /// # Errors
    /// As [`IqSource::read`]; a source without int8 samples refuses.
    fn read_ci8(&mut self, _buf: &mut [[i8; 2]]) -> Result<ReadOutcome> {
        Err(crate::error::Error::Config(
            "this source has no int8 samples".into(),
        ))
    }

    /// What one int16 sample is worth, when the source can deliver its samples as a
    /// 16-bit capture stores them through [`IqSource::read_ci16`] (see
    /// [`IqSource::ci8_scale`]).
    fn ci16_scale(&self) -> Option<f32> {
        None
    }

    /// Reads up to `buf.len()` samples as stored int16 pairs (each worth
    /// [`IqSource::ci16_scale`]); like [`IqSource::read`] otherwise.
    ///
    /// # Errors
    /// As [`IqSource::read`]; a source without int16 samples refuses.
    fn read_ci16(&mut self, _buf: &mut [[i16; 2]]) -> Result<ReadOutcome> {
        Err(crate::error::Error::Config(
            "this source has no int16 samples".into(),
        ))
    }

    /// Samples replaced by zero because they were NaN or infinite.
    fn non_finite_samples(&self) -> u64 {
        0
    }

    /// Annotations the recording carries (ground truth, alerts, SigMF annotations,
    /// frequency changes).
    fn annotations(&self) -> &[Annotation] {
        &[]
    }

    /// Problems found at open that did not stop it (a header that overstates the data,
    /// trailing bytes, a frequency change); the caller shows them to the operator.
    fn warnings(&self) -> &[String] {
        &[]
    }

    /// Applies the operator's flags over the file's metadata.
    fn apply_options(&mut self, _opts: &OpenOptions) {}

    /// The raw span reader, for sources that are encoded bytes of a file: lets
    /// `convert` copy or re-encode without a detour through `Complex32` when it pays.
    fn span_reader(&mut self) -> Option<&mut SpanReader> {
        None
    }

    /// A second reader of the same recording whose position `p` holds this stream's
    /// sample `p` minus its own position at the call, for reading stretches of the stream
    /// back while the pipeline reads on (evidence clips from a recording). `None` for a
    /// stream that cannot be read again: a radio, a replay that seeks and loops.
    fn reopen(&self) -> Option<Box<dyn SeekableSource>> {
        None
    }
}

/// A recording that can be read from any sample: what paced replay needs for the console's
/// seek keys and for looping. Every format [`open`] reads is one; a live radio is not.
///
/// Positions are indices into the recording. They are not the stream's sample index, which
/// counts samples delivered and so keeps growing across a seek or a wrap.
pub trait SeekableSource: IqSource {
    /// Samples in the recording.
    fn len_samples(&self) -> u64;

    /// Index in the recording of the next sample [`IqSource::read`] returns.
    fn position(&self) -> u64;

    /// Moves the read position to `index`, clamped to [`SeekableSource::len_samples`].
    fn seek(&mut self, index: u64);
}

impl IqSource for Box<dyn IqSource> {
    fn meta(&self) -> &StreamMeta {
        (**self).meta()
    }
    fn read(&mut self, buf: &mut [Complex32]) -> Result<ReadOutcome> {
        (**self).read(buf)
    }
    fn ci8_scale(&self) -> Option<f32> {
        (**self).ci8_scale()
    }
    fn read_ci8(&mut self, buf: &mut [[i8; 2]]) -> Result<ReadOutcome> {
        (**self).read_ci8(buf)
    }
    fn ci16_scale(&self) -> Option<f32> {
        (**self).ci16_scale()
    }
    fn read_ci16(&mut self, buf: &mut [[i16; 2]]) -> Result<ReadOutcome> {
        (**self).read_ci16(buf)
    }
    fn non_finite_samples(&self) -> u64 {
        (**self).non_finite_samples()
    }
    fn annotations(&self) -> &[Annotation] {
        (**self).annotations()
    }
    fn warnings(&self) -> &[String] {
        (**self).warnings()
    }
    fn apply_options(&mut self, opts: &OpenOptions) {
        (**self).apply_options(opts)
    }
    fn span_reader(&mut self) -> Option<&mut SpanReader> {
        (**self).span_reader()
    }
    fn reopen(&self) -> Option<Box<dyn SeekableSource>> {
        (**self).reopen()
    }
}

/// Stops a source after a number of samples (the `--duration` flag).
pub struct Take<S> {
    inner: S,
    remaining: u64,
    meta: StreamMeta,
}

impl<S: IqSource> Take<S> {
    /// Wraps `inner`, delivering at most `samples`.
    pub fn new(inner: S, samples: u64) -> Self {
        let mut meta = inner.meta().clone();
        meta.total_samples = Some(meta.total_samples.map_or(samples, |t| t.min(samples)));
        Take {
            inner,
            remaining: samples,
            meta,
        }
    }
}

impl<S: IqSource> Take<S> {
    fn take_with<T>(
        &mut self,
        buf: &mut [T],
        read: impl FnOnce(&mut S, &mut [T]) -> Result<ReadOutcome>,
    ) -> Result<ReadOutcome> {
        if self.remaining == 0 {
            return Ok(ReadOutcome::Eof);
        }
        let want = buf
            .len()
            .min(self.remaining.min(usize::MAX as u64) as usize);
        let out = read(&mut self.inner, &mut buf[..want])?;
        if let ReadOutcome::Samples(n) = out {
            self.remaining -= n as u64;
        }
        Ok(out)
    }
}

impl<S: IqSource> IqSource for Take<S> {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }
    fn read(&mut self, buf: &mut [Complex32]) -> Result<ReadOutcome> {
        self.take_with(buf, |inner, b| inner.read(b))
    }
    fn ci8_scale(&self) -> Option<f32> {
        self.inner.ci8_scale()
    }
    fn read_ci8(&mut self, buf: &mut [[i8; 2]]) -> Result<ReadOutcome> {
        self.take_with(buf, |inner, b| inner.read_ci8(b))
    }
    fn ci16_scale(&self) -> Option<f32> {
        self.inner.ci16_scale()
    }
    fn read_ci16(&mut self, buf: &mut [[i16; 2]]) -> Result<ReadOutcome> {
        self.take_with(buf, |inner, b| inner.read_ci16(b))
    }
    fn non_finite_samples(&self) -> u64 {
        self.inner.non_finite_samples()
    }
    fn annotations(&self) -> &[Annotation] {
        self.inner.annotations()
    }
    fn warnings(&self) -> &[String] {
        self.inner.warnings()
    }
    fn reopen(&self) -> Option<Box<dyn SeekableSource>> {
        self.inner.reopen()
    }
}
