//! HAMT-sharded directories as `ipfs add -r` makes them (kubo v0.22, boxo's `unixfs/hamt`): a
//! directory whose links take 256 KiB or more (names plus CIDs) becomes a tree of shard nodes.
//!
//! Each shard has 256 slots, indexed by one byte of the name's hash (murmur3 x64, its first 64
//! bits big-endian, a byte per level). A slot holding one entry links to it under the slot's two
//! uppercase hex digits followed by the name; a slot that several entries share links to a
//! sub-shard under the two digits alone. A shard's UnixFS data is its slot bitmap (big-endian,
//! leading zero bytes dropped), the hash function (`0x22`) and the fanout.

use aleph_core::cid::{CidVersion, Codec};
use bytes::Bytes;

use super::dag::{put_link, Block, DagError, Imported, UNIXFS_HAMT_SHARD};
use super::pb;

/// kubo's `Internal.UnixFSShardingSizeThreshold` default: a directory is sharded once the sum
/// of its links' name and CID lengths reaches it.
pub(crate) const SHARDING_THRESHOLD: usize = 256 << 10;

/// Slots per shard (boxo's `DefaultShardWidth`).
const FANOUT: usize = 256;

/// The multicodec of the name hash (murmur3-x64-64).
const MURMUR3_X64_64: u64 = 0x22;

/// Whether kubo shards a directory of these entries: the size it estimates (each link's name
/// length plus its CID's byte length) reaches [`SHARDING_THRESHOLD`].
pub(crate) fn needs_sharding(entries: &[(String, Imported)]) -> bool {
    let estimated: usize = entries.iter().map(|(name, child)| name.len() + child.root.to_bytes().len()).sum();
    estimated >= SHARDING_THRESHOLD
}

/// The 64 hash bits a name is placed by: murmur3 x64 128 (seed 0), its first half, big-endian.
fn name_hash(name: &str) -> [u8; 8] {
    let hash = murmur3::murmur3_x64_128(&mut name.as_bytes(), 0).unwrap_or_default();
    (hash as u64).to_be_bytes()
}

/// The directory as a HAMT: its root, and every shard block (the root's last).
pub(crate) fn sharded_directory(
    version: CidVersion,
    entries: &[(String, Imported)],
) -> Result<(Imported, Vec<Block>), DagError> {
    let hashed: Vec<(&str, &Imported, [u8; 8])> =
        entries.iter().map(|(name, child)| (name.as_str(), child, name_hash(name))).collect();
    let mut blocks = Vec::new();
    let root = shard(version, hashed, 0, &mut blocks)?;
    Ok((root, blocks))
}

