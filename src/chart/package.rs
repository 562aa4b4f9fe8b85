//! Writing a chart archive (`.tgz`) as Helm's `chartutil.Save` lays it out, but reproducibly:
//! the same chart gives the same bytes, so an archive's digest is stable across machines and
//! runs (Helm stamps every entry with the current time).
//!
//! Layout, as Helm writes it: `<name>/Chart.yaml` (the metadata re-marshalled, so `--version` and
//! `--app-version` land in it, and a v1 chart's dependencies stay in `requirements.yaml`),
//! `Chart.lock` (v2 charts), `values.yaml`, `values.schema.json`, the templates and the other
//! files in walk order, then each subchart, packed or not, unpacked under
//! `<name>/charts/<subchart name>/` by the same rules. Entries are regular files with mode 0644,
//! owner 0 and a fixed modification time; the gzip header carries Helm's extra field and comment.
//!
//! What it does not do: validate dependencies against `charts/` (the `package` action does) or
//! write anything to disk.

use std::io::Write as _;

use super::{
    loader::{self, BufferedFile},
    lock::Lock,
    Error, Metadata,
};

/// What Helm puts in the gzip header's extra field (`chartutil.headerBytes`).
const HELM_GZIP_EXTRA: &[u8] = b"+aHR0cHM6Ly95b3V0dS5iZS96OVV6MWljandyTQo=";

/// Overrides applied to the root chart before it is written.
#[derive(Debug, Clone, Default)]
pub struct SaveOptions {
    /// `--version`: replaces `version` in `Chart.yaml`.
    pub version: Option<String>,
    /// `--app-version`: replaces `appVersion`.
    pub app_version: Option<String>,
    /// The modification time of every entry, in seconds since the epoch.
    pub mtime: u64,
}

/// A packed chart.
#[derive(Debug, Clone)]
pub struct Archive {
    /// `<name>-<version>.tgz`.
    pub file_name: String,
    /// The root chart's metadata as written.
    pub metadata: Metadata,
    /// The gzipped tar.
    pub data: Vec<u8>,
}

/// Packs a chart whose files were read by [`loader::read_dir_files`] (or from an archive).
/// The chart is loaded first, so anything Helm would refuse to load is refused here.
pub fn save(files: Vec<BufferedFile>, opts: &SaveOptions) -> Result<Archive, Error> {
    let mut entries = Vec::new();
    let metadata = chart_entries(files, "", opts, true, &mut entries)?;
    let data =
        write_tgz(&entries, opts.mtime).map_err(|e| Error::new(format!("writing the archive: {e}")))?;
    Ok(Archive {
        file_name: format!("{}-{}.tgz", metadata.name, metadata.version),
        metadata,
        data,
    })
}

