//! The tracker: associates per-frame detections into emitters over time, classifies them
//! against what is known (band plan, baseline), and turns each emitter's life into one
//! alert — raised after it has been seen enough times, updated at a bounded rate, cleared
//! after it has been quiet for the hold time. Bursty emitters (packets every 100 ms) stay
//! one emitter because the hold time spans their gaps; short bursts at many frequencies
//! become one hopper ([`super::hop`]).

use std::sync::Arc;

use super::baseline::KnownEmitter;
use super::hop::{Burst, HopConfig, HopDetector, Hopper};
use super::knowledge::{rule_enabled, severity, Knowledge};
use super::Detection;
use crate::alert::{round_to, Alert, AlertKind, AlertState, Severity};
use crate::dsp::FreqGrid;

/// Parameters of the tracker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackerConfig {
    /// Frames with a detection before an emitter is reported.
    pub confirm_hits: u32,
    /// An unconfirmed emitter not seen for this long is forgotten.
    pub tentative_s: f64,
    /// A reported emitter not seen for this long is cleared.
    pub hold_s: f64,
    /// Minimum time between `updated` alerts for one emitter.
    pub update_every_s: f64,
    /// Detections this many bins outside an emitter's band still belong to it.
    pub tolerance_bins: f64,
    /// An emitter at least this fraction of the band wide is reported as `jamming`.
    pub wide_fraction: f64,
    /// A known emitter this far from its baseline level raises `power_change`.
    pub power_change_db: f64,
    /// A baseline emitter silent this long raises `emitter_lost`.
    pub lost_after_s: f64,
    /// Span of the detector's slow moving mean: for that long after a burst, slow-test
    /// detections on its track are the burst's echo, not new evidence.
    pub slow_window_s: f64,
    /// Hop detection.
    pub hop: HopConfig,
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            confirm_hits: 3,
            tentative_s: 0.5,
            hold_s: 3.0,
            update_every_s: 5.0,
            tolerance_bins: 2.0,
            wide_fraction: 0.2,
            power_change_db: 10.0,
            lost_after_s: 5.0,
            slow_window_s: 0.0,
            hop: HopConfig::default(),
        }
    }
}

/// What one frame saw of one emitter (several detections may belong to it).
#[derive(Debug, Clone, Copy)]
struct Seen {
    lo_hz: f64,
    hi_hz: f64,
    centre_weighted: f64,
    power: f64,
    noise: f64,
    fast: bool,
}

/// An open secondary alert (power change) on a track.
#[derive(Debug, Clone, Copy)]
struct Open {
    id: u64,
    first_s: f64,
    last_report_s: f64,
}

/// One emitter followed over time.
#[derive(Debug, Clone)]
pub struct Track {
    /// Alert id, assigned when the emitter is first reported (0 before).
    pub alert_id: u64,
    /// Stream time of the first detection.
    pub first_seen_s: f64,
    /// Stream time of the last detection.
    pub last_seen_s: f64,
    /// Smoothed centre frequency.
    pub centre_hz: f64,
    /// Smoothed occupied bandwidth.
    pub bandwidth_hz: f64,
    /// Smoothed in-band power, dBFS.
    pub power_dbfs: f64,
    /// Smoothed in-band SNR.
    pub snr_db: f64,
    /// Frames with a detection.
    pub hits: u32,
    /// Frames since the first detection.
    pub frames: u32,
    /// Bursts (runs of consecutive detections).
    pub bursts: u32,
    /// Reported (or classified as silent) yet.
    pub confirmed: bool,
    /// What it was reported as.
    pub kind: AlertKind,
    /// How urgent.
    pub severity: Severity,
    /// Band-plan band.
    pub band: Option<Arc<str>>,
    /// Known to the band plan (ignore list) or the baseline: no `new_emitter`.
    pub silent: bool,
    known: Option<KnownEmitter>,
    power_change: Option<Open>,
    last_report_s: f64,
    burst_start_s: f64,
    /// Last time the fast test saw it.
    fast_seen_s: f64,
    seen_prev: bool,
    seen: Option<Seen>,
}

impl Track {
    fn overlaps(&self, lo_hz: f64, hi_hz: f64, tol_hz: f64) -> bool {
        let half = self.bandwidth_hz / 2.0 + tol_hz;
        lo_hz <= self.centre_hz + half && hi_hz >= self.centre_hz - half
    }

    /// Fraction of frames since it appeared in which it was on.
    pub fn duty(&self) -> f64 {
        self.hits as f64 / self.frames.max(1) as f64
    }

