//! Sprig's hashing, password, key, certificate and AES functions.
//!
//! Hashes (`sha256sum`, `adler32sum`...) are exact. Keys and certificates are random by nature;
//! what must match Sprig is their form: the PEM block types (`RSA PRIVATE KEY` for PKCS#1,
//! `EC PRIVATE KEY` for SEC1, `PRIVATE KEY` for PKCS#8 Ed25519), key sizes (RSA 4096 for
//! `genPrivateKey`, 2048 for `genCA` and friends), and certificates laid out like Go's
//! `x509.CreateCertificate` (same extensions, order, criticality, key identifiers). The
//! certificate DER is written here; the key maths come from RustCrypto crates.
//!
//! `genPrivateKey "dsa"` makes L=2048/N=256 parameters and a key, written as OpenSSL's
//! `DSA PRIVATE KEY` (SEQUENCE of version 0, p, q, g, y, x), as Sprig's `DSAKeyFormat` is.
//!
//! Differences from Go: DSA keys are not read back (Go's x509 cannot sign with them either);
//! EC keys must be on P-256 (the curve `genPrivateKey "ecdsa"` makes);
//! ECDSA signatures are deterministic (RFC 6979) where Go's are randomised.

use std::{net::IpAddr, rc::Rc};

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::{rngs::OsRng, RngCore};
use sha1::{Digest, Sha1};
use sha2::{Sha256, Sha512};

use super::arity;
use crate::sprig::date::Time;
use crate::{FuncMap, FuncResult, Object, Value};

/// Registers the crypto functions under Sprig's names.
pub fn register(m: &mut FuncMap) {
    m.insert_simple("sha1sum", sha1sum);
    m.insert_simple("sha256sum", sha256sum);
    m.insert_simple("sha512sum", sha512sum);
    m.insert_simple("adler32sum", adler32sum);
    m.insert_simple("bcrypt", bcrypt_fn);
    m.insert_simple("htpasswd", htpasswd);
    m.insert_simple("derivePassword", derive_password);
    m.insert_simple("genPrivateKey", gen_private_key);
    m.insert_simple("buildCustomCert", build_custom_cert);
    m.insert_simple("genCA", |a| gen_cert("genCA", a, Cert::Ca, false));
    m.insert_simple("genCAWithKey", |a| gen_cert("genCAWithKey", a, Cert::Ca, true));
    m.insert_simple("genSelfSignedCert", |a| {
        gen_cert("genSelfSignedCert", a, Cert::SelfSigned, false)
    });
    m.insert_simple("genSelfSignedCertWithKey", |a| {
        gen_cert("genSelfSignedCertWithKey", a, Cert::SelfSigned, true)
    });
    m.insert_simple("genSignedCert", |a| {
        gen_cert("genSignedCert", a, Cert::Signed, false)
    });
    m.insert_simple("genSignedCertWithKey", |a| {
        gen_cert("genSignedCertWithKey", a, Cert::Signed, true)
    });
    m.insert_simple("encryptAES", encrypt_aes);
    m.insert_simple("decryptAES", decrypt_aes);
}

// ---------------------------------------------------------------------------------------------
// Argument helpers. The executor has checked every argument against the function's Go
// signature (sprig's SIGNATURES) before the call; these only unpack, so a direct Rust caller
// that skips the executor still gets an error rather than a panic.

fn string_arg(args: &[Value], i: usize) -> Result<&str, String> {
    match &args[i] {
        Value::Str(s) => Ok(s),
        Value::BStr(b) => Ok(b.text()),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            other.type_name()
        )),
    }
}

fn int_arg(args: &[Value], i: usize) -> Result<i64, String> {
    match &args[i] {
        Value::Int(n) => Ok(*n),
        other => Err(format!(
            "wrong type for value; expected int; got {}",
            other.type_name()
        )),
    }
}

