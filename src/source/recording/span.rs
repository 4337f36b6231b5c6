//! A recording whose samples are encoded bytes in spans of one file: raw IQ, a WAV `data`
//! chunk, SigMF data (also inside an archive).

use crate::error::Result;
use crate::formats::raw::SpanReader;
use crate::source::{IqSource, ReadOutcome, SampleBuf, SeekableSource};
use crate::types::StreamMeta;

/// Raw, WAV or SigMF samples as a source.
#[derive(Debug)]
pub struct SpanSource {
    reader: SpanReader,
    meta: StreamMeta,
}

impl SpanSource {
    /// Streams `reader`, described by `meta`.
    pub fn new(reader: SpanReader, meta: StreamMeta) -> Self {
        SpanSource { reader, meta }
    }
}

impl IqSource for SpanSource {
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

impl SeekableSource for SpanSource {
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
