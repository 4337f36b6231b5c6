//! HQ's console (`kuzet hq`): every post's alerts on one desk — the console's own alert
//! desk widget, with a POST column — under a panel with one row per post (online or
//! offline, last heard, backlog, what it watches).
//!
//! ```text
//! ┌ HQ mqtt://hq:1883 │ MQTT ● connected │ 3 posts, 2 online │ 1,234 alerts   q quit ┐
//! │ POSTS  ● p1 online 2 s ago │ backlog 0 │ 2.4 MS/s │ 433.920 MHz … captures/a.h5  │
//! │        ○ p2 offline 5 m ago │ backlog 12 …                                        │
//! │ ALERTS  n critical  n warning  n info │ n new                                     │
//! │ POST SEV TIME KIND BAND FREQ MHz BW dBFS SNR STATE                                │
//! └────────────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! [`HqApp`] is pure state like [`super::app::App`]: events from the HQ thread and keys go
//! in, the loop here draws it on a tick.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use crossbeam_channel::{bounded, select, Receiver};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::app::{Action, Effect};
use super::desk::Desk;
use super::event::{self, UiEvent};
use super::theme::Theme;
use super::{keymap, widgets, StopOnDrop, TerminalGuard, FRAME_PERIOD};
use crate::error::{Error, Result};
use crate::pipeline::hq::{HqEvent, HqRunning, HqSummary};
use crate::sinks::federation::{AlertMessage, Health, Status};

/// Alerts kept on HQ's desk; beyond this the oldest cleared ones go first.
const DESK_MAX: usize = 2000;

/// One post as HQ knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PostView {
    /// Its id.
    pub post: Arc<str>,
    /// Its last status (retained at the broker, so known from the first connection).
    pub status: Option<Status>,
    /// Its last health report.
    pub health: Option<Health>,
    /// When HQ last heard from it (any message).
    pub last_heard: Option<Instant>,
    /// Alert lines received from it.
    pub alerts: u64,
}

impl PostView {
    /// Online as its status says (the broker's will turns it offline).
    pub fn online(&self) -> bool {
        self.status.as_ref().is_some_and(Status::is_online)
    }
}

/// HQ's console state.
#[derive(Debug, Clone)]
pub struct HqApp {
    /// The broker, for the status line.
    pub broker: String,
    /// HQ's link to the broker.
    pub connected: bool,
    /// Every post heard from, by id.
    pub posts: Vec<PostView>,
    /// The alert desk: the console's own, its entries carrying their post.
    pub desk: Desk,
    /// New alert lines received.
    pub received: u64,
    /// The clock the last-heard times are shown against.
    pub now: Instant,
    /// A one-line notice.
    pub notice: Option<String>,
    /// The operator asked to leave.
    pub quit: bool,
}

impl HqApp {
    /// An empty HQ console for `broker`, at `now`.
    pub fn new(broker: String, now: Instant) -> Self {
        HqApp {
            broker,
            connected: false,
            posts: Vec::new(),
            desk: Desk::new(DESK_MAX),
            received: 0,
            now,
            notice: None,
            quit: false,
        }
    }

