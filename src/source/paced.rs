//! Real-time pacing for replays: wraps any [`SeekableSource`] (every recording format
//! [`super::open`] reads) and hands out samples no faster than the sample rate × a speed
//! factor, so a training replay looks like the air it was recorded from. The console
//! drives it through a shared [`PaceControl`] (atomics, no locks on the sample path):
//! pause, speed, single step, seek and loop.
//!
//! Seeking moves the read position in the file; the stream's sample index keeps counting
//! (as when a looping file wraps), so the detector keeps its learned noise floor and alert
//! times stay monotonic. The file position is published separately for the status line.
//! Looping lives here rather than in each format's source, so it behaves the same on all.
//!
//! While paused, or when the pace budget is spent, `read` sleeps a few milliseconds and
//! returns [`ReadOutcome::Pending`]: the pipeline then hands on what it has (so the
//! display keeps up at slow speeds) and polls its stop flag (so quitting is prompt).

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{IqSource, ReadOutcome, SampleBuf, SeekableSource};
use crate::error::Result;
use crate::types::StreamMeta;

/// The longest a paused or ahead-of-time read sleeps before returning `Pending`.
const IDLE_SLEEP: Duration = Duration::from_millis(5);

/// What the operator did to a replay, as [`PaceControl::observe`] reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transport {
    /// Paused.
    Pause,
    /// Resumed.
    Resume,
    /// New speed (`None`: as fast as possible).
    Speed(Option<f64>),
    /// One step while paused.
    Step,
    /// A seek by this many samples was asked for (it takes effect at the source's next
    /// read, where the source being read can report it exactly).
    Seek(i64),
    /// Looping on or off.
    Loop(bool),
    /// The end of the recording was reached and the replay holds there (not the
    /// operator's doing).
    HeldAtEnd,
}

/// Called with each [`Transport`] action, on the thread that took it.
pub type TransportObserver = Box<dyn Fn(Transport) + Send + Sync>;

/// The observer slot: set once (an exercise's session log), read on every action.
#[derive(Default)]
struct Observer(OnceLock<TransportObserver>);

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() {
            "Observer(set)"
        } else {
            "Observer(none)"
        })
    }
}

/// Replay controls shared between the console (writer) and the paced source (reader).
#[derive(Debug)]
pub struct PaceControl {
    paused: AtomicBool,
    /// Speed × 1000; 0 means as fast as possible.
    speed_milli: AtomicU32,
    looping: AtomicBool,
    /// Single-step requests not yet served.
    steps: AtomicU64,
    /// Relative seek not yet served, samples.
    seek_delta: AtomicI64,
    /// Bumped on every change of pause or speed, so the source restarts its clock.
    generation: AtomicU64,
    /// Index of the next sample read from the file.
    file_pos: AtomicU64,
    file_len: AtomicU64,
    at_end: AtomicBool,
    /// When the source first reached the end of a non-looping file.
    ended: Mutex<Option<Instant>>,
    /// Told of every operator action (the console stays unaware of who listens).
    observer: Observer,
}

impl PaceControl {
    /// Controls starting at `speed` (`None`: as fast as possible).
    pub fn new(speed: Option<f64>, looping: bool) -> Arc<Self> {
        let c = PaceControl {
            paused: AtomicBool::new(false),
            speed_milli: AtomicU32::new(0),
            looping: AtomicBool::new(looping),
            steps: AtomicU64::new(0),
            seek_delta: AtomicI64::new(0),
            generation: AtomicU64::new(0),
            file_pos: AtomicU64::new(0),
            file_len: AtomicU64::new(0),
            at_end: AtomicBool::new(false),
            ended: Mutex::new(None),
            observer: Observer::default(),
        };
        c.set_speed(speed);
        Arc::new(c)
    }

    /// Has `f` told of every later action (an exercise logs what the trainee does);
    /// false when an observer was already set.
    pub fn observe(&self, f: TransportObserver) -> bool {
        self.observer.0.set(f).is_ok()
    }

    fn notify(&self, t: Transport) {
        if let Some(f) = self.observer.0.get() {
            f(t);
        }
    }

    /// Pauses or resumes.
    pub fn set_paused(&self, on: bool) {
        self.paused.store(on, Relaxed);
        self.generation.fetch_add(1, Relaxed);
        self.notify(if on {
            Transport::Pause
        } else {
            Transport::Resume
        });
    }

    /// Pauses at the end of a held replay (see [`Transport::HeldAtEnd`]).
    fn hold(&self) {
        self.paused.store(true, Relaxed);
        self.generation.fetch_add(1, Relaxed);
        self.notify(Transport::HeldAtEnd);
    }

