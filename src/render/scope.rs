//! The objects a chart's templates see at top level: `.Release`, `.Chart`, `.Capabilities`, and the
//! struct-shaped values behind them.
//!
//! Helm hands templates a mix of maps (`.Release`, `.Values`, `.Template`) and Go structs (`.Chart`,
//! `.Capabilities`). The difference is visible: a missing key of a map prints `<no value>`, a missing
//! field of a struct is an execution error. So structs are [`Struct`] objects here, not maps.

use std::{collections::BTreeMap, rc::Rc};

use crate::chart::Metadata;
use gotemplate::{GoType, Object, Signature, Value};

/// Which Kubernetes and API versions `.Capabilities` reports (Helm's `chartutil.Capabilities`).
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// `v1.31.0` style; Helm's default without `--kube-version` is `v1.32.0` (helm 3.17 is built on client-go 0.32).
    pub kube_version: String,
    /// Group/versions (`apps/v1`) and group/version/kinds (`apps/v1/Deployment`) for `APIVersions.Has`.
    pub api_versions: Vec<String>,
    /// `Major` and `Minor` as a server reported them (`1`, `32+`); `None` derives them from
    /// `kube_version`, as Helm's `ParseKubeVersion` does for `--kube-version` and its default.
    pub server_major_minor: Option<(String, String)>,
}

/// The Helm release of which our rendering semantics are a copy (what `.Capabilities.HelmVersion` says).
pub const HELM_COMPAT_VERSION: &str = "v3.17.2";
/// The commit `helm version` of [`HELM_COMPAT_VERSION`] names (`.Capabilities.HelmVersion.GitCommit`).
const HELM_COMPAT_GIT_COMMIT: &str = "cc0bbbd6d6276b83880042c1ecb34087e84d41eb";
/// The Go release [`HELM_COMPAT_VERSION`] was built with (`.Capabilities.HelmVersion.GoVersion`).
const HELM_COMPAT_GO_VERSION: &str = "go1.23.7";

/// The group/versions client-go 0.32's scheme registers, which Helm 3.17 reports as
/// `.Capabilities.APIVersions` when it has no cluster (`chartutil.DefaultVersionSet`), in the
/// order helm v3.17.2 lists them (`toJson` and `range` show it).
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
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
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
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha1",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1alpha1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            kube_version: "v1.32.0".to_string(),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
            server_major_minor: None,
        }
    }
}

impl Capabilities {
    /// Helm's `chartutil.ParseKubeVersion`: `1.31`, `v1.31.0`, `1.31.0-gke.1` are accepted and
    /// normalised to `v` + the semver string.
    pub fn with_kube_version(mut self, version: &str) -> Result<Self, String> {
        let v = gotemplate::semver::parse_version(version)
            .map_err(|e| format!("invalid kube version '{version}': {e}"))?;
        self.kube_version = format!("v{v}");
        self.server_major_minor = None;
        Ok(self)
    }

    /// Adds API versions given with `--api-versions` (they extend, not replace, the defaults).
    pub fn with_extra_api_versions(mut self, extra: &[String]) -> Self {
        self.api_versions.extend(extra.iter().cloned());
        self
    }

    /// Major and minor of the Kubernetes version, as strings (Helm's `KubeVersion.Major/Minor`).
    pub fn major_minor(&self) -> (String, String) {
        if let Some(mm) = &self.server_major_minor {
            return mm.clone();
        }
        let core = self.kube_version.trim_start_matches('v');
        let mut parts = core.split(['.', '-', '+']);
        (
            parts.next().unwrap_or("0").to_string(),
            parts.next().unwrap_or("0").to_string(),
        )
    }

