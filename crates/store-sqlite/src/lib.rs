//! The records store on embedded SQLite: no set-up, one file.
//!
//! WAL journal with `synchronous=FULL`: a commit is on disk when `commit` returns, so a record
//! acknowledged after its commit survives a crash or `kill -9`. Writers take the lock at
//! `BEGIN IMMEDIATE`, so one writer at a time and readers never block.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anxin_domain::codes::Insurance;
use anxin_ledger::Hash;
use anxin_records::access::{AccessRow, AccountRow, NewAccount, SessionKind};
use anxin_records::inbox::{DeliveryRow, DeliveryState, KindCounts, MessageRow, NewMessage};
use anxin_records::jobs::{JobProgress, JobRefusal, JobRow, JobWrite, NewJob};
use anxin_records::signup::{NewSignup, SignupDecision, SignupRow, SignupState};
use anxin_records::store::{
    ALERT_STEP_COLUMNS, AlertStepRow, CASE_STEP_COLUMNS, CaseStepRow, CertificateCodeRow, ChildRow,
    ContributionRow, EventRow, EvidenceRow, Head, OrgRow, PayerMonthRow, PayerWorkerRow, PersonRow,
    PostingRow, RegistryCursor, RegistryPage, Slot, Store, Txn, WriteBatch, insurance_list,
};
use anxin_records::{Error, Result};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

pub mod codes;
mod transfer;
mod witness;

/// Append-only: a released migration is never edited; new ones are added at the end.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_postings_view.sql"),
    include_str!("../migrations/0003_access.sql"),
    include_str!("../migrations/0004_payer_index.sql"),
    include_str!("../migrations/0005_certificate_events.sql"),
    include_str!("../migrations/0006_access_chain.sql"),
    include_str!("../migrations/0007_import_jobs.sql"),
    include_str!("../migrations/0008_session_kind.sql"),
    include_str!("../migrations/0009_tree_hashes.sql"),
    include_str!("../migrations/0010_certificate_codes.sql"),
    include_str!("../migrations/0011_inbox.sql"),
    include_str!("../migrations/0012_cases.sql"),
    include_str!("../migrations/0013_case_evidence.sql"),
    include_str!("../migrations/0014_signups.sql"),
    include_str!("../migrations/0015_transfers.sql"),
    include_str!("../migrations/0016_alert_steps.sql"),
    include_str!("../migrations/0017_rebuilt_contribution_bodies.sql"),
    include_str!("../migrations/0018_witness.sql"),
    include_str!("../migrations/0019_compact_rows.sql"),
    include_str!("../migrations/0020_stored_codes.sql"),
];

pub struct SqliteStore {
    conn: Connection,
    /// The file, for opening readers beside this connection (`None` in memory).
    path: Option<PathBuf>,
}

/// A slot in the order probes should take: by person key (the `person_ids` index), then the
/// rest of the `contributions_slot` index's columns as SQLite compares them.
fn slot_order(s: &Slot) -> (&[u8; 32], i32, &'static str, u32, &'static str, &str) {
    (
        &s.person,
        s.month,
        s.insurance.as_str(),
        s.region,
        s.payer.as_str(),
        s.payer_code.as_str(),
    )
}

fn db(e: rusqlite::Error) -> Error {
    Error::store(e)
}

