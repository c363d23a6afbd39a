//! The records store on PostgreSQL: for a deployment with a database server.
//!
//! Durable at commit (`synchronous_commit = on`, the server's default): a record acknowledged
//! after its commit survives a crash. One writer at a time: [`Txn::head`] reads the single
//! `head` row `FOR UPDATE`, so a second writer waits there until the first commits or rolls
//! back, then sees the new head (READ COMMITTED). Readers never wait.
//!
//! Bulk writes go by binary `COPY` (events, contributions) and one multi-row upsert
//! per registry table; every batch lookup is one round trip.
//!
//! Ordering: text columns that are compared or ordered are `COLLATE "C"` and BYTEA compares
//! bytewise, so every ordered read gives the same order as the SQLite backend.

use std::collections::{HashMap, HashSet};
use std::hash::Hash as StdHash;
use std::io::Write as _;

use anxin_domain::codes::Insurance;
use anxin_ledger::Hash;
use anxin_records::access::{AccessRow, AccountRow, NewAccount, SessionKind};
use anxin_records::inbox::{DeliveryRow, DeliveryState, KindCounts, MessageRow, NewMessage};
use anxin_records::jobs::{JobProgress, JobRefusal, JobRow, JobWrite, NewJob};
use anxin_records::signup::{NewSignup, SignupDecision, SignupRow, SignupState};
use anxin_records::store::{
    AlertStepRow, CaseStepRow, CertificateCodeRow, ChildRow, ContributionRow, EventRow,
    EvidenceRow, Head, OrgRow, PayerMonthRow, PayerWorkerRow, PersonRow, PostingRow,
    RegistryCursor, RegistryPage, Slot, Store, Txn, WriteBatch, insurance_list,
};
use anxin_records::stored_codes::{self as codes, Stored};
use anxin_records::{Error, Result};
use postgres::fallible_iterator::FallibleIterator as _;
use postgres::types::{FromSql, ToSql};
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};

mod transfer;
mod witness;

/// Append-only: a released migration is never edited; new ones are added at the end.
/// Migration `i` (from 0) is recorded as version `i + 1` in `schema_migrations`.
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
];

/// The one place a driver error becomes a records error. For a server error only its severity,
/// message and SQLSTATE are kept: the DETAIL and WHERE parts can quote row values.
fn db(e: postgres::Error) -> Error {
    match e.as_db_error() {
        Some(d) => Error::Store(format!(
            "{}: {} (SQLSTATE {})",
            d.severity(),
            d.message(),
            d.code().code()
        )),
        None => {
            // Driver errors (connection refused, closed, …) keep their causes.
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                let more = c.to_string();
                if !text.contains(&more) {
                    text = format!("{text}: {more}");
                }
                cause = c.source();
            }
            Error::Store(text)
        }
    }
}

fn hash_of(bytes: Vec<u8>, what: &str) -> Result<Hash> {
    bytes
        .try_into()
        .map_err(|_| Error::Corrupt(format!("{what} is not 32 bytes")))
}

/// A column of `row`, by position; a type mismatch is an error, not a panic.
fn col<'a, T: FromSql<'a>>(row: &'a Row, i: usize) -> Result<T> {
    row.try_get(i).map_err(db)
}

/// A contribution's code, stored as its id (migration 19); anything else is a corrupt row.
fn code_col<T: Stored>(row: &Row, i: usize) -> Result<T> {
    code_of(col::<i16>(row, i)?)
}

fn code_of<T: Stored>(id: i16) -> Result<T> {
    codes::code_of(i64::from(id))
        .ok_or_else(|| Error::Corrupt(format!("{id} is not a stored {} code", T::LIST)))
}

/// The id a contribution's code is stored as.
fn code_id<T: Stored>(code: T) -> Result<i16> {
    i16::try_from(codes::id(code)?)
        .map_err(|_| Error::Corrupt(format!("the {} ids outgrew a SMALLINT", T::LIST)))
}

/// The ids of the statuses in which money moved (`Status::is_paid`), for `status = ANY($n)`.
fn paid_ids() -> Vec<i16> {
    codes::paid_id_list()
        .into_iter()
        .filter_map(|id| i16::try_from(id).ok())
        .collect()
}

/// The kinds of event migration 19 stored with fixed ids (`EVENT_KINDS[i]` is id `i + 1`); a kind not
/// in this list is given the next id of `event_kinds` when first written.
const EVENT_KINDS: [&str; 10] = [
    "contribution_recorded",
    "person_registered",
    "org_registered",
    "child_registered",
    "certificate_issued",
    "access_logged",
    "case_step",
    "case_evidence",
    "transfer_step",
    "alert_step",
];

fn u64_col(row: &Row, i: usize, what: &str) -> Result<u64> {
    let v: i64 = col(row, i)?;
    u64::try_from(v).map_err(|_| Error::Corrupt(format!("{what} is negative")))
}

fn u32_col(row: &Row, i: usize, what: &str) -> Result<u32> {
    let v: i32 = col(row, i)?;
    u32::try_from(v).map_err(|_| Error::Corrupt(format!("{what} is negative")))
}

fn opt_u32_col(row: &Row, i: usize, what: &str) -> Result<Option<u32>> {
    let v: Option<i32> = col(row, i)?;
    v.map(|v| u32::try_from(v).map_err(|_| Error::Corrupt(format!("{what} is negative"))))
        .transpose()
}

fn key_col(row: &Row, i: usize, what: &str) -> Result<[u8; 32]> {
    hash_of(col(row, i)?, what)
}

fn int8(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Store(format!("{what} {v} does not fit a BIGINT")))
}

fn int4(v: u32, what: &str) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::Store(format!("{what} {v} does not fit an INTEGER")))
}

fn opt_int4(v: Option<u32>, what: &str) -> Result<Option<i32>> {
    v.map(|v| int4(v, what)).transpose()
}

/// Of rows with the same key, the last one (an upsert batch must not touch a row twice).
fn last_wins<'r, T, K: StdHash + Eq>(rows: &'r [T], key: impl Fn(&'r T) -> K) -> Vec<&'r T> {
    let mut at: HashMap<K, usize> = HashMap::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        at.insert(key(row), i);
    }
    let mut keep: Vec<usize> = at.into_values().collect();
    keep.sort_unstable();
    keep.into_iter().map(|i| &rows[i]).collect()
}

/// A schema name we create and quote ourselves: lowercase ASCII letters, digits and `_`.
fn check_schema(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(Error::refused(
            format!("模式名 {schema:?} 无效：只能用小写字母、数字和下划线，且不以数字开头"),
            format!(
                "schema name {schema:?} is invalid: use lowercase letters, digits and _, not starting with a digit"
            ),
        ))
    }
}

/// Bytes of encoded rows sent to the server at a time during a `COPY`.
const COPY_CHUNK: usize = 256 * 1024;

/// Rows in PostgreSQL's binary `COPY` format (header, tuples of length-prefixed big-endian
/// fields, trailer), written straight into one buffer.
pub struct BinaryCopy {
    buf: Vec<u8>,
}

impl BinaryCopy {
    pub fn new() -> BinaryCopy {
        let mut buf = Vec::with_capacity(COPY_CHUNK + 64 * 1024);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        BinaryCopy { buf }
    }

    /// Starts a row of `fields` fields.
    pub fn row(&mut self, fields: i16) {
        self.buf.extend_from_slice(&fields.to_be_bytes());
    }

