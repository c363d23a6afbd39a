//! The case engine (issue 15): a case is a typed workflow whose kind is data
//! (`policy/cases/*.toml`, [`rules`]). Every step — filing, a transition taken by a party,
//! an escalation by the clock — is checked by [`crate::access`] and appended to the
//! tamper-evident log as a `case_step` event carrying the deadline then computed; the store
//! projects it into `case_steps` (the `cases` view is each case's latest step), so a case
//! survives a restart and the audit rebuilds it from the events.
//!
//! Clocks: each kind's deadlines are parameters (`policy/params`, dated and sourced; reforms
//! overlay them), counted in working days by the official calendar, calendar days or hours
//! from when the case entered the state. [`tick`] escalates every overdue case, once per
//! missed clock, to the office the kind's escalation names (the region above): ticking twice
//! escalates once.

pub mod agreement;
pub mod effects;
pub mod evidence;
pub mod notify;
pub mod rules;

use anxin_domain::{Clock, RegionCode, china};
use anxin_policy::{Key, Policy};
use anxin_records::event::CaseEvent;
use anxin_records::store::CaseStepRow;
use anxin_records::{Error, PersonKey, Records, Store};
use jiff::Timestamp;
use serde::Serialize;
use sha2::Digest as _;

use crate::access::{self, Actor, CaseFacts, Denied};
pub use rules::{CaseKind, Kinds};

/// What the engine needs besides the store: the policy (parameters, calendar), the kinds,
/// and the reforms the deployment runs (e.g. `complaint-72h-response`).
pub struct Engine<'a> {
    pub policy: &'a Policy,
    pub kinds: &'a Kinds,
    pub reforms: &'a [String],
}

/// A refusal by the rules or the permissions, or a failure below.
pub use crate::ServiceError as CaseError;

type Result<T> = std::result::Result<T, CaseError>;

fn bad(zh: impl Into<String>, en: impl Into<String>) -> CaseError {
    CaseError::Records(Error::refused(zh, en))
}

/// What a worker files.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRequest {
    pub kind: String,
    /// One of the kind's subjects (unpaid wages, …; the cover asked for, …).
    pub subject: String,
    /// The party complained about: a platform's credit code or name (kinds whose request
    /// is "party"; empty otherwise).
    #[serde(default)]
    pub party: String,
    /// The missed months to pay, as `2025-07` (kinds whose request is "months").
    #[serde(default)]
    pub months: Vec<String>,
    /// An agreement's terms (kinds whose request is "agreement"; the party is the platform's
    /// credit code).
    #[serde(default)]
    pub terms: Option<agreement::Terms>,
}

/// A step as shown.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    pub step: u32,
    pub action: String,
    pub action_zh: String,
    pub action_en: String,
    pub state: String,
    pub holder_role: String,
    pub holder_region: String,
    pub at: String,
    pub due: Option<String>,
    /// The deadline the step set, as a day a worker reads ("2026年12月26日（周六）").
    pub due_zh: Option<String>,
    pub due_en: Option<String>,
    pub clock: Option<String>,
    pub outcome: Option<String>,
    /// What the step decided besides the state, as its event keeps it (the back-payment
    /// quoted at filing, the first quote of an enrolment approved).
    pub detail: Option<serde_json::Value>,
}

/// A clock of the current state.
#[derive(Debug, Clone, Serialize)]
pub struct ClockView {
    pub name: String,
    pub zh: String,
    pub en: String,
    /// When it ends; `None` when the official calendar does not record the year yet (then
    /// `note` says so: working days are never guessed from weekdays).
    pub due: Option<String>,
    /// The end as a worker reads it, with what is left: "2026年12月26日（周六）截止，还剩
    /// 3 个工作日" (see [`due_words`]).
    pub due_zh: Option<String>,
    pub due_en: Option<String>,
    pub overdue: bool,
    pub note: Option<String>,
    /// Each parameter: key, value, region, date in force, source, reform.
    pub params: Vec<ParamView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ParamView {
    pub key: String,
    pub value: i64,
    pub region: String,
    pub from: String,
    pub source: String,
    pub reform: Option<String>,
}

/// A case as its parties see it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: String,
    pub kind: String,
    pub kind_zh: String,
    pub kind_en: String,
    pub state: String,
    pub state_zh: String,
    pub state_en: String,
    pub region: String,
    pub holder_role: String,
    pub holder_region: String,
    pub level: u32,
    pub subject: Option<String>,
    pub party: Option<String>,
    pub outcome: Option<String>,
    pub clocks: Vec<ClockView>,
    /// The steps the kind allows from this state (who may take them is checked when taken).
    pub next: Vec<String>,
    pub steps: Vec<StepView>,
}

fn ts(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| {
            t.to_zoned(china())
                .strftime("%Y-%m-%d %H:%M %:z")
                .to_string()
        })
        .unwrap_or_default()
}

