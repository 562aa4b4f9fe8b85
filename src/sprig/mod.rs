//! Sprig v3.3.0's template functions (what Helm 3.17 exposes), written over [`Value`].
//!
//! Helm renders with `sprig.TxtFuncMap()` minus `env`/`expandenv`, then adds its own functions
//! (`include`, `tpl`, `toYaml`, ...) on top; [`funcs`] is the Sprig part only. Every function
//! mimics the Go original including its quirks (byte-based slicing, `cast` conversions, mergo's
//! merge rules, the panic texts text/template turns into errors) because rendered output is
//! compared byte for byte with Helm's.
//!
//! Go's template executor checks argument counts and types against each function's Go signature
//! before calling it; the helpers here ([`fixed`], [`str_arg`], [`int_arg`], ...) reproduce those
//! checks and their messages, since our functions are untyped `fn(&[Value])`.

pub mod convert;
mod crypto;
mod date;
mod defaults;
mod dicts;
mod encoding;
mod lists;
mod math;
mod network;
mod paths;
mod random;
mod reflect;
mod regex;
mod semver;
mod strings;

use crate::gotemplate::{FuncMap, Map, Value};

/// All Sprig functions Helm exposes (Sprig's `TxtFuncMap` without `env` and `expandenv`).
pub fn funcs() -> FuncMap {
    let mut m = FuncMap::new();
    strings::register(&mut m);
    lists::register(&mut m);
    dicts::register(&mut m);
    math::register(&mut m);
    defaults::register(&mut m);
    reflect::register(&mut m);
    regex::register(&mut m);
    paths::register(&mut m);
    encoding::register(&mut m);
    network::register(&mut m);
    crypto::register(&mut m);
    date::register(&mut m);
    random::register(&mut m);
    semver::register(&mut m);
    m
}

/// Go's panic text for `reflect.TypeOf(nil).Kind()`, which Sprig's list functions hit on nil.
pub(crate) const NIL_DEREF: &str = "runtime error: invalid memory address or nil pointer dereference";

/// Checks a fixed argument count like text/template does for a non-variadic function.
pub(crate) fn fixed<'a, const N: usize>(name: &str, args: &'a [Value]) -> Result<&'a [Value; N], String> {
    args.try_into()
        .map_err(|_| format!("wrong number of args for {name}: want {N} got {}", args.len()))
}

/// Checks the minimum argument count of a variadic function.
pub(crate) fn at_least(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() < n {
        return Err(format!("wrong number of args for {name}: want at least {n} got {}", args.len()));
    }
    Ok(())
}

/// The "wrong type" error text/template gives when a value does not fit a typed parameter.
pub(crate) fn type_err(expected: &str, v: &Value) -> String {
    match v {
        Value::Nil => format!("invalid value; expected {expected}"),
        _ => format!("wrong type for value; expected {expected}; got {}", v.type_name()),
    }
}

/// A `string` parameter.
pub(crate) fn str_arg(v: &Value) -> Result<&str, String> {
    v.as_str().ok_or_else(|| type_err("string", v))
}

/// An `int` parameter. Template integers are Go `int`; a float64 from values does not convert.
pub(crate) fn int_arg(v: &Value) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        _ => Err(type_err("int", v)),
    }
}

/// A `bool` parameter.
pub(crate) fn bool_arg(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(type_err("bool", v)),
    }
}

/// A `map[string]interface{}` parameter; nil gives Go's nil map (`None`), which reads as empty.
pub(crate) fn map_arg(v: &Value) -> Result<Option<&Map>, String> {
    match v {
        Value::Map(m) => Ok(Some(m)),
        Value::Nil => Ok(None),
        _ => Err(type_err("map[string]interface {}", v)),
    }
}

/// The elements of a Go slice or array as `reflect` sees them (`[]byte` yields its bytes);
/// `Err` carries the value's kind name for Sprig's "Cannot ... on type KIND" messages, or the
/// nil-dereference panic for nil.
pub(crate) fn slice_items(v: &Value) -> Result<Vec<Value>, Result<String, String>> {
    match v {
        Value::List(l) => Ok(l.as_ref().clone()),
        Value::Bytes(b) => Ok(b.iter().map(|x| Value::Int(i64::from(*x))).collect()),
        Value::Nil => Err(Err(NIL_DEREF.to_string())),
        other => Err(Ok(other.kind_name().to_string())),
    }
}

/// A list of strings as a template value (`[]string`).
pub(crate) fn str_list<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::list(items.into_iter().map(|s| Value::str(s.into())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every name of Sprig v3.3.0's `genericMap` (functions.go) except `env`/`expandenv` (Helm
    /// deletes them) and `toJson`/`fromJson` (Helm replaces them with its own).
    const SPRIG_NAMES: &str = "abbrev abbrevboth add add1 add1f addf adler32sum ago all any append atoi \
        b32dec b32enc b64dec b64enc base bcrypt biggest buildCustomCert camelcase cat ceil chunk clean \
        coalesce compact concat contains date dateInZone dateModify date_in_zone date_modify decryptAES \
        deepCopy deepEqual default derivePassword dict dig dir div divf duration durationRound empty \
        encryptAES ext fail first float64 floor genCA genCAWithKey genPrivateKey genSelfSignedCert \
        genSelfSignedCertWithKey genSignedCert genSignedCertWithKey get getHostByName has hasKey \
        hasPrefix hasSuffix hello htmlDate htmlDateInZone htpasswd indent initial initials int int64 \
        isAbs join kebabcase keys kindIs kindOf last list lower max maxf merge mergeOverwrite min minf \
        mod mul mulf mustAppend mustChunk mustCompact mustDateModify mustDeepCopy mustFirst \
        mustFromJson mustHas mustInitial mustLast mustMerge mustMergeOverwrite mustPrepend mustPush \
        mustRegexFind mustRegexFindAll mustRegexMatch mustRegexReplaceAll mustRegexReplaceAllLiteral \
        mustRegexSplit mustRest mustReverse mustSlice mustToDate mustToJson mustToPrettyJson \
        mustToRawJson mustUniq mustWithout must_date_modify nindent nospace now omit osBase osClean \
        osDir osExt osIsAbs pick pluck plural prepend push quote randAlpha randAlphaNum randAscii \
        randBytes randInt randNumeric regexFind regexFindAll regexMatch regexQuoteMeta regexReplaceAll \
        regexReplaceAllLiteral regexSplit repeat replace rest reverse round semver semverCompare seq \
        set sha1sum sha256sum sha512sum shuffle slice snakecase sortAlpha split splitList splitn \
        squote sub subf substr swapcase ternary title toDate toDecimal toPrettyJson toRawJson toString \
        toStrings trim trimAll trimPrefix trimSuffix trimall trunc tuple typeIs typeIsLike typeOf uniq \
        unixEpoch unset until untilStep untitle upper urlJoin urlParse uuidv4 values without wrap \
        wrapWith";

    #[test]
    fn all_sprig_functions_registered() {
        let m = funcs();
        let missing: Vec<&str> = SPRIG_NAMES.split_whitespace().filter(|n| m.get(n).is_none()).collect();
        assert!(missing.is_empty(), "missing: {missing:?}");
        for removed in ["env", "expandenv"] {
            assert!(m.get(removed).is_none(), "{removed} must not be exposed");
        }
    }
}
