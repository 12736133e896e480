//! The only module with `unsafe`: declarations of the Squirrel C API (built by `build.rs`
//! from Squirrel 3.1 sources plus `glue.cpp`) and [`RawVm`], a safe owner of one VM.
//!
//! Native functions reach Rust through one trampoline (`__host(op, ...)`), which hands the
//! converted arguments to a [`Handler`]; the imp API itself is Squirrel code (`prelude.nut`),
//! except its most used members and the lazy loading, which are natives (`ffi/natives.rs`).
//! Callbacks from C never unwind: panics are caught and become Squirrel errors.

#![allow(non_camel_case_types, clippy::upper_case_acronyms)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::{CompileError, ErrorKind, Frame, Value};

mod natives;
pub(crate) use natives::Stored;

type SQInteger = i64;
type SQBool = u64;
type SQRESULT = i64;
type SQFloat = f32;
#[repr(C)]
struct SQVM {
    _private: [u8; 0],
}
type HSQUIRRELVM = *mut SQVM;
type SQFUNCTION = unsafe extern "C" fn(HSQUIRRELVM) -> SQInteger;
type SQCOMPILERERROR =
    unsafe extern "C" fn(HSQUIRRELVM, *const c_char, *const c_char, SQInteger, SQInteger);

#[repr(C)]
struct SQStackInfos {
    funcname: *const c_char,
    source: *const c_char,
    line: SQInteger,
}

/// Mirrors `SqGlueState` in glue.cpp.
#[repr(C)]
struct GlueState {
    used: i64,
    cap: i64,
    peak: i64,
    ops_limit: i64,
    ops_used: i64,
    mem_exceeded: c_int,
    ops_exceeded: c_int,
    cpu_limit_ns: i64,
    cpu_start_ns: i64,
    interrupt: *const std::sync::atomic::AtomicI32,
    work: i64,
    time_exceeded: c_int,
    interrupted: c_int,
    /// The VM this state accounts for (the glue collects its garbage before it fails a run
    /// for memory).
    vm: HSQUIRRELVM,
}

impl Default for GlueState {
    fn default() -> GlueState {
        GlueState {
            used: 0,
            cap: 0,
            peak: 0,
            ops_limit: 0,
            ops_used: 0,
            mem_exceeded: 0,
            ops_exceeded: 0,
            cpu_limit_ns: 0,
            cpu_start_ns: 0,
            interrupt: std::ptr::null(),
            work: 0,
            time_exceeded: 0,
            interrupted: 0,
            vm: std::ptr::null_mut(),
        }
    }
}

const RT_MASK: u32 = 0x00FF_FFFF;
const RT_NULL: u32 = 0x1;
const RT_INTEGER: u32 = 0x2;
const RT_FLOAT: u32 = 0x4;
const RT_BOOL: u32 = 0x8;
const RT_STRING: u32 = 0x10;
const RT_TABLE: u32 = 0x20;
const RT_ARRAY: u32 = 0x40;
const RT_INSTANCE: u32 = 0x8000;

