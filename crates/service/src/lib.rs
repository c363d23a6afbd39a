//! Use cases shared by the command line and the server, so neither re-implements the other:
//! opening a deployment ([`deployment`]: data directory, keys, backend, the checkpoint kept
//! outside the database and advanced after every commit), landing an import file on the
//! ledger batch by batch, the school review ([`school`]), the inbox and its webhook
//! ([`inbox`]) and the log's proofs ([`proofs`]).

pub mod access;
pub mod accounts;
pub mod analyst;
pub mod cases;
pub mod db;
pub mod deployment;
pub mod inbox;
pub mod jobs;
pub mod monitor;
pub mod parquet_table;
pub mod plans;
pub mod population;
pub mod proofs;
pub mod school;
pub mod transfer;

use anxin_domain::{Fen, RegionCode, YearMonth};
use anxin_import::{Progress, Row, Rows};
use anxin_policy::Policy;
use anxin_records::jobs::{JobProgress, JobRefusal, JobWrite};
use anxin_records::records::Committed;
use anxin_records::{
    ChildInput, ContributionInput, Input, OrgInput, Outcome, PersonInput, Records, Store,
};

/// Regions the policy files cover: a code, name or alias of a region, or a code under one.
pub struct PolicyRegions<'p>(pub &'p Policy);

impl anxin_import::Regions for PolicyRegions<'_> {
    fn resolve(&self, text: &str) -> Option<RegionCode> {
        if let Ok(region) = self.0.region(text) {
            return Some(region.code);
        }
        // A well-formed code below a covered region (a county of a covered city, say).
        let mut code = RegionCode::parse(text).ok()?;
        loop {
            if self.0.region_by_code(code).is_some() && !code.is_national() {
                return RegionCode::parse(text).ok();
            }
            code = code.structural_parent()?;
        }
    }
}

/// The import row as the records service's input; `None` for rows that are not stored.
pub fn to_input(row: Row) -> Option<Input> {
    Some(match row {
        Row::Person(p) => Input::Person(PersonInput {
            person_id: p.person_id,
            name: p.name,
            hukou_region: p.hukou_region,
            residence_region: p.residence_region,
            employment_form: p.employment_form,
            platforms: p.platforms,
            permit_region: p.permit.as_ref().map(|x| x.region),
            permit_since: p.permit.map(|x| x.since),
            household: p.household,
            record_id: p.record_id,
        }),
        Row::Org(o) => Input::Org(OrgInput {
            credit_code: o.credit_code,
            name: o.name,
            kind: o.kind,
            region: o.region,
            record_id: o.record_id,
        }),
        Row::Child(c) => Input::Child(ChildInput {
            child_id: c.child_id,
            name: c.name,
            guardian_id: c.guardian_id,
            relation: c.relation,
            school_region: c.school_region,
            record_id: c.record_id,
        }),
        Row::Contribution(c) => Input::Contribution(ContributionInput {
            record_id: c.record_id,
            person_id: c.person_id,
            month: c.month,
            insurance: c.insurance,
            region: c.region,
            payer: c.payer,
            payer_code: c.payer_code,
            base: c.base,
            amount: c.amount,
            account: c.account,
            status: c.status,
            reason: c.reason,
            paid_on: c.paid_on,
        }),
        // Applications are reviewed, not stored: `anxin school review`.
        Row::Application(_) => return None,
    })
}

/// When a pension row does not say how much went to the personal account, the policy's
/// account rate times the base (8% nationally), at most the amount. Rates are looked up once
/// per covered region and month, here, so the rule itself is a table lookup.
pub fn account_rule(
    policy: &Policy,
    today: jiff::civil::Date,
) -> anxin_records::records::AccountRule {
    let mut rates: std::collections::HashMap<(RegionCode, YearMonth), anxin_domain::Bps> =
        Default::default();
    let last =
        YearMonth::of_date(today).unwrap_or_else(|| YearMonth::new(2026, 1).expect("valid month"));
    let first = YearMonth::new(2010, 1).expect("valid month");
    for region in policy.regions.values() {
        let mut month = first;
        while month <= last {
            if let Ok(scope) = policy.scope(&region.code.to_string(), month, &[])
                && let Ok((bps, _)) = scope.rate(anxin_policy::param::FLEX_PENSION_ACCOUNT_RATE)
            {
                rates.insert((region.code, month), bps);
            }
            month = month.plus(1);
        }
    }
    std::sync::Arc::new(move |c| {
        if c.insurance != anxin_import::Insurance::Pension {
            return 0;
        }
        let mut region = Some(c.region);
        while let Some(r) = region {
            if let Some(bps) = rates.get(&(r, c.month)) {
                return Fen(c.base_fen)
                    .times_rate(*bps, anxin_domain::Rounding::HalfUpFen)
                    .0;
            }
            region = r.structural_parent();
        }
        0
    })
}

