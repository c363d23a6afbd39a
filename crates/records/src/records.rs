//! The records service: turns validated rows into events, appends them to the log with their
//! projections in one transaction, and signs the new tree head.

use std::collections::HashMap;

use crate::input::Input as Row;
use anxin_domain::ResidentId;
use anxin_ledger::{Checkpoint, Hash, LogHasher, MerkleTree, Signer, Verifier, sign_checkpoint};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::{Error, Result};
use crate::event::{ChildEvent, ContributionEvent, Event, OrgEvent, PersonEvent, check_key};
use crate::keys::{DataKey, PersonKey, hex};
use crate::log::{Frontier, Suite, SuiteHasher};
use crate::store::{
    AlertStepRow, CaseStepRow, ChildRow, ContributionRow, EventRow, EvidenceRow, Head, OrgRow,
    PersonRow, PostingRow, Slot, Store, WriteBatch,
};
use sha2::{Digest as _, Sha256};

/// Most rows one commit takes (TigerStyle: a limit on everything).
pub const MAX_BATCH: usize = 100_000;

/// Given every row's outcome, says what an import job now is (see [`Records::append_job`]).
pub type JobFn<'a> = &'a mut dyn FnMut(&[Outcome]) -> crate::jobs::JobWrite;

/// What happened to one input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Appended at this sequence number.
    Added(u64),
    /// Already in the log exactly so (a re-import): nothing changed.
    Unchanged(u64),
    Rejected(Rejection),
}

/// Why the ledger refused a row that parsed well (unknown person, slot taken, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub column: &'static str,
    pub reason_zh: String,
    pub reason_en: String,
}

fn reject(column: &'static str, zh: String, en: String) -> Outcome {
    Outcome::Rejected(Rejection {
        column,
        reason_zh: zh,
        reason_en: en,
    })
}

/// The result of one committed batch.
#[derive(Debug, Clone)]
pub struct Committed {
    pub outcomes: Vec<Outcome>,
    pub head: Head,
}

/// How the personal-account share of a contribution is found when the row does not say:
/// given the insurance, region, month and base, the fen credited to the personal account.
pub type AccountRule = std::sync::Arc<dyn Fn(&ContributionEvent) -> i64 + Send + Sync>;

/// Where the latest signed checkpoint is kept outside the database (the data directory's
/// `checkpoint` file), so that a database rolled back or cut short is caught by the audit.
/// [`Records`] advances it after every commit, whichever front end wrote.
pub trait OutsideCheckpoint: Send {
    /// Replaces the kept checkpoint with `checkpoint` (called after each commit).
    fn advance(&mut self, checkpoint: &str) -> Result<()>;
    /// The kept checkpoint; `Ok(None)` when it is gone.
    fn read(&self) -> Result<Option<String>>;
    /// Where it is kept, for messages (a file's path).
    fn describe(&self) -> String;
    /// A handle that reads the same checkpoint and never advances it, for the readers beside
    /// the one writer (their audits check it too); `None` when it cannot be shared.
    fn reader(&self) -> Option<Box<dyn OutsideCheckpoint>> {
        None
    }
}

/// The deployment's secrets and settings.
pub struct Secrets {
    pub data_key: DataKey,
    pub signer: Signer,
}

pub struct Records<S: Store> {
    store: S,
    data_key: DataKey,
    signer: Signer,
    verifier: Verifier,
    suite: Suite,
    origin: String,
    account_rule: Option<AccountRule>,
    /// What a [`PreparedBatch`] made by this instance's [`Preparer`] carries: a batch
    /// prepared by another instance, or before the account rule changed, is refused.
    settings: u64,
    /// The checkpoint kept outside the database, advanced after every commit.
    outside: Option<Box<dyn OutsideCheckpoint>>,
    /// Large batches still to write with every lookup first, after one whose optimistic
    /// write met a row already stored (see [`Records::append`]).
    careful: u32,
    /// The rows of the transfer step being committed (see [`Records::commit_transfer`]).
    transfer: Option<crate::transfer::TransferWrite>,
}

/// A batch of at least this many events is first written without looking its keys and slots
/// up: the database's unique indexes (events' key, contributions' slot) refuse a row already
/// stored, and the batch is then rolled back and written again with every lookup.
const OPTIMISTIC_FROM: usize = 1_024;
/// After such a miss (a resumed or repeated import), this many large batches are written
/// with the lookups first, so a file sent twice does not pay twice for every batch.
const CAREFUL_AFTER_MISS: u32 = 8;

impl<S: Store> Records<S> {
    /// Opens the records in `store`, whose suite and origin were fixed by [`Records::init`].
    pub fn open(mut store: S, secrets: Secrets) -> Result<Records<S>> {
        let suite = Suite::parse(&store.meta("suite")?.ok_or_else(|| {
            Error::refused(
                "数据库尚未初始化：先运行 anxin init",
                "the database is not initialised: run anxin init first",
            )
        })?)?;
        let origin = store
            .meta("origin")?
            .ok_or_else(|| Error::Corrupt("meta row 'origin' is missing".into()))?;
        // A log from before migration 9 gets its stored tree hashes once, here.
        crate::tiles::backfill(&mut store, &suite.hasher())?;
        let verifier = secrets.signer.verifier();
        if let Some(stored) = store.meta("vkey")?
            && stored != verifier.to_vkey()
        {
            return Err(Error::refused(
                "签名密钥与数据库记录的公钥不符：请使用初始化时生成的密钥",
                "the signing key does not match the public key recorded in the database: use the key made at init",
            ));
        }
        Ok(Records {
            store,
            data_key: secrets.data_key,
            signer: secrets.signer,
            verifier,
            suite,
            origin,
            account_rule: None,
            settings: next_settings(),
            outside: None,
            careful: 0,
            transfer: None,
        })
    }

    /// Records the deployment settings in a fresh database and signs the empty tree.
    pub fn init(mut store: S, secrets: Secrets, suite: Suite, origin: &str) -> Result<Records<S>> {
        if store.meta("suite")?.is_some() {
            return Err(Error::refused(
                "数据库已初始化，不能重复初始化",
                "the database is already initialised",
            ));
        }
        store.set_meta("suite", suite.as_str())?;
        store.set_meta("origin", origin)?;
        store.set_meta("vkey", &secrets.signer.verifier().to_vkey())?;
        let mut records = Records::open(store, secrets)?;
        let mut txn = records.store.begin()?;
        let head = txn.head()?;
        if head.size == 0 && head.checkpoint.is_empty() {
            let hasher = suite.hasher();
            let root = hasher.empty_root();
            let checkpoint = sign_checkpoint(
                &records.signer,
                &Checkpoint::new(records.origin.clone(), 0, root),
            )?;
            txn.set_head(&Head {
                size: 0,
                root,
                frontier: Vec::new(),
                checkpoint,
            })?;
        }
        txn.commit()?;
        Ok(records)
    }

