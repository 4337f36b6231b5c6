//! The publisher thread (`mqtt`): reads the alert log (the outbox) as lines land in it and
//! publishes them to `kuzet/<post>/alerts`, in order, QoS 1, with a window of them in
//! flight; the cursor moves on each acknowledgement ([`crate::sinks::federation::Outbox`]
//! holds that policy). It also keeps `kuzet/<post>/status` (retained; the will says
//! offline) and sends `kuzet/<post>/health` every 10 s.
//!
//! ```text
//!  alert stage ──write+flush──▶ alert log ◀──read── [mqtt] ──publish──▶ [mqtt-net] ──▶ broker
//!        └──────── wake ─────────────────────────────▲  ▲──── Sent / Acked / Down ────┘
//! ```
//!
//! The broker being away never stops monitoring: lines wait in the log, the link is retried
//! with backoff, and the backlog goes out in order once it is back. At the end of a run the
//! thread keeps sending for a drain period, then leaves what is left for the next run.

use std::collections::VecDeque;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, select, Receiver, Sender};
use rumqttc::{LastWill, QoS};

use super::mqtt::{BrokerConfig, Link, NetEvent, AT_LEAST_ONCE};
use super::stats::Counters;
use crate::error::{Error, Result};
use crate::sinks::alert_log::SharedLog;
use crate::sinks::federation::{
    alert_payload, write_atomic, Backoff, Health, Outbox, Resumed, Status, Topics,
};

/// Alert lines in flight at once: enough to fill a slow link's round trip, few enough that
/// a lost link resends little.
const WINDOW: usize = 64;

/// How often the cursor may be written (it is also written when the backlog empties and
/// at the end): each write is an fsync, and a cursor that lags only means repeats, which
/// HQ drops.
const PERSIST_EVERY: Duration = Duration::from_millis(250);

/// The log is read at least this often even without a wake-up.
const POLL_EVERY: Duration = Duration::from_millis(500);

/// Bytes of the log read at a time while catching up.
const READ_CHUNK: u64 = 1 << 20;

/// How to federate a run.
#[derive(Debug, Clone)]
pub struct FederationConfig {
    /// The broker.
    pub broker: BrokerConfig,
    /// This post's id (one topic level).
    pub post: String,
    /// The alert log, which is the outbox (the pipeline's alert log must be this file).
    pub outbox: PathBuf,
    /// Where the outbox's cursor is kept.
    pub cursor: PathBuf,
    /// Most unacknowledged lines kept; past it the oldest info lines are given up first.
    pub quota: usize,
    /// How long the end of a run waits for the backlog to be acknowledged.
    pub drain: Duration,
    /// Between two health reports.
    pub health_every: Duration,
    /// The online status (source, centre, rate, band plan, version).
    pub status: Status,
    /// No lines on stderr (the console shows the link on its status line).
    pub quiet: bool,
}

impl FederationConfig {
    /// The MQTT client id of this post.
    pub fn client_id(&self) -> String {
        format!("kuzet-post-{}", self.post)
    }
}

/// The link as the status line shows it; updated by the publisher thread.
#[derive(Debug, Default)]
pub struct LinkCounters {
    /// Connected to the broker now.
    pub connected: AtomicBool,
    /// Alert lines published (resends count again).
    pub published: AtomicU64,
    /// Alert lines acknowledged by the broker.
    pub acked: AtomicU64,
    /// Alert lines not yet acknowledged.
    pub backlog: AtomicU64,
    /// Alert lines given up to the quota in this run.
    pub lost: AtomicU64,
}

/// What the publisher did in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkSummary {
    /// The broker.
    pub broker: String,
    /// The outbox.
    pub outbox: PathBuf,
    /// Alert lines published (resends count again).
    pub published: u64,
    /// Alert lines acknowledged.
    pub acked: u64,
    /// Lines left unacknowledged at the end (they go out on the next run).
    pub backlog: u64,
    /// Lines given up to the quota in this run.
    pub lost: u64,
    /// Lines given up since the outbox began.
    pub lost_total: u64,
    /// Torn lines skipped.
    pub unreadable: u64,
    /// Times the broker went away (or could not be reached at the start); retries within
    /// one outage count once.
    pub outages: u64,
}

