//! A recording read as complex floats through any [`SampleReader`]: raw IQ, a WAV `data`
//! chunk, SigMF data (also inside an archive), ITU-R SM.2117-0.

use crate::error::Result;
use crate::formats::SampleReader;
use crate::source::{IqSource, ReadOutcome, SampleBuf, SeekableSource};
use crate::types::StreamMeta;

/// A recording's reader as a source.
#[derive(Debug)]
pub struct PlainSource<R> {
    reader: R,
    meta: StreamMeta,
}

impl<R: SampleReader> PlainSource<R> {
    /// Streams `reader`, described by `meta` (the file's, with flags applied).
    pub fn new(reader: R, meta: StreamMeta) -> Self {
        PlainSource { reader, meta }
    }
}

impl<R: SampleReader> IqSource for PlainSource<R> {
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

impl<R: SampleReader> SeekableSource for PlainSource<R> {
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