/// A `[]interface{}` argument: a list, or nil for none.
fn list_arg(args: &[Value], i: usize) -> Result<Vec<Value>, String> {
    match &args[i] {
        Value::List(l) => Ok(l.to_vec()),
        Value::Nil => Ok(Vec::new()),
        other => Err(format!(
            "wrong type for value; expected []interface {{}}; got {}",
            other.type_name()
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Hashes and passwords

/// A `string` parameter as Go's bytes: a hash of a string that is not UTF-8 covers its bytes.
fn go_bytes_arg(args: &[Value], i: usize) -> Result<&[u8], String> {
    match &args[i] {
        Value::BStr(b) => Ok(b),
        _ => string_arg(args, i).map(str::as_bytes),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha1sum(args: &[Value]) -> FuncResult {
    arity("sha1sum", args, 1)?;
    Ok(Value::str(hex(&Sha1::digest(go_bytes_arg(args, 0)?))))
}

fn sha256sum(args: &[Value]) -> FuncResult {
    arity("sha256sum", args, 1)?;
    Ok(Value::str(hex(&Sha256::digest(go_bytes_arg(args, 0)?))))
}

fn sha512sum(args: &[Value]) -> FuncResult {
    arity("sha512sum", args, 1)?;
    Ok(Value::str(hex(&Sha512::digest(go_bytes_arg(args, 0)?))))
}

/// Adler-32 (RFC 1950), as Go's `hash/adler32`.
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the longest run before the sums can overflow u32.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

fn adler32sum(args: &[Value]) -> FuncResult {
    arity("adler32sum", args, 1)?;
    Ok(Value::str(adler32(go_bytes_arg(args, 0)?).to_string()))
}

/// Go's `bcrypt.GenerateFromPassword(pw, DefaultCost)`: `$2a$10$…`; failures become the text
/// Sprig returns in their place.
fn bcrypt_hash(password: &str) -> String {
    // x/crypto refuses what it cannot hash whole, where the Rust crate would truncate.
    if password.len() > 72 {
        return "failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes".into();
    }
    match bcrypt::hash_with_result(password, 10) {
        Ok(h) => h.format_for_version(bcrypt::Version::TwoA),
        Err(e) => format!("failed to encrypt string with bcrypt: {e}"),
    }
}

fn bcrypt_fn(args: &[Value]) -> FuncResult {
    arity("bcrypt", args, 1)?;
    Ok(Value::str(bcrypt_hash(string_arg(args, 0)?)))
}

fn htpasswd(args: &[Value]) -> FuncResult {
    arity("htpasswd", args, 2)?;
    let (user, password) = (string_arg(args, 0)?, string_arg(args, 1)?);
    if user.contains(':') {
        return Ok(Value::str(format!("invalid username: {user}")));
    }
    Ok(Value::str(format!("{user}:{}", bcrypt_hash(password))))
}

/// Templates of the Master Password algorithm, per password type.
fn password_templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(class: u8) -> &'static [u8] {
    match class {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// Master Password (`com.lyndir.masterpassword`): scrypt key from password and user, HMAC seed
/// from site and counter, characters picked by the seed.
fn master_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> String {
    const SEED: &[u8] = b"com.lyndir.masterpassword";
    let Some(templates) = password_templates(kind) else {
        return format!("cannot find password template {kind}");
    };
    let mut salt = SEED.to_vec();
    salt.extend_from_slice(&(user.len() as u32).to_be_bytes());
    salt.extend_from_slice(user.as_bytes());
    let mut key = [0u8; 64];
    let derived = scrypt::Params::new(15, 8, 2, 64)
        .map_err(|e| e.to_string())
        .and_then(|p| scrypt::scrypt(password.as_bytes(), &salt, &p, &mut key).map_err(|e| e.to_string()));
    if let Err(e) = derived {
        return format!("failed to derive password: {e}");
    }
    let mut msg = SEED.to_vec();
    msg.extend_from_slice(&(site.len() as u32).to_be_bytes());
    msg.extend_from_slice(site.as_bytes());
    msg.extend_from_slice(&counter.to_be_bytes());
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&key) else {
        return "failed to derive password: bad hmac key".into();
    };
    mac.update(&msg);
    let seed = mac.finalize().into_bytes();
    let template = templates[usize::from(seed[0]) % templates.len()];
    template
        .bytes()
        .enumerate()
        .map(|(i, class)| {
            let chars = template_chars(class);
            char::from(chars[usize::from(seed[i + 1]) % chars.len()])
        })
        .collect()
}

fn derive_password(args: &[Value]) -> FuncResult {
    arity("derivePassword", args, 5)?;
    // Go converts the argument to uint32, wrapping like a conversion.
    let counter = int_arg(args, 0)? as u32;
    let (kind, password, user, site) = (
        string_arg(args, 1)?,
        string_arg(args, 2)?,
        string_arg(args, 3)?,
        string_arg(args, 4)?,
    );
    Ok(Value::str(master_password(counter, kind, password, user, site)))
}

// ---------------------------------------------------------------------------------------------
// PEM and DER

/// Go's `pem.EncodeToMemory`: base64 in 64-column lines.
fn pem_encode(kind: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out
}

/// The first PEM block in `text` (Go's `pem.Decode`): its type and bytes.
fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let type_end = after.find("-----")?;
        let kind = &after[..type_end];
        let body = &after[type_end + 5..];
        let end_marker = format!("-----END {kind}-----");
        if let Some(end) = body.find(&end_marker) {
            let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64) {
                return Some((kind.to_string(), bytes));
            }
        }
        rest = &after[type_end..];
    }
    None
}

/// DER building blocks.
mod der {
    pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        let n = content.len();
        if n < 0x80 {
            out.push(n as u8);
        } else {
            let len = n.to_be_bytes();
            let skip = len.iter().take_while(|&&b| b == 0).count();
            out.push(0x80 | (len.len() - skip) as u8);
            out.extend_from_slice(&len[skip..]);
        }
        out.extend_from_slice(content);
        out
    }

    pub fn seq(items: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &items.concat())
    }

    /// A non-negative INTEGER from big-endian magnitude bytes.
    pub fn uint(bytes: &[u8]) -> Vec<u8> {
        let skip = bytes
            .iter()
            .take_while(|&&b| b == 0)
            .count()
            .min(bytes.len().saturating_sub(1));
        let mut body = bytes[skip..].to_vec();
        if body.is_empty() {
            body.push(0);
        }
        if body[0] & 0x80 != 0 {
            body.insert(0, 0);
        }
        tlv(0x02, &body)
    }

    pub fn bit_string(bytes: &[u8], unused: u8) -> Vec<u8> {
        let mut body = vec![unused];
        body.extend_from_slice(bytes);
        tlv(0x03, &body)
    }

    pub fn octets(bytes: &[u8]) -> Vec<u8> {
        tlv(0x04, bytes)
    }

    /// An OBJECT IDENTIFIER from its already-encoded body.
    pub fn oid(body: &[u8]) -> Vec<u8> {
        tlv(0x06, body)
    }

    pub const NULL: [u8; 2] = [0x05, 0x00];
    pub const TRUE: [u8; 3] = [0x01, 0x01, 0xff];

    /// One DER element: its tag, its whole encoding and its content.
    pub type Element<'a> = (u8, &'a [u8], &'a [u8]);

    /// One element, and the rest of the input.
    pub fn read(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
        let tag = *input.first()?;
        let first = *input.get(1)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let mut len = 0usize;
            for &b in input.get(2..2 + n)? {
                len = (len << 8) | usize::from(b);
            }
            (len, 2 + n)
        };
        let end = header.checked_add(len)?;
        let whole = input.get(..end)?;
        Some(((tag, whole, &whole[header..]), &input[end..]))
    }

    /// All elements of a constructed value's content.
    pub fn children(mut content: &[u8]) -> Option<Vec<Element<'_>>> {
        let mut out = Vec::new();
        while !content.is_empty() {
            let (el, rest) = read(content)?;
            out.push(el);
            content = rest;
        }
        Some(out)
    }
}

// OID bodies.
const OID_SHA256_WITH_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_ECDSA_WITH_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];
const OID_AUTHORITY_KEY_ID: &[u8] = &[0x55, 0x1d, 0x23];
const OID_SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
const OID_CLIENT_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02];

// ---------------------------------------------------------------------------------------------
// Keys

/// A private key of a kind Sprig can make or read.
enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ecdsa(p256::SecretKey),
    Ed25519(ed25519_dalek::SigningKey),
}

fn new_rsa(bits: usize) -> Result<PrivateKey, String> {
    rsa::RsaPrivateKey::new(&mut OsRng, bits)
        .map(|k| PrivateKey::Rsa(Box::new(k)))
        .map_err(|e| format!("error generating rsa key: {e}"))
}

