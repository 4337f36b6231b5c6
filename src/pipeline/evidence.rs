//! The evidence thread and the workers' way into its ring: the running side of
//! [`crate::sinks::evidence`], whose planner decides the clips and whose engine cuts them.
//!
//! ```text
//!  framer ──IqBlock──▶ [dsp workers] ──SpectrumBatch──▶ [detect] ──Alert, Progress──┐
//!    ▲                     │ the transformed block's buffer                         │
//!    │                     ▼                                                        ▼
//!    │            [evidence thread] ◀──────── Open / Extend / Annotate / Seal ─── Planner
//!    │             Sequencer → ring of recent blocks ──▶ clips (SWMR HDF5)   (alerts stage)
//!    └──── buffers no clip can need any more, back to the pool
//! ```

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};
use num_complex::Complex32;

use crate::alert::Alert;
use crate::error::{Error, Result};
use crate::formats::SampleFormat;
use crate::sinks::evidence::engine::{ClipEvent, Cmd, Engine, Frame, Sequencer};
use crate::sinks::evidence::reread::{ReadAt, Reread};
use crate::sinks::evidence::store::{ClipSample, Hdf5Store};
use crate::sinks::evidence::{EvidenceConfig, EvidenceSummary, Planner, Port};
use crate::types::StreamMeta;

/// The running evidence recorder, held by the pipeline's alerts stage.
pub(crate) struct Evidence {
    planner: Planner,
    port: ThreadPort,
    handle: Option<JoinHandle<EvidenceSummary>>,
    dropped: Arc<AtomicU64>,
}

/// What the evidence thread has done with each clip: created (where) or failed.
#[derive(Default)]
struct ClipStatus {
    state: Mutex<StatusInner>,
    changed: Condvar,
}

#[derive(Default)]
struct StatusInner {
    opened: HashMap<u64, Option<PathBuf>>,
    failed: HashSet<u64>,
}

impl ClipStatus {
    fn report(&self, e: ClipEvent) {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        match e {
            ClipEvent::Opened { clip, path } => {
                s.opened.insert(clip, Some(path));
            }
            ClipEvent::Failed { clip } => {
                s.opened.entry(clip).or_insert(None);
                s.failed.insert(clip);
            }
        }
        self.changed.notify_all();
    }
}

/// The planner's port to the evidence thread.
struct ThreadPort {
    ctl: Option<Sender<Cmd>>,
    status: Arc<ClipStatus>,
}

/// How long the alerts stage waits for the evidence thread to create a clip before it
/// gives the alert no evidence: far longer than a file creation, short enough that a
/// stuck disk never holds the alerts up for long.
const OPEN_WAIT: Duration = Duration::from_secs(10);

impl Port for ThreadPort {
    fn send(&mut self, c: Cmd) {
        if let Some(tx) = self.ctl.as_ref() {
            if tx.send(c).is_err() {
                // The evidence thread has gone (it said why); the run goes on without it.
                self.ctl = None;
            }
        }
    }

