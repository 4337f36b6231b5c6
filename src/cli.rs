//! Command-line interface (clap derive): raw arguments only. Flag groups shared by
//! several commands (input, run output, spectrum, detection, evidence, radio) are declared
//! once here and flattened into each command; [`crate::app::config`] validates them and
//! resolves units.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::dsp::WindowKind;

/// kuzet — real-time radio monitoring: spectra, noise floor, alerts.
///
/// With no command, replays the bundled demo capture (captures/demo.h5) in a loop in the
/// console, or analyzes it when stdout is not a terminal.
#[derive(Debug, Parser)]
#[command(name = "kuzet", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyze a capture: alerts as JSON lines on stdout, a summary on stderr.
    Analyze(AnalyzeArgs),
    /// Replay a capture at real time in the operator console (spectrum, waterfall,
    /// alerts); JSON-lines alerts instead with --headless or when stdout is not a terminal.
    Replay(ReplayArgs),
    /// Simulate a scene (noise and emitters) and write it as a capture with ground truth.
    Synth(SynthArgs),
    /// Analyze a capture and score the alerts against its ground truth (`/annotations`):
    /// detection per emitter, kind, frequency error, time to alert, false alerts, Pd.
    Score(ScoreArgs),
    /// Baselines of normal activity.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// List the radios SoapySDR finds, or probe one's ranges and formats.
    Devices(DevicesArgs),
    /// Watch a band live from a radio: alerts as JSON lines on stdout, a summary on stderr.
    Watch(Box<WatchArgs>),
    /// Record IQ from a radio to a capture file (HDF5, crash-safe).
    Record(RecordArgs),
    /// Measure throughput on this machine (no input file needed): a table, or JSON.
    Bench(BenchArgs),
    /// Convert a recording between kuzet HDF5, SigMF, ITU-R SM.2117-0 HDF5 and raw IQ,
    /// carrying metadata and annotations.
    Convert(ConvertArgs),
    /// Headquarters: every post's alerts from an MQTT broker, repeats dropped, in one
    /// console (the alert desk with a post column and a panel per post), or as JSON lines
    /// with --headless. See docs/federation.md.
    Hq(HqArgs),
    /// Training exercises: a recording with injected emitters, the trainee's calls
    /// logged and scored (see docs/exercises.md).
    #[command(subcommand)]
    Exercise(ExerciseCommand),
}

/// `kuzet exercise ...`.
#[derive(Debug, Subcommand)]
pub enum ExerciseCommand {
    /// Validate an exercise file and print its timeline (the base, its measured noise
    /// floor, each injection and when it is on).
    Check(ExerciseCheckArgs),
    /// Write the mixed recording with the injections (and the base's own annotations) as
    /// annotations: kuzet HDF5 (.h5), SigMF (.sigmf-meta) or SM.2117 (.sm2117.h5).
    Export(ExerciseExportArgs),
    /// Run an exercise: the console on the mixed stream at real time, everything the
    /// trainee does logged to a session log; with --actions, a scripted trainee, no
    /// terminal, as fast as the machine goes.
    Run(ExerciseRunArgs),
    /// Score session logs: per injection the detector and the trainee, false calls,
    /// misses, a total; several logs of one exercise give one row per trainee.
    Report(ExerciseReportArgs),
}

/// `kuzet baseline ...`.
#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Learn per-bin occupancy and levels and the emitters that are normally on from one
    /// or more captures of normal air; `--baseline FILE` on a later run loads it.
    Learn(LearnArgs),
}

// ---- flag groups ---------------------------------------------------------------------

/// How to read a recording whose file does not say everything (raw IQ has no header).
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    /// Sample rate of the input (e.g. 2.4M); overrides the file [default: from the file or
    /// its rtl_433-style name, e.g. g001_433.92M_250k.cu8]
    #[arg(long, value_name = "HZ", allow_hyphen_values = true)]
    pub rate: Option<String>,
    /// Centre frequency of the input (e.g. 433.92M); overrides the file [default: from the
    /// file or its name, else 0]
    #[arg(long, value_name = "HZ", allow_hyphen_values = true)]
    pub freq: Option<String>,
    /// Read the input as headerless IQ of this encoding: cu8 (rtl_sdr), cs8 (hackrf),
    /// cs16, cf32 (GNU Radio) [default: from the extension or content]
    #[arg(long, value_name = "FMT")]
    pub iq_format: Option<String>,
}