    pub fn int8(&mut self, v: i64) {
        self.buf.extend_from_slice(&8i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn int4(&mut self, v: i32) {
        self.buf.extend_from_slice(&4i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn int2(&mut self, v: i16) {
        self.buf.extend_from_slice(&2i32.to_be_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn opt_int2(&mut self, v: Option<i16>) {
        match v {
            Some(v) => self.int2(v),
            None => self.buf.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }

    /// A BYTEA field.
    pub fn bytes(&mut self, v: &[u8]) -> Result<()> {
        let len = i32::try_from(v.len())
            .map_err(|_| Error::Store(format!("a field of {} bytes is too long", v.len())))?;
        self.buf.extend_from_slice(&len.to_be_bytes());
        self.buf.extend_from_slice(v);
        Ok(())
    }

    /// A TEXT field (UTF-8, the connection's client encoding).
    pub fn text(&mut self, v: &str) -> Result<()> {
        self.bytes(v.as_bytes())
    }

    pub fn opt_text(&mut self, v: Option<&str>) -> Result<()> {
        match v {
            Some(v) => self.text(v),
            None => {
                self.buf.extend_from_slice(&(-1i32).to_be_bytes());
                Ok(())
            }
        }
    }

    /// Appends the trailer; the buffer is then complete.
    pub fn finish(&mut self) {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
}

impl Default for BinaryCopy {
    fn default() -> BinaryCopy {
        BinaryCopy::new()
    }
}

/// Prepared statements of one connection, by their SQL text. Prepared statements belong to the
/// session, not to a transaction, so one prepared inside a rolled-back transaction stays usable.
#[derive(Default)]
struct Statements(HashMap<&'static str, Statement>);

impl Statements {
    fn get(&mut self, client: &mut impl GenericClient, sql: &'static str) -> Result<Statement> {
        if let Some(st) = self.0.get(sql) {
            return Ok(st.clone());
        }
        let st = client.prepare(sql).map_err(db)?;
        self.0.insert(sql, st.clone());
        Ok(st)
    }
}

pub struct PgStore {
    client: Client,
    statements: Statements,
    /// Where this connection came from (URL and schema), for opening readers beside it;
    /// `None` for a connection set up by the caller.
    source: Option<(String, Option<String>)>,
    analyze: Analyze,
}

/// When the writer refreshes the planner's statistics of the log's tables (`ANALYZE`).
///
/// PostgreSQL plans each read from statistics that only `ANALYZE` gathers: its manual says to
/// run it after loading data ("Populating a Database", 14.4.9), since autovacuum may be off (as
/// on this machine) or not yet round. Without any, a range of 65,536 log entries (at 1 M) was
/// read as a hash join with a sort spilled to disk, 113 ms, against 65 ms as the merge join of
/// two index scans it is planned as with them (BENCHMARKS.md).
///
/// Statistics need not be fresh, only there: the planner scales a table's last-counted rows by
/// its pages now. So a commit analyzes the log's tables, in its transaction, once the log has
/// grown tenfold since the last `ANALYZE` and by at least [`Analyze::min_rows`] entries: four
/// times on the way to 140 M entries. Analyzing at every tenth of growth instead (autovacuum's
/// own scale factor) took the 1 M-record ingest bench to 0.77× its rate; tenfold costs it two
/// `ANALYZE`s, 0.38 s of about 11 s.
struct Analyze {
    /// Log entries (PostgreSQL's estimate, then this connection's count) when last analyzed;
    /// read from `pg_class` at the first commit that writes any.
    at: Option<u64>,
    /// Log entries this connection committed since then.
    since: u64,
    /// The fewest entries written that make a commit analyze.
    min_rows: u64,
}

/// [`Analyze::min_rows`] unless [`PgStore::analyze_after`] sets another.
const ANALYZE_MIN_ROWS: u64 = 50_000;

/// The tables whose statistics the log's reads and writes are planned by.
const ANALYZE_SQL: &str = "ANALYZE events, contribution_rows, person_ids, persons";

impl Default for Analyze {
    fn default() -> Self {
        Analyze {
            at: None,
            since: 0,
            min_rows: ANALYZE_MIN_ROWS,
        }
    }
}

impl Analyze {
    /// Whether `since` entries written since the last `ANALYZE`, of a log that had `at`
    /// entries then, make it due: the log is ten times what it was, and `min_rows` more.
    fn due(&self, at: u64, since: u64) -> bool {
        since >= self.min_rows.max(at.saturating_mul(9))
    }
}

/// What every anxin session sets: no JIT compilation.
///
/// anxin's statements are short (one person's rows, one range of the log), and PostgreSQL
/// compiles a statement whose estimated cost passes `jit_above_cost` (100,000 by default) every
/// time it runs. On a large table not yet analyzed (a province of 129 M rows just written, on a
/// server with autovacuum off, as this machine's is), one person's rows were estimated at
/// 416,410 instead of 24, and each `contributions_of` spent 80–112 ms compiling for 0.8 ms of
/// work: 13 persons a second (BENCHMARKS.md, "A province on PostgreSQL").
fn set_up_session(client: &mut Client) -> Result<()> {
    client.batch_execute("SET jit = off").map_err(db)
}

impl PgStore {
    /// Connects to `url` (e.g. `postgres://anxin@127.0.0.1:5432/anxin`) and brings the schema
    /// of the connection's `search_path` up to date.
    pub fn connect(url: &str) -> Result<PgStore> {
        let client = Client::connect(url, NoTls).map_err(db)?;
        let mut store = Self::from_client(client)?;
        store.source = Some((url.to_string(), None));
        Ok(store)
    }

    /// A connection whose every transaction is read-only (a reader beside the one writer),
    /// in `schema` if given. Not migrated: the writer did that.
    pub fn connect_read_only(url: &str, schema: Option<&str>) -> Result<PgStore> {
        let mut client = Client::connect(url, NoTls).map_err(db)?;
        if let Some(schema) = schema {
            check_schema(schema)?;
            client
                .batch_execute(&format!("SET search_path TO \"{schema}\""))
                .map_err(db)?;
        }
        client
            .batch_execute("SET default_transaction_read_only = on")
            .map_err(db)?;
        set_up_session(&mut client)?;
        Ok(PgStore {
            client,
            statements: Statements::default(),
            source: Some((url.to_string(), schema.map(String::from))),
            analyze: Analyze::default(),
        })
    }

    /// Connects to `url` and works in `schema`, creating it if missing (each test gets its own).
    pub fn connect_schema(url: &str, schema: &str) -> Result<PgStore> {
        check_schema(schema)?;
        let mut client = Client::connect(url, NoTls).map_err(db)?;
        {
            // Two processes creating the same schema at once would race on the catalog.
            let mut tx = client.transaction().map_err(db)?;
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended('anxin.schema.' || $1::text, 0))",
                &[&schema],
            )
            .map_err(db)?;
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
                .map_err(db)?;
            tx.commit().map_err(db)?;
        }
        client
            .batch_execute(&format!("SET search_path TO \"{schema}\""))
            .map_err(db)?;
        let mut store = Self::from_client(client)?;
        store.source = Some((url.to_string(), Some(schema.to_string())));
        Ok(store)
    }

    /// Drops `schema` and everything in it (the tests' clean-up).
    pub fn drop_schema(url: &str, schema: &str) -> Result<()> {
        check_schema(schema)?;
        let mut client = Client::connect(url, NoTls).map_err(db)?;
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .map_err(db)
    }

    /// Takes a connection already set up by the caller (TLS, search path) and migrates.
    pub fn from_client(mut client: Client) -> Result<PgStore> {
        set_up_session(&mut client)?;
        let mut store = PgStore {
            client,
            statements: Statements::default(),
            source: None,
            analyze: Analyze::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    /// The schema version this program brings a database to.
    pub fn schema_version() -> i32 {
        MIGRATIONS.len() as i32
    }

    fn migrate(&mut self) -> Result<()> {
        let mut tx = self.client.transaction().map_err(db)?;
        // Held to commit: a second process migrating the same schema waits, then finds it done.
        tx.batch_execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('anxin.migrate.' || coalesce(current_schema(), ''), 0));
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
             );",
        )
        .map_err(db)?;
        let version: Option<i32> = tx
            .query_one("SELECT max(version) FROM schema_migrations", &[])
            .map_err(db)?
            .try_get(0)
            .map_err(db)?;
        let version = version.unwrap_or(0);
        let known = Self::schema_version();
        if version > known {
            return Err(Error::refused(
                format!("数据库结构版本 {version} 比本程序新（{known}）：请升级 anxin"),
                format!(
                    "the database schema version {version} is newer than this program's ({known}): upgrade anxin"
                ),
            ));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.batch_execute(sql).map_err(db)?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&(i as i32 + 1)],
            )
            .map_err(db)?;
        }
        tx.commit().map_err(db)
    }

    /// Makes a commit analyze the log's tables once the log has grown tenfold and by `rows`
    /// entries (at least 1) since the last time, instead of by 50,000 (see [`Analyze`]).
    pub fn analyze_after(&mut self, rows: u64) {
        self.analyze.min_rows = rows.max(1);
    }

    /// Direct access for tests and benchmarks (the plain bulk-insert baseline).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let st = self.statements.get(&mut self.client, sql)?;
        self.client.query(&st, params).map_err(db)
    }

    /// The rows of `sql`, each turned into a `T` by `each` as it arrives (not after the last):
    /// the client's decoding runs while the server is still producing the rest, and a long
    /// read (an audit's range) never holds all its raw rows.
    fn query_map<T>(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
        mut each: impl FnMut(&Row) -> Result<T>,
    ) -> Result<Vec<T>> {
        let st = self.statements.get(&mut self.client, sql)?;
        let mut rows = self
            .client
            .query_raw(&st, params.iter().copied())
            .map_err(db)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(db)? {
            out.push(each(&row)?);
        }
        Ok(out)
    }

    /// The person key of each `pid` (migration 19), in one index scan; a pid that names no
    /// person is left out.
    fn persons_of(&mut self, pids: impl Iterator<Item = i32>) -> Result<HashMap<i32, [u8; 32]>> {
        let mut pids: Vec<i32> = pids.collect();
        pids.sort_unstable();
        pids.dedup();
        if pids.is_empty() {
            return Ok(HashMap::new());
        }
        self.person_keys(
            "SELECT pid, person FROM person_ids WHERE pid = ANY($1)",
            &[&pids],
        )
    }

    /// The person key of each `pid` that a contributions row in `from..to` holds, before the
    /// range itself is read. `= ANY(ARRAY(…))`: the range's pids once, then one probe of
    /// `person_ids` each; never a hash of all of `person_ids`.
    fn persons_in(&mut self, from: i64, to: i64) -> Result<HashMap<i32, [u8; 32]>> {
        self.person_keys(
            "SELECT pid, person FROM person_ids WHERE pid = ANY(ARRAY(
                 SELECT DISTINCT pid FROM contribution_rows WHERE seq >= $1 AND seq < $2))",
            &[&from, &to],
        )
    }

    /// `(pid, person key)` rows read by `sql`, as a map.
    fn person_keys(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<HashMap<i32, [u8; 32]>> {
        self.query(sql, params)?
            .iter()
            .map(|r| Ok((col(r, 0)?, key_col(r, 1, "person key")?)))
            .collect()
    }

    /// Event rows read by `sql`, their empty bodies rebuilt from their contributions rows, the
    /// persons of those looked up once for the whole read.
    fn read_events(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<EventRow>> {
        let read = self.query_map(sql, params, to_event)?;
        let persons = self.persons_of(read.iter().filter_map(|(_, c)| Some(c.as_ref()?.1)))?;
        let read = read.into_iter().map(|r| with_person(r, &persons)).collect();
        Ok(anxin_records::store::with_rebuilt_bodies(read))
    }

    /// A page of the workers a payer paid for, in person-key order, walking at most `walk`
    /// persons first (`payer_workers`).
    ///
    /// The payer index holds `pid`, not the person key (migration 19). A payer who paid for many
    /// of the persons fills a page soonest by walking the persons in key order and probing the
    /// index for each; one who paid for few, by sorting its own rows. The walk goes first and
    /// gives up after `walk` persons (a payer under limit/walk of the persons), so a page costs
    /// at most that many probes or the payer's rows.
    pub fn payer_workers_walking(
        &mut self,
        code: &str,
        after: Option<&[u8; 32]>,
        limit: u32,
        walk: u32,
    ) -> Result<Vec<PayerWorkerRow>> {
        // An empty BYTEA sorts before every key: "from the start".
        let after: &[u8] = after.map_or(&[], |a| &a[..]);
        if code.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let (limit, walk, paid) = (i64::from(limit), i64::from(walk), paid_ids());
        let page = self.query(
            "SELECT w.person, a.* FROM
                 (SELECT person, pid FROM person_ids WHERE person > $2 ORDER BY person LIMIT $3) w
             CROSS JOIN LATERAL (
                 SELECT COUNT(DISTINCT c.month) AS months, MIN(c.month), MAX(c.month),
                        SUM(c.amount_fen)::bigint, string_agg(DISTINCT c.insurance::text, ',')
                   FROM contribution_rows c
                  WHERE c.payer_code = $1 AND c.payer_code <> '' AND c.pid = w.pid
                    AND c.status = ANY($4)) a
             WHERE a.months > 0 ORDER BY w.person LIMIT $5",
            &[&code, &after, &walk, &paid, &limit],
        )?;
        let done = page.len() as i64 == limit || {
            // Fewer than a page: every person after `after` was probed, or the walk gave up.
            let walked: i64 = self
                .query(
                    "SELECT count(*) FROM
                         (SELECT 1 FROM person_ids WHERE person > $1 ORDER BY person LIMIT $2) w",
                    &[&after, &walk],
                )?
                .first()
                .map(|r| col(r, 0))
                .transpose()?
                .unwrap_or(0);
            walked < walk
        };
        let rows = if done {
            page
        } else {
            self.query(
                "SELECT p.person, COUNT(DISTINCT c.month), MIN(c.month), MAX(c.month),
                        SUM(c.amount_fen)::bigint, string_agg(DISTINCT c.insurance::text, ',')
                   FROM contribution_rows c JOIN person_ids p ON p.pid = c.pid
                  WHERE c.payer_code = $1 AND c.payer_code <> '' AND p.person > $2
                    AND c.status = ANY($3)
                  GROUP BY p.person ORDER BY p.person LIMIT $4",
                &[&code, &after, &paid, &limit],
            )?
        };
        rows.iter()
            .map(|r| {
                let months = u64_col(r, 1, "month count")?;
                let insurances: String = col(r, 5)?;
                Ok(PayerWorkerRow {
                    person: key_col(r, 0, "person key")?,
                    months: u32::try_from(months)
                        .map_err(|_| Error::Corrupt("a month count out of range".into()))?,
                    first_month: col(r, 2)?,
                    last_month: col(r, 3)?,
                    amount_fen: col(r, 4)?,
                    // Ids that are no insurance are left out; the audit names such a row.
                    insurances: insurance_list(&codes::codes_of_ids::<Insurance>(&insurances)),
                })
            })
            .collect()
    }
}

/// How many persons a page of a payer's workers walks before it sorts the payer's rows instead
/// (`payer_workers`); the same bound as the SQLite store's.
const PAYER_WALK: u32 = 10_000;

const HEAD_SQL: &str = "SELECT size, root, frontier, checkpoint FROM head WHERE id = 1";
const HEAD_FOR_UPDATE_SQL: &str =
    "SELECT size, root, frontier, checkpoint FROM head WHERE id = 1 FOR UPDATE";

fn to_head(rows: &[Row]) -> Result<Head> {
    let Some(row) = rows.first() else {
        return Ok(Head::default());
    };
    let frontier: Vec<u8> = col(row, 2)?;
    if !frontier.len().is_multiple_of(32) {
        return Err(Error::Corrupt(
            "log head frontier is not a list of 32-byte hashes".into(),
        ));
    }
    Ok(Head {
        size: u64_col(row, 0, "log head size")?,
        root: hash_of(col(row, 1)?, "log head root")?,
        frontier: frontier
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect(),
        checkpoint: col(row, 3)?,
    })
}

struct PgTxn<'a> {
    tx: Transaction<'a>,
    statements: &'a mut Statements,
    analyze: &'a mut Analyze,
    /// Log entries this transaction wrote.
    written: u64,
}

impl PgTxn<'_> {
    fn query(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let st = self.statements.get(&mut self.tx, sql)?;
        self.tx.query(&st, params).map_err(db)
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let st = self.statements.get(&mut self.tx, sql)?;
        self.tx.execute(&st, params).map_err(db)
    }

    /// Binary `COPY` of `rows` into a table: one stream, no per-row round trip. Rows are
    /// encoded straight into the wire format and sent in large chunks, so the server works
    /// on one chunk while the next is encoded.
    fn copy<T>(
        &mut self,
        sql: &str,
        rows: &[T],
        mut encode: impl FnMut(&mut BinaryCopy, &T) -> Result<()>,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut sink = self.tx.copy_in(sql).map_err(db)?;
        let mut out = BinaryCopy::new();
        for row in rows {
            encode(&mut out, row)?;
            if out.buf.len() >= COPY_CHUNK {
                sink.write_all(&out.buf).map_err(Error::store)?;
                out.buf.clear();
            }
        }
        out.finish();
        sink.write_all(&out.buf).map_err(Error::store)?;
        sink.finish().map_err(db)?;
        Ok(())
    }

    /// The `event_kinds` ids of `kinds` (migration 19): the fixed ones without a round trip; a
    /// kind not seen before is given the next id.
    fn kind_ids(&mut self, events: &[EventRow]) -> Result<HashMap<String, i16>> {
        let mut ids: HashMap<String, i16> = HashMap::new();
        let mut other: Vec<&str> = Vec::new();
        for e in events {
            if ids.contains_key(&e.kind) || other.contains(&e.kind.as_str()) {
                continue;
            }
            match EVENT_KINDS.iter().position(|k| *k == e.kind) {
                Some(i) => {
                    ids.insert(e.kind.clone(), i as i16 + 1);
                }
                None => other.push(&e.kind),
            }
        }
        if !other.is_empty() {
            // One writer at a time holds the head lock, so max(id) + n is not raced.
            let rows = self.query(
                "WITH wanted AS (SELECT DISTINCT unnest($1::text[]) AS name),
                      added AS (
                          INSERT INTO event_kinds (id, name)
                          SELECT (SELECT coalesce(max(id), 0) FROM event_kinds)
                                 + row_number() OVER (ORDER BY w.name), w.name
                            FROM wanted w
                           WHERE NOT EXISTS (SELECT 1 FROM event_kinds k WHERE k.name = w.name)
                          RETURNING name, id)
                 SELECT name, id FROM added
                 UNION ALL SELECT k.name, k.id FROM event_kinds k JOIN wanted w ON w.name = k.name",
                &[&other],
            )?;
            for r in &rows {
                ids.insert(col(r, 0)?, col(r, 1)?);
            }
        }
        Ok(ids)
    }

    fn write_events(&mut self, events: &[EventRow]) -> Result<()> {
        let kinds = self.kind_ids(events)?;
        self.copy(
            "COPY events (seq, kind, key, body, leaf) FROM STDIN (FORMAT binary)",
            events,
            |out, e| {
                let kind = kinds
                    .get(&e.kind)
                    .ok_or_else(|| Error::Store(format!("event kind {:?} has no id", e.kind)))?;
                out.row(5);
                out.int8(int8(e.seq, "seq")?);
                out.int2(*kind);
                out.text(&e.key)?;
                out.bytes(&e.body)?;
                out.bytes(&e.leaf)
            },
        )
    }

    /// The `pid` of each person in `rows` (migration 19): a person new to the contributions is
    /// given the next one, in the order of the batch, so its rows are appended to the slot index.
    fn pids(&mut self, rows: &[ContributionRow]) -> Result<HashMap<[u8; 32], i32>> {
        let mut seen = HashSet::new();
        let persons: Vec<&[u8]> = rows
            .iter()
            .filter(|c| seen.insert(c.person))
            .map(|c| &c.person[..])
            .collect();
        let rows = self.query(
            "WITH added AS (
                 INSERT INTO person_ids (person)
                 SELECT u.person FROM unnest($1::bytea[]) WITH ORDINALITY AS u (person, i)
                  ORDER BY u.i
                 ON CONFLICT (person) DO NOTHING
                 RETURNING person, pid)
             SELECT person, pid FROM added
             UNION ALL SELECT p.person, p.pid FROM person_ids p WHERE p.person = ANY($1)",
            &[&persons],
        )?;
        rows.iter()
            .map(|r| Ok((key_col(r, 0, "person key")?, col(r, 1)?)))
            .collect()
    }

