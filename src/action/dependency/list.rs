//! `dependency list`: each `Chart.yaml` dependency with what `charts/` holds for it, in Helm's
//! table and words (`ok`, `missing`, `wrong version`, `unpacked`, `misnamed`, `corrupt`, …).

use std::path::{Path, PathBuf};

use crate::{
    chart::{loader, Chart, Dependency},
    output::Table,
};

/// What to list.
#[derive(Debug, Clone)]
pub struct DependencyListOptions {
    /// The chart (directory or archive).
    pub chart: PathBuf,
}

/// The text Helm prints for `dependency list`.
pub fn dependency_list(opts: &DependencyListOptions) -> anyhow::Result<String> {
    let chart =
        crate::chart::load(&opts.chart).map_err(|e| anyhow::anyhow!("{}: {e}", opts.chart.display()))?;
    let charts_dir = opts.chart.join("charts");
    if chart.metadata.dependencies.is_empty() {
        return Ok(format!("WARNING: no dependencies at {}\n", charts_dir.display()));
    }
    let mut table = Table::new();
    table.add_row(["NAME", "VERSION", "REPOSITORY", "STATUS"]);
    for d in &chart.metadata.dependencies {
        table.add_row([
            d.name.clone(),
            d.version.clone(),
            d.repository.clone(),
            status(&opts.chart, d, &chart).to_string(),
        ]);
    }
    let mut out = table.render();
    out.push_str("\n\n");
    for warning in not_in_chart_yaml(&charts_dir, &chart.metadata.dependencies) {
        out.push_str(&warning);
        out.push('\n');
    }
    Ok(out)
}

/// Whether `version` satisfies `range` when they differ (`invalid version` when either does
/// not parse).
fn version_status(range: &str, version: &str) -> Option<&'static str> {
    if range == version {
        return None;
    }
    let Ok(c) = gotemplate::semver::Constraints::parse(range) else {
        return Some("invalid version");
    };
    let Ok(v) = gotemplate::semver::parse_version(version) else {
        return Some("invalid version");
    };
    (!c.matches(&v)).then_some("wrong version")
}

/// Helm's `dependencyStatus`: an archive `charts/<name>-<version>.tgz` first, then the loaded
/// subcharts.
fn status(chart_path: &Path, d: &Dependency, parent: &Chart) -> &'static str {
    let prefix = format!("{}-", d.name);
    let archives: Vec<PathBuf> = std::fs::read_dir(chart_path.join("charts"))
        .map(|rd| {
            let mut v: Vec<PathBuf> = rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".tgz"))
                })
                .collect();
            v.sort();
            v
        })
        .unwrap_or_default();
    let candidates: Vec<&PathBuf> = if archives.len() > 1 {
        let strict: Vec<&PathBuf> = archives
            .iter()
            .filter(|a| {
                let stem = a.file_name().and_then(|n| n.to_str()).unwrap_or("");
                let v = stem.trim_end_matches(".tgz").trim_start_matches(&prefix);
                crate::registry::resolve::strict_version(v).is_some()
            })
            .collect();
        if strict.len() > 1 {
            return "too many matches";
        }
        strict
    } else {
        archives.iter().collect()
    };
    if let Some(archive) = candidates.first() {
        return match loader::load_archive_path(archive) {
            Err(_) => "corrupt",
            Ok(c) if c.name() != d.name => "misnamed",
            Ok(c) => version_status(&d.version, &c.metadata.version).unwrap_or("ok"),
        };
    }
    let Some(sub) = parent.dependencies.iter().rev().find(|c| c.name() == d.name) else {
        return "missing";
    };
    version_status(&d.version, &sub.metadata.version).unwrap_or("unpacked")
}

/// Helm's `printMissing`: charts under `charts/` that `Chart.yaml` does not list.
fn not_in_chart_yaml(charts_dir: &Path, reqs: &[Dependency]) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(charts_dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() && p.extension().and_then(|e| e.to_str()) != Some("tgz") {
            continue;
        }
        match crate::chart::load(&p) {
            Err(_) => out.push(format!("WARNING: {:?} is not a chart.", p.display().to_string())),
            Ok(c) if !reqs.iter().any(|d| d.name == c.name()) => out.push(format!(
                "WARNING: {:?} is not in Chart.yaml.",
                p.display().to_string()
            )),
            Ok(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn version_status_table() {
        let cases = [
            ("1.0.0", "1.0.0", None),
            ("^1.0.0", "1.2.0", None),
            ("^1.0.0", "2.0.0", Some("wrong version")),
            ("not a range!", "1.0.0", Some("invalid version")),
            ("^1.0.0", "x", Some("invalid version")),
        ];
        for (range, version, want) in cases {
            assert_eq!(super::version_status(range, version), want, "{range} {version}");
        }
    }
}