fn hash_of(bytes: Vec<u8>, what: &str) -> Result<Hash> {
    bytes
        .try_into()
        .map_err(|_| Error::Corrupt(format!("{what} is not 32 bytes")))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path).map_err(db)?;
        let mut store = Self::with_connection(conn)?;
        store.path = Some(path.to_path_buf());
        Ok(store)
    }

    /// Opens the database at `path` for reading only (a reader beside the one writer): WAL
    /// lets it read a committed snapshot while the writer writes, and the connection refuses
    /// every write. The schema must already be this program's.
    pub fn open_read_only(path: &Path) -> Result<SqliteStore> {
        use rusqlite::OpenFlags;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db)?;
        conn.execute_batch(
            "PRAGMA query_only = ON;
             PRAGMA cache_size = -65536;
             PRAGMA temp_store = MEMORY;
             PRAGMA busy_timeout = 10000;",
        )
        .map_err(db)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        if version as usize != MIGRATIONS.len() {
            return Err(Error::Corrupt(format!(
                "a reader found schema version {version}, not {}",
                MIGRATIONS.len()
            )));
        }
        Ok(SqliteStore {
            conn,
            path: Some(path.to_path_buf()),
        })
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<SqliteStore> {
        Self::with_connection(Connection::open_in_memory().map_err(db)?)
    }

    fn with_connection(conn: Connection) -> Result<SqliteStore> {
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = OFF;
             PRAGMA cache_size = -262144;
             PRAGMA wal_autocheckpoint = 16384;
             PRAGMA temp_store = MEMORY;
             PRAGMA busy_timeout = 10000;",
        )
        .map_err(db)?;
        let mut store = SqliteStore { conn, path: None };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        if version as usize > MIGRATIONS.len() {
            return Err(Error::refused(
                format!(
                    "数据库结构版本 {version} 比本程序新（{}）：请升级 anxin",
                    MIGRATIONS.len()
                ),
                format!(
                    "the database schema version {version} is newer than this program's ({}): upgrade anxin",
                    MIGRATIONS.len()
                ),
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            tx.execute_batch(sql).map_err(db)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        Ok(())
    }

    /// Direct access for tests and benchmarks (the plain bulk-insert baseline).
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

fn read_head(conn: &Connection) -> Result<Head> {
    let row = conn
        .query_row(
            "SELECT size, root, frontier, checkpoint FROM head WHERE id = 1",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()
        .map_err(db)?;
    let Some((size, root, frontier, checkpoint)) = row else {
        return Ok(Head::default());
    };
    if frontier.len() % 32 != 0 {
        return Err(Error::Corrupt(
            "log head frontier is not a list of 32-byte hashes".into(),
        ));
    }
    Ok(Head {
        size: size as u64,
        root: hash_of(root, "log head root")?,
        frontier: frontier
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect(),
        checkpoint,
    })
}

struct SqliteTxn<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Txn for SqliteTxn<'_> {
    fn head(&mut self) -> Result<Head> {
        read_head(&self.tx)
    }

    fn existing_keys(&mut self, keys: &[&str]) -> Result<HashMap<String, (u64, Hash)>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT seq, leaf FROM events WHERE key = ?1")
            .map_err(db)?;
        // Probed in the key index's order, so consecutive probes share its pages.
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        let mut found = HashMap::new();
        for key in keys {
            if let Some((seq, leaf)) = stmt
                .query_row([key], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
                })
                .optional()
                .map_err(db)?
            {
                found.insert(key.to_string(), (seq as u64, hash_of(leaf, "leaf hash")?));
            }
        }
        Ok(found)
    }

    fn filled_slots(&mut self, slots: &[Slot]) -> Result<HashMap<Slot, String>> {
        let mut stmt = self
            .tx
            .prepare_cached(&format!(
                "SELECT coalesce(e.key, '') FROM {CONTRIBUTION_FROM}
                 WHERE p.person = ?1 AND c.month = ?2 AND c.insurance = ?3
                 AND c.region = ?4 AND c.payer = ?5 AND c.payer_code = ?6"
            ))
            .map_err(db)?;
        // Probed in person-key order, so consecutive probes share index pages.
        let mut sorted: Vec<&Slot> = slots.iter().collect();
        sorted.sort_unstable_by(|a, b| slot_order(a).cmp(&slot_order(b)));
        let mut found = HashMap::new();
        for s in sorted {
            if let Some(id) = stmt
                .query_row(
                    params![
                        &s.person[..],
                        s.month,
                        codes::id(s.insurance)?,
                        s.region,
                        codes::id(s.payer)?,
                        s.payer_code
                    ],
                    |r| r.get::<_, String>(0),
                )
                .optional()
                .map_err(db)?
            {
                found.insert(s.clone(), id);
            }
        }
        Ok(found)
    }

    fn known_persons(&mut self, persons: &[[u8; 32]]) -> Result<HashSet<[u8; 32]>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT 1 FROM persons WHERE person = ?1")
            .map_err(db)?;
        let mut found = HashSet::new();
        for p in persons {
            if stmt.exists([&p[..]]).map_err(db)? {
                found.insert(*p);
            }
        }
        Ok(found)
    }

    fn known_orgs(&mut self, codes: &[&str]) -> Result<HashSet<String>> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT 1 FROM orgs WHERE code = ?1")
            .map_err(db)?;
        let mut found = HashSet::new();
        for c in codes {
            if stmt.exists([c]).map_err(db)? {
                found.insert(c.to_string());
            }
        }
        Ok(found)
    }

    fn write(&mut self, batch: &WriteBatch) -> Result<()> {
        let tx = &self.tx;
        if let Some(t) = &batch.transfer {
            transfer::write(tx, t)?;
        }
        // Kinds are stored by id (migration 19); one not seen before is given the next.
        let mut kinds: Vec<&str> = batch.events.iter().map(|e| e.kind.as_str()).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO event_kinds (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
            )
            .map_err(db)?;
        for kind in kinds {
            stmt.execute([kind]).map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO events (seq, key, kind, body, leaf)
                 VALUES (?1, ?2, (SELECT id FROM event_kinds WHERE name = ?3), ?4, ?5)",
            )
            .map_err(db)?;
        for e in &batch.events {
            stmt.execute(params![e.seq as i64, e.key, e.kind, e.body, &e.leaf[..]])
                .map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO persons (person, sealed, hukou_region, residence_region, employment_form, platforms,
                 permit_region, permit_since, household, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT (person) DO UPDATE SET sealed = excluded.sealed, hukou_region = excluded.hukou_region,
                 residence_region = excluded.residence_region, employment_form = excluded.employment_form,
                 platforms = excluded.platforms, permit_region = excluded.permit_region,
                 permit_since = excluded.permit_since, household = excluded.household, seq = excluded.seq",
            )
            .map_err(db)?;
        for p in &batch.persons {
            stmt.execute(params![
                &p.person[..],
                p.sealed,
                p.hukou_region,
                p.residence_region,
                p.employment_form,
                p.platforms,
                p.permit_region,
                p.permit_since,
                p.household,
                p.seq as i64
            ])
            .map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO case_steps ({CASE_STEP_COLUMNS}) VALUES
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
            ))
            .map_err(db)?;
        for c in &batch.case_steps {
            stmt.execute(params![
                c.seq as i64,
                c.case_id,
                c.step,
                c.case_kind,
                c.action,
                c.state,
                &c.person[..],
                c.region,
                c.holder_role,
                c.holder_region,
                c.level,
                c.actor,
                c.at,
                c.since,
                c.due,
                c.clock,
                c.outcome,
                c.subject,
                c.party
            ])
            .map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO case_evidence (seq, case_id, n, person, media_type, size, sha256, actor, at, sealed, name_sealed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(db)?;
        for e in &batch.case_evidence {
            let size = i64::try_from(e.size)
                .map_err(|_| Error::Store(format!("evidence size {} does not fit", e.size)))?;
            stmt.execute(params![
                e.seq as i64,
                e.case_id,
                e.n,
                &e.person[..],
                e.media_type,
                size,
                e.sha256,
                e.actor,
                e.at,
                e.sealed,
                e.name_sealed
            ])
            .map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(&format!(
                "INSERT INTO alert_steps ({ALERT_STEP_COLUMNS}) VALUES
                 (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            ))
            .map_err(db)?;
        for a in &batch.alert_steps {
            stmt.execute(params![
                a.seq as i64,
                a.alert_id,
                a.step,
                a.month,
                a.area,
                a.alert_kind,
                a.person,
                a.action,
                a.state,
                a.actor,
                a.at,
                a.via,
                a.contact_at,
                a.note,
                a.outcome
            ])
            .map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO orgs (code, name, kind, region, seq) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                 region = excluded.region, seq = excluded.seq",
            )
            .map_err(db)?;
        for o in &batch.orgs {
            stmt.execute(params![o.code, o.name, o.kind, o.region, o.seq as i64])
                .map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO children (child, sealed, guardian, relation, school_region, seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (child) DO UPDATE SET sealed = excluded.sealed, guardian = excluded.guardian,
                 relation = excluded.relation, school_region = excluded.school_region, seq = excluded.seq",
            )
            .map_err(db)?;
        for c in &batch.children {
            stmt.execute(params![
                &c.child[..],
                c.sealed,
                &c.guardian[..],
                c.relation,
                c.school_region,
                c.seq as i64
            ])
            .map_err(db)?;
        }
        // Each person key is stored once (migration 19): a person new to the contributions is
        // given the next `pid`, in the order of the batch, so a new person's rows are appended
        // to the slot index rather than spread over it.
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO person_ids (person) VALUES (?1) ON CONFLICT (person) DO NOTHING",
            )
            .map_err(db)?;
        let mut seen = HashSet::new();
        for c in &batch.contributions {
            if seen.insert(c.person) {
                stmt.execute([&c.person[..]]).map_err(db)?;
            }
        }
        // In log order: the table, keyed by seq, is appended to and its pages stay full. The
        // record ID is the event's key, stored there; codes are stored as their ids
        // (migration 20).
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO contribution_rows (seq, pid, month, insurance, region, payer, payer_code,
                 base_fen, amount_fen, account_fen, status, reason, paid_on)
                 VALUES (?1, (SELECT pid FROM person_ids WHERE person = ?2), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .map_err(db)?;
        let mut contributions: Vec<&ContributionRow> = batch.contributions.iter().collect();
        contributions.sort_unstable_by_key(|c| c.seq);
        for c in contributions {
            stmt.execute(params![
                c.seq as i64,
                &c.person[..],
                c.month,
                codes::id(c.insurance)?,
                c.region,
                codes::id(c.payer)?,
                c.payer_code,
                c.base_fen,
                c.amount_fen,
                c.account_fen,
                codes::id(c.status)?,
                c.reason.map(codes::id).transpose()?,
                c.paid_on
            ])
            .map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO access_log (at, account, username, role, person, what, purpose, seq)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .map_err(db)?;
        for (seq, row) in &batch.access {
            stmt.execute(params![
                row.at,
                row.account,
                row.username,
                row.role,
                &row.person[..],
                row.what,
                row.purpose,
                *seq as i64
            ])
            .map_err(db)?;
        }
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO tree_hashes (level, idx, hash) VALUES (?1, ?2, ?3)
                 ON CONFLICT (level, idx) DO NOTHING",
            )
            .map_err(db)?;
        for t in &batch.tree_hashes {
            stmt.execute(params![t.level, t.index as i64, &t.hash[..]])
                .map_err(db)?;
        }
        Ok(())
    }

    fn set_head(&mut self, head: &Head) -> Result<()> {
        let frontier: Vec<u8> = head.frontier.concat();
        self.tx
            .execute(
                "INSERT INTO head (id, size, root, frontier, checkpoint) VALUES (1, ?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root,
                 frontier = excluded.frontier, checkpoint = excluded.checkpoint",
                params![head.size as i64, &head.root[..], frontier, head.checkpoint],
            )
            .map_err(db)?;
        self.tx
            .execute(
                "INSERT INTO checkpoints (size, text) VALUES (?1, ?2) ON CONFLICT (size) DO NOTHING",
                params![head.size as i64, head.checkpoint],
            )
            .map_err(db)?;
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().map_err(db)
    }

    fn save_job(&mut self, job: &JobWrite) -> Result<()> {
        let p = &job.progress;
        let (zh, en) = match &p.error {
            Some((zh, en)) => (Some(zh.as_str()), Some(en.as_str())),
            None => (None, None),
        };
        self.tx
            .execute(
                "UPDATE import_jobs SET rows_total = ?2, rows_read = ?3, last_row = ?4, read = ?5,
                 added = ?6, unchanged = ?7, rejected = ?8, finished = ?9, error_zh = ?10,
                 error_en = ?11, content = CASE WHEN ?9 THEN X'' ELSE content END WHERE id = ?1",
                params![
                    job.id,
                    p.rows_total as i64,
                    p.rows_read as i64,
                    p.last_row as i64,
                    p.read as i64,
                    p.added as i64,
                    p.unchanged as i64,
                    p.rejected as i64,
                    p.finished,
                    zh,
                    en
                ],
            )
            .map_err(db)?;
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO import_refusals (job, n, row_no, col, value, zh, en)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (job, n) DO NOTHING",
            )
            .map_err(db)?;
        for r in &job.refusals {
            stmt.execute(params![
                job.id,
                r.n as i64,
                r.row as i64,
                r.column,
                r.value,
                r.zh,
                r.en
            ])
            .map_err(db)?;
        }
        Ok(())
    }
}

const JOB_COLUMNS: &str = "id, owner, file_name, kind, format, today, created_at, rows_total,
    rows_read, last_row, read, added, unchanged, rejected, finished, error_zh, error_en, path,
    digest";

fn job_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
    let zh: Option<String> = r.get(15)?;
    let en: Option<String> = r.get(16)?;
    Ok(JobRow {
        id: r.get(0)?,
        owner: r.get(1)?,
        file_name: r.get(2)?,
        kind: r.get(3)?,
        format: r.get(4)?,
        today: r.get(5)?,
        path: r.get(17)?,
        digest: r.get(18)?,
        created_at: r.get(6)?,
        progress: JobProgress {
            rows_total: n(7)?,
            rows_read: n(8)?,
            last_row: n(9)?,
            read: n(10)?,
            added: n(11)?,
            unchanged: n(12)?,
            rejected: n(13)?,
            finished: r.get(14)?,
            error: zh.zip(en),
        },
    })
}

/// An event row as read: its columns, and the contributions row its bytes are rebuilt from
/// when they are stored empty (`anxin_records::store::contribution_body`).
type RawEvent = (
    i64,
    String,
    String,
    Vec<u8>,
    Vec<u8>,
    Option<ContributionRow>,
);

/// The events' columns, with those of the contributions row joined where a body is empty.
/// A kind is stored as its `event_kinds` id (migration 19); one with no name reads as its number,
/// which names no event, so the audit reports the entry.
const EVENT_COLUMNS: &str = "e.seq, e.key, coalesce((SELECT k.name FROM event_kinds k WHERE k.id = e.kind), 'kind ' || e.kind), e.body, e.leaf, c.seq, e.key, p.person, c.month, c.insurance, c.region, c.payer, c.payer_code, c.base_fen, c.amount_fen, c.account_fen, c.status, c.reason, c.paid_on";
/// A contribution's record ID is its event's key, and its person is found by `pid`.
const EVENT_FROM: &str =
    "events e LEFT JOIN contribution_rows c ON length(e.body) = 0 AND c.seq = e.seq
     LEFT JOIN person_ids p ON p.pid = c.pid";

/// The `event_kinds` id of `certificate_issued`, fixed by migration 19 (the partial index
/// `events_certificates` is on it).
const CERTIFICATE_KIND: i64 = 5;

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEvent> {
    let body: Vec<u8> = r.get(3)?;
    // A row that does not read as a contribution (an edited code, a person key of the wrong
    // length) rebuilds nothing: the entry reads as empty bytes and fails its stored hash.
    let rebuilt = match r.get::<_, Option<i64>>(5)? {
        Some(_) if body.is_empty() => contribution_at(r, 5).ok().and_then(|(mut row, person)| {
            row.person = key32(person).ok()?;
            Some(row)
        }),
        _ => None,
    };
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, body, r.get(4)?, rebuilt))
}

