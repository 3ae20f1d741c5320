//! `aleph node`: the network's nodes, from the `corechannel` aggregate.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};

use crate::ctx::Ctx;
use crate::output::table;

/// The address whose `corechannel` aggregate lists the network's nodes.
pub const CORECHANNEL_OWNER: &str = "0xa1B3bb7d2332383D96b7796B908fB7f7F3c2Be10";

/// Nodes.
#[derive(Debug, Args)]
pub struct NodeArgs {
    #[command(subcommand)]
    command: NodeCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Kind {
    /// Core channel nodes.
    Ccn,
    /// Compute resource nodes.
    Crn,
    /// Both.
    All,
}

#[derive(Debug, Subcommand)]
enum NodeCommand {
    /// List core channel nodes (CCNs) and compute resource nodes (CRNs).
    ///
    /// Examples:
    ///   aleph node list
    ///   aleph node list --kind crn --json
    #[command(verbatim_doc_comment)]
    List {
        /// Which nodes.
        #[arg(long, value_enum, default_value = "all")]
        kind: Kind,
        /// The owner of the `corechannel` aggregate.
        #[arg(long, default_value = CORECHANNEL_OWNER)]
        address: String,
    },
}

fn field(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(Value::Number(n)) => n.as_f64().map(|f| format!("{f:.2}")).unwrap_or_default(),
        Some(other) => other.to_string(),
    }
}

impl NodeArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let NodeCommand::List { kind, address } = self.command;
        let doc = ctx.client()?.get_aggregate_value(&address, "corechannel").await?;
        let list = |k: &str| doc.get(k).and_then(Value::as_array).cloned().unwrap_or_default();
        let (ccns, crns) = match kind {
            Kind::Ccn => (list("nodes"), Vec::new()),
            Kind::Crn => (Vec::new(), list("resource_nodes")),
            Kind::All => (list("nodes"), list("resource_nodes")),
        };
        let value = json!({"ccns": ccns, "crns": crns});
        ctx.out.emit(&value, || {
            let mut s = String::new();
            if !matches!(kind, Kind::Crn) {
                let rows: Vec<Vec<String>> = ccns
                    .iter()
                    .map(|n| {
                        let crn_count = n.get("resource_nodes").and_then(Value::as_array).map_or(0, Vec::len);
                        vec![
                            field(n, "hash"),
                            field(n, "name"),
                            field(n, "status"),
                            field(n, "score"),
                            crn_count.to_string(),
                            field(n, "owner"),
                        ]
                    })
                    .collect();
                s += &format!("{} core channel node(s)\n", rows.len());
                s += &table(&["HASH", "NAME", "STATUS", "SCORE", "CRNS", "OWNER"], &rows);
            }
            if !matches!(kind, Kind::Ccn) {
                let rows: Vec<Vec<String>> = crns
                    .iter()
                    .map(|n| {
                        vec![
                            field(n, "hash"),
                            field(n, "name"),
                            field(n, "status"),
                            field(n, "score"),
                            field(n, "address"),
                        ]
                    })
                    .collect();
                s += &format!("{} compute resource node(s)\n", rows.len());
                s += &table(&["HASH", "NAME", "STATUS", "SCORE", "URL"], &rows);
            }
            s
        })
    }
}
