//! Probability of intercept: how likely a sweep is to report a pulsed emitter of a given
//! pulse width and period, and how soon.
//!
//! A sweep looks at a step for a few spectra, then leaves it for the revisit time. The
//! step's tracker reports a pulse train strong enough to trust on one sighting when that
//! burst of sightings ends (the first spectrum of the step without it, often the next
//! visit's first), or earlier once it has been seen in `confirm_hits` spectra spread over
//! more than a hop's length ([`Rule`]). Visits are at fixed sample offsets in a cycle that
//! repeats exactly, so for a given phase of the train the time of the report is fixed; the
//! probability of a report by time `t` is the fraction of phases whose report comes by
//! `t`. It is found by trying many phases, each one by replaying the visits and the
//! tracker's rule, which also finds what a closed formula misses: a revisit time that is a
//! multiple of the period sees the same part of the train every time, and some phases are
//! never caught at all.
//!
//! A pulse counts in a spectrum when at least [`HIT_FRACTION`] of it lies inside the
//! samples that spectrum's frames cover: the model is for pulses well above the noise, the
//! ones a sweep can miss only by not looking. It leaves out what delays a report in a busy
//! band: other short bursts nearby make the tracker wait a hop window in case they are a
//! hopper's.

use crate::detect::TrackerConfig;

/// The part of a pulse that must fall inside a spectrum's samples for it to be seen there.
/// The outer half-frame at each end of a spectrum's samples is covered by one window's
/// tail only, so a pulse there counts for little: half a pulse inside is the middle of the
/// range in which a strong pulse starts being seen.
pub const HIT_FRACTION: f64 = 0.5;

/// A pulse train: on for `width_s` every `period_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pulse {
    /// Pulse width, s.
    pub width_s: f64,
    /// Pulse repetition interval, s.
    pub period_s: f64,
}

/// When the tracker reports a pulsed emitter it trusts on one sighting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// Spectra with a sighting after which an emitter still on is reported...
    pub confirm_hits: u32,
    /// ...once its sightings span more than this (a hop's longest burst), s. Before that,
    /// it is reported when its burst ends.
    pub min_span_s: f64,
}

impl From<&TrackerConfig> for Rule {
    fn from(t: &TrackerConfig) -> Self {
        Rule {
            confirm_hits: t.confirm_hits.max(1),
            min_span_s: t.hop.max_burst_s,
        }
    }
}

/// Where a sweep looks at one step, in samples: each visit's first analysed sample within
/// the cycle and its number of spectra; spectrum `j` of a visit at `a` covers
/// `a + j·span .. a + j·span + span + history`.
#[derive(Debug, Clone, PartialEq)]
pub struct Looks {
    /// Sample rate.
    pub rate_hz: f64,
    /// Samples per cycle.
    pub cycle: u64,
    /// Visits in one cycle: first analysed sample and spectra.
    pub visits: Vec<(u64, usize)>,
    /// New samples per spectrum.
    pub span: u64,
    /// Samples a spectrum's frames reach past its span.
    pub history: u64,
}

impl Looks {
    /// Calls `f(t0, t1, covers)` for every spectrum up to `horizon_s`, in time order: its
    /// start and end in seconds and whether the pulse train with `phase_s` is seen in it.
    fn replay(
        &self,
        pulse: &Pulse,
        phase_s: f64,
        horizon_s: f64,
        mut f: impl FnMut(f64, f64, bool) -> bool,
    ) {
        let rate = self.rate_hz;
        let (w, t) = (pulse.width_s * rate, pulse.period_s * rate);
        let phase = phase_s * rate;
        let need = HIT_FRACTION * w;
        let horizon = horizon_s * rate;
        let mut cycle = 0u64;
        loop {
            for &(at, spectra) in &self.visits {
                for j in 0..spectra as u64 {
                    let s = (cycle * self.cycle + at + j * self.span) as f64;
                    let e = s + (self.span + self.history) as f64;
                    if e > horizon {
                        return;
                    }
                    // Pulses that can overlap [s, e): starts in (s - w, e).
                    let k0 = ((s - w - phase) / t).floor() as i64;
                    let k1 = ((e - phase) / t).ceil() as i64;
                    let seen = (k0..=k1).any(|k| {
                        let p = phase + k as f64 * t;
                        (p + w).min(e) - p.max(s) >= need
                    });
                    if !f(s / rate, e / rate, seen) {
                        return;
                    }
                }
            }
            cycle += 1;
        }
    }

