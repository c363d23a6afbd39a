//! Events: every change to the records is one of these, appended to the Merkle log.
//!
//! The canonical bytes of an event are its compact JSON with fields in declaration order
//! (serde_json keeps struct order). Those bytes are the log leaf, so changing a field's name,
//! order or encoding changes every hash: add new event kinds, never edit old ones.
//!
//! Events carry no clear personal data: a person is their keyed hash; their ID and name travel
//! only sealed (see [`crate::keys`]).

use anxin_domain::{RegionCode, YearMonth};
use anxin_import::{EmploymentForm, GapReason, Insurance, OrgKind, Payer, Relation, Status};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::PersonKey;

/// Longest idempotency key accepted (TigerStyle: a limit on everything).
pub const MAX_KEY_BYTES: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    PersonRegistered(PersonEvent),
    OrgRegistered(OrgEvent),
    ChildRegistered(ChildEvent),
    ContributionRecorded(ContributionEvent),
    CertificateIssued(CertificateEvent),
    AccessLogged(AccessEvent),
    CaseStep(CaseEvent),
    CaseEvidence(EvidenceEvent),
    TransferStep(TransferEvent),
    AlertStep(AlertEvent),
}

/// A person enters the registry, or their registry entry changes (latest event wins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonEvent {
    pub key: String,
    /// Keyed hash of the resident ID, lowercase hex.
    pub person: String,
    /// Sealed `{"id": …, "name": …}`, standard base64.
    pub sealed: String,
    pub hukou_region: Option<RegionCode>,
    pub residence_region: RegionCode,
    pub employment_form: EmploymentForm,
    /// Credit codes of the platforms the person works through.
    pub platforms: Vec<String>,
    pub permit_region: Option<RegionCode>,
    pub permit_since: Option<String>,
    pub household: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgEvent {
    pub key: String,
    pub credit_code: String,
    pub name: String,
    pub org_kind: OrgKind,
    pub region: RegionCode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildEvent {
    pub key: String,
    pub child: String,
    pub sealed: String,
    pub guardian: String,
    pub relation: Relation,
    pub school_region: Option<RegionCode>,
}

/// One month of one insurance type in one region paid (or owed, deferred, excused) by one payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContributionEvent {
    /// The caller's record id: the idempotency key.
    pub key: String,
    pub person: String,
    pub month: YearMonth,
    pub insurance: Insurance,
    pub region: RegionCode,
    pub payer: Payer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_code: Option<String>,
    pub base_fen: i64,
    pub amount_fen: i64,
    /// The part of `amount_fen` credited to the personal account; the rest goes to pooling.
    pub account_fen: i64,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<GapReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_on: Option<String>,
}

/// A certificate was issued; the log holds its hash, the holder holds the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateEvent {
    pub key: String,
    pub person: String,
    pub cert_type: String,
    /// SHA-256 of the certificate document's bytes, lowercase hex.
    pub document_sha256: String,
    /// The month the document speaks for (a school review's application month), when it
    /// has one; absent from the bytes otherwise, so older events keep their hashes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<YearMonth>,
}

/// An official read a person's data: the access log row it chains into the log, by its keyed
/// hash (HMAC-SHA-256 under the data key of the row's canonical bytes), never the person or the
/// purpose itself. The audit recomputes it from the row and names a row removed or altered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessEvent {
    pub key: String,
    /// Lowercase hex of the row's keyed hash (see [`crate::access::row_hash`]).
    pub row_hash: String,
}

