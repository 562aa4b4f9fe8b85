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
    let parent = PathBuf::from(crate::gotemplate::gostr::path_clean(
        &parent.display().to_string(),
    ));
    match std::fs::metadata(&parent) {
        Err(e) => bail!("stat {}: {}", parent.display(), go_io(&e)),
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
                crate::gotemplate::gofmt::quote(&path.display().to_string())
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
    std::fs::write(path, content).map_err(|e| anyhow::anyhow!("open {}: {}", path.display(), go_io(&e)))
}

/// `mkdir -p` with Helm's 0755 (before the umask).
fn create_dir(dir: &Path) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o755);
    b.create(dir)
        .map_err(|e| anyhow::anyhow!("mkdir {}: {}", dir.display(), go_io(&e)))
}

fn go_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
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
        Some(i) => crate::gotemplate::gostr::path_clean(&p[..=i]),
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
