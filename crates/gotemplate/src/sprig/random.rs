//! Sprig's random functions: `randAlphaNum`, `randAlpha`, `randNumeric`, `randAscii`,
//! `randBytes` and `uuidv4`.
//!
//! Sprig draws from `crypto/rand` (through goutils' `CryptoRandom*`); the OS generator is used
//! here too. Output is random by nature, so only its shape matches Helm's: the same alphabets,
//! lengths, base64 and UUID layout. As in Sprig, a negative length gives an empty string
//! (goutils' error is dropped), except `randBytes`, where Go's `make` panics.

use base64::Engine as _;
use rand::{rngs::OsRng, Rng, RngCore};

use crate::{FuncMap, FuncResult, Value};

/// Registers the random functions.
pub fn register(m: &mut FuncMap) {
    m.insert_simple("randAlphaNum", rand_alpha_num);
    m.insert_simple("randAlpha", rand_alpha);
    m.insert_simple("randNumeric", rand_numeric);
    m.insert_simple("randAscii", rand_ascii);
    m.insert_simple("randBytes", rand_bytes);
    m.insert_simple("uuidv4", uuidv4);
}

const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: &[u8] = b"0123456789";

/// The single `int` argument; Go's template engine refuses non-integers for an `int` parameter.
fn count_arg(name: &str, args: &[Value]) -> Result<i64, String> {
    match args {
        [Value::Int(n)] => Ok(*n),
        [other] => Err(format!(
            "wrong type for value; expected int; got {}",
            other.type_name()
        )),
        _ => Err(format!(
            "wrong number of args for {name}: want 1 got {}",
            args.len()
        )),
    }
}

/// Go's `makeslice` refuses a slice of more than 2^48 bytes (amd64's `maxAlloc`) with this
/// panic, which text/template turns into the call's error: goutils makes a `[]rune` of the
/// length (4 bytes each), `randBytes` a `[]byte`.
const MAKESLICE: &str = "runtime error: makeslice: len out of range";
const MAX_ALLOC: i64 = 1 << 48;

/// Longest random text we make: the bound `repeat` has. Between it and Go's `makeslice` limit,
/// Helm allocates until the process dies; we say why instead.
const MAX_LEN: i64 = 1 << 31;

/// Checks a requested length against Go's `makeslice` limit (`elem` bytes an element) and ours.
fn checked_len(name: &str, count: i64, elem: i64) -> Result<usize, String> {
    if count > MAX_ALLOC / elem {
        return Err(MAKESLICE.to_string());
    }
    if count > MAX_LEN {
        return Err(format!("{name}: length {count} is over the limit of {MAX_LEN}"));
    }
    Ok(usize::try_from(count).unwrap_or(0))
}

/// `count` characters drawn uniformly from the union of `sets`.
fn random_string(name: &str, args: &[Value], sets: &[&[u8]]) -> FuncResult {
    let n = checked_len(name, count_arg(name, args)?, 4)?;
    let alphabet: Vec<u8> = sets.concat();
    let mut rng = OsRng;
    let s: String = (0..n)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect();
    Ok(Value::str(s))
}

fn rand_alpha_num(args: &[Value]) -> FuncResult {
    random_string("randAlphaNum", args, &[LETTERS, DIGITS])
}

fn rand_alpha(args: &[Value]) -> FuncResult {
    random_string("randAlpha", args, &[LETTERS])
}

fn rand_numeric(args: &[Value]) -> FuncResult {
    random_string("randNumeric", args, &[DIGITS])
}

fn rand_ascii(args: &[Value]) -> FuncResult {
    // Printable ASCII, space through tilde (goutils' range 32..127).
    let printable: Vec<u8> = (32u8..127).collect();
    random_string("randAscii", args, &[&printable])
}

fn rand_bytes(args: &[Value]) -> FuncResult {
    let n = count_arg("randBytes", args)?;
    if n < 0 {
        return Err(MAKESLICE.to_string());
    }
    let n = checked_len("randBytes", n, 1)?;
    let mut buf = vec![0u8; n];
    OsRng.fill_bytes(&mut buf);
    Ok(Value::str(base64::engine::general_purpose::STANDARD.encode(buf)))
}