/// A new DSA key, PEM-encoded as Sprig writes it. It is not a [`PrivateKey`]: nothing else in
/// Sprig can use one (Go's x509 refuses DSA keys for certificates).
fn new_dsa_pem() -> String {
    use dsa::{Components, KeySize, SigningKey};
    let components = Components::generate(&mut OsRng, KeySize::DSA_2048_256);
    let key = SigningKey::generate(&mut OsRng, components);
    let public = key.verifying_key();
    let c = public.components();
    pem_encode(
        "DSA PRIVATE KEY",
        &dsa_key_der(&[
            &c.p().to_bytes_be(),
            &c.q().to_bytes_be(),
            &c.g().to_bytes_be(),
            &public.y().to_bytes_be(),
            &key.x().to_bytes_be(),
        ]),
    )
}

/// Sprig's `DSAKeyFormat`: version 0, then p, q, g, y, x as INTEGERs.
fn dsa_key_der(pqgyx: &[&[u8]; 5]) -> Vec<u8> {
    let mut items = vec![der::uint(&[0])];
    items.extend(pqgyx.iter().map(|n| der::uint(n)));
    der::seq(&items)
}

fn new_ecdsa() -> PrivateKey {
    PrivateKey::Ecdsa(p256::SecretKey::random(&mut OsRng))
}

fn new_ed25519() -> PrivateKey {
    PrivateKey::Ed25519(ed25519_dalek::SigningKey::generate(&mut OsRng))
}

/// PKCS#8 v1 of an Ed25519 seed, exactly as Go's `MarshalPKCS8PrivateKey` writes it.
fn ed25519_pkcs8(seed: &[u8; 32]) -> Vec<u8> {
    der::seq(&[
        der::uint(&[0]),
        der::seq(&[der::oid(OID_ED25519)]),
        der::octets(&der::octets(seed)),
    ])
}

/// SEC1 `ECPrivateKey` with the curve and public point, as Go's `MarshalECPrivateKey` writes it
/// (Go cannot read one without the curve parameters).
fn ec_private_key_der(k: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let point = k.public_key().to_encoded_point(false);
    der::seq(&[
        der::uint(&[1]),
        der::octets(&k.to_bytes()),
        der::tlv(0xa0, &der::oid(OID_PRIME256V1)),
        der::tlv(0xa1, &der::bit_string(point.as_bytes(), 0)),
    ])
}

impl PrivateKey {
    /// Sprig's `pemBlockForKey`.
    fn to_pem(&self) -> Result<String, String> {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        Ok(match self {
            PrivateKey::Rsa(k) => {
                let der = k
                    .to_pkcs1_der()
                    .map_err(|e| format!("error pem-encoding key: {e}"))?;
                pem_encode("RSA PRIVATE KEY", der.as_bytes())
            }
            PrivateKey::Ecdsa(k) => pem_encode("EC PRIVATE KEY", &ec_private_key_der(k)),
            PrivateKey::Ed25519(k) => pem_encode("PRIVATE KEY", &ed25519_pkcs8(&k.to_bytes())),
        })
    }

    /// The SubjectPublicKeyInfo DER.
    fn public_key_info(&self) -> Result<Vec<u8>, String> {
        use rsa::pkcs8::EncodePublicKey;
        let doc = match self {
            PrivateKey::Rsa(k) => k.to_public_key().to_public_key_der(),
            PrivateKey::Ecdsa(k) => k.public_key().to_public_key_der(),
            PrivateKey::Ed25519(k) => k.verifying_key().to_public_key_der(),
        };
        doc.map(|d| d.as_bytes().to_vec())
            .map_err(|e| format!("error retrieving public key from signee key: {e}"))
    }

    /// The signature algorithm Go picks for this key (SHA-256 based, or pure Ed25519).
    fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(_) => der::seq(&[der::oid(OID_SHA256_WITH_RSA), der::NULL.to_vec()]),
            PrivateKey::Ecdsa(_) => der::seq(&[der::oid(OID_ECDSA_WITH_SHA256)]),
            PrivateKey::Ed25519(_) => der::seq(&[der::oid(OID_ED25519)]),
        }
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, String> {
        use rsa::signature::{SignatureEncoding, Signer};
        Ok(match self {
            PrivateKey::Rsa(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((**k).clone());
                signer
                    .try_sign(msg)
                    .map_err(|e| format!("error creating certificate: {e}"))?
                    .to_vec()
            }
            PrivateKey::Ecdsa(k) => {
                let signer = p256::ecdsa::SigningKey::from(k);
                let sig: p256::ecdsa::Signature = signer
                    .try_sign(msg)
                    .map_err(|e| format!("error creating certificate: {e}"))?;
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::Ed25519(k) => k.sign(msg).to_bytes().to_vec(),
        })
    }
}

/// Sprig's `parsePrivateKeyPEM`.
fn parse_private_key_pem(text: &str) -> Result<PrivateKey, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let (kind, bytes) = pem_decode(text).ok_or("no PEM data in input")?;
    if kind == "PRIVATE KEY" {
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_der(&bytes) {
            return Ok(PrivateKey::Rsa(Box::new(k)));
        }
        if let Ok(k) = p256::SecretKey::from_pkcs8_der(&bytes) {
            return Ok(PrivateKey::Ecdsa(k));
        }
        return ed25519_dalek::SigningKey::from_pkcs8_der(&bytes)
            .map(PrivateKey::Ed25519)
            .map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(algo) = kind.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {kind}"));
    };
    match algo {
        "RSA" => rsa::RsaPrivateKey::from_pkcs1_der(&bytes)
            .map(|k| PrivateKey::Rsa(Box::new(k)))
            .map_err(|e| format!("parsing RSA private key from PEM: {e}")),
        "EC" => p256::SecretKey::from_sec1_der(&bytes)
            .map(PrivateKey::Ecdsa)
            .map_err(|e| format!("parsing EC private key from PEM: {e}")),
        "DSA" => Err("parsing DSA private key from PEM: dsa keys are not supported".into()),
        _ => Err(format!("invalid private key type {kind}")),
    }
}

fn gen_private_key(args: &[Value]) -> FuncResult {
    arity("genPrivateKey", args, 1)?;
    let kind = string_arg(args, 0)?;
    let key = match kind {
        "" | "rsa" => new_rsa(4096)
            .map_err(|e| e.replace("error generating rsa key", "failed to generate private key"))?,
        "ecdsa" => new_ecdsa(),
        "ed25519" => new_ed25519(),
        "dsa" => return Ok(Value::str(new_dsa_pem())),
        // Sprig returns this text as the "key".
        _ => return Ok(Value::str(format!("Unknown type {kind}"))),
    };
    Ok(Value::str(key.to_pem()?))
}

