//! CARv1 archives (`ipfs dag import`): a varint-framed dag-cbor header `{roots: [CID…],
//! version: 1}`, then varint-framed sections of a CID and its block's bytes.

use aleph_core::cid::Cid;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::pb;
use super::IpfsError;

/// Largest CAR header read.
const MAX_HEADER: usize = 64 << 10;
/// Largest section (block) read: boxo's import limit is 2 MiB blocks, with room for the CID.
const MAX_SECTION: usize = (2 << 20) + 256;

fn car_err(why: impl Into<String>) -> IpfsError {
    IpfsError::Car(why.into())
}

/// Blocks are hash-checked in batches of about this many bytes, on a blocking thread (a CAR of
/// 100 MiB is ~0.3 s of SHA-256, which would stall the runtime's worker). A batch's size counts
/// whole sections plus [`ENTRY_OVERHEAD`] each, so that tiny or empty blocks cannot make a batch
/// hold a whole archive in memory.
const CHECK_BATCH: usize = 4 << 20;

/// What one batched block costs beyond its section's bytes (its `Cid`, `Bytes` and list slot).
const ENTRY_OVERHEAD: usize = 128;

/// Reads a CARv1 stream: the header's roots, then calls `block` on each section's block, whose
/// bytes are checked against its CID first (a batch at a time: no block of a batch reaches
/// `block` unless every block before it matched).
pub(crate) async fn read_car<R, F, Fut>(mut reader: R, mut block: F) -> Result<Vec<Cid>, IpfsError>
where
    R: AsyncRead + Unpin,
    F: FnMut(Cid, Bytes) -> Fut,
    Fut: std::future::Future<Output = Result<(), IpfsError>>,
{
    let header_len = read_uvarint(&mut reader).await?.ok_or_else(|| car_err("empty CAR"))?;
    if header_len == 0 || header_len as usize > MAX_HEADER {
        return Err(car_err("CAR header length out of range"));
    }
    let mut header = vec![0u8; header_len as usize];
    reader.read_exact(&mut header).await.map_err(|_| car_err("truncated CAR header"))?;
    let roots = parse_header(&header)?;
    let mut batch: Vec<(Cid, Bytes)> = Vec::new();
    let mut batch_bytes = 0;
    loop {
        let next = read_uvarint(&mut reader).await?;
        if let Some(len) = next {
            let len = usize::try_from(len).map_err(|_| car_err("section too large"))?;
            if len == 0 || len > MAX_SECTION {
                return Err(car_err(format!("a section of {len} bytes is out of range")));
            }
            let mut section = vec![0u8; len];
            reader.read_exact(&mut section).await.map_err(|_| car_err("truncated CAR section"))?;
            let cid_len = cid_len(&section).ok_or_else(|| car_err("a section starts with no valid CID"))?;
            let cid =
                Cid::from_bytes(&section[..cid_len]).map_err(|e| car_err(format!("a section's CID: {e}")))?;
            let data = Bytes::from(section).slice(cid_len..);
            batch_bytes += len + ENTRY_OVERHEAD;
            batch.push((cid, data));
        }
        if batch_bytes >= CHECK_BATCH || (next.is_none() && !batch.is_empty()) {
            let checked = std::mem::take(&mut batch);
            batch_bytes = 0;
            let checked = tokio::task::spawn_blocking(move || {
                match checked.iter().find(|(cid, data)| !super::dag::block_matches(cid, data)) {
                    Some((cid, _)) => {
                        Err(car_err(format!("block {cid} does not match its CID (or is not sha2-256)")))
                    }
                    None => Ok(checked),
                }
            })
            .await
            .map_err(|e| IpfsError::Io(std::io::Error::other(e)))??;
            for (cid, data) in checked {
                block(cid, data).await?;
            }
        }
        if next.is_none() {
            return Ok(roots);
        }
    }
}

/// The length of the binary CID at the front of `bytes`.
fn cid_len(bytes: &[u8]) -> Option<usize> {
    if bytes.len() >= 34 && bytes[0] == 0x12 && bytes[1] == 0x20 {
        return Some(34);
    }
    let mut rest = bytes;
    let version = pb::read_varint(&mut rest).ok()?;
    if version != 1 {
        return None;
    }
    pb::read_varint(&mut rest).ok()?; // codec
    pb::read_varint(&mut rest).ok()?; // hash code
    let digest = usize::try_from(pb::read_varint(&mut rest).ok()?).ok()?;
    let used = bytes.len() - rest.len() + digest;
    (used <= bytes.len()).then_some(used)
}

/// Reads a varint; `None` at a clean end of the stream.
async fn read_uvarint<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<u64>, IpfsError> {
    let mut value = 0u64;
    for i in 0..10 {
        let mut byte = [0u8; 1];
        if reader.read(&mut byte).await? == 0 {
            return if i == 0 { Ok(None) } else { Err(car_err("truncated varint")) };
        }
        value |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            return Ok(Some(value));
        }
    }
    Err(car_err("varint too long"))
}

