//! `.helmignore` rules (Helm's `pkg/ignore`), matched with Go's `filepath.Match` semantics.
//!
//! Helm's rules are not gitignore: there is no `**`, a pattern without `/` matches only the base
//! name, a pattern with `/` must match the whole relative path, and a negated rule `!p` *ignores*
//! every path it does not match (evaluation stops at the first decisive rule). Those quirks decide
//! which files a chart's `.Files` sees, so they are reproduced as Helm has them.

/// The ignore file's name at the chart root.
pub const HELM_IGNORE: &str = ".helmignore";

/// An ordered rule set.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// The pattern without `!`, trailing `/` and leading `/`.
    glob: String,
    kind: Kind,
    negate: bool,
    must_dir: bool,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    /// No `/` in the pattern: matched against the base name.
    Base,
    /// Contains `/` (or is anchored with a leading `/`): matched against the whole path.
    Path,
}

impl Rules {
    /// Parses an ignore file's text. Errors name the line.
    pub fn parse(text: &str) -> Result<Rules, String> {
        let mut rules = Rules::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, line) in text.lines().enumerate() {
            rules.add(line).map_err(|e| format!("line {}: {e}", i + 1))?;
        }
        Ok(rules)
    }

    /// Helm's defaults, added after the file's rules: dotfiles under `templates/` are ignored.
    pub fn add_defaults(&mut self) {
        // The default pattern is well-formed, so this cannot fail.
        let _ = self.add("templates/.?*");
    }

    fn add(&mut self, rule: &str) -> Result<(), String> {
        let rule = rule.trim();
        if rule.is_empty() || rule.starts_with('#') {
            return Ok(());
        }
        if rule.contains("**") {
            return Err("double-star (**) syntax is not supported".into());
        }
        validate(rule)?;
        let (negate, rest) = match rule.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, rule),
        };
        let (must_dir, rest) = match rest.strip_suffix('/') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let (kind, glob) = if let Some(r) = rest.strip_prefix('/') {
            (Kind::Path, r)
        } else if rest.contains('/') {
            (Kind::Path, rest)
        } else {
            (Kind::Base, rest)
        };
        self.patterns.push(Pattern {
            glob: glob.to_string(),
            kind,
            negate,
            must_dir,
        });
        Ok(())
    }

    /// Whether `path` (relative to the chart root, `/`-separated) is ignored.
    pub fn ignore(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        for p in &self.patterns {
            if p.negate {
                if p.must_dir && !is_dir {
                    return true;
                }
                if !p.matches(path) {
                    return true;
                }
                continue;
            }
            if p.must_dir && !is_dir {
                continue;
            }
            if p.matches(path) {
                return true;
            }
        }
        false
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match self.kind {
            Kind::Path => go_match(&self.glob, path),
            Kind::Base => go_match(&self.glob, base_name(path)),
        }
    }
}

/// Go's `filepath.Base` for a `/`-separated relative path.
fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/";
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// Rejects what Go's `filepath.Match` reports as `syntax error in pattern`.
fn validate(pattern: &str) -> Result<(), String> {
    let bad = || Err("syntax error in pattern".to_string());
    let p: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < p.len() {
        match p[i] {
            '\\' => {
                if i + 1 >= p.len() {
                    return bad();
                }
                i += 2;
            }
            '[' => match parse_class(&p, i + 1) {
                Some((_, _, end)) => i = end,
                None => return bad(),
            },
            _ => i += 1,
        }
    }
    Ok(())
}

/// A parsed `[...]` class: (negated, ranges, index after `]`); `None` if malformed.
type Class = (bool, Vec<(char, char)>, usize);

