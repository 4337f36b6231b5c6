//! Live radios through SoapySDR: device discovery, settings validated against the
//! device's ranges, and [`SoapySource`], the live [`IqSource`] at the head of the pipeline.
//!
//! ```text
//!  libSoapySDR ──readStream (MTU-sized, native CS16/CS8 or CF32)──▶ SoapySource ──▶ Framer
//!                 timeout → Pending · overflow → Lost(n) · error → DeviceLost … retry … DeviceRestored
//! ```
//!
//! Integer formats are read in the device's native type and converted to `Complex32` here:
//! it halves (CS16) or quarters (CS8) the bytes libSoapySDR moves and its converters are
//! slower than a loop the compiler vectorises. A device that fails while streaming is not
//! an error for the run: the source reports `DeviceLost`, retries with backoff (a fresh
//! stream on the same handle, then a fresh handle), and reports `DeviceRestored`.

pub mod sim;
pub mod sweep;

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use num_complex::{Complex, Complex32};
use soapysdr::{Device, Direction, ErrorCode, Format, Range, RxStream};

use crate::error::{Error, Result};
use crate::formats::samples::{ci16_to_cf32, ci8_to_cf32};
use crate::source::{IqSource, ReadOutcome, SampleBuf};
use crate::types::SourceEvent;
use crate::types::StreamMeta;
use crate::units;

const RX: Direction = Direction::Rx;

/// How long one read waits for data: short enough that Ctrl-C and `--duration` are
/// honoured promptly, long enough not to spin.
const READ_TIMEOUT_US: i64 = 100_000;
/// Samples per read target; the read size is the smallest multiple of the MTU at or above
/// it, so one pipeline block takes a handful of reads, not hundreds.
const READ_TARGET: usize = 1 << 16;
/// First and largest wait between reconnection attempts.
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// While waiting to reconnect, return `Pending` at least this often so the pipeline can
/// see a stop request.
const IDLE_POLL: Duration = Duration::from_millis(50);

/// Receiver gain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gain {
    /// Leave the device's gain as it is.
    Unchanged,
    /// Automatic gain control.
    Auto,
    /// Manual overall gain, dB.
    Db(f64),
}

impl Gain {
    /// Parses `30`, `30dB` or `auto`.
    ///
    /// # Errors
    /// A message naming the text.
    pub fn parse(text: &str) -> std::result::Result<Gain, String> {
        let t = text.trim().to_ascii_lowercase();
        if t == "auto" || t == "agc" {
            return Ok(Gain::Auto);
        }
        let num = t.strip_suffix("db").unwrap_or(&t).trim();
        match num.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Gain::Db(v)),
            _ => Err(format!("`{text}` is not a gain (examples: 30, 12.5, auto)")),
        }
    }
}

/// What to tune a receiver to.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceSettings {
    /// SoapySDR device arguments (`driver=rtlsdr,serial=…`).
    pub args: String,
    /// Centre frequency, Hz.
    pub freq_hz: f64,
    /// Sample rate, samples per second.
    pub rate_sps: f64,
    /// Gain.
    pub gain: Gain,
    /// Antenna port, when not the device's default.
    pub antenna: Option<String>,
    /// Analog filter bandwidth, when not the device's default.
    pub bandwidth_hz: Option<f64>,
    /// Reference oscillator error in parts per million (positive: runs fast); kuzet
    /// retunes so that reported frequencies are true.
    pub ppm: f64,
    /// Receive channel.
    pub channel: usize,
}

/// Quiets libSoapySDR's log (set while a full-screen console owns the terminal).
pub static LOG_QUIET: AtomicBool = AtomicBool::new(false);

/// libSoapySDR's messages (module warnings, the simulator's "unplugged") on stderr with
/// kuzet's prefix, warnings and worse only; the soapysdr crate forwards them to `log`.
struct SoapyLog;

impl log::Log for SoapyLog {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn && !LOG_QUIET.load(Ordering::Relaxed)
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            let _ = writeln!(std::io::stderr().lock(), "kuzet: soapysdr: {}", r.args());
        }
    }
    fn flush(&self) {}
}

/// Prepares libSoapySDR: registers the built-in simulator and routes its log. Every entry
/// point here calls it; it runs once.
pub fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        static LOGGER: SoapyLog = SoapyLog;
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Warn);
        }
        soapysdr::configure_logging();
        if !sim::register() {
            let _ = writeln!(
                std::io::stderr().lock(),
                "kuzet: warning: libSoapySDR rejected the built-in simulator (ABI mismatch)"
            );
        }
    });
}

