//! Splitting an encoded record body too big for one object into parts, and the manifest that
//! lets a reader put it back together and check it (issue 5: Helm fails outright on a release
//! over the 1 MiB object limit, one of its most reported complaints).
//!
//! Only the *encoded* body is split (the base64 text of the encrypted envelope from
//! [`crate::release::codec`]), so a part is as opaque as a whole record and nothing here sees
//! plaintext. The record object keeps the first slice behind a one-line manifest:
//!
//! ```text
//! KCPARTS1 <slices> <first part index> <sha256 of the whole body, hex>\n<first slice>
//! ```
//!
//! Slices 2..n live in parts `first, first+1, …` ([`crate::release::driver::part_key`]). A plain
//! body is base64 and can never start with `KCPARTS1 `, so old records read as before. The
//! checksum guards against parts from another write of the same revision (a crash between
//! writing parts and committing the record) and against hand edits; the envelope's
//! authentication would catch both too, but only as "modified", not as "part 3 is stale".

use sha2::{Digest, Sha256};

/// The manifest line's first word.
const MAGIC: &str = "KCPARTS1";

/// Where the slices of a split body are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Manifest {
    /// Number of slices, the one in the record included (≥ 2).
    pub slices: u32,
    /// Index of the part holding the second slice; the others follow.
    pub first: u32,
    /// SHA-256 of the whole body, lowercase hex.
    pub sha256: String,
}

impl Manifest {
    /// The part indices that hold slices 2..n.
    pub fn part_indices(&self) -> impl Iterator<Item = u32> {
        let first = self.first;
        (0..self.slices.saturating_sub(1)).map(move |i| first + i)
    }
}

/// SHA-256 in lowercase hex.
pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Cuts `body` into slices of at most `max` bytes (at char boundaries, though encoded bodies
/// are ASCII).
pub(crate) fn split(body: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max.max(4));
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

/// The record's body for a split record: manifest line, then the first slice.
pub(crate) fn head_body(m: &Manifest, first_slice: &str) -> String {
    format!("{MAGIC} {} {} {}\n{first_slice}", m.slices, m.first, m.sha256)
}

/// The manifest and first slice of a record's body, `Ok(None)` for a body kept whole, and an
/// error naming what is wrong for a damaged manifest line.
pub(crate) fn parse_head(body: &str) -> Result<Option<(Manifest, &str)>, String> {
    let Some(rest) = body.strip_prefix(MAGIC).and_then(|r| r.strip_prefix(' ')) else {
        return Ok(None);
    };
    let (line, first_slice) = rest
        .split_once('\n')
        .ok_or("the parts manifest line is not terminated")?;
    let f: Vec<&str> = line.split(' ').collect();
    let [slices, first, sha] = f[..] else {
        return Err(format!("the parts manifest {line:?} does not have 3 fields"));
    };
    let num = |s: &str, what: &str| {
        s.parse::<u32>()
            .map_err(|_| format!("the parts manifest's {what} {s:?} is not a number"))
    };
    let m = Manifest {
        slices: num(slices, "slice count")?,
        first: num(first, "first part index")?,
        sha256: sha.to_string(),
    };
    if m.slices < 2 || m.first == 0 {
        return Err(format!("the parts manifest {line:?} is out of range"));
    }
    if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("the parts manifest's checksum {sha:?} is not a sha256"));
    }
    Ok(Some((m, first_slice)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_the_body_in_order() {
        let cases: [(&str, &str, usize, &[&str]); 4] = [
            ("empty", "", 4, &[]),
            ("exact", "abcdefgh", 4, &["abcd", "efgh"]),
            ("remainder", "abcdefghij", 4, &["abcd", "efgh", "ij"]),
            ("smaller than one slice", "ab", 4, &["ab"]),
        ];
        for (case, body, max, want) in cases {
            assert_eq!(split(body, max), want, "{case}");
        }
    }

    #[test]
    fn head_round_trip_and_damage() {
        let m = Manifest {
            slices: 3,
            first: 4,
            // sha256("") from FIPS 180-2 test vectors
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
        };
        assert_eq!(sha256_hex(""), m.sha256, "sha256 of the empty string");
        let head = head_body(&m, "S0NSAQ");
        assert_eq!(parse_head(&head), Ok(Some((m.clone(), "S0NSAQ"))));
        assert_eq!(m.part_indices().collect::<Vec<_>>(), [4, 5]);
        /// (case, body, `Ok(None)` for a whole body or an error fragment)
        type Case<'a> = (&'a str, &'a str, Result<Option<()>, &'a str>);
        let one_slice = format!("KCPARTS1 1 1 {}\nx", m.sha256);
        let cases: [Case; 6] = [
            ("plain base64 body", "S0NSAQAAAA==", Ok(None)),
            ("no newline", "KCPARTS1 3 1 abc", Err("not terminated")),
            ("two fields", "KCPARTS1 3 1\nx", Err("does not have 3 fields")),
            ("bad count", "KCPARTS1 x 1 abc\nx", Err("slice count")),
            ("one slice", &one_slice, Err("out of range")),
            ("bad checksum", "KCPARTS1 3 1 abc\nx", Err("is not a sha256")),
        ];
        for (case, body, want) in cases {
            match (parse_head(body), want) {
                (Ok(None), Ok(None)) => {}
                (Err(e), Err(w)) => assert!(e.contains(w), "{case}: {e}"),
                (got, _) => panic!("{case}: got {got:?}, want {want:?}"),
            }
        }
    }
}
