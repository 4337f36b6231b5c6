//! The `?` overlay: the key list from [`crate::tui::keymap::BINDINGS`] in a box over the
//! middle of the screen; replay keys only when replaying.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::keymap::BINDINGS;
use crate::tui::theme::Theme;

/// Draws the key list over `area` (the whole screen).
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let replay = app.replay.is_some();
    let mut lines = Vec::new();
    let key_style = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
    for (i, b) in BINDINGS.iter().enumerate() {
        if b.replay_only && !replay {
            continue;
        }
        if b.replay_only && i > 0 && !BINDINGS[i - 1].replay_only {
            lines.push(Line::styled(" replay", theme.title()));
        }
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<16}", b.keys), key_style),
            Span::raw(b.what),
        ]));
    }
    let w = 60.min(area.width);
    let h = (lines.len() as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(r, buf);
    Paragraph::new(lines)
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys — ? or Esc to close "),
        )
        .render(r, buf);
}
