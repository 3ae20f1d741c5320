//! The one builder of the bytes every chain signs.
//!
//! `"{chain}\n{sender}\n{type}\n{item_hash}"`, UTF-8, no trailing newline. Signers and verifiers
//! of every chain call [`verification_buffer`]; nothing else assembles these bytes.

/// The bytes a message's signature covers: `chain`, `sender`, `type` and `item_hash` joined by
/// `\n`, each exactly as written in the envelope (the sender's case is part of what is signed).
pub fn verification_buffer(chain: &str, sender: &str, message_type: &str, item_hash: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(chain.len() + sender.len() + message_type.len() + item_hash.len() + 3);
    for (i, part) in [chain, sender, message_type, item_hash].into_iter().enumerate() {
        if i > 0 {
            buf.push(b'\n');
        }
        buf.extend_from_slice(part.as_bytes());
    }
    buf
}

/// The envelope fields a signature check reads, as raw strings.
///
/// Verification works on the strings as received, so that a message with a label the network
/// does not know can still be judged (and rejected with that reason) and nothing is normalised
/// before it is checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SignedFields<'a> {
    /// The `chain` field.
    pub chain: &'a str,
    /// The `sender` field.
    pub sender: &'a str,
    /// The `type` field.
    pub message_type: &'a str,
    /// The `item_hash` field.
    pub item_hash: &'a str,
    /// The `signature` field (for object-shaped signatures, their JSON text).
    pub signature: &'a str,
    /// The envelope `time`, in seconds (signed only by Tezos Micheline signatures).
    pub time: f64,
}

impl SignedFields<'_> {
    /// The signed bytes of these fields.
    pub fn buffer(&self) -> Vec<u8> {
        verification_buffer(self.chain, self.sender, self.message_type, self.item_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_example_is_116_bytes() {
        let buf = verification_buffer(
            "ETH",
            "0xB68B9D4f3771c246233823ed1D3Add451055F9Ef",
            "POST",
            "d281eb8a69ba1f4dda2d71aaf3ded06caa92edd690ef3d0632f41aa91167762c",
        );
        assert_eq!(buf.len(), 116);
        assert_eq!(
            buf,
            b"ETH\n0xB68B9D4f3771c246233823ed1D3Add451055F9Ef\nPOST\nd281eb8a69ba1f4dda2d71aaf3ded06caa92edd690ef3d0632f41aa91167762c"
        );
    }

    #[test]
    fn pyaleph_buffer_test_vector() {
        // pyaleph tests/chains/test_common.py: chain ETH, sender SENDER, type STORE, hash ITEM_HASH.
        assert_eq!(
            verification_buffer("ETH", "SENDER", "STORE", "ITEM_HASH"),
            b"ETH\nSENDER\nSTORE\nITEM_HASH"
        );
    }
}
