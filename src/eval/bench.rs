//! `kuzet bench`: throughput of each stage on the machine at hand, with no input file.
//!
//! A scene with several emitters is synthesised into memory once, then:
//! - the spectrum stage ([`Welch::process_db`]: window, FFT, |X|², average, dB) runs on
//!   one core at several FFT sizes and overlaps, averaging 2,000,000 samples per spectrum
//!   like the FFTW reference loop (`../shared/peers/psd_fftw.c`);
//! - the same on every core, the spectra split into contiguous runs, one per thread, each
//!   written to its own place in the output (order preserved);
//! - the detector alone on spectra made from the scene;
//! - the whole pipeline (framer → spectrum workers → detector → alerts) over the scene,
//!   looped;
//! - what `kuzet analyze` does: the same, from the scene written to a temporary capture
//!   (cf32 and ci8), read through the file source;
//! - the ratios the throughput targets are stated in, each from figures measured within
//!   the same round (on a shared machine only such side-by-side ratios mean anything);
//! - a sweep of the whole border band plan on the simulated radio (`driver=kuzetsim`,
//!   unpaced, its border scene), with 20 ms and 1 ms dwells: GHz/s of stream, GHz/s the
//!   whole pipeline reaches when the radio does not pace it, and the CPU time each part
//!   takes per GHz swept (the simulator, the spectrum stage, the sweep's detection, and a
//!   fixed tune's detector on the same spectra), measured on the thread's own CPU clock so
//!   that other processes' load does not count.
//!
//! The multi-core spectrum figure runs its own scoped threads here, outside the pipeline:
//! it measures the spectrum kernel alone, split across cores with no channels.
//!
//! Each figure is the best of a few passes: on a shared machine the best pass is the one
//! least disturbed by other processes. Figures are in MS/s of input (million complex
//! samples per second) and as multiples of the sample rates of common radios.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use num_complex::Complex32;

use crate::app::config::{Dsp, Sweep};
use crate::app::sweep::OpenSweep;
use crate::detect::sweep::{swept_hz, SweepDetector, SweepSpec};
use crate::detect::Detector;
use crate::dsp::{SpectrumConfig, Welch, WindowKind};
use crate::error::{Error, Result};
use crate::pipeline::{self, Counters, PipelineConfig};
use crate::source::soapy::{DeviceSettings, Gain};
use crate::source::synth::{EmitterKind, EmitterSpec, Scene, SynthSource};
use crate::source::{IqSource, ReadOutcome, SampleBuf, SampleKind, SeekableSource};
use crate::types::StreamMeta;
use crate::units::Hz;

/// Samples averaged into one spectrum by the spectrum benchmarks (the peers' workload:
/// 100 ms at 20 MS/s).
pub const AVG_SAMPLES: usize = 2_000_000;

/// Radios whose sample rates the table is expressed in: (name, MS/s).
pub const RADIOS: [(&str, f64); 3] = [("RTL-SDR", 2.4), ("HackRF", 20.0), ("USRP B210", 61.44)];

/// Spectrum configurations measured on one core: (FFT size, overlap %).
pub const SPECTRUM_CASES: [(usize, u32); 6] = [
    (256, 50),
    (1024, 50),
    (1024, 0),
    (4096, 50),
    (4096, 0),
    (16384, 50),
];

/// Spectrum configurations measured on all cores.
pub const SPECTRUM_MT_CASES: [(usize, u32); 2] = [(1024, 50), (4096, 50)];

/// Sample rate of the synthesised scene (a HackRF-class stream).
const SCENE_RATE_HZ: f64 = 20e6;
/// Scene length in samples: 64 MiB of IQ, larger than the caches, as a real stream is.
const SCENE_SAMPLES: usize = 1 << 23;

/// What `kuzet bench` measured; `--json` prints it as one object.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    /// CPU model, from the operating system.
    pub cpu: String,
    /// Instruction set rustfft's kernels (and kuzet's own loops) use on this CPU.
    pub simd: String,
    /// Threads used for the multi-threaded figures.
    pub threads: usize,
    /// One-core spectrum stage, MS/s, keyed `"FFT size/overlap %"`.
    pub spectrum_msps: BTreeMap<String, f64>,
    /// Spectrum stage on `threads` threads, MS/s.
    pub spectrum_2t_msps: BTreeMap<String, f64>,
    /// Detection stage alone, MS/s of input its spectra stand for.
    pub detect_msps: f64,
    /// Whole pipeline on `threads` spectrum workers, MS/s.
    pub pipeline_msps: f64,
    /// Spectrum settings of the detection and pipeline runs, for the reader.
    pub pipeline_config: String,
    /// Spectrum stage alone with the pipeline's settings, MS/s, keyed by thread count
    /// (`"1"`, and `threads`).
    pub spectrum_pipeline_cfg_msps: BTreeMap<String, f64>,
    /// `kuzet analyze`'s work (file source → framer → workers → detector), MS/s, keyed by
    /// the capture's sample format (`"cf32"`, `"ci8"`).
    pub analyze_msps: BTreeMap<String, f64>,
    /// Medians over the rounds of same-round ratios: `spectrum_2t_over_1t` (scaling of
    /// the spectrum stage with the pipeline's settings), `pipeline_over_spectrum_2t` and
    /// `analyze_<format>_over_spectrum_2t` (the whole pipeline against the spectrum
    /// stage alone on as many threads).
    pub ratios: BTreeMap<String, f64>,
    /// Sweeps of the border band plan on the simulated radio, one per dwell.
    pub sweep: Vec<SweepFigures>,
}

