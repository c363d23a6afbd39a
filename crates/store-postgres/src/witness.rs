//! Witnessing between regional instances (migration 18): see `anxin_records::witness`.

use anxin_records::Result;
use anxin_records::witness::{AlarmRow, CosignatureRow, SeenRow};
use postgres::Row;

use crate::{PgStore, col, int8, key_col, u64_col};

fn cosignature(r: &Row) -> Result<CosignatureRow> {
    Ok(CosignatureRow {
        witness: col(r, 0)?,
        size: u64_col(r, 1, "cosigned size")?,
        line: col(r, 2)?,
        checkpoint: col(r, 3)?,
        at: col(r, 4)?,
    })
}

impl PgStore {
    pub(crate) fn witness_seen_rows(&mut self) -> Result<Vec<SeenRow>> {
        let rows = self.query(
            "SELECT peer, size, root, checkpoint, at FROM witness_seen ORDER BY peer",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(SeenRow {
                    peer: col(r, 0)?,
                    size: u64_col(r, 1, "witnessed size")?,
                    root: key_col(r, 2, "witnessed root")?,
                    checkpoint: col(r, 3)?,
                    at: col(r, 4)?,
                })
            })
            .collect()
    }

    pub(crate) fn witness_set_seen_row(&mut self, row: &SeenRow, old: Option<u64>) -> Result<bool> {
        let n = int8(row.size, "witnessed size")?;
        let root: &[u8] = &row.root;
        let rows = match old {
            None => self.query(
                "INSERT INTO witness_seen (peer, size, root, checkpoint, at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (peer) DO NOTHING RETURNING peer",
                &[&row.peer, &n, &root, &row.checkpoint, &row.at],
            )?,
            Some(old) => {
                let old = int8(old, "witnessed size")?;
                self.query(
                    "UPDATE witness_seen SET size = $2, root = $3, checkpoint = $4, at = $5
                     WHERE peer = $1 AND size = $6 RETURNING peer",
                    &[&row.peer, &n, &root, &row.checkpoint, &row.at, &old],
                )?
            }
        };
        Ok(rows.len() == 1)
    }

    pub(crate) fn witness_alarm_row_add(&mut self, row: &AlarmRow) -> Result<i64> {
        let seen = int8(row.seen_size, "seen size")?;
        let n = int8(row.size, "size")?;
        let rows = self.query(
            "INSERT INTO witness_alarms (peer, at, kind, seen_size, size, zh, en, checkpoint)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            &[
                &row.peer,
                &row.at,
                &row.kind,
                &seen,
                &n,
                &row.zh,
                &row.en,
                &row.checkpoint,
            ],
        )?;
        match rows.first() {
            Some(r) => col(r, 0),
            None => Err(anxin_records::Error::Store(
                "the alarm was not stored".into(),
            )),
        }
    }

    pub(crate) fn witness_alarm_rows(&mut self, limit: u32) -> Result<Vec<AlarmRow>> {
        let limit = i64::from(limit);
        let rows = self.query(
            "SELECT id, peer, at, kind, seen_size, size, zh, en, checkpoint FROM witness_alarms
             ORDER BY id DESC LIMIT $1",
            &[&limit],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AlarmRow {
                    id: col(r, 0)?,
                    peer: col(r, 1)?,
                    at: col(r, 2)?,
                    kind: col(r, 3)?,
                    seen_size: u64_col(r, 4, "seen size")?,
                    size: u64_col(r, 5, "size")?,
                    zh: col(r, 6)?,
                    en: col(r, 7)?,
                    checkpoint: col(r, 8)?,
                })
            })
            .collect()
    }

    pub(crate) fn cosignature_row_add(&mut self, row: &CosignatureRow) -> Result<()> {
        let n = int8(row.size, "cosigned size")?;
        self.query(
            "INSERT INTO cosignatures (witness, size, line, checkpoint, at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (witness, size) DO UPDATE SET line = excluded.line,
                 checkpoint = excluded.checkpoint, at = excluded.at
             RETURNING witness",
            &[&row.witness, &n, &row.line, &row.checkpoint, &row.at],
        )?;
        Ok(())
    }

    pub(crate) fn cosignature_rows_at(&mut self, size: u64) -> Result<Vec<CosignatureRow>> {
        let n = int8(size, "size")?;
        let rows = self.query(
            "SELECT witness, size, line, checkpoint, at FROM cosignatures WHERE size = $1 ORDER BY witness",
            &[&n],
        )?;
        rows.iter().map(cosignature).collect()
    }

    pub(crate) fn cosignature_rows_latest(&mut self) -> Result<Vec<CosignatureRow>> {
        let rows = self.query(
            "SELECT DISTINCT ON (witness) witness, size, line, checkpoint, at FROM cosignatures
             ORDER BY witness, size DESC",
            &[],
        )?;
        rows.iter().map(cosignature).collect()
    }
}