// ---------------------------------------------------------------------------------------------
// Certificates

/// Sprig's `certificate` struct: PEM texts of a certificate and its key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub cert: String,
    pub key: String,
}

impl Certificate {
    fn into_value(self) -> Value {
        Value::Object(Rc::new(self))
    }
}

impl Object for Certificate {
    fn type_name(&self) -> &str {
        "sprig.certificate"
    }

    fn kind_name(&self) -> &str {
        "struct"
    }

    fn field(&self, name: &str) -> Option<Value> {
        match name {
            "Cert" => Some(Value::str(self.cert.as_str())),
            "Key" => Some(Value::str(self.key.as_str())),
            _ => None,
        }
    }

    fn go_string(&self) -> String {
        format!("{{{} {}}}", self.cert, self.key)
    }

    fn to_plain(&self) -> Option<Value> {
        let mut m = std::collections::BTreeMap::new();
        m.insert("Cert".to_string(), Value::str(self.cert.as_str()));
        m.insert("Key".to_string(), Value::str(self.key.as_str()));
        Some(Value::map_from(m))
    }
}

/// The parts of a parsed certificate that signing with it needs.
struct ParsedCert {
    subject: Vec<u8>,
    subject_key_id: Option<Vec<u8>>,
}

/// Reads a certificate's structure (enough to validate it and to sign with it).
fn parse_certificate(der_bytes: &[u8]) -> Result<ParsedCert, String> {
    let malformed = || "x509: malformed certificate".to_string();
    let ((tag, _, content), rest) = der::read(der_bytes).ok_or_else(malformed)?;
    if tag != 0x30 || !rest.is_empty() {
        return Err(malformed());
    }
    let outer = der::children(content).ok_or_else(malformed)?;
    let [(0x30, _, tbs), (0x30, _, _), (0x03, _, _)] = outer.as_slice() else {
        return Err(malformed());
    };
    let fields = der::children(tbs).ok_or_else(malformed)?;
    let mut it = fields.iter().peekable();
    if it.peek().is_some_and(|f| f.0 == 0xa0) {
        it.next();
    }
    // serial, signature algorithm, issuer, validity, subject, public key info
    let expected = [0x02, 0x30, 0x30, 0x30, 0x30, 0x30];
    let mut taken = Vec::new();
    for want in expected {
        let f = it.next().ok_or_else(malformed)?;
        if f.0 != want {
            return Err(malformed());
        }
        taken.push(*f);
    }
    let subject = taken[4].1.to_vec();
    let mut subject_key_id = None;
    for f in it {
        if f.0 != 0xa3 {
            continue;
        }
        let inner = der::children(f.2).ok_or_else(malformed)?;
        let [(0x30, _, exts)] = inner.as_slice() else {
            return Err(malformed());
        };
        for ext in der::children(exts).ok_or_else(malformed)? {
            let parts = der::children(ext.2).ok_or_else(malformed)?;
            let (Some(oid), Some(value)) = (parts.first(), parts.last()) else {
                return Err(malformed());
            };
            if oid.2 == OID_SUBJECT_KEY_ID && value.0 == 0x04 {
                let ((_, _, id), _) = der::read(value.2).ok_or_else(malformed)?;
                subject_key_id = Some(id.to_vec());
            }
        }
    }
    Ok(ParsedCert {
        subject,
        subject_key_id,
    })
}

/// Go's ASN.1 string choice for names: PrintableString when every character allows it.
fn name_string(s: &str) -> Vec<u8> {
    let printable = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b));
    der::tlv(if printable { 0x13 } else { 0x0c }, s.as_bytes())
}

/// A subject with only a common name (none at all when it is empty, as Go does).
fn subject_name(cn: &str) -> Vec<u8> {
    if cn.is_empty() {
        return der::seq(&[]);
    }
    let atv = der::seq(&[der::oid(OID_COMMON_NAME), name_string(cn)]);
    der::seq(&[der::tlv(0x31, &atv)])
}

/// UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280).
fn cert_time(t: &Time) -> Vec<u8> {
    let year: i64 = t.format("2006").parse().unwrap_or(0);
    if (1950..2050).contains(&year) {
        der::tlv(0x17, t.format("060102150405Z").as_bytes())
    } else {
        der::tlv(0x18, t.format("20060102150405Z").as_bytes())
    }
}

fn extension(oid: &[u8], critical: bool, value: &[u8]) -> Vec<u8> {
    let mut parts = vec![der::oid(oid)];
    if critical {
        parts.push(der::TRUE.to_vec());
    }
    parts.push(der::octets(value));
    der::seq(&parts)
}

/// Go's KeyUsage bit string: bit 0 (digitalSignature) first, trailing zero bits dropped.
fn key_usage_bits(usage: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    for i in 0..2 {
        let b = ((usage >> (8 * i)) as u8).reverse_bits();
        bytes.push(b);
    }
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    let unused = bytes.last().map_or(0, |b| b.trailing_zeros() as u8);
    der::bit_string(&bytes, unused)
}

const KU_DIGITAL_SIGNATURE: u16 = 1;
const KU_KEY_ENCIPHERMENT: u16 = 1 << 2;
const KU_CERT_SIGN: u16 = 1 << 5;

/// What Sprig's `getBaseCertTemplate` fills in, plus the CA switches.
struct Template {
    cn: String,
    ips: Vec<IpAddr>,
    dns: Vec<String>,
    days: i64,
    is_ca: bool,
}

fn ips_arg(args: &[Value], i: usize) -> Result<Vec<IpAddr>, String> {
    list_arg(args, i)?
        .iter()
        .map(|v| match v {
            Value::Str(s) => s.parse::<IpAddr>().map_err(|_| format!("error parsing ip: {s}")),
            other => Err(format!(
                "error parsing ip: {} is not a string",
                crate::sprig::convert::to_string(other)
            )),
        })
        .collect()
}

fn dns_arg(args: &[Value], i: usize) -> Result<Vec<String>, String> {
    list_arg(args, i)?
        .iter()
        .map(|v| match v {
            Value::Str(s) => Ok(s.to_string()),
            other => Err(format!(
                "error processing alternate dns name: {} is not a string",
                crate::sprig::convert::to_string(other)
            )),
        })
        .collect()
}

