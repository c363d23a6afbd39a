//! The records behind a server: readers that never wait for the writer, and one writer.
//!
//! ```text
//! request ─► Db::read ─► a reader from the pool (own connection, one snapshot per read)
//! request ─► Db::write / Db::log_access ─► bounded queue ─► the writer thread (owns the
//!            Records that append: imports, certificates, access rows, sessions)
//! proofs, tiles, the audit ─► Db::read / Db::audit ─► a reader (stored tree hashes, the
//!            checkpoint file read before the snapshot)
//! ```
//!
//! Readers are [`Records`] on connections that can only read ([`Store::reader`]: SQLite
//! read-only in WAL mode, PostgreSQL read-only transactions), made with
//! [`Records::view_on`]: they share the keys and read the outside checkpoint file but hold
//! nothing of the writer's, so a read takes no lock the writer holds. A database that has no
//! second connection (in memory) is read through the writer instead.
//!
//! The writer and the bulk work it is fed (an import's parsing and checks) can run at a lower
//! scheduling priority than the threads that serve reads ([`Db::start_with`], `serve
//! --background-nice`): on a machine whose cores the readers need, an import then takes what
//! the readers leave instead of half of every core, and a page's tail latency stays near its
//! idle value. Nothing is skipped or reordered: the writer only runs later.
//!
//! The writer takes jobs one by one from a bounded queue (a full queue makes the sender
//! wait, never grows). Access rows of officials' reads that are waiting together are
//! committed in one transaction (group commit) and each caller is told the result; if the
//! group fails, each row is retried alone, so one bad row sinks only itself. A job that
//! panics is dropped with its uncommitted transaction and the writer goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Condvar, Mutex};

use anxin_records::access::AccessRow;
use anxin_records::store::Head;
use anxin_records::{Error, Records, Result, Store};

/// The records on a runtime-chosen backend.
pub type Rec = Records<Box<dyn Store>>;

/// Jobs waiting for the writer at most; past it, senders wait.
pub const QUEUE: usize = 1024;
/// Access rows committed together at most.
pub const MAX_GROUP: usize = 256;
/// Readers a server opens by default.
pub const READERS: usize = 4;
/// How much lower than the readers the writer and an import run by default (a nice value: 0
/// is the same priority, 19 the lowest). At 10 the kernel gives a reader about nine times the
/// writer's share of a core both want (CFS weights 1024 against 110).
pub const BACKGROUND_NICE: i32 = 10;

/// The reader pool and the writer's handle. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pub reads: Arc<ReadPool>,
    pub writer: Writer,
}

impl Db {
    /// Starts the writer thread on `records` and opens `readers` read connections beside
    /// it (none when the database has no second connection: then reads go to the writer).
    pub fn start(records: Rec, readers: usize) -> Result<Db> {
        Db::start_with(records, readers, 0)
    }

    /// As [`Db::start`], with the writer thread `nice` steps below the caller's priority
    /// (see [`background`]); 0 leaves it equal.
    pub fn start_with(records: Rec, readers: usize, nice: i32) -> Result<Db> {
        let mut idle = Vec::with_capacity(readers);
        for _ in 0..readers {
            let Some(store) = records.store_ref().reader()? else {
                break;
            };
            idle.push(records.view_on(store));
        }
        let reads = Arc::new(ReadPool {
            size: idle.len(),
            idle: Mutex::new(idle),
            ready: Condvar::new(),
        });
        Ok(Db {
            reads,
            writer: Writer::start(records, nice)?,
        })
    }

    /// Runs `f` on a reader, in one snapshot; on the writer when there are no readers.
    pub fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Rec) -> T + Send + 'static,
    ) -> Result<T> {
        if self.reads.size == 0 {
            return self.writer.run(f);
        }
        self.reads.read(f)
    }

    /// The full audit on a reader (on the writer when there are none): it streams the entries
    /// and reads the stored tree hashes, so it holds nothing of the writer's and waits for no
    /// write. The checkpoint file is read before the reader's snapshot begins, so a commit
    /// that lands meanwhile cannot make the file look ahead of the database.
    pub fn audit(
        &self,
        scope: anxin_records::AuditScope,
    ) -> Result<Result<anxin_records::AuditReport>> {
        if self.reads.size == 0 {
            return self.writer.run(move |r| r.audit(None, scope));
        }
        self.reads.read_after(
            |r| r.read_outside(),
            move |r, outside| r.audit_read(outside, &[], scope),
        )
    }

    /// Runs `f` on the writer (after the jobs queued before it).
    pub fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Rec) -> T + Send + 'static,
    ) -> Result<T> {
        self.writer.run(f)
    }

    /// Records an official's read (committed in a group with others waiting).
    pub fn log_access(&self, row: AccessRow) -> Result<Head> {
        self.writer.log_access(row)
    }
}

/// Records on read-only connections, each used by one read at a time.
pub struct ReadPool {
    idle: Mutex<Vec<Rec>>,
    ready: Condvar,
    size: usize,
}

impl ReadPool {
    /// How many readers the pool holds.
    pub fn size(&self) -> usize {
        self.size
    }

