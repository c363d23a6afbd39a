//! The [`Book`] of a real instance: its ledger ([`Records`]), its policy and its key. At the
//! origin it opens the sealed ID, keys the person with its own data key, checks the
//! preconditions and builds the package ([`package::build`]); at the destination it verifies
//! the package offline ([`package::verify_package`]) against the liaison request it sent and
//! keeps the transferred months with their provenance (origin, log entry, checkpoint).
//!
//! Durable: each step of the machine is committed through [`Book::commit`] in one
//! transaction of the store (migration 15, SQLite and PostgreSQL): the transfer's row and
//! its `transfer_step` event in the log, the outbox, the reply stored under the sender and
//! idempotency key, and at the destination the months received with their provenance. The
//! maps below are the book's memory of it, rebuilt by [`Book::load`] when the instance starts
//! again ([`super::machine::Side::load`]); a step whose commit fails is undone in them.

use std::collections::{BTreeMap, BTreeSet};

use anxin_records::transfer::{OutboxRow, TransferMonthRow, TransferRow, TransferWrite};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use anxin_domain::{Insurance, RegionCode, YearMonth};
use anxin_policy::Policy;
use anxin_records::keys::PersonKey;
use anxin_records::{Records, Store};
use serde_json::json;

use super::keys::{InstanceKey, Peer};
use super::machine::{Book, Change, Outgoing, Role, State, Stored, Transfer};
use super::message::{Envelope, Kind, Signed, body};
use super::package::{self, LiaisonRequest, Package};
use super::{Refusal, Why};

/// A month received, with where it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMonth {
    pub origin: String,
    /// The origin log's entry proving it, and the size of the checkpoint it was proven at.
    pub entry: u64,
    pub checkpoint_size: u64,
    pub region: RegionCode,
    pub month: YearMonth,
    pub insurance: Insurance,
    pub base_fen: i64,
}

/// What the destination recorded for one transfer.
#[derive(Clone, Debug)]
pub struct Received {
    /// This instance's own key of the person (its data key over the opened ID).
    pub person: PersonKey,
    pub months: Vec<ReceivedMonth>,
    /// The calculator's figures, as verified.
    pub pension_total_fen: Option<i64>,
    pub pooling_fen: i64,
    pub personal_account_fen: Option<i64>,
    /// Where the pension will be claimed (66号 第六条), region code.
    pub claim_place: String,
    /// Which of the four rules of 66号 第六条 decided it (1–4; 0 when stored before it was
    /// kept) and why, in Chinese and English.
    pub claim_rule: u8,
    pub claim_why: (String, String),
    /// The holder as a voucher shows them: the ID masked.
    pub holder: String,
    /// Medical insurance, when it moved too (medical months in the package, a medical
    /// account or a gap given): the calculator's figures.
    pub medical: Option<MedicalReceived>,
}

/// What the destination recorded of the medical insurance moved (医保办发〔2021〕43号).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MedicalReceived {
    /// The medical account balance moved (fen; none where the origin keeps no account).
    pub account_fen: Option<i64>,
    /// Months without medical insurance before joining here, as the request gave them.
    pub gap_months: Option<u32>,
    /// Whether cover counts as continuous (the gap within the parameter); none without a gap.
    pub continuous: Option<bool>,
    /// After a longer gap: the longest waiting period the destination may set (months).
    pub max_waiting_months: Option<i64>,
}

pub struct LedgerBook<'p, S: Store> {
    pub records: Records<S>,
    pub policy: &'p Policy,
    pub key: InstanceKey,
    /// Origin: the person of each frozen transfer, and the persons whose account moved out.
    pub frozen: BTreeMap<String, PersonKey>,
    pub sealed: BTreeSet<PersonKey>,
    /// Destination: the liaison request sent for each transfer, the person it is for (this
    /// instance's key) and what was recorded.
    pub sent: BTreeMap<String, LiaisonRequest>,
    pub asked: BTreeMap<String, PersonKey>,
    pub received: BTreeMap<String, Received>,
    /// Each peer's place (Chinese, English), for the worker's messages; a peer not here is
    /// named by its instance name.
    pub places: BTreeMap<String, (String, String)>,
    /// Now (Unix seconds), when the step under way is committed: the inbox messages' time.
    pub now: i64,
    /// What the step under way changed in the maps above, to commit or undo.
    staged: Vec<Staged>,
}

