//! An ITU-R SM.2117-0 HDF5 recording as a source.

use crate::error::Result;
use crate::formats::sm2117::Sm2117Reader;
use crate::source::{IqSource, ReadOutcome, SampleBuf, SeekableSource};
use crate::types::StreamMeta;

/// An SM.2117-0 file as a source.
#[derive(Debug)]
pub struct Sm2117Source {
    reader: Sm2117Reader,
    meta: StreamMeta,
}

impl Sm2117Source {
    /// Streams `reader`, described by `meta`.
    pub fn new(reader: Sm2117Reader, meta: StreamMeta) -> Self {
        Sm2117Source { reader, meta }
    }
}

impl IqSource for Sm2117Source {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        match self.reader.read(buf.cf32()?)? {
            0 => Ok(ReadOutcome::Eof),
            n => Ok(ReadOutcome::Samples(n)),
        }
    }

    fn non_finite_samples(&self) -> u64 {
        self.reader.non_finite_samples()
    }
}

impl SeekableSource for Sm2117Source {
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
