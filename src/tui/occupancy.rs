//! Occupancy: per FFT bin, the share of time its level was above the detection threshold
//! over the last [`WINDOW_S`] of stream, which is what spectrum-management consoles
//! report as channel occupancy (ITU-R SM.1880 measures it the same way, as a share of
//! observations over a threshold).
//!
//! An observation is one display frame (at most 30 a second), whose level per bin is the
//! maximum of the spectra it folds: a burst shorter than a frame still counts for that
//! frame. Stream time, not wall time, sets the window, so a replay at any speed gives
//! the same picture and a test needs no clock.

use std::collections::VecDeque;

/// Stream seconds the occupancy covers.
pub const WINDOW_S: f64 = 300.0;

/// Stream seconds per bucket: the window slides in steps of this.
const BUCKET_S: f64 = 10.0;

#[derive(Debug, Clone)]
struct Bucket {
    start_s: f64,
    frames: u32,
    above: Vec<u32>,
}

/// Occupancy over a sliding window of stream time.
#[derive(Debug, Clone, Default)]
pub struct Occupancy {
    buckets: VecDeque<Bucket>,
    /// Sums over `buckets`, so reading the share costs one division per bin.
    frames: u32,
    above: Vec<u32>,
    first_s: Option<f64>,
    last_s: f64,
}

impl Occupancy {
    /// Counts one frame ending at stream second `t_s`: bins whose `power_db` exceeds
    /// `floor_db + threshold_db`.
    pub fn add(&mut self, power_db: &[f32], floor_db: &[f32], threshold_db: f32, t_s: f64) {
        let n = power_db.len();
        if self.above.len() != n {
            // A new grid (never within one run): start again.
            *self = Occupancy::default();
            self.above = vec![0; n];
        }
        self.first_s.get_or_insert(t_s);
        self.last_s = t_s;
        while self
            .buckets
            .front()
            .is_some_and(|b| b.start_s + BUCKET_S <= t_s - WINDOW_S)
        {
            if let Some(old) = self.buckets.pop_front() {
                self.frames -= old.frames;
                for (s, o) in self.above.iter_mut().zip(&old.above) {
                    *s -= o;
                }
            }
        }
        let fresh = self
            .buckets
            .back()
            .is_none_or(|b| t_s >= b.start_s + BUCKET_S);
        if fresh {
            let start_s = (t_s / BUCKET_S).floor() * BUCKET_S;
            self.buckets.push_back(Bucket {
                start_s,
                frames: 0,
                above: vec![0; n],
            });
        }
        let Some(b) = self.buckets.back_mut() else {
            return;
        };
        b.frames += 1;
        self.frames += 1;
        for (i, (&p, &f)) in power_db.iter().zip(floor_db).enumerate() {
            if p > f + threshold_db {
                b.above[i] += 1;
                self.above[i] += 1;
            }
        }
    }

    /// Share of frames above the threshold in bin `i`, 0..=1 (`None` before any frame).
    pub fn share(&self, i: usize) -> Option<f32> {
        (self.frames > 0)
            .then(|| self.above.get(i).map(|&a| a as f32 / self.frames as f32))
            .flatten()
    }

    /// Shares for every bin (empty before any frame).
    pub fn shares(&self) -> Vec<f32> {
        (0..self.above.len())
            .filter_map(|i| self.share(i))
            .collect()
    }

    /// Stream seconds the shares cover so far (up to about [`WINDOW_S`]).
    pub fn covered_s(&self) -> f64 {
        match (self.buckets.front(), self.first_s) {
            (Some(b), Some(first)) => self.last_s - b.start_s.max(first),
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame with bin 1 at `p1` dB over a -80 dB floor, bin 0 always quiet.
    fn frame(o: &mut Occupancy, p1: f32, t_s: f64) {
        o.add(&[-80.0, p1], &[-80.0, -80.0], 12.0, t_s);
    }

    #[test]
    fn share_of_frames_above_the_threshold() {
        let mut o = Occupancy::default();
        assert_eq!(o.share(0), None);
        // Bin 1 above the threshold (floor + 12 dB) one frame in four.
        for k in 0..100 {
            let on = k % 4 == 0;
            frame(&mut o, if on { -60.0 } else { -75.0 }, k as f64 * 0.1);
        }
        assert_eq!(o.share(0), Some(0.0));
        assert_eq!(o.share(1), Some(0.25));
        // Exactly at the threshold is not above it.
        let mut edge = Occupancy::default();
        frame(&mut edge, -68.0, 0.0);
        assert_eq!(edge.shares(), vec![0.0, 0.0]);
    }

    #[test]
    fn the_window_forgets_what_is_older_than_five_minutes() {
        let mut o = Occupancy::default();
        // Busy for the first minute, then quiet for six.
        for k in 0..4200 {
            let t = k as f64 * 0.1;
            frame(&mut o, if t < 60.0 { -50.0 } else { -80.0 }, t);
            if k == 1200 {
                // Two minutes in: busy half the time so far.
                let s = o.share(1).unwrap();
                assert!((s - 0.5).abs() < 0.01, "{s}");
            }
        }
        assert_eq!(o.share(1), Some(0.0), "the busy minute has left the window");
        let c = o.covered_s();
        assert!((WINDOW_S..WINDOW_S + BUCKET_S).contains(&c), "{c}");
    }
}
