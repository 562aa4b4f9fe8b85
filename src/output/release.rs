//! Printers for release records: `history`, `list`, `status` and `get`, each in Helm's shapes so
//! scripts written against `helm … -o json` read ours (field names from Helm v3.17
//! `cmd/helm/{history,list,status,get_*}.go` and `pkg/release`).
//!
//! Differences from Helm, on purpose: times are UTC (see [`super::time`]); `status -o json` has no
//! `chart` (Helm strips it too) and `config` holds the user-supplied values we store.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use super::{time, write_json, write_yaml, OutputFormat, Table};
use crate::release::{ChartRef, Hook, RecordMeta, Release};

/// `NAME-VERSION`, Helm's `formatChartName`.
pub fn chart_name(c: &ChartRef) -> String {
    format!("{}-{}", c.name, c.version)
}

// ---- history -----------------------------------------------------------------------------------

/// One revision as `helm history -o json` writes it (`releaseInfo`).
pub fn history_entry(r: &Release) -> Value {
    let mut v = json!({
        "revision": r.revision,
        "updated": time::rfc3339(r.last_deployed),
        "status": r.status.as_str(),
        "chart": chart_name(&r.chart),
        "app_version": r.chart.app_version,
        "description": r.description,
    });
    // Our addition: where the chart came from, only when known (Helm's keys stay as they are).
    if let Some(o) = &r.chart.origin {
        v["chart_source"] = o.source.clone().into();
        v["chart_digest"] = o.digest.clone().into();
    }
    v
}

/// `history`: revisions as given (oldest first).
pub fn write_history(out: &mut dyn Write, revisions: &[Release], format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Table => {
            let mut t = Table::new();
            // A SOURCE column (our addition) only when some revision's chart was fetched or
            // packaged; otherwise the table is Helm's.
            let sourced = revisions.iter().any(|r| r.chart.origin.is_some());
            let mut header = vec![
                "REVISION",
                "UPDATED",
                "STATUS",
                "CHART",
                "APP VERSION",
                "DESCRIPTION",
            ];
            if sourced {
                header.push("SOURCE");
            }
            t.add_row(header);
            for r in revisions {
                let mut row = vec![
                    r.revision.to_string(),
                    time::ansic(r.last_deployed),
                    r.status.to_string(),
                    chart_name(&r.chart),
                    r.chart.app_version.clone(),
                    r.description.clone(),
                ];
                if sourced {
                    row.push(
                        r.chart
                            .origin
                            .as_ref()
                            .map_or_else(String::new, |o| format!("{}@{}", o.source, o.digest)),
                    );
                }
                t.add_row(row);
            }
            t.write(out)
        }
        OutputFormat::Json => write_json(out, &Value::Array(revisions.iter().map(history_entry).collect())),
        OutputFormat::Yaml => write_yaml(out, &Value::Array(revisions.iter().map(history_entry).collect())),
    }
}

// ---- list --------------------------------------------------------------------------------------

/// How `list` prints besides the format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListStyle {
    /// `-q/--short`: names only.
    pub short: bool,
    /// `--no-headers`: the table without its header row.
    pub no_headers: bool,
}

/// One release as `helm list -o json` writes it (`releaseElement`; the revision is a string there).
pub fn list_entry(namespace: &str, m: &RecordMeta) -> Value {
    let mut v = json!({
        "name": m.name,
        "namespace": namespace,
        "revision": m.revision.to_string(),
        "updated": time::go_string(m.last_deployed),
        "status": m.status.as_str(),
        "chart": chart_name(&m.chart),
        "app_version": m.chart.app_version,
    });
    // Helm's fields, plus where a release Helm still holds lives.
    if m.owner == crate::release::helm::HELM_OWNER {
        v["storage"] = json!("helm");
    }
    v
}

/// A release still in Helm's own storage (not taken over) is marked as such.
fn status_cell(m: &RecordMeta) -> String {
    if m.owner == crate::release::helm::HELM_OWNER {
        format!("{} (helm)", m.status)
    } else {
        m.status.to_string()
    }
}

