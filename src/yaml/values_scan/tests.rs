//! The scanner against the general path: on hand-written shapes, every scalar form go-yaml v2
//! resolves, every YAML file of the fixtures, the corpus and the benchmark charts, and mutations of
//! them. The one promise is that whenever the scanner answers, the general path gives the same
//! value (and no error).

use std::path::{Path, PathBuf};

use super::parse_values;
use crate::yaml::parse::parse_values_general;
use gotemplate::Value;

/// Checks the promise on `text`; `Some(value)` when the scanner answered.
fn agrees(name: &str, text: &str) -> Option<Value> {
    let got = parse_values(text)?;
    match parse_values_general(text, "values.yaml") {
        Ok(want) => assert_eq!(got, want, "{name}: scanner and general path differ on {text:?}"),
        Err(e) => panic!("{name}: the scanner read {text:?}, the general path refuses it: {e}"),
    }
    Some(got)
}

/// Documents the scanner must read, and read as the general path does.
const READS: &[(&str, &str)] = &[
    ("empty", ""),
    ("blank lines", "\n\n  \n"),
    ("comment only", "# nothing\n"),
    ("leading document start", "---\na: 1\n"),
    ("document start with comment", "# head\n--- # start\na: 1\n"),
    ("maps", "a:\n  b:\n    c: d\n  e: f\ng: h\n"),
    ("root map indented", "  a: 1\n  b: 2\n"),
    ("lists", "a:\n  - 1\n  - two\n  -\n  - - x\n    - y\n"),
    ("list at its key's column", "a:\n- x\n- y\nb: 1\n"),
    (
        "compact maps",
        "a:\n  - name: x\n    value: 1\n  - name: y\n    deep:\n      k: v\n",
    ),
    (
        "compact map at its key's column",
        "a:\n- name: x\n  v: 1\n- n: 2\nb: c\n",
    ),
    ("wide dash", "a:\n  -   k: 1\n      j: 2\n"),
    ("item then nested map", "a:\n  -\n    k: v\n"),
    ("null values", "a:\nb: ~\nc: null\nd:\n  # only a comment\ne: 1\n"),
    (
        "key without space is a key's text",
        "a:b: c\nurl: http://x:80/y\n",
    ),
    ("hash inside plain", "a: b#c\nd: e # comment\nf: g  #c\n"),
    (
        "plain with indicators inside",
        "a: x[0], {y}\nb: -x\nc: 50%\nd: a'b\"c\n",
    ),
    ("trailing spaces", "a: b   \nc:   \nd: 'e'  \n"),
    ("crlf", "a: 1\r\nb:\r\n  - x\r\nc: |\r\n  l1\r\n  l2\r\n"),
    (
        "quoted",
        "a: \"x y\"\nb: 'it''s'\nc: \"\"\nd: ''\ne: \"#not\" # yes\n",
    ),
    (
        "escapes",
        "a: \"t\\tn\\nq\\\"b\\\\s\\ e\\ex\\x41u\\u00e9U\\U0001F600\"\n",
    ),
    ("quoted keys", "\"a b\": 1\n'c': 2\n\"1\": 3\n"),
    (
        "typed keys",
        "1: a\n1.5: b\ntrue: c\noff: d\n0.1: e\n-2: f\n0x10: g\n",
    ),
    ("block literal", "a: |\n  l1\n    l2\n\n  l3\nb: 1\n"),
    ("block folded", "a: >\n  w1\n  w2\n\n  w3\n    more\n  w4\nb: 1\n"),
    (
        "block chomping",
        "a: |-\n  x\n\nb: |+\n  y\n\n\nc: >-\n  z\nd: |\n  w\n\n\n",
    ),
    (
        "block indicators",
        "a: |2\n    x\n   y\nb: |1-\n  z\nc: >2+\n   q\n",
    ),
    ("block in list", "a:\n- |\n  x\n- y\n"),
    ("block item", "a:\n  - |\n    x\n  - >-\n    y\n    z\n"),
    ("block then comment", "a: |\n  x\n  # kept\n# not kept\nb: 1\n"),
    ("block empty", "a: |\nb: >\n\nc: 1\n"),
    ("block at eof", "a: |\n  x"),
    ("block at eof with break", "a: |\n  x\n"),
    ("block blank lines", "a: |\n\n  x\n\n  y\n\n\nb: 1\n"),
    ("block short blank lines", "a: |\n    x\n  \n    y\n"),
    ("block in compact map", "a:\n- b: |\n    x\n  c: 1\n"),
    ("empty flows", "a: []\nb: {}\nc: [] # none\n"),
    ("no final break", "a: 1"),
    ("unicode", "a: \"h\u{e9}llo\"\nb: \u{1f600}\nc: \u{e9}t\u{e9}\n"),
    ("deep", "a:\n b:\n  c:\n   d:\n    - e:\n       f: 1\n"),
];

