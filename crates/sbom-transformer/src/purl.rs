//! The few parts of a package URL (`pkg:type/namespace/name@version?qualifiers#subpath`)
//! the tables need. Inspector's CycloneDX export gives components no `version`,
//! so the version comes from here.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// The purl's type (`rpm`, `dpkg`, `pypi`, `npm`, ...), lower-cased as the
/// purl spec normalises it; `None` if `purl` is not a package URL.
pub fn package_type(purl: &str) -> Option<Cow<'_, str>> {
    let rest = purl.strip_prefix("pkg:")?.trim_start_matches('/');
    // A byte loop, not `find`: the type is a few bytes, and `find`'s memchr
    // set-up was most of this function's cost (13 of 23 M instructions for
    // the bench's 100 k-package SBOM; callgrind, BENCHMARKS.md session 8).
    let end = rest.bytes().position(|b| b == b'/')?;
    let ty = &rest[..end];
    if ty.is_empty() {
        return None;
    }
    Some(if ty.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(ty.to_ascii_lowercase())
    } else {
        Cow::Borrowed(ty)
    })
}

/// The purl's version, percent-decoded: the text after the last `@` of the
/// part before `?`/`#` (an npm scope's `@` is encoded as `%40`, and a name
/// never holds a raw `@`).
pub fn version(purl: &str) -> Option<Cow<'_, str>> {
    let body = purl.strip_prefix("pkg:")?;
    let end = body.find(['?', '#']).unwrap_or(body.len());
    let body = &body[..end];
    let at = body.rfind('@')?;
    // An `@` before the type/name separator is not a version marker.
    if !body[..at].contains('/') {
        return None;
    }
    let raw = &body[at + 1..];
    if raw.is_empty() {
        return None;
    }
    Some(decode(raw))
}

/// A qualifier's value (`path`, `distro`, `arch`, ...), percent-decoded.
pub fn qualifier<'a>(purl: &'a str, key: &str) -> Option<Cow<'a, str>> {
    let start = purl.find('?')? + 1;
    let end = purl[start..].find('#').map_or(purl.len(), |i| start + i);
    purl[start..end].split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k.eq_ignore_ascii_case(key) && !v.is_empty()).then(|| decode(v))
    })
}

fn decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    match percent_decode_str(s).decode_utf8() {
        Ok(d) => Cow::Owned(d.into_owned()),
        // Not valid percent-encoded UTF-8: keep the text as written rather
        // than dropping the package's version.
        Err(_) => Cow::Borrowed(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn versions_from_the_spec_samples() {
        assert_eq!(
            version("pkg:pypi/pip@22.0.4?path=usr/local/lib/python3.8/site-packages/pip-22.0.4.dist-info/METADATA").as_deref(),
            Some("22.0.4")
        );
        assert_eq!(
            version("pkg:dpkg/libss2@1.44.5-1+deb10u3?arch=ARM64&epoch=0&upstream=libss2-1.44.5-1+deb10u3.src.dpkg").as_deref(),
            Some("1.44.5-1+deb10u3")
        );
        assert_eq!(
            version("pkg:rpm/libcurl@7.79.1-1.amzn2.0.1?arch=X86_64&epoch=0").as_deref(),
            Some("7.79.1-1.amzn2.0.1")
        );
    }

    #[test]
    fn npm_scopes_encoded_versions_and_missing_versions() {
        assert_eq!(
            version("pkg:npm/%40angular/core@16.2.0").as_deref(),
            Some("16.2.0")
        );
        assert_eq!(version("pkg:npm/%40angular/core").as_deref(), None);
        assert_eq!(
            version("pkg:golang/example.com/m@v1.0.0%2Bincompatible#sub").as_deref(),
            Some("v1.0.0+incompatible")
        );
        assert_eq!(version("pkg:generic/x@").as_deref(), None);
        assert_eq!(version("not a purl@1").as_deref(), None);
    }

    #[test]
    fn types_and_qualifiers() {
        assert_eq!(package_type("pkg:RPM/x@1").as_deref(), Some("rpm"));
        assert_eq!(package_type("pkg:dpkg/x@1").as_deref(), Some("dpkg"));
        assert_eq!(package_type("pkg:x").as_deref(), None);
        assert_eq!(package_type("https://x/y").as_deref(), None);
        let p = "pkg:pypi/pip@22.0.4?path=usr/lib/a%20b/METADATA&arch=x#frag";
        assert_eq!(
            qualifier(p, "path").as_deref(),
            Some("usr/lib/a b/METADATA")
        );
        assert_eq!(qualifier(p, "arch").as_deref(), Some("x"));
        assert_eq!(qualifier(p, "distro").as_deref(), None);
    }

    proptest! {
        #[test]
        fn any_version_round_trips(name in "[a-z][a-z0-9-]{0,20}", v in "[A-Za-z0-9.+~:_-]{1,20}") {
            let encoded = percent_encoding::utf8_percent_encode(&v, percent_encoding::NON_ALPHANUMERIC).to_string();
            let purl = format!("pkg:generic/{name}@{encoded}?arch=x86_64");
            let got = version(&purl).map(|c| c.into_owned());
            prop_assert_eq!(got, Some(v));
        }

        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = version(&s);
            let _ = package_type(&s);
            let _ = qualifier(&s, "path");
        }
    }
}
