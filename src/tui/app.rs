//! The console's state, and the only place it changes: [`App::update`] for operator
//! actions, [`App::on_frame`] / [`App::on_alert`] / [`App::on_stats`] for data. Pure: no
//! terminal, no threads, no clock. What the outside world must do (pause the replay,
//! write an acknowledgement) comes back as an [`Effect`].

use std::collections::VecDeque;
use std::ops::RangeInclusive;

use super::desk::{Desk, DeskEntry};
use chrono::{DateTime, Utc};

use super::bell::Bell;
use super::measure::{self, Markers};
use super::occupancy::Occupancy;
use super::suppress::{self, Scope, ScopeKind, Suppression};
use crate::alert::{Alert, AlertKind, AlertState, Severity};
use crate::detect::bandplan::Band;
use crate::dsp::{FreqGrid, SpectrumConfig};
use crate::pipeline::UiFrame;
use crate::types::{KnownEntry, SampleIndex, StreamMeta};

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

/// Longest note the operator can type (it goes into the alert log and the known file).
pub const NOTE_MAX: usize = 120;

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
    /// Acknowledge the selected alert with a note (opens the note line).
    AcknowledgeWithNote,
    /// Mark the selected alert's emitter as known, with an optional note (opens the note
    /// line).
    MarkKnown,
    /// Suppress the selected alert's emitter or kind in band (opens the duration menu).
    Suppress(ScopeKind),
    /// Duration menu: the n-th of [`suppress::CHOICES`].
    SuppressFor(usize),
    /// The suppressions list in place of the alert desk, or back.
    ToggleSuppressions,
    /// Lift the selected suppression (suppressions list).
    Lift,
    /// The peak table in place of the alert desk, or back.
    TogglePeaks,
    /// Occupancy in place of the waterfall, or back.
    ToggleOccupancy,
    /// The band strip on or off.
    ToggleBands,
    /// Toggle the min-hold trace (restarts it).
    ToggleMinHold,
    /// Marker 1 (`0`) or the delta marker (`1`) on or off.
    ToggleMarker(usize),
    /// The arrow keys move the other marker.
    SwitchMarker,
    /// Note line: a character typed.
    Type(char),
    /// Note line: delete the last character.
    Backspace,
    /// Note line: done.
    Submit,
    /// Close the note line or menu; otherwise turn the markers off.
    Cancel,
}

/// How keys are read: the keymap asks the state which mode it is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    /// Keys are commands.
    Normal,
    /// The help overlay is open: any key closes it.
    Help,
    /// A note is being typed: keys are text.
    Text,
    /// The suppression menu is open: a number chooses.
    Menu,
}

/// What a note being typed is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteFor {
    /// An acknowledgement.
    Acknowledge,
    /// Marking the emitter as known.
    Known,
}

/// A one-line prompt over the bottom of the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    /// A note being typed for the alert with this id.
    Note {
        /// What it is for.
        purpose: NoteFor,
        /// The alert.
        alert_id: u64,
        /// Typed so far.
        text: String,
    },
    /// Choosing how long to suppress the alert with this id.
    SuppressMenu {
        /// Emitter or kind in band.
        scope: ScopeKind,
        /// The alert.
        alert_id: u64,
    },
}

