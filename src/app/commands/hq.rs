//! `kuzet hq --mqtt URL`: every post's alerts from the broker, repeats dropped, in the HQ
//! console, or as JSON lines on stdout with `--headless`.

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use crate::app::config::Hq;
use crate::error::{Error, Result};
use crate::pipeline::hq::{self, HqConfig, HqSummary};
use crate::tui;

/// Runs `kuzet hq` until Ctrl-C (or `q` in the console).
///
/// # Errors
/// The state directory cannot be made, the terminal, stdout failing.
pub fn run(s: &Hq, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    if let Some(dir) = s.state.parent() {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let cfg = HqConfig {
        broker: s.broker.clone(),
        client_id: s.client_id.clone(),
        state: s.state.clone(),
        out: s
            .headless
            .then(|| Box::new(std::io::stdout()) as Box<dyn std::io::Write + Send>),
        display: !s.headless,
        quiet: !s.headless,
    };
    let running = hq::start(cfg, stop.clone())?;
    let summary = if s.headless {
        while !running.ended() {
            std::thread::sleep(Duration::from_millis(100));
        }
        match running.finish() {
            // `kuzet hq --headless | head`: the reader has seen enough.
            Err(Error::AlertSink(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                return Ok(ExitCode::SUCCESS)
            }
            other => other?,
        }
    } else {
        tui::hq::run(running, s.broker.broker.to_string(), stop)?
    };
    report(&summary);
    Ok(ExitCode::SUCCESS)
}

fn report(s: &HqSummary) {
    eprintln!(
        "kuzet: hq: {} new alert line(s); {} repeat(s) dropped; {} malformed; {} post(s) known",
        s.alerts, s.repeats, s.malformed, s.posts
    );
}
