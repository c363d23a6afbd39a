//! A contribution's codes as SQLite stores them (migration 20): the ids of
//! [`anxin_records::stored_codes`], read from a row.

pub use anxin_records::stored_codes::{Stored, code_of, codes_of_ids, id, paid_ids};

/// The code in `column`, stored as its id; anything else is a corrupt row.
pub fn read<T: Stored>(r: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<T> {
    let id: i64 = r.get(column)?;
    code_of(id).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            column,
            rusqlite::types::Type::Integer,
            format!("{id} is not a stored {} code", T::LIST).into(),
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_lists_are_the_migrations_table() {
        let store = crate::SqliteStore::in_memory().expect("open");
        let mut stmt = store
            .conn
            .prepare("SELECT list, id, code FROM stored_codes ORDER BY list, id")
            .expect("prepare");
        let table: Vec<(String, i64, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        assert_eq!(table, anxin_records::stored_codes::table());
    }
}
