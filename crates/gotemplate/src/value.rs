//! The dynamic value every template sees: Go's `interface{}` as Helm fills it.
//!
//! Go templates run over `map[string]interface{}` trees decoded from YAML/JSON, plus a few structs
//! (`.Chart`, `.Capabilities`, `.Files`). This enum mirrors exactly the Go types those trees hold,
//! because output depends on the type: `1` (int) and `1.0` (float64) print differently, `eq` refuses
//! to compare them, and `kindOf` names them.
//!
//! Maps have *reference* semantics, like Go maps: Sprig's `set`, `unset` and `merge` mutate them in
//! place and every holder sees the change (charts rely on `$_ := set $ctx "key" v`). Lists are immutable
//! (Sprig's list functions all return new slices).

use std::{cell::RefCell, collections::BTreeMap, fmt, rc::Rc};

/// A Go map (`map[string]interface{}`): shared, mutable, iterated in sorted key order (as
/// text/template's `range` and encoding/json do).
pub type Map = Rc<RefCell<BTreeMap<String, Value>>>;

/// A template value.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's untyped `nil` (also what a missing map key yields).
    #[default]
    Nil,
    /// `bool`
    Bool(bool),
    /// Go `int` (template literals, `len`, `int`, `atoi`, `until`...).
    Int(i64),
    /// Go `int64` (`--set` integers, Sprig's `int64`, `add`, `sub`, `mul`, `div`, `mod`, `max`,
    /// `min`, `add1`, `toDecimal`, `fromToml`, `time.Time.Unix`).
    ///
    /// A separate variant rather than a kind flag on `Int`: both hold the same 64-bit value (Go's
    /// `int` is 64 bits wide on every platform Helm ships for), so they differ only in the type name
    /// `typeOf`, `kindOf` and `%T` print and in which `int` parameters refuse them. A variant costs
    /// nothing on the common `int` path (no flag to carry or test), and readers that do not care
    /// which one they got use [`Value::as_int`].
    Int64(i64),
    /// Go `uint64`: the `.Major`, `.Minor` and `.Patch` of a `semver` version. It compares with
    /// `int`s by value (`eq .Major 1`), as Go's `eq`/`lt` do across int and uint kinds, but
    /// `typeOf` names it, an `int` parameter refuses it, `deepEqual` with an `int` is false, and
    /// `%#v` prints it in hex, as in Go.
    Uint64(u64),
    /// Go `float64` (every number Helm decodes from YAML or JSON values).
    Float(f64),
    /// Go `string`.
    Str(Rc<str>),
    /// A Go `string` holding bytes that are not valid UTF-8 (`"/w==" | b64dec`, a string sliced
    /// mid-rune). Go strings are byte strings; ours are `str` on the fast path, and only a
    /// producer that can make invalid UTF-8 builds one of these, through [`Value::from_go_bytes`],
    /// which keeps valid text a `Str`. It prints, measures, compares, hashes and re-encodes by its
    /// bytes, as Go does; a reader that wants text ([`Value::as_str`], so every Sprig function
    /// taking a `string`) gets it with U+FFFD for each bad byte, as Go's rune-wise functions see it.
    BStr(Rc<ByteStr>),
    /// Go `[]byte` (`.Files.GetBytes`).
    Bytes(Rc<[u8]>),
    /// Go `[]interface{}`.
    List(Rc<Vec<Value>>),
    /// Go `map[string]interface{}`.
    Map(Map),
    /// A Go struct or named type with fields and methods (`.Chart`, `.Files`, `.Capabilities`...).
    Object(Rc<dyn Object>),
}

/// The bytes of a Go string that is not valid UTF-8, with the text a `str` reader sees. Both are
/// kept because such values are rare and short (a decoded key, a string cut mid-character), while
/// handing out `&str` lets every string function accept them without a second code path.
#[derive(PartialEq)]
pub struct ByteStr {
    bytes: Box<[u8]>,
    text: String,
}

