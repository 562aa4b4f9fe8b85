//! A YAML error worded as Helm prints it: sigs.k8s.io/yaml's `error converting YAML to JSON:
//! yaml: line N: …` around go-yaml v2's own message and line.
//!
//! Our parser (a libyaml port, like go-yaml) finds the same mistakes at the same places, but words
//! some differently and counts lines differently, so the common ones are translated here. go-yaml
//! prints only the problem, never libyaml's context ("while parsing a block mapping"), and its
//! line is not always the line of the mistake: a parser error prints the 0-based line of the
//! problem, a scanner error the 1-based one, and either prints no line when the 0-based line is 0.
//! At the end of the text the scanner moves to a new line first when the last one is not empty,
//! so an unclosed flow or a key without `:` on the last line is reported one line further down.

use super::Error;

/// libyaml's scanner error for an anchor or alias name with a character it does not allow.
const ANCHOR_NAME: &str = "did not find expected alphabetic or numeric character";

/// Helm's text for `e`, an error reading `text` (one document, or a whole values file).
pub fn go_error(text: &str, e: &Error) -> String {
    // Go's JSON decoding messages (from our struct decoding) are already Helm's, and so are
    // sigs.k8s.io/yaml's conversion errors, which come after go-yaml's and name no line.
    if e.message.starts_with("error unmarshaling") || e.message.starts_with("error converting YAML to JSON: ")
    {
        return e.message.clone();
    }
    // go-yaml's reader refuses characters YAML does not allow (a raw U+007F from `toJson`)
    // before the parser sees anything, and names no line.
    if let Some((_, _, problem)) = super::reader::first_refusal(text.as_bytes()) {
        return format!("error converting YAML to JSON: yaml: {problem}");
    }
    let (message, line) = translate(text, e);
    match line {
        Some(line) => format!("error converting YAML to JSON: yaml: line {line}: {message}"),
        None => format!("error converting YAML to JSON: yaml: {message}"),
    }
}

/// go-yaml's message and printed line for our error.
fn translate(text: &str, e: &Error) -> (String, Option<usize>) {
    // 0-based line of the problem, as go-yaml's marks count.
    let at = e.line.unwrap_or(1).saturating_sub(1);
    let newlines = text.matches('\n').count();
    // Where the scanner stands at the end of the text (after its forced line break).
    let end = newlines + usize::from(!text.is_empty() && !text.ends_with('\n'));
    let scanner = |l: usize| (l != 0).then_some(l + 1);
    let parser = |l: usize| (l != 0).then_some(l);
    let m = e.message.as_str();
    let owned = |s: &str| s.to_string();
    if m == "tabs disallowed within this context (block indentation)"
        || m.starts_with("unexpected character: ")
    {
        return (owned("found character that cannot start any token"), scanner(at));
    }
    if m == "while scanning a plain scalar, found a tab" {
        // Reported at the scalar; go-yaml reports the line holding the tab.
        let tab = text
            .lines()
            .enumerate()
            .skip(at + 1)
            .find(|(_, l)| l.starts_with('\t'));
        return (
            owned("found a tab character that violates indentation"),
            scanner(tab.map_or(at, |(i, _)| i)),
        );
    }
    if m == "unclosed quote" {
        return (owned("found unexpected end of stream"), scanner(newlines));
    }
    if let Some(rest) = m.strip_prefix("unclosed bracket '") {
        // We name the outermost open bracket, go-yaml expects the innermost one's end.
        let inner = innermost_open(line_from(text, e), text, e).unwrap_or(if rest.starts_with('{') {
            '{'
        } else {
            '['
        });
        let last = text.trim_end().chars().last();
        let message = if matches!(last, Some('[' | '{' | ',')) {
            owned("did not find expected node content")
        } else if inner == '{' {
            owned("did not find expected ',' or '}'")
        } else {
            owned("did not find expected ',' or ']'")
        };
        return (message, parser(end));
    }
    if m == "mapping values are not allowed in this context"
        || m == "block sequence entries are not allowed in this context"
    {
        return (owned(m), scanner(at));
    }
    if m == "while parsing node, found unknown anchor" {
        let name: String = line_from(text, e)
            .trim_start_matches('*')
            .chars()
            .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
            .collect();
        if !super::parse::is_libyaml_anchor_name(&name) {
            return (ANCHOR_NAME.to_string(), scanner(at));
        }
        return (format!("unknown anchor '{name}' referenced"), None);
    }
    if m == "simple key expected ':'" {
        let on_last_line = at >= newlines;
        return (
            owned("could not find expected ':'"),
            scanner(if on_last_line { end } else { at + 1 }),
        );
    }
    if m == "misplaced bracket" {
        // A closing bracket where a value should start is no node; after a value, no key.
        let before = text.lines().nth(at).unwrap_or_default();
        let before: String = before
            .chars()
            .take(e.col.unwrap_or(1).saturating_sub(1))
            .collect();
        let message = match before.trim_end().chars().last() {
            None | Some(':' | '-' | '[' | '{' | ',') => "did not find expected node content",
            Some(_) => "did not find expected key",
        };
        return (owned(message), parser(at));
    }
    if m == "':' may not precede any of `[{` in flow mapping" {
        // `{a:{b: c}}` (a Go struct printed with %v): go-yaml reads the plain scalar `a:` and
        // then finds a collection where the enclosing one's separator or end should be.
        let message = match enclosing_open(text, e) {
            Some('[') => "did not find expected ',' or ']'",
            _ => "did not find expected ',' or '}'",
        };
        return (owned(message), parser(at));
    }
    if m.starts_with("invalid trailing content after ") {
        return (owned("did not find expected key"), parser(at));
    }
    if m.ends_with(ANCHOR_NAME) {
        return (ANCHOR_NAME.to_string(), scanner(at));
    }
    // libyaml's "while parsing CONTEXT, PROBLEM": go-yaml prints the problem only.
    if let Some((_, problem)) = m.strip_prefix("while parsing ").and_then(|r| r.split_once(", ")) {
        return (owned(problem), parser(at));
    }
    // A decoding error that already names its line (`line 1: cannot decode …`): go-yaml's
    // composer reports none.
    if let Some((_, rest)) = m.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        return (owned(rest), None);
    }
    (owned(m), e.line)
}

