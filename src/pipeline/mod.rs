//! The pipeline: the only module that knows about threads and channels. It starts every
//! stage thread (source, spectrum workers, detector, evidence, recorder) and hands back
//! one running handle ([`start`] → [`Running`]) that the headless path and the console
//! both drain; [`run`] does the same on the calling thread.
//!
//! ```text
//!            iq pool (P buffers)                    spectrum pool (Q buffers)
//!          ┌────────────────────┐                ┌─────────────────────────┐
//!          ▼                    │                ▼                         │
//!  [source] ──IqBlock──▶ [dsp-0 … dsp-W] ──SpectrumBatch──▶ [detect] ──Alert──▶ alerts
//!   framer    bounded(P)   Welch, one per     bounded(Q)     reorder by seq,   bounded(1024)
//!     │                    worker │                          Detector         evidence plan,
//!     │ tee (live radio)          └─ blocks ─▶ [evidence] clips              alert log,
//!     └────────────────────────────────────▶ [recorder] HDF5                 → caller
//! ```
//!
//! Back-pressure: a file source blocks when every IQ buffer is in flight, so analysis
//! never drops a sample and is deterministic; a live source never waits: when no buffer
//! is free it reads into a scratch buffer, counts the samples as dropped and leaves a gap
//! in the sample index. Shutdown is by disconnection: when the source ends it drops its
//! sender, each stage drains and drops its own, and the caller's loop ends.

mod evidence;
pub mod federation;
pub mod hq;
pub mod mqtt;
pub mod msg;
pub mod recorder;
mod stages;
pub mod stats;
mod sweep;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};
use num_complex::Complex32;

use crate::alert::Alert;
use crate::detect::baseline::BaselineLearner;
use crate::detect::sweep::{StepStats, SweepDetector, SweepPlan};
use crate::detect::{Detector, DetectorConfig, Knowledge, Prior};
use crate::dsp::{SpectrumConfig, Welch};
use crate::error::{Error, Result};
use crate::sinks::alert_log::{OperatorAction, SharedLog};
use crate::sinks::evidence::{ClipSample, EvidenceConfig, ReadAt};
use crate::sinks::session_log::{SharedSessionLog, Verdict};
use crate::source::{IqSource, ReadOutcome, SampleBuf, SampleKind, SeekableSource};
use crate::types::KnownEntry;

use federation::Publisher;
pub use federation::{FederationConfig, LinkCounters, LinkSummary};
pub use msg::{IqBlock, SpectrumBatch, UiFrame};
use recorder::{Recorder, RecorderConfig, TeeSource};
use stages::*;
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
    /// Alert-triggered IQ clips with a pre-trigger buffer.
    pub evidence: Option<EvidenceConfig>,
    /// Where every alert line is written (and flushed) before anyone else sees it.
    pub alert_log: Option<SharedLog>,
    /// Record the stream's IQ as it is read (a live radio's `--record`).
    pub record: Option<RecorderConfig>,
    /// An exercise's session log: every alert is written there too (after the alert
    /// log), and [`Running::acknowledge_verdict`] writes the trainee's calls.
    pub session_log: Option<SharedSessionLog>,
    /// Publish the alert log to an MQTT broker ([`start`] only; needs [`Self::alert_log`]
    /// open on the same file).
    pub federation: Option<FederationConfig>,
    /// The source sweeps this plan: its blocks are tagged with their step, detection runs
    /// per step, display frames are the panorama.
    pub sweep: Option<Arc<SweepPlan>>,
    /// The known-emitters file (`--known`) that emitters marked on the console are
    /// appended to; without it a mark lasts for the run.
    pub known_file: Option<PathBuf>,
}

