//! The imp API's most used members as native functions, and the lazy loading of the rest.
//!
//! Every VM used to compile the same Squirrel for `server.log`, `imp.wakeup`, the message
//! handlers, the API tables' `_get` and the lazy loader: about 12 KB of function prototypes
//! and strings per VM, the largest part of an idle device's memory. Natives cost a closure
//! each. What they do is what that Squirrel did (same results, same error messages):
//! - `__core(name)` makes the member `name` (`log`, `error`, `wakeup`, `cancelwakeup`,
//!   `getmemoryfree`, `send`, `on`); `src/prelude.nut` builds the API tables with it;
//! - `__api(name, members)` gives an API table its `_get` (a missing member loads the lazy
//!   part that has it, or raises a clear error);
//! - the root table's delegate loads a lazy part when a missing global is looked up.
//!
//! Timer callbacks and message handlers live in the registry (`timers`, `handlers`); the
//! host fires them through [`RawVm::call_stored`].

use super::*;

const LOG: SQInteger = 0;
const ERROR: SQInteger = 1;
const WAKEUP: SQInteger = 2;
const CANCEL: SQInteger = 3;
const MEMFREE: SQInteger = 4;
const SEND: SQInteger = 5;
const ON: SQInteger = 6;

/// The members `__core` makes, by op number.
const CORE: [&str; 7] = [
    "log",
    "error",
    "wakeup",
    "cancelwakeup",
    "getmemoryfree",
    "send",
    "on",
];

const RT_CLOSURE: u32 = 0x100;
const RT_NATIVECLOSURE: u32 = 0x200;

/// Where [`RawVm::call_stored`] finds a callback.
#[derive(Clone, Copy)]
pub(crate) enum Stored {
    /// `imp.wakeup`'s callbacks by timer id (removed when fired).
    Timer,
    /// `agent.on`/`device.on` handlers by message name.
    Handler,
    /// The root table's `__conn_handlers` (`device.onconnect`, ...) by event.
    Connection,
}

/// Installs the natives in a fresh VM: `__core`, `__api` and the registry's `timers` and
/// `handlers` tables.
pub(super) unsafe fn install<H: Handler>(v: HSQUIRRELVM) {
    let top = sq_gettop(v);
    sq_pushroottable(v);
    push_str(v, "__core");
    sq_newclosure(v, core_maker::<H>, 0);
    sq_newslot(v, -3, 0);
    push_str(v, "__api");
    sq_newclosure(v, api_cb::<H>, 0);
    sq_newslot(v, -3, 0);
    sq_pushregistrytable(v);
    for name in ["timers", "handlers"] {
        push_str(v, name);
        sq_newtable(v);
        sq_newslot(v, -3, 0);
    }
    sq_settop(v, top);
}

/// Whether the value at `idx` can be called.
unsafe fn is_function(v: HSQUIRRELVM, idx: SQInteger) -> bool {
    matches!(sq_gettype(v, idx) & RT_MASK, RT_CLOSURE | RT_NATIVECLOSURE)
}

/// The string at `idx` (`None`: not a string).
unsafe fn string_at(v: HSQUIRRELVM, idx: SQInteger) -> Option<String> {
    if sq_gettype(v, idx) & RT_MASK != RT_STRING {
        return None;
    }
    let mut p: *const c_char = std::ptr::null();
    let mut n: SQInteger = 0;
    sq_getstringandsize(v, idx, &mut p, &mut n);
    Some(bytes_lossy(p, n))
}

/// The value at `idx` as `tostring()` gives it (its `_tostring` runs); `None`: that failed
/// and the VM holds the error.
unsafe fn to_text(v: HSQUIRRELVM, idx: SQInteger) -> Option<String> {
    if sq_tostring(v, idx) < 0 {
        return None;
    }
    let text = string_at(v, -1);
    sq_pop(v, 1);
    text
}

