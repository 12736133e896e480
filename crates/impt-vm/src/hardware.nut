// The device's `hardware` object for its imp type (crates/impt-vm/src/imptypes.rs), run after the
// prelude on devices. With nothing attached it behaves as a board with nothing wired to
// the module; every bus transaction also goes to the host (::__host("hw", op, ...)), which
// answers for the parts attached to the device (src/sim/hardware) and can trace it.
// Numbers the imp API reference does not give are marked "assumed" (see FIDELITY.md).

// ---- constants ----------------------------------------------------------------------------
// pin.configure() modes (values assumed: the reference names them only)
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
::DIGITAL_OUT_OD_PULLUP <- 11;
::PWM_OUT_STEPS <- 12;
// i2c.configure() speeds (Hz)
::CLOCK_SPEED_10_KHZ <- 10000;
::CLOCK_SPEED_50_KHZ <- 50000;
::CLOCK_SPEED_100_KHZ <- 100000;
::CLOCK_SPEED_400_KHZ <- 400000;
// uart.configure() parity and flags, uart.flags() bits (values assumed)
::PARITY_NONE <- 0;
::PARITY_EVEN <- 1;
::PARITY_ODD <- 2;
::PARITY_MARK <- 3;
::PARITY_SPACE <- 4;
::NO_TX <- 1;
::NO_RX <- 2;
::NO_CTSRTS <- 4;
::CTSRTS <- 0;
::TIMING_ENABLED <- 8;
::READ_READY <- 1;
::WRITE_DONE <- 2;
::NOISE_ERROR <- 4;
::FRAME_ERROR <- 8;
::PARITY_ERROR <- 16;
::OVERRUN_ERROR <- 32;
::LINE_IDLE <- 64;
::TX_FIFO_EMPTY <- 128;
// spi.configure() mode bits (values assumed)
::CLOCK_IDLE_LOW <- 0;
::MSB_FIRST <- 0;
::SIMPLEX_RX <- 1;
::SIMPLEX_TX <- 2;
::CLOCK_IDLE_HIGH <- 4;
::CLOCK_2ND_EDGE <- 8;
::LSB_FIRST <- 16;
::NO_SCLK <- 32;
::USE_CS_L <- 64;
// sampler / fixedfrequencydac flags (values assumed)
::A_LAW_COMPRESS <- 1;
::A_LAW_DECOMPRESS <- 2;
::AUDIO <- 4;
::NORMALISE <- 8;
// hardware.configure() of the first imps (values assumed)
::I2C_89 <- 1;
::I2C_12 <- 2;
::SPI_257 <- 3;
::SPI_189 <- 4;
::UART_57 <- 5;
::UART_12 <- 6;
::UART_1289 <- 7;
// the first imps' name of WAKEREASON_PIN (assumed the same value)
::WAKEREASON_PIN1 <- ::WAKEREASON_PIN;

::__hw_layout <- ::__host("hw_layout");

// Bytes of a string or blob, or one byte of an integer, as hex for the host.
function __hw_bytes(what, data) {
    if (typeof data == "integer") { local b = blob(1); b[0] = data & 0xFF; return b.__hex(); }
    if (typeof data == "string" || typeof data == "blob") return ::__hex(data);
    throw what + ": data must be a string, a blob or an integer";
}

// A string of the bytes in hex.
function __hw_string(hex) {
    local b = ::__unhex(hex);
    return b.len() == 0 ? "" : b.readstring(b.len());
}

function __hw_number(what, v) {
    if (typeof v != "integer" && typeof v != "float") throw what + " must be a number";
    return v;
}

// ---- pins -----------------------------------------------------------------------------------
class __Pin {
    _name = null;
    _mode = 0;
    _value = 0;
    _callback = null;
    // level driven from outside (null: nothing attached)
    _input = null;
    _analog = null;
    _period = 0.0;
    _duty = 0.0;
    constructor(name) { _name = name; }

