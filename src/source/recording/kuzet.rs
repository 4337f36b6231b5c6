//! A kuzet HDF5 capture as a source: complex floats, or an 8- or 16-bit capture's integer
//! pairs as stored.

use crate::error::Result;
use crate::formats::kuzet::CaptureReader;
use crate::source::{IqSource, ReadOutcome, SampleBuf, SampleKind, SeekableSource};
use crate::types::StreamMeta;

/// Reads a kuzet capture.
#[derive(Debug)]
pub struct KuzetSource {
    reader: CaptureReader,
    meta: StreamMeta,
}

impl KuzetSource {
    /// Streams `reader`, described by `meta` (the file's, with flags applied).
    pub fn new(reader: CaptureReader, meta: StreamMeta) -> Self {
        KuzetSource { reader, meta }
    }
}

impl SeekableSource for KuzetSource {
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

impl IqSource for KuzetSource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn native(&self) -> SampleKind {
        if let Some(scale) = self.reader.ci8_scale() {
            SampleKind::Ci8 { scale }
        } else if let Some(scale) = self.reader.ci16_scale() {
            SampleKind::Ci16 { scale }
        } else {
            SampleKind::Cf32
        }
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        let n = match buf {
            SampleBuf::Cf32(b) => self.reader.read(b)?,
            SampleBuf::Ci8(b) => self.reader.read_ci8(b)?,
            SampleBuf::Ci16(b) => self.reader.read_ci16(b)?,
        };
        Ok(if n == 0 {
            ReadOutcome::Eof
        } else {
            ReadOutcome::Samples(n)
        })
    }

    fn non_finite_samples(&self) -> u64 {
        self.reader.non_finite_samples()
    }
}