/// `list`: one `(namespace, newest record)` per release, in the order given.
pub fn write_list(
    out: &mut dyn Write,
    releases: &[(&str, &RecordMeta)],
    format: OutputFormat,
    style: ListStyle,
) -> io::Result<()> {
    if style.short {
        let names: Vec<Value> = releases
            .iter()
            .map(|(_, m)| Value::from(m.name.as_str()))
            .collect();
        return match format {
            OutputFormat::Table => {
                for (_, m) in releases {
                    writeln!(out, "{}", m.name)?;
                }
                Ok(())
            }
            OutputFormat::Json => write_json(out, &Value::Array(names)),
            OutputFormat::Yaml => write_yaml(out, &Value::Array(names)),
        };
    }
    match format {
        OutputFormat::Table => {
            let mut t = Table::new();
            if !style.no_headers {
                t.add_row([
                    "NAME",
                    "NAMESPACE",
                    "REVISION",
                    "UPDATED",
                    "STATUS",
                    "CHART",
                    "APP VERSION",
                ]);
            }
            for (ns, m) in releases {
                t.add_row([
                    m.name.clone(),
                    ns.to_string(),
                    m.revision.to_string(),
                    time::go_string(m.last_deployed),
                    status_cell(m),
                    chart_name(&m.chart),
                    m.chart.app_version.clone(),
                ]);
            }
            t.write(out)
        }
        OutputFormat::Json => write_json(
            out,
            &Value::Array(releases.iter().map(|(ns, m)| list_entry(ns, m)).collect()),
        ),
        OutputFormat::Yaml => write_yaml(
            out,
            &Value::Array(releases.iter().map(|(ns, m)| list_entry(ns, m)).collect()),
        ),
    }
}

// ---- status ------------------------------------------------------------------------------------

/// A hook as Helm's `release.Hook` marshals (`last_run` always present, zero times as `""`).
fn hook_json(h: &Hook) -> Value {
    let mut o = Map::new();
    let mut put_str = |k: &str, v: &str| {
        if !v.is_empty() {
            o.insert(k.to_string(), Value::from(v));
        }
    };
    put_str("name", &h.name);
    put_str("kind", &h.kind);
    put_str("path", &h.path);
    put_str("manifest", &h.manifest);
    if !h.events.is_empty() {
        o.insert("events".into(), json!(h.events));
    }
    let (started, completed, phase) = match &h.last_run {
        Some(r) => (
            time::rfc3339(r.started_at),
            r.completed_at.map(time::rfc3339).unwrap_or_default(),
            r.phase.clone(),
        ),
        None => (String::new(), String::new(), String::new()),
    };
    o.insert(
        "last_run".into(),
        json!({"started_at": started, "completed_at": completed, "phase": phase}),
    );
    if h.weight != 0 {
        o.insert("weight".into(), json!(h.weight));
    }
    if !h.delete_policies.is_empty() {
        o.insert("delete_policies".into(), json!(h.delete_policies));
    }
    Value::Object(o)
}

fn is_empty_values(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A revision as `helm status -o json` writes it: Helm's `release.Release` with `chart` removed
/// (`omitempty` fields left out when empty, as Go does).
pub fn status_json(r: &Release) -> Value {
    let mut info = Map::new();
    info.insert("first_deployed".into(), time::rfc3339(r.first_deployed).into());
    info.insert("last_deployed".into(), time::rfc3339(r.last_deployed).into());
    // `deleted` has no omitempty in Helm: a zero time marshals as "".
    info.insert(
        "deleted".into(),
        r.deleted.map(time::rfc3339).unwrap_or_default().into(),
    );
    if !r.description.is_empty() {
        info.insert("description".into(), r.description.clone().into());
    }
    info.insert("status".into(), r.status.as_str().into());
    if !r.notes.is_empty() {
        info.insert("notes".into(), r.notes.clone().into());
    }
    let mut o = Map::new();
    o.insert("name".into(), r.name.clone().into());
    o.insert("info".into(), Value::Object(info));
    if !is_empty_values(&r.values) {
        o.insert("config".into(), super::sort_keys(&r.values));
    }
    if !r.manifest.is_empty() {
        o.insert("manifest".into(), r.manifest.clone().into());
    }
    if !r.hooks.is_empty() {
        o.insert("hooks".into(), r.hooks.iter().map(hook_json).collect());
    }
    o.insert("version".into(), r.revision.into());
    o.insert("namespace".into(), r.namespace.clone().into());
    Value::Object(o)
}

/// What the `status` table shows besides Helm's fixed lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatusView {
    /// `--show-desc`: the DESCRIPTION line.
    pub show_description: bool,
}

/// `status`.
pub fn write_status(
    out: &mut dyn Write,
    r: &Release,
    format: OutputFormat,
    view: StatusView,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => write_status_table(out, r, view.show_description, false),
        OutputFormat::Json => write_json(out, &status_json(r)),
        OutputFormat::Yaml => write_yaml(out, &status_json(r)),
    }
}