    function configure(mode, ...) {
        if (typeof mode != "integer") throw "pin" + _name + ".configure: the mode must be an integer";
        local n = vargv.len();
        _callback = null;
        switch (mode) {
            case ::DIGITAL_IN:
            case ::DIGITAL_IN_PULLUP:
            case ::DIGITAL_IN_PULLDOWN:
            case ::DIGITAL_IN_WAKEUP:
                if (n > 0 && vargv[0] != null) {
                    if (typeof vargv[0] != "function")
                        throw "pin" + _name + ".configure: the state-change callback must be a function";
                    _callback = vargv[0];
                }
                break;
            case ::DIGITAL_OUT:
            case ::DIGITAL_OUT_OD:
            case ::DIGITAL_OUT_OD_PULLUP:
                _value = n > 0 ? __level(vargv[0]) : 0;
                break;
            case ::PWM_OUT:
                if (n < 2) throw "pin" + _name + ".configure: PWM_OUT needs a period and a duty cycle";
                _period = ::__hw_number("the PWM period", vargv[0]).tofloat();
                _duty = __duty(vargv[1]);
                if (_period <= 0) throw "pin" + _name + ".configure: the PWM period must be positive";
                break;
            case ::PWM_OUT_STEPS:
                if (n < 2) throw "pin" + _name + ".configure: PWM_OUT_STEPS needs a period and a step count";
                _period = ::__hw_number("the PWM period", vargv[0]).tofloat();
                _duty = n > 2 ? ::__hw_number("the initial steps", vargv[2]) : 0;
                break;
            case ::ANALOG_IN:
            case ::PULSE_COUNTER:
                break;
            case ::ANALOG_OUT:
                _value = n > 0 ? __duty(vargv[0]) : 0.0;
                break;
            default:
                throw "pin" + _name + ".configure: invalid pin configuration " + mode;
        }
        _mode = mode;
        ::__host("pin_configure", _name, mode);
        if (_mode == ::DIGITAL_OUT || _mode == ::DIGITAL_OUT_OD || _mode == ::DIGITAL_OUT_OD_PULLUP)
            ::__host("pin_write", _name, _value);
        return this;
    }
    function __level(v) {
        if (typeof v == "bool") return v ? 1 : 0;
        if (typeof v == "integer") return v != 0 ? 1 : 0;
        if (typeof v == "float") return v != 0.0 ? 1 : 0;
        throw "pin" + _name + ".write: the value must be a number or a bool";
    }
    function __duty(v) {
        local d = ::__hw_number("the duty cycle", v).tofloat();
        if (d < 0.0) d = 0.0;
        if (d > 1.0) d = 1.0;
        return d;
    }
    // The level an input sees: what drives it, else its pull (floating reads 0: assumed).
    function __in_level() {
        if (_input != null) return _input;
        return _mode == ::DIGITAL_IN_PULLUP ? 1 : 0;
    }
    function write(value) {
        switch (_mode) {
            case ::DIGITAL_OUT:
            case ::DIGITAL_OUT_OD:
            case ::DIGITAL_OUT_OD_PULLUP:
                _value = __level(value);
                ::__host("pin_write", _name, _value);
                return;
            case ::PWM_OUT:
                _duty = __duty(value);
                ::__host("pin_write", _name, _duty);
                return;
            case ::PWM_OUT_STEPS:
                _duty = ::__hw_number("the steps", value);
                ::__host("pin_write", _name, _duty);
                return;
            case ::ANALOG_OUT:
                _value = __duty(value);
                ::__host("pin_write", _name, _value);
                return;
            default:
                // Electric Imp's own drivers write a chip select before configuring it:
                // the level is kept and nothing fails (assumed)
                _value = __level(value);
                return;
        }
    }
    function read() {
        switch (_mode) {
            case ::DIGITAL_IN:
            case ::DIGITAL_IN_PULLUP:
            case ::DIGITAL_IN_PULLDOWN:
            case ::DIGITAL_IN_WAKEUP:
                return __in_level();
            case ::DIGITAL_OUT:
            case ::DIGITAL_OUT_OD:
            case ::DIGITAL_OUT_OD_PULLUP:
                return _value;
            case ::ANALOG_IN:
                // 16-bit reading; nothing attached reads 0 (assumed)
                return _analog != null ? _analog : (_input != null ? _input * 65535 : 0);
            case ::PULSE_COUNTER:
                // pulses counted over the configured time: none with nothing attached
                return 0;
            case ::PWM_OUT:
            case ::PWM_OUT_STEPS:
                return _duty;
            case ::ANALOG_OUT:
                return _value;
            default:
                // unconfigured: floating, reads 0 (assumed)
                return 0;
        }
    }
    function getdrivestrength() { return 0; }
    function getname() { return _name; }
    function _tostring() { return "pin" + _name; }
}

