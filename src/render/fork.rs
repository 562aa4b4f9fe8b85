//! Rendering the later templates on a second core, with an engine of their own.
//!
//! The engine's values are `Rc`, so one engine cannot be shared by two threads. Instead the
//! caller builds a second, identical engine on another thread (same chart, same values: loading
//! and resolving are deterministic) and it renders the templates after a split point
//! ([`render_suffix`]) while the first renders those before it. The second engine starts from the
//! state before any template ran, which is the state sequential rendering has at the split point
//! unless a template before it changed something a later one can see. The only such changes a
//! template can make are to maps that existed before rendering (the values, scopes and their
//! `.Subcharts`), through `set`, `unset` and the `merge` family; [`Watch`] wraps those functions
//! and records a call on such a map. When one happens before the split, the second engine's
//! output is thrown away and the first renders the rest itself, so output, and the first error,
//! are always those of one engine rendering in Helm's order.

use std::{
    cell::{Cell, RefCell},
    collections::{BTreeMap, HashSet},
    rc::Rc,
    sync::atomic::{AtomicBool, Ordering},
};

use crate::gotemplate::{Func, FuncMap, Value};

/// User values in a form that can cross threads: plain data only (what value files and `--set*`
/// produce). Rebuilt into a [`Value`] on the other thread.
#[derive(Debug, Clone, PartialEq)]
pub enum SendValue {
    Nil,
    Bool(bool),
    Int(i64),
    Int64(i64),
    Float(f64),
    Str(String),
    List(Vec<SendValue>),
    Map(BTreeMap<String, SendValue>),
}

impl SendValue {
    /// `None` when `v` holds anything but plain data (then rendering stays on one thread).
    pub fn from_value(v: &Value) -> Option<SendValue> {
        Some(match v {
            Value::Nil => SendValue::Nil,
            Value::Bool(b) => SendValue::Bool(*b),
            Value::Int(i) => SendValue::Int(*i),
            Value::Int64(i) => SendValue::Int64(*i),
            Value::Float(f) => SendValue::Float(*f),
            Value::Str(s) => SendValue::Str(s.to_string()),
            Value::List(l) => SendValue::List(l.iter().map(SendValue::from_value).collect::<Option<_>>()?),
            Value::Map(m) => SendValue::Map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| Some((k.clone(), SendValue::from_value(v)?)))
                    .collect::<Option<_>>()?,
            ),
            _ => return None,
        })
    }

    /// The value again, with fresh maps and lists of its own.
    pub fn to_value(&self) -> Value {
        match self {
            SendValue::Nil => Value::Nil,
            SendValue::Bool(b) => Value::Bool(*b),
            SendValue::Int(i) => Value::Int(*i),
            SendValue::Int64(i) => Value::Int64(*i),
            SendValue::Float(f) => Value::Float(*f),
            SendValue::Str(s) => Value::str(s.as_str()),
            SendValue::List(l) => Value::list(l.iter().map(SendValue::to_value).collect()),
            SendValue::Map(m) => Value::map_from(m.iter().map(|(k, v)| (k.clone(), v.to_value())).collect()),
        }
    }
}

/// What the second engine rendered: the templates from `first` on, in render order.
#[derive(Debug)]
pub struct Suffix {
    /// The first template it rendered; the first engine checks it split at the same place.
    pub(super) first: Option<String>,
    /// Each file as the sink would have had it, or the first error, and the top chart's notes.
    pub(super) result: Result<(Vec<(String, String)>, Option<String>), super::Error>,
}

/// Where the second engine takes over: about half of the renderable templates' source bytes
/// (output size follows source size closely enough, and both engines compute the same point).
pub(super) fn split_point(sizes: &[usize]) -> usize {
    let total: usize = sizes.iter().sum();
    let mut sum = 0;
    for (i, s) in sizes.iter().enumerate() {
        if sum * 2 >= total {
            return i;
        }
        sum += s;
    }
    sizes.len()
}

/// Maps that existed before rendering, and whether a template has changed one of them.
#[derive(Default)]
pub(super) struct Watch {
    known: RefCell<HashSet<usize>>,
    touched: Cell<bool>,
}

fn map_id(v: &Value) -> Option<usize> {
    match v {
        Value::Map(m) => Some(Rc::as_ptr(m) as *const () as usize),
        Value::Object(o) => o.as_map().map(|m| Rc::as_ptr(m) as *const () as usize),
        _ => None,
    }
}

