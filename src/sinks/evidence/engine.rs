//! The evidence thread's state, free of threads and files so it can be tested alone: a
//! ring of recent IQ blocks (the pre-trigger buffer) and the clips being cut from it.
//!
//! Blocks arrive in stream order from the sequencer; control commands arrive from the planner
//! (see [`super::Planner`]). A block leaves the ring only when no clip still has to write
//! it and no future clip can ask for it: every clip the planner may yet open starts at or
//! after `progress − keep`, where `progress` is the detector's position when the planner
//! decided. Because both sides see the same sequence of `Progress` commands, what the
//! engine keeps is exactly what the planner may ask for, whatever the threads' timing.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use num_complex::Complex32;

use super::reread::Reread;
use crate::alert::AlertKind;
use crate::error::Result;
use crate::types::Annotation;

/// Consecutive samples of the stream, held in a pooled buffer.
#[derive(Debug)]
pub(crate) struct Block<T = Complex32> {
    /// Stream index of the first valid sample, `buf[off]`.
    pub start: u64,
    /// The pooled buffer (returned whole when the block leaves the ring).
    pub buf: Vec<T>,
    /// Where the valid samples are in `buf`.
    pub off: usize,
    pub len: usize,
}

impl<T> Block<T> {
    /// A block whose whole buffer is valid.
    #[cfg(test)]
    pub fn whole(start: u64, buf: Vec<T>) -> Self {
        let len = buf.len();
        Block {
            start,
            buf,
            off: 0,
            len,
        }
    }

    fn end(&self) -> u64 {
        self.start + self.len as u64
    }

    fn samples(&self) -> &[T] {
        &self.buf[self.off..self.off + self.len]
    }
}

/// Recent blocks in stream order. Gaps in the stream (device overflows, blocks a live ring
/// could not take) show as a jump between one block's end and the next block's start.
#[derive(Debug)]
pub(crate) struct Ring<T = Complex32> {
    blocks: VecDeque<Block<T>>,
    /// Everything before this index has left the ring.
    evicted_to: u64,
}

impl<T> Ring<T> {
    /// A ring that will hold up to `blocks` blocks without reallocating.
    pub fn with_capacity(blocks: usize) -> Self {
        Ring {
            blocks: VecDeque::with_capacity(blocks + 1),
            evicted_to: 0,
        }
    }

    /// Appends a block; blocks come in stream order. A block reaching back before the
    /// end of the ring (the pipeline's zero history after a short gap) is trimmed; one
    /// with nothing new comes back to be recycled.
    pub fn push(&mut self, mut b: Block<T>) -> Option<Block<T>> {
        let end = self.end();
        if b.start < end {
            let cut = ((end - b.start) as usize).min(b.len);
            b.off += cut;
            b.len -= cut;
            b.start = end;
        }
        if b.len == 0 {
            return Some(b);
        }
        self.blocks.push_back(b);
        None
    }

    /// Blocks held.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// One past the newest sample held (or the eviction point when empty).
    pub fn end(&self) -> u64 {
        self.blocks.back().map_or(self.evicted_to, Block::end)
    }

    /// The first stream index still available: older samples are gone for good.
    pub fn available_from(&self) -> u64 {
        self.evicted_to
    }

    /// Removes the oldest block if it ends at or before `before`.
    pub fn pop_before(&mut self, before: u64) -> Option<Block<T>> {
        if self.blocks.front()?.end() > before {
            return None;
        }
        self.pop_oldest()
    }

    /// Removes the oldest block whatever it holds (a live source that cannot wait).
    pub fn pop_oldest(&mut self) -> Option<Block<T>> {
        let b = self.blocks.pop_front()?;
        self.evicted_to = self.evicted_to.max(b.end());
        Some(b)
    }