/// Where the detect stage sends display frames, and how often.
#[derive(Debug, Clone)]
pub(crate) struct UiTap {
    /// Drop policy: the detect stage uses `try_send`, so a slow or absent console loses
    /// frames and never holds up the DSP. A capacity of 2 or so is plenty.
    pub frames: Sender<UiFrame>,
    /// Minimum wall time between frames (1/30 s for a 30 fps console).
    pub period: Duration,
    /// Knowledge the console hands the detector when the operator marks an emitter.
    pub knowledge: Arc<KnowledgeSlot>,
}

/// A hand-over point for new detector knowledge: the console puts, the detect stage takes
/// between batches. Only the latest counts, so a put never waits and none is queued;
/// the flag keeps the detect stage's check to one atomic read per batch.
#[derive(Default)]
pub(crate) struct KnowledgeSlot {
    next: Mutex<Option<Arc<dyn Knowledge>>>,
    ready: AtomicBool,
}

impl KnowledgeSlot {
    fn put(&self, k: Arc<dyn Knowledge>) {
        *self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(k);
        self.ready.store(true, std::sync::atomic::Ordering::Release);
    }

    /// The knowledge put since the last take, if any.
    pub(crate) fn take(&self) -> Option<Arc<dyn Knowledge>> {
        if !self.ready.swap(false, std::sync::atomic::Ordering::Acquire) {
            return None;
        }
        self.next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

impl std::fmt::Debug for KnowledgeSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KnowledgeSlot")
    }
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
            evidence: None,
            alert_log: None,
            record: None,
            session_log: None,
            federation: None,
            sweep: None,
            known_file: None,
        }
    }

    /// Averaging spans per block.
    pub fn spans_per_block(&self) -> usize {
        (self.block_samples / self.spectrum.span()).max(1)
    }
}

/// What the pipeline reads.
pub struct Input {
    /// The stream.
    pub source: Box<dyn IqSource>,
    /// A second reader of the same recording from its first sample, when there is one:
    /// evidence clips are then read back from the file instead of kept in memory.
    pub reread: Option<Box<dyn SeekableSource>>,
}

impl From<Box<dyn IqSource>> for Input {
    fn from(source: Box<dyn IqSource>) -> Self {
        Input {
            source,
            reread: None,
        }
    }
}

impl<S: IqSource + 'static> From<Box<S>> for Input {
    fn from(source: Box<S>) -> Self {
        Input {
            source,
            reread: None,
        }
    }
}

/// What the detect stage sends the alerts stage.
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

/// Runs `input` through spectrum and detection until the source ends or `stop` is set,
/// handing every event to `on_event` on the calling thread.
///
/// # Errors
/// The first error of any stage (a damaged capture, a panicked thread, the alert log) or
/// of `on_event`.
pub fn run(
    input: impl Into<Input>,
    cfg: &PipelineConfig,
    counters: Arc<Counters>,
    stop: &AtomicBool,
    on_event: &mut dyn FnMut(Event) -> Result<()>,
) -> Result<RunStats> {
    run_with(input.into(), cfg, counters, stop, None, on_event)
}

/// [`run`], with display frames for a console when `ui` is given.
fn run_with(
    input: Input,
    cfg: &PipelineConfig,
    counters: Arc<Counters>,
    stop: &AtomicBool,
    ui: Option<UiTap>,
    on_event: &mut dyn FnMut(Event) -> Result<()>,
) -> Result<RunStats> {
    let Input { source, reread } = input;
    // A recorded stream is teed to the recorder thread as it is read.
    let (source, recorder): (Box<dyn IqSource>, _) = match &cfg.record {
        Some(rc) => {
            let (rec, tap) = Recorder::start(source.meta(), rc.clone())?;
            (Box::new(TeeSource::new(source, tap)), Some(rec))
        }
        None => (source, None),
    };
    // An 8- or 16-bit capture travels as stored, a quarter or half of the bytes, and is
    // converted as it is windowed. Not from a live source, whose thread must never be
    // kept from its reads by an extra path.
    let live = source.meta().live;
    let ran = match source.native() {
        SampleKind::Ci8 { scale } if !live => {
            run_typed::<[i8; 2]>(source, reread, scale, cfg, counters, stop, ui, on_event)
        }
        SampleKind::Ci16 { scale } if !live => {
            run_typed::<[i16; 2]>(source, reread, scale, cfg, counters, stop, ui, on_event)
        }
        _ => run_typed::<Complex32>(source, reread, 1.0, cfg, counters, stop, ui, on_event),
    };
    // The tee went with the source: the recorder writes what is queued and closes.
    let recording = recorder.map(Recorder::finish);
    let mut stats = ran?;
    stats.recording = recording.transpose()?;
    Ok(stats)
}