/// Appends the entries of one chart (and, recursively, its subcharts) under `prefix`; returns
/// the metadata written.
fn chart_entries(
    files: Vec<BufferedFile>,
    prefix: &str,
    opts: &SaveOptions,
    root: bool,
    out: &mut Vec<(String, Vec<u8>)>,
) -> Result<Metadata, Error> {
    let chart = loader::load_files(files.clone())?;
    let mut md = chart.metadata;
    if root {
        if let Some(v) = opts.version.as_deref().filter(|v| !v.is_empty()) {
            md.version = v.to_string();
        }
        if let Some(v) = opts.app_version.as_deref().filter(|v| !v.is_empty()) {
            md.app_version = v.to_string();
        }
    }
    if md.name.contains('/') || md.name.contains('\\') || md.name == ".." || md.name == "." {
        return Err(Error::new(format!(
            "chart name {:?} is not a valid file name",
            md.name
        )));
    }
    let base = if prefix.is_empty() {
        md.name.clone()
    } else {
        format!("{prefix}/{}", md.name)
    };
    let v1 = md.api_version == "v1";

    // Chart.yaml: a v1 chart's dependencies live in requirements.yaml, which travels as a file.
    let mut written = md.clone();
    if v1 {
        written.dependencies.clear();
    }
    let mut chart_yaml = crate::yaml::json_to_yaml(&written.to_json());
    chart_yaml.push('\n');
    out.push((format!("{base}/Chart.yaml"), chart_yaml.into_bytes()));

    let find = |name: &str| files.iter().find(|f| f.name == name);
    if !v1 {
        if let Some(f) = find("Chart.lock") {
            let lock = Lock::parse(&String::from_utf8_lossy(&f.data), &format!("{base}/Chart.lock"))
                .map_err(Error::new)?;
            out.push((format!("{base}/Chart.lock"), lock.to_yaml().into_bytes()));
        }
    }
    for special in ["values.yaml", "values.schema.json"] {
        if let Some(f) = find(special) {
            out.push((format!("{base}/{special}"), f.data.clone()));
        }
    }
    // The loader's classification, in walk order: templates first, then plain files.
    let is_special = |n: &str| match n {
        "Chart.yaml" | "Chart.lock" | "values.yaml" | "values.schema.json" => true,
        "requirements.yaml" | "requirements.lock" => !v1,
        _ => n.starts_with("charts/") && !n.ends_with(".prov"),
    };
    for f in files.iter().filter(|f| f.name.starts_with("templates/")) {
        out.push((format!("{base}/{}", f.name), f.data.clone()));
    }
    for f in files
        .iter()
        .filter(|f| !f.name.starts_with("templates/") && !is_special(&f.name))
    {
        out.push((format!("{base}/{}", f.name), f.data.clone()));
    }

    // Subcharts, grouped by their entry under charts/ as the loader groups them (sorted: Helm
    // walks a Go map here, in no fixed order).
    let mut groups: std::collections::BTreeMap<String, Vec<BufferedFile>> = Default::default();
    for f in files {
        let Some(rest) = f.name.strip_prefix("charts/") else {
            continue;
        };
        if f.name.ends_with(".prov") {
            continue;
        }
        let group = rest.split('/').next().unwrap_or_default().to_string();
        if group.starts_with('_') || group.starts_with('.') {
            continue;
        }
        let inner = if group.ends_with(".tgz") {
            rest.to_string()
        } else {
            rest.split_once('/')
                .map(|(_, r)| r.to_string())
                .unwrap_or_default()
        };
        groups.entry(group).or_default().push(BufferedFile {
            name: inner,
            data: f.data,
        });
    }
    let charts_dir = format!("{base}/charts");
    let mut taken = std::collections::BTreeSet::new();
    for (group, files) in groups {
        let unpacked = if group.ends_with(".tgz") {
            super::archive::load_archive_files(&files[0].data)
                .map_err(|e| Error::new(format!("error unpacking subchart {group} in {}: {e}", md.name)))?
        } else {
            files.clone()
        };
        let name = loader::load_files(unpacked.clone())
            .map_err(|e| {
                Error::new(format!(
                    "error unpacking subchart {group} in {}: {}",
                    md.name, e.message
                ))
            })?
            .metadata
            .name;
        if taken.insert(name) {
            chart_entries(unpacked, &charts_dir, opts, false, out)?;
            continue;
        }
        // Two subcharts of one name (the same chart at two versions, one aliased): Helm would
        // unpack both into charts/<name>/ and load one chart made of both. This one keeps its
        // own entry instead, so the package loads as the directory does.
        if group.ends_with(".tgz") {
            out.push((format!("{charts_dir}/{group}"), files[0].data.clone()));
        } else {
            for f in files {
                out.push((format!("{charts_dir}/{group}/{}", f.name), f.data));
            }
        }
    }
    Ok(md)
}

