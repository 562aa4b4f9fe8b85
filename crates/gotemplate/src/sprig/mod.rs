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
#[cfg(test)]
mod test_support;

use crate::{FuncMap, GoType, Map, Value};

pub use date::{parse_time, TimeValue};
pub use dicts::deep_copy;
pub use strings::indented_len;

/// The Go parameters of Sprig v3.3.0's functions (the version Helm 3.17 builds with), read from
/// its `functions.go` and the functions it names, so the executor refuses a wrong argument as Go's
/// `text/template` does, before the call (`expected string; found 3`, `wrong type for value;
/// expected int; got int64`, `wrong number of args for trunc: want 2 got 1`).
#[rustfmt::skip]
const SIGNATURES: &[(&str, &[GoType], bool)] = {
    use GoType::{Any as A, Bool as B, Float64 as F, Int as I, List as L, Map as M, String as S};
    const CERT: GoType = GoType::Other("sprig.certificate");
    const TIME: GoType = GoType::Other("time.Time");
    const U32: GoType = GoType::Other("uint32");
    &[
    ("abbrev", &[I, S], false),
    ("abbrevboth", &[I, I, S], false),
    ("add", &[A], true),
    ("add1", &[A], false),
    ("add1f", &[A], false),
    ("addf", &[A], true),
    ("adler32sum", &[S], false),
    ("ago", &[A], false),
    ("all", &[A], true),
    ("any", &[A], true),
    ("append", &[A, A], false),
    ("atoi", &[S], false),
    ("b32dec", &[S], false),
    ("b32enc", &[S], false),
    ("b64dec", &[S], false),
    ("b64enc", &[S], false),
    ("base", &[S], false),
    ("bcrypt", &[S], false),
    ("biggest", &[A, A], true),
    ("buildCustomCert", &[S, S], false),
    ("camelcase", &[S], false),
    ("cat", &[A], true),
    ("ceil", &[A], false),
    ("chunk", &[I, A], false),
    ("clean", &[S], false),
    ("coalesce", &[A], true),
    ("compact", &[A], false),
    ("concat", &[A], true),
    ("contains", &[S, S], false),
    ("date", &[S, A], false),
    ("dateInZone", &[S, A, S], false),
    ("dateModify", &[S, TIME], false),
    ("date_in_zone", &[S, A, S], false),
    ("date_modify", &[S, TIME], false),
    ("decryptAES", &[S, S], false),
    ("deepCopy", &[A], false),
    ("deepEqual", &[A, A], false),
    ("default", &[A, A], true),
    ("derivePassword", &[U32, S, S, S, S], false),
    ("dict", &[A], true),
    ("dig", &[A], true),
    ("dir", &[S], false),
    ("div", &[A, A], false),
    ("divf", &[A, A], true),
    ("duration", &[A], false),
    ("durationRound", &[A], false),
    ("empty", &[A], false),
    ("encryptAES", &[S, S], false),
    ("env", &[S], false),
    ("expandenv", &[S], false),
    ("ext", &[S], false),
    ("fail", &[S], false),
    ("first", &[A], false),
    ("float64", &[A], false),
    ("floor", &[A], false),
    ("fromJson", &[S], false),
    ("genCA", &[S, I], false),
    ("genCAWithKey", &[S, I, S], false),
    ("genPrivateKey", &[S], false),
    ("genSelfSignedCert", &[S, L, L, I], false),
    ("genSelfSignedCertWithKey", &[S, L, L, I, S], false),
    ("genSignedCert", &[S, L, L, I, CERT], false),
    ("genSignedCertWithKey", &[S, L, L, I, CERT, S], false),
    ("get", &[M, S], false),
    ("getHostByName", &[S], false),
    ("has", &[A, A], false),
    ("hasKey", &[M, S], false),
    ("hasPrefix", &[S, S], false),
    ("hasSuffix", &[S, S], false),
    ("htmlDate", &[A], false),
    ("htmlDateInZone", &[A, S], false),
    ("htpasswd", &[S, S], false),
    ("indent", &[I, S], false),
    ("initial", &[A], false),
    ("initials", &[S], false),
    ("int", &[A], false),
    ("int64", &[A], false),
    ("isAbs", &[S], false),
    ("join", &[S, A], false),
    ("kebabcase", &[S], false),
    ("keys", &[M], true),
    ("kindIs", &[S, A], false),
    ("kindOf", &[A], false),
    ("last", &[A], false),
    ("list", &[A], true),
    ("lower", &[S], false),
    ("max", &[A, A], true),
    ("maxf", &[A, A], true),
    ("merge", &[M, M], true),
    ("mergeOverwrite", &[M, M], true),
    ("min", &[A, A], true),
    ("minf", &[A, A], true),
    ("mod", &[A, A], false),
    ("mul", &[A, A], true),
    ("mulf", &[A, A], true),
    ("mustAppend", &[A, A], false),
    ("mustChunk", &[I, A], false),
    ("mustCompact", &[A], false),
    ("mustDateModify", &[S, TIME], false),
    ("mustDeepCopy", &[A], false),
    ("mustFirst", &[A], false),
    ("mustFromJson", &[S], false),
    ("mustHas", &[A, A], false),
    ("mustInitial", &[A], false),
    ("mustLast", &[A], false),
    ("mustMerge", &[M, M], true),
    ("mustMergeOverwrite", &[M, M], true),
    ("mustPrepend", &[A, A], false),
    ("mustPush", &[A, A], false),
    ("mustRegexFind", &[S, S], false),
    ("mustRegexFindAll", &[S, S, I], false),
    ("mustRegexMatch", &[S, S], false),
    ("mustRegexReplaceAll", &[S, S, S], false),
    ("mustRegexReplaceAllLiteral", &[S, S, S], false),
    ("mustRegexSplit", &[S, S, I], false),
    ("mustRest", &[A], false),
    ("mustReverse", &[A], false),
    ("mustSlice", &[A, A], true),
    ("mustToDate", &[S, S], false),
    ("mustToJson", &[A], false),
    ("mustToPrettyJson", &[A], false),
    ("mustToRawJson", &[A], false),
    ("mustUniq", &[A], false),
    ("mustWithout", &[A, A], true),
    ("must_date_modify", &[S, TIME], false),
    ("nindent", &[I, S], false),
    ("nospace", &[S], false),
    ("now", &[], false),
    ("omit", &[M, S], true),
    ("osBase", &[S], false),
    ("osClean", &[S], false),
    ("osDir", &[S], false),
    ("osExt", &[S], false),
    ("osIsAbs", &[S], false),
    ("pick", &[M, S], true),
    ("pluck", &[S, M], true),
    ("plural", &[S, S, I], false),
    ("prepend", &[A, A], false),
    ("push", &[A, A], false),
    ("quote", &[A], true),
    ("randAlpha", &[I], false),
    ("randAlphaNum", &[I], false),
    ("randAscii", &[I], false),
    ("randBytes", &[I], false),
    ("randInt", &[I, I], false),
    ("randNumeric", &[I], false),
    ("regexFind", &[S, S], false),
    ("regexFindAll", &[S, S, I], false),
    ("regexMatch", &[S, S], false),
    ("regexQuoteMeta", &[S], false),
    ("regexReplaceAll", &[S, S, S], false),
    ("regexReplaceAllLiteral", &[S, S, S], false),
    ("regexSplit", &[S, S, I], false),
    ("repeat", &[I, S], false),
    ("replace", &[S, S, S], false),
    ("rest", &[A], false),
    ("reverse", &[A], false),
    ("round", &[A, I, F], true),
    ("semver", &[S], false),
    ("semverCompare", &[S, S], false),
    ("seq", &[I], true),
    ("set", &[M, S, A], false),
    ("sha1sum", &[S], false),
    ("sha256sum", &[S], false),
    ("sha512sum", &[S], false),
    ("shuffle", &[S], false),
    ("slice", &[A, A], true),
    ("snakecase", &[S], false),
    ("sortAlpha", &[A], false),
    ("split", &[S, S], false),
    ("splitList", &[S, S], false),
    ("splitn", &[S, I, S], false),
    ("squote", &[A], true),
    ("sub", &[A, A], false),
    ("subf", &[A, A], true),
    ("substr", &[I, I, S], false),
    ("swapcase", &[S], false),
    ("ternary", &[A, A, B], false),
    ("title", &[S], false),
    ("toDate", &[S, S], false),
    ("toDecimal", &[A], false),
    ("toJson", &[A], false),
    ("toPrettyJson", &[A], false),
    ("toRawJson", &[A], false),
    ("toString", &[A], false),
    ("toStrings", &[A], false),
    ("trim", &[S], false),
    ("trimAll", &[S, S], false),
    ("trimPrefix", &[S, S], false),
    ("trimSuffix", &[S, S], false),
    ("trimall", &[S, S], false),
    ("trunc", &[I, S], false),
    ("tuple", &[A], true),
    ("typeIs", &[S, A], false),
    ("typeIsLike", &[S, A], false),
    ("typeOf", &[A], false),
    ("uniq", &[A], false),
    ("unixEpoch", &[TIME], false),
    ("unset", &[M, S], false),
    ("until", &[I], false),
    ("untilStep", &[I, I, I], false),
    ("untitle", &[S], false),
    ("upper", &[S], false),
    ("urlJoin", &[M], false),
    ("urlParse", &[S], false),
    ("uuidv4", &[], false),
    ("values", &[M], false),
    ("without", &[A, A], true),
    ("wrap", &[I, S], false),
    ("wrapWith", &[I, S, S], false),
    ]
};

