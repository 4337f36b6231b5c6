//! The peak table (`t`, in place of the alert desk): the strongest peaks of the latest
//! spectrum within the span on screen, strongest first, with level, SNR over the noise
//! floor, band and, for a known emitter, its label.
//!
//! ```text
//!  PEAKS  strongest in view                        x marker · t back to the alerts
//!  #  FREQ MHz     dBFS    SNR  BAND             KNOWN
//!  1  433.9200    -30.0   50.0  LPD433           gate remote
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, Widget};

use super::decimals_for;
use crate::tui::app::App;
use crate::tui::measure;
use crate::tui::theme::Theme;

/// Column widths: rank, frequency, level, SNR, band, known.
const WIDTHS: [u16; 6] = [2, 12, 7, 6, 16, 20];

/// Decimals that tell neighbouring bins apart, in MHz (at least four, as on the desk).
pub fn mhz_decimals(bin_hz: f64) -> usize {
    decimals_for(bin_hz / 1e6).clamp(4, 6)
}

/// Draws the peak table into `area`.
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height < 2 {
        return;
    }
    let title = Line::from(vec![
        Span::styled(" PEAKS ", theme.title().add_modifier(Modifier::REVERSED)),
        Span::styled(" strongest in view │ t: back to the alerts", theme.axis()),
    ]);
    let row = Rect { height: 1, ..area };
    buf.set_style(row, Style::new().add_modifier(Modifier::UNDERLINED));
    title.render(row, buf);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    if app.trace.is_empty() {
        Line::styled("  waiting for the first spectrum…", theme.axis()).render(body, buf);
        return;
    }
    // Peaks closer than a screen column are one peak on screen, and one in the table.
    let per_col = app.view.span_hz() / f64::from(app.plot_cols.max(1)) / app.grid.bin_hz();
    let min_sep = (per_col.ceil() as usize).max(3);
    let n = usize::from(body.height.saturating_sub(1));
    let peaks = measure::peaks(&app.trace, &app.floor, app.view_bins(), n, min_sep);
    let dec = mhz_decimals(app.grid.bin_hz());
    let header = Row::new(["#", "FREQ MHz", "dBFS", "SNR", "BAND", "KNOWN"].map(Cell::from))
        .style(theme.axis().add_modifier(Modifier::BOLD));
    let rows = peaks.iter().enumerate().map(|(i, p)| {
        let f = app.grid.freq_of(p.bin as f64);
        let band = app
            .bands
            .iter()
            .filter(|b| b.contains(f))
            .reduce(|best, b| {
                if b.width_hz() < best.width_hz() {
                    b
                } else {
                    best
                }
            })
            .map_or("-".to_string(), |b| crate::units::one_line(&b.name));
        let known = app
            .known_at(f, app.grid.bin_hz())
            .and_then(|k| k.label.as_deref().or(k.note.as_deref()))
            .map_or(String::new(), crate::units::one_line);
        // Above the detector's fast threshold: it would be flagged in this frame.
        let over = p.snr_db > app.threshold_over_floor_db;
        let style = if over {
            theme.trace().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        Row::new([
            format!("{}", i + 1),
            format!("{:.dec$}", f / 1e6),
            format!("{:.1}", p.level_db),
            format!("{:.1}", p.snr_db),
            band,
            known,
        ])
        .style(style)
    });
    Table::new(rows, WIDTHS.map(Constraint::Length))
        .header(header)
        .column_spacing(1)
        .render(body, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::Severity;
    use crate::tui::app::tests::{frame, grid, info};
    use crate::tui::widgets::bands::tests::band;
    use crate::types::KnownEntry;

    #[test]
    fn the_table_lists_the_strongest_peaks_with_band_and_known_label() {
        let known = KnownEntry {
            freq_hz: grid().freq_of(700.0),
            bandwidth_hz: 10e3,
            label: Some("gate remote".into()),
            note: None,
            power_dbfs: None,
            always_on: false,
        };
        let bands = vec![band("LPD433", 433.05e6, 434.79e6, Severity::Warning)];
        let mut app = App::new(info(), grid(), None).with_prior(bands, vec![known]);
        let mut f = frame(24_000, 700);
        f.power_db[100] = -60.0;
        f.power_db[900] = -75.0;
        app.on_frame(f);
        let area = Rect::new(0, 0, 80, 6);
        let mut buf = Buffer::empty(area);
        render(&app, &Theme::new(true), area, &mut buf);
        let lines: Vec<String> = (0..area.height)
            .map(|y| (0..area.width).map(|x| buf[(x, y)].symbol()).collect())
            .collect();
        assert!(lines[0].contains("PEAKS"), "{lines:?}");
        assert!(lines[1].starts_with("#  FREQ MHz"), "{lines:?}");
        // Strongest first: the carrier at bin 700 (-30 dB, 50 dB over the floor), then
        // bin 100, then bin 900.
        let f700 = format!("{:.4}", grid().freq_of(700.0) / 1e6);
        assert!(
            lines[2].starts_with("1  ") && lines[2].contains(&f700),
            "{lines:?}"
        );
        assert!(lines[2].contains("-30.0") && lines[2].contains("50.0"));
        assert!(lines[2].contains("LPD433") && lines[2].contains("gate remote"));
        assert!(lines[3].contains("-60.0") && lines[3].contains("20.0"));
        assert!(lines[4].contains("-75.0"), "{lines:?}");
        // Over the threshold (12 dB): bold green; bin 900 (5 dB over) plain.
        assert!(buf[(3, 2)].modifier.contains(Modifier::BOLD));
        assert!(!buf[(3, 4)].modifier.contains(Modifier::BOLD));
        // Bin 100 is below LPD433.
        assert!(
            grid().freq_of(100.0) < 433.05e6 && lines[3].contains(" - "),
            "{lines:?}"
        );
    }
}