/// How much of the stream to take.
#[derive(Debug, Clone, Default, Args)]
pub struct LimitArgs {
    /// Stop after this much stream time (e.g. 30s, 1.5s, 2m) [default: the whole input;
    /// a radio until Ctrl-C]
    #[arg(long, value_name = "TIME")]
    pub duration: Option<String>,
}

/// Where a run's alerts go besides stdout or the console.
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Stream time to run for.
    #[command(flatten)]
    pub limit: LimitArgs,
    /// Also append alerts (and the console's acknowledgements) to this JSON-lines file
    /// [default: none]
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
}

/// Spectrum settings shared by every command that runs the pipeline.
#[derive(Debug, Clone, Default, Args)]
pub struct SpectrumArgs {
    /// FFT size in bins (any size; powers of two are fastest) [default: 1024]
    #[arg(long, value_name = "N")]
    pub fft: Option<usize>,
    /// Overlap between FFT frames, percent [default: 50]
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u32).range(0..=95))]
    pub overlap: Option<u32>,
    /// Frames averaged per spectrum [default: about 10 ms of samples]
    #[arg(long, value_name = "N")]
    pub avg: Option<usize>,
    /// Window function [default: hann]
    #[arg(long, value_enum)]
    pub window: Option<WindowKind>,
    /// The carrier grid: each spectrum's samples also transformed whole (~95 Hz bins at
    /// the default 10 ms spectra), for weak narrowband carriers; `off` saves its FFTs
    /// [default: on]
    #[arg(long, value_name = "on|off", value_parser = on_off)]
    pub carriers: Option<bool>,
    /// Spectrum worker threads [default: number of cores, at most 8]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

/// Detection settings shared by every command that runs the pipeline.
#[derive(Debug, Clone, Default, Args)]
pub struct DetectArgs {
    /// False-alarm probability per bin and test; sets the detection thresholds [default: 1e-6]
    #[arg(long, value_name = "P")]
    pub pfa: Option<f64>,
    /// Baseline of normal activity (from `kuzet baseline learn`): what it knows is not new,
    /// its steady emitters going silent raise emitter_lost [default: none]
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Band plan (TOML; see docs/bandplan.md) [default: the built-in border-post plan]
    #[arg(long, value_name = "FILE")]
    pub bandplan: Option<PathBuf>,
    /// Known emitters (TOML; see docs/known.md): treated like baseline emitters, never
    /// new_emitter; the console appends the emitters marked on it (and creates the file)
    /// [default: none]
    #[arg(long, value_name = "FILE")]
    pub known: Option<PathBuf>,
}