/// Documents the scanner must leave to the other paths.
const DECLINES: &[(&str, &str)] = &[
    ("anchor", "a: &x 1\n"),
    ("alias", "a: &x 1\nb: *x\n"),
    ("tag", "a: !!str 1\n"),
    ("merge key", "a:\n  <<: {b: 1}\n"),
    ("duplicate key", "a: 1\na: 2\n"),
    ("duplicate by conversion", "1: a\n\"1\": b\n"),
    ("null key", "~: 1\n"),
    ("uint key", "18446744073709551615: 1\n"),
    ("complex key", "? a\n: 1\n"),
    ("flow with content", "a: [1, 2]\n"),
    ("flow map root", "{a: 1}\n"),
    ("multi-line plain", "a: b\n  c\n"),
    ("multi-line plain after comment", "a: b\n# x\n  c\n"),
    ("multi-line quoted", "a: \"b\n  c\"\n"),
    ("scalar on next line", "a:\n  b\n"),
    ("tab in indentation", "a:\n\tb: 1\n"),
    ("tab after colon", "a:\t1\n"),
    ("tab in quotes", "a: \"x\ty\"\n"),
    ("lone cr", "a: 1\rb: 2\n"),
    ("nel", "a: x\u{85}y\n"),
    ("bom", "\u{feff}a: 1\n"),
    ("control", "a: \u{1}\n"),
    ("second document", "a: 1\n---\nb: 2\n"),
    ("document end", "a: 1\n...\n"),
    ("directive", "%YAML 1.1\n---\na: 1\n"),
    ("list root", "- a\n"),
    ("scalar root", "text\n"),
    ("bad indentation", "a: 1\n  b: 2\n"),
    ("item in a map", "a: 1\n- b\n"),
    ("key after list", "a:\n  - x\n  b: 1\n"),
    ("space before colon", "a : 1\n"),
    ("colon space in value", "a: b: c\n"),
    ("colon at value end", "a: b:\n"),
    ("dash value", "a: -\n"),
    ("quote then text", "a: \"b\" c\n"),
    ("comment without space", "a: \"b\"#c\n"),
    ("block header comment without space", "a: |#c\n  x\n"),
    ("block blank line with extra spaces", "a: |\n  x\n     \n  y\n"),
    ("block leading spaces line", "a: |\n     \n  x\n"),
    ("bad escape", "a: \"\\q\"\n"),
    ("line-end escape", "a: \"b\\\n  c\"\n"),
    ("unclosed quote", "a: 'b\n"),
    ("infinity", "a: .inf\n"),
    ("nan", "a: .nan\n"),
];

#[test]
fn reads_like_the_general_path() {
    for (name, text) in READS {
        assert!(
            agrees(name, text).is_some(),
            "{name}: the scanner declined {text:?}"
        );
    }
}

#[test]
fn declines_what_others_must_decide() {
    let long_key = format!("{}: 1\n", "k".repeat(1100));
    let cases = DECLINES.iter().map(|(n, t)| (*n, t.to_string()));
    for (name, text) in cases.chain([("long key", long_key)]) {
        assert!(parse_values(&text).is_none(), "{name}: the scanner read {text:?}");
        // The general path still reads (or refuses) it as before.
        let _ = parse_values_general(&text, "values.yaml");
    }
}

