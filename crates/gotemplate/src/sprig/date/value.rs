//! A `time.Time` as a template value: what printing, `toJson` and method calls see.

use super::*;

/// A `time.Time` seen from templates.
pub struct TimeValue(pub Time);

/// Hidden member carrying the instant across `Rc<dyn Object>`; templates cannot name it (a NUL
/// is never part of an identifier).
pub(super) const HIDDEN: &str = "\0time.Time";

impl TimeValue {
    /// Wraps a time as a template value.
    pub fn wrap(t: Time) -> Value {
        Value::Object(Rc::new(TimeValue(t)))
    }
}

/// The `time.Time` inside a value, if it is one.
pub fn time_of(v: &Value) -> Option<Time> {
    let Value::Object(o) = v else { return None };
    if o.type_name() != "time.Time" {
        return None;
    }
    from_hidden(&o.field(HIDDEN)?)
}

/// The `time.Time` from its hidden member's parts.
fn from_hidden(parts: &Value) -> Option<Time> {
    let Value::List(parts) = parts else {
        return None;
    };
    let int = |i: usize| match parts.get(i) {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    };
    Some(Time {
        unix: int(0)?,
        nanos: u32::try_from(int(1)?).ok()?,
        zone: parts.get(2)?.as_str()?.to_string(),
        offset: i32::try_from(int(3)?).ok()?,
        mono: int(4),
    })
}

impl Object for TimeValue {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn kind_name(&self) -> &str {
        "struct"
    }

    /// Go's `==` on `time.Time` compares its fields: the same instant in the same zone (and the
    /// same monotonic reading, so two `now`s differ) is equal, whichever call made it.
    fn go_eq(&self, other: &dyn Object) -> bool {
        other.field(HIDDEN).and_then(|parts| from_hidden(&parts)).as_ref() == Some(&self.0)
    }

    fn field(&self, name: &str) -> Option<Value> {
        let t = &self.0;
        let c = t.civil();
        Some(match name {
            HIDDEN => Value::list(vec![
                Value::Int(t.unix),
                Value::Int(i64::from(t.nanos)),
                Value::str(t.zone.as_str()),
                Value::Int(i64::from(t.offset)),
                t.mono.map_or(Value::Nil, Value::Int),
            ]),
            "Year" => Value::Int(c.year),
            // time.Month and time.Weekday print as names.
            "Month" => Value::str(LONG_MONTHS[c.month as usize - 1]),
            "Weekday" => Value::str(LONG_DAYS[c.weekday as usize]),
            "Day" => Value::Int(i64::from(c.day)),
            "Hour" => Value::Int(i64::from(c.hour)),
            "Minute" => Value::Int(i64::from(c.minute)),
            "Second" => Value::Int(i64::from(c.second)),
            "Nanosecond" => Value::Int(i64::from(t.nanos)),
            "YearDay" => Value::Int(i64::from(c.yday)),
            "Unix" => Value::Int64(t.unix),
            "UnixMilli" => Value::Int64(t.unix.saturating_mul(1000) + i64::from(t.nanos / 1_000_000)),
            "UnixMicro" => Value::Int64(t.unix.saturating_mul(1_000_000) + i64::from(t.nanos / 1000)),
            "UnixNano" => Value::Int64(t.unix.saturating_mul(NANOS_PER_SEC) + i64::from(t.nanos)),
            "IsZero" => Value::Bool(t.unix == ZERO_TIME_UNIX && t.nanos == 0),
            "UTC" | "Local" => TimeValue::wrap(t.in_utc()),
            "String" => Value::str(t.go_string()),
            _ => return None,
        })
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let t = &self.0;
        let one = || -> Result<&Value, String> {
            match args {
                [a] => Ok(a),
                _ => Err(format!(
                    "wrong number of args for {name}: want 1 got {}",
                    args.len()
                )),
            }
        };
        let result = match name {
            "Format" => one().and_then(|a| match a {
                Value::Str(l) => Ok(Value::str(t.format(l))),
                other => Err(format!(
                    "wrong type for value; expected string; got {}",
                    other.type_name()
                )),
            }),
            "Add" => one().and_then(|a| match a {
                Value::Int(d) => Ok(TimeValue::wrap(t.add(*d))),
                other => Err(format!(
                    "wrong type for value; expected time.Duration; got {}",
                    other.type_name()
                )),
            }),
            "Before" | "After" | "Equal" => one().and_then(|a| {
                let o = time_of(a).ok_or_else(|| {
                    format!("wrong type for value; expected time.Time; got {}", a.type_name())
                })?;
                let ord = t.unix_nanos().cmp(&o.unix_nanos());
                Ok(Value::Bool(match name {
                    "Before" => ord.is_lt(),
                    "After" => ord.is_gt(),
                    _ => ord.is_eq(),
                }))
            }),
            _ => return self.field(name).map(Ok),
        };
        Some(result)
    }

    fn go_string(&self) -> String {
        self.0.go_string()
    }

    fn to_plain(&self) -> Option<Value> {
        // MarshalJSON: RFC 3339 with nanoseconds.
        Some(Value::str(self.0.format("2006-01-02T15:04:05.999999999Z07:00")))
    }
}
