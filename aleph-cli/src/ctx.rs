//! [`Ctx`]: what every command gets: the global options, the configuration, the output, and the
//! ways to reach a node and a key.

use aleph_sdk::core::Signer;
use aleph_sdk::{AlephClient, AnySigner, MessageBuilder, SubmitMode, Submitted};

use crate::config::ConfigStore;
use crate::opts::GlobalOpts;
use crate::output::Output;
use crate::signer::PendingSigner;

/// The context of one command run.
#[derive(Debug)]
pub struct Ctx {
    pub(crate) global: GlobalOpts,
    pub(crate) config: ConfigStore,
    pub(crate) out: Output,
}

impl Ctx {
    /// Reads the configuration.
    pub(crate) fn new(global: GlobalOpts) -> anyhow::Result<Self> {
        let config = ConfigStore::load()?;
        let out = Output::new(global.json);
        Ok(Ctx { global, config, out })
    }

    /// The node URL: `--ccn` (or `ALEPH_CCN`, else its alias `ALEPH_NODE_URL`), else the
    /// configured default, else the official API server.
    pub(crate) fn ccn_url(&self) -> anyhow::Result<String> {
        let named = self.global.ccn.clone().or_else(aleph_sdk::node_from_env);
        match named.as_deref().or(self.config.file.default_ccn.as_deref()) {
            Some(c) => self.config.resolve_ccn(c),
            None => Ok(aleph_sdk::DEFAULT_API_URL.to_owned()),
        }
    }

    /// A client of the node.
    pub(crate) fn client(&self) -> anyhow::Result<AlephClient> {
        let url = self.ccn_url()?;
        Ok(AlephClient::builder(url)
            .user_agent(concat!("aleph-cli-rust/", env!("CARGO_PKG_VERSION")))
            .build()?)
    }

    /// The chosen key, not yet unlocked.
    pub(crate) fn pending_signer(&self) -> anyhow::Result<PendingSigner> {
        PendingSigner::from_opts(&self.global.signer, &self.config)
    }

    /// The chosen key, unlocked.
    pub(crate) fn signer(&self) -> anyhow::Result<AnySigner> {
        self.pending_signer()?.unlock()
    }

    /// `address`, else the chosen key's address (unlocking it only when needed).
    pub(crate) fn address_or_own(&self, address: Option<String>) -> anyhow::Result<String> {
        if let Some(a) = address {
            return Ok(a);
        }
        let pending = self.pending_signer()?;
        match pending.address() {
            Some(a) => Ok(a.to_owned()),
            None => Ok(pending.unlock()?.address().to_owned()),
        }
    }

    /// Applies `--channel` to a message builder.
    pub(crate) fn with_channel(&self, builder: MessageBuilder) -> MessageBuilder {
        match &self.global.channel {
            Some(c) => builder.channel(c.clone()),
            None => builder,
        }
    }

    /// Whether writes only print what they would send.
    pub(crate) fn dry_run(&self) -> bool {
        self.global.dry_run
    }

    /// Signs `builder` (with `--channel`) and, unless `--dry-run`, publishes it and waits for the
    /// node's verdict; prints the outcome (or the signed message).
    pub(crate) async fn write(
        &self,
        signer: &AnySigner,
        builder: MessageBuilder,
    ) -> anyhow::Result<Option<Submitted>> {
        let builder = self.with_channel(builder);
        if self.dry_run() {
            let pending = builder.build(signer)?;
            self.out.signed(&[pending])?;
            return Ok(None);
        }
        let client = self.client()?;
        let submitted = client.publish(signer, &builder, SubmitMode::Sync).await?;
        self.out.submitted(&submitted)?;
        Ok(Some(submitted))
    }
}