const WEEKDAYS: [(&str, &str); 7] = [
    ("周一", "Mon"),
    ("周二", "Tue"),
    ("周三", "Wed"),
    ("周四", "Thu"),
    ("周五", "Fri"),
    ("周六", "Sat"),
    ("周日", "Sun"),
];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A day as a worker reads it: "2026年12月26日（周六）", "Sat 26 Dec 2026".
pub fn day_words(d: jiff::civil::Date) -> (String, String) {
    let (wzh, wen) = WEEKDAYS[(d.weekday().to_monday_one_offset() - 1) as usize];
    (
        format!("{}年{}月{}日（{wzh}）", d.year(), d.month(), d.day()),
        format!(
            "{wen} {} {} {}",
            d.day(),
            MONTHS_EN[(d.month() - 1) as usize],
            d.year()
        ),
    )
}

/// A deadline (`due`, the instant it ends) as a worker reads it at `now`: the last day with
/// its weekday (and the hour, for a clock counted in hours), then what is left — working days
/// by the official calendar for a working-day clock, calendar days (or hours) otherwise — or
/// how long it is overdue.
pub fn due_words(
    policy: &Policy,
    due: i64,
    now: i64,
    unit: Option<rules::Unit>,
) -> (String, String) {
    let hours = unit == Some(rules::Unit::Hours);
    let (zh, en, last) = end_words(due, hours);
    let today = Timestamp::from_second(now)
        .map(|t| t.to_zoned(china()).date())
        .unwrap_or_default();
    let left = if due <= now {
        let days = (today - last).get_days().max(0);
        if days == 0 {
            ("已逾期".to_string(), "overdue".to_string())
        } else {
            (
                format!("已逾期 {days} 天"),
                format!("overdue by {days} day(s)"),
            )
        }
    } else if hours {
        let h = (due - now + 3599) / 3600;
        (
            format!("还剩约 {h} 小时"),
            format!("about {h} hour(s) left"),
        )
    } else if last == today {
        ("就是今天".to_string(), "that is today".to_string())
    } else if unit == Some(rules::Unit::WorkingDays) {
        match policy.calendar.working_days_between(today, last) {
            Ok(n) => (
                format!("还剩 {n} 个工作日"),
                format!("{n} working day(s) left"),
            ),
            Err(_) => {
                let n = (last - today).get_days();
                (format!("还剩 {n} 天"), format!("{n} day(s) left"))
            }
        }
    } else {
        let n = (last - today).get_days();
        (format!("还剩 {n} 天"), format!("{n} day(s) left"))
    };
    (
        format!("{zh}截止，{}", left.0),
        format!("by {en}, {}", left.1),
    )
}

/// The last day of a clock that ends at `due` — a day-clock at the midnight after it — in
/// words (with the hour for a clock in hours), and the day.
fn end_words(due: i64, hours: bool) -> (String, String, jiff::civil::Date) {
    let end = Timestamp::from_second(if hours { due } else { due - 1 })
        .map(|t| t.to_zoned(china()))
        .unwrap_or_else(|_| Timestamp::UNIX_EPOCH.to_zoned(china()));
    let (mut zh, mut en) = day_words(end.date());
    if hours {
        let hm = end.strftime("%H:%M").to_string();
        zh.push_str(&format!(" {hm}"));
        en.push_str(&format!(" {hm}"));
    }
    (zh, en, end.date())
}

/// [`end_words`] of a step's clock (by its name in the kind's rules).
fn last_day_words(kind: &CaseKind, clock: Option<&str>, due: i64) -> (String, String) {
    let hours = clock
        .and_then(|c| kind.deadlines.iter().find(|d| d.name == c))
        .is_some_and(|d| d.unit == rules::Unit::Hours);
    let (zh, en, _) = end_words(due, hours);
    (zh, en)
}

/// [`due_words`] for a case's current clock (by its name in the kind's rules).
pub fn clock_words(
    policy: &Policy,
    kind: &CaseKind,
    clock: Option<&str>,
    due: i64,
    now: i64,
) -> (String, String) {
    let unit = clock.and_then(|c| kind.deadlines.iter().find(|d| d.name == c).map(|d| d.unit));
    due_words(policy, due, now, unit)
}

fn region(code: u32) -> Result<RegionCode> {
    RegionCode::parse(&format!("{code:06}"))
        .map_err(|_| CaseError::Records(Error::Corrupt(format!("region {code} is not a code"))))
}

