//! The byte reader both Avro walkers share: the validating scan (before
//! apache-avro's resolution path) and the direct decoder. Every length is
//! checked against the bytes left before anything is taken, so a hostile
//! length prefix can never make either walker allocate.

use super::scan::{bytes, malformed, MAX_EMPTY_ITEMS};
use super::{DecodeError, Path};

pub(super) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// Bytes read so far.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub(super) fn int(&mut self, path: &Path<'_>) -> Result<i32, DecodeError> {
        let v = self.varint(path)?;
        i32::try_from(v).map_err(|_| malformed(path, format!("int value {v} does not fit 32 bits")))
    }

    pub(super) fn string(&mut self, path: &Path<'_>) -> Result<&'a str, DecodeError> {
        let bytes = self.length_prefixed("string", path)?;
        std::str::from_utf8(bytes).map_err(|e| {
            malformed(
                path,
                format!(
                    "string is not valid UTF-8 (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            )
        })
    }

    pub(super) fn length_prefixed(
        &mut self,
        what: &str,
        path: &Path<'_>,
    ) -> Result<&'a [u8], DecodeError> {
        let len = self.varint(path)?;
        let Ok(len) = usize::try_from(len) else {
            return Err(malformed(path, format!("{what} has negative length {len}")));
        };
        self.take(len, what, path)
    }

    #[inline]
    pub(super) fn take(
        &mut self,
        n: usize,
        what: &str,
        path: &Path<'_>,
    ) -> Result<&'a [u8], DecodeError> {
        let remaining = self.buf.len() - self.pos;
        if n > remaining {
            return Err(malformed(
                path,
                format!(
                    "{what} needs {} but only {} remain{}",
                    bytes(n),
                    bytes(remaining),
                    if remaining == 1 { "s" } else { "" }
                ),
            ));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// Zig-zag varint, as `this reader` (and apache-avro) reads it.
    #[inline]
    pub(super) fn varint(&mut self, path: &Path<'_>) -> Result<i64, DecodeError> {
        let mut raw = 0u64;
        for j in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(malformed(
                    path,
                    "payload ends in the middle of a number or length".to_owned(),
                ));
            };
            self.pos += 1;
            raw |= u64::from(b & 0x7f) << (j * 7);
            if b & 0x80 == 0 {
                return Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64));
            }
        }
        Err(malformed(
            path,
            "variable-length integer is longer than 10 bytes".to_owned(),
        ))
    }

    /// The next array/map block's item count (0 at the end): a negative count
    /// is followed by the block's byte size. Checked against the bytes left,
    /// or, for items that may occupy no bytes, against the datum's
    /// `empty_items` budget, so a claimed count never drives allocation.
    pub(super) fn block_count(
        &mut self,
        empty_items: &mut usize,
        zero_sized: bool,
        what: &str,
        path: &Path<'_>,
    ) -> Result<u64, DecodeError> {
        let count = self.varint(path)?;
        if count == 0 {
            return Ok(0);
        }
        if count < 0 {
            self.varint(path)?; // block size in bytes, unused
        }
        let count = count.unsigned_abs();
        let remaining = self.remaining();
        if zero_sized {
            let total = (*empty_items as u64).saturating_add(count);
            if total > MAX_EMPTY_ITEMS as u64 {
                return Err(malformed(
                    path,
                    format!(
                        "array expands to more than {MAX_EMPTY_ITEMS} items that occupy no bytes"
                    ),
                ));
            }
            *empty_items = total as usize;
        } else if count > remaining as u64 {
            return Err(malformed(
                path,
                format!(
                    "{what} block claims {count} items but only {} remain{}",
                    bytes(remaining),
                    if remaining == 1 { "s" } else { "" }
                ),
            ));
        }
        Ok(count)
    }
}