/// The running publisher.
pub(crate) struct Publisher {
    finish: Sender<()>,
    counters: Arc<LinkCounters>,
    handle: JoinHandle<Result<LinkSummary>>,
}

impl Publisher {
    /// Opens the outbox (repairing a torn last line, resuming from the cursor) and starts
    /// the thread; `log` is the pipeline's alert log over the same file, which wakes the
    /// thread after each line.
    ///
    /// # Errors
    /// The outbox or its cursor cannot be read or written; the thread cannot start.
    pub fn start(cfg: FederationConfig, log: &SharedLog, pipeline: Arc<Counters>) -> Result<Self> {
        let (outbox, resumed) = Outbox::open(&cfg.outbox, &cfg.cursor, cfg.quota)?;
        let file = File::open(&cfg.outbox).map_err(|source| Error::Io {
            path: cfg.outbox.clone(),
            source,
        })?;
        if !cfg.quiet {
            say_resumed(&cfg, &resumed);
        }
        // Drop policy: one pending wake-up says "read the log"; more say nothing new.
        let (wake_tx, wake) = bounded::<()>(1);
        log.set_notify(Box::new(move || {
            let _ = wake_tx.try_send(());
        }));
        let (finish, finish_rx) = bounded::<()>(1);
        let counters = Arc::new(LinkCounters::default());
        let worker = Worker::new(cfg, outbox, file, counters.clone(), pipeline);
        let handle = thread::Builder::new()
            .name("mqtt".into())
            .spawn(move || worker.run(&wake, &finish_rx))
            .map_err(|_| Error::StagePanicked("spawn"))?;
        Ok(Publisher {
            finish,
            counters,
            handle,
        })
    }

    /// The link's live state.
    pub fn counters(&self) -> &Arc<LinkCounters> {
        &self.counters
    }

    /// The run has ended (every alert is in the log): drain, close, and sum up.
    ///
    /// # Errors
    /// [`Error::StagePanicked`] when the thread panicked.
    pub fn finish(self) -> Result<LinkSummary> {
        let _ = self.finish.send(());
        self.handle
            .join()
            .map_err(|_| Error::StagePanicked("mqtt"))?
    }
}

fn say_resumed(cfg: &FederationConfig, r: &Resumed) {
    if r.repaired {
        eprintln!(
            "kuzet: warning: mqtt: {} ended in a torn line (a writer killed mid-line); it is skipped",
            cfg.outbox.display()
        );
    }
    if let Some(old) = &r.abandoned {
        eprintln!(
            "kuzet: warning: mqtt: post {} last published from {}; lines it had not sent stay there \
             unsent, and {} is sent from its current end",
            cfg.post,
            old.display(),
            cfg.outbox.display()
        );
    }
    if r.pending_bytes > 0 {
        eprintln!(
            "kuzet: mqtt: resuming the outbox {} from its cursor ({} bytes not yet acknowledged)",
            cfg.outbox.display(),
            r.pending_bytes
        );
    }
}

/// The publisher's state, on its thread.
struct Worker {
    cfg: FederationConfig,
    topics: Topics,
    outbox: Outbox,
    file: File,
    /// The current connection, if any, and whether the broker has accepted it.
    link: Option<Link>,
    up: bool,
    generation: u64,
    events_tx: Sender<(u64, NetEvent)>,
    events: Receiver<(u64, NetEvent)>,
    backoff: Backoff,
    retry_at: Option<Instant>,
    /// Publications handed to the client, oldest first, until it says which packet id each
    /// went out with: the alert's seq, or `None` for status and health.
    unassigned: VecDeque<Option<u64>>,
    /// Alert publications on the wire: packet id and seq, oldest first.
    on_wire: VecDeque<(u16, u64)>,
    counters: Arc<LinkCounters>,
    pipeline: Arc<Counters>,
    last_persist: Instant,
    persist_failed: bool,
    last_health: (Instant, u64),
    /// The operator has been told the broker is away (once per outage).
    told_down: bool,
    outages: u64,
    read_buf: Vec<u8>,
}

