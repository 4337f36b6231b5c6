//! kuzet — a real-time radio-monitoring signal processor for border checkpoints.
//!
//! A software-defined radio or a recorded capture feeds IQ samples into a pipeline that
//! computes power spectra, learns what the noise floor looks like, and raises alerts for
//! emitters that appear on the air.
//!
//! ```text
//!  IqSource ──IqBlock──▶ dsp::Welch ──SpectrumBatch──▶ detect::Detector ──Alert──▶ sinks
//!  file | synth | soapy  window, FFT,    (N workers,      floor, threshold,        JSON lines,
//!  (capture::reader,     |X|², average,   order kept)     grouping, tracker        console
//!   SoapySDR radios)     dB, fft-shift
//!       ▲     │              │
//!       │     └─ record::TeeSource: copies ──▶ record::Recorder thread ──▶ HDF5 (SWMR)
//!       └── pooled IQ buffers returned after the FFT (no allocation per block)
//! ```
//!
//! Each stage is a plain struct with a method over its input, testable without threads;
//! only [`pipeline`] knows about threads and channels. Time is the sample index since the
//! start of the stream, so a replay gives the same alerts at any speed.

pub mod alert;
pub mod app;

pub mod cli;

pub mod detect;
pub mod dsp;
pub mod error;
pub mod eval;
pub mod formats;
pub mod pipeline;
pub mod sinks;
pub mod source;
pub mod tui;
pub mod types;
pub mod units;

pub use error::{Error, Result};
