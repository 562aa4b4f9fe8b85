//! Executor: walks a parsed template over a [`Value`] and appends the output to one byte buffer
//! (Go's output is bytes: a string from `b64dec` or `.Files.Get` need not be UTF-8).
//!
//! Follows Go's `text/template/exec.go` semantics, including the distinction Go makes between a
//! nil that came out of a container (an `interface{}` holding nil: `.a.b` on it is an error,
//! `nil pointer evaluating interface {}.b`) and a nil produced by a pipeline or passed as data (an
//! invalid reflect.Value: field access on it yields nil silently). That distinction is the `iface`
//! flag carried next to dot and variables. Errors remember the node being evaluated ("at") the way
//! Go's `state.at` does, so messages carry Go's `NAME:LINE:COL` and `<context>`.

use std::{collections::HashMap, rc::Rc};

use super::{
    ast::{Arg, Branch, Cmd, FuncRef, Node, Pipe, TemplateCall, Tmpl},
    builtins::Builtin,
    Call, Error, Func, FuncMap, GoType, Signature, Value,
};

/// Maximum nesting of template calls (`template`, `include`, `tpl`): Go's `maxExecDepth`.
/// Go's stacks grow; ours grow too, through [`grow`] at every nested call. Helm caps `include`
/// itself at 1000 levels per name (in render/), so only `template` reaches this bound.
pub(crate) const MAX_EXEC_DEPTH: usize = 100_000;

/// Most bytes one execution (a file, an `include`, a `tpl`) may write. Go has no limit and runs
/// out of memory on a runaway loop (`range until 100000` of a 100 KB `repeat` is 10 GB); an
/// error naming the limit is better than an abort. No real chart comes near it.
pub(crate) const MAX_OUTPUT: usize = 1 << 30;

/// Stack left, at a nested template call, under which the call runs on a fresh heap segment.
/// One level of `template` takes ~2 KB of stack in a debug build and `include` ~5 KB (measured
/// by `deep_recursion`); the margin covers the functions a level calls (toYaml of a deep
/// value, regex compilation) before the next check.
const RED_ZONE: usize = 256 * 1024;

/// Size of each heap segment: room for a few hundred levels, so segments are rarely switched.
const SEGMENT: usize = 4 * 1024 * 1024;

/// Runs `f` (a nested template call) where at least [`RED_ZONE`] of stack is left.
pub(crate) fn grow<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

/// A template set seen by an execution: its own templates, then its parent's (`tpl` parses into a
/// layer over the caller's set so its defines stay local).
pub(crate) struct Layer<'a> {
    pub map: &'a HashMap<String, Rc<Tmpl>>,
    pub parent: Option<&'a Layer<'a>>,
    pub funcs: &'a Rc<FuncMap>,
    pub missing_error: bool,
    pub root_name: &'a str,
    /// [`MAX_OUTPUT`], lowered by tests.
    pub max_output: usize,
}

impl<'a> Layer<'a> {
    pub fn lookup(&self, name: &str) -> Option<&'a Rc<Tmpl>> {
        match self.map.get(name) {
            Some(t) => Some(t),
            None => self.parent.and_then(|p| p.lookup(name)),
        }
    }
}

type R<T> = Result<T, Box<Error>>;

/// The evaluated arguments of one call. Nearly every call in a chart takes four or fewer
/// (`printf` with a few operands, `default`, `eq`, `include`, the piped value), so they live on
/// the stack: a heap vector per call was a `malloc` and a `free` for every function run.
type Argv = smallvec::SmallVec<[Value; 4]>;

