//! Helm's release JSON (`pkg/release/v1` `Release`, `Info`, `Hook`) to our [`Release`] and back.
//!
//! Reading takes what our records keep: name, revision, status, chart identity, user values
//! (`config`), the values templates saw (`config` coalesced over the stored chart's `values`, what
//! `helm get values --all` prints), manifest, hooks, notes, description and dates. Helm 4's extra
//! fields (`apply_method`, the chart's `modtime`) are read where they matter and otherwise left
//! alone. Writing builds the JSON Helm 3 and Helm 4 both read: dates in RFC 3339, zero dates left
//! out (Helm 4 parses them with Go's `time.Time`, which refuses Helm 3's empty string), and a
//! chart that carries metadata and values but no templates or files (we never stored them).

use serde_json::{json, Map, Value};

use crate::release::{ChartRef, Hook, HookRun, Release, Status, Timestamp};

/// The run id imported revisions carry as their writer.
pub const HELM_OWNER: &str = "helm";

/// A field of a Helm release that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field {field}: {reason}")]
pub struct FieldError {
    /// JSON path of the field (`info.status`).
    pub field: String,
    /// What is wrong with it.
    pub reason: String,
}

fn bad(field: &str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// Helm's status strings (`pkg/release/common/status.go`) as ours. `unknown`, which Helm itself
/// never writes on purpose, reads as failed: it is not deployed and nothing is in progress.
pub fn parse_status(s: &str) -> Option<Status> {
    match s {
        "unknown" => Some(Status::Failed),
        other => Status::parse(other),
    }
}

/// Reads one Helm release into our record for `namespace`.
pub fn to_release(v: &Value, namespace: &str) -> Result<Release, FieldError> {
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("name", "missing"))?;
    let revision = v
        .get("version")
        .and_then(Value::as_u64)
        .filter(|n| (1..=u64::from(u32::MAX)).contains(n))
        .ok_or_else(|| bad("version", "missing or not a positive integer"))? as u32;
    let info = v
        .get("info")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("info", "missing"))?;
    let text = |field: &str| {
        info.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let status_text = text("status");
    let status = parse_status(&status_text)
        .ok_or_else(|| bad("info.status", format!("unknown status {status_text:?}")))?;
    let time = |field: &str| -> Result<Option<Timestamp>, FieldError> {
        match info.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse_time(s).map_err(|reason| bad(&format!("info.{field}"), reason)),
            Some(_) => Err(bad(&format!("info.{field}"), "not a string")),
        }
    };
    let last_deployed = time("last_deployed")?.unwrap_or_default();
    let first_deployed = time("first_deployed")?.unwrap_or(last_deployed);
    let deleted = time("deleted")?;
    let chart = v.get("chart").filter(|c| !c.is_null());
    let meta = chart.and_then(|c| c.get("metadata"));
    let meta_text = |field: &str| {
        meta.and_then(|m| m.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let config = match v.get("config") {
        None | Some(Value::Null) => Value::Object(Map::new()),
        Some(c @ Value::Object(_)) => c.clone(),
        Some(_) => return Err(bad("config", "not an object")),
    };
    let defaults = chart
        .and_then(|c| c.get("values"))
        .filter(|d| d.is_object())
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let computed_values = coalesce(defaults, &config);
    let manifest = match v.get("manifest") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("manifest", "not a string")),
    };
    let hooks = match v.get("hooks") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(hs)) => hs
            .iter()
            .enumerate()
            .map(|(i, h)| to_hook(h).map_err(|e| bad(&format!("hooks[{i}].{}", e.field), e.reason)))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(bad("hooks", "not a list")),
    };
    Ok(Release {
        name: name.to_string(),
        namespace: namespace.to_string(),
        revision,
        status,
        chart: ChartRef {
            name: meta_text("name"),
            version: meta_text("version"),
            app_version: meta_text("appVersion"),
            origin: None,
        },
        values: config,
        computed_values,
        manifest,
        hooks,
        notes: text("notes"),
        description: text("description"),
        first_deployed,
        last_deployed,
        deleted,
        owner: HELM_OWNER.to_string(),
    })
}

