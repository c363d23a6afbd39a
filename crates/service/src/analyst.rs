//! The analyst's desk (SPEC §A1, §A2): the microsimulation of `anxin_policy::sim` run, summed
//! up and charted once for both front ends — `anxin simulate` prints the summary and writes
//! the tables, `/analyst` shows them with their charts and offers each table as CSV and
//! .xlsx — and the fiscal sharing of resident medical insurance for every region whose tier
//! is recorded. The front ends only parse and render: the bounds, the reforms a run may
//! compare and every figure come from here.

use std::collections::BTreeMap;

use anxin_domain::{Fen, YearMonth};
use anxin_policy::calc::fiscal::{self, FiscalRequest, FiscalResult};
use anxin_policy::cohort::{
    self, Cohort, CohortParams, CohortRequest, CohortResult, Forecast, Member,
};
use anxin_policy::sim::{self, SimParams, SimRequest, SimResult, YearStats};
use anxin_records::identify::RetentionRow;

use crate::school::Ledger;
use anxin_policy::{Error, Lang, Policy, Reform};
use serde::Serialize;

/// The tables of a run by name, each a header and rows of text (what the CLI writes as CSV).
pub type Tables = BTreeMap<&'static str, (Vec<&'static str>, Vec<Vec<String>>)>;

/// How big a run may be. The command line allows what the simulation allows; the server
/// passes its own, smaller limits (`anxin_server::gates`).
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub max_persons: u32,
    pub max_years: u32,
    /// People × years × scenarios (the law in force, each reform, all together): the work
    /// of a run, whatever its shape.
    pub max_work: u64,
}

impl Bounds {
    /// What `anxin_policy::sim::simulate` itself takes.
    pub const SIMULATION: Bounds = Bounds {
        max_persons: 20_000_000,
        max_years: 50,
        max_work: u64::MAX,
    };
}

/// A run: the request, its result, its tables and the one-screen summary.
#[derive(Debug)]
pub struct Desk {
    pub result: SimResult,
    pub tables: Tables,
    pub summary: Vec<Line>,
}

/// One scenario over the window: the line of the one-screen summary.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Line {
    pub scenario: String,
    pub reforms: Vec<String>,
    /// Flexible workers paying, in basis points of the flexible workers, in the first and the
    /// last year (`None`: nobody to count).
    pub coverage_first_bps: Option<i64>,
    pub coverage_last_bps: Option<i64>,
    /// Of those who paid one year, the share paying the next (basis points).
    pub retention_bps: Option<i64>,
    /// Over the window (fen).
    pub contributions_fen: i64,
    pub pooling_fen: i64,
    pub accounts_fen: i64,
    pub subsidy_local_fen: i64,
    pub subsidy_provincial_fen: i64,
    pub subsidy_voucher_fen: i64,
    pub paid_by_workers_fen: i64,
    /// Mean monthly pension of those who get one (fen), and the mean replacement rate (percent
    /// with two decimals, empty when nobody gets one).
    pub mean_pension_fen: i64,
    pub replacement_percent: String,
    /// Against the law in force: how many people gain more than 5 %, up to 5 %, see no
    /// change, lose up to 5 %, lose more than 5 % of their pension (`None` for the baseline).
    pub bands: Option<[u64; 5]>,
    pub persons: u64,
}

/// The shares of `a` in `b`, in basis points; `None` when `b` is 0.
fn share_bps(a: u64, b: u64) -> Option<i64> {
    (a * 10_000).checked_div(b).map(|v| v as i64)
}

fn window(s: &sim::ScenarioRun) -> YearStats {
    let mut w = YearStats::default();
    for st in &s.years {
        w.alive += st.alive;
        w.contract += st.contract;
        w.paying += st.paying;
        w.stayed += st.stayed;
        w.paid_before += st.paid_before;
        w.gross += st.gross;
        w.pooling += st.pooling;
        w.account += st.account;
        w.subsidy_local += st.subsidy_local;
        w.subsidy_provincial += st.subsidy_provincial;
        w.subsidy_voucher += st.subsidy_voucher;
        w.net += st.net;
    }
    w
}

