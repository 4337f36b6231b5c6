//! The operator console: spectrum, waterfall and alert desk in the terminal (ratatui).
//!
//! ```text
//! ┌ status (2 rows): source, frequency, rate, gain, FFT/RBW · transport, MS/s, drops, time ┐
//! │  dBFS │ spectrum: trace bars, max-hold ·, threshold ╌, floor ─                          │
//! │   MHz ╵433.0      ╵433.5      ╵434.0                                                   │
//! │  time │ waterfall: ▀ two spectra per cell, newest on top, ◆ where an alert was raised   │
//! │ ALERTS  n critical  n warning  n info │ n new                                          │
//! │ SEV TIME KIND BAND FREQ MHz BW dBFS SNR STATE   (newest first, selected reversed)      │
//! └─────────────────────────────────────────────── `?` overlays the key list ──────────────┘
//! ```
//!
//! Threads: the pipeline runs on its own threads (a [`Running`] pipeline, started by the
//! caller), the input reader on another (the one thread this module starts), and this
//! module's loop owns the terminal. The pipeline's detect stage sends decimated
//! [`crate::pipeline::UiFrame`]s (at most one per
//! [`FRAME_PERIOD`], dropped when the console is behind) and alerts; the loop folds them
//! into the pure [`app::App`] state and draws on its tick only, so drawing never runs
//! faster than 30 fps nor slows the DSP. The terminal is restored on quit, on error and
//! on panic (ratatui's panic hook, and a guard that also stops the pipeline).

pub mod app;
pub mod desk;
pub mod event;
pub mod hq;
pub mod keymap;
pub mod theme;
pub mod widgets;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, Receiver, TryRecvError};
use ratatui::layout::Rect;
use ratatui::{DefaultTerminal, Frame};

use crate::dsp::FreqGrid;
use crate::error::{Error, Result};
use crate::pipeline::{Event, RunStats, Running};
use crate::source::paced::PaceControl;

use app::{App, Effect, LinkState, ReplayState, SourceInfo, Stats, SPEEDS};
use event::UiEvent;
use theme::Theme;

/// The console's redraw period, and the pipeline's minimum gap between display frames.
pub const FRAME_PERIOD: Duration = Duration::from_millis(33);

/// What the console shows besides the pipeline's output.
pub struct Console {
    /// How to describe the source on the status line.
    pub info: SourceInfo,
    /// Transport controls when the source is a paced capture.
    pub replay: Option<Arc<PaceControl>>,
    /// A recorder is writing the stream's IQ to disk (the status line's `● REC`).
    pub recording: bool,
    /// The source sweeps: the spectrum and waterfall are its panorama.
    pub sweep: Option<app::SweepInfo>,
}

/// Runs the console on a started pipeline (started with [`FRAME_PERIOD`] as its display
/// period) until the operator quits, `stop` is set or the pipeline fails; then stops the
/// pipeline and returns its summary.
///
/// # Errors
/// The terminal could not be set up or drawn on, an acknowledgement could not be logged,
/// or a pipeline stage failed.
pub fn run(running: Running, console: Console, stop: &AtomicBool) -> Result<RunStats> {
    let Console {
        info,
        replay,
        recording,
        sweep,
    } = console;
    let grid = match &sweep {
        Some(s) => s.panorama,
        None => FreqGrid {
            bins: info.fft_len,
            sample_rate_hz: info.sample_rate_hz,
            center_freq_hz: info.center_freq_hz,
        },
    };
    let mut app = App::new(info, grid, replay.as_deref().map(replay_state));
    if let Some(s) = sweep {
        app = app.with_sweep(s);
    }
    let theme = Theme::detect();
    let mut term = match TerminalGuard::new() {
        Ok(t) => t,
        Err(e) => {
            stop.store(true, Relaxed);
            let _ = running.finish();
            return Err(e);
        }
    };
    // Keys: the input thread blocks when the loop is behind, which only delays keys.
    let (key_tx, key_rx) = bounded::<UiEvent>(64);
    let input_stop = AtomicBool::new(false);
    let looped = thread::scope(|scope| {
        // On every way out of this scope, panics and failed spawns included, stop the
        // input thread first so that the scope's implicit join cannot hang.
        let _stop_all = StopOnDrop([stop, &input_stop]);
        thread::Builder::new()
            .name("input".into())
            .spawn_scoped(scope, {
                let input_stop = &input_stop;
                move || event::read_input(&key_tx, input_stop)
            })
            .map_err(|_| Error::StagePanicked("spawn"))?;
        let mut ui = UiLoop {
            keys: key_rx,
            running: &running,
            alerts_open: true,
            stop,
            ctl: replay.as_deref(),
            recording,
            meter: (Instant::now(), 0, 0),
        };
        ui.run(&mut term.0, &mut app, &theme)
    });
    stop.store(true, Relaxed);
    drop(term);
    let stats = running.finish();
    looped?;
    stats
}

