//! Values straight from the parser's events, for the common `values.yaml`: no node tree, no
//! go-yaml-shaped intermediate, one allocation per string.
//!
//! [`super::parse::parse_values`] composes nodes, decodes them as go-yaml v2 does and only then
//! converts to values; on a 200 KB values file those two intermediate trees were most of the
//! parse. This path builds the final [`Value`] while the events stream by, with the same scalar
//! resolution ([`decode_scalar`]) and key conversion ([`key_string`]), and gives up (returns
//! `None`) on everything whose go-yaml semantics depend on the whole document: aliases (expansion
//! and the alias-ratio limit), merge keys (`<<`), duplicate keys (go-yaml's replace-in-place by
//! typed key), keys or numbers JSON cannot hold, a root that is not a map, and any syntax or
//! decoding error. The caller then takes the general path, which produces Helm's exact result or
//! error for those; documents without them come out the same either way (the tests below run
//! both paths on the same inputs).

use std::collections::BTreeMap;

use serde_saphyr::granit_parser::{Event, Options, Parser, ScalarStyle};

use super::parse::{decode_scalar, key_string, Y};
use gotemplate::Value;

enum Frame {
    Seq(Vec<Value>),
    Map {
        entries: BTreeMap<String, Value>,
        key: Option<String>,
    },
}

/// The first document of `text` as Helm's values, or `None` when only the general path can say
/// (see the module doc).
pub(super) fn parse_values(text: &str) -> Option<Value> {
    let mut opts = Options::default();
    // As the general path reads: libyaml adds no line feed to a block scalar ending the input.
    opts.block_scalar_eof_without_line_feed = true;
    // go-yaml reads NEL as a line break; the parser, as text.
    let text = super::reader::libyaml_breaks(text);
    let parser = Parser::new_from_str_with_options(&text, opts);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    for ev in parser {
        let (event, _) = ev.ok()?;
        let done = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(..) => continue,
            // Only the first document counts (go-yaml's `Unmarshal`); an empty one is an empty map.
            Event::DocumentEnd => break,
            Event::Alias(_) | Event::UnresolvedAlias(_) => return None,
            // An anchor's name must be one libyaml accepts (`&x.y` is refused); only the general
            // path sees names, so an anchored node, alias or not, goes there.
            Event::Scalar(_, _, anchor, _)
            | Event::SequenceStart(_, anchor, _)
            | Event::MappingStart(_, anchor, _)
                if anchor != 0 =>
            {
                return None
            }
            Event::Scalar(value, style, _, tag) => {
                let tag = tag.map(|t| format!("{}{}", t.handle(), t.suffix()));
                if let Some(Frame::Map { key: key @ None, .. }) = stack.last_mut() {
                    let is_merge = value == "<<"
                        && ((tag.is_none() && style == ScalarStyle::Plain)
                            || tag.as_deref() == Some("tag:yaml.org,2002:merge"));
                    if is_merge {
                        return None;
                    }
                    let y = decode_scalar(&value, style, tag.as_deref()).ok()?;
                    // Null and uint64 keys are conversion errors; the general path words them.
                    *key = Some(match y {
                        Y::Str(s) => s,
                        Y::Null | Y::Uint(_) => return None,
                        other => key_string(&other).ok()?,
                    });
                    continue;
                }
                scalar_value(&value, style, tag.as_deref())?
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if let Some(Frame::Map { key: None, .. }) = stack.last() {
                    // A collection as a map key: go-yaml's "invalid map key".
                    return None;
                }
                stack.push(match event {
                    Event::SequenceStart(..) => Frame::Seq(Vec::new()),
                    _ => Frame::Map {
                        entries: BTreeMap::new(),
                        key: None,
                    },
                });
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop()? {
                Frame::Seq(items) => Value::list(items),
                Frame::Map { entries, .. } => Value::map_from(entries),
            },
            _ => continue,
        };
        match stack.last_mut() {
            Some(Frame::Seq(items)) => items.push(done),
            Some(Frame::Map { entries, key }) => {
                let k = key.take()?;
                if entries.insert(k, done).is_some() {
                    // Duplicate keys: which one wins depends on go-yaml's typed keys.
                    return None;
                }
            }
            None => root = Some(done),
        }
    }
    match root {
        None | Some(Value::Nil) => Some(Value::new_map()),
        Some(m @ Value::Map(_)) => Some(m),
        Some(_) => None,
    }
}

/// A plain scalar whose first byte no type but string starts with (go-yaml's resolver hint
/// table): it is its text, with no resolution to run.
pub(super) fn plain_is_text(value: &str) -> bool {
    !matches!(
        value.as_bytes().first(),
        None | Some(
            b'+' | b'-' | b'0'
                ..=b'9' | b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' | b'.'
        )
    )
}

