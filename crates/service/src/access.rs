//! Who may do what to whom — every permission of anxin, decided here and nowhere else.
//!
//! A decision takes the actor (an account and its role), the [`Action`] and, where the action
//! is about one thing, that object: a person (their key and the regions they live or are
//! insured in), an import job (who started it), or a row about to be imported. The server and
//! the command line only translate a [`Denied`] into their own words (403, exit code).
//!
//! The rules (SPEC §X2):
//! - a worker reads only their own record, plans and access log;
//! - a clerk or inspector reads a person who lives or is insured in their region, stating a
//!   purpose (the read goes to the access log the person sees); nobody else reads records;
//! - a clerk imports only rows of their own region, and an import never widens whom its clerk
//!   may read: a contribution for a person who neither lives nor is insured in the region, or
//!   a registration that would move a person living elsewhere into it, is refused (that is a
//!   transfer or an enrollment case, which leave their own trail);
//! - an import job is followed only by the clerk who started it;
//! - the log's proofs and the audit: clerks, inspectors and auditors;
//! - school reviews: the education office; the identification ledger: clerks, education
//!   offices and analysts, each only for their region;
//! - a platform reads only what its own credit code paid;
//! - the analyst's desk (simulations, fiscal sharing, cohorts forward): analysts.
//!
//! [`TABLE`] lists, for every action, the roles that may take it; a test holds it against
//! every role.

use std::collections::HashMap;

use anxin_records::access::{AccountRow, Role};
use anxin_records::records::{Committed, Outcome, Rejection};
use anxin_records::{Input, PersonKey, Records, Store};

/// Everything an account can ask anxin to do that is not public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read a person's record (page, API, certificate): the owner, or an official of the
    /// person's region with a purpose.
    ReadPerson,
    /// Find a person's key by resident ID (then [`Action::ReadPerson`]).
    LookupPerson,
    /// The owner's own plans: pension projection, back-payment and medical options.
    OwnPlans,
    /// Who read a record: its owner only.
    ReadAccessLog,
    /// Land a file of rows on the ledger.
    Import,
    /// Follow an import job: its progress and refused rows.
    FollowImport,
    /// The log's inclusion and consistency proofs.
    ProveLog,
    /// Read the log's entries in bulk (the C2SP entry bundles, `GET /log/tile/entries/…`):
    /// every entry of every region, each naming a person by key with amounts and months, so
    /// only the officials who check the whole log (inspectors, auditors), not a clerk of one
    /// region. The hash tiles and the checkpoint are public: they reveal no entry.
    ReadLogEntries,
    /// Audit the ledger.
    Audit,
    /// Review a file of school applications.
    ReviewSchool,
    /// The identification ledger of school-driven enrolments (rows of one's region).
    ReadSchoolLedger,
    /// A platform's report on what it paid for its own workers.
    PlatformReport,
    /// File a case: a worker for themselves (a complaint, a back-payment, an enrolment); a
    /// union for its region (a collective agreement with a platform).
    FileCase,
    /// Read a case: the worker who filed it, the office holding it, the viewers of its region.
    ReadCase,
    /// Take a step of a case (accept, extend, close, withdraw, …): the parties the case
    /// kind's rules name for that step.
    ActOnCase,
    /// The queue of cases of one's region (inspectors, unions).
    CaseQueue,
    /// Attach evidence to a case: the worker who filed it, while it is open.
    AttachEvidence,
    /// One's own inbox: read it, mark a message read (the owner's messages only): a worker's
    /// own record's; an official's or a platform's account's (the case steps it is a party to).
    ReadInbox,
    /// The inbox's delivery and read rates per message kind (counts, no person).
    InboxRates,
    /// Confirm or refuse a worker's own sign-up request naming one's region, once the
    /// worker's identity is checked at the desk (issue 13).
    ReviewSignup,
    /// Reset the password of a worker of one's region who is at the desk: a temporary
    /// password shown once, changed at the next sign-in, written to the worker's access log.
    ResetPassword,
    /// The analyst's desk: the microsimulation of reforms, the fiscal sharing of resident
    /// medical insurance and the school cohorts forward (aggregate figures, no person).
    Analyse,
    /// Ask to move a worker's insurance here from another region's instance (issue 14): the
    /// worker for themselves, or a clerk of the destination region for a worker at the desk.
    RequestTransfer,
    /// The transfers of this instance (both ends) with their working-day timers: clerks.
    TransferQueue,
    /// One transfer with its steps, deadlines, claim place and voucher: the worker it moves
    /// (their own only), or a clerk of the instance (of the destination's region).
    ReadTransfer,
    /// The alerts of one's grid cells and the steps on them (acknowledge, contact, close):
    /// grid workers, for the cells assigned to their account ([`crate::monitor`]).
    GridAlerts,
    /// Platform compliance of one's region (coverage, grade, the sanction list, injury bills):
    /// inspectors.
    MonitorCompliance,
    /// A platform's own rating, bill and the workers counted against it (pseudonyms).
    PlatformRating,
    /// The collective agreements in force that cover oneself (a worker), with the quote
    /// they give ([`crate::cases::agreement`]).
    CoveredAgreements,
    /// Deliver one's own monthly activity (orders or shifts) to the monitor through the API:
    /// platforms, for their own credit code ([`crate::monitor::deliver`]).
    DeliverActivity,
}

