//! The typed rows and the streaming [`Rows`] iterator.

use std::collections::HashMap;

use anxin_domain::{CreditCode, Fen, RegionCode, ResidentId, YearMonth};
use jiff::civil::Date;

use crate::codes::{EmploymentForm, GapReason, Insurance, OrgKind, Payer, Relation, Status};
use crate::columns::{self, Field};
use crate::error::{FileError, Msg, Rejection};
use crate::source::{Item, Source};
use crate::validate::{self, Ctx};
use crate::{Format, Kind, Options, Regions};

/// A residence permit (居住证): where and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    pub region: RegionCode,
    pub since: Date,
}

/// A row of a persons file. `row` is the row number of [`Rejection::row`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub row: u64,
    pub person_id: ResidentId,
    pub name: String,
    pub hukou_region: Option<RegionCode>,
    pub residence_region: RegionCode,
    pub employment_form: EmploymentForm,
    /// Platforms the person works through, in file order, without repeats.
    pub platforms: Vec<CreditCode>,
    pub permit: Option<Permit>,
    pub household: Option<String>,
    pub record_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRow {
    pub row: u64,
    pub credit_code: CreditCode,
    pub name: String,
    pub kind: OrgKind,
    pub region: RegionCode,
    pub record_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRow {
    pub row: u64,
    pub child_id: ResidentId,
    pub name: String,
    pub guardian_id: ResidentId,
    pub relation: Relation,
    pub school_region: Option<RegionCode>,
    pub record_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContributionRow {
    pub row: u64,
    /// The idempotency key: importing the same record twice must not count it twice.
    pub record_id: String,
    pub person_id: ResidentId,
    pub month: YearMonth,
    pub insurance: Insurance,
    pub region: RegionCode,
    pub payer: Payer,
    /// Present for platform and employer payers, absent for self, optional otherwise.
    pub payer_code: Option<CreditCode>,
    pub base: Fen,
    /// More than 0, except for unpaid and excused months where it may be 0.
    pub amount: Fen,
    /// Part of `amount` credited to the personal account; at most `amount`.
    pub account: Option<Fen>,
    pub status: Status,
    /// Present exactly when `status` is excused.
    pub reason: Option<GapReason>,
    pub paid_on: Option<Date>,
}

/// A school application: reviewed against the guardian's ledger months.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRow {
    pub row: u64,
    pub application_id: String,
    pub child_id: ResidentId,
    pub guardian_id: ResidentId,
    pub city: RegionCode,
    /// The month the application is reviewed for (may lie ahead).
    pub month: YearMonth,
    pub hardship: bool,
    /// Other proofs shown (`;`-separated codes in the file), each once, in file order.
    pub proofs: Vec<crate::codes::ProofKind>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    Application(ApplicationRow),
    Person(PersonRow),
    Org(OrgRow),
    Child(ChildRow),
    Contribution(ContributionRow),
}

impl Row {
    /// The row number a clerk sees (see [`Rejection::row`]).
    pub fn row_number(&self) -> u64 {
        match self {
            Row::Person(r) => r.row,
            Row::Org(r) => r.row,
            Row::Child(r) => r.row,
            Row::Contribution(r) => r.row,
            Row::Application(r) => r.row,
        }
    }
}

/// How far a [`Rows`] has got, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Data rows handed out so far (accepted or rejected).
    pub rows_read: u64,
    /// Data rows in the file, counted when it was opened (blank rows may make the final
    /// `rows_read` a little smaller).
    pub rows_total: u64,
}

/// The rows of one import file, in file order: each a typed [`Row`] or a [`Rejection`].
///
/// If the file turns out to be unreadable part-way (a read error, or more rows than
/// counted at opening), the iterator yields one last rejection whose `column` is empty,
/// stops, and [`Rows::stopped`] returns the cause: such a file should not be imported.
pub struct Rows<'r> {
    pub(crate) kind: Kind,
    pub(crate) format: Format,
    pub(crate) opts: Options,
    pub(crate) regions: &'r dyn Regions,
    pub(crate) source: Box<dyn Source>,
    pub(crate) labels: Vec<String>,
    pub(crate) rows_total: u64,
    pub(crate) rows_read: u64,
    /// First row of each key seen: "k…" primary keys, "r…" record ids.
    pub(crate) seen: HashMap<Box<str>, u64>,
    pub(crate) stopped: Option<FileError>,
    pub(crate) done: bool,
}