/// The one-screen summary: a line per scenario, the baseline first.
pub fn summary(res: &SimResult) -> Vec<Line> {
    let base = &res.scenarios[0];
    res.scenarios
        .iter()
        .enumerate()
        .map(|(i, sc)| {
            let w = window(sc);
            let first = sc.years.first().copied().unwrap_or_default();
            let last = sc.years.last().copied().unwrap_or_default();
            let (mean, repl) = sim::pension_means(res, sc);
            let bands = (i > 0).then(|| {
                let mut bands = [0u64; 5];
                for (b, p) in base.people.iter().zip(&sc.people) {
                    bands[sim::band(b.pension, p.pension)] += 1;
                }
                bands
            });
            Line {
                scenario: sc.name.clone(),
                reforms: sc.reforms.clone(),
                coverage_first_bps: share_bps(first.paying, first.flexible()),
                coverage_last_bps: share_bps(last.paying, last.flexible()),
                retention_bps: share_bps(w.stayed, w.paid_before),
                contributions_fen: w.gross,
                pooling_fen: w.pooling,
                accounts_fen: w.account,
                subsidy_local_fen: w.subsidy_local,
                subsidy_provincial_fen: w.subsidy_provincial,
                subsidy_voucher_fen: w.subsidy_voucher,
                paid_by_workers_fen: w.net,
                mean_pension_fen: mean,
                replacement_percent: repl,
                bands,
                persons: sc.people.len() as u64,
            }
        })
        .collect()
}

/// The reforms a run over `params`' regions starting at `start` may compare: those that cover
/// every region of the population at that month (the others would be refused).
pub fn reforms_for<'p>(
    policy: &'p Policy,
    params: &SimParams,
    start: YearMonth,
) -> Vec<&'p Reform> {
    policy
        .reforms
        .values()
        .filter(|r| {
            params.region.items.iter().all(|(region, _)| {
                policy
                    .scope(region, start, std::slice::from_ref(&r.name))
                    .is_ok()
            })
        })
        .collect()
}

