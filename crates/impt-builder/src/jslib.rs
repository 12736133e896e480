//! JavaScript libraries (Builder's `--lib`): an embedded QuickJS engine (rquickjs) loads
//! CommonJS files, their exports become preprocessor variables and functions, and calls from
//! expressions run them with Builder's `this` (the context plus a writable `globals`).
//!
//! JavaScript objects and functions stay in the engine; the preprocessor holds them by index
//! (`Value::Js`, `Func::Js`) into a handle table kept by the prelude below.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{Array, Context, Ctx as JsCtx, Function, Module, Object, Runtime};

use super::js::{Func, Value};

/// Module name of the prelude, skipped when error positions are looked for.
const PRELUDE_NAME: &str = "<impt-prelude>";

/// Node-like surroundings for library files: `require` (relative files, JSON, `assert`,
/// `path`), `module.exports`, `console`, and the handle table.
const PRELUDE: &str = r#"
const H = [];
const FREE = [];
globalThis.__impt_h = H;
globalThis.__impt_keep = (v) => {
  if (FREE.length) { const h = FREE.pop(); H[h] = v; return h; }
  H.push(v); return H.length - 1;
};
globalThis.__impt_free = (h) => { H[h] = undefined; FREE.push(h); };
globalThis.__impt_str = (v) => String(v);
globalThis.__impt_has = (o, k) => (Object(o) === o) && (k in o);
globalThis.__impt_stub = (name) => function () {
  throw new Error('Builder function "' + name + '" cannot be called from a JavaScript library');
};
globalThis.__impt_changed = [];
globalThis.__impt_watch = (g) => new Proxy(g, {
  set(t, k, v) { t[k] = v; __impt_changed.push(String(k)); return true; },
  deleteProperty(t, k) { delete t[k]; __impt_changed.push(String(k)); return true; },
});
globalThis.__impt_apply = (f, self, args) => f.apply(self, args);
const show = (a) => a.map((x) => typeof x === 'string' ? x : (() => {
  try { return JSON.stringify(x); } catch (e) { return String(x); } })()).join(' ');
globalThis.console = {
  log: (...a) => __impt_print(show(a)), info: (...a) => __impt_print(show(a)),
  warn: (...a) => __impt_print(show(a)), error: (...a) => __impt_print(show(a)),
  debug: (...a) => __impt_print(show(a)),
};
const norm = (p) => {
  const abs = p.startsWith('/');
  const out = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..' && out.length && out[out.length - 1] !== '..') out.pop();
    else if (s !== '..' || !abs) out.push(s);
  }
  return (abs ? '/' : '') + (out.join('/') || (abs ? '' : '.'));
};
const dirname = (p) => { const i = p.lastIndexOf('/'); return i < 0 ? '.' : (i === 0 ? '/' : p.slice(0, i)); };
const pathMod = {
  sep: '/',
  normalize: norm,
  join: (...a) => norm(a.filter((x) => x !== '').join('/')),
  dirname,
  basename: (p, ext) => { let b = p.slice(p.lastIndexOf('/') + 1); if (ext && b.endsWith(ext)) b = b.slice(0, -ext.length); return b; },
  extname: (p) => { const b = p.slice(p.lastIndexOf('/') + 1); const i = b.lastIndexOf('.'); return i > 0 ? b.slice(i) : ''; },
  isAbsolute: (p) => p.startsWith('/'),
};
class AssertionError extends Error {}
const fail = (m, d) => { const e = new AssertionError(m === undefined ? d : m); e.name = 'AssertionError'; throw e; };
const same = (a, b) => { try { return JSON.stringify(a) === JSON.stringify(b); } catch (e) { return a === b; } };
const assertMod = (v, m) => { if (!v) fail(m, 'The expression evaluated to a falsy value'); };
Object.assign(assertMod, {
  ok: assertMod,
  equal: (a, b, m) => { if (a != b) fail(m, `${a} == ${b}`); },
  notEqual: (a, b, m) => { if (a == b) fail(m, `${a} != ${b}`); },
  strictEqual: (a, b, m) => { if (a !== b) fail(m, `Expected values to be strictly equal: ${a} !== ${b}`); },
  notStrictEqual: (a, b, m) => { if (a === b) fail(m, `Expected "actual" to be strictly unequal to: ${b}`); },
  deepEqual: (a, b, m) => { if (!same(a, b)) fail(m, 'Expected values to be loosely deep-equal'); },
  deepStrictEqual: (a, b, m) => { if (!same(a, b)) fail(m, 'Expected values to be strictly deep-equal'); },
  fail: (m) => fail(m, 'Failed'),
  AssertionError,
});
const builtins = { assert: assertMod, path: pathMod };
const cache = {};
const load = (file) => {
  if (cache[file]) return cache[file].exports;
  const module = { exports: {}, filename: file, id: file };
  cache[file] = module;
  if (file.endsWith('.json')) {
    module.exports = JSON.parse(__impt_read(file));
  } else {
    const wrapper = __impt_compile(file);
    wrapper.call(module.exports, module.exports, requireFrom(dirname(file)), module, file, dirname(file));
  }
  return module.exports;
};
const requireFrom = (dir) => (name) => {
  name = String(name);
  if (name.startsWith('node:')) name = name.slice(5);
  if (!name.startsWith('.') && !name.startsWith('/')) {
    if (builtins[name]) return builtins[name];
    const e = new Error(`Cannot find module '${name}'`); e.code = 'MODULE_NOT_FOUND'; throw e;
  }
  const base = name.startsWith('/') ? norm(name) : norm(dir + '/' + name);
  for (const f of [base, base + '.js', base + '.json', base + '/index.js']) {
    if (__impt_is_file(f)) return load(f);
  }
  const e = new Error(`Cannot find module '${name}'`); e.code = 'MODULE_NOT_FOUND'; throw e;
};
globalThis.__impt_load = load;
"#;

