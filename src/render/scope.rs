//! The objects a chart's templates see at top level: `.Release`, `.Chart`, `.Capabilities`, and the
//! struct-shaped values behind them.
//!
//! Helm hands templates a mix of maps (`.Release`, `.Values`, `.Template`) and Go structs (`.Chart`,
//! `.Capabilities`). The difference is visible: a missing key of a map prints `<no value>`, a missing
//! field of a struct is an execution error. So structs are [`Struct`] objects here, not maps.

use std::{collections::BTreeMap, rc::Rc};

use crate::gotemplate::{Object, Value};

/// Which Kubernetes and API versions `.Capabilities` reports (Helm's `chartutil.Capabilities`).
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// `v1.31.0` style; Helm's default without `--kube-version` is `v1.32.0` (helm 3.17 is built on client-go 0.32).
    pub kube_version: String,
    /// Group/versions (`apps/v1`) and group/version/kinds (`apps/v1/Deployment`) for `APIVersions.Has`.
    pub api_versions: Vec<String>,
}

/// The Helm release of which our rendering semantics are a copy (what `.Capabilities.HelmVersion` says).
pub const HELM_COMPAT_VERSION: &str = "v3.17.2";

/// The group/versions client-go 0.32's scheme registers, which Helm 3.17 reports as
/// `.Capabilities.APIVersions` when it has no cluster (`chartutil.DefaultVersionSet`).
const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "autoscaling/v2beta1",
    "autoscaling/v2beta2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1alpha1",
    "certificates.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1alpha1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1alpha1",
    "rbac.authorization.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "resource.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storage.k8s.io/v1beta1",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1",
    "apiextensions.k8s.io/v1beta1",
];

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            kube_version: "v1.32.0".to_string(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Capabilities {
    /// Helm's `chartutil.ParseKubeVersion`: `1.31`, `v1.31.0`, `1.31.0-gke.1` are accepted and
    /// normalised to `v` + the semver string.
    pub fn with_kube_version(mut self, version: &str) -> Result<Self, String> {
        let v = crate::semver_constraints::parse_version(version)
            .map_err(|e| format!("invalid kube version '{version}': {e}"))?;
        self.kube_version = format!("v{v}");
        Ok(self)
    }

    /// Adds API versions given with `--api-versions` (they extend, not replace, the defaults).
    pub fn with_extra_api_versions(mut self, extra: &[String]) -> Self {
        self.api_versions.extend(extra.iter().cloned());
        self
    }

    /// Major and minor of the Kubernetes version, as strings (Helm's `KubeVersion.Major/Minor`).
    pub fn major_minor(&self) -> (String, String) {
        let core = self.kube_version.trim_start_matches('v');
        let mut parts = core.split(['.', '-', '+']);
        (parts.next().unwrap_or("0").to_string(), parts.next().unwrap_or("0").to_string())
    }

    /// The `.Capabilities` object.
    pub fn to_value(&self) -> Value {
        let (major, minor) = self.major_minor();
        let kube = Struct::new("chartutil.KubeVersion")
            .field("Version", Value::str(self.kube_version.as_str()))
            .field("Major", Value::str(major))
            .field("Minor", Value::str(minor))
            .method("GitVersion", Value::str(self.kube_version.as_str()))
            .stringer(&self.kube_version);
        let helm = Struct::new("version.BuildInfo")
            .field("Version", Value::str(HELM_COMPAT_VERSION))
            .field("GitCommit", Value::str(""))
            .field("GitTreeState", Value::str(""))
            .field("GoVersion", Value::str(""));
        let caps = Struct::new("*chartutil.Capabilities")
            .field("KubeVersion", kube.into_value())
            .field("APIVersions", Value::Object(Rc::new(VersionSet(self.api_versions.clone()))))
            .field("HelmVersion", helm.into_value());
        caps.into_value()
    }
}

/// A Go struct: named fields, optional zero-argument methods and a `String()` form.
#[derive(Debug, Clone)]
pub struct Struct {
    type_name: String,
    fields: BTreeMap<String, Value>,
    methods: BTreeMap<String, Value>,
    string: Option<String>,
    /// What `toYaml`/`toJson` see (Go marshals by json tags, which differ from field names).
    plain: Option<Value>,
}

impl Struct {
    /// An empty struct of the given Go type name.
    pub fn new(type_name: &str) -> Self {
        Struct {
            type_name: type_name.to_string(),
            fields: BTreeMap::new(),
            methods: BTreeMap::new(),
            string: None,
            plain: None,
        }
    }
    /// Adds a field.
    pub fn field(mut self, name: &str, v: Value) -> Self {
        self.fields.insert(name.to_string(), v);
        self
    }
    /// Adds a zero-argument method with a fixed result.
    pub fn method(mut self, name: &str, v: Value) -> Self {
        self.methods.insert(name.to_string(), v);
        self
    }
    /// Gives the type a `String()` method (used by `%v`).
    pub fn stringer(mut self, s: &str) -> Self {
        self.string = Some(s.to_string());
        self
    }
    /// Sets what marshalling sees.
    pub fn plain(mut self, v: Value) -> Self {
        self.plain = Some(v);
        self
    }
    /// Wraps it as a template value.
    pub fn into_value(self) -> Value {
        Value::Object(Rc::new(self))
    }
}

impl Object for Struct {
    fn type_name(&self) -> &str {
        &self.type_name
    }
    fn kind_name(&self) -> &str {
        if self.type_name.starts_with('*') {
            "ptr"
        } else {
            "struct"
        }
    }
    fn field(&self, name: &str) -> Option<Value> {
        self.fields.get(name).or_else(|| self.methods.get(name)).cloned()
    }
    fn go_string(&self) -> String {
        if let Some(s) = &self.string {
            return s.clone();
        }
        // Go prints structs as {v1 v2 ...} in field declaration order; ours are sorted, which is
        // close enough for a form nobody parses.
        let inner: Vec<String> =
            self.fields.values().map(crate::gotemplate::gofmt::format_v).collect();
        let amp = if self.type_name.starts_with('*') { "&" } else { "" };
        format!("{amp}{{{}}}", inner.join(" "))
    }
    fn to_plain(&self) -> Option<Value> {
        self.plain.clone()
    }
}

/// `chartutil.VersionSet`: a list of API versions with a `Has` method.
#[derive(Debug)]
struct VersionSet(Vec<String>);

impl Object for VersionSet {
    fn type_name(&self) -> &str {
        "chartutil.VersionSet"
    }
    fn kind_name(&self) -> &str {
        "slice"
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Has" => Some(match args {
                [Value::Str(s)] => Ok(Value::Bool(self.0.iter().any(|v| v == &**s))),
                [other] => Err(format!("wrong type for value; expected string; got {}", other.type_name())),
                _ => Err(format!("wrong number of args for Has: want 1 got {}", args.len())),
            }),
            _ => None,
        }
    }
    fn go_string(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
    fn to_plain(&self) -> Option<Value> {
        Some(Value::list(self.0.iter().map(|s| Value::str(s.as_str())).collect()))
    }
}

