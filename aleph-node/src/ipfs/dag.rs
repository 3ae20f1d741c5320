//! UnixFS DAGs as `ipfs add` builds them: the importer that cuts a file into blocks (256 KiB
//! chunks, a balanced tree of dag-pb nodes with at most 174 links, dag-pb or raw leaves, CIDv0 or
//! CIDv1), basic directories and symlinks (sharded directories are in `hamt`), and the
//! dag-pb/UnixFS decoding that export and DAG walks use.
//!
//! The layout is the one `aleph_core::cid::CidBuilder` computes (the tests check the importer's
//! roots against it); this module also yields the blocks.

use aleph_core::cid::{Cid, CidVersion, Codec, Multihash, CHUNK_SIZE, MAX_LINKS};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::pb::{self, Fields, PbError};

/// UnixFS `Data.Type` values.
pub(crate) const UNIXFS_RAW: u64 = 0;
pub(crate) const UNIXFS_DIRECTORY: u64 = 1;
pub(crate) const UNIXFS_FILE: u64 = 2;
pub(crate) const UNIXFS_SYMLINK: u64 = 4;
pub(crate) const UNIXFS_HAMT_SHARD: u64 = 5;

/// A block: its CID and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The CID (its multihash is of `data`).
    pub cid: Cid,
    /// The block's bytes.
    pub data: Bytes,
}

impl Block {
    /// A block of `data` addressed under `version` and `codec` (sha2-256). A CIDv0 is only
    /// possible for dag-pb; raw blocks are always CIDv1.
    pub fn new(version: CidVersion, codec: Codec, data: Bytes) -> Block {
        let hash = Multihash::sha2_256(Sha256::digest(&data).into());
        let cid = match (version, codec) {
            (CidVersion::V0, Codec::DAG_PB) => Cid::new_v0(hash).unwrap_or_else(|_| Cid::new_v1(codec, hash)),
            _ => Cid::new_v1(codec, hash),
        };
        Block { cid, data }
    }
}

/// Whether `data` hashes to `cid`'s multihash (only sha2-256 is checked; other hashes are not).
pub(crate) fn block_matches(cid: &Cid, data: &[u8]) -> bool {
    cid.hash().is_sha2_256() && cid.hash().digest() == &Sha256::digest(data)[..]
}

/// How a file is imported: `ipfs add`'s `--cid-version` and `--raw-leaves`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportOptions {
    /// The CID version of the dag-pb nodes.
    pub version: CidVersion,
    /// Whether leaves are raw blocks (CIDv1 `raw`).
    pub raw_leaves: bool,
}

impl ImportOptions {
    /// `ipfs add` (CIDv0, dag-pb leaves).
    pub const DEFAULT: ImportOptions = ImportOptions { version: CidVersion::V0, raw_leaves: false };

    /// kubo's defaults for `version`: raw leaves with CIDv1.
    pub fn for_version(version: CidVersion) -> Self {
        ImportOptions { version, raw_leaves: version == CidVersion::V1 }
    }
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A link waiting for its parent.
#[derive(Debug, Clone, Copy)]
struct Link {
    cid: Cid,
    /// The child block's size plus everything below it (dag-pb `Tsize`).
    tsize: u64,
    /// File bytes below the child (UnixFS `blocksizes`).
    filesize: u64,
}

/// What an import produced: the root, and the sizes a parent directory's link needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// The root CID.
    pub root: Cid,
    /// File bytes.
    pub size: u64,
    /// The root block plus everything below it (the `Tsize` of a link to it).
    pub cumulative: u64,
}

/// Cuts a file fed in pieces into blocks, as `ipfs add` does. Blocks are handed out as they are
/// made ([`FileImporter::take_blocks`]); memory holds one chunk and one link list per level.
#[derive(Debug)]
pub struct FileImporter {
    options: ImportOptions,
    pending: Vec<u8>,
    levels: Vec<Vec<Link>>,
    leaves: u64,
    total: u64,
    out: Vec<Block>,
}

