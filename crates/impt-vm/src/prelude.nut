// The imp API of a simulated device or agent, written in Squirrel on top of one native
// function, ::__host(op, args...) (see `host_op` in crates/impt-vm/src/lib.rs), and of the
// natives `__core` and `__api` (crates/impt-vm/src/ffi/natives.rs). Compiled into every
// VM before the deployed code; frames from this file are left out of reported stacks.
// ::__side is "device" or "agent" (set before this runs).
//
// Parts between `//@lazy NAME [side=S]: KEYS` and `//@end` load only when first needed (see
// crates/impt-vm/src/lazy.rs): when the deployed code names one of their KEYS, or when a
// missing global or API member (`api.member`) is looked up. Their globals (`::NAME <-`,
// `function NAME`, `class NAME` at the start of a line) are keys too.

// Squirrel's standard libraries (registered by the host when first needed).
//@lazy stdlib-string: format printf strip lstrip rstrip split escape startswith endswith regexp
::__stdlib("string");
//@end
//@lazy stdlib-blob: blob casti2f castf2i swap2 swap4 swapfloat
::__stdlib("blob");
//@end
//@lazy stdlib-math: math
::__stdlib("math");
//@end

// `__api(name, members)` (a native, see crates/impt-vm/src/ffi/natives.rs) gives an API table
// missing members that load from a lazy part, or raise a clear error instead of "does not
// exist". `__core(name)` makes the most used members as natives.

// Adds `members` to an API table (a lazy part's members).
//@lazy more:
function __more(api, members) {
    foreach (k, v in members) api[k] <- v;
}
//@end

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

// The imp's second regular-expression class, on the host's engine (byte offsets).
//@lazy regexp2:
class regexp2 {
    _pattern = null;
    constructor(pattern) {
        _pattern = pattern;
        ::__host("re_check", pattern);
    }
    // Whether the whole of `text` matches.
    function match(text) { return ::__host("re_match", _pattern, text); }
    // {begin, end} of the first match from `start`, or null.
    function search(text, start = 0) { return ::__host("re_search", _pattern, text, start); }
    // [{begin, end} of the match, then of each group], or null.
    function capture(text, start = 0) { return ::__host("re_capture", _pattern, text, start); }
    function _tostring() { return "regexp2(" + _pattern + ")"; }
}
//@end

// ---- time -------------------------------------------------------------------------------
//@lazy time:
::time <- function() { return ::__host("time"); }
::date <- function(t = null, kind = 'l') { return ::__host("date", t, kind == 'u'); }
::clock <- function() { return ::__host("clock"); }
//@end

// ---- constants ------------------------------------------------------------------------
//@lazy constants:
::RAND_MAX <- ::math.RAND_MAX;
::ENVIRONMENT_CARD <- 0;
::ENVIRONMENT_MODULE <- 1;
::ENVIRONMENT_AGENT <- 2;
// server.setsendtimeoutpolicy()
::SUSPEND_ON_ERROR <- 0;
::RETURN_ON_ERROR <- 1;
::RETURN_ON_ERROR_NO_DISCONNECT <- 2;
::WAIT_TIL_SENT <- 0;
::WAIT_FOR_ACK <- 1;
// server.connect() callback reasons and send results
::NOT_CONNECTED <- 0;
::NO_WIFI <- 1;
::NO_LINK <- 1;
::NO_IP_ADDRESS <- 2;
::NOT_RESOLVED <- 3;
::NO_SERVER <- 4;
::SERVER_CONNECTED <- 5;
::NO_PROXY <- 6;
::NOT_AUTHORISED <- 7;
::NO_MODEM <- 8;
::SIM_ERROR <- 9;
::NO_REGISTRATION <- 10;
::REGISTRATION_DENIED <- 11;
::NO_PPP_CONNECTION <- 12;
::PPP_NO_CONNECTIVITY <- 13;
::SEND_ERROR_NOT_CONNECTED <- 1;
::SEND_ERROR_TIMEOUT <- 2;
::SEND_ERROR_DISCONNECTED <- 3;
::SEND_ERROR_WOULDBLOCK <- 4;
// server.onshutdown()
::SHUTDOWN_NEWSQUIRREL <- 1;
::SHUTDOWN_NEWFIRMWARE <- 2;
::SHUTDOWN_OTHER <- 3;
// hardware.wakereason()
::WAKEREASON_POWER_ON <- 0;
::WAKEREASON_TIMER <- 1;
::WAKEREASON_SW_RESET <- 2;
::WAKEREASON_PIN <- 3;
::WAKEREASON_NEW_SQUIRREL <- 4;
::WAKEREASON_SQUIRREL_ERROR <- 5;
::WAKEREASON_NEW_FIRMWARE <- 6;
::WAKEREASON_SNOOZE <- 7;
::WAKEREASON_HW_RESET <- 8;
::WAKEREASON_BLINKUP <- 9;
::WAKEREASON_SW_RESTART <- 10;
::WAKEREASON_POWER_RESTORED <- 11;
// hardware.spiflash.write()
::SPIFLASH_POSTVERIFY <- 1;
::SPIFLASH_PREVERIFY <- 2;
//@end

