//! The fuzz targets' bodies, one function per target, so that the cargo-fuzz binaries
//! (`fuzz_targets/*.rs`, nightly) and the corpus replay (`tests/corpus.rs`, stable) run
//! the same code. Each function takes any bytes and must return without panicking,
//! crashing or hanging; where a parser accepts its input, the function also checks that
//! what it accepted is usable (the assertions below).
//!
//! The targets that read a file write the bytes to a temporary file first, because the
//! HDF5 readers only take paths (libhdf5 opens the file itself).

use std::path::PathBuf;

use num_complex::Complex32;

/// Writes `data` to this process's scratch file with extension `ext` and returns its
/// path. One file per process and extension, overwritten on every input.
fn scratch(ext: &str, data: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("kuzet-fuzz-{}.{ext}", std::process::id()));
    std::fs::write(&p, data).expect("write the scratch file");
    p
}

/// Reads at most this many samples of an accepted recording: enough to cross chunk
/// boundaries, few enough that one input costs milliseconds.
const MAX_SAMPLES: usize = 1 << 16;

/// rtl_433-style file names (`g001_433.92M_250k.cu8`): any text must parse to a result,
/// and whatever is found must be a positive finite frequency or rate.
pub fn raw_name(data: &[u8]) {
    let name = String::from_utf8_lossy(data);
    let info = kuzet::formats::raw::parse_name(&name);
    for v in [info.center_freq_hz, info.sample_rate_hz]
        .into_iter()
        .flatten()
    {
        assert!(v.is_finite() && v > 0.0, "{v}");
    }
}

/// SigMF metadata: any bytes must give metadata or an error, and laying the captures out
/// over a data file of any length must stay within that file.
pub fn sigmf_meta(data: &[u8]) {
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
}

/// WAV/RF64 headers and chunks (fmt, auxi, ds64, data): any bytes must give a header or an
/// error, and the data span must lie inside the file.
pub fn wav_chunks(data: &[u8]) {
    let mut cur = std::io::Cursor::new(data);
    if let Ok(info) = kuzet::formats::wav::parse(&mut cur, data.len() as u64) {
        let bytes = info.data.samples * info.format.bytes_per_sample() as u64;
        assert!(info.data.offset + bytes <= data.len() as u64);
        assert!(info.sample_rate_hz > 0.0);
    }
}

/// ITU-R SM.2117 attribute handling: any set of attribute values (numbers of any value,
/// text, other types, duplicates, missing required ones) must give metadata or an error,
/// and accepted metadata must be usable (positive finite rate, finite frequency).
///
/// Input layout: records of [name selector (1 byte), kind (1 byte), 8 bytes of payload]:
/// kind 0 = number (the payload as f64 bits), 1 = text (the payload as a decimal or as
/// lossy UTF-8), 2 = another HDF5 type.
pub fn hdf5_attrs(data: &[u8]) {
    use kuzet::formats::sm2117::{attr, interpret, AttrValue};
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
}

/// kuzet's HDF5 capture reader: any file must open or give an error; an opened capture
/// must read (or fail to read) its samples without crashing, within its stated length.
pub fn kuzet_h5(data: &[u8]) {
    let path = scratch("h5", data);
    let Ok(mut r) = kuzet::formats::CaptureReader::open(&path) else {
        return;
    };
    assert!(r.len() > 0);
    let _ = r.annotations();
    let mut buf = vec![Complex32::default(); 4096];
    let mut total = 0;
    while total < MAX_SAMPLES {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                assert!(r.position() <= r.len());
            }
        }
    }
}

/// Any recording kuzet reads by content or name, through `source::open` as `analyze`
/// and `convert` open it: the first byte picks the file's extension (HDF5 without `/iq`
/// is read as ITU-R SM.2117; `.sigmf` is a SigMF archive; raw encodings need their
/// rate, given here), the rest is the file.
pub fn recording(data: &[u8]) {
    use kuzet::source::{ReadOutcome, SampleBuf};
    const EXTS: &[&str] = &["h5", "sigmf", "wav", "cu8", "cs16", "cf32"];
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let path = scratch(EXTS[pick as usize % EXTS.len()], body);
    let opts = kuzet::source::OpenOptions {
        rate_hz: Some(1e6),
        ..Default::default()
    };
    let Ok(mut rec) = kuzet::source::open(&path, &opts) else {
        return;
    };
    let rate = rec.meta().sample_rate_hz;
    assert!(rate.is_finite() && rate > 0.0, "{rate}");
    let mut buf = vec![Complex32::default(); 4096];
    let mut total = 0;
    while total < MAX_SAMPLES {
        match rec.source.read(SampleBuf::Cf32(&mut buf)) {
            Ok(ReadOutcome::Samples(0)) | Ok(ReadOutcome::Eof) | Err(_) => break,
            Ok(ReadOutcome::Samples(n)) => total += n,
            Ok(_) => {}
        }
    }
}

/// An HDF5 file read as ITU-R SM.2117 (the reader `convert` and `analyze` use for HDF5
/// without `/iq`).
pub fn sm2117_h5(data: &[u8]) {
    let path = scratch("h5", data);
    let Ok(file) = hdf5::File::open(&path) else {
        return;
    };
    let Ok(mut r) = kuzet::formats::sm2117::Sm2117Reader::from_file(&path, file) else {
        return;
    };
    let mut buf = vec![Complex32::default(); 4096];
    let mut total = 0;
    while total < MAX_SAMPLES {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
}

/// The baseline loader (`--baseline FILE`): any file must load or give an error, and a
/// loaded baseline must be consistent (one value per bin in each column).
pub fn baseline_h5(data: &[u8]) {
    let path = scratch("h5", data);
    if let Ok(b) = kuzet::types::Baseline::load(&path) {
        assert!(b.bins > 0);
        for col in [&b.occupancy, &b.power_db_mean, &b.power_db_std, &b.floor_db] {
            assert_eq!(col.len(), b.bins);
        }
    }
}

/// Band plans (`--bandplan FILE`): any text must parse or give a message.
pub fn bandplan_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = kuzet::detect::bandplan::BandPlan::parse(&text, "fuzz");
}

/// Synth scenarios (`synth --scenario FILE`): any text must load or give a message, and
/// a scenario that validates must make a source that gives its first samples.
pub fn scene_toml(data: &[u8]) {
    use kuzet::source::{IqSource, ReadOutcome, SampleBuf};
    let path = scratch("toml", data);
    let Ok(scene) = kuzet::source::synth::Scene::load(&path) else {
        return;
    };
    let Ok(mut src) = kuzet::source::synth::SynthSource::new(&scene) else {
        return;
    };
    let mut buf = vec![Complex32::default(); 4096];
    let _: Option<ReadOutcome> = src.read(SampleBuf::Cf32(&mut buf)).ok();
}

/// Every target by name, for the corpus replay.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("raw_name", raw_name),
    ("sigmf_meta", sigmf_meta),
    ("wav_chunks", wav_chunks),
    ("hdf5_attrs", hdf5_attrs),
    ("kuzet_h5", kuzet_h5),
    ("recording", recording),
    ("sm2117_h5", sm2117_h5),
    ("baseline_h5", baseline_h5),
    ("bandplan_toml", bandplan_toml),
    ("scene_toml", scene_toml),
];
