//! Sprig's list functions (`list.go`) and the integer ranges (`until`, `untilStep`, `seq`).
//!
//! Sprig takes any Go slice or array through reflection and always returns a new
//! `[]interface{}`; on anything else the plain variant panics and the `must` variant returns the
//! same error, so both give the template error "Cannot find first on type string". Passing nil
//! makes `reflect.TypeOf(nil).Kind()` dereference a nil pointer, whose runtime panic text Helm
//! shows as well. Element equality (`uniq`, `has`, `without`) is `reflect.DeepEqual`, so `1`
//! (int) and `1.0` (float64) differ.

use super::{at_least, convert, defaults::empty, fixed, int_arg, slice_items};
use crate::{FuncMap, FuncResult, Value};

pub(crate) fn register(m: &mut FuncMap) {
    m.insert_simple("list", |a| Ok(Value::list(a.to_vec())));
    m.insert_simple("tuple", |a| Ok(Value::list(a.to_vec())));
    m.insert_simple("append", |a| push("append", a));
    m.insert_simple("push", |a| push("push", a));
    m.insert_simple("mustAppend", |a| push("mustAppend", a));
    m.insert_simple("mustPush", |a| push("mustPush", a));
    m.insert_simple("prepend", |a| prepend("prepend", a));
    m.insert_simple("mustPrepend", |a| prepend("mustPrepend", a));
    m.insert_simple("first", |a| first("first", a));
    m.insert_simple("mustFirst", |a| first("mustFirst", a));
    m.insert_simple("last", |a| last("last", a));
    m.insert_simple("mustLast", |a| last("mustLast", a));
    m.insert_simple("rest", |a| rest("rest", a));
    m.insert_simple("mustRest", |a| rest("mustRest", a));
    m.insert_simple("initial", |a| initial("initial", a));
    m.insert_simple("mustInitial", |a| initial("mustInitial", a));
    m.insert_simple("reverse", |a| reverse("reverse", a));
    m.insert_simple("mustReverse", |a| reverse("mustReverse", a));
    m.insert_simple("uniq", |a| uniq("uniq", a));
    m.insert_simple("mustUniq", |a| uniq("mustUniq", a));
    m.insert_simple("compact", |a| compact("compact", a));
    m.insert_simple("mustCompact", |a| compact("mustCompact", a));
    m.insert_simple("without", |a| without("without", a));
    m.insert_simple("mustWithout", |a| without("mustWithout", a));
    m.insert_simple("has", |a| has("has", a));
    m.insert_simple("mustHas", |a| has("mustHas", a));
    m.insert_simple("slice", |a| slice("slice", a));
    m.insert_simple("mustSlice", |a| slice("mustSlice", a));
    m.insert_simple("chunk", |a| chunk("chunk", a));
    m.insert_simple("mustChunk", |a| chunk("mustChunk", a));
    m.insert_simple("concat", concat);
    m.insert_simple("until", until);
    m.insert_simple("untilStep", until_step);
    m.insert_simple("seq", seq);
}

/// The elements of a slice argument, or Sprig's error naming the value's kind.
fn items(v: &Value, msg: impl Fn(&str) -> String) -> Result<Vec<Value>, String> {
    slice_items(v).map_err(|e| match e {
        Ok(kind) => msg(&kind),
        Err(panic) => panic,
    })
}

fn push(name: &str, a: &[Value]) -> FuncResult {
    let [l, v] = fixed(name, a)?;
    let mut out = items(l, |k| format!("Cannot push on type {k}"))?;
    out.push(v.clone());
    Ok(Value::list(out))
}

fn prepend(name: &str, a: &[Value]) -> FuncResult {
    let [l, v] = fixed(name, a)?;
    let mut out = vec![v.clone()];
    out.extend(items(l, |k| format!("Cannot prepend on type {k}"))?);
    Ok(Value::list(out))
}

fn first(name: &str, a: &[Value]) -> FuncResult {
    let [l] = fixed(name, a)?;
    Ok(items(l, |k| format!("Cannot find first on type {k}"))?
        .into_iter()
        .next()
        .unwrap_or_default())
}

