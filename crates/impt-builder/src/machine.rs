//! The interpreter: runs instructions, resolves includes and macros, evaluates expressions,
//! writes output with optional `#line` control and a line map.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::rc::Rc;

use sha2::{Digest, Sha256};

use super::cache;
use super::context::Ctx;
use super::error::{BuilderError, ErrorKind};
use super::expr::{self, Node};
use super::functions;
use super::js::{self, js_trim, Func, Value};
use super::jslib::JsLibs;
use super::parser::{self, Instr};
use super::paths;
use super::reader::{self, ReadError, Source};
use super::{Options, SourcePos};

type Vars = Vec<(&'static str, Value)>;

const MAX_EXECUTION_DEPTH: usize = 256;
const MAX_LOOP_ITERATIONS: usize = 100_000;

/// Internal failure, before it gets a position.
pub enum Fail {
    /// Expression error: position gets appended.
    Expr(String),
    /// Source reading error: position gets appended.
    Read(String),
    /// Error Builder reports as is.
    Raw(String),
    /// Final error.
    Done(BuilderError),
}

impl Fail {
    fn text(&self) -> String {
        match self {
            Fail::Expr(m) | Fail::Read(m) | Fail::Raw(m) => m.clone(),
            Fail::Done(e) => e.builder_message().to_string(),
        }
    }
}

impl From<ReadError> for Fail {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Read(m) => Fail::Read(m),
            ReadError::Other(m) => Fail::Raw(m),
        }
    }
}

struct MacroDef {
    file: Value,
    path: Value,
    line: usize,
    args: Vec<String>,
    body: Rc<Vec<Instr>>,
}

/// Output buffer.
pub struct Buf {
    pub out: String,
    last_start: usize,
    last_file: Option<String>,
    pub map: Option<Vec<SourcePos>>,
    memo: Option<(Value, Value, String)>,
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Rc::ptr_eq(x, y) || x == y,
        _ => false,
    }
}

impl Buf {
    pub fn new(with_map: bool) -> Buf {
        Buf {
            out: String::new(),
            last_start: 0,
            last_file: None,
            map: with_map.then(Vec::new),
            memo: None,
        }
    }

    fn push(&mut self, chunk: &str, pos: &dyn Fn() -> SourcePos) {
        if let Some(map) = self.map.as_mut() {
            let mut at_start = self.out.is_empty() || self.out.ends_with('\n');
            let mut cached: Option<SourcePos> = None;
            for (i, c) in chunk.char_indices() {
                if at_start {
                    map.push(cached.get_or_insert_with(pos).clone());
                }
                at_start = c == '\n' && i + 1 < chunk.len();
            }
        }
        self.last_start = self.out.len();
        self.out.push_str(chunk);
    }

    /// Remove one trailing line break from the last chunk.
    fn trim_last_line(&mut self) {
        let last = &self.out[self.last_start..];
        if last.ends_with("\r\n") {
            self.out.truncate(self.out.len() - 2);
        } else if last.ends_with('\n') {
            self.out.truncate(self.out.len() - 1);
        }
    }
}

pub struct Machine<'o> {
    opts: &'o Options,
    globals: HashMap<String, Value>,
    macros: HashMap<String, Rc<MacroDef>>,
    depth: usize,
    included: HashSet<String>,
    hashes: HashMap<[u8; 32], (String, String, String)>,
    asts: HashMap<([u8; 32], String), Rc<Vec<Instr>>>,
    pub files: Vec<PathBuf>,
    pub warnings: Vec<String>,
    input_dir: Option<String>,
    run_dir: PathBuf,
    /// JavaScript libraries (`--lib`), when any.
    js: Option<Rc<JsLibs>>,
    /// Remote include → Git blob (`--save-dependencies`/`--use-dependencies`), in order.
    pub deps: Option<Vec<(String, String)>>,
}

fn source_name(path: &str, file: &str) -> String {
    if paths::has_protocol(path) {
        format!("{}/{}", path, file)
    } else {
        paths::join(path, file)
    }
}

impl<'o> Machine<'o> {
    pub fn new(opts: &'o Options, input_dir: Option<String>, run_dir: PathBuf) -> Self {
        Machine {
            opts,
            globals: HashMap::new(),
            macros: HashMap::new(),
            depth: 0,
            included: HashSet::new(),
            hashes: HashMap::new(),
            asts: HashMap::new(),
            files: Vec::new(),
            warnings: Vec::new(),
            input_dir,
            run_dir,
            js: None,
            deps: None,
        }
    }

