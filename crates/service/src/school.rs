//! The school review on the ledger (SPEC §S), shared by `anxin school …` and the pages of
//! the education office and the clerk: a file of applications reviewed and ranked, and the
//! identification ledger of school-driven enrolments with its cohort retention.

use std::collections::BTreeMap;

use anxin_domain::{RegionCode, YearMonth};
use anxin_import::Rows;
use anxin_policy::calc::school::{Application, MonthRecord, RankRequest, rank};
use anxin_policy::{Lang, Policy};
use anxin_records::identify::{Entry, RetentionRow};
use anxin_records::{PersonKey, Records, Store};

/// The guardian's months in `city`, as the school review reads them. An excused month is
/// one the office recorded with its reason, so its evidence was seen.
pub fn ledger_months<S: Store>(
    records: &mut Records<S>,
    key: &PersonKey,
    city: RegionCode,
) -> anxin_records::Result<Vec<MonthRecord>> {
    Ok(records
        .store()
        .contributions_of(&key.0)?
        .into_iter()
        .filter(|r| r.region == city.code())
        .filter_map(|r| {
            Some(MonthRecord {
                month: YearMonth::from_index(r.month)?,
                insurance: r.insurance,
                status: r.status,
                reason: r.reason,
                evidence: r.status == anxin_domain::codes::Status::Excused,
            })
        })
        .collect())
}

/// Whether the person holds a permit of `city`, and since when.
pub fn permit_in(
    row: &anxin_records::store::PersonRow,
    city: RegionCode,
) -> (bool, Option<YearMonth>) {
    let permit = row.permit_region == Some(city.code());
    let since = row
        .permit_since
        .as_deref()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .and_then(YearMonth::of_date);
    (permit, since.filter(|_| permit))
}

/// One line of the results file: a reviewed application, or a row refused before review.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ResultLine {
    pub row: u64,
    pub application: String,
    pub city: String,
    pub month: String,
    /// eligible, eligible_hardship, not_yet, or `rejected` for a row not reviewed.
    pub decision: String,
    pub points: String,
    pub rank: String,
    pub admitted: bool,
    pub decided_by: String,
    pub zh: String,
    pub en: String,
}

impl ResultLine {
    pub const HEADER: [&'static str; 11] = [
        "行号 row",
        "申请编号 application",
        "城市 city",
        "月份 month",
        "结论 decision",
        "积分 points",
        "名次 rank",
        "录取 admitted",
        "依据 decided_by",
        "原因",
        "reason",
    ];

    pub fn cells(&self) -> [String; 11] {
        [
            self.row.to_string(),
            self.application.clone(),
            self.city.clone(),
            self.month.clone(),
            self.decision.clone(),
            self.points.clone(),
            self.rank.clone(),
            if self.admitted { "yes" } else { "no" }.into(),
            self.decided_by.clone(),
            self.zh.clone(),
            self.en.clone(),
        ]
    }
}

#[derive(Debug, Default)]
pub struct FileReview {
    /// Every row of the file once, in file order.
    pub lines: Vec<ResultLine>,
    pub reviewed: usize,
    pub admitted: u32,
    pub refused: usize,
}

/// The signed attestation of one school review (`school_eligibility`), as its document: what
/// the office needs — the decision, the points, which thresholds were met, which proofs were
/// counted and for how many months — never the months or amounts themselves. Issued with
/// [`Records::issue_document`], it is also how the log knows of the review, which the
/// identification ledger ([`ledger`]) is built from.
pub fn attestation<S: Store>(
    records: &mut Records<S>,
    guardian: &anxin_domain::ResidentId,
    r: &anxin_policy::calc::school::SchoolResult,
    reforms: &[String],
    today: jiff::civil::Date,
) -> anxin_records::Result<String> {
    let proofs_counted: Vec<_> = r
        .proofs
        .iter()
        .filter(|p| p.months > 0)
        .map(|p| serde_json::json!({ "kind": p.kind, "months": p.months }))
        .collect();
    let subject = records.subject(guardian)?;
    Ok(serde_json::json!({
        "cert_type": "school_eligibility",
        "title": "随迁子女入学社保条件证明 School-admission insurance attestation",
        "issued_on": today.to_string(),
        "issuer": records.verifier().name(),
        "log_origin": records.origin(),
        "subject": subject,
        "city": r.region_code,
        "application_month": r.month,
        "rule": r.rule,
        "reforms": reforms,
        "decision": r.decision,
        "points": r.points,
        "proofs": proofs_counted,
        "thresholds": {
            "continuous_months": { "required": r.required_continuous, "met": r.continuous_months as i64 >= r.required_continuous },
            "cumulative_months": { "required": r.required_cumulative, "met": r.cumulative_months as i64 >= r.required_cumulative },
            "residence_permit": { "met": r.permit_met },
        },
    })
    .to_string())
}