impl Action {
    pub const ALL: [Action; 30] = [
        Action::ReadPerson,
        Action::LookupPerson,
        Action::OwnPlans,
        Action::ReadAccessLog,
        Action::Import,
        Action::FollowImport,
        Action::ProveLog,
        Action::ReadLogEntries,
        Action::Audit,
        Action::ReviewSchool,
        Action::ReadSchoolLedger,
        Action::PlatformReport,
        Action::FileCase,
        Action::ReadCase,
        Action::ActOnCase,
        Action::CaseQueue,
        Action::AttachEvidence,
        Action::ReadInbox,
        Action::InboxRates,
        Action::ReviewSignup,
        Action::ResetPassword,
        Action::Analyse,
        Action::RequestTransfer,
        Action::TransferQueue,
        Action::ReadTransfer,
        Action::GridAlerts,
        Action::MonitorCompliance,
        Action::PlatformRating,
        Action::CoveredAgreements,
        Action::DeliverActivity,
    ];
}

/// The roles that may take each action at all (objects are checked on top: ownership,
/// region, the job's starter, the platform's code).
pub const TABLE: &[(Action, &[Role])] = &[
    (
        Action::ReadPerson,
        &[Role::Worker, Role::Clerk, Role::Inspector],
    ),
    (Action::LookupPerson, &[Role::Clerk, Role::Inspector]),
    (Action::OwnPlans, &[Role::Worker]),
    (Action::ReadAccessLog, &[Role::Worker]),
    (Action::Import, &[Role::Clerk]),
    (Action::FollowImport, &[Role::Clerk]),
    (
        Action::ProveLog,
        &[Role::Clerk, Role::Inspector, Role::Auditor],
    ),
    (Action::ReadLogEntries, &[Role::Inspector, Role::Auditor]),
    (
        Action::Audit,
        &[Role::Clerk, Role::Inspector, Role::Auditor],
    ),
    (Action::ReviewSchool, &[Role::Education]),
    (
        Action::ReadSchoolLedger,
        &[Role::Clerk, Role::Education, Role::Analyst],
    ),
    (Action::PlatformReport, &[Role::Platform]),
    (Action::FileCase, &[Role::Worker, Role::Union]),
    (
        Action::ReadCase,
        &[
            Role::Worker,
            Role::Clerk,
            Role::Inspector,
            Role::Union,
            Role::Supervisor,
            Role::Platform,
        ],
    ),
    (
        Action::ActOnCase,
        &[
            Role::Worker,
            Role::Clerk,
            Role::Inspector,
            Role::Supervisor,
            Role::Union,
            Role::Platform,
        ],
    ),
    (
        Action::CaseQueue,
        &[
            Role::Clerk,
            Role::Inspector,
            Role::Union,
            Role::Supervisor,
            Role::Platform,
        ],
    ),
    (Action::AttachEvidence, &[Role::Worker]),
    (
        Action::ReadInbox,
        &[
            Role::Worker,
            Role::Clerk,
            Role::Inspector,
            Role::Union,
            Role::Supervisor,
            Role::Platform,
        ],
    ),
    (
        Action::InboxRates,
        &[Role::Clerk, Role::Inspector, Role::Analyst],
    ),
    (Action::ReviewSignup, &[Role::Clerk]),
    (Action::ResetPassword, &[Role::Clerk]),
    (Action::Analyse, &[Role::Analyst]),
    (Action::RequestTransfer, &[Role::Worker, Role::Clerk]),
    (Action::TransferQueue, &[Role::Clerk]),
    (Action::ReadTransfer, &[Role::Worker, Role::Clerk]),
    (Action::GridAlerts, &[Role::Grid]),
    (Action::MonitorCompliance, &[Role::Inspector]),
    (Action::PlatformRating, &[Role::Platform]),
    (Action::CoveredAgreements, &[Role::Worker]),
    (Action::DeliverActivity, &[Role::Platform]),
];

/// The roles that may take `action`.
pub fn roles_for(action: Action) -> &'static [Role] {
    TABLE
        .iter()
        .find(|(a, _)| *a == action)
        .map(|(_, roles)| *roles)
        .unwrap_or(&[])
}

/// Who is acting: an account and its (parsed) role.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    pub account: &'a AccountRow,
    pub role: Role,
}

