//! Detection for a sweeping receiver: one radio stepping across many bands.
//!
//! ```text
//!  spectrum of step i, dwell d ─▶ keep the middle bins ─▶ step i's Detector ─▶ Merger ─▶ Alert
//!    (tagged by the source)       (edges the filter      (its own floor,      one alert per
//!                                  rolls off are dropped) tracker, grid in    emitter across
//!                                                         absolute Hz)        seams
//! ```
//!
//! Every step has a detector of its own, so the noise floor, the slow test and the
//! tracks are kept per step, as if each step were a fixed tune seen through a window that
//! opens for a dwell every revisit. Its grid is the kept part of the step's spectrum in
//! absolute frequency, so alerts carry absolute frequencies and band names as in fixed-tune
//! mode. Time is the stream's sample index as everywhere; the tracker's times (forgetting,
//! hold, hop window) are stretched to a number of revisits ([`plan::SweepPlan::step_config`]).
//! A new dwell restarts the slow test, whose moving mean must not mix spectra from before
//! the step was left with those after it came back.
//!
//! [`plan`] makes the schedule, [`poi`] states how likely a pulsed emitter is to be caught
//! and how soon, [`panorama`] stitches the steps for display, [`merge`] joins what two
//! steps see of one emitter.

pub mod merge;
pub mod panorama;
pub mod plan;
pub mod poi;

use std::sync::Arc;

use crate::alert::{Alert, AlertState};
use crate::detect::bandplan::Band;
use crate::detect::baseline::KnownEmitter;
use crate::detect::{Detector, DetectorConfig, Health, Knowledge};
use crate::dsp::SpectrumConfig;
use crate::types::{SampleIndex, SourceEvent, StreamMeta};

pub use merge::Merger;
pub use panorama::Panorama;
pub use plan::{Geometry, Step, SweepPlan, SweepSpec, SweptBand, Visit};
pub use poi::{binomial_band, Looks, Poi, Pulse, Rule};

/// What a sweep's detection saw of one step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StepStats {
    /// Dwells analysed.
    pub visits: u64,
    /// Spectra analysed.
    pub spectra: u64,
    /// Stream time of the first dwell's first spectrum, s.
    pub first_s: f64,
    /// Stream time of the last dwell's first spectrum, s.
    pub last_s: f64,
}

impl StepStats {
    /// Mean time between visits, as measured (`None` before a second visit).
    pub fn revisit_s(&self) -> Option<f64> {
        (self.visits > 1).then(|| (self.last_s - self.first_s) / (self.visits - 1) as f64)
    }
}

/// Bandwidth a sweep looked at, Hz: each step's owned width once per cycle's worth of its
/// visits that detection analysed (`steps` from [`SweepDetector::stats`]).
pub fn swept_hz(plan: &SweepPlan, steps: &[StepStats]) -> f64 {
    steps
        .iter()
        .zip(&plan.steps)
        .enumerate()
        .map(|(i, (st, p))| {
            let per_cycle = plan.looks(i).len().max(1);
            st.visits as f64 / per_cycle as f64 * (p.own_hi_hz - p.own_lo_hz)
        })
        .sum()
}

/// Phases of a pulse train the stated probability of intercept tries.
pub const POI_PHASES: usize = 720;
/// It looks this many cycles ahead, and at least [`POI_MIN_HORIZON_S`].
pub const POI_HORIZON_CYCLES: f64 = 50.0;
/// The shortest look ahead, s.
pub const POI_MIN_HORIZON_S: f64 = 120.0;

/// Where step `i` of `plan` is looked at, for the probability-of-intercept model.
pub fn step_looks(plan: &SweepPlan, i: usize) -> Looks {
    Looks {
        rate_hz: plan.geometry.rate_hz,
        cycle: plan.cycle_samples(),
        visits: plan.looks(i),
        span: plan.geometry.span as u64,
        history: plan.geometry.history as u64,
    }
}

/// The probability of intercept of `pulse` at step `i`, under the rules of the step's
/// detector (`base` stretched as [`SweepPlan::step_config`] does).
pub fn step_poi(plan: &SweepPlan, i: usize, base: &DetectorConfig, pulse: Pulse) -> Poi {
    let rule = Rule::from(&plan.step_config(i, base).tracker);
    let horizon = (POI_HORIZON_CYCLES * plan.cycle_s()).max(POI_MIN_HORIZON_S);
    Poi::new(&step_looks(plan, i), pulse, &rule, POI_PHASES, horizon)
}