    fn write_contributions(&mut self, rows: &[ContributionRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let pids = self.pids(rows)?;
        let pid = |c: &ContributionRow| {
            pids.get(&c.person)
                .copied()
                .ok_or_else(|| Error::Store("a contribution's person has no pid".into()))
        };
        // In slot-index order: the unique index on the slot takes its entries page by page
        // instead of at random (the primary key on seq is appended to either way). The record
        // ID is the event's key, stored there; codes are stored as their ids (migration 19).
        let mut sorted: Vec<(i32, &ContributionRow)> = rows
            .iter()
            .map(|c| Ok((pid(c)?, c)))
            .collect::<Result<_>>()?;
        sorted.sort_unstable_by(|(a_pid, a), (b_pid, b)| {
            (
                a_pid,
                a.month,
                a.insurance.as_str(),
                a.region,
                a.payer.as_str(),
                &a.payer_code,
            )
                .cmp(&(
                    b_pid,
                    b.month,
                    b.insurance.as_str(),
                    b.region,
                    b.payer.as_str(),
                    &b.payer_code,
                ))
        });
        self.copy(
            "COPY contribution_rows (seq, base_fen, amount_fen, account_fen, pid, month, region,
             insurance, payer, status, reason, payer_code, paid_on) FROM STDIN (FORMAT binary)",
            &sorted,
            |out, (pid, c)| {
                out.row(13);
                out.int8(int8(c.seq, "seq")?);
                out.int8(c.base_fen);
                out.int8(c.amount_fen);
                out.int8(c.account_fen);
                out.int4(*pid);
                out.int4(c.month);
                out.int4(int4(c.region, "region")?);
                out.int2(code_id(c.insurance)?);
                out.int2(code_id(c.payer)?);
                out.int2(code_id(c.status)?);
                out.opt_int2(c.reason.map(code_id).transpose()?);
                out.text(&c.payer_code)?;
                out.opt_text(c.paid_on.as_deref())
            },
        )
    }

    fn upsert_persons(&mut self, rows: &[PersonRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = last_wins(rows, |p| p.person);
        let mut person = Vec::with_capacity(rows.len());
        let mut sealed = Vec::with_capacity(rows.len());
        let mut hukou = Vec::with_capacity(rows.len());
        let mut residence = Vec::with_capacity(rows.len());
        let mut form = Vec::with_capacity(rows.len());
        let mut platforms = Vec::with_capacity(rows.len());
        let mut permit_region = Vec::with_capacity(rows.len());
        let mut permit_since = Vec::with_capacity(rows.len());
        let mut household = Vec::with_capacity(rows.len());
        let mut seq = Vec::with_capacity(rows.len());
        for p in rows {
            person.push(&p.person[..]);
            sealed.push(&p.sealed[..]);
            hukou.push(opt_int4(p.hukou_region, "hukou_region")?);
            residence.push(int4(p.residence_region, "residence_region")?);
            form.push(p.employment_form.as_str());
            platforms.push(p.platforms.as_str());
            permit_region.push(opt_int4(p.permit_region, "permit_region")?);
            permit_since.push(p.permit_since.as_deref());
            household.push(p.household.as_deref());
            seq.push(int8(p.seq, "seq")?);
        }
        self.execute(
            "INSERT INTO persons (person, sealed, hukou_region, residence_region, employment_form, platforms,
                 permit_region, permit_since, household, seq)
             SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int[], $4::int[], $5::text[], $6::text[],
                 $7::int[], $8::text[], $9::text[], $10::bigint[])
             ON CONFLICT (person) DO UPDATE SET sealed = excluded.sealed, hukou_region = excluded.hukou_region,
                 residence_region = excluded.residence_region, employment_form = excluded.employment_form,
                 platforms = excluded.platforms, permit_region = excluded.permit_region,
                 permit_since = excluded.permit_since, household = excluded.household, seq = excluded.seq",
            &[
                &person,
                &sealed,
                &hukou,
                &residence,
                &form,
                &platforms,
                &permit_region,
                &permit_since,
                &household,
                &seq,
            ],
        )?;
        Ok(())
    }

    fn upsert_orgs(&mut self, rows: &[OrgRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = last_wins(rows, |o| o.code.as_str());
        let mut code = Vec::with_capacity(rows.len());
        let mut name = Vec::with_capacity(rows.len());
        let mut kind = Vec::with_capacity(rows.len());
        let mut region = Vec::with_capacity(rows.len());
        let mut seq = Vec::with_capacity(rows.len());
        for o in rows {
            code.push(o.code.as_str());
            name.push(o.name.as_str());
            kind.push(o.kind.as_str());
            region.push(int4(o.region, "region")?);
            seq.push(int8(o.seq, "seq")?);
        }
        self.execute(
            "INSERT INTO orgs (code, name, kind, region, seq)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[])
             ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                 region = excluded.region, seq = excluded.seq",
            &[&code, &name, &kind, &region, &seq],
        )?;
        Ok(())
    }

    fn upsert_children(&mut self, rows: &[ChildRow]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = last_wins(rows, |c| c.child);
        let mut child = Vec::with_capacity(rows.len());
        let mut sealed = Vec::with_capacity(rows.len());
        let mut guardian = Vec::with_capacity(rows.len());
        let mut relation = Vec::with_capacity(rows.len());
        let mut school = Vec::with_capacity(rows.len());
        let mut seq = Vec::with_capacity(rows.len());
        for c in rows {
            child.push(&c.child[..]);
            sealed.push(&c.sealed[..]);
            guardian.push(&c.guardian[..]);
            relation.push(c.relation.as_str());
            school.push(opt_int4(c.school_region, "school_region")?);
            seq.push(int8(c.seq, "seq")?);
        }
        self.execute(
            "INSERT INTO children (child, sealed, guardian, relation, school_region, seq)
             SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::text[], $5::int[], $6::bigint[])
             ON CONFLICT (child) DO UPDATE SET sealed = excluded.sealed, guardian = excluded.guardian,
                 relation = excluded.relation, school_region = excluded.school_region, seq = excluded.seq",
            &[&child, &sealed, &guardian, &relation, &school, &seq],
        )?;
        Ok(())
    }
}

