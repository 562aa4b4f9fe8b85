//! Helm's value coalescing (`pkg/chartutil/coalesce.go`) and dependency processing
//! (`pkg/chartutil/dependencies.go`): which subcharts are enabled, aliases, `import-values`, and
//! the final values tree.
//!
//! Go maps are shared references and Helm's code relies on that (a table copied from one tree into
//! another is the same table). [`Value::Map`] has the same reference semantics, so the algorithms
//! below follow Helm's steps, including its shallow copies, rather than building fresh trees: the
//! aliasing is what decides some edge cases. Iterations over a table snapshot its entries first so
//! that a table merged into itself (possible through that aliasing) cannot double-borrow.

use std::{cell::RefCell, collections::BTreeMap, rc::Rc};

use super::Error;
use crate::chart::{is_compatible_range, Chart};
use gotemplate::{Map, Value};

/// The values key shared between a chart and all its subcharts.
pub const GLOBAL_KEY: &str = "global";

fn new_map() -> Map {
    Rc::new(RefCell::new(BTreeMap::new()))
}

fn entries(m: &Map) -> Vec<(String, Value)> {
    m.borrow().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn get(m: &Map, k: &str) -> Option<Value> {
    m.borrow().get(k).cloned()
}

fn deep_copy_map(m: &Map) -> Map {
    match Value::Map(m.clone()).deep_copy() {
        Value::Map(c) => c,
        _ => new_map(),
    }
}

fn concat_prefix(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}.{b}")
    }
}

/// Where to send Helm's warnings (one line each, as Helm logs them).
pub type Warn<'a> = &'a mut dyn FnMut(String);

// Helm logs coalescing warnings with the source position of the call in helm v3.17.2
// (`log.Lshortfile`); the prefixes keep our stderr identical to Helm's.
const GLOBALS_DEST_AT: &str = "coalesce.go:138";
const GLOBALS_SRC_AT: &str = "coalesce.go:145";
const GLOBALS_CONFLICT_AT: &str = "coalesce.go:161";
const GLOBALS_TABLE_AT: &str = "coalesce.go:175";
const SKIPPED_AT: &str = "coalesce.go:237";
const OVERWRITE_TABLE_AT: &str = "coalesce.go:298";
const DEST_TABLE_AT: &str = "coalesce.go:301";

/// Go's `%v` of a value in a warning (`map[u:1]`).
fn go_v(v: &Value) -> String {
    gotemplate::sprig::convert::to_string(v)
}

/// Helm's `CoalesceValues` (`merge == false`: user nulls delete chart defaults) and `MergeValues`
/// (`merge == true`: nulls kept for a later coalesce). `vals` is deep-copied first. A value that
/// cannot replace another (a table over a scalar or the reverse) is kept, with Helm's warning.
pub fn coalesce_values(chart: &Chart, vals: Option<&Map>, merge: bool, warn: Warn<'_>) -> Result<Map, Error> {
    let dest = vals.map_or_else(new_map, deep_copy_map);
    coalesce(chart, &dest, "", merge, warn)?;
    Ok(dest)
}

fn coalesce(chart: &Chart, dest: &Map, prefix: &str, merge: bool, warn: Warn<'_>) -> Result<(), Error> {
    coalesce_chart_values(chart, dest, prefix, merge, warn);
    coalesce_deps(chart, dest, prefix, merge, warn)
}

fn coalesce_deps(chart: &Chart, dest: &Map, prefix: &str, merge: bool, warn: Warn<'_>) -> Result<(), Error> {
    for sub in &chart.dependencies {
        let name = sub.name();
        let dv = match get(dest, name) {
            None => {
                let m = new_map();
                dest.borrow_mut().insert(name.to_string(), Value::Map(m.clone()));
                m
            }
            Some(Value::Map(m)) => m,
            Some(other) => {
                return Err(Error::new(format!(
                    "type mismatch on {name}: %!t({})",
                    go_type_value(&other)
                )));
            }
        };
        let sub_prefix = concat_prefix(prefix, chart.name());
        coalesce_globals(&dv, dest, &sub_prefix, warn);
        coalesce(sub, &dv, &sub_prefix, merge, warn)?;
    }
    Ok(())
}

