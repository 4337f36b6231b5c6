//! The band plan: named frequency ranges that tell the anomaly rules what matters where.
//!
//! ```text
//!  Tracker ─emitter─▶ rules ─▶ band_at(freq) ─▶ ignored? rule_enabled? severity ─▶ Alert
//! ```
//!
//! A plan is a TOML file of `[[band]]` tables (name, range, priority, which rules apply,
//! `watch`, known emitters to ignore); see docs/bandplan.md. Bands may overlap and nest:
//! the narrowest band containing a frequency is the one that applies, so a plan can say
//! "UHF land mobile, info" and, inside it, "LPD433, warning". A default plan for border
//! posts is compiled into the binary ([`BandPlan::default_border`]).
//!
//! Every error names the line of the offending value, because the people who edit these
//! files are operators at a post, not the authors of the parser.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use crate::alert::{AlertKind, Severity};
use crate::error::Result;
use crate::units::Hz;

/// The plan that ships with kuzet: common bands at a border post.
const DEFAULT_BORDER: &str = include_str!("../../bandplans/border.toml");

/// Rules a band can switch on or off (the health kinds are not about a band).
pub const BAND_RULES: [AlertKind; 6] = [
    AlertKind::NewEmitter,
    AlertKind::Hopping,
    AlertKind::Jamming,
    AlertKind::PowerChange,
    AlertKind::EmitterLost,
    AlertKind::Watchlist,
];

/// Rules that apply in a band that does not list its own, and outside every band.
/// `watchlist` is opt-in: it alerts on any activity at all.
pub const DEFAULT_RULES: [AlertKind; 5] = [
    AlertKind::NewEmitter,
    AlertKind::Hopping,
    AlertKind::Jamming,
    AlertKind::PowerChange,
    AlertKind::EmitterLost,
];

/// A transmitter the plan says is expected and must never raise an alert (the post's own
/// repeater, a beacon).
#[derive(Debug, Clone, PartialEq)]
pub struct IgnoredEmitter {
    /// Centre frequency.
    pub freq_hz: f64,
    /// Channel width.
    pub bandwidth_hz: f64,
    /// What it is, for people.
    pub label: String,
}

impl IgnoredEmitter {
    /// True when an emitter at `freq_hz`, `bandwidth_hz` wide, is this one: its centre
    /// lies in this channel and it is not much wider. A wideband signal that merely covers
    /// the channel (a jammer over the repeater) is something else and still alerts.
    pub fn matches(&self, freq_hz: f64, bandwidth_hz: f64) -> bool {
        (freq_hz - self.freq_hz).abs() <= self.bandwidth_hz / 2.0
            && bandwidth_hz <= 2.0 * self.bandwidth_hz
    }
}

/// Severity per rule, overriding the band's priority for that rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSeverity {
    /// `new_emitter`.
    pub new_emitter: Option<Severity>,
    /// `hopping`.
    pub hopping: Option<Severity>,
    /// `jamming`.
    pub jamming: Option<Severity>,
    /// `power_change`.
    pub power_change: Option<Severity>,
    /// `emitter_lost`.
    pub emitter_lost: Option<Severity>,
    /// `watchlist`.
    pub watchlist: Option<Severity>,
}

impl RuleSeverity {
    /// The override for `kind`, if any.
    pub fn get(&self, kind: AlertKind) -> Option<Severity> {
        match kind {
            AlertKind::NewEmitter => self.new_emitter,
            AlertKind::Hopping => self.hopping,
            AlertKind::Jamming => self.jamming,
            AlertKind::PowerChange => self.power_change,
            AlertKind::EmitterLost => self.emitter_lost,
            AlertKind::Watchlist => self.watchlist,
            _ => None,
        }
    }
}

/// One named band of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Name shown in alerts; an `Arc` so that tagging an alert is a pointer copy.
    pub name: Arc<str>,
    /// Lower edge.
    pub lo_hz: f64,
    /// Upper edge.
    pub hi_hz: f64,
    /// Severity of alerts in this band (unless [`Band::severity`] overrides it per rule).
    pub priority: Severity,
    /// Any activity raises a `watchlist` alert.
    pub watch: bool,
    /// Rules that apply here (`watchlist` is in it exactly when `watch` is set).
    pub rules: Vec<AlertKind>,
    /// Per-rule severity overrides.
    pub severity: RuleSeverity,
    /// Known emitters never alerted.
    pub ignore: Vec<IgnoredEmitter>,
}

