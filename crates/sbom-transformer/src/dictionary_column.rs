//! Parquet column chunks of text that repeats from row to row (versions,
//! package types, the `cve` table's package, vulnerability and severity),
//! dictionary-encoded directly from the borrowed rows.
//!
//! Through Arrow, each value was copied into a `StringBuilder` and then
//! hashed and compared by the Parquet writer's interner, whose table grew
//! from small. Here a value is hashed once, and not at all when it equals
//! the row before's (a package's findings are consecutive rows); only the
//! distinct values are copied, into the dictionary page. The chunk is what
//! that writer produces: a `PLAIN` dictionary page in first-seen order,
//! then v1 data pages of `RLE_DICTIONARY` indices with `RLE` definition
//! levels, snappy. A chunk whose distinct values pass the writer's
//! dictionary page limit is written whole by [`plain_column`] instead
//! (the Parquet writer would switch to plain pages in the middle of it).

use std::borrow::Cow;
use std::hash::BuildHasher;

use parquet::basic::Encoding;
use parquet::column::page::{Page, PageWriteSpec, PageWriter};
use parquet::errors::{ParquetError, Result};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::column_chunk::{
    hybrid, levels_bound, push_plain, EncodedChunk, PageCompressor, PAGE_ROWS,
};
use crate::plain_column;

/// The dictionary page's limit: the Parquet writer's default.
const DICTIONARY_BYTES: usize = parquet::file::properties::DEFAULT_DICTIONARY_PAGE_SIZE_LIMIT;

/// Encodes one column chunk of `column` with a row per item of `values`.
pub fn encode<'v>(
    column: ColumnDescPtr,
    values: impl ExactSizeIterator<Item = Option<Cow<'v, str>>>,
    compressor: &mut PageCompressor,
) -> Result<EncodedChunk> {
    let mut chunk = DictionaryColumn::new(column, values.len());
    for value in values {
        chunk.push(value.as_deref(), compressor)?;
    }
    chunk.finish(compressor)
}

/// A column chunk being built a row at a time (see
/// [`PlainColumn`](plain_column::PlainColumn) for why): the distinct values
/// and each row's index until the dictionary passes its limit, then a
/// plain chunk that the rows so far are replayed into.
pub struct DictionaryColumn {
    column: ColumnDescPtr,
    optional: bool,
    rows: usize,
    chunk: Chunk,
}

enum Chunk {
    Dictionary(Dictionary),
    Plain(plain_column::PlainColumn),
}

/// A chunk's distinct values and each row's index among them.
#[derive(Default)]
struct Dictionary {
    interner: Interner,
    /// Which rows have a value.
    present: Vec<bool>,
    /// The dictionary index of each row that has a value.
    indices: Vec<u32>,
    /// The row before's index: a run compares with it and skips the hash.
    last: Option<u32>,
}

impl DictionaryColumn {
    /// An empty chunk of `column` that will have `rows` rows.
    pub fn new(column: ColumnDescPtr, rows: usize) -> Self {
        DictionaryColumn {
            optional: column.max_def_level() > 0,
            column,
            rows,
            chunk: Chunk::Dictionary(Dictionary {
                present: Vec::with_capacity(rows),
                indices: Vec::with_capacity(rows),
                ..Default::default()
            }),
        }
    }

    /// Adds the next row's value.
    #[inline]
    pub fn push(&mut self, value: Option<&str>, compressor: &mut PageCompressor) -> Result<()> {
        let d = match &mut self.chunk {
            Chunk::Dictionary(d) => d,
            Chunk::Plain(plain) => return plain.push(value, compressor),
        };
        let Some(text) = value else {
            if !self.optional {
                return Err(ParquetError::General(format!(
                    "column {} is required but row {} of its row group is null",
                    self.column.path(),
                    d.present.len()
                )));
            }
            d.present.push(false);
            return Ok(());
        };
        d.present.push(true);
        let index = match d.last {
            Some(index) if same(d.interner.text(index), text.as_bytes()) => index,
            _ => d.interner.index(&self.column, text)?,
        };
        d.last = Some(index);
        d.indices.push(index);
        if d.interner.plain.len() > DICTIONARY_BYTES {
            self.continue_plain(compressor)?;
        }
        Ok(())
    }

    /// Continues as a plain chunk, the rows so far replayed into it.
    #[cold]
    fn continue_plain(&mut self, compressor: &mut PageCompressor) -> Result<()> {
        let mut plain = plain_column::PlainColumn::new(self.column.clone(), self.rows);
        if let Chunk::Dictionary(d) = &self.chunk {
            let mut indices = d.indices.iter();
            for &present in &d.present {
                let text = match present {
                    true => {
                        let index = *indices.next().expect("an index for each present row");
                        Some(std::str::from_utf8(d.interner.text(index)).expect("interned strs"))
                    }
                    false => None,
                };
                plain.push(text, compressor)?;
            }
        }
        self.chunk = Chunk::Plain(plain);
        Ok(())
    }

