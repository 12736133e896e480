//! Builds the Squirrel 3 VM (plus the parts of its standard library the imp API exposes)
//! from the sources vendored under `vendor/squirrel` (Squirrel 3.1, MIT, by Alberto
//! Demichelis; see `vendor/squirrel/COPYRIGHT` and `vendor/README.md`), with two changes for
//! the simulator: allocations go through `src/glue.cpp` (per-VM memory accounting) and the
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

/// Replaces every occurrence of `anchor` in `file` (at least one must exist).
fn patch_all(file: &Path, anchor: &str, with: &str) {
    let text = fs::read_to_string(file).unwrap();
    assert!(
        text.contains(anchor),
        "{}: {anchor:?} not found",
        file.display()
    );
    fs::write(file, text.replace(anchor, with)).unwrap();
}

/// Squirrel as the imp runs it: 32-bit integers that wrap on overflow (values are kept in
/// 64-bit slots but every integer result is truncated to 32 bits, shifts use the low 32
/// bits), string bytes read as 0-255, and closures keeping the environment given to
/// `bindenv` alive (stock Squirrel holds it through a weak reference only).
fn imp_semantics(out: &Path) {
    let sq = out.join("squirrel");
    let vm = sq.join("sqvm.cpp");
    let wrap = "#define SQ_I32(x) ((SQInteger)(SQInt32)(SQUnsignedInteger)(x))\n";
    patch(
        &vm,
        &[
            ("#include \"sqpcheader.h\"", &format!("#include \"sqpcheader.h\"\n{wrap}")),
            (
                "            case BW_SHIFTL: res = i1 << i2; break;\n            case BW_SHIFTR: res = i1 >> i2; break;\n            case BW_USHIFTR:res = (SQInteger)(*((SQUnsignedInteger*)&i1) >> i2); break;",
                "            case BW_SHIFTL: res = (i2 & 255) >= 32 ? 0 : SQ_I32((SQUnsignedInteger)(SQUnsignedInteger32)i1 << (i2 & 31)); break;\n            case BW_SHIFTR: res = (i2 & 255) >= 32 ? ((SQInt32)i1 < 0 ? -1 : 0) : (SQInteger)((SQInt32)i1 >> (i2 & 31)); break;\n            case BW_USHIFTR:res = (i2 & 255) >= 32 ? 0 : SQ_I32((SQUnsignedInteger32)i1 >> (i2 & 31)); break;",
            ),
            ("    trg = res;\n    return true;\n}\n\n#define _ARITH_", "    trg = SQ_I32(res);\n    return true;\n}\n\n#define _ARITH_"),
            ("        case OT_INTEGER: trg = _integer(o1) op _integer(o2);break; \\", "        case OT_INTEGER: trg = SQ_I32(_integer(o1) op _integer(o2));break; \\"),
            ("trg = _integer(o1) op i2; } break;\\", "trg = SQ_I32(_integer(o1) op i2); } break;\\"),
            ("            default: res = 0xDEADBEEF;\n            }\n            trg = res; }", "            default: res = 0xDEADBEEF;\n            }\n            trg = SQ_I32(res); }"),
            ("        trg = -_integer(o);", "        trg = SQ_I32(-_integer(o));"),
            ("                dest = SQInteger(_stringval(self)[n]);", "                dest = SQInteger((unsigned char)_stringval(self)[n]);"),
            // `key in getroottable()` also asks the root table's delegate (the device's
            // `hardware` API loads on first use: see crates/impt-vm/src/lazy.rs).
            (
                "            case _OP_EXISTS: TARGET = Get(STK(arg1), STK(arg2), temp_reg, GET_FLAG_DO_NOT_RAISE_ERROR | GET_FLAG_RAW, DONT_FALL_BACK) ? true : false; continue;",
                "            case _OP_EXISTS: TARGET = (Get(STK(arg1), STK(arg2), temp_reg, GET_FLAG_DO_NOT_RAISE_ERROR | GET_FLAG_RAW, DONT_FALL_BACK) || (sq_type(STK(arg1)) == OT_TABLE && _table(STK(arg1)) == _table(_roottable) && _table(_roottable)->_delegate && Get(STK(arg1), STK(arg2), temp_reg, GET_FLAG_DO_NOT_RAISE_ERROR, DONT_FALL_BACK))) ? true : false; continue;",
            ),
        ],
    );
    patch_all(
        &vm,
        "a._unVal.nInteger = _integer(a) + sarg3;",
        "a._unVal.nInteger = SQ_I32(_integer(a) + sarg3);",
    );
    patch(
        &sq.join("sqobject.cpp"),
        &[
            ("        outval = (SQInteger)((SQUnsignedInteger)_val[idx]);", "        outval = (SQInteger)((unsigned char)_val[idx]);"),
            (
                "        for(SQInteger k = 0; k < fp->_ndefaultparams; k++) SQSharedState::MarkObject(_defaultparams[k], chain);\n    END_MARK()",
                "        for(SQInteger k = 0; k < fp->_ndefaultparams; k++) SQSharedState::MarkObject(_defaultparams[k], chain);\n        SQSharedState::MarkObject(_envobj, chain);\n    END_MARK()",
            ),
        ],
    );
    patch(
        &sq.join("sqclosure.h"),
        &[
            ("        ret->_env = _env;\n        if(ret->_env) __ObjAddRef(ret->_env);\n        _COPY_VECTOR", "        ret->_env = _env;\n        if(ret->_env) __ObjAddRef(ret->_env);\n        ret->_envobj = _envobj;\n        _COPY_VECTOR"),
            ("        _NULL_SQOBJECT_VECTOR(_defaultparams,f->_ndefaultparams);\n    }", "        _NULL_SQOBJECT_VECTOR(_defaultparams,f->_ndefaultparams);\n        _envobj.Null();\n    }"),
            ("    SQWeakRef *_env;\n    SQWeakRef *_root;", "    SQWeakRef *_env;\n    SQObjectPtr _envobj;\n    SQWeakRef *_root;"),
        ],
    );
    patch(
        &sq.join("sqapi.cpp"),
        &[(
            "        c->_env = w;\n        __ObjAddRef(c->_env);\n        if(_closure(o)->_base) {",
            "        c->_env = w;\n        __ObjAddRef(c->_env);\n        c->_envobj = env;\n        if(_closure(o)->_base) {",
        )],
    );
    patch(
        &sq.join("sqcompiler.cpp"),
        &[
            ("EmitLoadConstInt(-_lex._nvalue,-1)", "EmitLoadConstInt((SQInteger)(SQInt32)(0u - (SQUnsignedInteger32)_lex._nvalue),-1)"),
            ("val._unVal.nInteger = -_lex._nvalue;", "val._unVal.nInteger = (SQInteger)(SQInt32)(0u - (SQUnsignedInteger32)_lex._nvalue);"),
        ],
    );
    // The imp's blob: writestring/readstring, tostring() giving the raw bytes, and hex
    // conversions the imp API (src/prelude.nut) uses to hand bytes to the host.
    patch(
        &out.join("sqstdlib").join("sqstdblob.cpp"),
        &[
            (
                "#define _DECL_BLOB_FUNC(name,nparams,typecheck)",
                BLOB_EXTRAS,
            ),
            (
                "    _DECL_BLOB_FUNC(_cloned,2,_SC(\"xx\")),\n",
                "    _DECL_BLOB_FUNC(_cloned,2,_SC(\"xx\")),\n    _DECL_BLOB_FUNC(writestring,2,_SC(\"xs\")),\n    _DECL_BLOB_FUNC(readstring,2,_SC(\"xn\")),\n    _DECL_BLOB_FUNC(_tostring,1,_SC(\"x\")),\n    _DECL_BLOB_FUNC(tostring,1,_SC(\"x\")),\n    _DECL_BLOB_FUNC(__hex,-1,_SC(\"xnn\")),\n    _DECL_BLOB_FUNC(__unhex,2,_SC(\"xs\")),\n",
            ),
        ],
    );
    // string.find is binary-safe on the imp (strings may hold NUL bytes).
    patch(
        &sq.join("sqbaselib.cpp"),
        &[(
            "            ret=scstrstr(&str[start_idx],substr);",
            "            ret=NULL;\n            { SQInteger len=sq_getsize(v,1), sublen=sq_getsize(v,2);\n              for(SQInteger i=start_idx; i+sublen<=len; i++) {\n                  if(sq_glue_work(sublen / 16 + 1)) return sq_throwerror(v, sq_glue_reason());\n                  if(memcmp(&str[i],substr,sublen)==0) { ret=&str[i]; break; } } }",
        )],
    );
    // split() drops empty pieces on the imp (a strtok-like split: "/a//b" gives a, b).
    patch(
        &out.join("sqstdlib").join("sqstdstring.cpp"),
        &[(
            "                *end = 0;\n                sq_pushstring(v,start,-1);\n                sq_arrayappend(v,-2);",
            "                *end = 0;\n                if(end != start) { sq_pushstring(v,start,-1);\n                sq_arrayappend(v,-2); }",
        )],
    );
    let lexer = sq.join("sqlexer.cpp");
    for f in ["LexInteger", "LexHexadecimal", "LexOctal"] {
        let call = format!("        {f}(&_longstr[0],(SQUnsignedInteger *)&_nvalue);\n");
        patch(
            &lexer,
            &[(
                &call,
                &format!(
                    "{call}        _nvalue = (SQInteger)(SQInt32)(SQUnsignedInteger)_nvalue;\n"
                ),
            )],
        );
    }
}