/// What a band of the sweep can promise: its worst step's revisit time and probability of
/// intercept.
#[derive(Debug, Clone, PartialEq)]
pub struct BandPoi {
    /// Index into [`SweepPlan::bands`].
    pub band: usize,
    /// The band's step that is worst placed (the last to report the pulse train).
    pub step: usize,
    /// That step's mean revisit time, s.
    pub revisit_s: f64,
    /// Its longest gap between visits, s.
    pub worst_gap_s: f64,
    /// Its probability of intercept.
    pub poi: Poi,
}

/// Every swept band's revisit time and probability of intercept for `pulse`.
pub fn band_pois(plan: &SweepPlan, base: &DetectorConfig, pulse: Pulse) -> Vec<BandPoi> {
    let mut per_step: Vec<Option<Poi>> = vec![None; plan.steps.len()];
    let mut out = Vec::with_capacity(plan.bands.len());
    for (b, band) in plan.bands.iter().enumerate() {
        let mut worst: Option<(usize, Poi)> = None;
        for &i in &band.steps {
            let poi = per_step[i]
                .get_or_insert_with(|| step_poi(plan, i, base, pulse))
                .clone();
            // Worst: reports the fewest phases by the horizon, then the latest for 90%.
            let key = |p: &Poi| (p.eventually(), -p.time_for(0.9).unwrap_or(f64::INFINITY));
            if worst.as_ref().is_none_or(|(_, w)| key(&poi) < key(w)) {
                worst = Some((i, poi));
            }
        }
        if let Some((step, poi)) = worst {
            let (revisit_s, worst_gap_s) = plan.revisit_s(step);
            out.push(BandPoi {
                band: b,
                step,
                revisit_s,
                worst_gap_s,
                poi,
            });
        }
    }
    out
}

/// A step's view of what is known: the band plan and baseline, with only the baseline
/// emitters in the part of the spectrum the step owns expected to be heard (another step
/// listens for the rest).
#[derive(Debug)]
struct StepKnowledge {
    inner: Arc<dyn Knowledge>,
    expected: Vec<KnownEmitter>,
}

impl Knowledge for StepKnowledge {
    fn band_at(&self, freq_hz: f64) -> Option<&Band> {
        self.inner.band_at(freq_hz)
    }
    fn ignored(&self, freq_hz: f64, bandwidth_hz: f64) -> bool {
        self.inner.ignored(freq_hz, bandwidth_hz)
    }
    fn known(&self, freq_hz: f64, bandwidth_hz: f64) -> Option<KnownEmitter> {
        self.inner.known(freq_hz, bandwidth_hz)
    }
    fn expected(&self) -> &[KnownEmitter] {
        &self.expected
    }
}

struct StepDetector {
    det: Detector,
    /// The dwell the last spectrum came from.
    dwell: Option<u64>,
    stats: StepStats,
}

/// The detection stage of a sweep: a detector per step and the merger across them.
pub struct SweepDetector {
    plan: Arc<SweepPlan>,
    steps: Vec<StepDetector>,
    merger: Merger,
    health: Health,
    knowledge: Option<Arc<dyn Knowledge>>,
    next_id: u64,
    /// A step's alerts of one spectrum, before the merger (reused: no allocation per push).
    pending: Vec<Alert>,
    rate: f64,
    frame_samples: u64,
}

impl std::fmt::Debug for SweepDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SweepDetector")
            .field("steps", &self.steps.len())
            .field("open", &self.merger.open().len())
            .finish()
    }
}

/// What step `i` of `plan` knows: `knowledge`, its expected emitters cut to the step's own
/// range.
fn step_knowledge(
    plan: &SweepPlan,
    i: usize,
    knowledge: &Option<Arc<dyn Knowledge>>,
) -> Option<Arc<dyn Knowledge>> {
    let s = &plan.steps[i];
    knowledge.clone().map(|inner| {
        let expected = inner
            .expected()
            .iter()
            .filter(|e| s.own_lo_hz <= e.freq_hz && e.freq_hz < s.own_hi_hz)
            .copied()
            .collect();
        Arc::new(StepKnowledge { inner, expected }) as Arc<dyn Knowledge>
    })
}

impl SweepDetector {
    /// Switches every step to new knowledge mid-stream (an emitter marked known on the
    /// console): see [`Detector::set_knowledge`].
    pub fn set_knowledge(&mut self, knowledge: Option<Arc<dyn Knowledge>>) {
        for (i, st) in self.steps.iter_mut().enumerate() {
            st.det
                .set_knowledge(step_knowledge(&self.plan, i, &knowledge));
        }
        self.knowledge = knowledge;
    }

