//! `aleph completions`: shell completion scripts.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::ctx::Ctx;
use crate::opts::Cli;

/// Print a completion script for a shell.
///
/// Examples:
///   aleph completions bash > /etc/bash_completion.d/aleph
///   aleph completions zsh > "${fpath[1]}/_aleph"
///   aleph completions fish > ~/.config/fish/completions/aleph.fish
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

impl CompletionsArgs {
    /// Runs the command.
    pub async fn run(self, _ctx: &Ctx) -> anyhow::Result<()> {
        let mut cmd = Cli::command();
        clap_complete::generate(self.shell, &mut cmd, "aleph", &mut std::io::stdout());
        Ok(())
    }
}
