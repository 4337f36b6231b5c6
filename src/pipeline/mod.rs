//! The pipeline: the only module that knows about threads and channels.
//!
//! ```text
//!            iq pool (P buffers)                    spectrum pool (Q buffers)
//!          ┌────────────────────┐                ┌─────────────────────────┐
//!          ▼                    │                ▼                         │
//!  [source] ──IqBlock──▶ [dsp-0 … dsp-W] ──SpectrumBatch──▶ [detect] ──Alert──▶ caller
//!   framer    bounded(P)   Welch, one per     bounded(Q)     reorder by seq,   bounded(1024)
//!                          worker                            Detector
//! ```
//!
//! Back-pressure: a file source blocks when every IQ buffer is in flight, so analysis
//! never drops a sample and is deterministic; a live source never waits: when no buffer
//! is free it reads into a scratch buffer, counts the samples as dropped and leaves a gap
//! in the sample index. Shutdown is by disconnection: when the source ends it drops its
//! sender, each stage drains and drops its own, and the caller's loop ends.

pub mod msg;
pub mod recorder;
pub mod stats;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Select, Sender};
use num_complex::Complex32;

use crate::alert::Alert;
use crate::detect::baseline::BaselineLearner;
use crate::detect::{Detector, DetectorConfig, Knowledge};
use crate::dsp::{SpectrumConfig, Welch};
use crate::error::{Error, Result};
use crate::sinks::evidence::{self, EvidenceConfig, Frame};
use crate::source::{IqSource, ReadOutcome, SeekableSource};
use crate::types::SourceEvent;

pub use msg::{IqBlock, SpectrumBatch, UiFrame};
pub use stats::{Counters, RunStats};

/// How to run the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Spectrum stage.
    pub spectrum: SpectrumConfig,
    /// Detection stage.
    pub detector: DetectorConfig,
    /// Spectrum worker threads.
    pub workers: usize,
    /// New samples per block, rounded to whole averaging spans: large enough that thread
    /// hand-offs are rare, small enough to keep latency low on a live source.
    pub block_samples: usize,
    /// Band plan and baseline to classify against.
    pub knowledge: Option<Arc<dyn Knowledge>>,
    /// Learn a baseline while running; it arrives as [`Event::Learned`] at the end.
    pub learn: bool,
    /// Decimated spectra for the console, if one is watching.
    pub ui: Option<UiTap>,
    /// Alert-triggered IQ clips with a pre-trigger buffer.
    pub evidence: Option<EvidenceConfig>,
}

/// Where the detect stage sends display frames, and how often.
#[derive(Debug, Clone)]
pub struct UiTap {
    /// Drop policy: the detect stage uses `try_send`, so a slow or absent console loses
    /// frames and never holds up the DSP. A capacity of 2 or so is plenty.
    pub frames: Sender<UiFrame>,
    /// Minimum wall time between frames (1/30 s for a 30 fps console).
    pub period: Duration,
}

impl PipelineConfig {
    /// Defaults around a spectrum configuration.
    pub fn new(spectrum: SpectrumConfig) -> Self {
        PipelineConfig {
            spectrum,
            detector: DetectorConfig::default(),
            workers: 1,
            block_samples: 1 << 16,
            knowledge: None,
            learn: false,
            ui: None,
            evidence: None,
        }
    }

    /// Averaging spans per block.
    pub fn spans_per_block(&self) -> usize {
        (self.block_samples / self.spectrum.span()).max(1)
    }
}

/// What the detect stage sends the calling thread.
enum Out {
    Event(Event),
    /// The detector has analysed the stream up to this index (only with evidence on:
    /// the evidence planner needs it in order with the alerts).
    Progress(u64),
}

/// What the pipeline tells its caller.
#[derive(Debug)]
pub enum Event {
    /// An alert state change.
    Alert(Alert),
    /// The baseline learned over the run (only with [`PipelineConfig::learn`]), last.
    Learned(Box<BaselineLearner>),
}

/// Runs `source` through spectrum and detection until the source ends or `stop` is set,
/// handing every event to `on_event` on the calling thread.
///
/// # Errors
/// The first error of any stage (a damaged capture, a panicked thread) or of `on_event`.
pub fn run(
    source: Box<dyn IqSource>,
    cfg: &PipelineConfig,
    counters: Arc<Counters>,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(Event) -> Result<()>,
) -> Result<RunStats> {
    // An 8- or 16-bit capture travels as stored, a quarter or half of the bytes, and is
    // converted as it is windowed. Not from a live source, whose thread must never be
    // kept from its reads by an extra path.
    if !source.meta().live {
        if let Some(scale) = source.ci8_scale() {
            return run_typed::<[i8; 2]>(source, scale, cfg, counters, stop, on_event);
        }
        if let Some(scale) = source.ci16_scale() {
            return run_typed::<[i16; 2]>(source, scale, cfg, counters, stop, on_event);
        }
    }
    run_typed::<Complex32>(source, 1.0, cfg, counters, stop, on_event)
}