extern "C" {
    fn sq_open(initialstacksize: SQInteger) -> HSQUIRRELVM;
    fn sq_close(v: HSQUIRRELVM);
    fn sq_seterrorhandler(v: HSQUIRRELVM);
    fn sq_setforeignptr(v: HSQUIRRELVM, p: *mut c_void);
    fn sq_getforeignptr(v: HSQUIRRELVM) -> *mut c_void;
    fn sq_compilebuffer(
        v: HSQUIRRELVM,
        s: *const c_char,
        size: SQInteger,
        sourcename: *const c_char,
        raiseerror: SQBool,
    ) -> SQRESULT;
    fn sq_enabledebuginfo(v: HSQUIRRELVM, enable: SQBool);
    fn sq_setcompilererrorhandler(v: HSQUIRRELVM, f: SQCOMPILERERROR);
    fn sq_pop(v: HSQUIRRELVM, n: SQInteger);
    fn sq_gettop(v: HSQUIRRELVM) -> SQInteger;
    fn sq_settop(v: HSQUIRRELVM, newtop: SQInteger);
    fn sq_newtable(v: HSQUIRRELVM);
    fn sq_newarray(v: HSQUIRRELVM, size: SQInteger);
    fn sq_newclosure(v: HSQUIRRELVM, f: SQFUNCTION, nfreevars: u64);
    fn sq_pushstring(v: HSQUIRRELVM, s: *const c_char, len: SQInteger);
    fn sq_pushfloat(v: HSQUIRRELVM, f: SQFloat);
    fn sq_pushinteger(v: HSQUIRRELVM, n: SQInteger);
    fn sq_pushbool(v: HSQUIRRELVM, b: SQBool);
    fn sq_pushnull(v: HSQUIRRELVM);
    fn sq_gettype(v: HSQUIRRELVM, idx: SQInteger) -> u32;
    fn sq_tostring(v: HSQUIRRELVM, idx: SQInteger) -> SQRESULT;
    fn sq_getstringandsize(
        v: HSQUIRRELVM,
        idx: SQInteger,
        c: *mut *const c_char,
        size: *mut SQInteger,
    ) -> SQRESULT;
    fn sq_getinteger(v: HSQUIRRELVM, idx: SQInteger, i: *mut SQInteger) -> SQRESULT;
    fn sq_getfloat(v: HSQUIRRELVM, idx: SQInteger, f: *mut SQFloat) -> SQRESULT;
    fn sq_getbool(v: HSQUIRRELVM, idx: SQInteger, b: *mut SQBool) -> SQRESULT;
    fn sq_pushroottable(v: HSQUIRRELVM);
    fn sq_pushregistrytable(v: HSQUIRRELVM);
    fn sq_push(v: HSQUIRRELVM, idx: SQInteger);
    fn sq_newslot(v: HSQUIRRELVM, idx: SQInteger, bstatic: SQBool) -> SQRESULT;
    fn sq_get(v: HSQUIRRELVM, idx: SQInteger) -> SQRESULT;
    fn sq_arrayappend(v: HSQUIRRELVM, idx: SQInteger) -> SQRESULT;
    fn sq_next(v: HSQUIRRELVM, idx: SQInteger) -> SQRESULT;
    fn sq_call(v: HSQUIRRELVM, params: SQInteger, retval: SQBool, raiseerror: SQBool) -> SQRESULT;
    fn sq_throwerror(v: HSQUIRRELVM, err: *const c_char) -> SQRESULT;
    fn sq_reseterror(v: HSQUIRRELVM);
    fn sq_collectgarbage(v: HSQUIRRELVM) -> SQInteger;
    fn sq_stackinfos(v: HSQUIRRELVM, level: SQInteger, si: *mut SQStackInfos) -> SQRESULT;
    fn sqstd_register_mathlib(v: HSQUIRRELVM) -> SQRESULT;
    fn sqstd_register_stringlib(v: HSQUIRRELVM) -> SQRESULT;
    fn sqstd_register_bloblib(v: HSQUIRRELVM) -> SQRESULT;
    fn sqstd_getblob(v: HSQUIRRELVM, idx: SQInteger, ptr: *mut *mut c_void) -> SQRESULT;
    fn sqstd_getblobsize(v: HSQUIRRELVM, idx: SQInteger) -> SQInteger;
    fn sqstd_createblob(v: HSQUIRRELVM, size: SQInteger) -> *mut c_void;
    fn sq_reservestack(v: HSQUIRRELVM, nsize: SQInteger) -> SQRESULT;
    fn sq_rawget(v: HSQUIRRELVM, idx: SQInteger) -> SQRESULT;
    fn sq_rawdeleteslot(v: HSQUIRRELVM, idx: SQInteger, pushval: SQBool) -> SQRESULT;
    fn sq_setdelegate(v: HSQUIRRELVM, idx: SQInteger) -> SQRESULT;
    fn sq_throwobject(v: HSQUIRRELVM) -> SQRESULT;

    fn sq_glue_set_current(st: *mut GlueState);
    fn sq_glue_current() -> *mut GlueState;
    fn sq_glue_collect(natives: c_int);
    fn sq_glue_install_print(v: HSQUIRRELVM);
    fn sq_glue_thread_cpu_ns() -> i64;
    fn sq_glue_nice_thread(nice: c_int);
}

/// Lowers the calling thread's OS scheduling priority to `nice` (Linux; elsewhere nothing).
pub(crate) fn nice_thread(nice: i32) {
    // SAFETY: changes the calling thread's own priority; no memory involved.
    unsafe { sq_glue_nice_thread(nice) }
}

/// CPU time this thread has used, in nanoseconds.
pub(crate) fn thread_cpu_ns() -> i64 {
    // SAFETY: reads the calling thread's CPU clock; no state involved.
    unsafe { sq_glue_thread_cpu_ns() }
}

