//! `kuzet devices [--probe ARGS [--throughput T]]`: the radios SoapySDR finds, one
//! radio's ranges, or how fast kuzet reads it.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::app::config::Devices;
use crate::error::Result;
use crate::source::soapy::{self, SoapySource};
use crate::source::IqSource;
use crate::units;

/// Runs `kuzet devices`.
///
/// # Errors
/// libSoapySDR cannot enumerate, the device cannot be opened or fails.
pub fn run(s: &Devices, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    let Some(probe) = &s.probe else {
        list()?;
        return Ok(ExitCode::SUCCESS);
    };
    print!("{}", soapy::probe(probe)?);
    if let Some((secs, settings)) = &s.throughput {
        let src = SoapySource::open(settings)?;
        let n = src.meta().index_at(*secs);
        let mut src = src.limit(n);
        let t = soapy::throughput(&mut src, stop)?;
        let per_core = t.cpu_s.map_or(String::new(), |cpu| {
            format!(
                ", {:.1} MS/s per CPU-second ({cpu:.2} s of CPU on one thread)",
                t.read as f64 / cpu / 1e6
            )
        });
        println!(
            "throughput: {} samples ({}, {} read as complex f32) in {:.3} s: \
             {:.1} MS/s wall{per_core}; {} lost, {} empty reads",
            t.read,
            units::format_rate(src.meta().sample_rate_hz),
            src.format(),
            t.wall_s,
            t.read as f64 / t.wall_s.max(1e-9) / 1e6,
            t.lost,
            t.empty_reads,
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn list() -> Result<()> {
    let found = soapy::list_devices()?;
    if found.is_empty() {
        eprintln!("kuzet: no SoapySDR devices found");
    }
    let mut out = std::io::stdout().lock();
    for dev in found {
        let get = |k: &str| {
            dev.iter()
                .find(|(key, _)| key == k)
                .map_or("", |(_, v)| v.as_str())
                .to_string()
        };
        let all: Vec<String> = dev.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "driver={}\tlabel=\"{}\"\tserial={}\targs={}",
            get("driver"),
            get("label"),
            get("serial"),
            all.join(",")
        );
    }
    Ok(())
}
