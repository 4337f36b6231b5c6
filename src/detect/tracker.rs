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
use crate::alert::{round_to, Activity, Alert, AlertKind, AlertState, Severity};
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
    /// A detection at least this fraction of the band wide could be a jammer switching on:
    /// it is not reported before `wide_hold_s` has passed (the jamming rule's look).
    pub wide_fraction: f64,
    /// See `wide_fraction` (set by the detector from the jamming rule's snap time).
    pub wide_hold_s: f64,
    /// A known emitter this far from its baseline level raises `power_change`.
    pub power_change_db: f64,
    /// A baseline emitter silent this long raises `emitter_lost`.
    pub lost_after_s: f64,
    /// Span of the detector's slow moving mean: for that long after a burst, slow-test
    /// detections on its track are the burst's echo, not new evidence.
    pub slow_window_s: f64,
    /// Time between spectra (set by the detector): what one detection counts as "on".
    pub frame_s: f64,
    /// `updated` lines an emitter may send at once (per burst, on material changes)
    /// before the rate limit applies: a token bucket of this size...
    pub update_burst: f64,
    /// ...refilled at this many lines per second. A device that sends a dozen packets
    /// gets a line for each; one that beacons for hours gets two a second at most.
    pub update_rate_per_s: f64,
    /// An SNR change this large (either way) since the last line is worth an `updated`.
    pub material_snr_db: f64,
    /// In-band SNR (dB) a spectrum's merged view of a track must reach for a fast detection
    /// in it to make the track trusted: a strong fragment inside a wide, weak patch (a
    /// strong transmission's splatter, a floor step after it) does not vouch for the patch.
    pub min_alone_snr_db: f64,
    /// Receiver artefacts: a line no wider than the window's main lobe centred within
    /// this many bins of the tuned frequency (the LO's leakage, the DC spike) or of
    /// ±rate/2 (where the spectrum wraps and the anti-alias filter's transition folds in)
    /// is the receiver's own, never an emitter. (Weak spurs elsewhere, ±rate/4 among
    /// them, are learned as the floor's shape; a strong line there is reported: a
    /// carrier can sit anywhere but on the LO and the wrap.)
    /// Set by the detector from the window (its noise bandwidth plus one bin); 0 turns
    /// the exclusion off.
    pub artefact_half_bins: f64,
    /// Sample rate of the receiver (Hz) and the frequency it is tuned to (Hz), which
    /// place the artefacts (set by the detector; a sweep step's grid is part of its
    /// spectrum).
    pub receiver_rate_hz: f64,
    /// See `receiver_rate_hz`.
    pub receiver_lo_hz: f64,
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
            wide_hold_s: 0.04,
            power_change_db: 10.0,
            lost_after_s: 5.0,
            slow_window_s: 0.0,
            frame_s: 0.01,
            update_burst: 16.0,
            update_rate_per_s: 2.0,
            material_snr_db: 6.0,
            min_alone_snr_db: 6.0,
            artefact_half_bins: 0.0,
            receiver_rate_hz: 0.0,
            receiver_lo_hz: 0.0,
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
    trusted: bool,
}

/// What the last line about a track said, to tell a material change.
#[derive(Debug, Clone, Copy, Default)]
struct Said {
    snr_db: f64,
    bandwidth_hz: f64,
    centre_hz: f64,
    bursts: u32,
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
    /// Last time the fast test saw it with a detection trusted alone: what the slow
    /// mean's echo is measured from.
    strong_seen_s: f64,
    seen_prev: bool,
    seen: Option<Seen>,
    /// Figures of the strongest detection so far: what `raised` reports.
    best_snr_db: f64,
    best_centre_hz: f64,
    best_bandwidth_hz: f64,
    best_power_dbfs: f64,
    /// Life extremes, for `cleared`.
    peak_snr_db: f64,
    max_bandwidth_hz: f64,
    /// Some detection was strong enough to trust on its own.
    trusted: bool,
    first_burst_s: f64,
    on_s: f64,
    /// A short trusted burst that may be one hop of a hopper: raised at this time unless a
    /// hopper claims it first.
    pending_until: Option<f64>,
    said: Said,
    tokens: f64,
    tokens_s: f64,
    /// Serial number within the tracker.
    uid: u64,
    /// In-band power of the last spectrum that saw it (linear), and the lowest since its
    /// last rise, for telling bursts apart when no whole spectrum fits in their gap.
    last_power: f64,
    dip_power: Option<f64>,
    /// Appeared at the onset of a stronger track's burst: one of its spectral lines
    /// (keying sidebands, harmonics, the receiver's intermodulation), held back until
    /// it either ends with that track's burst (dropped) or outlives it (its own emitter).
    shadow_of: Option<u64>,
}

