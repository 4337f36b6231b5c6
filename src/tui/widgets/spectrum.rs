//! The spectrum pane: the live trace as bars (eight levels per cell), the max-hold trace,
//! the noise floor and the detection threshold, a dBFS axis on the left and a MHz axis
//! underneath.
//!
//! ```text
//!    -20┤      ·
//!    -40┤     ▆█▂         ╌╌ threshold
//!    -60┤╌╌╌╌▁███▁╌╌╌╌╌╌╌╌╌
//!    -80┤────────────────── floor
//!    MHz ╵433.0     ╵433.5
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{column_bins, column_max, column_of, decimals_for, nice_step, GUTTER};
use crate::tui::app::{App, View};
use crate::tui::theme::Theme;

const BARS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

/// Draws the spectrum pane into `area`.
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height < 3 || area.width < GUTTER + 8 {
        return;
    }
    let plot = Rect {
        x: area.x + GUTTER,
        y: area.y,
        width: area.width - GUTTER,
        height: area.height - 1,
    };
    let axis = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..plot
    };
    let span = (app.db_hi - app.db_lo).max(1.0);
    let rows = plot.height;
    // Row (from the top of the plot) where a level sits, if it is on screen.
    let row_of = |db: f32| -> Option<u16> {
        (db.is_finite() && db >= app.db_lo && db <= app.db_hi).then(|| {
            let r = ((app.db_hi - db) / span * f32::from(rows)).floor() as u16;
            r.min(rows - 1)
        })
    };
    db_axis(app, theme, area, row_of, buf);
    freq_axis(&app.view, theme, axis, buf);
    buf.set_string(area.x, axis.y, " MHz", theme.axis());

    if app.trace.is_empty() {
        let msg = "waiting for the first spectrum…";
        let x = plot.x + plot.width.saturating_sub(msg.chars().count() as u16) / 2;
        buf.set_string(x, plot.y + rows / 2, msg, theme.axis());
        return;
    }
    let cols = column_bins(&app.view, &app.grid, plot.width);
    let full = f32::from(rows) * 8.0;
    for (i, &bins) in cols.iter().enumerate() {
        let x = plot.x + i as u16;
        if let Some(t) = column_max(&app.trace, bins) {
            let eighths = ((t - app.db_lo) / span * full).clamp(0.0, full) as u32;
            for r in 0..rows {
                let fill = eighths.saturating_sub(u32::from(r) * 8).min(8) as usize;
                if fill > 0 {
                    buf[(x, plot.y + rows - 1 - r)]
                        .set_symbol(BARS[fill])
                        .set_style(theme.trace());
                }
            }
        }
        // Lines go over empty cells and over the trace's partial top cell (the trace is
        // near the line there anyway), never over a full bar; the first drawn wins.
        let floor = column_max(&app.floor, bins);
        let hold = if app.show_max_hold {
            column_max(&app.max_hold, bins)
        } else {
            None
        };
        let lines = [
            (hold, "·", theme.max_hold()),
            (
                floor.map(|f| f + app.threshold_over_floor_db),
                "╌",
                theme.threshold(),
            ),
            (floor, "─", theme.floor()),
        ];
        let mut drawn = [None; 3];
        for (k, (level, sym, style)) in lines.into_iter().enumerate() {
            if let Some(y) = level.and_then(row_of) {
                let cell = &mut buf[(x, plot.y + y)];
                if cell.symbol() != BARS[8] && !drawn.contains(&Some(y)) {
                    drawn[k] = Some(y);
                    cell.set_symbol(sym).set_style(style);
                }
            }
        }
    }
}

/// dB labels and ticks in the gutter, at a nice step (at most one per row).
fn db_axis(
    app: &App,
    theme: &Theme,
    area: Rect,
    row_of: impl Fn(f32) -> Option<u16>,
    buf: &mut Buffer,
) {
    let rows = area.height - 1;
    for y in 0..rows {
        buf.set_string(area.x + GUTTER - 1, area.y + y, "│", theme.axis());
    }
    let step = nice_step(f64::from(app.db_hi - app.db_lo), usize::from(rows).max(1));
    let dec = decimals_for(step);
    let mut v = (f64::from(app.db_lo) / step).ceil() * step;
    while v <= f64::from(app.db_hi) {
        // The top row carries the unit.
        if let Some(y) = row_of(v as f32).filter(|&y| y > 0) {
            let label = format!("{:>w$.dec$}┤", v, w = usize::from(GUTTER - 1));
            buf.set_string(area.x, area.y + y, label, theme.axis());
        }
        v += step;
    }
    buf.set_string(area.x, area.y, " dBFS", theme.axis());
}

/// MHz labels under the plot, each led by a small tick at its exact column.
pub fn freq_axis(view: &View, theme: &Theme, axis: Rect, buf: &mut Buffer) {
    let span_mhz = view.span_hz() / 1e6;
    let lo_mhz = view.lo_hz / 1e6;
    // Labels like "433.925" plus the tick and a gap: about 10 columns each.
    let step = nice_step(span_mhz, usize::from(axis.width / 10).max(1));
    let dec = decimals_for(step).max(1);
    let mut next_free = axis.x;
    let mut v = (lo_mhz / step).ceil() * step;
    while v <= lo_mhz + span_mhz {
        if let Some(c) = column_of(view, axis.width, v * 1e6) {
            let x = axis.x + c;
            let label = format!("╵{v:.dec$}");
            let w = label.chars().count() as u16;
            if x >= next_free && x + w <= axis.right() {
                buf.set_string(x, axis.y, &label, theme.axis());
                next_free = x + w + 1;
            }
        }
        v += step;
    }
}
