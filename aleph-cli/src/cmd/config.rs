//! `aleph config`: node profiles and the configuration directory.

use clap::{Args, Subcommand};
use serde_json::json;

use crate::config::{check_name, CcnProfile, ConfigStore};
use crate::ctx::Ctx;
use crate::error::usage;
use crate::output::table;

/// Configuration.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Node (CCN) profiles.
    Ccn {
        #[command(subcommand)]
        command: CcnCommand,
    },
    /// Show the configuration directory and defaults.
    ///
    /// Example: aleph config show --json
    #[command(verbatim_doc_comment)]
    Show,
}

#[derive(Debug, Subcommand)]
enum CcnCommand {
    /// List the profiles (`*` marks the default).
    ///
    /// Example: aleph config ccn list
    #[command(verbatim_doc_comment)]
    List,
    /// Add (or replace) a profile.
    ///
    /// Example: aleph config ccn add mine http://127.0.0.1:4024
    #[command(verbatim_doc_comment)]
    Add {
        /// The profile name.
        name: String,
        /// The node URL.
        url: String,
    },
    /// Make a profile (or a URL) the default node.
    ///
    /// Example: aleph config ccn use mine
    #[command(verbatim_doc_comment)]
    Use {
        /// A profile name or a URL.
        name: String,
    },
    /// Remove a profile.
    ///
    /// Example: aleph config ccn remove mine
    #[command(verbatim_doc_comment)]
    Remove {
        /// The profile name.
        name: String,
    },
}

impl ConfigArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let mut config: ConfigStore = ctx.config.clone();
        match self.command {
            ConfigCommand::Show => {
                let value = json!({
                    "dir": config.dir.display().to_string(),
                    "ccn": ctx.ccn_url()?,
                    "default_ccn": config.file.default_ccn,
                    "default_account": config.file.default_account,
                });
                ctx.out.emit(&value, || {
                    format!(
                        "config dir:      {}\nnode:            {}\ndefault account: {}",
                        config.dir.display(),
                        ctx.ccn_url().unwrap_or_default(),
                        config.file.default_account.as_deref().unwrap_or("-")
                    )
                })
            }
            ConfigCommand::Ccn { command } => match command {
                CcnCommand::List => {
                    let default = config.file.default_ccn.clone();
                    let profiles = config.ccn_profiles();
                    let value: Vec<_> = profiles
                        .iter()
                        .map(|(n, u, b)| json!({"name": n, "url": u, "builtin": b, "default": default.as_deref() == Some(n.as_str())}))
                        .collect();
                    ctx.out.emit(&json!({"profiles": value}), || {
                        let rows: Vec<Vec<String>> = profiles
                            .iter()
                            .map(|(n, u, b)| {
                                let mark = if default.as_deref() == Some(n.as_str()) { "*" } else { "" };
                                vec![
                                    mark.to_owned(),
                                    n.clone(),
                                    u.clone(),
                                    if *b { "built-in".into() } else { String::new() },
                                ]
                            })
                            .collect();
                        table(&["", "NAME", "URL", ""], &rows)
                    })
                }
                CcnCommand::Add { name, url } => {
                    check_name(&name)?;
                    aleph_sdk::AlephClient::new(url.clone()).map_err(|e| usage(e.to_string()))?;
                    config.file.ccn.insert(name.clone(), CcnProfile { url: url.clone() });
                    if !ctx.dry_run() {
                        config.save()?;
                    }
                    ctx.out
                        .emit(&json!({"name": name, "url": url}), || format!("added profile {name}: {url}"))
                }
                CcnCommand::Use { name } => {
                    let url = config.resolve_ccn(&name)?;
                    config.file.default_ccn = Some(name.clone());
                    if !ctx.dry_run() {
                        config.save()?;
                    }
                    ctx.out.emit(&json!({"default_ccn": name, "url": url}), || {
                        format!("default node: {name} ({url})")
                    })
                }
                CcnCommand::Remove { name } => {
                    if config.file.ccn.remove(&name).is_none() {
                        return Err(usage(format!("no profile named {name:?}")));
                    }
                    if config.file.default_ccn.as_deref() == Some(name.as_str()) {
                        config.file.default_ccn = None;
                    }
                    if !ctx.dry_run() {
                        config.save()?;
                    }
                    ctx.out.emit(&json!({"removed": name}), || format!("removed profile {name}"))
                }
            },
        }
    }
}
