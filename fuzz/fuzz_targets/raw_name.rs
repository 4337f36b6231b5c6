//! rtl_433-style file names (`g001_433.92M_250k.cu8`): any text must parse to a result,
//! and whatever is found must be a positive finite frequency or rate.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let name = String::from_utf8_lossy(data);
    let info = kuzet::formats::raw::parse_name(&name);
    for v in [info.center_freq_hz, info.sample_rate_hz]
        .into_iter()
        .flatten()
    {
        assert!(v.is_finite() && v > 0.0, "{v}");
    }
});