/// All Sprig functions Helm exposes (Sprig's `TxtFuncMap` without `env` and `expandenv`).
pub fn funcs() -> FuncMap {
    let mut m = FuncMap::new();
    for (name, params, variadic) in SIGNATURES {
        m.set_signature(name, params, *variadic);
    }
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
    arity(name, args, N)?;
    Ok(args.try_into().expect("length checked"))
}

/// [`fixed`] for functions that index their arguments themselves.
pub(crate) fn arity(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {n} got {}",
            args.len()
        ))
    }
}

/// Checks the minimum argument count of a variadic function.
pub(crate) fn at_least(name: &str, args: &[Value], n: usize) -> Result<(), String> {
    if args.len() < n {
        return Err(format!(
            "wrong number of args for {name}: want at least {n} got {}",
            args.len()
        ));
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

/// How a Go function that passes bytes that are not UTF-8 through untouched reads its string
/// arguments (most of Go's `strings`, `path` and `regexp` functions, and `fmt`'s `%v`): Go strings
/// are bytes, ours are text. On the common path, where no argument holds such bytes, an argument is
/// its text and the result a plain string; otherwise each such byte is read as its private-use
/// stand-in (the one `printf` uses, see `gofmt::raw_text`), which no separator, cut set or pattern
/// matches, and [`GoText::value`] turns the stand-ins in the result back into those bytes.
/// Functions that read runes (`upper`, `title`) see U+FFFD instead, as Go's do, through
/// [`str_arg`].
pub(crate) struct GoText {
    raw: bool,
}

impl GoText {
    /// Reads `args`: stand-ins only when one of them holds bytes that are not UTF-8.
    pub(crate) fn of(args: &[Value]) -> GoText {
        GoText {
            raw: args.iter().any(crate::gofmt::has_bad_bytes),
        }
    }

    /// A `string` parameter.
    pub(crate) fn arg<'a>(&self, v: &'a Value) -> Result<std::borrow::Cow<'a, str>, String> {
        match v {
            Value::BStr(b) if self.raw => Ok(crate::gofmt::raw_text(b).into()),
            _ => str_arg(v).map(Into::into),
        }
    }

    /// Sprig's `strval`: a string as it is, `[]byte` as its bytes, anything else as `%v`.
    pub(crate) fn strval<'a>(&self, v: &'a Value) -> std::borrow::Cow<'a, str> {
        match v {
            Value::Str(s) => std::borrow::Cow::Borrowed(s),
            Value::Bytes(b) if self.raw => crate::gofmt::raw_text(b).into(),
            _ if self.raw => crate::gofmt::raw_v(v).into(),
            _ => convert::to_string(v).into(),
        }
    }

    /// `fmt.Sprintf("%v", v)`.
    pub(crate) fn fmt_v<'a>(&self, v: &'a Value) -> std::borrow::Cow<'a, str> {
        match v {
            Value::Str(s) => std::borrow::Cow::Borrowed(s),
            _ if self.raw => crate::gofmt::raw_v(v).into(),
            _ => crate::gofmt::format_v(v).into(),
        }
    }

    /// A Go `[]string` ([`str_list`]) of results written from the arguments.
    pub(crate) fn str_list<S: AsRef<str> + Into<String>>(&self, items: impl IntoIterator<Item = S>) -> Value {
        if !self.raw {
            return str_list(items);
        }
        let items = items.into_iter().map(|s| self.value(s.as_ref())).collect();
        Value::typed_list("[]string", items)
    }

    /// The Go string a result written from the arguments stands for.
    pub(crate) fn value(&self, s: impl AsRef<str> + Into<std::rc::Rc<str>>) -> Value {
        if self.raw {
            crate::gofmt::from_raw_text(s.as_ref())
        } else {
            Value::str(s)
        }
    }
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
        // A named map type (Helm's `chartutil.Values`) is assignable to a map parameter in Go.
        Value::Object(o) => o
            .as_map()
            .map(Some)
            .ok_or_else(|| type_err("map[string]interface {}", v)),
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
        // A named slice type (`.Capabilities.APIVersions`, a `chartutil.VersionSet`): Sprig
        // reflects on its kind, so it is a slice like any other.
        Value::Object(o) if o.kind_name() == "slice" => match o.to_plain() {
            Some(Value::List(l)) => Ok(l.as_ref().clone()),
            _ => Ok(Vec::new()),
        },
        Value::Nil => Err(Err(NIL_DEREF.to_string())),
        other => Err(Ok(other.kind_name().to_string())),
    }
}

