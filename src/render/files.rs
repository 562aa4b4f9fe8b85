//! `.Files`: a chart's non-template files, with Helm's accessors (`Get`, `GetBytes`, `Glob`, `Lines`,
//! `AsConfig`, `AsSecrets`).
//!
//! In Helm `files` is a Go map type (`map[string][]byte`) with methods, so templates may also `range`
//! over it or over the result of `Glob`; [`Object::to_plain`] gives that map.

use std::{borrow::Cow, collections::BTreeMap, rc::Rc};

use base64::Engine as _;

use crate::chart::Body;
use gotemplate::{GoType, Object, Signature, Value};

/// A set of chart files by path.
///
/// Bodies the loader deferred are read when a template first asks for them. Where a Go method
/// returns an error (`Get`, `GetBytes`, `Lines`) a failed read is that error; where nothing can
/// fail (`AsConfig`, a key lookup, printing) the body reads as empty and the renderer reports
/// the failure once it is done ([`crate::render::Error::ReadFile`]).
#[derive(Debug, Clone, Default)]
pub struct Files {
    files: Rc<BTreeMap<String, Body>>,
}

impl Files {
    /// Files from (path, content) pairs; bodies are shared, not copied.
    pub fn new<'a, D: Into<Body>>(from: impl IntoIterator<Item = (&'a str, D)>) -> Self {
        Files {
            files: Rc::new(from.into_iter().map(|(n, d)| (n.to_string(), d.into())).collect()),
        }
    }

    /// The `.Files` value.
    pub fn into_value(self) -> Value {
        Value::Object(Rc::new(self))
    }

    /// The body of `name`, empty when there is no such file (as Helm's `Get` and `GetBytes`).
    fn get_bytes(&self, name: &str) -> Result<&[u8], String> {
        match self.files.get(name) {
            None => Ok(&[]),
            Some(body) => body.bytes().map_err(|e| e.message),
        }
    }

    fn glob(&self, pattern: &str) -> Files {
        // Helm compiles `**` instead of a pattern gobwas refuses, so a bad pattern matches all.
        let parsed =
            Glob::parse(pattern).unwrap_or_else(|| Glob(vec![Inst::Star { deep: true }, Inst::Match]));
        let files = self
            .files
            .iter()
            .filter(|(n, _)| parsed.matches(n))
            .map(|(n, d)| (n.clone(), d.clone()))
            .collect();
        Files {
            files: Rc::new(files),
        }
    }

    fn as_map(&self, encode: impl Fn(&[u8]) -> Cow<'_, str>) -> String {
        // Helm keys by base name, so later files with the same base name win (map order is random in
        // Go; here the sorted path order decides). The bodies are emitted where they lie: a
        // dashboard or rules directory is most of a chart's `.Files`.
        let mut m = BTreeMap::new();
        for (k, v) in self.files.iter() {
            let base = k.rsplit('/').next().unwrap_or(k);
            m.insert(base, encode(v.bytes_or_empty()));
        }
        if m.is_empty() {
            return "{}".to_string();
        }
        crate::yaml::emit::str_map_to_yaml(m.iter().map(|(k, v)| (*k, v.as_ref())))
    }

    /// Helm's `Lines`: a Go `[]string` (as `typeOf` prints it).
    fn lines(&self, path: &str) -> Result<Value, String> {
        let Some(body) = self.files.get(path) else {
            return Ok(Value::typed_list("[]string", vec![]));
        };
        let data = body.bytes().map_err(|e| e.message)?;
        if data.is_empty() {
            return Ok(Value::typed_list("[]string", vec![Value::str("")]));
        }
        // Go splits the string's bytes: a file that is not UTF-8 keeps its bytes line by line.
        let s = data.strip_suffix(b"\n").unwrap_or(data);
        Ok(Value::typed_list(
            "[]string",
            s.split(|&b| b == b'\n').map(Value::from_go_slice).collect(),
        ))
    }
}