    /// The samples held from `from` up to (at most) `to`, as a slice of one block, or the
    /// number of missing samples before the next held one; `None` when nothing at or after
    /// `from` is held yet.
    pub fn piece(&self, from: u64, to: u64) -> Option<Piece<'_, T>> {
        if from >= to {
            return None;
        }
        // Blocks are few (seconds of stream in blocks of ~50 ms): a search is cheap.
        let i = self.blocks.partition_point(|b| b.end() <= from);
        let b = self.blocks.get(i)?;
        if b.start > from {
            return Some(Piece::Missing(b.start.min(to) - from));
        }
        let lo = (from - b.start) as usize;
        let hi = (b.end().min(to) - b.start) as usize;
        Some(Piece::Samples(&b.samples()[lo..hi]))
    }
}

/// A pipeline block as a spectrum worker hands it on: `buf[..len]` are stream samples
/// from `start`, the first `history` of them repeating the previous block's tail.
#[derive(Debug)]
pub(crate) struct Frame<T = Complex32> {
    pub seq: u64,
    pub start: u64,
    pub len: usize,
    pub buf: Vec<T>,
}

/// Turns the pipeline's blocks, which workers finish in any order and which overlap by
/// the spectrum's history, into ring blocks in stream order without copying a sample:
/// each block keeps the part the next one does not repeat.
pub(crate) struct Sequencer<T = Complex32> {
    slots: Vec<Option<Frame<T>>>,
    next: u64,
    /// The newest block in order: its share ends where the next block starts.
    held: Option<Frame<T>>,
}

impl<T> Sequencer<T> {
    /// A sequencer for at most `in_flight` blocks at once (the pipeline's buffer count).
    pub fn new(in_flight: usize) -> Self {
        Sequencer {
            slots: (0..in_flight.max(1)).map(|_| None).collect(),
            next: 0,
            held: None,
        }
    }

    /// Takes a block; hands each block now in order to `out` (an event-only block as an
    /// empty one, which the ring hands back for recycling).
    pub fn put(&mut self, f: Frame<T>, out: &mut dyn FnMut(Block<T>)) {
        let n = self.slots.len();
        let slot = (f.seq % n as u64) as usize;
        debug_assert!(
            self.slots[slot].is_none(),
            "more blocks in flight than slots"
        );
        self.slots[slot] = Some(f);
        while let Some(f) = self.slots[(self.next % n as u64) as usize].take() {
            self.next += 1;
            if f.len == 0 {
                out(Block {
                    start: f.start,
                    buf: f.buf,
                    off: 0,
                    len: 0,
                });
                continue;
            }
            if let Some(h) = self.held.take() {
                let share = (f.start.saturating_sub(h.start) as usize).min(h.len);
                out(Block {
                    start: h.start,
                    buf: h.buf,
                    off: 0,
                    len: share,
                });
            }
            self.held = Some(f);
        }
    }

    /// The stream has ended: the last block keeps all its samples.
    pub fn finish(&mut self, out: &mut dyn FnMut(Block<T>)) {
        if let Some(h) = self.held.take() {
            out(Block {
                start: h.start,
                buf: h.buf,
                off: 0,
                len: h.len,
            });
        }
    }
}

/// Part of a range read from the ring.
#[derive(Debug, PartialEq)]
pub(crate) enum Piece<'a, T = Complex32> {
    /// Samples in stream order.
    Samples(&'a [T]),
    /// This many samples of the stream were never held (a gap).
    Missing(u64),
}

/// Where clips are written: HDF5 files in the evidence directory, or memory in tests.
pub(crate) trait ClipStore<T> {
    /// Starts a clip whose first sample is stream index `first`, at `path` or, when
    /// that is taken, a free name beside it (returned); `open` are the clips still being
    /// written (never deleted to make room).
    fn create(
        &mut self,
        path: &Path,
        first: u64,
        trigger: AlertKind,
        open: &[&Path],
    ) -> Result<(Box<dyn ClipWriter<T>>, PathBuf)>;

    /// Removes a clip that failed before anything of it was flushed: it holds no
    /// evidence, and no alert may name it.
    fn discard(&mut self, path: &Path);

    /// True when clips count against a quota (checked after every write).
    fn has_quota(&self) -> bool;

    /// After `written` samples were written: makes room under the quota by deleting the
    /// oldest finished evidence; returns the open clip to cut short when that is not
    /// enough.
    fn over_quota(&mut self, written: u64, open: &[&Path]) -> Option<PathBuf>;

