//! Signature verification for every chain label the network verifies, one message or many.

use rayon::prelude::*;

use crate::chain::{Chain, ChainFamily};
use crate::message::SignedFields;

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The chain label is not one of the network's.
    #[error("unknown chain {0:?}")]
    UnknownChain(String),
    /// The network has no verifier for this label (`AURORA`, `STT`).
    #[error("no signature verifier exists for chain {0} on the network")]
    NoVerifier(Chain),
    /// This build was compiled without the chain's feature.
    #[error("verification for chain {0} is not compiled into this build")]
    NotCompiled(Chain),
    /// The message has no signature.
    #[error("the message has no signature")]
    MissingSignature,
    /// The signature field cannot be decoded.
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// The sender is not an address of this chain's format.
    #[error("malformed sender address: {0}")]
    BadSender(String),
    /// The signature is valid for another address.
    #[error("signature was made by {signer}, not by the sender {sender}")]
    WrongSigner {
        /// The envelope sender.
        sender: String,
        /// The address the signature belongs to.
        signer: String,
    },
    /// The signature does not verify.
    #[error("signature does not verify")]
    Invalid,
}

/// Verifies the signature of one message with the network's rule for its chain label.
pub fn verify_signature(fields: &SignedFields<'_>) -> Result<(), VerifyError> {
    let chain: Chain =
        fields.chain.parse().map_err(|_| VerifyError::UnknownChain(fields.chain.to_owned()))?;
    if fields.signature.is_empty() {
        return Err(VerifyError::MissingSignature);
    }
    match chain.family() {
        #[cfg(feature = "evm")]
        ChainFamily::Evm => crate::chain::ethereum::verify(fields),
        #[cfg(feature = "solana")]
        ChainFamily::Svm => crate::chain::solana::verify(fields),
        #[cfg(feature = "tezos")]
        ChainFamily::Tezos => crate::chain::tezos::verify(fields),
        #[cfg(feature = "nuls")]
        ChainFamily::Nuls2 => crate::chain::nuls::verify_nuls2(fields),
        #[cfg(feature = "nuls")]
        ChainFamily::Nuls => crate::chain::nuls::verify_nuls1(fields),
        #[cfg(feature = "cosmos")]
        ChainFamily::Cosmos => crate::chain::cosmos::verify(fields),
        #[cfg(feature = "substrate")]
        ChainFamily::Substrate => crate::chain::substrate::verify(fields),
        #[cfg(feature = "avalanche")]
        ChainFamily::Avalanche => crate::chain::avalanche::verify(fields),
        ChainFamily::Unverifiable => Err(VerifyError::NoVerifier(chain)),
        #[allow(unreachable_patterns)]
        _ => Err(VerifyError::NotCompiled(chain)),
    }
}

/// Verifies many messages at once, on every core, and with ed25519 batch verification for
/// Solana/Eclipse signatures. The result at index `i` is the verdict for `messages[i]`, identical
/// to what [`verify_signature`] gives for it.
pub fn verify_batch(messages: &[SignedFields<'_>]) -> Vec<Result<(), VerifyError>> {
    const CHUNK: usize = 64;
    messages
        .par_chunks(CHUNK)
        .flat_map_iter(|chunk| {
            #[cfg(feature = "solana")]
            {
                crate::chain::solana::verify_chunk(chunk)
            }
            #[cfg(not(feature = "solana"))]
            {
                chunk.iter().map(verify_signature).collect::<Vec<_>>()
            }
        })
        .collect()
}
