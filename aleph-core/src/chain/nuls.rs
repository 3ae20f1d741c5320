//! NULS: `NULS2` compact recoverable signatures, and legacy NULS v1 (`NULS`) signatures checked
//! the way the reference node actually checks them.
//!
//! Both sign `SHA-256("\x18NULS Signed Message:\n" ‖ varint(len) ‖ buffer)` in intent, with a
//! Bitcoin-style varint. Addresses are base58 of `chain_id (i16 LE) ‖ 0x01 ‖ hash160(public key) ‖
//! xor of those 23 bytes`, with a text prefix for NULS2 (`NULSd…` on chain 1, `tNULSe…` on
//! chain 2) and none for v1.

use crate::chain::pycompat;
use crate::chain::secp256k1::{hash160, parse_public_key, recover_compressed, sha256, verify_prehash};
use crate::message::SignedFields;
use crate::verify::VerifyError;

/// The prefix of every NULS signed message.
const MAGIC: &[u8] = b"\x18NULS Signed Message:\n";

/// Appends a Bitcoin/NULS varint: one byte below 253, else `FD`+u16, `FE`+u32 or `FF`+u64,
/// little endian.
fn push_varint(out: &mut Vec<u8>, n: usize) {
    let n = n as u64;
    if n < 253 {
        out.push(n as u8);
    } else if n <= 0xffff {
        out.push(0xfd);
        out.extend_from_slice(&(n as u16).to_le_bytes());
    } else if n <= 0xffff_ffff {
        out.push(0xfe);
        out.extend_from_slice(&(n as u32).to_le_bytes());
    } else {
        out.push(0xff);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

/// The NULS address hash of a public key on a chain, followed by its xor check byte:
/// `chain_id (LE) ‖ 0x01 ‖ hash160(key) ‖ xor`, 24 bytes.
fn address_bytes(chain_id: [u8; 2], public_key: &[u8]) -> [u8; 24] {
    let mut out = [0u8; 24];
    out[..2].copy_from_slice(&chain_id);
    out[2] = 1;
    out[3..23].copy_from_slice(&hash160(public_key));
    out[23] = out[..23].iter().fold(0, |acc, b| acc ^ b);
    out
}

/// The digest a NULS2 signature covers: `SHA-256("\x18NULS Signed Message:\n" ‖ varint(len) ‖
/// buffer)`.
pub fn nuls2_message_digest(buffer: &[u8]) -> [u8; 32] {
    let mut msg = Vec::with_capacity(MAGIC.len() + 9 + buffer.len());
    msg.extend_from_slice(MAGIC);
    push_varint(&mut msg, buffer.len());
    msg.extend_from_slice(buffer);
    sha256(&msg)
}

/// The NULS2 address of a compressed public key: `NULSd…` for chain id 1, `tNULSe…` for chain
/// id 2; `None` for any other chain id (the reference knows only those two).
pub fn nuls2_address(public_key: &[u8; 33], chain_id: i16) -> Option<String> {
    let prefix = match chain_id {
        1 => "NULSd",
        2 => "tNULSe",
        _ => return None,
    };
    let body = bs58::encode(address_bytes(chain_id.to_le_bytes(), public_key)).into_string();
    Some(format!("{prefix}{body}"))
}

/// The chain id a NULS2 sender names, read as the reference does: drop the first 5 characters of
/// a `NULS…` sender or the first 6 of a `tNULS…` one, base58-decode the rest, drop its last byte,
/// and take the first two as a little-endian i16.
fn nuls2_sender_chain_id(sender: &str) -> Result<i16, VerifyError> {
    let skip = if sender.starts_with("NULS") {
        5
    } else if sender.starts_with("tNULS") {
        6
    } else {
        return Err(VerifyError::BadSender("a NULS2 address starts with NULS or tNULS".to_owned()));
    };
    let rest = sender.char_indices().nth(skip).map_or("", |(i, _)| &sender[i..]);
    let decoded = bs58::decode(rest)
        .into_vec()
        .map_err(|_| VerifyError::BadSender("the address body is not base58".to_owned()))?;
    match decoded.as_slice() {
        [lo, hi, _, ..] => Ok(i16::from_le_bytes([*lo, *hi])),
        _ => Err(VerifyError::BadSender("the address is too short".to_owned())),
    }
}

/// Verifies a `NULS2` message.
///
/// The signature is base64 (decoded leniently, as Python's `base64.b64decode` does) of 65 bytes
/// `header ‖ r ‖ s`; the header must be 27–30 (recovery id = header − 27; the "compressed key"
/// headers 31–34 are rejected). The public key is recovered from [`nuls2_message_digest`] of the
/// buffer (high `s` accepted), compressed, and its [`nuls2_address`] on the chain id read from the
/// sender (only 1 and 2 are supported) must equal the sender exactly.
pub fn verify_nuls2(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    let raw = pycompat::b64decode_str(fields.signature)
        .ok_or_else(|| VerifyError::Malformed("signature is not base64".to_owned()))?;
    let chain_id = nuls2_sender_chain_id(fields.sender)?;
    let Some((&header, rs)) = raw.split_first().filter(|_| raw.len() == 65) else {
        return Err(VerifyError::Malformed(format!(
            "expected a 65-byte compact signature, got {} bytes",
            raw.len()
        )));
    };
    if !(27..=30).contains(&header) {
        return Err(VerifyError::Malformed(format!("compact signature header {header} is not in 27..=30")));
    }
    if !matches!(chain_id, 1 | 2) {
        return Err(VerifyError::BadSender(format!("unsupported NULS chain id {chain_id}")));
    }
    let (r, s) = crate::chain::secp256k1::split_rs(rs).ok_or(VerifyError::Invalid)?;
    let digest = nuls2_message_digest(&fields.buffer());
    let key = recover_compressed(&digest, &r, &s, header - 27).ok_or(VerifyError::Invalid)?;
    let signer = nuls2_address(&key, chain_id).ok_or(VerifyError::Invalid)?;
    if signer == fields.sender {
        Ok(())
    } else {
        Err(VerifyError::WrongSigner { sender: fields.sender.to_owned(), signer })
    }
}

/// Appends the text of Python's `repr()` of a `bytes` object: `b'…'` (or `b"…"` when the bytes
/// hold a `'` and no `"`), with `\\`, the quote, `\t`, `\n`, `\r` escaped, other bytes below
/// 0x20 or from 0x7f up as `\xhh`, and printable ASCII verbatim.
fn push_bytes_repr(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') { b'"' } else { b'\'' };
    out.push(b'b');
    out.push(quote);
    for &c in bytes {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            c if c == quote => out.extend_from_slice(&[b'\\', c]),
            c if !(0x20..0x7f).contains(&c) => {
                out.extend_from_slice(&[b'\\', b'x', HEX[usize::from(c >> 4)], HEX[usize::from(c & 0xf)]])
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// The bytes the reference node's NULS v1 check hashes (SHA-256) for a buffer.
///
/// pyaleph builds them with `"\x18NULS Signed Message:\n{}".format(varint(len) + buffer)`: the
/// `bytes` object is formatted into a `str`, so what is signed is the *text of its Python
/// repr*, e.g. `"\x18NULS Signed Message:\nb'tNULS\\nTTap…'"` for a 116-byte buffer (the
/// varint 0x74 shows as `t`), not the raw bytes. This is that text, UTF-8 encoded (it is ASCII
/// after the first line).
pub fn nuls1_signed_message(buffer: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(9 + buffer.len());
    push_varint(&mut framed, buffer.len());
    framed.extend_from_slice(buffer);
    let mut out = Vec::with_capacity(MAGIC.len() + 3 + framed.len() * 2);
    out.extend_from_slice(MAGIC);
    push_bytes_repr(&mut out, &framed);
    out
}

/// Reads a NULS varint at `at`, as the reference's parser does. Returns `(value, size)`.
fn read_varint(buf: &[u8], at: usize) -> Option<(u64, usize)> {
    let rest = buf.get(at..)?;
    match *rest.first()? {
        n @ 0..=252 => Some((u64::from(n), 1)),
        0xfd => Some((u64::from(u16::from_le_bytes([*rest.get(1)?, *rest.get(2)?])), 3)),
        0xfe => Some((u64::from(u32::from_le_bytes(rest.get(1..5)?.try_into().ok()?)), 5)),
        _ => Some((u64::from_le_bytes(rest.get(1..9)?.try_into().ok()?), 9)),
    }
}

/// Parses a NULS v1 signature structure the way the reference does: `varint ‖ public key`,
/// one algorithm byte (ignored), `varint ‖ DER signature`, trailing bytes ignored. The public
/// key must be complete (the algorithm byte is read after it); the DER part is cut short at the
/// end of the data, as Python slicing does. Returns `(public key, DER bytes)`.
fn parse_nuls1_signature(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let (key_len, size) = read_varint(raw, 0)?;
    let key_start = size;
    let key_end = key_start.checked_add(usize::try_from(key_len).ok()?)?;
    let public_key = raw.get(key_start..key_end)?;
    // The algorithm byte must exist.
    raw.get(key_end)?;
    let sig_at = key_end + 1;
    let (sig_len, size) = read_varint(raw, sig_at)?;
    // `read_varint` succeeded, so `start <= raw.len()`.
    let start = sig_at + size;
    let end = start.saturating_add(usize::try_from(sig_len).unwrap_or(usize::MAX)).min(raw.len());
    let der = raw.get(start..end)?;
    Some((public_key, der))
}

/// Reads a DER length at `*at` under libsecp256k1's strict rules (no indefinite or non-minimal
/// forms, within the data).
fn der_len(der: &[u8], at: &mut usize) -> Option<usize> {
    let first = *der.get(*at)?;
    *at += 1;
    if first & 0x80 == 0 {
        return Some(usize::from(first));
    }
    if first == 0x80 || first == 0xff {
        return None;
    }
    let count = usize::from(first & 0x7f);
    let bytes = der.get(*at..at.checked_add(count)?)?;
    if bytes.first() == Some(&0) || count > std::mem::size_of::<usize>() {
        return None;
    }
    *at += count;
    let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    if len < 128 || len > der.len() - *at {
        return None;
    }
    Some(len)
}

/// Reads one DER INTEGER as a 32-byte big-endian scalar candidate. `None` both where
/// libsecp256k1 refuses to parse and where it parses but zeroes the value (negative or wider
/// than 32 bytes), since such a signature can never verify.
fn der_integer(der: &[u8], at: &mut usize) -> Option<[u8; 32]> {
    if der.get(*at) != Some(&0x02) {
        return None;
    }
    *at += 1;
    let len = der_len(der, at)?;
    let mut value = der.get(*at..at.checked_add(len)?)?;
    *at += len;
    match value {
        [] => return None,
        [0x00, next, ..] if next & 0x80 == 0 => return None,
        [0xff, next, ..] if next & 0x80 != 0 => return None,
        [first, ..] if first & 0x80 != 0 => return None,
        [0x00, rest @ ..] => value = rest,
        _ => {}
    }
    if value.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - value.len()..].copy_from_slice(value);
    Some(out)
}

/// Parses a strict-DER ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`, nothing after it),
/// as libsecp256k1's `secp256k1_ecdsa_signature_parse_der`.
fn parse_der(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    if der.first() != Some(&0x30) {
        return None;
    }
    let mut at = 1;
    let len = der_len(der, &mut at)?;
    if len != der.len() - at {
        return None;
    }
    let r = der_integer(der, &mut at)?;
    let s = der_integer(der, &mut at)?;
    (at == der.len()).then_some((r, s))
}

/// Verifies a legacy NULS v1 (`NULS`) message exactly as the reference node does.
///
/// The signature is hex (Python `bytes.fromhex`, whitespace between pairs allowed) of
/// `varint ‖ public key ‖ algorithm byte ‖ varint ‖ DER signature`. The sender is base58; its
/// first two bytes are the chain id, and it must equal base58 of `chain_id ‖ 0x01 ‖
/// hash160(public key as given) ‖ xor`. The public key may be compressed, uncompressed or
/// hybrid; the DER must be strict and the signature low-S (libsecp256k1).
///
/// What is verified is SHA-256 of [`nuls1_signed_message`]: pyaleph formats the framed buffer, a
/// Python `bytes` object, into its `str` template, so it hashes the text of the repr `b'…'`
/// rather than the bytes. Real NULS v1 wallets signed the raw bytes, so real NULS v1 messages do
/// not verify on the reference node (its own tests for them are skipped) and do not verify
/// here either; only a signer that reproduced the repr text (such as pyaleph's own
/// `NulsSignature.sign_message`) yields messages that both accept.
pub fn verify_nuls1(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    verify_nuls1_over(fields, &nuls1_signed_message(&fields.buffer()))
}

/// The NULS v1 check with the signed bytes given.
fn verify_nuls1_over(fields: &SignedFields<'_>, signed: &[u8]) -> Result<(), VerifyError> {
    let raw = pycompat::fromhex(fields.signature)
        .ok_or_else(|| VerifyError::Malformed("signature is not hex".to_owned()))?;
    let (public_key, der) = parse_nuls1_signature(&raw)
        .ok_or_else(|| VerifyError::Malformed("truncated NULS signature structure".to_owned()))?;
    let sender = bs58::decode(fields.sender)
        .into_vec()
        .map_err(|_| VerifyError::BadSender("a NULS address is base58".to_owned()))?;
    let chain_id = match sender.as_slice() {
        [lo, hi, _, ..] => [*lo, *hi],
        _ => return Err(VerifyError::BadSender("the address is too short".to_owned())),
    };
    let signer = bs58::encode(address_bytes(chain_id, public_key)).into_string();
    if signer != fields.sender {
        return Err(VerifyError::WrongSigner { sender: fields.sender.to_owned(), signer });
    }
    let key = parse_public_key(public_key, false)
        .ok_or_else(|| VerifyError::Malformed("not a secp256k1 public key".to_owned()))?;
    let (r, s) =
        parse_der(der).ok_or_else(|| VerifyError::Malformed("not a strict DER signature".to_owned()))?;
    if verify_prehash(&key, &sha256(signed), &r, &s, false) {
        Ok(())
    } else {
        Err(VerifyError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::{RecoveryId, Signature, SigningKey};

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32].into()).unwrap()
    }

    fn compressed(sk: &SigningKey) -> [u8; 33] {
        sk.verifying_key().to_encoded_point(true).as_bytes().try_into().unwrap()
    }

    fn fields<'a>(chain: &'a str, sender: &'a str, hash: &'a str, signature: &'a str) -> SignedFields<'a> {
        SignedFields { chain, sender, message_type: "POST", item_hash: hash, signature, time: 0.0 }
    }

    const HASH: &str = "43094c3309791a5aa92ff6e1de337f23242103e1dffdc1941c5b6d4131da3a7e";

    /// Signs like aleph-nuls2's `sign_recoverable_message`: base64 of `27 + recid ‖ r ‖ s`.
    fn sign_nuls2(sk: &SigningKey, sender: &str, header_offset: u8) -> String {
        let buf = fields("NULS2", sender, HASH, "").buffer();
        let (sig, recid): (Signature, RecoveryId) =
            sk.sign_prehash_recoverable(&nuls2_message_digest(&buf)).unwrap();
        let mut raw = vec![27 + header_offset + recid.to_byte()];
        raw.extend_from_slice(&sig.to_bytes());
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, raw)
    }

    #[test]
    fn nuls2_sign_verify_and_negatives() {
        let sk = key(3);
        let sender = nuls2_address(&compressed(&sk), 1).unwrap();
        assert!(sender.starts_with("NULSd"));
        let sig = sign_nuls2(&sk, &sender, 0);
        assert_eq!(verify_nuls2(&fields("NULS2", &sender, HASH, &sig)), Ok(()));
        // Python's base64 skips stray characters.
        let spaced = format!("{}\n{}", &sig[..10], &sig[10..]);
        assert_eq!(verify_nuls2(&fields("NULS2", &sender, HASH, &spaced)), Ok(()));
        // Testnet addresses.
        let test_sender = nuls2_address(&compressed(&sk), 2).unwrap();
        assert!(test_sender.starts_with("tNULSe"));
        let test_sig = sign_nuls2(&sk, &test_sender, 0);
        assert_eq!(verify_nuls2(&fields("NULS2", &test_sender, HASH, &test_sig)), Ok(()));
        // Tampered buffer.
        let other_hash = HASH.replace('4', "5");
        assert!(matches!(
            verify_nuls2(&fields("NULS2", &sender, &other_hash, &sig)),
            Err(VerifyError::WrongSigner { .. })
        ));
        // Another key's address.
        let other = nuls2_address(&compressed(&key(4)), 1).unwrap();
        assert!(matches!(
            verify_nuls2(&fields("NULS2", &other, HASH, &sig)),
            Err(VerifyError::WrongSigner { .. })
        ));
        // Compressed-key headers 31..=34 are refused.
        let compressed_header = sign_nuls2(&sk, &sender, 4);
        assert!(matches!(
            verify_nuls2(&fields("NULS2", &sender, HASH, &compressed_header)),
            Err(VerifyError::Malformed(_))
        ));
        // Not base64, wrong length, bad sender prefix, unknown chain id.
        assert!(matches!(
            verify_nuls2(&fields("NULS2", &sender, HASH, "abc")),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(
            verify_nuls2(&fields("NULS2", &sender, HASH, "AAAA")),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(verify_nuls2(&fields("NULS2", "ETHd", HASH, &sig)), Err(VerifyError::BadSender(_))));
        assert!(matches!(verify_nuls2(&fields("NULS2", "NULS", HASH, &sig)), Err(VerifyError::BadSender(_))));
        let body = bs58::encode(address_bytes(3i16.to_le_bytes(), &compressed(&sk))).into_string();
        let chain3 = format!("NULSd{body}");
        assert!(matches!(
            verify_nuls2(&fields("NULS2", &chain3, HASH, &sig)),
            Err(VerifyError::BadSender(_))
        ));
    }

    #[test]
    fn nuls2_reference_vector() {
        // pyaleph tests/chains/test_nuls2.py.
        let f = fields(
            "NULS2",
            "NULSd6HgeZVDvQ2pKQLakAsStYvGAT6WVFu9K",
            HASH,
            "HG4dsFDNGfgjKQX1qorGjxYfK8qEoKF0SfnBSNc8KbpCJ9jET58Rrvc8k3yK8XRl7syoT5gMRmoswOdbSCesmxo=",
        );
        assert_eq!(verify_nuls2(&f), Ok(()));
    }

    #[test]
    fn varints() {
        let enc = |n| {
            let mut v = Vec::new();
            push_varint(&mut v, n);
            v
        };
        assert_eq!(enc(252), [252]);
        assert_eq!(enc(253), [0xfd, 253, 0]);
        assert_eq!(enc(0x1_0000), [0xfe, 0, 0, 1, 0]);
        assert_eq!(read_varint(&[0xfd, 1, 2], 0), Some((0x0201, 3)));
        assert_eq!(read_varint(&[0xfd, 1], 0), None);
        assert_eq!(read_varint(&[], 0), None);
    }

    #[test]
    fn nuls1_text_is_the_python_repr() {
        // Expected values from Python: "\x18NULS Signed Message:\n{}".format(varint + buffer).encode()
        let got = nuls1_signed_message(b"NULS\nx'y\\z");
        assert_eq!(got, b"\x18NULS Signed Message:\nb\"\\nNULS\\nx'y\\\\z\"".to_vec());
        let got = nuls1_signed_message("\u{e9}'\"\t\r\x7f".as_bytes());
        assert_eq!(got, b"\x18NULS Signed Message:\nb'\\x07\\xc3\\xa9\\'\"\\t\\r\\x7f'".to_vec());
    }

    /// Strict DER of `(r, s)`.
    fn der_encode(sig: &Signature) -> Vec<u8> {
        let int = |b: &[u8]| {
            let mut v: Vec<u8> = b.iter().copied().skip_while(|&x| x == 0).collect();
            if v.first().is_none_or(|&x| x & 0x80 != 0) {
                v.insert(0, 0);
            }
            let mut out = vec![0x02, v.len() as u8];
            out.extend(v);
            out
        };
        let bytes = sig.to_bytes();
        let mut body = int(&bytes[..32]);
        body.extend(int(&bytes[32..]));
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }

    /// Builds a v1 signature: `varint ‖ key ‖ 0x00 ‖ varint ‖ DER`, as NulsSignature.serialize.
    fn v1_signature(public_key: &[u8], der: &[u8]) -> String {
        let mut raw = vec![public_key.len() as u8];
        raw.extend_from_slice(public_key);
        raw.push(0);
        raw.push(der.len() as u8);
        raw.extend_from_slice(der);
        hex::encode(raw)
    }

    fn v1_address(sk: &SigningKey, chain_id: i16) -> String {
        bs58::encode(address_bytes(chain_id.to_le_bytes(), &compressed(sk))).into_string()
    }

    #[test]
    fn nuls1_sign_verify_and_negatives() {
        let sk = key(9);
        let sender = v1_address(&sk, 8964);
        let buf = fields("NULS", &sender, HASH, "").buffer();
        let sign = |msg: &[u8]| -> Signature {
            let (sig, _): (Signature, RecoveryId) = sk.sign_prehash_recoverable(&sha256(msg)).unwrap();
            sig
        };
        // Signed over the repr text (pyaleph's own signer does this): verifies.
        let sig = sign(&nuls1_signed_message(&buf));
        let good = v1_signature(&compressed(&sk), &der_encode(&sig));
        assert_eq!(verify_nuls1(&fields("NULS", &sender, HASH, &good)), Ok(()));
        // Whitespace between hex pairs is tolerated, as by bytes.fromhex.
        let spaced = format!("{} {}", &good[..4], &good[4..]);
        assert_eq!(verify_nuls1(&fields("NULS", &sender, HASH, &spaced)), Ok(()));
        // Signed over the raw bytes (what real wallets did): rejected, as on the reference node.
        let mut raw_msg = MAGIC.to_vec();
        push_varint(&mut raw_msg, buf.len());
        raw_msg.extend_from_slice(&buf);
        let raw_sig = v1_signature(&compressed(&sk), &der_encode(&sign(&raw_msg)));
        assert_eq!(verify_nuls1(&fields("NULS", &sender, HASH, &raw_sig)), Err(VerifyError::Invalid));
        // High-S is refused (libsecp256k1).
        let high = Signature::from_scalars(sig.r().to_bytes(), (-*sig.s()).to_bytes()).unwrap();
        let high_sig = v1_signature(&compressed(&sk), &der_encode(&high));
        assert_eq!(verify_nuls1(&fields("NULS", &sender, HASH, &high_sig)), Err(VerifyError::Invalid));
        // Tampered buffer, wrong sender, malformed data.
        assert_eq!(
            verify_nuls1(&fields("NULS", &sender, &HASH.replace('4', "5"), &good)),
            Err(VerifyError::Invalid)
        );
        assert!(matches!(
            verify_nuls1(&fields("NULS", &v1_address(&key(8), 8964), HASH, &good)),
            Err(VerifyError::WrongSigner { .. })
        ));
        assert!(matches!(
            verify_nuls1(&fields("NULS", &sender, HASH, "BAR")),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(
            verify_nuls1(&fields("NULS", &sender, HASH, "2102")),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(verify_nuls1(&fields("NULS", "0OIl", HASH, &good)), Err(VerifyError::BadSender(_))));
        // Uncompressed keys hash to another address but verify with it.
        let full = sk.verifying_key().to_encoded_point(false);
        let full_sender = bs58::encode(address_bytes(8964i16.to_le_bytes(), full.as_bytes())).into_string();
        let full_buf = fields("NULS", &full_sender, HASH, "").buffer();
        let full_sig = v1_signature(full.as_bytes(), &der_encode(&sign(&nuls1_signed_message(&full_buf))));
        assert_eq!(verify_nuls1(&fields("NULS", &full_sender, HASH, &full_sig)), Ok(()));
    }

    #[test]
    fn nuls1_real_message_verifies_only_over_the_raw_bytes() {
        // pyaleph tests/chains/test_common.py::test_incoming_inline (skipped upstream).
        let f = fields(
            "NULS",
            "TTapAav8g3fFjxQQCjwPd4ERPnai9oya",
            "84afd8484912d3fa11a402e480d17e949fbf600fcdedd69674253be0320fa62c",
            "21027c108022f992f090bbe5c78ca8822f5b7adceb705ae2cd5318543d7bcdd2a74700473045022100b59f7df5333d57080a93be53b9af74e66a284170ec493455e675eb2539ac21db022077ffc66fe8dde7707038344496a85266bf42af1240017d4e1fa0d7068c588ca7",
        );
        let f = SignedFields { message_type: "AGGREGATE", ..f };
        assert_eq!(verify_nuls1(&f), Err(VerifyError::Invalid));
        let buf = f.buffer();
        let mut raw_msg = MAGIC.to_vec();
        push_varint(&mut raw_msg, buf.len());
        raw_msg.extend_from_slice(&buf);
        assert_eq!(verify_nuls1_over(&f, &raw_msg), Ok(()));
    }

    #[test]
    fn strict_der() {
        let sig = Signature::from_scalars([1u8; 32], [2u8; 32]).unwrap();
        let der = der_encode(&sig);
        assert_eq!(parse_der(&der), Some(([1u8; 32], [2u8; 32])));
        let mut trailing = der.clone();
        trailing.push(0);
        assert_eq!(parse_der(&trailing), None);
        // Non-minimal integer padding and long-form short lengths are refused.
        assert_eq!(parse_der(&[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]), Some((one(), one())));
        assert_eq!(parse_der(&[0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]), None);
        assert_eq!(parse_der(&[0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01]), None);
        assert_eq!(parse_der(&[0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x01]), None);
        assert_eq!(parse_der(&[]), None);
    }

    fn one() -> [u8; 32] {
        let mut v = [0u8; 32];
        v[31] = 1;
        v
    }

    #[test]
    fn nuls1_structure_is_parsed_like_python() {
        // The DER part is cut at the end of the data; trailing bytes are ignored.
        assert_eq!(parse_nuls1_signature(&[1, 9, 0, 5, 1, 2]), Some((&[9u8][..], &[1u8, 2][..])));
        assert_eq!(parse_nuls1_signature(&[1, 9, 0, 1, 1, 2]), Some((&[9u8][..], &[1u8][..])));
        assert_eq!(parse_nuls1_signature(&[1, 9, 0, 0xff]), None);
        assert_eq!(parse_nuls1_signature(&[2, 9, 0]), None);
        assert_eq!(parse_nuls1_signature(&[1, 9]), None);
        assert_eq!(
            parse_nuls1_signature(&[1, 9, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x80]),
            Some((&[9u8][..], &[][..]))
        );
    }
}