/// What the Rust side of a VM answers to: `__host(op, args...)` calls and `print()` output.
pub(crate) trait Handler {
    /// Runs host operation `op`; an `Err` becomes a Squirrel runtime error.
    fn host_op(&mut self, op: &str, args: Vec<Value>) -> Result<Value, String>;
    /// Output of Squirrel's `print()` (and of the VM's own error printer).
    fn print(&mut self, text: &str, is_error: bool);
}

/// A failed run as reported by the VM.
pub(crate) struct ScriptError {
    pub message: String,
    pub frames: Vec<Frame>,
    pub kind: ErrorKind,
}

#[repr(C)]
struct Ctx<H> {
    print: PrintThunk,
    handler: H,
    last_error: Option<(String, Vec<Frame>)>,
    compile_error: Option<CompileError>,
}

/// One Squirrel VM and its Rust context. Not `Sync`; sound to move between threads because
/// Squirrel keeps no thread-bound state and the glue's thread-local pointers are only set
/// for the duration of a call made through `&mut self`.
pub(crate) struct RawVm<H: Handler> {
    v: HSQUIRRELVM,
    ctx: *mut Ctx<H>,
    mem: Box<GlueState>,
    /// Keeps the flag `mem.interrupt` points to alive.
    interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicI32>>,
}

// SAFETY: see the type's documentation; `H: Send` covers the handler moved along.
unsafe impl<H: Handler + Send> Send for RawVm<H> {}

/// Makes `st` the accounting target of this thread while alive; restores the previous one.
struct Enter(*mut GlueState);

impl Enter {
    fn new(st: &mut GlueState) -> Enter {
        // SAFETY: glue functions only read/write the pointed-to state while it is current;
        // the state outlives the guard (borrowed from the RawVm that owns it).
        unsafe {
            let prev = sq_glue_current();
            sq_glue_set_current(st);
            Enter(prev)
        }
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        // SAFETY: restores the pointer that was current before; it is still alive because
        // guards nest strictly.
        unsafe { sq_glue_set_current(self.0) }
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).expect("NULs replaced")
}