impl<'a> Engine<'a> {
    fn kind(&self, name: &str) -> Result<&'a CaseKind> {
        self.kinds.get(name).ok_or_else(|| {
            let known: Vec<&str> = self.kinds.0.iter().map(|k| k.name.as_str()).collect();
            bad(
                format!("没有“{name}”这类案件（可用：{}）", known.join("、")),
                format!(
                    "there is no case kind {name:?} (known: {})",
                    known.join(", ")
                ),
            )
        })
    }

    /// The policy region a case's region resolves in: itself or the nearest region above it
    /// that the policy lists.
    fn policy_region(&self, mut code: RegionCode) -> String {
        loop {
            if self.policy.region_by_code(code).is_some() {
                return format!("{:06}", code.code());
            }
            match code.structural_parent() {
                Some(p) => code = p,
                None => return "000000".into(),
            }
        }
    }

    /// The clocks of `state` for a case of `region` whose clocks count from the given
    /// entry times (`since_of(state)`), each with its due instant, earliest first.
    fn clocks(
        &self,
        kind: &CaseKind,
        state: &str,
        case_region: RegionCode,
        since_of: &dyn Fn(&str) -> Option<i64>,
    ) -> Result<Vec<Clocked>> {
        let mut out = Vec::new();
        for d in kind.deadlines.iter().filter(|d| d.state == state) {
            let since_state = d.since.as_deref().unwrap_or(&d.state);
            let Some(since) = since_of(since_state) else {
                continue;
            };
            let start = Timestamp::from_second(since)
                .map_err(|_| bad("时间无效", "the time is not valid"))?;
            let date = start.to_zoned(china()).date();
            let scope = self
                .policy
                .scope_at(&self.policy_region(case_region), date, self.reforms)
                .map_err(policy_err)?;
            let mut total = 0i64;
            let mut params = Vec::new();
            let mut missing = false;
            for key in &d.params {
                let key = Key::named(key).ok_or_else(|| bad("参数未知", "unknown parameter"))?;
                match scope.find(key) {
                    None if d.optional => {
                        missing = true;
                        break;
                    }
                    _ => {
                        let (v, r) = scope.int(key).map_err(policy_err)?;
                        total += v;
                        params.push(ParamView {
                            key: r.key.to_string(),
                            value: v,
                            region: r.region,
                            from: r.from,
                            source: r.source.doc.clone(),
                            reform: r.reform,
                        });
                    }
                }
            }
            if missing {
                continue;
            }
            let n = u32::try_from(total).map_err(|_| bad("时限为负", "a negative time limit"))?;
            let end_of = |day: jiff::civil::Date| -> Result<i64> {
                let next = day
                    .tomorrow()
                    .map_err(|_| bad("日期超出范围", "date out of range"))?;
                Ok(next
                    .to_zoned(china())
                    .map_err(|_| bad("日期超出范围", "date out of range"))?
                    .timestamp()
                    .as_second())
            };
            let (due, note) = match d.unit {
                rules::Unit::Hours => (Some(since + i64::from(n) * 3600), None),
                rules::Unit::Days => (
                    Some(end_of(
                        date.checked_add(jiff::Span::new().days(i64::from(n)))
                            .map_err(|_| bad("日期超出范围", "date out of range"))?,
                    )?),
                    None,
                ),
                rules::Unit::WorkingDays => match self.policy.calendar.add_working_days(date, n) {
                    Ok(day) => (Some(end_of(day)?), None),
                    // The year's notice is not out yet: the clock runs, its end is unknown.
                    Err(e) if e.kind == anxin_domain::ErrorKind::NotFound => {
                        (None, Some(format!("{} / {}", e.zh, e.en)))
                    }
                    Err(e) => return Err(policy_err(e)),
                },
            };
            out.push(Clocked {
                name: d.name.clone(),
                due,
                params,
                note,
            });
        }
        out.sort_by_key(|c| (c.due.is_none(), c.due));
        Ok(out)
    }

    /// The earliest clock of the case's current state due after `after` (or any, when none).
    fn next_due(
        &self,
        kind: &CaseKind,
        state: &str,
        case_region: RegionCode,
        since_of: &dyn Fn(&str) -> Option<i64>,
        after: Option<i64>,
    ) -> Result<Option<(String, i64)>> {
        Ok(self
            .clocks(kind, state, case_region, since_of)?
            .into_iter()
            .filter_map(|c| Some((c.name, c.due?)))
            .find(|(_, due)| after.is_none_or(|a| *due > a)))
    }
}

/// One clock of a state: its end (unknown when the calendar lacks the year) and its inputs.
struct Clocked {
    name: String,
    due: Option<i64>,
    params: Vec<ParamView>,
    note: Option<String>,
}

fn policy_err(e: anxin_policy::Error) -> CaseError {
    bad(e.zh, e.en)
}

/// When the case (steps so far, then possibly `now` entering `state`) last entered each state.
fn since_in(
    steps: &[CaseStepRow],
    extra: Option<(&str, i64)>,
) -> impl Fn(&str) -> Option<i64> + use<> {
    let mut entered: Vec<(String, i64)> =
        steps.iter().map(|s| (s.state.clone(), s.since)).collect();
    if let Some((state, at)) = extra {
        entered.push((state.to_string(), at));
    }
    move |state: &str| {
        entered
            .iter()
            .rev()
            .find(|(s, _)| s == state)
            .map(|(_, at)| *at)
    }
}

fn facts<'a>(kind: &'a CaseKind, last: &'a CaseStepRow, filer: &'a PersonKey) -> CaseFacts<'a> {
    CaseFacts {
        filer,
        filer_role: kind.filer,
        counterparty: (kind.request == rules::Request::Agreement)
            .then_some(last.party.as_deref())
            .flatten(),
        region: last.region,
        holder_region: last.holder_region,
        handler: kind.handler,
        viewers: &kind.viewers,
        holder: anxin_records::access::Role::parse(&last.holder_role).unwrap_or(kind.handler),
    }
}