// Bytes (blob or string) as a hex string for the host.
//@lazy hex:
function __hex(data) {
    if (typeof data == "blob") return data.__hex();
    if (typeof data == "string") { local b = blob(); b.writestring(data); return b.__hex(); }
    if (data == null) return "";
    throw "expected a string or a blob";
}

// A blob holding the bytes of a hex string from the host, positioned at 0.
function __unhex(text) {
    local b = blob();
    b.__unhex(text);
    b.seek(0, 'b');
    return b;
}
//@end

// ---- server -----------------------------------------------------------------------------
// The connection is the host's (src/sim/link.rs): it answers isconnected, runs the connect
// callback and the unexpected-disconnect handler through __link_event, and carries out
// sleeps and restarts when the run ends (the calls do not return: see __stop).
//@lazy link:
::__link <- { connect_cb = null, ondisconnect = null, onshutdown = null, idle = null,
               connected = true, policy = 0 };
// Ends the current run after a sleep or restart request the host took (the host ignores
// this error).
function __stop(taken) { if (taken != null) throw "__impt_stop__"; }
// A connection call for the host; null when it has none (the state here is used then).
function __lk(op, a = null, b = null, c = null, d = null) {
    return ::__host("link", op, a, b, c, d);
}
// A deep-sleep call `fn`, or on the imp005 (it cannot deep sleep) one that does not exist.
function __deepsleep(call, fn) {
    if (::__side == "agent" || ::__lk("deepsleep") != false) return fn;
    return function(...) { throw call + " does not exist on the imp005 (it cannot deep sleep)"; };
}
//@end
::server <- __api("server", {
    log = __core("log")
    error = __core("error")
});
//@lazy server: server.sleepfor server.sleepuntil server.isconnected server.connect server.disconnect server.flush server.setsendtimeoutpolicy server.onunexpecteddisconnect server.onshutdown server.restart server.setsendbuffersize server.expectonlinein
::__more(::server, {
    isconnected = function() {
        local r = ::__lk("isconnected");
        return r == null ? ::__link.connected : r;
    }
    // SUSPEND_ON_ERROR (the default): synchronous, the callback is ignored. Otherwise the
    // callback gets SERVER_CONNECTED or the reason of the failure (nothing when already
    // connected).
    connect = function(cb = null, timeout = 60) {
        if (cb != null && typeof cb != "function") throw "server.connect: the callback must be a function";
        local st = ::__link;
        st.connect_cb = cb;
        if (::__lk("connect", cb != null, timeout.tofloat()) != null) return;
        if (st.policy == ::SUSPEND_ON_ERROR) { st.connected = true; return; }
        if (st.connected) return;
        ::imp.wakeup(0.05, function() {
            st.connected = true;
            ::__link_event("connect", ::SERVER_CONNECTED);
        });
    }
    disconnect = function() { ::__link.connected = false; ::__lk("disconnect"); }
    flush = function(timeout) {
        local r = ::__lk("flush", timeout.tofloat());
        return r == null ? true : r;
    }
    setsendtimeoutpolicy = function(policy, wait, timeout) {
        if (policy != ::SUSPEND_ON_ERROR && policy != ::RETURN_ON_ERROR
            && policy != ::RETURN_ON_ERROR_NO_DISCONNECT) {
            throw "server.setsendtimeoutpolicy: invalid error policy";
        }
        if (wait != ::WAIT_TIL_SENT && wait != ::WAIT_FOR_ACK) {
            throw "server.setsendtimeoutpolicy: invalid wait policy";
        }
        if (typeof timeout != "integer" && typeof timeout != "float") {
            throw "server.setsendtimeoutpolicy: the timeout must be a number";
        }
        ::__link.policy = policy;
        ::__lk("policy", policy, wait, timeout.tofloat());
    }
    onunexpecteddisconnect = function(cb) { ::__link.ondisconnect = cb; }
    onshutdown = function(cb) {
        ::__link.onshutdown = cb;
        ::__lk("onshutdown", cb != null);
    }
    sleepfor = ::__deepsleep("server.sleepfor", function(secs) {
        ::__stop(::__lk("sleep", secs.tofloat()));
    })
    sleepuntil = ::__deepsleep("server.sleepuntil", function(hour, minute, second = 0, day = null) {
        ::__stop(::__lk("sleepuntil", hour, minute, second, day));
    })
    restart = function() { ::__stop(::__lk("restart")); }
    setsendbuffersize = function(size) { return 4096; }
    // An imp001-era call (tells the server when the device will be back); no longer in the
    // reference: accepted and ignored (assumed).
    expectonlinein = function(secs) {
        if (typeof secs != "integer" && typeof secs != "float") throw "server.expectonlinein: the time must be a number";
    }
});
//@end

