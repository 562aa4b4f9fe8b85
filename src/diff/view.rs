//! Shows a [`Plan`]: a helm-diff style coloured YAML diff of every object (LIVE → what it will be),
//! a short summary, or JSON for machines.
//!
//! The diff body follows helm-diff's `diff` output (`hdiff:diff/report.go`, `diff/diff.go`): a
//! header `default, web, Deployment (apps) has changed:`, then YAML lines prefixed `+ `, `- ` or
//! two spaces, and with `--context N` only N lines around each change, runs of skipped lines shown
//! as `...`. The sides are LIVE and the predicted result of our patch, so the diff shows what apply
//! will do to the cluster, not how two chart renders differ. Server-owned fields
//! ([`super::SERVER_MANAGED_METADATA`] and friends) are dropped from both sides first: they would
//! change on every write and bury the real change. Secret values are masked ([`super::mask`])
//! unless asked otherwise.
//!
//! Rendering returns a `String`; printing it is the caller's business.

use std::{fmt::Write as _, str::FromStr};

use serde_json::{json, Value};
use similar::{ChangeTag, TextDiff};

use super::{
    mask::{mask_patch, mask_secret_pair},
    plan::{Action, Change, Plan},
    strip_server_fields,
};
use crate::yaml::json_to_yaml;

/// When to colour output. The caller resolves `Auto` (terminal? `NO_COLOR`?) with
/// [`Color::enabled`], since this module reads no environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// Colour when writing to a terminal.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl Color {
    /// Whether to colour, given whether output goes to a terminal that accepts colour.
    pub fn enabled(self, terminal: bool) -> bool {
        match self {
            Color::Auto => terminal,
            Color::Always => true,
            Color::Never => false,
        }
    }
}

impl FromStr for Color {
    type Err = String;
    fn from_str(s: &str) -> Result<Color, String> {
        match s {
            "auto" => Ok(Color::Auto),
            "always" => Ok(Color::Always),
            "never" => Ok(Color::Never),
            _ => Err(format!("unknown color mode {s:?} (want auto, always or never)")),
        }
    }
}

/// What [`render`] produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputKind {
    /// A YAML diff per object, then the plan line.
    #[default]
    Diff,
    /// One line per object that changes, then the plan line.
    Summary,
    /// A JSON array: one entry per object with its ref, action, patch and drift.
    Json,
    /// A JSON object: display name → RFC 6902 patch, for the objects that get patched.
    JsonPatch,
}

impl FromStr for OutputKind {
    type Err = String;
    fn from_str(s: &str) -> Result<OutputKind, String> {
        match s {
            "diff" => Ok(OutputKind::Diff),
            "summary" => Ok(OutputKind::Summary),
            "json" => Ok(OutputKind::Json),
            "json-patch" => Ok(OutputKind::JsonPatch),
            _ => Err(format!(
                "unknown output {s:?} (want diff, summary, json or json-patch)"
            )),
        }
    }
}

/// Options of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ViewOptions {
    /// Output kind.
    pub output: OutputKind,
    /// Lines of context around each change; `None` shows whole objects (helm-diff's default -1).
    pub context: Option<usize>,
    /// Emit ANSI colours (already resolved, see [`Color::enabled`]).
    pub color: bool,
    /// Print Secret values instead of masks.
    pub show_secrets: bool,
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// Renders `plan` as `opts` asks.
pub fn render(plan: &Plan, opts: &ViewOptions) -> String {
    match opts.output {
        OutputKind::Diff => render_diff(plan, opts),
        OutputKind::Summary => render_summary(plan, opts),
        OutputKind::Json => render_json(plan, opts),
        OutputKind::JsonPatch => render_json_patch(plan, opts),
    }
}

/// An object placed by declared dependencies (`config.kubernetes.io/depends-on`), for
/// [`render_order`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderStep {
    /// Its dependency level (1 or more: level 0 is everything that depends on nothing).
    pub level: usize,
    /// The object, as `Kind ns/name`.
    pub object: String,
    /// What it waits for, as `Kind ns/name`.
    pub after: Vec<String>,
}

