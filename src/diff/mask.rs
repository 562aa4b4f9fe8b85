//! Keeps Secret values out of diffs and machine output.
//!
//! A diff has to say *that* a secret changed without saying *what* it holds (CI logs are read by
//! many; anchors §4 pain 17). Every `data`/`stringData` value of a Secret is replaced before
//! printing: a value equal on both sides by a fixed [`SECRET_MASK`], so the line shows as context;
//! a changed, added or removed value by `(changed) <hash>`, where the hash is the first 8 hex digits
//! of SHA-256 over the key, a NUL and the value. The hash lets a reader see that two runs produce
//! the same secret without learning it; the key is mixed in so equal values under different keys
//! do not show as equal. kubectl (`***`, `*** (before)`, `*** (after)`) and helm-diff (`REDACTED`,
//! `--------`/`++++++++`) do the same job with no hash.

use json_patch::{Patch, PatchOperation};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What an unchanged Secret value is printed as.
pub const SECRET_MASK: &str = "***";

/// The Secret fields whose values are masked.
const SECRET_FIELDS: &[&str] = &["data", "stringData"];

fn is_secret(obj: &Value) -> bool {
    obj.get("kind").and_then(Value::as_str) == Some("Secret")
        && obj.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

fn value_bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

/// `(changed) 1a2b3c4d` for the value `v` under key `k`.
fn changed(k: &str, v: &Value) -> Value {
    let mut h = Sha256::new();
    h.update(k.as_bytes());
    h.update([0u8]);
    h.update(value_bytes(v));
    let digest = h.finalize();
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Value::String(format!("(changed) {hex}"))
}

/// Masks the Secret values of the two sides of a diff in place. Either side may be absent (a
/// created or deleted object); objects that are not Secrets are left alone.
pub fn mask_secret_pair(mut before: Option<&mut Value>, mut after: Option<&mut Value>) {
    let secret = before.as_deref().is_some_and(is_secret) || after.as_deref().is_some_and(is_secret);
    if !secret {
        return;
    }
    for field in SECRET_FIELDS {
        let b = before
            .as_deref()
            .and_then(|o| o.get(*field))
            .and_then(Value::as_object)
            .cloned();
        let a = after
            .as_deref()
            .and_then(|o| o.get(*field))
            .and_then(Value::as_object)
            .cloned();
        if let Some(side) = before
            .as_deref_mut()
            .and_then(|o| o.get_mut(*field))
            .and_then(Value::as_object_mut)
        {
            for (k, v) in side.iter_mut() {
                let same = a.as_ref().and_then(|a| a.get(k)) == Some(&*v);
                *v = if same {
                    Value::String(SECRET_MASK.into())
                } else {
                    changed(k, v)
                };
            }
        }
        if let Some(side) = after
            .as_deref_mut()
            .and_then(|o| o.get_mut(*field))
            .and_then(Value::as_object_mut)
        {
            for (k, v) in side.iter_mut() {
                let same = b.as_ref().and_then(|b| b.get(k)) == Some(&*v);
                *v = if same {
                    Value::String(SECRET_MASK.into())
                } else {
                    changed(k, v)
                };
            }
        }
    }
}

/// A copy of `patch` for a Secret with every value written under `data` or `stringData` masked as
/// changed. For other kinds (`is_secret == false`) the patch is returned as is.
pub fn mask_patch(patch: &Patch, is_secret: bool) -> Patch {
    if !is_secret {
        return patch.clone();
    }
    let ops = patch
        .0
        .iter()
        .map(|op| {
            let mut op = op.clone();
            let (path, value) = match &mut op {
                PatchOperation::Add(o) => (o.path.clone(), &mut o.value),
                PatchOperation::Replace(o) => (o.path.clone(), &mut o.value),
                PatchOperation::Test(o) => (o.path.clone(), &mut o.value),
                _ => return op,
            };
            let tokens: Vec<String> = path.tokens().map(|t| t.decoded().into_owned()).collect();
            match tokens.as_slice() {
                [f] if SECRET_FIELDS.contains(&f.as_str()) => {
                    if let Some(m) = value.as_object_mut() {
                        for (k, v) in m.iter_mut() {
                            *v = changed(k, v);
                        }
                    }
                }
                [f, k] if SECRET_FIELDS.contains(&f.as_str()) => *value = changed(k, value),
                [] => {
                    let mut whole = value.clone();
                    mask_secret_pair(None, Some(&mut whole));
                    *value = whole;
                }
                _ => {}
            }
            op
        })
        .collect();
    Patch(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data})
    }

    #[test]
    fn pair_masking() {
        // Hashes from coreutils: `printf 'b\0eQ==' | sha256sum | cut -c1-8` and so on.
        // name, before, after, masked before, masked after
        type Case = (
            &'static str,
            Option<Value>,
            Option<Value>,
            Option<Value>,
            Option<Value>,
        );
        let cases: &[Case] = &[
            (
                "unchanged and changed",
                Some(secret(json!({"a": "eA==", "b": "eQ=="}))),
                Some(secret(json!({"a": "eA==", "b": "eg=="}))),
                Some(secret(json!({"a": "***", "b": "(changed) d9cd67c5"}))),
                Some(secret(json!({"a": "***", "b": "(changed) 48ad44c3"}))),
            ),
            (
                "created",
                None,
                Some(secret(json!({"a": "eA=="}))),
                None,
                Some(secret(json!({"a": "(changed) 6a9f3526"}))),
            ),
        ];
        for (name, b, a, wb, wa) in cases {
            let (mut b, mut a) = (b.clone(), a.clone());
            mask_secret_pair(b.as_mut(), a.as_mut());
            assert_eq!(&b, wb, "case {name} before");
            assert_eq!(&a, wa, "case {name} after");
        }
    }

    #[test]
    fn hash_is_sha256_of_key_nul_value() {
        // `printf 'a\0eA==' | sha256sum | cut -c1-8` → 6a9f3526
        assert_eq!(changed("a", &json!("eA==")), json!("(changed) 6a9f3526"));
        assert_ne!(
            changed("a", &json!("eA==")),
            changed("b", &json!("eA==")),
            "key is mixed in"
        );
    }

    #[test]
    fn non_secret_untouched() {
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "x"}});
        let before = cm.clone();
        mask_secret_pair(Some(&mut cm), None);
        assert_eq!(cm, before);
    }

    #[test]
    fn patch_masking() {
        let p: Patch = serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": "3"},
            {"op": "replace", "path": "/data/b", "value": "eg=="},
            {"op": "add", "path": "/data", "value": {"a": "eA=="}},
            {"op": "remove", "path": "/data/c"},
            {"op": "replace", "path": "/type", "value": "Opaque"},
        ]))
        .unwrap();
        let got = serde_json::to_value(mask_patch(&p, true)).unwrap();
        let want = json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": "3"},
            {"op": "replace", "path": "/data/b", "value": "(changed) 48ad44c3"},
            {"op": "add", "path": "/data", "value": {"a": "(changed) 6a9f3526"}},
            {"op": "remove", "path": "/data/c"},
            {"op": "replace", "path": "/type", "value": "Opaque"},
        ]);
        assert_eq!(got, want);
        assert_eq!(mask_patch(&p, false), p);
    }
}
