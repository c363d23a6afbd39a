//! The inbox (SPEC §M4): what each person should have been told by a given day, worked out
//! from their own record and the policy, stored once under a stable key, and delivered to a
//! webhook that an SMS or app gateway takes.
//!
//! **Rules** ([`messages_for`]), each threshold a policy parameter (`inbox.*`, assumptions
//! with their notes in `policy/params/000000-national.toml`), for people who have paid the
//! urban-employee pension where they live:
//! - `payment_reminder` — the current month is not paid and its due date (the month's last
//!   day, as the back-payment's late fee counts) is `inbox.reminder.days_before` days away or
//!   less; only for someone still paying (fewer missed months since their last payment than a
//!   lapse). With the month's bill at the lowest tier (pension plus employee medical,
//!   [`crate::plans::monthly_bill`]) where the calculators give one.
//! - `lapse_warning` — `inbox.lapse.missed_months` or more months since the last paid month;
//!   once per break (keyed by its first month).
//! - `backpay_window` — a missed month that the back-payment calculator says may still be
//!   paid, whose window closes within `inbox.backpay.warn_months` months (counting this one).
//!   The law in force allows no back-payment in any shipped region, so this fires only where a
//!   deployment applies a reform overlay that opens a window (`[inbox] reforms`).
//! - A subsidy the worker now qualifies for: **not generated**. The only subsidy in force
//!   (就业困难人员社保补贴) depends on a status the record does not hold, and the others are
//!   proposals (reforms) that depend on income, which the record does not hold either. No
//!   parameter says who qualifies from the record, so no message is made up.
//!
//! **Idempotent**: a message's key is kind, person and month; storing it again adds nothing
//! ([`anxin_records::Store::inbox_add`]), so running [`generate`] for the same day, or every
//! day, tells nobody the same thing twice.
//!
//! **Delivery** ([`deliver`]): each new message has a pending delivery. A POST to the webhook
//! carries the message (see [`payload`] for what it holds and why), signed with HMAC-SHA256
//! over `timestamp.body` (`X-Anxin-Timestamp`, `X-Anxin-Signature: sha256=HEX`) and an
//! `Idempotency-Key` (the message key). A 2xx answer marks it delivered; anything else is
//! retried after `backoff_seconds × 2^(attempts−1)` (at most `backoff_max_seconds`), and after
//! `max_attempts` it goes to the dead-letter list. The state is stored before the next
//! message is tried, so a restart resumes where it stopped and a delivered message is never
//! sent again (a crash between the receiver's answer and the store's write can resend one:
//! the idempotency key lets the receiver drop it). Nothing personal is logged: the service
//! logs nothing, and a failure is stored as a status code or the transport error's kind.
//!
//! Messages are not ledger events: they are derived from the record and the policy, can be
//! generated again from them, and certify nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::Duration;

use anxin_domain::codes::Insurance;
use anxin_domain::{Clock, YearMonth};
use anxin_policy::Policy;
use anxin_policy::calc::backpay::{BackpayRequest, backpay};
use anxin_policy::schema::param;
use anxin_records::account::{Summary, summarize};
use anxin_records::inbox::{DeliveryState, MessageRow, NewMessage};
use anxin_records::store::{PersonRow, RegistryCursor};
use anxin_records::{PersonKey, Store};
use serde::{Deserialize, Serialize};

/// The message kinds, by their stable code.
pub const KINDS: [&str; 4] = [
    "payment_reminder",
    "lapse_warning",
    "backpay_window",
    "certificate_issued",
];

/// Every kind a message in the inbox may have: the inbox's own and the case steps' (the API
/// document lists exactly these).
pub fn all_kinds() -> Vec<&'static str> {
    KINDS
        .iter()
        .copied()
        .chain(crate::cases::notify::KINDS.iter().map(|(kind, _)| *kind))
        .chain(crate::transfer::notify::KINDS.iter().map(|(kind, _)| *kind))
        .collect()
}

/// A message kind's Chinese and English name (for the clerks' rates table).
pub fn kind_name(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "payment_reminder" => ("缴费提醒", "payment reminder"),
        "lapse_warning" => ("断缴提醒", "lapse warning"),
        "backpay_window" => ("补缴期限提醒", "back-payment window"),
        "certificate_issued" => ("凭证已开具", "certificate issued"),
        "case_filed" => ("投诉已提交", "complaint filed"),
        "case_accepted" => ("投诉已受理", "complaint accepted"),
        "case_extended" => ("期限已延长", "deadline extended"),
        "case_escalated" => ("逾期升级", "escalated"),
        "case_closed" => ("投诉已办结", "complaint closed"),
        "case_step" => ("投诉新进展", "complaint update"),
        "case_party" => ("案件待办与进展（办理方）", "case step, to a party"),
        "transfer_step" => ("转移接续新进展", "transfer update"),
        _ => ("其他", "other"),
    }
}

