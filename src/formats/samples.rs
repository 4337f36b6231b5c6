//! Samples in memory as the formats store them, to complex float: the one set of
//! integer-to-float kernels (8- and 16-bit captures, a radio's native CS8/CS16 stream) and
//! the finiteness check every float reader applies. Compiled twice, for the baseline
//! target and for AVX2+FMA, picked at run time as in [`crate::dsp`]'s spectrum kernels:
//! a default x86-64 build would use half the vector width.
//!
//! The only `unsafe` is calling a `#[target_feature]` function after checking at run time
//! that the CPU has the feature.
#![allow(unsafe_code)]

use num_complex::{Complex, Complex32};

#[inline(always)]
fn i8_to_f32_generic(out: &mut [f32], x: &[i8], scale: f32) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v as f32 * scale;
    }
}

#[inline(always)]
fn i16_to_f32_generic(out: &mut [f32], x: &[i16], scale: f32) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v as f32 * scale;
    }
}

#[inline(always)]
fn all_finite_generic(x: &[f32]) -> bool {
    // On the bits, with no early exit, so that it vectorises: a float is NaN or infinite
    // exactly when its magnitude bits are at least those of infinity.
    let max = x.iter().fold(0u32, |m, v| m.max(v.to_bits() & 0x7fff_ffff));
    max < 0x7f80_0000
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn i8_to_f32(out: &mut [f32], x: &[i8], scale: f32) {
        super::i8_to_f32_generic(out, x, scale);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn i16_to_f32(out: &mut [f32], x: &[i16], scale: f32) {
        super::i16_to_f32_generic(out, x, scale);
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn all_finite(x: &[f32]) -> bool {
        super::all_finite_generic(x)
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

/// `out[i] = x[i] · scale` (the shorter of the two sets the length): int8 values to float.
pub fn i8_to_f32(out: &mut [f32], x: &[i8], scale: f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::i8_to_f32(out, x, scale) };
        return;
    }
    i8_to_f32_generic(out, x, scale);
}

/// `out[i] = x[i] · scale` (the shorter of the two sets the length): int16 values to float.
pub fn i16_to_f32(out: &mut [f32], x: &[i16], scale: f32) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { avx2::i16_to_f32(out, x, scale) };
        return;
    }
    i16_to_f32_generic(out, x, scale);
}

/// Complex int8 (a radio's CS8, a capture's int8 pairs) to complex float, each part times
/// `scale`; the shorter of the two sets the length.
pub fn ci8_to_cf32(src: &[Complex<i8>], dst: &mut [Complex32], scale: f32) {
    let n = src.len().min(dst.len());
    i8_to_f32(
        bytemuck::cast_slice_mut(&mut dst[..n]),
        bytemuck::cast_slice(&src[..n]),
        scale,
    );
}

/// Complex int16 to complex float, as [`ci8_to_cf32`].
pub fn ci16_to_cf32(src: &[Complex<i16>], dst: &mut [Complex32], scale: f32) {
    let n = src.len().min(dst.len());
    i16_to_f32(
        bytemuck::cast_slice_mut(&mut dst[..n]),
        bytemuck::cast_slice(&src[..n]),
        scale,
    );
}

/// True when no value of `x` is NaN or infinite.
pub fn all_finite(x: &[f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if has_avx2() {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        return unsafe { avx2::all_finite(x) };
    }
    all_finite_generic(x)
}

/// Zeroes NaN/Inf samples in place and returns how many there were.
pub fn zero_non_finite(buf: &mut [Complex32]) -> u64 {
    // The common case (all finite) is one branch-free vectorised pass.
    if all_finite(bytemuck::cast_slice(buf)) {
        return 0;
    }
    let mut count = 0;
    for s in buf.iter_mut() {
        if !(s.re.is_finite() && s.im.is_finite()) {
            *s = Complex32::new(0.0, 0.0);
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_scale_every_value() {
        let x8: Vec<i8> = (-128..=127).collect();
        let mut out = vec![0.0f32; x8.len()];
        i8_to_f32(&mut out, &x8, 0.5);
        assert!(out.iter().zip(&x8).all(|(&o, &v)| o == v as f32 * 0.5));
        let x16: Vec<i16> = (0..1000).map(|i| (i * 65 - 32768) as i16).collect();
        let mut out = vec![0.0f32; x16.len()];
        i16_to_f32(&mut out, &x16, 1.0 / 32768.0);
        assert!(out.iter().zip(&x16).all(|(&o, &v)| o == v as f32 / 32768.0));
        let mut generic = vec![0.0f32; x16.len()];
        i16_to_f32_generic(&mut generic, &x16, 1.0 / 32768.0);
        assert_eq!(out, generic, "the baseline build converts the same");
    }

    #[test]
    fn complex_conversions_keep_i_and_q_in_place() {
        let src: Vec<Complex<i16>> = (0..100).map(|i| Complex::new(i, -i)).collect();
        let mut dst = vec![Complex32::default(); 100];
        ci16_to_cf32(&src, &mut dst, 0.25);
        assert!(dst
            .iter()
            .enumerate()
            .all(|(i, d)| d.re == i as f32 * 0.25 && d.im == -(i as f32) * 0.25));
        let src: Vec<Complex<i8>> = (0..100).map(|i| Complex::new(i as i8, 1)).collect();
        let mut dst = vec![Complex32::default(); 50];
        ci8_to_cf32(&src, &mut dst, 2.0);
        assert_eq!(dst[49], Complex32::new(98.0, 2.0));
    }

    #[test]
    fn finiteness_check_finds_any_nan_or_infinity() {
        let mut x = vec![1.0f32; 1000];
        x[3] = f32::MAX;
        x[4] = -0.0;
        x[5] = f32::MIN_POSITIVE / 2.0;
        assert!(all_finite(&x));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -f32::NAN] {
            for at in [0, 500, 999] {
                let mut y = x.clone();
                y[at] = bad;
                assert!(!all_finite(&y), "{bad} at {at}");
                assert!(!all_finite_generic(&y), "{bad} at {at}");
            }
        }
        let mut c = vec![Complex32::new(1.0, 1.0); 10];
        c[2].im = f32::NAN;
        c[7].re = f32::INFINITY;
        assert_eq!(zero_non_finite(&mut c), 2);
        assert_eq!(c[2], Complex32::default());
    }
}
