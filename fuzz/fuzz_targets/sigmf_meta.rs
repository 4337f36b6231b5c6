//! SigMF metadata: any bytes must give metadata or an error, and laying the captures out
//! over a data file of any length must stay within that file.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (len, meta) = data.split_at(8);
    let mut b = [0u8; 8];
    b.copy_from_slice(len);
    // Data files up to 1 TiB; the layout is arithmetic only, nothing is allocated per byte.
    let data_len = u64::from_le_bytes(b) % (1 << 40);
    if let Ok(mut m) = kuzet::formats::sigmf::parse_meta(meta) {
        let bps = m.datatype.bytes_per_sample() as u64;
        if let Ok(spans) = m.layout(0, data_len) {
            for s in &spans {
                assert!(s.offset + s.samples * bps <= data_len);
            }
            let total: u64 = spans.iter().map(|s| s.samples).sum();
            for a in m.retune_annotations(total) {
                assert!(a.start_sample + a.length <= total.max(a.start_sample));
            }
        }
    }
});
