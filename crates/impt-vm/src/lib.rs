//! Squirrel 3 virtual machine for simulated devices and agents.
//!
//! One [`Vm`] runs one side (device or agent) of a deployment. The imp API a typical program
//! uses (`server.log`, `imp.wakeup`, `agent.send`/`device.on`, `hardware.pinX`, `nv`,
//! `server.save`, `http.onrequest`, `time()`, `date()`, `math`, string functions, ...) is
//! provided on top of a [`Host`], which the simulator's driver implements: it receives log
//! lines and messages, supplies virtual time, and routes messages between the two VMs.
//!
//! Nothing here blocks or sleeps: `imp.wakeup` only records a [`Timer`] with its due virtual
//! time, and the driver fires it with [`Vm::fire_timer`] or [`Vm::run_due_timers`].
//!
//! Every run (main code, a handler, a timer) has an instruction budget and the VM a heap cap
//! ([`Limits`]); going over either ends the run with a [`RuntimeError`] whose
//! [`ErrorKind`] says which. A `Vm` is `Send`: use it from one thread at a time.
//!
//! Host callbacks run while the VM executes: they must not call back into the same `Vm`
//! (queue work for the driver instead), and the caller must not hold a lock the host needs
//! while it calls into the `Vm`.

mod digest;
mod ffi;
mod flash;
mod imptypes;
mod lazy;
mod sign;

pub use imptypes::{imp_type, imp_type_names, ImpType, DEFAULT_IMP_TYPE, IMP_TYPES};

use std::collections::BTreeMap;
use std::fmt;

/// Data crossing the boundary between Squirrel and Rust (messages, `server.save`, `nv`,
/// HTTP). Functions, classes and instances (but blobs) cannot cross it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// Squirrel floats are 32-bit on the imp and here.
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    /// Key/value pairs in the VM's iteration order.
    Table(Vec<(Value, Value)>),
    /// A `blob`'s bytes.
    Blob(Vec<u8>),
}

impl Value {
    /// A table from string keys.
    pub fn table<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Table(
            pairs
                .into_iter()
                .map(|(k, v)| (Value::Str(k.into()), v))
                .collect(),
        )
    }

    /// The slot `key` of a table (string key), if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Table(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(k, Value::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string inside a `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as JSON (table keys become strings).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Blob(b) => J::String(String::from_utf8_lossy(b).into_owned()),
            Value::Array(a) => J::Array(a.iter().map(Value::to_json).collect()),
            Value::Table(pairs) => J::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (key_string(k), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A value from JSON.
    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(0.0)),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(a) => Value::Array(a.iter().map(Value::from_json).collect()),
            J::Object(o) => Value::table(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v)))),
        }
    }
}

fn key_string(k: &Value) -> String {
    match k {
        Value::Str(s) => s.clone(),
        other => match other.to_json() {
            serde_json::Value::String(s) => s,
            j => j.to_string(),
        },
    }
}

/// A syntax error, as impCentral reports it (1-based row and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub row: u32,
    pub column: u32,
    pub text: String,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (row {}, column {})",
            self.text, self.row, self.column
        )
    }
}

impl std::error::Error for CompileError {}

/// CPU time the calling thread has used, in nanoseconds (the clock of
/// [`Limits::cpu_ms_per_run`]).
pub fn thread_cpu_ns() -> i64 {
    ffi::thread_cpu_ns()
}

/// Runs the calling thread at OS priority `nice` (Linux `nice` value: higher is lower
/// priority), for threads running VMs that must not compete with a server's own threads.
pub fn lower_thread_priority(nice: i32) {
    ffi::nice_thread(nice)
}

/// Compiles `source` (reported as `file_name`) without running it.
pub fn compile_check(source: &str, file_name: &str) -> Result<(), CompileError> {
    ffi::compile_only(source, file_name)
}

/// Why a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The code given to [`Vm::run_main`] does not compile.
    Compile,
    /// An error raised by the program (or by an API call it made).
    Script,
    /// The run used up [`Limits::instructions_per_run`].
    InstructionLimit,
    /// The VM's heap went over [`Limits::memory_bytes`].
    MemoryLimit,
    /// The run used up [`Limits::cpu_ms_per_run`] of CPU time (its natives included).
    TimeLimit,
    /// The run was stopped from outside (see [`Vm::set_interrupt`]).
    Interrupted,
}

/// One call-stack entry, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub function: String,
    pub file: String,
    pub line: u32,
}

/// A failed run. `Display` gives the lines an imp logs:
/// `ERROR: <message>`, `ERROR:   at <function>:<line>`, `ERROR:   from <function>:<line>`...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError {
    pub message: String,
    pub stack: Vec<Frame>,
    pub kind: ErrorKind,
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ERROR: {}", self.message)?;
        for (i, fr) in self.stack.iter().enumerate() {
            let word = if i == 0 { "at" } else { "from" };
            write!(f, "\nERROR:   {word} {}:{}", fr.function, fr.line)?;
        }
        Ok(())
    }
}