impl Txn for PgTxn<'_> {
    fn head(&mut self) -> Result<Head> {
        let rows = self.query(HEAD_FOR_UPDATE_SQL, &[])?;
        if !rows.is_empty() {
            return to_head(&rows);
        }
        // No head row yet (a log never written): there is no row to lock, so writers queue on
        // an advisory lock for this schema instead, then read again (the writer before may have
        // just made the row). An advisory lock rather than LOCK TABLE: a lock upgrade from the
        // ROW SHARE lock the SELECT above holds could deadlock with another writer's.
        self.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('anxin.head.' || coalesce(current_schema(), ''), 0))",
            &[],
        )?;
        let rows = self.query(HEAD_FOR_UPDATE_SQL, &[])?;
        to_head(&rows)
    }

    fn existing_keys(&mut self, keys: &[&str]) -> Result<HashMap<String, (u64, Hash)>> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        // In index order (bytewise), so consecutive probes share index pages.
        let mut sorted = keys.to_vec();
        sorted.sort_unstable();
        let rows = self.query(
            "SELECT e.key, e.seq, e.leaf FROM unnest($1::text[]) AS k (key) JOIN events e ON e.key = k.key",
            &[&sorted],
        )?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in &rows {
            found.insert(
                col::<String>(row, 0)?,
                (u64_col(row, 1, "seq")?, key_col(row, 2, "leaf hash")?),
            );
        }
        Ok(found)
    }

    fn filled_slots(&mut self, slots: &[Slot]) -> Result<HashMap<Slot, String>> {
        if slots.is_empty() {
            return Ok(HashMap::new());
        }
        // Probed in index order (the slot index's column order, bytewise), so consecutive
        // probes share index pages.
        let mut order: Vec<usize> = (0..slots.len()).collect();
        order.sort_unstable_by_key(|&i| {
            let s = &slots[i];
            (
                s.person,
                s.month,
                s.insurance.as_str(),
                s.region,
                s.payer.as_str(),
                s.payer_code.as_str(),
            )
        });
        let mut person = Vec::with_capacity(slots.len());
        let mut month = Vec::with_capacity(slots.len());
        let mut insurance = Vec::with_capacity(slots.len());
        let mut region = Vec::with_capacity(slots.len());
        let mut payer = Vec::with_capacity(slots.len());
        let mut payer_code = Vec::with_capacity(slots.len());
        for s in order.iter().map(|&i| &slots[i]) {
            person.push(&s.person[..]);
            month.push(s.month);
            insurance.push(code_id(s.insurance)?);
            region.push(int4(s.region, "region")?);
            payer.push(code_id(s.payer)?);
            payer_code.push(s.payer_code.as_str());
        }
        let rows = self.query(
            "SELECT s.i, coalesce(e.key, '')
             FROM unnest($1::bytea[], $2::int[], $3::int2[], $4::int[], $5::int2[], $6::text[])
                  WITH ORDINALITY AS s (person, month, insurance, region, payer, payer_code, i)
             JOIN person_ids p ON p.person = s.person
             JOIN contribution_rows c ON c.pid = p.pid AND c.month = s.month
                  AND c.insurance = s.insurance AND c.region = s.region
                  AND c.payer = s.payer AND c.payer_code = s.payer_code
             LEFT JOIN events e ON e.seq = c.seq",
            &[&person, &month, &insurance, &region, &payer, &payer_code],
        )?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in &rows {
            let i: i64 = col(row, 0)?;
            let slot = usize::try_from(i - 1)
                .ok()
                .and_then(|i| order.get(i))
                .map(|&i| &slots[i])
                .ok_or_else(|| Error::Store("slot lookup returned an unknown position".into()))?;
            found.insert(slot.clone(), col(row, 1)?);
        }
        Ok(found)
    }

    fn known_persons(&mut self, persons: &[[u8; 32]]) -> Result<HashSet<[u8; 32]>> {
        if persons.is_empty() {
            return Ok(HashSet::new());
        }
        let keys: Vec<&[u8]> = persons.iter().map(|p| &p[..]).collect();
        let rows = self.query(
            "SELECT p.person FROM unnest($1::bytea[]) AS k (person) JOIN persons p ON p.person = k.person",
            &[&keys],
        )?;
        rows.iter().map(|r| key_col(r, 0, "person key")).collect()
    }

    fn known_orgs(&mut self, codes: &[&str]) -> Result<HashSet<String>> {
        if codes.is_empty() {
            return Ok(HashSet::new());
        }
        let rows = self.query(
            "SELECT o.code FROM unnest($1::text[]) AS k (code) JOIN orgs o ON o.code = k.code",
            &[&codes],
        )?;
        rows.iter().map(|r| col(r, 0)).collect()
    }

    fn write(&mut self, batch: &WriteBatch) -> Result<()> {
        self.write_events(&batch.events)?;
        self.written += batch.events.len() as u64;
        if let Some(t) = &batch.transfer {
            self.write_transfer(t)?;
        }
        self.upsert_persons(&batch.persons)?;
        self.upsert_orgs(&batch.orgs)?;
        self.upsert_children(&batch.children)?;
        self.write_contributions(&batch.contributions)?;
        for (seq, row) in &batch.access {
            let seq = int8(*seq, "log size")?;
            self.execute(
                "INSERT INTO access_log (at, account, username, role, person, what, purpose, seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &row.at,
                    &row.account,
                    &row.username,
                    &row.role,
                    &&row.person[..],
                    &row.what,
                    &row.purpose,
                    &seq,
                ],
            )?;
        }
        for c in &batch.case_steps {
            let int4 = |v: u32, what: &str| {
                i32::try_from(v)
                    .map_err(|_| Error::Store(format!("{what} {v} does not fit an INTEGER")))
            };
            let (seq, step, region) = (
                int8(c.seq, "log size")?,
                int4(c.step, "case step")?,
                int4(c.region, "case region")?,
            );
            let (holder_region, level) = (
                int4(c.holder_region, "case holder region")?,
                int4(c.level, "case level")?,
            );
            self.execute(
                "INSERT INTO case_steps (seq, case_id, step, case_kind, action, state, person, region, holder_role, holder_region, level, actor, at, since, due, clock, outcome, subject, party)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
                &[
                    &seq,
                    &c.case_id,
                    &step,
                    &c.case_kind,
                    &c.action,
                    &c.state,
                    &&c.person[..],
                    &region,
                    &c.holder_role,
                    &holder_region,
                    &level,
                    &c.actor,
                    &c.at,
                    &c.since,
                    &c.due,
                    &c.clock,
                    &c.outcome,
                    &c.subject,
                    &c.party,
                ],
            )?;
        }
        for e in &batch.case_evidence {
            let n = i32::try_from(e.n)
                .map_err(|_| Error::Store(format!("evidence number {} does not fit", e.n)))?;
            let (seq, size) = (int8(e.seq, "log size")?, int8(e.size, "evidence size")?);
            self.execute(
                "INSERT INTO case_evidence (seq, case_id, n, person, media_type, size, sha256, actor, at, sealed, name_sealed)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &seq,
                    &e.case_id,
                    &n,
                    &&e.person[..],
                    &e.media_type,
                    &size,
                    &e.sha256,
                    &e.actor,
                    &e.at,
                    &e.sealed,
                    &e.name_sealed,
                ],
            )?;
        }
        for a in &batch.alert_steps {
            let step = i32::try_from(a.step)
                .map_err(|_| Error::Store(format!("alert step {} does not fit", a.step)))?;
            let seq = int8(a.seq, "log size")?;
            self.execute(
                "INSERT INTO alert_steps (seq, alert_id, step, month, area, alert_kind, person, action, state, actor, at, via, contact_at, note, outcome)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                &[
                    &seq,
                    &a.alert_id,
                    &step,
                    &a.month,
                    &a.area,
                    &a.alert_kind,
                    &a.person,
                    &a.action,
                    &a.state,
                    &a.actor,
                    &a.at,
                    &a.via,
                    &a.contact_at,
                    &a.note,
                    &a.outcome,
                ],
            )?;
        }
        if !batch.tree_hashes.is_empty() {
            let levels: Vec<i16> = batch
                .tree_hashes
                .iter()
                .map(|t| i16::from(t.level))
                .collect();
            let indexes = batch
                .tree_hashes
                .iter()
                .map(|t| int8(t.index, "tree hash index"))
                .collect::<Result<Vec<i64>>>()?;
            let hashes: Vec<&[u8]> = batch.tree_hashes.iter().map(|t| &t.hash[..]).collect();
            self.execute(
                "INSERT INTO tree_hashes (level, idx, hash)
                 SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])
                 ON CONFLICT (level, idx) DO NOTHING",
                &[&levels, &indexes, &hashes],
            )?;
        }
        Ok(())
    }

    fn set_head(&mut self, head: &Head) -> Result<()> {
        let frontier: Vec<u8> = head.frontier.concat();
        let size = int8(head.size, "log size")?;
        self.execute(
            "INSERT INTO head (id, size, root, frontier, checkpoint) VALUES (1, $1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root,
                 frontier = excluded.frontier, checkpoint = excluded.checkpoint",
            &[&size, &&head.root[..], &frontier, &head.checkpoint],
        )?;
        self.execute(
            "INSERT INTO checkpoints (size, text) VALUES ($1, $2) ON CONFLICT (size) DO NOTHING",
            &[&size, &head.checkpoint],
        )?;
        Ok(())
    }

    fn commit(mut self: Box<Self>) -> Result<()> {
        if self.written == 0 {
            return self.tx.commit().map_err(db);
        }
        let at = match self.analyze.at {
            Some(at) => at,
            None => {
                // Never analyzed: -1 (PostgreSQL 14 and later), so the first commit past the
                // minimum analyzes.
                let rows = self.query(
                    "SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = 'events'::regclass",
                    &[],
                )?;
                u64::try_from(rows.first().map_or(Ok(0), |r| col::<i64>(r, 0))?).unwrap_or(0)
            }
        };
        let since = self.analyze.since + self.written;
        let mut analyzed = self.analyze.due(at, since);
        if analyzed {
            // Statistics only speed reads up: an ANALYZE that fails (a lock waited on too long)
            // is rolled back alone, the write commits, and the next commit tries again.
            let mut sp = self.tx.savepoint("statistics").map_err(db)?;
            analyzed = sp.batch_execute(ANALYZE_SQL).is_ok() && sp.commit().is_ok();
        }
        self.tx.commit().map_err(db)?;
        *self.analyze = Analyze {
            at: Some(if analyzed { at + since } else { at }),
            since: if analyzed { 0 } else { since },
            min_rows: self.analyze.min_rows,
        };
        Ok(())
    }

    fn save_job(&mut self, job: &JobWrite) -> Result<()> {
        let p = &job.progress;
        let (zh, en) = match &p.error {
            Some((zh, en)) => (Some(zh.as_str()), Some(en.as_str())),
            None => (None, None),
        };
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.execute(
            "UPDATE import_jobs SET rows_total = $2, rows_read = $3, last_row = $4, read = $5,
             added = $6, unchanged = $7, rejected = $8, finished = $9, error_zh = $10,
             error_en = $11, content = CASE WHEN $9 THEN ''::bytea ELSE content END
             WHERE id = $1",
            &[
                &job.id,
                &n(p.rows_total),
                &n(p.rows_read),
                &n(p.last_row),
                &n(p.read),
                &n(p.added),
                &n(p.unchanged),
                &n(p.rejected),
                &p.finished,
                &zh,
                &en,
            ],
        )?;
        for r in &job.refusals {
            self.execute(
                "INSERT INTO import_refusals (job, n, row_no, col, value, zh, en)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (job, n) DO NOTHING",
                &[
                    &job.id,
                    &n(r.n),
                    &n(r.row),
                    &r.column,
                    &r.value,
                    &r.zh,
                    &r.en,
                ],
            )?;
        }
        Ok(())
    }
}

fn to_job(row: &Row) -> Result<JobRow> {
    let zh: Option<String> = col(row, 15)?;
    let en: Option<String> = col(row, 16)?;
    Ok(JobRow {
        id: col(row, 0)?,
        owner: col(row, 1)?,
        file_name: col(row, 2)?,
        kind: col(row, 3)?,
        format: col(row, 4)?,
        today: col(row, 5)?,
        path: col(row, 17)?,
        digest: col(row, 18)?,
        created_at: col(row, 6)?,
        progress: JobProgress {
            rows_total: u64_col(row, 7, "rows_total")?,
            rows_read: u64_col(row, 8, "rows_read")?,
            last_row: u64_col(row, 9, "last_row")?,
            read: u64_col(row, 10, "read")?,
            added: u64_col(row, 11, "added")?,
            unchanged: u64_col(row, 12, "unchanged")?,
            rejected: u64_col(row, 13, "rejected")?,
            finished: col(row, 14)?,
            error: zh.zip(en),
        },
    })
}

