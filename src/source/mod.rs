//! Sources of IQ samples: recordings in every format kuzet reads ([`recording`]),
//! real-time pacing of a recording for replays ([`paced`]), the scene simulator
//! ([`synth`]) and live radios through SoapySDR ([`soapy`], with the built-in simulated
//! device). A source fills the caller's buffer; it never owns threads. The pipeline
//! decides whether a slow consumer makes it wait (files) or drop (live radios).
//!
//! The trait is narrow on purpose: metadata, one typed read, a count of repaired samples.
//! What only a recording has (annotations, warnings, a second reader, its byte layout)
//! comes back from [`recording::open`], not through every wrapper.

pub mod paced;
pub mod recording;
pub mod soapy;
pub mod synth;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use num_complex::Complex32;

pub use recording::{open, OpenOptions, Recording};

use crate::error::{Error, Result};
use crate::formats::export::IqSink;
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
    /// A sweeping source moved to another frequency: the samples that follow come from
    /// there, after a stretch it discarded (see [`Retune`]).
    Retuned(Retune),
    /// The stream has ended.
    Eof,
}

/// Where a sweeping source ([`soapy::sweep::SweepSource`]) tuned, and what it threw away
/// on the way: the samples that follow start `settled` samples after the previous ones,
/// all of them taken at `centre_hz`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retune {
    /// The step of the sweep now tuned (an index into the plan the source was given).
    pub step: u32,
    /// Which dwell this is: counts every visit from 1, so two visits of one step differ.
    pub dwell: u64,
    /// Centre frequency now tuned, Hz.
    pub centre_hz: f64,
    /// Samples read after the retune and discarded, because they may still have been
    /// taken at the old frequency or while the tuner settled.
    pub settled: u64,
}

/// How a source can deliver its samples. Every source delivers complex floats; an 8- or
/// 16-bit capture can also hand over its integer pairs as stored (a quarter or half of the
/// bytes), each worth `scale`, and the spectrum stage converts them as it windows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SampleKind {
    /// Complex float.
    Cf32,
    /// int8 pairs, `sample = pair * scale`.
    Ci8 {
        /// Value of one least-significant bit.
        scale: f32,
    },
    /// int16 pairs, `sample = pair * scale`.
    Ci16 {
        /// Value of one least-significant bit.
        scale: f32,
    },
}

/// The buffer a read fills, typed by sample kind.
#[derive(Debug)]
pub enum SampleBuf<'a> {
    /// Complex floats: what every source fills.
    Cf32(&'a mut [Complex32]),
    /// Stored int8 pairs (only from a source whose [`IqSource::native`] is `Ci8`).
    Ci8(&'a mut [[i8; 2]]),
    /// Stored int16 pairs (only from a source whose [`IqSource::native`] is `Ci16`).
    Ci16(&'a mut [[i16; 2]]),
}

impl<'a> SampleBuf<'a> {
    /// Samples the buffer holds.
    pub fn len(&self) -> usize {
        match self {
            SampleBuf::Cf32(b) => b.len(),
            SampleBuf::Ci8(b) => b.len(),
            SampleBuf::Ci16(b) => b.len(),
        }
    }

    /// True when the buffer holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first `n` samples of the buffer (all of it if shorter).
    pub fn prefix(self, n: usize) -> SampleBuf<'a> {
        let n = n.min(self.len());
        match self {
            SampleBuf::Cf32(b) => SampleBuf::Cf32(&mut b[..n]),
            SampleBuf::Ci8(b) => SampleBuf::Ci8(&mut b[..n]),
            SampleBuf::Ci16(b) => SampleBuf::Ci16(&mut b[..n]),
        }
    }

    /// The same buffer, borrowed again (to read into it twice).
    pub fn reborrow(&mut self) -> SampleBuf<'_> {
        match self {
            SampleBuf::Cf32(b) => SampleBuf::Cf32(b),
            SampleBuf::Ci8(b) => SampleBuf::Ci8(b),
            SampleBuf::Ci16(b) => SampleBuf::Ci16(b),
        }
    }

    /// The complex-float buffer, for sources that deliver nothing else.
    ///
    /// # Errors
    /// [`Error::Config`] for an integer buffer: a caller asked a source for a sample kind
    /// its [`IqSource::native`] does not offer.
    pub fn cf32(self) -> Result<&'a mut [Complex32]> {
        match self {
            SampleBuf::Cf32(b) => Ok(b),
            _ => Err(Error::Config(
                "this source delivers complex floats only".into(),
            )),
        }
    }
}