impl Track {
    fn overlaps(&self, lo_hz: f64, hi_hz: f64, tol_hz: f64) -> bool {
        let half = self.bandwidth_hz / 2.0 + tol_hz;
        lo_hz <= self.centre_hz + half && hi_hz >= self.centre_hz - half
    }

    /// Whether a detection spanning `lo..hi`, power-weighted centre `centre`, is this
    /// emitter again: the two centres within
    /// half the narrower of the two widths (plus `tol_hz`). Mere overlap is not enough: a
    /// strong wide burst beside a steady carrier overlaps its skirts and is another
    /// emitter; a carrier wandering in its channel stays within it.
    fn same_as(&self, lo_hz: f64, hi_hz: f64, centre: f64, tol_hz: f64) -> bool {
        // The track's width: the wider of its smoothed and its best detection's (an OOK
        // burst's measured width varies with its keying from spectrum to spectrum).
        let width = self.bandwidth_hz.max(self.best_bandwidth_hz);
        let half = width.min(hi_hz - lo_hz) / 2.0 + tol_hz;
        (centre - self.centre_hz).abs() <= half
    }

    /// Fraction of frames since it appeared in which it was on.
    pub fn duty(&self) -> f64 {
        self.hits as f64 / self.frames.max(1) as f64
    }

    fn alert(&self, kind: AlertKind, id: u64, first_s: f64, state: AlertState) -> Alert {
        // `raised` says the best the track has shown (its strongest detection), not the
        // first weak glimpse; later lines say where it is now.
        let (centre, bw, power, snr) = if state == AlertState::Raised {
            (
                self.best_centre_hz,
                self.best_bandwidth_hz,
                self.best_power_dbfs,
                self.best_snr_db,
            )
        } else {
            (
                self.centre_hz,
                self.bandwidth_hz,
                self.power_dbfs,
                self.snr_db,
            )
        };
        Alert {
            id,
            kind,
            state,
            severity: self.severity,
            first_seen_s: round_to(first_s, 4),
            last_seen_s: round_to(self.last_seen_s, 4),
            freq_hz: round_to(centre, 0),
            bandwidth_hz: round_to(bw, 0),
            power_dbfs: round_to(power, 1),
            snr_db: round_to(snr, 1),
            band: self.band.clone(),
            evidence: None,
            activity: Some(self.activity()),
        }
    }

    /// Bursts, period and duty cycle so far.
    fn activity(&self) -> Activity {
        let span = (self.last_seen_s - self.first_burst_s).max(1e-9);
        Activity {
            bursts: self.bursts as u64,
            last_burst_s: round_to(self.burst_start_s, 4),
            mean_period_s: if self.bursts > 1 {
                round_to(
                    (self.burst_start_s - self.first_burst_s) / (self.bursts - 1) as f64,
                    4,
                )
            } else {
                0.0
            },
            duty_cycle: round_to((self.on_s / span).min(1.0), 3),
            duration_s: round_to(self.last_seen_s - self.first_burst_s, 4),
            peak_snr_db: round_to(self.peak_snr_db, 1),
            max_bandwidth_hz: round_to(self.max_bandwidth_hz, 0),
        }
    }

    fn main_alert(&self, state: AlertState) -> Alert {
        self.alert(self.kind, self.alert_id, self.first_seen_s, state)
    }

    /// Remembers what a line said.
    fn note_said(&mut self, a: &Alert) {
        self.said = Said {
            snr_db: a.snr_db,
            bandwidth_hz: a.bandwidth_hz,
            centre_hz: a.freq_hz,
            bursts: self.bursts,
        };
    }

    /// Whether the track now differs materially from its last line: SNR by
    /// `material_snr_db`, bandwidth doubled or halved, centre moved by more than half the
    /// bandwidth, or the burst count passed 1, 10, 100...
    fn changed(&self, cfg: &TrackerConfig, bin_hz: f64) -> bool {
        let s = self.said;
        let bw = s.bandwidth_hz.max(bin_hz);
        let decade = |n: u32| if n <= 1 { 0 } else { (n - 1).ilog10() + 1 };
        (self.snr_db - s.snr_db).abs() >= cfg.material_snr_db
            || self.bandwidth_hz >= 2.0 * bw
            || self.bandwidth_hz <= bw / 2.0 && s.bandwidth_hz > 2.0 * bin_hz
            || (self.centre_hz - s.centre_hz).abs() > bw / 2.0
            || decade(self.bursts) > decade(s.bursts)
    }

