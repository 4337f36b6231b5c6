//! The stage threads' bodies: the framer (source), the spectrum workers, the detect stage
//! and its display decimator, and the channel priming that keeps their steady state free
//! of allocations. Spawned by [`super::run`].

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver, Select, Sender};

use super::evidence;
use super::msg::batch_parts_mut;
use super::{BlockSample, Event, IqBlock, Out, SpectrumBatch, UiFrame, UiTap};
use crate::alert::Alert;
use crate::detect::baseline::BaselineLearner;
use crate::detect::Detector;
use crate::dsp::{SpectrumConfig, Welch};
use crate::error::Result;
use crate::pipeline::Counters;
use crate::sinks::evidence::Frame;
use crate::source::{IqSource, ReadOutcome, Retune};
use crate::types::SourceEvent;

/// crossbeam allocates lazily: a thread's wait context the first time that thread blocks,
/// and a channel's waiter list the first time anyone blocks on it (and again whenever more
/// threads wait on it at once than ever before). Either can happen long after start-up (a
/// stage that always finds work never blocks until the load changes), so every stage
/// thread calls this first, and [`prime_recv`] / [`prime_send`] size each channel's
/// lists for every thread that can wait on it: the steady state then allocates nothing.
///
/// Priming must not depend on timing. A blocking call with a short timeout is not enough:
/// crossbeam spins first, and on a loaded machine the timeout can pass while it spins, so
/// nothing is registered (the zero-allocation test failed that way beside two busy
/// loops). A `Select` whose deadline has already passed always registers its operations
/// and then gives up without waiting.
pub(super) fn prime_thread() {
    let (_keep, rx) = bounded::<()>(1);
    prime_recv(&rx, 1);
}

/// Registers `waiters` receive operations on `rx` (which must be empty) at once, so its
/// receiver list has room for that many blocked threads, and on the calling thread's wait
/// context.
pub(super) fn prime_recv<T>(rx: &Receiver<T>, waiters: usize) {
    let mut sel = Select::new_biased();
    for _ in 0..waiters.max(1) {
        sel.recv(rx);
    }
    if let Ok(op) = sel.select_deadline(Instant::now()) {
        // Only if a message arrived meanwhile; an empty channel registers and times out.
        let _ = op.recv(rx);
    }
}

/// As [`prime_recv`], for `waiters` threads blocked sending on `tx`: fills the channel
/// with `filler()` so that a send has to wait, primes, and empties it again. Call it
/// before anyone else holds the channel's receiver.
pub(super) fn prime_send<T>(
    tx: &Sender<T>,
    rx: &Receiver<T>,
    waiters: usize,
    filler: impl Fn() -> T,
) {
    while tx.try_send(filler()).is_ok() {}
    let mut sel = Select::new_biased();
    for _ in 0..waiters.max(1) {
        sel.send(tx);
    }
    if let Ok(op) = sel.select_deadline(Instant::now()) {
        let _ = op.send(tx, filler());
    }
    while rx.try_recv().is_ok() {}
}

/// The source stage: reads into pooled buffers and cuts the stream into blocks of whole
/// averaging spans, each led by the previous block's last `history` samples.
pub(super) struct Framer<T> {
    pub(super) spec: SpectrumConfig,
    pub(super) block_len: usize,
    pub(super) pool: Receiver<Vec<T>>,
    pub(super) out: Sender<IqBlock<T>>,
    pub(super) counters: Arc<Counters>,
    pub(super) live: bool,
    pub(super) seq: u64,
    /// Samples lost since the last block was sent (reported with the next one).
    pub(super) dropped: u64,
    /// A source event waiting to ride on the next block.
    pub(super) event: Option<SourceEvent>,
    /// A sweep's step and dwell the samples being framed come from.
    pub(super) tune: Option<Retune>,
    /// A sweep retuned while no buffer was free: the next buffer starts a dwell.
    pub(super) fresh: bool,
}

/// Downstream is gone: the run is ending.
struct Closed;

/// The buffer being filled.
struct Filling<T> {
    buf: Vec<T>,
    /// Stream index of `buf[0]`.
    base: u64,
    /// Valid samples in `buf`.
    fill: usize,
}

