//! WAV/RF64 headers and chunks (fmt, auxi, ds64, data): any bytes must give a header or an
//! error, and the data span must lie inside the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kuzet_fuzz::wav_chunks(data));