    /// Keeps the signed head outside the database from now on: after every commit, from any
    /// front end, `outside` is advanced; the audit requires it and checks the log against it.
    pub fn set_outside(&mut self, outside: Box<dyn OutsideCheckpoint>) {
        self.outside = Some(outside);
    }

    pub fn outside(&self) -> Option<&dyn OutsideCheckpoint> {
        self.outside.as_deref()
    }

    /// Advances the outside checkpoint to `head` (after a commit).
    fn advance_outside(&mut self, head: &Head) -> Result<()> {
        match &mut self.outside {
            Some(outside) if !head.checkpoint.is_empty() => outside.advance(&head.checkpoint),
            _ => Ok(()),
        }
    }

    /// Records one read of a person's data by an official: the access row and an
    /// `access_logged` event carrying its keyed hash, in one transaction, so the row is
    /// witnessed by the signed log. Returns the new head.
    pub fn log_access(&mut self, row: crate::access::AccessRow) -> Result<Head> {
        self.log_access_group(vec![row])
    }

    /// Records several officials' reads in one transaction (the writer's group commit): each
    /// row with its own `access_logged` event; all land together or none does.
    pub fn log_access_group(&mut self, rows: Vec<crate::access::AccessRow>) -> Result<Head> {
        let mut pending = HashMap::new();
        let mut events = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let mut nonce = [0u8; 16];
            getrandom::fill(&mut nonce)
                .map_err(|e| Error::Crypto(format!("no randomness: {e}")))?;
            let event = crate::event::AccessEvent {
                key: format!("access:{}", hex(&nonce)),
                row_hash: hex(&crate::access::row_hash(&self.data_key, &row)),
            };
            pending.insert(event.key.clone(), row);
            events.push((i, Event::AccessLogged(event)));
        }
        let mut outcomes = vec![None; events.len()];
        let head = self.commit_events(events, &mut outcomes, pending, HashMap::new(), None)?;
        for outcome in outcomes {
            match outcome {
                Some(Outcome::Added(_)) => {}
                Some(Outcome::Rejected(r)) => return Err(Error::refused(r.reason_zh, r.reason_en)),
                _ => {
                    return Err(Error::Corrupt(
                        "an access event's random key was taken".into(),
                    ));
                }
            }
        }
        Ok(head)
    }

    /// The same records on another connection, for reading only: the same keys, suite and
    /// origin, the outside checkpoint only to read (its [`OutsideCheckpoint::reader`]), no
    /// account rule (the server's reader pool; writes stay with the one writer). Proofs read
    /// the stored tree hashes and the audit streams the entries, so a reader does both.
    pub fn view_on<T: Store>(&self, store: T) -> Records<T> {
        Records {
            store,
            data_key: self.data_key.clone(),
            signer: self.signer.clone(),
            verifier: self.verifier.clone(),
            suite: self.suite,
            origin: self.origin.clone(),
            account_rule: None,
            settings: next_settings(),
            outside: self.outside.as_ref().and_then(|o| o.reader()),
            careful: 0,
            transfer: None,
        }
    }

    pub fn set_account_rule(&mut self, rule: AccountRule) {
        self.account_rule = Some(rule);
        self.settings = next_settings();
    }

    /// What turns rows into events ready to write, apart from these records: it can run on
    /// another thread while they write (see [`Preparer`]).
    pub fn preparer(&self) -> Preparer {
        Preparer {
            data_key: self.data_key.clone(),
            account_rule: self.account_rule.clone(),
            suite: self.suite,
            settings: self.settings,
        }
    }

    /// Appends a batch made by [`Preparer::prepare`], as [`Records::append_job`] appends rows
    /// (`job`, when given, moves an import job on in the same transaction). A batch prepared
    /// by another instance's preparer, or before the account rule changed, is refused and
    /// changes nothing.
    pub fn append_prepared(
        &mut self,
        batch: PreparedBatch,
        job: Option<JobFn<'_>>,
    ) -> Result<Committed> {
        if batch.settings != self.settings {
            return Err(Error::refused(
                "这批记录是按其他设置准备的（其他实例，或账户规则已变）：请重新准备",
                "this batch was prepared under other settings (another instance, or the account rule changed since): prepare it again",
            ));
        }
        let PreparedBatch {
            mut outcomes,
            prepared,
            ..
        } = batch;
        let head =
            self.commit_prepared(prepared, &mut outcomes, HashMap::new(), HashMap::new(), job)?;
        Ok(Committed {
            outcomes: outcomes
                .into_iter()
                .map(|o| o.expect("every row has an outcome"))
                .collect(),
            head,
        })
    }

    /// Appends `batches` one after another, each in a transaction of its own as
    /// [`Records::append`] does, and hands each one's outcome to `each` once it is durable.
    /// The next batch is prepared (events, canonical bytes, leaf hashes, rows) on another
    /// thread while the current one is written. Stops at the first error, of a batch or of
    /// `each`; the batches committed before it stay.
    pub fn append_all<I>(
        &mut self,
        batches: I,
        each: &mut dyn FnMut(Committed) -> Result<()>,
    ) -> Result<()>
    where
        I: IntoIterator<Item = Vec<Row>>,
        I::IntoIter: Send,
    {
        let preparer = self.preparer();
        let batches = batches.into_iter();
        std::thread::scope(|scope| {
            // One batch prepared ahead: enough to keep both cores busy, little to hold.
            let (ready, next) = std::sync::mpsc::sync_channel::<Result<PreparedBatch>>(1);
            scope.spawn(move || {
                for rows in batches {
                    if ready.send(preparer.prepare(rows)).is_err() {
                        break;
                    }
                }
            });
            for batch in next {
                each(self.append_prepared(batch?, None)?)?;
            }
            Ok(())
        })
    }

    pub fn store(&mut self) -> &mut S {
        &mut self.store
    }

    /// The store, to ask it something that needs no write (such as [`Store::reader`]).
    pub fn store_ref(&self) -> &S {
        &self.store
    }

    pub fn into_store(self) -> S {
        self.store
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn hasher(&self) -> SuiteHasher {
        self.suite.hasher()
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub(crate) fn signer(&self) -> &Signer {
        &self.signer
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn data_key(&self) -> &DataKey {
        &self.data_key
    }

    pub fn person_key(&self, id: &ResidentId) -> PersonKey {
        self.data_key.person_key(id)
    }

    /// Appends `rows` in one transaction. Every row gets an outcome; rows the ledger refuses
    /// change nothing; the rest land together or not at all.
    pub fn append(&mut self, rows: Vec<Row>) -> Result<Committed> {
        self.append_inner(rows, None)
    }

    /// Appends `rows` as [`Records::append`] does, and in the same transaction moves the
    /// import job on: `job` is given every row's outcome and says what the job now is (even
    /// a batch that adds nothing moves the job, in a transaction of its own).
    pub fn append_job(&mut self, rows: Vec<Row>, job: JobFn<'_>) -> Result<Committed> {
        self.append_inner(rows, Some(job))
    }

    /// Moves an import job on in a transaction of its own (its start, its end).
    pub fn save_job(&mut self, job: &crate::jobs::JobWrite) -> Result<()> {
        let mut txn = self.store.begin()?;
        txn.save_job(job)?;
        txn.commit()
    }

    fn append_inner(&mut self, rows: Vec<Row>, job: Option<JobFn<'_>>) -> Result<Committed> {
        let batch = self.preparer().prepare(rows)?;
        self.append_prepared(batch, job)
    }

    /// Appends one step of a case (built by `anxin_service::cases`, which checked the rules
    /// and the permission). Its key makes it idempotent: a step already taken is `Unchanged`.
    pub fn append_case_step(&mut self, event: crate::event::CaseEvent) -> Result<(Outcome, Head)> {
        check_key(&event.key)?;
        self.append_event(Event::CaseStep(event))
    }

    /// Appends one step of a case together with the contributions it decides (a back-payment
    /// approved: each month `backpaid`, its key naming the case), in one transaction. The
    /// service checked the months are not paid; the ledger still refuses a slot already filled
    /// (that contribution's outcome says so). The account rule, when set, credits each
    /// month's personal-account share as it does for imports.
    pub fn append_case_step_with(
        &mut self,
        step: crate::event::CaseEvent,
        contributions: Vec<ContributionEvent>,
    ) -> Result<(Vec<Outcome>, Head)> {
        check_key(&step.key)?;
        let mut candidates = Vec::with_capacity(contributions.len() + 1);
        for (i, mut c) in contributions.into_iter().enumerate() {
            check_key(&c.key)?;
            if let Some(rule) = &self.account_rule
                && c.is_paid()
                && c.account_fen == 0
            {
                c.account_fen = rule(&c).clamp(0, c.amount_fen);
            }
            candidates.push((i, Event::ContributionRecorded(c)));
        }
        candidates.push((candidates.len(), Event::CaseStep(step)));
        let mut outcomes = vec![None; candidates.len()];
        let head = self.commit_events(
            candidates,
            &mut outcomes,
            HashMap::new(),
            HashMap::new(),
            None,
        )?;
        Ok((
            outcomes
                .into_iter()
                .map(|o| o.expect("every event has an outcome"))
                .collect(),
            head,
        ))
    }

    /// Commits one step of a transfer between instances (built and checked by
    /// `anxin_service::transfer`): its `transfer_step` events and its rows (the transfer, the
    /// outbox, the stored reply, the months received) in one transaction. An event already in
    /// the log is left as it is; the rows are written all the same.
    pub fn commit_transfer(
        &mut self,
        events: Vec<crate::event::TransferEvent>,
        write: crate::transfer::TransferWrite,
    ) -> Result<Head> {
        let mut candidates = Vec::with_capacity(events.len());
        for (i, event) in events.into_iter().enumerate() {
            check_key(&event.key)?;
            candidates.push((i, Event::TransferStep(event)));
        }
        let mut outcomes = vec![None; candidates.len()];
        self.transfer = Some(write);
        let head = self.commit_events(
            candidates,
            &mut outcomes,
            HashMap::new(),
            HashMap::new(),
            None,
        );
        self.transfer = None;
        head
    }

    /// Appends one step on a monitor alert (built by `anxin_service::monitor`, which checked
    /// the alert, the grid worker's cells and the step). Idempotent by key.
    pub fn append_alert_step(
        &mut self,
        event: crate::event::AlertEvent,
    ) -> Result<(Outcome, Head)> {
        check_key(&event.key)?;
        self.append_event(Event::AlertStep(event))
    }

    /// Appends one event built by the service itself (certificates).
    pub(crate) fn append_event(&mut self, event: Event) -> Result<(Outcome, Head)> {
        let mut outcomes = vec![None];
        let head = self.commit_events(
            vec![(0, event)],
            &mut outcomes,
            HashMap::new(),
            HashMap::new(),
            None,
        )?;
        Ok((outcomes.pop().flatten().expect("one outcome"), head))
    }

    /// Attaches files of evidence to a case, all in one transaction: for each, its
    /// `case_evidence` event (hash, type, size) and its name and content sealed with the data
    /// key to the case's worker (migration 13). The service checked the case, the party, the
    /// limits and the types; each event's hash and size are checked here against the content,
    /// and a file that does not match stores nothing of any. Idempotent by key.
    pub fn append_evidence(
        &mut self,
        files: Vec<(crate::event::EvidenceEvent, &str, &[u8])>,
    ) -> Result<(Vec<Outcome>, Head)> {
        let mut candidates = Vec::with_capacity(files.len());
        let mut evidence = HashMap::new();
        for (i, (event, name, content)) in files.into_iter().enumerate() {
            check_key(&event.key)?;
            if hex(&Sha256::digest(content)) != event.sha256 || content.len() as u64 != event.size {
                return Err(Error::refused(
                    format!("第 {} 个证据文件与其登记的哈希或大小不符", i + 1),
                    format!(
                        "evidence file {} does not match its recorded hash or size",
                        i + 1
                    ),
                ));
            }
            let person = PersonKey::from_hex(&event.person).ok_or_else(|| {
                Error::Corrupt("person key is not 64 lowercase hex digits".into())
            })?;
            evidence.insert(
                event.key.clone(),
                seal_evidence(&self.data_key, &person, name, content)?,
            );
            candidates.push((i, Event::CaseEvidence(event)));
        }
        let mut outcomes = vec![None; candidates.len()];
        let head = self.commit_events(candidates, &mut outcomes, HashMap::new(), evidence, None)?;
        Ok((
            outcomes
                .into_iter()
                .map(|o| o.expect("every file has an outcome"))
                .collect(),
            head,
        ))
    }

    /// Signs an evidence bundle's manifest with the log's key, under the bundle's own signing
    /// context (so the signature can stand for nothing else: not a certificate, not a note).
    pub fn sign_evidence_manifest(&self, manifest: &[u8]) -> Result<[u8; 64]> {
        Ok(anxin_ledger::sign_bytes(
            &self.signer,
            EVIDENCE_BUNDLE_CONTEXT,
            manifest,
        )?)
    }

    /// A case's evidence, each row with its file name (the contents stay sealed).
    pub fn evidence_names(&mut self, case_id: &str) -> Result<Vec<(EvidenceRow, String)>> {
        let rows = self.store.case_evidence_of(case_id, false)?;
        rows.into_iter()
            .map(|row| {
                let name =
                    open_evidence_name(&self.data_key, &PersonKey(row.person), &row.name_sealed)
                        .map_err(|_| altered(&row, "does not open with the data key"))?;
                Ok((row, name))
            })
            .collect()
    }

    /// A case's evidence opened: each row with its file name and content, the content checked
    /// against the hash its log entry states (an altered row is an error naming the file).
    pub fn evidence_opened(
        &mut self,
        case_id: &str,
    ) -> Result<Vec<(EvidenceRow, String, Vec<u8>)>> {
        let rows = self.store.case_evidence_of(case_id, true)?;
        let mut out = Vec::with_capacity(rows.len());
        for mut row in rows {
            let person = PersonKey(row.person);
            let name = open_evidence_name(&self.data_key, &person, &row.name_sealed)
                .map_err(|_| altered(&row, "does not open with the data key"))?;
            let content = self
                .data_key
                .open(&person, &row.sealed)
                .map_err(|_| altered(&row, "does not open with the data key"))?;
            if hex(&Sha256::digest(&content)) != row.sha256 {
                return Err(altered(&row, "does not match its hash in the log"));
            }
            row.sealed = Vec::new();
            out.push((row, name, content));
        }
        Ok(out)
    }

    /// Checks `candidates` against the log and each other, writes those that pass, signs the
    /// new head and commits, then advances the outside checkpoint. Fills `outcomes` at the
    /// candidates' indexes. `access` holds the access row of each `access_logged` event, by key.
    fn commit_events(
        &mut self,
        candidates: Vec<(usize, Event)>,
        outcomes: &mut [Option<Outcome>],
        access: HashMap<String, crate::access::AccessRow>,
        evidence: HashMap<String, (Vec<u8>, Vec<u8>)>,
        job: Option<JobFn<'_>>,
    ) -> Result<Head> {
        // Canonical bytes, leaf hashes and projection rows are pure work: split it over the
        // cores before taking the write lock.
        let prepared = prepare_all(candidates, &self.suite.hasher())?;
        self.commit_prepared(prepared, outcomes, access, evidence, job)
    }

    /// [`Records::commit_events`] for events already prepared.
    fn commit_prepared(
        &mut self,
        prepared: Vec<Prepared>,
        outcomes: &mut [Option<Outcome>],
        access: HashMap<String, crate::access::AccessRow>,
        evidence: HashMap<String, (Vec<u8>, Vec<u8>)>,
        mut job: Option<JobFn<'_>>,
    ) -> Result<Head> {
        // A large batch is first written without looking up its keys and slots (new rows,
        // the common case): the unique indexes on the events' key and the contributions' slot
        // refuse any that is already stored, and the batch is rolled back and written again
        // below with every lookup, so its outcomes are exactly those of the careful way.
        if self.careful > 0 {
            self.careful -= 1;
        } else if prepared.len() >= OPTIMISTIC_FROM {
            let mut trial = outcomes.to_vec();
            let again = job.as_mut().map(|j| &mut **j as JobFn<'_>);
            if let Some(head) =
                self.write_prepared(&prepared, &mut trial, &access, &evidence, again, false)?
            {
                outcomes.clone_from_slice(&trial);
                return Ok(head);
            }
            self.careful = CAREFUL_AFTER_MISS;
        }
        self.write_prepared(&prepared, outcomes, &access, &evidence, job, true)?
            .ok_or_else(|| Error::Corrupt("a careful write reported a conflict".into()))
    }

    /// Checks `prepared` against the log and each other, writes those that pass, signs the
    /// new head and commits. With `lookups`, keys and slots already stored are looked up
    /// first and their rows refused or reported unchanged; without, the rows are written as
    /// new and `None` says the database refused one (nothing was committed, no job moved).
    fn write_prepared(
        &mut self,
        prepared: &[Prepared],
        outcomes: &mut [Option<Outcome>],
        access: &HashMap<String, crate::access::AccessRow>,
        evidence: &HashMap<String, (Vec<u8>, Vec<u8>)>,
        job: Option<JobFn<'_>>,
        lookups: bool,
    ) -> Result<Option<Head>> {
        let hasher = self.suite.hasher();
        let mut txn = self.store.begin()?;
        let head = txn.head()?;
        let mut frontier = Frontier::from_parts(head.size, head.frontier.clone())?;
        let keys: Vec<&str> = prepared.iter().map(|p| p.event.key()).collect();
        let existing = if lookups {
            txn.existing_keys(&keys)?
        } else {
            HashMap::new()
        };
        let mut persons_wanted: Vec<[u8; 32]> = Vec::new();
        let mut orgs_wanted: Vec<&str> = Vec::new();
        let mut slots_wanted: Vec<Slot> = Vec::new();
        for p in prepared {
            if let Some(person) = p.needs_person {
                persons_wanted.push(person);
            }
            if let Event::ContributionRecorded(c) = &p.event
                && let Some(code) = &c.payer_code
            {
                orgs_wanted.push(code);
            }
            if let Some(row) = &p.contribution
                && lookups
            {
                slots_wanted.push(row.slot());
            }
        }
        persons_wanted.sort_unstable();
        persons_wanted.dedup();
        let mut known_persons = txn.known_persons(&persons_wanted)?;
        orgs_wanted.sort_unstable();
        orgs_wanted.dedup();
        let mut known_orgs = txn.known_orgs(&orgs_wanted)?;
        let mut filled = txn.filled_slots(&slots_wanted)?;
        drop(orgs_wanted);

        let mut batch = WriteBatch {
            transfer: self.transfer.clone(),
            ..WriteBatch::default()
        };
        let mut in_batch: HashMap<String, (u64, Hash)> = HashMap::new();
        let mut person_rows: HashMap<[u8; 32], PersonRow> = HashMap::new();
        let mut child_rows: HashMap<[u8; 32], ChildRow> = HashMap::new();
        let mut org_rows: HashMap<String, OrgRow> = HashMap::new();
        let mut seq = head.size;
        for p in prepared {
            let Prepared {
                index: i,
                event,
                body,
                leaf,
                contribution,
                ..
            } = p;
            let (i, leaf) = (*i, *leaf);
            let key = event.key().to_string();
            let seen = existing.get(&key).or_else(|| in_batch.get(&key));
            if let Some(&(earlier_seq, earlier_leaf)) = seen {
                // Person and child keys are hashes of the content, so an equal key is an equal
                // row even though the sealed part (random nonce) differs.
                outcomes[i] = Some(
                    if earlier_leaf == leaf
                        || !matches!(
                            event,
                            Event::ContributionRecorded(_) | Event::CaseEvidence(_)
                        )
                    {
                        Outcome::Unchanged(earlier_seq)
                    } else {
                        reject(
                            "record_id",
                            format!("记录号 {key} 已用于另一条不同的记录；更正请用新记录号"),
                            format!(
                                "record id {key} is already used by a different record; use a new id for a correction"
                            ),
                        )
                    },
                );
                continue;
            }
            // Business checks that need the registry.
            let refusal = match &event {
                Event::ContributionRecorded(c) => {
                    let row = contribution.as_ref().expect("prepared with the event");
                    if !known_persons.contains(&row.person) {
                        Some(reject(
                            "person_id",
                            "此人不在登记册中：请先导入人员".into(),
                            "this person is not in the registry: import persons first".into(),
                        ))
                    } else if let Some(code) = c
                        .payer_code
                        .as_deref()
                        .filter(|code| !known_orgs.contains(*code))
                    {
                        Some(reject(
                            "payer_code",
                            format!("缴费单位 {code} 未登记：请先导入平台和单位"),
                            format!(
                                "payer {code} is not registered: import platforms and employers first"
                            ),
                        ))
                    } else if lookups && let Some(other) = filled.get(&row.slot()) {
                        Some(reject(
                            "month",
                            format!("同一人、同月、同险种、同地区、同缴费方已有记录 {other}"),
                            format!(
                                "this person, month, insurance, region and payer already have record {other}"
                            ),
                        ))
                    } else {
                        // Without lookups, a slot filled twice in the batch is the slot
                        // index's to refuse, as one already stored is.
                        if lookups {
                            filled.insert(row.slot(), key.clone());
                        }
                        None
                    }
                }
                Event::ChildRegistered(c) if !known_persons.contains(&key_bytes(&c.guardian)?) => {
                    Some(reject(
                        "guardian_id",
                        "监护人不在登记册中：请先导入监护人".into(),
                        "the guardian is not in the registry: import the guardian first".into(),
                    ))
                }
                Event::CertificateIssued(c) if !known_persons.contains(&key_bytes(&c.person)?) => {
                    Some(reject(
                        "person_id",
                        "此人不在登记册中".into(),
                        "this person is not in the registry".into(),
                    ))
                }
                Event::CaseStep(c)
                    if key_bytes(&c.person)? != NO_PERSON
                        && !known_persons.contains(&key_bytes(&c.person)?) =>
                {
                    Some(reject(
                        "person_id",
                        "此人不在登记册中".into(),
                        "this person is not in the registry".into(),
                    ))
                }
                Event::CaseEvidence(c) if !known_persons.contains(&key_bytes(&c.person)?) => {
                    Some(reject(
                        "person_id",
                        "此人不在登记册中".into(),
                        "this person is not in the registry".into(),
                    ))
                }
                _ => None,
            };
            if let Some(refusal) = refusal {
                outcomes[i] = Some(refusal);
                continue;
            }
            // Accepted: project it and append it.
            match &event {
                Event::PersonRegistered(p) => {
                    let row = person_row(p, seq)?;
                    known_persons.insert(row.person);
                    person_rows.insert(row.person, row);
                }
                Event::OrgRegistered(o) => {
                    known_orgs.insert(o.credit_code.clone());
                    org_rows.insert(o.credit_code.clone(), org_row(o, seq));
                }
                Event::ChildRegistered(c) => {
                    let row = child_row(c, seq)?;
                    child_rows.insert(row.child, row);
                }
                Event::ContributionRecorded(_) => {
                    let mut row = contribution.clone().expect("prepared with the event");
                    row.seq = seq;
                    batch.contributions.push(row);
                }
                Event::CertificateIssued(_) | Event::TransferStep(_) => {}
                Event::CaseStep(c) => batch.case_steps.push(case_step_row(c, seq)?),
                Event::AlertStep(a) => batch.alert_steps.push(alert_step_row(a, seq)),
                Event::CaseEvidence(e) => {
                    let mut row = evidence_row(e, seq)?;
                    (row.name_sealed, row.sealed) =
                        evidence.get(&e.key).cloned().ok_or_else(|| {
                            Error::Corrupt("an evidence event came without its content".into())
                        })?;
                    batch.case_evidence.push(row);
                }
                Event::AccessLogged(a) => match access.get(&a.key) {
                    Some(row) => batch.access.push((seq, row.clone())),
                    None => {
                        return Err(Error::Corrupt(
                            "an access event came without its access row".into(),
                        ));
                    }
                },
            }
            frontier.push_storing(&hasher, leaf, |t| batch.tree_hashes.push(t));
            // Without lookups, a key used twice in the batch is the key index's to refuse.
            if lookups {
                in_batch.insert(key.clone(), (seq, leaf));
            }
            batch.events.push(EventRow {
                seq,
                key,
                kind: event.kind().to_string(),
                body: body.clone(),
                leaf,
            });
            outcomes[i] = Some(Outcome::Added(seq));
            seq += 1;
        }
        batch.persons = person_rows.into_values().collect();
        batch.orgs = org_rows.into_values().collect();
        batch.children = child_rows.into_values().collect();
        if batch.is_empty() {
            let transfer = batch.transfer.is_some();
            if transfer {
                txn.write(&batch)?;
            }
            if let Some(job) = job {
                let known: Vec<Outcome> = outcomes.iter().flatten().cloned().collect();
                txn.save_job(&job(&known))?;
                txn.commit()?;
            } else if transfer {
                txn.commit()?;
            }
            return Ok(Some(head));
        }
        let root = frontier.root(&hasher);
        let checkpoint = sign_checkpoint(
            &self.signer,
            &Checkpoint::new(self.origin.clone(), frontier.size(), root),
        )?;
        let new_head = Head {
            size: frontier.size(),
            root,
            frontier: frontier.hashes().to_vec(),
            checkpoint,
        };
        // Written before the job is moved, so that a refused optimistic write has moved
        // nothing (the job's function is called once, for the write that commits).
        match txn.write(&batch) {
            Ok(()) => {}
            // A row already stored (or any other refusal): roll back, write carefully.
            Err(_) if !lookups => return Ok(None),
            Err(e) => return Err(e),
        }
        if let Some(job) = job {
            let known: Vec<Outcome> = outcomes.iter().flatten().cloned().collect();
            txn.save_job(&job(&known))?;
        }
        txn.set_head(&new_head)?;
        txn.commit()?;
        self.advance_outside(&new_head)?;
        Ok(Some(new_head))
    }

    /// The leaf hash of entry `index` and its inclusion proof against the current signed head,
    /// from O(log n) stored hashes (see [`crate::tiles::inclusion`], which any store reader
    /// can call).
    pub fn inclusion_proof(&mut self, index: u64) -> Result<(Head, Hash, Vec<Hash>)> {
        let head = self.store.head()?;
        let (leaf, proof) =
            crate::tiles::inclusion(&mut self.store, &self.suite.hasher(), &head, index)?;
        Ok((head, leaf, proof))
    }

    /// The inclusion proof of entry `index` against the latest checkpoint of this log that the
    /// peers' witnesses cosigned and that holds the entry: that tree's size, its signed note
    /// with their cosignature lines, the proof, and the witnesses' names. Against the current
    /// head (no witness) while none has cosigned a checkpoint that holds it.
    pub fn witnessed_inclusion(
        &mut self,
        index: u64,
    ) -> Result<(u64, String, Vec<Hash>, Vec<String>)> {
        let head = self.store.head()?;
        let size = self
            .store
            .cosignatures_latest()?
            .iter()
            .map(|c| c.size)
            .filter(|s| *s > index && *s <= head.size)
            .max();
        if let Some(size) = size {
            let rows = self.store.cosignatures_at(size)?;
            if let Some(first) = rows.first() {
                let hasher = self.suite.hasher();
                let root = crate::tiles::root_at(&mut self.store, &hasher, head.size, size)?;
                let proof = crate::tiles::inclusion_at(
                    &mut self.store,
                    &hasher,
                    head.size,
                    index,
                    (size, &root),
                )?;
                let mut note = first.checkpoint.clone();
                for r in &rows {
                    note.push_str(&r.line);
                    note.push('\n');
                }
                return Ok((
                    size,
                    note,
                    proof,
                    rows.into_iter().map(|r| r.witness).collect(),
                ));
            }
        }
        let (head, _, proof) = self.inclusion_proof(index)?;
        Ok((head.size, head.checkpoint, proof, Vec::new()))
    }

    /// The whole tree in memory, rebuilt from every stored leaf hash and checked against the
    /// signed head: for tests and measurements that compare against it. Nothing in the service
    /// needs it (proofs read stored hashes).
    pub fn rebuild_tree(&mut self) -> Result<MerkleTree<SuiteHasher>> {
        let head = self.store.head()?;
        let leaves = self.read_leaves(0, head.size)?;
        let tree = MerkleTree::from_leaf_hashes(self.suite.hasher(), leaves)?;
        if tree.size() != head.size || tree.root() != head.root {
            return Err(Error::Corrupt(
                "stored leaf hashes do not give the signed root: run anxin audit".into(),
            ));
        }
        Ok(tree)
    }

    /// The stored leaf hashes of entries `from..to`, read in chunks; a row missing in between
    /// is an error (fewer rows at the end leave a short list, which the root check catches).
    fn read_leaves(&mut self, from: u64, to: u64) -> Result<Vec<Hash>> {
        let mut leaves = Vec::with_capacity(to.saturating_sub(from) as usize);
        let mut next = from;
        while next < to {
            let chunk = self.store.leaves(next, (to - next).min(100_000))?;
            if chunk.is_empty() {
                break;
            }
            for (seq, leaf) in chunk {
                if seq != next {
                    return Err(Error::Corrupt(format!(
                        "log row #{next} is missing (found #{seq} next): run anxin audit"
                    )));
                }
                leaves.push(leaf);
                next += 1;
            }
        }
        leaves.truncate(to.saturating_sub(from) as usize);
        Ok(leaves)
    }
}

/// Next settings tag: each [`Records`] and each change of its account rule gets its own.
fn next_settings() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Turns rows into events ready to write — each row's event (person keys, sealed identity,
/// idempotency key, the account rule's share), its canonical bytes, leaf hash and projected
/// row — with what it needs of a [`Records`] copied out of it ([`Records::preparer`]), so
/// that it runs on one thread while the records write on another ([`Records::append_all`]).
/// Nothing here reads or writes the database: the checks against the log are the writer's.
#[derive(Clone)]
pub struct Preparer {
    data_key: DataKey,
    account_rule: Option<AccountRule>,
    suite: Suite,
    settings: u64,
}

/// A batch of rows made ready by a [`Preparer`]; [`Records::append_prepared`] writes it.
pub struct PreparedBatch {
    settings: u64,
    /// The rows refused before any check against the log (malformed keys, sealing failures).
    outcomes: Vec<Option<Outcome>>,
    prepared: Vec<Prepared>,
}

impl PreparedBatch {
    /// How many rows the batch was made of.
    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }
}

impl Preparer {
    /// Prepares `rows` (at most [`MAX_BATCH`]; more is refused).
    pub fn prepare(&self, rows: Vec<Row>) -> Result<PreparedBatch> {
        if rows.len() > MAX_BATCH {
            return Err(Error::refused(
                format!("一批最多 {MAX_BATCH} 行，收到 {} 行", rows.len()),
                format!("a batch takes at most {MAX_BATCH} rows, got {}", rows.len()),
            ));
        }
        let mut outcomes: Vec<Option<Outcome>> = vec![None; rows.len()];
        let mut candidates: Vec<(usize, Event)> = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            match self.event_of(row) {
                Ok(event) => candidates.push((i, event)),
                Err(rejection) => outcomes[i] = Some(rejection),
            }
        }
        Ok(PreparedBatch {
            settings: self.settings,
            outcomes,
            prepared: prepare_all(candidates, &self.suite.hasher())?,
        })
    }

    fn event_of(&self, row: Row) -> Result<Event, Outcome> {
        match row {
            Row::Person(p) => {
                let person = self.data_key.person_key(&p.person_id);
                let clear = serde_json::json!({ "id": p.person_id.expose(), "name": p.name });
                let sealed = self
                    .data_key
                    .seal(&person, clear.to_string().as_bytes())
                    .map_err(|e| reject("person_id", e.to_string(), e.to_string()))?;
                let platforms: Vec<String> =
                    p.platforms.iter().map(|c| c.as_str().to_string()).collect();
                let mut event = PersonEvent {
                    key: String::new(),
                    person: person.hex(),
                    sealed: BASE64.encode(sealed),
                    hukou_region: p.hukou_region,
                    residence_region: p.residence_region,
                    employment_form: p.employment_form,
                    platforms,
                    permit_region: p.permit_region,
                    permit_since: p.permit_since.map(|d| d.to_string()),
                    household: p.household,
                };
                // The same row imported again gets the same key: a keyed hash of its clear
                // content (the sealed part differs every time by its random nonce).
                event.key = match p.record_id {
                    Some(k) => k,
                    None => {
                        let content = serde_json::json!([
                            clear,
                            event.hukou_region,
                            event.residence_region,
                            event.employment_form,
                            event.platforms,
                            event.permit_region,
                            event.permit_since,
                            event.household
                        ]);
                        format!(
                            "person:{}",
                            &hex(&self
                                .data_key
                                .keyed_hash("idem/person", content.to_string().as_bytes()))[..32]
                        )
                    }
                };
                Ok(Event::PersonRegistered(event))
            }
            Row::Org(o) => {
                let mut event = OrgEvent {
                    key: String::new(),
                    credit_code: o.credit_code.as_str().to_string(),
                    name: o.name,
                    org_kind: o.kind,
                    region: o.region,
                };
                event.key = match o.record_id {
                    Some(k) => k,
                    None => content_key("org", &event),
                };
                Ok(Event::OrgRegistered(event))
            }
            Row::Child(c) => {
                let child = self.data_key.person_key(&c.child_id);
                let guardian = self.data_key.person_key(&c.guardian_id);
                let clear = serde_json::json!({ "id": c.child_id.expose(), "name": c.name });
                let sealed = self
                    .data_key
                    .seal(&child, clear.to_string().as_bytes())
                    .map_err(|e| reject("child_id", e.to_string(), e.to_string()))?;
                let mut event = ChildEvent {
                    key: String::new(),
                    child: child.hex(),
                    sealed: BASE64.encode(sealed),
                    guardian: guardian.hex(),
                    relation: c.relation,
                    school_region: c.school_region,
                };
                event.key = match c.record_id {
                    Some(k) => k,
                    None => {
                        let content = serde_json::json!([
                            clear,
                            event.guardian,
                            event.relation,
                            event.school_region
                        ]);
                        format!(
                            "child:{}",
                            &hex(&self
                                .data_key
                                .keyed_hash("idem/child", content.to_string().as_bytes()))[..32]
                        )
                    }
                };
                Ok(Event::ChildRegistered(event))
            }
            Row::Contribution(c) => {
                let mut event = ContributionEvent {
                    key: c.record_id,
                    person: self.data_key.person_key(&c.person_id).hex(),
                    month: c.month,
                    insurance: c.insurance,
                    region: c.region,
                    payer: c.payer,
                    payer_code: c.payer_code.map(|code| code.as_str().to_string()),
                    base_fen: c.base.0,
                    amount_fen: c.amount.0,
                    account_fen: 0,
                    status: c.status,
                    reason: c.reason,
                    paid_on: c.paid_on.map(|d| d.to_string()),
                };
                event.account_fen = match (c.account, &self.account_rule) {
                    (Some(account), _) => account.0,
                    (None, Some(rule)) if event.is_paid() => {
                        rule(&event).clamp(0, event.amount_fen)
                    }
                    (None, _) => 0,
                };
                Ok(Event::ContributionRecorded(event))
            }
        }
        .and_then(|event: Event| match check_key(event.key()) {
            Ok(()) => Ok(event),
            Err(e) => Err(refusal("record_id", e)),
        })
    }
}

/// An event with its bytes, leaf hash and the rows it projects to (sequence numbers are set
/// when it is accepted).
struct Prepared {
    index: usize,
    event: Event,
    /// The bytes the store keeps: the canonical bytes, or none for a contribution whose
    /// bytes its contributions row rebuilds exactly (`store::contribution_body`).
    body: Vec<u8>,
    leaf: Hash,
    /// The registered person this event needs (payer of a contribution, guardian, holder).
    needs_person: Option<[u8; 32]>,
    contribution: Option<ContributionRow>,
}

fn prepare_one((index, event): (usize, Event), hasher: &SuiteHasher) -> Result<Prepared> {
    let body = event.to_bytes();
    let leaf = hasher.leaf(&body);
    let (needs_person, contribution) = match &event {
        Event::ContributionRecorded(c) => {
            let row = contribution_row(c, 0)?;
            (Some(row.person), Some(row))
        }
        Event::ChildRegistered(c) => (Some(key_bytes(&c.guardian)?), None),
        Event::CertificateIssued(c) => (Some(key_bytes(&c.person)?), None),
        Event::CaseStep(c) => (
            Some(key_bytes(&c.person)?).filter(|p| *p != NO_PERSON),
            None,
        ),
        Event::CaseEvidence(c) => (Some(key_bytes(&c.person)?), None),
        _ => (None, None),
    };
    // Stored once: a contribution's bytes are its row's, rebuilt when read.
    let rebuilt = contribution
        .as_ref()
        .is_some_and(|row| crate::store::contribution_body(row).as_deref() == Some(&body[..]));
    Ok(Prepared {
        index,
        event,
        body: if rebuilt { Vec::new() } else { body },
        leaf,
        needs_person,
        contribution,
    })
}

/// Prepares events on every core (two on the reference machine); order is kept.
fn prepare_all(candidates: Vec<(usize, Event)>, hasher: &SuiteHasher) -> Result<Vec<Prepared>> {
    const PARALLEL_FROM: usize = 2_048;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if candidates.len() < PARALLEL_FROM || threads == 1 {
        return candidates
            .into_iter()
            .map(|c| prepare_one(c, hasher))
            .collect();
    }
    let per = candidates.len().div_ceil(threads);
    let mut chunks: Vec<Vec<(usize, Event)>> = Vec::new();
    let mut rest = candidates;
    while rest.len() > per {
        let tail = rest.split_off(per);
        chunks.push(std::mem::replace(&mut rest, tail));
    }
    chunks.push(rest);
    let results: Vec<Result<Vec<Prepared>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || chunk.into_iter().map(|c| prepare_one(c, hasher)).collect())
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("preparation does not panic"))
            .collect()
    });
    let mut all = Vec::new();
    for r in results {
        all.extend(r?);
    }
    Ok(all)
}