/// The samples a block carries: complex floats, or integer pairs as an 8- or 16-bit
/// capture stores them.
trait BlockSample: evidence::ClipSample {
    /// Reads from `source` into `buf`.
    fn read(source: &mut dyn IqSource, buf: &mut [Self]) -> Result<ReadOutcome>;
    /// Reads stretches of a recording by stream index, from a reader made by
    /// [`IqSource::reopen`] (its position at the call is the stream's start).
    fn read_at(mut src: Box<dyn SeekableSource>) -> evidence::ReadAt<Self> {
        let base = src.position();
        Box::new(move |at, buf| {
            src.seek(base + at);
            match Self::read(&mut *src, buf)? {
                ReadOutcome::Samples(n) => Ok(n),
                // A recording has no gaps, events or waits: anything else is its end.
                _ => Ok(0),
            }
        })
    }
    /// Transforms a block, each sample worth `scale`, into spectra in `out`.
    fn spectra(welch: &mut Welch, block: &[Self], scale: f32, out: &mut [f32]) -> usize;
}

impl BlockSample for Complex32 {
    fn read(source: &mut dyn IqSource, buf: &mut [Self]) -> Result<ReadOutcome> {
        source.read(buf)
    }
    fn spectra(welch: &mut Welch, block: &[Self], _scale: f32, out: &mut [f32]) -> usize {
        welch.process(block, out)
    }
}

impl BlockSample for [i8; 2] {
    fn read(source: &mut dyn IqSource, buf: &mut [Self]) -> Result<ReadOutcome> {
        source.read_ci8(buf)
    }
    fn spectra(welch: &mut Welch, block: &[Self], scale: f32, out: &mut [f32]) -> usize {
        welch.process_ci8(block, scale, out)
    }
}

impl BlockSample for [i16; 2] {
    fn read(source: &mut dyn IqSource, buf: &mut [Self]) -> Result<ReadOutcome> {
        source.read_ci16(buf)
    }
    fn spectra(welch: &mut Welch, block: &[Self], scale: f32, out: &mut [f32]) -> usize {
        welch.process_ci16(block, scale, out)
    }
}