impl<'a> Actor<'a> {
    pub fn new(account: &'a AccountRow, role: Role) -> Actor<'a> {
        Actor { account, role }
    }

    /// Whether `region` (six digits) lies within the account's region (national: all).
    pub fn covers(&self, region: u32) -> bool {
        self.account.covers(region)
    }

    fn owns(&self, person: &PersonKey) -> bool {
        self.account.person == Some(person.0)
    }
}

/// Why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// The role may not take this action at all.
    Role,
    /// Someone else's record, plans or log.
    NotOwner,
    /// Outside the account's region.
    OutOfRegion,
    /// A job somebody else started.
    NotStarter,
    /// A platform account without a credit code.
    NoOrg,
    /// An import that would widen whom its clerk may read.
    Widening,
    /// Not a party the case kind names for this step.
    NotParty,
    /// The step is not allowed from the case's current state.
    State,
}

/// A refusal, in Chinese and English, saying what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub why: Why,
    pub zh: String,
    pub en: String,
}

impl Denied {
    fn new(why: Why, zh: impl Into<String>, en: impl Into<String>) -> Denied {
        Denied {
            why,
            zh: zh.into(),
            en: en.into(),
        }
    }
}

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.zh, self.en)
    }
}

impl std::error::Error for Denied {}

/// "a clerk", "an auditor", "a union" (its u sounds like "you", as in every role name
/// starting with u here).
fn with_article(word: &str) -> String {
    let vowel = word
        .chars()
        .next()
        .is_some_and(|c| "aeio".contains(c.to_ascii_lowercase()));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// Whether the actor's role may take `action` at all, before anything is loaded.
pub fn check(actor: Actor<'_>, action: Action) -> Result<(), Denied> {
    let roles = roles_for(action);
    if !roles.contains(&actor.role) {
        let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let allowed_zh: Vec<&str> = roles.iter().map(|r| r.name_zh()).collect();
        return Err(Denied::new(
            Why::Role,
            format!(
                "{}账户不能做这件事（允许的角色：{}）",
                actor.role.name_zh(),
                allowed_zh.join("、")
            ),
            format!(
                "{} account cannot do this (allowed roles: {})",
                with_article(actor.role.as_str()),
                allowed.join(", ")
            ),
        ));
    }
    if action == Action::PlatformReport && own_org(actor).is_none() {
        return Err(Denied::new(
            Why::NoOrg,
            "此平台账户没有登记统一社会信用代码，无法出报告：请管理员用 anxin account add NAME --role platform --org 代码 重建账户",
            "this platform account has no credit code, so it has no report: ask an administrator to re-create it with anxin account add NAME --role platform --org CODE",
        ));
    }
    Ok(())
}

/// A platform account's own credit code, trimmed; `None` when it has none.
pub fn own_org<'a>(actor: Actor<'a>) -> Option<&'a str> {
    actor
        .account
        .org
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
}

/// What the decision about a person needs to know of them.
#[derive(Debug, Clone, Copy)]
pub struct PersonFacts<'a> {
    pub key: &'a PersonKey,
    /// Where they live and every region they are insured in.
    pub regions: &'a [u32],
}

fn not_owner() -> Denied {
    Denied::new(
        Why::NotOwner,
        "只能查看本人的记录",
        "you may read only your own record",
    )
}

/// Before loading a person: `Ok(true)` for the owner, `Ok(false)` for an official who must
/// state a purpose and whose region is checked by [`check_person`] once the record is loaded;
/// every other caller is refused without touching the database.
pub fn check_person_key(actor: Actor<'_>, action: Action, key: &PersonKey) -> Result<bool, Denied> {
    if actor.owns(key) && matches!(actor.role, Role::Worker) {
        return Ok(true);
    }
    match action {
        Action::OwnPlans | Action::ReadAccessLog => {
            check(actor, action)?;
            Err(not_owner())
        }
        Action::ReadPerson => match actor.role {
            Role::Worker => Err(not_owner()),
            Role::Clerk | Role::Inspector => Ok(false),
            _ => check(actor, action).map(|()| false),
        },
        _ => check(actor, action).map(|()| false),
    }
}

/// After loading: the owner, or an official whose region covers where the person lives or is
/// insured.
pub fn check_person(
    actor: Actor<'_>,
    action: Action,
    person: PersonFacts<'_>,
) -> Result<(), Denied> {
    if check_person_key(actor, action, person.key)? {
        return Ok(());
    }
    if person.regions.iter().any(|r| actor.covers(*r)) {
        Ok(())
    } else {
        Err(Denied::new(
            Why::OutOfRegion,
            "此人不在你的辖区（既不居住也不在此参保），不能查阅",
            "this person neither lives nor is insured in your region: you may not read the record",
        ))
    }
}

/// The inbox of an account that is no person's (an official's, a platform's): a key no
/// resident ID can hash to (its domain differs), made from the account's id.
pub fn account_inbox(account: i64) -> PersonKey {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("anxin account inbox|{account}").as_bytes());
    PersonKey(digest.into())
}

