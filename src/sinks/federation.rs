//! Federation policies, with no threads and no network: the broker address, the topics and
//! messages (schema in docs/federation.md), the outbox over the alert log (which lines are
//! unsent, in flight, acknowledged or given up to the quota; the cursor that survives a
//! crash), the reconnect backoff, and HQ's de-duplication by (post, seq). The publisher and
//! HQ threads in [`crate::pipeline`] drive them with an MQTT client.
//!
//! The alert log is the outbox. Every line of it gets a `seq`: the seq of the line at the
//! cursor's byte offset is the cursor's seq, and each later line one more, so a line's seq
//! depends only on where it sits in the log and is the same in every run that reads it.
//! The cursor moves past a line only once the broker has acknowledged it (or the quota gave
//! it up), and is written to disk by [`write_atomic`] (temporary file, fsync, rename), so a
//! killed publisher resends at worst what was in flight, which HQ drops by (post, seq).

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::alert::{Alert, Severity};
use crate::error::{Error, Result};

/// Topic prefix shared by every post.
pub const TOPIC_ROOT: &str = "kuzet";
/// What HQ subscribes to: every post's alerts.
pub const ALERTS_FILTER: &str = "kuzet/+/alerts";
/// Every post's retained status.
pub const STATUS_FILTER: &str = "kuzet/+/status";
/// Every post's health reports.
pub const HEALTH_FILTER: &str = "kuzet/+/health";

/// Where the broker is: `mqtt://host[:port]` (1883) or `mqtts://host[:port]` (8883).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// TLS (`mqtts://`).
    pub tls: bool,
}

impl Broker {
    /// Parses a broker URL.
    ///
    /// # Errors
    /// [`Error::Invalid`] for field `url` when it is not `mqtt://host[:port]` or
    /// `mqtts://host[:port]`.
    pub fn parse(url: &str) -> Result<Broker> {
        let bad = |why: &str| Error::invalid("url", format!("`{url}`: {why}"));
        let (tls, rest) = if let Some(r) = url.strip_prefix("mqtt://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("mqtts://") {
            (true, r)
        } else {
            return Err(bad("expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '@', '?', '#', ' ']) {
            return Err(bad(
                "only HOST[:PORT] may follow the scheme (credentials go in --mqtt-auth or the environment)",
            ));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed `[` in an IPv6 address"))?;
            (h, after.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
            None if tls => 8883,
            None => 1883,
        };
        Ok(Broker {
            host: host.to_string(),
            port,
            tls,
        })
    }
}

impl std::fmt::Display for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Checks a post identifier: it is one topic level, so no `/`, `+` or `#`.
///
/// # Errors
/// [`Error::Invalid`] for field `post`.
pub fn check_post(post: &str) -> Result<()> {
    if post.is_empty() || post.len() > 64 {
        return Err(Error::invalid(
            "post",
            format!("must be 1 to 64 bytes, got `{post}`"),
        ));
    }
    if post
        .chars()
        .any(|c| matches!(c, '/' | '+' | '#') || c.is_control() || c.is_whitespace())
    {
        return Err(Error::invalid(
            "post",
            format!("`{post}` may not contain `/`, `+`, `#`, spaces or control characters"),
        ));
    }
    Ok(())
}

/// The topics a post publishes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    /// `kuzet/<post>/alerts`: every alert line, QoS 1.
    pub alerts: String,
    /// `kuzet/<post>/status`: retained, online/offline (the will says offline).
    pub status: String,
    /// `kuzet/<post>/health`: every 10 s.
    pub health: String,
}

impl Topics {
    /// The topics of `post`.
    pub fn of(post: &str) -> Topics {
        Topics {
            alerts: format!("{TOPIC_ROOT}/{post}/alerts"),
            status: format!("{TOPIC_ROOT}/{post}/status"),
            health: format!("{TOPIC_ROOT}/{post}/health"),
        }
    }
}

/// Which of a post's topics a message came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKind {
    /// `kuzet/<post>/alerts`.
    Alerts,
    /// `kuzet/<post>/status`.
    Status,
    /// `kuzet/<post>/health`.
    Health,
}

/// The post and the kind of a `kuzet/<post>/<kind>` topic.
pub fn parse_topic(topic: &str) -> Option<(&str, TopicKind)> {
    let rest = topic.strip_prefix(TOPIC_ROOT)?.strip_prefix('/')?;
    let (post, kind) = rest.split_once('/')?;
    let kind = match kind {
        "alerts" => TopicKind::Alerts,
        "status" => TopicKind::Status,
        "health" => TopicKind::Health,
        _ => return None,
    };
    (!post.is_empty()).then_some((post, kind))
}

/// An alert line as published on `kuzet/<post>/alerts`: the alert log's line with `post`
/// and `seq` in front. `acknowledged`/`acknowledged_utc` are there when the line records an
/// operator's acknowledgement at the post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertMessage {
    /// The post that raised it.
    pub post: String,
    /// The line's place in the post's outbox: increases by one per line, stable across
    /// restarts; HQ drops a (post, seq) it has seen.
    pub seq: u64,
    /// The alert as the post logged it.
    #[serde(flatten)]
    pub alert: Alert,
    /// The line records the post operator's acknowledgement of the alert.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub acknowledged: bool,
    /// When it was acknowledged (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_utc: Option<String>,
    /// The line records the post operator suppressing the alert (`true`) or lifting a
    /// suppression (`false`), not a state change of the alert (docs/alerts.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<bool>,
    /// The line records the post operator marking the alert's emitter as known.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub marked_known: bool,
}

