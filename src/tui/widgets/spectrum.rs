//! The spectrum pane: the live trace as bars (eight levels per cell), the max-hold and
//! min-hold traces, the noise floor and the detection threshold, a dBFS axis on the left
//! and a MHz axis underneath. Known emitters are `▼` marks with their labels along the
//! top; the markers are `1` and `2` over the trace, read out at the top right.
//!
//! ```text
//!   dBFS│ ▼gate remote              M1 433.92000 MHz -30.0 dB  Δ -125.00 kHz -42.1 dB
//!    -20┤      ·1
//!    -40┤     ▆█▂         ╌╌ threshold        2
//!    -60┤╌╌╌╌▁███▁╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌╌▁█▁╌╌
//!    -80┤──────────────────────── floor ∙∙∙ min-hold
//!    MHz ╵433.0     ╵433.5
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{column_bins, column_max, column_of, decimals_for, nice_step, GUTTER};
use crate::tui::app::{App, View};
use crate::tui::theme::Theme;
use crate::units::one_line;

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
        // Min-hold lies inside the bars (it is never above the trace), so unlike the
        // lines above it is drawn over them, as a dotted line through the bars.
        if app.show_min_hold {
            let level = column_max(&app.min_hold, bins);
            if let Some(y) = level
                .and_then(row_of)
                .filter(|y| !drawn.contains(&Some(*y)))
            {
                buf[(x, plot.y + y)]
                    .set_symbol("∙")
                    .set_style(theme.min_hold());
            }
        }
    }
    known_marks(app, theme, plot, buf);
    markers(app, theme, plot, &row_of, buf);
}

/// `▼` and a label along the top row for each known emitter in view; a label that would
/// run into the next mark is cut short.
fn known_marks(app: &App, theme: &Theme, plot: Rect, buf: &mut Buffer) {
    let mut marks: Vec<(u16, String)> = app
        .known
        .iter()
        .filter_map(|k| {
            let c = column_of(&app.view, plot.width, k.freq_hz)?;
            let label = k.label.as_deref().or(k.note.as_deref()).unwrap_or("");
            Some((c, one_line(label)))
        })
        .collect();
    marks.sort_by_key(|m| m.0);
    for (i, (c, label)) in marks.iter().enumerate() {
        let x = plot.x + c;
        buf[(x, plot.y)].set_symbol("▼").set_style(theme.known());
        let next = marks.get(i + 1).map_or(plot.right(), |m| plot.x + m.0);
        let room = usize::from(next.saturating_sub(x + 2));
        if room >= 3 && !label.is_empty() {
            let text: String = if label.chars().count() <= room {
                label.clone()
            } else {
                label.chars().take(room - 1).chain(['…']).collect()
            };
            buf.set_string(x + 1, plot.y, text, theme.known());
        }
    }
}

/// The markers over the trace, and their read-out at the top right: marker 1's frequency
/// and level, the delta marker's difference from it.
fn markers(
    app: &App,
    theme: &Theme,
    plot: Rect,
    row_of: &impl Fn(f32) -> Option<u16>,
    buf: &mut Buffer,
) {
    if !app.markers.any() || app.trace.is_empty() {
        return;
    }
    let read = |i: usize| {
        app.markers.bins[i].and_then(|b| {
            let level = *app.trace.get(b)?;
            Some((b, app.grid.freq_of(b as f64), level))
        })
    };
    // Each digit replaces the top cell of the trace in its column (the cell that shows
    // the level it reads), or the top or bottom row when the level is off the scale.
    let mut spots: Vec<(usize, u16, u16)> = Vec::with_capacity(2);
    for i in 0..2 {
        let Some((_, f, level)) = read(i) else {
            continue;
        };
        let Some(c) = column_of(&app.view, plot.width, f) else {
            continue;
        };
        let y = row_of(level).unwrap_or(if level > app.db_hi {
            0
        } else {
            plot.height - 1
        });
        spots.push((i, plot.x + c, plot.y + y));
    }
    let dec = super::peaks::mhz_decimals(app.grid.bin_hz()) + 1;
    let mut text = String::new();
    if let Some((_, f, level)) = read(0) {
        text.push_str(&format!(" M1 {:.dec$} MHz {level:.1} dBFS ", f / 1e6));
    }
    if let Some((_, f2, l2)) = read(1) {
        match read(0) {
            Some((_, f1, l1)) => {
                let df = f2 - f1;
                let d = if df.abs() >= 1e6 {
                    format!("{:+.4} MHz", df / 1e6)
                } else {
                    format!("{:+.2} kHz", df / 1e3)
                };
                text.push_str(&format!(" Δ {d} {:+.1} dB ", l2 - l1));
            }
            None => text.push_str(&format!(" M2 {:.dec$} MHz {l2:.1} dBFS ", f2 / 1e6)),
        }
    }
    // Top right, unless that would cover a marker on the top row: then top left.
    let w = text.chars().count() as u16;
    let right = plot.right().saturating_sub(w).max(plot.x);
    let covers = |x0: u16| {
        spots
            .iter()
            .any(|&(_, x, y)| y == plot.y && (x0..x0 + w).contains(&x))
    };
    let x = if covers(right) && !covers(plot.x) {
        plot.x
    } else {
        right
    };
    buf.set_string(x, plot.y, text, theme.marker());
    for (i, x, y) in spots {
        let mut style = theme.marker();
        if i != app.markers.active {
            style = style.remove_modifier(ratatui::style::Modifier::BOLD);
        }
        buf[(x, y)].set_symbol(["1", "2"][i]).set_style(style);
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
