//! The tracker: associates per-frame detections into emitters over time, and turns an
//! emitter's life into one alert — raised after it has been seen enough times, updated at
//! a bounded rate, cleared after it has been quiet for the hold time. Bursty emitters
//! (packets every 100 ms) stay one emitter because the hold time spans their gaps.

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
}

impl Default for TrackerConfig {
    fn default() -> Self {
        TrackerConfig {
            confirm_hits: 3,
            tentative_s: 0.5,
            hold_s: 3.0,
            update_every_s: 5.0,
            tolerance_bins: 2.0,
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
    /// Reported (raised) yet.
    pub confirmed: bool,
    last_report_s: f64,
    seen: Option<Seen>,
}

impl Track {
    fn overlaps(&self, lo_hz: f64, hi_hz: f64, tol_hz: f64) -> bool {
        let half = self.bandwidth_hz / 2.0 + tol_hz;
        lo_hz <= self.centre_hz + half && hi_hz >= self.centre_hz - half
    }

    fn alert(&self, state: AlertState) -> Alert {
        Alert {
            id: self.alert_id,
            kind: AlertKind::NewEmitter,
            state,
            severity: Severity::Warning,
            first_seen_s: round_to(self.first_seen_s, 4),
            last_seen_s: round_to(self.last_seen_s, 4),
            freq_hz: round_to(self.centre_hz, 0),
            bandwidth_hz: round_to(self.bandwidth_hz, 0),
            power_dbfs: round_to(self.power_dbfs, 1),
            snr_db: round_to(self.snr_db, 1),
            band: None,
        }
    }
}

/// Follows emitters across frames.
#[derive(Debug, Clone)]
pub struct Tracker {
    cfg: TrackerConfig,
    grid: FreqGrid,
    tracks: Vec<Track>,
}

fn db(x: f64) -> f64 {
    10.0 * x.max(1e-30).log10()
}

impl Tracker {
    /// A tracker for spectra on `grid`.
    pub fn new(cfg: TrackerConfig, grid: FreqGrid) -> Self {
        Tracker {
            cfg,
            grid,
            tracks: Vec::with_capacity(64),
        }
    }

    /// Emitters currently followed (confirmed or not).
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Folds in one frame's detections, covering stream time `[t0, t1)`, and emits the
    /// alerts that follow. `next_id` numbers newly raised alerts.
    pub fn update(
        &mut self,
        detections: &[Detection],
        t0: f64,
        t1: f64,
        next_id: &mut u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        let bin_hz = self.grid.bin_hz();
        let tol_hz = self.cfg.tolerance_bins * bin_hz;
        for d in detections {
            let lo = self.grid.freq_of(d.lo_bin as f64 - 0.5);
            let hi = self.grid.freq_of(d.hi_bin as f64 + 0.5);
            let centre = self.grid.freq_of(d.centre_bin);
            let best = self
                .tracks
                .iter()
                .enumerate()
                .filter(|(_, t)| t.overlaps(lo, hi, tol_hz))
                .min_by(|(_, a), (_, b)| {
                    (a.centre_hz - centre)
                        .abs()
                        .total_cmp(&(b.centre_hz - centre).abs())
                })
                .map(|(i, _)| i);
            let seen = Seen {
                lo_hz: lo,
                hi_hz: hi,
                centre_weighted: centre * d.power as f64,
                power: d.power as f64,
                noise: d.noise as f64,
            };
            match best {
                Some(i) => {
                    let t = &mut self.tracks[i];
                    t.seen = Some(match t.seen {
                        None => seen,
                        Some(s) => Seen {
                            lo_hz: s.lo_hz.min(lo),
                            hi_hz: s.hi_hz.max(hi),
                            centre_weighted: s.centre_weighted + seen.centre_weighted,
                            power: s.power + seen.power,
                            noise: s.noise + seen.noise,
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
                    confirmed: false,
                    last_report_s: t0,
                    seen: Some(seen),
                }),
            }
        }

        let cfg = self.cfg;
        for t in &mut self.tracks {
            let Some(s) = t.seen.take() else { continue };
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
            if !t.confirmed && t.hits >= cfg.confirm_hits {
                t.confirmed = true;
                *next_id += 1;
                t.alert_id = *next_id;
                t.last_report_s = t1;
                emit(t.alert(AlertState::Raised));
            } else if t.confirmed && t1 - t.last_report_s >= cfg.update_every_s {
                t.last_report_s = t1;
                emit(t.alert(AlertState::Updated));
            }
        }

        self.tracks.retain(|t| {
            let quiet = t1 - t.last_seen_s;
            if t.confirmed {
                if quiet >= cfg.hold_s {
                    emit(t.alert(AlertState::Cleared));
                    return false;
                }
                true
            } else {
                quiet < cfg.tentative_s
            }
        });
    }

    /// Ends the stream: every reported emitter is cleared.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        for t in self.tracks.drain(..) {
            if t.confirmed {
                emit(t.alert(AlertState::Cleared));
            }
        }
    }
}
