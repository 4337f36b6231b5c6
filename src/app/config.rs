//! The settings layer: parsed arguments ([`crate::cli`]) into one validated, immutable
//! settings value per command. Every default is written once, here; this is the only
//! module that knows flag names, and it turns the library's typed errors
//! ([`Error::Invalid`]) into messages that name the flag the operator gave.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::{
    AnalyzeArgs, BaselineCommand, BellArgs, BenchArgs, BrokerArgs, Cli, Command, ConvertArgs,
    DetectArgs, DeviceArgs, DevicesArgs, DspArgs, EvidenceArgs, ExerciseCommand,
    ExerciseReportArgs, ExerciseRunArgs, FormatArg, HqArgs, InputArgs, LearnArgs, LimitArgs,
    MqttArgs, RecordArgs, ReplayArgs, RunArgs, ScoreArgs, SpectrumArgs, SweepArgs, SynthArgs,
    TuneArgs, WatchArgs,
};
use crate::detect::bandplan::BandPlan;
use crate::detect::baseline::Baseline;
use crate::detect::sweep::{Pulse, SweepSpec};
use crate::detect::{DetectorConfig, Knowledge, Prior};
use crate::dsp::{SpectrumConfig, WindowKind};
use crate::error::{Error, Result};
use crate::formats::convert::OutputKind;
use crate::formats::raw::RawFormat;
use crate::formats::SampleFormat;
use crate::pipeline::mqtt::BrokerConfig;
use crate::pipeline::recorder::{RecorderConfig, Target};
use crate::pipeline::{FederationConfig, PipelineConfig};
use crate::sinks::evidence::EvidenceConfig;
use crate::sinks::federation::{check_post, Broker, Status};
use crate::source::soapy::{DeviceSettings, Gain};
use crate::source::synth::{EmitterKind, EmitterSpec, Scene};
use crate::source::OpenOptions;
use crate::tui::app::SPEEDS;
use crate::types::{KnownEntry, StreamMeta};
use crate::units::{self, Hz};

/// The bundled demo capture, relative to the repository root.
pub const DEMO_CAPTURE: &str = "captures/demo.h5";

/// Defaults, each written once.
mod default {
    pub const FFT: usize = 1024;
    pub const OVERLAP_PCT: u32 = 50;
    /// Stream time per averaged spectrum: short bursts still stand out, noise is averaged
    /// down.
    pub const SPECTRUM_S: f64 = 0.01;
    /// New samples per averaged spectrum at most, whatever the rate: above ~100 MS/s the
    /// spectra get shorter than 10 ms rather than every buffer growing with the rate.
    pub const SPECTRUM_MAX_SAMPLES: f64 = 1048576.0;
    /// Stream time per window of the spectrum's peak (the per-frame view), at least one
    /// frame: half the shortest burst the view is for (2 ms), so such a burst fills one
    /// window whole however its frames fall, at any rate.
    pub const PEAK_WINDOW_S: f64 = 0.001;
    /// Spectrum workers at most (one per core below that).
    pub const MAX_WORKERS: usize = 8;
    pub const FREQ_HZ: f64 = 433.92e6;
    pub const RATE_SPS: f64 = 2.4e6;
    pub const ROLLOVER: &str = "10m";
    pub const SYNTH_DURATION_S: f64 = 10.0;
    pub const SYNTH_NOISE_DBFS: f64 = -50.0;
    pub const SYNTH_SEED: u64 = 1;
    pub const REPLAY_SPEED: f64 = 1.0;
    /// Where session logs go without `--log`.
    pub const SESSION_DIR: &str = ".";
    /// Width of the waterfall in the after-action picture, in time columns.
    pub const PICTURE_COLUMNS: usize = 1200;
    /// Alert lines an outbox holds for the broker: days of a busy post's alerts.
    pub const MQTT_QUOTA: usize = 100_000;
    pub const MQTT_DRAIN: &str = "10s";
    pub const MQTT_HEALTH_S: u64 = 10;
    /// A post id or HQ id when the host has no name.
    pub const HOST: &str = "kuzet";
    /// A sweep looks at each step for two 10 ms spectra: long enough for the detector's
    /// averaging, short enough to come back soon.
    pub const SWEEP_DWELL_S: f64 = 0.020;
    /// A sweep's sample rate without --rate: the radio's fastest, up to this; wider steps
    /// mean fewer retunes.
    pub const SWEEP_MAX_RATE_SPS: f64 = 20e6;
    /// The pulse train a sweep states its probability of intercept for: a keyfob or
    /// remote trigger's short burst, 0.5 ms every 150 ms.
    pub const SWEEP_POI: crate::detect::sweep::Pulse = crate::detect::sweep::Pulse {
        width_s: 0.5e-3,
        period_s: 0.150,
    };
}

/// One command's settings.
#[derive(Debug)]
pub enum Settings {
    /// `kuzet analyze` (and the demo without a terminal).
    Analyze(Analyze),
    /// `kuzet replay` (and the demo on a terminal).
    Replay(Replay),
    /// `kuzet watch`.
    Watch(Box<Watch>),
    /// `kuzet record`.
    Record(Record),
    /// `kuzet synth`.
    Synth(Synth),
    /// `kuzet score`.
    Score(Score),
    /// `kuzet baseline learn`.
    Learn(Learn),
    /// `kuzet devices`.
    Devices(Devices),
    /// `kuzet bench`.
    Bench(Bench),
    /// `kuzet convert`.
    Convert(Convert),
    /// `kuzet exercise ...`.
    Exercise(Exercise),
    /// `kuzet hq`.
    Hq(Hq),
}

/// A recording to read, and how.
#[derive(Debug, Clone)]
pub struct Input {
    /// The file.
    pub path: PathBuf,
    /// `--rate`, `--freq`, `--iq-format`.
    pub open: OpenOptions,
}

/// Spectrum settings; the averaging is resolved per stream (it depends on the rate).
#[derive(Debug, Clone, Copy)]
pub struct Spectrum {
    fft: usize,
    overlap_pct: u32,
    averages: Option<usize>,
    window: WindowKind,
    carriers: bool,
    /// Spectrum worker threads.
    pub workers: usize,
}

impl Spectrum {
    /// The same settings with `n` FFT frames averaged into each spectrum (`--avg N`).
    pub fn with_averages(mut self, n: usize) -> Self {
        self.averages = Some(n);
        self
    }
}

impl Default for Spectrum {
    fn default() -> Self {
        Spectrum {
            fft: default::FFT,
            overlap_pct: default::OVERLAP_PCT,
            averages: None,
            window: WindowKind::Hann,
            carriers: true,
            // One spectrum worker per core: order is restored after the workers, so
            // results do not depend on the count.
            workers: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(default::MAX_WORKERS),
        }
    }
}