/// Reviews every application in `rows` on the guardians' ledger months and ranks them per
/// city and month for `places` places. A row the review cannot take (unknown city, child past
/// school age, guardian not registered, a proof it does not know, …) is refused with its
/// reason; the rest are reviewed. With `attest` (the day of the review), each reviewed
/// guardian's review is also signed and recorded in the log ([`attestation`]), as an office's
/// review is: the identification ledger is built from those.
pub fn review_file<S: Store, E>(
    records: &mut Records<S>,
    policy: &Policy,
    rows: &mut Rows<'_>,
    places: u32,
    reforms: &[String],
    attest: Option<jiff::civil::Date>,
) -> Result<FileReview, E>
where
    E: From<anxin_records::Error> + From<anxin_policy::Error>,
{
    // (row, application id, city, month, reason zh, reason en) for rows refused before review.
    let mut refused: Vec<(u64, String, String, String, String, String)> = Vec::new();
    // Each application with its row and why it is not yet eligible (zh, en), for the results.
    type Reviewed = (u64, Application, (String, String));
    let mut groups: BTreeMap<(RegionCode, YearMonth), Vec<Reviewed>> = BTreeMap::new();
    for item in rows.by_ref() {
        let a = match item {
            Ok(anxin_import::Row::Application(a)) => a,
            Ok(_) => continue,
            Err(r) => {
                refused.push((
                    r.row,
                    String::new(),
                    String::new(),
                    String::new(),
                    r.reason_zh,
                    r.reason_en,
                ));
                continue;
            }
        };
        let mut refuse = |zh: String, en: String| {
            refused.push((
                a.row,
                a.application_id.clone(),
                a.city.to_string(),
                a.month.to_string(),
                zh,
                en,
            ));
        };
        // A city the policy cannot answer for at that month (say, a reform not yet in
        // force) refuses this row only.
        let scope = match policy.scope(&a.city.to_string(), a.month, reforms) {
            Ok(s) => s,
            Err(e) => {
                refuse(e.zh, e.en);
                continue;
            }
        };
        let max_age = match scope.int(anxin_policy::param::SCHOOL_CHILD_AGE_MAX) {
            Ok((v, _)) => v,
            Err(e) => {
                refuse(e.zh, e.en);
                continue;
            }
        };
        if let Some(born) = a.child_id.birth_date() {
            let age = a
                .month
                .first_day()
                .since(born)
                .ok()
                .and_then(|span| span.total((jiff::Unit::Year, born)).ok());
            if age.is_some_and(|years| years.floor() as i64 > max_age) {
                refuse(
                    format!("子女在 {} 已超过 {max_age} 周岁，超出入学年龄", a.month),
                    format!(
                        "the child is older than {max_age} in {}: past school age",
                        a.month
                    ),
                );
                continue;
            }
        }
        let key = records.person_key(&a.guardian_id);
        let Some(guardian) = records.store().person(&key.0)? else {
            refuse(
                "监护人不在登记册中：先导入监护人".into(),
                "the guardian is not in the registry: import the guardian first".into(),
            );
            continue;
        };
        let months = ledger_months(records, &key, a.city)?;
        let (permit, permit_since) = permit_in(&guardian, a.city);
        let application = Application {
            id: a.application_id.clone(),
            permit,
            permit_since,
            hardship: a.hardship,
            months,
            paid_ranges: Vec::new(),
            proofs: a
                .proofs
                .iter()
                .map(|&kind| anxin_policy::calc::school::Proof { kind, since: None })
                .collect(),
        };
        // Anything the review itself refuses (more months than one review takes, a
        // parameter the city lacks) refuses this row, not the file.
        let single = anxin_policy::calc::school::SchoolRequest {
            region: a.city.to_string(),
            month: Some(a.month),
            permit: application.permit,
            permit_since: application.permit_since,
            hardship: application.hardship,
            reforms: reforms.to_vec(),
            months: application.months.clone(),
            paid_ranges: Vec::new(),
            proofs: application.proofs.clone(),
        };
        let why = match anxin_policy::calc::school::review(policy, &single, a.month) {
            Ok(r) => {
                if let Some(today) = attest {
                    let document = attestation(records, &a.guardian_id, &r, reforms, today)?;
                    records.issue_document(&key, "school_eligibility", document, Some(r.month))?;
                }
                why_not(&r)
            }
            Err(e) => {
                refuse(e.zh, e.en);
                continue;
            }
        };
        groups
            .entry((a.city, a.month))
            .or_default()
            .push((a.row, application, why));
    }
    let (mut reviewed, mut admitted) = (0usize, 0u32);
    // Every row of the file once, in file order: reviewed ones and refused ones together.
    let mut lines: Vec<ResultLine> = Vec::new();
    for ((city, month), apps) in groups {
        let (numbers, whys): (Vec<u64>, Vec<(String, String)>) =
            apps.iter().map(|(n, _, w)| (*n, w.clone())).unzip();
        let request = RankRequest {
            region: city.to_string(),
            month: Some(month),
            places,
            reforms: reforms.to_vec(),
            applications: apps.into_iter().map(|(_, a, _)| a).collect(),
        };
        let result = rank(policy, &request, month)?;
        admitted += result.admitted;
        for ((n, r), (zh, en)) in numbers.iter().zip(&result.applications).zip(whys) {
            reviewed += 1;
            // A "not yet" always says why; an eligible one is explained by its rank.
            let (zh, en) = if r.decision == "not_yet" {
                (zh, en)
            } else {
                (String::new(), String::new())
            };
            lines.push(ResultLine {
                row: *n,
                application: r.id.clone(),
                city: city.to_string(),
                month: month.to_string(),
                decision: r.decision.to_string(),
                points: r.points.to_string(),
                rank: r.rank.map(|k| k.to_string()).unwrap_or_default(),
                admitted: r.admitted,
                decided_by: r.decided_by.unwrap_or("").to_string(),
                zh,
                en,
            });
        }
    }
    let refused_count = refused.len();
    for (n, id, city, month, zh, en) in refused {
        lines.push(ResultLine {
            row: n,
            application: id,
            city,
            month,
            decision: "rejected".into(),
            zh,
            en,
            ..ResultLine::default()
        });
    }
    lines.sort_by_key(|l| l.row);
    Ok(FileReview {
        lines,
        reviewed,
        admitted,
        refused: refused_count,
    })
}