/// Blob methods of the imp added to sqstdblob.cpp (inserted before its method table).
const BLOB_EXTRAS: &str = r#"
static SQInteger _blob_writestring(HSQUIRRELVM v)
{
    SETUP_BLOB(v);
    const SQChar *s; SQInteger n = sq_getsize(v, 2);
    sq_getstring(v, 2, &s);
    if (n > 0) self->Write((void *)s, n);
    return 0;
}
static SQInteger _blob_readstring(HSQUIRRELVM v)
{
    SETUP_BLOB(v);
    SQInteger n; sq_getinteger(v, 2, &n);
    if (n < 0) return sq_throwerror(v, _SC("invalid size"));
    SQInteger left = self->Len() - self->Tell();
    if (n > left) n = left;
    const SQChar *p = (const SQChar *)self->GetBuf() + self->Tell();
    sq_pushstring(v, p, n);
    self->Seek(n, SQ_SEEK_CUR);
    return 1;
}
static SQInteger _blob__tostring(HSQUIRRELVM v)
{
    SETUP_BLOB(v);
    sq_pushstring(v, (const SQChar *)self->GetBuf(), self->Len());
    return 1;
}
static SQInteger _blob_tostring(HSQUIRRELVM v) { return _blob__tostring(v); }
static SQInteger _blob___hex(HSQUIRRELVM v)
{
    SETUP_BLOB(v);
    SQInteger from = 0, to = self->Len();
    if (sq_gettop(v) >= 2) sq_getinteger(v, 2, &from);
    if (sq_gettop(v) >= 3) sq_getinteger(v, 3, &to);
    if (from < 0) from = 0;
    if (to > self->Len()) to = self->Len();
    if (to < from) to = from;
    static const char digits[] = "0123456789abcdef";
    SQChar *out = sq_getscratchpad(v, (to - from) * 2 + 1);
    const unsigned char *b = (const unsigned char *)self->GetBuf();
    for (SQInteger i = from; i < to; i++) {
        out[(i - from) * 2] = digits[b[i] >> 4];
        out[(i - from) * 2 + 1] = digits[b[i] & 15];
    }
    sq_pushstring(v, out, (to - from) * 2);
    return 1;
}
static int _blob_nibble(SQChar c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
static SQInteger _blob___unhex(HSQUIRRELVM v)
{
    SETUP_BLOB(v);
    const SQChar *s; SQInteger n = sq_getsize(v, 2);
    sq_getstring(v, 2, &s);
    for (SQInteger i = 0; i + 1 < n; i += 2) {
        int hi = _blob_nibble(s[i]), lo = _blob_nibble(s[i + 1]);
        if (hi < 0 || lo < 0) return sq_throwerror(v, _SC("invalid hex string"));
        unsigned char byte = (unsigned char)(hi * 16 + lo);
        self->Write(&byte, 1);
    }
    return 0;
}
#define _DECL_BLOB_FUNC(name,nparams,typecheck)"#;

/// The types' default delegates (the tables of `len`, `tostring`, `slice`, …) are built the
/// first time a value of the type looks one up (about 1 KB each), not when the VM opens, and
/// outside the code's memory (see `sq_glue_uncharge_since` in src/glue.cpp).
fn lazy_default_delegates(out: &Path) {
    const KINDS: [&str; 10] = [
        "table",
        "array",
        "string",
        "number",
        "generator",
        "closure",
        "thread",
        "class",
        "instance",
        "weakref",
    ];
    let ddel = |kind: &str, ss: &str| {
        format!("sq_glue_ddel({ss}->_{kind}_default_delegate,{ss},SQSharedState::_{kind}_default_delegate_funcz)")
    };
    let header = out.join("squirrel").join("sqstate.h");
    let mut edits: Vec<(String, String)> = KINDS
        .iter()
        .map(|k| {
            (
                format!("_table(_sharedstate->_{k}_default_delegate)"),
                format!("_table({})", ddel(k, "_sharedstate")),
            )
        })
        .collect();
    edits.insert(
        0,
        (
            "#define _table_ddel".into(),
            "SQObjectPtr &sq_glue_ddel(SQObjectPtr &slot, SQSharedState *ss, const SQRegFunction *funcz);\n#define _table_ddel".into(),
        ),
    );
    let edits: Vec<(&str, &str)> = edits
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    patch(&header, &edits);
    let state = out.join("squirrel").join("sqstate.cpp");
    let inits: Vec<String> = KINDS
        .iter()
        .map(|k| format!("    _{k}_default_delegate = CreateDefaultDelegate(this,_{k}_default_delegate_funcz);\n"))
        .collect();
    let mut edits: Vec<(&str, &str)> = inits.iter().map(|l| (l.as_str(), "")).collect();
    let lazy = "SQTable *CreateDefaultDelegate(SQSharedState *ss,const SQRegFunction *funcz);\n\
        extern \"C\" long long sq_glue_used_now(void);\n\
        extern \"C\" void sq_glue_uncharge_since(long long mark);\n\
        SQObjectPtr &sq_glue_ddel(SQObjectPtr &slot, SQSharedState *ss, const SQRegFunction *funcz)\n\
        {\n    if (sq_type(slot) == OT_NULL) {\n        long long mark = sq_glue_used_now();\n\
        slot = CreateDefaultDelegate(ss, funcz);\n        sq_glue_uncharge_since(mark);\n    }\n    return slot;\n}\n\n\
        void SQSharedState::Init()";
    edits.push(("void SQSharedState::Init()", lazy));
    patch(&state, &edits);
    let api = out.join("squirrel").join("sqapi.cpp");
    let pushes: Vec<(String, String)> = KINDS
        .iter()
        .map(|k| {
            (
                format!("v->Push(ss->_{k}_default_delegate);"),
                format!("v->Push({});", ddel(k, "ss")),
            )
        })
        .collect();
    let edits: Vec<(&str, &str)> = pushes
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    patch(&api, &edits);
}

/// The simulator's own imp API, compiled under the source name `__impt_api__` into every VM,
/// keeps no local-variable names and one line entry per function: its frames are never
/// reported (crates/impt-vm/src/lib.rs leaves them out of stacks), and those tables took
/// a good part of the bytes of the API's compiled functions in each VM.
fn lean_api_code(out: &Path) {
    patch(
        &out.join("squirrel").join("sqfuncstate.cpp"),
        &[
            (
                "    SQFunctionProto *f=SQFunctionProto::Create(_ss,_instructions.size(),\n        _nliterals,_parameters.size(),_functions.size(),_outervalues.size(),\n        _lineinfos.size(),_localvarinfos.size(),_defaultparams.size());",
                "    bool lean = sq_type(_sourcename) == OT_STRING && scstrcmp(_stringval(_sourcename), _SC(\"__impt_api__\")) == 0;\n    SQInteger nlines = lean && _lineinfos.size() > 1 ? 1 : (SQInteger)_lineinfos.size();\n    SQInteger nlocals = lean ? 0 : (SQInteger)_localvarinfos.size();\n    SQFunctionProto *f=SQFunctionProto::Create(_ss,_instructions.size(),\n        _nliterals,_parameters.size(),_functions.size(),_outervalues.size(),\n        nlines,nlocals,_defaultparams.size());",
            ),
            (
                "    for(SQUnsignedInteger nl = 0; nl < _localvarinfos.size(); nl++)",
                "    for(SQInteger nl = 0; nl < nlocals; nl++)",
            ),
            (
                "    for(SQUnsignedInteger ni = 0; ni < _lineinfos.size(); ni++)",
                "    for(SQInteger ni = 0; ni < nlines; ni++)",
            ),
        ],
    );
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/glue.cpp");
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
    let decl = "extern \"C\" int sq_glue_too_big(SQInteger count, SQInteger elem_size);\n\
                extern \"C\" int sq_glue_work(SQInteger units);\n\
                extern \"C\" const char *sq_glue_reason(void);\n";
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

    // Natives that loop over big data report their work (see glue.cpp: the time budget and
    // the interrupt flag are checked every so often) and fail when the run must stop.
    let stop = "return sq_throwerror(v, sq_glue_reason());";
    patch(
        &out.join("squirrel").join("sqbaselib.cpp"),
        &[
            (
                "static SQInteger array_reverse(HSQUIRRELVM v)\n{\n",
                &format!("static SQInteger array_reverse(HSQUIRRELVM v)\n{{\n    if (sq_glue_work(_array(stack_get(v,1))->Size())) {stop}\n"),
            ),
            (
                "    for(SQInteger n = 0; n < size; n++) {\n        bool res = false;\n        a->Get(n,temp);",
                &format!("    for(SQInteger n = 0; n < size; n++) {{\n        bool res = false;\n        if (sq_glue_work(1)) {stop}\n        a->Get(n,temp);"),
            ),
            (
                "static bool _sort_compare(HSQUIRRELVM v,SQObjectPtr &a,SQObjectPtr &b,SQInteger func,SQInteger &ret)\n{\n",
                "static bool _sort_compare(HSQUIRRELVM v,SQObjectPtr &a,SQObjectPtr &b,SQInteger func,SQInteger &ret)\n{\n    if (sq_glue_work(1)) { v->Raise_Error(_SC(\"%s\"), sq_glue_reason()); return false; }\n",
            ),
        ],
    );
    patch(
        &out.join("sqstdlib").join("sqstdrex.cpp"),
        &[
            (
                "static const SQChar *sqstd_rex_matchnode(SQRex* exp,SQRexNode *node,const SQChar *str,SQRexNode *next)\n{\n",
                "extern \"C\" int sq_glue_work(SQInteger units);\nstatic const SQChar *sqstd_rex_matchnode(SQRex* exp,SQRexNode *node,const SQChar *str,SQRexNode *next)\n{\n    if (sq_glue_work(1)) return NULL;\n",
            ),
        ],
    );

    // Bound the compiler's recursion: deeply nested code (3,000 `(`, 50,000 `-`) is a compile
    // error at the line reached instead of a stack overflow. Every level of the recursive
    // descent reads a token, so checking the stack used at each token bounds the depth.
    patch(
        &out.join("squirrel").join("sqcompiler.cpp"),
        &[
            (
                "    void Lex(){ _token = _lex.Lex();}",
                "    void Lex(){\n        if (_stackbase - (char *)__builtin_frame_address(0) > (512 << 10))\n            Error(_SC(\"nesting too deep\"));\n        _token = _lex.Lex();}",
            ),
            ("    bool _lineinfo;\n", "    bool _lineinfo;\n    char *_stackbase;\n"),
            (
                "        _debugline = 1;\n        _debugop = 0;\n",
                "        _stackbase = (char *)__builtin_frame_address(0);\n        _debugline = 1;\n        _debugop = 0;\n",
            ),
        ],
    );
    // `sq_reservestack` grows the stack as a call does (open outers follow the move), so the
    // host can make room for a value it pushes (VMs start with a small stack).
    patch(
        &out.join("squirrel").join("sqapi.cpp"),
        &[(
            "        v->_stack.resize(v->_stack.size() + ((v->_top + nsize) - v->_stack.size()));\n",
            "        v->_stack.resize(v->_stack.size() + ((v->_top + nsize) - v->_stack.size()));\n        v->RelocateOuters();\n",
        )],
    );
    lazy_default_delegates(&out);
    imp_semantics(&out);
    lean_api_code(&out);

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
    build.file("src/glue.cpp");
    build.compile("squirrel_vm");
}