unsafe fn cstr_lossy(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

unsafe fn ctx_of<'a, H>(v: HSQUIRRELVM) -> Option<&'a mut Ctx<H>> {
    (sq_getforeignptr(v) as *mut Ctx<H>).as_mut()
}

unsafe extern "C" fn compile_error_cb<H>(
    v: HSQUIRRELVM,
    desc: *const c_char,
    _source: *const c_char,
    line: SQInteger,
    column: SQInteger,
) {
    if let Some(ctx) = ctx_of::<H>(v) {
        ctx.compile_error = Some(CompileError {
            row: line.max(1) as u32,
            column: column.max(1) as u32,
            text: cstr_lossy(desc),
        });
    }
}

/// Squirrel's print callbacks (formatted by glue.cpp) all land here; the VM's foreign
/// pointer is a `Ctx<H>`, whose first field is the matching print function.
#[no_mangle]
unsafe extern "C" fn impt_vm_print(v: HSQUIRRELVM, text: *const c_char, is_error: c_int) {
    let p = sq_getforeignptr(v);
    if p.is_null() {
        return;
    }
    let text = cstr_lossy(text);
    let f = *(p as *const PrintThunk);
    let _ = catch_unwind(AssertUnwindSafe(|| f(p, &text, is_error != 0)));
}

type PrintThunk = unsafe fn(*mut c_void, &str, bool);

unsafe fn print_thunk<H: Handler>(p: *mut c_void, text: &str, is_error: bool) {
    if let Some(ctx) = (p as *mut Ctx<H>).as_mut() {
        ctx.handler.print(text.trim_end_matches('\n'), is_error);
    }
}

unsafe extern "C" fn error_handler_cb<H>(v: HSQUIRRELVM) -> SQInteger {
    let message = if sq_gettop(v) >= 2 {
        let mut s: *const c_char = std::ptr::null();
        let mut n: SQInteger = 0;
        if sq_gettype(v, 2) & RT_MASK == RT_STRING {
            sq_getstringandsize(v, 2, &mut s, &mut n);
            bytes_lossy(s, n)
        } else if sq_tostring(v, 2) >= 0 {
            sq_getstringandsize(v, -1, &mut s, &mut n);
            let m = bytes_lossy(s, n);
            sq_pop(v, 1);
            m
        } else {
            "unknown error".to_string()
        }
    } else {
        "unknown error".to_string()
    };
    let mut frames = Vec::new();
    let mut level = 1;
    loop {
        let mut si = SQStackInfos {
            funcname: std::ptr::null(),
            source: std::ptr::null(),
            line: 0,
        };
        if sq_stackinfos(v, level, &mut si) < 0 {
            break;
        }
        let function = match cstr_lossy(si.funcname) {
            s if s.is_empty() => "unknown".to_string(),
            s => s,
        };
        frames.push(Frame {
            function,
            file: cstr_lossy(si.source),
            line: si.line.max(0) as u32,
        });
        level += 1;
    }
    if let Some(ctx) = ctx_of::<H>(v) {
        // An error raised through a native call (e.g. `acall`) reaches the handler once per
        // VM entry on its way out; keep the innermost (first) stack for the same error.
        let same =
            matches!(&ctx.last_error, Some((m, f)) if *m == message && f.len() >= frames.len());
        if !same {
            ctx.last_error = Some((message, frames));
        }
    }
    0
}

unsafe fn bytes_lossy(s: *const c_char, n: SQInteger) -> String {
    if s.is_null() || n <= 0 {
        return String::new();
    }
    String::from_utf8_lossy(std::slice::from_raw_parts(s as *const u8, n as usize)).into_owned()
}

unsafe extern "C" fn host_trampoline<H: Handler>(v: HSQUIRRELVM) -> SQInteger {
    let top = sq_gettop(v);
    let mut args = Vec::new();
    for idx in 2..=top {
        match read_value(v, idx, 0) {
            Ok(val) => args.push(val),
            Err(e) => return throw(v, &e),
        }
    }
    let (op, rest) = match args.split_first() {
        Some((Value::Str(op), rest)) => (op.clone(), rest.to_vec()),
        _ => return throw(v, "__host: missing operation"),
    };
    natives::host_call::<H>(v, &op, rest)
}

/// Registers Squirrel's standard library `name` (`string`, `blob` or `math`) in the root
/// table, once: a VM loads them when its code first needs them (the lazy parts
/// `stdlib-…` of `src/prelude.nut` call `::__stdlib(name)`).
unsafe fn register_lib(v: HSQUIRRELVM, name: &[u8]) {
    let top = sq_gettop(v);
    match name {
        b"blob" => {
            sq_pushregistrytable(v);
            push_str(v, "std_blob");
            let registered = sq_rawget(v, -2) >= 0;
            sq_settop(v, top);
            if !registered {
                sq_pushroottable(v);
                sqstd_register_bloblib(v);
            }
        }
        b"string" => {
            sq_pushroottable(v);
            sqstd_register_stringlib(v);
        }
        b"math" => {
            sq_pushroottable(v);
            push_str(v, "math");
            sq_newtable(v);
            sqstd_register_mathlib(v);
            sq_newslot(v, -3, 0);
        }
        _ => {}
    }
    sq_settop(v, top);
}

unsafe extern "C" fn stdlib_cb(v: HSQUIRRELVM) -> SQInteger {
    let mut p: *const c_char = std::ptr::null();
    let mut n: SQInteger = 0;
    if sq_getstringandsize(v, 2, &mut p, &mut n) < 0 || p.is_null() {
        return throw(v, "__stdlib: expected a library name");
    }
    register_lib(
        v,
        std::slice::from_raw_parts(p as *const u8, n.max(0) as usize),
    );
    0
}

unsafe fn throw(v: HSQUIRRELVM, msg: &str) -> SQInteger {
    let c = cstring(msg);
    sq_throwerror(v, c.as_ptr())
}

/// Stack slots [`push_value`] uses for `val` at most (a blob's creation takes a few).
fn push_slots(val: &Value) -> usize {
    match val {
        Value::Array(items) => 1 + items.iter().map(push_slots).max().unwrap_or(0),
        Value::Table(pairs) => {
            let pair = |(k, v): &(Value, Value)| push_slots(k).max(1 + push_slots(v));
            1 + pairs.iter().map(pair).max().unwrap_or(0)
        }
        Value::Blob(_) => 8,
        _ => 1,
    }
}

/// Pushes `val`; the caller makes room first ([`push_slots`]: VMs start with a small stack).
unsafe fn push_value(v: HSQUIRRELVM, val: &Value) {
    match val {
        Value::Null => sq_pushnull(v),
        Value::Bool(b) => sq_pushbool(v, *b as SQBool),
        Value::Int(i) => sq_pushinteger(v, *i),
        Value::Float(f) => sq_pushfloat(v, *f as SQFloat),
        Value::Str(s) => sq_pushstring(v, s.as_ptr() as *const c_char, s.len() as SQInteger),
        Value::Blob(b) => {
            let mut p = sqstd_createblob(v, b.len() as SQInteger);
            if p.is_null() {
                // A blob for code that has not used the blob library yet (see `stdlib_cb`):
                // it loads now, and what it takes does not count against the code's memory.
                let before = memory_used_now();
                register_lib(v, b"blob");
                grow_memory_cap(memory_used_now() as i64 - before as i64);
                p = sqstd_createblob(v, b.len() as SQInteger);
            }
            if p.is_null() {
                sq_pushnull(v);
            } else if !b.is_empty() {
                std::ptr::copy_nonoverlapping(b.as_ptr(), p as *mut u8, b.len());
            }
        }
        Value::Array(items) => {
            sq_newarray(v, 0);
            for item in items {
                push_value(v, item);
                sq_arrayappend(v, -2);
            }
        }
        Value::Table(pairs) => {
            sq_newtable(v);
            for (k, item) in pairs {
                push_value(v, k);
                push_value(v, item);
                sq_newslot(v, -3, 0);
            }
        }
    }
}

unsafe fn read_value(v: HSQUIRRELVM, idx: SQInteger, depth: u32) -> Result<Value, String> {
    if depth > 32 {
        return Err("value nested too deeply".into());
    }
    let idx = if idx < 0 { sq_gettop(v) + idx + 1 } else { idx };
    let t = sq_gettype(v, idx) & RT_MASK;
    Ok(match t {
        RT_NULL => Value::Null,
        RT_INTEGER => {
            let mut i = 0;
            sq_getinteger(v, idx, &mut i);
            Value::Int(i)
        }
        RT_FLOAT => {
            let mut f = 0.0;
            sq_getfloat(v, idx, &mut f);
            Value::Float(f as f64)
        }
        RT_BOOL => {
            let mut b = 0;
            sq_getbool(v, idx, &mut b);
            Value::Bool(b != 0)
        }
        RT_STRING => {
            let mut s: *const c_char = std::ptr::null();
            let mut n = 0;
            sq_getstringandsize(v, idx, &mut s, &mut n);
            Value::Str(bytes_lossy(s, n))
        }
        RT_TABLE | RT_ARRAY => {
            let mut pairs = Vec::new();
            let mut items = Vec::new();
            sq_pushnull(v);
            while sq_next(v, idx) >= 0 {
                let val = read_value(v, -1, depth + 1);
                let key = read_value(v, -2, depth + 1);
                sq_pop(v, 2);
                let (key, val) = match (key, val) {
                    (Ok(k), Ok(x)) => (k, x),
                    (Err(e), _) | (_, Err(e)) => {
                        sq_pop(v, 1);
                        return Err(e);
                    }
                };
                if t == RT_ARRAY {
                    items.push(val);
                } else {
                    pairs.push((key, val));
                }
            }
            sq_pop(v, 1);
            if t == RT_ARRAY {
                Value::Array(items)
            } else {
                Value::Table(pairs)
            }
        }
        RT_INSTANCE if is_blob(v, idx) => {
            let mut p: *mut c_void = std::ptr::null_mut();
            sqstd_getblob(v, idx, &mut p);
            let n = sqstd_getblobsize(v, idx).max(0) as usize;
            if p.is_null() || n == 0 {
                Value::Blob(Vec::new())
            } else {
                Value::Blob(std::slice::from_raw_parts(p as *const u8, n).to_vec())
            }
        }
        other => {
            return Err(format!(
                "cannot pass a value of type '{}' to the host",
                type_name(other)
            ))
        }
    })
}

/// Whether the instance at `idx` is a `blob`.
unsafe fn is_blob(v: HSQUIRRELVM, idx: SQInteger) -> bool {
    let mut p: *mut c_void = std::ptr::null_mut();
    sqstd_getblob(v, idx, &mut p) >= 0
}

fn type_name(rt: u32) -> &'static str {
    match rt {
        0x80 => "userdata",
        0x100 | 0x200 => "function",
        0x400 => "generator",
        0x800 => "userpointer",
        0x1000 => "thread",
        0x4000 => "class",
        0x8000 => "instance",
        0x10000 => "weakref",
        _ => "unknown",
    }
}

