//! OCI chart references: `oci://host[:port]/path/name[:tag][@sha256:digest]`, parsed as Helm's
//! `newReference` does (a `+` in a tag becomes `_`, since `+` is not a legal tag character) and
//! validated with the distribution spec's grammar, so a typo is reported before any request.

use std::fmt;

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]`.
    pub registry: String,
    /// The repository path (`charts/nginx`).
    pub repository: String,
    /// The tag, with `+` already stored as `_`.
    pub tag: Option<String>,
    /// `sha256:<hex>`.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses a reference, with or without the `oci://` scheme.
    pub fn parse(raw: &str) -> Result<Reference, String> {
        let bad = |why: &str| format!("invalid OCI reference {raw:?}: {why}");
        let mut rest = raw.strip_prefix("oci://").unwrap_or(raw);
        let mut digest = None;
        if let Some(i) = rest.rfind('@') {
            let d = &rest[i + 1..];
            crate::cache::digest_hex(d)
                .map_err(|_| bad("the digest must be sha256:<64 lowercase hex digits>"))?;
            digest = Some(d.to_string());
            rest = &rest[..i];
        }
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("expected host[:port]/repository"))?;
        if registry.is_empty()
            || !registry
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        {
            return Err(bad("invalid registry host"));
        }
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.replace('+', "_"))),
            _ => (path, None),
        };
        if !valid_repository(repository) {
            return Err(bad(
                "the repository must be lowercase path components of letters, digits and separators (. _ __ -)",
            ));
        }
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.as_bytes()[0] != b'.'
                && t.as_bytes()[0] != b'-'
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
            if !ok {
                return Err(bad("invalid tag"));
            }
        }
        Ok(Reference {
            registry: registry.to_ascii_lowercase(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// The chart's name: the last path component.
    pub fn name(&self) -> &str {
        self.repository.rsplit('/').next().unwrap_or(&self.repository)
    }

    /// `host/repository` without tag or digest.
    pub fn locator(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository at another tag.
    pub fn with_tag(&self, tag: &str) -> Reference {
        Reference {
            tag: Some(tag.replace('+', "_")),
            digest: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for Reference {
    /// `host/repo[:tag][@digest]`, as Helm prints it after `Pulled:`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// The distribution spec's repository name: `/`-separated components, each
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_repository(repo: &str) -> bool {
    !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|c| {
            let b = c.as_bytes();
            let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
            if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
                return false;
            }
            let mut i = 0;
            while i < b.len() {
                if alnum(b[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < b.len() && !alnum(b[i]) {
                    i += 1;
                }
                let sep = &c[start..i];
                if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
                    return false;
                }
            }
            true
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let ok = |reg: &str, repo: &str, tag: Option<&str>, digest: Option<&str>| {
            Ok(Reference {
                registry: reg.into(),
                repository: repo.into(),
                tag: tag.map(Into::into),
                digest: digest.map(Into::into),
            })
        };
        let with_digest = format!("oci://h/c@{d}");
        let tag_and_digest = format!("oci://h/c:1.0.0@{d}");
        let cases: Vec<(&str, &str, Result<Reference, ()>)> = vec![
            (
                "plain",
                "oci://reg.example/charts/nginx",
                ok("reg.example", "charts/nginx", None, None),
            ),
            (
                "port and tag",
                "oci://127.0.0.1:5000/a/b:1.2.3",
                ok("127.0.0.1:5000", "a/b", Some("1.2.3"), None),
            ),
            (
                "plus stored as underscore",
                "oci://h/c:1.0.0+build.1",
                ok("h", "c", Some("1.0.0_build.1"), None),
            ),
            ("digest", &with_digest, ok("h", "c", None, Some(d))),
            (
                "tag and digest",
                &tag_and_digest,
                ok("h", "c", Some("1.0.0"), Some(d)),
            ),
            ("no scheme", "h/c", ok("h", "c", None, None)),
            (
                "port without tag",
                "oci://h:5000/c",
                ok("h:5000", "c", None, None),
            ),
            ("no repository", "oci://h", Err(())),
            ("uppercase repository", "oci://h/Charts", Err(())),
            ("bad separator", "oci://h/a..b", Err(())),
            (
                "double underscore ok",
                "oci://h/a__b",
                ok("h", "a__b", None, None),
            ),
            ("short digest", "oci://h/c@sha256:abc", Err(())),
            ("empty tag", "oci://h/c:", Err(())),
            ("bad tag", "oci://h/c:-x", Err(())),
        ];
        for (name, input, want) in cases {
            assert_eq!(Reference::parse(input).map_err(|_| ()), want, "{name}");
        }
    }

    #[test]
    fn display_and_name() {
        let r = Reference::parse("oci://h:5000/a/nginx:1.0.0+b").unwrap();
        assert_eq!(r.to_string(), "h:5000/a/nginx:1.0.0_b");
        assert_eq!(r.name(), "nginx");
        assert_eq!(r.locator(), "h:5000/a/nginx");
    }
}