impl AlertMessage {
    /// True for a line that records what the post's operator did about the alert without
    /// acknowledging it (a suppression, its lifting, a known mark): it repeats the alert's
    /// figures, and is no state change.
    pub fn operator_only(&self) -> bool {
        !self.acknowledged && (self.suppressed.is_some() || self.marked_known)
    }
}

/// The payload for `line` (one alert-log line, a JSON object, without its newline): the
/// same bytes with `"post"` and `"seq"` first, so every field the post logged reaches HQ
/// unchanged. `None` when the line is not a JSON object.
pub fn alert_payload(post: &str, seq: u64, line: &[u8]) -> Option<Vec<u8>> {
    let line = line.trim_ascii();
    let body = line.strip_prefix(b"{")?;
    if !line.ends_with(b"}") {
        return None;
    }
    let mut out = Vec::with_capacity(line.len() + post.len() + 32);
    out.extend_from_slice(b"{\"post\":");
    // A post id is checked to be plain text; serde escapes it anyway.
    serde_json::to_writer(&mut out, post).ok()?;
    out.extend_from_slice(format!(",\"seq\":{seq}").as_bytes());
    if body != b"}" {
        out.push(b',');
    }
    out.extend_from_slice(body);
    Some(out)
}

/// A post's retained status on `kuzet/<post>/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The post.
    pub post: String,
    /// `online`, or `offline` (a clean stop, or the broker's will after a lost link).
    pub state: String,
    /// What the post watches: a file or the radio's arguments.
    #[serde(default)]
    pub source: String,
    /// Centre frequency, Hz.
    #[serde(default)]
    pub center_freq_hz: f64,
    /// Sample rate, samples/s.
    #[serde(default)]
    pub sample_rate_hz: f64,
    /// The band plan in use.
    #[serde(default)]
    pub bandplan: String,
    /// kuzet's version.
    #[serde(default)]
    pub version: String,
    /// When the post came online (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_utc: Option<String>,
}

impl Status {
    /// This status with `state` set to offline (the will, and a clean stop).
    pub fn offline(&self) -> Status {
        Status {
            state: "offline".into(),
            ..self.clone()
        }
    }

    /// True when the post said it is online.
    pub fn is_online(&self) -> bool {
        self.state == "online"
    }
}

/// A post's health on `kuzet/<post>/health`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// The post.
    pub post: String,
    /// When it was measured (ISO 8601).
    pub utc: String,
    /// Input processed over the last interval, million samples per second.
    pub msps: f64,
    /// Samples dropped since the start of the run.
    pub dropped: u64,
    /// Outbox lines not yet acknowledged by the broker.
    pub backlog: u64,
    /// Outbox lines given up to the quota since the outbox began.
    pub lost: u64,
    /// Free bytes on the disk that holds the outbox.
    pub disk_free_bytes: u64,
}

