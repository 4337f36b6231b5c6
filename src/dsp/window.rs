//! Window functions for the spectrum stage, with the sums that calibrate it.

use std::f64::consts::TAU;

/// A window shape.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum WindowKind {
    /// Rectangular (no window): best resolution, worst leakage.
    Rect,
    /// Hann: the usual compromise (ENBW 1.5 bins, sidelobes -31 dB).
    #[default]
    Hann,
    /// 4-term Blackman-Harris: sidelobes -92 dB, for strong signals beside weak ones.
    BlackmanHarris,
    /// Flat-top: amplitude accurate to ~0.01 dB wherever a tone falls between bins.
    FlatTop,
}

impl WindowKind {
    /// The `n` coefficients, periodic (DFT-even) form, as spectral analysis wants.
    pub fn coefficients(self, n: usize) -> Vec<f32> {
        let cos_sum = |a: &[f64]| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    let x = TAU * i as f64 / n as f64;
                    a.iter()
                        .enumerate()
                        .map(|(k, ak)| {
                            let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
                            sign * ak * (k as f64 * x).cos()
                        })
                        .sum::<f64>() as f32
                })
                .collect()
        };
        match self {
            WindowKind::Rect => vec![1.0; n],
            WindowKind::Hann => cos_sum(&[0.5, 0.5]),
            WindowKind::BlackmanHarris => cos_sum(&[0.35875, 0.48829, 0.14128, 0.01168]),
            // SciPy/Matlab flat-top (HFT-like, 5 terms).
            WindowKind::FlatTop => cos_sum(&[
                0.215_578_95,
                0.416_631_58,
                0.277_263_158,
                0.083_578_947,
                0.006_947_368,
            ]),
        }
    }

    /// Equivalent noise bandwidth in bins: `N Σw² / (Σw)²`.
    pub fn enbw_bins(self, n: usize) -> f64 {
        let w = self.coefficients(n);
        let s1: f64 = w.iter().map(|&x| x as f64).sum();
        let s2: f64 = w.iter().map(|&x| (x as f64) * (x as f64)).sum();
        n as f64 * s2 / (s1 * s1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_enbw() {
        assert!((WindowKind::Rect.enbw_bins(1024) - 1.0).abs() < 1e-9);
        assert!((WindowKind::Hann.enbw_bins(1024) - 1.5).abs() < 1e-3);
        assert!((WindowKind::BlackmanHarris.enbw_bins(1024) - 2.004).abs() < 1e-2);
        assert!((WindowKind::FlatTop.enbw_bins(1024) - 3.77).abs() < 0.05);
    }

    #[test]
    fn hann_is_periodic() {
        let w = WindowKind::Hann.coefficients(8);
        assert!(w[0].abs() < 1e-7);
        assert!((w[4] - 1.0).abs() < 1e-7);
        assert!((w[1] - w[7]).abs() < 1e-7);
    }
}
