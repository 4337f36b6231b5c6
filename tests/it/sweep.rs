//! Sweeping (`kuzet watch --sweep`) through the real libSoapySDR and the simulator: stale
//! samples after a retune, the ripple at the seams, an emitter across a seam, the
//! probability of intercept against a measurement, and bad sweep specs. Each test uses its
//! own `serial=kuzetsim-…`: libSoapySDR caches devices by their arguments.
//!
//! The figures these tests measure are printed (`cargo test sweep -- --nocapture`) and
//! quoted in docs/sweep.md.

use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use kuzet::alert::{Alert, AlertKind, AlertState};
use kuzet::app::commands::watch::{open_sweep, OpenSweep};
use kuzet::app::config::{Settings, Watch};
use kuzet::cli::Cli;
use kuzet::detect::sweep::{
    binomial_band, step_looks, step_poi, Pulse, Rule, SweepDetector, SweepPlan,
};
use kuzet::dsp::Welch;
use kuzet::pipeline::{self, Event, UiFrame};
use kuzet::source::{IqSource, ReadOutcome, Retune};
use num_complex::Complex32;
use rand::{Rng, SeedableRng};

/// `kuzet watch ARGS` as settings, through the real command line.
fn watch(args: &[&str]) -> Watch {
    let cli = Cli::try_parse_from(["kuzet", "watch"].iter().chain(args)).unwrap();
    match Settings::from_cli(cli).unwrap() {
        Settings::Watch(w) => *w,
        other => panic!("not watch: {other:?}"),
    }
}

fn open(args: &[&str]) -> OpenSweep {
    let w = watch(args);
    open_sweep(&w, w.sweep.as_ref().unwrap()).unwrap()
}

