//! An HDF5 file read as ITU-R SM.2117 (the reader `convert` and `analyze` use for HDF5
//! without `/iq`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::sm2117_h5(data));
