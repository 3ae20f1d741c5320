//! Chains: the wire codes the network knows, how each is verified, and one module per chain family
//! holding its signer and verifier.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(feature = "avalanche")]
pub mod avalanche;
#[cfg(feature = "cosmos")]
pub mod cosmos;
#[cfg(feature = "evm")]
pub mod ethereum;
#[cfg(feature = "nuls")]
pub mod nuls;
#[cfg(any(
    feature = "nuls",
    feature = "cosmos",
    feature = "substrate",
    feature = "avalanche",
    feature = "vm-auth"
))]
pub(crate) mod pycompat;
#[cfg(any(feature = "nuls", feature = "cosmos", feature = "avalanche"))]
mod secp256k1;
#[cfg(feature = "solana")]
pub mod solana;
#[cfg(feature = "substrate")]
pub mod substrate;
#[cfg(feature = "tezos")]
pub mod tezos;

/// A chain label as it appears in a message's `chain` field.
///
/// Every value of the network's chain enumeration is here; parsing anything else is an
/// [`UnknownChain`] error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Chain {
    /// `ARB`
    Arbitrum,
    /// `AURORA` (in the enumeration, but the network has no verifier for it)
    Aurora,
    /// `AVAX` (Avalanche X/P-chain signatures, not EVM)
    Avax,
    /// `BASE`
    Base,
    /// `BLAST`
    Blast,
    /// `BOB`
    Bob,
    /// `BSC`
    Bsc,
    /// `CSDK` (Cosmos SDK)
    Csdk,
    /// `CYBER`
    Cyber,
    /// `DOT` (Substrate / Polkadot)
    Dot,
    /// `ES` (Eclipse, ed25519 like Solana)
    Eclipse,
    /// `ETH`
    Eth,
    /// `ETHERLINK`
    Etherlink,
    /// `FRAX`
    Fraxtal,
    /// `HYPE`
    Hype,
    /// `INK`
    Ink,
    /// `LENS`
    Lens,
    /// `LINEA`
    Linea,
    /// `LISK`
    Lisk,
    /// `METIS`
    Metis,
    /// `MODE`
    Mode,
    /// `NEO` (verified with the EVM rule)
    Neo,
    /// `NULS` (legacy NULS v1)
    Nuls,
    /// `NULS2`
    Nuls2,
    /// `OP`
    Optimism,
    /// `POL`
    Pol,
    /// `SOL`
    Sol,
    /// `STT` (Somnia; in the enumeration, but the network has no verifier for it)
    Somnia,
    /// `SONIC`
    Sonic,
    /// `TEZOS`
    Tezos,
    /// `UNICHAIN`
    Unichain,
    /// `WLD`
    Worldchain,
    /// `ZORA`
    Zora,
}

/// How messages of a chain are signed and verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChainFamily {
    /// EIP-191 `personal_sign` over secp256k1.
    Evm,
    /// Ed25519 over the raw buffer, base58 keys (Solana, Eclipse).
    Svm,
    /// Tezos keys on three curves, raw or Micheline-wrapped payloads.
    Tezos,
    /// NULS2 compact recoverable secp256k1 signatures.
    Nuls2,
    /// Legacy NULS v1.
    Nuls,
    /// Cosmos SDK amino sign documents.
    Cosmos,
    /// Substrate sr25519.
    Substrate,
    /// Avalanche X/P-chain signed messages.
    Avalanche,
    /// A label the network knows but cannot verify (`AURORA`, `STT`).
    Unverifiable,
}

/// A chain label that is not one of the network's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown chain {0:?}")]
pub struct UnknownChain(pub String);

macro_rules! chains {
    ($($variant:ident => $code:literal, $family:ident;)*) => {
        impl Chain {
            /// Every chain the network's enumeration holds, in wire-code order.
            pub const ALL: &'static [Chain] = &[$(Chain::$variant),*];

            /// The wire code, as written in messages and signed in the verification buffer.
            pub const fn as_str(&self) -> &'static str {
                match self { $(Chain::$variant => $code),* }
            }

            /// How this chain's messages are verified.
            pub const fn family(&self) -> ChainFamily {
                match self { $(Chain::$variant => ChainFamily::$family),* }
            }
        }

        impl FromStr for Chain {
            type Err = UnknownChain;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok(Chain::$variant),)*
                    other => Err(UnknownChain(other.to_owned())),
                }
            }
        }
    };
}

chains! {
    Arbitrum => "ARB", Evm;
    Aurora => "AURORA", Unverifiable;
    Avax => "AVAX", Avalanche;
    Base => "BASE", Evm;
    Blast => "BLAST", Evm;
    Bob => "BOB", Evm;
    Bsc => "BSC", Evm;
    Csdk => "CSDK", Cosmos;
    Cyber => "CYBER", Evm;
    Dot => "DOT", Substrate;
    Eclipse => "ES", Svm;
    Eth => "ETH", Evm;
    Etherlink => "ETHERLINK", Evm;
    Fraxtal => "FRAX", Evm;
    Hype => "HYPE", Evm;
    Ink => "INK", Evm;
    Lens => "LENS", Evm;
    Linea => "LINEA", Evm;
    Lisk => "LISK", Evm;
    Metis => "METIS", Evm;
    Mode => "MODE", Evm;
    Neo => "NEO", Evm;
    Nuls => "NULS", Nuls;
    Nuls2 => "NULS2", Nuls2;
    Optimism => "OP", Evm;
    Pol => "POL", Evm;
    Sol => "SOL", Svm;
    Somnia => "STT", Unverifiable;
    Sonic => "SONIC", Evm;
    Tezos => "TEZOS", Tezos;
    Unichain => "UNICHAIN", Evm;
    Worldchain => "WLD", Evm;
    Zora => "ZORA", Evm;
}

impl Chain {
    /// Whether messages on this chain use the EVM signature rule.
    pub const fn is_evm(&self) -> bool {
        matches!(self.family(), ChainFamily::Evm)
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Chain {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Chain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for chain in Chain::ALL {
            assert_eq!(chain.as_str().parse::<Chain>().unwrap(), *chain);
        }
        assert_eq!(Chain::ALL.len(), 33);
    }

    #[test]
    fn unknown_codes_are_errors() {
        for bad in ["", "eth", "AVA", "NEAR", "BAR", "ETH "] {
            assert_eq!(bad.parse::<Chain>(), Err(UnknownChain(bad.to_owned())));
        }
    }

    #[test]
    fn families_follow_the_reference_dispatch() {
        assert!(Chain::Neo.is_evm());
        assert!(!Chain::Avax.is_evm());
        assert_eq!(Chain::Aurora.family(), ChainFamily::Unverifiable);
        assert_eq!(Chain::Somnia.family(), ChainFamily::Unverifiable);
        assert_eq!(Chain::Eclipse.family(), ChainFamily::Svm);
    }
}
