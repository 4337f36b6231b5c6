//! The operator console: spectrum, waterfall and alert desk in the terminal (ratatui).
//!
//! ```text
//! ┌ status (2 rows): source, frequency, rate, gain, FFT/RBW · transport, MS/s, drops, time ┐
//! │  dBFS │ ▼known  spectrum: trace bars, max/min-hold, threshold ╌, floor ─, markers 1 2 │
//! │   MHz ╵433.0      ╵433.5      ╵434.0                                                   │
//! │  band │├UHF land mobile─┤├LPD433──────────┤   band strip (g), coloured by priority     │
//! │  time │ waterfall: ▀ two spectra per cell, newest on top, ◆ where an alert was raised   │
//! │       │   or occupancy (o): share of time above the threshold per column              │
//! │ ALERTS  n critical  n warning  n info │ n new │ n suppressed                           │
//! │ SEV TIME KIND BAND FREQ MHz BW dBFS SNR STATE   (newest first, selected reversed)      │
//! │   or the peak table (t) or the suppressions list (u)                                  │
//! └ a note or the suppression menu on the last row ─── `?` overlays the key list ──────────┘
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
pub mod bell;
pub mod desk;
pub mod event;
pub mod hook;
pub mod hq;
pub mod keymap;
pub mod measure;
pub mod occupancy;
pub mod suppress;
pub mod theme;
pub mod widgets;

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, Receiver, TryRecvError};
use ratatui::layout::Rect;
use ratatui::{DefaultTerminal, Frame};

use crate::alert::Alert;
use crate::detect::bandplan::Band;
use crate::dsp::FreqGrid;
use crate::error::{Error, Result};
use crate::pipeline::{Event, RunStats, Running};
use crate::sinks::alert_log::OperatorAction;
use crate::sinks::session_log::Verdict;
use crate::source::paced::PaceControl;
use crate::types::KnownEntry;

use app::{App, Effect, LinkState, Lower, ReplayState, SourceInfo, Stats, SPEEDS};
use event::UiEvent;
use hook::{CommandHook, Started};
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

/// What the console knows beyond the stream, for the operator's tools.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// The band plan's bands, drawn along the frequency axis.
    pub bands: Vec<Band>,
    /// Known emitters at start (`--known`), marked on the spectrum.
    pub known: Vec<KnownEntry>,
    /// `--on-critical`: a shell command run with each critical alert the bell rings for.
    pub on_critical: Option<String>,
    /// A training exercise: acknowledging asks the trainee's verdict, then a note, and
    /// both go to the session log ([`Running::acknowledge_verdict`]).
    pub verdicts: bool,
}

/// Runs the console on a started pipeline (started with [`FRAME_PERIOD`] as its display
/// period) until the operator quits, `stop` is set or the pipeline fails; then stops the
/// pipeline and returns its summary.
///
/// # Errors
/// The terminal could not be set up or drawn on, an acknowledgement could not be logged,
/// or a pipeline stage failed.
pub fn run(running: Running, console: Console, stop: &AtomicBool) -> Result<RunStats> {
    run_with(running, console, Setup::default(), stop)
}

/// [`run`] with bands, known emitters and a command for critical alerts.
///
/// # Errors
/// As [`run`].
pub fn run_with(
    running: Running,
    console: Console,
    setup: Setup,
    stop: &AtomicBool,
) -> Result<RunStats> {
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
    let mut app = App::new(info, grid, replay.as_deref().map(replay_state))
        .with_prior(setup.bands, setup.known);
    if setup.verdicts {
        app = app.with_verdicts();
    }
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
            hook: setup.on_critical.map(CommandHook::new),
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
    /// `--on-critical`.
    hook: Option<CommandHook>,
}

