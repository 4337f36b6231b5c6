//! Training exercises: real air with injected threats, the trainee scored, an
//! after-action picture (`kuzet exercise`; docs/exercises.md).
//!
//! ```text
//!  exercise.toml ──load──▶ Exercise ─┬─ base recording ──measure_floor──▶ Floor
//!                                    └─ [[inject]] → synth Scene (levels over the floor)
//!  MixSource (source::mix) = base + Emitters, on the fly ──▶ pipeline ──▶ console | script
//!        │ alerts, acks, seeks, pauses ──▶ session log (sinks::session_log)
//!  session log(s) ──session::Session──▶ report::score (eval::score's matching)
//!        ──▶ table | JSON | class rows | picture (waterfall of the mix redone + marks)
//! ```
//!
//! This module holds the exercise file (its parsing, with the line and field of every
//! error), the base's noise floor, the mix and the truth; [`session`] reads session logs
//! and actions files, [`report`] scores them, [`picture`] draws the after-action picture.

pub mod picture;
pub mod report;
pub mod session;
pub mod spectra;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::dsp::{SpectrumConfig, WindowKind};
use crate::error::{Error, Result};
use crate::formats::raw::RawFormat;
use crate::sinks::session_log::{ExerciseInfo, InjectionInfo, Verdict};
use crate::source::mix::MixSource;
use crate::source::synth::{EmitterKind, EmitterSpec, Emitters, Scene};
use crate::source::{OpenOptions, Recording};
use crate::types::{Annotation, StreamMeta};
use crate::units::{self, Hz};

pub use spectra::Floor;

/// Seconds from an injection's start within which a verdict is in time, unless the
/// exercise says otherwise.
pub const DEFAULT_DEADLINE_S: f64 = 30.0;

/// The spectra the base's floor is measured with, whatever the run's settings: the floor
/// sets every injection's amplitude, so if it followed the spectrum settings the mix of a
/// session and the mix its report redraws could differ in their last bits. 20 averages
/// put the median of a noise bin within 0.1 dB of its mean.
pub const FLOOR_SPECTRUM: SpectrumConfig = SpectrumConfig {
    fft_len: 1024,
    hop: 512,
    averages: 20,
    window: WindowKind::Hann,
    peak_frames: 1,
    carriers: false,
};

/// The longest exercise: a day (a typo of `duration_s = 36000000` must not start an
/// unending session).
const MAX_DURATION_S: f64 = 86_400.0;