#[derive(Clone, Debug)]
enum Staged {
    Frozen(String),
    Unfrozen(String, PersonKey),
    Sealed(String, PersonKey),
    Sent(String),
    Received(String),
}

/// The verified figures of a transfer received, as its row keeps them (the months are rows
/// of their own).
#[derive(Serialize, Deserialize)]
struct ReceivedFigures {
    pension_total_fen: Option<i64>,
    pooling_fen: i64,
    personal_account_fen: Option<i64>,
    claim_place: String,
    #[serde(default)]
    claim_rule: u8,
    #[serde(default)]
    claim_why: (String, String),
    holder: String,
    #[serde(default)]
    medical: Option<MedicalReceived>,
}

fn stored_error(e: impl std::fmt::Display) -> Refusal {
    Refusal::new(
        Why::Internal,
        format!("转移记录读写失败：{e}"),
        format!("reading or writing the transfer records failed: {e}"),
    )
}

fn corrupt(what: &str) -> Refusal {
    Refusal::new(
        Why::Internal,
        format!("存储的转移记录有误：{what}"),
        format!("a stored transfer record is not valid: {what}"),
    )
}

impl<'p, S: Store> LedgerBook<'p, S> {
    pub fn new(records: Records<S>, policy: &'p Policy, key: InstanceKey) -> Self {
        LedgerBook {
            records,
            policy,
            key,
            frozen: BTreeMap::new(),
            sealed: BTreeSet::new(),
            sent: BTreeMap::new(),
            asked: BTreeMap::new(),
            received: BTreeMap::new(),
            places: BTreeMap::new(),
            now: 0,
            staged: Vec::new(),
        }
    }

    /// The person a transfer is about, as this instance keys them, when it knows: at the
    /// destination from the request on, at the origin while the account is frozen.
    pub fn person_of(&self, transfer: &str) -> Option<PersonKey> {
        self.asked
            .get(transfer)
            .or_else(|| self.frozen.get(transfer))
            .or_else(|| self.received.get(transfer).map(|r| &r.person))
            .copied()
    }

    fn staged_person(&self, transfer: &str) -> Option<PersonKey> {
        if let Some(p) = self.frozen.get(transfer) {
            return Some(*p);
        }
        if let Some(r) = self.received.get(transfer) {
            return Some(r.person);
        }
        if let Some(p) = self.asked.get(transfer) {
            return Some(*p);
        }
        self.staged.iter().find_map(|s| match s {
            Staged::Unfrozen(t, p) | Staged::Sealed(t, p) if t == transfer => Some(*p),
            _ => None,
        })
    }

    fn staged_has(&self, want: impl Fn(&Staged) -> bool) -> bool {
        self.staged.iter().any(want)
    }

    /// The body of a liaison request for a worker known here by `id` (for
    /// [`super::machine::Side::request`]); notes what was asked.
    pub fn ask(
        &mut self,
        transfer: &str,
        origin: &Peer,
        id: &anxin_domain::ResidentId,
        mut request: LiaisonRequest,
    ) -> Result<serde_json::Value, Refusal> {
        request.identity = super::keys::seal_to(
            &origin.key,
            &package::identity_aad(transfer, self.key.name(), &origin.name),
            id.expose().as_bytes(),
        )?;
        let body = serde_json::to_value(&request)
            .map_err(|e| super::message::malformed(&e.to_string()))?;
        self.sent.insert(transfer.to_string(), request);
        self.asked
            .insert(transfer.to_string(), self.records.person_key(id));
        self.staged.push(Staged::Sent(transfer.to_string()));
        Ok(body)
    }
}