/// Checks a request against `bounds` and the policy's reforms before anything runs: a clear
/// reason in both languages, naming what is allowed.
pub fn check(policy: &Policy, req: &SimRequest, bounds: Bounds) -> anxin_policy::Result<()> {
    if req.persons == 0 || req.persons > bounds.max_persons {
        return Err(Error::bad_input(
            format!(
                "人数须在 1 到 {} 之间（现为 {}）",
                bounds.max_persons, req.persons
            ),
            format!(
                "persons must be 1 to {} (given {})",
                bounds.max_persons, req.persons
            ),
        ));
    }
    if req.years == 0 || req.years > bounds.max_years {
        return Err(Error::bad_input(
            format!(
                "年数须在 1 到 {} 之间（现为 {}）",
                bounds.max_years, req.years
            ),
            format!(
                "years must be 1 to {} (given {})",
                bounds.max_years, req.years
            ),
        ));
    }
    let scenarios = match req.reforms.len() {
        0 | 1 => 1 + req.reforms.len() as u64,
        n => 2 + n as u64,
    };
    let work = u64::from(req.persons) * u64::from(req.years) * scenarios;
    if work > bounds.max_work {
        return Err(Error::bad_input(
            format!(
                "这次模拟太大：{} 人 × {} 年 × {scenarios} 个方案 = {work}，最多 {}；请减少人数、年数或改革方案",
                req.persons, req.years, bounds.max_work
            ),
            format!(
                "this run is too large: {} people × {} years × {scenarios} scenarios = {work}, at most {}; fewer people, years or reforms",
                req.persons, req.years, bounds.max_work
            ),
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for r in &req.reforms {
        if !policy.reforms.contains_key(r) {
            let known: Vec<&str> = policy.reforms.keys().map(String::as_str).collect();
            return Err(Error::bad_input(
                format!("没有名为「{r}」的改革方案；可选：{}", known.join("、")),
                format!("no reform named \"{r}\"; known: {}", known.join(", ")),
            ));
        }
        if !seen.insert(r) {
            return Err(Error::bad_input(
                format!("改革方案「{r}」重复了"),
                format!("the reform \"{r}\" is named twice"),
            ));
        }
    }
    Ok(())
}

/// Runs the simulation within `bounds` and sums it up: what `anxin simulate` and `/analyst`
/// both call.
pub fn run(
    policy: &Policy,
    params: &SimParams,
    req: &SimRequest,
    bounds: Bounds,
) -> anxin_policy::Result<Desk> {
    check(policy, req, bounds)?;
    let result = sim::simulate(policy, params, req)?;
    Ok(desk(result, params))
}

/// The same over the people of a population file the analyst brought
/// ([`crate::population::read`]) instead of the synthetic population; `req.persons` is
/// taken as their number.
pub fn run_people(
    policy: &Policy,
    params: &SimParams,
    req: &SimRequest,
    people: &[sim::PersonIn],
    bounds: Bounds,
) -> anxin_policy::Result<Desk> {
    let mut req = req.clone();
    req.persons = u32::try_from(people.len()).unwrap_or(u32::MAX);
    check(policy, &req, bounds)?;
    let result = sim::simulate_people(policy, params, &req, people)?;
    Ok(desk(result, params))
}

fn desk(result: SimResult, params: &SimParams) -> Desk {
    let tables = sim::tables(&result, params);
    let summary = summary(&result);
    Desk {
        result,
        tables,
        summary,
    }
}

/// A scenario's name for people, in one language: the baseline is "现行规定" / "law in
/// force", a reform its title (never its code), several together "全部合并" / "all together".
pub fn scenario_label(policy: &Policy, name: &str, lang: Lang) -> String {
    match name {
        "baseline" => lang.pick("现行规定", "law in force").to_string(),
        "all" => lang.pick("全部合并", "all together").to_string(),
        r => policy.reforms.get(r).map_or_else(
            || r.to_string(),
            |f| lang.pick(&f.title_zh, &f.title_en).to_string(),
        ),
    }
}

/// A chart's text in the page's language only.
fn one(lang: Lang, zh: impl Into<String>, en: impl Into<String>) -> anxin_chart::Text {
    match lang {
        Lang::En => anxin_chart::Text::new("", en),
        _ => anxin_chart::Text::new(zh, ""),
    }
}

fn percent(bps: Option<i64>) -> Option<f64> {
    bps.map(|b| b as f64 / 100.0)
}

/// The desk's charts as SVG, in order: flexible workers' coverage and retention by year,
/// pooling fund and personal accounts, subsidies by who pays, the change by income decile
/// (contributions and pensions), and winners and losers in five bands; every text in `lang`
/// only, reforms by their titles.
pub fn charts(policy: &Policy, desk: &Desk, lang: Lang) -> Vec<String> {
    use anxin_chart::{BarChart, LineChart, Series, Unit};
    let res = &desk.result;
    let label = |n: &str| scenario_label(policy, n, lang);
    let t = |zh: &str, en: &str| one(lang, zh, en);
    let pick = |zh: &'static str, en: &'static str| lang.pick(zh, en);
    let years: Vec<String> = res.scenarios[0]
        .years
        .iter()
        .map(|y| y.year.to_string())
        .collect();
    let mut out = Vec::new();
    out.push(
        LineChart {
            title: t("灵活就业人员参保率", "flexible workers paying"),
            x_label: t("年份", "year"),
            y_label: t("参保的比例", "share paying"),
            x_labels: years.clone(),
            series: res
                .scenarios
                .iter()
                .map(|s| {
                    Series::new(
                        label(&s.name),
                        s.years
                            .iter()
                            .map(|y| percent(share_bps(y.paying, y.flexible())))
                            .collect(),
                    )
                })
                .collect(),
            unit: Unit::Percent,
        }
        .to_svg(),
    );
    out.push(
        LineChart {
            title: t(
                "续保率：上年缴费者今年仍缴费",
                "retention: last year's payers paying again",
            ),
            x_label: t("年份", "year"),
            y_label: t("续保的比例", "share staying"),
            x_labels: years,
            series: res
                .scenarios
                .iter()
                .map(|s| {
                    Series::new(
                        label(&s.name),
                        s.years
                            .iter()
                            .map(|y| percent(share_bps(y.stayed, y.paid_before)))
                            .collect(),
                    )
                })
                .collect(),
            unit: Unit::Percent,
        }
        .to_svg(),
    );
    let names: Vec<String> = res.scenarios.iter().map(|s| label(&s.name)).collect();
    let fen = |f: &dyn Fn(&Line) -> i64| -> Vec<Option<i64>> {
        desk.summary.iter().map(|l| Some(f(l))).collect()
    };
    out.push(
        BarChart {
            title: t(
                "窗口期缴费：统筹基金与个人账户",
                "contributions over the window: pooling fund and personal accounts",
            ),
            x_label: t("方案", "scenario"),
            y_label: t("元", "yuan"),
            categories: names.clone(),
            series: vec![
                Series::from_fen(pick("统筹基金", "pooling fund"), &fen(&|l| l.pooling_fen)),
                Series::from_fen(
                    pick("个人账户", "personal accounts"),
                    &fen(&|l| l.accounts_fen),
                ),
            ],
            unit: Unit::Yuan,
        }
        .to_svg(),
    );
    out.push(
        BarChart {
            title: t("补贴支出：谁来出", "subsidy cost by who pays"),
            x_label: t("方案", "scenario"),
            y_label: t("元", "yuan"),
            categories: names,
            series: vec![
                Series::from_fen(
                    pick("地方（就业困难补贴）", "local (hardship subsidy)"),
                    &fen(&|l| l.subsidy_local_fen),
                ),
                Series::from_fen(
                    pick("省级", "provincial"),
                    &fen(&|l| l.subsidy_provincial_fen),
                ),
                Series::from_fen(
                    pick("地方（入学券）", "local (school voucher)"),
                    &fen(&|l| l.subsidy_voucher_fen),
                ),
            ],
            unit: Unit::Yuan,
        }
        .to_svg(),
    );
    if res.scenarios.len() > 1 {
        let deciles: Vec<String> = (1..=10).map(|d| d.to_string()).collect();
        // One chart per scenario and measure: ten bars of one series are wide enough to
        // carry their values at 360 px (several series side by side are not).
        let change = |s: &sim::ScenarioRun, pension: bool| -> Vec<Option<f64>> {
            (0..10u8)
                .map(|d| {
                    let (mut b, mut r) = (0i128, 0i128);
                    for i in 0..res.decile.len() {
                        if res.decile[i] != d {
                            continue;
                        }
                        let (pb, pr) = (&res.scenarios[0].people[i], &s.people[i]);
                        if pension {
                            b += pb.pension as i128;
                            r += pr.pension as i128;
                        } else {
                            b += pb.paid as i128;
                            r += pr.paid as i128;
                        }
                    }
                    (b != 0).then(|| ((r - b) * 10_000 / b) as f64 / 100.0)
                })
                .collect()
        };
        for s in &res.scenarios[1..] {
            for (pension, zh, en) in [
                (false, "个人缴费的变化", "change in what workers pay"),
                (true, "养老金的变化", "change in pensions"),
            ] {
                let name = label(&s.name);
                out.push(
                    BarChart {
                        title: one(
                            lang,
                            format!("各收入十分位{zh}"),
                            format!("{en} by income decile"),
                        ),
                        x_label: t("收入十分位（1 最低）", "income decile (1 lowest)"),
                        y_label: t("对比现行规定", "against the law in force"),
                        categories: deciles.clone(),
                        series: vec![Series::new(name, change(s, pension))],
                        unit: Unit::Percent,
                    }
                    .to_svg(),
                );
            }
        }
        out.push(
            BarChart {
                title: t(
                    "养老金的得失：五档",
                    "pension winners and losers in five bands",
                ),
                x_label: t("对比现行规定", "against the law in force"),
                y_label: t("人数占比", "share of people"),
                categories: BANDS_SHORT
                    .iter()
                    .map(|(zh, en)| lang.pick(zh, en).to_string())
                    .collect(),
                series: desk.summary[1..]
                    .iter()
                    .map(|l| {
                        let bands = l.bands.unwrap_or_default();
                        Series::new(
                            label(&l.scenario),
                            bands
                                .iter()
                                .map(|c| percent(share_bps(*c, l.persons)))
                                .collect(),
                        )
                    })
                    .collect(),
                unit: Unit::Percent,
            }
            .to_svg(),
        );
    }
    out
}

/// The five bands of the winners-and-losers table, Chinese and English.
pub const BANDS: [(&str, &str); 5] = [
    ("增加超过5%", "gain >5 %"),
    ("增加不超过5%", "gain ≤5 %"),
    ("不变", "no change"),
    ("减少不超过5%", "lose ≤5 %"),
    ("减少超过5%", "lose >5 %"),
];

/// The bands as a chart's categories, short enough for five side by side at 360 px.
pub const BANDS_SHORT: [(&str, &str); 5] = [
    ("增>5%", "+>5%"),
    ("增≤5%", "+≤5%"),
    ("不变", "same"),
    ("减≤5%", "−≤5%"),
    ("减>5%", "−>5%"),
];

/// Amounts of a whole window in 万元 (ten thousand yuan), one decimal, from fen by integer
/// arithmetic.
pub fn wan(f: i64) -> String {
    let unit: i64 = 1_000_000;
    let tenths = (f.abs() * 10 + unit / 2) / unit;
    let sign = if f < 0 { "-" } else { "" };
    format!("{sign}{}.{}", tenths / 10, tenths % 10)
}

/// Basis points as "12.34 %"; "–" when there is nothing to count.
pub fn percent_text(bps: Option<i64>) -> String {
    bps.map_or_else(|| "–".into(), |b| format!("{} %", sim::bps(b)))
}

/// The regions whose central–local sharing tier is recorded, in code order.
pub fn fiscal_regions(policy: &Policy, year: i32) -> Vec<String> {
    let Some(month) = YearMonth::new(year, 1) else {
        return Vec::new();
    };
    policy
        .regions
        .values()
        .filter(|r| !r.code.is_national())
        .filter(|r| {
            policy
                .scope(&r.code.to_string(), month, &[])
                .is_ok_and(|s| {
                    s.rate(anxin_policy::param::FISCAL_CENTRAL_SHARE).is_ok()
                        && s.int(anxin_policy::param::FISCAL_TIER).is_ok()
                })
        })
        .map(|r| r.code.to_string())
        .collect()
}

/// The fiscal sharing of resident medical insurance (seed 002) in `year`: for every region
/// whose tier is recorded, the subsidy per resident split central/local for `residents`, and
/// — for those outside the hukou province — the cost of covering `migrants` from `hukou`
/// where they live. The calculator's own `fiscal`, once per region.
pub fn fiscal_sharing(
    policy: &Policy,
    year: i32,
    residents: u64,
    migrants: u64,
    hukou: &str,
) -> anxin_policy::Result<Vec<FiscalResult>> {
    let today = YearMonth::new(year, 1)
        .ok_or_else(|| Error::bad_input(format!("年份 {year} 不对"), format!("bad year {year}")))?;
    let hukou_scope = policy.scope(hukou, today, &[])?;
    let hukou_province = policy
        .chain(hukou_scope.region.code)
        .iter()
        .rev()
        .nth(1)
        .map_or(hukou_scope.region.code, |r| r.code);
    let mut out = Vec::new();
    for code in fiscal_regions(policy, year) {
        let here = policy.scope(&code, today, &[])?;
        let province = policy
            .chain(here.region.code)
            .iter()
            .rev()
            .nth(1)
            .map_or(here.region.code, |r| r.code);
        let other = province != hukou_province;
        let req = FiscalRequest {
            region: code,
            year: Some(year),
            residents,
            migrants: other.then_some(migrants),
            hukou: other.then(|| hukou_scope.region.code.to_string()),
            reforms: Vec::new(),
        };
        out.push(fiscal::fiscal(policy, &req, today)?);
    }
    Ok(out)
}

/// The fiscal sharing as a table of text (yuan with two decimals), a row per region: what
/// `/analyst` offers as CSV and .xlsx.
pub fn fiscal_table(results: &[FiscalResult]) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "region_code",
        "region",
        "year",
        "tier",
        "central_share_percent",
        "subsidy_per_resident",
        "central_per_resident",
        "local_per_resident",
        "residents",
        "central_total",
        "local_total",
        "migrants",
        "hukou",
        "at_hukou_central",
        "at_hukou_origin_local",
        "at_residence_central",
        "at_residence_destination_local",
        "destination_local_change",
        "origin_local_change",
        "central_change",
        "total_change",
    ];
    let rows = results
        .iter()
        .map(|r| {
            let mut row = vec![
                r.region_code.clone(),
                format!("{} {}", r.region_zh, r.region_en),
                r.year.to_string(),
                r.tier.to_string(),
                sim::bps(r.central_share_bps.0 as i64),
                yuan(r.per_resident.subsidy_fen.0),
                yuan(r.per_resident.central_fen.0),
                yuan(r.per_resident.local_fen.0),
                r.residents.to_string(),
                yuan(r.total.central_fen.0),
                yuan(r.total.local_fen.0),
            ];
            match &r.migrants {
                Some(m) => row.extend([
                    m.migrants.to_string(),
                    m.hukou_code.clone(),
                    yuan(m.at_hukou.central_fen.0),
                    yuan(m.at_hukou.local_fen.0),
                    yuan(m.at_residence.central_fen.0),
                    yuan(m.at_residence.local_fen.0),
                    yuan(m.destination_local_change_fen.0),
                    yuan(m.origin_local_change_fen.0),
                    yuan(m.central_change_fen.0),
                    yuan(m.total_change_fen.0),
                ]),
                None => row.extend((0..10).map(|_| String::new())),
            }
            row
        })
        .collect();
    (header, rows)
}

/// Draws per guardian of a cohort forward: 200, fewer when the ledger is large, so that no
/// run follows more than [`COHORT_WORK`] guardian-draws per scenario.
pub const COHORT_DRAWS: u32 = 200;
pub const COHORT_WORK: u64 = 2_000_000;

/// The school cohorts forward: the ledger's cohorts, the forecast, and what was observed.
#[derive(Debug)]
pub struct CohortDesk {
    pub cohorts: Vec<Cohort>,
    /// The ledger's retention row of each cohort (same order).
    pub observed: Vec<RetentionRow>,
    pub result: CohortResult,
}

/// The draws a forecast of `members` guardians takes: [`COHORT_DRAWS`] or fewer, at least 1.
pub fn cohort_draws(members: usize) -> u32 {
    let members = (members as u64).max(1);
    (COHORT_WORK / members).clamp(1, COHORT_DRAWS as u64) as u32
}

/// The identification ledger's cohorts (region and year of the review) among the entries
/// whose region `keep` keeps, followed forward: `anxin school cohort` and `/analyst`.
pub fn cohort_forward(
    policy: &Policy,
    ledger: &Ledger,
    keep: impl Fn(u32) -> bool,
    seed: u64,
    draws: Option<u32>,
    start: YearMonth,
    reforms: &[String],
) -> anxin_policy::Result<CohortDesk> {
    let mut groups: BTreeMap<(u32, i32), Vec<Member>> = BTreeMap::new();
    for (e, _) in &ledger.entries {
        if keep(e.region) {
            groups
                .entry((e.region, e.reviewed.year()))
                .or_default()
                .push(Member {
                    region: e.region,
                    base_fen: e.base_fen,
                });
        }
    }
    let members: usize = groups.values().map(Vec::len).sum();
    let cohorts: Vec<Cohort> = groups
        .into_iter()
        .map(|((region, year), members)| Cohort {
            region,
            year,
            members,
        })
        .collect();
    let observed = cohorts
        .iter()
        .map(|c| {
            ledger
                .table
                .iter()
                .find(|t| t.region == c.region && t.year == c.year)
                .cloned()
                .unwrap_or(RetentionRow {
                    region: c.region,
                    year: c.year,
                    admitted: c.members.len() as u32,
                    still_paying: Vec::new(),
                })
        })
        .collect();
    let req = CohortRequest {
        seed,
        draws: draws.unwrap_or_else(|| cohort_draws(members)),
        start,
        reforms: reforms.to_vec(),
    };
    let result = cohort::forward(
        policy,
        &CohortParams::embedded()?,
        &SimParams::embedded()?,
        &cohorts,
        &req,
    )?;
    Ok(CohortDesk {
        cohorts,
        observed,
        result,
    })
}

/// The forecast as a table of text: a row per scenario, cohort and month after the review,
/// with what the ledger observed beside it.
pub fn cohort_table(desk: &CohortDesk) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let header = vec![
        "scenario",
        "region",
        "year",
        "admitted",
        "months",
        "observed_due",
        "observed_paying",
        "forecast_paying",
        "forecast_percent",
        "not_applicable",
    ];
    let draws = desk.result.request.draws.max(1) as u64;
    let mut rows = Vec::new();
    for s in &desk.result.scenarios {
        for ((c, obs), f) in desk.cohorts.iter().zip(&desk.observed).zip(&s.cohorts) {
            for (i, n) in cohort::MONTHS.iter().enumerate() {
                let (due, paying) = obs
                    .still_paying
                    .iter()
                    .find(|(m, _, _)| *m == *n as i32)
                    .map_or((String::new(), String::new()), |(_, d, p)| {
                        (d.to_string(), p.to_string())
                    });
                let (count, share, why) = match f {
                    Forecast::Paying(at) => {
                        let tenths = at[i] * 10 / draws;
                        let of = c.members.len() as u64 * draws;
                        (
                            format!("{}.{}", tenths / 10, tenths % 10),
                            share_bps(at[i], of).map(sim::bps).unwrap_or_default(),
                            String::new(),
                        )
                    }
                    Forecast::NotApplicable { en, .. } => {
                        (String::new(), String::new(), en.clone())
                    }
                };
                rows.push(vec![
                    s.name.clone(),
                    format!("{:06}", c.region),
                    c.year.to_string(),
                    c.members.len().to_string(),
                    n.to_string(),
                    due,
                    paying,
                    count,
                    share,
                    why,
                ]);
            }
        }
    }
    (header, rows)
}

