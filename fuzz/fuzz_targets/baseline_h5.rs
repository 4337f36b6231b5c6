//! The baseline loader (`--baseline FILE`): any file must load or give an error, and a
//! loaded baseline must be consistent (one value per bin in each column).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::baseline_h5(data));
