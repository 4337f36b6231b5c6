//! The scene simulator: a deterministic (seeded) generator of complex baseband with known
//! emitters, used to make captures with ground truth, to test the detector end to end and
//! to benchmark without a file.
//!
//! Levels: `noise_dbfs` is the total power of the complex white noise over the whole
//! sample rate (0 dBFS = a full-scale complex tone). Each emitter's `snr_db` is in-band:
//! its power over the noise power inside its own `bandwidth_hz` (for a CW carrier, the
//! nominal channel, 25 kHz by default). A jammer's SNR is how far it lifts the floor
//! inside its band, roughly.
//!
//! Every emitter draws from its own random stream, so adding one leaves the others (and
//! the noise) unchanged, and a capture is identical for any block size.

use std::f64::consts::TAU;
use std::path::Path;

use num_complex::{Complex32, Complex64};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::source::{IqSource, ReadOutcome, SampleBuf};
use crate::types::Annotation;
use crate::types::StreamMeta;
use crate::units::Hz;

/// Longest symbol a GFSK or hopping emitter may have, in samples.
const MAX_SAMPLES_PER_SYMBOL: f64 = 10_000.0;

/// Most channels a hopper may use: more than any real link, and each burst shuffles them.
const MAX_HOPS: usize = 1024;

/// Kinds of emitters the simulator can place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmitterKind {
    /// Unmodulated carrier.
    Cw,
    /// Narrowband FM with a voice-like modulating signal (tones with a syllabic envelope).
    Fm,
    /// A train of GFSK packets (BT 0.5, h 0.5) at one frequency.
    Gfsk,
    /// GFSK bursts hopping over a set of frequencies (drone RC links).
    Hopper,
    /// Band-limited Gaussian noise (a barrage jammer).
    Jammer,
}

impl EmitterKind {
    /// Name used in annotations (`synth/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            EmitterKind::Cw => "cw",
            EmitterKind::Fm => "fm",
            EmitterKind::Gfsk => "gfsk",
            EmitterKind::Hopper => "hopper",
            EmitterKind::Jammer => "jammer",
        }
    }

    /// Parses the `type` names used in scenarios and on the command line.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "cw" => EmitterKind::Cw,
            "fm" => EmitterKind::Fm,
            "gfsk" => EmitterKind::Gfsk,
            "hopper" => EmitterKind::Hopper,
            "jammer" => EmitterKind::Jammer,
            _ => return None,
        })
    }
}

/// One emitter of a scene, as written in a scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmitterSpec {
    /// What it is.
    #[serde(rename = "type")]
    pub kind: EmitterKind,
    /// Label in the ground truth (default: the type and the index).
    #[serde(default)]
    pub name: Option<String>,
    /// Centre, relative to the scene's centre frequency.
    #[serde(default = "zero_hz")]
    pub offset_hz: Hz,
    /// Occupied bandwidth (per hop for a hopper). Defaults: CW 25 kHz (reference for the
    /// SNR), FM 12.5 kHz, GFSK 50 kHz, hopper 100 kHz, jammer 80% of the sample rate.
    #[serde(default)]
    pub bandwidth_hz: Option<Hz>,
    /// In-band signal-to-noise ratio.
    pub snr_db: f64,
    /// Switch-on time.
    #[serde(default)]
    pub start_s: f64,
    /// Switch-off time (default: end of the scene).
    #[serde(default)]
    pub stop_s: Option<f64>,
    /// GFSK: packet length (default 5 ms).
    #[serde(default)]
    pub burst_ms: Option<f64>,
    /// GFSK: packet period (default 100 ms).
    #[serde(default)]
    pub period_ms: Option<f64>,
    /// Hopper: number of hop frequencies (default 16).
    #[serde(default)]
    pub hops: Option<usize>,
    /// Hopper: time on each frequency (default 10 ms).
    #[serde(default)]
    pub dwell_ms: Option<f64>,
    /// Hopper: span of the hop set, centre to centre (default 60% of the sample rate).
    #[serde(default)]
    pub span_hz: Option<Hz>,
}