/// Go's `x509.CreateCertificate` for Sprig's templates, returning the PEM certificate.
fn create_certificate(
    t: &Template,
    subject_key: &PrivateKey,
    issuer: Option<(&ParsedCert, &PrivateKey)>,
) -> Result<String, String> {
    let spki = subject_key.public_key_info()?;
    let signing_key = issuer.map_or(subject_key, |(_, k)| k);
    let subject = subject_name(&t.cn);
    let issuer_name = issuer.map_or_else(|| subject.clone(), |(c, _)| c.subject.clone());

    let mut serial = [0u8; 16];
    OsRng.fill_bytes(&mut serial);
    let now = Time::now();
    let not_after = now.add(t.days.saturating_mul(86_400).saturating_mul(1_000_000_000));

    let mut exts = Vec::new();
    let usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | if t.is_ca { KU_CERT_SIGN } else { 0 };
    exts.push(extension(OID_KEY_USAGE, true, &key_usage_bits(usage)));
    exts.push(extension(
        OID_EXT_KEY_USAGE,
        false,
        &der::seq(&[der::oid(OID_SERVER_AUTH), der::oid(OID_CLIENT_AUTH)]),
    ));
    let basic = if t.is_ca {
        der::seq(&[der::TRUE.to_vec()])
    } else {
        der::seq(&[])
    };
    exts.push(extension(OID_BASIC_CONSTRAINTS, true, &basic));
    if t.is_ca {
        // Go derives a CA's key id from the SHA-1 of its public key bits.
        let ((_, _, spki_content), _) =
            der::read(&spki).ok_or("error creating certificate: bad public key")?;
        let parts = der::children(spki_content).ok_or("error creating certificate: bad public key")?;
        let bits = parts.get(1).map_or(&[][..], |p| p.2.get(1..).unwrap_or(&[]));
        exts.push(extension(
            OID_SUBJECT_KEY_ID,
            false,
            &der::octets(&Sha1::digest(bits)),
        ));
    }
    if let Some((parent, _)) = issuer {
        if let Some(id) = parent
            .subject_key_id
            .as_ref()
            .filter(|_| parent.subject != subject)
        {
            exts.push(extension(
                OID_AUTHORITY_KEY_ID,
                false,
                &der::seq(&[der::tlv(0x80, id)]),
            ));
        }
    }
    if !t.dns.is_empty() || !t.ips.is_empty() {
        let mut names: Vec<Vec<u8>> = t.dns.iter().map(|d| der::tlv(0x82, d.as_bytes())).collect();
        for ip in &t.ips {
            let bytes = match ip {
                IpAddr::V4(v4) => v4.octets().to_vec(),
                IpAddr::V6(v6) => v6
                    .to_ipv4_mapped()
                    .map_or_else(|| v6.octets().to_vec(), |v4| v4.octets().to_vec()),
            };
            names.push(der::tlv(0x87, &bytes));
        }
        // Without a subject the names are all there is, so Go marks them critical.
        exts.push(extension(
            OID_SUBJECT_ALT_NAME,
            t.cn.is_empty(),
            &der::seq(&names),
        ));
    }

    let sig_alg = signing_key.signature_algorithm();
    let tbs = der::seq(&[
        der::tlv(0xa0, &der::uint(&[2])),
        der::uint(&serial),
        sig_alg.clone(),
        issuer_name,
        der::seq(&[cert_time(&now), cert_time(&not_after)]),
        subject,
        spki,
        der::tlv(0xa3, &der::seq(&exts)),
    ]);
    let signature = signing_key.sign(&tbs)?;
    let cert = der::seq(&[tbs, sig_alg, der::bit_string(&signature, 0)]);
    Ok(pem_encode("CERTIFICATE", &cert))
}

fn certificate(t: &Template, key: &PrivateKey, issuer: Option<(&ParsedCert, &PrivateKey)>) -> FuncResult {
    let cert = create_certificate(t, key, issuer)?;
    Ok(Certificate {
        cert,
        key: key.to_pem()?,
    }
    .into_value())
}

fn with_key(key_pem: &str) -> Result<PrivateKey, String> {
    parse_private_key_pem(key_pem).map_err(|e| format!("parsing private key: {e}"))
}

fn ca_template(args: &[Value]) -> Result<Template, String> {
    Ok(Template {
        cn: string_arg(args, 0)?.to_string(),
        ips: Vec::new(),
        dns: Vec::new(),
        days: int_arg(args, 1)?,
        is_ca: true,
    })
}

fn leaf_template(args: &[Value]) -> Result<Template, String> {
    Ok(Template {
        cn: string_arg(args, 0)?.to_string(),
        ips: ips_arg(args, 1)?,
        dns: dns_arg(args, 2)?,
        days: int_arg(args, 3)?,
        is_ca: false,
    })
}

/// What a `gen*` certificate function makes.
#[derive(Clone, Copy, PartialEq)]
enum Cert {
    /// `genCA`: a CA from (cn, days), signed by itself.
    Ca,
    /// `genSelfSignedCert`: a leaf from (cn, ips, alternate DNS names, days), signed by itself.
    SelfSigned,
    /// `genSignedCert`: a leaf as above, signed by the CA that follows its arguments.
    Signed,
}

/// The six `gen*` certificate functions: the certificate's own arguments, the signing CA for
/// [`Cert::Signed`], then, for the `*WithKey` forms, the PEM private key to use instead of a new
/// 2048-bit RSA key.
fn gen_cert(name: &str, args: &[Value], kind: Cert, given_key: bool) -> FuncResult {
    let own = if kind == Cert::Ca { 2 } else { 4 };
    let n = own + usize::from(kind == Cert::Signed) + usize::from(given_key);
    arity(name, args, n)?;
    let t = if kind == Cert::Ca {
        ca_template(args)?
    } else {
        leaf_template(args)?
    };
    let key = if given_key {
        with_key(string_arg(args, n - 1)?)?
    } else {
        new_rsa(2048)?
    };
    match kind {
        Cert::Signed => {
            let (ca, ca_key) = ca_arg(&args[own])?;
            certificate(&t, &key, Some((&ca, &ca_key)))
        }
        _ => certificate(&t, &key, None),
    }
}

