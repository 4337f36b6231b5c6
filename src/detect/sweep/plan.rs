//! The sweep plan: which centre frequencies a radio steps through, which bins of each
//! step's spectra are kept, where the seams between steps lie, and in what order and how
//! often the steps are visited. Pure arithmetic on the band plan and the receiver's
//! numbers; everything is counted in samples, so the schedule is exact.
//!
//! ```text
//!   band plan ─▶ ranges to sweep ─▶ tiles of kept width U, overlapping by O ─▶ steps
//!        priority of the bands a step owns ─▶ weight 1 / 2 / 4 ─▶ smooth round robin ─▶ cycle
//!
//!   step i   ├──────────── kept (U) ────────────┤
//!   step i+1                          ├──────────── kept (U) ────────────┤
//!                                     ├── O ────┤
//!                                          ▲ seam: each side of it is owned by one step
//! ```

use std::sync::Arc;

use crate::alert::Severity;
use crate::detect::bandplan::BandPlan;
use crate::detect::DetectorConfig;
use crate::dsp::FreqGrid;
use crate::error::Error;
use crate::units;

/// Steps overlap by this fraction of their kept width, so that an emitter at a seam is
/// seen whole by at least one step unless it is wider than the overlap.
pub const OVERLAP_FRACTION: f64 = 0.1;
/// Nor by fewer bins than this: a floor segment and the CFAR's training cells need room.
pub const MIN_OVERLAP_BINS: usize = 16;
/// The panorama (what the console shows) has at most this many bins; a wider sweep is
/// shown max-held at a coarser resolution. Detection always runs at full resolution.
pub const PANORAMA_MAX_BINS: usize = 16384;
/// An unconfirmed emitter is forgotten after this many revisits of its step without a
/// sighting (at least the fixed-tune time): a pulse caught on one visit in ten must still
/// be remembered when it is caught again.
pub const FORGET_REVISITS: f64 = 20.0;
/// A reported emitter clears after this many revisits without a sighting (at least the
/// fixed-tune hold), for the reason an unconfirmed one is forgotten only after
/// [`FORGET_REVISITS`]: a pulse train one visit in eight sees (0.5 ms every 150 ms, 20 ms
/// dwells) goes unseen for 20 revisits 7% of the time, for 3 revisits 67% of it, and an
/// alert cleared and raised again at every such gap would be a flood.
pub const HOLD_REVISITS: f64 = 20.0;
/// Bursts are collected for hop detection over this many revisits (at least the
/// fixed-tune window).
pub const HOP_WINDOW_REVISITS: f64 = 4.0;
/// Most steps a sweep may have: far beyond any real plan, and it bounds every table.
pub const MAX_STEPS: usize = 4096;

/// What to sweep.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepSpec {
    /// Every band of the band plan the radio can tune.
    Plan,
    /// These ranges, Hz (each must overlap a band of the plan).
    Ranges(Vec<(f64, f64)>),
}

impl SweepSpec {
    /// Parses `430M-440M,2.4G-2.5G`.
    ///
    /// # Errors
    /// A message naming the range that is not one, or is empty.
    pub fn parse(text: &str) -> Result<SweepSpec, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = part
                .split_once('-')
                .ok_or_else(|| format!("`{part}` is not a range (example: 430M-440M)"))?;
            let lo = units::parse_hz(a)?;
            let hi = units::parse_hz(b)?;
            if !(lo >= 0.0 && hi > lo) {
                return Err(format!(
                    "`{part}` is an empty range: its upper edge must be above its lower edge"
                ));
            }
            ranges.push((lo, hi));
        }
        if ranges.is_empty() {
            return Err(format!("`{text}` names no range (example: 430M-440M)"));
        }
        Ok(SweepSpec::Ranges(ranges))
    }
}

