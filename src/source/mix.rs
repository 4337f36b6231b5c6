//! Mixing on the fly: a base recording with a scene's emitters added as it is read, for
//! training exercises (`kuzet exercise`). No mixed file is ever written to play one.
//!
//! ```text
//!  base recording (any format, looped to fill the exercise) ──┐
//!                                                              (+) ──▶ MixSource ──▶ pipeline
//!  synth::Emitters (random access, seeded) ───────────────────┘       │ seek → Jump (logged)
//! ```
//!
//! [`MixSource`] is a [`SeekableSource`], so paced replay can pause, seek and loop over it
//! like over a recording. Every sample of the mix depends only on its position in the
//! exercise: the base is read at `position mod base length`, and [`Emitters`] are random
//! access, so a mix is the same to the last bit between runs, after a seek and for any
//! read size. Each seek is reported with the stream index at which it took effect (a
//! [`Jump`]), which is what lets an exercise's session log map the pipeline's clock (which
//! keeps counting across seeks) back to exercise time. [`Scheduled`] performs seeks at
//! given stream indices, for scripted sessions.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use super::synth::Emitters;
use super::{IqSource, ReadOutcome, SampleBuf, SeekableSource};
use crate::error::{CaptureProblem, Error, Result};
use crate::types::StreamMeta;

/// A seek that took effect: at stream index `stream_sample` the read position moved from
/// `from` to `to` (positions in the mix, samples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    /// Samples delivered before the jump (the pipeline's sample index).
    pub stream_sample: u64,
    /// Position before the jump.
    pub from: u64,
    /// Position after it.
    pub to: u64,
}

/// Called on the reading thread for each [`Jump`].
pub type OnJump = Box<dyn FnMut(Jump) + Send>;

/// A base recording with emitters added, `len` samples long.
pub struct MixSource {
    base: Box<dyn SeekableSource>,
    base_len: u64,
    emitters: Option<Emitters>,
    meta: StreamMeta,
    len: u64,
    pos: u64,
    delivered: Arc<AtomicU64>,
    on_jump: Option<OnJump>,
}

impl std::fmt::Debug for MixSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MixSource")
            .field("meta", &self.meta)
            .field("pos", &self.pos)
            .field("emitters", &self.emitters)
            .finish()
    }
}

impl MixSource {
    /// Mixes `emitters` (none: the base alone) into `base` for `len` samples, looping
    /// the base when it is shorter. `meta` describes the mix (the base's rate and
    /// frequency; its own origin and description).
    ///
    /// # Errors
    /// [`Error::Capture`] for an empty base; [`Error::Config`] when `meta`'s rate is not
    /// the base's.
    pub fn new(
        base: Box<dyn SeekableSource>,
        emitters: Option<Emitters>,
        mut meta: StreamMeta,
        len: u64,
    ) -> Result<Self> {
        let base_len = base.len_samples();
        if base_len == 0 {
            return Err(Error::capture(
                base.meta().origin.clone(),
                CaptureProblem::Empty,
            ));
        }
        if meta.sample_rate_hz != base.meta().sample_rate_hz {
            return Err(Error::Config(format!(
                "a mix runs at its base's rate ({} S/s), not {}",
                base.meta().sample_rate_hz,
                meta.sample_rate_hz
            )));
        }
        meta.total_samples = Some(len);
        meta.live = false;
        Ok(MixSource {
            base,
            base_len,
            emitters,
            meta,
            len,
            pos: 0,
            delivered: Arc::new(AtomicU64::new(0)),
            on_jump: None,
        })
    }

    /// Calls `f` for every seek, on the thread that reads.
    pub fn on_jump(mut self, f: OnJump) -> Self {
        self.on_jump = Some(f);
        self
    }

    /// Samples delivered so far (the pipeline's sample index, which goes on across seeks),
    /// readable from other threads.
    pub fn stream_clock(&self) -> Arc<AtomicU64> {
        self.delivered.clone()
    }
}