    fn take(&self) -> Rec {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(r) = idle.pop() {
                return r;
            }
            idle = self.ready.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn give(&self, r: Rec) {
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(r);
        self.ready.notify_one();
    }

    /// Runs `f` on an idle reader inside one read snapshot. A reader whose connection fails
    /// to start a snapshot is replaced by a fresh connection once.
    pub fn read<T>(&self, f: impl FnOnce(&mut Rec) -> T) -> Result<T> {
        self.read_after(|_| (), |r, ()| f(r))
    }

    /// Runs `before` on an idle reader outside any snapshot, then `f` with what it returned
    /// inside one snapshot begun after it: what `before` read (the checkpoint file) is never
    /// ahead of what `f` sees.
    pub fn read_after<P, T>(
        &self,
        before: impl FnOnce(&mut Rec) -> P,
        f: impl FnOnce(&mut Rec, P) -> T,
    ) -> Result<T> {
        let mut r = self.take();
        let pre = before(&mut r);
        if r.store().begin_read().is_err() {
            if let Ok(Some(store)) = r.store_ref().reader() {
                r = r.view_on(store);
            }
            if let Err(e) = r.store().begin_read() {
                self.give(r);
                return Err(e);
            }
        }
        // A panicking read gives its reader back too (the snapshot is ended first).
        let out = catch_unwind(AssertUnwindSafe(|| f(&mut r, pre)));
        let ended = r.store().end_read();
        self.give(r);
        match out {
            Ok(v) => ended.map(|()| v),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

enum Job {
    Run(Box<dyn FnOnce(&mut Rec) + Send>),
    Access(AccessRow, mpsc::Sender<Result<Head>>),
}

/// The handle of the one writer thread. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    queue: SyncSender<Job>,
}

fn stopped() -> Error {
    Error::Corrupt("the writer has stopped".into())
}

fn dropped() -> Error {
    Error::Corrupt(
        "a write panicked before it answered: what it had not committed changed nothing".into(),
    )
}

impl Writer {
    fn start(records: Rec, nice: i32) -> Result<Writer> {
        let (queue, jobs) = mpsc::sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("anxin-writer".into())
            .spawn(move || {
                background(nice);
                serve(records, jobs)
            })
            .map_err(|e| Error::Corrupt(format!("cannot start the writer: {e}")))?;
        Ok(Writer { queue })
    }

    /// Queues `f`, runs it on the writer and returns what it returns (waits for both).
    pub fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Rec) -> T + Send + 'static,
    ) -> Result<T> {
        let (reply, result) = mpsc::channel();
        let job = Job::Run(Box::new(move |r: &mut Rec| {
            let _ = reply.send(f(r));
        }));
        self.queue.send(job).map_err(|_| stopped())?;
        // A job that panicked drops its reply: the caller is told, the writer goes on.
        result.recv().map_err(|_| dropped())
    }

    /// Commits `row` with its `access_logged` event, in a group with the others waiting.
    pub fn log_access(&self, row: AccessRow) -> Result<Head> {
        let (reply, result) = mpsc::channel();
        self.queue
            .send(Job::Access(row, reply))
            .map_err(|_| stopped())?;
        result.recv().map_err(|_| dropped())?
    }
}

/// The writer's loop: until every handle is gone.
fn serve(mut records: Rec, jobs: Receiver<Job>) {
    let mut held: Option<Job> = None;
    loop {
        let job = match held.take() {
            Some(job) => job,
            None => match jobs.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        match job {
            Job::Run(f) => {
                let _ = catch_unwind(AssertUnwindSafe(|| f(&mut records)));
            }
            Job::Access(row, reply) => {
                let mut group = vec![(row, reply)];
                while group.len() < MAX_GROUP {
                    match jobs.try_recv() {
                        Ok(Job::Access(row, reply)) => group.push((row, reply)),
                        Ok(other) => {
                            held = Some(other);
                            break;
                        }
                        Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                    }
                }
                commit_group(&mut records, group);
            }
        }
    }
}

/// One transaction for the whole group; if it fails, each row alone.
fn commit_group(records: &mut Rec, group: Vec<(AccessRow, mpsc::Sender<Result<Head>>)>) {
    if group.len() > 1 {
        let rows = group.iter().map(|(row, _)| row.clone()).collect();
        if let Ok(Ok(head)) = catch_unwind(AssertUnwindSafe(|| records.log_access_group(rows))) {
            for (_, reply) in group {
                let _ = reply.send(Ok(head.clone()));
            }
            return;
        }
    }
    for (row, reply) in group {
        if let Ok(result) = catch_unwind(AssertUnwindSafe(|| records.log_access(row))) {
            let _ = reply.send(result);
        }
    }
}

/// Lowers the calling thread's scheduling priority by `nice` steps (Linux: the nice value is
/// per thread, and threads it starts inherit it: the writer's helpers preparing a batch run at
/// its priority). A priority can only be lowered, never raised again, so this is for threads
/// that do background work for their whole life. Does nothing for `nice <= 0`, or where the
/// system refuses (the priority stays as it was; the work is the same, only its share of the
/// cores differs).
pub fn background(nice: i32) {
    if nice <= 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid, getpriority and setpriority take plain integers and touch no memory
        // of ours; a failure is only reported through errno, which is ignored here.
        unsafe {
            let tid = libc::gettid() as libc::id_t;
            let now = libc::getpriority(libc::PRIO_PROCESS, tid);
            let _ = libc::setpriority(libc::PRIO_PROCESS, tid, (now + nice).min(19));
        }
    }
}

/// The calling thread's nice value (Linux; 0 elsewhere).
pub fn nice_of_this_thread() -> i32 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: as in `background`.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t) }
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}
