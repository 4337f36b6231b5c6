//! Jamming as a floor rise: the noise floor over a wide part of the band rising well above
//! where it has long been. Compares the floor's instantaneous per-segment estimates with a
//! slow reference (tens of seconds, frozen while jamming), so a jammer is reported within
//! a few frames and, once it is, the working floor can be snapped to the jammed level
//! instead of flagging every jammed bin as a new emitter.

/// Parameters of the floor-rise rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JammingConfig {
    /// A segment counts as jammed when its floor is this far above the reference.
    pub rise_db: f64,
    /// Jamming when at least this fraction of the band's segments is jammed.
    pub min_fraction: f64,
    /// Frames a wide rise must last before the floor is snapped to it (a front-end gain
    /// step or a strong burst's broadband spill, as much as a jammer).
    pub snap_frames: u32,
    /// How long a flat wide rise must hold before it is reported as jamming: a burst,
    /// however strong, ends sooner; a jammer that stays this long is reported.
    pub persist_s: f64,
    /// Largest spread (standard deviation, dB) of the rise over the raised segments: the
    /// floor itself rising is flat across them (a jammer's noise, or the front end's); the
    /// skirts of one strong emitter fall off with distance from it and are not jamming.
    pub max_rise_spread_db: f64,
    /// Time constant of the reference floor.
    pub reference_tau_s: f64,
    /// Seconds below half the fraction before the alert clears.
    pub clear_s: f64,
}

impl Default for JammingConfig {
    fn default() -> Self {
        JammingConfig {
            rise_db: 3.0,
            min_fraction: 0.25,
            snap_frames: 3,
            persist_s: 0.1,
            max_rise_spread_db: 3.0,
            reference_tau_s: 30.0,
            clear_s: 1.0,
        }
    }
}

/// What changed this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum JamChange {
    /// Nothing new.
    None,
    /// A wide rise started: the segments flagged in [`JammingMonitor::jammed`] rose (snap
    /// the floor to it; not yet jamming).
    Started,
    /// The rise has been flat and wide for `persist_s`: jamming, to be reported.
    Confirmed,
    /// The rise ended (at once if it was never confirmed; after `clear_s` below half
    /// the fraction if it was).
    Ended,
}

/// The floor-rise monitor.
#[derive(Debug, Clone)]
pub struct JammingMonitor {
    cfg: JammingConfig,
    alpha: f32,
    reference_ln: Vec<f32>,
    jammed: Vec<bool>,
    initialised: bool,
    streak: u32,
    flat_streak: u32,
    persist_frames: u32,
    active: bool,
    reported: bool,
    quiet_since_s: Option<f64>,
    rise_ln: f32,
    /// Power of the signals standing above the floor while the reference was learnt: what
    /// was on the air before a rise cannot have made it.
    signal_ref: f64,
}

impl JammingMonitor {
    /// A monitor for `segments` floor segments updated every `frame_s`.
    pub fn new(cfg: JammingConfig, segments: usize, frame_s: f64) -> Self {
        JammingMonitor {
            cfg,
            alpha: (frame_s / cfg.reference_tau_s).min(1.0) as f32,
            reference_ln: vec![0.0; segments],
            jammed: vec![false; segments],
            initialised: false,
            streak: 0,
            flat_streak: 0,
            persist_frames: ((cfg.persist_s / frame_s.max(1e-9)).ceil() as u32).max(1),
            active: false,
            reported: false,
            quiet_since_s: None,
            rise_ln: (cfg.rise_db / 10.0 * std::f64::consts::LN_10) as f32,
            signal_ref: 0.0,
        }
    }

    /// Starts the reference from a known quiet floor (a baseline) instead of the first frame.
    pub fn seed_reference(&mut self, reference_ln: &[f32]) {
        self.reference_ln.copy_from_slice(reference_ln);
        self.initialised = true;
    }

    /// Segments currently above the reference by the rise.
    pub fn jammed(&self) -> &[bool] {
        &self.jammed
    }

    /// Whether jamming is being reported.
    pub fn active(&self) -> bool {
        self.active
    }

