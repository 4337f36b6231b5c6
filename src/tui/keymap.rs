//! Keys to [`Action`]s, and the key list the help overlay shows, kept side by side so
//! that a change to one is seen next to the other.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::Action;

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

/// Every binding, in help-overlay order.
pub const BINDINGS: &[Binding] = &[
    b("q  Ctrl-C", "quit", false),
    b("?", "this help (Esc closes)", false),
    b("p", "pause / resume the display", false),
    b("↑ ↓  k j", "select an alert", false),
    b("Home", "select the newest alert", false),
    b("a", "acknowledge the selected alert", false),
    b("Enter", "jump to the selected alert's frequency", false),
    b("+ -", "zoom the frequency axis in / out", false),
    b("← →", "pan the frequency axis", false),
    b("0", "show the whole band (a sweep: the whole span)", false),
    b("b B", "a sweep: show the next / previous band", false),
    b("PgUp PgDn", "move the dB range up / down", false),
    b("d D", "narrow / widen the dB range", false),
    b("r", "auto-scale the dB range on / off", false),
    b("m", "max-hold trace on / off (restarts it)", false),
    b("Space", "play / pause", true),
    b("[ ]", "slower / faster (0.25× … max)", true),
    b(".", "step one spectrum (pauses)", true),
    b("< >  Shift-← →", "seek −10 s / +10 s", true),
    b("l", "loop on / off", true),
];

/// The action for a key, if any. While the help overlay is open, every key but quit
/// just closes it.
pub fn action_for(key: KeyEvent, help_open: bool) -> Option<Action> {
    // Key releases and repeats-as-release (kitty protocol) are not presses.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let shift = key.modifiers.contains(KeyModifiers::SHIFT);
    let quit =
        matches!(key.code, KeyCode::Char('q')) || (ctrl && matches!(key.code, KeyCode::Char('c')));
    if quit {
        return Some(Action::Quit);
    }
    if help_open {
        return Some(Action::ToggleHelp);
    }
    use Action as A;
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
        assert_eq!(action_for(key(KeyCode::Char('x')), false), None);
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
