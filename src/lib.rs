//! kuzet — a real-time radio-monitoring signal processor for border checkpoints.
//!
//! A software-defined radio or a recorded capture feeds IQ samples into a pipeline that
//! computes power spectra, learns what the noise floor looks like, and raises alerts for
//! emitters that appear on the air.
//!
//! ```text
//!  source/ ──IqBlock──▶ dsp/ ──spectra──▶ detect/ ──Alert──▶ sinks/ ──▶ tui/ | stdout
//!  recording | synth    window, FFT,      floor, CFAR,        alert log,     console,
//!  | soapy (radio)      |X|², average     tracker, rules      evidence,      JSON lines
//!     │  formats/ reads and writes every byte on disk         recorder
//!     └──────────────── pipeline/ runs all of it on its threads ──────────────┘
//!  app/ turns the command line (cli) into settings and runs one command; eval/ scores
//!  and benchmarks.
//! ```
//!
//! | folder | owns | may import |
//! | --- | --- | --- |
//! | [`app`], [`cli`] | flags → one validated settings value per command; one file per command; stderr reports | everything |
//! | [`tui`] | the console: pure state (`App::update → Effect`), one widget per pane, keymap; its input thread | pipeline, sinks, source, dsp, detect, alert |
//! | [`pipeline`] | every stage thread and channel, the MQTT publisher and HQ threads included; [`pipeline::start`] hands back one [`pipeline::Running`] handle | source, sinks, dsp, detect, formats, alert |
//! | [`source`] | the narrow [`source::IqSource`]; recordings ([`source::open`]), the radio, the simulator, pacing | formats |
//! | [`formats`] | every byte on disk: kuzet HDF5, raw encodings and int→float kernels, SigMF, WAV, SM.2117, the baseline file, the convert sinks | — |
//! | [`sinks`] | pure policies with no threads: the alert log, evidence planner and engine, the recorder's files, the MQTT outbox and HQ's de-duplication | formats, alert |
//! | [`detect`] | floor, thresholds, grouping, tracker, hop, jamming, band plan, baseline model — pure | dsp, alert |
//! | [`dsp`] | windows, Welch spectra, SIMD kernels, CFAR, statistics — pure | — |
//! | [`eval`] | `score` against ground truth, `bench` (its measurement threads) | app's settings, pipeline, source, sinks, dsp, detect, formats, alert |
//! | [`alert`] | what an alert says, its kinds and states | — |
//! | [`types`], [`units`], [`error`] | shared vocabulary: stream metadata, annotations, units, the error type | — |
//!
//! Every folder may also use the shared vocabulary; `tests/it/layout.rs` fails when an
//! import breaks the table. Each stage is a plain struct with a method over its input,
//! testable without threads. Time is the sample index since the start of the stream, so
//! a replay gives the same alerts at any speed.

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
