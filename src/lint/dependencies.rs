//! Dependency rules (Helm's `rules.Dependencies`): every chart under `charts/` is declared in
//! `Chart.yaml`, names and aliases are unique, and every declared dependency is vendored (a
//! warning: `dependency build` may not have run yet). Messages are filed under the chart's
//! absolute directory, as Helm files them.

use super::{Linter, Severity};
use crate::chart::Chart;

/// Runs the dependency rules on the loaded chart (or its loading error). `dir` is the chart's
/// absolute directory.
pub fn check(linter: &mut Linter, dir: &str, chart: Result<&Chart, String>) {
    let chart = match chart {
        Ok(c) => c,
        Err(e) => {
            linter.run(Severity::Error, "", Err(format!("unable to load chart\n\t{e}")));
            return;
        }
    };
    let declared: Vec<&str> = chart
        .metadata
        .dependencies
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    let vendored: Vec<&str> = chart.dependencies.iter().map(Chart::name).collect();

    let undeclared: Vec<&str> = vendored
        .iter()
        .copied()
        .filter(|v| !declared.contains(v))
        .collect();
    linter.run(
        Severity::Error,
        dir,
        none_or(&undeclared, "chart metadata is missing these dependencies"),
    );

    let mut seen = Vec::new();
    let mut shadowing = Vec::new();
    for d in &chart.metadata.dependencies {
        let key = if d.alias.is_empty() {
            d.name.as_str()
        } else {
            d.alias.as_str()
        };
        if seen.contains(&key) {
            shadowing.push(key);
        }
        seen.push(key);
    }
    linter.run(
        Severity::Error,
        dir,
        none_or(&shadowing, "multiple dependencies with name or alias"),
    );

    let missing: Vec<&str> = declared
        .iter()
        .copied()
        .filter(|d| !vendored.contains(d))
        .collect();
    linter.run(
        Severity::Warning,
        dir,
        none_or(&missing, "chart directory is missing these dependencies"),
    );
}

fn none_or(names: &[&str], what: &str) -> Result<(), String> {
    if names.is_empty() {
        Ok(())
    } else {
        Err(format!("{what}: {}", names.join(",")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::Dependency;

    fn chart(declared: &[(&str, &str)], vendored: &[&str]) -> Chart {
        let mut c = Chart::empty();
        c.metadata.name = "top".into();
        c.metadata.dependencies = declared
            .iter()
            .map(|(n, a)| Dependency {
                name: n.to_string(),
                alias: a.to_string(),
                ..Default::default()
            })
            .collect();
        c.dependencies = vendored
            .iter()
            .map(|n| {
                let mut d = Chart::empty();
                d.metadata.name = n.to_string();
                d
            })
            .collect();
        c
    }

    #[test]
    fn dependency_rules_report_helms_messages() {
        let cases: &[(&str, Chart, &[&str])] = &[
            ("in step", chart(&[("a", "")], &["a"]), &[]),
            (
                "undeclared",
                chart(&[], &["a", "b"]),
                &["[ERROR] /c: chart metadata is missing these dependencies: a,b"],
            ),
            (
                "shadowed",
                chart(&[("a", ""), ("b", "a"), ("a", "")], &["a", "b"]),
                &["[ERROR] /c: multiple dependencies with name or alias: a,a"],
            ),
            (
                "not vendored",
                chart(&[("a", ""), ("b", "")], &[]),
                &["[WARNING] /c: chart directory is missing these dependencies: a,b"],
            ),
        ];
        for (name, c, want) in cases {
            let mut l = Linter::default();
            check(&mut l, "/c", Ok(c));
            let got: Vec<String> = l.messages.iter().map(|m| m.to_string()).collect();
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn unloadable_chart_is_one_error() {
        let mut l = Linter::default();
        check(&mut l, "/c", Err("Chart.yaml file is missing".into()));
        assert_eq!(
            l.messages[0].to_string(),
            "[ERROR] : unable to load chart\n\tChart.yaml file is missing"
        );
    }
}
