//! Import jobs kept in the database, shared by the server and the command line: a job is
//! stored with its file before a row lands, moves on in the same transaction as each batch,
//! and after a crash or restart resumes after its last durable batch, its refusals intact.

use anxin_import::{Format, Kind, Options, Rows};
use anxin_policy::Policy;
use anxin_records::jobs::{JobProgress, JobRow, JobWrite, NewJob};
use anxin_records::{Error, Records, Store};
use sha2::{Digest as _, Sha256};

use crate::{Counts, PolicyRegions, Resume, Sink, Step};

/// The format's name as stored.
pub fn format_of(name: &str) -> Option<Format> {
    [Format::Csv, Format::Xlsx, Format::Json]
        .into_iter()
        .find(|f| f.as_str() == name)
}

/// The owner of the command line's jobs (accounts count from 1).
pub const COMMAND_LINE: i64 = 0;

/// SHA-256 of a file's bytes, hex.
pub fn digest(bytes: &[u8]) -> String {
    anxin_records::keys::hex(&Sha256::digest(bytes))
}

/// SHA-256 of the file at `path`, hex, read in chunks.
pub fn digest_file(path: &std::path::Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(anxin_records::keys::hex(&hasher.finalize()))
}

/// What a new job is.
pub struct Start {
    pub owner: i64,
    pub file_name: String,
    pub kind: Kind,
    pub format: Format,
    /// The day rows are checked against; kept, so a resumed job reads the file the same way.
    pub today: jiff::civil::Date,
    /// The uploaded file; empty when it stays at `path`.
    pub content: Vec<u8>,
    /// The command line's file, read in place (with its `digest`).
    pub path: Option<(String, String)>,
    pub now: i64,
}

/// Stores a new job and its file; nothing has landed yet. Returns its id.
pub fn create<S: Store>(records: &mut Records<S>, start: Start) -> Result<i64, Error> {
    let (path, digest) = match start.path {
        Some((path, digest)) => (Some(path), digest),
        None => (None, digest(&start.content)),
    };
    records.store().create_job(&NewJob {
        owner: start.owner,
        file_name: start.file_name,
        kind: start.kind.as_str().to_string(),
        format: start.format.as_str().to_string(),
        today: start.today.to_string(),
        content: start.content,
        path,
        digest,
        created_at: start.now,
    })
}

/// The command line's unfinished job for this very file (same kind, path and content), to
/// resume rather than start again.
pub fn unfinished_for_file<S: Store>(
    records: &mut Records<S>,
    kind: Kind,
    path: &str,
    digest: &str,
) -> Result<Option<JobRow>, Error> {
    Ok(records.store().unfinished_jobs()?.into_iter().find(|j| {
        j.owner == COMMAND_LINE
            && j.kind == kind.as_str()
            && j.path.as_deref() == Some(path)
            && j.digest == digest
    }))
}

/// The stored job's day, as [`Options`] for reading its file.
pub fn options_of(job: &JobRow) -> Option<Options> {
    job.today
        .parse::<jiff::civil::Date>()
        .ok()
        .map(Options::new)
}

/// Lands (the rest of) a stored job's file, `batch` rows per transaction, and marks it
/// finished. `on` sees every step, as with [`crate::ingest`].
///
/// A refusal of the records service or a file that stops early ends the job with the reason
/// stored. A database failure leaves the job unfinished (it resumes on the next start) and is
/// returned.
pub fn run(
    sink: &mut dyn Sink,
    policy: &Policy,
    job: &JobRow,
    content: Vec<u8>,
    batch: usize,
    on: &mut dyn FnMut(Step<'_>) -> Result<(), Error>,
) -> Result<JobProgress, Error> {
    let progress = job.progress.clone();
    let finish = |sink: &mut dyn Sink, progress, error| finish(sink, job.id, progress, error);
    let kind = job.kind.parse::<Kind>().ok();
    let format = format_of(&job.format);
    let (Some(kind), Some(format), Some(options)) = (kind, format, options_of(job)) else {
        return finish(
            sink,
            progress,
            Some((
                "导入任务的记录已损坏，无法继续".into(),
                "the import job's record is damaged and cannot go on".into(),
            )),
        );
    };
    let regions = PolicyRegions(policy);
    let mut rows =
        // The file is read in place (`from_vec`), not copied: the upload's bytes are held once.
        match anxin_import::from_vec(content, format, kind, options, &regions) {
            Ok(rows) => rows,
            Err(e) => return finish(sink, progress, Some((e.zh(), e.en()))),
        };
    run_rows(sink, job, &mut rows, batch, on)
}

/// Lands (the rest of) a stored job from its file already opened as `rows`, and marks it
/// finished (see [`run`]).
pub fn run_rows(
    sink: &mut dyn Sink,
    job: &JobRow,
    rows: &mut Rows<'_>,
    batch: usize,
    on: &mut dyn FnMut(Step<'_>) -> Result<(), Error>,
) -> Result<JobProgress, Error> {
    let mut progress = job.progress.clone();
    progress.rows_total = rows.progress().rows_total;
    let resume = Resume {
        id: job.id,
        last_row: progress.last_row,
        counts: Counts {
            read: progress.read,
            added: progress.added,
            unchanged: progress.unchanged,
            rejected: progress.rejected,
        },
    };
    let result = crate::ingest_from(sink, rows, batch, Some(resume), &mut |step| {
        if let Step::Committed {
            last_row,
            progress: p,
            counts,
            ..
        } = &step
        {
            progress.last_row = *last_row;
            progress.rows_read = p.rows_read;
            progress.rows_total = p.rows_total;
            (
                progress.read,
                progress.added,
                progress.unchanged,
                progress.rejected,
            ) = (counts.read, counts.added, counts.unchanged, counts.rejected);
        }
        on(step)
    });
    let counts = match result {
        Ok(counts) => counts,
        Err(Error::Refused { zh, en } | Error::NotFound { zh, en }) => {
            return finish(sink, job.id, progress, Some((zh, en)));
        }
        Err(e) => return Err(e),
    };
    progress.read = counts.read;
    progress.added = counts.added;
    progress.unchanged = counts.unchanged;
    progress.rejected = counts.rejected;
    let stopped = rows.stopped().map(|e| (e.zh(), e.en()));
    finish(sink, job.id, progress, stopped)
}

/// Marks the job finished (with why it stopped early, if it did).
fn finish(
    sink: &mut dyn Sink,
    id: i64,
    mut progress: JobProgress,
    error: Option<(String, String)>,
) -> Result<JobProgress, Error> {
    progress.finished = true;
    progress.rows_read = progress.rows_total.max(progress.rows_read);
    if error.is_some() {
        progress.error = error;
    }
    sink.save_job(&JobWrite {
        id,
        progress: progress.clone(),
        refusals: Vec::new(),
    })?;
    Ok(progress)
}