/// The roots of a dag-cbor header `{"roots": [tag 42 bytes…], "version": 1}`.
fn parse_header(bytes: &[u8]) -> Result<Vec<Cid>, IpfsError> {
    let mut c = Cbor(bytes);
    let entries = c.head(5)?;
    let mut roots = None;
    let mut version = None;
    for _ in 0..entries {
        let key_len = c.head(3)? as usize;
        let key = c.take(key_len)?;
        match key {
            b"roots" => {
                let n = c.head(4)?;
                let mut list = Vec::new();
                for _ in 0..n {
                    if c.head(6)? != 42 {
                        return Err(car_err("a root is not a CID (tag 42)"));
                    }
                    let len = c.head(2)? as usize;
                    let raw = c.take(len)?;
                    // Binary CIDs in dag-cbor start with the multibase identity prefix 0x00.
                    let cid = raw
                        .split_first()
                        .filter(|(z, _)| **z == 0)
                        .and_then(|(_, cid)| Cid::from_bytes(cid).ok())
                        .ok_or_else(|| car_err("a root is not a valid CID"))?;
                    list.push(cid);
                }
                roots = Some(list);
            }
            b"version" => version = Some(c.head(0)?),
            _ => return Err(car_err("unexpected key in the CAR header")),
        }
    }
    if version != Some(1) {
        return Err(car_err("only CARv1 is imported"));
    }
    let roots = roots.ok_or_else(|| car_err("the CAR header has no roots"))?;
    if roots.is_empty() {
        return Err(car_err("the CAR header has no roots"));
    }
    Ok(roots)
}

/// A cursor over the few CBOR items a CAR header holds.
struct Cbor<'a>(&'a [u8]);

impl Cbor<'_> {
    /// Reads an item head of major type `major`; returns its argument.
    fn head(&mut self, major: u8) -> Result<u64, IpfsError> {
        let (&first, rest) = self.0.split_first().ok_or_else(|| car_err("truncated CAR header"))?;
        self.0 = rest;
        if first >> 5 != major {
            return Err(car_err("malformed CAR header"));
        }
        let n = match first & 0x1f {
            n @ 0..=23 => return Ok(u64::from(n)),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            _ => return Err(car_err("malformed CAR header")),
        };
        let bytes = self.take(n)?;
        Ok(bytes.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], IpfsError> {
        if n > self.0.len() {
            return Err(car_err("truncated CAR header"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
}

/// Writes a CARv1 with `roots` and `blocks` (for tests and exports).
pub fn write_car(roots: &[Cid], blocks: &[super::Block]) -> Vec<u8> {
    let mut header = vec![0xa2, 0x65];
    header.extend_from_slice(b"roots");
    header.push(0x80 | roots.len() as u8);
    for root in roots {
        let bytes = root.to_bytes();
        header.extend_from_slice(&[0xd8, 0x2a, 0x58, (bytes.len() + 1) as u8, 0x00]);
        header.extend_from_slice(&bytes);
    }
    header.push(0x67);
    header.extend_from_slice(b"version");
    header.push(0x01);
    let mut out = Vec::new();
    pb::put_varint(&mut out, header.len() as u64);
    out.extend_from_slice(&header);
    for block in blocks {
        let cid = block.cid.to_bytes();
        pb::put_varint(&mut out, (cid.len() + block.data.len()) as u64);
        out.extend_from_slice(&cid);
        out.extend_from_slice(&block.data);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipfs::dag::{Block, FileImporter, ImportOptions};
    use aleph_core::cid::CidVersion;

    #[tokio::test]
    async fn cars_round_trip_and_bad_blocks_are_refused() {
        let mut importer = FileImporter::new(ImportOptions::for_version(CidVersion::V1));
        importer.update(&vec![7u8; 600_000]);
        let (imported, blocks) = importer.finish();
        let car = write_car(&[imported.root], &blocks);
        let mut seen = Vec::new();
        let roots = read_car(&car[..], |cid, _| {
            seen.push(cid);
            async { Ok(()) }
        })
        .await
        .unwrap();
        assert_eq!(roots, vec![imported.root]);
        assert_eq!(seen.len(), blocks.len());
        // A flipped byte in the last block's data.
        let mut bad = car.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let err = read_car(&bad[..], |_, _| async { Ok(()) }).await.unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
        assert!(read_car(&b"\x05hello"[..], |_, _| async { Ok(()) }).await.is_err());

        // Over several check batches: what precedes the batch of a bad block is delivered, in
        // order, and nothing of that batch is.
        let mut importer = FileImporter::new(ImportOptions::for_version(CidVersion::V1));
        importer.update(&(0..3 * CHECK_BATCH).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        let (imported, blocks) = importer.finish();
        let car = write_car(&[imported.root], &blocks);
        let mut seen = Vec::new();
        read_car(&car[..], |cid, _| {
            seen.push(cid);
            async { Ok(()) }
        })
        .await
        .unwrap();
        assert_eq!(seen, blocks.iter().map(|b| b.cid).collect::<Vec<_>>());
        // 256 KiB leaves: a batch closes after 16 of them (16 sections pass 4 MiB, 15 do not).
        let per_batch = CHECK_BATCH.div_ceil((256 << 10) + 36 + ENTRY_OVERHEAD);
        assert_eq!(per_batch, 16);
        let mut bad = blocks.clone();
        let mut leaf = bad[per_batch + 4].data.to_vec();
        leaf[0] ^= 1;
        bad[per_batch + 4].data = Bytes::from(leaf);
        let mut delivered = 0;
        let err = read_car(&write_car(&[imported.root], &bad)[..], |_, _| {
            delivered += 1;
            async { Ok(()) }
        })
        .await
        .unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
        assert_eq!(delivered, per_batch, "the first batch only");
        // One-byte blocks: a batch is bounded by their count too, not by their bytes alone.
        let tiny = Block::new(CidVersion::V1, aleph_core::cid::Codec::RAW, Bytes::from_static(b"x"));
        let per_batch = CHECK_BATCH.div_ceil(36 + 1 + ENTRY_OVERHEAD);
        let mut many = vec![tiny; per_batch + 1000];
        many[per_batch + 10].data = Bytes::from_static(b"y");
        let mut delivered = 0;
        read_car(&write_car(&[many[0].cid], &many)[..], |_, _| {
            delivered += 1;
            async { Ok(()) }
        })
        .await
        .unwrap_err();
        assert_eq!(delivered, per_batch);
    }
}