fn to_event(
    (seq, key, kind, body, leaf, rebuilt): RawEvent,
) -> Result<(EventRow, Option<ContributionRow>)> {
    Ok((
        EventRow {
            seq: seq as u64,
            key,
            kind,
            body,
            leaf: hash_of(leaf, "leaf hash")?,
        },
        rebuilt,
    ))
}

/// How many persons a page of a payer's workers walks before it sorts the payer's rows instead
/// (`payer_workers`): about 45 ms of probes on this machine (4.5 µs each, measured at
/// 1,000,000 workers).
const PAYER_WALK: u32 = 10_000;

/// What a page of a payer's workers says of each (`PayerWorkerColumns` after the person key),
/// over that person's `contribution_rows`, whichever way the page is read (insurances as their
/// stored ids, read back by `payer_worker`).
const PAYER_WORKER_SUMS: &str = "COUNT(DISTINCT month), MIN(month), MAX(month), SUM(amount_fen), group_concat(DISTINCT insurance)";

impl SqliteStore {
    /// `Store::payer_workers`, walking at most `walk` persons before it sorts.
    fn payer_workers_walking(
        &mut self,
        code: &str,
        after: Option<&[u8; 32]>,
        limit: u32,
        walk: u32,
    ) -> Result<Vec<PayerWorkerRow>> {
        // An empty blob sorts before every key: "from the start".
        let after: &[u8] = after.map_or(&[], |a| &a[..]);
        if code.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // The payer index holds `pid`, not the person key (migration 19). A payer who paid for
        // many of the persons fills a page soonest by walking the persons in key order and
        // probing the index for each; one who paid for few, by sorting its own rows. The walk
        // goes first and gives up after `walk` persons (a payer under limit/walk of
        // the persons), so a page costs at most that many probes or the payer's rows.
        let mut page = Vec::new();
        let mut walked = 0;
        {
            let mut persons = self
                .conn
                .prepare_cached(
                    "SELECT person, pid FROM person_ids WHERE person > ?1 ORDER BY person LIMIT ?2",
                )
                .map_err(db)?;
            let mut probe = self
                .conn
                // The person key is passed through (?3) so both ways read the same columns.
                .prepare_cached(&format!(
                    "SELECT ?3, {PAYER_WORKER_SUMS} FROM contribution_rows
                     WHERE payer_code = ?1 AND payer_code <> '' AND pid = ?2
                       AND status IN ({})",
                    codes::paid_ids()
                ))
                .map_err(db)?;
            let mut rows = persons.query(params![after, walk]).map_err(db)?;
            while let Some(r) = rows.next().map_err(db)? {
                walked += 1;
                let person: Vec<u8> = r.get(0).map_err(db)?;
                let pid: i64 = r.get(1).map_err(db)?;
                let found = probe
                    .query_row(params![code, pid, person], payer_worker_columns)
                    .map_err(db)?;
                if found.1 > 0 {
                    page.push(payer_worker(found)?);
                    if page.len() == limit as usize {
                        return Ok(page);
                    }
                }
            }
        }
        if walked < walk {
            // Every person after `after` was probed.
            return Ok(page);
        }
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT p.person, {PAYER_WORKER_SUMS}
                 FROM contribution_rows c CROSS JOIN person_ids p ON p.pid = c.pid
                 WHERE c.payer_code = ?1 AND c.payer_code <> '' AND p.person > ?2
                   AND c.status IN ({})
                 GROUP BY p.person ORDER BY p.person LIMIT ?3",
                codes::paid_ids()
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(params![code, after, limit], payer_worker_columns)
            .map_err(db)?;
        rows.map(|r| payer_worker(r.map_err(db)?)).collect()
    }
}

/// A payer's worker as its query reads it: person key, months, first and last month, amount,
/// insurances (a person with no paid row reads 0 months and no first month).
type PayerWorkerColumns = (
    Vec<u8>,
    i64,
    Option<i32>,
    Option<i32>,
    Option<i64>,
    Option<String>,
);

