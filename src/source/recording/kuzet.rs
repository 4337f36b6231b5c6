//! A capture file as a source: reads blocks in order, optionally from an offset or for a
//! limited duration; seekable, so paced replays can seek and loop over it.

use std::path::Path;

use num_complex::Complex32;

use crate::error::Result;
use crate::formats::CaptureReader;
use crate::source::{IqSource, ReadOutcome, SeekableSource};
use crate::types::Annotation;
use crate::types::StreamMeta;

/// Reads a kuzet capture.
#[derive(Debug)]
pub struct FileSource {
    reader: CaptureReader,
    meta: StreamMeta,
    remaining: Option<u64>,
    /// Start over at the end (a benchmark's endless input; replays loop in `PacedSource`).
    looping: bool,
    annotations: Vec<Annotation>,
    warnings: Vec<String>,
}

impl FileSource {
    /// Opens a capture.
    ///
    /// # Errors
    /// See [`CaptureReader::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let reader = CaptureReader::open(path)?;
        let meta = reader.meta().clone();
        // A damaged annotation table must not stop a replay of the samples.
        let (annotations, warnings) = match reader.annotations() {
            Ok(a) => (a, Vec::new()),
            Err(e) => (Vec::new(), vec![format!("annotations ignored: {e}")]),
        };
        Ok(FileSource {
            reader,
            meta,
            remaining: None,
            looping: false,
            annotations,
            warnings,
        })
    }

    /// Stops after `samples` samples (the `--duration` flag).
    pub fn limit(mut self, samples: u64) -> Self {
        self.remaining = Some(samples);
        self.meta.total_samples = Some(self.meta.total_samples.map_or(samples, |t| t.min(samples)));
        self
    }

    /// Starts over at the end of the capture, for ever or until the `limit`.
    pub fn looping(mut self, on: bool) -> Self {
        self.looping = on;
        self
    }

    /// The underlying reader.
    pub fn reader(&self) -> &CaptureReader {
        &self.reader
    }
}

impl SeekableSource for FileSource {
    fn len_samples(&self) -> u64 {
        self.reader.len()
    }

    fn position(&self) -> u64 {
        self.reader.position()
    }

    fn seek(&mut self, index: u64) {
        self.reader.seek(index);
    }
}

impl FileSource {
    /// One read through `read`, within `--duration`, starting over at the end if looping.
    fn read_with<T>(
        &mut self,
        buf: &mut [T],
        read: impl Fn(&mut CaptureReader, &mut [T]) -> Result<usize>,
    ) -> Result<ReadOutcome> {
        let want = match self.remaining {
            Some(0) => return Ok(ReadOutcome::Eof),
            Some(r) => buf.len().min(r.min(usize::MAX as u64) as usize),
            None => buf.len(),
        };
        let mut n = read(&mut self.reader, &mut buf[..want])?;
        if n == 0 && self.looping {
            self.reader.seek(0);
            n = read(&mut self.reader, &mut buf[..want])?;
        }
        if n == 0 {
            return Ok(ReadOutcome::Eof);
        }
        if let Some(r) = self.remaining.as_mut() {
            *r -= n as u64;
        }
        Ok(ReadOutcome::Samples(n))
    }
}

impl IqSource for FileSource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: &mut [Complex32]) -> Result<ReadOutcome> {
        self.read_with(buf, CaptureReader::read)
    }

    fn ci8_scale(&self) -> Option<f32> {
        self.reader.ci8_scale()
    }

    fn reopen(&self) -> Option<Box<dyn SeekableSource>> {
        if self.looping {
            return None;
        }
        let mut again = FileSource::open(self.reader.path()).ok()?;
        again.seek(self.reader.position());
        Some(Box::new(again))
    }

    fn read_ci8(&mut self, buf: &mut [[i8; 2]]) -> Result<ReadOutcome> {
        self.read_with(buf, CaptureReader::read_ci8)
    }

    fn ci16_scale(&self) -> Option<f32> {
        self.reader.ci16_scale()
    }

    fn read_ci16(&mut self, buf: &mut [[i16; 2]]) -> Result<ReadOutcome> {
        self.read_with(buf, CaptureReader::read_ci16)
    }

    fn non_finite_samples(&self) -> u64 {
        self.reader.non_finite_samples()
    }

    fn annotations(&self) -> &[Annotation] {
        &self.annotations
    }

    fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn apply_options(&mut self, opts: &super::OpenOptions) {
        super::override_meta(&mut self.meta, &mut self.warnings, opts, true, true);
    }
}