impl Spectrum {
    /// The spectrum stage for a stream at `sample_rate_hz`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the flag.
    pub fn config(&self, sample_rate_hz: f64) -> Result<SpectrumConfig> {
        let mut s = SpectrumConfig::new(self.fft, self.overlap_pct, 1, self.window);
        s.averages = self.averages.unwrap_or_else(|| {
            let span = (default::SPECTRUM_S * sample_rate_hz).min(default::SPECTRUM_MAX_SAMPLES);
            ((span / s.hop as f64).round() as usize).max(1)
        });
        s.peak_frames =
            ((default::PEAK_WINDOW_S * sample_rate_hz / s.hop as f64).round() as usize).max(1);
        s.carriers = self.carriers;
        s.validate().map_err(flagged)?;
        Ok(s)
    }
}

/// Detection settings, with the band plan, baseline and known-emitters files already
/// loaded.
#[derive(Clone)]
pub struct Detect {
    pfa: f64,
    bandplan: Arc<BandPlan>,
    baseline: Option<Arc<Baseline>>,
    /// `--known FILE` and what it held at start.
    known: Option<(PathBuf, Arc<[KnownEntry]>)>,
}

impl std::fmt::Debug for Detect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detect")
            .field("pfa", &self.pfa)
            .field("bandplan", &self.bandplan.origin)
            .field("baseline", &self.baseline.is_some())
            .field("known", &self.known.as_ref().map(|(p, k)| (p, k.len())))
            .finish()
    }
}

impl Default for Detect {
    fn default() -> Self {
        Detect {
            // The detector's own default: written once, there.
            pfa: DetectorConfig::default().pfa,
            bandplan: Arc::new(BandPlan::default_border()),
            baseline: None,
            known: None,
        }
    }
}

impl Detect {
    /// The band plan in use.
    pub fn bandplan(&self) -> &Arc<BandPlan> {
        &self.bandplan
    }

    /// The known emitters loaded from `--known` (empty without it).
    pub fn known(&self) -> &[KnownEntry] {
        self.known.as_ref().map_or(&[], |(_, k)| k)
    }
}

/// Spectrum and detection: what turns into a [`PipelineConfig`] once the stream is known.
#[derive(Debug, Clone, Default)]
pub struct Dsp {
    /// Spectrum settings.
    pub spectrum: Spectrum,
    /// Detection settings.
    pub detect: Detect,
}

impl Dsp {
    /// The pipeline for a stream described by `meta`: spectrum, detector, band plan and
    /// baseline, workers. Evidence, alert log and recording are the caller's to add.
    ///
    /// # Errors
    /// [`Error::Config`] naming the flag.
    pub fn pipeline(&self, meta: &StreamMeta) -> Result<PipelineConfig> {
        let mut spectrum = self.spectrum.config(meta.sample_rate_hz)?;
        // A recording too short for the default averaging to give the detector something
        // to work with (a 1 ms LTE frame is a tenth of one 10 ms spectrum) gets shorter
        // spectra: at least MIN_SPECTRA, the averaging what the samples allow. Said on
        // stderr, since it changes what a spectrum means.
        const MIN_SPECTRA: u64 = 10;
        let mut note = None;
        if let (None, Some(total), false) = (self.spectrum.averages, meta.total_samples, meta.live)
        {
            let frames = total.saturating_sub(spectrum.history() as u64) / spectrum.hop as u64;
            let fit = (frames / MIN_SPECTRA).max(1) as usize;
            if fit < spectrum.averages {
                note = Some(format!(
                    "the input holds {total} samples ({:.2} ms), too few for {} averages per \
                     spectrum: averaging {fit} frames instead (--avg sets it)",
                    total as f64 / meta.sample_rate_hz * 1e3,
                    spectrum.averages
                ));
                spectrum.averages = fit;
            }
        }
        let mut cfg = PipelineConfig::new(spectrum);
        cfg.detector = DetectorConfig {
            pfa: self.detect.pfa,
            ..DetectorConfig::default()
        };
        cfg.detector.validate().map_err(flagged)?;
        // Known emitters match as the baseline's do: two bins of slack, on this run's grid.
        let bin_hz = meta.sample_rate_hz / cfg.spectrum.fft_len as f64;
        let prior = Prior::new(
            Some(self.detect.bandplan.clone()),
            self.detect.baseline.clone(),
        )
        .with_known(self.detect.known().to_vec(), 2.0 * bin_hz);
        cfg.knowledge = Some(Arc::new(prior) as Arc<dyn Knowledge>);
        cfg.known_file = self.detect.known.as_ref().map(|(p, _)| p.clone());
        cfg.workers = self.spectrum.workers;
        // Only once every setting is valid: an invalid run prints its one error line.
        if let Some(note) = note {
            eprintln!("kuzet: {note}");
        }
        Ok(cfg)
    }
}

/// `kuzet analyze`.
#[derive(Debug)]
pub struct Analyze {
    /// The recording.
    pub input: Input,
    /// Stream seconds to take (`--duration`).
    pub limit_s: Option<f64>,
    /// The alert log.
    pub alerts: Option<PathBuf>,
    /// Spectrum and detection.
    pub dsp: Dsp,
    /// Evidence clips.
    pub evidence: Option<EvidenceConfig>,
    /// Federation.
    pub mqtt: Option<Mqtt>,
}

/// `kuzet replay`.
#[derive(Debug)]
pub struct Replay {
    /// The recording.
    pub input: Input,
    /// Replay speed; `None` is as fast as possible.
    pub speed: Option<f64>,
    /// Start over at the end.
    pub looping: bool,
    /// JSON lines instead of the console.
    pub headless: bool,
    /// The console's command for critical alerts (`--on-critical`).
    pub on_critical: Option<String>,
    /// Stream seconds to take, across loops and seeks.
    pub limit_s: Option<f64>,
    /// The alert log.
    pub alerts: Option<PathBuf>,
    /// Spectrum and detection.
    pub dsp: Dsp,
    /// Evidence clips.
    pub evidence: Option<EvidenceConfig>,
    /// Federation.
    pub mqtt: Option<Mqtt>,
}

/// `kuzet watch`.
#[derive(Debug)]
pub struct Watch {
    /// The radio.
    pub device: DeviceSettings,
    /// JSON lines instead of the console.
    pub headless: bool,
    /// The console's command for critical alerts (`--on-critical`).
    pub on_critical: Option<String>,
    /// Stream seconds to run for.
    pub limit_s: Option<f64>,
    /// The alert log.
    pub alerts: Option<PathBuf>,
    /// Continuous recording.
    pub record: Option<RecorderConfig>,
    /// Spectrum and detection.
    pub dsp: Dsp,
    /// Evidence clips.
    pub evidence: Option<EvidenceConfig>,
    /// Federation.
    pub mqtt: Option<Mqtt>,
    /// Step the radio across bands instead of watching one frequency.
    pub sweep: Option<Sweep>,
}

