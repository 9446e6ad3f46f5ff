//! The primitives of the wire format (spec §2.1): big-endian `u16` and
//! `u32`, one-byte booleans, `str` (u16 length + bytes, length 0 meaning
//! absent) and `opaque` (u32 length + bytes).
//!
//! [`Reader`] reads them from an untrusted byte slice and answers short or
//! bad input with a [`DecodeError`] naming the field, never with a panic.
//! [`Writer`] writes them; a value the format cannot carry (a `str` over
//! 65535 bytes, an `opaque` or count over `u32::MAX`) makes
//! [`Writer::finish`] fail with an [`EncodeError`] instead of being cut
//! silently.

use thiserror::Error;

/// Longest `str` the format can carry (its length is a u16).
pub const MAX_STR_LEN: usize = u16::MAX as usize;

/// Why bytes could not be read as the expected field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated {field}: needs {needed} bytes, {remaining} left")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A count announces more items than the remaining bytes could hold,
    /// caught before any item is read (so no huge allocation happens).
    #[error("{field} count {count} cannot fit in the {remaining} bytes left")]
    CountTooLarge {
        /// The counted field.
        field: &'static str,
        /// The count read.
        count: u32,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A text field that must be UTF-8 (identities) is not.
    #[error("{field} is not valid UTF-8")]
    BadUtf8 {
        /// The field being read.
        field: &'static str,
    },
    /// A field holds a value this protocol does not define.
    #[error("{field} has the unexpected value {value:#x}")]
    BadValue {
        /// The field being read.
        field: &'static str,
        /// The value found.
        value: u32,
    },
}

/// Why a value could not be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// A length or count does not fit its length field.
    #[error("{field} is {len} long, more than the format's {max}")]
    TooLong {
        /// The field being written.
        field: &'static str,
        /// Its length (bytes, or items for a count).
        len: usize,
        /// The most the length field can express.
        max: usize,
    },
    /// A value the protocol cannot express (see the message).
    #[error("{field} cannot be written: {reason}")]
    Invalid {
        /// The field being written.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Reads primitives from a byte slice, front to back.
///
/// Every method names the field it reads, for the error. Trailing bytes
/// after the fields a message defines are the caller's to ignore (spec
/// §1.2 requires ignoring them).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Whether everything has been read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Offset of the next byte from the start of the slice.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(DecodeError::Truncated { field, needed: n, remaining });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: usize, field: &'static str) -> Result<(), DecodeError> {
        self.bytes(n, field).map(drop)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let out = &self.buf[self.pos..];
        self.pos = self.buf.len();
        out
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.bytes(N, field)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(field)?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.array(field).map(u16::from_be_bytes)
    }

    /// A big-endian u32.
    pub fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.array(field).map(u32::from_be_bytes)
    }

    /// A boolean byte: any non-zero value is true, as libmeanwhile reads it.
    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        Ok(self.u8(field)? != 0)
    }

    /// The bytes of a `str`, unchecked (empty when absent).
    pub fn str_bytes(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u16(field)?;
        self.bytes(usize::from(len), field)
    }

    /// A `str` that must be UTF-8: identities (user ids, login ids,
    /// communities, names), which become keys elsewhere. Absent reads as "".
    pub fn string(&mut self, field: &'static str) -> Result<String, DecodeError> {
        let bytes = self.str_bytes(field)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::BadUtf8 { field })
    }

    /// A `str` of free text (status messages, IM and chat text): invalid
    /// UTF-8 is replaced, not refused. The spec (§2.1) asks not to reject
    /// such text: old clients may send other encodings, and losing a
    /// character is better than losing the message.
    pub fn text(&mut self, field: &'static str) -> Result<String, DecodeError> {
        Ok(String::from_utf8_lossy(self.str_bytes(field)?).into_owned())
    }

    /// The contents of an `opaque`.
    pub fn opaque(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u32(field)?;
        // A u32 always fits usize on the 32- and 64-bit targets Simul runs on;
        // saturating keeps a 16-bit target an error instead of a wrap.
        self.bytes(usize::try_from(len).unwrap_or(usize::MAX), field)
    }

    /// A u32 item count, checked against the bytes left given that every
    /// item takes at least `min_item_len` bytes.
    pub fn count(
        &mut self,
        field: &'static str,
        min_item_len: usize,
    ) -> Result<usize, DecodeError> {
        let count = self.u32(field)?;
        let items = usize::try_from(count).unwrap_or(usize::MAX);
        let remaining = self.remaining();
        if items.saturating_mul(min_item_len.max(1)) > remaining {
            return Err(DecodeError::CountTooLarge { field, count, remaining });
        }
        Ok(items)
    }

    /// A nested reader over the contents of an `opaque`.
    pub fn nested(&mut self, field: &'static str) -> Result<Reader<'a>, DecodeError> {
        self.opaque(field).map(Reader::new)
    }
}

