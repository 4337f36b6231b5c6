//! Wiring: turns parsed arguments into validated settings, builds sources and sinks, and
//! runs the pipeline. No signal processing here.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::alert::JsonLinesSink;
use crate::capture::raw::RawFormat;
use crate::capture::{CaptureWriter, SampleFormat, WriterOptions};
use crate::cli::{
    AnalyzeArgs, Cli, Command, ConvertArgs, DspArgs, FormatArg, InputArgs, SynthArgs,
};
use crate::convert::OutputKind;
use crate::detect::DetectorConfig;
use crate::dsp::{SpectrumConfig, WindowKind};
use crate::error::{Error, Result};
use crate::pipeline::{self, Counters, Event, PipelineConfig, RunStats};
use crate::source::synth::{EmitterKind, EmitterSpec, Hz, Scene, SynthSource};
use crate::source::OpenOptions;
use crate::source::{IqSource, ReadOutcome};
use crate::types::StreamMeta;
use crate::units;

/// The bundled demo capture, relative to the repository root.
pub const DEMO_CAPTURE: &str = "captures/demo.h5";

/// Set by Ctrl-C; every long-running command polls it.
static STOP: AtomicBool = AtomicBool::new(false);

/// Runs a parsed command line.
///
/// # Errors
/// Whatever stops the command; [`Error::exit_code`] tells bad input (2) from run-time
/// failure (1).
pub fn run(cli: Cli) -> Result<ExitCode> {
    // Ctrl-C stops the source; the pipeline drains, files close, the summary prints.
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed));
    match cli.command {
        Some(Command::Analyze(args)) => analyze(&args),
        Some(Command::Synth(args)) => synth(&args),
        Some(Command::Convert(args)) => convert(&args),
        None => analyze(&AnalyzeArgs {
            file: demo_path(),
            duration: None,
            alerts: None,
            input: InputArgs::default(),
            dsp: DspArgs {
                fft: None,
                overlap: None,
                avg: None,
                window: None,
                pfa: None,
                workers: None,
            },
        }),
    }
}

/// The demo capture: from the working directory when run from a checkout, else next to
/// the crate that was built.
fn demo_path() -> PathBuf {
    let local = PathBuf::from(DEMO_CAPTURE);
    if local.exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO_CAPTURE)
}

fn flag<T>(name: &str, r: std::result::Result<T, String>) -> Result<T> {
    r.map_err(|e| Error::Config(format!("{name}: {e}")))
}

/// Resolves spectrum and detection settings for a stream.
pub fn dsp_config(args: &DspArgs, meta: &StreamMeta) -> Result<PipelineConfig> {
    let fft = args.fft.unwrap_or(1024);
    let overlap = args.overlap.unwrap_or(50);
    let mut spectrum =
        SpectrumConfig::new(fft, overlap, 1, args.window.unwrap_or(WindowKind::Hann));
    // About 10 ms per spectrum: short bursts still stand out, noise is averaged down.
    spectrum.averages = args.avg.unwrap_or_else(|| {
        ((0.01 * meta.sample_rate_hz / spectrum.hop as f64).round() as usize).max(1)
    });
    spectrum.validate().map_err(Error::Config)?;
    let mut cfg = PipelineConfig::new(spectrum);
    cfg.detector = DetectorConfig {
        pfa: args.pfa.unwrap_or(1e-6),
        ..DetectorConfig::default()
    };
    cfg.detector.validate().map_err(Error::Config)?;
    cfg.workers = args.workers.unwrap_or(1);
    if cfg.workers == 0 || cfg.workers > 64 {
        return Err(Error::Config(format!(
            "--workers must be in 1..=64, got {}",
            cfg.workers
        )));
    }
    Ok(cfg)
}

