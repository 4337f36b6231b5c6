//! SigMF metadata: any bytes must give metadata or an error, and laying the captures out
//! over a data file of any length must stay within that file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::sigmf_meta(data));
