//! Keys to [`Action`]s, and the key list the help overlay shows, kept side by side so
//! that a change to one is seen next to the other.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{Action, InputMode};
use super::suppress::ScopeKind;

/// One line of the key list: keys as shown and what they do.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The keys, as the help overlay shows them.
    pub keys: &'static str,
    /// What they do.
    pub what: &'static str,
    /// Only meaningful when replaying a capture.
    pub replay_only: bool,
}

const fn b(keys: &'static str, what: &'static str, replay_only: bool) -> Binding {
    Binding {
        keys,
        what,
        replay_only,
    }
}

/// Every binding, in help-overlay order. Descriptions stay within 28 columns so that the
/// list fits an 80×24 screen in two columns.
pub const BINDINGS: &[Binding] = &[
    b("q Ctrl-C", "quit", false),
    b("?", "this help (Esc closes)", false),
    b("p", "pause / resume the display", false),
    b("↑ ↓ k j", "select an alert", false),
    b("Home", "select the newest alert", false),
    b("a", "acknowledge the alert", false),
    b("A", "acknowledge with a note", false),
    b("K", "mark emitter known (+ note)", false),
    b("s  S", "suppress emitter / kind+band", false),
    b("  1 2 3", "… for 15 min / 1 h / 8 h", false),
    b("u", "suppressions; Del lifts one", false),
    b("Enter", "go to the alert's frequency", false),
    b("+ -", "zoom in / out", false),
    b("← →", "pan; move the marker if on", false),
    b("0", "whole band (sweep: span)", false),
    b("b B", "sweep: next / previous band", false),
    b("x  X", "marker / delta marker on/off", false),
    b("Tab", "move the other marker", false),
    b("t", "peak table on / off", false),
    b("PgUp PgDn", "move the dB range", false),
    b("d D", "narrow / widen the dB range", false),
    b("r", "auto-scale dB on / off", false),
    b("m  n", "max-hold / min-hold on/off", false),
    b("o", "occupancy / waterfall", false),
    b("g", "band strip on / off", false),
    b("Esc", "close a prompt; markers off", false),
    b("Space", "play / pause", true),
    b("[ ]", "slower / faster (0.25×…max)", true),
    b(".", "step one spectrum (pauses)", true),
    b("< > S-← →", "seek −10 s / +10 s", true),
    b("l", "loop on / off", true),
];

/// The action for a key, if any. While the help overlay is open, every key but quit
/// just closes it.
pub fn action_for(key: KeyEvent, help_open: bool) -> Option<Action> {
    let mode = if help_open {
        InputMode::Help
    } else {
        InputMode::Normal
    };
    action_in(key, mode)
}