fn payer_worker_columns(r: &rusqlite::Row<'_>) -> rusqlite::Result<PayerWorkerColumns> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

fn payer_worker(
    (person, months, first_month, last_month, amount_fen, insurances): PayerWorkerColumns,
) -> Result<PayerWorkerRow> {
    let missing = || Error::Corrupt("a payer's worker row without a month".into());
    Ok(PayerWorkerRow {
        person: key32(person)?,
        months: u32::try_from(months)
            .map_err(|_| Error::Corrupt("a month count out of range".into()))?,
        first_month: first_month.ok_or_else(missing)?,
        last_month: last_month.ok_or_else(missing)?,
        amount_fen: amount_fen.ok_or_else(missing)?,
        insurances: insurance_list(&codes::codes_of_ids::<Insurance>(
            &insurances.unwrap_or_default(),
        )),
    })
}

fn key32(bytes: Vec<u8>) -> Result<[u8; 32]> {
    hash_of(bytes, "person key")
}

/// A contributions row's columns as stored (codes as their ids, migration 20), from
/// `CONTRIBUTION_FROM`.
const CONTRIBUTION_COLUMNS: &str = "c.seq, coalesce(e.key, ''), p.person, c.month, c.insurance, c.region, c.payer, c.payer_code, c.base_fen, c.amount_fen, c.account_fen, c.status, c.reason, c.paid_on";
/// What the `contributions` view reads, without turning codes back into text.
const CONTRIBUTION_FROM: &str = "contribution_rows c JOIN person_ids p ON p.pid = c.pid
     LEFT JOIN events e ON e.seq = c.seq";

fn contribution(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ContributionRow, Vec<u8>)> {
    contribution_at(r, 0)
}

/// [`CONTRIBUTION_COLUMNS`] for a walk that needs neither the record ID nor the person's key:
/// read from `contribution_rows` alone, the third column is the person's number and the record
/// ID is left empty.
const LEAN_CONTRIBUTION_COLUMNS: &str = "c.seq, '', c.pid, c.month, c.insurance, c.region, c.payer, c.payer_code, c.base_fen, c.amount_fen, c.account_fen, c.status, c.reason, c.paid_on";

/// A contributions row whose columns start at `at`, and its person (the key, or the number
/// where [`LEAN_CONTRIBUTION_COLUMNS`] were read); the row's own `person` is left zero.
fn contribution_at<P: rusqlite::types::FromSql>(
    r: &rusqlite::Row<'_>,
    at: usize,
) -> rusqlite::Result<(ContributionRow, P)> {
    Ok((
        ContributionRow {
            seq: r.get::<_, i64>(at)? as u64,
            record_id: r.get(at + 1)?,
            person: [0; 32],
            month: r.get(at + 3)?,
            insurance: codes::read(r, at + 4)?,
            region: r.get(at + 5)?,
            payer: codes::read(r, at + 6)?,
            payer_code: r.get(at + 7)?,
            base_fen: r.get(at + 8)?,
            amount_fen: r.get(at + 9)?,
            account_fen: r.get(at + 10)?,
            status: codes::read(r, at + 11)?,
            reason: match r.get::<_, Option<i64>>(at + 12)? {
                None => None,
                Some(_) => Some(codes::read(r, at + 12)?),
            },
            paid_on: r.get(at + 13)?,
        },
        r.get(at + 2)?,
    ))
}

const PERSON_COLUMNS: &str = "person, sealed, hukou_region, residence_region, employment_form, platforms, permit_region, permit_since, household, seq";

fn person(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Vec<u8>, PersonRow)> {
    person_at(r, 0)
}

/// A persons row whose [`PERSON_COLUMNS`] start at `at`.
fn person_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<(Vec<u8>, PersonRow)> {
    Ok((
        r.get(at)?,
        PersonRow {
            person: [0; 32],
            sealed: r.get(at + 1)?,
            hukou_region: r.get(at + 2)?,
            residence_region: r.get(at + 3)?,
            employment_form: r.get(at + 4)?,
            platforms: r.get(at + 5)?,
            permit_region: r.get(at + 6)?,
            permit_since: r.get(at + 7)?,
            household: r.get(at + 8)?,
            seq: r.get::<_, i64>(at + 9)? as u64,
        },
    ))
}

fn child(r: &rusqlite::Row<'_>) -> rusqlite::Result<(Vec<u8>, Vec<u8>, ChildRow)> {
    Ok((
        r.get(0)?,
        r.get(2)?,
        ChildRow {
            child: [0; 32],
            sealed: r.get(1)?,
            guardian: [0; 32],
            relation: r.get(3)?,
            school_region: r.get(4)?,
            seq: r.get::<_, i64>(5)? as u64,
        },
    ))
}

impl SqliteStore {
    fn contributions_where(
        &mut self,
        clause: &str,
        p: impl rusqlite::Params,
    ) -> Result<Vec<ContributionRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {CONTRIBUTION_COLUMNS} FROM {CONTRIBUTION_FROM} {clause}"
            ))
            .map_err(db)?;
        let rows = stmt.query_map(p, contribution).map_err(db)?;
        rows.map(|r| {
            let (mut row, person) = r.map_err(db)?;
            row.person = key32(person)?;
            Ok(row)
        })
        .collect()
    }

    fn persons_where(&mut self, clause: &str, p: impl rusqlite::Params) -> Result<Vec<PersonRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {PERSON_COLUMNS} FROM persons {clause}"))
            .map_err(db)?;
        let rows = stmt.query_map(p, person).map_err(db)?;
        rows.map(|r| {
            let (key, mut row) = r.map_err(db)?;
            row.person = key32(key)?;
            Ok(row)
        })
        .collect()
    }

    fn children_where(&mut self, clause: &str, p: impl rusqlite::Params) -> Result<Vec<ChildRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT child, sealed, guardian, relation, school_region, seq FROM children {clause}"))
            .map_err(db)?;
        let rows = stmt.query_map(p, child).map_err(db)?;
        rows.map(|r| {
            let (c, g, mut row) = r.map_err(db)?;
            row.child = key32(c)?;
            row.guardian = key32(g)?;
            Ok(row)
        })
        .collect()
    }

    fn events_where(&mut self, clause: &str, p: impl rusqlite::Params) -> Result<Vec<EventRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM {EVENT_FROM} {clause}"
            ))
            .map_err(db)?;
        let rows = stmt.query_map(p, event_row).map_err(db)?;
        let rows = rows
            .map(|r| to_event(r.map_err(db)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(anxin_records::store::with_rebuilt_bodies(rows))
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn transfers_all(&mut self) -> Result<Vec<anxin_records::transfer::TransferRow>> {
        transfer::all(&self.conn)
    }

    fn transfer(&mut self, id: &str) -> Result<Option<anxin_records::transfer::TransferRow>> {
        transfer::one(&self.conn, id)
    }

    fn transfer_outbox(&mut self) -> Result<Vec<anxin_records::transfer::OutboxRow>> {
        transfer::outbox(&self.conn)
    }

    fn transfer_reply(&mut self, sender: &str, idem: &str) -> Result<Option<Option<String>>> {
        transfer::reply(&self.conn, sender, idem)
    }

    fn transfer_months_of(
        &mut self,
        transfer: &str,
    ) -> Result<Vec<anxin_records::transfer::TransferMonthRow>> {
        transfer::months_of(&self.conn, transfer)
    }

    fn witness_seen(&mut self) -> Result<Vec<anxin_records::witness::SeenRow>> {
        witness::seen(&self.conn)
    }

    fn witness_set_seen(
        &mut self,
        row: &anxin_records::witness::SeenRow,
        old_size: Option<u64>,
    ) -> Result<bool> {
        witness::set_seen(&self.conn, row, old_size)
    }

    fn witness_alarm_add(&mut self, row: &anxin_records::witness::AlarmRow) -> Result<i64> {
        witness::alarm_add(&self.conn, row)
    }

    fn witness_alarms(&mut self, limit: u32) -> Result<Vec<anxin_records::witness::AlarmRow>> {
        witness::alarms(&self.conn, limit)
    }

    fn cosignature_add(&mut self, row: &anxin_records::witness::CosignatureRow) -> Result<()> {
        witness::cosignature_add(&self.conn, row)
    }

    fn cosignatures_at(
        &mut self,
        size: u64,
    ) -> Result<Vec<anxin_records::witness::CosignatureRow>> {
        witness::cosignatures_at(&self.conn, size)
    }

    fn cosignatures_latest(&mut self) -> Result<Vec<anxin_records::witness::CosignatureRow>> {
        witness::cosignatures_latest(&self.conn)
    }

    fn reader(&self) -> Result<Option<Box<dyn Store>>> {
        match &self.path {
            Some(path) => Ok(Some(Box::new(SqliteStore::open_read_only(path)?))),
            None => Ok(None),
        }
    }

    fn begin_read(&mut self) -> Result<()> {
        // The snapshot is taken by the first read and kept until the end (WAL).
        self.conn
            .prepare_cached("BEGIN DEFERRED")
            .and_then(|mut st| st.execute([]))
            .map(drop)
            .map_err(db)
    }

    fn end_read(&mut self) -> Result<()> {
        if self.conn.is_autocommit() {
            return Ok(());
        }
        self.conn
            .prepare_cached("COMMIT")
            .and_then(|mut st| st.execute([]))
            .map(drop)
            .map_err(db)
    }

    fn begin(&mut self) -> Result<Box<dyn Txn + '_>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        Ok(Box::new(SqliteTxn { tx }))
    }

    fn head(&mut self) -> Result<Head> {
        read_head(&self.conn)
    }

    fn meta(&mut self, name: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    fn set_meta(&mut self, name: &str, value: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [name, value],
            )
            .map_err(db)?;
        Ok(())
    }

    fn leaves(&mut self, from: u64, limit: u64) -> Result<Vec<(u64, Hash)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, leaf FROM events WHERE seq >= ?1 ORDER BY seq LIMIT ?2")
            .map_err(db)?;
        let rows = stmt
            .query_map(params![from as i64, limit as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (seq, leaf) = r.map_err(db)?;
            Ok((seq as u64, hash_of(leaf, "leaf hash")?))
        })
        .collect()
    }

    fn tree_hashes(&mut self, level: u8, from: u64, to: u64) -> Result<Vec<(u64, Hash)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT idx, hash FROM tree_hashes WHERE level = ?1 AND idx >= ?2 AND idx < ?3 ORDER BY idx",
            )
            .map_err(db)?;
        let (from, to) = (from.min(i64::MAX as u64), to.min(i64::MAX as u64));
        let rows = stmt
            .query_map(params![level, from as i64, to as i64], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (idx, hash) = r.map_err(db)?;
            Ok((idx as u64, hash_of(hash, "tree hash")?))
        })
        .collect()
    }

    fn events(&mut self, from: u64, to: u64) -> Result<Vec<EventRow>> {
        self.events_where(
            "WHERE e.seq >= ?1 AND e.seq < ?2 ORDER BY e.seq",
            params![from as i64, to as i64],
        )
    }

    fn event_by_key(&mut self, key: &str) -> Result<Option<EventRow>> {
        Ok(self.events_where("WHERE e.key = ?1", [key])?.pop())
    }

    fn certificate_events(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>> {
        self.events_where(
            &format!("WHERE e.kind = {CERTIFICATE_KIND} AND e.seq >= ?1 ORDER BY e.seq LIMIT ?2"),
            params![from as i64, limit as i64],
        )
    }

    fn events_after(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>> {
        self.events_where(
            "WHERE e.seq >= ?1 ORDER BY e.seq LIMIT ?2",
            params![from as i64, limit as i64],
        )
    }

    fn contributions(&mut self, from: u64, to: u64) -> Result<Vec<ContributionRow>> {
        self.contributions_where(
            "WHERE c.seq >= ?1 AND c.seq < ?2 ORDER BY c.seq",
            params![from as i64, to as i64],
        )
    }

    fn postings(&mut self, from: u64, to: u64) -> Result<Vec<PostingRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, leg, account, amount_fen FROM postings WHERE seq >= ?1 AND seq < ?2 ORDER BY seq, leg")
            .map_err(db)?;
        let rows = stmt
            .query_map(params![from as i64, to as i64], |r| {
                Ok(PostingRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    leg: r.get(1)?,
                    account: r.get(2)?,
                    amount_fen: r.get(3)?,
                })
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn projection_rows_after(&mut self, from: u64) -> Result<Vec<(String, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT 'contributions', seq FROM contribution_rows WHERE seq >= ?1
                 UNION ALL SELECT 'persons', seq FROM persons WHERE seq >= ?1
                 UNION ALL SELECT 'orgs', seq FROM orgs WHERE seq >= ?1
                 UNION ALL SELECT 'children', seq FROM children WHERE seq >= ?1 LIMIT 1000",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([from as i64], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn persons_all(&mut self) -> Result<Vec<PersonRow>> {
        self.persons_where("ORDER BY person", [])
    }

    fn registry_page(&mut self, from: &RegistryCursor, limit: u32) -> Result<RegistryPage> {
        let limit = limit.max(1);
        let after = match from {
            RegistryCursor::Start => 0,
            RegistryCursor::Contributed(pid) => *pid,
            RegistryCursor::Silent(after) => {
                // A page of the registry in key order, less those who have a number.
                // The empty key sorts before every 32-byte key: one statement for the first
                // page too.
                // One statement a page, not a look into `person_ids` for each person.
                let after: &[u8] = after.as_ref().map(|k| &k[..]).unwrap_or(&[]);
                let mut stmt = self
                    .conn
                    .prepare_cached(&format!(
                        "SELECT p.*, i.pid IS NOT NULL
                         FROM (SELECT {PERSON_COLUMNS} FROM persons
                               WHERE person > ?1 ORDER BY person LIMIT ?2) p
                         LEFT JOIN person_ids i ON i.person = p.person"
                    ))
                    .map_err(db)?;
                let mut rows = stmt.query(rusqlite::params![after, limit]).map_err(db)?;
                let mut persons = Vec::new();
                let mut numbered = HashSet::new();
                while let Some(r) = rows.next().map_err(db)? {
                    let (key, mut row) = person(r).map_err(db)?;
                    row.person = key32(key)?;
                    if r.get::<_, bool>(10).map_err(db)? {
                        numbered.insert(row.person);
                    }
                    persons.push(row);
                }
                // In key order already, but the outer statement does not promise it (and would
                // sort a page to say it does).
                persons.sort_unstable_by_key(|p| p.person);
                return Ok(RegistryPage::silent(persons, &numbered, limit));
            }
        };
        // The page's numbers with their registry rows, in one statement (`seq` is NULL where
        // a number has no registration).
        let mut ids = Vec::new();
        let mut registered = HashMap::new();
        {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT i.pid, i.person, p.sealed, p.hukou_region, p.residence_region,
                         p.employment_form, p.platforms, p.permit_region, p.permit_since,
                         p.household, p.seq
                     FROM person_ids i LEFT JOIN persons p ON p.person = i.person
                     WHERE i.pid > ?1 ORDER BY i.pid LIMIT ?2",
                )
                .map_err(db)?;
            let mut rows = stmt.query(rusqlite::params![after, limit]).map_err(db)?;
            while let Some(r) = rows.next().map_err(db)? {
                let pid: i64 = r.get(0).map_err(db)?;
                let registry = match r.get::<_, Option<i64>>(10).map_err(db)? {
                    Some(_) => Some(person_at(r, 1).map_err(db)?),
                    None => None,
                };
                let key = key32(r.get(1).map_err(db)?)?;
                ids.push((pid, key));
                if let Some((_, mut row)) = registry {
                    row.person = key;
                    registered.insert(key, row);
                }
            }
        }
        let Some(&(last, _)) = ids.last() else {
            return Ok(RegistryPage::contributors(
                &[],
                HashMap::new(),
                Vec::new(),
                limit,
            ));
        };
        // The page's rows in one range of the slot index, which leads with `pid`; without
        // their record IDs, so without a read of the log for each row.
        let by_pid: HashMap<i64, [u8; 32]> = ids.iter().copied().collect();
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {LEAN_CONTRIBUTION_COLUMNS} FROM contribution_rows c
                 WHERE c.pid > ?1 AND c.pid <= ?2
                 ORDER BY c.pid, c.month, c.insurance, c.region, c.payer, c.payer_code"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map([after, last], |r| contribution_at::<i64>(r, 0))
            .map_err(db)?
            .map(|r| {
                let (mut row, pid) = r.map_err(db)?;
                row.person = *by_pid.get(&pid).ok_or_else(|| {
                    Error::Corrupt(format!("a contribution of number {pid}, not in its page"))
                })?;
                Ok(row)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RegistryPage::contributors(&ids, registered, rows, limit))
    }

    fn org_names(&mut self, codes: &[&str]) -> Result<HashMap<String, String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM orgs WHERE code = ?1")
            .map_err(db)?;
        let mut names = HashMap::new();
        for c in codes {
            if let Some(name) = stmt
                .query_row([c], |r| r.get::<_, String>(0))
                .optional()
                .map_err(db)?
            {
                names.insert(c.to_string(), name);
            }
        }
        Ok(names)
    }

    fn orgs_all(&mut self) -> Result<Vec<OrgRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT code, name, kind, region, seq FROM orgs ORDER BY code")
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(OrgRow {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    kind: r.get(2)?,
                    region: r.get(3)?,
                    seq: r.get::<_, i64>(4)? as u64,
                })
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn children_all(&mut self) -> Result<Vec<ChildRow>> {
        self.children_where("ORDER BY child", [])
    }

    fn checkpoints(&mut self) -> Result<Vec<(u64, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT size, text FROM checkpoints ORDER BY size")
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?))
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn person(&mut self, person: &[u8; 32]) -> Result<Option<PersonRow>> {
        Ok(self
            .persons_where("WHERE person = ?1", [&person[..]])?
            .pop())
    }

    fn children_of(&mut self, guardian: &[u8; 32]) -> Result<Vec<ChildRow>> {
        self.children_where("WHERE guardian = ?1 ORDER BY child", [&guardian[..]])
    }

    fn contributions_of(&mut self, person: &[u8; 32]) -> Result<Vec<ContributionRow>> {
        self.contributions_where(
            "WHERE p.person = ?1 ORDER BY c.month, c.insurance, c.region, c.payer, c.payer_code",
            [&person[..]],
        )
    }

    fn balances(&mut self) -> Result<Vec<(String, i64, u64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT account, SUM(amount_fen), COUNT(*) FROM postings GROUP BY account ORDER BY account")
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn payer_workers(
        &mut self,
        code: &str,
        after: Option<&[u8; 32]>,
        limit: u32,
    ) -> Result<Vec<PayerWorkerRow>> {
        self.payer_workers_walking(code, after, limit, PAYER_WALK)
    }

    fn payer_months(&mut self, code: &str) -> Result<Vec<PayerMonthRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT month, COUNT(DISTINCT pid), SUM(amount_fen) FROM contribution_rows
                 WHERE payer_code = ?1 AND payer_code <> '' AND status IN ({})
                 GROUP BY month ORDER BY month",
                codes::paid_ids()
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map([code], |r| {
                Ok(PayerMonthRow {
                    month: r.get(0)?,
                    workers: r.get::<_, i64>(1)? as u64,
                    amount_fen: r.get(2)?,
                })
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn create_account(&mut self, account: &NewAccount, now: i64) -> Result<i64> {
        let inserted = self.conn.execute(
            "INSERT INTO accounts (username, role, region, person, org, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                account.username,
                account.role.as_str(),
                account.region.map(|r| r.code()),
                account.person.as_ref().map(|p| &p[..]),
                account.org,
                account.password_hash,
                now
            ],
        );
        match inserted {
            Ok(_) => Ok(self.conn.last_insert_rowid()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Err(taken(&account.username))
            }
            Err(e) => Err(db(e)),
        }
    }

    fn account(&mut self, id: i64) -> Result<Option<AccountRow>> {
        Ok(self.accounts_where("WHERE id = ?1", [id])?.pop())
    }

    fn account_named(&mut self, username: &str) -> Result<Option<AccountRow>> {
        Ok(self
            .accounts_where("WHERE username = ?1", [username])?
            .pop())
    }

    fn accounts_all(&mut self) -> Result<Vec<AccountRow>> {
        self.accounts_where("ORDER BY id", [])
    }

    fn create_session(
        &mut self,
        token: &[u8; 32],
        account: i64,
        kind: SessionKind,
        expires: i64,
        now: i64,
    ) -> Result<()> {
        self.conn
            .execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
            .map_err(db)?;
        self.conn
            .execute(
                "INSERT INTO sessions (token, account, kind, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![&token[..], account, kind.as_str(), expires],
            )
            .map_err(db)?;
        Ok(())
    }

    fn session_account(
        &mut self,
        token: &[u8; 32],
        kind: SessionKind,
        now: i64,
    ) -> Result<Option<AccountRow>> {
        Ok(self
            .accounts_where(
                "WHERE id = (SELECT account FROM sessions WHERE token = ?1 AND kind = ?2 AND expires_at > ?3)",
                params![&token[..], kind.as_str(), now],
            )?
            .pop())
    }

    fn end_session(&mut self, token: &[u8; 32]) -> Result<()> {
        self.conn
            .execute("DELETE FROM sessions WHERE token = ?1", [&token[..]])
            .map_err(db)?;
        Ok(())
    }

    fn accounts_of_person(&mut self, person: &[u8; 32]) -> Result<Vec<AccountRow>> {
        self.accounts_where("WHERE person = ?1 ORDER BY id", [&person[..]])
    }

    fn set_password(&mut self, account: i64, password_hash: &str, must_change: bool) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let n = tx
            .execute(
                "UPDATE accounts SET password_hash = ?2, must_change = ?3 WHERE id = ?1",
                params![account, password_hash, must_change],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(Error::not_found("没有这个账户", "no such account"));
        }
        tx.execute("DELETE FROM sessions WHERE account = ?1", [account])
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn must_change_password(&mut self, account: i64) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT must_change FROM accounts WHERE id = ?1",
                [account],
                |r| r.get::<_, bool>(0),
            )
            .optional()
            .map_err(db)?
            .unwrap_or(false))
    }

    fn signup_add(&mut self, signup: &NewSignup, now: i64) -> Result<i64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let taken_by_account: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM accounts WHERE username = ?1)",
                [&signup.username],
                |r| r.get(0),
            )
            .map_err(db)?;
        if taken_by_account {
            return Err(taken(&signup.username));
        }
        let inserted = tx.execute(
            "INSERT INTO signups (username, person, sealed, region, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                signup.username,
                &signup.person[..],
                signup.sealed,
                signup.region,
                signup.password_hash,
                now
            ],
        );
        let id = match inserted {
            Ok(_) => tx.last_insert_rowid(),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                return Err(taken(&signup.username));
            }
            Err(e) => return Err(db(e)),
        };
        tx.commit().map_err(db)?;
        Ok(id)
    }

    fn signup(&mut self, id: i64) -> Result<Option<SignupRow>> {
        Ok(self.signups_where("WHERE id = ?1", [id])?.pop())
    }

    fn signup_named(&mut self, username: &str) -> Result<Option<SignupRow>> {
        Ok(self
            .signups_where("WHERE username = ?1 ORDER BY id DESC LIMIT 1", [username])?
            .pop())
    }

    fn signups_pending(
        &mut self,
        from: u32,
        to: u32,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SignupRow>> {
        self.signups_where(
            "WHERE state = 'pending' AND region BETWEEN ?1 AND ?2 AND id > ?3 ORDER BY id LIMIT ?4",
            params![from, to, after, limit],
        )
    }

    fn signup_decide(
        &mut self,
        id: i64,
        decision: &SignupDecision,
        by: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let state: Option<String> = tx
            .query_row("SELECT state FROM signups WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        match state.as_deref() {
            None => {
                return Err(Error::not_found(
                    "没有这份开户申请",
                    "no such sign-up request",
                ));
            }
            Some("pending") => {}
            Some(_) => return Err(anxin_records::signup::already_decided()),
        }
        let account = match decision {
            SignupDecision::Confirm(account) => {
                let inserted = tx.execute(
                    "INSERT INTO accounts (username, role, region, person, org, password_hash, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        account.username,
                        account.role.as_str(),
                        account.region.map(|r| r.code()),
                        account.person.as_ref().map(|p| &p[..]),
                        account.org,
                        account.password_hash,
                        now
                    ],
                );
                match inserted {
                    Ok(_) => {}
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        return Err(taken(&account.username));
                    }
                    Err(e) => return Err(db(e)),
                }
                let account = tx.last_insert_rowid();
                tx.execute(
                    "UPDATE signups SET state = 'confirmed', decided_by = ?2, decided_at = ?3,
                     account = ?4 WHERE id = ?1",
                    params![id, by, now, account],
                )
                .map_err(db)?;
                Some(account)
            }
            SignupDecision::Refuse(reason) => {
                tx.execute(
                    "UPDATE signups SET state = 'refused', reason = ?2, decided_by = ?3,
                     decided_at = ?4 WHERE id = ?1",
                    params![id, reason, by, now],
                )
                .map_err(db)?;
                None
            }
        };
        tx.commit().map_err(db)?;
        Ok(account)
    }

    fn log_access(&mut self, row: &AccessRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO access_log (at, account, username, role, person, what, purpose)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    row.at,
                    row.account,
                    row.username,
                    row.role,
                    &row.person[..],
                    row.what,
                    row.purpose
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    fn access_rows(&mut self, after: i64, limit: u32) -> Result<Vec<(Option<u64>, AccessRow)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, at, account, username, role, person, what, purpose, seq FROM access_log
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![after, limit], |r| {
                let person: Vec<u8> = r.get(5)?;
                let seq: Option<i64> = r.get(8)?;
                Ok((
                    seq,
                    person,
                    AccessRow {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        account: r.get(2)?,
                        username: r.get(3)?,
                        role: r.get(4)?,
                        person: [0; 32],
                        what: r.get(6)?,
                        purpose: r.get(7)?,
                    },
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, person, mut row) = row.map_err(db)?;
            row.person = <[u8; 32]>::try_from(person.as_slice()).map_err(|_| {
                Error::Corrupt(format!(
                    "access_log row id {} has a malformed person key",
                    row.id
                ))
            })?;
            let seq = match seq {
                Some(s) => Some(u64::try_from(s).map_err(|_| {
                    Error::Corrupt(format!("access_log row id {} has a negative seq", row.id))
                })?),
                None => None,
            };
            out.push((seq, row));
        }
        Ok(out)
    }

    fn access_to(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AccessRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, at, account, username, role, what, purpose FROM access_log
                 WHERE person = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(
                params![&person[..], before.unwrap_or(i64::MAX), limit],
                |r| {
                    Ok(AccessRow {
                        id: r.get(0)?,
                        at: r.get(1)?,
                        account: r.get(2)?,
                        username: r.get(3)?,
                        role: r.get(4)?,
                        person: *person,
                        what: r.get(5)?,
                        purpose: r.get(6)?,
                    })
                },
            )
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn create_job(&mut self, job: &NewJob) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO import_jobs (owner, file_name, kind, format, today, content, created_at,
                 path, digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    job.owner,
                    job.file_name,
                    job.kind,
                    job.format,
                    job.today,
                    job.content,
                    job.created_at,
                    job.path,
                    job.digest
                ],
            )
            .map_err(db)?;
        Ok(self.conn.last_insert_rowid())
    }

    fn job(&mut self, id: i64) -> Result<Option<JobRow>> {
        self.conn
            .query_row(
                &format!("SELECT {JOB_COLUMNS} FROM import_jobs WHERE id = ?1"),
                [id],
                job_row,
            )
            .optional()
            .map_err(db)
    }

    fn job_content(&mut self, id: i64) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row("SELECT content FROM import_jobs WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    fn job_refusals(&mut self, id: i64, from: u64, limit: u64) -> Result<Vec<JobRefusal>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT n, row_no, col, value, zh, en FROM import_refusals
                 WHERE job = ?1 AND n >= ?2 ORDER BY n LIMIT ?3",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(
                params![
                    id,
                    i64::try_from(from).unwrap_or(i64::MAX),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| {
                    Ok(JobRefusal {
                        n: r.get::<_, i64>(0)?.max(0) as u64,
                        row: r.get::<_, i64>(1)?.max(0) as u64,
                        column: r.get(2)?,
                        value: r.get(3)?,
                        zh: r.get(4)?,
                        en: r.get(5)?,
                    })
                },
            )
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn unfinished_jobs(&mut self) -> Result<Vec<JobRow>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {JOB_COLUMNS} FROM import_jobs WHERE finished = 0 ORDER BY id"
            ))
            .map_err(db)?;
        let rows = stmt.query_map([], job_row).map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn inbox_add(&mut self, messages: &[NewMessage], now: i64) -> Result<u64> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let mut added = 0;
        {
            let mut msg = tx
                .prepare_cached(
                    "INSERT INTO inbox_messages (key, person, kind, month, params, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (key) DO NOTHING",
                )
                .map_err(db)?;
            let mut delivery = tx
                .prepare_cached(
                    "INSERT INTO inbox_deliveries (message, next_at, state) VALUES (?1, ?2, 'pending')",
                )
                .map_err(db)?;
            for m in messages {
                let n = msg
                    .execute(params![
                        m.key,
                        &m.person[..],
                        m.kind,
                        m.month,
                        m.params,
                        now
                    ])
                    .map_err(db)?;
                if n == 1 {
                    delivery
                        .execute(params![tx.last_insert_rowid(), now])
                        .map_err(db)?;
                    added += 1;
                }
            }
        }
        tx.commit().map_err(db)?;
        Ok(added)
    }

    fn inbox_of(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<MessageRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM inbox_messages m
                 WHERE person = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
            ))
            .map_err(db)?;
        let rows = stmt
            .query_map(
                params![&person[..], before.unwrap_or(i64::MAX), i64::from(limit)],
                message_row,
            )
            .map_err(db)?;
        rows.map(|r| r.map_err(db)?).collect()
    }

    fn inbox_mark_read(&mut self, person: &[u8; 32], id: i64, now: i64) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "UPDATE inbox_messages SET read_at = coalesce(read_at, ?3) WHERE id = ?1 AND person = ?2",
                params![id, &person[..], now],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    fn inbox_due(&mut self, now: i64, limit: u32) -> Result<Vec<(MessageRow, DeliveryRow)>> {
        self.inbox_join(
            "d.state = 'pending' AND d.next_at <= ?1 ORDER BY d.next_at, d.message LIMIT ?2",
            params![now, i64::from(limit)],
        )
    }

    fn inbox_set_delivery(&mut self, d: &DeliveryRow) -> Result<()> {
        self.conn
            .execute(
                "UPDATE inbox_deliveries SET attempts = ?2, next_at = ?3, state = ?4,
                 last_error = ?5, delivered_at = ?6 WHERE message = ?1",
                params![
                    d.message,
                    d.attempts,
                    d.next_at,
                    d.state.as_str(),
                    d.last_error,
                    d.delivered_at
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    fn inbox_dead(&mut self, after: i64, limit: u32) -> Result<Vec<(MessageRow, DeliveryRow)>> {
        self.inbox_join(
            "d.state = 'dead' AND d.message > ?1 ORDER BY d.message LIMIT ?2",
            params![after, i64::from(limit)],
        )
    }

    fn inbox_counts(&mut self) -> Result<Vec<KindCounts>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT m.kind, count(*), count(m.read_at),
                 coalesce(sum(d.state = 'delivered'), 0), coalesce(sum(d.state = 'dead'), 0)
                 FROM inbox_messages m JOIN inbox_deliveries d ON d.message = m.id
                 GROUP BY m.kind ORDER BY m.kind",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(KindCounts {
                    kind: r.get(0)?,
                    messages: r.get::<_, i64>(1)?.max(0) as u64,
                    read: r.get::<_, i64>(2)?.max(0) as u64,
                    delivered: r.get::<_, i64>(3)?.max(0) as u64,
                    dead: r.get::<_, i64>(4)?.max(0) as u64,
                })
            })
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn save_certificate_code(&mut self, row: &CertificateCodeRow) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO certificate_codes (code, seq, person, sealed) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (code) DO NOTHING",
                params![
                    row.code,
                    i64::try_from(row.seq).unwrap_or(i64::MAX),
                    &row.person[..],
                    row.sealed
                ],
            )
            .map_err(db)?;
        Ok(())
    }

    fn certificate_by_code(&mut self, code: &str) -> Result<Option<CertificateCodeRow>> {
        let row = self
            .conn
            .query_row(
                "SELECT code, seq, person, sealed FROM certificate_codes WHERE code = ?1",
                [code],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, Vec<u8>>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(db)?;
        row.map(|(code, seq, person, sealed)| {
            Ok(CertificateCodeRow {
                code,
                seq: u64::try_from(seq)
                    .map_err(|_| Error::Corrupt("certificate code seq is negative".into()))?,
                person: hash_of(person, "certificate holder")?,
                sealed,
            })
        })
        .transpose()
    }

    fn case_steps_all(&mut self) -> Result<Vec<CaseStepRow>> {
        self.case_steps_where("case_steps", "ORDER BY seq", [])
    }

    fn case_steps_of(&mut self, case_id: &str) -> Result<Vec<CaseStepRow>> {
        self.case_steps_where("case_steps", "WHERE case_id = ?1 ORDER BY step", [case_id])
    }

    fn cases_latest(&mut self) -> Result<Vec<CaseStepRow>> {
        self.case_steps_where("cases", "ORDER BY case_id", [])
    }

    fn case_evidence_of(&mut self, case_id: &str, content: bool) -> Result<Vec<EvidenceRow>> {
        let sealed = if content {
            "sealed, name_sealed"
        } else {
            "x'', name_sealed"
        };
        self.evidence_where(sealed, "WHERE case_id = ?1 ORDER BY n", [case_id])
    }

    fn alert_steps_all(&mut self) -> Result<Vec<AlertStepRow>> {
        self.alert_steps_where("ORDER BY seq", [])
    }

    fn alert_steps_in(&mut self, month: &str) -> Result<Vec<AlertStepRow>> {
        self.alert_steps_where("WHERE month = ?1 ORDER BY alert_id, step", [month])
    }

    fn case_evidence_all(&mut self) -> Result<Vec<EvidenceRow>> {
        self.evidence_where("x'', x''", "ORDER BY seq", [])
    }
}

