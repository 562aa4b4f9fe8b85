//! `Chart.yaml` rules (Helm's `rules.Chartfile`): the file parses, names and versions are
//! well-formed, `version`/`appVersion` are written as strings, maintainers, sources and icon are
//! valid, and v2-only fields are not used in a v1 chart.

use serde_json::Value as Json;

use super::{Linter, Severity};
use crate::chart::Metadata;
use gotemplate::semver;

const FILE: &str = "Chart.yaml";

/// Runs the `Chart.yaml` rules. `is_dir` says `Chart.yaml` is a directory; `data` is the file's
/// bytes or the read error in Go's words (`read PATH: is a directory`).
pub fn check(linter: &mut Linter, is_dir: bool, data: Result<&[u8], String>) {
    linter.run(
        Severity::Error,
        FILE,
        if is_dir {
            Err("should be a file, not a directory".into())
        } else {
            Ok(())
        },
    );
    let parsed = data.and_then(|bytes| {
        let text = String::from_utf8_lossy(bytes);
        let doc = crate::yaml::parse_documents(&text, "")
            .map_err(|e| e.message)?
            .into_iter()
            .next()
            .unwrap_or(Json::Null);
        let mut md = Metadata::default();
        md.apply(&doc)?;
        Ok((doc, md))
    });
    let (doc, md) = match parsed {
        Ok(p) => p,
        Err(e) => {
            linter.run(Severity::Error, FILE, Err(format!("unable to parse YAML\n\t{e}")));
            return;
        }
    };
    let err = Severity::Error;
    linter.run(err, FILE, name(&md));
    linter.run(err, FILE, api_version(&md));
    linter.run(err, FILE, string_typed(&doc, "version"));
    linter.run(err, FILE, version(&md));
    linter.run(err, FILE, string_typed(&doc, "appVersion"));
    linter.run(err, FILE, maintainers(&md));
    linter.run(err, FILE, sources(&md));
    linter.run(
        Severity::Info,
        FILE,
        if md.icon.is_empty() {
            Err("icon is recommended".into())
        } else {
            Ok(())
        },
    );
    linter.run(err, FILE, icon_url(&md));
    linter.run(
        err,
        FILE,
        v2_only(
            !md.chart_type.is_empty(),
            &md,
            "chart type is not valid in apiVersion '{}'. It is valid in apiVersion 'v2'",
        ),
    );
    linter.run(
        err,
        FILE,
        v2_only(
            !md.dependencies.is_empty(),
            &md,
            "dependencies are not valid in the Chart file with apiVersion '{}'. They are valid in apiVersion 'v2'",
        ),
    );
}

fn name(md: &Metadata) -> Result<(), String> {
    if md.name.is_empty() {
        return Err("name is required".into());
    }
    // Go's filepath.Base: a name with a `/` (or ending in one) is a path, not a name.
    let trimmed = md.name.trim_end_matches('/');
    let base = trimmed.rsplit('/').next().unwrap_or_default();
    let base = if trimmed.is_empty() { "/" } else { base };
    if base != md.name {
        return Err(format!(
            "chart name {} is invalid",
            gotemplate::gofmt::quote(&md.name)
        ));
    }
    Ok(())
}

fn api_version(md: &Metadata) -> Result<(), String> {
    match md.api_version.as_str() {
        "" => Err(r#"apiVersion is required. The value must be either "v1" or "v2""#.into()),
        "v1" | "v2" => Ok(()),
        other => Err(format!(
            r#"apiVersion '{other}' is not valid. The value must be either "v1" or "v2""#
        )),
    }
}

/// `version` and `appVersion` must be YAML strings: `1.10` would be read as the number 1.1.
fn string_typed(doc: &Json, key: &str) -> Result<(), String> {
    let Some(v) = doc.as_object().and_then(|m| m.get(key)) else {
        return Ok(());
    };
    // Go's `%T` of what sigs.k8s.io/yaml decodes into `interface{}`.
    let go_type = match v {
        Json::String(_) => return Ok(()),
        Json::Null => "<nil>",
        Json::Bool(_) => "bool",
        Json::Number(_) => "float64",
        Json::Array(_) => "[]interface {}",
        Json::Object(_) => "map[string]interface {}",
    };
    Err(format!(
        "{key} should be of type string but it's of type {go_type}"
    ))
}

fn version(md: &Metadata) -> Result<(), String> {
    if md.version.is_empty() {
        return Err("version is required".into());
    }
    let v = semver::parse_version(&md.version)
        .map_err(|_| format!("version '{}' is not a valid SemVer", md.version))?;
    // Helm checks `>0.0.0-0`: every version passes except the lowest prerelease of 0.0.0.
    let floor = semver::parse_version("0.0.0-0").expect("static version");
    if v.compare(&floor) != std::cmp::Ordering::Greater {
        return Err(format!("version {v} is less than or equal to 0.0.0-0"));
    }
    Ok(())
}

fn maintainers(md: &Metadata) -> Result<(), String> {
    for m in &md.maintainers {
        if m.name.is_empty() {
            return Err("each maintainer requires a name".into());
        } else if !m.email.is_empty() && !is_email(&m.email) {
            return Err(format!("invalid email '{}' for maintainer '{}'", m.email, m.name));
        } else if !m.url.is_empty() && !is_url(&m.url) {
            return Err(format!("invalid url '{}' for maintainer '{}'", m.url, m.name));
        }
    }
    Ok(())
}

fn sources(md: &Metadata) -> Result<(), String> {
    for s in &md.sources {
        if s.is_empty() || !is_request_url(s) {
            return Err(format!("invalid source URL '{s}'"));
        }
    }
    Ok(())
}

fn icon_url(md: &Metadata) -> Result<(), String> {
    if !md.icon.is_empty() && !is_request_url(&md.icon) {
        return Err(format!("invalid icon URL '{}'", md.icon));
    }
    Ok(())
}

fn v2_only(used: bool, md: &Metadata, template: &str) -> Result<(), String> {
    if used && md.api_version != "v2" {
        return Err(template.replacen("{}", &md.api_version, 1));
    }
    Ok(())
}

/// A URL's scheme (`https:`), as Go's `url.Parse` recognises one.
fn scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)))
        .then_some((scheme, rest))
}