/// Go's `%!t(type=value)` operand for a non-bool (nil prints as `<nil>`).
fn go_type_value(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Int(i) => format!("int={i}"),
        Value::Int64(i) => format!("int64={i}"),
        Value::Uint64(u) => format!("uint64={u}"),
        Value::Float(f) => format!("float64={f}"),
        Value::Str(s) => format!("string={s}"),
        other => format!("{}={:?}", other.type_name(), other),
    }
}

/// Copies the parent's `global` table into the child's, parent entries winning; tables are merged
/// top-down on a shallow copy, as Helm does.
fn coalesce_globals(dest: &Map, src: &Map, prefix: &str, warn: Warn<'_>) {
    let dg = match get(dest, GLOBAL_KEY) {
        None => new_map(),
        Some(Value::Map(m)) => m,
        Some(_) => {
            return warn(format!(
            "{GLOBALS_DEST_AT}: warning: skipping globals because destination {GLOBAL_KEY} is not a table."
        ))
        }
    };
    let sg = match get(src, GLOBAL_KEY) {
        None => new_map(),
        Some(Value::Map(m)) => m,
        Some(_) => {
            return warn(format!(
                "{GLOBALS_SRC_AT}: warning: skipping globals because source {GLOBAL_KEY} is not a table."
            ))
        }
    };
    for (key, val) in entries(&sg) {
        if let Value::Map(vm) = &val {
            let vv: Map = Rc::new(RefCell::new(vm.borrow().clone()));
            match get(&dg, &key) {
                None => {
                    dg.borrow_mut().insert(key, Value::Map(vv));
                }
                Some(Value::Map(destv)) => {
                    coalesce_tables(&vv, &destv, &concat_prefix(prefix, &key), true, warn);
                    dg.borrow_mut().insert(key, Value::Map(vv));
                }
                Some(_) => warn(format!(
                    "{GLOBALS_CONFLICT_AT}: Conflict: cannot merge map onto non-map for {}. Skipping.",
                    gotemplate::gofmt::quote(&key)
                )),
            }
        } else if matches!(get(&dg, &key), Some(Value::Map(_))) {
            // Helm skips a scalar global that would replace a child's table.
            warn(format!("{GLOBALS_TABLE_AT}: key {key} is table. Skipping"));
        } else {
            dg.borrow_mut().insert(key, val);
        }
    }
    dest.borrow_mut().insert(GLOBAL_KEY.to_string(), Value::Map(dg));
}

/// Merges a chart's own `values.yaml` (deep-copied) under the values in `v`.
fn coalesce_chart_values(chart: &Chart, v: &Map, prefix: &str, merge: bool, warn: Warn<'_>) {
    let sub_prefix = concat_prefix(prefix, chart.name());
    let vc = match chart.values.deep_copy() {
        Value::Map(m) => m,
        _ => new_map(),
    };
    for (key, val) in entries(&vc) {
        match get(v, &key) {
            Some(Value::Nil) if !merge => {
                v.borrow_mut().remove(&key);
            }
            Some(Value::Map(dest)) => match &val {
                Value::Map(src) => {
                    let merge = merge || chart.dependencies.iter().any(|d| d.name() == key);
                    coalesce_tables(&dest, src, &concat_prefix(&sub_prefix, &key), merge, warn);
                }
                Value::Nil => {}
                _ => warn(format!(
                    "{SKIPPED_AT}: warning: skipped value for {sub_prefix}.{key}: Not a table."
                )),
            },
            Some(_) => {}
            None => {
                v.borrow_mut().insert(key, val);
            }
        }
    }
}

/// Helm's `CoalesceTables` (`merge == false`) and `MergeTables` (`merge == true`): `src` fills in
/// what `dst` lacks; `dst` wins; with `merge == false` a null in `dst` deletes the key.
pub fn coalesce_tables(dst: &Map, src: &Map, prefix: &str, merge: bool, warn: Warn<'_>) {
    for (key, val) in entries(src) {
        // The dotted key only for the arms that use it: this loop runs over every values table.
        let full_key = || concat_prefix(prefix, &key);
        match (get(dst, &key), &val) {
            (Some(Value::Nil), _) if !merge => {
                dst.borrow_mut().remove(&key);
            }
            (None, _) => {
                dst.borrow_mut().insert(key, val);
            }
            (Some(Value::Map(dm)), Value::Map(sm)) => coalesce_tables(&dm, sm, &full_key(), merge, warn),
            (Some(_), Value::Map(_)) => warn(format!(
                "{OVERWRITE_TABLE_AT}: warning: cannot overwrite table with non table for {} ({})",
                full_key(),
                go_v(&val)
            )),
            (Some(Value::Map(_)), Value::Nil) => {}
            (Some(Value::Map(_)), _) => warn(format!(
                "{DEST_TABLE_AT}: warning: destination for {} is a table. Ignoring non-table value ({})",
                full_key(),
                go_v(&val)
            )),
            (Some(_), _) => {}
        }
    }
}