    /// Whether a signal of `signal_power` accounts for the rise: a strong transmission's
    /// broadband spill (keying splatter, the front end's intermodulation and reciprocal
    /// mixing, an ADC near its clip) raises the floor flatly across the band while it is
    /// on, but is always a fraction of the power of the signal that makes it. A jammer's
    /// power is the rise itself, and outweighs whatever it covers.
    pub fn explained_by(&self, now_ln: &[f32], seg_bins: usize, signal_power: f64) -> bool {
        let rise: f64 = self
            .jammed
            .iter()
            .zip(now_ln)
            .zip(&self.reference_ln)
            .filter(|((&j, _), _)| j)
            .map(|((_, &now), &r)| ((now as f64).exp() - (r as f64).exp()).max(0.0))
            .sum::<f64>()
            * seg_bins as f64;
        rise > 0.0 && signal_power >= rise
    }

    /// Mean rise over the jammed segments, dB.
    pub fn mean_rise_db(&self, now_ln: &[f32]) -> f64 {
        let (mut sum, mut n) = (0.0f64, 0usize);
        for ((&j, &now), &r) in self.jammed.iter().zip(now_ln).zip(&self.reference_ln) {
            if j {
                sum += (now - r) as f64;
                n += 1;
            }
        }
        if n == 0 {
            0.0
        } else {
            sum / n as f64 * 10.0 / std::f64::consts::LN_10
        }
    }