fn to_hook(h: &Value) -> Result<Hook, FieldError> {
    let s = |field: &str| {
        h.get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let strings = |field: &str| -> Vec<String> {
        h.get(field)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default()
    };
    let manifest = s("manifest");
    if manifest.is_empty() {
        return Err(bad("manifest", "missing"));
    }
    let last_run = match h.get("last_run").and_then(Value::as_object) {
        None => None,
        Some(run) => {
            let t = |field: &str| -> Result<Option<Timestamp>, FieldError> {
                match run.get(field).and_then(Value::as_str) {
                    None => Ok(None),
                    Some(s) => parse_time(s).map_err(|r| bad(&format!("last_run.{field}"), r)),
                }
            };
            let phase = run.get("phase").and_then(Value::as_str).unwrap_or_default();
            match t("started_at")? {
                Some(started_at) => Some(HookRun {
                    started_at,
                    completed_at: t("completed_at")?,
                    phase: phase.to_string(),
                }),
                None => None,
            }
        }
    };
    Ok(Hook {
        name: s("name"),
        kind: s("kind"),
        path: s("path"),
        manifest,
        events: strings("events"),
        weight: h.get("weight").and_then(Value::as_i64).unwrap_or(0),
        delete_policies: strings("delete_policies"),
        last_run,
    })
}

/// Helm's `CoalesceValues` for one chart's table: `user` over `defaults`, maps merged, anything
/// else replaced, a user `null` deleting the default.
fn coalesce(mut defaults: Value, user: &Value) -> Value {
    let (Some(d), Some(u)) = (defaults.as_object_mut(), user.as_object()) else {
        return user.clone();
    };
    for (k, uv) in u {
        match (d.get_mut(k), uv) {
            (_, Value::Null) => {
                d.remove(k);
            }
            (Some(dv @ Value::Object(_)), Value::Object(_)) => {
                let merged = coalesce(std::mem::take(dv), uv);
                *dv = merged;
            }
            _ => {
                d.insert(k.clone(), uv.clone());
            }
        }
    }
    defaults
}

/// Writes our record as a Helm release that Helm 3 and Helm 4 read: `helm history` shows it,
/// `helm rollback` re-applies its manifest and hooks, `helm get values [--all]` prints the same
/// values (the computed values stand in for the chart's defaults).
pub fn from_release(rel: &Release) -> Value {
    let mut info = Map::new();
    if rel.first_deployed.0 > 0 {
        info.insert("first_deployed".into(), json!(format_time(rel.first_deployed)));
    }
    if rel.last_deployed.0 > 0 {
        info.insert("last_deployed".into(), json!(format_time(rel.last_deployed)));
    }
    if let Some(d) = rel.deleted {
        info.insert("deleted".into(), json!(format_time(d)));
    }
    info.insert("description".into(), json!(rel.description));
    info.insert("status".into(), json!(rel.status.as_str()));
    if !rel.notes.is_empty() {
        info.insert("notes".into(), json!(rel.notes));
    }
    let mut metadata = Map::new();
    metadata.insert("name".into(), json!(rel.chart.name));
    metadata.insert("version".into(), json!(rel.chart.version));
    // Helm refuses to load a chart without an apiVersion; v2 is what every Helm 3 chart is.
    metadata.insert("apiVersion".into(), json!("v2"));
    if !rel.chart.app_version.is_empty() {
        metadata.insert("appVersion".into(), json!(rel.chart.app_version));
    }
    let values = if rel.computed_values.is_object() {
        rel.computed_values.clone()
    } else {
        json!({})
    };
    let hooks: Vec<Value> = rel.hooks.iter().map(from_hook).collect();
    let mut out = Map::new();
    out.insert("name".into(), json!(rel.name));
    out.insert("info".into(), Value::Object(info));
    out.insert(
        "chart".into(),
        json!({"metadata": metadata, "lock": null, "templates": [], "values": values, "schema": null, "files": []}),
    );
    if rel.values.as_object().is_some_and(|m| !m.is_empty()) {
        out.insert("config".into(), rel.values.clone());
    }
    if !rel.manifest.is_empty() {
        out.insert("manifest".into(), json!(rel.manifest));
    }
    if !hooks.is_empty() {
        out.insert("hooks".into(), Value::Array(hooks));
    }
    out.insert("version".into(), json!(rel.revision));
    out.insert("namespace".into(), json!(rel.namespace));
    Value::Object(out)
}

fn from_hook(h: &Hook) -> Value {
    let mut run = Map::new();
    if let Some(r) = &h.last_run {
        run.insert("started_at".into(), json!(format_time(r.started_at)));
        if let Some(c) = r.completed_at {
            run.insert("completed_at".into(), json!(format_time(c)));
        }
        run.insert("phase".into(), json!(r.phase));
    } else {
        run.insert("phase".into(), json!(""));
    }
    json!({
        "name": h.name,
        "kind": h.kind,
        "path": h.path,
        "manifest": h.manifest,
        "events": h.events,
        "last_run": run,
        "weight": h.weight,
        "delete_policies": h.delete_policies,
    })
}

/// Parses Go's RFC 3339 time (`2026-12-06T13:52:23.636597037Z`, or with a `+01:00` offset, as
/// Helm writes in the machine's local zone) to whole seconds, with Go's own parser (Sprig's), so
/// what Helm's JSON decoding refuses is refused here with Go's words, which quote the text.
/// `""` and Go's zero time (`0001-01-01T00:00:00Z`) are "no time".
pub fn parse_time(s: &str) -> Result<Option<Timestamp>, String> {
    if s.is_empty() || s.starts_with("0001-01-01T00:00:00") {
        return Ok(None);
    }
    // Go's `time.RFC3339Nano`: the fraction is optional when parsing.
    let t = gotemplate::sprig::parse_time("2006-01-02T15:04:05.999999999Z07:00", s)?;
    Ok(Some(Timestamp(t.unix)))
}

/// RFC 3339 in UTC, whole seconds: what Go's `time.Time` reads back.
pub fn format_time(t: Timestamp) -> String {
    t.utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Helm 3.17 record body as `helm install` + `helm upgrade` wrote it (trimmed chart).
    fn helm3_body() -> Value {
        json!({
            "name": "pod",
            "info": {
                "first_deployed": "2026-12-06T13:52:23.636597037Z",
                "last_deployed": "2026-12-06T14:52:26.642034051+01:00",
                "deleted": "",
                "description": "Upgrade complete",
                "status": "deployed",
                "notes": "hello"
            },
            "chart": {
                "metadata": {"name": "demo", "version": "0.3.1", "apiVersion": "v2", "appVersion": "1.25.3"},
                "lock": null,
                "templates": [{"name": "templates/a.yaml", "data": "YQ=="}],
                "values": {"replicaCount": 1, "image": {"repository": "nginx", "tag": ""}, "gone": 1},
                "schema": null,
                "files": []
            },
            "config": {"replicaCount": 2, "image": {"tag": "1.0"}, "gone": null},
            "manifest": "---\n# Source: demo/templates/a.yaml\nkind: ConfigMap\n",
            "hooks": [{
                "name": "pod-demo-migrate", "kind": "Job", "path": "demo/templates/hook.yaml",
                "manifest": "apiVersion: batch/v1\nkind: Job\n",
                "events": ["pre-install", "pre-upgrade"],
                "last_run": {"started_at": "2026-12-06T13:52:28.05Z", "completed_at": "2026-12-06T13:52:30.17Z", "phase": "Succeeded"},
                "weight": -5,
                "delete_policies": ["before-hook-creation"]
            }],
            "version": 2,
            "namespace": "mig"
        })
    }

    #[test]
    fn reads_a_helm3_record() {
        let r = to_release(&helm3_body(), "mig").unwrap();
        assert_eq!(
            (r.name.as_str(), r.revision, r.status),
            ("pod", 2, Status::Deployed)
        );
        assert_eq!(r.chart.name, "demo");
        assert_eq!(r.chart.version, "0.3.1");
        assert_eq!(r.chart.app_version, "1.25.3");
        assert_eq!(
            r.values,
            json!({"replicaCount": 2, "image": {"tag": "1.0"}, "gone": null})
        );
        // `helm get values --all`: config over the chart's values, null deleting.
        assert_eq!(
            r.computed_values,
            json!({"replicaCount": 2, "image": {"repository": "nginx", "tag": "1.0"}})
        );
        assert_eq!(r.first_deployed, Timestamp(1_796_565_143));
        assert_eq!(
            r.last_deployed,
            Timestamp(1_796_565_146),
            "the +01:00 offset is applied"
        );
        assert_eq!(r.deleted, None, "Helm 3's empty string is no time");
        assert_eq!(r.hooks.len(), 1);
        assert_eq!(r.hooks[0].weight, -5);
        assert_eq!(r.hooks[0].last_run.as_ref().unwrap().phase, "Succeeded");
        assert_eq!(
            (r.notes.as_str(), r.description.as_str()),
            ("hello", "Upgrade complete")
        );
        assert_eq!(r.owner, HELM_OWNER);
    }

    #[test]
    fn reads_helm4_and_sparse_records() {
        // Helm 4 leaves zero times out and adds apply_method; a release with no user values
        // has no config at all.
        let mut v = helm3_body();
        v["info"].as_object_mut().unwrap().remove("deleted");
        v["apply_method"] = json!("ssa");
        v.as_object_mut().unwrap().remove("config");
        v.as_object_mut().unwrap().remove("hooks");
        let r = to_release(&v, "mig").unwrap();
        assert_eq!(r.values, json!({}));
        assert_eq!(r.computed_values, helm3_body()["chart"]["values"]);
        assert!(r.hooks.is_empty());
    }

    #[test]
    fn malformed_fields_are_named() {
        type Case = (&'static str, fn(&mut Value), &'static str);
        let cases: Vec<Case> = vec![
            ("no name", |v| v["name"] = json!(""), "field name: missing"),
            ("no version", |v| v["version"] = json!(0), "field version:"),
            ("no info", |v| v["info"] = Value::Null, "field info: missing"),
            (
                "bad status",
                |v| v["info"]["status"] = json!("exploded"),
                "field info.status: unknown status \"exploded\"",
            ),
            (
                "bad date",
                |v| v["info"]["last_deployed"] = json!("yesterday"),
                "field info.last_deployed: parsing time \"yesterday\" as",
            ),
            (
                "config a list",
                |v| v["config"] = json!([1]),
                "field config: not an object",
            ),
            (
                "hook without manifest",
                |v| v["hooks"][0]["manifest"] = json!(""),
                "field hooks[0].manifest: missing",
            ),
            (
                "hook bad time",
                |v| v["hooks"][0]["last_run"]["started_at"] = json!("x"),
                "field hooks[0].last_run.started_at: parsing time \"x\" as",
            ),
        ];
        for (name, mutate, want) in cases {
            let mut v = helm3_body();
            mutate(&mut v);
            let err = to_release(&v, "mig").expect_err(name).to_string();
            assert!(err.starts_with(want), "{name}: {err}");
        }
    }

    #[test]
    fn statuses() {
        let cases = [
            ("deployed", Some(Status::Deployed)),
            ("superseded", Some(Status::Superseded)),
            ("pending-upgrade", Some(Status::PendingUpgrade)),
            ("uninstalling", Some(Status::Uninstalling)),
            ("unknown", Some(Status::Failed)),
            ("bogus", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_status(s), want, "{s}");
        }
    }

    #[test]
    fn times() {
        let cases: [(&str, Result<Option<i64>, ()>); 11] = [
            ("1970-01-01T00:00:00Z", Ok(Some(0))),
            ("2026-12-06T13:52:23.636597037Z", Ok(Some(1_796_565_143))),
            ("2026-12-06T14:52:23+01:00", Ok(Some(1_796_565_143))),
            ("2026-12-06T08:52:23.5-05:00", Ok(Some(1_796_565_143))),
            ("2000-02-29T00:00:00Z", Ok(Some(951_782_400))),
            ("", Ok(None)),
            ("0001-01-01T00:00:00Z", Ok(None)),
            ("2026-13-01T00:00:00Z", Err(())),
            ("2026-12-06 13:52:23", Err(())),
            // Go's range checks: no 31 February, no second 60.
            ("2026-02-31T00:00:00Z", Err(())),
            ("2026-12-06T13:52:60Z", Err(())),
        ];
        for (s, want) in cases {
            let got = parse_time(s).map(|t| t.map(|t| t.0)).map_err(|_| ());
            assert_eq!(got, want, "{s}");
            if let Ok(Some(secs)) = want {
                let back = format_time(Timestamp(secs));
                assert_eq!(parse_time(&back).unwrap(), Some(Timestamp(secs)), "{s} -> {back}");
            }
        }
        assert_eq!(format_time(Timestamp(1_796_565_143)), "2026-12-06T13:52:23Z");
    }

    #[test]
    fn written_records_read_back_the_same() {
        let r = to_release(&helm3_body(), "mig").unwrap();
        let v = from_release(&r);
        assert!(
            v["info"].get("deleted").is_none(),
            "no zero dates for Helm 4 to choke on"
        );
        assert_eq!(v["chart"]["metadata"]["apiVersion"], "v2");
        let back = to_release(&v, "mig").unwrap();
        assert_eq!(back, r);
    }
}
