//! Health alerts about the input rather than the air: dropped samples (`overrun`) and
//! the radio going away and coming back (`device_lost`, `device_restored`). Rate-limited
//! like emitter alerts: one `overrun` alert while drops keep happening, updated at most
//! every few seconds, cleared after a quiet spell.

use std::sync::Arc;

use crate::alert::{Alert, AlertKind, AlertState, Severity};
use crate::types::SourceEvent;

/// Seconds between `updated` overrun alerts.
const OVERRUN_UPDATE_S: f64 = 5.0;
/// Seconds without drops before the overrun alert clears.
const OVERRUN_CLEAR_S: f64 = 10.0;

#[derive(Debug, Clone)]
struct Open {
    id: u64,
    first_s: f64,
    last_s: f64,
    reported_s: f64,
}

/// Tracks health conditions and turns them into alerts.
#[derive(Debug, Clone, Default)]
pub struct Health {
    center_freq_hz: f64,
    sample_rate_hz: f64,
    overrun: Option<Open>,
    device_lost: Option<Open>,
    /// Samples lost so far.
    pub dropped_total: u64,
}

impl Health {
    /// Health for a stream at `center_freq_hz` sampled at `sample_rate_hz`.
    pub fn new(center_freq_hz: f64, sample_rate_hz: f64) -> Self {
        Health {
            center_freq_hz,
            sample_rate_hz,
            ..Default::default()
        }
    }

    fn alert(&self, kind: AlertKind, state: AlertState, severity: Severity, o: &Open) -> Alert {
        Alert {
            id: o.id,
            kind,
            state,
            severity,
            first_seen_s: crate::alert::round_to(o.first_s, 4),
            last_seen_s: crate::alert::round_to(o.last_s, 4),
            freq_hz: self.center_freq_hz,
            bandwidth_hz: self.sample_rate_hz,
            power_dbfs: 0.0,
            snr_db: 0.0,
            band: None::<Arc<str>>,
            evidence: None,
            activity: None,
        }
    }

    /// `n` samples were lost just before stream time `t`.
    pub fn dropped(&mut self, n: u64, t: f64, next_id: &mut u64, emit: &mut dyn FnMut(Alert)) {
        self.dropped_total += n;
        match self.overrun.as_mut() {
            Some(o) => {
                o.last_s = t;
                if t - o.reported_s >= OVERRUN_UPDATE_S {
                    o.reported_s = t;
                    let o = o.clone();
                    emit(self.alert(
                        AlertKind::Overrun,
                        AlertState::Updated,
                        Severity::Warning,
                        &o,
                    ));
                }
            }
            None => {
                *next_id += 1;
                let o = Open {
                    id: *next_id,
                    first_s: t,
                    last_s: t,
                    reported_s: t,
                };
                emit(self.alert(
                    AlertKind::Overrun,
                    AlertState::Raised,
                    Severity::Warning,
                    &o,
                ));
                self.overrun = Some(o);
            }
        }
    }

    /// A source health change at stream time `t`.
    pub fn source_event(
        &mut self,
        e: &SourceEvent,
        t: f64,
        next_id: &mut u64,
        emit: &mut dyn FnMut(Alert),
    ) {
        match e {
            SourceEvent::DeviceLost(_) => {
                if self.device_lost.is_none() {
                    *next_id += 1;
                    let o = Open {
                        id: *next_id,
                        first_s: t,
                        last_s: t,
                        reported_s: t,
                    };
                    emit(self.alert(
                        AlertKind::DeviceLost,
                        AlertState::Raised,
                        Severity::Critical,
                        &o,
                    ));
                    self.device_lost = Some(o);
                }
            }
            SourceEvent::RecordingOverrun(n) => self.dropped(*n, t, next_id, emit),
            SourceEvent::RecordingStopped(_) => {
                // Once: a recording does not restart by itself.
                *next_id += 1;
                let o = Open {
                    id: *next_id,
                    first_s: t,
                    last_s: t,
                    reported_s: t,
                };
                emit(self.alert(
                    AlertKind::RecordingStopped,
                    AlertState::Raised,
                    Severity::Critical,
                    &o,
                ));
            }
            SourceEvent::DeviceRestored => {
                if let Some(mut o) = self.device_lost.take() {
                    o.last_s = t;
                    emit(self.alert(
                        AlertKind::DeviceLost,
                        AlertState::Cleared,
                        Severity::Critical,
                        &o,
                    ));
                }
                *next_id += 1;
                let o = Open {
                    id: *next_id,
                    first_s: t,
                    last_s: t,
                    reported_s: t,
                };
                emit(self.alert(
                    AlertKind::DeviceRestored,
                    AlertState::Raised,
                    Severity::Info,
                    &o,
                ));
            }
        }
    }

    /// Stream time has reached `t`: clears an overrun alert after a quiet spell.
    pub fn tick(&mut self, t: f64, emit: &mut dyn FnMut(Alert)) {
        if let Some(o) = &self.overrun {
            if t - o.last_s >= OVERRUN_CLEAR_S {
                let o = o.clone();
                emit(self.alert(
                    AlertKind::Overrun,
                    AlertState::Cleared,
                    Severity::Warning,
                    &o,
                ));
                self.overrun = None;
            }
        }
    }

    /// End of stream: clears what is open.
    pub fn finish(&mut self, emit: &mut dyn FnMut(Alert)) {
        if let Some(o) = self.overrun.take() {
            emit(self.alert(
                AlertKind::Overrun,
                AlertState::Cleared,
                Severity::Warning,
                &o,
            ));
        }
        if let Some(o) = self.device_lost.take() {
            emit(self.alert(
                AlertKind::DeviceLost,
                AlertState::Cleared,
                Severity::Critical,
                &o,
            ));
        }
    }
}