impl std::error::Error for RuntimeError {}

/// Per-VM limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// VM instructions one run (main code, handler, timer) may execute; 0: unlimited.
    pub instructions_per_run: u64,
    /// Heap bytes the VM may hold (including the imp API itself, about 60 KiB); 0: unlimited.
    pub memory_bytes: u64,
    /// Milliseconds of CPU time (the running thread's, natives included) one run may use;
    /// 0: unlimited.
    pub cpu_ms_per_run: u64,
}

/// CPU time one run may use by default, in milliseconds.
pub const DEFAULT_CPU_MS_PER_RUN: u64 = 1000;

impl Default for Limits {
    /// 50 million instructions and 1 second of CPU time per run, and 8 MiB of heap.
    fn default() -> Limits {
        Limits {
            instructions_per_run: 50_000_000,
            memory_bytes: 8 << 20,
            cpu_ms_per_run: DEFAULT_CPU_MS_PER_RUN,
        }
    }
}

/// Which side of a deployment a VM runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Device,
    Agent,
}

/// Kind of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// `server.log` and `print`.
    Log,
    /// `server.error`.
    Error,
}

/// An HTTP request to the agent URL, for `http.onrequest`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpRequest {
    pub method: String,
    /// Path below the agent URL, e.g. `/` or `/led`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The answer given with `res.send(status, body)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HttpResponse {
    pub status: u16,
    /// Headers set with `res.header(name, value)`, names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// An HTTP request an agent makes with `http.request(...).sendasync()`/`sendsync()`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutgoingRequest {
    pub method: String,
    pub url: String,
    /// Header names as given.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Seconds the request may take.
    pub timeout: f64,
}

/// A pending `imp.wakeup`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timer {
    pub id: u64,
    /// Virtual time (seconds, as [`Host::now`]) when it is due.
    pub due: f64,
}

/// What a VM needs from the simulator. Called while the VM runs: must not re-enter it.
pub trait Host: Send {
    /// Device or agent.
    fn side(&self) -> Side;
    /// `server.log`, `server.error` and `print` output.
    fn log(&mut self, kind: LogKind, message: &str);
    /// Virtual time: seconds since the Unix epoch.
    fn now(&self) -> f64;
    /// `agent.send(name, data)` on a device, `device.send(name, data)` on an agent.
    fn send(&mut self, name: &str, data: Value);
    /// `agent.send`/`device.send` with the imp's result: 0, or a send error code such as
    /// `SEND_ERROR_NOT_CONNECTED` when the message cannot go; an `Err` is a runtime error
    /// of the call (default: [`Host::send`], 0).
    fn send_message(&mut self, name: &str, data: Value) -> Result<i64, String> {
        self.send(name, data);
        Ok(0)
    }
    /// `server.log`/`server.error` with the imp's result: 0, or a send error code when the
    /// line is lost (default: [`Host::log`], 0).
    fn log_line(&mut self, kind: LogKind, message: &str) -> i64 {
        self.log(kind, message);
        0
    }
    /// The device's connection and power, `op` with its arguments: `isconnected`,
    /// `connect`, `disconnect`, `flush`, `policy` (`server.setsendtimeoutpolicy`), `sleep`,
    /// `sleepuntil`, `restart`, `reset`, `onidle`, `onshutdown`, `wakereason` (see the
    /// simulator's link module). `Null`: not handled, the imp API keeps a simple state of
    /// its own (connected unless the code disconnected, woken by new code, idle callbacks
    /// as timers, sleeps and restarts doing nothing) — the default.
    fn link(&mut self, _op: &str, _args: &[Value]) -> Result<Value, String> {
        Ok(Value::Null)
    }
    /// `imp.getmacaddress()`.
    fn mac_address(&self) -> String {
        "0c2a69000000".to_string()
    }
    /// `hardware.getdeviceid()`.
    fn device_id(&self) -> String {
        "0000000000000000".to_string()
    }
    /// `http.agenturl()`.
    fn agent_url(&self) -> String {
        "http://localhost/agent".to_string()
    }
    /// `server.save(table)` on an agent; an `Err` becomes a runtime error.
    fn save(&mut self, _data: Value) -> Result<(), String> {
        Ok(())
    }
    /// `server.load()` on an agent: what was saved last (an empty table at first).
    fn load(&mut self) -> Value {
        Value::Table(Vec::new())
    }
    /// The device's `nv` table when a device VM starts (`Null`: empty).
    fn load_nv(&mut self) -> Value {
        Value::Null
    }
    /// The device's `nv` table after a run that changed it.
    fn store_nv(&mut self, _nv: &Value) {}
    /// `hardware.pinX.write(value)` (`pin` is `"1"`, `"A"`...).
    fn pin_written(&mut self, _pin: &str, _value: &Value) {}
    /// The device's imp type (a name of [`IMP_TYPES`]; an unknown one counts as
    /// [`DEFAULT_IMP_TYPE`]): `imp.info().type` and the `hardware` object's pins and buses.
    fn imp_type(&self) -> String {
        DEFAULT_IMP_TYPE.to_string()
    }
    /// A bus transaction of the device (`op` and `args` as crates/impt-vm/src/hardware.nut sends them:
    /// `i2c_read bus addr reg_hex count`, `i2c_write bus addr data_hex`, `spi bus out_hex`,
    /// `uart_configure bus baud bits parity stop flags`, `uart_write bus hex`,
    /// `uart_read bus`, ...). `Null`: nothing attached there (the device sees what a
    /// board with nothing wired gives). Bytes travel as hex strings.
    fn hardware(&mut self, _op: &str, _args: &[Value]) -> Value {
        Value::Null
    }
    /// `res.send` for a request that was answered after [`Vm::handle_http`] returned.
    fn http_response(&mut self, _request_id: u64, _response: HttpResponse) {}
    /// `sendasync()` of an agent's request `id`: the answer comes later through
    /// [`Vm::http_done`]. An `Err` becomes a runtime error of the call.
    fn http_request(&mut self, _id: u64, _req: OutgoingRequest) -> Result<(), String> {
        Err("http.request is not available here".into())
    }
    /// Whether the other side is up (`device.isconnected()` on an agent).
    fn partner_connected(&self) -> bool {
        true
    }
    /// `imp.sleep(secs)`: blocks the caller for `secs` of virtual time (default: returns at
    /// once).
    fn sleep(&mut self, _secs: f64) {}
    /// `sendsync()`: the answer now. An `Err` becomes a runtime error of the call.
    fn http_request_sync(&mut self, _req: OutgoingRequest) -> Result<HttpResponse, String> {
        Err("http.request is not available here".into())
    }
    /// `imp.configparams`: the factory keys of this device or agent (an empty table
    /// outside a factory).
    fn config_params(&self) -> Value {
        Value::Table(Vec::new())
    }
    /// `server.factoryblinkup(...)` on a device. A device that is no BlinkUp fixture only
    /// logs the imp's error.
    fn factory_blinkup(&mut self) {
        self.log(
            LogKind::Error,
            "Factory BlinkUp request failed. This is not a factory imp.",
        );
    }
    /// `server.bless(passed, callback)` on a device: the result reaches the callback later
    /// through [`Vm::bless_done`]. An `Err` becomes a runtime error of the call.
    fn bless(&mut self, _passed: bool) -> Result<(), String> {
        Err("server.bless is only available in factory firmware on a device under test".into())
    }
}

