//! How far the trigram index may answer a search: the needles on which
//! FTS5's case folding and local evaluation's agree.
//!
//! Local evaluation (`diorama_core::vista::eval`) folds each character to
//! its lower case when that is one character (Rust's Unicode tables), and
//! two characters match when their folds are equal. FTS5's trigram
//! tokenizer (`case_sensitive 0`) folds with its own table, built from an
//! older Unicode's `CaseFolding.txt`. They differ two ways:
//!
//! - [`FOLD_DIFFERS`]: local evaluation folds these together with a
//!   character FTS5 keeps apart, so the index would *miss* matches. A
//!   needle holding one of them (or NUL, which the tokenizer drops) is
//!   matched by a scan, exact but reading every row. By script: Latin and
//!   IPA letters added since Unicode 6 (U+019B, U+025C–U+029E,
//!   U+A794–U+A7F6, U+AB53 and others), Greek `Ϳ`/`ϳ`, Cyrillic
//!   U+0528–U+052F and U+1C89–U+1C8A, Georgian (Mkhedruli U+10D0–U+10FF with
//!   Mtavruli U+1C90–U+1CBF), Cherokee (U+13A0–U+13FD with U+AB70–U+ABBF),
//!   Glagolitic `Ⱟ`/`ⱟ`, Cyrillic Extended-B U+A698–U+A69B, and scripts
//!   beyond the Basic Multilingual Plane: Osage, Vithkuqi, Old Hungarian,
//!   Garay, Warang Citi, Medefaidrin, Beria Erfe and Adlam.
//! - [`ODD`]: variant letters FTS5 folds into a common letter and local
//!   evaluation does not (`ſ` with `s`, final `ς` with `σ`, `ϐ` with `β`,
//!   the micro sign with `μ`, …), so the index finds *extra* rows. Rows
//!   whose text holds one of them (or NUL) are listed beside the index and
//!   checked again with the local matcher; a needle holding one of them has
//!   every row the index finds checked.
//!
//! ASCII, the rest of Latin, Greek, Cyrillic, Armenian and the other cased
//! scripts of the BMP fold alike. Both tables are checked against the real
//! tokenizer over every character either side folds (the test below), so
//! a new Rust or SQLite that folds differently fails it rather than
//! returning a wrong answer.

/// Characters whose local fold class is larger than FTS5's (inclusive
/// code point ranges, sorted).
const FOLD_DIFFERS: &[(u32, u32)] = &[
    (0x019B, 0x019B),
    (0x025C, 0x025C),
    (0x0261, 0x0261),
    (0x0264, 0x0264),
    (0x026A, 0x026A),
    (0x026C, 0x026C),
    (0x0282, 0x0282),
    (0x0287, 0x0287),
    (0x029D, 0x029E),
    (0x037F, 0x037F),
    (0x03F3, 0x03F3),
    (0x0528, 0x052F),
    (0x10D0, 0x10FA),
    (0x10FD, 0x10FF),
    (0x13A0, 0x13F5),
    (0x13F8, 0x13FD),
    (0x1C89, 0x1C8A),
    (0x1C90, 0x1CBA),
    (0x1CBD, 0x1CBF),
    (0x1D8E, 0x1D8E),
    (0x2C2F, 0x2C2F),
    (0x2C5F, 0x2C5F),
    (0xA698, 0xA69B),
    (0xA794, 0xA794),
    (0xA796, 0xA79F),
    (0xA7AB, 0xA7AE),
    (0xA7B0, 0xA7DC),
    (0xA7F5, 0xA7F6),
    (0xAB53, 0xAB53),
    (0xAB70, 0xABBF),
    (0x104B0, 0x104D3),
    (0x104D8, 0x104FB),
    (0x10570, 0x1057A),
    (0x1057C, 0x1058A),
    (0x1058C, 0x10592),
    (0x10594, 0x10595),
    (0x10597, 0x105A1),
    (0x105A3, 0x105B1),
    (0x105B3, 0x105B9),
    (0x105BB, 0x105BC),
    (0x10C80, 0x10CB2),
    (0x10CC0, 0x10CF2),
    (0x10D50, 0x10D65),
    (0x10D70, 0x10D85),
    (0x118A0, 0x118DF),
    (0x16E40, 0x16E7F),
    (0x16EA0, 0x16EB8),
    (0x16EBB, 0x16ED3),
    (0x1E900, 0x1E943),
];

