//! Property test of the three-way patch: for random ORIGINAL/DESIRED/LIVE trees, the patched LIVE
//! holds every DESIRED field, keeps every LIVE field ORIGINAL never had, loses the fields DESIRED
//! dropped, and a second run has nothing to do.
//!
//! A small seeded generator stands in for proptest (not a dependency): the three copies are random
//! edits of one base map, so they share structure the way real revisions do, with scalars, atomic
//! lists, nested maps, keyed lists (`items`, merged on `name`) and keys that need JSON Pointer
//! escaping. A failure prints the iteration and all three inputs; the seed is fixed, so it repeats.

use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};

use super::{
    merge_keys::ListType,
    three_way::{ids, json_eq, predict, three_way_patch},
    Gvk, MergeKeys,
};

const KEYS: &[&str] = &["a", "b", "c", "x/y", "t~", "items"];

fn gen_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.gen_range(0..if depth == 0 { 3 } else { 6 }) {
        0 => json!(rng.gen_range(0..3)),
        1 => json!(["s", "t", "u"][rng.gen_range(0..3)]),
        2 => json!(rng.gen_bool(0.5)),
        3 => Value::Array((0..rng.gen_range(0..3)).map(|_| gen_value(rng, 0)).collect()),
        4 => gen_keyed(rng, depth - 1),
        _ => gen_map(rng, depth - 1),
    }
}

/// A list of maps with unique `name`s, merged by key under the path `items`.
fn gen_keyed(rng: &mut StdRng, depth: u32) -> Value {
    let mut names: Vec<&str> = vec!["n1", "n2", "n3", "n4"];
    let n = rng.gen_range(0..4);
    let mut out = Vec::new();
    for _ in 0..n {
        let i = rng.gen_range(0..names.len());
        let mut m = gen_map(rng, depth);
        m["name"] = json!(names.remove(i));
        out.push(m);
    }
    Value::Array(out)
}

fn gen_map(rng: &mut StdRng, depth: u32) -> Value {
    let mut m = serde_json::Map::new();
    for k in KEYS {
        if rng.gen_bool(0.45) {
            let v = if *k == "items" && depth > 0 {
                gen_keyed(rng, depth - 1)
            } else {
                gen_value(rng, depth)
            };
            m.insert(k.to_string(), v);
        }
    }
    Value::Object(m)
}

/// Random edits of `base`, so the three copies share structure as real ones do.
fn mutate(rng: &mut StdRng, base: &Value, depth: u32) -> Value {
    match base {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                match rng.gen_range(0..10) {
                    0 => {}
                    1 => {
                        out.insert(k.clone(), gen_value(rng, depth));
                    }
                    _ => {
                        out.insert(k.clone(), mutate(rng, v, depth.saturating_sub(1)));
                    }
                }
            }
            if rng.gen_bool(0.3) {
                let k = KEYS[rng.gen_range(0..KEYS.len())];
                out.entry(k.to_string()).or_insert_with(|| gen_value(rng, depth));
            }
            Value::Object(out)
        }
        Value::Array(a) if a.iter().all(|e| e.get("name").is_some()) && rng.gen_bool(0.8) => {
            let mut out: Vec<Value> = Vec::new();
            for e in a {
                if rng.gen_bool(0.8) {
                    let mut m = mutate(rng, e, depth.saturating_sub(1));
                    m["name"] = e["name"].clone();
                    out.push(m);
                }
            }
            if rng.gen_bool(0.3) {
                out.reverse();
            }
            Value::Array(out)
        }
        other => {
            if rng.gen_bool(0.3) {
                gen_value(rng, depth)
            } else {
                other.clone()
            }
        }
    }
}

/// Every field of `d` is in `p` (keyed lists: every element of `d`, matched by name).
fn contains_desired(d: &Value, p: &Value, path: &str) -> Result<(), String> {
    match (d, p) {
        (Value::Object(dm), Value::Object(pm)) => {
            for (k, dv) in dm {
                let pv = pm.get(k).ok_or(format!("{path}/{k} missing"))?;
                contains_desired(dv, pv, &format!("{path}/{k}"))?;
            }
            Ok(())
        }
        (Value::Array(da), Value::Array(pa)) if keyed_list(path) && names_ok(da) && names_ok(pa) => {
            for de in da {
                let pe = pa
                    .iter()
                    .find(|pe| pe.get("name") == de.get("name"))
                    .ok_or(format!("{path}: element {} missing", de["name"]))?;
                contains_desired(de, pe, path)?;
            }
            Ok(())
        }
        _ if json_eq(d, p) => Ok(()),
        _ => Err(format!("{path}: want {d}, got {p}")),
    }
}