    /// When the tracker would report a pulse train whose pulses start at `phase_s + k·T`
    /// (stream time), if by `horizon_s`: the end of the spectrum whose push reports it.
    pub fn report_time(
        &self,
        pulse: &Pulse,
        rule: &Rule,
        phase_s: f64,
        horizon_s: f64,
    ) -> Option<f64> {
        // (first seen, sightings) of the burst being followed.
        let mut track: Option<(f64, u32)> = None;
        let mut reported = None;
        self.replay(pulse, phase_s, horizon_s, |t0, t1, seen| {
            match (seen, track.as_mut()) {
                // The burst ended: a trusted one is reported on the spectrum that shows it.
                (false, Some(_)) => {
                    reported = Some(t1);
                    return false;
                }
                (false, None) => {}
                (true, tr) => {
                    let tr = match tr {
                        Some(tr) => tr,
                        None => track.insert((t0, 0)),
                    };
                    tr.1 += 1;
                    if tr.1 >= rule.confirm_hits && t1 - tr.0 > rule.min_span_s {
                        reported = Some(t1);
                        return false;
                    }
                }
            }
            true
        });
        reported
    }

    /// When the pulse train with `phase_s` is first seen, if by `horizon_s`: the end of
    /// the first spectrum that holds a pulse (the alert's `last_seen_s` when it is
    /// reported on that sighting alone).
    pub fn first_sighting(&self, pulse: &Pulse, phase_s: f64, horizon_s: f64) -> Option<f64> {
        let mut first = None;
        self.replay(pulse, phase_s, horizon_s, |_, t1, seen| {
            if seen {
                first = Some(t1);
            }
            !seen
        });
        first
    }

    /// The probability that one visit sees the pulse train at all (in at least one of its
    /// spectra), over phases and over the visits of a cycle.
    pub fn per_visit(&self, pulse: &Pulse, phases: usize) -> f64 {
        let cycle_s = self.cycle as f64 / self.rate_hz;
        let visits_per_cycle = self.visits.len().max(1);
        let mut seen_visits = 0usize;
        for i in 0..phases {
            let phase = (i as f64 + 0.5) / phases as f64 * pulse.period_s;
            let mut last_visit = None;
            let mut count = 0usize;
            let spectra: Vec<u64> = self.visits.iter().map(|v| v.1 as u64).collect();
            let (mut v, mut j) = (0usize, 0u64);
            self.replay(pulse, phase, cycle_s, |_, _, seen| {
                if seen && last_visit != Some(v) {
                    last_visit = Some(v);
                    count += 1;
                }
                j += 1;
                if j == spectra[v] {
                    j = 0;
                    v += 1;
                }
                v < spectra.len()
            });
            seen_visits += count;
        }
        seen_visits as f64 / (phases * visits_per_cycle) as f64
    }
}

/// What the model says about one pulse train at one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Poi {
    /// The pulse train.
    pub pulse: Pulse,
    /// Probability that one visit sees it.
    pub per_visit: f64,
    /// Report times of the phases reported by the horizon, ascending, s.
    pub times: Vec<f64>,
    /// Phases tried.
    pub phases: usize,
    /// How far ahead it looked, s.
    pub horizon_s: f64,
}