const PRELUDE: &str = include_str!("prelude.nut");
const PRELUDE_NAME: &str = "__impt_api__";
const HARDWARE: &str = include_str!("hardware.nut");
/// Heap room given to a lazy part of the API while it loads (the `hardware` API takes about
/// 110 KB); then the cap grows by what it took, so the part does not count against the
/// code's memory (`imp.getmemoryfree()` says the same before and after).
const HARDWARE_ROOM: u64 = 4 << 20;

/// The imp's Squirrel is 32-bit; this VM's objects are built with 64-bit pointers and take
/// about twice the bytes. A device's memory figures are in the imp's bytes: the heap cap
/// holds this many host bytes per imp byte, and `imp.getmemoryfree()` divides by it.
const HOST_MEMORY_SCALE: u64 = 2;

struct State {
    host: Box<dyn Host>,
    side: Side,
    start: f64,
    timers: BTreeMap<u64, f64>,
    /// The request being handled by `handle_http` and its response if already sent.
    current_request: Option<(u64, Option<HttpResponse>)>,
    /// `hardware.spiflash` of a device.
    flash: flash::Flash,
    /// Compiled `regexp2` patterns.
    regexes: std::collections::HashMap<String, regex::Regex>,
    /// The device's imp type.
    imp: &'static ImpType,
    /// The lazy parts of the API loaded so far (bits of `lazy::api().parts`).
    lazy_loaded: u64,
    /// The last id `imp.wakeup` gave.
    next_timer: u64,
}

/// A Squirrel VM running one side of a deployment.
pub struct Vm {
    raw: ffi::RawVm<State>,
    limits: Limits,
    next_request: u64,
    last_handled: bool,
    last_nv: Value,
    last_instructions: u64,
}

