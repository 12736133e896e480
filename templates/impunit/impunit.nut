// ---------------------------------------------------------------------------------------
// impUnit-compatible unit test framework, shipped with impt (Rust edition).
//
// Runs on the agent or on the device. Test cases extend ImpTestCase; ImpUnitRunner finds
// them in the root table, runs setUp(), every test* method (in name order) and tearDown(),
// and reports each step to impt as one log line: a JSON object with the key __IMPUNIT__,
// the session id, the message type and its payload.
//
// Message types: SESSION_START, TEST_START, TEST_OK, TEST_FAIL, SESSION_RESULT
// ({tests, assertions, failures}), INFO ({message}) and EXTERNAL_COMMAND ({command}).
// A test may return a Promise (anything with a then() method): the runner waits for it,
// up to the runner's timeout in seconds.
// ---------------------------------------------------------------------------------------

__module_impUnit_exports <- {};

// ----- helpers: JSON text (the device has no encoder of its own), value display, calls -----

__module_impUnit_exports.quote <- function (text) {
    local out = "\"";
    foreach (ch in text) {
        if (ch == '"') {
            out += "\\\"";
        } else if (ch == '\\') {
            out += "\\\\";
        } else if (ch == '\n') {
            out += "\\n";
        } else if (ch == '\r') {
            out += "\\r";
        } else if (ch == '\t') {
            out += "\\t";
        } else if (ch >= 0 && ch < 32) {
            out += format("\\u%04x", ch);
        } else {
            out += ch.tochar();
        }
    }
    return out + "\"";
};

__module_impUnit_exports.encode <- function (value) {
    local lib = ::__module_impUnit_exports;
    switch (typeof value) {
        case "null":
            return "null";
        case "bool":
            return value ? "true" : "false";
        case "integer":
            return value.tostring();
        case "float":
            // NaN and infinities have no JSON form
            if (value != value || value - value != 0.0) return "null";
            return value.tostring();
        case "string":
            return lib.quote(value);
        case "array": {
            local items = [];
            foreach (item in value) items.push(lib.encode(item));
            return "[" + lib.join(items, ",") + "]";
        }
        case "table": {
            local fields = [];
            foreach (key, item in value) {
                fields.push(lib.quote(key.tostring()) + ":" + lib.encode(item));
            }
            return "{" + lib.join(fields, ",") + "}";
        }
        case "instance":
            if ("_serializeRaw" in value) return lib.encode(value._serializeRaw());
            return lib.quote(value.tostring());
        default:
            return lib.quote(value.tostring());
    }
};

__module_impUnit_exports.join <- function (parts, separator) {
    local out = "";
    foreach (i, part in parts) {
        if (i > 0) out += separator;
        out += part;
    }
    return out;
};

// How assertion messages show a value.
__module_impUnit_exports.show <- function (value) {
    if (typeof value == "string") return "\"" + value + "\"";
    return ::__module_impUnit_exports.encode(value);
};

// Calls a callback with one argument, or with none when it declares no parameter.
__module_impUnit_exports.call1 <- function (callback, argument) {
    local infos = callback.getinfos();
    if ("parameters" in infos && infos.parameters != null && infos.parameters.len() == 1) {
        return callback();
    }
    return callback(argument);
};

__module_impUnit_exports.isThenable <- function (value) {
    return typeof value == "instance" && ("then" in value);
};

// A description of the first difference between two values (as the assertion reports it), or
// null when they are deeply equal. `path` names the slot compared, e.g. "b.c".
__module_impUnit_exports.difference <- function (expected, actual, path) {
    local lib = ::__module_impUnit_exports;
    local at = function (key) { return path == "" ? key.tostring() : path + "." + key; };
    local failed = function (where, want, got) {
        return "Comparison failed on '" + where + "': expected " + want + ", got " + got;
    };
    local kind = typeof expected;
    if ((kind == "table" || kind == "array") && kind == typeof actual) {
        foreach (key, item in expected) {
            if (kind == "table" ? !(key in actual) : key >= actual.len()) {
                return failed(at(key), lib.show(item), "none");
            }
            local diff = lib.difference(item, actual[key], at(key));
            if (diff != null) return diff;
        }
        foreach (key, item in actual) {
            if (kind == "table" ? !(key in expected) : key >= expected.len()) {
                return failed(at(key), "none", lib.show(item));
            }
        }
        return null;
    }
    if (kind != typeof actual || expected != actual) {
        return failed(path == "" ? "value" : path, lib.show(expected), lib.show(actual));
    }
    return null;
};