/// Whose inbox the actor reads: their own, the only one they may — a worker's record's, an
/// official's or a platform's account's. A worker account linked to no person has no inbox.
pub fn own_inbox(actor: Actor<'_>) -> Result<PersonKey, Denied> {
    check(actor, Action::ReadInbox)?;
    if actor.role != Role::Worker {
        return Ok(account_inbox(actor.account.id));
    }
    actor.account.person.map(PersonKey).ok_or_else(|| {
        Denied::new(
            Why::NotOwner,
            "此账户没有关联本人的参保记录，所以没有消息：请到社保经办窗口核实身份后关联",
            "this account is linked to no record of its own, so it has no messages: have it linked at a social insurance office once your identity is confirmed",
        )
    })
}

/// A worker's sign-up request is decided by a clerk whose region covers the region the
/// request names (the office the worker said they would visit).
pub fn check_signup(actor: Actor<'_>, region: u32) -> Result<(), Denied> {
    check(actor, Action::ReviewSignup)?;
    if actor.covers(region) {
        Ok(())
    } else {
        Err(Denied::new(
            Why::OutOfRegion,
            "这份开户申请要去的不是你的辖区，由那里的经办员核实",
            "this sign-up request names an office outside your region: a clerk there confirms it",
        ))
    }
}

/// The regions whose sign-up requests the actor decides, as a closed range of six-digit
/// codes (a province covers `PP0000..=PP9999`, a city `PPCC00..=PPCC99`, a county itself;
/// a national account every code).
pub fn signup_range(actor: Actor<'_>) -> (u32, u32) {
    match actor.account.region {
        None => (0, 999_999),
        Some(r) if r.is_multiple_of(10_000) => (r, r + 9_999),
        Some(r) if r.is_multiple_of(100) => (r, r + 99),
        Some(r) => (r, r),
    }
}

/// A clerk resets the password of a worker's account (never an official's: an
/// administrator does that on the server) when the worker lives or is insured in the
/// clerk's region (`person_regions`, `None` when not registered yet) or the account was
/// opened there (`target.region`).
pub fn check_reset(
    actor: Actor<'_>,
    target: &AccountRow,
    person_regions: Option<&[u32]>,
) -> Result<(), Denied> {
    check(actor, Action::ResetPassword)?;
    if target.role != Role::Worker.as_str() {
        return Err(Denied::new(
            Why::Role,
            "经办员只能为劳动者账户重置密码；其他账户由管理员在服务器上重置",
            "a clerk resets only workers' passwords; other accounts are reset by an administrator on the server",
        ));
    }
    let opened_here = target.region.is_some_and(|r| actor.covers(r));
    let lives_here = person_regions.is_some_and(|rs| rs.iter().any(|r| actor.covers(*r)));
    if opened_here || lives_here {
        Ok(())
    } else {
        Err(Denied::new(
            Why::OutOfRegion,
            "此人既不在你的辖区居住或参保，账户也不是在这里开通的：请到所在地经办窗口重置",
            "this person neither lives nor is insured in your region and the account was not opened here: reset it at their own office",
        ))
    }
}

/// An import job is followed by the clerk who started it.
pub fn check_job(actor: Actor<'_>, started_by: i64) -> Result<(), Denied> {
    check(actor, Action::FollowImport)?;
    if actor.account.id == started_by {
        Ok(())
    } else {
        Err(Denied::new(
            Why::NotStarter,
            "这是别人发起的导入任务，只有发起人能查看",
            "this import was started by someone else: only they may follow it",
        ))
    }
}

/// A party to a case step, as a case kind's rules name it (`policy/cases/*.toml`, `by`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The kind's handling role, in the office whose region covers the case's holder region.
    Handler,
    /// Who filed the case: the worker themselves; for a kind an office files (a union's
    /// agreement), an account of that role whose region covers the case's.
    Filer,
    /// The platform an agreement names ("party"): an account of that platform's credit code.
    Counterparty,
    /// Nobody's step: the clock takes it when a deadline runs out (`on_expiry`).
    Clock,
}

impl Party {
    pub fn parse(text: &str) -> Option<Party> {
        match text {
            "handler" => Some(Party::Handler),
            "filer" => Some(Party::Filer),
            "party" => Some(Party::Counterparty),
            "clock" => Some(Party::Clock),
            _ => None,
        }
    }
}