/// A JavaScript failure: message and the library position it happened at.
#[derive(Debug, Clone)]
pub struct JsError {
    pub message: String,
    pub position: Option<(String, usize)>,
}

impl std::fmt::Display for JsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.position {
            Some((file, line)) => write!(f, "{} at {}:{}", self.message, file, line),
            None => write!(f, "{}", self.message),
        }
    }
}

/// Globals a JavaScript function set (`Some`) or deleted (`None`) through `this.globals`.
pub type GlobalChanges = Vec<(String, Option<Value>)>;

/// The engine with the loaded libraries.
pub struct JsLibs {
    _rt: Runtime,
    /// When the running load or call is interrupted (runaway loops in a library).
    deadline: Rc<Cell<Option<Instant>>>,
    limit: Duration,
    ctx: Context,
    caches: Caches,
    /// Exported names and values, in the order `Object.assign` would set them.
    pub exports: Vec<(String, Value)>,
}

/// The library files named by Builder's `--lib` arguments: files as given, directories as
/// every `.js` below them, glob patterns as their matches (each group sorted).
pub fn lib_files(specs: &[String], cwd: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for spec in specs {
        let abs = |p: &str| {
            if p.starts_with('/') {
                PathBuf::from(p)
            } else {
                cwd.join(p)
            }
        };
        if spec.contains(['*', '?', '[', '{']) {
            let glob = globset::GlobBuilder::new(&abs(spec).to_string_lossy())
                .literal_separator(true)
                .build()
                .map_err(|e| format!("lib path \"{}\": {}", spec, e))?
                .compile_matcher();
            let root = glob_root(&abs(spec));
            let mut found = Vec::new();
            walk(&root, &mut |p| {
                if glob.is_match(p) && p.is_file() {
                    found.push(p.to_path_buf());
                }
            });
            found.sort();
            out.extend(found);
            continue;
        }
        let p = abs(spec);
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_file() => out.push(p),
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                walk(&p, &mut |f| {
                    if f.extension().is_some_and(|e| e == "js") && f.is_file() {
                        found.push(f.to_path_buf());
                    }
                });
                found.sort();
                out.extend(found);
            }
            Ok(_) => return Err(format!("lib path \"{}\" is not a file or directory", spec)),
            Err(_) => {
                return Err(format!(
                    "ENOENT: no such file or directory, lstat '{}'",
                    spec
                ))
            }
        }
    }
    Ok(out)
}

/// The directory part of a glob before its first wildcard.
fn glob_root(p: &Path) -> PathBuf {
    let mut root = PathBuf::new();
    for c in p.components() {
        if c.as_os_str()
            .to_string_lossy()
            .contains(['*', '?', '[', '{'])
        {
            break;
        }
        root.push(c);
    }
    root
}

fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

fn err_of(ctx: &JsCtx<'_>, e: rquickjs::Error) -> JsError {
    if !matches!(e, rquickjs::Error::Exception) {
        return JsError {
            message: e.to_string(),
            position: None,
        };
    }
    let v = ctx.catch();
    let (message, stack) = match v.as_object() {
        Some(o) if v.is_error() => {
            let name: Option<String> = o.get("name").ok();
            let msg: Option<String> = o.get("message").ok();
            let stack: Option<String> = o.get("stack").ok();
            let msg = msg.unwrap_or_default();
            let message = match name.as_deref() {
                Some("Error") | None => msg,
                Some(n) => format!("{}: {}", n, msg),
            };
            (message, stack.unwrap_or_default())
        }
        _ => (string_of(ctx, &v), String::new()),
    };
    JsError {
        message,
        position: stack_position(&stack),
    }
}

/// The first `file:line` of a QuickJS stack trace outside the prelude.
fn stack_position(stack: &str) -> Option<(String, usize)> {
    for l in stack.lines() {
        let l = l.trim();
        let Some(rest) = l.strip_prefix("at ") else {
            continue;
        };
        let loc = match (rest.rfind('('), rest.ends_with(')')) {
            (Some(i), true) => &rest[i + 1..rest.len() - 1],
            _ => rest,
        };
        let mut parts = loc.rsplitn(3, ':');
        let a = parts.next()?;
        let b = parts.next();
        let c = parts.next();
        let (file, line) = match (b, c) {
            (Some(line), Some(file)) if line.parse::<usize>().is_ok() => (file, line),
            (Some(file), _) => (file, a),
            _ => continue,
        };
        if file == PRELUDE_NAME || file == "<native>" || file.is_empty() {
            continue;
        }
        if let Ok(n) = line.parse() {
            return Some((file.to_string(), n));
        }
    }
    None
}

fn string_of<'js>(ctx: &JsCtx<'js>, v: &rquickjs::Value<'js>) -> String {
    let f: Option<Function> = ctx.globals().get("__impt_str").ok();
    f.and_then(|f| f.call::<_, String>((v.clone(),)).ok())
        .unwrap_or_default()
}

impl JsLibs {
    /// Start the engine and load `files` (paths shown in errors as given).
    pub fn load(files: &[PathBuf], limit: Duration) -> Result<JsLibs, JsError> {
        let fail = |m: String| JsError {
            message: m,
            position: None,
        };
        let rt = Runtime::new().map_err(|e| fail(e.to_string()))?;
        rt.set_memory_limit(512 << 20);
        rt.set_max_stack_size(64 << 20);
        let deadline: Rc<Cell<Option<Instant>>> = Rc::new(Cell::new(Some(Instant::now() + limit)));
        let d = deadline.clone();
        rt.set_interrupt_handler(Some(Box::new(move || {
            d.get().is_some_and(|t| Instant::now() > t)
        })));
        let ctx = Context::full(&rt).map_err(|e| fail(e.to_string()))?;
        let caches = Caches::default();
        let exports = ctx.with(|c| -> Result<Vec<(String, Value)>, JsError> {
            install_natives(&c).map_err(|e| err_of(&c, e))?;
            let m = Module::declare(c.clone(), PRELUDE_NAME, PRELUDE).map_err(|e| err_of(&c, e))?;
            let (_, p) = m.eval().map_err(|e| err_of(&c, e))?;
            p.finish::<()>().map_err(|e| err_of(&c, e))?;
            let load: Function = c.globals().get("__impt_load").map_err(|e| err_of(&c, e))?;
            let mut out: Vec<(String, Value)> = Vec::new();
            for f in files {
                let name = f.to_string_lossy().to_string();
                let exports: rquickjs::Value = load.call((name,)).map_err(|e| err_of(&c, e))?;
                if let Some(o) = exports.as_object() {
                    for k in o.keys::<String>() {
                        let k = k.map_err(|e| err_of(&c, e))?;
                        let v: rquickjs::Value = o.get(&k).map_err(|e| err_of(&c, e))?;
                        let v = from_js(&c, v, &caches).map_err(|e| err_of(&c, e))?;
                        out.retain(|(n, _)| *n != k);
                        out.push((k, v));
                    }
                }
            }
            Ok(out)
        })?;
        deadline.set(None);
        Ok(JsLibs {
            _rt: rt,
            deadline,
            limit,
            ctx,
            exports,
            caches,
        })
    }