// ----- Promise, for tests that run asynchronously -----
// then/fail/finally and the static resolve/reject/all/race/loop/serial. Handlers run on a
// fresh stack (imp.wakeup(0)); a handler's result settles the promise it returned, and a
// promise settled with a thenable follows it.

__module_impUnit_exports.Promise <- class {
    _state = 0; // 0: pending, 1: resolved, 2: rejected
    _value = null;
    _waiting = null;

    constructor(action) {
        _waiting = [];
        local self = this;
        try {
            action(function (value = null) { self._settle(1, value); },
                   function (reason = null) { self._settle(2, reason); });
        } catch (error) {
            _settle(2, error);
        }
    }

    function _settle(state, value) {
        if (_state != 0) return;
        if (state == 1 && ::__module_impUnit_exports.isThenable(value)) {
            local self = this;
            local done = false;
            try {
                value.then(function (v = null) { if (!done) { done = true; self._settle(1, v); } },
                           function (r = null) { if (!done) { done = true; self._settle(2, r); } });
            } catch (error) {
                if (!done) { done = true; _settle(2, error); }
            }
            return;
        }
        _state = state;
        _value = value;
        local waiting = _waiting;
        _waiting = [];
        foreach (w in waiting) _deliver(w);
    }

    function _deliver(w) {
        local self = this;
        imp.wakeup(0, function () {
            local callback = self._state == 1 ? w.ok : w.fail;
            if (callback == null) {
                w.next._settle(self._state, self._value);
                return;
            }
            try {
                w.next._settle(1, ::__module_impUnit_exports.call1(callback, self._value));
            } catch (error) {
                w.next._settle(2, error);
            }
        });
    }

    function then(onResolved = null, onRejected = null) {
        local next = ::__module_impUnit_exports.Promise(function (resolve, reject) {});
        local w = {
            ok = typeof onResolved == "function" ? onResolved : null,
            fail = typeof onRejected == "function" ? onRejected : null,
            next = next
        };
        if (_state == 0) {
            _waiting.push(w);
        } else {
            _deliver(w);
        }
        return next;
    }

    function fail(onRejected) {
        return then(null, onRejected);
    }

    // Runs `always` with the value or the reason; the returned promise settles with its result.
    function finally(always) {
        return then(always, always);
    }

    static function resolve(value = null) {
        return ::__module_impUnit_exports.Promise(function (ok, err) { ok(value); });
    }

    static function reject(reason = null) {
        return ::__module_impUnit_exports.Promise(function (ok, err) { err(reason); });
    }

    // A promise for an item of a series: promises as they are, functions called (their
    // result taken as a value or a promise), other values as resolved.
    static function _start(item) {
        local P = ::__module_impUnit_exports.Promise;
        if (typeof item == "function") {
            try {
                item = item();
            } catch (error) {
                return P.reject(error);
            }
        }
        return ::__module_impUnit_exports.isThenable(item) ? item : P.resolve(item);
    }

    // Resolves with the values of all items in order; rejects with the first rejection.
    static function all(series) {
        local P = ::__module_impUnit_exports.Promise;
        return P(function (ok, err) {
            local values = array(series.len(), null);
            local left = series.len();
            if (left == 0) { ok(values); return; }
            foreach (i, item in series) {
                (function (i) {
                    P._start(item).then(function (v = null) {
                        values[i] = v;
                        if (--left == 0) ok(values);
                    }, err);
                })(i);
            }
        });
    }

    // Settles as the first item that settles.
    static function race(series) {
        local P = ::__module_impUnit_exports.Promise;
        return P(function (ok, err) {
            foreach (item in series) P._start(item).then(ok, err);
        });
    }

    // Runs the items one after another; resolves with the last value, rejects with the first
    // rejection.
    static function serial(series) {
        local P = ::__module_impUnit_exports.Promise;
        return P(function (ok, err) {
            local i = 0;
            local last = null;
            local step;
            step = function (value = null) {
                last = value;
                if (i >= series.len()) { ok(last); return; }
                local item = series[i++];
                P._start(item).then(step, err);
            };
            step(null);
        });
    }

    // While continueFunction() is true, runs nextFunction() (a promise) and waits for it;
    // resolves with the last value, rejects with the first rejection.
    static function loop(continueFunction, nextFunction) {
        local P = ::__module_impUnit_exports.Promise;
        return P(function (ok, err) {
            local step;
            step = function (value = null) {
                local more = false;
                try {
                    more = continueFunction();
                } catch (error) {
                    err(error);
                    return;
                }
                if (!more) { ok(value); return; }
                P._start(nextFunction).then(step, err);
            };
            step(null);
        });
    }
};