/// What one sweep of the border band plan on the simulated radio achieved and cost.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepFigures {
    /// The dwell, for the reader (`20 ms`).
    pub dwell: String,
    /// The plan: steps, visits per cycle, rate, spectrum, settle.
    pub plan: String,
    /// Stream time of one cycle, s.
    pub cycle_s: f64,
    /// Bandwidth swept per second of stream: what the radio sweeps at its own pace, GHz/s
    /// (from the visits the run's detection counted).
    pub stream_ghz_per_s: f64,
    /// The same per second of wall time, the whole `watch --sweep` pipeline on the
    /// unpaced simulator (which shares the CPU with it): how fast this machine can sweep.
    pub pipeline_ghz_per_s: f64,
    /// CPU seconds per GHz swept on one thread, by part: `source` (the simulator
    /// producing every sample, the settle's included, and the sweep source discarding
    /// them), `spectrum`, `detection` (a detector per step and the merger), `fixed tune
    /// detection` (one fixed tune's detector on the same spectra, for comparison).
    pub cpu_s_per_ghz: BTreeMap<String, f64>,
    /// Same-run ratios: `detection_over_spectrum`, `detection_over_fixed_tune`,
    /// `cores_at_stream_rate` (the share of one core that spectrum and detection need to
    /// keep up with the radio: CPU-s per GHz × GHz/s), `pipeline_over_stream`.
    pub ratios: BTreeMap<String, f64>,
}

/// The SIMD level rustfft selects at run time: AVX2+FMA kernels on x86-64 CPUs that have
/// both, else SSE4.1, else scalar; NEON on aarch64.
pub fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx") && std::is_x86_feature_detected!("fma") {
            if std::is_x86_feature_detected!("avx2") {
                return "avx2";
            }
            return "avx";
        }
        if std::is_x86_feature_detected!("sse4.1") {
            return "sse4.1";
        }
        "scalar"
    }
    #[cfg(target_arch = "aarch64")]
    {
        "neon"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        "scalar"
    }
}

/// The CPU model as the OS names it (`/proc/cpuinfo` on Linux), else the architecture.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// The benchmark scene: noise and four emitters of different kinds.
pub fn scene() -> Scene {
    let emitter = EmitterSpec::new;
    Scene {
        sample_rate_hz: Hz(SCENE_RATE_HZ),
        center_freq_hz: Hz(433.92e6),
        duration_s: SCENE_SAMPLES as f64 / SCENE_RATE_HZ,
        noise_dbfs: -50.0,
        seed: 1,
        description: "kuzet bench".into(),
        emitters: vec![
            emitter(EmitterKind::Cw, 2.5e6, 20.0),
            emitter(EmitterKind::Fm, -4e6, 15.0),
            emitter(EmitterKind::Gfsk, 6e6, 12.0),
            emitter(EmitterKind::Hopper, 0.0, 15.0),
        ],
    }
}

/// Renders `scene` into memory.
///
/// # Errors
/// An invalid scene.
pub fn synthesise(scene: &Scene) -> Result<Vec<Complex32>> {
    let mut src = SynthSource::new(scene)?;
    let total = scene.total_samples() as usize;
    let mut out = vec![Complex32::default(); total];
    let mut fill = 0;
    while fill < total {
        match src.read_cf32(&mut out[fill..])? {
            ReadOutcome::Samples(n) => fill += n,
            ReadOutcome::Eof => break,
            ReadOutcome::Pending | ReadOutcome::Lost(_) | ReadOutcome::Event(_) => {}
            ReadOutcome::Retuned(_) => {}
        }
    }
    out.truncate(fill);
    Ok(out)
}

/// A spectrum configuration like the peers': Hann, `overlap` %, [`AVG_SAMPLES`] per spectrum.
pub fn peer_config(fft_len: usize, overlap: u32) -> SpectrumConfig {
    let mut cfg = SpectrumConfig::new(fft_len, overlap, 1, WindowKind::Hann);
    cfg.averages = (AVG_SAMPLES / cfg.hop).max(1);
    cfg
}