    /// True while paused (by the operator, or at the end of a held replay).
    pub fn paused(&self) -> bool {
        self.paused.load(Relaxed)
    }

    /// Sets the speed factor; `None` is as fast as the pipeline goes.
    pub fn set_speed(&self, speed: Option<f64>) {
        let milli = speed.map_or(0, |s| ((s * 1000.0).round() as u32).max(1));
        self.speed_milli.store(milli, Relaxed);
        self.generation.fetch_add(1, Relaxed);
        self.notify(Transport::Speed(speed));
    }

    /// The speed factor; `None` is as fast as possible.
    pub fn speed(&self) -> Option<f64> {
        match self.speed_milli.load(Relaxed) {
            0 => None,
            m => Some(f64::from(m) / 1000.0),
        }
    }

    /// Turns looping on or off.
    pub fn set_looping(&self, on: bool) {
        self.looping.store(on, Relaxed);
        self.notify(Transport::Loop(on));
    }

    /// True when the file starts again at its end.
    pub fn looping(&self) -> bool {
        self.looping.load(Relaxed)
    }

    /// While paused, lets one step's worth of samples through.
    pub fn step(&self) {
        self.steps.fetch_add(1, Relaxed);
        self.notify(Transport::Step);
    }

    /// Moves the file position by `samples` (negative: back), clamped to the file.
    pub fn seek_by(&self, samples: i64) {
        self.seek_delta.fetch_add(samples, Relaxed);
        self.notify(Transport::Seek(samples));
    }

    /// Index of the next sample read from the file.
    pub fn file_position(&self) -> u64 {
        self.file_pos.load(Relaxed)
    }

    /// Samples in the file.
    pub fn file_len(&self) -> u64 {
        self.file_len.load(Relaxed)
    }

    /// True while held at the end of a non-looping file.
    pub fn at_end(&self) -> bool {
        self.at_end.load(Relaxed)
    }

    /// When the end of the file was first reached (for throughput figures).
    pub fn ended(&self) -> Option<Instant> {
        self.ended.lock().ok().and_then(|g| *g)
    }
}

/// A recording paced to real time × speed.
pub struct PacedSource {
    inner: Box<dyn SeekableSource>,
    /// The recording's metadata; a looping stream has no total length.
    meta: StreamMeta,
    ctl: Arc<PaceControl>,
    /// At the end of a non-looping file, pause (so the operator can seek back) instead of
    /// ending the stream.
    hold_at_end: bool,
    /// Samples one step lets through (one spectrum's span).
    step_samples: u64,
    step_left: u64,
    /// Wall time and samples delivered when the pace clock last restarted.
    anchor: Option<(Instant, u64)>,
    seen_generation: u64,
    delivered: u64,
}

impl std::fmt::Debug for PacedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacedSource")
            .field("ctl", &self.ctl)
            .field("delivered", &self.delivered)
            .finish()
    }
}

impl PacedSource {
    /// Paces `inner` under `ctl`; a step lets `step_samples` samples through.
    pub fn new(
        inner: Box<dyn SeekableSource>,
        ctl: Arc<PaceControl>,
        step_samples: usize,
        hold_at_end: bool,
    ) -> Self {
        ctl.file_len.store(inner.len_samples(), Relaxed);
        ctl.file_pos.store(inner.position(), Relaxed);
        let mut meta = inner.meta().clone();
        if ctl.looping() {
            meta.total_samples = None;
        }
        PacedSource {
            inner,
            meta,
            ctl,
            hold_at_end,
            step_samples: step_samples.max(1) as u64,
            step_left: 0,
            anchor: None,
            seen_generation: u64::MAX,
            delivered: 0,
        }
    }

    fn serve_seek(&mut self) {
        let delta = self.ctl.seek_delta.swap(0, Relaxed);
        if delta == 0 {
            return;
        }
        let len = self.inner.len_samples() as i64;
        let pos = self.inner.position() as i64;
        let to = (pos + delta).clamp(0, (len - 1).max(0));
        self.inner.seek(to as u64);
        self.ctl.file_pos.store(to as u64, Relaxed);
        self.ctl.at_end.store(false, Relaxed);
        self.anchor = None;
    }

