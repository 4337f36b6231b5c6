//! What the detector may know about the air before it starts: the band plan (named bands,
//! their priority and rules, known emitters to ignore), a learned baseline (emitters
//! that are normally there, at what level) and the operator's known-emitters list
//! (`--known FILE`, marked from the console), which is treated like the baseline. All are
//! optional; the detector asks through [`Knowledge`] so that it stays a pure stage,
//! independent of file formats.

use std::sync::Arc;

use super::bandplan::{Band, BandPlan, DEFAULT_RULES};
use super::baseline::{Baseline, KnownEmitter};
use crate::alert::{AlertKind, Severity};
use crate::types::KnownEntry;

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
    /// The same knowledge plus one emitter the operator marked as known while running;
    /// `None` when this knowledge cannot take one. The mark must not change
    /// [`Knowledge::expected`]: the tracker follows those emitters by position.
    fn with_marked(&self, _entry: &KnownEntry) -> Option<Arc<dyn Knowledge>> {
        None
    }
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

/// Band plan plus baseline plus known emitters: what a run knows.
#[derive(Debug, Default, Clone)]
pub struct Prior {
    plan: Option<Arc<BandPlan>>,
    baseline: Option<Arc<Baseline>>,
    expected: Vec<KnownEmitter>,
    known: Vec<KnownEntry>,
    /// Slack beyond the half bandwidths when matching a known entry (the baseline's two
    /// bins, on the run's grid).
    known_tol_hz: f64,
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
            known: Vec::new(),
            known_tol_hz: 0.0,
        }
    }

    /// Adds the operator's known emitters, matched like baseline emitters: the nearest
    /// whose band overlaps, give or take `tol_hz`. Those marked `always_on` join the
    /// emitters expected to be on (`emitter_lost`).
    pub fn with_known(mut self, known: Vec<KnownEntry>, tol_hz: f64) -> Self {
        self.expected
            .extend(known.iter().filter(|k| k.always_on).map(as_emitter));
        self.known = known;
        self.known_tol_hz = tol_hz.max(0.0);
        self
    }

    /// The operator's known emitters.
    pub fn known_entries(&self) -> &[KnownEntry] {
        &self.known
    }
}

