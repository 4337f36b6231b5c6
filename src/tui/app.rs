//! The console's state, and the only place it changes: [`App::update`] for operator
//! actions, [`App::on_frame`] / [`App::on_alert`] / [`App::on_stats`] for data. Pure: no
//! terminal, no threads, no clock. What the outside world must do (pause the replay,
//! write an acknowledgement) comes back as an [`Effect`].

use std::collections::VecDeque;

use super::desk::{Desk, DeskEntry};
use crate::alert::{Alert, Severity};
use crate::dsp::{FreqGrid, SpectrumConfig};
use crate::pipeline::UiFrame;
use crate::types::{SampleIndex, StreamMeta};

/// Replay speeds the speed keys step through; `None` is as fast as the pipeline goes.
pub const SPEEDS: [Option<f64>; 8] = [
    Some(0.25),
    Some(0.5),
    Some(1.0),
    Some(2.0),
    Some(4.0),
    Some(8.0),
    Some(16.0),
    None,
];

/// Seconds one seek key moves.
pub const SEEK_S: f64 = 10.0;

/// Waterfall rows kept (more than the tallest screen shows, at two rows per cell).
const WATERFALL_ROWS: usize = 512;

/// Display frames folded (bin-wise maximum) into one waterfall row: at 30 frames/s, 10
/// rows/s, so even an 80×24 screen shows a couple of seconds of history, and the
/// waterfall (the costliest pane to send to a terminal) changes on one frame in three.
pub const FRAMES_PER_ROW: u32 = 3;

/// Alerts kept on the desk; beyond this the oldest cleared ones go first.
const DESK_MAX: usize = 500;

/// What an operator asks for (after [`super::keymap`] has read the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the console.
    Quit,
    /// Show or hide the key list.
    ToggleHelp,
    /// Stop taking new spectra (alerts keep arriving).
    FreezeDisplay,
    /// Select the next newer alert.
    SelectNewer,
    /// Select the next older alert.
    SelectOlder,
    /// Select the newest alert.
    SelectNewest,
    /// Acknowledge the selected alert.
    Acknowledge,
    /// Centre the frequency axis on the selected alert.
    JumpToAlert,
    /// Halve the displayed span.
    ZoomIn,
    /// Double the displayed span.
    ZoomOut,
    /// Move the displayed span down in frequency.
    PanLeft,
    /// Move the displayed span up in frequency.
    PanRight,
    /// Show the whole band.
    FullSpan,
    /// Move the dB range up.
    DbUp,
    /// Move the dB range down.
    DbDown,
    /// Narrow the dB range (more contrast).
    DbNarrow,
    /// Widen the dB range.
    DbWiden,
    /// Toggle automatic dB range.
    AutoScale,
    /// Toggle the max-hold trace (restarts it).
    ToggleMaxHold,
    /// Replay: pause or resume.
    PlayPause,
    /// Replay: next faster speed.
    Faster,
    /// Replay: next slower speed.
    Slower,
    /// Replay: one spectrum forward (pauses).
    Step,
    /// Replay: back [`SEEK_S`].
    SeekBack,
    /// Replay: forward [`SEEK_S`].
    SeekForward,
    /// Replay: toggle looping.
    ToggleLoop,
    /// Sweep: show the next band of the sweep.
    NextBand,
    /// Sweep: show the previous band of the sweep.
    PrevBand,
}

/// What the console loop must do on the state's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Leave.
    Quit,
    /// Pause (true) or resume the replay source.
    Pause(bool),
    /// New replay speed (`None`: max).
    Speed(Option<f64>),
    /// Let one spectrum through.
    Step,
    /// Move the file position by this many seconds.
    Seek(f64),
    /// Go back to the start of the file and play.
    Restart,
    /// Looping on or off.
    Loop(bool),
    /// Write this acknowledgement to the alert log.
    Acknowledged(Alert),
}