fn last(name: &str, a: &[Value]) -> FuncResult {
    let [l] = fixed(name, a)?;
    Ok(items(l, |k| format!("Cannot find last on type {k}"))?
        .pop()
        .unwrap_or_default())
}

fn rest(name: &str, a: &[Value]) -> FuncResult {
    let [l] = fixed(name, a)?;
    let v = items(l, |k| format!("Cannot find rest on type {k}"))?;
    Ok(Value::list(v.into_iter().skip(1).collect()))
}

fn initial(name: &str, a: &[Value]) -> FuncResult {
    let [l] = fixed(name, a)?;
    let mut v = items(l, |k| format!("Cannot find initial on type {k}"))?;
    v.pop();
    Ok(Value::list(v))
}

fn reverse(name: &str, a: &[Value]) -> FuncResult {
    let [l] = fixed(name, a)?;
    let mut v = items(l, |k| format!("Cannot find reverse on type {k}"))?;
    v.reverse();
    Ok(Value::list(v))
}

fn uniq(name: &str, a: &[Value]) -> FuncResult {
    let [l] = fixed(name, a)?;
    let mut out: Vec<Value> = Vec::new();
    for x in items(l, |k| format!("Cannot find uniq on type {k}"))? {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    Ok(Value::list(out))
}

fn compact(name: &str, a: &[Value]) -> FuncResult {
    let [l] = fixed(name, a)?;
    let v = items(l, |k| format!("Cannot compact on type {k}"))?;
    Ok(Value::list(v.into_iter().filter(|x| !empty(x)).collect()))
}

fn without(name: &str, a: &[Value]) -> FuncResult {
    at_least(name, a, 1)?;
    let omit = &a[1..];
    let v = items(&a[0], |k| format!("Cannot find without on type {k}"))?;
    Ok(Value::list(v.into_iter().filter(|x| !omit.contains(x)).collect()))
}

fn has(name: &str, a: &[Value]) -> FuncResult {
    let [needle, hay] = fixed(name, a)?;
    if matches!(hay, Value::Nil) {
        return Ok(Value::Bool(false));
    }
    let v = items(hay, |k| format!("Cannot find has on type {k}"))?;
    Ok(Value::Bool(v.contains(needle)))
}

/// `slice LIST [START [END]]`: Go's `list[start:end]` (a `[]byte` stays bytes); an empty list
/// gives nil; bad bounds give reflect's panic text.
fn slice(name: &str, a: &[Value]) -> FuncResult {
    at_least(name, a, 1)?;
    let v = items(&a[0], |k| {
        format!("list should be type of slice or array but {k}")
    })?;
    if v.is_empty() {
        return Ok(Value::Nil);
    }
    let len = v.len() as i64;
    let start = a.get(1).map_or(0, convert::to_int64);
    let end = if a.len() < 3 {
        len
    } else {
        convert::to_int64(&a[2])
    };
    if start < 0 || end < start || end > len {
        // reflect's panic text in the Go Helm 3.17 is built with (1.23).
        return Err("reflect.Value.Slice: slice index out of bounds".to_string());
    }
    let (s, e) = (start as usize, end as usize);
    Ok(match &a[0] {
        Value::Bytes(b) => Value::Bytes(b[s..e].to_vec().into()),
        // reflect's Slice keeps the slice's type: `slice (until 5) 1 3` is still `[]int`.
        Value::Object(o) if o.as_list().is_some() => Value::typed_list(o.type_name(), v[s..e].to_vec()),
        _ => Value::list(v[s..e].to_vec()),
    })
}

/// `chunk SIZE LIST`: consecutive sub-lists of SIZE elements, the last one shorter.
fn chunk(name: &str, a: &[Value]) -> FuncResult {
    let [size, l] = fixed(name, a)?;
    let size = int_arg(size)?;
    let v = items(l, |k| format!("Cannot chunk type {k}"))?;
    // Go's result is a `[][]interface{}`: typeOf and %#v name it, ranging gives plain lists.
    const CHUNKS: &str = "[][]interface {}";
    if v.is_empty() && size > 0 {
        return Ok(Value::typed_list(CHUNKS, Vec::new()));
    }
    if size <= 0 {
        // Go computes a negative or NaN-derived length here and make() panics.
        return Err("runtime error: makeslice: len out of range".to_string());
    }
    Ok(Value::typed_list(
        CHUNKS,
        v.chunks(size as usize).map(|c| Value::list(c.to_vec())).collect(),
    ))
}

fn concat(a: &[Value]) -> FuncResult {
    let mut out = Vec::new();
    for l in a {
        out.extend(items(l, |k| format!("Cannot concat type {k} as list"))?);
    }
    Ok(Value::list(out))
}

/// Sprig's `untilStep`: counts from start towards stop (exclusive) by step; nothing when the
/// step points away from stop or is zero.
/// Most elements `until`, `untilStep` and `seq` make (1 GiB of list). Sprig appends until the
/// process runs out of memory; we stop first with an error naming the limit.
pub(crate) const MAX_RANGE_LEN: i128 = 1 << 26;

/// The number of elements [`until_step_vec`] makes, computed without making them.
fn until_step_len(start: i64, stop: i64, step: i64) -> i128 {
    let (start, stop, step) = (start as i128, stop as i128, step as i128);
    match () {
        _ if stop < start && step < 0 => (start - stop + (-step) - 1) / -step,
        _ if stop > start && step > 0 => (stop - start + step - 1) / step,
        _ => 0,
    }
}

/// [`until_step_vec`], refused with an error naming `name` when over [`MAX_RANGE_LEN`].
pub(crate) fn until_step_checked(name: &str, start: i64, stop: i64, step: i64) -> Result<Vec<i64>, String> {
    let n = until_step_len(start, stop, step);
    if n > MAX_RANGE_LEN {
        return Err(format!(
            "{name}: {n} elements is over the limit of {MAX_RANGE_LEN}"
        ));
    }
    Ok(until_step_vec(start, stop, step))
}

pub(crate) fn until_step_vec(start: i64, stop: i64, step: i64) -> Vec<i64> {
    let mut out = Vec::new();
    if stop < start {
        if step >= 0 {
            return out;
        }
        let mut i = start;
        while i > stop {
            out.push(i);
            i = i.wrapping_add(step);
        }
        return out;
    }
    if step <= 0 {
        return out;
    }
    let mut i = start;
    while i < stop {
        out.push(i);
        match i.checked_add(step) {
            Some(n) => i = n,
            None => break,
        }
    }
    out
}

/// Sprig's `until` and `untilStep` return Go's `[]int`, not `[]interface{}`: `typeOf` prints
/// `[]int`, `deepEqual` with a `list` is false and a `map` parameter names `[]int` in its error.
fn ints(v: Vec<i64>) -> Value {
    Value::typed_list("[]int", v.into_iter().map(Value::Int).collect())
}

fn until(a: &[Value]) -> FuncResult {
    let [n] = fixed("until", a)?;
    let n = int_arg(n)?;
    Ok(ints(until_step_checked(
        "until",
        0,
        n,
        if n < 0 { -1 } else { 1 },
    )?))
}

fn until_step(a: &[Value]) -> FuncResult {
    let [start, stop, step] = fixed("untilStep", a)?;
    Ok(ints(until_step_checked(
        "untilStep",
        int_arg(start)?,
        int_arg(stop)?,
        int_arg(step)?,
    )?))
}

/// `seq [START [STEP]] END`, like the Unix tool: an inclusive range printed space-separated.
fn seq(a: &[Value]) -> FuncResult {
    let p: Vec<i64> = a.iter().map(int_arg).collect::<Result<_, _>>()?;
    let nums = match p.as_slice() {
        [end] => {
            let inc = if *end < 1 { -1 } else { 1 };
            until_step_checked("seq", 1, end.wrapping_add(inc), inc)?
        }
        [start, end] => {
            let step = if end < start { -1 } else { 1 };
            until_step_checked("seq", *start, end.wrapping_add(step), step)?
        }
        [start, step, end] => {
            let mut inc = 1;
            if end < start {
                inc = -1;
                if *step > 0 {
                    return Ok(Value::str(""));
                }
            }
            until_step_checked("seq", *start, end.wrapping_add(inc), *step)?
        }
        _ => Vec::new(),
    };
    let text: Vec<String> = nums.iter().map(i64::to_string).collect();
    Ok(Value::str(text.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::{call, i, s};

    fn l(v: Vec<Value>) -> Value {
        Value::list(v)
    }

    /// Issue 20: `until 9223372036854775807` allocated until the process aborted (Sprig appends
    /// until Go runs out of memory). Over the limit: an error, counted without allocating; at
    /// the limit's edge and in either direction the count is exact.
    #[test]
    fn range_sizes_are_bounded() {
        let max = MAX_RANGE_LEN as i64;
        let cases: Vec<(&str, Vec<i64>, Result<usize, String>)> = vec![
            (
                "until max",
                vec![i64::MAX],
                Err(format!("until: {} elements is over the limit of {max}", i64::MAX)),
            ),
            (
                "until min",
                vec![i64::MIN],
                Err(format!(
                    "until: {} elements is over the limit of {max}",
                    -(i64::MIN as i128)
                )),
            ),
            (
                "until edge",
                vec![max + 1],
                Err(format!("until: {} elements is over the limit of {max}", max + 1)),
            ),
            ("untilStep big step", vec![0, i64::MAX, 1 << 40], Ok(8_388_608)),
            ("untilStep down", vec![10, -10, -3], Ok(7)),
            (
                "untilStep wide",
                vec![i64::MIN, i64::MAX, 2],
                Err(format!(
                    "untilStep: {} elements is over the limit of {max}",
                    1i128 << 63
                )),
            ),
            (
                "seq huge",
                vec![0, 1, i64::MAX - 1],
                Err(format!("seq: {} elements is over the limit of {max}", i64::MAX)),
            ),
        ];
        for (name, args, want) in cases {
            let func = name.split(' ').next().unwrap_or_default();
            let got = call(func, args.into_iter().map(Value::Int).collect()).map(|v| match v {
                Value::Object(o) => o.as_list().map_or(usize::MAX, |l| l.len()),
                Value::Str(s) => s.split(' ').count(),
                _ => usize::MAX,
            });
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn list_functions() {
        // Expectations from sprig's list_test.go.
        let abc = || l(vec![s("a"), s("b"), s("c")]);
        let cases: Vec<(&str, &str, Vec<Value>, Value)> = vec![
            ("list", "list", vec![i(1), s("a")], l(vec![i(1), s("a")])),
            (
                "push",
                "push",
                vec![abc(), s("d")],
                l(vec![s("a"), s("b"), s("c"), s("d")]),
            ),
            (
                "prepend",
                "prepend",
                vec![abc(), s("z")],
                l(vec![s("z"), s("a"), s("b"), s("c")]),
            ),
            ("first", "first", vec![abc()], s("a")),
            ("first empty", "first", vec![l(vec![])], Value::Nil),
            ("last", "last", vec![abc()], s("c")),
            ("rest", "rest", vec![abc()], l(vec![s("b"), s("c")])),
            ("rest empty", "rest", vec![l(vec![])], l(vec![])),
            ("initial", "initial", vec![abc()], l(vec![s("a"), s("b")])),
            ("reverse", "reverse", vec![abc()], l(vec![s("c"), s("b"), s("a")])),
            (
                "uniq",
                "uniq",
                vec![l(vec![i(1), i(2), i(1), Value::Float(1.0)])],
                l(vec![i(1), i(2), Value::Float(1.0)]),
            ),
            (
                "compact",
                "compact",
                vec![l(vec![i(1), i(0), s(""), Value::Nil, s("a"), Value::Bool(false)])],
                l(vec![i(1), s("a")]),
            ),
            (
                "without",
                "without",
                vec![l(vec![i(1), i(2), i(3), i(4)]), i(1), i(3)],
                l(vec![i(2), i(4)]),
            ),
            ("has", "has", vec![i(2), l(vec![i(1), i(2)])], Value::Bool(true)),
            (
                "has float vs int",
                "has",
                vec![Value::Float(2.0), l(vec![i(1), i(2)])],
                Value::Bool(false),
            ),
            (
                "has nil haystack",
                "has",
                vec![i(1), Value::Nil],
                Value::Bool(false),
            ),
            ("slice all", "slice", vec![abc()], abc()),
            ("slice 1", "slice", vec![abc(), i(1)], l(vec![s("b"), s("c")])),
            ("slice 1 2", "slice", vec![abc(), i(1), i(2)], l(vec![s("b")])),
            ("slice empty", "slice", vec![l(vec![])], Value::Nil),
            (
                "concat",
                "concat",
                vec![l(vec![i(1)]), l(vec![i(2), i(3)])],
                l(vec![i(1), i(2), i(3)]),
            ),
            (
                "chunk",
                "chunk",
                vec![i(2), l(vec![i(1), i(2), i(3)])],
                Value::typed_list("[][]interface {}", vec![l(vec![i(1), i(2)]), l(vec![i(3)])]),
            ),
            ("until", "until", vec![i(3)], ints(vec![0, 1, 2])),
            ("until negative", "until", vec![i(-3)], ints(vec![0, -1, -2])),
            (
                "untilStep",
                "untilStep",
                vec![i(0), i(10), i(3)],
                ints(vec![0, 3, 6, 9]),
            ),
            (
                "untilStep down",
                "untilStep",
                vec![i(3), i(0), i(-1)],
                ints(vec![3, 2, 1]),
            ),
            (
                "untilStep wrong way",
                "untilStep",
                vec![i(0), i(3), i(-1)],
                ints(vec![]),
            ),
            // seq expectations from sprig's numeric_test.go.
            ("seq 0 1 3", "seq", vec![i(0), i(1), i(3)], s("0 1 2 3")),
            ("seq 0 3 10", "seq", vec![i(0), i(3), i(10)], s("0 3 6 9")),
            ("seq 3 3 2", "seq", vec![i(3), i(3), i(2)], s("")),
            ("seq 3 -3 2", "seq", vec![i(3), i(-3), i(2)], s("3")),
            ("seq 0", "seq", vec![i(0)], s("1 0")),
            ("seq 1", "seq", vec![i(1)], s("1")),
            ("seq -5", "seq", vec![i(-5)], s("1 0 -1 -2 -3 -4 -5")),
            ("seq 0 5", "seq", vec![i(0), i(5)], s("0 1 2 3 4 5")),
            ("seq 5 -3 0", "seq", vec![i(5), i(-3), i(0)], s("5 2")),
            ("seq none", "seq", vec![], s("")),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Ok(want), "case {case}");
        }
    }

    #[test]
    fn list_errors() {
        let cases: Vec<(&str, &str, Vec<Value>, &str)> = vec![
            (
                "first string",
                "first",
                vec![s("abc")],
                "Cannot find first on type string",
            ),
            (
                "mustLast map",
                "mustLast",
                vec![Value::new_map()],
                "Cannot find last on type map",
            ),
            ("push int", "push", vec![i(1), i(2)], "Cannot push on type int"),
            ("first nil", "first", vec![Value::Nil], super::super::NIL_DEREF),
            (
                "slice string",
                "slice",
                vec![s("abc")],
                "list should be type of slice or array but string",
            ),
            (
                "slice out of range",
                "slice",
                vec![l(vec![i(1)]), i(0), i(3)],
                "reflect.Value.Slice: slice index out of bounds",
            ),
            (
                "concat string",
                "concat",
                vec![s("x")],
                "Cannot concat type string as list",
            ),
            (
                "chunk string",
                "chunk",
                vec![i(2), s("x")],
                "Cannot chunk type string",
            ),
        ];
        for (case, name, args, want) in cases {
            assert_eq!(call(name, args), Err(want.to_string()), "case {case}");
        }
    }
}
