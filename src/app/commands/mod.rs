//! One small file per command: each opens its inputs from its settings, starts the
//! library's work (a pipeline, a conversion, a recording) and reports. None of them reads
//! samples itself.

pub mod analyze;
pub mod baseline;
pub mod bench;
pub mod convert;
pub mod devices;
pub mod hq;
pub mod record;
pub mod replay;
pub mod score;
pub mod synth;
pub mod watch;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::config::{Dsp, Input, Mqtt};
use super::report;
use crate::error::{Error, Result};
use crate::pipeline::{Event, PipelineConfig, RunStats, Running};
use crate::sinks::alert_log::{JsonLinesSink, SharedLog};
use crate::sinks::federation::Status;
use crate::source::{IqSource, Recording, Take};
use crate::types::StreamMeta;

/// Opens a recording as its settings say; its warnings go to stderr.
///
/// # Errors
/// A file that cannot be read as a recording.
pub fn open(input: &Input) -> Result<Recording> {
    let rec = crate::source::open(&input.path, &input.open)?;
    report::warnings(&input.path.display().to_string(), &rec.warnings);
    Ok(rec)
}

/// `source` cut to `limit_s` seconds of stream, when given.
pub fn limited(source: Box<dyn IqSource>, limit_s: Option<f64>) -> Box<dyn IqSource> {
    match limit_s {
        Some(s) => {
            let n = source.meta().index_at(s);
            Box::new(Take::new(source, n))
        }
        None => source,
    }
}

/// Refuses to replace an existing output without `--force`.
///
/// # Errors
/// [`Error::Config`] naming the first output that exists.
pub fn refuse_existing(outputs: &[std::path::PathBuf], force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    match outputs.iter().find(|p| p.exists()) {
        Some(p) => Err(Error::Config(format!(
            "{} exists; give --force to replace it",
            p.display()
        ))),
        None => Ok(()),
    }
}

/// `--on-critical` belongs to the console: say so when stdout is not a terminal and the
/// run has none (an explicit `--headless` with it is refused by the parser).
pub fn no_console_for(on_critical: Option<&str>) {
    if on_critical.is_some() {
        super::report::warnings(
            "--on-critical",
            &["runs from the console; stdout is not a terminal, so it is not used".into()],
        );
    }
}

/// Adds the alert log named on the command line to `cfg`, and with `--mqtt` the
/// publisher over it (the log is the outbox); `quiet` when a console owns the terminal.
///
/// # Errors
/// [`Error::Io`] when the log or the state directory cannot be made or opened.
pub fn with_log(
    mut cfg: PipelineConfig,
    path: Option<&std::path::Path>,
    mqtt: Option<&Mqtt>,
    meta: &StreamMeta,
    dsp: &Dsp,
    quiet: bool,
) -> Result<PipelineConfig> {
    if let (Some(m), Some(log)) = (mqtt, path) {
        for dir in [log.parent(), Some(m.state_dir.join("cursor").as_path())]
            .into_iter()
            .flatten()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        if m.outbox_defaulted {
            eprintln!(
                "kuzet: mqtt: no --alerts given; the outbox (alert log) of post {} is {}",
                m.post,
                log.display()
            );
        }
        let status = Status {
            post: m.post.clone(),
            state: "online".into(),
            source: meta.origin.clone(),
            center_freq_hz: meta.center_freq_hz,
            sample_rate_hz: meta.sample_rate_hz,
            bandplan: dsp.detect.bandplan().origin.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            since_utc: None,
        };
        cfg.federation = Some(m.federation(log, status, quiet));
    }
    cfg.alert_log = path.map(SharedLog::open).transpose()?;
    Ok(cfg)
}

/// The headless mode of `analyze`, `replay` and `watch`, and what the end-to-end tests
/// drive: the running pipeline's alerts as JSON lines on stdout.
///
/// # Errors
/// A pipeline stage's error; stdout failing for another reason than a closed pipe.
pub fn to_stdout(running: Running, stop: &Arc<AtomicBool>) -> Result<RunStats> {
    let stdout = std::io::stdout();
    let mut out = JsonLinesSink::new(stdout.lock());
    let mut failed = None;
    for ev in running.events().iter() {
        let Event::Alert(a) = ev else { continue };
        match out.write(&a) {
            Ok(()) => {}
            // `kuzet analyze x.h5 | head`: the reader has seen enough; the run goes on
            // for the alert log.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => {
                failed = Some(Error::AlertSink(e));
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
                break;
            }
        }
    }
    let stats = running.finish();
    match failed {
        Some(e) => Err(e),
        None => stats,
    }
}
