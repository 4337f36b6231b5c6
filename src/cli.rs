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
    /// Measure throughput on this machine (no input file needed): a table, or JSON.
    Bench(BenchArgs),
}

/// `kuzet bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Print one JSON object instead of the table [default: table]
    #[arg(long)]
    pub json: bool,
}

/// Spectrum and detection settings shared by every command that runs the pipeline.
#[derive(Debug, Clone, Default, Args)]
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
    /// Spectrum worker threads [default: number of cores, at most 8]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
}

/// `kuzet analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture to analyze (kuzet HDF5).
    pub file: PathBuf,
    /// Stop after this much stream time (e.g. 30s, 1.5s, 2m) [default: whole file]
    #[arg(long, value_name = "TIME")]
    pub duration: Option<String>,
    /// Also append alerts to this JSON-lines file [default: none]
    #[arg(long, value_name = "FILE")]
    pub alerts: Option<PathBuf>,
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
