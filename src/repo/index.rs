//! `index.yaml`, read as Helm reads it (`repo.loadIndex`) but only as far as a command needs.
//!
//! Helm decodes the whole index on every `install repo/name`; popular indexes are tens of MB.
//! [`find_chart`] instead scans lines for the `entries.<name>` key and splits that block into
//! its list items, reading only each item's `version:` line; [`select`](super::select()) picks
//! the version and only that item is decoded and validated. The scan understands the layout
//! every index writer produces (block mappings and sequences, as `sigs.k8s.io/yaml` emits them);
//! on anything else (JSON, flow style, tabs, escaped keys) it falls back to decoding everything,
//! so the answer never depends on the shortcut.
//!
//! Invalid entries are skipped with Helm's warning (`skipping loading invalid entry for chart …`)
//! and versions are ordered newest first, invalid versions last, as `SortEntries` leaves them.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::Error;
use crate::chart::metadata::{field_bool, field_string, field_string_list, for_each_field, Metadata};
use gotemplate::semver::{parse_version, Version};

/// Index files and downloads larger than this are refused before decoding: the biggest public
/// indexes are a few tens of MB, and an index is held in memory whole.
pub const MAX_INDEX_BYTES: usize = 256 << 20;

/// One version of a chart in an index (Helm's `repo.ChartVersion`).
#[derive(Debug, Clone, PartialEq)]
pub struct ChartVersion {
    /// The chart's `Chart.yaml` fields.
    pub metadata: Metadata,
    /// Download locations: absolute, relative to the index URL, or `oci://`.
    pub urls: Vec<String>,
    /// RFC 3339 time, as written (empty if none).
    pub created: String,
    /// The archive's sha256 in hex (empty if the index has none).
    pub digest: String,
    /// Marked removed by the repository (kept in listings, as Helm does).
    pub removed: bool,
}