/// `kuzet watch --sweep`: what is known before the radio is opened. The rate, settle and
/// crop defaults depend on the radio and are resolved once it is (`None` here).
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// What to sweep.
    pub spec: SweepSpec,
    /// `--rate`, when given.
    pub rate_sps: Option<f64>,
    /// The radio's fastest rate is used up to this.
    pub max_rate_sps: f64,
    /// Stream time per visit (rounded to whole spectra).
    pub dwell_s: f64,
    /// Stream time discarded after a retune, when given.
    pub settle_s: Option<f64>,
    /// Fraction of the band kept after cropping, when given.
    pub keep_fraction: Option<f64>,
    /// The pulse train the probability of intercept is stated for.
    pub poi: Pulse,
}

impl Sweep {
    /// A sweep of `spec` with every other setting at its default (the radio's fastest
    /// rate up to 20 MS/s, 20 ms dwells, the driver's settle and crop, the POI stated for
    /// 0.5 ms pulses every 150 ms).
    pub fn new(spec: SweepSpec) -> Sweep {
        Sweep {
            spec,
            rate_sps: None,
            max_rate_sps: default::SWEEP_MAX_RATE_SPS,
            dwell_s: default::SWEEP_DWELL_S,
            settle_s: None,
            keep_fraction: None,
            poi: default::SWEEP_POI,
        }
    }
}

/// `kuzet record`.
#[derive(Debug)]
pub struct Record {
    /// The radio.
    pub device: DeviceSettings,
    /// The file and its format.
    pub recorder: RecorderConfig,
    /// Stream seconds to record.
    pub limit_s: Option<f64>,
    /// Bytes of samples to record.
    pub size_bytes: Option<u64>,
}

/// `kuzet synth`.
#[derive(Debug)]
pub struct Synth {
    /// The scene.
    pub scene: Scene,
    /// Output capture.
    pub output: PathBuf,
    /// Replace an existing output.
    pub force: bool,
    /// Sample format on disk.
    pub format: SampleFormat,
}

/// What `kuzet score` runs.
#[derive(Debug)]
pub enum ScoreTarget {
    /// A scenario, simulated on the fly.
    Scenario(Scene),
    /// A recording with annotations.
    Recording(Input),
}

/// `kuzet score`.
#[derive(Debug)]
pub struct Score {
    /// What to score.
    pub target: ScoreTarget,
    /// Stream seconds to take.
    pub limit_s: Option<f64>,
    /// JSON instead of a table.
    pub json: bool,
    /// Spectrum and detection.
    pub dsp: Dsp,
}

/// `kuzet baseline learn`.
#[derive(Debug)]
pub struct Learn {
    /// The captures, read alike.
    pub inputs: Vec<Input>,
    /// Stream seconds of each.
    pub limit_s: Option<f64>,
    /// Output baseline file.
    pub output: PathBuf,
    /// Replace an existing output.
    pub force: bool,
    /// Spectrum and detection.
    pub dsp: Dsp,
}

/// `kuzet devices`.
#[derive(Debug)]
pub struct Devices {
    /// Device to probe (else list them all).
    pub probe: Option<String>,
    /// Stream from the probed device for this many seconds, tuned so.
    pub throughput: Option<(f64, DeviceSettings)>,
}

/// `kuzet bench`.
#[derive(Debug)]
pub struct Bench {
    /// JSON instead of a table.
    pub json: bool,
}

/// Federation settings of a post (`--mqtt` and its companions).
#[derive(Debug, Clone)]
pub struct Mqtt {
    /// The broker.
    pub broker: BrokerConfig,
    /// This post's id.
    pub post: String,
    /// Cursor and default outbox.
    pub state_dir: PathBuf,
    /// Most alert lines waiting.
    pub quota: usize,
    /// End-of-run wait for the backlog.
    pub drain: std::time::Duration,
    /// No `--alerts` was given: the outbox is [`Mqtt::default_outbox`].
    pub outbox_defaulted: bool,
}

impl Mqtt {
    /// The outbox used when `--alerts` is not given: one per post under the state dir.
    pub fn default_outbox(&self) -> PathBuf {
        self.state_dir
            .join("outbox")
            .join(format!("{}.jsonl", self.post))
    }

    /// The publisher's configuration for the alert log `outbox`, announcing `status`.
    pub fn federation(&self, outbox: &Path, status: Status, quiet: bool) -> FederationConfig {
        FederationConfig {
            broker: self.broker.clone(),
            post: self.post.clone(),
            outbox: outbox.to_path_buf(),
            cursor: self
                .state_dir
                .join("cursor")
                .join(format!("{}.json", self.post)),
            quota: self.quota,
            drain: self.drain,
            health_every: std::time::Duration::from_secs(default::MQTT_HEALTH_S),
            status,
            quiet,
        }
    }
}

/// `kuzet hq`.
#[derive(Debug)]
pub struct Hq {
    /// The broker.
    pub broker: BrokerConfig,
    /// HQ's fixed client id.
    pub client_id: String,
    /// HQ's memory of what it has shown (high-water marks per post).
    pub state: PathBuf,
    /// JSON lines instead of the console.
    pub headless: bool,
}

/// `kuzet convert`.
#[derive(Debug)]
pub struct Convert {
    /// The recording.
    pub input: Input,
    /// The output.
    pub output: PathBuf,
    /// The output's format.
    pub to: OutputKind,
    /// Replace existing outputs.
    pub force: bool,
}

/// `kuzet exercise ...`: what to do with which exercise.
#[derive(Debug)]
pub enum ExerciseAction {
    /// `check`: validate and print the timeline.
    Check,
    /// `export`: write the mix with its annotations.
    Export {
        /// The output.
        output: PathBuf,
        /// Its format (one that holds annotations).
        to: OutputKind,
        /// Replace an existing output.
        force: bool,
    },
    /// `run`: a session.
    Run {
        /// Who.
        trainee: String,
        /// Where the session log goes.
        log_dir: PathBuf,
        /// A scripted trainee's actions (none: the console).
        actions: Option<PathBuf>,
    },
    /// `report`: score session logs.
    Report {
        /// The logs.
        sessions: Vec<PathBuf>,
        /// JSON instead of tables.
        json: bool,
        /// The picture, and its format.
        picture: Option<(PathBuf, crate::eval::exercise::picture::Format)>,
        /// Replace an existing picture.
        force: bool,
        /// Waterfall columns of the picture.
        columns: usize,
    },
}

/// `kuzet exercise`.
#[derive(Debug)]
pub struct Exercise {
    /// The exercise file (for `report`: the one given with `--exercise`, else none).
    pub file: Option<PathBuf>,
    /// What to do.
    pub action: ExerciseAction,
    /// Spectrum and detection: kuzet's defaults, so that a session is scored with the
    /// settings it ran with (only the worker count, which changes no result, is a flag).
    pub dsp: Dsp,
}