// The host's connection events: "connect" (the server.connect callback), "unexpected"
// (server.onunexpecteddisconnect), "shutdown" (server.onshutdown), "idle" (imp.onidle).
//@lazy link-event:
function __link_event(kind, reason) {
    local st = ::__link;
    local cb = null;
    if (kind == "connect") { cb = st.connect_cb; st.connect_cb = null; }
    else if (kind == "unexpected") cb = st.ondisconnect;
    else if (kind == "shutdown") cb = st.onshutdown;
    else if (kind == "idle") { cb = st.idle; st.idle = null; }
    if (cb == null) return false;
    ::__invoke(cb, [reason]);
    return true;
}
//@end

// ---- imp --------------------------------------------------------------------------------
// Timers and their callbacks are kept by the natives (they run through `__invoke`).
::imp <- __api("imp", {
    wakeup = __core("wakeup")
    cancelwakeup = __core("cancelwakeup")
    getmemoryfree = __core("getmemoryfree")
});
//@lazy imp: imp.deepsleepfor imp.deepsleepuntil imp.environment imp.info imp.getmacaddress imp.getsoftwareversion imp.onidle imp.sleep imp.reset imp.setpowersave imp.getpowersave imp.enableblinkup imp.setsendbuffersize imp.rssi imp.getrssi imp.getssid imp.getbssid imp.getcountry imp.setcountry imp.getchannel imp.setwificonfiguration imp.clearconfiguration imp.setenroltokens imp.scanwifinetworks imp.setstaticnetworkconfiguration imp.setproxy imp.getuserconfiguration imp.setuserconfiguration imp.setrescuepin imp.setnvramimage imp.configparams imp.net
::__more(::imp, {
    environment = function() {
        return ::__side == "agent" ? ::ENVIRONMENT_AGENT : ::ENVIRONMENT_MODULE;
    }
    info = function() {
        return { type = ::__side == "agent" ? "agent" : ::__host("imptype"), version = ::__host("version"),
                 cpu = "simulated", memory = ::__host("memfree") };
    }
    getmacaddress = function() { return ::__host("mac"); }
    getsoftwareversion = function() { return ::__host("version"); }
    // Runs once, when no timer is due and no message waits (the host says when).
    onidle = function(cb) {
        if (cb != null && typeof cb != "function") throw "imp.onidle: the callback must be a function";
        ::__link.idle = cb;
        if (::__lk("onidle", cb != null) == null && cb != null) {
            ::imp.wakeup(0, function() { ::__link_event("idle", 0); });
        }
    }
    sleep = function(secs) { ::__host("sleep", secs.tofloat()); }
    deepsleepfor = ::__deepsleep("imp.deepsleepfor", function(secs) {
        ::__stop(::__lk("sleep", secs.tofloat()));
    })
    deepsleepuntil = ::__deepsleep("imp.deepsleepuntil", function(hour, minute, second = 0, day = null) {
        ::__stop(::__lk("sleepuntil", hour, minute, second, day));
    })
    reset = function() { ::__stop(::__lk("reset")); }
    setpowersave = function(on) {}
    getpowersave = function() { return false; }
    enableblinkup = function(on) {}
    setsendbuffersize = function(size) { return 4096; }
    rssi = function() { return -50; }
    // the older name of rssi() (imp001-era code and Electric Imp's PLC examples)
    getrssi = function() { return -50; }
    getssid = function() { return "impt-sim"; }
    getbssid = function() { return "0c2a69000001"; }
    getcountry = function() { return 0; }
    setcountry = function(code) {}
    getchannel = function() { return 6; }
    setwificonfiguration = function(...) {}
    clearconfiguration = function(...) {}
    setenroltokens = function(plan, token) {}
    scanwifinetworks = function(cb = null) {
        local nets = [{ ssid = "impt-sim", bssid = "0c2a69000001", channel = 6, rssi = -50, open = false }];
        if (cb != null) { ::imp.wakeup(0, function() { cb(nets); }); return null; }
        return nets;
    }
    setstaticnetworkconfiguration = function(...) {}
    setproxy = function(...) {}
    getuserconfiguration = function() { return null; }
    setuserconfiguration = function(data) {}
    setrescuepin = function(...) {}
    setnvramimage = function(...) {}
    configparams = ::__host("configparams")
    net = {
        info = function() {
            return { active = 0, ipv4 = { address = "192.168.1.10", netmask = "255.255.255.0",
                     gateway = "192.168.1.1" },
                     interface = [{ type = "wifi", ssid = "impt-sim", bssid = "0c2a69000001",
                                    channel = 6, rssi = -50, macaddress = ::__host("mac") }] };
        }
        getcellinfo = function(...) { return null; }
        setserverinterfaces = function(...) {}
    }
});
//@end