/// The receiver and spectrum a sweep is planned for.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// Sample rate, which is also the tuner's bandwidth before cropping.
    pub rate_hz: f64,
    /// FFT length.
    pub fft_len: usize,
    /// New samples per averaged spectrum.
    pub span: usize,
    /// Samples a spectrum's frames reach past its span (`fft_len - hop`).
    pub history: usize,
    /// Fraction of the band kept after cropping both edges (0 < f ≤ 1).
    pub keep_fraction: f64,
    /// Averaged spectra per visit.
    pub dwell_spectra: usize,
    /// Samples discarded after every retune.
    pub settle_samples: u64,
    /// Frequency ranges the radio tunes (empty: it does not say).
    pub tunable: Vec<(f64, f64)>,
    /// The radio, for messages (`driver=rtlsdr`).
    pub device: String,
}

/// One centre frequency of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Tuned centre frequency.
    pub centre_hz: f64,
    /// Bins of each spectrum kept: `keep.0 .. keep.1`.
    pub keep: (usize, usize),
    /// The part of the spectrum this step alone fills in the panorama (seam to seam).
    pub own_lo_hz: f64,
    /// Upper edge of that part.
    pub own_hi_hz: f64,
    /// The most urgent priority of the bands it owns part of.
    pub priority: Severity,
    /// Visits per cycle: 1, 2 or 4 by priority.
    pub weight: u32,
}

/// One dwell on one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    /// Index into [`SweepPlan::steps`].
    pub step: usize,
    /// Averaged spectra taken.
    pub spectra: usize,
}

/// A band of the band plan, as far as it is swept.
#[derive(Debug, Clone, PartialEq)]
pub struct SweptBand {
    /// Its name in the plan.
    pub name: Arc<str>,
    /// The swept part of it.
    pub lo_hz: f64,
    /// Upper edge of the swept part.
    pub hi_hz: f64,
    /// Its priority.
    pub priority: Severity,
    /// Steps that own part of it.
    pub steps: Vec<usize>,
}

/// A planned sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPlan {
    /// What it was planned for.
    pub geometry: Geometry,
    /// Frequency ranges covered, merged, ascending.
    pub ranges: Vec<(f64, f64)>,
    /// Steps, ascending in frequency.
    pub steps: Vec<Step>,
    /// One cycle of visits, repeated for as long as the sweep runs.
    pub cycle: Vec<Visit>,
    /// Bands of the plan that are swept.
    pub bands: Vec<SweptBand>,
    /// What could not be swept, and why (bands outside the radio's range).
    pub skipped: Vec<String>,
    /// The stitched spectrum of every step, as the console shows it.
    pub panorama: FreqGrid,
}

/// Visits per cycle for a band priority: a critical band is looked at four times as often
/// as an informational one.
pub fn weight_of(priority: Severity) -> u32 {
    match priority {
        Severity::Info => 1,
        Severity::Warning => 2,
        Severity::Critical => 4,
    }
}

fn invalid(why: String) -> Error {
    Error::invalid("sweep", why)
}

/// `433.92 MHz`, `6 GHz`: a frequency for messages, no trailing zeros.
pub fn hz_text(hz: f64) -> String {
    let (v, unit) = match hz.abs() {
        a if a >= 1e9 => (hz / 1e9, "GHz"),
        a if a >= 1e6 => (hz / 1e6, "MHz"),
        a if a >= 1e3 => (hz / 1e3, "kHz"),
        _ => (hz, "Hz"),
    };
    let t = format!("{v:.*}", if unit == "GHz" { 6 } else { 4 });
    format!("{} {unit}", t.trim_end_matches('0').trim_end_matches('.'))
}

/// `430 MHz–440 MHz`.
pub fn range_text(lo: f64, hi: f64) -> String {
    format!("{}–{}", hz_text(lo), hz_text(hi))
}