/// One step of a case (issue 15): filed, a transition taken by a party, or an escalation by
/// the clock. The case kind's rules (states, transitions, clocks) are policy data
/// (`policy/cases/`); the event records what was decided, including the deadline then
/// computed, so the projection (`case_steps`, view `cases`) is rebuilt from events alone.
/// No personal data: the worker is their keyed hash, the party a platform's name or code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseEvent {
    /// `case:{case}:{step}`: a step is taken once, whoever tries it twice.
    pub key: String,
    pub case: String,
    /// 0 for the filing, then 1, 2, … without holes.
    pub step: u32,
    pub case_kind: String,
    /// The transition's name, `file`, or `escalate`.
    pub action: String,
    /// The state after the step.
    pub state: String,
    /// The worker the case is for (keyed hash, lowercase hex).
    pub person: String,
    /// The case's region (where the worker filed it).
    pub region: RegionCode,
    /// Who holds the case after the step: a role and the region whose office it is.
    pub holder_role: String,
    pub holder_region: RegionCode,
    /// Escalations so far in this state (0: none).
    pub level: u32,
    /// `account:{id}` or `clock`.
    pub actor: String,
    /// Unix seconds of the step.
    pub at: i64,
    /// Unix seconds since when the clocks of `state` run.
    pub since: i64,
    /// The next deadline of `state` (unix seconds) and its clock's name, if one runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
    /// What a filing asks beyond its subject, as the kind's request reads it (compact JSON: a
    /// back-payment's months and their figures as quoted when filed). Only on step 0; absent
    /// from the bytes otherwise, so older events keep their hashes. Not projected: the engine
    /// reads it from the filing's event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A file of evidence attached to a case (issue 15): the log holds its SHA-256, its checked
/// type and its size, never its content or its name (both sealed with the data key in
/// `case_evidence`, migration 13), so the evidence bundle can prove the file was on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceEvent {
    /// `evidence:{case}:{n}`: a file is attached once.
    pub key: String,
    pub case: String,
    /// 1, 2, … within the case.
    pub n: u32,
    /// The worker the case is for (keyed hash, lowercase hex).
    pub person: String,
    /// The type its content was found to be (`image/jpeg`, `image/png`, `application/pdf`,
    /// `text/plain`).
    pub media_type: String,
    pub size: u64,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// `account:{id}`.
    pub actor: String,
    /// Unix seconds.
    pub at: i64,
}

/// A transfer between regional instances reached a state (issue 14): the liaison request
/// sent, the account frozen and the package sent, the months recorded, the account sealed,
/// the seal received, or the transfer refused. The messages themselves and the months stay in
/// the transfer tables (migration 15); the log holds each state once, so a transfer cannot be
/// sealed, recorded or refused twice without it showing. No personal data: the person is this
/// instance's keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferEvent {
    /// `transfer:{transfer}:{state}`: a state is reached once.
    pub key: String,
    pub transfer: String,
    /// `origin` or `destination`.
    pub role: String,
    /// The other instance.
    pub peer: String,
    pub state: String,
    /// The worker (keyed hash, lowercase hex), once this instance knows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The day the state began and its deadline in working days, `YYYY-MM-DD`.
    pub since: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    /// The package's digest (SHA-256 of the signed package, lowercase hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// Why it was refused (the refusal's code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Destination: how many months were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
}

/// One step a grid worker (网格员) takes on an alert of the monitor's monthly run (issue 16):
/// acknowledged, a contact recorded, closed with an outcome. The alert itself is the run's
/// output (`DATA/monitor/runs/YYYY-MM/alerts.csv`); the event names it by month and the
/// monitor's pseudonym (16 hex digits of the keyed hash), never by a resident ID, and carries
/// what the projection (`alert_steps`, migration 16) keeps, so the audit rebuilds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertEvent {
    /// `alert:{alert}:{step}`: a step is taken once, whoever tries it twice.
    pub key: String,
    /// `{YYYY-MM}-{pseudonym}`: the run's month and the worker's monitor pseudonym.
    pub alert: String,
    /// 1, 2, … without holes (the run raised the alert: step 0 is not an event).
    pub step: u32,
    pub month: YearMonth,
    /// The grid cell (or district) of the alert.
    pub area: String,
    /// The run's alert kind (`uninsured`, `stopped`, `missed`, `income_drop`).
    pub alert_kind: String,
    /// The monitor's pseudonym of the worker (16 lowercase hex digits).
    pub person: String,
    /// `acknowledge`, `contact` or `close`.
    pub action: String,
    /// The state after the step: `acknowledged`, `contacted` or `closed`.
    pub state: String,
    /// `account:{id}`.
    pub actor: String,
    /// Unix seconds of the step.
    pub at: i64,
    /// A contact: how (`visit`, `phone`, `message`, `other`), when (unix seconds) and what
    /// came of it (free text, checked to carry no ID number or phone number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A closing: its outcome, one of a fixed list (`anxin_service::monitor::Outcome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

