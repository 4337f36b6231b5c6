//! The occupancy pane (`o`, in place of the waterfall): per column, the share of time the
//! spectrum was above the detection threshold over the last five minutes of stream, as a
//! bar from 0 to 100% in the heat map's colour (a busy channel is red at a glance). The
//! columns are the spectrum's; a column covering several bins shows the busiest.
//!
//! ```text
//!  occ %│ above threshold, last 2:13 of 5:00
//!   100┤          █
//!    50┤    ▄     █         ▂
//!     0┤▁▁▁▁█▁▁▁▁▁█▁▁▁▁▁▁▁▁▁█▁▁▁
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::{column_bins, column_max, GUTTER};
use crate::tui::app::App;
use crate::tui::occupancy::WINDOW_S;
use crate::tui::suppress::format_left;
use crate::tui::theme::Theme;

const BARS: [&str; 9] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"];

/// Draws the occupancy pane into `area`.
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height < 3 || area.width < GUTTER + 8 {
        return;
    }
    let plot = Rect {
        x: area.x + GUTTER,
        y: area.y + 1,
        width: area.width - GUTTER,
        height: area.height - 1,
    };
    buf.set_string(area.x, area.y, " occ %│", theme.axis());
    let covered = chrono::TimeDelta::milliseconds((app.occupancy.covered_s() * 1e3) as i64);
    let window = chrono::TimeDelta::seconds(WINDOW_S as i64);
    buf.set_string(
        plot.x,
        area.y,
        format!(
            " above the detection threshold, last {} of {}",
            format_left(covered),
            format_left(window)
        ),
        theme.axis(),
    );
    let rows = plot.height;
    for y in 0..rows {
        buf.set_string(area.x + GUTTER - 1, plot.y + y, "│", theme.axis());
    }
    let mark = |share: u16, y: u16, buf: &mut Buffer| {
        buf.set_string(area.x, y, format!("{share:>6}┤"), theme.axis());
    };
    mark(100, plot.y, buf);
    mark(0, plot.bottom() - 1, buf);
    if rows >= 5 {
        mark(50, plot.y + rows / 2, buf);
    }
    let shares = app.occupancy.shares();
    if shares.is_empty() {
        return;
    }
    let cols = column_bins(&app.view, &app.grid, plot.width);
    let full = f32::from(rows) * 8.0;
    for (i, &bins) in cols.iter().enumerate() {
        let Some(share) = column_max(&shares, bins) else {
            continue;
        };
        let x = plot.x + i as u16;
        // At least a sliver where the channel was ever busy, so a rare burst shows.
        let eighths = ((share * full).round() as u32).max(u32::from(share > 0.0));
        let style = Style::new().fg(theme.heat(share));
        for r in 0..rows {
            let fill = eighths.saturating_sub(u32::from(r) * 8).min(8) as usize;
            if fill > 0 {
                buf[(x, plot.y + rows - 1 - r)]
                    .set_symbol(BARS[fill])
                    .set_style(style);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::tests::{frame, grid, info};

    #[test]
    fn a_carrier_on_half_the_time_is_a_half_height_bar() {
        let mut app = App::new(info(), grid(), None);
        // 2.4 MS/s, frames of 24 000 samples (10 ms): the carrier at bin 512 every other
        // frame, the one at bin 100 always.
        for i in 1..=40u64 {
            let mut f = frame(i * 24_000, 100);
            if i % 2 == 0 {
                f.power_db[512] = -30.0;
            }
            app.on_frame(f);
        }
        let area = Rect::new(0, 0, 1024 / 8 + GUTTER, 9);
        let mut buf = Buffer::empty(area);
        render(&app, &Theme::new(true), area, &mut buf);
        let col = |bin: u16| GUTTER + bin / 8;
        let text = |x: u16| -> String { (1..9).map(|y| buf[(x, y)].symbol()).collect() };
        // 8 rows of plot: always on is a full column, half the time four rows.
        assert_eq!(text(col(100)), "████████");
        assert_eq!(text(col(512)), "    ████");
        assert_eq!(text(col(300)), "        ");
        assert!(matches!(buf[(col(100), 1)].fg, ratatui::style::Color::Rgb(r, _, b) if r > b));
        let top: String = (0..area.width).map(|x| buf[(x, 0)].symbol()).collect();
        assert!(
            top.starts_with(" occ %│ above the detection threshold, last 0:00"),
            "{top}"
        );
        let labels: String = (0..7).map(|x| buf[(x, 1)].symbol()).collect();
        assert_eq!(labels, "   100┤");
    }
}
