//! Alerts: what kuzet tells an operator (the log that keeps them is [`crate::sinks::alert_log`]).
//!
//! One alert per emitter (or health condition), with a lifecycle: `raised` once, `updated`
//! at a bounded rate while it lasts, `cleared` after it has been quiet. Each state change
//! is one JSON object on one line; the schema is documented in docs/alerts.md. Fields are only
//! ever added, never renamed.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What kind of condition an alert reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A transmitter the detector has not seen before.
    NewEmitter,
    /// Many short bursts at distinct frequencies (e.g. a drone RC link).
    Hopping,
    /// The noise floor rose over a wide part of the band.
    Jamming,
    /// A known emitter far above or below its usual level.
    PowerChange,
    /// An emitter the baseline expects has been silent.
    EmitterLost,
    /// Activity in a band the band plan watches.
    Watchlist,
    /// Samples were dropped (device overflow, pipeline overrun, or a recorder behind a
    /// slow disk).
    Overrun,
    /// The input is clipping (ADC full scale).
    Clipping,
    /// The radio stopped answering.
    DeviceLost,
    /// The radio is streaming again.
    DeviceRestored,
    /// The stream's recording stopped (a full disk); monitoring goes on.
    RecordingStopped,
}

impl AlertKind {
    /// The snake_case name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::NewEmitter => "new_emitter",
            AlertKind::Hopping => "hopping",
            AlertKind::Jamming => "jamming",
            AlertKind::PowerChange => "power_change",
            AlertKind::EmitterLost => "emitter_lost",
            AlertKind::Watchlist => "watchlist",
            AlertKind::Overrun => "overrun",
            AlertKind::Clipping => "clipping",
            AlertKind::DeviceLost => "device_lost",
            AlertKind::DeviceRestored => "device_restored",
            AlertKind::RecordingStopped => "recording_stopped",
        }
    }
}

/// Where an alert is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// First report.
    Raised,
    /// Still active; figures refreshed.
    Updated,
    /// Over: quiet for the hold time, or the stream ended.
    Cleared,
}

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record.
    Info,
    /// Look at it.
    Warning,
    /// Act on it.
    Critical,
}

/// One alert state change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Stable for the alert's whole lifecycle; unique within a run.
    pub id: u64,
    /// What it is.
    pub kind: AlertKind,
    /// Raised, updated or cleared.
    pub state: AlertState,
    /// How urgent.
    pub severity: Severity,
    /// Stream time (s since the first sample) when the condition was first seen.
    pub first_seen_s: f64,
    /// Stream time when it was last seen.
    pub last_seen_s: f64,
    /// Absolute centre frequency.
    pub freq_hz: f64,
    /// Occupied bandwidth: 99% of the power (ITU-R SM.328).
    pub bandwidth_hz: f64,
    /// Total power in the occupied band, dBFS.
    pub power_dbfs: f64,
    /// In-band signal-to-noise ratio over the occupied band.
    pub snr_db: f64,
    /// Band-plan band the frequency falls in, if any.
    pub band: Option<Arc<str>>,
    /// The evidence capture holding this alert's IQ (with `--evidence DIR`); absent when
    /// none is recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Arc<str>>,
    /// What an emitter has done so far (bursts, period, duty cycle, its life's extremes);
    /// absent on alerts that are not about one emitter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
}

/// An emitter's activity over its alert's life so far: carried by emitter alerts, on
/// `cleared` it is the whole life.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Bursts seen (runs of consecutive spectra with the emitter in them).
    pub bursts: u64,
    /// Stream time the last burst started.
    pub last_burst_s: f64,
    /// Mean time between burst starts (0 with fewer than two bursts).
    pub mean_period_s: f64,
    /// Fraction of the time since the first burst that the emitter was on.
    pub duty_cycle: f64,
    /// Stream time from the first burst's start to the last one's end.
    pub duration_s: f64,
    /// Highest in-band SNR seen.
    pub peak_snr_db: f64,
    /// Widest occupied bandwidth seen.
    pub max_bandwidth_hz: f64,
}

/// Rounds to `decimals` places so logs read well and compare exactly across runs.
pub fn round_to(v: f64, decimals: i32) -> f64 {
    let m = 10f64.powi(decimals);
    (v * m).round() / m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_line_has_the_documented_fields() {
        let a = Alert {
            id: 7,
            kind: AlertKind::NewEmitter,
            state: AlertState::Raised,
            severity: Severity::Warning,
            first_seen_s: 1.25,
            last_seen_s: 1.5,
            freq_hz: 433.92e6,
            bandwidth_hz: 12500.0,
            power_dbfs: -41.5,
            snr_db: 18.25,
            band: None,
            evidence: None,
            activity: None,
        };
        let line = serde_json::to_string(&a).unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        for key in [
            "id",
            "kind",
            "state",
            "severity",
            "first_seen_s",
            "last_seen_s",
            "freq_hz",
            "bandwidth_hz",
            "power_dbfs",
            "snr_db",
            "band",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["kind"], "new_emitter");
        assert_eq!(v["state"], "raised");
        assert_eq!(v["severity"], "warning");
        assert!(v["band"].is_null());
        let back: Alert = serde_json::from_str(&line).unwrap();
        assert_eq!(back, a);
    }
}