/// govalidator's `IsRequestURL`: Go's `url.ParseRequestURI` accepts it and it has a scheme.
fn is_request_url(s: &str) -> bool {
    let Some((_, rest)) = scheme(s) else {
        return false;
    };
    if s.chars().any(|c| c.is_control() || c == ' ') {
        return false;
    }
    match rest.strip_prefix("//") {
        // Go rejects hosts with characters a host cannot hold.
        Some(auth) => {
            let host = auth.split(['/', '?', '#']).next().unwrap_or_default();
            let host = host.rsplit('@').next().unwrap_or_default();
            host.chars()
                .all(|c| c.is_alphanumeric() || "-._~:[]!$&'()*+,;=%".contains(c))
        }
        None => true,
    }
}

/// govalidator's `IsURL`, in its essentials: an optional scheme, then a host that is `localhost`,
/// an IP address or a dotted domain name, then anything.
fn is_url(s: &str) -> bool {
    if s.is_empty() || s.len() >= 2083 || s.len() <= 3 || s.starts_with('.') || s.contains(' ') {
        return false;
    }
    let rest = match s.find("://") {
        Some(i) => &s[i + 3..],
        None => s,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host_port,
    };
    if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
}

/// govalidator's `IsEmail`, in its essentials: a local part, `@`, a dotted domain.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.trim_end_matches('.').split('.').collect();
    !local.is_empty()
        && !local.chars().any(|c| c.is_whitespace() || c == '@' || c == '"')
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(text: &str) -> Vec<String> {
        let mut l = Linter::default();
        check(&mut l, false, Ok(text.as_bytes()));
        l.messages.iter().map(|m| m.to_string()).collect()
    }

    #[test]
    fn chart_yaml_rules_report_helms_messages() {
        let ok = "apiVersion: v2\nname: a\nversion: 1.0.0\nicon: https://x.io/i.png\n";
        let cases: &[(&str, &str, &[&str])] = &[
            ("clean", ok, &[]),
            (
                "missing fields",
                "description: x\n",
                &[
                    "[ERROR] Chart.yaml: name is required",
                    "[ERROR] Chart.yaml: apiVersion is required. The value must be either \"v1\" or \"v2\"",
                    "[ERROR] Chart.yaml: version is required",
                    "[INFO] Chart.yaml: icon is recommended",
                ],
            ),
            (
                "numbers where strings belong",
                "apiVersion: v2\nname: a\nversion: 1.0\nappVersion: 1.10\nicon: https://x.io/i\n",
                &[
                    "[ERROR] Chart.yaml: version should be of type string but it's of type float64",
                    "[ERROR] Chart.yaml: appVersion should be of type string but it's of type float64",
                ],
            ),
            (
                "bad names and versions",
                "apiVersion: v3\nname: a/b\nversion: one\nicon: x\n",
                &[
                    "[ERROR] Chart.yaml: chart name \"a/b\" is invalid",
                    "[ERROR] Chart.yaml: apiVersion 'v3' is not valid. The value must be either \"v1\" or \"v2\"",
                    "[ERROR] Chart.yaml: version 'one' is not a valid SemVer",
                    "[ERROR] Chart.yaml: invalid icon URL 'x'",
                ],
            ),
            (
                "maintainers and sources",
                "apiVersion: v2\nname: a\nversion: 1.0.0\nicon: https://x.io/i\nmaintainers:\n- name: m\n  email: nope\nsources: ['']\n",
                &[
                    "[ERROR] Chart.yaml: invalid email 'nope' for maintainer 'm'",
                    "[ERROR] Chart.yaml: invalid source URL ''",
                ],
            ),
            (
                "v2 fields in a v1 chart",
                "apiVersion: v1\nname: a\nversion: 1.0.0\nicon: https://x.io/i\ntype: library\ndependencies:\n- name: b\n",
                &[
                    "[ERROR] Chart.yaml: chart type is not valid in apiVersion 'v1'. It is valid in apiVersion 'v2'",
                    "[ERROR] Chart.yaml: dependencies are not valid in the Chart file with apiVersion 'v1'. They are valid in apiVersion 'v2'",
                ],
            ),
        ];
        for (name, text, want) in cases {
            assert_eq!(lint(text), *want, "{name}");
        }
    }

    #[test]
    fn unparsable_chart_yaml_stops_the_rules() {
        let got = lint("name: [a\n");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("[ERROR] Chart.yaml: unable to parse YAML\n\t"),
            "{got:?}"
        );
    }

    #[test]
    fn url_and_email_checks() {
        let cases = [
            (is_request_url as fn(&str) -> bool, "https://example.com/x", true),
            (is_request_url, "example.com", false),
            (is_request_url, "/abs/path", false),
            (is_url, "https://example.com", true),
            (is_url, "example.com/path", true),
            (is_url, "not a url", false),
            (is_url, "nodots", false),
            (is_email, "a@b.io", true),
            (is_email, "a@b", false),
            (is_email, "ab.io", false),
        ];
        for (f, s, want) in cases {
            assert_eq!(f(s), want, "{s}");
        }
    }
}