impl ChartVersion {
    /// Decodes one entry as `sigs.k8s.io/yaml` fills the Go struct (metadata fields and the
    /// entry's own, matched case-insensitively; unknown keys ignored).
    pub fn from_json(v: &Json) -> Result<ChartVersion, String> {
        let mut metadata = Metadata::default();
        metadata.apply(v)?;
        let mut cv = ChartVersion {
            metadata,
            urls: Vec::new(),
            created: String::new(),
            digest: String::new(),
            removed: false,
        };
        for_each_field(v, |k, val| {
            match k {
                "urls" => cv.urls = field_string_list(val, "ChartVersion.urls")?,
                "created" => cv.created = field_string(val, "ChartVersion.created")?,
                "digest" => cv.digest = field_string(val, "ChartVersion.digest")?,
                "removed" => cv.removed = field_bool(val, "ChartVersion.removed")?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(cv)
    }

    /// The entry as Helm marshals it (metadata with `omitempty`, then `urls`, `created`,
    /// `digest`); keys are sorted by the YAML writer.
    pub fn to_json(&self) -> Json {
        let mut m = match self.metadata.to_json() {
            Json::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        m.insert("urls".into(), self.urls.clone().into());
        // Go marshals a zero time.Time even with omitempty.
        let created = if self.created.is_empty() {
            "0001-01-01T00:00:00Z"
        } else {
            &self.created
        };
        m.insert("created".into(), created.into());
        if self.removed {
            m.insert("removed".into(), true.into());
        }
        if !self.digest.is_empty() {
            m.insert("digest".into(), self.digest.clone().into());
        }
        Json::Object(m)
    }

    /// `loadIndex`'s check: `apiVersion` defaults to v1, then `Metadata.Validate`, except the
    /// duplicate dependency alias error that some repository servers cause (helm#12748).
    pub fn validate(&mut self) -> Result<(), String> {
        if self.metadata.api_version.is_empty() {
            self.metadata.api_version = "v1".into();
        }
        match self.metadata.validate() {
            Err(e) if !e.starts_with("validation: more than one dependency with name or alias") => Err(e),
            _ => Ok(()),
        }
    }

    /// The semver of `version`, if valid.
    pub fn semver(&self) -> Option<Version> {
        parse_version(&self.metadata.version).ok()
    }
}

/// Helm's warning for a null list item.
pub fn empty_warning(chart: &str, source: &str) -> String {
    format!(
        "skipping loading invalid entry for chart {} from {source}: empty entry",
        gotemplate::gofmt::quote(chart)
    )
}

/// Helm's warning for an entry it drops.
pub fn skip_warning(chart: &str, version: &str, source: &str, err: &str) -> String {
    let q = gotemplate::gofmt::quote;
    format!(
        "skipping loading invalid entry for chart {} {} from {source}: {err}",
        q(chart),
        q(version)
    )
}

/// A whole index, decoded (for `search`, `repo index --merge` and the fallback path).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Index {
    pub api_version: String,
    pub generated: String,
    /// Chart name → versions, newest first.
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
    /// `skipping loading invalid entry …` lines, for the caller to print.
    pub warnings: Vec<String>,
}

impl Index {
    /// Helm's `loadIndex`: empty data and a missing `apiVersion` are errors, invalid entries are
    /// dropped with a warning, versions sorted newest first.
    pub fn parse(data: &[u8], source: &str) -> Result<Index, Error> {
        let text = check_text(data, source)?;
        let mut index = Index::default();
        match scan(text) {
            Some(scanned) => {
                // Decode item by item: the same result as one big document, in a fraction of the
                // memory (no tree of the whole file).
                for (name, block) in scanned.charts {
                    let mut versions = Vec::new();
                    for item in split_items(block) {
                        match decode_item(item.text, source)? {
                            Some(v) => versions.push(v),
                            None => index.warnings.push(empty_warning(&name, source)),
                        }
                    }
                    index.add_validated(&name, versions, source);
                }
                index.read_top(&parse_json_or_yaml(scanned.top.as_bytes(), source)?);
            }
            None => index.decode_all(text, source)?,
        }
        if index.api_version.is_empty() {
            return Err(Error::invalid(source, "no API version specified"));
        }
        Ok(index)
    }

    /// The plain path: the whole document decoded at once (JSON, flow style, odd layouts).
    fn decode_all(&mut self, text: &str, source: &str) -> Result<(), Error> {
        let doc = parse_json_or_yaml(text.as_bytes(), source)?;
        self.read_top(&doc);
        if let Some(Json::Object(entries)) = doc.get("entries") {
            for (name, list) in entries {
                let mut versions = Vec::new();
                for item in list.as_array().map(Vec::as_slice).unwrap_or_default() {
                    if item.is_null() {
                        self.warnings.push(empty_warning(name, source));
                        continue;
                    }
                    versions.push(
                        ChartVersion::from_json(item)
                            .map_err(|e| Error::invalid(source, format!("entries.{name}: {e}")))?,
                    );
                }
                self.add_validated(name, versions, source);
            }
        }
        Ok(())
    }

    fn read_top(&mut self, doc: &Json) {
        if let Some(v) = doc.get("apiVersion").and_then(Json::as_str) {
            self.api_version = v.to_string();
        }
        if let Some(v) = doc.get("generated").and_then(Json::as_str) {
            self.generated = v.to_string();
        }
    }

    fn add_validated(&mut self, name: &str, versions: Vec<ChartVersion>, source: &str) {
        let mut kept = Vec::with_capacity(versions.len());
        for mut v in versions {
            match v.validate() {
                Ok(()) => kept.push(v),
                Err(e) => self
                    .warnings
                    .push(skip_warning(name, &v.metadata.version, source, &e)),
            }
        }
        sort_newest_first(&mut kept);
        self.entries.insert(name.to_string(), kept);
    }
}

/// `SortEntries`: newest first; versions that are not semver go last.
pub fn sort_newest_first(versions: &mut [ChartVersion]) {
    versions.sort_by_cached_key(|v| std::cmp::Reverse(SortKey(v.semver())));
}

#[derive(PartialEq, Eq)]
struct SortKey(Option<Version>);

impl PartialOrd for SortKey {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for SortKey {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        match (&self.0, &o.0) {
            (Some(a), Some(b)) => a.compare(b),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
    }
}

fn check_text<'a>(data: &'a [u8], source: &str) -> Result<&'a str, Error> {
    if data.is_empty() {
        return Err(Error::invalid(source, "empty index.yaml file"));
    }
    if data.len() > MAX_INDEX_BYTES {
        return Err(Error::invalid(
            source,
            format!(
                "index is {} bytes, over the {} byte limit",
                data.len(),
                MAX_INDEX_BYTES
            ),
        ));
    }
    std::str::from_utf8(data).map_err(|e| Error::invalid(source, format!("not UTF-8: {e}")))
}

fn parse_json_or_yaml(data: &[u8], source: &str) -> Result<Json, Error> {
    // Helm: valid JSON is read as JSON, anything else as YAML.
    if let Ok(v) = serde_json::from_slice::<Json>(data) {
        return Ok(v);
    }
    let text = std::str::from_utf8(data).map_err(|e| Error::invalid(source, e.to_string()))?;
    let docs =
        crate::yaml::parse_documents(text, source).map_err(|e| Error::invalid(source, e.to_string()))?;
    Ok(docs.into_iter().next().unwrap_or(Json::Null))
}

/// Decodes one list item (`  - apiVersion: …` through its last line); `None` for a null item.
fn decode_item(text: &str, source: &str) -> Result<Option<ChartVersion>, Error> {
    let docs =
        crate::yaml::parse_documents(text, source).map_err(|e| Error::invalid(source, e.to_string()))?;
    let item = match docs.into_iter().next() {
        Some(Json::Array(mut a)) if a.len() == 1 => a.pop().unwrap_or(Json::Null),
        _ => return Err(Error::invalid(source, "an entry is not a list item")),
    };
    if item.is_null() {
        return Ok(None);
    }
    ChartVersion::from_json(&item)
        .map(Some)
        .map_err(|e| Error::invalid(source, e))
}

/// One list item of a chart's block: its text and, when the scan could read it without
/// decoding, its `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<'a> {
    pub text: &'a str,
    pub version: Option<String>,
}

impl Item<'_> {
    /// Decodes and validates the item (the `version` is read from the decoded entry).
    pub fn decode(&self, source: &str) -> Result<Option<ChartVersion>, Error> {
        decode_item(self.text, source)
    }
}