impl Worker {
    fn new(
        cfg: FederationConfig,
        outbox: Outbox,
        file: File,
        counters: Arc<LinkCounters>,
        pipeline: Arc<Counters>,
    ) -> Worker {
        // Block: the network thread waits for this one, which never waits on it for long.
        let (events_tx, events) = bounded(4 * WINDOW);
        let now = Instant::now();
        Worker {
            topics: Topics::of(&cfg.post),
            cfg,
            outbox,
            file,
            link: None,
            up: false,
            generation: 0,
            events_tx,
            events,
            backoff: Backoff::default(),
            retry_at: Some(now),
            unassigned: VecDeque::new(),
            on_wire: VecDeque::new(),
            counters,
            pipeline,
            last_persist: now,
            persist_failed: false,
            last_health: (now, 0),
            told_down: false,
            outages: 0,
            read_buf: Vec::new(),
        }
    }

    fn run(mut self, wake: &Receiver<()>, finish: &Receiver<()>) -> Result<LinkSummary> {
        // A channel whose senders are all gone stops being selected (it would be ready
        // for ever): the log's notifier, dropped with the last clone of the log; the
        // finish sender, dropped with an unfinished run (which then finishes).
        let (mut wake, mut finish) = (wake.clone(), finish.clone());
        let mut deadline: Option<Instant> = None;
        let mut last_read = Instant::now();
        self.read_log();
        loop {
            let now = Instant::now();
            let mut next = now + POLL_EVERY;
            if let Some(t) = self.retry_at.filter(|_| self.link.is_none()) {
                next = next.min(t);
            }
            if let Some(d) = deadline {
                next = next.min(d);
            }
            let timeout = next.saturating_duration_since(now);
            select! {
                recv(wake) -> w => {
                    if w.is_err() {
                        wake = crossbeam_channel::never();
                    }
                    self.read_log();
                    last_read = Instant::now();
                }
                recv(finish) -> f => {
                    if f.is_err() {
                        finish = crossbeam_channel::never();
                    }
                    if deadline.is_none() {
                        // Every alert of the run is in the log by now.
                        self.read_log();
                        deadline = Some(Instant::now() + self.cfg.drain);
                    }
                }
                recv(self.events) -> ev => {
                    if let Ok((generation, ev)) = ev {
                        if generation == self.generation {
                            self.on_event(ev);
                        }
                    }
                }
                default(timeout) => {}
            }
            if last_read.elapsed() >= POLL_EVERY {
                self.read_log();
                last_read = Instant::now();
            }
            self.connect_if_due();
            self.fill_window();
            // Not forced while draining: a burst of acknowledgements would write (and
            // fsync) the cursor once each; close() writes the last one.
            self.persist(false);
            self.health();
            self.publish_counters();
            if let Some(d) = deadline {
                if self.outbox.backlog() == 0 || Instant::now() >= d {
                    break;
                }
            }
        }
        Ok(self.close())
    }

    /// Reads what the log holds past what was read; flushes it to stable storage before any
    /// of it is published, so that no line reaches HQ that a power cut could take back.
    fn read_log(&mut self) {
        let mut chunk = READ_CHUNK;
        loop {
            let len = match self.file.metadata() {
                Ok(m) => m.len(),
                Err(_) => return,
            };
            let from = self.outbox.scanned();
            if len <= from {
                return;
            }
            let n = (len - from).min(chunk) as usize;
            self.read_buf.resize(n, 0);
            if self.file.read_exact_at(&mut self.read_buf, from).is_err() {
                return;
            }
            let _ = self.file.sync_data();
            if self.outbox.scan(&self.read_buf) == 0 {
                if n as u64 == chunk {
                    // One line longer than a chunk: read more of it at once.
                    chunk *= 2;
                    continue;
                }
                // A line still being written: its newline wakes us again.
                return;
            }
        }
    }

    fn connect_if_due(&mut self) {
        if self.link.is_some() || self.retry_at.is_some_and(|t| Instant::now() < t) {
            return;
        }
        self.generation += 1;
        let will_status = self.cfg.status.offline();
        let will = LastWill::new(
            self.topics.status.clone(),
            serde_json::to_vec(&will_status).unwrap_or_default(),
            AT_LEAST_ONCE,
            true,
        );
        // Clean session: the outbox, not the broker, remembers what is unsent.
        let opts =
            self.cfg
                .broker
                .options(&self.cfg.client_id(), true, Some(will), (WINDOW + 4) as u16);
        match Link::open(opts, self.generation, WINDOW + 16, self.events_tx.clone()) {
            Ok(l) => {
                self.link = Some(l);
                self.retry_at = None;
            }
            Err(_) => self.link_down("cannot start the network thread".into()),
        }
    }

