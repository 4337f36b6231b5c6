//! Terminal input as channel messages: a small thread turns crossterm events into
//! [`UiEvent`]s, so the console loop can `select!` over keys, frames, alerts and its tick.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use crossbeam_channel::Sender;
use crossterm::event::{self, Event, KeyEvent};

/// What the input thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiEvent {
    /// A key press.
    Key(KeyEvent),
    /// The terminal changed size (redraw now rather than at the next tick).
    Resize,
    /// Reading the terminal failed; the console should end.
    InputError(String),
}

/// Reads terminal events until `stop` is set or the receiver hangs up. Polls with a short
/// timeout so that it notices `stop` (a blocking read would outlive the console).
pub fn read_input(tx: &Sender<UiEvent>, stop: &AtomicBool) {
    while !stop.load(Relaxed) {
        let ev = match event::poll(Duration::from_millis(50)) {
            Ok(false) => continue,
            Ok(true) => event::read(),
            Err(e) => Err(e),
        };
        let msg = match ev {
            Ok(Event::Key(k)) => UiEvent::Key(k),
            Ok(Event::Resize(..)) => UiEvent::Resize,
            Ok(_) => continue,
            Err(e) => UiEvent::InputError(e.to_string()),
        };
        let failed = matches!(msg, UiEvent::InputError(_));
        if tx.send(msg).is_err() || failed {
            return;
        }
    }
}
