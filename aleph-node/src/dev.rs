//! Development mode: deterministic accounts funded with ALEPH and credits, as local chain nodes
//! provide, and the network aggregates the official clients read ([`aggregates`]).

mod aggregates;

use std::path::Path;

use aleph_core::chain::ethereum::EthereumSigner;
use aleph_core::chain::solana::SolanaSigner;
use aleph_core::chain::tezos::{TezosCurve, TezosSigner};
use aleph_core::Signer;
use rusqlite::{params, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::storage::StorageError;

/// How many accounts of each chain.
pub(crate) const DEV_ACCOUNTS_PER_CHAIN: u64 = 5;
/// ALEPH seeded for each dev account.
pub(crate) const DEV_ALEPH_BALANCE: &str = "1000000000";
/// Credits seeded for each dev account.
pub(crate) const DEV_CREDITS: i64 = 1_000_000_000_000_000;

/// One funded account.
#[derive(Debug, Clone, Serialize)]
pub struct DevAccount {
    /// `ETH`, `SOL` or `TEZOS`.
    pub chain: String,
    /// The address (sender).
    pub address: String,
    /// The secret key in the form the chain's tools import (hex for ETH, base58 keypair for SOL,
    /// `edsk…` for Tezos).
    pub private_key: String,
    /// The 32-byte secret as hex (ETH key, ed25519 seed), the form the Python SDK's accounts take.
    pub private_key_hex: String,
}

/// The node's dev accounts.
#[derive(Debug, Clone, Serialize)]
pub struct DevAccounts {
    /// Every account.
    pub accounts: Vec<DevAccount>,
}

/// The secret of dev account `i` of `chain`: deterministic, never to be used for real funds.
fn dev_secret(chain: &str, i: u64) -> [u8; 32] {
    if chain == "ETH" {
        // The same keys as the official Rust test node: 0xac, zeros, then i big-endian.
        let mut key = [0u8; 32];
        key[0] = 0xac;
        key[24..].copy_from_slice(&i.to_be_bytes());
        key
    } else {
        Sha256::digest(format!("aleph-node dev account {chain} {i}")).into()
    }
}

impl DevAccounts {
    /// The deterministic accounts.
    pub fn generate() -> Self {
        let mut accounts = Vec::new();
        for i in 0..DEV_ACCOUNTS_PER_CHAIN {
            let secret = dev_secret("ETH", i);
            if let Ok(s) = EthereumSigner::from_bytes(&secret) {
                accounts.push(DevAccount {
                    chain: "ETH".into(),
                    address: s.address().to_owned(),
                    private_key: format!("0x{}", hex::encode(secret)),
                    private_key_hex: hex::encode(secret),
                });
            }
        }
        for i in 0..DEV_ACCOUNTS_PER_CHAIN {
            let secret = dev_secret("SOL", i);
            let s = SolanaSigner::from_seed(&secret);
            accounts.push(DevAccount {
                chain: "SOL".into(),
                address: s.address().to_owned(),
                private_key: bs58_encode(&s.to_bytes()),
                private_key_hex: hex::encode(secret),
            });
        }
        for i in 0..DEV_ACCOUNTS_PER_CHAIN {
            let secret = dev_secret("TEZOS", i);
            if let Ok(s) = TezosSigner::from_secret_bytes(TezosCurve::Ed25519, &secret) {
                accounts.push(DevAccount {
                    chain: "TEZOS".into(),
                    address: s.address().to_owned(),
                    private_key: s.secret_key(),
                    private_key_hex: hex::encode(secret),
                });
            }
        }
        DevAccounts { accounts }
    }

    /// Funds every account with ALEPH and credits, and seeds the network aggregates the official
    /// clients read (idempotent).
    pub fn seed(&self, tx: &Transaction<'_>) -> Result<(), StorageError> {
        aggregates::seed(tx)?;
        let now = crate::pipeline::now();
        for (i, a) in self.accounts.iter().enumerate() {
            tx.execute(
                "INSERT OR IGNORE INTO balances (address, chain, dapp, balance, height) VALUES (?1, ?2, '', ?3, 0)",
                params![a.address, a.chain, DEV_ALEPH_BALANCE],
            )?;
            tx.execute(
                "INSERT INTO credit_history (address, amount, credit_ref, credit_index, origin, payment_method, message_timestamp)
                 SELECT ?1, ?2, 'dev-accounts', ?3, 'dev', 'dev', ?4
                 WHERE NOT EXISTS (SELECT 1 FROM credit_history WHERE address = ?1 AND credit_ref = 'dev-accounts')",
                params![a.address, DEV_CREDITS, i as i64, now],
            )?;
        }
        Ok(())
    }

    /// Writes the accounts as JSON (for scripts).
    pub fn write_json(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)
    }

    /// A human-readable table.
    pub fn table(&self) -> String {
        let mut out = String::from(
            "Dev accounts (funded with ALEPH and credits; never use these keys for real funds):\n",
        );
        for a in &self.accounts {
            out.push_str(&format!("  {:<5} {:<46} {}\n", a.chain, a.address, a.private_key));
        }
        out
    }
}

fn bs58_encode(bytes: &[u8]) -> String {
    bs58::encode(bytes).into_string()
}
