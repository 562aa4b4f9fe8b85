//! Masterminds/semver v3.3 versions and constraints, as Helm uses them.
//!
//! Charts gate resources on the cluster version with `semverCompare ">=1.21-0"
//! .Capabilities.KubeVersion.GitVersion`, and Helm checks `kubeVersion` and dependency ranges with
//! the same library, so its quirks matter more than the SemVer spec: loose versions (`v1.2`, `1`),
//! `x`/`*` wildcards, hyphen ranges rewritten into `>= a, <= b`, and the rule that a constraint
//! without a prerelease never matches a prerelease version (while `>=1.21-0` does).
//!
//! Parsing follows the library's own regular expressions (RE2 and the `regex` crate share
//! leftmost-first semantics), so what is accepted or rejected matches Go. Error messages keep the
//! library's exact wording (capitalised) because Helm prints them verbatim.

use std::{cmp::Ordering, fmt, sync::OnceLock};

use regex::Regex;

/// A parsed version (Masterminds' `*semver.Version`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// Prerelease without the leading `-` (`beta.1`), empty if none.
    pub pre: String,
    /// Build metadata without the leading `+`, empty if none.
    pub metadata: String,
    /// The text that was parsed (`Original()`).
    pub original: String,
}

// Go's `\s` in RE2 is ASCII-only; the `regex` crate's is Unicode.
const WS: &str = r"[\t\n\f\r ]";

#[cfg(test)]
const SEMVER_RE: &str = r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";

// A constraint's version: like a version, but each number may be `x`, `X` or `*`.
const CV_RE: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";

// The empty alternative is deliberate: a bare version means "=" (or "~" when it has wildcards).
const OPS_RE: &str = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^";

fn regex(cell: &'static OnceLock<Regex>, build: impl FnOnce() -> String) -> &'static Regex {
    // The patterns are constants, so compiling cannot fail at run time once the tests pass.
    cell.get_or_init(|| Regex::new(&build()).expect("constant semver regex"))
}

#[cfg(test)]
fn version_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(&R, || format!("^{SEMVER_RE}$"))
}

fn constraint_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(&R, || format!(r"^{WS}*({OPS_RE}){WS}*({CV_RE}){WS}*$"))
}

fn range_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(&R, || format!(r"{WS}*({CV_RE}){WS}+-{WS}+({CV_RE}){WS}*"))
}

fn find_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(&R, || format!(r"({OPS_RE}){WS}*({CV_RE})"))
}

fn valid_regex() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    regex(&R, || {
        format!(r"^({WS}*({OPS_RE}){WS}*({CV_RE}){WS}*)((?:{WS}+|,{WS}*)({OPS_RE}){WS}*({CV_RE}){WS}*)*$")
    })
}

const ERR_INVALID_SEMVER: &str = "Invalid Semantic Version";
const ERR_SEGMENT_STARTS_ZERO: &str = "Version segment starts with 0";
const ERR_INVALID_METADATA: &str = "Invalid Metadata string";
const ERR_INVALID_PRERELEASE: &str = "Invalid Prerelease string";

fn is_alnum_hyphen(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn validate_prerelease(p: &str) -> Result<(), String> {
    for part in p.split('.') {
        if part.bytes().all(|b| b.is_ascii_digit()) {
            if part.len() > 1 && part.starts_with('0') {
                return Err(ERR_SEGMENT_STARTS_ZERO.into());
            }
        } else if !is_alnum_hyphen(part) {
            return Err(ERR_INVALID_PRERELEASE.into());
        }
    }
    Ok(())
}

fn validate_metadata(m: &str) -> Result<(), String> {
    if m.split('.').all(is_alnum_hyphen) {
        Ok(())
    } else {
        Err(ERR_INVALID_METADATA.into())
    }
}

fn parse_segment(digits: &str) -> Result<u64, String> {
    digits.parse::<u64>().map_err(|_| {
        format!("Error parsing version segment: strconv.ParseUint: parsing {digits:?}: value out of range")
    })
}

/// Masterminds' `NewVersion`: a loose version (`v1.2`, `1`, `1.2.3-beta.1+meta`,
/// `v1.28.3-gke.1286000`); missing minor/patch numbers are 0.
pub fn parse_version(s: &str) -> Result<Version, String> {
    let parts = VersionParts::scan(s).ok_or(ERR_INVALID_SEMVER)?;
    let number = |g: &str| -> Result<u64, String> {
        if g.is_empty() {
            Ok(0)
        } else {
            parse_segment(g.trim_start_matches('.'))
        }
    };
    let v = Version {
        major: parse_segment(parts.major)?,
        minor: number(parts.minor)?,
        patch: number(parts.patch)?,
        pre: parts.pre.get(1..).unwrap_or_default().to_string(),
        metadata: parts.metadata.get(1..).unwrap_or_default().to_string(),
        original: s.to_string(),
    };
    if !v.pre.is_empty() {
        validate_prerelease(&v.pre)?;
    }
    if !v.metadata.is_empty() {
        validate_metadata(&v.metadata)?;
    }
    Ok(v)
}

/// The capture groups of the library's version pattern (`SEMVER_RE`, or `CV_RE` for a constraint's
/// version), found by a hand-written scanner: compiling the regular expressions took half a
/// millisecond per process, 5% of a `template` run on a chart with a `kubeVersion`. The pattern is
/// a sequence of greedy groups where backing off never helps (each group ends where the next one's
/// first character begins), so one left-to-right pass accepts exactly what it accepts; the tests
/// compare the two on generated strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct VersionParts<'a> {
    /// Everything matched (the optional `v` included).
    whole: &'a str,
    major: &'a str,
    /// `.N`, or empty.
    minor: &'a str,
    /// `.N`, or empty.
    patch: &'a str,
    /// `-pre.release`, or empty.
    pre: &'a str,
    /// `+build.meta`, or empty.
    metadata: &'a str,
}