fn refusal(column: &'static str, e: Error) -> Outcome {
    match e {
        Error::Refused { zh, en } | Error::NotFound { zh, en } => reject(column, zh, en),
        other => reject(column, other.to_string(), other.to_string()),
    }
}

fn content_key<T: serde::Serialize>(kind: &str, value: &T) -> String {
    use sha2::Digest as _;
    let bytes = serde_json::to_vec(value).expect("plain data serializes");
    let digest = sha2::Sha256::digest(&bytes);
    format!("{kind}:{}", &hex(&digest)[..32])
}

pub(crate) fn key_bytes(text: &str) -> Result<[u8; 32]> {
    PersonKey::from_hex(text)
        .map(|k| k.0)
        .ok_or_else(|| Error::Corrupt("person key is not 64 lowercase hex digits".into()))
}

fn decode_b64(text: &str) -> Result<Vec<u8>> {
    BASE64
        .decode(text)
        .map_err(|_| Error::Corrupt("sealed value is not base64".into()))
}

pub(crate) fn person_row(p: &PersonEvent, seq: u64) -> Result<PersonRow> {
    Ok(PersonRow {
        person: key_bytes(&p.person)?,
        sealed: decode_b64(&p.sealed)?,
        hukou_region: p.hukou_region.map(|r| r.code()),
        residence_region: p.residence_region.code(),
        employment_form: p.employment_form.as_str().to_string(),
        platforms: p.platforms.join(";"),
        permit_region: p.permit_region.map(|r| r.code()),
        permit_since: p.permit_since.clone(),
        household: p.household.clone(),
        seq,
    })
}

