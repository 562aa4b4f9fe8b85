//! Helm's choice of a chart version from an index (`IndexFile.Get`) and of the download URL
//! (`ResolveReferenceURL`).
//!
//! The rules, in order: with a version given, an entry whose version string is exactly it wins;
//! then the first entry (newest first) whose semver satisfies the version read as a Masterminds
//! constraint; with no version, the newest stable one (`*` never admits prereleases). `--devel`
//! without a version is the constraint `>0.0.0-0` (helm's `install`/`template` set it so).

use super::{
    index::{empty_warning, find_chart, skip_warning, ChartVersion, Lookup},
    Error,
};
use gotemplate::semver::{parse_version, Constraints, Version};

/// Why no version was chosen (Helm's `ErrNoChartName`, `ErrNoChartVersion`, or a constraint
/// that does not parse).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// The index has no chart of that name.
    #[error("no chart name found")]
    NoName,
    /// The chart is listed with no versions at all.
    #[error("no chart version found")]
    Empty,
    /// No version matches (Helm prints `name-version`).
    #[error("no chart version found for {0}")]
    NoVersion(String),
    /// `--version` is neither a version nor a constraint.
    #[error("{0}")]
    BadConstraint(String),
}

/// The version a `--devel` flag stands for when no `--version` is given.
pub fn devel_constraint(version: &str, devel: bool) -> String {
    let v = version.trim();
    if v.is_empty() && devel {
        ">0.0.0-0".into()
    } else {
        v.to_string()
    }
}

/// Picks from `versions` (newest first, as the index is sorted) the position Helm's `Get`
/// returns for `wanted` ("" for the newest stable).
pub fn select(name: &str, versions: &[(&str, Option<&Version>)], wanted: &str) -> Result<usize, SelectError> {
    if versions.is_empty() {
        return Err(SelectError::Empty);
    }
    let constraint = Constraints::parse(if wanted.is_empty() { "*" } else { wanted })
        .map_err(SelectError::BadConstraint)?;
    if !wanted.is_empty() {
        if let Some(i) = versions.iter().position(|(v, _)| *v == wanted) {
            return Ok(i);
        }
    }
    versions
        .iter()
        .position(|(_, v)| v.is_some_and(|v| constraint.matches(v)))
        .ok_or_else(|| SelectError::NoVersion(format!("{name}-{wanted}")))
}

/// Resolution failure: the index is unreadable, or nothing matches.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    /// The index could not be read.
    #[error(transparent)]
    Index(#[from] Error),
    /// No entry fits.
    #[error(transparent)]
    Select(#[from] SelectError),
}

/// Finds the entry Helm would pick for `name` and `wanted` in index bytes, decoding only what it
/// must: the chart's block is split into items, their `version:` lines read, and only the
/// chosen item decoded and validated. An invalid chosen item is dropped with Helm's warning and
/// the choice made again, as if Helm's load had skipped it. Warnings are pushed to `warnings`.
pub fn find_version(
    data: &[u8],
    name: &str,
    wanted: &str,
    source: &str,
    warnings: &mut Vec<String>,
) -> Result<ChartVersion, FindError> {
    let items = match find_chart(data, name, source)? {
        Lookup::Missing => return Err(SelectError::NoName.into()),
        Lookup::Decoded(mut index) => {
            warnings.append(&mut index.warnings);
            let versions = index.entries.remove(name).ok_or(SelectError::NoName)?;
            let keys: Vec<(String, Option<Version>)> = versions
                .iter()
                .map(|v| (v.metadata.version.clone(), v.semver()))
                .collect();
            let refs: Vec<(&str, Option<&Version>)> =
                keys.iter().map(|(s, v)| (s.as_str(), v.as_ref())).collect();
            let i = select(name, &refs, wanted)?;
            return Ok(versions
                .into_iter()
                .nth(i)
                .expect("select returns a position in range"));
        }
        Lookup::Items(items) => items,
    };
    // Each candidate: its version string, its semver, and the decoded entry when the scan
    // could not read the version and decoding was needed anyway.
    let mut candidates: Vec<(String, Option<Version>, usize, Option<ChartVersion>)> =
        Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match &item.version {
            Some(v) => candidates.push((v.clone(), parse_version(v).ok(), i, None)),
            None => match item.decode(source)? {
                Some(cv) => candidates.push((cv.metadata.version.clone(), cv.semver(), i, Some(cv))),
                None => warnings.push(empty_warning(name, source)),
            },
        }
    }
    // SortEntries: newest first, non-semver last (stable, so file order breaks ties).
    candidates.sort_by(|a, b| match (&a.1, &b.1) {
        (Some(x), Some(y)) => y.compare(x),
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, None) => std::cmp::Ordering::Equal,
    });
    loop {
        let refs: Vec<(&str, Option<&Version>)> =
            candidates.iter().map(|c| (c.0.as_str(), c.1.as_ref())).collect();
        let pick = select(name, &refs, wanted)?;
        let (version, _, item, decoded) = candidates.remove(pick);
        let decoded = match decoded {
            Some(cv) => Some(cv),
            None => items[item].decode(source)?,
        };
        let Some(mut cv) = decoded else {
            warnings.push(empty_warning(name, source));
            continue;
        };
        match cv.validate() {
            Ok(()) => return Ok(cv),
            Err(e) => warnings.push(skip_warning(name, &version, source, &e)),
        }
    }
}