fn device_err(args: &str, msg: impl Into<String>) -> Error {
    Error::Device {
        args: args.to_string(),
        msg: msg.into(),
    }
}

/// Lists the devices SoapySDR can see, each as the arguments that open it.
///
/// # Errors
/// [`Error::DeviceFailed`] when enumeration itself fails.
pub fn list_devices() -> Result<Vec<Vec<(String, String)>>> {
    init();
    let found = soapysdr::enumerate("").map_err(|e| Error::DeviceFailed {
        args: String::new(),
        msg: format!("enumerating devices: {}", e.message),
    })?;
    Ok(found
        .iter()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect())
}

/// Opens a device by its arguments.
fn make(args: &str) -> Result<Device> {
    init();
    Device::new(args).map_err(|e| {
        let why = e.message.trim();
        if why.contains("no match") {
            device_err(
                args,
                "no SoapySDR device matches (unknown driver, or not attached); \
                 `kuzet devices` lists what is available",
            )
        } else {
            device_err(args, format!("cannot open the device: {why}"))
        }
    })
}

fn soapy_msg(what: &str, e: &soapysdr::Error) -> String {
    format!("{what}: {}", e.message.trim())
}

/// `a–b unit` for each range, scaled for people (`0.1–62 MS/s`, `24 MHz–6 GHz`).
fn format_ranges(ranges: &[Range], kind: Quantity) -> String {
    let top = ranges.iter().map(|r| r.maximum.abs()).fold(0.0, f64::max);
    let (scale, unit) = kind.unit_for(top);
    let num = |v: f64| {
        let s = format!("{:.4}", v / scale);
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    let parts: Vec<String> = ranges
        .iter()
        .map(|r| {
            if r.minimum == r.maximum {
                num(r.minimum)
            } else {
                format!("{}–{}", num(r.minimum), num(r.maximum))
            }
        })
        .collect();
    format!("{} {unit}", parts.join(", "))
}

#[derive(Clone, Copy)]
enum Quantity {
    Freq,
    Rate,
    Gain,
}

impl Quantity {
    fn unit_for(self, v: f64) -> (f64, &'static str) {
        match self {
            Quantity::Gain => (1.0, "dB"),
            Quantity::Rate if v >= 1e6 => (1e6, "MS/s"),
            Quantity::Rate if v >= 1e3 => (1e3, "kS/s"),
            Quantity::Rate => (1.0, "S/s"),
            Quantity::Freq if v >= 1e9 => (1e9, "GHz"),
            Quantity::Freq if v >= 1e6 => (1e6, "MHz"),
            Quantity::Freq if v >= 1e3 => (1e3, "kHz"),
            Quantity::Freq => (1.0, "Hz"),
        }
    }
    fn format(self, v: f64) -> String {
        match self {
            Quantity::Rate => units::format_rate(v),
            _ => {
                let (scale, unit) = self.unit_for(v.abs());
                let s = format!("{:.6}", v / scale);
                format!("{} {unit}", s.trim_end_matches('0').trim_end_matches('.'))
            }
        }
    }
}

/// True when `v` is in one of `ranges` (a hair of tolerance for float round trips), or
/// when the driver publishes no ranges at all.
fn in_ranges(v: f64, ranges: &[Range]) -> bool {
    ranges.is_empty()
        || ranges.iter().any(|r| {
            let tol = 1e-9 * r.maximum.abs().max(1.0);
            v >= r.minimum - tol && v <= r.maximum + tol
        })
}

fn check_range(
    args: &str,
    driver: &str,
    what: &str,
    v: f64,
    ranges: &[Range],
    kind: Quantity,
) -> Result<()> {
    if in_ranges(v, ranges) {
        return Ok(());
    }
    let noun = if ranges.len() == 1 { "range" } else { "ranges" };
    Err(device_err(
        args,
        format!(
            "{what} {} is outside driver={driver}'s {noun} {}",
            kind.format(v),
            format_ranges(ranges, kind)
        ),
    ))
}

/// What a device ended up tuned to.
#[derive(Debug, Clone)]
struct Applied {
    driver: String,
    serial: String,
    label: String,
    rate_sps: f64,
    gain_db: Option<f64>,
}

/// Validates every setting against the device's ranges, then applies them.
fn configure(dev: &Device, s: &DeviceSettings) -> Result<Applied> {
    let args = s.args.as_str();
    let failed = |what: &str, e: soapysdr::Error| device_err(args, soapy_msg(what, &e));
    let driver = dev
        .driver_key()
        .map_err(|e| failed("reading the driver name", e))?;
    let ch = s.channel;
    let channels = dev
        .num_channels(RX)
        .map_err(|e| failed("counting channels", e))?;
    if ch >= channels {
        return Err(device_err(
            args,
            format!(
                "channel {ch} does not exist: driver={driver} has {channels} receive channel(s)"
            ),
        ));
    }
    // Validate everything before touching anything: a bad flag leaves the radio as it was.
    let freq_ranges = dev
        .frequency_range(RX, ch)
        .map_err(|e| failed("reading the frequency range", e))?;
    check_range(
        args,
        &driver,
        "frequency",
        s.freq_hz,
        &freq_ranges,
        Quantity::Freq,
    )?;
    let rate_ranges = dev
        .get_sample_rate_range(RX, ch)
        .map_err(|e| failed("reading the sample-rate range", e))?;
    check_range(
        args,
        &driver,
        "sample rate",
        s.rate_sps,
        &rate_ranges,
        Quantity::Rate,
    )?;
    if let Gain::Db(g) = s.gain {
        let r = dev
            .gain_range(RX, ch)
            .map_err(|e| failed("reading the gain range", e))?;
        check_range(args, &driver, "gain", g, &[r], Quantity::Gain)?;
    }
    let has_agc = dev.has_gain_mode(RX, ch).unwrap_or(false);
    if s.gain == Gain::Auto && !has_agc {
        return Err(device_err(
            args,
            format!("driver={driver} has no automatic gain; give --gain in dB"),
        ));
    }
    if let Some(a) = &s.antenna {
        let list = dev
            .antennas(RX, ch)
            .map_err(|e| failed("listing antennas", e))?;
        if !list.iter().any(|x| x == a) {
            return Err(device_err(
                args,
                format!(
                    "antenna {a} is not one of driver={driver}'s antennas: {}",
                    list.join(", ")
                ),
            ));
        }
    }
    if let Some(bw) = s.bandwidth_hz {
        let r = dev
            .bandwidth_range(RX, ch)
            .map_err(|e| failed("reading the bandwidth range", e))?;
        check_range(args, &driver, "bandwidth", bw, &r, Quantity::Freq)?;
    }

    if let Some(a) = &s.antenna {
        dev.set_antenna(RX, ch, a.as_str())
            .map_err(|e| failed("setting the antenna", e))?;
    }
    dev.set_sample_rate(RX, ch, s.rate_sps)
        .map_err(|e| failed("setting the sample rate", e))?;
    if let Some(bw) = s.bandwidth_hz {
        dev.set_bandwidth(RX, ch, bw)
            .map_err(|e| failed("setting the bandwidth", e))?;
    }
    // A crystal fast by P ppm puts the LO at requested·(1+P·1e-6); ask for less so the LO
    // lands on the true frequency. Done here because the soapysdr crate does not expose
    // setFrequencyCorrection, and retuning works on every driver.
    let tune = s.freq_hz / (1.0 + s.ppm * 1e-6);
    dev.set_frequency(RX, ch, tune, ())
        .map_err(|e| failed("setting the frequency", e))?;
    match s.gain {
        Gain::Unchanged => {}
        Gain::Auto => dev
            .set_gain_mode(RX, ch, true)
            .map_err(|e| failed("enabling automatic gain", e))?,
        Gain::Db(g) => {
            if has_agc {
                dev.set_gain_mode(RX, ch, false)
                    .map_err(|e| failed("disabling automatic gain", e))?;
            }
            dev.set_gain(RX, ch, g)
                .map_err(|e| failed("setting the gain", e))?;
        }
    }
    let rate_sps = dev
        .sample_rate(RX, ch)
        .map_err(|e| failed("reading back the sample rate", e))?;
    let agc = has_agc && dev.gain_mode(RX, ch).unwrap_or(false);
    let gain_db = if agc { None } else { dev.gain(RX, ch).ok() };
    let info = dev.hardware_info().ok();
    let from_args: soapysdr::Args = args.into();
    let pick = |key: &str| {
        info.as_ref()
            .and_then(|i| i.get(key).map(str::to_string))
            .or_else(|| from_args.get(key).map(str::to_string))
            .unwrap_or_default()
    };
    Ok(Applied {
        serial: pick("serial"),
        label: pick("label"),
        driver,
        rate_sps,
        gain_db,
    })
}

/// An RX stream in the device's preferred format, with the scratch buffer integer
/// formats are read into.
enum Reader {
    Cf32(RxStream<Complex32>),
    Cs16(RxStream<Complex<i16>>, Vec<Complex<i16>>, f32),
    Cs8(RxStream<Complex<i8>>, Vec<Complex<i8>>, f32),
}

/// Reads per call: the smallest multiple of the MTU at or above [`READ_TARGET`].
fn read_len(mtu: usize) -> usize {
    let mtu = mtu.max(1);
    READ_TARGET.div_ceil(mtu) * mtu
}

impl Reader {
    /// Sets up and activates a stream on channel `ch` in the native format when it is an
    /// integer one kuzet converts itself, CF32 otherwise.
    fn open(
        dev: &Device,
        ch: usize,
    ) -> std::result::Result<(Reader, Format, usize), soapysdr::Error> {
        let (native, full_scale) = dev
            .native_stream_format(RX, ch)
            .unwrap_or((Format::CF32, 1.0));
        let scale = if full_scale > 0.0 {
            (1.0 / full_scale) as f32
        } else {
            1.0 / 32768.0
        };
        let mut reader = match native {
            Format::CS16 => {
                let s = dev.rx_stream::<Complex<i16>>(&[ch])?;
                let n = read_len(s.mtu().unwrap_or(READ_TARGET));
                Reader::Cs16(s, vec![Complex::new(0, 0); n], scale)
            }
            Format::CS8 => {
                let s = dev.rx_stream::<Complex<i8>>(&[ch])?;
                let n = read_len(s.mtu().unwrap_or(READ_TARGET));
                Reader::Cs8(s, vec![Complex::new(0, 0); n], scale)
            }
            _ => Reader::Cf32(dev.rx_stream::<Complex32>(&[ch])?),
        };
        let format = reader.format();
        let chunk = reader.chunk();
        match &mut reader {
            Reader::Cf32(s) => s.activate(None)?,
            Reader::Cs16(s, ..) => s.activate(None)?,
            Reader::Cs8(s, ..) => s.activate(None)?,
        }
        Ok((reader, format, chunk))
    }

    fn format(&self) -> Format {
        match self {
            Reader::Cf32(_) => Format::CF32,
            Reader::Cs16(..) => Format::CS16,
            Reader::Cs8(..) => Format::CS8,
        }
    }

    /// The value of one integer step of a native integer stream.
    fn integer_scale(&self) -> Option<f32> {
        match self {
            Reader::Cf32(_) => None,
            Reader::Cs16(.., k) | Reader::Cs8(.., k) => Some(*k),
        }
    }

    fn chunk(&self) -> usize {
        match self {
            Reader::Cf32(s) => read_len(s.mtu().unwrap_or(READ_TARGET)),
            Reader::Cs16(_, b, _) => b.len(),
            Reader::Cs8(_, b, _) => b.len(),
        }
    }

    fn read(&mut self, out: &mut [Complex32]) -> std::result::Result<usize, soapysdr::Error> {
        match self {
            Reader::Cf32(s) => s.read(&mut [out], READ_TIMEOUT_US),
            Reader::Cs16(s, scratch, k) => {
                let m = out.len().min(scratch.len());
                let n = s.read(&mut [&mut scratch[..m]], READ_TIMEOUT_US)?;
                ci16_to_cf32(&scratch[..n], &mut out[..n], *k);
                Ok(n)
            }
            Reader::Cs8(s, scratch, k) => {
                let m = out.len().min(scratch.len());
                let n = s.read(&mut [&mut scratch[..m]], READ_TIMEOUT_US)?;
                ci8_to_cf32(&scratch[..n], &mut out[..n], *k);
                Ok(n)
            }
        }
    }

    /// Device time of the last read (or of the sample after an overflow's gap).
    fn time_ns(&self) -> i64 {
        match self {
            Reader::Cf32(s) => s.time_ns(),
            Reader::Cs16(s, ..) => s.time_ns(),
            Reader::Cs8(s, ..) => s.time_ns(),
        }
    }
}

/// Streaming, or waiting to reconnect after the device failed.
enum State {
    Streaming(Reader),
    Lost {
        since: Instant,
        next_try: Instant,
        backoff: Duration,
    },
}

/// A live SoapySDR receiver as an [`IqSource`].
pub struct SoapySource {
    settings: DeviceSettings,
    /// `None` only between dropping a dead handle and opening a fresh one.
    device: Option<Device>,
    state: State,
    meta: StreamMeta,
    format: Format,
    /// One integer step of a native CS8/CS16 stream (a recording in that format keeps it
    /// exactly).
    integer_scale: Option<f32>,
    chunk: usize,
    /// Device time at which the next sample is expected, to size overflow gaps.
    next_time_ns: Option<i64>,
    /// Stream index of the next sample (lost samples included).
    pos: u64,
    /// Stop after this stream index (`--duration`).
    limit: Option<u64>,
    /// Overflow gaps whose size came from the MTU because the device gave no usable time.
    guessed_gaps: u64,
    /// `DeviceRestored`, held back one read so that the outage's gap comes first.
    restored: bool,
}

impl std::fmt::Debug for SoapySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoapySource")
            .field("args", &self.settings.args)
            .field("format", &self.format)
            .field("pos", &self.pos)
            .finish()
    }
}