/// An event row, and the contributions row (with its `pid`) its empty body is rebuilt from.
type ReadEvent = (EventRow, Option<(ContributionRow, i32)>);

/// A read event with its contributions row's person key filled in from `persons`. A row whose
/// pid names no person rebuilds nothing: its entry fails its stored hash.
fn with_person(
    (e, c): ReadEvent,
    persons: &HashMap<i32, [u8; 32]>,
) -> (EventRow, Option<ContributionRow>) {
    let c = c.and_then(|(mut c, pid)| {
        c.person = *persons.get(&pid)?;
        Some(c)
    });
    (e, c)
}

fn to_event(row: &Row) -> Result<ReadEvent> {
    let body: Vec<u8> = col(row, 3)?;
    // Stored empty: the bytes are rebuilt from the joined contributions row
    // (`anxin_records::store::with_rebuilt_bodies`). A row that does not read as a
    // contribution rebuilds nothing: the entry reads as empty bytes and fails its stored hash.
    let rebuilt = if body.is_empty() && col::<Option<i64>>(row, 5)?.is_some() {
        contribution_at(row, 5).ok()
    } else {
        None
    };
    Ok((
        EventRow {
            seq: u64_col(row, 0, "seq")?,
            key: col(row, 1)?,
            kind: col(row, 2)?,
            body,
            leaf: key_col(row, 4, "leaf hash")?,
        },
        rebuilt,
    ))
}

/// `SELECT` of the events' columns, with those of the contributions row joined where a body
/// is empty (`$join`: more conditions on `c.`, so that a range of the log joins a range of the
/// rows), then `$tail` (its WHERE and ORDER on `e.`): one static statement per use.
/// A kind is stored as its `event_kinds` id (migration 19); one with no name reads as its number,
/// which names no event, so the audit reports the entry. A contribution's record ID is its
/// event's key; its person is read as its `pid` and looked up apart (before the read
/// of a range, `PgStore::persons_in`; after it otherwise, `PgStore::persons_of`).
macro_rules! events_sql {
    ($join:literal, $tail:literal) => {
        concat!(
            "SELECT e.seq, e.key, \
             coalesce(k.name, 'kind ' || e.kind), \
             e.body, e.leaf, c.seq, e.key, c.pid, c.month, \
             c.insurance, c.region, c.payer, c.payer_code, c.base_fen, c.amount_fen, \
             c.account_fen, c.status, c.reason, c.paid_on \
             FROM events e LEFT JOIN event_kinds k ON k.id = e.kind \
             LEFT JOIN contribution_rows c ON length(e.body) = 0 AND c.seq = e.seq ",
            $join,
            " ",
            $tail
        )
    };
}

/// The columns of a contributions row as stored (codes as their ids, migration 19; the person
/// as its `pid`), from `contribution_rows c` and its log entry `events e`. What the
/// `contributions` view reads, without turning codes into text.
macro_rules! contribution_columns {
    () => {
        "c.seq, coalesce(e.key, ''), c.pid, c.month, c.insurance, c.region, c.payer, \
         c.payer_code, c.base_fen, c.amount_fen, c.account_fen, c.status, c.reason, c.paid_on"
    };
}

/// A contributions row whose columns start at `at`, and its `pid` (the person key is left
/// zero, for the caller to fill in).
fn contribution_at(row: &Row, at: usize) -> Result<(ContributionRow, i32)> {
    let pid: i32 = col(row, at + 2)?;
    let c = ContributionRow {
        seq: u64_col(row, at, "seq")?,
        record_id: col(row, at + 1)?,
        person: [0; 32],
        month: col(row, at + 3)?,
        insurance: code_col(row, at + 4)?,
        region: u32_col(row, at + 5, "region")?,
        payer: code_col(row, at + 6)?,
        payer_code: col(row, at + 7)?,
        base_fen: col(row, at + 8)?,
        amount_fen: col(row, at + 9)?,
        account_fen: col(row, at + 10)?,
        status: code_col(row, at + 11)?,
        reason: col::<Option<i16>>(row, at + 12)?.map(code_of).transpose()?,
        paid_on: col(row, at + 13)?,
    };
    Ok((c, pid))
}

fn to_person(row: &Row) -> Result<PersonRow> {
    Ok(PersonRow {
        person: key_col(row, 0, "person key")?,
        sealed: col(row, 1)?,
        hukou_region: opt_u32_col(row, 2, "hukou_region")?,
        residence_region: u32_col(row, 3, "residence_region")?,
        employment_form: col(row, 4)?,
        platforms: col(row, 5)?,
        permit_region: opt_u32_col(row, 6, "permit_region")?,
        permit_since: col(row, 7)?,
        household: col(row, 8)?,
        seq: u64_col(row, 9, "seq")?,
    })
}

fn to_child(row: &Row) -> Result<ChildRow> {
    Ok(ChildRow {
        child: key_col(row, 0, "child key")?,
        sealed: col(row, 1)?,
        guardian: key_col(row, 2, "guardian key")?,
        relation: col(row, 3)?,
        school_region: opt_u32_col(row, 4, "school_region")?,
        seq: u64_col(row, 5, "seq")?,
    })
}

