//! Helm's `chartutil.Values`: the named map type a chart's `.Values` (and `.Template`) is.
//!
//! Being a named map type is visible to templates (helm v3.17 `pkg/chartutil/values.go`):
//! - it has methods, looked up before map keys: `.Values.YAML`, `.Values.AsMap`,
//!   `.Values.Table "a.b"`, `.Values.PathValue "a.b.c"` (and `Encode`, which needs an
//!   `io.Writer` no template has);
//! - otherwise it is its map: `.Values.x`, `index`, `range`, `len`, and every Sprig function that
//!   takes a `map[string]interface{}` (Go assigns a named map to such a parameter), sharing the
//!   same underlying map, so `set .Values "k" v` is seen by every holder;
//! - functions that take `interface{}` see the named type: `typeOf` says `chartutil.Values`, and
//!   Sprig's `dig`, which asserts `map[string]interface {}`, refuses it.
//!
//! Only the scope itself, its own `.Values` and `.Template` are one: the maps inside are plain maps (and
//! `.Subcharts` lists the subcharts' scopes as plain maps), as are maps a
//! template builds with `dict`, `merge` and friends.

use std::rc::Rc;

use gotemplate::{gofmt, Map, Object, Value};

/// A `chartutil.Values` over a shared map.
#[derive(Debug, Clone)]
pub struct Values(Map);

impl Values {
    /// Wraps `v` as a `chartutil.Values`: a map keeps its identity; anything else (a chart with no
    /// values) becomes an empty one, as Helm's `make(chartutil.Values)`.
    pub fn value(v: &Value) -> Value {
        let map = match v {
            Value::Map(m) => m.clone(),
            Value::Object(o) => match o.as_map() {
                Some(m) => m.clone(),
                None => return v.clone(),
            },
            _ => Rc::default(),
        };
        Value::Object(Rc::new(Values(map)))
    }

    /// `Table`: the sub-map at a dotted path, as another `Values` over the same map.
    fn table(&self, path: &str) -> Result<Map, String> {
        let mut cur = self.0.clone();
        for key in path.split('.') {
            let next = match cur.borrow().get(key) {
                Some(Value::Map(m)) => m.clone(),
                Some(Value::Object(o)) if o.type_name() == "chartutil.Values" => {
                    o.as_map().cloned().unwrap_or_default()
                }
                _ => return Err(format!("{} is not a table", gofmt::quote(key))),
            };
            cur = next;
        }
        Ok(cur)
    }

    /// `PathValue`: the non-table value at a dotted path.
    fn path_value(&self, path: &str) -> Result<Value, String> {
        if path.is_empty() {
            return Err("YAML path cannot be empty".to_string());
        }
        let not_value = |key: &str| format!("{} is not a value", gofmt::quote(key));
        let (table, key) = match path.rsplit_once('.') {
            Some((table, key)) => (self.table(table).map_err(|_| not_value(key))?, key),
            None => (self.0.clone(), path),
        };
        let found = table.borrow().get(key).cloned();
        match found {
            Some(Value::Map(_)) | None => Err(not_value(key)),
            Some(v) => Ok(v),
        }
    }
}

/// One string argument of a method, with Go's errors for the wrong count or type.
fn one_string<'a>(method: &str, args: &'a [Value]) -> Result<&'a str, String> {
    match args {
        [Value::Str(s)] => Ok(s),
        [other] => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
        _ => Err(format!(
            "wrong number of args for {method}: want 1 got {}",
            args.len()
        )),
    }
}

fn no_args(method: &str, args: &[Value]) -> Result<(), String> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {method}: want 0 got {}",
            args.len()
        ))
    }
}

