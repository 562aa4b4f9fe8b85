//! Sprig's regular-expression functions (`regex.go`) with Go `regexp` (RE2) semantics on top of
//! the `regex` crate.
//!
//! The two engines share the syntax but not every meaning, so patterns are adjusted before
//! compiling: Go's `\d`, `\w`, `\s` and `\b` are ASCII-only (Rust's are Unicode). The match loops
//! (`FindAll`, `ReplaceAll`, `Split`) follow Go's handling of empty matches, and replacement
//! templates follow Go's `Expand`: `$name` takes the longest run of letters, digits and `_`
//! (so `$1a` names group `1a`, which does not exist, and expands to nothing), `${1}` is explicit,
//! `$$` is a dollar.

use super::{fixed, int_arg, str_arg, str_list, GoText};
use crate::gofmt::quote as go_quote;
use crate::{FuncMap, FuncResult, Value};
use regex::Regex;

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("regexMatch", |a| {
        let [re, s] = fixed("regexMatch", a)?;
        let (re, s) = (str_arg(re)?, str_arg(s)?);
        Ok(Value::Bool(compile(re).is_ok_and(|r| r.is_match(s))))
    });
    m.insert_simple("mustRegexMatch", |a| {
        let [re, s] = fixed("mustRegexMatch", a)?;
        let (re, s) = (str_arg(re)?, str_arg(s)?);
        Ok(Value::Bool(compile(re)?.is_match(s)))
    });
    m.insert_simple("regexFindAll", |a| find_all("regexFindAll", a, must_compile));
    m.insert_simple("mustRegexFindAll", |a| find_all("mustRegexFindAll", a, compile));
    m.insert_simple("regexFind", |a| find("regexFind", a, must_compile));
    m.insert_simple("mustRegexFind", |a| find("mustRegexFind", a, compile));
    m.insert_simple("regexReplaceAll", |a| {
        replace("regexReplaceAll", a, must_compile, true)
    });
    m.insert_simple("mustRegexReplaceAll", |a| {
        replace("mustRegexReplaceAll", a, compile, true)
    });
    m.insert_simple("regexReplaceAllLiteral", |a| {
        replace("regexReplaceAllLiteral", a, must_compile, false)
    });
    m.insert_simple("mustRegexReplaceAllLiteral", |a| {
        replace("mustRegexReplaceAllLiteral", a, compile, false)
    });
    m.insert_simple("regexSplit", |a| split("regexSplit", a, must_compile));
    m.insert_simple("mustRegexSplit", |a| split("mustRegexSplit", a, compile));
    m.insert_simple("regexQuoteMeta", |a| {
        let [s] = fixed("regexQuoteMeta", a)?;
        let text = GoText::of(a);
        Ok(text.value(quote_meta(&text.arg(s)?)))
    });
}

type Compiler = fn(&str) -> Result<Regex, String>;

