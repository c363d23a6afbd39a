//! The storage trait: what the records layer needs from a database, and nothing about which
//! database it is. Two backends implement it (`anxin-store-sqlite`, `anxin-store-postgres`);
//! one conformance suite ([`crate::conformance`]) runs against both.
//!
//! Writes happen only inside a [`Txn`], which holds the log's write lock from [`Txn::head`]
//! to [`Txn::commit`]: one writer at a time, so sequence numbers have no holes. A
//! transaction that is dropped without commit changes nothing.
//!
//! Rows are plain data; the backends do no business logic and no hashing.

/// A row of `case_steps`: one [`crate::event::CaseEvent`] as the projection keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseStepRow {
    pub seq: u64,
    pub case_id: String,
    pub step: u32,
    pub case_kind: String,
    pub action: String,
    pub state: String,
    pub person: [u8; 32],
    pub region: u32,
    pub holder_role: String,
    pub holder_region: u32,
    pub level: u32,
    pub actor: String,
    pub at: i64,
    pub since: i64,
    pub due: Option<i64>,
    pub clock: Option<String>,
    pub outcome: Option<String>,
    pub subject: Option<String>,
    pub party: Option<String>,
}

/// The columns of `case_steps` in [`CaseStepRow`]'s order (both backends read with it).
pub const CASE_STEP_COLUMNS: &str = "seq, case_id, step, case_kind, action, state, person, region, holder_role, holder_region, level, actor, at, since, due, clock, outcome, subject, party";

/// A file of evidence attached to a case (migration 13): its metadata as its
/// [`crate::event::EvidenceEvent`] states it, and its name and content sealed with the data
/// key to the case's worker (see [`crate::records::seal_evidence`]). `sealed` is empty when
/// read without the content (the audit, listings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    pub seq: u64,
    pub case_id: String,
    pub n: u32,
    pub person: [u8; 32],
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    pub actor: String,
    pub at: i64,
    /// The content, sealed; empty when read without it.
    pub sealed: Vec<u8>,
    /// The file's name, sealed apart (a listing opens only the names); empty in the audit's
    /// rows.
    pub name_sealed: Vec<u8>,
}

use std::collections::{HashMap, HashSet};

use anxin_domain::codes::{GapReason, Insurance, Payer, Status};
use anxin_ledger::Hash;

use crate::access::{AccessRow, AccountRow, NewAccount, SessionKind};
use crate::error::Result;

/// The signed head of the log as last committed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Head {
    pub size: u64,
    pub root: Hash,
    /// Roots of the perfect subtrees along the right edge, largest first (see `frontier`).
    pub frontier: Vec<Hash>,
    /// The signed checkpoint note for `size`; empty for a log never written.
    pub checkpoint: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub seq: u64,
    pub key: String,
    pub kind: String,
    pub body: Vec<u8>,
    pub leaf: Hash,
}

/// Where a walk over the registry ([`Store::registry_page`]) goes on from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RegistryCursor {
    /// The first page.
    #[default]
    Start,
    /// Persons who have contributed, after the store's own number for a person (given in the
    /// order persons first contribute; not a key to show or keep).
    Contributed(i64),
    /// Persons with no contribution, after this key (from the first when `None`).
    Silent(Option<[u8; 32]>),
}

/// One page of [`Store::registry_page`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryPage {
    /// Registered persons, each with their contributions ordered by month, insurance, region,
    /// payer (without their record IDs).
    pub persons: Vec<(PersonRow, Vec<ContributionRow>)>,
    /// Where the next page starts; `None` after the last.
    pub next: Option<RegistryCursor>,
}

impl RegistryPage {
    /// A page of the persons who have contributed, for a store's [`Store::registry_page`]:
    /// `ids` are the page's (number, key) pairs in number order, as many as were asked for
    /// unless the list ran out; `registered` the registry rows of those keys that have one;
    /// `rows` the contributions of the page's numbers, in their number's order and then ordered
    /// as [`Store::contributions_of`] orders them, each with its person's key.
    pub fn contributors(
        ids: &[(i64, [u8; 32])],
        mut registered: HashMap<[u8; 32], PersonRow>,
        rows: Vec<ContributionRow>,
        limit: u32,
    ) -> RegistryPage {
        let mut theirs: HashMap<[u8; 32], Vec<ContributionRow>> = HashMap::new();
        for row in rows {
            theirs.entry(row.person).or_default().push(row);
        }
        let persons = ids
            .iter()
            .filter_map(|(_, key)| {
                let person = registered.remove(key)?;
                Some((person, theirs.remove(key).unwrap_or_default()))
            })
            .collect();
        let next = match ids.last() {
            Some((pid, _)) if ids.len() >= limit as usize => RegistryCursor::Contributed(*pid),
            _ => RegistryCursor::Silent(None),
        };
        RegistryPage {
            persons,
            next: Some(next),
        }
    }