/// Variant letters FTS5 folds into a common letter and local evaluation
/// does not (sorted): rows holding them are rechecked.
pub(crate) const ODD: &[char] = &[
    '\u{00B5}', '\u{017F}', '\u{0345}', '\u{03C2}', '\u{03D0}', '\u{03D1}', '\u{03D5}', '\u{03D6}',
    '\u{03F0}', '\u{03F1}', '\u{03F5}', '\u{1E9B}', '\u{1FBE}', '\u{FFFD}', '\u{FFFE}',
];

/// How a search may use the trigram index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IndexUse {
    /// The index could miss matches: scan.
    Scan,
    /// The index finds every match and maybe more: check every row it
    /// finds.
    CheckAll,
    /// The index finds exactly the matches, except on rows holding an
    /// [`ODD`] character or NUL, which are checked.
    CheckOdd,
}

/// True when local evaluation folds `c` into no class FTS5 splits (see
/// the module docs); false for NUL.
fn folds_alike(c: char) -> bool {
    let c = u32::from(c);
    if c == 0 {
        return false;
    }
    let at = FOLD_DIFFERS.partition_point(|&(_, last)| last < c);
    !FOLD_DIFFERS
        .get(at)
        .is_some_and(|&(first, last)| (first..=last).contains(&c))
}

/// True when `needle` could be part of how local evaluation writes a number
/// (`-12`, `3.5`, `inf`, `NaN`): SQLite writes reals differently (`7.0`,
/// 15 digits, `1.0e+20`, `Inf`), so the index, which holds SQLite's text,
/// might miss such a match.
pub(crate) fn could_be_in_a_number(needle: &str) -> bool {
    let lower = needle.to_ascii_lowercase();
    if "-inf".contains(&lower) || "nan".contains(&lower) {
        return true;
    }
    let digits = lower.strip_prefix('-').unwrap_or(&lower);
    let mut dots = 0;
    digits.chars().all(|c| {
        dots += usize::from(c == '.');
        c.is_ascii_digit() || (c == '.' && dots == 1)
    })
}

