//! `lint`: examine charts for problems as `helm lint` does, with its messages, summary and exit
//! status. Files are read and the chart rendered here (through the same pipeline `template` uses,
//! in Helm's lint mode); the rules themselves live in [`crate::lint`].

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use crate::{
    chart::{self, loader::BufferedFile, Chart},
    lint::{self, Linter, Severity},
    render::{self, Capabilities, NoCluster, ReleaseInfo, RenderOptions},
    values::{self, coalesce, ValuesOptions},
};
use gotemplate::Value;

/// Inputs of `lint`.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Chart directories or archives (`.` when none is given).
    pub paths: Vec<String>,
    /// `-f`/`--set*` values, laid over each chart's defaults.
    pub values: ValuesOptions,
    /// `.Release.Namespace`.
    pub namespace: String,
    /// `--kube-version`: `.Capabilities.KubeVersion` and the version deprecations are checked at.
    pub kube_version: Option<String>,
    /// `--strict`: warnings fail the chart too.
    pub strict: bool,
    /// `--with-subcharts`: also lint every chart found under each path's `charts/`.
    pub with_subcharts: bool,
    /// `--quiet`: print only charts with warnings or errors, and only those messages.
    pub quiet: bool,
    /// `--skip-schema-validation`.
    pub skip_schema_validation: bool,
    /// `--openapi` (the shipped schema) or `--validate` (the cluster's, see [`cluster_openapi`]):
    /// also check every object against Kubernetes' OpenAPI schema.
    pub openapi: Option<std::sync::Arc<lint::openapi::Schemas>>,
}

/// The target cluster's OpenAPI schema (built-in kinds at its version, and its CRDs), for
/// `lint --validate`. Reads only.
pub async fn cluster_openapi(ctx: &super::Context) -> anyhow::Result<lint::openapi::Schemas> {
    let docs = ctx.cluster.openapi_v3_documents().await?;
    let version = ctx.cluster.server_version().await?.unwrap_or_default();
    Ok(lint::openapi::Schemas::from_documents(&version, &docs))
}

/// What `lint` prints and how it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct LintReport {
    /// The per-chart sections (`==> Linting PATH`, messages, a blank line).
    pub text: String,
    /// Charts linted (the paths given, plus subcharts with `--with-subcharts`).
    pub linted: usize,
    /// Charts that failed (an error, or with `--strict` a warning).
    pub failed: usize,
    /// Whether any chart had a warning or an error (decides the summary line under `--quiet`).
    pub any_findings: bool,
}

impl LintReport {
    /// Helm's summary line.
    pub fn summary(&self) -> String {
        format!("{} chart(s) linted, {} chart(s) failed", self.linted, self.failed)
    }
}

/// Lints every chart of `opts.paths`. An error here is a problem with the options themselves (bad
/// values, bad `--kube-version`); problems with charts are in the report.
pub fn lint(opts: &LintOptions) -> anyhow::Result<LintReport> {
    let mut caps = Capabilities::default();
    if let Some(v) = &opts.kube_version {
        caps = caps.with_kube_version(v).map_err(anyhow::Error::msg)?;
    }
    // Helm's release builds check deprecations at the Kubernetes version they were built for
    // (the same as the default `.Capabilities`), unless `--kube-version` says otherwise.
    let (major, minor) = caps.major_minor();
    let deprecation_version = (major.parse().unwrap_or(0), minor.parse().unwrap_or(0));
    let mut paths: Vec<String> = if opts.paths.is_empty() {
        vec![".".into()]
    } else {
        opts.paths.clone()
    };
    if opts.with_subcharts {
        let mut found = Vec::new();
        for p in &paths {
            subcharts_under(&Path::new(p).join("charts"), &mut found);
        }
        paths.extend(found);
    }
    let user = values::merge_user_values(&opts.values)?;
    let ctx = Ctx {
        user: &user,
        namespace: &opts.namespace,
        caps: &caps,
        deprecation_version,
        skip_schema: opts.skip_schema_validation,
        openapi: opts.openapi.as_deref(),
    };

    let tolerance = if opts.strict {
        Severity::Warning
    } else {
        Severity::Error
    };
    let mut report = LintReport {
        text: String::new(),
        linted: paths.len(),
        failed: 0,
        any_findings: false,
    };
    for path in &paths {
        let (messages, errors) = match lint_path(path, &ctx) {
            Ok(linter) => {
                let failing = linter
                    .messages
                    .iter()
                    .filter(|m| m.severity >= tolerance)
                    .map(|m| m.text.clone())
                    .collect();
                (linter.messages, failing)
            }
            Err(e) => (Vec::new(), vec![e]),
        };
        let findings = !errors.is_empty() || messages.iter().any(|m| m.severity > Severity::Info);
        report.any_findings |= findings;
        if opts.quiet && !findings {
            continue;
        }
        let _ = writeln!(report.text, "==> Linting {path}");
        if messages.is_empty() {
            for e in &errors {
                let _ = writeln!(report.text, "Error {e}");
            }
        }
        for m in &messages {
            if !opts.quiet || m.severity > Severity::Info {
                let _ = writeln!(report.text, "{m}");
            }
        }
        if !errors.is_empty() {
            report.failed += 1;
        }
        report.text.push('\n');
    }
    Ok(report)
}