/// The shard of `entries` at `depth` (the hash byte that picks their slot here).
fn shard(
    version: CidVersion,
    entries: Vec<(&str, &Imported, [u8; 8])>,
    depth: usize,
    blocks: &mut Vec<Block>,
) -> Result<Imported, DagError> {
    let mut slots: Vec<Vec<(&str, &Imported, [u8; 8])>> = vec![Vec::new(); FANOUT];
    for entry in entries {
        // 64 bits give eight levels; names whose hashes agree on all of them cannot be placed
        // (boxo fails such an add as "sharded directory too deep").
        let slot = *entry.2.get(depth).ok_or(DagError::ShardTooDeep)?;
        slots[usize::from(slot)].push(entry);
    }
    let mut out = Vec::new();
    let mut bitmap = [0u8; FANOUT / 8];
    let (mut size, mut below) = (0, 0);
    let mut link = Vec::new();
    for (slot, mut in_slot) in slots.into_iter().enumerate() {
        let (name, target) = match in_slot.len() {
            0 => continue,
            1 => {
                let (name, child, _) = in_slot.swap_remove(0);
                (format!("{slot:02X}{name}"), *child)
            }
            _ => (format!("{slot:02X}"), shard(version, in_slot, depth + 1, blocks)?),
        };
        bitmap[FANOUT / 8 - 1 - slot / 8] |= 1 << (slot % 8);
        put_link(&mut out, &mut link, &target.root, name.as_bytes(), target.cumulative);
        size += target.size;
        below += target.cumulative;
    }
    let first = bitmap.iter().position(|b| *b != 0).unwrap_or(bitmap.len());
    let mut unixfs = Vec::new();
    pb::put_uint(&mut unixfs, 1, UNIXFS_HAMT_SHARD);
    if first < bitmap.len() {
        pb::put_bytes(&mut unixfs, 2, &bitmap[first..]);
    }
    pb::put_uint(&mut unixfs, 5, MURMUR3_X64_64);
    pb::put_uint(&mut unixfs, 6, FANOUT as u64);
    pb::put_bytes(&mut out, 1, &unixfs);
    let block = Block::new(version, Codec::DAG_PB, Bytes::from(out));
    let imported = Imported { root: block.cid, size, cumulative: block.data.len() as u64 + below };
    blocks.push(block);
    Ok(imported)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::dag::{decode_node, decode_unixfs, FileImporter, ImportOptions};

    fn file(data: &[u8]) -> Imported {
        let mut importer = FileImporter::new(ImportOptions::DEFAULT);
        importer.update(data);
        importer.finish().0
    }

    #[test]
    fn the_name_hash_is_murmur3_x64_first_half_big_endian() {
        // The published MurmurHash3_x64_128 of "hello" (seed 0) is cbd8a7b341bd9b02 5b1e906a48ae1d19:
        // its first 64 bits, written big-endian, are what boxo reads slots from.
        assert_eq!(name_hash("hello"), 0xcbd8a7b341bd9b02u64.to_be_bytes());
        assert_eq!(name_hash(""), [0; 8]);
    }

    #[test]
    fn the_threshold_counts_names_and_cid_bytes_and_is_reached_at_equality() {
        let child = file(b"x");
        // A CIDv0 is 34 bytes: 4096 links of 30-byte names are exactly 256 KiB.
        let names = |n: usize| (0..n).map(|i| (format!("{i:030}"), child)).collect::<Vec<_>>();
        assert!(needs_sharding(&names(4096)));
        let mut below = names(4095);
        below.push(("a".repeat(29), child));
        assert!(!needs_sharding(&below));
    }

    #[test]
    fn shards_hold_each_entry_once_in_slot_order_with_sub_shards_for_shared_slots() {
        let child = file(b"entry");
        let entries: Vec<(String, Imported)> = (0..600).map(|i| (format!("f{i}"), child)).collect();
        let (root, blocks) = sharded_directory(CidVersion::V0, &entries).unwrap();
        assert_eq!(blocks.last().map(|b| b.cid), Some(root.root));
        let by_cid: std::collections::HashMap<_, _> = blocks.iter().map(|b| (b.cid, &b.data)).collect();
        // Walk the tree: every name comes back once, below the slots its hash names.
        let mut found = Vec::new();
        let mut stack = vec![(root.root, 0usize)];
        while let Some((cid, depth)) = stack.pop() {
            let node = decode_node(by_cid[&cid]).unwrap();
            let unixfs = decode_unixfs(node.data).unwrap();
            assert_eq!((unixfs.kind, unixfs.fanout), (UNIXFS_HAMT_SHARD, Some(256)));
            let mut last = None;
            for link in &node.links {
                let name = link.name.as_str();
                let slot = u8::from_str_radix(&name[..2], 16).unwrap();
                assert!(last < Some(slot), "slots out of order");
                last = Some(slot);
                if name.len() == 2 {
                    stack.push((link.cid, depth + 1));
                } else {
                    assert_eq!(name_hash(&name[2..])[depth], slot);
                    found.push(name[2..].to_owned());
                }
            }
        }
        found.sort();
        let mut expected: Vec<String> = entries.iter().map(|(n, _)| n.clone()).collect();
        expected.sort();
        assert_eq!(found, expected);
        assert!(blocks.len() > 1, "600 names in 256 slots share some");
    }
}
