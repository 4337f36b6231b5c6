//! Criterion benchmarks of the hot path: the spectrum stage per FFT size, the detector,
//! the whole pipeline, and a sweep's detection against a fixed tune's in the same run,
//! each reported in samples per second (`Throughput::Elements`).
//! Inputs are synthesised once, outside the timed loops; plans and buffers are built
//! outside `b.iter`.
//!
//! `cargo bench` runs them all; `cargo bench -- spectrum/1024` one group. `kuzet bench`
//! gives the same figures as one table in under a minute.

use std::hint::black_box;
use std::sync::{atomic::AtomicBool, Arc};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use num_complex::Complex32;

use kuzet::detect::bandplan::BandPlan;
use kuzet::detect::sweep::{Geometry, SweepDetector, SweepPlan, SweepSpec};
use kuzet::detect::Detector;
use kuzet::dsp::{SpectrumConfig, Welch, WindowKind};
use kuzet::eval::bench::{peer_config, scene, synthesise, MemorySource};
use kuzet::pipeline::{self, Counters, PipelineConfig};
use kuzet::types::StreamMeta;

/// The benchmark scene, a quarter of it: 2M samples (16 MiB) of noise and emitters.
fn input() -> (Vec<Complex32>, StreamMeta) {
    let mut sc = scene();
    sc.duration_s /= 4.0;
    let meta = sc.meta();
    (
        synthesise(&sc).expect("invariant: the bench scene is valid"),
        meta,
    )
}

fn spectrum(c: &mut Criterion) {
    let (data, _) = input();
    let mut g = c.benchmark_group("spectrum");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);
    for (n, ov) in [
        (256, 50),
        (1024, 50),
        (1024, 0),
        (4096, 50),
        (4096, 0),
        (16384, 50),
    ] {
        // A few spectra per iteration, as in the peers' workload but shorter averages.
        let mut cfg = peer_config(n, ov);
        cfg.averages = (cfg.averages / 4).max(1);
        let mut welch = Welch::new(cfg);
        let count = welch.spectra_in(data.len());
        let used = cfg.history() + count * cfg.span();
        let mut out = vec![0.0f32; count * n];
        g.throughput(Throughput::Elements((count * cfg.span()) as u64));
        g.bench_with_input(
            BenchmarkId::new(format!("{n}"), format!("{ov}%")),
            &data[..used],
            |b, x| b.iter(|| black_box(welch.process_db(x, &mut out))),
        );
    }
    g.finish();
}

fn pipeline_config(meta: &StreamMeta) -> PipelineConfig {
    // What `kuzet analyze` does by default: 1024 bins, 50%, 10 ms per spectrum.
    let mut spec = SpectrumConfig::new(1024, 50, 1, WindowKind::Hann);
    spec.averages = ((0.01 * meta.sample_rate_hz / spec.hop as f64).round() as usize).max(1);
    let mut cfg = PipelineConfig::new(spec);
    cfg.workers = 2;
    cfg
}

fn detection(c: &mut Criterion) {
    let (data, meta) = input();
    let cfg = pipeline_config(&meta);
    let spec = cfg.spectrum;
    let mut welch = Welch::new(spec);
    let mut power = vec![0.0f32; welch.spectra_in(data.len()) * spec.fft_len];
    let count = welch.process(&data, &mut power);
    let mut det = Detector::new(cfg.detector, &spec, &meta);
    let mut start = 0u64;
    let mut g = c.benchmark_group("detection");
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements((count * spec.span()) as u64));
    g.bench_function(
        BenchmarkId::new("1024", format!("{}avg", spec.averages)),
        |b| {
            b.iter(|| {
                for p in power.chunks_exact(spec.fft_len) {
                    det.push(p, start, &mut |a| {
                        black_box(a);
                    });
                    start += spec.span() as u64;
                }
            })
        },
    );
    g.finish();
}