// Tests may use Promise without a library of their own (a library loaded later replaces it).
if (!("Promise" in getroottable())) {
    ::Promise <- __module_impUnit_exports.Promise;
}

// ----- test cases -----

__module_impUnit_exports.ImpTestCase <- class {
    runner = null;
    session = null;
    assertions = 0;

    // Sends a value to impt, shown as a [test] line.
    function info(message) {
        runner._send("INFO", { message = message });
    }

    // Asks impt to run a shell command on the host; its output is shown, a non-zero exit
    // status fails the session.
    function runCommand(command = "") {
        runner._send("EXTERNAL_COMMAND", { command = command });
    }

    function _fail(message, fallback) {
        local text = message != null ? message : fallback;
        // Where the failing assertion is: the frames above the framework's own (impt maps
        // their lines to the user's files and names the test file's line).
        // (Squirrel's getstackinfos; without it, a failure has no place, as in the original)
        if (runner != null && ("getstackinfos" in getroottable())) {
            local frames = [];
            local own = getstackinfos(1).src;
            local level = 3;
            while (frames.len() < 16) {
                local info = getstackinfos(level++);
                if (info == null) break;
                if (info.src != own) continue;
                frames.push({ line = info.line, func = info.func });
            }
            runner._failed = { message = text, frames = frames };
        }
        throw text;
    }

    function assertTrue(condition, message = null) {
        assertions++;
        if (!condition) _fail(message, "Failed to assert that condition is true");
    }

    function assertEqual(expected, actual, message = null) {
        assertions++;
        if (expected != actual) {
            local show = ::__module_impUnit_exports.show;
            _fail(message, "Expected value: " + show(expected) + ", got: " + show(actual));
        }
    }

    function assertGreater(actual, limit, message = null) {
        assertions++;
        if (!(actual > limit)) {
            local show = ::__module_impUnit_exports.show;
            _fail(message, "Failed to assert that " + show(actual) + " > " + show(limit));
        }
    }

    function assertLess(actual, limit, message = null) {
        assertions++;
        if (!(actual < limit)) {
            local show = ::__module_impUnit_exports.show;
            _fail(message, "Failed to assert that " + show(actual) + " < " + show(limit));
        }
    }

    function assertClose(expected, actual, maxDiff, message = null) {
        assertions++;
        local diff = expected - actual;
        if (diff < 0) diff = -diff;
        if (diff > maxDiff) {
            local show = ::__module_impUnit_exports.show;
            _fail(message, "Expected value: " + show(expected) + "±" + show(maxDiff)
                + ", got: " + show(actual));
        }
    }

    function assertBetween(actual, from, to, message = null) {
        assertions++;
        if (actual < from || actual > to) {
            local show = ::__module_impUnit_exports.show;
            _fail(message, "Expected value the range of " + show(from) + ".." + show(to)
                + ", got " + show(actual));
        }
    }

    function assertDeepEqual(expected, actual, message = null) {
        assertions++;
        local lib = ::__module_impUnit_exports;
        local diff = lib.difference(expected, actual, "");
        if (diff != null) _fail(message, diff);
    }

    // Calls fn (with ctx as this, and args) and passes when it throws; returns the error.
    function assertThrowsError(fn, ctx = null, args = [], message = null) {
        assertions++;
        local argv = [ctx == null ? this : ctx];
        argv.extend(args);
        try {
            fn.acall(argv);
        } catch (error) {
            return error;
        }
        _fail(message, "Function was expected to throw an error");
    }
};

// ----- the runner -----