impl SqliteStore {
    fn alert_steps_where<P: rusqlite::Params>(
        &mut self,
        filter: &str,
        p: P,
    ) -> Result<Vec<AlertStepRow>> {
        let sql = format!("SELECT {ALERT_STEP_COLUMNS} FROM alert_steps {filter}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt
            .query_map(p, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    AlertStepRow {
                        seq: 0,
                        alert_id: r.get(1)?,
                        step: r.get(2)?,
                        month: r.get(3)?,
                        area: r.get(4)?,
                        alert_kind: r.get(5)?,
                        person: r.get(6)?,
                        action: r.get(7)?,
                        state: r.get(8)?,
                        actor: r.get(9)?,
                        at: r.get(10)?,
                        via: r.get(11)?,
                        contact_at: r.get(12)?,
                        note: r.get(13)?,
                        outcome: r.get(14)?,
                    },
                ))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (seq, mut row) = r.map_err(db)?;
            row.seq = u64::try_from(seq)
                .map_err(|_| Error::Corrupt("alert step seq is negative".into()))?;
            Ok(row)
        })
        .collect()
    }
}

impl SqliteStore {
    fn evidence_where<P: rusqlite::Params>(
        &mut self,
        sealed: &str,
        filter: &str,
        p: P,
    ) -> Result<Vec<EvidenceRow>> {
        let sql = format!(
            "SELECT seq, case_id, n, person, media_type, size, sha256, actor, at, {sealed} FROM case_evidence {filter}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt
            .query_map(p, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, i64>(5)?,
                    EvidenceRow {
                        seq: 0,
                        case_id: r.get(1)?,
                        n: r.get(2)?,
                        person: [0; 32],
                        media_type: r.get(4)?,
                        size: 0,
                        sha256: r.get(6)?,
                        actor: r.get(7)?,
                        at: r.get(8)?,
                        sealed: r.get(9)?,
                        name_sealed: r.get(10)?,
                    },
                ))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (seq, person, size, mut row) = r.map_err(db)?;
            row.seq = u64::try_from(seq)
                .map_err(|_| Error::Corrupt("evidence seq is negative".into()))?;
            row.size = u64::try_from(size)
                .map_err(|_| Error::Corrupt("evidence size is negative".into()))?;
            row.person = hash_of(person, "evidence person")?;
            Ok(row)
        })
        .collect()
    }
}

