//! Evaluation context: an immutable chain of variable layers (Builder clones and merges its
//! context object at every step; sharing layers gives the same lookups cheaply).

use std::rc::Rc;

use super::js::Value;

pub struct Scope {
    vars: Vec<(Rc<str>, Value)>,
    parent: Option<Rc<Scope>>,
}

#[derive(Clone)]
pub struct Ctx {
    scope: Rc<Scope>,
    /// `__LINE__` (0 = not set yet).
    line: usize,
}

impl Ctx {
    pub fn root(vars: Vec<(Rc<str>, Value)>) -> Ctx {
        Ctx {
            scope: Rc::new(Scope { vars, parent: None }),
            line: 0,
        }
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        if name == "__LINE__" && self.line > 0 {
            return Some(Value::Num(self.line as f64));
        }
        let mut s = Some(&self.scope);
        while let Some(sc) = s {
            if let Some((_, v)) = sc.vars.iter().rev().find(|(k, _)| &**k == name) {
                return Some(v.clone());
            }
            s = sc.parent.as_ref();
        }
        None
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of a variable as a JS string (`undefined` if absent).
    pub fn string(&self, name: &str) -> String {
        self.get(name).unwrap_or(Value::Undefined).to_js_string()
    }

    pub fn line(&self) -> usize {
        self.line
    }

    pub fn with(&self, vars: Vec<(&str, Value)>) -> Ctx {
        Ctx {
            scope: Rc::new(Scope {
                vars: vars.into_iter().map(|(k, v)| (Rc::from(k), v)).collect(),
                parent: Some(self.scope.clone()),
            }),
            line: self.line,
        }
    }

    /// Every visible variable (inner layers override outer ones), with `__LINE__`.
    pub fn all(&self) -> Vec<(Rc<str>, Value)> {
        let mut layers = Vec::new();
        let mut s = Some(&self.scope);
        while let Some(sc) = s {
            layers.push(sc);
            s = sc.parent.as_ref();
        }
        let mut out: Vec<(Rc<str>, Value)> = Vec::new();
        let mut index: std::collections::HashMap<Rc<str>, usize> = Default::default();
        for sc in layers.into_iter().rev() {
            for (k, v) in &sc.vars {
                match index.get(k) {
                    Some(&i) => out[i].1 = v.clone(),
                    None => {
                        index.insert(k.clone(), out.len());
                        out.push((k.clone(), v.clone()));
                    }
                }
            }
        }
        if self.line > 0 {
            out.push((Rc::from("__LINE__"), Value::Num(self.line as f64)));
        }
        out
    }

    pub fn with_line(&self, line: usize) -> Ctx {
        Ctx {
            scope: self.scope.clone(),
            line,
        }
    }
}