__module_impUnit_exports.ImpUnitRunner <- class {
    timeout = 2;
    readableOutput = true;
    stopOnFailure = false;
    session = null;
    testClass = "";
    testCase = "";

    _steps = null;
    _index = 0;
    _tests = 0;
    _assertions = 0;
    _failures = 0;
    _finished = false;
    // The last failed assertion ({message, frames}): TEST_FAIL carries its frames.
    _failed = null;

    // One log line to impt; `extra` fields go next to the message (e.g. a failure's frames).
    function _send(type, message = "", extra = null) {
        local lib = ::__module_impUnit_exports;
        local text;
        if (readableOutput) {
            text = "[impUnit:" + type + "] "
                + (typeof message == "string" ? message : lib.encode(message));
        } else {
            local fields = { __IMPUNIT__ = 1, type = type, session = session, message = message };
            if (extra != null) {
                foreach (key, value in extra) fields[key] <- value;
            }
            text = lib.encode(fields);
        }
        server.log(text);
    }

    function _isTestCase(cls) {
        local parent = cls.getbase();
        while (parent != null) {
            if (parent == ::__module_impUnit_exports.ImpTestCase) return true;
            parent = parent.getbase();
        }
        return false;
    }

    // The selected test cases, by name, with their sorted test methods.
    function _cases() {
        local found = [];
        foreach (name, value in getroottable()) {
            if (typeof value != "class" || !_isTestCase(value)) continue;
            if (testClass != "" && testClass != name) continue;
            local methods = [];
            foreach (member, item in value) {
                if (typeof item != "function" || typeof member != "string") continue;
                if (member.len() < 4 || member.slice(0, 4) != "test") continue;
                if (testCase != "" && testCase != member) continue;
                methods.push(member);
            }
            methods.sort();
            found.push({ name = name, cls = value, methods = methods });
        }
        found.sort(function (a, b) { return a.name <=> b.name; });
        return found;
    }

    function run() {
        _send("SESSION_START");
        _steps = [];
        foreach (c in _cases()) {
            local instance = c.cls();
            instance.session = session;
            instance.runner = this;
            if ("setUp" in c.cls) {
                _steps.push({ name = c.name + "::setUp()", instance = instance, method = "setUp", test = false });
            }
            foreach (m in c.methods) {
                _steps.push({ name = c.name + "::" + m + "()", instance = instance, method = m, test = true });
            }
            if ("tearDown" in c.cls) {
                _steps.push({ name = c.name + "::tearDown()", instance = instance, method = "tearDown", test = false });
            }
        }
        _index = 0;
        _next();
    }

    function _finish() {
        if (_finished) return;
        _finished = true;
        _send("SESSION_RESULT", { tests = _tests, assertions = _assertions, failures = _failures });
    }

    function _next() {
        if (_finished) return;
        if (_index >= _steps.len()) {
            _finish();
            return;
        }
        local step = _steps[_index];
        _index++;
        collectgarbage();
        if (step.test) _tests++;
        _failed = null;
        _send("TEST_START", step.name);
        local before = step.instance.assertions;
        local started = time();
        local result = null;
        try {
            result = step.instance[step.method].bindenv(step.instance)();
        } catch (error) {
            _done(false, error, step.instance.assertions - before);
            return;
        }
        if (!::__module_impUnit_exports.isThenable(result)) {
            if (time() - started > timeout) {
                _done(false, "Test took longer than timeout of " + timeout + "s",
                    step.instance.assertions - before);
            } else {
                _done(true, result, step.instance.assertions - before);
            }
            return;
        }
        // Asynchronous test: the first of resolution, rejection and timeout counts.
        local self = this;
        local state = { settled = false, timer = null };
        state.timer = imp.wakeup(timeout, function () {
            if (state.settled) return;
            state.settled = true;
            self._done(false, "Test timed out after " + self.timeout + "s",
                step.instance.assertions - before);
        });
        local settle = function (ok, value) {
            if (state.settled) return;
            state.settled = true;
            if (state.timer != null) imp.cancelwakeup(state.timer);
            self._done(ok, value, step.instance.assertions - before);
        };
        try {
            result.then(function (value = null) { settle(true, value); },
                        function (reason = null) { settle(false, reason); });
        } catch (error) {
            settle(false, error);
        }
    }

    function _done(ok, value, assertions) {
        _assertions += assertions;
        if (ok) {
            _send("TEST_OK", value);
        } else {
            _failures++;
            local extra = null;
            if (_failed != null && _failed.message == value) extra = { frames = _failed.frames };
            _failed = null;
            _send("TEST_FAIL", value, extra);
            if (stopOnFailure) {
                _finish();
                return;
            }
        }
        // The next step follows at once (as the original runner does: a synchronous test is
        // directly followed by the next one, with no other callback in between).
        _next();
    }
};