impl Vm {
    /// A VM with the imp API of `host.side()` loaded (and, on a device, `nv` from
    /// [`Host::load_nv`]). Fails only if the API does not fit in the limits.
    pub fn new(limits: Limits, mut host: Box<dyn Host>) -> Result<Vm, RuntimeError> {
        let side = host.side();
        let start = host.now();
        let host_type = host.imp_type();
        let nv = if side == Side::Device {
            host.load_nv()
        } else {
            Value::Null
        };
        let state = State {
            host,
            side,
            start,
            timers: BTreeMap::new(),
            current_request: None,
            flash: flash::Flash::default(),
            regexes: std::collections::HashMap::new(),
            imp: imptypes::imp_type(&host_type)
                .or_else(|| imptypes::imp_type(DEFAULT_IMP_TYPE))
                .unwrap_or(&IMP_TYPES[0]),
            lazy_loaded: 0,
            next_timer: 0,
        };
        let mut vm = Vm {
            raw: ffi::RawVm::new(state, limits.memory_bytes),
            limits,
            next_request: 1,
            last_handled: false,
            last_nv: Value::Table(Vec::new()),
            last_instructions: 0,
        };
        let side_name = match side {
            Side::Device => "device",
            Side::Agent => "agent",
        };
        let core = &lazy::api().core;
        let setup = format!("::__side <- \"{side_name}\";\n{core}");
        vm.run(|raw| raw.run_script(&setup, PRELUDE_NAME))?;
        vm.raw.enable_lazy_globals();
        if side == Side::Device && nv != Value::Null {
            vm.raw.set_global("nv", &nv);
            vm.last_nv = nv;
        }
        Ok(vm)
    }

    /// Compiles and runs the deployed code (`name` appears in errors and stacks). Meant once
    /// per VM: to restart a device or agent, make a new `Vm` (`nv` and `server.save` data
    /// carry over through the [`Host`]).
    pub fn run_main(&mut self, source: &str, name: &str) -> Result<(), RuntimeError> {
        let st = self.raw.handler_ref();
        let parts = lazy::api().for_source(source, st.side, st.lazy_loaded);
        self.load_parts(parts)?;
        self.run(|raw| raw.run_program(source, name))
    }

    /// Loads the device's `hardware` API now if it is not loaded yet (see the lazy module).
    pub fn load_hardware(&mut self) -> Result<(), RuntimeError> {
        let st = self.raw.handler_ref();
        let parts = lazy::api().for_key("hardware.*", st.side, st.lazy_loaded);
        self.load_parts(parts)
    }

    /// Loads the lazy parts of the API in `mask` (see the lazy module).
    fn load_parts(&mut self, mask: u64) -> Result<(), RuntimeError> {
        if mask == 0 {
            return Ok(());
        }
        self.raw.handler().lazy_loaded |= mask;
        let source = lazy::api().source(mask);
        self.run(|raw| raw.run_part(&source))
    }

    /// Delivers message `name` to the handler registered with `agent.on`/`device.on`.
    /// `Ok(false)`: no handler for `name`.
    pub fn call_handler(&mut self, name: &str, data: Value) -> Result<bool, RuntimeError> {
        let key = Value::Str(name.into());
        self.run(|raw| raw.call_stored(ffi::Stored::Handler, &key, &[data]))
    }

    /// Runs the callback of the device's pending `server.bless` with the server's answer.
    /// `Ok(false)`: no blessing was pending.
    pub fn bless_done(&mut self, blessed: bool) -> Result<bool, RuntimeError> {
        let r = self.run(|raw| raw.call_global("__bless_done", &[Value::Bool(blessed)]))?;
        Ok(r == Value::Bool(true))
    }

    /// Runs the agent's `device.onconnect` (`connected`) or `device.ondisconnect` handler.
    /// `Ok(false)`: none registered.
    pub fn notify_connection(&mut self, connected: bool) -> Result<bool, RuntimeError> {
        let event = if connected { "connect" } else { "disconnect" };
        let key = Value::Str(event.into());
        self.run(|raw| raw.call_stored(ffi::Stored::Connection, &key, &[Value::Int(0)]))
    }

    /// Runs the device's connection callbacks (`kind`: `connect` for the `server.connect`
    /// callback, `unexpected` for `server.onunexpecteddisconnect`, `shutdown` for
    /// `server.onshutdown`, `idle` for `imp.onidle`) with `reason`. `Ok(false)`: none set.
    pub fn link_event(&mut self, kind: &str, reason: i64) -> Result<bool, RuntimeError> {
        let args = [Value::Str(kind.into()), Value::Int(reason)];
        let r = self.run(|raw| raw.call_global("__link_event", &args))?;
        Ok(r == Value::Bool(true))
    }

    /// Runs `http.onrequest`'s handler (agent). `Ok(Some)`: answered during the call;
    /// `Ok(None)`: no handler, or the answer comes later through [`Host::http_response`]
    /// with this request's id ([`Vm::last_request_id`]).
    pub fn handle_http(&mut self, req: &HttpRequest) -> Result<Option<HttpResponse>, RuntimeError> {
        let id = self.next_request;
        self.next_request += 1;
        let pairs = |v: &[(String, String)]| {
            Value::table(v.iter().map(|(k, x)| (k.clone(), Value::Str(x.clone()))))
        };
        let table = Value::table([
            ("method", Value::Str(req.method.clone())),
            ("path", Value::Str(req.path.clone())),
            ("query", pairs(&req.query)),
            ("headers", pairs(&req.headers)),
            ("body", Value::Str(req.body.clone())),
        ]);
        self.raw.handler().current_request = Some((id, None));
        let r = self.run(|raw| raw.call_global("__http", &[Value::Int(id as i64), table]));
        let answered = self
            .raw
            .handler()
            .current_request
            .take()
            .and_then(|(_, r)| r);
        self.last_handled = r? == Value::Bool(true);
        Ok(answered)
    }

