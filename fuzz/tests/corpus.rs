//! Replays every file of `corpus/<target>/` through its target on stable Rust: the
//! regression corpus (inputs that once crashed or hung kuzet) keeps passing without
//! nightly or cargo-fuzz. `cargo test --release` from `fuzz/`.

use std::path::Path;

#[test]
fn every_corpus_file_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut ran = 0;
    for (name, target) in kuzet_fuzz::TARGETS {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        let mut files: Vec<_> = dir.map(|e| e.expect("corpus entry").path()).collect();
        files.sort();
        for f in files {
            let data = std::fs::read(&f).expect("read corpus file");
            eprintln!("{name}: {}", f.display());
            target(&data);
            ran += 1;
        }
    }
    assert!(ran > 0, "no corpus files under {}", root.display());
}