    /// Use loaded JavaScript libraries: their exports join the root context.
    pub fn with_js(mut self, js: Option<Rc<JsLibs>>) -> Self {
        self.js = js;
        self
    }

    /// The root context: `__FILE__`, `__PATH__`, built-ins, then `-D` variables.
    pub fn root_ctx(&self, file: &str, path: &str) -> Ctx {
        let mut vars: Vec<(Rc<str>, Value)> = vec![
            (Rc::from("__FILE__"), Value::str(file)),
            (Rc::from("__PATH__"), Value::str(path)),
        ];
        // Builder's order: its own libraries, the user's, then abs/min/max
        let builtins = functions::root_bindings();
        let (math, own): (Vec<_>, Vec<_>) = builtins
            .into_iter()
            .partition(|(k, _)| matches!(*k, "abs" | "min" | "max"));
        for (k, v) in own {
            vars.push((Rc::from(k), v));
        }
        if let Some(js) = &self.js {
            for (k, v) in &js.exports {
                vars.push((Rc::from(k.as_str()), v.clone()));
            }
        }
        for (k, v) in math {
            vars.push((Rc::from(k), v));
        }
        for (k, v) in &self.opts.vars {
            vars.push((Rc::from(k.as_str()), Value::from_json(v)));
        }
        Ctx::root(vars)
    }

    /// Run a whole source; errors get their final form.
    pub fn run(&mut self, ast: &[Instr], ctx: &Ctx, buf: &mut Buf) -> Result<(), BuilderError> {
        self.execute(ast, ctx, buf).map_err(|f| match f {
            Fail::Done(e) => e,
            f => BuilderError::new(ErrorKind::Expression, f.text(), "", 0, f.text()),
        })
    }

    fn pos(ctx: &Ctx) -> String {
        paths::join(&ctx.string("__PATH__"), &ctx.string("__FILE__"))
    }

    fn wrap(&self, f: Fail, ctx: &Ctx) -> Fail {
        let pos = Self::pos(ctx);
        let line = ctx.line();
        match f {
            Fail::Expr(m) => {
                let t = format!("{} ({}:{})", m, pos, line);
                Fail::Done(BuilderError::new(ErrorKind::Expression, m, &pos, line, t))
            }
            Fail::Read(m) => {
                let t = format!("{} ({}:{})", m, pos, line);
                Fail::Done(BuilderError::new(ErrorKind::Include, m, &pos, line, t))
            }
            Fail::Raw(m) => Fail::Done(BuilderError::new(
                ErrorKind::Expression,
                m.clone(),
                &pos,
                line,
                m,
            )),
            d => d,
        }
    }

    fn execute(&mut self, ast: &[Instr], ctx: &Ctx, buf: &mut Buf) -> Result<(), Fail> {
        if self.depth == MAX_EXECUTION_DEPTH {
            let pos = Self::pos(ctx);
            let line = ctx.line();
            let msg = "Maximum execution depth reached, possible cyclic reference?";
            let t = format!("{} ({}:{})", msg, pos, ctx.string("__LINE__"));
            return Err(Fail::Done(BuilderError::new(
                ErrorKind::Cycle,
                msg,
                &pos,
                line,
                t,
            )));
        }
        self.depth += 1;
        for instr in ast {
            let c = ctx.with_line(instr.line());
            if let Err(f) = self.instruction(instr, &c, buf) {
                return Err(self.wrap(f, &c));
            }
        }
        self.depth -= 1;
        Ok(())
    }