impl Poi {
    /// Models `pulse` at a step that `looks` describes, under the tracker's `rule`, trying
    /// `phases` phases spread evenly over a period, up to `horizon_s` of stream time.
    pub fn new(looks: &Looks, pulse: Pulse, rule: &Rule, phases: usize, horizon_s: f64) -> Poi {
        let phases = phases.max(1);
        let mut times: Vec<f64> = (0..phases)
            .filter_map(|i| {
                let phase = (i as f64 + 0.5) / phases as f64 * pulse.period_s;
                looks.report_time(&pulse, rule, phase, horizon_s)
            })
            .collect();
        times.sort_by(f64::total_cmp);
        Poi {
            pulse,
            per_visit: looks.per_visit(&pulse, phases.min(256)),
            times,
            phases,
            horizon_s,
        }
    }

    /// Probability of a report by `t_s`.
    pub fn by(&self, t_s: f64) -> f64 {
        self.times.partition_point(|&t| t <= t_s) as f64 / self.phases as f64
    }

    /// The time by which a fraction `p` of phases is reported, if within the horizon.
    pub fn time_for(&self, p: f64) -> Option<f64> {
        let need = (p * self.phases as f64).ceil().max(1.0) as usize;
        self.times.get(need - 1).copied()
    }

    /// Probability of a report by the horizon (below 1 when some phases are never caught).
    pub fn eventually(&self) -> f64 {
        self.times.len() as f64 / self.phases as f64
    }
}

/// The range of successes out of `n` trials that a probability `p` makes likely: the
/// central `confidence` of Binomial(n, p), found exactly from its distribution. A measured
/// count outside it disagrees with `p` at that confidence.
pub fn binomial_band(n: u32, p: f64, confidence: f64) -> (u32, u32) {
    let p = p.clamp(0.0, 1.0);
    let pmf: Vec<f64> = (0..=n)
        .map(|k| {
            let lc = ln_choose(n, k);
            let a = if k == 0 {
                0.0
            } else if p == 0.0 {
                f64::NEG_INFINITY
            } else {
                k as f64 * p.ln()
            };
            let b = if k == n {
                0.0
            } else if p == 1.0 {
                f64::NEG_INFINITY
            } else {
                (n - k) as f64 * (1.0 - p).ln()
            };
            (lc + a + b).exp()
        })
        .collect();
    let tail = (1.0 - confidence) / 2.0;
    let mut lo = 0;
    let mut acc = 0.0;
    while lo < n && acc + pmf[lo as usize] <= tail {
        acc += pmf[lo as usize];
        lo += 1;
    }
    let mut hi = n;
    acc = 0.0;
    while hi > 0 && acc + pmf[hi as usize] <= tail {
        acc += pmf[hi as usize];
        hi -= 1;
    }
    (lo, hi.max(lo))
}

