//! Conformance against real Helm: every case of the chart corpus (`$KUBECTL_CHART_CORPUS`, default
//! `../shared/corpus`) is rendered in-process and compared with helm v3.17.2's own output, byte for
//! byte and document by document.
//!
//! Lines that differ between Helm's two runs of the same command come from random functions; they
//! are the only lines masked. The test prints a table and fails when a case listed in
//! `tests/conformance-baseline.txt` (one `case status` per line) does worse than recorded there,
//! so a regression can never land silently. Reaching the full bar (every case semantic, 95%
//! byte-identical) is tracked by raising that baseline.

use std::{collections::BTreeMap, fs, path::PathBuf};

use kubectl_chart::action::{template, TemplateOptions};
use kubectl_chart::values::ValuesOptions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Status {
    Error,
    Differs,
    Semantic,
    Identical,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Status::Error => "error",
            Status::Differs => "differs",
            Status::Semantic => "semantic-only",
            Status::Identical => "byte-identical",
        }
    }
    fn parse(s: &str) -> Option<Status> {
        [
            Status::Error,
            Status::Differs,
            Status::Semantic,
            Status::Identical,
        ]
        .into_iter()
        .find(|x| x.name() == s)
    }
}

fn corpus_dir() -> PathBuf {
    let dir = std::env::var("KUBECTL_CHART_CORPUS").unwrap_or_else(|_| "../shared/corpus".to_string());
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)
}

struct Case {
    name: String,
    chart: String,
    values: Option<PathBuf>,
    golden: PathBuf,
    golden_b: PathBuf,
}

fn cases(corpus: &std::path::Path) -> Vec<Case> {
    let mut out = Vec::new();
    let mut charts: Vec<String> = fs::read_dir(corpus.join("charts"))
        .expect("corpus charts dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    charts.sort();
    for chart in charts {
        for (kind, values) in [
            ("default", None),
            (
                "alt",
                Some(corpus.join("values").join(format!("{chart}-alt.yaml"))),
            ),
        ] {
            let golden = corpus
                .join("golden")
                .join(&chart)
                .join(format!("{kind}.helm3.yaml"));
            if !golden.exists() || values.as_ref().is_some_and(|v| !v.exists()) {
                continue;
            }
            out.push(Case {
                name: format!("{chart}/{kind}"),
                chart: chart.clone(),
                values,
                golden_b: corpus
                    .join("golden")
                    .join(&chart)
                    .join(format!("{kind}.helm3.b.yaml")),
                golden,
            });
        }
    }
    out
}

/// Line indices where Helm's two runs differ (random output), when both have the same line count.
fn masked_lines(a: &str, b: &str) -> Vec<bool> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    if la.len() != lb.len() {
        return vec![false; la.len()];
    }
    la.iter().zip(&lb).map(|(x, y)| x != y).collect()
}

/// Our output with masked lines replaced by the reference's, when line counts agree.
fn apply_mask(ours: &str, golden: &str, mask: &[bool]) -> String {
    let (lo, lg): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), golden.lines().collect());
    if lo.len() != lg.len() {
        return ours.to_string();
    }
    let mut s: String = lo
        .iter()
        .zip(&lg)
        .zip(mask)
        .map(|((o, g), m)| if *m { *g } else { *o })
        .collect::<Vec<_>>()
        .join("\n");
    if ours.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// (source header, parsed documents) for each `---` document of a `helm template` stream.
fn documents(text: &str) -> Vec<(String, Result<Vec<serde_json::Value>, String>)> {
    text.split("---\n# Source: ")
        .filter(|d| !d.trim().is_empty())
        .map(|d| {
            let (src, body) = d.split_once('\n').unwrap_or((d, ""));
            let parsed = kubectl_chart::yaml::parse_documents(body, src).map_err(|e| e.to_string());
            (src.to_string(), parsed)
        })
        .collect()
}