/// Writes primitives into a growing buffer.
///
/// Methods never fail; the first value that cannot be written is kept and
/// returned by [`finish`](Self::finish), so message writers read like the
/// layout tables of the spec.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    error: Option<EncodeError>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written, or the first error.
    pub fn finish(self) -> Result<Vec<u8>, EncodeError> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self.buf),
        }
    }

    /// Records `error` unless an earlier one is already recorded.
    pub fn fail(&mut self, error: EncodeError) {
        self.error.get_or_insert(error);
    }

    /// Raw bytes, no length.
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    /// One byte.
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.buf.push(value);
        self
    }

    /// A big-endian u16.
    pub fn u16(&mut self, value: u16) -> &mut Self {
        self.raw(&value.to_be_bytes())
    }

    /// A big-endian u32.
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.raw(&value.to_be_bytes())
    }

    /// A boolean as 0 or 1.
    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.u8(u8::from(value))
    }

    /// A `str` (an empty one is "absent" on the wire).
    pub fn str(&mut self, field: &'static str, value: &str) -> &mut Self {
        self.str_bytes(field, value.as_bytes())
    }

    /// A `str` from raw bytes.
    pub fn str_bytes(&mut self, field: &'static str, value: &[u8]) -> &mut Self {
        match u16::try_from(value.len()) {
            Ok(len) => self.u16(len).raw(value),
            Err(_) => {
                self.fail(EncodeError::TooLong { field, len: value.len(), max: MAX_STR_LEN });
                self
            }
        }
    }

    /// An `opaque` holding `value`.
    pub fn opaque(&mut self, field: &'static str, value: &[u8]) -> &mut Self {
        match u32::try_from(value.len()) {
            Ok(len) => self.u32(len).raw(value),
            Err(_) => {
                self.fail(too_long_u32(field, value.len()));
                self
            }
        }
    }

    /// An `opaque` whose contents `fill` writes (a nested block).
    pub fn nested(&mut self, field: &'static str, fill: impl FnOnce(&mut Writer)) -> &mut Self {
        let start = self.buf.len();
        self.u32(0);
        fill(self);
        let len = self.buf.len() - start - 4;
        match u32::try_from(len) {
            Ok(len) => self.buf[start..start + 4].copy_from_slice(&len.to_be_bytes()),
            Err(_) => self.fail(too_long_u32(field, len)),
        }
        self
    }

    /// A u32 item count.
    pub fn count(&mut self, field: &'static str, count: usize) -> &mut Self {
        match u32::try_from(count) {
            Ok(count) => self.u32(count),
            Err(_) => {
                self.fail(too_long_u32(field, count));
                self
            }
        }
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Overwrites four bytes at `offset` with `value` (for lengths known
    /// only after the block is written).
    pub(crate) fn patch_u32(&mut self, offset: usize, value: u32) {
        self.buf[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
    }
}

fn too_long_u32(field: &'static str, len: usize) -> EncodeError {
    EncodeError::TooLong { field, len, max: u32::MAX as usize }
}

/// A block of the wire format that reads and writes itself.
pub trait Block: Sized {
    /// Reads the block.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
    /// Writes the block.
    fn write(&self, w: &mut Writer);

    /// Reads the block from the start of `bytes`, ignoring trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::read(&mut Reader::new(bytes))
    }

    /// The block's bytes.
    fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_primitives_big_endian() {
        let mut r =
            Reader::new(&[0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x02, 0x00, 0x02, b'h', b'i']);
        assert_eq!(r.u16("a").unwrap(), 0x1234);
        assert_eq!(r.u32("b").unwrap(), 0xdead_beef);
        assert!(r.bool("c").unwrap(), "any non-zero byte is true");
        assert_eq!(r.string("d").unwrap(), "hi");
        assert!(r.is_empty());
    }

    #[test]
    fn short_input_names_the_field() {
        let mut r = Reader::new(&[0x00, 0x05, b'a']);
        assert_eq!(
            r.string("user_id"),
            Err(DecodeError::Truncated { field: "user_id", needed: 5, remaining: 1 })
        );
        assert_eq!(
            Reader::new(&[1, 2, 3]).u32("reason"),
            Err(DecodeError::Truncated { field: "reason", needed: 4, remaining: 3 })
        );
    }

    #[test]
    fn identities_must_be_utf8_free_text_is_replaced() {
        let bytes = [0x00, 0x02, 0xc3, 0x28];
        assert_eq!(Reader::new(&bytes).string("name"), Err(DecodeError::BadUtf8 { field: "name" }));
        assert_eq!(Reader::new(&bytes).text("desc").unwrap(), "\u{fffd}(");
    }

    #[test]
    fn huge_counts_are_refused_before_reading() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0, 0]);
        assert_eq!(
            r.count("ids", 4),
            Err(DecodeError::CountTooLarge { field: "ids", count: u32::MAX, remaining: 2 })
        );
    }

    #[test]
    fn writer_keeps_first_error() {
        let long = "x".repeat(MAX_STR_LEN + 1);
        let mut w = Writer::new();
        w.str("first", &long).str("second", &long);
        assert_eq!(
            w.finish(),
            Err(EncodeError::TooLong { field: "first", len: MAX_STR_LEN + 1, max: MAX_STR_LEN })
        );
        let mut w = Writer::new();
        w.str("ok", &long[..MAX_STR_LEN]);
        assert_eq!(w.finish().unwrap().len(), 2 + MAX_STR_LEN);
    }

    #[test]
    fn nested_opaque_gets_its_length() {
        let mut w = Writer::new();
        w.nested("inner", |w| {
            w.u16(7).bool(true);
        });
        assert_eq!(w.finish().unwrap(), [0, 0, 0, 3, 0, 7, 1]);
    }
}