impl FileImporter {
    /// An importer with `options`.
    pub fn new(options: ImportOptions) -> Self {
        FileImporter {
            options,
            pending: Vec::with_capacity(CHUNK_SIZE),
            levels: Vec::new(),
            leaves: 0,
            total: 0,
            out: Vec::new(),
        }
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        while !data.is_empty() {
            let take = data.len().min(CHUNK_SIZE - self.pending.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == CHUNK_SIZE {
                self.close_chunk();
            }
        }
    }

    /// The blocks made since the last call.
    pub fn take_blocks(&mut self) -> Vec<Block> {
        std::mem::take(&mut self.out)
    }

    /// Ends the file; returns the root and the last blocks (the root among them).
    pub fn finish(mut self) -> (Imported, Vec<Block>) {
        if !self.pending.is_empty() || self.leaves == 0 {
            self.close_chunk();
        }
        let mut level = 0;
        let root = loop {
            let is_top = level + 1 >= self.levels.len();
            let links = std::mem::take(&mut self.levels[level]);
            if let (true, 0, [only]) = (is_top, level, links.as_slice()) {
                break *only;
            }
            let node = self.node(&links);
            if is_top {
                break node;
            }
            self.push(level + 1, node);
            level += 1;
        };
        (Imported { root: root.cid, size: self.total, cumulative: root.tsize }, self.out)
    }

    fn close_chunk(&mut self) {
        let chunk = std::mem::take(&mut self.pending);
        let n = chunk.len() as u64;
        let block = if self.options.raw_leaves {
            Block::new(CidVersion::V1, Codec::RAW, Bytes::from(chunk))
        } else {
            let mut unixfs = Vec::with_capacity(chunk.len() + 16);
            pb::put_uint(&mut unixfs, 1, UNIXFS_FILE);
            if n > 0 {
                pb::put_bytes(&mut unixfs, 2, &chunk);
            }
            pb::put_uint(&mut unixfs, 3, n);
            let mut node = Vec::with_capacity(unixfs.len() + 8);
            pb::put_bytes(&mut node, 1, &unixfs);
            self.pending = chunk;
            self.pending.clear();
            Block::new(self.options.version, Codec::DAG_PB, Bytes::from(node))
        };
        if self.pending.capacity() < CHUNK_SIZE {
            self.pending = Vec::with_capacity(CHUNK_SIZE);
        }
        let link = Link { cid: block.cid, tsize: block.data.len() as u64, filesize: n };
        self.out.push(block);
        self.leaves += 1;
        self.push(0, link);
    }

    /// Appends `link` at `level`; a full level is first closed into a node one level up.
    fn push(&mut self, mut level: usize, mut link: Link) {
        loop {
            while self.levels.len() <= level {
                self.levels.push(Vec::with_capacity(MAX_LINKS));
            }
            if self.levels[level].len() < MAX_LINKS {
                self.levels[level].push(link);
                return;
            }
            let links = std::mem::replace(&mut self.levels[level], vec![link]);
            link = self.node(&links);
            level += 1;
        }
    }

    /// Encodes an internal file node over `links`: links first, then the UnixFS data
    /// (`filesize`, one `blocksizes` per child).
    fn node(&mut self, links: &[Link]) -> Link {
        let mut out = Vec::with_capacity(links.len() * 48 + 16);
        let mut filesize = 0;
        let mut below = 0;
        let mut link_bytes = Vec::with_capacity(48);
        for link in links {
            put_link(&mut out, &mut link_bytes, &link.cid, b"", link.tsize);
            filesize += link.filesize;
            below += link.tsize;
        }
        let mut unixfs = Vec::with_capacity(links.len() * 4 + 16);
        pb::put_uint(&mut unixfs, 1, UNIXFS_FILE);
        pb::put_uint(&mut unixfs, 3, filesize);
        for link in links {
            pb::put_uint(&mut unixfs, 4, link.filesize);
        }
        pb::put_bytes(&mut out, 1, &unixfs);
        let block = Block::new(self.options.version, Codec::DAG_PB, Bytes::from(out));
        let link = Link { cid: block.cid, tsize: block.data.len() as u64 + below, filesize };
        self.out.push(block);
        link
    }
}

/// A basic UnixFS directory over `entries` (name, imported child), as `ipfs add -r` makes it:
/// links sorted by name, `Data` = `{Type: Directory}`.
pub(crate) fn directory_node(version: CidVersion, entries: &[(String, Imported)]) -> (Imported, Block) {
    let mut sorted: Vec<&(String, Imported)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = Vec::new();
    let mut below = 0;
    let mut size = 0;
    let mut link = Vec::new();
    for (name, child) in sorted {
        put_link(&mut out, &mut link, &child.root, name.as_bytes(), child.cumulative);
        below += child.cumulative;
        size += child.size;
    }
    let mut unixfs = Vec::new();
    pb::put_uint(&mut unixfs, 1, UNIXFS_DIRECTORY);
    pb::put_bytes(&mut out, 1, &unixfs);
    let block = Block::new(version, Codec::DAG_PB, Bytes::from(out));
    let imported = Imported { root: block.cid, size, cumulative: block.data.len() as u64 + below };
    (imported, block)
}

/// Appends a dag-pb link (`Hash`, `Name`, `Tsize`) to a node's bytes (`scratch` is reused from
/// one link to the next).
pub(crate) fn put_link(out: &mut Vec<u8>, scratch: &mut Vec<u8>, cid: &Cid, name: &[u8], tsize: u64) {
    scratch.clear();
    pb::put_bytes(scratch, 1, &cid.to_bytes());
    pb::put_bytes(scratch, 2, name);
    pb::put_uint(scratch, 3, tsize);
    pb::put_bytes(out, 2, scratch);
}

/// A symlink as `ipfs add -r` stores it: a dag-pb node whose UnixFS data is the target (no
/// link, no mode or mtime).
pub(crate) fn symlink_node(version: CidVersion, target: &[u8]) -> (Imported, Block) {
    let mut unixfs = Vec::new();
    pb::put_uint(&mut unixfs, 1, UNIXFS_SYMLINK);
    pb::put_bytes(&mut unixfs, 2, target);
    let mut out = Vec::new();
    pb::put_bytes(&mut out, 1, &unixfs);
    let block = Block::new(version, Codec::DAG_PB, Bytes::from(out));
    let imported = Imported { root: block.cid, size: 0, cumulative: block.data.len() as u64 };
    (imported, block)
}

/// Why a block cannot be read as part of a UnixFS DAG.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DagError {
    /// The dag-pb or UnixFS bytes are malformed.
    #[error(transparent)]
    Pb(#[from] PbError),
    /// A link's CID is malformed.
    #[error("a link holds an invalid CID: {0}")]
    Cid(#[from] aleph_core::cid::CidError),
    /// The block's codec is neither dag-pb nor raw.
    #[error("unsupported codec {0:#x}")]
    Codec(u64),
    /// A UnixFS node of a type export does not handle (metadata).
    #[error("unsupported UnixFS node type {0}")]
    UnixFsType(u64),
    /// A symlink where a file's bytes were asked for.
    #[error("a symlink (to {0:?}), not a file")]
    Symlink(String),
    /// A HAMT shard whose fanout is not a power of two in 2..=65536.
    #[error("a HAMT shard with fanout {0}")]
    Fanout(u64),
    /// Names whose 64 hash bits are all equal: a sharded directory cannot place them.
    #[error("sharded directory too deep (two names share every bit of their hash)")]
    ShardTooDeep,
}

/// A dag-pb link.
#[derive(Debug, Clone)]
pub(crate) struct PbLink {
    pub(crate) cid: Cid,
    pub(crate) name: String,
}

/// A decoded dag-pb node.
#[derive(Debug, Clone)]
pub(crate) struct PbNode<'a> {
    pub(crate) links: Vec<PbLink>,
    pub(crate) data: &'a [u8],
}

pub(crate) fn decode_node(bytes: &[u8]) -> Result<PbNode<'_>, DagError> {
    let mut node = PbNode { links: Vec::new(), data: &[] };
    for field in Fields(bytes) {
        match field? {
            (1, v) => node.data = v.bytes()?,
            (2, v) => {
                let mut cid = None;
                let mut name = String::new();
                for f in Fields(v.bytes()?) {
                    match f? {
                        (1, v) => cid = Some(Cid::from_bytes(v.bytes()?)?),
                        (2, v) => name = String::from_utf8_lossy(v.bytes()?).into_owned(),
                        _ => {}
                    }
                }
                let cid = cid.ok_or(PbError("a link without a hash"))?;
                node.links.push(PbLink { cid, name });
            }
            _ => {}
        }
    }
    Ok(node)
}

