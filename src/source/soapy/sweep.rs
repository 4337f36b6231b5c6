//! A sweeping receiver: one radio stepped through a schedule of centre frequencies, the
//! stream kept running across retunes.
//!
//! ```text
//!  visit k:  retune ─▶ settle: read and discard ─▶ dwell: deliver N samples ─▶ visit k+1 …
//!            (set_frequency)  (old-frequency samples     (tagged by the Retuned
//!                              still in the buffers,      outcome before them)
//!                              the PLL locking)
//! ```
//!
//! Everything is counted in samples of the stream: a dwell is a number of samples, the
//! settle too, so a schedule repeats exactly and stream time stays true. A real driver
//! keeps delivering what its buffers hold after `setFrequency` returns, all of it taken at
//! the old frequency; reading on and throwing those samples away is the only portable way
//! to keep them out of the spectrum (deactivating the stream flushes some drivers' buffers
//! and not others', and costs more than it saves). How many to throw away depends on the
//! driver's buffers ([`driver_defaults`]); `--settle` sets it.
//!
//! Every outcome of the radio passes through: overflows as gaps (they use up dwell time),
//! a lost device as `DeviceLost`; after `DeviceRestored` the visit starts over, retune and
//! settle included.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use num_complex::Complex32;

use super::{soapy_msg, SoapySource, State, BACKOFF_MIN, RX};
use crate::error::Result;
use crate::source::{IqSource, ReadOutcome, Retune, SampleBuf};
use crate::types::{SourceEvent, StreamMeta};

/// What a driver needs after a retune, and how much of its band is usable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriverSweep {
    /// Samples that may still be in flight from before a retune: the driver's transfer
    /// buffers that a reader keeping up has not yet received.
    pub in_flight: u64,
    /// Time the tuner's PLL takes to lock, s.
    pub lock_s: f64,
    /// Fraction of the sample rate inside the anti-alias filter's flat part.
    pub keep_fraction: f64,
}

impl DriverSweep {
    /// Samples to discard after a retune at `rate_hz`.
    pub fn settle_samples(&self, rate_hz: f64) -> u64 {
        self.in_flight + (self.lock_s * rate_hz).ceil() as u64
    }
}

/// Settle and crop for a SoapySDR driver. These are estimates from each driver module's
/// default transfer sizes (one transfer in flight when the reader keeps up) and the tuner
/// data sheets' lock times, rounded up; none was measured on hardware for kuzet. An
/// unknown driver gets the most cautious figures. `--settle` and `--crop` override them.
pub fn driver_defaults(driver: &str) -> DriverSweep {
    let (in_flight, lock_ms, keep) = match driver {
        // Its own defaults: retune_stale = 32768 and retune_ms = 1, doubled.
        "kuzetsim" => (65_536, 2.0, 0.7),
        // SoapyRTLSDR: 262144-byte transfers of 8-bit pairs; the R820T locks within ms.
        "rtlsdr" => (131_072, 5.0, 0.8),
        // SoapyHackRF: 262144-byte transfers of 8-bit pairs; the baseband filter is set
        // to 3/4 of the rate.
        "hackrf" => (131_072, 1.0, 0.75),
        "airspy" | "uhd" => (65_536, 1.0, 0.8),
        "lime" | "bladerf" => (65_536, 1.0, 0.75),
        _ => (262_144, 10.0, 0.7),
    };
    DriverSweep {
        in_flight,
        lock_s: lock_ms / 1e3,
        keep_fraction: keep,
    }
}

/// What a radio can do, read before it is tuned: what a sweep is planned around.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuner {
    /// The driver (`rtlsdr`).
    pub driver: String,
    /// Frequency ranges it tunes, Hz.
    pub freq_ranges: Vec<(f64, f64)>,
    /// Its fastest sample rate, if it says.
    pub max_rate_sps: Option<f64>,
}

/// Opens the device `args` names and reads its ranges on `channel`, changing nothing.
///
/// # Errors
/// [`crate::Error::Device`] when it cannot be opened or does not answer.
pub fn tuner(args: &str, channel: usize) -> Result<Tuner> {
    let dev = super::make(args)?;
    let failed = |what: &str, e: soapysdr::Error| super::device_err(args, soapy_msg(what, &e));
    let driver = dev
        .driver_key()
        .map_err(|e| failed("reading the driver name", e))?;
    let freq_ranges = dev
        .frequency_range(RX, channel)
        .map_err(|e| failed("reading the frequency range", e))?
        .iter()
        .map(|r| (r.minimum, r.maximum))
        .collect();
    let max_rate_sps = dev
        .get_sample_rate_range(RX, channel)
        .ok()
        .and_then(|r| r.iter().map(|r| r.maximum).reduce(f64::max));
    Ok(Tuner {
        driver,
        freq_ranges,
        max_rate_sps,
    })
}