// ---- messaging ----------------------------------------------------------------------------
// Message handlers are kept by the natives; the host runs them (and the connection
// handlers below) through `__invoke`.
local messaging = {
    send = __core("send")
    on = __core("on")
};

::__conn_handlers <- {};

// ---- JSON (agent and device) ----------------------------------------------------------------
::http <- __api("http", {});
//@lazy http: http.jsonencode http.jsondecode http.urlencode http.urldecode
::__more(::http, {
    jsonencode = function(v, opts = null) { return ::__host("jsonencode", v); }
    jsondecode = function(s) { return ::__host("jsondecode", s); }
    urlencode = function(t) { return ::__host("urlencode", t); }
    urldecode = function(s) { return ::__host("urldecode", s); }
});
//@end

// Known imp libraries the simulator does not offer: clear errors on use.
// ---- hashes: crypto (device and agent) and http.hash / base64 (agent) ----------------------
//@lazy crypto:
function __digest(alg) {
    return function(data) { return ::__unhex(::__host("digest", alg, ::__hex(data))); };
}
function __hmac(alg) {
    return function(data, key) {
        return ::__unhex(::__host("hmac", alg, ::__hex(data), ::__hex(key)));
    };
}
::crypto <- __api("crypto", {
    sha1 = __digest("sha1")
    sha256 = __digest("sha256")
    sha512 = __digest("sha512")
    md5 = __digest("md5")
    hmacsha1 = __hmac("sha1")
    hmacsha256 = __hmac("sha256")
    hmacsha512 = __hmac("sha512")
    hmacmd5 = __hmac("md5")
    // Compares two byte sequences in time independent of where they differ.
    equals = function(a, b) {
        local x = ::__unhex(::__hex(a)), y = ::__unhex(::__hex(b));
        if (x.len() != y.len()) return false;
        local diff = 0;
        for (local i = 0; i < x.len(); i++) diff = diff | (x[i] ^ y[i]);
        return diff == 0;
    }
});
// Signatures (agents only, as on the imp): RSASSA-PKCS1-v1_5 with SHA-256, DER keys
// (src/vm/sign.rs). Bad arguments throw; the result reaches the callback asynchronously.
function __sig_bytes(op, what, v) {
    if (typeof v != "string" && typeof v != "blob")
        throw "crypto." + op + ": the " + what + " must be a string or a blob";
    return ::__hex(v);
}
function __sig_check(op, mode, callback) {
    if (typeof mode != "integer" || mode != ::crypto.RSASSA_PKCS1_SHA256)
        throw "crypto." + op + ": unsupported mode (the only mode is crypto.RSASSA_PKCS1_SHA256)";
    if (typeof callback != "function")
        throw "crypto." + op + ": the callback must be a function";
}
if (::__side == "agent") {
    ::crypto.RSASSA_PKCS1_SHA256 <- 1;
    ::crypto.sign <- function(mode, message, privateKey, callback) {
        ::__sig_check("sign", mode, callback);
        local msg = ::__sig_bytes("sign", "message", message);
        local sig = ::__unhex(::__host("rsa_sign", ::__sig_bytes("sign", "key", privateKey), msg));
        ::imp.wakeup(0, function() { ::__invoke(callback, [null, sig]); });
    };
    ::crypto.verify <- function(mode, message, signature, publicKey, callback) {
        ::__sig_check("verify", mode, callback);
        local msg = ::__sig_bytes("verify", "message", message);
        local sig = ::__sig_bytes("verify", "signature", signature);
        local ok = ::__host("rsa_verify", ::__sig_bytes("verify", "key", publicKey), msg, sig);
        ::imp.wakeup(0, function() { ::__invoke(callback, [null, ok]); });
    };
} else {
    ::crypto.sign <- function(...) { throw "crypto.sign is available on agents only"; };
    ::crypto.verify <- function(...) { throw "crypto.verify is available on agents only"; };
}
//@end

