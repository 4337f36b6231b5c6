//! One alert per emitter across the steps of a sweep. Each step's detector reports what it
//! sees in its own part of the spectrum; an emitter in the overlap of two steps, or wider
//! than it, is seen by both. The merger keeps a table of open emitters across steps: a
//! step's alert that overlaps an open one of a compatible kind from another step joins it
//! instead of raising a second alert; the merged alert spans the union of what its members
//! saw, and clears when the last of them clears.
//!
//! An alert only one step reports passes through with nothing changed but its id, so a
//! sweep's alerts read exactly like a fixed tune's.

use crate::alert::{round_to, Alert, AlertKind, AlertState};
use crate::detect::Knowledge;

/// Kinds that describe the same emitter when they overlap: an emitter seen in a watched
/// band by one step may be a new emitter to the other.
fn compatible(a: AlertKind, b: AlertKind) -> bool {
    use AlertKind::{NewEmitter, Watchlist};
    a == b || matches!((a, b), (NewEmitter, Watchlist) | (Watchlist, NewEmitter))
}

#[derive(Debug, Clone)]
struct Member {
    step: usize,
    local_id: u64,
    alert: Alert,
}

fn lo(a: &Alert) -> f64 {
    a.freq_hz - a.bandwidth_hz / 2.0
}

fn hi(a: &Alert) -> f64 {
    a.freq_hz + a.bandwidth_hz / 2.0
}

#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    kind: AlertKind,
    /// Steps that still report it.
    members: Vec<Member>,
    /// The last alerts of steps that no longer do: still part of what was seen.
    past: Vec<Alert>,
    last_report_s: f64,
}

impl Entry {
    fn seen(&self) -> impl Iterator<Item = &Alert> + Clone {
        self.members.iter().map(|m| &m.alert).chain(&self.past)
    }

    fn span(&self) -> (f64, f64) {
        let lo = self.seen().map(lo).fold(f64::INFINITY, f64::min);
        let hi = self.seen().map(hi).fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    }

    fn holds(&self, step: usize, local_id: u64) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.step == step && m.local_id == local_id)
    }

    /// The alert for the whole emitter: one step's as it is, several steps' union.
    fn alert(&self, state: AlertState, knowledge: Option<&dyn Knowledge>) -> Alert {
        let seen = self.seen();
        let mut a = if seen.clone().count() == 1 {
            seen.clone()
                .next()
                .cloned()
                .expect("invariant: one alert seen")
        } else {
            let (lo, hi) = self.span();
            let centre = (lo + hi) / 2.0;
            let band = knowledge
                .and_then(|k| k.band_at(centre).map(|b| b.name.clone()))
                .or_else(|| seen.clone().find_map(|a| a.band.clone()));
            let max = |f: fn(&Alert) -> f64| seen.clone().map(f).fold(f64::NEG_INFINITY, f64::max);
            Alert {
                id: 0,
                kind: self.kind,
                state,
                severity: seen
                    .clone()
                    .map(|a| a.severity)
                    .max()
                    .unwrap_or(crate::alert::Severity::Warning),
                first_seen_s: seen
                    .clone()
                    .map(|a| a.first_seen_s)
                    .fold(f64::INFINITY, f64::min),
                last_seen_s: max(|a| a.last_seen_s),
                freq_hz: round_to(centre, 0),
                bandwidth_hz: round_to(hi - lo, 0),
                power_dbfs: max(|a| a.power_dbfs),
                snr_db: max(|a| a.snr_db),
                band,
                evidence: None,
                // Each step counts the bursts it saw on its own visits; the step that saw
                // most of the emitter's life speaks for it rather than a sum of overlaps.
                activity: seen
                    .clone()
                    .filter_map(|a| a.activity)
                    .max_by_key(|act| act.bursts),
            }
        };
        a.id = self.id;
        a.kind = self.kind;
        a.state = state;
        a
    }
}

/// Open emitters across steps.
#[derive(Debug, Clone)]
pub struct Merger {
    open: Vec<Entry>,
    /// Detections this close (Hz) still touch.
    tolerance_hz: f64,
    update_every_s: f64,
}

impl Merger {
    /// A merger that joins alerts within `tolerance_hz` of each other and sends `updated`
    /// for a merged emitter at most every `update_every_s` of stream time.
    pub fn new(tolerance_hz: f64, update_every_s: f64) -> Self {
        Merger {
            open: Vec::new(),
            tolerance_hz,
            update_every_s,
        }
    }

    /// Emitters open now: each one's alert id and the steps that report it.
    pub fn open(&self) -> Vec<(u64, Vec<usize>)> {
        self.open
            .iter()
            .map(|e| (e.id, e.members.iter().map(|m| m.step).collect()))
            .collect()
    }

