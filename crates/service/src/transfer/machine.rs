//! The transfer's state machine at each instance, with its outbox.
//!
//! One [`Side`] per instance plays both roles: destination of the transfers it asks for,
//! origin of those asked of it. Every incoming message is handled in one step that either
//! changes nothing (a refusal returned to the caller) or commits together: the transfer's new
//! state, the book's effect (freeze, seal, record, unfreeze — the ledger), the reply stored
//! under the message's idempotency key, and the outbox. Replies are sent only after that
//! commit. So a crash loses at most messages, and messages are retried:
//!
//! - each exchange is retried by the side that starts it, from its outbox, with exponential
//!   backoff: the destination's liaison request until the package (or a refusal) arrives, the
//!   origin's package until the acknowledgement (or a refusal), the destination's
//!   acknowledgement until the seal;
//! - each side answers a message it has seen (same idempotency key) with the reply it stored
//!   then, byte for byte, and never acts on it twice;
//! - a message that does not fit the transfer's state (a package for a transfer never asked,
//!   an acknowledgement of another package) is refused and changes nothing.
//!
//! Hence exactly once: the origin seals only from `Frozen`, once; the destination records
//! only from `Requested`, once; a refusal at either end unfreezes the origin and moves
//! nothing. `tests/transfer_sim.rs` drives two sides from a seed with messages lost,
//! duplicated, delayed and reordered, crashes and clock jumps, and checks it.
//!
//! Deadlines: each state's clock in working days of the official calendar
//! (`transfer.pension.days.*`, 66号 第八条), stored with the step as computed then;
//! [`Side::queue`] is the clerks' list with the working days left or overdue.

use std::collections::BTreeMap;

use anxin_policy::Policy;
use anxin_policy::calendar::Calendar;
use anxin_policy::schema::param;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::keys::{InstanceKey, Peer, Peers};
use super::message::{self, Envelope, Kind, Signed};
use super::{Refusal, Why};

/// The ledger's part of a transfer, done in the same commit as the state change.
pub trait Book {
    /// Origin: checks the preconditions (relationship active, no arrears, no other open
    /// transfer of the person), freezes the account and returns the package body.
    fn freeze(&mut self, request: &Envelope, from: &Peer) -> Result<serde_json::Value, Refusal>;
    /// Origin: the destination refused the package; the account is active again.
    fn unfreeze(&mut self, transfer: &str);
    /// Origin: the destination recorded the months; the account is sealed (转出).
    fn seal(&mut self, transfer: &str);
    /// Destination: checks the package and records the months with their provenance; returns
    /// the acknowledgement's body.
    fn record(&mut self, package: &Envelope, from: &Peer) -> Result<serde_json::Value, Refusal>;
    /// Makes one step durable: the machine's changes and what this book did during the step,
    /// in one transaction. On an error nothing of the step is kept (the book undoes its own
    /// part) and the machine undoes its own. A book in memory keeps nothing more.
    fn commit(&mut self, changes: &[Change]) -> Result<(), Refusal> {
        let _ = changes;
        Ok(())
    }
    /// The step failed before its commit: forget what this book did during it.
    fn abort(&mut self) {}
    /// What is stored (for [`Side::load`]): the transfers, the outbox, the last number.
    fn load(&mut self) -> Result<Stored, Refusal> {
        Ok(Stored::default())
    }
    /// The reply stored for `sender`'s message `idem` when the book keeps replies: `None` if
    /// it was never handled, `Some(None)` if it was handled with nothing to answer.
    fn stored_reply(
        &mut self,
        sender: &str,
        idem: &str,
    ) -> Result<Option<Option<Signed>>, Refusal> {
        let _ = (sender, idem);
        Ok(None)
    }
}