/// A scalar as a value after the JSON round trip (every number a float64).
pub(super) fn scalar_value(value: &str, style: ScalarStyle, tag: Option<&str>) -> Option<Value> {
    // Most scalars are strings: quoted or block ones, and plain ones that cannot resolve to
    // another type; they skip resolution and its copy.
    let plain_text = style == ScalarStyle::Plain && plain_is_text(value);
    if tag.is_none() && (style != ScalarStyle::Plain || plain_text) {
        return Some(Value::str(value));
    }
    Some(match decode_scalar(value, style, tag).ok()? {
        Y::Null => Value::Nil,
        Y::Bool(b) => Value::Bool(b),
        Y::Int(i) => Value::Float(i as f64),
        Y::Uint(u) => Value::Float(u as f64),
        Y::Float(f) if f.is_finite() => Value::Float(f),
        // `json: unsupported value`: the general path words it.
        Y::Float(_) => return None,
        Y::Str(s) => Value::str(s),
        Y::Seq(_) | Y::Map(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents the direct path must build exactly as the general path does.
    const SAME: &[(&str, &str)] = &[
        ("empty", ""),
        ("comment only", "# nothing\n"),
        ("explicit null root", "~\n"),
        (
            "scalars",
            "a: 1\nb: 1.5\nc: yes\nd: off\ne: ~\nf:\ng: 0x1F\nh: 010\ni: 1_000\nj: 1e3\n",
        ),
        (
            "strings",
            "a: plain text\nb: 'single'\nc: \"dq \\t x\"\nd: |\n  lit\n  eral\ne: >\n  fol\n  ded\n",
        ),
        (
            "hint bytes",
            "a: yesno\nb: tango\nc: -x\nd: .hidden\ne: <b>\nf: 2024-01-01\ng: +1\nh: ~x\n",
        ),
        (
            "tags",
            "a: !!str 123\nb: !!float 1\nc: !!binary aGk=\nd: !custom x\ne: !!int \"7\"\n",
        ),
        ("typed keys", "1: a\n1.5: b\ntrue: c\noff: d\n0.1: e\n"),
        (
            "nested",
            "a:\n  b:\n    - 1\n    - {c: d, e: [f, g]}\n    - - h\n  i: {}\nj: []\n",
        ),
        ("flow", "{a: [1, 2, {b: c}], d: \"e\"}"),
        ("later documents ignored", "a: 1\n---\n- not a map\n"),
        ("block scalar at eof", "a: |\n  x"),
    ];

    /// Documents only the general path can decide: the direct one must give up on them.
    const GIVE_UP: &[(&str, &str)] = &[
        ("alias", "a: &x {b: 1}\nc: *x\n"),
        ("anchor without alias", "a: &x {b: 1}\nc: 2\n"),
        ("anchored scalar", "a: &x 1\n"),
        ("anchor name libyaml refuses", "a: &x.y 1\n"),
        ("merge key", "a: {b: 1}\nc:\n  <<: {d: 2}\n"),
        ("tagged merge key", "c:\n  !!merge <<: {d: 2}\n"),
        ("duplicate key", "a: 1\na: 2\n"),
        ("duplicate by conversion", "1: a\n\"1\": b\n"),
        ("null key", "~: 1\n"),
        ("uint key", "18446744073709551615: 1\n"),
        ("collection key", "? [a]\n: 1\n"),
        ("infinite", "a: .inf\n"),
        ("list root", "- a\n"),
        ("scalar root", "just text\n"),
        ("syntax error", "a: 1\n  b: 2\n"),
        ("bad tag value", "a: !!int x\n"),
    ];

    #[test]
    fn direct_values_match_the_general_path() {
        for (name, text) in SAME {
            let want = super::super::parse::parse_values_general(text, "values.yaml")
                .unwrap_or_else(|e| panic!("{name}: general path failed: {e}"));
            let got = parse_values(text).unwrap_or_else(|| panic!("{name}: direct path gave up"));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn direct_values_give_up_where_the_document_decides() {
        for (name, text) in GIVE_UP {
            assert!(parse_values(text).is_none(), "{name}: direct path should give up");
        }
    }

    /// helm v3.17.2 refuses a values.yaml whose anchor name libyaml refuses ("did not find
    /// expected alphabetic or numeric character"), used or not; so do we, whichever path reads it.
    #[test]
    fn anchor_names_libyaml_refuses_fail_the_values_file() {
        for text in ["a: &x.y 1\n", "a: &x.y {b: 1}\n", "a:\n  - &x.y [1]\n"] {
            let got = super::super::parse::read_values(text.as_bytes(), "values.yaml");
            let err = got.expect_err(text);
            assert!(err.contains("values.yaml"), "{text}: {err}");
        }
    }

    /// Every values file of the fixtures and of the real charts in the corpus (and their
    /// subcharts): where the direct path answers, it answers as the general one.
    #[test]
    fn direct_values_match_on_real_values_files() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".yaml") && n.contains("values"))
                {
                    out.push(p);
                }
            }
        }
        let mut files = Vec::new();
        walk(std::path::Path::new("fixtures"), &mut files);
        let corpus = std::path::Path::new("/work/shared/corpus/charts");
        if corpus.is_dir() {
            walk(corpus, &mut files);
        } else {
            eprintln!("corpus part skipped: {} is missing", corpus.display());
        }
        let mut direct = 0;
        for f in &files {
            let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
            let Some(got) = parse_values(&text) else { continue };
            direct += 1;
            let want = super::super::parse::parse_values_general(&text, "values.yaml");
            assert_eq!(Ok(got), want, "{}", f.display());
        }
        assert!(direct > 0, "no values file took the direct path");
    }
}