/// Sets every flag when dropped.
struct StopOnDrop<'a>([&'a AtomicBool; 2]);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        for f in self.0 {
            f.store(true, Relaxed);
        }
    }
}

/// Owns the terminal in raw mode on the alternate screen; restores it when dropped.
struct TerminalGuard(DefaultTerminal);

impl TerminalGuard {
    fn new() -> Result<Self> {
        match ratatui::try_init() {
            Ok(t) => Ok(TerminalGuard(t)),
            Err(e) => {
                // Half-initialised (raw mode on, no alternate screen): undo what was done.
                ratatui::restore();
                Err(Error::Terminal(e))
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// The transport state as the paced source sees it.
fn replay_state(ctl: &PaceControl) -> ReplayState {
    let speed = ctl.speed();
    ReplayState {
        paused: ctl.paused(),
        speed: SPEEDS
            .iter()
            .position(|s| match (s, speed) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-6,
                (None, None) => true,
                _ => false,
            })
            .unwrap_or(2),
        looping: ctl.looping(),
        at_end: ctl.at_end(),
        file_pos: ctl.file_position(),
        file_len: ctl.file_len(),
    }
}

struct UiLoop<'a> {
    keys: Receiver<UiEvent>,
    running: &'a Running,
    /// False once the pipeline has hung up (the end of a non-looping capture).
    alerts_open: bool,
    /// Ctrl-C from outside (a signal): leave as if `q` was pressed.
    stop: &'a AtomicBool,
    ctl: Option<&'a PaceControl>,
    recording: bool,
    /// Wall time and samples at the last throughput reading.
    /// When the rates were last read, with the samples processed and the stream position.
    meter: (Instant, u64, u64),
}

impl UiLoop<'_> {
    fn run(&mut self, term: &mut DefaultTerminal, app: &mut App, theme: &Theme) -> Result<()> {
        let tick = crossbeam_channel::tick(FRAME_PERIOD);
        loop {
            select! {
                recv(self.keys) -> ev => match ev {
                    Ok(UiEvent::Key(k)) => {
                        if let Some(effect) = keymap::action_for(k, app.help)
                            .and_then(|a| app.update(a))
                        {
                            self.apply(effect, app)?;
                        }
                    }
                    // The next tick redraws at the new size.
                    Ok(UiEvent::Resize) => {}
                    Ok(UiEvent::InputError(e)) => {
                        return Err(Error::Terminal(std::io::Error::other(e)));
                    }
                    Err(_) => return Ok(()),
                },
                recv(tick) -> _ => {
                    self.take_data(app);
                    term.draw(|f| draw(f, app, theme)).map_err(Error::Terminal)?;
                }
            }
            // A failed pipeline: leave at once, so the error is printed on a restored
            // terminal.
            if app.quit || self.stop.load(Relaxed) || self.running.failed() {
                return Ok(());
            }
        }
    }

    fn take_data(&mut self, app: &mut App) {
        if let Some(frames) = self.running.frames() {
            for f in frames.try_iter() {
                app.on_frame(f);
            }
        }
        while self.alerts_open {
            match self.running.events().try_recv() {
                Ok(Event::Alert(a)) => app.on_alert(a),
                Ok(Event::Learned(_)) => {}
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.alerts_open = false,
            }
        }
        let counters = self.running.counters();
        let samples = counters.samples_in.load(Relaxed);
        let pos = counters.stream_pos.load(Relaxed);
        let (t0, n0, p0) = self.meter;
        let dt = t0.elapsed().as_secs_f64();
        let (mut msps, mut stream_msps) = (app.stats.msps, app.stats.stream_msps);
        // Half-second readings: steady digits, still quick to follow a speed change.
        if dt >= 0.5 {
            msps = (samples - n0) as f64 / dt / 1e6;
            stream_msps = pos.saturating_sub(p0) as f64 / dt / 1e6;
            self.meter = (Instant::now(), samples, pos);
        }
        let stats = Stats {
            msps,
            stream_msps,
            dropped: counters.dropped.load(Relaxed),
            stream_pos: pos,
            recording: self.recording,
            ended: !self.alerts_open,
            link: self.running.link().map(|l| LinkState {
                connected: l.connected.load(Relaxed),
                backlog: l.backlog.load(Relaxed),
                lost: l.lost.load(Relaxed),
            }),
        };
        app.on_stats(stats, self.ctl.map(replay_state));
    }

    fn apply(&mut self, effect: Effect, app: &mut App) -> Result<()> {
        let rate = app.info.sample_rate_hz;
        match (effect, self.ctl) {
            (Effect::Quit, _) => {}
            (Effect::Pause(on), Some(c)) => c.set_paused(on),
            (Effect::Speed(s), Some(c)) => c.set_speed(s),
            (Effect::Step, Some(c)) => {
                c.set_paused(true);
                c.step();
            }
            (Effect::Seek(s), Some(c)) => c.seek_by((s * rate) as i64),
            (Effect::Restart, Some(c)) => {
                c.seek_by(-(c.file_len() as i64));
                c.set_paused(false);
            }
            (Effect::Loop(on), Some(c)) => c.set_looping(on),
            (Effect::Acknowledged(a), _) => {
                let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                app.notice = Some(if self.running.acknowledge(&a, &at)? {
                    format!("ack #{} logged", a.id)
                } else {
                    format!("ack #{} (no log: --alerts FILE)", a.id)
                });
            }
            // Transport effects without a paced source (live): nothing to drive.
            (_, None) => {}
        }
        Ok(())
    }
}

/// Smallest screen the layout is drawn on.
const MIN_SIZE: (u16, u16) = (40, 12);

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        buf.set_string(
            area.x,
            area.y,
            format!(
                "kuzet: terminal too small (need {}×{})",
                MIN_SIZE.0, MIN_SIZE.1
            ),
            theme.axis(),
        );
        return;
    }
    let [status, spectrum, waterfall, alerts] = layout(area);
    widgets::status::render(app, theme, status, buf);
    widgets::spectrum::render(app, theme, spectrum, buf);
    widgets::waterfall::render(app, theme, waterfall, buf);
    match app.sweep.as_ref() {
        // A sweep shares the desk's rows with its bands' revisit times and intercept odds.
        Some(_) => {
            let poi_w = (area.width * 2 / 5).clamp(30, 56).min(area.width / 2);
            let (desk, poi) = (
                Rect {
                    width: area.width - poi_w,
                    ..alerts
                },
                Rect {
                    x: alerts.x + area.width - poi_w,
                    width: poi_w,
                    ..alerts
                },
            );
            widgets::alerts::render(&app.desk, theme, desk, buf);
            widgets::sweep::render(app, theme, poi, buf);
            widgets::sweep::mark_step(app, theme, spectrum, buf);
        }
        None => widgets::alerts::render(&app.desk, theme, alerts, buf),
    }
    if app.help {
        widgets::help::render(app, theme, area, buf);
    }
}