impl<T: BlockSample> Framer<T> {
    /// Takes a free buffer: waits for one on a file source; on a live source returns
    /// `None` at once when all are in flight (the caller drops samples instead).
    fn take(&self) -> Result<Option<Vec<T>>, Closed> {
        if self.live {
            match self.pool.try_recv() {
                Ok(b) => Ok(Some(b)),
                Err(crossbeam_channel::TryRecvError::Empty) => Ok(None),
                Err(crossbeam_channel::TryRecvError::Disconnected) => Err(Closed),
            }
        } else {
            self.pool.recv().map(Some).map_err(|_| Closed)
        }
    }

    /// Starts framing in `buf` at stream index `pos`: after a gap the history is
    /// silence, so no spectrum straddles missing samples.
    fn start_at(&self, buf: Vec<T>, pos: u64) -> Filling<T> {
        let hist = self.spec.history();
        if pos == 0 || pos < hist as u64 {
            // Stream start: the first frame begins at the first sample.
            Filling {
                buf,
                base: pos,
                fill: 0,
            }
        } else {
            let mut buf = buf;
            buf[..hist].fill(T::default());
            Filling {
                buf,
                base: pos - hist as u64,
                fill: hist,
            }
        }
    }

    /// Starts framing a new dwell of a sweep in `buf` at stream index `pos`: the first
    /// frame begins at its first sample, as at the start of the stream, and no spectrum
    /// holds samples from two frequencies.
    fn start_dwell(&self, buf: Vec<T>, pos: u64) -> Filling<T> {
        Filling {
            buf,
            base: pos,
            fill: 0,
        }
    }

    /// Sends the whole spans of `f` and returns the filling that continues it (history
    /// and leftover copied over), or `None` when a live source has no free buffer.
    fn emit(&mut self, f: Filling<T>) -> Result<Option<Filling<T>>, Closed> {
        let hist = self.spec.history();
        let span = self.spec.span();
        let consumed = f.fill.saturating_sub(hist) / span * span;
        let next = self.take()?;
        let cont = next.map(|mut next| {
            let keep = f.fill - consumed;
            next[..keep].copy_from_slice(&f.buf[consumed..f.fill]);
            Filling {
                buf: next,
                base: f.base + consumed as u64,
                fill: keep,
            }
        });
        if cont.is_none() {
            // The samples short of a whole span go with the buffer we could not replace.
            let lost = (f.fill - consumed).saturating_sub(hist) as u64;
            self.dropped += lost;
            self.counters.dropped.fetch_add(lost, Relaxed);
        }
        self.send(f.buf, f.base, hist + consumed)?;
        Ok(cont)
    }

    fn send(&mut self, samples: Vec<T>, start: u64, len: usize) -> Result<(), Closed> {
        let block = IqBlock {
            seq: self.seq,
            start,
            len,
            samples,
            dropped: std::mem::take(&mut self.dropped),
            event: self.event.take(),
            tune: self.tune,
        };
        self.seq += 1;
        self.out.send(block).map_err(|_| Closed)
    }