    /// A page of the persons with no contribution, for a store's [`Store::registry_page`]:
    /// `persons` are the page's registered persons in key order, as many as were asked for
    /// unless the registry ran out; `numbered` those of them who have contributed (left out).
    pub fn silent(
        persons: Vec<PersonRow>,
        numbered: &HashSet<[u8; 32]>,
        limit: u32,
    ) -> RegistryPage {
        let next = match persons.last() {
            Some(last) if persons.len() >= limit as usize => {
                Some(RegistryCursor::Silent(Some(last.person)))
            }
            _ => None,
        };
        RegistryPage {
            persons: persons
                .into_iter()
                .filter(|p| !numbered.contains(&p.person))
                .map(|p| (p, Vec::new()))
                .collect(),
            next,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub person: [u8; 32],
    pub sealed: Vec<u8>,
    pub hukou_region: Option<u32>,
    pub residence_region: u32,
    pub employment_form: String,
    /// Credit codes joined by `;`.
    pub platforms: String,
    pub permit_region: Option<u32>,
    pub permit_since: Option<String>,
    pub household: Option<String>,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub region: u32,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRow {
    pub child: [u8; 32],
    pub sealed: Vec<u8>,
    pub guardian: [u8; 32],
    pub relation: String,
    pub school_region: Option<u32>,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionRow {
    pub seq: u64,
    pub record_id: String,
    pub person: [u8; 32],
    /// Months since year 0 (`YearMonth::index`).
    pub month: i32,
    pub insurance: Insurance,
    pub region: u32,
    pub payer: Payer,
    /// Empty when the payer has no credit code.
    pub payer_code: String,
    pub base_fen: i64,
    pub amount_fen: i64,
    pub account_fen: i64,
    pub status: Status,
    pub reason: Option<GapReason>,
    pub paid_on: Option<String>,
}

/// The canonical bytes of the `contribution_recorded` event that `row` is the projection of.
///
/// A contribution event's body is stored empty (migration 17) when these bytes are exactly
/// its own: the row already holds every field, so the bytes are rebuilt from it on every read
/// instead of being stored twice (they were about 290 of the 600 bytes a record took on disk).
/// The leaf hash stays stored and signed, so a changed row no longer gives its entry's hash
/// and the audit names the entry. `None` when the row cannot be any event's projection (a
/// month or region out of range): the entry then reads as empty bytes, which fail its hash.
pub fn contribution_body(row: &ContributionRow) -> Option<Vec<u8>> {
    let event = crate::event::ContributionEvent {
        key: row.record_id.clone(),
        person: crate::keys::PersonKey(row.person).hex(),
        month: anxin_domain::YearMonth::from_index(row.month)?,
        insurance: row.insurance,
        region: anxin_domain::RegionCode::parse(&format!("{:06}", row.region)).ok()?,
        payer: row.payer,
        payer_code: (!row.payer_code.is_empty()).then(|| row.payer_code.clone()),
        base_fen: row.base_fen,
        amount_fen: row.amount_fen,
        account_fen: row.account_fen,
        status: row.status,
        reason: row.reason,
        paid_on: row.paid_on.clone(),
    };
    Some(crate::event::Event::ContributionRecorded(event).to_bytes())
}

/// One event row as a store read it, its body rebuilt from its contributions row if it was
/// stored empty (see [`with_rebuilt_bodies`]): for a store that rebuilds each row as it
/// arrives.
pub fn with_rebuilt_body((mut event, row): (EventRow, Option<ContributionRow>)) -> EventRow {
    if let Some(row) = row
        && event.body.is_empty()
        && event.kind == REBUILT_KIND
    {
        event.body = contribution_body(&row).unwrap_or_default();
    }
    event
}

/// Event rows as a store read them, each with the contributions row its bytes are rebuilt
/// from when they were stored empty; returns the rows with every such body rebuilt. The
/// rebuilding (one canonical serialisation a row) is spread over the cores for long reads
/// (the audit's chunks, the served entry tiles), so it costs a full read little more than the
/// join itself. A row that has no contributions row, or whose row rebuilds nothing, keeps its
/// empty body: its stored hash then fails, which the audit reports.
pub fn with_rebuilt_bodies(rows: Vec<(EventRow, Option<ContributionRow>)>) -> Vec<EventRow> {
    const PARALLEL_FROM: usize = 4_096;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let rebuilt = rows.iter().filter(|(_, row)| row.is_some()).count();
    if rebuilt < PARALLEL_FROM || threads == 1 {
        return rows.into_iter().map(with_rebuilt_body).collect();
    }
    let per = rows.len().div_ceil(threads);
    let mut chunks = Vec::with_capacity(threads);
    let mut rest = rows;
    while rest.len() > per {
        let tail = rest.split_off(per);
        chunks.push(std::mem::replace(&mut rest, tail));
    }
    chunks.push(rest);
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || chunk.into_iter().map(with_rebuilt_body).collect::<Vec<_>>())
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("rebuilding does not panic"))
            .collect()
    })
}

/// Whether an event's body is stored empty and rebuilt from its contributions row (see
/// [`contribution_body`]): only a `contribution_recorded` event, and only when the rebuilt
/// bytes are exactly its own.
pub const REBUILT_KIND: &str = "contribution_recorded";

/// The slot a contribution fills: one record per person, month, insurance, region and payer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot {
    pub person: [u8; 32],
    pub month: i32,
    pub insurance: Insurance,
    pub region: u32,
    pub payer: Payer,
    pub payer_code: String,
}

impl ContributionRow {
    pub fn slot(&self) -> Slot {
        Slot {
            person: self.person,
            month: self.month,
            insurance: self.insurance,
            region: self.region,
            payer: self.payer,
            payer_code: self.payer_code.clone(),
        }
    }
}

