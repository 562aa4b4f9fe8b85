//! `search repo`: Helm's matching over the cached indexes (`cmd/helm/search`).
//!
//! Each chart version is one line, `name \v repo/name \v description \v keywords`; a keyword
//! matches anywhere in it (case-insensitive, or a Go regexp with `-r`), and the score is the
//! field it matched in, so name matches sort first. Results are sorted by score, then name,
//! then newest version; the version constraint (`>0.0.0` by default, so no prereleases) then
//! keeps the first match of each chart, or every match with `--versions`.

use std::collections::BTreeMap;

use super::index::{ChartVersion, Index};
use gotemplate::semver::{parse_version, Constraints};

/// Helm's `searchMaxScore`.
pub const SEARCH_MAX_SCORE: usize = 25;

/// One result row.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    /// `repo/chart`.
    pub name: String,
    /// The matched version's entry.
    pub chart: ChartVersion,
    score: usize,
}

impl SearchHit {
    /// A hit outside a search (printers' tests).
    pub fn new(name: String, chart: ChartVersion) -> SearchHit {
        SearchHit {
            name,
            chart,
            score: 0,
        }
    }
}

/// Searches `repos` (name and index, in `repositories.yaml` order). `keyword` empty lists
/// everything; `version` is the constraint (already defaulted as Helm does); `versions` keeps
/// every matching version instead of the newest of each chart.
pub fn search(
    repos: &[(String, Index)],
    keyword: &str,
    regexp: bool,
    version: &str,
    versions: bool,
) -> Result<Vec<SearchHit>, String> {
    let constraint =
        Constraints::parse(version).map_err(|e| format!("an invalid version/constraint format: {e}"))?;
    let matcher = if regexp && !keyword.is_empty() {
        Some(regex::Regex::new(keyword).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let term = keyword.to_lowercase();
    // Helm keys its table by `repo/name$$version`: a later repository of the same name replaces
    // an earlier one's rows.
    let mut rows: BTreeMap<(String, String), SearchHit> = BTreeMap::new();
    for (repo, index) in repos {
        for (name, list) in &index.entries {
            for cv in list {
                let line = format!(
                    "{}\u{b}{repo}/{}\u{b}{}\u{b}{}",
                    cv.metadata.name,
                    cv.metadata.name,
                    cv.metadata.description,
                    cv.metadata.keywords.join(" ")
                );
                let at = if keyword.is_empty() {
                    Some((0, &line))
                } else if let Some(re) = &matcher {
                    re.find(&line).map(|m| (m.start(), &line))
                } else {
                    None
                };
                let score = match at {
                    Some((pos, l)) => Some(score(pos, l)),
                    None if matcher.is_none() && !keyword.is_empty() => {
                        let lower = line.to_lowercase();
                        lower.find(&term).map(|pos| score(pos, &lower))
                    }
                    None => None,
                };
                let Some(score) = score.filter(|s| *s < SEARCH_MAX_SCORE) else {
                    continue;
                };
                let full = format!("{repo}/{name}");
                rows.insert(
                    (full.clone(), cv.metadata.version.clone()),
                    SearchHit {
                        name: full,
                        chart: cv.clone(),
                        score,
                    },
                );
            }
        }
    }
    let mut hits: Vec<SearchHit> = rows.into_values().collect();
    hits.sort_by(|a, b| {
        a.score
            .cmp(&b.score)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| {
                match (
                    parse_version(&a.chart.metadata.version),
                    parse_version(&b.chart.metadata.version),
                ) {
                    (Ok(x), Ok(y)) => y.compare(&x),
                    _ => std::cmp::Ordering::Equal,
                }
            })
    });
    let mut seen = std::collections::HashSet::new();
    Ok(hits
        .into_iter()
        .filter(|h| {
            if !versions && seen.contains(&h.name) {
                return false;
            }
            let ok = parse_version(&h.chart.metadata.version).is_ok_and(|v| constraint.matches(&v));
            if ok {
                seen.insert(h.name.clone());
            }
            ok
        })
        .collect())
}

/// The field a match at byte `pos` falls in (0 name, 1 repo/name, 2 description, 3 keywords).
fn score(pos: usize, line: &str) -> usize {
    line.match_indices('\u{b}')
        .position(|(sep, _)| pos <= sep)
        .unwrap_or_else(|| line.matches('\u{b}').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(charts: &[(&str, &str, &str, &[&str])]) -> Index {
        let mut idx = Index::default();
        for (name, version, description, keywords) in charts {
            let mut cv = ChartVersion::from_json(&serde_json::json!({
                "name": name, "version": version, "description": description, "keywords": keywords,
            }))
            .unwrap();
            cv.validate().unwrap();
            idx.entries.entry(name.to_string()).or_default().push(cv);
        }
        for v in idx.entries.values_mut() {
            super::super::index::sort_newest_first(v);
        }
        idx
    }

    #[test]
    fn matches_and_orders_as_helm() {
        let repos = vec![(
            "r".to_string(),
            index(&[
                ("nginx", "1.0.0", "web server", &[]),
                ("nginx", "1.1.0", "web server", &[]),
                ("nginx", "2.0.0-rc.1", "web server", &[]),
                ("app", "0.1.0", "uses nginx inside", &[]),
                ("db", "3.0.0", "database", &["sql", "nginx-free"]),
            ]),
        )];
        // (case, keyword, regexp, constraint, --versions, rows)
        type Case = (
            &'static str,
            &'static str,
            bool,
            &'static str,
            bool,
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (
                "name first, then description, then keywords",
                "NGINX",
                false,
                ">0.0.0",
                false,
                &["r/nginx 1.1.0", "r/app 0.1.0", "r/db 3.0.0"],
            ),
            (
                "all versions",
                "nginx",
                false,
                ">0.0.0",
                true,
                &["r/nginx 1.1.0", "r/nginx 1.0.0", "r/app 0.1.0", "r/db 3.0.0"],
            ),
            (
                "devel",
                "nginx",
                false,
                ">0.0.0-0",
                false,
                &["r/nginx 2.0.0-rc.1", "r/app 0.1.0", "r/db 3.0.0"],
            ),
            (
                "constraint",
                "nginx",
                false,
                "<1.1",
                false,
                &["r/nginx 1.0.0", "r/app 0.1.0"],
            ),
            (
                "regexp is case-sensitive",
                "^db|SQL",
                true,
                ">0.0.0",
                false,
                &["r/db 3.0.0"],
            ),
            (
                "no keyword lists all",
                "",
                false,
                ">0.0.0",
                false,
                &["r/app 0.1.0", "r/db 3.0.0", "r/nginx 1.1.0"],
            ),
            ("nothing", "zzz", false, ">0.0.0", false, &[]),
        ];
        for (name, kw, re, c, all, want) in cases {
            let got: Vec<String> = search(&repos, kw, *re, c, *all)
                .unwrap()
                .iter()
                .map(|h| format!("{} {}", h.name, h.chart.metadata.version))
                .collect();
            assert_eq!(got, *want, "{name}");
        }
        assert!(search(&repos, "x", false, "nope", false)
            .unwrap_err()
            .starts_with("an invalid version/constraint format"));
    }
}