    /// Applies an operator action (quit, selection, acknowledgement at HQ).
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        match action {
            Action::Quit => {
                self.quit = true;
                return Some(Effect::Quit);
            }
            Action::SelectNewer => self.desk.select_newer(),
            Action::SelectOlder => self.desk.select_older(),
            Action::SelectNewest => self.desk.select_newest(),
            Action::Acknowledge => {
                if let Some(e) = self.desk.acknowledge_selected() {
                    // HQ has no alert log of its own: the mark is for this desk.
                    self.notice = Some(format!(
                        "#{} of {} marked seen at HQ",
                        e.alert.id,
                        e.post.as_deref().unwrap_or("-")
                    ));
                }
            }
            // Spectrum, zoom and transport keys mean nothing without a spectrum.
            _ => {}
        }
        None
    }

    /// Takes what the HQ thread heard at `now`.
    pub fn on_event(&mut self, ev: HqEvent, now: Instant) {
        self.now = now;
        match ev {
            HqEvent::Link(up) => self.connected = up,
            HqEvent::Status(s) => {
                let p = self.post(&s.post, now);
                p.status = Some(s);
            }
            HqEvent::Health(h) => {
                let p = self.post(&h.post, now);
                p.health = Some(h);
            }
            HqEvent::Alert(m) => self.on_alert(m, now),
        }
    }

    /// The clock moves on (for the last-heard column).
    pub fn on_tick(&mut self, now: Instant) {
        self.now = now;
    }

    fn post(&mut self, id: &str, now: Instant) -> &mut PostView {
        let i = match self.posts.binary_search_by(|p| (*p.post).cmp(id)) {
            Ok(i) => i,
            Err(i) => {
                self.posts.insert(
                    i,
                    PostView {
                        post: id.into(),
                        status: None,
                        health: None,
                        last_heard: None,
                        alerts: 0,
                    },
                );
                i
            }
        };
        let p = &mut self.posts[i];
        p.last_heard = Some(now);
        p
    }

    /// The line goes on the desk under its post (see [`Desk::take`]: a restarted post
    /// numbers its alerts from 1 again, so a `raised` line always starts an entry).
    fn on_alert(&mut self, m: AlertMessage, now: Instant) {
        self.received += 1;
        let post: Arc<str> = {
            let p = self.post(&m.post, now);
            p.alerts += 1;
            p.post.clone()
        };
        // A suppression or a known mark at the post repeats the alert's figures with its
        // state (often `raised`): on the desk it would be a second entry for one alert.
        if m.operator_only() {
            return;
        }
        self.desk.take(m.alert, Some(post), m.acknowledged);
    }

    /// Posts whose status says online.
    pub fn online(&self) -> usize {
        self.posts.iter().filter(|p| p.online()).count()
    }
}

/// Runs HQ's console until the operator quits or `stop` is set; then stops HQ.
///
/// # Errors
/// The terminal; HQ's thread failing.
pub fn run(running: HqRunning, broker: String, stop: &AtomicBool) -> Result<HqSummary> {
    let mut app = HqApp::new(broker, Instant::now());
    let theme = Theme::detect();
    let mut term = match TerminalGuard::new() {
        Ok(t) => t,
        Err(e) => {
            stop.store(true, Relaxed);
            let _ = running.finish();
            return Err(e);
        }
    };
    let (key_tx, key_rx) = bounded::<UiEvent>(64);
    let input_stop = AtomicBool::new(false);
    let looped = thread::scope(|scope| {
        let _stop_all = StopOnDrop([stop, &input_stop]);
        thread::Builder::new()
            .name("input".into())
            .spawn_scoped(scope, {
                let input_stop = &input_stop;
                move || event::read_input(&key_tx, input_stop)
            })
            .map_err(|_| Error::StagePanicked("spawn"))?;
        ui_loop(&running, &key_rx, &mut term, &mut app, &theme, stop)
    });
    stop.store(true, Relaxed);
    drop(term);
    let summary = running.finish();
    looped?;
    summary
}

fn ui_loop(
    running: &HqRunning,
    keys: &Receiver<UiEvent>,
    term: &mut TerminalGuard,
    app: &mut HqApp,
    theme: &Theme,
    stop: &AtomicBool,
) -> Result<()> {
    let tick = crossbeam_channel::tick(FRAME_PERIOD);
    loop {
        select! {
            recv(keys) -> ev => match ev {
                Ok(UiEvent::Key(k)) => {
                    if let Some(a) = keymap::action_for(k, false) {
                        app.update(a);
                    }
                }
                Ok(UiEvent::Resize) => {}
                Ok(UiEvent::InputError(e)) => {
                    return Err(Error::Terminal(std::io::Error::other(e)));
                }
                Err(_) => return Ok(()),
            },
            recv(tick) -> _ => {
                let now = Instant::now();
                if let Some(events) = running.events() {
                    while let Ok(ev) = events.try_recv() {
                        app.on_event(ev, now);
                    }
                }
                app.on_tick(now);
                term.0.draw(|f| draw(f, app, theme)).map_err(Error::Terminal)?;
            }
        }
        if app.quit || stop.load(Relaxed) || running.ended() {
            return Ok(());
        }
    }
}

