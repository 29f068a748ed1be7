//! The generated product rows: deterministic from a fixed seed, row by row.
//!
//! Row `i` (0-based) depends only on `i`, so a 20,000-row table holds the
//! first 20,000 rows of the million-row one. Ids are `p0000001`,
//! `p0000002`, … so the row number shown by the grid is the id's number
//! (unsorted).

use diorama_core::Record;
use diorama_core::vista::Id;

/// The seed every table is generated from.
const SEED: u64 = 0x0D10_4A3A_2025;

const ADJECTIVES: &[&str] = &[
    "Brushed",
    "Classic",
    "Compact",
    "Cozy",
    "Elegant",
    "Folding",
    "Handmade",
    "Industrial",
    "Minimal",
    "Modern",
    "Nordic",
    "Rustic",
    "Sleek",
    "Sturdy",
    "Vintage",
    "Woven",
];
const MATERIALS: &[(&str, f64)] = &[
    ("Oak", 1.4),
    ("Pine", 0.9),
    ("Walnut", 1.8),
    ("Bamboo", 0.8),
    ("Steel", 1.2),
    ("Brass", 1.5),
    ("Ceramic", 1.0),
    ("Glass", 1.1),
    ("Linen", 0.9),
    ("Wool", 1.2),
    ("Marble", 2.0),
    ("Rattan", 1.0),
];
/// Noun, category, base price.
const NOUNS: &[(&str, &str, f64)] = &[
    ("Lamp", "lighting", 45.0),
    ("Pendant", "lighting", 80.0),
    ("Candle", "lighting", 9.0),
    ("Desk", "furniture", 220.0),
    ("Chair", "furniture", 95.0),
    ("Sofa", "furniture", 640.0),
    ("Shelf", "furniture", 70.0),
    ("Stool", "furniture", 40.0),
    ("Cabinet", "furniture", 310.0),
    ("Rug", "textiles", 120.0),
    ("Blanket", "textiles", 35.0),
    ("Pillow", "textiles", 18.0),
    ("Curtain", "textiles", 42.0),
    ("Mirror", "decor", 60.0),
    ("Clock", "decor", 30.0),
    ("Vase", "decor", 22.0),
    ("Frame", "decor", 12.0),
    ("Kettle", "kitchen", 38.0),
    ("Mug", "kitchen", 8.0),
    ("Pan", "kitchen", 33.0),
    ("Planter", "garden", 25.0),
    ("Bench", "garden", 150.0),
    ("Hammock", "garden", 75.0),
    ("Basket", "storage", 16.0),
];

/// The id of row `index` (0-based): `p` and the 1-based row number.
pub fn product_id(index: usize) -> Id {
    format!("p{:07}", index + 1)
}

/// Row `index` of every generated table.
pub fn product(index: usize) -> (Id, Record) {
    let mut rng =
        fastrand::Rng::with_seed(SEED ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let adjective = ADJECTIVES[rng.usize(..ADJECTIVES.len())];
    let (material, factor) = MATERIALS[rng.usize(..MATERIALS.len())];
    let (noun, category, base) = NOUNS[rng.usize(..NOUNS.len())];
    let model = rng.u32(10..100);
    let cents = (base * factor * (0.6 + rng.f64()) * 100.0).round();
    let stock = if rng.u8(..20) == 0 {
        0
    } else {
        rng.i64(1..=500)
    };
    // Within three years from 2023-01-01.
    let minutes = rng.u32(..3 * 365 * 24 * 60);
    let record = Record::new()
        .with("name", format!("{adjective} {material} {noun} {model}"))
        .with("category", category)
        .with("price", cents / 100.0)
        .with("stock", stock)
        .with("updated_at", timestamp_text(minutes));
    (product_id(index), record)
}

/// The master's validation of a written product (the grid's remote API and
/// the `serve` app apply it alike): a price, when written, must be a
/// non-negative number (or null).
///
/// Errors: `InvalidInput` naming the refused price.
pub fn validate(record: &Record) -> diorama_core::Result<()> {
    use diorama_core::{Error, Value};
    match record.get("price") {
        None | Some(Value::Null) => Ok(()),
        Some(price) => match price.as_f64() {
            Some(p) if p >= 0.0 => Ok(()),
            _ => Err(Error::invalid_input(format!(
                "the master refuses price {price}: it must not be negative"
            ))),
        },
    }
}

/// `YYYY-MM-DD HH:MM` of `minutes` after 2023-01-01 00:00.
fn timestamp_text(minutes: u32) -> String {
    let days = minutes / (24 * 60);
    let (hour, minute) = ((minutes / 60) % 24, minutes % 60);
    let (year, month, day) = civil_date(days);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}")
}

/// The calendar date `days` after 2023-01-01. Hand-written: ten lines do
/// not justify a date crate in the demo.
fn civil_date(mut days: u32) -> (u32, u32, u32) {
    let mut year = 2023;
    loop {
        let length = if is_leap(year) { 366 } else { 365 };
        if days < length {
            break;
        }
        days -= length;
        year += 1;
    }
    let mut month = 1;
    loop {
        let length = month_length(year, month);
        if days < length {
            return (year, month, days + 1);
        }
        days -= length;
        month += 1;
    }
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn month_length(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_deterministic_and_plausible() {
        assert_eq!(product(41), product(41));
        assert_ne!(product(41), product(42));
        let (id, record) = product(14_999);
        assert_eq!(id, "p0015000");
        let price = record.get("price").and_then(|v| v.as_f64()).unwrap();
        assert!(price > 0.0 && price < 10_000.0, "{price}");
        assert_eq!(record.len(), 5);
    }

    #[test]
    fn dates_follow_the_calendar() {
        assert_eq!(timestamp_text(0), "2023-01-01 00:00");
        assert_eq!(timestamp_text(59 * 24 * 60 + 61), "2023-03-01 01:01");
        // 2024 is a leap year: day 365 + 59 is Feb 29th.
        assert_eq!(timestamp_text((365 + 59) * 24 * 60), "2024-02-29 00:00");
        assert_eq!(timestamp_text((365 + 366) * 24 * 60), "2025-01-01 00:00");
    }
}