/// What the bottom pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lower {
    /// The alert desk.
    Alerts,
    /// The strongest peaks of the spectrum in view.
    Peaks,
    /// The suppressions in force.
    Suppressions,
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
    /// Write this acknowledgement, with the operator's note, to the alert log.
    AcknowledgedWithNote(Alert, String),
    /// The operator marked this alert's emitter as known: tell the detector, append the
    /// entry to the known-emitters file, log it.
    MarkedKnown(Alert, KnownEntry),
    /// A new suppression: log it.
    Suppressed(Suppression),
    /// A suppression lifted before its time: log it.
    Lifted(Suppression),
    /// Ring the terminal bell (and run `--on-critical`) for this critical alert.
    Ring(Alert),
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
    /// Wall clock (UTC) as of the last tick: suppressions and the bell run on it.
    pub now: DateTime<Utc>,
    /// Band-plan bands, drawn along the frequency axis.
    pub bands: Vec<Band>,
    /// Draw the band strip.
    pub show_bands: bool,
    /// Known emitters (`--known` and those marked here), marked on the spectrum.
    pub known: Vec<KnownEntry>,
    /// Minimum of every trace since min-hold was (re)started.
    pub min_hold: Vec<f32>,
    /// Draw the min-hold trace.
    pub show_min_hold: bool,
    /// Marker 1 and the delta marker.
    pub markers: Markers,
    /// Plot columns on screen (the loop sets it from the terminal): a marker step.
    pub plot_cols: u16,
    /// What the bottom pane shows.
    pub lower: Lower,
    /// Occupancy in place of the waterfall.
    pub show_occupancy: bool,
    /// Share of time above the threshold per bin.
    pub occupancy: Occupancy,
    /// Suppressions in force, oldest first.
    pub suppressions: Vec<Suppression>,
    /// Selected suppression in the list, counted from the newest.
    pub suppression_selected: usize,
    /// The note line or suppression menu, when open.
    pub modal: Option<Modal>,
    /// Which critical alerts ring, and when.
    pub bell: Bell,
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
            now: DateTime::<Utc>::UNIX_EPOCH,
            bands: Vec::new(),
            show_bands: true,
            known: Vec::new(),
            min_hold: Vec::new(),
            show_min_hold: false,
            markers: Markers::default(),
            plot_cols: 93,
            lower: Lower::Alerts,
            show_occupancy: false,
            occupancy: Occupancy::default(),
            suppressions: Vec::new(),
            suppression_selected: 0,
            modal: None,
            bell: Bell::default(),
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

    /// The same console with the band plan's bands and the known emitters to draw.
    pub fn with_prior(mut self, bands: Vec<Band>, known: Vec<KnownEntry>) -> Self {
        self.bands = bands;
        self.known = known;
        self
    }

    /// How the keymap should read keys now.
    pub fn input_mode(&self) -> InputMode {
        match &self.modal {
            _ if self.help => InputMode::Help,
            Some(Modal::Note { .. }) => InputMode::Text,
            Some(Modal::SuppressMenu { .. }) => InputMode::Menu,
            None => InputMode::Normal,
        }
    }

    /// The desk's rows, newest first: the alerts no suppression hides.
    pub fn desk_rows(&self) -> impl Iterator<Item = &DeskEntry> {
        self.desk.rows()
    }

    fn entry_by_id(&self, id: u64) -> Option<&DeskEntry> {
        self.desk.find(id, None)
    }

    /// Advances the wall clock to `now`: suppressions that have run out end (their alerts
    /// come back to the desk), and the bell may ring.
    pub fn on_tick(&mut self, now: DateTime<Utc>) -> Option<Effect> {
        self.now = now;
        if let Some(over) = self.suppressions.iter().find(|s| !s.active(now)) {
            // Its alerts are back on the desk: say why they appeared.
            self.notice = Some(format!("suppression over: {}", over.scope.describe()));
            self.suppressions.retain(|s| s.active(now));
            self.refresh_hidden();
        }
        let desk = &self.desk;
        let wanted = |a: &Alert| {
            desk.find(a.id, None).is_some_and(|e| {
                !e.hidden && !e.acknowledged && e.alert.state != AlertState::Cleared
            })
        };
        let due = self.bell.due(now, wanted)?;
        // The latest figures, for the command's JSON.
        let latest = self.entry_by_id(due.id).map_or(due, |e| e.alert.clone());
        // A bell in a noisy room goes unheard: the screen says what rang until the next
        // key.
        let at = if latest.freq_hz > 0.0 {
            format!(" {:.4} MHz", latest.freq_hz / 1e6)
        } else {
            String::new()
        };
        self.notice = Some(format!(
            "BELL critical #{} {}{at}",
            latest.id,
            latest.kind.as_str()
        ));
        Some(Effect::Ring(latest))
    }

    /// True when a suppression in force covers `a`.
    fn suppressed(&self, a: &Alert) -> bool {
        self.suppressions
            .iter()
            .any(|s| s.active(self.now) && s.scope.matches(a))
    }

    /// Recomputes which alerts the suppressions hide, keeping the selections in range.
    fn refresh_hidden(&mut self) {
        let (suppressions, now) = (&self.suppressions, self.now);
        self.desk.refresh_hidden(|a| {
            suppressions
                .iter()
                .any(|s| s.active(now) && s.scope.matches(a))
        });
        self.desk.suppressions = self.suppressions.len();
        self.suppression_selected = self
            .suppression_selected
            .min(self.suppressions.len().saturating_sub(1));
    }

    /// Applies an operator action; returns what the outside must do.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        use Action as A;
        // A notice answers the operator's last key; the next key has been read, so it
        // gives way to whatever this one says (on a narrow screen it costs the status
        // line its file position).
        self.notice = None;
        match action {
            A::Quit => {
                self.quit = true;
                return Some(Effect::Quit);
            }
            A::ToggleHelp => self.help = !self.help,
            A::FreezeDisplay => self.frozen = !self.frozen,
            A::SelectNewer if self.lower == Lower::Suppressions => {
                self.suppression_selected = self.suppression_selected.saturating_sub(1);
            }
            A::SelectOlder if self.lower == Lower::Suppressions => {
                self.suppression_selected =
                    (self.suppression_selected + 1).min(self.suppressions.len().saturating_sub(1));
            }
            A::SelectNewer => self.desk.select_newer(),
            A::SelectOlder => self.desk.select_older(),
            A::SelectNewest => self.desk.select_newest(),
            A::Acknowledge => return self.acknowledge(),
            A::JumpToAlert => self.jump_to_alert(),
            A::ZoomIn => self.zoom(0.5),
            A::ZoomOut => self.zoom(2.0),
            // While a marker is on, the arrows move it.
            A::PanLeft if self.markers.any() => self.move_marker(-1),
            A::PanRight if self.markers.any() => self.move_marker(1),
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
            A::AcknowledgeWithNote => self.open_note(NoteFor::Acknowledge),
            A::MarkKnown => self.open_note(NoteFor::Known),
            A::Suppress(scope) => self.open_suppress(scope),
            A::SuppressFor(i) => return self.suppress(i),
            A::ToggleSuppressions => self.toggle_lower(Lower::Suppressions),
            A::Lift => return self.lift(),
            A::TogglePeaks => self.toggle_lower(Lower::Peaks),
            A::ToggleOccupancy => self.show_occupancy = !self.show_occupancy,
            A::ToggleBands => self.show_bands = !self.show_bands,
            A::ToggleMinHold => {
                self.show_min_hold = !self.show_min_hold;
                self.min_hold.clear();
            }
            A::ToggleMarker(i) => self.toggle_marker(i.min(1)),
            A::SwitchMarker => {
                if self.markers.bins.iter().all(Option::is_some) {
                    self.markers.active ^= 1;
                }
            }
            A::Type(c) => {
                if let Some(Modal::Note { text, .. }) = self.modal.as_mut() {
                    if !c.is_control() && text.chars().count() < NOTE_MAX {
                        text.push(c);
                    }
                }
            }
            A::Backspace => {
                if let Some(Modal::Note { text, .. }) = self.modal.as_mut() {
                    text.pop();
                }
            }
            A::Submit => return self.submit_note(),
            A::Cancel => {
                if self.modal.take().is_none() {
                    self.markers = Markers::default();
                }
            }
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

    /// The selected alert for an alert key, or `None` (with the desk brought back when
    /// another view hid it, so the operator sees what the next key acts on).
    fn alert_for_key(&mut self) -> Option<Alert> {
        if self.lower != Lower::Alerts {
            self.lower = Lower::Alerts;
            return None;
        }
        self.selected_entry().map(|e| e.alert.clone())
    }

    fn open_note(&mut self, purpose: NoteFor) {
        let Some(a) = self.alert_for_key() else {
            return;
        };
        if purpose == NoteFor::Acknowledge && a.state == AlertState::Cleared {
            self.notice = Some(format!("#{} has cleared: nothing to acknowledge", a.id));
            return;
        }
        if purpose == NoteFor::Known {
            // What the detector can treat as known: a transmitter it would call new.
            if a.kind != AlertKind::NewEmitter || a.freq_hz <= 0.0 {
                self.notice = Some(format!(
                    "#{} is {}: only a new_emitter can be marked known",
                    a.id,
                    a.kind.as_str()
                ));
                return;
            }
            if let Some(k) = self.known_at(a.freq_hz, a.bandwidth_hz) {
                self.notice = Some(format!(
                    "already known{}",
                    k.label
                        .as_deref()
                        .map(|l| format!(": {}", crate::units::one_line(l)))
                        .unwrap_or_default()
                ));
                return;
            }
        }
        self.modal = Some(Modal::Note {
            purpose,
            alert_id: a.id,
            text: String::new(),
        });
    }

    /// The known emitter an alert at `freq_hz`, `bandwidth_hz` wide, is (as the detector
    /// matches them, with two bins of slack).
    pub fn known_at(&self, freq_hz: f64, bandwidth_hz: f64) -> Option<&KnownEntry> {
        known_match(&self.known, freq_hz, bandwidth_hz, 2.0 * self.grid.bin_hz())
    }

    fn submit_note(&mut self) -> Option<Effect> {
        let Some(Modal::Note {
            purpose,
            alert_id,
            text,
        }) = self.modal.take()
        else {
            return None;
        };
        let note = text.trim().to_string();
        match purpose {
            NoteFor::Acknowledge => {
                let e = self.desk.find_mut(alert_id, None)?;
                let was = e.acknowledged;
                e.acknowledged = true;
                if !note.is_empty() {
                    Some(Effect::AcknowledgedWithNote(e.alert.clone(), note))
                } else if !was {
                    Some(Effect::Acknowledged(e.alert.clone()))
                } else {
                    None
                }
            }
            NoteFor::Known => {
                // Known is a verdict on the alert: it no longer waits for the operator
                // (nor rings), and the desk says `known` rather than `ack`.
                let e = self.desk.find_mut(alert_id, None)?;
                e.acknowledged = true;
                e.known = true;
                let a = e.alert.clone();
                let entry = KnownEntry {
                    freq_hz: a.freq_hz,
                    // Never narrower than a bin: a carrier measured one bin wide must
                    // still match when it next measures two.
                    bandwidth_hz: a.bandwidth_hz.max(self.grid.bin_hz()),
                    label: None,
                    note: (!note.is_empty()).then_some(note),
                    power_dbfs: Some(a.power_dbfs),
                    always_on: false,
                };
                self.known.push(entry.clone());
                let (known, tol) = (&self.known, 2.0 * self.grid.bin_hz());
                self.desk
                    .mark_known(|a| known_match(known, a.freq_hz, a.bandwidth_hz, tol).is_some());
                Some(Effect::MarkedKnown(a, entry))
            }
        }
    }

    fn open_suppress(&mut self, scope: ScopeKind) {
        let Some(a) = self.alert_for_key() else {
            return;
        };
        if Scope::for_alert(scope, &a, 0.0).is_none() {
            self.notice = Some(format!(
                "#{} ({}) has no frequency: S suppresses its kind",
                a.id,
                a.kind.as_str()
            ));
            return;
        }
        self.modal = Some(Modal::SuppressMenu {
            scope,
            alert_id: a.id,
        });
    }

    fn suppress(&mut self, choice: usize) -> Option<Effect> {
        let (_, minutes) = *suppress::CHOICES.get(choice)?;
        let Some(Modal::SuppressMenu { scope, alert_id }) = self.modal.take() else {
            return None;
        };
        let a = self.entry_by_id(alert_id)?.alert.clone();
        let scope = Scope::for_alert(scope, &a, 2.0 * self.grid.bin_hz())?;
        let s = Suppression::new(scope, a, self.now, minutes);
        self.suppressions.push(s.clone());
        self.refresh_hidden();
        Some(Effect::Suppressed(s))
    }

    fn lift(&mut self) -> Option<Effect> {
        if self.lower != Lower::Suppressions || self.suppressions.is_empty() {
            return None;
        }
        let n = self.suppressions.len();
        let i = n - 1 - self.suppression_selected.min(n - 1);
        let s = self.suppressions.remove(i);
        self.refresh_hidden();
        Some(Effect::Lifted(s))
    }

    fn toggle_lower(&mut self, pane: Lower) {
        self.lower = if self.lower == pane {
            Lower::Alerts
        } else {
            pane
        };
    }

    /// FFT bins whose centres are in view.
    pub fn view_bins(&self) -> RangeInclusive<usize> {
        let last = self.grid.bins.saturating_sub(1) as f64;
        let lo = self.grid.bin_of(self.view.lo_hz).ceil().clamp(0.0, last);
        let hi = self.grid.bin_of(self.view.hi_hz).floor().clamp(lo, last);
        lo as usize..=hi as usize
    }

    fn toggle_marker(&mut self, i: usize) {
        if self.markers.bins[i].take().is_some() {
            let other = 1 - i;
            if self.markers.bins[other].is_some() {
                self.markers.active = other;
            }
            return;
        }
        // Marker 1 starts on the strongest signal in view, the delta marker on marker 1.
        let bin = match (i, self.markers.bins[0]) {
            (1, Some(b)) => Some(b),
            _ => measure::strongest(&self.trace, self.view_bins()),
        };
        if let Some(b) = bin.or_else(|| Some(*self.view_bins().start())) {
            self.markers.bins[i] = Some(b);
            self.markers.active = i;
        }
    }

    /// Moves the active marker by about one screen column, within the view.
    fn move_marker(&mut self, dir: i64) {
        let Some(b) = self.markers.bins[self.markers.active] else {
            return;
        };
        let per_col = self.view.span_hz() / f64::from(self.plot_cols.max(1)) / self.grid.bin_hz();
        let step = per_col.round().max(1.0) as i64;
        let range = self.view_bins();
        let next = (b as i64 + dir * step).clamp(*range.start() as i64, *range.end() as i64);
        self.markers.bins[self.markers.active] = Some(next as usize);
    }

    /// The selected desk entry (the desk is drawn newest first).
    pub fn selected_entry(&self) -> Option<&DeskEntry> {
        self.desk.selected_entry()
    }

    fn acknowledge(&mut self) -> Option<Effect> {
        if self.lower != Lower::Alerts {
            self.lower = Lower::Alerts;
            return None;
        }
        let e = self.desk.acknowledge_selected()?;
        Some(Effect::Acknowledged(e.alert.clone()))
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
        if self.show_min_hold {
            if self.min_hold.len() == frame.power_db.len() {
                for (m, &p) in self.min_hold.iter_mut().zip(&frame.power_db) {
                    *m = m.min(p);
                }
            } else {
                self.min_hold.clone_from(&frame.power_db);
            }
        }
        self.occupancy.add(
            &frame.power_db,
            &frame.floor_db,
            frame.threshold_over_floor_db,
            frame.end as f64 / self.info.sample_rate_hz,
        );
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
        let hidden = self.suppressed(&alert);
        self.bell.on_alert(&alert, hidden);
        let mark = (alert.freq_hz, alert.severity);
        if self.desk.take_hidden(alert, None, false, hidden) && mark.0 > 0.0 && !hidden {
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

    /// Alerts per severity among those on the desk and not cleared: (critical, warning,
    /// info).
    pub fn active_counts(&self) -> (usize, usize, usize) {
        self.desk.active_counts()
    }
}

/// The known emitter an alert at `freq_hz`, `bandwidth_hz` wide, is (as the detector
/// matches them, with `tol` of slack).
fn known_match(
    known: &[KnownEntry],
    freq_hz: f64,
    bandwidth_hz: f64,
    tol: f64,
) -> Option<&KnownEntry> {
    known
        .iter()
        .find(|k| (k.freq_hz - freq_hz).abs() <= (k.bandwidth_hz + bandwidth_hz) / 2.0 + tol)
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

    /// The wall clock at `s` seconds into a shift.
    pub(crate) fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH
            + chrono::TimeDelta::days(20_000)
            + chrono::TimeDelta::seconds(s)
    }

    fn ids(app: &App) -> Vec<u64> {
        app.desk_rows().map(|e| e.alert.id).collect()
    }

    #[test]
    fn suppressing_an_emitter_hides_it_until_it_expires() {
        let mut app = App::new(info(), grid(), None);
        app.on_tick(at(0));
        app.on_alert(alert(1, 433.5e6, Severity::Warning));
        app.on_alert(alert(2, 434.0e6, Severity::Warning));
        app.update(Action::SelectOlder);
        assert_eq!(app.update(Action::Suppress(ScopeKind::Emitter)), None);
        assert_eq!(app.input_mode(), InputMode::Menu);
        let Some(Effect::Suppressed(s)) = app.update(Action::SuppressFor(1)) else {
            panic!("no suppression");
        };
        assert_eq!(app.input_mode(), InputMode::Normal);
        assert_eq!((s.alert.id, s.scope.log_name()), (1, "emitter"));
        assert_eq!(s.until, at(3600), "1 h");
        assert_eq!(ids(&app), [2]);
        assert_eq!(app.selected_entry().map(|e| e.alert.id), Some(2));
        // Its updates, and the same emitter raised again, stay hidden; others do not.
        let mut upd = alert(1, 433.5e6, Severity::Warning);
        upd.state = AlertState::Updated;
        app.on_alert(upd);
        app.on_alert(alert(3, 433.5e6 + 1_000.0, Severity::Warning));
        app.on_alert(alert(4, 433.7e6, Severity::Warning));
        assert_eq!(ids(&app), [4, 2]);
        assert_eq!(app.desk.entries().len(), 4, "hidden, not deleted");
        assert_eq!(app.active_counts(), (0, 2, 0));
        // Nothing rings for a suppressed critical alert.
        let mut crit = alert(5, 433.5e6, Severity::Critical);
        crit.kind = AlertKind::NewEmitter;
        app.on_alert(crit);
        assert_eq!(app.on_tick(at(60)), None);
        // Expired: everything is back on the desk.
        assert_eq!(app.on_tick(at(3599)), None);
        assert_eq!(ids(&app), [4, 2]);
        app.on_tick(at(3600));
        assert_eq!(ids(&app), [5, 4, 3, 2, 1]);
        assert_eq!(
            app.notice.as_deref(),
            Some("suppression over: new_emitter at 433.5000 MHz")
        );
        assert!(app.suppressions.is_empty());
    }

    #[test]
    fn suppressing_a_kind_in_a_band_and_lifting_it() {
        let mut app = App::new(info(), grid(), None);
        app.on_tick(at(0));
        let in_band = |id, f| {
            let mut a = alert(id, f, Severity::Warning);
            a.band = Some("LPD433".into());
            a
        };
        app.on_alert(in_band(1, 433.5e6));
        app.on_alert(alert(2, 433.6e6, Severity::Warning));
        app.update(Action::SelectOlder);
        app.update(Action::Suppress(ScopeKind::KindInBand));
        // Any other key closes the menu without suppressing.
        assert_eq!(app.update(Action::Cancel), None);
        assert!(app.modal.is_none() && app.suppressions.is_empty());
        app.update(Action::Suppress(ScopeKind::KindInBand));
        let e = app.update(Action::SuppressFor(0));
        assert!(matches!(&e, Some(Effect::Suppressed(s)) if s.until == at(15 * 60)));
        app.on_alert(in_band(3, 434.5e6));
        assert_eq!(ids(&app), [2]);
        // Lifting needs the list open; it lifts the selected one and logs it.
        assert_eq!(app.update(Action::Lift), None);
        app.update(Action::ToggleSuppressions);
        assert_eq!(app.lower, Lower::Suppressions);
        let Some(Effect::Lifted(l)) = app.update(Action::Lift) else {
            panic!("not lifted");
        };
        assert_eq!(l.scope.describe(), "new_emitter in LPD433");
        assert_eq!(ids(&app), [3, 2, 1]);
        // An alert key on another view brings the desk back first.
        assert_eq!(app.update(Action::Acknowledge), None);
        assert_eq!(app.lower, Lower::Alerts);
        assert!(matches!(
            app.update(Action::Acknowledge),
            Some(Effect::Acknowledged(_))
        ));
    }

    #[test]
    fn a_health_alert_can_only_be_suppressed_by_kind() {
        let mut app = App::new(info(), grid(), None);
        let mut a = alert(1, 0.0, Severity::Warning);
        a.kind = AlertKind::Overrun;
        app.on_alert(a);
        app.update(Action::Suppress(ScopeKind::Emitter));
        assert!(app.modal.is_none());
        assert!(app
            .notice
            .as_deref()
            .is_some_and(|n| n.contains("S suppresses")));
    }

    #[test]
    fn acknowledge_with_a_note() {
        let mut app = App::new(info(), grid(), None);
        app.on_alert(alert(1, 433.5e6, Severity::Warning));
        app.update(Action::AcknowledgeWithNote);
        assert_eq!(app.input_mode(), InputMode::Text);
        for c in "van, seen xq".chars() {
            app.update(Action::Type(c));
        }
        app.update(Action::Backspace);
        app.update(Action::Backspace);
        app.update(Action::Type('\u{7}'));
        let e = app.update(Action::Submit);
        assert!(
            matches!(&e, Some(Effect::AcknowledgedWithNote(a, n)) if a.id == 1 && n == "van, seen"),
            "{e:?}"
        );
        assert_eq!(app.desk.entries()[0].state(), DeskState::Acknowledged);
        // A note on an acknowledged alert adds to it; an empty one adds nothing.
        app.update(Action::AcknowledgeWithNote);
        assert_eq!(app.update(Action::Submit), None);
        app.update(Action::AcknowledgeWithNote);
        app.update(Action::Type('x'));
        assert!(matches!(
            app.update(Action::Submit),
            Some(Effect::AcknowledgedWithNote(..))
        ));
        // Esc gives up; an empty note on a new alert is a plain acknowledgement.
        app.on_alert(alert(2, 433.6e6, Severity::Warning));
        app.update(Action::AcknowledgeWithNote);
        app.update(Action::Type('z'));
        assert_eq!(app.update(Action::Cancel), None);
        assert_eq!(app.desk.entries()[1].state(), DeskState::New);
        app.update(Action::AcknowledgeWithNote);
        assert!(matches!(app.update(Action::Submit), Some(Effect::Acknowledged(a)) if a.id == 2));
        // Notes are bounded.
        app.update(Action::AcknowledgeWithNote);
        for _ in 0..NOTE_MAX + 10 {
            app.update(Action::Type('w'));
        }
        let Some(Effect::AcknowledgedWithNote(_, n)) = app.update(Action::Submit) else {
            panic!("no note");
        };
        assert_eq!(n.chars().count(), NOTE_MAX);
    }

    #[test]
    fn marking_an_emitter_known() {
        let mut app = App::new(info(), grid(), None);
        let mut jam = alert(1, 433.2e6, Severity::Critical);
        jam.kind = AlertKind::Jamming;
        app.on_alert(jam);
        app.update(Action::MarkKnown);
        assert!(app.modal.is_none(), "a jammer is not a known emitter");
        app.on_alert(alert(2, 433.5e6, Severity::Warning));
        app.update(Action::MarkKnown);
        for c in "gate".chars() {
            app.update(Action::Type(c));
        }
        let Some(Effect::MarkedKnown(a, k)) = app.update(Action::Submit) else {
            panic!("not marked");
        };
        assert_eq!(a.id, 2);
        assert_eq!((k.freq_hz, k.bandwidth_hz), (433.5e6, 12_500.0));
        assert_eq!(k.power_dbfs, Some(-41.5));
        assert_eq!(
            (k.note.as_deref(), k.label.as_deref()),
            (Some("gate"), None)
        );
        assert_eq!(app.known, vec![k]);
        // Marked once; asking again says so.
        app.update(Action::MarkKnown);
        assert!(app.modal.is_none());
        assert!(app
            .notice
            .as_deref()
            .is_some_and(|n| n.starts_with("already known")));
        // A cleared alert can be marked: it will be back.
        let mut c = alert(3, 434.0e6, Severity::Warning);
        c.state = AlertState::Cleared;
        app.on_alert(alert(3, 434.0e6, Severity::Warning));
        app.on_alert(c);
        app.update(Action::MarkKnown);
        assert!(matches!(
            app.update(Action::Submit),
            Some(Effect::MarkedKnown(..))
        ));
    }

    #[test]
    fn the_bell_rings_once_per_critical_alert_at_a_bounded_rate() {
        let mut app = App::new(info(), grid(), None);
        app.on_tick(at(0));
        app.on_alert(alert(1, 433.5e6, Severity::Warning));
        assert_eq!(app.on_tick(at(1)), None);
        app.on_alert(alert(2, 433.6e6, Severity::Critical));
        app.on_alert(alert(3, 433.7e6, Severity::Critical));
        let mut upd = alert(2, 433.6e6, Severity::Critical);
        upd.state = AlertState::Updated;
        upd.snr_db = 30.0;
        app.on_alert(upd);
        let r = app.on_tick(at(2));
        assert!(
            matches!(&r, Some(Effect::Ring(a)) if a.id == 2 && a.snr_db == 30.0),
            "rings with the latest figures: {r:?}"
        );
        assert_eq!(app.on_tick(at(3)), None, "rate-limited");
        assert!(matches!(app.on_tick(at(12)), Some(Effect::Ring(a)) if a.id == 3));
        assert_eq!(app.on_tick(at(100)), None, "once per alert");
        // Acknowledged before its turn: no ring.
        app.on_alert(alert(4, 433.8e6, Severity::Critical));
        app.on_alert(alert(5, 433.9e6, Severity::Critical));
        assert!(matches!(app.on_tick(at(200)), Some(Effect::Ring(a)) if a.id == 4));
        app.update(Action::SelectNewest);
        app.update(Action::Acknowledge);
        assert_eq!(app.on_tick(at(300)), None);
    }

    #[test]
    fn markers_read_the_trace_and_move_with_the_arrows() {
        let mut app = App::new(info(), grid(), None);
        app.plot_cols = 64; // 16 bins a column over the whole band
        let mut f = frame(24_000, 800);
        f.power_db[300] = -50.0;
        app.on_frame(f);
        app.update(Action::ToggleMarker(0));
        assert_eq!(app.markers.bins, [Some(800), None], "on the strongest bin");
        app.update(Action::PanRight);
        assert_eq!(app.markers.bins[0], Some(816), "one column");
        assert_eq!(app.view, full_view(&app.grid), "the view does not pan");
        app.update(Action::ToggleMarker(1));
        assert_eq!((app.markers.bins[1], app.markers.active), (Some(816), 1));
        for _ in 0..32 {
            app.update(Action::PanLeft);
        }
        assert_eq!(app.markers.bins, [Some(816), Some(304)]);
        app.update(Action::SwitchMarker);
        app.update(Action::PanLeft);
        assert_eq!(app.markers.bins, [Some(800), Some(304)]);
        // Never out of the view.
        for _ in 0..100 {
            app.update(Action::PanRight);
        }
        assert_eq!(app.markers.bins[0], Some(1023));
        // Zoomed in, a column is a bin.
        app.update(Action::FullSpan);
        for _ in 0..6 {
            app.update(Action::ZoomIn);
        }
        app.update(Action::PanLeft);
        assert_eq!(app.markers.bins[0], Some(*app.view_bins().end()));
        // Off: marker 1 off leaves the delta marker active; Esc turns both off.
        app.update(Action::ToggleMarker(0));
        assert_eq!(app.markers.active, 1);
        app.update(Action::Cancel);
        assert!(!app.markers.any());
        let before = app.view;
        app.update(Action::PanLeft);
        assert!(app.view.lo_hz < before.lo_hz, "the arrows pan again");
    }

    #[test]
    fn min_hold_keeps_the_lowest_level_and_restarts() {
        let mut app = App::new(info(), grid(), None);
        app.on_frame(frame(24_000, 100));
        assert!(app.min_hold.is_empty(), "off by default");
        app.update(Action::ToggleMinHold);
        app.on_frame(frame(48_000, 100));
        app.on_frame(frame(72_000, 200));
        assert_eq!((app.min_hold[100], app.min_hold[200]), (-80.0, -80.0));
        assert_eq!(app.max_hold[100], -30.0);
        app.update(Action::ToggleMinHold);
        assert!(!app.show_min_hold && app.min_hold.is_empty());
    }

    #[test]
    fn views_toggle() {
        let mut app = App::new(info(), grid(), None);
        assert!(app.show_bands && !app.show_occupancy);
        app.update(Action::ToggleBands);
        app.update(Action::ToggleOccupancy);
        assert!(!app.show_bands && app.show_occupancy);
        app.update(Action::TogglePeaks);
        assert_eq!(app.lower, Lower::Peaks);
        app.update(Action::ToggleSuppressions);
        assert_eq!(app.lower, Lower::Suppressions);
        app.update(Action::ToggleSuppressions);
        assert_eq!(app.lower, Lower::Alerts);
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