    fn instruction(&mut self, instr: &Instr, ctx: &Ctx, buf: &mut Buf) -> Result<(), Fail> {
        match instr {
            Instr::Include { value, once, .. } => self.include(value, *once, ctx, buf),
            Instr::Output {
                value, expression, ..
            } => {
                if *expression {
                    let v = self.evaluate(value, ctx)?;
                    self.out(&v.to_js_string(), ctx, buf);
                } else {
                    self.out(value, ctx, buf);
                }
                Ok(())
            }
            Instr::Set {
                variable, value, ..
            } => {
                let v = self.evaluate(value, ctx)?;
                self.globals.insert(variable.clone(), v);
                Ok(())
            }
            Instr::Error { value, .. } => {
                let m = self.evaluate(value, ctx)?;
                let m = match m {
                    Value::Undefined => String::new(),
                    m => m.to_js_string(),
                };
                Err(Fail::Done(BuilderError::new(
                    ErrorKind::User,
                    m.clone(),
                    &Self::pos(ctx),
                    ctx.line(),
                    m,
                )))
            }
            Instr::Warning { value, .. } => {
                let m = self.evaluate(value, ctx)?;
                self.warnings.push(m.to_js_string());
                Ok(())
            }
            Instr::Conditional {
                test,
                consequent,
                elseifs,
                alternate,
                ..
            } => {
                if self.evaluate(test, ctx)?.truthy() {
                    return self.execute(consequent, ctx, buf);
                }
                for e in elseifs {
                    if self.evaluate(&e.test, ctx)?.truthy() {
                        return self.execute(&e.body, ctx, buf);
                    }
                }
                if let Some(a) = alternate {
                    self.execute(a, ctx, buf)?;
                }
                Ok(())
            }
            Instr::Macro {
                declaration, body, ..
            } => self.declare_macro(declaration, body, ctx),
            Instr::Loop {
                test,
                is_while,
                body,
                ..
            } => {
                let mut index = 0usize;
                loop {
                    let t = self.evaluate(test, ctx)?;
                    if *is_while && !t.truthy() {
                        break;
                    }
                    if !*is_while && matches!(t, Value::Num(n) if n == index as f64) {
                        break;
                    }
                    if index >= MAX_LOOP_ITERATIONS {
                        return Err(Fail::Expr("Loop does not terminate".into()));
                    }
                    let lv = Value::Object(Rc::new(vec![
                        ("index".into(), Value::Num(index as f64)),
                        ("iteration".into(), Value::Num(index as f64 + 1.0)),
                    ]));
                    self.execute(body, &ctx.with(vec![("loop", lv)]), buf)?;
                    index += 1;
                }
                Ok(())
            }
        }
    }

    fn declare_macro(&mut self, declaration: &str, body: &[Instr], ctx: &Ctx) -> Result<(), Fail> {
        let bad = || Fail::Expr("Syntax error in macro declaration".into());
        let node = expr::parse(declaration).map_err(|e| Fail::Expr(e.to_string()))?;
        let Node::Call { callee, args } = node else {
            return Err(bad());
        };
        let Node::Identifier(name) = *callee else {
            return Err(bad());
        };
        let mut names = Vec::new();
        for a in args {
            match a {
                Node::Identifier(n) => names.push(n),
                _ => return Err(bad()),
            }
        }
        if let Some(m) = self.macros.get(&name) {
            let pos = Self::pos(ctx);
            let msg = format!(
                "Macro \"{}\" is already declared in {}:{}",
                name,
                m.file.to_js_string(),
                m.line
            );
            let t = format!("{} ({}:{})", msg, pos, ctx.line());
            return Err(Fail::Done(BuilderError::new(
                ErrorKind::MacroRedeclared,
                msg,
                &pos,
                ctx.line(),
                t,
            )));
        }
        let def = MacroDef {
            file: ctx.get("__FILE__").unwrap_or(Value::Undefined),
            path: ctx.get("__PATH__").unwrap_or(Value::Undefined),
            line: ctx.line(),
            args: names,
            body: Rc::new(body.to_vec()),
        };
        self.macros.insert(name.clone(), Rc::new(def));
        self.globals.insert(
            name.clone(),
            Value::Func(Func::Macro(Rc::from(name.as_str()))),
        );
        Ok(())
    }

    fn out(&mut self, text: &str, ctx: &Ctx, buf: &mut Buf) {
        let line = ctx.line();
        if self.opts.line_control && !ctx.get("__INLINE__").is_some_and(|v| v.truthy()) {
            let file = ctx.string("__FILE__");
            if buf.last_file.as_deref() != Some(file.as_str()) {
                let src = Self::source_of(ctx, buf);
                let l = format!(
                    "#line {} \"{}\"\n",
                    ctx.string("__LINE__"),
                    src.replace('"', "\\\"")
                );
                let pos = SourcePos { file: src, line };
                buf.push(&l, &|| pos.clone());
                buf.last_file = Some(file);
            }
        }
        let starts_line = buf.out.is_empty()
            || buf.out.ends_with('\n')
            || text.strip_suffix('\n').unwrap_or(text).contains('\n');
        if buf.map.is_some() && !text.is_empty() && starts_line {
            let pos = SourcePos {
                file: Self::source_of(ctx, buf),
                line,
            };
            buf.push(text, &|| pos.clone());
        } else {
            buf.push(text, &|| SourcePos {
                file: String::new(),
                line,
            });
        }
    }

