//! `aleph account`: keys for ETH (and the other EVM chains), SOL and TEZOS, stored encrypted.

use std::path::PathBuf;

use aleph_sdk::core::chain::tezos::{TezosCurve, TezosSigner};
use aleph_sdk::core::{Chain, ChainFamily, Signer};
use aleph_sdk::AnySigner;
use anyhow::Context as _;
use clap::{ArgGroup, Args, Subcommand};
use serde_json::json;

use crate::config::{check_name, ConfigStore};
use crate::ctx::Ctx;
use crate::error::{usage, CliError};
use crate::output::table;
use crate::signer::{export_text, signer_from_text, store_key, PendingSigner};

/// Accounts.
#[derive(Debug, Args)]
pub struct AccountArgs {
    #[command(subcommand)]
    command: AccountCommand,
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create a new random key (for --chain, default ETH) and store it encrypted.
    ///
    /// The passphrase comes from $ALEPH_PASSPHRASE or a prompt. The first account becomes the
    /// default.
    ///
    /// Examples:
    ///   aleph account create --name main
    ///   aleph account create --name sol --chain SOL
    #[command(verbatim_doc_comment)]
    Create {
        /// The account name.
        #[arg(long, default_value = "default")]
        name: String,
        /// Store the key unencrypted (not recommended).
        #[arg(long)]
        plaintext: bool,
        /// Replace an existing account of the same name.
        #[arg(long)]
        force: bool,
    },
    /// Import a key: hex, mnemonic, Ethereum keystore, Solana keypair file or Tezos secret key.
    ///
    /// Examples:
    ///   aleph account import main --hex 0x4c0883a6…
    ///   aleph account import phantom --chain SOL --mnemonic "word word …"
    ///   aleph account import geth --keystore UTC--2024-…json
    ///   aleph account import sol --solana-keypair ~/.config/solana/id.json
    ///   aleph account import tz --tezos-key edsk…
    #[command(verbatim_doc_comment)]
    #[command(group(ArgGroup::new("source").required(true).args(["hex", "mnemonic", "keystore", "solana_keypair", "tezos_key"])))]
    Import {
        /// The account name.
        name: String,
        /// A hex secret (32 bytes; 64 for a Solana keypair).
        #[arg(long)]
        hex: Option<String>,
        /// A BIP39 mnemonic (the chain's usual derivation path).
        #[arg(long)]
        mnemonic: Option<String>,
        /// The account index on the mnemonic's path.
        #[arg(long, default_value_t = 0, requires = "mnemonic")]
        index: u32,
        /// An Ethereum keystore v3 file (its password: $ALEPH_KEYSTORE_PASSWORD or a prompt).
        #[arg(long)]
        keystore: Option<PathBuf>,
        /// A solana-keygen keypair file (JSON array of 64 numbers).
        #[arg(long)]
        solana_keypair: Option<PathBuf>,
        /// A Tezos secret key (edsk…, spsk…, p2sk…).
        #[arg(long)]
        tezos_key: Option<String>,
        /// Store the key unencrypted (not recommended).
        #[arg(long)]
        plaintext: bool,
        /// Replace an existing account of the same name.
        #[arg(long)]
        force: bool,
    },
    /// List the stored accounts (`*` marks the default).
    ///
    /// Example: aleph account list --json
    #[command(verbatim_doc_comment)]
    List,
    /// Show an account (default: the current one) and its address.
    ///
    /// Example: aleph account show main
    #[command(verbatim_doc_comment)]
    #[command(visible_alias = "address")]
    Show {
        /// The account name.
        name: Option<String>,
    },
    /// Make an account the default.
    ///
    /// Example: aleph account use main
    #[command(verbatim_doc_comment)]
    Use {
        /// The account name.
        name: String,
    },
    /// Delete an account and its key file.
    ///
    /// Example: aleph account remove old --yes
    #[command(verbatim_doc_comment)]
    Remove {
        /// The account name.
        name: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Show the ALEPH balance and credits of an address (default: yours).
    ///
    /// Example: aleph account balance --address 0xAbc…
    #[command(verbatim_doc_comment)]
    Balance {
        /// The address (default: your address).
        #[arg(long)]
        address: Option<String>,
    },
    /// Print an account's private key (hex for ETH, base58 keypair for SOL, edsk… for TEZOS).
    ///
    /// Example: aleph account export main
    #[command(verbatim_doc_comment)]
    #[command(visible_alias = "export-private-key")]
    Export {
        /// The account name (default: the current one).
        name: Option<String>,
    },
}

impl AccountArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let mut config = ctx.config.clone();
        let chain = ctx.global.signer.chain.unwrap_or(Chain::Eth);
        match self.command {
            AccountCommand::Create { name, plaintext, force } => {
                let signer = match chain.family() {
                    ChainFamily::Evm => AnySigner::from_bytes(
                        chain,
                        &crate::signer::secret_of(&AnySigner::random_ethereum()).0,
                    )?,
                    ChainFamily::Svm => AnySigner::random_solana(),
                    ChainFamily::Tezos => TezosSigner::random(TezosCurve::Ed25519)?.into(),
                    _ => {
                        return Err(usage(format!(
                            "accounts cannot be created for {chain}: use ETH, SOL or TEZOS"
                        )))
                    }
                };
                save(ctx, &mut config, &name, &signer, plaintext, force)
            }
            AccountCommand::Import {
                name,
                hex,
                mnemonic,
                index,
                keystore,
                solana_keypair,
                tezos_key,
                plaintext,
                force,
            } => {
                let signer = if let Some(h) = hex {
                    signer_from_text(chain, &h)?
                } else if let Some(m) = mnemonic {
                    AnySigner::from_mnemonic(chain, &m, "", index).map_err(|e| usage(e.to_string()))?
                } else if let Some(path) = keystore {
                    let password = match std::env::var("ALEPH_KEYSTORE_PASSWORD") {
                        Ok(p) => p,
                        Err(_) => {
                            crate::signer::passphrase(&format!("Password of {}: ", path.display()), false)?
                        }
                    };
                    let s = AnySigner::from_keystore(&path, password).map_err(|e| usage(e.to_string()))?;
                    if chain.family() == ChainFamily::Evm && chain != Chain::Eth {
                        AnySigner::from_bytes(chain, &crate::signer::secret_of(&s).0)?
                    } else {
                        s
                    }
                } else if let Some(path) = solana_keypair {
                    AnySigner::from_solana_keypair_file(&path).map_err(|e| usage(e.to_string()))?
                } else if let Some(k) = tezos_key {
                    AnySigner::from_tezos_secret_key(k.trim()).map_err(|e| usage(e.to_string()))?
                } else {
                    return Err(usage(
                        "give the key with --hex, --mnemonic, --keystore, --solana-keypair or --tezos-key",
                    ));
                };
                save(ctx, &mut config, &name, &signer, plaintext, force)
            }
            AccountCommand::List => {
                let default = config.file.default_account.clone();
                let items: Vec<_> = config
                    .file
                    .accounts
                    .iter()
                    .map(|(n, e)| {
                        json!({"name": n, "chain": e.chain, "address": e.address, "encrypted": e.encrypted,
                               "default": default.as_deref() == Some(n.as_str())})
                    })
                    .collect();
                ctx.out.emit(&json!({"accounts": items}), || {
                    if config.file.accounts.is_empty() {
                        return "no account: create one with `aleph account create`".to_owned();
                    }
                    let rows: Vec<Vec<String>> = config
                        .file
                        .accounts
                        .iter()
                        .map(|(n, e)| {
                            let mark = if default.as_deref() == Some(n.as_str()) { "*" } else { "" };
                            let enc = if e.encrypted { "encrypted" } else { "plaintext" };
                            vec![mark.into(), n.clone(), e.chain.clone(), e.address.clone(), enc.into()]
                        })
                        .collect();
                    table(&["", "NAME", "CHAIN", "ADDRESS", "KEY"], &rows)
                })
            }
            AccountCommand::Show { name } => {
                let (name, chain, address, encrypted) = match name.or_else(|| named_or_default(ctx)) {
                    Some(n) if ctx.global.signer.private_key.is_none() => {
                        let e = config.file.accounts.get(&n).ok_or_else(|| no_account(&n))?;
                        (Some(n), e.chain.clone(), e.address.clone(), Some(e.encrypted))
                    }
                    _ => {
                        let s = ctx.signer()?;
                        (None, s.chain().to_string(), s.address().to_owned(), None)
                    }
                };
                let value = json!({"name": name, "chain": chain, "address": address, "encrypted": encrypted});
                ctx.out.emit(&value, || {
                    let mut s = String::new();
                    if let Some(n) = &name {
                        s += &format!("name:    {n}\n");
                    }
                    s += &format!("chain:   {chain}\naddress: {address}\n");
                    if let Some(e) = encrypted {
                        s += &format!("key:     {}\n", if e { "encrypted" } else { "plaintext" });
                    }
                    s
                })
            }
            AccountCommand::Use { name } => {
                if !config.file.accounts.contains_key(&name) {
                    return Err(no_account(&name));
                }
                config.file.default_account = Some(name.clone());
                if !ctx.dry_run() {
                    config.save()?;
                }
                ctx.out.emit(&json!({"default_account": name}), || format!("default account: {name}"))
            }
            AccountCommand::Remove { name, yes } => {
                let entry = config.file.accounts.get(&name).cloned().ok_or_else(|| no_account(&name))?;
                if !yes {
                    return Err(usage(format!(
                        "this deletes the key of account {name} for good: add --yes to confirm"
                    )));
                }
                if ctx.dry_run() {
                    return ctx.out.emit(&json!({"removed": name}), || {
                        format!("would remove account {name} (--dry-run)")
                    });
                }
                let path = config.dir.join(&entry.file);
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e).with_context(|| format!("deleting {}", path.display())),
                }
                config.file.accounts.remove(&name);
                if config.file.default_account.as_deref() == Some(name.as_str()) {
                    config.file.default_account = None;
                }
                config.save()?;
                ctx.out.emit(&json!({"removed": name}), || format!("removed account {name}"))
            }
            AccountCommand::Balance { address } => {
                let address = ctx.address_or_own(address)?;
                let b = ctx.client()?.get_balance(&address).await?;
                ctx.out.emit(&b, || {
                    format!(
                        "address:   {}\nbalance:   {}\nlocked:    {}\navailable: {}\ncredits:   {}",
                        b.address,
                        b.balance,
                        b.locked_amount,
                        b.available(),
                        b.credit_balance
                    )
                })
            }
            AccountCommand::Export { name } => {
                let mut opts = ctx.global.signer.clone();
                if let Some(n) = name {
                    opts.account = Some(n);
                    opts.private_key = None;
                }
                let signer = PendingSigner::from_opts(&opts, &config)?.unlock()?;
                let key = export_text(&signer)?;
                let (secret, _) = crate::signer::secret_of(&signer);
                let value = json!({"chain": signer.chain().as_str(), "address": signer.address(),
                                   "private_key": key, "private_key_hex": hex::encode(secret)});
                if !ctx.out.is_json() {
                    eprintln!("warning: anyone with this key controls the account");
                }
                ctx.out.emit(&value, || key.clone())
            }
        }
    }
}