    /// The `.Capabilities` object.
    pub fn to_value(&self) -> Value {
        let (major, minor) = self.major_minor();
        let kube = Struct::new("chartutil.KubeVersion")
            .field("Version", Value::str(self.kube_version.as_str()))
            .field("Major", Value::str(major))
            .field("Minor", Value::str(minor))
            .method("GitVersion", Value::str(self.kube_version.as_str()))
            .stringer(&self.kube_version)
            .plain_fields();
        // The build Helm v3.17.2 reports (`helm version`), so charts printing it render alike.
        let helm_fields = [
            ("Version", "version", HELM_COMPAT_VERSION),
            ("GitCommit", "git_commit", HELM_COMPAT_GIT_COMMIT),
            ("GitTreeState", "git_tree_state", "clean"),
            ("GoVersion", "go_version", HELM_COMPAT_GO_VERSION),
        ];
        let helm = helm_fields
            .iter()
            .fold(Struct::new("version.BuildInfo"), |st, (name, _, v)| {
                st.field(name, Value::str(*v))
            })
            .plain(
                helm_fields
                    .iter()
                    .map(|(_, tag, v)| (tag.to_string(), Value::str(*v)))
                    .collect(),
            );
        let caps = Struct::new("*chartutil.Capabilities")
            .field("KubeVersion", kube.into_value())
            .field(
                "APIVersions",
                Value::Object(Rc::new(VersionSet(self.api_versions.clone()))),
            )
            .field("HelmVersion", helm.into_value())
            .plain_fields();
        caps.into_value()
    }
}

/// A Go struct: named fields, optional zero-argument methods and a `String()` form.
#[derive(Debug, Clone)]
pub struct Struct {
    type_name: String,
    /// In declaration order, which is how `fmt` prints them (`{v1.32.0 1 32}`).
    fields: Vec<(String, Value)>,
    methods: BTreeMap<String, Value>,
    string: Option<String>,
    /// What `toYaml`/`toJson` see, in encoding/json's order (Go marshals a struct's fields in
    /// declaration order, under their json tags, which differ from field names).
    plain: Option<Vec<(String, Value)>>,
    /// The fields that embed a struct (Go's `struct { chart.Metadata; … }`): their fields are
    /// promoted, so `.Chart.Name` reaches `.Chart.Metadata.Name`.
    embedded: Vec<String>,
}