/// Every plain scalar go-yaml v2 resolves, in a map and in a list, through the scanner: the same
/// value as the general path (go-yaml's resolver, then the JSON round trip), and these values
/// (each checked with helm v3.17.2, `{{ toJson .Values }}`).
#[test]
fn scalar_forms_resolve_like_go_yaml() {
    let f = Value::Float;
    let s = Value::str;
    let cases: &[(&str, Value)] = &[
        ("yes", Value::Bool(true)),
        ("Yes", Value::Bool(true)),
        ("YES", Value::Bool(true)),
        ("y", Value::Bool(true)),
        ("Y", Value::Bool(true)),
        ("on", Value::Bool(true)),
        ("On", Value::Bool(true)),
        ("ON", Value::Bool(true)),
        ("true", Value::Bool(true)),
        ("True", Value::Bool(true)),
        ("no", Value::Bool(false)),
        ("n", Value::Bool(false)),
        ("N", Value::Bool(false)),
        ("off", Value::Bool(false)),
        ("OFF", Value::Bool(false)),
        ("False", Value::Bool(false)),
        ("yEs", s("yEs")),
        ("oN", s("oN")),
        ("~", Value::Nil),
        ("null", Value::Nil),
        ("Null", Value::Nil),
        ("NULL", Value::Nil),
        ("nULL", s("nULL")),
        ("0", f(0.0)),
        ("-0", f(0.0)),
        ("+12", f(12.0)),
        ("-12", f(-12.0)),
        ("0x1F", f(31.0)),
        ("0X1f", f(31.0)),
        ("-0x10", f(-16.0)),
        ("0o17", f(15.0)),
        ("0b101", f(5.0)),
        ("-0b101", f(-5.0)),
        ("1_000", f(1000.0)),
        ("0777", f(511.0)),
        ("0778", f(778.0)),
        ("08", f(8.0)),
        (".5", f(0.5)),
        ("-.5", f(-0.5)),
        ("1.", f(1.0)),
        ("1e3", f(1000.0)),
        ("1E-2", f(0.01)),
        ("1.5e+3", f(1500.0)),
        ("9223372036854775807", f(9223372036854775807.0)),
        ("18446744073709551615", f(18446744073709551615.0)),
        ("123456789012345678901234567890", f(1.2345678901234568e29)),
        ("1e400", s("1e400")),
        ("2024-01-01", s("2024-01-01")),
        ("2001-12-14t21:59:43.10-05:00", s("2001-12-14t21:59:43.10-05:00")),
        ("2001-02-30", s("2001-02-30")),
        ("1.2.3", s("1.2.3")),
        ("0x", s("0x")),
        ("+", s("+")),
        ("-x", s("-x")),
        (".", s(".")),
        ("..", s("..")),
        (".Inf-x", s(".Inf-x")),
        ("<<x", s("<<x")),
        ("12:30", s("12:30")),
        ("190:20:30", s("190:20:30")),
        ("3.14a", s("3.14a")),
        ("=", s("=")),
    ];
    for (plain, want) in cases {
        for text in [format!("v: {plain}\n"), format!("v:\n  - {plain}\n")] {
            let got = agrees(plain, &text).unwrap_or_else(|| panic!("{plain}: declined"));
            let got = got
                .as_map()
                .and_then(|m| m.borrow().get("v").cloned())
                .unwrap_or_default();
            let got = match got {
                Value::List(items) => items[0].clone(),
                other => other,
            };
            assert_eq!(got, *want, "{plain} in {text:?}");
        }
        // Quoted, every form is its text.
        let got = agrees(plain, &format!("v: \"{plain}\"\n")).unwrap_or_else(|| panic!("{plain}: declined"));
        assert_eq!(
            got.as_map().and_then(|m| m.borrow().get("v").cloned()),
            Some(s(plain)),
            "{plain} quoted"
        );
    }
}

/// Keys are go-yaml's typed keys made strings by `sigs.k8s.io/yaml` (checked with helm v3.17.2:
/// `1: a` is `"1"`, `true: b` and `on: c` are `"true"`, `1.5: d` is `"1.5"`).
#[test]
fn keys_like_helm() {
    let cases: &[(&str, &str)] = &[
        ("1: x", "1"),
        ("true: x", "true"),
        ("on: x", "true"),
        ("No: x", "false"),
        ("1.5: x", "1.5"),
        ("0x10: x", "16"),
        ("1e3: x", "1000"),
        ("\"on\": x", "on"),
        ("'1': x", "1"),
        ("-x: x", "-x"),
        ("a b: x", "a b"),
        ("a:b: x", "a:b"),
        ("k#: x", "k#"),
        ("2024-01-01: x", "2024-01-01"),
    ];
    for (text, key) in cases {
        let v = agrees(text, text).unwrap_or_else(|| panic!("{text}: declined"));
        let keys: Vec<String> = v
            .as_map()
            .map(|m| m.borrow().keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys, [key.to_string()], "{text}");
    }
}