/// Writes `bytes` to `path` so that a crash at any point leaves either the old file or the
/// new one, whole: a temporary file beside it, fsync, rename over, fsync the directory.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(d) = dir {
        // The rename is durable only once the directory is; a failure here leaves the new
        // file in place, so it is not worth failing the write for.
        if let Ok(d) = std::fs::File::open(d) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Reads a JSON state file; `None` when it does not exist.
///
/// # Errors
/// [`Error::Io`] when it cannot be read, [`Error::InvalidFile`] when it is not what
/// [`write_atomic`] wrote.
pub fn read_state<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::InvalidFile {
                path: path.to_path_buf(),
                msg: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Which log the cursor is for: the same path and the same file (device, inode), so a log
/// that was rotated or replaced is seen as a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogId {
    /// The log's path as given.
    pub path: PathBuf,
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
}

impl LogId {
    /// The identity of the file at `path`.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be looked at.
    pub fn of(path: &Path) -> Result<LogId> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(LogId {
            path: path.to_path_buf(),
            dev: m.dev(),
            ino: m.ino(),
        })
    }
}

/// The outbox's durable position (`<state>/<post>.cursor.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The log this cursor walks.
    pub log: LogId,
    /// Every line before this byte offset is acknowledged or given up.
    pub offset: u64,
    /// The seq of the line that starts at `offset`.
    pub seq: u64,
    /// Highest seq ever handed to the broker, plus one: a new log starts its seqs here, so
    /// that HQ never mistakes its lines for repeats.
    pub next_unused: u64,
    /// Lines past `offset` that the quota gave up, as inclusive seq ranges.
    #[serde(default)]
    pub dropped: Vec<(u64, u64)>,
    /// Lines the quota has given up since this post's outbox began.
    #[serde(default)]
    pub lost: u64,
}

/// What happened when the outbox was opened, for the operator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resumed {
    /// Lines already in the log waiting to be sent (resumed from a cursor).
    pub pending_bytes: u64,
    /// The cursor was for another log: that log's unsent lines will not be sent.
    pub abandoned: Option<PathBuf>,
    /// The log ended in a torn line (a writer killed mid-line), now terminated.
    pub repaired: bool,
}

/// Where a line of the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineState {
    /// Not yet handed to the broker (or handed over on a link that then dropped).
    Unsent,
    /// Published, waiting for the acknowledgement.
    InFlight,
    /// Acknowledged by the broker.
    Acked,
    /// Given up: the quota, or not an alert (a torn line).
    Dropped,
}

/// One line of the outbox past the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// Byte offset in the log.
    pub offset: u64,
    /// Bytes, without the newline.
    pub len: u32,
    /// Its seq.
    pub seq: u64,
    /// The alert's severity (`None`: not an alert line).
    pub severity: Option<Severity>,
    /// Where it stands.
    pub state: LineState,
}

/// Counters of an outbox since it was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    /// Lines read from the log.
    pub read: u64,
    /// Publications handed to the broker (a resend after a lost link counts again).
    pub published: u64,
    /// Lines acknowledged.
    pub acked: u64,
    /// Lines given up to the quota in this run.
    pub lost: u64,
    /// Lines that were not alerts (torn by a killed writer) and were skipped.
    pub unreadable: u64,
}

/// The outbox over an alert log: the lines past the cursor and where each stands.
#[derive(Debug)]
pub struct Outbox {
    cursor: Cursor,
    /// Bytes of the log read so far (lines past the cursor are in `lines`).
    scanned: u64,
    /// Every line past the cursor, in log order; seqs are consecutive.
    lines: VecDeque<Line>,
    /// Index of the first line that may still be unsent.
    send_from: usize,
    /// Most lines not yet acknowledged the outbox keeps; past it the quota gives lines up.
    quota: usize,
    /// Unsent or in flight.
    backlog: usize,
    counts: OutboxCounts,
    dirty: bool,
}