impl<'a> VersionParts<'a> {
    /// `^SEMVER_RE$`: numbers are digits.
    fn scan(s: &'a str) -> Option<Self> {
        Self::scan_with(s, is_digits)
    }

    /// `^CV_RE$` restricted to numbers that are digits or one wildcard (`x`, `X`, `*`); other
    /// mixes the pattern allows (`1x`, `|`) are left to the regular expression.
    fn scan_constraint(s: &'a str) -> Option<Self> {
        Self::scan_with(s, |n| is_x(n) || is_digits(n))
    }

    fn scan_with(s: &'a str, number: impl Fn(&str) -> bool) -> Option<Self> {
        let b = s.as_bytes();
        let start = usize::from(b.first() == Some(&b'v'));
        // A number runs to the next '.', '-', '+' or the end.
        let number_end = |from: usize| {
            b[from..]
                .iter()
                .position(|c| matches!(c, b'.' | b'-' | b'+'))
                .map_or(b.len(), |p| from + p)
        };
        let mut at = number_end(start);
        let major = &s[start..at];
        if !number(major) {
            return None;
        }
        let mut dotted = [""; 2];
        for slot in &mut dotted {
            if b.get(at) != Some(&b'.') {
                break;
            }
            let end = number_end(at + 1);
            if !number(&s[at + 1..end]) {
                return None;
            }
            *slot = &s[at..end];
            at = end;
        }
        // Identifiers of [0-9A-Za-z-], dot-separated, none empty, up to `stop` or the end.
        let idents = |from: usize, stop: Option<u8>| -> Option<usize> {
            let end = match stop {
                Some(c) => b[from..]
                    .iter()
                    .position(|&x| x == c)
                    .map_or(b.len(), |p| from + p),
                None => b.len(),
            };
            let ok = s[from..end]
                .split('.')
                .all(|id| !id.is_empty() && is_alnum_hyphen(id));
            ok.then_some(end)
        };
        let mut pre = "";
        if b.get(at) == Some(&b'-') {
            let end = idents(at + 1, Some(b'+'))?;
            pre = &s[at..end];
            at = end;
        }
        let mut metadata = "";
        if b.get(at) == Some(&b'+') {
            let end = idents(at + 1, None)?;
            metadata = &s[at..end];
            at = end;
        }
        (at == b.len()).then_some(VersionParts {
            whole: s,
            major,
            minor: dotted[0],
            patch: dotted[1],
            pre,
            metadata,
        })
    }
}

/// Compares two prerelease identifiers field by field: numeric fields numerically and below
/// alphanumeric ones, and a missing field sorts first.
fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let pa: Vec<&str> = a.split('.').collect();
    let pb: Vec<&str> = b.split('.').collect();
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).copied().unwrap_or("");
        let y = pb.get(i).copied().unwrap_or("");
        let d = compare_pre_part(x, y);
        if d != Ordering::Equal {
            return d;
        }
    }
    Ordering::Equal
}

fn compare_pre_part(s: &str, o: &str) -> Ordering {
    if s == o {
        return Ordering::Equal;
    }
    if s.is_empty() {
        return Ordering::Less;
    }
    if o.is_empty() {
        return Ordering::Greater;
    }
    match (s.parse::<u64>(), o.parse::<u64>()) {
        (Err(_), Err(_)) => s.cmp(o),
        // Only `o` is numeric: numbers sort before words.
        (Err(_), Ok(_)) => Ordering::Greater,
        (Ok(_), Err(_)) => Ordering::Less,
        (Ok(x), Ok(y)) => {
            // Equal numbers with different spellings cannot occur after validation; Go then says -1.
            if x > y {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
    }
}

impl Version {
    /// SemVer precedence: numbers, then a prerelease sorts before the release; metadata ignored.
    pub fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_prerelease(&self.pre, &o.pre),
            })
    }

    /// The `v` prefix of the original text, kept by the `Inc*` methods.
    fn v_prefix(&self) -> &str {
        if self.original.starts_with('v') {
            "v"
        } else {
            ""
        }
    }

    fn with_original(mut self, prefix: &str) -> Version {
        self.original = format!("{prefix}{self}");
        self
    }

    /// `IncPatch`: drops a prerelease (and metadata) or else bumps the patch number.
    pub fn inc_patch(&self) -> Version {
        let mut n = self.clone();
        n.metadata.clear();
        if n.pre.is_empty() {
            n.patch += 1;
        }
        n.pre.clear();
        n.with_original(self.v_prefix())
    }

    /// `IncMinor`.
    pub fn inc_minor(&self) -> Version {
        let mut n = self.clone();
        n.metadata.clear();
        n.pre.clear();
        n.patch = 0;
        n.minor += 1;
        n.with_original(self.v_prefix())
    }

    /// `IncMajor`.
    pub fn inc_major(&self) -> Version {
        let mut n = self.clone();
        n.metadata.clear();
        n.pre.clear();
        n.patch = 0;
        n.minor = 0;
        n.major += 1;
        n.with_original(self.v_prefix())
    }
}