/// The projection row of a step's event (as `case_steps` will hold it, but for `seq`).
fn step_row(e: &CaseEvent) -> CaseStepRow {
    CaseStepRow {
        seq: 0,
        case_id: e.case.clone(),
        step: e.step,
        case_kind: e.case_kind.clone(),
        action: e.action.clone(),
        state: e.state.clone(),
        person: PersonKey::from_hex(&e.person)
            .map(|p| p.0)
            .unwrap_or([0; 32]),
        region: e.region.code(),
        holder_role: e.holder_role.clone(),
        holder_region: e.holder_region.code(),
        level: e.level,
        actor: e.actor.clone(),
        at: e.at,
        since: e.since,
        due: e.due,
        clock: e.clock.clone(),
        outcome: e.outcome.clone(),
        subject: e.subject.clone(),
        party: e.party.clone(),
    }
}

fn event_of(row: &CaseStepRow) -> CaseEvent {
    CaseEvent {
        key: format!("case:{}:{}", row.case_id, row.step),
        case: row.case_id.clone(),
        step: row.step,
        case_kind: row.case_kind.clone(),
        action: row.action.clone(),
        state: row.state.clone(),
        person: PersonKey(row.person).hex(),
        region: RegionCode::parse(&format!("{:06}", row.region)).unwrap_or(RegionCode::NATIONAL),
        holder_role: row.holder_role.clone(),
        holder_region: RegionCode::parse(&format!("{:06}", row.holder_region))
            .unwrap_or(RegionCode::NATIONAL),
        level: row.level,
        actor: row.actor.clone(),
        at: row.at,
        since: row.since,
        due: row.due,
        clock: row.clock.clone(),
        outcome: row.outcome.clone(),
        subject: row.subject.clone(),
        party: row.party.clone(),
        detail: None,
    }
}

/// A case's steps (at least one) and its kind; not found when there is no such case.
fn load<'k, S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'k>,
    id: &str,
) -> Result<(Vec<CaseStepRow>, &'k CaseKind)> {
    let steps = records.store().case_steps_of(id)?;
    let Some(last) = steps.last() else {
        return Err(CaseError::Records(Error::not_found(
            format!("没有编号为 {id} 的案件"),
            format!("there is no case {id}"),
        )));
    };
    let kind = engine.kind(&last.case_kind)?;
    Ok((steps, kind))
}

/// A filing's subject must be one of the kind's.
fn check_subject(kind: &CaseKind, subject: &str) -> Result<()> {
    if kind.subjects.iter().any(|s| s == subject) {
        return Ok(());
    }
    Err(bad(
        format!(
            "“{subject}”不是{}可选的事项（可选：{}）",
            kind.zh,
            kind.subjects.join("、")
        ),
        format!(
            "subject {subject:?} is not one of: {}",
            kind.subjects.join(", ")
        ),
    ))
}

/// Files a case for the actor (a worker, for themselves): routed to the handling office of
/// the worker's region (where they live), with the first clocks running from `clock.now()`.
pub fn file<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    req: &FileRequest,
    clock: &dyn Clock,
) -> Result<CaseView> {
    let kind = engine.kind(&req.kind)?;
    let person = PersonKey(actor.account.person.unwrap_or([0; 32]));
    access::check_file_case(actor, kind.filer, &person)?;
    if kind.request == rules::Request::Agreement {
        return agreement::file(records, engine, actor, kind, req, clock);
    }
    if req.terms.is_some() {
        return Err(bad(
            format!("“{}”这类案件不填协议条款", kind.zh),
            format!("a {} takes no agreement terms", kind.en),
        ));
    }
    check_subject(kind, &req.subject)?;
    let party = req.party.trim();
    if kind.request != rules::Request::Party {
        if !party.is_empty() {
            return Err(bad(
                format!("“{}”这类案件不填对方单位", kind.zh),
                format!("a {} names no party", kind.en),
            ));
        }
        if kind.request == rules::Request::Subject && !req.months.is_empty() {
            return Err(bad(
                format!("“{}”这类案件不填月份", kind.zh),
                format!("a {} names no months", kind.en),
            ));
        }
        return file_request(records, engine, actor, kind, req, person, clock);
    }
    if !req.months.is_empty() {
        return Err(bad(
            format!("“{}”这类案件不填月份", kind.zh),
            format!("a {} names no months", kind.en),
        ));
    }
    if party.is_empty() || party.chars().count() > 100 {
        return Err(bad(
            "请填写被投诉的平台或单位（1–100 个字）",
            "name the platform or employer complained about (1–100 characters)",
        ));
    }
    // A party given by its credit code must be a registered platform or employer; a party
    // given by name is taken as named (one not in the registry can still be complained about).
    let looks_like_code = party.len() == 18 && party.bytes().all(|b| b.is_ascii_alphanumeric());
    if looks_like_code {
        let known = anxin_domain::CreditCode::parse(party).is_ok()
            && records.store().org_names(&[party])?.contains_key(party);
        if !known {
            return Err(bad(
                format!(
                    "统一社会信用代码 {party} 不是登记在册的平台或单位：请从列表中选择，或直接填写名称"
                ),
                format!(
                    "credit code {party} is not a registered platform or employer: pick one from the list, or write its name"
                ),
            ));
        }
    }
    let now = clock.unix_seconds();
    let case_region = residence(records, &person)?;
    file_event(
        records,
        engine,
        actor,
        kind,
        (&req.subject, Some(party.to_string()), None),
        (person, case_region),
        clock,
        now,
    )
}

