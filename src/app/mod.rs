//! The application: arguments to settings ([`config`]), one small file per command
//! ([`commands`]), what is said on stderr ([`report`]). The only part of kuzet that knows
//! about flags and the process (signals, exit status).

pub mod commands;
pub mod config;
pub mod report;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::cli::Cli;
use crate::error::Result;
use config::Settings;

/// Runs a parsed command line.
///
/// # Errors
/// Whatever stops the command; [`crate::Error::exit_code`] tells bad input (2) from
/// run-time failure (1).
pub fn run(cli: Cli) -> Result<ExitCode> {
    let settings = Settings::from_cli(cli)?;
    // Ctrl-C stops the source; the pipeline drains, files close, the summary prints.
    let stop = Arc::new(AtomicBool::new(false));
    let _ = ctrlc::set_handler({
        let stop = stop.clone();
        move || stop.store(true, Ordering::Relaxed)
    });
    match &settings {
        Settings::Analyze(s) => commands::analyze::run(s, &stop),
        Settings::Replay(s) => commands::replay::run(s, &stop),
        Settings::Watch(s) => commands::watch::run(s, &stop),
        Settings::Record(s) => commands::record::run(s, &stop),
        Settings::Synth(s) => commands::synth::run(s, &stop),
        Settings::Score(s) => commands::score::run(s, &stop),
        Settings::Learn(s) => commands::baseline::run(s, &stop),
        Settings::Devices(s) => commands::devices::run(s, &stop),
        Settings::Bench(s) => commands::bench::run(s),
        Settings::Convert(s) => commands::convert::run(s, &stop),
        Settings::Hq(s) => commands::hq::run(s, &stop),
    }
}
