//! WAV/RF64 headers and chunks (fmt, auxi, ds64, data): any bytes must give a header or an
//! error, and the data span must lie inside the file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut cur = std::io::Cursor::new(data);
    if let Ok(info) = kuzet::formats::wav::parse(&mut cur, data.len() as u64) {
        let bytes = info.data.samples * info.format.bytes_per_sample() as u64;
        assert!(info.data.offset + bytes <= data.len() as u64);
        assert!(info.sample_rate_hz > 0.0);
    }
});