/// A known entry in the baseline's terms. Without a level, `power_dbfs` is NaN: every
/// comparison with NaN is false, so `power_change` (|level − NaN| ≥ 10 dB) never fires
/// for it, which is what "no level known" means.
fn as_emitter(k: &KnownEntry) -> KnownEmitter {
    KnownEmitter {
        freq_hz: k.freq_hz,
        bandwidth_hz: k.bandwidth_hz,
        power_dbfs: k.power_dbfs.unwrap_or(f64::NAN),
        duty: if k.always_on { 1.0 } else { 0.0 },
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
        let learned = self
            .baseline
            .as_ref()
            .and_then(|b| b.knows(freq_hz, bandwidth_hz).copied());
        learned.or_else(|| {
            self.known
                .iter()
                .filter(|k| {
                    (k.freq_hz - freq_hz).abs()
                        <= (k.bandwidth_hz + bandwidth_hz) / 2.0 + self.known_tol_hz
                })
                .min_by(|a, b| {
                    (a.freq_hz - freq_hz)
                        .abs()
                        .total_cmp(&(b.freq_hz - freq_hz).abs())
                })
                .map(as_emitter)
        })
    }

    fn expected(&self) -> &[KnownEmitter] {
        &self.expected
    }

    fn with_marked(&self, entry: &KnownEntry) -> Option<Arc<dyn Knowledge>> {
        let mut next = self.clone();
        // Not `with_known`: an `always_on` mark waits for the next run, so that the
        // tracker's watches on `expected` stay in step.
        next.known.push(entry.clone());
        Some(Arc::new(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(freq_hz: f64, always_on: bool) -> KnownEntry {
        KnownEntry {
            freq_hz,
            bandwidth_hz: 10_000.0,
            label: None,
            note: None,
            power_dbfs: always_on.then_some(-40.0),
            always_on,
        }
    }

    #[test]
    fn known_entries_match_like_baseline_emitters() {
        let p = Prior::new(None, None).with_known(vec![entry(100e6, false)], 2_000.0);
        assert!(p.known(100e6, 5_000.0).is_some());
        // Half bandwidths (5 + 2.5 kHz) plus the 2 kHz slack.
        assert!(p.known(100e6 + 9_000.0, 5_000.0).is_some());
        assert!(p.known(100e6 + 10_000.0, 5_000.0).is_none());
        let k = p.known(100e6, 5_000.0).unwrap();
        assert!(k.power_dbfs.is_nan() && k.duty == 0.0);
        assert!(p.expected().is_empty(), "not always on: never lost");
        let on = Prior::new(None, None).with_known(vec![entry(200e6, true)], 0.0);
        assert_eq!(on.expected().len(), 1);
        assert_eq!(on.expected()[0].power_dbfs, -40.0);
    }

    /// A carrier on for 1.5 s, off for 3.5 s (longer than the hold time), on again: the
    /// detector on hand-made noise, with `knowledge` from the start and `mark` swapped in
    /// after 3 s.
    fn run(
        knowledge: Option<Arc<dyn Knowledge>>,
        mark: Option<KnownEntry>,
    ) -> Vec<crate::alert::Alert> {
        use crate::detect::{Detector, DetectorConfig};
        use crate::dsp::{SpectrumConfig, WindowKind};
        use rand::SeedableRng;
        use rand_distr::{Distribution, Gamma};
        let spec = SpectrumConfig::new(1024, 50, 20, WindowKind::Hann);
        let meta = crate::types::StreamMeta::for_test(1.024e6, 433.92e6);
        let mut det =
            Detector::new(DetectorConfig::default(), &spec, &meta).with_knowledge(knowledge);
        let k = spec.equivalent_averages();
        let g = Gamma::new(k, 1e-7 / k).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut alerts = Vec::new();
        let mut p = vec![0.0f32; 1024];
        for f in 0..800 {
            if f == 300 {
                if let (Some(e), Some(k)) = (&mark, det.knowledge.clone()) {
                    det.set_knowledge(k.with_marked(e));
                }
            }
            for v in p.iter_mut() {
                *v = g.sample(&mut rng) as f32;
            }
            if (100..250).contains(&f) || (600..750).contains(&f) {
                p[700] += 1e-5;
                p[699] += 2.5e-6;
                p[701] += 2.5e-6;
            }
            det.push(&p, (f * spec.span()) as u64, &mut |a| alerts.push(a));
        }
        det.finish(&mut |a| alerts.push(a));
        alerts
    }

    fn raised(alerts: &[crate::alert::Alert], kind: AlertKind) -> Vec<&crate::alert::Alert> {
        alerts
            .iter()
            .filter(|a| a.kind == kind && a.state == crate::alert::AlertState::Raised)
            .collect()
    }

    #[test]
    fn the_detector_treats_a_marked_emitter_like_a_baseline_one() {
        let empty = || Some(Arc::new(Prior::new(None, None)) as Arc<dyn Knowledge>);
        // Unknown: each appearance is a new emitter.
        let plain = run(empty(), None);
        let first = raised(&plain, AlertKind::NewEmitter);
        assert_eq!(first.len(), 2, "{plain:?}");
        // Marked after the first appearance, as the console does: the second is silent.
        let a = first[0];
        let mark = KnownEntry {
            freq_hz: a.freq_hz,
            bandwidth_hz: a.bandwidth_hz,
            label: None,
            note: Some("ours".into()),
            power_dbfs: Some(a.power_dbfs),
            always_on: false,
        };
        let marked = run(empty(), Some(mark.clone()));
        assert_eq!(
            raised(&marked, AlertKind::NewEmitter).len(),
            1,
            "{marked:?}"
        );
        assert!(raised(&marked, AlertKind::PowerChange).is_empty());
        // Known from the start at a level 30 dB off: no new_emitter, but power_change.
        let quiet = KnownEntry {
            power_dbfs: Some(a.power_dbfs - 30.0),
            ..mark
        };
        let k = Prior::new(None, None).with_known(vec![quiet], 2_000.0);
        let off = run(Some(Arc::new(k)), None);
        assert!(raised(&off, AlertKind::NewEmitter).is_empty(), "{off:?}");
        assert_eq!(raised(&off, AlertKind::PowerChange).len(), 2, "{off:?}");
    }

    #[test]
    fn a_mark_adds_a_known_emitter_and_keeps_the_expected_list() {
        let p = Prior::new(None, None).with_known(vec![entry(200e6, true)], 1_000.0);
        assert!(p.known(300e6, 1_000.0).is_none());
        let marked = p.with_marked(&entry(300e6, true)).unwrap();
        assert!(marked.known(300e6, 1_000.0).is_some());
        assert!(marked.known(200e6, 1_000.0).is_some());
        assert_eq!(marked.expected().len(), 1);
    }
}