// ---- templates ---------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub kind: String,
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    template: Vec<Template>,
}

/// The templates of `templates/inbox.toml`, read once.
pub fn templates() -> &'static [Template] {
    static T: OnceLock<Vec<Template>> = OnceLock::new();
    T.get_or_init(|| {
        toml::from_str::<TemplateFile>(include_str!("../templates/inbox.toml"))
            .map(|f| f.template)
            // A test parses the file; a build that ships a broken one shows no text, never panics.
            .unwrap_or_default()
    })
}

/// A message in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rendered {
    pub title_zh: String,
    pub title_en: String,
    pub body_zh: String,
    pub body_en: String,
}

/// The `{names}` a template text uses.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    out
}

fn fill(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// The message in words: the first template of its kind whose every placeholder has a value;
/// `None` when no template fits (a kind unknown to this build).
pub fn render(kind: &str, params: &BTreeMap<String, String>) -> Option<Rendered> {
    let t = templates().iter().filter(|t| t.kind == kind).find(|t| {
        [&t.title_zh, &t.title_en, &t.body_zh, &t.body_en]
            .iter()
            .flat_map(|s| placeholders(s))
            .all(|p| params.contains_key(p))
    })?;
    Some(Rendered {
        title_zh: fill(&t.title_zh, params),
        title_en: fill(&t.title_en, params),
        body_zh: fill(&t.body_zh, params),
        body_en: fill(&t.body_en, params),
    })
}

/// A stored message's values (a JSON object of strings).
pub fn params_of(message: &MessageRow) -> BTreeMap<String, String> {
    serde_json::from_str(&message.params).unwrap_or_default()
}

/// A stored message in words.
pub fn render_row(message: &MessageRow) -> Option<Rendered> {
    render(&message.kind, &params_of(message))
}

// ---- rules -------------------------------------------------------------------------------

/// The thresholds in force for a region on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub reminder_days_before: i64,
    pub lapse_missed_months: i64,
    pub backpay_warn_months: i64,
    /// How many months back a missed month may still be paid (`flex.backpay.window_months`),
    /// `None` where the policy cannot say. The back-payment calculator reads the same
    /// parameter in the same scope; where it is 0 (the law in force in every shipped region)
    /// or unknown, no month can be in a window, and the calculator is not asked.
    pub backpay_window_months: Option<i64>,
}

impl Thresholds {
    pub fn resolve(
        policy: &Policy,
        region: &str,
        month: YearMonth,
        reforms: &[String],
    ) -> anxin_policy::Result<Thresholds> {
        let scope = policy.scope(region, month, reforms)?;
        Ok(Thresholds {
            reminder_days_before: scope.int(param::INBOX_REMINDER_DAYS_BEFORE)?.0,
            lapse_missed_months: scope.int(param::INBOX_LAPSE_MISSED_MONTHS)?.0,
            backpay_warn_months: scope.int(param::INBOX_BACKPAY_WARN_MONTHS)?.0,
            backpay_window_months: scope
                .int(param::FLEX_BACKPAY_WINDOW_MONTHS)
                .ok()
                .map(|(months, _)| months),
        })
    }
}

/// The thresholds of the regions met in one walk under one set of reforms, each looked up
/// once a region and month rather than once a person (the lookups were a tenth of the inbox
/// step's time, and the back-payment calculator, asked for every person with a missed month
/// only to find no window, another seventh).
#[derive(Debug, Default)]
pub struct ThresholdsByRegion(HashMap<(u32, YearMonth), Thresholds>);

impl ThresholdsByRegion {
    fn get(
        &mut self,
        policy: &Policy,
        region: u32,
        month: YearMonth,
        reforms: &[String],
    ) -> anxin_policy::Result<Thresholds> {
        if let Some(t) = self.0.get(&(region, month)) {
            return Ok(*t);
        }
        let t = Thresholds::resolve(policy, &format!("{region:06}"), month, reforms)?;
        self.0.insert((region, month), t);
        Ok(t)
    }
}