impl std::fmt::Debug for Rows<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("kind", &self.kind)
            .field("format", &self.format)
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl<'r> Rows<'r> {
    pub(crate) fn new(
        kind: Kind,
        format: Format,
        opts: Options,
        regions: &'r dyn Regions,
        source: Box<dyn Source>,
        labels: Vec<String>,
        rows_total: u64,
    ) -> Rows<'r> {
        Rows {
            kind,
            format,
            opts,
            regions,
            source,
            labels,
            rows_total,
            rows_read: 0,
            seen: HashMap::new(),
            stopped: None,
            done: false,
        }
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Columns of the file that are not columns of this kind (headers as written, cut to
    /// 64 characters). For JSON, keys seen so far that are not columns.
    pub fn ignored_columns(&self) -> &[String] {
        self.source.ignored()
    }

    /// For each recognised column (English name), the header as written in the file.
    pub fn columns(&self) -> Vec<(&'static str, &str)> {
        columns::fields(self.kind)
            .iter()
            .zip(&self.labels)
            .map(|(f, l)| (f.key, l.as_str()))
            .collect()
    }

    pub fn progress(&self) -> Progress {
        Progress {
            rows_read: self.rows_read,
            rows_total: self.rows_total.max(self.rows_read),
        }
    }

    /// Why iteration stopped before the end of the file, if it did.
    pub fn stopped(&self) -> Option<&FileError> {
        self.stopped.as_ref()
    }

    fn stop(&mut self, row: u64, error: FileError) -> Rejection {
        self.done = true;
        let zh = error.zh();
        let en = error.en();
        self.stopped = Some(error);
        Rejection::new(row, "", "", String::new(), Msg::new(zh, en))
    }

    fn fields(&self) -> &'static [Field] {
        columns::fields(self.kind)
    }

    fn validate(&mut self, row: u64, cells: &[crate::cell::Cell]) -> Result<Row, Rejection> {
        let ctx = Ctx {
            row,
            cells,
            labels: &self.labels,
            fields: self.fields(),
            today: self.opts.today,
            regions: self.regions,
        };
        let (row_value, key_field, key, record_id) = match self.kind {
            Kind::Persons => {
                let r = validate::person(&ctx)?;
                let key = r.person_id.expose().to_string();
                let rec = r.record_id.clone();
                (
                    Row::Person(r),
                    columns::person::ID,
                    key,
                    rec.map(|id| (columns::person::RECORD, id)),
                )
            }
            Kind::Orgs => {
                let r = validate::org(&ctx)?;
                let key = r.credit_code.as_str().to_string();
                let rec = r.record_id.clone();
                (
                    Row::Org(r),
                    columns::org::CODE,
                    key,
                    rec.map(|id| (columns::org::RECORD, id)),
                )
            }
            Kind::Children => {
                let r = validate::child(&ctx)?;
                let key = r.child_id.expose().to_string();
                let rec = r.record_id.clone();
                (
                    Row::Child(r),
                    columns::child::ID,
                    key,
                    rec.map(|id| (columns::child::RECORD, id)),
                )
            }
            Kind::Applications => {
                let r = validate::application(&ctx)?;
                let key = r.application_id.clone();
                // A child may apply only once per file.
                let child = r.child_id.expose().to_string();
                (
                    Row::Application(r),
                    columns::application::ID,
                    key,
                    Some((columns::application::CHILD, child)),
                )
            }
            Kind::Contributions => {
                let r = validate::contribution(&ctx)?;
                let key = r.record_id.clone();
                (
                    Row::Contribution(r),
                    columns::contribution::RECORD,
                    key,
                    None,
                )
            }
        };
        // Duplicates within the file, against earlier accepted rows.
        let primary: Box<str> = format!("k{key}").into();
        let secondary: Option<(usize, Box<str>)> =
            record_id.map(|(f, id)| (f, format!("r{id}").into()));
        for (f, k) in
            std::iter::once((key_field, &primary)).chain(secondary.as_ref().map(|(f, k)| (*f, k)))
        {
            if let Some(first) = self.seen.get(k) {
                let field = self.fields().get(f);
                let (zh, en) = field.map(|x| (x.zh_name(), x.key)).unwrap_or(("", ""));
                return Err(ctx.reject(
                    f,
                    Msg::new(
                        format!("与第 {first} 行重复（{zh}相同）：同一文件中每个{zh}只能出现一次"),
                        format!("duplicate of row {first} (same {en}): each {en} may appear only once per file"),
                    ),
                ));
            }
        }
        self.seen.insert(primary, row);
        if let Some((_, k)) = secondary {
            self.seen.insert(k, row);
        }
        Ok(row_value)
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<Row, Rejection>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.source.next_item();
        let (row, result) = match item {
            None => {
                self.done = true;
                return None;
            }
            Some(Item::Fatal { row, error }) => return Some(Err(self.stop(row, error))),
            Some(Item::Reject(r)) => (r.row, Err(r)),
            Some(Item::Record { row, cells }) => (row, self.validate(row, &cells)),
        };
        self.rows_read = self.rows_read.saturating_add(1);
        if self.rows_read > self.opts.max_rows as u64 {
            let error = FileError::TooManyRows {
                found: self.rows_read,
                max: self.opts.max_rows,
            };
            return Some(Err(self.stop(row, error)));
        }
        Some(result)
    }
}