impl SqliteStore {
    fn case_steps_where<P: rusqlite::Params>(
        &mut self,
        table: &str,
        filter: &str,
        p: P,
    ) -> Result<Vec<CaseStepRow>> {
        let sql = format!("SELECT {CASE_STEP_COLUMNS} FROM {table} {filter}");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt
            .query_map(p, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(6)?,
                    CaseStepRow {
                        seq: 0,
                        case_id: r.get(1)?,
                        step: r.get(2)?,
                        case_kind: r.get(3)?,
                        action: r.get(4)?,
                        state: r.get(5)?,
                        person: [0; 32],
                        region: r.get(7)?,
                        holder_role: r.get(8)?,
                        holder_region: r.get(9)?,
                        level: r.get(10)?,
                        actor: r.get(11)?,
                        at: r.get(12)?,
                        since: r.get(13)?,
                        due: r.get(14)?,
                        clock: r.get(15)?,
                        outcome: r.get(16)?,
                        subject: r.get(17)?,
                        party: r.get(18)?,
                    },
                ))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (seq, person, mut row) = r.map_err(db)?;
            row.seq = u64::try_from(seq)
                .map_err(|_| Error::Corrupt("case step seq is negative".into()))?;
            row.person = hash_of(person, "case person")?;
            Ok(row)
        })
        .collect()
    }
}