    /// Detection for `plan`'s steps, each spectrum made with `spectrum` from the stream
    /// `meta`, classified against `knowledge`.
    pub fn new(
        cfg: DetectorConfig,
        spectrum: &SpectrumConfig,
        meta: &StreamMeta,
        plan: Arc<SweepPlan>,
        knowledge: Option<Arc<dyn Knowledge>>,
    ) -> Self {
        let steps = (0..plan.steps.len())
            .map(|i| {
                let k = step_knowledge(&plan, i, &knowledge);
                StepDetector {
                    det: Detector::for_grid(
                        plan.step_config(i, &cfg),
                        spectrum,
                        meta,
                        plan.step_grid(i),
                    )
                    .with_receiver_lo(plan.steps[i].centre_hz)
                    .with_knowledge(k),
                    dwell: None,
                    stats: StepStats::default(),
                }
            })
            .collect();
        let pano = plan.panorama;
        SweepDetector {
            merger: Merger::new(
                cfg.tracker.tolerance_bins * plan.bin_hz(),
                cfg.tracker.update_every_s,
            ),
            // Health alerts are about the receiver: they name the whole swept span.
            health: Health::new(pano.center_freq_hz, pano.sample_rate_hz),
            knowledge,
            steps,
            plan,
            next_id: 0,
            pending: Vec::with_capacity(16),
            rate: meta.sample_rate_hz,
            frame_samples: (spectrum.span() + spectrum.history()) as u64,
        }
    }

    /// The plan being swept.
    pub fn plan(&self) -> &Arc<SweepPlan> {
        &self.plan
    }

    /// Processes one averaged spectrum (all `fft_len` bins, linear, fft-shifted), and its
    /// peak if there is one (see [`Detector::push_with_peak`]), of step `step` taken in
    /// dwell number `dwell`, covering samples from `start`; calls `emit` for each alert
    /// state change of the sweep.
    pub fn push(
        &mut self,
        power: &[f32],
        peak: Option<&[f32]>,
        start: SampleIndex,
        step: usize,
        dwell: u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        let Some(s) = self.steps.get_mut(step) else {
            return;
        };
        let t0 = start as f64 / self.rate;
        if s.dwell != Some(dwell) {
            s.det.restart();
            s.dwell = Some(dwell);
            s.stats.visits += 1;
            if s.stats.visits == 1 {
                s.stats.first_s = t0;
            }
            s.stats.last_s = t0;
        }
        s.stats.spectra += 1;
        let (k0, k1) = self.plan.steps[step].keep;
        let pending = &mut self.pending;
        s.det
            .push_with_peak(&power[k0..k1], peak.map(|p| &p[k0..k1]), start, &mut |a| {
                pending.push(a)
            });
        for a in self.pending.drain(..) {
            self.merger
                .on_alert(step, a, &mut self.next_id, self.knowledge.as_deref(), emit);
        }
        let t1 = (start + self.frame_samples) as f64 / self.rate;
        self.health.tick(t1, emit);
    }

    /// Step `step`'s noise floor over its kept bins (linear).
    pub fn step_floor(&self, step: usize) -> &[f32] {
        self.steps.get(step).map_or(&[], |s| s.det.floor())
    }

    /// Factor over the floor a bin must exceed in the fast test (the same at every step).
    pub fn fast_threshold(&self) -> f32 {
        self.steps.first().map_or(1.0, |s| s.det.fast_threshold())
    }

    /// `n` samples were lost just before stream index `at`.
    pub fn note_dropped(&mut self, n: u64, at: SampleIndex, emit: &mut dyn FnMut(Alert)) {
        let t = at as f64 / self.rate;
        self.health.dropped(n, t, &mut self.next_id, emit);
    }

    /// The source's health changed just before stream index `at`.
    pub fn note_source_event(
        &mut self,
        e: &SourceEvent,
        at: SampleIndex,
        emit: &mut dyn FnMut(Alert),
    ) {
        let t = at as f64 / self.rate;
        self.health.source_event(e, t, &mut self.next_id, emit);
    }