/// The result of looking a chart up without decoding the index.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// The chart's list items, in file order.
    Items(Vec<Item<'a>>),
    /// The index has no such chart.
    Missing,
    /// The layout is not one the scan reads: decode the whole index instead.
    Decoded(Index),
}

/// Finds `entries.<name>` in an index without decoding the rest. Errors are Helm's: empty data,
/// a missing `apiVersion`, and what the fallback decoder reports.
pub fn find_chart<'a>(data: &'a [u8], name: &str, source: &str) -> Result<Lookup<'a>, Error> {
    let text = check_text(data, source)?;
    match scan_for(text, Some(name)) {
        Some(scanned) => {
            if !scanned.top.lines().any(|l| {
                l.strip_prefix("apiVersion:")
                    .is_some_and(|v| !matches!(v.trim(), "" | "\"\"" | "''" | "null" | "~"))
            }) {
                return Err(Error::invalid(source, "no API version specified"));
            }
            Ok(match scanned.charts.into_iter().next() {
                Some((_, block)) => Lookup::Items(split_items(block)),
                None => Lookup::Missing,
            })
        }
        None => Ok(Lookup::Decoded(Index::parse(data, source)?)),
    }
}

struct Scanned<'a> {
    /// The top-level lines other than the entries block (apiVersion, generated, …).
    top: String,
    /// Chart name → the lines of its value (the list items).
    charts: Vec<(String, &'a str)>,
}

