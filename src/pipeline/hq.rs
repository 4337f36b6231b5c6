//! The HQ thread (`hq`): subscribes to every post's alerts, status and health with a
//! persistent session (a fixed client id, clean session off, QoS 1), so that a broker with
//! persistence on holds HQ's messages while HQ or the broker restarts; drops repeats by
//! (post, seq) ([`HighWater`], saved across restarts); writes each new alert as a JSON line
//! (headless) before acknowledging it to the broker, and hands what it hears to a console.
//!
//! ```text
//!  broker ──▶ [mqtt-net] ──Message──▶ [hq] ─ repeat? drop : write line ─▶ PUBACK
//!                                       └──HqEvent──▶ console (alerts, status, health, link)
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, Receiver, Sender};
use rumqttc::{QoS, SubscribeFilter};

use super::mqtt::{BrokerConfig, Link, NetEvent};
use crate::error::{Error, Result};
use crate::sinks::federation::{
    parse_topic, read_state, write_atomic, AlertMessage, Backoff, Health, HighWater, Status,
    TopicKind, ALERTS_FILTER, HEALTH_FILTER, STATUS_FILTER,
};

/// Messages the broker may send before HQ acknowledges them.
const INFLIGHT: u16 = 100;

/// Requests (acknowledgements, mostly) queued for the network thread. It takes them only
/// between batches of incoming messages, so a batch can leave many waiting; the ones that
/// do not fit wait in [`Hq::unacked`] rather than being lost (a lost PUBACK would hold a
/// slot of the broker's in-flight window for ever and, a window later, stop delivery).
const REQUESTS: usize = 1024;

/// How often the high-water marks may be written.
const SAVE_EVERY: Duration = Duration::from_millis(500);

/// How to run HQ.
pub struct HqConfig {
    /// The broker.
    pub broker: BrokerConfig,
    /// The fixed client id the broker keeps HQ's session under.
    pub client_id: String,
    /// Where the high-water marks per post are kept.
    pub state: PathBuf,
    /// New alerts as JSON lines (headless), each written and flushed before it is
    /// acknowledged to the broker.
    pub out: Option<Box<dyn Write + Send>>,
    /// Hand events to a console ([`HqRunning::events`]).
    pub display: bool,
    /// No lines on stderr (the console shows the link).
    pub quiet: bool,
}

/// What HQ hears, for the console.
#[derive(Debug, Clone, PartialEq)]
pub enum HqEvent {
    /// A new alert line from a post.
    Alert(AlertMessage),
    /// A post's status changed (retained: also each post's last status on connecting).
    Status(Status),
    /// A post's health report.
    Health(Health),
    /// The link to the broker came up (`true`) or went down.
    Link(bool),
}

/// What HQ did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HqSummary {
    /// New alert lines.
    pub alerts: u64,
    /// Repeats dropped by (post, seq).
    pub repeats: u64,
    /// Messages that were not what the schema says.
    pub malformed: u64,
    /// Posts heard from, ever (the high-water marks).
    pub posts: usize,
}

/// HQ running on its thread.
pub struct HqRunning {
    events: Option<Receiver<HqEvent>>,
    handle: JoinHandle<Result<HqSummary>>,
}