    /// Live JavaScript objects and the engine's memory in use, after a full collection.
    #[cfg(test)]
    fn live(&self) -> (i64, i64) {
        self._rt.run_gc();
        let m = self._rt.memory_usage();
        (m.obj_count, m.memory_used_size)
    }

    /// Run `f` with the time limit armed.
    fn timed<T>(&self, f: impl FnOnce() -> Result<T, JsError>) -> Result<T, JsError> {
        self.deadline.set(Some(Instant::now() + self.limit));
        let r = f();
        self.deadline.set(None);
        r
    }

    /// `key in obj` then `obj[key]`, for member expressions on JavaScript objects.
    pub fn member(&self, handle: u32, key: &str) -> Result<Option<Value>, JsError> {
        self.timed(|| {
            self.ctx.with(|c| {
                let r = (|| -> rquickjs::Result<Option<Value>> {
                    let obj = handle_value(&c, handle)?;
                    let has: Function = c.globals().get("__impt_has")?;
                    if !has.call::<_, bool>((obj.clone(), key))? {
                        return Ok(None);
                    }
                    let o = Object::from_value(obj)?;
                    let v: rquickjs::Value = o.get(key)?;
                    Ok(Some(from_js(&c, v, &self.caches)?))
                })();
                r.map_err(|e| err_of(&c, e))
            })
        })
    }

    /// Call a JavaScript function with `this` built from `this_vars` plus a `globals` object;
    /// returns the result and the globals the function set or deleted (`None` = deleted).
    pub fn call(
        &self,
        handle: u32,
        this_vars: &[(Rc<str>, Value)],
        globals: &[(String, Value)],
        args: &[Value],
    ) -> Result<(Value, GlobalChanges), JsError> {
        self.timed(|| {
            self.ctx.with(|c| {
                let r = (|| -> rquickjs::Result<(Value, GlobalChanges)> {
                    let f = handle_value(&c, handle)?;
                    let this = Object::new(c.clone())?;
                    for (k, v) in this_vars {
                        this.set(&**k, to_js(&c, v, &self.caches)?)?;
                    }
                    let g = Object::new(c.clone())?;
                    for (k, v) in globals {
                        g.set(k.as_str(), to_js(&c, v, &self.caches)?)?;
                    }
                    let watch: Function = c.globals().get("__impt_watch")?;
                    let gp: rquickjs::Value = watch.call((g.clone(),))?;
                    this.set("globals", gp)?;
                    c.globals().set("__impt_changed", Array::new(c.clone())?)?;
                    let a = Array::new(c.clone())?;
                    for (i, v) in args.iter().enumerate() {
                        a.set(i, to_js(&c, v, &self.caches)?)?;
                    }
                    let apply: Function = c.globals().get("__impt_apply")?;
                    let res: rquickjs::Value = apply.call((f, this, a))?;
                    let res = from_js(&c, res, &self.caches)?;
                    let changed: Array = c.globals().get("__impt_changed")?;
                    let mut out: Vec<(String, Option<Value>)> = Vec::new();
                    for k in changed.iter::<String>() {
                        let k = k?;
                        if out.iter().any(|(n, _)| *n == k) {
                            continue;
                        }
                        let v = if g.contains_key(k.as_str())? {
                            Some(from_js(&c, g.get(k.as_str())?, &self.caches)?)
                        } else {
                            None
                        };
                        out.push((k, v));
                    }
                    Ok((res, out))
                })();
                r.map_err(|e| err_of(&c, e))
            })
        })
    }
}