/// The forecast as a chart: the share still paying 3, 6, 12 and 24 months after the review,
/// all cohorts together, per scenario (where it applies), and what the ledger observed;
/// every text in `lang` only.
pub fn cohort_chart(policy: &Policy, desk: &CohortDesk, lang: Lang) -> String {
    use anxin_chart::{LineChart, Series, Unit};
    let draws = desk.result.request.draws.max(1) as u64;
    let mut series: Vec<Series> = desk
        .result
        .scenarios
        .iter()
        .map(|s| {
            let (mut at, mut of) = ([0u64; 4], 0u64);
            for (c, f) in desk.cohorts.iter().zip(&s.cohorts) {
                if let Forecast::Paying(p) = f {
                    for i in 0..4 {
                        at[i] += p[i];
                    }
                    of += c.members.len() as u64 * draws;
                }
            }
            Series::new(
                scenario_label(policy, &s.name, lang),
                at.iter().map(|a| percent(share_bps(*a, of))).collect(),
            )
        })
        .collect();
    series.push(Series::new(
        lang.pick("台账已观察", "observed in the ledger"),
        cohort::MONTHS
            .iter()
            .map(|n| {
                let (mut due, mut paying) = (0u64, 0u64);
                for o in &desk.observed {
                    if let Some((_, d, p)) = o.still_paying.iter().find(|(m, _, _)| *m == *n as i32)
                    {
                        due += u64::from(*d);
                        paying += u64::from(*p);
                    }
                }
                percent(share_bps(paying, due))
            })
            .collect(),
    ));
    LineChart {
        title: one(
            lang,
            "因入学参保人员：审核后仍在缴费",
            "school-driven enrolments still paying after the review",
        ),
        x_label: one(lang, "审核后的月数", "months after the review"),
        y_label: one(lang, "仍在缴费的比例", "share still paying"),
        x_labels: cohort::MONTHS.iter().map(|n| n.to_string()).collect(),
        series,
        unit: Unit::Percent,
    }
    .to_svg()
}