/// Why a review is not yet eligible, in both languages: what is missing, and the earliest
/// month the condition could be met. Never empty.
pub fn why_not(r: &anxin_policy::calc::school::SchoolResult) -> (String, String) {
    let mut zh: Vec<String> = r.missing.iter().map(|m| m.zh.clone()).collect();
    let mut en: Vec<String> = r.missing.iter().map(|m| m.en.clone()).collect();
    if let Some(e) = r.earliest_month {
        zh.push(format!("按月缴费最早 {e} 满足"));
        en.push(format!("paying every month, met from {e} at the earliest"));
    }
    if zh.is_empty() {
        zh.push("未满足本市入学的社保条件".into());
        en.push("the city's social-insurance condition for school is not met".into());
    }
    (zh.join("；"), en.join("; "))
}

/// The identification ledger: school reviews the log knows of (signed attestations), the
/// enrolments they drove, and the cohort retention table.
#[derive(Debug, Default)]
pub struct Ledger {
    pub reviews: usize,
    /// Each entry with the months it paid pension (for retention).
    pub entries: Vec<(Entry, Vec<i32>)>,
    pub table: Vec<RetentionRow>,
}

pub fn ledger<S: Store, E>(
    records: &mut Records<S>,
    policy: &Policy,
    today: YearMonth,
) -> Result<Ledger, E>
where
    E: From<anxin_records::Error> + From<anxin_policy::Error>,
{
    Ok(ledger_with_keys::<S, E>(records, policy, today)?.0)
}