/// What one payer (by credit code) paid for one person: the platform's report on its own
/// workers. Only rows paid or back-paid count; amounts are integer fen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerWorkerRow {
    pub person: [u8; 32],
    /// Months with at least one contribution paid by this payer (several insurances in one
    /// month count once).
    pub months: u32,
    /// First and last of those months (`YearMonth::index`).
    pub first_month: i32,
    pub last_month: i32,
    pub amount_fen: i64,
    /// The insurances paid, sorted, each once.
    pub insurances: Vec<String>,
}

/// One month of what one payer paid: how many workers, how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerMonthRow {
    /// `YearMonth::index`.
    pub month: i32,
    pub workers: u64,
    pub amount_fen: i64,
}

/// Splits a backend's concatenation of distinct insurance codes into a sorted list.
pub fn insurance_list(joined: &str) -> Vec<String> {
    let mut all: Vec<String> = joined
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingRow {
    pub seq: u64,
    pub leg: u32,
    pub account: String,
    pub amount_fen: i64,
}

/// Everything one commit writes. Projections are upserts (persons, orgs, children) or inserts.
/// Postings are not written: each backend derives them from contributions in a `postings`
/// view (migration 2), which the audit checks against the events.
#[derive(Debug, Default, Clone)]
pub struct WriteBatch {
    pub events: Vec<EventRow>,
    pub persons: Vec<PersonRow>,
    pub orgs: Vec<OrgRow>,
    pub children: Vec<ChildRow>,
    pub contributions: Vec<ContributionRow>,
    /// Access log rows, each with the sequence number of the `access_logged` event that
    /// chains it into the log.
    pub access: Vec<(u64, AccessRow)>,
    /// Case steps (migration 12), inserted; the `cases` view is each case's latest step.
    pub case_steps: Vec<CaseStepRow>,
    /// Evidence attached to cases (migration 13), inserted with its sealed content.
    pub case_evidence: Vec<EvidenceRow>,
    /// Steps on monitor alerts (migration 16), inserted.
    pub alert_steps: Vec<AlertStepRow>,
    /// The tree hashes above the leaves that these events complete (C2SP tlog-tiles levels 1
    /// and up, migration 9): stored with the events, so proofs never need the whole tree. A
    /// hash already stored is kept (the backfill may meet a writer).
    pub tree_hashes: Vec<crate::log::TreeHash>,
    /// A transfer step's rows (migration 15), written in the same transaction, even when its
    /// event was already in the log.
    pub transfer: Option<crate::transfer::TransferWrite>,
}

impl WriteBatch {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// A row of `alert_steps` (migration 16): one [`crate::event::AlertEvent`] as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertStepRow {
    pub seq: u64,
    pub alert_id: String,
    pub step: u32,
    /// `YYYY-MM`.
    pub month: String,
    pub area: String,
    pub alert_kind: String,
    pub person: String,
    pub action: String,
    pub state: String,
    pub actor: String,
    pub at: i64,
    pub via: Option<String>,
    pub contact_at: Option<i64>,
    pub note: Option<String>,
    pub outcome: Option<String>,
}

/// The columns of `alert_steps` in [`AlertStepRow`]'s order (both backends read with it).
pub const ALERT_STEP_COLUMNS: &str = "seq, alert_id, step, month, area, alert_kind, person, action, state, actor, at, via, contact_at, note, outcome";

/// A certificate kept under its verification code (`cert::code_of`): the log entry that
/// records it and its document and signature, sealed with the data key to the holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateCodeRow {
    /// 16 characters of the code alphabet, no dashes.
    pub code: String,
    pub seq: u64,
    pub person: [u8; 32],
    pub sealed: Vec<u8>,
}

/// A write transaction holding the log's lock.
pub trait Txn {
    /// The current head; taking it acquires the write lock (PostgreSQL: `FOR UPDATE`).
    fn head(&mut self) -> Result<Head>;
    /// Of `keys`, those already in the log, with the sequence number and leaf hash of each.
    fn existing_keys(&mut self, keys: &[&str]) -> Result<HashMap<String, (u64, Hash)>>;
    /// Of `slots`, those already filled, with the record id that fills each.
    fn filled_slots(&mut self, slots: &[Slot]) -> Result<HashMap<Slot, String>>;
    /// Of `persons`, those in the registry.
    fn known_persons(&mut self, persons: &[[u8; 32]]) -> Result<HashSet<[u8; 32]>>;
    /// Of `codes`, those registered as platforms or employers.
    fn known_orgs(&mut self, codes: &[&str]) -> Result<HashSet<String>>;
    fn write(&mut self, batch: &WriteBatch) -> Result<()>;
    /// Moves the head and records its checkpoint in the history.
    fn set_head(&mut self, head: &Head) -> Result<()>;
    /// Makes the whole transaction durable (SQLite: WAL with `synchronous=FULL`).
    fn commit(self: Box<Self>) -> Result<()>;
    /// Moves an import job on and adds its new refusals (already stored ones are kept). A
    /// finished job's uploaded file is dropped: its counts and refusals stay.
    fn save_job(&mut self, job: &crate::jobs::JobWrite) -> Result<()>;
}

