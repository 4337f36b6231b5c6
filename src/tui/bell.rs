//! The bell: which critical alerts wake the operator, and when. Pure, with an explicit
//! clock: the console loop asks [`Bell::due`] on every tick and rings the terminal bell
//! (and runs `--on-critical`) for what it returns.
//!
//! Each alert rings at most once: the first time it is seen critical, unless it is
//! suppressed then. Rings are at least [`GAP`] apart, so a storm of critical alerts is a
//! few rings rather than a siren; the ones waiting ring in order, up to [`QUEUE`] of them,
//! and are dropped from the queue if the operator acknowledges or suppresses them or they
//! clear before their turn.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};

use crate::alert::{Alert, AlertState, Severity};

/// Shortest time between two rings.
pub const GAP: TimeDelta = TimeDelta::seconds(10);

/// Critical alerts that can wait for their ring; more are counted in [`Bell::dropped`].
pub const QUEUE: usize = 8;

/// The bell's state.
#[derive(Debug, Clone, Default)]
pub struct Bell {
    /// Alerts already seen critical (rung, waiting, or suppressed when raised); an alert
    /// leaves when it clears, so this holds at most the active alerts.
    considered: HashSet<u64>,
    pending: VecDeque<Alert>,
    last: Option<DateTime<Utc>>,
    /// Critical alerts that never rang because the queue was full.
    pub dropped: u64,
}

impl Bell {
    /// Takes an alert state change; `hidden`: a suppression covers it.
    pub fn on_alert(&mut self, a: &Alert, hidden: bool) {
        if a.state == AlertState::Cleared {
            self.considered.remove(&a.id);
            self.pending.retain(|p| p.id != a.id);
            return;
        }
        if a.severity != Severity::Critical || !self.considered.insert(a.id) || hidden {
            return;
        }
        if self.pending.len() >= QUEUE {
            self.dropped += 1;
            return;
        }
        self.pending.push_back(a.clone());
    }

    /// The alert to ring for at `now`, if any: the oldest waiting one that is still
    /// `wanted` (not acknowledged, suppressed or cleared since), at most one per [`GAP`].
    pub fn due(&mut self, now: DateTime<Utc>, wanted: impl Fn(&Alert) -> bool) -> Option<Alert> {
        self.pending.retain(|a| wanted(a));
        if self.last.is_some_and(|t| now - t < GAP) {
            return None;
        }
        let a = self.pending.pop_front()?;
        self.last = Some(now);
        Some(a)
    }

    /// Alerts waiting for their ring.
    pub fn waiting(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::AlertKind;

    fn alert(id: u64, severity: Severity, state: AlertState) -> Alert {
        Alert {
            id,
            kind: AlertKind::Jamming,
            state,
            severity,
            first_seen_s: 0.0,
            last_seen_s: 0.0,
            freq_hz: 1e6,
            bandwidth_hz: 1e5,
            power_dbfs: -30.0,
            snr_db: 10.0,
            band: None,
            evidence: None,
            activity: None,
        }
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000) + TimeDelta::seconds(s)
    }

    #[test]
    fn a_critical_alert_rings_once_and_others_never() {
        let mut b = Bell::default();
        b.on_alert(&alert(1, Severity::Warning, AlertState::Raised), false);
        assert_eq!(b.due(t(0), |_| true), None, "warnings do not ring");
        b.on_alert(&alert(2, Severity::Critical, AlertState::Raised), false);
        assert_eq!(b.due(t(1), |_| true).map(|a| a.id), Some(2));
        // Its updates do not ring again, even long after.
        b.on_alert(&alert(2, Severity::Critical, AlertState::Updated), false);
        assert_eq!(b.due(t(100), |_| true), None);
        // Suppressed when raised: never rings.
        b.on_alert(&alert(3, Severity::Critical, AlertState::Raised), true);
        b.on_alert(&alert(3, Severity::Critical, AlertState::Updated), false);
        assert_eq!(b.due(t(200), |_| true), None);
    }

    #[test]
    fn rings_are_rate_limited_and_wait_their_turn() {
        let mut b = Bell::default();
        for id in 1..=3 {
            b.on_alert(&alert(id, Severity::Critical, AlertState::Raised), false);
        }
        assert_eq!(b.due(t(0), |_| true).map(|a| a.id), Some(1));
        assert_eq!(b.due(t(9), |_| true), None, "within the gap");
        assert_eq!(b.due(t(10), |_| true).map(|a| a.id), Some(2));
        // Alert 3 was acknowledged meanwhile: it no longer rings.
        assert_eq!(b.due(t(25), |a| a.id != 3), None);
        assert_eq!(b.waiting(), 0);
        // A cleared alert leaves the queue.
        b.on_alert(&alert(4, Severity::Critical, AlertState::Raised), false);
        b.on_alert(&alert(4, Severity::Critical, AlertState::Cleared), false);
        assert_eq!(b.due(t(40), |_| true), None);
        // A storm: the queue keeps QUEUE, the rest are counted.
        for id in 10..10 + QUEUE as u64 + 3 {
            b.on_alert(&alert(id, Severity::Critical, AlertState::Raised), false);
        }
        assert_eq!((b.waiting(), b.dropped), (QUEUE, 3));
    }
}