/// How a search for `needle` may use the index, which holds the text
/// cells only: not at all for fewer than three characters (no trigram),
/// text that could be part of a number (numbers are not indexed) or a
/// character FTS5 folds apart; with every row checked when the needle
/// holds an [`ODD`] character; else with the odd rows checked.
pub(crate) fn index_use(needle: &str) -> IndexUse {
    if needle.chars().nth(2).is_none()
        || could_be_in_a_number(needle)
        || !needle.chars().all(folds_alike)
    {
        IndexUse::Scan
    } else if needle.chars().any(|c| ODD.binary_search(&c).is_ok()) {
        IndexUse::CheckAll
    } else {
        IndexUse::CheckOdd
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use rusqlite::Connection;

    use super::*;

    /// Local evaluation's fold (as `diorama_core::vista::eval` folds).
    fn local_fold(c: char) -> char {
        if c.is_ascii() {
            return c.to_ascii_lowercase();
        }
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) => l,
            _ => c,
        }
    }

    /// FTS5's fold of every character of `chars`, read back from an
    /// index: the row of `c` holds `ccc`, whose one trigram is the fold.
    fn index_folds(chars: &BTreeSet<char>) -> BTreeMap<char, char> {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE f USING fts5(x, tokenize = 'trigram case_sensitive 0');
             CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance');",
        )
        .unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        {
            let mut insert = conn
                .prepare("INSERT INTO f (rowid, x) VALUES (?, ?)")
                .unwrap();
            for c in chars {
                insert
                    .execute((u32::from(*c), c.to_string().repeat(3)))
                    .unwrap();
            }
        }
        tx.commit().unwrap();
        let mut stmt = conn.prepare("SELECT doc, term FROM v").unwrap();
        let rows = stmt
            .query_map([], |row| {
                Ok((row.get::<_, u32>(0)?, row.get::<_, String>(1)?))
            })
            .unwrap();
        rows.map(|row| {
            let (doc, term) = row.unwrap();
            (char::from_u32(doc).unwrap(), term.chars().next().unwrap())
        })
        .collect()
    }

    #[test]
    fn the_tables_are_exactly_where_the_tokenizer_folds_differently() {
        // Local fold classes of more than one character (the others are
        // the character alone).
        let mut local: BTreeMap<char, BTreeSet<char>> = BTreeMap::new();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let folded = local_fold(c);
            if folded != c {
                local
                    .entry(folded)
                    .or_insert_with(|| [folded].into())
                    .insert(c);
            }
        }
        let local_class = |c: char| {
            local
                .get(&local_fold(c))
                .cloned()
                .unwrap_or_else(|| [c].into())
        };
        // Every character FTS5 might fold (its table covers the BMP and
        // Deseret) and every one Rust folds with another.
        let mut probed: BTreeSet<char> = (1..0x10000).filter_map(char::from_u32).collect();
        probed.extend((0x10400..0x10450).filter_map(char::from_u32));
        probed.extend(local.values().flatten());
        let folds = index_folds(&probed);
        let fts = |c: char| folds.get(&c).copied().unwrap_or(c);
        let mut index: BTreeMap<char, BTreeSet<char>> = BTreeMap::new();
        for &c in &probed {
            index.entry(fts(c)).or_default().insert(c);
        }
        let index_class = |c: char| index.get(&fts(c)).cloned().unwrap_or_else(|| [c].into());

        // FOLD_DIFFERS: exactly where a local class is not inside the
        // index's class.
        let differs: Vec<u32> = local
            .values()
            .flatten()
            .filter(|&&c| !local_class(c).is_subset(&index_class(c)))
            .map(|&c| u32::from(c))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let listed: Vec<u32> = FOLD_DIFFERS
            .iter()
            .flat_map(|&(first, last)| first..=last)
            .collect();
        assert_eq!(differs, listed, "FOLD_DIFFERS is out of date");

        // ODD: for any other character, what the index adds to its local
        // class is odd, so checking the odd rows catches every extra row.
        assert!(ODD.windows(2).all(|w| w[0] < w[1]), "ODD must be sorted");
        assert!(ODD.iter().all(|c| !c.is_ascii()));
        for &c in probed
            .iter()
            .filter(|&&c| folds_alike(c) && !ODD.contains(&c))
        {
            let extra: Vec<char> = index_class(c)
                .difference(&local_class(c))
                .copied()
                .filter(|x| !ODD.contains(x))
                .collect();
            assert!(
                extra.is_empty(),
                "{c:?} (U+{:04X}) meets {extra:?} in the index",
                u32::from(c)
            );
        }
        assert!(folds_alike('a') && folds_alike('É') && folds_alike('日'));
        assert!(!folds_alike('\0') && !folds_alike('ა') && !folds_alike('Ꭰ'));
    }

    #[test]
    fn numbers_text_is_recognised() {
        for needle in [
            "12", "-3", "3.5", ".5", "5.", "-", "inf", "-in", "nf", "NaN", "an",
        ] {
            assert!(could_be_in_a_number(needle), "{needle}");
        }
        for needle in ["lamp", "1.2.3", "5-", "2023-01", "1e5", "e+2", "ab"] {
            assert!(!could_be_in_a_number(needle), "{needle}");
        }
    }

    #[test]
    fn the_index_serves_long_plain_needles() {
        assert_eq!(index_use("lamp"), IndexUse::CheckOdd);
        assert_eq!(index_use("Émi"), IndexUse::CheckOdd);
        assert_eq!(index_use("2023-01"), IndexUse::CheckOdd);
        assert_eq!(index_use("σοφό"), IndexUse::CheckOdd);
        assert_eq!(index_use("σοφος"), IndexUse::CheckAll, "final sigma");
        assert_eq!(index_use("σοφός"), IndexUse::CheckAll, "final sigma");
        assert_eq!(index_use("ſtra"), IndexUse::CheckAll, "long s");
        assert_eq!(
            index_use("la"),
            IndexUse::Scan,
            "fewer than three characters"
        );
        assert_eq!(index_use("123"), IndexUse::Scan, "could be a number");
        assert_eq!(
            index_use("ქართ"),
            IndexUse::Scan,
            "Georgian folds differently"
        );
        assert_eq!(index_use("a\0b"), IndexUse::Scan);
    }
}