/// Helm's `Values.Table`: the table at a dotted path.
pub fn table(v: &Map, path: &str) -> Option<Map> {
    table_or_missing(v, path).ok()
}

/// [`table`], or Helm's `ErrNoTable` text naming the first segment that is not a table
/// (`"exports" is not a table`).
fn table_or_missing(v: &Map, path: &str) -> Result<Map, String> {
    let mut cur = v.clone();
    for part in path.split('.') {
        let next = match get(&cur, part) {
            Some(Value::Map(m)) => m,
            _ => return Err(format!("{} is not a table", gotemplate::gofmt::quote(part))),
        };
        cur = next;
    }
    Ok(cur)
}

// Helm logs with Go's `log.Lshortfile`, so each warning starts with the source position of the
// call in helm v3.17.2. The same prefixes keep our stderr identical to Helm's for whoever compares
// or greps it.
const CONDITION_WARNING_AT: &str = "dependencies.go:63";
const IMPORT_CHILD_WARNING_AT: &str = "dependencies.go:269";
const IMPORT_EXPORTS_WARNING_AT: &str = "dependencies.go:286";

/// Helm's `Values.PathValue`: a non-table value at a dotted path.
pub fn path_value(v: &Map, path: &str) -> Option<Value> {
    if path.is_empty() {
        return None;
    }
    let (parent, key) = match path.rsplit_once('.') {
        Some((p, k)) => (table(v, p)?, k),
        None => (v.clone(), path),
    };
    match get(&parent, key) {
        Some(Value::Map(_)) | None => None,
        Some(other) => Some(other),
    }
}

/// Helm's `processDependencyEnabled`: applies aliases, evaluates `condition` and `tags` against
/// the coalesced values, and drops disabled subcharts (recursively).
/// A condition that holds something other than a bool is skipped with a warning, as in Helm.
pub fn process_enabled(
    chart: &mut Chart,
    v: &Map,
    path: &str,
    warn: &mut dyn FnMut(String),
) -> Result<(), Error> {
    // Helm stops when Chart.yaml declares no dependencies (a nil list); an empty list is treated
    // the same here.
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let existing = std::mem::take(&mut chart.dependencies);
    let mut deps: Vec<Chart> = Vec::new();
    for ex in &existing {
        let declared = chart
            .metadata
            .dependencies
            .iter()
            .any(|req| ex.name() == req.name && is_compatible_range(&req.version, &ex.metadata.version));
        if !declared {
            deps.push(ex.clone());
        }
    }
    for req in &mut chart.metadata.dependencies {
        let found = existing
            .iter()
            .find(|c| c.name() == req.name && is_compatible_range(&req.version, &c.metadata.version));
        if let Some(c) = found {
            let mut out = c.clone();
            if !req.alias.is_empty() {
                out.metadata.name = req.alias.clone();
            }
            deps.push(out);
        }
        if !req.alias.is_empty() {
            req.name = req.alias.clone();
        }
    }
    chart.dependencies = deps;
    for req in &mut chart.metadata.dependencies {
        req.enabled = true;
    }

    let cvals = coalesce_values(chart, Some(v), false, warn)?;
    process_tags(chart, &cvals);
    process_conditions(chart, &cvals, path, warn);

    let removed: Vec<String> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|r| !r.enabled)
        .map(|r| r.name.clone())
        .collect();
    chart
        .dependencies
        .retain(|d| !removed.iter().any(|r| r == d.name()));
    chart.metadata.dependencies.retain(|r| !removed.contains(&r.name));
    for sub in &mut chart.dependencies {
        let subpath = format!("{path}{}.", sub.name());
        process_enabled(sub, &cvals, &subpath, warn)?;
    }
    Ok(())
}