fn install_natives(c: &JsCtx<'_>) -> rquickjs::Result<()> {
    let g = c.globals();
    g.set(
        "__impt_print",
        Function::new(c.clone(), |s: String| eprintln!("{}", s))?,
    )?;
    g.set(
        "__impt_is_file",
        Function::new(c.clone(), |p: String| Path::new(&p).is_file())?,
    )?;
    g.set(
        "__impt_read",
        Function::new(
            c.clone(),
            |c: JsCtx<'_>, p: String| -> rquickjs::Result<String> {
                crate::fsread::read_text(Path::new(&p), crate::fsread::MAX_SOURCE_BYTES)
                    .map_err(|e| rquickjs::Exception::throw_message(&c, &format!("{}: {}", e, p)))
            },
        )?,
    )?;
    g.set("__impt_compile", Function::new(c.clone(), compile)?)?;
    Ok(())
}

/// Compile a CommonJS file into its module wrapper function (named by its path, so that
/// stack traces show the file and its own line numbers).
fn compile<'js>(c: JsCtx<'js>, p: String) -> rquickjs::Result<rquickjs::Value<'js>> {
    let src = crate::fsread::read_text(Path::new(&p), crate::fsread::MAX_SOURCE_BYTES)
        .map_err(|e| rquickjs::Exception::throw_message(&c, &format!("{}: {}", e, p)))?;
    let src = match src.strip_prefix("#!") {
        Some(rest) => format!("//{}", rest),
        None => src,
    };
    // one line of wrapper keeps the file's line numbers
    let wrapped = format!(
        "globalThis.__impt_w = function (exports, require, module, __filename, __dirname) {{{}\n}};",
        src
    );
    let m = Module::declare(c.clone(), p.as_str(), wrapped)?;
    let (_, pr) = m.eval()?;
    pr.finish::<()>()?;
    c.globals().get("__impt_w")
}

fn handle_value<'js>(c: &JsCtx<'js>, h: u32) -> rquickjs::Result<rquickjs::Value<'js>> {
    let a: Array = c.globals().get("__impt_h")?;
    a.get(h as usize)
}

fn keep<'js>(c: &JsCtx<'js>, v: rquickjs::Value<'js>) -> rquickjs::Result<u32> {
    let f: Function = c.globals().get("__impt_keep")?;
    f.call((v,))
}

/// Keeps `v` in the handle table for a value holding `token`: the handle is freed once no
/// value holds the token any more (see [`release`]).
fn keep_for<'js>(
    c: &JsCtx<'js>,
    v: rquickjs::Value<'js>,
    token: &Rc<str>,
    caches: &Caches,
) -> rquickjs::Result<u32> {
    release(c, caches)?;
    let h = keep(c, v)?;
    caches.handed.borrow_mut().push((token.clone(), h));
    Ok(h)
}

/// Frees the handles of JavaScript values handed to the preprocessor that it no longer
/// holds (only the list still has their token). Done when the list has doubled since the
/// last time, so each call costs O(1) on average and the table stays as large as what is
/// held.
fn release(c: &JsCtx<'_>, caches: &Caches) -> rquickjs::Result<()> {
    let mut handed = caches.handed.borrow_mut();
    if handed.len() < caches.handed_mark.get().max(OBJECTS_KEPT) {
        return Ok(());
    }
    let free: Function = c.globals().get("__impt_free")?;
    let mut kept = Vec::with_capacity(handed.len());
    for (t, h) in handed.drain(..) {
        if Rc::strong_count(&t) > 1 {
            kept.push((t, h));
        } else {
            free.call::<_, ()>((h,))?;
        }
    }
    caches.handed_mark.set(kept.len() * 2);
    *handed = kept;
    Ok(())
}