    /// The source name of the current file, as in `#line` (memoized per file).
    fn source_of(ctx: &Ctx, buf: &mut Buf) -> String {
        let path = ctx.get("__PATH__").unwrap_or(Value::Undefined);
        let file = ctx.get("__FILE__").unwrap_or(Value::Undefined);
        if let Some((p, f, s)) = &buf.memo {
            if same(p, &path) && same(f, &file) {
                return s.clone();
            }
        }
        let s = source_name(&path.to_js_string(), &file.to_js_string());
        buf.memo = Some((path, file, s.clone()));
        s
    }

    fn include(&mut self, value: &str, once: bool, ctx: &Ctx, buf: &mut Buf) -> Result<(), Fail> {
        if let Ok(Node::Call { callee, args }) = expr::parse(value) {
            if let Node::Identifier(name) = &*callee {
                if let Some(def) = self.macros.get(name).cloned() {
                    let mut vals = Vec::new();
                    for a in &args {
                        vals.push(self.eval(a, ctx)?);
                    }
                    return self.include_macro(&def, vals, ctx, buf);
                }
            }
        }
        self.include_source(value, ctx, buf, once, false)
    }

    fn include_macro(
        &mut self,
        def: &MacroDef,
        args: Vec<Value>,
        ctx: &Ctx,
        buf: &mut Buf,
    ) -> Result<(), Fail> {
        let mut vars: Vec<(&str, Value)> = def.args.iter().map(|s| s.as_str()).zip(args).collect();
        vars.push(("__FILE__", def.file.clone()));
        vars.push(("__PATH__", def.path.clone()));
        let body = def.body.clone();
        self.execute(&body, &ctx.with(vars), buf)
    }

    fn include_source(
        &mut self,
        source: &str,
        ctx: &Ctx,
        buf: &mut Buf,
        once: bool,
        evaluated: bool,
    ) -> Result<(), Fail> {
        let source = source.replace('\\', "/");
        let mut path = if evaluated {
            source
        } else {
            match self.evaluate(&source, ctx)? {
                Value::Str(s) => js_trim(&s).to_string(),
                Value::Null => {
                    return Err(Fail::Raw(
                        "Cannot read properties of null (reading 'trim')".into(),
                    ))
                }
                Value::Undefined => {
                    return Err(Fail::Raw(
                        "Cannot read properties of undefined (reading 'trim')".into(),
                    ))
                }
                _ => return Err(Fail::Raw("includePath.trim is not a function".into())),
            }
        };
        if self.opts.remote_relative_includes {
            path = self.remote_relative(path, ctx)?;
        }
        if once && self.included.contains(&path) {
            return Ok(());
        }
        let src = reader::classify(&path)?;
        let (content, vars) = self.read(&src, &path, ctx)?;
        let hash: [u8; 32] = Sha256::digest(content.as_bytes()).into();
        if once && self.hashes.contains_key(&hash) {
            self.included.insert(path);
            return Ok(());
        }
        if !self.opts.suppress_duplicate_warning {
            if let Some((p, f, l)) = self.hashes.get(&hash) {
                self.warnings.push(format!(
                    "Warning: duplicated includes detected! The same exact file content is included from\n    {}:{} ({})\n    {}:{} ({})",
                    f,
                    l,
                    p,
                    ctx.string("__FILE__"),
                    ctx.string("__LINE__"),
                    path
                ));
            }
        }
        self.hashes.insert(
            hash,
            (path.clone(), ctx.string("__FILE__"), ctx.string("__LINE__")),
        );
        let file = vars
            .iter()
            .find(|(k, _)| *k == "__FILE__")
            .map(|(_, v)| v.to_js_string())
            .unwrap_or_default();
        let key = (hash, file.clone());
        let ast = match self.asts.get(&key) {
            Some(a) => a.clone(),
            None => {
                let a = Rc::new(parser::parse(&content, &file).map_err(Fail::Done)?);
                self.asts.insert(key, a.clone());
                a
            }
        };
        let ctx2 = ctx.with(vars);
        self.included.insert(path);
        self.execute(&ast, &ctx2, buf)
    }