impl Settings {
    /// Validates a parsed command line into settings.
    ///
    /// # Errors
    /// [`Error::Config`] naming the flag; file errors for band plans, baselines and
    /// scenarios.
    pub fn from_cli(cli: Cli) -> Result<Settings> {
        Ok(match cli.command {
            Some(Command::Analyze(a)) => Settings::Analyze(analyze(&a)?),
            Some(Command::Replay(a)) => Settings::Replay(replay(&a)?),
            Some(Command::Watch(a)) => Settings::Watch(Box::new(watch(&a)?)),
            Some(Command::Record(a)) => Settings::Record(record(&a)?),
            Some(Command::Synth(a)) => Settings::Synth(synth(&a)?),
            Some(Command::Score(a)) => Settings::Score(score(&a)?),
            Some(Command::Baseline(BaselineCommand::Learn(a))) => Settings::Learn(learn(&a)?),
            Some(Command::Devices(a)) => Settings::Devices(devices(&a)?),
            Some(Command::Bench(BenchArgs { json })) => Settings::Bench(Bench { json }),
            Some(Command::Convert(a)) => Settings::Convert(convert(&a)?),
            Some(Command::Exercise(c)) => Settings::Exercise(exercise(c)?),
            Some(Command::Hq(a)) => Settings::Hq(hq(&a)?),
            // First minute with no radio: the demo on the console, looping.
            None if std::io::stdout().is_terminal() => Settings::Replay(Replay {
                input: demo(),
                speed: Some(default::REPLAY_SPEED),
                looping: true,
                headless: false,
                on_critical: None,
                limit_s: None,
                alerts: None,
                dsp: Dsp::default(),
                evidence: None,
                mqtt: None,
            }),
            None => Settings::Analyze(Analyze {
                input: demo(),
                limit_s: None,
                alerts: None,
                dsp: Dsp::default(),
                evidence: None,
                mqtt: None,
            }),
        })
    }
}

/// The demo capture: from the working directory when run from a checkout, else next to
/// the crate that was built.
fn demo() -> Input {
    let local = PathBuf::from(DEMO_CAPTURE);
    let path = if local.exists() {
        local
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO_CAPTURE)
    };
    Input {
        path,
        open: OpenOptions::default(),
    }
}

/// Prefixes a parser's message with the flag it came from.
fn flag<T>(name: &str, r: std::result::Result<T, String>) -> Result<T> {
    r.map_err(|e| Error::Config(format!("{name}: {e}")))
}

/// The flag behind each library field that [`Error::Invalid`] can name.
const FLAGS: &[(&str, &str)] = &[
    ("fft_len", "--fft"),
    ("hop", "--overlap"),
    ("averages", "--avg"),
    ("pfa", "--pfa"),
    ("pre_s", "--evidence-pre"),
    ("post_s", "--evidence-post"),
    ("max_s", "--evidence-max"),
    ("kinds", "--evidence-kinds"),
    ("url", "--mqtt"),
    ("ca_file", "--mqtt-ca"),
    ("post", "--post"),
    ("sweep", "--sweep"),
    ("crop", "--crop"),
    ("dwell", "--dwell"),
];

/// A library's [`Error::Invalid`] in the operator's terms: the flag instead of the field.
pub fn flagged(e: Error) -> Error {
    match e {
        Error::Invalid { field, why } => {
            let name = FLAGS
                .iter()
                .find(|(f, _)| *f == field)
                .map_or(field, |(_, flag)| flag);
            Error::Config(format!("{name} {why}"))
        }
        other => other,
    }
}

/// A sample rate given on the command line.
fn rate(name: &str, text: &str) -> Result<f64> {
    let v = hz(name, text)?;
    match crate::types::check_sample_rate(v) {
        None => Ok(v),
        Some(why) => Err(Error::Config(format!("{name} {why}"))),
    }
}

fn hz(name: &str, text: &str) -> Result<f64> {
    flag(name, units::parse_hz(text))
}

fn seconds(name: &str, text: &str) -> Result<f64> {
    flag(name, units::parse_duration(text)).map(|d| d.as_secs_f64())
}

fn limit(l: &LimitArgs) -> Result<Option<f64>> {
    l.duration
        .as_deref()
        .map(|d| seconds("--duration", d))
        .transpose()
}

/// Resolves `--rate`, `--freq`, `--iq-format`.
fn open_options(args: &InputArgs) -> Result<OpenOptions> {
    Ok(OpenOptions {
        rate_hz: args
            .rate
            .as_deref()
            .map(|r| rate("--rate", r))
            .transpose()?,
        freq_hz: args.freq.as_deref().map(|f| hz("--freq", f)).transpose()?,
        raw_format: args
            .iq_format
            .as_deref()
            .map(|f| {
                RawFormat::from_name(f).ok_or_else(|| {
                    Error::Config(format!(
                        "--iq-format: `{f}` is not one of cu8, cs8, cs16, cf32"
                    ))
                })
            })
            .transpose()?,
    })
}

fn input(path: &Path, args: &InputArgs) -> Result<Input> {
    Ok(Input {
        path: path.to_path_buf(),
        open: open_options(args)?,
    })
}

fn spectrum(a: &SpectrumArgs) -> Result<Spectrum> {
    let d = Spectrum::default();
    let s = Spectrum {
        fft: a.fft.unwrap_or(d.fft),
        overlap_pct: a.overlap.unwrap_or(d.overlap_pct),
        averages: a.avg,
        window: a.window.unwrap_or(d.window),
        carriers: a.carriers.unwrap_or(d.carriers),
        workers: a.workers.unwrap_or(d.workers),
    };
    if s.workers == 0 || s.workers > 64 {
        return Err(Error::Config(format!(
            "--workers must be in 1..=64, got {}",
            s.workers
        )));
    }
    // Checked now for everything but the averaging, which waits for the stream's rate.
    s.config(1.0)?;
    Ok(s)
}