/// What `.Release` holds.
#[derive(Debug, Clone)]
pub struct ReleaseInfo {
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// Revision number (1 on install).
    pub revision: i64,
    /// True for upgrades and rollbacks.
    pub is_upgrade: bool,
}

impl ReleaseInfo {
    /// The `.Release` map (a map in Helm, so missing keys print `<no value>`).
    pub fn to_value(&self) -> Value {
        let mut m = BTreeMap::new();
        m.insert("Name".to_string(), Value::str(self.name.as_str()));
        m.insert("Namespace".to_string(), Value::str(self.namespace.as_str()));
        m.insert("Revision".to_string(), Value::Int(self.revision));
        m.insert("IsUpgrade".to_string(), Value::Bool(self.is_upgrade));
        m.insert("IsInstall".to_string(), Value::Bool(!self.is_upgrade));
        m.insert("Service".to_string(), Value::str("Helm"));
        Value::map_from(m)
    }
}

/// `.Chart`: Helm's `chart.Metadata` plus `IsRoot`, built from the chart's metadata serialised with
/// its Chart.yaml (json) field names.
pub fn chart_value(metadata_json: &serde_json::Value, is_root: bool) -> Value {
    // Go field name, json name, zero value kind.
    const FIELDS: &[(&str, &str, Zero)] = &[
        ("Name", "name", Zero::Str),
        ("Home", "home", Zero::Str),
        ("Sources", "sources", Zero::Nil),
        ("Version", "version", Zero::Str),
        ("Description", "description", Zero::Str),
        ("Keywords", "keywords", Zero::Nil),
        ("Maintainers", "maintainers", Zero::Nil),
        ("Icon", "icon", Zero::Str),
        ("APIVersion", "apiVersion", Zero::Str),
        ("Condition", "condition", Zero::Str),
        ("Tags", "tags", Zero::Str),
        ("AppVersion", "appVersion", Zero::Str),
        ("Deprecated", "deprecated", Zero::Bool),
        ("Annotations", "annotations", Zero::Nil),
        ("KubeVersion", "kubeVersion", Zero::Str),
        ("Dependencies", "dependencies", Zero::Nil),
        ("Type", "type", Zero::Str),
    ];
    let mut s = Struct::new("chart.Metadata");
    let mut plain = BTreeMap::new();
    for (go, json, zero) in FIELDS {
        let v = match metadata_json.get(*json) {
            Some(serde_json::Value::Null) | None => match zero {
                Zero::Str => Value::str(""),
                Zero::Bool => Value::Bool(false),
                Zero::Nil => Value::Nil,
            },
            Some(v) => {
                plain.insert(json.to_string(), Value::from_json(v, true));
                Value::from_json(v, true)
            }
        };
        s = s.field(go, v);
    }
    s.field("IsRoot", Value::Bool(is_root)).plain(Value::map_from(plain)).into_value()
}

#[derive(Clone, Copy)]
enum Zero {
    Str,
    Bool,
    Nil,
}