/// Runs host operation `op` and pushes its result (the native returns what this returns).
pub(super) unsafe fn host_call<H: Handler>(
    v: HSQUIRRELVM,
    op: &str,
    args: Vec<Value>,
) -> SQInteger {
    let Some(ctx) = ctx_of::<H>(v) else {
        return throw(v, "VM has no host");
    };
    match catch_unwind(AssertUnwindSafe(|| ctx.handler.host_op(op, args))) {
        Ok(Ok(val)) => {
            // Inside a metamethod the stack cannot grow: the error says so.
            if sq_reservestack(v, push_slots(&val) as SQInteger) < 0 {
                return -1;
            }
            push_value(v, &val);
            1
        }
        Ok(Err(e)) => throw(v, &e),
        Err(_) => throw(v, &format!("internal error in host operation '{op}'")),
    }
}

/// `__core(name)`: a new native closure for member `name` (its op number as free variable).
unsafe extern "C" fn core_maker<H: Handler>(v: HSQUIRRELVM) -> SQInteger {
    let Some(name) = string_at(v, 2) else {
        return throw(v, "__core: expected a name");
    };
    let Some(op) = CORE.iter().position(|c| *c == name) else {
        return throw(v, &format!("__core: no member '{name}'"));
    };
    sq_pushinteger(v, op as SQInteger);
    sq_newclosure(v, core_cb::<H>, 1);
    1
}

/// A member made by `__core`. Stack: 1 `this`, 2.. the arguments, top the op number.
unsafe extern "C" fn core_cb<H: Handler>(v: HSQUIRRELVM) -> SQInteger {
    let top = sq_gettop(v);
    let mut op: SQInteger = -1;
    sq_getinteger(v, top, &mut op);
    let nargs = top - 2;
    let arity = match op {
        LOG | ERROR => (1, SQInteger::MAX),
        WAKEUP | ON => (2, 2),
        CANCEL => (1, 1),
        MEMFREE => (0, 0),
        SEND => (1, 2),
        _ => return throw(v, "internal error: unknown API member"),
    };
    if nargs < arity.0 || nargs > arity.1 {
        return throw(v, "wrong number of parameters");
    }
    if sq_reservestack(v, 6) < 0 {
        return -1;
    }
    match op {
        LOG | ERROR => {
            // As the imp prints them: null as "(null : 0x0)", the rest through tostring().
            let text = if sq_gettype(v, 2) & RT_MASK == RT_NULL {
                "(null : 0x0)".to_string()
            } else {
                match to_text(v, 2) {
                    Some(t) => t,
                    None => return -1,
                }
            };
            let name = if op == LOG { "log" } else { "error" };
            host_call::<H>(v, name, vec![Value::Str(text)])
        }
        WAKEUP => {
            if !is_function(v, 3) {
                return throw(v, "imp.wakeup: the callback must be a function");
            }
            let secs = match number_of(v, 2) {
                Ok(s) => s,
                Err(e) => return throw(v, &e),
            };
            let Some(ctx) = ctx_of::<H>(v) else {
                return throw(v, "VM has no host");
            };
            let id = match ctx.handler.host_op("timer_id", Vec::new()) {
                Ok(Value::Int(id)) => id,
                _ => return throw(v, "internal error: no timer id"),
            };
            store(v, "timers", Value::Int(id), 3);
            if host_call::<H>(v, "wakeup", vec![Value::Int(id), Value::Float(secs)]) < 0 {
                return -1;
            }
            sq_pop(v, 1);
            sq_pushinteger(v, id);
            1
        }
        CANCEL => {
            if sq_gettype(v, 2) & RT_MASK != RT_NULL && unstore(v, "timers", 2) {
                let id = match read_value(v, 2, 0) {
                    Ok(id) => id,
                    Err(e) => return throw(v, &e),
                };
                if host_call::<H>(v, "cancelwakeup", vec![id]) < 0 {
                    return -1;
                }
                sq_pop(v, 1);
            }
            0
        }
        MEMFREE => host_call::<H>(v, "memfree", Vec::new()),
        SEND => {
            let mut args = Vec::with_capacity(2);
            for idx in 2..=3 {
                if idx > top - 1 {
                    args.push(Value::Null);
                    continue;
                }
                match read_value(v, idx, 0) {
                    Ok(a) => args.push(a),
                    Err(e) => return throw(v, &e),
                }
            }
            host_call::<H>(v, "send", args)
        }
        ON => {
            if !is_function(v, 3) {
                return throw(v, "on: the handler must be a function");
            }
            sq_pushregistrytable(v);
            push_str(v, "handlers");
            sq_rawget(v, -2);
            sq_push(v, 2);
            sq_push(v, 3);
            if sq_newslot(v, -3, 0) < 0 {
                return -1;
            }
            sq_pop(v, 2);
            0
        }
        _ => 0,
    }
}