    /// Takes a token from the update bucket if there is one.
    fn take_token(&mut self, cfg: &TrackerConfig, t: f64) -> bool {
        self.tokens =
            (self.tokens + (t - self.tokens_s) * cfg.update_rate_per_s).min(cfg.update_burst);
        self.tokens_s = t;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
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
    /// Frequency ranges where weak new detections are ignored (the edges of a jammed
    /// region, which straddle two floors for a moment).
    pub exclude: &'a [Exclusion],
}

/// A frequency range where a detection starts no track unless it stands this far over
/// the floor: the straddle of two floors at a floor rise's edge reads at most the rise
/// itself, an emitter standing beside it reads far more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exclusion {
    /// Lower edge (Hz).
    pub lo_hz: f64,
    /// Upper edge (Hz).
    pub hi_hz: f64,
    /// In-band SNR (dB) a detection needs to start a track here anyway.
    pub min_snr_db: f64,
}

/// A rise of the floor over a band that ended before it was jamming: a wide burst.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rise {
    /// Lower edge of the raised segments (Hz).
    pub lo_hz: f64,
    /// Upper edge (Hz).
    pub hi_hz: f64,
    /// In-band power at its strongest, dBFS.
    pub power_dbfs: f64,
    /// Its largest mean rise over the floor before it, dB.
    pub snr_db: f64,
    /// Stream time the rise began (the first spectrum of its run).
    pub first_s: f64,
    /// Stream time it was last up.
    pub last_s: f64,
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
    next_uid: u64,
    /// Stream time of the first spectrum.
    start_s: Option<f64>,
}