impl ByteStr {
    /// The text, with U+FFFD for each byte that is not UTF-8.
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl std::ops::Deref for ByteStr {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

/// A Go slice of one concrete element type (`[]int`), as opposed to the `[]interface{}` of
/// [`Value::List`]: the two print and range alike but differ in `typeOf`, `deepEqual` and in
/// which parameters accept them, so a function that returns one in Go returns this.
pub struct TypedList {
    type_name: Rc<str>,
    items: Rc<Vec<Value>>,
    /// Go's nil slice of this type: prints and ranges as an empty one, marshals as `null`.
    nil: bool,
}

impl Object for TypedList {
    fn type_name(&self) -> &str {
        &self.type_name
    }
    fn kind_name(&self) -> &str {
        "slice"
    }
    fn field(&self, _name: &str) -> Option<Value> {
        None
    }
    fn go_string(&self) -> String {
        super::gofmt::format_v(&Value::List(self.items.clone()))
    }
    fn to_plain(&self) -> Option<Value> {
        Some(match self.nil {
            true => Value::Nil,
            false => Value::List(self.items.clone()),
        })
    }
    fn as_list(&self) -> Option<&Rc<Vec<Value>>> {
        Some(&self.items)
    }
    fn is_nil(&self) -> bool {
        self.nil
    }
}

/// A Go map with string keys whose values are of one concrete type (Sprig's `split` returns a
/// `map[string]string`), as opposed to the `map[string]interface{}` of [`Value::Map`]: the two
/// print, index, range and read fields alike, but `typeOf`, `%#v` and `deepEqual` tell them apart
/// and a `map[string]interface{}` parameter refuses this one, as Go does.
pub struct TypedMap {
    type_name: Rc<str>,
    map: Map,
    /// Go's nil map of this type: prints, indexes and ranges as an empty one, marshals as `null`.
    nil: bool,
}

impl Object for TypedMap {
    fn type_name(&self) -> &str {
        &self.type_name
    }
    fn kind_name(&self) -> &str {
        "map"
    }
    fn field(&self, name: &str) -> Option<Value> {
        self.map.borrow().get(name).cloned()
    }
    fn go_string(&self) -> String {
        super::gofmt::format_v(&Value::Map(self.map.clone()))
    }
    fn to_plain(&self) -> Option<Value> {
        Some(match self.nil {
            true => Value::Nil,
            false => Value::Map(self.map.clone()),
        })
    }
    fn is_nil(&self) -> bool {
        self.nil
    }
    fn as_map(&self) -> Option<&Map> {
        Some(&self.map)
    }
}

/// A Go struct or named type exposed to templates.
pub trait Object {
    /// The Go type name used in error messages and by `typeOf`, e.g. `*chart.Metadata`.
    fn type_name(&self) -> &str;
    /// The `reflect.Kind` name used by `kindOf`/`kindIs`, e.g. `ptr`, `struct`, `slice`.
    fn kind_name(&self) -> &str {
        "ptr"
    }
    /// A field or a method called with no arguments; `None` if the type has no such member.
    fn field(&self, name: &str) -> Option<Value>;
    /// A method called with arguments; `None` if there is no such method.
    fn method(&self, _name: &str, _args: &[Value]) -> Option<Result<Value, String>> {
        None
    }
    /// The Go parameters of method `name`, when declared: the executor then checks its
    /// arguments before the call, as for a function with a [`super::Signature`].
    fn method_signature(&self, _name: &str) -> Option<super::Signature> {
        None
    }
    /// How `fmt` prints it with `%v` (Go calls `String()` when the type has one).
    fn go_string(&self) -> String;
    /// The value `toYaml`/`toJson` serialise (Go marshals exported fields); `None` for `{}`.
    fn to_plain(&self) -> Option<Value> {
        None
    }
    /// A struct's fields as encoding/json writes them: in declaration order, under their json
    /// names (`toJson` keeps this order where a map's keys would be sorted); `None` to marshal
    /// [`Object::to_plain`].
    fn json_fields(&self) -> Option<Vec<(String, Value)>> {
        None
    }
    /// What text/template prints for the value when it comes straight from a field and its type
    /// has a `String()` method with a pointer receiver (Go takes the field's address to call it);
    /// `None` prints [`Object::go_string`], as `fmt` does for a copy.
    fn field_string(&self) -> Option<String> {
        None
    }
    /// For a Go named map type (Helm's `chartutil.Values`), the map it is: such a value indexes,
    /// ranges, has a length, is truthy when not empty and is accepted by functions taking a map,
    /// like its map; a field name that is not one of its methods reads the key.
    fn as_map(&self) -> Option<&Map> {
        None
    }
    /// For a Go slice whose element type is not `interface{}` (Sprig's `until` returns `[]int`),
    /// its elements: such a value prints, indexes, slices, ranges, has a length and is truthy
    /// like a list, while `typeOf` names its own type and a `[]interface{}` parameter refuses it.
    fn as_list(&self) -> Option<&Rc<Vec<Value>>> {
        None
    }
    /// Fields by their Go names, for template languages that see data rather than call methods
    /// (handlebars); empty when the type has none to show.
    fn fields(&self) -> Vec<(String, Value)> {
        Vec::new()
    }
    /// The real and imaginary parts when this is a Go `complex128` (a template literal such as
    /// `1+2i`): `eq` compares those by value and `if` tests them against zero.
    fn as_complex(&self) -> Option<(f64, f64)> {
        None
    }
    /// For a map or slice type that holds its entries otherwise (Helm's `.Files`, path to
    /// `[]byte`; `chartutil.VersionSet`): how many, so `len`, `if` and `empty` need not build
    /// [`Object::to_plain`].
    fn go_len(&self) -> Option<usize> {
        None
    }
    /// For such a map type, `index`'s answer for `key`: the entry, or the element type's zero
    /// value when there is none (`index .Files "missing"` is an empty `[]byte`).
    fn map_index(&self, _key: &str) -> Option<Value> {
        None
    }
    /// Whether field `name` embeds a struct whose fields are promoted to this one (Go's
    /// `struct { chart.Metadata; IsRoot bool }`): readers that flatten a struct into data
    /// (handlebars) merge them.
    fn is_embedded(&self, _field: &str) -> bool {
        false
    }
    /// Whether Go's `==` is defined on its type: `eq` refuses the others (`.Files`,
    /// `.Capabilities.APIVersions`). Maps and slices are not comparable; pointers are, and so are
    /// structs unless a field is not ([`Value::go_comparable`]).
    fn comparable(&self) -> bool {
        !matches!(self.kind_name(), "map" | "slice" | "func")
    }
    /// Whether it is Go's nil of its type (a nil slice or map): `eq` compares such a value as
    /// nil, before asking whether its type is comparable.
    fn is_nil(&self) -> bool {
        false
    }
    /// Go's `==` with a value of the same comparable type: by default pointer identity, as for
    /// Go's pointers; a struct compares its fields.
    fn go_eq(&self, other: &dyn Object) -> bool {
        std::ptr::addr_eq(self as *const Self, other as *const dyn Object)
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Int64(i) => write!(f, "{i}i64"),
            Value::Uint64(u) => write!(f, "{u}u64"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::BStr(b) => write!(f, "bstr{:?}", &b[..]),
            Value::Bytes(b) => write!(f, "bytes{:?}", &b[..]),
            Value::List(l) => f.debug_list().entries(l.iter()).finish(),
            Value::Map(m) => f.debug_map().entries(m.borrow().iter()).finish(),
            Value::Object(o) => write!(f, "<{}>", o.type_name()),
        }
    }
}

impl PartialEq for Value {
    /// Deep equality (Sprig's `deepEqual`, tests). Int, Int64 and Float are different types, as
    /// in Go's `reflect.DeepEqual`.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) | (Value::Int64(a), Value::Int64(b)) => a == b,
            (Value::Uint64(a), Value::Uint64(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::BStr(a), Value::BStr(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => Rc::ptr_eq(a, b) || *a.borrow() == *b.borrow(),
            // Go's reflect.DeepEqual compares slices of one type element by element.
            (Value::Object(a), Value::Object(b)) => {
                Rc::ptr_eq(a, b)
                    || matches!((a.as_list(), b.as_list()), (Some(x), Some(y))
                        if a.type_name() == b.type_name() && x == y)
                    || matches!((a.as_map(), b.as_map()), (Some(x), Some(y))
                        if a.type_name() == b.type_name() && *x.borrow() == *y.borrow())
            }
            _ => false,
        }
    }
}

impl Value {
    /// A new string value.
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    /// A new, empty map.
    pub fn new_map() -> Value {
        Value::Map(Rc::new(RefCell::new(BTreeMap::new())))
    }

    /// A map value from entries.
    pub fn map_from(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Rc::new(RefCell::new(entries)))
    }

    /// A map value from `(key, value)` pairs (of a key given twice, the last value).
    pub fn map_of<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::map_from(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// A Go slice of a concrete element type, named as `typeOf` prints it (`[]int`); see
    /// [`TypedList`].
    pub fn typed_list(type_name: impl Into<Rc<str>>, items: Vec<Value>) -> Value {
        Value::Object(Rc::new(TypedList {
            type_name: type_name.into(),
            items: Rc::new(items),
            nil: false,
        }))
    }

    /// [`Value::typed_list`] of `items`, or Go's nil slice of that type when there are none (a
    /// struct field never set: `typeOf` names the type, `len` is 0, `toJson` is `null`).
    pub fn typed_list_or_nil(type_name: impl Into<Rc<str>>, items: Vec<Value>) -> Value {
        Value::Object(Rc::new(TypedList {
            type_name: type_name.into(),
            nil: items.is_empty(),
            items: Rc::new(items),
        }))
    }

    /// A Go map with string keys of a concrete value type, named as `typeOf` prints it
    /// (`map[string]string`); see [`TypedMap`].
    pub fn typed_map(type_name: impl Into<Rc<str>>, items: BTreeMap<String, Value>) -> Value {
        Value::Object(Rc::new(TypedMap {
            type_name: type_name.into(),
            map: Rc::new(RefCell::new(items)),
            nil: false,
        }))
    }

    /// [`Value::typed_map`] of `items`, or Go's nil map of that type when there are none.
    pub fn typed_map_or_nil(type_name: impl Into<Rc<str>>, items: BTreeMap<String, Value>) -> Value {
        Value::Object(Rc::new(TypedMap {
            type_name: type_name.into(),
            nil: items.is_empty(),
            map: Rc::new(RefCell::new(items)),
        }))
    }

    /// Go's truth: false, 0, nil, and empty strings, slices and maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Uint64(u) => *u != 0,
            Value::Float(x) => *x != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::BStr(b) => !b.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::Object(o) => match (o.as_map(), o.as_complex(), o.as_list()) {
                (Some(m), _, _) => !m.borrow().is_empty(),
                (_, Some((re, im)), _) => re != 0.0 || im != 0.0,
                (_, _, Some(l)) => !l.is_empty(),
                _ => o.go_len() != Some(0),
            },
        }
    }

    /// A Go string from bytes: a `Str` when they are valid UTF-8 (always, in practice), else a
    /// [`Value::BStr`] that keeps them.
    pub fn from_go_slice(b: &[u8]) -> Value {
        match std::str::from_utf8(b) {
            // One copy, straight into the shared string (through a `Vec` it would be two).
            Ok(s) => Value::str(s),
            Err(_) => Value::from_go_bytes(b.to_vec()),
        }
    }

    /// [`Value::from_go_slice`] of bytes already owned: their buffer when they are not UTF-8.
    pub fn from_go_bytes(b: Vec<u8>) -> Value {
        match String::from_utf8(b) {
            Ok(s) => Value::str(s),
            Err(e) => {
                let bytes = e.into_bytes().into_boxed_slice();
                let text = Value::go_lossy(&bytes);
                Value::BStr(Rc::new(ByteStr { bytes, text }))
            }
        }
    }

    /// Text for bytes that may not be UTF-8, with U+FFFD for each invalid byte, as Go's `range`
    /// over a string and encoding/json see them (Rust's lossy conversion would merge a run of
    /// bad bytes into one U+FFFD).
    pub fn go_lossy(b: &[u8]) -> String {
        let mut out = String::with_capacity(b.len());
        for chunk in b.utf8_chunks() {
            out.push_str(chunk.valid());
            out.extend(chunk.invalid().iter().map(|_| char::REPLACEMENT_CHARACTER));
        }
        out
    }

    /// The bytes of a Go string (valid UTF-8 or not); `None` for anything else.
    pub fn go_str_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s.as_bytes()),
            Value::BStr(b) => Some(&b.bytes),
            _ => None,
        }
    }

    /// The string inside, if this is a string (one that is not UTF-8 reads with U+FFFD).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::BStr(b) => Some(b.text()),
            _ => None,
        }
    }

    /// The integer inside, if this is a Go `int` or `int64` (for readers that accept any integer
    /// kind, as Go's `reflect.Value.Int` does).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) | Value::Int64(i) => Some(*i),
            _ => None,
        }
    }

    /// The number inside, if this is of one of Go's integer kinds (`int`, `int64`, `uint64`):
    /// `eq` and `lt` compare those by value across kinds.
    pub fn as_wide_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) | Value::Int64(i) => Some(i128::from(*i)),
            Value::Uint64(u) => Some(i128::from(*u)),
            _ => None,
        }
    }

    /// The map inside, if this is a map.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Go's `reflect.Kind` name, as Sprig's `kindOf` prints it.
    pub fn kind_name(&self) -> &str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Uint64(_) => "uint64",
            Value::Float(_) => "float64",
            Value::Str(_) | Value::BStr(_) => "string",
            Value::Bytes(_) | Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => o.kind_name(),
        }
    }

    /// Whether Go's `==` is defined on the value's type (maps and slices have none).
    pub fn go_comparable(&self) -> bool {
        match self {
            Value::Bytes(_) | Value::List(_) | Value::Map(_) => false,
            Value::Object(o) => o.comparable(),
            _ => true,
        }
    }

    /// Whether the value is Go's nil: untyped, or a nil slice or map of some type.
    pub fn go_is_nil(&self) -> bool {
        match self {
            Value::Nil => true,
            Value::Object(o) => o.is_nil(),
            _ => false,
        }
    }

    /// Go's `==` on two interface values whose types are comparable ([`Value::go_comparable`]):
    /// false across types, else equal values (pointers by identity, structs field by field).
    pub fn go_identical(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Object(x), Value::Object(y)) => x.type_name() == y.type_name() && x.go_eq(&**y),
            (Value::Object(_), _) | (_, Value::Object(_)) => false,
            _ => self.type_name() == other.type_name() && self == other,
        }
    }

    /// Go's type name, as Sprig's `typeOf` prints it (`%T`).
    pub fn type_name(&self) -> &str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Uint64(_) => "uint64",
            Value::Float(_) => "float64",
            Value::Str(_) | Value::BStr(_) => "string",
            Value::Bytes(_) => "[]uint8",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Object(o) => o.type_name(),
        }
    }

    /// Whether the value reaches a map that holds it (`set $d "a" $d`). Go's printers and
    /// copiers recurse forever on such a value and crash; ours ask first and return an error.
    /// An iterative walk, each map and list visited once, so shared (not cyclic) parts and
    /// values nested tens of thousands deep cost one pass.
    pub fn has_cycle(&self) -> bool {
        use std::collections::HashSet;
        fn container(v: &Value) -> Option<(*const (), Option<Map>)> {
            match v {
                Value::Map(m) => Some((Rc::as_ptr(m).cast(), Some(m.clone()))),
                Value::List(l) => Some((Rc::as_ptr(l).cast(), None)),
                Value::Object(o) => o.as_map().map(|m| (Rc::as_ptr(m).cast(), Some(m.clone()))),
                _ => None,
            }
        }
        // Scalars (most arguments of print and printf) cannot hold anything: no walk.
        if container(self).is_none() {
            return false;
        }
        let mut on_path: HashSet<*const ()> = HashSet::new();
        let mut done: HashSet<*const ()> = HashSet::new();
        // (value, leaving): a container is pushed again, to be taken off the path once its
        // children are done.
        let mut stack: Vec<(Value, bool)> = vec![(self.clone(), false)];
        while let Some((v, leaving)) = stack.pop() {
            let Some((ptr, map)) = container(&v) else { continue };
            if leaving {
                on_path.remove(&ptr);
                done.insert(ptr);
                continue;
            }
            if on_path.contains(&ptr) {
                return true;
            }
            if done.contains(&ptr) {
                continue;
            }
            on_path.insert(ptr);
            let children: Vec<Value> = match (&v, map) {
                (_, Some(m)) => m
                    .borrow()
                    .values()
                    .filter(|x| container(x).is_some())
                    .cloned()
                    .collect(),
                (Value::List(l), None) => l.iter().filter(|x| container(x).is_some()).cloned().collect(),
                _ => Vec::new(),
            };
            stack.push((v, true));
            stack.extend(children.into_iter().map(|c| (c, false)));
        }
        false
    }

    /// A deep copy: maps are copied, not shared (Sprig's `deepCopy`).
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(l) => Value::list(l.iter().map(Value::deep_copy).collect()),
            Value::Map(m) => Value::map_from(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy()))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Converts from JSON; numbers become `Float` as Go's `encoding/json` decodes them into
    /// `interface{}` (Helm's values), unless `ints` is set (then integral numbers stay `Int`).
    pub fn from_json(v: &serde_json::Value, ints: bool) -> Value {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match (ints, n.as_i64()) {
                (true, Some(i)) => Value::Int(i),
                _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::str(s.as_str()),
            serde_json::Value::Array(a) => Value::list(a.iter().map(|x| Value::from_json(x, ints)).collect()),
            serde_json::Value::Object(o) => Value::map_from(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v, ints)))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON the way Go's `encoding/json` marshals it (`[]byte` becomes base64, structs
    /// their plain form). Non-finite floats become null.
    pub fn to_json(&self) -> serde_json::Value {
        use base64::Engine as _;
        match self {
            Value::Nil => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) | Value::Int64(i) => serde_json::Value::from(*i),
            Value::Uint64(u) => serde_json::Value::from(*u),
            Value::Float(x) => serde_json::Number::from_f64(*x).map_or(serde_json::Value::Null, Into::into),
            Value::Str(s) => serde_json::Value::String(s.to_string()),
            // encoding/json writes each invalid byte as U+FFFD.
            Value::BStr(b) => serde_json::Value::String(b.text().to_string()),
            Value::Bytes(b) => serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                serde_json::Value::Object(m.borrow().iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
            Value::Object(o) => o.to_plain().map_or(serde_json::json!({}), |p| p.to_json()),
        }
    }
}

