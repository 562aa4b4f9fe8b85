//! Printers for the repository verbs: `repo list` and `search repo`, in Helm's columns and JSON
//! field names (`cmd/helm/repo_list.go`, `search_repo.go`).

use std::io::{self, Write};

use serde_json::{json, Value as Json};

use super::{write_json, write_yaml, OutputFormat, Table};
use crate::repo::{Entry, SearchHit};

/// `repo list`: NAME and URL (credentials are never printed).
pub fn write_repo_list(out: &mut dyn Write, repos: &[Entry], format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Table => {
            let mut t = Table::new();
            t.add_row(["NAME", "URL"]);
            for e in repos {
                t.add_row([e.name.as_str(), e.url.as_str()]);
            }
            t.write(out)
        }
        OutputFormat::Json | OutputFormat::Yaml => {
            let rows = Json::Array(
                repos
                    .iter()
                    .map(|e| json!({"name": e.name, "url": e.url}))
                    .collect(),
            );
            write_structured(out, &rows, format)
        }
    }
}

/// `search repo`: NAME, CHART VERSION, APP VERSION, DESCRIPTION with cells cut at
/// `max_col_width` (uitable's `...`), or `No results found`.
pub fn write_search(
    out: &mut dyn Write,
    hits: &[SearchHit],
    format: OutputFormat,
    max_col_width: usize,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => {
            if hits.is_empty() {
                return out.write_all(b"No results found\n");
            }
            let mut t = Table::new();
            let cut = |s: &str| truncate(s, max_col_width);
            t.add_row(["NAME", "CHART VERSION", "APP VERSION", "DESCRIPTION"].map(cut));
            for h in hits {
                let m = &h.chart.metadata;
                t.add_row([&h.name, &m.version, &m.app_version, &m.description].map(|s| cut(s)));
            }
            t.write(out)
        }
        OutputFormat::Json | OutputFormat::Yaml => {
            let rows = Json::Array(
                hits.iter()
                    .map(|h| {
                        let m = &h.chart.metadata;
                        json!({"name": h.name, "version": m.version, "app_version": m.app_version, "description": m.description})
                    })
                    .collect(),
            );
            write_structured(out, &rows, format)
        }
    }
}

fn write_structured(out: &mut dyn Write, v: &Json, format: OutputFormat) -> io::Result<()> {
    if format == OutputFormat::Json {
        write_json(out, v)
    } else {
        write_yaml(out, v)
    }
}

/// uitable's `MaxColWidth`: a longer cell keeps `max - 3` characters and gets `...`
/// (0 means no limit).
fn truncate(s: &str, max: usize) -> String {
    if max == 0 || s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(3);
    let mut t: String = s.chars().take(keep).collect();
    t.push_str("...");
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_table_cuts_cells_as_helm() {
        // Helm's row for the demo fixture chart, description cut at 50 columns.
        let cv = crate::repo::ChartVersion::from_json(&json!({
            "name": "demo", "version": "0.3.1", "appVersion": "1.25.3",
            "description": "A small web app that exercises the features kubectl-chart must render like Helm",
        }))
        .unwrap();
        let hits = [SearchHit::new("r1/demo".into(), cv)];
        let mut out = Vec::new();
        write_search(&mut out, &hits, OutputFormat::Table, 50).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME   \tCHART VERSION\tAPP VERSION\tDESCRIPTION                                       \n\
             r1/demo\t0.3.1        \t1.25.3     \tA small web app that exercises the features kub...\n"
        );
        let mut out = Vec::new();
        write_search(&mut out, &[], OutputFormat::Table, 50).unwrap();
        assert_eq!(out, b"No results found\n");
        let mut out = Vec::new();
        write_search(&mut out, &[], OutputFormat::Json, 50).unwrap();
        assert_eq!(out, b"[]\n");
    }

    #[test]
    fn repo_list_as_helm() {
        let repos = [Entry {
            name: "r1".into(),
            url: "http://127.0.0.1:18777/".into(),
            password: "secret".into(),
            ..Entry::default()
        }];
        // (format, helm 3.17's output for the same repositories.yaml)
        let cases = [
            (
                OutputFormat::Table,
                "NAME\tURL                    \nr1  \thttp://127.0.0.1:18777/\n",
            ),
            (
                OutputFormat::Json,
                "[{\"name\":\"r1\",\"url\":\"http://127.0.0.1:18777/\"}]\n",
            ),
            (OutputFormat::Yaml, "- name: r1\n  url: http://127.0.0.1:18777/\n"),
        ];
        for (format, want) in cases {
            let mut out = Vec::new();
            write_repo_list(&mut out, &repos, format).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "{format}");
        }
    }
}
