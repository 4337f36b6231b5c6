//! What the detector may know about the air before it starts: the band plan (named bands,
//! their priority and rules, known emitters to ignore) and a learned baseline (emitters
//! that are normally there, at what level). Both are optional; the detector asks through
//! [`Knowledge`] so that it stays a pure stage, independent of file formats.

use std::sync::Arc;

use super::bandplan::{Band, BandPlan, DEFAULT_RULES};
use super::baseline::{Baseline, KnownEmitter};
use crate::alert::{AlertKind, Severity};

/// Prior knowledge about the air.
pub trait Knowledge: Send + Sync + std::fmt::Debug {
    /// The band `freq_hz` falls in (the most specific one), if any.
    fn band_at(&self, freq_hz: f64) -> Option<&Band>;
    /// True for a known emitter the plan says to ignore.
    fn ignored(&self, freq_hz: f64, bandwidth_hz: f64) -> bool;
    /// The baseline emitter at this frequency, if the baseline knows one.
    fn known(&self, freq_hz: f64, bandwidth_hz: f64) -> Option<KnownEmitter>;
    /// Baseline emitters that are normally on (candidates for `emitter_lost`).
    fn expected(&self) -> &[KnownEmitter];
}

/// Whether `kind` may be raised in `band` (or outside every band).
pub fn rule_enabled(band: Option<&Band>, kind: AlertKind) -> bool {
    match band {
        Some(b) => b.rule_enabled(kind),
        None => !super::bandplan::BAND_RULES.contains(&kind) || DEFAULT_RULES.contains(&kind),
    }
}

/// Severity of `kind` in `band`, or `default` outside every band.
pub fn severity(band: Option<&Band>, kind: AlertKind, default: Severity) -> Severity {
    band.map_or(default, |b| b.severity_of(kind))
}

/// Band plan plus baseline: what a run knows.
#[derive(Debug, Default, Clone)]
pub struct Prior {
    plan: Option<Arc<BandPlan>>,
    baseline: Option<Arc<Baseline>>,
    expected: Vec<KnownEmitter>,
}

impl Prior {
    /// Knowledge from a band plan and/or a baseline. Baseline emitters on at least half
    /// the learning time are expected to be there.
    pub fn new(plan: Option<Arc<BandPlan>>, baseline: Option<Arc<Baseline>>) -> Self {
        let expected = baseline
            .as_ref()
            .map(|b| {
                b.emitters
                    .iter()
                    .filter(|e| e.duty >= 0.5)
                    .copied()
                    .collect()
            })
            .unwrap_or_default();
        Prior {
            plan,
            baseline,
            expected,
        }
    }
}

impl Knowledge for Prior {
    fn band_at(&self, freq_hz: f64) -> Option<&Band> {
        self.plan.as_ref().and_then(|p| p.band_at(freq_hz))
    }

    fn ignored(&self, freq_hz: f64, bandwidth_hz: f64) -> bool {
        self.plan
            .as_ref()
            .is_some_and(|p| p.ignored(freq_hz, bandwidth_hz).is_some())
    }

    fn known(&self, freq_hz: f64, bandwidth_hz: f64) -> Option<KnownEmitter> {
        self.baseline
            .as_ref()
            .and_then(|b| b.knows(freq_hz, bandwidth_hz).copied())
    }

    fn expected(&self) -> &[KnownEmitter] {
        &self.expected
    }
}
