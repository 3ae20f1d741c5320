//! Item hashes: the network-wide identifiers of messages and files.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::message::ItemType;

/// An item hash: a sha256 digest (node-native storage and inline content) or an IPFS CID.
///
/// Parsing follows the network's strict rules: sha256 is exactly 64 lowercase hex digits; a CIDv0
/// is `Qm` followed by base58btc characters, 44 to 46 in all; a CIDv1 is `bafy` followed by
/// lowercase base32 characters, 59 in all. Anything else is an [`ItemHashError`]. The hash keeps
/// its text, so [`ItemHash::as_str`] is free.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemHash(Repr);

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    /// Lowercase hex of a sha256 digest, as ASCII.
    Sha256([u8; 64]),
    /// A CID as written.
    Cid(Box<str>),
}

/// A string that is not an item hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid item hash {0:?}: expected 64 lowercase hex digits, a Qm… CIDv0 or a bafy… CIDv1")]
pub struct ItemHashError(pub String);

const BASE58_ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

impl ItemHash {
    /// The item hash of a sha256 digest.
    pub fn from_digest(digest: [u8; 32]) -> Self {
        let mut hexed = [0u8; 64];
        // Cannot fail: the output is exactly twice the input length.
        let _ = hex::encode_to_slice(digest, &mut hexed);
        ItemHash(Repr::Sha256(hexed))
    }

    /// The sha256 of `bytes`.
    pub fn sha256(bytes: impl AsRef<[u8]>) -> Self {
        Self::from_digest(Sha256::digest(bytes.as_ref()).into())
    }

    /// The hash as written on the wire.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // The array only ever holds ASCII hex digits.
            Repr::Sha256(h) => std::str::from_utf8(h).unwrap_or_default(),
            Repr::Cid(c) => c,
        }
    }

    /// The item type this hash shape implies (`storage` for sha256, `ipfs` for CIDs).
    pub fn item_type(&self) -> ItemType {
        match &self.0 {
            Repr::Sha256(_) => ItemType::Storage,
            Repr::Cid(_) => ItemType::Ipfs,
        }
    }

    /// Whether this is a sha256 hash.
    pub fn is_sha256(&self) -> bool {
        matches!(self.0, Repr::Sha256(_))
    }

    /// The digest, for sha256 hashes.
    pub fn sha256_digest(&self) -> Option<[u8; 32]> {
        match &self.0 {
            Repr::Sha256(h) => {
                let mut out = [0u8; 32];
                hex::decode_to_slice(h, &mut out).ok()?;
                Some(out)
            }
            Repr::Cid(_) => None,
        }
    }

    /// Whether `s` has the shape of an item hash (no allocation).
    pub fn is_valid(s: &str) -> bool {
        let b = s.as_bytes();
        if b.len() == 64 {
            return b.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
        }
        if s.starts_with("Qm") && (44..=46).contains(&b.len()) {
            return b.iter().all(|c| BASE58_ALPHABET.contains(c));
        }
        if s.starts_with("bafy") && b.len() == 59 {
            return b.iter().all(|c| matches!(c, b'a'..=b'z' | b'2'..=b'7'));
        }
        false
    }
}

impl FromStr for ItemHash {
    type Err = ItemHashError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !Self::is_valid(s) {
            return Err(ItemHashError(s.to_owned()));
        }
        if s.len() == 64 {
            let mut hexed = [0u8; 64];
            hexed.copy_from_slice(s.as_bytes());
            Ok(ItemHash(Repr::Sha256(hexed)))
        } else {
            Ok(ItemHash(Repr::Cid(s.into())))
        }
    }
}

impl AsRef<str> for ItemHash {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for ItemHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ItemHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ItemHash({})", self.as_str())
    }
}

impl Serialize for ItemHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ItemHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let h = "d281eb8a69ba1f4dda2d71aaf3ded06caa92edd690ef3d0632f41aa91167762c";
        assert_eq!(h.parse::<ItemHash>().unwrap().to_string(), h);
        assert_eq!(h.parse::<ItemHash>().unwrap().item_type(), ItemType::Storage);
        assert!(h.to_uppercase().parse::<ItemHash>().is_err());
        let v0 = "QmXSEnpQCnUfeGFoSjY1XAK1Cuad5CtAaqyachGTtsFSuA";
        assert_eq!(v0.parse::<ItemHash>().unwrap().item_type(), ItemType::Ipfs);
        let v1 = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        assert_eq!(v1.len(), 59);
        assert!(v1.parse::<ItemHash>().is_ok());
        for bad in ["deadbeef", "", "bafkreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd", "Qm0000"] {
            assert!(bad.parse::<ItemHash>().is_err(), "{bad}");
        }
    }

    #[test]
    fn sha256_of_bytes() {
        assert_eq!(
            ItemHash::sha256(b"").to_string(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
