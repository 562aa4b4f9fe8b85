//! Parser: turns the token stream into [`Tmpl`] trees, one for the top-level text and one per
//! `{{define}}`/`{{block}}`, with Go's grammar and Go's error texts
//! (`template: NAME:LINE: unexpected "}" in operand`).
//!
//! It also does what Go checks at parse time: functions must exist, variables must be declared
//! in an enclosing scope, `break`/`continue` must be inside `range`.

use std::{collections::HashMap, rc::Rc};

use super::{
    ast::{is_empty_tree, Arg, Branch, Cmd, FuncRef, Node, Pipe, TemplateCall, Tmpl},
    builtins::Builtin,
    exec::grow,
    lex::{lex, Item, T},
    number::{self, Lexed},
    Error, FuncMap, Source, Value,
};

/// What an item list stopped at.
enum Stop {
    End,
    Else,
}

enum Parsed {
    Node(Node),
    End,
    Else,
}

struct Parser<'s, 'f> {
    items: Vec<Item<'s>>,
    i: usize,
    hi: usize,
    funcs: &'f FuncMap,
    parse_name: Rc<str>,
    text: Source,
    vars: Vec<String>,
    range_depth: usize,
    paren_depth: usize,
    action_line: usize,
    /// Trees defined so far in this parse, in definition order.
    trees: Vec<Tmpl>,
    /// Position of each name in `trees`.
    tree_index: HashMap<String, usize>,
    /// The source holds escaped bytes that are not UTF-8 ([`super::gostr::escape_bad_bytes`]).
    escaped: bool,
}

type PResult<T> = Result<T, Box<Error>>;

/// Bytes counted for each top-level node but text in [`Tmpl::out_hint`]: a name, a label, a
/// number; a guess, as Go's own buffers make one.
const ACTION_OUT_HINT: usize = 16;

/// Nesting limit for parenthesized pipelines. Go allows 10000; our parser and executor recurse
/// on the native stack, so the limit is lower to stay far from overflow.
const MAX_PAREN_DEPTH: usize = 1000;

/// Parses `text` as template `name`; returns the top-level tree and every define/block, with
/// Go's rule that two non-empty definitions of one name in a single parse are an error.
pub(crate) fn parse(name: &str, text: Source, funcs: &FuncMap) -> Result<Vec<Rc<Tmpl>>, Error> {
    parse_source(name, text, funcs, false)
}

/// [`parse`], for a source that may hold bytes that are not UTF-8 in escaped form (`escaped`;
/// see [`super::gostr::escape_bad_bytes`]).
pub(crate) fn parse_source(
    name: &str,
    text: Source,
    funcs: &FuncMap,
    escaped: bool,
) -> Result<Vec<Rc<Tmpl>>, Error> {
    let items = lex(
        &text,
        funcs.get("break").is_none(),
        funcs.get("continue").is_none(),
    );
    let mut p = Parser {
        items,
        i: 0,
        hi: 0,
        funcs,
        parse_name: Rc::from(name),
        text: text.clone(),
        vars: vec!["$".to_string()],
        range_depth: 0,
        paren_depth: 0,
        action_line: 0,
        trees: Vec::new(),
        tree_index: HashMap::new(),
        escaped,
    };
    let root = p.parse_top().map_err(|e| *e)?;
    p.add(name.to_string(), root).map_err(|e| *e)?;
    Ok(p.trees.into_iter().map(Rc::new).collect())
}