    fn on_event(&mut self, ev: NetEvent) {
        match ev {
            NetEvent::Up { .. } => {
                self.up = true;
                self.backoff.reset();
                if !self.cfg.quiet {
                    let backlog = self.outbox.backlog();
                    if self.told_down {
                        eprintln!(
                            "kuzet: mqtt: {} is back; sending a backlog of {backlog} alert line(s) in order",
                            self.cfg.broker.broker
                        );
                    } else {
                        eprintln!(
                            "kuzet: mqtt: connected to {} as post {}{}",
                            self.cfg.broker.broker,
                            self.cfg.post,
                            if backlog > 0 {
                                format!("; sending a backlog of {backlog} alert line(s)")
                            } else {
                                String::new()
                            }
                        );
                    }
                }
                self.told_down = false;
                let mut status = self.cfg.status.clone();
                status.state = "online".into();
                status.since_utc = Some(now_utc());
                self.publish(
                    self.topics.status.clone(),
                    AT_LEAST_ONCE,
                    true,
                    serde_json::to_vec(&status).unwrap_or_default(),
                    None,
                );
            }
            NetEvent::Sent(pkid) => {
                if let Some(Some(seq)) = self.unassigned.pop_front() {
                    self.on_wire.push_back((pkid, seq));
                }
            }
            NetEvent::Acked(pkid) => {
                if let Some(i) = self.on_wire.iter().position(|&(p, _)| p == pkid) {
                    if let Some((_, seq)) = self.on_wire.remove(i) {
                        self.outbox.on_ack(seq);
                    }
                }
            }
            NetEvent::Message(_) | NetEvent::Subscribed => {}
            NetEvent::Down(why) => self.link_down(why),
        }
    }

    /// The link failed (or never came up): everything in flight goes again on the next
    /// one, which is tried after a backoff.
    fn link_down(&mut self, why: String) {
        if let Some(l) = self.link.take() {
            l.close(&self.events);
        }
        self.up = false;
        self.outbox.on_link_lost();
        self.unassigned.clear();
        self.on_wire.clear();
        if !self.told_down {
            self.outages += 1;
        }
        let delay = self.backoff.next_delay(rand::random::<f64>());
        self.retry_at = Some(Instant::now() + delay);
        if !self.told_down {
            self.told_down = true;
            if !self.cfg.quiet {
                eprintln!(
                    "kuzet: mqtt: no link to broker {} ({why}); monitoring goes on, alerts wait in \
                     {} and go out when it is back (retrying with backoff)",
                    self.cfg.broker.broker,
                    self.cfg.outbox.display()
                );
            }
        }
    }

    /// Publishes alert lines while the window has room.
    fn fill_window(&mut self) {
        if !self.up {
            return;
        }
        while self.on_wire.len() + self.unassigned.len() < WINDOW {
            let Some(line) = self.outbox.next_to_send() else {
                return;
            };
            let mut text = vec![0u8; line.len as usize];
            let payload = self
                .file
                .read_exact_at(&mut text, line.offset)
                .ok()
                .and_then(|()| alert_payload(&self.cfg.post, line.seq, &text));
            match payload {
                Some(p) => {
                    let topic = self.topics.alerts.clone();
                    if !self.publish(topic, AT_LEAST_ONCE, false, p, Some(line.seq)) {
                        return;
                    }
                }
                // Read as an alert a moment ago: only a log changed under us gets here.
                None => self.outbox.give_up(line.seq),
            }
        }
    }

    /// Hands a publication to the client; false (and the link dropped) when it cannot take it.
    fn publish(
        &mut self,
        topic: String,
        qos: QoS,
        retain: bool,
        payload: Vec<u8>,
        seq: Option<u64>,
    ) -> bool {
        let Some(link) = &self.link else { return false };
        match link.client.try_publish(topic, qos, retain, payload) {
            Ok(()) => {
                self.unassigned.push_back(seq);
                true
            }
            Err(e) => {
                self.link_down(format!("client queue: {e}"));
                false
            }
        }
    }

