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
    /// Frames the condition must hold before it is reported.
    pub persist_frames: u32,
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
            persist_frames: 3,
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
    /// Jamming started: the segments flagged in [`JammingMonitor::jammed`] rose.
    Started,
    /// Jamming ended.
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
    active: bool,
    quiet_since_s: Option<f64>,
    rise_ln: f32,
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
            active: false,
            quiet_since_s: None,
            rise_ln: (cfg.rise_db / 10.0 * std::f64::consts::LN_10) as f32,
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

    /// Folds in this frame's per-segment floor estimates (natural log of power) at stream
    /// time `t_s`.
    pub fn update(&mut self, now_ln: &[f32], t_s: f64) -> JamChange {
        if !self.initialised {
            self.reference_ln.copy_from_slice(now_ln);
            self.initialised = true;
            return JamChange::None;
        }
        let mut count = 0usize;
        for ((j, &now), &r) in self.jammed.iter_mut().zip(now_ln).zip(&self.reference_ln) {
            *j = now - r > self.rise_ln;
            count += usize::from(*j);
        }
        let fraction = count as f64 / self.jammed.len().max(1) as f64;
        let mut change = JamChange::None;
        if !self.active {
            if fraction >= self.cfg.min_fraction {
                self.streak += 1;
                if self.streak >= self.cfg.persist_frames {
                    self.active = true;
                    self.quiet_since_s = None;
                    change = JamChange::Started;
                }
            } else {
                self.streak = 0;
            }
        } else if fraction < self.cfg.min_fraction / 2.0 {
            let since = *self.quiet_since_s.get_or_insert(t_s);
            if t_s - since >= self.cfg.clear_s {
                self.active = false;
                self.streak = 0;
                change = JamChange::Ended;
            }
        } else {
            self.quiet_since_s = None;
        }
        // The reference learns only while nobody is jamming it.
        if !self.active && self.streak == 0 {
            for (r, &now) in self.reference_ln.iter_mut().zip(now_ln) {
                *r += self.alpha * (now - *r);
            }
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
            assert_eq!(m.update(&quiet, t), JamChange::None);
            t += 0.01;
        }
        assert_eq!(m.update(&jammed, t), JamChange::None);
        assert_eq!(m.update(&jammed, t + 0.01), JamChange::None);
        assert_eq!(m.update(&jammed, t + 0.02), JamChange::Started);
        assert!((m.mean_rise_db(&jammed) - 10.0).abs() < 0.1);
        t += 0.03;
        for _ in 0..500 {
            assert_eq!(
                m.update(&jammed, t),
                JamChange::None,
                "the reference must not learn the jammer"
            );
            t += 0.01;
        }
        let mut ended = false;
        for _ in 0..150 {
            ended |= m.update(&quiet, t) == JamChange::Ended;
            t += 0.01;
        }
        assert!(ended);
    }

    #[test]
    fn a_narrow_rise_is_not_jamming() {
        let mut m = JammingMonitor::new(JammingConfig::default(), 32, 0.01);
        let quiet = vec![0.0f32; 32];
        let mut one = quiet.clone();
        for v in &mut one[10..14] {
            *v = 4.6;
        }
        m.update(&quiet, 0.0);
        for i in 0..100 {
            assert_eq!(m.update(&one, 0.01 * i as f64), JamChange::None);
        }
    }
}