/// True for the simulator running unpaced (`realtime=false`): it is a synthetic stream
/// that can wait, so the pipeline back-pressures it like a file and runs are deterministic.
fn unpaced_sim(driver: &str, args: &str) -> bool {
    let a: soapysdr::Args = args.into();
    driver == "kuzetsim" && matches!(a.get("realtime"), Some("false" | "0" | "no"))
}

impl SoapySource {
    /// Opens the device, validates and applies the settings, and starts streaming.
    ///
    /// # Errors
    /// [`Error::Device`] (exit status 2) when the device cannot be found or a setting is
    /// outside its ranges; [`Error::DeviceFailed`] when the stream cannot start.
    pub fn open(settings: &DeviceSettings) -> Result<Self> {
        if !(settings.rate_sps.is_finite() && settings.rate_sps > 0.0) {
            return Err(Error::Config(format!(
                "--rate must be a positive number of samples per second, got {}",
                settings.rate_sps
            )));
        }
        let dev = make(&settings.args)?;
        let applied = configure(&dev, settings)?;
        let (reader, format, chunk) =
            Reader::open(&dev, settings.channel).map_err(|e| Error::DeviceFailed {
                args: settings.args.clone(),
                msg: soapy_msg("starting the stream", &e),
            })?;
        let integer_scale = reader.integer_scale();
        let mut device = format!("driver={}", applied.driver);
        if !applied.serial.is_empty() {
            device.push_str(&format!(",serial={}", applied.serial));
        }
        let meta = StreamMeta {
            sample_rate_hz: applied.rate_sps,
            center_freq_hz: settings.freq_hz,
            start_time_utc: Some(
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            ),
            gain_db: applied.gain_db,
            device,
            description: format!(
                "{} through SoapySDR, {format} stream",
                if applied.label.is_empty() {
                    &applied.driver
                } else {
                    &applied.label
                },
            ),
            origin: settings.args.clone(),
            total_samples: None,
            live: !unpaced_sim(&applied.driver, &settings.args),
        };
        Ok(SoapySource {
            settings: settings.clone(),
            device: Some(dev),
            state: State::Streaming(reader),
            meta,
            format,
            integer_scale,
            chunk,
            next_time_ns: None,
            pos: 0,
            limit: None,
            guessed_gaps: 0,
            restored: false,
        })
    }