impl SweepPlan {
    /// Plans a sweep of `spec` over `plan`'s bands for a receiver with `geometry`.
    ///
    /// # Errors
    /// [`Error::Invalid`] for `sweep` (a range outside the radio's, or overlapping no band
    /// of the plan; nothing left to sweep) and for `crop`, `dwell` (a geometry that leaves
    /// no room between seams).
    pub fn new(spec: &SweepSpec, plan: &BandPlan, geometry: Geometry) -> Result<SweepPlan, Error> {
        let g = &geometry;
        if !(g.keep_fraction > 0.0 && g.keep_fraction <= 1.0) {
            return Err(Error::invalid(
                "crop",
                format!(
                    "must leave part of the band: keeps {:.0}%",
                    g.keep_fraction * 100.0
                ),
            ));
        }
        if g.dwell_spectra == 0 {
            return Err(Error::invalid("dwell", "must be at least one spectrum"));
        }
        let n = g.fft_len;
        let bin = g.rate_hz / n as f64;
        // Kept bins: an even count around the centre bin.
        let keep_bins = (((g.keep_fraction * n as f64) / 2.0).floor() as usize * 2).min(n);
        let overlap_bins =
            ((OVERLAP_FRACTION * keep_bins as f64).round() as usize).max(MIN_OVERLAP_BINS);
        if keep_bins < overlap_bins + 8 {
            return Err(Error::invalid(
                "crop",
                format!(
                    "leaves {keep_bins} of {n} bins, too few to overlap steps by \
                     {overlap_bins} bins (use a larger --fft or crop less)"
                ),
            ));
        }
        let keep = (n / 2 - keep_bins / 2, n / 2 + keep_bins / 2);
        let keep_hz = keep_bins as f64 * bin;
        let stride_hz = (keep_bins - overlap_bins) as f64 * bin;

        // What to cover, with the plan's bands it touches.
        let tunable = |lo: f64, hi: f64| {
            g.tunable.is_empty() || g.tunable.iter().any(|&(a, b)| lo >= a && hi <= b)
        };
        let device_range = || {
            g.tunable
                .iter()
                .map(|&(a, b)| range_text(a, b))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut wanted: Vec<(f64, f64)> = Vec::new();
        let mut skipped = Vec::new();
        match spec {
            SweepSpec::Ranges(ranges) => {
                for &(lo, hi) in ranges {
                    // Not strictly above, NaN included.
                    if hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
                        return Err(invalid(format!("{} is an empty range", range_text(lo, hi))));
                    }
                    if !tunable(lo, hi) {
                        return Err(invalid(format!(
                            "{} is outside {}'s frequency range {}",
                            range_text(lo, hi),
                            g.device,
                            device_range()
                        )));
                    }
                    if !plan.bands.iter().any(|b| b.lo_hz < hi && b.hi_hz > lo) {
                        return Err(invalid(format!(
                            "{} overlaps no band of the band plan ({})",
                            range_text(lo, hi),
                            plan.origin
                        )));
                    }
                    wanted.push((lo, hi));
                }
            }
            SweepSpec::Plan => {
                for b in &plan.bands {
                    if tunable(b.lo_hz, b.hi_hz) {
                        wanted.push((b.lo_hz, b.hi_hz));
                    } else {
                        skipped.push(format!(
                            "{} ({}) is outside {}'s frequency range {}",
                            b.name,
                            range_text(b.lo_hz, b.hi_hz),
                            g.device,
                            device_range()
                        ));
                    }
                }
                if wanted.is_empty() {
                    return Err(invalid(format!(
                        "no band of the band plan ({}) is inside {}'s frequency range {}",
                        plan.origin,
                        g.device,
                        device_range()
                    )));
                }
            }
        }
        // Ranges closer than a stride apart are one: a step between them costs no more than
        // two part-empty steps, and leaves no hole.
        wanted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut ranges: Vec<(f64, f64)> = Vec::new();
        for (lo, hi) in wanted {
            match ranges.last_mut() {
                Some(last) if lo - last.1 < stride_hz => last.1 = last.1.max(hi),
                _ => ranges.push((lo, hi)),
            }
        }

        // Tiles: n steps cover U + (n-1)·stride, centred on the range; centres on the bin
        // grid of absolute frequency, so every step's bins line up in the panorama.
        let in_tune = |c: f64| {
            g.tunable
                .iter()
                .map(|&(a, b)| c.clamp(a, b))
                .min_by(|x, y| (x - c).abs().total_cmp(&(y - c).abs()))
                .unwrap_or(c)
        };
        let mut centres: Vec<f64> = Vec::new();
        for &(lo, hi) in &ranges {
            let count = if hi - lo <= keep_hz {
                1
            } else {
                ((hi - lo - keep_hz) / stride_hz).ceil() as usize + 1
            };
            if centres.len() + count > MAX_STEPS {
                return Err(invalid(format!(
                    "needs more than {MAX_STEPS} steps at {}: sweep less, or at a higher --rate",
                    units::format_rate(g.rate_hz)
                )));
            }
            let first = (lo + hi) / 2.0 - (count - 1) as f64 * stride_hz / 2.0;
            for i in 0..count {
                let c = in_tune(first + i as f64 * stride_hz);
                centres.push((c / bin).round() * bin);
            }
        }
        centres.sort_by(f64::total_cmp);
        centres.dedup();

        let kept = |c: f64| {
            (
                c + (keep.0 as f64 - (n / 2) as f64 - 0.5) * bin,
                c + (keep.1 as f64 - (n / 2) as f64 - 0.5) * bin,
            )
        };
        let mut steps: Vec<Step> = centres
            .iter()
            .map(|&c| {
                let (lo, hi) = kept(c);
                Step {
                    centre_hz: c,
                    keep,
                    own_lo_hz: lo,
                    own_hi_hz: hi,
                    priority: Severity::Info,
                    weight: 1,
                }
            })
            .collect();
        // Seams: where two steps' kept parts overlap, each owns up to the middle, on a bin
        // edge so that no panorama bin is half one step and half the other.
        for i in 1..steps.len() {
            if steps[i - 1].own_hi_hz > steps[i].own_lo_hz {
                let mid = (steps[i - 1].centre_hz + steps[i].centre_hz) / 2.0;
                let seam = ((mid / bin - 0.5).round() + 0.5) * bin;
                steps[i - 1].own_hi_hz = seam;
                steps[i].own_lo_hz = seam;
            }
        }

        // Bands as swept, and each step's priority from the bands it owns part of.
        let mut bands: Vec<SweptBand> = Vec::new();
        for b in &plan.bands {
            let covered: Vec<(f64, f64)> = ranges
                .iter()
                .filter(|&&(lo, hi)| lo < b.hi_hz && hi > b.lo_hz)
                .map(|&(lo, hi)| (lo.max(b.lo_hz), hi.min(b.hi_hz)))
                .collect();
            let (Some(lo), Some(hi)) = (
                covered.iter().map(|c| c.0).reduce(f64::min),
                covered.iter().map(|c| c.1).reduce(f64::max),
            ) else {
                continue;
            };
            let owners: Vec<usize> = (0..steps.len())
                .filter(|&i| steps[i].own_lo_hz < hi && steps[i].own_hi_hz > lo)
                .collect();
            for &i in &owners {
                steps[i].priority = steps[i].priority.max(b.priority);
            }
            bands.push(SweptBand {
                name: b.name.clone(),
                lo_hz: lo,
                hi_hz: hi,
                priority: b.priority,
                steps: owners,
            });
        }
        for s in &mut steps {
            s.weight = weight_of(s.priority);
        }
        let cycle = schedule(&steps, g.dwell_spectra);

        // The panorama: every kept bin, on one grid, coarser when that would be too many.
        let pano_lo = steps.first().map_or(0.0, |s| s.own_lo_hz);
        let pano_hi = steps.last().map_or(0.0, |s| s.own_hi_hz);
        let fine = ((pano_hi - pano_lo) / bin).round().max(1.0) as usize;
        let decim = fine.div_ceil(PANORAMA_MAX_BINS).max(1);
        let pano_bin = decim as f64 * bin;
        let bins = fine.div_ceil(decim);
        let panorama = FreqGrid {
            bins,
            sample_rate_hz: bins as f64 * pano_bin,
            center_freq_hz: pano_lo + pano_bin / 2.0 + (bins / 2) as f64 * pano_bin,
        };
        Ok(SweepPlan {
            geometry,
            ranges,
            steps,
            cycle,
            bands,
            skipped,
            panorama,
        })
    }