// The statement texts are constants (the statement cache is keyed by them), so the column
// lists are spelled out in each rather than formatted in.
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn transfers_all(&mut self) -> Result<Vec<anxin_records::transfer::TransferRow>> {
        self.transfers_all_rows()
    }

    fn transfer(&mut self, id: &str) -> Result<Option<anxin_records::transfer::TransferRow>> {
        self.transfer_row(id)
    }

    fn transfer_outbox(&mut self) -> Result<Vec<anxin_records::transfer::OutboxRow>> {
        self.transfer_outbox_rows()
    }

    fn transfer_reply(&mut self, sender: &str, idem: &str) -> Result<Option<Option<String>>> {
        self.transfer_reply_row(sender, idem)
    }

    fn transfer_months_of(
        &mut self,
        transfer: &str,
    ) -> Result<Vec<anxin_records::transfer::TransferMonthRow>> {
        self.transfer_month_rows(transfer)
    }

    fn witness_seen(&mut self) -> Result<Vec<anxin_records::witness::SeenRow>> {
        self.witness_seen_rows()
    }

    fn witness_set_seen(
        &mut self,
        row: &anxin_records::witness::SeenRow,
        old_size: Option<u64>,
    ) -> Result<bool> {
        self.witness_set_seen_row(row, old_size)
    }

    fn witness_alarm_add(&mut self, row: &anxin_records::witness::AlarmRow) -> Result<i64> {
        self.witness_alarm_row_add(row)
    }

    fn witness_alarms(&mut self, limit: u32) -> Result<Vec<anxin_records::witness::AlarmRow>> {
        self.witness_alarm_rows(limit)
    }

    fn cosignature_add(&mut self, row: &anxin_records::witness::CosignatureRow) -> Result<()> {
        self.cosignature_row_add(row)
    }

    fn cosignatures_at(
        &mut self,
        size: u64,
    ) -> Result<Vec<anxin_records::witness::CosignatureRow>> {
        self.cosignature_rows_at(size)
    }

    fn cosignatures_latest(&mut self) -> Result<Vec<anxin_records::witness::CosignatureRow>> {
        self.cosignature_rows_latest()
    }

    fn reader(&self) -> Result<Option<Box<dyn Store>>> {
        match &self.source {
            Some((url, schema)) => Ok(Some(Box::new(PgStore::connect_read_only(
                url,
                schema.as_deref(),
            )?))),
            None => Ok(None),
        }
    }

    fn begin_read(&mut self) -> Result<()> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(db)
    }

    fn end_read(&mut self) -> Result<()> {
        self.client.batch_execute("COMMIT").map_err(db)
    }

    fn begin(&mut self) -> Result<Box<dyn Txn + '_>> {
        let tx = self.client.transaction().map_err(db)?;
        Ok(Box::new(PgTxn {
            tx,
            statements: &mut self.statements,
            analyze: &mut self.analyze,
            written: 0,
        }))
    }

    fn head(&mut self) -> Result<Head> {
        let rows = self.query(HEAD_SQL, &[])?;
        to_head(&rows)
    }

    fn meta(&mut self, name: &str) -> Result<Option<String>> {
        let rows = self.query("SELECT value FROM meta WHERE name = $1", &[&name])?;
        rows.first().map(|r| col(r, 0)).transpose()
    }

    fn set_meta(&mut self, name: &str, value: &str) -> Result<()> {
        let st = self.statements.get(
            &mut self.client,
            "INSERT INTO meta (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )?;
        self.client.execute(&st, &[&name, &value]).map_err(db)?;
        Ok(())
    }

    fn leaves(&mut self, from: u64, limit: u64) -> Result<Vec<(u64, Hash)>> {
        let (from, limit) = (int8(from, "from")?, int8(limit, "limit")?);
        let rows = self.query(
            "SELECT seq, leaf FROM events WHERE seq >= $1 ORDER BY seq LIMIT $2",
            &[&from, &limit],
        )?;
        rows.iter()
            .map(|r| Ok((u64_col(r, 0, "seq")?, key_col(r, 1, "leaf hash")?)))
            .collect()
    }

    fn tree_hashes(&mut self, level: u8, from: u64, to: u64) -> Result<Vec<(u64, Hash)>> {
        let (from, to) = (
            int8(from.min(i64::MAX as u64), "from")?,
            int8(to.min(i64::MAX as u64), "to")?,
        );
        let rows = self.query(
            "SELECT idx, hash FROM tree_hashes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx",
            &[&i16::from(level), &from, &to],
        )?;
        rows.iter()
            .map(|r| Ok((u64_col(r, 0, "idx")?, key_col(r, 1, "tree hash")?)))
            .collect()
    }

    /// Each body rebuilt as its row arrives: the persons of the range's contributions are read
    /// first, so the client rebuilds while the server is still sending the rest (with the
    /// persons read after, the server sat idle through the rebuilding of a whole range).
    fn events(&mut self, from: u64, to: u64) -> Result<Vec<EventRow>> {
        let (from, to) = (int8(from, "from")?, int8(to, "to")?);
        let persons = self.persons_in(from, to)?;
        // The range on both sides: two index range scans, merged.
        self.query_map(
            events_sql!(
                "AND c.seq >= $1 AND c.seq < $2",
                "WHERE e.seq >= $1 AND e.seq < $2 ORDER BY e.seq"
            ),
            &[&from, &to],
            |row| {
                let read = with_person(to_event(row)?, &persons);
                Ok(anxin_records::store::with_rebuilt_body(read))
            },
        )
    }

    fn event_by_key(&mut self, key: &str) -> Result<Option<EventRow>> {
        Ok(self
            .read_events(events_sql!("", "WHERE e.key = $1"), &[&key])?
            .pop())
    }

    fn certificate_events(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>> {
        let (from, limit) = (int8(from, "from")?, int8(limit, "limit")?);
        self.read_events(
            events_sql!(
                "",
                "WHERE e.kind = 5 AND e.seq >= $1 ORDER BY e.seq LIMIT $2"
            ),
            &[&from, &limit],
        )
    }

    fn events_after(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>> {
        let (from, limit) = (int8(from, "from")?, int8(limit, "limit")?);
        self.read_events(
            events_sql!(
                "AND c.seq >= $1",
                "WHERE e.seq >= $1 ORDER BY e.seq LIMIT $2"
            ),
            &[&from, &limit],
        )
    }

    fn contributions(&mut self, from: u64, to: u64) -> Result<Vec<ContributionRow>> {
        let (from, to) = (int8(from, "from")?, int8(to, "to")?);
        // The range on both sides: two index range scans, merged.
        let rows = self.query_map(
            concat!(
                "SELECT ",
                contribution_columns!(),
                " FROM contribution_rows c
                 LEFT JOIN events e ON e.seq = c.seq AND e.seq >= $1 AND e.seq < $2
                 WHERE c.seq >= $1 AND c.seq < $2 ORDER BY c.seq"
            ),
            &[&from, &to],
            |r| contribution_at(r, 0),
        )?;
        let persons = self.persons_of(rows.iter().map(|(_, pid)| *pid))?;
        // A row whose pid names no person is left out, as a join would leave it: the audit
        // names it missing.
        Ok(rows
            .into_iter()
            .filter_map(|(mut c, pid)| {
                c.person = *persons.get(&pid)?;
                Some(c)
            })
            .collect())
    }

    fn postings(&mut self, from: u64, to: u64) -> Result<Vec<PostingRow>> {
        let (from, to) = (int8(from, "from")?, int8(to, "to")?);
        // Sorted here, not by the server: `postings_in` gives each kind of leg in `seq` order,
        // so this merges a few sorted runs, while the server's sort spilled a range's quarter
        // of a million legs to disk before sending the first (a third of its time).
        let mut legs = self.query_map(
            "SELECT leg_seq, leg, leg_account, leg_amount_fen FROM postings_in($1, $2)",
            &[&from, &to],
            |r| {
                Ok(PostingRow {
                    seq: u64_col(r, 0, "seq")?,
                    leg: u32_col(r, 1, "leg")?,
                    account: col(r, 2)?,
                    amount_fen: col(r, 3)?,
                })
            },
        )?;
        legs.sort_by_key(|p| (p.seq, p.leg));
        Ok(legs)
    }

    fn projection_rows_after(&mut self, from: u64) -> Result<Vec<(String, u64)>> {
        let from = int8(from, "from")?;
        let rows = self.query(
            "SELECT 'contributions'::text, seq FROM contribution_rows WHERE seq >= $1
             UNION ALL SELECT 'persons'::text, seq FROM persons WHERE seq >= $1
             UNION ALL SELECT 'orgs'::text, seq FROM orgs WHERE seq >= $1
             UNION ALL SELECT 'children'::text, seq FROM children WHERE seq >= $1 LIMIT 1000",
            &[&from],
        )?;
        rows.iter()
            .map(|r| Ok((col(r, 0)?, u64_col(r, 1, "seq")?)))
            .collect()
    }

    fn persons_all(&mut self) -> Result<Vec<PersonRow>> {
        let rows = self.query(
            "SELECT person, sealed, hukou_region, residence_region, employment_form, platforms,
                 permit_region, permit_since, household, seq
             FROM persons ORDER BY person",
            &[],
        )?;
        rows.iter().map(to_person).collect()
    }

    fn registry_page(&mut self, from: &RegistryCursor, limit: u32) -> Result<RegistryPage> {
        let limit = limit.max(1);
        let after = match from {
            RegistryCursor::Start => 0,
            RegistryCursor::Contributed(pid) => *pid,
            RegistryCursor::Silent(after) => {
                // A page of the registry in key order, less those who have a number: two
                // index reads whose plans need no statistics (an anti-join in one statement
                // was planned as a hash of all of `person_ids` for every page).
                // The empty key sorts before every 32-byte key: one statement for the first
                // page too.
                let after: &[u8] = after.as_ref().map(|k| &k[..]).unwrap_or(&[]);
                let rows = self.query(
                    "SELECT person, sealed, hukou_region, residence_region, employment_form,
                         platforms, permit_region, permit_since, household, seq
                     FROM persons WHERE person > $1 ORDER BY person LIMIT $2",
                    &[&after, &i64::from(limit)],
                )?;
                let persons = rows.iter().map(to_person).collect::<Result<Vec<_>>>()?;
                let keys: Vec<&[u8]> = persons.iter().map(|p| &p.person[..]).collect();
                let numbered = self
                    .query(
                        "SELECT person FROM person_ids WHERE person = ANY($1)",
                        &[&keys],
                    )?
                    .iter()
                    .map(|r| key_col(r, 0, "person key"))
                    .collect::<Result<HashSet<[u8; 32]>>>()?;
                return Ok(RegistryPage::silent(persons, &numbered, limit));
            }
        };
        // Numbers fit an INTEGER column; a cursor past them reads nothing.
        let after = i32::try_from(after.max(0)).unwrap_or(i32::MAX);
        let ids = self
            .query(
                "SELECT pid, person FROM person_ids WHERE pid > $1 ORDER BY pid LIMIT $2",
                &[&after, &i64::from(limit)],
            )?
            .iter()
            .map(|r| Ok((i64::from(col::<i32>(r, 0)?), key_col(r, 1, "person key")?)))
            .collect::<Result<Vec<(i64, [u8; 32])>>>()?;
        let Some(&(last, _)) = ids.last() else {
            return Ok(RegistryPage::contributors(
                &[],
                HashMap::new(),
                Vec::new(),
                limit,
            ));
        };
        let keys: Vec<&[u8]> = ids.iter().map(|(_, k)| &k[..]).collect();
        let registered = self
            .query(
                "SELECT person, sealed, hukou_region, residence_region, employment_form,
                     platforms, permit_region, permit_since, household, seq
                 FROM persons WHERE person = ANY($1)",
                &[&keys],
            )?
            .iter()
            .map(|r| to_person(r).map(|p| (p.person, p)))
            .collect::<Result<HashMap<_, _>>>()?;
        // The page's rows in one range of the slot index, which leads with `pid`; without
        // their record IDs (left empty), so without a read of the log for each row.
        let last = i32::try_from(last).unwrap_or(i32::MAX);
        let rows = self.query(
            "SELECT c.seq, ''::text, c.pid, c.month, c.insurance, c.region, c.payer,
                 c.payer_code, c.base_fen, c.amount_fen, c.account_fen, c.status, c.reason,
                 c.paid_on
             FROM contribution_rows c
             WHERE c.pid > $1 AND c.pid <= $2
             ORDER BY c.pid, c.month, c.insurance, c.region, c.payer, c.payer_code",
            &[&after, &last],
        )?;
        let by_pid: HashMap<i64, [u8; 32]> = ids.iter().copied().collect();
        let rows = rows
            .iter()
            .map(|r| {
                let (mut c, pid) = contribution_at(r, 0)?;
                c.person = *by_pid.get(&i64::from(pid)).ok_or_else(|| {
                    Error::Corrupt(format!("a contribution of number {pid}, not in its page"))
                })?;
                Ok(c)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RegistryPage::contributors(&ids, registered, rows, limit))
    }

    fn org_names(&mut self, codes: &[&str]) -> Result<HashMap<String, String>> {
        if codes.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = self.query(
            "SELECT o.code, o.name FROM unnest($1::text[]) AS k (code) JOIN orgs o ON o.code = k.code",
            &[&codes],
        )?;
        rows.iter().map(|r| Ok((col(r, 0)?, col(r, 1)?))).collect()
    }

    fn orgs_all(&mut self) -> Result<Vec<OrgRow>> {
        let rows = self.query(
            "SELECT code, name, kind, region, seq FROM orgs ORDER BY code COLLATE \"C\"",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(OrgRow {
                    code: col(r, 0)?,
                    name: col(r, 1)?,
                    kind: col(r, 2)?,
                    region: u32_col(r, 3, "region")?,
                    seq: u64_col(r, 4, "seq")?,
                })
            })
            .collect()
    }

    fn children_all(&mut self) -> Result<Vec<ChildRow>> {
        let rows = self.query(
            "SELECT child, sealed, guardian, relation, school_region, seq FROM children ORDER BY child",
            &[],
        )?;
        rows.iter().map(to_child).collect()
    }

    fn checkpoints(&mut self) -> Result<Vec<(u64, String)>> {
        let rows = self.query("SELECT size, text FROM checkpoints ORDER BY size", &[])?;
        rows.iter()
            .map(|r| Ok((u64_col(r, 0, "size")?, col(r, 1)?)))
            .collect()
    }

    fn person(&mut self, person: &[u8; 32]) -> Result<Option<PersonRow>> {
        let rows = self.query(
            "SELECT person, sealed, hukou_region, residence_region, employment_form, platforms,
                 permit_region, permit_since, household, seq
             FROM persons WHERE person = $1",
            &[&&person[..]],
        )?;
        rows.first().map(to_person).transpose()
    }

    fn children_of(&mut self, guardian: &[u8; 32]) -> Result<Vec<ChildRow>> {
        let rows = self.query(
            "SELECT child, sealed, guardian, relation, school_region, seq FROM children
             WHERE guardian = $1 ORDER BY child",
            &[&&guardian[..]],
        )?;
        rows.iter().map(to_child).collect()
    }

    fn contributions_of(&mut self, person: &[u8; 32]) -> Result<Vec<ContributionRow>> {
        let rows = self.query(
            concat!(
                "SELECT ",
                contribution_columns!(),
                " FROM person_ids p JOIN contribution_rows c ON c.pid = p.pid
                 LEFT JOIN events e ON e.seq = c.seq
                 WHERE p.person = $1",
                // The codes' ids sort as their names do (migration 19).
                " ORDER BY c.month, c.insurance, c.region, c.payer, c.payer_code"
            ),
            &[&&person[..]],
        )?;
        rows.iter()
            .map(|r| {
                let (mut c, _) = contribution_at(r, 0)?;
                c.person = *person;
                Ok(c)
            })
            .collect()
    }

    fn balances(&mut self) -> Result<Vec<(String, i64, u64)>> {
        let rows = self.query(
            "SELECT account, SUM(amount_fen)::bigint, COUNT(*) FROM postings
             GROUP BY account ORDER BY account COLLATE \"C\"",
            &[],
        )?;
        rows.iter()
            .map(|r| Ok((col(r, 0)?, col(r, 1)?, u64_col(r, 2, "posting count")?)))
            .collect()
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
        let rows = self.query(
            "SELECT month, COUNT(DISTINCT pid), SUM(amount_fen)::bigint FROM contribution_rows
             WHERE payer_code = $1 AND payer_code <> '' AND status = ANY($2)
             GROUP BY month ORDER BY month",
            &[&code, &paid_ids()],
        )?;
        rows.iter()
            .map(|r| {
                Ok(PayerMonthRow {
                    month: col(r, 0)?,
                    workers: u64_col(r, 1, "worker count")?,
                    amount_fen: col(r, 2)?,
                })
            })
            .collect()
    }

    fn create_account(&mut self, account: &NewAccount, now: i64) -> Result<i64> {
        let st = self.statements.get(
            &mut self.client,
            "INSERT INTO accounts (username, role, region, person, org, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )?;
        let region = opt_int4(account.region.map(|r| r.code()), "region")?;
        let person = account.person.as_ref().map(|p| &p[..]);
        let inserted = self.client.query_one(
            &st,
            &[
                &account.username,
                &account.role.as_str(),
                &region,
                &person,
                &account.org,
                &account.password_hash,
                &now,
            ],
        );
        match inserted {
            Ok(row) => col(&row, 0),
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                Err(Error::refused(
                    format!("用户名 {} 已被使用", account.username),
                    format!("the username {} is taken", account.username),
                ))
            }
            Err(e) => Err(db(e)),
        }
    }

    fn account(&mut self, id: i64) -> Result<Option<AccountRow>> {
        let rows = self.query(
            "SELECT id, username, role, region, person, org, password_hash, created_at
             FROM accounts WHERE id = $1",
            &[&id],
        )?;
        rows.first().map(to_account).transpose()
    }

    fn account_named(&mut self, username: &str) -> Result<Option<AccountRow>> {
        let rows = self.query(
            "SELECT id, username, role, region, person, org, password_hash, created_at
             FROM accounts WHERE username = $1",
            &[&username],
        )?;
        rows.first().map(to_account).transpose()
    }

    fn accounts_all(&mut self) -> Result<Vec<AccountRow>> {
        let rows = self.query(
            "SELECT id, username, role, region, person, org, password_hash, created_at
             FROM accounts ORDER BY id",
            &[],
        )?;
        rows.iter().map(to_account).collect()
    }

    fn create_session(
        &mut self,
        token: &[u8; 32],
        account: i64,
        kind: SessionKind,
        expires: i64,
        now: i64,
    ) -> Result<()> {
        self.query("DELETE FROM sessions WHERE expires_at <= $1", &[&now])?;
        self.query(
            "INSERT INTO sessions (token, account, kind, expires_at) VALUES ($1, $2, $3, $4)",
            &[&&token[..], &account, &kind.as_str(), &expires],
        )?;
        Ok(())
    }

    fn session_account(
        &mut self,
        token: &[u8; 32],
        kind: SessionKind,
        now: i64,
    ) -> Result<Option<AccountRow>> {
        let rows = self.query(
            "SELECT a.id, a.username, a.role, a.region, a.person, a.org, a.password_hash, a.created_at
             FROM sessions s JOIN accounts a ON a.id = s.account
             WHERE s.token = $1 AND s.kind = $2 AND s.expires_at > $3",
            &[&&token[..], &kind.as_str(), &now],
        )?;
        rows.first().map(to_account).transpose()
    }

    fn end_session(&mut self, token: &[u8; 32]) -> Result<()> {
        self.query("DELETE FROM sessions WHERE token = $1", &[&&token[..]])?;
        Ok(())
    }

    fn accounts_of_person(&mut self, person: &[u8; 32]) -> Result<Vec<AccountRow>> {
        let rows = self.query(
            "SELECT id, username, role, region, person, org, password_hash, created_at
             FROM accounts WHERE person = $1 ORDER BY id",
            &[&&person[..]],
        )?;
        rows.iter().map(to_account).collect()
    }

    fn set_password(&mut self, account: i64, password_hash: &str, must_change: bool) -> Result<()> {
        let mut tx = self.client.transaction().map_err(db)?;
        let n = tx
            .execute(
                "UPDATE accounts SET password_hash = $2, must_change = $3 WHERE id = $1",
                &[&account, &password_hash, &must_change],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(Error::not_found("没有这个账户", "no such account"));
        }
        tx.execute("DELETE FROM sessions WHERE account = $1", &[&account])
            .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn must_change_password(&mut self, account: i64) -> Result<bool> {
        let rows = self.query(
            "SELECT must_change FROM accounts WHERE id = $1",
            &[&account],
        )?;
        rows.first().map_or(Ok(false), |r| col(r, 0))
    }

    fn signup_add(&mut self, signup: &NewSignup, now: i64) -> Result<i64> {
        let region = int4(signup.region, "sign-up region")?;
        let mut tx = self.client.transaction().map_err(db)?;
        // Two requests for one name at once: the second waits here, then sees the first.
        tx.execute("LOCK TABLE signups IN SHARE ROW EXCLUSIVE MODE", &[])
            .map_err(db)?;
        let taken_by_account: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM accounts WHERE username = $1)",
                &[&signup.username],
            )
            .map_err(db)
            .and_then(|r| col(&r, 0))?;
        if taken_by_account {
            return Err(name_taken(&signup.username));
        }
        let inserted = tx.query_one(
            "INSERT INTO signups (username, person, sealed, region, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &signup.username,
                &&signup.person[..],
                &signup.sealed,
                &region,
                &signup.password_hash,
                &now,
            ],
        );
        let id: i64 = match inserted {
            Ok(row) => col(&row, 0)?,
            Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                return Err(name_taken(&signup.username));
            }
            Err(e) => return Err(db(e)),
        };
        tx.commit().map_err(db)?;
        Ok(id)
    }

    fn signup(&mut self, id: i64) -> Result<Option<SignupRow>> {
        let rows = self.query(
            "SELECT id, username, person, sealed, region, password_hash, created_at, state,
             reason, decided_by, decided_at, account FROM signups WHERE id = $1",
            &[&id],
        )?;
        rows.first().map(to_signup).transpose()
    }

    fn signup_named(&mut self, username: &str) -> Result<Option<SignupRow>> {
        let rows = self.query(
            "SELECT id, username, person, sealed, region, password_hash, created_at, state,
             reason, decided_by, decided_at, account FROM signups WHERE username = $1
             ORDER BY id DESC LIMIT 1",
            &[&username],
        )?;
        rows.first().map(to_signup).transpose()
    }

    fn signups_pending(
        &mut self,
        from: u32,
        to: u32,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SignupRow>> {
        let from = int4(from, "region")?;
        let to = int4(to, "region")?;
        let rows = self.query(
            "SELECT id, username, person, sealed, region, password_hash, created_at, state,
             reason, decided_by, decided_at, account FROM signups
             WHERE state = 'pending' AND region BETWEEN $1 AND $2 AND id > $3
             ORDER BY id LIMIT $4",
            &[&from, &to, &after, &i64::from(limit)],
        )?;
        rows.iter().map(to_signup).collect()
    }

    fn signup_decide(
        &mut self,
        id: i64,
        decision: &SignupDecision,
        by: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        let mut tx = self.client.transaction().map_err(db)?;
        let state: Option<String> = tx
            .query_opt("SELECT state FROM signups WHERE id = $1 FOR UPDATE", &[&id])
            .map_err(db)?
            .map(|r| col(&r, 0))
            .transpose()?;
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
                let region = opt_int4(account.region.map(|r| r.code()), "region")?;
                let person = account.person.as_ref().map(|p| &p[..]);
                let inserted = tx.query_one(
                    "INSERT INTO accounts (username, role, region, person, org, password_hash, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    &[
                        &account.username,
                        &account.role.as_str(),
                        &region,
                        &person,
                        &account.org,
                        &account.password_hash,
                        &now,
                    ],
                );
                let account: i64 = match inserted {
                    Ok(row) => col(&row, 0)?,
                    Err(e) if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) => {
                        return Err(name_taken(&account.username));
                    }
                    Err(e) => return Err(db(e)),
                };
                tx.execute(
                    "UPDATE signups SET state = 'confirmed', decided_by = $2, decided_at = $3,
                     account = $4 WHERE id = $1",
                    &[&id, &by, &now, &account],
                )
                .map_err(db)?;
                Some(account)
            }
            SignupDecision::Refuse(reason) => {
                tx.execute(
                    "UPDATE signups SET state = 'refused', reason = $2, decided_by = $3,
                     decided_at = $4 WHERE id = $1",
                    &[&id, reason, &by, &now],
                )
                .map_err(db)?;
                None
            }
        };
        tx.commit().map_err(db)?;
        Ok(account)
    }

    fn log_access(&mut self, row: &AccessRow) -> Result<()> {
        self.query(
            "INSERT INTO access_log (at, account, username, role, person, what, purpose)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &row.at,
                &row.account,
                &row.username,
                &row.role,
                &&row.person[..],
                &row.what,
                &row.purpose,
            ],
        )?;
        Ok(())
    }

    fn access_rows(&mut self, after: i64, limit: u32) -> Result<Vec<(Option<u64>, AccessRow)>> {
        let rows = self.query(
            "SELECT id, at, account, username, role, person, what, purpose, seq FROM access_log
             WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &i64::from(limit)],
        )?;
        rows.iter()
            .map(|r| {
                let id: i64 = col(r, 0)?;
                let person: Vec<u8> = col(r, 5)?;
                let seq: Option<i64> = col(r, 8)?;
                let seq = match seq {
                    Some(s) => Some(u64::try_from(s).map_err(|_| {
                        Error::Corrupt(format!("access_log row id {id} has a negative seq"))
                    })?),
                    None => None,
                };
                Ok((
                    seq,
                    AccessRow {
                        id,
                        at: col(r, 1)?,
                        account: col(r, 2)?,
                        username: col(r, 3)?,
                        role: col(r, 4)?,
                        person: <[u8; 32]>::try_from(person.as_slice()).map_err(|_| {
                            Error::Corrupt(format!(
                                "access_log row id {id} has a malformed person key"
                            ))
                        })?,
                        what: col(r, 6)?,
                        purpose: col(r, 7)?,
                    },
                ))
            })
            .collect()
    }

    fn access_to(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AccessRow>> {
        let rows = self.query(
            "SELECT id, at, account, username, role, what, purpose FROM access_log
             WHERE person = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            &[&&person[..], &before.unwrap_or(i64::MAX), &i64::from(limit)],
        )?;
        rows.iter()
            .map(|r| {
                Ok(AccessRow {
                    id: col(r, 0)?,
                    at: col(r, 1)?,
                    account: col(r, 2)?,
                    username: col(r, 3)?,
                    role: col(r, 4)?,
                    person: *person,
                    what: col(r, 5)?,
                    purpose: col(r, 6)?,
                })
            })
            .collect()
    }

    fn create_job(&mut self, job: &NewJob) -> Result<i64> {
        let rows = self.query(
            "INSERT INTO import_jobs (owner, file_name, kind, format, today, content, created_at,
             path, digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                &job.owner,
                &job.file_name,
                &job.kind,
                &job.format,
                &job.today,
                &job.content,
                &job.created_at,
                &job.path,
                &job.digest,
            ],
        )?;
        match rows.first() {
            Some(r) => col(r, 0),
            None => Err(Error::Corrupt("a new import job has no id".into())),
        }
    }

    fn job(&mut self, id: i64) -> Result<Option<JobRow>> {
        let rows = self.query(
            "SELECT id, owner, file_name, kind, format, today, created_at, rows_total,
             rows_read, last_row, read, added, unchanged, rejected, finished, error_zh, error_en,
             path, digest FROM import_jobs WHERE id = $1",
            &[&id],
        )?;
        rows.first().map(to_job).transpose()
    }

    fn job_content(&mut self, id: i64) -> Result<Option<Vec<u8>>> {
        let rows = self.query("SELECT content FROM import_jobs WHERE id = $1", &[&id])?;
        rows.first().map(|r| col(r, 0)).transpose()
    }

    fn job_refusals(&mut self, id: i64, from: u64, limit: u64) -> Result<Vec<JobRefusal>> {
        let rows = self.query(
            "SELECT n, row_no, col, value, zh, en FROM import_refusals
             WHERE job = $1 AND n >= $2 ORDER BY n LIMIT $3",
            &[
                &id,
                &i64::try_from(from).unwrap_or(i64::MAX),
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )?;
        rows.iter()
            .map(|r| {
                Ok(JobRefusal {
                    n: u64_col(r, 0, "refusal number")?,
                    row: u64_col(r, 1, "refusal row")?,
                    column: col(r, 2)?,
                    value: col(r, 3)?,
                    zh: col(r, 4)?,
                    en: col(r, 5)?,
                })
            })
            .collect()
    }

    fn unfinished_jobs(&mut self) -> Result<Vec<JobRow>> {
        let rows = self.query(
            "SELECT id, owner, file_name, kind, format, today, created_at, rows_total,
             rows_read, last_row, read, added, unchanged, rejected, finished, error_zh, error_en,
             path, digest FROM import_jobs WHERE NOT finished ORDER BY id",
            &[],
        )?;
        rows.iter().map(to_job).collect()
    }

    fn inbox_add(&mut self, messages: &[NewMessage], now: i64) -> Result<u64> {
        let mut tx = self.client.transaction().map_err(db)?;
        let mut added = 0;
        for m in messages {
            let rows = tx
                .query(
                    "INSERT INTO inbox_messages (key, person, kind, month, params, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (key) DO NOTHING RETURNING id",
                    &[&m.key, &&m.person[..], &m.kind, &m.month, &m.params, &now],
                )
                .map_err(db)?;
            if let Some(row) = rows.first() {
                let id: i64 = col(row, 0)?;
                tx.execute(
                    "INSERT INTO inbox_deliveries (message, next_at, state) VALUES ($1, $2, 'pending')",
                    &[&id, &now],
                )
                .map_err(db)?;
                added += 1;
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
        let rows = self.query(
            "SELECT m.id, m.key, m.person, m.kind, m.month, m.params, m.created_at, m.read_at
             FROM inbox_messages m WHERE person = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            &[&&person[..], &before.unwrap_or(i64::MAX), &i64::from(limit)],
        )?;
        rows.iter().map(to_message).collect()
    }

    fn inbox_mark_read(&mut self, person: &[u8; 32], id: i64, now: i64) -> Result<bool> {
        let rows = self.query(
            "UPDATE inbox_messages SET read_at = coalesce(read_at, $3)
             WHERE id = $1 AND person = $2 RETURNING id",
            &[&id, &&person[..], &now],
        )?;
        Ok(rows.len() == 1)
    }

    fn inbox_due(&mut self, now: i64, limit: u32) -> Result<Vec<(MessageRow, DeliveryRow)>> {
        let rows = self.query(
            "SELECT m.id, m.key, m.person, m.kind, m.month, m.params, m.created_at, m.read_at,
             d.attempts, d.next_at, d.state, d.last_error, d.delivered_at
             FROM inbox_deliveries d JOIN inbox_messages m ON m.id = d.message
             WHERE d.state = 'pending' AND d.next_at <= $1 ORDER BY d.next_at, d.message LIMIT $2",
            &[&now, &i64::from(limit)],
        )?;
        rows.iter().map(to_delivery).collect()
    }

    fn inbox_set_delivery(&mut self, d: &DeliveryRow) -> Result<()> {
        let attempts = i32::try_from(d.attempts).unwrap_or(i32::MAX);
        self.query(
            "UPDATE inbox_deliveries SET attempts = $2, next_at = $3, state = $4,
             last_error = $5, delivered_at = $6 WHERE message = $1",
            &[
                &d.message,
                &attempts,
                &d.next_at,
                &d.state.as_str(),
                &d.last_error,
                &d.delivered_at,
            ],
        )?;
        Ok(())
    }

    fn inbox_dead(&mut self, after: i64, limit: u32) -> Result<Vec<(MessageRow, DeliveryRow)>> {
        let rows = self.query(
            "SELECT m.id, m.key, m.person, m.kind, m.month, m.params, m.created_at, m.read_at,
             d.attempts, d.next_at, d.state, d.last_error, d.delivered_at
             FROM inbox_deliveries d JOIN inbox_messages m ON m.id = d.message
             WHERE d.state = 'dead' AND d.message > $1 ORDER BY d.message LIMIT $2",
            &[&after, &i64::from(limit)],
        )?;
        rows.iter().map(to_delivery).collect()
    }

    fn inbox_counts(&mut self) -> Result<Vec<KindCounts>> {
        let rows = self.query(
            "SELECT m.kind, count(*), count(m.read_at),
             count(*) FILTER (WHERE d.state = 'delivered'), count(*) FILTER (WHERE d.state = 'dead')
             FROM inbox_messages m JOIN inbox_deliveries d ON d.message = m.id
             GROUP BY m.kind ORDER BY m.kind",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                Ok(KindCounts {
                    kind: col(r, 0)?,
                    messages: u64_col(r, 1, "message count")?,
                    read: u64_col(r, 2, "read count")?,
                    delivered: u64_col(r, 3, "delivered count")?,
                    dead: u64_col(r, 4, "dead count")?,
                })
            })
            .collect()
    }

    fn save_certificate_code(&mut self, row: &CertificateCodeRow) -> Result<()> {
        self.query(
            "INSERT INTO certificate_codes (code, seq, person, sealed) VALUES ($1, $2, $3, $4)
             ON CONFLICT (code) DO NOTHING",
            &[
                &row.code,
                &int8(row.seq, "certificate seq")?,
                &&row.person[..],
                &row.sealed,
            ],
        )?;
        Ok(())
    }

    fn certificate_by_code(&mut self, code: &str) -> Result<Option<CertificateCodeRow>> {
        let rows = self.query(
            "SELECT code, seq, person, sealed FROM certificate_codes WHERE code = $1",
            &[&code],
        )?;
        rows.first()
            .map(|r| {
                Ok(CertificateCodeRow {
                    code: col(r, 0)?,
                    seq: u64_col(r, 1, "certificate code seq")?,
                    person: key_col(r, 2, "certificate holder")?,
                    sealed: col(r, 3)?,
                })
            })
            .transpose()
    }

    fn case_steps_all(&mut self) -> Result<Vec<CaseStepRow>> {
        let rows = self.query("SELECT seq, case_id, step, case_kind, action, state, person, region, holder_role, holder_region, level, actor, at, since, due, clock, outcome, subject, party FROM case_steps ORDER BY seq", &[])?;
        rows.iter().map(to_case_step).collect()
    }

    fn case_steps_of(&mut self, case_id: &str) -> Result<Vec<CaseStepRow>> {
        let rows = self.query(
            "SELECT seq, case_id, step, case_kind, action, state, person, region, holder_role, holder_region, level, actor, at, since, due, clock, outcome, subject, party FROM case_steps WHERE case_id = $1 ORDER BY step",
            &[&case_id],
        )?;
        rows.iter().map(to_case_step).collect()
    }

    fn cases_latest(&mut self) -> Result<Vec<CaseStepRow>> {
        let rows = self.query("SELECT seq, case_id, step, case_kind, action, state, person, region, holder_role, holder_region, level, actor, at, since, due, clock, outcome, subject, party FROM cases ORDER BY case_id", &[])?;
        rows.iter().map(to_case_step).collect()
    }

    fn case_evidence_of(&mut self, case_id: &str, content: bool) -> Result<Vec<EvidenceRow>> {
        let sql = if content {
            "SELECT seq, case_id, n, person, media_type, size, sha256, actor, at, sealed, name_sealed FROM case_evidence WHERE case_id = $1 ORDER BY n"
        } else {
            "SELECT seq, case_id, n, person, media_type, size, sha256, actor, at, ''::bytea, name_sealed FROM case_evidence WHERE case_id = $1 ORDER BY n"
        };
        let rows = self.query(sql, &[&case_id])?;
        rows.iter().map(to_evidence).collect()
    }

    fn alert_steps_all(&mut self) -> Result<Vec<AlertStepRow>> {
        let rows = self.query(
            "SELECT seq, alert_id, step, month, area, alert_kind, person, action, state, actor, at, via, contact_at, note, outcome FROM alert_steps ORDER BY seq",
            &[],
        )?;
        rows.iter().map(to_alert_step).collect()
    }

    fn alert_steps_in(&mut self, month: &str) -> Result<Vec<AlertStepRow>> {
        let rows = self.query(
            "SELECT seq, alert_id, step, month, area, alert_kind, person, action, state, actor, at, via, contact_at, note, outcome FROM alert_steps WHERE month = $1 ORDER BY alert_id, step",
            &[&month],
        )?;
        rows.iter().map(to_alert_step).collect()
    }

    fn case_evidence_all(&mut self) -> Result<Vec<EvidenceRow>> {
        let rows = self.query("SELECT seq, case_id, n, person, media_type, size, sha256, actor, at, ''::bytea, ''::bytea FROM case_evidence ORDER BY seq", &[])?;
        rows.iter().map(to_evidence).collect()
    }
}