    fn alert(&self, kind: AlertKind, id: u64, first_s: f64, state: AlertState) -> Alert {
        Alert {
            id,
            kind,
            state,
            severity: self.severity,
            first_seen_s: round_to(first_s, 4),
            last_seen_s: round_to(self.last_seen_s, 4),
            freq_hz: round_to(self.centre_hz, 0),
            bandwidth_hz: round_to(self.bandwidth_hz, 0),
            power_dbfs: round_to(self.power_dbfs, 1),
            snr_db: round_to(self.snr_db, 1),
            band: self.band.clone(),
            evidence: None,
        }
    }

    fn main_alert(&self, state: AlertState) -> Alert {
        self.alert(self.kind, self.alert_id, self.first_seen_s, state)
    }
}

/// A baseline emitter being watched for silence.
#[derive(Debug, Clone, Copy, Default)]
struct Watch {
    last_seen_s: f64,
    lost: Option<u64>,
}

/// Everything the tracker needs to know about the current frame.
#[derive(Clone, Copy)]
pub struct FrameCtx<'a> {
    /// Stream time of the frame's first sample.
    pub t0: f64,
    /// Stream time of its last sample.
    pub t1: f64,
    /// Band plan and baseline, if any.
    pub knowledge: Option<&'a dyn Knowledge>,
    /// Frequency ranges whose detections are ignored (the edges of a jammed region).
    pub exclude: &'a [(f64, f64)],
}

/// Follows emitters across frames.
#[derive(Debug, Clone)]
pub struct Tracker {
    cfg: TrackerConfig,
    grid: FreqGrid,
    tracks: Vec<Track>,
    hops: HopDetector,
    hoppers: Vec<Hopper>,
    watches: Vec<Watch>,
}

fn db(x: f64) -> f64 {
    10.0 * x.max(1e-30).log10()
}

fn default_severity(kind: AlertKind) -> Severity {
    match kind {
        AlertKind::Jamming
        | AlertKind::Hopping
        | AlertKind::DeviceLost
        | AlertKind::RecordingStopped => Severity::Critical,
        AlertKind::DeviceRestored => Severity::Info,
        _ => Severity::Warning,
    }
}

impl Tracker {
    /// A tracker for spectra on `grid`.
    pub fn new(cfg: TrackerConfig, grid: FreqGrid) -> Self {
        Tracker {
            cfg,
            grid,
            tracks: Vec::with_capacity(64),
            // A hop is wider than one bin: a lone noise crossing is not.
            hops: HopDetector::new(HopConfig {
                min_bandwidth_hz: cfg.hop.min_bandwidth_hz.max(1.5 * grid.bin_hz()),
                ..cfg.hop
            }),
            hoppers: Vec::with_capacity(8),
            watches: Vec::new(),
        }
    }

    /// Emitters currently followed (confirmed or not).
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Hoppers currently followed.
    pub fn hoppers(&self) -> &[Hopper] {
        &self.hoppers
    }

    /// Decides what a newly confirmed emitter is, from its width and what is known.
    fn classify(&self, t: &mut Track, k: Option<&dyn Knowledge>) {
        let band = k.and_then(|k| k.band_at(t.centre_hz));
        t.band = band.map(|b| b.name.clone());
        t.known = k.and_then(|k| k.known(t.centre_hz, t.bandwidth_hz));
        let ignored = k.is_some_and(|k| k.ignored(t.centre_hz, t.bandwidth_hz));
        let wide = t.bandwidth_hz >= self.cfg.wide_fraction * self.grid.sample_rate_hz;
        t.kind = if wide {
            AlertKind::Jamming
        } else if band.is_some_and(|b| b.watch) && rule_enabled(band, AlertKind::Watchlist) {
            AlertKind::Watchlist
        } else {
            AlertKind::NewEmitter
        };
        // What the baseline already knows is not new; a watched band is watched regardless.
        t.silent = ignored
            || !rule_enabled(band, t.kind)
            || (t.known.is_some() && t.kind == AlertKind::NewEmitter);
        t.severity = severity(band, t.kind, default_severity(t.kind));
    }