/// Helm's `ResolveReferenceURL`: an absolute `reference` is returned as is; a relative one is
/// resolved against `base` taken as a directory (a `/` appended), and the result carries
/// `base`'s query string (repositories behind signed URLs keep their token).
pub fn resolve_url(base: &str, reference: &str) -> String {
    if has_scheme(reference) {
        return reference.to_string();
    }
    let (base, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let base = base.split('#').next().unwrap_or(base);
    let reference = reference.split(['?', '#']).next().unwrap_or(reference);
    let (scheme, rest) = base.split_once("://").unwrap_or(("", base));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let prefix = if scheme.is_empty() {
        authority.to_string()
    } else {
        format!("{scheme}://{authority}")
    };
    let mut out = if let Some(r) = reference.strip_prefix("//") {
        format!("{scheme}://{r}")
    } else if reference.starts_with('/') {
        format!("{prefix}{}", remove_dot_segments(reference))
    } else {
        let dir = format!("{}/", path.trim_end_matches('/'));
        format!("{prefix}{}", remove_dot_segments(&format!("{dir}{reference}")))
    };
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn has_scheme(s: &str) -> bool {
    match s.find(':') {
        Some(i) if i > 0 => {
            let scheme = &s[..i];
            scheme.as_bytes()[0].is_ascii_alphabetic()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        }
        _ => false,
    }
}

/// RFC 3986 section 5.2.4 on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *seg {
            "." => {
                if last {
                    out.push("");
                }
            }
            ".." => {
                out.pop();
                if last {
                    out.push("");
                }
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Versions as an index lists them, newest first (SortEntries).
    const VERSIONS: &[&str] = &[
        "2.0.0-beta.1",
        "1.10.0",
        "1.2.10+build.7",
        "1.2.3",
        "1.2.0",
        "v1.1.0",
        "1.0.0-rc.1",
        "0.9.0",
    ];

    #[test]
    fn select_matches_helm_get() {
        // (case, --version, picked); tests/it/packages/repo.rs runs the same kinds of cases
        // through helm 3.17 `template` and compares.
        let cases = [
            ("newest stable", "", Some("1.10.0")),
            ("devel", ">0.0.0-0", Some("2.0.0-beta.1")),
            ("exact", "1.2.3", Some("1.2.3")),
            ("exact string beats semver equality", "v1.1.0", Some("v1.1.0")),
            ("partial is a wildcard constraint", "1.2", Some("1.2.10+build.7")),
            ("caret", "^1.2", Some("1.10.0")),
            ("tilde", "~1.2.0", Some("1.2.10+build.7")),
            ("range", ">=1 <1.2", Some("v1.1.0")),
            ("prerelease only by exact or -0", "1.0.0-rc.1", Some("1.0.0-rc.1")),
            ("no match", ">5", None),
        ];
        let parsed: Vec<(String, Option<Version>)> = VERSIONS
            .iter()
            .map(|v| (v.to_string(), parse_version(v).ok()))
            .collect();
        let refs: Vec<(&str, Option<&Version>)> =
            parsed.iter().map(|(s, v)| (s.as_str(), v.as_ref())).collect();
        for (name, wanted, want) in cases {
            let got = select("c", &refs, wanted).ok().map(|i| VERSIONS[i]);
            assert_eq!(got, want, "{name}");
        }
        assert_eq!(
            select("c", &refs, ">5").unwrap_err().to_string(),
            "no chart version found for c->5"
        );
        assert!(matches!(
            select("c", &refs, "not a version"),
            Err(SelectError::BadConstraint(_))
        ));
        assert_eq!(
            select("c", &[], "").unwrap_err().to_string(),
            "no chart version found"
        );
    }

    #[test]
    fn find_version_skips_an_invalid_pick_and_chooses_again() {
        // The newest entry has an invalid type: Helm drops it on load, so 1.0.0 is chosen.
        let text = "apiVersion: v1\nentries:\n  c:\n  - name: c\n    version: 1.0.0\n    urls: [c-1.0.0.tgz]\n  - name: c\n    type: weird\n    version: 2.0.0\n";
        let mut warnings = Vec::new();
        let cv = find_version(text.as_bytes(), "c", "", "idx", &mut warnings).unwrap();
        assert_eq!(cv.metadata.version, "1.0.0");
        assert_eq!(cv.urls, ["c-1.0.0.tgz"]);
        assert_eq!(
            warnings,
            ["skipping loading invalid entry for chart \"c\" \"2.0.0\" from idx: validation: chart.metadata.type must be application or library"]
        );
        let e = find_version(text.as_bytes(), "d", "", "idx", &mut warnings).unwrap_err();
        assert_eq!(e.to_string(), "no chart name found");
    }

    #[test]
    fn resolve_url_as_helm() {
        let cases = [
            ("https://h/charts", "a-1.tgz", "https://h/charts/a-1.tgz"),
            ("https://h/charts/", "a-1.tgz", "https://h/charts/a-1.tgz"),
            (
                "https://h/charts/index.yaml",
                "a-1.tgz",
                "https://h/charts/index.yaml/a-1.tgz",
            ),
            ("https://h/charts", "../x/a-1.tgz", "https://h/x/a-1.tgz"),
            ("https://h/charts", "/abs/a-1.tgz", "https://h/abs/a-1.tgz"),
            (
                "https://h/charts?token=t",
                "a-1.tgz",
                "https://h/charts/a-1.tgz?token=t",
            ),
            ("https://h/charts", "https://cdn/a-1.tgz", "https://cdn/a-1.tgz"),
            ("https://h/charts", "oci://r/ns/a:1", "oci://r/ns/a:1"),
            ("http://h:8080", "a-1.tgz", "http://h:8080/a-1.tgz"),
        ];
        for (base, r, want) in cases {
            assert_eq!(resolve_url(base, r), want, "{base} + {r}");
        }
    }
}
