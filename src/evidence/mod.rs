//! Evidence capture: alert-triggered IQ clips with a pre-trigger buffer.
//!
//! ```text
//!  framer ──IqBlock──▶ [dsp workers] ──SpectrumBatch──▶ [detect] ──Alert, Progress──┐
//!    ▲                     │ the transformed block's buffer                         │
//!    │                     ▼                                                        ▼
//!    │            [evidence thread] ◀──────── Open / Extend / Annotate / Seal ─── Planner
//!    │             Sequencer → ring of recent blocks ──▶ clips (SWMR HDF5)   (calling thread)
//!    └──── buffers no clip can need any more, back to the pool
//! ```
//!
//! The [`Planner`] runs on the pipeline's calling thread, where alerts arrive in order
//! with the detector's progress. It decides, from stream time alone, which alert opens a
//! clip, which joins the clip already open (overlapping triggers extend one file) and
//! how far each clip reaches: `pre` before the alert was first seen to `post` after it was
//! last seen, at most `max` long. Because those decisions depend on nothing but the
//! stream, a replay cuts the same clips as the live run did, and the alert's JSON line
//! can name its evidence file at once.
//!
//! On a live stream the ring is made of the pipeline's own IQ buffers (the pool grows
//! once at start by the ring's share), so no sample is copied for the pre-trigger. A live
//! source never waits: when the evidence thread is behind, blocks go back to the pool
//! unseen and the clip shows a gap. A recording needs no ring: the evidence thread reads
//! each clip back from the file once the planner has opened it (see [`reread`]), and a
//! source that cannot be read again (a paced replay that seeks and loops) uses the ring,
//! waiting for a free buffer, so no clip ever misses a sample.

mod engine;
mod reread;
mod store;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{bounded, Receiver, Sender};
use num_complex::Complex32;

pub use engine::EvidenceSummary;
pub(crate) use engine::Frame;
use engine::{Cmd, Engine, Sequencer};
pub(crate) use reread::ReadAt;
use reread::Reread;
pub(crate) use store::ClipSample;
use store::Hdf5Store;

use crate::alert::{Alert, AlertKind, AlertState, Severity};
use crate::capture::{Annotation, SampleFormat};
use crate::error::{Error, Result};
use crate::types::StreamMeta;

/// How far before the detector's position an alert may have been first seen and still
/// get its whole pre-trigger: hoppers and confirmed bursts are raised well within this.
pub const LOOKBACK_S: f64 = 1.0;

/// Margin on the tracker's hold time: an alert clears on the first spectrum past it.
const HOLD_MARGIN_S: f64 = 0.1;

/// What triggers evidence and how much of it to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceConfig {
    /// Directory the clips go to.
    pub dir: PathBuf,
    /// Seconds kept before an alert was first seen.
    pub pre_s: f64,
    /// Seconds kept after an alert was last updated.
    pub post_s: f64,
    /// Longest clip, seconds.
    pub max_s: f64,
    /// Alert kinds that trigger.
    pub kinds: Vec<AlertKind>,
    /// Least severity that triggers.
    pub min_severity: Severity,
    /// Bytes of evidence the directory may hold; the oldest is deleted first.
    pub quota_bytes: Option<u64>,
}

impl EvidenceConfig {
    /// Kinds that trigger unless told otherwise: what is on the air, not the receiver's
    /// own health.
    pub const DEFAULT_KINDS: [AlertKind; 5] = [
        AlertKind::NewEmitter,
        AlertKind::Hopping,
        AlertKind::Jamming,
        AlertKind::Watchlist,
        AlertKind::PowerChange,
    ];

    /// The defaults: 2 s before, 5 s after, at most 5 min, warnings and up, no quota.
    pub fn new(dir: PathBuf) -> Self {
        EvidenceConfig {
            dir,
            pre_s: 2.0,
            post_s: 5.0,
            max_s: 300.0,
            kinds: Self::DEFAULT_KINDS.to_vec(),
            min_severity: Severity::Warning,
            quota_bytes: None,
        }
    }