impl Outbox {
    /// Opens the outbox over the log at `log` (created if missing) with the cursor saved at
    /// `cursor_path`; `quota` is the most unacknowledged lines it keeps. A log that ends in
    /// a torn line gets its newline first, so the next alert starts a line of its own.
    ///
    /// # Errors
    /// [`Error::Io`] for the log or the cursor; [`Error::InvalidFile`] for a damaged cursor.
    pub fn open(log: &Path, cursor_path: &Path, quota: usize) -> Result<(Outbox, Resumed)> {
        let io = |source| Error::Io {
            path: log.to_path_buf(),
            source,
        };
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(log)
            .map_err(io)?;
        let mut len = f.metadata().map_err(io)?.len();
        let mut resumed = Resumed::default();
        if len > 0 {
            use std::os::unix::fs::FileExt;
            let mut last = [0u8];
            f.read_exact_at(&mut last, len - 1).map_err(io)?;
            if last[0] != b'\n' {
                f.write_all(b"\n").map_err(io)?;
                f.sync_data().map_err(io)?;
                len += 1;
                resumed.repaired = true;
            }
        }
        let id = LogId::of(log)?;
        let saved: Option<Cursor> = read_state(cursor_path)?;
        let cursor = match saved {
            Some(c) if c.log == id && c.offset <= len => {
                resumed.pending_bytes = len - c.offset;
                c
            }
            other => {
                // A new log, or one that was replaced or truncated under the cursor: its
                // old lines were not meant for the broker; start at its end, with seqs
                // after any this post has used.
                let (next, lost) = match &other {
                    Some(c) => {
                        resumed.abandoned = Some(c.log.path.clone());
                        (c.next_unused.max(c.seq), c.lost)
                    }
                    None => (0, 0),
                };
                Cursor {
                    log: id,
                    offset: len,
                    seq: next,
                    next_unused: next,
                    dropped: Vec::new(),
                    lost,
                }
            }
        };
        let outbox = Outbox {
            scanned: cursor.offset,
            cursor,
            lines: VecDeque::new(),
            send_from: 0,
            quota: quota.max(1),
            backlog: 0,
            counts: OutboxCounts::default(),
            // A fresh cursor is written at once, so that a crash before the first
            // acknowledgement still resumes from here.
            dirty: true,
        };
        Ok((outbox, resumed))
    }

    /// Bytes of the log read so far: read on from here.
    pub fn scanned(&self) -> u64 {
        self.scanned
    }

    /// Takes the log's bytes from [`Outbox::scanned`] on; returns how many it used (whole
    /// lines only: a line still being written waits for its newline).
    pub fn scan(&mut self, bytes: &[u8]) -> usize {
        #[derive(Deserialize)]
        struct Sev {
            severity: Severity,
        }
        let mut used = 0;
        while let Some(nl) = bytes[used..].iter().position(|&b| b == b'\n') {
            let line = &bytes[used..used + nl];
            let seq = self.lines.back().map_or(self.cursor.seq, |l| l.seq + 1);
            let severity = serde_json::from_slice::<Sev>(line).ok().map(|s| s.severity);
            let state = if severity.is_none() {
                self.counts.unreadable += 1;
                LineState::Dropped
            } else if self
                .cursor
                .dropped
                .iter()
                .any(|&(a, b)| (a..=b).contains(&seq))
            {
                // Given up in an earlier run: not counted again.
                LineState::Dropped
            } else {
                self.backlog += 1;
                LineState::Unsent
            };
            self.lines.push_back(Line {
                offset: self.scanned,
                len: nl as u32,
                seq,
                severity,
                state,
            });
            self.counts.read += 1;
            self.scanned += nl as u64 + 1;
            used += nl + 1;
        }
        self.enforce_quota();
        self.advance();
        used
    }

    /// Gives up unsent lines until the backlog fits the quota: info first, then warning,
    /// then critical, the oldest of each first.
    fn enforce_quota(&mut self) {
        if self.backlog <= self.quota {
            return;
        }
        for sev in [Severity::Info, Severity::Warning, Severity::Critical] {
            for i in 0..self.lines.len() {
                if self.backlog <= self.quota {
                    return;
                }
                let l = &mut self.lines[i];
                if l.state == LineState::Unsent && l.severity == Some(sev) {
                    l.state = LineState::Dropped;
                    self.backlog -= 1;
                    self.counts.lost += 1;
                    self.cursor.lost += 1;
                    push_range(&mut self.cursor.dropped, l.seq);
                    self.dirty = true;
                }
            }
        }
    }

    /// The next line to publish, now in flight; `None` when everything is in flight or
    /// acknowledged.
    pub fn next_to_send(&mut self) -> Option<Line> {
        while let Some(l) = self.lines.get_mut(self.send_from) {
            self.send_from += 1;
            if l.state == LineState::Unsent {
                l.state = LineState::InFlight;
                self.counts.published += 1;
                if l.seq + 1 > self.cursor.next_unused {
                    self.cursor.next_unused = l.seq + 1;
                    self.dirty = true;
                }
                return Some(*l);
            }
        }
        None
    }

