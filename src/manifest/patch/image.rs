//! `--set-image`, kustomize's `images:` transformer: containers and initContainers whose image
//! name (the reference without tag and digest) matches get a new name, tag or digest.

use serde_json::Value;

use super::{str_at, Error};

/// One `--set-image`: containers using image `name` get the new parts that are set.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ImageSet {
    pub(super) arg: String,
    pub(super) name: String,
    new_name: Option<String>,
    new_tag: Option<String>,
    digest: Option<String>,
}

/// Kinds whose pod template `--set-image` edits, and where its `PodSpec` is
/// (`k8s:api/*/types.go`, the `Template` fields).
const POD_SPEC_AT: &[(&str, &str, &[&str])] = &[
    ("", "Pod", &["spec"]),
    ("", "PodTemplate", &["template", "spec"]),
    ("", "ReplicationController", &["spec", "template", "spec"]),
    ("apps", "Deployment", &["spec", "template", "spec"]),
    ("apps", "ReplicaSet", &["spec", "template", "spec"]),
    ("apps", "StatefulSet", &["spec", "template", "spec"]),
    ("apps", "DaemonSet", &["spec", "template", "spec"]),
    ("batch", "Job", &["spec", "template", "spec"]),
    (
        "batch",
        "CronJob",
        &["spec", "jobTemplate", "spec", "template", "spec"],
    ),
];

/// Splits an image reference into (name, tag, digest): the tag follows the last `:` after the
/// last `/` (a registry port is not a tag), the digest follows `@`.
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(c) => (&rest[..slash + c], Some(&rest[slash + c + 1..]), digest),
        None => (rest, None, digest),
    }
}

pub(super) fn parse_image(arg: &str) -> Result<ImageSet, Error> {
    let err = |message: &str| Error::Image {
        arg: arg.to_string(),
        message: message.to_string(),
    };
    // `NAME=REF`, or kustomize's shorthand `NAME:TAG` / `NAME@DIGEST` (keep the name).
    let (name, new) = match arg.split_once('=') {
        Some((n, r)) => (n.to_string(), r),
        None => {
            let (n, tag, digest) = split_image(arg);
            if tag.is_none() && digest.is_none() {
                return Err(err(
                    "expected NAME=NEWNAME[:TAG][@DIGEST], NAME:TAG or NAME@DIGEST",
                ));
            }
            (n.to_string(), &arg[n.len()..])
        }
    };
    if name.is_empty() {
        return Err(err("the image name to replace is empty"));
    }
    if name.contains('@') || split_image(&name).1.is_some() {
        return Err(err(
            "the image to replace is matched by name: leave its tag and digest out",
        ));
    }
    if new.is_empty() {
        return Err(err("the new reference is empty"));
    }
    let (new_name, tag, digest) = split_image(new);
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    if tag == Some("") || digest == Some("") {
        return Err(err("empty tag or digest"));
    }
    if let Some(d) = digest {
        if !d.contains(':') {
            return Err(err("a digest is ALGORITHM:HEX, e.g. sha256:…"));
        }
    }
    Ok(ImageSet {
        arg: arg.to_string(),
        name,
        new_name: some(new_name),
        new_tag: tag.map(String::from),
        digest: digest.map(String::from),
    })
}

impl ImageSet {
    /// Rewrites matching images of `obj`'s pod template; whether any matched.
    pub(super) fn apply(&self, obj: &mut Value) -> bool {
        let (group, _) = str_at(obj, &["apiVersion"]).rsplit_once('/').unwrap_or(("", ""));
        let kind = str_at(obj, &["kind"]).to_string();
        let group = group.to_string();
        let Some((_, _, at)) = POD_SPEC_AT.iter().find(|(g, k, _)| *g == group && *k == kind) else {
            return false;
        };
        let mut spec = &mut *obj;
        for p in *at {
            match spec.get_mut(*p) {
                Some(next) => spec = next,
                None => return false,
            }
        }
        let mut hit = false;
        for field in ["initContainers", "containers"] {
            let Some(Value::Array(list)) = spec.get_mut(field) else {
                continue;
            };
            for c in list {
                let Some(image) = c.get("image").and_then(Value::as_str) else {
                    continue;
                };
                if let Some(next) = self.rewrite(image) {
                    c["image"] = Value::String(next);
                    hit = true;
                }
            }
        }
        hit
    }

    /// The new reference for `image`, if its name matches.
    pub(super) fn rewrite(&self, image: &str) -> Option<String> {
        let (name, tag, digest) = split_image(image);
        if name != self.name {
            return None;
        }
        let mut out = self.new_name.clone().unwrap_or_else(|| name.to_string());
        // A new digest pins the image (any tag goes); a new tag replaces tag and digest; a new
        // name alone keeps both.
        if let Some(d) = &self.digest {
            out.push('@');
            out.push_str(d);
        } else if let Some(t) = &self.new_tag {
            out.push(':');
            out.push_str(t);
        } else {
            if let Some(t) = tag {
                out.push(':');
                out.push_str(t);
            }
            if let Some(d) = digest {
                out.push('@');
                out.push_str(d);
            }
        }
        Some(out)
    }
}