/// The stable key of a message: kind, person, month.
pub fn message_key(kind: &str, person: &PersonKey, month: YearMonth) -> String {
    format!("{kind}:{}:{month}", person.hex())
}

/// A contribution certificate was issued for `person` on `issued` (issue 13): they are told
/// in their inbox, whoever had it issued, so a certificate nobody asked for does not go
/// unnoticed. Keyed by the certificate's log entry, so the same issue tells them once. The
/// message holds the day only: never the verification code (which shows the certificate to
/// whoever holds it) nor anything of the record.
pub fn certificate_issued(
    person: &PersonKey,
    leaf_index: u64,
    issued: jiff::civil::Date,
) -> NewMessage {
    let month = YearMonth::of_date(issued)
        .unwrap_or_else(|| YearMonth::new(2026, 1).expect("a valid month"));
    let values = BTreeMap::from([("issued".to_string(), issued.to_string())]);
    NewMessage {
        key: format!("certificate_issued:{}:{leaf_index}", person.hex()),
        person: person.0,
        kind: "certificate_issued".into(),
        month: month.to_string(),
        params: serde_json::to_string(&values).unwrap_or_else(|_| "{}".into()),
    }
}

fn message(
    kind: &str,
    person: &PersonKey,
    month: YearMonth,
    values: BTreeMap<String, String>,
) -> NewMessage {
    NewMessage {
        key: message_key(kind, person, month),
        person: person.0,
        kind: kind.to_string(),
        month: month.to_string(),
        params: serde_json::to_string(&values).unwrap_or_else(|_| "{}".into()),
    }
}

fn values<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// What `person` should have been told by `today` (a civil date in China), from their
/// registry row and contribution summaries, under the law in force plus `reforms`. A region
/// whose thresholds the policy cannot give (or a reform that does not cover it) is an error,
/// never a guessed message; someone who never paid the pension where they live gets none.
/// `thresholds` keeps what was looked up for the next person under the same `reforms`.
pub fn messages_for(
    policy: &Policy,
    person: &PersonKey,
    row: &PersonRow,
    summaries: &[Summary],
    today: jiff::civil::Date,
    reforms: &[String],
    thresholds: &mut ThresholdsByRegion,
) -> anxin_policy::Result<Vec<NewMessage>> {
    let mut out = Vec::new();
    let Some(this) = YearMonth::of_date(today) else {
        return Ok(out);
    };
    let home = row.residence_region;
    let region = format!("{home:06}");
    let Some(last_paid) = summaries
        .iter()
        .find(|s| s.insurance == Insurance::Pension && s.region == Some(home))
        .and_then(|s| s.current_run.as_ref())
        .map(|r| r.to)
    else {
        return Ok(out);
    };
    let t = thresholds.get(policy, home, this, reforms)?;
    // Months with no payment since the last paid one, before this month.
    let since = last_paid.plus(1);
    let missed_since = i64::from(last_paid.months_until(this) - 1).max(0);

    // A payment reminder for this month, for someone still paying.
    let due = this.plus(1).first_day().yesterday().unwrap_or(today);
    let days_left = (due - today).get_days() as i64;
    if last_paid < this
        && missed_since < t.lapse_missed_months
        && days_left <= t.reminder_days_before
    {
        let mut v = values([
            ("month", this.to_string()),
            ("due", due.to_string()),
            ("days", days_left.to_string()),
        ]);
        let ask = crate::plans::BillAsk {
            region: region.clone(),
            hukou_region: row.hukou_region.map(|h| format!("{h:06}")),
            residence_permit: row.permit_region == Some(home),
            ..Default::default()
        };
        if let Ok(bill) = crate::plans::monthly_bill(policy, &ask, this) {
            v.insert("amount".into(), bill.total_fen.to_string());
        }
        out.push(message("payment_reminder", person, this, v));
    }

    // A lapse warning, once per break.
    if missed_since >= t.lapse_missed_months && t.lapse_missed_months > 0 {
        out.push(message(
            "lapse_warning",
            person,
            since,
            values([
                ("missed", missed_since.to_string()),
                ("since", since.to_string()),
                ("last_paid", last_paid.to_string()),
            ]),
        ));
    }

    // Back-payment windows about to close, as the back-payment calculator sees them.
    let mut missed = crate::plans::missed_in(summaries, home);
    let mut m = since;
    while m < this && missed.len() < crate::plans::MAX_MISSED {
        missed.push(m);
        m = m.plus(1);
    }
    if !missed.is_empty()
        && t.backpay_window_months.is_some_and(|w| w > 0)
        && let Ok(result) = backpay(
            policy,
            &BackpayRequest {
                region: region.clone(),
                as_of: Some(this),
                missed,
                reforms: reforms.to_vec(),
                ..Default::default()
            },
            this,
        )
        && result.window_months > 0
    {
        let region_en = policy
            .region(&region)
            .map(|r| r.name_en.clone())
            .unwrap_or_else(|_| result.region_zh.clone());
        for month in result.months.iter().filter(|m| m.allowed) {
            let close = month.month.plus(result.window_months as i32);
            let left = i64::from(this.months_until(close)) + 1;
            if (1..=t.backpay_warn_months).contains(&left) {
                out.push(message(
                    "backpay_window",
                    person,
                    month.month,
                    values([
                        ("month", month.month.to_string()),
                        ("close", close.to_string()),
                        ("left", left.to_string()),
                        ("region", result.region_zh.clone()),
                        ("region_en", region_en.clone()),
                    ]),
                ));
            }
        }
    }
    Ok(out)
}

