//! HQ's posts panel: one row per post — online (●) or offline (○) as its retained status
//! says, when it was last heard from, its outbox backlog and losses from its health
//! report, and what it watches.
//!
//! ```text
//!  POSTS
//!  ● north   online    3s ago │ backlog 0     │ 2.4 MS/s │ 433.920 MHz @ 2.4 MS/s │ captures/demo.h5
//!  ○ south   offline  5m2s ago │ backlog 1,234 │ lost 12 │ …
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::status::thousands;
use crate::tui::hq::HqApp;
use crate::tui::theme::Theme;
use crate::units;

/// Draws the posts panel into `area`: a title row, then a row per post.
pub fn render(app: &HqApp, theme: &Theme, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let title = Line::from(vec![
        Span::styled(" POSTS ", theme.title().add_modifier(Modifier::REVERSED)),
        Span::styled(
            if app.posts.is_empty() {
                "  none heard from yet".to_string()
            } else {
                String::new()
            },
            theme.axis(),
        ),
    ]);
    let row = |i: u16| Rect {
        y: area.y + i,
        height: 1,
        ..area
    };
    title.render(row(0), buf);
    let sep = || Span::styled(" │ ", theme.axis());
    // Offline first: those are the ones to look at.
    let mut posts: Vec<_> = app.posts.iter().collect();
    posts.sort_by_key(|p| p.online());
    for (i, p) in posts.iter().enumerate().take(area.height as usize - 1) {
        let (icon, state, colour) = match &p.status {
            Some(s) if s.is_online() => ("●", "online", Color::Green),
            Some(_) => ("○", "offline", Color::LightRed),
            None => ("?", "unknown", Color::Yellow),
        };
        let ago = p
            .last_heard
            .map(|t| {
                format!(
                    "{} ago",
                    age(app.now.saturating_duration_since(t).as_secs())
                )
            })
            .unwrap_or_else(|| "never".into());
        let mut spans = vec![
            Span::styled(format!(" {icon} "), Style::new().fg(colour)),
            Span::styled(format!("{:<10}", p.post), theme.title()),
            Span::styled(format!("{state:<8}"), Style::new().fg(colour)),
            Span::raw(format!("{ago:>10}")),
        ];
        if let Some(h) = &p.health {
            spans.push(sep());
            let style = if h.backlog > 0 {
                Style::new().fg(Color::Yellow)
            } else {
                Style::new()
            };
            spans.push(Span::styled(
                format!("backlog {:<6}", thousands(h.backlog)),
                style,
            ));
            if h.lost > 0 {
                spans.push(Span::styled(
                    format!(" lost {}", thousands(h.lost)),
                    Style::new().fg(Color::LightRed),
                ));
            }
            spans.push(sep());
            spans.push(Span::raw(format!("{:.1} MS/s", h.msps)));
        }
        if let Some(s) = &p.status {
            spans.push(sep());
            spans.push(Span::raw(format!(
                "{} @ {}",
                units::format_hz(s.center_freq_hz),
                units::format_rate(s.sample_rate_hz)
            )));
            spans.push(sep());
            spans.push(Span::styled(s.source.clone(), theme.axis()));
        }
        spans.push(Span::styled(
            format!("  {} alerts", thousands(p.alerts)),
            theme.axis(),
        ));
        Line::from(spans).render(row(i as u16 + 1), buf);
    }
}

/// `42s`, `1m15s`, `3h05m`.
fn age(secs: u64) -> String {
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m{}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m", secs / 3600, secs / 60 % 60),
    }
}
