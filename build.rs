//! Builds the Squirrel 3 VM (plus the parts of its standard library the imp API exposes)
//! from the sources shipped in the `squirrel-sys` crate, with two changes for the simulator:
//! allocations go through `src/vm/glue.cpp` (per-VM memory accounting) and the interpreter
//! loop checks an instruction budget (runaway code becomes a runtime error).
//!
//! `squirrel-sys` is a build-dependency only so that cargo fetches its sources; set
//! `SQUIRREL_SRC` to a Squirrel source tree (the folder holding `include/`, `squirrel/` and
//! `sqstdlib/`) to use another copy.
use std::path::{Path, PathBuf};
use std::{env, fs};

fn find_squirrel_src() -> PathBuf {
    if let Ok(dir) = env::var("SQUIRREL_SRC") {
        return PathBuf::from(dir);
    }
    let cargo_home = env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env::var("HOME").unwrap_or_default()).join(".cargo"));
    let reg = cargo_home.join("registry").join("src");
    if let Ok(entries) = fs::read_dir(&reg) {
        for e in entries.flatten() {
            let cand = e.path().join("squirrel-sys-0.2.1").join("squirrel");
            if cand.join("squirrel").join("sqvm.cpp").exists() {
                return cand;
            }
        }
    }
    panic!(
        "Squirrel sources not found under {} (squirrel-sys-0.2.1); set SQUIRREL_SRC",
        reg.display()
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_file() {
            fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/vm/glue.cpp");
    println!("cargo:rerun-if-env-changed=SQUIRREL_SRC");
    let src = find_squirrel_src();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("squirrel");
    for sub in ["include", "squirrel", "sqstdlib"] {
        copy_dir(&src.join(sub), &out.join(sub));
    }

    // Patch the interpreter loop: check the instruction budget before every instruction.
    let vm = out.join("squirrel").join("sqvm.cpp");
    let text = fs::read_to_string(&vm).unwrap();
    let anchor = "const SQInstruction &_i_ = *ci->_ip++;";
    assert!(
        text.contains(anchor),
        "sqvm.cpp: interpreter loop not found"
    );
    let patched = text.replacen(
        anchor,
        "if (--sq_glue_budget < 0 && sq_glue_exhausted()) { \
         Raise_Error(_SC(\"%s\"), sq_glue_reason()); SQ_THROW(); }\n            \
         const SQInstruction &_i_ = *ci->_ip++;",
        1,
    );
    let patched = patched.replacen(
        "#include \"sqpcheader.h\"",
        "#include \"sqpcheader.h\"\nextern thread_local SQInteger sq_glue_budget;\n\
         extern \"C\" int sq_glue_exhausted(void);\nextern \"C\" const char *sq_glue_reason(void);",
        1,
    );
    fs::write(&vm, patched).unwrap();

    let mut build = cc::Build::new();
    build
        .cpp(true)
        .include(out.join("include"))
        .define("_SQ64", None)
        .define("SQ_EXCLUDE_DEFAULT_MEMFUNCTIONS", None)
        .flag_if_supported("-std=c++11")
        .flag_if_supported("-fno-exceptions")
        .flag_if_supported("-fno-rtti")
        .flag_if_supported("-fno-strict-aliasing")
        .warnings(false)
        .opt_level(2);
    for f in [
        "sqapi",
        "sqbaselib",
        "sqclass",
        "sqcompiler",
        "sqdebug",
        "sqfuncstate",
        "sqlexer",
        "sqmem",
        "sqobject",
        "sqstate",
        "sqtable",
        "sqvm",
    ] {
        build.file(out.join("squirrel").join(format!("{f}.cpp")));
    }
    for f in [
        "sqstdaux",
        "sqstdblob",
        "sqstdmath",
        "sqstdrex",
        "sqstdstream",
        "sqstdstring",
    ] {
        build.file(out.join("sqstdlib").join(format!("{f}.cpp")));
    }
    build.file("src/vm/glue.cpp");
    build.compile("squirrel_vm");
}
