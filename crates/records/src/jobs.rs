//! Import jobs kept in the database: the file, how far it has landed and every row refused,
//! so an import survives a restart and resumes after its last durable batch.
//!
//! A job's progress and the refusals of a batch are written in the same transaction as the
//! batch's events ([`crate::Records::append_job`]): what the job says has landed has landed,
//! and nothing more.

/// A job to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    /// The account that started it (0: the command line).
    pub owner: i64,
    pub file_name: String,
    /// `persons`, `orgs`, `children` or `contributions`.
    pub kind: String,
    /// `csv`, `xlsx` or `json`.
    pub format: String,
    /// The day the rows are checked against (YYYY-MM-DD), kept so a resumed job reads the
    /// file exactly as it was first read.
    pub today: String,
    /// The file itself (an upload); empty when the file stays at `path`.
    pub content: Vec<u8>,
    /// Where the file is (the command line's import, read in place).
    pub path: Option<String>,
    /// SHA-256 of the file, hex.
    pub digest: String,
    pub created_at: i64,
}

/// A stored job, without its file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobRow {
    pub id: i64,
    pub owner: i64,
    pub file_name: String,
    pub kind: String,
    pub format: String,
    pub today: String,
    pub path: Option<String>,
    pub digest: String,
    pub created_at: i64,
    pub progress: JobProgress,
}

/// How far a job has come; every field is durable with the batch it describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobProgress {
    pub rows_total: u64,
    pub rows_read: u64,
    /// The file row the last durable batch ended at: a resumed job starts after it.
    pub last_row: u64,
    pub read: u64,
    pub added: u64,
    pub unchanged: u64,
    /// Also the number of refusals stored (each refused row is one).
    pub rejected: u64,
    pub finished: bool,
    /// Why the import stopped early (Chinese, English).
    pub error: Option<(String, String)>,
}

/// One refused row, in file order (`n` counts from 0 within the job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRefusal {
    pub n: u64,
    pub row: u64,
    pub column: String,
    /// Masked where it is personal.
    pub value: String,
    pub zh: String,
    pub en: String,
}

/// What one batch changes in a job: its progress, and the refusals it adds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobWrite {
    pub id: i64,
    pub progress: JobProgress,
    pub refusals: Vec<JobRefusal>,
}