/// Where the worker lives (the case's region), from the registry.
fn residence<S: Store>(records: &mut Records<S>, person: &PersonKey) -> Result<RegionCode> {
    let row = records.store().person(&person.0)?.ok_or_else(|| {
        CaseError::Records(Error::not_found(
            "登记册中没有你的记录：请先参保登记",
            "you are not in the registry: register first",
        ))
    })?;
    region(row.residence_region)
}

/// The month of an instant, China time.
fn month_of(secs: i64) -> Result<anxin_domain::YearMonth> {
    let date = Timestamp::from_second(secs)
        .map_err(|_| bad("时间无效", "the time is not valid"))?
        .to_zoned(china())
        .date();
    u32::try_from(date.month())
        .ok()
        .and_then(|m| anxin_domain::YearMonth::new(i32::from(date.year()), m))
        .ok_or_else(|| bad("日期超出范围", "date out of range"))
}

/// Files a case of a kind whose request is not a party: its subject must be one of the
/// kind's; months are checked by the back-payment rules ([`effects`]).
#[allow(clippy::too_many_arguments)]
fn file_request<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    kind: &CaseKind,
    req: &FileRequest,
    person: PersonKey,
    clock: &dyn Clock,
) -> Result<CaseView> {
    let case_region = residence(records, &person)?;
    let now = clock.unix_seconds();
    let detail = match kind.request {
        rules::Request::Months => {
            let months = effects::parse_months(&req.months)?;
            let quoted = effects::quote_backpay(
                records,
                engine.policy,
                engine.reforms,
                &person,
                case_region,
                &engine.policy_region(case_region),
                month_of(now)?,
                &months,
            )?;
            Some(serde_json::to_string(&quoted).map_err(|e| {
                CaseError::Records(Error::Corrupt(format!("a quote does not serialize: {e}")))
            })?)
        }
        _ => None,
    };
    file_event(
        records,
        engine,
        actor,
        kind,
        (&req.subject, None, detail),
        (person, case_region),
        clock,
        now,
    )
}

/// Writes a filing (step 0) whose subject, party and detail were checked, about `person`
/// (no one's key for an agreement) in `case_region`.
#[allow(clippy::too_many_arguments)]
fn file_event<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    kind: &CaseKind,
    (subject, party, detail): (&str, Option<String>, Option<String>),
    (person, case_region): (PersonKey, RegionCode),
    clock: &dyn Clock,
    now: i64,
) -> Result<CaseView> {
    let party_text = party.clone().unwrap_or_default();
    let id = {
        let digest = sha2::Sha256::digest(
            format!(
                "{}|{}|{}|{}|{}",
                person.hex(),
                kind.name,
                now,
                subject,
                party_text
            )
            .as_bytes(),
        );
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("c-{hex}")
    };
    let since = since_in(&[], Some((&kind.initial, now)));
    let due = engine.next_due(kind, &kind.initial, case_region, &since, None)?;
    let event = CaseEvent {
        key: format!("case:{id}:0"),
        case: id.clone(),
        step: 0,
        case_kind: kind.name.clone(),
        action: "file".into(),
        state: kind.initial.clone(),
        person: person.hex(),
        region: case_region,
        holder_role: kind.handler.as_str().into(),
        holder_region: case_region,
        level: 0,
        actor: format!("account:{}", actor.account.id),
        at: now,
        since: now,
        due: due.as_ref().map(|d| d.1),
        clock: due.map(|d| d.0),
        outcome: None,
        subject: Some(subject.to_string()),
        party,
        detail,
    };
    let row = step_row(&event);
    commit(records, event)?;
    notify::step_taken(records, kind, &row, now)?;
    view(records, engine, &id, clock)
}

fn commit<S: Store>(records: &mut Records<S>, event: CaseEvent) -> Result<()> {
    match records.append_case_step(event)?.0 {
        anxin_records::records::Outcome::Rejected(r) => Err(bad(r.reason_zh, r.reason_en)),
        _ => Ok(()),
    }
}