/// What a decision about a case needs to know of it.
#[derive(Debug, Clone, Copy)]
pub struct CaseFacts<'a> {
    /// The worker who filed it (no one's key for a kind an office files).
    pub filer: &'a PersonKey,
    /// The role that files the kind: a worker, or an office (a union).
    pub filer_role: Role,
    /// The platform that signs (an agreement's party, its credit code); `None` for kinds
    /// whose party takes no step (a complaint's platform reads nothing through it).
    pub counterparty: Option<&'a str>,
    /// The case's region (where it was filed).
    pub region: u32,
    /// The region of the office holding it now (the case's region, or above once escalated).
    pub holder_region: u32,
    /// The kind's handling role and the roles that see the cases of their region.
    pub handler: Role,
    pub viewers: &'a [Role],
    /// The role holding the case now: the handler, or the supervisor an overdue case was
    /// escalated to (the kind's escalation rules).
    pub holder: Role,
}

fn is_handler(actor: Actor<'_>, case: &CaseFacts<'_>) -> bool {
    actor.role == case.holder && actor.covers(case.holder_region)
}

/// The filer of a case: the worker themselves, or an account of the office role that files
/// the kind whose region covers the case's region.
fn is_filer(actor: Actor<'_>, case: &CaseFacts<'_>) -> bool {
    actor.role == case.filer_role
        && if actor.role == Role::Worker {
            actor.owns(case.filer)
        } else {
            actor.account.region.is_some() && actor.covers(case.region)
        }
}

/// The platform an agreement names, acting through an account of its own credit code.
fn is_counterparty(actor: Actor<'_>, case: &CaseFacts<'_>) -> bool {
    actor.role == Role::Platform
        && case
            .counterparty
            .is_some_and(|code| own_org(actor) == Some(code))
}

/// Filing a case of a kind whose filer is `kind_filer`: a worker, for themselves (the case
/// is about the account's own person); an office (a union) for its own region, which must be
/// one (a national account binds no region's workers).
pub fn check_file_case(
    actor: Actor<'_>,
    kind_filer: Role,
    filer: &PersonKey,
) -> Result<(), Denied> {
    check(actor, Action::FileCase)?;
    if actor.role != kind_filer {
        return Err(Denied::new(
            Why::NotParty,
            format!("这类案件由{}提起", kind_filer.name_zh()),
            format!(
                "this kind of case is filed by {}",
                with_article(kind_filer.as_str())
            ),
        ));
    }
    if kind_filer != Role::Worker {
        return if actor.account.region.is_some() {
            Ok(())
        } else {
            Err(Denied::new(
                Why::OutOfRegion,
                "没有辖区的账户不能代表某一地区签订集体合同：请用本地区工会的账户",
                "an account with no region cannot sign for a region's workers: use the account of the region's union",
            ))
        };
    }
    if actor.owns(filer) {
        Ok(())
    } else {
        Err(Denied::new(
            Why::NotOwner,
            "只能为本人提起投诉",
            "you may file a complaint only for yourself",
        ))
    }
}

/// Reading a case: its filer; the handling role of the office holding it or of the case's
/// own region; a supervisor of either (they oversee every office of their region); a viewer
/// role (the union) of the case's region.
pub fn check_case_read(actor: Actor<'_>, case: &CaseFacts<'_>) -> Result<(), Denied> {
    check(actor, Action::ReadCase)?;
    let ok = match actor.role {
        Role::Worker => actor.owns(case.filer),
        Role::Platform => is_counterparty(actor, case),
        role if role == case.handler || role == Role::Supervisor => {
            actor.covers(case.holder_region) || actor.covers(case.region)
        }
        role if role == case.filer_role => is_filer(actor, case),
        role => case.viewers.contains(&role) && actor.covers(case.region),
    };
    if ok {
        Ok(())
    } else if actor.role == Role::Worker {
        Err(Denied::new(
            Why::NotOwner,
            "只能查看本人提起的案件",
            "you may read only the cases you filed",
        ))
    } else if actor.role == Role::Platform && case.counterparty.is_some() {
        Err(Denied::new(
            Why::NotParty,
            "这份协议的另一方不是你的平台",
            "your platform is not this agreement's party",
        ))
    } else if actor.role != case.handler
        && actor.role != Role::Supervisor
        && actor.role != case.filer_role
        && !case.viewers.contains(&actor.role)
    {
        // A clerk and a complaint, an inspector and a back-payment: not this kind's party.
        Err(Denied::new(
            Why::NotParty,
            "这类案件不由你的岗位办理或查看",
            "your role neither handles nor sees this kind of case",
        ))
    } else {
        Err(Denied::new(
            Why::OutOfRegion,
            "此案件不在你的辖区，也不由你的机构办理",
            "this case is neither of your region nor held by your office",
        ))
    }
}