/// What one generation did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Generated {
    /// People looked at.
    pub persons: u64,
    /// Messages due by today (new or already stored).
    pub due: u64,
    /// Of those, stored now (the rest were already there).
    pub new: u64,
    /// People skipped because the policy could not give their region's thresholds (or a
    /// reform does not cover it), with the first such reason.
    pub skipped: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_why: Option<(String, String)>,
}

/// Persons read at a time by [`generate`].
const PERSONS_PAGE: u32 = 5_000;

/// Looks at every registered person on `clock`'s day and stores what each should have been
/// told and has not been. Idempotent: a second run on the same day stores nothing.
pub fn generate<S: Store>(
    store: &mut S,
    policy: &Policy,
    clock: &dyn Clock,
    reforms: &[String],
) -> anxin_records::Result<Generated> {
    let today = clock.today();
    let now = clock.unix_seconds();
    let mut report = Generated::default();
    let mut batch = Vec::new();
    let mut thresholds = ThresholdsByRegion::default();
    // The registry a page at a time, each page's contributions in one read: a province's
    // persons never sit in memory together.
    let mut from = Some(RegistryCursor::Start);
    while let Some(cursor) = from {
        let page = store.registry_page(&cursor, PERSONS_PAGE)?;
        from = page.next;
        for (row, contributions) in page.persons {
            let key = PersonKey(row.person);
            let summaries = summarize(&contributions);
            match messages_for(
                policy,
                &key,
                &row,
                &summaries,
                today,
                reforms,
                &mut thresholds,
            ) {
                Ok(messages) => batch.extend(messages),
                Err(e) => {
                    report.skipped += 1;
                    report.skipped_why.get_or_insert((e.zh, e.en));
                }
            }
            report.persons += 1;
            if batch.len() >= 500 {
                report.due += batch.len() as u64;
                report.new += store.inbox_add(&batch, now)?;
                batch.clear();
            }
        }
    }
    report.due += batch.len() as u64;
    report.new += store.inbox_add(&batch, now)?;
    Ok(report)
}

// ---- webhook delivery --------------------------------------------------------------------

/// The webhook of a deployment (`[inbox.webhook]` in the data directory's `anxin.toml`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://host:port/path` of the gateway (plain HTTP: on the local network, or a
    /// TLS-terminating proxy in front of a remote gateway).
    pub url: String,
    /// File holding the shared secret (relative to the data directory, mode 0600);
    /// `ANXIN_WEBHOOK_SECRET` overrides it.
    pub secret_file: String,
    /// Attempts before a message goes to the dead-letter list.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Wait after the first failure; doubled after each further one …
    #[serde(default = "default_backoff")]
    pub backoff_seconds: u64,
    /// … up to this.
    #[serde(default = "default_backoff_max")]
    pub backoff_max_seconds: u64,
    /// Longest wait for the receiver's answer.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_attempts() -> u32 {
    8
}
fn default_backoff() -> u64 {
    60
}
fn default_backoff_max() -> u64 {
    6 * 3600
}
fn default_timeout() -> u64 {
    10
}

