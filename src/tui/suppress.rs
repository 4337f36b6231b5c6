//! Suppressions: the operator silences a nuisance for a while without losing it. An
//! alert's emitter, or its kind within its band, is hidden from the desk and the bell
//! until the chosen time has passed or the operator lifts it. Pure state with an explicit
//! clock; the alert log still gets every alert (the pipeline writes it, not the console),
//! and each suppression and lifting is logged as an operator action.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::alert::{Alert, AlertKind};

/// The times a suppression can be chosen for, as the menu shows them, in minutes.
pub const CHOICES: [(&str, i64); 3] = [("15 min", 15), ("1 h", 60), ("8 h", 8 * 60)];

/// What a suppression covers, as the operator chose it (`s` or `S`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// The selected alert's emitter: its updates, and later alerts of the same kind from
    /// the same frequency.
    Emitter,
    /// Every alert of the selected alert's kind in its band (or outside every band).
    KindInBand,
}

/// What a suppression hides.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// One emitter.
    Emitter {
        /// The alert it was made from (its updates are hidden whatever their figures).
        id: u64,
        /// Only alerts of this kind: a jammer over the emitter's channel is something else.
        kind: AlertKind,
        /// Centre frequency.
        freq_hz: f64,
        /// Occupied bandwidth.
        bandwidth_hz: f64,
        /// Slack on frequency and width (a couple of FFT bins): a measured carrier wanders.
        tol_hz: f64,
    },
    /// One kind in one band.
    KindInBand {
        /// The alert kind.
        kind: AlertKind,
        /// The band; `None` is "outside every band".
        band: Option<Arc<str>>,
    },
}

impl Scope {
    /// The scope of `kind` around alert `a`; `None` for an emitter scope on an alert that
    /// has no frequency (a health alert).
    pub fn for_alert(kind: ScopeKind, a: &Alert, tol_hz: f64) -> Option<Scope> {
        match kind {
            ScopeKind::Emitter if a.freq_hz > 0.0 => Some(Scope::Emitter {
                id: a.id,
                kind: a.kind,
                freq_hz: a.freq_hz,
                bandwidth_hz: a.bandwidth_hz,
                tol_hz,
            }),
            ScopeKind::Emitter => None,
            ScopeKind::KindInBand => Some(Scope::KindInBand {
                kind: a.kind,
                band: a.band.clone(),
            }),
        }
    }

    /// True when `a` is one of the alerts this scope hides. An emitter is the same one as
    /// a band plan's ignore entry decides it: its centre within the channel and not much
    /// wider.
    pub fn matches(&self, a: &Alert) -> bool {
        match self {
            Scope::Emitter {
                id,
                kind,
                freq_hz,
                bandwidth_hz,
                tol_hz,
            } => {
                a.id == *id
                    || (a.kind == *kind
                        && a.freq_hz > 0.0
                        && (a.freq_hz - freq_hz).abs() <= bandwidth_hz / 2.0 + tol_hz
                        && a.bandwidth_hz <= 2.0 * (bandwidth_hz + tol_hz))
            }
            Scope::KindInBand { kind, band } => a.kind == *kind && a.band == *band,
        }
    }

    /// The scope's name in the alert log (`suppressed_scope`).
    pub fn log_name(&self) -> &'static str {
        match self {
            Scope::Emitter { .. } => "emitter",
            Scope::KindInBand { .. } => "kind_in_band",
        }
    }

    /// For people: `new_emitter at 433.9200 MHz`, `hopping in LPD433`.
    pub fn describe(&self) -> String {
        match self {
            Scope::Emitter { kind, freq_hz, .. } => {
                format!("{} at {:.4} MHz", kind.as_str(), freq_hz / 1e6)
            }
            Scope::KindInBand { kind, band } => match band {
                Some(b) => format!("{} in {}", kind.as_str(), crate::units::one_line(b)),
                None => format!("{} outside every band", kind.as_str()),
            },
        }
    }
}

/// One suppression.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// What it hides.
    pub scope: Scope,
    /// When it was made (wall clock).
    pub since: DateTime<Utc>,
    /// When it ends by itself.
    pub until: DateTime<Utc>,
    /// The alert it was made from, as it stood then (what the log line repeats).
    pub alert: Alert,
}

impl Suppression {
    /// A suppression of `scope` from `now` for `minutes`.
    pub fn new(scope: Scope, alert: Alert, now: DateTime<Utc>, minutes: i64) -> Self {
        Suppression {
            scope,
            since: now,
            until: now + TimeDelta::minutes(minutes),
            alert,
        }
    }

