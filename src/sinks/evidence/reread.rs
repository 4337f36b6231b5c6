//! Evidence from a recording: the file is the pre-trigger buffer.
//!
//! A live stream must keep its last seconds in memory, because a clip's pre-trigger is
//! gone from the radio once it has been analysed. A recording still holds them: when
//! `analyze` cuts clips from a capture, the engine reads each clip's samples back from a
//! second reader of the same file once the planner has opened it, and the pipeline keeps
//! cycling its handful of cache-warm buffers. Holding seconds of the pipeline's own
//! buffers instead made every block's buffer cold by the time it was reused: 16 % of
//! `analyze`'s throughput on a cf32 capture with no clip cut at all.
//!
//! Each clip reads its own range, so clips that overlap in time (one extended past the
//! start of the next) get every sample, as they do from the ring. The clips equal, sample
//! for sample, those the ring cuts from the same stream (tested in `tests/it/evidence.rs`:
//! `analyze` reads back, a paced `replay` uses the ring).

use crate::error::Result;

/// Reads stream samples from a stream index into a buffer; returns how many (0 at the
/// end of the recording).
pub(crate) type ReadAt<T> = Box<dyn FnMut(u64, &mut [T]) -> Result<usize> + Send>;

/// A recording read back in pieces for the clips.
pub(crate) struct Reread<T> {
    read: ReadAt<T>,
    /// Where a piece lands before it is appended to a clip.
    scratch: Vec<T>,
    /// Samples in the stream: `--duration`, or where the recording turned out to end.
    end: Option<u64>,
}

impl<T: Copy + Default> Reread<T> {
    /// Reads through `read`, `piece` samples at a time, a stream of `total` samples
    /// (when known).
    pub fn new(read: ReadAt<T>, piece: usize, total: Option<u64>) -> Self {
        Reread {
            read,
            scratch: vec![T::default(); piece.max(1)],
            end: total,
        }
    }

    /// One past the last stream sample there is (as far as known).
    pub fn end(&self) -> u64 {
        self.end.unwrap_or(u64::MAX)
    }

    /// Stream samples from `from`, at most up to `to` and one piece long; `None` at the
    /// end of the stream.
    ///
    /// # Errors
    /// The reader's error (a damaged file).
    pub fn piece(&mut self, from: u64, to: u64) -> Result<Option<&[T]>> {
        let n = to
            .min(self.end())
            .saturating_sub(from)
            .min(self.scratch.len() as u64) as usize;
        if n == 0 {
            return Ok(None);
        }
        let got = (self.read)(from, &mut self.scratch[..n])?;
        if got == 0 {
            // The recording ends before the stream said it would.
            self.end = Some(from);
            return Ok(None);
        }
        Ok(Some(&self.scratch[..got]))
    }
}

#[cfg(test)]
mod tests {
    use super::super::engine::tests::{at, clip, open, Mem};
    use super::super::engine::{Cmd, Engine};
    use super::*;
    use num_complex::Complex32;

    /// A recording of `len` samples, sample `i` being [`at`]`(i)`.
    fn recording(len: u64) -> ReadAt<Complex32> {
        Box::new(move |from, buf: &mut [Complex32]| {
            let n = (len.saturating_sub(from) as usize).min(buf.len());
            for (k, s) in buf[..n].iter_mut().enumerate() {
                *s = at(from + k as u64);
            }
            Ok(n)
        })
    }

    fn stretch(a: u64, b: u64) -> Vec<Complex32> {
        (a..b).map(at).collect()
    }

    #[test]
    fn pieces_are_bounded_by_the_request_the_piece_size_and_the_end() {
        let mut r = Reread::new(recording(1_000), 64, Some(900));
        let p = r.piece(10, 20).expect("read").expect("samples");
        assert_eq!(p, &stretch(10, 20)[..]);
        assert_eq!(r.piece(10, 500).expect("read").expect("samples").len(), 64);
        assert_eq!(
            r.piece(880, 1_000).expect("read").expect("s").len(),
            20,
            "--duration"
        );
        assert!(r.piece(900, 1_000).expect("read").is_none());
        // A recording shorter than the stream said: its end is learned.
        let mut r = Reread::new(recording(500), 64, None);
        assert!(r.piece(500, 600).expect("read").is_none());
        assert_eq!(r.end(), 500);
    }

    #[test]
    fn clips_read_back_get_their_pre_trigger_and_every_extension_even_overlapping() {
        let mem = Mem::default();
        let r = Reread::new(recording(100_000), 1_000, Some(60_000));
        let mut e = Engine::new(mem.clone(), 0, 0, 0, None, Box::new(drop)).rereading(r);
        // The detector is far past the first clip's start when it opens: a ring would
        // have had to keep 20,000 samples.
        for cmd in [
            Cmd::Progress(25_000),
            open(0, 5_000, 9_000),
            open(1, 10_000, 12_000),
            // The first clip's alert goes on: it now overlaps the second.
            Cmd::Extend {
                clip: 0,
                end: 11_500,
            },
            Cmd::Seal { clip: 0 },
            // The last one reaches past `--duration`.
            open(2, 50_000, 70_000),
        ] {
            e.control(cmd);
        }
        let s = e.finish();
        assert_eq!(clip(&mem, 0).samples, stretch(5_000, 11_500));
        assert_eq!(clip(&mem, 1).samples, stretch(10_000, 12_000));
        assert_eq!(clip(&mem, 2).samples, stretch(50_000, 60_000));
        assert_eq!(s.files.len(), 3);
        assert_eq!(s.samples, 6_500 + 2_000 + 10_000);
    }
}
