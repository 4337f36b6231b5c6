//! `kuzet convert IN OUT`: any recording kuzet reads into kuzet HDF5, SigMF, ITU-R
//! SM.2117-0 HDF5 or headerless raw IQ, block by block, carrying metadata and annotations.
//!
//! ```text
//!  source::open(IN) ──Complex32 blocks──▶ IqSink (kuzet | sigmf | sm2117 | raw)
//!         │        └─annotations──────────▶ (dropped, and said so, for raw)
//!         └─ raw cu8/cs8/cs16 bytes ──▶ kuzet HDF5 integer layout (no float round trip)
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::app::config::Convert;
use crate::app::report;
use crate::error::{Error, Result};
use crate::formats::convert::{copies_exactly, copy_integers, kuzet_format_of, OutputKind};
use crate::formats::SampleFormat;
use crate::source::Recording;

/// Runs `kuzet convert`.
///
/// # Errors
/// As [`convert`].
pub fn run(s: &Convert, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    super::refuse_existing(&s.to.outputs(&s.output), s.force)?;
    let rec = crate::source::open(&s.input.path, &s.input.open)?;
    let r = convert(rec, &s.output, s.to, stop)?;
    report::warnings(&s.input.path.display().to_string(), &r.warnings);
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let outputs: Vec<String> = r.outputs.iter().map(|p| p.display().to_string()).collect();
    eprintln!(
        "kuzet: wrote {}: {} samples, {} annotation(s), in {:.3} s ({:.0} MB/s of input, {:.1} MS/s)",
        outputs.join(" + "),
        r.samples,
        r.annotations,
        secs,
        r.input_bytes as f64 / secs / 1e6,
        r.samples as f64 / secs / 1e6,
    );
    if r.clipped > 0 {
        eprintln!(
            "kuzet: warning: {} samples clipped by the output format",
            r.clipped
        );
    }
    if r.non_finite > 0 {
        eprintln!(
            "kuzet: warning: {} NaN/Inf samples were written as zero",
            r.non_finite
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// What a conversion did.
#[derive(Debug, Clone, Default)]
pub struct ConvertReport {
    /// Samples written.
    pub samples: u64,
    /// Bytes of input read (file size of the sample data).
    pub input_bytes: u64,
    /// Annotations carried over.
    pub annotations: usize,
    /// Annotations the output format could not hold.
    pub dropped_annotations: usize,
    /// Samples clipped by an integer output format.
    pub clipped: u64,
    /// NaN/Inf samples written as zero.
    pub non_finite: u64,
    /// Warnings from opening the input, and about the output.
    pub warnings: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
    /// Files written.
    pub outputs: Vec<PathBuf>,
}

/// Converts `rec` to `output` in format `to`.
///
/// # Errors
/// Output errors naming the output; [`Error::Config`] when the output is the input.
pub fn convert(
    mut rec: Recording,
    output: &Path,
    to: OutputKind,
    stop: &AtomicBool,
) -> Result<ConvertReport> {
    let input = rec.path().to_path_buf();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    let meta = rec.meta().clone();
    let mut report = ConvertReport {
        warnings: std::mem::take(&mut rec.warnings),
        ..ConvertReport::default()
    };
    let outputs = to.outputs(output);
    // Checked before anything is created: creating truncates.
    if outputs.iter().any(|o| same(&input, o)) {
        return Err(Error::Config(format!(
            "{} would overwrite the input",
            output.display()
        )));
    }
    let raw = rec.layout.as_ref().map(|l| l.format);
    let bps = raw.map_or(8, |f| f.bytes_per_sample() as u64);
    let interrupted = "interrupted: the output holds the samples read so far";
    let t0 = Instant::now();
    if let (OutputKind::Kuzet, Some(layout)) = (to, rec.layout.as_ref()) {
        if copies_exactly(layout.format) {
            let mut reader = layout.reader()?;
            let (n, stopped) = copy_integers(&mut reader, output, &meta, &rec.annotations, stop)?;
            if stopped {
                report.warnings.push(interrupted.into());
            }
            report.annotations = rec.annotations.len();
            report.samples = n;
            report.elapsed = t0.elapsed();
            report.input_bytes = n * bps;
            report.outputs = outputs;
            return Ok(report);
        }
    }
    if let OutputKind::Raw(f) = to {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if crate::formats::raw::parse_name(&name).sample_rate_hz != Some(meta.sample_rate_hz) {
            report.warnings.push(format!(
                "raw files carry no metadata: remember the rate and frequency, e.g. name \
                 it like x_{}M_{}k.{}",
                meta.center_freq_hz / 1e6,
                meta.sample_rate_hz / 1e3,
                f.sigmf_name().trim_end_matches("_le").replace("ci", "cs")
            ));
        }
    }
    let compact = raw.map_or(SampleFormat::Cf32, kuzet_format_of);
    let mut sink = to.create(output, &meta, compact)?;
    for a in &rec.annotations {
        sink.annotate(a)?;
    }
    if !matches!(to, OutputKind::Raw(_)) {
        report.annotations = rec.annotations.len();
    } else if !rec.annotations.is_empty() {
        report.dropped_annotations = rec.annotations.len();
        report.warnings.push(format!(
            "{} annotations dropped: raw IQ cannot hold them (use sigmf or kuzet)",
            rec.annotations.len()
        ));
    }
    if crate::source::copy(&mut rec.source, sink.as_mut(), stop)? {
        report.warnings.push(interrupted.into());
    }
    report.clipped = sink.clipped_samples();
    report.samples = sink.finish()?;
    report.elapsed = t0.elapsed();
    report.input_bytes = report.samples * bps;
    report.non_finite = rec.source.non_finite_samples();
    report.outputs = outputs;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{IqSource, OpenOptions, ReadOutcome};
    use num_complex::Complex32;

    fn read_all(s: &mut dyn IqSource) -> Vec<Complex32> {
        let mut out = Vec::new();
        let mut buf = vec![Complex32::default(); 1000];
        while let ReadOutcome::Samples(n) = s.read_cf32(&mut buf).unwrap() {
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    fn open(p: &Path, opts: &OpenOptions) -> Result<Box<dyn crate::source::SeekableSource>> {
        crate::source::open(p, opts).map(|r| r.source)
    }

    fn convert(
        input: &Path,
        output: &Path,
        to: Option<OutputKind>,
        opts: &OpenOptions,
        stop: &AtomicBool,
    ) -> Result<ConvertReport> {
        let to = match to {
            Some(k) => k,
            None => OutputKind::from_path(output)?,
        };
        let rec = crate::source::open(input, opts)?;
        super::convert(rec, output, to, stop)
    }

    #[test]
    fn every_output_reads_back_the_same_samples() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in_100M_1M.cs16");
        let mut bytes = Vec::new();
        for i in 0..5000i32 {
            let v = ((i * 37) % 65536 - 32768) as i16;
            bytes.extend_from_slice(&v.to_le_bytes());
            bytes.extend_from_slice(&(-(v / 2)).to_le_bytes());
        }
        std::fs::write(&input, &bytes).unwrap();
        let stop = AtomicBool::new(false);
        let want = read_all(open(&input, &OpenOptions::default()).unwrap().as_mut());
        for out in [
            "o.h5",
            "o.sigmf-meta",
            "o.sm2117.h5",
            "o_100M_1M.cs16",
            "o.cf32",
        ] {
            let o = dir.path().join(out);
            let r = convert(&input, &o, None, &OpenOptions::default(), &stop).unwrap();
            assert_eq!(r.samples, 5000, "{out}");
            let opts = OpenOptions {
                rate_hz: Some(1e6),
                ..OpenOptions::default()
            };
            let mut s = open(&o, &opts).unwrap();
            assert_eq!(s.meta().sample_rate_hz, 1e6, "{out}");
            let got = read_all(s.as_mut());
            assert_eq!(got, want, "{out}");
        }
    }

    #[test]
    fn integer_fast_path_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let bytes: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for name in ["r_1M.cu8", "r_1M.cs8", "r_1M.cs16"] {
            let input = dir.path().join(name);
            std::fs::write(&input, &bytes).unwrap();
            let want = read_all(open(&input, &OpenOptions::default()).unwrap().as_mut());
            let o = dir.path().join(format!("{name}.h5"));
            let r = convert(&input, &o, None, &OpenOptions::default(), &stop).unwrap();
            assert_eq!(r.samples as usize, want.len(), "{name}");
            let got = read_all(open(&o, &OpenOptions::default()).unwrap().as_mut());
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn annotations_survive_sigmf_and_sm2117() {
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let m = dir.path().join("a.sigmf-meta");
        std::fs::write(
            &m,
            r#"{"global":{"core:datatype":"cf32_le","core:sample_rate":1000},
                "captures":[{"core:sample_start":0,"core:frequency":1e6}],
                "annotations":[{"core:sample_start":2,"core:sample_count":3,"core:label":"hop",
                  "core:freq_lower_edge":1e6,"core:freq_upper_edge":1.1e6}]}"#,
        )
        .unwrap();
        std::fs::write(dir.path().join("a.sigmf-data"), [0u8; 80]).unwrap();
        for out in ["b.sigmf-meta", "b.h5", "b.sm2117.h5"] {
            let o = dir.path().join(out);
            let r = convert(&m, &o, None, &OpenOptions::default(), &stop).unwrap();
            assert_eq!(r.annotations, 1);
            let s = crate::source::open(&o, &OpenOptions::default()).unwrap();
            let a = &s.annotations[0];
            assert_eq!(
                (a.start_sample, a.length, a.label.as_str()),
                (2, 3, "hop"),
                "{out}"
            );
            assert_eq!(s.meta().center_freq_hz, 1e6);
        }
        let r = convert(
            &m,
            &dir.path().join("c.cf32"),
            None,
            &OpenOptions::default(),
            &stop,
        )
        .unwrap();
        assert_eq!(r.dropped_annotations, 1);
    }

    #[test]
    fn refuses_to_overwrite_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("x_1M.cf32");
        std::fs::write(&input, [0u8; 64]).unwrap();
        let stop = AtomicBool::new(false);
        let e = convert(&input, &input, None, &OpenOptions::default(), &stop);
        assert!(e.is_err());
        assert_eq!(std::fs::metadata(&input).unwrap().len(), 64);
    }
}
