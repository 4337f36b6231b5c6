//! A sweep in the detect stage: spectra tagged with their step go to the
//! [`SweepDetector`], and the console's display frames are the stitched panorama.
//!
//! ```text
//!  SpectrumBatch (tune: step, dwell) ─▶ SweepDetector::push ─▶ alerts
//!                                    └▶ Panorama::fold ─▶ UiFrame over the swept span
//! ```

use std::sync::Arc;
use std::time::Instant;

use super::stages::Analysis;
use super::{UiFrame, UiTap};
use crate::alert::Alert;
use crate::detect::baseline::BaselineLearner;
use crate::detect::sweep::{Panorama, StepStats, SweepDetector, SweepPlan};
use crate::source::Retune;
use crate::types::SourceEvent;

/// Folds step spectra into the panorama and sends it at most once per display period.
pub(super) struct PanoramaTap {
    tap: UiTap,
    plan: Arc<SweepPlan>,
    pano: Panorama,
    last_sent: Option<Instant>,
    /// Stream span folded since the last frame; `None` when nothing is.
    span: Option<(u64, u64)>,
}

impl PanoramaTap {
    pub(super) fn new(tap: UiTap, plan: Arc<SweepPlan>) -> Self {
        PanoramaTap {
            tap,
            pano: Panorama::new(&plan),
            plan,
            last_sent: None,
            span: None,
        }
    }

    fn fold(&mut self, step: usize, kept: &[f32], floor: &[f32], start: u64, end: u64) {
        self.pano.fold(step, kept);
        self.pano.set_floor(step, floor);
        self.span = Some(match self.span {
            Some((s, _)) => (s, end),
            None => (start, end),
        });
    }

    fn flush(&mut self, threshold: f32) {
        let Some((start, end)) = self.span else {
            return;
        };
        let now = Instant::now();
        if self
            .last_sent
            .is_some_and(|t| now.duration_since(t) < self.tap.period)
        {
            return;
        }
        // Nothing measured is NaN, not -300 dB: the console leaves it blank.
        let db = |p: &f32| {
            if p.is_nan() {
                f32::NAN
            } else {
                crate::dsp::db(*p)
            }
        };
        let frame = UiFrame {
            start,
            end,
            power_db: self.pano.power().iter().map(db).collect(),
            floor_db: self.pano.floor().iter().map(db).collect(),
            threshold_over_floor_db: crate::dsp::db(threshold),
            step: self
                .pano
                .current()
                .and_then(|i| self.plan.steps.get(i))
                .map(|s| (s.own_lo_hz, s.own_hi_hz)),
        };
        // Drop policy, as for a fixed tune: a console that is behind gets the next one. What
        // this frame held stays folded into it, so a burst is never lost with a frame.
        if self.tap.frames.try_send(frame).is_ok() {
            self.span = None;
            self.pano.next_frame();
        }
        self.last_sent = Some(now);
    }
}

/// A sweep: the detector per step and the panorama for the console.
pub(super) struct SweepAnalysis {
    pub(super) detector: SweepDetector,
    pub(super) ui: Option<PanoramaTap>,
}

impl SweepAnalysis {
    /// What the detector saw of each step.
    pub(super) fn stats(&self) -> Vec<StepStats> {
        self.detector.stats()
    }
}

impl Analysis for SweepAnalysis {
    fn push(
        &mut self,
        power: &[f32],
        peak: &[f32],
        _carriers: &[f32],
        start: u64,
        end: u64,
        tune: Option<&Retune>,
        emit: &mut dyn FnMut(Alert),
    ) {
        // Every block of a sweep is tagged: the source reports a retune before any sample.
        let Some(t) = tune else { return };
        let step = t.step as usize;
        self.detector
            .push(power, Some(peak), start, step, t.dwell, emit);
        if let (Some(ui), Some(s)) = (self.ui.as_mut(), self.detector.plan().steps.get(step)) {
            let (k0, k1) = s.keep;
            ui.fold(
                step,
                &power[k0..k1],
                self.detector.step_floor(step),
                start,
                end,
            );
        }
    }
    fn note_dropped(&mut self, n: u64, at: u64, emit: &mut dyn FnMut(Alert)) {
        self.detector.note_dropped(n, at, emit);
    }
    fn note_source_event(&mut self, e: &SourceEvent, at: u64, emit: &mut dyn FnMut(Alert)) {
        self.detector.note_source_event(e, at, emit);
    }
    fn flush(&mut self) {
        let threshold = self.detector.fast_threshold();
        if let Some(ui) = self.ui.as_mut() {
            ui.flush(threshold);
        }
    }
    fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        self.detector.finish(emit);
    }
    fn take_learner(&mut self) -> Option<BaselineLearner> {
        // A baseline is learned on one grid; a sweep has many.
        None
    }
    fn poll_knowledge(&mut self) {
        if let Some(k) = self.ui.as_ref().and_then(|u| u.tap.knowledge.take()) {
            self.detector.set_knowledge(Some(k));
        }
    }
}
