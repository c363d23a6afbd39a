//! Accounts people make and mend (issue 13): a worker signs up with resident ID, name, phone
//! and a password; a clerk of the region the request names confirms the worker's identity at
//! the first visit (typing the number from the ID card shown, which must be the one the
//! request was made with) or refuses it with a reason the worker reads; and a clerk resets a
//! worker's password at the desk, the worker choosing a new one at the next sign-in.
//!
//! Where an account comes from: a worker's from this sign-up (or a clerk on the server,
//! `anxin account add`); every official's from an administrator on the server. The resident
//! ID, name and phone of a request are sealed ([`anxin_records::signup`]); what a clerk sees
//! of a request is the name (to compare with the card), the masked ID and the phone's last
//! four digits. Confirming and resetting are written to the worker's access log.
//!
//! Permissions are [`crate::access`]'s: [`Action::ReviewSignup`], [`Action::ResetPassword`].

use anxin_domain::{EmploymentForm, RegionCode, ResidentId};
use anxin_policy::Policy;
use anxin_records::access::{AccessRow, NewAccount, Role};
use anxin_records::signup::{NewSignup, SignupDecision, SignupPrivate, SignupRow, SignupState};
use anxin_records::{Error, Input, Outcome, PersonInput, PersonKey, Records, Store};

use crate::access::{self, Actor};

pub use crate::ServiceError as AccountError;

/// What a worker types to sign up.
#[derive(Debug, Clone, Default)]
pub struct SignupForm {
    pub resident_id: String,
    pub name: String,
    pub phone: String,
    pub username: String,
    pub password: String,
    /// The region (six digits) whose social insurance office the worker will visit.
    pub region: String,
}

/// A form that passed every check, ready to store once its password is hashed.
pub struct CheckedSignup {
    pub id: ResidentId,
    pub name: String,
    pub phone: String,
    pub username: String,
    pub region: RegionCode,
    password: String,
}

fn bad(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::refused(zh, en)
}

/// A resident ID by GB 11643 (the check digit checked), or a bilingual refusal.
pub fn parse_resident_id(text: &str) -> Result<ResidentId, Error> {
    ResidentId::parse(text.trim()).map_err(|e| {
        bad(
            format!("身份证号无效（18 位，最后一位是 GB 11643 校验码 0–9 或 X）：{e}"),
            format!(
                "invalid resident ID (18 characters, the last a GB 11643 check digit 0–9 or X): {e}"
            ),
        )
    })
}

/// A mainland mobile number: 11 digits starting with 1 (spaces, dashes and a leading +86
/// allowed when typed).
pub fn check_phone(text: &str) -> Result<String, Error> {
    let digits: String = text
        .trim()
        .trim_start_matches("+86")
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(bad(
            "手机号须为 11 位数字，以 1 开头",
            "a mobile number has 11 digits and starts with 1",
        ))
    }
}

/// A name as on the ID card: 1–40 characters, no control characters, no digits.
pub fn check_name(text: &str) -> Result<String, Error> {
    let name = text.trim();
    let n = name.chars().count();
    if (1..=40).contains(&n) && !name.chars().any(|c| c.is_control() || c.is_ascii_digit()) {
        Ok(name.to_string())
    } else {
        Err(bad(
            "姓名须与身份证上一致（1–40 个字，不含数字）",
            "the name must be as on the ID card (1–40 characters, no digits)",
        ))
    }
}

/// A reason to refuse: 2–200 characters, no control characters (the worker reads it).
pub fn check_reason(text: &str) -> Result<String, Error> {
    let r = text.trim();
    let n = r.chars().count();
    if (2..=200).contains(&n) && !r.chars().any(char::is_control) {
        Ok(r.to_string())
    } else {
        Err(bad(
            "不予开通须写明原因（2–200 个字，本人会看到），如“证件与本人不符”",
            "a refusal needs its reason (2–200 characters, the worker reads it), e.g. \"the ID card is not the applicant's\"",
        ))
    }
}

