//! Colours: the waterfall's colour map (turbo), severity colours and trace styles. The
//! map is computed once into a 256-entry table, as truecolor when the terminal says it
//! supports it (`COLORTERM=truecolor|24bit`) and as the xterm 256-colour cube otherwise.

use ratatui::style::{Color, Modifier, Style};

use crate::alert::Severity;

/// Console colours.
#[derive(Debug, Clone)]
pub struct Theme {
    /// Colours are 24-bit RGB (else 256-colour indices).
    pub truecolor: bool,
    heat: Vec<Color>,
}

impl Theme {
    /// Truecolor or 256-colour, as the environment says.
    pub fn detect() -> Self {
        let ct = std::env::var("COLORTERM").unwrap_or_default();
        Theme::new(ct.contains("truecolor") || ct.contains("24bit"))
    }

    /// A theme with or without truecolor.
    pub fn new(truecolor: bool) -> Self {
        let heat = (0..256)
            .map(|i| {
                let (r, g, b) = turbo(i as f32 / 255.0);
                if truecolor {
                    Color::Rgb(r, g, b)
                } else {
                    Color::Indexed(xterm256(r, g, b))
                }
            })
            .collect();
        Theme { truecolor, heat }
    }

    /// The colour for `x` in 0..=1 (clamped): dark blue (noise) to dark red (strong).
    pub fn heat(&self, x: f32) -> Color {
        let i = (x.clamp(0.0, 1.0) * 255.0).round() as usize;
        self.heat[i.min(255)]
    }

    /// The colour of a severity.
    pub fn severity(&self, s: Severity) -> Color {
        match s {
            Severity::Critical => Color::LightRed,
            Severity::Warning => Color::Yellow,
            Severity::Info => Color::Cyan,
        }
    }

    /// The live trace.
    pub fn trace(&self) -> Style {
        Style::new().fg(Color::Green)
    }

    /// The max-hold trace.
    pub fn max_hold(&self) -> Style {
        Style::new().fg(Color::Magenta)
    }

    /// The min-hold trace.
    pub fn min_hold(&self) -> Style {
        Style::new().fg(Color::LightCyan)
    }

    /// Known emitters' marks and labels on the spectrum.
    pub fn known(&self) -> Style {
        Style::new().fg(Color::LightGreen)
    }

    /// The markers and their read-out.
    pub fn marker(&self) -> Style {
        Style::new()
            .fg(Color::Black)
            .bg(Color::LightYellow)
            .add_modifier(Modifier::BOLD)
    }

    /// The noise floor.
    pub fn floor(&self) -> Style {
        Style::new().fg(Color::Blue)
    }

    /// The detection threshold.
    pub fn threshold(&self) -> Style {
        Style::new().fg(Color::Yellow).add_modifier(Modifier::DIM)
    }

    /// Axis labels and ticks.
    pub fn axis(&self) -> Style {
        Style::new().fg(Color::Gray)
    }

    /// Pane titles and the status line's emphasis.
    pub fn title(&self) -> Style {
        Style::new().fg(Color::White).add_modifier(Modifier::BOLD)
    }
}

/// Google's polynomial approximation of the turbo colour map (Mikhailov, 2019): perceptually
/// ordered and readable on dark terminals, with more distinct steps than a grey ramp.
fn turbo(x: f32) -> (u8, u8, u8) {
    let x = f64::from(x.clamp(0.0, 1.0));
    let poly = |c: [f64; 6]| {
        let v = c[0] + x * (c[1] + x * (c[2] + x * (c[3] + x * (c[4] + x * c[5]))));
        (v.clamp(0.0, 1.0) * 255.0).round() as u8
    };
    (
        poly([
            0.135_721_38,
            4.615_392_60,
            -42.660_322_58,
            132.131_082_34,
            -152.942_393_96,
            59.286_379_43,
        ]),
        poly([
            0.091_402_61,
            2.194_188_39,
            4.842_966_58,
            -14.185_033_33,
            4.277_298_57,
            2.829_566_04,
        ]),
        poly([
            0.106_673_30,
            12.641_946_08,
            -60.582_048_36,
            110.362_767_71,
            -89.903_109_12,
            27.348_249_73,
        ]),
    )
}

/// The nearest colour of the xterm 6×6×6 cube (indices 16–231).
fn xterm256(r: u8, g: u8, b: u8) -> u8 {
    // The cube's levels are 0, 95, 135, 175, 215, 255.
    let level = |v: u8| -> u8 {
        if v < 48 {
            0
        } else if v < 115 {
            1
        } else {
            ((v - 35) / 40).min(5)
        }
    };
    16 + 36 * level(r) + 6 * level(g) + level(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turbo_runs_from_blue_to_red() {
        let (r0, _, b0) = turbo(0.1);
        let (r1, _, b1) = turbo(1.0);
        assert!(b0 > r0 && r1 > b1, "{r0} {b0} {r1} {b1}");
        let (_, g_mid, _) = turbo(0.5);
        assert!(g_mid > 200);
    }

    #[test]
    fn fallback_uses_the_256_colour_cube() {
        let t = Theme::new(false);
        assert!(matches!(t.heat(0.0), Color::Indexed(16..=231)));
        assert!(matches!(Theme::new(true).heat(1.0), Color::Rgb(..)));
        assert_eq!(xterm256(255, 255, 255), 231);
        assert_eq!(xterm256(0, 0, 0), 16);
    }
}