    /// Ends the stream after `samples` samples of stream time (lost ones count).
    pub fn limit(mut self, samples: u64) -> Self {
        self.limit = Some(samples);
        self.meta.total_samples = Some(samples);
        self
    }

    /// Root attributes a recording of this radio carries beyond the standard ones:
    /// `driver`, `serial`, `device_args`.
    pub fn recording_attrs(&self) -> Vec<(String, String)> {
        let args: soapysdr::Args = self.meta.device.as_str().into();
        vec![
            ("driver".into(), args.get("driver").unwrap_or("").into()),
            ("serial".into(), args.get("serial").unwrap_or("").into()),
            ("device_args".into(), self.settings.args.clone()),
        ]
    }

    /// The device's own integer samples, when it streams them (CS8 or CS16): their width in
    /// bits and the value of one step.
    pub fn native_integers(&self) -> Option<(u32, f32)> {
        let bits = match self.format {
            Format::CS8 => 8,
            Format::CS16 => 16,
            _ => return None,
        };
        self.integer_scale.map(|k| (bits, k))
    }

    /// The stream format read from the device.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Samples per read (from the stream MTU).
    pub fn chunk(&self) -> usize {
        self.chunk
    }

    /// The settings the device was opened with (and is re-opened with after a loss).
    pub fn settings(&self) -> &DeviceSettings {
        &self.settings
    }