/// Draws HQ's screen: status line, posts panel, alert desk.
pub fn draw(frame: &mut Frame, app: &HqApp, theme: &Theme) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    if area.width < 40 || area.height < 8 {
        buf.set_string(area.x, area.y, "kuzet hq: terminal too small", theme.axis());
        return;
    }
    let [status, posts, desk] = layout(area, app.posts.len());
    widgets::hq_status::render(app, theme, status, buf);
    widgets::posts::render(app, theme, posts, buf);
    widgets::alerts::render(&app.desk, theme, desk, buf);
}

/// One status row, a posts panel sized to its posts (a title row, at least one row, at
/// most a third of the screen), the desk below.
fn layout(area: Rect, posts: usize) -> [Rect; 3] {
    let rest = area.height - 1;
    let posts_h = (posts.max(1) as u16 + 1).min((rest / 3).max(2));
    let row = |y: u16, h: u16| Rect {
        x: area.x,
        y,
        width: area.width,
        height: h,
    };
    [
        row(area.y, 1),
        row(area.y + 1, posts_h),
        row(area.y + 1 + posts_h, rest - posts_h),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Alert, AlertKind, AlertState, Severity};
    use ratatui::backend::TestBackend;
    use ratatui::buffer::Buffer;
    use ratatui::Terminal;
    use std::time::Duration;

    fn msg(post: &str, seq: u64, id: u64, state: AlertState) -> AlertMessage {
        AlertMessage {
            post: post.into(),
            seq,
            alert: Alert {
                id,
                kind: AlertKind::NewEmitter,
                state,
                severity: Severity::Warning,
                first_seen_s: 1.0,
                last_seen_s: 1.0,
                freq_hz: 433.5e6 + id as f64 * 1e4,
                bandwidth_hz: 12_500.0,
                power_dbfs: -40.0,
                snr_db: 20.0,
                band: None,
                evidence: None,
                activity: None,
            },
            acknowledged: false,
            acknowledged_utc: None,
            suppressed: None,
            marked_known: false,
        }
    }

    #[test]
    fn a_post_operators_suppressions_and_known_marks_are_not_alerts_at_hq() {
        use crate::sinks::alert_log::{JsonLinesSink, OperatorAction};
        use crate::sinks::federation::alert_payload;
        let t0 = Instant::now();
        let mut app = HqApp::new("mqtt://hq:1883".into(), t0);
        let raised = msg("a", 0, 1, AlertState::Raised);
        app.on_event(HqEvent::Alert(raised.clone()), t0);
        // The lines a post's console writes, as they reach HQ.
        let at = "2026-12-02T07:14:09.512Z";
        let actions = [
            OperatorAction::Suppressed {
                scope: "emitter",
                until_utc: at,
            },
            OperatorAction::Lifted,
            OperatorAction::MarkedKnown {
                note: Some("ours"),
                file: None,
            },
            OperatorAction::Acknowledged { note: Some("van") },
        ];
        for (seq, action) in (1..).zip(actions) {
            let mut line = Vec::new();
            JsonLinesSink::new(&mut line)
                .write_action(&raised.alert, &action, at)
                .unwrap();
            let payload = alert_payload("a", seq, &line).unwrap();
            let m: AlertMessage = serde_json::from_slice(&payload).unwrap();
            app.on_event(HqEvent::Alert(m), t0);
        }
        assert_eq!(app.desk.entries().len(), 1, "one alert, one entry");
        assert!(
            app.desk.entries()[0].acknowledged,
            "the acknowledgement (with its note) still marks it"
        );
        assert_eq!(app.received, 5);
    }

    fn status(post: &str, state: &str) -> Status {
        Status {
            post: post.into(),
            state: state.into(),
            source: "captures/demo.h5".into(),
            center_freq_hz: 433.92e6,
            sample_rate_hz: 2.4e6,
            bandplan: "built-in".into(),
            version: "0.1.0".into(),
            since_utc: None,
        }
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

    #[test]
    fn alerts_merge_per_post_and_a_restarted_post_starts_new_entries() {
        let t0 = Instant::now();
        let mut app = HqApp::new("mqtt://hq:1883".into(), t0);
        app.on_event(HqEvent::Alert(msg("a", 0, 1, AlertState::Raised)), t0);
        app.on_event(HqEvent::Alert(msg("b", 0, 1, AlertState::Raised)), t0);
        app.on_event(HqEvent::Alert(msg("a", 1, 1, AlertState::Cleared)), t0);
        assert_eq!(
            app.desk.entries().len(),
            2,
            "same id, two posts: two entries"
        );
        assert_eq!(app.desk.entries()[0].alert.state, AlertState::Cleared);
        assert_eq!(app.desk.entries()[1].alert.state, AlertState::Raised);
        // Post a restarted: its alert 1 is a new alert.
        app.on_event(HqEvent::Alert(msg("a", 2, 1, AlertState::Raised)), t0);
        assert_eq!(app.desk.entries().len(), 3);
        let mut ack = msg("a", 3, 1, AlertState::Raised);
        ack.acknowledged = true;
        app.on_event(HqEvent::Alert(ack), t0);
        assert_eq!(app.desk.entries().len(), 3);
        assert!(app.desk.entries()[2].acknowledged && !app.desk.entries()[0].acknowledged);
        assert_eq!(app.received, 5);
        assert_eq!(app.posts.len(), 2);
        assert_eq!(app.posts[0].alerts, 4);
    }

    #[test]
    fn the_screen_has_the_posts_panel_and_the_desk_with_a_post_column() {
        let t0 = Instant::now();
        let mut app = HqApp::new("mqtt://hq:1883".into(), t0);
        app.on_event(HqEvent::Link(true), t0);
        app.on_event(HqEvent::Status(status("north", "online")), t0);
        app.on_event(HqEvent::Status(status("south", "offline")), t0);
        app.on_event(
            HqEvent::Health(Health {
                post: "north".into(),
                backlog: 1234,
                msps: 2.4,
                ..Health::default()
            }),
            t0,
        );
        app.on_event(HqEvent::Alert(msg("north", 0, 7, AlertState::Raised)), t0);
        app.on_event(HqEvent::Alert(msg("south", 0, 3, AlertState::Raised)), t0);
        app.on_tick(t0 + Duration::from_secs(75));
        let mut t = Terminal::new(TestBackend::new(100, 20)).unwrap();
        t.draw(|f| draw(f, &app, &Theme::new(true))).unwrap();
        let lines = text(t.backend().buffer());
        let all = lines.join("\n");
        assert!(lines[0].contains("MQTT ● connected"), "{}", lines[0]);
        assert!(lines[0].contains("2 posts, 1 online"), "{}", lines[0]);
        let north = lines.iter().find(|l| l.contains("● north")).unwrap();
        assert!(
            north.contains("online") && north.contains("1m15s ago"),
            "{north}"
        );
        assert!(north.contains("backlog 1,234"), "{north}");
        let south = lines.iter().find(|l| l.contains("○ south")).unwrap();
        assert!(south.contains("offline"), "{south}");
        assert!(all.contains("POST") && all.contains("ALERTS"), "{all}");
        // Newest first, each with its post.
        let s = lines
            .iter()
            .position(|l| l.contains("south ") && l.contains("WARN"))
            .unwrap();
        let n = lines
            .iter()
            .position(|l| l.contains("north ") && l.contains("WARN"))
            .unwrap();
        assert!(s < n, "{all}");
    }

    #[test]
    fn keys_select_and_mark_seen_and_quit() {
        let t0 = Instant::now();
        let mut app = HqApp::new("mqtt://hq:1883".into(), t0);
        app.on_event(HqEvent::Alert(msg("a", 0, 1, AlertState::Raised)), t0);
        app.on_event(HqEvent::Alert(msg("a", 1, 2, AlertState::Raised)), t0);
        app.update(Action::SelectOlder);
        app.update(Action::Acknowledge);
        assert!(app.desk.entries()[0].acknowledged && !app.desk.entries()[1].acknowledged);
        assert_eq!(app.update(Action::ZoomIn), None);
        assert_eq!(app.update(Action::Quit), Some(Effect::Quit));
        assert!(app.quit);
    }
}