impl fmt::Display for Version {
    /// `String()`: normalised, without the `v` prefix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.metadata.is_empty() {
            write!(f, "+{}", self.metadata)?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    TildeOrEqual,
    NotEqual,
    Greater,
    Less,
    GreaterEqual,
    LessEqual,
    Tilde,
    Caret,
}

/// One comparison, e.g. `>= 1.2` (version `1.2.0`, patch dirty).
#[derive(Clone, Debug)]
struct Constraint {
    con: Version,
    orig: String,
    op_text: String,
    op: Op,
    minor_dirty: bool,
    patch_dirty: bool,
    dirty: bool,
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

fn parse_constraint(c: &str) -> Result<Constraint, String> {
    // Unreachable through `Constraints::parse` (an empty segment fails validation), but the
    // library defines an empty constraint as "anything", like `*`.
    if c.is_empty() {
        return Ok(Constraint {
            con: Version {
                major: 0,
                minor: 0,
                patch: 0,
                pre: String::new(),
                metadata: String::new(),
                original: "0.0.0".into(),
            },
            orig: String::new(),
            op_text: String::new(),
            op: Op::TildeOrEqual,
            minor_dirty: false,
            patch_dirty: false,
            dirty: true,
        });
    }
    let m = constraint_regex()
        .captures(c)
        .ok_or_else(|| format!("improper constraint: {c}"))?;
    let group = |i: usize| m.get(i).map_or("", |g| g.as_str());
    build_constraint(
        group(1),
        VersionParts {
            whole: group(2),
            major: group(3),
            minor: group(4),
            patch: group(5),
            pre: group(6),
            metadata: "",
        },
    )
}

/// The comparison for operator `op_text` and a constraint version's groups (its `metadata` part
/// is not used: the pattern's text in `whole` carries it).
fn build_constraint(op_text: &str, v: VersionParts<'_>) -> Result<Constraint, String> {
    let op = match op_text {
        "" | "=" => Op::TildeOrEqual,
        "!=" => Op::NotEqual,
        ">" => Op::Greater,
        "<" => Op::Less,
        ">=" | "=>" => Op::GreaterEqual,
        "<=" | "=<" => Op::LessEqual,
        "~" | "~>" => Op::Tilde,
        _ => Op::Caret,
    };
    let (major, minor, patch, pre) = (v.major, v.minor, v.patch, v.pre);
    let (mut minor_dirty, mut patch_dirty, mut dirty) = (false, false, false);
    // Wildcards and missing parts become zeros (metadata is dropped with them).
    let ver = if is_x(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
        minor_dirty = true;
        dirty = true;
        format!("{major}.0.0{pre}")
    } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
        patch_dirty = true;
        dirty = true;
        format!("{major}{minor}.0{pre}")
    } else {
        v.whole.to_string()
    };
    let con = parse_version(&ver).map_err(|_| "constraint Parser Error".to_string())?;
    Ok(Constraint {
        con,
        orig: v.whole.to_string(),
        op_text: op_text.to_string(),
        op,
        minor_dirty,
        patch_dirty,
        dirty,
    })
}

impl Constraint {
    fn check(&self, v: &Version) -> bool {
        // A prerelease only satisfies constraints that themselves name a prerelease
        // (Masterminds issue 21); `!=` applies this only to wildcard constraints.
        let pre_blocked = !v.pre.is_empty() && self.con.pre.is_empty();
        match self.op {
            Op::NotEqual => self.not_equal(v),
            _ if pre_blocked => false,
            Op::TildeOrEqual => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    v.compare(&self.con) == Ordering::Equal
                }
            }
            Op::Greater => self.greater(v),
            Op::Less => v.compare(&self.con) == Ordering::Less,
            Op::GreaterEqual => v.compare(&self.con) != Ordering::Less,
            Op::LessEqual => self.less_equal(v),
            Op::Tilde => self.tilde(v),
            Op::Caret => self.caret(v),
        }
    }

    fn not_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if self.dirty {
            if !v.pre.is_empty() && c.pre.is_empty() {
                return false;
            }
            if c.major != v.major {
                return true;
            }
            if c.minor != v.minor && !self.minor_dirty {
                return true;
            } else if self.minor_dirty {
                return false;
            } else if c.patch != v.patch && !self.patch_dirty {
                return true;
            } else if self.patch_dirty {
                if !v.pre.is_empty() || !c.pre.is_empty() {
                    return compare_prerelease(&v.pre, &c.pre) != Ordering::Equal;
                }
                return false;
            }
        }
        v.compare(c) != Ordering::Equal
    }

    fn greater(&self, v: &Version) -> bool {
        let c = &self.con;
        if !self.dirty {
            return v.compare(c) == Ordering::Greater;
        }
        if v.major != c.major {
            return v.major > c.major;
        }
        // `>11` needs 12 or higher; `>11.1` needs 11.2 or higher.
        if self.minor_dirty {
            return false;
        }
        if self.patch_dirty {
            return v.minor > c.minor;
        }
        v.compare(c) == Ordering::Greater
    }

    fn less_equal(&self, v: &Version) -> bool {
        let c = &self.con;
        if !self.dirty {
            return v.compare(c) != Ordering::Greater;
        }
        if v.major > c.major {
            return false;
        }
        !(v.major == c.major && v.minor > c.minor && !self.minor_dirty)
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        if v.compare(c) == Ordering::Less {
            return false;
        }
        // `~0.0.0` accepts everything (like `>=0.0.0`).
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }
}

