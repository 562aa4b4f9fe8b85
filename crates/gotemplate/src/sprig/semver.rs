//! Sprig's `semver` and `semverCompare`, over [`crate::semver`].
//!
//! `semver` returns Masterminds' `*semver.Version`, so templates can read `.Major`, `.Prerelease`
//! and call `.Compare`; charts mostly use `semverCompare` against `.Capabilities.KubeVersion`.

use std::{cmp::Ordering, rc::Rc};

use super::{arity, str_arg};
use crate::semver::{parse_version, Constraints, Version};
use crate::{FuncMap, FuncResult, Object, Value};

/// Registers `semver` and `semverCompare`.
pub fn register(m: &mut FuncMap) {
    m.insert_simple("semver", semver);
    m.insert_simple("semverCompare", semver_compare);
}

/// A Masterminds version seen from templates. `Inc*` and `Set*` return a `semver.Version` value
/// (not a pointer), as in Go.
pub struct SemverValue {
    pub version: Version,
    pointer: bool,
}

impl SemverValue {
    /// Wraps a version as `*semver.Version` (what `semver` returns).
    pub fn wrap(version: Version) -> Value {
        Value::Object(Rc::new(SemverValue {
            version,
            pointer: true,
        }))
    }

    fn value(version: Version) -> Value {
        Value::Object(Rc::new(SemverValue {
            version,
            pointer: false,
        }))
    }
}

/// The version inside a `semver` result passed back as a method argument.
fn version_arg(v: &Value) -> Result<Version, String> {
    match v {
        Value::Object(o) if matches!(o.type_name(), "*semver.Version" | "semver.Version") => {
            parse_version(&o.go_string())
        }
        other => Err(format!(
            "wrong type for value; expected *semver.Version; got {}",
            other.type_name()
        )),
    }
}

fn semver(args: &[Value]) -> FuncResult {
    arity("semver", args, 1)?;
    Ok(SemverValue::wrap(parse_version(str_arg(&args[0])?)?))
}

fn semver_compare(args: &[Value]) -> FuncResult {
    arity("semverCompare", args, 2)?;
    let constraints = Constraints::parse(str_arg(&args[0])?)?;
    let version = parse_version(str_arg(&args[1])?)?;
    Ok(Value::Bool(constraints.matches(&version)))
}