/// `secs.tofloat()` for `imp.wakeup`'s time.
unsafe fn number_of(v: HSQUIRRELVM, idx: SQInteger) -> Result<f64, String> {
    match read_value(v, idx, 0) {
        Ok(Value::Int(i)) => Ok(i as f64),
        Ok(Value::Float(f)) => Ok(f),
        Ok(Value::Bool(b)) => Ok(if b { 1.0 } else { 0.0 }),
        Ok(Value::Str(s)) => s
            .trim()
            .parse::<f64>()
            .map_err(|_| "cannot convert the string".to_string()),
        _ => Err("the index 'tofloat' does not exist".to_string()),
    }
}

/// Registry table `table`[`key`] = the value at `idx`.
unsafe fn store(v: HSQUIRRELVM, table: &str, key: Value, idx: SQInteger) {
    sq_pushregistrytable(v);
    push_str(v, table);
    sq_rawget(v, -2);
    push_value(v, &key);
    sq_push(v, idx);
    sq_newslot(v, -3, 0);
    sq_pop(v, 2);
}

/// Removes the key at `idx` from registry table `table`; whether it was there.
unsafe fn unstore(v: HSQUIRRELVM, table: &str, idx: SQInteger) -> bool {
    let top = sq_gettop(v);
    sq_pushregistrytable(v);
    push_str(v, table);
    sq_rawget(v, -2);
    let found = raw_lookup(v, -1, idx);
    if found {
        sq_pop(v, 1);
        sq_push(v, idx);
        sq_rawdeleteslot(v, -2, 0);
    }
    sq_settop(v, top);
    found
}

/// Loads the lazy part that answers to `key`, if any is not loaded yet; whether one ran.
/// `Err`: it failed (the VM holds the error).
unsafe fn lazy_load<H: Handler>(v: HSQUIRRELVM, key: &str) -> Result<bool, ()> {
    let Some(ctx) = ctx_of::<H>(v) else {
        return Ok(false);
    };
    let source = match ctx
        .handler
        .host_op("lazy", vec![Value::Str(key.to_string())])
    {
        Ok(Value::Str(s)) => s,
        _ => return Ok(false),
    };
    let mark = ctx
        .handler
        .host_op("hw_mark", Vec::new())
        .unwrap_or(Value::Null);
    let top = sq_gettop(v);
    let name = cstring(crate::PRELUDE_NAME);
    let ok = sq_compilebuffer(
        v,
        source.as_ptr() as *const c_char,
        source.len() as SQInteger,
        name.as_ptr(),
        1,
    ) >= 0
        && {
            sq_pushroottable(v);
            sq_call(v, 1, 0, 1) >= 0
        };
    sq_settop(v, top);
    if let Some(ctx) = ctx_of::<H>(v) {
        let _ = ctx.handler.host_op("hw_grow", vec![mark]);
    }
    if ok {
        Ok(true)
    } else {
        Err(())
    }
}

/// Pushes `table`[key at `key_idx`] (raw) and returns true, or pushes nothing and returns
/// false.
unsafe fn raw_lookup(v: HSQUIRRELVM, table: SQInteger, key_idx: SQInteger) -> bool {
    sq_push(v, key_idx);
    let table = if table < 0 { table - 1 } else { table };
    sq_rawget(v, table) >= 0
}

/// "Not found" for a `_get` metamethod: the lookup goes on as if there were no member.
unsafe fn not_found(v: HSQUIRRELVM) -> SQInteger {
    sq_pushnull(v);
    sq_throwobject(v)
}

