//! Fuzz the Builder preprocessor: directive tokenizer, block parser, expression parser and
//! interpreter must return `Ok`/`Err`, never panic. Includes resolve inside an empty temp dir.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let _ = impt::builder::expr::parse(src);
    let dir = std::env::temp_dir().join("impt-builder-fuzz");
    let _ = std::fs::create_dir_all(&dir);
    let opts = impt::builder::Options { no_env: true, line_control: data.len() % 2 == 0, ..Default::default() };
    let _ = impt::builder::preprocess_str(src, "fuzz.nut", &dir, &opts);
});
