//! Go's `fmt` verbs over [`Value`]: what `print`, `printf`, `println` and `{{ . }}` produce.
//!
//! (Signatures fixed; bodies to be completed by the template-engine work.)

use super::Value;

/// `fmt.Sprint(args...)`: operands joined, with a space between two operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::Str(_)) && !matches!(args[i - 1], Value::Str(_)) {
            out.push(' ');
        }
        out.push_str(&format_v(a));
    }
    out
}

/// `fmt.Sprintln(args...)`: operands always space-separated, plus a newline.
pub fn sprintln(args: &[Value]) -> String {
    let mut out: Vec<String> = args.iter().map(format_v).collect::<Vec<_>>();
    out.push(String::new());
    out.join(" ").trim_end_matches(' ').to_string() + "\n"
}

/// `fmt.Sprintf(format, args...)` with Go's verbs, flags, width and precision, and Go's
/// `%!v(MISSING)` / `%!(EXTRA ...)` / `%!d(string=x)` error forms.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let _ = (format, args);
    String::new()
}

/// `fmt.Sprint(v)` of one value (`%v`): `[a b]` for lists, `map[k:v]` for maps, `<nil>` for nil,
/// floats as `strconv.FormatFloat(f, 'g', -1, 64)` (`1e+06`).
pub fn format_v(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        _ => format!("{v:?}"),
    }
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`: shortest digits that round-trip; the `%e` form (`1e+06`,
/// `1.5e-07`) when the decimal exponent is < -4 or >= 6, else plain (`100000`, `0.0001`).
pub fn format_float_g(f: f64) -> String {
    format!("{f}")
}
