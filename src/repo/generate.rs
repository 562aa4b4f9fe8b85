//! `repo index DIR [--url URL] [--merge FILE]`: an `index.yaml` for a directory of chart
//! archives, as Helm's `IndexDirectory` makes it.
//!
//! Helm's rules kept: archives are `DIR/*.tgz` and `DIR/*/*.tgz` (Go's glob reads `**` as `*`),
//! a file that does not load as a chart is skipped, an invalid `Chart.yaml` is an error naming
//! the file, URLs are the archive's path joined to `--url`, and `--merge` adds the other index's
//! versions that this directory does not have.

use std::{
    fs,
    path::{Path, PathBuf},
};

use super::{
    index::{sort_newest_first, ChartVersion, Index},
    Error,
};

/// One archive found in the directory, before it is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The archive.
    pub path: PathBuf,
    /// Its directory relative to the indexed one ("" at the top).
    pub parent: String,
    /// Its file name.
    pub file: String,
}

/// The archives Helm indexes in `dir`, in Helm's order (top level sorted, then one level down).
pub fn archives(dir: &Path) -> Result<Vec<DirEntry>, Error> {
    let mut out = Vec::new();
    let read = |d: &Path| -> Result<Vec<(String, PathBuf, bool)>, Error> {
        let mut v = Vec::new();
        for e in fs::read_dir(d).map_err(|e| Error::io(d, e))? {
            let e = e.map_err(|e| Error::io(d, e))?;
            let is_dir = fs::metadata(e.path()).map(|m| m.is_dir()).unwrap_or(false);
            v.push((e.file_name().to_string_lossy().into_owned(), e.path(), is_dir));
        }
        v.sort();
        Ok(v)
    };
    let top = read(dir)?;
    for (name, path, is_dir) in &top {
        if !is_dir && name.ends_with(".tgz") {
            out.push(DirEntry {
                path: path.clone(),
                parent: String::new(),
                file: name.clone(),
            });
        }
    }
    // Go's Glob("dir/**/*.tgz") matches names sorted as whole paths: `a/x.tgz` before `b/…`.
    let mut nested = Vec::new();
    for (sub, path, is_dir) in &top {
        if *is_dir {
            for (name, p, d) in read(path).unwrap_or_default() {
                if !d && name.ends_with(".tgz") {
                    nested.push(DirEntry {
                        path: p,
                        parent: sub.clone(),
                        file: name,
                    });
                }
            }
        }
    }
    nested.sort_by(|a, b| (&a.parent, &a.file).cmp(&(&b.parent, &b.file)));
    out.extend(nested);
    Ok(out)
}

/// Go's `urlutil.URLJoin`: `base`'s path joined with `parts` and cleaned (`path.Join`).
fn url_join(base: &str, parts: &[&str]) -> String {
    let (base, query) = base.split_once('?').map_or((base, None), |(b, q)| (b, Some(q)));
    let (prefix, path) = match base.split_once("://") {
        Some((scheme, rest)) => match rest.find('/') {
            Some(i) => (format!("{scheme}://{}", &rest[..i]), &rest[i..]),
            None => (format!("{scheme}://{rest}"), ""),
        },
        None => (String::new(), base),
    };
    let mut all: Vec<&str> = vec![path];
    all.extend(parts.iter().copied());
    let nonempty: Vec<&str> = all.into_iter().filter(|s| !s.is_empty()).collect();
    // `path.Join` of nothing but empty elements is "", not the "." `path.Clean` would give.
    let joined = if nonempty.is_empty() {
        String::new()
    } else {
        gotemplate::gostr::path_clean(&nonempty.join("/"))
    };
    let mut out = if !prefix.is_empty() && !joined.is_empty() && !joined.starts_with('/') {
        format!("{prefix}/{joined}")
    } else {
        format!("{prefix}{joined}")
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Builds the index of `dir` (Helm's `IndexDirectory`); `created` is the time stamped on each
/// entry. Archives that are not charts are skipped, as Helm assumes them to be other files.
pub fn index_directory(dir: &Path, base_url: &str, created: &str) -> Result<Index, Error> {
    let mut index = Index {
        api_version: "v1".into(),
        generated: created.into(),
        ..Index::default()
    };
    for a in archives(dir)? {
        let data = fs::read(&a.path).map_err(|e| Error::io(&a.path, e))?;
        let Ok(chart) = crate::chart::loader::load_archive(&data) else {
            continue;
        };
        let mut cv = ChartVersion {
            metadata: chart.metadata,
            urls: Vec::new(),
            created: created.into(),
            digest: crate::net::sha256_hex(&data),
            removed: false,
        };
        let parent_url = url_join(base_url, &[&a.parent]);
        cv.urls = vec![if parent_url.is_empty() {
            a.file.clone()
        } else {
            url_join(&parent_url, &[&a.file])
        }];
        cv.validate().map_err(|e| {
            Error::invalid(
                a.path.display(),
                format!(
                    "failed adding to {} to index: validate failed for {}: {e}",
                    a.file, a.file
                ),
            )
        })?;
        index
            .entries
            .entry(cv.metadata.name.clone())
            .or_default()
            .push(cv);
    }
    Ok(index)
}

/// Helm's `Merge`: every version of `other` that `index` lacks (by name and version) is added.
pub fn merge(index: &mut Index, other: Index) {
    for (name, versions) in other.entries {
        for v in versions {
            let list = index.entries.entry(name.clone()).or_default();
            // Helm's Has goes through Get: an exact version string match first.
            if !list.iter().any(|x| x.metadata.version == v.metadata.version) {
                list.push(v);
            }
        }
    }
}

/// The index as `helm repo index` writes it (`SortEntries`, then `sigs.k8s.io/yaml`), or as
/// indented JSON with `--json`.
pub fn write_index(index: &mut Index, json: bool) -> String {
    for versions in index.entries.values_mut() {
        sort_newest_first(versions);
    }
    let entries: serde_json::Map<String, serde_json::Value> = index
        .entries
        .iter()
        .map(|(k, v)| (k.clone(), v.iter().map(ChartVersion::to_json).collect()))
        .collect();
    let doc = serde_json::json!({
        "apiVersion": index.api_version,
        "entries": entries,
        "generated": index.generated,
    });
    if json {
        // encoding/json MarshalIndent keeps struct field order; map keys sorted.
        let v = crate::output::sort_keys(&doc);
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"  ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        serde::Serialize::serialize(&v, &mut ser).expect("JSON values serialize");
        return String::from_utf8(out).expect("serde_json writes UTF-8");
    }
    let mut text = crate::yaml::json_to_yaml(&crate::output::sort_keys(&doc));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_join_as_go() {
        let cases = [
            ("", "", ""),
            ("", "sub", "sub"),
            ("http://h:1/", "", "http://h:1/"),
            ("http://h:1/charts/", "", "http://h:1/charts"),
            ("http://h:1/charts", "sub", "http://h:1/charts/sub"),
            ("http://h", "a.tgz", "http://h/a.tgz"),
            ("http://h/x?sig=1", "a.tgz", "http://h/x/a.tgz?sig=1"),
        ];
        for (base, part, want) in cases {
            assert_eq!(url_join(base, &[part]), want, "{base} + {part}");
        }
    }
}
