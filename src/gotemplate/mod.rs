//! Go's `text/template`, written for this project: lexer, parser and executor over [`Value`].
//!
//! This module knows nothing of Helm. It gives Go's semantics exactly (actions, pipelines,
//! variables and reassignment, `range` over maps in key order, `break`/`continue`,
//! `define`/`template`/`block`, whitespace trimming, the builtin functions, `<no value>` for missing
//! keys), and Go's `fmt` formatting of values in [`gofmt`]. Helm's functions (`include`, `tpl`, ...)
//! are registered from outside through a [`FuncMap`]; a function that must execute templates gets a
//! [`Call`] handle.
//!
//! Entry point: [`Templates`] — parse named templates into one set, then execute one by name.

pub mod gofmt;
mod value;

pub use value::{Map, Object, Value};

use std::{collections::HashMap, rc::Rc};

/// What a template function returns: a value or an error message (Go's `error`), which the executor
/// reports as `error calling NAME: MESSAGE` at the call's position.
pub type FuncResult = Result<Value, String>;

/// A function callable from templates.
#[derive(Clone)]
pub enum Func {
    /// A plain function of its arguments.
    Simple(fn(&[Value]) -> FuncResult),
    /// A function that needs the executing template set (`include`, `tpl`) or captured state.
    Ctx(Rc<dyn Fn(&mut Call<'_>, &[Value]) -> FuncResult>),
}

/// Named functions available to templates (Go's `template.FuncMap`).
#[derive(Clone, Default)]
pub struct FuncMap {
    funcs: HashMap<String, Func>,
}

impl FuncMap {
    /// An empty map (the builtins `and`, `or`, `len`, `printf`... are always present).
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds or replaces a plain function.
    pub fn insert_simple(&mut self, name: &str, f: fn(&[Value]) -> FuncResult) {
        self.funcs.insert(name.to_string(), Func::Simple(f));
    }
    /// Adds or replaces a function that gets a [`Call`] handle.
    pub fn insert_ctx(&mut self, name: &str, f: impl Fn(&mut Call<'_>, &[Value]) -> FuncResult + 'static) {
        self.funcs.insert(name.to_string(), Func::Ctx(Rc::new(f)));
    }
    /// Looks a function up.
    pub fn get(&self, name: &str) -> Option<&Func> {
        self.funcs.get(name)
    }
    /// Removes a function (Helm drops Sprig's `env` and `expandenv`).
    pub fn remove(&mut self, name: &str) {
        self.funcs.remove(name);
    }
}