/// [`run`] with blocks of `T`, each sample worth `scale`.
fn run_typed<T: BlockSample>(
    mut source: Box<dyn IqSource>,
    scale: f32,
    cfg: &PipelineConfig,
    counters: Arc<Counters>,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(Event) -> Result<()>,
) -> Result<RunStats> {
    let meta = source.meta().clone();
    let spec = cfg.spectrum;
    spec.validate().map_err(Error::Config)?;
    cfg.detector.validate().map_err(Error::Config)?;
    let workers = cfg.workers.max(1);
    let spans = cfg.spans_per_block();
    let block_len = spec.history() + spans * spec.span();
    let in_flight = 4 + 2 * workers;
    let spec_buffers = 4 + 2 * workers;
    let blocks = evidence::Blocks {
        block_len,
        history: spec.history(),
    };
    let plan = cfg.evidence.as_ref().map(|ec| {
        // A recording's clips are read back from the file: no ring, no cold buffers.
        let reread = (!meta.live).then(|| source.reopen()).flatten();
        let hold = cfg.detector.tracker.hold_s;
        evidence::Plan::new(ec, &meta, blocks, hold, reread.map(T::read_at))
    });
    // With evidence on, the ring keeps the pipeline's own IQ buffers for seconds: the
    // pool grows by what it holds.
    let iq_buffers = in_flight + plan.as_ref().map_or(0, |p| p.ring_buffers);
    // Progress every tenth of a second of stream, not every batch: each one wakes the
    // calling thread and the evidence thread.
    let progress = plan.as_ref().map(|p| p.progress_step);

    // Pools: filled once here; every buffer comes back after use.
    let (iq_pool_tx, iq_pool_rx) = bounded::<Vec<T>>(iq_buffers);
    let (spec_pool_tx, spec_pool_rx) = bounded::<Vec<f32>>(spec_buffers);
    // While every channel is still empty (see `prime_thread`): the source waits on the IQ
    // pool, every worker on the spectrum pool.
    prime_thread();
    prime_recv(&iq_pool_rx, 1);
    prime_recv(&spec_pool_rx, workers);
    let (mut evidence, frames) = match plan {
        Some(plan) => {
            let st = plan.start(&meta, in_flight, iq_pool_tx.clone(), T::clip_format(scale))?;
            (Some(st.evidence), st.frames)
        }
        None => (None, None),
    };
    for _ in 0..iq_buffers {
        let _ = iq_pool_tx.try_send(vec![T::default(); block_len]);
    }
    for _ in 0..spec_buffers {
        let _ = spec_pool_tx.try_send(vec![0.0f32; spans * spec.fft_len]);
    }
    // Block: never full, since no more than `iq_buffers` blocks exist.
    let (iq_tx, iq_rx) = bounded::<IqBlock<T>>(iq_buffers);
    // Block: the detector's back-pressure reaches the workers (and a file source).
    let (spec_tx, spec_rx) = bounded::<SpectrumBatch>(spec_buffers);
    // Block, large: events are rare and must not be lost.
    let (event_tx, event_rx) = bounded::<Out>(1024);
    // Every worker waits for blocks and on the detector; the detector on the caller.
    prime_recv(&iq_rx, workers);
    prime_recv(&spec_rx, 1);
    prime_recv(&event_rx, 1);
    prime_send(&iq_tx, &iq_rx, 1, IqBlock::<T>::empty);
    prime_send(&spec_tx, &spec_rx, workers, SpectrumBatch::empty);
    prime_send(&event_tx, &event_rx, 1, || Out::Progress(0));

    let started = Instant::now();
    let ran = thread::scope(|scope| -> Result<(u64, u64)> {
        let spawn_err = |_| Error::StagePanicked("spawn");
        let src = thread::Builder::new()
            .name("source".into())
            .spawn_scoped(scope, {
                let counters = counters.clone();
                let live = meta.live;
                move || {
                    prime_thread();
                    let mut framer = Framer {
                        spec,
                        block_len,
                        pool: iq_pool_rx,
                        out: iq_tx,
                        counters,
                        live,
                        seq: 0,
                        dropped: 0,
                        event: None,
                    };
                    let r = framer.run(source.as_mut(), stop);
                    (r, source.non_finite_samples())
                }
            })
            .map_err(spawn_err)?;
        let mut dsp = Vec::with_capacity(workers);
        for w in 0..workers {
            let (iq_rx, spec_tx) = (iq_rx.clone(), spec_tx.clone());
            let (iq_pool_tx, spec_pool_rx) = (iq_pool_tx.clone(), spec_pool_rx.clone());
            let done = Done {
                pool: iq_pool_tx,
                evidence: frames.clone(),
            };
            let counters = counters.clone();
            dsp.push(
                thread::Builder::new()
                    .name(format!("dsp-{w}"))
                    .spawn_scoped(scope, move || {
                        spectrum_worker(spec, scale, iq_rx, done, spec_pool_rx, spec_tx, &counters)
                    })
                    .map_err(spawn_err)?,
            );
        }
        drop((iq_rx, spec_tx, iq_pool_tx, spec_pool_rx, frames));
        let det = thread::Builder::new()
            .name("detect".into())
            .spawn_scoped(scope, {
                let counters = counters.clone();
                let mut detector =
                    Detector::new(cfg.detector, &spec, &meta).with_knowledge(cfg.knowledge.clone());
                if cfg.learn {
                    detector.start_learning();
                }
                let event_tx = event_tx.clone();
                let ui = cfg.ui.clone().map(UiDecimator::new);
                move || {
                    detect_stage(
                        detector,
                        spec,
                        spec_rx,
                        spec_pool_tx,
                        event_tx,
                        ui,
                        progress,
                        iq_buffers + spec_buffers,
                        &counters,
                    )
                }
            })
            .map_err(spawn_err)?;
        drop(event_tx);

        let mut caller_err = None;
        for out in event_rx.iter() {
            let mut ev = match out {
                Out::Event(ev) => ev,
                Out::Progress(p) => {
                    if let Some(e) = evidence.as_mut() {
                        e.on_progress(p);
                    }
                    continue;
                }
            };
            if let (Some(e), Event::Alert(a)) = (evidence.as_mut(), &mut ev) {
                e.on_alert(a);
            }
            if caller_err.is_some() {
                continue;
            }
            if let Err(e) = on_event(ev) {
                caller_err = Some(e);
                // Stop the source; the other stages drain by disconnection.
                stop.store(true, Relaxed);
            }
        }
        let (src_result, non_finite) = src.join().map_err(|_| Error::StagePanicked("source"))?;
        for h in dsp {
            h.join().map_err(|_| Error::StagePanicked("dsp"))?;
        }
        det.join().map_err(|_| Error::StagePanicked("detect"))?;
        if let Some(e) = caller_err {
            return Err(e);
        }
        Ok((src_result?, non_finite))
    });
    // The workers are gone (and with them the blocks): the evidence thread writes what it holds
    // and closes every clip, whether the run ended well or not.
    let evidence = evidence.map(evidence::Evidence::finish).transpose()?;
    let (end, non_finite) = ran?;
    let (samples, dropped, spectra, alerts) = counters.snapshot();
    Ok(RunStats {
        samples,
        dropped,
        spectra,
        alerts,
        non_finite,
        wall: started.elapsed(),
        stream_s: meta.seconds(end),
        evidence,
    })
}

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
fn prime_thread() {
    let (_keep, rx) = bounded::<()>(1);
    prime_recv(&rx, 1);
}