/// [`ledger`], with the full key of each entry's person beside it (the entries carry only the
/// short form): what the monitor needs to find the school cohort among platform workers.
pub fn ledger_with_keys<S: Store, E>(
    records: &mut Records<S>,
    policy: &Policy,
    today: YearMonth,
) -> Result<(Ledger, Vec<PersonKey>), E>
where
    E: From<anxin_records::Error> + From<anxin_policy::Error>,
{
    use anxin_records::event::Event;
    use anxin_records::identify::{Rules, retention, tag};
    // The school reviews the log knows of: signed attestations, every month each person was
    // reviewed for (an office may review the same guardian again, for another term).
    let mut reviews: BTreeMap<String, std::collections::BTreeSet<YearMonth>> = BTreeMap::new();
    let mut from = 0;
    loop {
        let rows = records.store().certificate_events(from, 4_096)?;
        let Some(last) = rows.last() else { break };
        from = last.seq + 1;
        for row in rows {
            if let Ok(Event::CertificateIssued(c)) = Event::from_bytes(&row.body)
                && c.cert_type == "school_eligibility"
                && let Some(m) = c.month
            {
                reviews.entry(c.person).or_default().insert(m);
            }
        }
    }
    let mut entries = Vec::new();
    let mut keys = Vec::new();
    for (person, months) in &reviews {
        let Some(key) = PersonKey::from_hex(person) else {
            continue;
        };
        let rows = records.store().contributions_of(&key.0)?;
        let region = rows.last().map_or(0, |r| r.region);
        // The first review the enrolment was driven by: a later review of the same guardian
        // (another term, another child) neither hides nor repeats it.
        for reviewed in months {
            let scope = policy.scope(&format!("{region:06}"), *reviewed, &[]);
            let rules = match &scope {
                Ok(s) => Rules {
                    window_months: s
                        .int(anxin_policy::param::SCHOOL_ENROLLMENT_WINDOW_MONTHS)?
                        .0 as i32,
                    reenrollment_gap_months: s
                        .int(anxin_policy::param::SCHOOL_REENROLLMENT_GAP_MONTHS)?
                        .0 as i32,
                },
                // No rules for where the person pays (no contributions, or a region the
                // policy files do not know): nothing to tag them by. Never a window made up
                // in code.
                Err(_) => continue,
            };
            let floor = scope
                .ok()
                .and_then(|s| s.money(anxin_policy::param::FLEX_BASE_FLOOR).ok())
                .map_or(0, |(f, _)| f.0);
            if let Some(entry) = tag(&key.short(), &rows, *reviewed, today, rules, floor) {
                let mut paid: Vec<i32> = rows
                    .iter()
                    .filter(|r| {
                        r.insurance == anxin_domain::codes::Insurance::Pension && r.status.is_paid()
                    })
                    .map(|r| r.month)
                    .collect();
                paid.sort_unstable();
                paid.dedup();
                entries.push((entry, paid));
                keys.push(key);
                break;
            }
        }
    }
    let table = retention(&entries, today);
    Ok((
        Ledger {
            reviews: reviews.len(),
            entries,
            table,
        },
        keys,
    ))
}

/// The cohort retention chart: one line per city and year of review, the share still paying
/// 3, 6, 12 and 24 months after; a point only where some member is old enough to tell. Every
/// word in `lang` alone (the page's language), city names included.
pub fn retention_chart(
    policy: &Policy,
    table: &[RetentionRow],
    today: YearMonth,
    lang: Lang,
) -> String {
    use anxin_chart::{LineChart, Series, Text, Unit};
    // A text in the page's language only (the chart shows both when both are given).
    let words = |zh: String, en: String| match lang {
        Lang::Zh => Text::new(zh, ""),
        Lang::En => Text::new("", en),
    };
    let x_labels = anxin_records::identify::RETENTION_MONTHS
        .iter()
        .map(|n| n.to_string())
        .collect();
    let series = table
        .iter()
        .map(|t| {
            let region = RegionCode::parse(&format!("{:06}", t.region))
                .ok()
                .and_then(|c| policy.region_by_code(c))
                .map_or_else(
                    || format!("{:06}", t.region),
                    |r| lang.pick(&r.name_zh, &r.name_en).to_string(),
                );
            let name = match lang {
                Lang::Zh => format!("{region} {}（{} 人）", t.year, t.admitted),
                Lang::En => format!("{region} {} ({} people)", t.year, t.admitted),
            };
            let values = t
                .still_paying
                .iter()
                .map(|(_, due, paying)| {
                    (*due > 0).then(|| 100.0 * f64::from(*paying) / f64::from(*due))
                })
                .collect();
            Series::new(name, values)
        })
        .collect();
    LineChart {
        title: words(
            format!("因入学参保人员的留存（截至 {today}）"),
            format!("school-driven enrolments still paying (as of {today})"),
        ),
        x_label: words(
            "入学审核后的月数".into(),
            "months after the school review".into(),
        ),
        y_label: words("仍在缴费的比例".into(), "share still paying".into()),
        x_labels,
        series,
        unit: Unit::Percent,
    }
    .to_svg()
}