impl Object for Files {
    fn type_name(&self) -> &str {
        "engine.files"
    }
    fn kind_name(&self) -> &str {
        "map"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "AsConfig" => Some(Value::str(
                // `toYaml` marshals through encoding/json, which writes U+FFFD for each byte
                // that is not UTF-8.
                self.as_map(|d| match std::str::from_utf8(d) {
                    Ok(text) => Cow::Borrowed(text),
                    Err(_) => Cow::Owned(Value::go_lossy(d)),
                }),
            )),
            "AsSecrets" => {
                Some(Value::str(self.as_map(|d| {
                    Cow::Owned(base64::engine::general_purpose::STANDARD.encode(d))
                })))
            }
            // A map type: other names are key lookups.
            _ => self.map_index(name),
        }
    }
    fn go_len(&self) -> Option<usize> {
        Some(self.files.len())
    }
    fn map_index(&self, key: &str) -> Option<Value> {
        // A missing key is the element type's zero value, an empty `[]byte` (`quote` prints
        // `""` for it, where it skips a nil).
        Some(
            self.files
                .get(key)
                .map_or_else(|| Value::Bytes(Rc::from(&[][..])), bytes_value),
        )
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let arg = || match args {
            [Value::Str(s)] => Ok(s.to_string()),
            [other] => Err(format!(
                "wrong type for value; expected string; got {}",
                other.type_name()
            )),
            _ => Err(format!(
                "wrong number of args for {name}: want 1 got {}",
                args.len()
            )),
        };
        Some(match name {
            // `string(bytes)`: a binary file keeps its bytes (`.Files.Get "x" | b64enc`).
            "Get" => arg().and_then(|p| Ok(Value::from_go_slice(self.get_bytes(&p)?))),
            "GetBytes" => arg().and_then(|p| Ok(Value::Bytes(Rc::from(self.get_bytes(&p)?)))),
            "Glob" => arg().map(|p| self.glob(&p).into_value()),
            "Lines" => arg().and_then(|p| self.lines(&p)),
            "AsConfig" | "AsSecrets" if args.is_empty() => return self.field(name).map(Ok),
            _ => return None,
        })
    }
    fn method_signature(&self, name: &str) -> Option<Signature> {
        const ONE_STRING: &[GoType] = &[GoType::String];
        match name {
            "Get" | "GetBytes" | "Glob" | "Lines" => Some(Signature {
                params: ONE_STRING,
                variadic: false,
            }),
            "AsConfig" | "AsSecrets" => Some(Signature {
                params: &[],
                variadic: false,
            }),
            _ => None,
        }
    }
    fn go_string(&self) -> String {
        let inner: Vec<String> = self
            .files
            .iter()
            .map(|(k, v)| format!("{k}:{}", gotemplate::gofmt::format_v(&bytes_value(v))))
            .collect();
        format!("map[{}]", inner.join(" "))
    }
    fn to_plain(&self) -> Option<Value> {
        Some(Value::map_from(
            self.files
                .iter()
                .map(|(k, v)| (k.clone(), bytes_value(v)))
                .collect(),
        ))
    }
}

/// A body as the Go `[]byte` a template sees (a copy: values hold `Rc<[u8]>`).
fn bytes_value(body: &Body) -> Value {
    Value::Bytes(Rc::from(body.bytes_or_empty()))
}

/// A glob with `/` as separator, as `gobwas/glob` compiles it for `.Files.Glob`: `*` and `?` stay
/// within a path segment, `**` crosses segments, `[a-z]`/`[!abc]` classes, `{a,b}` alternatives.
///
/// The parse follows gobwas's lexer rather than a textbook glob grammar, because malformed
/// patterns are where the two differ and Helm's behaviour is gobwas's:
/// - a `\` at the end of the pattern escapes nothing and is dropped;
/// - an unclosed `{` is closed at the end of the pattern (`{a,b` is `{a,b}`);
/// - a class is either one range (`[a-c]`) or a list (`[abc]`), never both; an empty list, an
///   inverted range or an unclosed `[` is an error; classes match `/` too;
/// - `}` and `,` outside `{}` are plain characters.
///
/// A pattern gobwas refuses makes Helm fall back to `**` (every file), which [`Glob::parse`]'s
/// callers reproduce.
///
/// The pattern compiles to a small automaton run over all its states at once (one pass over the
/// name, cost name length × pattern length). Trying each way to split the name instead took
/// minutes on `*a*a*a*a*a*a*a*a*a*a*a*a*b`, and seconds on a thousand nested braces; the parse
/// keeps its own stack, so no nesting depth overflows ours.
#[derive(Debug, Clone)]
struct Glob(Vec<Inst>);