    /// Folds in this frame's per-segment floor estimates (natural log of power, each
    /// segment `seg_bins` bins wide) at stream time `t_s`. `signal_power` is the power (per-bin
    /// units, summed over bins) of what stands well above this frame's floor: a rise it
    /// outweighs is its spill, never jamming (see [`Self::explained_by`]).
    pub fn update(
        &mut self,
        now_ln: &[f32],
        t_s: f64,
        seg_bins: usize,
        signal_power: f64,
    ) -> JamChange {
        if !self.initialised {
            self.reference_ln.copy_from_slice(now_ln);
            self.signal_ref = signal_power;
            self.initialised = true;
            return JamChange::None;
        }
        let mut count = 0usize;
        let (mut sum, mut sum2) = (0.0f64, 0.0f64);
        for ((j, &now), &r) in self.jammed.iter_mut().zip(now_ln).zip(&self.reference_ln) {
            *j = now - r > self.rise_ln;
            count += usize::from(*j);
            if *j {
                let d = (now - r) as f64;
                sum += d;
                sum2 += d * d;
            }
        }
        let fraction = count as f64 / self.jammed.len().max(1) as f64;
        let flat = count > 0 && {
            let mean = sum / count as f64;
            let sd_db = (sum2 / count as f64 - mean * mean).max(0.0).sqrt() * 10.0
                / std::f64::consts::LN_10;
            sd_db <= self.cfg.max_rise_spread_db
        };
        let wide = fraction >= self.cfg.min_fraction;
        // Only what came on with the rise can have made it: a beacon on all along is not
        // the spill of a jammer that switched on beside it.
        let explained = wide && self.explained_by(now_ln, seg_bins, signal_power - self.signal_ref);
        if wide && flat && !explained {
            self.flat_streak += 1;
        } else {
            self.flat_streak = 0;
        }
        let mut change = JamChange::None;
        if !self.active {
            if wide {
                self.streak += 1;
                if self.streak >= self.cfg.snap_frames {
                    self.active = true;
                    self.quiet_since_s = None;
                    change = JamChange::Started;
                }
            } else {
                self.streak = 0;
            }
        } else if fraction < self.cfg.min_fraction / 2.0 {
            let since = *self.quiet_since_s.get_or_insert(t_s);
            // A rise never reported (shorter than the jamming look: a wide burst, a
            // strong one's spill) ends as soon as it falls: nothing was said to be held
            // against flicker, and the burst it was is reported at its end.
            if !self.reported || t_s - since >= self.cfg.clear_s {
                self.active = false;
                self.reported = false;
                self.streak = 0;
                change = JamChange::Ended;
            }
        } else {
            self.quiet_since_s = None;
        }
        if self.active
            && !self.reported
            && change == JamChange::None
            && self.flat_streak >= self.persist_frames
        {
            self.reported = true;
            change = JamChange::Confirmed;
        }
        // The reference learns only while nobody is jamming it.
        if !self.active && self.streak == 0 {
            for (r, &now) in self.reference_ln.iter_mut().zip(now_ln) {
                *r += self.alpha * (now - *r);
            }
            self.signal_ref += self.alpha as f64 * (signal_power - self.signal_ref);
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_rise_is_reported_after_persisting_and_clears_after_quiet() {
        let mut m = JammingMonitor::new(JammingConfig::default(), 32, 0.01);
        let quiet = vec![0.0f32; 32];
        let mut jammed = quiet.clone();
        for v in &mut jammed[4..24] {
            *v = 2.3; // +10 dB over 62% of the band
        }
        let mut t = 0.0;
        for _ in 0..100 {
            assert_eq!(m.update(&quiet, t, 1, 0.0), JamChange::None);
            t += 0.01;
        }
        // The floor snaps after three frames; jamming is reported once the rise has
        // lasted `persist_s` (100 ms: ten frames), not before.
        let mut seen = Vec::new();
        for _ in 0..10 {
            seen.push(m.update(&jammed, t, 1, 0.0));
            t += 0.01;
        }
        assert_eq!(seen[2], JamChange::Started, "{seen:?}");
        assert_eq!(seen[9], JamChange::Confirmed, "{seen:?}");
        assert!(seen.iter().filter(|c| **c != JamChange::None).count() == 2);
        assert!((m.mean_rise_db(&jammed) - 10.0).abs() < 0.1);
        for _ in 0..500 {
            assert_eq!(
                m.update(&jammed, t, 1, 0.0),
                JamChange::None,
                "the reference must not learn the jammer"
            );
            t += 0.01;
        }
        let mut ended = false;
        for _ in 0..150 {
            ended |= m.update(&quiet, t, 1, 0.0) == JamChange::Ended;
            t += 0.01;
        }
        assert!(ended);
    }

    #[test]
    fn the_skirts_of_one_strong_emitter_are_not_jamming() {
        let mut m = JammingMonitor::new(JammingConfig::default(), 32, 0.01);
        let quiet = vec![0.0f32; 32];
        // A strong burst at segment 8: 30 dB there, falling 3 dB a segment either side,
        // so half the band is "raised" by more than 3 dB, unevenly.
        let skirts: Vec<f32> = (0..32)
            .map(|i| {
                let db = 30.0 - 3.0 * (i as f32 - 8.0).abs();
                db.max(0.0) / 10.0 * std::f32::consts::LN_10
            })
            .collect();
        m.update(&quiet, 0.0, 1, 0.0);
        for i in 0..100 {
            // The floor may snap to the skirts; it is never reported.
            assert_ne!(
                m.update(&skirts, 0.01 * i as f64, 1, 0.0),
                JamChange::Confirmed
            );
        }
    }

    #[test]
    fn a_narrow_rise_is_not_jamming() {
        let mut m = JammingMonitor::new(JammingConfig::default(), 32, 0.01);
        let quiet = vec![0.0f32; 32];
        let mut one = quiet.clone();
        for v in &mut one[10..14] {
            *v = 4.6;
        }
        m.update(&quiet, 0.0, 1, 0.0);
        for i in 0..100 {
            assert_eq!(m.update(&one, 0.01 * i as f64, 1, 0.0), JamChange::None);
        }
    }

    #[test]
    fn a_rise_outweighed_by_a_signal_on_the_air_is_its_spill() {
        let mut m = JammingMonitor::new(JammingConfig::default(), 32, 0.01);
        let quiet = vec![0.0f32; 32];
        // +10 dB over 20 segments of 8 bins: 9 × 160 = 1,440 units of rise.
        let mut raised = quiet.clone();
        for v in &mut raised[4..24] {
            *v = std::f32::consts::LN_10;
        }
        m.update(&quiet, 0.0, 8, 0.0);
        for i in 1..100 {
            // A keyed transmitter carrying twice the rise's power is on: its spill.
            let c = m.update(&raised, 0.01 * i as f64, 8, 2880.0);
            assert_ne!(c, JamChange::Confirmed, "frame {i}");
        }
        // The transmitter goes and the rise stays: the floor itself, now jamming.
        let confirmed =
            (100..120).any(|i| m.update(&raised, 0.01 * i as f64, 8, 0.0) == JamChange::Confirmed);
        assert!(confirmed);
    }

    #[test]
    fn a_signal_on_before_the_rise_does_not_explain_it() {
        let mut m = JammingMonitor::new(JammingConfig::default(), 32, 0.01);
        let quiet = vec![0.0f32; 32];
        let mut raised = quiet.clone();
        for v in &mut raised[4..24] {
            *v = std::f32::consts::LN_10;
        }
        // A strong beacon, on from the start, carries more power than the jammer's rise.
        for i in 0..50 {
            m.update(&quiet, 0.01 * i as f64, 8, 1e5);
        }
        let confirmed =
            (50..80).any(|i| m.update(&raised, 0.01 * i as f64, 8, 1e5) == JamChange::Confirmed);
        assert!(confirmed, "a jammer beside a beacon is jamming");
    }
}