/// Spectrum and detection.
#[derive(Debug, Clone, Default, Args)]
pub struct DspArgs {
    /// Spectrum settings.
    #[command(flatten)]
    pub spectrum: SpectrumArgs,
    /// Detection settings.
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// Alert-triggered evidence clips (see docs/evidence.md).
#[derive(Debug, Clone, Default, Args)]
pub struct EvidenceArgs {
    /// Cut an IQ clip into this directory for every triggering alert (made if missing)
    /// [default: no evidence]
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// With --evidence: stream time kept before an alert was first seen [default: 2s]
    #[arg(long, value_name = "TIME", requires = "evidence")]
    pub evidence_pre: Option<String>,
    /// With --evidence: stream time kept after an alert was last updated [default: 5s]
    #[arg(long, value_name = "TIME", requires = "evidence")]
    pub evidence_post: Option<String>,
    /// With --evidence: longest clip [default: 5m]
    #[arg(long, value_name = "TIME", requires = "evidence")]
    pub evidence_max: Option<String>,
    /// With --evidence: alert kinds that trigger, comma-separated (new_emitter, hopping,
    /// jamming, watchlist, power_change, emitter_lost, overrun, clipping, device_lost)
    /// [default: new_emitter,hopping,jamming,watchlist,power_change]
    #[arg(long, value_name = "KINDS", requires = "evidence")]
    pub evidence_kinds: Option<String>,
    /// With --evidence: least severity that triggers: info, warning, critical
    /// [default: warning]
    #[arg(long, value_name = "LEVEL", requires = "evidence")]
    pub evidence_severity: Option<String>,
    /// With --evidence: bytes of evidence the directory may hold (e.g. 500M, 20G); the
    /// oldest clips are deleted first [default: no limit]
    #[arg(long, value_name = "SIZE", requires = "evidence")]
    pub evidence_quota: Option<String>,
}

/// Where to tune: a radio, the simulator, a throughput probe.
#[derive(Debug, Clone, Default, Args)]
pub struct TuneArgs {
    /// Centre frequency (e.g. 433.92M) [default: 433.92M; a radio needs it given]
    #[arg(long, value_name = "HZ", allow_hyphen_values = true)]
    pub freq: Option<String>,
    /// Sample rate (e.g. 2.4M, 250k) [default: 2.4M]
    #[arg(long, value_name = "HZ", allow_hyphen_values = true)]
    pub rate: Option<String>,
}

/// Which radio and how to tune it.
#[derive(Debug, Clone, Args)]
pub struct DeviceArgs {
    /// SoapySDR device arguments (see `kuzet devices`), e.g. driver=rtlsdr or
    /// driver=kuzetsim,tones=434.0e6:-40 for the built-in simulator
    #[arg(long, value_name = "ARGS")]
    pub device: String,
    /// Frequency and rate.
    #[command(flatten)]
    pub tune: TuneArgs,
    /// Gain in dB, or `auto` for the device's AGC [default: the device's current gain]
    #[arg(long, value_name = "DB|auto")]
    pub gain: Option<String>,
    /// Antenna port [default: the device's default]
    #[arg(long, value_name = "NAME")]
    pub antenna: Option<String>,
    /// Analog filter bandwidth (e.g. 1.5M) [default: the device's default]
    #[arg(long, value_name = "HZ")]
    pub bandwidth: Option<String>,
    /// Reference oscillator error in ppm (positive: runs fast) [default: 0]
    #[arg(long, value_name = "PPM", allow_hyphen_values = true)]
    pub ppm: Option<f64>,
    /// Receive channel [default: 0]
    #[arg(long, value_name = "N")]
    pub channel: Option<usize>,
}

/// How to reach an MQTT broker (posts and HQ alike).
#[derive(Debug, Clone, Default, Args)]
pub struct BrokerArgs {
    /// With an mqtts:// broker: PEM file of the CA that signed its certificate
    /// [default: none; mqtts:// needs it]
    #[arg(long, value_name = "FILE", requires = "mqtt")]
    pub mqtt_ca: Option<PathBuf>,
    /// File whose first line is `user:password` for the broker (never on the command
    /// line) [default: KUZET_MQTT_USER and KUZET_MQTT_PASSWORD from the environment, else
    /// no login]
    #[arg(long, value_name = "FILE", requires = "mqtt")]
    pub mqtt_auth: Option<PathBuf>,
    /// Where the outbox cursor, the default outbox and HQ's memory of what it has shown
    /// are kept [default: $XDG_STATE_HOME/kuzet, else ~/.local/state/kuzet]
    #[arg(long, value_name = "DIR", requires = "mqtt")]
    pub state_dir: Option<PathBuf>,
}

/// Federation: publish this post's alerts to an MQTT broker (see docs/federation.md).
#[derive(Debug, Clone, Default, Args)]
pub struct MqttArgs {
    /// Publish alerts, status and health to this MQTT broker, mqtt://HOST[:PORT] or
    /// mqtts://HOST[:PORT]; the alert log is the outbox, so nothing is lost while the
    /// broker is away [default: no federation]
    #[arg(long, value_name = "URL")]
    pub mqtt: Option<String>,
    /// With --mqtt: this post's id, the second level of its topics (kuzet/ID/alerts)
    /// [default: the host name]
    #[arg(long, value_name = "ID", requires = "mqtt")]
    pub post: Option<String>,
    /// With --mqtt: most alert lines waiting for the broker; past it the oldest info
    /// lines are given up first, then warnings, and the loss is reported
    /// [default: 100000]
    #[arg(long, value_name = "N", requires = "mqtt")]
    pub mqtt_quota: Option<usize>,
    /// With --mqtt: how long the end of a run waits for the broker to acknowledge the
    /// backlog; what is left goes out on the next run [default: 10s]
    #[arg(long, value_name = "TIME", requires = "mqtt")]
    pub mqtt_drain: Option<String>,
    /// The broker's TLS, login and state.
    #[command(flatten)]
    pub broker: BrokerArgs,
}

/// Sweeping: one radio stepped across many bands (see docs/sweep.md).
#[derive(Debug, Clone, Default, Args)]
pub struct SweepArgs {
    /// Step the radio across every band of the band plan it can tune, or across these
    /// ranges (e.g. 430M-440M,2.4G-2.5G), instead of watching --freq; prints each band's
    /// revisit time and probability of intercept [default: no sweep]
    #[arg(
        long,
        value_name = "RANGES",
        num_args = 0..=1,
        conflicts_with_all = ["freq", "record", "evidence"]
    )]
    pub sweep: Option<Option<String>>,
    /// With --sweep: stream time looked at per visit of a step, in whole spectra
    /// [default: 20ms]
    #[arg(long, value_name = "TIME", requires = "sweep")]
    pub dwell: Option<String>,
    /// With --sweep: stream time discarded after every retune, which may still come from
    /// the old frequency [default: the driver's buffers plus its tuner's lock time]
    #[arg(long, value_name = "TIME", requires = "sweep")]
    pub settle: Option<String>,
    /// With --sweep: percent of the band cropped from its edges, where the tuner's filter
    /// rolls off [default: per driver, 20 to 30]
    #[arg(long, value_name = "PCT", requires = "sweep")]
    pub crop: Option<f64>,
    /// With --sweep: the pulse train the probability of intercept is stated for,
    /// WIDTH/PERIOD [default: 0.5ms/150ms]
    #[arg(long, value_name = "WIDTH/PERIOD", requires = "sweep")]
    pub poi: Option<String>,
}