impl SignupForm {
    /// Checks every field: the ID's check digit, the name, the phone, the username, the
    /// password's length and a region the policy files know (not the national level).
    pub fn check(&self, policy: &Policy) -> Result<CheckedSignup, Error> {
        let id = parse_resident_id(&self.resident_id)?;
        let name = check_name(&self.name)?;
        let phone = check_phone(&self.phone)?;
        let username = self.username.trim().to_lowercase();
        anxin_records::access::check_username(&username)?;
        let region = RegionCode::parse(self.region.trim())
            .ok()
            .filter(|r| !r.is_national() && policy.region_by_code(*r).is_some())
            .ok_or_else(|| {
                bad(
                    "请选择要去办理的地区（本服务覆盖的城市）",
                    "choose the region whose office you will visit (one this service covers)",
                )
            })?;
        let n = self.password.chars().count();
        if n < anxin_records::access::MIN_PASSWORD || self.password.len() > 256 {
            return Err(bad(
                format!(
                    "密码须有 {}–256 个字符",
                    anxin_records::access::MIN_PASSWORD
                ),
                format!(
                    "a password must have {} to 256 characters",
                    anxin_records::access::MIN_PASSWORD
                ),
            ));
        }
        Ok(CheckedSignup {
            id,
            name,
            phone,
            username,
            region,
            password: self.password.clone(),
        })
    }
}

impl CheckedSignup {
    /// The password's Argon2id hash: slow on purpose, so done before the writer is asked.
    pub fn hash_password(&self) -> Result<String, Error> {
        anxin_records::access::hash_password(&self.password)
    }
}

/// Stores a checked request (pending). Returns its number.
pub fn add_signup<S: Store>(
    records: &mut Records<S>,
    form: &CheckedSignup,
    password_hash: String,
    now: i64,
) -> Result<i64, Error> {
    let key = records.person_key(&form.id);
    let sealed = SignupPrivate {
        resident_id: form.id.expose().to_string(),
        name: form.name.clone(),
        phone: form.phone.clone(),
    }
    .seal(records.data_key(), &key)?;
    records.store().signup_add(
        &NewSignup {
            username: form.username.clone(),
            person: key.0,
            sealed,
            region: form.region.code(),
            password_hash,
        },
        now,
    )
}

/// A pending request as the clerk's desk shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignup {
    pub id: i64,
    pub username: String,
    /// As typed, to compare with the ID card.
    pub name: String,
    pub masked_id: String,
    /// The last four digits.
    pub phone_tail: String,
    pub region: u32,
    pub created_at: i64,
    /// Whether the registry has this person already.
    pub registered: bool,
    /// Accounts this person has already (a second one deserves a question).
    pub accounts: usize,
}

fn pending_view<S: Store>(
    records: &mut Records<S>,
    row: &SignupRow,
) -> Result<PendingSignup, Error> {
    let key = PersonKey(row.person);
    let private = SignupPrivate::open(records.data_key(), &key, &row.sealed)?;
    let masked_id = ResidentId::parse(&private.resident_id)
        .map(|id| id.masked())
        .map_err(|_| Error::Corrupt("a sign-up holds an invalid resident ID".into()))?;
    let registered = records.store().person(&row.person)?.is_some();
    let accounts = records.store().accounts_of_person(&row.person)?.len();
    let tail: String = private.phone.chars().skip(7).collect();
    Ok(PendingSignup {
        id: row.id,
        username: row.username.clone(),
        name: private.name,
        masked_id,
        phone_tail: tail,
        region: row.region,
        created_at: row.created_at,
        registered,
        accounts,
    })
}

/// The pending requests naming the clerk's region, oldest first, after request `after`.
pub fn pending<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    after: i64,
    limit: u32,
) -> Result<Vec<PendingSignup>, AccountError> {
    access::check(actor, access::Action::ReviewSignup)?;
    let (from, to) = access::signup_range(actor);
    let rows = records
        .store()
        // One more than the largest page (200), so a caller learns whether another follows.
        .signups_pending(from, to, after, limit.min(201))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        // The range is the scope's; the decision stays the access module's.
        access::check_signup(actor, row.region)?;
        out.push(pending_view(records, row)?);
    }
    Ok(out)
}

fn load_pending<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    id: i64,
) -> Result<SignupRow, AccountError> {
    access::check(actor, access::Action::ReviewSignup)?;
    let row = records
        .store()
        .signup(id)?
        .ok_or_else(|| Error::not_found("没有这份开户申请", "no such sign-up request"))?;
    access::check_signup(actor, row.region)?;
    if row.state != SignupState::Pending {
        return Err(anxin_records::signup::already_decided().into());
    }
    Ok(row)
}