/// Every field of `l` that `o` never had is kept in `p`, unless `d` now sets it.
fn keeps_foreign(o: Option<&Value>, d: &Value, l: &Value, p: &Value, path: &str) -> Result<(), String> {
    if let (Value::Array(la), Value::Array(da), Value::Array(pa)) = (l, d, p) {
        if !(keyed_list(path) && names_ok(la) && names_ok(da)) {
            return Ok(());
        }
        let oa = o.and_then(Value::as_array).filter(|oa| names_ok(oa));
        let named = |list: &[Value], n: &Value| list.iter().find(|e| e.get("name") == Some(n)).cloned();
        for le in la {
            let n = &le["name"];
            let (oe, de) = (oa.and_then(|oa| named(oa, n)), named(da, n));
            match (&oe, &de) {
                (None, None) if named(pa, n).as_ref() != Some(le) => {
                    return Err(format!("{path}: foreign element {n} lost or changed"));
                }
                (Some(_), None) if named(pa, n).is_some() => {
                    return Err(format!("{path}: dropped element {n} still present"));
                }
                (_, Some(de)) => {
                    if let Some(pe) = named(pa, n) {
                        keeps_foreign(oe.as_ref(), de, le, &pe, path)?;
                    }
                }
                _ => {}
            }
        }
        return Ok(());
    }
    let (Value::Object(lm), Value::Object(dm), Value::Object(pm)) = (l, d, p) else {
        return Ok(());
    };
    let om = o.and_then(Value::as_object);
    for (k, lv) in lm {
        let here = format!("{path}/{k}");
        let ov = om.and_then(|m| m.get(k));
        match (ov, dm.get(k)) {
            (None, None) => {
                if pm.get(k) != Some(lv) {
                    return Err(format!("{here}: foreign value {lv} lost, got {:?}", pm.get(k)));
                }
            }
            (Some(_), None) => {
                if pm.contains_key(k) {
                    return Err(format!("{here}: dropped field still present"));
                }
            }
            (_, Some(dv)) => {
                if let Some(pv) = pm.get(k) {
                    keeps_foreign(ov, dv, lv, pv, &here)?;
                }
            }
        }
    }
    Ok(())
}

fn keyed_list(path: &str) -> bool {
    path.ends_with("/items")
}

fn names_ok(list: &[Value]) -> bool {
    ids(list, &["name".to_string()]).is_some()
}

#[test]
fn property_desired_present_foreign_kept() {
    let mut keys = MergeKeys::empty();
    let gvk = Gvk::new("example.com", "", "Thing");
    // `items` at any depth of our generated maps: declare the depths the generator reaches.
    let mut path = String::from("spec");
    for _ in 0..6 {
        keys.insert(&gvk, &format!("{path}.items"), ListType::Map(vec!["name".into()]));
        path.push_str(".*");
    }
    let mut rng = StdRng::seed_from_u64(0x5eed);
    for iter in 0..3000 {
        let base = gen_map(&mut rng, 3);
        let o = mutate(&mut rng, &base, 2);
        let d = mutate(&mut rng, &base, 2);
        let l = mutate(&mut rng, &o, 2);
        let wrap = |spec: &Value| json!({"apiVersion": "example.com/v1", "kind": "Thing", "spec": spec});
        let (ow, dw, lw) = (wrap(&o), wrap(&d), wrap(&l));
        let tw = three_way_patch(Some(&ow), &dw, &lw, &keys);
        let p = predict(&lw, &tw.patch)
            .unwrap_or_else(|e| panic!("iteration {iter}: patch does not apply: {e}\npatch {}", tw.patch));
        let report = |what: String| {
            format!(
                "iteration {iter}: {what}\no={o}\nd={d}\nl={l}\npatch={}\np={p}",
                tw.patch
            )
        };
        if let Err(e) = contains_desired(&dw, &p, "") {
            panic!("{}", report(e));
        }
        if let Err(e) = keeps_foreign(Some(&ow), &dw, &lw, &p, "") {
            panic!("{}", report(e));
        }
        // A second run against the result has nothing left to do.
        let again = three_way_patch(Some(&dw), &dw, &p, &keys);
        assert!(
            again.patch.is_empty(),
            "{}",
            report(format!("not idempotent: {}", again.patch))
        );
    }
}
