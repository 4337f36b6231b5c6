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

/// Draws the status line into `area` (two rows). Both rows fit the width: the top one
/// shortens the source's name (keeping its end, where a file's name is), the bottom one
/// lets a notice push out, in turn, the file position, the throughput and a zero drop
/// count, then cuts the notice itself.
pub fn render(app: &App, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let width = usize::from(area.width);
    Line::from(top_row(app, theme, width)).render(Rect { height: 1, ..area }, buf);
    if area.height > 1 {
        Line::from(bottom_row(app, theme, width)).render(
            Rect {
                y: area.y + 1,
                height: 1,
                ..area
            },
            buf,
        );
    }
}

fn sep(theme: &Theme) -> Span<'static> {
    Span::styled(" │ ", theme.axis())
}

/// Columns `spans` take.
fn cols_of(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// `text` cut to `room` columns with `…`, keeping its start (or its end, `tail`).
fn shorten(text: &str, room: usize, tail: bool) -> String {
    let n = text.chars().count();
    if n <= room {
        return text.to_string();
    }
    let keep = room.saturating_sub(1);
    if tail {
        std::iter::once('…')
            .chain(text.chars().skip(n - keep))
            .collect()
    } else {
        text.chars().take(keep).chain(['…']).collect()
    }
}

fn top_row(app: &App, theme: &Theme, width: usize) -> Vec<Span<'static>> {
    let i = &app.info;
    let badge = Span::styled(
        if i.live { " LIVE " } else { " REPLAY " },
        theme.title().add_modifier(Modifier::REVERSED),
    );
    let make_rest = |rbw: bool| {
        let mut rest = vec![
            sep(theme),
            Span::raw(match &app.sweep {
                // A sweep has no one centre frequency: say what it steps across.
                Some(sw) => sw.info.summary.clone(),
                None => format!("{} MHz", trim_decimals(i.center_freq_hz / 1e6, 6)),
            }),
            sep(theme),
            Span::raw(units::format_rate(i.sample_rate_hz)),
        ];
        if let Some(g) = i.gain_db.filter(|g| g.is_finite()) {
            rest.push(sep(theme));
            rest.push(Span::raw(format!("gain {g:.0} dB")));
        }
        rest.push(sep(theme));
        rest.push(Span::raw(if rbw {
            format!(
                "FFT {} · RBW {} kHz",
                i.fft_len,
                trim_decimals(i.rbw_hz / 1e3, 2)
            )
        } else {
            format!("FFT {}", i.fft_len)
        }));
        rest.push(Span::styled("   ? help", theme.axis()));
        rest
    };
    // The name gives way first, down to a dozen characters, then the RBW (it follows
    // from the rate and the FFT size); past that the line is cut at the edge.
    const NAME_MIN: usize = 12;
    let room = |rest: &[Span]| width.saturating_sub(badge.width() + 1 + cols_of(rest));
    let mut rest = make_rest(true);
    if room(&rest) < NAME_MIN {
        rest = make_rest(false);
    }
    let name = shorten(&i.origin, room(&rest).max(NAME_MIN), true);
    let mut top = vec![badge, Span::raw(" "), Span::styled(name, theme.title())];
    top.extend(rest);
    top
}

/// What may give way to a notice, most readily first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Yield {
    Never,
    ZeroDrops,
    Throughput,
    FilePosition,
}

fn bottom_row(app: &App, theme: &Theme, width: usize) -> Vec<Span<'static>> {
    let i = &app.info;
    let s = &app.stats;
    // Segments between separators, each with how readily it gives way.
    let mut segs: Vec<(Yield, Vec<Span<'static>>)> = Vec::new();
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
        let mut transport = vec![Span::styled(format!(" {icon} {speed}"), style)];
        if r.looping {
            transport.push(Span::raw(" loop"));
        }
        segs.push((Yield::Never, transport));
    }
    // A sweep analyses only its dwells: whether it keeps up with the radio is how fast the
    // stream advances, settle included.
    let rt = match app.sweep {
        Some(_) => s.stream_msps,
        None => s.msps,
    } * 1e6
        / i.sample_rate_hz
        * 100.0;
    segs.push((
        Yield::Throughput,
        vec![Span::raw(format!("{:.1} MS/s ({rt:.0}% RT)", s.msps))],
    ));
    let (drops, drop_style) = if s.dropped > 0 {
        (Yield::Never, Style::new().fg(Color::LightRed))
    } else {
        (Yield::ZeroDrops, Style::new())
    };
    segs.push((
        drops,
        vec![Span::styled(format!("dropped {}", s.dropped), drop_style)],
    ));
    segs.push((
        Yield::Never,
        vec![Span::raw(format!(
            "t {}",
            clock(s.stream_pos as f64 / i.sample_rate_hz)
        ))],
    ));
    if let Some(r) = app.replay.as_ref().filter(|r| r.file_len > 0) {
        segs.push((
            Yield::FilePosition,
            vec![Span::raw(format!(
                "file {} / {} ({:.0}%)",
                clock(r.file_pos as f64 / i.sample_rate_hz),
                clock(r.file_len as f64 / i.sample_rate_hz),
                r.file_pos as f64 / r.file_len as f64 * 100.0
            ))],
        ));
    }
    if app.frozen {
        segs.push((
            Yield::Never,
            vec![Span::styled(
                "DISPLAY PAUSED",
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            )],
        ));
    }
    if s.ended {
        segs.push((
            Yield::Never,
            vec![Span::styled("stream ended", Style::new().fg(Color::Yellow))],
        ));
    }
    if let Some(l) = &s.link {
        segs.push((Yield::Never, link_spans(l)));
    }
    if s.recording {
        segs.push((
            Yield::Never,
            vec![Span::styled(
                "● REC",
                Style::new()
                    .fg(Color::LightRed)
                    .add_modifier(Modifier::BOLD),
            )],
        ));
    }
    let join = |segs: &[(Yield, Vec<Span<'static>>)]| {
        let mut line = if app.replay.is_some() {
            Vec::new()
        } else {
            vec![Span::raw(" ")]
        };
        for (k, (_, spans)) in segs.iter().enumerate() {
            if k > 0 {
                line.push(sep(theme));
            }
            line.extend(spans.iter().cloned());
        }
        line
    };
    let Some(notice) = &app.notice else {
        return join(&segs);
    };
    let notice_style = Style::new().fg(Color::Cyan);
    let fits = |segs: &[(Yield, Vec<Span<'static>>)]| {
        cols_of(&join(segs)) + sep(theme).width() + notice.chars().count() <= width
    };
    for y in [Yield::FilePosition, Yield::Throughput, Yield::ZeroDrops] {
        if fits(&segs) {
            break;
        }
        segs.retain(|(k, _)| *k != y);
    }
    let mut line = join(&segs);
    line.push(sep(theme));
    let room = width.saturating_sub(cols_of(&line)).max(4);
    line.push(Span::styled(shorten(notice, room, false), notice_style));
    line
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
