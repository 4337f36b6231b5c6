//! Command-line interface (clap derive). Raw arguments only; [`crate::app`] validates and
//! resolves units.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::dsp::WindowKind;

/// kuzet — real-time radio monitoring: spectra, noise floor, alerts.
///
/// With no command, analyzes the bundled demo capture (captures/demo.h5).
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
    /// Simulate a scene (noise and emitters) and write it as a capture with ground truth.
    Synth(SynthArgs),
    /// Convert a recording between kuzet HDF5, SigMF, ITU-R SM.2117-0 HDF5 and raw IQ,
    /// carrying metadata and annotations.
    Convert(ConvertArgs),
}

/// How to read a recording whose file does not say everything (raw IQ has no header).
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    /// Sample rate of the input (e.g. 2.4M); overrides the file [default: from the file or
    /// its rtl_433-style name, e.g. g001_433.92M_250k.cu8]
    #[arg(long, value_name = "HZ")]
    pub rate: Option<String>,
    /// Centre frequency of the input (e.g. 433.92M); overrides the file [default: from the
    /// file or its name, else 0]
    #[arg(long, value_name = "HZ")]
    pub freq: Option<String>,
    /// Read the input as headerless IQ of this encoding: cu8 (rtl_sdr), cs8 (hackrf),
    /// cs16, cf32 (GNU Radio) [default: from the extension or content]
    #[arg(long, value_name = "FMT")]
    pub iq_format: Option<String>,
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
    /// How to read the input.
    #[command(flatten)]
    pub input_args: InputArgs,
}

/// Spectrum and detection settings shared by every command that runs the pipeline.
#[derive(Debug, Clone, Args)]
pub struct DspArgs {
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
    /// False-alarm probability per bin and test; sets the detection thresholds [default: 1e-6]
    #[arg(long, value_name = "P")]
    pub pfa: Option<f64>,
    /// Spectrum worker threads [default: 1]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

/// `kuzet analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Recording to analyze: kuzet or ITU-R SM.2117 HDF5, SigMF, WAV IQ, raw .cu8/.cs8/
    /// .cs16/.cf32/.cfile/.raw.
    pub file: PathBuf,
    /// Stop after this much stream time (e.g. 30s, 1.5s, 2m) [default: whole file]
    #[arg(long, value_name = "TIME")]
    pub duration: Option<String>,
    /// Also append alerts to this JSON-lines file [default: none]
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
    /// How to read the input.
    #[command(flatten)]
    pub input: InputArgs,
    /// Spectrum and detection settings.
    #[command(flatten)]
    pub dsp: DspArgs,
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

/// `kuzet synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output capture (.h5).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Scenario TOML (see captures/*.toml); flags below override its stream settings
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Sample rate (e.g. 2.4M) [default: 2.4M]
    #[arg(long, value_name = "HZ")]
    pub rate: Option<String>,
    /// Centre frequency (e.g. 433.92M) [default: 433.92M]
    #[arg(long, value_name = "HZ")]
    pub freq: Option<String>,
    /// Length (e.g. 10s) [default: 10s]
    #[arg(long, value_name = "TIME")]
    pub duration: Option<String>,
    /// Total noise power over the band, dBFS [default: -50]
    #[arg(long, value_name = "DBFS", allow_hyphen_values = true)]
    pub noise_dbfs: Option<f64>,
    /// Random seed [default: 1]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Add an emitter: TYPE:OFFSET:SNR_DB[:START_S[:STOP_S]], TYPE one of cw, fm, gfsk,
    /// hopper, jammer; OFFSET from the centre (e.g. -300k). Repeatable.
    #[arg(long = "emitter", value_name = "SPEC", allow_hyphen_values = true)]
    pub emitters: Vec<String>,
    /// Sample format on disk [default: cf32]
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}
