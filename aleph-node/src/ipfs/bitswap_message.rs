//! Bitswap messages (`/ipfs/bitswap/1.2.0`, as boxo's `message.proto`): a want list, blocks with
//! their CID prefix, and block presences, framed on a stream by a varint length.

use aleph_core::cid::{Cid, CidVersion, Codec, Multihash};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::pb::{self, Fields, PbError};

/// The largest message read from a peer (boxo sends at most ~4 MiB).
pub(crate) const MAX_MESSAGE: usize = 8 << 20;

/// What a want-list entry asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WantType {
    Block,
    Have,
}

/// One want-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) cid: Cid,
    pub(crate) priority: i32,
    pub(crate) cancel: bool,
    pub(crate) want_type: WantType,
    pub(crate) send_dont_have: bool,
}

/// A block presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Presence {
    pub(crate) cid: Cid,
    pub(crate) have: bool,
}

/// A bitswap message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Message {
    pub(crate) entries: Vec<Entry>,
    pub(crate) full: bool,
    /// Blocks with their CID (received ones: the CID rebuilt from the prefix and the bytes' hash;
    /// `None` when the prefix names a hash this node cannot compute).
    pub(crate) blocks: Vec<(Option<Cid>, Bytes)>,
    pub(crate) presences: Vec<Presence>,
}

impl Message {
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.blocks.is_empty() && self.presences.is_empty() && !self.full
    }

    /// Size of the block bytes carried.
    pub(crate) fn block_bytes(&self) -> usize {
        self.blocks.iter().map(|(_, b)| b.len()).sum()
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(self.block_bytes() + 64 * (self.entries.len() + self.blocks.len() + 1));
        if !self.entries.is_empty() || self.full {
            let mut wantlist = Vec::new();
            let mut entry = Vec::new();
            for e in &self.entries {
                entry.clear();
                pb::put_bytes(&mut entry, 1, &e.cid.to_bytes());
                pb::put_uint(&mut entry, 2, e.priority as u64);
                if e.cancel {
                    pb::put_uint(&mut entry, 3, 1);
                }
                if e.want_type == WantType::Have {
                    pb::put_uint(&mut entry, 4, 1);
                }
                if e.send_dont_have {
                    pb::put_uint(&mut entry, 5, 1);
                }
                pb::put_bytes(&mut wantlist, 1, &entry);
            }
            if self.full {
                pb::put_uint(&mut wantlist, 2, 1);
            }
            pb::put_bytes(&mut out, 1, &wantlist);
        }
        let mut block = Vec::new();
        for (cid, data) in &self.blocks {
            let Some(cid) = cid else { continue };
            block.clear();
            pb::put_bytes(&mut block, 1, &prefix_of(cid));
            pb::put_bytes(&mut block, 2, data);
            pb::put_bytes(&mut out, 3, &block);
        }
        let mut presence = Vec::new();
        for p in &self.presences {
            presence.clear();
            pb::put_bytes(&mut presence, 1, &p.cid.to_bytes());
            pb::put_uint(&mut presence, 2, u64::from(!p.have));
            pb::put_bytes(&mut out, 4, &presence);
        }
        out
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<Message, PbError> {
        let mut m = Message::default();
        for field in Fields(bytes) {
            match field? {
                (1, v) => {
                    for f in Fields(v.bytes()?) {
                        match f? {
                            (1, v) => m.entries.push(decode_entry(v.bytes()?)?),
                            (2, v) => m.full = v.uint()? != 0,
                            _ => {}
                        }
                    }
                }
                // Bitswap 1.0.0 blocks: CIDv0 implied.
                (2, v) => {
                    let data = Bytes::copy_from_slice(v.bytes()?);
                    let cid = Cid::new_v0(Multihash::sha2_256(Sha256::digest(&data).into())).ok();
                    m.blocks.push((cid, data));
                }
                (3, v) => {
                    let mut prefix: &[u8] = &[];
                    let mut data: &[u8] = &[];
                    for f in Fields(v.bytes()?) {
                        match f? {
                            (1, v) => prefix = v.bytes()?,
                            (2, v) => data = v.bytes()?,
                            _ => {}
                        }
                    }
                    let data = Bytes::copy_from_slice(data);
                    m.blocks.push((cid_from_prefix(prefix, &data)?, data));
                }
                (4, v) => {
                    let mut cid = None;
                    let mut have = true;
                    for f in Fields(v.bytes()?) {
                        match f? {
                            (1, v) => cid = Cid::from_bytes(v.bytes()?).ok(),
                            (2, v) => have = v.uint()? == 0,
                            _ => {}
                        }
                    }
                    if let Some(cid) = cid {
                        m.presences.push(Presence { cid, have });
                    }
                }
                _ => {}
            }
        }
        Ok(m)
    }
}

