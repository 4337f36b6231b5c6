//! The `?` overlay: the key list from [`crate::tui::keymap::BINDINGS`] in a box over the
//! middle of the screen; replay keys only when replaying. When the list is taller than the
//! screen (an 80×24 terminal) it flows into a second column, so every key is always shown.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::tui::app::App;
use crate::tui::keymap::BINDINGS;
use crate::tui::theme::Theme;

/// Width of the longest key label.
const KEYS_W: usize = 9;

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
            Span::styled(format!(" {:<KEYS_W$} ", b.keys), key_style),
            Span::raw(b.what),
        ]));
    }
    let inner_h = usize::from(area.height.saturating_sub(2)).max(1);
    let columns = lines.len().div_ceil(inner_h).clamp(1, 2);
    let per_column = lines.len().div_ceil(columns);
    let col_w: u16 = if columns == 1 { 58 } else { 39 };
    let w = (col_w * columns as u16 + 2).min(area.width);
    let h = (per_column as u16 + 2).min(area.height);
    let r = Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    };
    Clear.render(r, buf);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys — ? or Esc to close ");
    let inner = block.inner(r);
    block.render(r, buf);
    let mut rest = lines.into_iter();
    for c in 0..columns as u16 {
        let x = inner.x + c * col_w;
        let column = Rect {
            x,
            width: col_w.min(inner.right().saturating_sub(x)),
            ..inner
        };
        let chunk: Vec<Line> = rest.by_ref().take(per_column).collect();
        Paragraph::new(chunk).render(column, buf);
    }
}
