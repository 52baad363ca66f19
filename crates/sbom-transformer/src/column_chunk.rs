//! What the hand-written column encoders ([`constant_column`](crate::constant_column),
//! [`plain_column`](crate::plain_column), [`dictionary_column`](crate::dictionary_column))
//! share: the encoded chunk, snappy pages, page limits, `PLAIN` byte-array
//! values and the RLE/bit-packed hybrid.

use bytes::Bytes;
use parquet::basic::{Compression, Encoding, PageType};
use parquet::column::page::{CompressedPage, Page, PageWriteSpec, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ColumnChunkMetaData, PageEncodingStats};
use parquet::file::statistics::Statistics;
use parquet::file::writer::TrackedWrite;
use parquet::schema::types::ColumnDescPtr;

/// One column chunk encoded by hand, ready for
/// [`SerializedRowGroupWriter::append_column`](parquet::file::writer::SerializedRowGroupWriter::append_column).
#[derive(Debug)]
pub struct EncodedChunk {
    pub bytes: Bytes,
    pub close: ColumnCloseResult,
}

impl EncodedChunk {
    /// The chunk of `rows` rows whose pages `written` went to `sink` (its
    /// page writer closed): snappy, `RLE` levels, a dictionary page first
    /// when `dictionary` and then `RLE_DICTIONARY` data pages, else `PLAIN`
    /// ones. No bloom filter or page indexes (no page statistics to index).
    pub fn finish(
        column: ColumnDescPtr,
        sink: TrackedWrite<Vec<u8>>,
        written: &[PageWriteSpec],
        rows: usize,
        dictionary: bool,
        statistics: Option<Statistics>,
    ) -> Result<Self> {
        let bytes = Bytes::from(sink.into_inner()?);
        let data_pages = written.len() - usize::from(dictionary);
        let (encodings, mut page_stats) = if dictionary {
            (
                vec![Encoding::PLAIN, Encoding::RLE, Encoding::RLE_DICTIONARY],
                vec![PageEncodingStats {
                    page_type: PageType::DICTIONARY_PAGE,
                    encoding: Encoding::PLAIN,
                    count: 1,
                }],
            )
        } else {
            (vec![Encoding::PLAIN, Encoding::RLE], Vec::new())
        };
        page_stats.push(PageEncodingStats {
            page_type: PageType::DATA_PAGE,
            encoding: if dictionary {
                Encoding::RLE_DICTIONARY
            } else {
                Encoding::PLAIN
            },
            count: data_pages as i32,
        });
        let size = |f: fn(&PageWriteSpec) -> usize| written.iter().map(f).sum::<usize>() as i64;
        let mut metadata = ColumnChunkMetaData::builder(column)
            .set_compression(Compression::SNAPPY)
            .set_encodings(encodings)
            .set_page_encoding_stats(page_stats)
            .set_num_values(rows as i64)
            .set_total_compressed_size(size(|p| p.compressed_size))
            .set_total_uncompressed_size(size(|p| p.uncompressed_size))
            .set_dictionary_page_offset(dictionary.then_some(0))
            .set_data_page_offset(written[usize::from(dictionary)].offset as i64);
        if let Some(statistics) = statistics {
            metadata = metadata.set_statistics(statistics);
        }
        Ok(EncodedChunk {
            close: ColumnCloseResult {
                bytes_written: bytes.len() as u64,
                rows_written: rows as u64,
                metadata: metadata.build()?,
                bloom_filter: None,
                column_index: None,
                offset_index: None,
            },
            bytes,
        })
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
    // Room for both parts at once: at most one reallocation per value.
    out.reserve(4 + text.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// A data page is closed once its values pass this many bytes: the Parquet
/// writer's default page size.
pub const PAGE_BYTES: usize = parquet::file::properties::DEFAULT_PAGE_SIZE;

/// ... or once it holds this many rows, the writer's default row limit.
pub const PAGE_ROWS: usize = parquet::file::properties::DEFAULT_DATA_PAGE_ROW_COUNT_LIMIT;

/// Bit-packed groups (of eight values) per run: what one header byte counts.
const GROUPS_PER_RUN: usize = 63;

/// The most bytes [`hybrid`] writes for `values` values of bit width 1 (a
/// page's definition levels, fewer than `2^20`). Runs are RLE runs of eight
/// or more values and packed groups of eight slots, so there are at most
/// `ceil(values / 8) + 1` of them together; an RLE run costs at most four
/// bytes (a header of at most three and the value), a group one byte plus
/// at most one packed-run header.
pub const fn levels_bound(values: usize) -> usize {
    (values.div_ceil(8) + 1) * 4
}

/// An RLE run of the hybrid encoding: the ULEB128 header `count << 1`, then
/// the value in the fewest whole bytes that hold `width` bits.
pub fn rle_run(out: &mut Vec<u8>, count: u32, value: u32, width: u8) {
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
    out.extend_from_slice(&value.to_le_bytes()[..usize::from(width).div_ceil(8)]);
}

/// `values` (each below `2^width`) in the RLE/bit-packed hybrid that
/// Parquet uses for levels and dictionary indices: eight or more equal
/// values in a row as one RLE run, the others bit-packed in groups of eight
/// (least significant bit first), the last group padded with zeros.
pub fn hybrid<T: Copy + PartialEq>(out: &mut Vec<u8>, values: &[T], width: u8)
where
    u32: From<T>,
{
    // values[packed..i] wait to be bit-packed; a bit-packed run holds whole
    // groups, so an RLE run may only start once they make whole groups.
    let (mut packed, mut i) = (0, 0);
    while i < values.len() {
        let v = values[i];
        let end = i + values[i..].iter().take_while(|&&w| w == v).count();
        let fill = (8 - (i - packed) % 8) % 8;
        if end - i >= fill + 8 {
            bit_packed(out, &values[packed..i + fill], width);
            rle_run(out, (end - i - fill) as u32, u32::from(v), width);
            packed = end;
        }
        i = end;
    }
    bit_packed(out, &values[packed..], width);
}

/// Bit-packed runs of `values`, at most [`GROUPS_PER_RUN`] groups each.
fn bit_packed<T: Copy>(out: &mut Vec<u8>, values: &[T], width: u8)
where
    u32: From<T>,
{
    for run in values.chunks(GROUPS_PER_RUN * 8) {
        let groups = run.len().div_ceil(8);
        out.push(((groups as u8) << 1) | 1);
        let (mut bits, mut held) = (0u64, 0u8);
        let padding = std::iter::repeat_n(0, groups * 8 - run.len());
        for value in run.iter().map(|&v| u32::from(v)).chain(padding) {
            bits |= u64::from(value) << held;
            held += width;
            while held >= 8 {
                out.push(bits as u8);
                bits >>= 8;
                held -= 8;
            }
        }
        // Eight values of `width` bits are `width` whole bytes.
        debug_assert_eq!(held, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(present: &[bool]) -> Vec<u8> {
        let mut out = Vec::new();
        hybrid(&mut out, present, 1);
        out
    }

    #[test]
    fn levels_are_one_run_when_all_present_else_bit_packed() {
        assert_eq!(levels(&[true; 10]), vec![10 << 1, 1]);
        // 10 levels: two groups; 1,0,1,1,1,1,1,1 | 1,0 (padded).
        let mut present = vec![true; 10];
        present[1] = false;
        present[9] = false;
        assert_eq!(
            levels(&present),
            vec![(2 << 1) | 1, 0b1111_1101, 0b0000_0001]
        );
        // 63 groups per run, then a new header.
        let alternating: Vec<bool> = (0..63 * 8 + 1).map(|i| i % 2 == 0).collect();
        let out = levels(&alternating);
        assert_eq!(out[0], (63 << 1) | 1);
        assert_eq!(out[64], (1 << 1) | 1);
        assert_eq!(out.len(), 66);
        assert!(out.len() <= levels_bound(alternating.len()));
    }

    #[test]
    fn a_run_starts_only_after_whole_groups() {
        // 3 distinct values, then 12 equal: 5 of them complete the first
        // group, the other 7 are too few for a run and are packed too.
        let values: Vec<u32> = [1, 2, 3].into_iter().chain([0; 12]).collect();
        let mut out = Vec::new();
        hybrid(&mut out, &values, 2);
        assert_eq!(out, vec![(2 << 1) | 1, 0b0011_1001, 0, 0, 0]);
        // ... but 13 leave 8 after the fill: an RLE run of 8 zeros.
        let values: Vec<u32> = [1, 2, 3].into_iter().chain([0; 13]).collect();
        let mut out = Vec::new();
        hybrid(&mut out, &values, 2);
        assert_eq!(out, vec![(1 << 1) | 1, 0b0011_1001, 0, 8 << 1, 0]);
        // Wide values take whole bytes in a run.
        let mut out = Vec::new();
        hybrid(&mut out, &[0x1_0203u32; 9], 17);
        assert_eq!(out, vec![9 << 1, 0x03, 0x02, 0x01]);
    }
}
