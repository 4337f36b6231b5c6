//! Payloads that cross thread boundaries. Sample and spectrum buffers are allocated once
//! and travel in a loop (pool → producer → consumer → pool), so the steady state
//! allocates nothing.

use num_complex::Complex32;

use crate::dsp::SpectrumConfig;
use crate::source::Retune;
use crate::types::SampleIndex;
use crate::types::SourceEvent;

/// A block of IQ for the spectrum stage: `history` samples repeated from the previous
/// block, then whole averaging spans of new samples. `T` is `Complex32`, or the stored
/// int8 or int16 pairs of an 8- or 16-bit capture.
#[derive(Debug)]
pub struct IqBlock<T = Complex32> {
    /// Position in the stream of blocks (for reordering after parallel workers).
    pub seq: u64,
    /// Stream index of `samples[0]`.
    pub start: SampleIndex,
    /// Valid samples in `samples` (the buffer keeps its full length).
    pub len: usize,
    /// Pooled buffer.
    pub samples: Vec<T>,
    /// Samples lost just before this block (device overflow or pipeline overrun).
    pub dropped: u64,
    /// A source health change that happened just before this block.
    pub event: Option<SourceEvent>,
    /// A sweep's step and dwell these samples were taken at (`None` for a fixed tune).
    pub tune: Option<Retune>,
}

impl<T> IqBlock<T> {
    /// A block with no buffer (priming channels; never sent on a running pipeline).
    pub fn empty() -> Self {
        IqBlock {
            seq: 0,
            start: 0,
            len: 0,
            samples: Vec::new(),
            dropped: 0,
            event: None,
            tune: None,
        }
    }
}

/// Averaged power spectra computed from one [`IqBlock`], and their peaks.
#[derive(Debug)]
pub struct SpectrumBatch {
    /// Sequence number of the block they came from.
    pub seq: u64,
    /// Stream index of the first sample of the first spectrum's first frame.
    pub start: SampleIndex,
    /// Number of spectra.
    pub count: usize,
    /// Linear power, fft-shifted; a pooled buffer in three parts (see
    /// [`SpectrumBatch::parts`]): the averaged spectra, their peaks (see
    /// [`crate::dsp::Welch::process_with_peak`]) and their carrier grids (see
    /// [`crate::dsp::Welch::process_grids`]).
    pub power: Vec<f32>,
    /// Carried over from the block.
    pub dropped: u64,
    /// Carried over from the block.
    pub event: Option<SourceEvent>,
    /// Carried over from the block.
    pub tune: Option<Retune>,
}

/// The length of a pooled spectrum buffer for blocks of `spans` spectra.
pub(super) fn batch_len(spec: &SpectrumConfig, spans: usize) -> usize {
    spans * (2 * spec.fft_len + spec.carrier_len())
}

/// A pooled spectrum buffer's parts: room for the same number of averaged spectra, peaks
/// and carrier grids (the last empty when the grid is off).
pub(super) fn batch_parts_mut<'a>(
    spec: &SpectrumConfig,
    buf: &'a mut [f32],
) -> (&'a mut [f32], &'a mut [f32], &'a mut [f32]) {
    let spans = buf.len() / (2 * spec.fft_len + spec.carrier_len());
    let (mean, rest) = buf.split_at_mut(spans * spec.fft_len);
    let (peak, carriers) = rest.split_at_mut(spans * spec.fft_len);
    (mean, peak, carriers)
}

impl SpectrumBatch {
    /// The averaged spectra, their peaks and their carrier grids, each `count` long (the
    /// carrier grids empty when the grid is off).
    pub fn parts(&self, spec: &SpectrumConfig) -> (&[f32], &[f32], &[f32]) {
        let spans = self.power.len() / (2 * spec.fft_len + spec.carrier_len());
        let (mean, rest) = self.power.split_at(spans * spec.fft_len);
        let (peak, carriers) = rest.split_at(spans * spec.fft_len);
        (
            &mean[..self.count * spec.fft_len],
            &peak[..self.count * spec.fft_len],
            &carriers[..self.count * spec.carrier_len()],
        )
    }

    /// A batch with no buffer (priming channels; never sent on a running pipeline).
    pub fn empty() -> Self {
        SpectrumBatch {
            seq: 0,
            start: 0,
            count: 0,
            power: Vec::new(),
            dropped: 0,
            event: None,
            tune: None,
        }
    }
}

/// A decimated spectrum for the console (the pipeline's UI tap): at most one per display
/// period of wall time, whatever the DSP rate.
#[derive(Debug, Clone, PartialEq)]
pub struct UiFrame {
    /// Stream index of the first spectrum folded into this frame.
    pub start: SampleIndex,
    /// Stream index just past the last spectrum folded into this frame.
    pub end: SampleIndex,
    /// Bin-wise maximum of the spectra since the previous frame, dB (fft-shifted), so a
    /// burst shorter than a display period still shows.
    pub power_db: Vec<f32>,
    /// Noise floor per bin at the end of the frame, dB.
    pub floor_db: Vec<f32>,
    /// How far above the floor the fast detection threshold sits, dB.
    pub threshold_over_floor_db: f32,
    /// A sweep's panorama: the frequency range (lowest, highest) of the step whose
    /// spectrum came last, the one being measured. `None` for a fixed tune.
    pub step: Option<(f64, f64)>,
}