/// A pipeline running on its own threads: drain [`Running::events`] (and, for a console,
/// [`Running::frames`]), then [`Running::finish`].
pub struct Running {
    events: Receiver<Event>,
    frames: Option<Receiver<UiFrame>>,
    counters: Arc<Counters>,
    log: Option<SharedLog>,
    session: Option<SharedSessionLog>,
    /// Of the stream, to date an acknowledgement in stream time.
    sample_rate_hz: f64,
    failed: Arc<AtomicBool>,
    handle: JoinHandle<Result<RunStats>>,
    publisher: Option<Publisher>,
    /// What the detector knows now, and where a mark reaches it (with a display only).
    knowledge: Mutex<Option<Arc<dyn Knowledge>>>,
    slot: Option<Arc<KnowledgeSlot>>,
    known_file: Option<PathBuf>,
}

/// What became of an emitter the operator marked as known ([`Running::mark_known`]).
#[derive(Debug)]
pub struct Marked {
    /// The detector was told (only a run with a display can be).
    pub detector: bool,
    /// The known-emitters file it was appended to, or why it could not be.
    pub saved: Option<Result<PathBuf>>,
    /// Written to the alert log (a run without one has nowhere to write).
    pub logged: bool,
}

/// Starts the pipeline on `input` on its own threads; with `display`, the detect stage
/// also sends a display frame at most once per that period (see [`Running::frames`]).
/// With [`PipelineConfig::federation`], the publisher thread starts first, so that the
/// outbox is resumed (and a torn last line ended) before the first new alert lands in it.
///
/// # Errors
/// [`Error::StagePanicked`] when its thread cannot be started; the outbox or its cursor
/// cannot be opened; federation without an alert log.
pub fn start(
    input: impl Into<Input>,
    cfg: PipelineConfig,
    stop: Arc<AtomicBool>,
    display: Option<Duration>,
) -> Result<Running> {
    let input = input.into();
    let counters = Arc::new(Counters::default());
    // Drop policy (see UiTap): a few frames of slack, then the DSP drops them.
    let slot = display.map(|_| Arc::new(KnowledgeSlot::default()));
    let (ui, frames) = match (display, &slot) {
        (Some(period), Some(slot)) => {
            let (tx, rx) = bounded::<UiFrame>(4);
            let tap = UiTap {
                frames: tx,
                period,
                knowledge: slot.clone(),
            };
            (Some(tap), Some(rx))
        }
        _ => (None, None),
    };
    let knowledge = Mutex::new(cfg.knowledge.clone());
    let known_file = cfg.known_file.clone();
    // Block, large: events are rare and must not be lost; the caller drains them.
    let (tx, events) = bounded::<Event>(1024);
    let failed = Arc::new(AtomicBool::new(false));
    let log = cfg.alert_log.clone();
    let session = cfg.session_log.clone();
    let sample_rate_hz = input.source.meta().sample_rate_hz;
    let publisher = match (&cfg.federation, &log) {
        (Some(f), Some(l)) => Some(Publisher::start(f.clone(), l, counters.clone())?),
        (Some(_), None) => {
            return Err(Error::invalid(
                "federation",
                "needs an alert log: the log is the outbox",
            ))
        }
        (None, _) => None,
    };
    let handle = thread::Builder::new()
        .name("pipeline".into())
        .spawn({
            let (counters, failed) = (counters.clone(), failed.clone());
            move || {
                let r = run_with(input, &cfg, counters, &stop, ui, &mut |ev| {
                    // Fails only once the caller has stopped listening (a console that
                    // quit): the run is being torn down.
                    let _ = tx.send(ev);
                    Ok(())
                });
                failed.store(r.is_err(), Relaxed);
                r
            }
        })
        .map_err(|_| Error::StagePanicked("spawn"))?;
    Ok(Running {
        events,
        frames,
        counters,
        log,
        session,
        sample_rate_hz,
        failed,
        handle,
        publisher,
        knowledge,
        slot,
        known_file,
    })
}