/// Rewrites Go-only meanings into Rust syntax: ASCII `\d \w \s \b` (and negations), inside and
/// outside character classes.
fn translate(pat: &str) -> String {
    let mut out = String::with_capacity(pat.len() + 16);
    let mut chars = pat.chars().peekable();
    let mut class_depth = 0usize;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let inside = class_depth > 0;
                let rep = match (n, inside) {
                    ('d', false) => "[0-9]",
                    ('D', false) => "[^0-9]",
                    ('w', false) => "[0-9A-Za-z_]",
                    ('W', false) => "[^0-9A-Za-z_]",
                    ('s', false) => "[\\t\\n\\f\\r ]",
                    ('S', false) => "[^\\t\\n\\f\\r ]",
                    ('b', false) => "(?-u:\\b)",
                    ('B', false) => "(?-u:\\B)",
                    ('d', true) => "0-9",
                    ('D', true) => "[^0-9]",
                    ('w', true) => "0-9A-Za-z_",
                    ('W', true) => "[^0-9A-Za-z_]",
                    ('s', true) => "\\t\\n\\f\\r ",
                    ('S', true) => "[^\\t\\n\\f\\r ]",
                    // A Unicode class `\p{Greek}`: copied whole, so the brace handling below does
                    // not escape its braces.
                    ('p' | 'P', _) if chars.peek() == Some(&'{') => {
                        out.push('\\');
                        out.push(n);
                        for d in chars.by_ref() {
                            out.push(d);
                            if d == '}' {
                                break;
                            }
                        }
                        continue;
                    }
                    _ => {
                        out.push('\\');
                        out.push(n);
                        continue;
                    }
                };
                out.push_str(rep);
            }
            '[' => {
                if class_depth > 0 && chars.peek() == Some(&':') {
                    // A POSIX class like [:alpha:] inside a bracket expression.
                    out.push('[');
                    for d in chars.by_ref() {
                        out.push(d);
                        if d == ']' {
                            break;
                        }
                    }
                    continue;
                }
                if class_depth > 0 {
                    // Go treats a nested '[' as a literal; Rust would open a nested class.
                    out.push_str("\\[");
                    continue;
                }
                class_depth += 1;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                class_start = true;
            }
            '{' if class_depth == 0 => {
                // Go reads `{` as a literal unless it starts a valid `{n}`, `{n,}` or `{n,m}`.
                let ahead: String = chars.clone().take_while(|c| *c != '}').collect();
                let closed = chars.clone().nth(ahead.chars().count()) == Some('}');
                let (lo, hi) = ahead.split_once(',').unwrap_or((&ahead, ""));
                let valid = closed
                    && !lo.is_empty()
                    && lo.bytes().all(|b| b.is_ascii_digit())
                    && hi.bytes().all(|b| b.is_ascii_digit());
                if valid {
                    out.push('{');
                    out.push_str(&ahead);
                    out.push('}');
                    for _ in 0..=ahead.chars().count() {
                        chars.next();
                    }
                } else {
                    out.push_str("\\{");
                }
            }
            '}' if class_depth == 0 => out.push_str("\\}"),
            ']' if class_depth > 0 && !at_class_start => {
                class_depth -= 1;
                out.push(']');
            }
            ']' if class_depth > 0 => out.push_str("\\]"),
            '-' | '&' | '~' if class_depth > 0 && chars.peek() == Some(&c) => {
                // Rust reads `--`, `&&`, `~~` in a class as set operations; Go as literals.
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// `regexp.Compile`, with Go's error texts for the common mistakes.
/// Compiles a Go pattern, caching per thread: charts call `regexReplaceAll` with the same pattern in
/// loops, and building a regex costs far more than matching it (a third of argo-cd's render time).
fn compile(pat: &str) -> Result<Regex, String> {
    thread_local! {
        static CACHE: std::cell::RefCell<std::collections::HashMap<String, Regex>> = Default::default();
    }
    if let Some(re) = CACHE.with(|c| c.borrow().get(pat).cloned()) {
        return Ok(re);
    }
    let re = compile_uncached(pat)?;
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= 512 {
            c.clear();
        }
        c.insert(pat.to_string(), re.clone());
    });
    Ok(re)
}

fn compile_uncached(pat: &str) -> Result<Regex, String> {
    Regex::new(&translate(pat)).map_err(|e| {
        let msg = e.to_string();
        let what = if msg.contains("unclosed character class") {
            let from = pat.rfind('[').unwrap_or(0);
            return format!("error parsing regexp: missing closing ]: `{}`", &pat[from..]);
        } else if msg.contains("unclosed group") {
            "missing closing )"
        } else if msg.contains("unopened group") {
            "unexpected )"
        } else if msg.contains("repetition operator missing expression") {
            "missing argument to repetition operator"
        } else if msg.contains("escape sequence") || msg.contains("unrecognized escape") {
            "invalid escape sequence"
        } else if msg.contains("repetition quantifier") || msg.contains("exceeds size limit") {
            "invalid repeat count"
        } else {
            "invalid syntax"
        };
        format!("error parsing regexp: {what}: `{pat}`")
    })
}

