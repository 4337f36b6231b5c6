//! Integration tests: the real binary and the real pipeline on real files.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod capture;
mod cli;
mod console;
mod detection;
mod e2e;
mod evidence;
mod federation;
mod formats;
mod hardening;
mod hostile;
mod known;
mod layout;
mod live;
mod readers;
mod replay;
mod score;
mod signals;
mod support;
mod sweep;