    /// The chunk: a dictionary page and index pages, or plain pages when
    /// the distinct values passed [`DICTIONARY_BYTES`] or there are none
    /// (a chunk of nulls or of no rows, which plain encoding writes without
    /// a dictionary).
    pub fn finish(mut self, compressor: &mut PageCompressor) -> Result<EncodedChunk> {
        if matches!(&self.chunk, Chunk::Dictionary(d) if d.interner.spans.is_empty()) {
            self.continue_plain(compressor)?;
        }
        let d = match self.chunk {
            Chunk::Dictionary(d) => d,
            Chunk::Plain(plain) => return plain.finish(compressor),
        };
        let rows = d.present.len();
        let entries = d.interner.spans.len() as u32;
        let mut sink = TrackedWrite::new(Vec::new());
        let mut pages = SerializedPageWriter::new(&mut sink);
        let mut written: Vec<PageWriteSpec> = Vec::with_capacity(1 + rows / PAGE_ROWS + 1);
        written.push(compressor.write(&mut pages, &d.interner.plain, |buf| {
            Page::DictionaryPage {
                buf,
                num_values: entries,
                encoding: Encoding::PLAIN,
                is_sorted: false,
            }
        })?);
        // Width 1 at least, as for a one-entry dictionary Arrow C++ writes.
        let width = (u32::BITS - (entries - 1).leading_zeros()).max(1) as u8;
        let mut indices = d.indices.as_slice();
        let mut raw = Vec::new();
        for present in d.present.chunks(PAGE_ROWS) {
            raw.clear();
            if self.optional {
                let mut levels = Vec::with_capacity(levels_bound(present.len()));
                hybrid(&mut levels, present, 1);
                raw.extend_from_slice(&(levels.len() as u32).to_le_bytes());
                raw.extend_from_slice(&levels);
            }
            let (page, rest) = indices.split_at(present.iter().filter(|&&p| p).count());
            indices = rest;
            raw.push(width);
            hybrid(&mut raw, page, width);
            written.push(compressor.write(&mut pages, &raw, |buf| Page::DataPage {
                buf,
                num_values: present.len() as u32,
                encoding: Encoding::RLE_DICTIONARY,
                def_level_encoding: Encoding::RLE,
                rep_level_encoding: Encoding::RLE,
                statistics: None,
            })?);
        }
        pages.close()?;
        EncodedChunk::finish(self.column, sink, &written, rows, true, None)
    }
}

/// The distinct values, stored only in the dictionary page being built:
/// a probe compares with that compact copy rather than with the value's
/// first occurrence among the rows, which is a cache miss away.
#[derive(Default)]
struct Interner {
    plain: Vec<u8>,
    /// Each entry's text in `plain` (after its length) and hash.
    spans: Vec<(usize, usize, u64)>,
    /// Entry indices by hash.
    table: hashbrown::HashTable<u32>,
    state: foldhash::fast::RandomState,
}

impl Interner {
    fn text(&self, index: u32) -> &[u8] {
        let (start, len, _) = self.spans[index as usize];
        &self.plain[start..start + len]
    }

    /// The index of `text`, a new entry if it is new.
    fn index(&mut self, column: &ColumnDescPtr, text: &str) -> Result<u32> {
        let hash = self.state.hash_one(text.as_bytes());
        let (plain, spans) = (&self.plain, &self.spans);
        let found = self.table.find(hash, |&i| {
            let (start, len, h) = spans[i as usize];
            h == hash && same(&plain[start..start + len], text.as_bytes())
        });
        if let Some(&index) = found {
            return Ok(index);
        }
        let index = spans.len() as u32;
        push_plain(&mut self.plain, column, text)?;
        self.spans
            .push((self.plain.len() - text.len(), text.len(), hash));
        let spans = &self.spans;
        self.table
            .insert_unique(hash, index, |&i| spans[i as usize].2);
        Ok(index)
    }
}