    /// Runs until the source ends, `stop` is set or downstream disconnects; returns the
    /// stream index reached.
    pub(super) fn run(&mut self, source: &mut dyn IqSource, stop: &AtomicBool) -> Result<u64> {
        let hist = self.spec.history();
        let span = self.spec.span();
        // Stream index of the next sample the source delivers.
        let mut pos: u64 = 0;
        let Ok(first) = self.take() else { return Ok(0) };
        let mut cur = first.map(|b| self.start_at(b, 0));
        // Where a live source reads while every buffer is in flight.
        let mut scratch: Vec<T> = Vec::new();
        while !stop.load(Relaxed) {
            let Some(f) = cur.as_mut() else {
                // Starved (live only): drop samples until a buffer comes back.
                match self.take() {
                    Ok(Some(b)) => {
                        cur = Some(if std::mem::take(&mut self.fresh) {
                            self.start_dwell(b, pos)
                        } else {
                            self.start_at(b, pos)
                        });
                        continue;
                    }
                    Ok(None) => {}
                    Err(Closed) => return Ok(pos),
                }
                if scratch.is_empty() {
                    scratch.resize(self.block_len, T::default());
                }
                match T::read(source, &mut scratch)? {
                    ReadOutcome::Samples(n) => {
                        self.counters.samples_in.fetch_add(n as u64, Relaxed);
                        self.dropped += n as u64;
                        self.counters.dropped.fetch_add(n as u64, Relaxed);
                        pos += n as u64;
                    }
                    ReadOutcome::Lost(n) => {
                        self.dropped += n;
                        self.counters.dropped.fetch_add(n, Relaxed);
                        pos += n;
                    }
                    ReadOutcome::Event(e) => self.event = Some(e),
                    ReadOutcome::Retuned(r) => {
                        pos += r.settled;
                        self.tune = Some(r);
                        self.fresh = true;
                    }
                    ReadOutcome::Pending => {}
                    ReadOutcome::Eof => break,
                }
                continue;
            };
            match T::read(source, &mut f.buf[f.fill..])? {
                ReadOutcome::Samples(n) => {
                    f.fill += n;
                    pos += n as u64;
                    self.counters.samples_in.fetch_add(n as u64, Relaxed);
                    self.counters.stream_pos.store(pos, Relaxed);
                    if f.fill == f.buf.len() {
                        let full = cur.take().expect("invariant: filling present");
                        match self.emit(full) {
                            Ok(next) => cur = next,
                            Err(Closed) => return Ok(pos),
                        }
                    }
                }
                // A slow live stream hands on what it has rather than wait for a full block.
                ReadOutcome::Pending if f.fill >= hist + span => {
                    let part = cur.take().expect("invariant: filling present");
                    match self.emit(part) {
                        Ok(next) => cur = next,
                        Err(Closed) => return Ok(pos),
                    }
                }
                ReadOutcome::Pending => {}
                ReadOutcome::Lost(n) => {
                    self.dropped += n;
                    self.counters.dropped.fetch_add(n, Relaxed);
                    let mut part = cur.take().expect("invariant: filling present");
                    if part.fill >= hist + span {
                        match self.emit(part) {
                            Ok(Some(next)) => part = next,
                            Ok(None) => {
                                pos += n;
                                continue;
                            }
                            Err(Closed) => return Ok(pos),
                        }
                    }
                    // The samples before the gap that make no whole span are not analysed.
                    pos += n;
                    cur = Some(self.start_at(part.buf, pos));
                }
                // A sweep moved on: what is framed goes out with the old tuning, and the
                // new dwell starts in a block of its own after the discarded samples.
                ReadOutcome::Retuned(r) => {
                    let mut part = cur.take().expect("invariant: filling present");
                    if part.fill >= hist + span {
                        match self.emit(part) {
                            Ok(Some(next)) => part = next,
                            Ok(None) => {
                                pos += r.settled;
                                self.tune = Some(r);
                                self.fresh = true;
                                continue;
                            }
                            Err(Closed) => return Ok(pos),
                        }
                    }
                    pos += r.settled;
                    self.tune = Some(r);
                    self.counters.stream_pos.store(pos, Relaxed);
                    cur = Some(self.start_dwell(part.buf, pos));
                }
                ReadOutcome::Event(e) => {
                    // Ride on an empty block so the event reaches the detector now.
                    self.event = Some(e);
                    if let Ok(Some(b)) = self.take() {
                        if self.send(b, pos, 0).is_err() {
                            return Ok(pos);
                        }
                    }
                }
                ReadOutcome::Eof => break,
            }
        }
        if let Some(f) = cur {
            if f.fill >= hist + span || self.event.is_some() || self.dropped > 0 {
                let _ = self.emit(f);
            }
        }
        Ok(pos)
    }
}

/// Where a worker puts an IQ buffer it has transformed.
pub(super) struct Done<T> {
    pub(super) pool: Sender<Vec<T>>,
    /// The evidence ring, which keeps the block for its pre-trigger and returns the
    /// buffer to the pool later.
    pub(super) evidence: Option<evidence::Frames<T>>,
}

impl<T> Done<T> {
    fn hand_back(&self, seq: u64, start: u64, len: usize, buf: Vec<T>) {
        let buf = match &self.evidence {
            Some(ev) => match ev.send(Frame {
                seq,
                start,
                len,
                buf,
            }) {
                None => return,
                Some(buf) => buf,
            },
            None => buf,
        };
        let _ = self.pool.try_send(buf);
    }
}