pub(crate) fn org_row(o: &OrgEvent, seq: u64) -> OrgRow {
    OrgRow {
        code: o.credit_code.clone(),
        name: o.name.clone(),
        kind: o.org_kind.as_str().to_string(),
        region: o.region.code(),
        seq,
    }
}

pub(crate) fn child_row(c: &ChildEvent, seq: u64) -> Result<ChildRow> {
    Ok(ChildRow {
        child: key_bytes(&c.child)?,
        sealed: decode_b64(&c.sealed)?,
        guardian: key_bytes(&c.guardian)?,
        relation: c.relation.as_str().to_string(),
        school_region: c.school_region.map(|r| r.code()),
        seq,
    })
}

/// The projection row of an evidence event (without its sealed content).
fn altered(row: &EvidenceRow, what: &str) -> Error {
    Error::Corrupt(format!(
        "evidence {} of case {} {what} (altered row)",
        row.n, row.case_id
    ))
}

/// The signing context of an evidence bundle's manifest (see
/// [`Records::sign_evidence_manifest`]).
pub const EVIDENCE_BUNDLE_CONTEXT: &str = "anxin/evidence-bundle/v1";

pub(crate) fn evidence_row(e: &crate::event::EvidenceEvent, seq: u64) -> Result<EvidenceRow> {
    Ok(EvidenceRow {
        seq,
        case_id: e.case.clone(),
        n: e.n,
        person: key_bytes(&e.person)?,
        media_type: e.media_type.clone(),
        size: e.size,
        sha256: e.sha256.clone(),
        actor: e.actor.clone(),
        at: e.at,
        sealed: Vec::new(),
        name_sealed: Vec::new(),
    })
}

