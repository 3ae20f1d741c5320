//! The little of protobuf the IPFS formats need (dag-pb, UnixFS, bitswap): varints and
//! length-delimited fields, written and read without a schema compiler.

/// Why protobuf bytes cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed protobuf: {0}")]
pub struct PbError(pub &'static str);

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint from the front of `buf`, advancing it.
pub(crate) fn read_varint(buf: &mut &[u8]) -> Result<u64, PbError> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&byte, rest) = buf.split_first().ok_or(PbError("truncated varint"))?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(PbError("varint too long"))
}

/// A varint field.
pub(crate) fn put_uint(out: &mut Vec<u8>, field: u32, v: u64) {
    put_varint(out, u64::from(field << 3));
    put_varint(out, v);
}

/// A length-delimited field.
pub(crate) fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, u64::from(field << 3 | 2));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// One field's value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// Fixed 32- and 64-bit values, which none of our messages use.
    Fixed,
}

impl<'a> Value<'a> {
    pub(crate) fn uint(self) -> Result<u64, PbError> {
        match self {
            Value::Varint(v) => Ok(v),
            _ => Err(PbError("expected a varint")),
        }
    }

    pub(crate) fn bytes(self) -> Result<&'a [u8], PbError> {
        match self {
            Value::Bytes(b) => Ok(b),
            _ => Err(PbError("expected bytes")),
        }
    }
}

/// The fields of a message, in order.
pub(crate) struct Fields<'a>(pub(crate) &'a [u8]);

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), PbError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        Some(self.read())
    }
}

impl<'a> Fields<'a> {
    fn read(&mut self) -> Result<(u32, Value<'a>), PbError> {
        let key = read_varint(&mut self.0)?;
        let field = u32::try_from(key >> 3).map_err(|_| PbError("field number too large"))?;
        let value = match key & 7 {
            0 => Value::Varint(read_varint(&mut self.0)?),
            2 => {
                let len =
                    usize::try_from(read_varint(&mut self.0)?).map_err(|_| PbError("length too large"))?;
                if len > self.0.len() {
                    return Err(PbError("truncated field"));
                }
                let (bytes, rest) = self.0.split_at(len);
                self.0 = rest;
                Value::Bytes(bytes)
            }
            1 => self.skip(8)?,
            5 => self.skip(4)?,
            _ => return Err(PbError("unsupported wire type")),
        };
        Ok((field, value))
    }

    fn skip(&mut self, n: usize) -> Result<Value<'a>, PbError> {
        if n > self.0.len() {
            return Err(PbError("truncated field"));
        }
        self.0 = &self.0[n..];
        Ok(Value::Fixed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_truncation_is_refused() {
        let mut out = Vec::new();
        put_uint(&mut out, 1, 300);
        put_bytes(&mut out, 2, b"abc");
        let fields: Vec<_> = Fields(&out).collect::<Result<_, _>>().unwrap();
        assert_eq!(fields[0].0, 1);
        assert_eq!(fields[0].1.uint().unwrap(), 300);
        assert_eq!(fields[1].1.bytes().unwrap(), b"abc");
        assert!(Fields(&out[..out.len() - 1]).collect::<Result<Vec<_>, _>>().is_err());
    }
}