fn whole_pipeline(c: &mut Criterion) {
    let (data, meta) = input();
    let cfg = pipeline_config(&meta);
    let data: Arc<[Complex32]> = data.into();
    let total = 2 * data.len();
    let stop = AtomicBool::new(false);
    let mut g = c.benchmark_group("pipeline");
    g.measurement_time(Duration::from_secs(5)).sample_size(10);
    g.throughput(Throughput::Elements(total as u64));
    g.bench_function(BenchmarkId::new("2 workers", "1024/50"), |b| {
        b.iter(|| {
            let src = MemorySource::new(data.clone(), &meta, total);
            pipeline::run(
                Box::new(src),
                &cfg,
                Arc::new(Counters::default()),
                &stop,
                &mut |_| Ok(()),
            )
            .expect("invariant: an in-memory source cannot fail")
        })
    });
    g.finish();
}

/// A sweep's detection (a detector per step, cropping, the merger) against a fixed tune's
/// detector and the spectrum stage, on the same spectra in the same run: what one spectrum
/// costs each, in samples of stream per second. The sweep is the whole border plan at
/// 20 MS/s; its spectra go to the steps in schedule order.
fn sweep_detection(c: &mut Criterion) {
    let rate = 20e6;
    let mut sc = scene();
    sc.duration_s /= 4.0;
    sc.sample_rate_hz = kuzet::units::Hz(rate);
    let meta = sc.meta();
    let data = synthesise(&sc).expect("invariant: the bench scene is valid");
    let cfg = pipeline_config(&meta);
    let spec = cfg.spectrum;
    let mut welch = Welch::new(spec);
    let mut power = vec![0.0f32; welch.spectra_in(data.len()) * spec.fft_len];
    let count = welch.process(&data, &mut power);
    let plan = SweepPlan::new(
        &SweepSpec::Plan,
        &BandPlan::default_border(),
        Geometry {
            rate_hz: rate,
            fft_len: spec.fft_len,
            span: spec.span(),
            history: spec.history(),
            keep_fraction: 0.7,
            dwell_spectra: 2,
            settle_samples: 100_000,
            tunable: vec![],
            device: "bench".into(),
        },
    )
    .expect("invariant: the border plan sweeps");
    let plan = Arc::new(plan);
    let mut sweep = SweepDetector::new(cfg.detector, &spec, &meta, plan.clone(), None);
    let mut fixed = Detector::new(cfg.detector, &spec, &meta);
    let mut g = c.benchmark_group("sweep");
    g.measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements((count * spec.span()) as u64));
    let mut start = 0u64;
    g.bench_function(BenchmarkId::new("detect", "fixed tune"), |b| {
        b.iter(|| {
            for p in power.chunks_exact(spec.fft_len) {
                fixed.push(p, start, &mut |a| {
                    black_box(a);
                });
                start += spec.span() as u64;
            }
        })
    });
    let (mut visit, mut taken, mut dwell) = (0usize, 0usize, 1u64);
    let mut start = 0u64;
    g.bench_function(
        BenchmarkId::new("detect", format!("sweep of {} steps", plan.steps.len())),
        |b| {
            b.iter(|| {
                for p in power.chunks_exact(spec.fft_len) {
                    let v = plan.cycle[visit];
                    sweep.push(p, None, start, v.step, dwell, &mut |a| {
                        black_box(a);
                    });
                    start += spec.span() as u64;
                    taken += 1;
                    if taken == v.spectra {
                        (taken, dwell) = (0, dwell + 1);
                        visit = (visit + 1) % plan.cycle.len();
                    }
                }
            })
        },
    );
    let used = spec.history() + count * spec.span();
    let mut out = vec![0.0f32; count * spec.fft_len];
    g.bench_function(BenchmarkId::new("spectrum", "1024/50"), |b| {
        b.iter(|| black_box(welch.process(&data[..used], &mut out)))
    });
    g.finish();
}

criterion_group!(
    benches,
    spectrum,
    detection,
    whole_pipeline,
    sweep_detection
);
criterion_main!(benches);