    /// Ends the stream: raises what was waiting to be, then clears every active alert.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        // Every step's last word first, then the raises before the rest: a step raising at
        // the end what another step has already cleared for good would otherwise stay a
        // second alert for one emitter across a seam.
        let mut last: Vec<(usize, Alert)> = Vec::new();
        for (i, s) in self.steps.iter_mut().enumerate() {
            s.det.finish(&mut |a| last.push((i, a)));
        }
        last.sort_by_key(|(_, a)| a.state != AlertState::Raised);
        for (i, a) in last {
            self.merger
                .on_alert(i, a, &mut self.next_id, self.knowledge.as_deref(), emit);
        }
        self.health.finish(emit);
    }

    /// Emitters open now: each one's alert id and the steps that report it.
    pub fn open_emitters(&self) -> Vec<(u64, Vec<usize>)> {
        self.merger.open()
    }

    /// What was seen of each step so far.
    pub fn stats(&self) -> Vec<StepStats> {
        self.steps.iter().map(|s| s.stats).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertKind;
    use crate::detect::bandplan::BandPlan;
    use crate::detect::Prior;
    use crate::dsp::WindowKind;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Gamma};

    const RATE: f64 = 2.4e6;

    /// What a test sweep gives back: its alerts, the detector, and the emitters (alert id,
    /// reporting steps) open before the end.
    type Swept = (Vec<Alert>, SweepDetector, Vec<(u64, Vec<usize>)>);

    fn setup() -> (SweepDetector, SpectrumConfig) {
        let spec = SpectrumConfig::new(1024, 50, 47, WindowKind::Hann);
        let plan = SweepPlan::new(
            &SweepSpec::Ranges(vec![(432e6, 436e6)]),
            &BandPlan::default_border(),
            Geometry {
                rate_hz: RATE,
                fft_len: 1024,
                span: spec.span(),
                history: spec.history(),
                keep_fraction: 0.7,
                dwell_spectra: 2,
                settle_samples: 2400,
                tunable: vec![],
                device: "driver=test".into(),
            },
        )
        .unwrap();
        let meta = StreamMeta::for_test(RATE, plan.panorama.center_freq_hz);
        let prior = Prior::new(Some(Arc::new(BandPlan::default_border())), None);
        let det = SweepDetector::new(
            DetectorConfig::default(),
            &spec,
            &meta,
            Arc::new(plan),
            Some(Arc::new(prior)),
        );
        (det, spec)
    }

    /// Runs `cycles` of the plan's schedule with Gamma noise and a carrier that each step
    /// sees at its own bin of `freq`, `width` bins wide; returns the alerts, and the
    /// emitters open before the end.
    fn sweep(freq: f64, width: usize, cycles: usize) -> Swept {
        sweep_when(freq, width, cycles, |_, _| true)
    }

    /// [`sweep`], the carrier on only in the visits `on(cycle, visit)` says.
    fn sweep_when(
        freq: f64,
        width: usize,
        cycles: usize,
        on: impl Fn(usize, usize) -> bool,
    ) -> Swept {
        let (det, spec) = setup();
        run(det, &spec, freq, width, cycles, on)
    }

    /// [`sweep_when`] on a detector already set up.
    fn run(
        mut det: SweepDetector,
        spec: &SpectrumConfig,
        freq: f64,
        width: usize,
        cycles: usize,
        on: impl Fn(usize, usize) -> bool,
    ) -> Swept {
        let plan = det.plan().clone();
        let k = spec.equivalent_averages();
        let g = Gamma::new(k, 1e-9 / k).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut alerts = Vec::new();
        let mut pos = 0u64;
        let mut dwell = 0u64;
        let mut p = vec![0.0f32; 1024];
        for c in 0..cycles {
            for (vi, v) in plan.cycle.iter().enumerate() {
                dwell += 1;
                pos += plan.geometry.settle_samples;
                let s = &plan.steps[v.step];
                let full = crate::dsp::FreqGrid {
                    bins: 1024,
                    sample_rate_hz: RATE,
                    center_freq_hz: s.centre_hz,
                };
                for j in 0..v.spectra {
                    for x in p.iter_mut() {
                        *x = g.sample(&mut rng) as f32;
                    }
                    let b = full.bin_of(freq).round();
                    let width = if on(c, vi) { width } else { 0 };
                    for d in 0..width as i64 {
                        let bin = b as i64 - width as i64 / 2 + d;
                        if (0..1024).contains(&bin) {
                            p[bin as usize] += 1e-6;
                        }
                    }
                    let start = pos + (j * spec.span()) as u64;
                    det.push(&p, None, start, v.step, dwell, &mut |a| alerts.push(a));
                }
                pos += plan.dwell_samples(v);
            }
        }
        let open = det.open_emitters();
        det.finish(&mut |a| alerts.push(a));
        (alerts, det, open)
    }

    #[test]
    fn a_carrier_is_reported_once_at_its_absolute_frequency_with_its_band() {
        let (alerts, det, open) = sweep(433.92e6, 3, 12);
        assert_eq!(open.len(), 1);
        let raised: Vec<&Alert> = alerts
            .iter()
            .filter(|a| a.state == AlertState::Raised)
            .collect();
        assert_eq!(raised.len(), 1, "{alerts:#?}");
        let a = raised[0];
        assert_eq!(a.kind, AlertKind::NewEmitter);
        assert!(
            (a.freq_hz - 433.92e6).abs() < det.plan().bin_hz(),
            "{}",
            a.freq_hz
        );
        assert_eq!(a.band.as_deref(), Some("LPD433"));
        assert_eq!(alerts.last().map(|a| a.state), Some(AlertState::Cleared));
        // Every step was visited as often as the schedule says.
        let per_cycle: Vec<u64> = (0..det.plan().steps.len())
            .map(|i| det.plan().cycle.iter().filter(|v| v.step == i).count() as u64)
            .collect();
        for (s, n) in det.stats().iter().zip(per_cycle) {
            assert_eq!(s.visits, 12 * n);
        }
    }

    #[test]
    fn an_emitter_across_a_seam_is_one_alert() {
        let (det, _) = setup();
        let seam = det.plan().steps[0].own_hi_hz;
        // 5 bins wide, centred on the seam between steps 0 and 1: inside both steps' kept
        // parts (they overlap by 72 bins), so both see all of it.
        let (alerts, _, open) = sweep(seam, 5, 12);
        // Both steps report it; the merger holds them as one.
        assert_eq!(open, [(1, vec![0, 1])]);
        let raised: Vec<&Alert> = alerts
            .iter()
            .filter(|a| a.state == AlertState::Raised)
            .collect();
        assert_eq!(raised.len(), 1, "{alerts:#?}");
        let cleared = alerts
            .iter()
            .find(|a| a.state == AlertState::Cleared)
            .expect("cleared at the end");
        assert!((cleared.freq_hz - seam).abs() < 5e3, "{cleared:?}");
    }

    #[test]
    fn an_emitter_across_a_seam_that_appears_at_the_end_is_one_alert() {
        let (det, _) = setup();
        let seam = det.plan().steps[0].own_hi_hz;
        // On from the last visit of step 0 in the last cycle: steps 0 and 1 see it on one
        // visit each, too briefly to report before the stream ends; the end raises it in
        // both, and both are one.
        let cycle = &det.plan().cycle;
        let last0 = cycle.iter().rposition(|v| v.step == 0).unwrap();
        let after1 = cycle[last0..].iter().filter(|v| v.step == 1).count();
        assert_eq!(after1, 1, "{cycle:?}");
        let (alerts, _, open) = sweep_when(seam, 5, 12, |c, vi| c == 11 && vi >= last0);
        assert_eq!(open.len(), 0, "nothing reported before the end");
        let raised: Vec<&Alert> = alerts
            .iter()
            .filter(|a| a.state == AlertState::Raised)
            .collect();
        assert_eq!(raised.len(), 1, "{alerts:#?}");
        assert!((raised[0].freq_hz - seam).abs() < 5e3, "{:?}", raised[0]);
        let cleared: Vec<&Alert> = alerts
            .iter()
            .filter(|a| a.state == AlertState::Cleared)
            .collect();
        assert_eq!(cleared.len(), 1, "{alerts:#?}");
        assert_eq!(cleared[0].id, raised[0].id);
    }

    #[test]
    fn an_emitter_marked_known_mid_sweep_is_not_new_in_any_step() {
        let (mut det, spec) = setup();
        // The carrier as the console would mark it, handed over before the sweep starts
        // (as the detect stage does between batches).
        let mark = crate::types::KnownEntry {
            freq_hz: 433.92e6,
            bandwidth_hz: 5e3,
            label: None,
            note: None,
            power_dbfs: None,
            always_on: false,
        };
        let prior = Prior::new(Some(Arc::new(BandPlan::default_border())), None);
        det.set_knowledge(prior.with_marked(&mark));
        let (alerts, _, _) = run(det, &spec, 433.92e6, 3, 12, |_, _| true);
        assert!(
            alerts.iter().all(|a| a.kind != AlertKind::NewEmitter),
            "{alerts:#?}"
        );
        // Unmarked, the same sweep raises it: the mark is what silenced it.
        let (alerts, _, _) = sweep(433.92e6, 3, 12);
        assert!(alerts.iter().any(|a| a.kind == AlertKind::NewEmitter));
    }

    #[test]
    fn noise_alone_raises_nothing() {
        let (alerts, _, _) = sweep(433.92e6, 0, 40);
        assert!(alerts.is_empty(), "{alerts:#?}");
    }
}