/// The stream being watched, for the status line.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    /// File path or device arguments.
    pub origin: String,
    /// A live radio (no replay keys) or a capture.
    pub live: bool,
    /// RF centre frequency.
    pub center_freq_hz: f64,
    /// Complex samples per second.
    pub sample_rate_hz: f64,
    /// Receiver gain when known.
    pub gain_db: Option<f64>,
    /// FFT size.
    pub fft_len: usize,
    /// Resolution bandwidth.
    pub rbw_hz: f64,
}

impl SourceInfo {
    /// The description of `meta` analysed with `spectrum` (a live source or a capture, as
    /// `meta.live` says).
    pub fn new(meta: &StreamMeta, spectrum: &SpectrumConfig) -> Self {
        SourceInfo {
            // A file name is the operator's, but one from an archive is not: never let it
            // write escape sequences to the terminal.
            origin: crate::units::one_line(&meta.origin),
            live: meta.live,
            center_freq_hz: meta.center_freq_hz,
            sample_rate_hz: meta.sample_rate_hz,
            gain_db: meta.gain_db,
            fft_len: spectrum.fft_len,
            rbw_hz: spectrum.rbw_hz(meta.sample_rate_hz),
        }
    }
}

/// One band of a sweep as the console lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepBand {
    /// Its name in the band plan.
    pub name: String,
    /// The swept part of it.
    pub lo_hz: f64,
    /// Upper edge of the swept part.
    pub hi_hz: f64,
    /// Its priority.
    pub priority: Severity,
    /// Mean revisit time of its worst-placed step, s.
    pub revisit_s: f64,
    /// Probability that one visit sees the stated pulse train.
    pub per_visit: f64,
    /// When nine in ten such trains are reported, if within the model's horizon, s.
    pub t90_s: Option<f64>,
}

/// A sweep, for the console: the panorama it draws and what each band can promise.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepInfo {
    /// The panorama's bins (what spectra and waterfall rows hold).
    pub panorama: FreqGrid,
    /// What is swept, for the status line.
    pub summary: String,
    /// Swept bands, in band-plan order.
    pub bands: Vec<SweepBand>,
}

/// The console's sweep state.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepView {
    /// The sweep.
    pub info: SweepInfo,
    /// The frequency range of the step being measured now.
    pub measuring: Option<(f64, f64)>,
    /// The band shown by the band keys, if one is.
    pub band: Option<usize>,
}

/// Replay transport state, mirrored from the paced source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReplayState {
    /// Paused by the operator or held at the end.
    pub paused: bool,
    /// Index into [`SPEEDS`].
    pub speed: usize,
    /// The file starts again at its end.
    pub looping: bool,
    /// Held at the end of the file.
    pub at_end: bool,
    /// File position and length, samples.
    pub file_pos: u64,
    /// Samples in the file.
    pub file_len: u64,
}

/// Live figures for the status line, computed by the console loop from the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// Input processed, million samples per second of wall time.
    pub msps: f64,
    /// Stream time per wall time, as million samples of stream per second: the same as
    /// `msps` for a fixed tune without drops; a sweep's settle samples count here, not there.
    pub stream_msps: f64,
    /// Samples lost.
    pub dropped: u64,
    /// Stream index of the newest sample read.
    pub stream_pos: SampleIndex,
    /// Recording to a file (the recorder's slot on the status line).
    pub recording: bool,
    /// The pipeline has finished (end of stream or error).
    pub ended: bool,
    /// The MQTT link, when the run publishes.
    pub link: Option<LinkState>,
}

/// The MQTT link as the status line shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkState {
    /// Connected to the broker.
    pub connected: bool,
    /// Alert lines not yet acknowledged.
    pub backlog: u64,
    /// Alert lines given up to the outbox quota in this run.
    pub lost: u64,
}

