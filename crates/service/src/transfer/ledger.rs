//! The [`Book`] of a real instance: its ledger ([`Records`]), its policy and its key. At the
//! origin it opens the sealed ID, keys the person with its own data key, checks the
//! preconditions and builds the package ([`package::build`]); at the destination it verifies
//! the package offline ([`package::verify_package`]) against the liaison request it sent and
//! keeps the transferred months with their provenance (origin, log entry, checkpoint).
//!
//! What is kept here is in memory for now: the frozen and sealed accounts at the origin and
//! the received months at the destination. Their tables and `transfer_*` log events
//! (migration 0013, both backends) are the next slice; the protocol and its checks do not
//! change with them.

use std::collections::{BTreeMap, BTreeSet};

use anxin_domain::{Insurance, RegionCode, YearMonth};
use anxin_policy::Policy;
use anxin_records::keys::PersonKey;
use anxin_records::{Records, Store};
use serde_json::json;

use super::keys::{InstanceKey, Peer};
use super::machine::Book;
use super::message::{Envelope, Kind, body};
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
    /// The holder as a voucher shows them: the ID masked.
    pub holder: String,
}

pub struct LedgerBook<'p, S: Store> {
    pub records: Records<S>,
    pub policy: &'p Policy,
    pub key: InstanceKey,
    /// Origin: the person of each frozen transfer, and the persons whose account moved out.
    pub frozen: BTreeMap<String, PersonKey>,
    pub sealed: BTreeSet<PersonKey>,
    /// Destination: the liaison request sent for each transfer, and what was recorded.
    pub sent: BTreeMap<String, LiaisonRequest>,
    pub received: BTreeMap<String, Received>,
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
            received: BTreeMap::new(),
        }
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
        serde_json::to_value(&pkg).map_err(|e| super::message::malformed(&e.to_string()))
    }

    fn unfreeze(&mut self, transfer: &str) {
        self.frozen.remove(transfer);
    }

    fn seal(&mut self, transfer: &str) {
        if let Some(person) = self.frozen.remove(transfer) {
            self.sealed.insert(person);
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
        self.received.insert(
            envelope.transfer.clone(),
            Received {
                person: self.records.person_key(&v.id),
                months,
                pension_total_fen: total,
                pooling_fen: v.result.pension.pooling_fen.0,
                personal_account_fen: v.result.pension.personal_account_fen.map(|f| f.0),
                claim_place: v.result.claim.place.code.to_string(),
                holder: v.id.masked(),
            },
        );
        Ok(json!({ "months": count, "checkpoint_size": v.checkpoint.tree_size }))
    }
}
