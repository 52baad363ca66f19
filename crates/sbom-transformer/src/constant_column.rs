//! Parquet column chunks whose rows all hold one value, encoded directly: a
//! dictionary page with the value and a data page with one RLE run, the same
//! few dozen bytes whatever the number of rows.
//!
//! Most of the tables' columns are image-level (the image ARN, account,
//! digest, ...). Given them as Arrow arrays, the Parquet writer would intern
//! the value once per row, a hash and a compare for every image-level cell:
//! the largest single cost of writing a 100 k-package `sbom` table. The
//! chunks written here are what that writer produces for such a column
//! (`PLAIN` dictionary, `RLE_DICTIONARY` data page, `RLE` levels, snappy
//! like every other column of the tables), and they carry exact statistics
//! (min = max = the value) that cost nothing, so readers can prune a file by
//! account, region, repository or digest.

use parquet::basic::Encoding;
use parquet::column::page::{Page, PageWriteSpec, PageWriter};
use parquet::data_type::ByteArray;
use parquet::errors::{ParquetError, Result};
use parquet::file::statistics::Statistics;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::column_chunk::{push_plain, rle_run, EncodedChunk, PageCompressor};

/// The value of an image-level column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Constant<'a> {
    /// A UTF-8 column; `None` is a null on every row (an optional column).
    Text(Option<&'a str>),
    /// An INT64 column (timestamps).
    Int64(i64),
}

/// Encodes `rows` rows of `value` as a column chunk of `column`.
pub fn encode(
    column: ColumnDescPtr,
    value: Constant<'_>,
    rows: usize,
    compressor: &mut PageCompressor,
) -> Result<EncodedChunk> {
    let rows_u32 = u32::try_from(rows).map_err(|_| {
        ParquetError::General(format!(
            "column {}: {rows} rows in one column chunk (at most {})",
            column.path(),
            u32::MAX
        ))
    })?;
    let optional = column.max_def_level() > 0;
    let (dictionary, present) = match value {
        Constant::Text(Some(text)) => {
            let mut plain = Vec::with_capacity(4 + text.len());
            push_plain(&mut plain, &column, text)?;
            (Some(plain), true)
        }
        Constant::Text(None) => (None, false),
        Constant::Int64(n) => (Some(n.to_le_bytes().to_vec()), true),
    };
    if !present && !optional {
        return Err(ParquetError::General(format!(
            "column {} is required but its value is null",
            column.path()
        )));
    }

    let mut data = Vec::with_capacity(16);
    if optional {
        // Definition levels, each 1 (present) or 0 (null): one run, bit
        // width 1, after the 4-byte length that v1 data pages give them.
        let mut levels = Vec::with_capacity(8);
        rle_run(&mut levels, rows_u32, u32::from(present), 1);
        data.extend_from_slice(&(levels.len() as u32).to_le_bytes());
        data.extend_from_slice(&levels);
    }
    if present {
        // Dictionary indices: the bit width, then one run of index 0. Width 1
        // rather than 0, as Arrow C++ writes a one-entry dictionary.
        data.push(1);
        rle_run(&mut data, rows_u32, 0, 1);
    }

    let mut sink = TrackedWrite::new(Vec::with_capacity(128));
    let mut pages = SerializedPageWriter::new(&mut sink);
    let mut written: Vec<PageWriteSpec> = Vec::with_capacity(2);
    if let Some(plain) = &dictionary {
        written.push(
            compressor.write(&mut pages, plain, |buf| Page::DictionaryPage {
                buf,
                num_values: 1,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            })?,
        );
    }
    written.push(compressor.write(&mut pages, &data, |buf| Page::DataPage {
        buf,
        num_values: rows_u32,
        encoding: if present {
            Encoding::RLE_DICTIONARY
        } else {
            Encoding::PLAIN
        },
        def_level_encoding: Encoding::RLE,
        rep_level_encoding: Encoding::RLE,
        statistics: None,
    })?);
    pages.close()?;
    let nulls = if present { 0 } else { rows as u64 };
    let statistics = match value {
        Constant::Text(text) => {
            let v = text.map(|t| ByteArray::from(t.as_bytes().to_vec()));
            Statistics::byte_array(v.clone(), v, None, Some(nulls), false)
        }
        Constant::Int64(n) => Statistics::int64(Some(n), Some(n), None, Some(0), false),
    };
    EncodedChunk::finish(column, sink, &written, rows, present, Some(statistics))
}