    /// Overflow gaps sized from the MTU because the device reported no usable time.
    pub fn guessed_gaps(&self) -> u64 {
        self.guessed_gaps
    }

    /// Samples lost in an overflow: from the jump in device time, else one MTU.
    fn gap_after_overflow(&mut self, t_ns: i64) -> u64 {
        let rate = self.meta.sample_rate_hz;
        if let Some(expect) = self.next_time_ns {
            let n = ((t_ns - expect) as f64 * rate / 1e9).round();
            // A jump of more than a minute is a clock reset, not a gap.
            if n >= 1.0 && n <= 60.0 * rate {
                self.next_time_ns = Some(t_ns);
                return n as u64;
            }
        }
        self.guessed_gaps += 1;
        self.chunk as u64
    }

    fn reconnect(&mut self) -> ReadOutcome {
        let State::Lost {
            since, next_try, ..
        } = &mut self.state
        else {
            return ReadOutcome::Pending;
        };
        let since = *since;
        // A radio's outage uses up stream time: `--duration` ends the run on time even if
        // the device never comes back.
        if let Some(limit) = self.limit.filter(|_| self.meta.live) {
            let away = (since.elapsed().as_secs_f64() * self.meta.sample_rate_hz) as u64;
            if self.pos + away >= limit {
                return ReadOutcome::Eof;
            }
        }
        let now = Instant::now();
        if now < *next_try {
            std::thread::sleep((*next_try - now).min(IDLE_POLL));
            return ReadOutcome::Pending;
        }
        match self.restore() {
            Ok(reader) => {
                self.state = State::Streaming(reader);
                self.next_time_ns = None;
                // A radio's stream time is air time: the outage is a gap in the sample
                // index, so alerts after it keep lining up with the wall clock. An unpaced
                // simulator has no air time to keep.
                let gap = (since.elapsed().as_secs_f64() * self.meta.sample_rate_hz) as u64;
                if self.meta.live && gap > 0 {
                    self.restored = true;
                    self.pos += gap;
                    ReadOutcome::Lost(gap)
                } else {
                    ReadOutcome::Event(SourceEvent::DeviceRestored)
                }
            }
            Err(_) => {
                if let State::Lost {
                    next_try, backoff, ..
                } = &mut self.state
                {
                    *backoff = (*backoff * 2).min(BACKOFF_MAX);
                    *next_try = Instant::now() + *backoff;
                }
                ReadOutcome::Pending
            }
        }
    }

