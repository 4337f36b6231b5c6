//! The status line (two rows): what is being watched and how the pipeline keeps up.
//!
//! ```text
//!  REPLAY captures/demo.h5 │ 433.920 MHz │ 2.4 MS/s │ gain 30 dB │ FFT 1024 · RBW 3.5 kHz   ? help
//!  ▶ 1×  loop │ 2.4 MS/s (100% RT) │ dropped 0 │ t 00:12.3 │ file 00:02.3 / 00:05.0 (46%) │ ● REC
//! ```

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::clock;
use crate::tui::app::{App, LinkState, SPEEDS};
use crate::tui::theme::Theme;
use crate::units;

/// Draws the status line into `area` (two rows).
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let i = &app.info;
    let sep = || Span::styled(" │ ", theme.axis());
    let mut top = vec![
        Span::styled(
            if i.live { " LIVE " } else { " REPLAY " },
            theme.title().add_modifier(Modifier::REVERSED),
        ),
        Span::raw(" "),
        Span::styled(i.origin.clone(), theme.title()),
        sep(),
        Span::raw(match &app.sweep {
            // A sweep has no one centre frequency: say what it steps across.
            Some(sw) => sw.info.summary.clone(),
            None => format!("{} MHz", trim_decimals(i.center_freq_hz / 1e6, 6)),
        }),
        sep(),
        Span::raw(units::format_rate(i.sample_rate_hz)),
    ];
    if let Some(g) = i.gain_db.filter(|g| g.is_finite()) {
        top.push(sep());
        top.push(Span::raw(format!("gain {g:.0} dB")));
    }
    top.push(sep());
    top.push(Span::raw(format!(
        "FFT {} · RBW {} kHz",
        i.fft_len,
        trim_decimals(i.rbw_hz / 1e3, 2)
    )));
    top.push(Span::styled("   ? help", theme.axis()));

    let s = &app.stats;
    let mut bottom = Vec::new();
    if let Some(r) = &app.replay {
        let speed = match SPEEDS[r.speed] {
            Some(x) => format!("{x}×"),
            None => "max".into(),
        };
        let (icon, style) = if r.at_end {
            ("■ end", Style::new().fg(Color::Yellow))
        } else if r.paused {
            ("⏸ paused", Style::new().fg(Color::Yellow))
        } else {
            ("▶", Style::new().fg(Color::Green))
        };
        bottom.push(Span::styled(format!(" {icon} {speed}"), style));
        if r.looping {
            bottom.push(Span::raw(" loop"));
        }
        bottom.push(sep());
    } else {
        bottom.push(Span::raw(" "));
    }
    // A sweep analyses only its dwells: whether it keeps up with the radio is how fast the
    // stream advances, settle included.
    let rt = match app.sweep {
        Some(_) => s.stream_msps,
        None => s.msps,
    } * 1e6
        / i.sample_rate_hz
        * 100.0;
    bottom.push(Span::raw(format!("{:.1} MS/s ({rt:.0}% RT)", s.msps)));
    bottom.push(sep());
    let drop_style = if s.dropped > 0 {
        Style::new().fg(Color::LightRed)
    } else {
        Style::new()
    };
    bottom.push(Span::styled(format!("dropped {}", s.dropped), drop_style));
    bottom.push(sep());
    bottom.push(Span::raw(format!(
        "t {}",
        clock(s.stream_pos as f64 / i.sample_rate_hz)
    )));
    if let Some(r) = app.replay.as_ref().filter(|r| r.file_len > 0) {
        bottom.push(sep());
        bottom.push(Span::raw(format!(
            "file {} / {} ({:.0}%)",
            clock(r.file_pos as f64 / i.sample_rate_hz),
            clock(r.file_len as f64 / i.sample_rate_hz),
            r.file_pos as f64 / r.file_len as f64 * 100.0
        )));
    }
    if app.frozen {
        bottom.push(sep());
        bottom.push(Span::styled(
            "DISPLAY PAUSED",
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    if s.ended {
        bottom.push(sep());
        bottom.push(Span::styled("stream ended", Style::new().fg(Color::Yellow)));
    }
    if let Some(l) = &s.link {
        bottom.push(sep());
        bottom.extend(link_spans(l));
    }
    if s.recording {
        bottom.push(sep());
        bottom.push(Span::styled(
            "● REC",
            Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
        ));
    }
    if let Some(n) = &app.notice {
        bottom.push(sep());
        bottom.push(Span::styled(n.clone(), Style::new().fg(Color::Cyan)));
    }
    Line::from(top).render(Rect { height: 1, ..area }, buf);
    if area.height > 1 {
        Line::from(bottom).render(
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
            buf,
        );
    }
}

/// The MQTT link: `MQTT ● connected`, `MQTT ● backlog 12` while a backlog goes out,
/// `MQTT ○ backlog 1,234` while the broker is away; `n lost` when the quota gave lines up.
pub fn link_spans(l: &LinkState) -> Vec<Span<'static>> {
    let mut v = vec![Span::raw("MQTT ")];
    v.push(match (l.connected, l.backlog) {
        (true, 0) => Span::styled("● connected", Style::new().fg(Color::Green)),
        (true, n) => Span::styled(
            format!("● backlog {}", thousands(n)),
            Style::new().fg(Color::Yellow),
        ),
        (false, n) => Span::styled(
            format!("○ backlog {}", thousands(n)),
            Style::new()
                .fg(Color::LightRed)
                .add_modifier(Modifier::BOLD),
        ),
    });
    if l.lost > 0 {
        v.push(Span::styled(
            format!(" {} lost", thousands(l.lost)),
            Style::new().fg(Color::LightRed),
        ));
    }
    v
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `v` with at most `max` decimals and no trailing zeros: `433.92`, `2.34`, `100`.
fn trim_decimals(v: f64, max: usize) -> String {
    let s = format!("{v:.max$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}