/// The operator and version of a constraint that is one comparison written without spaces
/// (`>=1.21.0-0`, `^2`, `1.x`), the shape nearly every chart uses, read without the regular
/// expressions. Anything else (ranges, lists, spaces, `||`, odd wildcards) returns `None` and takes
/// the library's own path. For these strings that path's validation accepts the whole text, its
/// search finds the whole text as one comparison, and the operator is the run of operator
/// characters in front (no version starts with one), so both give the same comparison.
fn simple_constraint(s: &str) -> Option<(&str, VersionParts<'_>)> {
    let split = s
        .bytes()
        .position(|b| !matches!(b, b'=' | b'!' | b'<' | b'>' | b'~' | b'^'))?;
    let (op, version) = s.split_at(split);
    let known = matches!(
        op,
        "" | "=" | "!=" | ">" | "<" | ">=" | "=>" | "<=" | "=<" | "~" | "~>" | "^"
    );
    if !known {
        return None;
    }
    Some((op, VersionParts::scan_constraint(version)?))
}

/// A parsed constraint string: OR-groups (`||`) of AND-ed comparisons.
#[derive(Clone, Debug)]
pub struct Constraints {
    ors: Vec<Vec<Constraint>>,
}

/// Rewrites each hyphen range `a - b` into `>= a, <= b ` (trailing space included, as Go does).
fn rewrite_range(s: &str) -> String {
    let mut out = s.to_string();
    for m in range_regex().captures_iter(s) {
        let whole = m.get(0).map_or("", |g| g.as_str());
        let lo = m.get(1).map_or("", |g| g.as_str());
        let hi = m.get(11).map_or("", |g| g.as_str());
        out = out.replacen(whole, &format!(">= {lo}, <= {hi} "), 1);
    }
    out
}

impl Constraints {
    /// Masterminds' `NewConstraint`.
    pub fn parse(s: &str) -> Result<Constraints, String> {
        if let Some((op, version)) = simple_constraint(s) {
            return Ok(Constraints {
                ors: vec![vec![build_constraint(op, version)?]],
            });
        }
        Self::parse_with_patterns(s)
    }

