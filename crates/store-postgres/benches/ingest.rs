//! Ingest benchmark on PostgreSQL: 1,000 orgs and 1,000 persons, then 1,000,000 contribution
//! records through `Records::append` in batches of 50,000; then, as the baseline, a plain
//! binary COPY of the same 1,000,000 rows into a table with the same columns and no indexes
//! (and no log); then the audit, without and with projections.
//!
//! `cargo bench -p anxin-store-postgres --bench ingest` (server from `ANXIN_TEST_POSTGRES`,
//! default `postgres://postgres@127.0.0.1:5432/test`). `ANXIN_BENCH_RECORDS` changes the count;
//! without `--bench` (as under `cargo test --all-targets`) it is a 20,000-record smoke run.
//! The schema is dropped at the end unless `ANXIN_BENCH_KEEP` is set.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anxin_domain::{CreditCode, Fen, YearMonth};
use anxin_import::{OrgKind, Payer};
use anxin_ledger::Hash;
use anxin_records::access::{AccessRow, AccountRow, NewAccount, SessionKind};
use anxin_records::conformance::{contribution, person, region, resident_id, secrets};
use anxin_records::inbox::{DeliveryRow, KindCounts, MessageRow, NewMessage};
use anxin_records::store::{
    ChildRow, ContributionRow, EventRow, Head, OrgRow, PayerMonthRow, PayerWorkerRow, PersonRow,
    PostingRow, RegistryCursor, RegistryPage, Slot, Store, Txn, WriteBatch,
};
use anxin_records::{AuditScope, Input, OrgInput, Outcome, Records, Result, Suite};
use anxin_store_postgres::{BinaryCopy, PgStore};
use postgres::Client;

const ORGS: usize = 1_000;
const PERSONS: usize = 1_000;
const BATCH: usize = 50_000;

/// A valid credit code from a 17-character prefix (GB 32100 check character computed).
fn credit_code(prefix17: &str) -> CreditCode {
    CreditCode::complete(prefix17).expect("code characters")
}

/// Time spent in each storage call, to see where an append goes (the rest is the records
/// layer: events, hashing, signing).
#[derive(Default)]
struct Times(Mutex<Vec<(&'static str, Duration)>>);

impl Times {
    fn add(&self, what: &'static str, d: Duration) {
        let mut v = self.0.lock().expect("times");
        match v.iter_mut().find(|(w, _)| *w == what) {
            Some((_, t)) => *t += d,
            None => v.push((what, d)),
        }
    }

    fn take(&self) -> Vec<(&'static str, Duration)> {
        std::mem::take(&mut *self.0.lock().expect("times"))
    }
}

fn timed<T>(times: &Times, what: &'static str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    times.add(what, t.elapsed());
    out
}

/// A store that times its transactions' calls; reads go straight through.
struct Timed {
    inner: PgStore,
    times: Arc<Times>,
}

struct TimedTxn<'a> {
    inner: Box<dyn Txn + 'a>,
    times: Arc<Times>,
}

impl Txn for TimedTxn<'_> {
    fn head(&mut self) -> Result<Head> {
        timed(&self.times.clone(), "txn.head (lock)", || self.inner.head())
    }
    fn existing_keys(&mut self, keys: &[&str]) -> Result<HashMap<String, (u64, Hash)>> {
        timed(&self.times.clone(), "txn.existing_keys", || {
            self.inner.existing_keys(keys)
        })
    }
    fn filled_slots(&mut self, slots: &[Slot]) -> Result<HashMap<Slot, String>> {
        timed(&self.times.clone(), "txn.filled_slots", || {
            self.inner.filled_slots(slots)
        })
    }
    fn known_persons(&mut self, persons: &[[u8; 32]]) -> Result<HashSet<[u8; 32]>> {
        timed(&self.times.clone(), "txn.known_persons", || {
            self.inner.known_persons(persons)
        })
    }
    fn known_orgs(&mut self, codes: &[&str]) -> Result<HashSet<String>> {
        timed(&self.times.clone(), "txn.known_orgs", || {
            self.inner.known_orgs(codes)
        })
    }
    fn write(&mut self, batch: &WriteBatch) -> Result<()> {
        timed(&self.times.clone(), "txn.write (COPY, upserts)", || {
            self.inner.write(batch)
        })
    }
    fn set_head(&mut self, head: &Head) -> Result<()> {
        timed(&self.times.clone(), "txn.set_head", || {
            self.inner.set_head(head)
        })
    }
    fn commit(self: Box<Self>) -> Result<()> {
        let times = self.times.clone();
        timed(&times, "txn.commit", || self.inner.commit())
    }
    fn save_job(&mut self, job: &anxin_records::jobs::JobWrite) -> Result<()> {
        self.inner.save_job(job)
    }
}