/// A spectrum worker: takes an output buffer, then a block; hands the block's buffer back
/// (to the pool, or to the evidence ring) as soon as it is transformed.
#[allow(clippy::too_many_arguments)]
pub(super) fn spectrum_worker<T: BlockSample>(
    spec: SpectrumConfig,
    scale: f32,
    blocks: Receiver<IqBlock<T>>,
    done: Done<T>,
    spec_pool: Receiver<Vec<f32>>,
    out: Sender<SpectrumBatch>,
    counters: &Counters,
) {
    prime_thread();
    let mut welch = Welch::new(spec);
    // Taking the output buffer before the block means a worker never holds a block while
    // waiting for a buffer the reorder stage is keeping for a later block.
    while let Ok(mut power) = spec_pool.recv() {
        let Ok(block) = blocks.recv() else { return };
        let (mean, peak, carriers) = batch_parts_mut(&spec, &mut power);
        let count = T::spectra(
            &mut welch,
            &block.samples[..block.len],
            scale,
            mean,
            peak,
            carriers,
        );
        counters.spectra.fetch_add(count as u64, Relaxed);
        let batch = SpectrumBatch {
            seq: block.seq,
            start: block.start,
            count,
            power,
            dropped: block.dropped,
            event: block.event,
            tune: block.tune,
        };
        done.hand_back(block.seq, block.start, block.len, block.samples);
        if out.send(batch).is_err() {
            return;
        }
    }
}

/// Folds spectra into display frames for the UI tap and sends one per period.
pub(super) struct UiDecimator {
    tap: UiTap,
    last_sent: Option<Instant>,
    /// Bin-wise maximum (linear power) of the spectra since the last frame.
    peak: Vec<f32>,
    /// Stream span of the spectra in `peak`; `None` when nothing is folded yet.
    span: Option<(u64, u64)>,
}

impl UiDecimator {
    pub(super) fn new(tap: UiTap) -> Self {
        UiDecimator {
            tap,
            last_sent: None,
            peak: Vec::new(),
            span: None,
        }
    }

    fn fold(&mut self, power: &[f32], start: u64, end: u64) {
        match self.span.as_mut() {
            Some(s) => {
                for (p, &x) in self.peak.iter_mut().zip(power) {
                    *p = p.max(x);
                }
                s.1 = end;
            }
            None => {
                self.peak.clear();
                self.peak.extend_from_slice(power);
                self.span = Some((start, end));
            }
        }
    }

    /// Sends the folded frame if a period has passed. Called once per batch, not per
    /// spectrum, so the clock is read rarely.
    fn flush(&mut self, detector: &Detector) {
        let Some((start, end)) = self.span else {
            return;
        };
        let now = Instant::now();
        if self
            .last_sent
            .is_some_and(|t| now.duration_since(t) < self.tap.period)
        {
            return;
        }
        // Two small vectors at most 30 times a second: not worth a pool.
        let frame = UiFrame {
            start,
            end,
            power_db: self.peak.iter().map(|&p| crate::dsp::db(p)).collect(),
            floor_db: detector
                .floor()
                .iter()
                .map(|&p| crate::dsp::db(p))
                .collect(),
            threshold_over_floor_db: crate::dsp::db(detector.fast_threshold()),
            step: None,
        };
        // Drop policy: a full channel means the console is behind; it gets the next one.
        let _ = self.tap.frames.try_send(frame);
        self.last_sent = Some(now);
        self.span = None;
    }
}

/// What the detect stage runs on the spectra, in stream order: a fixed tune's
/// [`Detector`] or a sweep's, each with its display tap.
pub(super) trait Analysis {
    /// One spectrum, its peak and its carrier grid (empty when off), covering samples
    /// `start..end`, of a block taken at `tune`.
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        power: &[f32],
        peak: &[f32],
        carriers: &[f32],
        start: u64,
        end: u64,
        tune: Option<&Retune>,
        emit: &mut dyn FnMut(Alert),
    );
    /// `n` samples were lost just before stream index `at`.
    fn note_dropped(&mut self, n: u64, at: u64, emit: &mut dyn FnMut(Alert));
    /// The source's health changed just before stream index `at`.
    fn note_source_event(&mut self, e: &SourceEvent, at: u64, emit: &mut dyn FnMut(Alert));
    /// After each block: sends a display frame if one is due.
    fn flush(&mut self);
    /// The end of the stream: clears what is open.
    fn finish(&mut self, emit: &mut dyn FnMut(Alert));
    /// The baseline learned, if learning.
    fn take_learner(&mut self) -> Option<BaselineLearner>;
    /// Takes the knowledge the console put since the last call (an emitter marked known),
    /// if any.
    fn poll_knowledge(&mut self);
}