    /// How long it was made for: `1 h` (as the menu says), or `1:30:00`.
    pub fn duration_label(&self) -> String {
        let minutes = (self.until - self.since).num_minutes();
        CHOICES
            .iter()
            .find(|c| c.1 == minutes)
            .map_or_else(|| format_left(self.until - self.since), |c| c.0.to_string())
    }

    /// Still in force at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }
}

/// A time left as `7:59:12`, `14:03` or `0:09`.
pub fn format_left(left: TimeDelta) -> String {
    let s = left.num_seconds().max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertState, Severity};

    fn alert(id: u64, kind: AlertKind, freq_hz: f64, band: Option<&str>) -> Alert {
        Alert {
            id,
            kind,
            state: AlertState::Raised,
            severity: Severity::Warning,
            first_seen_s: 1.0,
            last_seen_s: 1.0,
            freq_hz,
            bandwidth_hz: 10_000.0,
            power_dbfs: -50.0,
            snr_db: 20.0,
            band: band.map(Arc::from),
            evidence: None,
            activity: None,
        }
    }

    #[test]
    fn an_emitter_scope_hides_its_alert_and_the_same_emitter_later() {
        let a = alert(3, AlertKind::NewEmitter, 433.92e6, Some("LPD433"));
        let s = Scope::for_alert(ScopeKind::Emitter, &a, 2_000.0).unwrap();
        assert!(s.matches(&a));
        // The same alert updated with figures that wandered off.
        let mut upd = a.clone();
        upd.freq_hz += 50e3;
        upd.state = AlertState::Updated;
        assert!(s.matches(&upd));
        // Raised again later (a new id), a little off centre.
        assert!(s.matches(&alert(9, AlertKind::NewEmitter, 433.926e6, None)));
        // A neighbour, another kind at the same place, a jammer over it: not hidden.
        assert!(!s.matches(&alert(10, AlertKind::NewEmitter, 433.95e6, None)));
        assert!(!s.matches(&alert(11, AlertKind::PowerChange, 433.92e6, None)));
        let mut wide = alert(12, AlertKind::NewEmitter, 433.92e6, None);
        wide.bandwidth_hz = 200e3;
        assert!(!s.matches(&wide));
        assert_eq!(s.describe(), "new_emitter at 433.9200 MHz");
        assert_eq!(s.log_name(), "emitter");
        // A health alert has no emitter.
        let health = alert(4, AlertKind::Overrun, 0.0, None);
        assert!(Scope::for_alert(ScopeKind::Emitter, &health, 1.0).is_none());
    }

    #[test]
    fn a_kind_in_band_scope_hides_that_kind_in_that_band_only() {
        let a = alert(1, AlertKind::Hopping, 433.5e6, Some("LPD433"));
        let s = Scope::for_alert(ScopeKind::KindInBand, &a, 0.0).unwrap();
        assert!(s.matches(&alert(7, AlertKind::Hopping, 434.5e6, Some("LPD433"))));
        assert!(!s.matches(&alert(8, AlertKind::Hopping, 868e6, Some("SRD 868"))));
        assert!(!s.matches(&alert(9, AlertKind::NewEmitter, 433.5e6, Some("LPD433"))));
        assert_eq!(s.describe(), "hopping in LPD433");
        let out = Scope::for_alert(
            ScopeKind::KindInBand,
            &alert(2, AlertKind::Overrun, 0.0, None),
            0.0,
        )
        .unwrap();
        assert!(out.matches(&alert(5, AlertKind::Overrun, 0.0, None)));
        assert!(!out.matches(&alert(6, AlertKind::Overrun, 0.0, Some("x"))));
        assert_eq!(out.describe(), "overrun outside every band");
    }

    #[test]
    fn a_suppression_ends_at_its_time() {
        let t0 = DateTime::<Utc>::UNIX_EPOCH + TimeDelta::days(20_000);
        let a = alert(1, AlertKind::NewEmitter, 1e6, None);
        let scope = Scope::for_alert(ScopeKind::Emitter, &a, 0.0).unwrap();
        let s = Suppression::new(scope, a, t0, CHOICES[1].1);
        assert!(s.active(t0 + TimeDelta::minutes(59)));
        assert!(!s.active(t0 + TimeDelta::minutes(60)));
        assert_eq!(format_left(s.until - t0), "1:00:00");
        assert_eq!(s.duration_label(), "1 h");
        let odd = Suppression {
            until: t0 + TimeDelta::minutes(90),
            ..s
        };
        assert_eq!(odd.duration_label(), "1:30:00");
        assert_eq!(format_left(TimeDelta::seconds(843)), "14:03");
        assert_eq!(format_left(TimeDelta::seconds(-5)), "0:00");
    }
}
