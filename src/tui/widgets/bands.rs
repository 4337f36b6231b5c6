//! The band strip: one row between the spectrum's frequency axis and the waterfall, on
//! the columns both share, showing the band plan's band at each column (the narrowest
//! that contains it, as the detector decides) with its name and extent, coloured by the
//! band's priority. It follows zoom and pan because it maps the same view.
//!
//! ```text
//!   band│├UHF land mobile──┤├LPD433─────────────┤├UHF land mo…┤
//! ```
//!
//! `├` and `┤` mark a band's own edges; a band interrupted by a narrower one inside it
//! carries on with `─` and no edge.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};

use super::GUTTER;
use crate::detect::bandplan::Band;
use crate::tui::app::{App, View};
use crate::tui::theme::Theme;

/// The band at each of `cols` columns of `view` (an index into `bands`), at the column's
/// centre frequency.
pub fn column_bands(bands: &[Band], view: &View, cols: u16) -> Vec<Option<usize>> {
    let step = view.span_hz() / f64::from(cols.max(1));
    (0..cols)
        .map(|c| {
            let f = view.lo_hz + (f64::from(c) + 0.5) * step;
            bands
                .iter()
                .enumerate()
                .filter(|(_, b)| b.contains(f))
                .reduce(|best, b| {
                    if b.1.width_hz() < best.1.width_hz() {
                        b
                    } else {
                        best
                    }
                })
                .map(|(i, _)| i)
        })
        .collect()
}

/// True when any band of the plan overlaps the view (the strip is worth a row).
pub fn any_in_view(app: &App) -> bool {
    app.bands
        .iter()
        .any(|b| b.lo_hz < app.view.hi_hz && b.hi_hz > app.view.lo_hz)
}

/// Draws the band strip into `area` (one row).
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 || area.width <= GUTTER {
        return;
    }
    buf.set_string(area.x, area.y, "  band│", theme.axis());
    let plot_x = area.x + GUTTER;
    let cols = area.width - GUTTER;
    let per_col = column_bands(&app.bands, &app.view, cols);
    let step = app.view.span_hz() / f64::from(cols);
    // Centre frequency of column `c` (which may be just off screen).
    let centre = |c: f64| app.view.lo_hz + (c + 0.5) * step;
    let mut c = 0usize;
    while c < per_col.len() {
        let Some(bi) = per_col[c] else {
            c += 1;
            continue;
        };
        let end = per_col[c..]
            .iter()
            .position(|&b| b != Some(bi))
            .map_or(per_col.len(), |n| c + n);
        let band = &app.bands[bi];
        let style = Style::new().fg(theme.severity(band.priority));
        let (first, last) = (c, end - 1);
        // An edge is the band's own when it lies between this column's centre and its
        // outer neighbour's; a run cut short by a nested band has no edge there.
        let lo_edge = band.lo_hz > centre(first as f64 - 1.0);
        let hi_edge = band.hi_hz < centre(last as f64 + 1.0);
        for x in first..=last {
            let sym = if x == first && lo_edge {
                "├"
            } else if x == last && hi_edge {
                "┤"
            } else {
                "─"
            };
            buf[(plot_x + x as u16, area.y)]
                .set_symbol(sym)
                .set_style(style);
        }
        // The name inside the run, after its first cell, shortened with … if it must be.
        let room = (last - first).saturating_sub(1);
        let name = crate::units::one_line(&band.name);
        if room >= 3 {
            let n = name.chars().count();
            let text: String = if n <= room {
                name
            } else {
                name.chars().take(room - 1).chain(['…']).collect()
            };
            buf.set_string(
                plot_x + first as u16 + 1,
                area.y,
                text,
                style.add_modifier(Modifier::BOLD),
            );
        }
        c = end;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alert::Severity;
    use crate::detect::bandplan::RuleSeverity;
    use crate::tui::app::tests::{grid, info};
    use crate::tui::app::Action;
    use ratatui::style::Color;
    use std::sync::Arc;

    pub(crate) fn band(name: &str, lo: f64, hi: f64, priority: Severity) -> Band {
        Band {
            name: Arc::from(name),
            lo_hz: lo,
            hi_hz: hi,
            priority,
            watch: false,
            rules: Vec::new(),
            severity: RuleSeverity::default(),
            ignore: Vec::new(),
        }
    }

    fn row(buf: &Buffer) -> String {
        (0..buf.area.width).map(|x| buf[(x, 0)].symbol()).collect()
    }

    #[test]
    fn bands_show_name_extent_and_priority_colour_and_follow_zoom() {
        // The grid covers 432.72–435.12 MHz; 43 plot columns of 55.8 kHz.
        let bands = vec![
            band("UHF", 400e6, 470e6, Severity::Info),
            band("LPD433", 433.05e6, 434.79e6, Severity::Warning),
        ];
        let mut app = App::new(info(), grid(), None).with_prior(bands, Vec::new());
        let area = Rect::new(0, 0, 50, 1);
        let mut buf = Buffer::empty(area);
        render(&app, &Theme::new(true), area, &mut buf);
        // LPD433 from column 6 (433.05 MHz) to 36 (434.79 MHz); UHF either side, its own
        // edges off screen.
        assert_eq!(
            row(&buf),
            "  band│─UHF──├LPD433───────────────────────┤─UHF──"
        );
        let lpd = &buf[(GUTTER + 7, 0)];
        assert_eq!(lpd.fg, Color::Yellow);
        assert!(lpd.modifier.contains(Modifier::BOLD));
        assert_eq!(buf[(GUTTER + 1, 0)].fg, Color::Cyan, "info: cyan");

        // Zoomed in on the centre: LPD433 fills the strip, no edge in view.
        app.update(Action::ZoomIn);
        app.update(Action::ZoomIn);
        let mut buf = Buffer::empty(area);
        render(&app, &Theme::new(true), area, &mut buf);
        assert_eq!(
            row(&buf),
            "  band│─LPD433────────────────────────────────────"
        );
        assert!(any_in_view(&app));
        app.bands.truncate(0);
        assert!(!any_in_view(&app));
    }
}
