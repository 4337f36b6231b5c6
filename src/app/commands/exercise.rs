//! `kuzet exercise check|export|run|report`: training exercises (docs/exercises.md).
//!
//! ```text
//!  check   Exercise::load ─▶ measure the base's floor ─▶ timeline on stdout
//!  export  mix (base + injections) ──source::copy──▶ IqSink (.h5 | .sigmf-meta) + annotations
//!  run     mix ─▶ PacedSource ─▶ pipeline::start ─▶ tui::run        (console, real time)
//!          mix ─▶ Scheduled seeks ─▶ pipeline::run ─▶ resolve actions (scripted, max speed)
//!              └─ alerts, acks, seeks, transport ──▶ session log (sinks::session_log)
//!  report  session logs ─▶ eval::exercise::report (+ base alone through the pipeline for
//!          its known emitters) ─▶ table | JSON | class rows | picture (mix redone)
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use crate::alert::Alert;
use crate::app::config::{Exercise as Settings, ExerciseAction};
use crate::app::report;
use crate::error::{Error, Result};
use crate::eval::exercise::report::{class_table, ClassRow, SessionReport};
use crate::eval::exercise::session::{self, Session};
use crate::eval::exercise::{picture, Exercise, Floor};
use crate::eval::score::is_health;
use crate::formats::SampleFormat;
use crate::pipeline::{self, Counters, Event, PipelineConfig};
use crate::sinks::session_log::{
    now_utc, AlertLine, EndLine, Header, Line, LoopLine, Mark, SeekLine, SessionMode,
    SharedSessionLog, SpeedLine,
};
use crate::source::mix::{Jump, Scheduled};
use crate::source::paced::{PaceControl, PacedSource, Transport};
use crate::tui::{self, app::SourceInfo, Console};
use crate::types::Annotation;
use crate::units;

/// Runs `kuzet exercise ...`.
///
/// # Errors
/// A bad exercise file or session log (exit 2), an unreadable base, a failing stage.
pub fn run(s: &Settings, stop: &Arc<AtomicBool>) -> Result<ExitCode> {
    match &s.action {
        ExerciseAction::Check => check(s),
        ExerciseAction::Export { output, to, force } => export(s, output, *to, *force, stop),
        ExerciseAction::Run {
            trainee,
            log_dir,
            actions,
        } => session(s, trainee, log_dir, actions.as_deref(), stop),
        ExerciseAction::Report {
            sessions,
            json,
            picture,
            force,
            columns,
        } => {
            if let Some((out, _)) = picture {
                super::refuse_existing(std::slice::from_ref(out), *force)?;
            }
            report_sessions(s, sessions, *json, picture.as_ref(), *columns, stop)
        }
    }
}

/// The exercise file of a command that has one (all but `report`).
fn file(s: &Settings) -> Result<&Path> {
    s.file
        .as_deref()
        .ok_or_else(|| Error::Config("give the exercise file".into()))
}

/// Loads the exercise, warns about its base, measures the floor; the pipeline settings.
fn prepare(s: &Settings, path: &Path) -> Result<(Exercise, Floor, PipelineConfig)> {
    let x = Exercise::load(path)?;
    report::warnings(&x.base.display().to_string(), &x.open_base()?.warnings);
    let cfg = s.dsp.pipeline(&x.base_meta)?;
    let floor = x.measure_floor()?;
    Ok((x, floor, cfg))
}

fn print(text: &str) -> Result<()> {
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::AlertSink(e)),
        _ => Ok(()),
    }
}

fn check(s: &Settings) -> Result<ExitCode> {
    let (x, floor, _) = prepare(s, file(s)?)?;
    print(&x.timeline(&floor))?;
    let own = x.base_annotations()?.len();
    eprintln!(
        "kuzet: {} is valid: {} injection(s) over {:.1} s; the base carries {own} annotation(s) (known emitters)",
        x.path.display(),
        x.injections.len(),
        x.duration_s
    );
    Ok(ExitCode::SUCCESS)
}