    /// True when `a` starts or joins a clip.
    pub fn triggers(&self, a: &Alert) -> bool {
        self.kinds.contains(&a.kind) && a.severity >= self.min_severity
    }

    /// Checks the figures.
    ///
    /// # Errors
    /// A message naming the flag.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !ok(self.pre_s) {
            return Err(format!("--evidence-pre must be ≥ 0 s, got {}", self.pre_s));
        }
        if !ok(self.post_s) {
            return Err(format!(
                "--evidence-post must be ≥ 0 s, got {}",
                self.post_s
            ));
        }
        if !(self.max_s.is_finite() && self.max_s > 0.0) {
            return Err(format!("--evidence-max must be > 0 s, got {}", self.max_s));
        }
        if self.kinds.is_empty() {
            return Err("--evidence-kinds names no alert kind".into());
        }
        Ok(())
    }
}

/// Decides the clips, on the thread that receives the pipeline's events.
pub(crate) struct Planner {
    rate: f64,
    pre: u64,
    post: u64,
    max: u64,
    lookback: u64,
    /// How long an alert stays active after its last sighting (the tracker's hold time,
    /// with a frame of margin).
    hold: u64,
    cfg: EvidenceConfig,
    utc0: Option<chrono::DateTime<chrono::Utc>>,
    progress: u64,
    next_clip: u64,
    /// Clips that alerts may still join or extend.
    clips: Vec<PlannedClip>,
    alerts: HashMap<u64, Link>,
    names: HashSet<PathBuf>,
}

struct PlannedClip {
    id: u64,
    start: u64,
    end: u64,
    rows: u64,
    path: Arc<str>,
    /// Alerts in the clip not yet cleared.
    active: u32,
}

impl PlannedClip {
    fn hard_end(&self, max: u64) -> u64 {
        self.start + max
    }
}

struct Link {
    clip: u64,
    row: u64,
    path: Arc<str>,
}

impl Planner {
    fn new(cfg: EvidenceConfig, meta: &StreamMeta, hold_s: f64) -> Self {
        let utc0 = stream_utc0(meta);
        Planner {
            rate: meta.sample_rate_hz,
            pre: meta.index_at(cfg.pre_s),
            post: meta.index_at(cfg.post_s),
            max: meta.index_at(cfg.max_s).max(1),
            lookback: meta.index_at(LOOKBACK_S),
            hold: meta.index_at(hold_s + HOLD_MARGIN_S),
            cfg,
            utc0,
            progress: 0,
            next_clip: 0,
            clips: Vec::new(),
            alerts: HashMap::new(),
            names: HashSet::new(),
        }
    }

    /// Samples the engine must keep behind the detector's progress for clips not yet
    /// opened.
    fn keep(&self) -> u64 {
        self.pre + self.lookback
    }

    /// Samples behind the detector's progress that an open clip may still need: the
    /// pre-trigger of clips to come, or the hold time of an active alert.
    fn reach(&self) -> u64 {
        self.keep().max(self.hold)
    }

    /// The detector has analysed up to `p`.
    ///
    /// An alert updates only every few seconds, so a clip cannot wait for the next
    /// update to learn that its alert goes on. While an alert is active its clip
    /// reaches at least `p − hold + post`: an alert not cleared at `p` was last seen after
    /// `p − hold`, so this never passes the end its last sighting will give, and the
    /// clip's final end stays `post` after that sighting, whatever the block timing.
    fn progress(&mut self, p: u64, send: &mut dyn FnMut(Cmd)) {
        self.progress = self.progress.max(p);
        let release = self.progress.saturating_sub(self.keep());
        let floor = self.progress.saturating_sub(self.hold) + self.post;
        let max = self.max;
        self.clips.retain_mut(|c| {
            let hard_end = c.hard_end(max);
            if c.active > 0 && floor.min(hard_end) > c.end {
                c.end = floor.min(hard_end);
                send(Cmd::Extend {
                    clip: c.id,
                    end: c.end,
                });
            }
            let done = (c.active == 0 || c.end >= hard_end) && c.end <= release;
            if done {
                send(Cmd::Seal { clip: c.id });
            }
            !done
        });
        send(Cmd::Progress(p));
    }