impl EmitterSpec {
    /// An emitter of `kind` at `offset_hz` from the centre and `snr_db`, on for the whole
    /// scene, every other setting at its default.
    pub fn new(kind: EmitterKind, offset_hz: f64, snr_db: f64) -> Self {
        EmitterSpec {
            kind,
            name: None,
            offset_hz: Hz(offset_hz),
            bandwidth_hz: None,
            snr_db,
            start_s: 0.0,
            stop_s: None,
            burst_ms: None,
            period_ms: None,
            hops: None,
            dwell_ms: None,
            span_hz: None,
        }
    }
}

fn zero_hz() -> Hz {
    Hz(0.0)
}

fn default_noise() -> f64 {
    -50.0
}

/// A scene: the stream parameters, the noise floor and the emitters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Complex samples per second.
    pub sample_rate_hz: Hz,
    /// RF frequency at baseband 0 Hz.
    #[serde(default = "zero_hz")]
    pub center_freq_hz: Hz,
    /// Length of the scene.
    pub duration_s: f64,
    /// Total power of the complex white noise over the band, dBFS.
    #[serde(default = "default_noise")]
    pub noise_dbfs: f64,
    /// Random seed; the same seed gives the same samples.
    #[serde(default)]
    pub seed: u64,
    /// Free text stored in the capture.
    #[serde(default)]
    pub description: String,
    /// The emitters.
    #[serde(default, rename = "emitter")]
    pub emitters: Vec<EmitterSpec>,
}

impl Scene {
    /// Reads and validates a scenario TOML file.
    ///
    /// # Errors
    /// [`Error::InvalidFile`] with the line and field for syntax errors, unknown fields
    /// and out-of-range values.
    pub fn load(path: &Path) -> Result<Scene> {
        let text = crate::formats::read_settings(path)?;
        let invalid = |msg: String| Error::InvalidFile {
            path: path.to_path_buf(),
            msg,
        };
        let scene: Scene = toml::from_str(&text).map_err(|e| invalid(one_line(&e)))?;
        scene.validate().map_err(invalid)?;
        Ok(scene)
    }