/// Takes the step `action` (a transition of the case's kind) on behalf of `actor`; closing
/// steps name an `outcome` from the transition's list.
pub fn act<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    id: &str,
    action: &str,
    outcome: Option<&str>,
    clock: &dyn Clock,
) -> Result<CaseView> {
    let (steps, kind) = load(records, engine, id)?;
    let last = steps.last().expect("loaded cases have a step");
    let filer = PersonKey(last.person);
    let Some(t) = kind.transition_at(action, &last.state) else {
        let names: Vec<&str> = kind.transitions.iter().map(|t| t.name.as_str()).collect();
        return Err(bad(
            format!("没有“{action}”这一步（可用：{}）", names.join("、")),
            format!("there is no step {action:?} (known: {})", names.join(", ")),
        ));
    };
    let allowed = t.from.contains(&last.state);
    access::check_case_step(actor, &facts(kind, last, &filer), &kind.parties(t), allowed)?;
    let outcome = match (outcome, t.outcomes.is_empty()) {
        (None, true) => None,
        (Some(o), false) if t.outcomes.iter().any(|x| x == o) => Some(o.to_string()),
        (_, true) => {
            return Err(bad("这一步不带办理结果", "this step takes no outcome"));
        }
        (_, false) => {
            return Err(bad(
                format!("请写明办理结果（可选：{}）", t.outcomes.join("、")),
                format!("name the outcome (one of: {})", t.outcomes.join(", ")),
            ));
        }
    };
    if t.needs_evidence && records.store().case_evidence_of(id, false)?.is_empty() {
        return Err(bad(
            "这一步需要先附上证明材料（如平台收入记录、纳税记录、营业执照）",
            "this step needs evidence attached first (platform income records, tax records, a business licence)",
        ));
    }
    let now = clock.unix_seconds();
    let case_region = region(last.region)?;
    let since = since_in(&steps, Some((&t.to, now)));
    let due = engine.next_due(kind, &t.to, case_region, &since, None)?;
    let mut next = last.clone();
    next.step = last.step + 1;
    next.action = t.name.clone();
    next.state = t.to.clone();
    next.level = 0;
    next.actor = format!("account:{}", actor.account.id);
    next.at = now;
    next.since = now;
    next.due = due.as_ref().map(|d| d.1);
    next.clock = due.map(|d| d.0);
    next.outcome = outcome;
    let mut event = event_of(&next);
    match t.effect {
        None => commit(records, event)?,
        Some(rules::Effect::Enrol) => {
            let quote = effects::first_quote(
                engine.policy,
                engine.reforms,
                &engine.policy_region(case_region),
                month_of(now)?,
                last.subject.as_deref().unwrap_or_default(),
            )?;
            event.detail = Some(to_json(&quote)?);
            commit(records, event)?;
        }
        Some(rules::Effect::RecordBackpay) => {
            let detail: effects::BackpayDetail = filing_detail(records, id)?;
            effects::check_unpaid(records, &filer, case_region, &detail)?;
            let paid_on = Timestamp::from_second(now)
                .map(|t| t.to_zoned(china()).date().to_string())
                .map_err(|_| bad("时间无效", "the time is not valid"))?;
            let months = effects::backpaid_months(&detail, id, &filer, case_region, &paid_on)?;
            let (outcomes, _) = records.append_case_step_with(event, months)?;
            if let Some(anxin_records::records::Outcome::Rejected(r)) = outcomes
                .iter()
                .find(|o| matches!(o, anxin_records::records::Outcome::Rejected(_)))
            {
                return Err(bad(r.reason_zh.clone(), r.reason_en.clone()));
            }
        }
    }
    notify::step_taken(records, kind, &next, now)?;
    view(records, engine, id, clock)
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| {
        CaseError::Records(Error::Corrupt(format!("a detail does not serialize: {e}")))
    })
}

/// The details each step's event keeps (none for most), in step order.
fn details<S: Store>(
    records: &mut Records<S>,
    steps: &[CaseStepRow],
) -> Result<Vec<Option<serde_json::Value>>> {
    let mut out = Vec::with_capacity(steps.len());
    for s in steps {
        out.push(
            step_detail(records, &s.case_id, s.step)?.and_then(|d| serde_json::from_str(&d).ok()),
        );
    }
    Ok(out)
}

/// The detail of one step's event, as stored.
fn step_detail<S: Store>(records: &mut Records<S>, id: &str, step: u32) -> Result<Option<String>> {
    let Some(row) = records.store().event_by_key(&format!("case:{id}:{step}"))? else {
        return Ok(None);
    };
    match anxin_records::event::Event::from_bytes(&row.body)? {
        anxin_records::event::Event::CaseStep(e) => Ok(e.detail),
        _ => Ok(None),
    }
}

/// The filing's detail, read as the kind's request wrote it.
fn filing_detail<S: Store, T: serde::de::DeserializeOwned>(
    records: &mut Records<S>,
    id: &str,
) -> Result<T> {
    let text = step_detail(records, id, 0)?.ok_or_else(|| {
        CaseError::Records(Error::Corrupt(format!("case {id} has no filing detail")))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        CaseError::Records(Error::Corrupt(format!(
            "case {id}: the filing detail does not parse: {e}"
        )))
    })
}

/// The step the clock takes after `last` (an escalation, or a deadline's `on_expiry`
/// transition): its action at `now`, the next clock, no outcome.
fn clock_step(
    last: &CaseStepRow,
    action: &str,
    now: i64,
    next_due: Option<(String, i64)>,
) -> CaseStepRow {
    let mut next = last.clone();
    next.step = last.step + 1;
    next.action = action.into();
    next.actor = "clock".into();
    next.at = now;
    next.due = next_due.as_ref().map(|d| d.1);
    next.clock = next_due.map(|d| d.0);
    next.outcome = None;
    next
}