impl Watch {
    /// Records every map reachable from `v` as existing before rendering.
    pub(super) fn learn(&self, v: &Value) {
        match v {
            Value::List(l) => l.iter().for_each(|i| self.learn(i)),
            Value::Map(m) => {
                if self
                    .known
                    .borrow_mut()
                    .insert(Rc::as_ptr(m) as *const () as usize)
                {
                    m.borrow().values().for_each(|i| self.learn(i));
                }
            }
            Value::Object(o) => match o.as_map() {
                Some(m) => self.learn(&Value::Map(m.clone())),
                // Structs (`.Chart`, `.Capabilities`) may hold maps a template could change.
                None => o.fields().iter().for_each(|(_, f)| self.learn(f)),
            },
            _ => {}
        }
    }

    /// Whether a template changed (or may have changed) a map that existed before rendering.
    pub(super) fn touched(&self) -> bool {
        self.touched.get()
    }

    /// A mutating function got `v` as its target: `deep` when it also changes maps inside it.
    fn target(&self, v: &Value, deep: bool) {
        if self.touched.get() {
            return;
        }
        if map_id(v).is_some_and(|id| self.known.borrow().contains(&id)) {
            self.touched.set(true);
            return;
        }
        if deep {
            let inner: Vec<Value> = match v {
                Value::Map(m) => m.borrow().values().cloned().collect(),
                Value::Object(o) => o
                    .as_map()
                    .map(|m| m.borrow().values().cloned().collect())
                    .unwrap_or_default(),
                Value::List(l) => l.iter().cloned().collect(),
                _ => Vec::new(),
            };
            inner.iter().for_each(|i| self.target(i, true));
        }
    }
}

/// The template functions that change a map in place (Sprig's `set`, `unset` and the `merge`
/// family, which also merges into the maps inside its target).
const MUTATORS: &[(&str, bool)] = &[
    ("set", false),
    ("unset", false),
    ("merge", true),
    ("mustMerge", true),
    ("mergeOverwrite", true),
    ("mustMergeOverwrite", true),
];

/// Wraps the mutating functions of `funcs` so each reports its target to `watch` first.
pub(super) fn watch_mutations(funcs: &mut FuncMap, watch: &Rc<Watch>) {
    for &(name, deep) in MUTATORS {
        let Some(f) = funcs.get(name).cloned() else {
            continue;
        };
        let watch = watch.clone();
        funcs.insert_ctx(name, move |call, a| {
            if let Some(target) = a.first() {
                watch.target(target, deep);
            }
            match &f {
                Func::Simple(f) => f(a),
                Func::Ctx(f) => f(call, a),
            }
        });
    }
}

/// Tells the second engine to stop early: its work will not be used.
pub(super) fn cancelled(flag: Option<&AtomicBool>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_halves_the_bytes() {
        let cases: &[(&str, &[usize], usize)] = &[
            ("empty", &[], 0),
            ("one", &[10], 1),
            ("two equal", &[10, 10], 1),
            ("big first", &[100, 1, 1], 1),
            ("big last", &[1, 1, 100], 2),
            ("even", &[5, 5, 5, 5], 2),
        ];
        for (name, sizes, want) in cases {
            assert_eq!(split_point(sizes), *want, "{name}");
        }
    }

    #[test]
    fn send_value_round_trip_keeps_types() {
        let v = Value::map_from(BTreeMap::from([
            ("i".to_string(), Value::Int(1)),
            ("i64".to_string(), Value::Int64(2)),
            ("f".to_string(), Value::Float(1.5)),
            ("s".to_string(), Value::str("x")),
            ("l".to_string(), Value::list(vec![Value::Nil, Value::Bool(true)])),
        ]));
        let back = SendValue::from_value(&v).expect("plain data").to_value();
        assert_eq!(back, v);
        assert!(
            SendValue::from_value(&Value::Bytes(Rc::from(&b"x"[..]))).is_none(),
            "bytes are not values files' data"
        );
    }

    #[test]
    fn watch_sees_only_maps_that_existed() {
        let inner = Value::new_map();
        let values = Value::map_from(BTreeMap::from([("a".to_string(), inner.clone())]));
        let fresh_holding_old = Value::map_from(BTreeMap::from([("x".to_string(), inner.clone())]));
        let cases: Vec<(&str, Value, bool, bool)> = vec![
            ("new map", Value::new_map(), false, false),
            ("values", values.clone(), false, true),
            ("nested existing map", inner.clone(), false, true),
            (
                "new map holding an old one, shallow",
                fresh_holding_old.clone(),
                false,
                false,
            ),
            ("new map holding an old one, deep", fresh_holding_old, true, true),
        ];
        for (name, target, deep, want) in cases {
            let w = Watch::default();
            w.learn(&values);
            w.target(&target, deep);
            assert_eq!(w.touched(), want, "{name}");
        }
    }
}