/// One state of the automaton; a state that consumes a character moves on to the next one.
#[derive(Debug, Clone)]
enum Inst {
    Lit(char),
    /// `?`: any character but `/`.
    One,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `*` (`deep: false`, not across `/`) or `**`: stays here on a character, or moves on free.
    Star {
        deep: bool,
    },
    /// The start of `{...}`: moves on free to each alternative's first state.
    Split(Vec<usize>),
    /// The end of an alternative: moves on free to the state after the `}`.
    Jump(usize),
    Match,
}

/// An open `{`: where its [`Inst::Split`] is, and the [`Inst::Jump`]s its alternatives end with.
struct Open {
    split: usize,
    ends: Vec<usize>,
}

impl Glob {
    /// The compiled pattern, or `None` where gobwas reports a syntax error.
    fn parse(pattern: &str) -> Option<Glob> {
        let c: Vec<char> = pattern.chars().collect();
        let mut prog = Vec::new();
        let mut open: Vec<Open> = Vec::new();
        let close = |prog: &mut Vec<Inst>, o: Open| {
            let after = prog.len();
            for j in o.ends {
                prog[j] = Inst::Jump(after);
            }
        };
        let mut i = 0;
        while i < c.len() {
            match c[i] {
                ',' if !open.is_empty() => {
                    let here = prog.len();
                    let o = open.last_mut().expect("checked not empty");
                    o.ends.push(here);
                    prog.push(Inst::Jump(0));
                    if let Inst::Split(to) = &mut prog[o.split] {
                        to.push(here + 1);
                    }
                    i += 1;
                }
                '}' if !open.is_empty() => {
                    let mut o = open.pop().expect("checked not empty");
                    o.ends.push(prog.len());
                    prog.push(Inst::Jump(0));
                    close(&mut prog, o);
                    i += 1;
                }
                '\\' => {
                    // A trailing `\` is dropped (gobwas's lexer ends the text there).
                    if let Some(&next) = c.get(i + 1) {
                        prog.push(Inst::Lit(next));
                    }
                    i += 2;
                }
                '*' => {
                    let deep = c.get(i + 1) == Some(&'*');
                    prog.push(Inst::Star { deep });
                    i += if deep { 2 } else { 1 };
                }
                '?' => {
                    prog.push(Inst::One);
                    i += 1;
                }
                '[' => {
                    let (inst, next) = Self::parse_class(&c, i + 1)?;
                    prog.push(inst);
                    i = next;
                }
                '{' => {
                    let split = prog.len();
                    prog.push(Inst::Split(vec![split + 1]));
                    open.push(Open {
                        split,
                        ends: Vec::new(),
                    });
                    i += 1;
                }
                ch => {
                    prog.push(Inst::Lit(ch));
                    i += 1;
                }
            }
        }
        // The end of the pattern closes every open `{`, innermost first.
        while let Some(mut o) = open.pop() {
            o.ends.push(prog.len());
            prog.push(Inst::Jump(0));
            close(&mut prog, o);
        }
        prog.push(Inst::Match);
        Some(Glob(prog))
    }