    /// A clip was finished and closed.
    fn finished(&mut self, path: &Path);
}

/// One clip being written.
pub(crate) trait ClipWriter<T>: Send {
    /// Appends samples; the writer flushes often enough that a crash loses little.
    fn append(&mut self, samples: &[T]) -> Result<()>;
    /// Makes what was appended durable now (the clip has caught up with its end).
    fn flush(&mut self) -> Result<()>;
    /// Writes or rewrites annotation row `row`; sample indices are relative to the clip.
    fn set_annotation(&mut self, row: u64, a: &Annotation) -> Result<()>;
    /// Closes the clip.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// What happened to a clip, told to whoever waits on it (the planner, through the
/// pipeline): an alert names a clip only once it exists, and no more once it failed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ClipEvent {
    /// The clip's file was created, at this path.
    Opened { clip: u64, path: PathBuf },
    /// The clip could not be created, or stopped on a write error (a full disk).
    Failed { clip: u64 },
}

/// What the planner tells the engine.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cmd {
    /// The detector has analysed the stream up to this index.
    Progress(u64),
    /// No alert can extend the clip any more: close it once written to its end.
    Seal { clip: u64 },
    /// Start a clip covering `[start, end)` of the stream.
    Open {
        clip: u64,
        path: PathBuf,
        start: u64,
        end: u64,
        trigger: AlertKind,
    },
    /// The clip now ends at `end` (later than before).
    Extend { clip: u64, end: u64 },
    /// Row `row` of the clip's annotations, with absolute stream indices.
    Annotate {
        clip: u64,
        row: u64,
        ann: Annotation,
    },
}

struct Clip<T> {
    id: u64,
    path: PathBuf,
    /// Stream index of the clip's first sample.
    first: u64,
    end: u64,
    /// Stream index of the next sample to write.
    written: u64,
    /// No command can extend it any more.
    sealed: bool,
    /// `None` once the clip has failed or been cut: it writes nothing more and holds
    /// nothing back.
    writer: Option<Box<dyn ClipWriter<T>>>,
}

/// Counts and files of a run's evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvidenceSummary {
    /// Clips written (complete or cut short), in the order they were started.
    pub files: Vec<PathBuf>,
    /// Samples written across all clips.
    pub samples: u64,
    /// Clips that failed (disk full, ...), with the reason; each keeps what it flushed.
    pub failed: Vec<(PathBuf, String)>,
    /// Clips cut short by the quota.
    pub cut: Vec<PathBuf>,
    /// Samples a live ring let go unseen because the evidence thread was behind.
    pub dropped: u64,
}

/// The ring, the clips and the policy that ties them together.
pub(crate) struct Engine<S, T = Complex32> {
    ring: Ring<T>,
    store: S,
    clips: Vec<Clip<T>>,
    /// Samples kept behind the detector's progress: pre-trigger plus the look-back for
    /// alerts raised after their first sighting.
    keep: u64,
    release: u64,
    /// Live: at most this many blocks are held, so the framer always finds a free buffer.
    hold_max: Option<usize>,
    zeros: Vec<T>,
    summary: EvidenceSummary,
    /// Where evicted blocks go (back to the pipeline's pool).
    recycle: Box<dyn FnMut(Vec<T>) + Send>,
    /// Clips read back from the recording: the ring stays empty.
    reread: Option<Reread<T>>,
    /// Hears of every clip opened or failed.
    report: Box<dyn FnMut(ClipEvent) + Send>,
}

