//! Any recording kuzet reads by content or name, through `source::open` as `analyze`
//! and `convert` open it: the first byte picks the file's extension (HDF5 without `/iq`
//! is read as ITU-R SM.2117; `.sigmf` is a SigMF archive; raw encodings need their
//! rate, given here), the rest is the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::recording(data));
