//! Which key signs: [`SignerOpts`] become a [`PendingSigner`] (no secret touched yet: its address
//! is known for stored accounts), and [`PendingSigner::unlock`] reads, decrypts (asking for the
//! passphrase when needed) and returns an [`AnySigner`].

use std::io::IsTerminal;
use std::path::PathBuf;

use aleph_sdk::core::chain::solana::SolanaSigner;
use aleph_sdk::core::chain::tezos::TezosCurve;
use aleph_sdk::core::{Chain, ChainFamily, Signer};
use aleph_sdk::{AccountError, AnySigner};
use anyhow::Context as _;

use crate::config::{AccountEntry, ConfigStore};
use crate::error::usage;
use crate::opts::SignerOpts;

/// A key chosen but not yet read.
#[derive(Debug)]
pub(crate) enum PendingSigner {
    /// `--private-key`.
    Key { chain: Chain, secret: String },
    /// A stored account.
    Stored { name: String, entry: AccountEntry, path: PathBuf, chain: Option<Chain> },
}

impl PendingSigner {
    /// The key the options and the configuration designate.
    pub(crate) fn from_opts(opts: &SignerOpts, config: &ConfigStore) -> anyhow::Result<Self> {
        if let Some(secret) = &opts.private_key {
            return Ok(PendingSigner::Key {
                chain: opts.chain.unwrap_or(Chain::Eth),
                secret: secret.clone(),
            });
        }
        let name =
            match (&opts.account, &config.file.default_account) {
                (Some(n), _) | (None, Some(n)) => n.clone(),
                (None, None) => return Err(usage(
                    "no key: pass --private-key, or create one with `aleph account create` (or import one)",
                )),
            };
        let entry = config
            .file
            .accounts
            .get(&name)
            .cloned()
            .ok_or_else(|| usage(format!("no account named {name:?} (see `aleph account list`)")))?;
        let path = config.dir.join(&entry.file);
        Ok(PendingSigner::Stored { name, entry, path, chain: opts.chain })
    }

    /// The address, when known without the secret.
    pub(crate) fn address(&self) -> Option<&str> {
        match self {
            PendingSigner::Key { .. } => None,
            PendingSigner::Stored { entry, .. } => Some(&entry.address),
        }
    }

    /// Reads the key, asking for the passphrase of an encrypted account.
    pub(crate) fn unlock(self) -> anyhow::Result<AnySigner> {
        match self {
            PendingSigner::Key { chain, secret } => signer_from_text(chain, &secret),
            PendingSigner::Stored { name, entry, path, chain } => {
                let secret: Vec<u8> = if entry.encrypted {
                    let pass = passphrase(&format!("Passphrase of account {name}: "), false)?;
                    aleph_sdk::keyfile::read_keystore(&path, pass).map_err(|e| match e {
                        AccountError::WrongPassword { .. } => {
                            usage(format!("wrong passphrase for account {name}"))
                        }
                        other => anyhow::anyhow!("reading the key of account {name}: {other}"),
                    })?
                } else {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading the key of account {name} ({})", path.display()))?;
                    hex::decode(text.trim().trim_start_matches("0x"))
                        .map_err(|_| anyhow::anyhow!("the key file {} is not hex", path.display()))?
                };
                let stored: Chain = crate::opts::parse_chain(&entry.chain).map_err(anyhow::Error::msg)?;
                let chain = chain.unwrap_or(stored);
                if chain.family() != stored.family() {
                    return Err(usage(format!(
                        "account {name} is a {stored} key; it cannot sign for {chain}"
                    )));
                }
                signer_from_secret(chain, entry.curve.as_deref(), &secret)
            }
        }
    }
}

/// A signer from the text of a key: hex for any chain, a base58 keypair for SOL, `edsk…` etc.
/// for TEZOS.
pub(crate) fn signer_from_text(chain: Chain, secret: &str) -> anyhow::Result<AnySigner> {
    let s = secret.trim();
    let bad = |e: &dyn std::fmt::Display| usage(format!("invalid {chain} private key: {e}"));
    if chain.family() == ChainFamily::Tezos && ["edsk", "spsk", "p2sk"].iter().any(|p| s.starts_with(p)) {
        return AnySigner::from_tezos_secret_key(s).map_err(|e| bad(&e));
    }
    let is_hex = hex::decode(s.trim_start_matches("0x")).is_ok();
    if chain.family() == ChainFamily::Svm && !is_hex {
        let signer = SolanaSigner::from_base58(s).and_then(|k| k.with_chain(chain)).map_err(|e| bad(&e))?;
        return Ok(signer.into());
    }
    AnySigner::from_hex(chain, s).map_err(|e| bad(&e))
}