    fn read(&mut self, src: &Source, path: &str, ctx: &Ctx) -> Result<(String, Vars), Fail> {
        let mut vars = reader::parse_path(src, path);
        let mut content = match src {
            Source::File(f) => {
                let ctx_path = match ctx.get("__PATH__") {
                    Some(Value::Str(s)) => Some(s.to_string()),
                    _ => None,
                };
                let (text, dir, real) = reader::read_local(
                    f,
                    ctx_path.as_deref(),
                    self.input_dir.as_deref(),
                    &self.run_dir,
                )?;
                for v in vars.iter_mut() {
                    if v.0 == "__PATH__" {
                        v.1 = Value::str(&dir);
                    }
                }
                if !self.files.contains(&real) {
                    self.files.push(real);
                }
                text
            }
            _ => {
                let blob = self
                    .deps
                    .as_ref()
                    .and_then(|d| d.iter().find(|(k, _)| k == path))
                    .map(|(_, v)| v.clone());
                let pinned = blob.is_some()
                    || self.opts.save_dependencies.is_some()
                    || matches!(src, Source::GitLocal { .. });
                let cache_dir = self.opts.cache_dir.as_ref().filter(|_| {
                    !pinned
                        && !self
                            .opts
                            .cache_exclude
                            .iter()
                            .any(|p| cache::glob_match(p, path))
                });
                let max_age = self.opts.cache_max_age.unwrap_or(cache::DEFAULT_MAX_AGE);
                if let Some(c) = cache_dir.and_then(|d| cache::lookup(d, path, max_age)) {
                    c
                } else {
                    let mut text = match src {
                        Source::Http(u) => {
                            match self.opts.remote_memo.then(|| cache::memo_get(u)) {
                                Some(Some((t, _))) => t,
                                _ => {
                                    let t = reader::read_http(u)?;
                                    if self.opts.remote_memo {
                                        cache::memo_put(u, &(t.clone(), String::new()));
                                    }
                                    t
                                }
                            }
                        }
                        Source::Bitbucket { .. } | Source::Azure { .. } => {
                            let auth = self.opts.repo_auth();
                            let (text, commit) = if matches!(src, Source::Bitbucket { .. }) {
                                reader::read_bitbucket(
                                    src,
                                    &auth,
                                    blob.as_deref(),
                                    self.deps.is_some(),
                                )?
                            } else {
                                reader::read_azure(src, &auth, blob.as_deref())?
                            };
                            if let (Some(d), Some(c)) = (self.deps.as_mut(), commit) {
                                if blob.is_none() {
                                    d.push((path.to_string(), c));
                                }
                            }
                            text
                        }
                        Source::GitLocal { path: p, reference } => {
                            let (root, rel) = reader::git_local_root(p)?;
                            vars.push((
                                "__REPO_PREFIX__",
                                Value::str(&format!("git-local:{}", root)),
                            ));
                            let (text, commit) = reader::read_git_local(
                                &root,
                                &rel,
                                reference.as_deref(),
                                blob.as_deref(),
                                self.deps.is_some(),
                            )?;
                            if let (Some(d), Some(c)) = (self.deps.as_mut(), commit) {
                                d.push((path.to_string(), c));
                            }
                            text
                        }
                        _ => {
                            let memo_key = format!("{}#{}", path, blob.as_deref().unwrap_or(""));
                            let memo = self.opts.remote_memo.then(|| cache::memo_get(&memo_key));
                            let (text, sha) = match memo.flatten() {
                                Some(hit) => hit,
                                None => {
                                    let r = reader::read_github(
                                        path,
                                        src,
                                        &self.opts.github_auth(),
                                        blob.as_deref(),
                                    )?;
                                    if self.opts.remote_memo {
                                        cache::memo_put(&memo_key, &r);
                                    }
                                    r
                                }
                            };
                            if let Some(d) = self.deps.as_mut() {
                                match d.iter_mut().find(|(k, _)| k == path) {
                                    Some(e) => e.1 = sha,
                                    None => d.push((path.to_string(), sha)),
                                }
                            }
                            text
                        }
                    };
                    if !text.is_empty() && !text.ends_with('\n') {
                        text.push('\n');
                    }
                    if let Some(d) = cache_dir {
                        cache::store(d, path, &text);
                    }
                    text
                }
            }
        };
        if !content.is_empty() && !content.ends_with('\n') {
            content.push('\n');
        }
        Ok((content, vars))
    }