/// One waterfall row: a spectrum in dB and the alerts raised while it was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallRow {
    /// Power per bin, dB.
    pub power_db: Vec<f32>,
    /// Stream index at the end of the row.
    pub end: SampleIndex,
    /// Alerts raised during this row: frequency and severity.
    pub marks: Vec<(f64, Severity)>,
}

/// The frequency span on screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct View {
    /// Lowest frequency shown.
    pub lo_hz: f64,
    /// Highest frequency shown.
    pub hi_hz: f64,
}

impl View {
    /// Width of the span.
    pub fn span_hz(&self) -> f64 {
        self.hi_hz - self.lo_hz
    }
}

/// The console state.
#[derive(Debug, Clone)]
pub struct App {
    /// The stream.
    pub info: SourceInfo,
    /// Bin ↔ frequency.
    pub grid: FreqGrid,
    /// Frequency span shown.
    pub view: View,
    /// Bottom of the dB scale.
    pub db_lo: f32,
    /// Top of the dB scale.
    pub db_hi: f32,
    /// The dB scale follows the floor and the peaks.
    pub auto_scale: bool,
    /// Latest spectrum, dB per bin (empty before the first frame).
    pub trace: Vec<f32>,
    /// Latest noise floor, dB per bin.
    pub floor: Vec<f32>,
    /// Fast detection threshold over the floor, dB.
    pub threshold_over_floor_db: f32,
    /// Maximum of every trace since max-hold was (re)started.
    pub max_hold: Vec<f32>,
    /// Draw the max-hold trace.
    pub show_max_hold: bool,
    /// Newest first.
    pub waterfall: VecDeque<WaterfallRow>,
    /// The waterfall row being folded, and how many frames it holds.
    row_acc: WaterfallRow,
    row_frames: u32,
    /// The alert desk.
    pub desk: Desk,
    /// Not taking new spectra.
    pub frozen: bool,
    /// Key list shown.
    pub help: bool,
    /// Transport state when replaying a capture.
    pub replay: Option<ReplayState>,
    /// Throughput and counters.
    pub stats: Stats,
    /// A one-line notice for the operator (e.g. where an acknowledgement went).
    pub notice: Option<String>,
    /// The operator asked to leave.
    pub quit: bool,
    /// A sweep's panorama, bands and the step being measured.
    pub sweep: Option<SweepView>,
}

impl App {
    /// A console for the stream described by `info`, with spectra on `grid`; `replay` when
    /// the source is a paced capture.
    pub fn new(info: SourceInfo, grid: FreqGrid, replay: Option<ReplayState>) -> Self {
        let view = full_view(&grid);
        App {
            info,
            grid,
            view,
            db_lo: -100.0,
            db_hi: -20.0,
            auto_scale: true,
            trace: Vec::new(),
            floor: Vec::new(),
            threshold_over_floor_db: 0.0,
            max_hold: Vec::new(),
            show_max_hold: true,
            waterfall: VecDeque::with_capacity(WATERFALL_ROWS),
            row_acc: WaterfallRow {
                power_db: Vec::new(),
                end: 0,
                marks: Vec::new(),
            },
            row_frames: 0,
            desk: Desk::new(DESK_MAX),
            frozen: false,
            help: false,
            replay,
            stats: Stats::default(),
            notice: None,
            quit: false,
            sweep: None,
        }
    }

    /// The console of a sweep (its `grid` is the panorama's).
    pub fn with_sweep(mut self, info: SweepInfo) -> Self {
        self.sweep = Some(SweepView {
            info,
            measuring: None,
            band: None,
        });
        self
    }

