//! Synth scenarios (`synth --scenario FILE`): any text must load or give a message, and
//! a scenario that validates must make a source that gives its first samples.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::scene_toml(data));