/// Taking a step of a case: the actor must be one of the parties `by` names, and the step must
/// be allowed from the case's current state (`allowed_from`, decided by the kind's rules).
pub fn check_case_step(
    actor: Actor<'_>,
    case: &CaseFacts<'_>,
    by: &[Party],
    allowed_from: bool,
) -> Result<(), Denied> {
    check(actor, Action::ActOnCase)?;
    let party = by.iter().any(|p| match p {
        Party::Handler => is_handler(actor, case),
        Party::Filer => is_filer(actor, case),
        Party::Counterparty => is_counterparty(actor, case),
        Party::Clock => false,
    });
    if !party {
        let names: Vec<&str> = by
            .iter()
            .map(|p| match p {
                Party::Handler => "holder",
                Party::Filer if case.filer_role == Role::Worker => "filer",
                Party::Filer => "filing union",
                Party::Counterparty => "platform party",
                Party::Clock => "clock (when its deadline passes)",
            })
            .collect();
        let names_zh: Vec<&str> = by
            .iter()
            .map(|p| match p {
                Party::Handler => "承办机构",
                Party::Filer if case.filer_role == Role::Worker => "提起案件的劳动者本人",
                Party::Filer => "提起协议的工会",
                Party::Counterparty => "协议另一方的平台",
                Party::Clock => "期限届满时自动",
            })
            .collect();
        let why = if actor.role == case.holder && by.contains(&Party::Handler) {
            Why::OutOfRegion
        } else {
            Why::NotParty
        };
        return Err(Denied::new(
            why,
            format!("这一步只能由{}办理", names_zh.join("或")),
            format!("only the case's {} may take this step", names.join(" or ")),
        ));
    }
    if !allowed_from {
        return Err(Denied::new(
            Why::State,
            "案件当前的状态下不能做这一步",
            "this step is not allowed from the case's current state",
        ));
    }
    Ok(())
}

/// Attaching evidence: the worker who filed the case, while it is open (`open`: the case is
/// not in a final state, decided by the kind's rules). Reading it (a file, the bundle) is
/// reading the case: [`check_case_read`].
pub fn check_case_attach(actor: Actor<'_>, case: &CaseFacts<'_>, open: bool) -> Result<(), Denied> {
    check(actor, Action::AttachEvidence)?;
    if case.filer_role != Role::Worker || !actor.owns(case.filer) {
        return Err(Denied::new(
            Why::NotOwner,
            "只能为本人提起的案件提交证据",
            "you may attach evidence only to a case you filed",
        ));
    }
    if !open {
        return Err(Denied::new(
            Why::State,
            "案件已办结或已撤回，不能再提交证据",
            "the case is closed or withdrawn: no more evidence can be attached",
        ));
    }
    Ok(())
}

/// The queue: inspectors and unions, for cases their region covers (the filter itself is
/// [`check_case_read`] on each case).
/// A transfer into `to_region` of the worker `person`: the worker for themselves, or a clerk
/// whose region covers the destination (the worker is at that office's desk).
pub fn check_request_transfer(
    actor: Actor<'_>,
    person: &PersonKey,
    to_region: u32,
) -> Result<(), Denied> {
    check(actor, Action::RequestTransfer)?;
    match actor.role {
        Role::Worker if actor.owns(person) => Ok(()),
        Role::Worker => Err(Denied::new(
            Why::NotOwner,
            "只能为本人申请转移",
            "you may ask to move only your own insurance",
        )),
        _ if actor.covers(to_region) => Ok(()),
        _ => Err(Denied::new(
            Why::OutOfRegion,
            "转入地不在你的辖区：由转入地的经办员受理",
            "the destination is outside your region: a clerk there takes the request",
        )),
    }
}

/// Downloading a certificate file again by its code (against the latest checkpoint the
/// peers' witnesses cosigned, with their cosignatures): its holder only, a worker with their
/// own record. Anyone with the code may still check it (what is certified, masked).
pub fn check_own_certificate(actor: Actor<'_>, holder: &PersonKey) -> Result<(), Denied> {
    check(actor, Action::ReadPerson)?;
    match actor.role {
        Role::Worker if actor.owns(holder) => Ok(()),
        _ => Err(Denied::new(
            Why::NotOwner,
            "只有持证人本人可以下载凭证文件（任何人都可以用核验码核验）",
            "only the holder may download the certificate file (anyone may check it by its code)",
        )),
    }
}

/// Whom a worker's own request for a transfer is about: the person of their own account, never
/// one the request names (a clerk names the person at the desk instead).
pub fn own_transfer_person(actor: Actor<'_>) -> Result<Option<PersonKey>, Denied> {
    check(actor, Action::RequestTransfer)?;
    match (actor.role, actor.account.person) {
        (Role::Worker, Some(p)) => Ok(Some(PersonKey(p))),
        (Role::Worker, None) => Err(Denied::new(
            Why::NotOwner,
            "你的账户没有关联本人的参保记录：请到经办窗口办理",
            "your account is linked to no record of your own: ask at the office's desk",
        )),
        _ => Ok(None),
    }
}

