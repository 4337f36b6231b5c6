//! HQ's status line (one row): the broker, HQ's own link, how many posts are online, how
//! many alert lines have come in, the keys.
//!
//! ```text
//!  HQ  mqtt://hq:1883 │ MQTT ● connected │ 3 posts, 2 online │ 1,234 alerts   q quit · ↑↓ select · a mark seen
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::status::thousands;
use crate::tui::hq::HqApp;
use crate::tui::theme::Theme;

/// Draws HQ's status line into `area` (one row).
pub fn render(app: &HqApp, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let sep = || Span::styled(" │ ", theme.axis());
    let mut spans = vec![
        Span::styled(" HQ ", theme.title().add_modifier(Modifier::REVERSED)),
        Span::raw(" "),
        Span::styled(app.broker.clone(), theme.title()),
        sep(),
        Span::raw("MQTT "),
        if app.connected {
            Span::styled("● connected", Style::new().fg(Color::Green))
        } else {
            Span::styled(
                "○ reconnecting",
                Style::new()
                    .fg(Color::LightRed)
                    .add_modifier(Modifier::BOLD),
            )
        },
        sep(),
        Span::raw(format!(
            "{} post{}, {} online",
            app.posts.len(),
            if app.posts.len() == 1 { "" } else { "s" },
            app.online()
        )),
        sep(),
        Span::raw(format!("{} alerts", thousands(app.received))),
    ];
    if let Some(n) = &app.notice {
        spans.push(sep());
        spans.push(Span::styled(n.clone(), Style::new().fg(Color::Cyan)));
    }
    spans.push(Span::styled(
        "   q quit · ↑↓ select · a mark seen",
        theme.axis(),
    ));
    Line::from(spans).render(Rect { height: 1, ..area }, buf);
}
