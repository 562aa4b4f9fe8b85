//! `create NAME`: write a new chart, the same files with the same bytes as `helm create NAME`.
//!
//! The starter chart is embedded from `create/starter/`, which `create/regen-starter.sh` writes
//! from helm v3.17.2's own output (with the chart name as `<CHARTNAME>`, Helm's starter token), so
//! the files stay Helm's and are not retyped here.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

use anyhow::bail;

/// The starter's files, in the order Helm writes them, with `<CHARTNAME>` for the chart's name.
const STARTER: &[(&str, &[u8])] = &[
    ("Chart.yaml", include_bytes!("create/starter/Chart.yaml")),
    ("values.yaml", include_bytes!("create/starter/values.yaml")),
    (".helmignore", include_bytes!("create/starter/.helmignore")),
    (
        "templates/ingress.yaml",
        include_bytes!("create/starter/templates/ingress.yaml"),
    ),
    (
        "templates/deployment.yaml",
        include_bytes!("create/starter/templates/deployment.yaml"),
    ),
    (
        "templates/service.yaml",
        include_bytes!("create/starter/templates/service.yaml"),
    ),
    (
        "templates/serviceaccount.yaml",
        include_bytes!("create/starter/templates/serviceaccount.yaml"),
    ),
    (
        "templates/hpa.yaml",
        include_bytes!("create/starter/templates/hpa.yaml"),
    ),
    (
        "templates/NOTES.txt",
        include_bytes!("create/starter/templates/NOTES.txt"),
    ),
    (
        "templates/_helpers.tpl",
        include_bytes!("create/starter/templates/_helpers.tpl"),
    ),
    (
        "templates/tests/test-connection.yaml",
        include_bytes!("create/starter/templates/tests/test-connection.yaml"),
    ),
];

/// Helm's limit on chart names.
const MAX_NAME_LEN: usize = 250;

/// `helm create NAME --starter STARTER`: a copy of a starter chart (a name under
/// `$HELM_DATA_HOME/starters`, or an absolute path) as Helm's `CreateFrom` makes it: the
/// starter's files with `<CHARTNAME>` replaced in its templates and `values.yaml`, and a new
/// `Chart.yaml` for the chart. Starters with subcharts are refused (Helm re-packs those as
/// archives, which needs `package`). Helm prints `Creating NAME` before it starts.
pub fn create_from_starter(name: &str, starter: &str, data_home: &Path) -> anyhow::Result<()> {
    let chart_name = go_base(name);
    let src = if Path::new(starter).is_absolute() {
        PathBuf::from(starter)
    } else {
        data_home.join("starters").join(starter)
    };
    let loaded =
        crate::chart::load(&src).map_err(|e| anyhow::anyhow!("could not load {}: {e}", src.display()))?;
    if !loaded.dependencies.is_empty() {
        bail!(
            "starter {} has subcharts under charts/: starters with subcharts are not supported",
            src.display()
        );
    }
    if chart_name != go_base(chart_name) || chart_name.is_empty() {
        bail!("chart name {chart_name:?} is invalid");
    }
    let dir = std::path::absolute(go_dir(name))?.join(chart_name);
    if dir.metadata().is_ok_and(|m| !m.is_dir()) {
        bail!("file {} already exists and is not a directory", dir.display());
    }
    // What Helm writes, in its order: Chart.yaml, values.yaml, the schema, templates, files.
    let raw = |file: &str| std::fs::read(src.join(file)).ok();
    let mut files: Vec<(String, Vec<u8>)> = vec![("Chart.yaml".into(), starter_chart_yaml(chart_name))];
    if let Some(values) = raw("values.yaml") {
        files.push(("values.yaml".into(), instantiate(&values, chart_name)));
    }
    if loaded.schema.is_some() {
        files.push((
            "values.schema.json".into(),
            raw("values.schema.json").unwrap_or_default(),
        ));
    }
    for t in &loaded.templates {
        files.push((t.name.clone(), instantiate(t.text.as_bytes(), chart_name)));
    }
    for f in &loaded.files {
        files.push((f.name.clone(), f.data.bytes()?.to_vec()));
    }
    for (rel, content) in &files {
        write_file(&dir.join(rel), content)?;
    }
    Ok(())
}

