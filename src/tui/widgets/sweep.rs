//! A sweep's panes: the bands table beside the alert desk (each band's revisit time and
//! probability of intercept, the band being measured now marked), and the mark over the
//! spectrum of the step being measured.
//!
//! ```text
//!  SWEEP 430–440 MHz, 7 steps      POI 0.5ms/150ms
//!  BAND          PRI   REVISIT  /VISIT  90% BY
//!  ▶ LPD433      warn  0.20 s    13%    4.2 s
//!    UHF land m… info  0.40 s     7%    13 s
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{column_of, GUTTER};
use crate::alert::Severity;
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// `0.2 s`, `35 ms`, `13 s`.
fn secs(s: f64) -> String {
    if !s.is_finite() {
        "-".into()
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}

/// Draws the bands table into `area`.
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(sw) = app.sweep.as_ref() else {
        return;
    };
    if area.height < 2 || area.width < 20 {
        return;
    }
    // A border on the left, between the desk and this table.
    for y in area.y..area.bottom() {
        buf[(area.x, y)].set_symbol("│").set_style(theme.axis());
    }
    let inner = Rect {
        x: area.x + 2,
        width: area.width - 2,
        ..area
    };
    let line = |y: u16, l: Line<'_>, buf: &mut Buffer| {
        if y < inner.bottom() {
            l.render(
                Rect {
                    y,
                    height: 1,
                    ..inner
                },
                buf,
            );
        }
    };
    line(
        inner.y,
        Line::from(vec![
            Span::styled(" SWEEP ", theme.title().add_modifier(Modifier::REVERSED)),
            Span::styled(format!(" {}", sw.info.summary), theme.title()),
        ]),
        buf,
    );
    line(
        inner.y + 1,
        Line::styled(
            format!(
                "{:<14} {:<4} {:>7} {:>6} {:>7}",
                "BAND", "PRI", "REVISIT", "/VISIT", "90% BY"
            ),
            theme.axis().add_modifier(Modifier::BOLD),
        ),
        buf,
    );
    let here = sw.measuring.map(|(lo, hi)| (lo + hi) / 2.0);
    let rows = usize::from(inner.height.saturating_sub(2));
    // Keep the band being measured on screen when there are more bands than rows.
    // The narrowest band holding the middle of the step, as the band plan decides.
    let now = here.and_then(|f| {
        (0..sw.info.bands.len())
            .filter(|&i| sw.info.bands[i].lo_hz <= f && f <= sw.info.bands[i].hi_hz)
            .min_by(|&a, &b| {
                let w = |i: usize| sw.info.bands[i].hi_hz - sw.info.bands[i].lo_hz;
                w(a).total_cmp(&w(b))
            })
    });
    let first = match now {
        Some(i) if i >= rows => i + 1 - rows,
        _ => 0,
    };
    for (k, b) in sw.info.bands.iter().enumerate().skip(first).take(rows) {
        let measuring = now == Some(k);
        let name: String = if b.name.chars().count() > 12 {
            b.name.chars().take(11).chain(['…']).collect()
        } else {
            b.name.clone()
        };
        let pri = match b.priority {
            Severity::Critical => "crit",
            Severity::Warning => "warn",
            Severity::Info => "info",
        };
        let style = Style::new().fg(theme.severity(b.priority));
        let mark = if measuring { "▶ " } else { "  " };
        line(
            inner.y + 2 + (k - first) as u16,
            Line::from(vec![
                Span::styled(
                    mark,
                    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD),
                ),
                Span::styled(format!("{name:<12} {pri:<4} "), style),
                Span::raw(format!(
                    "{:>7} {:>5.0}% {:>7}",
                    secs(b.revisit_s),
                    b.per_visit * 100.0,
                    b.t90_s.map_or("never".into(), secs)
                )),
            ]),
            buf,
        );
    }
}