/// Seals an evidence file's name and its content to the worker, each apart (so a listing
/// opens only the names): `(name, content)`, each by [`DataKey::seal`].
pub fn seal_evidence(
    key: &DataKey,
    person: &PersonKey,
    name: &str,
    content: &[u8],
) -> Result<(Vec<u8>, Vec<u8>)> {
    Ok((
        key.seal(person, name.as_bytes())?,
        key.seal(person, content)?,
    ))
}

/// Opens a name sealed by [`seal_evidence`].
pub fn open_evidence_name(key: &DataKey, person: &PersonKey, sealed: &[u8]) -> Result<String> {
    String::from_utf8(key.open(person, sealed)?)
        .map_err(|_| Error::Corrupt("a sealed evidence name is not UTF-8".into()))
}

pub(crate) fn alert_step_row(a: &crate::event::AlertEvent, seq: u64) -> AlertStepRow {
    AlertStepRow {
        seq,
        alert_id: a.alert.clone(),
        step: a.step,
        month: a.month.to_string(),
        area: a.area.clone(),
        alert_kind: a.alert_kind.clone(),
        person: a.person.clone(),
        action: a.action.clone(),
        state: a.state.clone(),
        actor: a.actor.clone(),
        at: a.at,
        via: a.via.clone(),
        contact_at: a.contact_at,
        note: a.note.clone(),
        outcome: a.outcome.clone(),
    }
}