impl Running {
    /// Alerts (already in the alert log) and the learned baseline, in order; disconnected
    /// when the run has ended.
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }

    /// Display frames, when started with a display period.
    pub fn frames(&self) -> Option<&Receiver<UiFrame>> {
        self.frames.as_ref()
    }

    /// Live counters.
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// The MQTT link's live state, when the run publishes.
    pub fn link(&self) -> Option<&Arc<LinkCounters>> {
        self.publisher.as_ref().map(Publisher::counters)
    }

    /// True once a stage has failed (the error comes from [`Running::finish`]).
    pub fn failed(&self) -> bool {
        self.failed.load(Relaxed)
    }

    /// Logs an operator's acknowledgement of `alert` at `at_utc` in the run's alert log;
    /// false when the run has none.
    ///
    /// # Errors
    /// [`Error::AlertSink`] when the log cannot be written.
    pub fn acknowledge(&self, alert: &Alert, at_utc: &str) -> Result<bool> {
        let Some(log) = &self.log else {
            return Ok(false);
        };
        log.write_acknowledged(alert, at_utc)
            .map_err(Error::AlertSink)?;
        Ok(true)
    }

    /// Stream time now: the newest sample read, as alert times count it.
    fn stream_s(&self) -> f64 {
        self.counters.stream_pos.load(Relaxed) as f64 / self.sample_rate_hz.max(1e-9)
    }

    /// A trainee's acknowledgement with a verdict and an optional note: in the alert log
    /// as an acknowledgement (with the note), and in the exercise's session log with the
    /// verdict, the note and the stream time. False when the run has neither log.
    ///
    /// # Errors
    /// [`Error::AlertSink`] when a log cannot be written.
    pub fn acknowledge_verdict(
        &self,
        alert: &Alert,
        verdict: Verdict,
        note: Option<&str>,
        at_utc: &str,
    ) -> Result<bool> {
        if let Some(log) = &self.log {
            let action = OperatorAction::Acknowledged { note };
            log.write_action(alert, &action, at_utc)
                .map_err(Error::AlertSink)?;
        }
        if let Some(session) = &self.session {
            session
                .acknowledge(alert, verdict, note, self.stream_s(), at_utc)
                .map_err(Error::AlertSink)?;
        }
        Ok(self.log.is_some() || self.session.is_some())
    }

    /// Logs what an operator did about `alert` at `at_utc` (a note, a suppression, its
    /// lifting, a known mark) in the run's alert log, and in an exercise's session log
    /// with the stream time (a trainee's desk is part of the session); false when the run
    /// has neither.
    ///
    /// # Errors
    /// [`Error::AlertSink`] when a log cannot be written.
    pub fn log_action(
        &self,
        alert: &Alert,
        action: &OperatorAction<'_>,
        at_utc: &str,
    ) -> Result<bool> {
        if let Some(log) = &self.log {
            log.write_action(alert, action, at_utc)
                .map_err(Error::AlertSink)?;
        }
        if let Some(session) = &self.session {
            session
                .desk(alert, action, self.stream_s(), at_utc)
                .map_err(Error::AlertSink)?;
        }
        Ok(self.log.is_some() || self.session.is_some())
    }

    /// The operator marked `alert`'s emitter as known (`entry`) at `at_utc`: the detector
    /// treats it as a baseline emitter from its next batch on, the entry is appended to
    /// the known-emitters file (when the run has one) and the mark is logged. A file that
    /// cannot be written does not stop the mark; [`Marked::saved`] says why.
    ///
    /// # Errors
    /// [`Error::AlertSink`] when the alert log cannot be written.
    pub fn mark_known(&self, alert: &Alert, entry: &KnownEntry, at_utc: &str) -> Result<Marked> {
        let detector = match &self.slot {
            Some(slot) => {
                let mut current = self
                    .knowledge
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let next = match current.as_ref() {
                    Some(k) => k.with_marked(entry),
                    None => Prior::default().with_marked(entry),
                };
                match next {
                    Some(k) => {
                        slot.put(k.clone());
                        *current = Some(k);
                        true
                    }
                    None => false,
                }
            }
            None => false,
        };
        let saved = self.known_file.as_ref().map(|path| {
            let comment = format!(
                "marked on the console {at_utc} from alert #{} ({}, {:.1} dBFS)",
                alert.id,
                alert.kind.as_str(),
                alert.power_dbfs
            );
            crate::formats::known::append(path, entry, &comment).map(|()| path.clone())
        });
        let file = self.known_file.as_ref().map(|p| p.display().to_string());
        let action = OperatorAction::MarkedKnown {
            note: entry.note.as_deref(),
            file: file.as_deref().filter(|_| matches!(saved, Some(Ok(_)))),
        };
        let logged = self.log_action(alert, &action, at_utc)?;
        Ok(Marked {
            detector,
            saved,
            logged,
        })
    }

    /// Waits for the run to end (the source's end, or `stop`) and returns its summary.
    /// Events not yet taken are dropped (they are in the alert log). A publisher then
    /// drains the outbox for its drain period and closes.
    ///
    /// # Errors
    /// The first error of any stage.
    pub fn finish(self) -> Result<RunStats> {
        // Unblocks an alerts stage waiting to hand over an event nobody will take.
        drop(self.events);
        drop(self.frames);
        let ran = self
            .handle
            .join()
            .map_err(|_| Error::StagePanicked("pipeline"))
            .and_then(|r| r);
        // Every line of the run is in the log now (or the run failed: what is there still
        // goes out).
        let link = self.publisher.map(Publisher::finish).transpose();
        let mut stats = ran?;
        stats.federation = link?;
        Ok(stats)
    }
}