    /// Width of one bin of a step's spectrum.
    pub fn bin_hz(&self) -> f64 {
        self.geometry.rate_hz / self.geometry.fft_len as f64
    }

    /// The kept bins of step `i` as a grid of absolute frequencies.
    pub fn step_grid(&self, i: usize) -> FreqGrid {
        let s = &self.steps[i];
        let n = self.geometry.fft_len;
        let bins = s.keep.1 - s.keep.0;
        let bin = self.bin_hz();
        FreqGrid {
            bins,
            sample_rate_hz: bins as f64 * bin,
            // freq_of(m) must be the full spectrum's freq_of(keep.0 + m).
            center_freq_hz: s.centre_hz
                + (s.keep.0 as f64 + (bins / 2) as f64 - (n / 2) as f64) * bin,
        }
    }

    /// Samples the analysed part of a visit takes (its spectra and their frames' tail).
    pub fn dwell_samples(&self, v: &Visit) -> u64 {
        (self.geometry.history + v.spectra * self.geometry.span) as u64
    }

    /// Samples discarded before each visit: none when a cycle is one visit, which stays
    /// tuned (only the stream's start settles).
    pub fn settle_per_visit(&self) -> u64 {
        if self.cycle.len() > 1 {
            self.geometry.settle_samples
        } else {
            0
        }
    }