impl Event {
    pub fn key(&self) -> &str {
        match self {
            Event::PersonRegistered(e) => &e.key,
            Event::OrgRegistered(e) => &e.key,
            Event::ChildRegistered(e) => &e.key,
            Event::ContributionRecorded(e) => &e.key,
            Event::CertificateIssued(e) => &e.key,
            Event::AccessLogged(e) => &e.key,
            Event::CaseStep(e) => &e.key,
            Event::CaseEvidence(e) => &e.key,
            Event::TransferStep(e) => &e.key,
            Event::AlertStep(e) => &e.key,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Event::PersonRegistered(_) => "person_registered",
            Event::OrgRegistered(_) => "org_registered",
            Event::ChildRegistered(_) => "child_registered",
            Event::ContributionRecorded(_) => "contribution_recorded",
            Event::CertificateIssued(_) => "certificate_issued",
            Event::AccessLogged(_) => "access_logged",
            Event::CaseStep(_) => "case_step",
            Event::CaseEvidence(_) => "case_evidence",
            Event::TransferStep(_) => "transfer_step",
            Event::AlertStep(_) => "alert_step",
        }
    }

    /// The canonical bytes: what the log hashes and the store keeps.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Room for a contribution's bytes (about 300) at once, not grown from serde_json's 128.
        let mut out = Vec::with_capacity(384);
        serde_json::to_writer(&mut out, self)
            .expect("events serialize: plain structs of strings and integers");
        out
    }

    /// Parses stored bytes and insists they are canonical (re-encoding gives the same bytes),
    /// so two different byte strings never stand for the same event.
    pub fn from_bytes(bytes: &[u8]) -> Result<Event> {
        let event: Event = serde_json::from_slice(bytes)
            .map_err(|e| Error::Corrupt(format!("event does not parse: {e}")))?;
        if event.to_bytes() != bytes {
            return Err(Error::Corrupt(
                "event bytes are not in canonical form".into(),
            ));
        }
        Ok(event)
    }
}

/// One leg of a double entry. All legs of one event sum to zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub leg: u32,
    pub account: String,
    pub amount_fen: i64,
}

/// Account names. A person's accounts use their keyed hash, never their ID.
pub mod account {
    use super::*;

    pub fn worker(person: &str) -> String {
        format!("worker:{person}")
    }
    pub fn org(code: &str) -> String {
        format!("org:{code}")
    }
    pub fn fund(payer: Payer, region: RegionCode) -> String {
        format!("fund:{}:{region}", payer.as_str())
    }
    pub fn pool(insurance: Insurance, region: RegionCode) -> String {
        format!("pool:{}:{region}", insurance.as_str())
    }
    pub fn personal(insurance: Insurance, person: &str) -> String {
        format!("personal:{}:{person}", insurance.as_str())
    }
}

impl ContributionEvent {
    /// Whether money moved for this month (paid on time or back-paid).
    pub fn is_paid(&self) -> bool {
        matches!(self.status, Status::Paid | Status::Backpaid)
    }

