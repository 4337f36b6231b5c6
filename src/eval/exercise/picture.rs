//! The after-action picture of a session: the waterfall of the exercise (the mix redone
//! through the spectrum stage, so nothing of it is stored in the log), the injections as
//! boxes, kuzet's alerts as marks and the trainee's verdicts, on one timeline. Drawn
//! with plotters, as SVG (text as text, the waterfall one embedded PNG) or PNG, in
//! colours that survive a grey printer: the air light-on-dark-ink, threats red, benign
//! green, alerts orange triangles, verdicts lettered discs.
//!
//! ```text
//!  ┌ exercise · trainee · score · detector · misses · false calls ──────────────────┐
//!  │ MHz ┤ ░░░▓▓░░ waterfall (time →) ░░  ┏━rc-link (threat)━━┓  ▲ alert  Ⓣ verdict │
//!  │     ┤                                 ┗━━━━━━━━━━━━━━━━━━┛                      │
//!  │     └──────────────────────── exercise time, s ───────────────────────────────  │
//!  └ legend ─────────────────────────────────────────────────────────────────────────┘
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::element::BitMapElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::FontStyle;

use super::report::{Outcome, SessionReport};
use super::session::Session;
use super::spectra;
use crate::dsp::SpectrumConfig;
use crate::error::{Error, Result};
use crate::sinks::session_log::{Line, Verdict};
use crate::source::IqSource;

/// Picture size, pixels (SVG user units): A4 landscape at about 150 dpi.
pub const SIZE: (u32, u32) = (1600, 1100);

/// Where a TrueType font for the picture's text is looked for (Debian's
/// fonts-dejavu-core first).
pub const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
];

/// The exercise's waterfall: the maximum in dB of the spectra falling in each of `cols`
/// time columns, `bins` values per column (fft-shifted, lowest frequency first).
#[derive(Debug, Clone, PartialEq)]
pub struct Waterfall {
    /// Time columns.
    pub cols: usize,
    /// Frequency bins.
    pub bins: usize,
    /// `cols × bins`, column after column, dB.
    pub db: Vec<f32>,
    /// Length of the exercise, seconds.
    pub duration_s: f64,
    /// Lowest and highest frequency shown.
    pub f_lo_hz: f64,
    /// See `f_lo_hz`.
    pub f_hi_hz: f64,
    /// The median bin, dB: the floor the colour scale starts at.
    pub floor_db: f32,
}

/// Runs the exercise's mix through the spectrum stage into `cols` columns.
///
/// # Errors
/// The mix's error.
pub fn waterfall(
    mix: &mut dyn IqSource,
    cfg: SpectrumConfig,
    duration_s: f64,
    cols: usize,
) -> Result<Waterfall> {
    let meta = mix.meta().clone();
    let n = cfg.fft_len;
    let rate = meta.sample_rate_hz;
    let per_s = rate / cfg.span() as f64;
    let mut db = vec![f32::MIN; cols * n];
    let mut on = |k: u64, s: &[f32]| {
        let t = k as f64 / per_s;
        let c = ((t / duration_s) * cols as f64) as usize;
        if c < cols {
            for (d, &p) in db[c * n..(c + 1) * n].iter_mut().zip(s) {
                *d = d.max(crate::dsp::db(p));
            }
        }
    };
    spectra::run(mix, cfg, &mut on)?;
    // Columns no spectrum fell in (a picture wider than the spectra) take their left
    // neighbour's.
    for c in 1..cols {
        if db[c * n] == f32::MIN {
            db.copy_within((c - 1) * n..c * n, c * n);
        }
    }
    let mut all: Vec<f32> = db.iter().copied().filter(|v| *v > f32::MIN).collect();
    let floor_db = if all.is_empty() {
        -100.0
    } else {
        let mid = all.len() / 2;
        *all.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    let bin = rate / n as f64;
    Ok(Waterfall {
        cols,
        bins: n,
        db,
        duration_s,
        f_lo_hz: meta.center_freq_hz - rate / 2.0 - bin / 2.0,
        f_hi_hz: meta.center_freq_hz + rate / 2.0 - bin / 2.0,
        floor_db,
    })
}

/// SVG or PNG.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Scalable, text as text.
    Svg,
    /// A bitmap.
    Png,
}