fn db_inv(x_db: f64) -> f64 {
    10f64.powf(x_db / 10.0)
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
            next_uid: 0,
            start_s: None,
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
        // However wide, an emitter is an emitter (an OFDM carrier fills most of a band):
        // `jamming` is the floor itself rising, which the jamming rule watches.
        t.kind = if band.is_some_and(|b| b.watch) && rule_enabled(band, AlertKind::Watchlist) {
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

    /// See [`TrackerConfig::receiver_lo_hz`].
    pub fn set_receiver_lo(&mut self, lo_hz: f64) {
        self.cfg.receiver_lo_hz = lo_hz;
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
            let (lo, hi) = d.edges();
            let (lo, hi) = (self.grid.freq_of(lo), self.grid.freq_of(hi));
            let centre = self.grid.freq_of(d.centre_bin);
            let nearest = |confirmed: bool| {
                self.tracks
                    .iter()
                    .enumerate()
                    .filter(|(_, t)| t.confirmed == confirmed && t.same_as(lo, hi, centre, tol_hz))
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
            let snr_db = db(d.power as f64 / (d.noise as f64).max(1e-30));
            // The slow mean holds a burst's whole spectrum (its keying sidebands, the weak
            // skirts no single spectrum showed) for a slow window after the fast test last
            // saw it: a slow-only detection inside the widest band of a stronger track
            // seen that recently is that burst's echo, not evidence of a steady emitter.
            // Anywhere in the band, likewise for a burst (not a carrier on for longer than
            // the window) ten times the detection's power or more: its spill and keying
            // sidebands reach far beyond its occupied band on a real front end.
            let slow_window = self.cfg.slow_window_s;
            let power_db = db(d.power as f64);
            if !d.fast
                && self.tracks.iter().any(|t| {
                    t1 - t.strong_seen_s <= slow_window
                        && t.peak_snr_db > snr_db
                        && ((centre - t.centre_hz).abs()
                            <= t.max_bandwidth_hz.max(t.bandwidth_hz) / 2.0 + tol_hz
                            || (t.burst_start_s >= t1 - 2.0 * slow_window
                                && t.best_power_dbfs >= power_db + 10.0))
                })
            {
                continue;
            }
            // What only one frame showed, mostly inside the widest band of a proven emitter
            // seen within the slow window, is that emitter's: its keying, the edges of its band
            // that one frame lifts over the floor. The averages follow it; the peak's view
            // is for bursts the averages miss.
            if d.frame
                && best.is_none()
                && self.tracks.iter().any(|t| {
                    (t.trusted || t.confirmed) && t1 - t.last_seen_s <= slow_window && {
                        let half = t.max_bandwidth_hz.max(t.bandwidth_hz) / 2.0 + tol_hz;
                        let inside = hi.min(t.centre_hz + half) - lo.max(t.centre_hz - half);
                        2.0 * inside >= hi - lo
                    }
                })
            {
                continue;
            }
            // Near a jammed region's edges only emitters already known, or standing clear
            // of the rise, carry on.
            if best.is_none()
                && ctx
                    .exclude
                    .iter()
                    .any(|e| lo <= e.hi_hz && hi >= e.lo_hz && snr_db < e.min_snr_db)
            {
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
                best = nearest(false).or_else(|| self.absorb_pieces(lo, hi));
            }
            let seen = Seen {
                lo_hz: lo,
                hi_hz: hi,
                centre_weighted: centre * d.power as f64,
                power: d.power as f64,
                noise: d.noise as f64,
                fast: d.fast,
                trusted: d.trusted,
            };
            match best {
                Some(i) => {
                    let t = &mut self.tracks[i];
                    // The slow moving mean still holds a burst for a while after it ends.
                    if !d.fast && t1 - t.strong_seen_s <= self.cfg.slow_window_s {
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
                            trusted: s.trusted || seen.trusted,
                        },
                    });
                }
                None => {
                    let t = self.new_track(t0, t1, lo, hi, centre, seen);
                    self.tracks.push(t);
                }
            }
        }

        let cfg = self.cfg;
        self.shadow_onsets(t0);
        let bin_hz = self.grid.bin_hz();
        let mut new_hopper = None;
        for i in 0..self.tracks.len() {
            let seen = self.tracks[i].seen.take();
            self.tracks[i].frames += 1;
            let Some(s) = seen else {
                let t = &mut self.tracks[i];
                if t.seen_prev {
                    t.seen_prev = false;
                    let b = Burst {
                        start_s: t.burst_start_s,
                        end_s: t.last_seen_s,
                        freq_hz: t.centre_hz,
                        bandwidth_hz: t.bandwidth_hz,
                        power_dbfs: t.power_dbfs,
                        snr_db: t.snr_db,
                    };
                    let short = b.end_s - b.start_s <= cfg.hop.max_burst_s;
                    // A lone short burst may be one hop of a hopper; the hop detector hears
                    // of it while the track has not been reported (or was reported on this
                    // one burst: a hopper's first hop can be).
                    let hop_candidate =
                        short && (!t.confirmed || t.bursts <= 1) && t.shadow_of.is_none();
                    let hop_candidate = hop_candidate && !self.inside_stronger(i, &b);
                    let recent_other = short && self.hops.has_recent_other(&b);
                    if hop_candidate {
                        if let Some(h) = self.hops.record(b) {
                            new_hopper = Some(h);
                        }
                    }
                    let t = &self.tracks[i];
                    if !t.confirmed && t.trusted && t.pending_until.is_none() {
                        // Raised when the burst ends (its figures then are the burst's
                        // best), unless other short bursts at other frequencies are about:
                        // then it waits for the hop window, and a hopper forming in it
                        // claims it. A burst as wide as a jammer's rise waits for the
                        // jamming rule to have had its look.
                        let wide = t.bandwidth_hz >= cfg.wide_fraction * self.grid.sample_rate_hz;
                        // A short burst of a hop's width while a hopper is active is one
                        // more of its hops, wherever it lands (the first channels seen
                        // rarely span the whole set): the hopper grows to cover it.
                        let r = cfg.hop.width_ratio;
                        let mut in_hopper = false;
                        for h in self.hoppers.iter_mut() {
                            // Up to twice a hop's width: two hops caught in one spectrum.
                            if b.bandwidth_hz <= 2.0 * h.hop_bandwidth_hz * r
                                && b.bandwidth_hz >= h.hop_bandwidth_hz / r
                            {
                                h.lo_hz = h.lo_hz.min(b.freq_hz - b.bandwidth_hz / 2.0);
                                h.hi_hz = h.hi_hz.max(b.freq_hz + b.bandwidth_hz / 2.0);
                                in_hopper = true;
                            }
                        }
                        let t = &mut self.tracks[i];
                        t.pending_until = if short && (in_hopper || new_hopper.is_some()) {
                            t.trusted = false;
                            None
                        } else {
                            Some(if recent_other {
                                t1 + cfg.hop.window_s
                            } else if wide {
                                t1.max(t.first_seen_s + cfg.wide_hold_s)
                            } else {
                                t1
                            })
                        };
                    }
                }
                self.raise_if_due(i, t1, ctx, next_id, emit);
                continue;
            };
            let t = &mut self.tracks[i];
            // A gap shorter than a spectrum shows as a dip: a spectrum with half the power
            // or less (the gap filled at least half of it), then the power back: a new
            // burst as much as after a spectrum without the emitter.
            let rebound = t.dip_power.is_some_and(|d| s.power >= 2.0 * d);
            if t.seen_prev && s.power <= 0.5 * t.last_power {
                t.dip_power = Some(t.dip_power.map_or(s.power, |d| d.min(s.power)));
            } else if rebound || !t.seen_prev {
                t.dip_power = None;
            }
            t.last_power = s.power;
            let new_burst = !t.seen_prev || rebound;
            if new_burst {
                t.bursts += 1;
                t.burst_start_s = t0;
                if t.bursts == 1 {
                    t.first_burst_s = t0;
                }
            }
            t.seen_prev = true;
            t.on_s += cfg.frame_s;
            if s.fast {
                t.fast_seen_s = t1;
                if s.trusted && db(s.power / s.noise) >= cfg.min_alone_snr_db {
                    t.strong_seen_s = t1;
                }
            }
            let centre = s.centre_weighted / s.power.max(1e-30);
            let bw = s.hi_hz - s.lo_hz;
            let snr = db(s.power / s.noise);
            let trusted_now = s.trusted && (!s.fast || snr >= cfg.min_alone_snr_db);
            if trusted_now && !t.trusted && !t.confirmed && t.bursts > 1 {
                // Earlier bursts on this track were glimpses too weak to trust (the floor's
                // own scatter, more often than not): the emitter is what began with the
                // burst that proved it, and its life is counted from there.
                t.first_seen_s = t.burst_start_s;
                t.first_burst_s = t.burst_start_s;
                t.bursts = 1;
                t.hits = 0;
                t.on_s = cfg.frame_s;
                t.best_snr_db = f64::NEG_INFINITY;
                t.peak_snr_db = f64::NEG_INFINITY;
                t.max_bandwidth_hz = 0.0;
            }
            t.trusted |= trusted_now;
            if t.hits == 0 {
                t.centre_hz = centre;
                t.bandwidth_hz = bw;
                t.power_dbfs = db(s.power);
                t.snr_db = snr;
            } else {
                // Smooth over frames: a voice FM carrier wanders inside its channel.
                const A: f64 = 0.2;
                t.centre_hz += A * (centre - t.centre_hz);
                t.bandwidth_hz += A * (bw - t.bandwidth_hz);
                t.power_dbfs += A * (db(s.power) - t.power_dbfs);
                t.snr_db += A * (snr - t.snr_db);
            }
            // The best view: the strongest so far, or one holding far more of the signal
            // (a wide signal first seen in part, where the edge read a little higher).
            let grown = bw > 2.0 * t.best_bandwidth_hz && s.power > 4.0 * db_inv(t.best_power_dbfs);
            if snr > t.best_snr_db || grown {
                t.best_snr_db = snr;
                t.best_centre_hz = centre;
                t.best_bandwidth_hz = bw;
                t.best_power_dbfs = db(s.power);
            }
            t.peak_snr_db = t.peak_snr_db.max(snr);
            t.max_bandwidth_hz = t.max_bandwidth_hz.max(bw);
            t.hits += 1;
            t.last_seen_s = t1;
            // Confirmed once seen for longer than a hop can last (a hop channel's burst
            // ends, and the hop detector hears of it, before it could be reported), or on
            // a detection strong enough to trust alone when no hop activity is about.
            if !t.confirmed {
                // Only what some detection showed trustworthy is reported: a fast one
                // strong on its own, or the slow mean's integrated evidence; a run of weak
                // crossings is not evidence enough (under 6 dB they are mostly the floor's
                // own structure).
                let long = t.hits >= cfg.confirm_hits && t1 - t.first_seen_s > cfg.hop.max_burst_s;
                if long && t.trusted {
                    // Longer than a hop: an emitter, reported now (a signal as wide as a
                    // jammer's rise waits for the jamming rule to have had its look).
                    let wide = t.bandwidth_hz >= cfg.wide_fraction * self.grid.sample_rate_hz;
                    let at = if wide {
                        t.first_seen_s + cfg.wide_hold_s
                    } else {
                        t1
                    };
                    t.pending_until = Some(t.pending_until.map_or(at, |p| p.min(at)));
                }
                self.raise_if_due(i, t1, ctx, next_id, emit);
            } else if !t.silent {
                let due = t1 - t.last_report_s >= cfg.update_every_s;
                let material = (new_burst && t.bursts > 1) || t.changed(&cfg, bin_hz);
                if due || (material && t.take_token(&cfg, t1)) {
                    t.last_report_s = t1;
                    let a = t.main_alert(AlertState::Updated);
                    t.note_said(&a);
                    emit(a);
                }
            }
            self.power_change_rule(i, t1, next_id, emit);
        }

        self.resolve_shadows(t1);
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
                quiet < cfg.tentative_s || t.pending_until.is_some()
            }
        });
        self.lost_rule(ctx, next_id, emit);
    }

    /// A view as wide as a jammer's rise (an OFDM carrier) that holds unreported tracks'
    /// centres is those tracks grown into one, not new emitters beside them: a wide signal
    /// is often first seen in pieces (its edge segments) while the floor settles. The
    /// widest piece is kept, dated from the earliest; the others are forgotten. Returns
    /// the kept one. (Narrower views keep the centre rule: a strong burst beside a weak
    /// line is two emitters.)
    fn absorb_pieces(&mut self, lo: f64, hi: f64) -> Option<usize> {
        if hi - lo < self.cfg.wide_fraction * self.grid.sample_rate_hz {
            return None;
        }
        let piece = |t: &Track| {
            !t.confirmed
                && t.seen.is_none()
                && t.centre_hz >= lo
                && t.centre_hz <= hi
                && hi - lo > 2.0 * t.bandwidth_hz
        };
        let keep = self
            .tracks
            .iter()
            .enumerate()
            .filter(|(_, t)| piece(t))
            .max_by(|(_, a), (_, b)| a.bandwidth_hz.total_cmp(&b.bandwidth_hz))
            .map(|(i, _)| i)?;
        let first = self
            .tracks
            .iter()
            .filter(|t| piece(t))
            .map(|t| t.first_seen_s)
            .fold(f64::INFINITY, f64::min);
        let kept_uid = self.tracks[keep].uid;
        for t in self.tracks.iter_mut() {
            if t.uid != kept_uid && piece(t) {
                // Forgotten below, with nothing said.
                t.pending_until = None;
                t.last_seen_s = f64::NEG_INFINITY;
                t.seen_prev = false;
            }
        }
        let k = &mut self.tracks[keep];
        k.first_seen_s = k.first_seen_s.min(first);
        k.first_burst_s = k.first_burst_s.min(first);
        Some(keep)
    }

    /// Whether the track is a receiver artefact (see `TrackerConfig::artefact_half_bins`):
    /// a line that never grew wider than the window's main lobe, centred on the LO or the
    /// wrap.
    fn is_artefact(&self, t: &Track) -> bool {
        let half = self.cfg.artefact_half_bins * self.grid.bin_hz();
        if half <= 0.0 || t.max_bandwidth_hz.max(t.best_bandwidth_hz) > 2.0 * half {
            return false;
        }
        let (lo, rate) = (self.cfg.receiver_lo_hz, self.cfg.receiver_rate_hz);
        [0.0, -0.5, 0.5].iter().any(|&k| {
            let at = lo + k * rate;
            (t.best_centre_hz - at).abs() <= half && (t.centre_hz - at).abs() <= half
        })
    }

    /// A new, unreported track first seen in the spectrum `t0..t1`.
    fn new_track(&mut self, t0: f64, t1: f64, lo: f64, hi: f64, centre: f64, seen: Seen) -> Track {
        Track {
            alert_id: 0,
            first_seen_s: t0,
            last_seen_s: t1,
            centre_hz: centre,
            bandwidth_hz: hi - lo,
            power_dbfs: db(seen.power),
            snr_db: db(seen.power / seen.noise),
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
            fast_seen_s: if seen.fast { t1 } else { f64::NEG_INFINITY },
            strong_seen_s: if seen.fast
                && seen.trusted
                && db(seen.power / seen.noise) >= self.cfg.min_alone_snr_db
            {
                t1
            } else {
                f64::NEG_INFINITY
            },
            seen_prev: false,
            seen: Some(seen),
            best_snr_db: f64::NEG_INFINITY,
            best_centre_hz: centre,
            best_bandwidth_hz: hi - lo,
            best_power_dbfs: db(seen.power),
            peak_snr_db: f64::NEG_INFINITY,
            max_bandwidth_hz: 0.0,
            trusted: false,
            first_burst_s: t0,
            on_s: 0.0,
            pending_until: None,
            said: Said::default(),
            tokens: self.cfg.update_burst,
            tokens_s: t0,
            uid: {
                self.next_uid += 1;
                self.next_uid
            },
            shadow_of: None,
            last_power: 0.0,
            dip_power: None,
        }
    }

    /// Whether burst `b` of track `i` lay inside the band of a stronger emitter on the air
    /// at the same time: a peak of that emitter's own spectrum (an FSK tone, an OOK
    /// carrier's keying lines), which comes and goes with its modulation, not a hop.
    fn inside_stronger(&self, i: usize, b: &Burst) -> bool {
        self.tracks.iter().enumerate().any(|(j, o)| {
            j != i
                && o.shadow_of.is_none()
                && o.snr_db > b.snr_db
                && (o.centre_hz - b.freq_hz).abs() <= o.bandwidth_hz / 2.0
                && o.last_seen_s >= b.start_s
                && o.first_seen_s <= b.end_s
        })
    }

    /// Tracks born as a stronger track switches on, or while it is on (in a burst seen to
    /// begin, at most the hop window ago: a keyed transmission, not a carrier that was on
    /// before the stream started) if far weaker, are held as its lines: the spectrum of one keyed transmission holds many (sidebands
    /// at the keying rate, harmonics, a front end's intermodulation) that come and go with
    /// its keying. What ends with it (or before) was its; what outlives it, or stays on
    /// longer than `hold_s`, is an emitter of its own and is reported then.
    fn shadow_onsets(&mut self, t0: f64) {
        let window_s = self.cfg.hop.window_s;
        let stream_start_s = *self.start_s.get_or_insert(t0);
        let onset_s = 1.5 * self.cfg.frame_s;
        let snr = |t: &Track| {
            t.seen
                .map_or(f64::NEG_INFINITY, |s| s.power / s.noise.max(1e-30))
        };
        for i in 0..self.tracks.len() {
            let t = &self.tracks[i];
            if t.hits != 0 || t.seen.is_none() || t.shadow_of.is_some() {
                continue;
            }
            let mine = snr(t);
            let owner = self
                .tracks
                .iter()
                .enumerate()
                .filter(|&(j, o)| {
                    // Switched on with it (within one spectrum of its burst's start), or
                    // during it and a tenth of its strength or less: sidebands, harmonics
                    // and intermodulation products sit that far down; an independent
                    // transmitter beside a carrier is usually not, and is not held.
                    // Nothing is seen switching on in the stream's first spectrum.
                    let onset = t0 > stream_start_s
                        && (o.hits == 0 || !o.seen_prev || o.burst_start_s >= t0 - onset_s);
                    let during = o.burst_start_s > stream_start_s
                        && o.burst_start_s >= t0 - window_s
                        && snr(o) > 10.0 * mine;
                    j != i
                        && o.shadow_of.is_none()
                        && o.seen.is_some()
                        && snr(o) > mine
                        && (onset || during)
                })
                .max_by(|a, b| snr(a.1).total_cmp(&snr(b.1)))
                .map(|(_, o)| o.uid);
            self.tracks[i].shadow_of = owner;
        }
    }

    /// Ends the shadows whose owner is off: a line that went off with it (or before) was
    /// the owner's and is dropped; one still on is an emitter of its own.
    fn resolve_shadows(&mut self, t1: f64) {
        for i in 0..self.tracks.len() {
            let Some(uid) = self.tracks[i].shadow_of else {
                continue;
            };
            // On = seen by the fast test this spectrum: the slow mean holds a burst (and
            // its lines) for a while after it ends, which is not being on.
            let owner_on = self
                .tracks
                .iter()
                .any(|o| o.uid == uid && o.fast_seen_s >= t1);
            if owner_on && t1 - self.tracks[i].first_seen_s <= self.cfg.hold_s {
                continue;
            }
            let t = &mut self.tracks[i];
            if t.fast_seen_s >= t1 || owner_on {
                t.shadow_of = None;
            } else {
                // Forgotten below, with nothing said.
                t.pending_until = None;
                t.last_seen_s = f64::NEG_INFINITY;
            }
        }
    }

    /// Reports track `i` if its time has come (see `pending_until`): classified, then
    /// `raised` with its best figures so far.
    fn raise_if_due(
        &mut self,
        i: usize,
        t1: f64,
        ctx: &FrameCtx<'_>,
        next_id: &mut u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        let t = &self.tracks[i];
        if t.confirmed || t.shadow_of.is_some() || !t.pending_until.is_some_and(|p| p <= t1) {
            return;
        }
        // A track the slow mean alone has shown waits while the floor is young (the first
        // slow window of the stream): a signal on from the start is then seen in pieces,
        // edge segments first, that a few spectra later join into one. The end of the
        // stream (and a rise's report) forces it.
        let young = self
            .start_s
            .is_some_and(|s| t1 < s + self.cfg.slow_window_s);
        if young
            && t.fast_seen_s == f64::NEG_INFINITY
            && t.pending_until.is_some_and(|p| p > f64::NEG_INFINITY)
        {
            return;
        }
        let mut tr = t.clone();
        self.classify(&mut tr, ctx.knowledge);
        tr.silent |= self.is_artefact(&tr);
        tr.confirmed = true;
        tr.pending_until = None;
        tr.last_report_s = t1;
        if !tr.silent {
            *next_id += 1;
            tr.alert_id = *next_id;
            let a = tr.main_alert(AlertState::Raised);
            tr.note_said(&a);
            emit(a);
        }
        self.tracks[i] = tr;
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
                activity: None,
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

    /// Forgets the unreported tracks overlapping `lo_hz..hi_hz` that do not stand
    /// `min_snr_db` over the old floor: the floor there has just risen as a whole (the
    /// jamming rule's business, or the broadband spill of a strong burst), so what was seen
    /// rising at about the rise's level is that. Returns whether some track overlapping
    /// the rise (reported, or trusted and kept) stands clear of it: the emitter whose
    /// spill the rise may be.
    pub fn forget_unconfirmed(&mut self, lo_hz: f64, hi_hz: f64, min_snr_db: f64) -> bool {
        let clear =
            |t: &Track| (t.trusted || t.confirmed) && t.snr_db.max(t.best_snr_db) >= min_snr_db;
        self.tracks
            .retain(|t| t.confirmed || !t.overlaps(lo_hz, hi_hz, 0.0) || clear(t));
        self.tracks
            .iter()
            .any(|t| t.overlaps(lo_hz, hi_hz, 0.0) && clear(t))
    }

    /// Reports a wide burst that the floor model saw only as a rise of the floor (the
    /// jamming rule's snap) and that ended before it could be jamming: one emitter,
    /// raised now with the rise's band and level, cleared after the hold time like any
    /// other.
    pub fn report_rise(
        &mut self,
        rise: &Rise,
        ctx: &FrameCtx<'_>,
        next_id: &mut u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        let centre = (rise.lo_hz + rise.hi_hz) / 2.0;
        let noise = 1.0;
        let power = db_inv(rise.snr_db);
        let seen = Seen {
            lo_hz: rise.lo_hz,
            hi_hz: rise.hi_hz,
            centre_weighted: centre * power,
            power,
            noise,
            fast: true,
            trusted: true,
        };
        let mut t = self.new_track(
            rise.first_s,
            rise.last_s,
            rise.lo_hz,
            rise.hi_hz,
            centre,
            seen,
        );
        t.seen = None;
        t.power_dbfs = rise.power_dbfs;
        t.best_power_dbfs = rise.power_dbfs;
        t.best_snr_db = rise.snr_db;
        t.peak_snr_db = rise.snr_db;
        t.max_bandwidth_hz = rise.hi_hz - rise.lo_hz;
        t.hits = 1;
        t.frames = 1;
        t.bursts = 1;
        t.on_s = rise.last_s - rise.first_s;
        t.fast_seen_s = rise.last_s;
        t.strong_seen_s = rise.last_s;
        t.trusted = true;
        t.pending_until = Some(f64::NEG_INFINITY);
        self.tracks.push(t);
        let i = self.tracks.len() - 1;
        self.raise_if_due(i, ctx.t1, ctx, next_id, emit);
    }

    /// Ends the stream: every open alert is cleared.
    pub fn finish(
        &mut self,
        knowledge: Option<&dyn Knowledge>,
        next_id: &mut u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        // The stream's end ends every burst: what was waiting to be reported (a wide
        // signal in a capture shorter than the jamming rule's look, a burst in the hop
        // window) and was trusted is reported now, then cleared.
        let t_end = self
            .tracks
            .iter()
            .map(|t| t.last_seen_s)
            .fold(f64::NEG_INFINITY, f64::max);
        let ctx = FrameCtx {
            t0: t_end,
            t1: t_end,
            knowledge,
            exclude: &[],
        };
        for i in 0..self.tracks.len() {
            if self.tracks[i].trusted && self.tracks[i].shadow_of.is_none() {
                self.tracks[i].pending_until = Some(f64::NEG_INFINITY);
                self.raise_if_due(i, t_end, &ctx, next_id, emit);
            }
        }
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
        activity: None,
    }
}