    /// A fresh stream on the same handle (enough after a USB hiccup), else a fresh handle
    /// configured from scratch (after a replug).
    fn restore(&mut self) -> Result<Reader> {
        let ch = self.settings.channel;
        if let Some(dev) = &self.device {
            if let Ok((r, ..)) = Reader::open(dev, ch) {
                return Ok(r);
            }
        }
        // Drop our handle first: libSoapySDR caches devices by arguments, so while we hold
        // the dead one, make() would hand it straight back.
        self.device = None;
        let dev = make(&self.settings.args)?;
        configure(&dev, &self.settings)?;
        let (r, ..) = Reader::open(&dev, ch).map_err(|e| Error::DeviceFailed {
            args: self.settings.args.clone(),
            msg: soapy_msg("restarting the stream", &e),
        })?;
        self.device = Some(dev);
        Ok(r)
    }
}

impl IqSource for SoapySource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        let buf = buf.cf32()?;
        if std::mem::take(&mut self.restored) {
            return Ok(ReadOutcome::Event(SourceEvent::DeviceRestored));
        }
        let mut want = buf.len().min(self.chunk);
        if let Some(limit) = self.limit {
            let left = limit.saturating_sub(self.pos);
            if left == 0 {
                return Ok(ReadOutcome::Eof);
            }
            want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        }
        if want == 0 {
            return Ok(ReadOutcome::Pending);
        }
        let State::Streaming(reader) = &mut self.state else {
            return Ok(self.reconnect());
        };
        match reader.read(&mut buf[..want]) {
            Ok(0) => Ok(ReadOutcome::Pending),
            Ok(n) => {
                let t = reader.time_ns();
                self.next_time_ns =
                    Some(t + (n as f64 * 1e9 / self.meta.sample_rate_hz).round() as i64);
                self.pos += n as u64;
                Ok(ReadOutcome::Samples(n))
            }
            Err(e) => match e.code {
                ErrorCode::Timeout => Ok(ReadOutcome::Pending),
                ErrorCode::Overflow => {
                    let t = reader.time_ns();
                    let n = self.gap_after_overflow(t);
                    self.pos += n;
                    Ok(ReadOutcome::Lost(n))
                }
                _ => {
                    // Drop the dead stream now; reconnection starts after a short pause.
                    self.state = State::Lost {
                        since: Instant::now(),
                        next_try: Instant::now() + BACKOFF_MIN,
                        backoff: BACKOFF_MIN,
                    };
                    let why = if e.message.trim().is_empty() {
                        format!("{:?}", e.code)
                    } else {
                        format!("{:?}: {}", e.code, e.message.trim())
                    };
                    Ok(ReadOutcome::Event(SourceEvent::DeviceLost(why)))
                }
            },
        }
    }
}