/// A signer from a stored 32-byte secret and, for Tezos, the curve name the account records.
pub(crate) fn signer_from_secret(
    chain: Chain,
    curve: Option<&str>,
    secret: &[u8],
) -> anyhow::Result<AnySigner> {
    let curve = match curve {
        Some("secp256k1") => TezosCurve::Secp256k1,
        Some("p256") => TezosCurve::P256,
        _ => TezosCurve::Ed25519,
    };
    Ok(AnySigner::from_secret(chain, Some(curve), secret)?)
}

/// The 32-byte secret of a signer and, for Tezos, the curve name the account records.
pub(crate) fn secret_of(signer: &AnySigner) -> (Vec<u8>, Option<&'static str>) {
    let (secret, curve) = signer.secret();
    let name = curve.map(|c| match c {
        TezosCurve::Secp256k1 => "secp256k1",
        TezosCurve::P256 => "p256",
        _ => "ed25519",
    });
    (secret, name)
}

/// The importable text form of a signer's key (hex for ETH, base58 keypair for SOL, edsk… for
/// TEZOS).
pub(crate) fn export_text(signer: &AnySigner) -> anyhow::Result<String> {
    match signer {
        AnySigner::Ethereum(s) => Ok(format!("0x{}", hex::encode(s.to_bytes()))),
        AnySigner::Solana(s) => Ok(bs58_encode(&s.to_bytes())),
        AnySigner::Tezos(s) => Ok(s.secret_key()),
        other => Err(anyhow::anyhow!("accounts of chain {} cannot be exported", other.chain())),
    }
}

/// Base58 (Bitcoin alphabet), as Solana tools print keypairs.
fn bs58_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(digits.iter().rev().map(|d| ALPHABET[usize::from(*d)] as char));
    out
}

/// Writes a signer's key under `name` in the accounts directory: encrypted with a passphrase, or
/// plaintext hex. Returns the entry to record.
pub(crate) fn store_key(
    config: &ConfigStore,
    name: &str,
    signer: &AnySigner,
    plaintext: bool,
) -> anyhow::Result<AccountEntry> {
    let dir = config.accounts_dir()?;
    let (secret, curve) = secret_of(signer);
    let file = if plaintext {
        let file = format!("{name}.key");
        let path = dir.join(&file);
        aleph_sdk::keyfile::write_private(&path, hex::encode(&secret).as_bytes())?;
        file
    } else {
        let pass = passphrase(&format!("New passphrase for account {name}: "), true)?;
        let file = format!("{name}.json");
        aleph_sdk::keyfile::write_keystore(&dir, &file, &secret, pass)?;
        file
    };
    Ok(AccountEntry {
        chain: signer.chain().to_string(),
        address: signer.address().to_owned(),
        file: format!("accounts/{file}"),
        encrypted: !plaintext,
        curve: curve.map(str::to_owned),
    })
}

/// The passphrase: `$ALEPH_PASSPHRASE`, else a prompt on the terminal (asked twice when
/// `confirm`).
pub(crate) fn passphrase(prompt: &str, confirm: bool) -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("ALEPH_PASSPHRASE") {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(usage(
            "a passphrase is needed: set ALEPH_PASSPHRASE or run in a terminal (or store the key with --plaintext)",
        ));
    }
    let first = rpassword::prompt_password(prompt).context("reading the passphrase")?;
    if confirm {
        let again = rpassword::prompt_password("Repeat it: ").context("reading the passphrase")?;
        if again != first {
            return Err(usage("the passphrases differ"));
        }
    }
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_matches_known_values() {
        assert_eq!(bs58_encode(b""), "");
        assert_eq!(bs58_encode(&[0, 0, 1]), "112");
        assert_eq!(bs58_encode(b"hello world"), "StV1DL6CwTryKyV");
    }

    #[test]
    fn keys_round_trip_through_text_and_secret() {
        for (chain, key) in
            [(Chain::Eth, "ac".repeat(32)), (Chain::Sol, "11".repeat(32)), (Chain::Tezos, "22".repeat(32))]
        {
            let s = signer_from_text(chain, &key).unwrap();
            let back = signer_from_text(chain, &export_text(&s).unwrap()).unwrap();
            assert_eq!(back.address(), s.address());
            let (secret, curve) = secret_of(&s);
            assert_eq!(signer_from_secret(chain, curve, &secret).unwrap().address(), s.address());
        }
        assert!(signer_from_text(Chain::Eth, "zz").is_err());
    }
}