impl Object for Values {
    fn type_name(&self) -> &str {
        "chartutil.Values"
    }
    fn kind_name(&self) -> &str {
        "map"
    }
    fn field(&self, name: &str) -> Option<Value> {
        match self.method(name, &[]) {
            Some(Ok(v)) => Some(v),
            Some(Err(_)) => None,
            None => self.0.borrow().get(name).cloned(),
        }
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        Some(match name {
            // sigs.k8s.io/yaml's Marshal, which keeps the final newline `toYaml` trims.
            "YAML" => no_args(name, args)
                .map(|()| Value::str(crate::yaml::to_yaml(&Value::Map(self.0.clone())) + "\n")),
            // The map itself; an empty one is replaced by a fresh map (Helm guards nil maps).
            "AsMap" => no_args(name, args).map(|()| {
                if self.0.borrow().is_empty() {
                    Value::new_map()
                } else {
                    Value::Map(self.0.clone())
                }
            }),
            "Table" => one_string(name, args)
                .and_then(|path| self.table(path))
                .map(|m| Value::Object(Rc::new(Values(m)))),
            "PathValue" => one_string(name, args).and_then(|path| self.path_value(path)),
            "Encode" => match args {
                [v] => Err(format!(
                    "wrong type for value; expected io.Writer; got {}",
                    v.type_name()
                )),
                _ => Err(format!(
                    "wrong number of args for Encode: want 1 got {}",
                    args.len()
                )),
            },
            _ => return None,
        })
    }
    fn go_string(&self) -> String {
        gofmt::format_v(&Value::Map(self.0.clone()))
    }
    fn to_plain(&self) -> Option<Value> {
        Some(Value::Map(self.0.clone()))
    }
    fn as_map(&self) -> Option<&Map> {
        Some(&self.0)
    }
    fn fields(&self) -> Vec<(String, Value)> {
        self.0
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn values(yaml: &str) -> Values {
        let v = crate::yaml::parse_any(yaml, "").unwrap_or_else(|e| panic!("{}", e.message));
        match Values::value(&v) {
            Value::Object(_) => Values(v.as_map().cloned().unwrap_or_default()),
            other => panic!("not wrapped: {other:?}"),
        }
    }

    #[test]
    fn methods_as_helm_defines_them() {
        let v = values("a: {b: {c: 1}}\nnum: 2\n");
        let cases: &[(&str, &[&str], Result<&str, &str>)] = &[
            ("PathValue", &["a.b.c"], Ok("1")),
            ("PathValue", &["num"], Ok("2")),
            ("PathValue", &["a.b"], Err(r#""b" is not a value"#)),
            ("PathValue", &["a.x.c"], Err(r#""c" is not a value"#)),
            ("PathValue", &[""], Err("YAML path cannot be empty")),
            ("Table", &["a.b"], Ok("map[c:1]")),
            ("Table", &["a.b.c"], Err(r#""c" is not a table"#)),
            ("Table", &[""], Err(r#""" is not a table"#)),
            ("Table", &[], Err("wrong number of args for Table: want 1 got 0")),
            ("YAML", &[], Ok("a:\n  b:\n    c: 1\nnum: 2\n")),
            ("AsMap", &[], Ok("map[a:map[b:map[c:1]] num:2]")),
            (
                "Encode",
                &[],
                Err("wrong number of args for Encode: want 1 got 0"),
            ),
        ];
        for (method, args, want) in cases {
            let args: Vec<Value> = args.iter().map(|s| Value::str(*s)).collect();
            let got = v
                .method(method, &args)
                .unwrap_or_else(|| panic!("{method} missing"))
                .map(|x| match x {
                    Value::Str(s) => s.to_string(),
                    other => gofmt::format_v(&other),
                });
            let want = want.map(str::to_string).map_err(str::to_string);
            assert_eq!(got, want, "{method} {args:?}");
        }
    }

    #[test]
    fn table_shares_the_map_and_as_map_of_empty_is_fresh() {
        let v = values("a: {b: 1}\n");
        let Ok(Value::Object(t)) = v
            .method("Table", &[Value::str("a")])
            .unwrap_or(Err(String::new()))
        else {
            panic!("Table a");
        };
        let sub = t.as_map().cloned().unwrap_or_default();
        sub.borrow_mut().insert("z".into(), Value::Int(3));
        assert_eq!(v.path_value("a.z"), Ok(Value::Int(3)));

        let empty = Values(Rc::new(std::cell::RefCell::new(BTreeMap::new())));
        let Some(Ok(Value::Map(m))) = empty.method("AsMap", &[]) else {
            panic!("AsMap");
        };
        assert!(!Rc::ptr_eq(&m, &empty.0), "an empty Values gives a new map");
    }

    #[test]
    fn keys_read_through_field_but_methods_win() {
        let v = values("x: 1\nYAML: 2\n");
        assert!(v.field("x").is_some());
        assert_eq!(v.field("x"), v.0.borrow().get("x").cloned());
        assert!(
            matches!(v.field("YAML"), Some(Value::Str(_))),
            "the method shadows the key"
        );
        assert_eq!(v.field("missing"), None);
    }
}