/// What [`throughput`] measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Throughput {
    /// Samples read.
    pub read: u64,
    /// Samples the device lost.
    pub lost: u64,
    /// Reads that returned nothing (timeouts).
    pub empty_reads: u64,
    /// Wall time.
    pub wall_s: f64,
    /// CPU time of the reading thread, where the OS tells it.
    pub cpu_s: Option<f64>,
}

/// Reads `src` as fast as it delivers until it ends (its limit) or `stop` is set,
/// discarding the samples: the reader's own cost (`kuzet devices --throughput`).
///
/// # Errors
/// A device that fails and cannot be recovered.
pub fn throughput(src: &mut SoapySource, stop: &AtomicBool) -> Result<Throughput> {
    let mut buf = vec![Complex32::default(); src.chunk()];
    let (mut read, mut lost, mut empty) = (0u64, 0u64, 0u64);
    let started = Instant::now();
    let cpu0 = thread_cpu_secs();
    while !stop.load(Ordering::Relaxed) {
        match src.read_cf32(&mut buf)? {
            ReadOutcome::Samples(n) => read += n as u64,
            ReadOutcome::Lost(n) => lost += n,
            ReadOutcome::Pending => empty += 1,
            ReadOutcome::Event(_) | ReadOutcome::Retuned(_) => {}
            ReadOutcome::Eof => break,
        }
    }
    let wall_s = started.elapsed().as_secs_f64();
    // On a shared machine wall time includes waiting for a core; CPU time of this one
    // thread is what "MS/s on one core" means.
    let cpu_s = match (cpu0, thread_cpu_secs()) {
        (Some(a), Some(b)) if b > a => Some(b - a),
        _ => None,
    };
    Ok(Throughput {
        read,
        lost,
        empty_reads: empty,
        wall_s,
        cpu_s,
    })
}