    /// How many samples the pace clock allows now, or `None` to wait.
    fn budget(&mut self, want: usize) -> Option<usize> {
        let rate = self.inner.meta().sample_rate_hz;
        let Some(speed) = self.ctl.speed() else {
            return Some(want);
        };
        let generation = self.ctl.generation.load(Relaxed);
        if generation != self.seen_generation {
            self.seen_generation = generation;
            self.anchor = None;
        }
        let (t0, n0) = *self
            .anchor
            .get_or_insert_with(|| (Instant::now(), self.delivered));
        let due = (t0.elapsed().as_secs_f64() * rate * speed) as u64;
        let allowed = (n0 + due).saturating_sub(self.delivered);
        // Reads of at least a few milliseconds of stream, so pacing does not turn into
        // one tiny read per wake-up.
        let min_chunk = ((rate * speed * IDLE_SLEEP.as_secs_f64()) as u64).clamp(1, want as u64);
        if allowed >= min_chunk {
            Some(allowed.min(want as u64) as usize)
        } else {
            let wait = (min_chunk - allowed) as f64 / (rate * speed);
            std::thread::sleep(Duration::from_secs_f64(wait).min(IDLE_SLEEP));
            None
        }
    }
}

impl IqSource for PacedSource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        // Complex floats only: a replay converts an 8- or 16-bit recording as it reads.
        let buf = buf.cf32()?;
        self.serve_seek();
        let want = if self.ctl.paused() {
            if self.step_left == 0 && self.ctl.steps.load(Relaxed) > 0 {
                self.ctl.steps.fetch_sub(1, Relaxed);
                self.step_left = self.step_samples;
            }
            if self.step_left == 0 {
                std::thread::sleep(IDLE_SLEEP);
                return Ok(ReadOutcome::Pending);
            }
            buf.len().min(self.step_left as usize)
        } else {
            self.step_left = 0;
            match self.budget(buf.len()) {
                Some(n) => n,
                None => return Ok(ReadOutcome::Pending),
            }
        };
        let outcome = match self.inner.read_cf32(&mut buf[..want])? {
            ReadOutcome::Eof if self.ctl.looping() => {
                self.inner.seek(0);
                self.inner.read_cf32(&mut buf[..want])?
            }
            other => other,
        };
        match outcome {
            ReadOutcome::Samples(n) => {
                self.delivered += n as u64;
                self.step_left = self.step_left.saturating_sub(n as u64);
                self.ctl.file_pos.store(self.inner.position(), Relaxed);
                Ok(ReadOutcome::Samples(n))
            }
            ReadOutcome::Eof if self.hold_at_end => {
                if !self.ctl.at_end.swap(true, Relaxed) {
                    if let Ok(mut g) = self.ctl.ended.lock() {
                        g.get_or_insert_with(Instant::now);
                    }
                    self.ctl.hold();
                }
                self.step_left = 0;
                std::thread::sleep(IDLE_SLEEP);
                Ok(ReadOutcome::Pending)
            }
            other => Ok(other),
        }
    }

    fn non_finite_samples(&self) -> u64 {
        self.inner.non_finite_samples()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{CaptureWriter, WriterOptions};
    use num_complex::Complex32;

    /// A recording's source, as `open` gives it.
    fn open(path: &std::path::Path) -> Box<dyn SeekableSource> {
        crate::source::open(path, &crate::source::OpenOptions::default())
            .unwrap()
            .source
    }

    fn capture(dir: &tempfile::TempDir, n: usize, rate: f64) -> std::path::PathBuf {
        let path = dir.path().join("p.h5");
        let meta = StreamMeta {
            sample_rate_hz: rate,
            center_freq_hz: 100e6,
            start_time_utc: None,
            gain_db: None,
            device: "test".into(),
            description: String::new(),
            origin: String::new(),
            total_samples: None,
            live: false,
        };
        let mut w = CaptureWriter::create(&path, &meta, &WriterOptions::default()).unwrap();
        let samples: Vec<Complex32> = (0..n).map(|i| Complex32::new(i as f32, 0.0)).collect();
        w.append(&samples).unwrap();
        w.finish().unwrap();
        path
    }

    fn drain(src: &mut PacedSource, buf: &mut [Complex32]) -> (u64, bool) {
        let mut got = 0;
        loop {
            match src.read_cf32(buf).unwrap() {
                ReadOutcome::Samples(n) => got += n as u64,
                ReadOutcome::Eof => return (got, true),
                _ => return (got, false),
            }
        }
    }

    #[test]
    fn max_speed_reads_the_whole_file_and_real_time_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = capture(&dir, 100_000, 1e6);
        let mut buf = vec![Complex32::default(); 4096];
        let ctl = PaceControl::new(None, false);
        let mut fast = PacedSource::new(open(&path), ctl, 100, false);
        assert_eq!(drain(&mut fast, &mut buf), (100_000, true));

        // At 1x a 100 ms file cannot be read in the first few milliseconds.
        let ctl = PaceControl::new(Some(1.0), false);
        let mut paced = PacedSource::new(open(&path), ctl, 100, false);
        let t = Instant::now();
        let mut got = 0;
        while t.elapsed() < Duration::from_millis(20) {
            if let ReadOutcome::Samples(n) = paced.read_cf32(&mut buf).unwrap() {
                got += n as u64;
            }
        }
        assert!(got > 0 && got < 60_000, "{got}");
    }

    #[test]
    fn loops_and_seeks_over_a_raw_recording() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ramp_1M.cs8");
        let bytes: Vec<u8> = (0..100u8).flat_map(|i| [i, 0]).collect();
        std::fs::write(&path, bytes).unwrap();
        let raw = open(&path);
        let ctl = PaceControl::new(None, true);
        let mut src = PacedSource::new(raw, ctl.clone(), 10, false);
        assert_eq!(src.meta().total_samples, None);
        assert_eq!(ctl.file_len(), 100);
        let mut buf = vec![Complex32::default(); 64];
        let mut got: Vec<u32> = Vec::new();
        while got.len() < 250 {
            let ReadOutcome::Samples(n) = src.read_cf32(&mut buf).unwrap() else {
                panic!("a looping replay does not end");
            };
            got.extend(buf[..n].iter().map(|s| (s.re * 128.0) as u32));
        }
        let want: Vec<u32> = (0..got.len() as u32).map(|i| i % 100).collect();
        assert_eq!(got, want);
        assert_eq!(ctl.file_position(), got.len() as u64 % 100);

        // Without looping the end ends the stream; seeks clamp to the recording.
        ctl.set_looping(false);
        let (_, eof) = drain(&mut src, &mut buf);
        assert!(eof);
        ctl.seek_by(1_000);
        assert_eq!(src.read_cf32(&mut buf).unwrap(), ReadOutcome::Samples(1));
        assert_eq!(buf[0].re * 128.0, 99.0);
        ctl.seek_by(-1_000);
        assert_eq!(src.read_cf32(&mut buf).unwrap(), ReadOutcome::Samples(64));
        assert_eq!(buf[0].re, 0.0);
    }

    #[test]
    fn an_observer_hears_the_operator_and_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = capture(&dir, 1_000, 1e6);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let ctl = PaceControl::new(None, false);
        let h = heard.clone();
        assert!(ctl.observe(Box::new(move |t| h.lock().unwrap().push(t))));
        assert!(!ctl.observe(Box::new(|_| {})), "set once");
        let mut src = PacedSource::new(open(&path), ctl.clone(), 100, true);
        ctl.set_speed(Some(2.0));
        ctl.set_paused(true);
        ctl.step();
        ctl.seek_by(-5);
        ctl.set_looping(true);
        ctl.set_looping(false);
        ctl.set_paused(false);
        ctl.set_speed(None);
        let mut buf = vec![Complex32::default(); 4096];
        drain(&mut src, &mut buf);
        use Transport::*;
        assert_eq!(
            heard.lock().unwrap()[..],
            [
                Speed(Some(2.0)),
                Pause,
                Step,
                Seek(-5),
                Loop(true),
                Loop(false),
                Resume,
                Speed(None),
                HeldAtEnd
            ]
        );
    }

    #[test]
    fn pause_step_seek_and_hold_at_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = capture(&dir, 10_000, 1e6);
        let mut buf = vec![Complex32::default(); 4096];
        let ctl = PaceControl::new(None, false);
        let mut src = PacedSource::new(open(&path), ctl.clone(), 300, true);
        ctl.set_paused(true);
        assert_eq!(src.read_cf32(&mut buf).unwrap(), ReadOutcome::Pending);
        ctl.step();
        assert_eq!(src.read_cf32(&mut buf).unwrap(), ReadOutcome::Samples(300));
        assert_eq!(src.read_cf32(&mut buf).unwrap(), ReadOutcome::Pending);
        assert_eq!(ctl.file_position(), 300);

        ctl.seek_by(5_000);
        ctl.set_paused(false);
        assert_eq!(src.read_cf32(&mut buf).unwrap(), ReadOutcome::Samples(4096));
        assert_eq!(buf[0].re, 5_300.0);
        // The end holds (paused, at_end) instead of ending the stream.
        let (_, eof) = drain(&mut src, &mut buf);
        assert!(!eof);
        assert!(ctl.at_end() && ctl.paused() && ctl.ended().is_some());
        // Seeking back and resuming plays again.
        ctl.seek_by(-20_000);
        ctl.set_paused(false);
        assert_eq!(src.read_cf32(&mut buf).unwrap(), ReadOutcome::Samples(4096));
        assert_eq!(buf[0].re, 0.0);
        assert!(!ctl.at_end());
    }
}
