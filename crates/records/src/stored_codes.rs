//! The integers a contribution's codes are stored as, in both backends' table `stored_codes`
//! (SQLite migration 20, PostgreSQL migration 19).
//!
//! Each list's ids are fixed by those migrations, in the alphabetical order of its codes, so rows
//! sort as they did when the codes were text. Each backend's tests check that the lists below
//! are its table; a code added later gets the next id, in a migration of its own in each
//! backend and here.

use crate::{Error, Result};
use anxin_domain::codes::{Code, GapReason, Insurance, Payer, Status};

/// A code list stored as integers: `IDS[i]` is the code of id `i + 1`.
pub trait Stored: Code {
    /// The list's name in `stored_codes`.
    const LIST: &'static str;
    const IDS: &'static [&'static str];
}

impl Stored for Insurance {
    const LIST: &'static str = "insurance";
    const IDS: &'static [&'static str] =
        &["injury", "maternity", "medical", "pension", "unemployment"];
}

impl Stored for Payer {
    const LIST: &'static str = "payer";
    const IDS: &'static [&'static str] = &["employer", "platform", "self", "subsidy", "voucher"];
}

impl Stored for Status {
    const LIST: &'static str = "status";
    const IDS: &'static [&'static str] = &["backpaid", "deferred", "excused", "paid", "unpaid"];
}

impl Stored for GapReason {
    const LIST: &'static str = "reason";
    const IDS: &'static [&'static str] = &[
        "care",
        "childbirth",
        "illness",
        "other",
        "platform_rule",
        "unemployment",
    ];
}

/// The id `code` is stored as.
pub fn id<T: Stored>(code: T) -> Result<i64> {
    T::IDS
        .iter()
        .position(|c| *c == code.as_str())
        .map(|i| i as i64 + 1)
        .ok_or_else(|| {
            Error::Corrupt(format!(
                "the {} code '{}' has no stored id: add it to stored_codes in a migration",
                T::LIST,
                code.as_str()
            ))
        })
}

/// The code stored as `id`, if it is one.
pub fn code_of<T: Stored>(id: i64) -> Option<T> {
    let at = usize::try_from(id.checked_sub(1)?).ok()?;
    T::from_code(T::IDS.get(at)?)
}

/// `ids` ("4,3", as `group_concat` joins them) as their codes ("pension,medical"); an id that is
/// no code is left out.
pub fn codes_of_ids<T: Stored>(ids: &str) -> String {
    ids.split(',')
        .filter_map(|id| code_of::<T>(id.trim().parse().ok()?))
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The SQL list of the statuses in which money moved (`Status::is_paid`): "4, 1".
pub fn paid_ids() -> String {
    paid_id_list()
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ids of the statuses in which money moved (`Status::is_paid`): [4, 1].
pub fn paid_id_list() -> Vec<i64> {
    Status::ALL
        .iter()
        .filter(|s| s.is_paid())
        .filter_map(|s| id(*s).ok())
        .collect()
}

/// Every list's ids, as rows of `stored_codes` (list, id, code), sorted by list and id: what each
/// backend's migration must have written.
pub fn table() -> Vec<(String, i64, String)> {
    fn list<T: Stored>(into: &mut Vec<(String, i64, String)>) {
        for (i, c) in T::IDS.iter().enumerate() {
            into.push((T::LIST.to_string(), i as i64 + 1, c.to_string()));
        }
    }
    let mut rows = Vec::new();
    list::<Insurance>(&mut rows);
    list::<Payer>(&mut rows);
    list::<Status>(&mut rows);
    list::<GapReason>(&mut rows);
    rows.sort();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn covers<T: Stored>() {
        for c in T::ALL {
            let i = id(*c).expect("every code has an id");
            assert_eq!(code_of::<T>(i).map(|c| c.as_str()), Some(c.as_str()));
        }
        assert_eq!(
            T::IDS.len(),
            T::ALL.len(),
            "{}: no id without a code",
            T::LIST
        );
        let mut sorted = T::IDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, T::IDS, "{}: ids in the codes' order", T::LIST);
    }

    #[test]
    fn every_code_has_an_id_and_back() {
        covers::<Insurance>();
        covers::<Payer>();
        covers::<Status>();
        covers::<GapReason>();
        for bad in [0, -1, 6, 7, i64::MIN, i64::MAX] {
            assert!(code_of::<Insurance>(bad).is_none(), "{bad}");
        }
        assert_eq!(paid_ids(), "4, 1");
        assert_eq!(codes_of_ids::<Insurance>("4,3,x,9"), "pension,medical");
    }
}