fn scan(text: &str) -> Option<Scanned<'_>> {
    scan_for(text, None)
}

/// Splits the index into top-level lines and chart blocks (all of them, or only `want`'s).
/// `None` when the text is not in the plain block layout.
fn scan_for<'a>(text: &'a str, want: Option<&str>) -> Option<Scanned<'a>> {
    let bytes = text.as_bytes();
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return None; // JSON
    }
    let mut top = String::new();
    let mut charts: Vec<(String, &str)> = Vec::new();
    // Where we are: outside `entries`, inside it before the first key (indent unknown), or in it.
    let mut in_entries = false;
    let mut key_indent: Option<usize> = None;
    // The chart whose block is being collected: (name, start offset of its first value line).
    let mut open: Option<(String, usize)> = None;
    let mut start = 0;
    let close = |open: &mut Option<(String, usize)>, end: usize, charts: &mut Vec<(String, &'a str)>| {
        if let Some((name, from)) = open.take() {
            charts.push((name, &text[from..end.max(from)]));
        }
    };
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
        let line = &text[start..end];
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        let rest = &body[indent..];
        if rest.starts_with('\t') {
            return None;
        }
        if rest.is_empty() || rest.starts_with('#') || body == "---" {
            start = end;
            continue;
        }
        if indent == 0 {
            close(&mut open, start, &mut charts);
            if let Some(after) = rest.strip_prefix("entries:") {
                let after = after.trim();
                if !(after.is_empty() || after.starts_with('#')) {
                    // `entries: {}` or flow style: only an empty map is simple.
                    if after != "{}" && after != "null" && after != "~" {
                        return None;
                    }
                } else {
                    in_entries = true;
                    key_indent = None;
                }
            } else {
                in_entries = false;
                if rest.starts_with("- ")
                    || rest.starts_with('-') && rest.len() == 1
                    || rest.starts_with("...")
                {
                    return None;
                }
                top.push_str(body);
                top.push('\n');
            }
            start = end;
            continue;
        }
        if !in_entries {
            top.push_str(body);
            top.push('\n');
            start = end;
            continue;
        }
        let n = *key_indent.get_or_insert(indent);
        if indent < n {
            return None;
        }
        let is_item = rest.starts_with("- ") || rest == "-";
        if indent == n && !is_item {
            close(&mut open, start, &mut charts);
            let (key, value) = split_key(rest)?;
            if !(value.is_empty() || value.starts_with('#')) {
                // `name: []` and the like: leave such indexes to the decoder.
                return None;
            }
            if want.is_none_or(|w| w == key) {
                open = Some((key, end));
            }
        }
        start = end;
    }
    close(&mut open, bytes.len(), &mut charts);
    Some(Scanned { top, charts })
}

/// A block mapping key and what follows its colon; `None` for keys the scan does not read.
fn split_key(rest: &str) -> Option<(String, &str)> {
    let (key, after) = match rest.as_bytes()[0] {
        b'"' => {
            let close = rest[1..].find('"')? + 1;
            if rest[1..close].contains('\\') {
                return None;
            }
            (rest[1..close].to_string(), &rest[close + 1..])
        }
        b'\'' => {
            let close = rest[1..].find('\'')? + 1;
            if rest[close + 1..].starts_with('\'') {
                return None;
            }
            (rest[1..close].to_string(), &rest[close + 1..])
        }
        b'?' | b'&' | b'*' | b'!' | b'[' | b'{' | b'|' | b'>' => return None,
        _ => {
            let colon = rest
                .find(": ")
                .or_else(|| rest.ends_with(':').then(|| rest.len() - 1))?;
            (rest[..colon].trim_end().to_string(), &rest[colon..])
        }
    };
    let after = after.strip_prefix(':')?;
    Some((key, after.trim()))
}