    /// Samples a visit takes, settling included.
    pub fn visit_samples(&self, v: &Visit) -> u64 {
        self.settle_per_visit() + self.dwell_samples(v)
    }

    /// Samples one cycle takes.
    pub fn cycle_samples(&self) -> u64 {
        self.cycle.iter().map(|v| self.visit_samples(v)).sum()
    }

    /// Seconds one cycle takes.
    pub fn cycle_s(&self) -> f64 {
        self.cycle_samples() as f64 / self.geometry.rate_hz
    }

    /// Bandwidth covered per second of stream: the panorama's span over the cycle time
    /// (as `hackrf_sweep` quotes it; priority revisits make a cycle longer).
    pub fn sweep_rate_hz_per_s(&self) -> f64 {
        let covered: f64 = self.steps.iter().map(|s| s.own_hi_hz - s.own_lo_hz).sum();
        covered / self.cycle_s().max(1e-12)
    }

    /// Where in a cycle step `i` is analysed: the first sample of each of its visits'
    /// analysed part (after the settle), and how many spectra it takes. The stream starts
    /// with a settle whatever the cycle, so a one-visit cycle's looks are offset by it.
    pub fn looks(&self, i: usize) -> Vec<(u64, usize)> {
        let mut at = self.geometry.settle_samples - self.settle_per_visit();
        let mut out = Vec::new();
        for v in &self.cycle {
            at += self.settle_per_visit();
            if v.step == i {
                out.push((at, v.spectra));
            }
            at += self.dwell_samples(v);
        }
        out
    }

    /// Step `i`'s revisit time: mean and longest gap between the starts of its visits, s.
    pub fn revisit_s(&self, i: usize) -> (f64, f64) {
        let looks = self.looks(i);
        let cycle = self.cycle_samples();
        let rate = self.geometry.rate_hz;
        if looks.is_empty() {
            return (f64::INFINITY, f64::INFINITY);
        }
        let mut worst = 0u64;
        for (k, &(at, _)) in looks.iter().enumerate() {
            let next = looks.get(k + 1).map_or(looks[0].0 + cycle, |n| n.0);
            worst = worst.max(next - at);
        }
        (
            cycle as f64 / looks.len() as f64 / rate,
            worst as f64 / rate,
        )
    }