#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// The node errors are reported at.
#[derive(Clone, Copy)]
enum At<'a> {
    None,
    Pipe(&'a Pipe),
    Cmd(&'a Cmd),
    Arg(&'a Arg),
    Tmpl(&'a TemplateCall),
}

struct VarSlot<'a> {
    name: &'a str,
    val: Value,
    iface: bool,
}

pub(crate) struct State<'a, 'o> {
    layer: &'a Layer<'a>,
    tmpl: &'a Tmpl,
    at: At<'a>,
    vars: Vec<VarSlot<'a>>,
    depth: usize,
    /// The output: bytes, because a Go string need not be UTF-8 and Go writes it as it is.
    out: &'o mut Vec<u8>,
}

/// Executes `tmpl` with `data` as dot and `$`, appending to `out`.
pub(crate) fn run(
    layer: &Layer<'_>,
    tmpl: &Tmpl,
    data: &Value,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let mut st = State {
        layer,
        tmpl,
        at: At::None,
        vars: vec![VarSlot {
            name: "$",
            val: data.clone(),
            iface: false,
        }],
        depth,
        out,
    };
    st.walk_list(data, false, &tmpl.root).map(|_| ()).map_err(|e| *e)
}

impl<'a> State<'a, '_> {
    fn errorf(&self, msg: String) -> Box<Error> {
        let (pos, ctx) = match self.at {
            At::None => return Box::new(Error::exec_plain(&self.tmpl.name, msg)),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Arg(a) => (a.pos(), a.to_string()),
            At::Tmpl(t) => (t.pos, t.to_string()),
        };
        let text = &self.tmpl.text[..pos.min(self.tmpl.text.len())];
        let line = 1 + text.bytes().filter(|&b| b == b'\n').count();
        let col = match text.rfind('\n') {
            Some(i) => pos - (i + 1),
            None => pos,
        };
        Box::new(Error::exec(
            &self.tmpl.parse_name,
            line,
            col,
            &self.tmpl.name,
            &ctx,
            msg,
        ))
    }

    fn walk_list(&mut self, dot: &Value, iface: bool, list: &'a [Node]) -> R<Flow> {
        for n in list {
            let f = self.walk(dot, iface, n)?;
            if f != Flow::Normal {
                return Ok(f);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, iface: bool, node: &'a Node) -> R<Flow> {
        match node {
            Node::Text(r) if self.tmpl.escaped => self
                .out
                .extend_from_slice(&super::gostr::unescape_bad_bytes(&self.tmpl.text[r.clone()])),
            Node::Text(r) => self.out.extend_from_slice(&self.tmpl.text.as_bytes()[r.clone()]),
            Node::Action(pipe) => {
                let v = self.eval_pipeline(dot, iface, pipe)?;
                if pipe.decl.is_empty() {
                    if matches!(v, Value::Map(_) | Value::List(_)) && v.has_cycle() {
                        return Err(self.errorf(super::builtins::CYCLE.into()));
                    }
                    match &v {
                        Value::Nil => self.out.extend_from_slice(b"<no value>"),
                        Value::Str(s) => self.out.extend_from_slice(s.as_bytes()),
                        // Go writes a string's bytes as they are, UTF-8 or not (`b64dec`).
                        Value::BStr(b) => self.out.extend_from_slice(b),
                        Value::Int(i) | Value::Int64(i) => {
                            let _ = std::io::Write::write_fmt(self.out, format_args!("{i}"));
                        }
                        Value::Object(o) if o.field_string().is_some() => {
                            let text = o.field_string().unwrap_or_default();
                            self.out.extend_from_slice(text.as_bytes())
                        }
                        v => self.out.extend_from_slice(super::gofmt::format_v(v).as_bytes()),
                    }
                }
            }
            // Nested control structures recurse here: grow the stack as Go's does.
            Node::If(_) | Node::With(_) | Node::Range(_) => {
                return grow(|| self.walk_control(dot, iface, node))
            }
            Node::Template(t) => self.walk_template(dot, iface, t)?,
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        if self.out.len() > self.layer.max_output {
            return Err(self.errorf(format!(
                "template output is over the limit of {} bytes",
                self.layer.max_output
            )));
        }
        Ok(Flow::Normal)
    }

    fn walk_control(&mut self, dot: &Value, iface: bool, node: &'a Node) -> R<Flow> {
        match node {
            Node::If(b) | Node::With(b) => {
                let with = matches!(node, Node::With(_));
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, iface, &b.pipe)?;
                let flow = if v.truthy() {
                    if with {
                        self.walk_list(&v, false, &b.list)?
                    } else {
                        self.walk_list(dot, iface, &b.list)?
                    }
                } else if let Some(e) = &b.else_list {
                    self.walk_list(dot, iface, e)?
                } else {
                    Flow::Normal
                };
                self.vars.truncate(mark);
                Ok(flow)
            }
            Node::Range(b) => self.walk_range(dot, iface, b),
            _ => unreachable!("walk_control is called for if, with and range only"),
        }
    }

    fn walk_range(&mut self, dot: &Value, iface: bool, b: &'a Branch) -> R<Flow> {
        let mark0 = self.vars.len();
        let val = self.eval_pipeline(dot, iface, &b.pipe)?;
        // Go named map and slice types with methods (Helm's `.Files`, `.Capabilities.APIVersions`)
        // range like their underlying map or slice.
        let val = match &val {
            Value::Object(o) if matches!(o.kind_name(), "map" | "slice") => {
                o.to_plain().unwrap_or(Value::Nil)
            }
            _ => val,
        };
        let mark = self.vars.len();
        let decl = &b.pipe.decl;
        let assign = b.pipe.is_assign;
        let mut ran = false;
        let mut one = |st: &mut Self, index: Value, elem: Value, elem_iface: bool| -> R<Flow> {
            ran = true;
            if assign {
                // `range $i = ...` and `range $k, $v = ...` assign to variables declared
                // outside the range (go#56490): the element, or the index then the element.
                match &decl[..] {
                    [v] => st.assign_var(v, elem.clone(), elem_iface)?,
                    [k, v] => {
                        st.assign_var(k, index, false)?;
                        st.assign_var(v, elem.clone(), elem_iface)?;
                    }
                    _ => {}
                }
            } else {
                let n = st.vars.len();
                if !decl.is_empty() {
                    st.vars[n - 1].val = elem.clone();
                    st.vars[n - 1].iface = elem_iface;
                }
                if decl.len() > 1 {
                    st.vars[n - 2].val = index;
                    st.vars[n - 2].iface = false;
                }
            }
            let f = st.walk_list(&elem, elem_iface, &b.list)?;
            st.vars.truncate(mark);
            Ok(f)
        };
        match &val {
            Value::List(l) => {
                let l = l.clone();
                for (i, e) in l.iter().enumerate() {
                    if one(self, Value::Int(i as i64), e.clone(), true)? == Flow::Break {
                        break;
                    }
                }
            }
            Value::Bytes(bs) => {
                let bs = bs.clone();
                for (i, e) in bs.iter().enumerate() {
                    if one(self, Value::Int(i as i64), Value::Int(*e as i64), false)? == Flow::Break {
                        break;
                    }
                }
            }
            Value::Map(m) => {
                let entries: Vec<(Value, Value)> = m
                    .borrow()
                    .iter()
                    .map(|(k, v)| (Value::str(k.as_str()), v.clone()))
                    .collect();
                for (k, v) in entries {
                    if one(self, k, v, true)? == Flow::Break {
                        break;
                    }
                }
            }
            // Go 1.23 ranges over slices, maps and channels only (ints came in Go 1.24).
            Value::Nil => {}
            other => {
                return Err(self.errorf(format!(
                    "range can't iterate over {}",
                    super::gofmt::format_v(other)
                )));
            }
        }
        if !ran {
            if let Some(e) = &b.else_list {
                self.vars.truncate(mark);
                self.walk_list(dot, iface, e)?;
            }
        }
        self.vars.truncate(mark0);
        Ok(Flow::Normal)
    }

    fn walk_template(&mut self, dot: &Value, iface: bool, t: &'a TemplateCall) -> R<()> {
        self.at = At::Tmpl(t);
        let Some(tmpl) = self.layer.lookup(&t.name) else {
            return Err(self.errorf(format!("template {} not defined", super::gofmt::quote(&t.name))));
        };
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.errorf(format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})")));
        }
        let new_dot = match &t.pipe {
            Some(p) => self.eval_pipeline(dot, iface, p)?,
            None => Value::Nil,
        };
        let mut st = State {
            layer: self.layer,
            tmpl,
            at: At::None,
            vars: vec![VarSlot {
                name: "$",
                val: new_dot.clone(),
                iface: false,
            }],
            depth: self.depth + 1,
            out: &mut *self.out,
        };
        grow(|| st.walk_list(&new_dot, false, &tmpl.root))?;
        Ok(())
    }

    fn eval_pipeline(&mut self, dot: &Value, iface: bool, pipe: &'a Pipe) -> R<Value> {
        self.at = At::Pipe(pipe);
        let mut val: Option<Value> = None;
        for cmd in &pipe.cmds {
            val = Some(self.eval_command(dot, iface, cmd, val.take())?);
        }
        let v = val.unwrap_or_default();
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, v.clone())?;
            } else {
                self.vars.push(VarSlot {
                    name,
                    val: v.clone(),
                    iface: false,
                });
            }
        }
        Ok(v)
    }

    fn set_var(&mut self, name: &str, v: Value) -> R<()> {
        self.assign_var(name, v, false)
    }

    /// Assigns to the innermost variable of that name; `iface` as for [`VarSlot`].
    fn assign_var(&mut self, name: &str, v: Value, iface: bool) -> R<()> {
        for slot in self.vars.iter_mut().rev() {
            if slot.name == name {
                slot.val = v;
                slot.iface = iface;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn var_value(&self, name: &str) -> R<(Value, bool)> {
        for slot in self.vars.iter().rev() {
            if slot.name == name {
                return Ok((slot.val.clone(), slot.iface));
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn not_a_function(&self, args: &[Arg], has_final: bool) -> R<()> {
        if args.len() > 1 || has_final {
            return Err(self.errorf(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, iface: bool, cmd: &'a Cmd, fin: Option<Value>) -> R<Value> {
        let first = &cmd.args[0];
        match first {
            Arg::Field { idents, .. } => {
                self.at = At::Arg(first);
                return Ok(self
                    .eval_field_chain(dot, iface, dot.clone(), iface, first, idents, &cmd.args, fin)?
                    .0);
            }
            Arg::Chain { .. } => return self.eval_chain(dot, iface, first, &cmd.args, fin),
            Arg::Ident { name, func, .. } => {
                self.at = At::Arg(first);
                return self.eval_function(dot, iface, name, func, At::Cmd(cmd), &cmd.args[1..], fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, fin.is_some())?;
                return self.eval_pipeline(dot, iface, p);
            }
            Arg::Var { .. } => return self.eval_variable(dot, iface, first, &cmd.args, fin),
            _ => {}
        }
        self.eval_literal_command(dot, cmd, fin.is_some())
    }

    /// A command whose first word is a constant, `.` or `nil`.
    #[inline(never)]
    fn eval_literal_command(&mut self, dot: &Value, cmd: &'a Cmd, has_final: bool) -> R<Value> {
        let first = &cmd.args[0];
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, has_final)?;
        match first {
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.errorf("nil is not a command".into())),
            Arg::Number { value, .. } => value.clone().map_err(|m| self.errorf(m)),
            Arg::Str { value, .. } => Ok(value.clone()),
            other => Err(self.errorf(format!(
                "can't evaluate command {}",
                super::gofmt::quote(&other.to_string())
            ))),
        }
    }

    fn eval_arg(&mut self, dot: &Value, iface: bool, arg: &'a Arg) -> R<Value> {
        self.at = At::Arg(arg);
        match arg {
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(Value::Nil),
            Arg::Field { .. } => Ok(self.eval_arg_iface(dot, iface, arg)?.0),
            Arg::Var { .. } => self.eval_variable(dot, iface, arg, &[], None),
            Arg::Pipe(p) => self.eval_pipeline(dot, iface, p),
            Arg::Ident { name, func, .. } => {
                self.eval_function(dot, iface, name, func, At::Arg(arg), &[], None)
            }
            Arg::Chain { .. } => self.eval_chain(dot, iface, arg, &[], None),
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::Number { value, .. } => value.clone().map_err(|m| self.errorf(m)),
            Arg::Str { value, .. } => Ok(value.clone()),
        }
    }

    /// [`Self::eval_arg`], also telling whether the value came out of a container (an
    /// `interface{}` in Go: a nil there is a nil interface, not a missing value).
    fn eval_arg_iface(&mut self, dot: &Value, iface: bool, arg: &'a Arg) -> R<(Value, bool)> {
        self.at = At::Arg(arg);
        match arg {
            Arg::Field { idents, .. } => self.eval_field_chain(
                dot,
                iface,
                dot.clone(),
                iface,
                arg,
                idents,
                std::slice::from_ref(arg),
                None,
            ),
            Arg::Var { name, fields, .. } if fields.is_empty() => self.var_value(name),
            Arg::Dot(_) => Ok((dot.clone(), iface)),
            _ => Ok((self.eval_arg(dot, iface, arg)?, false)),
        }
    }

    fn eval_variable(
        &mut self,
        dot: &Value,
        iface: bool,
        var: &'a Arg,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let Arg::Var { name, fields, .. } = var else {
            return Ok(Value::Nil);
        };
        self.at = At::Arg(var);
        let (v, viface) = self.var_value(name)?;
        if fields.is_empty() {
            if !args.is_empty() {
                self.not_a_function(args, fin.is_some())?;
            }
            return Ok(v);
        }
        let args: &'a [Arg] = if args.is_empty() {
            std::slice::from_ref(var)
        } else {
            args
        };
        Ok(self
            .eval_field_chain(dot, iface, v, viface, var, fields, args, fin)?
            .0)
    }

    fn eval_chain(
        &mut self,
        dot: &Value,
        iface: bool,
        chain: &'a Arg,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let Arg::Chain { node, fields, .. } = chain else {
            return Ok(Value::Nil);
        };
        self.at = At::Arg(chain);
        if let Arg::Nil(_) = **node {
            return Err(self.errorf(format!("indirection through explicit nil in {chain}")));
        }
        let recv = self.eval_arg(dot, iface, node)?;
        let args: &'a [Arg] = if args.is_empty() {
            std::slice::from_ref(chain)
        } else {
            args
        };
        Ok(self
            .eval_field_chain(dot, iface, recv, false, chain, fields, args, fin)?
            .0)
    }

    /// `.X.Y.Z` from `recv`; the last field gets the command's arguments (`args[0]` is the node
    /// itself, as in Go).
    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        dot: &Value,
        iface: bool,
        mut recv: Value,
        mut recv_iface: bool,
        node: &'a Arg,
        idents: &'a [String],
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<(Value, bool)> {
        let n = idents.len();
        for ident in &idents[..n - 1] {
            (recv, recv_iface) = self.eval_field(dot, iface, ident, node, &[], None, recv, recv_iface)?;
        }
        self.eval_field(dot, iface, &idents[n - 1], node, args, fin, recv, recv_iface)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field(
        &mut self,
        dot: &Value,
        iface: bool,
        name: &str,
        node: &'a Arg,
        args: &'a [Arg],
        fin: Option<Value>,
        recv: Value,
        recv_iface: bool,
    ) -> R<(Value, bool)> {
        let has_args = args.len() > 1 || fin.is_some();
        match &recv {
            Value::Nil if !recv_iface => {
                if self.layer.missing_error {
                    return Err(self.errorf(format!(
                        "nil data; no entry for key {}",
                        super::gofmt::quote(name)
                    )));
                }
                Ok((Value::Nil, false))
            }
            Value::Nil => Err(self.errorf(format!("nil pointer evaluating interface {{}}.{name}"))),
            Value::Map(m) => {
                if has_args {
                    self.at = At::Arg(node);
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                let found = m.borrow().get(name).cloned();
                match found {
                    Some(v) => Ok((v, true)),
                    None if self.layer.missing_error => {
                        Err(self.errorf(format!("map has no entry for key {}", super::gofmt::quote(name))))
                    }
                    None => Ok((Value::Nil, true)),
                }
            }
            Value::Object(o) if o.as_map().is_some() => {
                // A named map type: its methods first (Go looks methods up before map keys),
                // then the map's keys, exactly as for a plain map.
                let o = o.clone();
                // A key given arguments fails before any argument is evaluated, as in Go: probe
                // (with no arguments, which is cheap for every method but a failing `YAML`) that
                // the name is a method at all before evaluating them.
                if has_args && o.method(name, &[]).is_none() {
                    let map = o.as_map().cloned().unwrap_or_default();
                    return self.eval_field(dot, iface, name, node, args, fin, Value::Map(map), recv_iface);
                }
                let mut argv = Argv::with_capacity(args.len());
                for a in args.iter().skip(1) {
                    argv.push(self.eval_arg(dot, iface, a)?);
                }
                argv.extend(fin.clone());
                match o.method(name, &argv) {
                    Some(Ok(v)) => return Ok((v, false)),
                    Some(Err(m)) => {
                        self.at = At::Arg(node);
                        // Go checks the argument count before calling, so that error is not wrapped.
                        if m.starts_with("wrong number of args for ") {
                            return Err(self.errorf(m));
                        }
                        return Err(self.errorf(format!("error calling {name}: {m}")));
                    }
                    None => {}
                }
                let map = o.as_map().cloned().unwrap_or_default();
                self.eval_field(dot, iface, name, node, args, fin, Value::Map(map), recv_iface)
            }
            Value::Object(o) => {
                let o = o.clone();
                if has_args {
                    let argv = self.method_args(dot, iface, &o, name, node, &args[1..], fin)?;
                    match o.method(name, &argv) {
                        Some(Ok(v)) => return Ok((v, false)),
                        Some(Err(m)) => {
                            self.at = At::Arg(node);
                            return Err(self.errorf(format!("error calling {name}: {m}")));
                        }
                        None => {}
                    }
                    self.at = At::Arg(node);
                    if o.field(name).is_some() {
                        return Err(
                            self.errorf(format!("{name} has arguments but cannot be invoked as function"))
                        );
                    }
                } else {
                    // Go looks methods up first: `.Files.Get` alone is a call with no argument.
                    if let Some(sig) = o.method_signature(name) {
                        self.at = At::Arg(node);
                        self.check_arity(name, &sig, 0, false)?;
                    }
                    if let Some(v) = o.field(name) {
                        return Ok((v, false));
                    }
                    match o.method(name, &[]) {
                        Some(Ok(v)) => return Ok((v, false)),
                        Some(Err(m)) => {
                            self.at = At::Arg(node);
                            return Err(self.errorf(format!("error calling {name}: {m}")));
                        }
                        None => {}
                    }
                }
                let typ = if recv_iface { "interface {}" } else { o.type_name() };
                Err(self.errorf(format!("can't evaluate field {name} in type {typ}")))
            }
            other => {
                let typ = if recv_iface {
                    "interface {}"
                } else {
                    other.type_name()
                };
                Err(self.errorf(format!("can't evaluate field {name} in type {typ}")))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_function(
        &mut self,
        dot: &Value,
        iface: bool,
        name: &str,
        func: &'a FuncRef,
        call_node: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        match func {
            FuncRef::User(f, sig) => self.call_user(dot, iface, name, f, *sig, call_node, args, fin),
            FuncRef::Builtin(b) => self.call_builtin(dot, iface, name, *b, call_node, args, fin),
        }
    }

    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn call_builtin(
        &mut self,
        dot: &Value,
        iface: bool,
        name: &str,
        b: Builtin,
        call_node: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let nargs = args.len() + usize::from(fin.is_some());
        let (fixed, variadic) = b.arity();
        if variadic {
            if nargs < fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {fixed} got {}",
                    args.len()
                )));
            }
        } else if nargs != fixed {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {fixed} got {nargs}"
            )));
        }
        if b == Builtin::And || b == Builtin::Or {
            let want = b == Builtin::Or;
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(dot, iface, a)?;
                if v.truthy() == want {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        let mut argv = Argv::with_capacity(nargs);
        for (i, a) in args.iter().enumerate() {
            if i == 0 && b == Builtin::Printf {
                argv.push(self.eval_string_arg(dot, iface, a)?);
            } else if b == Builtin::Len {
                // Go tells a nil held in a map ("len of nil pointer") from a missing key.
                let (v, held) = self.eval_arg_iface(dot, iface, a)?;
                if held && matches!(v, Value::Nil) {
                    self.at = call_node;
                    return Err(self.errorf(format!("error calling {name}: len of nil pointer")));
                }
                argv.push(v);
            } else {
                argv.push(self.eval_arg(dot, iface, a)?);
            }
        }
        if let Some(f) = fin {
            if args.is_empty() && b == Builtin::Printf && !matches!(f, Value::Str(_)) {
                return Err(self.errorf(match &f {
                    Value::Nil => "invalid value; expected string".to_string(),
                    v => format!("wrong type for value; expected string; got {}", v.type_name()),
                }));
            }
            argv.push(f);
        }
        if b == Builtin::Call {
            // No template value is a Go func, so `call` always fails once its operands are
            // evaluated; Go names the operand node.
            if let (Some(first), Some(v)) = (args.first(), argv.first()) {
                if !matches!(v, Value::Nil) {
                    self.at = call_node;
                    return Err(self.errorf(format!(
                        "error calling {name}: non-function {first} of type {}",
                        v.type_name()
                    )));
                }
            }
        }
        b.call(&argv).map_err(|m| {
            self.at = call_node;
            self.errorf(format!("error calling {name}: {m}"))
        })
    }

    /// Calls a FuncMap function; kept out of `eval_function` so the frames on the
    /// `include` recursion path stay small.
    #[inline(never)]
    #[allow(clippy::too_many_arguments)]
    fn call_user(
        &mut self,
        dot: &Value,
        iface: bool,
        name: &str,
        f: &'a Func,
        sig: Option<Signature>,
        call_node: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let argv = self.call_args(dot, iface, name, sig, args, fin)?;
        let r = match f {
            Func::Simple(f) => f(&argv),
            Func::Ctx(f) => {
                let mut call = Call {
                    layer: self.layer,
                    name: &self.tmpl.name,
                    depth: self.depth,
                };
                f(&mut call, &argv)
            }
        };
        r.map_err(|m| self.call_error(call_node, name, m))
    }

    /// The arguments of method `name` of `o` (after the receiver), checked against its declared
    /// parameters as a function's are.
    #[allow(clippy::too_many_arguments)]
    fn method_args(
        &mut self,
        dot: &Value,
        iface: bool,
        o: &Rc<dyn super::Object>,
        name: &str,
        node: &'a Arg,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Argv> {
        let sig = o.method_signature(name);
        if sig.is_some() {
            // A method's count error is reported at the method's node, as Go does.
            self.at = At::Arg(node);
        }
        self.call_args(dot, iface, name, sig, args, fin)
    }

    /// The arguments of a call of function or method `name`, then the piped value `fin`: with a
    /// signature, the count is checked before any argument is evaluated and each argument
    /// against its parameter type (Go's `evalCall`); without one, evaluated as they are.
    fn call_args(
        &mut self,
        dot: &Value,
        iface: bool,
        name: &str,
        sig: Option<Signature>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> R<Argv> {
        let mut argv = Argv::with_capacity(args.len() + 1);
        match sig {
            Some(sig) => {
                self.check_arity(name, &sig, args.len(), fin.is_some())?;
                for (i, a) in args.iter().enumerate() {
                    argv.push(self.eval_typed_arg(dot, iface, a, sig.param(i))?);
                }
                if let Some(f) = &fin {
                    // A piped value is a pipeline's result: never a nil held in a container.
                    self.check_type(f, false, sig.param(args.len()))?;
                }
            }
            None => {
                for a in args {
                    argv.push(self.eval_arg(dot, iface, a)?);
                }
            }
        }
        argv.extend(fin);
        Ok(argv)
    }

    /// Go's count check for a function with declared parameters, made before any argument is
    /// evaluated, at the function's name.
    fn check_arity(&self, name: &str, sig: &Signature, given: usize, has_final: bool) -> R<()> {
        let n = sig.params.len();
        let with_final = given + usize::from(has_final);
        if sig.variadic {
            if with_final + 1 < n {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {} got {given}",
                    n - 1
                )));
            }
        } else if with_final != n {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {n} got {with_final}"
            )));
        }
        Ok(())
    }

    /// An argument for a parameter of type `t`, as Go's `evalArg` makes it: a constant must suit
    /// the type (`expected string; found 3`), a value must be assignable (`wrong type for value;
    /// expected string; got int`); the error names the argument.
    fn eval_typed_arg(&mut self, dot: &Value, iface: bool, a: &'a Arg, t: GoType) -> R<Value> {
        self.at = At::Arg(a);
        let constant_fits = match a {
            Arg::Nil(_) => {
                if t.can_be_nil() {
                    return Ok(Value::Nil);
                }
                return Err(self.errorf(format!("cannot assign nil to {}", t.name())));
            }
            Arg::Str { .. } => matches!(t, GoType::String | GoType::Any),
            Arg::Bool(..) => matches!(t, GoType::Bool | GoType::Any),
            Arg::Number { value, .. } => matches!(
                (t, value),
                (GoType::Any, _)
                    | (
                        GoType::Int | GoType::Int64 | GoType::Other("uint32"),
                        Ok(Value::Int(_))
                    )
                    | (GoType::Float64, Ok(Value::Int(_) | Value::Float(_)))
            ),
            Arg::Field { .. } => {
                let (v, held) = self.eval_arg_iface(dot, iface, a)?;
                self.check_type(&v, held, t)?;
                return Ok(v);
            }
            _ => {
                let v = self.eval_arg(dot, iface, a)?;
                self.check_type(&v, false, t)?;
                return Ok(v);
            }
        };
        if constant_fits {
            return self.eval_arg(dot, iface, a);
        }
        let want = match t {
            GoType::String => "string",
            GoType::Int | GoType::Int64 => "integer",
            GoType::Float64 => "float",
            GoType::Bool => "bool",
            other => {
                return Err(self.errorf(format!("can't handle {a} for arg of type {}", other.name())));
            }
        };
        Err(self.errorf(format!("expected {want}; found {a}")))
    }

    /// Go's `validateType`: whether `v` may be passed for a parameter of type `t`. `held` is a
    /// nil read out of a map (an `interface{}` holding nil, which only `interface{}` takes); any
    /// other nil is Go's invalid value, which nil-able types take as their zero.
    fn check_type(&self, v: &Value, held: bool, t: GoType) -> R<()> {
        let fits = match (t, v) {
            (GoType::Any, _) => true,
            (_, Value::Nil) if held => false,
            (_, Value::Nil) if t.can_be_nil() => true,
            (_, Value::Nil) => return Err(self.errorf(format!("invalid value; expected {}", t.name()))),
            (GoType::String, Value::Str(_) | Value::BStr(_))
            | (GoType::Int, Value::Int(_))
            | (GoType::Int64, Value::Int64(_))
            | (GoType::Float64, Value::Float(_))
            | (GoType::Bool, Value::Bool(_))
            | (GoType::Map, Value::Map(_))
            | (GoType::List, Value::List(_)) => true,
            // A named map type (`chartutil.Values`) is assignable to its underlying
            // `map[string]interface {}`; an unnamed `map[string]string` is not.
            (GoType::Map, Value::Object(o)) => o.as_map().is_some() && !o.type_name().starts_with("map["),
            // A named type (`time.Time`, `uint32`, `sprig.certificate`) takes only itself: Go's
            // assignability between distinct named types and basic kinds is identity.
            (GoType::Other(name), v) => v.type_name() == name,
            _ => false,
        };
        if fits {
            return Ok(());
        }
        let got = if matches!(v, Value::Nil) {
            "interface {}"
        } else {
            v.type_name()
        };
        Err(self.errorf(format!("wrong type for value; expected {}; got {got}", t.name())))
    }

    #[cold]
    #[inline(never)]
    fn call_error(&mut self, call_node: At<'a>, name: &str, m: String) -> Box<Error> {
        self.at = call_node;
        self.errorf(format!("error calling {name}: {m}"))
    }

    /// An argument of Go type `string` (the `printf` format): literals must be strings, values
    /// must hold strings.
    fn eval_string_arg(&mut self, dot: &Value, iface: bool, a: &'a Arg) -> R<Value> {
        self.at = At::Arg(a);
        match a {
            Arg::Str { value, .. } => Ok(value.clone()),
            Arg::Bool(..) | Arg::Number { .. } => Err(self.errorf(format!("expected string; found {a}"))),
            Arg::Nil(_) => Err(self.errorf("cannot assign nil to string".into())),
            _ => {
                let v = self.eval_arg(dot, iface, a)?;
                match v {
                    Value::Str(_) | Value::BStr(_) => Ok(v),
                    Value::Nil => Err(self.errorf("invalid value; expected string".into())),
                    v => Err(self.errorf(format!(
                        "wrong type for value; expected string; got {}",
                        v.type_name()
                    ))),
                }
            }
        }
    }
}
