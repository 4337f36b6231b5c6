//! Writers behind one interface, for `kuzet convert`: kuzet HDF5, SigMF, ITU-R SM.2117-0
//! HDF5 and headerless raw IQ. Each takes samples block by block and annotations as they
//! come; [`IqSink::finish`] closes the file and reports the sample count.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use num_complex::Complex32;

use super::raw::RawFormat;
use super::CaptureWriter;
use crate::error::{CaptureProblem, Error, Result};
use crate::types::Annotation;

/// Where converted samples go.
pub trait IqSink {
    /// Appends samples.
    ///
    /// # Errors
    /// [`Error::Capture`] naming the output when it cannot be written (disk full).
    fn append(&mut self, samples: &[Complex32]) -> Result<()>;

    /// Records an annotation (alert, ground truth, retune).
    ///
    /// # Errors
    /// As [`IqSink::append`].
    fn annotate(&mut self, a: &Annotation) -> Result<()>;

    /// Samples that did not fit the output's integer range and were clipped.
    fn clipped_samples(&self) -> u64;

    /// Flushes and closes; returns the number of samples written.
    ///
    /// # Errors
    /// As [`IqSink::append`].
    fn finish(self: Box<Self>) -> Result<u64>;
}

impl IqSink for CaptureWriter {
    fn append(&mut self, samples: &[Complex32]) -> Result<()> {
        CaptureWriter::append(self, samples)
    }
    fn annotate(&mut self, a: &Annotation) -> Result<()> {
        CaptureWriter::annotate(self, a)
    }
    fn clipped_samples(&self) -> u64 {
        CaptureWriter::clipped_samples(self)
    }
    fn finish(self: Box<Self>) -> Result<u64> {
        CaptureWriter::finish(*self)
    }
}

/// Headerless interleaved IQ in one encoding. Annotations cannot be stored and are
/// counted, so the caller can say they were dropped.
pub struct RawWriter {
    path: PathBuf,
    out: BufWriter<File>,
    format: RawFormat,
    scratch: Vec<u8>,
    len: u64,
    clipped: u64,
    /// Annotations offered to a format that cannot hold them.
    pub dropped_annotations: u64,
}

impl RawWriter {
    /// Creates (truncating) `path`.
    ///
    /// # Errors
    /// [`Error::Capture`] when the file cannot be created.
    pub fn create(path: &Path, format: RawFormat) -> Result<Self> {
        let f = File::create(path).map_err(|e| Error::capture(path, CaptureProblem::Io(e)))?;
        Ok(RawWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, f),
            format,
            scratch: Vec::new(),
            len: 0,
            clipped: 0,
            dropped_annotations: 0,
        })
    }

    /// Writes already-encoded bytes (a lossless copy from the same encoding).
    ///
    /// # Errors
    /// As [`IqSink::append`].
    pub fn append_encoded(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .map_err(|e| Error::capture(&self.path, CaptureProblem::Io(e)))?;
        self.len += (bytes.len() / self.format.bytes_per_sample()) as u64;
        Ok(())
    }
}

impl IqSink for RawWriter {
    fn append(&mut self, samples: &[Complex32]) -> Result<()> {
        self.clipped += self.format.encode(samples, &mut self.scratch);
        self.out
            .write_all(&self.scratch)
            .map_err(|e| Error::capture(&self.path, CaptureProblem::Io(e)))?;
        self.len += samples.len() as u64;
        Ok(())
    }

    fn annotate(&mut self, _a: &Annotation) -> Result<()> {
        self.dropped_annotations += 1;
        Ok(())
    }

    fn clipped_samples(&self) -> u64 {
        self.clipped
    }

    fn finish(mut self: Box<Self>) -> Result<u64> {
        self.out
            .flush()
            .map_err(|e| Error::capture(&self.path, CaptureProblem::Io(e)))?;
        Ok(self.len)
    }
}