/// A row refused by the file reader or by the records service.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Refusal {
    pub row: u64,
    pub column: String,
    /// Masked where it is personal.
    pub value: String,
    pub zh: String,
    pub en: String,
}

impl Refusal {
    /// The columns of a refusal report (`anxin import`'s file, the clerk's download).
    pub const HEADER: [&'static str; 5] = ["行号 row", "列 column", "值 value", "原因", "reason"];

    pub fn cells(&self) -> [String; 5] {
        [
            self.row.to_string(),
            self.column.clone(),
            self.value.clone(),
            self.zh.clone(),
            self.en.clone(),
        ]
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub read: u64,
    pub added: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

/// Where the batches go: the records themselves, or a shared handle locked per batch (so a
/// long import does not hold up other readers).
pub trait Sink {
    fn append(&mut self, inputs: Vec<Input>) -> anxin_records::Result<Committed>;
    /// Appends and, in the same transaction, moves an import job on ([`Records::append_job`]).
    fn append_job(
        &mut self,
        inputs: Vec<Input>,
        job: &mut dyn FnMut(&[Outcome]) -> JobWrite,
    ) -> anxin_records::Result<Committed>;
    /// Moves an import job on in a transaction of its own.
    fn save_job(&mut self, job: &JobWrite) -> anxin_records::Result<()>;
    /// What prepares batches for [`Sink::append_prepared`] on another thread, when this sink
    /// takes them (the records themselves); `None`, the default, and each batch goes through
    /// [`Sink::append`] or [`Sink::append_job`].
    fn preparer(&mut self) -> Option<anxin_records::records::Preparer> {
        None
    }
    /// Appends a batch made by [`Sink::preparer`]'s preparer ([`Records::append_prepared`]).
    fn append_prepared(
        &mut self,
        batch: anxin_records::records::PreparedBatch,
        job: Option<anxin_records::records::JobFn<'_>>,
    ) -> anxin_records::Result<Committed> {
        let _ = (batch, job);
        Err(anxin_records::Error::refused(
            "这里只接受逐行追加，不接受预先准备的批次",
            "this sink takes rows, not prepared batches",
        ))
    }
}

impl<S: Store> Sink for Records<S> {
    fn append(&mut self, inputs: Vec<Input>) -> anxin_records::Result<Committed> {
        Records::append(self, inputs)
    }

    fn append_job(
        &mut self,
        inputs: Vec<Input>,
        job: &mut dyn FnMut(&[Outcome]) -> JobWrite,
    ) -> anxin_records::Result<Committed> {
        Records::append_job(self, inputs, job)
    }

    fn save_job(&mut self, job: &JobWrite) -> anxin_records::Result<()> {
        Records::save_job(self, job)
    }

    fn preparer(&mut self) -> Option<anxin_records::records::Preparer> {
        Some(Records::preparer(self))
    }

    fn append_prepared(
        &mut self,
        batch: anxin_records::records::PreparedBatch,
        job: Option<anxin_records::records::JobFn<'_>>,
    ) -> anxin_records::Result<Committed> {
        Records::append_prepared(self, batch, job)
    }
}

/// What happened, as it happens.
pub enum Step<'a> {
    Refused(&'a Refusal),
    /// A batch is durable: the new head, the file row it ended at, how far through the file.
    Committed {
        committed: &'a Committed,
        last_row: u64,
        progress: Progress,
        counts: Counts,
    },
}

/// Reads `rows` in batches of `batch`, appends each batch in one transaction, and reports every
/// refusal and commit to `on`. Re-running a file changes nothing (rows are keyed by content or
/// record id), so an interrupted import is finished by running it again.
///
/// Refusals come in file order, the reader's (a bad value) among the records' (a filled slot,
/// an unknown person), and a refusal by the records names its column as the file does.
pub fn ingest<E: From<anxin_records::Error>>(
    sink: &mut dyn Sink,
    rows: &mut Rows<'_>,
    batch: usize,
    on: &mut dyn FnMut(Step<'_>) -> Result<(), E>,
) -> Result<Counts, E> {
    ingest_from(sink, rows, batch, None, on)
}

/// Where a stored job stands: its id and its durable progress (nothing before `last_row` is
/// read again).
#[derive(Debug, Clone, Copy)]
pub struct Resume {
    pub id: i64,
    pub last_row: u64,
    pub counts: Counts,
}

impl Refusal {
    fn numbered(&self, n: u64) -> JobRefusal {
        JobRefusal {
            n,
            row: self.row,
            column: self.column.clone(),
            value: self.value.clone(),
            zh: self.zh.clone(),
            en: self.en.clone(),
        }
    }
}

/// [`ingest`], for a stored job when `job` is given: rows up to the job's last durable row
/// are skipped, the counts go on from the job's, and each batch's progress and refusals are
/// written in the batch's own transaction.
pub fn ingest_from<E: From<anxin_records::Error>>(
    sink: &mut dyn Sink,
    rows: &mut Rows<'_>,
    batch: usize,
    job: Option<Resume>,
    on: &mut dyn FnMut(Step<'_>) -> Result<(), E>,
) -> Result<Counts, E> {
    let batch = batch.clamp(1, anxin_records::records::MAX_BATCH);
    // A refusal by the records names its column as the file does, like the reader's.
    let columns: Vec<(&'static str, String)> = rows
        .columns()
        .into_iter()
        .map(|(key, label)| (key, label.to_string()))
        .collect();
    let column_of = |key: &str| {
        columns
            .iter()
            .find(|(k, _)| *k == key)
            .map_or_else(|| key.to_string(), |(_, label)| label.clone())
    };
    let skip = job.map_or(0, |j| j.last_row);
    let mut counts = job.map(|j| j.counts).unwrap_or_default();
    // A sink that takes prepared batches gets each one prepared on another thread while the
    // batch read before it is written: the next batch's events, bytes and hashes are made on
    // one core while the database writes on the other (the file is read between two writes).
    let preparer = sink.preparer();
    std::thread::scope(|scope| {
        let mut pending: Option<ReadBatch<'_>> = None;
        let mut done = false;
        loop {
            let next = if done {
                None
            } else {
                let (read, end) = read_batch(rows, batch, skip);
                done = end;
                read.map(|mut read| {
                    if let Some(preparer) = &preparer {
                        let inputs = std::mem::take(&mut read.inputs);
                        let preparer = preparer.clone();
                        read.preparing = Some(scope.spawn(move || preparer.prepare(inputs)));
                    }
                    read
                })
            };
            if let Some(read) = pending.take() {
                write_batch(sink, read, job, &mut counts, &column_of, on)?;
            }
            match next {
                Some(read) => pending = Some(read),
                None if done => break,
                None => {}
            }
        }
        Ok(counts)
    })
}

/// One batch as read from the file: its inputs with their row numbers (or their preparation
/// under way), the reader's refusals, and how far through the file it ends.
struct ReadBatch<'scope> {
    numbers: Vec<u64>,
    inputs: Vec<Input>,
    preparing: Option<
        std::thread::ScopedJoinHandle<
            'scope,
            anxin_records::Result<anxin_records::records::PreparedBatch>,
        >,
    >,
    /// Refusals of the file reader in this batch: held until the batch is decided, so that
    /// they come out in file order among the records' (and stored with the job).
    refused: Vec<Refusal>,
    /// Rows read, refused or not.
    read: u64,
    last_row: u64,
    progress: Progress,
}

/// Reads the next batch: up to `batch` rows, refused or not (so that what is held stays
/// bounded), skipping those up to `skip`. `None` when every row read was skipped; `true`
/// once the file is read to its end.
fn read_batch<'scope>(
    rows: &mut Rows<'_>,
    batch: usize,
    skip: u64,
) -> (Option<ReadBatch<'scope>>, bool) {
    let mut inputs: Vec<(u64, Input)> = Vec::with_capacity(batch.min(10_000));
    let mut refused: Vec<Refusal> = Vec::new();
    let (mut read, mut last_row, mut fresh, mut end) = (0, 0, false, false);
    while inputs.len() + refused.len() < batch {
        match rows.next() {
            None => {
                end = true;
                break;
            }
            Some(Ok(row)) => {
                let number = row.row_number();
                if number <= skip {
                    continue;
                }
                fresh = true;
                read += 1;
                last_row = number;
                if let Some(input) = to_input(row) {
                    inputs.push((number, input));
                }
            }
            Some(Err(r)) => {
                if skip > 0 && r.row <= skip {
                    continue;
                }
                fresh = true;
                read += 1;
                last_row = last_row.max(r.row);
                refused.push(Refusal {
                    row: r.row,
                    column: r.column.to_string(),
                    value: r.value.clone(),
                    zh: r.reason_zh.clone(),
                    en: r.reason_en.clone(),
                });
            }
        }
    }
    if !fresh {
        return (None, end);
    }
    let (numbers, inputs): (Vec<u64>, Vec<Input>) = inputs.into_iter().unzip();
    let progress = rows.progress();
    (
        Some(ReadBatch {
            numbers,
            inputs,
            preparing: None,
            refused,
            read,
            last_row,
            progress,
        }),
        end,
    )
}

/// Appends one batch read by [`read_batch`] (prepared, when its preparation was started),
/// moves the job on in the same transaction when there is one, and reports the batch's
/// refusals and commit to `on`.
fn write_batch<E: From<anxin_records::Error>>(
    sink: &mut dyn Sink,
    b: ReadBatch<'_>,
    job: Option<Resume>,
    counts: &mut Counts,
    column_of: &dyn Fn(&str) -> String,
    on: &mut dyn FnMut(Step<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let ReadBatch {
        numbers,
        inputs,
        preparing,
        refused,
        read,
        last_row,
        progress,
    } = b;
    counts.read += read;
    counts.rejected += refused.len() as u64;
    let prepared =
        match preparing {
            Some(handle) => Some(handle.join().map_err(|_| {
                anxin_records::Error::Corrupt("preparing a batch panicked".into())
            })??),
            None => None,
        };
    let empty = prepared
        .as_ref()
        .map_or(inputs.is_empty(), |p| p.is_empty());
    // The batch's outcomes, counted and turned into refusals.
    let tally = |outcomes: &[Outcome], counts: &mut Counts| -> Vec<Refusal> {
        let mut out = Vec::new();
        for (row, outcome) in numbers.iter().zip(outcomes) {
            match outcome {
                Outcome::Added(_) => counts.added += 1,
                Outcome::Unchanged(_) => counts.unchanged += 1,
                Outcome::Rejected(r) => {
                    counts.rejected += 1;
                    out.push(Refusal {
                        row: *row,
                        column: column_of(r.column),
                        value: String::new(),
                        zh: r.reason_zh.clone(),
                        en: r.reason_en.clone(),
                    });
                }
            }
        }
        out
    };
    // The batch's refusals, the reader's and the records', in file order.
    let in_order = |ledger: &[Refusal]| -> Vec<Refusal> {
        let mut all: Vec<Refusal> = refused.iter().chain(ledger).cloned().collect();
        all.sort_by_key(|r| r.row);
        all
    };
    let Some(resume) = job else {
        if empty {
            for r in &refused {
                on(Step::Refused(r))?;
            }
            return Ok(());
        }
        let committed = match prepared {
            Some(p) => sink.append_prepared(p, None)?,
            None => sink.append(inputs)?,
        };
        for r in in_order(&tally(&committed.outcomes, counts)) {
            on(Step::Refused(&r))?;
        }
        return on(Step::Committed {
            committed: &committed,
            last_row,
            progress,
            counts: *counts,
        });
    };
    // The refusals stored before this batch: the file's own, then the ledger's.
    let before = counts.rejected - refused.len() as u64;
    let write = |counts: Counts, ledger: &[Refusal]| JobWrite {
        id: resume.id,
        progress: JobProgress {
            rows_total: progress.rows_total,
            rows_read: progress.rows_read,
            last_row,
            read: counts.read,
            added: counts.added,
            unchanged: counts.unchanged,
            rejected: counts.rejected,
            finished: false,
            error: None,
        },
        refusals: {
            // Stored in file order: the reader's and the ledger's refusals interleaved.
            let mut all: Vec<&Refusal> = refused.iter().chain(ledger).collect();
            all.sort_by_key(|r| r.row);
            all.into_iter()
                .enumerate()
                .map(|(i, r)| r.numbered(before + i as u64))
                .collect()
        },
    };
    if empty {
        sink.save_job(&write(*counts, &[]))?;
        for r in &refused {
            on(Step::Refused(r))?;
        }
        return Ok(());
    }
    let mut after = *counts;
    let mut ledger = Vec::new();
    let mut moved = |outcomes: &[Outcome]| {
        after = *counts;
        ledger = tally(outcomes, &mut after);
        write(after, &ledger)
    };
    let committed = match prepared {
        Some(p) => sink.append_prepared(p, Some(&mut moved))?,
        None => sink.append_job(inputs, &mut moved)?,
    };
    *counts = after;
    for r in in_order(&ledger) {
        on(Step::Refused(&r))?;
    }
    on(Step::Committed {
        committed: &committed,
        last_row,
        progress,
        counts: *counts,
    })
}

/// A refusal by the permissions ([`access::Denied`]), or a failure (or bad input) below: what
/// every use case of this crate answers ([`accounts`], [`cases`], [`monitor`] name it their way).
#[derive(Debug)]
pub enum ServiceError {
    Denied(access::Denied),
    Records(anxin_records::Error),
}

impl From<anxin_records::Error> for ServiceError {
    fn from(e: anxin_records::Error) -> Self {
        ServiceError::Records(e)
    }
}

impl From<access::Denied> for ServiceError {
    fn from(d: access::Denied) -> Self {
        ServiceError::Denied(d)
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceError::Denied(d) => d.fmt(f),
            ServiceError::Records(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ServiceError {}