/// The person of a case about no one person: a collective agreement between a union and a
/// platform (issue 15). Its steps need no registered person; every other case names one.
pub const NO_PERSON: [u8; 32] = [0; 32];

pub(crate) fn case_step_row(c: &crate::event::CaseEvent, seq: u64) -> Result<CaseStepRow> {
    Ok(CaseStepRow {
        seq,
        case_id: c.case.clone(),
        step: c.step,
        case_kind: c.case_kind.clone(),
        action: c.action.clone(),
        state: c.state.clone(),
        person: key_bytes(&c.person)?,
        region: c.region.code(),
        holder_role: c.holder_role.clone(),
        holder_region: c.holder_region.code(),
        level: c.level,
        actor: c.actor.clone(),
        at: c.at,
        since: c.since,
        due: c.due,
        clock: c.clock.clone(),
        outcome: c.outcome.clone(),
        subject: c.subject.clone(),
        party: c.party.clone(),
    })
}

pub(crate) fn contribution_row(c: &ContributionEvent, seq: u64) -> Result<ContributionRow> {
    Ok(ContributionRow {
        seq,
        record_id: c.key.clone(),
        person: key_bytes(&c.person)?,
        month: c.month.index(),
        insurance: c.insurance,
        region: c.region.code(),
        payer: c.payer,
        payer_code: c.payer_code.clone().unwrap_or_default(),
        base_fen: c.base_fen,
        amount_fen: c.amount_fen,
        account_fen: c.account_fen,
        status: c.status,
        reason: c.reason,
        paid_on: c.paid_on.clone(),
    })
}

pub(crate) fn posting_rows(c: &ContributionEvent, seq: u64) -> impl Iterator<Item = PostingRow> {
    c.postings().into_iter().map(move |p| PostingRow {
        seq,
        leg: p.leg,
        account: p.account,
        amount_fen: p.amount_fen,
    })
}