// ---- I2C ------------------------------------------------------------------------------------
class __I2C {
    _name = null;
    _on = false;
    _err = 0;
    _speed = 100000;
    constructor(name) { _name = name; }
    function configure(speed) {
        if (typeof speed != "integer") throw "i2c" + _name + ".configure: the speed must be an integer";
        if (speed <= 0) throw "i2c" + _name + ".configure: invalid clock speed";
        _speed = speed;
        _on = true;
        ::__host("hw", "i2c_configure", _name, speed);
    }
    function disable() { _on = false; ::__host("hw", "i2c_disable", _name); }
    // A peripheral that answers nothing: the address is not acknowledged (-2, assumed).
    function read(address, register, count) {
        if (typeof address != "integer") throw "i2c" + _name + ".read: the address must be an integer";
        if (typeof count != "integer" || count < 0) throw "i2c" + _name + ".read: bad byte count";
        if (!_on) { _err = -13; return null; }
        local r = ::__host("hw", "i2c_read", _name, address, ::__hw_bytes("i2c.read", register), count);
        if (typeof r == "string") { _err = 0; return ::__hw_string(r); }
        _err = r == null ? -2 : r;
        return null;
    }
    function readerror() { return _err; }
    function write(address, data) {
        if (typeof address != "integer") throw "i2c" + _name + ".write: the address must be an integer";
        local hex = ::__hw_bytes("i2c.write", data);
        if (!_on) return -13;
        local r = ::__host("hw", "i2c_write", _name, address, hex);
        return r == null ? -2 : r;
    }
    function _tostring() { return "i2c" + _name; }
}

// ---- SPI ------------------------------------------------------------------------------------
//@lazy hw-spi: hardware.bus:spi
class __SPI {
    _name = null;
    _on = false;
    _speed = 0;
    constructor(name) { _name = name; }
    function configure(mode, speed) {
        if (typeof mode != "integer") throw "spi" + _name + ".configure: the mode must be an integer";
        speed = ::__hw_number("spi" + _name + ".configure: the speed", speed);
        if (speed <= 0) throw "spi" + _name + ".configure: the speed must be positive";
        _on = true;
        _speed = speed.tofloat();
        ::__host("hw", "spi_configure", _name, mode, _speed);
        // the rate actually used, in kHz (the requested one here: assumed)
        return _speed;
    }
    function disable() { _on = false; }
    function _xfer(hex) {
        if (!_on) throw "spi" + _name + " is not configured";
        local r = ::__host("hw", "spi", _name, hex);
        if (r != null) return r;
        // nothing drives CIPO: reads all ones (assumed)
        local out = "";
        for (local i = 0; i < hex.len(); i += 2) out += "ff";
        return out;
    }
    function write(data) {
        local hex = ::__hw_bytes("spi.write", data);
        _xfer(hex);
        return hex.len() / 2;
    }
    function writeread(data) {
        local r = _xfer(::__hw_bytes("spi.writeread", data));
        return typeof data == "blob" ? ::__unhex(r) : ::__hw_string(r);
    }
    function readblob(count) {
        local zeros = "";
        for (local i = 0; i < count; i++) zeros += "00";
        return ::__unhex(_xfer(zeros));
    }
    function readstring(count) {
        local b = readblob(count);
        return b.len() == 0 ? "" : b.readstring(b.len());
    }
    function chipselect(select) { ::__host("hw", "spi_cs", _name, select ? 1 : 0); }
    function _tostring() { return "spi" + _name; }
}
foreach (b in ::__hw_layout.spi) ::hardware["spi" + b] <- ::__SPI(b);
//@end