/// A random (version 4, RFC 4122 variant) UUID in lowercase hex, as google/uuid prints it.
pub fn new_uuid_v4() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn uuidv4(args: &[Value]) -> FuncResult {
    if !args.is_empty() {
        return Err(format!(
            "wrong number of args for uuidv4: want 0 got {}",
            args.len()
        ));
    }
    Ok(Value::str(new_uuid_v4()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sprig::test_support::text;

    #[test]
    fn random_strings_have_length_and_alphabet() {
        type F = fn(&[Value]) -> FuncResult;
        type Case = (&'static str, F, fn(u8) -> bool);
        let cases: [Case; 4] = [
            ("alpha_num", rand_alpha_num, |c| c.is_ascii_alphanumeric()),
            ("alpha", rand_alpha, |c| c.is_ascii_alphabetic()),
            ("numeric", rand_numeric, |c| c.is_ascii_digit()),
            ("ascii", rand_ascii, |c| (32..127).contains(&c)),
        ];
        for (name, f, allowed) in cases {
            for n in [0, 1, 64] {
                let s = text(f(&[Value::Int(n)]));
                assert_eq!(s.len(), n as usize, "{name} length {n}");
                assert!(s.bytes().all(allowed), "{name} alphabet: {s:?}");
            }
            assert_eq!(text(f(&[Value::Int(-1)])), "", "{name} negative");
            assert!(f(&[Value::Float(3.0)]).is_err(), "{name} float argument");
        }
    }

    #[test]
    fn rand_bytes_is_base64_of_length() {
        for n in [0usize, 1, 32] {
            let s = text(rand_bytes(&[Value::Int(n as i64)]));
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(&s)
                .expect("base64");
            assert_eq!(decoded.len(), n, "decoded length {n}");
        }
        assert!(
            rand_bytes(&[Value::Int(-1)]).is_err(),
            "negative length panics in Go"
        );
    }

    /// Issue 20: huge lengths aborted the process ("memory allocation failed"). Past Go's
    /// `makeslice` limit Helm's error; between it and ours a clear error; nothing is allocated.
    #[test]
    fn huge_lengths_are_errors() {
        type F = fn(&[Value]) -> FuncResult;
        let cases: [(&str, F, i64, &str); 8] = [
            ("randAlphaNum", rand_alpha_num, i64::MAX, MAKESLICE),
            ("randAlpha", rand_alpha, i64::MAX, MAKESLICE),
            ("randNumeric", rand_numeric, 1 << 47, MAKESLICE),
            ("randAscii", rand_ascii, i64::MAX, MAKESLICE),
            ("randBytes", rand_bytes, i64::MAX, MAKESLICE),
            (
                "randAlphaNum",
                rand_alpha_num,
                1 << 40,
                "randAlphaNum: length 1099511627776 is over the limit of 2147483648",
            ),
            (
                "randAscii",
                rand_ascii,
                (1 << 31) + 1,
                "randAscii: length 2147483649 is over the limit of 2147483648",
            ),
            (
                "randBytes",
                rand_bytes,
                1 << 47,
                "randBytes: length 140737488355328 is over the limit of 2147483648",
            ),
        ];
        for (name, f, n, want) in cases {
            assert_eq!(f(&[Value::Int(n)]).err().as_deref(), Some(want), "{name} {n}");
        }
    }

    #[test]
    fn uuid_shape() {
        let u = text(uuidv4(&[]));
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12],
            "{u}"
        );
        assert!(
            u.bytes()
                .all(|c| c == b'-' || c.is_ascii_digit() || (b'a'..=b'f').contains(&c)),
            "{u}"
        );
        assert!(parts[2].starts_with('4'), "version nibble: {u}");
        assert!(
            matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "variant: {u}"
        );
        assert_ne!(u, text(uuidv4(&[])), "two uuids differ");
    }
}