/// Every chart under a `charts/` directory, at any depth, in walk order (Helm's `filepath.Walk`):
/// directories holding a `Chart.yaml`, and archives.
fn subcharts_under(dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Go's filepath.Join cleans what it joins (`./c/charts/x` is `c/charts/x`).
        if name == "Chart.yaml" {
            out.push(clean(dir));
        } else if name.ends_with(".tgz") || name.ends_with(".tar.gz") {
            out.push(clean(&p));
        }
        if p.is_dir() {
            subcharts_under(&p, out);
        }
    }
}

/// What every chart of one run is linted with.
struct Ctx<'a> {
    user: &'a Value,
    namespace: &'a str,
    caps: &'a Capabilities,
    deprecation_version: (u32, u32),
    skip_schema: bool,
    openapi: Option<&'a lint::openapi::Schemas>,
}

/// The files the rules read, from a directory or an archive.
struct ChartFiles {
    /// The chart's absolute directory (for archives: the archive path and the chart's directory
    /// in it, where Helm names a temporary directory it unpacked to).
    dir: String,
    chart_yaml_is_dir: bool,
    chart_yaml: Result<Vec<u8>, String>,
    values: Option<Result<Vec<u8>, String>>,
    schema: Option<Vec<u8>>,
    /// `templates` exists but is a file.
    templates_not_dir: bool,
    chart: Result<Chart, String>,
}

/// Lints one chart; an error means it could not be linted at all (Helm prints it as `Error …`).
fn lint_path(path: &str, ctx: &Ctx<'_>) -> Result<Linter, String> {
    let files = if path.ends_with(".tgz") || path.ends_with(".tar.gz") {
        archive_files(path)?
    } else {
        dir_files(path)?
    };
    let mut linter = Linter::default();
    lint::chartfile::check(
        &mut linter,
        files.chart_yaml_is_dir,
        files.chart_yaml.as_deref().map_err(Clone::clone),
    );
    lint::values::check(
        &mut linter,
        files.values.as_ref().map(|v| v.as_deref().map_err(Clone::clone)),
        files.schema.as_deref(),
        ctx.user,
        &mut |w| eprintln!("{w}"),
    );
    templates_rule(&mut linter, &files, ctx);
    lint::dependencies::check(
        &mut linter,
        &files.dir,
        files.chart.as_ref().map_err(Clone::clone),
    );
    Ok(linter)
}

fn dir_files(path: &str) -> Result<ChartFiles, String> {
    let dir = Path::new(path);
    let chart_yaml_path = dir.join("Chart.yaml");
    let meta = std::fs::metadata(&chart_yaml_path).map_err(|e| {
        format!(
            "unable to check Chart.yaml file in chart: stat {}: {}",
            chart_yaml_path.display(),
            go_io(&e)
        )
    })?;
    // Helm reads the files under the chart's absolute directory, and names them so in errors.
    let abs = PathBuf::from(clean(
        &std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
    ));
    let read = |name: &str| std::fs::read(abs.join(name)).ok();
    let read_go = |name: &str| {
        let p = abs.join(name);
        std::fs::read(&p).map_err(|e| format!("read {}: {}", p.display(), go_io(&e)))
    };
    Ok(ChartFiles {
        dir: abs.display().to_string(),
        chart_yaml_is_dir: meta.is_dir(),
        chart_yaml: read_go("Chart.yaml"),
        values: abs.join("values.yaml").exists().then(|| read_go("values.yaml")),
        schema: read("values.schema.json"),
        templates_not_dir: dir.join("templates").metadata().is_ok_and(|m| !m.is_dir()),
        chart: chart::load(dir).map_err(|e| e.to_string()),
    })
}