impl Struct {
    /// An empty struct of the given Go type name.
    pub fn new(type_name: &str) -> Self {
        Struct {
            type_name: type_name.to_string(),
            fields: Vec::new(),
            methods: BTreeMap::new(),
            string: None,
            plain: None,
            embedded: Vec::new(),
        }
    }
    /// Embeds a struct as a field named after its type (after the ones already there).
    pub fn embed(mut self, name: &str, v: Struct) -> Self {
        self.embedded.push(name.to_string());
        self.field(name, v.into_value())
    }
    /// Adds a field (after the ones already there).
    pub fn field(mut self, name: &str, v: Value) -> Self {
        self.fields.push((name.to_string(), v));
        self
    }
    /// Adds a zero-argument method with a fixed result.
    pub fn method(mut self, name: &str, v: Value) -> Self {
        self.methods.insert(name.to_string(), v);
        self
    }
    /// Gives the type a `String()` method with a pointer receiver: text/template calls it when
    /// it prints the value straight from a field (`{{ .Capabilities.KubeVersion }}` is
    /// `v1.32.0`), while a function handed the value (`print`, `quote`, `printf "%v"`) gets a
    /// copy without it and prints the fields (`{v1.32.0 1 32}`).
    pub fn stringer(mut self, s: &str) -> Self {
        self.string = Some(s.to_string());
        self
    }
    /// Sets what marshalling sees: (json name, value) in declaration order.
    pub fn plain(mut self, fields: Vec<(String, Value)>) -> Self {
        self.plain = Some(fields);
        self
    }
    /// Marshals as its fields under their own names (a struct without json tags).
    pub fn plain_fields(self) -> Self {
        let fields = self.fields.clone();
        self.plain(fields)
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
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .or_else(|| self.methods.get(name))
            .cloned()
            // Its `String()` method, callable by name (on a field or a variable alike: both
            // are addressable, so Go finds the pointer-receiver method).
            .or_else(|| {
                (name == "String")
                    .then(|| self.string.as_deref().map(Value::str))
                    .flatten()
            })
            .or_else(|| {
                // Promoted from an embedded struct, as Go's selector finds them.
                self.fields
                    .iter()
                    .filter(|(k, _)| self.embedded.contains(k))
                    .find_map(|(_, v)| match v {
                        Value::Object(o) => o.field(name),
                        _ => None,
                    })
            })
    }
    fn is_embedded(&self, field: &str) -> bool {
        self.embedded.iter().any(|k| k == field)
    }
    fn go_string(&self) -> String {
        // Go prints a struct as {v1 v2 ...} in field declaration order.
        let inner: Vec<String> = self
            .fields
            .iter()
            .map(|(_, v)| gotemplate::gofmt::format_v(v))
            .collect();
        let amp = if self.type_name.starts_with('*') { "&" } else { "" };
        format!("{amp}{{{}}}", inner.join(" "))
    }
    fn field_string(&self) -> Option<String> {
        self.string.clone()
    }
    fn to_plain(&self) -> Option<Value> {
        self.plain
            .as_ref()
            .map(|p| Value::map_from(p.iter().cloned().collect()))
    }
    fn json_fields(&self) -> Option<Vec<(String, Value)>> {
        self.plain.clone()
    }
    fn fields(&self) -> Vec<(String, Value)> {
        self.fields.clone()
    }
    fn comparable(&self) -> bool {
        // A pointer compares by address; a struct only when every field's type has `==` (the
        // chart metadata's slices and maps make `.Chart` one that has not).
        self.kind_name() == "ptr" || self.fields.iter().all(|(_, v)| v.go_comparable())
    }
    fn go_eq(&self, other: &dyn Object) -> bool {
        if self.kind_name() == "ptr" {
            return std::ptr::addr_eq(self as *const Struct, other as *const dyn Object);
        }
        let theirs = other.fields();
        self.fields.len() == theirs.len()
            && self
                .fields
                .iter()
                .zip(&theirs)
                .all(|((_, a), (_, b))| a.go_identical(b))
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
    fn method_signature(&self, name: &str) -> Option<Signature> {
        (name == "Has").then_some(Signature {
            params: &[GoType::String],
            variadic: false,
        })
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Has" => Some(match args {
                [Value::Str(s)] => Ok(Value::Bool(self.0.iter().any(|v| v == &**s))),
                [other] => Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                )),
                _ => Err(format!("wrong number of args for Has: want 1 got {}", args.len())),
            }),
            _ => None,
        }
    }
    fn go_string(&self) -> String {
        format!("[{}]", self.0.join(" "))
    }
    fn go_len(&self) -> Option<usize> {
        Some(self.0.len())
    }
    fn to_plain(&self) -> Option<Value> {
        Some(Value::list(
            self.0.iter().map(|s| Value::str(s.as_str())).collect(),
        ))
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

/// `.Chart`: Helm's `chart.Metadata` struct plus `IsRoot`. Nil slices and maps stay nil (Go's zero
/// values); `toYaml .Chart` sees the json field names with `omitempty`.
pub fn chart_value(m: &Metadata, is_root: bool) -> Value {
    // Go's typed slices and maps, nil when the chart sets none (Helm prints `[]` and `map[]`
    // for those, `len` is 0, `toJson` is `null`).
    let strs = |v: &[String]| -> Value {
        Value::typed_list_or_nil("[]string", v.iter().map(|s| Value::str(s.as_str())).collect())
    };
    let annotations = Value::typed_map_or_nil(
        "map[string]string",
        m.annotations
            .iter()
            .map(|(k, v)| (k.clone(), Value::str(v.as_str())))
            .collect(),
    );
    let maintainers = {
        Value::typed_list_or_nil(
            "[]*chart.Maintainer",
            m.maintainers
                .iter()
                .map(|x| {
                    let plain = plain_map(&[("name", &x.name), ("email", &x.email), ("url", &x.url)]);
                    Struct::new("*chart.Maintainer")
                        .field("Name", Value::str(x.name.as_str()))
                        .field("Email", Value::str(x.email.as_str()))
                        .field("URL", Value::str(x.url.as_str()))
                        .plain(plain)
                        .into_value()
                })
                .collect(),
        )
    };
    let dependencies = {
        Value::typed_list_or_nil(
            "[]*chart.Dependency",
            m.dependencies
                .iter()
                .map(|d| {
                    let plain = plain_map(&[
                        ("name", &d.name),
                        ("version", &d.version),
                        ("repository", &d.repository),
                        ("condition", &d.condition),
                        ("alias", &d.alias),
                    ]);
                    Struct::new("*chart.Dependency")
                        .field("Name", Value::str(d.name.as_str()))
                        .field("Version", Value::str(d.version.as_str()))
                        .field("Repository", Value::str(d.repository.as_str()))
                        .field("Condition", Value::str(d.condition.as_str()))
                        .field("Tags", strs(&d.tags))
                        .field("Enabled", Value::Bool(d.enabled))
                        .field("ImportValues", Value::list(d.import_values.clone()))
                        .field("Alias", Value::str(d.alias.as_str()))
                        .plain(plain)
                        .into_value()
                })
                .collect(),
        )
    };
    // chart.Metadata's json tags in declaration order (all `omitempty`); the embedding struct
    // adds its own `IsRoot`, which has no tag, after them.
    let text = |k: &str, v: &String| (!v.is_empty()).then(|| (k.to_string(), Value::str(v.as_str())));
    let some = |k: &str, set: bool, v: &Value| set.then(|| (k.to_string(), v.clone()));
    let plain: Vec<(String, Value)> = [
        text("name", &m.name),
        text("home", &m.home),
        some("sources", !m.sources.is_empty(), &strs(&m.sources)),
        text("version", &m.version),
        text("description", &m.description),
        some("keywords", !m.keywords.is_empty(), &strs(&m.keywords)),
        some("maintainers", !m.maintainers.is_empty(), &maintainers),
        text("icon", &m.icon),
        text("apiVersion", &m.api_version),
        text("condition", &m.condition),
        text("tags", &m.tags),
        text("appVersion", &m.app_version),
        m.deprecated
            .then(|| ("deprecated".to_string(), Value::Bool(true))),
        some("annotations", !m.annotations.is_empty(), &annotations),
        text("kubeVersion", &m.kube_version),
        some("dependencies", !m.dependencies.is_empty(), &dependencies),
        text("type", &m.chart_type),
    ]
    .into_iter()
    .flatten()
    .collect();
    let metadata = Struct::new("chart.Metadata")
        .field("Name", Value::str(m.name.as_str()))
        .field("Home", Value::str(m.home.as_str()))
        .field("Sources", strs(&m.sources))
        .field("Version", Value::str(m.version.as_str()))
        .field("Description", Value::str(m.description.as_str()))
        .field("Keywords", strs(&m.keywords))
        .field("Maintainers", maintainers)
        .field("Icon", Value::str(m.icon.as_str()))
        .field("APIVersion", Value::str(m.api_version.as_str()))
        .field("Condition", Value::str(m.condition.as_str()))
        .field("Tags", Value::str(m.tags.as_str()))
        .field("AppVersion", Value::str(m.app_version.as_str()))
        .field("Deprecated", Value::Bool(m.deprecated))
        .field("Annotations", annotations)
        .field("KubeVersion", Value::str(m.kube_version.as_str()))
        .field("Dependencies", dependencies)
        .field("Type", Value::str(m.chart_type.as_str()))
        .plain(plain.clone());
    let mut plain = plain;
    plain.push(("IsRoot".to_string(), Value::Bool(is_root)));
    // Helm 3.17 hands templates an anonymous struct embedding the metadata (recAllTpls), which
    // is what `typeOf .Chart` and `%T` print, and what fmt prints as `{{name …} true}`.
    Struct::new("struct { chart.Metadata; IsRoot bool }")
        .embed("Metadata", metadata)
        .field("IsRoot", Value::Bool(is_root))
        .plain(plain)
        .into_value()
}

/// The non-empty string fields (json `omitempty`), in declaration order.
fn plain_map(fields: &[(&str, &String)]) -> Vec<(String, Value)> {
    fields
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_string(), Value::str(v.as_str())))
        .collect()
}
