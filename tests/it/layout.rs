//! The floor plan holds: each folder of `src/` imports only the rooms the crate doc
//! (`src/lib.rs`) says it may. Read from the sources, so a new `use` that breaks the plan
//! fails here, naming the file and the line.

use std::path::{Path, PathBuf};

/// Top-level modules each folder or file may reach with `crate::…` (itself always).
/// `alert`, `types`, `units` and `error` are the shared vocabulary everyone may use.
const RULES: &[(&str, &[&str])] = &[
    ("dsp", &[]),
    ("detect", &["dsp", "alert"]),
    ("formats", &[]),
    ("sinks", &["formats", "alert"]),
    ("source", &["formats"]),
    (
        "pipeline",
        &["source", "sinks", "dsp", "detect", "formats", "alert"],
    ),
    (
        "tui",
        &["pipeline", "sinks", "source", "dsp", "detect", "alert"],
    ),
    // eval may use the settings layer through its public constructor, never cli.
    (
        "eval",
        &[
            "app", "pipeline", "source", "sinks", "dsp", "detect", "formats", "alert",
        ],
    ),
    ("alert", &[]),
    ("types", &[]),
    ("units", &[]),
    ("error", &[]),
];

const SHARED: &[&str] = &["types", "units", "error", "Error", "Result"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every `crate::NAME` a source line names (in `use` lines and in paths).
fn crate_refs(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut refs = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        // `crate::{a, b}` groups.
        if let Some(group) = after.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or("");
            for item in group.split(',') {
                let n: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !n.is_empty() {
                    refs.push(n);
                }
            }
        } else if !name.is_empty() {
            refs.push(name);
        }
        rest = after;
    }
    refs
}

#[test]
fn each_folder_imports_only_what_the_floor_plan_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut broken = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let room = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let Some((_, allowed)) = RULES.iter().find(|(r, _)| *r == room) else {
            continue; // app, cli, main, lib: the outer rooms may use everything.
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for r in crate_refs(line) {
                if r != room && !SHARED.contains(&r.as_str()) && !allowed.contains(&r.as_str()) {
                    broken.push(format!("src/{}:{}: uses crate::{r}", rel.display(), n + 1));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports that break the floor plan:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_checker_sees_use_groups_and_paths() {
    assert_eq!(
        crate_refs("use crate::{alert::Alert, types};"),
        ["alert", "types"]
    );
    assert_eq!(
        crate_refs("    let x = crate::source::open(p); // crate::tui"),
        ["source"]
    );
}