/// Starts HQ; it runs until `stop` is set.
///
/// # Errors
/// The high-water file cannot be read; the thread cannot start.
pub fn start(cfg: HqConfig, stop: Arc<AtomicBool>) -> Result<HqRunning> {
    let seen: HighWater = read_state(&cfg.state)?.unwrap_or_default();
    // Block, large: the console drains it every tick; a full channel holds back the
    // acknowledgements, and the broker keeps the rest.
    let (tx, rx) = if cfg.display {
        let (tx, rx) = bounded::<HqEvent>(1024);
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    let handle = thread::Builder::new()
        .name("hq".into())
        .spawn(move || Hq::new(cfg, seen, tx).run(&stop))
        .map_err(|_| Error::StagePanicked("spawn"))?;
    Ok(HqRunning { events: rx, handle })
}

impl HqRunning {
    /// Events for a console (started with `display`); disconnected when HQ has stopped.
    pub fn events(&self) -> Option<&Receiver<HqEvent>> {
        self.events.as_ref()
    }

    /// True once the thread has ended (stopped, or failed).
    pub fn ended(&self) -> bool {
        self.handle.is_finished()
    }

    /// Waits for HQ to stop and sums up.
    ///
    /// # Errors
    /// Writing the output failed; the thread panicked.
    pub fn finish(self) -> Result<HqSummary> {
        drop(self.events);
        self.handle.join().map_err(|_| Error::StagePanicked("hq"))?
    }
}

struct Hq {
    cfg: HqConfig,
    seen: HighWater,
    dirty: bool,
    last_save: Instant,
    events_tx: Sender<(u64, NetEvent)>,
    events: Receiver<(u64, NetEvent)>,
    link: Option<Link>,
    generation: u64,
    backoff: Backoff,
    retry_at: Instant,
    told_down: bool,
    session_present: bool,
    display: Option<Sender<HqEvent>>,
    summary: HqSummary,
    /// Each post's last status state, to report changes only.
    states: std::collections::HashMap<String, String>,
    /// Messages handled and not yet acknowledged to the broker, oldest first.
    unacked: std::collections::VecDeque<rumqttc::Publish>,
}

impl Hq {
    fn new(cfg: HqConfig, seen: HighWater, display: Option<Sender<HqEvent>>) -> Hq {
        // Block: the network thread waits while HQ writes.
        let (events_tx, events) = bounded(4 * INFLIGHT as usize);
        Hq {
            cfg,
            seen,
            dirty: false,
            last_save: Instant::now(),
            events_tx,
            events,
            link: None,
            generation: 0,
            backoff: Backoff::default(),
            retry_at: Instant::now(),
            told_down: false,
            session_present: false,
            display,
            summary: HqSummary::default(),
            states: std::collections::HashMap::new(),
            unacked: std::collections::VecDeque::new(),
        }
    }

    fn run(mut self, stop: &AtomicBool) -> Result<HqSummary> {
        let ran = self.serve(stop);
        if let Some(l) = self.link.take() {
            l.close(&self.events);
        }
        self.save(true);
        self.summary.posts = self.seen.posts.len();
        ran.map(|()| self.summary)
    }

    fn serve(&mut self, stop: &AtomicBool) -> Result<()> {
        while !stop.load(Relaxed) {
            if self.link.is_none() && Instant::now() >= self.retry_at {
                self.connect();
            }
            select! {
                recv(self.events) -> ev => {
                    if let Ok((generation, ev)) = ev {
                        if generation == self.generation {
                            self.on_event(ev)?;
                        }
                    }
                }
                // Soon again while acknowledgements wait for room in the client's queue.
                default(if self.unacked.is_empty() {
                    Duration::from_millis(200)
                } else {
                    Duration::from_millis(5)
                }) => {}
            }
            self.send_acks();
            self.save(false);
        }
        Ok(())
    }

    fn connect(&mut self) {
        self.generation += 1;
        // Persistent session, acknowledgements after the line is written.
        let mut opts = self
            .cfg
            .broker
            .options(&self.cfg.client_id, false, None, INFLIGHT);
        opts.set_manual_acks(true);
        match Link::open(opts, self.generation, REQUESTS, self.events_tx.clone()) {
            Ok(l) => self.link = Some(l),
            Err(_) => self.down("cannot start the network thread".into()),
        }
    }

    fn down(&mut self, why: String) {
        if let Some(l) = self.link.take() {
            l.close(&self.events);
        }
        // The broker sends them again on the next connection (the session is kept).
        self.unacked.clear();
        self.retry_at = Instant::now() + self.backoff.next_delay(rand::random::<f64>());
        self.tell(HqEvent::Link(false));
        if !self.told_down && !self.cfg.quiet {
            eprintln!(
                "kuzet: hq: no link to broker {} ({why}); retrying with backoff (the broker keeps \
                 HQ's session while it is away)",
                self.cfg.broker.broker
            );
        }
        self.told_down = true;
    }

    fn tell(&self, ev: HqEvent) {
        if let Some(tx) = &self.display {
            let _ = tx.send(ev);
        }
    }

    fn on_event(&mut self, ev: NetEvent) -> Result<()> {
        match ev {
            NetEvent::Up { session_present } => {
                self.backoff.reset();
                self.told_down = false;
                if let Some(l) = &self.link {
                    // Again on every connection: harmless on a kept session, needed on a
                    // new one (first run, or a broker that lost its store).
                    let filters = [ALERTS_FILTER, STATUS_FILTER, HEALTH_FILTER]
                        .map(|f| SubscribeFilter::new(f.to_string(), QoS::AtLeastOnce));
                    let _ = l.client.try_subscribe_many(filters);
                }
                self.session_present = session_present;
                self.tell(HqEvent::Link(true));
            }
            NetEvent::Message(p) => {
                self.on_message(&p)?;
                // After the line is written: a message HQ crashes on is sent again.
                self.unacked.push_back(p);
                self.send_acks();
            }
            NetEvent::Subscribed => {
                if !self.cfg.quiet {
                    eprintln!(
                        "kuzet: hq: connected to {} as {} ({}); subscribed to {ALERTS_FILTER}, \
                         {STATUS_FILTER}, {HEALTH_FILTER}",
                        self.cfg.broker.broker,
                        self.cfg.client_id,
                        if self.session_present {
                            "session resumed"
                        } else {
                            "new session"
                        }
                    );
                }
            }
            NetEvent::Sent(_) | NetEvent::Acked(_) => {}
            NetEvent::Down(why) => self.down(why),
        }
        Ok(())
    }

    fn on_message(&mut self, p: &rumqttc::Publish) -> Result<()> {
        let Some((post, kind)) = parse_topic(&p.topic) else {
            self.summary.malformed += 1;
            return Ok(());
        };
        match kind {
            TopicKind::Alerts => {
                let Ok(m) = serde_json::from_slice::<AlertMessage>(&p.payload) else {
                    self.summary.malformed += 1;
                    return Ok(());
                };
                // The topic names the post (a broker's ACLs can tie it to a login); a
                // payload that claims another is not trusted.
                if m.post != post {
                    self.summary.malformed += 1;
                    return Ok(());
                }
                if !self.seen.accept(post, m.seq) {
                    self.summary.repeats += 1;
                    return Ok(());
                }
                self.dirty = true;
                if let Some(out) = self.cfg.out.as_mut() {
                    let written = out
                        .write_all(&p.payload)
                        .and_then(|()| out.write_all(b"\n"))
                        .and_then(|()| out.flush());
                    if let Err(e) = written {
                        return Err(Error::AlertSink(e));
                    }
                }
                self.summary.alerts += 1;
                self.tell(HqEvent::Alert(m));
            }
            TopicKind::Status => match serde_json::from_slice::<Status>(&p.payload) {
                Ok(s) if s.post == post => {
                    // The retained status comes again on every connection: say changes.
                    let was = self.states.insert(post.to_string(), s.state.clone());
                    if !self.cfg.quiet && was.as_deref() != Some(s.state.as_str()) {
                        eprintln!("kuzet: hq: post {post} is {}", s.state);
                    }
                    self.tell(HqEvent::Status(s));
                }
                _ => self.summary.malformed += 1,
            },
            TopicKind::Health => match serde_json::from_slice::<Health>(&p.payload) {
                Ok(h) if h.post == post => self.tell(HqEvent::Health(h)),
                _ => self.summary.malformed += 1,
            },
        }
        Ok(())
    }

    /// Writes the high-water marks when they moved: at most every [`SAVE_EVERY`], and at
    /// the end.
    /// Hands the waiting acknowledgements to the client, in order, as far as its queue
    /// takes them.
    fn send_acks(&mut self) {
        let Some(l) = &self.link else {
            // A new connection gets the unacknowledged messages again from the broker.
            self.unacked.clear();
            return;
        };
        while let Some(p) = self.unacked.front() {
            if l.client.try_ack(p).is_err() {
                return;
            }
            self.unacked.pop_front();
        }
    }

    fn save(&mut self, now: bool) {
        if !self.dirty || (!now && self.last_save.elapsed() < SAVE_EVERY) {
            return;
        }
        let bytes = serde_json::to_vec(&self.seen).unwrap_or_default();
        match write_atomic(&self.cfg.state, &bytes) {
            Ok(()) => self.dirty = false,
            Err(e) if !self.cfg.quiet => {
                eprintln!("kuzet: warning: hq: cannot save what HQ has seen ({e})");
            }
            Err(_) => {}
        }
        self.last_save = Instant::now();
    }
}
