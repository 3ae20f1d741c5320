//! Accounts: [`AnySigner`], one signer type for callers that pick the chain at run time, and the
//! loaders of every key format the official tools write.
//!
//! | format | loader |
//! | --- | --- |
//! | hex secret (EVM, Solana seed or keypair, Tezos ed25519 seed) | [`AnySigner::from_hex`] |
//! | BIP39 mnemonic (EVM `m/44'/60'/0'/0/i`, Solana `m/44'/501'/i'/0'`, Tezos `m/44'/1729'/i'/0'`) | [`AnySigner::from_mnemonic`] |
//! | Ethereum keystore v3 (encrypted JSON) | [`AnySigner::from_keystore`] |
//! | solana-keygen keypair file (JSON array of 64 numbers) | [`AnySigner::from_solana_keypair_file`] |
//! | Tezos `edsk…` / `spsk…` / `p2sk…` secret key | [`AnySigner::from_tezos_secret_key`] |
//! | the Python SDK's raw 32-byte key file | [`AnySigner::from_key_file`] |

use std::path::Path;

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::chain::tezos::{TezosCurve, TezosSigner};
use aleph_core::{Chain, ChainFamily, SignError, Signer, SigningPayload};
use hmac::{Hmac, Mac};
use sha2::Sha512;

/// Why an account could not be loaded or saved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    /// The key material is invalid.
    #[error(transparent)]
    Sign(#[from] SignError),
    /// This crate has no signer for the chain.
    #[error("no signer for chain {0}")]
    UnsupportedChain(Chain),
    /// The keystore file cannot be read or decrypted (corrupt file, unknown format).
    #[error("keystore: {0}")]
    Keystore(String),
    /// The keystore's password is not the one it was encrypted with (its MAC does not match).
    #[error("wrong password for the keystore {path}")]
    WrongPassword {
        /// The keystore file.
        path: String,
    },
    /// A key file cannot be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key file cannot be written privately (or its mode set).
    #[error("writing {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A signer for any chain this SDK signs for, chosen at run time.
///
/// ```
/// use aleph_sdk::{AnySigner, core::{Chain, Signer}};
/// let signer = AnySigner::from_hex(Chain::Eth, "0xac00000000000000000000000000000000000000000000000000000000000000")?;
/// assert_eq!(signer.chain(), Chain::Eth);
/// assert!(signer.address().starts_with("0x"));
/// # Ok::<_, aleph_sdk::AccountError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AnySigner {
    /// An EVM key (`ETH` and the other EVM labels).
    Ethereum(EthereumSigner),
    /// An ed25519 key (`SOL`, `ES`).
    Solana(SolanaSigner),
    /// A Tezos key.
    Tezos(TezosSigner),
}

impl From<EthereumSigner> for AnySigner {
    fn from(s: EthereumSigner) -> Self {
        AnySigner::Ethereum(s)
    }
}

impl From<SolanaSigner> for AnySigner {
    fn from(s: SolanaSigner) -> Self {
        AnySigner::Solana(s)
    }
}

impl From<TezosSigner> for AnySigner {
    fn from(s: TezosSigner) -> Self {
        AnySigner::Tezos(s)
    }
}

impl Signer for AnySigner {
    fn chain(&self) -> Chain {
        match self {
            AnySigner::Ethereum(s) => s.chain(),
            AnySigner::Solana(s) => s.chain(),
            AnySigner::Tezos(s) => s.chain(),
        }
    }

    fn address(&self) -> &str {
        match self {
            AnySigner::Ethereum(s) => s.address(),
            AnySigner::Solana(s) => s.address(),
            AnySigner::Tezos(s) => s.address(),
        }
    }

