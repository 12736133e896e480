// The imp API of a simulated device or agent, written in Squirrel on top of one native
// function, ::__host(op, args...) (see Vm::host_op in src/vm/mod.rs). Compiled into every
// VM before the deployed code; frames from this file are left out of reported stacks.
// ::__side is "device" or "agent" (set before this runs).

// An API table whose missing members raise a clear error instead of "does not exist".
function __api(name, members) {
    members.setdelegate({
        _get = function(key) {
            // A name looked up inside a function stored here falls through to the root
            // table (throwing null means "not found" to the VM).
            if (key in ::getroottable()) throw null;
            throw "the imp API '" + name + "." + key + "' is not supported by the simulator";
        }
    });
    return members;
}

function __str(v) {
    if (v == null) return "(null : 0x0)";
    return v.tostring();
}

// Calls cb with `args` trimmed to the parameters it declares (imp callbacks may ignore
// their arguments).
function __invoke(cb, args) {
    local n = args.len();
    local infos = cb.getinfos();
    if ("parameters" in infos && infos.parameters != null) {
        local declared = infos.parameters.len() - 1;
        local varargs = "varargs" in infos && infos.varargs;
        if (!varargs && declared < n) n = declared;
    }
    local call = [::getroottable()];
    for (local i = 0; i < n; i++) call.push(args[i]);
    return cb.acall(call);
}

// ---- time -------------------------------------------------------------------------------
::time <- function() { return ::__host("time"); }
::date <- function(t = null, kind = 'l') { return ::__host("date", t, kind == 'u'); }
::clock <- function() { return ::__host("clock"); }

// ---- server -----------------------------------------------------------------------------
::server <- __api("server", {
    log = function(msg) { ::__host("log", ::__str(msg)); }
    error = function(msg) { ::__host("error", ::__str(msg)); }
    isconnected = function() { return true; }
    connect = function(cb = null, timeout = 0) { if (cb != null) ::imp.wakeup(0, function() { cb(0); }); }
    disconnect = function() {}
    flush = function(timeout) { return true; }
    setsendtimeoutpolicy = function(policy, wait, timeout) {}
    onunexpecteddisconnect = function(cb) {}
    onshutdown = function(cb) {}
});

// ---- imp --------------------------------------------------------------------------------
::__timers <- {};
::__timer_next <- 1;
::imp <- __api("imp", {
    wakeup = function(secs, cb) {
        if (typeof cb != "function") throw "imp.wakeup: the callback must be a function";
        local id = ::__timer_next++;
        ::__timers[id] <- cb;
        ::__host("wakeup", id, secs.tofloat());
        return id;
    }
    cancelwakeup = function(id) {
        if (id != null && id in ::__timers) {
            delete ::__timers[id];
            ::__host("cancelwakeup", id);
        }
    }
    getmacaddress = function() { return ::__host("mac"); }
    getsoftwareversion = function() { return ::__host("version"); }
    getmemoryfree = function() { return ::__host("memfree"); }
    onidle = function(cb) { return ::imp.wakeup(0, cb); }
    sleep = function(secs) {}
    setpowersave = function(on) {}
    enableblinkup = function(on) {}
    setsendbuffersize = function(size) { return 4096; }
    rssi = function() { return -50; }
    getssid = function() { return "impt-sim"; }
    getbssid = function() { return "000000000000"; }
    configparams = {}
});

function __fire_timer(id) {
    if (!(id in ::__timers)) return false;
    local cb = ::__timers[id];
    delete ::__timers[id];
    ::__invoke(cb, []);
    return true;
}

// ---- messaging ----------------------------------------------------------------------------
::__handlers <- {};
local messaging = {
    send = function(name, data = null) { ::__host("send", name, data); return 0; }
    on = function(name, cb) {
        if (typeof cb != "function") throw "on: the handler must be a function";
        ::__handlers[name] <- cb;
    }
    isconnected = function() { return true; }
};

::__conn_handlers <- {};
messaging.onconnect <- function(cb) { ::__conn_handlers.connect <- cb; };
messaging.ondisconnect <- function(cb) { ::__conn_handlers.disconnect <- cb; };

