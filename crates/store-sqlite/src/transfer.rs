//! Transfers between regional instances (migration 15): the rows the state machine commits
//! with each message, and their reads. See `anxin_records::transfer`.

use anxin_records::transfer::{OutboxRow, TransferMonthRow, TransferRow, TransferWrite};
use anxin_records::{Error, Result};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::db;

fn key32(bytes: Vec<u8>, what: &str) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(bytes).map_err(|_| Error::Corrupt(format!("{what} is not 32 bytes")))
}

fn int(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Store(format!("{what} {v} does not fit")))
}

/// Writes one step's rows inside the caller's transaction.
pub(crate) fn write(conn: &Connection, w: &TransferWrite) -> Result<()> {
    let mut st = conn
        .prepare_cached(
            "INSERT INTO transfers (id, role, peer, state, since, due, package, refusal, seal, person, request, received)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (id) DO UPDATE SET role = excluded.role, peer = excluded.peer,
                 state = excluded.state, since = excluded.since, due = excluded.due,
                 package = coalesce(excluded.package, transfers.package),
                 refusal = coalesce(excluded.refusal, transfers.refusal),
                 seal = coalesce(excluded.seal, transfers.seal),
                 person = coalesce(excluded.person, transfers.person),
                 request = coalesce(excluded.request, transfers.request),
                 received = coalesce(excluded.received, transfers.received)",
        )
        .map_err(db)?;
    for t in &w.transfers {
        st.execute(params![
            t.id,
            t.role,
            t.peer,
            t.state,
            t.since,
            t.due,
            t.package,
            t.refusal,
            t.seal,
            t.person.as_ref().map(|p| &p[..]),
            t.request,
            t.received
        ])
        .map_err(db)?;
    }
    let mut st = conn
        .prepare_cached("DELETE FROM transfer_outbox WHERE key = ?1")
        .map_err(db)?;
    for k in &w.outbox_take {
        st.execute([k]).map_err(db)?;
    }
    let mut st = conn
        .prepare_cached(
            "INSERT INTO transfer_outbox (key, peer, transfer, message, attempts, next_try)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (key) DO UPDATE SET peer = excluded.peer, transfer = excluded.transfer,
                 message = excluded.message, attempts = excluded.attempts, next_try = excluded.next_try",
        )
        .map_err(db)?;
    for o in &w.outbox_put {
        st.execute(params![
            o.key, o.peer, o.transfer, o.message, o.attempts, o.next_try
        ])
        .map_err(db)?;
    }
    let mut st = conn
        .prepare_cached(
            "INSERT INTO transfer_replies (sender, idem, reply) VALUES (?1, ?2, ?3)
             ON CONFLICT (sender, idem) DO NOTHING",
        )
        .map_err(db)?;
    for (sender, idem, reply) in &w.replies {
        st.execute(params![sender, idem, reply]).map_err(db)?;
    }
    let mut st = conn
        .prepare_cached(
            "INSERT INTO transfer_months (transfer, n, origin, entry, checkpoint_size, region, month, insurance, base_fen, person)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(db)?;
    for m in &w.months {
        st.execute(params![
            m.transfer,
            m.n,
            m.origin,
            int(m.entry, "log entry")?,
            int(m.checkpoint_size, "checkpoint size")?,
            m.region,
            m.month,
            m.insurance,
            m.base_fen,
            &m.person[..]
        ])
        .map_err(db)?;
    }
    Ok(())
}

const TRANSFER_COLUMNS: &str =
    "id, role, peer, state, since, due, package, refusal, seal, person, request, received";

fn transfer_row(r: &Row<'_>) -> rusqlite::Result<(TransferRow, Option<Vec<u8>>)> {
    Ok((
        TransferRow {
            id: r.get(0)?,
            role: r.get(1)?,
            peer: r.get(2)?,
            state: r.get(3)?,
            since: r.get(4)?,
            due: r.get(5)?,
            package: r.get(6)?,
            refusal: r.get(7)?,
            seal: r.get(8)?,
            person: None,
            request: r.get(10)?,
            received: r.get(11)?,
        },
        r.get(9)?,
    ))
}

fn with_person((mut row, person): (TransferRow, Option<Vec<u8>>)) -> Result<TransferRow> {
    row.person = person.map(|p| key32(p, "transfer person")).transpose()?;
    Ok(row)
}

pub(crate) fn all(conn: &Connection) -> Result<Vec<TransferRow>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers ORDER BY id"
        ))
        .map_err(db)?;
    let rows = st.query_map([], transfer_row).map_err(db)?;
    rows.map(|r| r.map_err(db).and_then(with_person)).collect()
}

pub(crate) fn one(conn: &Connection, id: &str) -> Result<Option<TransferRow>> {
    let mut st = conn
        .prepare_cached(&format!(
            "SELECT {TRANSFER_COLUMNS} FROM transfers WHERE id = ?1"
        ))
        .map_err(db)?;
    st.query_row([id], transfer_row)
        .optional()
        .map_err(db)?
        .map(with_person)
        .transpose()
}

pub(crate) fn outbox(conn: &Connection) -> Result<Vec<OutboxRow>> {
    let mut st = conn
        .prepare_cached(
            "SELECT key, peer, transfer, message, attempts, next_try FROM transfer_outbox ORDER BY key",
        )
        .map_err(db)?;
    let rows = st
        .query_map([], |r| {
            Ok(OutboxRow {
                key: r.get(0)?,
                peer: r.get(1)?,
                transfer: r.get(2)?,
                message: r.get(3)?,
                attempts: r.get(4)?,
                next_try: r.get(5)?,
            })
        })
        .map_err(db)?;
    rows.map(|r| r.map_err(db)).collect()
}

pub(crate) fn reply(conn: &Connection, sender: &str, idem: &str) -> Result<Option<Option<String>>> {
    let mut st = conn
        .prepare_cached("SELECT reply FROM transfer_replies WHERE sender = ?1 AND idem = ?2")
        .map_err(db)?;
    st.query_row([sender, idem], |r| r.get::<_, Option<String>>(0))
        .optional()
        .map_err(db)
}

pub(crate) fn months_of(conn: &Connection, transfer: &str) -> Result<Vec<TransferMonthRow>> {
    let mut st = conn
        .prepare_cached(
            "SELECT transfer, n, origin, entry, checkpoint_size, region, month, insurance, base_fen, person
             FROM transfer_months WHERE transfer = ?1 ORDER BY n",
        )
        .map_err(db)?;
    let rows = st
        .query_map([transfer], |r| {
            Ok((
                TransferMonthRow {
                    transfer: r.get(0)?,
                    n: r.get(1)?,
                    origin: r.get(2)?,
                    entry: r.get::<_, i64>(3)? as u64,
                    checkpoint_size: r.get::<_, i64>(4)? as u64,
                    region: r.get(5)?,
                    month: r.get(6)?,
                    insurance: r.get(7)?,
                    base_fen: r.get(8)?,
                    person: [0; 32],
                },
                r.get::<_, Vec<u8>>(9)?,
            ))
        })
        .map_err(db)?;
    rows.map(|r| {
        let (mut row, person) = r.map_err(db)?;
        row.person = key32(person, "transfer month person")?;
        Ok(row)
    })
    .collect()
}