/// Whether an output file may replace an existing one.
#[derive(Debug, Clone, Default, Args)]
pub struct ForceArgs {
    /// Replace the output file if it exists [default: refuse, naming it]
    #[arg(long)]
    pub force: bool,
}

/// No console: JSON lines on stdout.
#[derive(Debug, Clone, Default, Args)]
pub struct ConsoleArgs {
    /// No console: alerts as JSON lines on stdout (automatic when stdout is not a terminal)
    /// [default: the console]
    #[arg(long)]
    pub headless: bool,
}

/// The post console's bell (not HQ's: a post rings for its own alerts).
#[derive(Debug, Clone, Default, Args)]
pub struct BellArgs {
    /// Run this shell command for each critical alert the console rings the bell for, the
    /// alert as one JSON line on its stdin (rate-limited like the bell; its output is
    /// discarded) [default: none]
    #[arg(long, value_name = "CMD", conflicts_with = "headless")]
    pub on_critical: Option<String>,
}

/// On-disk sample format for written captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// complex64 {r, i}: exact.
    Cf32,
    /// int16 pairs with a scale: half the size.
    Ci16,
    /// int8 pairs with a scale: a quarter of the size, ~40 dB of dynamic range.
    Ci8,
}

// ---- commands ------------------------------------------------------------------------

/// `kuzet analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Recording to analyze: kuzet or ITU-R SM.2117 HDF5, SigMF, WAV IQ, or raw IQ
    /// (.cu8, .cs8, .cs16, .cf32, .cfile, .raw).
    pub file: PathBuf,
    /// How to read the input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Run length and alert log.
    #[command(flatten)]
    pub run: RunArgs,
    /// Federation over MQTT.
    #[command(flatten)]
    pub mqtt: MqttArgs,
    /// Evidence clips.
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Spectrum and detection settings.
    #[command(flatten)]
    pub dsp: DspArgs,
}

/// `kuzet replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Recording to replay: kuzet or ITU-R SM.2117 HDF5, SigMF, WAV IQ, or raw IQ
    /// (.cu8, .cs8, .cs16, .cf32, .cfile, .raw).
    pub file: PathBuf,
    /// Replay speed: 0.25, 0.5, 1, 2, 4, 8, 16 or max [default: 1]
    #[arg(long, value_name = "X")]
    pub speed: Option<String>,
    /// Start again from the beginning at the end of the capture; --duration then keeps
    /// counting stream time across loops and seeks [default: off]
    #[arg(long = "loop")]
    pub looping: bool,
    /// Console or JSON lines.
    #[command(flatten)]
    pub console: ConsoleArgs,
    /// The bell's command.
    #[command(flatten)]
    pub bell: BellArgs,
    /// How to read the input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Run length and alert log.
    #[command(flatten)]
    pub run: RunArgs,
    /// Federation over MQTT.
    #[command(flatten)]
    pub mqtt: MqttArgs,
    /// Evidence clips.
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Spectrum and detection settings.
    #[command(flatten)]
    pub dsp: DspArgs,
}

