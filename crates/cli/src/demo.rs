//! `anxin serve --demo`: a living region in seconds — synthetic workers on several platforms
//! in four cities, two years of months with the gaps real records have, every amount computed
//! by the policy engine for its city and month. Deterministic: the same seed, the same region.

use std::collections::HashMap;

use anxin_domain::{CreditCode, Fen, RegionCode, ResidentId, YearMonth};
use anxin_import::{EmploymentForm, GapReason, Insurance, OrgKind, Payer, Relation, Status};
use anxin_policy::Policy;
use anxin_records::{ChildInput, ContributionInput, Input, OrgInput, PersonInput};

use crate::fail::{Fail, Result};

const CITIES: [&str; 4] = ["330100", "330200", "440300", "341200"];
const PLATFORMS: [(&str, &str); 3] = [
    ("9133010000000001", "蜂鸟配送（示例）"),
    ("9144030000000002", "快跑出行（示例）"),
    ("9133020000000003", "邻里家政（示例）"),
];
const SURNAMES: [char; 12] = [
    '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '周', '吴', '徐', '孙',
];
const GIVEN: [&str; 12] = [
    "秀英", "建国", "伟", "芳", "敏", "静", "强", "磊", "洋", "艳", "勇", "娟",
];

/// The credit code of the demo's `i`-th platform.
fn platform_code(i: usize) -> Option<CreditCode> {
    let (prefix, _) = PLATFORMS.get(i)?;
    CreditCode::complete(&format!("{prefix}X")).ok()
}

