//! The three-way patch on arbitrary JSON documents `[ORIGINAL, DESIRED, LIVE]`: the patch must
//! apply to LIVE, the result must hold every field DESIRED sets (lists atomic: no merge keys are
//! declared), and planning again from the result must find nothing to do.
#![no_main]

use kubectl_chart::diff::{predict, strip_nulls, three_way_patch, MergeKeys};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// JSON equality with numbers compared by value (`1` and `1.0` are one number to the server).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Every non-null field of `d` is in `p` with the same value (a null in DESIRED deletes, also in
/// the items of a list, which is set whole).
fn holds(d: &Value, p: &Value, path: &str) -> Result<(), String> {
    match (d, p) {
        (Value::Object(dm), Value::Object(pm)) => {
            for (k, dv) in dm.iter().filter(|(_, v)| !v.is_null()) {
                let pv = pm.get(k).ok_or(format!("{path}/{k} missing"))?;
                holds(dv, pv, &format!("{path}/{k}"))?;
            }
            Ok(())
        }
        // A null means "remove", inside list items too: the engine sends `strip_nulls` of DESIRED.
        _ if same(&strip_nulls(d), p) => Ok(()),
        _ => Err(format!("{path}: want {d}, got {p}")),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Array(docs)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // Only objects: the engine diffs Kubernetes objects, never bare scalars or lists at the root.
    let [o @ Value::Object(_), d @ Value::Object(_), l @ Value::Object(_)] = docs.as_slice() else {
        return;
    };
    let keys = MergeKeys::empty();
    let tw = three_way_patch(Some(o), d, l, &keys);
    let got = predict(l, &tw.patch).unwrap_or_else(|e| panic!("patch does not apply to LIVE: {e}"));
    if let Err(e) = holds(d, &got, "") {
        panic!("patched LIVE lacks a DESIRED field: {e}");
    }
    let again = three_way_patch(Some(d), d, &got, &keys);
    assert!(
        again.patch.0.is_empty(),
        "a second plan is not empty: {:?}",
        again.patch
    );
});
