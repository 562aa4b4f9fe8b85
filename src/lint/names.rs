//! Kubernetes' object name rules as `helm lint` applies them (apimachinery's `NameIsDNSSubdomain`,
//! `NameIsDNS1035Label`, `ValidateNamespaceName`, path segment names), with their messages.

use std::sync::LazyLock;

use regex::Regex;

const DNS1123_LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";

static SUBDOMAIN_FMT: LazyLock<String> = LazyLock::new(|| format!(r"{DNS1123_LABEL}(\.{DNS1123_LABEL})*"));
static SUBDOMAIN: LazyLock<Regex> = LazyLock::new(|| anchored(&SUBDOMAIN_FMT));
static LABEL: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1123_LABEL));
static LABEL_1035: LazyLock<Regex> = LazyLock::new(|| anchored(DNS1035_LABEL));

fn anchored(re: &str) -> Regex {
    Regex::new(&format!("^{re}$")).expect("static regex")
}

/// apimachinery's `RegexError`: the rule, examples, and the pattern.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut out = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{e}', "));
    }
    out.push_str(&format!("regex used for validation is '{fmt}')"));
    out
}

fn max_len(n: usize) -> String {
    format!("must be no more than {n} characters")
}

fn subdomain(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 253 {
        errs.push(max_len(253));
    }
    if !SUBDOMAIN.is_match(name) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            &SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

fn label_1123(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push(max_len(63));
    }
    if !LABEL.is_match(name) {
        if SUBDOMAIN.is_match(name) {
            errs.push("must not contain dots".into());
        } else {
            errs.push(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                DNS1123_LABEL,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

fn label_1035(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push(max_len(63));
    }
    if !LABEL_1035.is_match(name) {
        errs.push(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            DNS1035_LABEL,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

fn path_segment(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    let mut errs = Vec::new();
    for bad in ["/", "%"] {
        if name.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

/// Checks `metadata.name` of an object of `kind` (Helm's `validateMetadataName`): the
/// rule for that kind, and Helm's message when it fails.
pub fn check(kind: &str, name: &str) -> Result<(), String> {
    let errs = match kind.to_ascii_lowercase().as_str() {
        "service" => label_1035(name),
        "namespace" => label_1123(name),
        "certificatesigningrequest" => Vec::new(),
        "role" | "clusterrole" | "rolebinding" | "clusterrolebinding" => path_segment(name),
        // Every other kind, named or not in Helm's list, uses the subdomain rule.
        _ => subdomain(name),
    };
    if errs.is_empty() {
        return Ok(());
    }
    let quoted = gotemplate::gofmt::quote(name);
    let each: Vec<String> = errs
        .iter()
        .map(|e| format!("metadata.name: Invalid value: {quoted}: {e}"))
        .collect();
    // apimachinery's aggregate: one error alone, several in brackets.
    let all = if each.len() == 1 {
        each[0].clone()
    } else {
        format!("[{}]", each.join(", "))
    };
    Err(format!(
        "object name does not conform to Kubernetes naming requirements: {quoted}: {all}"
    ))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn names_follow_each_kinds_rule() {
        let long = "a".repeat(64);
        let cases: &[(&str, &str, bool)] = &[
            ("ConfigMap", "my.config-1", true),
            ("ConfigMap", "My", false),
            ("ConfigMap", "", false),
            ("Service", "web", true),
            ("Service", "1web", false),
            ("Service", &long, false),
            ("Namespace", "team-a", true),
            ("Namespace", "team.a", false),
            ("ClusterRole", "system:controller", true),
            ("RoleBinding", "a/b", false),
            ("CertificateSigningRequest", "Anything At All", true),
        ];
        for (kind, name, ok) in cases {
            assert_eq!(check(kind, name).is_ok(), *ok, "{kind} {name:?}");
        }
    }

    #[test]
    fn messages_match_helm() {
        // Printed by helm v3.17.2 for a ConfigMap named "".
        assert_eq!(
            check("ConfigMap", "").unwrap_err(),
            r#"object name does not conform to Kubernetes naming requirements: "": metadata.name: Invalid value: "": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
        );
        assert_eq!(
            check("Namespace", "a.b").unwrap_err(),
            r#"object name does not conform to Kubernetes naming requirements: "a.b": metadata.name: Invalid value: "a.b": must not contain dots"#
        );
        assert_eq!(
            check("Role", "..").unwrap_err(),
            r#"object name does not conform to Kubernetes naming requirements: "..": metadata.name: Invalid value: "..": may not be '..'"#
        );
    }
}