impl Store for Timed {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    fn begin(&mut self) -> Result<Box<dyn Txn + '_>> {
        let times = self.times.clone();
        let inner = timed(&times, "begin", || self.inner.begin())?;
        Ok(Box::new(TimedTxn { inner, times }))
    }
    fn head(&mut self) -> Result<Head> {
        self.inner.head()
    }
    fn meta(&mut self, name: &str) -> Result<Option<String>> {
        self.inner.meta(name)
    }
    fn set_meta(&mut self, name: &str, value: &str) -> Result<()> {
        self.inner.set_meta(name, value)
    }
    fn leaves(&mut self, from: u64, limit: u64) -> Result<Vec<(u64, Hash)>> {
        self.inner.leaves(from, limit)
    }
    fn tree_hashes(&mut self, level: u8, from: u64, to: u64) -> Result<Vec<(u64, Hash)>> {
        self.inner.tree_hashes(level, from, to)
    }
    fn events(&mut self, from: u64, to: u64) -> Result<Vec<EventRow>> {
        timed(&self.times.clone(), "read events", || {
            self.inner.events(from, to)
        })
    }
    fn event_by_key(&mut self, key: &str) -> Result<Option<EventRow>> {
        self.inner.event_by_key(key)
    }
    fn certificate_events(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>> {
        self.inner.certificate_events(from, limit)
    }
    fn events_after(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>> {
        self.inner.events_after(from, limit)
    }
    fn contributions(&mut self, from: u64, to: u64) -> Result<Vec<ContributionRow>> {
        timed(&self.times.clone(), "read contributions", || {
            self.inner.contributions(from, to)
        })
    }
    fn postings(&mut self, from: u64, to: u64) -> Result<Vec<PostingRow>> {
        timed(&self.times.clone(), "read postings", || {
            self.inner.postings(from, to)
        })
    }
    fn projection_rows_after(&mut self, from: u64) -> Result<Vec<(String, u64)>> {
        self.inner.projection_rows_after(from)
    }
    fn persons_all(&mut self) -> Result<Vec<PersonRow>> {
        self.inner.persons_all()
    }
    fn registry_page(&mut self, from: &RegistryCursor, limit: u32) -> Result<RegistryPage> {
        self.inner.registry_page(from, limit)
    }
    fn orgs_all(&mut self) -> Result<Vec<OrgRow>> {
        self.inner.orgs_all()
    }
    fn org_names(&mut self, codes: &[&str]) -> Result<HashMap<String, String>> {
        self.inner.org_names(codes)
    }
    fn children_all(&mut self) -> Result<Vec<ChildRow>> {
        self.inner.children_all()
    }
    fn checkpoints(&mut self) -> Result<Vec<(u64, String)>> {
        self.inner.checkpoints()
    }
    fn person(&mut self, person: &[u8; 32]) -> Result<Option<PersonRow>> {
        self.inner.person(person)
    }
    fn children_of(&mut self, guardian: &[u8; 32]) -> Result<Vec<ChildRow>> {
        self.inner.children_of(guardian)
    }
    fn contributions_of(&mut self, person: &[u8; 32]) -> Result<Vec<ContributionRow>> {
        self.inner.contributions_of(person)
    }
    fn balances(&mut self) -> Result<Vec<(String, i64, u64)>> {
        self.inner.balances()
    }
    fn payer_workers(
        &mut self,
        code: &str,
        after: Option<&[u8; 32]>,
        limit: u32,
    ) -> Result<Vec<PayerWorkerRow>> {
        self.inner.payer_workers(code, after, limit)
    }
    fn payer_months(&mut self, code: &str) -> Result<Vec<PayerMonthRow>> {
        self.inner.payer_months(code)
    }
    fn create_account(&mut self, account: &NewAccount, now: i64) -> Result<i64> {
        self.inner.create_account(account, now)
    }
    fn account(&mut self, id: i64) -> Result<Option<AccountRow>> {
        self.inner.account(id)
    }
    fn account_named(&mut self, username: &str) -> Result<Option<AccountRow>> {
        self.inner.account_named(username)
    }
    fn accounts_all(&mut self) -> Result<Vec<AccountRow>> {
        self.inner.accounts_all()
    }
    fn create_session(
        &mut self,
        token: &[u8; 32],
        account: i64,
        kind: SessionKind,
        expires: i64,
        now: i64,
    ) -> Result<()> {
        self.inner
            .create_session(token, account, kind, expires, now)
    }
    fn session_account(
        &mut self,
        token: &[u8; 32],
        kind: SessionKind,
        now: i64,
    ) -> Result<Option<AccountRow>> {
        self.inner.session_account(token, kind, now)
    }
    fn end_session(&mut self, token: &[u8; 32]) -> Result<()> {
        self.inner.end_session(token)
    }
    fn accounts_of_person(&mut self, person: &[u8; 32]) -> Result<Vec<AccountRow>> {
        self.inner.accounts_of_person(person)
    }
    fn set_password(&mut self, account: i64, password_hash: &str, must_change: bool) -> Result<()> {
        self.inner.set_password(account, password_hash, must_change)
    }
    fn must_change_password(&mut self, account: i64) -> Result<bool> {
        self.inner.must_change_password(account)
    }
    fn signup_add(&mut self, signup: &anxin_records::signup::NewSignup, now: i64) -> Result<i64> {
        self.inner.signup_add(signup, now)
    }
    fn signup(&mut self, id: i64) -> Result<Option<anxin_records::signup::SignupRow>> {
        self.inner.signup(id)
    }
    fn signup_named(&mut self, username: &str) -> Result<Option<anxin_records::signup::SignupRow>> {
        self.inner.signup_named(username)
    }
    fn signups_pending(
        &mut self,
        from: u32,
        to: u32,
        after: i64,
        limit: u32,
    ) -> Result<Vec<anxin_records::signup::SignupRow>> {
        self.inner.signups_pending(from, to, after, limit)
    }
    fn signup_decide(
        &mut self,
        id: i64,
        decision: &anxin_records::signup::SignupDecision,
        by: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        self.inner.signup_decide(id, decision, by, now)
    }
    fn log_access(&mut self, row: &AccessRow) -> Result<()> {
        self.inner.log_access(row)
    }
    fn access_rows(&mut self, after: i64, limit: u32) -> Result<Vec<(Option<u64>, AccessRow)>> {
        self.inner.access_rows(after, limit)
    }
    fn access_to(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AccessRow>> {
        self.inner.access_to(person, before, limit)
    }
    fn create_job(&mut self, job: &anxin_records::jobs::NewJob) -> Result<i64> {
        self.inner.create_job(job)
    }
    fn job(&mut self, id: i64) -> Result<Option<anxin_records::jobs::JobRow>> {
        self.inner.job(id)
    }
    fn job_content(&mut self, id: i64) -> Result<Option<Vec<u8>>> {
        self.inner.job_content(id)
    }
    fn job_refusals(
        &mut self,
        id: i64,
        from: u64,
        limit: u64,
    ) -> Result<Vec<anxin_records::jobs::JobRefusal>> {
        self.inner.job_refusals(id, from, limit)
    }
    fn unfinished_jobs(&mut self) -> Result<Vec<anxin_records::jobs::JobRow>> {
        self.inner.unfinished_jobs()
    }
    fn inbox_add(&mut self, messages: &[NewMessage], now: i64) -> Result<u64> {
        self.inner.inbox_add(messages, now)
    }
    fn inbox_of(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<MessageRow>> {
        self.inner.inbox_of(person, before, limit)
    }
    fn inbox_mark_read(&mut self, person: &[u8; 32], id: i64, now: i64) -> Result<bool> {
        self.inner.inbox_mark_read(person, id, now)
    }
    fn inbox_due(&mut self, now: i64, limit: u32) -> Result<Vec<(MessageRow, DeliveryRow)>> {
        self.inner.inbox_due(now, limit)
    }
    fn inbox_set_delivery(&mut self, delivery: &DeliveryRow) -> Result<()> {
        self.inner.inbox_set_delivery(delivery)
    }
    fn inbox_dead(&mut self, after: i64, limit: u32) -> Result<Vec<(MessageRow, DeliveryRow)>> {
        self.inner.inbox_dead(after, limit)
    }
    fn inbox_counts(&mut self) -> Result<Vec<KindCounts>> {
        self.inner.inbox_counts()
    }
    fn save_certificate_code(
        &mut self,
        row: &anxin_records::store::CertificateCodeRow,
    ) -> Result<()> {
        self.inner.save_certificate_code(row)
    }
    fn certificate_by_code(
        &mut self,
        code: &str,
    ) -> Result<Option<anxin_records::store::CertificateCodeRow>> {
        self.inner.certificate_by_code(code)
    }
    fn case_steps_all(&mut self) -> Result<Vec<anxin_records::store::CaseStepRow>> {
        self.inner.case_steps_all()
    }
    fn case_steps_of(&mut self, case_id: &str) -> Result<Vec<anxin_records::store::CaseStepRow>> {
        self.inner.case_steps_of(case_id)
    }
    fn cases_latest(&mut self) -> Result<Vec<anxin_records::store::CaseStepRow>> {
        self.inner.cases_latest()
    }
    fn case_evidence_of(
        &mut self,
        case_id: &str,
        content: bool,
    ) -> Result<Vec<anxin_records::store::EvidenceRow>> {
        self.inner.case_evidence_of(case_id, content)
    }
    fn case_evidence_all(&mut self) -> Result<Vec<anxin_records::store::EvidenceRow>> {
        self.inner.case_evidence_all()
    }
    fn alert_steps_all(&mut self) -> Result<Vec<anxin_records::store::AlertStepRow>> {
        self.inner.alert_steps_all()
    }
    fn alert_steps_in(&mut self, month: &str) -> Result<Vec<anxin_records::store::AlertStepRow>> {
        self.inner.alert_steps_in(month)
    }
}

fn print_times(times: &Times, total: Duration) {
    let mut storage = Duration::ZERO;
    for (what, d) in times.take() {
        storage += d;
        println!(
            "    {what:<28} {:>9.2?} ({:>4.1}%)",
            d,
            100.0 * d.as_secs_f64() / total.as_secs_f64()
        );
    }
    let rest = total.saturating_sub(storage);
    println!(
        "    {:<28} {:>9.2?} ({:>4.1}%)",
        "records layer (CPU)",
        rest,
        100.0 * rest.as_secs_f64() / total.as_secs_f64()
    );
}

/// CPU seconds (user + system) used so far by process `pid` (Linux `/proc`), if readable.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU used by this process and by the server backend serving `store`, and the WAL written.
struct Usage {
    backend: String,
    client: f64,
    server: f64,
    wal: i64,
}

impl Usage {
    fn now(store: &mut PgStore) -> Usage {
        let row = store
            .client()
            .query_one(
                "SELECT pg_backend_pid()::text, (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint",
                &[],
            )
            .expect("backend pid and WAL position");
        let backend: String = row.get(0);
        Usage {
            client: cpu_seconds("self").unwrap_or(f64::NAN),
            server: cpu_seconds(&backend).unwrap_or(f64::NAN),
            backend,
            wal: row.get(1),
        }
    }

    fn print_since(&self, store: &mut PgStore, n: u64, what: &str) {
        let now = Usage::now(store);
        assert_eq!(now.backend, self.backend, "same connection");
        let (client, server) = (now.client - self.client, now.server - self.server);
        println!(
            "    CPU for {what}: client {client:.2}s ({:.1} µs/record), server backend {server:.2}s ({:.1} µs/record); WAL {:.0} MB ({:.0} B/record)",
            1e6 * client / n as f64,
            1e6 * server / n as f64,
            (now.wal - self.wal) as f64 / 1e6,
            (now.wal - self.wal) as f64 / n as f64,
        );
    }
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    let url = std::env::var("ANXIN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    // `cargo bench` passes `--bench`; run any other way (`cargo test --all-targets`) this is a
    // quick smoke run of 20,000 records.
    let benching = std::env::args().any(|a| a == "--bench");
    let total: usize = std::env::var("ANXIN_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 1_000_000 } else { 20_000 });
    let schema = format!("anxin_bench_{}", std::process::id());
    let store = PgStore::connect_schema(&url, &schema).unwrap_or_else(|e| {
        panic!("PostgreSQL at {url}: {e}\nStart it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    });
    let times = Arc::new(Times::default());
    let store = Timed {
        inner: store,
        times: times.clone(),
    };
    let mut records = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.bench/log",
    )
    .expect("init");

    // Registry: orgs, then persons.
    let orgs: Vec<CreditCode> = (0..ORGS)
        .map(|i| credit_code(&format!("91330100M{i:08}")))
        .collect();
    let org_rows: Vec<Input> = orgs
        .iter()
        .enumerate()
        .map(|(i, code)| {
            Input::Org(OrgInput {
                credit_code: code.clone(),
                name: format!("平台{i}"),
                kind: OrgKind::Platform,
                region: region("330100"),
                record_id: None,
            })
        })
        .collect();
    let ids: Vec<_> = (0..PERSONS)
        .map(|i| resident_id(&format!("330106199001{:05}", 10_000 + i)))
        .collect();
    let started = Instant::now();
    records.append(org_rows).expect("orgs");
    records
        .append(ids.iter().map(person).collect())
        .expect("persons");
    println!(
        "registry: {ORGS} orgs + {PERSONS} persons in {:.2?}",
        started.elapsed()
    );
    times.take();

    // Contributions: person p, k-th of theirs; four payers per month, 250 months each.
    let payers = [
        Payer::Individual,
        Payer::Platform,
        Payer::Subsidy,
        Payer::Voucher,
    ];
    let first = YearMonth::parse("2000-01").expect("month");
    let make = |i: usize| -> Input {
        let (p, k) = (i % PERSONS, i / PERSONS);
        let payer = payers[k % 4];
        let month = first.plus((k / 4) as i32);
        let mut input = contribution(&ids[p], &format!("c-{p}-{k}"), "2000-01", payer, "845.40");
        if let Input::Contribution(c) = &mut input {
            c.month = month;
            c.amount = Fen(84_540 + (k % 100) as i64);
            c.account = Some(Fen(c.amount.0 * 2 / 5));
            if c.payer_code.is_some() {
                c.payer_code = Some(orgs[(p * 7 + k) % ORGS].clone());
            }
        }
        input
    };
    let usage = Usage::now(&mut records.store().inner);
    let mut appending = Duration::ZERO;
    let mut added = 0u64;
    let mut slowest = Duration::ZERO;
    let mut i = 0;
    while i < total {
        let n = BATCH.min(total - i);
        let batch: Vec<Input> = (i..i + n).map(make).collect();
        let t = Instant::now();
        let committed = records.append(batch).expect("append");
        let took = t.elapsed();
        appending += took;
        slowest = slowest.max(took);
        added += committed
            .outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Added(_)))
            .count() as u64;
        i += n;
    }
    assert_eq!(added, total as u64, "every record lands");
    let ingest = rate(added, appending);
    println!(
        "ingest:   {added} records via Records::append in {:.2?} (batches of {BATCH}, slowest {:.0?}): {:.0} records/s",
        appending, slowest, ingest
    );
    print_times(&times, appending);
    usage.print_since(&mut records.store().inner, added, "the ingest");

    // Baseline 1, PostgreSQL alone: a fresh schema with the same tables and indexes (the
    // same migrations), the same registry rows written untimed, then the same event and
    // contribution rows — read back from the ledger, so the same bytes — written by the
    // store's own `Txn::write` (binary COPY of events and contributions) in the same batches:
    // no lookups, no checks, no hashing, no tree hashes, no head, no signature.
    let head = records.store().head().expect("head");
    let first_seq = (ORGS + PERSONS) as u64;
    let mut events: Vec<EventRow> = Vec::with_capacity(total);
    let mut registry_events: Vec<EventRow> = Vec::new();
    let mut from = 0;
    while from < head.size {
        let to = (from + 65_536).min(head.size);
        for mut e in records.store().events(from, to).expect("events") {
            // Stored as the ledger stores it: a contribution's bytes once, in its row.
            if e.kind == anxin_records::store::REBUILT_KIND {
                e.body.clear();
            }
            if e.seq < first_seq {
                registry_events.push(e);
            } else {
                events.push(e);
            }
        }
        from = to;
    }
    let mut rows: Vec<ContributionRow> = Vec::with_capacity(total);
    let mut from = 0;
    while from < head.size {
        let to = (from + 65_536).min(head.size);
        rows.extend(records.store().contributions(from, to).expect("read"));
        from = to;
    }
    assert_eq!(rows.len(), total);
    assert_eq!(events.len(), total);
    let alone_schema = format!("{schema}_alone");
    let mut alone = PgStore::connect_schema(&url, &alone_schema).expect("baseline schema");
    {
        let registry = WriteBatch {
            events: registry_events,
            persons: records.store().persons_all().expect("persons"),
            orgs: records.store().orgs_all().expect("orgs"),
            ..WriteBatch::default()
        };
        let mut txn = alone.begin().expect("begin");
        txn.write(&registry).expect("registry");
        txn.commit().expect("commit");
    }
    let usage = Usage::now(&mut alone);
    let t = Instant::now();
    for (ev, co) in events.chunks(BATCH).zip(rows.chunks(BATCH)) {
        let batch = WriteBatch {
            events: ev.to_vec(),
            contributions: co.to_vec(),
            ..WriteBatch::default()
        };
        let mut txn = alone.begin().expect("begin");
        txn.write(&batch).expect("write");
        txn.commit().expect("commit");
    }
    let alone_took = t.elapsed();
    drop(events);
    let alone_rate = rate(total as u64, alone_took);
    println!(
        "baseline: PostgreSQL alone (same schema, indexes, rows, batches; the store's COPY) in {:.2?}: {:.0} rows/s",
        alone_took, alone_rate
    );
    usage.print_since(&mut alone, total as u64, "PostgreSQL alone");
    println!(
        "ratio:    ingest / PostgreSQL alone = {:.2} (target ≥ 0.8)",
        ingest / alone_rate
    );
    let entries = head.size as f64;
    let ledger_sizes = relation_sizes(records.store().inner.client(), &schema);
    let alone_sizes = relation_sizes(alone.client(), &alone_schema);
    let sum = |v: &[(String, i64)]| v.iter().map(|(_, b)| *b).sum::<i64>() as f64;
    println!(
        "bytes on disk per log entry (tables, indexes, TOAST): ledger {:.0}, PostgreSQL alone {:.0}",
        sum(&ledger_sizes) / entries,
        sum(&alone_sizes) / entries
    );
    for (name, bytes) in &ledger_sizes {
        let other = alone_sizes
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, b)| *b);
        if *bytes as f64 / entries >= 0.5 {
            println!(
                "    {name:<32} ledger {:>6.1} B/entry   alone {:>6.1} B/entry",
                *bytes as f64 / entries,
                other as f64 / entries
            );
        }
    }
    drop(alone);
    PgStore::drop_schema(&url, &alone_schema).expect("drop baseline schema");

    // Baseline 2: the contribution rows alone, binary COPY into a plain table (same columns,
    // no indexes, no log), committed every BATCH rows like the ingest.
    let mut store = records.into_store().inner;
    store
        .client()
        .batch_execute("CREATE TABLE contributions_baseline (LIKE contributions)")
        .expect("baseline table");
    let usage = Usage::now(&mut store);
    let client = store.client();
    let t = Instant::now();
    for chunk in rows.chunks(BATCH) {
        // The same encoder as the store's own COPY.
        let mut out = BinaryCopy::new();
        for c in chunk {
            out.row(14);
            out.int8(c.seq as i64);
            out.text(&c.record_id).expect("field");
            out.bytes(&c.person).expect("field");
            out.int4(c.month);
            out.text(c.insurance.as_str()).expect("field");
            out.int4(c.region as i32);
            out.text(c.payer.as_str()).expect("field");
            out.text(&c.payer_code).expect("field");
            out.int8(c.base_fen);
            out.int8(c.amount_fen);
            out.int8(c.account_fen);
            out.text(c.status.as_str()).expect("field");
            out.opt_text(c.reason.map(|g| g.as_str())).expect("field");
            out.opt_text(c.paid_on.as_deref()).expect("field");
        }
        out.finish();
        let mut tx = client.transaction().expect("begin");
        let mut sink = tx
            .copy_in(
                "COPY contributions_baseline (seq, record_id, person, month, insurance, region, payer,
                 payer_code, base_fen, amount_fen, account_fen, status, reason, paid_on) FROM STDIN (FORMAT binary)",
            )
            .expect("copy");
        sink.write_all(out.as_bytes()).expect("send");
        sink.finish().expect("finish");
        tx.commit().expect("commit");
    }
    let copy_took = t.elapsed();
    let baseline = rate(rows.len() as u64, copy_took);
    println!(
        "baseline: {} rows binary COPY into a plain table in {:.2?}: {:.0} rows/s",
        rows.len(),
        copy_took,
        baseline
    );
    usage.print_since(&mut store, rows.len() as u64, "the baseline");
    println!("ratio:    ingest / plain COPY = {:.2}", ingest / baseline);
    drop(rows);

    // The audit.
    let store = Timed {
        inner: store,
        times: times.clone(),
    };
    let mut records = Records::open(store, secrets(Suite::Standard)).expect("open");
    times.take();
    let t = Instant::now();
    let report = records
        .audit(None, AuditScope { projections: false })
        .expect("audit");
    let took = t.elapsed();
    assert!(
        report.is_clean(),
        "{:?}",
        &report.findings[..report.findings.len().min(5)]
    );
    println!(
        "audit (log only):         {} leaves in {:.2?}: {:.0} leaves/s",
        report.events,
        took,
        rate(report.events, took)
    );
    print_times(&times, took);
    let t = Instant::now();
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    let took = t.elapsed();
    assert!(
        report.is_clean(),
        "{:?}",
        &report.findings[..report.findings.len().min(5)]
    );
    println!(
        "audit (with projections): {} leaves, {} contributions, {} postings in {:.2?}: {:.0} leaves/s",
        report.events,
        report.contributions,
        report.postings,
        took,
        rate(report.events, took)
    );
    print_times(&times, took);

    drop(records);
    if std::env::var_os("ANXIN_BENCH_KEEP").is_none() {
        PgStore::drop_schema(&url, &schema).expect("drop bench schema");
    } else {
        println!("kept schema {schema}");
    }
}

/// Bytes of each table (with its TOAST) and each index in `schema`, largest first.
fn relation_sizes(client: &mut Client, schema: &str) -> Vec<(String, i64)> {
    client
        .query(
            "SELECT c.relname::text, CASE WHEN c.relkind = 'r'
                 THEN pg_table_size(c.oid) ELSE pg_relation_size(c.oid) END
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'i') ORDER BY 2 DESC",
            &[&schema],
        )
        .expect("sizes")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}