/// The flow collection still open at the end of the text, scanning from the error's position
/// (`from`, the rest of its line, then the lines after it); quoted scalars are skipped.
fn innermost_open(from: &str, text: &str, e: &Error) -> Option<char> {
    let after = text
        .lines()
        .skip(e.line.unwrap_or(1))
        .flat_map(|l| std::iter::once('\n').chain(l.chars()));
    last_open(from.chars().chain(after))
}

/// The innermost flow collection still open after `chars`; quoted scalars are skipped.
fn last_open(chars: impl Iterator<Item = char>) -> Option<char> {
    let mut open = Vec::new();
    let mut quote = None;
    for c in chars {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{') => open.push(c),
            (None, ']' | '}') => {
                open.pop();
            }
            _ => {}
        }
    }
    open.pop()
}

/// The flow collection open at the error's position, reading the text up to it.
fn enclosing_open(text: &str, e: &Error) -> Option<char> {
    let line = e.line.unwrap_or(1).saturating_sub(1);
    let col = e.col.unwrap_or(1).saturating_sub(1);
    last_open(text.lines().take(line + 1).enumerate().flat_map(|(i, l)| {
        let upto = if i == line { col } else { usize::MAX };
        l.chars().take(upto).chain(std::iter::once('\n'))
    }))
}

