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

use parquet::basic::Encoding;
use parquet::column::page::{Page, PageWriteSpec, PageWriter};
use parquet::errors::{ParquetError, Result};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::column_chunk::{
    hybrid, levels_bound, push_plain, EncodedChunk, PageCompressor, PAGE_BYTES, PAGE_ROWS,
};

/// Room kept before a page's values for its definition levels (their
/// length, then the levels), so that the page is compressed in place rather
/// than assembled by a copy.
const LEVELS_ROOM: usize = 4 + levels_bound(PAGE_ROWS);

/// Encodes one column chunk of `column` with a row per item of `values`.
pub fn encode<S: AsRef<str>>(
    column: ColumnDescPtr,
    values: impl ExactSizeIterator<Item = Option<S>>,
    compressor: &mut PageCompressor,
) -> Result<EncodedChunk> {
    let mut chunk = PlainColumn::new(column, values.len());
    for value in values {
        chunk.push(value.as_ref().map(AsRef::as_ref), compressor)?;
    }
    chunk.finish(compressor)
}

/// A column chunk being built a row at a time, so that one pass over a
/// table's rows fills every column (each row's values are read once, while
/// they are in cache, instead of once per column). A full page is
/// compressed at once; the chunk keeps only compressed pages.
pub struct PlainColumn {
    column: ColumnDescPtr,
    optional: bool,
    /// The rows the chunk will have (to size the first page).
    rows: usize,
    sink: TrackedWrite<Vec<u8>>,
    written: Vec<PageWriteSpec>,
    page: PageBuffer,
}

impl PlainColumn {
    /// An empty chunk of `column` that will have `rows` rows.
    pub fn new(column: ColumnDescPtr, rows: usize) -> Self {
        PlainColumn {
            optional: column.max_def_level() > 0,
            column,
            rows,
            sink: TrackedWrite::new(Vec::new()),
            written: Vec::new(),
            page: PageBuffer::new(),
        }
    }

    /// Adds the next row's value.
    #[inline]
    pub fn push(&mut self, value: Option<&str>, compressor: &mut PageCompressor) -> Result<()> {
        let page = &mut self.page;
        match value {
            Some(text) => {
                if page.raw.len() == LEVELS_ROOM && self.written.is_empty() {
                    page.reserve(self.rows, text.len());
                }
                push_plain(&mut page.raw, &self.column, text)?;
                page.present.push(true);
            }
            None if self.optional => page.present.push(false),
            None => return Err(self.required_null()),
        }
        if page.raw.len() - LEVELS_ROOM >= PAGE_BYTES || page.present.len() >= PAGE_ROWS {
            let spec = page.flush(
                self.optional,
                compressor,
                &mut SerializedPageWriter::new(&mut self.sink),
            )?;
            self.written.push(spec);
        }
        Ok(())
    }

    #[cold]
    fn required_null(&self) -> ParquetError {
        ParquetError::General(format!(
            "column {} is required but row {} of its row group is null",
            self.column.path(),
            self.written
                .iter()
                .map(|p| p.num_values as usize)
                .sum::<usize>()
                + self.page.present.len()
        ))
    }

    /// The chunk, its last page written.
    pub fn finish(mut self, compressor: &mut PageCompressor) -> Result<EncodedChunk> {
        let rows = self
            .written
            .iter()
            .map(|p| p.num_values as usize)
            .sum::<usize>()
            + self.page.present.len();
        let mut pages = SerializedPageWriter::new(&mut self.sink);
        if !self.page.present.is_empty() || self.written.is_empty() {
            let spec = self.page.flush(self.optional, compressor, &mut pages)?;
            self.written.push(spec);
        }
        pages.close()?;
        EncodedChunk::finish(self.column, self.sink, &self.written, rows, false, None)
    }
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

    /// Room for the first page, guessed from its first value, so the buffer
    /// is not regrown (a reallocation and a copy each time) from empty; a
    /// misjudged first value only means some regrowth. A page is flushed
    /// once its values pass [`PAGE_BYTES`], so that bounds the guess.
    fn reserve(&mut self, rows: usize, first_len: usize) {
        let rows = rows.min(PAGE_ROWS);
        self.raw.reserve(
            first_len
                .saturating_add(4)
                .saturating_mul(rows)
                .min(PAGE_BYTES),
        );
        self.present.reserve(rows);
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
            let mut levels = Vec::with_capacity(levels_bound(rows));
            hybrid(&mut levels, &self.present, 1);
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