/// The samples a block carries: complex floats, or integer pairs as an 8- or 16-bit
/// capture stores them.
pub(crate) trait BlockSample: ClipSample + crate::dsp::spectrum::WelchInput {
    /// `buf` as the typed buffer a read fills.
    fn buf(buf: &mut [Self]) -> SampleBuf<'_>;
    /// Reads from `source` into `buf`.
    fn read(source: &mut dyn IqSource, buf: &mut [Self]) -> Result<ReadOutcome> {
        source.read(Self::buf(buf))
    }
    /// Reads stretches of a recording by stream index, from a second reader of it (its
    /// position at the call is the stream's start).
    fn read_at(mut src: Box<dyn SeekableSource>) -> ReadAt<Self> {
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
    /// Transforms a block, each sample worth `scale`, into spectra in `out`, their peaks
    /// in `peak` and their carrier grids in `carriers` (see [`Welch::process_grids`]).
    fn spectra(
        welch: &mut Welch,
        block: &[Self],
        scale: f32,
        out: &mut [f32],
        peak: &mut [f32],
        carriers: &mut [f32],
    ) -> usize {
        welch.process_grids(block, scale, out, peak, carriers)
    }
}

impl BlockSample for Complex32 {
    fn buf(buf: &mut [Self]) -> SampleBuf<'_> {
        SampleBuf::Cf32(buf)
    }
}

impl BlockSample for [i8; 2] {
    fn buf(buf: &mut [Self]) -> SampleBuf<'_> {
        SampleBuf::Ci8(buf)
    }
}

