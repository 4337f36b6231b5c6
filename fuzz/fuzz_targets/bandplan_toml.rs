//! Band plans (`--bandplan FILE`): any text must parse or give a message.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::bandplan_toml(data));