/// JavaScript value → preprocessor value (objects and functions by handle).
fn from_js<'js>(
    c: &JsCtx<'js>,
    v: rquickjs::Value<'js>,
    caches: &Caches,
) -> rquickjs::Result<Value> {
    if v.is_undefined() {
        return Ok(Value::Undefined);
    }
    if v.is_null() {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = v.as_number() {
        return Ok(Value::Num(n));
    }
    if let Some(s) = v.as_string() {
        return Ok(Value::str(&s.to_string()?));
    }
    if v.is_function() {
        let token: Rc<str> = Rc::from("function");
        return Ok(Value::Func(Func::Js(
            keep_for(c, v, &token, caches)?,
            token,
        )));
    }
    if let Some(a) = v.as_array() {
        let mut out = Vec::with_capacity(a.len());
        for x in a.iter::<rquickjs::Value>() {
            out.push(from_js(c, x?, caches)?);
        }
        return Ok(Value::Array(Rc::new(out)));
    }
    let text: Rc<str> = Rc::from(string_of(c, &v).as_str());
    if v.is_object() {
        return Ok(Value::Js(keep_for(c, v, &text, caches)?, text));
    }
    Ok(Value::Str(text))
}

/// Preprocessor value → JavaScript value.
/// A preprocessor object value, kept alive while its JavaScript copy is cached.
type ObjectRc = Rc<Vec<(String, Value)>>;

/// Conversions made once per run: preprocessor objects (by identity, e.g. `S`) and the
/// stand-ins of built-in functions.
#[derive(Default)]
struct Caches {
    objects: RefCell<Vec<(ObjectRc, u32)>>,
    stubs: RefCell<HashMap<String, u32>>,
    /// JavaScript objects and functions handed to the preprocessor, by the token their
    /// values hold, and the list's length that triggers the next [`release`].
    handed: RefCell<Vec<(Rc<str>, u32)>>,
    handed_mark: Cell<usize>,
}

/// Cached objects kept before the ones nobody else holds are dropped.
const OBJECTS_KEPT: usize = 64;

/// Drop the cached copies of preprocessor objects that only the cache still holds (made
/// fresh for one call): the cache, the handle table and the engine then stay the same size
/// however many calls are made.
fn prune(c: &JsCtx<'_>, caches: &Caches) -> rquickjs::Result<()> {
    let mut objects = caches.objects.borrow_mut();
    if objects.len() < OBJECTS_KEPT {
        return Ok(());
    }
    let free: Function = c.globals().get("__impt_free")?;
    let mut kept = Vec::with_capacity(objects.len());
    for (p, h) in objects.drain(..) {
        if Rc::strong_count(&p) > 1 {
            kept.push((p, h));
        } else {
            free.call::<_, ()>((h,))?;
        }
    }
    *objects = kept;
    Ok(())
}

fn stub<'js>(
    c: &JsCtx<'js>,
    name: &str,
    caches: &Caches,
) -> rquickjs::Result<rquickjs::Value<'js>> {
    if let Some(h) = caches.stubs.borrow().get(name) {
        return handle_value(c, *h);
    }
    let make: Function = c.globals().get("__impt_stub")?;
    let f: rquickjs::Value = make.call((name,))?;
    let h = keep(c, f.clone())?;
    caches.stubs.borrow_mut().insert(name.to_string(), h);
    Ok(f)
}