    /// Whether the last [`Vm::handle_http`] found an `http.onrequest` handler.
    pub fn last_request_handled(&self) -> bool {
        self.last_handled
    }

    /// Id of the last request given to [`Vm::handle_http`].
    pub fn last_request_id(&self) -> u64 {
        self.next_request - 1
    }

    /// Pending timers, soonest first (ties in the order they were set).
    pub fn timers(&self) -> Vec<Timer> {
        let mut t: Vec<Timer> = self
            .raw
            .handler_ref()
            .timers
            .iter()
            .map(|(&id, &due)| Timer { id, due })
            .collect();
        t.sort_by(|a, b| a.due.total_cmp(&b.due).then(a.id.cmp(&b.id)));
        t
    }

    /// The soonest pending timer.
    pub fn next_timer(&self) -> Option<Timer> {
        self.timers().into_iter().next()
    }

    /// Runs timer `id`'s callback. `Ok(false)`: no such timer (fired or cancelled).
    pub fn fire_timer(&mut self, id: u64) -> Result<bool, RuntimeError> {
        if self.raw.handler().timers.remove(&id).is_none() {
            return Ok(false);
        }
        let key = Value::Int(id as i64);
        self.run(|raw| raw.call_stored(ffi::Stored::Timer, &key, &[]))
    }

    /// Fires, in order, every timer due at or before virtual time `now`, including ones
    /// those callbacks set. Stops at the first error. Returns how many fired.
    pub fn run_due_timers(&mut self, now: f64) -> Result<usize, RuntimeError> {
        let mut fired = 0;
        while let Some(t) = self.next_timer() {
            if t.due > now {
                break;
            }
            if self.fire_timer(t.id)? {
                fired += 1;
            }
        }
        Ok(fired)
    }

    /// Delivers the answer to the agent's outgoing request `id` (its `sendasync` callback
    /// runs). `Ok(false)`: no such pending request.
    pub fn http_done(&mut self, id: u64, resp: HttpResponse) -> Result<bool, RuntimeError> {
        let table = response_value(resp);
        let r = self.run(|raw| raw.call_global("__http_done", &[Value::Int(id as i64), table]))?;
        Ok(r == Value::Bool(true))
    }

    /// Sets an input pin's value from outside (device); runs its state-change callback
    /// if the value changed.
    pub fn set_pin(&mut self, pin: &str, value: Value) -> Result<(), RuntimeError> {
        self.run(|raw| raw.call_global("__set_pin", &[Value::Str(pin.into()), value]))
            .map(drop)
    }

    /// The device's current `nv` table (`Null` on an agent).
    pub fn nv(&self) -> Value {
        self.last_nv.clone()
    }

    /// The host given to [`Vm::new`].
    pub fn host(&mut self) -> &mut dyn Host {
        self.raw.handler().host.as_mut()
    }

    /// Caps the VM's heap at what it holds now plus `free` bytes (the imp API loaded,
    /// `imp.getmemoryfree()` then says `free`). For the runs that follow.
    pub fn set_memory_free(&mut self, free: u64) {
        let cap = self.raw.mem_used() + free * HOST_MEMORY_SCALE;
        self.raw.set_mem_cap(cap);
        self.limits.memory_bytes = cap;
    }

    /// Runs stop with [`ErrorKind::Interrupted`] soon (within a slice of instructions or a
    /// long native's next check) after `flag` is set non-zero by any thread, until it is
    /// zero again. The caller clears it.
    pub fn set_interrupt(&mut self, flag: std::sync::Arc<std::sync::atomic::AtomicI32>) {
        self.raw.set_interrupt(Some(flag));
    }

    /// Heap bytes the VM holds now.
    pub fn memory_used(&self) -> u64 {
        self.raw.mem_used()
    }

    /// Instructions the last run executed.
    pub fn last_instructions(&self) -> u64 {
        self.last_instructions
    }

    fn run<T>(
        &mut self,
        f: impl FnOnce(&mut ffi::RawVm<State>) -> Result<T, ffi::ScriptError>,
    ) -> Result<T, RuntimeError> {
        self.raw.begin_run(
            self.limits.instructions_per_run,
            self.limits.cpu_ms_per_run.saturating_mul(1_000_000),
        );
        let r = f(&mut self.raw);
        self.last_instructions = self.raw.ops_used();
        let r = r.map_err(|e| RuntimeError {
            message: e.message,
            stack: e
                .frames
                .into_iter()
                .filter(|f| f.file != PRELUDE_NAME && f.file != "NATIVE" && !f.file.is_empty())
                .collect(),
            kind: e.kind,
        });
        if matches!(&r, Err(e) if e.kind == ErrorKind::MemoryLimit) {
            self.raw.collect_garbage();
        }
        self.sync_nv();
        r
    }