/// Status (2 rows), then spectrum and waterfall sharing what the alert desk (30%, 6 to 16
/// rows) leaves, the waterfall a little taller.
fn layout(area: Rect) -> [Rect; 4] {
    let rest = area.height - 2;
    let alerts_h = (rest * 3 / 10).clamp(6, 16);
    let plots = rest - alerts_h;
    let spectrum_h = plots * 45 / 100;
    let row = |y: u16, h: u16| Rect {
        x: area.x,
        y,
        width: area.width,
        height: h,
    };
    [
        row(area.y, 2),
        row(area.y + 2, spectrum_h),
        row(area.y + 2 + spectrum_h, plots - spectrum_h),
        row(area.y + 2 + plots, alerts_h),
    ]
}

#[cfg(test)]
mod tests {
    use super::app::tests::{alert, frame, grid, info, replay};
    use super::app::Action;
    use super::*;
    use crate::alert::Severity;
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;
    use ratatui::style::{Color, Modifier};
    use ratatui::Terminal;

    fn screen(app: &App, w: u16, h: u16) -> Buffer {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| draw(f, app, &Theme::new(true))).unwrap();
        t.backend().buffer().clone()
    }

    fn text(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect()
    }

    fn busy_app() -> App {
        let mut app = App::new(info(), grid(), Some(replay()));
        app.on_alert(alert(1, 433.5e6, Severity::Warning));
        for i in 1..=39 {
            app.on_frame(frame(i * 24_000, 800));
        }
        app.on_alert(alert(2, 434.2e6, Severity::Critical));
        for i in 40..=42 {
            app.on_frame(frame(i * 24_000, 800));
        }
        app
    }

    #[test]
    fn screen_at_80x24_and_160x48_has_axes_alerts_and_status() {
        for (w, h) in [(80, 24), (160, 48)] {
            let buf = screen(&busy_app(), w, h);
            let lines = text(&buf);
            let all = lines.join("\n");
            assert!(lines[0].contains("REPLAY") && lines[0].contains("433.92 MHz"));
            assert!(lines[0].contains("2.4 MS/s") && lines[0].contains("FFT 1024"));
            assert!(lines[1].contains("dropped 0"), "{}", lines[1]);
            assert!(all.contains("\n MHz  "), "frequency axis:\n{all}");
            assert!(all.contains("╵433.0") && all.contains("╵434.0"), "{all}");
            assert!(all.contains("dBFS") && all.contains("-80┤"), "{all}");
            assert!(all.contains("ALERTS") && all.contains("1 critical"));
            // Newest first: the critical alert at 434.2 MHz above the warning.
            let crit = lines.iter().position(|l| l.contains("434.2000")).unwrap();
            let warn = lines.iter().position(|l| l.contains("433.5000")).unwrap();
            assert!(crit < warn);
            assert!(lines[crit].contains("CRIT") && lines[crit].contains("new_emitter"));
            // The selected (newest) row is reversed and in its severity colour.
            let x = lines[crit].find("CRIT").unwrap() as u16;
            let x = lines[crit][..x as usize].chars().count() as u16;
            let cell = &buf[(x, crit as u16)];
            assert!(cell.modifier.contains(Modifier::REVERSED));
            assert_eq!(cell.fg, Color::LightRed);
            let wcell = &buf[(x, warn as u16)];
            assert!(!wcell.modifier.contains(Modifier::REVERSED));
            assert_eq!(wcell.fg, Color::Yellow);
        }
    }

    #[test]
    fn the_alert_desk_counts_evidence_clips() {
        let mut app = busy_app();
        assert!(!text(&screen(&app, 80, 24)).join("\n").contains("evidence"));
        for (id, clip) in [(3, "ev/a.h5"), (4, "ev/a.h5"), (5, "ev/b.h5")] {
            let mut a = alert(id, 433.7e6 + id as f64 * 1e4, Severity::Warning);
            a.evidence = Some(clip.into());
            app.on_alert(a);
        }
        let lines = text(&screen(&app, 80, 24));
        let title = lines.iter().find(|l| l.contains("ALERTS")).unwrap();
        assert!(title.contains("● 2 evidence clips"), "{title}");
    }

    #[test]
    fn spectrum_and_waterfall_share_columns() {
        let app = busy_app();
        let buf = screen(&app, 80, 24);
        let [_, spectrum, waterfall, _] = layout(buf.area);
        // The carrier's column: a full bar in the spectrum, a hot cell in the waterfall.
        let cols = widgets::column_bins(&app.view, &app.grid, 80 - widgets::GUTTER);
        let c = cols
            .iter()
            .position(|&(lo, hi)| (lo..=hi).contains(&800))
            .unwrap() as u16;
        let x = widgets::GUTTER + c;
        let bar = &buf[(x, spectrum.y + spectrum.height - 2)];
        assert_eq!(bar.symbol(), "█");
        assert_eq!(bar.fg, Color::Green);
        let hot = &buf[(x, waterfall.y + 1)];
        let cold = &buf[(x - 5, waterfall.y + 1)];
        assert_eq!(hot.symbol(), "▀");
        assert_ne!(hot.fg, cold.fg);
        assert!(
            matches!(hot.fg, Color::Rgb(r, _, b) if r > b),
            "{:?}",
            hot.fg
        );
        // The critical alert's mark sits on the newest row at 434.2 MHz.
        let mark = widgets::column_of(&app.view, 80 - widgets::GUTTER, 434.2e6).unwrap();
        let m = &buf[(widgets::GUTTER + mark, waterfall.y)];
        assert_eq!(m.symbol(), "◆");
        assert_eq!(m.fg, Color::LightRed);
    }

    #[test]
    fn help_overlay_lists_the_keys() {
        let mut app = busy_app();
        app.update(Action::ToggleHelp);
        for (w, h) in [(80, 24), (160, 48)] {
            let all = text(&screen(&app, w, h)).join("\n");
            assert!(all.contains("Keys"), "{all}");
            assert!(all.contains("acknowledge the selected alert"));
            assert!(all.contains("seek −10 s / +10 s"), "{all}");
        }
        // Live: no replay keys.
        let mut live = App::new(
            super::app::SourceInfo {
                live: true,
                ..info()
            },
            grid(),
            None,
        );
        live.update(Action::ToggleHelp);
        let all = text(&screen(&live, 80, 24)).join("\n");
        assert!(all.contains("LIVE") && all.contains("quit") && !all.contains("seek"));
    }

    #[test]
    fn status_shows_recording_drops_and_transport() {
        let mut app = busy_app();
        app.on_stats(
            Stats {
                msps: 4.8,
                stream_msps: 4.8,
                dropped: 1200,
                stream_pos: 24_000_000,
                recording: true,
                ended: false,
                link: Some(LinkState {
                    connected: false,
                    backlog: 1234,
                    lost: 0,
                }),
            },
            Some(ReplayState {
                paused: true,
                file_pos: 6_000_000,
                ..replay()
            }),
        );
        let buf = screen(&app, 160, 48);
        let line = text(&buf)[1].clone();
        assert!(line.contains("⏸ paused 1×"), "{line}");
        assert!(line.contains("4.8 MS/s (200% RT)") && line.contains("dropped 1200"));
        assert!(
            line.contains("t 00:10.0") && line.contains("(50%)"),
            "{line}"
        );
        let x = line.chars().position(|c| c == '●').unwrap() as u16;
        assert_eq!(buf[(x, 1)].fg, Color::LightRed);
        assert!(line.contains("MQTT ○ backlog 1,234"), "{line}");
        let x = line.chars().position(|c| c == '○').unwrap() as u16;
        assert_eq!(buf[(x, 1)].fg, Color::LightRed);
        app.stats.link = Some(LinkState {
            connected: true,
            backlog: 0,
            lost: 3,
        });
        let buf = screen(&app, 160, 48);
        let line = text(&buf)[1].clone();
        assert!(
            line.contains("MQTT ● connected") && line.contains("3 lost"),
            "{line}"
        );
    }

    #[test]
    fn tiny_terminal_says_so() {
        let all = text(&screen(&busy_app(), 30, 10)).join("\n");
        assert!(all.contains("too small"));
    }
}