/// Go's zero `time.Time` in the ANSIC layout, which Helm prints for a test that never completed.
const ZERO_TIME_ANSIC: &str = "Mon Jan  1 00:00:00 0001";

/// Helm's `statusPrinter.WriteTable`; `debug` is `get all` (chart metadata, values, hooks,
/// manifest).
fn write_status_table(
    out: &mut dyn Write,
    r: &Release,
    show_description: bool,
    debug: bool,
) -> io::Result<()> {
    writeln!(out, "NAME: {}", r.name)?;
    writeln!(out, "LAST DEPLOYED: {}", time::ansic(r.last_deployed))?;
    writeln!(out, "NAMESPACE: {}", r.namespace)?;
    writeln!(out, "STATUS: {}", r.status)?;
    writeln!(out, "REVISION: {}", r.revision)?;
    // Not in Helm's output (it does not record it): shown only for charts that were fetched or
    // packaged, so a release from a chart directory prints exactly as Helm's.
    if let Some(o) = &r.chart.origin {
        writeln!(out, "CHART SOURCE: {}", o.source)?;
        writeln!(out, "CHART DIGEST: {}", o.digest)?;
    }
    if debug {
        writeln!(out, "CHART: {}", r.chart.name)?;
        writeln!(out, "VERSION: {}", r.chart.version)?;
        writeln!(out, "APP_VERSION: {}", r.chart.app_version)?;
    }
    if show_description {
        writeln!(out, "DESCRIPTION: {}", r.description)?;
    }
    let tests: Vec<&Hook> = r
        .hooks
        .iter()
        .filter(|h| h.events.iter().any(|e| e == "test"))
        .collect();
    if tests.is_empty() {
        writeln!(out, "TEST SUITE: None")?;
    }
    for h in tests {
        // A test that never started prints nothing (Helm skips a zero StartedAt).
        let Some(run) = &h.last_run else { continue };
        let completed = run
            .completed_at
            .map_or_else(|| ZERO_TIME_ANSIC.to_string(), time::ansic);
        write!(
            out,
            "TEST SUITE:     {}\nLast Started:   {}\nLast Completed: {}\nPhase:          {}\n",
            h.name,
            time::ansic(run.started_at),
            completed,
            run.phase
        )?;
    }
    if debug {
        writeln!(out, "USER-SUPPLIED VALUES:")?;
        write_yaml(out, &r.values)?;
        writeln!(out)?;
        writeln!(out, "COMPUTED VALUES:")?;
        write_yaml(out, &r.computed_values)?;
        writeln!(out)?;
        writeln!(out, "HOOKS:")?;
        write_hooks(out, &r.hooks)?;
        write!(out, "MANIFEST:\n{}\n", r.manifest)?;
    }
    if !r.notes.is_empty() {
        write!(out, "NOTES:\n{}\n", r.notes.trim())?;
    }
    Ok(())
}

// ---- get ---------------------------------------------------------------------------------------

/// `get manifest`: the manifest and a newline (Helm's `Fprintln`).
pub fn write_manifest(out: &mut dyn Write, r: &Release) -> io::Result<()> {
    writeln!(out, "{}", r.manifest)
}

/// `get notes`: nothing when the chart has no notes.
pub fn write_notes(out: &mut dyn Write, r: &Release) -> io::Result<()> {
    if r.notes.is_empty() {
        return Ok(());
    }
    write!(out, "NOTES:\n{}\n", r.notes)
}

/// `get hooks`: each hook as a YAML document with its source.
pub fn write_hooks(out: &mut dyn Write, hooks: &[Hook]) -> io::Result<()> {
    for h in hooks {
        write!(out, "---\n# Source: {}\n{}\n", h.path, h.manifest)?;
    }
    Ok(())
}

/// `get values [--all]`: the table format is YAML under a title, as Helm's `valuesWriter`.
pub fn write_values(
    out: &mut dyn Write,
    values: &Value,
    computed: bool,
    format: OutputFormat,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => {
            writeln!(
                out,
                "{}",
                if computed {
                    "COMPUTED VALUES:"
                } else {
                    "USER-SUPPLIED VALUES:"
                }
            )?;
            write_yaml(out, values)
        }
        OutputFormat::Json => write_json(out, &super::sort_keys(values)),
        OutputFormat::Yaml => write_yaml(out, values),
    }
}

/// `get all`: the status page with chart metadata, both value sets, hooks and manifest.
pub fn write_all(out: &mut dyn Write, r: &Release) -> io::Result<()> {
    write_status_table(out, r, false, true)
}

#[cfg(test)]
mod tests;
