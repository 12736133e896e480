//! The walls of ARCHITECTURE.md, checked: the crate graph (`cargo metadata`: no crate depends
//! on one above it), the layers inside the root package (a module of `src/` names only the
//! layers below it; a command group never names a sibling group) and `unsafe` code only in
//! `impt-vm` (every other crate root says `#![forbid(unsafe_code)]`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate graph of ARCHITECTURE.md: each workspace crate and the workspace crates it may
/// depend on. A new crate under `crates/` goes here and into ARCHITECTURE.md.
const CRATES: &[(&str, &[&str])] = &[
    (
        "impt",
        &["impt-sim", "impt-builder", "impt-wire", "impt-vm"],
    ),
    ("impt-sim", &["impt-vm", "impt-wire", "impt-builder"]),
    ("impt-builder", &[]),
    ("impt-wire", &[]),
    ("impt-vm", &[]),
];

/// The layers of the root package, top to bottom (ARCHITECTURE.md).
const LAYERS: &[&str] = &[
    "cli", "watch", "commands", "output", "api", "config", "error", "sync",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_crate_graph_is_the_one_of_architecture_md() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let members: BTreeSet<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    let known: BTreeSet<String> = CRATES.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(
        members, known,
        "the workspace's crates differ from the graph of ARCHITECTURE.md (this test's CRATES)"
    );
    let allowed: BTreeMap<&str, &[&str]> = CRATES.iter().copied().collect();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        for d in p["dependencies"].as_array().unwrap() {
            let dep = d["name"].as_str().unwrap();
            if members.contains(dep) {
                assert!(
                    allowed[name].contains(&dep),
                    "{name} depends on {dep}: not an edge of the crate graph (ARCHITECTURE.md)"
                );
            }
        }
    }
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name()
                .is_some_and(|n| n != "target" && n != "vendor")
            {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Source text without `//` comments.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn unsafe_code_only_in_impt_vm() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "examples", "fuzz", "crates"] {
        let d = root().join(dir);
        if d.is_dir() {
            rust_files(&d, &mut files);
        }
    }
    let vm = root().join("crates/impt-vm");
    let unsafe_code = regex::Regex::new(r"\bunsafe\s*(\{|fn\b|impl\b|trait\b|extern\b)").unwrap();
    let found: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(&vm) && unsafe_code.is_match(&code_of(f)))
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(found.is_empty(), "unsafe outside crates/impt-vm: {found:?}");
    let mut roots = vec![root().join("src/lib.rs"), root().join("src/main.rs")];
    for (name, _) in CRATES
        .iter()
        .filter(|(n, _)| n.starts_with("impt-") && *n != "impt-vm")
    {
        roots.push(root().join("crates").join(name).join("src/lib.rs"));
    }
    for r in roots {
        assert!(
            code_of(&r).contains("#![forbid(unsafe_code)]"),
            "{} lacks #![forbid(unsafe_code)]",
            r.display()
        );
    }
}

/// The top-level modules a file of `src/` names with `crate::…` paths.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let head = item.trim().split("::").next().unwrap_or("").trim();
                if !head.is_empty() {
                    refs.insert(head.to_string());
                }
            }
        } else {
            let head: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            refs.insert(head);
        }
    }
    refs
}

#[test]
fn modules_of_the_root_package_import_only_layers_below() {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut up = Vec::new();
    let mut sideways = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy();
        let top = top.trim_end_matches(".rs");
        let Some(here) = rank(top) else { continue };
        let code = code_of(f);
        for r in crate_refs(&code) {
            if rank(&r).is_some_and(|there| there < here) {
                up.push(format!("{} names crate::{r}", rel.display()));
            }
        }
        // A command group (commands/<group>.rs or commands/<group>/) names only
        // commands::core and its own files.
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into()).collect();
        if parts[0] == "commands" && parts.len() >= 2 && parts[1] != "core" && parts[1] != "mod.rs"
        {
            let group = parts[1].trim_end_matches(".rs");
            for (i, _) in code.match_indices("commands::") {
                let rest = &code[i + "commands::".len()..];
                let head: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !head.is_empty() && head != "core" && head != group {
                    sideways.push(format!("{} names commands::{head}", rel.display()));
                }
            }
        }
    }
    assert!(up.is_empty(), "imports going up the layers: {up:#?}");
    assert!(
        sideways.is_empty(),
        "a command group naming a sibling: {sideways:#?}"
    );
    // The check sees every layer (a renamed folder would silently pass otherwise).
    for l in LAYERS {
        assert!(
            src.join(l).is_dir() || src.join(format!("{l}.rs")).is_file(),
            "layer {l} not found under src/"
        );
    }
}
