//! The suite's own layout: every test file is built. With `autotests = false` a file left
//! directly in `tests/` (one written for the former one-binary-per-file layout, say) would
//! never build nor run, and neither would a file in `tests/suite` that `main.rs` does not
//! name as a module.

use std::path::Path;

#[test]
fn every_test_file_is_a_module_of_the_suite() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut stray: Vec<String> = std::fs::read_dir(&tests)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "suite" && n != "fixtures")
        .collect();
    stray.sort();
    assert!(
        stray.is_empty(),
        "tests/ holds {stray:?}: move test files into tests/suite (see tests/suite/README.md)"
    );
    let main = std::fs::read_to_string(tests.join("suite/main.rs")).unwrap();
    let mut modules = 0;
    for e in std::fs::read_dir(tests.join("suite")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        if stem == "main" {
            continue;
        }
        assert!(
            main.lines().any(|l| l == format!("mod {stem};")),
            "tests/suite/{name} is not a module of the suite: add `mod {stem};` to main.rs"
        );
        modules += 1;
    }
    assert!(modules >= 29, "only {modules} modules found");
}