// ---- factory ------------------------------------------------------------------------------
//@lazy factory:
::__bless_cb <- null;
function __bless_done(result) {
    local cb = ::__bless_cb;
    if (cb == null) return false;
    ::__bless_cb = null;
    ::__invoke(cb, [result]);
    return true;
}
//@end
//@lazy factory-device side=device: server.factoryblinkup server.bless
{
    ::server.factoryblinkup <- function(ssid, password, pin, flags, apn = null) {
        ::__host("factoryblinkup");
    };
    ::server.bless <- function(passed, cb) {
        if (typeof cb != "function") throw "server.bless: the callback must be a function";
        ::__host("bless", passed == true);
        ::__bless_cb = cb;
    };
}
//@end

if (::__side == "agent") {
    ::device <- __api("device", messaging);
} else {
    ::agent <- __api("agent", messaging);
}
//@lazy messaging-agent side=agent: device.isconnected device.onconnect device.ondisconnect
::__more(::device, {
    // Whether the other side is up (on an agent: the device is running).
    isconnected = function() { return ::__host("partner"); }
    onconnect = function(cb) { ::__conn_handlers.connect <- cb; }
    ondisconnect = function(cb) { ::__conn_handlers.disconnect <- cb; }
});
//@end
//@lazy messaging-device side=device: agent.isconnected agent.onconnect agent.ondisconnect
::__more(::agent, {
    // Whether the other side is up (on an agent: the device is running).
    isconnected = function() { return ::__host("partner"); }
    onconnect = function(cb) { ::__conn_handlers.connect <- cb; }
    ondisconnect = function(cb) { ::__conn_handlers.disconnect <- cb; }
});
//@end

