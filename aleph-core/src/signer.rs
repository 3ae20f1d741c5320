//! The `Signer` trait: one implementation per chain, all signing the same payload.

use std::sync::Arc;

use crate::chain::Chain;
use crate::message::{verification_buffer, PendingMessage, UnsignedMessage};

/// Why a key could not be loaded or a payload not signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The key material is malformed.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The mnemonic phrase is not valid BIP39.
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    /// The signer cannot sign for this chain label.
    #[error("this signer cannot sign for chain {0}")]
    WrongChain(Chain),
    /// The signing primitive failed.
    #[error("signing failed: {0}")]
    Crypto(String),
}

/// What a signer signs: the verification buffer, plus the envelope time that Tezos Micheline
/// signatures also cover.
#[derive(Debug, Clone, Copy)]
pub struct SigningPayload<'a> {
    /// The verification buffer (see [`verification_buffer`]).
    pub buffer: &'a [u8],
    /// The envelope time in float seconds.
    pub time: f64,
}

/// Signs Aleph messages for one account on one chain.
///
/// Implementations produce the `signature` string exactly as the network expects it for their
/// chain; [`Signer::sign`] assembles the signed [`PendingMessage`].
pub trait Signer {
    /// The chain label messages are signed for.
    fn chain(&self) -> Chain;

    /// The account's address, as it goes into `sender` (and is signed).
    fn address(&self) -> &str;

    /// Signs the payload and returns the envelope's `signature` string.
    fn sign_payload(&self, payload: &SigningPayload<'_>) -> Result<String, SignError>;

    /// Signs `message` as this account.
    fn sign(&self, message: UnsignedMessage) -> Result<PendingMessage, SignError> {
        let chain = self.chain();
        let sender = self.address().to_owned();
        let buffer = verification_buffer(
            chain.as_str(),
            &sender,
            message.message_type.as_str(),
            message.item_hash.as_str(),
        );
        let signature = self.sign_payload(&SigningPayload { buffer: &buffer, time: message.time })?;
        Ok(PendingMessage {
            sender,
            chain,
            signature: Some(signature),
            message_type: message.message_type,
            item_type: message.item_type,
            item_content: message.item_content,
            item_hash: message.item_hash,
            time: message.time,
            channel: message.channel,
        })
    }
}

macro_rules! forward_signer {
    ($($ty:ty),*) => {$(
        impl<T: Signer + ?Sized> Signer for $ty {
            fn chain(&self) -> Chain {
                (**self).chain()
            }
            fn address(&self) -> &str {
                (**self).address()
            }
            fn sign_payload(&self, payload: &SigningPayload<'_>) -> Result<String, SignError> {
                (**self).sign_payload(payload)
            }
        }
    )*};
}

forward_signer!(&T, Box<T>, Arc<T>);