    fn remote_relative(&self, p: String, ctx: &Ctx) -> Result<String, Fail> {
        let get = |n: &str| match ctx.get(n) {
            Some(v) if v.truthy() => Some(v.to_js_string()),
            _ => None,
        };
        let add_ref = |p: String| match get("__REPO_REF__") {
            Some(r) if !p.contains('@') => format!("{}@{}", p, r),
            _ => p,
        };
        let format_url = |prefix: &str, inc: &str| -> Option<String> {
            let scheme = [
                "github:",
                "bitbucket-server:",
                "git-azure-repos:",
                "git-local:",
            ]
            .into_iter()
            .find(|s| prefix.starts_with(s))?;
            let rest = &prefix[scheme.len()..];
            Some(format!(
                "{}{}",
                scheme,
                paths::u_normalize(&paths::u_join(rest, inc))
            ))
        };
        let resolve = |root: &str, rel: &str| -> String {
            url::Url::parse(root)
                .and_then(|u| u.join(rel))
                .map(|u| u.to_string())
                .unwrap_or_else(|_| rel.to_string())
        };
        if p.starts_with('/') {
            if let Some(prefix) = get("__REPO_PREFIX__") {
                if let Some(r) = format_url(&prefix, &p) {
                    return Ok(add_ref(r));
                }
            } else if let Some(root) = get("__URL_ROOT__") {
                return Ok(resolve(&root, &p));
            }
        }
        let target = reader::classify(&p)?;
        if p.starts_with('/') || matches!(target, Source::Http(_)) {
            return Ok(p);
        }
        if let Some((prefix, reference)) = reader::repo_of(&target)? {
            if Some(prefix) == get("__REPO_PREFIX__") && reference.is_none() {
                return Ok(add_ref(p));
            }
            return Ok(p);
        }
        if let Some(r) = format_url(&ctx.string("__PATH__"), &p) {
            if matches!(
                reader::classify(&r),
                Ok(Source::Github { .. }
                    | Source::GitLocal { .. }
                    | Source::Bitbucket { .. }
                    | Source::Azure { .. })
            ) {
                return Ok(add_ref(r));
            }
        }
        if let Some(root) = get("__URL_ROOT__") {
            let file = paths::u_join(&paths::u_dirname(&ctx.string("__URL_PATH__")), &p);
            return Ok(resolve(&root, &file));
        }
        Ok(p)
    }

    // ---- expressions -------------------------------------------------------------------

    /// Parse and evaluate; every failure becomes an expression error (as in Builder).
    pub fn evaluate(&mut self, text: &str, ctx: &Ctx) -> Result<Value, Fail> {
        let node = expr::parse(text).map_err(|e| Fail::Expr(e.to_string()))?;
        self.eval(&node, ctx).map_err(|f| match f {
            Fail::Expr(m) => Fail::Expr(m),
            f => Fail::Expr(f.text()),
        })
    }

    fn lookup(&self, name: &str, ctx: &Ctx) -> Value {
        if name == "defined" {
            return Value::str(name);
        }
        if let Some(v) = ctx.get(name) {
            return if v.is_func() { Value::str(name) } else { v };
        }
        if let Some(v) = self.globals.get(name) {
            return if v.is_func() {
                Value::str(name)
            } else {
                v.clone()
            };
        }
        if !self.opts.no_env {
            if let Ok(v) = std::env::var(name) {
                return Value::str(&v);
            }
        }
        Value::Null
    }