/// The CA argument of `genSignedCert`: its parsed certificate and key.
fn ca_arg(v: &Value) -> Result<(ParsedCert, PrivateKey), String> {
    let Value::Object(o) = v else {
        return Err(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            v.type_name()
        ));
    };
    if o.type_name() != "sprig.certificate" {
        return Err(format!(
            "wrong type for value; expected sprig.certificate; got {}",
            o.type_name()
        ));
    }
    let text = |f: &str| match o.field(f) {
        Some(Value::Str(s)) => s.to_string(),
        _ => String::new(),
    };
    let (kind_bytes, key) = (pem_decode(&text("Cert")), text("Key"));
    let Some((_, cert_der)) = kind_bytes else {
        return Err("unable to decode certificate".into());
    };
    let parsed = parse_certificate(&cert_der)
        .map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
    let key = parse_private_key_pem(&key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok((parsed, key))
}

fn build_custom_cert(args: &[Value]) -> FuncResult {
    arity("buildCustomCert", args, 2)?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = b64
        .decode(string_arg(args, 0)?)
        .map_err(|_| "unable to decode base64 certificate")?;
    let key = b64
        .decode(string_arg(args, 1)?)
        .map_err(|_| "unable to decode base64 private key")?;
    let cert = String::from_utf8_lossy(&cert).into_owned();
    let key = String::from_utf8_lossy(&key).into_owned();
    let (_, der_bytes) = pem_decode(&cert).ok_or("unable to decode certificate")?;
    parse_certificate(&der_bytes)
        .map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
    parse_private_key_pem(&key).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(Certificate { cert, key }.into_value())
}

// ---------------------------------------------------------------------------------------------
// AES

/// Sprig's key: the password's bytes, zero-padded or cut to 32 (AES-256).
fn aes_key(password: &str) -> aes::Aes256 {
    let mut key = [0u8; 32];
    let n = password.len().min(32);
    key[..n].copy_from_slice(&password.as_bytes()[..n]);
    aes::Aes256::new(GenericArray::from_slice(&key))
}

fn encrypt_aes(args: &[Value]) -> FuncResult {
    arity("encryptAES", args, 2)?;
    let (password, plaintext) = (string_arg(args, 0)?, string_arg(args, 1)?);
    if plaintext.is_empty() {
        return Ok(Value::str(""));
    }
    let cipher = aes_key(password);
    let mut content = plaintext.as_bytes().to_vec();
    let pad = 16 - content.len() % 16;
    content.extend(std::iter::repeat_n(pad as u8, pad));
    let mut out = vec![0u8; 16];
    OsRng.fill_bytes(&mut out);
    let mut prev: [u8; 16] = out[..16].try_into().map_err(|_| "bad iv")?;
    for chunk in content.chunks(16) {
        let mut block = [0u8; 16];
        for i in 0..16 {
            block[i] = chunk[i] ^ prev[i];
        }
        let mut ga = GenericArray::from(block);
        cipher.encrypt_block(&mut ga);
        prev = ga.into();
        out.extend_from_slice(&prev);
    }
    Ok(Value::str(base64::engine::general_purpose::STANDARD.encode(out)))
}