/// One visit of a sweep, as the radio sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// The plan's step number, passed on in [`Retune::step`].
    pub step: u32,
    /// Centre frequency, Hz.
    pub centre_hz: f64,
    /// Samples to deliver after the settle.
    pub dwell_samples: u64,
}

/// What a [`SweepSource`] steps through, over and over.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// One cycle of visits.
    pub visits: Vec<Tuning>,
    /// Samples discarded after every retune.
    pub settle_samples: u64,
    /// The middle of the swept span, for the stream's description.
    pub centre_hz: f64,
    /// For people: what is swept (`7 steps, 430–440 MHz`).
    pub description: String,
}

/// What a [`SweepSource`] has done, readable while the pipeline owns it.
#[derive(Debug, Default)]
pub struct SweepCounts {
    /// Retunes done.
    pub retunes: AtomicU64,
    /// Samples discarded after retunes.
    pub discarded: AtomicU64,
}

/// Where the source is in its schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// About to retune for visit `next`.
    Retune,
    /// Discarding: this many samples still to go.
    Settle(u64),
    /// Delivering: this many samples still to go.
    Dwell(u64),
}

/// A live radio stepping through a [`Schedule`], as an [`IqSource`]: before each visit's
/// samples it reports [`ReadOutcome::Retuned`].
pub struct SweepSource {
    inner: SoapySource,
    schedule: Schedule,
    meta: StreamMeta,
    phase: Phase,
    /// The visit being settled or dwelt on, or the next one to tune.
    visit: usize,
    /// Dwells started.
    dwell: u64,
    /// What the radio is tuned to.
    tuned_hz: f64,
    /// Samples discarded in the settle in progress.
    settled: u64,
    /// The next visit must settle even if it does not retune: the stream has just started,
    /// or the radio has just come back.
    unsettled: bool,
    scratch: Vec<Complex32>,
    counts: Arc<SweepCounts>,
}

impl std::fmt::Debug for SweepSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SweepSource")
            .field("visits", &self.schedule.visits.len())
            .field("visit", &self.visit)
            .field("phase", &self.phase)
            .finish()
    }
}

impl SweepSource {
    /// Starts sweeping `inner` (a radio already open and streaming, tuned anywhere)
    /// through `schedule`. The first visit settles too: a tuner that has just been set up
    /// may not have locked.
    ///
    /// # Errors
    /// [`crate::Error::Config`] for an empty schedule.
    pub fn new(inner: SoapySource, schedule: Schedule) -> Result<SweepSource> {
        if schedule.visits.is_empty() {
            return Err(crate::Error::Config(
                "a sweep needs at least one step".into(),
            ));
        }
        let mut meta = inner.meta().clone();
        meta.center_freq_hz = schedule.centre_hz;
        meta.description = format!("{}; sweeping {}", meta.description, schedule.description);
        let tuned_hz = inner.settings().freq_hz;
        let scratch = vec![Complex32::default(); inner.chunk()];
        Ok(SweepSource {
            inner,
            schedule,
            meta,
            phase: Phase::Retune,
            visit: 0,
            dwell: 0,
            tuned_hz,
            settled: 0,
            unsettled: true,
            scratch,
            counts: Arc::default(),
        })
    }

    /// Its retunes and discarded samples, live.
    pub fn counts(&self) -> Arc<SweepCounts> {
        self.counts.clone()
    }

    /// The radio (for its recording attributes and settings).
    pub fn radio(&self) -> &SoapySource {
        &self.inner
    }

    /// Tunes the radio for the current visit: whether it had to, or the outcome to report
    /// when it failed (the radio is then being reconnected).
    fn retune(&mut self) -> std::result::Result<bool, ReadOutcome> {
        let want = self.schedule.visits[self.visit].centre_hz;
        if want == self.tuned_hz {
            return Ok(false);
        }
        let ch = self.inner.settings.channel;
        // As in `configure`: a crystal fast by P ppm needs a lower request.
        let tune = want / (1.0 + self.inner.settings.ppm * 1e-6);
        let done = match (&self.inner.device, &self.inner.state) {
            (Some(dev), State::Streaming(_)) => dev
                .set_frequency(RX, ch, tune, ())
                .map_err(|e| soapy_msg("retuning", &e)),
            _ => Err("retuning: the device is away".into()),
        };
        match done {
            Ok(()) => {
                self.tuned_hz = want;
                // A reconnection tunes the radio to its settings: keep them where it is.
                self.inner.settings.freq_hz = want;
                self.counts.retunes.fetch_add(1, Relaxed);
                Ok(true)
            }
            Err(why) => {
                self.inner.state = State::Lost {
                    since: Instant::now(),
                    next_try: Instant::now() + BACKOFF_MIN,
                    backoff: BACKOFF_MIN,
                };
                Err(ReadOutcome::Event(SourceEvent::DeviceLost(why)))
            }
        }
    }