/// `kuzet watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Radio and tuning.
    #[command(flatten)]
    pub radio: DeviceArgs,
    /// Console or JSON lines.
    #[command(flatten)]
    pub console: ConsoleArgs,
    /// The bell's command.
    #[command(flatten)]
    pub bell: BellArgs,
    /// Run length and alert log.
    #[command(flatten)]
    pub run: RunArgs,
    /// Federation over MQTT.
    #[command(flatten)]
    pub mqtt: MqttArgs,
    /// Record everything continuously into this directory, one file per --rollover
    /// [default: no recording]
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// With --record: start a new file after this much stream time [default: 10m]
    #[arg(long, value_name = "TIME", requires = "record")]
    pub rollover: Option<String>,
    /// With --record: also start a new file once a file holds this many bytes of samples
    /// (e.g. 2G) [default: no size limit]
    #[arg(long, value_name = "SIZE", requires = "record")]
    pub rollover_size: Option<String>,
    /// Sweeping.
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// Evidence clips.
    #[command(flatten)]
    pub evidence: EvidenceArgs,
    /// Spectrum and detection settings.
    #[command(flatten)]
    pub dsp: DspArgs,
}

/// `kuzet record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Radio and tuning.
    #[command(flatten)]
    pub radio: DeviceArgs,
    /// Output capture (.h5)
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Overwrite or not.
    #[command(flatten)]
    pub force: ForceArgs,
    /// Stream time to record.
    #[command(flatten)]
    pub limit: LimitArgs,
    /// Stop once the file holds this many bytes of samples (e.g. 2G) [default: no limit]
    #[arg(long, value_name = "SIZE")]
    pub size: Option<String>,
    /// Sample format on disk [default: cf32]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

/// `kuzet score`.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Capture with ground truth (kuzet HDF5 with `/annotations`, e.g. from `kuzet synth`,
    /// or any recording `analyze` reads, with its annotations), or a scenario TOML,
    /// simulated on the fly without writing a file.
    pub file: PathBuf,
    /// Print the score as one JSON object instead of a table [default: table]
    #[arg(long)]
    pub json: bool,
    /// How to read the capture.
    #[command(flatten)]
    pub input: InputArgs,
    /// Stream time to score.
    #[command(flatten)]
    pub limit: LimitArgs,
    /// Spectrum and detection settings.
    #[command(flatten)]
    pub dsp: DspArgs,
}

/// `kuzet baseline learn`.
#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Captures of normal activity (same band).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output baseline file (.h5).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Overwrite or not.
    #[command(flatten)]
    pub force: ForceArgs,
    /// How to read the captures (the same for every one).
    #[command(flatten)]
    pub input: InputArgs,
    /// Stream time learned from each capture.
    #[command(flatten)]
    pub limit: LimitArgs,
    /// Spectrum and detection settings (use the same as the runs that load the baseline).
    #[command(flatten)]
    pub dsp: DspArgs,
}

/// `kuzet devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Print this device's frequency, sample-rate and gain ranges, antennas, bandwidths
    /// and stream formats (e.g. driver=kuzetsim) [default: list all devices]
    #[arg(long, value_name = "ARGS")]
    pub probe: Option<String>,
    /// With --probe: also stream this long as fast as the device delivers, samples
    /// discarded, and report the reader's throughput in MS/s (e.g. 5s) [default: no]
    #[arg(long, value_name = "TIME", requires = "probe")]
    pub throughput: Option<String>,
    /// With --throughput: where to tune.
    #[command(flatten)]
    pub tune: TuneArgs,
}

/// `kuzet bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print one JSON object instead of the table [default: table]
    #[arg(long)]
    pub json: bool,
}

/// `kuzet convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input recording (kuzet .h5, SM.2117 .h5, .sigmf-meta/.sigmf-data/.sigmf, .wav, .cu8,
    /// .cs8, .cs16, .cf32, .cfile, .raw).
    pub input: PathBuf,
    /// Output file (.h5 kuzet, .sm2117.h5, .sigmf-meta, .cu8, .cs8, .cs16, .cf32).
    pub output: PathBuf,
    /// Output format: kuzet, sigmf, sm2117, cf32, cs16, cs8, cu8 [default: from the output's
    /// extension]
    #[arg(long, value_name = "FORMAT")]
    pub to: Option<String>,
    /// Overwrite or not.
    #[command(flatten)]
    pub force: ForceArgs,
    /// How to read the input.
    #[command(flatten)]
    pub input_args: InputArgs,
}

