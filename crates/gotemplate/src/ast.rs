//! Parse tree of one template, shaped like Go's `text/template/parse` nodes.
//!
//! Function names are resolved at parse time ([`FuncRef`]) so execution never looks names up;
//! number literals are converted once. Every node keeps its byte offset because exec errors
//! print `NAME:LINE:COL` computed from it, and `Display` renders nodes the way Go's
//! `Node.String()` does, for the `at <...>` part of error messages.

use std::fmt;

use super::{builtins::Builtin, Func, Value};

/// A parsed template: its name, the top-level name it was parsed under (for error locations),
/// the whole source text (to turn offsets into lines) and the node list.
pub(crate) struct Tmpl {
    pub name: String,
    pub parse_name: std::rc::Rc<str>,
    pub text: super::Source,
    pub root: Vec<Node>,
    /// The source was bytes that are not UTF-8, held escaped ([`super::gostr::escape_bad_bytes`]):
    /// text nodes are unescaped when written.
    pub escaped: bool,
    /// A first capacity for the output of one execution: the text between actions at the top
    /// level plus a little per other node. `include` runs a helper into a fresh buffer each
    /// time, and growing it from empty (8, 16, 32, … bytes) cost a copy at every step.
    pub out_hint: usize,
}

pub(crate) enum Node {
    /// Text between actions, as a byte range of the tree's source ([`Tmpl::text`]): large
    /// templates (CRDs) are mostly text, and slicing the shared source avoids copying it all.
    Text(std::ops::Range<usize>),
    Action(Pipe),
    If(Box<Branch>),
    With(Box<Branch>),
    Range(Box<Branch>),
    Template(Box<TemplateCall>),
    Break,
    Continue,
}

/// `if`/`with`/`range`: pipeline, body and optional else body.
pub(crate) struct Branch {
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// Dropped without recursion: a template may nest control structures tens of thousands deep
/// (Go parses them), and the derived drop would take one native stack frame per level, after the
/// parser and executor took care to grow theirs. Nested bodies are moved onto a heap work list
/// and emptied there, so each branch is dropped with no children left.
impl Drop for Branch {
    fn drop(&mut self) {
        let mut work: Vec<Vec<Node>> = vec![std::mem::take(&mut self.list)];
        work.extend(self.else_list.take());
        while let Some(list) = work.pop() {
            for node in list {
                if let Node::If(mut b) | Node::With(mut b) | Node::Range(mut b) = node {
                    work.push(std::mem::take(&mut b.list));
                    work.extend(b.else_list.take());
                }
            }
        }
    }
}

pub(crate) struct TemplateCall {
    pub pos: usize,
    pub name: String,
    pub pipe: Option<Pipe>,
}

pub(crate) struct Pipe {
    pub pos: usize,
    pub decl: Vec<String>,
    pub is_assign: bool,
    pub cmds: Vec<Cmd>,
}

pub(crate) struct Cmd {
    pub pos: usize,
    pub args: Vec<Arg>,
}

pub(crate) enum FuncRef {
    Builtin(Builtin),
    /// A FuncMap function, with its Go parameters when declared.
    User(Func, Option<super::Signature>),
}

pub(crate) enum Arg {
    /// `.A.B`
    Field {
        pos: usize,
        idents: Vec<String>,
    },
    /// `$x.A.B` (`fields` empty for a bare `$x`)
    Var {
        pos: usize,
        name: String,
        fields: Vec<String>,
    },
    /// `(pipe).A.B` or another term followed by fields
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    Ident {
        pos: usize,
        name: String,
        func: FuncRef,
    },
    Dot(usize),
    Nil(usize),
    Bool(usize, bool),
    Number {
        pos: usize,
        text: String,
        value: Result<Value, String>,
    },
    Str {
        pos: usize,
        quoted: String,
        value: Value,
    },
    Pipe(Box<Pipe>),
}

impl Arg {
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Var { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::Str { pos, .. } => *pos,
            Arg::Dot(p) | Arg::Nil(p) | Arg::Bool(p, _) => *p,
            Arg::Pipe(p) => p.pos,
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => {
                for i in idents {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Var { name, fields, .. } => {
                f.write_str(name)?;
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Chain { node, fields, .. } => {
                if let Arg::Pipe(p) = &**node {
                    write!(f, "({p})")?;
                } else {
                    write!(f, "{node}")?;
                }
                for i in fields {
                    write!(f, ".{i}")?;
                }
                Ok(())
            }
            Arg::Ident { name, .. } => f.write_str(name),
            Arg::Dot(_) => f.write_str("."),
            Arg::Nil(_) => f.write_str("nil"),
            Arg::Bool(_, b) => write!(f, "{b}"),
            Arg::Number { text, .. } => f.write_str(text),
            Arg::Str { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(p) => write!(f, "{p}"),
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if let Arg::Pipe(p) = a {
                write!(f, "({p})")?;
            } else {
                write!(f, "{a}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, c) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for TemplateCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = super::gofmt::quote(&self.name);
        match &self.pipe {
            Some(p) => write!(f, "{{{{template {name} {p}}}}}"),
            None => write!(f, "{{{{template {name}}}}}"),
        }
    }
}

/// Go's `parse.IsEmptyTree`: only whitespace text (and comments, which we drop) — such a
/// template never replaces an existing definition.
pub(crate) fn is_empty_tree(text: &str, nodes: &[Node]) -> bool {
    nodes.iter().all(|n| {
        matches!(n, Node::Text(r)
            if text[r.clone()].trim_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']).is_empty())
    })
}