/// The declared apply order, one numbered line per object that waits for others (objects that
/// depend on nothing go first, in kind order, and are not listed); empty when nothing is declared.
pub fn render_order(steps: &[OrderStep]) -> String {
    let mut out = String::new();
    if steps.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "Order (config.kubernetes.io/depends-on): objects that depend on nothing first, in kind order; then"
    );
    for s in steps {
        let _ = writeln!(out, "  {}. {}, after {}", s.level, s.object, s.after.join(", "));
    }
    out
}

fn paint(out: &mut String, color: bool, code: &str, text: &str) {
    if color {
        let _ = writeln!(out, "{code}{text}{RESET}");
    } else {
        let _ = writeln!(out, "{text}");
    }
}

fn plan_line(plan: &Plan) -> String {
    let c = plan.counts();
    let mut s = format!(
        "Plan: {} to add, {} to change, {} to destroy",
        c.create, c.patch, c.delete
    );
    let _ = write!(s, ", {} unchanged", c.noop);
    if c.keep > 0 {
        let _ = write!(s, ", {} kept", c.keep);
    }
    s.push('.');
    s
}

/// The two sides of an object's diff as YAML, cleaned and masked.
fn sides(ch: &Change, show_secrets: bool) -> (String, String) {
    let clean = |v: &Option<Value>| {
        v.clone().map(|mut v| {
            strip_server_fields(&mut v, true);
            v
        })
    };
    let mut before = clean(&ch.live);
    let mut after = if ch.action == Action::Delete {
        None
    } else {
        clean(&ch.predicted)
    };
    if !show_secrets {
        mask_secret_pair(before.as_mut(), after.as_mut());
    }
    let text = |v: Option<Value>| v.map(|v| json_to_yaml(&v) + "\n").unwrap_or_default();
    (text(before), text(after))
}

fn render_diff(plan: &Plan, opts: &ViewOptions) -> String {
    let mut out = String::new();
    for ch in &plan.changes {
        let (code, message) = match ch.action {
            Action::Create => (GREEN, "has been added:"),
            Action::Patch(_) => (YELLOW, "has changed:"),
            Action::Delete => (RED, "has been removed:"),
            Action::Keep | Action::Noop => continue,
        };
        paint(&mut out, opts.color, code, &format!("{} {}", ch.id, message));
        if !ch.drift.is_empty() {
            let paths: Vec<&str> = ch
                .drift
                .iter()
                .map(|p| if p.is_root() { "/" } else { p.as_str() })
                .collect();
            paint(
                &mut out,
                opts.color,
                YELLOW,
                &format!("drift reverted: {}", paths.join(", ")),
            );
        }
        let (before, after) = sides(ch, opts.show_secrets);
        diff_lines(&mut out, &before, &after, opts);
    }
    for ch in plan.changes.iter().filter(|c| c.action == Action::Keep) {
        let _ = writeln!(
            out,
            "{} is no longer in the chart; kept by helm.sh/resource-policy",
            ch.id
        );
    }
    let _ = writeln!(out, "{}", plan_line(plan));
    out
}

/// helm-diff's record printer: every line with its distance to the nearest change, lines farther
/// than the context dropped and each dropped run shown once as `...`.
fn diff_lines(out: &mut String, before: &str, after: &str, opts: &ViewOptions) {
    let diff = TextDiff::from_lines(before, after);
    let records: Vec<(ChangeTag, String)> = diff
        .iter_all_changes()
        .map(|c| (c.tag(), c.value().trim_end_matches('\n').to_string()))
        .collect();
    let near = distances(&records);
    let mut omitting = false;
    for (i, (tag, text)) in records.iter().enumerate() {
        if opts.context.is_some_and(|n| near[i] > n) {
            if !omitting {
                let _ = writeln!(out, "...");
                omitting = true;
            }
            continue;
        }
        omitting = false;
        match tag {
            ChangeTag::Insert => paint(out, opts.color, GREEN, &format!("+ {text}")),
            ChangeTag::Delete => paint(out, opts.color, RED, &format!("- {text}")),
            ChangeTag::Equal if text.is_empty() => out.push('\n'),
            ChangeTag::Equal => {
                let _ = writeln!(out, "  {text}");
            }
        }
    }
}