fn parse_class(p: &[char], mut i: usize) -> Option<Class> {
    let mut negated = false;
    if p.get(i) == Some(&'^') {
        negated = true;
        i += 1;
    }
    let mut ranges = Vec::new();
    loop {
        if p.get(i) == Some(&']') && !ranges.is_empty() {
            return Some((negated, ranges, i + 1));
        }
        let (lo, next) = class_char(p, i)?;
        i = next;
        let mut hi = lo;
        if p.get(i) == Some(&'-') {
            let (h, next) = class_char(p, i + 1)?;
            hi = h;
            i = next;
        }
        ranges.push((lo, hi));
    }
}

/// One (possibly escaped) class character; `-` and `]` must be escaped, as in Go.
fn class_char(p: &[char], i: usize) -> Option<(char, usize)> {
    match p.get(i)? {
        '-' | ']' => None,
        '\\' => p.get(i + 1).map(|c| (*c, i + 2)),
        c => Some((*c, i + 1)),
    }
}

/// Go's `filepath.Match` on Unix: `*` and `?` never match `/`; classes and escapes as Go has them.
///
/// Go does not backtrack: the pattern is cut into chunks, each a star followed by fixed-width
/// text, and each star takes the first place where its chunk matches (only the last chunk is
/// tried further along, to end with the name). That is Helm's behaviour, and it keeps the cost
/// at chunks × name length × chunk length: a backtracking matcher took minutes on a rule like
/// `*a*a*a*a*a*a*a*a*a*a*a*a*b` against one 60-character name.
pub fn go_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pat, mut name) = (&p[..], &n[..]);
    'chunks: while !pat.is_empty() {
        let (star, chunk, rest) = scan_chunk(pat);
        pat = rest;
        if star && chunk.is_empty() {
            // A trailing star takes the rest of the name, if that has no separator.
            return !name.contains(&'/');
        }
        // The chunk right here, unless it is the last one and leaves part of the name over.
        if let Some(left) = match_chunk(chunk, name) {
            if left.is_empty() || !pat.is_empty() {
                name = left;
                continue;
            }
        }
        if star {
            // The star skips one more character each time, never a separator.
            let mut i = 0;
            while i < name.len() && name[i] != '/' {
                if let Some(left) = match_chunk(chunk, &name[i + 1..]) {
                    if pat.is_empty() && !left.is_empty() {
                        i += 1;
                        continue;
                    }
                    name = left;
                    continue 'chunks;
                }
                i += 1;
            }
        }
        return false;
    }
    name.is_empty()
}

/// Splits off the leading stars (any number count as one) and the text up to the next star
/// outside a class: `(had a star, chunk, rest of the pattern)`.
fn scan_chunk(p: &[char]) -> (bool, &[char], &[char]) {
    let body_start = p.iter().take_while(|&&c| c == '*').count();
    let body = &p[body_start..];
    let mut in_class = false;
    let mut i = 0;
    while i < body.len() {
        match body[i] {
            '\\' => i += 1,
            '[' => in_class = true,
            ']' => in_class = false,
            '*' if !in_class => break,
            _ => {}
        }
        i += 1;
    }
    let i = i.min(body.len());
    (body_start > 0, &body[..i], &body[i..])
}

