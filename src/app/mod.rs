//! The application: arguments to settings ([`config`]), one small file per command
//! ([`commands`]), what is said on stderr ([`report`]), opening a sweep ([`sweep`]). The only part of kuzet that knows
//! about flags and the process (signals, exit status).

pub mod commands;
pub mod config;
pub mod report;
pub mod sweep;

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
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
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop);
    let ran = match &settings {
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
    };
    // A setting found out of range only once the stream was known (a pre-trigger too
    // large for memory at this rate) is named by its flag too.
    ran.map_err(config::flagged)
}

/// Ctrl-C, `kill` (SIGTERM), a closed terminal (SIGHUP) and SIGQUIT all end a run the
/// same way: the source stops, the pipeline drains, `cleared` lines and the summary are
/// written, files are closed (plain readers open them) and the terminal is restored. A
/// second signal while that happens exits at once, as an operator pressing Ctrl-C twice
/// expects.
fn stop_on_signals(stop: &Arc<AtomicBool>) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] {
        // Registration fails only for signals that cannot be caught; these four can.
        let _ = signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone());
        let _ = signal_hook::flag::register(sig, stop.clone());
    }
}