    /// Checks ranges and cross-field rules; the message names the field.
    ///
    /// # Errors
    /// A message naming the first invalid field.
    pub fn validate(&self) -> Result<(), String> {
        let fs = self.sample_rate_hz.0;
        if let Some(why) = crate::types::check_sample_rate(fs) {
            return Err(format!("sample_rate_hz {why}"));
        }
        if !(self.duration_s > 0.0 && self.duration_s.is_finite()) {
            return Err(format!(
                "duration_s must be positive, got {}",
                self.duration_s
            ));
        }
        if !self.noise_dbfs.is_finite() || self.noise_dbfs > 0.0 {
            return Err(format!(
                "noise_dbfs must be at most 0, got {}",
                self.noise_dbfs
            ));
        }
        for (i, e) in self.emitters.iter().enumerate() {
            let at = format!("emitter {} ({})", i + 1, self.emitter_name(i));
            let bw = self.bandwidth(i);
            if !(bw > 0.0 && bw <= fs) {
                return Err(format!("{at}: bandwidth_hz must be in (0, {fs}], got {bw}"));
            }
            let (lo, hi) = self.extent_hz(i);
            if lo < -fs / 2.0 || hi > fs / 2.0 {
                return Err(format!(
                    "{at}: occupies {lo:.0}..{hi:.0} Hz from centre, outside the band ±{:.0} Hz",
                    fs / 2.0
                ));
            }
            if !e.snr_db.is_finite() || e.snr_db > 80.0 {
                return Err(format!("{at}: snr_db must be at most 80, got {}", e.snr_db));
            }
            let stop = e.stop_s.unwrap_or(self.duration_s);
            if !(e.start_s >= 0.0 && stop > e.start_s) {
                return Err(format!(
                    "{at}: needs 0 <= start_s < stop_s, got {}..{stop}",
                    e.start_s
                ));
            }
            // The pulse-shaping filter spans three symbols of 1.5 / bandwidth each: a
            // bandwidth far below the rate would make it millions of taps long.
            let min_bw = fs / MAX_SAMPLES_PER_SYMBOL;
            if matches!(e.kind, EmitterKind::Gfsk | EmitterKind::Hopper) && bw < min_bw {
                return Err(format!(
                    "{at}: bandwidth_hz must be at least {min_bw} (the rate / {MAX_SAMPLES_PER_SYMBOL}), got {bw}"
                ));
            }
            let scene_ms = self.duration_s * 1e3;
            match e.kind {
                EmitterKind::Gfsk => {
                    let (burst, period) = (e.burst_ms.unwrap_or(5.0), e.period_ms.unwrap_or(100.0));
                    if !(burst > 0.0 && period >= burst && period.is_finite()) {
                        return Err(format!(
                            "{at}: needs 0 < burst_ms <= period_ms, got {burst}/{period}"
                        ));
                    }
                    // Each burst's bits are drawn at once: bounded by the scene.
                    if burst > scene_ms {
                        return Err(format!(
                            "{at}: burst_ms must be at most the scene's length ({scene_ms} ms), got {burst}"
                        ));
                    }
                }
                EmitterKind::Hopper => {
                    let hops = e.hops.unwrap_or(16);
                    if !(2..=MAX_HOPS).contains(&hops) {
                        return Err(format!("{at}: hops must be in 2..={MAX_HOPS}, got {hops}"));
                    }
                    let dwell = e.dwell_ms.unwrap_or(10.0);
                    if !(dwell > 0.0 && dwell <= scene_ms) {
                        return Err(format!(
                            "{at}: dwell_ms must be in (0, {scene_ms}] (the scene's length), got {dwell}"
                        ));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Number of samples in the scene.
    pub fn total_samples(&self) -> u64 {
        (self.duration_s * self.sample_rate_hz.0).round() as u64
    }

    fn emitter_name(&self, i: usize) -> String {
        let e = &self.emitters[i];
        e.name
            .clone()
            .unwrap_or_else(|| format!("{}-{}", e.kind.name(), i + 1))
    }

    fn bandwidth(&self, i: usize) -> f64 {
        let e = &self.emitters[i];
        e.bandwidth_hz.map(|h| h.0).unwrap_or(match e.kind {
            EmitterKind::Cw => 25e3,
            EmitterKind::Fm => 12.5e3,
            EmitterKind::Gfsk => 50e3,
            EmitterKind::Hopper => 100e3,
            EmitterKind::Jammer => 0.8 * self.sample_rate_hz.0,
        })
    }

    fn span(&self, i: usize) -> f64 {
        self.emitters[i]
            .span_hz
            .map(|h| h.0)
            .unwrap_or(0.6 * self.sample_rate_hz.0)
    }

    /// Occupied band of emitter `i`, relative to the centre.
    fn extent_hz(&self, i: usize) -> (f64, f64) {
        let e = &self.emitters[i];
        let bw = self.bandwidth(i);
        let half = match e.kind {
            EmitterKind::Cw => 0.0,
            EmitterKind::Hopper => self.span(i) / 2.0 + bw / 2.0,
            _ => bw / 2.0,
        };
        (e.offset_hz.0 - half, e.offset_hz.0 + half)
    }

    /// The ground truth: one annotation per emitter, absolute frequencies, labelled with
    /// the emitter's name, source `synth/<type>`.
    pub fn annotations(&self) -> Vec<Annotation> {
        let fs = self.sample_rate_hz.0;
        let total = self.total_samples();
        (0..self.emitters.len())
            .map(|i| {
                let e = &self.emitters[i];
                let start = ((e.start_s * fs).round() as u64).min(total);
                let stop = ((e.stop_s.unwrap_or(self.duration_s) * fs).round() as u64).min(total);
                let (lo, hi) = self.extent_hz(i);
                Annotation {
                    start_sample: start,
                    length: stop.saturating_sub(start),
                    freq_lo_hz: self.center_freq_hz.0 + lo,
                    freq_hi_hz: self.center_freq_hz.0 + hi,
                    label: self.emitter_name(i),
                    source: format!("synth/{}", e.kind.name()),
                }
            })
            .collect()
    }

    /// The stream description a capture of this scene carries.
    pub fn meta(&self) -> StreamMeta {
        StreamMeta {
            sample_rate_hz: self.sample_rate_hz.0,
            center_freq_hz: self.center_freq_hz.0,
            start_time_utc: Some("2026-01-01T00:00:00Z".into()),
            gain_db: None,
            device: format!("kuzet synth (seed {})", self.seed),
            description: self.description.clone(),
            origin: "synth".into(),
            total_samples: Some(self.total_samples()),
            live: false,
        }
    }

    /// RMS amplitude of the whole scene when every emitter is on: sizes integer formats.
    pub fn peak_rms(&self) -> f64 {
        let fs = self.sample_rate_hz.0;
        let n0 = db_to_power(self.noise_dbfs) / fs;
        let signals: f64 = (0..self.emitters.len())
            .map(|i| n0 * self.bandwidth(i) * db_to_power(self.emitters[i].snr_db))
            .sum();
        (db_to_power(self.noise_dbfs) + signals).sqrt()
    }
}

/// A `toml` error on one line: "line 3, column 7: unknown field `snr`, expected ...".
fn one_line(e: &toml::de::Error) -> String {
    let msg = e.message().replace('\n', " ");
    match e.span() {
        Some(_) => {
            // toml's Display has the line; keep only its first line.
            let full = e.to_string();
            let first = full.lines().next().unwrap_or("").trim_end_matches(':');
            format!(
                "{}: {msg}",
                first.trim_start_matches("TOML parse error at ").trim()
            )
        }
        None => msg,
    }
}

fn db_to_power(db: f64) -> f64 {
    10f64.powf(db / 10.0)
}

/// Adds one emitter's signal into a block of samples.
trait Generator: Send {
    /// Adds the samples `[start, start + out.len())` of this emitter to `out`.
    fn add(&mut self, start: u64, out: &mut [Complex32]);
}

/// Complex phasor at `freq` (cycles per sample), exact at each block start and advanced
/// by complex multiplication within the block: cheap and drift-free.
#[derive(Debug, Clone, Copy)]
struct Phasor {
    cycles_per_sample: f64,
    phase0: f64,
}

impl Phasor {
    fn at(&self, n: u64) -> Complex64 {
        // Wrap the phase in f64 before the trig so long captures keep full precision.
        let turns = (self.cycles_per_sample * n as f64 + self.phase0).fract();
        Complex64::from_polar(1.0, TAU * turns)
    }
    fn step(&self) -> Complex64 {
        Complex64::from_polar(1.0, TAU * self.cycles_per_sample)
    }
}

struct Cw {
    amp: f64,
    phasor: Phasor,
}

impl Generator for Cw {
    fn add(&mut self, start: u64, out: &mut [Complex32]) {
        let mut p = self.phasor.at(start) * self.amp;
        let step = self.phasor.step();
        for o in out {
            *o += Complex32::new(p.re as f32, p.im as f32);
            p *= step;
        }
    }
}

/// Narrowband FM: three audio tones under a ~4 Hz syllabic envelope, like speech.
struct Fm {
    amp: f64,
    fs: f64,
    carrier: f64,
    deviation: f64,
    tones: [(f64, f64); 3],
    phase: f64,
    next: u64,
}

impl Fm {
    fn message(&self, n: u64) -> f64 {
        let t = n as f64 / self.fs;
        let envelope = 0.55 + 0.45 * (TAU * 3.7 * t).sin() * (TAU * 0.6 * t).cos();
        let sum: f64 = self
            .tones
            .iter()
            .map(|&(f, ph)| (TAU * f * t + ph).sin())
            .sum();
        envelope * sum / 3.0
    }
}

impl Generator for Fm {
    fn add(&mut self, start: u64, out: &mut [Complex32]) {
        // The phase integrates the message, so it must be advanced sample by sample from
        // wherever the last call stopped (blocks arrive in order).
        debug_assert_eq!(start, self.next);
        for (k, o) in out.iter_mut().enumerate() {
            let n = start + k as u64;
            let f = self.carrier + self.deviation * self.message(n);
            let (s, c) = (TAU * self.phase).sin_cos();
            *o += Complex32::new((self.amp * c) as f32, (self.amp * s) as f32);
            self.phase = (self.phase + f / self.fs).fract();
        }
        self.next = start + out.len() as u64;
    }
}

/// One GFSK packet: start sample, length, centre (cycles/sample), bits.
struct Burst {
    start: u64,
    len: u64,
    carrier: f64,
    bits: Vec<i8>,
}

/// GFSK bursts, either a fixed-frequency packet train or a hopper.
struct Gfsk {
    amp: f64,
    fs: f64,
    sps: f64,
    deviation: f64,
    /// Gaussian-filtered rectangular frequency pulse over 3 symbols, sampled per sample.
    pulse: Vec<f64>,
    /// The burst that contains sample n, or the next one after it.
    schedule: Box<dyn Fn(u64) -> Burst + Send>,
    current: Option<Burst>,
    phase: f64,
}

impl Gfsk {
    fn new(
        amp: f64,
        fs: f64,
        symbol_rate: f64,
        schedule: Box<dyn Fn(u64) -> Burst + Send>,
    ) -> Self {
        let sps = fs / symbol_rate;
        let bt = 0.5;
        // Gaussian-smoothed rectangle: ½[erf(a(t+T/2)) - erf(a(t-T/2))], a = π·BT·√(2/ln2)/T.
        let a = std::f64::consts::PI * bt * (2.0 / std::f64::consts::LN_2).sqrt();
        let n = (3.0 * sps).ceil() as usize;
        let pulse = (0..n)
            .map(|i| {
                let t = (i as f64 - 1.5 * sps) / sps; // in symbols, centred
                0.5 * (erf(a * (t + 0.5)) - erf(a * (t - 0.5)))
            })
            .collect();
        Gfsk {
            amp,
            fs,
            sps,
            deviation: 0.25 * symbol_rate, // h = 0.5
            pulse,
            schedule,
            current: None,
            phase: 0.0,
        }
    }

    fn freq_at(&self, b: &Burst, i: u64) -> f64 {
        // Symbols k-1, k, k+1 overlap sample i; the pulse table is indexed by the offset
        // from the start of the symbol before.
        let pos = i as f64;
        let k = (pos / self.sps).floor() as i64;
        let mut f = 0.0;
        for s in (k - 1)..=(k + 1) {
            if s < 0 || s as usize >= b.bits.len() {
                continue;
            }
            let idx = (pos - (s as f64 - 1.0) * self.sps) as usize;
            if let Some(g) = self.pulse.get(idx) {
                f += b.bits[s as usize] as f64 * g;
            }
        }
        f
    }
}

impl Generator for Gfsk {
    fn add(&mut self, start: u64, out: &mut [Complex32]) {
        let end = start + out.len() as u64;
        let mut n = start;
        while n < end {
            if self.current.as_ref().is_none_or(|b| b.start + b.len <= n) {
                self.current = Some((self.schedule)(n));
            }
            let Some(b) = self.current.take() else { break };
            if b.start >= end {
                self.current = Some(b);
                break;
            }
            let from = n.max(b.start);
            let to = end.min(b.start + b.len);
            let ramp = self.sps.max(1.0);
            for m in from..to {
                let i = m - b.start;
                // Raised-cosine ramps of one symbol at each end keep the burst from splattering.
                let edge = (i as f64).min((b.len - 1 - i) as f64);
                let env = if edge < ramp {
                    0.5 - 0.5 * (std::f64::consts::PI * edge / ramp).cos()
                } else {
                    1.0
                };
                let f = b.carrier + self.deviation / self.fs * self.freq_at(&b, i);
                let (s, c) = (TAU * self.phase).sin_cos();
                let a = self.amp * env;
                out[(m - start) as usize] += Complex32::new((a * c) as f32, (a * s) as f32);
                self.phase = (self.phase + f).fract();
            }
            n = to;
            self.current = Some(b);
        }
    }
}

/// Band-limited Gaussian noise, synthesised in the frequency domain: each period of
/// `JAM_PERIOD` samples is the inverse FFT of independent complex Gaussian bins inside the
/// band and zeros outside, so the band edges are as sharp as the bin spacing (a few Hz)
/// at the cost of one FFT per period. Periods are seeded by index, so any block size gives
/// the same samples.
struct Jammer {
    seed: u64,
    lo_bin: usize,
    hi_bin: usize,
    gain: f64,
    fft: std::sync::Arc<dyn rustfft::Fft<f64>>,
    block: Vec<Complex64>,
    period: Option<u64>,
}

/// Samples per independently drawn jammer period (a power of two for the FFT).
const JAM_PERIOD: usize = 1 << 16;

impl Jammer {
    fn fill_period(&mut self, p: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, p));
        self.block.fill(Complex64::new(0.0, 0.0));
        for k in self.lo_bin..=self.hi_bin {
            let re: f64 = StandardNormal.sample(&mut rng);
            let im: f64 = StandardNormal.sample(&mut rng);
            // Bin k of the (unshifted) FFT: negative offsets wrap to the top.
            self.block[k % JAM_PERIOD] = Complex64::new(re, im);
        }
        self.fft.process(&mut self.block);
        self.period = Some(p);
    }
}

impl Generator for Jammer {
    fn add(&mut self, start: u64, out: &mut [Complex32]) {
        for (i, o) in out.iter_mut().enumerate() {
            let n = start + i as u64;
            let p = n / JAM_PERIOD as u64;
            if self.period != Some(p) {
                self.fill_period(p);
            }
            let v = self.block[(n % JAM_PERIOD as u64) as usize] * self.gain;
            *o += Complex32::new(v.re as f32, v.im as f32);
        }
    }
}

/// An emitter active over a sample range.
struct Active {
    from: u64,
    to: u64,
    gen: Box<dyn Generator>,
}

/// A scene rendered sample by sample: an [`IqSource`] that never touches the disk.
pub struct SynthSource {
    meta: StreamMeta,
    noise_sigma: f32,
    noise_rng: ChaCha8Rng,
    emitters: Vec<Active>,
    pos: u64,
    total: u64,
}

impl std::fmt::Debug for SynthSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SynthSource")
            .field("meta", &self.meta)
            .field("pos", &self.pos)
            .finish()
    }
}

/// Index of the slot (of `len` samples every `period` from `from`) containing `n`, or of
/// the next slot when `n` falls in a gap.
fn next_slot(n: u64, from: u64, period: u64, len: u64) -> u64 {
    let k = n.saturating_sub(from) / period;
    if from + k * period + len <= n {
        k + 1
    } else {
        k
    }
}

/// A seed for item `k` of a stream: SplitMix64 of the pair, so items are independent.
fn mix(seed: u64, k: u64) -> u64 {
    let mut z = seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn random_bits(seed: u64, n: usize) -> Vec<i8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| if rng.random::<bool>() { 1 } else { -1 })
        .collect()
}