impl Band {
    /// Width of the band.
    pub fn width_hz(&self) -> f64 {
        self.hi_hz - self.lo_hz
    }

    /// True when `freq_hz` lies in `[lo_hz, hi_hz]`.
    pub fn contains(&self, freq_hz: f64) -> bool {
        self.lo_hz <= freq_hz && freq_hz <= self.hi_hz
    }

    /// True when the rule producing `kind` applies in this band. Health alerts (overrun,
    /// clipping, device) are about the receiver, not the band, and always apply.
    pub fn rule_enabled(&self, kind: AlertKind) -> bool {
        !BAND_RULES.contains(&kind) || self.rules.contains(&kind)
    }

    /// Severity of a `kind` alert in this band: the per-rule override, else the priority.
    pub fn severity_of(&self, kind: AlertKind) -> Severity {
        self.severity.get(kind).unwrap_or(self.priority)
    }
}

/// A validated band plan.
#[derive(Debug, Clone, PartialEq)]
pub struct BandPlan {
    /// Where it came from (a path, or `built-in border plan`), for messages.
    pub origin: String,
    /// Free text from the file.
    pub description: String,
    /// Severity of alerts outside every band.
    pub default_priority: Severity,
    /// The bands, in file order.
    pub bands: Vec<Band>,
}

// ---- the file as written -------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlan {
    #[serde(default)]
    description: String,
    #[serde(default)]
    default_priority: Option<Severity>,
    #[serde(default)]
    band: Vec<Spanned<RawBand>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    name: Spanned<String>,
    lo_hz: Spanned<Hz>,
    hi_hz: Spanned<Hz>,
    #[serde(default)]
    priority: Option<Severity>,
    #[serde(default)]
    watch: bool,
    #[serde(default)]
    rules: Option<Spanned<Vec<AlertKind>>>,
    #[serde(default)]
    severity: RuleSeverity,
    #[serde(default)]
    ignore: Vec<Spanned<RawIgnore>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    freq_hz: Spanned<Hz>,
    bandwidth_hz: Spanned<Hz>,
    #[serde(default)]
    label: String,
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A toml error as "line N: message", on one line.
fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => format!("line {}: {msg}", line_of(text, span.start)),
        None => msg,
    }
}

impl BandPlan {
    /// The plan compiled into kuzet for border posts (bandplans/border.toml).
    ///
    /// # Panics
    /// Never in a tested build: a unit test parses the embedded plan.
    pub fn default_border() -> BandPlan {
        Self::parse(DEFAULT_BORDER, "built-in border plan")
            .expect("invariant: the embedded border plan is valid (unit-tested)")
    }