    /// The detector settings for step `i`: the tracker's times stretched to the step's
    /// revisit time, and the slow test no longer than a visit (it restarts on every one).
    pub fn step_config(&self, i: usize, base: &DetectorConfig) -> DetectorConfig {
        let (_, worst) = self.revisit_s(i);
        let spectra = self
            .cycle
            .iter()
            .filter(|v| v.step == i)
            .map(|v| v.spectra)
            .min()
            .unwrap_or(1);
        let mut c = *base;
        c.slow_frames = base.slow_frames.min(spectra).max(1);
        // "Wide" is a fraction of what the radio takes in, as in a fixed tune at this rate,
        // not of the cropped part a step keeps.
        let s = &self.steps[i];
        c.tracker.wide_fraction = base.tracker.wide_fraction * self.geometry.fft_len as f64
            / (s.keep.1 - s.keep.0) as f64;
        let t = &mut c.tracker;
        t.tentative_s = t.tentative_s.max(FORGET_REVISITS * worst);
        t.hold_s = t.hold_s.max(HOLD_REVISITS * worst);
        t.lost_after_s = t.lost_after_s.max(HOLD_REVISITS * worst);
        t.hop.window_s = t.hop.window_s.max(HOP_WINDOW_REVISITS * worst);
        c
    }

    /// The step whose owned part holds `freq_hz`, if any.
    pub fn step_at(&self, freq_hz: f64) -> Option<usize> {
        self.steps
            .iter()
            .position(|s| s.own_lo_hz <= freq_hz && freq_hz < s.own_hi_hz)
    }
}