/// Splits a chart's block into its list items, reading each one's `version:` line.
fn split_items(block: &str) -> Vec<Item<'_>> {
    let bytes = block.as_bytes();
    let mut items: Vec<Item> = Vec::new();
    let mut item_indent: Option<usize> = None;
    let mut current: Option<(usize, Option<String>)> = None;
    let mut start = 0;
    while start < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i + 1);
        let body = block[start..end].trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        let rest = &body[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            start = end;
            continue;
        }
        let m = *item_indent.get_or_insert(indent);
        if indent == m && (rest.starts_with("- ") || rest == "-") {
            if let Some((from, version)) = current.take() {
                items.push(Item {
                    text: &block[from..start],
                    version,
                });
            }
            current = Some((start, None));
            // The first key shares the dash's line.
            if let Some(v) = version_value(rest[1..].trim_start()) {
                if let Some(c) = current.as_mut() {
                    c.1 = v;
                }
            }
        } else if indent == m + 2 {
            if let (Some(v), Some(c)) = (version_value(rest), current.as_mut()) {
                c.1 = v;
            }
        }
        start = end;
    }
    if let Some((from, version)) = current {
        items.push(Item {
            text: &block[from..],
            version,
        });
    }
    items
}

/// For a `version: …` line: `Some(Some(v))` when `v` is certainly the string Helm decodes,
/// `Some(None)` when only a decoder can tell (`1.10` is a YAML float, escapes), `None` when the
/// line is another key.
fn version_value(line: &str) -> Option<Option<String>> {
    let v = line.strip_prefix("version:")?;
    if !(v.is_empty() || v.starts_with(' ')) {
        return None;
    }
    let v = v.trim();
    let v = v.split(" #").next().unwrap_or(v).trim_end();
    let plain = |s: &str| {
        // Three dot-separated parts cannot be a YAML 1.1 number, bool or null.
        s.matches('.').count() >= 2
            && !s.starts_with(['"', '\'', '&', '*', '!', '[', '{', '|', '>', '-', '?'])
    };
    Some(
        if let Some(q) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            (!q.contains(['\\', '"'])).then(|| q.to_string())
        } else if let Some(q) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            (!q.contains('\'')).then(|| q.to_string())
        } else if plain(v) {
            Some(v.to_string())
        } else {
            None
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape `helm repo index` writes, with an invalid entry (no version) and a prerelease.
    const INDEX: &str = r#"apiVersion: v1
entries:
  demo:
  - apiVersion: v2
    appVersion: 1.25.3
    created: "2026-12-06T11:03:52.698122544Z"
    description: A small web app that exercises the features kubectl-chart must render
      like Helm
    digest: 4ca0cf7e
    name: demo
    urls:
    - demo-0.3.1.tgz
    version: 0.3.1
  - apiVersion: v2
    description: |
      multi
      line
    name: demo
    urls:
    - demo-0.4.0-rc.1.tgz
    version: "0.4.0-rc.1"
  - name: demo
    urls:
    - broken.tgz
  library:
  - apiVersion: v2
    name: library
    type: library
    urls:
    - library-0.1.0.tgz
    version: 0.1.0
generated: "2026-12-06T11:03:52.697294338Z"
"#;

    #[test]
    fn full_parse_skips_invalid_entries_with_helms_warning_and_sorts() {
        let idx = Index::parse(INDEX.as_bytes(), "idx").unwrap();
        let demo: Vec<&str> = idx.entries["demo"]
            .iter()
            .map(|v| v.metadata.version.as_str())
            .collect();
        assert_eq!(demo, ["0.4.0-rc.1", "0.3.1"]);
        assert_eq!(
            idx.warnings,
            ["skipping loading invalid entry for chart \"demo\" \"\" from idx: validation: chart.metadata.version is required"]
        );
        assert_eq!(
            idx.entries["demo"][1].metadata.description,
            "A small web app that exercises the features kubectl-chart must render like Helm"
        );
        assert_eq!(idx.generated, "2026-12-06T11:03:52.697294338Z");
    }

    #[test]
    fn scan_and_decoder_agree() {
        // The scan's answer must equal a plain decode of the same text, for every layout case.
        let json = serde_json::to_string(&crate::yaml::parse_documents(INDEX, "i").unwrap()[0]).unwrap();
        let indented = "apiVersion: v1\nentries:\n    a:\n        -   name: a\n            version: 1.0.0\n        # note\n        -   name: a\n            version: '2.0.0'\n    'b c':\n      - {name: b c, version: 1.0.0}\n";
        let flow = "apiVersion: v1\nentries: {a: [{name: a, version: 1.0.0}]}\n";
        let nulls = "apiVersion: v1\nentries:\n  a:\n  -\n  - name: a\n    version: 1.0.0\n";
        for (name, text) in [
            ("block", INDEX),
            ("json", &json),
            ("indented", indented),
            ("flow", flow),
            ("nulls", nulls),
        ] {
            let scanned = Index::parse(text.as_bytes(), "i").unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut decoded = Index::default();
            decoded.decode_all(text, "i").unwrap();
            assert_eq!(scanned.entries, decoded.entries, "{name}");
            assert_eq!(scanned.warnings, decoded.warnings, "{name}");
            assert!(!scanned.entries.is_empty(), "{name}");
        }
    }

    #[test]
    fn find_chart_reads_versions_without_decoding() {
        let Lookup::Items(items) = find_chart(INDEX.as_bytes(), "demo", "i").unwrap() else {
            panic!("block layout is scanned")
        };
        let versions: Vec<Option<&str>> = items.iter().map(|i| i.version.as_deref()).collect();
        assert_eq!(versions, [Some("0.3.1"), Some("0.4.0-rc.1"), None]);
        assert!(matches!(
            find_chart(INDEX.as_bytes(), "nope", "i").unwrap(),
            Lookup::Missing
        ));
        assert!(
            matches!(find_chart(INDEX.as_bytes(), "library", "i").unwrap(), Lookup::Items(i) if i.len() == 1)
        );
    }

    #[test]
    fn bad_indexes_are_helms_errors() {
        // (case, text, error)
        let cases = [
            ("empty", "", "i: empty index.yaml file"),
            (
                "no apiVersion",
                "entries:\n  a:\n  - name: a\n    version: 1.0.0\n",
                "i: no API version specified",
            ),
        ];
        for (name, text, want) in cases {
            let e = Index::parse(text.as_bytes(), "i").unwrap_err().to_string();
            assert!(e.starts_with(want), "{name}: {e}");
            let e = find_chart(text.as_bytes(), "a", "i").unwrap_err().to_string();
            assert!(e.starts_with(want), "{name} (find): {e}");
        }
        let e = Index::parse(b"apiVersion: v1\nentries:\n  a:\n  - name: [\n", "i").unwrap_err();
        assert!(e.to_string().starts_with("i: i:"), "{e}");
    }

    #[test]
    fn version_line_reading() {
        // (line, what the scan makes of it)
        let cases: &[(&str, Option<Option<&str>>)] = &[
            ("version: 1.2.3", Some(Some("1.2.3"))),
            ("version: \"1.2\"", Some(Some("1.2"))),
            ("version: '1.0.0+b'", Some(Some("1.0.0+b"))),
            ("version: 1.10 # float in YAML", Some(None)),
            ("version: \"a\\tb\"", Some(None)),
            ("versions: 1.2.3", None),
            ("name: x", None),
        ];
        for (line, want) in cases {
            assert_eq!(version_value(line), want.map(|o| o.map(str::to_string)), "{line}");
        }
    }
}