function __connection(event) {
    if (!(event in ::__conn_handlers)) return false;
    ::__invoke(::__conn_handlers[event], [0]);
    return true;
}

function __message(name, data) {
    if (!(name in ::__handlers)) return false;
    ::__invoke(::__handlers[name], [data]);
    return true;
}

// ---- JSON (agent and device) ----------------------------------------------------------------
::http <- __api("http", {
    jsonencode = function(v, opts = null) { return ::__host("jsonencode", v); }
    jsondecode = function(s) { return ::__host("jsondecode", s); }
    urlencode = function(t) { return ::__host("urlencode", t); }
    urldecode = function(s) { return ::__host("urldecode", s); }
});

// Known imp libraries the simulator does not offer: clear errors on use.
::crypto <- __api("crypto", {});

if (::__side == "agent") {
    ::device <- __api("device", messaging);

    ::server.save <- function(t) { return ::__host("save", t); };
    ::server.load <- function() { return ::__host("load"); };

    ::__http_handler <- null;
    ::http.onrequest <- function(cb) {
        if (typeof cb != "function") throw "http.onrequest: the handler must be a function";
        ::__http_handler = cb;
    };
    ::http.agenturl <- function() { return ::__host("agenturl"); };

    ::__http <- function(id, req) {
        if (::__http_handler == null) return false;
        local res = {
            _id = id
            _headers = {}
            _sent = false
            header = function(name, value) { _headers[name.tolower()] <- value.tostring(); }
            send = function(code, body = "") {
                if (_sent) throw "response already sent";
                _sent = true;
                ::__host("respond", _id, code, body == null ? "" : body.tostring(), _headers);
            }
        };
        ::__invoke(::__http_handler, [req, res]);
        return true;
    };
} else {
    ::agent <- __api("agent", messaging);

    // ---- hardware: pins with in-memory state ---------------------------------------------
    ::DIGITAL_IN <- 1;
    ::DIGITAL_IN_PULLUP <- 2;
    ::DIGITAL_IN_PULLDOWN <- 3;
    ::DIGITAL_IN_WAKEUP <- 4;
    ::DIGITAL_OUT <- 5;
    ::DIGITAL_OUT_OD <- 6;
    ::ANALOG_IN <- 7;
    ::ANALOG_OUT <- 8;
    ::PWM_OUT <- 9;
    ::PULSE_COUNTER <- 10;

    class __Pin {
        _name = null;
        _mode = 0;
        _value = 0;
        _callback = null;
        constructor(name) { _name = name; }
        function configure(mode, ...) {
            _mode = mode;
            _callback = null;
            foreach (a in vargv) if (typeof a == "function") _callback = a;
            if (mode == ::DIGITAL_IN_PULLUP) _value = 1;
            ::__host("pin_configure", _name, mode);
        }
        function write(value) {
            if (_mode == 0) throw "pin " + _name + " is not configured";
            if (typeof value == "bool") value = value ? 1 : 0;
            _value = value;
            ::__host("pin_write", _name, value);
        }
        function read() { return _value; }
        function getname() { return _name; }
        function _tostring() { return "pin" + _name; }
    }

    local hw = {
        millis = function() { return ::__host("millis"); }
        micros = function() { return ::__host("millis") * 1000; }
        voltage = function() { return 3.3; }
        getdeviceid = function() { return ::__host("deviceid"); }
        wakereason = function() { return 0; }
    };
    ::__pins <- {};
    foreach (p in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F",
                   "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S", "T", "U", "V",
                   "W", "X", "Y"]) {
        ::__pins[p] <- __Pin(p);
        hw["pin" + p] <- ::__pins[p];
    }
    ::hardware <- __api("hardware", hw);

    // An input pin changed from outside (the driver): store and run its callback.
    ::__set_pin <- function(name, value) {
        if (!(name in ::__pins)) throw "no pin " + name;
        local pin = ::__pins[name];
        local changed = pin._value != value;
        pin._value = value;
        if (changed && pin._callback != null) ::__invoke(pin._callback, []);
    };

    ::nv <- {};
    ::__get_nv <- function() { return ("nv" in ::getroottable()) ? ::nv : null; };
    ::__set_nv <- function(t) { ::nv <- t; };
}
