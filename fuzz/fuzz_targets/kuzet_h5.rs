//! kuzet's HDF5 capture reader: any file must open or give an error; an opened capture
//! must read (or fail to read) its samples without crashing, within its stated length.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::kuzet_h5(data));