fn decode_entry(bytes: &[u8]) -> Result<Entry, PbError> {
    let mut cid = None;
    let mut e = Entry {
        cid: Cid::new_v1(Codec::RAW, Multihash::sha2_256([0; 32])),
        priority: 1,
        cancel: false,
        want_type: WantType::Block,
        send_dont_have: false,
    };
    for f in Fields(bytes) {
        match f? {
            (1, v) => cid = Some(Cid::from_bytes(v.bytes()?).map_err(|_| PbError("invalid CID in a want"))?),
            (2, v) => e.priority = v.uint()? as i32,
            (3, v) => e.cancel = v.uint()? != 0,
            (4, v) => e.want_type = if v.uint()? == 1 { WantType::Have } else { WantType::Block },
            (5, v) => e.send_dont_have = v.uint()? != 0,
            _ => {}
        }
    }
    e.cid = cid.ok_or(PbError("a want without a CID"))?;
    Ok(e)
}

/// The CID prefix bitswap sends with a block: version, codec, hash code, digest length.
fn prefix_of(cid: &Cid) -> Vec<u8> {
    let mut out = Vec::with_capacity(8);
    pb::put_varint(&mut out, if cid.version() == CidVersion::V0 { 0 } else { 1 });
    pb::put_varint(&mut out, cid.codec().code());
    pb::put_varint(&mut out, cid.hash().code());
    pb::put_varint(&mut out, cid.hash().digest().len() as u64);
    out
}

/// The CID of `data` under `prefix`; `None` when its hash is not sha2-256 (not computed here).
fn cid_from_prefix(mut prefix: &[u8], data: &[u8]) -> Result<Option<Cid>, PbError> {
    let version = pb::read_varint(&mut prefix)?;
    let codec = pb::read_varint(&mut prefix)?;
    let code = pb::read_varint(&mut prefix)?;
    let len = pb::read_varint(&mut prefix)?;
    if code != 0x12 || len != 32 {
        return Ok(None);
    }
    let hash = Multihash::sha2_256(Sha256::digest(data).into());
    Ok(match version {
        0 if codec == Codec::DAG_PB.code() => Cid::new_v0(hash).ok(),
        1 => Some(Cid::new_v1(Codec::from_code(codec), hash)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::dag::Block;

    #[test]
    fn messages_round_trip_and_block_cids_come_from_the_bytes() {
        let block = Block::new(CidVersion::V0, Codec::DAG_PB, Bytes::from_static(b"\x0a\x02\x08\x02"));
        let raw = Block::new(CidVersion::V1, Codec::RAW, Bytes::from_static(b"raw"));
        let m = Message {
            entries: vec![Entry {
                cid: raw.cid,
                priority: 5,
                cancel: false,
                want_type: WantType::Have,
                send_dont_have: true,
            }],
            full: true,
            blocks: vec![(Some(block.cid), block.data.clone()), (Some(raw.cid), raw.data.clone())],
            presences: vec![Presence { cid: block.cid, have: false }],
        };
        assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        // Other bytes under the same prefix give another CID: the receiver sees it is not what it
        // asked for.
        let forged =
            Message { blocks: vec![(Some(raw.cid), Bytes::from_static(b"forged"))], ..Default::default() };
        let decoded = Message::decode(&forged.encode()).unwrap();
        assert_ne!(decoded.blocks[0].0, Some(raw.cid));
    }
}