    /// A class after its `[`: `!`, then one `lo-hi` range or a list of characters (with `\`
    /// escapes), then `]`. Returns the state and the position after `]`.
    fn parse_class(c: &[char], mut i: usize) -> Option<(Inst, usize)> {
        let mut negated = false;
        if c.get(i) == Some(&'!') {
            negated = true;
            i += 1;
        }
        let first = *c.get(i)?;
        if c.get(i + 1) == Some(&'-') {
            let hi = *c.get(i + 2)?;
            if c.get(i + 3) != Some(&']') || hi < first {
                return None;
            }
            let ranges = vec![(first, hi)];
            return Some((Inst::Class { negated, ranges }, i + 4));
        }
        let mut ranges = Vec::new();
        while i < c.len() && c[i] != ']' {
            if c[i] == '\\' {
                if let Some(&next) = c.get(i + 1) {
                    ranges.push((next, next));
                }
                i += 2;
            } else {
                ranges.push((c[i], c[i]));
                i += 1;
            }
        }
        if c.get(i) != Some(&']') || ranges.is_empty() {
            return None;
        }
        Some((Inst::Class { negated, ranges }, i + 1))
    }

    /// Whether the whole of `s` matches.
    fn matches(&self, s: &str) -> bool {
        let mut now = StateSet::new(self.0.len());
        let mut next = StateSet::new(self.0.len());
        let mut stack = Vec::new();
        self.add(&mut now, 0, &mut stack);
        for c in s.chars() {
            if now.list.is_empty() {
                return false;
            }
            next.clear();
            for k in 0..now.list.len() {
                let pc = now.list[k];
                let step = match &self.0[pc] {
                    Inst::Lit(l) => (*l == c).then_some(pc + 1),
                    Inst::One => (c != '/').then_some(pc + 1),
                    // gobwas's range and list matchers do not know the separator: `[!a]` matches `/`.
                    Inst::Class { negated, ranges } => {
                        let inside = ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
                        (inside != *negated).then_some(pc + 1)
                    }
                    Inst::Star { deep } => (*deep || c != '/').then_some(pc),
                    Inst::Split(_) | Inst::Jump(_) | Inst::Match => None,
                };
                if let Some(to) = step {
                    self.add(&mut next, to, &mut stack);
                }
            }
            std::mem::swap(&mut now, &mut next);
        }
        now.list.iter().any(|&pc| matches!(self.0[pc], Inst::Match))
    }

    /// Adds `pc` and every state reachable from it without consuming a character.
    fn add(&self, set: &mut StateSet, pc: usize, stack: &mut Vec<usize>) {
        stack.push(pc);
        while let Some(pc) = stack.pop() {
            if !set.insert(pc) {
                continue;
            }
            match &self.0[pc] {
                Inst::Split(to) => stack.extend(to.iter().rev()),
                Inst::Jump(to) => stack.push(*to),
                Inst::Star { .. } => stack.push(pc + 1),
                _ => {}
            }
        }
    }
}

/// A set of automaton states: membership by index, listed in insertion order.
struct StateSet {
    seen: Vec<bool>,
    list: Vec<usize>,
}

impl StateSet {
    fn new(n: usize) -> StateSet {
        StateSet {
            seen: vec![false; n],
            list: Vec::new(),
        }
    }

    fn insert(&mut self, pc: usize) -> bool {
        !std::mem::replace(&mut self.seen[pc], true) && {
            self.list.push(pc);
            true
        }
    }