    /// Applies an operator action; returns what the outside must do.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        use Action as A;
        match action {
            A::Quit => {
                self.quit = true;
                return Some(Effect::Quit);
            }
            A::ToggleHelp => self.help = !self.help,
            A::FreezeDisplay => self.frozen = !self.frozen,
            A::SelectNewer => self.desk.select_newer(),
            A::SelectOlder => self.desk.select_older(),
            A::SelectNewest => self.desk.select_newest(),
            A::Acknowledge => {
                let e = self.desk.acknowledge_selected()?;
                return Some(Effect::Acknowledged(e.alert.clone()));
            }
            A::JumpToAlert => self.jump_to_alert(),
            A::ZoomIn => self.zoom(0.5),
            A::ZoomOut => self.zoom(2.0),
            A::PanLeft => self.pan(-0.25),
            A::PanRight => self.pan(0.25),
            A::FullSpan => self.view = full_view(&self.grid),
            A::DbUp => self.shift_db(5.0),
            A::DbDown => self.shift_db(-5.0),
            A::DbNarrow => self.scale_db(-10.0),
            A::DbWiden => self.scale_db(10.0),
            A::AutoScale => self.auto_scale = !self.auto_scale,
            A::ToggleMaxHold => {
                self.show_max_hold = !self.show_max_hold;
                self.max_hold.clear();
            }
            A::PlayPause => match self.replay.as_mut() {
                Some(r) => {
                    r.paused = !r.paused;
                    if !r.paused && r.at_end {
                        // Resuming at the end would stop again at once: start over.
                        r.at_end = false;
                        r.file_pos = 0;
                        return Some(Effect::Restart);
                    }
                    return Some(Effect::Pause(r.paused));
                }
                // A live source cannot pause; the display can.
                None => self.frozen = !self.frozen,
            },
            A::Faster | A::Slower => {
                let r = self.replay.as_mut()?;
                r.speed = if action == A::Faster {
                    (r.speed + 1).min(SPEEDS.len() - 1)
                } else {
                    r.speed.saturating_sub(1)
                };
                return Some(Effect::Speed(SPEEDS[r.speed]));
            }
            A::Step => {
                let r = self.replay.as_mut()?;
                r.paused = true;
                return Some(Effect::Step);
            }
            A::SeekBack | A::SeekForward => {
                let r = self.replay.as_mut()?;
                r.at_end = false;
                let s = if action == A::SeekBack {
                    -SEEK_S
                } else {
                    SEEK_S
                };
                return Some(Effect::Seek(s));
            }
            A::ToggleLoop => {
                let r = self.replay.as_mut()?;
                r.looping = !r.looping;
                return Some(Effect::Loop(r.looping));
            }
            A::NextBand => self.show_band(1),
            A::PrevBand => self.show_band(-1),
        }
        None
    }

    /// Zooms to the next (`step` 1) or previous (-1) band of a sweep, in band-plan order.
    fn show_band(&mut self, step: isize) {
        let Some(sw) = self.sweep.as_mut() else {
            return;
        };
        let n = sw.info.bands.len() as isize;
        if n == 0 {
            return;
        }
        let i = match sw.band {
            Some(i) => (i as isize + step).rem_euclid(n),
            None if step > 0 => 0,
            None => n - 1,
        } as usize;
        sw.band = Some(i);
        let b = &sw.info.bands[i];
        // A little of the floor either side, so the band's edges show.
        let margin = (b.hi_hz - b.lo_hz) * 0.05;
        let (lo, hi) = (b.lo_hz - margin, b.hi_hz + margin);
        self.view = self.clamp_view(lo, hi);
    }

    /// The selected desk entry (the desk is drawn newest first).
    pub fn selected_entry(&self) -> Option<&DeskEntry> {
        self.desk.selected_entry()
    }

    fn jump_to_alert(&mut self) {
        let Some(e) = self.selected_entry() else {
            return;
        };
        let bin = self.grid.bin_hz();
        // Wide enough to see the emitter and the floor either side of it.
        let span = (e.alert.bandwidth_hz * 8.0).max(64.0 * bin);
        let f = e.alert.freq_hz;
        self.view = self.clamp_view(f - span / 2.0, f + span / 2.0);
    }

    fn zoom(&mut self, factor: f64) {
        let c = (self.view.lo_hz + self.view.hi_hz) / 2.0;
        let half = self.view.span_hz() * factor / 2.0;
        self.view = self.clamp_view(c - half, c + half);
    }

    fn pan(&mut self, fraction: f64) {
        let d = self.view.span_hz() * fraction;
        self.view = self.clamp_view(self.view.lo_hz + d, self.view.hi_hz + d);
    }

    /// Keeps the view inside the band and at least 16 bins wide, preserving its span
    /// when it can (so panning at an edge stops rather than shrinks).
    fn clamp_view(&self, lo: f64, hi: f64) -> View {
        let full = full_view(&self.grid);
        let span = (hi - lo).max(16.0 * self.grid.bin_hz()).min(full.span_hz());
        let c = (lo + hi) / 2.0;
        let lo = (c - span / 2.0).clamp(full.lo_hz, full.hi_hz - span);
        View {
            lo_hz: lo,
            hi_hz: lo + span,
        }
    }

    fn shift_db(&mut self, d: f32) {
        self.auto_scale = false;
        self.db_lo += d;
        self.db_hi += d;
    }

    fn scale_db(&mut self, d: f32) {
        self.auto_scale = false;
        let lo = self.db_lo - d / 2.0;
        let hi = self.db_hi + d / 2.0;
        if hi - lo >= 10.0 && hi - lo <= 200.0 {
            self.db_lo = lo;
            self.db_hi = hi;
        }
    }

    /// Takes a display frame from the pipeline (ignored while frozen).
    pub fn on_frame(&mut self, frame: UiFrame) {
        if self.frozen {
            return;
        }
        if let Some(sw) = self.sweep.as_mut() {
            sw.measuring = frame.step;
        }
        if self.show_max_hold {
            if self.max_hold.len() == frame.power_db.len() {
                for (m, &p) in self.max_hold.iter_mut().zip(&frame.power_db) {
                    *m = m.max(p);
                }
            } else {
                self.max_hold.clone_from(&frame.power_db);
            }
        }
        let acc = &mut self.row_acc;
        if self.row_frames == 0 || acc.power_db.len() != frame.power_db.len() {
            acc.power_db.clone_from(&frame.power_db);
        } else {
            for (a, &p) in acc.power_db.iter_mut().zip(&frame.power_db) {
                *a = a.max(p);
            }
        }
        acc.end = frame.end;
        self.row_frames += 1;
        // Stepping a paused replay: every step is worth a row of its own.
        let stepping = self.replay.is_some_and(|r| r.paused);
        if self.row_frames >= FRAMES_PER_ROW || stepping {
            self.push_row();
        }
        self.trace = frame.power_db;
        self.floor = frame.floor_db;
        self.threshold_over_floor_db = frame.threshold_over_floor_db;
        if self.auto_scale {
            self.autoscale();
        }
    }

    /// Moves the folded row onto the waterfall, reusing the oldest row's buffers once the
    /// waterfall is full (no allocation per row in the steady state).
    fn push_row(&mut self) {
        let spare = if self.waterfall.len() >= WATERFALL_ROWS {
            self.waterfall.pop_back()
        } else {
            None
        };
        let mut row = spare.unwrap_or_else(|| WaterfallRow {
            power_db: Vec::new(),
            end: 0,
            marks: Vec::new(),
        });
        row.marks.clear();
        std::mem::swap(&mut row, &mut self.row_acc);
        self.waterfall.push_front(row);
        self.row_frames = 0;
    }

    /// Fits the dB range to the floor (10 dB of noise visible below it) and the peaks,
    /// in 5 dB steps and with hysteresis so the scale does not flicker.
    fn autoscale(&mut self) {
        // A sweep's panorama has bins nothing measured (NaN): they say nothing of the floor.
        let mut f: Vec<f32> = self
            .floor
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        if f.is_empty() {
            return;
        }
        let mid = f.len() / 2;
        let (_, &mut median, _) = f.select_nth_unstable_by(mid, f32::total_cmp);
        let peak = self
            .trace
            .iter()
            .chain(self.max_hold.iter())
            .copied()
            .fold(f32::MIN, f32::max);
        let lo = ((median - 10.0) / 5.0).floor() * 5.0;
        let hi = (((peak + 5.0) / 5.0).ceil() * 5.0).max(lo + 30.0);
        if (lo - self.db_lo).abs() >= 5.0 {
            self.db_lo = lo;
        }
        if hi > self.db_hi || hi < self.db_hi - 10.0 {
            self.db_hi = hi;
        }
        if self.db_hi - self.db_lo < 30.0 {
            self.db_hi = self.db_lo + 30.0;
        }
    }

    /// Takes an alert state change: a new entry when raised (marked on the waterfall),
    /// else updates its entry.
    pub fn on_alert(&mut self, alert: Alert) {
        let mark = (alert.freq_hz, alert.severity);
        if self.desk.take(alert, None, false) && mark.0 > 0.0 {
            self.row_acc.marks.push(mark);
        }
    }

    /// Takes fresh counters (and, on a replay, the transport state).
    pub fn on_stats(&mut self, stats: Stats, replay: Option<ReplayState>) {
        self.stats = stats;
        if let (Some(mine), Some(theirs)) = (self.replay.as_mut(), replay) {
            // The source is the authority on position and on pausing at the end; speed
            // and loop are the operator's.
            mine.paused = theirs.paused;
            mine.at_end = theirs.at_end;
            mine.file_pos = theirs.file_pos;
            mine.file_len = theirs.file_len;
        }
    }

    /// Alerts per severity among those not cleared: (critical, warning, info).
    pub fn active_counts(&self) -> (usize, usize, usize) {
        self.desk.active_counts()
    }
}

