//! One widget per pane, each a `render(app, theme, area, buf)` over a ratatui buffer, plus
//! what the spectrum and the waterfall share so that they stay frequency-aligned: the
//! gutter width and the mapping from screen columns to FFT bins.

pub mod alerts;
pub mod bands;
pub mod help;
pub mod hq_status;
pub mod occupancy;
pub mod peaks;
pub mod posts;
pub mod prompt;
pub mod spectrum;
pub mod status;
pub mod suppressions;
pub mod sweep;
pub mod waterfall;

use super::app::View;
use crate::dsp::FreqGrid;

/// Columns left of the spectrum and the waterfall (dB and time labels); both panes use it
/// so a column is the same frequency in each.
pub const GUTTER: u16 = 7;

/// For each of `cols` screen columns of `view`, the inclusive range of bins it covers.
/// When zoomed in past one bin per column, neighbouring columns share a bin; zoomed out,
/// a column covers several and shows their maximum (so a narrow carrier never vanishes).
pub fn column_bins(view: &View, grid: &FreqGrid, cols: u16) -> Vec<(usize, usize)> {
    let cols = f64::from(cols.max(1));
    let last = grid.bins.saturating_sub(1) as f64;
    let step = view.span_hz() / cols;
    (0..cols as usize)
        .map(|c| {
            let f0 = view.lo_hz + c as f64 * step;
            // Bin b covers [freq_of(b) - bin/2, freq_of(b) + bin/2).
            // The epsilons keep float noise at exact bin edges from making neighbours
            // overlap.
            let b0 = (grid.bin_of(f0) + 0.5 + 1e-6).floor().clamp(0.0, last);
            let b1 = (grid.bin_of(f0 + step) + 0.5 - 1e-6).ceil() - 1.0;
            (b0 as usize, b1.clamp(b0, last) as usize)
        })
        .collect()
}

/// The largest of `values[lo..=hi]`, or `None` when there are no values.
pub fn column_max(values: &[f32], (lo, hi): (usize, usize)) -> Option<f32> {
    values
        .get(lo..=hi.min(values.len().saturating_sub(1)))
        .and_then(|s| s.iter().copied().reduce(f32::max))
}

/// The plot column showing frequency `hz`, if it is in view.
pub fn column_of(view: &View, cols: u16, hz: f64) -> Option<u16> {
    let x = (hz - view.lo_hz) / view.span_hz() * f64::from(cols);
    (x >= 0.0 && x < f64::from(cols)).then_some(x as u16)
}

/// A "nice" tick step (1, 2 or 5 × 10^k) giving at most `max_ticks` ticks over `range`.
pub fn nice_step(range: f64, max_ticks: usize) -> f64 {
    let raw = range / max_ticks.max(1) as f64;
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag)
}

/// Decimals needed to tell ticks `step` apart.
pub fn decimals_for(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        (-step.log10() - 1e-9).ceil() as usize
    }
}

/// Stream time as `mm:ss.s` (or `h:mm:ss` past an hour).
pub fn clock(secs: f64) -> String {
    let secs = secs.max(0.0);
    if secs < 3600.0 {
        let m = (secs / 60.0).floor();
        format!("{:02}:{:04.1}", m as u64, secs - m * 60.0)
    } else {
        let s = secs as u64;
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::full_view;

    fn grid() -> FreqGrid {
        FreqGrid {
            bins: 1024,
            sample_rate_hz: 2.048e6,
            center_freq_hz: 100e6,
        }
    }

    #[test]
    fn columns_cover_every_bin_once_when_zoomed_out() {
        let g = grid();
        let cols = column_bins(&full_view(&g), &g, 64);
        assert_eq!(cols[0], (0, 15));
        assert_eq!(cols[63], (1008, 1023));
        for w in cols.windows(2) {
            assert_eq!(w[0].1 + 1, w[1].0);
        }
    }

    #[test]
    fn column_of_the_centre_frequency_is_the_middle() {
        let g = grid();
        assert_eq!(column_of(&full_view(&g), 100, 100e6), Some(50));
        assert_eq!(column_of(&full_view(&g), 100, 98.9e6), None);
    }

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(2.048, 5), 0.5);
        assert_eq!(nice_step(80.0, 8), 10.0);
        assert_eq!(nice_step(30.0, 3), 10.0);
        assert_eq!(decimals_for(0.5), 1);
        assert_eq!(decimals_for(0.05), 2);
        assert_eq!(decimals_for(0.1), 1);
        assert_eq!(clock(75.25), "01:15.2");
        assert_eq!(clock(3725.0), "1:02:05");
    }
}
