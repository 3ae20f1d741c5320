//! The gossipsub message id of the reference network (NETWORK.md §3.2): the decimal string of
//! SipHash-1-3 with keys (0, 0) over `u64_le(len(data)) ‖ data` — what Rust's
//! `DefaultHasher::new()` gives for a `Vec<u8>` on 64-bit targets. It is written out here rather
//! than taken from `std`, whose algorithm is not guaranteed to stay the same.

/// The message id of a gossip payload, as a decimal string.
pub(crate) fn message_id(data: &[u8]) -> String {
    let mut h = SipHash13::new();
    h.write(&(data.len() as u64).to_le_bytes());
    h.write(data);
    h.finish().to_string()
}

/// SipHash-1-3 with zero keys, fed incrementally.
struct SipHash13 {
    v: [u64; 4],
    tail: u64,
    ntail: usize,
    length: usize,
}

impl SipHash13 {
    fn new() -> Self {
        // Keys k0 = k1 = 0.
        SipHash13 {
            v: [0x736f_6d65_7073_6575, 0x646f_7261_6e64_6f6d, 0x6c79_6765_6e65_7261, 0x7465_6462_7974_6573],
            tail: 0,
            ntail: 0,
            length: 0,
        }
    }

    fn round(&mut self) {
        let v = &mut self.v;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13);
        v[1] ^= v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16);
        v[3] ^= v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21);
        v[3] ^= v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17);
        v[1] ^= v[2];
        v[2] = v[2].rotate_left(32);
    }

    fn compress(&mut self, m: u64) {
        self.v[3] ^= m;
        self.round();
        self.v[0] ^= m;
    }

    fn write(&mut self, bytes: &[u8]) {
        self.length += bytes.len();
        for &b in bytes {
            self.tail |= u64::from(b) << (8 * self.ntail);
            self.ntail += 1;
            if self.ntail == 8 {
                let m = self.tail;
                self.compress(m);
                self.tail = 0;
                self.ntail = 0;
            }
        }
    }

    fn finish(mut self) -> u64 {
        let b = ((self.length as u64 & 0xff) << 56) | self.tail;
        self.compress(b);
        self.v[2] ^= 0xff;
        for _ in 0..3 {
            self.round();
        }
        self.v[0] ^ self.v[1] ^ self.v[2] ^ self.v[3]
    }
}

#[cfg(test)]
mod tests {
    use super::message_id;

    #[test]
    fn reference_test_values() {
        assert_eq!(message_id(b""), "13646096770106105413");
        assert_eq!(message_id(b"hello"), "9754003402134539932");
        assert_eq!(message_id(br#"{"a":1}"#), "17034156829674657847");
    }

    #[test]
    #[allow(deprecated)]
    fn matches_std_default_hasher() {
        use std::hash::{Hash, Hasher};
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 100, 1000] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            let mut h = std::collections::hash_map::DefaultHasher::new();
            data.hash(&mut h);
            assert_eq!(message_id(&data), h.finish().to_string(), "len {len}");
        }
    }
}