/// The `Chart.yaml` Helm writes for a chart made from a starter: its fields marshalled through
/// JSON, so in key order.
fn starter_chart_yaml(name: &str) -> Vec<u8> {
    let quoted = crate::yaml::json_to_yaml(&serde_json::json!({ "name": name }));
    format!(
        "apiVersion: v2\nappVersion: 0.1.0\ndescription: A Helm chart for Kubernetes\n{quoted}\ntype: application\nversion: 0.1.0\n"
    )
    .into_bytes()
}

/// Creates the chart `name` (a path: its last element is the chart's name, the rest the directory
/// to create it in, which must exist). Returns what Helm prints: `Creating NAME` and a warning per
/// file overwritten. Everything is checked before the first file is written.
pub fn create(name: &str) -> anyhow::Result<String> {
    let chart_name = go_base(name);
    if chart_name.is_empty() || chart_name.len() > MAX_NAME_LEN {
        bail!("chart name must be between 1 and {MAX_NAME_LEN} characters");
    }
    if !chart_name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        bail!(r#"chart name must match the regular expression "^[a-zA-Z0-9._-]+$""#);
    }
    let parent = std::path::absolute(go_dir(name))?;
    let parent = PathBuf::from(gotemplate::gostr::path_clean(&parent.display().to_string()));
    match std::fs::metadata(&parent) {
        Err(e) => bail!("stat {}: {}", parent.display(), crate::chart::io_text(&e)),
        Ok(m) if !m.is_dir() => bail!("no such directory {}", parent.display()),
        Ok(_) => {}
    }
    let dir = parent.join(chart_name);
    if dir.metadata().is_ok_and(|m| !m.is_dir()) {
        bail!("file {} already exists and is not a directory", dir.display());
    }

    let mut printed = format!("Creating {name}\n");
    for (rel, content) in STARTER {
        let path = dir.join(rel);
        if path.exists() {
            let _ = writeln!(
                printed,
                "WARNING: File {} already exists. Overwriting.",
                gotemplate::gofmt::quote(&path.display().to_string())
            );
        }
        write_file(&path, &instantiate(content, chart_name))?;
    }
    create_dir(&dir.join("charts"))?;
    Ok(printed)
}

/// The starter file with the chart's name in place of Helm's token.
fn instantiate(content: &[u8], name: &str) -> Vec<u8> {
    String::from_utf8_lossy(content)
        .replace("<CHARTNAME>", name)
        .into_bytes()
}

fn write_file(path: &Path, content: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    std::fs::write(path, content)
        .map_err(|e| anyhow::anyhow!("open {}: {}", path.display(), crate::chart::io_text(&e)))
}

/// `mkdir -p` with Helm's 0755 (before the umask).
fn create_dir(dir: &Path) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o755);
    b.create(dir)
        .map_err(|e| anyhow::anyhow!("mkdir {}: {}", dir.display(), crate::chart::io_text(&e)))
}

/// Go's `filepath.Base`: the last element, trailing slashes ignored (`.` for an empty path).
fn go_base(p: &str) -> &str {
    let trimmed = p.trim_end_matches('/');
    if trimmed.is_empty() {
        return if p.is_empty() { "." } else { "/" };
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// Go's `filepath.Dir`: everything before the last element (`.` when there is none).
fn go_dir(p: &str) -> String {
    match p.rfind('/') {
        None => ".".into(),
        Some(i) => gotemplate::gostr::path_clean(&p[..=i]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_like_go_filepath() {
        let cases = [
            ("web", "web", "."),
            ("charts/web", "web", "charts"),
            ("charts/web/", "web", "charts/web"),
            ("/abs/web", "web", "/abs"),
            ("", ".", "."),
        ];
        for (p, base, dir) in cases {
            assert_eq!((go_base(p), go_dir(p).as_str()), (base, dir), "{p:?}");
        }
    }

    #[test]
    fn bad_names_are_refused_before_anything_is_written() {
        let long = "a".repeat(251);
        let cases = [
            (
                "bad name",
                "chart name must match the regular expression \"^[a-zA-Z0-9._-]+$\"",
            ),
            (long.as_str(), "chart name must be between 1 and 250 characters"),
            (
                "/nonexistent-kc-create-dir/web",
                "stat /nonexistent-kc-create-dir: no such file or directory",
            ),
        ];
        for (name, want) in cases {
            assert_eq!(create(name).unwrap_err().to_string(), want, "{name}");
        }
    }

    #[test]
    fn the_starter_has_helms_token_in_every_templated_file() {
        for (rel, content) in STARTER {
            let has = String::from_utf8_lossy(content).contains("<CHARTNAME>");
            assert_eq!(has, *rel != ".helmignore", "{rel}");
        }
    }
}
