//! Fuzz the Builder preprocessor: directive tokenizer, block parser, expression parser and
//! interpreter must return `Ok`/`Err`, never panic. Includes resolve inside an empty temp dir.
//! The first byte picks options: a JavaScript library (`--lib`), remote relative includes,
//! directives and dependencies files; remote APIs point at a closed loopback port.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let _ = impt_builder::expr::parse(src);
    let dir = std::env::temp_dir().join("impt-builder-fuzz");
    let _ = std::fs::create_dir_all(&dir);
    let lib = dir.join("lib.js");
    if !lib.exists() {
        let _ = std::fs::write(&lib, "module.exports = { up: (s) => String(s).toUpperCase(), id: (v) => v, obj: { k: [1, null] }, boom: () => { throw new Error('x'); }, setg: function (k, v) { this.globals[k] = v; return k; } };\n");
    }
    std::env::set_var("IMPT_GITHUB_API", "http://127.0.0.1:9");
    std::env::set_var("IMPT_AZURE_API", "http://127.0.0.1:9/");
    let f = data.first().copied().unwrap_or(0);
    let opts = impt_builder::Options {
        no_env: true,
        line_control: f & 1 != 0,
        libs: if f & 2 != 0 { vec![lib.to_string_lossy().into_owned()] } else { Vec::new() },
        remote_relative_includes: f & 4 != 0,
        suppress_duplicate_warning: f & 8 != 0,
        save_directives: (f & 16 != 0).then(|| dir.join("directives.json")),
        use_directives: (f & 32 != 0).then(|| dir.join("directives.json")),
        save_dependencies: (f & 64 != 0).then(|| dir.join("dependencies.json")),
        use_dependencies: (f & 128 != 0).then(|| dir.join("dependencies.json")),
        bitbucket_server_addr: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    };
    let _ = impt_builder::preprocess_str(src, "fuzz.nut", &dir, &opts);
});