/// Matches a star-free chunk against the start of `s`; returns what is left of `s`.
fn match_chunk<'a>(chunk: &[char], mut s: &'a [char]) -> Option<&'a [char]> {
    let mut i = 0;
    while i < chunk.len() {
        let (&c, rest) = s.split_first()?;
        match chunk[i] {
            '[' => {
                let (negated, ranges, end) = parse_class(chunk, i + 1)?;
                let inside = ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi);
                if inside == negated {
                    return None;
                }
                i = end;
            }
            '?' if c != '/' => i += 1,
            '?' => return None,
            '\\' => {
                if chunk.get(i + 1) != Some(&c) {
                    return None;
                }
                i += 2;
            }
            lit if lit == c => i += 1,
            _ => return None,
        }
        s = rest;
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_match_table() {
        // From Go's path/filepath match_test.go.
        let cases: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("*", "abc", true),
            ("*c", "abc", true),
            ("a*", "a", true),
            ("a*", "abc", true),
            ("a*", "ab/c", false),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxe/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("ab[c]", "abc", true),
            ("ab[b-d]", "abc", true),
            ("ab[e-g]", "abc", false),
            ("ab[^c]", "abc", false),
            ("ab[^b-d]", "abc", false),
            ("ab[^e-g]", "abc", true),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("a?b", "a☺b", true),
            ("a[^a]b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("[a-ζ]*", "α", true),
            ("*[a-ζ]", "A", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[\\]a]", "]", true),
            ("[\\-]", "-", true),
            ("[x\\-]", "x", true),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("[\\-x]", "a", false),
            ("*x", "xxx", true),
            // Go's stars do not backtrack; these hold either way, and the last ones are the
            // patterns that made a backtracking matcher exponential.
            ("*a*b", "aaab", true),
            ("*a*bc", "abxbc", true),
            ("a*b*c", "abbbcbc", true),
            ("*", "a/b", false),
            ("*/*", "a/b", true),
            ("*[/]b", "a/b", true),
            ("**a", "ba", true),
            ("*a*a*a*a*a*a*a*a*a*a*a*a*b", &"a".repeat(60), false),
            (
                "*a*a*a*a*a*a*a*a*a*a*a*a*b",
                &format!("{}b", "a".repeat(60)),
                true,
            ),
            (
                "*a*a*a*a*a*a*a*a*a*a*a*a*b",
                &format!("{}/b", "a".repeat(60)),
                false,
            ),
        ];
        for (p, n, want) in cases {
            assert_eq!(go_match(p, n), *want, "match({p:?}, {n:?})");
        }
    }

    #[test]
    fn bad_patterns() {
        for p in ["[]a]", "[-]", "[x-]", "[", "[^", "[^bc", "a[", "\\", "[a-b-c]"] {
            assert!(validate(p).is_err(), "{p:?} should be rejected");
        }
    }

    #[test]
    fn ignore_table() {
        // From helm v3.17.2 pkg/ignore/rules_test.go TestIgnore (testdata tree there).
        let cases: &[(&str, &str, bool, bool)] = &[
            ("helm.txt", "helm.txt", false, true),
            ("helm.*", "helm.txt", false, true),
            ("helm.*", "rudder.txt", false, false),
            ("*.txt", "tiller.txt", false, true),
            ("*.txt", "cargo/a.txt", false, true),
            ("cargo/*.txt", "cargo/a.txt", false, true),
            ("cargo/*.*", "cargo/a.txt", false, true),
            ("cargo/*.txt", "mast/a.txt", false, false),
            ("ru[c-e]?er.txt", "rudder.txt", false, true),
            ("templates/.?*", "templates/.dotfile", false, true),
            (".*", ".dotfile", false, true),
            (".*", ".", true, false),
            (".*", "./", true, false),
            ("cargo/", "cargo/", true, true),
            ("cargo/", "cargo", true, true),
            ("cargo/", "mast/", true, false),
            ("helm.txt/", "helm.txt", false, false),
            ("!cargo/", "mast/", true, true),
            ("!helm.txt", "rudder.txt", false, true),
            ("!helm.txt", "helm.txt", false, false),
            ("!*.txt", "cargo", true, true),
            ("/mast/a.txt", "mast/a.txt", false, true),
            ("/a.txt", "mast/a.txt", false, false),
            ("*.txt", "", false, false),
        ];
        for (rule, path, is_dir, want) in cases {
            let rules = Rules::parse(rule).unwrap();
            assert_eq!(rules.ignore(path, *is_dir), *want, "rule {rule:?} on {path:?}");
        }
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            Rules::parse("# ok\nfoo/**/bar").unwrap_err(),
            "line 2: double-star (**) syntax is not supported"
        );
        assert!(Rules::parse("a[").is_err());
    }
}
