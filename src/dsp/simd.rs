//! The element-wise loops of the spectrum stage and the floor (windowing, also straight
//! from stored int8/int16 pairs, |X|² accumulation, dB and exp), compiled twice: for the baseline target and,
//! on x86-64, for AVX2+FMA, picked at run time like rustfft picks its own kernels. A
//! default build (SSE2 only) would otherwise leave half the vector width unused on every
//! machine kuzet is likely to meet, and `-C target-cpu=native` is not an option for
//! binaries that must run on any x86-64.
//!
//! The only `unsafe` is calling a `#[target_feature]` function, after checking at run
//! time that the CPU has the feature.
#![allow(unsafe_code)]

use num_complex::Complex32;

use super::spectrum::fast_db;

#[inline(always)]
fn window_into_generic(frame: &mut [Complex32], x: &[Complex32], window2: &[f32]) {
    // Flat floats against the interleaved window: one multiply per float and no shuffles.
    let frame: &mut [f32] = bytemuck::cast_slice_mut(frame);
    let x: &[f32] = bytemuck::cast_slice(x);
    for ((o, &xi), &w) in frame.iter_mut().zip(x).zip(window2) {
        *o = xi * w;
    }
}

#[inline(always)]
fn window_pairs_into_generic<I: Copy + Into<f32>>(
    frame: &mut [Complex32],
    x: &[[I; 2]],
    window2: &[f32],
    scale: f32,
) {
    let frame: &mut [f32] = bytemuck::cast_slice_mut(frame);
    for ((o, &v), &w) in frame.iter_mut().zip(x.as_flattened()).zip(window2) {
        // The same two roundings as converting to float first and windowing after, so
        // the spectra are those of the converted samples to the last bit (int8 and
        // int16 values are exact as floats).
        let v: f32 = v.into();
        *o = (v * scale) * w;
    }
}

#[inline(always)]
fn accumulate_power_generic(acc2: &mut [f32], spectra: &[Complex32]) {
    // Squares of real and imaginary parts summed apart, in the spectra's own interleaved
    // order: vertical adds only, no shuffle to bring re and im together per frame
    // ([`fold_power`] adds the two halves once per averaged spectrum).
    let n2 = acc2.len();
    let spectra: &[f32] = bytemuck::cast_slice(spectra);
    // Two spectra per pass: `acc2` is loaded and stored half as often.
    let mut pairs = spectra.chunks_exact(2 * n2);
    for pair in pairs.by_ref() {
        let (a, b) = pair.split_at(n2);
        for ((s, &x), &y) in acc2.iter_mut().zip(a).zip(b) {
            *s += x * x + y * y;
        }
    }
    for x in pairs.remainder().chunks_exact(n2) {
        for (s, &x) in acc2.iter_mut().zip(x) {
            *s += x * x;
        }
    }
}

#[inline(always)]
fn max_power_generic(peak: &mut [f32], spectra: &[Complex32]) {
    for frame in spectra.chunks_exact(peak.len()) {
        for (m, c) in peak.iter_mut().zip(frame) {
            *m = m.max(c.norm_sqr());
        }
    }
}

#[inline(always)]
fn power_to_db_generic(values: &mut [f32]) {
    for v in values.iter_mut() {
        *v = fast_db(*v);
    }
}

/// e^x for x in [-87, 88] (clamped), within 2 ulp: Cephes' `expf`, range reduction to
/// |r| ≤ ln2/2 and a degree-5 polynomial, with no branches or calls so that a loop of it
/// vectorises (libm's `expf` is a call per value).
#[inline(always)]
pub(crate) fn fast_exp(x: f32) -> f32 {
    const C1: f32 = 0.693_359_4;
    const C2: f32 = -2.121_944_4e-4;
    // 1.5·2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - n * C1) - n * C2;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = p * (r * r) + r + 1.0;
    f32::from_bits(e.to_bits().wrapping_add(((n as i32) << 23) as u32))
}