/// One cycle of visits: each step `weight` times, spread evenly. Visit `j` of step `i` of
/// `n` is due at `(j + i/n) / weight` of the cycle, and visits go in that order: equal
/// weights sweep in ascending frequency, and a heavier step's visits fall between the
/// others' at even intervals. Consecutive visits of one step (only possible when one step
/// outweighs all the others) are one longer dwell with a single settle.
fn schedule(steps: &[Step], dwell_spectra: usize) -> Vec<Visit> {
    let n = steps.len().max(1) as f64;
    let mut due: Vec<(f64, usize)> = steps
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            let w = f64::from(s.weight.max(1));
            (0..s.weight.max(1)).map(move |j| ((f64::from(j) + i as f64 / n) / w, i))
        })
        .collect();
    due.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut order: Vec<usize> = due.into_iter().map(|d| d.1).collect();
    // A cycle that ends on the step it starts with: one dwell across the wrap.
    if order.len() > 1 && order.first() == order.last() && order.iter().any(|&s| s != order[0]) {
        while order.first() == order.last() {
            order.rotate_right(1);
        }
    }
    let mut cycle: Vec<Visit> = Vec::with_capacity(order.len());
    for step in order {
        match cycle.last_mut() {
            Some(v) if v.step == step => v.spectra += dwell_spectra,
            _ => cycle.push(Visit {
                step,
                spectra: dwell_spectra,
            }),
        }
    }
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry(rate: f64) -> Geometry {
        Geometry {
            rate_hz: rate,
            fft_len: 1024,
            span: 24064,
            history: 512,
            keep_fraction: 0.7,
            dwell_spectra: 2,
            settle_samples: 4800,
            tunable: vec![(24e6, 6e9)],
            device: "driver=test".into(),
        }
    }

    fn plan() -> BandPlan {
        BandPlan::default_border()
    }

    #[test]
    fn ranges_parse_and_empty_ones_are_refused() {
        assert_eq!(
            SweepSpec::parse("430M-440M, 2.4G-2.5G").unwrap(),
            SweepSpec::Ranges(vec![(430e6, 440e6), (2.4e9, 2.5e9)])
        );
        assert!(SweepSpec::parse("440M-430M").unwrap_err().contains("empty"));
        assert!(SweepSpec::parse("430M-430M").unwrap_err().contains("empty"));
        assert!(SweepSpec::parse("430M")
            .unwrap_err()
            .contains("not a range"));
        assert!(SweepSpec::parse(",").unwrap_err().contains("no range"));
    }

    #[test]
    fn steps_tile_a_range_with_overlap_and_seams_split_it() {
        let p = SweepPlan::new(
            &SweepSpec::Ranges(vec![(430e6, 440e6)]),
            &plan(),
            geometry(2.4e6),
        )
        .unwrap();
        let bin = p.bin_hz();
        // 716 kept bins of 1024, overlapping by 72.
        assert_eq!(p.steps[0].keep, (512 - 358, 512 + 358));
        let keep_hz = 716.0 * bin;
        let stride = (716.0 - 72.0) * bin;
        assert!(p.steps.first().unwrap().own_lo_hz <= 430e6);
        assert!(p.steps.last().unwrap().own_hi_hz >= 440e6);
        for w in p.steps.windows(2) {
            assert!((w[1].centre_hz - w[0].centre_hz - stride).abs() <= bin);
            // Owned parts meet exactly, at the middle of the kept overlap.
            assert_eq!(w[0].own_hi_hz, w[1].own_lo_hz);
            let kept_hi = w[0].centre_hz + keep_hz / 2.0;
            let kept_lo = w[1].centre_hz - keep_hz / 2.0;
            assert!(w[0].own_hi_hz > kept_lo && w[0].own_hi_hz < kept_hi);
        }
        // Centres on the absolute bin grid.
        for s in &p.steps {
            assert!(((s.centre_hz / bin) - (s.centre_hz / bin).round()).abs() < 1e-6);
        }
        assert_eq!(p.steps.len(), 7);
    }

    #[test]
    fn a_step_grid_is_the_kept_part_of_the_full_spectrum() {
        let p = SweepPlan::new(
            &SweepSpec::Ranges(vec![(433e6, 435e6)]),
            &plan(),
            geometry(2.4e6),
        )
        .unwrap();
        let s = &p.steps[0];
        let full = FreqGrid {
            bins: 1024,
            sample_rate_hz: 2.4e6,
            center_freq_hz: s.centre_hz,
        };
        let g = p.step_grid(0);
        for m in [0usize, 1, 357, 715] {
            assert!((g.freq_of(m as f64) - full.freq_of((s.keep.0 + m) as f64)).abs() < 1e-3);
        }
    }

    #[test]
    fn priority_weights_revisits() {
        // UHF land mobile (info) around LPD433 (warning): LPD433's steps come twice a cycle.
        let p = SweepPlan::new(
            &SweepSpec::Ranges(vec![(425e6, 445e6)]),
            &plan(),
            geometry(2.4e6),
        )
        .unwrap();
        let lpd = p.bands.iter().find(|b| &*b.name == "LPD433").unwrap();
        assert_eq!(lpd.priority, Severity::Warning);
        for (i, s) in p.steps.iter().enumerate() {
            let visits = p.cycle.iter().filter(|v| v.step == i).count();
            let spectra: usize = p
                .cycle
                .iter()
                .filter(|v| v.step == i)
                .map(|v| v.spectra)
                .sum();
            assert_eq!(spectra, 2 * s.weight as usize, "step {i}");
            assert!(visits >= 1);
            let expect = if lpd.steps.contains(&i) { 2 } else { 1 };
            assert_eq!(s.weight, expect, "step {i}");
        }
        let (mean_lpd, _) = p.revisit_s(lpd.steps[0]);
        let other = (0..p.steps.len()).find(|i| !lpd.steps.contains(i)).unwrap();
        let (mean_other, _) = p.revisit_s(other);
        assert!((mean_other / mean_lpd - 2.0).abs() < 1e-9);
    }

    #[test]
    fn the_schedule_spreads_a_heavy_step_and_merges_repeats() {
        let mk = |w: u32| Step {
            centre_hz: 0.0,
            keep: (0, 1),
            own_lo_hz: 0.0,
            own_hi_hz: 1.0,
            priority: Severity::Info,
            weight: w,
        };
        let c = schedule(&[mk(4), mk(1), mk(1), mk(1), mk(1)], 2);
        let order: Vec<usize> = c.iter().map(|v| v.step).collect();
        // Step 0 between every other step.
        assert_eq!(order, [0, 1, 0, 2, 0, 3, 0, 4]);
        let c = schedule(&[mk(1), mk(2), mk(1), mk(1)], 2);
        let order: Vec<usize> = c.iter().map(|v| v.step).collect();
        assert_eq!(order, [0, 1, 2, 1, 3]);
        let c = schedule(&[mk(4), mk(1)], 2);
        let spectra: Vec<(usize, usize)> = c.iter().map(|v| (v.step, v.spectra)).collect();
        // A A B A A around the cycle: two dwells of step 0, each of two visits' spectra.
        assert_eq!(spectra.iter().map(|s| s.1).sum::<usize>(), 10);
        assert!(spectra.len() <= 3, "{spectra:?}");
    }

    #[test]
    fn the_plan_skips_bands_the_radio_cannot_tune_and_refuses_bad_ranges() {
        let mut g = geometry(20e6);
        g.tunable = vec![(24e6, 1766e6)];
        let p = SweepPlan::new(&SweepSpec::Plan, &plan(), g.clone()).unwrap();
        assert!(p.skipped.iter().any(|s| s.contains("5.8 GHz drone video")));
        assert!(p.steps.iter().all(|s| s.centre_hz <= 1766e6));
        assert!(p.bands.iter().any(|b| &*b.name == "GNSS L1"));
        let e = SweepPlan::new(&SweepSpec::Ranges(vec![(2.4e9, 2.5e9)]), &plan(), g.clone())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("sweep ") && e.contains("outside driver=test"),
            "{e}"
        );
        let e = SweepPlan::new(&SweepSpec::Ranges(vec![(100e6, 120e6)]), &plan(), g)
            .unwrap_err()
            .to_string();
        assert!(e.contains("overlaps no band"), "{e}");
    }

    #[test]
    fn the_whole_border_plan_fits_and_critical_bands_come_most_often() {
        let p = SweepPlan::new(&SweepSpec::Plan, &plan(), geometry(20e6)).unwrap();
        assert!(p.skipped.is_empty());
        assert!(p.panorama.bins <= PANORAMA_MAX_BINS);
        let l1 = p.bands.iter().find(|b| &*b.name == "GNSS L1").unwrap();
        let vhf = p
            .bands
            .iter()
            .find(|b| &*b.name == "VHF land mobile")
            .unwrap();
        let (r_l1, _) = p.revisit_s(l1.steps[0]);
        let (r_vhf, _) = p.revisit_s(vhf.steps[0]);
        assert!((r_vhf / r_l1 - 4.0).abs() < 1e-9, "{r_vhf} {r_l1}");
        // Every band is owned by some step, every owned part inside the panorama.
        for b in &p.bands {
            assert!(!b.steps.is_empty(), "{}", b.name);
        }
        let lo = p.panorama.freq_of(0.0) - p.panorama.bin_hz() / 2.0;
        assert!((lo - p.steps[0].own_lo_hz).abs() < 1e-3);
    }

    #[test]
    fn step_settings_stretch_with_the_revisit_time() {
        let p = SweepPlan::new(&SweepSpec::Plan, &plan(), geometry(20e6)).unwrap();
        let base = DetectorConfig::default();
        let c = p.step_config(0, &base);
        let (_, worst) = p.revisit_s(0);
        assert_eq!(c.slow_frames, 2);
        assert!((c.tracker.tentative_s - FORGET_REVISITS * worst).abs() < 1e-9);
        assert_eq!(
            c.tracker.hold_s,
            (HOLD_REVISITS * worst).max(base.tracker.hold_s)
        );
        assert_eq!(c.pfa, base.pfa);
    }
}