/// A row read with [`anxin_records::store::ALERT_STEP_COLUMNS`]'s columns.
fn to_alert_step(r: &Row) -> Result<AlertStepRow> {
    Ok(AlertStepRow {
        seq: u64_col(r, 0, "alert step seq")?,
        alert_id: col(r, 1)?,
        step: u32_col(r, 2, "alert step")?,
        month: col(r, 3)?,
        area: col(r, 4)?,
        alert_kind: col(r, 5)?,
        person: col(r, 6)?,
        action: col(r, 7)?,
        state: col(r, 8)?,
        actor: col(r, 9)?,
        at: col(r, 10)?,
        via: col(r, 11)?,
        contact_at: col(r, 12)?,
        note: col(r, 13)?,
        outcome: col(r, 14)?,
    })
}

/// A row read with [`anxin_records::store::CASE_STEP_COLUMNS`]'s columns.
fn to_case_step(r: &Row) -> Result<CaseStepRow> {
    Ok(CaseStepRow {
        seq: u64_col(r, 0, "case step seq")?,
        case_id: col(r, 1)?,
        step: u32_col(r, 2, "case step")?,
        case_kind: col(r, 3)?,
        action: col(r, 4)?,
        state: col(r, 5)?,
        person: key_col(r, 6, "case person")?,
        region: u32_col(r, 7, "case region")?,
        holder_role: col(r, 8)?,
        holder_region: u32_col(r, 9, "case holder region")?,
        level: u32_col(r, 10, "case level")?,
        actor: col(r, 11)?,
        at: col(r, 12)?,
        since: col(r, 13)?,
        due: col(r, 14)?,
        clock: col(r, 15)?,
        outcome: col(r, 16)?,
        subject: col(r, 17)?,
        party: col(r, 18)?,
    })
}

