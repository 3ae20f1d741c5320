//! `aleph post`: publish, amend and list posts.

use std::path::PathBuf;

use aleph_sdk::{MessageBuilder, PostFilter};
use clap::{Args, Subcommand};
use serde_json::json;

use crate::ctx::Ctx;
use crate::output::{self, table};

/// Posts.
#[derive(Debug, Args)]
pub struct PostArgs {
    #[command(subcommand)]
    command: PostCommand,
}

#[derive(Debug, Subcommand)]
enum PostCommand {
    /// Publish a post.
    ///
    /// Examples:
    ///   aleph post create --type chat --content '{"body":"hello"}'
    ///   aleph post create --type blog --file article.json --ref my-blog
    #[command(verbatim_doc_comment)]
    Create {
        /// The post type.
        #[arg(long = "type", default_value = "test")]
        post_type: String,
        /// The content, as JSON.
        #[arg(long, conflicts_with = "file")]
        content: Option<String>,
        /// A file holding the content (`-` for stdin).
        #[arg(long)]
        file: Option<PathBuf>,
        /// A free reference (`ref`).
        #[arg(long = "ref")]
        reference: Option<String>,
        /// Post on behalf of this address (which must have authorized you).
        #[arg(long, value_name = "ADDRESS")]
        on_behalf_of: Option<String>,
    },
    /// Replace the content of a post you published.
    ///
    /// Example: aleph post amend 3f2a…c9 --content '{"body":"hello, corrected"}'
    #[command(verbatim_doc_comment)]
    Amend {
        /// The item hash of the original post.
        hash: String,
        /// The new content, as JSON.
        #[arg(long, conflicts_with = "file")]
        content: Option<String>,
        /// A file holding the new content (`-` for stdin).
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// List posts (amended posts show their latest content).
    ///
    /// Example: aleph post list --type chat --address 0xAbc… --json
    #[command(verbatim_doc_comment)]
    List {
        /// Post type (comma-separated or repeated).
        #[arg(long = "types", visible_alias = "type", value_delimiter = ',')]
        types: Vec<String>,
        /// Author address (comma-separated or repeated).
        #[arg(long = "addresses", visible_alias = "address", value_delimiter = ',')]
        addresses: Vec<String>,
        /// Reference (comma-separated or repeated).
        #[arg(long = "refs", visible_alias = "ref", value_delimiter = ',')]
        refs: Vec<String>,
        /// Item hash (comma-separated or repeated).
        #[arg(long = "hashes", visible_alias = "hash", value_delimiter = ',')]
        hashes: Vec<String>,
        /// Channel (comma-separated or repeated).
        #[arg(long = "channels", value_delimiter = ',')]
        channels: Vec<String>,
        /// Tag (comma-separated or repeated).
        #[arg(long = "tags", visible_alias = "tag", value_delimiter = ',')]
        tags: Vec<String>,
        /// Page number.
        #[arg(long, default_value_t = 1)]
        page: u32,
        /// Posts per page.
        #[arg(long, default_value_t = 20)]
        per_page: u32,
    },
}

impl PostArgs {
    /// Runs the command.
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        match self.command {
            PostCommand::Create { post_type, content, file, reference, on_behalf_of } => {
                let content = super::json_content(content.as_deref(), file.as_deref())?;
                let mut b = MessageBuilder::post(post_type, content);
                if let Some(r) = reference {
                    b = b.reference(r);
                }
                if let Some(o) = on_behalf_of {
                    b = b.on_behalf_of(o);
                }
                ctx.write(&ctx.signer()?, b).await.map(drop)
            }
            PostCommand::Amend { hash, content, file } => {
                let hash = super::item_hash(&hash)?;
                let content = super::json_content(content.as_deref(), file.as_deref())?;
                ctx.write(&ctx.signer()?, MessageBuilder::amend(&hash, content)).await.map(drop)
            }
            PostCommand::List { types, addresses, refs, hashes, channels, tags, page, per_page } => {
                let mut f = PostFilter::new();
                f.types = types;
                f.addresses = addresses;
                f.refs = refs;
                f.channels = channels;
                f.tags = tags;
                for h in &hashes {
                    f.hashes.push(super::item_hash(h)?);
                }
                let page = ctx.client()?.get_posts(&f, page, per_page).await?;
                let value = json!({"posts": page.posts, "page": page.page, "per_page": page.per_page, "total": page.total});
                ctx.out.emit(&value, || {
                    let rows: Vec<Vec<String>> = page
                        .posts
                        .iter()
                        .map(|p| {
                            vec![
                                output::time(p.time),
                                p.post_type.clone(),
                                p.sender.clone(),
                                p.item_hash.clone(),
                                output::compact(&p.content, 60),
                            ]
                        })
                        .collect();
                    let mut s = table(&["TIME", "TYPE", "SENDER", "ITEM_HASH", "CONTENT"], &rows);
                    s += &format!("page {}: {} of {} post(s)\n", page.page, page.posts.len(), page.total);
                    s
                })
            }
        }
    }
}