    fn eval(&mut self, node: &Node, ctx: &Ctx) -> Result<Value, Fail> {
        let e = |m: String| Err(Fail::Expr(m));
        match node {
            Node::Empty => e("Unknown node type: \"undefined\"".into()),
            Node::Hole => e("Cannot read properties of null (reading 'type')".into()),
            Node::Compound(_) => e("Syntax error".into()),
            Node::This => e("`this` keyword is not supported".into()),
            Node::Literal(v) => Ok(v.clone()),
            Node::Identifier(n) => Ok(self.lookup(n, ctx)),
            Node::Array(items) => {
                let mut v = Vec::with_capacity(items.len());
                for i in items {
                    v.push(self.eval(i, ctx)?);
                }
                Ok(Value::Array(Rc::new(v)))
            }
            Node::Unary { op, arg } => {
                let a = self.eval(arg, ctx)?;
                Ok(match op {
                    '!' => Value::Bool(!a.truthy()),
                    '-' => Value::Num(-a.to_number()),
                    _ => a,
                })
            }
            Node::Conditional {
                test,
                consequent,
                alternate,
            } => {
                if self.eval(test, ctx)?.truthy() {
                    self.eval(consequent, ctx)
                } else {
                    self.eval(alternate, ctx)
                }
            }
            Node::Binary { op, left, right } => {
                if matches!(**left, Node::Empty) || matches!(**right, Node::Empty) {
                    return e(format!("Syntax error in \"{}\" operator", op));
                }
                if *op == "|" {
                    let call = match &**right {
                        Node::Call { callee, args } => {
                            let mut a = vec![(**left).clone()];
                            a.extend(args.iter().cloned());
                            Node::Call {
                                callee: callee.clone(),
                                args: a,
                            }
                        }
                        r => Node::Call {
                            callee: Box::new(r.clone()),
                            args: vec![(**left).clone()],
                        },
                    };
                    return self.eval(&call, ctx);
                }
                let l = self.eval(left, ctx)?;
                let r = self.eval(right, ctx)?;
                binary(op, l, r)
            }
            Node::Member {
                object,
                property,
                computed,
            } => {
                let obj = self.eval(object, ctx)?;
                let prop = if *computed {
                    self.eval(property, ctx)?
                } else {
                    match &**property {
                        Node::Identifier(n) => Value::str(n),
                        _ => Value::Undefined,
                    }
                };
                match (&obj, &self.js) {
                    (Value::Js(h, _) | Value::Func(Func::Js(h, _)), Some(js)) => {
                        let key = prop.to_js_string();
                        match js.member(*h, &key).map_err(|e| Fail::Expr(e.to_string()))? {
                            Some(v) => Ok(v),
                            None => Err(Fail::Expr(format!("Property \"{}\" is not defined", key))),
                        }
                    }
                    _ => member(&obj, &prop),
                }
            }
            Node::Call { callee, args } => self.call(callee, args, ctx),
        }
    }

    fn call(&mut self, callee: &Node, args: &[Node], ctx: &Ctx) -> Result<Value, Fail> {
        let cv = self.eval(callee, ctx)?;
        if let Value::Str(s) = &cv {
            if &**s == "defined" {
                return match args.first() {
                    Some(Node::Identifier(n)) => {
                        Ok(Value::Bool(ctx.has(n) || self.globals.contains_key(n)))
                    }
                    Some(_) => Err(Fail::Expr(
                        "defined() can only be called with an identifier as an argument".into(),
                    )),
                    None => Err(Fail::Expr(
                        "Cannot read properties of undefined (reading 'type')".into(),
                    )),
                };
            }
        }
        let mut vals = Vec::with_capacity(args.len());
        for a in args {
            vals.push(self.eval(a, ctx)?);
        }
        let func = match &cv {
            Value::Str(s) => match ctx.get(s) {
                Some(Value::Func(f)) => Some(f),
                _ => None,
            },
            _ => None,
        }
        .or_else(|| match &cv {
            Value::Func(f) => Some(f.clone()),
            _ => None,
        })
        .or_else(|| match &cv {
            Value::Str(s) => match self.globals.get(&**s) {
                Some(Value::Func(f)) => Some(f.clone()),
                _ => None,
            },
            _ => None,
        });
        let Some(func) = func else {
            return Err(Fail::Expr(match (callee, &cv) {
                (Node::Identifier(n), _) => format!("Function \"{}\" is not defined", n),
                (_, Value::Str(s)) => format!("Function \"{}\" is not defined", s),
                _ => "Can't call a non-callable expression".into(),
            }));
        };
        match func {
            Func::Builtin("include") => {
                let Some(first) = vals.first() else {
                    return Err(Fail::Expr("Wrong number of arguments for include()".into()));
                };
                let Value::Str(src) = first else {
                    return Err(Fail::Expr("source.replace is not a function".into()));
                };
                let src = src.to_string();
                let mut sub = Buf::new(false);
                let c = self.this_ctx(ctx);
                self.include_source(&src, &c, &mut sub, false, true)?;
                sub.trim_last_line();
                Ok(Value::str(&sub.out))
            }
            Func::Builtin(name) => functions::call(name, &vals).map_err(Fail::Expr),
            Func::Js(h, _) => {
                let Some(js) = self.js.clone() else {
                    return Err(Fail::Expr("Can't call a non-callable expression".into()));
                };
                let this = ctx.all();
                let globals: Vec<(String, Value)> = self
                    .globals
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let (res, changed) = js
                    .call(h, &this, &globals, &vals)
                    .map_err(|e| Fail::Expr(e.to_string()))?;
                for (k, v) in changed {
                    match v {
                        Some(v) => self.globals.insert(k, v),
                        None => self.globals.remove(&k),
                    };
                }
                Ok(res)
            }
            Func::Macro(name) => {
                let Some(def) = self.macros.get(&*name).cloned() else {
                    return Err(Fail::Expr(format!("Function \"{}\" is not defined", name)));
                };
                let mut sub = Buf::new(false);
                let c = self.this_ctx(ctx);
                self.include_macro(&def, vals, &c, &mut sub)?;
                sub.trim_last_line();
                Ok(Value::str(&sub.out))
            }
        }
    }