    /// After a device run: hand a changed `nv` to the host.
    fn sync_nv(&mut self) {
        if self.raw.handler().side != Side::Device {
            return;
        }
        self.raw.begin_run(1_000_000, 0);
        // `nv` as the code left it (null if deleted); one that cannot be stored is skipped.
        if let Ok(nv) = self.raw.get_global("nv") {
            if nv != self.last_nv {
                self.raw.handler().host.store_nv(&nv);
                self.last_nv = nv;
            }
        }
    }
}

fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Null)
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

fn string(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Null => String::new(),
        other => key_string(other),
    }
}

/// Whether a table key inside `v` holds a NUL byte (the imp cannot serialise such keys).
fn has_nul_key(v: &Value) -> bool {
    match v {
        Value::Table(pairs) => pairs
            .iter()
            .any(|(k, x)| matches!(k, Value::Str(s) if s.contains('\0')) || has_nul_key(x)),
        Value::Array(items) => items.iter().any(has_nul_key),
        _ => false,
    }
}

fn int_arg(args: &[Value], i: usize) -> Result<i64, String> {
    match arg(args, i) {
        Value::Int(n) => Ok(*n),
        Value::Float(f) => Ok(*f as i64),
        _ => Err("expected an integer".into()),
    }
}

/// Bytes handed over by the prelude as a hex string.
fn hex_arg(args: &[Value], i: usize) -> Result<Vec<u8>, String> {
    hex::decode(string(arg(args, i))).map_err(|_| "internal error: bad byte string".to_string())
}

/// A response as the agent's code sees it: `{statuscode, headers, body}`.
fn response_value(resp: HttpResponse) -> Value {
    Value::table([
        ("statuscode", Value::Int(resp.status as i64)),
        (
            "headers",
            Value::table(resp.headers.into_iter().map(|(k, v)| (k, Value::Str(v)))),
        ),
        ("body", Value::Str(resp.body)),
    ])
}

fn outgoing(args: &[Value]) -> OutgoingRequest {
    OutgoingRequest {
        method: string(arg(args, 0)).to_uppercase(),
        url: string(arg(args, 1)),
        headers: match arg(args, 2) {
            Value::Table(p) => p.iter().map(|(k, v)| (key_string(k), string(v))).collect(),
            _ => Vec::new(),
        },
        body: string(arg(args, 3)),
        timeout: num(arg(args, 4)).unwrap_or(600.0),
    }
}

fn date_table(t: f64) -> Value {
    use chrono::{Datelike, Timelike};
    let secs = t.floor() as i64;
    let usec = ((t - t.floor()) * 1e6) as i64;
    let d = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
    Value::table([
        ("year", Value::Int(d.year() as i64)),
        ("month", Value::Int(d.month0() as i64)),
        ("day", Value::Int(d.day() as i64)),
        ("hour", Value::Int(d.hour() as i64)),
        ("min", Value::Int(d.minute() as i64)),
        ("sec", Value::Int(d.second() as i64)),
        (
            "wday",
            Value::Int(d.weekday().num_days_from_sunday() as i64),
        ),
        ("yday", Value::Int(d.ordinal0() as i64)),
        ("time", Value::Int(secs)),
        ("usec", Value::Int(usec)),
    ])
}

/// What crates/impt-vm/src/hardware.nut builds the `hardware` object from.
fn layout(t: &ImpType) -> Value {
    let list = |v: &[&str]| Value::Array(v.iter().map(|s| Value::Str(s.to_string())).collect());
    Value::table([
        ("type", Value::Str(t.name.to_string())),
        ("pins", list(t.pins)),
        ("i2c", list(t.i2c)),
        ("spi", list(t.spi)),
        ("uart", list(t.uart)),
        ("sampler", Value::Bool(t.sampler)),
        ("ffdac", Value::Bool(t.ffdac)),
        ("spiflash", Value::Bool(t.spiflash)),
        ("usb", Value::Bool(t.usb)),
        ("bluetooth", Value::Bool(t.bluetooth)),
    ])
}

fn span(begin: usize, end: usize) -> Value {
    Value::table([
        ("begin", Value::Int(begin as i64)),
        ("end", Value::Int(end as i64)),
    ])
}