fn log_row(actor: Actor<'_>, person: [u8; 32], what: &str, purpose: &str, now: i64) -> AccessRow {
    AccessRow {
        id: 0,
        at: now,
        account: actor.account.id,
        username: actor.account.username.clone(),
        role: actor.role.as_str().into(),
        person,
        what: what.into(),
        purpose: purpose.into(),
    }
}

/// Confirms request `id` once the clerk has typed the number on the ID card the worker
/// shows: it must be the ID the request was made with. Makes the worker's account (tied to
/// the person and to the request's region) and writes the confirmation to the worker's
/// access log; a person not yet in the registry is entered in it ([`register_if_new`]).
/// Returns the new account's username.
pub fn confirm<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    id: i64,
    card_id: &str,
    now: i64,
) -> Result<String, AccountError> {
    let row = load_pending(records, actor, id)?;
    let card = parse_resident_id(card_id)?;
    if records.person_key(&card).0 != row.person {
        return Err(bad(
            "证件号码与申请时填写的不一致：请核对证件，或不予开通并写明原因",
            "the number on the card is not the one the request was made with: check the card, or refuse the request with a reason",
        )
        .into());
    }
    let region = RegionCode::parse(&format!("{:06}", row.region))
        .map_err(|_| Error::Corrupt("a sign-up names an invalid region".into()))?;
    register_if_new(records, &row, card, region)?;
    let account = NewAccount {
        username: row.username.clone(),
        role: Role::Worker,
        region: Some(region),
        person: Some(row.person),
        org: None,
        password_hash: row.password_hash.clone(),
    };
    records
        .store()
        .signup_decide(id, &SignupDecision::Confirm(account), actor.account.id, now)?;
    records.log_access(log_row(
        actor,
        row.person,
        "account_opened",
        "核实身份后开通账户 (identity confirmed, account opened)",
        now,
    ))?;
    Ok(row.username)
}

/// Enters the person the clerk has just seen in the registry, when they are not in it yet, so
/// that their account has a record to show and they can file cases (an enrolment without an
/// employer first of all): the name and ID of the request (sealed as every registration is),
/// living in the request's region, in flexible employment (they came without an employer;
/// an import or a transfer later says more). The hukou is left unknown: the ID's first six
/// digits name where it was first issued, not where the hukou is now. The registration is
/// an event in the log like an imported one.
fn register_if_new<S: Store>(
    records: &mut Records<S>,
    row: &SignupRow,
    card: ResidentId,
    region: RegionCode,
) -> Result<(), Error> {
    if records.store().person(&row.person)?.is_some() {
        return Ok(());
    }
    let private = SignupPrivate::open(records.data_key(), &PersonKey(row.person), &row.sealed)?;
    let committed = records.append(vec![Input::Person(PersonInput {
        person_id: card,
        name: private.name,
        hukou_region: None,
        residence_region: region,
        employment_form: EmploymentForm::Flexible,
        platforms: Vec::new(),
        permit_region: None,
        permit_since: None,
        household: None,
        record_id: None,
    })])?;
    match committed.outcomes.into_iter().next() {
        Some(Outcome::Rejected(r)) => Err(Error::Refused {
            zh: format!("无法登记此人：{}", r.reason_zh),
            en: format!("this person cannot be registered: {}", r.reason_en),
        }),
        _ => Ok(()),
    }
}

/// Refuses request `id` with `reason`, which the worker reads when they next sign in.
pub fn refuse<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    id: i64,
    reason: &str,
    now: i64,
) -> Result<(), AccountError> {
    let reason = check_reason(reason)?;
    load_pending(records, actor, id)?;
    records
        .store()
        .signup_decide(id, &SignupDecision::Refuse(reason), actor.account.id, now)?;
    Ok(())
}

/// What became of a worker's request, told when they try to sign in with its username and
/// password before it is confirmed.
pub enum SignupStatus {
    /// Still waiting: the region to visit, and the request's number.
    Pending { region: u32, id: i64 },
    /// Refused, with the clerk's reason.
    Refused { reason: String },
}

