//! The tables' rows: an SBOM's packages and findings with the duplicates
//! removed, in document order, in place.
//!
//! One `sbom` row per (package, version): the join key of the blog's query,
//! so a package found at several paths cannot fan the join out. The row
//! keeps the first occurrence's purl and every distinct location, in order,
//! in `sourceinfo`. One `cve` row per (package, version, vulnerability), the
//! first occurrence's rating. Deduplicating the parsed vectors in place,
//! rather than building a second list of rows, keeps one entry per package
//! in memory while the Parquet files are written.

use std::borrow::Cow;
use std::collections::hash_map::{Entry, HashMap};
use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use crate::prefetch;
use crate::sbom::Sbom;

/// Joins the locations of a package found at several paths in `sourceinfo`.
pub const SOURCE_SEPARATOR: &str = "; ";

/// An SBOM whose packages are distinct (package, version) rows and whose
/// findings are distinct (row, id) pairs; only [`dedup`] makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows<'a> {
    sbom: Sbom<'a>,
    packages_in_document: usize,
    findings_in_document: usize,
}

impl<'a> Rows<'a> {
    /// The deduplicated SBOM: [`Finding::package`] indexes its rows.
    pub fn sbom(&self) -> &Sbom<'a> {
        &self.sbom
    }

    /// Package and vulnerability entries before duplicates were removed.
    pub fn in_document(&self) -> (usize, usize) {
        (self.packages_in_document, self.findings_in_document)
    }
}

/// Where else a package of a row was found.
struct Sources<'s> {
    first: Option<&'s str>,
    more: Vec<&'s str>,
    changed: bool,
}