impl<S: Store> Book for LedgerBook<'_, S> {
    fn freeze(&mut self, request: &Envelope, from: &Peer) -> Result<serde_json::Value, Refusal> {
        let req: LiaisonRequest = body(request, Kind::LiaisonRequest)?;
        let id = package::open_identity(&self.key, request, &req.identity)?;
        let person = self.records.person_key(&id);
        if self.frozen.values().any(|p| *p == person) {
            return Err(Refusal::new(
                Why::OpenTransfer,
                "此人已有一笔进行中的转移：办结或退回前不能再申请",
                "a transfer of this person is already open: no second one before it ends",
            ));
        }
        if self.sealed.contains(&person) {
            return Err(Refusal::new(
                Why::NoSuchPerson,
                "此人的关系已从本地转出，本地不再有可转移的记录",
                "this person's relationship has already moved out: nothing is left here to move",
            ));
        }
        let pkg = package::build(&mut self.records, self.policy, from, request, &req, &id)?;
        self.frozen.insert(request.transfer.clone(), person);
        self.staged.push(Staged::Frozen(request.transfer.clone()));
        serde_json::to_value(&pkg).map_err(|e| super::message::malformed(&e.to_string()))
    }

    fn unfreeze(&mut self, transfer: &str) {
        if let Some(person) = self.frozen.remove(transfer) {
            self.staged
                .push(Staged::Unfrozen(transfer.to_string(), person));
        }
    }

    fn seal(&mut self, transfer: &str) {
        if let Some(person) = self.frozen.remove(transfer) {
            self.sealed.insert(person);
            self.staged
                .push(Staged::Sealed(transfer.to_string(), person));
        }
    }

    fn record(&mut self, envelope: &Envelope, from: &Peer) -> Result<serde_json::Value, Refusal> {
        let pkg: Package = body(envelope, Kind::Package)?;
        let Some(sent) = self.sent.get(&envelope.transfer) else {
            return Err(Refusal::new(
                Why::OutOfOrder,
                "本实例没有发出过这笔转移的联系函",
                "this instance sent no liaison request for this transfer",
            ));
        };
        let v = package::verify_package(self.policy, &self.key, from, envelope, pkg, Some(sent))?;
        let months: Vec<ReceivedMonth> = v
            .months
            .iter()
            .map(|m| ReceivedMonth {
                origin: from.name.clone(),
                entry: m.index,
                checkpoint_size: v.checkpoint.tree_size,
                region: m.region,
                month: m.month,
                insurance: m.insurance,
                base_fen: m.base_fen,
            })
            .collect();
        let count = months.len();
        let total = v.result.pension.total_fen.map(|f| f.0);
        let m = &v.result.medical;
        let medical = (m.account_fen.is_some()
            || m.gap_months.is_some()
            || months.iter().any(|x| x.insurance == Insurance::Medical))
        .then(|| MedicalReceived {
            account_fen: m.account_fen.map(|f| f.0),
            gap_months: m.gap_months,
            continuous: m.continuous,
            max_waiting_months: m.max_waiting_months,
        });
        self.received.insert(
            envelope.transfer.clone(),
            Received {
                person: self.records.person_key(&v.id),
                months,
                pension_total_fen: total,
                pooling_fen: v.result.pension.pooling_fen.0,
                personal_account_fen: v.result.pension.personal_account_fen.map(|f| f.0),
                claim_place: v.result.claim.place.code.to_string(),
                claim_rule: v.result.claim.rule,
                claim_why: (v.result.claim.why.zh.clone(), v.result.claim.why.en.clone()),
                holder: v.id.masked(),
                medical,
            },
        );
        self.staged
            .push(Staged::Received(envelope.transfer.clone()));
        Ok(json!({ "months": count, "checkpoint_size": v.checkpoint.tree_size }))
    }

    fn abort(&mut self) {
        while let Some(s) = self.staged.pop() {
            match s {
                Staged::Frozen(t) => {
                    self.frozen.remove(&t);
                }
                Staged::Unfrozen(t, p) => {
                    self.frozen.insert(t, p);
                }
                Staged::Sealed(t, p) => {
                    self.sealed.remove(&p);
                    self.frozen.insert(t, p);
                }
                Staged::Sent(t) => {
                    self.sent.remove(&t);
                    self.asked.remove(&t);
                }
                Staged::Received(t) => {
                    self.received.remove(&t);
                }
            }
        }
    }

    fn commit(&mut self, changes: &[Change]) -> Result<(), Refusal> {
        match self.write(changes) {
            Ok(()) => {
                self.staged.clear();
                Ok(())
            }
            Err(e) => {
                self.abort();
                Err(e)
            }
        }
    }

    fn load(&mut self) -> Result<Stored, Refusal> {
        self.frozen.clear();
        self.sealed.clear();
        self.sent.clear();
        self.asked.clear();
        self.received.clear();
        self.staged.clear();
        let rows = self.records.store().transfers_all().map_err(stored_error)?;
        let mine = format!("{}:", self.key.name());
        let mut stored = Stored::default();
        for r in rows {
            let role = Role::from_code(&r.role).ok_or_else(|| corrupt("role"))?;
            let state = State::from_code(&r.state).ok_or_else(|| corrupt("state"))?;
            let date = |d: &str| d.parse::<Date>().map_err(|_| corrupt("date"));
            let since = date(&r.since)?;
            let due = r.due.as_deref().map(date).transpose()?;
            let refusal: Option<(String, String, String)> = r
                .refusal
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|_| corrupt("refusal"))?;
            let seal = r.seal.as_deref().map(Signed::from_json).transpose()?;
            if let Some(n) = r.id.strip_prefix(&mine).and_then(|n| n.parse::<u64>().ok()) {
                stored.next = stored.next.max(n);
            }
            let person = r.person.map(PersonKey);
            match (role, state, person) {
                (Role::Origin, State::Frozen, Some(p)) => {
                    self.frozen.insert(r.id.clone(), p);
                }
                (Role::Origin, State::Sealed, Some(p)) => {
                    self.sealed.insert(p);
                }
                (Role::Destination, _, Some(p)) => {
                    self.asked.insert(r.id.clone(), p);
                }
                _ => {}
            }
            if let Some(req) = &r.request {
                let req: LiaisonRequest =
                    serde_json::from_str(req).map_err(|_| corrupt("liaison request"))?;
                self.sent.insert(r.id.clone(), req);
            }
            if let (Some(figures), Some(person)) = (&r.received, person) {
                let f: ReceivedFigures =
                    serde_json::from_str(figures).map_err(|_| corrupt("figures"))?;
                let months = self
                    .records
                    .store()
                    .transfer_months_of(&r.id)
                    .map_err(stored_error)?
                    .into_iter()
                    .map(|m| {
                        Ok(ReceivedMonth {
                            origin: m.origin,
                            entry: m.entry,
                            checkpoint_size: m.checkpoint_size,
                            region: RegionCode::parse(&format!("{:06}", m.region))
                                .map_err(|_| corrupt("region"))?,
                            month: YearMonth::from_index(m.month)
                                .ok_or_else(|| corrupt("month"))?,
                            insurance: Insurance::parse(&m.insurance)
                                .ok_or_else(|| corrupt("insurance"))?,
                            base_fen: m.base_fen,
                        })
                    })
                    .collect::<Result<Vec<_>, Refusal>>()?;
                self.received.insert(
                    r.id.clone(),
                    Received {
                        person,
                        months,
                        pension_total_fen: f.pension_total_fen,
                        pooling_fen: f.pooling_fen,
                        personal_account_fen: f.personal_account_fen,
                        claim_place: f.claim_place,
                        claim_rule: f.claim_rule,
                        claim_why: f.claim_why,
                        holder: f.holder,
                        medical: f.medical,
                    },
                );
            }
            stored.transfers.push(Transfer {
                id: r.id,
                role,
                peer: r.peer,
                state,
                since,
                due,
                package: r.package,
                refusal,
                seal,
            });
        }
        for o in self
            .records
            .store()
            .transfer_outbox()
            .map_err(stored_error)?
        {
            stored.outbox.push((
                o.key,
                Outgoing {
                    to: o.peer,
                    transfer: o.transfer,
                    signed: Signed::from_json(&o.message)?,
                    attempts: o.attempts,
                    next_try: o.next_try,
                },
            ));
        }
        Ok(stored)
    }

    fn stored_reply(
        &mut self,
        sender: &str,
        idem: &str,
    ) -> Result<Option<Option<Signed>>, Refusal> {
        match self
            .records
            .store()
            .transfer_reply(sender, idem)
            .map_err(stored_error)?
        {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(text)) => Ok(Some(Some(Signed::from_json(&text)?))),
        }
    }
}

