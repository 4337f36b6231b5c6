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
//! The `Planner` runs on the pipeline's alerts stage, where alerts arrive in order
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
//! each clip back from the file once the planner has opened it (see `reread`), and a
//! source that cannot be read again (a paced replay that seeks and loops) uses the ring,
//! waiting for a free buffer, so no clip ever misses a sample.

pub(crate) mod engine;
pub(crate) mod reread;
pub(crate) mod store;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use engine::Cmd;
pub use engine::EvidenceSummary;
pub(crate) use engine::Frame;
pub(crate) use reread::ReadAt;
pub(crate) use store::ClipSample;

use crate::alert::{Alert, AlertKind, AlertState, Severity};
use crate::error::{Error, Result};
use crate::types::Annotation;
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
    pub fn validate(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v >= 0.0;
        if !ok(self.pre_s) {
            return Err(Error::invalid(
                "pre_s",
                format!("must be ≥ 0 s, got {}", self.pre_s),
            ));
        }
        if !ok(self.post_s) {
            return Err(Error::invalid(
                "post_s",
                format!("must be ≥ 0 s, got {}", self.post_s),
            ));
        }
        if !(self.max_s.is_finite() && self.max_s > 0.0) {
            return Err(Error::invalid(
                "max_s",
                format!("must be > 0 s, got {}", self.max_s),
            ));
        }
        if self.kinds.is_empty() {
            return Err(Error::invalid("kinds", "names no alert kind"));
        }
        Ok(())
    }
}

/// The planner's way to the engine, which runs on another thread in the pipeline (and
/// inline in tests).
pub(crate) trait Port {
    /// Hands a command to the engine.
    fn send(&mut self, c: Cmd);
    /// Hands an `Open` to the engine and waits until it has created the clip: the path
    /// it was created at, or `None` when it could not be (nothing to name).
    fn open(&mut self, c: Cmd) -> Option<PathBuf>;
    /// True once the clip has failed (it is no longer named).
    fn failed(&self, clip: u64) -> bool;
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
    pub(crate) utc0: Option<chrono::DateTime<chrono::Utc>>,
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
    pub(crate) fn new(cfg: EvidenceConfig, meta: &StreamMeta, hold_s: f64) -> Self {
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
    pub(crate) fn keep(&self) -> u64 {
        self.pre + self.lookback
    }

    /// Samples behind the detector's progress that an open clip may still need: the
    /// pre-trigger of clips to come, or the hold time of an active alert.
    pub(crate) fn reach(&self) -> u64 {
        self.keep().max(self.hold)
    }

    /// The detector has analysed up to `p`.
    ///
    /// An alert updates only every few seconds, so a clip cannot wait for the next
    /// update to learn that its alert goes on. While an alert is active its clip
    /// reaches at least `p − hold + post`: an alert not cleared at `p` was last seen after
    /// `p − hold`, so this never passes the end its last sighting will give, and the
    /// clip's final end stays `post` after that sighting, whatever the block timing.
    pub(crate) fn progress(&mut self, p: u64, send: &mut dyn FnMut(Cmd)) {
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
    /// `a.evidence` once it exists and for as long as it has not failed.
    pub(crate) fn alert(&mut self, a: &mut Alert, port: &mut dyn Port) {
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
            let (clip, row) = (link.clip, link.row);
            // A clip that stopped on a full disk is no evidence of what comes after.
            if !port.failed(clip) {
                a.evidence = Some(link.path.clone());
            }
            if cleared {
                self.alerts.remove(&a.id);
            }
            if let Some(c) = self.clips.iter_mut().find(|c| c.id == clip) {
                let end = (last + self.post).min(c.hard_end(self.max));
                if end > c.end {
                    c.end = end;
                    port.send(Cmd::Extend { clip, end });
                }
                if cleared {
                    c.active -= 1;
                }
                port.send(Cmd::Annotate { clip, row, ann });
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
        let joins = self
            .clips
            .last()
            .is_some_and(|c| start <= c.end && !port.failed(c.id));
        let (clip, row, path) = match self.clips.last_mut() {
            Some(c) if joins => {
                let row = c.rows;
                c.rows += 1;
                c.active += 1;
                let end = (last + self.post).min(c.hard_end(self.max));
                if end > c.end {
                    c.end = end;
                    port.send(Cmd::Extend { clip: c.id, end });
                }
                (c.id, row, c.path.clone())
            }
            _ => {
                let clip = self.next_clip;
                self.next_clip += 1;
                let planned = self.name(first, a.kind);
                let end = (last + self.post).min(start + self.max).max(start + 1);
                // The alert names the clip only once its file exists (it may have taken
                // another name beside a clip of another kuzet); one that cannot be
                // created (a full disk) is never named.
                let Some(path) = port.open(Cmd::Open {
                    clip,
                    path: PathBuf::from(&*planned),
                    start,
                    end,
                    trigger: a.kind,
                }) else {
                    return;
                };
                let path: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
                self.names.insert(PathBuf::from(&*path));
                self.clips.push(PlannedClip {
                    id: clip,
                    start,
                    end,
                    rows: 1,
                    path: path.clone(),
                    active: 1,
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
        port.send(Cmd::Annotate { clip, row, ann });
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

/// UTC time of the stream's sample 0, when the source knows it.
fn stream_utc0(meta: &StreamMeta) -> Option<chrono::DateTime<chrono::Utc>> {
    meta.start_time_utc
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::engine::tests::{at, block, engine};
    use super::*;
    use num_complex::Complex32;

    fn meta() -> StreamMeta {
        StreamMeta {
            start_time_utc: Some("2026-11-25T01:00:00Z".into()),
            device: "test".into(),
            ..StreamMeta::for_test(1000.0, 100e6)
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

    /// A port that collects the commands; every clip is created where planned.
    struct Collect(Vec<Cmd>);

    impl Port for Collect {
        fn send(&mut self, c: Cmd) {
            self.0.push(c);
        }
        fn open(&mut self, c: Cmd) -> Option<PathBuf> {
            let Cmd::Open { path, .. } = &c else {
                return None;
            };
            let path = path.clone();
            self.0.push(c);
            Some(path)
        }
        fn failed(&self, _clip: u64) -> bool {
            false
        }
    }

    /// A port straight into an engine on the same thread.
    pub(super) struct Inline<'a, S: engine::ClipStore<Complex32>>(
        pub &'a mut engine::Engine<S, Complex32>,
    );

    impl<S: engine::ClipStore<Complex32>> Port for Inline<'_, S> {
        fn send(&mut self, c: Cmd) {
            self.0.control(c);
        }
        fn open(&mut self, c: Cmd) -> Option<PathBuf> {
            let Cmd::Open { path, .. } = &c else {
                return None;
            };
            let path = path.clone();
            self.0.control(c);
            Some(path)
        }
        fn failed(&self, _clip: u64) -> bool {
            false
        }
    }

    fn run(p: &mut Planner, a: &mut Alert) -> Vec<Cmd> {
        let mut port = Collect(Vec::new());
        p.alert(a, &mut port);
        port.0
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
                p.alert(&mut a, &mut Inline(&mut e));
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