    /// Folds in one frame's detections and emits the alerts that follow. `next_id`
    /// numbers newly raised alerts.
    pub fn update(
        &mut self,
        detections: &[Detection],
        ctx: &FrameCtx<'_>,
        next_id: &mut u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        let (t0, t1) = (ctx.t0, ctx.t1);
        let bin_hz = self.grid.bin_hz();
        let tol_hz = self.cfg.tolerance_bins * bin_hz;
        for d in detections {
            let lo = self.grid.freq_of(d.lo_bin as f64 - 0.5);
            let hi = self.grid.freq_of(d.hi_bin as f64 + 0.5);
            let centre = self.grid.freq_of(d.centre_bin);
            let nearest = |confirmed: bool| {
                self.tracks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.confirmed == confirmed && t.overlaps(lo, hi, tol_hz))
                    .min_by(|(_, a), (_, b)| {
                        (a.centre_hz - centre)
                            .abs()
                            .total_cmp(&(b.centre_hz - centre).abs())
                    })
                    .map(|(i, _)| i)
            };
            // A steady emitter inside a hopper's span stays itself; only what no reported
            // emitter explains can be a hop.
            let mut best = nearest(true);
            // Near a jammed region's edges only emitters already known carry on.
            if best.is_none() && ctx.exclude.iter().any(|&(a, b)| lo <= b && hi >= a) {
                continue;
            }
            if best.is_none() {
                if let Some(h) = self
                    .hoppers
                    .iter_mut()
                    .find(|h| h.claims(lo, hi, hi - lo, self.cfg.hop.width_ratio))
                {
                    h.last_seen_s = t1;
                    h.bursts += 1;
                    h.lo_hz = h.lo_hz.min(lo);
                    h.hi_hz = h.hi_hz.max(hi);
                    h.power_dbfs += 0.1 * (db(d.power as f64) - h.power_dbfs);
                    h.snr_db += 0.1 * (db(d.power as f64 / d.noise as f64) - h.snr_db);
                    continue;
                }
                best = nearest(false);
            }
            let seen = Seen {
                lo_hz: lo,
                hi_hz: hi,
                centre_weighted: centre * d.power as f64,
                power: d.power as f64,
                noise: d.noise as f64,
                fast: d.fast,
            };
            match best {
                Some(i) => {
                    let t = &mut self.tracks[i];
                    // The slow moving mean still holds a burst for a while after it ends.
                    if !d.fast && t1 - t.fast_seen_s <= self.cfg.slow_window_s {
                        continue;
                    }
                    t.seen = Some(match t.seen {
                        None => seen,
                        Some(s) => Seen {
                            lo_hz: s.lo_hz.min(lo),
                            hi_hz: s.hi_hz.max(hi),
                            centre_weighted: s.centre_weighted + seen.centre_weighted,
                            power: s.power + seen.power,
                            noise: s.noise + seen.noise,
                            fast: s.fast || seen.fast,
                        },
                    });
                }
                None => self.tracks.push(Track {
                    alert_id: 0,
                    first_seen_s: t0,
                    last_seen_s: t1,
                    centre_hz: centre,
                    bandwidth_hz: hi - lo,
                    power_dbfs: db(d.power as f64),
                    snr_db: db(d.power as f64 / d.noise as f64),
                    hits: 0,
                    frames: 0,
                    bursts: 0,
                    confirmed: false,
                    kind: AlertKind::NewEmitter,
                    severity: Severity::Warning,
                    band: None,
                    silent: false,
                    known: None,
                    power_change: None,
                    last_report_s: t0,
                    burst_start_s: t0,
                    fast_seen_s: if d.fast { t1 } else { f64::NEG_INFINITY },
                    seen_prev: false,
                    seen: Some(seen),
                }),
            }
        }