    fn clear(&mut self) {
        for &pc in &self.list {
            self.seen[pc] = false;
        }
        self.list.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_gobwas_with_slash_separator() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("star stays in segment", "files/*", "files/a.txt", true),
            ("star does not cross slash", "files/*", "files/sub/a.txt", false),
            ("double star crosses", "files/**", "files/sub/a.txt", true),
            ("double star mid", "**.yaml", "a/b/c.yaml", true),
            ("question", "f?le", "file", true),
            ("class", "[a-c]x", "bx", true),
            ("negated class", "[!a-c]x", "bx", false),
            ("alternatives", "conf/{a,b}.ini", "conf/b.ini", true),
            ("alternatives miss", "conf/{a,b}.ini", "conf/c.ini", false),
            ("literal", "config.toml", "config.toml", true),
            // Malformed patterns, each checked against helm v3.17.2's `.Files.Glob`.
            ("trailing backslash dropped", "files/*\\", "files/a.txt", true),
            ("trailing backslash not literal", "files/x\\", "files/x\\", false),
            (
                "unclosed brace closed at end",
                "files/{a.txt,b.ini",
                "files/b.ini",
                true,
            ),
            (
                "nested unclosed braces",
                "files/{a.txt,{b.ini",
                "files/b.ini",
                true,
            ),
            ("unclosed brace is not literal", "files/{a", "files/{a", false),
            ("escaped close brace", "files/c{e,x\\}", "files/ce", true),
            ("brace outside alternatives", "files/c}", "files/c}", true),
            ("comma outside alternatives", "a,b", "a,b", true),
            ("class matches separator", "files[!a]a.txt", "files/a.txt", true),
            (
                "class range matches separator",
                "files[.-0]a.txt",
                "files/a.txt",
                true,
            ),
            ("caret is not negation", "files/[^a].txt", "files/a.txt", true),
            ("escaped close bracket", "c[\\]]", "c]", true),
            ("dash first is a list", "c[-a]", "c-", true),
            ("bang listed after negation", "c[!!]", "c!", false),
            ("empty alternative", "a{,b}c", "ac", true),
            ("nested alternatives", "{a,{b,c}d}e", "cde", true),
            ("nested alternatives miss", "{a,{b,c}d}e", "ce", false),
            ("star inside alternative", "f/{x,*.txt}", "f/a.txt", true),
            (
                "star inside alternative keeps segment",
                "f/{x,*.txt}",
                "f/a/b.txt",
                false,
            ),
            ("deep star inside alternative", "{**.txt,x}", "f/a/b.txt", true),
            ("star then literal backtracks", "*ab", "aab", true),
            // Patterns that made a matcher trying every split take minutes or seconds.
            (
                "many stars miss",
                "*a*a*a*a*a*a*a*a*a*a*a*a*b",
                &"a".repeat(60),
                false,
            ),
            (
                "many stars hit",
                "*a*a*a*a*a*a*a*a*a*a*a*a*b",
                &format!("{}b", "a".repeat(60)),
                true,
            ),
            (
                "many deep stars miss",
                "**a**a**a**a**a**a**a**a**a**a**b",
                &format!("{}c", "a/".repeat(30)),
                false,
            ),
            (
                "nested braces",
                &format!("{}x{}", "{".repeat(1000), "}".repeat(1000)),
                "x",
                true,
            ),
            (
                "nested braces unclosed",
                &format!("{}x", "{a,".repeat(1000)),
                "x",
                true,
            ),
            (
                "nested braces miss",
                &format!("{}x", "{a,".repeat(1000)),
                "ax",
                false,
            ),
        ];
        for &(name, pat, input, want) in cases {
            let g = Glob::parse(pat).expect(name);
            assert_eq!(g.matches(input), want, "{name}: {pat} vs {input}");
        }
    }

    #[test]
    fn patterns_gobwas_refuses() {
        // Helm falls back to `**` for these (checked against helm v3.17.2).
        let cases = [
            ("unclosed class", "files/[x"),
            ("empty class", "files/[]"),
            ("empty negated class", "c[!]"),
            ("close bracket first", "c[]]"),
            ("inverted range", "files/[z-a].txt"),
            ("range then more", "c[a-cx]"),
            ("two ranges", "c[a-c-e]"),
            ("range to end", "c[a-]"),
            ("escaped dash is a range", "c[\\-]"),
            ("backslash in class at end", "files/[\\"),
        ];
        for (name, pat) in cases {
            assert!(Glob::parse(pat).is_none(), "{name}: {pat} parsed");
        }
    }

    #[test]
    fn lines_drops_one_trailing_newline() {
        let f = Files::new([("a.txt", &b"x\ny\n"[..])]);
        assert_eq!(
            items(f.lines("a.txt").unwrap()),
            Some(vec![Value::from("x"), Value::from("y")])
        );
        assert_eq!(items(f.lines("missing").unwrap()), Some(vec![]));
        assert_eq!(f.lines("a.txt").unwrap().type_name(), "[]string");
    }

    /// The items of a typed list (`Lines`' `[]string`).
    pub(super) fn items(v: Value) -> Option<Vec<Value>> {
        match v {
            Value::Object(o) => o.as_list().map(|l| l.to_vec()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod byte_tests {
    use super::*;

    /// Helm's `.Files.Get` is `string(bytes)`: a binary file keeps its bytes, so
    /// `.Files.Get "x" | b64enc` gives the file back (helm v3.17.2: `//4AYcM=` for these bytes),
    /// and `Lines` splits bytes; `AsConfig` goes through encoding/json, one U+FFFD per bad byte
    /// (helm v3.17.2 printed this `AsConfig` for these files).
    #[test]
    fn binary_files_keep_their_bytes() {
        let bin = &b"\xff\xfe\x00a\xc3"[..];
        let f = Files::new([("files/bin.dat", bin), ("files/two.dat", &b"\xff\n\xc3\n"[..])]);
        let get = f
            .method("Get", &[Value::from("files/bin.dat")])
            .expect("Get")
            .expect("ok");
        assert_eq!(get.go_str_bytes(), Some(bin), "Get");
        assert_eq!(
            super::tests::items(f.lines("files/two.dat").unwrap()),
            Some(vec![
                Value::from_go_bytes(vec![0xff]),
                Value::from_go_bytes(vec![0xc3])
            ]),
            "Lines"
        );
        let config = f.field("AsConfig").expect("AsConfig");
        assert_eq!(
            config.as_str(),
            Some("bin.dat: \"\u{fffd}\u{fffd}\\0a\u{fffd}\"\ntwo.dat: |\n  \u{fffd}\n  \u{fffd}"),
            "AsConfig"
        );
    }

    /// Bodies the loader deferred are read when a template asks; a read that fails (here a
    /// directory, which opens but does not read, as a disk error would) is the template's error
    /// where Helm's function returns one, and the render's error where nothing can fail.
    #[test]
    fn deferred_bodies_are_read_when_asked_and_failed_reads_fail_the_render() {
        use crate::{
            chart::{Chart, File, Template},
            render::{render, Error, NoCluster, RenderOptions},
        };
        let dir = std::env::temp_dir().join(format!("kc-files-deferred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ok.txt"), "ok\n").unwrap();
        let open = |p: &std::path::Path| std::fs::File::open(p).unwrap();
        let ok = Body::deferred("files/ok.txt".into(), open(&dir.join("ok.txt")), 3);
        let broken = Body::deferred("files/broken.txt".into(), open(&dir), 10);
        let files = Files::new([("files/ok.txt", ok.clone()), ("files/broken.txt", broken.clone())]);
        let get = |name: &str| files.method("Get", &[Value::from(name)]).expect("Get");
        assert_eq!(
            get("files/ok.txt").map(|v| v.as_str().map(String::from)),
            Ok(Some("ok\n".into()))
        );
        assert!(!ok.is_deferred(), "read once asked for");
        let failed = get("files/broken.txt").unwrap_err();
        assert!(failed.starts_with("error reading files/broken.txt: "), "{failed}");

        let with_template = |text: &str| {
            let mut chart = Chart::empty();
            chart.metadata.name = "c".into();
            chart.metadata.version = "1.0.0".into();
            chart.templates.push(Template {
                name: "templates/cm.yaml".into(),
                text: Rc::new(text.to_string()),
            });
            chart.files.push(File {
                name: "files/broken.txt".into(),
                data: Body::deferred("files/broken.txt".into(), open(&dir), 10),
            });
            render(
                &chart,
                &Value::new_map(),
                &RenderOptions::default(),
                Rc::new(NoCluster),
            )
        };
        let cases = [
            (
                "a method returns the error",
                r#"{{ .Files.Get "files/broken.txt" }}"#,
                "error calling Get: error reading files/broken.txt: ",
            ),
            (
                "AsConfig cannot fail: the render does",
                "{{ .Files.AsConfig }}",
                "error reading files/broken.txt: ",
            ),
        ];
        for (name, text, want) in cases {
            let err = with_template(text).map(|_| ()).unwrap_err();
            let shown = err.to_string();
            assert!(shown.contains(want), "{name}: {shown}");
            if name.starts_with("AsConfig") {
                assert!(matches!(err, Error::ReadFile(_)), "{name}: {err:?}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