// ---- UART -----------------------------------------------------------------------------------
//@lazy hw-uart: hardware.bus:uart
class __UART {
    _name = null;
    _on = false;
    _cb = null;
    _rx = null;
    _poll = null;
    _flags = 0;
    constructor(name) { _name = name; _rx = blob(); }
    function configure(baud, bits, parity, stop, flags, callback = null) {
        local me = "uart" + _name + ".configure";
        if (typeof baud != "integer" || baud <= 0) throw me + ": invalid baud rate";
        if (bits != 7 && bits != 8) throw me + ": the word size must be 7 or 8";
        if (typeof parity != "integer" || parity < 0 || parity > ::PARITY_SPACE) throw me + ": invalid parity";
        if (stop != 1 && stop != 2) throw me + ": the stop bits must be 1 or 2";
        if (typeof flags != "integer") throw me + ": the flags must be an integer";
        if (callback != null && typeof callback != "function") throw me + ": the callback must be a function";
        _cb = callback;
        _flags = flags;
        _on = true;
        _rx = blob();
        local attached = ::__host("hw", "uart_configure", _name, baud, bits, parity, stop, flags);
        if (_poll != null) { ::imp.cancelwakeup(_poll); _poll = null; }
        if (attached == true) __schedule();
        return baud;
    }
    // A part on this UART: collect what it sends every 20 ms (virtual time).
    function __schedule() {
        local me = this;
        _poll = ::imp.wakeup(0.02, function() { me._poll = null; me.__pull(true); if (me._on) me.__schedule(); });
    }
    function __pull(notify) {
        local r = ::__host("hw", "uart_read", _name);
        if (r == null || r == "") return;
        _rx.seek(0, 'e');
        _rx.writeblob(::__unhex(r));
        if (notify && _cb != null) ::__invoke(_cb, [::READ_READY]);
    }
    function disable() {
        _on = false;
        if (_poll != null) { ::imp.cancelwakeup(_poll); _poll = null; }
    }
    function write(data) {
        if (!_on) throw "uart" + _name + " is not configured";
        if ((_flags & ::NO_TX) != 0) throw "uart" + _name + " is configured without TX";
        ::__host("hw", "uart_write", _name, ::__hw_bytes("uart.write", data));
    }
    function __take(n) {
        if (!_on) return blob();
        __pull(false);
        local avail = _rx.len();
        if (n < 0 || n > avail) n = avail;
        if (n == 0) return blob();
        _rx.seek(0, 'b');
        local out = _rx.readblob(n);
        _rx = avail > n ? _rx.readblob(avail - n) : blob();
        return out;
    }
    function read() {
        local b = __take(1);
        return b.len() == 0 ? -1 : b[0];
    }
    function readblob(count = -1) { return __take(count); }
    function readstring(count = -1) {
        local b = __take(count);
        return b.len() == 0 ? "" : b.readstring(b.len());
    }
    function flush() {}
    function flags() { return _rx.len() > 0 ? ::READ_READY : 0; }
    function setrxfifosize(size) {}
    function settxfifosize(size) {}
    function settxactive(...) {}
    function setbreak(...) {}
    function _tostring() { return "uart" + _name; }
}
foreach (b in ::__hw_layout.uart) ::hardware["uart" + b] <- ::__UART(b);
//@end