/// Resolves `--rate`, `--freq`, `--iq-format`.
pub fn open_options(args: &InputArgs) -> Result<OpenOptions> {
    let positive = |name: &str, v: f64| {
        if v > 0.0 {
            Ok(v)
        } else {
            Err(Error::Config(format!("{name} must be positive, got {v}")))
        }
    };
    Ok(OpenOptions {
        rate_hz: args
            .rate
            .as_deref()
            .map(|r| flag("--rate", units::parse_hz(r)).and_then(|v| positive("--rate", v)))
            .transpose()?,
        freq_hz: args
            .freq
            .as_deref()
            .map(|f| flag("--freq", units::parse_hz(f)))
            .transpose()?,
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

fn warn_all(origin: &str, warnings: &[String]) {
    let mut err = std::io::stderr().lock();
    for w in warnings {
        let _ = writeln!(err, "kuzet: warning: {origin}: {w}");
    }
}

fn analyze(args: &AnalyzeArgs) -> Result<ExitCode> {
    let opts = open_options(&args.input)?;
    let mut source = crate::source::open(&args.file, &opts)?;
    crate::source::open::require_rate(&args.file, source.meta())?;
    warn_all(&args.file.display().to_string(), source.warnings());
    if let Some(d) = &args.duration {
        let d = flag("--duration", units::parse_duration(d))?;
        let samples = source.meta().index_at(d.as_secs_f64());
        source = Box::new(crate::source::Take::new(source, samples));
    }
    let meta = source.meta().clone();
    let cfg = dsp_config(&args.dsp, &meta)?;
    let mut log = match &args.alerts {
        Some(p) => Some(JsonLinesSink::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|source| Error::Io {
                    path: p.clone(),
                    source,
                })?,
        )),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = JsonLinesSink::new(stdout.lock());
    let mut stdout_gone = false;
    let stats = pipeline::run(
        source,
        &cfg,
        Arc::new(Counters::default()),
        &STOP,
        &mut |ev| {
            let Event::Alert(a) = ev;
            if let Some(log) = log.as_mut() {
                log.write(&a).map_err(Error::AlertSink)?;
            }
            if !stdout_gone {
                match out.write(&a) {
                    Ok(()) => {}
                    // `kuzet analyze x.h5 | head`: the reader has seen enough.
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => stdout_gone = true,
                    Err(e) => return Err(Error::AlertSink(e)),
                }
            }
            Ok(())
        },
    )?;
    print_summary(&meta, &cfg, &stats);
    Ok(ExitCode::SUCCESS)
}

fn print_summary(meta: &StreamMeta, cfg: &PipelineConfig, s: &RunStats) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "kuzet: {} — {} at {}, FFT {} ({:.0}% overlap, {} avg, RBW {:.0} Hz)",
        meta.origin,
        units::format_hz(meta.center_freq_hz),
        units::format_rate(meta.sample_rate_hz),
        cfg.spectrum.fft_len,
        cfg.spectrum.overlap_pct(),
        cfg.spectrum.averages,
        cfg.spectrum.rbw_hz(meta.sample_rate_hz),
    );
    let _ = writeln!(
        err,
        "kuzet: {} samples ({:.2} s of stream) in {:.3} s: {:.1} MS/s ({:.0}x real time); \
         {} spectra, {} alert lines, {} dropped",
        s.samples,
        s.stream_s,
        s.wall.as_secs_f64(),
        s.msps(),
        s.realtime_factor(),
        s.spectra,
        s.alerts,
        s.dropped,
    );
    if s.non_finite > 0 {
        let _ = writeln!(
            err,
            "kuzet: warning: {} NaN/Inf samples were read as zero",
            s.non_finite
        );
    }
}