        let cfg = self.cfg;
        let mut new_hopper = None;
        for i in 0..self.tracks.len() {
            let seen = self.tracks[i].seen.take();
            self.tracks[i].frames += 1;
            let Some(s) = seen else {
                let t = &mut self.tracks[i];
                if t.seen_prev {
                    t.seen_prev = false;
                    if !t.confirmed {
                        let b = Burst {
                            start_s: t.burst_start_s,
                            end_s: t.last_seen_s,
                            freq_hz: t.centre_hz,
                            bandwidth_hz: t.bandwidth_hz,
                            power_dbfs: t.power_dbfs,
                            snr_db: t.snr_db,
                        };
                        if let Some(h) = self.hops.record(b) {
                            new_hopper = Some(h);
                        }
                    }
                }
                continue;
            };
            let t = &mut self.tracks[i];
            if !t.seen_prev {
                t.bursts += 1;
                t.burst_start_s = t0;
            }
            t.seen_prev = true;
            if s.fast {
                t.fast_seen_s = t1;
            }
            let centre = s.centre_weighted / s.power.max(1e-30);
            let bw = s.hi_hz - s.lo_hz;
            if t.hits == 0 {
                t.centre_hz = centre;
                t.bandwidth_hz = bw;
                t.power_dbfs = db(s.power);
                t.snr_db = db(s.power / s.noise);
            } else {
                // Smooth over frames: a voice FM carrier wanders inside its channel.
                const A: f64 = 0.2;
                t.centre_hz += A * (centre - t.centre_hz);
                t.bandwidth_hz += A * (bw - t.bandwidth_hz);
                t.power_dbfs += A * (db(s.power) - t.power_dbfs);
                t.snr_db += A * (db(s.power / s.noise) - t.snr_db);
            }
            t.hits += 1;
            t.last_seen_s = t1;
            // Confirmed only once seen for longer than a hop can last: a hop channel's
            // burst ends (and the hop detector hears of it) before it could be reported.
            if !t.confirmed
                && t.hits >= cfg.confirm_hits
                && t1 - t.first_seen_s > cfg.hop.max_burst_s
            {
                let mut tr = self.tracks[i].clone();
                self.classify(&mut tr, ctx.knowledge);
                tr.confirmed = true;
                tr.last_report_s = t1;
                if !tr.silent {
                    *next_id += 1;
                    tr.alert_id = *next_id;
                    emit(tr.main_alert(AlertState::Raised));
                }
                self.tracks[i] = tr;
            } else if t.confirmed && !t.silent && t1 - t.last_report_s >= cfg.update_every_s {
                t.last_report_s = t1;
                emit(t.main_alert(AlertState::Updated));
            }
            self.power_change_rule(i, t1, next_id, emit);
        }

        if let Some(f) = new_hopper.filter(|f| {
            // More channels of a hopper we already follow: grow it, do not report it again.
            match self
                .hoppers
                .iter_mut()
                .find(|h| h.claims(f.lo_hz, f.hi_hz, f.hop_bandwidth_hz, cfg.hop.width_ratio))
            {
                Some(h) => {
                    h.lo_hz = h.lo_hz.min(f.lo_hz);
                    h.hi_hz = h.hi_hz.max(f.hi_hz);
                    h.last_seen_s = t1;
                    false
                }
                None => true,
            }
        }) {
            // The channels seen so far were the hopper all along: forget them.
            let margin = f.hop_bandwidth_hz;
            self.tracks.retain(|t| {
                t.confirmed || t.centre_hz < f.lo_hz - margin || t.centre_hz > f.hi_hz + margin
            });
            let centre = (f.lo_hz + f.hi_hz) / 2.0;
            let band = ctx.knowledge.and_then(|k| k.band_at(centre));
            let allowed = rule_enabled(band, AlertKind::Hopping)
                && !ctx
                    .knowledge
                    .is_some_and(|k| k.ignored(centre, f.hi_hz - f.lo_hz));
            let h = Hopper {
                alert_id: if allowed {
                    *next_id += 1;
                    *next_id
                } else {
                    0
                },
                first_seen_s: f.first_s,
                last_seen_s: t1,
                lo_hz: f.lo_hz,
                hi_hz: f.hi_hz,
                hop_bandwidth_hz: f.hop_bandwidth_hz,
                power_dbfs: f.power_dbfs,
                snr_db: f.snr_db,
                band: band.map(|b| b.name.clone()),
                severity: severity(band, AlertKind::Hopping, Severity::Critical),
                bursts: 0,
                last_report_s: t1,
            };
            if allowed {
                emit(hopper_alert(&h, AlertState::Raised));
            }
            self.hoppers.push(h);
        }
        self.hoppers.retain_mut(|h| {
            if t1 - h.last_seen_s >= cfg.hold_s {
                if h.alert_id != 0 {
                    emit(hopper_alert(h, AlertState::Cleared));
                }
                return false;
            }
            if h.alert_id != 0 && t1 - h.last_report_s >= cfg.update_every_s {
                h.last_report_s = t1;
                emit(hopper_alert(h, AlertState::Updated));
            }
            true
        });