/// The tar stream, gzipped with Helm's header fields and no timestamp.
fn write_tgz(entries: &[(String, Vec<u8>)], mtime: u64) -> std::io::Result<Vec<u8>> {
    let gz = flate2::GzBuilder::new()
        .extra(HELM_GZIP_EXTRA)
        .comment("Helm")
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    for (name, data) in entries {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_uid(0);
        h.set_gid(0);
        // Names longer than USTAR's fields get a GNU long-name entry, which Go's reader takes.
        tar.append_data(&mut h, name, data.as_slice())?;
    }
    let mut gz = tar.into_inner()?;
    gz.flush()?;
    gz.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, data: &str) -> BufferedFile {
        BufferedFile {
            name: name.into(),
            data: data.as_bytes().to_vec(),
        }
    }

    fn names(archive: &Archive) -> Vec<String> {
        super::super::archive::load_archive_files(&archive.data)
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect()
    }

    fn read(archive: &Archive, name: &str) -> String {
        let files = super::super::archive::load_archive_files(&archive.data).unwrap();
        let f = files.into_iter().find(|f| f.name == name).unwrap();
        String::from_utf8(f.data).unwrap()
    }

    fn sub_tgz() -> Vec<u8> {
        save(
            vec![
                file("Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.2.0\n"),
                file("templates/a.yaml", "a: 1\n"),
            ],
            &SaveOptions::default(),
        )
        .unwrap()
        .data
    }

    fn umbrella() -> Vec<BufferedFile> {
        vec![
            file(".helmignore", "*.bak\n"),
            file(
                "Chart.yaml",
                "name: top\nversion: 1.0.0\napiVersion: v2\ndependencies:\n- name: sub\n  version: ~0.2.0\n  repository: file://../sub\n",
            ),
            file("Chart.lock", "dependencies:\n- name: sub\n  repository: file://../sub\n  version: 0.2.0\ndigest: sha256:x\ngenerated: \"2026-01-01T00:00:00Z\"\n"),
            file("README.md", "hi\n"),
            BufferedFile {
                name: "charts/sub-0.2.0.tgz".into(),
                data: sub_tgz(),
            },
            file("templates/cm.yaml", "kind: ConfigMap\n"),
            file("values.yaml", "x: 1\n"),
        ]
    }

    #[test]
    fn layout_is_helms() {
        let a = save(umbrella(), &SaveOptions::default()).unwrap();
        assert_eq!(a.file_name, "top-1.0.0.tgz");
        let want = [
            "Chart.yaml",
            "Chart.lock",
            "values.yaml",
            "templates/cm.yaml",
            ".helmignore",
            "README.md",
            "charts/sub/Chart.yaml",
            "charts/sub/templates/a.yaml",
        ];
        assert_eq!(names(&a), want);
        // Re-marshalled with sorted keys, as sigs.k8s.io/yaml writes the struct.
        assert_eq!(
            read(&a, "Chart.yaml"),
            "apiVersion: v2\ndependencies:\n- name: sub\n  repository: file://../sub\n  version: ~0.2.0\nname: top\nversion: 1.0.0\n"
        );
    }

    #[test]
    fn same_input_same_bytes_and_overrides_apply() {
        let a = save(umbrella(), &SaveOptions::default()).unwrap();
        let b = save(umbrella(), &SaveOptions::default()).unwrap();
        assert_eq!(a.data, b.data, "reproducible");
        let opts = SaveOptions {
            version: Some("2.0.0-rc.1".into()),
            app_version: Some("9.9".into()),
            ..SaveOptions::default()
        };
        let c = save(umbrella(), &opts).unwrap();
        assert_eq!(c.file_name, "top-2.0.0-rc.1.tgz");
        let chart = loader::load_archive(&c.data).unwrap();
        assert_eq!(chart.metadata.version, "2.0.0-rc.1");
        assert_eq!(chart.metadata.app_version, "9.9");
        assert_eq!(chart.dependencies.len(), 1, "the subchart loads from the package");
    }

    #[test]
    fn a_second_subchart_of_the_same_name_stays_packed() {
        let mut files = umbrella();
        let other = save(
            vec![file("Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n")],
            &SaveOptions::default(),
        )
        .unwrap()
        .data;
        files.push(BufferedFile {
            name: "charts/sub-0.1.0.tgz".into(),
            data: other,
        });
        let a = save(files, &SaveOptions::default()).unwrap();
        // Groups go in name order: sub-0.1.0.tgz is unpacked, sub-0.2.0.tgz stays packed.
        assert!(
            names(&a).contains(&"charts/sub-0.2.0.tgz".to_string()),
            "{:?}",
            names(&a)
        );
        let chart = loader::load_archive(&a.data).unwrap();
        let mut versions: Vec<_> = chart
            .dependencies
            .iter()
            .map(|c| c.metadata.version.clone())
            .collect();
        versions.sort();
        assert_eq!(versions, ["0.1.0", "0.2.0"]);
    }

    #[test]
    fn v1_dependencies_stay_in_requirements() {
        let files = vec![
            file("Chart.yaml", "apiVersion: v1\nname: old\nversion: 1.0.0\n"),
            file(
                "requirements.yaml",
                "dependencies:\n- name: x\n  version: 1.0.0\n  repository: file://x\n",
            ),
        ];
        let a = save(files, &SaveOptions::default()).unwrap();
        assert_eq!(names(&a), ["Chart.yaml", "requirements.yaml"]);
        assert!(!read(&a, "Chart.yaml").contains("dependencies"));
    }

    #[test]
    fn refuses_what_helm_cannot_load() {
        let cases = [
            (
                "no Chart.yaml",
                vec![file("values.yaml", "a: 1\n")],
                "Chart.yaml file is missing",
            ),
            (
                "bad version",
                vec![file("Chart.yaml", "apiVersion: v2\nname: x\nversion: one\n")],
                "version",
            ),
        ];
        for (name, files, want) in cases {
            let err = save(files, &SaveOptions::default()).unwrap_err();
            assert!(err.message.contains(want), "{name}: {}", err.message);
        }
    }
}