fn distances(records: &[(ChangeTag, String)]) -> Vec<usize> {
    let mut d = vec![usize::MAX; records.len()];
    let mut last: Option<usize> = None;
    for (i, (tag, _)) in records.iter().enumerate() {
        if *tag != ChangeTag::Equal {
            last = Some(i);
        }
        if let Some(c) = last {
            d[i] = i - c;
        }
    }
    last = None;
    for i in (0..records.len()).rev() {
        if records[i].0 != ChangeTag::Equal {
            last = Some(i);
        }
        if let Some(c) = last {
            d[i] = d[i].min(c - i);
        }
    }
    d
}

fn render_summary(plan: &Plan, opts: &ViewOptions) -> String {
    let mut out = String::new();
    for ch in &plan.changes {
        let (code, message) = match ch.action {
            Action::Create => (GREEN, "to be added."),
            Action::Patch(_) if !ch.drift.is_empty() => (YELLOW, "to be changed (drift reverted)."),
            Action::Patch(_) => (YELLOW, "to be changed."),
            Action::Delete => (RED, "to be removed."),
            Action::Keep => (YELLOW, "kept by resource policy."),
            Action::Noop => continue,
        };
        paint(&mut out, opts.color, code, &format!("{} {}", ch.id, message));
    }
    let _ = writeln!(out, "{}", plan_line(plan));
    out
}

fn is_secret(ch: &Change) -> bool {
    ch.id.group.is_empty() && ch.id.kind == "Secret"
}

