//! Reading numbers off the spectrum: two markers (a reading and a difference) and the
//! table of the strongest peaks. Pure functions over the latest trace and floor.

use std::ops::RangeInclusive;

/// The two markers: FFT bins, so that a reading is exactly one bin's value and follows
/// zoom and pan. Marker 1 reads frequency and level; marker 2 reads the difference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Markers {
    /// Marker 1 and marker 2 (the delta marker), when on.
    pub bins: [Option<usize>; 2],
    /// The marker the arrow keys move (0 or 1).
    pub active: usize,
}

impl Markers {
    /// True while any marker is on (the arrow keys then move it instead of panning).
    pub fn any(&self) -> bool {
        self.bins.iter().any(Option::is_some)
    }
}

/// One local maximum of the spectrum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// FFT bin.
    pub bin: usize,
    /// Level, dB.
    pub level_db: f32,
    /// Level over the noise floor in that bin, dB.
    pub snr_db: f32,
}

/// The bin with the highest level in `bins`, if any.
pub fn strongest(trace: &[f32], bins: RangeInclusive<usize>) -> Option<usize> {
    let (lo, hi) = (
        *bins.start(),
        (*bins.end()).min(trace.len().checked_sub(1)?),
    );
    (lo..=hi).max_by(|&a, &b| trace[a].total_cmp(&trace[b]))
}

/// Up to `max` strongest local maxima of `trace` within `bins`, strongest first, at least
/// `min_sep` bins apart (one wide signal is one peak, not a comb of its ripples).
pub fn peaks(
    trace: &[f32],
    floor: &[f32],
    bins: RangeInclusive<usize>,
    max: usize,
    min_sep: usize,
) -> Vec<Peak> {
    let Some(last) = trace.len().checked_sub(1) else {
        return Vec::new();
    };
    let (lo, hi) = (*bins.start(), (*bins.end()).min(last));
    if lo > hi || max == 0 {
        return Vec::new();
    }
    // A local maximum: above its left neighbour and not below its right one, so a flat
    // top counts once, at its first bin. At the edges of the band, above the one
    // neighbour there is.
    let mut cand: Vec<usize> = (lo..=hi)
        .filter(|&i| {
            let v = trace[i];
            match (
                (i > 0).then(|| trace[i - 1]),
                (i < last).then(|| trace[i + 1]),
            ) {
                (Some(l), Some(r)) => v > l && v >= r,
                (Some(l), None) => v > l,
                (None, Some(r)) => v > r,
                (None, None) => true,
            }
        })
        .collect();
    cand.sort_by(|&a, &b| trace[b].total_cmp(&trace[a]).then(a.cmp(&b)));
    let mut out: Vec<Peak> = Vec::with_capacity(max);
    for i in cand {
        if out.iter().any(|p| p.bin.abs_diff(i) < min_sep.max(1)) {
            continue;
        }
        out.push(Peak {
            bin: i,
            level_db: trace[i],
            snr_db: trace[i] - floor.get(i).copied().unwrap_or(f32::NAN),
        });
        if out.len() == max {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_are_local_maxima_strongest_first_and_apart() {
        let mut t = vec![-80.0f32; 64];
        let floor = vec![-82.0f32; 64];
        // A wide signal with a ripple, a narrow carrier, a weak bump.
        for (i, v) in [
            (10, -40.0),
            (11, -38.0),
            (12, -41.0),
            (13, -39.0),
            (14, -45.0),
        ] {
            t[i] = v;
        }
        t[40] = -30.0;
        t[55] = -70.0;
        let p = peaks(&t, &floor, 0..=63, 5, 4);
        let bins: Vec<usize> = p.iter().map(|p| p.bin).collect();
        assert_eq!(
            bins,
            [40, 11, 55],
            "the ripple at 13 is within 4 bins of 11"
        );
        assert_eq!(p[0].level_db, -30.0);
        assert_eq!(p[0].snr_db, 52.0);
        // Only within the range asked, and no more than `max`.
        assert_eq!(peaks(&t, &floor, 30..=63, 1, 4)[0].bin, 40);
        assert_eq!(peaks(&t, &floor, 0..=20, 5, 4)[0].bin, 11);
        assert!(peaks(&[], &[], 0..=10, 5, 4).is_empty());
        // A flat spectrum has no peak; a slope has one, at its top edge.
        assert!(peaks(&[-80.0; 8], &[-80.0; 8], 0..=7, 5, 1).is_empty());
        let slope = [-8.0, -7.0, -6.0, -5.0];
        assert_eq!(peaks(&slope, &[-9.0; 4], 0..=3, 5, 1)[0].bin, 3);
    }

    #[test]
    fn strongest_bin_in_range() {
        let t = [-5.0, -1.0, -3.0, 0.0];
        assert_eq!(strongest(&t, 0..=2), Some(1));
        assert_eq!(strongest(&t, 0..=9), Some(3));
        assert_eq!(strongest(&[], 0..=9), None);
    }
}