/// `KUBECTL_CHART_CORPUS` (default `../shared/corpus`); `None` when absent and not asked for.
fn corpus() -> Option<PathBuf> {
    let set = std::env::var_os("KUBECTL_CHART_CORPUS");
    let dir = PathBuf::from(set.clone().unwrap_or_else(|| "../shared/corpus".into()));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        set.is_none(),
        "KUBECTL_CHART_CORPUS={} is not a directory",
        dir.display()
    );
    eprintln!("corpus part skipped: {} is missing", dir.display());
    None
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
}

fn all_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    yaml_files(Path::new("fixtures"), &mut files);
    if let Some(dir) = corpus() {
        yaml_files(&dir, &mut files);
    }
    // The generated benchmark charts, when `benches/gen-charts.py` has written them.
    yaml_files(Path::new("target/bench-charts"), &mut files);
    files
}

/// Every YAML file of the fixtures, the corpus and the benchmark charts (templates too: most are
/// declined, the rest must agree).
#[test]
fn real_files_read_like_the_general_path() {
    let (mut read, mut values) = (0, 0);
    for f in all_files() {
        let data = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        let is_values = f
            .file_name()
            .is_some_and(|n| n.to_string_lossy().contains("values"));
        if agrees(&f.display().to_string(), text).is_some() {
            read += 1;
            values += usize::from(is_values);
        }
    }
    eprintln!("the scanner read {read} files ({values} values files)");
    assert!(
        read > 20 && values > 10,
        "only {read} files ({values} values files) were read"
    );
}

/// A small xorshift: the same mutations on every run, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// `text` with one edit of the kinds that break YAML in subtle ways.
fn mutate(text: &str, rng: &mut Rng) -> String {
    const INSERTS: &[&str] = &[
        "\t", "#", " #", ":", ": ", "'", "\"", " ", "- ", "|", ">", "\\", "&", "*", "!", "{", "[", "\n",
        "\r", "  ", "---\n", "? ",
    ];
    let mut chars: Vec<char> = text.chars().collect();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at = rng.below(chars.len() + 1);
    match rng.below(7) {
        0 if !chars.is_empty() => {
            chars.remove(at.min(chars.len() - 1));
        }
        1 if !chars.is_empty() => {
            let i = at.min(chars.len() - 1);
            chars.insert(i, chars[i]);
        }
        2 if !lines.is_empty() => {
            let i = rng.below(lines.len());
            return lines
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != i)
                .map(|(_, l)| *l)
                .collect();
        }
        3 if !lines.is_empty() => {
            let i = rng.below(lines.len());
            let mut out: Vec<&str> = lines.clone();
            out.insert(i, lines[i]);
            return out.concat();
        }
        4 if !lines.is_empty() => {
            // Indentation one space more or less.
            let i = rng.below(lines.len());
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            if rng.below(2) == 0 {
                out[i].insert(0, ' ');
            } else if out[i].starts_with(' ') {
                out[i].remove(0);
            }
            return out.concat();
        }
        _ => {
            let ins = INSERTS[rng.below(INSERTS.len())];
            for (k, c) in ins.chars().enumerate() {
                chars.insert(at + k, c);
            }
        }
    }
    chars.into_iter().collect()
}

/// Thousands of one- and two-edit mutations of the shapes above and of small real values files:
/// wherever the scanner still answers, the general path answers the same.
#[test]
fn mutations_read_like_the_general_path() {
    let mut sources: Vec<String> = READS.iter().map(|(_, t)| t.to_string()).collect();
    let mut files = Vec::new();
    yaml_files(Path::new("fixtures"), &mut files);
    yaml_files(Path::new("target/bench-charts/umbrella/charts/svc01"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        if text.len() < 3000 && parse_values(&text).is_some() {
            sources.push(text);
        }
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut tried, mut read) = (0, 0);
    for src in &sources {
        for _ in 0..100 {
            let mut m = mutate(src, &mut rng);
            if rng.below(3) == 0 {
                m = mutate(&m, &mut rng);
            }
            tried += 1;
            read += usize::from(agrees("mutant", &m).is_some());
        }
    }
    eprintln!("the scanner read {read} of {tried} mutants");
    // Most mutants stay readable: the test exercises the scanner, not just its refusals.
    assert!(read * 4 > tried, "only {read} of {tried} mutants were read");
}