impl<S: ClipStore<T>, T: Copy + Default + Send + 'static> Engine<S, T> {
    pub fn new(
        store: S,
        ring_blocks: usize,
        block: usize,
        keep: u64,
        hold_max: Option<usize>,
        recycle: Box<dyn FnMut(Vec<T>) + Send>,
    ) -> Self {
        Engine {
            ring: Ring::with_capacity(ring_blocks),
            store,
            clips: Vec::new(),
            keep,
            release: 0,
            hold_max,
            zeros: vec![T::default(); block],
            summary: EvidenceSummary::default(),
            recycle,
            reread: None,
            report: Box::new(|_| {}),
        }
    }

    /// Tells `report` of every clip opened or failed.
    pub fn reporting(mut self, report: Box<dyn FnMut(ClipEvent) + Send>) -> Self {
        self.report = report;
        self
    }

    /// Reads the clips back from the recording through `r` rather than from blocks.
    pub fn rereading(mut self, r: Reread<T>) -> Self {
        self.reread = Some(r);
        self
    }

    /// Takes a block, in stream order.
    pub fn ingest(&mut self, b: Block<T>) {
        if let Some(empty) = self.ring.push(b) {
            (self.recycle)(empty.buf);
        }
        if let Some(max) = self.hold_max {
            while self.ring.len() > max {
                if let Some(old) = self.ring.pop_oldest() {
                    (self.recycle)(old.buf);
                }
            }
        }
        self.pump_all();
        self.close_done();
        self.evict();
    }

    /// Applies a planner command.
    pub fn control(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Progress(p) => {
                self.release = self.release.max(p.saturating_sub(self.keep));
                self.evict();
            }
            Cmd::Seal { clip } => {
                if let Some(c) = self.clips.iter_mut().find(|c| c.id == clip) {
                    c.sealed = true;
                }
                self.close_done();
            }
            Cmd::Open {
                clip,
                path,
                start,
                end,
                trigger,
            } => {
                let first = start.max(self.ring.available_from());
                let open: Vec<&Path> = self.clips.iter().map(|c| c.path.as_path()).collect();
                let (writer, path) = match self.store.create(&path, first, trigger, &open) {
                    Ok((w, actual)) => {
                        (self.report)(ClipEvent::Opened {
                            clip,
                            path: actual.clone(),
                        });
                        self.summary.files.push(actual.clone());
                        (Some(w), actual)
                    }
                    Err(e) => {
                        eprintln!(
                            "kuzet: evidence: {}; this alert's evidence is not recorded",
                            crate::units::one_line(&e.to_string())
                        );
                        self.summary.failed.push((path.clone(), e.to_string()));
                        (self.report)(ClipEvent::Failed { clip });
                        (None, path)
                    }
                };
                self.clips.push(Clip {
                    id: clip,
                    path,
                    first,
                    end: end.max(first),
                    written: first,
                    sealed: false,
                    writer,
                });
                self.pump_all();
            }
            Cmd::Extend { clip, end } => {
                if let Some(c) = self.clips.iter_mut().find(|c| c.id == clip) {
                    c.end = c.end.max(end);
                }
                self.pump_all();
            }
            Cmd::Annotate { clip, row, mut ann } => {
                let Some(c) = self.clips.iter_mut().find(|c| c.id == clip) else {
                    return;
                };
                // Rebased on the clip; an alert first seen before the clip's first
                // sample (its pre-trigger was cut) starts at the clip's start.
                let end = ann.start_sample + ann.length;
                ann.start_sample = ann.start_sample.saturating_sub(c.first);
                ann.length = end.saturating_sub(c.first).saturating_sub(ann.start_sample);
                if let Some(w) = c.writer.as_mut() {
                    if let Err(e) = w.set_annotation(row, &ann) {
                        Self::fail(&mut self.summary, &mut self.store, &mut *self.report, c, e);
                    }
                }
            }
        }
    }

    /// The stream has ended: writes what each clip can still have and closes them all.
    pub fn finish(mut self) -> EvidenceSummary {
        self.pump_all();
        for c in std::mem::take(&mut self.clips) {
            Self::close(&mut self.store, &mut self.summary, &mut *self.report, c);
        }
        self.summary
    }

    /// A clip stopped on an error (a full disk): its alert no longer names it, and a
    /// clip with nothing written is removed.
    fn fail(
        summary: &mut EvidenceSummary,
        store: &mut S,
        report: &mut dyn FnMut(ClipEvent),
        c: &mut Clip<T>,
        e: crate::Error,
    ) {
        let empty = c.written == c.first;
        eprintln!(
            "kuzet: evidence: {}; {} evidence goes on with the next alert",
            crate::units::one_line(&e.to_string()),
            if empty {
                format!("{} held nothing and is removed;", c.path.display())
            } else {
                format!("{} keeps what was flushed before;", c.path.display())
            }
        );
        summary.failed.push((c.path.clone(), e.to_string()));
        // Leaked, not closed: libhdf5 (1.10) crashes closing a dataset whose flush failed.
        // The flushed part stays readable; the handles go with the process.
        std::mem::forget(c.writer.take());
        if empty {
            store.discard(&c.path);
            summary.files.retain(|p| p != &c.path);
        }
        report(ClipEvent::Failed { clip: c.id });
    }

    fn close(
        store: &mut S,
        summary: &mut EvidenceSummary,
        report: &mut dyn FnMut(ClipEvent),
        mut c: Clip<T>,
    ) {
        if let Some(w) = c.writer.take() {
            match w.finish() {
                Ok(()) => store.finished(&c.path),
                Err(e) => Self::fail(summary, store, report, &mut c, e),
            }
        }
    }

    /// Writes every clip as far as the ring reaches.
    fn pump_all(&mut self) {
        let mut wrote = 0u64;
        for c in &mut self.clips {
            let Some(w) = c.writer.as_mut() else { continue };
            let to = c.end.min(match &self.reread {
                Some(r) => r.end(),
                None => self.ring.end(),
            });
            let mut failed = None;
            let before = c.written;
            while c.written < to {
                let r = if let Some(rr) = self.reread.as_mut() {
                    match rr.piece(c.written, to) {
                        Ok(None) => break,
                        Ok(Some(s)) => w.append(s).map(|()| s.len() as u64),
                        Err(e) => Err(e),
                    }
                } else {
                    match self.ring.piece(c.written, to) {
                        None => break,
                        Some(Piece::Samples(s)) => w.append(s).map(|()| s.len() as u64),
                        Some(Piece::Missing(n)) => {
                            // File time stays stream time across a gap.
                            let n = n.min(self.zeros.len() as u64);
                            w.append(&self.zeros[..n as usize]).map(|()| n)
                        }
                    }
                };
                match r {
                    Ok(n) => {
                        c.written += n;
                        self.summary.samples += n;
                        wrote += n;
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if failed.is_none() && c.written > before && c.written >= c.end {
                // Caught up: what it holds so far must not wait for the clip's close.
                failed = w.flush().err();
            }
            if let Some(e) = failed {
                Self::fail(&mut self.summary, &mut self.store, &mut *self.report, c, e);
            }
        }
        if wrote > 0 && self.store.has_quota() {
            let open: Vec<&Path> = self
                .clips
                .iter()
                .filter(|c| c.writer.is_some())
                .map(|c| c.path.as_path())
                .collect();
            if let Some(cut) = self.store.over_quota(wrote, &open) {
                if let Some(i) = self.clips.iter().position(|c| c.path == cut) {
                    let c = self.clips.remove(i);
                    eprintln!(
                        "kuzet: evidence: the quota is reached; {} is cut at {} samples",
                        c.path.display(),
                        c.written - c.first
                    );
                    self.summary.cut.push(c.path.clone());
                    Self::close(&mut self.store, &mut self.summary, &mut *self.report, c);
                }
            }
        }
    }

    /// Closes clips that are complete and can no longer be extended.
    fn close_done(&mut self) {
        let mut i = 0;
        while i < self.clips.len() {
            let c = &self.clips[i];
            if c.sealed && (c.written >= c.end || c.writer.is_none()) {
                let c = self.clips.remove(i);
                Self::close(&mut self.store, &mut self.summary, &mut *self.report, c);
            } else {
                i += 1;
            }
        }
    }

    /// Returns blocks nobody can need any more to the pool.
    fn evict(&mut self) {
        let pinned = self
            .clips
            .iter()
            .filter(|c| c.writer.is_some())
            .map(|c| c.written)
            .min()
            .unwrap_or(u64::MAX);
        while let Some(b) = self.ring.pop_before(self.release.min(pinned)) {
            (self.recycle)(b.buf);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Sample `i` of the test stream: its index, so any misplaced sample shows.
    pub fn at(i: u64) -> Complex32 {
        Complex32::new(i as f32, -(i as f32))
    }

    #[derive(Debug, Default, Clone)]
    pub struct MemClip {
        pub first: u64,
        pub samples: Vec<Complex32>,
        pub rows: Vec<Annotation>,
        pub finished: bool,
    }

    /// Clips in memory, shared with the test.
    #[derive(Clone, Default)]
    pub struct Mem(pub Arc<Mutex<HashMap<PathBuf, MemClip>>>);

    struct MemWriter(Mem, PathBuf);

    impl ClipStore<Complex32> for Mem {
        fn create(
            &mut self,
            path: &Path,
            first: u64,
            _trigger: AlertKind,
            _open: &[&Path],
        ) -> Result<(Box<dyn ClipWriter<Complex32>>, PathBuf)> {
            let clip = MemClip {
                first,
                ..MemClip::default()
            };
            self.0.lock().unwrap().insert(path.to_path_buf(), clip);
            let w = MemWriter(self.clone(), path.to_path_buf());
            Ok((Box::new(w), path.to_path_buf()))
        }
        fn discard(&mut self, path: &Path) {
            self.0.lock().unwrap().remove(path);
        }
        fn has_quota(&self) -> bool {
            false
        }
        fn over_quota(&mut self, _written: u64, _open: &[&Path]) -> Option<PathBuf> {
            None
        }
        fn finished(&mut self, _path: &Path) {}
    }

    impl ClipWriter<Complex32> for MemWriter {
        fn append(&mut self, s: &[Complex32]) -> Result<()> {
            let mut m = self.0 .0.lock().unwrap();
            m.get_mut(&self.1).unwrap().samples.extend_from_slice(s);
            Ok(())
        }
        fn flush(&mut self) -> Result<()> {
            Ok(())
        }
        fn set_annotation(&mut self, row: u64, a: &Annotation) -> Result<()> {
            let mut m = self.0 .0.lock().unwrap();
            let rows = &mut m.get_mut(&self.1).unwrap().rows;
            if row as usize == rows.len() {
                rows.push(a.clone());
            } else {
                rows[row as usize] = a.clone();
            }
            Ok(())
        }
        fn finish(self: Box<Self>) -> Result<()> {
            self.0 .0.lock().unwrap().get_mut(&self.1).unwrap().finished = true;
            Ok(())
        }
    }

    /// An engine over `Mem` with blocks of `block` samples; counts recycled blocks.
    pub fn engine(
        block: usize,
        keep: u64,
        hold_max: Option<usize>,
    ) -> (Engine<Mem>, Mem, Arc<Mutex<usize>>) {
        let mem = Mem::default();
        let recycled = Arc::new(Mutex::new(0usize));
        let r = recycled.clone();
        let e = Engine::new(
            mem.clone(),
            16,
            block,
            keep,
            hold_max,
            Box::new(move |_| *r.lock().unwrap() += 1),
        );
        (e, mem, recycled)
    }

    pub fn block(start: u64, len: usize) -> Block {
        Block::whole(start, (start..start + len as u64).map(at).collect())
    }

    pub fn open(clip: u64, start: u64, end: u64) -> Cmd {
        Cmd::Open {
            clip,
            path: PathBuf::from(format!("clip{clip}")),
            start,
            end,
            trigger: AlertKind::Hopping,
        }
    }

    pub fn clip(mem: &Mem, clip: u64) -> MemClip {
        let m = mem.0.lock().unwrap();
        m[&PathBuf::from(format!("clip{clip}"))].clone()
    }

    fn assert_exact(c: &MemClip, from: u64, to: u64) {
        assert_eq!(c.first, from);
        assert_eq!(c.samples.len() as u64, to - from, "clip length");
        for (k, s) in c.samples.iter().enumerate() {
            assert_eq!(*s, at(from + k as u64), "sample {k} of the clip");
        }
    }

    #[test]
    fn ring_pieces_follow_blocks_and_gaps() {
        let mut r = Ring::with_capacity(4);
        r.push(block(0, 10));
        r.push(block(15, 5));
        assert_eq!(r.piece(8, 30), Some(Piece::Samples(&[at(8), at(9)][..])));
        assert_eq!(r.piece(10, 30), Some(Piece::Missing(5)));
        assert_eq!(r.piece(10, 12), Some(Piece::Missing(2)));
        assert_eq!(r.piece(16, 18), Some(Piece::Samples(&[at(16), at(17)][..])));
        assert_eq!(r.piece(20, 30), None);
        assert!(r.pop_before(9).is_none(), "a block ending after 9 stays");
        // Reaching back into what the ring holds: trimmed to the new part.
        assert!(r.push(block(18, 4)).is_none());
        assert_eq!(r.end(), 22);
        assert_eq!(r.piece(20, 22), Some(Piece::Samples(&[at(20), at(21)][..])));
        assert!(r.push(block(10, 5)).is_some(), "nothing new: handed back");
        assert_eq!(r.pop_before(10).map(|b| b.start), Some(0));
        assert_eq!(r.available_from(), 10);
    }

    /// A pipeline block of `len` samples from `start`, with a buffer larger than that.
    fn frame(seq: u64, start: u64, len: usize) -> Frame {
        let mut buf: Vec<Complex32> = (start..start + len as u64).map(at).collect();
        buf.resize(len + 7, Complex32::new(-1.0, -1.0));
        Frame {
            seq,
            start,
            len,
            buf,
        }
    }

    #[test]
    fn the_sequencer_orders_blocks_and_drops_repeated_history() {
        let mut seq = Sequencer::new(8);
        let mut ring = Ring::with_capacity(8);
        let mut recycled = 0;
        {
            let mut out = |b: Block| recycled += usize::from(ring.push(b).is_some());
            // Blocks of 100 new samples led by 24 of history, finished out of order;
            // an event-only block (no samples) between them.
            seq.put(frame(1, 100, 124), &mut out);
            seq.put(frame(3, 224, 0), &mut out);
            seq.put(frame(0, 0, 124), &mut out);
            seq.put(frame(2, 200, 124), &mut out);
            // After a gap: the pipeline leads with 24 zeros of history at 476..500.
            seq.put(frame(4, 476, 74), &mut out);
            seq.finish(&mut out);
        }
        assert_eq!(recycled, 1, "the event-only block goes straight back");
        let mut got = Vec::new();
        let mut at_i = 0;
        while let Some(p) = ring.piece(at_i, 1_000) {
            match p {
                Piece::Samples(s) => got.extend_from_slice(s),
                Piece::Missing(n) => {
                    got.extend(std::iter::repeat_n(Complex32::default(), n as usize))
                }
            }
            at_i = got.len() as u64;
        }
        assert_eq!(got.len(), 550, "the last block keeps its tail");
        for (i, s) in got.iter().enumerate().take(324) {
            assert_eq!(*s, at(i as u64), "sample {i}");
        }
        assert!(
            got[324..476].iter().all(|s| *s == Complex32::default()),
            "the gap"
        );
        assert_eq!(got[476], at(476));
        assert_eq!(got[549], at(549));
    }

    #[test]
    fn wraps_around_keeping_exactly_what_the_planner_may_ask_for() {
        let (mut e, mem, recycled) = engine(100, 250, None);
        // 100 blocks stream through; the detector follows one block behind.
        for k in 0..100u64 {
            e.ingest(block(k * 100, 100));
            e.control(Cmd::Progress(k * 100));
            // Held: blocks ending after progress − keep, plus the one just in.
            assert!(e.ring.len() <= 5, "ring holds {} blocks", e.ring.len());
        }
        assert!(*recycled.lock().unwrap() >= 95);
        // The oldest start the planner may still ask for at progress 9900.
        let start = 9_900 - 250;
        e.control(open(0, start, 10_000));
        let s = e.finish();
        assert_eq!(s.samples, 10_000 - start);
        assert_exact(&clip(&mem, 0), start, 10_000);
    }

    #[test]
    fn trigger_at_the_start_of_the_stream_waits_for_its_samples() {
        let (mut e, mem, _) = engine(100, 250, None);
        // The pre-trigger reaches before sample 0: the clip starts at 0.
        e.control(open(0, 0, 350));
        for k in 0..6u64 {
            e.ingest(block(k * 100, 100));
        }
        let c = clip(&mem, 0);
        assert_exact(&c, 0, 350);
        assert!(!c.finished, "open until the planner seals it");
        e.control(Cmd::Seal { clip: 0 });
        assert!(
            clip(&mem, 0).finished,
            "sealed and written to its end: closed"
        );
        e.finish();
    }

    #[test]
    fn trigger_longer_than_the_ring_streams_through_it() {
        let (mut e, mem, recycled) = engine(100, 200, None);
        e.ingest(block(0, 100));
        e.ingest(block(100, 100));
        e.control(Cmd::Progress(200));
        // 50 ring capacities long.
        e.control(open(0, 50, 80_050));
        for k in 2..1_000u64 {
            e.ingest(block(k * 100, 100));
            e.control(Cmd::Progress(k * 100));
            if k * 100 == 80_300 {
                e.control(Cmd::Seal { clip: 0 });
            }
            assert!(e.ring.len() <= 4, "a long clip must not pin the ring");
        }
        assert!(*recycled.lock().unwrap() > 900);
        let c = clip(&mem, 0);
        assert_exact(&c, 50, 80_050);
        assert!(c.finished, "sealed and complete, so closed");
        e.finish();
    }

    #[test]
    fn overlapping_clips_each_get_their_samples_and_extensions() {
        let (mut e, mem, _) = engine(100, 1_000, None);
        e.control(open(0, 0, 300));
        e.control(open(1, 200, 500));
        for k in 0..4u64 {
            e.ingest(block(k * 100, 100));
        }
        e.control(Cmd::Extend { clip: 0, end: 450 });
        for k in 4..8u64 {
            e.ingest(block(k * 100, 100));
        }
        e.finish();
        assert_exact(&clip(&mem, 0), 0, 450);
        assert_exact(&clip(&mem, 1), 200, 500);
    }

    #[test]
    fn gaps_are_zero_filled_so_clip_time_stays_stream_time() {
        let (mut e, mem, _) = engine(100, 1_000, None);
        e.control(open(0, 0, 400));
        e.ingest(block(0, 100));
        e.ingest(block(250, 100));
        e.finish();
        let c = clip(&mem, 0);
        assert_eq!(c.samples.len(), 350, "up to the end of what arrived");
        assert_eq!(c.samples[99], at(99));
        assert_eq!(c.samples[100], Complex32::default());
        assert_eq!(c.samples[249], Complex32::default());
        assert_eq!(c.samples[250], at(250));
    }

    #[test]
    fn a_live_ring_is_bounded_and_a_late_clip_starts_at_what_it_holds() {
        let (mut e, mem, _) = engine(100, 10_000, Some(3));
        // No progress at all (detector far behind): the ring must still not grow.
        for k in 0..10u64 {
            e.ingest(block(k * 100, 100));
            assert!(e.ring.len() <= 3);
        }
        e.control(open(0, 0, 1_000));
        e.finish();
        assert_exact(&clip(&mem, 0), 700, 1_000);
    }

    #[test]
    fn annotations_are_rebased_on_the_clip() {
        let (mut e, mem, _) = engine(100, 1_000, None);
        e.ingest(block(0, 100));
        e.ingest(block(100, 100));
        e.control(open(0, 50, 200));
        let ann = |start, length| Annotation {
            start_sample: start,
            length,
            freq_lo_hz: 1.0,
            freq_hi_hz: 2.0,
            label: "hopping critical #1".into(),
            source: "kuzet/alert".into(),
        };
        e.control(Cmd::Annotate {
            clip: 0,
            row: 0,
            ann: ann(120, 30),
        });
        // First seen before the clip began: the row starts at the clip's start.
        e.control(Cmd::Annotate {
            clip: 0,
            row: 1,
            ann: ann(20, 60),
        });
        e.control(Cmd::Annotate {
            clip: 0,
            row: 0,
            ann: ann(120, 70),
        });
        e.finish();
        let c = clip(&mem, 0);
        assert_eq!(c.rows.len(), 2);
        assert_eq!((c.rows[0].start_sample, c.rows[0].length), (70, 70));
        assert_eq!((c.rows[1].start_sample, c.rows[1].length), (0, 30));
    }
}