/// The action for a key in `mode` (see [`super::app::App::input_mode`]). Typing a note,
/// keys are text and only Ctrl-C quits; in the suppression menu a number chooses.
pub fn action_in(key: KeyEvent, mode: InputMode) -> Option<Action> {
    // Key releases and repeats-as-release (kitty protocol) are not presses.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    if ctrl && matches!(key.code, KeyCode::Char('c')) {
        return Some(Action::Quit);
    }
    use Action as A;
    match mode {
        InputMode::Text => {
            return match key.code {
                KeyCode::Enter => Some(A::Submit),
                KeyCode::Esc => Some(A::Cancel),
                KeyCode::Backspace => Some(A::Backspace),
                KeyCode::Char(c) if !ctrl => Some(A::Type(c)),
                _ => None,
            }
        }
        InputMode::Menu => {
            return match key.code {
                KeyCode::Char(c @ '1'..='3') => Some(A::SuppressFor(c as usize - '1' as usize)),
                KeyCode::Char('q') => Some(A::Quit),
                _ => Some(A::Cancel),
            }
        }
        InputMode::Help | InputMode::Normal => {}
    }
    if matches!(key.code, KeyCode::Char('q')) {
        return Some(Action::Quit);
    }
    if mode == InputMode::Help {
        return Some(Action::ToggleHelp);
    }
    Some(match key.code {
        KeyCode::Char('?') => A::ToggleHelp,
        KeyCode::Char('p') => A::FreezeDisplay,
        KeyCode::Up | KeyCode::Char('k') => A::SelectNewer,
        KeyCode::Down | KeyCode::Char('j') => A::SelectOlder,
        KeyCode::Home => A::SelectNewest,
        KeyCode::Char('a') => A::Acknowledge,
        KeyCode::Enter => A::JumpToAlert,
        KeyCode::Char('+') | KeyCode::Char('=') => A::ZoomIn,
        KeyCode::Char('-') | KeyCode::Char('_') => A::ZoomOut,
        KeyCode::Left if shift => A::SeekBack,
        KeyCode::Right if shift => A::SeekForward,
        KeyCode::Left => A::PanLeft,
        KeyCode::Right => A::PanRight,
        KeyCode::Char('0') => A::FullSpan,
        KeyCode::PageUp => A::DbUp,
        KeyCode::PageDown => A::DbDown,
        KeyCode::Char('d') => A::DbNarrow,
        KeyCode::Char('D') => A::DbWiden,
        KeyCode::Char('r') => A::AutoScale,
        KeyCode::Char('m') => A::ToggleMaxHold,
        KeyCode::Char(' ') => A::PlayPause,
        KeyCode::Char(']') => A::Faster,
        KeyCode::Char('[') => A::Slower,
        KeyCode::Char('.') => A::Step,
        KeyCode::Char('<') | KeyCode::Char(',') => A::SeekBack,
        KeyCode::Char('>') => A::SeekForward,
        KeyCode::Char('l') => A::ToggleLoop,
        KeyCode::Char('b') => A::NextBand,
        KeyCode::Char('B') => A::PrevBand,
        KeyCode::Char('A') => A::AcknowledgeWithNote,
        KeyCode::Char('K') => A::MarkKnown,
        KeyCode::Char('s') => A::Suppress(ScopeKind::Emitter),
        KeyCode::Char('S') => A::Suppress(ScopeKind::KindInBand),
        KeyCode::Char('u') => A::ToggleSuppressions,
        KeyCode::Delete | KeyCode::Backspace => A::Lift,
        KeyCode::Char('t') => A::TogglePeaks,
        KeyCode::Char('o') => A::ToggleOccupancy,
        KeyCode::Char('g') => A::ToggleBands,
        KeyCode::Char('n') => A::ToggleMinHold,
        KeyCode::Char('x') => A::ToggleMarker(0),
        KeyCode::Char('X') => A::ToggleMarker(1),
        KeyCode::Tab => A::SwitchMarker,
        KeyCode::Esc => A::Cancel,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn keys_map_to_actions() {
        assert_eq!(
            action_for(key(KeyCode::Char('q')), false),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
                false
            ),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(key(KeyCode::Char('?')), false),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            action_for(key(KeyCode::Up), false),
            Some(Action::SelectNewer)
        );
        assert_eq!(
            action_for(key(KeyCode::Char('a')), false),
            Some(Action::Acknowledge)
        );
        assert_eq!(action_for(key(KeyCode::Left), false), Some(Action::PanLeft));
        assert_eq!(
            action_for(KeyEvent::new(KeyCode::Left, KeyModifiers::SHIFT), false),
            Some(Action::SeekBack)
        );
        assert_eq!(
            action_for(key(KeyCode::Char(']')), false),
            Some(Action::Faster)
        );
        assert_eq!(action_for(key(KeyCode::Char('z')), false), None);
    }

    #[test]
    fn new_keys_map_to_actions() {
        let n = |c| action_for(key(KeyCode::Char(c)), false);
        assert_eq!(n('A'), Some(Action::AcknowledgeWithNote));
        assert_eq!(n('K'), Some(Action::MarkKnown));
        assert_eq!(n('s'), Some(Action::Suppress(ScopeKind::Emitter)));
        assert_eq!(n('S'), Some(Action::Suppress(ScopeKind::KindInBand)));
        assert_eq!(n('u'), Some(Action::ToggleSuppressions));
        assert_eq!(n('t'), Some(Action::TogglePeaks));
        assert_eq!(n('o'), Some(Action::ToggleOccupancy));
        assert_eq!(n('g'), Some(Action::ToggleBands));
        assert_eq!(n('b'), Some(Action::NextBand));
        assert_eq!(n('B'), Some(Action::PrevBand));
        assert_eq!(n('n'), Some(Action::ToggleMinHold));
        assert_eq!(n('x'), Some(Action::ToggleMarker(0)));
        assert_eq!(n('X'), Some(Action::ToggleMarker(1)));
        assert_eq!(
            action_for(key(KeyCode::Tab), false),
            Some(Action::SwitchMarker)
        );
        assert_eq!(action_for(key(KeyCode::Delete), false), Some(Action::Lift));
        assert_eq!(action_for(key(KeyCode::Esc), false), Some(Action::Cancel));
    }

    #[test]
    fn typing_a_note_takes_every_key_as_text_but_ctrl_c() {
        let t = |c| action_in(key(c), InputMode::Text);
        assert_eq!(t(KeyCode::Char('q')), Some(Action::Type('q')));
        assert_eq!(t(KeyCode::Char('K')), Some(Action::Type('K')));
        assert_eq!(t(KeyCode::Char(' ')), Some(Action::Type(' ')));
        assert_eq!(t(KeyCode::Backspace), Some(Action::Backspace));
        assert_eq!(t(KeyCode::Enter), Some(Action::Submit));
        assert_eq!(t(KeyCode::Esc), Some(Action::Cancel));
        assert_eq!(
            action_in(
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
                InputMode::Text
            ),
            Some(Action::Quit)
        );
        let m = |c| action_in(key(c), InputMode::Menu);
        assert_eq!(m(KeyCode::Char('1')), Some(Action::SuppressFor(0)));
        assert_eq!(m(KeyCode::Char('3')), Some(Action::SuppressFor(2)));
        assert_eq!(m(KeyCode::Char('4')), Some(Action::Cancel));
        assert_eq!(m(KeyCode::Esc), Some(Action::Cancel));
        assert_eq!(m(KeyCode::Char('q')), Some(Action::Quit));
    }

    #[test]
    fn every_binding_fits_the_help_at_80_columns() {
        for b in BINDINGS {
            assert!(b.keys.chars().count() <= 9, "{}", b.keys);
            assert!(b.what.chars().count() <= 28, "{}", b.what);
        }
    }

    #[test]
    fn help_open_swallows_keys_but_quit() {
        assert_eq!(
            action_for(key(KeyCode::Char('a')), true),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            action_for(key(KeyCode::Esc), true),
            Some(Action::ToggleHelp)
        );
        assert_eq!(
            action_for(key(KeyCode::Char('q')), true),
            Some(Action::Quit)
        );
    }
}
