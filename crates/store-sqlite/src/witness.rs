//! Witnessing between regional instances (migration 18): see `anxin_records::witness`.

use anxin_records::witness::{AlarmRow, CosignatureRow, SeenRow};
use anxin_records::{Error, Result};
use rusqlite::{Connection, Row, params};

use crate::db;

fn int(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Store(format!("{what} {v} does not fit")))
}

fn size(v: i64, what: &str) -> Result<u64> {
    u64::try_from(v).map_err(|_| Error::Corrupt(format!("{what} {v} is negative")))
}

pub(crate) fn seen(conn: &Connection) -> Result<Vec<SeenRow>> {
    let mut st = conn
        .prepare_cached("SELECT peer, size, root, checkpoint, at FROM witness_seen ORDER BY peer")
        .map_err(db)?;
    let rows = st
        .query_map([], |r: &Row<'_>| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Vec<u8>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(db)?;
    rows.map(|r| {
        let (peer, n, root, checkpoint, at) = r.map_err(db)?;
        Ok(SeenRow {
            peer,
            size: size(n, "witnessed size")?,
            root: <[u8; 32]>::try_from(root)
                .map_err(|_| Error::Corrupt("a witnessed root is not 32 bytes".into()))?,
            checkpoint,
            at,
        })
    })
    .collect()
}

pub(crate) fn set_seen(conn: &Connection, row: &SeenRow, old: Option<u64>) -> Result<bool> {
    let n = int(row.size, "witnessed size")?;
    let changed = match old {
        None => conn
            .prepare_cached(
                "INSERT INTO witness_seen (peer, size, root, checkpoint, at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (peer) DO NOTHING",
            )
            .and_then(|mut st| st.execute(params![row.peer, n, &row.root[..], row.checkpoint, row.at])),
        Some(old) => conn
            .prepare_cached(
                "UPDATE witness_seen SET size = ?2, root = ?3, checkpoint = ?4, at = ?5
                 WHERE peer = ?1 AND size = ?6",
            )
            .and_then(|mut st| {
                st.execute(params![
                    row.peer,
                    n,
                    &row.root[..],
                    row.checkpoint,
                    row.at,
                    int(old, "witnessed size").unwrap_or(-1)
                ])
            }),
    }
    .map_err(db)?;
    Ok(changed == 1)
}

pub(crate) fn alarm_add(conn: &Connection, row: &AlarmRow) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO witness_alarms (peer, at, kind, seen_size, size, zh, en, checkpoint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            row.peer,
            row.at,
            row.kind,
            int(row.seen_size, "seen size").unwrap_or(i64::MAX),
            int(row.size, "size").unwrap_or(i64::MAX),
            row.zh,
            row.en,
            row.checkpoint
        ])
    })
    .map_err(db)?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn alarms(conn: &Connection, limit: u32) -> Result<Vec<AlarmRow>> {
    let mut st = conn
        .prepare_cached(
            "SELECT id, peer, at, kind, seen_size, size, zh, en, checkpoint FROM witness_alarms
             ORDER BY id DESC LIMIT ?1",
        )
        .map_err(db)?;
    let rows = st
        .query_map([limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
            ))
        })
        .map_err(db)?;
    rows.map(|r| {
        let (id, peer, at, kind, seen_size, n, zh, en, checkpoint) = r.map_err(db)?;
        Ok(AlarmRow {
            id,
            peer,
            at,
            kind,
            seen_size: size(seen_size, "seen size")?,
            size: size(n, "size")?,
            zh,
            en,
            checkpoint,
        })
    })
    .collect()
}

pub(crate) fn cosignature_add(conn: &Connection, row: &CosignatureRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO cosignatures (witness, size, line, checkpoint, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (witness, size) DO UPDATE SET line = excluded.line,
             checkpoint = excluded.checkpoint, at = excluded.at",
    )
    .and_then(|mut st| {
        st.execute(params![
            row.witness,
            int(row.size, "cosigned size").unwrap_or(i64::MAX),
            row.line,
            row.checkpoint,
            row.at
        ])
    })
    .map_err(db)?;
    Ok(())
}

fn cosignatures(conn: &Connection, sql: &str, arg: Option<i64>) -> Result<Vec<CosignatureRow>> {
    let mut st = conn.prepare_cached(sql).map_err(db)?;
    let map = |r: &Row<'_>| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    };
    let rows: Vec<_> = match arg {
        Some(a) => st.query_map([a], map).map_err(db)?.collect(),
        None => st.query_map([], map).map_err(db)?.collect(),
    };
    rows.into_iter()
        .map(|r| {
            let (witness, n, line, checkpoint, at) = r.map_err(db)?;
            Ok(CosignatureRow {
                witness,
                size: size(n, "cosigned size")?,
                line,
                checkpoint,
                at,
            })
        })
        .collect()
}

pub(crate) fn cosignatures_at(conn: &Connection, n: u64) -> Result<Vec<CosignatureRow>> {
    cosignatures(
        conn,
        "SELECT witness, size, line, checkpoint, at FROM cosignatures WHERE size = ?1 ORDER BY witness",
        Some(int(n, "size")?),
    )
}

pub(crate) fn cosignatures_latest(conn: &Connection) -> Result<Vec<CosignatureRow>> {
    cosignatures(
        conn,
        "SELECT c.witness, c.size, c.line, c.checkpoint, c.at FROM cosignatures c
         JOIN (SELECT witness, max(size) AS size FROM cosignatures GROUP BY witness) m
           ON m.witness = c.witness AND m.size = c.size
         ORDER BY c.witness",
        None,
    )
}
