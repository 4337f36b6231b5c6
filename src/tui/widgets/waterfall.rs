//! The waterfall pane: one spectrum per half cell (`▀` with the newer row as foreground
//! and the older as background), newest at the top, coloured by the theme's heat map over
//! the same dB range and columns as the spectrum. Alerts are marked `◆` in their severity
//! colour on the row where they were raised; the gutter shows stream time.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Color;

use super::{clock, column_bins, column_max, column_of, GUTTER};
use crate::tui::app::{App, WaterfallRow};
use crate::tui::theme::Theme;

/// Draws the waterfall pane into `area`.
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 || area.width < GUTTER + 8 {
        return;
    }
    let plot = Rect {
        x: area.x + GUTTER,
        width: area.width - GUTTER,
        ..area
    };
    let cols = column_bins(&app.view, &app.grid, plot.width);
    let span = (app.db_hi - app.db_lo).max(1.0);
    let colour = |row: Option<&WaterfallRow>, bins| -> Color {
        // A sweep's panorama is NaN where nothing was measured: left blank, not cold.
        row.and_then(|r| column_max(&r.power_db, bins))
            .filter(|db| db.is_finite())
            .map_or(Color::Reset, |db| theme.heat((db - app.db_lo) / span))
    };
    for cy in 0..plot.height {
        let y = plot.y + cy;
        buf.set_string(area.x + GUTTER - 1, y, "│", theme.axis());
        let top = app.waterfall.get(2 * usize::from(cy));
        let bottom = app.waterfall.get(2 * usize::from(cy) + 1);
        if top.is_none() {
            continue;
        }
        for (i, &bins) in cols.iter().enumerate() {
            buf[(plot.x + i as u16, y)]
                .set_symbol("▀")
                .set_fg(colour(top, bins))
                .set_bg(colour(bottom, bins));
        }
        for row in [top, bottom].into_iter().flatten() {
            for &(hz, sev) in &row.marks {
                if let Some(c) = column_of(&app.view, plot.width, hz) {
                    buf[(plot.x + c, y)]
                        .set_symbol("◆")
                        .set_fg(theme.severity(sev));
                }
            }
        }
        // A time label every four cells, for the row at the top of the cell.
        if let Some(r) = top.filter(|_| cy % 4 == 0) {
            let t = clock(r.end as f64 / app.info.sample_rate_hz);
            // "mm:ss.s" is 7 wide; the gutter keeps the minutes' last digit and seconds.
            let t = &t[t.len().saturating_sub(usize::from(GUTTER - 1))..];
            buf.set_string(area.x, y, t, theme.axis());
        }
    }
}