    /// The library's own path: hyphen ranges rewritten, each `||` group validated and split into
    /// comparisons by its regular expressions.
    fn parse_with_patterns(s: &str) -> Result<Constraints, String> {
        let rewritten = rewrite_range(s);
        let mut ors = Vec::new();
        for seg in rewritten.split("||") {
            if !valid_regex().is_match(seg) {
                return Err(format!("improper constraint: {seg}"));
            }
            let found: Vec<&str> = find_regex().find_iter(seg).map(|m| m.as_str()).collect();
            let parts = if found.is_empty() { vec![seg] } else { found };
            ors.push(
                parts
                    .into_iter()
                    .map(parse_constraint)
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        Ok(Constraints { ors })
    }

    /// `Check`: true if every comparison of at least one OR-group holds.
    pub fn matches(&self, v: &Version) -> bool {
        self.ors.iter().any(|and| and.iter().all(|c| c.check(v)))
    }
}

impl fmt::Display for Constraints {
    /// `String()`: each comparison as operator + original version, groups joined by ` || `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let groups: Vec<String> = self
            .ors
            .iter()
            .map(|and| {
                and.iter()
                    .map(|c| format!("{}{}", c.op_text, c.orig))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        f.write_str(&groups.join(" || "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(c: &str, v: &str) -> bool {
        let ver = parse_version(v).unwrap_or_else(|e| panic!("version {v}: {e}"));
        if c.is_empty() {
            // Go's table checks the empty constraint through parseConstraint directly.
            return parse_constraint(c).expect("empty constraint").check(&ver);
        }
        let cs = Constraints::parse(c).unwrap_or_else(|e| panic!("constraint {c}: {e}"));
        cs.matches(&ver)
    }

    /// (constraint, version, expected) from Masterminds/semver v3.3.0 constraints_test.go
    /// (TestConstraintCheck and TestConstraintsCheck, duplicates dropped).
    const MASTERMINDS_TABLE: &[(&str, &str, bool)] = &[
        ("=2.0.0", "1.2.3", false),
        ("=2.0.0", "2.0.0", true),
        ("=2.0", "1.2.3", false),
        ("=2.0", "2.0.0", true),
        ("=2.0", "2.0.1", true),
        ("4.1", "4.1.0", true),
        ("!=4.1.0", "4.1.0", false),
        ("!=4.1.0", "4.1.1", true),
        ("!=4.1", "4.1.0", false),
        ("!=4.1", "4.1.1", false),
        ("!=4.1", "5.1.0-alpha.1", false),
        ("!=4.1-alpha", "4.1.0", true),
        ("!=4.1", "5.1.0", true),
        ("<11", "0.1.0", true),
        ("<11", "11.1.0", false),
        ("<1.1", "0.1.0", true),
        ("<1.1", "1.1.0", false),
        ("<1.1", "1.1.1", false),
        ("<=11", "1.2.3", true),
        ("<=11", "12.2.3", false),
        ("<=11", "11.2.3", true),
        ("<=1.1", "1.2.3", false),
        ("<=1.1", "0.1.0", true),
        ("<=1.1", "1.1.0", true),
        ("<=1.1", "1.1.1", true),
        (">1.1", "4.1.0", true),
        (">1.1", "1.1.0", false),
        (">0", "0", false),
        (">0", "1", true),
        (">0", "0.0.1-alpha", false),
        (">0.0", "0.0.1-alpha", false),
        (">0-0", "0.0.1-alpha", false),
        (">0.0-0", "0.0.1-alpha", false),
        (">0", "0.0.0-alpha", false),
        (">0-0", "0.0.0-alpha", false),
        (">0.0.0-0", "0.0.0-alpha", true),
        (">1.2.3-alpha.1", "1.2.3-alpha.2", true),
        (">1.2.3-alpha.1", "1.3.3-alpha.2", true),
        (">11", "11.1.0", false),
        (">11.1", "11.1.0", false),
        (">11.1", "11.1.1", false),
        (">11.1", "11.2.1", true),
        (">=11", "11.1.2", true),
        (">=11.1", "11.1.2", true),
        (">=11.1", "11.0.2", false),
        (">=1.1", "4.1.0", true),
        (">=1.1", "1.1.0", true),
        (">=1.1", "0.0.9", false),
        (">=0", "0.0.1-alpha", false),
        (">=0.0", "0.0.1-alpha", false),
        (">=0-0", "0.0.1-alpha", true),
        (">=0.0-0", "0.0.1-alpha", true),
        (">=0", "0.0.0-alpha", false),
        (">=0-0", "0.0.0-alpha", true),
        (">=0.0.0-0", "0.0.0-alpha", true),
        (">=0.0.0-0", "1.2.3", true),
        (">=0.0.0-0", "3.4.5-beta.1", true),
        ("<0", "0.0.0-alpha", false),
        ("<0-z", "0.0.0-alpha", true),
        (">=0", "0", true),
        ("=0", "1", false),
        ("*", "1", true),
        ("*", "4.5.6", true),
        ("*", "1.2.3-alpha.1", false),
        ("*-0", "1.2.3-alpha.1", true),
        ("2.*", "1", false),
        ("2.*", "3.4.5", false),
        ("2.*", "2.1.1", true),
        ("2.1.*", "2.1.1", true),
        ("2.1.*", "2.2.1", false),
        ("", "1", true),
        ("", "4.5.6", true),
        ("", "1.2.3-alpha.1", false),
        ("2", "1", false),
        ("2", "3.4.5", false),
        ("2", "2.1.1", true),
        ("2.1", "2.1.1", true),
        ("2.1", "2.2.1", false),
        ("~1.2.3", "1.2.4", true),
        ("~1.2.3", "1.3.4", false),
        ("~1.2", "1.2.4", true),
        ("~1.2", "1.3.4", false),
        ("~1", "1.2.4", true),
        ("~1", "2.3.4", false),
        ("~0.2.3", "0.2.5", true),
        ("~0.2.3", "0.3.5", false),
        ("~1.2.3-beta.2", "1.2.3-beta.4", true),
        ("~1.2.3-beta.2", "1.2.4-beta.2", true),
        ("~1.2.3-beta.2", "1.3.4-beta.2", false),
        ("^1.2.3", "1.8.9", true),
        ("^1.2.3", "2.8.9", false),
        ("^1.2.3", "1.2.1", false),
        ("^1.1.0", "2.1.0", false),
        ("^1.2.0", "2.2.1", false),
        ("^1.2.0", "1.2.1-alpha.1", false),
        ("^1.2.0-alpha.0", "1.2.1-alpha.1", true),
        ("^1.2.0-alpha.0", "1.2.1-alpha.0", true),
        ("^1.2.0-alpha.2", "1.2.0-alpha.1", false),
        ("^1.2", "1.8.9", true),
        ("^1.2", "2.8.9", false),
        ("^1", "1.8.9", true),
        ("^1", "2.8.9", false),
        ("^0.2.3", "0.2.5", true),
        ("^0.2.3", "0.5.6", false),
        ("^0.2", "0.2.5", true),
        ("^0.2", "0.5.6", false),
        ("^0.0.3", "0.0.3", true),
        ("^0.0.3", "0.0.4", false),
        ("^0.0", "0.0.3", true),
        ("^0.0", "0.1.4", false),
        ("^0.0", "1.0.4", false),
        ("^0", "0.2.3", true),
        ("^0", "1.1.4", false),
        ("^0.2.3-beta.2", "0.2.3-beta.4", true),
        ("^0.2.3-beta.2", "0.2.4-beta.2", true),
        ("^0.2.3-beta.2", "0.3.4-beta.2", false),
        ("^0.2.3-beta.2", "0.2.3-beta.2", true),
        ("*", "1.2.3", true),
        ("~0.0.0", "1.2.3", true),
        ("0.x.x", "1.2.3", false),
        ("0.0.x", "1.2.3", false),
        ("0.0.0", "1.2.3", false),
        ("^0.0.0", "1.2.3", false),
        ("= 2.0", "1.2.3", false),
        ("= 2.0", "2.0.0", true),
        ("4.1.x", "4.1.3", true),
        ("1.x", "1.4", true),
        ("!=4.1-alpha", "4.1.0-alpha", false),
        ("!=4.1-alpha", "4.1.1-alpha", false),
        ("!=4.x", "5.1.0", true),
        ("!=4.x", "4.1.0", false),
        ("!=4.1.x", "4.2.0", true),
        ("!=4.2.x", "4.2.3", false),
        ("<1.x", "1.1.1", false),
        ("<1.x", "0.1.1", true),
        ("<1.x", "2.0.0", false),
        ("<1.1.x", "1.2.1", false),
        ("<1.1.x", "1.1.500", false),
        ("<1.1.x", "1.0.500", true),
        ("<1.2.x", "1.1.1", true),
        (">=1.1", "4.1.0-beta", false),
        ("<=1.1", "0.1.0-alpha", false),
        ("<=1.1-a", "0.1.0-alpha", true),
        ("<=1.x", "1.1.0", true),
        ("<=2.x", "3.0.0", false),
        ("<=1.1.x", "1.2.500", false),
        ("<=4.5", "3.4.0", true),
        ("<=4.5", "3.7.0", true),
        ("<=4.5", "4.6.3", false),
        (">1.1, <2", "1.1.1", false),
        (">1.1, <2", "1.2.1", true),
        (">1.1, <3", "4.3.2", false),
        (">=1.1, <2, !=1.2.3", "1.2.3", false),
        (">1.1 <2", "1.1.1", false),
        (">1.1 <2", "1.2.1", true),
        (">1.1    <3", "4.3.2", false),
        (">=1.1    <2    !=1.2.3", "1.2.3", false),
        (">=1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
        (">=1.1, <2, !=1.2.3 || > 3", "3.1.2", false),
        (">=1.1, <2, !=1.2.3 || >= 3", "3.0.0", true),
        (">=1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
        (">=1.1 <2 !=1.2.3", "1.2.3", false),
        (">=1.1 <2 !=1.2.3 || > 3", "4.1.2", true),
        (">=1.1 <2 !=1.2.3 || > 3", "3.1.2", false),
        (">=1.1 <2 !=1.2.3 || >= 3", "3.0.0", true),
        (">=1.1 <2 !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1 <2 !=1.2.3 || > 3", "1.2.3", false),
        ("> 1.1, <     2", "1.1.1", false),
        (">   1.1, <2", "1.2.1", true),
        (">1.1, <  3", "4.3.2", false),
        (">= 1.1, <     2, !=1.2.3", "1.2.3", false),
        ("> 1.1 < 2", "1.1.1", false),
        (">1.1 < 2", "1.2.1", true),
        ("> 1.1    <3", "4.3.2", false),
        (">=1.1    < 2    != 1.2.3", "1.2.3", false),
        (">= 1.1, <2, !=1.2.3 || > 3", "4.1.2", true),
        (">= 1.1, <2, != 1.2.3 || > 3", "3.1.2", false),
        (">= 1.1, <2, != 1.2.3 || >= 3", "3.0.0", true),
        (">= 1.1, <2, !=1.2.3 || > 3", "3.0.0", false),
        (">= 1.1, <2, !=1.2.3 || > 3", "1.2.3", false),
        (">= 1.1 <2 != 1.2.3", "1.2.3", false),
        (">= 1.1 <2 != 1.2.3 || > 3", "4.1.2", true),
        (">= 1.1 <2 != 1.2.3 || > 3", "3.1.2", false),
        (">= 1.1 <2 != 1.2.3 || >= 3", "3.0.0", true),
        (">= 1.1 < 2 !=1.2.3 || > 3", "3.0.0", false),
        (">=1.1 < 2 !=1.2.3 || > 3", "1.2.3", false),
        ("1.1 - 2", "1.1.1", true),
        ("1.5.0 - 4.5", "3.7.0", true),
        ("1.1-3", "4.3.2", false),
        ("^1.1", "1.1.1", true),
        ("^1.1", "4.3.2", false),
        ("^1.x", "1.1.1", true),
        ("^2.x", "1.1.1", false),
        ("^1.x", "2.1.1", false),
        ("^1.x", "1.1.1-beta1", false),
        ("^1.1.2-alpha", "1.2.1-beta1", true),
        ("^1.2.x-alpha", "1.1.1-beta1", false),
        ("^0.0.1", "0.0.1", true),
        ("^0.0.1", "0.3.1", false),
        ("~*", "2.1.1", true),
        ("~1", "2.1.1", false),
        ("~1", "1.3.5", true),
        ("~1", "1.4", true),
        ("~1.x", "2.1.1", false),
        ("~1.x", "1.3.5", true),
        ("~1.x", "1.4", true),
        ("~1.1", "1.1.1", true),
        ("~1.1", "1.1.1-alpha", false),
        ("~1.1-alpha", "1.1.1-beta", true),
        ("~1.1.1-beta", "1.1.1-alpha", false),
        ("~1.1.1-beta", "1.1.1", true),
        ("~1.2.3", "1.2.5", true),
        ("~1.2.3", "1.2.2", false),
        ("~1.2.3", "1.3.2", false),
        ("~1.1", "1.2.3", false),
        ("~1.3", "2.4.5", false),
        ("1.0.0 - 2.0.0 <=2.0.0", "1.5.0", true),
        ("1.0.0 - 2.0.0, <=2.0.0", "1.5.0", true),
    ];

    #[test]
    fn masterminds_check_table() {
        let mut failures = Vec::new();
        for &(c, v, want) in MASTERMINDS_TABLE {
            if check(c, v) != want {
                failures.push(format!("{c:?} vs {v:?}: want {want}"));
            }
        }
        assert!(failures.is_empty(), "{failures:#?}");
    }

    #[test]
    fn helm_chart_kube_version_gates() {
        let cases = [
            ("gitversion_release", ">=1.21-0", "v1.31.0", true),
            (
                "gke_prerelease_included_by_dash_zero",
                ">=1.21-0",
                "v1.28.3-gke.1286000",
                true,
            ),
            ("too_old", ">=1.21-0", "v1.20.15", false),
            (
                "plain_constraint_excludes_prerelease",
                ">=1.21.0",
                "v1.28.3-gke.1286000",
                false,
            ),
            ("plain_constraint_release", ">=1.21.0", "v1.31.0", true),
            ("lower_than", "<1.19-0", "v1.31.0", false),
            ("range_and", ">=1.16-0, <1.19-0", "v1.18.2", true),
            ("caret_kube", "^1.20.0-0", "v1.31.0", true),
            ("eks_suffix", ">= 1.19.0-0", "v1.27.4-eks-2d98532", true),
        ];
        for (name, c, v, want) in cases {
            assert_eq!(check(c, v), want, "{name}");
        }
    }

    /// Strings over `alphabet`: every one up to `exhaustive` characters, then `random` more of up
    /// to 14 (seeded, so a failure reproduces).
    fn generated(alphabet: &[&str], exhaustive: usize, random: usize) -> Vec<String> {
        use rand::{Rng, SeedableRng};
        let mut out = vec![String::new()];
        let mut layer = vec![String::new()];
        for _ in 0..exhaustive {
            layer = layer
                .iter()
                .flat_map(|p| alphabet.iter().map(move |a| format!("{p}{a}")))
                .collect();
            out.extend(layer.iter().cloned());
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5e7e7);
        for _ in 0..random {
            let len = rng.gen_range(1..=14);
            out.push(
                (0..len)
                    .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn version_scanner_accepts_what_the_pattern_accepts() {
        let alphabet = ["0", "1", "9", ".", "-", "+", "v", "a", "x", "Z"];
        let mut samples = generated(&alphabet, 5, 100_000);
        samples.extend(
            [
                "v1.28.3-gke.1286000",
                "1.2.3-beta.1+meta.2",
                "1.0.0--x",
                "01.2",
                "1.2.3+",
                "1.2.3-a..b",
            ]
            .map(String::from),
        );
        for s in samples {
            let by_pattern = version_regex().captures(&s).map(|m| {
                let g = |i: usize| m.get(i).map_or("", |g| g.as_str());
                (g(1), g(2), g(3), g(4), g(7))
            });
            let by_hand = VersionParts::scan(&s).map(|p| (p.major, p.minor, p.patch, p.pre, p.metadata));
            assert_eq!(by_hand, by_pattern, "{s:?}");
        }
    }

    #[test]
    fn simple_constraints_read_like_the_library_path() {
        let alphabet = [
            "=", "!", "<", ">", "~", "^", "0", "1", ".", "x", "*", "-", "+", "v", "a", "|", " ", ",",
        ];
        let mut taken = 0;
        for s in generated(&alphabet, 4, 200_000) {
            if simple_constraint(&s).is_none() {
                continue;
            }
            taken += 1;
            let fast = format!("{:?}", Constraints::parse(&s));
            let library = format!("{:?}", Constraints::parse_with_patterns(&s));
            assert_eq!(fast, library, "{s:?}");
        }
        // The fast path must have been exercised, not skipped for every sample.
        assert!(taken > 1_000, "only {taken} samples took the fast path");
    }

    #[test]
    fn new_constraint_parse_errors() {
        // (name, input, ok, ors, ands) from TestNewConstraint.
        let cases = [
            ("gte", ">= 1.1", true, 1, 1),
            ("comma_and", ">40.50.60, < 50.70", true, 1, 2),
            ("bare", "2.0", true, 1, 1),
            ("long_prerelease", "v2.3.5-20161202202307-sha.e8fc5e5", true, 1, 1),
            ("word", ">= bar", false, 0, 0),
            ("leading_word", "BAR >= 1.2.3", false, 0, 0),
            ("space_and", ">= 1.2.3 < 2.0", true, 1, 2),
            ("space_and_or", ">= 1.2.3 < 2.0 || => 3.0 < 4", true, 2, 2),
            ("comma_and_or", ">= 1.2.3, < 2.0 || => 3.0, < 4", true, 2, 2),
            ("range_or", "3 - 4 || => 3.0, < 4", true, 2, 2),
            ("four_parts_a", "12.3.4.1234", false, 0, 0),
            ("four_parts_b", "12.23.4.1234", false, 0, 0),
            ("four_parts_c", "12.3.34.1234", false, 0, 0),
            ("bare_and_tilde", "12.3.34 ~1.2.3", true, 1, 2),
            ("tilde_after", "12.3.34~ 1.2.3", false, 0, 0),
            ("range_and_more", "1.0.0 - 2.0.0, <=2.0.0", true, 1, 3),
        ];
        for (name, input, ok, ors, ands) in cases {
            match Constraints::parse(input) {
                Ok(c) => {
                    assert!(ok, "{name}: expected an error");
                    assert_eq!(c.ors.len(), ors, "{name}: ors");
                    assert_eq!(c.ors[0].len(), ands, "{name}: ands");
                }
                Err(_) => assert!(!ok, "{name}: unexpected error"),
            }
        }
    }

    #[test]
    fn rewrite_range_table() {
        // From TestRewriteRange.
        let cases = [
            ("simple", "2 - 3", ">= 2, <= 3 "),
            ("twice", "2 - 3, 2 - 3", ">= 2, <= 3 ,>= 2, <= 3 "),
            (
                "two_ranges",
                "2 - 3, 4.0.0 - 5.1",
                ">= 2, <= 3 ,>= 4.0.0, <= 5.1 ",
            ),
            (
                "space_separated",
                "2 - 3 4.0.0 - 5.1",
                ">= 2, <= 3 >= 4.0.0, <= 5.1 ",
            ),
            (
                "with_other",
                "1.0.0 - 2.0.0 <=2.0.0",
                ">= 1.0.0, <= 2.0.0 <=2.0.0",
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(rewrite_range(input), want, "{name}");
        }
    }

    #[test]
    fn constraint_string() {
        // From TestConstraintString.
        let cases = [
            ("star", "*", "*"),
            ("gte", ">=1.2.3", ">=1.2.3"),
            ("gte_space", ">= 1.2.3", ">=1.2.3"),
            (
                "two_groups",
                "2.x,   >=1.2.3 || >4.5.6, < 5.7",
                "2.x >=1.2.3 || >4.5.6 <5.7",
            ),
            ("bare", "1.2", "1.2"),
        ];
        for (name, input, want) in cases {
            assert_eq!(
                Constraints::parse(input).map(|c| c.to_string()),
                Ok(want.to_string()),
                "{name}"
            );
        }
    }

    #[test]
    fn parse_version_table() {
        // (name, input, Ok(String()) or Err(message)) per Masterminds NewVersion.
        let cases: &[(&str, &str, Result<&str, &str>)] = &[
            ("full", "1.2.3", Ok("1.2.3")),
            ("v_prefix", "v1.2.3", Ok("1.2.3")),
            ("short", "v1.2", Ok("1.2.0")),
            ("major_only", "1", Ok("1.0.0")),
            ("pre_meta", "1.2.3-beta.1+meta", Ok("1.2.3-beta.1+meta")),
            ("gke", "v1.28.3-gke.1286000", Ok("1.28.3-gke.1286000")),
            ("leading_zero_major_ok", "01.2.3", Ok("1.2.3")),
            ("pre_leading_zero", "1.2.3-01", Err(ERR_SEGMENT_STARTS_ZERO)),
            ("word", "badVersion", Err(ERR_INVALID_SEMVER)),
            ("empty", "", Err(ERR_INVALID_SEMVER)),
            ("four_parts", "1.2.3.4", Err(ERR_INVALID_SEMVER)),
            ("capital_v", "V1.2.3", Err(ERR_INVALID_SEMVER)),
        ];
        for &(name, input, want) in cases {
            let got = parse_version(input).map(|v| v.to_string());
            assert_eq!(got, want.map(str::to_string).map_err(str::to_string), "{name}");
        }
    }

    #[test]
    fn compare_table() {
        // Precedence examples from the SemVer spec, which Masterminds follows.
        let order = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for w in order.windows(2) {
            let (a, b) = (parse_version(w[0]).unwrap(), parse_version(w[1]).unwrap());
            assert_eq!(a.compare(&b), Ordering::Less, "{} < {}", w[0], w[1]);
            assert_eq!(b.compare(&a), Ordering::Greater, "{} > {}", w[1], w[0]);
        }
        let meta = (
            parse_version("1.0.0+a").unwrap(),
            parse_version("1.0.0+b").unwrap(),
        );
        assert_eq!(meta.0.compare(&meta.1), Ordering::Equal, "metadata ignored");
    }
}