fn convert(args: &ConvertArgs) -> Result<ExitCode> {
    let opts = open_options(&args.input_args)?;
    let to = args
        .to
        .as_deref()
        .map(|t| {
            OutputKind::from_name(t).ok_or_else(|| {
                Error::Config(format!(
                    "--to: `{t}` is not one of kuzet, sigmf, sm2117, cf32, cs16, cs8, cu8"
                ))
            })
        })
        .transpose()?;
    let r = crate::convert::convert(&args.input, &args.output, to, &opts, &STOP)?;
    warn_all(&args.input.display().to_string(), &r.warnings);
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let outputs: Vec<String> = r.outputs.iter().map(|p| p.display().to_string()).collect();
    eprintln!(
        "kuzet: wrote {}: {} samples, {} annotation(s), in {:.3} s ({:.0} MB/s of input, {:.1} MS/s)",
        outputs.join(" + "),
        r.samples,
        r.annotations,
        secs,
        r.input_bytes as f64 / secs / 1e6,
        r.samples as f64 / secs / 1e6,
    );
    if r.clipped > 0 {
        eprintln!(
            "kuzet: warning: {} samples clipped by the output format",
            r.clipped
        );
    }
    if r.non_finite > 0 {
        eprintln!(
            "kuzet: warning: {} NaN/Inf samples were written as zero",
            r.non_finite
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses `TYPE:OFFSET:SNR_DB[:START_S[:STOP_S]]`.
fn parse_emitter(spec: &str) -> Result<EmitterSpec> {
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
        kind,
        name: None,
        offset_hz: Hz(offset),
        bandwidth_hz: None,
        snr_db: snr,
        start_s: parts.get(3).map(|s| secs(s)).transpose()?.unwrap_or(0.0),
        stop_s: parts.get(4).map(|s| secs(s)).transpose()?,
        burst_ms: None,
        period_ms: None,
        hops: None,
        dwell_ms: None,
        span_hz: None,
    })
}

/// Builds the scene from a scenario file and/or flags (flags win).
pub fn build_scene(args: &SynthArgs) -> Result<Scene> {
    let mut scene = match &args.scenario {
        Some(p) => Scene::load(p)?,
        None => Scene {
            sample_rate_hz: Hz(2.4e6),
            center_freq_hz: Hz(433.92e6),
            duration_s: 10.0,
            noise_dbfs: -50.0,
            seed: 1,
            description: String::new(),
            emitters: Vec::new(),
        },
    };
    if let Some(r) = &args.rate {
        scene.sample_rate_hz = Hz(flag("--rate", units::parse_hz(r))?);
    }
    if let Some(f) = &args.freq {
        scene.center_freq_hz = Hz(flag("--freq", units::parse_hz(f))?);
    }
    if let Some(d) = &args.duration {
        scene.duration_s = flag("--duration", units::parse_duration(d))?.as_secs_f64();
    }
    if let Some(n) = args.noise_dbfs {
        scene.noise_dbfs = n;
    }
    if let Some(s) = args.seed {
        scene.seed = s;
    }
    for e in &args.emitters {
        scene.emitters.push(parse_emitter(e)?);
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

fn synth(args: &SynthArgs) -> Result<ExitCode> {
    let scene = build_scene(args)?;
    let rms = scene.peak_rms() as f32;
    let format = match args.format.unwrap_or(FormatArg::Cf32) {
        FormatArg::Cf32 => SampleFormat::Cf32,
        // Scale so that the RMS sits well below full scale: Gaussian peaks up to ~4.5σ fit.
        FormatArg::Ci16 => SampleFormat::Ci16 {
            scale: rms * 6.0 / i16::MAX as f32,
        },
        FormatArg::Ci8 => SampleFormat::Ci8 {
            scale: rms * 4.5 / i8::MAX as f32,
        },
    };
    let mut source = SynthSource::new(&scene)?;
    let mut writer = CaptureWriter::create(
        &args.output,
        &scene.meta(),
        &WriterOptions {
            format,
            ..WriterOptions::default()
        },
    )?;
    for a in scene.annotations() {
        writer.annotate(&a)?;
    }
    let mut buf = vec![num_complex::Complex32::default(); 1 << 16];
    loop {
        if STOP.load(Ordering::Relaxed) {
            break;
        }
        match source.read(&mut buf)? {
            ReadOutcome::Samples(n) => writer.append(&buf[..n])?,
            ReadOutcome::Eof => break,
            ReadOutcome::Pending | ReadOutcome::Lost(_) | ReadOutcome::Event(_) => {}
        }
    }
    let clipped = writer.clipped_samples();
    let n = writer.finish()?;
    let size = std::fs::metadata(&args.output)
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "kuzet: wrote {}: {} samples ({:.2} s at {}, {}), {} emitter(s), {:.1} MB",
        args.output.display(),
        n,
        n as f64 / scene.sample_rate_hz.0,
        units::format_rate(scene.sample_rate_hz.0),
        format.name(),
        scene.emitters.len(),
        size as f64 / 1e6,
    );
    if clipped > 0 {
        eprintln!(
            "kuzet: warning: {clipped} samples clipped by the {} format",
            format.name()
        );
    }
    Ok(ExitCode::SUCCESS)
}
