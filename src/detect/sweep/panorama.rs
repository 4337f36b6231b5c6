//! The panorama: every step's latest spectrum stitched into one over the swept span, each
//! step filling only the part it owns (seam to seam), so overlaps are never counted twice
//! and the cropped edges never show. What the console draws; detection never reads it.
//!
//! A bin holds the maximum of the spectra folded into it since the display frame began,
//! so a burst caught in one spectrum of a dwell is still there when the frame is drawn,
//! and keeps its last value until its step is visited again. A bin no step owns (between
//! swept ranges) is NaN: nothing was measured there.

use super::plan::SweepPlan;
use crate::dsp::FreqGrid;

/// The stitched spectrum and noise floor of a sweep (linear power).
#[derive(Debug, Clone)]
pub struct Panorama {
    grid: FreqGrid,
    /// Per step: (kept bin, panorama bin) for every kept bin inside the owned part.
    maps: Vec<Vec<(u32, u32)>>,
    power: Vec<f32>,
    floor: Vec<f32>,
    /// The display frame in which each bin was last written.
    stamp: Vec<u32>,
    frame: u32,
    current: Option<usize>,
}

impl Panorama {
    /// An empty panorama for `plan`.
    pub fn new(plan: &SweepPlan) -> Self {
        let grid = plan.panorama;
        let lo = grid.freq_of(0.0) - grid.bin_hz() / 2.0;
        let maps = (0..plan.steps.len())
            .map(|i| {
                let s = &plan.steps[i];
                let g = plan.step_grid(i);
                (0..g.bins)
                    .filter_map(|m| {
                        let f = g.freq_of(m as f64);
                        if f < s.own_lo_hz || f >= s.own_hi_hz {
                            return None;
                        }
                        let p = ((f - lo) / grid.bin_hz()).floor();
                        (p >= 0.0 && (p as usize) < grid.bins).then_some((m as u32, p as u32))
                    })
                    .collect()
            })
            .collect();
        Panorama {
            grid,
            maps,
            power: vec![f32::NAN; grid.bins],
            floor: vec![f32::NAN; grid.bins],
            stamp: vec![0; grid.bins],
            frame: 1,
            current: None,
        }
    }

    /// Bin ↔ absolute frequency.
    pub fn grid(&self) -> &FreqGrid {
        &self.grid
    }

    /// Folds in a spectrum of step `step`'s kept bins.
    pub fn fold(&mut self, step: usize, kept: &[f32]) {
        let Some(map) = self.maps.get(step) else {
            return;
        };
        for &(m, p) in map {
            let (m, p) = (m as usize, p as usize);
            let v = kept[m];
            if self.stamp[p] == self.frame {
                self.power[p] = self.power[p].max(v);
            } else {
                self.power[p] = v;
                self.stamp[p] = self.frame;
            }
        }
        self.current = Some(step);
    }

    /// Sets step `step`'s noise floor (its kept bins).
    pub fn set_floor(&mut self, step: usize, floor: &[f32]) {
        let Some(map) = self.maps.get(step) else {
            return;
        };
        // Several kept bins share a panorama bin when it is coarser: the first one sets it.
        let mut last = u32::MAX;
        for &(m, p) in map {
            if p != last {
                self.floor[p as usize] = floor[m as usize];
                last = p;
            }
        }
    }

    /// Starts a new display frame: a bin's next fold replaces what it holds.
    pub fn next_frame(&mut self) {
        self.frame = self.frame.wrapping_add(1).max(1);
    }

    /// Power per bin (NaN where nothing was measured).
    pub fn power(&self) -> &[f32] {
        &self.power
    }

    /// Noise floor per bin (NaN where nothing was measured).
    pub fn floor(&self) -> &[f32] {
        &self.floor
    }

    /// The step whose spectrum came last.
    pub fn current(&self) -> Option<usize> {
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::{Geometry, SweepSpec};
    use super::*;
    use crate::detect::bandplan::BandPlan;

    fn plan(rate: f64, ranges: Vec<(f64, f64)>) -> SweepPlan {
        SweepPlan::new(
            &SweepSpec::Ranges(ranges),
            &BandPlan::default_border(),
            Geometry {
                rate_hz: rate,
                fft_len: 1024,
                span: 10240,
                history: 512,
                keep_fraction: 0.7,
                dwell_spectra: 1,
                settle_samples: 0,
                tunable: vec![],
                device: "driver=test".into(),
            },
        )
        .unwrap()
    }

    #[test]
    fn every_panorama_bin_of_a_range_is_owned_by_exactly_one_step() {
        let p = plan(2.4e6, vec![(430e6, 440e6)]);
        let pano = Panorama::new(&p);
        let mut owners = vec![0u32; pano.grid.bins];
        for map in &pano.maps {
            for &(_, b) in map {
                owners[b as usize] += 1;
            }
        }
        assert!(owners.iter().all(|&o| o == 1), "{owners:?}");
        // Full resolution: one kept bin per panorama bin, same frequency.
        let g = p.step_grid(3);
        for &(m, b) in &pano.maps[3] {
            let f = pano.grid.freq_of(b as f64);
            assert!((f - g.freq_of(m as f64)).abs() < 1e-3);
        }
    }

    #[test]
    fn folds_stitch_steps_and_hold_the_maximum_within_a_frame() {
        let p = plan(2.4e6, vec![(430e6, 433e6)]);
        let mut pano = Panorama::new(&p);
        let kept = p.steps[0].keep.1 - p.steps[0].keep.0;
        pano.fold(0, &vec![1.0; kept]);
        pano.fold(1, &vec![2.0; kept]);
        let at = |pano: &Panorama, f: f64| pano.power()[pano.grid.bin_of(f).round() as usize];
        let seam = p.steps[0].own_hi_hz;
        assert_eq!(at(&pano, seam - 5e3), 1.0);
        assert_eq!(at(&pano, seam + 5e3), 2.0);
        assert_eq!(pano.current(), Some(1));
        pano.fold(0, &vec![0.5; kept]);
        assert_eq!(at(&pano, seam - 5e3), 1.0, "maximum within the frame");
        pano.next_frame();
        pano.fold(0, &vec![0.5; kept]);
        assert_eq!(at(&pano, seam - 5e3), 0.5, "replaced in a new frame");
        assert_eq!(
            at(&pano, seam + 5e3),
            2.0,
            "kept until its step comes again"
        );
    }

    #[test]
    fn bins_between_ranges_stay_unmeasured_and_wide_sweeps_are_decimated() {
        let p = plan(20e6, vec![(430e6, 440e6), (2.4e9, 2.48e9)]);
        let mut pano = Panorama::new(&p);
        assert!(pano.grid.bins <= super::super::plan::PANORAMA_MAX_BINS);
        for i in 0..p.steps.len() {
            let k = p.steps[i].keep.1 - p.steps[i].keep.0;
            pano.fold(i, &vec![1.0; k]);
            pano.set_floor(i, &vec![0.5; k]);
        }
        let gap = pano.grid.bin_of(1.5e9).round() as usize;
        assert!(pano.power()[gap].is_nan() && pano.floor()[gap].is_nan());
        let inside = pano.grid.bin_of(2.44e9).round() as usize;
        assert_eq!((pano.power()[inside], pano.floor()[inside]), (1.0, 0.5));
    }
}
