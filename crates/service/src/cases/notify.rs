//! Every party's inbox at every step of a case (issue 15): the worker's — filed, accepted, a
//! deadline extended, escalated by the clock, closed with its outcome (and any other step) —
//! and each official's and platform's: every account of the office holding the case (the
//! handler, or the supervisor it was escalated to) whose region covers it, of the viewer roles
//! of the case's region (the union), of the office that filed it (a union's agreement) and of
//! the platform an agreement names. Texts from `templates/inbox.toml`. A message is not a
//! ledger event: its key is the step's (`case:{id}:{step}`, and `…:a{account}` for an
//! account's), stored once; [`catch_up`] (run by every tick) stores any a failure after a
//! step's commit left out.

use std::collections::BTreeMap;

use anxin_records::NO_PERSON;
use anxin_records::access::{AccountRow, Role};
use anxin_records::inbox::NewMessage;
use anxin_records::store::CaseStepRow;
use anxin_records::{Records, Store};

use super::{CaseKind, Engine, Result};

/// The inbox kinds of case steps and the placeholders each is given.
pub const KINDS: [(&str, &[&str]); 7] = [
    ("case_filed", PLACEHOLDERS),
    ("case_accepted", PLACEHOLDERS),
    ("case_extended", PLACEHOLDERS),
    ("case_escalated", PLACEHOLDERS),
    ("case_closed", PLACEHOLDERS),
    ("case_step", PLACEHOLDERS),
    ("case_party", PLACEHOLDERS),
];

const PLACEHOLDERS: &[&str] = &[
    "case",
    "step_zh",
    "step_en",
    "state_zh",
    "state_en",
    "due",
    "outcome_zh",
    "outcome_en",
    "holder",
    "noun_zh",
    "noun_en",
    "office_zh",
    "office_en",
];

/// The message a step gives its worker.
pub fn message_of(kind: &CaseKind, row: &CaseStepRow) -> NewMessage {
    let terminal = kind.state(&row.state).is_some_and(|s| s.terminal);
    let inbox_kind = match row.action.as_str() {
        "file" => "case_filed",
        "escalate" => "case_escalated",
        "accept" => "case_accepted",
        a if a.starts_with("extend") => "case_extended",
        _ if terminal && row.outcome.is_some() => "case_closed",
        _ => "case_step",
    };
    let (step_zh, step_en) = match row.action.as_str() {
        "file" => (
            format!("提交{}", kind.noun_zh),
            format!("{} filed", kind.noun_en),
        ),
        "escalate" => kind
            .escalation(row.level)
            .map(|e| (e.zh.clone(), e.en.clone()))
            .unwrap_or_default(),
        a => kind
            .transition(a)
            .map(|t| (t.zh.clone(), t.en.clone()))
            .unwrap_or_default(),
    };
    let state = kind.state(&row.state);
    let mut params: BTreeMap<&str, String> = BTreeMap::from([
        ("case", row.case_id.clone()),
        ("step_zh", step_zh),
        ("step_en", step_en),
        ("state_zh", state.map(|s| s.zh.clone()).unwrap_or_default()),
        ("state_en", state.map(|s| s.en.clone()).unwrap_or_default()),
        ("holder", format!("{:06}", row.holder_region)),
        ("noun_zh", kind.noun_zh.clone()),
        ("noun_en", kind.noun_en.clone()),
        ("office_zh", kind.office_zh.clone()),
        ("office_en", kind.office_en.clone()),
    ]);
    if let Some(due) = row.due {
        params.insert("due", super::ts(due));
    }
    if let Some(o) = &row.outcome {
        let (zh, en) = kind.outcome(o);
        params.insert("outcome_zh", zh);
        params.insert("outcome_en", en);
    }
    let month = jiff::Timestamp::from_second(row.at)
        .map(|t| {
            t.to_zoned(anxin_domain::china())
                .strftime("%Y-%m")
                .to_string()
        })
        .unwrap_or_default();
    NewMessage {
        key: format!("case:{}:{}", row.case_id, row.step),
        person: row.person,
        kind: inbox_kind.to_string(),
        month,
        params: serde_json::to_string(&params).unwrap_or_else(|_| "{}".into()),
    }
}

/// Whether the account is a party the step tells: the office holding the case, a viewer of
/// its region, the office that filed it, the platform an agreement names.
fn is_party(kind: &CaseKind, row: &CaseStepRow, account: &AccountRow) -> bool {
    let Ok(role) = Role::parse(&account.role) else {
        return false;
    };
    let holder = account.role == row.holder_role && account.covers(row.holder_region);
    let viewer = kind.viewers.contains(&role) && account.covers(row.region);
    let filer = role != Role::Worker
        && role == kind.filer
        && account.region.is_some()
        && account.covers(row.region);
    let counterparty = role == Role::Platform
        && kind.request == super::rules::Request::Agreement
        && account.org.is_some()
        && account.org.as_deref().map(str::trim) == row.party.as_deref();
    holder || viewer || filer || counterparty
}

/// The messages a step gives: its worker's (when the case is about one) and each party
/// account's, in the account's own inbox ([`crate::access::account_inbox`]).
pub fn messages_of(kind: &CaseKind, row: &CaseStepRow, accounts: &[AccountRow]) -> Vec<NewMessage> {
    let worker = message_of(kind, row);
    let mut out = Vec::new();
    for a in accounts.iter().filter(|a| is_party(kind, row, a)) {
        let mut m = worker.clone();
        m.key = format!("{}:a{}", worker.key, a.id);
        m.person = crate::access::account_inbox(a.id).0;
        m.kind = "case_party".into();
        out.push(m);
    }
    if row.person != NO_PERSON {
        out.push(worker);
    }
    out
}

/// Stores the messages of the step just taken (their keys make a second call a no-op).
pub fn step_taken<S: Store>(
    records: &mut Records<S>,
    kind: &CaseKind,
    row: &CaseStepRow,
    now: i64,
) -> Result<()> {
    let accounts = records.store().accounts_all()?;
    records
        .store()
        .inbox_add(&messages_of(kind, row, &accounts), now)?;
    Ok(())
}

/// Stores every step's message not stored yet (each key once): what a failure after a step's
/// commit may have left out. Returns how many were new.
pub fn catch_up<S: Store>(records: &mut Records<S>, engine: &Engine<'_>, now: i64) -> Result<u64> {
    let steps = records.store().case_steps_all()?;
    let accounts = records.store().accounts_all()?;
    let messages: Vec<NewMessage> = steps
        .iter()
        .filter_map(|s| {
            engine
                .kinds
                .get(&s.case_kind)
                .map(|k| messages_of(k, s, &accounts))
        })
        .flatten()
        .collect();
    let mut added = 0;
    for chunk in messages.chunks(500) {
        added += records.store().inbox_add(chunk, now)?;
    }
    Ok(added)
}
