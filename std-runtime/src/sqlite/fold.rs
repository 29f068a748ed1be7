//! When the trigram index may answer a search: the needles on which FTS5's
//! case folding and local evaluation's agree.
//!
//! Local evaluation (`diorama_core::vista::eval`) folds each character to
//! its lower case when that is one character (Rust's Unicode tables), and
//! two characters match when their folds are equal. FTS5's trigram
//! tokenizer (`case_sensitive 0`) folds with its own table, built from an
//! older Unicode's `CaseFolding.txt`. A candidate the index finds is always
//! checked again with the local matcher (see [`super::search_index`]), so
//! characters FTS5 folds *more* than local evaluation (`ς` and `σ`, `ſ`
//! and `s`, `ϐ` and `β`) only cost a recheck. The characters below are the
//! other way round: local evaluation folds them together with a character
//! FTS5 keeps apart, so the index would miss matches. A needle holding one
//! of them (or NUL, which the tokenizer drops) is matched by a scan
//! instead, which is exact but reads every row.
//!
//! They are, by script: Latin and IPA letters added since Unicode 6
//! (U+019B, U+025C–U+029E, U+A794–U+A7F6, U+AB53 and others below), Greek
//! `Ϳ`/`ϳ`, Cyrillic U+0528–U+052F and U+1C89–U+1C8A, Georgian
//! (Mkhedruli U+10D0–U+10FF with Mtavruli U+1C90–U+1CBF), Cherokee
//! (U+13A0–U+13FD with U+AB70–U+ABBF), Glagolitic `Ⱟ`/`ⱟ`, Cyrillic
//! Extended-B U+A698–U+A69B, and scripts beyond the Basic Multilingual
//! Plane: Osage, Vithkuqi, Old Hungarian, Garay, Warang Citi, Medefaidrin,
//! Beria Erfe and Adlam. ASCII, the rest of Latin, Greek, Cyrillic,
//! Armenian and the other cased scripts of the BMP fold alike.
//!
//! The table is checked against the real tokenizer over every character
//! Rust folds (the test below), so a new Rust or SQLite that folds
//! differently fails it rather than missing rows.

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

/// True when FTS5 folds `c` as local evaluation does (see the module docs).
pub(crate) fn folds_alike(c: char) -> bool {
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

/// True when the trigram index finds every row local evaluation matches
/// for `needle`: at least three characters, each folded alike, and nothing
/// that could be part of a number's text.
pub(crate) fn index_can_serve(needle: &str) -> bool {
    needle.chars().nth(2).is_some()
        && needle.chars().all(folds_alike)
        && !could_be_in_a_number(needle)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

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

    #[test]
    fn the_table_is_exactly_where_the_tokenizer_folds_differently() {
        // Local fold classes with more than one member: only their
        // members can match a character other than themselves.
        let mut classes: BTreeMap<char, Vec<char>> = BTreeMap::new();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            classes.entry(local_fold(c)).or_default().push(c);
        }
        classes.retain(|_, members| members.len() > 1);
        // The tokenizer's fold of each member, read back from the index:
        // the row of `c` holds `ccc`, whose one trigram is FTS5's fold.
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE VIRTUAL TABLE f USING fts5(x, tokenize = 'trigram case_sensitive 0');
             CREATE VIRTUAL TABLE v USING fts5vocab(f, 'instance');",
        )
        .unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for c in classes.values().flatten() {
            conn.execute(
                "INSERT INTO f (rowid, x) VALUES (?, ?)",
                (u32::from(*c), c.to_string().repeat(3)),
            )
            .unwrap();
        }
        tx.commit().unwrap();
        let mut index_fold: BTreeMap<char, char> = BTreeMap::new();
        let mut stmt = conn.prepare("SELECT doc, term FROM v").unwrap();
        let rows = stmt
            .query_map([], |row| {
                Ok((row.get::<_, u32>(0)?, row.get::<_, String>(1)?))
            })
            .unwrap();
        for row in rows {
            let (doc, term) = row.unwrap();
            let c = char::from_u32(doc).unwrap();
            index_fold.insert(c, term.chars().next().unwrap());
        }
        let fts = |c: char| index_fold[&c];
        // A character differs when some member of its local class has
        // another fold in the index.
        let mut differs: Vec<u32> = classes
            .values()
            .flat_map(|class| {
                class
                    .iter()
                    .filter(|&&n| class.iter().any(|&h| fts(h) != fts(n)))
                    .map(|&n| u32::from(n))
                    .collect::<Vec<_>>()
            })
            .collect();
        differs.sort_unstable();
        let listed: Vec<u32> = FOLD_DIFFERS
            .iter()
            .flat_map(|&(first, last)| first..=last)
            .collect();
        assert_eq!(differs, listed, "FOLD_DIFFERS is out of date");
        // Characters outside any class fold alike trivially; NUL never.
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
    fn the_index_serves_long_plain_needles_only() {
        assert!(index_can_serve("lamp"));
        assert!(index_can_serve("Émi"));
        assert!(index_can_serve("2023-01"));
        assert!(!index_can_serve("la"), "fewer than three characters");
        assert!(!index_can_serve("123"), "could be a number");
        assert!(!index_can_serve("ქართ"), "Georgian folds differently");
        assert!(!index_can_serve("a\0b"));
    }
}