impl State {
    /// `regexp2` operations: the pattern is compiled once and kept.
    fn regex_op(&mut self, op: &str, args: &[Value]) -> Result<Value, String> {
        // `match` tests the whole string: its pattern is anchored at both ends.
        let pattern = match (op, string(arg(args, 0))) {
            ("re_match", p) => format!("^(?:{p})$"),
            (_, p) => p,
        };
        if !self.regexes.contains_key(&pattern) {
            let re = regex::RegexBuilder::new(&pattern)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| format!("regexp2: {e}"))?;
            if self.regexes.len() >= 256 {
                self.regexes.clear();
            }
            self.regexes.insert(pattern.clone(), re);
        }
        let re = &self.regexes[&pattern];
        let text = string(arg(args, 1));
        let start = (num(arg(args, 2)).unwrap_or(0.0).max(0.0) as usize).min(text.len());
        if !text.is_char_boundary(start) {
            return Ok(Value::Null);
        }
        Ok(match op {
            "re_check" => Value::Null,
            "re_match" => Value::Bool(re.is_match(&text)),
            "re_search" => match re.find_at(&text, start) {
                Some(m) => span(m.start(), m.end()),
                None => Value::Null,
            },
            _ => match re.captures_at(&text, start) {
                Some(c) => Value::Array(
                    c.iter()
                        .map(|g| g.map_or(span(0, 0), |m| span(m.start(), m.end())))
                        .collect(),
                ),
                None => Value::Null,
            },
        })
    }
}

