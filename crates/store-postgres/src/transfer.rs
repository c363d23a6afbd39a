//! Transfers between regional instances (migration 15): the rows the state machine commits
//! with each message, and their reads. See `anxin_records::transfer`.

use anxin_records::Result;
use anxin_records::transfer::{OutboxRow, TransferMonthRow, TransferRow, TransferWrite};
use postgres::Row;

use crate::{PgStore, PgTxn, col, int4, int8, key_col, u32_col, u64_col};

impl PgTxn<'_> {
    /// Writes one step's rows inside this transaction.
    pub(crate) fn write_transfer(&mut self, w: &TransferWrite) -> Result<()> {
        for t in &w.transfers {
            let person: Option<&[u8]> = t.person.as_ref().map(|p| &p[..]);
            self.execute(
                "INSERT INTO transfers (id, role, peer, state, since, due, package, refusal, seal, person, request, received)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (id) DO UPDATE SET role = excluded.role, peer = excluded.peer,
                     state = excluded.state, since = excluded.since, due = excluded.due,
                     package = coalesce(excluded.package, transfers.package),
                     refusal = coalesce(excluded.refusal, transfers.refusal),
                     seal = coalesce(excluded.seal, transfers.seal),
                     person = coalesce(excluded.person, transfers.person),
                     request = coalesce(excluded.request, transfers.request),
                     received = coalesce(excluded.received, transfers.received)",
                &[
                    &t.id,
                    &t.role,
                    &t.peer,
                    &t.state,
                    &t.since,
                    &t.due,
                    &t.package,
                    &t.refusal,
                    &t.seal,
                    &person,
                    &t.request,
                    &t.received,
                ],
            )?;
        }
        for k in &w.outbox_take {
            self.execute("DELETE FROM transfer_outbox WHERE key = $1", &[k])?;
        }
        for o in &w.outbox_put {
            let attempts = int4(o.attempts, "outbox attempts")?;
            self.execute(
                "INSERT INTO transfer_outbox (key, peer, transfer, message, attempts, next_try)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (key) DO UPDATE SET peer = excluded.peer, transfer = excluded.transfer,
                     message = excluded.message, attempts = excluded.attempts, next_try = excluded.next_try",
                &[&o.key, &o.peer, &o.transfer, &o.message, &attempts, &o.next_try],
            )?;
        }
        for (sender, idem, reply) in &w.replies {
            self.execute(
                "INSERT INTO transfer_replies (sender, idem, reply) VALUES ($1, $2, $3)
                 ON CONFLICT (sender, idem) DO NOTHING",
                &[sender, idem, reply],
            )?;
        }
        for m in &w.months {
            let (n, region) = (int4(m.n, "month number")?, int4(m.region, "region")?);
            let (entry, size) = (
                int8(m.entry, "log entry")?,
                int8(m.checkpoint_size, "checkpoint size")?,
            );
            self.execute(
                "INSERT INTO transfer_months (transfer, n, origin, entry, checkpoint_size, region, month, insurance, base_fen, person)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    &m.transfer,
                    &n,
                    &m.origin,
                    &entry,
                    &size,
                    &region,
                    &m.month,
                    &m.insurance,
                    &m.base_fen,
                    &&m.person[..],
                ],
            )?;
        }
        Ok(())
    }
}

fn transfer_row(r: &Row) -> Result<TransferRow> {
    let person: Option<Vec<u8>> = col(r, 9)?;
    Ok(TransferRow {
        id: col(r, 0)?,
        role: col(r, 1)?,
        peer: col(r, 2)?,
        state: col(r, 3)?,
        since: col(r, 4)?,
        due: col(r, 5)?,
        package: col(r, 6)?,
        refusal: col(r, 7)?,
        seal: col(r, 8)?,
        person: match person {
            Some(_) => Some(key_col(r, 9, "transfer person")?),
            None => None,
        },
        request: col(r, 10)?,
        received: col(r, 11)?,
    })
}

impl PgStore {
    pub(crate) fn transfers_all_rows(&mut self) -> Result<Vec<TransferRow>> {
        let rows = self.query(
            "SELECT id, role, peer, state, since, due, package, refusal, seal, person, request, received
             FROM transfers ORDER BY id",
            &[],
        )?;
        rows.iter().map(transfer_row).collect()
    }

    pub(crate) fn transfer_row(&mut self, id: &str) -> Result<Option<TransferRow>> {
        let rows = self.query(
            "SELECT id, role, peer, state, since, due, package, refusal, seal, person, request, received
             FROM transfers WHERE id = $1",
            &[&id],
        )?;
        rows.first().map(transfer_row).transpose()
    }

    pub(crate) fn transfer_outbox_rows(&mut self) -> Result<Vec<OutboxRow>> {
        let rows = self.query(
            "SELECT key, peer, transfer, message, attempts, next_try FROM transfer_outbox ORDER BY key",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRow {
                    key: col(r, 0)?,
                    peer: col(r, 1)?,
                    transfer: col(r, 2)?,
                    message: col(r, 3)?,
                    attempts: u32_col(r, 4, "outbox attempts")?,
                    next_try: col(r, 5)?,
                })
            })
            .collect()
    }

    pub(crate) fn transfer_reply_row(
        &mut self,
        sender: &str,
        idem: &str,
    ) -> Result<Option<Option<String>>> {
        let rows = self.query(
            "SELECT reply FROM transfer_replies WHERE sender = $1 AND idem = $2",
            &[&sender, &idem],
        )?;
        rows.first().map(|r| col(r, 0)).transpose()
    }

    pub(crate) fn transfer_month_rows(&mut self, transfer: &str) -> Result<Vec<TransferMonthRow>> {
        let rows = self.query(
            "SELECT transfer, n, origin, entry, checkpoint_size, region, month, insurance, base_fen, person
             FROM transfer_months WHERE transfer = $1 ORDER BY n",
            &[&transfer],
        )?;
        rows.iter()
            .map(|r| {
                Ok(TransferMonthRow {
                    transfer: col(r, 0)?,
                    n: u32_col(r, 1, "month number")?,
                    origin: col(r, 2)?,
                    entry: u64_col(r, 3, "log entry")?,
                    checkpoint_size: u64_col(r, 4, "checkpoint size")?,
                    region: u32_col(r, 5, "region")?,
                    month: col(r, 6)?,
                    insurance: col(r, 7)?,
                    base_fen: col(r, 8)?,
                    person: key_col(r, 9, "transfer month person")?,
                })
            })
            .collect()
    }
}