/// A database holding one log and its projections.
pub trait Store: Send {
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    fn begin(&mut self) -> Result<Box<dyn Txn + '_>>;
    fn head(&mut self) -> Result<Head>;
    /// Another connection to the same database that can only read (the server's reader
    /// pool: SQLite read-only in WAL mode, PostgreSQL with read-only transactions); `None`
    /// where there can be none (an in-memory database, a connection set up by the caller).
    fn reader(&self) -> Result<Option<Box<dyn Store>>> {
        Ok(None)
    }
    /// Starts a read snapshot: every read until [`Store::end_read`] sees the database as of
    /// one commit (SQLite: a read transaction on the WAL; PostgreSQL: `REPEATABLE READ READ
    /// ONLY`). Only on a connection that does not write.
    fn begin_read(&mut self) -> Result<()> {
        Ok(())
    }
    /// Ends the snapshot begun by [`Store::begin_read`].
    fn end_read(&mut self) -> Result<()> {
        Ok(())
    }
    /// Deployment settings kept with the data (suite, origin, key name).
    fn meta(&mut self, name: &str) -> Result<Option<String>>;
    fn set_meta(&mut self, name: &str, value: &str) -> Result<()>;

    /// Stored leaf hashes in sequence order, `[from, from + limit)`.
    fn leaves(&mut self, from: u64, limit: u64) -> Result<Vec<(u64, Hash)>>;
    /// Stored tree hashes of `level` (1 and up; level 0 is [`Store::leaves`]) with index in
    /// `[from, to)`, in index order (migration 9).
    fn tree_hashes(&mut self, level: u8, from: u64, to: u64) -> Result<Vec<(u64, Hash)>>;
    /// Events in sequence order with `seq` in `[from, to)`.
    fn events(&mut self, from: u64, to: u64) -> Result<Vec<EventRow>>;
    fn event_by_key(&mut self, key: &str) -> Result<Option<EventRow>>;
    /// Events with `seq >= from`, at most `limit` of them (finds rows inserted past the head).
    fn events_after(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>>;
    /// Up to `limit` certificate events (`certificate_issued`) from `from` on, in log order,
    /// from an index of those events alone.
    fn certificate_events(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>>;
    fn contributions(&mut self, from: u64, to: u64) -> Result<Vec<ContributionRow>>;
    /// The double-entry legs of the entries with `seq` in `[from, to)`, in (`seq`, `leg`)
    /// order (the audit merges them with the legs it derives from the log).
    fn postings(&mut self, from: u64, to: u64) -> Result<Vec<PostingRow>>;
    /// Projection rows whose `seq` is at or past `from` (the audit's check for inserted rows).
    fn projection_rows_after(&mut self, from: u64) -> Result<Vec<(String, u64)>>;
    fn persons_all(&mut self) -> Result<Vec<PersonRow>>;
    /// A page of the registry with each person's contributions (as [`Store::contributions_of`]
    /// gives them, but with `record_id` left empty: reading it costs a look into the log for
    /// every row, and the walks that use this have no need of it), from `from`: a walk over a
    /// province that holds one page in memory at a time, reading in the order the rows were
    /// written, so that past memory a page costs a few range reads and not a page read per
    /// person. It walks first the persons who have contributed, in the order of their first
    /// contribution, taking up to `limit` of them (fewer are returned where some have no
    /// registration), then the persons with none, in key order, looking at `limit` registered
    /// persons a page (so a page may hold fewer, or none, and the walk goes on while `next` is
    /// set). Every registered person comes once, in a walk that starts at
    /// [`RegistryCursor::Start`] and follows `next` until it is `None`; a person whose first
    /// contribution is written while the walk is past the first part may be missed by this
    /// walk (and is seen by the next).
    fn registry_page(&mut self, from: &RegistryCursor, limit: u32) -> Result<RegistryPage>;
    fn orgs_all(&mut self) -> Result<Vec<OrgRow>>;
    /// The registered names of those of `codes` that are in the registry (code → name).
    fn org_names(&mut self, codes: &[&str]) -> Result<HashMap<String, String>>;
    fn children_all(&mut self) -> Result<Vec<ChildRow>>;
    /// The signed checkpoints in the history, by size.
    fn checkpoints(&mut self) -> Result<Vec<(u64, String)>>;

    fn person(&mut self, person: &[u8; 32]) -> Result<Option<PersonRow>>;
    fn children_of(&mut self, guardian: &[u8; 32]) -> Result<Vec<ChildRow>>;
    /// A person's contributions ordered by month, insurance, region, payer.
    fn contributions_of(&mut self, person: &[u8; 32]) -> Result<Vec<ContributionRow>>;
    /// Balance of every account: (account, sum of postings in fen, number of postings).
    fn balances(&mut self) -> Result<Vec<(String, i64, u64)>>;
    /// What the payer with credit code `code` paid, one row per person, ordered by person key
    /// (bytewise), starting after `after`, at most `limit` rows. Only paid and back-paid rows
    /// count; an empty or unknown code gives nothing. PostgreSQL reads one index range per page;
    /// SQLite, which stores each person key once (migration 19), walks the persons in key order
    /// probing its index, or for a payer of few persons sorts that payer's rows.
    fn payer_workers(
        &mut self,
        code: &str,
        after: Option<&[u8; 32]>,
        limit: u32,
    ) -> Result<Vec<PayerWorkerRow>>;
    /// What the payer with credit code `code` paid, one row per month in month order (paid and
    /// back-paid rows only).
    fn payer_months(&mut self, code: &str) -> Result<Vec<PayerMonthRow>>;

    // Accounts, sessions and the access log (see `crate::access`). Not part of the log.
    /// Creates an account; a taken username is refused. Returns the new id.
    fn create_account(&mut self, account: &NewAccount, now: i64) -> Result<i64>;
    fn account(&mut self, id: i64) -> Result<Option<AccountRow>>;
    fn account_named(&mut self, username: &str) -> Result<Option<AccountRow>>;
    fn accounts_all(&mut self) -> Result<Vec<AccountRow>>;
    /// Stores a session (by its token's hash) of `kind` and drops every expired one.
    fn create_session(
        &mut self,
        token: &[u8; 32],
        account: i64,
        kind: SessionKind,
        expires: i64,
        now: i64,
    ) -> Result<()>;
    /// The account of a live session of `kind` (a session of the other kind is not found).
    fn session_account(
        &mut self,
        token: &[u8; 32],
        kind: SessionKind,
        now: i64,
    ) -> Result<Option<AccountRow>>;
    fn end_session(&mut self, token: &[u8; 32]) -> Result<()>;
    /// The accounts linked to a person (a worker's own).
    fn accounts_of_person(&mut self, person: &[u8; 32]) -> Result<Vec<AccountRow>>;
    /// Replaces an account's password hash and ends every session it has; `must_change`:
    /// a clerk's reset, so no session opens before its holder picks a new password.
    fn set_password(&mut self, account: i64, password_hash: &str, must_change: bool) -> Result<()>;
    /// Whether the account must change its password before a session opens.
    fn must_change_password(&mut self, account: i64) -> Result<bool>;
    /// Stores a worker's sign-up request (`crate::signup`); a username already taken by an
    /// account or by another pending request is refused. Returns its id.
    fn signup_add(&mut self, signup: &crate::signup::NewSignup, now: i64) -> Result<i64>;
    fn signup(&mut self, id: i64) -> Result<Option<crate::signup::SignupRow>>;
    /// The latest request under `username`, whatever its state.
    fn signup_named(&mut self, username: &str) -> Result<Option<crate::signup::SignupRow>>;
    /// Pending requests naming a region in `from..=to` with `id > after`, by id.
    fn signups_pending(
        &mut self,
        from: u32,
        to: u32,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::signup::SignupRow>>;
    /// Decides a pending request in one transaction (confirming makes the account, which is
    /// returned); a request no longer pending is refused and nothing changes.
    fn signup_decide(
        &mut self,
        id: i64,
        decision: &crate::signup::SignupDecision,
        by: i64,
        now: i64,
    ) -> Result<Option<i64>>;
    /// Appends an access row outside the log (no chaining event): only for tests and for
    /// rows written before migration 6. Production code goes through `Records::log_access`.
    fn log_access(&mut self, row: &AccessRow) -> Result<()>;
    /// Access log rows with `id > after`, in id order, at most `limit`, each with the sequence
    /// number of the log entry that chains it (`None` for rows written before chaining).
    fn access_rows(&mut self, after: i64, limit: u32) -> Result<Vec<(Option<u64>, AccessRow)>>;
    /// The latest `limit` reads of `person`'s data, newest first.
    fn access_to(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AccessRow>>;
    // ---- import jobs (migration 7) ----
    /// Stores a new job with its file; returns its id.
    fn create_job(&mut self, job: &crate::jobs::NewJob) -> Result<i64>;
    fn job(&mut self, id: i64) -> Result<Option<crate::jobs::JobRow>>;
    /// The job's file.
    fn job_content(&mut self, id: i64) -> Result<Option<Vec<u8>>>;
    /// The job's refusals from number `from` on, at most `limit`.
    fn job_refusals(
        &mut self,
        id: i64,
        from: u64,
        limit: u64,
    ) -> Result<Vec<crate::jobs::JobRefusal>>;
    /// Jobs not finished (to resume after a restart), oldest first.
    fn unfinished_jobs(&mut self) -> Result<Vec<crate::jobs::JobRow>>;
    // ---- certificate codes (migration 10) ----
    /// Keeps a certificate under its verification code; a code already kept is left as it is.
    fn save_certificate_code(&mut self, row: &CertificateCodeRow) -> Result<()>;
    /// The certificate kept under `code` (16 characters, no dashes).
    fn certificate_by_code(&mut self, code: &str) -> Result<Option<CertificateCodeRow>>;
    /// Every case step in log order (the audit).
    fn case_steps_all(&mut self) -> Result<Vec<CaseStepRow>>;
    /// One case's steps in order; empty when there is no such case.
    fn case_steps_of(&mut self, case_id: &str) -> Result<Vec<CaseStepRow>>;
    /// The latest step of every case (the `cases` view), in case id order.
    fn cases_latest(&mut self) -> Result<Vec<CaseStepRow>>;
    /// A case's evidence in order (`n`), with the sealed content when `content`.
    fn case_evidence_of(&mut self, case_id: &str, content: bool) -> Result<Vec<EvidenceRow>>;
    /// Every evidence row in log order, without content (the audit).
    fn case_evidence_all(&mut self) -> Result<Vec<EvidenceRow>>;
    // ---- steps on monitor alerts (migration 16) ----
    /// Every alert step in log order (the audit).
    fn alert_steps_all(&mut self) -> Result<Vec<AlertStepRow>>;
    /// The steps on the alerts of one run's month (`YYYY-MM`), by alert then step.
    fn alert_steps_in(&mut self, month: &str) -> Result<Vec<AlertStepRow>>;
    // ---- the inbox (migration 11; see `crate::inbox`) ----
    /// Stores the messages whose key is new, each with a pending delivery due at `now`; a key
    /// already stored is skipped. Returns how many were new. One transaction.
    fn inbox_add(&mut self, messages: &[crate::inbox::NewMessage], now: i64) -> Result<u64>;
    /// `person`'s messages, newest first, with `id < before`, at most `limit`.
    fn inbox_of(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::inbox::MessageRow>>;
    /// Marks `person`'s message `id` read at `now` (a message already read keeps its first
    /// time). `false` when `person` has no message `id`.
    fn inbox_mark_read(&mut self, person: &[u8; 32], id: i64, now: i64) -> Result<bool>;
    /// Pending deliveries due at `now` (`next_at <= now`), oldest message first, at most `limit`.
    fn inbox_due(
        &mut self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<(crate::inbox::MessageRow, crate::inbox::DeliveryRow)>>;
    /// Stores the outcome of a delivery attempt.
    fn inbox_set_delivery(&mut self, delivery: &crate::inbox::DeliveryRow) -> Result<()>;
    /// The dead-letter list: deliveries given up, by message id, with `id > after`.
    fn inbox_dead(
        &mut self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(crate::inbox::MessageRow, crate::inbox::DeliveryRow)>>;
    /// Messages, read, delivered and dead per kind, by kind.
    fn inbox_counts(&mut self) -> Result<Vec<crate::inbox::KindCounts>>;
    // ---- transfers between instances (migration 15; see `crate::transfer`) ----
    /// Every transfer, by id.
    fn transfers_all(&mut self) -> Result<Vec<crate::transfer::TransferRow>> {
        Err(no_transfers())
    }
    /// One transfer.
    fn transfer(&mut self, id: &str) -> Result<Option<crate::transfer::TransferRow>> {
        let _ = id;
        Err(no_transfers())
    }
    /// The outbox, by key.
    fn transfer_outbox(&mut self) -> Result<Vec<crate::transfer::OutboxRow>> {
        Err(no_transfers())
    }
    /// The reply stored for `sender`'s message `idem`: `None` when it was never handled,
    /// `Some(None)` when it was handled with nothing to answer.
    fn transfer_reply(&mut self, sender: &str, idem: &str) -> Result<Option<Option<String>>> {
        let _ = (sender, idem);
        Err(no_transfers())
    }
    /// The months received by a transfer, in order.
    fn transfer_months_of(
        &mut self,
        transfer: &str,
    ) -> Result<Vec<crate::transfer::TransferMonthRow>> {
        let _ = transfer;
        Err(no_transfers())
    }
    // ---- witnessing between instances (migration 18; see `crate::witness`) ----
    /// The latest checkpoint cosigned of each peer, by peer.
    fn witness_seen(&mut self) -> Result<Vec<crate::witness::SeenRow>> {
        Err(no_witness())
    }
    /// Keeps `row` as the latest checkpoint cosigned of its peer, only if what is stored is
    /// still of `old_size` (`None`: nothing stored yet). `false` when another step came
    /// first (nothing written).
    fn witness_set_seen(
        &mut self,
        row: &crate::witness::SeenRow,
        old_size: Option<u64>,
    ) -> Result<bool> {
        let _ = (row, old_size);
        Err(no_witness())
    }
    /// Keeps a refused checkpoint of a peer; returns its id.
    fn witness_alarm_add(&mut self, row: &crate::witness::AlarmRow) -> Result<i64> {
        let _ = row;
        Err(no_witness())
    }
    /// The latest alarms, newest first.
    fn witness_alarms(&mut self, limit: u32) -> Result<Vec<crate::witness::AlarmRow>> {
        let _ = limit;
        Err(no_witness())
    }
    /// Keeps a witness's cosignature of this log's checkpoint (one per witness and size).
    fn cosignature_add(&mut self, row: &crate::witness::CosignatureRow) -> Result<()> {
        let _ = row;
        Err(no_witness())
    }
    /// The cosignatures of this log's checkpoint of `size`, by witness.
    fn cosignatures_at(&mut self, size: u64) -> Result<Vec<crate::witness::CosignatureRow>> {
        let _ = size;
        Err(no_witness())
    }
    /// Each witness's latest cosignature of this log, by witness.
    fn cosignatures_latest(&mut self) -> Result<Vec<crate::witness::CosignatureRow>> {
        Err(no_witness())
    }
}

fn no_witness() -> crate::Error {
    crate::Error::Store("this store keeps no witness state (migration 18)".into())
}

fn no_transfers() -> crate::Error {
    crate::Error::Store("this store keeps no transfers (migration 15)".into())
}

/// A boxed store is a store, so the backend can be chosen at run time.
impl Store for Box<dyn Store> {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }
    fn begin(&mut self) -> Result<Box<dyn Txn + '_>> {
        (**self).begin()
    }
    fn head(&mut self) -> Result<Head> {
        (**self).head()
    }
    fn reader(&self) -> Result<Option<Box<dyn Store>>> {
        (**self).reader()
    }
    fn begin_read(&mut self) -> Result<()> {
        (**self).begin_read()
    }
    fn end_read(&mut self) -> Result<()> {
        (**self).end_read()
    }
    fn meta(&mut self, name: &str) -> Result<Option<String>> {
        (**self).meta(name)
    }
    fn set_meta(&mut self, name: &str, value: &str) -> Result<()> {
        (**self).set_meta(name, value)
    }
    fn leaves(&mut self, from: u64, limit: u64) -> Result<Vec<(u64, Hash)>> {
        (**self).leaves(from, limit)
    }
    fn tree_hashes(&mut self, level: u8, from: u64, to: u64) -> Result<Vec<(u64, Hash)>> {
        (**self).tree_hashes(level, from, to)
    }
    fn events(&mut self, from: u64, to: u64) -> Result<Vec<EventRow>> {
        (**self).events(from, to)
    }
    fn event_by_key(&mut self, key: &str) -> Result<Option<EventRow>> {
        (**self).event_by_key(key)
    }
    fn certificate_events(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>> {
        (**self).certificate_events(from, limit)
    }
    fn events_after(&mut self, from: u64, limit: u64) -> Result<Vec<EventRow>> {
        (**self).events_after(from, limit)
    }
    fn contributions(&mut self, from: u64, to: u64) -> Result<Vec<ContributionRow>> {
        (**self).contributions(from, to)
    }
    fn postings(&mut self, from: u64, to: u64) -> Result<Vec<PostingRow>> {
        (**self).postings(from, to)
    }
    fn projection_rows_after(&mut self, from: u64) -> Result<Vec<(String, u64)>> {
        (**self).projection_rows_after(from)
    }
    fn persons_all(&mut self) -> Result<Vec<PersonRow>> {
        (**self).persons_all()
    }
    fn registry_page(&mut self, from: &RegistryCursor, limit: u32) -> Result<RegistryPage> {
        (**self).registry_page(from, limit)
    }
    fn orgs_all(&mut self) -> Result<Vec<OrgRow>> {
        (**self).orgs_all()
    }
    fn org_names(&mut self, codes: &[&str]) -> Result<HashMap<String, String>> {
        (**self).org_names(codes)
    }
    fn children_all(&mut self) -> Result<Vec<ChildRow>> {
        (**self).children_all()
    }
    fn checkpoints(&mut self) -> Result<Vec<(u64, String)>> {
        (**self).checkpoints()
    }
    fn person(&mut self, person: &[u8; 32]) -> Result<Option<PersonRow>> {
        (**self).person(person)
    }
    fn children_of(&mut self, guardian: &[u8; 32]) -> Result<Vec<ChildRow>> {
        (**self).children_of(guardian)
    }
    fn contributions_of(&mut self, person: &[u8; 32]) -> Result<Vec<ContributionRow>> {
        (**self).contributions_of(person)
    }
    fn balances(&mut self) -> Result<Vec<(String, i64, u64)>> {
        (**self).balances()
    }
    fn payer_workers(
        &mut self,
        code: &str,
        after: Option<&[u8; 32]>,
        limit: u32,
    ) -> Result<Vec<PayerWorkerRow>> {
        (**self).payer_workers(code, after, limit)
    }
    fn payer_months(&mut self, code: &str) -> Result<Vec<PayerMonthRow>> {
        (**self).payer_months(code)
    }
    fn create_account(&mut self, account: &NewAccount, now: i64) -> Result<i64> {
        (**self).create_account(account, now)
    }
    fn account(&mut self, id: i64) -> Result<Option<AccountRow>> {
        (**self).account(id)
    }
    fn account_named(&mut self, username: &str) -> Result<Option<AccountRow>> {
        (**self).account_named(username)
    }
    fn accounts_all(&mut self) -> Result<Vec<AccountRow>> {
        (**self).accounts_all()
    }
    fn create_session(
        &mut self,
        token: &[u8; 32],
        account: i64,
        kind: SessionKind,
        expires: i64,
        now: i64,
    ) -> Result<()> {
        (**self).create_session(token, account, kind, expires, now)
    }
    fn session_account(
        &mut self,
        token: &[u8; 32],
        kind: SessionKind,
        now: i64,
    ) -> Result<Option<AccountRow>> {
        (**self).session_account(token, kind, now)
    }
    fn end_session(&mut self, token: &[u8; 32]) -> Result<()> {
        (**self).end_session(token)
    }
    fn accounts_of_person(&mut self, person: &[u8; 32]) -> Result<Vec<AccountRow>> {
        (**self).accounts_of_person(person)
    }
    fn set_password(&mut self, account: i64, password_hash: &str, must_change: bool) -> Result<()> {
        (**self).set_password(account, password_hash, must_change)
    }
    fn must_change_password(&mut self, account: i64) -> Result<bool> {
        (**self).must_change_password(account)
    }
    fn signup_add(&mut self, signup: &crate::signup::NewSignup, now: i64) -> Result<i64> {
        (**self).signup_add(signup, now)
    }
    fn signup(&mut self, id: i64) -> Result<Option<crate::signup::SignupRow>> {
        (**self).signup(id)
    }
    fn signup_named(&mut self, username: &str) -> Result<Option<crate::signup::SignupRow>> {
        (**self).signup_named(username)
    }
    fn signups_pending(
        &mut self,
        from: u32,
        to: u32,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::signup::SignupRow>> {
        (**self).signups_pending(from, to, after, limit)
    }
    fn signup_decide(
        &mut self,
        id: i64,
        decision: &crate::signup::SignupDecision,
        by: i64,
        now: i64,
    ) -> Result<Option<i64>> {
        (**self).signup_decide(id, decision, by, now)
    }
    fn log_access(&mut self, row: &AccessRow) -> Result<()> {
        (**self).log_access(row)
    }
    fn access_rows(&mut self, after: i64, limit: u32) -> Result<Vec<(Option<u64>, AccessRow)>> {
        (**self).access_rows(after, limit)
    }
    fn access_to(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AccessRow>> {
        (**self).access_to(person, before, limit)
    }
    fn create_job(&mut self, job: &crate::jobs::NewJob) -> Result<i64> {
        (**self).create_job(job)
    }
    fn job(&mut self, id: i64) -> Result<Option<crate::jobs::JobRow>> {
        (**self).job(id)
    }
    fn job_content(&mut self, id: i64) -> Result<Option<Vec<u8>>> {
        (**self).job_content(id)
    }
    fn job_refusals(
        &mut self,
        id: i64,
        from: u64,
        limit: u64,
    ) -> Result<Vec<crate::jobs::JobRefusal>> {
        (**self).job_refusals(id, from, limit)
    }
    fn unfinished_jobs(&mut self) -> Result<Vec<crate::jobs::JobRow>> {
        (**self).unfinished_jobs()
    }
    fn save_certificate_code(&mut self, row: &CertificateCodeRow) -> Result<()> {
        (**self).save_certificate_code(row)
    }
    fn certificate_by_code(&mut self, code: &str) -> Result<Option<CertificateCodeRow>> {
        (**self).certificate_by_code(code)
    }
    fn case_steps_all(&mut self) -> Result<Vec<CaseStepRow>> {
        (**self).case_steps_all()
    }
    fn case_steps_of(&mut self, case_id: &str) -> Result<Vec<CaseStepRow>> {
        (**self).case_steps_of(case_id)
    }
    fn cases_latest(&mut self) -> Result<Vec<CaseStepRow>> {
        (**self).cases_latest()
    }
    fn case_evidence_of(&mut self, case_id: &str, content: bool) -> Result<Vec<EvidenceRow>> {
        (**self).case_evidence_of(case_id, content)
    }
    fn case_evidence_all(&mut self) -> Result<Vec<EvidenceRow>> {
        (**self).case_evidence_all()
    }
    fn alert_steps_all(&mut self) -> Result<Vec<AlertStepRow>> {
        (**self).alert_steps_all()
    }
    fn alert_steps_in(&mut self, month: &str) -> Result<Vec<AlertStepRow>> {
        (**self).alert_steps_in(month)
    }
    fn inbox_add(&mut self, messages: &[crate::inbox::NewMessage], now: i64) -> Result<u64> {
        (**self).inbox_add(messages, now)
    }
    fn inbox_of(
        &mut self,
        person: &[u8; 32],
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::inbox::MessageRow>> {
        (**self).inbox_of(person, before, limit)
    }
    fn inbox_mark_read(&mut self, person: &[u8; 32], id: i64, now: i64) -> Result<bool> {
        (**self).inbox_mark_read(person, id, now)
    }
    fn inbox_due(
        &mut self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<(crate::inbox::MessageRow, crate::inbox::DeliveryRow)>> {
        (**self).inbox_due(now, limit)
    }
    fn inbox_set_delivery(&mut self, delivery: &crate::inbox::DeliveryRow) -> Result<()> {
        (**self).inbox_set_delivery(delivery)
    }
    fn inbox_dead(
        &mut self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(crate::inbox::MessageRow, crate::inbox::DeliveryRow)>> {
        (**self).inbox_dead(after, limit)
    }
    fn inbox_counts(&mut self) -> Result<Vec<crate::inbox::KindCounts>> {
        (**self).inbox_counts()
    }
    fn transfers_all(&mut self) -> Result<Vec<crate::transfer::TransferRow>> {
        (**self).transfers_all()
    }
    fn transfer(&mut self, id: &str) -> Result<Option<crate::transfer::TransferRow>> {
        (**self).transfer(id)
    }
    fn transfer_outbox(&mut self) -> Result<Vec<crate::transfer::OutboxRow>> {
        (**self).transfer_outbox()
    }
    fn transfer_reply(&mut self, sender: &str, idem: &str) -> Result<Option<Option<String>>> {
        (**self).transfer_reply(sender, idem)
    }
    fn transfer_months_of(
        &mut self,
        transfer: &str,
    ) -> Result<Vec<crate::transfer::TransferMonthRow>> {
        (**self).transfer_months_of(transfer)
    }
    fn witness_seen(&mut self) -> Result<Vec<crate::witness::SeenRow>> {
        (**self).witness_seen()
    }
    fn witness_set_seen(
        &mut self,
        row: &crate::witness::SeenRow,
        old_size: Option<u64>,
    ) -> Result<bool> {
        (**self).witness_set_seen(row, old_size)
    }
    fn witness_alarm_add(&mut self, row: &crate::witness::AlarmRow) -> Result<i64> {
        (**self).witness_alarm_add(row)
    }
    fn witness_alarms(&mut self, limit: u32) -> Result<Vec<crate::witness::AlarmRow>> {
        (**self).witness_alarms(limit)
    }
    fn cosignature_add(&mut self, row: &crate::witness::CosignatureRow) -> Result<()> {
        (**self).cosignature_add(row)
    }
    fn cosignatures_at(&mut self, size: u64) -> Result<Vec<crate::witness::CosignatureRow>> {
        (**self).cosignatures_at(size)
    }
    fn cosignatures_latest(&mut self) -> Result<Vec<crate::witness::CosignatureRow>> {
        (**self).cosignatures_latest()
    }
}
