//! CBOR's integer range, which is wider than any Rust primitive but `i128`.

use core::fmt;

/// An integer in CBOR's range, −2^64 … 2^64−1.
///
/// Stored as `i128`; the constructor guarantees the range, so encoding never
/// fails on an integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Int(i128);

impl Int {
    /// The smallest CBOR integer, −2^64.
    pub const MIN: Int = Int(-(1i128 << 64));
    /// The largest CBOR integer, 2^64−1.
    pub const MAX: Int = Int(u64::MAX as i128);

    /// `Some` when `value` lies in −2^64 … 2^64−1.
    pub const fn new(value: i128) -> Option<Int> {
        if value >= Self::MIN.0 && value <= Self::MAX.0 {
            Some(Int(value))
        } else {
            None
        }
    }

    /// The value as `i128` (always representable).
    pub const fn get(self) -> i128 {
        self.0
    }

    /// The value as `i64`, if it fits.
    pub fn as_i64(self) -> Option<i64> {
        i64::try_from(self.0).ok()
    }

    /// The value as `u64`, if it fits.
    pub fn as_u64(self) -> Option<u64> {
        u64::try_from(self.0).ok()
    }

    /// The nearest `f64` (exact up to 2^53 in magnitude).
    pub fn as_f64(self) -> f64 {
        self.0 as f64
    }
}

impl fmt::Display for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

macro_rules! int_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Int {
            fn from(v: $t) -> Int {
                Int(v as i128)
            }
        }
    )*};
}
int_from!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// Error of converting an `i128` outside CBOR's integer range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntOutOfRange(pub i128);

impl fmt::Display for IntOutOfRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is outside the CBOR integer range -2^64..=2^64-1",
            self.0
        )
    }
}

impl core::error::Error for IntOutOfRange {}

impl TryFrom<i128> for Int {
    type Error = IntOutOfRange;
    fn try_from(v: i128) -> Result<Int, IntOutOfRange> {
        Int::new(v).ok_or(IntOutOfRange(v))
    }
}