const MESSAGE_COLUMNS: &str =
    "m.id, m.key, m.person, m.kind, m.month, m.params, m.created_at, m.read_at";

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<MessageRow>> {
    let person: Vec<u8> = r.get(2)?;
    Ok(Ok(MessageRow {
        id: r.get(0)?,
        key: r.get(1)?,
        person: match hash_of(person, "inbox person") {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        },
        kind: r.get(3)?,
        month: r.get(4)?,
        params: r.get(5)?,
        created_at: r.get(6)?,
        read_at: r.get(7)?,
    }))
}

impl SqliteStore {
    fn inbox_join<P: rusqlite::Params>(
        &mut self,
        filter: &str,
        p: P,
    ) -> Result<Vec<(MessageRow, DeliveryRow)>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS}, d.attempts, d.next_at, d.state, d.last_error, d.delivered_at
             FROM inbox_deliveries d JOIN inbox_messages m ON m.id = d.message WHERE {filter}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt
            .query_map(p, |r| {
                let message = message_row(r)?;
                let state: String = r.get(10)?;
                Ok((
                    message,
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(8)?,
                    r.get::<_, i64>(9)?,
                    state,
                    r.get::<_, Option<String>>(11)?,
                    r.get::<_, Option<i64>>(12)?,
                ))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (message, id, attempts, next_at, state, last_error, delivered_at) =
                r.map_err(db)?;
            let state = DeliveryState::parse(&state)
                .ok_or_else(|| Error::Corrupt(format!("{state:?} is not a delivery state")))?;
            Ok((
                message?,
                DeliveryRow {
                    message: id,
                    attempts: attempts.clamp(0, i64::from(u32::MAX)) as u32,
                    next_at,
                    state,
                    last_error,
                    delivered_at,
                },
            ))
        })
        .collect()
    }
}

fn taken(username: &str) -> Error {
    Error::refused(
        format!("用户名 {username} 已被使用"),
        format!("the username {username} is taken"),
    )
}

