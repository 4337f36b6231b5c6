//! The suppressions list (`u`, in place of the alert desk): what is hidden, for how much
//! longer, and how many alerts on the desk each one hides; newest first, the selected one
//! reversed. `Del` lifts the selected suppression.
//!
//! ```text
//!  SUPPRESSED  2 │ ↑↓ select · Del lifts · u back to the alerts
//!  WHAT                                   LEFT     UNTIL UTC  HIDING
//! ▶new_emitter at 433.9200 MHz            59:12    14:03      3
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, StatefulWidget, Table, TableState, Widget};

use crate::tui::app::App;
use crate::tui::suppress::format_left;
use crate::tui::theme::Theme;

/// Column widths: what, time left, end time, alerts hidden.
const WIDTHS: [u16; 4] = [38, 8, 10, 6];

/// Draws the suppressions list into `area`.
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height < 2 {
        return;
    }
    let title = Line::from(vec![
        Span::styled(
            " SUPPRESSED ",
            theme.title().add_modifier(Modifier::REVERSED),
        ),
        Span::styled(
            format!(
                " {} │ ↑↓ select · Del lifts · u back to the alerts",
                app.suppressions.len()
            ),
            theme.axis(),
        ),
    ]);
    let row = Rect { height: 1, ..area };
    buf.set_style(row, Style::new().add_modifier(Modifier::UNDERLINED));
    title.render(row, buf);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    if app.suppressions.is_empty() {
        Line::styled(
            "  nothing suppressed (s or S on an alert suppresses it)",
            theme.axis(),
        )
        .render(body, buf);
        return;
    }
    let header = Row::new(["WHAT", "LEFT", "UNTIL UTC", "HIDING"].map(Cell::from))
        .style(theme.axis().add_modifier(Modifier::BOLD));
    let rows = app.suppressions.iter().rev().map(|s| {
        let hiding = app
            .desk
            .entries()
            .iter()
            .filter(|e| e.hidden && s.scope.matches(&e.alert))
            .count();
        Row::new([
            s.scope.describe(),
            format_left(s.until - app.now),
            s.until.format("%H:%M").to_string(),
            hiding.to_string(),
        ])
        .style(Style::new().fg(Color::Magenta))
    });
    let table = Table::new(rows, WIDTHS.map(Constraint::Length))
        .header(header)
        .column_spacing(1)
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED))
        .highlight_symbol("▶");
    let mut state = TableState::default().with_selected(Some(app.suppression_selected));
    StatefulWidget::render(table, body, buf, &mut state);
}