/// Reading one transfer (its steps, deadlines, claim place, voucher): the worker it moves,
/// their own only; a clerk of the instance, for a transfer into their region (`to_region`)
/// or out of the instance (`None`: the origin's side, which every clerk here handles).
pub fn check_read_transfer(
    actor: Actor<'_>,
    person: Option<&PersonKey>,
    to_region: Option<u32>,
) -> Result<(), Denied> {
    check(actor, Action::ReadTransfer)?;
    match actor.role {
        Role::Worker if person.is_some_and(|p| actor.owns(p)) => Ok(()),
        Role::Worker => Err(Denied::new(
            Why::NotOwner,
            "只能查看本人的转移",
            "you may see only your own transfers",
        )),
        _ if to_region.is_none_or(|r| actor.covers(r)) => Ok(()),
        _ => Err(Denied::new(
            Why::OutOfRegion,
            "这笔转移的转入地不在你的辖区",
            "this transfer's destination is outside your region",
        )),
    }
}

pub fn check_case_queue(actor: Actor<'_>) -> Result<(), Denied> {
    check(actor, Action::CaseQueue)
}

/// A region-level object (a row of the identification ledger, an alert): inside the account's
/// region.
pub fn in_region(actor: Actor<'_>, region: u32) -> bool {
    actor.covers(region)
}

/// The region a row of an import is about, and its column: where a contribution was paid,
/// where a person lives, where an org is registered, where a child goes to school (a child
/// with no school region yet is about no region: it opens no record to anyone).
pub fn row_region(input: &Input) -> Option<(&'static str, u32)> {
    Some(match input {
        Input::Person(p) => ("residence_region", p.residence_region.code()),
        Input::Org(o) => ("region", o.region.code()),
        Input::Child(c) => ("school_region", c.school_region?.code()),
        Input::Contribution(c) => ("region", c.region.code()),
    })
}

/// Whether the actor may import `input`. `known` is what the ledger already says of the
/// person the row is about (persons and contributions): the regions they live or are insured
/// in, `None` when they are not registered yet.
pub fn check_import_row(
    actor: Actor<'_>,
    input: &Input,
    known: Option<&[u32]>,
) -> Result<(), (&'static str, Denied)> {
    check(actor, Action::Import).map_err(|d| ("", d))?;
    if let Some((column, region)) = row_region(input)
        && !actor.covers(region)
    {
        let scope = actor
            .account
            .region
            .map(|r| format!("{r:06}"))
            .unwrap_or_default();
        return Err((
            column,
            Denied::new(
                Why::OutOfRegion,
                format!("此行的地区 {region:06} 不在你的辖区 {scope} 内：只能导入本辖区的记录"),
                format!(
                    "this row's region {region:06} is outside your region {scope}: you may import only rows of your own region"
                ),
            ),
        ));
    }
    let widens = match (input, known) {
        // A person already registered elsewhere: re-registering them here would open their
        // whole history to this clerk.
        (Input::Person(_), Some(regions)) => !regions.iter().any(|r| actor.covers(*r)),
        // A contribution for someone this clerk may not read yet, or who is not registered.
        (Input::Contribution(_), Some(regions)) => !regions.iter().any(|r| actor.covers(*r)),
        (Input::Contribution(_), None) => false,
        _ => false,
    };
    if widens {
        let column = if matches!(input, Input::Person(_)) {
            "residence_region"
        } else {
            "person_id"
        };
        return Err((
            column,
            Denied::new(
                Why::Widening,
                "此人既不居住也不在你的辖区参保：不能靠导入把其记录纳入本辖区，迁入请办理转移接续，新参保请走参保登记",
                "this person neither lives nor is insured in your region: an import cannot bring their record into it; a move is a transfer request, a new enrolment an enrolment case",
            ),
        ));
    }
    Ok(())
}

/// Appends `inputs` on behalf of `actor` in one transaction: every row the actor may not
/// import is refused with its reason ([`check_import_row`]) and changes nothing; the rest
/// land as [`Records::append`] lands them, outcomes in the order of `inputs`.
pub fn append_as<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    inputs: Vec<Input>,
) -> anxin_records::Result<Committed> {
    append_checked(records, actor, inputs, None)
}

/// [`append_as`], moving an import job on in the same transaction
/// ([`Records::append_job`]): `job` sees every row's outcome, refusals of this check included.
pub fn append_job_as<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    inputs: Vec<Input>,
    job: anxin_records::records::JobFn<'_>,
) -> anxin_records::Result<Committed> {
    append_checked(records, actor, inputs, Some(job))
}

/// The refused rows' outcomes with the landed rows' put in between, in input order.
fn merged(refused: &[Option<Outcome>], landed: &[Outcome]) -> Option<Vec<Outcome>> {
    let mut landed = landed.iter();
    refused
        .iter()
        .map(|r| r.clone().or_else(|| landed.next().cloned()))
        .collect()
}