/// Escalates every overdue case: once per missed clock, to the office the kind's escalation
/// names — or, for a clock whose rules name an `on_expiry` step, takes that step (an agreement
/// the labour administration did not object to in time takes effect). Idempotent: a case
/// escalated for a clock is not escalated for it again. Returns the
/// ids of the cases escalated.
pub fn tick<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    clock: &dyn Clock,
) -> Result<Vec<String>> {
    let now = clock.unix_seconds();
    let mut escalated = Vec::new();
    for latest in records.store().cases_latest()? {
        let Some(due) = latest.due else { continue };
        if due > now {
            continue;
        }
        let steps = records.store().case_steps_of(&latest.case_id)?;
        let Some(last) = steps.last() else { continue };
        let kind = engine.kind(&last.case_kind)?;
        let case_region = region(last.region)?;
        let mut history = steps.clone();
        let mut last = last.clone();
        while let Some(due) = last.due.filter(|d| *d <= now) {
            // A clock whose end is a step (an agreement not objected to takes effect): the
            // clock takes it, the state entered when the time ran out.
            let expiry = kind
                .deadlines
                .iter()
                .find(|d| d.state == last.state && last.clock.as_deref() == Some(&d.name))
                .and_then(|d| d.on_expiry.as_deref())
                .and_then(|t| kind.transition_at(t, &last.state))
                .filter(|t| t.from.contains(&last.state));
            if let Some(t) = expiry {
                let since = since_in(&history, Some((&t.to, due)));
                let next_due = engine.next_due(kind, &t.to, case_region, &since, None)?;
                let mut next = clock_step(&last, &t.name, now, next_due);
                next.state = t.to.clone();
                next.level = 0;
                next.since = due;
                commit(records, event_of(&next))?;
                notify::step_taken(records, kind, &next, now)?;
                history.push(next.clone());
                last = next;
                continue;
            }
            let since = since_in(&history, None);
            let level = last.level + 1;
            let holder = match kind.escalation(level).map(|e| e.region.as_str()) {
                Some("parent") => region(last.holder_region)?
                    .structural_parent()
                    .unwrap_or(RegionCode::NATIONAL),
                _ => region(last.holder_region)?,
            };
            // To the escalation's role (a supervisor), else back to the kind's handler.
            let holder_role = kind
                .escalation(level)
                .and_then(|e| e.role)
                .unwrap_or(kind.handler);
            let next_due = engine.next_due(kind, &last.state, case_region, &since, Some(due))?;
            let mut next = clock_step(&last, "escalate", now, next_due);
            next.level = level;
            next.holder_region = holder.code();
            next.holder_role = holder_role.as_str().into();
            commit(records, event_of(&next))?;
            notify::step_taken(records, kind, &next, now)?;
            history.push(next.clone());
            last = next;
        }
        escalated.push(latest.case_id);
    }
    notify::catch_up(records, engine, now)?;
    Ok(escalated)
}

/// One case, for whoever may read it.
pub fn show<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    id: &str,
    clock: &dyn Clock,
) -> Result<CaseView> {
    let (steps, kind) = load(records, engine, id)?;
    let last = steps.last().expect("loaded cases have a step");
    let filer = PersonKey(last.person);
    access::check_case_read(actor, &facts(kind, last, &filer))?;
    let details = details(records, &steps)?;
    render(engine, id, kind, &steps, &details, clock)
}

/// The cases the actor's office holds or its region's viewers see, open ones first.
pub fn queue<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
) -> Result<Vec<CaseStepRow>> {
    access::check_case_queue(actor)?;
    let mut out = Vec::new();
    for latest in records.store().cases_latest()? {
        let Ok(kind) = engine.kind(&latest.case_kind) else {
            continue;
        };
        let filer = PersonKey(latest.person);
        if access::check_case_read(actor, &facts(kind, &latest, &filer)).is_ok() {
            out.push(latest);
        }
    }
    out.sort_by_key(|c| (c.due.is_none(), c.due, c.case_id.clone()));
    Ok(out)
}

/// A worker's own cases (those they filed), overdue and nearest deadlines first.
pub fn mine<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
) -> Result<Vec<CaseStepRow>> {
    let Some(own) = actor.account.person else {
        return Err(CaseError::Denied(Denied {
            why: access::Why::NotOwner,
            zh: "这个账户没有关联本人的记录".into(),
            en: "this account is not linked to a person's record".into(),
        }));
    };
    let mut out = Vec::new();
    for latest in records.store().cases_latest()? {
        if latest.person != own {
            continue;
        }
        let Ok(kind) = engine.kind(&latest.case_kind) else {
            continue;
        };
        let filer = PersonKey(latest.person);
        if access::check_case_read(actor, &facts(kind, &latest, &filer)).is_ok() {
            out.push(latest);
        }
    }
    out.sort_by_key(|c| (c.due.is_none(), c.due, c.case_id.clone()));
    Ok(out)
}

/// The case as shown (no permission check: callers check first).
pub fn view<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    id: &str,
    clock: &dyn Clock,
) -> Result<CaseView> {
    let (steps, kind) = load(records, engine, id)?;
    let details = details(records, &steps)?;
    render(engine, id, kind, &steps, &details, clock)
}