    fn open(&mut self, c: Cmd) -> Option<PathBuf> {
        let Cmd::Open { clip, .. } = &c else {
            return None;
        };
        let clip = *clip;
        self.send(c);
        self.ctl.as_ref()?;
        let deadline = Instant::now() + OPEN_WAIT;
        let mut s = self
            .status
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(done) = s.opened.get(&clip) {
                return done.clone();
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            s = self
                .status
                .changed
                .wait_timeout(s, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn failed(&self, clip: u64) -> bool {
        self.status
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .failed
            .contains(&clip)
    }
}

impl Evidence {
    /// The detector has analysed the stream up to `p`.
    pub fn on_progress(&mut self, p: u64) {
        let port = &mut self.port;
        self.planner.progress(p, &mut |c| port.send(c));
    }

    /// Files an alert (and names its evidence in `a.evidence`).
    pub fn on_alert(&mut self, a: &mut Alert) {
        self.planner.alert(a, &mut self.port);
    }

    /// Waits for the evidence thread to write what it holds and close every clip. The
    /// workers (sending blocks) must be gone first.
    ///
    /// # Errors
    /// [`Error::StagePanicked`] when the evidence thread panicked.
    pub fn finish(mut self) -> Result<EvidenceSummary> {
        self.port.ctl = None;
        let mut s = self
            .handle
            .take()
            .map(|h| h.join().map_err(|_| Error::StagePanicked("evidence")))
            .transpose()?
            .unwrap_or_default();
        s.dropped = self.dropped.load(Relaxed);
        Ok(s)
    }
}

/// Bytes of memory the system can still give, from `/proc/meminfo`.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// How the pipeline cuts the stream: blocks of `block_len` samples, the first `history`
/// of each repeating the previous block's tail.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Blocks {
    pub block_len: usize,
    pub history: usize,
}

/// A started evidence recorder: the planner's side, and where workers send their blocks
/// (`None` when the clips are read back from the recording).
pub(crate) struct Started<T = Complex32> {
    pub evidence: Evidence,
    pub frames: Option<Frames<T>>,
}

/// The workers' way into the ring.
pub(crate) struct Frames<T = Complex32> {
    tx: Sender<Frame<T>>,
    /// A live source cannot wait: when the evidence thread is behind (a slow disk), a
    /// block goes straight back to the pool and the ring gets a marker in its place, so
    /// the radio's buffers never pile up in the evidence queue.
    live: bool,
    history: usize,
    dropped: Arc<AtomicU64>,
}

/// Blocks a live ring may have queued before it is counted as behind.
const LIVE_BACKLOG: usize = 2;

// Derived `Clone` would ask `T: Clone` of the samples; only the handles are cloned.
impl<T> Clone for Frames<T> {
    fn clone(&self) -> Self {
        Frames {
            tx: self.tx.clone(),
            live: self.live,
            history: self.history,
            dropped: self.dropped.clone(),
        }
    }
}

impl<T> Frames<T> {
    /// Hands a transformed block to the ring; gives the buffer back when the ring does
    /// not take it (the evidence thread has gone, or a live ring is behind).
    pub fn send(&self, f: Frame<T>) -> Option<Vec<T>> {
        if self.live && self.tx.len() > LIVE_BACKLOG {
            let marker = Frame {
                seq: f.seq,
                start: f.start,
                len: 0,
                buf: Vec::new(),
            };
            self.dropped
                .fetch_add(f.len.saturating_sub(self.history) as u64, Relaxed);
            // The marker keeps the sequence whole; it holds no buffer, and the queue has
            // room for thousands of them.
            let _ = self.tx.send(marker);
            return Some(f.buf);
        }
        self.tx.send(f).err().map(|e| e.into_inner().buf)
    }
}

/// New samples per pipeline block.
fn fresh(blocks: Blocks) -> u64 {
    blocks.block_len.saturating_sub(blocks.history).max(1) as u64
}

/// Blocks that may arrive while the evidence thread sleeps between polls: enough for a
/// gigasample per second.
const POLL_SLACK_SAMPLES: u64 = 1 << 20;

/// How long the evidence thread sleeps when it found nothing to do. It polls rather than
/// blocks: a wake-up per block and per progress report cost a fifth of the pipeline's
/// throughput on two cores.
const POLL: std::time::Duration = std::time::Duration::from_millis(1);

/// Evidence for one run, sized before the pipeline makes its pools.
pub(crate) struct Plan<T> {
    cfg: EvidenceConfig,
    planner: Planner,
    blocks: Blocks,
    /// How far the detector moves between the progress reports the planner and the ring
    /// act on: a tenth of a second of stream, and at least a block.
    pub progress_step: u64,
    /// IQ buffers the ring adds to the pipeline's pool: `reach` of new samples behind the
    /// detector, plus what arrives between two progress reports and between two polls,
    /// the blocks between the detector and the framer, the sequencer's held one and a
    /// margin; 0 when the clips are read back from the recording.
    pub ring_buffers: usize,
    /// Where the clips are read back from, for a recording that can be read again.
    reread: Option<ReadAt<T>>,
}

impl<T: ClipSample> Plan<T> {
    /// Sizes evidence for a stream described by `meta`, cut by the pipeline into
    /// `blocks`, whose tracker holds alerts `hold_s` after their last sighting. With
    /// `reread` the clips are read back through it from the recording, and there is no
    /// ring.
    ///
    /// # Errors
    /// [`Error::Invalid`] (`pre_s`) when the ring would take more than a quarter of the
    /// memory the system can still give: checked here, before any buffer is made.
    pub fn new(
        cfg: &EvidenceConfig,
        meta: &StreamMeta,
        blocks: Blocks,
        hold_s: f64,
        reread: Option<ReadAt<T>>,
    ) -> Result<Self> {
        let planner = Planner::new(cfg.clone(), meta, hold_s);
        let progress_step = meta.index_at(0.1).max(fresh(blocks));
        let behind = planner
            .reach()
            .saturating_add(progress_step)
            .saturating_add(POLL_SLACK_SAMPLES);
        let ring_buffers = match reread {
            Some(_) => 0,
            None => behind.div_ceil(fresh(blocks)).saturating_add(4),
        };
        let bytes = ring_buffers
            .saturating_mul(blocks.block_len as u64)
            .saturating_mul(std::mem::size_of::<T>() as u64);
        // A monitoring post must not starve the machine it runs on for a pre-trigger.
        let budget = available_memory().unwrap_or(u64::MAX) / 4;
        if ring_buffers > 0 && bytes > budget {
            return Err(Error::invalid(
                "pre_s",
                format!(
                    "{} s at {} needs a pre-trigger buffer of {} MB; at most {} MB (a quarter \
                     of the memory available) may hold it",
                    cfg.pre_s,
                    crate::units::format_rate(meta.sample_rate_hz),
                    bytes >> 20,
                    budget >> 20
                ),
            ));
        }
        Ok(Plan {
            cfg: cfg.clone(),
            planner,
            blocks,
            progress_step,
            ring_buffers: ring_buffers as usize,
            reread,
        })
    }

    /// Starts the evidence thread. With the plan's `reread`, the thread reads each clip
    /// back from the recording. Otherwise the ring holds the pipeline's own IQ buffers (no
    /// sample is copied): workers send each block here instead of back to the pool, and
    /// the ring returns it to `pool` when nobody can need it any more. `in_flight` is the
    /// number of buffers the pipeline has without the ring; clips are written in
    /// `format`, the blocks' own.
    ///
    /// # Errors
    /// [`Error::Config`] for bad figures or a pre-trigger buffer that does not fit in
    /// memory; [`Error::Io`] when the directory cannot be made or the thread cannot start.
    pub fn start(
        self,
        meta: &StreamMeta,
        in_flight: usize,
        pool: Sender<Vec<T>>,
        format: SampleFormat,
    ) -> Result<Started<T>> {
        let Plan {
            cfg,
            planner,
            blocks,
            ring_buffers,
            reread,
            ..
        } = self;
        cfg.validate()?;
        std::fs::create_dir_all(&cfg.dir).map_err(|source| Error::Io {
            path: cfg.dir.clone(),
            source,
        })?;
        let store = Hdf5Store::new(
            cfg.dir.clone(),
            meta.clone(),
            format,
            planner.utc0,
            cfg.quota_bytes,
        );
        let (ctl_tx, ctl_rx) = bounded::<Cmd>(4096);
        let dropped = Arc::new(AtomicU64::new(0));
        let status = Arc::new(ClipStatus::default());
        let report: Box<dyn FnMut(ClipEvent) + Send> = Box::new({
            let status = status.clone();
            move |e| status.report(e)
        });
        type Body = Box<dyn FnOnce() -> EvidenceSummary + Send>;
        let (body, frames): (Body, _) = match reread {
            Some(read) => {
                let reread = Reread::new(read, fresh(blocks) as usize, meta.total_samples);
                // Nothing is kept behind the detector and no block comes in: the file
                // has it all.
                let engine = Engine::new(store, 0, 0, 0, None, Box::new(drop))
                    .rereading(reread)
                    .reporting(report);
                (Box::new(move || run_rereading(engine, &ctl_rx)), None)
            }
            None => {
                let total = in_flight + ring_buffers;
                // No more than `total` buffers exist; live markers (no buffer) get room on
                // top.
                let (frames_tx, frames_rx) = bounded::<Frame<T>>(total + 4096);
                let recycle = Box::new(move |b: Vec<T>| {
                    // A live marker's empty vector is not a buffer.
                    if b.capacity() > 0 {
                        let _ = pool.try_send(b);
                    }
                });
                // A live source cannot wait: the ring never takes the framer's own share.
                let hold_max = meta.live.then_some(ring_buffers);
                let engine = Engine::new(
                    store,
                    total,
                    blocks.block_len,
                    planner.keep(),
                    hold_max,
                    recycle,
                )
                .reporting(report);
                let frames = Frames {
                    tx: frames_tx,
                    live: meta.live,
                    history: blocks.history,
                    dropped: dropped.clone(),
                };
                let body = move || run(engine, Sequencer::new(total), &ctl_rx, &frames_rx);
                (Box::new(body), Some(frames))
            }
        };
        let handle = thread::Builder::new()
            .name("evidence".into())
            .spawn(body)
            .map_err(|source| Error::Io {
                path: PathBuf::from("<evidence thread>"),
                source,
            })?;
        Ok(Started {
            evidence: Evidence {
                planner,
                port: ThreadPort {
                    ctl: Some(ctl_tx),
                    status,
                },
                handle: Some(handle),
                dropped,
            },
            frames,
        })
    }
}

/// The evidence thread reading clips back from the recording. Commands come every tenth
/// of a second of stream and per alert, and there are no blocks to poll for: it blocks.
fn run_rereading<T: ClipSample>(
    mut engine: Engine<Hdf5Store, T>,
    ctl: &Receiver<Cmd>,
) -> EvidenceSummary {
    for cmd in ctl.iter() {
        engine.control(cmd);
    }
    engine.finish()
}

fn run<T: ClipSample>(
    mut engine: Engine<Hdf5Store, T>,
    mut seq: Sequencer<T>,
    ctl: &Receiver<Cmd>,
    frames: &Receiver<Frame<T>>,
) -> EvidenceSummary {
    use crossbeam_channel::TryRecvError;
    let (mut ctl_open, mut frames_open) = (true, true);
    while ctl_open || frames_open {
        let mut idle = true;
        while ctl_open {
            match ctl.try_recv() {
                Ok(cmd) => {
                    engine.control(cmd);
                    idle = false;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => ctl_open = false,
            }
        }
        while frames_open {
            match frames.try_recv() {
                Ok(frame) => {
                    seq.put(frame, &mut |b| engine.ingest(b));
                    idle = false;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    frames_open = false;
                    seq.finish(&mut |b| engine.ingest(b));
                }
            }
        }
        if idle {
            thread::sleep(POLL);
        }
    }
    engine.finish()
}