/// Best of `passes` runs of `f`, which returns the samples it processed.
fn best_msps(passes: usize, mut f: impl FnMut() -> usize) -> f64 {
    (0..passes)
        .map(|_| {
            let t = Instant::now();
            let samples = f();
            samples as f64 / t.elapsed().as_secs_f64().max(1e-9) / 1e6
        })
        .fold(0.0, f64::max)
}

/// Spectrum stage over `input` on `threads` threads: the spectra are cut into `threads`
/// contiguous runs, each thread computes its run into its own part of the output, so the
/// output is in stream order. Returns MS/s (best of `passes`).
pub fn spectrum_msps(
    cfg: SpectrumConfig,
    input: &[Complex32],
    threads: usize,
    passes: usize,
) -> f64 {
    let n = cfg.fft_len;
    let span = cfg.span();
    let count = input.len().saturating_sub(cfg.history()) / span;
    let threads = threads.clamp(1, count.max(1));
    let mut out = vec![0.0f32; count * n];
    let mut workers: Vec<Welch> = (0..threads).map(|_| Welch::new(cfg)).collect();
    // With the carrier grid on (the pipeline's settings), each thread computes its runs'
    // peaks and grids too, into scratch of its own.
    let nc = cfg.carrier_len();
    // Warm-up: page in the output, warm the planner's twiddles.
    if let Some(w) = workers.first_mut() {
        w.process_db(&input[..cfg.history() + span], &mut out[..n]);
    }
    // Runs of spectra handed out as threads come free rather than one fixed share each:
    // on a shared machine a thread that loses its core for a while does not hold up the
    // pass. Each run is written to its own place in the output, so order is preserved.
    let run = count.div_ceil(threads * 8).max(1);
    best_msps(passes, || {
        let jobs = std::sync::Mutex::new(out.chunks_mut(run * n).enumerate());
        std::thread::scope(|s| {
            for welch in workers.iter_mut() {
                let jobs = &jobs;
                s.spawn(move || {
                    let (mut peak, mut grids) = if nc > 0 {
                        (vec![0.0f32; run * n], vec![0.0f32; run * nc])
                    } else {
                        (Vec::new(), Vec::new())
                    };
                    loop {
                        let Some((j, dst)) = jobs.lock().ok().and_then(|mut it| it.next()) else {
                            return;
                        };
                        let first = j * run;
                        let spectra = dst.len() / n;
                        let src =
                            &input[first * span..first * span + spectra * span + cfg.history()];
                        if nc > 0 {
                            welch.process_grids(src, 1.0, dst, &mut peak, &mut grids);
                        } else {
                            welch.process_db(src, dst);
                        }
                    }
                });
            }
        });
        count * span
    })
}

/// The detector alone over spectra precomputed from `input`; MS/s of input they stand for.
pub fn detect_msps(cfg: &PipelineConfig, meta: &StreamMeta, input: &[Complex32]) -> f64 {
    let spec = cfg.spectrum;
    let mut welch = Welch::new(spec);
    let mut power = vec![0.0f32; welch.spectra_in(input.len()) * spec.fft_len];
    let mut peak = power.clone();
    let nc = spec.carrier_len();
    let mut grids = vec![0.0f32; welch.spectra_in(input.len()) * nc];
    let count = welch.process_grids(input, 1.0, &mut power, &mut peak, &mut grids);
    if count == 0 {
        return 0.0;
    }
    let mut det = Detector::new(cfg.detector, &spec, meta);
    let span = spec.span() as u64;
    let mut start = 0u64;
    let mut alerts = 0usize;
    let mut emit = |_a| alerts += 1;
    best_msps(3, || {
        let t = Instant::now();
        let mut pushed = 0;
        // Loop over the spectra for at least 0.2 s so the figure is not one timer tick.
        while t.elapsed() < Duration::from_millis(200) {
            for (j, (p, pk)) in power
                .chunks_exact(spec.fft_len)
                .zip(peak.chunks_exact(spec.fft_len))
                .enumerate()
            {
                let grid = Some(&grids[j * nc..][..nc]).filter(|_| nc > 0);
                det.push_grids(p, Some(pk), grid, start, &mut emit);
                start += span;
            }
            pushed += count;
        }
        pushed * spec.span()
    })
}

/// An in-memory stream for the pipeline benchmark: `total` samples, looping over `data`.
#[derive(Debug)]
pub struct MemorySource {
    data: Arc<[Complex32]>,
    meta: StreamMeta,
    pos: usize,
    remaining: usize,
}

impl MemorySource {
    /// `total` samples of `data`, looped, described by `meta` (a file-like source: the
    /// pipeline blocks rather than drops).
    pub fn new(data: Arc<[Complex32]>, meta: &StreamMeta, total: usize) -> Self {
        let mut meta = meta.clone();
        meta.live = false;
        meta.total_samples = Some(total as u64);
        MemorySource {
            data,
            meta,
            pos: 0,
            remaining: total,
        }
    }
}

