//! `show chart|values|readme|crds|all CHART`: print parts of a chart without rendering it, in
//! Helm's format (`pkg/action/show.go`), for any chart reference.

use super::locate::{locate_chart, ChartSourceOptions};
use crate::chart::{self, archive, Chart};

/// Which part to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShowPart {
    /// Everything, separated by `---`.
    All,
    /// `Chart.yaml`, as Helm re-marshals it.
    Chart,
    /// `values.yaml` as written.
    Values,
    /// The README.
    Readme,
    /// The CRD files, subcharts' included.
    Crds,
}

/// What to show.
#[derive(Debug, Clone)]
pub struct ShowOptions {
    /// The chart reference.
    pub chart: String,
    /// The part.
    pub part: ShowPart,
    /// Version and connection flags.
    pub source: ChartSourceOptions,
}

/// Returns Helm's stderr notices and the text to print.
pub fn show(opts: &ShowOptions) -> anyhow::Result<(Vec<String>, String)> {
    let located = locate_chart(&opts.chart, &opts.source)?;
    let loaded = chart::load(&located.path)?;
    let raw_values = match &located.archive {
        Some(data) => archive::load_archive_files(data)
            .map_err(anyhow::Error::msg)?
            .into_iter()
            .find(|f| f.name == "values.yaml")
            .map(|f| f.data),
        None => std::fs::read(located.path.join("values.yaml"))
            .ok()
            .map(|d| d.strip_prefix(b"\xEF\xBB\xBF").map(<[u8]>::to_vec).unwrap_or(d)),
    };
    Ok((
        located.notices,
        render(&loaded, raw_values.as_deref(), opts.part)?,
    ))
}

/// The README names Helm looks for, in its order, matched case-insensitively.
const README_NAMES: [&str; 3] = ["readme.md", "readme.txt", "readme"];

fn render(ch: &Chart, raw_values: Option<&[u8]>, part: ShowPart) -> Result<String, chart::Error> {
    use ShowPart::*;
    let mut out = String::new();
    if matches!(part, Chart | All) {
        // sigs.k8s.io/yaml output ends in a newline and Helm adds one more.
        let yaml = crate::yaml::emit::json_to_yaml(&ch.metadata.to_json());
        out.push_str(&yaml);
        if !yaml.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    if matches!(part, Values | All) {
        if let Some(v) = raw_values {
            if part == All {
                out.push_str("---\n");
            }
            out.push_str(&String::from_utf8_lossy(v));
            out.push('\n');
        }
    }
    if matches!(part, Readme | All) {
        let readme = ch
            .files
            .iter()
            .find(|f| README_NAMES.iter().any(|n| f.name.eq_ignore_ascii_case(n)));
        if let Some(f) = readme {
            if part == All {
                out.push_str("---\n");
            }
            out.push_str(&String::from_utf8_lossy(f.data.bytes()?));
            out.push('\n');
        }
    }
    if matches!(part, Crds | All) {
        let mut crds = Vec::new();
        collect_crds(ch, &mut crds);
        if let Some(first) = crds.first() {
            if part == All && !first.data.bytes()?.starts_with(b"---") {
                out.push_str("---\n");
            }
            for c in crds {
                out.push_str(&String::from_utf8_lossy(c.data.bytes()?));
                out.push('\n');
            }
        }
    }
    Ok(out)
}

fn collect_crds<'a>(ch: &'a Chart, out: &mut Vec<&'a chart::File>) {
    out.extend(ch.crds.iter());
    for d in &ch.dependencies {
        collect_crds(d, out);
    }
}