/// The platform the demo's `platform` account speaks for: 蜂鸟配送, which pays work-injury
/// insurance for its multi-platform riders, so `/platform` shows a real report.
const ACCOUNT_PLATFORM: usize = 0;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The synthetic region made a batch at a time, so a province-sized demo (millions of
/// workers) never sits in memory: the platforms first, then each block of workers with their
/// contributions right after them (a batch registers its persons before their records).
pub struct Generator {
    rng: Rng,
    platforms: Vec<CreditCode>,
    /// Monthly base, amount and personal-account share at the lowest tier, per city and month.
    amounts: HashMap<(&'static str, YearMonth), (Fen, Fen, Fen)>,
    first: YearMonth,
    last: YearMonth,
    /// Months from `first` to `last`, both in.
    months: u32,
    workers: u32,
    /// The next worker to make.
    next: u32,
    orgs_done: bool,
    /// A few workers to try, with what is special about each.
    pub samples: Vec<(String, &'static str)>,
}

fn bad(what: &str) -> Fail {
    Fail::data(
        format!("演示数据生成失败：{what}"),
        format!("making the demo data failed: {what}"),
    )
}

fn region(code: &str) -> Result<RegionCode> {
    RegionCode::parse(code).map_err(|_| bad("region"))
}

impl Generator {
    /// `workers` workers, each with `months` months of contributions ending at `last` (12–24:
    /// the demo's gaps need 12, `config::DEMO_MONTHS`).
    pub fn new(policy: &Policy, workers: u32, months: u32, last: YearMonth) -> Result<Generator> {
        if !crate::config::DEMO_MONTHS.contains(&months) {
            return Err(bad("months"));
        }
        let platforms: Vec<CreditCode> = (0..PLATFORMS.len())
            .map(platform_code)
            .collect::<Option<_>>()
            .ok_or_else(|| bad("credit code"))?;
        // Monthly amount at the lowest tier, from the policy engine, per city and month.
        let mut amounts = HashMap::new();
        let first = last.plus(1 - months as i32);
        for city in CITIES {
            let mut m = first;
            while m <= last {
                let request = anxin_policy::calc::quote::QuoteRequest {
                    region: city.to_string(),
                    month: Some(m),
                    ..Default::default()
                };
                let q = anxin_policy::calc::quote::quote(policy, &request, last)
                    .map_err(|e| bad(&e.en))?;
                amounts.insert((city, m), (q.base_fen, q.monthly_fen, q.account_fen));
                m = m.plus(1);
            }
        }
        Ok(Generator {
            rng: Rng(0x5EED_A17C_0DE5_1234),
            platforms,
            amounts,
            first,
            last,
            months,
            workers,
            next: 0,
            orgs_done: false,
            samples: Vec::new(),
        })
    }

    /// How many workers are made so far, of how many.
    pub fn progress(&self) -> (u32, u32) {
        (self.next, self.workers)
    }

    /// The next batch: whole workers (registration, then their months) until the batch holds
    /// at least `at_least` inputs or the region is complete; `None` when it is.
    pub fn next_batch(&mut self, at_least: usize) -> Result<Option<Vec<Input>>> {
        let mut inputs = Vec::new();
        if !self.orgs_done {
            self.orgs_done = true;
            for (i, (_, name)) in PLATFORMS.iter().enumerate() {
                inputs.push(Input::Org(OrgInput {
                    credit_code: self.platforms[i].clone(),
                    name: name.to_string(),
                    kind: OrgKind::Platform,
                    region: region(CITIES[i % 2])?,
                    record_id: None,
                }));
            }
        }
        let mut contributions = Vec::new();
        while self.next < self.workers && inputs.len() + contributions.len() < at_least {
            let w = self.next;
            self.next += 1;
            self.worker(w, &mut inputs, &mut contributions)?;
        }
        inputs.extend(contributions);
        Ok((!inputs.is_empty()).then_some(inputs))
    }

    fn worker(
        &mut self,
        w: u32,
        inputs: &mut Vec<Input>,
        contributions: &mut Vec<Input>,
    ) -> Result<()> {
        let (first, last, n) = (self.first, self.last, self.months);
        let rng = &mut self.rng;
        let birth = 1970 + rng.below(35) as u32;
        let prefix = format!(
            "341221{birth}{:02}{:02}{:03}",
            1 + rng.below(12),
            1 + rng.below(28),
            w % 1000
        );
        // Vary the address code so workers keep distinct IDs: its 5th and 6th digits count
        // the thousands, and every further 100,000 workers move its first four on by one
        // (3412, 3413, …), so up to millions of workers are distinct.
        let prefix = format!(
            "{}{:02}{}",
            3412 + w / 100_000,
            (w / 1000) % 100,
            &prefix[6..]
        );
        let id = ResidentId::complete(&prefix).map_err(|_| bad("resident id"))?;
        let pattern = w % 10;
        let home = CITIES[(w % 3) as usize];
        let platform = &self.platforms[(w % 3) as usize];
        let name = format!(
            "{}{}",
            SURNAMES[(w % 12) as usize],
            GIVEN[((w / 12) % 12) as usize]
        );
        inputs.push(Input::Person(PersonInput {
            person_id: id.clone(),
            name,
            hukou_region: Some(region("341200")?),
            residence_region: region(home)?,
            employment_form: if pattern == 9 {
                EmploymentForm::MultiPlatform
            } else {
                EmploymentForm::Flexible
            },
            platforms: vec![platform.clone()],
            permit_region: (home != "341200").then(|| region(home)).transpose()?,
            permit_since: (home != "341200").then(|| first.first_day()),
            household: Some(format!("H{w}")),
            record_id: None,
        }));
        if pattern == 7 {
            let child =
                ResidentId::complete(&format!("{}{}{:03}", &prefix[..6], "20190901", w % 1000))
                    .map_err(|_| bad("child id"))?;
            inputs.push(Input::Child(ChildInput {
                child_id: child,
                name: "小雨".into(),
                guardian_id: id.clone(),
                relation: Relation::Parent,
                school_region: Some(region(home)?),
                record_id: None,
            }));
        }
        if w < 10 {
            self.samples.push((
                id.expose().to_string(),
                match pattern {
                    0..=4 => "连续缴费 paid every month",
                    5 => "中间断缴 3 个月 a 3-month gap",
                    6 => "2 个月未缴 2 months unpaid",
                    7 => "生育免缴 2 个月、有子女 excused for childbirth, has a child",
                    8 => "阜阳转到杭州 moved from Fuyang to Hangzhou",
                    _ => "多平台，平台缴工伤 multi-platform, platform pays injury",
                },
            ));
        }
        let mut m = first;
        let mut k = 0;
        while m <= last {
            let city = if pattern == 8 {
                if k < n / 2 { "341200" } else { "330100" }
            } else {
                home
            };
            let (base, amount, account) =
                *self.amounts.get(&(city, m)).ok_or_else(|| bad("amount"))?;
            let (status, reason, amount, account) = match (pattern, k) {
                (5, 8..=10) => {
                    m = m.plus(1);
                    k += 1;
                    continue;
                }
                // The two months before the last eight unpaid (14 and 15 of 24).
                (6, k) if k + 10 == n || k + 9 == n => (Status::Unpaid, None, Fen(0), Fen(0)),
                (7, 5..=6) => (Status::Excused, Some(GapReason::Childbirth), Fen(0), Fen(0)),
                _ => (Status::Paid, None, amount, account),
            };
            contributions.push(Input::Contribution(ContributionInput {
                record_id: format!("demo-{w}-{m}-p"),
                person_id: id.clone(),
                month: m,
                insurance: Insurance::Pension,
                region: region(city)?,
                payer: Payer::Individual,
                payer_code: None,
                base,
                amount,
                account: Some(account),
                status,
                reason,
                paid_on: None,
            }));
            if pattern == 9 {
                contributions.push(Input::Contribution(ContributionInput {
                    record_id: format!("demo-{w}-{m}-i"),
                    person_id: id.clone(),
                    month: m,
                    insurance: Insurance::Injury,
                    region: region(city)?,
                    payer: Payer::Platform,
                    payer_code: Some(platform.clone()),
                    base,
                    amount: Fen(base.0 / 500),
                    account: Some(Fen(0)),
                    status: Status::Paid,
                    reason: None,
                    paid_on: None,
                }));
            }
            m = m.plus(1);
            k += 1;
        }
        Ok(())
    }
}

/// One account per role for the demo, each with a fresh password: (username, role, password,
/// what it can see). Workers are the first sample workers.
pub fn accounts(
    records: &mut anxin_records::Records<Box<dyn anxin_records::Store>>,
    samples: &[(String, &'static str)],
) -> Result<Vec<(String, &'static str, String, &'static str)>> {
    let mut out = Vec::new();
    let workers = samples.iter().take(3).enumerate();
    for (i, (id, _)) in workers {
        let username = format!("worker{}", i + 1);
        let password = crate::account_cmd::add(
            records,
            crate::account_cmd::AddArgs {
                username: &username,
                role: "worker",
                region: None,
                person: Some(id),
                org: None,
                password: None,
            },
        )?;
        out.push((username, "worker", password, "本人记录 own record"));
    }
    let platform = platform_code(ACCOUNT_PLATFORM).map(|c| c.to_string());
    let officials: [(&str, &'static str, Option<&str>, &'static str); 10] = [
        ("admin", "admin", None, "建账户 makes accounts"),
        (
            "clerk.hz",
            "clerk",
            Some("330100"),
            "杭州经办 Hangzhou clerk",
        ),
        (
            "clerk.sz",
            "clerk",
            Some("440300"),
            "深圳经办 Shenzhen clerk",
        ),
        (
            "inspector.zj",
            "inspector",
            Some("330000"),
            "浙江劳动监察 Zhejiang inspector",
        ),
        (
            "edu.hz",
            "education",
            Some("330100"),
            "杭州教育局 Hangzhou school office",
        ),
        (
            "platform",
            "platform",
            Some("330100"),
            "蜂鸟配送缴费报告 platform report (/platform)",
        ),
        ("grid.hz", "grid", Some("330100"), "网格员 grid worker"),
        (
            "union.hz",
            "union",
            Some("330100"),
            "杭州工会 Hangzhou union: complaints (/cases)",
        ),
        ("analyst", "analyst", None, "政策分析 analyst"),
        ("auditor", "auditor", None, "审计 auditor"),
    ];
    for (username, role, region, what) in officials {
        let password = crate::account_cmd::add(
            records,
            crate::account_cmd::AddArgs {
                username,
                role,
                region,
                person: None,
                org: (role == "platform")
                    .then_some(platform.as_deref())
                    .flatten(),
                password: None,
            },
        )?;
        out.push((username.to_string(), role, password, what));
    }
    Ok(out)
}

/// A demo account by its username (made by [`accounts`]).
fn demo_account(
    records: &mut anxin_records::Records<Box<dyn anxin_records::Store>>,
    name: &str,
) -> Result<anxin_records::access::AccountRow> {
    records.store().account_named(name)?.ok_or_else(|| {
        Fail::not_found(
            format!("没有演示账户 {name}"),
            format!("no demo account {name}"),
        )
    })
}

/// Demo complaints in every state, some overdue (issue 15), filed by the first two sample
/// workers (杭州 and 宁波, whose complaints the 浙江 inspector handles), with steps back in
/// time on a moved clock and a tick at `now` that escalates the overdue ones; their inboxes
/// get every step. Needs the accounts of [`accounts`]. Returns the cases made.
pub fn cases(
    records: &mut anxin_records::Records<Box<dyn anxin_records::Store>>,
    policy: &Policy,
    now: jiff::Timestamp,
) -> Result<usize> {
    use anxin_records::access::Role;
    use anxin_service::access::Actor;
    use anxin_service::cases::evidence::{self, Upload};
    use anxin_service::cases::{self, Engine, FileRequest, Kinds};
    let kinds = Kinds::embedded().map_err(|e| Fail::bad_input(e.clone(), e))?;
    let engine = Engine {
        policy,
        kinds: &kinds,
        reforms: &[],
    };
    let account = demo_account;
    let w1 = account(records, "worker1")?;
    let w2 = account(records, "worker2")?;
    let inspector = account(records, "inspector.zj")?;
    let day = |d: i64| now - jiff::SignedDuration::from_hours(24 * d);
    // (worker, subject, party, days ago filed, then steps: (days ago, action, outcome)).
    type Step = (i64, &'static str, Option<&'static str>);
    let plan: [(&anxin_records::access::AccountRow, &str, &str, i64, &[Step]); 8] = [
        (&w1, "unpaid_wages", "蜂鸟配送（示例）", 1, &[]),
        (&w2, "account_blocked", "快跑出行（示例）", 20, &[]),
        (
            &w1,
            "contributions_unpaid",
            "蜂鸟配送（示例）",
            12,
            &[(10, "accept", None)],
        ),
        (
            &w2,
            "unpaid_wages",
            "某劳务外包公司",
            130,
            &[(126, "accept", None), (40, "extend", None)],
        ),
        (
            &w1,
            "penalty",
            "快跑出行（示例）",
            30,
            &[(27, "mediate", None)],
        ),
        (
            &w2,
            "injury",
            "蜂鸟配送（示例）",
            60,
            &[
                (57, "accept", None),
                (20, "close", Some("order_to_correct")),
            ],
        ),
        (&w1, "other", "某平台", 9, &[(8, "withdraw", None)]),
        (
            &w2,
            "penalty",
            "快跑出行（示例）",
            45,
            &[(44, "refuse", Some("not_accepted"))],
        ),
    ];
    let clock = anxin_domain::TestClock::at(now);
    for (worker, subject, party, filed, steps) in plan {
        clock.set(day(filed));
        let view = cases::file(
            records,
            &engine,
            Actor::new(worker, Role::Worker),
            &FileRequest {
                kind: "complaint".into(),
                subject: subject.into(),
                party: party.into(),
                months: Vec::new(),
                terms: None,
            },
            &clock,
        )?;
        if subject == "unpaid_wages" {
            evidence::attach(
                records,
                &engine,
                Actor::new(worker, Role::Worker),
                &view.id,
                &[Upload {
                    name: "与站长的聊天记录.txt".into(),
                    content_type: None,
                    bytes: "（示例）站长：这个月的工资下周一起发。\n（示例）站长：再等等。\n"
                        .as_bytes()
                        .to_vec(),
                }],
                &clock,
            )?;
        }
        for (ago, action, outcome) in steps {
            clock.set(day(*ago));
            let (who, role) = if *action == "withdraw" {
                (worker, Role::Worker)
            } else {
                (&inspector, Role::Inspector)
            };
            cases::act(
                records,
                &engine,
                Actor::new(who, role),
                &view.id,
                action,
                *outcome,
                &clock,
            )?;
        }
    }
    clock.set(now);
    cases::tick(records, &engine, &clock)?;
    Ok(plan.len())
}

/// Demo back-payment requests and enrolments without an employer (issue 15), next to the
/// complaints of [`cases`]: the first sample worker (杭州) asks to pay up to three missed
/// months of the two years before the demo's month — filed under the `relaxed-backpay`
/// proposal, since no region recorded lets a flexible worker pay months afterwards — and the
/// 杭州 clerk approves (the
/// ledger records them as back-paid); they also ask to join the employee pension on a tax
/// record, approved with a first quote, and medical cover, still waiting; the second (宁波)
/// asks for injury cover 30 days ago, which nobody decided: overdue, escalated to 浙江 by the
/// tick. A worker without missed months files no back-payment. Returns the cases made.
pub fn more_cases(
    records: &mut anxin_records::Records<Box<dyn anxin_records::Store>>,
    policy: &Policy,
    now: jiff::Timestamp,
    today: YearMonth,
) -> Result<usize> {
    use anxin_records::access::Role;
    use anxin_service::access::Actor;
    use anxin_service::cases::evidence::{self, Upload};
    use anxin_service::cases::{self, Engine, FileRequest, Kinds};
    let kinds = Kinds::embedded().map_err(|e| Fail::bad_input(e.clone(), e))?;
    let reforms = ["relaxed-backpay".to_string()];
    let engine = Engine {
        policy,
        kinds: &kinds,
        reforms: &reforms,
    };
    let account = demo_account;
    let w1 = account(records, "worker1")?;
    let w2 = account(records, "worker2")?;
    let clerk = account(records, "clerk.hz")?;
    let day = |d: i64| now - jiff::SignedDuration::from_hours(24 * d);
    let clock = anxin_domain::TestClock::at(day(3));
    let mut made = 0;
    let file = |records: &mut anxin_records::Records<Box<dyn anxin_records::Store>>,
                who: &anxin_records::access::AccountRow,
                kind: &str,
                subject: &str,
                months: Vec<String>| {
        cases::file(
            records,
            &engine,
            Actor::new(who, Role::Worker),
            &FileRequest {
                kind: kind.into(),
                subject: subject.into(),
                party: String::new(),
                months,
                terms: None,
            },
            &clock,
        )
    };
    // Missed months of worker1 in the last two years, up to three.
    if let Some(person) = w1.person {
        let paid: Vec<i32> = records
            .store()
            .contributions_of(&person)?
            .into_iter()
            .filter(|c| c.insurance == anxin_domain::Insurance::Pension)
            .map(|c| c.month)
            .collect();
        // Months before the demo's own month only: the months it is still paying (and the
        // reminders the inbox sends for them) are not missed.
        let missed: Vec<String> = (1..=23)
            .map(|b| today.plus(-b))
            .filter(|m| !paid.contains(&m.index()))
            .take(3)
            .map(|m| m.to_string())
            .collect();
        if !missed.is_empty() {
            let view = file(records, &w1, "backpay", "pension", missed)?;
            clock.set(day(2));
            cases::act(
                records,
                &engine,
                Actor::new(&clerk, Role::Clerk),
                &view.id,
                "approve",
                None,
                &clock,
            )?;
            made += 1;
        }
    }
    clock.set(day(3));
    let pension = file(records, &w1, "enrolment", "pension", Vec::new())?;
    evidence::attach(
        records,
        &engine,
        Actor::new(&w1, Role::Worker),
        &pension.id,
        &[Upload {
            name: "个人所得税纳税记录（示例）.txt".into(),
            content_type: None,
            bytes: "（示例）2025 年度经营所得纳税记录：已申报 12 个月。\n"
                .as_bytes()
                .to_vec(),
        }],
        &clock,
    )?;
    clock.set(day(1));
    cases::act(
        records,
        &engine,
        Actor::new(&clerk, Role::Clerk),
        &pension.id,
        "approve",
        None,
        &clock,
    )?;
    file(records, &w1, "enrolment", "medical", Vec::new())?;
    clock.set(day(30));
    file(records, &w2, "enrolment", "injury", Vec::new())?;
    made += 3;
    clock.set(now);
    cases::tick(records, &engine, &clock)?;
    Ok(made)
}

/// Demo collective agreements (issue 15): the 杭州 union (`union.hz`) and the demo's platform
/// (`platform`, 蜂鸟配送) — one in force (both signed 40 and 38 days ago, sent for review 30
/// days ago, taken into force by the clock when the 15 review days passed), which covers the
/// first sample worker (杭州, flexible, 蜂鸟配送) and gives them their quote under it; one
/// under review; one the platform has not answered in 20 days, escalated by the tick. Needs
/// the accounts of [`accounts`]. Returns the agreements made.
pub fn agreements(
    records: &mut anxin_records::Records<Box<dyn anxin_records::Store>>,
    policy: &Policy,
    now: jiff::Timestamp,
) -> Result<usize> {
    use anxin_records::access::Role;
    use anxin_service::access::Actor;
    use anxin_service::cases::agreement::{PayRate, Terms};
    use anxin_service::cases::{self, Engine, FileRequest, Kinds};
    let kinds = Kinds::embedded().map_err(|e| Fail::bad_input(e.clone(), e))?;
    let engine = Engine {
        policy,
        kinds: &kinds,
        reforms: &[],
    };
    let account = demo_account;
    let union = account(records, "union.hz")?;
    let platform = account(records, "platform")?;
    let code = platform_code(ACCOUNT_PLATFORM)
        .map(|c| c.to_string())
        .ok_or_else(|| Fail::data("no demo platform", "no demo platform"))?;
    let day = |d: i64| now - jiff::SignedDuration::from_hours(24 * d);
    let today = now.to_zoned(anxin_domain::china()).date();
    let first = today.first_of_month();
    let last = first
        .checked_add(jiff::Span::new().years(1))
        .and_then(|d| d.yesterday())
        .map_err(|e| Fail::data(e.to_string(), e.to_string()))?;
    let terms = |title: &str, base: Option<i64>, share: Option<u32>| Terms {
        title: title.into(),
        pay_rates: vec![
            PayRate {
                item: "每单配送费（3 公里内）".into(),
                amount_fen: 450,
                per: "order".into(),
            },
            PayRate {
                item: "恶劣天气补贴".into(),
                amount_fen: 200,
                per: "order".into(),
            },
        ],
        contribution_base_fen: base,
        platform_share_percent: share,
        supplementary: vec!["意外伤害保险".into()],
        regions: vec!["330100".into()],
        categories: vec!["flexible".into(), "multi_platform".into()],
        from: first.to_string(),
        to: last.to_string(),
    };
    let clock = anxin_domain::TestClock::at(day(40));
    // (title, base, share, days ago filed, steps: (days ago, by the union?, action)).
    type Step = (i64, bool, &'static str);
    type Planned = (&'static str, Option<i64>, Option<u32>, i64, &'static [Step]);
    let plan: [Planned; 3] = [
        (
            "杭州外卖配送员集体合同（示例）",
            Some(600_000),
            Some(50),
            40,
            &[
                (40, true, "union_sign"),
                (38, false, "platform_sign"),
                (30, false, "submit"),
            ],
        ),
        (
            "杭州配送员工资专项集体合同（示例）",
            None,
            None,
            12,
            &[
                (11, false, "platform_sign"),
                (10, true, "union_sign"),
                (3, false, "submit"),
            ],
        ),
        (
            "杭州配送员补充保险专项集体合同（示例）",
            None,
            Some(30),
            25,
            &[(24, true, "union_sign")],
        ),
    ];
    for (title, base, share, filed, steps) in plan {
        clock.set(day(filed));
        let view = cases::file(
            records,
            &engine,
            Actor::new(&union, Role::Union),
            &FileRequest {
                kind: "agreement".into(),
                subject: "collective".into(),
                party: code.clone(),
                months: Vec::new(),
                terms: Some(terms(title, base, share)),
            },
            &clock,
        )?;
        for (ago, by_union, action) in steps {
            clock.set(day(*ago) + jiff::SignedDuration::from_secs(60));
            let (who, role) = if *by_union {
                (&union, Role::Union)
            } else {
                (&platform, Role::Platform)
            };
            cases::act(
                records,
                &engine,
                Actor::new(who, role),
                &view.id,
                action,
                None,
                &clock,
            )?;
        }
    }
    clock.set(now);
    cases::tick(records, &engine, &clock)?;
    Ok(plan.len())
}

/// The grid account of the demo and the district whose cells it looks after (issue 16).
pub const MONITOR_GRID: (&str, &str) = ("grid.hz", "330106");

/// A small monitor month for the pages (issue 16): the monitor's own generator (a few
/// hundred workers, a few thousand orders over two months, so income drops show), ingested
/// platform by platform, the monthly run, its results where the server reads them, and the
/// demo's grid account given every cell of one district. Returns (alerts, alerts in the grid
/// account's cells, platforms rated, the run's month).
pub fn monitor(
    d: &crate::data::DataDir,
    policy: &Policy,
    today: YearMonth,
) -> Result<(usize, usize, usize, YearMonth)> {
    use anxin_monitor::{ingest, layout, run, synth};
    let dir = d.dir.clone();
    let key = d.data_key()?;
    // The month before --today's: every order of it lies in the past.
    let month = today.plus(-1);
    let deliveries = dir.join("monitor").join(".demo-deliveries");
    let s = synth::generate(
        &deliveries,
        &synth::GenOptions {
            workers: 600,
            orders: 4_000,
            seed: 16,
            month,
            months: 2,
            format: synth::Format::Csv,
        },
    )?;
    let reg = synth::registry();
    reg.write(&layout::platforms_file(&dir))?;
    ingest::load_insured(&dir, &key, &deliveries.join("insured.csv"))?;
    let now = jiff::Timestamp::now();
    for file in &s.files {
        // `{code}-{YYYY-MM}.csv`, as the generator names each platform's delivery.
        let stem = file
            .file_stem()
            .map(|x| x.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((code, m)) = stem.split_at_checked(stem.len().saturating_sub(8)) else {
            continue;
        };
        let Ok(m) = YearMonth::parse(&m[1..]) else {
            continue;
        };
        ingest::ingest(
            &dir,
            &key,
            &reg,
            &ingest::IngestOptions {
                file,
                platform: code,
                month: m,
                now,
            },
        )?;
    }
    let _ = std::fs::remove_dir_all(&deliveries);
    let r = run::run(
        &dir,
        policy,
        &reg,
        &run::RunOptions {
            region: "330000".into(),
            month,
            reforms: Vec::new(),
            threads: 1,
        },
    )?;
    run::write_outputs(&layout::runs_dir(&dir, month), &r)?;
    let (grid, district) = MONITOR_GRID;
    std::fs::write(
        anxin_service::monitor::grid_cells_file(&dir),
        format!("username,cell\n{grid},{district}\n"),
    )
    .map_err(|e| {
        Fail::data(
            format!("写网格分配失败：{e}"),
            format!("cannot write the grid cells: {e}"),
        )
    })?;
    let mine = r
        .alerts
        .iter()
        .filter(|a| a.area.starts_with(district))
        .count();
    Ok((r.alerts.len(), mine, r.compliance.len(), month))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole region in memory, batch after batch.
    fn all(policy: &Policy, workers: u32, last: YearMonth) -> Vec<Input> {
        let mut generator = Generator::new(policy, workers, 24, last).expect("generator");
        let mut inputs = Vec::new();
        while let Some(batch) = generator.next_batch(1_000).expect("batch") {
            inputs.extend(batch);
        }
        inputs
    }

    /// Made in batches, every worker is registered before their months (in the same batch),
    /// and workers stay distinct well past 100,000 (the ID's address code moves on).
    #[test]
    fn batches_register_before_they_record_and_ids_stay_distinct() {
        let policy = Policy::embedded().expect("embedded policy");
        let last = YearMonth::new(2026, 6).expect("month");
        let mut generator = Generator::new(&policy, 300, 24, last).expect("generator");
        let mut batches = 0;
        while let Some(batch) = generator.next_batch(500).expect("batch") {
            batches += 1;
            let mut registered = std::collections::HashSet::new();
            for input in &batch {
                match input {
                    Input::Person(p) => {
                        registered.insert(p.person_id.expose().to_string());
                    }
                    Input::Contribution(c) => assert!(
                        registered.contains(c.person_id.expose()),
                        "a contribution before its person in batch {batches}"
                    ),
                    _ => {}
                }
            }
        }
        assert!(batches > 5, "{batches} batches of at least 500 inputs");
        assert_eq!(generator.progress(), (300, 300));
        // Workers w and w + 100,000 (same thousands, same sequence number) differ.
        let mut ids = std::collections::HashSet::new();
        let mut rng_free = Generator::new(&policy, 0, 24, last).expect("generator");
        for w in [5, 100_005, 200_005, 1_000_005, 9_999_999] {
            let (mut inputs, mut months) = (Vec::new(), Vec::new());
            rng_free
                .worker(w, &mut inputs, &mut months)
                .expect("worker");
            let Some(Input::Person(p)) = inputs.first() else {
                panic!("a person first");
            };
            assert!(
                ids.insert(p.person_id.expose()[..6].to_string()),
                "address of {w}"
            );
        }
    }

    /// A province's year (`--demo-months 12`): every worker's months are the last 12, and each
    /// sample keeps what makes it special — the gap, the unpaid and excused months, the move.
    #[test]
    fn a_year_of_months_keeps_every_sample_pattern() {
        let policy = Policy::embedded().expect("embedded policy");
        let last = YearMonth::new(2026, 6).expect("month");
        assert!(
            Generator::new(&policy, 10, 11, last).is_err(),
            "too few months"
        );
        assert!(
            Generator::new(&policy, 10, 25, last).is_err(),
            "too many months"
        );
        let mut generator = Generator::new(&policy, 10, 12, last).expect("generator");
        let mut inputs = Vec::new();
        while let Some(batch) = generator.next_batch(1_000).expect("batch") {
            inputs.extend(batch);
        }
        let first = YearMonth::new(2025, 7).expect("month");
        let of = |w: usize| -> Vec<&ContributionInput> {
            let id = &generator.samples[w].0;
            inputs
                .iter()
                .filter_map(|i| match i {
                    Input::Contribution(c)
                        if c.person_id.expose() == id && c.insurance == Insurance::Pension =>
                    {
                        Some(c)
                    }
                    _ => None,
                })
                .collect()
        };
        let count = |w: usize, status: Status| of(w).iter().filter(|c| c.status == status).count();
        assert_eq!(of(0).len(), 12, "paid every month");
        assert!(of(0).iter().all(|c| c.month >= first && c.month <= last));
        assert_eq!(of(5).len(), 9, "a 3-month gap");
        assert_eq!(count(6, Status::Unpaid), 2, "2 months unpaid");
        assert_eq!(count(7, Status::Excused), 2, "2 months excused");
        let cities: std::collections::BTreeSet<String> =
            of(8).iter().map(|c| c.region.to_string()).collect();
        assert_eq!(cities.len(), 2, "moved from Fuyang to Hangzhou: {cities:?}");
    }

    /// The platform account's code is one that paid: its report is not empty.
    #[test]
    fn the_platform_account_speaks_for_a_platform_that_paid() {
        let policy = Policy::embedded().expect("embedded policy");
        let last = YearMonth::new(2026, 6).expect("month");
        let inputs = all(&policy, 60, last);
        let code = platform_code(ACCOUNT_PLATFORM).expect("code");
        let paid: Vec<&ContributionInput> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::Contribution(c) if c.payer_code.as_ref() == Some(&code) => Some(c),
                _ => None,
            })
            .collect();
        assert!(!paid.is_empty());
        assert!(
            paid.iter()
                .all(|c| c.payer == Payer::Platform && c.amount.0 > 0)
        );
        let workers: std::collections::HashSet<&str> =
            paid.iter().map(|c| c.person_id.expose()).collect();
        assert_eq!(workers.len(), 2, "workers 9 and 39 of 60: {}", paid.len());
    }
}