/// The status of the latest request under `username` whose password is `password`; `None`
/// when there is none or the password is not its (so a stranger learns nothing), or it was
/// confirmed (the account signs in).
pub fn signup_status<S: Store>(
    records: &mut Records<S>,
    username: &str,
    password: &str,
) -> Result<Option<SignupStatus>, Error> {
    let Some(row) = records.store().signup_named(username)? else {
        return Ok(None);
    };
    if !anxin_records::access::verify_password(&row.password_hash, password) {
        return Ok(None);
    }
    Ok(match row.state {
        SignupState::Pending => Some(SignupStatus::Pending {
            region: row.region,
            id: row.id,
        }),
        SignupState::Refused => Some(SignupStatus::Refused {
            reason: row.reason.unwrap_or_default(),
        }),
        SignupState::Confirmed => None,
    })
}

/// A temporary password (12 characters of base64url, 72 bits) and its Argon2id hash.
pub fn temporary_password() -> Result<(String, String), Error> {
    let (token, _) = anxin_records::access::new_token()?;
    let password = token[..12].to_string();
    let hash = anxin_records::access::hash_password(&password)?;
    Ok((password, hash))
}

/// Resets the password of the worker whose ID card the clerk has in hand (`card_id`) to
/// `temporary_hash` (from [`temporary_password`]): every session of the account ends, no
/// new one opens before the worker picks a new password, and the reset goes to the worker's
/// access log. Returns the account's username.
pub fn reset_password<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    card_id: &str,
    temporary_hash: &str,
    now: i64,
) -> Result<String, AccountError> {
    access::check(actor, access::Action::ResetPassword)?;
    let card = parse_resident_id(card_id)?;
    let key = records.person_key(&card);
    let accounts = records.store().accounts_of_person(&key.0)?;
    let Some(target) = accounts
        .into_iter()
        .find(|a| a.role == Role::Worker.as_str())
    else {
        return Err(Error::not_found(
            "此身份证号没有劳动者账户：可以在“注册”页申请开户",
            "no worker account belongs to this resident ID: the worker can apply on the sign-up page",
        )
        .into());
    };
    let regions = records.person_regions(&key)?;
    access::check_reset(actor, &target, regions.as_deref())?;
    records
        .store()
        .set_password(target.id, temporary_hash, true)?;
    records.log_access(log_row(
        actor,
        key.0,
        "password_reset",
        "本人到窗口申请重置密码 (password reset at the worker's request, at the desk)",
        now,
    ))?;
    Ok(target.username)
}

/// Sets a new password chosen by the account's holder (after a reset, or at will): clears
/// "must change" and ends every session.
pub fn change_password<S: Store>(
    records: &mut Records<S>,
    account: i64,
    new_hash: &str,
) -> Result<(), Error> {
    records.store().set_password(account, new_hash, false)
}

/// The rules of a new password its holder chooses (after a reset, or at will): typed the
/// same twice, [`anxin_records::access::MIN_PASSWORD`]–256 characters, and not the current one.
pub fn check_new_password(current: &str, new: &str, again: &str) -> Result<(), Error> {
    if new != again {
        return Err(bad(
            "两次输入的新密码不一样",
            "the two new passwords differ",
        ));
    }
    let min = anxin_records::access::MIN_PASSWORD;
    if new.chars().count() < min || new.len() > 256 {
        return Err(bad(
            format!("新密码太弱：须有 {min}–256 个字符（可以用一句好记的话）"),
            format!(
                "the new password is too weak: it must have {min} to 256 characters (a sentence you remember will do)"
            ),
        ));
    }
    if new == current {
        return Err(bad(
            "新密码不能和现在的密码一样",
            "the new password must differ from the current one",
        ));
    }
    Ok(())
}

/// Sets the password the holder of `actor`'s own account chose (the current one already
/// checked by the caller, under the sign-in limits): clears "must change", ends every
/// session of the account (the caller opens a fresh one, so every other device is signed
/// out) and, for a worker, writes the change to their access log. Only one's own account:
/// no permission beyond being signed in.
pub fn change_own_password<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    new_hash: &str,
    now: i64,
) -> Result<(), Error> {
    records
        .store()
        .set_password(actor.account.id, new_hash, false)?;
    if let Some(person) = actor.account.person {
        records.log_access(log_row(
            actor,
            person,
            "password_changed",
            "本人修改密码，其他设备已退出 (the holder changed their password; every other device signed out)",
            now,
        ))?;
    }
    Ok(())
}
