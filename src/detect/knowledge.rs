//! What the detector may know about the air before it starts: the band plan (named bands,
//! their priority and rules, known emitters to ignore) and a learned baseline (emitters
//! that are normally there, at what level). Both are optional; the detector asks through
//! this trait so that it stays a pure stage, independent of file formats.

use std::sync::Arc;

use crate::alert::{AlertKind, Severity};

/// Which alert rules apply in a band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// `new_emitter`.
    pub new_emitter: bool,
    /// `hopping`.
    pub hopping: bool,
    /// `jamming`.
    pub jamming: bool,
    /// `power_change`.
    pub power_change: bool,
    /// `emitter_lost`.
    pub emitter_lost: bool,
    /// `watchlist`.
    pub watchlist: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            new_emitter: true,
            hopping: true,
            jamming: true,
            power_change: true,
            emitter_lost: true,
            watchlist: false,
        }
    }
}

impl Rules {
    /// Whether alerts of `kind` may be raised. Health kinds always may.
    pub fn allows(&self, kind: AlertKind) -> bool {
        match kind {
            AlertKind::NewEmitter => self.new_emitter,
            AlertKind::Hopping => self.hopping,
            AlertKind::Jamming => self.jamming,
            AlertKind::PowerChange => self.power_change,
            AlertKind::EmitterLost => self.emitter_lost,
            AlertKind::Watchlist => self.watchlist,
            _ => true,
        }
    }
}

/// A band of the band plan, as the detector needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct BandInfo {
    /// Name shown in alerts.
    pub name: Arc<str>,
    /// Severity of alerts in this band.
    pub severity: Severity,
    /// Any activity raises a `watchlist` alert.
    pub watch: bool,
    /// Which rules apply.
    pub rules: Rules,
}

/// An emitter the baseline expects.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// Centre frequency.
    pub freq_hz: f64,
    /// Occupied bandwidth.
    pub bandwidth_hz: f64,
    /// Usual in-band power.
    pub power_dbfs: f64,
    /// Fraction of the learning time it was on.
    pub duty: f64,
}

/// Prior knowledge about the air.
pub trait Knowledge: Send + Sync + std::fmt::Debug {
    /// The band `freq_hz` falls in (the most specific one), if any.
    fn band_at(&self, freq_hz: f64) -> Option<BandInfo>;
    /// True for a known emitter the plan says to ignore.
    fn ignored(&self, freq_hz: f64, bandwidth_hz: f64) -> bool;
    /// The baseline emitter at this frequency, if the baseline knows one.
    fn known(&self, freq_hz: f64, bandwidth_hz: f64) -> Option<Expected>;
    /// Baseline emitters that are normally on (candidates for `emitter_lost`).
    fn expected(&self) -> &[Expected];
    /// The baseline's mean noise floor at `freq_hz` (linear power per bin), if learned.
    fn floor_at(&self, _freq_hz: f64) -> Option<f32> {
        None
    }
}