fn to_js<'js>(
    c: &JsCtx<'js>,
    v: &Value,
    caches: &Caches,
) -> rquickjs::Result<rquickjs::Value<'js>> {
    use rquickjs::IntoJs;
    Ok(match v {
        Value::Undefined => rquickjs::Value::new_undefined(c.clone()),
        Value::Null => rquickjs::Value::new_null(c.clone()),
        Value::Bool(b) => b.into_js(c)?,
        Value::Num(n) => rquickjs::Value::new_number(c.clone(), *n),
        Value::Str(s) => (&**s).into_js(c)?,
        Value::Array(items) => {
            let a = Array::new(c.clone())?;
            for (i, x) in items.iter().enumerate() {
                a.set(i, to_js(c, x, caches)?)?;
            }
            a.into_value()
        }
        Value::Object(props) => {
            let known = caches
                .objects
                .borrow()
                .iter()
                .find(|(p, _)| Rc::ptr_eq(p, props))
                .map(|(_, h)| *h);
            if let Some(h) = known {
                return handle_value(c, h);
            }
            let o = Object::new(c.clone())?;
            for (k, x) in props.iter() {
                o.set(k.as_str(), to_js(c, x, caches)?)?;
            }
            let v = o.into_value();
            prune(c, caches)?;
            let h = keep(c, v.clone())?;
            caches.objects.borrow_mut().push((props.clone(), h));
            v
        }
        Value::Js(h, _) | Value::Func(Func::Js(h, _)) => handle_value(c, *h)?,
        Value::Func(Func::Builtin(n)) => stub(c, n, caches)?,
        Value::Func(Func::Macro(n)) => stub(c, n, caches)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_keep_nothing_alive() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib.js");
        std::fs::write(
            &lib,
            "module.exports = { up: (s) => String(s).toUpperCase(), add: (a, b) => a + b,\n  where: function () { return this.__FILE__ + ':' + this.__LINE__; } };\n",
        )
        .unwrap();
        let libs = JsLibs::load(&[lib], Duration::from_secs(10)).unwrap();
        let h = |name: &str| match libs.exports.iter().find(|(k, _)| k == name) {
            Some((_, Value::Func(Func::Js(h, _)))) => *h,
            other => panic!("{other:?}"),
        };
        let this: Vec<(Rc<str>, Value)> = vec![
            (Rc::from("__FILE__"), Value::str("main.nut")),
            (Rc::from("__LINE__"), Value::Num(3.0)),
            (
                Rc::from("S"),
                Value::Object(Rc::new(vec![("k".into(), Value::Num(1.0))])),
            ),
        ];
        let globals = vec![("g".to_string(), Value::Num(1.0))];
        let run = |n: usize| {
            for i in 0..n {
                let arg = [Value::str(&format!("x{i}"))];
                libs.call(h("up"), &this, &globals, &arg).unwrap();
                libs.call(h("where"), &this, &globals, &[]).unwrap();
                // A fresh object each time (as `@set o {...}` in a loop makes).
                let fresh: Vec<(Rc<str>, Value)> = vec![(
                    Rc::from("o"),
                    Value::Object(Rc::new(vec![("i".into(), Value::Num(i as f64))])),
                )];
                libs.call(
                    h("add"),
                    &fresh,
                    &globals,
                    &[Value::Num(1.0), Value::Num(2.0)],
                )
                .unwrap();
            }
        };
        run(200);
        let (objs, mem) = libs.live();
        run(2000);
        let (objs2, mem2) = libs.live();
        assert!(objs2 - objs < 50, "objects {objs} -> {objs2}");
        assert!(mem2 - mem < 64 * 1024, "memory {mem} -> {mem2}");
    }

    #[test]
    fn returned_objects_and_functions_are_freed_once_dropped_and_kept_while_held() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib.js");
        std::fs::write(
            &lib,
            "module.exports = { make: (i) => ({ i: i, pad: 'x'.repeat(100) }), adder: (n) => (x) => x + n };\n",
        )
        .unwrap();
        let libs = JsLibs::load(&[lib], Duration::from_secs(10)).unwrap();
        let h = |name: &str| match libs.exports.iter().find(|(k, _)| k == name) {
            Some((_, Value::Func(Func::Js(h, _)))) => *h,
            other => panic!("{other:?}"),
        };
        let call = |name: &str, i: usize| {
            libs.call(h(name), &[], &[], &[Value::Num(i as f64)])
                .unwrap()
                .0
        };
        // Held across many calls: still the same object afterwards.
        let held = call("make", 7);
        let held_fn = call("adder", 5);
        let run = |n: usize| {
            for i in 0..n {
                assert!(matches!(call("make", i), Value::Js(..)));
                assert!(matches!(call("adder", i), Value::Func(Func::Js(..))));
            }
        };
        run(200);
        let (objs, mem) = libs.live();
        run(3000);
        let (objs2, mem2) = libs.live();
        assert!(objs2 - objs < 300, "objects {objs} -> {objs2}");
        assert!(mem2 - mem < 64 * 1024, "memory {mem} -> {mem2}");
        let Value::Js(hh, _) = &held else {
            panic!("{held:?}")
        };
        assert!(matches!(libs.member(*hh, "i").unwrap(), Some(Value::Num(n)) if n == 7.0));
        let Value::Func(Func::Js(fh, _)) = &held_fn else {
            panic!("{held_fn:?}")
        };
        let r = libs.call(*fh, &[], &[], &[Value::Num(1.0)]).unwrap().0;
        assert!(matches!(r, Value::Num(n) if n == 6.0), "{r:?}");
    }

    #[test]
    fn stack_positions() {
        assert_eq!(
            stack_position(
                "    at upper (/a/lib.js:4:12)\n    at <anonymous> (<impt-prelude>:30)\n"
            ),
            Some(("/a/lib.js".into(), 4))
        );
        assert_eq!(
            stack_position("    at <impt-prelude>:3\n    at f (lib.js:9)\n"),
            Some(("lib.js".into(), 9))
        );
        assert_eq!(stack_position(""), None);
    }
}