impl<'a> From<&'a mut [Complex32]> for SampleBuf<'a> {
    fn from(b: &'a mut [Complex32]) -> Self {
        SampleBuf::Cf32(b)
    }
}

/// A stream of complex baseband samples.
pub trait IqSource: Send {
    /// What is known about the stream.
    fn meta(&self) -> &StreamMeta;

    /// The kind [`IqSource::read`] can fill besides [`SampleKind::Cf32`]: the stored form
    /// of an 8- or 16-bit capture, else `Cf32`.
    fn native(&self) -> SampleKind {
        SampleKind::Cf32
    }

    /// Reads up to `buf.len()` samples into `buf`, a complex-float buffer or one of the
    /// kind [`IqSource::native`] names.
    ///
    /// # Errors
    /// A failure that ends the stream (a damaged file); recoverable conditions are
    /// reported through [`ReadOutcome`] instead.
    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome>;

    /// Samples replaced by zero because they were NaN or infinite.
    fn non_finite_samples(&self) -> u64 {
        0
    }

    /// [`IqSource::read`] into complex floats.
    ///
    /// # Errors
    /// As [`IqSource::read`].
    fn read_cf32(&mut self, buf: &mut [Complex32]) -> Result<ReadOutcome> {
        self.read(SampleBuf::Cf32(buf))
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

impl<S: IqSource + ?Sized> IqSource for Box<S> {
    fn meta(&self) -> &StreamMeta {
        (**self).meta()
    }
    fn native(&self) -> SampleKind {
        (**self).native()
    }
    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        (**self).read(buf)
    }
    fn non_finite_samples(&self) -> u64 {
        (**self).non_finite_samples()
    }
}

impl<S: SeekableSource + ?Sized> SeekableSource for Box<S> {
    fn len_samples(&self) -> u64 {
        (**self).len_samples()
    }
    fn position(&self) -> u64 {
        (**self).position()
    }
    fn seek(&mut self, index: u64) {
        (**self).seek(index)
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

impl<S: IqSource> IqSource for Take<S> {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }
    fn native(&self) -> SampleKind {
        self.inner.native()
    }
    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        if self.remaining == 0 {
            return Ok(ReadOutcome::Eof);
        }
        let want = self.remaining.min(usize::MAX as u64) as usize;
        let out = self.inner.read(buf.prefix(want))?;
        if let ReadOutcome::Samples(n) = out {
            self.remaining -= n as u64;
        }
        Ok(out)
    }
    fn non_finite_samples(&self) -> u64 {
        self.inner.non_finite_samples()
    }
}

/// Copies a finite source into `sink` as complex floats until it ends or `stop` is set;
/// returns whether it was stopped. The one read loop behind `synth -o`, `convert` and
/// `exercise export`: nothing here waits on a radio.
///
/// # Errors
/// The source's or the sink's first error.
pub fn copy(source: &mut dyn IqSource, sink: &mut dyn IqSink, stop: &AtomicBool) -> Result<bool> {
    // Large enough that per-call overheads (HDF5 hyperslab selection, syscalls) vanish,
    // small enough to stay in L2/L3.
    let mut buf = vec![Complex32::default(); 1 << 17];
    loop {
        if stop.load(Relaxed) {
            return Ok(true);
        }
        match source.read_cf32(&mut buf)? {
            ReadOutcome::Samples(n) => sink.append(&buf[..n])?,
            ReadOutcome::Eof => return Ok(false),
            ReadOutcome::Pending | ReadOutcome::Lost(_) | ReadOutcome::Event(_) => {}
            ReadOutcome::Retuned(_) => {}
        }
    }
}