/// Stack slots a VM starts with (16 bytes each; the stack grows on demand, except inside a
/// metamethod, where a call that needs more fails with "stack overflow").
const INITIAL_STACK: SQInteger = 256;

impl<H: Handler> RawVm<H> {
    /// Opens a VM with the base library, the `__host` native function, `__stdlib(name)` (the
    /// math (as table `math`), string and blob libraries, registered when first called),
    /// and `mem_cap` bytes of heap (0: unlimited).
    pub fn new(handler: H, mem_cap: u64) -> RawVm<H> {
        let mut mem = Box::new(GlueState {
            cap: mem_cap as i64,
            ..GlueState::default()
        });
        let ctx = Box::into_raw(Box::new(Ctx {
            print: print_thunk::<H>,
            handler,
            last_error: None,
            compile_error: None,
        }));
        let _in = Enter::new(&mut mem);
        // SAFETY: a fresh VM; every pointer handed over lives as long as the VM (ctx is freed
        // in Drop after sq_close) or is a static function.
        unsafe {
            let v = sq_open(INITIAL_STACK);
            mem.vm = v;
            sq_setforeignptr(v, ctx as *mut c_void);
            sq_glue_install_print(v);
            sq_setcompilererrorhandler(v, compile_error_cb::<H>);
            // Line hooks are not used (the budget lives in the interpreter loop); stacks
            // get their lines from the line tables compiled in any case.
            sq_enabledebuginfo(v, 0);
            sq_newclosure(v, error_handler_cb::<H>, 0);
            sq_seterrorhandler(v);
            sq_pushroottable(v);
            // The standard libraries load when first needed (see `register_lib`).
            push_str(v, "__stdlib");
            sq_newclosure(v, stdlib_cb, 0);
            sq_newslot(v, -3, 0);
            push_str(v, "__host");
            sq_newclosure(v, host_trampoline::<H>, 0);
            sq_newslot(v, -3, 0);
            sq_pop(v, 1);
            natives::install::<H>(v);
            // Where `keep_code` keeps the programs.
            sq_pushregistrytable(v);
            push_str(v, "code");
            sq_newarray(v, 0);
            sq_newslot(v, -3, 0);
            sq_pop(v, 1);
            drop(_in);
            RawVm {
                v,
                ctx,
                mem,
                interrupt: None,
            }
        }
    }