/// The inbox settings of a deployment (`[inbox]` in `anxin.toml`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct InboxConfig {
    /// Reform overlays the deployment applies to the law in force when deciding what to tell
    /// (say a pilot of `relaxed-backpay`); empty: the law in force alone.
    #[serde(default)]
    pub reforms: Vec<String>,
    pub webhook: Option<WebhookConfig>,
}

/// Why a webhook cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub zh: String,
    pub en: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {}", self.zh, self.en)
    }
}

impl std::error::Error for ConfigError {}

/// A webhook ready to post to.
pub struct Webhook {
    url: String,
    secret: Vec<u8>,
    max_attempts: u32,
    backoff: u64,
    backoff_max: u64,
    agent: ureq::Agent,
}

impl Webhook {
    /// Checks the settings: an `http://` URL, a secret of at least 16 bytes, at least one
    /// attempt.
    pub fn new(config: &WebhookConfig, secret: &[u8]) -> Result<Webhook, ConfigError> {
        let bad = |zh: String, en: String| Err(ConfigError { zh, en });
        if !config.url.starts_with("http://") {
            return bad(
                format!(
                    "webhook 地址须以 http:// 开头（收到 {:?}）：远程网关请在前面放一个 TLS 代理",
                    config.url.chars().take(80).collect::<String>()
                ),
                format!(
                    "the webhook URL must start with http:// (got {:?}): put a TLS proxy in front of a remote gateway",
                    config.url.chars().take(80).collect::<String>()
                ),
            );
        }
        if secret.len() < 16 {
            return bad(
                "webhook 密钥太短：至少 16 个字节".into(),
                "the webhook secret is too short: at least 16 bytes".into(),
            );
        }
        if config.max_attempts == 0 || config.backoff_seconds == 0 {
            return bad(
                "max_attempts 和 backoff_seconds 须大于 0".into(),
                "max_attempts and backoff_seconds must be above 0".into(),
            );
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(config.timeout_seconds.max(1))))
            .build()
            .into();
        Ok(Webhook {
            url: config.url.clone(),
            secret: secret.to_vec(),
            max_attempts: config.max_attempts,
            backoff: config.backoff_seconds,
            backoff_max: config.backoff_max_seconds.max(config.backoff_seconds),
            agent,
        })
    }

    /// The wait after the `attempts`-th failure.
    pub fn backoff_after(&self, attempts: u32) -> u64 {
        let factor = 1u64
            .checked_shl(attempts.saturating_sub(1))
            .unwrap_or(u64::MAX);
        self.backoff.saturating_mul(factor).min(self.backoff_max)
    }

    /// `sha256=` and the HMAC-SHA256 of `timestamp.body` under the secret, in hex.
    pub fn signature(&self, timestamp: i64, body: &[u8]) -> String {
        signature(&self.secret, timestamp, body)
    }

    /// Posts one body; `Ok(())` on a 2xx answer, otherwise why not (no body is kept).
    fn post(&self, key: &str, timestamp: i64, body: &[u8]) -> Result<(), String> {
        let answer = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .header("x-anxin-timestamp", timestamp.to_string())
            .header("x-anxin-signature", self.signature(timestamp, body))
            .send(body);
        match answer {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
            Err(e) => Err(transport_error(&e)),
        }
    }
}

/// The kind of a transport failure, without the URL or anything a receiver said.
fn transport_error(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "timeout".into(),
        ureq::Error::Io(io) => format!("io: {:?}", io.kind()),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::HostNotFound => "host not found".into(),
        _ => "transport error".into(),
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `timestamp.body` under `secret` (what a receiver
/// recomputes to check a delivery).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "sha256={}",
        anxin_records::keys::hex(&mac.finalize().into_bytes())
    )
}

/// What the webhook receives for a message. An SMS or app gateway needs to know whom to tell
/// and what to say, and nothing more: the recipient is the person key (a keyed hash that
/// reveals nothing without the deployment's data key; the gateway maps it to the phone number
/// or app account the worker gave it when subscribing), and the text is the template's, which
/// names no one. No resident ID, no name, no region code, no record is sent.
#[derive(Debug, Clone, Serialize)]
pub struct Payload {
    /// The message key (also the `Idempotency-Key` header).
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub month: String,
    pub created_at: i64,
    pub title_zh: String,
    pub title_en: String,
    pub text_zh: String,
    pub text_en: String,
}