    /// Context of a function call (`this` in Builder): adds `globals` and inline mode.
    fn this_ctx(&self, ctx: &Ctx) -> Ctx {
        let g: Vec<(String, Value)> = self
            .globals
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        ctx.with(vec![
            ("globals", Value::Object(Rc::new(g))),
            ("__INLINE__", Value::Bool(true)),
        ])
    }
}

fn binary(op: &str, l: Value, r: Value) -> Result<Value, Fail> {
    let num = |f: fn(f64, f64) -> f64| Value::Num(f(l.to_number(), r.to_number()));
    Ok(match op {
        "+" => js::add(&l, &r),
        "-" => num(|a, b| a - b),
        "*" => num(|a, b| a * b),
        "/" | "%" => {
            if matches!(r, Value::Num(n) if n == 0.0) {
                return Err(Fail::Expr("Division by zero".into()));
            }
            if op == "/" {
                num(|a, b| a / b)
            } else {
                num(|a, b| a % b)
            }
        }
        "||" => {
            if l.truthy() {
                l
            } else {
                r
            }
        }
        "&&" => {
            if l.truthy() {
                r
            } else {
                l
            }
        }
        "==" => Value::Bool(js::loose_eq(&l, &r)),
        "!=" => Value::Bool(!js::loose_eq(&l, &r)),
        "<" => Value::Bool(js::less_than(&l, &r) == Some(true)),
        ">" => Value::Bool(js::less_than(&r, &l) == Some(true)),
        "<=" => Value::Bool(js::less_than(&r, &l) == Some(false)),
        ">=" => Value::Bool(js::less_than(&l, &r) == Some(false)),
        _ => return Err(Fail::Expr(format!("Unknown binary operator: {}", op))),
    })
}

fn member(obj: &Value, prop: &Value) -> Result<Value, Fail> {
    let key = prop.to_js_string();
    if !obj.truthy() {
        return Err(Fail::Expr(format!(
            "Owner of \"{}\" property is undefined",
            key
        )));
    }
    let missing = || Err(Fail::Expr(format!("Property \"{}\" is not defined", key)));
    match obj {
        Value::Array(a) => {
            if key == "length" {
                return Ok(Value::Num(a.len() as f64));
            }
            match key.parse::<usize>() {
                Ok(i) if i < a.len() && i.to_string() == key => Ok(a[i].clone()),
                _ => missing(),
            }
        }
        Value::Object(o) => match o.iter().find(|(k, _)| *k == key) {
            Some((_, v)) => Ok(v.clone()),
            None => missing(),
        },
        Value::Func(_) => missing(),
        _ => Err(Fail::Expr(format!(
            "Cannot use 'in' operator to search for '{}' in {}",
            key,
            obj.to_js_string()
        ))),
    }
}