// ---- sampler and fixed-frequency DAC: timed on virtual time ------------------------------------
//@lazy hw-sampler: hardware.sampler
class __Sampler {
    _rate = 0.0;
    _buffers = null;
    _cb = null;
    _next = 0;
    _timer = null;
    _channels = 1;
    _width = 2;
    function configure(pins, rate, buffers, callback, filters = 0) {
        if (typeof buffers != "array" || buffers.len() == 0) throw "sampler.configure: buffers must be an array of blobs";
        foreach (b in buffers) if (typeof b != "blob") throw "sampler.configure: buffers must be an array of blobs";
        if (typeof callback != "function") throw "sampler.configure: the callback must be a function";
        _rate = ::__hw_number("sampler.configure: the sample rate", rate).tofloat();
        if (_rate <= 0) throw "sampler.configure: the sample rate must be positive";
        _channels = typeof pins == "array" ? pins.len() : 1;
        _width = (filters & ::A_LAW_COMPRESS) != 0 ? 1 : 2;
        _buffers = buffers;
        _cb = callback;
        _next = 0;
    }
    function start() {
        if (_cb == null) throw "sampler is not configured";
        if (_timer == null) __schedule();
    }
    // Silence (zeros, assumed) delivered at the configured rate, one buffer at a time.
    function __schedule() {
        local buf = _buffers[_next];
        local secs = buf.len() / (_width * _channels * _rate);
        local me = this;
        _timer = ::imp.wakeup(secs, function() {
            me._timer = null;
            local b = me._buffers[me._next];
            me._next = (me._next + 1) % me._buffers.len();
            for (local i = 0; i < b.len(); i++) b[i] = 0;
            me.__schedule();
            ::__invoke(me._cb, [b, b.len()]);
        });
    }
    function stop() { if (_timer != null) { ::imp.cancelwakeup(_timer); _timer = null; } }
    function reset() { stop(); _cb = null; _buffers = null; }
    function getsampleratehz() { return _rate; }
}
if (::__hw_layout.sampler) ::hardware.sampler <- ::__Sampler();
//@end

//@lazy hw-dac: hardware.fixedfrequencydac
class __FixedFrequencyDac {
    _rate = 0.0;
    _queue = null;
    _cb = null;
    _timer = null;
    _width = 2;
    function configure(pin, rate, buffers, callback, flags = 0) {
        if (typeof buffers != "array") throw "fixedfrequencydac.configure: buffers must be an array of blobs";
        if (typeof callback != "function") throw "fixedfrequencydac.configure: the callback must be a function";
        _rate = ::__hw_number("fixedfrequencydac.configure: the sample rate", rate).tofloat();
        if (_rate <= 0) throw "fixedfrequencydac.configure: the sample rate must be positive";
        _width = (flags & (::A_LAW_DECOMPRESS | ::AUDIO)) != 0 ? 1 : 2;
        _queue = [];
        foreach (b in buffers) _queue.push(b);
        _cb = callback;
    }
    function addbuffer(buffer) {
        if (_queue == null) throw "fixedfrequencydac is not configured";
        _queue.push(buffer);
        if (_timer == null && _started) __schedule();
    }
    _started = false;
    function start() {
        if (_queue == null) throw "fixedfrequencydac is not configured";
        _started = true;
        if (_timer == null) __schedule();
    }
    // Each buffer takes its playing time; then the callback gets it back.
    function __schedule() {
        if (_queue.len() == 0) return;
        local me = this;
        local buf = _queue[0];
        _timer = ::imp.wakeup(buf.len() / (_width * _rate), function() {
            me._timer = null;
            local done = me._queue.remove(0);
            me.__schedule();
            ::__invoke(me._cb, [done]);
        });
    }
    function stop() {
        _started = false;
        if (_timer != null) { ::imp.cancelwakeup(_timer); _timer = null; }
    }
}
if (::__hw_layout.ffdac) ::hardware.fixedfrequencydac <- ::__FixedFrequencyDac();
//@end

// ---- Bluetooth LE (imp004m, imp006): a radio with no other device in range ----------------------
// Nothing is around: a scan finds no advertisement, nobody connects, an outgoing connection
// never completes; advertising and GATT serving are accepted (assumed: FIDELITY.md, hardware).
//@lazy hw-bluetooth: hardware.bluetooth
class __Bluetooth {
    _open = true;
    _scan = null;
    _onconnect = null;
    function __check(what) { if (!_open) throw "bluetooth." + what + ": the bluetooth instance is closed"; }
    function __fn(what, cb) {
        if (cb != null && typeof cb != "function") throw "bluetooth." + what + ": the callback must be a function";
    }
    function close() { _open = false; _scan = null; _onconnect = null; }
    function startscan(cb, ...) { __check("startscan"); __fn("startscan", cb); _scan = cb; }
    function stopscan() { __check("stopscan"); _scan = null; }
    function setscanfilter(filters) {
        __check("setscanfilter");
        if (filters != null && typeof filters != "array") throw "bluetooth.setscanfilter: the filters must be an array";
    }
    function setscanparams(...) { __check("setscanparams"); }
    function setadvertisement(...) { __check("setadvertisement"); }
    function startadvertise(...) { __check("startadvertise"); }
    function stopadvertise() { __check("stopadvertise"); }
    function onconnect(cb) { __check("onconnect"); __fn("onconnect", cb); _onconnect = cb; }
    function servegatt(services) {
        __check("servegatt");
        if (typeof services != "array") throw "bluetooth.servegatt: the services must be an array";
    }
    function connect(address, ...) {
        __check("connect");
        if (typeof address != "string") throw "bluetooth.connect: the address must be a string";
    }
    function setsecurity(...) { __check("setsecurity"); }
    function uartflags() { __check("uartflags"); return 0; }
    function _tostring() { return "bluetooth"; }
}