/// A Go `[]string` result (`splitList`, `keys`, `sortAlpha`, `toStrings`, `regexFindAll`,
/// `regexSplit`): it prints, ranges and indexes like a list, but `typeOf`, `%T`, `%#v`,
/// `deepEqual` and `[]interface {}` parameters see Go's `[]string`.
pub(crate) fn str_list<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
    Value::typed_list(
        "[]string",
        items.into_iter().map(|s| Value::str(s.into())).collect(),
    )
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
        let missing: Vec<&str> = SPRIG_NAMES
            .split_whitespace()
            .filter(|n| m.get(n).is_none())
            .collect();
        assert!(missing.is_empty(), "missing: {missing:?}");
        for removed in ["env", "expandenv"] {
            assert!(m.get(removed).is_none(), "{removed} must not be exposed");
        }
    }

    /// Renders `tpl` with Sprig's functions through the template engine.
    fn run(tpl: &str) -> Result<String, String> {
        let mut t = crate::Templates::new(std::rc::Rc::new(funcs()));
        t.parse("t", tpl).map_err(|e| e.to_string())?;
        t.execute("t", &Value::new_map())
            .map_err(|e| e.message().to_string())
    }

    #[test]
    fn templates_end_to_end() {
        // Templates and expected output from sprig's *_test.go files (runt cases).
        let cases = [
            ("substr", r#"{{"fooo" | substr 0 3 }}"#, "foo"),
            ("trunc", r#"{{ "foooooo" | trunc 3 }}"#, "foo"),
            ("trunc negative", r#"{{ "baaaaaar" | trunc -3 }}"#, "aar"),
            ("quote", r#"{{quote "a" "b" "c"}}"#, r#""a" "b" "c""#),
            (
                "quote escaped",
                r#"{{quote "\"a\"" "b" "c"}}"#,
                r#""\"a\"" "b" "c""#,
            ),
            ("quote ints", "{{quote 1 2 3 }}", r#""1" "2" "3""#),
            ("squote ints", "{{squote 1 2 3 }}", "'1' '2' '3'"),
            ("split", r#"{{$v := "foo$bar$baz" | split "$"}}{{$v._0}}"#, "foo"),
            (
                "splitn",
                r#"{{$v := "foo$bar$baz" | splitn "$" 2}}{{$v._1}}"#,
                "bar$baz",
            ),
            ("toString kind", "{{ toString 1 | kindOf }}", "string"),
            (
                "toStrings",
                "{{ $s := list 1 2 3 | toStrings }}{{ index $s 1 | kindOf }}",
                "string",
            ),
            (
                "sortAlpha",
                r#"{{ list "c" "a" "b" | sortAlpha | join "" }}"#,
                "abc",
            ),
            (
                "sortAlpha ints",
                r#"{{ list 2 1 4 3 | sortAlpha | join "" }}"#,
                "1234",
            ),
            ("cat", r#"{{$b := "b"}}{{"c" | cat "a" $b}}"#, "a b c"),
            ("indent", r#"{{indent 4 "a\nb\nc"}}"#, "    a\n    b\n    c"),
            ("nindent", r#"{{nindent 4 "a\nb\nc"}}"#, "\n    a\n    b\n    c"),
            (
                "replace",
                r#"{{"I Am Henry VIII" | replace " " "-"}}"#,
                "I-Am-Henry-VIII",
            ),
            (
                "plural",
                r#"{{$num := len "two"}}{{$num}} {{$num | plural "1 char" "chars"}}"#,
                "3 chars",
            ),
            ("add", "{{ 3 | add 1 2}}", "6"),
            ("addf", "{{ 3 | addf 1.5 2.2}}", "6.7"),
            ("divf", "{{ 2 | divf 5 4 }}", "0.625"),
            ("mulf", r#"{{ 1.2 | mulf "2.4" 10 "4"}}"#, "115.2"),
            ("toString float", "{{ 1e6 | toString }}", "1e+06"),
            ("toString big float", "{{ 100000.5 | toString }}", "100000.5"),
            ("default", r#"{{ "" | default "foo" }}"#, "foo"),
            ("default list", "{{ list | default 3 }}", "3"),
            ("dict get", r#"{{ $d := dict "a" 1 }}{{ get $d "a" }}"#, "1"),
            (
                "set",
                r#"{{ $d := dict }}{{ $_ := set $d "k" "v" }}{{ $d.k }}"#,
                "v",
            ),
            (
                "merge",
                r#"{{ $a := dict "x" 1 }}{{ $_ := merge $a (dict "x" 2 "y" 3) }}{{ $a }}"#,
                "map[x:1 y:3]",
            ),
            (
                "deepCopy",
                r#"{{- $one := dict "foo" (dict "bar" "baz") "qux" true -}}{{ deepCopy $one }}"#,
                "map[foo:map[bar:baz] qux:true]",
            ),
            (
                "dig",
                r#"{{- $d := dict "a" (dict "b" (dict "c" 1)) }}{{ dig "a" "b" "c" "" $d }}"#,
                "1",
            ),
            ("keys", r#"{{ keys (dict "b" 1 "a" 2) | sortAlpha }}"#, "[a b]"),
            ("first", "{{ list 1 2 3 | first }}", "1"),
            ("first empty", "{{ list | first }}", "<no value>"),
            ("rest", "{{ list 1 2 3 | rest }}", "[2 3]"),
            ("until", "{{ until 3 }}", "[0 1 2]"),
            (
                "regexReplaceAll",
                r#"{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}"#,
                "-W-xxW-",
            ),
            ("b64", r#"{{ b64enc "coffee" | b64dec }}"#, "coffee"),
            ("urlParse", r#"{{ (urlParse "http://h:80/p").hostname }}"#, "h"),
            (
                "semverCompare",
                r#"{{ semverCompare ">=1.2.0" "1.3.0" }}"#,
                "true",
            ),
        ];
        for (case, tpl, want) in cases {
            assert_eq!(run(tpl).as_deref(), Ok(want), "case {case}");
        }
    }

    #[test]
    fn template_errors() {
        // Helm's messages for Sprig panics surfacing through text/template.
        let err = run(r#"{{ first "abc" }}"#).unwrap_err();
        assert!(
            err.contains("error calling first: Cannot find first on type string"),
            "{err}"
        );
        let err = run("{{ div 1 0 }}").unwrap_err();
        assert!(
            err.contains("error calling div: runtime error: integer divide by zero"),
            "{err}"
        );
    }
}
