//! In-process render benchmark on the largest corpus charts (argo-cd, keda): load, values, render,
//! sort — the whole `template` action minus process start. Run with `cargo bench --bench render`.
//! Prints min and median per chart; compare with `benches/template-vs-helm.sh` for whole-process numbers.

use std::{path::PathBuf, time::Instant};

use kubectl_chart::action::{template, TemplateOptions};

fn main() {
    let corpus = std::env::var("KUBECTL_CHART_CORPUS").unwrap_or_else(|_| "../shared/corpus".to_string());
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(corpus);
    if !corpus.join("charts").is_dir() {
        eprintln!("skipped: no chart corpus at {}", corpus.display());
        return;
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(20);
    for chart in ["argo-cd", "keda", "ingress-nginx", "redis"] {
        let opts = TemplateOptions {
            release_name: format!("rel-{chart}"),
            namespace: "ns-test".into(),
            chart: corpus.join("charts").join(chart),
            kube_version: Some("1.31.0".into()),
            ..Default::default()
        };
        let mut times = Vec::with_capacity(runs);
        let mut bytes = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let out = template(&opts).expect("render");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            bytes = out.len();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{chart:<16} {bytes:>9} bytes  min {:>7.2} ms  median {:>7.2} ms  ({runs} runs)",
            times[0],
            times[runs / 2]
        );
    }
}