    /// The radio came back, tuned to its settings: start the visit over.
    fn restart_visit(&mut self) {
        self.tuned_hz = self.inner.settings.freq_hz;
        self.unsettled = true;
        self.phase = Phase::Retune;
    }
}

impl IqSource for SweepSource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        let buf = buf.cf32()?;
        loop {
            match self.phase {
                // The radio is away: its reconnection runs in its reads.
                Phase::Retune if matches!(self.inner.state, State::Lost { .. }) => {
                    let out = self.inner.read_cf32(&mut self.scratch)?;
                    if out == ReadOutcome::Event(SourceEvent::DeviceRestored) {
                        self.restart_visit();
                    }
                    return Ok(out);
                }
                Phase::Retune => {
                    let retuned = match self.retune() {
                        Ok(r) => r,
                        Err(failed) => return Ok(failed),
                    };
                    // Staying on one frequency (a one-step cycle) keeps what is in the
                    // buffers: it was taken there.
                    let settle = if retuned || std::mem::take(&mut self.unsettled) {
                        self.schedule.settle_samples
                    } else {
                        0
                    };
                    self.settled = 0;
                    self.phase = Phase::Settle(settle);
                }
                Phase::Settle(0) => {
                    let v = self.schedule.visits[self.visit];
                    self.dwell += 1;
                    self.phase = Phase::Dwell(v.dwell_samples);
                    return Ok(ReadOutcome::Retuned(Retune {
                        step: v.step,
                        dwell: self.dwell,
                        centre_hz: v.centre_hz,
                        settled: self.settled,
                    }));
                }
                Phase::Settle(left) => {
                    let want = self
                        .scratch
                        .len()
                        .min(usize::try_from(left).unwrap_or(usize::MAX));
                    match self.inner.read_cf32(&mut self.scratch[..want])? {
                        // Read on until the settle is done: the samples are no use to anyone.
                        ReadOutcome::Samples(n) => {
                            self.settled += n as u64;
                            self.counts.discarded.fetch_add(n as u64, Relaxed);
                            self.phase = Phase::Settle(left - n as u64);
                        }
                        // Lost samples pass stream time too; the pipeline counts them.
                        ReadOutcome::Lost(n) => {
                            self.phase = Phase::Settle(left.saturating_sub(n));
                            return Ok(ReadOutcome::Lost(n));
                        }
                        ReadOutcome::Event(SourceEvent::DeviceRestored) => {
                            self.restart_visit();
                            return Ok(ReadOutcome::Event(SourceEvent::DeviceRestored));
                        }
                        other => return Ok(other),
                    }
                }
                Phase::Dwell(0) => {
                    self.visit = (self.visit + 1) % self.schedule.visits.len();
                    self.phase = Phase::Retune;
                }
                Phase::Dwell(left) => {
                    let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    return Ok(match self.inner.read_cf32(&mut buf[..want])? {
                        ReadOutcome::Samples(n) => {
                            self.phase = Phase::Dwell(left - n as u64);
                            ReadOutcome::Samples(n)
                        }
                        // A gap uses up dwell time: the schedule stays in stream time.
                        ReadOutcome::Lost(n) => {
                            self.phase = Phase::Dwell(left.saturating_sub(n));
                            ReadOutcome::Lost(n)
                        }
                        ReadOutcome::Event(SourceEvent::DeviceRestored) => {
                            self.restart_visit();
                            ReadOutcome::Event(SourceEvent::DeviceRestored)
                        }
                        other => other,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settle_counts_buffers_and_lock_time_and_unknown_drivers_err_safe() {
        let sim = driver_defaults("kuzetsim");
        assert_eq!(sim.settle_samples(2.4e6), 65_536 + 4_800);
        let unknown = driver_defaults("somethingnew");
        for d in [
            "kuzetsim", "rtlsdr", "hackrf", "airspy", "uhd", "lime", "bladerf",
        ] {
            let k = driver_defaults(d);
            assert!(
                k.settle_samples(20e6) <= unknown.settle_samples(20e6),
                "{d}"
            );
            assert!(k.keep_fraction >= unknown.keep_fraction, "{d}");
        }
    }
}