/// Byte equality of two short texts without a call into libc: versions,
/// CVE ids and package types are mostly 4 to 32 bytes, and `memcmp` (behind
/// `==`) was 7 % of the in-process conversion's samples (`perf`, BENCHMARKS
/// "Session 9"; callgrind there: 8 M fewer instructions at 100 k). Two
/// overlapping loads from each end cover any length from one load's width
/// to two.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let u64_at = |s: &[u8], i: usize| u64::from_ne_bytes(s[i..i + 8].try_into().unwrap());
    let u32_at = |s: &[u8], i: usize| u32::from_ne_bytes(s[i..i + 4].try_into().unwrap());
    match n {
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4),
        8..=16 => u64_at(a, 0) == u64_at(b, 0) && u64_at(a, n - 8) == u64_at(b, n - 8),
        17..=32 => {
            u64_at(a, 0) == u64_at(b, 0)
                && u64_at(a, 8) == u64_at(b, 8)
                && u64_at(a, n - 16) == u64_at(b, n - 16)
                && u64_at(a, n - 8) == u64_at(b, n - 8)
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::sync::Arc;

    use arrow_array::{Array, ArrayRef, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::arrow::ArrowWriter;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use proptest::prelude::*;

    /// A file of one text column, `values` encoded by [`encode`].
    fn file_of(values: &[Option<String>], nullable: bool) -> Result<Vec<u8>> {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Utf8, nullable)]));
        let (mut file, _) =
            ArrowWriter::try_new(Vec::new(), schema, None)?.into_serialized_writer()?;
        let column = file.schema_descr().column(0);
        let values = values.iter().map(|v| v.as_deref().map(Cow::Borrowed));
        let chunk = encode(column, values, &mut PageCompressor::default())?;
        let mut group = file.next_row_group()?;
        group.append_column(&chunk.bytes, chunk.close)?;
        group.close()?;
        file.into_inner()
    }

    fn read_back(file: &[u8]) -> Vec<Option<String>> {
        let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::copy_from_slice(file))
            .unwrap()
            .build()
            .unwrap();
        let mut out = Vec::new();
        for batch in reader {
            let column: ArrayRef = batch.unwrap().column(0).clone();
            let text = column.as_any().downcast_ref::<StringArray>().unwrap();
            out.extend(
                (0..text.len()).map(|i| text.is_valid(i).then(|| text.value(i).to_string())),
            );
        }
        out
    }

    fn encodings(file: &[u8]) -> Vec<Encoding> {
        let reader = SerializedFileReader::new(Bytes::copy_from_slice(file)).unwrap();
        reader
            .metadata()
            .row_group(0)
            .column(0)
            .encodings()
            .collect()
    }

    #[test]
    fn runs_nulls_and_several_pages_read_back() {
        // 2.5 pages; runs of one value, alternating values, nulls, unicode.
        let values: Vec<Option<String>> = (0..PAGE_ROWS * 5 / 2)
            .map(|i| match i % 100 {
                0..=39 => Some("dpkg".to_string()),
                40..=49 => Some(format!("v{}", i % 3)),
                50..=59 => None,
                _ => Some(["pypi", "ünïcode", ""][i % 3].to_string()),
            })
            .collect();
        let file = file_of(&values, true).unwrap();
        assert_eq!(read_back(&file), values);
        assert!(encodings(&file).contains(&Encoding::RLE_DICTIONARY));
    }

    #[test]
    fn too_many_distinct_values_fall_back_to_plain() {
        // 64-byte values, 20,000 distinct: over the 1 MiB dictionary limit.
        let values: Vec<Option<String>> = (0..20_000).map(|i| Some(format!("{i:064}"))).collect();
        let file = file_of(&values, false).unwrap();
        assert_eq!(read_back(&file), values);
        assert!(!encodings(&file).contains(&Encoding::RLE_DICTIONARY));
    }

    #[test]
    fn all_nulls_and_no_rows_need_no_dictionary() {
        for values in [vec![None; 5], vec![]] {
            let file = file_of(&values, true).unwrap();
            assert_eq!(read_back(&file), values);
        }
    }

    #[test]
    fn a_null_in_a_required_column_names_the_column_and_row() {
        let values = vec![Some("a".to_string()), None];
        let error = file_of(&values, false).unwrap_err().to_string();
        assert!(
            error.contains(r#"column "v" is required but row 1 "#),
            "{error}"
        );
    }

    #[test]
    fn same_finds_a_difference_at_every_position_of_every_length() {
        for n in 0..=40usize {
            let a: Vec<u8> = (0..n as u8).collect();
            assert!(same(&a, &a.clone()), "equal, length {n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x80;
                assert!(!same(&a, &b), "length {n}, differs at {i}");
            }
            assert!(
                !same(&a, &[a.as_slice(), b"x"].concat()),
                "length {n} vs {}",
                n + 1
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn same_is_byte_equality(a in prop::collection::vec(0u8..4, 0..40), b in prop::collection::vec(0u8..4, 0..40)) {
            prop_assert_eq!(same(&a, &b), a == b);
        }

        #[test]
        fn any_values_read_back(
            values in prop::collection::vec(
                prop::option::weighted(0.9, prop::sample::select(vec!["a", "b", "c", "dpkg", "é"])),
                0..400,
            ),
            runs in 1usize..40,
        ) {
            // Each value repeated `runs` times: short and long runs.
            let values: Vec<Option<String>> = values
                .iter()
                .flat_map(|v| std::iter::repeat_n(v.map(str::to_string), runs))
                .collect();
            let file = file_of(&values, true).unwrap();
            prop_assert_eq!(read_back(&file), values);
        }
    }
}