    /// Files `a` into a clip when it triggers (or belongs to one), and names the clip in
    /// `a.evidence`.
    fn alert(&mut self, a: &mut Alert, send: &mut dyn FnMut(Cmd)) {
        let idx = |s: f64| (s * self.rate).round().max(0.0) as u64;
        let (first, last) = (idx(a.first_seen_s), idx(a.last_seen_s.max(a.first_seen_s)));
        let ann = Annotation {
            start_sample: first,
            length: (last - first).max(1),
            freq_lo_hz: a.freq_hz - a.bandwidth_hz / 2.0,
            freq_hi_hz: a.freq_hz + a.bandwidth_hz / 2.0,
            label: format!(
                "{} {} #{}",
                a.kind.as_str(),
                severity_name(a.severity),
                a.id
            ),
            source: "kuzet/alert".into(),
        };
        let cleared = a.state == AlertState::Cleared;
        if let Some(link) = self.alerts.get(&a.id) {
            a.evidence = Some(link.path.clone());
            let (clip, row) = (link.clip, link.row);
            if cleared {
                self.alerts.remove(&a.id);
            }
            if let Some(c) = self.clips.iter_mut().find(|c| c.id == clip) {
                let end = (last + self.post).min(c.hard_end(self.max));
                if end > c.end {
                    c.end = end;
                    send(Cmd::Extend { clip, end });
                }
                if cleared {
                    c.active -= 1;
                }
                send(Cmd::Annotate { clip, row, ann });
            }
            return;
        }
        if cleared || !self.cfg.triggers(a) {
            return;
        }
        // An alert raised long after it was first seen gets what the ring still holds.
        let start = first
            .saturating_sub(self.pre)
            .max(self.progress.saturating_sub(self.keep()));
        let joins = self.clips.last().is_some_and(|c| start <= c.end);
        let (clip, row, path) = match self.clips.last_mut() {
            Some(c) if joins => {
                let row = c.rows;
                c.rows += 1;
                c.active += 1;
                let end = (last + self.post).min(c.hard_end(self.max));
                if end > c.end {
                    c.end = end;
                    send(Cmd::Extend { clip: c.id, end });
                }
                (c.id, row, c.path.clone())
            }
            _ => {
                let clip = self.next_clip;
                self.next_clip += 1;
                let path = self.name(first, a.kind);
                let end = (last + self.post).min(start + self.max).max(start + 1);
                self.clips.push(PlannedClip {
                    id: clip,
                    start,
                    end,
                    rows: 1,
                    path: path.clone(),
                    active: 1,
                });
                send(Cmd::Open {
                    clip,
                    path: PathBuf::from(&*path),
                    start,
                    end,
                    trigger: a.kind,
                });
                (clip, 0, path)
            }
        };
        self.alerts.insert(
            a.id,
            Link {
                clip,
                row,
                path: path.clone(),
            },
        );
        a.evidence = Some(path);
        send(Cmd::Annotate { clip, row, ann });
    }