        self.tracks.retain(|t| {
            let quiet = t1 - t.last_seen_s;
            if t.confirmed {
                if quiet >= cfg.hold_s {
                    if let Some(p) = t.power_change {
                        emit(t.alert(AlertKind::PowerChange, p.id, p.first_s, AlertState::Cleared));
                    }
                    if !t.silent {
                        emit(t.main_alert(AlertState::Cleared));
                    }
                    return false;
                }
                true
            } else {
                quiet < cfg.tentative_s
            }
        });
        self.lost_rule(ctx, next_id, emit);
    }

    /// A known emitter far from its baseline level raises `power_change` (once it has been
    /// on for a second, so the smoothed level means something).
    fn power_change_rule(
        &mut self,
        i: usize,
        t1: f64,
        next_id: &mut u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        let cfg = self.cfg;
        let t = &mut self.tracks[i];
        let Some(known) = t.known.as_ref() else {
            return;
        };
        if !t.confirmed || t1 - t.first_seen_s < 1.0 {
            return;
        }
        let delta = (t.power_dbfs - known.power_dbfs).abs();
        match t.power_change {
            None if delta >= cfg.power_change_db => {
                *next_id += 1;
                let p = Open {
                    id: *next_id,
                    first_s: t1,
                    last_report_s: t1,
                };
                t.power_change = Some(p);
                emit(t.alert(AlertKind::PowerChange, p.id, p.first_s, AlertState::Raised));
            }
            Some(p) if delta < cfg.power_change_db / 2.0 => {
                emit(t.alert(AlertKind::PowerChange, p.id, p.first_s, AlertState::Cleared));
                t.power_change = None;
            }
            Some(mut p) if t1 - p.last_report_s >= cfg.update_every_s => {
                p.last_report_s = t1;
                t.power_change = Some(p);
                emit(t.alert(AlertKind::PowerChange, p.id, p.first_s, AlertState::Updated));
            }
            _ => {}
        }
    }

    /// Baseline emitters that are normally on and have been silent for `lost_after_s`.
    fn lost_rule(&mut self, ctx: &FrameCtx<'_>, next_id: &mut u64, emit: &mut dyn FnMut(Alert)) {
        let Some(k) = ctx.knowledge else { return };
        let expected = k.expected();
        if self.watches.len() != expected.len() {
            self.watches = vec![Watch::default(); expected.len()];
        }
        let tol_hz = self.cfg.tolerance_bins * self.grid.bin_hz();
        for (e, w) in expected.iter().zip(self.watches.iter_mut()) {
            if e.duty < 0.5 {
                continue;
            }
            let (lo, hi) = (
                e.freq_hz - e.bandwidth_hz / 2.0,
                e.freq_hz + e.bandwidth_hz / 2.0,
            );
            let on = self
                .tracks
                .iter()
                .any(|t| t.last_seen_s >= ctx.t1 && t.overlaps(lo, hi, tol_hz));
            let band = k.band_at(e.freq_hz);
            let alert = |id, first, last, state| Alert {
                id,
                kind: AlertKind::EmitterLost,
                state,
                severity: severity(band, AlertKind::EmitterLost, Severity::Warning),
                first_seen_s: round_to(first, 4),
                last_seen_s: round_to(last, 4),
                freq_hz: round_to(e.freq_hz, 0),
                bandwidth_hz: round_to(e.bandwidth_hz, 0),
                power_dbfs: round_to(e.power_dbfs, 1),
                snr_db: 0.0,
                band: band.map(|b| b.name.clone()),
                evidence: None,
            };
            if on {
                if let Some(id) = w.lost.take() {
                    emit(alert(id, w.last_seen_s, ctx.t1, AlertState::Cleared));
                }
                w.last_seen_s = ctx.t1;
            } else if w.lost.is_none()
                && ctx.t1 - w.last_seen_s >= self.cfg.lost_after_s
                && rule_enabled(band, AlertKind::EmitterLost)
            {
                *next_id += 1;
                w.lost = Some(*next_id);
                emit(alert(*next_id, w.last_seen_s, ctx.t1, AlertState::Raised));
            }
        }
    }

    /// Ends the stream: every open alert is cleared.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        for t in self.tracks.drain(..) {
            if !t.confirmed {
                continue;
            }
            if let Some(p) = t.power_change {
                emit(t.alert(AlertKind::PowerChange, p.id, p.first_s, AlertState::Cleared));
            }
            if !t.silent {
                emit(t.main_alert(AlertState::Cleared));
            }
        }
        for h in self.hoppers.drain(..) {
            if h.alert_id != 0 {
                emit(hopper_alert(&h, AlertState::Cleared));
            }
        }
    }
}

fn hopper_alert(h: &Hopper, state: AlertState) -> Alert {
    Alert {
        id: h.alert_id,
        kind: AlertKind::Hopping,
        state,
        severity: h.severity,
        first_seen_s: round_to(h.first_seen_s, 4),
        last_seen_s: round_to(h.last_seen_s, 4),
        freq_hz: round_to((h.lo_hz + h.hi_hz) / 2.0, 0),
        bandwidth_hz: round_to(h.hi_hz - h.lo_hz, 0),
        power_dbfs: round_to(h.power_dbfs, 1),
        snr_db: round_to(h.snr_db, 1),
        band: h.band.clone(),
        evidence: None,
    }
}