/// `regexp.MustCompile`: the panic text for an invalid pattern.
fn must_compile(pat: &str) -> Result<Regex, String> {
    compile(pat).map_err(|e| format!("regexp: Compile({}): {e}", quote_expr(pat)))
}

/// regexp's `quote`: the pattern in backquotes when `strconv.CanBackquote` allows (no backquote,
/// no control character but tab, no U+FEFF), else `strconv.Quote`d.
fn quote_expr(pat: &str) -> String {
    let plain = |c: char| c == '\t' || !(c < ' ' || c == '`' || c == '\u{7f}' || c == '\u{feff}');
    if pat.chars().all(plain) {
        format!("`{pat}`")
    } else {
        go_quote(pat)
    }
}

/// Go's `allMatches` loop: successive non-overlapping matches (at most `n` if `n >= 0`), skipping
/// an empty match right after the previous match.
fn all_matches<'s>(re: &Regex, s: &'s str, n: i64) -> Vec<regex::Captures<'s>> {
    let limit = if n < 0 { usize::MAX } else { n as usize };
    let mut out = Vec::new();
    let (mut pos, mut prev_end) = (0usize, None);
    while out.len() < limit && pos <= s.len() {
        let Some(caps) = re.captures_at(s, pos) else { break };
        let m = caps.get(0).map_or((pos, pos), |m| (m.start(), m.end()));
        let mut accept = true;
        if m.1 == pos {
            if Some(m.0) == prev_end {
                accept = false;
            }
            pos += s[pos..].chars().next().map_or(1, char::len_utf8);
        } else {
            pos = m.1;
        }
        prev_end = Some(m.1);
        if accept {
            out.push(caps);
        }
    }
    out
}

fn find_all(name: &str, a: &[Value], comp: Compiler) -> FuncResult {
    let [re, s, n] = fixed(name, a)?;
    // The subject keeps its bytes that are not UTF-8 (Go's `.` matches one as U+FFFD and the
    // match is a slice of the bytes); see `GoText`.
    let text = GoText::of(&a[1..2]);
    let (re, s, n) = (str_arg(re)?, text.arg(s)?, int_arg(n)?);
    let re = comp(re)?;
    if n == 0 {
        return Ok(str_list(Vec::<String>::new()));
    }
    let found: Vec<String> = all_matches(&re, &s, n)
        .iter()
        .filter_map(|c| c.get(0).map(|m| m.as_str().to_string()))
        .collect();
    Ok(text.str_list(found))
}

fn find(name: &str, a: &[Value], comp: Compiler) -> FuncResult {
    let [re, s] = fixed(name, a)?;
    let text = GoText::of(&a[1..]);
    let (re, s) = (str_arg(re)?, text.arg(s)?);
    Ok(text.value(comp(re)?.find(&s).map_or("", |m| m.as_str())))
}

/// Go's `Regexp.Expand` of a replacement template for one match.
fn expand(re: &Regex, caps: &regex::Captures<'_>, template: &str, out: &mut String) {
    let names: Vec<Option<&str>> = re.capture_names().collect();
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
            continue;
        }
        let (braced, body) = match rest.strip_prefix('{') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let len: usize = body
            .chars()
            .take_while(|c| c.is_alphabetic() || c.is_numeric() || *c == '_')
            .map(char::len_utf8)
            .sum();
        if len == 0 || (braced && !body[len..].starts_with('}')) {
            out.push('$');
            continue;
        }
        let name = &body[..len];
        rest = &body[len + usize::from(braced)..];
        let num = if name.bytes().all(|b| b.is_ascii_digit()) && !(name.len() > 1 && name.starts_with('0')) {
            name.parse::<usize>().ok().filter(|n| *n < 100_000_000)
        } else {
            None
        };
        let group = match num {
            Some(n) => caps.get(n),
            None => names
                .iter()
                .position(|x| *x == Some(name))
                .and_then(|i| caps.get(i)),
        };
        if let Some(g) = group {
            out.push_str(g.as_str());
        }
    }
    out.push_str(rest);
}