/// Reads a band-plan file.
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::InvalidFile`] naming the line and the
/// field.
pub fn load_bandplan(path: &Path) -> Result<BandPlan> {
    let text = crate::formats::read_settings(path)?;
    BandPlan::parse(&text, &path.display().to_string()).map_err(|msg| Error::InvalidFile {
        path: path.to_path_buf(),
        msg,
    })
}

/// `console`: the command runs the console, which creates a missing `--known` file on
/// the first mark; anywhere else a missing file is a mistyped name.
fn detect(a: &DetectArgs, console: bool) -> Result<Detect> {
    let d = Detect::default();
    let det = Detect {
        pfa: a.pfa.unwrap_or(d.pfa),
        bandplan: match &a.bandplan {
            Some(p) => Arc::new(load_bandplan(p)?),
            None => d.bandplan,
        },
        baseline: a
            .baseline
            .as_deref()
            .map(|p| Baseline::load(p).map(Arc::new))
            .transpose()?,
        known: a
            .known
            .as_ref()
            .map(|p| crate::formats::known::load(p, console).map(|k| (p.clone(), Arc::from(k))))
            .transpose()?,
    };
    DetectorConfig {
        pfa: det.pfa,
        ..DetectorConfig::default()
    }
    .validate()
    .map_err(flagged)?;
    Ok(det)
}

/// `console`: see [`detect`].
fn dsp(a: &DspArgs, console: bool) -> Result<Dsp> {
    Ok(Dsp {
        spectrum: spectrum(&a.spectrum)?,
        detect: detect(&a.detect, console)?,
    })
}

/// Resolves `--evidence*` (`None` without `--evidence`).
fn evidence(args: &EvidenceArgs) -> Result<Option<EvidenceConfig>> {
    let Some(dir) = &args.evidence else {
        return Ok(None);
    };
    let mut c = EvidenceConfig::new(dir.clone());
    let secs = |name: &str, v: &Option<String>, default: f64| -> Result<f64> {
        v.as_deref().map_or(Ok(default), |t| seconds(name, t))
    };
    c.pre_s = secs("--evidence-pre", &args.evidence_pre, c.pre_s)?;
    c.post_s = secs("--evidence-post", &args.evidence_post, c.post_s)?;
    c.max_s = secs("--evidence-max", &args.evidence_max, c.max_s)?;
    if let Some(kinds) = &args.evidence_kinds {
        c.kinds = kinds
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(|k| {
                serde_json::from_value(serde_json::Value::String(k.into())).map_err(|_| {
                    Error::Config(format!(
                        "--evidence-kinds: `{k}` is not an alert kind (new_emitter, hopping, \
                         jamming, watchlist, power_change, emitter_lost, overrun, clipping, \
                         device_lost, device_restored)"
                    ))
                })
            })
            .collect::<Result<_>>()?;
    }
    if let Some(sev) = &args.evidence_severity {
        c.min_severity = serde_json::from_value(serde_json::Value::String(sev.trim().into()))
            .map_err(|_| {
                Error::Config(format!(
                    "--evidence-severity must be info, warning or critical, got `{sev}`"
                ))
            })?;
    }
    c.quota_bytes = args
        .evidence_quota
        .as_deref()
        .map(|q| flag("--evidence-quota", units::parse_size(q)))
        .transpose()?;
    c.validate().map_err(flagged)?;
    Ok(Some(c))
}

/// `--on-critical CMD`: a command line for `sh -c`.
fn on_critical(c: &BellArgs) -> Result<Option<String>> {
    match c.on_critical.as_deref().map(str::trim) {
        Some("") => Err(Error::Config(
            "--on-critical: give a command, e.g. --on-critical 'logger -t kuzet'".into(),
        )),
        Some(cmd) => Ok(Some(cmd.to_string())),
        None => Ok(None),
    }
}

/// `--headless`, or stdout is not a terminal.
fn headless(flag: bool) -> bool {
    flag || !std::io::stdout().is_terminal()
}

fn analyze(a: &AnalyzeArgs) -> Result<Analyze> {
    let RunArgs { limit: l, alerts } = &a.run;
    let (mqtt, alerts) = mqtt(&a.mqtt, alerts)?;
    Ok(Analyze {
        input: input(&a.file, &a.input)?,
        limit_s: limit(l)?,
        alerts,
        evidence: evidence(&a.evidence)?,
        dsp: dsp(&a.dsp, false)?,
        mqtt,
    })
}

/// The host's name: the default post id.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| default::HOST.to_string())
}

/// `--state-dir`, else the XDG state directory.
fn state_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(d) = flag {
        return d.to_path_buf();
    }
    let xdg = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state"));
    xdg.or(home)
        .unwrap_or_else(|| PathBuf::from(".kuzet-state"))
        .join("kuzet")
}

/// User and password from `--mqtt-auth FILE` (`user:password` on the first line), else
/// from KUZET_MQTT_USER / KUZET_MQTT_PASSWORD; never from the command line, where every
/// user of the machine could read them.
fn credentials(file: Option<&Path>) -> Result<Option<(String, String)>> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Error::Config(format!("--mqtt-auth {}: {e}", f.display())))?;
        let first = text.lines().next().unwrap_or("");
        let (u, p) = first.split_once(':').ok_or_else(|| {
            Error::Config(format!(
                "--mqtt-auth {}: the first line must be `user:password`",
                f.display()
            ))
        })?;
        if u.is_empty() {
            return Err(Error::Config(format!(
                "--mqtt-auth {}: the user name is empty",
                f.display()
            )));
        }
        return Ok(Some((u.to_string(), p.to_string())));
    }
    Ok(std::env::var("KUZET_MQTT_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| (u, std::env::var("KUZET_MQTT_PASSWORD").unwrap_or_default())))
}

/// `--mqtt URL` with `--mqtt-ca` and the login: checked now, so that a bad URL or TLS
/// file stops the command before it starts (an unreachable broker does not).
fn broker(url: &str, b: &BrokerArgs) -> Result<BrokerConfig> {
    let parsed = Broker::parse(url).map_err(flagged)?;
    BrokerConfig::new(
        parsed,
        b.mqtt_ca.as_deref(),
        credentials(b.mqtt_auth.as_deref())?,
    )
    .map_err(flagged)
}

/// Resolves `--mqtt*`; with federation and no `--alerts`, the alert log is the post's
/// default outbox.
fn mqtt(a: &MqttArgs, alerts: &Option<PathBuf>) -> Result<(Option<Mqtt>, Option<PathBuf>)> {
    let Some(url) = &a.mqtt else {
        return Ok((None, alerts.clone()));
    };
    let post = a.post.clone().unwrap_or_else(host_name);
    check_post(&post).map_err(flagged)?;
    let quota = a.mqtt_quota.unwrap_or(default::MQTT_QUOTA);
    if quota == 0 {
        return Err(Error::Config("--mqtt-quota must be at least 1".into()));
    }
    let drain = flag(
        "--mqtt-drain",
        units::parse_duration(a.mqtt_drain.as_deref().unwrap_or(default::MQTT_DRAIN)),
    )?;
    let m = Mqtt {
        broker: broker(url, &a.broker)?,
        post,
        state_dir: state_dir(a.broker.state_dir.as_deref()),
        quota,
        drain,
        outbox_defaulted: alerts.is_none(),
    };
    let log = alerts.clone().unwrap_or_else(|| m.default_outbox());
    Ok((Some(m), Some(log)))
}

fn hq(a: &HqArgs) -> Result<Hq> {
    let client_id =
        a.id.clone()
            .unwrap_or_else(|| format!("kuzet-hq-{}", host_name()));
    if client_id.is_empty() || client_id.len() > 128 {
        return Err(Error::Config(
            "--id must be 1 to 128 bytes (the broker keeps HQ's session under it)".into(),
        ));
    }
    let dir = state_dir(a.broker.state_dir.as_deref());
    // One memory per HQ id: two HQs on one machine each drop their own repeats.
    let safe: String = client_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(Hq {
        broker: broker(&a.mqtt, &a.broker)?,
        state: dir.join("hq").join(format!("{safe}.json")),
        client_id,
        headless: headless(a.console.headless),
    })
}

/// Parses `--speed`: one of the console's speeds, so the speed keys step on from it.
fn speed(text: Option<&str>) -> Result<Option<f64>> {
    let Some(text) = text else {
        return Ok(Some(default::REPLAY_SPEED));
    };
    if text.eq_ignore_ascii_case("max") {
        return Ok(None);
    }
    let bad = || {
        Error::Config(format!(
            "--speed must be 0.25, 0.5, 1, 2, 4, 8, 16 or max, got `{text}`"
        ))
    };
    let x: f64 = text
        .trim_end_matches(['x', '×'])
        .parse()
        .map_err(|_| bad())?;
    SPEEDS
        .iter()
        .flatten()
        .find(|&&s| (s - x).abs() < 1e-9)
        .map(|&s| Some(s))
        .ok_or_else(bad)
}

fn replay(a: &ReplayArgs) -> Result<Replay> {
    let RunArgs { limit: l, alerts } = &a.run;
    let (mqtt, alerts) = mqtt(&a.mqtt, alerts)?;
    let headless = headless(a.console.headless);
    Ok(Replay {
        mqtt,
        speed: speed(a.speed.as_deref())?,
        input: input(&a.file, &a.input)?,
        looping: a.looping,
        headless,
        on_critical: on_critical(&a.bell)?,
        limit_s: limit(l)?,
        alerts,
        dsp: dsp(&a.dsp, !headless)?,
        evidence: evidence(&a.evidence)?,
    })
}

/// Resolves `--freq/--rate` for a radio or the simulator.
fn tune(t: &TuneArgs, needs_freq: Option<&str>) -> Result<(f64, f64)> {
    let freq = match (&t.freq, needs_freq) {
        (Some(f), _) => hz("--freq", f)?,
        (None, Some(what)) => {
            return Err(Error::Config(format!(
                "--freq: give the centre frequency to tune {what} to (e.g. 433.92M)"
            )))
        }
        (None, None) => default::FREQ_HZ,
    };
    let rate = match &t.rate {
        Some(r) => rate("--rate", r)?,
        None => default::RATE_SPS,
    };
    Ok((freq, rate))
}

/// Resolves `--device/--freq/--rate/...` (units parsed, not yet checked against the
/// device). `--freq` is required unless the radio will be swept.
fn device(a: &DeviceArgs, sweep: bool) -> Result<DeviceSettings> {
    let (freq_hz, rate_sps) = tune(&a.tune, (!sweep).then_some("the radio"))?;
    Ok(DeviceSettings {
        args: a.device.clone(),
        freq_hz,
        rate_sps,
        gain: match &a.gain {
            Some(g) => flag("--gain", Gain::parse(g))?,
            None => Gain::Unchanged,
        },
        antenna: a.antenna.clone(),
        bandwidth_hz: a
            .bandwidth
            .as_deref()
            .map(|b| hz("--bandwidth", b))
            .transpose()?,
        ppm: a.ppm.unwrap_or(0.0),
        channel: a.channel.unwrap_or(0),
    })
}

fn watch(a: &WatchArgs) -> Result<Watch> {
    let RunArgs { limit: l, alerts } = &a.run;
    let (mqtt, alerts) = mqtt(&a.mqtt, alerts)?;
    let record = match &a.record {
        Some(dir) => {
            let max_s = seconds(
                "--rollover",
                a.rollover.as_deref().unwrap_or(default::ROLLOVER),
            )?;
            let max_bytes = a
                .rollover_size
                .as_deref()
                .map(|s| flag("--rollover-size", units::parse_size(s)))
                .transpose()?;
            Some(RecorderConfig::new(Target::Dir {
                dir: dir.clone(),
                max_s: (max_s > 0.0).then_some(max_s),
                max_bytes,
            }))
        }
        None => None,
    };
    let headless = headless(a.console.headless);
    Ok(Watch {
        evidence: evidence(&a.evidence)?,
        device: device(&a.radio, a.sweep.sweep.is_some())?,
        headless,
        on_critical: on_critical(&a.bell)?,
        limit_s: limit(l)?,
        alerts,
        record,
        dsp: dsp(&a.dsp, !headless)?,
        mqtt,
        sweep: sweep(&a.sweep, &a.radio.tune)?,
    })
}

/// Resolves `--sweep` and its settings (`None` without `--sweep`).
fn sweep(a: &SweepArgs, t: &TuneArgs) -> Result<Option<Sweep>> {
    let Some(spec) = &a.sweep else {
        return Ok(None);
    };
    let spec = match spec {
        None => SweepSpec::Plan,
        Some(text) => flag("--sweep", SweepSpec::parse(text))?,
    };
    let dwell_s = match a.dwell.as_deref() {
        Some(d) => seconds("--dwell", d)?,
        None => default::SWEEP_DWELL_S,
    };
    if dwell_s <= 0.0 {
        return Err(Error::Config("--dwell must be longer than 0".into()));
    }
    let keep_fraction = match a.crop {
        Some(pct) if (0.0..100.0).contains(&pct) => Some(1.0 - pct / 100.0),
        Some(pct) => {
            return Err(Error::Config(format!(
                "--crop must be a percentage in 0..100, got {pct}"
            )))
        }
        None => None,
    };
    Ok(Some(Sweep {
        rate_sps: t.rate.as_deref().map(|r| rate("--rate", r)).transpose()?,
        dwell_s,
        settle_s: a
            .settle
            .as_deref()
            .map(|s| seconds("--settle", s))
            .transpose()?,
        keep_fraction,
        poi: a
            .poi
            .as_deref()
            .map(pulse)
            .transpose()?
            .unwrap_or(default::SWEEP_POI),
        ..Sweep::new(spec)
    }))
}

/// Parses `--poi WIDTH/PERIOD` (`0.5ms/150ms`).
fn pulse(text: &str) -> Result<Pulse> {
    let bad = |why: &str| Error::Config(format!("--poi `{text}`: {why}"));
    let (w, t) = text
        .split_once('/')
        .ok_or_else(|| bad("expected WIDTH/PERIOD, e.g. 0.5ms/150ms"))?;
    let secs = |s: &str| {
        units::parse_duration(s)
            .map(|d| d.as_secs_f64())
            .map_err(|e| bad(&e))
    };
    let (width_s, period_s) = (secs(w)?, secs(t)?);
    if !(width_s > 0.0 && period_s > width_s) {
        return Err(bad(
            "the pulse must be shorter than its period, and longer than 0",
        ));
    }
    Ok(Pulse { width_s, period_s })
}

fn record(a: &RecordArgs) -> Result<Record> {
    // A scale of 0 is found when recording starts: the radio's own integer step when it
    // streams that width, else from the first samples (see `RecorderConfig::format`).
    let format = match a.format.unwrap_or(FormatArg::Cf32) {
        FormatArg::Cf32 => SampleFormat::Cf32,
        FormatArg::Ci16 => SampleFormat::Ci16 { scale: 0.0 },
        FormatArg::Ci8 => SampleFormat::Ci8 { scale: 0.0 },
    };
    let mut recorder = RecorderConfig::new(Target::File(a.output.clone()));
    recorder.format = format;
    recorder.overwrite = a.force.force;
    Ok(Record {
        size_bytes: a
            .size
            .as_deref()
            .map(|s| flag("--size", units::parse_size(s)))
            .transpose()?,
        device: device(&a.radio, false)?,
        limit_s: limit(&a.limit)?,
        recorder,
    })
}

/// Parses `TYPE:OFFSET:SNR_DB[:START_S[:STOP_S]]`.
fn emitter(spec: &str) -> Result<EmitterSpec> {
    let bad = |why: &str| Error::Config(format!("--emitter `{spec}`: {why}"));
    let parts: Vec<&str> = spec.split(':').collect();
    if !(3..=5).contains(&parts.len()) {
        return Err(bad("expected TYPE:OFFSET:SNR_DB[:START_S[:STOP_S]]"));
    }
    let kind = EmitterKind::parse(parts[0])
        .ok_or_else(|| bad("TYPE must be one of cw, fm, gfsk, hopper, jammer"))?;
    let offset = units::parse_hz(parts[1]).map_err(|e| bad(&e))?;
    let snr: f64 = parts[2]
        .parse()
        .map_err(|_| bad("SNR_DB is not a number"))?;
    let secs = |s: &str| -> Result<f64> {
        units::parse_duration(s)
            .map(|d| d.as_secs_f64())
            .map_err(|e| bad(&e))
    };
    Ok(EmitterSpec {
        start_s: parts.get(3).map(|s| secs(s)).transpose()?.unwrap_or(0.0),
        stop_s: parts.get(4).map(|s| secs(s)).transpose()?,
        ..EmitterSpec::new(kind, offset, snr)
    })
}

/// Builds the scene from a scenario file and/or flags (flags win).
///
/// # Errors
/// A bad scenario file (naming it and the line) or flag.
pub fn scene(args: &SynthArgs) -> Result<Scene> {
    let mut scene = match &args.scenario {
        Some(p) => Scene::load(p)?,
        None => Scene {
            sample_rate_hz: Hz(default::RATE_SPS),
            center_freq_hz: Hz(default::FREQ_HZ),
            duration_s: default::SYNTH_DURATION_S,
            noise_dbfs: default::SYNTH_NOISE_DBFS,
            seed: default::SYNTH_SEED,
            description: String::new(),
            emitters: Vec::new(),
        },
    };
    if let Some(r) = &args.tune.rate {
        scene.sample_rate_hz = Hz(rate("--rate", r)?);
    }
    if let Some(f) = &args.tune.freq {
        scene.center_freq_hz = Hz(hz("--freq", f)?);
    }
    if let Some(d) = &args.duration {
        scene.duration_s = seconds("--duration", d)?;
    }
    if let Some(n) = args.noise_dbfs {
        scene.noise_dbfs = n;
    }
    if let Some(s) = args.seed {
        scene.seed = s;
    }
    for e in &args.emitters {
        scene.emitters.push(emitter(e)?);
    }
    if scene.description.is_empty() {
        scene.description = format!("kuzet synth: {} emitter(s)", scene.emitters.len());
    }
    scene.validate().map_err(|e| match &args.scenario {
        Some(p) => Error::InvalidFile {
            path: p.clone(),
            msg: e,
        },
        None => Error::Config(e),
    })?;
    Ok(scene)
}

fn synth(a: &SynthArgs) -> Result<Synth> {
    let scene = scene(a)?;
    let rms = scene.peak_rms() as f32;
    let format = match a.format.unwrap_or(FormatArg::Cf32) {
        FormatArg::Cf32 => SampleFormat::Cf32,
        // Scale so that the RMS sits well below full scale: Gaussian peaks up to ~4.5σ fit.
        FormatArg::Ci16 => SampleFormat::Ci16 {
            scale: rms * 6.0 / i16::MAX as f32,
        },
        FormatArg::Ci8 => SampleFormat::Ci8 {
            scale: rms * 4.5 / i8::MAX as f32,
        },
    };
    Ok(Synth {
        scene,
        output: a.output.clone(),
        force: a.force.force,
        format,
    })
}

fn score(a: &ScoreArgs) -> Result<Score> {
    // A scenario scores straight from the simulator: long runs (an hour of noise for the
    // false-alarm rate) need no file of tens of gigabytes.
    let is_scenario = a.file.extension().is_some_and(|e| e == "toml");
    let i = &a.input;
    let target = if is_scenario {
        if i.rate.is_some() || i.freq.is_some() || i.iq_format.is_some() {
            return Err(Error::Config(format!(
                "--rate, --freq and --iq-format read recordings; {} is a scenario (set \
                 sample_rate_hz and center_freq_hz in it)",
                a.file.display()
            )));
        }
        ScoreTarget::Scenario(Scene::load(&a.file)?)
    } else {
        ScoreTarget::Recording(input(&a.file, i)?)
    };
    Ok(Score {
        target,
        limit_s: limit(&a.limit)?,
        json: a.json,
        dsp: dsp(&a.dsp, false)?,
    })
}

fn learn(a: &LearnArgs) -> Result<Learn> {
    let open = open_options(&a.input)?;
    Ok(Learn {
        inputs: a
            .files
            .iter()
            .map(|p| Input {
                path: p.clone(),
                open: open.clone(),
            })
            .collect(),
        limit_s: limit(&a.limit)?,
        output: a.output.clone(),
        force: a.force.force,
        dsp: dsp(&a.dsp, false)?,
    })
}

fn devices(a: &DevicesArgs) -> Result<Devices> {
    let throughput = match (&a.probe, &a.throughput) {
        (Some(probe), Some(t)) => {
            let (freq_hz, rate_sps) = tune(&a.tune, None)?;
            let settings = DeviceSettings {
                args: probe.clone(),
                freq_hz,
                rate_sps,
                gain: Gain::Unchanged,
                antenna: None,
                bandwidth_hz: None,
                ppm: 0.0,
                channel: 0,
            };
            Some((seconds("--throughput", t)?, settings))
        }
        _ => None,
    };
    Ok(Devices {
        probe: a.probe.clone(),
        throughput,
    })
}

fn convert(a: &ConvertArgs) -> Result<Convert> {
    let to = match a.to.as_deref() {
        Some(t) => OutputKind::from_name(t).ok_or_else(|| {
            Error::Config(format!(
                "--to: `{t}` is not one of kuzet, sigmf, sm2117, cf32, cs16, cs8, cu8"
            ))
        })?,
        None => OutputKind::from_path(&a.output)?,
    };
    Ok(Convert {
        input: input(&a.input, &a.input_args)?,
        output: a.output.clone(),
        to,
        force: a.force.force,
    })
}

/// Spectrum and detection for an exercise: the defaults, with `--workers`.
fn exercise_dsp(workers: Option<usize>) -> Result<Dsp> {
    dsp(
        &DspArgs {
            spectrum: SpectrumArgs {
                workers,
                ..SpectrumArgs::default()
            },
            ..DspArgs::default()
        },
        false,
    )
}

fn exercise(c: ExerciseCommand) -> Result<Exercise> {
    Ok(match c {
        ExerciseCommand::Check(a) => Exercise {
            file: Some(a.file),
            action: ExerciseAction::Check,
            dsp: exercise_dsp(None)?,
        },
        ExerciseCommand::Export(a) => {
            let to = OutputKind::from_path(&a.output).map_err(|_| {
                Error::Config(format!(
                    "-o {}: write .h5 (kuzet), .sigmf-meta (SigMF) or .sm2117.h5: the formats \
                     that hold the injections as annotations",
                    a.output.display()
                ))
            })?;
            if matches!(to, OutputKind::Raw(_)) {
                return Err(Error::Config(format!(
                    "-o {}: raw IQ cannot hold the injections as annotations; write .h5 or \
                     .sigmf-meta",
                    a.output.display()
                )));
            }
            Exercise {
                file: Some(a.file),
                action: ExerciseAction::Export {
                    output: a.output,
                    to,
                    force: a.force.force,
                },
                dsp: exercise_dsp(None)?,
            }
        }
        ExerciseCommand::Run(ExerciseRunArgs {
            file,
            trainee,
            log,
            actions,
            workers,
        }) => {
            let trainee = trainee.trim().to_string();
            if trainee.is_empty()
                || trainee.chars().count() > 64
                || trainee.chars().any(char::is_control)
            {
                return Err(Error::Config(format!(
                    "--trainee must be a name of 1 to 64 printable characters, got `{}`",
                    units::one_line(&trainee)
                )));
            }
            if actions.is_none() && !std::io::stdout().is_terminal() {
                return Err(Error::Config(
                    "exercise run opens the console, which needs a terminal; give --actions \
                     FILE for a scripted session"
                        .into(),
                ));
            }
            Exercise {
                file: Some(file),
                action: ExerciseAction::Run {
                    trainee,
                    log_dir: log.unwrap_or_else(|| PathBuf::from(default::SESSION_DIR)),
                    actions,
                },
                dsp: exercise_dsp(workers)?,
            }
        }
        ExerciseCommand::Report(ExerciseReportArgs {
            sessions,
            json,
            svg,
            png,
            exercise,
            force,
            workers,
        }) => {
            use crate::eval::exercise::picture::Format;
            let picture = match (svg, png) {
                (Some(_), Some(_)) => {
                    return Err(Error::Config(
                        "--svg and --png: give one of them (one picture per run)".into(),
                    ))
                }
                (Some(p), None) => Some((p, Format::Svg)),
                (None, Some(p)) => {
                    if !p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")) {
                        return Err(Error::Config(format!(
                            "--png {}: the file name must end in .png",
                            p.display()
                        )));
                    }
                    Some((p, Format::Png))
                }
                (None, None) => None,
            };
            if picture.is_some() && sessions.len() > 1 {
                return Err(Error::Config(
                    "--svg/--png draw one session: give one session log".into(),
                ));
            }
            Exercise {
                file: exercise,
                action: ExerciseAction::Report {
                    sessions,
                    json,
                    picture,
                    force: force.force,
                    columns: default::PICTURE_COLUMNS,
                },
                dsp: exercise_dsp(workers)?,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_fields_come_back_as_flags() {
        let e = Spectrum {
            fft: 4,
            ..Spectrum::default()
        }
        .config(1e6)
        .unwrap_err()
        .to_string();
        assert_eq!(e, "--fft must be between 8 and 1048576, got 4");
        let e = detect(
            &DetectArgs {
                pfa: Some(2.0),
                ..DetectArgs::default()
            },
            false,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "--pfa must be in (0, 0.1), got 2");
    }

    #[test]
    fn a_known_file_is_loaded_and_a_missing_one_is_fine_only_for_the_console() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("known.toml");
        let args = DetectArgs {
            known: Some(p.clone()),
            ..DetectArgs::default()
        };
        assert!(detect(&args, true).unwrap().known().is_empty());
        assert_eq!(detect(&args, false).unwrap_err().exit_code(), 2);
        std::fs::write(
            &p,
            "[[known]]\nfreq_hz = \"433.92M\"\nbandwidth_hz = \"zz\"\n",
        )
        .unwrap();
        let e = detect(&args, true).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("known.toml: line 3"), "{e}");
        std::fs::write(
            &p,
            "[[known]]\nfreq_hz = \"433.92M\"\nbandwidth_hz = \"25k\"\n",
        )
        .unwrap();
        let d = Dsp {
            detect: detect(&args, false).unwrap(),
            ..Dsp::default()
        };
        assert_eq!(d.detect.known().len(), 1);
        let meta = StreamMeta {
            sample_rate_hz: 2.4e6,
            center_freq_hz: 433.92e6,
            start_time_utc: None,
            gain_db: None,
            device: String::new(),
            description: String::new(),
            origin: "t".into(),
            total_samples: None,
            live: false,
        };
        let cfg = d.pipeline(&meta).unwrap();
        assert_eq!(cfg.known_file.as_deref(), Some(p.as_path()));
        let k = cfg.knowledge.unwrap();
        assert!(k.known(433.92e6, 10e3).is_some() && k.known(433.0e6, 10e3).is_none());
    }

    #[test]
    fn averaging_defaults_to_ten_milliseconds() {
        let s = Spectrum::default().config(2.4e6).unwrap();
        assert_eq!((s.fft_len, s.hop, s.averages), (1024, 512, 47));
    }

    #[test]
    fn a_band_plan_file_error_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan.toml");
        std::fs::write(&p, "[[band]]\nname = \"A\"\n").unwrap();
        let e = load_bandplan(&p).unwrap_err().to_string();
        assert!(e.contains("plan.toml") && e.contains("line"), "{e}");
        let missing = load_bandplan(&dir.path().join("none.toml")).unwrap_err();
        assert!(matches!(missing, Error::Io { .. }));
    }
}