/// Registers a TrueType font with plotters once per process (it keeps the bytes).
fn font() -> Result<()> {
    static FONT: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    FONT.get_or_init(|| {
        for p in FONT_PATHS {
            if let Ok(bytes) = std::fs::read(p) {
                // plotters keeps a 'static reference: the font lives as long as the
                // process, once.
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(format!(
            "no TrueType font for the picture's text (looked for {}); install fonts-dejavu-core",
            FONT_PATHS.join(", ")
        ))
    })
    .clone()
    .map_err(Error::Config)
}

/// Light for the floor, dark ink for strong signals; 0..=1.
fn ink(v: f32) -> [u8; 3] {
    const STOPS: [(f32, [f32; 3]); 4] = [
        (0.0, [255.0, 255.0, 255.0]),
        (0.35, [165.0, 180.0, 205.0]),
        (0.7, [45.0, 65.0, 115.0]),
        (1.0, [0.0, 0.0, 0.0]),
    ];
    let v = v.clamp(0.0, 1.0);
    for w in STOPS.windows(2) {
        let ((a, ca), (b, cb)) = (w[0], w[1]);
        if v <= b {
            let f = (v - a) / (b - a);
            return [0, 1, 2].map(|i| (ca[i] + f * (cb[i] - ca[i])) as u8);
        }
    }
    [0, 0, 0]
}

const THREAT: RGBColor = RGBColor(200, 20, 20);
const BENIGN: RGBColor = RGBColor(0, 130, 60);
const ALERT: RGBColor = RGBColor(235, 130, 0);
const NEUTRAL: RGBColor = RGBColor(110, 110, 110);
const AMBER: RGBColor = RGBColor(200, 150, 0);

fn plot_err<E: std::fmt::Display>(out: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Io {
        path: out.to_path_buf(),
        source: std::io::Error::other(format!("drawing the picture: {e}")),
    }
}

/// Draws the picture of `report` (scored from `session`) over `wf` into `out`.
///
/// # Errors
/// [`Error::Config`] when no font is found; [`Error::Io`] when the file cannot be
/// written.
pub fn draw(
    report: &SessionReport,
    session: &Session,
    wf: &Waterfall,
    out: &Path,
    format: Format,
) -> Result<()> {
    font()?;
    match format {
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                paint(&root, report, session, wf, out)?;
                root.present().map_err(plot_err(out))?;
            }
            // plotters-svg 0.3.7 writes the embedded waterfall as `data:png;base64,`, a
            // media type viewers are free to refuse (browsers show a broken image): give
            // it its registered name.
            let svg = svg.replace("href=\"data:png;base64,", "href=\"data:image/png;base64,");
            std::fs::write(out, svg).map_err(|source| Error::Io {
                path: out.to_path_buf(),
                source,
            })
        }
        Format::Png => {
            let root = BitMapBackend::new(out, SIZE).into_drawing_area();
            paint(&root, report, session, wf, out)?;
            root.present().map_err(plot_err(out))
        }
    }
}