fn process_tags(chart: &mut Chart, cvals: &Map) {
    let Some(tags) = table(cvals, "tags") else { return };
    for r in &mut chart.metadata.dependencies {
        let (mut has_true, mut has_false) = (false, false);
        for k in &r.tags {
            if let Some(Value::Bool(b)) = get(&tags, k) {
                if b {
                    has_true = true;
                } else {
                    has_false = true;
                }
            }
        }
        if !has_true && has_false {
            r.enabled = false;
        } else if has_true || !has_false {
            r.enabled = true;
        }
    }
}

fn process_conditions(chart: &mut Chart, cvals: &Map, path: &str, warn: &mut dyn FnMut(String)) {
    for r in &mut chart.metadata.dependencies {
        for c in r.condition.trim().split(',') {
            if c.is_empty() {
                continue;
            }
            // A path that holds nothing (or a table) is silently skipped; any other non-bool
            // value is skipped with Helm's warning.
            match path_value(cvals, &format!("{path}{c}")) {
                Some(Value::Bool(b)) => {
                    r.enabled = b;
                    break;
                }
                Some(_) => warn(format!(
                    "{CONDITION_WARNING_AT}: Warning: Condition path '{c}' for chart {} returned non-bool value",
                    r.name
                )),
                None => {}
            }
        }
    }
}

/// Helm's `processDependencyImportValues` (with `merge`, as `helm template`/`install` use it):
/// children first, then each chart's `import-values` copied into its own values. An entry whose
/// source is not a table in the child's values is skipped with Helm's warning.
pub fn process_import_values(chart: &mut Chart, warn: &mut dyn FnMut(String)) -> Result<(), Error> {
    for sub in &mut chart.dependencies {
        process_import_values(sub, warn)?;
    }
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let cvals = coalesce_values(chart, None, true, warn)?;
    let b = new_map();
    for r in &mut chart.metadata.dependencies {
        let mut normalized = Vec::new();
        for iv in &r.import_values {
            match iv {
                Value::Map(m) => {
                    // Helm formats both keys with `%v`, so a missing key reads `<nil>`.
                    let field =
                        |k: &str| gotemplate::sprig::convert::to_string(&get(m, k).unwrap_or(Value::Nil));
                    let child = field("child");
                    let parent = field("parent");
                    normalized.push(child_parent(&child, &parent));
                    let vv = match table_or_missing(&cvals, &format!("{}.{child}", r.name)) {
                        Ok(vv) => vv,
                        Err(e) => {
                            warn(format!(
                                "{IMPORT_CHILD_WARNING_AT}: Warning: ImportValues missing table from chart {}: {e}",
                                r.name
                            ));
                            continue;
                        }
                    };
                    coalesce_tables(&b, &path_to_map(&parent, as_map(vv)), "", true, warn);
                }
                Value::Str(s) => {
                    let child = format!("exports.{s}");
                    normalized.push(child_parent(&child, "."));
                    let vm = match table_or_missing(&cvals, &format!("{}.{child}", r.name)) {
                        Ok(vm) => vm,
                        Err(e) => {
                            warn(format!(
                                "{IMPORT_EXPORTS_WARNING_AT}: Warning: ImportValues missing table: {e}"
                            ));
                            continue;
                        }
                    };
                    coalesce_tables(&b, &as_map(vm), "", true, warn);
                }
                _ => {}
            }
        }
        r.import_values = normalized;
    }
    let cvals = deep_copy_map(&cvals);
    coalesce_tables(&cvals, &b, "", true, warn);
    chart.values = Value::Map(cvals);
    Ok(())
}

/// Helm's `Values.AsMap`: an empty table is replaced by a fresh one (so it is not shared).
fn as_map(m: Map) -> Map {
    if m.borrow().is_empty() {
        new_map()
    } else {
        m
    }
}

fn child_parent(child: &str, parent: &str) -> Value {
    let mut m = BTreeMap::new();
    m.insert("child".to_string(), Value::str(child));
    m.insert("parent".to_string(), Value::str(parent));
    Value::map_from(m)
}

/// Helm's `pathToMap`: `a.b` and a table become `{a: {b: table}}`; `.` is the table itself.
fn path_to_map(path: &str, data: Map) -> Map {
    if path == "." {
        return data;
    }
    let mut cur = data;
    for part in path.split('.').rev() {
        let m = new_map();
        m.borrow_mut().insert(part.to_string(), Value::Map(cur));
        cur = m;
    }
    cur
}