impl IqSource for MixSource {
    fn meta(&self) -> &StreamMeta {
        &self.meta
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        let buf = buf.cf32()?;
        let want = (buf.len() as u64).min(self.len - self.pos) as usize;
        if want == 0 {
            return Ok(ReadOutcome::Eof);
        }
        let mut got = 0;
        // The base may hand over less than asked, and wraps at its end.
        while got < want {
            let at = (self.pos + got as u64) % self.base_len;
            let room = ((self.base_len - at) as usize).min(want - got);
            match self.base.read_cf32(&mut buf[got..got + room])? {
                ReadOutcome::Samples(n) if n > 0 => {
                    got += n;
                    if (self.pos + got as u64).is_multiple_of(self.base_len) {
                        self.base.seek(0);
                    }
                }
                // A recording that ends before its stated length: the mix goes on from
                // its start, so the exercise still has its length.
                ReadOutcome::Eof | ReadOutcome::Samples(_) => {
                    if at == 0 {
                        return Err(Error::capture(
                            self.meta.origin.clone(),
                            CaptureProblem::Empty,
                        ));
                    }
                    self.base_len = at;
                    self.base.seek(0);
                }
                // Recordings neither wait nor lose samples; pass anything else on.
                other => {
                    if got == 0 {
                        return Ok(other);
                    }
                    break;
                }
            }
        }
        if let Some(e) = self.emitters.as_mut() {
            e.add(self.pos, &mut buf[..got]);
        }
        self.pos += got as u64;
        self.delivered.fetch_add(got as u64, Relaxed);
        Ok(ReadOutcome::Samples(got))
    }

    fn non_finite_samples(&self) -> u64 {
        self.base.non_finite_samples()
    }
}

impl SeekableSource for MixSource {
    fn len_samples(&self) -> u64 {
        self.len
    }

    fn position(&self) -> u64 {
        self.pos
    }

    fn seek(&mut self, index: u64) {
        let to = index.min(self.len);
        let jump = Jump {
            stream_sample: self.delivered.load(Relaxed),
            from: self.pos,
            to,
        };
        self.pos = to;
        self.base.seek(to % self.base_len);
        if let Some(f) = self.on_jump.as_mut() {
            f(jump);
        }
    }
}

/// Performs seeks at given stream indices: a scripted trainee's seeks, exactly where the
/// script puts them, whatever the read sizes.
pub struct Scheduled<S> {
    inner: S,
    /// (stream index, target position), in order; the next one first.
    seeks: std::collections::VecDeque<(u64, u64)>,
    delivered: u64,
}

impl<S: SeekableSource> Scheduled<S> {
    /// Wraps `inner`; `seeks` are (stream index, position) pairs, sorted here.
    pub fn new(inner: S, mut seeks: Vec<(u64, u64)>) -> Self {
        seeks.sort_by_key(|s| s.0);
        Scheduled {
            inner,
            seeks: seeks.into(),
            delivered: 0,
        }
    }
}

impl<S: SeekableSource> IqSource for Scheduled<S> {
    fn meta(&self) -> &StreamMeta {
        self.inner.meta()
    }

    fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
        while let Some(&(at, to)) = self.seeks.front() {
            if at > self.delivered {
                break;
            }
            self.inner.seek(to);
            self.seeks.pop_front();
        }
        // Never read across the next seek: it must land on its exact sample.
        let want = match self.seeks.front() {
            Some(&(at, _)) => ((at - self.delivered) as usize).min(buf.len()),
            None => buf.len(),
        };
        let out = self.inner.read(buf.prefix(want))?;
        if let ReadOutcome::Samples(n) = out {
            self.delivered += n as u64;
        }
        Ok(out)
    }

    fn non_finite_samples(&self) -> u64 {
        self.inner.non_finite_samples()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::synth::{EmitterKind, EmitterSpec, Scene};
    use crate::units::Hz;
    use num_complex::Complex32;
    use std::sync::Mutex;

    /// A recording of a ramp: sample i is i.
    struct Ramp {
        meta: StreamMeta,
        len: u64,
        pos: u64,
    }

    impl IqSource for Ramp {
        fn meta(&self) -> &StreamMeta {
            &self.meta
        }
        fn read(&mut self, buf: SampleBuf<'_>) -> Result<ReadOutcome> {
            let buf = buf.cf32()?;
            // Short reads on purpose: at most 1000 samples.
            let n = (buf.len() as u64).min(self.len - self.pos).min(1000) as usize;
            if n == 0 {
                return Ok(ReadOutcome::Eof);
            }
            for (k, o) in buf[..n].iter_mut().enumerate() {
                *o = Complex32::new((self.pos + k as u64) as f32, 0.0);
            }
            self.pos += n as u64;
            Ok(ReadOutcome::Samples(n))
        }
    }

    impl SeekableSource for Ramp {
        fn len_samples(&self) -> u64 {
            self.len
        }
        fn position(&self) -> u64 {
            self.pos
        }
        fn seek(&mut self, index: u64) {
            self.pos = index.min(self.len);
        }
    }

    fn meta() -> StreamMeta {
        StreamMeta {
            sample_rate_hz: 100e3,
            center_freq_hz: 433.92e6,
            start_time_utc: None,
            gain_db: None,
            device: "test".into(),
            description: String::new(),
            origin: "ramp".into(),
            total_samples: None,
            live: false,
        }
    }

    fn ramp(len: u64) -> Box<dyn SeekableSource> {
        Box::new(Ramp {
            meta: meta(),
            len,
            pos: 0,
        })
    }

    fn drain(s: &mut dyn IqSource, chunk: usize) -> Vec<Complex32> {
        let mut out = Vec::new();
        let mut buf = vec![Complex32::default(); chunk];
        while let ReadOutcome::Samples(n) = s.read_cf32(&mut buf).unwrap() {
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn the_base_loops_to_fill_the_mix_and_seeks_are_reported() {
        let jumps = Arc::new(Mutex::new(Vec::new()));
        let j = jumps.clone();
        let mut mix = MixSource::new(ramp(2500), None, meta(), 6000)
            .unwrap()
            .on_jump(Box::new(move |x| j.lock().unwrap().push(x)));
        assert_eq!(mix.meta().total_samples, Some(6000));
        let got = drain(&mut mix, 1700);
        let want: Vec<f32> = (0..6000).map(|i| (i % 2500) as f32).collect();
        assert_eq!(got.iter().map(|z| z.re).collect::<Vec<_>>(), want);
        mix.seek(2600);
        let mut buf = vec![Complex32::default(); 3];
        assert_eq!(mix.read_cf32(&mut buf).unwrap(), ReadOutcome::Samples(3));
        assert_eq!(buf[0].re, 100.0);
        assert_eq!(
            jumps.lock().unwrap()[..],
            [Jump {
                stream_sample: 6000,
                from: 6000,
                to: 2600
            }]
        );
        assert_eq!(mix.stream_clock().load(Relaxed), 6003);
    }

    #[test]
    fn scheduled_seeks_land_on_their_sample() {
        let mix = MixSource::new(ramp(10_000), None, meta(), 10_000).unwrap();
        let mut s = Scheduled::new(mix, vec![(5000, 100), (1234, 9000)]);
        let got: Vec<f32> = drain(&mut s, 4096).iter().map(|z| z.re).collect();
        // 0..1234, then 9000..10000 (766 samples), the end of the mix; the second seek
        // (at stream 5000) never comes.
        let want: Vec<f32> = (0..1234).chain(9000..10_000).map(|i| i as f32).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn a_mix_is_the_same_after_a_seek() {
        let scene = Scene {
            sample_rate_hz: Hz(100e3),
            center_freq_hz: Hz(433.92e6),
            duration_s: 0.5,
            noise_dbfs: -40.0,
            seed: 3,
            description: String::new(),
            emitters: vec![
                EmitterSpec {
                    bandwidth_hz: Some(Hz(10e3)),
                    span_hz: Some(Hz(40e3)),
                    ..EmitterSpec::new(EmitterKind::Hopper, 0.0, 20.0)
                },
                EmitterSpec::new(EmitterKind::Fm, 20e3, 20.0),
            ],
        };
        let mix = |base| {
            MixSource::new(base, Some(Emitters::new(&scene).unwrap()), meta(), 50_000).unwrap()
        };
        let mut a = mix(ramp(7000));
        let whole = drain(&mut a, 4096);
        let mut b = mix(ramp(7000));
        b.seek(31_337);
        let tail = drain(&mut b, 999);
        assert_eq!(tail[..], whole[31_337..]);
        assert!(whole
            .iter()
            .zip(0..)
            .any(|(z, i)| z.re != (i % 7000) as f32));
    }
}