/// Go's `replaceAll` loop (`ReplaceAllString` / `ReplaceAllLiteralString`).
fn replace(name: &str, a: &[Value], comp: Compiler, expand_repl: bool) -> FuncResult {
    let [re, s, repl] = fixed(name, a)?;
    let text = GoText::of(&a[1..]);
    let (re, s, repl) = (str_arg(re)?, text.arg(s)?, text.arg(repl)?);
    let (s, repl): (&str, &str) = (&s, &repl);
    let re = comp(re)?;
    let mut out = String::with_capacity(s.len());
    let (mut last_end, mut pos) = (0usize, 0usize);
    while pos <= s.len() {
        let Some(caps) = re.captures_at(s, pos) else { break };
        let Some(m) = caps.get(0) else { break };
        out.push_str(&s[last_end..m.start()]);
        // No replacement for an empty match right after the previous match.
        if m.end() > last_end || m.start() == 0 {
            if expand_repl {
                expand(&re, &caps, repl, &mut out);
            } else {
                out.push_str(repl);
            }
        }
        last_end = m.end();
        let width = s[pos..].chars().next().map_or(1, char::len_utf8);
        pos = if pos + width > m.end() {
            pos + width
        } else if pos + 1 > m.end() {
            pos + 1
        } else {
            m.end()
        };
    }
    out.push_str(&s[last_end.min(s.len())..]);
    Ok(text.value(out))
}

/// Go's `Regexp.Split`.
fn split(name: &str, a: &[Value], comp: Compiler) -> FuncResult {
    let [re_v, s, n] = fixed(name, a)?;
    let text = GoText::of(&a[1..2]);
    let (pat, s, n) = (str_arg(re_v)?, text.arg(s)?, int_arg(n)?);
    let s: &str = &s;
    let re = comp(pat)?;
    if n == 0 {
        return Ok(str_list(Vec::<String>::new()));
    }
    if !pat.is_empty() && s.is_empty() {
        return Ok(str_list([""]));
    }
    let mut parts: Vec<String> = Vec::new();
    let (mut beg, mut end) = (0usize, 0usize);
    for caps in all_matches(&re, s, n) {
        if n > 0 && parts.len() as i64 == n - 1 {
            break;
        }
        let Some(m) = caps.get(0) else { continue };
        end = m.start();
        if m.end() != 0 {
            parts.push(s[beg..end].to_string());
        }
        beg = m.end();
    }
    if end != s.len() {
        parts.push(s[beg..].to_string());
    }
    Ok(text.str_list(parts))
}