fn ln_choose(n: u32, k: u32) -> f64 {
    let k = k.min(n - k);
    (0..k).map(|i| ((n - i) as f64 / (i + 1) as f64).ln()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One visit of two 10 ms spectra every `revisit` s at 1 MS/s.
    fn looks(revisit_s: f64) -> Looks {
        Looks {
            rate_hz: 1e6,
            cycle: (revisit_s * 1e6) as u64,
            visits: vec![(0, 2)],
            span: 10_000,
            history: 500,
        }
    }

    fn rule(hits: u32) -> Rule {
        Rule {
            confirm_hits: hits,
            min_span_s: 0.0,
        }
    }

    const KEYFOB: Pulse = Pulse {
        width_s: 0.5e-3,
        period_s: 0.150,
    };

    #[test]
    fn a_visit_sees_a_train_as_often_as_its_window_over_the_period() {
        // Two spectra cover 20.5 ms of samples; a 0.5 ms pulse counts when half of it is
        // inside, so pulses starting in a 20.5 ms stretch count: 20.5 ms in every 150 ms.
        let l = looks(1.0);
        let v = l.per_visit(&KEYFOB, 3000);
        assert!((v - 0.0205 / 0.150).abs() < 0.002, "{v}");
        // A period shorter than the window: every visit sees it.
        let q = Pulse {
            width_s: 0.5e-3,
            period_s: 0.010,
        };
        assert_eq!(l.per_visit(&q, 500), 1.0);
    }

    #[test]
    fn a_pulse_is_reported_on_the_first_look_without_it() {
        let l = looks(0.1);
        // Phase 5 ms: seen in the first spectrum (0–10.5 ms), not in the second
        // (10–20.5 ms), which reports it.
        assert_eq!(l.first_sighting(&KEYFOB, 0.005, 10.0), Some(0.0105));
        assert_eq!(l.report_time(&KEYFOB, &rule(3), 0.005, 10.0), Some(0.0205));
        // Phase 15 ms: seen in the visit's last spectrum; the next look at the step is the
        // next visit's first spectrum (100–110.5 ms), which reports it.
        assert_eq!(l.first_sighting(&KEYFOB, 0.015, 10.0), Some(0.0205));
        let t = l.report_time(&KEYFOB, &rule(3), 0.015, 10.0).unwrap();
        assert!((t - 0.1105).abs() < 1e-9, "{t}");
        // Phase 10 ms: in the overlap of both spectra, seen twice; with two sightings
        // enough, reported on the second.
        let t = l.report_time(&KEYFOB, &rule(2), 0.010, 10.0).unwrap();
        assert!((t - 0.0205).abs() < 1e-9, "{t}");
        // Visits every 100 ms see phases in three 20.5 ms stretches of the 150 ms period
        // (visits fall at 0, 100 and 50 ms into it): no other phase is ever reported.
        let poi = Poi::new(&l, KEYFOB, &rule(3), 600, 30.0);
        assert!(
            (poi.eventually() - 3.0 * 0.0205 / 0.150).abs() < 0.01,
            "{}",
            poi.eventually()
        );
        assert!(poi.by(0.3) > 0.0 && poi.by(0.3) <= poi.eventually());
        assert!(poi.time_for(0.2).unwrap() <= poi.time_for(0.4).unwrap());
        assert_eq!(poi.time_for(0.5), None);
    }

    #[test]
    fn a_revisit_that_is_a_multiple_of_the_period_never_sees_some_phases() {
        // Revisit 300 ms = 2 periods: each phase is either always seen or never.
        let l = looks(0.3);
        let poi = Poi::new(&l, KEYFOB, &rule(3), 1500, 60.0);
        let v = l.per_visit(&KEYFOB, 1500);
        assert!(
            (poi.eventually() - v).abs() < 0.01,
            "{} {v}",
            poi.eventually()
        );
        assert!(poi.eventually() < 0.2);
        assert_eq!(poi.time_for(0.5), None);
    }

    #[test]
    fn a_train_seen_in_every_spectrum_is_reported_once_longer_than_a_hop() {
        let l = looks(0.1);
        let fast = Pulse {
            width_s: 0.5e-3,
            period_s: 0.005,
        };
        // Seen in every spectrum, so its burst never ends: reported once three sightings
        // span more than `min_span_s`: the third spectrum (100–110.5 ms) for 50 ms...
        let short = Rule {
            confirm_hits: 3,
            min_span_s: 0.05,
        };
        let t = l.report_time(&fast, &short, 0.001, 10.0).unwrap();
        assert!((t - 0.1105).abs() < 1e-9, "{t}");
        // ...the fifth (200–210.5 ms) for 200 ms.
        let long = Rule {
            min_span_s: 0.2,
            ..short
        };
        let t = l.report_time(&fast, &long, 0.001, 10.0).unwrap();
        assert!((t - 0.2105).abs() < 1e-9, "{t}");
    }

    #[test]
    fn binomial_band_holds_the_likely_counts() {
        assert_eq!(binomial_band(20, 0.0, 0.99), (0, 0));
        assert_eq!(binomial_band(20, 1.0, 0.99), (20, 20));
        let (lo, hi) = binomial_band(30, 0.5, 0.99);
        assert!(
            (6..=9).contains(&lo) && (21..=24).contains(&hi),
            "{lo} {hi}"
        );
        // Symmetric in p.
        let (a, b) = binomial_band(30, 0.2, 0.95);
        let (c, d) = binomial_band(30, 0.8, 0.95);
        assert_eq!((a, b), (30 - d, 30 - c));
        assert!(a <= 6 && 6 <= b);
    }
}