impl ffi::Handler for State {
    fn host_op(&mut self, op: &str, args: Vec<Value>) -> Result<Value, String> {
        let now = self.host.now();
        Ok(match op {
            "log" => Value::Int(self.host.log_line(LogKind::Log, &string(arg(&args, 0)))),
            "error" => Value::Int(self.host.log_line(LogKind::Error, &string(arg(&args, 0)))),
            "link" => {
                let op = string(arg(&args, 0));
                self.host.link(&op, args.get(1..).unwrap_or(&[]))?
            }
            "time" => Value::Int(now.floor() as i64),
            "date" => date_table(num(arg(&args, 0)).unwrap_or(now)),
            "clock" => Value::Float(now - self.start),
            "millis" => Value::Int(((now - self.start) * 1000.0) as i64),
            "timer_id" => {
                self.next_timer += 1;
                Value::Int(self.next_timer as i64)
            }
            "wakeup" => {
                let id = num(arg(&args, 0)).ok_or("bad timer id")? as u64;
                let secs = num(arg(&args, 1)).ok_or("imp.wakeup: bad time")?;
                self.timers.insert(id, now + secs.max(0.0));
                Value::Null
            }
            "cancelwakeup" => {
                if let Some(id) = num(arg(&args, 0)) {
                    self.timers.remove(&(id as u64));
                }
                Value::Null
            }
            "micros" => Value::Int((((now - self.start) * 1e6) as i64) as i32 as i64),
            "flash_size" => Value::Int(flash::FLASH_SIZE as i64),
            "flash_erase" => {
                let addr = int_arg(&args, 0)?;
                let len = int_arg(&args, 1)?.max(0) as usize;
                self.flash.erase(addr, len)?;
                Value::Null
            }
            "flash_read" => {
                let bytes = self.flash.read(int_arg(&args, 0)?, int_arg(&args, 1)?)?;
                Value::Str(hex::encode(bytes))
            }
            "flash_write" => {
                let data = hex_arg(&args, 1)?;
                let flags = num(arg(&args, 2)).unwrap_or(0.0) as i64;
                Value::Int(self.flash.write(int_arg(&args, 0)?, &data, flags)?)
            }
            "digest" => {
                let d = digest::digest(&string(arg(&args, 0)), &hex_arg(&args, 1)?)?;
                Value::Str(hex::encode(d))
            }
            "hmac" => {
                let alg = string(arg(&args, 0));
                let d = digest::hmac(&alg, &hex_arg(&args, 1)?, &hex_arg(&args, 2)?)?;
                Value::Str(hex::encode(d))
            }
            "rsa_sign" => {
                let sig = sign::sign(&hex_arg(&args, 0)?, &hex_arg(&args, 1)?)?;
                Value::Str(hex::encode(sig))
            }
            "rsa_verify" => {
                let (key, msg, sig) = (hex_arg(&args, 0)?, hex_arg(&args, 1)?, hex_arg(&args, 2)?);
                Value::Bool(sign::verify(&key, &msg, &sig)?)
            }
            "base64encode" => {
                use base64::Engine;
                Value::Str(base64::engine::general_purpose::STANDARD.encode(hex_arg(&args, 0)?))
            }
            "base64decode" => {
                use base64::Engine;
                // Lenient as the imp: padding optional, characters outside the alphabet
                // skipped, a dangling last character ignored.
                let mut text: String = string(arg(&args, 0))
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_'))
                    .map(|c| match c {
                        '-' => '+',
                        '_' => '/',
                        c => c,
                    })
                    .collect();
                if text.len() % 4 == 1 {
                    text.pop();
                }
                let engine = base64::engine::GeneralPurpose::new(
                    &base64::alphabet::STANDARD,
                    base64::engine::GeneralPurposeConfig::new()
                        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
                        .with_decode_allow_trailing_bits(true),
                );
                let bytes = engine
                    .decode(text)
                    .map_err(|e| format!("http.base64decode: {e}"))?;
                Value::Str(hex::encode(bytes))
            }
            "http_request" => {
                let id = int_arg(&args, 0)? as u64;
                self.host
                    .http_request(id, outgoing(args.get(1..).unwrap_or(&[])))?;
                Value::Null
            }
            "http_sync" => response_value(self.host.http_request_sync(outgoing(&args))?),
            "partner" => Value::Bool(self.host.partner_connected()),
            "sleep" => {
                self.host
                    .sleep(num(arg(&args, 0)).unwrap_or(0.0).clamp(0.0, 60.0));
                Value::Null
            }
            "re_check" | "re_match" | "re_search" | "re_capture" => self.regex_op(op, &args)?,
            "configparams" => self.host.config_params(),
            "factoryblinkup" => {
                self.host.factory_blinkup();
                Value::Null
            }
            "bless" => {
                let passed = matches!(arg(&args, 0), Value::Bool(true));
                self.host.bless(passed)?;
                Value::Null
            }
            "imptype" => Value::Str(self.imp.name.to_string()),
            "hw_layout" => layout(self.imp),
            "lazy" => {
                let key = string(arg(&args, 0));
                let mask = lazy::api().for_key(&key, self.side, self.lazy_loaded);
                if mask == 0 {
                    Value::Null
                } else {
                    self.lazy_loaded |= mask;
                    Value::Str(lazy::api().source(mask))
                }
            }
            // Room for the API while it loads, then the cap grows by what it took.
            "hw_mark" => {
                ffi::grow_memory_cap(HARDWARE_ROOM as i64);
                Value::Int(ffi::memory_used_now() as i64)
            }
            "hw_grow" => {
                let mark = match arg(&args, 0) {
                    Value::Int(n) => (*n).max(0) as u64,
                    _ => 0,
                };
                let took = ffi::memory_used_now().saturating_sub(mark);
                ffi::grow_memory_cap(took as i64 - HARDWARE_ROOM as i64);
                Value::Null
            }
            "hw" => {
                let op = string(arg(&args, 0));
                self.host.hardware(&op, args.get(1..).unwrap_or(&[]))
            }
            "mac" => Value::Str(self.host.mac_address()),
            "deviceid" => Value::Str(self.host.device_id()),
            "agenturl" => Value::Str(self.host.agent_url()),
            "version" => Value::Str(format!("impt-sim {}", env!("CARGO_PKG_VERSION"))),
            "memfree" => Value::Int((ffi::memory_free() / HOST_MEMORY_SCALE) as i64),
            "send" => {
                let name = arg(&args, 0)
                    .as_str()
                    .ok_or("send: the name must be a string")?;
                let data = arg(&args, 1);
                if has_nul_key(data) {
                    return Err("send: unserialisable data (a table key holds a NUL byte)".into());
                }
                Value::Int(self.host.send_message(name, data.clone())?)
            }
            "save" => {
                let data = arg(&args, 0);
                if !matches!(data, Value::Table(_)) {
                    return Err("server.save: argument must be a table".into());
                }
                self.host.save(data.clone())?;
                Value::Int(0)
            }
            "load" => self.host.load(),
            "respond" => {
                let id = num(arg(&args, 0)).unwrap_or(0.0) as u64;
                let status = num(arg(&args, 1)).ok_or("res.send: bad status code")? as u16;
                let headers = match arg(&args, 3) {
                    Value::Table(p) => p.iter().map(|(k, v)| (key_string(k), string(v))).collect(),
                    _ => Vec::new(),
                };
                let resp = HttpResponse {
                    status,
                    headers,
                    body: string(arg(&args, 2)),
                };
                match &mut self.current_request {
                    Some((cur, slot)) if *cur == id => *slot = Some(resp),
                    _ => self.host.http_response(id, resp),
                }
                Value::Null
            }
            "pin_configure" => Value::Null,
            "pin_write" => {
                self.host.pin_written(&string(arg(&args, 0)), arg(&args, 1));
                Value::Null
            }
            "jsonencode" => Value::Str(arg(&args, 0).to_json().to_string()),
            "jsondecode" => {
                let s = arg(&args, 0)
                    .as_str()
                    .ok_or("http.jsondecode: expected a string")?;
                let j: serde_json::Value =
                    serde_json::from_str(s).map_err(|e| format!("http.jsondecode: {e}"))?;
                Value::from_json(&j)
            }
            "urlencode" => {
                let mut ser = url::form_urlencoded::Serializer::new(String::new());
                if let Value::Table(pairs) = arg(&args, 0) {
                    for (k, v) in pairs {
                        ser.append_pair(&key_string(k), &string(v));
                    }
                }
                Value::Str(ser.finish())
            }
            "urldecode" => {
                let s = string(arg(&args, 0));
                Value::table(
                    url::form_urlencoded::parse(s.as_bytes())
                        .map(|(k, v)| (k.into_owned(), Value::Str(v.into_owned()))),
                )
            }
            other => return Err(format!("unknown host operation '{other}'")),
        })
    }

    fn print(&mut self, text: &str, is_error: bool) {
        let kind = if is_error {
            LogKind::Error
        } else {
            LogKind::Log
        };
        self.host.log_line(kind, text);
    }
}