    /// Takes step `step`'s alert `a` (its id local to that step) and emits what the sweep
    /// reports; `next_id` numbers the sweep's alerts.
    pub fn on_alert(
        &mut self,
        step: usize,
        a: Alert,
        next_id: &mut u64,
        knowledge: Option<&dyn Knowledge>,
        emit: &mut dyn FnMut(Alert),
    ) {
        let local_id = a.id;
        let member = Member {
            step,
            local_id,
            alert: a,
        };
        let held = self
            .open
            .iter()
            .position(|e| e.holds(step, local_id).is_some());
        match (member.alert.state, held) {
            (AlertState::Raised, None) => {
                let tol = self.tolerance_hz;
                let (lo, hi) = (lo(&member.alert) - tol, hi(&member.alert) + tol);
                let joins = self.open.iter_mut().find(|e| {
                    let (elo, ehi) = e.span();
                    compatible(e.kind, member.alert.kind)
                        && lo <= ehi
                        && hi >= elo
                        // Two emitters one step tells apart stay two.
                        && e.members.iter().all(|m| m.step != step)
                });
                match joins {
                    Some(e) => e.members.push(member),
                    None => {
                        *next_id += 1;
                        let e = Entry {
                            id: *next_id,
                            kind: member.alert.kind,
                            last_report_s: member.alert.last_seen_s,
                            members: vec![member],
                            past: Vec::new(),
                        };
                        emit(e.alert(AlertState::Raised, knowledge));
                        self.open.push(e);
                    }
                }
            }
            (AlertState::Updated, Some(i)) => {
                let e = &mut self.open[i];
                let t = member.alert.last_seen_s;
                if let Some(k) = e.holds(step, local_id) {
                    e.members[k].alert = member.alert;
                }
                // One step's emitter is updated as that step's tracker decides; a merged one
                // at most as often as a tracker would.
                if e.past.is_empty() && e.members.len() == 1
                    || t - e.last_report_s >= self.update_every_s
                {
                    e.last_report_s = t;
                    emit(e.alert(AlertState::Updated, knowledge));
                }
            }
            (AlertState::Cleared, Some(i)) => {
                let e = &mut self.open[i];
                if let Some(k) = e.holds(step, local_id) {
                    e.members.remove(k);
                    e.past.push(member.alert);
                }
                if e.members.is_empty() {
                    emit(e.alert(AlertState::Cleared, knowledge));
                    self.open.remove(i);
                }
            }
            // A state change for an alert the table never held (raised twice, or updated
            // after clearing) would be a detector bug; pass nothing on rather than invent.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::alert::Severity;

    fn alert(id: u64, state: AlertState, f: f64, bw: f64, t: f64) -> Alert {
        Alert {
            id,
            kind: AlertKind::NewEmitter,
            state,
            severity: Severity::Warning,
            first_seen_s: 1.0,
            last_seen_s: t,
            freq_hz: f,
            bandwidth_hz: bw,
            power_dbfs: -40.0,
            snr_db: 20.0,
            band: Some(Arc::from("LPD433")),
            evidence: None,
            activity: None,
        }
    }

    fn run(m: &mut Merger, id: &mut u64, steps: &[(usize, Alert)]) -> Vec<Alert> {
        let mut out = Vec::new();
        for (s, a) in steps {
            m.on_alert(*s, a.clone(), id, None, &mut |x| out.push(x));
        }
        out
    }

    #[test]
    fn one_step_alone_passes_through_with_a_sweep_id() {
        let mut m = Merger::new(5e3, 5.0);
        let mut id = 10;
        let a = alert(1, AlertState::Raised, 433.92e6, 20e3, 2.0);
        let out = run(&mut m, &mut id, &[(3, a.clone())]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0], Alert { id: 11, ..a });
        assert_eq!(out[0].band.as_deref(), Some("LPD433"));
    }

    #[test]
    fn an_emitter_across_a_seam_is_one_alert_spanning_both_parts() {
        let mut m = Merger::new(5e3, 5.0);
        let mut id = 0;
        // Step 0 sees 433.80–433.95 MHz of it, step 1 sees 433.90–434.10 MHz.
        let out = run(
            &mut m,
            &mut id,
            &[
                (0, alert(1, AlertState::Raised, 433.875e6, 150e3, 2.0)),
                (1, alert(1, AlertState::Raised, 434.0e6, 200e3, 2.1)),
                (1, alert(1, AlertState::Updated, 434.0e6, 200e3, 8.0)),
                (0, alert(1, AlertState::Cleared, 433.875e6, 150e3, 9.0)),
                (1, alert(1, AlertState::Cleared, 434.0e6, 200e3, 9.5)),
            ],
        );
        let states: Vec<(u64, AlertState)> = out.iter().map(|a| (a.id, a.state)).collect();
        assert_eq!(
            states,
            [
                (1, AlertState::Raised),
                (1, AlertState::Updated),
                (1, AlertState::Cleared)
            ]
        );
        let upd = &out[1];
        assert_eq!((upd.freq_hz, upd.bandwidth_hz), (433.95e6, 300e3));
        assert_eq!(out[2].last_seen_s, 9.5);
    }

    #[test]
    fn two_emitters_one_step_separates_stay_two_and_far_ones_never_join() {
        let mut m = Merger::new(5e3, 5.0);
        let mut id = 0;
        let out = run(
            &mut m,
            &mut id,
            &[
                (0, alert(1, AlertState::Raised, 433.90e6, 20e3, 2.0)),
                (0, alert(2, AlertState::Raised, 433.91e6, 20e3, 2.0)),
                (1, alert(1, AlertState::Raised, 434.5e6, 20e3, 2.0)),
            ],
        );
        assert_eq!(out.len(), 3);
        assert_eq!(m.open(), [(1, vec![0]), (2, vec![0]), (3, vec![1])]);
        let mut hop = alert(3, AlertState::Raised, 433.90e6, 20e3, 2.0);
        hop.kind = AlertKind::Hopping;
        assert_eq!(run(&mut m, &mut id, &[(1, hop)]).len(), 1, "kinds apart");
    }
}