impl<'s> Parser<'s, '_> {
    fn next(&mut self) -> Item<'s> {
        let idx = self.i.min(self.items.len() - 1);
        self.i += 1;
        self.hi = self.hi.max(idx);
        self.items[idx].clone()
    }

    fn backup(&mut self) {
        self.i -= 1;
    }

    fn peek(&mut self) -> Item<'s> {
        let it = self.next();
        self.backup();
        it
    }

    fn next_non_space(&mut self) -> Item<'s> {
        loop {
            let it = self.next();
            if it.typ != T::Space {
                return it;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item<'s> {
        let it = self.next_non_space();
        self.backup();
        it
    }

    fn errorf(&self, mut msg: String) -> Box<Error> {
        if self.escaped {
            // Go's lexer reads a bad byte as U+FFFD, and so names it.
            for b in 0x80..=0xFFu8 {
                let c = super::gostr::escape_bad_bytes(&[b]);
                let code = format!("U+{:04X}", c.chars().next().map_or(0, u32::from));
                if msg.contains(&c) {
                    msg = msg.replace(&code, "U+FFFD");
                }
            }
            msg = super::gostr::bad_bytes_as_replacement(&msg);
        }
        let line = self.items[self.hi.min(self.items.len() - 1)].line;
        Box::new(Error::parse(&self.parse_name, line, msg))
    }

    fn unexpected(&self, it: &Item<'_>, context: &str) -> Box<Error> {
        if it.typ == T::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != it.line {
                extra = format!(" in action started at {}:{}", self.parse_name, self.action_line);
                if it.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{it}{extra}"));
        }
        self.errorf(format!("unexpected {it} in {context}"))
    }

    fn expect(&mut self, typ: T, context: &str) -> PResult<Item<'s>> {
        let it = self.next_non_space();
        if it.typ != typ {
            return Err(self.unexpected(&it, context));
        }
        Ok(it)
    }

    /// Adds a finished tree: an empty tree never replaces a non-empty one, two non-empty
    /// definitions of one name are an error.
    fn add(&mut self, name: String, root: Vec<Node>) -> PResult<()> {
        // By an index, not a scan of the trees: a file of 100,000 defines was quadratic.
        if let Some(&idx) = self.tree_index.get(&name) {
            if is_empty_tree(&self.text, &self.trees[idx].root) {
                self.trees[idx].root = root;
                return Ok(());
            }
            if !is_empty_tree(&self.text, &root) {
                return Err(self.errorf(format!(
                    "template: multiple definition of template {}",
                    super::gofmt::quote(&name)
                )));
            }
            return Ok(());
        }
        self.tree_index.insert(name.clone(), self.trees.len());
        let out_hint = root
            .iter()
            .map(|n| match n {
                Node::Text(r) => r.len(),
                _ => ACTION_OUT_HINT,
            })
            .sum();
        self.trees.push(Tmpl {
            out_hint,
            name,
            parse_name: self.parse_name.clone(),
            text: self.text.clone(),
            root,
            escaped: self.escaped,
        });
        Ok(())
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        loop {
            let it = self.peek();
            if it.typ == T::Eof {
                break;
            }
            if it.typ == T::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().typ == T::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.push(n),
                Parsed::End => return Err(self.errorf("unexpected {{end}}".into())),
                Parsed::Else => return Err(self.errorf("unexpected {{else}}".into())),
            }
        }
        Ok(root)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let it = self.next_non_space();
        if it.typ != T::Str && it.typ != T::RawString {
            return Err(self.unexpected(&it, CONTEXT));
        }
        let name = self.unquote(&it.val)?;
        self.expect(T::RightDelim, CONTEXT)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, stop) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        if let Stop::Else = stop {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.add(name, list)
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, Stop)> {
        let mut list = Vec::new();
        while self.peek_non_space().typ != T::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.push(n),
                Parsed::End => return Ok((list, Stop::End)),
                Parsed::Else => return Ok((list, Stop::Else)),
            }
        }
        Err(self.errorf("unexpected EOF".into()))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let it = self.next_non_space();
        match it.typ {
            T::Text => Ok(Parsed::Node(Node::Text(it.pos..it.pos + it.val.len()))),
            T::LeftDelim => {
                self.action_line = it.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&it, "input")),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let it = self.next_non_space();
        match it.typ {
            T::Block => return grow(|| self.block_control()).map(Parsed::Node),
            T::Break | T::Continue => {
                let what = if it.typ == T::Break { "break" } else { "continue" };
                let t = self.next_non_space();
                if t.typ != T::RightDelim {
                    return Err(self.unexpected(&t, &["{{", what, "}}"].concat()));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(["{{", what, "}} outside {{range}}"].concat()));
                }
                return Ok(Parsed::Node(if it.typ == T::Break {
                    Node::Break
                } else {
                    Node::Continue
                }));
            }
            T::Else => {
                let p = self.peek_non_space();
                if p.typ == T::If || p.typ == T::With {
                    return Ok(Parsed::Else);
                }
                self.expect(T::RightDelim, "else")?;
                return Ok(Parsed::Else);
            }
            T::End => {
                self.expect(T::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            // Control structures nest by recursion; Go's parser does too, on a stack that grows to
            // 1 GB, so thousands of nested `{{if}}`s parse there: ours grows onto the heap.
            T::If => return grow(|| self.control("if")).map(|b| Parsed::Node(Node::If(b))),
            T::Range => return grow(|| self.control("range")).map(|b| Parsed::Node(Node::Range(b))),
            T::With => return grow(|| self.control("with")).map(|b| Parsed::Node(Node::With(b))),
            T::Template => return self.template_control().map(Parsed::Node),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", T::RightDelim)?;
        Ok(Parsed::Node(Node::Action(pipe)))
    }

    fn control(&mut self, context: &str) -> PResult<Box<Branch>> {
        let nvars = self.vars.len();
        let pipe = self.pipeline(context, T::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, stop) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Stop::Else = stop {
            let p = self.peek();
            if context == "if" && p.typ == T::If {
                self.next();
                // `{{else if}}` chains nest too (Go parses one as an `if` inside the else list).
                let b = grow(|| self.control("if"))?;
                else_list = Some(vec![Node::If(b)]);
            } else if context == "with" && p.typ == T::With {
                self.next();
                let b = grow(|| self.control("with"))?;
                else_list = Some(vec![Node::With(b)]);
            } else {
                let (l, stop) = self.item_list()?;
                if let Stop::Else = stop {
                    return Err(self.errorf("expected end; found {{else}}".into()));
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(nvars);
        Ok(Box::new(Branch {
            pipe,
            list,
            else_list,
        }))
    }

    fn template_name(&mut self, it: &Item<'_>, context: &str) -> PResult<String> {
        match it.typ {
            // Go's name is the string's bytes: a bad byte reads as U+FFFD wherever the name is
            // printed or looked up.
            T::Str | T::RawString if self.escaped => {
                Ok(super::gostr::bad_bytes_as_replacement(&self.unquote(&it.val)?))
            }
            T::Str | T::RawString => self.unquote(&it.val),
            _ => Err(self.unexpected(it, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let it = self.next_non_space();
        let name = self.template_name(&it, CONTEXT)?;
        let mut pipe = None;
        if self.next_non_space().typ != T::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(CONTEXT, T::RightDelim)?);
        }
        Ok(Node::Template(Box::new(TemplateCall {
            pos: it.pos,
            name,
            pipe,
        })))
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let it = self.next_non_space();
        let name = self.template_name(&it, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, T::RightDelim)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, stop) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_depth;
        if let Stop::Else = stop {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.add(name.clone(), list)?;
        Ok(Node::Template(Box::new(TemplateCall {
            pos: it.pos,
            name,
            pipe: Some(pipe),
        })))
    }

    fn pipeline(&mut self, context: &str, end: T) -> PResult<Pipe> {
        let first = self.peek_non_space();
        let mut pipe = Pipe {
            pos: first.pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        loop {
            let v = self.peek_non_space();
            if v.typ != T::Variable {
                break;
            }
            let save = self.i;
            self.next();
            let next = self.peek_non_space();
            match next.typ {
                T::Assign | T::Declare => {
                    pipe.is_assign = next.typ == T::Assign;
                    self.next_non_space();
                    pipe.decl.push(v.val.to_string());
                    self.vars.push(v.val.to_string());
                    break;
                }
                T::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(v.val.to_string());
                    self.vars.push(v.val.to_string());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().typ {
                            T::Variable | T::RightDelim | T::RightParen => continue,
                            _ => return Err(self.errorf("range can only initialize variables".into())),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    self.i = save;
                    break;
                }
            }
        }
        loop {
            let it = self.next_non_space();
            match it.typ {
                t if t == end => {
                    if pipe.cmds.is_empty() {
                        return Err(self.errorf(format!("missing value for {context}")));
                    }
                    for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
                        if matches!(
                            c.args[0],
                            Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number { .. } | Arg::Str { .. }
                        ) {
                            return Err(
                                self.errorf(format!("non executable command in pipeline stage {}", i + 1))
                            );
                        }
                    }
                    return Ok(pipe);
                }
                T::Bool
                | T::CharConst
                | T::Complex
                | T::Dot
                | T::Field
                | T::Identifier
                | T::Number
                | T::Nil
                | T::RawString
                | T::Str
                | T::Variable
                | T::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&it, context)),
            }
        }
    }

    fn command(&mut self) -> PResult<Cmd> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                args.push(op);
            }
            let it = self.next();
            match it.typ {
                T::Space => continue,
                T::RightDelim | T::RightParen => self.backup(),
                T::Pipe => {}
                _ => return Err(self.unexpected(&it, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.errorf("empty command".into()));
        }
        Ok(Cmd { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else { return Ok(None) };
        let p = self.peek();
        if p.typ != T::Field {
            return Ok(Some(node));
        }
        let pos = p.pos;
        let mut fields = Vec::new();
        while self.peek().typ == T::Field {
            let f = self.next();
            fields.push(f.val[1..].to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut idents, .. } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Var { name, .. } => Arg::Var { pos, name, fields },
            Arg::Bool(..) | Arg::Str { .. } | Arg::Number { .. } | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(self.errorf(format!(
                    "unexpected . after term {}",
                    super::gofmt::quote(&node.to_string())
                )));
            }
            other => Arg::Chain {
                pos,
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let it = self.next_non_space();
        Ok(Some(match it.typ {
            T::Identifier => {
                let name = it.val.to_string();
                let func = match self.funcs.get(&name) {
                    Some(f) => FuncRef::User(f.clone(), self.funcs.signature(&name)),
                    None => match Builtin::from_name(&name) {
                        Some(b) => FuncRef::Builtin(b),
                        None => {
                            return Err(
                                self.errorf(format!("function {} not defined", super::gofmt::quote(&name)))
                            )
                        }
                    },
                };
                Arg::Ident {
                    pos: it.pos,
                    name,
                    func,
                }
            }
            T::Dot => Arg::Dot(it.pos),
            T::Nil => Arg::Nil(it.pos),
            T::Variable => {
                let name = it.val.to_string();
                if !self.vars.contains(&name) {
                    return Err(self.errorf(format!("undefined variable {}", super::gofmt::quote(&name))));
                }
                Arg::Var {
                    pos: it.pos,
                    name,
                    fields: Vec::new(),
                }
            }
            T::Field => Arg::Field {
                pos: it.pos,
                idents: vec![it.val[1..].to_string()],
            },
            T::Bool => Arg::Bool(it.pos, it.val == "true"),
            T::CharConst | T::Number | T::Complex => {
                let value = self.number(&it)?;
                Arg::Number {
                    pos: it.pos,
                    text: it.val.to_string(),
                    value,
                }
            }
            T::LeftParen => {
                if self.paren_depth >= MAX_PAREN_DEPTH {
                    return Err(self.errorf("max expression depth exceeded".into()));
                }
                self.paren_depth += 1;
                let p = self.pipeline("parenthesized pipeline", T::RightParen);
                self.paren_depth -= 1;
                let p = p?;
                Arg::Pipe(Box::new(p))
            }
            T::Str | T::RawString => {
                let bytes = super::gofmt::unquote_bytes(&it.val)
                    .ok_or_else(|| self.errorf("invalid syntax".into()))?;
                // Go strings are bytes: `"\xff"` is one byte, and a raw string keeps the bad
                // bytes of an escaped source while a quoted one reads each as U+FFFD.
                let bytes = if self.escaped {
                    super::gostr::unescape_literal(&bytes, it.typ == T::RawString)
                } else {
                    bytes
                };
                Arg::Str {
                    pos: it.pos,
                    quoted: it.val.to_string(),
                    value: Value::from_go_bytes(bytes),
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn unquote(&self, q: &str) -> PResult<String> {
        super::gofmt::unquote(q).ok_or_else(|| self.errorf("invalid syntax".into()))
    }

    /// A number literal read with Go's `newNumber` (a parse error if Go rejects it) and typed
    /// with its `idealConstant`; the inner `Err` is an exec-time error (`overflows int`).
    fn number(&self, it: &Item<'_>) -> PResult<Result<Value, String>> {
        let lexed = match it.typ {
            T::CharConst => Lexed::Char,
            T::Complex => Lexed::Complex,
            _ => Lexed::Number,
        };
        let n = number::parse(&it.val, lexed).map_err(|m| self.errorf(m))?;
        Ok(n.value(&it.val))
    }
}