fn erf(x: f64) -> f64 {
    // Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: ample for a pulse shape.
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

impl SynthSource {
    /// Builds the generators for a validated scene.
    ///
    /// # Errors
    /// [`Error::Config`] when the scene does not validate.
    pub fn new(scene: &Scene) -> Result<Self> {
        scene.validate().map_err(Error::Config)?;
        let fs = scene.sample_rate_hz.0;
        let n0 = db_to_power(scene.noise_dbfs) / fs;
        let total = scene.total_samples();
        let mut emitters = Vec::new();
        for (i, e) in scene.emitters.iter().enumerate() {
            // Independent stream per emitter, so adding one leaves the others unchanged.
            let stream_seed = mix(scene.seed, i as u64 + 1);
            let mut rng = ChaCha8Rng::seed_from_u64(stream_seed);
            let bw = scene.bandwidth(i);
            let power = n0 * bw * db_to_power(e.snr_db);
            let amp = power.sqrt();
            let carrier = e.offset_hz.0 / fs;
            let from = ((e.start_s * fs).round() as u64).min(total);
            let to = ((e.stop_s.unwrap_or(scene.duration_s) * fs).round() as u64).min(total);
            let gen: Box<dyn Generator> = match e.kind {
                EmitterKind::Cw => Box::new(Cw {
                    amp,
                    phasor: Phasor {
                        cycles_per_sample: carrier,
                        phase0: rng.random(),
                    },
                }),
                EmitterKind::Fm => {
                    let deviation = (bw / 2.0 - 3000.0).max(bw / 6.0);
                    let mut tone =
                        |lo: f64, hi: f64| (rng.random_range(lo..hi), rng.random_range(0.0..TAU));
                    let tones = [
                        tone(300.0, 600.0),
                        tone(700.0, 1400.0),
                        tone(1500.0, 2800.0),
                    ];
                    Box::new(Fm {
                        amp,
                        fs,
                        carrier: e.offset_hz.0,
                        deviation,
                        tones,
                        phase: 0.0,
                        next: from,
                    })
                }
                EmitterKind::Gfsk => {
                    let symbol_rate = bw / 1.5;
                    let burst = (e.burst_ms.unwrap_or(5.0) * 1e-3 * fs).round().max(1.0) as u64;
                    let period = (e.period_ms.unwrap_or(100.0) * 1e-3 * fs).round().max(1.0) as u64;
                    let nbits = (burst as f64 * symbol_rate / fs).ceil() as usize + 1;
                    let schedule = move |n: u64| -> Burst {
                        let k = next_slot(n, from, period, burst);
                        Burst {
                            start: from + k * period,
                            len: burst,
                            carrier,
                            bits: random_bits(mix(stream_seed, k), nbits),
                        }
                    };
                    Box::new(Gfsk::new(amp, fs, symbol_rate, Box::new(schedule)))
                }
                EmitterKind::Hopper => {
                    let symbol_rate = bw / 1.5;
                    let hops = e.hops.unwrap_or(16);
                    let span = scene.span(i);
                    let dwell = (e.dwell_ms.unwrap_or(10.0) * 1e-3 * fs).round().max(2.0) as u64;
                    // 10% of each dwell is silent while the synthesizer retunes.
                    let on = (dwell as f64 * 0.9) as u64;
                    let nbits = (on as f64 * symbol_rate / fs).ceil() as usize + 1;
                    let channels: Vec<f64> = (0..hops)
                        .map(|h| {
                            (e.offset_hz.0 - span / 2.0 + span * h as f64 / (hops - 1) as f64) / fs
                        })
                        .collect();
                    let schedule = move |n: u64| -> Burst {
                        let k = next_slot(n, from, dwell, on);
                        // Each cycle visits every channel once, in a fresh random order.
                        let cycle = k / hops as u64;
                        let mut order: Vec<usize> = (0..hops).collect();
                        let mut shuffle = ChaCha8Rng::seed_from_u64(mix(!stream_seed, cycle));
                        for j in (1..hops).rev() {
                            order.swap(j, shuffle.random_range(0..=j));
                        }
                        Burst {
                            start: from + k * dwell,
                            len: on,
                            carrier: channels[order[(k % hops as u64) as usize]],
                            bits: random_bits(mix(stream_seed, k), nbits),
                        }
                    };
                    Box::new(Gfsk::new(amp, fs, symbol_rate, Box::new(schedule)))
                }
                EmitterKind::Jammer => {
                    let bin_hz = fs / JAM_PERIOD as f64;
                    let lo = ((e.offset_hz.0 - bw / 2.0) / bin_hz).round() as i64;
                    let hi = ((e.offset_hz.0 + bw / 2.0) / bin_hz).round() as i64;
                    // Offsets are relative to the centre: shift by one period to index bins.
                    let (lo_bin, hi_bin) = (
                        (lo + JAM_PERIOD as i64) as usize,
                        (hi + JAM_PERIOD as i64) as usize,
                    );
                    let bins = (hi - lo + 1).max(1) as f64;
                    let _ = &mut rng;
                    Box::new(Jammer {
                        seed: stream_seed,
                        lo_bin,
                        hi_bin,
                        // Each bin is CN(0, 2) here (unit-variance parts); the unscaled
                        // inverse FFT sums `bins` of them per sample.
                        gain: (power / (2.0 * bins)).sqrt(),
                        fft: rustfft::FftPlanner::<f64>::new().plan_fft_inverse(JAM_PERIOD),
                        block: vec![Complex64::new(0.0, 0.0); JAM_PERIOD],
                        period: None,
                    })
                }
            };
            emitters.push(Active { from, to, gen });
        }
        Ok(SynthSource {
            meta: scene.meta(),
            noise_sigma: (db_to_power(scene.noise_dbfs) / 2.0).sqrt() as f32,
            noise_rng: ChaCha8Rng::seed_from_u64(scene.seed),
            emitters,
            pos: 0,
            total,
        })
    }
}

impl IqSource for SynthSource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        let buf = buf.cf32()?;
        let n = (buf.len() as u64).min(self.total - self.pos) as usize;
        if n == 0 {
            return Ok(ReadOutcome::Eof);
        }
        let out = &mut buf[..n];
        for o in out.iter_mut() {
            let re: f32 = StandardNormal.sample(&mut self.noise_rng);
            let im: f32 = StandardNormal.sample(&mut self.noise_rng);
            *o = Complex32::new(re * self.noise_sigma, im * self.noise_sigma);
        }
        let (start, end) = (self.pos, self.pos + n as u64);
        for e in &mut self.emitters {
            let (from, to) = (e.from.max(start), e.to.min(end));
            if from < to {
                let slice = &mut out[(from - start) as usize..(to - start) as usize];
                e.gen.add(from, slice);
            }
        }
        self.pos = end;
        Ok(ReadOutcome::Samples(n))
    }
}