    /// The embedded default plan as TOML text, to print or copy as a starting point.
    pub fn default_border_toml() -> &'static str {
        DEFAULT_BORDER
    }

    /// Parses and validates plan text; `origin` names it in [`BandPlan::origin`].
    ///
    /// # Errors
    /// A message "line N: ..." naming the field.
    pub fn parse(text: &str, origin: &str) -> Result<BandPlan, String> {
        let raw: RawPlan = toml::from_str(text).map_err(|e| toml_message(text, &e))?;
        let at = |span: std::ops::Range<usize>| format!("line {}", line_of(text, span.start));
        let mut bands: Vec<Band> = Vec::with_capacity(raw.band.len());
        for rb in &raw.band {
            let b = rb.get_ref();
            let name = b.name.get_ref().trim();
            if name.is_empty() {
                return Err(format!(
                    "{}: band name must not be empty",
                    at(b.name.span())
                ));
            }
            if bands.iter().any(|o| &*o.name == name) {
                return Err(format!(
                    "{}: band name `{name}` is used twice; names must be unique",
                    at(b.name.span())
                ));
            }
            let (lo, hi) = (b.lo_hz.get_ref().0, b.hi_hz.get_ref().0);
            if !lo.is_finite() || lo < 0.0 {
                return Err(format!(
                    "{}: band `{name}`: lo_hz must be a non-negative frequency, got {lo}",
                    at(b.lo_hz.span())
                ));
            }
            if !hi.is_finite() || hi <= lo {
                return Err(format!(
                    "{}: band `{name}`: hi_hz ({hi}) must be above lo_hz ({lo})",
                    at(b.hi_hz.span())
                ));
            }
            let mut rules: Vec<AlertKind> = match &b.rules {
                Some(r) => {
                    for &k in r.get_ref() {
                        if !BAND_RULES.contains(&k) {
                            return Err(format!(
                                "{}: band `{name}`: rules: `{}` is not a band rule (one of \
                                 new_emitter, hopping, jamming, power_change, emitter_lost, \
                                 watchlist)",
                                at(r.span()),
                                k.as_str()
                            ));
                        }
                    }
                    r.get_ref().clone()
                }
                None => DEFAULT_RULES.to_vec(),
            };
            // `watch = true` and listing `watchlist` say the same thing; keep them in step
            // so that `rule_enabled` has one source of truth.
            let watch = b.watch || rules.contains(&AlertKind::Watchlist);
            if watch && !rules.contains(&AlertKind::Watchlist) {
                rules.push(AlertKind::Watchlist);
            }
            // A rule listed twice is harmless; keep the first.
            let mut unique: Vec<AlertKind> = Vec::with_capacity(rules.len());
            for k in rules {
                if !unique.contains(&k) {
                    unique.push(k);
                }
            }
            let rules = unique;
            let mut ignore = Vec::with_capacity(b.ignore.len());
            for ri in &b.ignore {
                let i = ri.get_ref();
                let (f, bw) = (i.freq_hz.get_ref().0, i.bandwidth_hz.get_ref().0);
                if !bw.is_finite() || bw <= 0.0 {
                    return Err(format!(
                        "{}: band `{name}`: ignore: bandwidth_hz must be positive, got {bw}",
                        at(i.bandwidth_hz.span())
                    ));
                }
                if !(lo..=hi).contains(&f) {
                    return Err(format!(
                        "{}: band `{name}`: ignore: freq_hz {f} is outside the band \
                         ({lo}..{hi} Hz)",
                        at(i.freq_hz.span())
                    ));
                }
                ignore.push(IgnoredEmitter {
                    freq_hz: f,
                    bandwidth_hz: bw,
                    label: i.label.clone(),
                });
            }
            bands.push(Band {
                name: Arc::from(name),
                lo_hz: lo,
                hi_hz: hi,
                priority: b.priority.unwrap_or(Severity::Warning),
                watch,
                rules,
                severity: b.severity,
                ignore,
            });
        }
        Ok(BandPlan {
            origin: origin.to_string(),
            description: raw.description,
            default_priority: raw.default_priority.unwrap_or(Severity::Warning),
            bands,
        })
    }

    /// The band that applies at `freq_hz`: the narrowest one containing it (the first in
    /// the file when two are equally narrow), or `None` outside every band.
    pub fn band_at(&self, freq_hz: f64) -> Option<&Band> {
        self.bands
            .iter()
            .filter(|b| b.contains(freq_hz))
            .reduce(|best, b| {
                if b.width_hz() < best.width_hz() {
                    b
                } else {
                    best
                }
            })
    }

    /// Name of the band at `freq_hz`, for [`crate::alert::Alert::band`] (a pointer copy).
    pub fn band_name_at(&self, freq_hz: f64) -> Option<Arc<str>> {
        self.band_at(freq_hz).map(|b| Arc::clone(&b.name))
    }

    /// The known emitter an emitter at `freq_hz`, `bandwidth_hz` wide, is, if the plan
    /// lists it in any band (see [`IgnoredEmitter::matches`]).
    pub fn ignored(&self, freq_hz: f64, bandwidth_hz: f64) -> Option<&IgnoredEmitter> {
        self.bands
            .iter()
            .flat_map(|b| b.ignore.iter())
            .find(|i| i.matches(freq_hz, bandwidth_hz))
    }

    /// True when the rule producing `kind` applies in `band` (`None`: outside every band,
    /// where the default rules apply).
    pub fn rule_enabled(&self, band: Option<&Band>, kind: AlertKind) -> bool {
        match band {
            Some(b) => b.rule_enabled(kind),
            None => !BAND_RULES.contains(&kind) || DEFAULT_RULES.contains(&kind),
        }
    }

    /// Severity of a `kind` alert in `band` (`None`: outside every band).
    pub fn severity(&self, band: Option<&Band>, kind: AlertKind) -> Severity {
        match band {
            Some(b) => b.severity_of(kind),
            None => self.default_priority,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
description = "test plan"

[[band]]
name = "UHF"
lo_hz = "400M"
hi_hz = "470M"
priority = "info"

[[band]]
name = "LPD433"
lo_hz = "433.05M"
hi_hz = 434790000
priority = "warning"
rules = ["new_emitter", "hopping"]

[[band.ignore]]
freq_hz = "433.5M"
bandwidth_hz = "25k"
label = "post repeater"

[[band]]
name = "GNSS L1"
lo_hz = "1559M"
hi_hz = "1610M"
priority = "critical"
watch = true
rules = ["jamming"]
severity = { jamming = "critical" }
"#;

    fn err(text: &str) -> String {
        BandPlan::parse(text, "t").unwrap_err()
    }

    #[test]
    fn a_plan_parses_with_units_and_defaults() {
        let p = BandPlan::parse(SMALL, "t").unwrap();
        assert_eq!(p.bands.len(), 3);
        assert_eq!(p.description, "test plan");
        let lpd = &p.bands[1];
        assert_eq!(&*lpd.name, "LPD433");
        assert_eq!(lpd.lo_hz, 433.05e6);
        assert_eq!(lpd.hi_hz, 434.79e6);
        assert_eq!(lpd.priority, Severity::Warning);
        assert_eq!(lpd.ignore[0].label, "post repeater");
        // No `rules`: all but watchlist.
        assert_eq!(p.bands[0].rules, DEFAULT_RULES.to_vec());
        assert!(!p.bands[0].watch);
        // `watch = true` enables the watchlist rule.
        let gnss = &p.bands[2];
        assert!(gnss.watch && gnss.rule_enabled(AlertKind::Watchlist));
        assert!(gnss.rule_enabled(AlertKind::Jamming));
        assert!(!gnss.rule_enabled(AlertKind::NewEmitter));
        // Health alerts are never switched off by a band.
        assert!(gnss.rule_enabled(AlertKind::Overrun));
    }

    #[test]
    fn the_narrowest_band_wins() {
        let p = BandPlan::parse(SMALL, "t").unwrap();
        assert_eq!(p.band_at(433.92e6).map(|b| &*b.name), Some("LPD433"));
        assert_eq!(p.band_at(440e6).map(|b| &*b.name), Some("UHF"));
        assert_eq!(p.band_at(100e6), None);
        assert_eq!(p.band_name_at(1575.42e6).as_deref(), Some("GNSS L1"));
        // Edges belong to the band.
        assert_eq!(p.band_name_at(433.05e6).as_deref(), Some("LPD433"));
    }

    #[test]
    fn rules_and_severity_by_band() {
        let p = BandPlan::parse(SMALL, "t").unwrap();
        let lpd = p.band_at(433.92e6);
        assert!(p.rule_enabled(lpd, AlertKind::Hopping));
        assert!(!p.rule_enabled(lpd, AlertKind::Jamming));
        assert!(!p.rule_enabled(lpd, AlertKind::Watchlist));
        assert!(p.rule_enabled(None, AlertKind::NewEmitter));
        assert!(!p.rule_enabled(None, AlertKind::Watchlist));
        assert_eq!(
            p.severity(p.band_at(440e6), AlertKind::NewEmitter),
            Severity::Info
        );
        assert_eq!(
            p.severity(p.band_at(1575e6), AlertKind::Jamming),
            Severity::Critical
        );
        assert_eq!(p.severity(None, AlertKind::NewEmitter), Severity::Warning);
    }

    #[test]
    fn known_emitters_are_ignored_but_not_a_wideband_signal_over_them() {
        let p = BandPlan::parse(SMALL, "t").unwrap();
        let hit = p.ignored(433.505e6, 12.5e3).map(|i| i.label.as_str());
        assert_eq!(hit, Some("post repeater"));
        assert!(p.ignored(433.6e6, 12.5e3).is_none());
        assert!(p.ignored(433.5e6, 1e6).is_none());
    }

    #[test]
    fn the_default_border_plan_loads_and_covers_the_issue_bands() {
        let p = BandPlan::default_border();
        let at = |f: f64| p.band_name_at(f).map(|n| n.to_string());
        assert_eq!(at(433.92e6).as_deref(), Some("LPD433"));
        assert_eq!(at(446.1e6).as_deref(), Some("PMR446"));
        assert_eq!(at(450e6).as_deref(), Some("UHF land mobile"));
        assert_eq!(at(868.3e6).as_deref(), Some("SRD 868"));
        assert_eq!(at(915e6).as_deref(), Some("ISM 915"));
        assert_eq!(at(2440e6).as_deref(), Some("ISM 2.4 GHz"));
        assert_eq!(at(5800e6).as_deref(), Some("5.8 GHz drone video"));
        assert_eq!(at(1575.42e6).as_deref(), Some("GNSS L1"));
        assert_eq!(at(1227.6e6).as_deref(), Some("GNSS L2"));
        assert_eq!(at(1176.45e6).as_deref(), Some("GNSS L5"));
        assert_eq!(at(150e6).as_deref(), Some("VHF land mobile"));
        assert_eq!(at(1750e6).as_deref(), Some("LTE 1800 uplink"));
        let l1 = p.band_at(1575.42e6);
        assert_eq!(p.severity(l1, AlertKind::Jamming), Severity::Critical);
        assert!(p.rule_enabled(l1, AlertKind::Watchlist));
        let ism24 = p.band_at(2440e6);
        assert_eq!(p.severity(ism24, AlertKind::Hopping), Severity::Critical);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = err("[[band]]\nname = \"A\"\nlo_hz = = 1\n");
        assert!(e.starts_with("line 3:"), "{e}");
    }

    #[test]
    fn unknown_fields_name_the_line_and_field() {
        let e = err("[[band]]\nname = \"A\"\nlo_hz = 1\nhi_hz = 2\nprio = \"info\"\n");
        assert!(e.starts_with("line 5:") && e.contains("prio"), "{e}");
    }

    #[test]
    fn bad_units_name_the_line() {
        let e = err("[[band]]\nname = \"A\"\nlo_hz = \"fast\"\nhi_hz = 2\n");
        assert!(e.starts_with("line 3:") && e.contains("fast"), "{e}");
    }

    #[test]
    fn an_inverted_range_names_its_line() {
        let e = err("[[band]]\nname = \"A\"\nlo_hz = \"2M\"\nhi_hz = \"1M\"\n");
        assert!(e.starts_with("line 4:") && e.contains("hi_hz"), "{e}");
    }

    #[test]
    fn a_duplicate_name_names_its_line() {
        let e = err(concat!(
            "[[band]]\nname = \"A\"\nlo_hz = 1\nhi_hz = 2\n",
            "[[band]]\nname = \"A\"\nlo_hz = 3\nhi_hz = 4\n"
        ));
        assert!(e.starts_with("line 6:") && e.contains("twice"), "{e}");
    }

    #[test]
    fn an_ignore_entry_outside_its_band_names_its_line() {
        let e = err(concat!(
            "[[band]]\nname = \"A\"\nlo_hz = \"1M\"\nhi_hz = \"2M\"\n",
            "[[band.ignore]]\nfreq_hz = \"3M\"\nbandwidth_hz = \"25k\"\n"
        ));
        assert!(e.starts_with("line 6:") && e.contains("outside"), "{e}");
    }

    #[test]
    fn a_health_kind_is_not_a_band_rule() {
        let e = err("[[band]]\nname = \"A\"\nlo_hz = 1\nhi_hz = 2\nrules = [\"overrun\"]\n");
        assert!(e.starts_with("line 5:") && e.contains("overrun"), "{e}");
    }

    #[test]
    fn an_unknown_rule_names_the_line() {
        let e = err("[[band]]\nname = \"A\"\nlo_hz = 1\nhi_hz = 2\nrules = [\"drones\"]\n");
        assert!(e.starts_with("line 5:") && e.contains("drones"), "{e}");
    }

    #[test]
    fn a_non_finite_frequency_is_rejected() {
        let e = err("[[band]]\nname = \"A\"\nlo_hz = nan\nhi_hz = 2\n");
        assert!(e.starts_with("line 3:"), "{e}");
    }
}
