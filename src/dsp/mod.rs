//! Signal processing stages: windows, the Welch power spectrum, and spectrum statistics.
//! Plain structs over slices; no threads, no channels.

pub mod cfar;
pub(crate) mod simd;
pub mod spectrum;
pub mod stats;
pub mod window;

pub use spectrum::{SpectrumConfig, Welch};
pub use window::WindowKind;

/// Power ratio to decibels; zero maps to a floor of -300 dB rather than -inf.
#[inline]
pub fn db(power: f32) -> f32 {
    10.0 * power.max(1e-30).log10()
}

/// Decibels to power ratio.
#[inline]
pub fn from_db(db: f32) -> f32 {
    10f32.powf(db / 10.0)
}

/// Maps spectrum bins (fft-shifted) to absolute frequencies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FreqGrid {
    /// Number of bins.
    pub bins: usize,
    /// Complex samples per second.
    pub sample_rate_hz: f64,
    /// RF frequency of baseband 0 Hz.
    pub center_freq_hz: f64,
}

impl FreqGrid {
    /// Width of one bin in Hz.
    pub fn bin_hz(&self) -> f64 {
        self.sample_rate_hz / self.bins as f64
    }

    /// Absolute frequency of (fractional) bin `bin`; bin `bins/2` is the centre frequency.
    pub fn freq_of(&self, bin: f64) -> f64 {
        self.center_freq_hz + (bin - (self.bins / 2) as f64) * self.bin_hz()
    }

    /// Fractional bin of absolute frequency `hz`.
    pub fn bin_of(&self, hz: f64) -> f64 {
        (hz - self.center_freq_hz) / self.bin_hz() + (self.bins / 2) as f64
    }
}