/// The text of the error's line from its column on.
fn line_from<'a>(text: &'a str, e: &Error) -> &'a str {
    let line = text
        .lines()
        .nth(e.line.unwrap_or(1).saturating_sub(1))
        .unwrap_or_default();
    let col = e.col.unwrap_or(1).saturating_sub(1);
    line.char_indices().nth(col).map_or("", |(i, _)| &line[i..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_words_the_common_mistakes() {
        // (case, document, helm v3.17.2's error after "YAML parse error on c/templates/x.yaml: ")
        let cases = [
            (
                "indented too little",
                "a:\n  b: 1\n c: 2",
                "line 2: did not find expected key",
            ),
            (
                "list under a map",
                "a: 1\n- b",
                "line 1: did not find expected key",
            ),
            // A Go struct printed with %v (`{Name:x Deps:[]}`): a plain scalar `a:` then a
            // collection where the enclosing one's separator should be.
            (
                "struct printed into a flow mapping",
                "x: {a:{b: c}}",
                "did not find expected ',' or '}'",
            ),
            (
                "struct printed into a flow sequence",
                "x:\n  y: [1,\n   a:{b}]",
                "line 2: did not find expected ',' or ']'",
            ),
            (
                "brackets in quotes do not count",
                "x: [\"{\", a:{b}]",
                "did not find expected ',' or ']'",
            ),
            (
                "tab indentation",
                "a:\n\tb: 1",
                "line 2: found character that cannot start any token",
            ),
            (
                "tab after a value",
                "a: 1\n\tb: 2",
                "line 2: found a tab character that violates indentation",
            ),
            (
                "unclosed quote on line 1",
                "a: \"x",
                "found unexpected end of stream",
            ),
            (
                "unclosed quote",
                "a: 1\nb: 'x\nc: 2",
                "line 3: found unexpected end of stream",
            ),
            (
                "unclosed list",
                "a: [1, 2",
                "line 1: did not find expected ',' or ']'",
            ),
            (
                "unclosed map",
                "a: {b: 1",
                "line 1: did not find expected ',' or '}'",
            ),
            (
                "empty unclosed list",
                "kind: x\nmetadata:\n  name: [",
                "line 3: did not find expected node content",
            ),
            (
                "list ending in a comma",
                "a: [1,",
                "line 1: did not find expected node content",
            ),
            (
                "key: value: other",
                "a: b: c",
                "mapping values are not allowed in this context",
            ),
            (
                "key: value: other on line 3",
                "x: 1\ny: 2\nz: a: b",
                "line 3: mapping values are not allowed in this context",
            ),
            (
                "indented too much",
                "key: value\n  other: 1",
                "line 2: mapping values are not allowed in this context",
            ),
            ("unknown alias", "a: &x 1\nb: *y", "unknown anchor 'y' referenced"),
            (
                "key without colon",
                "a: x\nb",
                "line 3: could not find expected ':'",
            ),
            (
                "key without colon after a block",
                "a: |\n b\n  c\nd",
                "line 5: could not find expected ':'",
            ),
            (
                "backquote",
                "a: `x`",
                "found character that cannot start any token",
            ),
            (
                "closing bracket as a value",
                "a: ]",
                "did not find expected node content",
            ),
            (
                "closing bracket after a value",
                "a: [1]]",
                "did not find expected key",
            ),
            (
                "text after a quoted scalar",
                "a: 'x'y",
                "did not find expected key",
            ),
            (
                "control character",
                "a: \"\u{7f}\" b",
                "control characters are not allowed",
            ),
            // A `:` with no key before it (YAML 1.2 reads an empty key; libyaml refuses it).
            (
                "value with no key after an entry",
                "a: b\n: c",
                "line 1: did not find expected key",
            ),
            ("value with no key first", ": c", "did not find expected key"),
            (
                "value with no key after ? a",
                "? a\n: b\n: c",
                "line 2: did not find expected key",
            ),
            (
                "value with no key nested",
                "a:\n  b: 1\n  : 2",
                "line 2: did not find expected key",
            ),
            (
                "value with no key in a flow map",
                "a: {: c}",
                "did not find expected node content",
            ),
            (
                "value with no key in a list item",
                "- : c",
                "did not find expected key",
            ),
            (
                "flow map as a key",
                "{a: 1}: x",
                "invalid map key: map[interface {}]interface {}{\"a\":1}",
            ),
            (
                "flow list as a nested key",
                "m:\n  [1, 2]: x",
                "invalid map key: []interface {}{1, 2}",
            ),
            (
                "dot in an anchor",
                "b: 1\na: &x.y 1",
                "line 2: did not find expected alphabetic or numeric character",
            ),
            (
                "dot in an alias",
                "a: *x.y",
                "did not find expected alphabetic or numeric character",
            ),
        ];
        for (case, doc, want) in cases {
            // The manifest check's parser, which the lint's (`parse_documents`) words alike.
            let e = super::super::scan_head(doc, "c/templates/x.yaml")
                .err()
                .or_else(|| super::super::parse_documents(doc, "c/templates/x.yaml").err())
                .unwrap_or_else(|| panic!("{case}: parses"));
            assert_eq!(
                go_error(doc, &e),
                format!("error converting YAML to JSON: yaml: {want}"),
                "{case}: {e}"
            );
        }
    }

    #[test]
    fn conversion_errors_are_sigs_yamls_with_no_line() {
        // helm v3.17.2 on a rendered manifest holding each document.
        let cases = [
            (
                "explicit empty key",
                "? \n: c",
                r#"unsupported map key of type: %!s(<nil>), key: <nil>, value: "c""#,
            ),
            (
                "null key",
                "a: 1\n~: {b: 2}",
                r#"unsupported map key of type: %!s(<nil>), key: <nil>, value: map[interface {}]interface {}{"b":2}"#,
            ),
            (
                "uint64 key",
                "18446744073709551615: [1]",
                "unsupported map key of type: uint64, key: 0xffffffffffffffff, value: []interface {}{1}",
            ),
        ];
        for (case, doc, want) in cases {
            let e = super::super::scan_head(doc, "c/templates/x.yaml").expect_err(case);
            assert_eq!(
                go_error(doc, &e),
                format!("error converting YAML to JSON: {want}"),
                "{case}"
            );
        }
        assert!(
            super::super::scan_head("? \"\"\n: c\n", "x").is_ok(),
            "a quoted empty key converts"
        );
    }
}
