//! The alert desk: a title line with counts per severity, then one row per alert, newest
//! first, in its severity colour; the selected row is reversed; cleared alerts are dimmed.
//! STATE is `new`, `ack`, `known` (acknowledged by marking the emitter known) or `cleared`.
//! Alerts a suppression hides are left out (the title counts them).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, StatefulWidget, Table, TableState, Widget};

use super::clock;
use crate::alert::{AlertKind, Severity};
use crate::tui::app::{App, DeskState};
use crate::tui::theme::Theme;

/// Column widths: severity, time, kind, band, frequency, bandwidth, power, SNR, state.
const WIDTHS: [u16; 9] = [4, 7, 12, 8, 10, 7, 6, 5, 7];

/// Draws the alert desk into `area`.
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height < 2 {
        return;
    }
    title(app, theme, area, buf);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    if app.desk_rows().next().is_none() {
        let msg = if app.alerts.is_empty() {
            "  no alerts".to_string()
        } else {
            format!(
                "  no alerts on the desk: {} hidden by suppressions (u lists them)",
                app.alerts.len()
            )
        };
        Line::styled(msg, theme.axis()).render(body, buf);
        return;
    }
    let header = Row::new(
        [
            "SEV", "TIME", "KIND", "BAND", "FREQ MHz", "BW", "dBFS", "SNR", "STATE",
        ]
        .map(Cell::from),
    )
    .style(theme.axis().add_modifier(Modifier::BOLD));
    let rows = app.desk_rows().map(|e| {
        let a = &e.alert;
        let (sev, state) = (
            match a.severity {
                Severity::Critical => "CRIT",
                Severity::Warning => "WARN",
                Severity::Info => "INFO",
            },
            match e.state() {
                DeskState::New => "new",
                // Marked known on this desk (or the emitter is known by now).
                DeskState::Acknowledged
                    if a.kind == AlertKind::NewEmitter
                        && app.known_at(a.freq_hz, a.bandwidth_hz).is_some() =>
                {
                    "known"
                }
                DeskState::Acknowledged => "ack",
                DeskState::Cleared => "cleared",
            },
        );
        let mut style = Style::new().fg(theme.severity(a.severity));
        style = match e.state() {
            DeskState::New => style.add_modifier(Modifier::BOLD),
            DeskState::Acknowledged => style,
            DeskState::Cleared => style.add_modifier(Modifier::DIM),
        };
        Row::new([
            sev.to_string(),
            clock(a.first_seen_s),
            a.kind.as_str().to_string(),
            a.band.as_deref().unwrap_or("-").to_string(),
            if a.freq_hz > 0.0 {
                format!("{:.4}", a.freq_hz / 1e6)
            } else {
                "-".into()
            },
            if a.bandwidth_hz > 0.0 {
                format_bw(a.bandwidth_hz)
            } else {
                "-".into()
            },
            format!("{:.1}", a.power_dbfs),
            format!("{:.1}", a.snr_db),
            state.to_string(),
        ])
        .style(style)
    });
    let table = Table::new(rows, WIDTHS.map(Constraint::Length))
        .header(header)
        .column_spacing(1)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("▶");
    let mut state = TableState::default().with_selected(Some(app.selected));
    StatefulWidget::render(table, body, buf, &mut state);
}

fn title(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    // Full, then without the total (the rows show it), then with short severity names:
    // the first that fits, so the suppressed and evidence counts show at 80 columns.
    let line = (0..3)
        .map(|compact| title_line(app, theme, compact))
        .find(|l| l.width() <= usize::from(area.width))
        .unwrap_or_else(|| title_line(app, theme, 2));
    let row = Rect { height: 1, ..area };
    buf.set_style(row, Style::new().add_modifier(Modifier::UNDERLINED));
    line.render(row, buf);
}

fn title_line(app: &App, theme: &Theme, compact: u8) -> Line<'static> {
    let (crit, warn, info) = app.active_counts();
    let count = |n: usize, what: &'static str, short: &'static str, s: Severity| {
        let what = if compact >= 2 { short } else { what };
        Span::styled(format!(" {n} {what} "), Style::new().fg(theme.severity(s)))
    };
    let unacked = app
        .desk_rows()
        .filter(|e| e.state() == DeskState::New)
        .count();
    // Evidence clips the alerts name (`--evidence`): several alerts can share one.
    let mut clips: Vec<&str> = app
        .alerts
        .iter()
        .filter_map(|e| e.alert.evidence.as_deref())
        .collect();
    clips.sort_unstable();
    clips.dedup();
    let tally = if compact >= 1 {
        format!(" │ {unacked} new")
    } else {
        format!(" │ {unacked} new, {} total", app.alerts.len())
    };
    let mut spans = vec![
        Span::styled(" ALERTS ", theme.title().add_modifier(Modifier::REVERSED)),
        count(crit, "critical", "crit", Severity::Critical),
        count(warn, "warning", "warn", Severity::Warning),
        count(info, "info", "info", Severity::Info),
        Span::styled(tally, theme.axis()),
    ];
    if !app.suppressions.is_empty() {
        // The list (`u`) says how many alerts each one hides; the title has little room.
        spans.push(Span::styled(
            format!(" │ {} suppressed", app.suppressions.len()),
            Style::new().fg(Color::Magenta),
        ));
    }
    if !clips.is_empty() {
        spans.push(Span::styled(
            format!(
                " │ ● {} evidence clip{}",
                clips.len(),
                if clips.len() == 1 { "" } else { "s" }
            ),
            Style::new().fg(Color::LightRed),
        ));
    }
    Line::from(spans)
}

/// Bandwidth with a unit: `12.5k`, `1.20M`, `850`.
fn format_bw(hz: f64) -> String {
    if hz >= 1e6 {
        format!("{:.2}M", hz / 1e6)
    } else if hz >= 1e3 {
        format!("{:.1}k", hz / 1e3)
    } else {
        format!("{hz:.0}")
    }
}