#[inline(always)]
fn exp_in_place_generic(values: &mut [f32]) {
    for v in values.iter_mut() {
        *v = fast_exp(*v);
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use num_complex::Complex32;

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn window_into(frame: &mut [Complex32], x: &[Complex32], window2: &[f32]) {
        super::window_into_generic(frame, x, window2);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn window_ci8_into(
        frame: &mut [Complex32],
        x: &[[i8; 2]],
        window2: &[f32],
        scale: f32,
    ) {
        super::window_pairs_into_generic(frame, x, window2, scale);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn window_ci16_into(
        frame: &mut [Complex32],
        x: &[[i16; 2]],
        window2: &[f32],
        scale: f32,
    ) {
        super::window_pairs_into_generic(frame, x, window2, scale);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn accumulate_power(acc2: &mut [f32], spectra: &[Complex32]) {
        super::accumulate_power_generic(acc2, spectra);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn max_power(peak: &mut [f32], spectra: &[Complex32]) {
        super::max_power_generic(peak, spectra);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn power_to_db(values: &mut [f32]) {
        super::power_to_db_generic(values);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn exp_in_place(values: &mut [f32]) {
        super::exp_in_place_generic(values);
    }
}

/// True when the AVX2+FMA versions can run (checked once; the result is cached by std).
#[inline]
fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `frame[i] = x[i] · w[i]`, where `window2` holds each coefficient `w[i]` twice (see
/// [`interleave`]); the shortest of the three sets the length.
pub(super) fn window_into(frame: &mut [Complex32], x: &[Complex32], window2: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::window_into(frame, x, window2) };
        return;
    }
    window_into_generic(frame, x, window2);
}

/// `frame[i] = x[i] · scale · w[i]` for int8 samples, `window2` as in [`window_into`].
pub(super) fn window_ci8_into(frame: &mut [Complex32], x: &[[i8; 2]], window2: &[f32], scale: f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::window_ci8_into(frame, x, window2, scale) };
        return;
    }
    window_pairs_into_generic(frame, x, window2, scale);
}

/// `frame[i] = x[i] · scale · w[i]` for int16 samples, `window2` as in [`window_into`].
pub(super) fn window_ci16_into(
    frame: &mut [Complex32],
    x: &[[i16; 2]],
    window2: &[f32],
    scale: f32,
) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::window_ci16_into(frame, x, window2, scale) };
        return;
    }
    window_pairs_into_generic(frame, x, window2, scale);
}

/// Adds re² and im² of each `acc2.len() / 2`-long spectrum in `spectra` to `acc2`, which
/// holds the two sums of each bin side by side; [`fold_power`] turns them into |X|².
pub(super) fn accumulate_power(acc2: &mut [f32], spectra: &[Complex32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::accumulate_power(acc2, spectra) };
        return;
    }
    accumulate_power_generic(acc2, spectra);
}

/// `peak[i] = max(peak[i], |X_f[i]|²)` over each `peak.len()`-long spectrum `X_f` in
/// `spectra`: the largest power any one frame had in each bin.
pub(super) fn max_power(peak: &mut [f32], spectra: &[Complex32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::max_power(peak, spectra) };
        return;
    }
    max_power_generic(peak, spectra);
}

/// The window with each coefficient twice, once for the real and once for the imaginary
/// part, as [`window_into`] and its integer variants take it.
pub(super) fn interleave(window: &[f32]) -> Vec<f32> {
    window.iter().flat_map(|&w| [w, w]).collect()
}

/// `power[i] = (acc2[2i] + acc2[2i + 1]) · scale`: the per-bin sums of
/// [`accumulate_power`] as scaled |X|².
pub(super) fn fold_power(power: &mut [f32], acc2: &[f32], scale: f32) {
    for (p, pair) in power.iter_mut().zip(acc2.chunks_exact(2)) {
        *p = (pair[0] + pair[1]) * scale;
    }
}

/// `peak[i] = max(peak[i], (acc2[2i] + acc2[2i + 1]) · scale)`: a window's sums of
/// [`accumulate_power`] as scaled |X|², into the largest so far (natural bin order).
pub(super) fn fold_max_power(peak: &mut [f32], acc2: &[f32], scale: f32) {
    for (p, pair) in peak.iter_mut().zip(acc2.chunks_exact(2)) {
        *p = p.max((pair[0] + pair[1]) * scale);
    }
}

/// Asks the cache hierarchy for `region` ahead of use, one request per 64-byte line.
/// Frames read their new samples from a multi-megabyte block straight out of DRAM; the
/// hardware prefetcher stops at every 4 KiB page and cannot see far enough ahead while
/// the FFT keeps the core busy, so each frame would otherwise stall on memory. Requested
/// a batch early, the lines arrive while the previous batch is transformed.
#[inline]
pub(super) fn prefetch<T>(region: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let per_line = (64 / std::mem::size_of::<T>().max(1)).max(1);
        for line in region.chunks(per_line) {
            // SAFETY: prefetching is only a hint; it never faults, whatever the address,
            // and SSE is part of the x86-64 baseline.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = region;
}

/// Linear power to dB in place.
pub(super) fn power_to_db(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::power_to_db(values) };
        return;
    }
    power_to_db_generic(values);
}