/// CPU seconds (user + system) the calling thread has used, from /proc (Linux); `None`
/// elsewhere. Clock ticks are 1/100 s on every Linux kuzet runs on.
fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A device's capabilities, for `kuzet devices --probe`.
///
/// # Errors
/// [`Error::Device`] when the device cannot be opened.
pub fn probe(args: &str) -> Result<String> {
    let dev = make(args)?;
    let mut out = String::new();
    let failed = |what: &str, e: soapysdr::Error| device_err(args, soapy_msg(what, &e));
    let driver = dev.driver_key().map_err(|e| failed("driver", e))?;
    let hw = dev.hardware_key().unwrap_or_default();
    out.push_str(&format!("driver:      {driver}\nhardware:    {hw}\n"));
    if let Ok(info) = dev.hardware_info() {
        for (k, v) in info.iter() {
            out.push_str(&format!("  {k}: {v}\n"));
        }
    }
    let channels = dev.num_channels(RX).map_err(|e| failed("channels", e))?;
    out.push_str(&format!("rx channels: {channels}\n"));
    for ch in 0..channels {
        out.push_str(&format!("channel {ch}:\n"));
        if let Ok(r) = dev.frequency_range(RX, ch) {
            out.push_str(&format!(
                "  frequency:    {}\n",
                format_ranges(&r, Quantity::Freq)
            ));
        }
        if let Ok(r) = dev.get_sample_rate_range(RX, ch) {
            out.push_str(&format!(
                "  sample rate:  {}\n",
                format_ranges(&r, Quantity::Rate)
            ));
        }
        if let Ok(r) = dev.gain_range(RX, ch) {
            let agc = if dev.has_gain_mode(RX, ch).unwrap_or(false) {
                ", automatic gain available"
            } else {
                ""
            };
            out.push_str(&format!(
                "  gain:         {}{agc}\n",
                format_ranges(&[r], Quantity::Gain)
            ));
        }
        if let Ok(names) = dev.list_gains(RX, ch) {
            for n in names {
                if let Ok(r) = dev.gain_element_range(RX, ch, n.as_str()) {
                    out.push_str(&format!(
                        "    element {n}: {}\n",
                        format_ranges(&[r], Quantity::Gain)
                    ));
                }
            }
        }
        if let Ok(a) = dev.antennas(RX, ch) {
            out.push_str(&format!("  antennas:     {}\n", a.join(", ")));
        }
        match dev.bandwidth_range(RX, ch) {
            Ok(r) if !r.is_empty() => out.push_str(&format!(
                "  bandwidths:   {}\n",
                format_ranges(&r, Quantity::Freq)
            )),
            _ => {}
        }
        if let Ok((f, fs)) = dev.native_stream_format(RX, ch) {
            out.push_str(&format!("  native format: {f} (full scale {fs})\n"));
        }
        if let Ok(f) = dev.stream_formats(RX, ch) {
            let names: Vec<String> = f.iter().map(|f| f.to_string()).collect();
            out.push_str(&format!("  stream formats: {}\n", names.join(", ")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(min: f64, max: f64) -> Range {
        Range {
            minimum: min,
            maximum: max,
            step: 0.0,
        }
    }

    #[test]
    fn gain_parses_numbers_and_auto() {
        assert_eq!(Gain::parse("30").unwrap(), Gain::Db(30.0));
        assert_eq!(Gain::parse("12.5dB").unwrap(), Gain::Db(12.5));
        assert_eq!(Gain::parse("AUTO").unwrap(), Gain::Auto);
        assert!(Gain::parse("loud").is_err());
    }

    #[test]
    fn range_messages_read_like_a_datasheet() {
        assert_eq!(
            format_ranges(&[range(0.1e6, 62e6)], Quantity::Rate),
            "0.1–62 MS/s"
        );
        assert_eq!(
            format_ranges(&[range(24e6, 6e9)], Quantity::Freq),
            "0.024–6 GHz"
        );
        assert_eq!(
            format_ranges(&[range(0.25e6, 0.25e6), range(1e6, 3.2e6)], Quantity::Rate),
            "0.25, 1–3.2 MS/s"
        );
        let e = check_range(
            "driver=x",
            "x",
            "sample rate",
            50e6,
            &[range(0.25e6, 3.2e6)],
            Quantity::Rate,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "driver=x: sample rate 50 MS/s is outside driver=x's range 0.25–3.2 MS/s"
        );
        assert!(in_ranges(2.4e6, &[range(0.25e6, 3.2e6)]));
        assert!(in_ranges(5.0, &[]));
    }

    #[test]
    fn cs16_conversion_scales_to_full_scale() {
        let src = [Complex::new(32767i16, -32767), Complex::new(0, 16384)];
        let mut dst = [Complex32::default(); 2];
        ci16_to_cf32(&src, &mut dst, 1.0 / 32767.0);
        assert_eq!(dst[0], Complex32::new(1.0, -1.0));
        assert!((dst[1].im - 0.5).abs() < 1e-4);
    }

    #[test]
    fn reads_are_whole_mtus() {
        assert_eq!(read_len(16384), 65536);
        assert_eq!(read_len(10000), 70000);
        assert_eq!(read_len(100_000), 100_000);
    }
}