    /// The handler, for use between runs.
    pub fn handler(&mut self) -> &mut H {
        // SAFETY: ctx is valid until Drop; `&mut self` guarantees no VM call is running.
        unsafe { &mut (*self.ctx).handler }
    }

    /// The handler, read-only.
    pub fn handler_ref(&self) -> &H {
        // SAFETY: ctx is valid until Drop; VM calls need `&mut self`, so none is running.
        unsafe { &(*self.ctx).handler }
    }

    /// Starts a new run: resets the instruction count (limit 0: unlimited) and clears a
    /// memory overflow if the heap is back under the cap.
    pub fn begin_run(&mut self, ops_limit: u64, cpu_limit_ns: u64) {
        self.mem.ops_limit = ops_limit as i64;
        self.mem.ops_used = 0;
        self.mem.ops_exceeded = 0;
        self.mem.cpu_limit_ns = cpu_limit_ns.min(i64::MAX as u64) as i64;
        self.mem.cpu_start_ns = if cpu_limit_ns > 0 { thread_cpu_ns() } else { 0 };
        self.mem.work = 0;
        self.mem.time_exceeded = 0;
        self.mem.interrupted = 0;
        if self.mem.cap <= 0 || self.mem.used <= self.mem.cap {
            self.mem.mem_exceeded = 0;
        }
    }

    /// Runs stop with [`ErrorKind::Interrupted`] soon after `flag` becomes non-zero (checked
    /// every slice of instructions and during long natives); `None`: never.
    pub fn set_interrupt(&mut self, flag: Option<std::sync::Arc<std::sync::atomic::AtomicI32>>) {
        self.mem.interrupt = flag
            .as_ref()
            .map_or(std::ptr::null(), std::sync::Arc::as_ptr);
        self.interrupt = flag;
    }

    /// Instructions executed since `begin_run` (counted per slice of 65536 while a run is
    /// in progress; exact after it).
    pub fn ops_used(&self) -> u64 {
        self.mem.ops_used.max(0) as u64
    }

    /// Sets the heap cap (0: unlimited), for the runs that follow.
    pub fn set_mem_cap(&mut self, cap: u64) {
        self.mem.cap = cap as i64;
    }

    /// Heap bytes currently charged to this VM.
    pub fn mem_used(&self) -> u64 {
        self.mem.used.max(0) as u64
    }