    /// The broker acknowledged the line with `seq`. Returns false for a seq that is not in
    /// flight (a late acknowledgement from a link already given up).
    pub fn on_ack(&mut self, seq: u64) -> bool {
        let Some(first) = self.lines.front().map(|l| l.seq) else {
            return false;
        };
        let Some(l) = seq
            .checked_sub(first)
            .and_then(|i| self.lines.get_mut(i as usize))
        else {
            return false;
        };
        if l.state != LineState::InFlight {
            return false;
        }
        l.state = LineState::Acked;
        self.backlog -= 1;
        self.counts.acked += 1;
        self.advance();
        true
    }

    /// Gives up a line in flight that cannot be published after all (the log changed under
    /// the reader); counted as unreadable.
    pub fn give_up(&mut self, seq: u64) {
        let Some(first) = self.lines.front().map(|l| l.seq) else {
            return;
        };
        if let Some(l) = seq
            .checked_sub(first)
            .and_then(|i| self.lines.get_mut(i as usize))
        {
            if matches!(l.state, LineState::Unsent | LineState::InFlight) {
                l.state = LineState::Dropped;
                self.backlog -= 1;
                self.counts.unreadable += 1;
                self.advance();
            }
        }
    }

    /// The link dropped: whatever was in flight is unsent again, to be published anew, in
    /// order, on the next link.
    pub fn on_link_lost(&mut self) {
        for l in &mut self.lines {
            if l.state == LineState::InFlight {
                l.state = LineState::Unsent;
            }
        }
        self.send_from = 0;
    }

    /// Moves the cursor past the acknowledged and given-up lines at the front.
    fn advance(&mut self) {
        while let Some(l) = self.lines.front() {
            if !matches!(l.state, LineState::Acked | LineState::Dropped) {
                break;
            }
            self.cursor.offset = l.offset + u64::from(l.len) + 1;
            self.cursor.seq = l.seq + 1;
            self.lines.pop_front();
            self.send_from = self.send_from.saturating_sub(1);
            self.dirty = true;
        }
        if self.lines.is_empty() {
            // Everything read is resolved; later lines start after this.
            self.cursor.offset = self.scanned;
        }
        let seq = self.cursor.seq;
        self.cursor.dropped.retain(|&(_, b)| b >= seq);
    }

    /// Lines not yet acknowledged (unsent or in flight).
    pub fn backlog(&self) -> usize {
        self.backlog
    }

    /// Lines published and not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.state == LineState::InFlight)
            .count()
    }

    /// What happened since the outbox was opened.
    pub fn counts(&self) -> OutboxCounts {
        self.counts
    }

    /// The cursor to save when it has moved since the last [`Outbox::saved`].
    pub fn cursor_to_save(&self) -> Option<&Cursor> {
        self.dirty.then_some(&self.cursor)
    }

    /// The cursor is on disk.
    pub fn saved(&mut self) {
        self.dirty = false;
    }

    /// The current cursor.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }
}

/// Adds `seq` to a list of inclusive ranges kept in order (seqs arrive mostly rising).
fn push_range(ranges: &mut Vec<(u64, u64)>, seq: u64) {
    if let Some(last) = ranges.last_mut() {
        if last.1 + 1 == seq {
            last.1 = seq;
            return;
        }
    }
    ranges.push((seq, seq));
    ranges.sort_unstable();
}

/// Exponential reconnect backoff: 0.5 s doubling to 5 s, each delay scaled by a jitter
/// factor in [0.5, 1) so that many posts that lost one broker do not return at once. The
/// ceiling is low because an attempt costs one TCP handshake, and a border post's link
/// that is back should be used at once.
#[derive(Debug, Clone)]
pub struct Backoff {
    attempt: u32,
    /// First delay.
    pub first: Duration,
    /// Longest delay.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempt: 0,
            first: Duration::from_millis(500),
            max: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// The wait before the next attempt; `jitter` in [0, 1) (a random draw).
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let base = self
            .first
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        base.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// A link came up: start again from the first delay.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// HQ's memory of what it has shown: the highest seq per post. A post publishes its
/// lines in seq order and resends only from its cursor on, so anything at or below the
/// high-water mark is a repeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighWater {
    /// Highest seq seen per post.
    pub posts: BTreeMap<String, u64>,
}

