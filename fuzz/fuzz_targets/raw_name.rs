//! rtl_433-style file names (`g001_433.92M_250k.cu8`): any text must parse to a result,
//! and whatever is found must be a positive finite frequency or rate.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::raw_name(data));