    /// Runs a full garbage collection (cycles only; refcounting frees the rest at once).
    pub fn collect_garbage(&mut self) {
        let _in = Enter::new(&mut self.mem);
        // SAFETY: valid VM, no call in progress.
        unsafe {
            sq_collectgarbage(self.v);
        }
    }

    fn kind(&self) -> ErrorKind {
        if self.mem.mem_exceeded != 0 {
            ErrorKind::MemoryLimit
        } else if self.mem.interrupted != 0 {
            ErrorKind::Interrupted
        } else if self.mem.time_exceeded != 0 {
            ErrorKind::TimeLimit
        } else if self.mem.ops_exceeded != 0 {
            ErrorKind::InstructionLimit
        } else {
            ErrorKind::Script
        }
    }

    fn take_error(&mut self, fallback: &str) -> ScriptError {
        // SAFETY: ctx valid; no call in progress.
        let last = unsafe { (*self.ctx).last_error.take() };
        let (message, frames) = last.unwrap_or_else(|| (fallback.to_string(), Vec::new()));
        ScriptError {
            message,
            frames,
            kind: self.kind(),
        }
    }

    /// Compiles `source` (named `name` in errors and stacks) and runs it with the root
    /// table as `this`.
    pub fn run_script(&mut self, source: &str, name: &str) -> Result<(), ScriptError> {
        self.run_source(source, name, false)
    }

    /// As [`RawVm::run_script`] for the deployed program: its compiled code is program
    /// storage, not heap. The VM keeps it for good (as the imp keeps its code) and the cap
    /// grows by the bytes it takes, so the memory left to the code is the same before and
    /// after it is loaded.
    pub fn run_program(&mut self, source: &str, name: &str) -> Result<(), ScriptError> {
        self.run_source(source, name, true)
    }

    fn run_source(&mut self, source: &str, name: &str, program: bool) -> Result<(), ScriptError> {
        let enter = Enter::new(&mut self.mem);
        let before = memory_used_now();
        let cname = cstring(name);
        // SAFETY: valid VM; the stack top is restored before returning.
        let res = unsafe {
            let v = self.v;
            let top = sq_gettop(v);
            (*self.ctx).compile_error = None;
            (*self.ctx).last_error = None;
            if sq_compilebuffer(
                v,
                source.as_ptr() as *const c_char,
                source.len() as SQInteger,
                cname.as_ptr(),
                1,
            ) < 0
            {
                let ce = (*self.ctx).compile_error.take().unwrap_or(CompileError {
                    row: 1,
                    column: 1,
                    text: "compilation failed".into(),
                });
                sq_settop(v, top);
                Err(Some(ce))
            } else {
                if program {
                    keep_code(v);
                    grow_memory_cap(memory_used_now().saturating_sub(before) as i64);
                    let st = &mut *sq_glue_current();
                    if st.cap <= 0 || st.used <= st.cap {
                        // Only the compiler's own bytes went over: the code fits.
                        st.mem_exceeded = 0;
                    }
                }
                sq_pushroottable(v);
                let r = sq_call(v, 1, 0, 1);
                sq_settop(v, top);
                sq_reseterror(v);

                if r < 0 {
                    Err(None)
                } else {
                    Ok(())
                }
            }
        };
        drop(enter);
        match res {
            Ok(()) => Ok(()),
            Err(Some(ce)) => Err(ScriptError {
                message: ce.text.clone(),
                frames: vec![Frame {
                    function: "main".into(),
                    file: name.to_string(),
                    line: ce.row,
                }],
                kind: ErrorKind::Compile,
            }),
            Err(None) => Err(self.take_error("runtime error")),
        }
    }

    /// Compiles `source` and discards the result.
    pub fn compile(&mut self, source: &str, name: &str) -> Result<(), CompileError> {
        let _in = Enter::new(&mut self.mem);
        let cname = cstring(name);
        // SAFETY: valid VM; the compiled closure is popped again.
        unsafe {
            (*self.ctx).compile_error = None;
            let top = sq_gettop(self.v);
            let r = sq_compilebuffer(
                self.v,
                source.as_ptr() as *const c_char,
                source.len() as SQInteger,
                cname.as_ptr(),
                1,
            );
            sq_settop(self.v, top);
            if r < 0 {
                return Err((*self.ctx).compile_error.take().unwrap_or(CompileError {
                    row: 1,
                    column: 1,
                    text: "compilation failed".into(),
                }));
            }
        }
        Ok(())
    }