/// The root table's `_get`: a missing global may be in a lazy part.
unsafe extern "C" fn root_get_cb<H: Handler>(v: HSQUIRRELVM) -> SQInteger {
    if sq_reservestack(v, 4) < 0 {
        return -1;
    }
    if let Some(key) = string_at(v, 2) {
        match lazy_load::<H>(v, &key) {
            Err(()) => return -1,
            Ok(true) => {
                sq_pushroottable(v);
                if raw_lookup(v, -1, 2) {
                    return 1;
                }
            }
            Ok(false) => {}
        }
    }
    not_found(v)
}

/// `__api(name, members[, plain])`: `members` with a delegate whose `_get` loads the lazy
/// part that has a missing member, or raises a clear error (`plain`: Squirrel's own "does
/// not exist", as the imp's `hardware` object gives).
unsafe extern "C" fn api_cb<H: Handler>(v: HSQUIRRELVM) -> SQInteger {
    let top = sq_gettop(v);
    if !(3..=4).contains(&top) || sq_gettype(v, 3) & RT_MASK != RT_TABLE {
        return throw(v, "__api: expected a name and a table");
    }
    let mut plain: SQBool = 0;
    if top == 4 {
        sq_getbool(v, 4, &mut plain);
    }
    if sq_reservestack(v, 4) < 0 {
        return -1;
    }
    sq_newtable(v);
    push_str(v, "_get");
    // The free variables are taken from the top down: the last pushed is the first.
    sq_pushbool(v, plain);
    sq_push(v, 2);
    sq_newclosure(v, api_get_cb::<H>, 2);
    sq_newslot(v, -3, 0);
    if sq_setdelegate(v, 3) < 0 {
        return -1;
    }
    sq_push(v, 3);
    1
}

/// An API table's `_get`. Stack: 1 the table, 2 the key, 3 the API's name, 4 `plain`.
unsafe extern "C" fn api_get_cb<H: Handler>(v: HSQUIRRELVM) -> SQInteger {
    if sq_reservestack(v, 4) < 0 {
        return -1;
    }
    let name = string_at(v, 3).unwrap_or_default();
    let key = string_at(v, 2);
    if let Some(key) = &key {
        // A member of a part of the API not loaded yet (see the lazy module).
        match lazy_load::<H>(v, &format!("{name}.{key}")) {
            Err(()) => return -1,
            Ok(true) => {
                if raw_lookup(v, 1, 2) {
                    return 1;
                }
            }
            Ok(false) => {}
        }
    }
    let mut plain: SQBool = 0;
    sq_getbool(v, 4, &mut plain);
    if plain != 0 {
        return not_found(v);
    }
    // A name looked up inside a function stored here falls through to the root table
    // (`key in ::getroottable()`: a global of a lazy part not loaded yet counts).
    sq_pushroottable(v);
    if raw_lookup(v, -1, 2) {
        return not_found(v);
    }
    if let Some(key) = &key {
        match lazy_load::<H>(v, key) {
            Err(()) => return -1,
            Ok(true) if raw_lookup(v, -1, 2) => return not_found(v),
            _ => {}
        }
    }
    let Some(key) = to_text(v, 2) else {
        return -1;
    };
    throw(
        v,
        &format!("the imp API '{name}.{key}' is not supported by the simulator"),
    )
}

impl<H: Handler> RawVm<H> {
    /// From now on a missing global loads the lazy part that defines it (the root table's
    /// delegate), once the core of the API is in place.
    pub fn enable_lazy_globals(&mut self) {
        // SAFETY: the root table is at -1.
        self.at_root(4, |v| unsafe {
            sq_newtable(v);
            push_str(v, "_get");
            sq_newclosure(v, root_get_cb::<H>, 0);
            sq_newslot(v, -3, 0);
            sq_setdelegate(v, -2);
        })
    }

