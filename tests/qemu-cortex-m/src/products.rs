//! Sample product rows, the shape of the demo's (name, category, price,
//! stock, updated_at), made from the row number alone.

use alloc::format;

use diorama_core::Record;
use diorama_core::vista::Id;

const ADJECTIVES: &[&str] = &["Brushed", "Classic", "Compact", "Nordic", "Rustic", "Sleek"];
const MATERIALS: &[&str] = &["Oak", "Pine", "Walnut", "Steel", "Brass", "Linen", "Wool"];
/// Noun, category, base price in cents.
const NOUNS: &[(&str, &str, u32)] = &[
    ("Lamp", "lighting", 4_500),
    ("Desk", "furniture", 22_000),
    ("Chair", "furniture", 9_500),
    ("Rug", "textiles", 12_000),
    ("Mirror", "decor", 6_000),
    ("Kettle", "kitchen", 3_800),
    ("Planter", "garden", 2_500),
];

/// The id of row `index`: `p` and the 1-based row number.
pub fn product_id(index: usize) -> Id {
    format!("p{:07}", index + 1)
}

/// Row `index` of the sample table.
pub fn product(index: usize) -> (Id, Record) {
    // A cheap integer mix so neighbouring rows differ.
    let mix = (index as u32).wrapping_mul(2_654_435_761).rotate_left(13);
    let adjective = ADJECTIVES[mix as usize % ADJECTIVES.len()];
    let material = MATERIALS[(mix >> 8) as usize % MATERIALS.len()];
    let (noun, category, base) = NOUNS[(mix >> 16) as usize % NOUNS.len()];
    let cents = base + mix % 5_000;
    let record = Record::new()
        .with(
            "name",
            format!("{adjective} {material} {noun} {}", 10 + mix % 90),
        )
        .with("category", category)
        .with("price", f64::from(cents) / 100.0)
        .with("stock", i64::from(mix % 500))
        .with(
            "updated_at",
            format!(
                "2025-{:02}-{:02} {:02}:{:02}",
                1 + mix % 12,
                1 + (mix >> 4) % 28,
                (mix >> 9) % 24,
                (mix >> 14) % 60
            ),
        );
    (product_id(index), record)
}