    /// Calls the global function `name` with `args` (root table as `this`).
    pub fn call_global(&mut self, name: &str, args: &[Value]) -> Result<Value, ScriptError> {
        let enter = Enter::new(&mut self.mem);
        // SAFETY: valid VM; the stack top is restored before returning.
        let res = unsafe {
            let v = self.v;
            let top = sq_gettop(v);
            (*self.ctx).last_error = None;
            sq_pushroottable(v);
            push_str(v, name);
            if sq_get(v, -2) < 0 {
                sq_settop(v, top);
                Err(Some(format!("the index '{name}' does not exist")))
            } else {
                let room: usize = 1 + args.iter().map(push_slots).sum::<usize>();
                sq_reservestack(v, room as SQInteger);
                sq_pushroottable(v);
                for a in args {
                    push_value(v, a);
                }
                let r = sq_call(v, args.len() as SQInteger + 1, 1, 1);
                let out = if r < 0 {
                    Err(None)
                } else {
                    read_value(v, -1, 0).map_err(Some)
                };
                sq_settop(v, top);
                sq_reseterror(v);
                out
            }
        };
        drop(enter);
        self.call_result(res)
    }

    /// The outcome of a call: `Err(Some(message))` failed before the call, `Err(None)` in
    /// it (the VM's error and stack).
    fn call_result<T>(&mut self, res: Result<T, Option<String>>) -> Result<T, ScriptError> {
        res.map_err(|e| match e {
            Some(message) => ScriptError {
                message,
                frames: Vec::new(),
                kind: ErrorKind::Script,
            },
            None => self.take_error("runtime error"),
        })
    }
}

unsafe fn push_str(v: HSQUIRRELVM, s: &str) {
    sq_pushstring(v, s.as_ptr() as *const c_char, s.len() as SQInteger);
}

impl<H: Handler> Drop for RawVm<H> {
    fn drop(&mut self) {
        let _in = Enter::new(&mut self.mem);
        // SAFETY: the VM is closed once, then the context it pointed to is freed.
        unsafe {
            sq_close(self.v);
            drop(Box::from_raw(self.ctx));
        }
    }
}

struct CheckHandler;

impl Handler for CheckHandler {
    fn host_op(&mut self, _op: &str, _args: Vec<Value>) -> Result<Value, String> {
        Err("not available while compiling".into())
    }
    fn print(&mut self, _text: &str, _is_error: bool) {}
}

/// Keeps the closure on top of `v`'s stack alive for the VM's lifetime (in the registry's
/// `code` array, made by [`RawVm::new`]), leaving the stack as it was.
///
/// # Safety
/// `v` is a valid VM with a value on its stack.
unsafe fn keep_code(v: HSQUIRRELVM) {
    sq_pushregistrytable(v);
    push_str(v, "code");
    sq_get(v, -2);
    sq_push(v, -3);
    sq_arrayappend(v, -2);
    sq_pop(v, 2);
}

/// Compiles `source` without running it.
pub(crate) fn compile_only(source: &str, name: &str) -> Result<(), CompileError> {
    let mut vm = RawVm::new(CheckHandler, 0);
    vm.compile(source, name)
}

/// Heap bytes held by the VM running on this thread (0 if none).
pub(crate) fn memory_used_now() -> u64 {
    // SAFETY: as in `memory_free`.
    unsafe {
        sq_glue_current()
            .as_ref()
            .map_or(0, |st| st.used.max(0) as u64)
    }
}

/// Moves the heap cap of the VM running on this thread by `delta` bytes (if it has one).
pub(crate) fn grow_memory_cap(delta: i64) {
    // SAFETY: as in `memory_free`; the state is only touched from its own thread.
    unsafe {
        if let Some(st) = sq_glue_current().as_mut() {
            if st.cap > 0 {
                st.cap = st.cap.saturating_add(delta).max(1);
            }
        }
    }
}

/// Heap left under the cap of the VM running on this thread (`i32::MAX` if uncapped), its
/// garbage collected first (when asked from a native called by script code: the only
/// native on the stack is the one asking, holding no Squirrel objects of its own).
pub(crate) fn memory_free() -> u64 {
    // SAFETY: the glue only acts on the state current on this thread, if any.
    unsafe { sq_glue_collect(1) };
    // SAFETY: the current state pointer is either null or owned by a RawVm that is running
    // on this thread (it set the pointer for the duration of its call).
    unsafe {
        match sq_glue_current().as_ref() {
            Some(st) if st.cap > 0 => (st.cap - st.used).max(0) as u64,
            _ => i32::MAX as u64,
        }
    }
}