/// `v = e^v` in place, by [`fast_exp`].
pub(crate) fn exp_in_place(values: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::exp_in_place(values) };
        return;
    }
    exp_in_place_generic(values);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_within_a_few_ulp_of_exp() {
        let xs: Vec<f32> = (0..=174_000).map(|i| -87.0 + i as f32 * 0.001).collect();
        let mut got = xs.clone();
        exp_in_place(&mut got);
        let mut worst = 0.0f64;
        for (&x, &g) in xs.iter().zip(&got) {
            let want = (x as f64).exp();
            worst = worst.max((g as f64 / want - 1.0).abs());
            assert_eq!(g, fast_exp(x), "the AVX2 build computes the same values");
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
    }

    #[test]
    fn int8_windowing_equals_converting_then_windowing() {
        let x: Vec<[i8; 2]> = (0..300)
            .map(|i| [(i * 7 % 256) as u8 as i8, (i % 256) as u8 as i8])
            .collect();
        let window = interleave(
            &(0..300)
                .map(|i| (i as f32 * 0.01).sin())
                .collect::<Vec<_>>(),
        );
        let scale = 1.0 / 127.5;
        // What the capture reader's conversion computes (formats::samples).
        let floats: Vec<f32> = x.as_flattened().iter().map(|&v| v as f32 * scale).collect();
        let cx: Vec<Complex32> = floats
            .chunks(2)
            .map(|p| Complex32::new(p[0], p[1]))
            .collect();
        let (mut a, mut b) = (
            vec![Complex32::default(); 300],
            vec![Complex32::default(); 300],
        );
        window_into(&mut a, &cx, &window);
        window_ci8_into(&mut b, &x, &window, scale);
        assert_eq!(a, b);
    }

    #[test]
    fn int16_windowing_equals_converting_then_windowing() {
        // The whole int16 range, at a scale that rounds (not a power of two).
        let x: Vec<[i16; 2]> = (0..2000)
            .map(|i| {
                [
                    (i * 6553 % 65536) as u16 as i16,
                    (i * 33 % 65536) as u16 as i16,
                ]
            })
            .collect();
        let window = interleave(
            &(0..2000)
                .map(|i| (i as f32 * 0.003).sin())
                .collect::<Vec<_>>(),
        );
        let scale = 1.0 / 32767.5;
        let floats: Vec<f32> = x.as_flattened().iter().map(|&v| v as f32 * scale).collect();
        let cx: Vec<Complex32> = floats
            .chunks(2)
            .map(|p| Complex32::new(p[0], p[1]))
            .collect();
        let (mut a, mut b) = (
            vec![Complex32::default(); 2000],
            vec![Complex32::default(); 2000],
        );
        window_into(&mut a, &cx, &window);
        window_ci16_into(&mut b, &x, &window, scale);
        assert_eq!(a, b);
        let mut c = vec![Complex32::default(); 2000];
        window_pairs_into_generic(&mut c, &x, &window, scale);
        assert_eq!(a, c, "the baseline build computes the same values");
    }

    #[test]
    fn windowing_multiplies_both_parts_by_the_same_coefficient() {
        let x: Vec<Complex32> = (0..37)
            .map(|i| Complex32::new(i as f32 - 3.5, 0.25 * i as f32))
            .collect();
        let w: Vec<f32> = (0..37).map(|i| 1.0 / (1.0 + i as f32)).collect();
        let mut got = vec![Complex32::default(); 37];
        window_into(&mut got, &x, &interleave(&w));
        for i in 0..37 {
            assert_eq!(
                got[i],
                Complex32::new(x[i].re * w[i], x[i].im * w[i]),
                "{i}"
            );
        }
    }

    #[test]
    fn accumulated_power_folds_to_the_sum_of_squared_magnitudes() {
        // Five spectra of 13 bins: two pairs and a remainder.
        let (n, frames) = (13, 5);
        let spectra: Vec<Complex32> = (0..n * frames)
            .map(|i| Complex32::new((i % 7) as f32 - 3.0, (i % 5) as f32 * 0.5))
            .collect();
        let mut acc2 = vec![0.0f32; 2 * n];
        accumulate_power(&mut acc2, &spectra[..2 * n]);
        accumulate_power(&mut acc2, &spectra[2 * n..]);
        let mut generic = vec![0.0f32; 2 * n];
        accumulate_power_generic(&mut generic, &spectra);
        let mut power = vec![0.0f32; n];
        fold_power(&mut power, &acc2, 1.0);
        for (k, &p) in power.iter().enumerate() {
            let want: f32 = (0..frames).map(|f| spectra[f * n + k].norm_sqr()).sum();
            assert!(
                (p - want).abs() <= 1e-5 * want.max(1.0),
                "bin {k}: {p} vs {want}"
            );
        }
        let mut folded = vec![0.0f32; n];
        fold_power(&mut folded, &generic, 1.0);
        assert_eq!(power, folded, "the baseline build computes the same sums");
    }
}