/// `kuzet hq`.
#[derive(Debug, Args)]
pub struct HqArgs {
    /// The broker the posts publish to: mqtt://HOST[:PORT] or mqtts://HOST[:PORT]
    #[arg(long, value_name = "URL")]
    pub mqtt: String,
    /// HQ's client id: the broker keeps HQ's session (and the messages that arrive while
    /// HQ is away) under it, so keep it fixed [default: kuzet-hq-<host name>]
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// The broker's TLS, login and state.
    #[command(flatten)]
    pub broker: BrokerArgs,
    /// Console or JSON lines.
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// `kuzet exercise check`.
#[derive(Debug, Args)]
pub struct ExerciseCheckArgs {
    /// Exercise file (TOML; see captures/exercise-*.toml).
    pub file: PathBuf,
}

/// `kuzet exercise export`.
#[derive(Debug, Args)]
pub struct ExerciseExportArgs {
    /// Exercise file (TOML).
    pub file: PathBuf,
    /// Output recording: .h5 (kuzet, /annotations), .sigmf-meta (SigMF annotations),
    /// .sm2117.h5
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Overwrite or not.
    #[command(flatten)]
    pub force: ForceArgs,
}

/// `kuzet exercise run`.
#[derive(Debug, Args)]
pub struct ExerciseRunArgs {
    /// Exercise file (TOML).
    pub file: PathBuf,
    /// Who is training: written in the session log and the reports.
    #[arg(long, value_name = "NAME")]
    pub trainee: String,
    /// Directory for the session log (made if missing) [default: the current directory]
    #[arg(long, value_name = "DIR")]
    pub log: Option<PathBuf>,
    /// Scripted trainee: JSON lines of actions (ack with a verdict at a stream time,
    /// seek, pause; or an earlier session log, to re-score it); no terminal, as fast as
    /// the machine goes. An empty file is a trainee who does nothing [default: the
    /// console]
    #[arg(long, value_name = "FILE")]
    pub actions: Option<PathBuf>,
    /// Spectrum worker threads [default: number of cores, at most 8]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

/// `kuzet exercise report`.
#[derive(Debug, Args)]
pub struct ExerciseReportArgs {
    /// Session logs of one exercise (from `kuzet exercise run`).
    #[arg(required = true)]
    pub sessions: Vec<PathBuf>,
    /// Print JSON instead of the table [default: table]
    #[arg(long)]
    pub json: bool,
    /// Draw the after-action picture of the session as SVG into this file (one session)
    /// [default: none]
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Draw the after-action picture as PNG into this file (one session; needs a TrueType
    /// font: fonts-dejavu-core) [default: none]
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// The exercise file, if it moved since the sessions [default: the path in the
    /// session log]
    #[arg(long, value_name = "FILE")]
    pub exercise: Option<PathBuf>,
    /// Replace the picture if it exists.
    #[command(flatten)]
    pub force: ForceArgs,
    /// Spectrum worker threads [default: number of cores, at most 8]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

/// `kuzet synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output capture (.h5).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Overwrite or not.
    #[command(flatten)]
    pub force: ForceArgs,
    /// Scenario TOML (see captures/*.toml); flags below override its stream settings
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Frequency and rate of the scene.
    #[command(flatten)]
    pub tune: TuneArgs,
    /// Length of the scene (e.g. 10s) [default: the scenario's, else 10s]
    #[arg(long, value_name = "TIME")]
    pub duration: Option<String>,
    /// Total noise power over the band, dBFS [default: -50]
    #[arg(long, value_name = "DBFS", allow_hyphen_values = true)]
    pub noise_dbfs: Option<f64>,
    /// Random seed [default: 1]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Add an emitter: `TYPE:OFFSET:SNR_DB[:START_S[:STOP_S]]`, TYPE one of cw, fm, gfsk,
    /// hopper, jammer; OFFSET from the centre (e.g. -300k). Repeatable.
    #[arg(long = "emitter", value_name = "SPEC", allow_hyphen_values = true)]
    pub emitters: Vec<String>,
    /// Sample format on disk [default: cf32]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

/// `on` or `off`.
fn on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, got {s:?}")),
    }
}
