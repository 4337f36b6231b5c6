//! `kuzet bench`: throughput on this machine, as a table or JSON.

use std::process::ExitCode;

use crate::app::config::Bench;
use crate::error::{Error, Result};

/// Runs `kuzet bench`.
///
/// # Errors
/// A failing measurement.
pub fn run(s: &Bench) -> Result<ExitCode> {
    let report = crate::eval::bench::run(&mut |step| eprintln!("kuzet bench: {step}…"))?;
    if s.json {
        let json = serde_json::to_string(&report).map_err(|e| Error::Config(e.to_string()))?;
        println!("{json}");
    } else {
        print!("{}", crate::eval::bench::render_table(&report));
    }
    Ok(ExitCode::SUCCESS)
}