/// Marks, along the top row of the spectrum pane, the columns of the step being measured.
pub fn mark_step(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some((lo, hi)) = app.sweep.as_ref().and_then(|s| s.measuring) else {
        return;
    };
    if area.height < 3 || area.width < GUTTER + 8 {
        return;
    }
    let cols = area.width - GUTTER;
    let first = column_of(&app.view, cols, lo.max(app.view.lo_hz));
    let last = column_of(&app.view, cols, hi.min(app.view.hi_hz - 1e-3));
    let (Some(a), Some(b)) = (first, last) else {
        return;
    };
    let style = theme.title().fg(Color::Cyan);
    for c in a..=b {
        buf[(area.x + GUTTER + c, area.y)]
            .set_symbol("▔")
            .set_style(style);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::FreqGrid;
    use crate::tui::app::tests::{frame, info};
    use crate::tui::app::{Action, SweepBand, SweepInfo};
    use crate::tui::{draw, theme::Theme};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    /// A 10 MHz panorama of 4267 bins with two bands.
    fn sweep_app() -> App {
        let grid = FreqGrid {
            bins: 4267,
            sample_rate_hz: 4267.0 * 2343.75,
            center_freq_hz: 435e6,
        };
        let band = |name: &str, lo: f64, hi: f64, priority| SweepBand {
            name: name.into(),
            lo_hz: lo,
            hi_hz: hi,
            priority,
            revisit_s: 0.4,
            per_visit: 0.13,
            t90_s: Some(4.2),
        };
        App::new(info(), grid, None).with_sweep(SweepInfo {
            panorama: grid,
            summary: "sweep 430 MHz–440 MHz, 7 steps".into(),
            bands: vec![
                band("UHF land mobile", 430e6, 440e6, Severity::Info),
                band("LPD433", 433.05e6, 434.79e6, Severity::Warning),
            ],
        })
    }

    fn text(app: &App, w: u16, h: u16) -> Vec<String> {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(f, app, &Theme::new(true))).unwrap();
        let buf = t.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
            .collect()
    }

    #[test]
    fn the_bands_table_marks_the_band_being_measured_and_the_step_over_the_spectrum() {
        let mut app = sweep_app();
        let mut f = frame(24_000, 100);
        f.power_db = vec![-80.0; 4267];
        f.floor_db = vec![-80.0; 4267];
        f.step = Some((433.5e6, 434.5e6));
        app.on_frame(f);
        // Dwells are 40% of the stream: 1 MS/s analysed of 2.4 MS/s swept in real time.
        app.on_stats(
            crate::tui::app::Stats {
                msps: 0.96,
                stream_msps: 2.4,
                ..Default::default()
            },
            None,
        );
        let lines = text(&app, 120, 30);
        let all = lines.join("\n");
        assert!(all.contains("1.0 MS/s (100% RT)"), "{all}");
        assert!(
            all.contains("SWEEP") && all.contains("430 MHz–440 MHz"),
            "{all}"
        );
        let lpd = lines.iter().find(|l| l.contains("LPD433")).unwrap();
        assert!(
            lpd.contains("▶ LPD433") && lpd.contains("13%") && lpd.contains("4.2 s"),
            "{lpd}"
        );
        let uhf = lines.iter().find(|l| l.contains("UHF land")).unwrap();
        assert!(!uhf.contains('▶'), "{uhf}");
        // The mark sits over 433.5–434.5 MHz: a tenth of the 10 MHz span, on the spectrum's
        // top row.
        let top = &lines[2];
        let marks = top.chars().filter(|&c| c == '▔').count();
        let cols = 120 - GUTTER as usize;
        assert!(
            (marks as f64 - cols as f64 / 10.0).abs() <= 2.0,
            "{marks} in {top}"
        );
    }

    #[test]
    fn unmeasured_panorama_bins_are_blank_in_the_waterfall() {
        let mut app = sweep_app();
        for k in 0..crate::tui::app::FRAMES_PER_ROW {
            let mut f = frame(24_000 * u64::from(k + 1), 100);
            // The lower half of the span not swept (between two swept ranges).
            f.power_db = (0..4267)
                .map(|i| if i < 2133 { f32::NAN } else { -40.0 })
                .collect();
            f.floor_db = f.power_db.iter().map(|p| p - 40.0).collect();
            app.on_frame(f);
        }
        let area = Rect::new(0, 0, 80, 6);
        let mut buf = Buffer::empty(area);
        crate::tui::widgets::waterfall::render(&app, &Theme::new(true), area, &mut buf);
        let left = &buf[(GUTTER + 5, 0)];
        let right = &buf[(79, 0)];
        assert_eq!(left.fg, Color::Reset, "unmeasured: blank");
        assert_ne!(right.fg, Color::Reset, "measured: coloured");
    }

    #[test]
    fn band_keys_zoom_to_each_band_in_turn() {
        let mut app = sweep_app();
        app.update(Action::NextBand);
        let v = app.view;
        assert!(v.lo_hz <= 430e6 + 1.0 && v.hi_hz >= 440e6 - 1.0);
        app.update(Action::NextBand);
        let v = app.view;
        assert!(
            v.lo_hz < 433.05e6 && v.hi_hz > 434.79e6 && v.span_hz() < 2e6,
            "{v:?}"
        );
        app.update(Action::NextBand);
        assert_eq!(app.sweep.as_ref().and_then(|s| s.band), Some(0), "wraps");
        app.update(Action::PrevBand);
        assert_eq!(app.sweep.as_ref().and_then(|s| s.band), Some(1));
        // Without a sweep the keys do nothing.
        let mut fixed = App::new(info(), crate::tui::app::tests::grid(), None);
        let before = fixed.view;
        fixed.update(Action::NextBand);
        assert_eq!(fixed.view, before);
    }
}