    /// Runs `f` with the root table pushed and `room` more stack slots; the stack is left as
    /// it was.
    fn at_root<T>(&mut self, room: usize, f: impl FnOnce(HSQUIRRELVM) -> T) -> T {
        let _in = Enter::new(&mut self.mem);
        // SAFETY: valid VM; the stack top is restored before returning.
        unsafe {
            let v = self.v;
            let top = sq_gettop(v);
            sq_reservestack(v, room as SQInteger + 1);
            sq_pushroottable(v);
            let out = f(v);
            sq_settop(v, top);
            out
        }
    }

    /// Runs the callback stored under `key` (see [`Stored`]) through `::__invoke` with
    /// `args`; `Ok(false)`: none is stored there. A timer's callback is removed first.
    pub fn call_stored(
        &mut self,
        place: Stored,
        key: &Value,
        args: &[Value],
    ) -> Result<bool, ScriptError> {
        let enter = Enter::new(&mut self.mem);
        // SAFETY: valid VM; the stack top is restored before returning.
        let res = unsafe {
            let v = self.v;
            let top = sq_gettop(v);
            (*self.ctx).last_error = None;
            let room: usize = 8 + push_slots(key) + args.iter().map(push_slots).sum::<usize>();
            sq_reservestack(v, room as SQInteger);
            match place {
                Stored::Timer | Stored::Handler => {
                    sq_pushregistrytable(v);
                    let table = if matches!(place, Stored::Timer) {
                        "timers"
                    } else {
                        "handlers"
                    };
                    push_str(v, table);
                }
                Stored::Connection => {
                    sq_pushroottable(v);
                    push_str(v, "__conn_handlers");
                }
            }
            let table = top + 2;
            let found = sq_rawget(v, -2) >= 0 && {
                push_value(v, key);
                sq_rawget(v, table) >= 0
            };
            if !found {
                sq_settop(v, top);
                Ok(false)
            } else {
                let cb = sq_gettop(v);
                if matches!(place, Stored::Timer) {
                    push_value(v, key);
                    sq_rawdeleteslot(v, table, 0);
                }
                sq_pushroottable(v);
                push_str(v, "__invoke");
                if sq_rawget(v, -2) < 0 {
                    sq_settop(v, top);
                    Err(Some("the index '__invoke' does not exist".to_string()))
                } else {
                    sq_pushroottable(v);
                    sq_push(v, cb);
                    sq_newarray(v, 0);
                    for a in args {
                        push_value(v, a);
                        sq_arrayappend(v, -2);
                    }
                    let r = sq_call(v, 3, 0, 1);
                    sq_settop(v, top);
                    sq_reseterror(v);
                    if r < 0 {
                        Err(None)
                    } else {
                        Ok(true)
                    }
                }
            }
        };
        drop(enter);
        self.call_result(res)
    }

    /// The global `name` (null if the root table has no such slot); `Err`: it holds what
    /// cannot leave the VM.
    pub fn get_global(&mut self, name: &str) -> Result<Value, String> {
        // SAFETY: the root table is at -1.
        self.at_root(2, |v| unsafe {
            push_str(v, name);
            if sq_rawget(v, -2) >= 0 {
                read_value(v, -1, 0)
            } else {
                Ok(Value::Null)
            }
        })
    }

    /// Sets (or creates) the global `name`.
    pub fn set_global(&mut self, name: &str, value: &Value) {
        // SAFETY: the root table is at -1.
        self.at_root(2 + push_slots(value), |v| unsafe {
            push_str(v, name);
            push_value(v, value);
            sq_newslot(v, -3, 0);
        })
    }

    /// Runs a lazy part of the API (see the lazy module): the heap cap grows by what it
    /// takes, so the code's memory figures do not change.
    pub fn run_part(&mut self, source: &str) -> Result<(), ScriptError> {
        let _in = Enter::new(&mut self.mem);
        let mark = self
            .handler()
            .host_op("hw_mark", Vec::new())
            .unwrap_or(Value::Null);
        let r = self.run_script(source, crate::PRELUDE_NAME);
        let _ = self.handler().host_op("hw_grow", vec![mark]);
        r
    }
}