// ---- agent: server.save/load, incoming and outgoing HTTP ----------------------------------
//@lazy agent-http side=agent: __HttpRequest server.save server.load http.onrequest http.agenturl http.hash http.request http.get http.post http.put http.httpdelete http.base64encode http.base64decode
{
    ::server.save <- function(t) { return ::__host("save", t); };
    ::server.load <- function() { return ::__host("load"); };

    ::__http_handler <- null;
    ::http.onrequest <- function(cb) {
        if (typeof cb != "function") throw "http.onrequest: the handler must be a function";
        ::__http_handler = cb;
    };
    ::http.agenturl <- function() { return ::__host("agenturl"); };
    ::http.hash <- __api("http.hash", {
        sha1 = __digest("sha1")
        sha256 = __digest("sha256")
        sha512 = __digest("sha512")
        md5 = __digest("md5")
        hmacsha1 = __hmac("sha1")
        hmacsha256 = __hmac("sha256")
        hmacsha512 = __hmac("sha512")
        hmacmd5 = __hmac("md5")
    });
    // Outgoing requests: the answer reaches __http_done (a table {statuscode, headers, body}).
    ::__http_pending <- {};
    ::__http_next <- 1;
    class __HttpRequest {
        _method = null; _url = null; _headers = null; _body = null;
        constructor(method, url, headers, body) {
            if (typeof url != "string") throw "http.request: the URL must be a string";
            _method = method.tostring(); _url = url; _headers = {};
            if (headers != null) foreach (k, v in headers) _headers[k.tostring()] <- v.tostring();
            _body = body == null ? "" : body.tostring();
        }
        function sendasync(done, streaming = null, timeout = 600) {
            if (typeof done != "function") throw "sendasync: the callback must be a function";
            local id = ::__http_next++;
            ::__http_pending[id] <- done;
            try {
                ::__host("http_request", id, _method, _url, _headers, _body, timeout.tofloat());
            } catch (e) {
                delete ::__http_pending[id];
                throw e;
            }
            return this;
        }
        function sendsync(timeout = 600) {
            return ::__host("http_sync", _method, _url, _headers, _body, timeout.tofloat());
        }
        function cancel() {}
        function setvalidation(mode) {}
    }
    ::__http_done <- function(id, resp) {
        if (!(id in ::__http_pending)) return false;
        local cb = ::__http_pending[id];
        delete ::__http_pending[id];
        ::__invoke(cb, [resp]);
        return true;
    };
    ::http.request <- function(method, url, headers = null, body = "") {
        return ::__HttpRequest(method, url, headers, body);
    };
    ::http.get <- function(url, headers = null) { return ::__HttpRequest("GET", url, headers, ""); };
    ::http.post <- function(url, headers, body) { return ::__HttpRequest("POST", url, headers, body); };
    ::http.put <- function(url, headers, body) { return ::__HttpRequest("PUT", url, headers, body); };
    ::http.httpdelete <- function(url, headers = null) {
        return ::__HttpRequest("DELETE", url, headers, "");
    };
    ::VALIDATE_USING_SYSTEM_CA_CERTS <- 0;
    ::VALIDATE_NONE <- 1;
    ::http.base64encode <- function(data) { return ::__host("base64encode", ::__hex(data)); };
    ::http.base64decode <- function(text) { return ::__unhex(::__host("base64decode", text)); };

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
}
//@end

// ---- device: hardware.spiflash ------------------------------------------------------------
//@lazy spiflash side=device: __SpiFlash hardware.spiflash
{
    // A simulated NOR flash chip: erasing sets a 4 KiB sector to 0xFF, writing can only
    // clear bits (new = old & data); the bytes live in the host (src/vm/flash.rs).
    class __SpiFlash {
        _enabled = false;
        function enable() { _enabled = true; }
        function disable() { _enabled = false; }
        function _check() { if (!_enabled) throw "spiflash is not enabled"; }
        function size() { _check(); return ::__host("flash_size"); }
        function chipid() { _check(); return 0xc22016; }
        function setspeed(speed) { return speed; }
        function erasesector(addr) { _check(); ::__host("flash_erase", addr, 4096); }
        function erasesectors(from, to) {
            _check();
            for (local a = from; a < to; a += 4096) ::__host("flash_erase", a, 4096);
        }
        function erasechip() { _check(); ::__host("flash_erase", 0, ::__host("flash_size")); }
        function read(addr, count) { _check(); return ::__unhex(::__host("flash_read", addr, count)); }
        function readintoblob(addr, target, count) {
            _check();
            target.__unhex(::__host("flash_read", addr, count));
        }
        function write(addr, data, flags = 0, start = 0, end = -1) {
            _check();
            local hex;
            if (typeof data == "blob") {
                if (end < 0) end = data.len();
                hex = data.__hex(start, end);
            } else if (typeof data == "string") {
                if (end < 0) end = data.len();
                hex = ::__hex(data.slice(start, end));
            } else {
                throw "spiflash.write: data must be a blob or a string";
            }
            return ::__host("flash_write", addr, hex, flags);
        }
    }
    ::hardware.spiflash <- ::__SpiFlash();
}
//@end

if (::__side == "device") ::hardware <- __api("hardware", {});
//@lazy hardware-core side=device: hardware.millis hardware.micros hardware.voltage hardware.getdeviceid hardware.wakereason
::__more(::hardware, {
    millis = function() { return ::__host("millis"); }
    micros = function() { return ::__host("micros"); }
    voltage = function() { return 3.3; }
    // pins, buses and the rest of the imp type's hardware: crates/impt-vm/src/hardware.nut
    getdeviceid = function() { return ::__host("deviceid"); }
    wakereason = function() {
        local r = ::__lk("wakereason");
        return r == null ? ::WAKEREASON_NEW_SQUIRREL : r;
    }
});
//@end

if (::__side == "device") {
    ::nv <- {};
}