impl SqliteStore {
    fn signups_where<P: rusqlite::Params>(&mut self, filter: &str, p: P) -> Result<Vec<SignupRow>> {
        let sql = format!(
            "SELECT id, username, person, sealed, region, password_hash, created_at, state,
             reason, decided_by, decided_at, account FROM signups {filter}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt
            .query_map(p, |r| {
                Ok((
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, String>(7)?,
                    (
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Vec<u8>>(3)?,
                        r.get::<_, u32>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, i64>(6)?,
                    ),
                    (
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, Option<i64>>(9)?,
                        r.get::<_, Option<i64>>(10)?,
                        r.get::<_, Option<i64>>(11)?,
                    ),
                ))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (person, state, a, b) = r.map_err(db)?;
            Ok(SignupRow {
                id: a.0,
                username: a.1,
                person: hash_of(person, "sign-up person")?,
                sealed: a.2,
                region: a.3,
                password_hash: a.4,
                created_at: a.5,
                state: SignupState::parse(&state)?,
                reason: b.0,
                decided_by: b.1,
                decided_at: b.2,
                account: b.3,
            })
        })
        .collect()
    }

    fn accounts_where<P: rusqlite::Params>(
        &mut self,
        filter: &str,
        p: P,
    ) -> Result<Vec<AccountRow>> {
        let sql = format!(
            "SELECT id, username, role, region, person, org, password_hash, created_at
             FROM accounts {filter}"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(db)?;
        let rows = stmt
            .query_map(p, |r| {
                Ok((
                    r.get::<_, Option<Vec<u8>>>(4)?,
                    AccountRow {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        role: r.get(2)?,
                        region: r.get(3)?,
                        person: None,
                        org: r.get(5)?,
                        password_hash: r.get(6)?,
                        created_at: r.get(7)?,
                    },
                ))
            })
            .map_err(db)?;
        rows.map(|r| {
            let (person, mut row) = r.map_err(db)?;
            row.person = person.map(|p| hash_of(p, "account person")).transpose()?;
            Ok(row)
        })
        .collect()
    }
}

/// An in-memory database at schema `version`: the first `version` migrations, and no more.
#[cfg(test)]
fn database_at(version: usize) -> Connection {
    let conn = Connection::open_in_memory().expect("open");
    for (i, sql) in MIGRATIONS[..version].iter().enumerate() {
        conn.execute_batch(sql).expect("migration");
        conn.pragma_update(None, "user_version", (i + 1) as i64)
            .expect("version");
    }
    conn
}

#[cfg(test)]
mod migration_19 {
    use super::*;

    /// A database written before migration 19 (person keys in every row, record IDs and kind
    /// names stored in full) reads the same after it: the same contribution, the same kinds,
    /// the rebuilt body, the certificate index and the posting legs.
    #[test]
    fn rows_written_before_read_the_same_after() {
        let conn = database_at(18);
        let person = [7u8; 32];
        conn.execute_batch(&format!(
            "INSERT INTO events (seq, key, kind, body, leaf) VALUES
               (0, 'p-1', 'person_registered', CAST('{{}}' AS BLOB), zeroblob(32)),
               (1, 'c-1', 'contribution_recorded', X'', zeroblob(32)),
               (2, 'cert-1', 'certificate_issued', CAST('{{}}' AS BLOB), zeroblob(32)),
               (3, 'x-1', 'a_kind_from_elsewhere', CAST('{{}}' AS BLOB), zeroblob(32));
             INSERT INTO contributions (seq, record_id, person, month, insurance, region, payer,
               payer_code, base_fen, amount_fen, account_fen, status, reason, paid_on)
             VALUES (1, 'c-1', X'{}', 24312, 'pension', 330100, 'self', '', 498600, 99720,
               39888, 'paid', NULL, NULL);",
            "07".repeat(32)
        ))
        .expect("rows of schema 18");
        let mut store = SqliteStore::with_connection(conn).expect("migrated");

        let rows = store.contributions_of(&person).expect("read");
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(
            (row.seq, row.record_id.as_str(), row.person, row.month),
            (1, "c-1", person, 24312)
        );
        assert_eq!(
            (row.base_fen, row.amount_fen, row.account_fen),
            (498600, 99720, 39888)
        );

        let events = store.events(0, 4).expect("events");
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "person_registered",
                "contribution_recorded",
                "certificate_issued",
                "a_kind_from_elsewhere"
            ]
        );
        assert_eq!(
            events[1].body,
            anxin_records::store::contribution_body(row).expect("rebuilds"),
            "the contribution's bytes are rebuilt from its migrated row"
        );
        let certificates = store.certificate_events(0, 10).expect("certificates");
        assert_eq!(certificates.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
        // Self-paid: the worker pays, the pool and the personal account receive; sum zero.
        let legs = store.postings(0, 4).expect("postings");
        assert_eq!(legs.len(), 3, "{legs:?}");
        assert_eq!(legs.iter().map(|l| l.amount_fen).sum::<i64>(), 0);
        assert_eq!(legs[0].account, format!("worker:{}", "07".repeat(32)));
    }
}

#[cfg(test)]
mod payer_pages {
    use super::*;

    /// A payer's workers page the same whether a page walks the persons or sorts the payer's
    /// rows.
    #[test]
    fn walking_and_sorting_give_the_same_pages() {
        anxin_records::conformance::payer_pages_walking_and_sorting_agree(
            SqliteStore::in_memory().expect("store"),
            &mut |store: &mut SqliteStore, code, after, limit, walk| {
                store.payer_workers_walking(code, after, limit, walk)
            },
        );
    }
}

#[cfg(test)]
mod migration_20 {
    use super::*;
    use anxin_domain::codes::{GapReason, Payer, Status};

    /// A database written before migration 20 (codes as text) reads the same after it, every
    /// code of every list; the `contributions` view still reads the codes as text, and a row
    /// whose code was edited to no code reads as corrupt instead of stopping the migration.
    #[test]
    fn every_code_reads_the_same_after() {
        let conn = database_at(19);
        let person = [7u8; 32];
        let edited = [8u8; 32];
        conn.execute(
            "INSERT INTO person_ids (pid, person) VALUES (1, ?1), (2, ?2)",
            params![&person[..], &edited[..]],
        )
        .expect("persons");
        let mut written = Vec::new();
        for i in 0..6usize {
            let insurance = Insurance::ALL[i % Insurance::ALL.len()].as_str();
            let payer = Payer::ALL[i % Payer::ALL.len()].as_str();
            let status = Status::ALL[i % Status::ALL.len()].as_str();
            let reason = GapReason::ALL[i].as_str();
            let seq = i as i64 + 1;
            conn.execute(
                "INSERT INTO events (seq, key, kind, body, leaf) VALUES (?1, ?2, 1, X'', zeroblob(32))",
                params![seq, format!("c-{seq}")],
            )
            .expect("event");
            conn.execute(
                "INSERT INTO contribution_rows (seq, pid, month, insurance, region, payer, payer_code,
                 base_fen, amount_fen, account_fen, status, reason, paid_on)
                 VALUES (?1, 1, ?2, ?3, 330100, ?4, ?5, 500000, 100000, 40000, ?6, ?7, ?8)",
                params![
                    seq,
                    24312 + i as i64 % 2,
                    insurance,
                    payer,
                    if payer == "platform" || payer == "employer" { "91330100MA2XXXXX0X" } else { "" },
                    status,
                    (i != 0).then_some(reason),
                    (i % 2 == 0).then_some("2026-01-15")
                ],
            )
            .expect("row of schema 19");
            written.push((seq, insurance, payer, status, (i != 0).then_some(reason)));
        }
        conn.execute(
            "INSERT INTO contribution_rows (seq, pid, month, insurance, region, payer, payer_code,
             base_fen, amount_fen, account_fen, status) VALUES
             (7, 2, 24312, 'pension', 330100, 'self', '', 1, 1, 0, 'bogus')",
            [],
        )
        .expect("an edited row");
        let mut store = SqliteStore::with_connection(conn).expect("migrated");

        let rows = store.contributions(1, 7).expect("read");
        let read: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.seq as i64,
                    r.insurance.as_str(),
                    r.payer.as_str(),
                    r.status.as_str(),
                    r.reason.map(|g| g.as_str()),
                )
            })
            .collect();
        assert_eq!(read, written);
        assert_eq!(rows[0].paid_on.as_deref(), Some("2026-01-15"));
        assert_eq!(rows[1].paid_on, None);
        assert_eq!(rows[0].record_id, "c-1");

        // The person's rows in the order they sorted in as text.
        let of = store.contributions_of(&person).expect("of");
        let order: Vec<_> = of.iter().map(|r| (r.month, r.insurance.as_str())).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted);

        // The view, for anyone reading with SQL, still says the codes.
        let view: Vec<(String, String, String, Option<String>)> = store
            .conn
            .prepare("SELECT insurance, payer, status, reason FROM contributions WHERE seq <= 6 ORDER BY seq")
            .expect("view")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect();
        let expected: Vec<_> = written
            .iter()
            .map(|w| {
                (
                    w.1.to_string(),
                    w.2.to_string(),
                    w.3.to_string(),
                    w.4.map(String::from),
                )
            })
            .collect();
        assert_eq!(view, expected);

        // The edited row is kept, and reads as corrupt.
        let stored: i64 = store
            .conn
            .query_row(
                "SELECT status FROM contribution_rows WHERE seq = 7",
                [],
                |r| r.get(0),
            )
            .expect("kept");
        assert_eq!(stored, -1);
        let err = store.contributions_of(&edited).expect_err("corrupt");
        assert!(
            err.to_string().contains("not a stored status code"),
            "{err}"
        );
    }
}
