//! Which tag a chart reference and `--version`/`--devel` name, by Helm v3.17's rules
//! (`registry.Client.ValidateReference`, `Tags`, `GetTagMatchingVersionOrConstraint`):
//!
//! - `--devel` without `--version` means the constraint `>0.0.0-0` (prereleases admitted);
//! - a tag in the reference and a different `--version` is an error;
//! - a digest needs no tag at all;
//! - a version that parses as a (loose) semver is used as the tag directly, without listing tags;
//! - otherwise the tags are listed, only strict semver tags kept (`_` read back as `+`), sorted
//!   newest first, and the first one the constraint admits wins (none: newest stable).

use gotemplate::semver::{parse_version, Constraints, Version};

/// What to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A manifest digest (from the reference).
    Digest(String),
    /// A tag, as Helm spells it (with `+`; the reference layer stores it as `_`).
    Tag(String),
    /// List the tags and pick with this constraint.
    Constraint(String),
}

/// The first step: decides from the reference and flags alone whether tags must be listed.
pub fn target(tag: Option<&str>, digest: Option<&str>, version: &str, devel: bool) -> Result<Target, String> {
    let mut version = version.to_string();
    if version.is_empty() && devel {
        version = ">0.0.0-0".into();
    }
    if version.is_empty() {
        version = tag.unwrap_or_default().to_string();
    } else if let Some(t) = tag {
        if t != version {
            return Err(format!(
                "chart reference and version mismatch: {version} is not {t}"
            ));
        }
    }
    if let Some(d) = digest {
        return Ok(Target::Digest(d.to_string()));
    }
    if parse_version(&version).is_ok() {
        return Ok(Target::Tag(version));
    }
    Ok(Target::Constraint(version))
}

/// Masterminds' `StrictNewVersion`: exactly `X.Y.Z`, no `v`, no leading zeros.
pub fn strict_version(s: &str) -> Option<Version> {
    let core_end = s.find(['-', '+']).unwrap_or(s.len());
    let core: Vec<&str> = s[..core_end].split('.').collect();
    let numeric = |p: &&str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p.len() == 1 || !p.starts_with('0'))
    };
    if core.len() != 3 || !core.iter().all(numeric) {
        return None;
    }
    parse_version(s).ok()
}

/// Helm's `Tags`: the strict-semver tags (with `_` read as `+`), newest first, as versions print.
pub fn semver_tags(tags: &[String]) -> Vec<String> {
    let mut versions: Vec<Version> = tags
        .iter()
        .filter_map(|t| strict_version(&t.replace('_', "+")))
        .collect();
    // Stable for equal precedence (differing only in build metadata): Go's sort.Sort is not,
    // so Helm's pick among those is unspecified anyway.
    versions.sort_by(|a, b| b.compare(a));
    versions.iter().map(|v| v.to_string()).collect()
}

/// Helm's `GetTagMatchingVersionOrConstraint` over [`semver_tags`] output.
pub fn pick(sorted_tags: &[String], constraint: &str, reference: &str) -> Result<String, String> {
    if sorted_tags.is_empty() {
        return Err(format!(
            "Unable to locate any tags in provided repository: {reference}"
        ));
    }
    let c = if constraint.is_empty() {
        Constraints::parse("*")?
    } else {
        if let Some(t) = sorted_tags.iter().find(|t| *t == constraint) {
            return Ok(t.clone());
        }
        Constraints::parse(constraint)?
    };
    sorted_tags
        .iter()
        .find(|t| parse_version(t).is_ok_and(|v| c.matches(&v)))
        .cloned()
        .ok_or_else(|| format!("Could not locate a version matching provided version string {constraint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_table() {
        let d = "sha256:00";
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            &'static str,
            bool,
            Result<Target, &'static str>,
        );
        let cases: &[Case] = &[
            (
                "nothing: newest stable",
                None,
                None,
                "",
                false,
                Ok(Target::Constraint("".into())),
            ),
            (
                "devel",
                None,
                None,
                "",
                true,
                Ok(Target::Constraint(">0.0.0-0".into())),
            ),
            (
                "devel ignored with version",
                None,
                None,
                "1.2.3",
                true,
                Ok(Target::Tag("1.2.3".into())),
            ),
            (
                "exact version",
                None,
                None,
                "1.2.3",
                false,
                Ok(Target::Tag("1.2.3".into())),
            ),
            (
                "partial version is used as a tag",
                None,
                None,
                "1.2",
                false,
                Ok(Target::Tag("1.2".into())),
            ),
            (
                "v prefix is a tag",
                None,
                None,
                "v1.2.3",
                false,
                Ok(Target::Tag("v1.2.3".into())),
            ),
            (
                "constraint",
                None,
                None,
                "^1",
                false,
                Ok(Target::Constraint("^1".into())),
            ),
            (
                "tag in ref",
                Some("2.0.0"),
                None,
                "",
                false,
                Ok(Target::Tag("2.0.0".into())),
            ),
            (
                "tag and same version",
                Some("2.0.0"),
                None,
                "2.0.0",
                false,
                Ok(Target::Tag("2.0.0".into())),
            ),
            (
                "tag and other version",
                Some("2.0.0"),
                None,
                "1.0.0",
                false,
                Err("chart reference and version mismatch: 1.0.0 is not 2.0.0"),
            ),
            ("digest", None, Some(d), "", false, Ok(Target::Digest(d.into()))),
            (
                "tag and digest",
                Some("1.0.0"),
                Some(d),
                "",
                false,
                Ok(Target::Digest(d.into())),
            ),
        ];
        for (name, tag, digest, version, devel, want) in cases {
            let got = target(*tag, *digest, version, *devel);
            assert_eq!(got, want.clone().map_err(String::from), "{name}");
        }
    }

    #[test]
    fn pick_table() {
        let tags: Vec<String> = [
            "1.0.0",
            "1.2.0",
            "1.10.0",
            "2.0.0-rc.1",
            "2.0.0-beta.2",
            "0.9.0",
            "latest",
            "v3.0.0",
            "1.3",
            "01.0.0",
            "1.5.0_build.7",
            "sha256-abc",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let sorted = semver_tags(&tags);
        assert_eq!(
            sorted,
            [
                "2.0.0-rc.1",
                "2.0.0-beta.2",
                "1.10.0",
                "1.5.0+build.7",
                "1.2.0",
                "1.0.0",
                "0.9.0"
            ],
            "strict semver only, newest first, _ read as +"
        );
        let cases: &[(&str, &str, Result<&str, ()>)] = &[
            ("newest stable", "", Ok("1.10.0")),
            ("devel", ">0.0.0-0", Ok("2.0.0-rc.1")),
            ("caret", "^1", Ok("1.10.0")),
            ("tilde", "~1.2", Ok("1.2.0")),
            ("range", ">=1 <1.5", Ok("1.2.0")),
            ("build tag", "~1.5", Ok("1.5.0+build.7")),
            ("x wildcard", "0.x", Ok("0.9.0")),
            ("prerelease range", "^2.0.0-0", Ok("2.0.0-rc.1")),
            ("nothing matches", ">5", Err(())),
        ];
        for (name, c, want) in cases {
            let got = pick(&sorted, c, "oci://h/c").map_err(|_| ());
            assert_eq!(got, want.map(String::from), "{name}");
        }
        assert_eq!(
            pick(&[], "", "oci://h/c").unwrap_err(),
            "Unable to locate any tags in provided repository: oci://h/c"
        );
        assert_eq!(
            pick(&sorted, ">5", "oci://h/c").unwrap_err(),
            "Could not locate a version matching provided version string >5"
        );
    }
}
