//! Builds the Squirrel 3 VM (plus the parts of its standard library the imp API exposes)
//! from the sources vendored under `vendor/squirrel` (Squirrel 3.1, MIT, by Alberto
//! Demichelis; see `vendor/squirrel/COPYRIGHT` and `vendor/README.md`), with two changes for
//! the simulator: allocations go through `src/vm/glue.cpp` (per-VM memory accounting) and the
//! interpreter loop checks an instruction budget (runaway code becomes a runtime error).
//!
//! Only a C++ compiler is needed (through the `cc` crate). Set `SQUIRREL_SRC` to a Squirrel
//! source tree (the folder holding `include/`, `squirrel/` and `sqstdlib/`) to use another copy.
use std::path::{Path, PathBuf};
use std::{env, fs};

fn find_squirrel_src() -> PathBuf {
    if let Ok(dir) = env::var("SQUIRREL_SRC") {
        return PathBuf::from(dir);
    }
    let vendored = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("vendor")
        .join("squirrel");
    assert!(
        vendored.join("squirrel").join("sqvm.cpp").exists(),
        "Squirrel sources not found under {}; set SQUIRREL_SRC",
        vendored.display()
    );
    vendored
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

/// Replaces each `(anchor, replacement)` once in `file`; a missing anchor fails the build.
fn patch(file: &Path, edits: &[(&str, &str)]) {
    let mut text = fs::read_to_string(file).unwrap();
    for (anchor, with) in edits {
        assert!(
            text.contains(anchor),
            "{}: {anchor:?} not found",
            file.display()
        );
        text = text.replacen(anchor, with, 1);
    }
    fs::write(file, text).unwrap();
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/vm/glue.cpp");
    println!("cargo:rerun-if-env-changed=SQUIRREL_SRC");
    println!("cargo:rerun-if-changed=vendor/squirrel");
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

    // Refuse script-sized allocations over the memory cap before they happen.
    let oom = "return sq_throwerror(v, _SC(\"out of memory (simulator memory limit exceeded)\"));";
    let decl = "extern \"C\" int sq_glue_too_big(SQInteger count, SQInteger elem_size);\n";
    patch(
        &out.join("squirrel").join("sqbaselib.cpp"),
        &[
            ("#include \"sqpcheader.h\"", &format!("#include \"sqpcheader.h\"\n{decl}")),
            (
                "    SQObject &size = stack_get(v,2);\n",
                &format!("    SQObject &size = stack_get(v,2);\n    if (sq_glue_too_big(tointeger(size), sizeof(SQObjectPtr))) {oom}\n"),
            ),
            (
                "          return sq_throwerror(v, _SC(\"resizing to negative length\"));\n",
                &format!("          return sq_throwerror(v, _SC(\"resizing to negative length\"));\n        if (sq_glue_too_big(sz, sizeof(SQObjectPtr))) {oom}\n"),
            ),
        ],
    );
    patch(
        &out.join("sqstdlib").join("sqstdblob.cpp"),
        &[
            ("#include <squirrel.h>", &format!("#include <squirrel.h>\n{decl}")),
            (
                "    sq_getinteger(v,2,&size);\n    if(!self->Resize(size))",
                &format!("    sq_getinteger(v,2,&size);\n    if (sq_glue_too_big(size, 1)) {oom}\n    if(!self->Resize(size))"),
            ),
            (
                "    if(size < 0) return sq_throwerror(v, _SC(\"cannot create blob with negative size\"));",
                &format!("    if(size < 0) return sq_throwerror(v, _SC(\"cannot create blob with negative size\"));\n    if (sq_glue_too_big(size, 1)) {oom}"),
            ),
        ],
    );

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