fn decrypt_aes(args: &[Value]) -> FuncResult {
    arity("decryptAES", args, 2)?;
    let (password, crypt64) = (string_arg(args, 0)?, string_arg(args, 1)?);
    if crypt64.is_empty() {
        return Ok(Value::str(""));
    }
    let data = crate::sprig::encoding::b64_decode(crypt64)
        .map_err(|at| format!("illegal base64 data at input byte {at}"))?;
    // Go panics on these inputs; the template engine reports the panic as the call's error.
    if data.len() < 16 {
        return Err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            data.len()
        ));
    }
    let (iv, body) = data.split_at(16);
    if body.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    if body.is_empty() {
        return Err("runtime error: index out of range [-1]".into());
    }
    let cipher = aes_key(password);
    let mut prev: [u8; 16] = iv.try_into().map_err(|_| "bad iv")?;
    let mut plain = Vec::with_capacity(body.len());
    for chunk in body.chunks(16) {
        let mut ga = GenericArray::clone_from_slice(chunk);
        cipher.decrypt_block(&mut ga);
        plain.extend(ga.iter().zip(prev.iter()).map(|(a, b)| a ^ b));
        prev.copy_from_slice(chunk);
    }
    let pad = usize::from(plain[plain.len() - 1]);
    let keep = plain.len().checked_sub(pad).ok_or_else(|| {
        format!(
            "runtime error: slice bounds out of range [:{}]",
            plain.len() as i64 - pad as i64
        )
    })?;
    plain.truncate(keep);
    // Go's string(bytes) keeps invalid UTF-8; text values here must be UTF-8.
    Ok(Value::str(String::from_utf8_lossy(&plain).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen_signed_cert_with_key(a: &[Value]) -> FuncResult {
        gen_cert("genSignedCertWithKey", a, Cert::Signed, true)
    }

    fn gen_self_signed_cert_with_key(a: &[Value]) -> FuncResult {
        gen_cert("genSelfSignedCertWithKey", a, Cert::SelfSigned, true)
    }
    use crate::sprig::test_support::{s, text};

    #[test]
    fn hashes() {
        // Expected values from sprig crypto_test.go.
        type F = fn(&[Value]) -> FuncResult;
        let cases: [(&str, F, &str); 5] = [
            ("sha1", sha1sum, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("sha256", sha256sum, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("sha512", sha512sum, "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
            ("adler32", adler32sum, "38600999"),
            ("adler32_empty_is_one", |_| adler32sum(&[s("")]), "1"),
        ];
        for (name, f, want) in cases {
            assert_eq!(text(f(&[s("abc")])), want, "{name}");
        }
        // Wikipedia's Adler-32 example.
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398, "adler32 wikipedia");
    }

    #[test]
    fn derive_password_table() {
        // From sprig crypto_test.go.
        let cases = [
            ("long_1", 1, "long", "ZedaFaxcZaso9*"),
            ("long_2", 2, "long", "Fovi2@JifpTupx"),
            ("maximum", 1, "maximum", "pf4zS1LjCg&LjhsZ7T2~"),
            ("medium", 1, "medium", "ZedJuz8$"),
            ("basic", 1, "basic", "pIS54PLs"),
            ("short", 1, "short", "Zed5"),
            ("pin", 1, "pin", "6685"),
            ("unknown", 1, "nope", "cannot find password template nope"),
        ];
        for (name, counter, kind, want) in cases {
            let got = derive_password(&[
                Value::Int(counter),
                s(kind),
                s("password"),
                s("user"),
                s("example.com"),
            ]);
            assert_eq!(text(got), want, "{name}");
        }
    }

    #[test]
    fn bcrypt_and_htpasswd() {
        let h = text(bcrypt_fn(&[s("abc")]));
        assert!(h.starts_with("$2a$10$"), "{h}");
        assert!(bcrypt::verify("abc", &h).is_ok_and(|ok| ok), "verify");
        let cases = [
            ("plain", "myUser", "myPassword"),
            (
                "special",
                "special'o79Cv_*qFe,)<user",
                "special<j7+3p#6-.Jx2U:m8G;kGypassword",
            ),
        ];
        for (name, user, pw) in cases {
            let out = text(htpasswd(&[s(user), s(pw)]));
            let (u, hash) = out.split_once(':').expect("colon");
            assert_eq!(u, user, "{name}");
            assert!(bcrypt::verify(pw, hash).is_ok_and(|ok| ok), "{name}");
        }
        assert_eq!(
            text(htpasswd(&[s("wrongus:er"), s("x")])),
            "invalid username: wrongus:er"
        );
        assert!(text(bcrypt_fn(&[s(&"x".repeat(73))])).starts_with("failed to encrypt string with bcrypt"));
    }

    #[test]
    fn aes_round_trip() {
        // Sprig: `"plaintext" | encryptAES "secretkey" | decryptAES "secretkey"` gives "plaintext".
        for (name, plain) in [
            ("short", "plaintext"),
            ("block", "0123456789abcdef"),
            ("long", "a much longer secret value!"),
        ] {
            let enc = text(encrypt_aes(&[s("secretkey"), s(plain)]));
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&enc)
                .expect("b64");
            assert_eq!(raw.len(), 16 + (plain.len() / 16 + 1) * 16, "{name} length");
            assert_eq!(text(decrypt_aes(&[s("secretkey"), s(&enc)])), plain, "{name}");
        }
        assert_eq!(text(encrypt_aes(&[s("k"), s("")])), "", "empty plaintext");
        assert_eq!(text(decrypt_aes(&[s("k"), s("")])), "", "empty ciphertext");
        assert!(decrypt_aes(&[s("k"), s("AAAA")]).is_err(), "short input");
    }

    #[test]
    fn aes_known_vector() {
        // FIPS-197 AES-256 example: key 00..1f, plaintext 00112233..ff → 8ea2b7ca516745bfeafc49904b496089.
        // With an all-zero IV, CBC of one block is plain AES; the second block is the padding.
        let key: String = (0u8..32).map(char::from).collect();
        let plain: Vec<u8> = (0u8..16).map(|i| i * 0x11).collect();
        let mut ct = GenericArray::clone_from_slice(&plain);
        aes_key(&key).encrypt_block(&mut ct);
        assert_eq!(hex(&ct), "8ea2b7ca516745bfeafc49904b496089");
    }

    #[test]
    fn private_key_pem_types() {
        let cases = [("ecdsa", "EC PRIVATE KEY"), ("ed25519", "PRIVATE KEY")];
        for (kind, block) in cases {
            let pem = text(gen_private_key(&[s(kind)]));
            let (got, der_bytes) = pem_decode(&pem).expect("pem");
            assert_eq!(got, block, "{kind}");
            assert!(pem.lines().all(|l| l.len() <= 64), "{kind} line width");
            assert!(parse_private_key_pem(&pem).is_ok(), "{kind} reparse");
            if kind == "ed25519" {
                assert_eq!(der_bytes.len(), 48, "go's pkcs8 ed25519 length");
            } else {
                // Go's MarshalECPrivateKey for P-256 is 121 bytes: version, key, [0] curve, [1] point.
                assert_eq!(der_bytes.len(), 121, "sec1 length");
                let ((_, _, body), _) = der::read(&der_bytes).expect("sec1");
                let tags: Vec<u8> = der::children(body).expect("fields").iter().map(|f| f.0).collect();
                assert_eq!(tags, [0x02, 0x04, 0xa0, 0xa1], "sec1 fields");
            }
        }
        assert_eq!(text(gen_private_key(&[s("foo")])), "Unknown type foo");
    }

    /// A DSA key is Sprig's DSAKeyFormat: version 0 and p, q, g, y, x of L=2048/N=256 that
    /// belong together (y = g^x mod p, q divides p-1).
    #[test]
    fn dsa_key_format() {
        use dsa::BigUint;
        let pem = text(gen_private_key(&[s("dsa")]));
        let (block, der_bytes) = pem_decode(&pem).expect("pem");
        assert_eq!(block, "DSA PRIVATE KEY");
        let ((tag, _, body), rest) = der::read(&der_bytes).expect("sequence");
        assert_eq!((tag, rest.len()), (0x30, 0));
        let fields = der::children(body).expect("fields");
        assert!(fields.iter().all(|f| f.0 == 0x02), "all INTEGERs");
        let n: Vec<BigUint> = fields.iter().map(|f| BigUint::from_bytes_be(f.2)).collect();
        let [version, p, q, g, y, x] = &n[..] else {
            panic!("want 6 fields, got {}", n.len());
        };
        assert_eq!(*version, BigUint::from(0u8));
        assert_eq!((p.bits(), q.bits()), (2048, 256));
        assert_eq!(&g.modpow(x, p), y, "y = g^x mod p");
        assert_eq!((p - 1u8) % q, BigUint::from(0u8), "q divides p-1");
        assert_eq!(
            parse_private_key_pem("nothing").err(),
            Some("no PEM data in input".into())
        );
        assert_eq!(
            parse_private_key_pem(&pem_encode("CERTIFICATE", &[1])).err(),
            Some("no private key data in PEM block of type CERTIFICATE".into())
        );
    }

    fn cert_of(v: &Value) -> (String, String) {
        let Value::Object(o) = v else {
            panic!("not an object")
        };
        assert_eq!(o.type_name(), "sprig.certificate");
        let get = |f: &str| match o.field(f) {
            Some(Value::Str(s)) => s.to_string(),
            other => panic!("{f}: {other:?}"),
        };
        (get("Cert"), get("Key"))
    }

    /// Extensions of a PEM certificate: (oid body, critical, value).
    fn extensions(cert_pem: &str) -> Vec<(Vec<u8>, bool, Vec<u8>)> {
        let (_, d) = pem_decode(cert_pem).expect("pem");
        let ((_, _, c), _) = der::read(&d).expect("cert");
        let tbs = der::children(c).expect("outer")[0].2;
        let fields = der::children(tbs).expect("tbs");
        let ext_field = fields.iter().find(|f| f.0 == 0xa3).expect("extensions");
        let seq = der::children(ext_field.2).expect("ext seq")[0].2;
        der::children(seq)
            .expect("exts")
            .iter()
            .map(|e| {
                let p = der::children(e.2).expect("ext");
                (p[0].2.to_vec(), p.len() == 3, p[p.len() - 1].2.to_vec())
            })
            .collect()
    }

    #[test]
    fn ca_and_signed_certificates() {
        let ca = gen_cert("genCA", &[s("my-ca"), Value::Int(365)], Cert::Ca, false).expect("genCA");
        let (ca_cert, ca_key) = cert_of(&ca);
        assert!(
            ca_key.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"),
            "ca key block"
        );
        let Ok(PrivateKey::Rsa(k)) = parse_private_key_pem(&ca_key) else {
            panic!("rsa key")
        };
        assert_eq!(rsa::traits::PublicKeyParts::size(&*k), 256, "rsa 2048");
        let exts = extensions(&ca_cert);
        let oids: Vec<&[u8]> = exts.iter().map(|e| e.0.as_slice()).collect();
        assert_eq!(
            oids,
            [
                OID_KEY_USAGE,
                OID_EXT_KEY_USAGE,
                OID_BASIC_CONSTRAINTS,
                OID_SUBJECT_KEY_ID
            ],
            "ca extension order"
        );
        // Go: KeyUsage DigitalSignature|KeyEncipherment|CertSign, critical; CA:TRUE, critical.
        assert_eq!(
            exts[0],
            (OID_KEY_USAGE.to_vec(), true, vec![0x03, 0x02, 0x02, 0xa4]),
            "ca key usage"
        );
        assert_eq!(
            exts[2],
            (
                OID_BASIC_CONSTRAINTS.to_vec(),
                true,
                vec![0x30, 0x03, 0x01, 0x01, 0xff]
            ),
            "ca basic"
        );
        let parsed_ca = parse_certificate(&pem_decode(&ca_cert).expect("pem").1).expect("parse ca");
        assert_eq!(parsed_ca.subject, subject_name("my-ca"));

        let leaf_key = text(gen_private_key(&[s("ecdsa")]));
        let ips = Value::list(vec![s("10.0.0.1")]);
        let dns = Value::list(vec![s("svc.local")]);
        let leaf = gen_signed_cert_with_key(&[s("svc"), ips, dns, Value::Int(30), ca.clone(), s(&leaf_key)])
            .expect("signed");
        let (leaf_cert, leaf_key_out) = cert_of(&leaf);
        assert_eq!(leaf_key_out, leaf_key, "key passed through");
        let exts = extensions(&leaf_cert);
        let oids: Vec<&[u8]> = exts.iter().map(|e| e.0.as_slice()).collect();
        assert_eq!(
            oids,
            [
                OID_KEY_USAGE,
                OID_EXT_KEY_USAGE,
                OID_BASIC_CONSTRAINTS,
                OID_AUTHORITY_KEY_ID,
                OID_SUBJECT_ALT_NAME
            ]
        );
        assert_eq!(exts[0].2, vec![0x03, 0x02, 0x05, 0xa0], "leaf key usage");
        assert_eq!(exts[2].2, vec![0x30, 0x00], "leaf basic constraints");
        let mut akid = vec![0x30, 0x16, 0x80, 0x14];
        akid.extend_from_slice(parsed_ca.subject_key_id.as_deref().expect("ca skid"));
        assert_eq!(exts[3].2, akid, "authority key id is the CA's key id");
        assert_eq!(
            exts[4].2,
            [
                &[0x30, 0x11, 0x82, 0x09][..],
                b"svc.local",
                &[0x87, 0x04, 10, 0, 0, 1]
            ]
            .concat(),
            "sans"
        );

        // The leaf's signature verifies under the CA key.
        use rsa::signature::Verifier;
        let (_, d) = pem_decode(&leaf_cert).expect("pem");
        let ((_, _, c), _) = der::read(&d).expect("cert");
        let parts = der::children(c).expect("outer");
        let sig = rsa::pkcs1v15::Signature::try_from(&parts[2].2[1..]).expect("sig");
        let vk = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(k.to_public_key());
        assert!(vk.verify(parts[0].1, &sig).is_ok(), "signature verifies");

        let bad = gen_signed_cert_with_key(&[
            s("x"),
            Value::list(vec![s("nope")]),
            Value::Nil,
            Value::Int(1),
            ca,
            s(&leaf_key),
        ]);
        assert_eq!(bad.err(), Some("error parsing ip: nope".into()));
    }

    #[test]
    fn self_signed_and_custom() {
        let key = text(gen_private_key(&[s("ed25519")]));
        let cert = gen_self_signed_cert_with_key(&[
            s(""),
            Value::Nil,
            Value::list(vec![s("a.example")]),
            Value::Int(1),
            s(&key),
        ])
        .expect("self-signed");
        let (pem, _) = cert_of(&cert);
        let exts = extensions(&pem);
        assert_eq!(exts.len(), 4, "no key ids on a self-signed leaf");
        assert!(exts[3].1, "SAN critical when the subject is empty");
        let b64 = base64::engine::general_purpose::STANDARD;
        let built = build_custom_cert(&[s(&b64.encode(&pem)), s(&b64.encode(&key))]).expect("custom");
        assert_eq!(cert_of(&built), (pem.clone(), key.clone()));
        let cases = [
            (
                "bad_cert_b64",
                "!!",
                b64.encode(&key),
                "unable to decode base64 certificate",
            ),
            (
                "bad_key_b64",
                b64.encode(&pem).leak() as &str,
                "!!".to_string(),
                "unable to decode base64 private key",
            ),
            (
                "no_pem",
                b64.encode("x").leak() as &str,
                b64.encode(&key),
                "unable to decode certificate",
            ),
        ];
        for (name, c, k, want) in cases {
            assert_eq!(
                build_custom_cert(&[s(c), s(&k)]).err(),
                Some(want.to_string()),
                "{name}"
            );
        }
    }

    #[test]
    fn name_string_choice() {
        assert_eq!(name_string("my-ca")[0], 0x13, "printable");
        assert_eq!(name_string("*.example.com")[0], 0x0c, "asterisk forces utf8");
    }
}