impl IqSource for MemorySource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        let buf = buf.cf32()?;
        if self.remaining == 0 {
            return Ok(ReadOutcome::Eof);
        }
        if self.pos == self.data.len() {
            self.pos = 0;
        }
        let n = buf
            .len()
            .min(self.remaining)
            .min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        self.remaining -= n;
        Ok(ReadOutcome::Samples(n))
    }
}

/// A recording read over and over: a benchmark's endless input.
struct Looping(Box<dyn SeekableSource>);

impl IqSource for Looping {
    fn meta(&self) -> &StreamMeta {
        self.0.meta()
    }
    fn native(&self) -> SampleKind {
        self.0.native()
    }
    fn read(&mut self, mut buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        match self.0.read(buf.reborrow())? {
            ReadOutcome::Eof => {
                self.0.seek(0);
                self.0.read(buf)
            }
            other => Ok(other),
        }
    }
}

/// The whole pipeline over `total` samples looped from `data`; MS/s (best of 2).
///
/// # Errors
/// A failing stage (which would be a bug: the source cannot fail).
pub fn pipeline_msps(
    cfg: &PipelineConfig,
    meta: &StreamMeta,
    data: &Arc<[Complex32]>,
    total: usize,
) -> Result<f64> {
    let stop = AtomicBool::new(false);
    let mut best = 0.0f64;
    for _ in 0..2 {
        let src = MemorySource::new(data.clone(), meta, total);
        let stats = pipeline::run(
            Box::new(src),
            cfg,
            Arc::new(Counters::default()),
            &stop,
            &mut |_| Ok(()),
        )?;
        best = best.max(stats.msps());
    }
    Ok(best)
}

/// `kuzet analyze`'s work over `total` samples of the capture at `path`, looped; MS/s.
///
/// # Errors
/// An unreadable capture or a failing stage.
pub fn analyze_msps(cfg: &PipelineConfig, path: &std::path::Path, total: usize) -> Result<f64> {
    let recording = crate::source::open(path, &crate::source::OpenOptions::default())?;
    let src = crate::source::Take::new(Looping(recording.source), total as u64);
    let stats = pipeline::run(
        Box::new(src),
        cfg,
        Arc::new(Counters::default()),
        &AtomicBool::new(false),
        &mut |_| Ok(()),
    )?;
    Ok(stats.msps())
}

/// Writes `samples` as a capture in `format` at `path`.
fn write_capture(
    path: &std::path::Path,
    meta: &StreamMeta,
    format: crate::formats::SampleFormat,
    samples: &[Complex32],
) -> Result<()> {
    let opts = crate::formats::kuzet::WriterOptions {
        format,
        ..Default::default()
    };
    let mut w = crate::formats::kuzet::CaptureWriter::create(path, meta, &opts)?;
    w.append(samples)?;
    w.finish()?;
    Ok(())
}