fn compare(ours: &str, golden: &str, golden_b: &str) -> (Status, String) {
    let mask = masked_lines(golden, golden_b);
    let masked = apply_mask(ours, golden, &mask);
    if masked == golden {
        return (Status::Identical, String::new());
    }
    let first_diff = masked
        .lines()
        .zip(golden.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}: ours {a:?} helm {b:?}", i + 1))
        .unwrap_or_else(|| {
            format!(
                "line counts {} vs {}",
                masked.lines().count(),
                golden.lines().count()
            )
        });
    let (d_ours, d_gold) = (documents(&masked), documents(golden));
    if d_ours.len() != d_gold.len() {
        return (
            Status::Differs,
            format!("{} documents vs {}; {first_diff}", d_ours.len(), d_gold.len()),
        );
    }
    for ((sa, pa), (sb, pb)) in d_ours.iter().zip(&d_gold) {
        if sa != sb {
            return (Status::Differs, format!("source {sa} vs {sb}"));
        }
        match (pa, pb) {
            (Ok(a), Ok(b)) if a == b => {}
            _ => {
                return (
                    Status::Differs,
                    format!("document from {sa} differs; {first_diff}"),
                )
            }
        }
    }
    (Status::Semantic, first_diff)
}

fn render(case: &Case, corpus: &std::path::Path) -> Result<String, String> {
    let opts = TemplateOptions {
        release_name: format!("rel-{}", case.chart),
        namespace: "ns-test".to_string(),
        chart: corpus.join("charts").join(&case.chart),
        values: ValuesOptions {
            value_files: case.values.iter().map(|p| p.display().to_string()).collect(),
            ..Default::default()
        },
        kube_version: Some("1.31.0".to_string()),
        ..Default::default()
    };
    template(&opts).map_err(|e| format!("{e:#}"))
}

#[test]
fn corpus_renders_like_helm() {
    let corpus = corpus_dir();
    if !corpus.join("charts").is_dir() {
        eprintln!(
            "skipped: no chart corpus at {} (set KUBECTL_CHART_CORPUS)",
            corpus.display()
        );
        return;
    }
    let baseline_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/conformance-baseline.txt");
    let baseline: BTreeMap<String, Status> = fs::read_to_string(&baseline_path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (c, s) = l.split_once(' ')?;
            Some((c.to_string(), Status::parse(s.trim())?))
        })
        .collect();

    let mut rows = Vec::new();
    for case in cases(&corpus) {
        let golden = fs::read_to_string(&case.golden).expect("golden");
        let golden_b = fs::read_to_string(&case.golden_b).unwrap_or_else(|_| golden.clone());
        let docs = golden.matches("\n# Source: ").count() + usize::from(golden.starts_with("# Source: "));
        let (status, detail) = match render(&case, &corpus) {
            Ok(ours) => compare(&ours, &golden, &golden_b),
            Err(e) => (Status::Error, e),
        };
        rows.push((case.name, docs, status, detail));
    }

    eprintln!("\n{:<34} {:>5}  {:<15} detail", "case", "docs", "result");
    for (name, docs, status, detail) in &rows {
        let detail: String = detail.chars().take(150).collect();
        eprintln!("{name:<34} {docs:>5}  {:<15} {detail}", status.name());
    }
    let identical = rows.iter().filter(|r| r.2 == Status::Identical).count();
    let semantic = rows.iter().filter(|r| r.2 >= Status::Semantic).count();
    eprintln!(
        "{identical}/{} byte-identical, {semantic}/{} semantically identical\n",
        rows.len(),
        rows.len()
    );

    if std::env::var_os("UPDATE_BASELINE").is_some() {
        let text: String = rows
            .iter()
            .map(|(n, _, s, _)| format!("{n} {}\n", s.name()))
            .collect();
        fs::write(&baseline_path, text).expect("write baseline");
        return;
    }
    let regressions: Vec<String> = rows
        .iter()
        .filter(|(n, _, s, _)| baseline.get(n).is_some_and(|b| s < b))
        .map(|(n, _, s, _)| format!("{n}: {} (baseline {})", s.name(), baseline[n].name()))
        .collect();
    assert!(
        regressions.is_empty(),
        "conformance regressions:\n{}",
        regressions.join("\n")
    );
}
