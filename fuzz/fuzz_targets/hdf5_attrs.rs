//! ITU-R SM.2117 attribute handling: any set of attribute values (numbers of any value,
//! text, other types, duplicates, missing required ones) must give metadata or an error,
//! and accepted metadata must be usable (positive finite rate, finite frequency).
//!
//! Input layout: records of [name selector (1 byte), kind (1 byte), 8 bytes of payload]:
//! kind 0 = number (the payload as f64 bits), 1 = text (the payload as a decimal or as
//! lossy UTF-8), 2 = another HDF5 type.
#![no_main]
use kuzet::formats::sm2117::{attr, interpret, AttrValue};
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    attr::SAMPLING,
    attr::CARRIER,
    attr::SCALING,
    attr::CLASS,
    attr::TIME_COARSE,
    attr::TIME_FINE,
    attr::COMMENT,
    attr::DEVICE,
    attr::UNIT,
    "User thing",
];

fuzz_target!(|data: &[u8]| {
    let mut attrs = Vec::new();
    for rec in data.chunks_exact(10).take(64) {
        let name = NAMES[rec[0] as usize % NAMES.len()].to_string();
        let mut p = [0u8; 8];
        p.copy_from_slice(&rec[2..10]);
        let value = match rec[1] % 3 {
            0 => AttrValue::Number(f64::from_le_bytes(p)),
            1 => {
                if rec[1] & 0x80 != 0 {
                    AttrValue::Text(f64::from_le_bytes(p).to_string())
                } else {
                    AttrValue::Text(String::from_utf8_lossy(&p).into_owned())
                }
            }
            _ => AttrValue::Other(format!("{:?}", &p)),
        };
        attrs.push((name, value));
    }
    if let Ok(m) = interpret(&attrs) {
        assert!(m.sample_rate_hz.is_finite() && m.sample_rate_hz > 0.0);
        assert!(m.center_freq_hz.is_finite());
        assert!(m.scaling.is_finite() && m.scaling != 0.0);
    }
});