/// `Value::from` for the Rust types that have one Go counterpart each.
macro_rules! value_from {
    ($($t:ty => $make:expr),* $(,)?) => {
        $(impl From<$t> for Value {
            fn from(x: $t) -> Self {
                $make(x)
            }
        })*
    };
}

value_from! {
    &str => Value::str,
    String => Value::str,
    bool => Value::Bool,
    i64 => Value::Int,
    f64 => Value::Float,
    Vec<Value> => Value::list,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_strings_keep_their_bytes() {
        assert_eq!(Value::go_lossy(b"a\xc3\xff"), "a\u{FFFD}\u{FFFD}");
        // (case, bytes, Str expected?, type name) — valid UTF-8 stays on the `Str` fast path.
        let cases: [(&str, &[u8], bool); 5] = [
            ("empty", b"", true),
            ("ascii", b"abc", true),
            ("two-byte char", "é".as_bytes(), true),
            ("lone 0xff", b"\xff", false),
            ("cut character and 0xff", b"a\xc3\xff", false),
        ];
        for (case, bytes, is_str) in cases {
            let v = Value::from_go_bytes(bytes.to_vec());
            assert_eq!(matches!(v, Value::Str(_)), is_str, "{case}");
            assert_eq!(v.go_str_bytes(), Some(bytes), "{case}");
            assert_eq!(v.type_name(), "string", "{case}");
            assert_eq!(v.kind_name(), "string", "{case}");
            assert_eq!(v.truthy(), !bytes.is_empty(), "{case}");
            // Readers of text see U+FFFD for each byte that is not UTF-8.
            assert_eq!(
                v.as_str().map(String::from),
                Some(Value::go_lossy(bytes)),
                "{case}"
            );
        }
    }

    #[test]
    fn int_and_int64_differ_only_in_type() {
        let (int, int64) = (Value::Int(7), Value::Int64(7));
        assert_eq!((int.type_name(), int64.type_name()), ("int", "int64"));
        assert_eq!((int.kind_name(), int64.kind_name()), ("int", "int64"));
        assert_eq!((int.as_int(), int64.as_int()), (Some(7), Some(7)));
        assert_eq!(int64.to_json(), serde_json::json!(7));
        // reflect.DeepEqual tells them apart.
        assert_ne!(int, int64);
        assert!(!Value::Int64(0).truthy());
    }

    #[test]
    fn go_comparability_and_nil() {
        let nil_list = Value::typed_list_or_nil("[]string", vec![]);
        let list = Value::typed_list("[]string", vec![Value::str("a")]);
        let nil_map = Value::typed_map_or_nil("map[string]string", BTreeMap::new());
        // (case, value, comparable, nil): Go's `==` exists on the type; Go's nil of the type.
        let cases = [
            ("untyped nil", Value::Nil, true, true),
            ("string", Value::str("a"), true, false),
            ("[]interface{}", Value::list(vec![]), false, false),
            ("[]byte", Value::Bytes(Rc::from(&b"x"[..])), false, false),
            ("map", Value::map_from(BTreeMap::new()), false, false),
            ("nil []string", nil_list.clone(), false, true),
            ("set []string", list.clone(), false, false),
            ("nil map[string]string", nil_map, false, true),
        ];
        for (case, v, comparable, nil) in cases {
            assert_eq!(v.go_comparable(), comparable, "{case}");
            assert_eq!(v.go_is_nil(), nil, "{case}");
        }
        // Go's interface `==`: types must match (an int is not an int64), then values.
        assert!(Value::Int(1).go_identical(&Value::Int(1)));
        assert!(!Value::Int(1).go_identical(&Value::Int64(1)));
        assert!(!Value::str("1").go_identical(&Value::Int(1)));
        // An object compares by identity unless its type says otherwise.
        assert!(list.go_identical(&list.clone()));
        assert!(!list.go_identical(&Value::typed_list("[]string", vec![Value::str("a")])));
    }
}
