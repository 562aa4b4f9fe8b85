//! Sprig's path functions: Go's `path` (`base`, `dir`, `clean`, `ext`, `isAbs`) and
//! `path/filepath` (`osBase`, ...), which on Linux — where Helm output is produced — behave the same.

use super::{fixed, str_arg, GoText};
use crate::{FuncMap, FuncResult, Value};

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("base", |a| one("base", a, base));
    m.insert_simple("osBase", |a| one("osBase", a, base));
    m.insert_simple("dir", |a| one("dir", a, dir));
    m.insert_simple("osDir", |a| one("osDir", a, dir));
    m.insert_simple("clean", |a| one("clean", a, clean));
    m.insert_simple("osClean", |a| one("osClean", a, clean));
    m.insert_simple("ext", |a| one("ext", a, ext));
    m.insert_simple("osExt", |a| one("osExt", a, ext));
    m.insert_simple("isAbs", |a| is_abs("isAbs", a));
    m.insert_simple("osIsAbs", |a| is_abs("osIsAbs", a));
}

/// A `path` function: bytes that are not UTF-8 pass through (Go's work on bytes).
fn one(name: &str, a: &[Value], f: fn(&str) -> String) -> FuncResult {
    let [p] = fixed(name, a)?;
    let text = GoText::of(a);
    Ok(text.value(f(&text.arg(p)?)))
}

fn is_abs(name: &str, a: &[Value]) -> FuncResult {
    let [p] = fixed(name, a)?;
    Ok(Value::Bool(str_arg(p)?.starts_with('/')))
}

use crate::gostr::path_clean as clean;

/// `path.Base`: the last element, trailing slashes ignored; `.` for empty, `/` for all slashes.
fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".to_string();
    }
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_string();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// `path.Dir`: everything before the last element, cleaned.
fn dir(p: &str) -> String {
    let cut = p.rfind('/').map_or(0, |i| i + 1);
    clean(&p[..cut])
}

/// `path.Ext`: the suffix from the last dot of the last element, or empty.
fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        match c {
            '/' => break,
            '.' => return p[i..].to_string(),
            _ => {}
        }
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        // Expectations from Go's path package tests (path_test.go) and sprig's docs.
        type Case = (&'static str, fn(&str) -> String, &'static str, &'static str);
        let cases: Vec<Case> = vec![
            ("clean empty", clean, "", "."),
            ("clean dots", clean, "a/./b/../c//d/", "a/c/d"),
            ("clean rooted dotdot", clean, "/../a", "/a"),
            ("clean relative dotdot", clean, "../../a/..", "../.."),
            ("clean root", clean, "//", "/"),
            ("base", base, "foo/bar/baz", "baz"),
            ("base trailing", base, "foo/bar/", "bar"),
            ("base root", base, "///", "/"),
            ("base empty", base, "", "."),
            ("dir", dir, "foo/bar/baz", "foo/bar"),
            ("dir none", dir, "baz", "."),
            ("dir root", dir, "/baz", "/"),
            ("ext", ext, "foo.bar/baz.tar.gz", ".gz"),
            ("ext none", ext, "foo.bar/baz", ""),
        ];
        for (case, f, input, want) in cases {
            assert_eq!(f(input), want, "case {case}");
        }
    }
}