/// A decoded UnixFS `Data` message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnixFs<'a> {
    pub(crate) kind: u64,
    pub(crate) data: &'a [u8],
    pub(crate) filesize: Option<u64>,
    pub(crate) fanout: Option<u64>,
}

pub(crate) fn decode_unixfs(bytes: &[u8]) -> Result<UnixFs<'_>, DagError> {
    let mut out = UnixFs { kind: u64::MAX, data: &[], filesize: None, fanout: None };
    for field in Fields(bytes) {
        match field? {
            (1, v) => out.kind = v.uint()?,
            (2, v) => out.data = v.bytes()?,
            (3, v) => out.filesize = Some(v.uint()?),
            (6, v) => out.fanout = Some(v.uint()?),
            _ => {}
        }
    }
    if out.kind == u64::MAX {
        return Err(PbError("UnixFS data without a type").into());
    }
    Ok(out)
}

/// The CIDs a block links to (none for raw blocks).
pub(crate) fn links_of(cid: &Cid, block: &[u8]) -> Result<Vec<Cid>, DagError> {
    match cid.codec() {
        Codec::RAW => Ok(Vec::new()),
        Codec::DAG_PB => Ok(decode_node(block)?.links.into_iter().map(|l| l.cid).collect()),
        other => Err(DagError::Codec(other.code())),
    }
}