fn patch_json(ch: &Change, opts: &ViewOptions) -> Value {
    match &ch.action {
        Action::Patch(p) => {
            let p = if opts.show_secrets {
                p.clone()
            } else {
                mask_patch(p, is_secret(ch))
            };
            serde_json::to_value(p).unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

fn render_json(plan: &Plan, opts: &ViewOptions) -> String {
    let entries: Vec<Value> = plan
        .changes
        .iter()
        .map(|ch| {
            json!({
                "object": {
                    "apiVersion": ch.api_version,
                    "kind": ch.id.kind,
                    "namespace": ch.id.namespace,
                    "name": ch.id.name,
                },
                "action": ch.action.name(),
                "patch": patch_json(ch, opts),
                "drift": ch.drift.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n"
}

fn render_json_patch(plan: &Plan, opts: &ViewOptions) -> String {
    let mut map = serde_json::Map::new();
    for ch in &plan.changes {
        if matches!(ch.action, Action::Patch(_)) {
            map.insert(ch.id.to_string(), patch_json(ch, opts));
        }
    }
    serde_json::to_string_pretty(&Value::Object(map)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_lists_dependents_by_level() {
        let step = |level, object: &str, after: &[&str]| OrderStep {
            level,
            object: object.into(),
            after: after.iter().map(ToString::to_string).collect(),
        };
        let cases = [
            ("nothing declared", vec![], ""),
            (
                "chain",
                vec![
                    step(1, "ConfigMap a/settings", &["Deployment a/db"]),
                    step(2, "Service a/front", &["ConfigMap a/settings", "Secret a/s"]),
                ],
                "Order (config.kubernetes.io/depends-on): objects that depend on nothing first, in kind order; then\n  1. ConfigMap a/settings, after Deployment a/db\n  2. Service a/front, after ConfigMap a/settings, Secret a/s\n",
            ),
        ];
        for (name, steps, want) in cases {
            assert_eq!(render_order(&steps), want, "{name}");
        }
    }
    use crate::diff::{plan, Inputs, MergeKeys, ObjectRef};
    use serde_json::json;

    fn deploy(replicas: i64, image: &str) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "default"},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "app", "image": image}]}}}})
    }

    fn live(mut v: Value) -> Value {
        let m = v["metadata"].as_object_mut().unwrap();
        m.insert("resourceVersion".into(), json!("9"));
        m.insert("uid".into(), json!("1234"));
        m.insert("managedFields".into(), json!([{"manager": "helm"}]));
        v["status"] = json!({"replicas": 1});
        v
    }

    fn cm(name: &str, ann: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": "default", "annotations": ann}, "data": {"k": "v"}})
    }

    fn secret(v: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"},
               "data": {"same": "eA==", "pw": v}})
    }

    fn sample() -> Plan {
        let mut inputs = Inputs::new();
        let id = |v: &Value| ObjectRef::of(v, Some("default")).unwrap();
        let d = deploy(3, "web:2");
        inputs.desired(id(&d), d).unwrap();
        inputs
            .original(id(&deploy(3, "web:1")), deploy(3, "web:1"))
            .unwrap();
        inputs
            .live(id(&deploy(3, "web:1")), live(deploy(5, "web:1")))
            .unwrap();
        let s = secret("eQ==");
        inputs.desired(id(&s), s.clone()).unwrap();
        inputs.live(id(&s), live(secret("eg=="))).unwrap();
        let new = cm("new", json!({}));
        inputs.desired(id(&new), new).unwrap();
        let same = cm("same", json!({}));
        inputs.desired(id(&same), same.clone()).unwrap();
        inputs.live(id(&same), live(same)).unwrap();
        let gone = cm("gone", json!({}));
        inputs.original(id(&gone), gone.clone()).unwrap();
        inputs.live(id(&gone), live(gone)).unwrap();
        let kept = cm("kept", json!({"helm.sh/resource-policy": "keep"}));
        inputs.original(id(&kept), kept.clone()).unwrap();
        inputs.live(id(&kept), live(kept)).unwrap();
        plan(inputs, &MergeKeys::builtin()).unwrap()
    }

    #[test]
    fn diff_whole_objects() {
        // Secret hashes: `printf 'pw\0eg==' | sha256sum` (live) and `pw\0eQ==` (desired).
        let got = render(&sample(), &ViewOptions::default());
        let want = "\
default, web, Deployment (apps) has changed:
drift reverted: /spec/replicas
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: default
  spec:
-   replicas: 5
+   replicas: 3
    template:
      spec:
        containers:
-       - image: web:1
+       - image: web:2
          name: app
default, s, Secret (v1) has changed:
  apiVersion: v1
  data:
-   pw: (changed) 0cc8afc7
+   pw: (changed) e8e78bd2
    same: '***'
  kind: Secret
  metadata:
    name: s
    namespace: default
default, new, ConfigMap (v1) has been added:
+ apiVersion: v1
+ data:
+   k: v
+ kind: ConfigMap
+ metadata:
+   annotations: {}
+   name: new
+   namespace: default
default, gone, ConfigMap (v1) has been removed:
- apiVersion: v1
- data:
-   k: v
- kind: ConfigMap
- metadata:
-   annotations: {}
-   name: gone
-   namespace: default
default, kept, ConfigMap (v1) is no longer in the chart; kept by helm.sh/resource-policy
Plan: 1 to add, 2 to change, 1 to destroy, 1 unchanged, 1 kept.
";
        assert_eq!(got, want, "\n--- got ---\n{got}");
    }

    #[test]
    fn diff_with_context_and_color() {
        let mut p = sample();
        p.changes.truncate(1);
        let opts = ViewOptions {
            context: Some(1),
            color: true,
            ..ViewOptions::default()
        };
        let got = render(&p, &opts);
        let want = "\
\x1b[33mdefault, web, Deployment (apps) has changed:\x1b[0m
\x1b[33mdrift reverted: /spec/replicas\x1b[0m
...
  spec:
\x1b[31m-   replicas: 5\x1b[0m
\x1b[32m+   replicas: 3\x1b[0m
    template:
...
        containers:
\x1b[31m-       - image: web:1\x1b[0m
\x1b[32m+       - image: web:2\x1b[0m
          name: app
Plan: 0 to add, 1 to change, 0 to destroy, 0 unchanged.
";
        assert_eq!(got, want, "\n--- got ---\n{got}");
    }

    #[test]
    fn summary() {
        let opts = ViewOptions {
            output: OutputKind::Summary,
            ..ViewOptions::default()
        };
        let want = "\
default, web, Deployment (apps) to be changed (drift reverted).
default, s, Secret (v1) to be changed.
default, new, ConfigMap (v1) to be added.
default, gone, ConfigMap (v1) to be removed.
default, kept, ConfigMap (v1) kept by resource policy.
Plan: 1 to add, 2 to change, 1 to destroy, 1 unchanged, 1 kept.
";
        assert_eq!(render(&sample(), &opts), want);
    }

    #[test]
    fn json_masks_secrets_unless_asked() {
        let p = sample();
        let opts = ViewOptions {
            output: OutputKind::Json,
            ..ViewOptions::default()
        };
        let got: Value = serde_json::from_str(&render(&p, &opts)).unwrap();
        assert_eq!(got.as_array().unwrap().len(), 6);
        assert_eq!(
            got[0],
            json!({"object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "default", "name": "web"},
                   "action": "patch",
                   "patch": [
                       {"op": "test", "path": "/metadata/resourceVersion", "value": "9"},
                       {"op": "replace", "path": "/spec/replicas", "value": 3},
                       {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "web:2"}],
                   "drift": ["/spec/replicas"]})
        );
        assert_eq!(
            got[1]["patch"][1],
            json!({"op": "replace", "path": "/data/pw", "value": "(changed) e8e78bd2"})
        );
        assert_eq!(got[2]["action"], json!("create"));
        assert_eq!(got[2]["patch"], Value::Null);

        let shown = ViewOptions {
            output: OutputKind::JsonPatch,
            show_secrets: true,
            ..ViewOptions::default()
        };
        let got: Value = serde_json::from_str(&render(&p, &shown)).unwrap();
        let keys: Vec<&String> = got.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["default, web, Deployment (apps)", "default, s, Secret (v1)"]
        );
        assert_eq!(got["default, s, Secret (v1)"][1]["value"], json!("eQ=="));
    }

    #[test]
    fn parse_flags() {
        assert_eq!("json-patch".parse::<OutputKind>(), Ok(OutputKind::JsonPatch));
        assert_eq!("always".parse::<Color>(), Ok(Color::Always));
        assert!("yaml".parse::<OutputKind>().is_err());
        assert!(Color::Auto.enabled(true) && !Color::Auto.enabled(false) && !Color::Never.enabled(true));
    }

    #[test]
    fn server_noise_never_shown() {
        let mut l = live(cm(
            "c",
            json!({"kubectl.kubernetes.io/last-applied-configuration": "{}"}),
        ));
        l["metadata"]["generation"] = json!(4);
        l["metadata"]["creationTimestamp"] = json!("2024-01-01T00:00:00Z");
        l["metadata"]["selfLink"] = json!("/api/v1/namespaces/default/configmaps/c");
        let mut d = cm("c", json!(null));
        d["data"]["k"] = json!("w");
        let mut inputs = Inputs::new();
        let id = ObjectRef::of(&d, None).unwrap();
        inputs.desired(id.clone(), d).unwrap();
        inputs.live(id, l).unwrap();
        let got = render(
            &plan(inputs, &MergeKeys::builtin()).unwrap(),
            &ViewOptions::default(),
        );
        let want = "\
default, c, ConfigMap (v1) has changed:
  apiVersion: v1
  data:
-   k: v
+   k: w
  kind: ConfigMap
  metadata:
    name: c
    namespace: default
Plan: 0 to add, 1 to change, 0 to destroy, 0 unchanged.
";
        assert_eq!(got, want, "\n--- got ---\n{got}");
    }
}