fn to_evidence(r: &Row) -> Result<EvidenceRow> {
    Ok(EvidenceRow {
        seq: u64_col(r, 0, "evidence seq")?,
        case_id: col(r, 1)?,
        n: u32_col(r, 2, "evidence number")?,
        person: key_col(r, 3, "evidence person")?,
        media_type: col(r, 4)?,
        size: u64_col(r, 5, "evidence size")?,
        sha256: col(r, 6)?,
        actor: col(r, 7)?,
        at: col(r, 8)?,
        sealed: col(r, 9)?,
        name_sealed: col(r, 10)?,
    })
}

fn to_message(r: &Row) -> Result<MessageRow> {
    Ok(MessageRow {
        id: col(r, 0)?,
        key: col(r, 1)?,
        person: hash_of(col(r, 2)?, "inbox person")?,
        kind: col(r, 3)?,
        month: col(r, 4)?,
        params: col(r, 5)?,
        created_at: col(r, 6)?,
        read_at: col(r, 7)?,
    })
}

fn to_delivery(r: &Row) -> Result<(MessageRow, DeliveryRow)> {
    let message = to_message(r)?;
    let attempts: i32 = col(r, 8)?;
    let state: String = col(r, 10)?;
    let state = DeliveryState::parse(&state)
        .ok_or_else(|| Error::Corrupt(format!("{state:?} is not a delivery state")))?;
    let delivery = DeliveryRow {
        message: message.id,
        attempts: attempts.max(0) as u32,
        next_at: col(r, 9)?,
        state,
        last_error: col(r, 11)?,
        delivered_at: col(r, 12)?,
    };
    Ok((message, delivery))
}

fn name_taken(username: &str) -> Error {
    Error::refused(
        format!("用户名 {username} 已被使用"),
        format!("the username {username} is taken"),
    )
}

fn to_signup(row: &Row) -> Result<SignupRow> {
    let state: String = col(row, 7)?;
    Ok(SignupRow {
        id: col(row, 0)?,
        username: col(row, 1)?,
        person: key_col(row, 2, "sign-up person")?,
        sealed: col(row, 3)?,
        region: u32_col(row, 4, "sign-up region")?,
        password_hash: col(row, 5)?,
        created_at: col(row, 6)?,
        state: SignupState::parse(&state)?,
        reason: col(row, 8)?,
        decided_by: col(row, 9)?,
        decided_at: col(row, 10)?,
        account: col(row, 11)?,
    })
}

fn to_account(row: &Row) -> Result<AccountRow> {
    let person: Option<Vec<u8>> = col(row, 4)?;
    Ok(AccountRow {
        id: col(row, 0)?,
        username: col(row, 1)?,
        role: col(row, 2)?,
        region: opt_u32_col(row, 3, "account region")?,
        person: person.map(|p| hash_of(p, "account person")).transpose()?,
        org: col(row, 5)?,
        password_hash: col(row, 6)?,
        created_at: col(row, 7)?,
    })
}