fn archive_files(path: &str) -> Result<ChartFiles, String> {
    let data =
        std::fs::read(path).map_err(|e| format!("unable to open tarball: open {path}: {}", go_io(&e)))?;
    let files: Vec<BufferedFile> =
        chart::archive::load_archive_files(&data).map_err(|e| format!("unable to extract tarball: {e}"))?;
    let get = |name: &str| files.iter().find(|f| f.name == name).map(|f| f.data.clone());
    let chart_yaml = get("Chart.yaml").ok_or_else(|| {
        format!("unable to check Chart.yaml file in chart: stat {path}/Chart.yaml: no such file or directory")
    })?;
    let abs = std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path));
    Ok(ChartFiles {
        dir: clean(&abs),
        chart_yaml_is_dir: false,
        chart_yaml: Ok(chart_yaml),
        values: get("values.yaml").map(Ok),
        schema: get("values.schema.json"),
        templates_not_dir: false,
        chart: chart::loader::load_files(files.clone()).map_err(|e| e.to_string()),
    })
}

/// Go's `filepath.Abs` result: cleaned (no `.` segments, no trailing `/`).
fn clean(p: &Path) -> String {
    gotemplate::gostr::path_clean(&p.display().to_string())
}

/// Go's wording for the common I/O errors.
fn go_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

/// Helm's template rule: render the chart as `helm lint` renders it (release `test-release`,
/// lint mode), then check each of its own templates' output.
fn templates_rule(linter: &mut Linter, files: &ChartFiles, ctx: &Ctx<'_>) {
    const PATH: &str = "templates/";
    if files.templates_not_dir {
        linter.run(Severity::Warning, PATH, Err("not a directory".into()));
        return;
    }
    let chart = match &files.chart {
        Ok(c) => c.clone(),
        Err(e) => {
            linter.run(Severity::Error, PATH, Err(e.clone()));
            return;
        }
    };
    let templates: Vec<(String, String)> = chart
        .templates
        .iter()
        .map(|t| (t.name.clone(), t.text.to_string()))
        .collect();
    let name = chart.name().to_string();
    let rendered = match render_for_lint(chart, ctx) {
        Ok(Some(r)) => r,
        // Helm stops quietly when dependencies or values cannot be processed.
        Ok(None) => return,
        Err(e) => {
            linter.run(Severity::Error, PATH, Err(e));
            return;
        }
    };
    lint::templates::check(
        linter,
        &lint::templates::Rendered {
            chart_name: &name,
            templates: templates.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect(),
            files: &rendered,
            kube_version: ctx.deprecation_version,
            openapi: ctx.openapi,
        },
    );
}

/// Processes dependencies, coalesces, validates and renders in lint mode. `Ok(None)` when Helm
/// would stop without a message (dependency or coalescing errors are reported elsewhere).
fn render_for_lint(mut chart: Chart, ctx: &Ctx<'_>) -> Result<Option<BTreeMap<String, String>>, String> {
    let user = match ctx.user.deep_copy() {
        Value::Map(m) => m,
        _ => Value::new_map().as_map().cloned().unwrap_or_default(),
    };
    let mut warn = |w: String| eprintln!("{w}");
    if coalesce::process_enabled(&mut chart, &user, "", &mut warn).is_err()
        || coalesce::process_import_values(&mut chart, &mut warn).is_err()
    {
        return Ok(None);
    }
    chart.set_parent_paths();
    let Ok(vals) = coalesce::coalesce_values(&chart, Some(&user), false, &mut warn) else {
        return Ok(None);
    };
    let vals = Value::Map(vals);
    if !ctx.skip_schema {
        values::validate_schema(&chart, &vals).map_err(|e| e.to_string())?;
    }
    let opts = RenderOptions {
        release: Some(ReleaseInfo {
            name: "test-release".into(),
            namespace: ctx.namespace.to_string(),
            revision: 1,
            is_upgrade: false,
        }),
        capabilities: ctx.caps.clone(),
        strict: false,
        lint: true,
        then_exit: false,
    };
    let out = render::render(&chart, &vals, &opts, std::rc::Rc::new(NoCluster)).map_err(|e| e.to_string())?;
    Ok(Some(out.files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subcharts_are_found_at_any_depth_in_walk_order() {
        let dir = std::env::temp_dir().join(format!("kc-lint-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for d in ["charts/b/charts/c", "charts/a", "charts/b/templates"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        for f in [
            "charts/a/Chart.yaml",
            "charts/b/Chart.yaml",
            "charts/b/charts/c/Chart.yaml",
            "charts/z.tgz",
        ] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let mut found = Vec::new();
        subcharts_under(&dir.join("charts"), &mut found);
        let rel: Vec<String> = found
            .iter()
            .map(|p| {
                p.strip_prefix(&format!("{}/", dir.display()))
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(rel, ["charts/a", "charts/b", "charts/b/charts/c", "charts/z.tgz"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