/// A fixed tune: one detector over whole spectra.
pub(super) struct FixedTune {
    pub(super) detector: Detector,
    pub(super) ui: Option<UiDecimator>,
}

impl Analysis for FixedTune {
    fn push(
        &mut self,
        power: &[f32],
        peak: &[f32],
        carriers: &[f32],
        start: u64,
        end: u64,
        _tune: Option<&Retune>,
        emit: &mut dyn FnMut(Alert),
    ) {
        let carriers = Some(carriers).filter(|c| !c.is_empty());
        self.detector
            .push_grids(power, Some(peak), carriers, start, emit);
        if let Some(ui) = self.ui.as_mut() {
            ui.fold(power, start, end);
        }
    }
    fn note_dropped(&mut self, n: u64, at: u64, emit: &mut dyn FnMut(Alert)) {
        self.detector.note_dropped(n, at, emit);
    }
    fn note_source_event(&mut self, e: &SourceEvent, at: u64, emit: &mut dyn FnMut(Alert)) {
        self.detector.note_source_event(e, at, emit);
    }
    fn flush(&mut self) {
        if let Some(ui) = self.ui.as_mut() {
            ui.flush(&self.detector);
        }
    }
    fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        self.detector.finish(emit);
    }
    fn take_learner(&mut self) -> Option<BaselineLearner> {
        self.detector.take_learner()
    }
    fn poll_knowledge(&mut self) {
        if let Some(k) = self.ui.as_ref().and_then(|u| u.tap.knowledge.take()) {
            self.detector.set_knowledge(Some(k));
        }
    }
}

/// The detection stage: puts batches back in stream order and runs the analysis; hands
/// it back at the end.
#[allow(clippy::too_many_arguments)]
pub(super) fn detect_stage<A: Analysis>(
    mut analysis: A,
    spec: SpectrumConfig,
    batches: Receiver<SpectrumBatch>,
    spec_pool: Sender<Vec<f32>>,
    events: Sender<Out>,
    progress: Option<u64>,
    reorder_slots: usize,
    counters: &Counters,
) -> A {
    prime_thread();
    let n = spec.fft_len;
    let span = spec.span() as u64;
    let mut slots: Vec<Option<SpectrumBatch>> = (0..reorder_slots).map(|_| None).collect();
    let mut next_seq = 0u64;
    let mut reached = 0u64;
    let mut reported = 0u64;
    let emit_progress = events.clone();
    let mut emit = |a: Alert| {
        counters.alerts.fetch_add(1, Relaxed);
        // The caller drains every event until we hang up, so a failed send means the run
        // is being torn down; nothing is lost that anyone would read.
        let _ = events.send(Out::Event(Event::Alert(a)));
    };
    for batch in batches.iter() {
        let slot = (batch.seq as usize) % reorder_slots;
        slots[slot] = Some(batch);
        while let Some(b) = slots[(next_seq as usize) % reorder_slots].take() {
            // An emitter the operator marked as known on the console: one atomic read
            // per batch when there is none.
            analysis.poll_knowledge();
            if b.dropped > 0 {
                analysis.note_dropped(b.dropped, b.start, &mut emit);
            }
            if let Some(e) = &b.event {
                analysis.note_source_event(e, b.start, &mut emit);
            }
            // The block's spectra, their peaks and carrier grids (see `spectrum_worker`).
            let (means, peaks, carriers) = b.parts(&spec);
            let nc = spec.carrier_len();
            for j in 0..b.count {
                let start = b.start + j as u64 * span;
                analysis.push(
                    &means[j * n..][..n],
                    &peaks[j * n..][..n],
                    &carriers[j * nc..][..nc],
                    start,
                    start + span,
                    b.tune.as_ref(),
                    &mut emit,
                );
            }
            analysis.flush();
            counters.detected.fetch_add(b.count as u64, Relaxed);
            if let Some(step) = progress {
                reached = reached.max(b.start + b.count as u64 * span);
                if reached >= reported + step {
                    reported = reached;
                    let _ = emit_progress.send(Out::Progress(reached));
                }
            }
            let _ = spec_pool.try_send(b.power);
            next_seq += 1;
        }
    }
    analysis.finish(&mut emit);
    if let Some(l) = analysis.take_learner() {
        let _ = events.send(Out::Event(Event::Learned(Box::new(l))));
    }
    analysis
}