fn append_checked<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    inputs: Vec<Input>,
    job: Option<anxin_records::records::JobFn<'_>>,
) -> anxin_records::Result<Committed> {
    // What the ledger knows of each person the batch is about, looked up once per person.
    let mut known: HashMap<PersonKey, Option<Vec<u32>>> = HashMap::new();
    let mut refused: Vec<Option<Outcome>> = Vec::with_capacity(inputs.len());
    let mut allowed: Vec<Input> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let person = match &input {
            Input::Person(p) => Some(records.person_key(&p.person_id)),
            Input::Contribution(c) => Some(records.person_key(&c.person_id)),
            _ => None,
        };
        let regions = match person {
            Some(key) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(key) {
                    slot.insert(records.person_regions(&key)?);
                }
                known[&key].as_deref()
            }
            None => None,
        };
        match check_import_row(actor, &input, regions) {
            Ok(()) => {
                refused.push(None);
                allowed.push(input);
            }
            Err((column, denied)) => refused.push(Some(Outcome::Rejected(Rejection {
                column,
                reason_zh: denied.zh,
                reason_en: denied.en,
            }))),
        }
    }
    let committed = match job {
        None if allowed.is_empty() => Committed {
            outcomes: Vec::new(),
            head: records.store().head()?,
        },
        None => records.append(allowed)?,
        Some(job) if allowed.is_empty() => {
            let outcomes = merged(&refused, &[]).unwrap_or_default();
            records.save_job(&job(&outcomes))?;
            Committed {
                outcomes: Vec::new(),
                head: records.store().head()?,
            }
        }
        Some(job) => records.append_job(allowed, &mut |landed| {
            job(&merged(&refused, landed).unwrap_or_default())
        })?,
    };
    let outcomes = merged(&refused, &committed.outcomes)
        .ok_or_else(|| anxin_records::Error::Corrupt("an appended row has no outcome".into()))?;
    Ok(Committed {
        outcomes,
        head: committed.head,
    })
}

/// A monitor alert is seen and acted on only by a grid worker whose cells hold its area
/// (`covered`: one of the account's cells, inside its region — [`crate::monitor`]).
pub fn check_alert_area(actor: Actor<'_>, covered: bool) -> Result<(), Denied> {
    check(actor, Action::GridAlerts)?;
    if covered {
        Ok(())
    } else {
        Err(Denied::new(
            Why::OutOfRegion,
            "这条预警不在分给你的网格里",
            "this alert is not in the grid cells assigned to you",
        ))
    }
}

/// A step on an alert that its state does not allow (`state` in words).
pub fn alert_state_denied(state_zh: &str, state_en: &str) -> Denied {
    Denied::new(
        Why::State,
        format!("这条预警当前“{state_zh}”，不能做这一步"),
        format!("this alert is {state_en}: the step is not allowed now"),
    )
}

/// A platform account without a credit code has nothing of its own to see.
pub fn no_org() -> Denied {
    Denied::new(
        Why::NoOrg,
        "此平台账户没有登记统一社会信用代码：请管理员用 anxin account add NAME --role platform --org 代码 重建账户",
        "this platform account has no credit code: ask an administrator to re-create it with anxin account add NAME --role platform --org CODE",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(role: Role, region: Option<u32>) -> AccountRow {
        AccountRow {
            id: 7,
            username: "someone".into(),
            role: role.as_str().into(),
            region,
            person: (role == Role::Worker).then_some([1; 32]),
            org: (role == Role::Platform).then(|| "91330100MA27XXXXXX".into()),
            password_hash: String::new(),
            created_at: 0,
        }
    }

    /// Every action against every role: exactly the roles of the table pass `check`.
    #[test]
    fn the_table_covers_every_action_and_role() {
        for action in Action::ALL {
            assert!(
                TABLE.iter().any(|(a, _)| *a == action),
                "{action:?} has no row"
            );
            for role in Role::ALL {
                let a = account(role, Some(330100));
                let got = check(Actor::new(&a, role), action).is_ok();
                assert_eq!(
                    got,
                    roles_for(action).contains(&role),
                    "{action:?} × {role:?}"
                );
            }
        }
    }

    #[test]
    fn articles_in_english() {
        let a = account(Role::Admin, None);
        let d = check(Actor::new(&a, Role::Admin), Action::Import).unwrap_err();
        assert!(d.en.starts_with("an admin account"), "{}", d.en);
        let a = account(Role::Auditor, None);
        let d = check(Actor::new(&a, Role::Auditor), Action::Import).unwrap_err();
        assert!(d.en.starts_with("an auditor account"), "{}", d.en);
        let a = account(Role::Platform, None);
        let d = check(Actor::new(&a, Role::Platform), Action::Import).unwrap_err();
        assert!(d.en.starts_with("a platform account"), "{}", d.en);
        assert_eq!(with_article(Role::Union.as_str()), "a union");
        assert_eq!(with_article(Role::Inspector.as_str()), "an inspector");
    }
}