/// A loaded case's steps as shown.
fn render(
    engine: &Engine<'_>,
    id: &str,
    kind: &CaseKind,
    steps: &[CaseStepRow],
    details: &[Option<serde_json::Value>],
    clock: &dyn Clock,
) -> Result<CaseView> {
    let first = steps.first().expect("loaded cases have a step");
    let last = steps.last().expect("loaded cases have a step");
    let state = kind.state(&last.state);
    let now = clock.unix_seconds();
    let since = since_in(steps, None);
    let clocks = engine
        .clocks(kind, &last.state, region(last.region)?, &since)?
        .into_iter()
        .map(|c| {
            let d = kind.deadlines.iter().find(|d| d.name == c.name);
            let words = c
                .due
                .map(|due| due_words(engine.policy, due, now, d.map(|d| d.unit)));
            ClockView {
                due_zh: words.as_ref().map(|w| w.0.clone()),
                due_en: words.map(|w| w.1),
                zh: d.map(|d| d.zh.clone()).unwrap_or_default(),
                en: d.map(|d| d.en.clone()).unwrap_or_default(),
                name: c.name,
                due: c.due.map(ts),
                overdue: c.due.is_some_and(|due| due <= now),
                note: c.note,
                params: c.params,
            }
        })
        .collect();
    let label = |action: &str, level: u32| -> (String, String) {
        match action {
            "file" => ("提交".into(), "filed".into()),
            "escalate" => kind
                .escalation(level)
                .map(|e| (e.zh.clone(), e.en.clone()))
                .unwrap_or(("逾期升级".into(), "escalated".into())),
            a => kind
                .transition(a)
                .map(|t| (t.zh.clone(), t.en.clone()))
                .unwrap_or_default(),
        }
    };
    Ok(CaseView {
        id: id.to_string(),
        kind: kind.name.clone(),
        kind_zh: kind.zh.clone(),
        kind_en: kind.en.clone(),
        state: last.state.clone(),
        state_zh: state.map(|s| s.zh.clone()).unwrap_or_default(),
        state_en: state.map(|s| s.en.clone()).unwrap_or_default(),
        region: format!("{:06}", last.region),
        holder_role: last.holder_role.clone(),
        holder_region: format!("{:06}", last.holder_region),
        level: last.level,
        subject: first.subject.clone(),
        party: first.party.clone(),
        outcome: last.outcome.clone(),
        clocks,
        next: kind
            .transitions
            .iter()
            .filter(|t| t.from.contains(&last.state))
            .map(|t| t.name.clone())
            .collect(),
        steps: steps
            .iter()
            .zip(details.iter().chain(std::iter::repeat(&None)))
            .map(|(s, detail)| {
                let (zh, en) = label(&s.action, s.level);
                StepView {
                    step: s.step,
                    action: s.action.clone(),
                    action_zh: zh,
                    action_en: en,
                    state: s.state.clone(),
                    holder_role: s.holder_role.clone(),
                    holder_region: format!("{:06}", s.holder_region),
                    at: ts(s.at),
                    due: s.due.map(ts),
                    due_zh: s.due.map(|d| last_day_words(kind, s.clock.as_deref(), d).0),
                    due_en: s.due.map(|d| last_day_words(kind, s.clock.as_deref(), d).1),
                    clock: s.clock.clone(),
                    outcome: s.outcome.clone(),
                    detail: detail.clone(),
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// The instant a day-clock ends: the midnight (in China) after its last day.
    fn end_of(d: jiff::civil::Date) -> i64 {
        d.tomorrow()
            .expect("a date before 9999")
            .to_zoned(china())
            .expect("a time in China")
            .timestamp()
            .as_second()
    }

    /// Noon of a day in China.
    fn noon(d: jiff::civil::Date) -> i64 {
        d.at(12, 0, 0, 0)
            .to_zoned(china())
            .expect("a time in China")
            .timestamp()
            .as_second()
    }

    #[test]
    fn days_read_as_a_worker_reads_them() {
        let (zh, en) = day_words(date(2026, 12, 26));
        assert_eq!(zh, "2026年12月26日（周六）");
        assert_eq!(en, "Sat 26 Dec 2026");
    }

    #[test]
    fn deadlines_count_working_days_by_the_official_calendar() {
        let policy = Policy::embedded().expect("embedded policy loads");
        let working = Some(rules::Unit::WorkingDays);
        let due = end_of(date(2026, 10, 9));
        // National Day 2026 (off 1–7 October, Saturday 10 October worked): from Wednesday
        // 30 September to Friday 9 October only the 8th and the 9th are working days.
        let (zh, en) = due_words(&policy, due, noon(date(2026, 9, 30)), working);
        assert_eq!(zh, "2026年10月9日（周五）截止，还剩 2 个工作日");
        assert_eq!(en, "by Fri 9 Oct 2026, 2 working day(s) left");
        let (zh, _) = due_words(&policy, due, noon(date(2026, 10, 9)), working);
        assert_eq!(zh, "2026年10月9日（周五）截止，就是今天");
        // Past it, in calendar days.
        let (zh, _) = due_words(&policy, due, noon(date(2026, 10, 12)), working);
        assert_eq!(zh, "2026年10月9日（周五）截止，已逾期 3 天");
        // A year without a notice: never a weekday guess, the calendar days instead.
        let (zh, _) = due_words(
            &policy,
            end_of(date(2031, 3, 3)),
            noon(date(2031, 2, 28)),
            working,
        );
        assert_eq!(zh, "2031年3月3日（周一）截止，还剩 3 天");
    }
}