fn named_or_default(ctx: &Ctx) -> Option<String> {
    ctx.global.signer.account.clone().or_else(|| ctx.config.file.default_account.clone())
}

fn no_account(name: &str) -> anyhow::Error {
    usage(format!("no account named {name:?} (see `aleph account list`)"))
}

fn save(
    ctx: &Ctx,
    config: &mut ConfigStore,
    name: &str,
    signer: &AnySigner,
    plaintext: bool,
    force: bool,
) -> anyhow::Result<()> {
    check_name(name)?;
    if config.file.accounts.contains_key(name) && !force {
        return Err(CliError::Usage(format!(
            "an account named {name:?} exists: choose another name or add --force"
        ))
        .into());
    }
    if ctx.dry_run() {
        let value = json!({"name": name, "chain": signer.chain().as_str(), "address": signer.address(),
                           "encrypted": !plaintext});
        return ctx.out.emit(&value, || {
            format!("account {name}: {} {} (not saved: --dry-run)", signer.chain(), signer.address())
        });
    }
    let entry = store_key(config, name, signer, plaintext)?;
    config.file.accounts.insert(name.to_owned(), entry.clone());
    if config.file.default_account.is_none() {
        config.file.default_account = Some(name.to_owned());
    }
    config.save()?;
    let value =
        json!({"name": name, "chain": entry.chain, "address": entry.address, "encrypted": entry.encrypted});
    ctx.out.emit(&value, || {
        format!(
            "account {name}: {} {} ({})",
            entry.chain,
            entry.address,
            if entry.encrypted { "encrypted" } else { "plaintext" }
        )
    })
}