fn export(
    s: &Settings,
    output: &Path,
    to: crate::formats::convert::OutputKind,
    force: bool,
    stop: &AtomicBool,
) -> Result<ExitCode> {
    super::refuse_existing(&to.outputs(output), force)?;
    let (x, floor, _) = prepare(s, file(s)?)?;
    let mut mix = x.mix(&floor, true)?;
    let meta = crate::source::IqSource::meta(&mix).clone();
    let mut sink = to.create(output, &meta, SampleFormat::Cf32)?;
    let base = x.base_annotations()?;
    let truth = x.annotations(&floor);
    for a in base.iter().chain(&truth) {
        sink.annotate(a)?;
    }
    let stopped = crate::source::copy(&mut mix, sink.as_mut(), stop)?;
    let n = sink.finish()?;
    let outputs: Vec<String> = to
        .outputs(output)
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    eprintln!(
        "kuzet: wrote {}: {n} samples ({:.2} s), {} injection(s) and {} base annotation(s) as annotations{}",
        outputs.join(" + "),
        n as f64 / meta.sample_rate_hz,
        truth.len(),
        base.len(),
        if stopped {
            " (interrupted: the output holds the samples mixed so far)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `name` with only letters, digits, `-` and `_`, for a file name.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if s.is_empty() {
        "x".into()
    } else {
        s
    }
}

/// Creates a new session log in `dir`: `<exercise>-<trainee>-<UTC>.jsonl`, never one
/// that exists.
fn new_log(dir: &Path, x: &Exercise, trainee: &str) -> Result<(PathBuf, SharedSessionLog)> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let stem = format!("{}-{}-{stamp}", slug(&x.name), slug(trainee));
    for k in 1..1000 {
        let name = if k == 1 {
            format!("{stem}.jsonl")
        } else {
            format!("{stem}-{k}.jsonl")
        };
        let path = dir.join(name);
        match SharedSessionLog::create(&path) {
            Ok(log) => return Ok((path, log)),
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::Config(format!(
        "--log {}: no free session log name for {stem}",
        dir.display()
    )))
}

fn write(log: &SharedSessionLog, line: &Line) -> Result<()> {
    log.write(line).map_err(Error::AlertSink)
}

fn seek_line(j: Jump, rate: f64) -> Line {
    Line::Seek(SeekLine {
        stream_s: j.stream_sample as f64 / rate,
        stream_sample: Some(j.stream_sample),
        utc: now_utc(),
        from_s: Some(j.from as f64 / rate),
        to_s: j.to as f64 / rate,
    })
}

fn session(
    s: &Settings,
    trainee: &str,
    log_dir: &Path,
    actions: Option<&Path>,
    stop: &Arc<AtomicBool>,
) -> Result<ExitCode> {
    let (x, floor, mut cfg) = prepare(s, file(s)?)?;
    let rate = x.base_meta.sample_rate_hz;
    // Read before the log exists: a bad actions file leaves no half session behind.
    let script = actions
        .map(|p| session::read_actions(p, rate, x.len_samples()))
        .transpose()?;
    let (path, log) = new_log(log_dir, &x, trainee)?;
    let (exercise, injections) = x.info(&floor, cfg.spectrum.fft_len);
    write(
        &log,
        &Line::Session(Box::new(Header {
            schema: crate::sinks::session_log::SCHEMA,
            kuzet: env!("CARGO_PKG_VERSION").into(),
            mode: if script.is_some() {
                SessionMode::Scripted
            } else {
                SessionMode::Console
            },
            trainee: trainee.to_string(),
            started_utc: now_utc(),
            exercise,
            injections,
            actions: actions.map(|p| p.display().to_string()),
        })),
    )?;
    let ended = match script {
        Some(script) => scripted(&x, &floor, &cfg, &log, script, stop)?,
        None => {
            let mix = x.mix(&floor, true)?;
            let clock = mix.stream_clock();
            let mix = mix.on_jump({
                let log = log.clone();
                // A failure is kept by the log and reported at the end of the session.
                Box::new(move |j| {
                    let _ = log.write(&seek_line(j, rate));
                })
            });
            let ctl = PaceControl::new(Some(1.0), false);
            ctl.observe({
                let (log, clock) = (log.clone(), clock.clone());
                Box::new(move |t| {
                    let stream_s = clock.load(Relaxed) as f64 / rate;
                    let utc = now_utc();
                    let mark = || Mark {
                        stream_s,
                        utc: utc.clone(),
                    };
                    let line = match t {
                        Transport::Pause => Line::Pause(mark()),
                        Transport::Resume => Line::Resume(mark()),
                        Transport::Step => Line::Step(mark()),
                        Transport::HeldAtEnd => Line::Held(mark()),
                        Transport::Speed(speed) => Line::Speed(SpeedLine {
                            stream_s,
                            utc: utc.clone(),
                            speed,
                        }),
                        Transport::Loop(on) => Line::Loop(LoopLine {
                            stream_s,
                            utc: utc.clone(),
                            on,
                        }),
                        // The jump itself is logged by the mix, at its exact sample.
                        Transport::Seek(_) => return,
                    };
                    let _ = log.write(&line);
                })
            });
            cfg.session_log = Some(log.clone());
            let paced = PacedSource::new(Box::new(mix), ctl.clone(), cfg.spectrum.span(), true);
            let meta = crate::source::IqSource::meta(&paced).clone();
            let info = SourceInfo::new(&meta, &cfg.spectrum);
            let running = pipeline::start(
                Box::new(paced) as Box<dyn crate::source::IqSource>,
                cfg.clone(),
                stop.clone(),
                Some(tui::FRAME_PERIOD),
            )?;
            let console = Console {
                info,
                replay: Some(ctl),
                recording: false,
                sweep: None,
            };
            let setup = tui::Setup {
                verdicts: true,
                ..super::replay::setup(&s.dsp, None)
            };
            let stats = tui::run_with(running, console, setup, stop)?;
            report::summary(&meta, &cfg, &stats);
            (clock.load(Relaxed) as f64 / rate, "quit")
        }
    };
    write(
        &log,
        &Line::End(EndLine {
            stream_s: ended.0,
            utc: now_utc(),
            reason: ended.1.into(),
        }),
    )?;
    if let Some(e) = log.failure() {
        return Err(Error::Io { path, source: e });
    }
    eprintln!("kuzet: session log {}", path.display());
    eprintln!(
        "kuzet: score it with: kuzet exercise report '{}'",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A scripted session: the mix with the script's seeks through the pipeline as fast as
/// it goes, then the script's acknowledgements resolved against the alerts raised, and
/// the whole session written in stream order. Returns the end's stream time and reason.
fn scripted(
    x: &Exercise,
    floor: &Floor,
    cfg: &PipelineConfig,
    log: &SharedSessionLog,
    script: session::Actions,
    stop: &Arc<AtomicBool>,
) -> Result<(f64, &'static str)> {
    let rate = x.base_meta.sample_rate_hz;
    let jumps: Arc<Mutex<Vec<Jump>>> = Arc::default();
    let mix = x.mix(&floor.clone(), true)?.on_jump({
        let jumps = jumps.clone();
        Box::new(move |j| {
            jumps
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(j)
        })
    });
    let source = Scheduled::new(mix, script.seeks);
    let mut alerts: Vec<Alert> = Vec::new();
    let stats = pipeline::run(
        Box::new(source) as Box<dyn crate::source::IqSource>,
        cfg,
        Arc::new(Counters::default()),
        stop,
        &mut |ev| {
            if let Event::Alert(a) = ev {
                alerts.push(a);
            }
            Ok(())
        },
    )?;
    let (acted, warnings) = session::resolve(&script.lines, &alerts);
    report::warnings("--actions", &warnings);
    let mut others: Vec<Line> = jumps
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .map(|&j| seek_line(j, rate))
        .collect();
    // What the trainee does after the stream has ended never reached the console.
    others.extend(acted.into_iter().filter(|l| l.stream_s() <= stats.stream_s));
    let alert_lines = alerts
        .into_iter()
        .map(|a| {
            Line::Alert(AlertLine {
                stream_s: a.last_seen_s,
                utc: now_utc(),
                alert: a,
            })
        })
        .collect();
    for line in session::merge(alert_lines, others) {
        write(log, &line)?;
    }
    let reason = if stop.load(Relaxed) { "stopped" } else { "end" };
    Ok((stats.stream_s, reason))
}

/// The base's own emitters as boxes in exercise samples: its annotations, and every
/// alert the same pipeline raises on the base alone (from first seen to last seen).
fn known_emitters(
    x: &Exercise,
    floor: &Floor,
    cfg: &PipelineConfig,
    stop: &AtomicBool,
) -> Result<Vec<Annotation>> {
    let rate = x.base_meta.sample_rate_hz;
    let mut known = x.base_annotations()?;
    let mut lives: std::collections::BTreeMap<u64, (Alert, f64)> = Default::default();
    pipeline::run(
        Box::new(x.mix(floor, false)?) as Box<dyn crate::source::IqSource>,
        cfg,
        Arc::new(Counters::default()),
        stop,
        &mut |ev| {
            if let Event::Alert(a) = ev {
                if !is_health(a.kind) {
                    let end = a.last_seen_s;
                    lives
                        .entry(a.id)
                        .and_modify(|l| l.1 = l.1.max(end))
                        .or_insert((a, end));
                }
            }
            Ok(())
        },
    )?;
    for (a, end) in lives.into_values() {
        let start = (a.first_seen_s.max(0.0) * rate).round() as u64;
        known.push(Annotation {
            start_sample: start,
            length: ((end * rate).round() as u64).saturating_sub(start),
            freq_lo_hz: a.freq_hz - a.bandwidth_hz / 2.0,
            freq_hi_hz: a.freq_hz + a.bandwidth_hz / 2.0,
            label: format!("base alert {}", a.id),
            source: "kuzet/alert".into(),
        });
    }
    Ok(known)
}

fn report_sessions(
    s: &Settings,
    paths: &[PathBuf],
    json: bool,
    picture_to: Option<&(PathBuf, picture::Format)>,
    columns: usize,
    stop: &AtomicBool,
) -> Result<ExitCode> {
    let sessions: Vec<Session> = paths
        .iter()
        .map(|p| Session::read(p))
        .collect::<Result<_>>()?;
    let first = &sessions[0].header.exercise;
    for sx in &sessions[1..] {
        if sx.header.exercise.hash != first.hash || sx.header.exercise.name != first.name {
            return Err(Error::Config(format!(
                "{} is a session of exercise {} ({}), {} one of {} ({}): report on one exercise at a time",
                sx.path.display(),
                units::one_line(&sx.header.exercise.name),
                sx.header.exercise.hash,
                sessions[0].path.display(),
                units::one_line(&first.name),
                first.hash
            )));
        }
    }
    let exercise_path = s.file.clone().unwrap_or_else(|| PathBuf::from(&first.path));
    if !exercise_path.exists() {
        return Err(Error::Config(format!(
            "the exercise {} of the session is not there; give --exercise FILE",
            exercise_path.display()
        )));
    }
    let (x, floor, cfg) = prepare(s, &exercise_path)?;
    if x.hash != first.hash {
        return Err(Error::Config(format!(
            "{} has changed since the session (fingerprint {} then, {} now): the report would \
             not be of the exercise the trainee ran",
            exercise_path.display(),
            first.hash,
            x.hash
        )));
    }
    for sx in &sessions {
        if sx.header.kuzet != env!("CARGO_PKG_VERSION") {
            report::warnings(
                &sx.path.display().to_string(),
                &[format!(
                    "recorded by kuzet {}, scored by {}: the base's known emitters are found by this version's detector",
                    sx.header.kuzet,
                    env!("CARGO_PKG_VERSION")
                )],
            );
        }
    }
    let known = known_emitters(&x, &floor, &cfg, stop)?;
    let reports: Vec<SessionReport> = sessions
        .iter()
        .map(|sx| crate::eval::exercise::report::score(sx, &known))
        .collect();
    let text = if reports.len() == 1 {
        if json {
            json_line(&reports[0])?
        } else {
            reports[0].table()
        }
    } else {
        let rows: Vec<ClassRow> = reports.iter().map(ClassRow::from).collect();
        if json {
            #[derive(serde::Serialize)]
            struct Class<'a> {
                exercise: &'a str,
                trainees: &'a [ClassRow],
            }
            json_line(&Class {
                exercise: &x.name,
                trainees: &rows,
            })?
        } else {
            class_table(&x.name, &rows)
        }
    };
    print(&text)?;
    if let Some((out, format)) = picture_to {
        let mut mix = x.mix(&floor, true)?;
        let wf = picture::waterfall(&mut mix, cfg.spectrum, x.duration_s, columns)?;
        picture::draw(&reports[0], &sessions[0], &wf, out, *format)?;
        eprintln!("kuzet: wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn json_line(v: &impl serde::Serialize) -> Result<String> {
    let mut t = serde_json::to_string(v).map_err(|e| Error::AlertSink(std::io::Error::other(e)))?;
    t.push('\n');
    Ok(t)
}