/// What a file block holds for export: its own bytes and its children in order.
pub(crate) enum FilePart<'a> {
    /// Bytes of the file, then these children.
    File { data: &'a [u8], children: Vec<Cid> },
    /// A directory's entries.
    Directory(Vec<PbLink>),
    /// A HAMT-sharded directory's node (kubo shards directories past 256 KiB of links): each
    /// link's name starts with its bucket, `prefix` hex digits; a link named by the bucket alone
    /// is a sub-shard, the others are entries (the name after the bucket).
    Shard { links: Vec<PbLink>, prefix: usize },
    /// A symlink and its target.
    Symlink(&'a [u8]),
}

pub(crate) fn file_part<'a>(cid: &Cid, block: &'a [u8]) -> Result<FilePart<'a>, DagError> {
    match cid.codec() {
        Codec::RAW => Ok(FilePart::File { data: block, children: Vec::new() }),
        Codec::DAG_PB => {
            let node = decode_node(block)?;
            let unixfs = decode_unixfs(node.data)?;
            match unixfs.kind {
                UNIXFS_RAW | UNIXFS_FILE => Ok(FilePart::File {
                    data: unixfs.data,
                    children: node.links.into_iter().map(|l| l.cid).collect(),
                }),
                UNIXFS_DIRECTORY => Ok(FilePart::Directory(node.links)),
                UNIXFS_HAMT_SHARD => {
                    // go-unixfs: the bucket is `fanout - 1` wide in upper-case hex.
                    let fanout = unixfs.fanout.unwrap_or(256);
                    if !fanout.is_power_of_two() || !(2..=65536).contains(&fanout) {
                        return Err(DagError::Fanout(fanout));
                    }
                    let prefix = format!("{:X}", fanout - 1).len();
                    Ok(FilePart::Shard { links: node.links, prefix })
                }
                UNIXFS_SYMLINK => Ok(FilePart::Symlink(unixfs.data)),
                other => Err(DagError::UnixFsType(other)),
            }
        }
        other => Err(DagError::Codec(other.code())),
    }
}

/// What a UnixFS node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeKind {
    /// A file (or a raw block).
    File,
    /// A basic directory.
    Directory,
    /// A node of a HAMT-sharded directory.
    HamtShard,
    /// A symlink.
    Symlink,
}

/// The kind of the node `block` (whose CID is `cid`).
pub fn node_kind(cid: &Cid, block: &[u8]) -> Result<NodeKind, DagError> {
    Ok(match file_part(cid, block)? {
        FilePart::File { .. } => NodeKind::File,
        FilePart::Directory(_) => NodeKind::Directory,
        FilePart::Shard { .. } => NodeKind::HamtShard,
        FilePart::Symlink(_) => NodeKind::Symlink,
    })
}