/// `regexp.QuoteMeta`: backslashes before `\.+*?()|[]{}^$`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::{call, i, s};

    fn l(v: &[&str]) -> Value {
        str_list(v.iter().copied())
    }

    #[test]
    fn regex_functions() {
        // Expectations from sprig's regex_test.go and Go's regexp documentation examples.
        let t = Value::Bool(true);
        let f = Value::Bool(false);
        let cases: Vec<(&str, &str, Vec<Value>, Value)> = vec![
            (
                "match",
                "regexMatch",
                vec![s("^[a-z]+\\[[0-9]+\\]$"), s("adam[23]")],
                t.clone(),
            ),
            (
                "match no",
                "regexMatch",
                vec![s("^[a-z]+\\[[0-9]+\\]$"), s("eve[7]x")],
                f.clone(),
            ),
            (
                "match bad pattern",
                "regexMatch",
                vec![s("[a"), s("a")],
                f.clone(),
            ),
            (
                "match ascii digit",
                "regexMatch",
                vec![s("^\\d$"), s("٣")],
                f.clone(),
            ),
            (
                "findAll",
                "regexFindAll",
                vec![s("a.{2}"), s("aaabaaa"), i(-1)],
                l(&["aaa", "aaa"]),
            ),
            (
                "findAll n",
                "regexFindAll",
                vec![s("[2,4,6,8]"), s("123456789"), i(2)],
                l(&["2", "4"]),
            ),
            (
                "findAll zero",
                "regexFindAll",
                vec![s("a"), s("aaa"), i(0)],
                l(&[]),
            ),
            (
                "findAll empty matches",
                "regexFindAll",
                vec![s("a*"), s("baaac"), i(-1)],
                l(&["", "aaa", ""]),
            ),
            (
                "find",
                "regexFind",
                vec![s("[a-zA-Z][1-9]"), s("abcd1234")],
                s("d1"),
            ),
            ("find none", "regexFind", vec![s("x"), s("abc")], s("")),
            (
                "replaceAll",
                "regexReplaceAll",
                vec![s("a(x*)b"), s("-ab-axxb-"), s("${1}W")],
                s("-W-xxW-"),
            ),
            (
                "replaceAll $1W",
                "regexReplaceAll",
                vec![s("a(x*)b"), s("-ab-axxb-"), s("$1W")],
                s("---"),
            ),
            (
                "replaceAll dollar",
                "regexReplaceAll",
                vec![s("a(x*)b"), s("-ab-axxb-"), s("$$1")],
                s("-$1-$1-"),
            ),
            (
                "replaceAll named",
                "regexReplaceAll",
                vec![
                    s("(?P<first>\\w+) (?P<last>\\w+)"),
                    s("Jane Doe"),
                    s("$last, $first"),
                ],
                s("Doe, Jane"),
            ),
            (
                "replaceAll empty",
                "regexReplaceAll",
                vec![s("x*"), s("abc"), s("-")],
                s("-a-b-c-"),
            ),
            (
                "replaceAllLiteral",
                "regexReplaceAllLiteral",
                vec![s("a(x*)b"), s("-ab-axxb-"), s("${1}")],
                s("-${1}-${1}-"),
            ),
            (
                "split",
                "regexSplit",
                vec![s("z+"), s("pizza"), i(-1)],
                l(&["pi", "a"]),
            ),
            (
                "split n",
                "regexSplit",
                vec![s("a"), s("banana"), i(2)],
                l(&["b", "nana"]),
            ),
            (
                "split empty pattern",
                "regexSplit",
                vec![s(""), s("abc"), i(-1)],
                l(&["a", "b", "c"]),
            ),
            (
                "split empty input",
                "regexSplit",
                vec![s("a"), s(""), i(-1)],
                l(&[""]),
            ),
            ("split zero", "regexSplit", vec![s("a"), s("abc"), i(0)], l(&[])),
            (
                "quoteMeta",
                "regexQuoteMeta",
                vec![s("1.5-2.0?")],
                s("1\\.5-2\\.0\\?"),
            ),
            (
                "word boundary ascii",
                "regexReplaceAll",
                vec![s("\\bé"), s("aé é"), s("X")],
                s("aX é"),
            ),
            (
                "class digits",
                "regexFind",
                vec![s("[\\d]+"), s("ab12c")],
                s("12"),
            ),
            (
                "literal braces",
                "regexReplaceAll",
                vec![s("{{ *(\\w+) *}}"), s("a {{ x }} b"), s("<$1>")],
                s("a <x> b"),
            ),
            (
                "counted repeat",
                "regexFind",
                vec![s("a{2,}"), s("caaab")],
                s("aaa"),
            ),
            (
                "brace literal comma",
                "regexFind",
                vec![s("a{,2}"), s("a{,2}")],
                s("a{,2}"),
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(want), "case {case}");
        }
    }

    #[test]
    fn regex_errors() {
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            (
                "must match",
                "mustRegexMatch",
                vec![s("[a"), s("a")],
                "error parsing regexp: missing closing ]: `[a`",
            ),
            (
                "find panics",
                "regexFind",
                vec![s("[a"), s("a")],
                "regexp: Compile(`[a`): error parsing regexp: missing closing ]: `[a`",
            ),
            (
                "missing paren",
                "mustRegexFind",
                vec![s("(a"), s("a")],
                "error parsing regexp: missing closing ): `(a`",
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Err(want.to_string()), "case {case}");
        }
    }
}
