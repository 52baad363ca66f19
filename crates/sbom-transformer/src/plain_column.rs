//! Parquet column chunks of nearly unique text (package names, purls,
//! source paths), `PLAIN`-encoded directly from the borrowed rows.
//!
//! Through Arrow, each of these values was copied four times before it
//! reached the file: into a `StringBuilder`, into the encoder's page buffer
//! (grown by doubling), into a zeroed snappy buffer resized per page, and
//! from the compressed page into the row group. Here a value is copied once
//! into its page, each page is compressed into one reused buffer, and the
//! pages are what that writer produces for such a column: v1 data pages,
//! `PLAIN` values, `RLE` definition levels, snappy, no dictionary and no
//! statistics (see `tables::writer_properties` for why neither).

use bytes::Bytes;
use parquet::basic::{Compression, Encoding, PageType};
use parquet::column::page::{Page, PageWriteSpec, PageWriter};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ColumnChunkMetaData, PageEncodingStats};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::column_chunk::{push_plain, rle_run, EncodedChunk, PageCompressor};

/// A data page is closed once its values pass this many bytes: the Parquet
/// writer's default page size.
const PAGE_BYTES: usize = parquet::file::properties::DEFAULT_PAGE_SIZE;

/// ... or once it holds this many rows, the writer's default row limit.
const PAGE_ROWS: usize = parquet::file::properties::DEFAULT_DATA_PAGE_ROW_COUNT_LIMIT;

/// Bit-packed groups (of eight levels) per run: what one header byte counts.
const GROUPS_PER_RUN: usize = 63;

/// Room kept before a page's values for its definition levels (their
/// length, then at most one byte per group and one header per run), so
/// that the page is compressed in place rather than assembled by a copy.
const LEVELS_ROOM: usize = 4 + PAGE_ROWS / 8 + PAGE_ROWS.div_ceil(GROUPS_PER_RUN * 8) + 8;

/// Encodes one column chunk of `column` with a row per item of `values`.
pub fn encode<'v>(
    column: ColumnDescPtr,
    values: impl ExactSizeIterator<Item = Option<&'v str>>,
) -> Result<EncodedChunk> {
    let rows = values.len();
    let optional = column.max_def_level() > 0;
    let mut sink = TrackedWrite::new(Vec::new());
    let mut pages = SerializedPageWriter::new(&mut sink);
    let mut written: Vec<PageWriteSpec> = Vec::new();
    let mut compressor = PageCompressor::default();
    let mut page = PageBuffer::new();
    for value in values {
        match value {
            Some(text) => {
                push_plain(&mut page.raw, &column, text)?;
                page.present.push(true);
            }
            None if optional => page.present.push(false),
            None => {
                return Err(ParquetError::General(format!(
                    "column {} is required but row {} of its row group is null",
                    column.path(),
                    written.iter().map(|p| p.num_values as usize).sum::<usize>()
                        + page.present.len()
                )))
            }
        }
        if page.raw.len() - LEVELS_ROOM >= PAGE_BYTES || page.present.len() >= PAGE_ROWS {
            written.push(page.flush(optional, &mut compressor, &mut pages)?);
        }
    }
    if !page.present.is_empty() || written.is_empty() {
        written.push(page.flush(optional, &mut compressor, &mut pages)?);
    }
    pages.close()?;
    let bytes = Bytes::from(sink.into_inner()?);

    let size = |f: fn(&PageWriteSpec) -> usize| written.iter().map(f).sum::<usize>() as i64;
    let metadata = ColumnChunkMetaData::builder(column)
        .set_compression(Compression::SNAPPY)
        .set_encodings(vec![Encoding::PLAIN, Encoding::RLE])
        .set_page_encoding_stats(vec![PageEncodingStats {
            page_type: PageType::DATA_PAGE,
            encoding: Encoding::PLAIN,
            count: written.len() as i32,
        }])
        .set_num_values(rows as i64)
        .set_total_compressed_size(size(|p| p.compressed_size))
        .set_total_uncompressed_size(size(|p| p.uncompressed_size))
        .set_data_page_offset(written[0].offset as i64)
        .build()?;
    Ok(EncodedChunk::new(bytes, rows, metadata))
}

/// The page being filled: room for its levels, its `PLAIN` values, and
/// which rows have one.
struct PageBuffer {
    raw: Vec<u8>,
    present: Vec<bool>,
}

impl PageBuffer {
    fn new() -> Self {
        PageBuffer {
            raw: vec![0; LEVELS_ROOM],
            present: Vec::new(),
        }
    }

    /// Writes the page (definition levels, then values) and starts the
    /// next one.
    fn flush(
        &mut self,
        optional: bool,
        compressor: &mut PageCompressor,
        pages: &mut impl PageWriter,
    ) -> Result<PageWriteSpec> {
        let rows = self.present.len();
        let mut start = LEVELS_ROOM;
        if optional {
            let levels = definition_levels(&self.present);
            start -= 4 + levels.len();
            self.raw[start..start + 4].copy_from_slice(&(levels.len() as u32).to_le_bytes());
            self.raw[start + 4..LEVELS_ROOM].copy_from_slice(&levels);
        }
        let spec = compressor.write(pages, &self.raw[start..], |buf| Page::DataPage {
            buf,
            num_values: rows as u32,
            encoding: Encoding::PLAIN,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        })?;
        self.raw.truncate(LEVELS_ROOM);
        self.present.clear();
        Ok(spec)
    }
}

/// Definition levels of bit width 1 in the RLE/bit-packed hybrid: one RLE
/// run when every row has a value (the usual case), else bit-packed runs.
fn definition_levels(present: &[bool]) -> Vec<u8> {
    let mut out = Vec::with_capacity(present.len() / 8 + 8);
    if present.iter().all(|&p| p) {
        rle_run(&mut out, present.len() as u32, 1);
        return out;
    }
    for run in present.chunks(GROUPS_PER_RUN * 8) {
        let groups = run.len().div_ceil(8);
        out.push(((groups as u8) << 1) | 1);
        for group in run.chunks(8) {
            // Level i of a group is bit i, least significant first; the last
            // group is padded with zeros past the page's rows.
            out.push(
                group
                    .iter()
                    .enumerate()
                    .fold(0u8, |byte, (i, &p)| byte | (u8::from(p) << i)),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_one_run_when_all_present_else_bit_packed() {
        assert_eq!(definition_levels(&[true; 10]), vec![10 << 1, 1]);
        // 10 levels: two groups; 1,0,1,1,1,1,1,1 | 1,0 (padded).
        let mut levels = vec![true; 10];
        levels[1] = false;
        levels[9] = false;
        assert_eq!(
            definition_levels(&levels),
            vec![(2 << 1) | 1, 0b1111_1101, 0b0000_0001]
        );
        // 63 groups per run, then a new header.
        let levels = vec![false; 63 * 8 + 1];
        let out = definition_levels(&levels);
        assert_eq!(out[0], (63 << 1) | 1);
        assert_eq!(out[64], (1 << 1) | 1);
        assert_eq!(out.len(), 66);
    }
}