/// The payload of a stored message; `None` when no template renders it.
pub fn payload(message: &MessageRow) -> Option<Payload> {
    let r = render_row(message)?;
    Some(Payload {
        id: message.key.clone(),
        kind: message.kind.clone(),
        recipient: PersonKey(message.person).hex(),
        month: message.month.clone(),
        created_at: message.created_at,
        title_zh: r.title_zh,
        title_en: r.title_en,
        text_zh: r.body_zh,
        text_en: r.body_en,
    })
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    pub delivered: u64,
    /// Failed this time, to be tried again.
    pub retrying: u64,
    /// Failed for the last allowed time: now in the dead-letter list.
    pub dead: u64,
}

/// Posts every delivery due on `clock` (at most `limit`), storing each outcome before the
/// next is tried.
pub fn deliver<S: Store>(
    store: &mut S,
    hook: &Webhook,
    clock: &dyn Clock,
    limit: u32,
) -> anxin_records::Result<Delivered> {
    let mut report = Delivered::default();
    for (message, mut delivery) in store.inbox_due(clock.unix_seconds(), limit)? {
        let now = clock.unix_seconds();
        delivery.attempts = delivery.attempts.saturating_add(1);
        let outcome = match payload(&message) {
            None => Err("no template".to_string()),
            Some(p) => {
                let body = serde_json::to_vec(&p).unwrap_or_default();
                hook.post(&message.key, now, &body)
            }
        };
        match outcome {
            Ok(()) => {
                delivery.state = DeliveryState::Delivered;
                delivery.delivered_at = Some(now);
                delivery.last_error = None;
                report.delivered += 1;
            }
            Err(why) => {
                delivery.last_error = Some(why);
                if delivery.attempts >= hook.max_attempts {
                    delivery.state = DeliveryState::Dead;
                    report.dead += 1;
                } else {
                    delivery.next_at = now.saturating_add(
                        i64::try_from(hook.backoff_after(delivery.attempts)).unwrap_or(i64::MAX),
                    );
                    report.retrying += 1;
                }
            }
        }
        store.inbox_set_delivery(&delivery)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind has a template, every template a known kind, and every placeholder is one
    /// the rules give that kind.
    #[test]
    fn templates_cover_every_kind_with_known_placeholders() {
        let mut given: BTreeMap<&str, &[&str]> = BTreeMap::from([
            ("payment_reminder", &["month", "due", "days", "amount"][..]),
            ("lapse_warning", &["missed", "since", "last_paid"][..]),
            (
                "backpay_window",
                &["month", "close", "left", "region", "region_en"][..],
            ),
            ("certificate_issued", &["issued"][..]),
        ]);
        // The case steps' kinds (issue 15) and their placeholders.
        given.extend(crate::cases::notify::KINDS);
        // The transfer steps' (issue 14).
        given.extend(crate::transfer::notify::KINDS);
        assert!(!templates().is_empty(), "templates/inbox.toml parses");
        for kind in KINDS {
            assert!(templates().iter().any(|t| t.kind == kind), "{kind}");
        }
        for t in templates() {
            let known = given.get(t.kind.as_str()).expect("a known kind");
            for text in [&t.title_zh, &t.title_en, &t.body_zh, &t.body_en] {
                for p in placeholders(text) {
                    assert!(known.contains(&p), "{}: {{{p}}}", t.kind);
                }
            }
            // Chinese first: the Chinese texts are Chinese.
            assert!(
                t.body_zh
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            );
        }
    }

    #[test]
    fn a_reminder_without_an_amount_falls_to_the_next_template() {
        let mut v = values([
            ("month", "2026-06".into()),
            ("due", "2026-06-30".into()),
            ("days", "5".into()),
        ]);
        let r = render("payment_reminder", &v).expect("renders");
        assert!(
            r.body_zh.contains("以当地社保经办机构为准"),
            "{}",
            r.body_zh
        );
        assert!(!r.body_zh.contains('{'), "{}", r.body_zh);
        v.insert("amount".into(), "1234.56".into());
        let r = render("payment_reminder", &v).expect("renders");
        assert!(r.body_zh.contains("约 1234.56 元"), "{}", r.body_zh);
        assert!(render("no_such_kind", &v).is_none());
        assert!(render("lapse_warning", &v).is_none(), "missing values");
    }

    #[test]
    fn signatures_follow_rfc_4231() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let sig = signature(b"Jefe", 0, b"");
        assert_eq!(sig.len(), "sha256=".len() + 64);
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            anxin_records::keys::hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_ne!(signature(b"Jefe", 1, b"x"), signature(b"Jefe", 2, b"x"));
    }
}
