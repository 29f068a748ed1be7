//! An aggregate kept from row deltas: what each matching row adds, so one
//! changed row updates count and sum in O(1) and min/max in O(log n),
//! with a rescan of the kept parts (never of the cache) only when the row
//! holding the min or max leaves or gets worse.
//!
//! Equal to a fresh computation over the same rows in id order — the
//! order a cache scan gives — including which of two equal extremes (an
//! integer and a float) is shown and how floats round. Pure: tested
//! directly, with a property test against the fresh computation.

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::cmp::Ordering;

use crate::error::{Error, Result};
use crate::value::{Int, Record, Value};
use crate::vista::{Id, eval};

/// The aggregates kept from deltas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TallyKind {
    Count,
    Sum(String),
    Min(String),
    Max(String),
}

/// What one matching row adds.
#[derive(Clone, Debug)]
enum Part {
    /// Counted, no number (a null or missing field, or a count).
    Nothing,
    Number(Value),
    NotANumber(Error),
}

/// An aggregate over the matching rows, kept from their changes.
#[derive(Debug)]
pub(crate) struct Tally {
    kind: TallyKind,
    parts: BTreeMap<Id, Part>,
    ints: i128,
    /// The sum of the float parts in id order, when known (`None`: to be
    /// summed again after a float part changed).
    floats: Option<f64>,
    float_parts: usize,
    bad: usize,
    /// Min/max: the row holding the extreme, when known.
    best: Option<Option<Id>>,
}

impl Tally {
    /// A tally of `kind` over `rows` (the matching rows).
    pub(crate) fn new<'a>(
        kind: TallyKind,
        rows: impl IntoIterator<Item = (&'a str, &'a Record)>,
    ) -> Tally {
        let mut tally = Tally {
            kind,
            parts: BTreeMap::new(),
            ints: 0,
            floats: Some(0.0),
            float_parts: 0,
            bad: 0,
            best: None,
        };
        for (id, record) in rows {
            tally.update(id, Some(record));
        }
        tally
    }

    fn part(&self, id: &str, record: &Record) -> Part {
        let field = match &self.kind {
            TallyKind::Count => return Part::Nothing,
            TallyKind::Sum(field) | TallyKind::Min(field) | TallyKind::Max(field) => field,
        };
        match eval::lookup(record, field) {
            None => Part::Nothing,
            Some(value) if value.is_null() => Part::Nothing,
            Some(value @ (Value::Integer(_) | Value::Float(_))) => Part::Number(value.clone()),
            Some(other) => Part::NotANumber(Error::invalid_input(alloc::format!(
                "field {field:?} of row {id:?} is not a number: {other}"
            ))),
        }
    }

    /// Row `id` now is `record` (`None`: it left the set or is gone).
    pub(crate) fn update(&mut self, id: &str, record: Option<&Record>) {
        let new = record.map(|record| self.part(id, record));
        let old = match &new {
            Some(part) => self.parts.insert(Id::from(id), part.clone()),
            None => self.parts.remove(id),
        };
        if let Some(old) = &old {
            self.account(id, old, -1);
        }
        if let Some(new) = &new {
            self.account(id, new, 1);
        }
        self.rebest(id, old.as_ref(), new.as_ref());
    }

    fn account(&mut self, _id: &str, part: &Part, sign: i128) {
        match part {
            Part::Nothing => {}
            Part::NotANumber(_) => {
                self.bad = (self.bad as i128 + sign) as usize;
            }
            Part::Number(Value::Integer(i)) => self.ints += sign * i.get(),
            Part::Number(_) => {
                self.float_parts = (self.float_parts as i128 + sign) as usize;
                self.floats = None;
            }
        }
    }

    fn wanted(&self) -> Option<Ordering> {
        match self.kind {
            TallyKind::Min(_) => Some(Ordering::Less),
            TallyKind::Max(_) => Some(Ordering::Greater),
            _ => None,
        }
    }

    /// Keep the extreme's holder: a better new value takes it; the holder
    /// leaving or getting worse means a rescan of the parts.
    fn rebest(&mut self, id: &str, old: Option<&Part>, new: Option<&Part>) {
        let Some(wanted) = self.wanted() else { return };
        let Some(Some(holder)) = self.best.clone() else {
            if self.best.is_some() {
                // No number at all so far: a new one is the extreme.
                if let Some(Part::Number(_)) = new {
                    self.best = Some(Some(Id::from(id)));
                }
            }
            return;
        };
        if holder == id {
            let stays = matches!((old, new), (Some(Part::Number(a)), Some(Part::Number(b)))
                if eval::compare_values(b, a) == wanted);
            if !stays {
                self.best = None;
            }
            return;
        }
        if let Some(Part::Number(value)) = new
            && let Some(Part::Number(best)) = self.parts.get(&holder)
            && better(value, id, best, &holder, wanted)
        {
            self.best = Some(Some(Id::from(id)));
        }
    }

    /// The aggregate's value (the first row's error when a row holds no number).
    pub(crate) fn value(&mut self) -> Result<Value> {
        if self.bad > 0 {
            let error = self.parts.values().find_map(|part| match part {
                Part::NotANumber(error) => Some(error.clone()),
                _ => None,
            });
            return Err(error.unwrap_or_else(|| Error::invalid_input("a field is not a number")));
        }
        match self.kind.clone() {
            TallyKind::Count => Ok(Value::from(self.parts.len())),
            TallyKind::Sum(_) => Ok(self.sum()),
            TallyKind::Min(_) | TallyKind::Max(_) => Ok(self.extreme()),
        }
    }

    fn sum(&mut self) -> Value {
        if self.float_parts == 0 {
            return Int::new(self.ints).map_or(Value::Float(self.ints as f64), Value::Integer);
        }
        let floats = match self.floats {
            Some(floats) => floats,
            None => {
                // Summed in id order, as a fresh computation would.
                let floats = self
                    .parts
                    .values()
                    .filter_map(|part| match part {
                        Part::Number(Value::Float(f)) => Some(*f),
                        _ => None,
                    })
                    .fold(0.0, |total, f| total + f);
                self.floats = Some(floats);
                floats
            }
        };
        Value::Float(floats + self.ints as f64)
    }

    fn extreme(&mut self) -> Value {
        let Some(wanted) = self.wanted() else {
            return Value::Null;
        };
        if self.best.is_none() {
            let mut best: Option<(&Id, &Value)> = None;
            for (id, part) in &self.parts {
                if let Part::Number(value) = part
                    && best.is_none_or(|(best_id, b)| better(value, id, b, best_id, wanted))
                {
                    best = Some((id, value));
                }
            }
            self.best = Some(best.map(|(id, _)| id.clone()));
        }
        match &self.best {
            Some(Some(holder)) => match self.parts.get(holder) {
                Some(Part::Number(value)) => value.clone(),
                _ => Value::Null,
            },
            _ => Value::Null,
        }
    }
}