fn ordering_int(o: Ordering) -> i64 {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

impl Object for SemverValue {
    fn type_name(&self) -> &str {
        if self.pointer {
            "*semver.Version"
        } else {
            "semver.Version"
        }
    }

    fn kind_name(&self) -> &str {
        if self.pointer {
            "ptr"
        } else {
            "struct"
        }
    }

    fn field(&self, name: &str) -> Option<Value> {
        let v = &self.version;
        Some(match name {
            // Masterminds' fields are uint64.
            "Major" => Value::Uint64(v.major),
            "Minor" => Value::Uint64(v.minor),
            "Patch" => Value::Uint64(v.patch),
            "Prerelease" => Value::str(v.pre.as_str()),
            "Metadata" => Value::str(v.metadata.as_str()),
            "Original" => Value::str(v.original.as_str()),
            "String" => Value::str(v.to_string()),
            "IncMajor" => SemverValue::value(v.inc_major()),
            "IncMinor" => SemverValue::value(v.inc_minor()),
            "IncPatch" => SemverValue::value(v.inc_patch()),
            _ => return None,
        })
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let v = &self.version;
        let compare = |args: &[Value]| -> Result<Ordering, String> {
            arity(name, args, 1)?;
            Ok(v.compare(&version_arg(&args[0])?))
        };
        let result = match name {
            "Compare" => compare(args).map(|o| Value::Int(ordering_int(o))),
            "LessThan" => compare(args).map(|o| Value::Bool(o == Ordering::Less)),
            "LessThanEqual" => compare(args).map(|o| Value::Bool(o != Ordering::Greater)),
            "GreaterThan" => compare(args).map(|o| Value::Bool(o == Ordering::Greater)),
            "GreaterThanEqual" => compare(args).map(|o| Value::Bool(o != Ordering::Less)),
            "Equal" => compare(args).map(|o| Value::Bool(o == Ordering::Equal)),
            "SetPrerelease" | "SetMetadata" => (|| {
                arity(name, args, 1)?;
                let text = str_arg(&args[0])?;
                // Validate by parsing a version that carries the new part.
                let probe = if name == "SetPrerelease" {
                    format!("0.0.0-{text}")
                } else {
                    format!("0.0.0+{text}")
                };
                if !text.is_empty() {
                    parse_version(&probe)?;
                }
                let mut next = v.clone();
                if name == "SetPrerelease" {
                    next.pre = text.to_string();
                } else {
                    next.metadata = text.to_string();
                }
                let prefix = if v.original.starts_with('v') { "v" } else { "" };
                next.original = format!("{prefix}{next}");
                Ok(SemverValue::value(next))
            })(),
            _ => return self.field(name).map(Ok),
        };
        Some(result)
    }

    fn go_string(&self) -> String {
        self.version.to_string()
    }

    fn to_plain(&self) -> Option<Value> {
        // MarshalJSON writes String().
        Some(Value::str(self.version.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::s;

    #[test]
    fn semver_compare_table() {
        // From sprig semver_test.go, plus Helm chart idioms (Masterminds semantics).
        let cases = [
            ("equal", "1.2.3", "1.2.3", Ok(true)),
            ("caret_in", "^1.2.0", "1.2.3", Ok(true)),
            ("caret_out", "^1.2.0", "2.2.3", Ok(false)),
            ("kube_gitversion", ">=1.21-0", "v1.31.0", Ok(true)),
            (
                "bad_constraint",
                "badConstraint",
                "1.2.3",
                Err("improper constraint: badConstraint"),
            ),
            (
                "bad_version",
                "1.2.0",
                "badVersion",
                Err("Invalid Semantic Version"),
            ),
        ];
        for (name, c, v, want) in cases {
            let got = semver_compare(&[s(c), s(v)]);
            assert_eq!(got, want.map(Value::Bool).map_err(str::to_string), "{name}");
        }
    }

    #[test]
    fn semver_fields_and_compare() {
        let v = semver(&[s("1.2.3-beta.1+c0ff33")]).expect("parse");
        let Value::Object(o) = &v else {
            panic!("not an object")
        };
        let cases = [
            ("prerelease", o.field("Prerelease"), s("beta.1")),
            ("major", o.field("Major"), Value::Uint64(1)),
            ("metadata", o.field("Metadata"), s("c0ff33")),
            ("string", o.field("String"), s("1.2.3-beta.1+c0ff33")),
        ];
        for (name, got, want) in cases {
            assert_eq!(got, Some(want), "{name}");
        }
        assert_eq!(o.type_name(), "*semver.Version");

        // `semver B | (semver A).Compare` from sprig's tests.
        let cmp = [
            ("same", "1.2.3", "1.2.3", 0),
            ("greater", "1.3.3", "1.2.3", 1),
            ("less", "1.2.3", "1.4.3", -1),
        ];
        for (name, a, b, want) in cmp {
            let Ok(Value::Object(a)) = semver(&[s(a)]) else {
                panic!("{name}")
            };
            let b = semver(&[s(b)]).expect("b");
            assert_eq!(a.method("Compare", &[b]), Some(Ok(Value::Int(want))), "{name}");
        }
    }

    #[test]
    fn semver_inc_keeps_v_prefix() {
        let Ok(Value::Object(o)) = semver(&[s("v1.2.3-rc.1")]) else {
            panic!("parse")
        };
        let Some(Value::Object(p)) = o.field("IncPatch") else {
            panic!("inc")
        };
        // IncPatch of a prerelease drops it without bumping (Masterminds semantics).
        assert_eq!(p.field("Original"), Some(s("v1.2.3")));
        assert_eq!(p.type_name(), "semver.Version");
    }
}