/// Runs a sweep to its `--duration`; every alert and, with `frames`, every display frame
/// (the panorama holds what a dropped frame held, so nothing is missed).
fn run(o: OpenSweep, frames: bool) -> (Vec<Alert>, Vec<UiFrame>, Arc<SweepPlan>) {
    let stop = Arc::new(AtomicBool::new(false));
    let plan = o.plan.clone();
    let display = frames.then_some(Duration::ZERO);
    let running = pipeline::start(Box::new(o.source), o.cfg, stop, display).unwrap();
    let frames_rx = running.frames().cloned();
    let mut alerts = Vec::new();
    let mut got = Vec::new();
    loop {
        if let Some(f) = &frames_rx {
            got.extend(f.try_iter());
        }
        match running.events().recv_timeout(Duration::from_millis(1)) {
            Ok(Event::Alert(a)) => alerts.push(a),
            Ok(Event::Learned(_)) => {}
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Some(f) = &frames_rx {
        got.extend(f.try_iter());
    }
    running.finish().unwrap();
    (alerts, got, plan)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn dev(serial: &str, extra: &str) -> String {
    format!("driver=kuzetsim,serial=kuzetsim-{serial},realtime=false,{extra}")
}

/// The largest excess over the floor, dB, that any frame shows within `bins` of `hz`.
fn excess_near(frames: &[UiFrame], plan: &SweepPlan, hz: f64, bins: usize) -> f32 {
    let b = plan.panorama.bin_of(hz).round() as usize;
    frames
        .iter()
        .flat_map(|f| (b - bins..=b + bins).map(move |i| f.power_db[i] - f.floor_db[i]))
        .filter(|x| x.is_finite())
        .fold(f32::NEG_INFINITY, f32::max)
}

/// Samples the sweeping source delivered that were taken at the frequency it had left,
/// counted in 64-sample windows: after each retune away from a step whose band holds the
/// tone at `tone_hz`, a window whose samples correlate with the tone where the old tuning
/// put it. Returns (stale samples, samples delivered).
fn stale_delivered(o: OpenSweep, tone_hz: f64) -> (u64, u64) {
    const W: usize = 64;
    let OpenSweep { mut source, .. } = o;
    let rate = source.meta().sample_rate_hz;
    let mut buf = vec![Complex32::default(); 1 << 16];
    let (mut prev, mut now): (Option<f64>, Option<f64>) = (None, None);
    let mut dwell: Vec<Complex32> = Vec::new();
    let (mut stale, mut delivered) = (0u64, 0u64);
    let check = |old: Option<f64>, dwell: &[Complex32]| {
        let Some(old) = old.filter(|c| (tone_hz - c).abs() < rate / 2.0) else {
            return 0;
        };
        let w = -std::f64::consts::TAU * (tone_hz - old) / rate;
        let mut n = 0u64;
        for (k, win) in dwell.chunks_exact(W).enumerate() {
            let mut acc = num_complex::Complex64::default();
            for (j, x) in win.iter().enumerate() {
                let ph = w * (k * W + j) as f64;
                acc += num_complex::Complex64::new(f64::from(x.re), f64::from(x.im))
                    * num_complex::Complex64::from_polar(1.0, ph);
            }
            // The tone is at -20 dBFS (power 1e-2); noise in a window's mean is ~1e-8.
            if (acc / W as f64).norm_sqr() > 1e-4 {
                n += W as u64;
            }
        }
        n
    };
    loop {
        match source.read_cf32(&mut buf).unwrap() {
            ReadOutcome::Samples(n) => {
                dwell.extend_from_slice(&buf[..n]);
                delivered += n as u64;
            }
            ReadOutcome::Retuned(r) => {
                stale += check(prev, &dwell);
                dwell.clear();
                prev = now;
                now = Some(r.centre_hz);
            }
            ReadOutcome::Eof => break,
            ReadOutcome::Pending => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    stale += check(prev, &dwell);
    (stale, delivered)
}

/// A strong tone in one step, and the steps visited after it. Counted at the source, no
/// sample of the old frequency is delivered after a retune with the settle discard (the
/// default, or exactly the simulator's stale samples); with a settle one transfer short,
/// that transfer is, after every retune away from the tone. Seen in the spectrum, the
/// old frequency never shows in the next step's panorama (its alias bins show noise
/// alone) with the discard, and shows 60 dB up, and is alerted, without it. Removing the
/// discard from the source fails the default case.
#[test]
fn stale_samples_never_reach_the_spectrum() {
    // 450–460 MHz is all UHF land mobile (info): every step once a cycle, in order.
    let args = |serial: &str, tone: f64, settle: Option<&str>| {
        let d = dev(serial, &format!("tones={tone}:-20,seed=3"));
        let mut a = vec![
            "--device".to_string(),
            d,
            "--sweep".into(),
            "450M-460M".into(),
            "--rate".into(),
            "2.4M".into(),
            "--duration".into(),
            "3s".into(),
            "--headless".into(),
        ];
        if let Some(s) = settle {
            a.extend(["--settle".into(), s.into()]);
        }
        a
    };
    let plan = open(&strs(&args("stale-plan", 455e6, None))).plan;
    // The tone 0.6 MHz above step 2's centre: inside step 2, outside step 3's kept part;
    // step 3 comes next, and stale samples would show it 0.6 MHz above step 3's centre.
    let (a, b) = (&plan.steps[2], &plan.steps[3]);
    assert_eq!(plan.cycle[2].step, 2);
    assert_eq!(plan.cycle[3].step, 3);
    let tone = a.centre_hz + 0.6e6;
    let alias = b.centre_hz + 0.6e6;
    let half = (b.keep.1 - b.keep.0) as f64 / 2.0 * plan.bin_hz();
    assert!(tone < b.centre_hz - half && alias > b.own_lo_hz && alias < b.own_hi_hz);
    // The simulator's defaults: 32768 stale samples and 1 ms (2400) of retune latency.
    let stale: u64 = 32768 + 2400;
    let rate = 2.4e6;
    let cases = [
        ("default", None, false),
        ("exact", Some(format!("{}s", stale as f64 / rate)), false),
        (
            "short",
            Some(format!("{}s", (stale - 16384) as f64 / rate)),
            true,
        ),
        ("none", Some("0s".to_string()), true),
    ];
    for (name, settle, leaks) in cases {
        // At the source: the samples the spectrum stage would be given.
        let a = args(&format!("stale-count-{name}"), tone, settle.as_deref());
        let o = open(&strs(&a));
        let settled = o.plan.geometry.settle_samples;
        // Retunes away from a step whose band holds the tone, in the stream: steps 2
        // and 3 once a cycle each.
        let cycles = 3.0 * rate / o.plan.cycle_samples() as f64;
        let (stale_n, delivered) = stale_delivered(o, tone);
        let per_retune = stale.saturating_sub(settled);
        eprintln!(
            "stale: settle {name} ({settled} samples): {stale_n} stale samples delivered of {delivered} \
             ({per_retune} per retune away from the tone expected, {cycles:.1} cycles)"
        );
        if leaks {
            let away = (2.0 * cycles).floor() as u64;
            assert!(
                stale_n >= away * (per_retune - 64) && stale_n <= (away + 2) * (per_retune + 64),
                "{name}: {stale_n} stale samples, {per_retune} expected per retune"
            );
        } else {
            assert_eq!(stale_n, 0, "{name}: stale samples delivered");
        }

        // Through the pipeline: what the console and the detector see.
        let a = args(&format!("stale-{name}"), tone, settle.as_deref());
        let o = open(&strs(&a));
        let (alerts, frames, plan) = run(o, true);
        let at_alias = excess_near(&frames, &plan, alias, 3);
        let at_tone = excess_near(&frames, &plan, tone, 3);
        let alias_alerts = alerts
            .iter()
            .filter(|x| x.state == AlertState::Raised && (x.freq_hz - alias).abs() < 20e3)
            .count();
        eprintln!(
            "stale: settle {name} ({settled} samples): tone +{at_tone:.1} dB, alias +{at_alias:.1} dB over the floor in {} frames, {alias_alerts} alias alert(s)",
            frames.len()
        );
        assert!(at_tone > 40.0, "the tone itself is seen: {at_tone}");
        if leaks {
            assert!(
                at_alias > 20.0,
                "{name}: the old frequency should leak: {at_alias}"
            );
        } else {
            // Noise alone: the largest of some hundred spectra, a few dB over the floor.
            assert!(
                at_alias < 8.0,
                "{name}: stale samples reached the spectrum: {at_alias}"
            );
            assert_eq!(alias_alerts, 0, "{alerts:#?}");
        }
    }
}

/// The stitched spectrum of a noise-only scene, straight from the sweeping source through
/// the Welch stage: mean power per panorama bin (the pipeline's framing, without threads).
fn stitched_mean(o: OpenSweep) -> (Vec<f64>, Arc<SweepPlan>) {
    let OpenSweep {
        mut source,
        cfg,
        plan,
        ..
    } = o;
    let spec = cfg.spectrum;
    let mut welch = Welch::new(spec);
    let pano = plan.panorama;
    // Per step: (kept bin, panorama bin) for the bins it owns.
    let maps: Vec<Vec<(usize, usize)>> = (0..plan.steps.len())
        .map(|i| {
            let g = plan.step_grid(i);
            let s = &plan.steps[i];
            (0..g.bins)
                .filter(|&m| (s.own_lo_hz..s.own_hi_hz).contains(&g.freq_of(m as f64)))
                .map(|m| (m, pano.bin_of(g.freq_of(m as f64)).round() as usize))
                .collect()
        })
        .collect();
    let mut sum = vec![0.0f64; pano.bins];
    let mut count = vec![0u32; pano.bins];
    let mut dwell: Vec<Complex32> = Vec::new();
    let mut step: Option<usize> = None;
    let mut buf = vec![Complex32::default(); 1 << 16];
    let mut out = vec![0.0f32; 64 * spec.fft_len];
    let mut flush = |step: Option<usize>, dwell: &mut Vec<Complex32>| {
        if let Some(i) = step {
            let n = welch.process(dwell, &mut out);
            let (k0, _) = plan.steps[i].keep;
            for p in out.chunks_exact(spec.fft_len).take(n) {
                for &(m, b) in &maps[i] {
                    sum[b] += f64::from(p[k0 + m]);
                    count[b] += 1;
                }
            }
        }
        dwell.clear();
    };
    loop {
        match source.read_cf32(&mut buf).unwrap() {
            ReadOutcome::Samples(n) => dwell.extend_from_slice(&buf[..n]),
            ReadOutcome::Retuned(r) => {
                flush(step, &mut dwell);
                step = Some(r.step as usize);
            }
            ReadOutcome::Eof => break,
            ReadOutcome::Pending => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    flush(step, &mut dwell);
    let mean = sum
        .iter()
        .zip(&count)
        .map(|(&s, &c)| if c > 0 { s / f64::from(c) } else { f64::NAN })
        .collect();
    (mean, plan)
}

/// Ripple, dB: the spread of the mean power over 32-bin groups across every swept bin.
fn ripple_db(mean: &[f64]) -> f64 {
    let groups: Vec<f64> = mean
        .chunks(32)
        .filter(|c| c.iter().all(|v| v.is_finite()))
        .map(|c| 10.0 * (c.iter().sum::<f64>() / c.len() as f64).log10())
        .collect();
    let hi = groups.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lo = groups.iter().copied().fold(f64::INFINITY, f64::min);
    hi - lo
}

/// The worst seam, dB: at each seam between two steps, the mean power of the 32 bins
/// around it against the mean of every swept bin.
fn seam_db(mean: &[f64], plan: &SweepPlan) -> f64 {
    let fin: Vec<f64> = mean.iter().copied().filter(|v| v.is_finite()).collect();
    let all = fin.iter().sum::<f64>() / fin.len() as f64;
    plan.steps
        .windows(2)
        .filter(|w| w[0].own_hi_hz == w[1].own_lo_hz)
        .map(|w| {
            let b = plan.panorama.bin_of(w[0].own_hi_hz).round() as usize;
            let near = &mean[b - 16..b + 16];
            (10.0 * (near.iter().sum::<f64>() / near.len() as f64 / all).log10()).abs()
        })
        .fold(0.0, f64::max)
}

/// Flat noise through a simulated tuner whose filter rolls off at the band edges: the
/// steps stitched into one panorama are flat within 1 dB across every seam, because the
/// edges are cropped; without the crop the roll-off shows at each seam.
#[test]
fn seam_ripple_is_within_one_db_on_flat_noise() {
    let args = |serial: &str, crop: &str| {
        vec![
            "--device".to_string(),
            dev(serial, "filter=true,seed=5"),
            "--sweep".into(),
            "450M-470M".into(),
            "--rate".into(),
            "2.4M".into(),
            "--crop".into(),
            crop.into(),
            "--duration".into(),
            "6s".into(),
            "--headless".into(),
        ]
    };
    let (mean, plan) = stitched_mean(open(&strs(&args("ripple", "30"))));
    let r = ripple_db(&mean);
    // The pipeline's stitched noise floor, which detection judges against.
    let (_, frames, _) = run(open(&strs(&args("ripple-floor", "30"))), true);
    let floor = frames.last().map(|f| f.floor_db.clone()).unwrap();
    let floor_lin: Vec<f64> = floor
        .iter()
        .map(|&d| 10f64.powf(f64::from(d) / 10.0))
        .collect();
    let floor_ripple = ripple_db(&floor_lin);
    let (uncropped, plan0) = stitched_mean(open(&strs(&args("ripple-nocrop", "0"))));
    let r0 = ripple_db(&uncropped);
    let (seam, seam0) = (seam_db(&mean, &plan), seam_db(&uncropped, &plan0));
    eprintln!(
        "ripple: {} steps, {} seams: {r:.2} dB stitched spectrum (worst seam {seam:.2} dB), \
         {floor_ripple:.2} dB stitched floor; uncropped {r0:.1} dB (worst seam {seam0:.1} dB)",
        plan.steps.len(),
        plan.steps.len() - 1
    );
    assert!(plan.steps.len() >= 10);
    assert!(r <= 1.0, "seam ripple {r:.2} dB");
    assert!(seam <= 1.0, "worst seam {seam:.2} dB");
    assert!(floor_ripple <= 1.0, "floor ripple {floor_ripple:.2} dB");
    assert!(
        r0 > 3.0,
        "without cropping the roll-off should show: {r0:.2} dB"
    );
}

/// A 20 kHz-wide emitter centred on a seam: both steps see all of it (their kept parts
/// overlap by 72 bins, 170 kHz), each step's detector reports it, and the operator gets one
/// alert, in its band, at its frequency.
#[test]
fn an_emitter_across_a_seam_is_reported_once() {
    let plan = open(&[
        "--device",
        &dev("seam-plan", ""),
        "--sweep",
        "450M-460M",
        "--rate",
        "2.4M",
        "--headless",
    ])
    .plan;
    let seam = plan.steps[3].own_hi_hz;
    let half =
        |i: usize| (plan.steps[i].keep.1 - plan.steps[i].keep.0) as f64 / 2.0 * plan.bin_hz();
    // Both steps keep the whole emitter.
    assert!(seam + 10e3 < plan.steps[3].centre_hz + half(3) - 20e3);
    assert!(seam - 10e3 > plan.steps[4].centre_hz - half(4) + 20e3);
    let device = dev("seam", &format!("wides={seam}:20e3:-45,seed=7"));
    let (alerts, _, _) = run(
        open(&[
            "--device",
            &device,
            "--sweep",
            "450M-460M",
            "--rate",
            "2.4M",
            "--duration",
            "8s",
            "--headless",
        ]),
        false,
    );
    let near: Vec<&Alert> = alerts
        .iter()
        .filter(|a| (a.freq_hz - seam).abs() < 100e3)
        .collect();
    let raised: Vec<&&Alert> = near
        .iter()
        .filter(|a| a.state == AlertState::Raised)
        .collect();
    eprintln!("seam at {seam} Hz: {near:#?}");
    assert_eq!(raised.len(), 1, "one alert for the emitter: {alerts:#?}");
    assert_eq!(raised[0].kind, AlertKind::NewEmitter);
    assert_eq!(raised[0].band.as_deref(), Some("UHF land mobile"));
    assert!((raised[0].freq_hz - seam).abs() < 5e3, "{:?}", raised[0]);
    let last = near.last().unwrap();
    assert_eq!(last.state, AlertState::Cleared);
    assert_eq!(last.id, raised[0].id);
    // Nothing else on the air: no other alert at all.
    assert_eq!(alerts.len(), near.len(), "{alerts:#?}");
}

/// The detection of a sweep without the pipeline's threads: the sweeping source through
/// libSoapySDR, each dwell framed as the pipeline frames it (from its first sample after
/// the settle, `span` apart), the Welch stage and the per-step detectors. Every alert with
/// the stream time it was emitted at: the end of the spectrum whose push emitted it.
fn detect_inline(o: OpenSweep) -> Vec<(Alert, f64)> {
    let OpenSweep {
        mut source,
        cfg,
        plan,
        ..
    } = o;
    let spec = cfg.spectrum;
    let meta = source.meta().clone();
    let rate = meta.sample_rate_hz;
    let mut det = SweepDetector::new(
        cfg.detector,
        &spec,
        &meta,
        plan.clone(),
        cfg.knowledge.clone(),
    );
    let mut welch = Welch::new(spec);
    let mut out = vec![0.0f32; 64 * spec.fft_len];
    let mut alerts = Vec::new();
    let mut dwell: Vec<Complex32> = Vec::new();
    let mut buf = vec![Complex32::default(); 1 << 16];
    // (tuning, first sample of the dwell) of the dwell being read.
    let mut at: Option<(Retune, u64)> = None;
    let mut pos = 0u64;
    let mut flush =
        |at: Option<(Retune, u64)>, dwell: &mut Vec<Complex32>, det: &mut SweepDetector| {
            if let Some((r, first)) = at {
                let n = welch.process(dwell, &mut out);
                for (j, p) in out.chunks_exact(spec.fft_len).take(n).enumerate() {
                    let start = first + (j * spec.span()) as u64;
                    let t1 = (start + (spec.span() + spec.history()) as u64) as f64 / rate;
                    det.push(p, None, start, r.step as usize, r.dwell, &mut |a| {
                        alerts.push((a, t1))
                    });
                }
            }
            dwell.clear();
        };
    loop {
        match source.read_cf32(&mut buf).unwrap() {
            ReadOutcome::Samples(n) => {
                dwell.extend_from_slice(&buf[..n]);
                pos += n as u64;
            }
            ReadOutcome::Retuned(r) => {
                flush(at, &mut dwell, &mut det);
                pos += r.settled;
                at = Some((r, pos));
            }
            ReadOutcome::Eof => break,
            ReadOutcome::Pending => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    flush(at, &mut dwell, &mut det);
    let end = pos as f64 / rate;
    det.finish(&mut |a| alerts.push((a, end)));
    alerts
}

/// A 0.5 ms pulse every 150 ms in LPD433 (a warning band, visited twice as often as the
/// UHF band around it), over 30 trials with random pulse phases: how many are reported by
/// the model's 50% and 90% times agrees with the model within its 99% binomial band; every
/// trial is reported by the time the model says all are; and trial by trial, the report
/// comes when the model says it does for that phase. Time is the stream's: each trial is
/// the same whatever the machine's load.
#[test]
fn a_pulsed_emitter_is_found_as_the_poi_model_predicts() {
    const TRIALS: u32 = 30;
    let base = |serial: &str, pulses: &str, duration: &str| {
        vec![
            "--device".to_string(),
            dev(serial, &format!("retune_stale=4096,retune_ms=0.5{pulses}")),
            "--sweep".into(),
            "425M-445M".into(),
            "--rate".into(),
            "2.4M".into(),
            "--settle".into(),
            "3ms".into(),
            "--duration".into(),
            duration.into(),
            "--headless".into(),
        ]
    };
    let o = open(&strs(&base("poi-plan", "", "1s")));
    let plan = o.plan.clone();
    let lpd = plan.bands.iter().find(|b| &*b.name == "LPD433").unwrap();
    let step = plan.step_at(433.92e6).unwrap();
    assert!(lpd.steps.contains(&step));
    assert_eq!(plan.steps[step].weight, 2, "LPD433 is a warning band");
    let f = plan.steps[step].centre_hz + 50e3;
    let pulse = Pulse {
        width_s: 0.5e-3,
        period_s: 0.150,
    };
    let poi = step_poi(&plan, step, &o.cfg.detector, pulse);
    let rule = Rule::from(&plan.step_config(step, &o.cfg.detector).tracker);
    let looks = step_looks(&plan, step);
    let (t50, t90) = (poi.time_for(0.5).unwrap(), poi.time_for(0.9).unwrap());
    let all = poi.time_for(1.0).unwrap();
    let horizon = all + 0.2;
    drop(o);

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    let mut found = Vec::new();
    let mut agree = 0;
    for i in 0..TRIALS {
        let phase: f64 = rng.random_range(0.0..pulse.period_s);
        let pulses = format!(",seed={i},pulses={f}:-30:0.0005:0.15:{phase}");
        let alerts = detect_inline(open(&strs(&base(
            &format!("poi-{i}"),
            &pulses,
            &format!("{horizon}s"),
        ))));
        let raised: Vec<&(Alert, f64)> = alerts
            .iter()
            .filter(|(a, _)| a.state == AlertState::Raised)
            .collect();
        // The pulse and nothing else: one alert, at its frequency.
        assert!(raised.len() <= 1, "trial {i}: {raised:#?}");
        let hit = raised.first().filter(|(a, _)| (a.freq_hz - f).abs() < 10e3);
        let t = hit.map(|&&(_, t)| t);
        let predicted = looks.report_time(&pulse, &rule, phase, horizon);
        let sighted = looks.first_sighting(&pulse, phase, horizon);
        if let (Some(t), Some(p)) = (t, predicted) {
            if (t - p).abs() < 1e-6 {
                agree += 1;
            }
        }
        eprintln!(
            "poi trial {i}: phase {phase:.4} s: reported at {t:?} (seen to {:?}), model {predicted:?} (seen to {sighted:?})",
            hit.map(|(a, _)| a.last_seen_s)
        );
        found.push(t);
    }
    let by = |x: f64| found.iter().filter(|t| t.is_some_and(|t| t <= x)).count() as u32;
    let (k50, k90, kall) = (by(t50), by(t90), by(all));
    let band50 = binomial_band(TRIALS, poi.by(t50), 0.99);
    let band90 = binomial_band(TRIALS, poi.by(t90), 0.99);
    eprintln!(
        "poi: revisit {:.3} s, {:.0}%/visit; model 50% by {t50:.2} s, 90% by {t90:.2} s, all by {all:.2} s; \
         measured {k50}/{TRIALS} by t50 (band {band50:?}), {k90}/{TRIALS} by t90 (band {band90:?}), \
         {kall}/{TRIALS} by {all:.2} s; {agree}/{TRIALS} reported at the spectrum the model names",
        plan.revisit_s(step).0,
        poi.per_visit * 100.0
    );
    assert!(
        (band50.0..=band50.1).contains(&k50),
        "{k50} by t50, band {band50:?}"
    );
    assert!(
        (band90.0..=band90.1).contains(&k90),
        "{k90} by t90, band {band90:?}"
    );
    assert_eq!(kall, TRIALS, "every phase is reported by {all:.2} s");
    // A phase whose pulse straddles a spectrum's edge may be seen a look earlier or later
    // than the model's half-a-pulse rule says; the others are reported exactly then.
    assert!(agree + 2 >= TRIALS, "{agree}/{TRIALS} as the model says");
}

fn kuzet(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kuzet"))
        .args(args)
        .output()
        .expect("run kuzet");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_sweep_specs_exit_2_naming_the_flag() {
    let d = dev("bad", "");
    let cases: &[(&[&str], &[&str])] = &[
        (&["--sweep", "440M-430M"], &["--sweep", "empty range"]),
        (
            &["--sweep", "6.5G-6.6G"],
            &["--sweep", "outside driver=kuzetsim", "6 GHz"],
        ),
        (&["--sweep", "100M-120M"], &["--sweep", "overlaps no band"]),
        (&["--sweep", "nonsense"], &["--sweep", "not a range"]),
        (&["--sweep", "--freq", "433M"], &["--freq"]),
        (&["--sweep", "--poi", "2ms/1ms"], &["--poi"]),
        (&["--sweep", "--crop", "100"], &["--crop"]),
        (&["--dwell", "20ms"], &["--sweep"]),
    ];
    for (extra, want) in cases {
        let mut args = vec!["watch", "--device", &d, "--duration", "0.1s", "--headless"];
        args.extend_from_slice(extra);
        let (code, err) = kuzet(&args);
        assert_eq!(code, Some(2), "{extra:?}: {err}");
        for w in *want {
            assert!(err.contains(w), "{extra:?}: no {w:?} in {err}");
        }
    }
}

/// `kuzet watch --sweep` end to end on the binary: the plan and the probability of
/// intercept at the start, alerts at absolute frequencies, measured revisits at the end.
#[test]
fn watch_sweep_states_its_poi_and_reports_at_absolute_frequencies() {
    let d = dev("e2e", "tones=433.92e6:-40/451.3e6:-40,seed=2");
    let out = Command::new(env!("CARGO_BIN_EXE_kuzet"))
        .args([
            "watch",
            "--device",
            &d,
            "--sweep",
            "425M-455M",
            "--rate",
            "2.4M",
            "--duration",
            "5s",
            "--headless",
        ])
        .output()
        .expect("run kuzet");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for want in [
        "kuzet: sweep: ",
        "steps over 1 range(s)",
        "POI for 0.5 ms/150 ms pulses",
        "LPD433",
        "%/visit, 50% by ",
        "revisit planned  measured",
        "retunes",
        "GHz/s of stream",
    ] {
        assert!(err.contains(want), "no {want:?} in\n{err}");
    }
    let alerts: Vec<Alert> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (f, band) in [(433.92e6, "LPD433"), (451.3e6, "UHF land mobile")] {
        let a = alerts
            .iter()
            .find(|a| a.state == AlertState::Raised && (a.freq_hz - f).abs() < 2.4e6 / 1024.0)
            .unwrap_or_else(|| panic!("no alert at {f}: {alerts:#?}"));
        assert_eq!(a.band.as_deref(), Some(band));
    }
    let raised = alerts
        .iter()
        .filter(|a| a.state == AlertState::Raised)
        .count();
    assert_eq!(raised, 2, "{alerts:#?}");
}