    /// The double entries of this record: payer → pooling fund and personal account; a
    /// subsidy or voucher first flows from its fund to the worker, who then pays.
    /// Months where nothing was paid post nothing.
    pub fn postings(&self) -> Vec<Posting> {
        let mut legs: Vec<(String, i64)> = Vec::with_capacity(5);
        if !self.is_paid() || self.amount_fen == 0 {
            return Vec::new();
        }
        let worker = account::worker(&self.person);
        match self.payer {
            Payer::Individual => legs.push((worker, -self.amount_fen)),
            Payer::Platform | Payer::Employer => legs.push((
                account::org(self.payer_code.as_deref().unwrap_or("")),
                -self.amount_fen,
            )),
            Payer::Subsidy | Payer::Voucher => {
                legs.push((account::fund(self.payer, self.region), -self.amount_fen));
                legs.push((worker.clone(), self.amount_fen));
                legs.push((worker, -self.amount_fen));
            }
        }
        let pooled = self.amount_fen - self.account_fen;
        if pooled != 0 {
            legs.push((account::pool(self.insurance, self.region), pooled));
        }
        if self.account_fen != 0 {
            legs.push((
                account::personal(self.insurance, &self.person),
                self.account_fen,
            ));
        }
        legs.into_iter()
            .enumerate()
            .map(|(i, (account, amount_fen))| Posting {
                leg: i as u32,
                account,
                amount_fen,
            })
            .collect()
    }
}

/// Checks an idempotency key: 1–128 bytes of `[A-Za-z0-9._:-]`.
pub fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= MAX_KEY_BYTES
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::refused(
            format!("记录号不合规：须为 1–{MAX_KEY_BYTES} 个字母、数字或 . _ : -"),
            format!("record id is malformed: use 1–{MAX_KEY_BYTES} letters, digits or . _ : -"),
        ))
    }
}

pub fn person_hex(key: &PersonKey) -> String {
    key.hex()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The access event is a new kind with its own canonical bytes; no older kind changed.
    #[test]
    fn access_logged_bytes_are_canonical() {
        let event = Event::AccessLogged(AccessEvent {
            key: "access:00ff".into(),
            row_hash: "ab".repeat(32),
        });
        let bytes = event.to_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            format!(
                "{{\"kind\":\"access_logged\",\"key\":\"access:00ff\",\"row_hash\":\"{}\"}}",
                "ab".repeat(32)
            )
        );
        assert_eq!(Event::from_bytes(&bytes).unwrap(), event);
        assert_eq!(event.kind(), "access_logged");
        assert!(
            Event::from_bytes(
                b"{\"kind\":\"access_logged\",\"key\":\"a\",\"row_hash\":\"b\",\"purpose\":\"x\"}"
            )
            .is_err()
        );
    }

    fn payer() -> impl Strategy<Value = Payer> {
        prop::sample::select(Payer::ALL.to_vec())
    }
    fn status() -> impl Strategy<Value = Status> {
        prop::sample::select(Status::ALL.to_vec())
    }

    proptest! {
        /// Every contribution's double entries sum to zero, only paid months post anything,
        /// and the funds receive exactly what was paid.
        #[test]
        fn postings_balance(amount in 0i64..10_000_000, share in 0i64..=100, payer in payer(), status in status(),
                            insurance in prop::sample::select(Insurance::ALL.to_vec())) {
            let account = amount * share / 100;
            let event = ContributionEvent {
                key: "k".into(),
                person: "ab".repeat(32),
                month: YearMonth::parse("2025-01").unwrap(),
                insurance,
                region: RegionCode::parse("330100").unwrap(),
                payer,
                payer_code: matches!(payer, Payer::Platform | Payer::Employer).then(|| "91350100M000100Y43".to_string()),
                base_fen: 481_200,
                amount_fen: amount,
                account_fen: account,
                status,
                reason: None,
                paid_on: None,
            };
            let legs = event.postings();
            prop_assert_eq!(legs.iter().map(|l| l.amount_fen).sum::<i64>(), 0);
            if !event.is_paid() || amount == 0 {
                prop_assert!(legs.is_empty());
            } else {
                let funds: i64 = legs.iter().filter(|l| l.account.starts_with("pool:") || l.account.starts_with("personal:")).map(|l| l.amount_fen).sum();
                prop_assert_eq!(funds, amount);
                let legs_numbered: Vec<u32> = legs.iter().map(|l| l.leg).collect();
                prop_assert_eq!(legs_numbered, (0..legs.len() as u32).collect::<Vec<_>>());
            }
        }
    }
}