impl BlockSample for [i16; 2] {
    fn buf(buf: &mut [Self]) -> SampleBuf<'_> {
        SampleBuf::Ci16(buf)
    }
}

/// [`run`] with blocks of `T`, each sample worth `scale`.
#[allow(clippy::too_many_arguments)]
fn run_typed<T: BlockSample>(
    mut source: Box<dyn IqSource>,
    reread: Option<Box<dyn SeekableSource>>,
    scale: f32,
    cfg: &PipelineConfig,
    counters: Arc<Counters>,
    stop: &AtomicBool,
    ui: Option<UiTap>,
    on_event: &mut dyn FnMut(Event) -> Result<()>,
) -> Result<RunStats> {
    let meta = source.meta().clone();
    let spec = cfg.spectrum;
    spec.validate()?;
    cfg.detector.validate()?;
    let workers = cfg.workers.max(1);
    let spans = cfg.spans_per_block();
    let block_len = spec.history() + spans * spec.span();
    let in_flight = 4 + 2 * workers;
    let spec_buffers = 4 + 2 * workers;
    let blocks = evidence::Blocks {
        block_len,
        history: spec.history(),
    };
    let plan = cfg
        .evidence
        .as_ref()
        .map(|ec| {
            // A recording's clips are read back from the file: no ring, no cold buffers.
            let reread = reread.filter(|_| !meta.live);
            let hold = cfg.detector.tracker.hold_s;
            evidence::Plan::new(ec, &meta, blocks, hold, reread.map(T::read_at))
        })
        .transpose()?;
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
        // Each block's spectra, their peaks and their carrier grids.
        let _ = spec_pool_tx.try_send(vec![0.0f32; msg::batch_len(&spec, spans)]);
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
    let ran = thread::scope(|scope| -> Result<(u64, u64, Option<Vec<StepStats>>)> {
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
                        tune: None,
                        fresh: false,
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
                let event_tx = event_tx.clone();
                let slots = iq_buffers + spec_buffers;
                let meta = &meta;
                move || match &cfg.sweep {
                    Some(plan) => {
                        let analysis = sweep::SweepAnalysis {
                            detector: SweepDetector::new(
                                cfg.detector,
                                &spec,
                                meta,
                                plan.clone(),
                                cfg.knowledge.clone(),
                            ),
                            ui: ui.map(|u| sweep::PanoramaTap::new(u, plan.clone())),
                        };
                        let done = detect_stage(
                            analysis,
                            spec,
                            spec_rx,
                            spec_pool_tx,
                            event_tx,
                            progress,
                            slots,
                            &counters,
                        );
                        Some(done.stats())
                    }
                    None => {
                        let mut detector = Detector::new(cfg.detector, &spec, meta)
                            .with_knowledge(cfg.knowledge.clone());
                        if cfg.learn {
                            detector.start_learning();
                        }
                        let fixed = FixedTune {
                            detector,
                            ui: ui.map(UiDecimator::new),
                        };
                        detect_stage(
                            fixed,
                            spec,
                            spec_rx,
                            spec_pool_tx,
                            event_tx,
                            progress,
                            slots,
                            &counters,
                        );
                        None
                    }
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
            // The log first: a line is on disk before anyone downstream sees the alert.
            if let (Some(log), Event::Alert(a)) = (cfg.alert_log.as_ref(), &ev) {
                if let Err(e) = log.write(a) {
                    caller_err = Some(Error::AlertSink(e));
                    stop.store(true, Relaxed);
                    continue;
                }
            }
            // A session log that cannot be written makes the session worthless: stop.
            if let (Some(log), Event::Alert(a)) = (cfg.session_log.as_ref(), &ev) {
                if let Err(e) = log.alert(a) {
                    caller_err = Some(Error::AlertSink(e));
                    stop.store(true, Relaxed);
                    continue;
                }
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
        let swept = det.join().map_err(|_| Error::StagePanicked("detect"))?;
        if let Some(e) = caller_err {
            return Err(e);
        }
        Ok((src_result?, non_finite, swept))
    });
    // The workers are gone (and with them the blocks): the evidence thread writes what it holds
    // and closes every clip, whether the run ended well or not.
    let evidence = evidence.map(evidence::Evidence::finish).transpose()?;
    let (end, non_finite, sweep) = ran?;
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
        recording: None,
        federation: None,
        sweep,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::WindowKind;
    use crate::source::synth::{EmitterKind, EmitterSpec, Scene, SynthSource};
    use crate::units::Hz;

    fn carrier() -> Box<dyn IqSource> {
        let scene = Scene {
            sample_rate_hz: Hz(1e6),
            center_freq_hz: Hz(100e6),
            duration_s: 1.0,
            noise_dbfs: -50.0,
            seed: 1,
            description: String::new(),
            emitters: vec![EmitterSpec::new(EmitterKind::Cw, 250e3, 30.0)],
        };
        Box::new(SynthSource::new(&scene).unwrap())
    }

    fn config() -> PipelineConfig {
        let mut cfg = PipelineConfig::new(SpectrumConfig::new(1024, 50, 10, WindowKind::Hann));
        cfg.block_samples = 1 << 14;
        cfg
    }

    /// The display tap through the real pipeline threads: frames arrive in stream order
    /// with a carrier in the right bin, and a console that never reads them does not hold
    /// up the DSP.
    #[test]
    fn display_frames_in_stream_order_and_an_unread_console_never_blocks() {
        let stop = Arc::new(AtomicBool::new(false));
        let running = start(carrier(), config(), stop.clone(), Some(Duration::ZERO)).unwrap();
        let frames_rx = running.frames().unwrap().clone();
        let mut frames: Vec<UiFrame> = Vec::new();
        loop {
            frames.extend(frames_rx.try_iter());
            match running.events().recv_timeout(Duration::from_millis(1)) {
                Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
                _ => continue,
            }
        }
        let stats = running.finish().unwrap();
        frames.extend(frames_rx.try_iter());
        assert_eq!(stats.samples, 1_000_000);
        assert!(!frames.is_empty());
        for w in frames.windows(2) {
            assert!(w[0].end <= w[1].start, "stream order");
        }
        let last = frames.last().unwrap();
        assert_eq!(last.power_db.len(), 1024);
        assert_eq!(last.floor_db.len(), 1024);
        assert!(last.threshold_over_floor_db > 0.0);
        let peak = (0..1024)
            .max_by(|&a, &b| last.power_db[a].total_cmp(&last.power_db[b]))
            .unwrap();
        assert_eq!(peak, 512 + 256, "carrier at +250 kHz");

        // Nobody reads the frames: the run still completes, nothing dropped.
        let running = start(carrier(), config(), stop, Some(Duration::ZERO)).unwrap();
        for _ in running.events().iter() {}
        let blocked = running.finish().unwrap();
        assert_eq!(blocked.samples, 1_000_000);
        assert_eq!(blocked.dropped, 0);
    }

    /// Holds every read until released, so a test can act before the first sample.
    struct Gate {
        inner: Box<dyn IqSource>,
        open: crossbeam_channel::Receiver<()>,
        opened: bool,
    }

    impl IqSource for Gate {
        fn meta(&self) -> &crate::types::StreamMeta {
            self.inner.meta()
        }
        fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
            if !self.opened {
                // Disconnected counts as open too: the test is over either way.
                let _ = self.open.recv();
                self.opened = true;
            }
            self.inner.read(buf)
        }
    }

    /// A mark made on the console reaches the detect stage through the real threads (the
    /// marked carrier raises nothing, the other one does), the known-emitters file and
    /// the alert log.
    #[test]
    fn a_marked_emitter_reaches_the_detector_the_file_and_the_log() {
        let scene = Scene {
            sample_rate_hz: Hz(1e6),
            center_freq_hz: Hz(100e6),
            duration_s: 1.0,
            noise_dbfs: -50.0,
            seed: 1,
            description: String::new(),
            emitters: vec![
                EmitterSpec::new(EmitterKind::Cw, 250e3, 30.0),
                EmitterSpec::new(EmitterKind::Cw, -250e3, 30.0),
            ],
        };
        let (go, open) = crossbeam_channel::bounded::<()>(1);
        let source = Gate {
            inner: Box::new(SynthSource::new(&scene).unwrap()),
            open,
            opened: false,
        };
        let dir = tempfile::tempdir().unwrap();
        let (known, log) = (dir.path().join("known.toml"), dir.path().join("a.jsonl"));
        let mut cfg = config();
        cfg.knowledge = Some(Arc::new(Prior::default()));
        cfg.known_file = Some(known.clone());
        cfg.alert_log = Some(SharedLog::open(&log).unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let running = start(Box::new(source), cfg, stop, Some(Duration::ZERO)).unwrap();
        let entry = KnownEntry {
            freq_hz: 100.25e6,
            bandwidth_hz: 2_000.0,
            label: Some("beacon".into()),
            note: None,
            power_dbfs: None,
            always_on: false,
        };
        // The alert the operator had selected (from an earlier loop of the capture).
        let earlier = Alert {
            id: 9,
            kind: crate::alert::AlertKind::NewEmitter,
            state: crate::alert::AlertState::Cleared,
            severity: crate::alert::Severity::Warning,
            first_seen_s: 0.1,
            last_seen_s: 0.9,
            freq_hz: 100.25e6,
            bandwidth_hz: 2_000.0,
            power_dbfs: -20.0,
            snr_db: 30.0,
            band: None,
            evidence: None,
            activity: None,
        };
        let marked = running.mark_known(&earlier, &entry, "2026-01-01T00:00:00.000Z");
        go.send(()).unwrap();
        let marked = marked.unwrap();
        assert!(marked.detector && marked.logged);
        assert_eq!(marked.saved.unwrap().unwrap(), known);
        let raised: Vec<Alert> = running
            .events()
            .iter()
            .filter_map(|e| match e {
                Event::Alert(a) if a.state == crate::alert::AlertState::Raised => Some(a),
                _ => None,
            })
            .collect();
        running.finish().unwrap();
        assert_eq!(raised.len(), 1, "{raised:?}");
        assert!((raised[0].freq_hz - 99.75e6).abs() < 2e3, "{raised:?}");
        assert_eq!(
            crate::formats::known::load(&known, false).unwrap(),
            vec![entry]
        );
        let logged = std::fs::read_to_string(&log).unwrap();
        let first: serde_json::Value =
            serde_json::from_str(logged.lines().next().unwrap()).unwrap();
        assert_eq!(first["id"], 9);
        assert_eq!(first["marked_known"], true);
        assert_eq!(first["known_file"], known.display().to_string());
    }

    /// Alerts reach the alert log before the caller, each as one line, and finishing a run
    /// nobody drains does not hang.
    #[test]
    fn the_alert_log_holds_what_the_caller_saw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alerts.jsonl");
        let mut cfg = config();
        cfg.alert_log = Some(SharedLog::open(&path).unwrap());
        let stop = Arc::new(AtomicBool::new(false));
        let running = start(carrier(), cfg.clone(), stop.clone(), None).unwrap();
        let seen: Vec<Alert> = running
            .events()
            .iter()
            .filter_map(|e| match e {
                Event::Alert(a) => Some(a),
                Event::Learned(_) => None,
            })
            .collect();
        running.finish().unwrap();
        assert!(!seen.is_empty());
        let logged: Vec<Alert> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(logged, seen);

        let undrained = start(carrier(), cfg, stop, None).unwrap();
        assert_eq!(undrained.finish().unwrap().samples, 1_000_000);
    }
}