impl HighWater {
    /// True (and remembered) when `seq` is new for `post`; false for a repeat.
    pub fn accept(&mut self, post: &str, seq: u64) -> bool {
        match self.posts.get_mut(post) {
            Some(h) if seq <= *h => false,
            Some(h) => {
                *h = seq;
                true
            }
            None => {
                self.posts.insert(post.to_string(), seq);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{AlertKind, AlertState};

    fn alert(id: u64, severity: Severity) -> Alert {
        Alert {
            id,
            kind: AlertKind::NewEmitter,
            state: AlertState::Raised,
            severity,
            first_seen_s: 1.0,
            last_seen_s: 1.0,
            freq_hz: 433.92e6,
            bandwidth_hz: 12_500.0,
            power_dbfs: -40.0,
            snr_db: 20.0,
            band: None,
            evidence: None,
            activity: None,
        }
    }

    fn line(id: u64, severity: Severity) -> String {
        serde_json::to_string(&alert(id, severity)).unwrap() + "\n"
    }

    /// Appends to the log and lets the outbox read it, as the publisher does.
    fn feed(outbox: &mut Outbox, log: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new().append(true).open(log).unwrap();
        f.write_all(text.as_bytes()).unwrap();
        let all = std::fs::read(log).unwrap();
        let from = outbox.scanned() as usize;
        let used = outbox.scan(&all[from..]);
        // Whole lines only: what is left is the unfinished line, if any.
        assert!(!all[from + used..].contains(&b'\n'));
    }

    fn save(outbox: &mut Outbox, path: &Path) {
        if let Some(c) = outbox.cursor_to_save() {
            write_atomic(path, &serde_json::to_vec(c).unwrap()).unwrap();
        }
        outbox.saved();
    }

    #[test]
    fn broker_urls() {
        let b = Broker::parse("mqtt://127.0.0.1:1884").unwrap();
        assert_eq!((b.host.as_str(), b.port, b.tls), ("127.0.0.1", 1884, false));
        assert_eq!(Broker::parse("mqtts://hq.example").unwrap().port, 8883);
        assert_eq!(Broker::parse("mqtt://hq/").unwrap().port, 1883);
        let v6 = Broker::parse("mqtt://[::1]:1900").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 1900));
        assert_eq!(v6.to_string(), "mqtt://[::1]:1900");
        for bad in [
            "tcp://hq:1883",
            "hq:1883",
            "mqtt://",
            "mqtt://hq:0",
            "mqtt://hq:99999",
            "mqtt://hq:port",
            "mqtt://user:pw@hq",
            "mqtt://hq/kuzet",
        ] {
            let e = Broker::parse(bad).unwrap_err();
            assert!(
                matches!(e, Error::Invalid { field: "url", .. }),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn posts_and_topics() {
        check_post("bp-kapikule-2").unwrap();
        for bad in ["", "a/b", "a+b", "a#", "a b"] {
            assert!(check_post(bad).is_err(), "{bad}");
        }
        let t = Topics::of("p1");
        assert_eq!(t.alerts, "kuzet/p1/alerts");
        assert_eq!(parse_topic(&t.status), Some(("p1", TopicKind::Status)));
        assert_eq!(parse_topic(&t.health), Some(("p1", TopicKind::Health)));
        assert_eq!(parse_topic("kuzet/p1/other"), None);
        assert_eq!(parse_topic("other/p1/alerts"), None);
    }

    #[test]
    fn the_payload_is_the_line_with_post_and_seq_in_front() {
        let l = line(7, Severity::Warning);
        let p = alert_payload("p\"1", 42, l.trim_end().as_bytes()).unwrap();
        let m: AlertMessage = serde_json::from_slice(&p).unwrap();
        assert_eq!((m.post.as_str(), m.seq), ("p\"1", 42));
        assert_eq!(m.alert, alert(7, Severity::Warning));
        assert!(!m.acknowledged);
        assert_eq!(alert_payload("p", 1, b"{\"severity\":\"inf"), None);
        assert_eq!(alert_payload("p", 1, b"[1]"), None);
        assert_eq!(
            alert_payload("p", 1, b"{}").unwrap(),
            b"{\"post\":\"p\",\"seq\":1}"
        );
    }

    #[test]
    fn the_cursor_moves_only_past_acknowledged_lines_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (log, cur) = (dir.path().join("a.jsonl"), dir.path().join("c.json"));
        let (mut ob, r) = Outbox::open(&log, &cur, 100).unwrap();
        assert_eq!(r, Resumed::default());
        save(&mut ob, &cur);
        feed(
            &mut ob,
            &log,
            &(line(1, Severity::Info) + &line(2, Severity::Warning)),
        );
        // A line still being written waits for its newline.
        feed(&mut ob, &log, r#"{"id":3,"#);
        assert_eq!(ob.backlog(), 2);
        let a = ob.next_to_send().unwrap();
        let b = ob.next_to_send().unwrap();
        assert_eq!((a.seq, b.seq), (0, 1));
        assert!(ob.next_to_send().is_none());
        // Acknowledgements out of order: the cursor waits for the first.
        assert!(ob.on_ack(1));
        assert_eq!(ob.cursor().seq, 0);
        assert!(!ob.on_ack(1), "twice");
        assert!(ob.on_ack(0));
        assert_eq!(ob.cursor().seq, 2);
        assert_eq!(ob.cursor().offset, ob.scanned());
        save(&mut ob, &cur);
        // The rest of line 3 and a line 4 arrive; 3 is sent but never acknowledged.
        let rest = serde_json::to_string(&alert(3, Severity::Info)).unwrap();
        feed(
            &mut ob,
            &log,
            &(rest[8..].to_string() + "\n" + &line(4, Severity::Info)),
        );
        let c = ob.next_to_send().unwrap();
        assert_eq!(c.seq, 2);
        save(&mut ob, &cur);
        drop(ob);

        // Killed and restarted: lines 3 and 4 again, with the same seqs.
        let (mut ob, r) = Outbox::open(&log, &cur, 100).unwrap();
        assert!(r.pending_bytes > 0 && r.abandoned.is_none());
        let all = std::fs::read(&log).unwrap();
        ob.scan(&all[ob.scanned() as usize..]);
        assert_eq!(ob.backlog(), 2);
        let again = ob.next_to_send().unwrap();
        assert_eq!(again.seq, 2);
        let text = &all[again.offset as usize..(again.offset + u64::from(again.len)) as usize];
        assert_eq!(serde_json::from_slice::<Alert>(text).unwrap().id, 3);
        assert_eq!(ob.next_to_send().unwrap().seq, 3);
    }

    #[test]
    fn a_lost_link_resends_in_flight_lines_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (log, cur) = (dir.path().join("a.jsonl"), dir.path().join("c.json"));
        let (mut ob, _) = Outbox::open(&log, &cur, 100).unwrap();
        let text: String = (1..=5).map(|i| line(i, Severity::Info)).collect();
        feed(&mut ob, &log, &text);
        for _ in 0..3 {
            ob.next_to_send().unwrap();
        }
        assert!(ob.on_ack(0));
        ob.on_link_lost();
        assert!(!ob.on_ack(1), "a late acknowledgement of a lost link");
        let seqs: Vec<u64> = std::iter::from_fn(|| ob.next_to_send().map(|l| l.seq)).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        assert_eq!(ob.counts().published, 3 + 4);
    }

    #[test]
    fn the_quota_gives_up_the_oldest_info_lines_first_and_remembers_them() {
        let dir = tempfile::tempdir().unwrap();
        let (log, cur) = (dir.path().join("a.jsonl"), dir.path().join("c.json"));
        let (mut ob, _) = Outbox::open(&log, &cur, 3).unwrap();
        let sev = [
            Severity::Warning,
            Severity::Info,
            Severity::Critical,
            Severity::Info,
            Severity::Info,
            Severity::Warning,
        ];
        let text: String = sev
            .iter()
            .enumerate()
            .map(|(i, &s)| line(i as u64, s))
            .collect();
        feed(&mut ob, &log, &text);
        assert_eq!(ob.backlog(), 3);
        assert_eq!(ob.counts().lost, 3);
        let seqs: Vec<u64> = std::iter::from_fn(|| ob.next_to_send().map(|l| l.seq)).collect();
        assert_eq!(seqs, [0, 2, 5], "the warnings and the critical stay");
        assert_eq!(ob.cursor().dropped, [(1, 1), (3, 4)]);
        save(&mut ob, &cur);
        drop(ob);
        // After a restart the given-up lines stay given up, and are not counted again.
        let (mut ob, _) = Outbox::open(&log, &cur, 3).unwrap();
        let all = std::fs::read(&log).unwrap();
        ob.scan(&all[ob.scanned() as usize..]);
        assert_eq!(ob.counts().lost, 0);
        assert_eq!(ob.cursor().lost, 3);
        let seqs: Vec<u64> = std::iter::from_fn(|| ob.next_to_send().map(|l| l.seq)).collect();
        assert_eq!(seqs, [0, 2, 5]);
        for s in seqs {
            ob.on_ack(s);
        }
        assert_eq!(ob.cursor().seq, 6);
        assert!(ob.cursor().dropped.is_empty());
        assert_eq!(ob.backlog(), 0);
    }

    #[test]
    fn a_torn_last_line_is_terminated_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let (log, cur) = (dir.path().join("a.jsonl"), dir.path().join("c.json"));
        let (mut ob, _) = Outbox::open(&log, &cur, 100).unwrap();
        save(&mut ob, &cur);
        feed(&mut ob, &log, &line(1, Severity::Info));
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .unwrap()
            .write_all(b"{\"id\":2,\"ki")
            .unwrap();
        drop(ob);
        let (mut ob, r) = Outbox::open(&log, &cur, 100).unwrap();
        assert!(r.repaired);
        feed(&mut ob, &log, &line(3, Severity::Info));
        assert_eq!(ob.counts().unreadable, 1);
        let seqs: Vec<u64> = std::iter::from_fn(|| ob.next_to_send().map(|l| l.seq)).collect();
        assert_eq!(seqs, [0, 2], "the torn line keeps its seq and is skipped");
    }

    #[test]
    fn a_new_log_continues_the_seqs_of_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let cur = dir.path().join("c.json");
        let old = dir.path().join("old.jsonl");
        let (mut ob, _) = Outbox::open(&old, &cur, 100).unwrap();
        feed(
            &mut ob,
            &old,
            &(line(1, Severity::Info) + &line(2, Severity::Info)),
        );
        ob.next_to_send().unwrap();
        ob.next_to_send().unwrap();
        ob.on_ack(0);
        save(&mut ob, &cur);
        let new = dir.path().join("new.jsonl");
        std::fs::write(&new, line(9, Severity::Info)).unwrap();
        let (mut ob, r) = Outbox::open(&new, &cur, 100).unwrap();
        assert_eq!(r.abandoned.as_deref(), Some(old.as_path()));
        feed(&mut ob, &new, &line(10, Severity::Info));
        let l = ob.next_to_send().unwrap();
        assert_eq!(l.seq, 2, "after every seq the old log handed out");
        assert!(
            ob.next_to_send().is_none(),
            "lines already in the new log are not sent"
        );
    }

    #[test]
    fn backoff_doubles_to_its_ceiling_and_resets() {
        let mut b = Backoff::default();
        let d: Vec<Duration> = (0..10).map(|_| b.next_delay(1.0)).collect();
        assert!(d[0] < Duration::from_millis(501) && d[0] >= Duration::from_millis(499));
        assert!(d[1] > d[0] && d[2] > d[1]);
        assert!(d.iter().all(|&x| x <= Duration::from_secs(5)));
        assert_eq!(d[9], Duration::from_secs(5));
        assert_eq!(b.next_delay(0.0), Duration::from_millis(2500));
        b.reset();
        assert_eq!(b.next_delay(0.0), Duration::from_millis(250));
    }

    #[test]
    fn high_water_drops_repeats_per_post() {
        let mut h = HighWater::default();
        assert!(h.accept("a", 0));
        assert!(h.accept("a", 1));
        assert!(!h.accept("a", 1));
        assert!(!h.accept("a", 0));
        assert!(h.accept("b", 0), "each post has its own seqs");
        assert!(
            h.accept("a", 5),
            "a gap (given up to a post's quota) is fine"
        );
        let back: HighWater = serde_json::from_slice(&serde_json::to_vec(&h).unwrap()).unwrap();
        assert_eq!(back, h);
    }
}