impl UiLoop<'_> {
    fn run(&mut self, term: &mut DefaultTerminal, app: &mut App, theme: &Theme) -> Result<()> {
        let tick = crossbeam_channel::tick(FRAME_PERIOD);
        loop {
            select! {
                recv(self.keys) -> ev => match ev {
                    Ok(UiEvent::Key(k)) => {
                        if let Some(effect) = keymap::action_in(k, app.input_mode())
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
                    if let Some(h) = self.hook.as_mut() {
                        h.reap();
                    }
                    if let Some(effect) = app.on_tick(chrono::Utc::now()) {
                        self.apply(effect, app)?;
                    }
                    let cols = term.size().map_err(Error::Terminal)?.width;
                    app.plot_cols = cols.saturating_sub(widgets::GUTTER).max(1);
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
            (Effect::AcknowledgedWithNote(a, note), _) => {
                let action = OperatorAction::Acknowledged { note: Some(&note) };
                let logged = self.running.log_action(&a, &action, &utc_now())?;
                app.notice = Some(logged_or_not(format!("ack #{} with note", a.id), logged));
            }
            (Effect::Verdict(a, verdict, note), _) => {
                let logged =
                    self.running
                        .acknowledge_verdict(&a, verdict, note.as_deref(), &utc_now())?;
                app.notice = Some(logged_or_not(
                    format!(
                        "#{} {}{}",
                        a.id,
                        verdict.as_str(),
                        if note.is_some() { " with note" } else { "" }
                    ),
                    logged,
                ));
            }
            (Effect::MarkedKnown(a, entry), _) => {
                let m = self.running.mark_known(&a, &entry, &utc_now())?;
                // In an exercise every acknowledgement carries a verdict, and marking an
                // emitter known is the trainee's call that it is benign.
                if app.verdicts {
                    self.running.acknowledge_verdict(
                        &a,
                        Verdict::Benign,
                        entry.note.as_deref(),
                        &utc_now(),
                    )?;
                }
                // The file's name only: the operator gave the path, and a notice must fit
                // an 80-column status line.
                let saved = match &m.saved {
                    Some(Ok(p)) => format!(
                        "saved to {}",
                        crate::units::one_line(
                            &p.file_name().unwrap_or(p.as_os_str()).to_string_lossy()
                        )
                    ),
                    Some(Err(e)) => {
                        format!("NOT saved: {}", crate::units::one_line(&e.to_string()))
                    }
                    None => "for this run only (no --known)".into(),
                };
                app.notice = Some(format!(
                    "#{} {:.4} MHz known{}, {saved}",
                    a.id,
                    a.freq_hz / 1e6,
                    if m.detector {
                        ""
                    } else {
                        " on the display only"
                    }
                ));
            }
            (Effect::Suppressed(s), _) => {
                let until = s.until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let since = s.since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let action = OperatorAction::Suppressed {
                    scope: s.scope.log_name(),
                    until_utc: &until,
                };
                let logged = self.running.log_action(&s.alert, &action, &since)?;
                // How long rather than until when: the list (`u`) has the end time, and
                // this must fit an 80-column status line.
                app.notice = Some(logged_or_not(
                    format!(
                        "suppressed {} for {}",
                        s.scope.describe(),
                        s.duration_label()
                    ),
                    logged,
                ));
            }
            (Effect::Lifted(s), _) => {
                let logged =
                    self.running
                        .log_action(&s.alert, &OperatorAction::Lifted, &utc_now())?;
                app.notice = Some(logged_or_not(
                    format!("lifted: {}", s.scope.describe()),
                    logged,
                ));
            }
            (Effect::Ring(a), _) => self.ring(&a, app),
            // Transport effects without a paced source (live): nothing to drive.
            (_, None) => {}
        }
        Ok(())
    }
}

/// The wall clock as the alert log writes it.
fn utc_now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A notice that says whether the action reached the alert log.
fn logged_or_not(what: String, logged: bool) -> String {
    if logged {
        format!("{what} (logged)")
    } else {
        format!("{what} (no log: --alerts FILE)")
    }
}

impl UiLoop<'_> {
    /// The bell for a critical alert: the terminal's bell character (the terminal, or
    /// tmux, turns it into a sound or a flash), and `--on-critical` with the alert.
    fn ring(&mut self, a: &Alert, app: &mut App) {
        use std::io::Write;
        let mut out = std::io::stdout();
        // The terminal is ours and shows the console; a bell it cannot take is no reason
        // to stop watching.
        let _ = out.write_all(b"\x07").and_then(|()| out.flush());
        // The state has said what rang; the hook's fate is added to it.
        let mut notice = app.notice.take().unwrap_or_default();
        if let Some(h) = self.hook.as_mut() {
            let ran = serde_json::to_vec(a)
                .map_err(std::io::Error::other)
                .and_then(|line| h.run(&line));
            match ran {
                Ok(Started::Yes) => {}
                Ok(Started::Busy) => notice.push_str(" · --on-critical still busy, not run"),
                Err(e) => notice.push_str(&format!(
                    " · --on-critical failed: {}",
                    crate::units::one_line(&e.to_string())
                )),
            }
        }
        app.notice = Some(notice);
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
    let [status, spectrum, mut waterfall, lower] = layout(area);
    widgets::status::render(app, theme, status, buf);
    widgets::spectrum::render(app, theme, spectrum, buf);
    // The band strip takes the waterfall's top row, right under the frequency axis.
    if app.show_bands && waterfall.height > 3 && widgets::bands::any_in_view(app) {
        let strip = Rect {
            height: 1,
            ..waterfall
        };
        widgets::bands::render(app, theme, strip, buf);
        waterfall.y += 1;
        waterfall.height -= 1;
    }
    if app.show_occupancy {
        widgets::occupancy::render(app, theme, waterfall, buf);
    } else {
        widgets::waterfall::render(app, theme, waterfall, buf);
    }
    if app.sweep.is_some() {
        widgets::sweep::mark_step(app, theme, spectrum, buf);
    }
    match (app.lower, app.sweep.as_ref()) {
        // A sweep shares the desk's rows with its bands' revisit times and intercept odds.
        (Lower::Alerts, Some(_)) => {
            let poi_w = (area.width * 2 / 5).clamp(30, 56).min(area.width / 2);
            let (desk, poi) = (
                Rect {
                    width: area.width - poi_w,
                    ..lower
                },
                Rect {
                    x: lower.x + area.width - poi_w,
                    width: poi_w,
                    ..lower
                },
            );
            widgets::alerts::render(&app.desk, theme, desk, buf);
            widgets::sweep::render(app, theme, poi, buf);
        }
        (Lower::Alerts, None) => widgets::alerts::render(&app.desk, theme, lower, buf),
        (Lower::Peaks, _) => widgets::peaks::render(app, theme, lower, buf),
        (Lower::Suppressions, _) => widgets::suppressions::render(app, theme, lower, buf),
    }
    widgets::prompt::render(app, theme, area, buf);
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
        // With a suppression as well (hiding alerts 5 and 4, 10 kHz apart: one emitter),
        // the total and then the long severity names give way at 80 columns.
        app.update(Action::Suppress(super::suppress::ScopeKind::Emitter));
        app.update(Action::SuppressFor(0));
        let lines = text(&screen(&app, 80, 24));
        let title = lines.iter().find(|l| l.contains("ALERTS")).unwrap();
        assert!(
            title.contains(" 1 crit  2 warn  0 info  │ 3 new │ 1 suppressed │ ● 2 evidence clips"),
            "{title}"
        );
        let wide = text(&screen(&app, 160, 48));
        let title = wide.iter().find(|l| l.contains("ALERTS")).unwrap();
        assert!(
            title.contains(" 1 critical  2 warning  0 info  │ 3 new, 5 total │ 1 suppressed"),
            "{title}"
        );
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
            assert!(all.contains("acknowledge the alert"));
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

    /// `busy_app` with the default border plan's bands and one known emitter at the
    /// carrier (bin 800).
    fn operator_app() -> App {
        let plan = crate::detect::bandplan::BandPlan::default_border();
        let known = crate::types::KnownEntry {
            freq_hz: grid().freq_of(800.0),
            bandwidth_hz: 10e3,
            label: Some("gate remote".into()),
            note: None,
            power_dbfs: None,
            always_on: false,
        };
        let mut app = busy_app().with_prior(plan.bands, vec![known]);
        app.plot_cols = 80 - widgets::GUTTER;
        app
    }

    fn row_with<'a>(lines: &'a [String], what: &str) -> (usize, &'a String) {
        lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.contains(what))
            .unwrap_or_else(|| panic!("no `{what}` on screen:\n{}", lines.join("\n")))
    }

    #[test]
    fn the_band_strip_sits_under_the_frequency_axis_at_80x24() {
        let mut app = operator_app();
        let buf = screen(&app, 80, 24);
        let lines = text(&buf);
        let axis = lines.iter().position(|l| l.starts_with(" MHz ")).unwrap();
        let (strip, line) = row_with(&lines, "  band│");
        assert_eq!(strip, axis + 1, "right under the axis");
        assert!(line.contains("├LPD433") && line.contains("UHF"), "{line}");
        let x = line.chars().position(|c| c == 'L').unwrap() as u16;
        assert_eq!(
            buf[(x, strip as u16)].fg,
            Color::Yellow,
            "LPD433 is a warning band"
        );
        // The waterfall gave up the row; the desk is where it was.
        let (alerts, _) = row_with(&lines, "ALERTS");
        assert_eq!(alerts, layout(buf.area)[3].y as usize);
        // `b` hides it.
        app.update(Action::ToggleBands);
        assert!(!text(&screen(&app, 80, 24)).join("\n").contains("  band│"));
    }

    #[test]
    fn known_emitters_are_labelled_marks_on_the_spectrum() {
        let app = operator_app();
        let buf = screen(&app, 80, 24);
        let [_, spectrum, _, _] = layout(buf.area);
        let top: String = (0..80).map(|x| buf[(x, spectrum.y)].symbol()).collect();
        let c = widgets::column_of(&app.view, 80 - widgets::GUTTER, grid().freq_of(800.0));
        let x = widgets::GUTTER + c.unwrap();
        assert_eq!(buf[(x, spectrum.y)].symbol(), "▼", "{top}");
        assert_eq!(buf[(x, spectrum.y)].fg, Color::LightGreen);
        assert!(top.contains("▼gate remote"), "{top}");
    }

    #[test]
    fn markers_read_frequency_level_and_difference_at_80x24() {
        let mut app = operator_app();
        app.update(Action::ToggleMarker(0));
        let lines = text(&screen(&app, 80, 24));
        let f = grid().freq_of(800.0) / 1e6;
        let (_, top) = row_with(&lines, " M1 ");
        assert!(top.contains(&format!("M1 {f:.5} MHz -30.0 dBFS")), "{top}");
        // The delta marker, moved two columns left onto the noise.
        app.update(Action::ToggleMarker(1));
        app.update(Action::PanLeft);
        app.update(Action::PanLeft);
        let buf = screen(&app, 80, 24);
        let lines = text(&buf);
        let (y, top) = row_with(&lines, " M1 ");
        let df = (grid().freq_of(app.markers.bins[1].unwrap() as f64) - f * 1e6) / 1e3;
        assert!(top.contains(&format!("Δ {df:+.2} kHz -50.0 dB")), "{top}");
        assert!(top.ends_with(' '), "inside the screen: {top}");
        let x = top.chars().position(|c| c == 'M').unwrap() as u16;
        assert_eq!(buf[(x, y as u16)].bg, Color::LightYellow);
        // The digits sit over the trace in their columns, in the marker colours.
        let [_, spectrum, _, _] = layout(buf.area);
        for (i, digit) in ["1", "2"].into_iter().enumerate() {
            let f = grid().freq_of(app.markers.bins[i].unwrap() as f64);
            let x = widgets::GUTTER + widgets::column_of(&app.view, 73, f).unwrap();
            let on = (spectrum.y..spectrum.bottom()).find(|&y| buf[(x, y)].symbol() == digit);
            let y = on.unwrap_or_else(|| panic!("marker {digit}:\n{}", lines.join("\n")));
            assert_eq!(buf[(x, y)].bg, Color::LightYellow);
        }
    }

    #[test]
    fn the_peak_table_replaces_the_desk_at_80x24() {
        let mut app = operator_app();
        app.update(Action::TogglePeaks);
        let lines = text(&screen(&app, 80, 24));
        let (title, _) = row_with(&lines, "PEAKS");
        assert!(!lines.join("\n").contains("ALERTS"));
        let first = &lines[title + 2];
        let f = format!("{:.4}", grid().freq_of(800.0) / 1e6);
        assert!(first.starts_with("1 ") && first.contains(&f), "{first}");
        assert!(
            first.contains("LPD433") && first.contains("gate remote"),
            "{first}"
        );
    }

    #[test]
    fn occupancy_replaces_the_waterfall_at_80x24() {
        let mut app = operator_app();
        app.update(Action::ToggleOccupancy);
        let buf = screen(&app, 80, 24);
        let lines = text(&buf);
        let (y, _) = row_with(&lines, " occ %│");
        assert!(lines[y].contains("above the detection threshold"));
        assert!(lines.iter().any(|l| l.starts_with("   100┤")));
        // The carrier was on in every frame: a full bar in its column, to the desk.
        let c = widgets::column_of(&app.view, 80 - widgets::GUTTER, grid().freq_of(800.0));
        let x = widgets::GUTTER + c.unwrap();
        let (alerts, _) = row_with(&lines, "ALERTS");
        assert_eq!(buf[(x, (alerts - 1) as u16)].symbol(), "█");
        assert_eq!(buf[(x, (y + 1) as u16)].symbol(), "█");
        assert!(!lines.iter().any(|l| l.contains('▀')), "no waterfall");
    }

    #[test]
    fn a_suppression_hides_the_alert_and_is_listed_at_80x24() {
        let mut app = operator_app();
        app.on_tick(super::app::tests::at(0));
        // The critical alert at 434.2 MHz is the newest and selected.
        app.update(Action::Suppress(super::suppress::ScopeKind::Emitter));
        let lines = text(&screen(&app, 80, 24));
        let last = lines.last().unwrap();
        assert_eq!(
            last.trim_end(),
            " suppress new_emitter at 434.2000 MHz for  1 15 min  2 1 h  3 8 h  (Esc cancels)"
        );
        // By kind in a band with a long name: the name gives way, the keys stay.
        let mut long = app.clone();
        let mut a = alert(3, 434.3e6, Severity::Warning);
        a.band = Some("UHF land mobile, customs and border police channels".into());
        long.on_alert(a);
        long.update(Action::SelectNewest);
        long.update(Action::Suppress(super::suppress::ScopeKind::KindInBand));
        let lines = text(&screen(&long, 80, 24));
        let last = lines.last().unwrap();
        assert_eq!(
            last.trim_end(),
            " suppress new_emitter in UHF land mo… for  1 15 min  2 1 h  3 8 h  (Esc cancels)"
        );
        app.update(Action::SuppressFor(2));
        let lines = text(&screen(&app, 80, 24));
        let all = lines.join("\n");
        assert!(
            !all.contains("434.2000") && all.contains("433.5000"),
            "{all}"
        );
        let (_, title) = row_with(&lines, "ALERTS");
        assert!(
            title.contains("0 critical") && title.contains("1 suppressed"),
            "{title}"
        );
        app.update(Action::ToggleSuppressions);
        let lines = text(&screen(&app, 80, 24));
        let (t, _) = row_with(&lines, "SUPPRESSED");
        let row = &lines[t + 2];
        assert!(row.starts_with("▶new_emitter at 434.2000 MHz"), "{row}");
        assert!(
            row.contains("8:00:00") && row.trim_end().ends_with('1'),
            "{row}"
        );
    }

    #[test]
    fn the_note_line_shows_what_is_typed() {
        let mut app = operator_app();
        app.update(Action::SelectOlder);
        app.update(Action::MarkKnown);
        for c in "our mast".chars() {
            app.update(Action::Type(c));
        }
        let lines = text(&screen(&app, 80, 24));
        let last = lines.last().unwrap();
        assert!(
            last.starts_with(" known #1 433.5000 MHz, note (Enter saves, Esc cancels): our mast▏"),
            "{last}"
        );
    }

    #[test]
    fn the_verdict_prompt_then_its_note_line_at_80x24() {
        let mut app = operator_app().with_verdicts();
        app.update(Action::SelectOlder);
        app.update(Action::Acknowledge);
        let lines = text(&screen(&app, 80, 24));
        let last = lines.last().unwrap();
        assert!(
            last.starts_with(
                " verdict on #1 new_emitter 433.5000 MHz:  t threat  b benign  u unsure  (Esc"
            ),
            "{last}"
        );
        app.update(Action::Verdict(crate::sinks::session_log::Verdict::Benign));
        for c in "gate".chars() {
            app.update(Action::Type(c));
        }
        let lines = text(&screen(&app, 80, 24));
        let last = lines.last().unwrap();
        assert!(
            last.starts_with(" benign #1 433.5000 MHz, note (Enter saves, Esc cancels): gate▏"),
            "{last}"
        );
    }

    #[test]
    fn min_hold_is_drawn_through_the_bars() {
        let mut app = operator_app();
        app.update(Action::ToggleMinHold);
        // Noise dipping 6 dB under the floor: the min-hold sits a row below it.
        for i in 43..=45 {
            let mut f = frame(i * 24_000, 800);
            for v in f.power_db.iter_mut().filter(|v| **v == -80.0) {
                *v = -86.0;
            }
            app.on_frame(f);
        }
        let buf = screen(&app, 160, 48);
        let [_, spectrum, _, _] = layout(buf.area);
        let cells = || {
            (spectrum.y..spectrum.bottom())
                .flat_map(|y| (widgets::GUTTER..160).map(move |x| (x, y)))
                .filter(|&p| buf[p].symbol() == "∙")
        };
        let dots = cells().count();
        assert!(dots > 140, "a dotted line across the plot: {dots}");
        let p = cells().next().unwrap();
        assert_eq!(buf[p].fg, Color::LightCyan);
        // Under the floor (where the max-hold of the earlier frames lies), through the
        // bars.
        let floor_y = (spectrum.y..spectrum.bottom())
            .find(|&y| matches!(buf[(widgets::GUTTER + 1, y)].symbol(), "─" | "·"))
            .unwrap();
        assert!(p.1 > floor_y, "{p:?} {floor_y}");
    }

    #[test]
    fn help_at_80x24_lists_every_key() {
        let mut app = operator_app();
        app.update(Action::ToggleHelp);
        let all = text(&screen(&app, 80, 24)).join("\n");
        for b in keymap::BINDINGS {
            assert!(
                all.contains(b.what),
                "`{}` missing at 80×24:\n{all}",
                b.what
            );
        }
    }

    #[test]
    fn a_notice_fits_the_status_line_at_80x24() {
        let mut app = busy_app();
        app.info.origin = "/srv/captures/north-post/2026-12-02/night-shift-433.h5".into();
        let lines = text(&screen(&app, 80, 24));
        // The name (keeping its end) and the RBW give way to the help hint.
        assert!(
            lines[0].contains(" …-shift-433.h5 │ 433.92 MHz")
                && lines[0].trim_end().ends_with("FFT 1024   ? help"),
            "{}",
            lines[0]
        );
        assert!(lines[1].contains("file 00:"), "{}", lines[1]);
        let said = "suppressed new_emitter at 434.2000 MHz for 1 h (logged)";
        app.notice = Some(said.into());
        let lines = text(&screen(&app, 80, 24));
        // The notice in full; the file position, the throughput and the (zero) drop count
        // made room for it; transport and stream time stay.
        assert!(lines[1].contains(said), "{}", lines[1]);
        assert!(
            lines[1].starts_with(" ▶ 1× │ t 00:00.0 │ suppressed"),
            "{}",
            lines[1]
        );
        // Drops are news: they stay.
        app.on_stats(
            Stats {
                dropped: 7,
                ..app.stats
            },
            None,
        );
        let lines = text(&screen(&app, 80, 24));
        assert!(
            lines[1].contains("dropped 7 │ t 00:00.0 │ suppressed"),
            "{}",
            lines[1]
        );
        // One too long for any screen is cut, never wrapped onto the spectrum.
        app.notice = Some(format!("NOT saved: {}", "x".repeat(200)));
        let lines = text(&screen(&app, 80, 24));
        assert!(lines[1].trim_end().ends_with("x…"), "{}", lines[1]);
        assert!(!lines[2].contains('x'), "{}", lines[2]);
        // Wide enough, nothing gives way.
        app.notice = Some(said.into());
        let lines = text(&screen(&app, 160, 48));
        assert!(lines[1].contains(said), "{}", lines[1]);
        assert!(lines[1].contains("file 00:") && lines[1].contains("MS/s"));
    }

    #[test]
    fn the_bell_says_what_rang_until_the_next_key() {
        let mut app = busy_app();
        // Alert 2 (434.2 MHz) is critical.
        let rang = app.on_tick(super::app::tests::at(0));
        assert!(
            matches!(&rang, Some(Effect::Ring(a)) if a.id == 2),
            "{rang:?}"
        );
        let buf = screen(&app, 80, 24);
        let lines = text(&buf);
        assert!(
            lines[1].contains("BELL critical #2 new_emitter 434.2000 MHz"),
            "{}",
            lines[1]
        );
        let x = lines[1].chars().position(|c| c == 'B').unwrap() as u16;
        assert_eq!(buf[(x, 1)].fg, Color::Cyan);
        app.update(Action::SelectOlder);
        assert!(!text(&screen(&app, 80, 24))[1].contains("BELL"));
    }

    #[test]
    fn an_emitter_marked_known_is_known_on_the_desk_and_marked_on_the_spectrum() {
        let mut app = busy_app();
        app.plot_cols = 80 - widgets::GUTTER;
        let before = text(&screen(&app, 80, 24));
        let (_, title) = row_with(&before, "ALERTS");
        assert!(title.contains("2 new"), "{title}");
        // The warning at 433.5 MHz: K, a note, Enter.
        app.update(Action::SelectOlder);
        app.update(Action::MarkKnown);
        for c in "our mast".chars() {
            app.update(Action::Type(c));
        }
        assert!(matches!(
            app.update(Action::Submit),
            Some(Effect::MarkedKnown(..))
        ));
        let buf = screen(&app, 80, 24);
        let lines = text(&buf);
        let (_, row) = row_with(&lines, "433.5000");
        assert!(row.trim_end().ends_with("known"), "{row}");
        let (_, title) = row_with(&lines, "ALERTS");
        assert!(title.contains("1 new"), "{title}");
        // Its mark, labelled with the note (a mark made here has no label).
        let [_, spectrum, _, _] = layout(buf.area);
        let c = widgets::column_of(&app.view, 80 - widgets::GUTTER, 433.5e6).unwrap();
        let x = widgets::GUTTER + c;
        assert_eq!(buf[(x, spectrum.y)].symbol(), "▼");
        let top: String = (0..80).map(|x| buf[(x, spectrum.y)].symbol()).collect();
        assert!(top.contains("▼our mast"), "{top}");
    }

    #[test]
    fn acknowledging_with_a_note_shows_the_note_line_then_ack() {
        let mut app = busy_app();
        app.update(Action::AcknowledgeWithNote);
        for c in "van at gate".chars() {
            app.update(Action::Type(c));
        }
        let lines = text(&screen(&app, 80, 24));
        let last = lines.last().unwrap();
        assert!(
            last.starts_with(" ack #2 434.2000 MHz, note (Enter saves, Esc cancels): van at gate▏"),
            "{last}"
        );
        let e = app.update(Action::Submit);
        assert!(
            matches!(&e, Some(Effect::AcknowledgedWithNote(a, n)) if a.id == 2 && n == "van at gate"),
            "{e:?}"
        );
        let lines = text(&screen(&app, 80, 24));
        let (_, row) = row_with(&lines, "434.2000");
        assert!(row.trim_end().ends_with("ack"), "{row}");
        assert!(
            !lines.last().unwrap().contains("note ("),
            "the prompt closed"
        );
    }

    #[test]
    fn tiny_terminal_says_so() {
        let all = text(&screen(&busy_app(), 30, 10)).join("\n");
        assert!(all.contains("too small"));
    }
}