/// The file size a root block declares (UnixFS `filesize`; a raw block's length).
pub(crate) fn declared_size(cid: &Cid, block: &[u8]) -> Option<u64> {
    match cid.codec() {
        Codec::RAW => Some(block.len() as u64),
        Codec::DAG_PB => decode_unixfs(decode_node(block).ok()?.data).ok()?.filesize,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aleph_core::cid::CidBuilder;

    fn import(data: &[u8], options: ImportOptions) -> (Imported, Vec<Block>) {
        let mut importer = FileImporter::new(options);
        let mut blocks = Vec::new();
        for piece in data.chunks(100_000) {
            importer.update(piece);
            blocks.extend(importer.take_blocks());
        }
        let (imported, last) = importer.finish();
        blocks.extend(last);
        (imported, blocks)
    }

    /// Rebuilds the file from the blocks, as export does.
    fn reassemble(root: &Cid, blocks: &[Block]) -> Vec<u8> {
        let find = |cid: &Cid| blocks.iter().find(|b| b.cid == *cid).unwrap();
        let mut out = Vec::new();
        let mut stack = vec![*root];
        while let Some(cid) = stack.pop() {
            let block = find(&cid);
            assert!(block_matches(&cid, &block.data));
            match file_part(&cid, &block.data).unwrap() {
                FilePart::File { data, children } => {
                    out.extend_from_slice(data);
                    stack.extend(children.into_iter().rev());
                }
                _ => panic!("not a file"),
            }
        }
        out
    }

    #[test]
    fn roots_equal_the_core_cids_and_blocks_reassemble() {
        let data: Vec<u8> = (0..(3 * CHUNK_SIZE + 17)).map(|i| (i * 7 % 251) as u8).collect();
        for size in [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, data.len()] {
            for (version, raw) in [
                (CidVersion::V0, false),
                (CidVersion::V1, true),
                (CidVersion::V0, true),
                (CidVersion::V1, false),
            ] {
                let options = ImportOptions { version, raw_leaves: raw };
                let (imported, blocks) = import(&data[..size], options);
                let mut core = CidBuilder::with_raw_leaves(version, raw);
                core.update(&data[..size]);
                assert_eq!(imported.root, core.finish(), "size {size} {options:?}");
                assert_eq!(imported.size, size as u64);
                assert_eq!(reassemble(&imported.root, &blocks), &data[..size]);
                assert_eq!(declared_size(&imported.root, &blocks.last().unwrap().data), Some(size as u64));
            }
        }
    }

    #[test]
    fn a_deep_tree_matches_the_core() {
        // 175 chunks: two levels of internal nodes.
        let data = vec![5u8; (MAX_LINKS + 1) * CHUNK_SIZE];
        let (imported, blocks) = import(&data, ImportOptions::DEFAULT);
        assert_eq!(imported.root.to_string(), aleph_core::cid::cid_v0(&data));
        assert_eq!(reassemble(&imported.root, &blocks).len(), data.len());
    }

    /// A dag-pb node with `links` (name, child CID) and UnixFS `Data` of `kind` (and `fanout`).
    fn node(kind: u64, fanout: Option<u64>, data: &[u8], links: &[(&str, Cid)]) -> (Cid, Vec<u8>) {
        let mut out = Vec::new();
        for (name, cid) in links {
            let mut link = Vec::new();
            pb::put_bytes(&mut link, 1, &cid.to_bytes());
            pb::put_bytes(&mut link, 2, name.as_bytes());
            pb::put_bytes(&mut out, 2, &link);
        }
        let mut unixfs = Vec::new();
        pb::put_uint(&mut unixfs, 1, kind);
        if !data.is_empty() {
            pb::put_bytes(&mut unixfs, 2, data);
        }
        if let Some(f) = fanout {
            pb::put_uint(&mut unixfs, 6, f);
        }
        pb::put_bytes(&mut out, 1, &unixfs);
        (Block::new(CidVersion::V1, Codec::DAG_PB, Bytes::from(out.clone())).cid, out)
    }

    #[test]
    fn hamt_shards_and_symlinks_are_read_as_go_unixfs_writes_them() {
        let leaf = Block::new(CidVersion::V1, Codec::RAW, Bytes::from_static(b"x")).cid;
        // Fanout 256: buckets are two upper-case hex digits; a bucket alone names a sub-shard.
        let (cid, bytes) = node(UNIXFS_HAMT_SHARD, Some(256), &[], &[("0Aname.txt", leaf), ("F3", leaf)]);
        match file_part(&cid, &bytes).unwrap() {
            FilePart::Shard { links, prefix } => {
                assert_eq!(prefix, 2);
                assert_eq!(links.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["0Aname.txt", "F3"]);
            }
            _ => panic!("not read as a shard"),
        }
        assert_eq!(node_kind(&cid, &bytes).unwrap(), NodeKind::HamtShard);
        // Fanout 16: one digit. A fanout that is not a power of two is refused.
        let (cid, bytes) = node(UNIXFS_HAMT_SHARD, Some(16), &[], &[]);
        assert!(matches!(file_part(&cid, &bytes).unwrap(), FilePart::Shard { prefix: 1, .. }));
        let (cid, bytes) = node(UNIXFS_HAMT_SHARD, Some(100), &[], &[]);
        assert!(matches!(file_part(&cid, &bytes), Err(DagError::Fanout(100))));
        // A symlink holds its target; it is neither a file nor a directory.
        let (cid, bytes) = node(UNIXFS_SYMLINK, None, b"../target", &[]);
        assert!(matches!(file_part(&cid, &bytes).unwrap(), FilePart::Symlink(b"../target")));
        assert_eq!(node_kind(&cid, &bytes).unwrap(), NodeKind::Symlink);
        assert_eq!(declared_size(&cid, &bytes), None);
    }
}
