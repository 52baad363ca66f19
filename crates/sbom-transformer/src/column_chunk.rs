//! What the hand-written column encoders ([`constant_column`](crate::constant_column),
//! [`plain_column`](crate::plain_column)) share: the encoded chunk, snappy
//! pages, `PLAIN` byte-array values and RLE runs.

use bytes::Bytes;
use parquet::column::page::{CompressedPage, Page, PageWriteSpec, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::schema::types::ColumnDescPtr;

/// One column chunk encoded by hand, ready for
/// [`SerializedRowGroupWriter::append_column`](parquet::file::writer::SerializedRowGroupWriter::append_column).
#[derive(Debug)]
pub struct EncodedChunk {
    pub bytes: Bytes,
    pub close: ColumnCloseResult,
}

impl EncodedChunk {
    /// A chunk of `rows` rows, without bloom filter or page indexes (its
    /// columns have no statistics to index).
    pub fn new(bytes: Bytes, rows: usize, metadata: ColumnChunkMetaData) -> Self {
        EncodedChunk {
            close: ColumnCloseResult {
                bytes_written: bytes.len() as u64,
                rows_written: rows as u64,
                metadata,
                bloom_filter: None,
                column_index: None,
                offset_index: None,
            },
            bytes,
        }
    }
}

/// Compresses pages with snappy (the raw block format, as Parquet's SNAPPY
/// codec stores pages) into one buffer reused from page to page.
pub struct PageCompressor {
    encoder: snap::raw::Encoder,
    buffer: Vec<u8>,
}

impl Default for PageCompressor {
    fn default() -> Self {
        PageCompressor {
            encoder: snap::raw::Encoder::new(),
            buffer: Vec::new(),
        }
    }
}

impl PageCompressor {
    /// Writes the page `page` makes of `raw` compressed.
    pub fn write(
        &mut self,
        pages: &mut impl PageWriter,
        raw: &[u8],
        page: impl FnOnce(Bytes) -> Page,
    ) -> Result<PageWriteSpec> {
        let most = snap::raw::max_compress_len(raw.len());
        if self.buffer.len() < most {
            self.buffer.resize(most, 0);
        }
        let n = self
            .encoder
            .compress(raw, &mut self.buffer)
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        pages.write_page(CompressedPage::new(
            page(Bytes::copy_from_slice(&self.buffer[..n])),
            raw.len(),
        ))
    }
}

/// Appends `text` `PLAIN`-encoded (its length as a little-endian u32, then
/// its bytes); the error names the column.
pub fn push_plain(out: &mut Vec<u8>, column: &ColumnDescPtr, text: &str) -> Result<()> {
    let len = u32::try_from(text.len()).map_err(|_| {
        ParquetError::General(format!(
            "column {}: a value of {} bytes (at most 4 GiB)",
            column.path(),
            text.len()
        ))
    })?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// An RLE run of the hybrid encoding: the ULEB128 header `count << 1`, then
/// the value in one byte (bit widths up to 8).
pub fn rle_run(out: &mut Vec<u8>, count: u32, value: u8) {
    let mut header = u64::from(count) << 1;
    loop {
        let byte = (header & 0x7f) as u8;
        header >>= 7;
        if header == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.push(value);
}