// ---- the file as written -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExercise {
    #[serde(default)]
    name: Option<Spanned<String>>,
    #[serde(default)]
    description: String,
    base: Spanned<String>,
    #[serde(default)]
    base_rate_hz: Option<Spanned<Hz>>,
    #[serde(default)]
    base_freq_hz: Option<Spanned<Hz>>,
    #[serde(default)]
    base_iq_format: Option<Spanned<String>>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    duration_s: Option<Spanned<f64>>,
    #[serde(default)]
    inject: Vec<Spanned<RawInject>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expect {
    Threat,
    Benign,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInject {
    #[serde(rename = "type")]
    kind: Spanned<EmitterKind>,
    #[serde(default)]
    name: Option<Spanned<String>>,
    freq_hz: Spanned<Hz>,
    #[serde(default)]
    bandwidth_hz: Option<Spanned<Hz>>,
    snr_db: Spanned<f64>,
    #[serde(default)]
    start_s: Option<Spanned<f64>>,
    #[serde(default)]
    stop_s: Option<Spanned<f64>>,
    #[serde(default)]
    burst_ms: Option<Spanned<f64>>,
    #[serde(default)]
    period_ms: Option<Spanned<f64>>,
    #[serde(default)]
    hops: Option<Spanned<usize>>,
    #[serde(default)]
    dwell_ms: Option<Spanned<f64>>,
    #[serde(default)]
    span_hz: Option<Spanned<Hz>>,
    expect: Spanned<Expect>,
    #[serde(default)]
    deadline_s: Option<Spanned<f64>>,
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key of a `key = value` line holding byte `offset` of `text`, if that is what
/// the line is.
fn key_of_line(text: &str, offset: usize) -> Option<&str> {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].split('\n').next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    let bare = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    (!key.is_empty() && key.chars().all(bare)).then_some(key)
}

// ---- the exercise --------------------------------------------------------------------

/// One injected emitter and what the trainee should make of it.
#[derive(Debug, Clone)]
pub struct Injection {
    /// The emitter, its offset relative to the base's centre.
    pub spec: EmitterSpec,
    /// Its name (unique in the exercise).
    pub name: String,
    /// Absolute centre frequency.
    pub freq_hz: f64,
    /// The right call.
    pub expect: Verdict,
    /// Seconds from its start within which a call is in time.
    pub deadline_s: f64,
    /// Line of its `[[inject]]` table.
    pub line: usize,
}

/// A validated exercise, its base recording opened once to check the injections against
/// its band.
#[derive(Debug, Clone)]
pub struct Exercise {
    /// The exercise file (absolute).
    pub path: PathBuf,
    /// Name (default: the file's stem).
    pub name: String,
    /// Free text.
    pub description: String,
    /// FNV-1a 64 of the file, hex.
    pub hash: String,
    /// The base recording (absolute).
    pub base: PathBuf,
    /// How to read it (raw bases need a rate).
    pub base_open: OpenOptions,
    /// The base's stream (rate, centre frequency).
    pub base_meta: StreamMeta,
    /// Samples in the base.
    pub base_len: u64,
    /// Seed of the injections.
    pub seed: u64,
    /// Length of the exercise, seconds (the base loops to fill it).
    pub duration_s: f64,
    /// The injections, in file order.
    pub injections: Vec<Injection>,
}

/// FNV-1a, 64 bits: a fingerprint of the exercise file, not a defence against forgery.
fn fnv1a(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Exercise {
    /// Reads and validates an exercise file, opening its base recording.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::InvalidFile`] naming the
    /// line and the field of the first problem (a base that cannot be opened included).
    pub fn load(path: &Path) -> Result<Exercise> {
        let bytes = crate::formats::require_regular(path)
            .and_then(|()| std::fs::read(path))
            .map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let invalid = |msg: String| Error::InvalidFile {
            path: path.to_path_buf(),
            msg,
        };
        let text = String::from_utf8(bytes.clone())
            .map_err(|_| invalid("line 1: the file is not UTF-8 text".into()))?;
        let raw: RawExercise = toml::from_str(&text).map_err(|e| {
            let msg = e.message().trim().replace('\n', " ");
            invalid(match e.span() {
                Some(span) => {
                    let line = line_of(&text, span.start);
                    // A wrong type or value names only what it got; the key is on the line.
                    match key_of_line(&text, span.start) {
                        Some(key) if !msg.contains(&format!("`{key}`")) => {
                            format!("line {line}: {key}: {msg}")
                        }
                        _ => format!("line {line}: {msg}"),
                    }
                }
                None => msg,
            })
        })?;
        let at = |span: std::ops::Range<usize>| format!("line {}", line_of(&text, span.start));
        let dir = path.parent().unwrap_or(Path::new("."));
        let abs = |p: &Path| {
            let p = dir.join(p);
            p.canonicalize().unwrap_or(p)
        };
        let name = match &raw.name {
            Some(n) if n.get_ref().trim().is_empty() => {
                return Err(invalid(format!("{}: name must not be empty", at(n.span()))))
            }
            Some(n) => n.get_ref().trim().to_string(),
            None => path
                .file_stem()
                .map_or("exercise".into(), |s| s.to_string_lossy().into_owned()),
        };
        let base_open = OpenOptions {
            rate_hz: raw.base_rate_hz.as_ref().map(|r| r.get_ref().0),
            freq_hz: raw.base_freq_hz.as_ref().map(|r| r.get_ref().0),
            raw_format: match &raw.base_iq_format {
                Some(f) => Some(RawFormat::from_name(f.get_ref()).ok_or_else(|| {
                    invalid(format!(
                        "{}: base_iq_format: `{}` is not one of cu8, cs8, cs16, cf32",
                        at(f.span()),
                        f.get_ref()
                    ))
                })?),
                None => None,
            },
        };
        if let Some(r) = &raw.base_rate_hz {
            if let Some(why) = crate::types::check_sample_rate(r.get_ref().0) {
                return Err(invalid(format!("{}: base_rate_hz {why}", at(r.span()))));
            }
        }
        let base = abs(Path::new(raw.base.get_ref()));
        let rec = crate::source::open(&base, &base_open)
            .map_err(|e| invalid(format!("{}: base: {e}", at(raw.base.span()))))?;
        let base_meta = rec.meta().clone();
        let base_len = rec.source.len_samples();
        if base_len == 0 {
            return Err(invalid(format!(
                "{}: base: {} holds no samples",
                at(raw.base.span()),
                base.display()
            )));
        }
        let rate = base_meta.sample_rate_hz;
        let duration_s = match &raw.duration_s {
            Some(d) => {
                let v = *d.get_ref();
                if !(v > 0.0 && v <= MAX_DURATION_S) {
                    return Err(invalid(format!(
                        "{}: duration_s must be in (0, {MAX_DURATION_S}], got {v}",
                        at(d.span())
                    )));
                }
                v
            }
            None => base_len as f64 / rate,
        };
        let mut injections: Vec<Injection> = Vec::with_capacity(raw.inject.len());
        for (i, ri) in raw.inject.iter().enumerate() {
            let r = ri.get_ref();
            let line = line_of(&text, ri.span().start);
            let kind = *r.kind.get_ref();
            let iname = match &r.name {
                Some(n) if n.get_ref().trim().is_empty() => {
                    return Err(invalid(format!("{}: name must not be empty", at(n.span()))))
                }
                Some(n) => n.get_ref().trim().to_string(),
                None => format!("{}-{}", kind.name(), i + 1),
            };
            let what = format!("inject {} ({iname})", i + 1);
            if injections.iter().any(|o| o.name == iname) {
                let span = r.name.as_ref().map_or(ri.span(), |n| n.span());
                return Err(invalid(format!(
                    "{}: {what}: name is used twice; names must be unique",
                    at(span)
                )));
            }
            let freq = r.freq_hz.get_ref().0;
            let start = r.start_s.as_ref().map_or(0.0, |s| *s.get_ref());
            let stop = r.stop_s.as_ref().map_or(duration_s, |s| *s.get_ref());
            if !(start >= 0.0 && start < duration_s) {
                let span = r.start_s.as_ref().map_or(ri.span(), |s| s.span());
                return Err(invalid(format!(
                    "{}: {what}: start_s must be in [0, {duration_s}) (the exercise's length), got {start}",
                    at(span)
                )));
            }
            if !(stop > start && stop <= duration_s) {
                let span = r.stop_s.as_ref().map_or(ri.span(), |s| s.span());
                return Err(invalid(format!(
                    "{}: {what}: stop_s must be in ({start}, {duration_s}], got {stop}",
                    at(span)
                )));
            }
            let deadline_s = r
                .deadline_s
                .as_ref()
                .map_or(DEFAULT_DEADLINE_S, |d| *d.get_ref());
            if !(deadline_s > 0.0 && deadline_s.is_finite()) {
                let span = r.deadline_s.as_ref().map_or(ri.span(), |s| s.span());
                return Err(invalid(format!(
                    "{}: {what}: deadline_s must be positive, got {deadline_s}",
                    at(span)
                )));
            }
            let spec = EmitterSpec {
                kind,
                name: Some(iname.clone()),
                offset_hz: Hz(freq - base_meta.center_freq_hz),
                bandwidth_hz: r.bandwidth_hz.as_ref().map(|h| *h.get_ref()),
                snr_db: *r.snr_db.get_ref(),
                start_s: start,
                stop_s: Some(stop),
                burst_ms: r.burst_ms.as_ref().map(|v| *v.get_ref()),
                period_ms: r.period_ms.as_ref().map(|v| *v.get_ref()),
                hops: r.hops.as_ref().map(|v| *v.get_ref()),
                dwell_ms: r.dwell_ms.as_ref().map(|v| *v.get_ref()),
                span_hz: r.span_hz.as_ref().map(|v| *v.get_ref()),
            };
            // The simulator's own checks (band, bandwidth, bursts, hops) on this emitter
            // alone, so the message is about this table; the line is that of the field
            // the message names.
            let alone = Scene {
                sample_rate_hz: Hz(rate),
                center_freq_hz: Hz(base_meta.center_freq_hz),
                duration_s,
                noise_dbfs: -50.0,
                seed: 0,
                description: String::new(),
                emitters: vec![spec.clone()],
            };
            if let Err(e) = alone.validate() {
                let why = e
                    .split_once("): ")
                    .map_or(e.as_str(), |(_, w)| w)
                    .replace("from centre", "from the base's centre");
                let fields: [(&str, Option<std::ops::Range<usize>>); 9] = [
                    ("bandwidth_hz", r.bandwidth_hz.as_ref().map(|v| v.span())),
                    ("snr_db", Some(r.snr_db.span())),
                    ("burst_ms", r.burst_ms.as_ref().map(|v| v.span())),
                    ("period_ms", r.period_ms.as_ref().map(|v| v.span())),
                    ("hops", r.hops.as_ref().map(|v| v.span())),
                    ("dwell_ms", r.dwell_ms.as_ref().map(|v| v.span())),
                    ("span_hz", r.span_hz.as_ref().map(|v| v.span())),
                    ("occupies", Some(r.freq_hz.span())),
                    ("start_s", r.start_s.as_ref().map(|v| v.span())),
                ];
                let span = fields
                    .iter()
                    .find(|(f, s)| s.is_some() && why.contains(f))
                    .and_then(|(_, s)| s.clone())
                    .unwrap_or(ri.span());
                let why = if why.starts_with("occupies") {
                    format!("freq_hz {}: {why}", units::format_hz(freq))
                } else {
                    why
                };
                return Err(invalid(format!("{}: {what}: {why}", at(span))));
            }
            injections.push(Injection {
                spec,
                name: iname,
                freq_hz: freq,
                expect: match r.expect.get_ref() {
                    Expect::Threat => Verdict::Threat,
                    Expect::Benign => Verdict::Benign,
                },
                deadline_s,
                line,
            });
        }
        Ok(Exercise {
            path: path.canonicalize().unwrap_or_else(|_| path.to_path_buf()),
            name,
            description: raw.description,
            hash: fnv1a(&bytes),
            base,
            base_open,
            base_meta,
            base_len,
            seed: raw.seed,
            duration_s,
            injections,
        })
    }

    /// Samples in the exercise.
    pub fn len_samples(&self) -> u64 {
        (self.duration_s * self.base_meta.sample_rate_hz).round() as u64
    }

    /// Opens the base recording (again) from its first sample.
    ///
    /// # Errors
    /// The recording can no longer be read.
    pub fn open_base(&self) -> Result<Recording> {
        crate::source::open(&self.base, &self.base_open)
    }

    /// Measures the base's noise floor with [`FLOOR_SPECTRUM`] (see
    /// [`spectra::measure_floor`]).
    ///
    /// # Errors
    /// The base cannot be read, or is silent or shorter than a spectrum.
    pub fn measure_floor(&self) -> Result<Floor> {
        let rec = self.open_base()?;
        spectra::measure_floor(
            Box::new(rec.source) as Box<dyn crate::source::IqSource>,
            FLOOR_SPECTRUM,
            self.base_meta.sample_rate_hz,
        )
    }

    /// The injections as a synth scene over the base's `floor`.
    pub fn scene(&self, floor: &Floor) -> Scene {
        Scene {
            sample_rate_hz: Hz(self.base_meta.sample_rate_hz),
            center_freq_hz: Hz(self.base_meta.center_freq_hz),
            duration_s: self.duration_s,
            noise_dbfs: floor.total_dbfs,
            seed: self.seed,
            description: self.description.clone(),
            emitters: self.injections.iter().map(|i| i.spec.clone()).collect(),
        }
    }

    /// The stream the trainee sees: the base with the injections (or without, for the
    /// base alone), from the start of the exercise.
    ///
    /// # Errors
    /// The base cannot be read; a floor too high for the simulator's levels.
    pub fn mix(&self, floor: &Floor, injections: bool) -> Result<MixSource> {
        let rec = self.open_base()?;
        let emitters = if injections {
            Some(Emitters::new(&self.scene(floor))?)
        } else {
            None
        };
        let mut meta = rec.meta().clone();
        // What the console's status line shows: the exercise, never what is in it.
        meta.origin = format!("exercise {}", units::one_line(&self.name));
        meta.description = self.description.clone();
        MixSource::new(rec.source, emitters, meta, self.len_samples())
    }

    /// The truth: one annotation per injection (exercise samples, absolute frequencies,
    /// source `synth/<type>`, label the injection's name), as `kuzet score` reads them.
    pub fn annotations(&self, floor: &Floor) -> Vec<Annotation> {
        self.scene(floor).annotations()
    }

    /// The base's own annotations, repeated on every pass of a looped base, in exercise
    /// samples (cut at the exercise's end).
    ///
    /// # Errors
    /// The base cannot be opened, or its annotations cannot be read.
    pub fn base_annotations(&self) -> Result<Vec<Annotation>> {
        let rec = self.open_base()?;
        let own = if rec.kind == crate::source::recording::InputKind::Kuzet {
            crate::formats::CaptureReader::open(rec.path())?.annotations()?
        } else {
            rec.annotations
                .into_iter()
                .filter(|a| a.source != crate::formats::sigmf::RETUNE_SOURCE)
                .collect()
        };
        let total = self.len_samples();
        let mut out = Vec::new();
        let mut lap = 0;
        while lap * self.base_len < total {
            for a in &own {
                let start = lap * self.base_len + a.start_sample;
                if start >= total {
                    continue;
                }
                out.push(Annotation {
                    start_sample: start,
                    length: a.length.min(total - start),
                    ..a.clone()
                });
            }
            lap += 1;
        }
        Ok(out)
    }

    /// What a session's header records about the exercise and its injections.
    pub fn info(&self, floor: &Floor, fft_len: usize) -> (ExerciseInfo, Vec<InjectionInfo>) {
        let info = ExerciseInfo {
            path: self.path.display().to_string(),
            name: self.name.clone(),
            hash: self.hash.clone(),
            base: self.base.display().to_string(),
            duration_s: self.duration_s,
            sample_rate_hz: self.base_meta.sample_rate_hz,
            center_freq_hz: self.base_meta.center_freq_hz,
            floor_dbfs_hz: crate::alert::round_to(floor.dbfs_hz, 2),
            fft_len,
            seed: self.seed,
        };
        let truth = self.annotations(floor);
        let rate = self.base_meta.sample_rate_hz;
        let inj = self
            .injections
            .iter()
            .zip(truth)
            .map(|(i, t)| InjectionInfo {
                name: i.name.clone(),
                kind: i.spec.kind.name().to_string(),
                freq_hz: i.freq_hz,
                freq_lo_hz: t.freq_lo_hz,
                freq_hi_hz: t.freq_hi_hz,
                start_s: t.start_sample as f64 / rate,
                stop_s: (t.start_sample + t.length) as f64 / rate,
                snr_db: i.spec.snr_db,
                expect: i.expect,
                deadline_s: i.deadline_s,
            })
            .collect();
        (info, inj)
    }

    /// The timeline `kuzet exercise check` prints: the base, the floor, then one row per
    /// injection in order of start with a bar of when it is on.
    pub fn timeline(&self, floor: &Floor) -> String {
        const BAR: usize = 40;
        let mut s = String::new();
        let m = &self.base_meta;
        let base_s = self.base_len as f64 / m.sample_rate_hz;
        let _ = writeln!(
            s,
            "exercise {}{}",
            units::one_line(&self.name),
            if self.description.is_empty() {
                String::new()
            } else {
                format!(": {}", units::one_line(&self.description))
            }
        );
        let _ = writeln!(
            s,
            "base {}: {} at {}, {:.2} s{}",
            units::one_line(&self.base.display().to_string()),
            units::format_rate(m.sample_rate_hz),
            units::format_hz(m.center_freq_hz),
            base_s,
            if self.len_samples() > self.base_len {
                format!(", looped to {:.2} s", self.duration_s)
            } else {
                format!(", {:.2} s of it used", self.duration_s)
            }
        );
        let _ = writeln!(
            s,
            "floor {:.1} dBFS/Hz ({:.1} dBFS over {}), measured over {:.1} s; levels are in-band SNR over it",
            floor.dbfs_hz,
            floor.total_dbfs,
            units::format_rate(m.sample_rate_hz),
            floor.seconds
        );
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:>8} {:>8}  {:<16} {:<7} {:>13} {:>6} {:<7} {:>8}  {:<BAR$}",
            "start", "stop", "injection", "type", "MHz", "SNR", "expect", "deadline", "timeline"
        );
        let mut order: Vec<&Injection> = self.injections.iter().collect();
        order.sort_by(|a, b| a.spec.start_s.total_cmp(&b.spec.start_s));
        for i in order {
            let stop = i.spec.stop_s.unwrap_or(self.duration_s);
            let cell = |k: usize| k as f64 * self.duration_s / BAR as f64;
            let bar: String = (0..BAR)
                .map(|k| {
                    if cell(k + 1) > i.spec.start_s && cell(k) < stop {
                        '█'
                    } else {
                        '·'
                    }
                })
                .collect();
            let _ = writeln!(
                s,
                "{:>6.1} s {:>6.1} s  {:<16} {:<7} {:>13.6} {:>3.0} dB {:<7} {:>6.0} s  {bar}",
                i.spec.start_s,
                stop,
                units::one_line(&i.name),
                i.spec.kind.name(),
                i.freq_hz / 1e6,
                i.spec.snr_db,
                i.expect.as_str(),
                i.deadline_s,
            );
        }
        if self.injections.is_empty() {
            let _ = writeln!(s, "(no injections: the trainee watches the base alone)");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small base recording of noise, 1 s at 250 kS/s, centred on 433.92 MHz.
    fn base(dir: &Path) -> PathBuf {
        let scene = Scene {
            sample_rate_hz: Hz(250e3),
            center_freq_hz: Hz(433.92e6),
            duration_s: 1.0,
            noise_dbfs: -50.0,
            seed: 1,
            description: String::new(),
            emitters: vec![],
        };
        let p = dir.join("base.h5");
        let mut src = crate::source::synth::SynthSource::new(&scene).unwrap();
        let mut w = crate::formats::CaptureWriter::create(
            &p,
            &scene.meta(),
            &crate::formats::WriterOptions::default(),
        )
        .unwrap();
        let never = std::sync::atomic::AtomicBool::new(false);
        crate::source::copy(&mut src, &mut w, &never).unwrap();
        w.finish().unwrap();
        p
    }

    fn load(dir: &Path, text: &str) -> Result<Exercise> {
        let p = dir.join("x.toml");
        std::fs::write(&p, text).unwrap();
        Exercise::load(&p)
    }

    const GOOD: &str = r#"name = "t"
base = "base.h5"
duration_s = 3
seed = 4

[[inject]]
type = "hopper"
name = "rc"
freq_hz = "433.92M"
span_hz = "100k"
bandwidth_hz = "10k"
snr_db = 20
start_s = 1
stop_s = 2.5
expect = "threat"
deadline_s = 10
"#;

    #[test]
    fn a_good_exercise_loads_with_its_defaults() {
        let dir = tempfile::tempdir().unwrap();
        base(dir.path());
        let x = load(dir.path(), GOOD).unwrap();
        assert_eq!(x.name, "t");
        assert_eq!(x.len_samples(), 750_000);
        assert_eq!(x.injections.len(), 1);
        let i = &x.injections[0];
        assert_eq!((i.expect, i.deadline_s, i.line), (Verdict::Threat, 10.0, 6));
        assert_eq!(i.spec.offset_hz.0, 0.0);
        let no_name = GOOD
            .replace("name = \"rc\"\n", "")
            .replace("deadline_s = 10\n", "");
        let x = load(dir.path(), &no_name).unwrap();
        assert_eq!(x.injections[0].name, "hopper-1");
        assert_eq!(x.injections[0].deadline_s, DEFAULT_DEADLINE_S);
    }

    #[test]
    fn every_bad_field_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        base(dir.path());
        let cases: &[(&str, &str, &str)] = &[
            (
                "snr_db = 20",
                "snr_db = 95",
                "line 12: inject 1 (rc): snr_db",
            ),
            (
                "freq_hz = \"433.92M\"",
                "freq_hz = \"435M\"",
                "line 9: inject 1 (rc): freq_hz",
            ),
            (
                "stop_s = 2.5",
                "stop_s = 4",
                "line 14: inject 1 (rc): stop_s",
            ),
            (
                "start_s = 1",
                "start_s = -1",
                "line 13: inject 1 (rc): start_s",
            ),
            ("expect = \"threat\"", "expect = \"maybe\"", "line 15:"),
            (
                "deadline_s = 10",
                "deadline_s = 0",
                "line 16: inject 1 (rc): deadline_s",
            ),
            ("span_hz = \"100k\"", "spam_hz = \"100k\"", "line 10:"),
            ("base = \"base.h5\"", "base = \"nope.h5\"", "line 2: base:"),
            ("duration_s = 3", "duration_s = -3", "line 3: duration_s"),
            (
                "type = \"hopper\"",
                "type = \"drone\"",
                "line 7: type: unknown variant",
            ),
            ("seed = 4", "seed = \"x\"", "line 4: seed: invalid type"),
        ];
        for (from, to, want) in cases {
            let text = GOOD.replace(from, to);
            assert_ne!(text, GOOD, "{from}");
            let e = load(dir.path(), &text).unwrap_err();
            assert!(matches!(e, Error::InvalidFile { .. }), "{to}: {e}");
            let msg = e.to_string();
            assert!(msg.contains("x.toml") && msg.contains(want), "{to}: {msg}");
        }
        // A second table with the same name names the name's line.
        let twice = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[inject]]").unwrap()..]);
        let e = load(dir.path(), &twice).unwrap_err().to_string();
        assert!(
            e.contains("line 20: inject 2 (rc): name is used twice"),
            "{e}"
        );
    }

    #[test]
    fn the_timeline_lists_injections_in_order_with_bars() {
        let dir = tempfile::tempdir().unwrap();
        base(dir.path());
        let x = load(dir.path(), GOOD).unwrap();
        let floor = Floor {
            dbfs_hz: -104.0,
            total_dbfs: -50.0,
            seconds: 1.0,
        };
        let t = x.timeline(&floor);
        assert!(t.contains("looped to 3.00 s"), "{t}");
        let row = t.lines().find(|l| l.contains(" rc ")).unwrap();
        assert!(row.contains("hopper") && row.contains("threat"), "{row}");
        // On from 1 s to 2.5 s of 3 s: 40 cells, the first 13 off.
        let bar: String = row
            .chars()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        assert_eq!(bar.chars().take_while(|&c| c == '·').count(), 13, "{bar}");
        assert_eq!(bar.chars().filter(|&c| c == '█').count(), 21, "{bar}");
    }
}