/// Yuan with two decimals.
pub fn yuan(f: i64) -> String {
    Fen(f).yuan_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(reforms: &[&str], seed: u64) -> SimRequest {
        SimRequest {
            seed,
            persons: 400,
            years: 3,
            start: YearMonth::new(2026, 7).unwrap(),
            reforms: reforms.iter().map(|r| r.to_string()).collect(),
            region: None,
        }
    }

    #[test]
    fn the_summary_sums_the_years_and_bands_everyone() {
        let policy = Policy::embedded().unwrap();
        let params = SimParams::embedded().unwrap();
        let desk = run(
            &policy,
            &params,
            &req(&["income-band-rate", "provincial-subsidy"], 7),
            Bounds::SIMULATION,
        )
        .unwrap();
        assert_eq!(desk.summary.len(), 4, "baseline, two reforms, all");
        assert!(desk.summary[0].bands.is_none());
        for (line, sc) in desk.summary.iter().zip(&desk.result.scenarios) {
            let gross: i64 = sc.years.iter().map(|y| y.gross).sum();
            assert_eq!(line.contributions_fen, gross);
            assert_eq!(line.contributions_fen, line.pooling_fen + line.accounts_fen);
            if let Some(b) = line.bands {
                assert_eq!(b.iter().sum::<u64>(), 400);
            }
        }
        // Four charts, two by decile for each of the three scenarios of reforms, and the
        // winners and losers; the same run gives the same bytes.
        let charts = charts(&policy, &desk, Lang::Zh);
        assert_eq!(charts.len(), 4 + 6 + 1);
        // In the page's language only: reforms by their titles, no English beside the Chinese.
        for leak in [
            "income-band-rate",
            "provincial-subsidy",
            "law in force",
            "pooling fund",
            "income decile",
        ] {
            assert!(!charts.iter().any(|c| c.contains(leak)), "{leak}");
        }
        assert!(charts[0].contains("现行规定") && charts[0].contains("收入区间动态费率"));
        let en = super::charts(&policy, &desk, Lang::En);
        assert!(en[0].contains("law in force") && !en[0].contains("现行规定"));
        let again = run(
            &policy,
            &params,
            &req(&["income-band-rate", "provincial-subsidy"], 7),
            Bounds::SIMULATION,
        )
        .unwrap();
        assert_eq!(charts, super::charts(&policy, &again, Lang::Zh));
        assert_eq!(desk.tables, again.tables);
    }

    #[test]
    fn bad_requests_are_refused_before_anything_runs() {
        let policy = Policy::embedded().unwrap();
        let params = SimParams::embedded().unwrap();
        let small = Bounds {
            max_persons: 100,
            max_years: 20,
            max_work: 100 * 20 * 3,
        };
        for (r, words) in [
            (req(&[], 1), "persons must be 1 to 100"),
            (req(&["no-such-reform"], 1), "no reform named"),
            (
                req(&["income-band-rate", "income-band-rate"], 1),
                "named twice",
            ),
        ] {
            let mut r = r;
            if !words.starts_with("persons") {
                r.persons = 50;
            }
            let e = run(&policy, &params, &r, small).unwrap_err();
            assert!(e.en.contains(words), "{}", e.en);
            assert!(!e.zh.is_empty());
        }
        let mut long = req(&[], 1);
        long.persons = 50;
        long.years = 21;
        let e = run(&policy, &params, &long, small).unwrap_err();
        assert!(e.en.contains("years must be 1 to 20"), "{}", e.en);
        // Each bound alone is kept, but together too large: 100 × 20 × 4 scenarios.
        let mut big = req(&["income-band-rate", "provincial-subsidy"], 1);
        big.persons = 100;
        big.years = 20;
        let e = run(&policy, &params, &big, small).unwrap_err();
        assert!(e.en.contains("this run is too large"), "{}", e.en);
        // A reform that does not cover the population's regions (Zhejiang) at the start.
        let early = SimRequest {
            start: YearMonth::new(2025, 1).unwrap(),
            ..req(&["income-band-rate"], 1)
        };
        let mut early = early;
        early.persons = 50;
        assert!(run(&policy, &params, &early, small).is_err());
        // The form offers only what covers the regions then.
        let offered: Vec<&str> = reforms_for(&policy, &params, YearMonth::new(2026, 7).unwrap())
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert!(offered.contains(&"income-band-rate"), "{offered:?}");
        assert!(reforms_for(&policy, &params, YearMonth::new(2025, 1).unwrap()).is_empty());
    }

    /// A ledger of two cohorts, as `school::ledger` gives it.
    fn ledger() -> Ledger {
        use anxin_records::identify::{Entry, Risk, retention};
        let ym = |s: &str| YearMonth::parse(s).unwrap();
        let entries: Vec<(Entry, Vec<i32>)> = (0..12)
            .map(|i| {
                let reviewed = if i < 8 { ym("2025-06") } else { ym("2026-06") };
                let paid: Vec<i32> = (0..(i % 5) * 4).map(|k| reviewed.index() + 1 + k).collect();
                (
                    Entry {
                        person: format!("p{i}"),
                        region: if i % 3 == 0 { 330200 } else { 330100 },
                        enrolled: ym("2025-01"),
                        reviewed,
                        months_paid_since: paid.len() as u32,
                        last_paid: None,
                        base_fen: 498_600 + i as i64 * 10_000,
                        risk: Risk::Paying,
                    },
                    paid,
                )
            })
            .collect();
        let table = retention(&entries, ym("2026-10"));
        Ledger {
            reviews: entries.len(),
            entries,
            table,
        }
    }

    #[test]
    fn a_cohort_forward_is_byte_identical_for_the_same_seed() {
        let policy = Policy::embedded().unwrap();
        let l = ledger();
        let start = YearMonth::new(2026, 10).unwrap();
        let reforms = vec![
            "school-cumulative-first".to_string(),
            "income-band-rate".to_string(),
        ];
        let run = |seed| {
            let d = cohort_forward(&policy, &l, |_| true, seed, None, start, &reforms).unwrap();
            (cohort_table(&d), cohort_chart(&policy, &d, Lang::Zh), d)
        };
        let (a, chart_a, desk) = run(5);
        let (b, chart_b, _) = run(5);
        assert_eq!(a, b);
        assert_eq!(chart_a, chart_b);
        assert_ne!(a, run(6).0, "another seed, other draws");
        // Four cohorts (two cities × two years), three scenarios, four months each.
        assert_eq!(desk.cohorts.len(), 4);
        assert_eq!(a.1.len(), 3 * 4 * 4);
        assert_eq!(desk.result.request.draws, COHORT_DRAWS);
        // The observed figures are the ledger's own.
        let hz25 =
            a.1.iter()
                .find(|r| r[0] == "baseline" && r[1] == "330100" && r[2] == "2025" && r[4] == "3")
                .unwrap();
        let row = l
            .table
            .iter()
            .find(|t| t.region == 330100 && t.year == 2025)
            .unwrap();
        assert_eq!(hz25[5], row.still_paying[0].1.to_string());
        assert_eq!(hz25[6], row.still_paying[0].2.to_string());
        // Only the entries kept: a region filter leaves the other city out.
        let only = cohort_forward(&policy, &l, |r| r == 330200, 5, Some(10), start, &[]).unwrap();
        assert!(only.cohorts.iter().all(|c| c.region == 330200));
        assert_eq!(cohort_draws(1), COHORT_DRAWS);
        assert_eq!(cohort_draws(1_000_000), 2);
    }

    #[test]
    fn fiscal_sharing_splits_every_recorded_region() {
        let policy = Policy::embedded().unwrap();
        let all = fiscal_sharing(&policy, 2025, 1000, 100, "340000").unwrap();
        assert!(!all.is_empty());
        for r in &all {
            assert_eq!(
                r.per_resident.central_fen.0 + r.per_resident.local_fen.0,
                r.per_resident.subsidy_fen.0
            );
            assert_eq!(r.total.subsidy_fen.0, 1000 * r.per_resident.subsidy_fen.0);
            // Migrants from Anhui only where Anhui is not the province.
            assert_eq!(r.migrants.is_some(), !r.region_code.starts_with("34"));
        }
    }
}