/// Registers `waiters` receive operations on `rx` (which must be empty) at once, so its
/// receiver list has room for that many blocked threads, and on the calling thread's wait
/// context.
fn prime_recv<T>(rx: &Receiver<T>, waiters: usize) {
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
fn prime_send<T>(tx: &Sender<T>, rx: &Receiver<T>, waiters: usize, filler: impl Fn() -> T) {
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
struct Framer<T> {
    spec: SpectrumConfig,
    block_len: usize,
    pool: Receiver<Vec<T>>,
    out: Sender<IqBlock<T>>,
    counters: Arc<Counters>,
    live: bool,
    seq: u64,
    /// Samples lost since the last block was sent (reported with the next one).
    dropped: u64,
    /// A source event waiting to ride on the next block.
    event: Option<SourceEvent>,
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
        };
        self.seq += 1;
        self.out.send(block).map_err(|_| Closed)
    }

    /// Runs until the source ends, `stop` is set or downstream disconnects; returns the
    /// stream index reached.
    fn run(&mut self, source: &mut dyn IqSource, stop: &AtomicBool) -> Result<u64> {
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
                        cur = Some(self.start_at(b, pos));
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
struct Done<T> {
    pool: Sender<Vec<T>>,
    /// The evidence ring, which keeps the block for its pre-trigger and returns the
    /// buffer to the pool later.
    evidence: Option<evidence::Frames<T>>,
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
fn spectrum_worker<T: BlockSample>(
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
        let count = T::spectra(&mut welch, &block.samples[..block.len], scale, &mut power);
        counters.spectra.fetch_add(count as u64, Relaxed);
        let batch = SpectrumBatch {
            seq: block.seq,
            start: block.start,
            count,
            power,
            dropped: block.dropped,
            event: block.event,
        };
        done.hand_back(block.seq, block.start, block.len, block.samples);
        if out.send(batch).is_err() {
            return;
        }
    }
}

/// Folds spectra into display frames for the UI tap and sends one per period.
struct UiDecimator {
    tap: UiTap,
    last_sent: Option<Instant>,
    /// Bin-wise maximum (linear power) of the spectra since the last frame.
    peak: Vec<f32>,
    /// Stream span of the spectra in `peak`; `None` when nothing is folded yet.
    span: Option<(u64, u64)>,
}

impl UiDecimator {
    fn new(tap: UiTap) -> Self {
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
        };
        // Drop policy: a full channel means the console is behind; it gets the next one.
        let _ = self.tap.frames.try_send(frame);
        self.last_sent = Some(now);
        self.span = None;
    }
}

/// The detection stage: puts batches back in stream order and runs the detector.
#[allow(clippy::too_many_arguments)]
fn detect_stage(
    mut detector: Detector,
    spec: SpectrumConfig,
    batches: Receiver<SpectrumBatch>,
    spec_pool: Sender<Vec<f32>>,
    events: Sender<Out>,
    mut ui: Option<UiDecimator>,
    progress: Option<u64>,
    reorder_slots: usize,
    counters: &Counters,
) {
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
            if b.dropped > 0 {
                detector.note_dropped(b.dropped, b.start, &mut emit);
            }
            if let Some(e) = &b.event {
                detector.note_source_event(e, b.start, &mut emit);
            }
            for (j, power) in b.power.chunks_exact(n).take(b.count).enumerate() {
                let start = b.start + j as u64 * span;
                detector.push(power, start, &mut emit);
                if let Some(ui) = ui.as_mut() {
                    ui.fold(power, start, start + span);
                }
            }
            if let Some(ui) = ui.as_mut() {
                ui.flush(&detector);
            }
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
    detector.finish(&mut emit);
    if let Some(l) = detector.take_learner() {
        let _ = events.send(Out::Event(Event::Learned(Box::new(l))));
    }
}