    fn sign_payload(&self, payload: &SigningPayload<'_>) -> Result<String, SignError> {
        match self {
            AnySigner::Ethereum(s) => s.sign_payload(payload),
            AnySigner::Solana(s) => s.sign_payload(payload),
            AnySigner::Tezos(s) => s.sign_payload(payload),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, AccountError> {
    std::fs::read(path).map_err(|source| AccountError::Io { path: path.display().to_string(), source })
}

impl AnySigner {
    /// A signer from a hex secret (with or without `0x`): a secp256k1 key for EVM chains, a
    /// 32-byte seed or 64-byte keypair for Solana/Eclipse, an ed25519 seed for Tezos.
    pub fn from_hex(chain: Chain, secret: &str) -> Result<Self, AccountError> {
        let trimmed = secret.trim();
        let hex_part = trimmed.strip_prefix("0x").unwrap_or(trimmed);
        match chain.family() {
            ChainFamily::Evm => Ok(EthereumSigner::from_hex(hex_part)?.with_chain(chain)?.into()),
            ChainFamily::Svm => {
                let bytes = hex::decode(hex_part)
                    .map_err(|_| SignError::InvalidKey("expected hex of 32 or 64 bytes".into()))?;
                Ok(SolanaSigner::from_bytes(&bytes)?.with_chain(chain)?.into())
            }
            ChainFamily::Tezos => Ok(TezosSigner::from_hex(TezosCurve::Ed25519, hex_part)?.into()),
            _ => Err(AccountError::UnsupportedChain(chain)),
        }
    }

    /// A signer from raw secret bytes (32 bytes; Solana also takes its 64-byte keypair).
    pub fn from_bytes(chain: Chain, secret: &[u8]) -> Result<Self, AccountError> {
        Self::from_hex(chain, &hex::encode(secret))
    }

    /// A signer from a BIP39 mnemonic and an optional passphrase, at account `index` of the
    /// chain's usual derivation path (MetaMask's for EVM, Phantom's for Solana).
    pub fn from_mnemonic(
        chain: Chain,
        phrase: &str,
        passphrase: &str,
        index: u32,
    ) -> Result<Self, AccountError> {
        match chain.family() {
            ChainFamily::Evm => {
                Ok(EthereumSigner::from_mnemonic(phrase, passphrase, index)?.with_chain(chain)?.into())
            }
            ChainFamily::Svm => {
                let seed = slip10_ed25519(phrase, passphrase, &[44, 501, index, 0])?;
                Ok(SolanaSigner::from_seed(&seed).with_chain(chain)?.into())
            }
            ChainFamily::Tezos => {
                let seed = slip10_ed25519(phrase, passphrase, &[44, 1729, index, 0])?;
                Ok(TezosSigner::from_secret_bytes(TezosCurve::Ed25519, &seed)?.into())
            }
            _ => Err(AccountError::UnsupportedChain(chain)),
        }
    }

    /// An EVM signer from an Ethereum keystore v3 file (scrypt or pbkdf2, as geth, MetaMask and
    /// the official tools write them).
    pub fn from_keystore(path: impl AsRef<Path>, password: impl AsRef<[u8]>) -> Result<Self, AccountError> {
        let secret = crate::keyfile::read_keystore(path.as_ref(), password)?;
        let bytes: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| AccountError::Keystore(format!("the key is {} bytes, expected 32", secret.len())))?;
        Ok(EthereumSigner::from_bytes(&bytes)?.into())
    }

    /// Writes this EVM key as an encrypted keystore v3 file named `name` in `dir`, and returns
    /// its path.
    pub fn to_keystore(
        &self,
        dir: impl AsRef<Path>,
        name: &str,
        password: impl AsRef<[u8]>,
    ) -> Result<std::path::PathBuf, AccountError> {
        let AnySigner::Ethereum(s) = self else {
            return Err(AccountError::UnsupportedChain(self.chain()));
        };
        crate::keyfile::write_keystore(dir.as_ref(), name, &s.to_bytes(), password)
    }

    /// A Solana signer from a solana-keygen keypair file.
    pub fn from_solana_keypair_file(path: impl AsRef<Path>) -> Result<Self, AccountError> {
        let bytes = read(path.as_ref())?;
        let text = String::from_utf8_lossy(&bytes);
        Ok(SolanaSigner::from_keypair_json(&text)?.into())
    }

    /// A Tezos signer from an unencrypted `edsk…`, `spsk…` or `p2sk…` secret key.
    pub fn from_tezos_secret_key(secret_key: &str) -> Result<Self, AccountError> {
        Ok(TezosSigner::from_secret_key(secret_key)?.into())
    }

    /// A signer from a key file: 32 raw bytes (the Python SDK's `ethereum.key`), a 64-byte raw
    /// Solana keypair, or the same as hex text, a solana-keygen JSON array, or base58.
    pub fn from_key_file(chain: Chain, path: impl AsRef<Path>) -> Result<Self, AccountError> {
        let bytes = read(path.as_ref())?;
        if bytes.len() == 32 || (bytes.len() == 64 && chain.family() == ChainFamily::Svm) {
            return Self::from_bytes(chain, &bytes);
        }
        let text = String::from_utf8_lossy(&bytes).trim().to_owned();
        if text.starts_with('[') && chain.family() == ChainFamily::Svm {
            return Ok(SolanaSigner::from_keypair_json(&text)?.with_chain(chain)?.into());
        }
        if chain.family() == ChainFamily::Tezos
            && (text.starts_with("edsk") || text.starts_with("spsk") || text.starts_with("p2sk"))
        {
            return Self::from_tezos_secret_key(&text);
        }
        if chain.family() == ChainFamily::Svm && hex::decode(text.trim_start_matches("0x")).is_err() {
            return Ok(SolanaSigner::from_base58(&text)?.with_chain(chain)?.into());
        }
        Self::from_hex(chain, &text)
    }

    /// A signer from a 32-byte secret as [`AnySigner::secret`] gives it: for Tezos, a key of
    /// `curve` (ed25519 when `None`); other chains ignore `curve`.
    pub fn from_secret(chain: Chain, curve: Option<TezosCurve>, secret: &[u8]) -> Result<Self, AccountError> {
        if chain.family() == ChainFamily::Tezos {
            let bytes: [u8; 32] = secret.try_into().map_err(|_| {
                SignError::InvalidKey(format!("a Tezos secret is 32 bytes, found {}", secret.len()))
            })?;
            let curve = curve.unwrap_or(TezosCurve::Ed25519);
            return Ok(TezosSigner::from_secret_bytes(curve, &bytes)?.into());
        }
        Self::from_bytes(chain, secret)
    }

    /// The 32-byte secret of this signer (a Solana key's seed) and, for Tezos, its curve: what
    /// key files and keystores hold, and [`AnySigner::from_secret`] reads back.
    pub fn secret(&self) -> (Vec<u8>, Option<TezosCurve>) {
        match self {
            AnySigner::Ethereum(s) => (s.to_bytes().to_vec(), None),
            AnySigner::Solana(s) => (s.to_bytes()[..32].to_vec(), None),
            AnySigner::Tezos(s) => (s.secret_bytes().to_vec(), Some(s.curve())),
        }
    }

    /// A fresh random EVM key.
    pub fn random_ethereum() -> Self {
        EthereumSigner::random().into()
    }

    /// A fresh random Solana key.
    pub fn random_solana() -> Self {
        SolanaSigner::random().into()
    }
}

/// SLIP-0010 ed25519 derivation of a BIP39 mnemonic along a fully hardened path.
fn slip10_ed25519(phrase: &str, passphrase: &str, path: &[u32]) -> Result<[u8; 32], AccountError> {
    let mnemonic =
        bip39::Mnemonic::parse_normalized(phrase).map_err(|e| SignError::InvalidMnemonic(e.to_string()))?;
    slip10_from_seed(&mnemonic.to_seed_normalized(passphrase), path)
}

/// SLIP-0010 ed25519 derivation of a seed along a fully hardened path: the child secret key.
fn slip10_from_seed(seed: &[u8], path: &[u32]) -> Result<[u8; 32], AccountError> {
    let hmac = |key: &[u8], parts: &[&[u8]]| -> Result<[u8; 64], AccountError> {
        let mut mac =
            Hmac::<Sha512>::new_from_slice(key).map_err(|e| SignError::Crypto(format!("hmac: {e}")))?;
        for p in parts {
            mac.update(p);
        }
        let mut out = [0u8; 64];
        out.copy_from_slice(&mac.finalize().into_bytes());
        Ok(out)
    };
    let mut node = hmac(b"ed25519 seed", &[seed])?;
    for index in path {
        let hardened = (index | 0x8000_0000).to_be_bytes();
        let (key, chain_code) = node.split_at(32);
        node = hmac(chain_code, &[&[0u8], key, &hardened])?;
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(&node[..32]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aleph_core::{MessageType, UnsignedMessage};

    const PHRASE: &str = "test test test test test test test test test test test junk";

    #[test]
    fn every_loader_gives_a_signer_that_verifies() {
        let signers = [
            AnySigner::from_hex(
                Chain::Eth,
                "0xac00000000000000000000000000000000000000000000000000000000000001",
            )
            .unwrap(),
            AnySigner::from_hex(
                Chain::Base,
                "ac00000000000000000000000000000000000000000000000000000000000001",
            )
            .unwrap(),
            AnySigner::from_hex(Chain::Sol, &"11".repeat(32)).unwrap(),
            AnySigner::from_hex(Chain::Tezos, &"22".repeat(32)).unwrap(),
            AnySigner::from_mnemonic(Chain::Eth, PHRASE, "", 0).unwrap(),
            AnySigner::from_mnemonic(Chain::Sol, PHRASE, "", 0).unwrap(),
            AnySigner::from_mnemonic(Chain::Tezos, PHRASE, "", 1).unwrap(),
        ];
        for s in &signers {
            let m = s.sign(UnsignedMessage::inline(MessageType::Post, "{}".into(), 1.0, None)).unwrap();
            aleph_core::verify_signature(&m.signed_fields()).unwrap();
        }
        assert_eq!(signers[1].chain(), Chain::Base);
        // The well-known first account of this test mnemonic.
        assert_eq!(signers[4].address(), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
        assert!(AnySigner::from_hex(Chain::Dot, "00").is_err());
        assert!(AnySigner::from_mnemonic(Chain::Eth, "not a phrase", "", 0).is_err());
    }

    #[test]
    fn slip10_matches_the_reference_vectors() {
        // SLIP-0010, test vector 1 for ed25519.
        let seed = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let master = slip10_from_seed(&seed, &[]).unwrap();
        assert_eq!(hex::encode(master), "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7");
        let child = slip10_from_seed(&seed, &[0]).unwrap();
        assert_eq!(hex::encode(child), "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3");
        let deep = slip10_from_seed(&seed, &[0, 1, 2, 2, 1_000_000_000]).unwrap();
        assert_eq!(hex::encode(deep), "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793");
    }

    #[test]
    fn secrets_round_trip_for_every_chain_and_curve() {
        let signers = [
            AnySigner::from_hex(Chain::Eth, &"ac".repeat(32)).unwrap(),
            AnySigner::from_hex(Chain::Sol, &"11".repeat(32)).unwrap(),
            TezosSigner::from_secret_bytes(TezosCurve::Secp256k1, &[0x22; 32]).unwrap().into(),
            TezosSigner::from_secret_bytes(TezosCurve::P256, &[0x23; 32]).unwrap().into(),
        ];
        for s in &signers {
            let (secret, curve) = s.secret();
            assert_eq!(secret.len(), 32);
            let back = AnySigner::from_secret(s.chain(), curve, &secret).unwrap();
            assert_eq!(back.address(), s.address());
        }
        assert!(AnySigner::from_secret(Chain::Tezos, None, &[1; 31]).is_err());
    }

    #[test]
    fn keystore_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let s = AnySigner::from_hex(Chain::Eth, &"ac".repeat(32)).unwrap();
        let path = s.to_keystore(dir.path(), "key.json", "pw").unwrap();
        let back = AnySigner::from_keystore(&path, "pw").unwrap();
        assert_eq!(back.address(), s.address());
        assert!(matches!(AnySigner::from_keystore(&path, "wrong"), Err(AccountError::WrongPassword { .. })));
        assert!(AnySigner::random_solana().to_keystore(dir.path(), "x", "pw").is_err());
    }

    #[test]
    fn key_files() {
        let dir = tempfile::tempdir().unwrap();
        let raw = dir.path().join("ethereum.key");
        std::fs::write(&raw, [0xacu8; 32]).unwrap();
        let a = AnySigner::from_key_file(Chain::Eth, &raw).unwrap();
        assert_eq!(a.address(), AnySigner::from_hex(Chain::Eth, &"ac".repeat(32)).unwrap().address());

        let sol = SolanaSigner::from_seed(&[7u8; 32]);
        let kp = dir.path().join("id.json");
        std::fs::write(&kp, sol.to_keypair_json()).unwrap();
        assert_eq!(AnySigner::from_solana_keypair_file(&kp).unwrap().address(), sol.address());
        assert_eq!(AnySigner::from_key_file(Chain::Sol, &kp).unwrap().address(), sol.address());
        let b58 = dir.path().join("sol.b58");
        std::fs::write(&b58, bs58::encode(sol.to_bytes()).into_string()).unwrap();
        assert_eq!(AnySigner::from_key_file(Chain::Sol, &b58).unwrap().address(), sol.address());

        let tz = TezosSigner::from_secret_bytes(TezosCurve::Ed25519, &[9u8; 32]).unwrap();
        let edsk = dir.path().join("tz.key");
        std::fs::write(&edsk, tz.secret_key()).unwrap();
        assert_eq!(AnySigner::from_key_file(Chain::Tezos, &edsk).unwrap().address(), tz.address());
        assert_eq!(AnySigner::from_tezos_secret_key(&tz.secret_key()).unwrap().address(), tz.address());
        assert!(matches!(
            AnySigner::from_key_file(Chain::Eth, dir.path().join("missing")),
            Err(AccountError::Io { .. })
        ));
    }
}