impl<S: Store> LedgerBook<'_, S> {
    /// The rows and events of one step: the machine's changes and what this book staged.
    fn write(&mut self, changes: &[Change]) -> Result<(), Refusal> {
        let mut write = TransferWrite::default();
        let mut last: BTreeMap<&str, &Transfer> = BTreeMap::new();
        let mut outbox: BTreeMap<&str, Option<&Outgoing>> = BTreeMap::new();
        for c in changes {
            match c {
                Change::Transfer(t) => {
                    last.insert(&t.id, t);
                }
                Change::Put(k, o) => {
                    outbox.insert(k, Some(o));
                }
                Change::Take(k) => {
                    outbox.insert(k, None);
                }
                Change::Reply(k, r) => {
                    let (sender, idem) = k.split_once('\0').unwrap_or(("", k.as_str()));
                    write.replies.push((
                        sender.to_string(),
                        idem.to_string(),
                        r.as_ref().map(Signed::to_json),
                    ));
                }
                Change::Next(_) => {}
            }
        }
        for (k, o) in outbox {
            match o {
                Some(o) => write.outbox_put.push(OutboxRow {
                    key: k.to_string(),
                    peer: o.to.clone(),
                    transfer: o.transfer.clone(),
                    message: o.signed.to_json(),
                    attempts: o.attempts,
                    next_try: o.next_try,
                }),
                None => write.outbox_take.push(k.to_string()),
            }
        }
        let mut events = Vec::with_capacity(last.len());
        let mut told = Vec::new();
        for (id, t) in last {
            let person = self.staged_person(id);
            if let Some(p) = &person {
                let (zh, en) = self
                    .places
                    .get(&t.peer)
                    .map(|(zh, en)| (zh.as_str(), en.as_str()))
                    .unwrap_or((t.peer.as_str(), t.peer.as_str()));
                told.push(super::notify::message_of(t, p, (zh, en)));
            }
            let sent = self.staged_has(|s| matches!(s, Staged::Sent(x) if x == id));
            let got = self.staged_has(|s| matches!(s, Staged::Received(x) if x == id));
            let request = match (sent, self.sent.get(id)) {
                (true, Some(req)) => Some(serde_json::to_string(req).map_err(stored_error)?),
                _ => None,
            };
            let mut months = None;
            let mut received = None;
            if let (true, Some(r)) = (got, self.received.get(id)) {
                months = Some(u32::try_from(r.months.len()).unwrap_or(u32::MAX));
                received = Some(
                    serde_json::to_string(&ReceivedFigures {
                        pension_total_fen: r.pension_total_fen,
                        pooling_fen: r.pooling_fen,
                        personal_account_fen: r.personal_account_fen,
                        claim_place: r.claim_place.clone(),
                        claim_rule: r.claim_rule,
                        claim_why: r.claim_why.clone(),
                        holder: r.holder.clone(),
                        medical: r.medical.clone(),
                    })
                    .map_err(stored_error)?,
                );
                for (n, m) in r.months.iter().enumerate() {
                    write.months.push(TransferMonthRow {
                        transfer: id.to_string(),
                        n: u32::try_from(n).unwrap_or(u32::MAX),
                        origin: m.origin.clone(),
                        entry: m.entry,
                        checkpoint_size: m.checkpoint_size,
                        region: m.region.code(),
                        month: m.month.index(),
                        insurance: m.insurance.as_str().to_string(),
                        base_fen: m.base_fen,
                        person: r.person.0,
                    });
                }
            }
            let refusal = t
                .refusal
                .as_ref()
                .map(serde_json::to_string)
                .transpose()
                .map_err(stored_error)?;
            events.push(anxin_records::event::TransferEvent {
                // Instance names may hold `/`, which a log key may not.
                key: format!("transfer:{}:{}", id.replace('/', "_"), t.state.code()),
                transfer: id.to_string(),
                role: t.role.code().to_string(),
                peer: t.peer.clone(),
                state: t.state.code().to_string(),
                person: person.map(|p| p.hex()),
                since: t.since.to_string(),
                due: t.due.map(|d| d.to_string()),
                package: t.package.clone(),
                refusal: t.refusal.as_ref().map(|r| r.0.clone()),
                months,
            });
            write.transfers.push(TransferRow {
                id: id.to_string(),
                role: t.role.code().to_string(),
                peer: t.peer.clone(),
                state: t.state.code().to_string(),
                since: t.since.to_string(),
                due: t.due.map(|d| d.to_string()),
                package: t.package.clone(),
                refusal,
                seal: t.seal.as_ref().map(Signed::to_json),
                person: person.map(|p| p.0),
                request,
                received,
            });
        }
        self.records
            .commit_transfer(events, write)
            .map(drop)
            .map_err(stored_error)?;
        // The worker is told of each step once it is committed (keyed by the transfer and the
        // state, so a step committed again tells nobody twice). A message that fails to store
        // does not undo the step: the page shows the step all the same.
        if !told.is_empty() {
            let _ = self.records.store().inbox_add(&told, self.now);
        }
        Ok(())
    }
}