/// The hasher of keys that are already hashes.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys are hashed")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Removes duplicate packages and findings, keeping document order.
///
/// (package, version) and (row, vulnerability) keys are hashed with foldhash, seeded from the
/// address layout (ASLR): SipHash was a twentieth of a conversion, and a crafted collision only
/// costs a probe (every hit is compared with the key it found).
pub fn dedup(sbom: Sbom<'_>) -> Rows<'_> {
    dedup_with(sbom, &foldhash::quality::RandomState::default())
}

fn dedup_with<'a, S: BuildHasher + Clone>(mut sbom: Sbom<'a>, state: &S) -> Rows<'a> {
    let packages_in_document = sbom.packages.len();
    let findings_in_document = sbom.findings.len();
    // Pass 1, read only: each package's row, and the joined locations of
    // the rows that occur more than once with other locations.
    let mut row_of_package: Vec<u32> = Vec::with_capacity(sbom.packages.len());
    let mut merged: Vec<(u32, String)> = Vec::new();
    {
        // Rows by a hash of (package, version), each hit checked against the
        // row's own package: 16 bytes an entry instead of two string keys,
        // and a true collision only moves the key on.
        let mut row_of: HashMap<u64, u32, BuildHasherDefault<Prehashed>> =
            HashMap::with_capacity_and_hasher(sbom.packages.len(), Default::default());
        let mut first_package: Vec<u32> = Vec::new();
        let mut sources: HashMap<u32, Sources<'_>> = HashMap::new();
        for (i, p) in sbom.packages.iter().enumerate() {
            if let Some(ahead) = sbom.packages.get(i + prefetch::AHEAD) {
                prefetch::text(&ahead.name);
                ahead.version.as_deref().map(prefetch::text);
            }
            let key = (p.name.as_ref(), p.version.as_deref());
            let mut hash = state.hash_one(key);
            let row = loop {
                match row_of.entry(hash) {
                    Entry::Vacant(e) => break *e.insert(first_package.len() as u32),
                    Entry::Occupied(e) => {
                        let row = *e.get();
                        let q = &sbom.packages[first_package[row as usize] as usize];
                        if (q.name.as_ref(), q.version.as_deref()) == key {
                            break row;
                        }
                        hash = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
                    }
                }
            };
            row_of_package.push(row);
            if row as usize == first_package.len() {
                first_package.push(i as u32);
                continue;
            }
            let Some(s) = p.source_info.as_deref() else {
                continue;
            };
            let first = &sbom.packages[first_package[row as usize] as usize];
            let m = sources.entry(row).or_insert_with(|| Sources {
                first: first.source_info.as_deref(),
                more: Vec::new(),
                changed: false,
            });
            if m.first.is_none() {
                m.first = Some(s);
                m.changed = true;
            } else if m.first != Some(s) && !m.more.contains(&s) {
                m.more.push(s);
                m.changed = true;
            }
        }
        merged.extend(
            sources
                .into_iter()
                .filter(|(_, m)| m.changed)
                .map(|(row, m)| {
                    let mut all = vec![m.first.unwrap_or_default()];
                    all.extend(m.more);
                    (row, all.join(SOURCE_SEPARATOR))
                }),
        );
    }
    // Pass 2: keep each row's first package, then give it its locations.
    let mut rows = 0u32;
    let mut i = 0;
    sbom.packages.retain(|_| {
        let keep = row_of_package[i] == rows;
        rows += u32::from(keep);
        i += 1;
        keep
    });
    for (row, joined) in merged {
        sbom.packages[row as usize].source_info = Some(Cow::Owned(joined));
    }
    for f in &mut sbom.findings {
        f.package = row_of_package[f.package] as usize;
    }
    drop(row_of_package);
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity_and_hasher(sbom.findings.len(), state.clone());
        let findings = &sbom.findings;
        (0..findings.len())
            .map(|i| {
                if let Some(ahead) = findings.get(i + prefetch::AHEAD) {
                    prefetch::text(&ahead.id);
                }
                seen.insert((findings[i].package, findings[i].id.as_ref()))
            })
            .collect()
    };
    let mut i = 0;
    sbom.findings.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    Rows {
        sbom,
        packages_in_document,
        findings_in_document,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::parse;

    fn names(rows: &Rows<'_>) -> Vec<(String, Option<String>, Option<String>)> {
        rows.sbom()
            .packages
            .iter()
            .map(|p| {
                (
                    p.name.to_string(),
                    p.version.as_deref().map(str::to_string),
                    p.source_info.as_deref().map(str::to_string),
                )
            })
            .collect()
    }

    #[test]
    fn one_row_per_package_and_version_with_every_location_in_order() {
        let doc = br#"{"spdxVersion":"SPDX-2.3","packages":[
            {"name":"a","versionInfo":"1","sourceInfo":"/x"},
            {"name":"b","versionInfo":"1"},
            {"name":"a","versionInfo":"2","sourceInfo":"/x"},
            {"name":"a","versionInfo":"1","sourceInfo":"/y"},
            {"name":"b","versionInfo":"1","sourceInfo":"/z"},
            {"name":"a","versionInfo":"1","sourceInfo":"/x"},
            {"name":"a","versionInfo":"1","sourceInfo":"/w"},
            {"name":"a","versionInfo":"1"}]}"#;
        let rows = dedup(parse(doc).unwrap());
        let o = |s: &str| Some(s.to_string());
        assert_eq!(
            names(&rows),
            [
                ("a".into(), o("1"), o("/x; /y; /w")),
                ("b".into(), o("1"), o("/z")),
                ("a".into(), o("2"), o("/x")),
            ]
        );
        assert_eq!(rows.in_document(), (8, 0));
    }

    #[test]
    fn colliding_hashes_still_tell_packages_apart() {
        #[derive(Default)]
        struct Zero;
        impl Hasher for Zero {
            fn finish(&self) -> u64 {
                0
            }
            fn write(&mut self, _: &[u8]) {}
        }
        let doc = br#"{"spdxVersion":"SPDX-2.3","packages":[
            {"name":"a","versionInfo":"1"},{"name":"b","versionInfo":"1"},
            {"name":"a"},{"name":"b","versionInfo":"1","sourceInfo":"/b"},
            {"name":"c"},{"name":"a","versionInfo":"1"}]}"#;
        let rows = dedup_with(parse(doc).unwrap(), &BuildHasherDefault::<Zero>::default());
        let o = |s: &str| Some(s.to_string());
        assert_eq!(
            names(&rows),
            [
                ("a".into(), o("1"), None),
                ("b".into(), o("1"), o("/b")),
                ("a".into(), None, None),
                ("c".into(), None, None),
            ]
        );
    }

    #[test]
    fn findings_follow_their_rows_and_repeat_once() {
        let doc = br#"{"spdxVersion":"SPDX-2.3","packages":[
            {"name":"a","versionInfo":"1","externalRefs":[
              {"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-1"}]},
            {"name":"b","externalRefs":[
              {"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-1"}]},
            {"name":"a","versionInfo":"1","externalRefs":[
              {"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-2"},
              {"referenceCategory":"SECURITY","referenceType":"vulnerability","referenceLocator":"CVE-1"}]}]}"#;
        let rows = dedup(parse(doc).unwrap());
        let got: Vec<(usize, &str)> = rows
            .sbom()
            .findings
            .iter()
            .map(|f| (f.package, f.id.as_ref()))
            .collect();
        assert_eq!(got, [(0, "CVE-1"), (1, "CVE-1"), (0, "CVE-2")]);
        assert_eq!(rows.in_document(), (3, 4));
    }
}