/// The whole band the spectra cover.
pub fn full_view(grid: &FreqGrid) -> View {
    View {
        lo_hz: grid.freq_of(0.0) - grid.bin_hz() / 2.0,
        hi_hz: grid.freq_of(grid.bins as f64) - grid.bin_hz() / 2.0,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alert::{AlertKind, AlertState};
    use crate::tui::desk::DeskState;

    pub(crate) fn grid() -> FreqGrid {
        FreqGrid {
            bins: 1024,
            sample_rate_hz: 2.4e6,
            center_freq_hz: 433.92e6,
        }
    }

    pub(crate) fn info() -> SourceInfo {
        SourceInfo {
            origin: "captures/demo.h5".into(),
            live: false,
            center_freq_hz: 433.92e6,
            sample_rate_hz: 2.4e6,
            gain_db: Some(30.0),
            fft_len: 1024,
            rbw_hz: 3515.6,
        }
    }

    pub(crate) fn replay() -> ReplayState {
        ReplayState {
            paused: false,
            speed: 2,
            looping: false,
            at_end: false,
            file_pos: 0,
            file_len: 12_000_000,
        }
    }

    pub(crate) fn alert(id: u64, freq_hz: f64, severity: Severity) -> Alert {
        Alert {
            id,
            kind: AlertKind::NewEmitter,
            state: AlertState::Raised,
            severity,
            first_seen_s: id as f64,
            last_seen_s: id as f64,
            freq_hz,
            bandwidth_hz: 12_500.0,
            power_dbfs: -41.5,
            snr_db: 18.2,
            band: None,
            evidence: None,
            activity: None,
        }
    }

    /// A noise floor at -80 dB with a carrier at `bin`.
    pub(crate) fn frame(end: u64, bin: usize) -> UiFrame {
        let mut power_db = vec![-80.0; 1024];
        power_db[bin] = -30.0;
        UiFrame {
            start: end.saturating_sub(24_000),
            end,
            power_db,
            floor_db: vec![-80.0; 1024],
            threshold_over_floor_db: 12.0,
            step: None,
        }
    }

    #[test]
    fn alerts_arrive_newest_first_and_selection_follows_its_alert() {
        let mut app = App::new(info(), grid(), Some(replay()));
        app.on_alert(alert(1, 433.5e6, Severity::Warning));
        app.on_alert(alert(2, 434.0e6, Severity::Critical));
        assert_eq!(app.selected_entry().map(|e| e.alert.id), Some(2));
        app.update(Action::SelectOlder);
        assert_eq!(app.selected_entry().map(|e| e.alert.id), Some(1));
        app.update(Action::SelectOlder);
        assert_eq!(app.desk.selected(), 1, "stops at the oldest");
        app.on_alert(alert(3, 434.1e6, Severity::Info));
        assert_eq!(app.selected_entry().map(|e| e.alert.id), Some(1));
        app.update(Action::SelectNewest);
        assert_eq!(app.selected_entry().map(|e| e.alert.id), Some(3));
        // An update replaces the entry, it does not add one.
        let mut upd = alert(3, 434.1e6, Severity::Info);
        upd.state = AlertState::Updated;
        upd.snr_db = 25.0;
        app.on_alert(upd);
        assert_eq!(app.desk.entries().len(), 3);
        assert_eq!(app.selected_entry().map(|e| e.alert.snr_db), Some(25.0));
        assert_eq!(app.active_counts(), (1, 1, 1));
    }

    #[test]
    fn acknowledge_once_and_never_a_cleared_alert() {
        let mut app = App::new(info(), grid(), None);
        assert_eq!(app.update(Action::Acknowledge), None, "nothing selected");
        app.on_alert(alert(1, 433.5e6, Severity::Warning));
        let e = app.update(Action::Acknowledge);
        assert!(matches!(e, Some(Effect::Acknowledged(a)) if a.id == 1));
        assert_eq!(app.desk.entries()[0].state(), DeskState::Acknowledged);
        assert_eq!(
            app.update(Action::Acknowledge),
            None,
            "already acknowledged"
        );
        let mut c = alert(1, 433.5e6, Severity::Warning);
        c.state = AlertState::Cleared;
        app.on_alert(c);
        assert_eq!(app.desk.entries()[0].state(), DeskState::Cleared);
        app.on_alert(alert(2, 433.6e6, Severity::Info));
        let mut c = alert(2, 433.6e6, Severity::Info);
        c.state = AlertState::Cleared;
        app.on_alert(c);
        assert_eq!(app.update(Action::Acknowledge), None);
    }

    #[test]
    fn zoom_pan_and_jump_stay_inside_the_band() {
        let mut app = App::new(info(), grid(), None);
        let full = app.view;
        assert!((full.span_hz() - 2.4e6).abs() < 1.0);
        app.update(Action::ZoomIn);
        assert!((app.view.span_hz() - 1.2e6).abs() < 1.0);
        for _ in 0..10 {
            app.update(Action::PanRight);
        }
        assert!((app.view.hi_hz - full.hi_hz).abs() < 1.0);
        assert!(
            (app.view.span_hz() - 1.2e6).abs() < 1.0,
            "panning keeps the span"
        );
        for _ in 0..20 {
            app.update(Action::ZoomIn);
        }
        assert!((app.view.span_hz() - 16.0 * app.grid.bin_hz()).abs() < 1.0);
        app.update(Action::FullSpan);
        assert_eq!(app.view, full);
        app.on_alert(alert(1, 433.5e6, Severity::Warning));
        app.update(Action::JumpToAlert);
        let c = (app.view.lo_hz + app.view.hi_hz) / 2.0;
        assert!((c - 433.5e6).abs() < 1.0);
        // 8 bandwidths, but never under 64 bins.
        assert!((app.view.span_hz() - 64.0 * app.grid.bin_hz()).abs() < 1.0);
    }

    #[test]
    fn replay_keys_drive_the_transport_and_are_ignored_live() {
        let mut app = App::new(info(), grid(), Some(replay()));
        assert_eq!(app.update(Action::PlayPause), Some(Effect::Pause(true)));
        assert_eq!(app.update(Action::Faster), Some(Effect::Speed(Some(2.0))));
        for _ in 0..10 {
            app.update(Action::Faster);
        }
        assert_eq!(app.update(Action::Faster), Some(Effect::Speed(None)));
        for _ in 0..10 {
            app.update(Action::Slower);
        }
        assert_eq!(app.update(Action::Slower), Some(Effect::Speed(Some(0.25))));
        assert_eq!(app.update(Action::SeekBack), Some(Effect::Seek(-SEEK_S)));
        assert_eq!(app.update(Action::SeekForward), Some(Effect::Seek(SEEK_S)));
        assert_eq!(app.update(Action::ToggleLoop), Some(Effect::Loop(true)));
        assert_eq!(app.update(Action::Step), Some(Effect::Step));
        assert!(app.replay.is_some_and(|r| r.paused));
        // Held at the end: play starts over.
        let mut at_end = replay();
        at_end.paused = true;
        at_end.at_end = true;
        app.on_stats(Stats::default(), Some(at_end));
        assert_eq!(app.update(Action::PlayPause), Some(Effect::Restart));

        let mut live = App::new(info(), grid(), None);
        assert_eq!(live.update(Action::Faster), None);
        assert_eq!(live.update(Action::SeekBack), None);
        assert_eq!(live.update(Action::PlayPause), None);
        assert!(live.frozen, "space freezes the display on a live source");
    }

    #[test]
    fn frames_feed_trace_max_hold_waterfall_and_marks_unless_frozen() {
        let mut app = App::new(info(), grid(), None);
        for i in 1..=3 {
            app.on_frame(frame(i * 24_000, 100));
        }
        app.on_alert(alert(1, grid().freq_of(200.0), Severity::Critical));
        app.on_frame(frame(96_000, 200));
        app.on_frame(frame(120_000, 300));
        assert_eq!(app.waterfall.len(), 1, "three frames to a row");
        app.on_frame(frame(144_000, 300));
        assert_eq!(app.trace[300], -30.0);
        assert_eq!(app.max_hold[100], -30.0, "max-hold keeps the first carrier");
        assert_eq!(app.waterfall.len(), 2);
        let newest = &app.waterfall[0];
        assert_eq!(newest.end, 144_000, "newest first");
        assert_eq!((newest.power_db[200], newest.power_db[300]), (-30.0, -30.0));
        assert_eq!(newest.power_db[100], -80.0);
        assert_eq!(newest.marks.len(), 1);
        assert!(app.waterfall[1].marks.is_empty());
        // Auto-scale: 10 dB of noise below the floor, the peak inside.
        assert_eq!(app.db_lo, -90.0);
        assert!(app.db_hi >= -25.0);
        app.update(Action::ToggleMaxHold);
        assert!(!app.show_max_hold && app.max_hold.is_empty());
        app.update(Action::FreezeDisplay);
        for _ in 0..3 {
            app.on_frame(frame(168_000, 400));
        }
        assert_eq!(app.waterfall.len(), 2, "frozen: frames ignored");
        assert_eq!(app.trace[400], -80.0);
        app.update(Action::DbUp);
        assert!(!app.auto_scale, "a manual dB change stops auto-scale");
        assert_eq!(app.db_lo, -85.0);
    }

    #[test]
    fn help_toggles_and_quit_says_so() {
        let mut app = App::new(info(), grid(), None);
        app.update(Action::ToggleHelp);
        assert!(app.help);
        app.update(Action::ToggleHelp);
        assert!(!app.help);
        assert_eq!(app.update(Action::Quit), Some(Effect::Quit));
        assert!(app.quit);
    }
}