    /// Writes the cursor when it has moved: at most every [`PERSIST_EVERY`], at once when
    /// the backlog has emptied (a quiet post's cursor is then always current) or `now`.
    fn persist(&mut self, now: bool) {
        let due = now || self.outbox.backlog() == 0 || self.last_persist.elapsed() >= PERSIST_EVERY;
        if !due {
            return;
        }
        let Some(c) = self.outbox.cursor_to_save() else {
            return;
        };
        let bytes = serde_json::to_vec(c).unwrap_or_default();
        match write_atomic(&self.cfg.cursor, &bytes) {
            Ok(()) => {
                self.outbox.saved();
                self.persist_failed = false;
            }
            Err(e) => {
                if !self.persist_failed && !self.cfg.quiet {
                    eprintln!(
                        "kuzet: warning: mqtt: cannot save the outbox cursor ({e}); a restart \
                         would resend what was acknowledged since (HQ drops repeats)"
                    );
                }
                self.persist_failed = true;
            }
        }
        self.last_persist = Instant::now();
    }

    fn health(&mut self) {
        let (at, samples0) = self.last_health;
        if !self.up || at.elapsed() < self.cfg.health_every {
            return;
        }
        let samples = self.pipeline.samples_in.load(Relaxed);
        let dt = at.elapsed().as_secs_f64();
        let h = Health {
            post: self.cfg.post.clone(),
            utc: now_utc(),
            msps: (samples.saturating_sub(samples0)) as f64 / dt.max(1e-9) / 1e6,
            dropped: self.pipeline.dropped.load(Relaxed),
            backlog: self.outbox.backlog() as u64,
            lost: self.outbox.cursor().lost,
            disk_free_bytes: disk_free(&self.cfg.outbox),
        };
        self.last_health = (Instant::now(), samples);
        // At most once: a missed health report is replaced by the next.
        let payload = serde_json::to_vec(&h).unwrap_or_default();
        self.publish(
            self.topics.health.clone(),
            QoS::AtMostOnce,
            false,
            payload,
            None,
        );
    }

    fn publish_counters(&self) {
        let c = self.outbox.counts();
        self.counters.connected.store(self.up, Relaxed);
        self.counters.published.store(c.published, Relaxed);
        self.counters.acked.store(c.acked, Relaxed);
        self.counters
            .backlog
            .store(self.outbox.backlog() as u64, Relaxed);
        self.counters.lost.store(c.lost, Relaxed);
    }

    /// Says offline (retained) and disconnects cleanly, saves the cursor, sums up.
    fn close(mut self) -> LinkSummary {
        if self.up {
            let status = self.cfg.status.offline();
            self.publish(
                self.topics.status.clone(),
                AT_LEAST_ONCE,
                true,
                serde_json::to_vec(&status).unwrap_or_default(),
                None,
            );
        }
        if let Some(l) = self.link.take() {
            l.close(&self.events);
        }
        self.up = false;
        self.persist(true);
        self.publish_counters();
        let c = self.outbox.counts();
        let backlog = self.outbox.backlog() as u64;
        if !self.cfg.quiet && backlog > 0 {
            eprintln!(
                "kuzet: mqtt: {backlog} alert line(s) not yet acknowledged stay in {}; the next run \
                 with this outbox sends them",
                self.cfg.outbox.display()
            );
        }
        LinkSummary {
            broker: self.cfg.broker.broker.to_string(),
            outbox: self.cfg.outbox.clone(),
            published: c.published,
            acked: c.acked,
            backlog,
            lost: c.lost,
            lost_total: self.outbox.cursor().lost,
            unreadable: c.unreadable,
            outages: self.outages,
        }
    }
}

/// Free bytes for unprivileged writers on the disk that holds `path`; 0 when unknown.
fn disk_free(path: &std::path::Path) -> u64 {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    rustix::fs::statvfs(dir)
        .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
        .unwrap_or(0)
}

/// Now, ISO 8601 with milliseconds.
pub(crate) fn now_utc() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