/// Removes the benchmark's temporary captures however the run ends.
struct TempFiles(Vec<std::path::PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// CPU time this process has used so far, s: every thread's, user and system.
pub fn process_cpu_s() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// CPU time the calling thread has used so far, s.
pub fn thread_cpu_s() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// The simulated radio the sweep figures are measured on: its border scene (carriers,
/// pulses and wideband emitters from VHF to 5.8 GHz), delivered as fast as it is read.
pub const SWEEP_SIM: &str = "driver=kuzetsim,realtime=false,scene=border";

/// Stream time each sweep figure is measured over: more than one cycle of the plan with
/// 20 ms dwells at 20 MS/s (2.7 s).
pub const SWEEP_STREAM_S: f64 = 3.0;

/// The sweeps measured: (dwell for the reader, dwell s, FFT frames averaged per spectrum,
/// `None` for the default of about 10 ms). The short dwell is what `hackrf_sweep`-like
/// speed costs: a spectrum of 1 ms per visit.
const SWEEP_CASES: [(&str, f64, Option<usize>); 2] =
    [("20 ms", 0.020, None), ("1 ms", 0.001, Some(39))];

/// Opens a sweep of the whole border plan on the simulator at 20 MS/s, `SWEEP_STREAM_S`
/// long; `serial` keeps each run's device apart in libSoapySDR's cache.
fn open_sweep_sim(serial: &str, dwell_s: f64, averages: Option<usize>) -> Result<OpenSweep> {
    let mut dsp = Dsp::default();
    if let Some(n) = averages {
        dsp.spectrum = dsp.spectrum.with_averages(n);
    }
    let sweep = Sweep {
        rate_sps: Some(SCENE_RATE_HZ),
        dwell_s,
        ..Sweep::new(SweepSpec::Plan)
    };
    let device = DeviceSettings {
        args: format!("{SWEEP_SIM},serial=kuzetsim-bench-{serial}"),
        freq_hz: 0.0,
        rate_sps: SCENE_RATE_HZ,
        gain: Gain::Unchanged,
        antenna: None,
        bandwidth_hz: None,
        ppm: 0.0,
        channel: 0,
    };
    crate::app::sweep::open(&device, &dsp, &sweep, Some(SWEEP_STREAM_S))
}

/// A sweep's parts on this thread, over the same dwells: CPU seconds of the source, the
/// spectrum stage, the sweep's detection and a fixed tune's detector on its spectra; and
/// the Hz swept.
fn sweep_parts(o: OpenSweep) -> Result<([f64; 4], f64)> {
    let OpenSweep {
        mut source,
        cfg,
        plan,
        ..
    } = o;
    let spec = cfg.spectrum;
    let meta = source.meta().clone();
    let mut sweep = SweepDetector::new(
        cfg.detector,
        &spec,
        &meta,
        plan.clone(),
        cfg.knowledge.clone(),
    );
    let mut fixed = Detector::new(cfg.detector, &spec, &meta).with_knowledge(cfg.knowledge);
    let mut welch = Welch::new(spec);
    let longest = plan
        .cycle
        .iter()
        .map(|v| plan.dwell_samples(v) as usize)
        .max()
        .unwrap_or(0);
    let mut dwell: Vec<Complex32> = Vec::with_capacity(longest);
    let mut power = vec![0.0f32; welch.spectra_in(longest).max(1) * spec.fft_len];
    let mut peak = power.clone();
    let mut buf = vec![Complex32::default(); 1 << 16];
    // CPU s: source, spectrum, sweep detection, fixed-tune detection.
    let mut cpu = [0.0f64; 4];
    let mut alerts = 0usize;
    let mut at: Option<(crate::source::Retune, u64)> = None;
    let mut pos = 0u64;
    let mut analyse = |at: Option<(crate::source::Retune, u64)>,
                       dwell: &mut Vec<Complex32>,
                       cpu: &mut [f64; 4]| {
        let Some((r, first)) = at else { return };
        let t = thread_cpu_s();
        let n = welch.process_with_peak(dwell.as_slice(), 1.0, &mut power, &mut peak);
        let t1 = thread_cpu_s();
        cpu[1] += t1 - t;
        let span = spec.span() as u64;
        let spectra = || {
            power
                .chunks_exact(spec.fft_len)
                .zip(peak.chunks_exact(spec.fft_len))
                .take(n)
                .enumerate()
        };
        for (j, (p, pk)) in spectra() {
            let start = first + j as u64 * span;
            sweep.push(p, Some(pk), start, r.step as usize, r.dwell, &mut |_| {
                alerts += 1
            });
        }
        let t2 = thread_cpu_s();
        cpu[2] += t2 - t1;
        for (j, (p, pk)) in spectra() {
            fixed.push_with_peak(p, Some(pk), first + j as u64 * span, &mut |_| alerts += 1);
        }
        cpu[3] += thread_cpu_s() - t2;
        dwell.clear();
    };
    loop {
        let t = thread_cpu_s();
        let read = source.read_cf32(&mut buf)?;
        cpu[0] += thread_cpu_s() - t;
        match read {
            ReadOutcome::Samples(n) => {
                dwell.extend_from_slice(&buf[..n]);
                pos += n as u64;
            }
            ReadOutcome::Retuned(r) => {
                analyse(at, &mut dwell, &mut cpu);
                pos += r.settled;
                at = Some((r, pos));
            }
            ReadOutcome::Eof => break,
            ReadOutcome::Pending | ReadOutcome::Lost(_) | ReadOutcome::Event(_) => {}
        }
    }
    analyse(at, &mut dwell, &mut cpu);
    Ok((cpu, swept_hz(&plan, &sweep.stats())))
}

/// Sweeps the border plan on the simulator with each of [`SWEEP_CASES`]' dwells: the
/// whole pipeline, then the parts one by one.
///
/// # Errors
/// The simulator cannot be opened (libSoapySDR without kuzet's module) or a stage fails.
pub fn sweep_figures(progress: &mut dyn FnMut(&str)) -> Result<Vec<SweepFigures>> {
    let mut out = Vec::new();
    for (k, (dwell, dwell_s, averages)) in SWEEP_CASES.into_iter().enumerate() {
        progress(&format!(
            "sweep of the border plan on driver=kuzetsim, {dwell} dwells: pipeline"
        ));
        let o = open_sweep_sim(&format!("{k}-pipeline"), dwell_s, averages)?;
        let plan = o.plan.clone();
        let g = &plan.geometry;
        let plan_text = format!(
            "{} steps, {} visits a cycle, {} MS/s, FFT {} ({:.1} ms spectra, {} a visit), \
             settle {} samples",
            plan.steps.len(),
            plan.cycle.len(),
            g.rate_hz / 1e6,
            g.fft_len,
            g.span as f64 / g.rate_hz * 1e3,
            g.dwell_spectra,
            g.settle_samples
        );
        let cpu0 = process_cpu_s();
        let stats = pipeline::run(
            Box::new(o.source) as Box<dyn IqSource>,
            &o.cfg,
            Arc::new(Counters::default()),
            &AtomicBool::new(false),
            &mut |_| Ok(()),
        )?;
        let pipeline_cpu = process_cpu_s() - cpu0;
        let swept = swept_hz(&plan, stats.sweep.as_deref().unwrap_or_default());
        let stream_ghz_per_s = swept / 1e9 / stats.stream_s.max(1e-9);
        let pipeline_ghz_per_s = swept / 1e9 / stats.wall.as_secs_f64().max(1e-9);

        progress(&format!(
            "sweep of the border plan on driver=kuzetsim, {dwell} dwells: parts on one thread"
        ));
        let o = open_sweep_sim(&format!("{k}-parts"), dwell_s, averages)?;
        let (cpu, parts_swept) = sweep_parts(o)?;
        let ghz = (parts_swept / 1e9).max(1e-12);
        let per = |c: f64| c / ghz;
        let cpu_s_per_ghz: BTreeMap<String, f64> = [
            ("source", cpu[0]),
            ("spectrum", cpu[1]),
            ("detection", cpu[2]),
            ("fixed tune detection", cpu[3]),
        ]
        .into_iter()
        .map(|(k, c)| (k.to_string(), per(c)))
        .chain([(
            "pipeline (process)".to_string(),
            pipeline_cpu / (swept / 1e9).max(1e-12),
        )])
        .collect();
        let ratios = [
            ("detection_over_spectrum", cpu[2] / cpu[1].max(1e-12)),
            ("detection_over_fixed_tune", cpu[2] / cpu[3].max(1e-12)),
            (
                "cores_at_stream_rate",
                per(cpu[1] + cpu[2]) * stream_ghz_per_s,
            ),
            (
                "pipeline_over_stream",
                pipeline_ghz_per_s / stream_ghz_per_s.max(1e-12),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        out.push(SweepFigures {
            dwell: dwell.to_string(),
            plan: plan_text,
            cycle_s: plan.cycle_s(),
            stream_ghz_per_s,
            pipeline_ghz_per_s,
            cpu_s_per_ghz,
            ratios,
        });
    }
    Ok(out)
}

/// Rounds of the side-by-side measurements behind [`BenchReport::ratios`].
const ROUNDS: usize = 5;

/// Runs every benchmark, reporting progress through `progress`.
///
/// # Errors
/// A failing pipeline run (which would be a bug).
pub fn run(progress: &mut dyn FnMut(&str)) -> Result<BenchReport> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(2);
    let scene = scene();
    scene.validate().map_err(Error::Config)?;
    progress(&format!(
        "synthesising {} samples ({} emitters at {} MS/s)",
        SCENE_SAMPLES,
        scene.emitters.len(),
        SCENE_RATE_HZ / 1e6
    ));
    let input = synthesise(&scene)?;
    let meta = scene.meta();

    let mut spectrum = BTreeMap::new();
    for (n, ov) in SPECTRUM_CASES {
        progress(&format!("spectrum {n}/{ov} on 1 core"));
        spectrum.insert(
            format!("{n}/{ov}"),
            spectrum_msps(peer_config(n, ov), &input, 1, 5),
        );
    }
    let mut spectrum_mt = BTreeMap::new();
    for (n, ov) in SPECTRUM_MT_CASES {
        progress(&format!("spectrum {n}/{ov} on {threads} threads"));
        spectrum_mt.insert(
            format!("{n}/{ov}"),
            spectrum_msps(peer_config(n, ov), &input, threads, 5),
        );
    }

    // Detection and pipeline: what `kuzet analyze` does by default at this sample rate.
    let mut cfg = crate::app::config::Dsp::default().pipeline(&meta)?;
    cfg.workers = threads;
    let pipeline_config = format!(
        "FFT {} Hann, {:.0}% overlap, {} averages ({:.0} ms at {} MS/s), carrier grid {}, {} workers",
        cfg.spectrum.fft_len,
        cfg.spectrum.overlap_pct(),
        cfg.spectrum.averages,
        cfg.spectrum.span() as f64 / meta.sample_rate_hz * 1e3,
        meta.sample_rate_hz / 1e6,
        match cfg.spectrum.carrier_len() {
            0 => "off".to_string(),
            n => format!("{n}-point"),
        },
        cfg.workers,
    );
    progress("detection stage");
    let detect = detect_msps(&cfg, &meta, &input);
    let data: Arc<[Complex32]> = input.into();
    let total = 4 * data.len();

    progress("writing the scene to temporary captures (cf32, ci8)");
    let dir = std::env::temp_dir();
    let pid = std::process::id();
    let formats = [
        ("cf32", crate::formats::SampleFormat::Cf32),
        (
            "ci8",
            crate::formats::SampleFormat::Ci8 { scale: 1.0 / 128.0 },
        ),
    ];
    let files = TempFiles(
        formats
            .iter()
            .map(|(name, _)| dir.join(format!("kuzet-bench-{pid}-{name}.h5")))
            .collect(),
    );
    for ((_, format), path) in formats.iter().zip(&files.0) {
        // Scaled so that int8 keeps the scene's dynamic range without clipping.
        write_capture(path, &meta, *format, &data)?;
    }

    // The figures the targets compare, measured round by round, one after another.
    let spec = cfg.spectrum;
    // The same pipeline without the carrier grid (`--carriers off`): what the grid costs.
    let mut without = cfg.clone();
    without.spectrum.carriers = false;
    let mut best: BTreeMap<&str, f64> = BTreeMap::new();
    let mut per_round: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for round in 1..=ROUNDS {
        progress(&format!(
            "round {round}/{ROUNDS}: spectrum (1 and {threads} threads), pipeline, analyze from cf32 and ci8 files"
        ));
        let mut now: BTreeMap<&str, f64> = BTreeMap::new();
        now.insert("1t", spectrum_msps(spec, &data, 1, 3));
        now.insert("2t", spectrum_msps(spec, &data, threads, 3));
        now.insert("pipeline", pipeline_msps(&cfg, &meta, &data, total)?);
        now.insert("pipeline_nc", pipeline_msps(&without, &meta, &data, total)?);
        for ((name, _), path) in formats.iter().zip(&files.0) {
            now.insert(name, analyze_msps(&cfg, path, total)?);
        }
        let two = now["2t"].max(1e-9);
        let mut ratio = |k: &str, v: f64| per_round.entry(k.to_string()).or_default().push(v);
        ratio("spectrum_2t_over_1t", now["2t"] / now["1t"].max(1e-9));
        ratio("pipeline_over_spectrum_2t", now["pipeline"] / two);
        ratio(
            "pipeline_over_pipeline_without_carriers",
            now["pipeline"] / now["pipeline_nc"].max(1e-9),
        );
        for (name, _) in &formats {
            ratio(&format!("analyze_{name}_over_spectrum_2t"), now[name] / two);
        }
        for (k, v) in now {
            let b = best.entry(k).or_insert(0.0);
            *b = b.max(v);
        }
    }
    drop(files);
    let sweep = sweep_figures(progress)?;

    Ok(BenchReport {
        cpu: cpu_model(),
        simd: simd_level().to_string(),
        threads,
        spectrum_msps: spectrum,
        spectrum_2t_msps: spectrum_mt,
        detect_msps: detect,
        pipeline_msps: best["pipeline"],
        pipeline_config,
        spectrum_pipeline_cfg_msps: [
            ("1".to_string(), best["1t"]),
            (threads.to_string(), best["2t"]),
        ]
        .into_iter()
        .collect(),
        analyze_msps: formats
            .iter()
            .map(|(name, _)| (name.to_string(), best[name]))
            .collect(),
        ratios: per_round.into_iter().map(|(k, v)| (k, median(v))).collect(),
        sweep,
    })
}

/// The report as a table: MS/s and multiples of real time for [`RADIOS`].
pub fn render_table(r: &BenchReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "kuzet bench — CPU: {}; rustfft SIMD: {}; threads: {}",
        r.cpu, r.simd, r.threads
    );
    let _ = writeln!(
        s,
        "spectrum: Hann, window+FFT+|X|²+average+dB, {AVG_SAMPLES} samples per spectrum"
    );
    let _ = writeln!(s, "detection, pipeline: {}", r.pipeline_config);
    let _ = write!(s, "{:<28} {:>9}", "stage", "MS/s");
    for (name, rate) in RADIOS {
        let _ = write!(s, " {:>16}", format!("× {name} {rate}"));
    }
    let _ = writeln!(s);
    let mut row = |label: String, msps: f64| {
        let _ = write!(s, "{label:<28} {msps:>9.1}");
        for (_, rate) in RADIOS {
            let _ = write!(s, " {:>16.1}", msps / rate);
        }
        let _ = writeln!(s);
    };
    // Sizes in numeric order, not the map's string order.
    let mut keys: Vec<&String> = r.spectrum_msps.keys().collect();
    keys.sort_by_key(|k| {
        let (n, ov) = k.split_once('/').unwrap_or((k, "0"));
        (
            n.parse::<usize>().unwrap_or(0),
            std::cmp::Reverse(ov.parse::<u32>().unwrap_or(0)),
        )
    });
    for k in keys {
        row(format!("spectrum {k} (1 core)"), r.spectrum_msps[k]);
    }
    for (k, v) in &r.spectrum_2t_msps {
        row(format!("spectrum {k} ({} threads)", r.threads), *v);
    }
    for (k, v) in &r.spectrum_pipeline_cfg_msps {
        row(format!("spectrum, pipeline cfg ({k}t)"), *v);
    }
    row("detection (1 core)".into(), r.detect_msps);
    row(format!("pipeline ({} workers)", r.threads), r.pipeline_msps);
    for (k, v) in &r.analyze_msps {
        row(format!("analyze, {k} file"), *v);
    }
    for (k, v) in &r.ratios {
        let _ = writeln!(s, "ratio {k:<40} {v:>5.2}");
    }
    for sw in &r.sweep {
        let _ = writeln!(
            s,
            "sweep, {} dwells, border plan on driver=kuzetsim: {}; cycle {:.2} s",
            sw.dwell, sw.plan, sw.cycle_s
        );
        let _ = writeln!(
            s,
            "  {:.3} GHz/s of stream; the pipeline on the unpaced simulator {:.3} GHz/s of wall time",
            sw.stream_ghz_per_s, sw.pipeline_ghz_per_s
        );
        for (k, v) in &sw.cpu_s_per_ghz {
            let _ = writeln!(s, "  CPU-s per GHz swept, {k:<26} {v:>8.3}");
        }
        for (k, v) in &sw.ratios {
            let _ = writeln!(s, "  ratio {k:<38} {v:>8.3}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threaded_spectra_equal_the_single_threaded_ones_in_order() {
        let cfg = {
            let mut c = SpectrumConfig::new(256, 50, 1, WindowKind::Hann);
            c.averages = 20;
            c
        };
        let input: Vec<Complex32> = (0..cfg.history() + 7 * cfg.span())
            .map(|i| Complex32::new((i as f32 * 0.37).sin(), (i as f32 * 0.11).cos()))
            .collect();
        let mut one = vec![0.0; 7 * 256];
        Welch::new(cfg).process_db(&input, &mut one);
        // The same split the benchmark uses, written out by hand.
        let mut two = vec![0.0; 7 * 256];
        let (a, b) = two.split_at_mut(4 * 256);
        Welch::new(cfg).process_db(&input[..4 * cfg.span() + cfg.history()], a);
        Welch::new(cfg).process_db(&input[4 * cfg.span()..], b);
        assert_eq!(one, two);
        assert!(spectrum_msps(cfg, &input, 2, 1) > 0.0);
    }

    #[test]
    fn table_lists_every_figure_in_real_time_multiples() {
        let r = BenchReport {
            cpu: "test cpu".into(),
            simd: simd_level().into(),
            threads: 2,
            spectrum_msps: [
                ("1024/50".to_string(), 240.0),
                ("256/50".to_string(), 300.0),
            ]
            .into_iter()
            .collect(),
            spectrum_2t_msps: [("1024/50".to_string(), 480.0)].into_iter().collect(),
            detect_msps: 1000.0,
            pipeline_msps: 400.0,
            pipeline_config: "FFT 1024".into(),
            spectrum_pipeline_cfg_msps: [("1".to_string(), 250.0), ("2".to_string(), 480.0)]
                .into_iter()
                .collect(),
            analyze_msps: [("cf32".to_string(), 300.0)].into_iter().collect(),
            ratios: [("spectrum_2t_over_1t".to_string(), 1.92)]
                .into_iter()
                .collect(),
            sweep: vec![SweepFigures {
                dwell: "20 ms".into(),
                plan: "65 steps".into(),
                cycle_s: 2.68,
                stream_ghz_per_s: 0.31,
                pipeline_ghz_per_s: 0.62,
                cpu_s_per_ghz: [("detection".to_string(), 0.125)].into_iter().collect(),
                ratios: [("detection_over_spectrum".to_string(), 0.5)]
                    .into_iter()
                    .collect(),
            }],
        };
        let t = render_table(&r);
        assert!(t.contains("spectrum 256/50 (1 core)"), "{t}");
        // 240 MS/s is 100x an RTL-SDR.
        assert!(t.contains("100.0"), "{t}");
        assert!(t.find("256/50").unwrap() < t.find("1024/50").unwrap());
        assert!(t.contains("analyze, cf32 file"), "{t}");
        assert!(t.contains("spectrum_2t_over_1t"), "{t}");
        assert!(
            t.contains("sweep, 20 ms dwells") && t.contains("0.310 GHz/s of stream"),
            "{t}"
        );
        assert!(
            t.contains("CPU-s per GHz swept, detection") && t.contains("0.125"),
            "{t}"
        );
        let json = serde_json::to_value(&r).unwrap();
        for key in [
            "cpu",
            "simd",
            "threads",
            "spectrum_msps",
            "spectrum_2t_msps",
            "detect_msps",
            "pipeline_msps",
            "analyze_msps",
            "ratios",
            "sweep",
        ] {
            assert!(json.get(key).is_some(), "{key}");
        }
    }
}