/// `value` of row `id` beats `best` of row `best_id`: strictly better, or
/// equal from a row earlier in id order (a fresh scan keeps the first).
fn better(value: &Value, id: &str, best: &Value, best_id: &str, wanted: Ordering) -> bool {
    match eval::compare_values(value, best) {
        o if o == wanted => true,
        Ordering::Equal => id < best_id,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;
    use proptest::strategy::Strategy as _;

    /// The aggregate computed afresh over `rows` in id order, by the
    /// value scenery's scan-time functions.
    fn fresh(kind: &TallyKind, rows: &BTreeMap<String, Record>) -> Result<Value> {
        let rows: Vec<(Id, Record)> = rows.iter().map(|(id, r)| (id.clone(), r.clone())).collect();
        match kind {
            TallyKind::Count => Ok(Value::from(rows.len())),
            TallyKind::Sum(field) => super::super::value::sum(&rows, field),
            TallyKind::Min(field) => super::super::value::extreme(&rows, field, Ordering::Less),
            TallyKind::Max(field) => super::super::value::extreme(&rows, field, Ordering::Greater),
        }
    }

    fn record(value: Option<Value>) -> Record {
        let mut record = Record::new();
        if let Some(value) = value {
            record.insert("n", value);
        }
        record
    }

    #[test]
    fn count_sum_min_max_follow_changes() {
        let mut sum = Tally::new(TallyKind::Sum("n".into()), []);
        let mut min = Tally::new(TallyKind::Min("n".into()), []);
        let mut count = Tally::new(TallyKind::Count, []);
        for (id, n) in [("a", 3i64), ("b", -2), ("c", 7)] {
            let r = record(Some(Value::from(n)));
            sum.update(id, Some(&r));
            min.update(id, Some(&r));
            count.update(id, Some(&r));
        }
        assert_eq!(sum.value().unwrap(), Value::from(8));
        assert_eq!(min.value().unwrap(), Value::from(-2));
        assert_eq!(count.value().unwrap(), Value::from(3));
        // The min's holder leaves: the next smallest.
        sum.update("b", None);
        min.update("b", None);
        count.update("b", None);
        assert_eq!(sum.value().unwrap(), Value::from(10));
        assert_eq!(min.value().unwrap(), Value::from(3));
        assert_eq!(count.value().unwrap(), Value::from(2));
        // A float turns the sum into a float; a text is an error.
        sum.update("d", Some(&record(Some(Value::Float(0.5)))));
        assert_eq!(sum.value().unwrap(), Value::Float(10.5));
        sum.update("e", Some(&record(Some(Value::from("x")))));
        assert!(sum.value().is_err());
        sum.update("e", Some(&record(None)));
        assert_eq!(sum.value().unwrap(), Value::Float(10.5));
    }

    proptest::proptest! {
        /// After any sequence of changes the tally equals a fresh
        /// computation over the same rows.
        #[test]
        fn a_tally_equals_a_fresh_computation(
            changes in proptest::collection::vec(
                (0usize..12, proptest::option::of(proptest::option::of(
                    proptest::prop_oneof![
                        (-5i64..5).prop_map(Value::from),
                        (-5i64..5).prop_map(|i| Value::Float(i as f64 * 0.5)),
                        proptest::strategy::Just(Value::Null),
                    ]
                ))),
                1..60,
            )
        ) {
            let kinds = [
                TallyKind::Count,
                TallyKind::Sum("n".into()),
                TallyKind::Min("n".into()),
                TallyKind::Max("n".into()),
            ];
            let mut tallies: Vec<Tally> = kinds.iter().map(|k| Tally::new(k.clone(), [])).collect();
            let mut rows: BTreeMap<String, Record> = BTreeMap::new();
            for (n, change) in changes {
                let id = format!("r{n:02}");
                match change {
                    None => {
                        rows.remove(&id);
                        for t in &mut tallies { t.update(&id, None); }
                    }
                    Some(value) => {
                        let r = record(value);
                        for t in &mut tallies { t.update(&id, Some(&r)); }
                        rows.insert(id, r);
                    }
                }
                for (t, kind) in tallies.iter_mut().zip(&kinds) {
                    let kept = t.value().map_err(|e| e.kind());
                    let again = fresh(kind, &rows).map_err(|e| e.kind());
                    proptest::prop_assert_eq!(kept, again, "{:?}", kind);
                }
            }
        }
    }
}
