//! The alert desk: a title line with counts per severity, then one row per alert, newest
//! first, in its severity colour; the selected row is reversed; cleared alerts are dimmed.
//! A post's console and HQ's draw their [`Desk`] with this one widget; HQ's entries carry
//! the post they came from, and the desk then has a POST column.
//! STATE is `new`, `ack`, `known` (acknowledged by marking the emitter known) or `cleared`.
//! Alerts a suppression hides are left out (the title counts the suppressions).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, StatefulWidget, Table, TableState, Widget};

use super::clock;
use crate::alert::Severity;
use crate::tui::desk::{Desk, DeskState};
use crate::tui::theme::Theme;

/// Column widths: severity, time, kind, band, frequency, bandwidth, power, SNR, state.
const WIDTHS: [u16; 9] = [4, 7, 12, 8, 10, 7, 6, 5, 7];

/// Width of the POST column on HQ's desk.
const POST_WIDTH: u16 = 12;

/// Draws `desk` into `area`, newest first, its selected entry highlighted. A POST column
/// comes first when the entries carry posts (HQ).
pub fn render(desk: &Desk, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height < 2 {
        return;
    }
    let entries = desk.entries();
    let posts = entries.iter().any(|e| e.post.is_some());
    title(desk, theme, area, buf);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    if desk.rows().next().is_none() {
        let msg = if entries.is_empty() {
            "  no alerts".to_string()
        } else {
            format!(
                "  no alerts on the desk: {} hidden by suppressions (u lists them)",
                entries.len()
            )
        };
        Line::styled(msg, theme.axis()).render(body, buf);
        return;
    }
    let mut names = vec![
        "SEV", "TIME", "KIND", "BAND", "FREQ MHz", "BW", "dBFS", "SNR", "STATE",
    ];
    let mut widths = WIDTHS.to_vec();
    if posts {
        names.insert(0, "POST");
        widths.insert(0, POST_WIDTH);
    }
    let header = Row::new(names.into_iter().map(Cell::from))
        .style(theme.axis().add_modifier(Modifier::BOLD));
    let rows = desk.rows().map(|e| {
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
                DeskState::Acknowledged if e.known => "known",
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
        let mut cells = Vec::with_capacity(10);
        if posts {
            cells.push(e.post.as_deref().unwrap_or("-").to_string());
        }
        cells.extend([
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
        ]);
        Row::new(cells).style(style)
    });
    let table = Table::new(rows, widths.into_iter().map(Constraint::Length))
        .header(header)
        .column_spacing(1)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("▶");
    let mut state = TableState::default().with_selected(Some(desk.selected()));
    StatefulWidget::render(table, body, buf, &mut state);
}

fn title(desk: &Desk, theme: &Theme, area: Rect, buf: &mut Buffer) {
    // Full, then without the total (the rows show it), then with short severity names:
    // the first that fits, so the suppressed and evidence counts show at 80 columns.
    let line = (0..3)
        .map(|compact| title_line(desk, theme, compact))
        .find(|l| l.width() <= usize::from(area.width))
        .unwrap_or_else(|| title_line(desk, theme, 2));
    let row = Rect { height: 1, ..area };
    buf.set_style(row, Style::new().add_modifier(Modifier::UNDERLINED));
    line.render(row, buf);
}

fn title_line(desk: &Desk, theme: &Theme, compact: u8) -> Line<'static> {
    let entries = desk.entries();
    let (crit, warn, info) = desk.active_counts();
    let count = |n: usize, what: &'static str, short: &'static str, s: Severity| {
        let what = if compact >= 2 { short } else { what };
        Span::styled(format!(" {n} {what} "), Style::new().fg(theme.severity(s)))
    };
    let unacked = desk.rows().filter(|e| e.state() == DeskState::New).count();
    // Evidence clips the alerts name (`--evidence`): several alerts can share one.
    let mut clips: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.alert.evidence.as_deref())
        .collect();
    clips.sort_unstable();
    clips.dedup();
    let tally = if compact >= 1 {
        format!(" │ {unacked} new")
    } else {
        format!(" │ {unacked} new, {} total", entries.len())
    };
    let mut spans = vec![
        Span::styled(" ALERTS ", theme.title().add_modifier(Modifier::REVERSED)),
        count(crit, "critical", "crit", Severity::Critical),
        count(warn, "warning", "warn", Severity::Warning),
        count(info, "info", "info", Severity::Info),
        Span::styled(tally, theme.axis()),
    ];
    if desk.suppressions > 0 {
        // The list (`u`) says how many alerts each one hides; the title has little room.
        spans.push(Span::styled(
            format!(" │ {} suppressed", desk.suppressions),
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
