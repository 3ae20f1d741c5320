//! `aleph instance`: instances (persistent VMs).

use std::path::Path;

use aleph_sdk::core::MessageType;
use aleph_sdk::{InstanceSpec, MessageBuilder};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::ctx::Ctx;
use crate::error::usage;

/// Instances.
#[derive(Debug, Args)]
pub struct InstanceArgs {
    #[command(subcommand)]
    command: InstanceCommand,
}

#[derive(Debug, Subcommand)]
enum InstanceCommand {
    /// Publish an INSTANCE (default: Debian 12 on QEMU, 1 vCPU, 2 GiB, 20 GiB disk).
    ///
    /// Examples:
    ///   aleph instance create --ssh-key ~/.ssh/id_ed25519.pub
    ///   aleph instance create --vcpus 2 --memory 4096 --disk-size 40960 --payment credit
    #[command(verbatim_doc_comment)]
    Create {
        /// An SSH public key, or a file holding some (repeatable).
        #[arg(long = "ssh-key", value_name = "KEY|FILE")]
        ssh_keys: Vec<String>,
        /// The root filesystem's STORE hash (default: Debian 12).
        #[arg(long)]
        rootfs: Option<String>,
        /// Root disk size in MiB.
        #[arg(long, default_value_t = 20_480)]
        disk_size: u64,
        /// Memory in MiB.
        #[arg(long, default_value_t = 2_048)]
        memory: u64,
        /// Virtual CPUs.
        #[arg(long, default_value_t = 1)]
        vcpus: u64,
        /// Hypervisor.
        #[arg(long, default_value = "qemu", value_parser = ["qemu", "firecracker"])]
        hypervisor: String,
        /// How it is paid: hold (tokens held), credit, or superfluid (a stream).
        #[arg(long, default_value = "hold", value_parser = ["hold", "credit", "superfluid"])]
        payment: String,
        /// A name (metadata).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the instances of an address.
    ///
    /// Example: aleph instance list --address 0xAbc…
    #[command(verbatim_doc_comment)]
    List {
        /// The owner (default: your address).
        #[arg(long)]
        address: Option<String>,
    },
}

impl InstanceArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self.command {
            InstanceCommand::Create {
                ssh_keys,
                rootfs,
                disk_size,
                memory,
                vcpus,
                hypervisor,
                payment,
                name,
            } => {
                let signer = ctx.signer()?;
                let mut spec = InstanceSpec::new();
                for k in ssh_keys {
                    let p = Path::new(&k);
                    if p.is_file() {
                        let text = std::fs::read_to_string(p)
                            .map_err(|e| usage(format!("cannot read {}: {e}", p.display())))?;
                        spec.ssh_keys
                            .extend(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned));
                    } else {
                        spec.ssh_keys.push(k);
                    }
                }
                if let Some(r) = rootfs {
                    spec.rootfs = super::item_hash(&r)?.to_string();
                }
                spec.rootfs_size_mib = disk_size;
                spec.memory_mib = memory;
                spec.vcpus = vcpus;
                spec.hypervisor = hypervisor;
                let chain = aleph_sdk::core::Signer::chain(&signer);
                spec.payment = json!({"chain": chain.as_str(), "type": payment});
                if let Some(n) = name {
                    spec.metadata = Some(json!({"name": n}));
                }
                ctx.write(&signer, MessageBuilder::instance(&spec)).await.map(drop)
            }
            InstanceCommand::List { address } => {
                super::program::list_vms(ctx, MessageType::Instance, address).await
            }
        }
    }
}