    /// `<dir>/<UTC of the alert's first sighting>-<kind>.h5`, made unique.
    fn name(&mut self, first: u64, kind: AlertKind) -> Arc<str> {
        let at = self.utc0.map_or_else(chrono::Utc::now, |t| {
            t + chrono::Duration::nanoseconds((first as f64 / self.rate * 1e9).round() as i64)
        });
        let stem = format!("{}-{}", at.format("%Y%m%dT%H%M%S%.3fZ"), kind.as_str());
        let mut path = self.cfg.dir.join(format!("{stem}.h5"));
        let mut n = 2;
        while self.names.contains(&path) || path.exists() {
            path = self.cfg.dir.join(format!("{stem}-{n}.h5"));
            n += 1;
        }
        self.names.insert(path.clone());
        Arc::from(path.to_string_lossy().as_ref())
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// The running evidence recorder, held by the pipeline's calling thread.
pub(crate) struct Evidence {
    planner: Planner,
    ctl: Option<Sender<Cmd>>,
    handle: Option<JoinHandle<EvidenceSummary>>,
    dropped: Arc<AtomicU64>,
}

impl Evidence {
    /// The detector has analysed the stream up to `p`.
    pub fn on_progress(&mut self, p: u64) {
        let ctl = &mut self.ctl;
        self.planner.progress(p, &mut |c| send(ctl, c));
    }

    /// Files an alert (and names its evidence in `a.evidence`).
    pub fn on_alert(&mut self, a: &mut Alert) {
        let ctl = &mut self.ctl;
        self.planner.alert(a, &mut |c| send(ctl, c));
    }

    /// Waits for the evidence thread to write what it holds and close every clip. The
    /// workers (sending blocks) must be gone first.
    ///
    /// # Errors
    /// [`Error::StagePanicked`] when the evidence thread panicked.
    pub fn finish(mut self) -> Result<EvidenceSummary> {
        self.ctl = None;
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

fn send(ctl: &mut Option<Sender<Cmd>>, c: Cmd) {
    if let Some(tx) = ctl.as_ref() {
        if tx.send(c).is_err() {
            // The evidence thread has gone (it said why); the run goes on without it.
            *ctl = None;
        }
    }
}

/// UTC time of the stream's sample 0, when the source knows it.
fn stream_utc0(meta: &StreamMeta) -> Option<chrono::DateTime<chrono::Utc>> {
    meta.start_time_utc
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
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
    pub fn new(
        cfg: &EvidenceConfig,
        meta: &StreamMeta,
        blocks: Blocks,
        hold_s: f64,
        reread: Option<ReadAt<T>>,
    ) -> Self {
        let planner = Planner::new(cfg.clone(), meta, hold_s);
        let progress_step = meta.index_at(0.1).max(fresh(blocks));
        let behind = planner.reach() + progress_step + POLL_SLACK_SAMPLES;
        Plan {
            cfg: cfg.clone(),
            planner,
            blocks,
            progress_step,
            ring_buffers: match reread {
                Some(_) => 0,
                None => behind.div_ceil(fresh(blocks)) as usize + 4,
            },
            reread,
        }
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
        cfg.validate().map_err(Error::Config)?;
        let bytes = (ring_buffers * blocks.block_len * std::mem::size_of::<T>()) as u64;
        if let Some(avail) = available_memory() {
            if bytes > avail / 2 {
                return Err(Error::Config(format!(
                    "--evidence-pre {} s at {} needs a pre-trigger buffer of {} MB; only {} \
                     MB of memory is available",
                    cfg.pre_s,
                    crate::units::format_rate(meta.sample_rate_hz),
                    bytes >> 20,
                    avail >> 20
                )));
            }
        }
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
        type Body = Box<dyn FnOnce() -> EvidenceSummary + Send>;
        let (body, frames): (Body, _) = match reread {
            Some(read) => {
                let reread = Reread::new(read, fresh(blocks) as usize, meta.total_samples);
                // Nothing is kept behind the detector and no block comes in: the file
                // has it all.
                let engine = Engine::new(store, 0, 0, 0, None, Box::new(drop)).rereading(reread);
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
                );
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
                ctl: Some(ctl_tx),
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

#[cfg(test)]
mod tests {
    use super::engine::tests::{at, block, engine};
    use super::*;

    fn meta() -> StreamMeta {
        StreamMeta {
            sample_rate_hz: 1000.0,
            center_freq_hz: 100e6,
            start_time_utc: Some("2026-11-25T01:00:00Z".into()),
            gain_db: None,
            device: "test".into(),
            description: String::new(),
            origin: "test".into(),
            total_samples: None,
            live: false,
        }
    }

    fn alert(id: u64, kind: AlertKind, state: AlertState, first: f64, last: f64) -> Alert {
        Alert {
            id,
            kind,
            state,
            severity: Severity::Critical,
            first_seen_s: first,
            last_seen_s: last,
            freq_hz: 100e6,
            bandwidth_hz: 1e3,
            power_dbfs: -40.0,
            snr_db: 20.0,
            band: None,
            evidence: None,
            activity: None,
        }
    }

    /// A planner at 1 kS/s: 2 s before, 5 s after, 1 s look-back, at most 60 s.
    fn planner(dir: &Path) -> Planner {
        let mut cfg = EvidenceConfig::new(dir.to_path_buf());
        cfg.max_s = 60.0;
        Planner::new(cfg, &meta(), 3.0)
    }

    fn run(p: &mut Planner, a: &mut Alert) -> Vec<Cmd> {
        let mut cmds = Vec::new();
        p.alert(a, &mut |c| cmds.push(c));
        cmds
    }

    use std::path::Path;

    #[test]
    fn overlapping_triggers_extend_one_clip() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = planner(dir.path());
        let mut a = alert(1, AlertKind::NewEmitter, AlertState::Raised, 10.0, 10.5);
        let cmds = run(&mut p, &mut a);
        let Cmd::Open {
            start, end, path, ..
        } = &cmds[0]
        else {
            panic!("{cmds:?}")
        };
        assert_eq!((*start, *end), (8_000, 15_500));
        assert_eq!(
            path.file_name().unwrap().to_string_lossy(),
            "20261125T010010.000Z-new_emitter.h5",
            "named by the UTC time the alert was first seen"
        );
        let first_path = a.evidence.clone().unwrap();
        assert!(matches!(cmds[1], Cmd::Annotate { row: 0, .. }));
        // Starts 2 s before 14 s = 12 s, inside the clip (ends 15.5 s): joins it.
        let mut b = alert(2, AlertKind::Hopping, AlertState::Raised, 14.0, 14.2);
        let cmds = run(&mut p, &mut b);
        assert_eq!(
            cmds[..2],
            [
                Cmd::Extend {
                    clip: 0,
                    end: 19_200
                },
                Cmd::Annotate {
                    clip: 0,
                    row: 1,
                    ann: Annotation {
                        start_sample: 14_000,
                        length: 200,
                        freq_lo_hz: 100e6 - 500.0,
                        freq_hi_hz: 100e6 + 500.0,
                        label: "hopping critical #2".into(),
                        source: "kuzet/alert".into(),
                    }
                }
            ]
        );
        assert_eq!(b.evidence, Some(first_path.clone()));
        // An update of the first alert extends the clip again; its row is rewritten.
        let mut a2 = alert(1, AlertKind::NewEmitter, AlertState::Updated, 10.0, 16.0);
        let cmds = run(&mut p, &mut a2);
        assert!(matches!(
            cmds[0],
            Cmd::Extend {
                clip: 0,
                end: 21_000
            }
        ));
        assert!(matches!(cmds[1], Cmd::Annotate { row: 0, .. }));
        assert_eq!(a2.evidence, Some(first_path));
    }

    #[test]
    fn separate_triggers_get_separate_files_and_the_cap_holds() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = planner(dir.path());
        run(
            &mut p,
            &mut alert(1, AlertKind::Jamming, AlertState::Raised, 10.0, 10.0),
        );
        // Hours of updates: the clip stops at 60 s.
        let cmds = run(
            &mut p,
            &mut alert(1, AlertKind::Jamming, AlertState::Updated, 10.0, 500.0),
        );
        assert!(
            matches!(cmds[0], Cmd::Extend { end: 68_000, .. }),
            "{cmds:?}"
        );
        let mut sent = Vec::new();
        p.progress(600_000, &mut |c| sent.push(c));
        let mut b = alert(2, AlertKind::Jamming, AlertState::Raised, 600.0, 600.0);
        let cmds = run(&mut p, &mut b);
        let Cmd::Open { clip, path, .. } = &cmds[0] else {
            panic!("{cmds:?}")
        };
        assert_eq!(*clip, 1);
        assert!(path
            .to_string_lossy()
            .ends_with("20261125T011000.000Z-jamming.h5"));
    }

    #[test]
    fn only_chosen_kinds_and_severities_trigger() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = planner(dir.path());
        let mut lost = alert(1, AlertKind::DeviceLost, AlertState::Raised, 1.0, 1.0);
        assert!(run(&mut p, &mut lost).is_empty());
        assert_eq!(lost.evidence, None);
        let mut quiet = alert(2, AlertKind::NewEmitter, AlertState::Raised, 1.0, 1.0);
        quiet.severity = Severity::Info;
        assert!(run(&mut p, &mut quiet).is_empty());
        let mut gone = alert(3, AlertKind::NewEmitter, AlertState::Cleared, 1.0, 1.0);
        assert!(
            run(&mut p, &mut gone).is_empty(),
            "a clear alone opens nothing"
        );
    }

    #[test]
    fn an_alert_raised_late_gets_what_the_ring_still_holds() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = planner(dir.path());
        p.progress(30_000, &mut |_| {});
        // First seen 20 s before the detector's position (e.g. a slow baseline verdict):
        // the clip starts at progress − pre − look-back, not at first − pre.
        let cmds = run(
            &mut p,
            &mut alert(1, AlertKind::PowerChange, AlertState::Raised, 10.0, 29.0),
        );
        assert!(
            matches!(cmds[0], Cmd::Open { start: 27_000, .. }),
            "{cmds:?}"
        );
    }

    #[test]
    fn planner_and_engine_cut_the_same_samples_whatever_the_block_timing() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = planner(dir.path());
        let (mut e, mem, _) = engine(250, p.keep(), None);
        let mut alerts = vec![
            (
                12_000,
                alert(1, AlertKind::Hopping, AlertState::Raised, 11.0, 11.9),
            ),
            (
                13_000,
                alert(1, AlertKind::Hopping, AlertState::Updated, 11.0, 12.8),
            ),
            // Cleared once quiet for the hold time, as the tracker does.
            (
                16_050,
                alert(1, AlertKind::Hopping, AlertState::Cleared, 11.0, 13.0),
            ),
        ]
        .into_iter()
        .peekable();
        // The framer runs up to a second ahead of the detector.
        let mut next_block = 0u64;
        for progress in (0..40_000u64).step_by(500) {
            while next_block < progress + 1_000 {
                e.ingest(block(next_block, 250));
                next_block += 250;
            }
            // As the detect stage sends them: a batch's alerts, then its progress.
            while let Some((_, a)) = alerts.next_if(|(at_p, _)| *at_p <= progress) {
                let mut a = a;
                p.alert(&mut a, &mut |c| e.control(c));
            }
            p.progress(progress, &mut |c| e.control(c));
        }
        e.finish();
        let clips = mem.0.lock().unwrap();
        assert_eq!(clips.len(), 1);
        let c = clips.values().next().unwrap();
        // 2 s before 11.0 s to 5 s after 13.0 s.
        assert_eq!(c.first, 9_000);
        assert_eq!(c.samples.len(), 9_000);
        assert!(c
            .samples
            .iter()
            .enumerate()
            .all(|(k, s)| *s == at(9_000 + k as u64)));
        assert_eq!(c.rows.len(), 1);
        assert_eq!((c.rows[0].start_sample, c.rows[0].length), (2_000, 2_000));
        assert!(c.finished);
    }
}