fn paint<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    report: &SessionReport,
    session: &Session,
    wf: &Waterfall,
    out: &Path,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let err = plot_err(out);
    root.fill(&WHITE).map_err(&err)?;
    let (top, rest) = root.split_vertically(70);
    let (main, legend) = rest.split_vertically(SIZE.1 - 70 - 60);
    top.draw(&Text::new(
        format!(
            "{} · trainee {} · score {} · detector {}/{} · misses {} · false calls {}",
            crate::units::one_line(&report.exercise),
            crate::units::one_line(&report.trainee),
            report.score_text(),
            report.detected,
            report.total,
            report.misses,
            report.false_call_count
        ),
        (30, 18),
        ("sans-serif", 28).into_font(),
    ))
    .map_err(&err)?;
    let mhz = |hz: f64| hz / 1e6;
    let (f_lo, f_hi) = (mhz(wf.f_lo_hz), mhz(wf.f_hi_hz));
    let mut chart = ChartBuilder::on(&main)
        .margin(20)
        .x_label_area_size(55)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..wf.duration_s, f_lo..f_hi)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("exercise time, s")
        .y_desc("MHz")
        .label_style(("sans-serif", 20))
        .axis_desc_style(("sans-serif", 22))
        .y_label_formatter(&|v| format!("{v:.3}"))
        .draw()
        .map_err(&err)?;

    // The waterfall, resampled to the plotting area's pixels.
    let (w, h) = chart.plotting_area().dim_in_pixel();
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    let span = 35.0f32;
    for py in 0..h as usize {
        // Top row: the highest frequency.
        let b = ((1.0 - (py as f64 + 0.5) / h as f64) * wf.bins as f64) as usize;
        let b = b.min(wf.bins - 1);
        for px in 0..w as usize {
            let c = (((px as f64 + 0.5) / w as f64) * wf.cols as f64) as usize;
            let v = wf.db[c.min(wf.cols - 1) * wf.bins + b];
            let px_rgb = ink((v - wf.floor_db - 3.0) / span);
            let at = (py * w as usize + px) * 3;
            rgb[at..at + 3].copy_from_slice(&px_rgb);
        }
    }
    if let Some(img) = BitMapElement::with_owned_buffer((0.0, f_hi), (w, h), rgb) {
        chart.draw_series(std::iter::once(img)).map_err(&err)?;
    }

    let map = session.time_map();
    // Injection boxes, labelled; a CW line gets a visible height.
    let min_h = (f_hi - f_lo) * 0.006;
    for (i, info) in report.injections.iter().zip(&session.header.injections) {
        let colour = if i.expect == Verdict::Threat {
            THREAT
        } else {
            BENIGN
        };
        let (lo, hi) = (mhz(info.freq_lo_hz), mhz(info.freq_hi_hz));
        let (lo, hi) = if hi - lo < 2.0 * min_h {
            ((lo + hi) / 2.0 - min_h, (lo + hi) / 2.0 + min_h)
        } else {
            (lo, hi)
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(info.start_s, hi), (info.stop_s, lo)],
                colour.stroke_width(3),
            )))
            .map_err(&err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!(
                    "{} ({}, {})",
                    crate::units::one_line(&i.name),
                    i.kind,
                    i.expect.as_str()
                ),
                (info.start_s, hi),
                ("sans-serif", 20)
                    .into_font()
                    .color(&colour)
                    .pos(Pos::new(HPos::Left, VPos::Bottom)),
            )))
            .map_err(&err)?;
    }

    // Alerts where the trainee first saw them (exercise time, its frequency).
    let mut freq_of: HashMap<u64, f64> = HashMap::new();
    let mut marks = Vec::new();
    for l in &session.lines {
        if let Line::Alert(a) = l {
            let a = &a.alert;
            if crate::eval::score::is_health(a.kind) || freq_of.contains_key(&a.id) {
                continue;
            }
            freq_of.insert(a.id, a.freq_hz);
            marks.push((map.exercise_s(a.last_seen_s), mhz(a.freq_hz)));
        }
    }
    chart
        .draw_series(
            marks
                .iter()
                .map(|&p| TriangleMarker::new(p, 9, ALERT.filled())),
        )
        .map_err(&err)?;

    // Verdicts, coloured by how they were judged.
    let mut judged: HashMap<u64, RGBColor> = HashMap::new();
    for i in &report.injections {
        if let Some(id) = i.verdict_alert_id {
            judged.insert(
                id,
                match i.outcome {
                    Outcome::Correct => BENIGN,
                    Outcome::Wrong => THREAT,
                    _ => AMBER,
                },
            );
        }
    }
    for c in &report.false_calls {
        judged.insert(c.alert_id, THREAT);
    }
    for k in session.acks() {
        let Some(id) = k.alert_id else { continue };
        let Some(f) = freq_of.get(&id).copied().or(k.alert_freq_hz) else {
            continue;
        };
        let colour = judged.get(&id).copied().unwrap_or(NEUTRAL);
        let p = (map.exercise_s(k.stream_s), mhz(f));
        let letter = match k.verdict {
            Verdict::Threat => "T",
            Verdict::Benign => "B",
            Verdict::Unsure => "?",
        };
        chart
            .draw_series([EmptyElement::at(p)
                + Circle::new((0, 0), 11, colour.filled())
                + Text::new(
                    letter,
                    (0, 0),
                    ("sans-serif", 18)
                        .into_font()
                        .color(&WHITE)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )])
            .map_err(&err)?;
    }

    // Legend.
    let items: [(&str, RGBColor); 7] = [
        ("threat injection", THREAT),
        ("benign injection", BENIGN),
        ("alert raised", ALERT),
        ("verdict right (T/B/?)", BENIGN),
        ("wrong / false call", THREAT),
        ("late or unsure", AMBER),
        ("not graded", NEUTRAL),
    ];
    let mut x = 40;
    for (text, colour) in items {
        legend
            .draw(&Rectangle::new([(x, 15), (x + 22, 37)], colour.filled()))
            .map_err(&err)?;
        legend
            .draw(&Text::new(
                text,
                (x + 30, 14),
                ("sans-serif", 20).into_font(),
            ))
            .map_err(&err)?;
        x += 220;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ink_runs_from_paper_to_black() {
        assert_eq!(ink(-1.0), [255, 255, 255]);
        assert_eq!(ink(0.0), [255, 255, 255]);
        assert_eq!(ink(1.0), [0, 0, 0]);
        let mid = ink(0.5);
        assert!(mid[0] < 200 && mid[2] > mid[0], "{mid:?}");
    }
}