// imp004m: open(uart, firmware[, options]); imp006: open() with no arguments (documented).
::__bluetooth_open <- function(...) {
    if (::__hw_layout.type == "imp006") {
        if (vargv.len() > 0) throw "bluetooth.open: the imp006 takes no arguments";
    } else {
        if (vargv.len() < 2) throw "bluetooth.open: a UART and the Bluetooth firmware are required";
        if (!(vargv[0] instanceof ::__UART)) throw "bluetooth.open: the first argument must be a UART";
        local fw = vargv[1];
        if (typeof fw != "string" && typeof fw != "blob") throw "bluetooth.open: the firmware must be a string or a blob";
        if (fw.len() == 0) throw "bluetooth.open: the firmware is empty";
    }
    return ::__Bluetooth();
};
if (::__hw_layout.bluetooth) ::hardware.bluetooth <- { open = ::__bluetooth_open };
//@end

// ---- the hardware object ------------------------------------------------------------------------
::__pins <- {};
{
    local hw = ::hardware;
    local layout = ::__hw_layout;
    foreach (p in layout.pins) {
        ::__pins[p] <- ::__Pin(p);
        hw["pin" + p] <- ::__pins[p];
    }
    foreach (b in layout.i2c) hw["i2c" + b] <- ::__I2C(b);
    // SPI, UART, the sampler, the DAC and Bluetooth are parts of their own (see lazy.rs).
    if (!layout.spiflash && hw.rawin("spiflash")) hw.rawdelete("spiflash");
    if (layout.usb) hw.usb <- { configure = function(cb = null) {}, disable = function() {} };
    hw.getimpeeid <- hw.getdeviceid;
    hw.configure <- function(...) {};
    // light on the BlinkUp sensor, 0-65535 (a mid value: assumed)
    hw.lightlevel <- function() { return 32768; };
    hw.vbat <- function() { return 3.3; };
    // A missing member loads the part that has it; else, as on the imp, "the index
    // 'uart1' does not exist".
    ::__api("hardware", hw, true);
}

// The part file's pin timeline: levels at times after boot.
{
    local events = ::__host("hw", "pin_events", "");
    if (events != null) foreach (e in events) {
        local pin = e[1], value = e[2];
        ::imp.wakeup(e[0], function() { ::__set_pin(pin, value); });
    }
}

// An input pin driven from outside (a part, /_sim/): digital 0/1, or an analog reading
// (float 0.0-1.0 of full scale, or an integer 0-65535). Runs the state-change callback
// when a digital input's level changed.
::__set_pin <- function(name, value) {
    if (!(name in ::__pins)) throw "no pin " + name + " on this imp";
    local pin = ::__pins[name];
    if (typeof value == "float") {
        pin._analog = (value * 65535).tointeger();
        value = value >= 0.5 ? 1 : 0;
    } else if (typeof value == "integer" && value > 1) {
        pin._analog = value;
        value = value >= 32768 ? 1 : 0;
    } else {
        value = value ? 1 : 0;
        pin._analog = null;
    }
    local before = pin.__in_level();
    pin._input = value;
    local digital = pin._mode == ::DIGITAL_IN || pin._mode == ::DIGITAL_IN_PULLUP
        || pin._mode == ::DIGITAL_IN_PULLDOWN || pin._mode == ::DIGITAL_IN_WAKEUP;
    if (digital && before != value && pin._callback != null) ::__invoke(pin._callback, []);
};