/// What a durable book gives back when its side starts again.
#[derive(Clone, Debug, Default)]
pub struct Stored {
    pub transfers: Vec<Transfer>,
    pub outbox: Vec<(String, Outgoing)>,
    /// The highest number of a transfer this side asked for.
    pub next: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Origin,
    Destination,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Destination: the liaison request is out.
    Requested,
    /// Origin: the account is frozen, the package is out.
    Frozen,
    /// Destination: the months are recorded, the acknowledgement is out.
    Recorded,
    /// Origin: the account is sealed; over.
    Sealed,
    /// Destination: the seal arrived; over.
    Done,
    /// Refused at either end; nothing moved.
    Refused,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Origin => "origin",
            Role::Destination => "destination",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        [Role::Origin, Role::Destination]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

impl State {
    pub fn from_code(code: &str) -> Option<State> {
        [
            State::Requested,
            State::Frozen,
            State::Recorded,
            State::Sealed,
            State::Done,
            State::Refused,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    pub fn code(self) -> &'static str {
        match self {
            State::Requested => "requested",
            State::Frozen => "frozen",
            State::Recorded => "recorded",
            State::Sealed => "sealed",
            State::Done => "done",
            State::Refused => "refused",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, State::Requested | State::Frozen | State::Recorded)
    }
}

/// One transfer as one side sees it.
#[derive(Clone, Debug)]
pub struct Transfer {
    pub id: String,
    pub role: Role,
    pub peer: String,
    pub state: State,
    /// The day the current state began, and its deadline (none past the calendar's years).
    pub since: Date,
    pub due: Option<Date>,
    /// The package's digest, once there is one.
    pub package: Option<String>,
    /// Why it was refused (code, Chinese, English).
    pub refusal: Option<(String, String, String)>,
    /// Destination, once done: the origin's signed seal (the voucher carries it).
    pub seal: Option<Signed>,
}

/// A message waiting to be (re)sent.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub to: String,
    pub transfer: String,
    pub signed: Signed,
    pub attempts: u32,
    /// Unix seconds of the next try.
    pub next_try: i64,
}

/// A message the outbox sends now ([`Side::pump`]): to which peer, of which transfer, and
/// when it is tried again should this try fail.
#[derive(Clone, Debug)]
pub struct Due {
    pub to: String,
    pub transfer: String,
    pub signed: Signed,
    pub next_try: i64,
}

/// Working days of each step (66号 第八条), from the policy.
#[derive(Clone, Copy, Debug)]
pub struct Clocks {
    pub accept: u32,
    pub send: u32,
    pub close: u32,
}

impl Clocks {
    /// The national pension clocks on `date`.
    pub fn of(policy: &Policy, date: Date) -> Result<Clocks, Refusal> {
        let scope = policy
            .scope_at("000000", date, &[])
            .map_err(|e| Refusal::new(Why::Internal, e.zh, e.en))?;
        let get = |k| -> Result<u32, Refusal> {
            let (v, _) = scope
                .int(k)
                .map_err(|e| Refusal::new(Why::Internal, e.zh, e.en))?;
            Ok(u32::try_from(v).unwrap_or(0))
        };
        Ok(Clocks {
            accept: get(param::TRANSFER_PENSION_DAYS_ACCEPT)?,
            send: get(param::TRANSFER_PENSION_DAYS_SEND)?,
            close: get(param::TRANSFER_PENSION_DAYS_CLOSE)?,
        })
    }
}

/// Whether `id` has the form of a transfer's id: `{instance}:{number}`.
pub fn is_transfer_id(id: &str) -> bool {
    match id.rsplit_once(':') {
        Some((name, n)) => {
            !name.is_empty()
                && name.len() <= 64
                && !n.is_empty()
                && n.len() <= 20
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// First retry after 2 s, doubling up to 10 minutes.
pub const FIRST_RETRY_SECS: i64 = 2;
pub const MAX_RETRY_SECS: i64 = 600;

/// An instance's transfers, book and outbox.
pub struct Side<B: Book> {
    pub key: InstanceKey,
    pub peers: Peers,
    pub book: B,
    pub clocks: Clocks,
    pub transfers: BTreeMap<String, Transfer>,
    pub outbox: BTreeMap<String, Outgoing>,
    /// The reply stored for each (sender, idempotency key) handled (`None`: nothing to answer).
    pub replies: BTreeMap<String, Option<Signed>>,
    next: u64,
    /// Every commit, as the changes it made, in order: what the database keeps. A side
    /// rebuilt from it ([`Side::replay`]) is the side that was lost.
    pub journal: Vec<Vec<Change>>,
    pending: Vec<Change>,
    /// How to undo the step under way, last first.
    undo: Vec<Undo>,
    /// Whether commits are kept in [`Side::journal`] and replies in memory (the simulation);
    /// a side loaded from a durable book ([`Side::load`]) keeps them in its store instead.
    journaling: bool,
}

/// What a change replaced.
#[derive(Clone, Debug)]
enum Undo {
    Transfer(String, Option<Transfer>),
    Outbox(String, Option<Outgoing>),
    Reply(String, Option<Option<Signed>>),
    Next(u64),
}

/// One change of a commit.
#[derive(Clone, Debug)]
pub enum Change {
    Transfer(Transfer),
    Put(String, Outgoing),
    Take(String),
    Reply(String, Option<Signed>),
    Next(u64),
}

/// A row of the clerks' queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueItem {
    pub transfer: String,
    pub role: Role,
    pub state: State,
    pub due: Option<Date>,
    /// Working days left (negative: overdue by that many).
    pub days_left: Option<i64>,
}

impl<B: Book> Side<B> {
    pub fn new(key: InstanceKey, peers: Peers, book: B, clocks: Clocks) -> Side<B> {
        Side {
            key,
            peers,
            book,
            clocks,
            transfers: BTreeMap::new(),
            outbox: BTreeMap::new(),
            replies: BTreeMap::new(),
            next: 0,
            journal: Vec::new(),
            pending: Vec::new(),
            undo: Vec::new(),
            journaling: true,
        }
    }

    /// A side started again from what its durable book stored (the outbox's messages are due
    /// at once: a restarted side sends them again, and the peer answers each once).
    pub fn load(
        key: InstanceKey,
        peers: Peers,
        mut book: B,
        clocks: Clocks,
    ) -> Result<Side<B>, Refusal> {
        let stored = book.load()?;
        let mut side = Side::new(key, peers, book, clocks);
        side.journaling = false;
        for t in stored.transfers {
            side.transfers.insert(t.id.clone(), t);
        }
        for (k, mut o) in stored.outbox {
            o.next_try = 0;
            side.outbox.insert(k, o);
        }
        side.next = stored.next;
        Ok(side)
    }

    fn apply(&mut self, change: Change) {
        match change {
            Change::Transfer(t) => {
                self.transfers.insert(t.id.clone(), t);
            }
            Change::Put(k, o) => {
                self.outbox.insert(k, o);
            }
            Change::Take(k) => {
                self.outbox.remove(&k);
            }
            Change::Reply(k, r) => {
                if self.journaling {
                    self.replies.insert(k, r);
                }
            }
            Change::Next(n) => self.next = n,
        }
    }

    fn record(&mut self, change: Change) {
        let undo = match &change {
            Change::Transfer(t) => Undo::Transfer(t.id.clone(), self.transfers.get(&t.id).cloned()),
            Change::Put(k, _) | Change::Take(k) => {
                Undo::Outbox(k.clone(), self.outbox.get(k).cloned())
            }
            Change::Reply(k, _) => Undo::Reply(k.clone(), self.replies.get(k).cloned()),
            Change::Next(_) => Undo::Next(self.next),
        };
        self.undo.push(undo);
        self.pending.push(change.clone());
        self.apply(change);
    }

    /// Undoes the step under way, here and in the book.
    fn rollback(&mut self) {
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Transfer(id, Some(t)) => {
                    self.transfers.insert(id, t);
                }
                Undo::Transfer(id, None) => {
                    self.transfers.remove(&id);
                }
                Undo::Outbox(k, Some(o)) => {
                    self.outbox.insert(k, o);
                }
                Undo::Outbox(k, None) => {
                    self.outbox.remove(&k);
                }
                Undo::Reply(k, Some(r)) => {
                    self.replies.insert(k, r);
                }
                Undo::Reply(k, None) => {
                    self.replies.remove(&k);
                }
                Undo::Next(n) => self.next = n,
            }
        }
        self.pending.clear();
        self.book.abort();
    }

    fn begin(&mut self) {
        self.pending.clear();
        self.undo.clear();
    }

    fn put(&mut self, key: String, o: Outgoing) {
        self.record(Change::Put(key, o));
    }

    fn take(&mut self, key: &str) {
        if self.outbox.contains_key(key) {
            self.record(Change::Take(key.to_string()));
        }
    }

    fn reply(&mut self, key: String, r: Option<Signed>) {
        self.record(Change::Reply(key, r));
    }

    fn touch(&mut self, id: &str) {
        if let Some(t) = self.transfers.get(id).cloned() {
            self.record(Change::Transfer(t));
        }
    }

    /// Commits the step under way through the book; on an error undoes it and returns why.
    fn flush(&mut self) -> Result<(), Refusal> {
        if self.pending.is_empty() {
            self.undo.clear();
            return Ok(());
        }
        let commit = std::mem::take(&mut self.pending);
        if let Err(e) = self.book.commit(&commit) {
            self.rollback();
            return Err(e);
        }
        self.undo.clear();
        if self.journaling {
            self.journal.push(commit);
        }
        Ok(())
    }

    /// Rebuilds the side from its journal after a crash: what was committed, nothing else
    /// (the outbox's next tries are as committed; a restarted side sends when they are due).
    pub fn replay(&mut self, journal: Vec<Vec<Change>>) {
        self.transfers.clear();
        self.outbox.clear();
        self.replies.clear();
        self.next = 0;
        self.begin();
        for commit in &journal {
            for change in commit {
                self.apply(change.clone());
            }
        }
        self.journal = journal;
    }

    fn due(calendar: &Calendar, today: Date, days: u32) -> Option<Date> {
        calendar.add_working_days(today, days).ok()
    }

    fn sign(
        &self,
        kind: Kind,
        to: &str,
        transfer: &str,
        step: &str,
        at: i64,
        body: serde_json::Value,
    ) -> Result<Signed, Refusal> {
        message::sign(
            &self.key,
            &Envelope {
                v: 1,
                kind,
                from: self.key.name().to_string(),
                to: to.to_string(),
                transfer: transfer.to_string(),
                idem: format!("{transfer}:{step}"),
                at,
                body,
            },
        )
    }

    /// Destination: a worker asks to move from `origin`; the request goes into the outbox.
    /// `body` makes the liaison request's body once the transfer has its id (the sealed ID is
    /// bound to it) and may note in the book what was asked.
    pub fn request(
        &mut self,
        calendar: &Calendar,
        origin: &str,
        today: Date,
        now: i64,
        body: impl FnOnce(&mut B, &str, &Peer) -> Result<serde_json::Value, Refusal>,
    ) -> Result<String, Refusal> {
        self.begin();
        match self.request_step(calendar, origin, today, now, body) {
            Ok(id) => {
                self.flush()?;
                Ok(id)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn request_step(
        &mut self,
        calendar: &Calendar,
        origin: &str,
        today: Date,
        now: i64,
        body: impl FnOnce(&mut B, &str, &Peer) -> Result<serde_json::Value, Refusal>,
    ) -> Result<String, Refusal> {
        let peer = self
            .peers
            .named(origin)
            .ok_or_else(|| {
                Refusal::new(
                    Why::UnknownPeer,
                    format!("{origin} 不是本实例信任的对等实例"),
                    format!("{origin} is not a peer of this instance"),
                )
            })?
            .clone();
        let id = format!("{}:{}", self.key.name(), self.next + 1);
        let body = body(&mut self.book, &id, &peer)?;
        let signed = self.sign(Kind::LiaisonRequest, &peer.name, &id, "request", now, body)?;
        let peer = peer.name.clone();
        let next = self.next + 1;
        self.record(Change::Next(next));
        self.put(
            format!("{id}:request"),
            Outgoing {
                to: peer.clone(),
                transfer: id.clone(),
                signed,
                attempts: 0,
                next_try: now,
            },
        );
        self.record(Change::Transfer(Transfer {
            id: id.clone(),
            role: Role::Destination,
            peer,
            state: State::Requested,
            since: today,
            due: Self::due(calendar, today, self.clocks.accept),
            package: None,
            refusal: None,
            seal: None,
        }));
        Ok(id)
    }

    /// The messages due to be sent now; each is rescheduled with backoff. (A clock moved back
    /// more than the longest backoff sends at once rather than wait.)
    pub fn pump(&mut self, now: i64) -> Vec<Due> {
        let mut out = Vec::new();
        for o in self.outbox.values_mut() {
            if o.next_try <= now || o.next_try > now + MAX_RETRY_SECS {
                let wait = FIRST_RETRY_SECS
                    .saturating_mul(1i64 << o.attempts.min(20))
                    .min(MAX_RETRY_SECS);
                o.attempts = o.attempts.saturating_add(1);
                o.next_try = now + wait;
                out.push(Due {
                    to: o.to.clone(),
                    transfer: o.transfer.clone(),
                    signed: o.signed.clone(),
                    next_try: o.next_try,
                });
            }
        }
        out
    }

    /// Handles one message: the replies to send after the commit, or a refusal that changed
    /// nothing.
    pub fn handle(
        &mut self,
        calendar: &Calendar,
        signed: &Signed,
        today: Date,
        now: i64,
    ) -> Result<Vec<Signed>, Refusal> {
        self.begin();
        match self.handle_step(calendar, signed, today, now) {
            Ok(replies) => {
                self.flush()?;
                Ok(replies)
            }
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    fn handle_step(
        &mut self,
        calendar: &Calendar,
        signed: &Signed,
        today: Date,
        now: i64,
    ) -> Result<Vec<Signed>, Refusal> {
        let (env, peer) = message::open(&self.peers, self.key.name(), signed)?;
        let peer = peer.clone();
        if !is_transfer_id(&env.transfer) || env.idem.len() > 160 {
            return Err(message::malformed(
                "a transfer id is {instance}:{number}, its idempotency key at most 160 bytes",
            ));
        }
        if !env.idem.starts_with(&format!("{}:", env.transfer)) {
            return Err(message::malformed("idempotency key of another transfer"));
        }
        // Replies are kept per sender: a peer replaying another's key gets nothing of it.
        let reply_key = format!("{}\0{}", peer.name, env.idem);
        if let Some(reply) = self.replies.get(&reply_key) {
            return Ok(reply.iter().cloned().collect());
        }
        if let Some(reply) = self.book.stored_reply(&peer.name, &env.idem)? {
            return Ok(reply.into_iter().collect());
        }
        let out_of_order = |state: Option<State>| {
            let s = state.map(State::code).unwrap_or("none");
            Refusal::new(
                Why::OutOfOrder,
                format!(
                    "转移 {} 现在是 {s} 状态，不接受 {}",
                    env.transfer,
                    env.kind.code()
                ),
                format!(
                    "transfer {} is {s}: a {} does not fit",
                    env.transfer,
                    env.kind.code()
                ),
            )
        };
        if let Some(t) = self.transfers.get(&env.transfer)
            && t.peer != peer.name
        {
            return Err(out_of_order(Some(t.state)));
        }
        let current: Option<(Role, State)> =
            self.transfers.get(&env.transfer).map(|t| (t.role, t.state));
        match env.kind {
            Kind::LiaisonRequest => {
                if current.is_some() || !env.transfer.starts_with(&format!("{}:", peer.name)) {
                    return Err(out_of_order(current.map(|c| c.1)));
                }
                match self.book.freeze(&env, &peer) {
                    Ok(body) => {
                        let pkg = self.sign(
                            Kind::Package,
                            &peer.name,
                            &env.transfer,
                            "package",
                            now,
                            body,
                        )?;
                        let digest = super::package::digest(&pkg);
                        self.put(
                            format!("{}:package", env.transfer),
                            Outgoing {
                                to: peer.name.clone(),
                                transfer: env.transfer.clone(),
                                signed: pkg.clone(),
                                attempts: 1,
                                next_try: now + FIRST_RETRY_SECS,
                            },
                        );
                        self.commit(
                            &env,
                            &peer,
                            Role::Origin,
                            State::Frozen,
                            today,
                            Self::due(calendar, today, self.clocks.send),
                            Some(digest),
                            None,
                        );
                        self.reply(reply_key.clone(), Some(pkg.clone()));
                        Ok(vec![pkg])
                    }
                    Err(r) if r.why.retryable() => Err(r),
                    Err(r) => {
                        let reply = self.refusal(&peer, &env, &r, now)?;
                        self.commit(
                            &env,
                            &peer,
                            Role::Origin,
                            State::Refused,
                            today,
                            None,
                            None,
                            Some(&r),
                        );
                        self.reply(reply_key.clone(), Some(reply.clone()));
                        Ok(vec![reply])
                    }
                }
            }
            Kind::Package => {
                if current != Some((Role::Destination, State::Requested)) {
                    return Err(out_of_order(current.map(|c| c.1)));
                }
                let digest = super::package::digest(signed);
                match self.book.record(&env, &peer) {
                    Ok(body) => {
                        let ack = self.sign(
                            Kind::Ack,
                            &peer.name,
                            &env.transfer,
                            "ack",
                            now,
                            serde_json::json!({ "package": digest, "recorded": body }),
                        )?;
                        self.take(&format!("{}:request", env.transfer));
                        self.put(
                            format!("{}:ack", env.transfer),
                            Outgoing {
                                to: peer.name.clone(),
                                transfer: env.transfer.clone(),
                                signed: ack.clone(),
                                attempts: 1,
                                next_try: now + FIRST_RETRY_SECS,
                            },
                        );
                        self.commit(
                            &env,
                            &peer,
                            Role::Destination,
                            State::Recorded,
                            today,
                            Self::due(calendar, today, self.clocks.close),
                            Some(digest),
                            None,
                        );
                        self.reply(reply_key.clone(), Some(ack.clone()));
                        Ok(vec![ack])
                    }
                    Err(r) if r.why.retryable() => Err(r),
                    Err(r) => {
                        let reply = self.refusal(&peer, &env, &r, now)?;
                        self.take(&format!("{}:request", env.transfer));
                        self.commit(
                            &env,
                            &peer,
                            Role::Destination,
                            State::Refused,
                            today,
                            None,
                            Some(digest),
                            Some(&r),
                        );
                        self.reply(reply_key.clone(), Some(reply.clone()));
                        Ok(vec![reply])
                    }
                }
            }
            Kind::Ack => {
                let t = self.transfers.get(&env.transfer);
                let acked: Option<String> = env
                    .body
                    .get("package")
                    .and_then(|v| v.as_str())
                    .map(String::from);
                match t {
                    Some(t)
                        if t.role == Role::Origin
                            && t.state == State::Frozen
                            && t.package == acked => {}
                    _ => return Err(out_of_order(current.map(|c| c.1))),
                }
                self.book.seal(&env.transfer);
                let seal = self.sign(
                    Kind::Seal,
                    &peer.name,
                    &env.transfer,
                    "seal",
                    now,
                    serde_json::json!({ "package": acked }),
                )?;
                self.take(&format!("{}:package", env.transfer));
                self.commit(
                    &env,
                    &peer,
                    Role::Origin,
                    State::Sealed,
                    today,
                    None,
                    acked,
                    None,
                );
                self.reply(reply_key.clone(), Some(seal.clone()));
                Ok(vec![seal])
            }
            Kind::Seal => {
                if current != Some((Role::Destination, State::Recorded)) {
                    return Err(out_of_order(current.map(|c| c.1)));
                }
                self.take(&format!("{}:ack", env.transfer));
                let digest = self
                    .transfers
                    .get(&env.transfer)
                    .and_then(|t| t.package.clone());
                self.commit(
                    &env,
                    &peer,
                    Role::Destination,
                    State::Done,
                    today,
                    None,
                    digest,
                    None,
                );
                if let Some(t) = self.transfers.get_mut(&env.transfer) {
                    t.seal = Some(signed.clone());
                }
                self.touch(&env.transfer);
                self.reply(reply_key.clone(), None);
                Ok(vec![])
            }
            Kind::Refusal => {
                let why: (String, String, String) = serde_json::from_value(env.body.clone())
                    .map_err(|e| message::malformed(&e.to_string()))?;
                let r = Refusal::new(Why::OutOfOrder, why.1.clone(), why.2.clone());
                match current {
                    Some((Role::Destination, State::Requested)) => {
                        self.take(&format!("{}:request", env.transfer));
                    }
                    Some((Role::Origin, State::Frozen)) => {
                        self.book.unfreeze(&env.transfer);
                        self.take(&format!("{}:package", env.transfer));
                    }
                    _ => return Err(out_of_order(current.map(|c| c.1))),
                }
                let role = current.map(|c| c.0).unwrap_or(Role::Destination);
                let digest = self
                    .transfers
                    .get(&env.transfer)
                    .and_then(|t| t.package.clone());
                self.commit(
                    &env,
                    &peer,
                    role,
                    State::Refused,
                    today,
                    None,
                    digest,
                    Some(&r),
                );
                if let Some(t) = self.transfers.get_mut(&env.transfer) {
                    t.refusal = Some(why);
                }
                self.touch(&env.transfer);
                self.reply(reply_key.clone(), None);
                Ok(vec![])
            }
        }
    }

    fn refusal(
        &self,
        peer: &Peer,
        env: &Envelope,
        r: &Refusal,
        now: i64,
    ) -> Result<Signed, Refusal> {
        self.sign(
            Kind::Refusal,
            &peer.name,
            &env.transfer,
            &format!("refusal-{}", env.kind.code()),
            now,
            serde_json::json!([r.why.code(), r.zh, r.en]),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn commit(
        &mut self,
        env: &Envelope,
        peer: &Peer,
        role: Role,
        state: State,
        today: Date,
        due: Option<Date>,
        package: Option<String>,
        refusal: Option<&Refusal>,
    ) {
        self.record(Change::Transfer(Transfer {
            id: env.transfer.clone(),
            role,
            peer: peer.name.clone(),
            state,
            since: today,
            due,
            package,
            refusal: refusal.map(|r| (r.why.code().to_string(), r.zh.clone(), r.en.clone())),
            seal: None,
        }));
    }

    /// The clerks' queue: open transfers, the most urgent first, with working days left.
    pub fn queue(&self, calendar: &Calendar, today: Date) -> Vec<QueueItem> {
        let mut items: Vec<QueueItem> = self
            .transfers
            .values()
            .filter(|t| t.state.is_open())
            .map(|t| QueueItem {
                transfer: t.id.clone(),
                role: t.role,
                state: t.state,
                due: t.due,
                days_left: t
                    .due
                    .and_then(|d| calendar.working_days_between(today, d).ok()),
            })
            .collect();
        items.sort_by_key(|i| (i.days_left.unwrap_or(i64::MAX), i.transfer.clone()));
        items
    }
}
