//! The prompt line over the bottom row of the screen: a note being typed (`A`, `K`) or the
//! suppression menu (`s`, `S`), saying what it is for and which keys finish it.
//!
//! ```text
//!  known #12 433.9200 MHz, note (Enter saves, Esc cancels): gate remote▏
//!  suppress new_emitter at 433.9200 MHz for  1 15 min  2 1 h  3 8 h  (Esc cancels)
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::tui::app::{App, Modal, NoteFor};
use crate::tui::suppress::{Scope, CHOICES};
use crate::tui::theme::Theme;

/// Draws the open prompt, if any, on the last row of `area` (the whole screen).
pub fn render(app: &App, _theme: &Theme, area: Rect, buf: &mut Buffer) {
    let Some(modal) = &app.modal else {
        return;
    };
    if area.height == 0 {
        return;
    }
    let row = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    let base = Style::new().fg(Color::Black).bg(Color::LightYellow);
    let key = base.add_modifier(Modifier::BOLD);
    let alert = |id: u64| app.desk.find(id, None);
    let spans = match modal {
        Modal::Note {
            purpose,
            alert_id,
            text,
        } => {
            let what = match purpose {
                NoteFor::Acknowledge => "ack",
                NoteFor::Known => "known",
            };
            let freq = alert(*alert_id)
                .filter(|e| e.alert.freq_hz > 0.0)
                .map(|e| format!(" {:.4} MHz", e.alert.freq_hz / 1e6))
                .unwrap_or_default();
            // The end of a long note stays in view: that is where the operator types.
            let prefix = format!(" {what} #{alert_id}{freq}, note (Enter saves, Esc cancels): ");
            let room = usize::from(row.width)
                .saturating_sub(prefix.chars().count())
                .saturating_sub(1);
            let n = text.chars().count();
            let shown: String = text.chars().skip(n.saturating_sub(room)).collect();
            vec![
                Span::styled(prefix, base),
                Span::styled(shown, key),
                Span::styled("▏", base),
            ]
        }
        Modal::SuppressMenu { scope, alert_id } => {
            let what = alert(*alert_id)
                .and_then(|e| Scope::for_alert(*scope, &e.alert, 0.0))
                .map_or_else(|| format!("#{alert_id}"), |s| s.describe());
            let mut choices = Vec::with_capacity(2 * CHOICES.len() + 1);
            for (i, (label, _)) in CHOICES.iter().enumerate() {
                choices.push(Span::styled(format!(" {}", i + 1), key));
                choices.push(Span::styled(format!(" {label} "), base));
            }
            choices.push(Span::styled(" (Esc cancels)", base));
            // The keys must show whatever the width: a long band name gives way.
            let fixed = " suppress ".len() + " for ".len();
            let room = usize::from(row.width)
                .saturating_sub(fixed + choices.iter().map(Span::width).sum::<usize>())
                .max(8);
            let what = if what.chars().count() > room {
                what.chars().take(room - 1).chain(['…']).collect()
            } else {
                what
            };
            let mut spans = vec![Span::styled(format!(" suppress {what} for "), base)];
            spans.extend(choices);
            spans
        }
    };
    // The prompt replaces the row: nothing of the desk underneath may show through.
    buf.set_string(row.x, row.y, " ".repeat(usize::from(row.width)), base);
    Line::from(spans).render(row, buf);
}
