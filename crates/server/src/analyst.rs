//! The analyst's desk (issue 17, SPEC §A1, §A2): `/analyst` runs the microsimulation for the
//! reforms ticked (a bounded population and window, one run at a time: `gates`), shows the
//! one-screen summary and its charts, offers every table as CSV, .xlsx and Parquet, and shows the
//! fiscal sharing of resident medical insurance; `POST /api/analyst/simulate` and
//! `GET /api/analyst/fiscal` give the same as JSON.
//!
//! Everything is `anxin_service::analyst` (the code `anxin simulate` runs) and
//! `anxin_service::access` (`Action::Analyse`): this module reads the request and renders.

use anxin_policy::sim::{SimParams, SimRequest};
use anxin_policy::{Lang, Policy};
use anxin_service::access::Action;
use anxin_service::analyst::{self, BANDS, Desk, Line};
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Caller;
use crate::{ApiError, AppState, CardsTable, Chrome, Params, lang_of};
use askama::Template;

/// What a page asks for when nothing is given.
const YEARS: u32 = 10;
const SEED: u64 = 1;
const PERSONS: u32 = 10_000;
/// The fiscal section's defaults: migrants from Anhui (a tier-3 province of seed 002), per
/// 10 000 people.
const HUKOU: &str = "340000";
const PEOPLE: u64 = 10_000;

/// The tables a run gives (`anxin_policy::sim::tables`); the cohort and fiscal tables besides.
const SIM_TABLES: [&str; 5] = ["years", "window", "deciles", "winners", "calibration"];

/// The page's (and the downloads') query, read by hand: `reform` repeats.
struct Ask {
    lang: Lang,
    run: bool,
    /// The run is of an uploaded population file: its tables cannot be fetched again by a
    /// query.
    uploaded: bool,
    reforms: Vec<String>,
    years: u32,
    seed: u64,
    persons: u32,
    hukou: String,
    migrants: u64,
    residents: u64,
}

fn number<T: std::str::FromStr>(name: &str, value: &str, zh: &str) -> Result<T, ApiError> {
    crate::whole_number(value.trim()).ok_or_else(|| {
        ApiError::bad_input(
            format!("{zh}（{name}）须为整数"),
            format!("{name} must be a whole number"),
        )
    })
}

fn ask_of(uri: &Uri) -> Result<Ask, ApiError> {
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| ApiError::bad_input("查询参数读不懂", "the query cannot be read"))?;
    let mut a = Ask {
        lang: Lang::Zh,
        run: false,
        uploaded: false,
        reforms: Vec::new(),
        years: YEARS,
        seed: SEED,
        persons: PERSONS,
        hukou: HUKOU.into(),
        migrants: PEOPLE,
        residents: PEOPLE,
    };
    for (k, v) in &pairs {
        match k.as_str() {
            "lang" => a.lang = lang_of(Some(v)),
            "run" => a.run = true,
            "reform" => a.reforms.push(v.trim().to_string()),
            "years" => a.years = number(k, v, "年数")?,
            "seed" => a.seed = number(k, v, "随机种子")?,
            "persons" => a.persons = number(k, v, "人数")?,
            "hukou" => a.hukou = v.trim().to_string(),
            "migrants" => a.migrants = number(k, v, "流动人口人数")?,
            "residents" => a.residents = number(k, v, "参保居民人数")?,
            other => {
                let shown: String = other.chars().filter(|c| !c.is_control()).take(40).collect();
                return Err(ApiError::bad_input(
                    format!(
                        "不认识的查询参数「{shown}」：可用 reform、years、seed、persons、run、hukou、migrants、residents、lang"
                    ),
                    format!(
                        "unknown query parameter \"{shown}\": reform, years, seed, persons, run, hukou, migrants, residents and lang are taken"
                    ),
                ));
            }
        }
    }
    Ok(a)
}

/// The query of a run, for its download links.
fn run_query(a: &Ask) -> String {
    let mut q = format!(
        "run=1&years={}&seed={}&persons={}",
        a.years, a.seed, a.persons
    );
    for r in &a.reforms {
        q.push_str(&format!("&reform={}", crate::url_encode(r)));
    }
    q
}

fn request(
    state: &AppState,
    reforms: Vec<String>,
    years: u32,
    seed: u64,
    persons: u32,
) -> SimRequest {
    SimRequest {
        seed,
        persons,
        years,
        start: state.today(),
        reforms,
        region: None,
    }
}

/// Runs a simulation: refused at once when one is already running (429), or when the request
/// is out of bounds (400) before it takes the gate.
async fn simulate(state: &AppState, req: SimRequest) -> Result<Desk, ApiError> {
    let bounds = state.gates.sim_bounds();
    analyst::check(&state.policy, &req, bounds)?;
    let _running = state.gates.simulation()?;
    let policy = state.policy.clone();
    tokio::task::spawn_blocking(move || {
        let params = SimParams::embedded()?;
        analyst::run(&policy, &params, &req, bounds)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(ApiError::from)
}

/// The identification ledger's cohorts of the caller's region, forward under the law in force
/// and the reforms asked for; `None` on a server without records. The caller holds the
/// simulation gate.
async fn cohorts(
    state: &AppState,
    caller: &Caller,
    seed: u64,
    reforms: Vec<String>,
) -> Result<Option<analyst::CohortDesk>, ApiError> {
    if state.records.is_none() {
        return Ok(None);
    }
    let policy = state.policy.clone();
    let today = state.today();
    let ledger = state
        .read(move |records| anxin_service::school::ledger::<_, ApiError>(records, &policy, today))
        .await?;
    let policy = state.policy.clone();
    let (account, role) = (caller.account.clone(), caller.role);
    tokio::task::spawn_blocking(move || {
        let actor = anxin_service::access::Actor::new(&account, role);
        analyst::cohort_forward(
            &policy,
            &ledger,
            |region| anxin_service::access::in_region(actor, region),
            seed,
            None,
            today,
            &reforms,
        )
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map(Some)
    .map_err(ApiError::from)
}

async fn fiscal(
    state: &AppState,
    year: i32,
    residents: u64,
    migrants: u64,
    hukou: String,
) -> Result<Vec<anxin_policy::calc::fiscal::FiscalResult>, ApiError> {
    let policy = state.policy.clone();
    tokio::task::spawn_blocking(move || {
        analyst::fiscal_sharing(&policy, year, residents, migrants, &hukou)
    })
    .await
    .map_err(|_| ApiError::internal())?
    .map_err(ApiError::from)
}

/// `GET /analyst`: the form, the run asked for (if any) and the fiscal sharing.
pub async fn desk_page(
    State(state): State<AppState>,
    caller: Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    caller.may(Action::Analyse)?;
    let a = ask_of(&uri)?;
    let lang = a.lang;
    let params = SimParams::embedded()?;
    let bounds = state.gates.sim_bounds();
    let offered = analyst::reforms_for(&state.policy, &params, state.today())
        .iter()
        .map(|r| {
            (
                r.name.clone(),
                lang.pick(&r.title_zh, &r.title_en).to_string(),
                a.reforms.contains(&r.name),
            )
        })
        .collect();
    let mut page = DeskPage {
        c: Chrome::new(lang, lang.pick("政策分析", "Analyst's desk")),
        offered,
        max_years: bounds.max_years,
        years: a.years,
        seed: a.seed,
        max_persons: bounds.max_persons,
        persons: a.persons,
        people: people_limits(),
        csrf: caller.csrf(),
        default_years: YEARS,
        default_seed: SEED,
        results: None,
        cohort: None,
        fiscal: Fiscal::Refused(String::new(), String::new()),
        logout: crate::auth::logout_button(&caller, lang),
    };
    if a.run {
        let req = request(&state, a.reforms.clone(), a.years, a.seed, a.persons);
        analyst::check(&state.policy, &req, bounds)?;
        // One gate for the whole run: the population and the school cohorts.
        let _running = state.gates.simulation()?;
        let policy = state.policy.clone();
        let desk = tokio::task::spawn_blocking(move || {
            analyst::run(&policy, &SimParams::embedded()?, &req, bounds)
        })
        .await
        .map_err(|_| ApiError::internal())??;
        page.results = Some(results(&state.policy, &params, &desk, &a));
        let cohort = cohorts(&state, &caller, a.seed, a.reforms.clone()).await?;
        page.cohort = Some(cohort_section(&state.policy, cohort.as_ref(), &a));
    }
    let year = state.today().year();
    // The fiscal section says what it cannot compute (a hukou province whose tier is not
    // recorded, a count too large) without taking the simulation's results with it.
    page.fiscal = match fiscal(&state, year, a.residents, a.migrants, a.hukou.clone()).await {
        Ok(results) => Fiscal::Shown(Box::new(fiscal_section(&results, &a, year))),
        Err(e) => Fiscal::Refused(
            lang.pick(&e.zh, &e.en).to_string(),
            lang.pick(&e.en, &e.zh).to_string(),
        ),
    };
    Ok(crate::html(&page).into_response())
}

/// `templates/analyst.html`: the run's form, the population-file form, the run's results and
/// the school cohorts' forecast when one was asked for, and the fiscal sharing.
#[derive(Template)]
#[template(path = "analyst.html")]
struct DeskPage {
    c: Chrome,
    /// The reforms offered: code, title, ticked.
    offered: Vec<(String, String, bool)>,
    max_years: u32,
    years: u32,
    seed: u64,
    max_persons: u32,
    persons: u32,
    /// The ages a population file may give: youngest and oldest.
    people: (u32, u32),
    csrf: String,
    default_years: u32,
    default_seed: u64,
    results: Option<Results>,
    /// Asked for with a run: the forecast, or why there is none.
    cohort: Option<Cohort>,
    fiscal: Fiscal,
    logout: String,
}

/// `templates/analyst_people.html`: the run over an uploaded population, or every refused
/// row of its file.
#[derive(Template)]
#[template(path = "analyst_people.html")]
struct PeoplePage {
    c: Chrome,
    refused: Option<PeopleRefused>,
    results: Option<Results>,
}

crate::extends_layout!(DeskPage, PeoplePage);

struct PeopleRefused {
    /// How many rows were refused, and whether only the first [`REFUSED_SHOWN`] are shown.
    count: usize,
    cut: bool,
    shown: usize,
    t: CardsTable,
}

/// A run as `templates/analyst_results.html` shows it.
struct Results {
    /// The scenario file's title; the people, first and last year and seed of the run.
    title: String,
    persons: u32,
    from: i32,
    to: i32,
    seed: u64,
    summary: CardsTable,
    bands: Option<CardsTable>,
    charts: Vec<String>,
    uploaded: bool,
    /// Each table: its code and its name.
    tables: Vec<(&'static str, &'static str)>,
    query: String,
}

/// The ledger's people and cohorts followed, each how many times, with which seed.
struct CohortRun {
    members: usize,
    cohorts: usize,
    draws: u32,
    seed: u64,
}

enum Cohort {
    Empty,
    /// What was followed, the chart, the download query.
    Forecast(CohortRun, String, String),
}

enum Fiscal {
    Shown(Box<FiscalView>),
    /// Why not, in the page's language and the other.
    Refused(String, String),
}

/// The migrants covered where they live: how many, their hukou province, and the change
/// each budget sees.
struct Movers {
    migrants: u64,
    hukou: String,
    t: CardsTable,
}

struct FiscalView {
    /// Code, name, chosen.
    provinces: Vec<(String, String, bool)>,
    migrants: u64,
    residents: u64,
    shares: CardsTable,
    chart: String,
    movers: Option<Movers>,
    notes: Vec<String>,
    query: String,
}

/// The ages a population file may give (the file's limits, assumptions of
/// policy/simulation/population-file.toml).
fn people_limits() -> (u32, u32) {
    let limits = anxin_service::population::Limits::embedded().ok();
    limits.map_or((16, 70), |l| (l.min_age, l.max_age))
}

fn label(policy: &Policy, name: &str, lang: Lang) -> String {
    analyst::scenario_label(policy, name, lang)
}

fn results(policy: &Policy, params: &SimParams, desk: &Desk, a: &Ask) -> Results {
    let lang = a.lang;
    let r = &desk.result.request;
    let last = r.start.year() + r.years as i32 - 1;
    let summary = CardsTable {
        labels: crate::names(&[
            lang.pick("方案", "Scenario"),
            lang.pick("参保率（首年→末年）", "Coverage (first→last year)"),
            lang.pick("续保率", "Retention"),
            lang.pick("缴费合计（万元）", "Contributions (10k yuan)"),
            lang.pick("统筹基金（万元）", "Pooling fund (10k yuan)"),
            lang.pick("个人账户（万元）", "Personal accounts (10k yuan)"),
            lang.pick("地方补贴（万元）", "Local subsidy (10k yuan)"),
            lang.pick("省级补贴（万元）", "Provincial subsidy (10k yuan)"),
            lang.pick("入学券（万元）", "School voucher (10k yuan)"),
            lang.pick("个人实缴（万元）", "Paid by workers (10k yuan)"),
            lang.pick("平均养老金（元/月）", "Mean pension (yuan/month)"),
            lang.pick("替代率", "Replacement rate"),
        ]),
        rows: desk
            .summary
            .iter()
            .map(|l| {
                (
                    "",
                    vec![
                        label(policy, &l.scenario, lang),
                        format!(
                            "{} → {}",
                            pct(l.coverage_first_bps),
                            pct(l.coverage_last_bps)
                        ),
                        pct(l.retention_bps),
                        analyst::wan(l.contributions_fen),
                        analyst::wan(l.pooling_fen),
                        analyst::wan(l.accounts_fen),
                        analyst::wan(l.subsidy_local_fen),
                        analyst::wan(l.subsidy_provincial_fen),
                        analyst::wan(l.subsidy_voucher_fen),
                        analyst::wan(l.paid_by_workers_fen),
                        analyst::yuan(l.mean_pension_fen),
                        if l.replacement_percent.is_empty() {
                            "–".into()
                        } else {
                            format!("{} %", l.replacement_percent)
                        },
                    ],
                )
            })
            .collect(),
    };
    let bands = (desk.summary.len() > 1).then(|| {
        let mut labels = vec![lang.pick("方案", "Scenario").to_string()];
        labels.extend(BANDS.iter().map(|b| lang.pick(b.0, b.1).to_string()));
        CardsTable {
            labels,
            rows: desk.summary[1..]
                .iter()
                .map(|l| ("", band_cells(policy, l, lang)))
                .collect(),
        }
    });
    Results {
        title: lang
            .pick(&params.meta.title_zh, &params.meta.title_en)
            .to_string(),
        persons: r.persons,
        from: r.start.year(),
        to: last,
        seed: r.seed,
        summary,
        bands,
        charts: analyst::charts(policy, desk, lang),
        uploaded: a.uploaded,
        tables: SIM_TABLES
            .iter()
            .map(|t| (*t, table_name(t, lang)))
            .collect(),
        query: run_query(a),
    }
}

/// A downloadable table's name for people (the file keeps its code).
fn table_name(t: &str, lang: Lang) -> &'static str {
    match t {
        "years" => lang.pick("逐年结果", "Year by year"),
        "window" => lang.pick("窗口期合计", "Over the window"),
        "deciles" => lang.pick("各收入十分位", "By income decile"),
        "winners" => lang.pick("养老金得失五档", "Pension winners and losers"),
        "calibration" => lang.pick("人口构成与出处", "The population's figures and sources"),
        "cohort" => lang.pick(
            "因入学参保人员的后续缴费",
            "School-driven enrolments forward",
        ),
        "fiscal" => lang.pick("财政补助分担", "Fiscal sharing"),
        _ => lang.pick("表", "Table"),
    }
}

/// A share for the page: "12.34 %" kept on one line.
fn pct(bps: Option<i64>) -> String {
    analyst::percent_text(bps).replace(' ', "\u{a0}")
}

fn band_cells(policy: &Policy, l: &Line, lang: Lang) -> Vec<String> {
    let bands = l.bands.unwrap_or_default();
    let mut cells = vec![label(policy, &l.scenario, lang)];
    cells.extend(
        bands
            .iter()
            .map(|c| pct((c * 10_000).checked_div(l.persons).map(|v| v as i64))),
    );
    cells
}

fn cohort_section(policy: &Policy, desk: Option<&analyst::CohortDesk>, a: &Ask) -> Cohort {
    let members = desk.map_or(0, |d| d.cohorts.iter().map(|c| c.members.len()).sum());
    let Some(desk) = desk.filter(|_| members > 0) else {
        return Cohort::Empty;
    };
    Cohort::Forecast(
        CohortRun {
            members,
            cohorts: desk.cohorts.len(),
            draws: desk.result.request.draws,
            seed: desk.result.request.seed,
        },
        analyst::cohort_chart(policy, desk, a.lang),
        run_query(a),
    )
}

fn fiscal_section(
    results: &[anxin_policy::calc::fiscal::FiscalResult],
    a: &Ask,
    year: i32,
) -> FiscalView {
    use anxin_chart::{BarChart, Series, Text, Unit};
    let lang = a.lang;
    let name = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    let provinces = results
        .iter()
        .filter(|r| r.region_code.ends_with("0000"))
        .map(|r| {
            (
                r.region_code.clone(),
                name(&r.region_zh, &r.region_en),
                r.region_code == a.hukou,
            )
        })
        .collect();
    let shares = CardsTable {
        labels: crate::names(&[
            lang.pick("地区", "Region"),
            lang.pick("档次", "Tier"),
            lang.pick("中央承担", "Central share"),
            lang.pick("每人补助（元/年）", "Subsidy per resident (yuan/year)"),
            lang.pick("其中中央", "Central"),
            lang.pick("其中地方", "Local"),
            lang.pick("全部居民：中央", "All residents: central"),
            lang.pick("全部居民：地方", "All residents: local"),
        ]),
        rows: results
            .iter()
            .map(|r| {
                (
                    "",
                    vec![
                        name(&r.region_zh, &r.region_en),
                        r.tier.to_string(),
                        r.central_share_bps.percent_string(),
                        analyst::yuan(r.per_resident.subsidy_fen.0),
                        analyst::yuan(r.per_resident.central_fen.0),
                        analyst::yuan(r.per_resident.local_fen.0),
                        analyst::yuan(r.total.central_fen.0),
                        analyst::yuan(r.total.local_fen.0),
                    ],
                )
            })
            .collect(),
    };
    // The chart in the page's language only (the chart crate shows the English beside the
    // Chinese unless one of them is empty).
    let one = |zh: String, en: String| match lang {
        Lang::En => Text::new("", en),
        _ => Text::new(zh, ""),
    };
    let chart = BarChart {
        title: one(
            format!("{year} 年每位参保居民的财政补助"),
            format!("public subsidy per insured resident, {year}"),
        ),
        x_label: one("地区".into(), "region".into()),
        y_label: one("元/年".into(), "yuan a year".into()),
        categories: results
            .iter()
            .map(|r| lang.pick(&r.region_zh, &r.region_en).to_string())
            .collect(),
        series: vec![
            Series::from_fen(
                lang.pick("中央", "central"),
                &results
                    .iter()
                    .map(|r| Some(r.per_resident.central_fen.0))
                    .collect::<Vec<_>>(),
            ),
            Series::from_fen(
                lang.pick("地方", "local"),
                &results
                    .iter()
                    .map(|r| Some(r.per_resident.local_fen.0))
                    .collect::<Vec<_>>(),
            ),
        ],
        unit: Unit::Yuan,
    };
    let movers: Vec<_> = results
        .iter()
        .filter_map(|r| r.migrants.as_ref().map(|m| (r, m)))
        .collect();
    let movers = movers.first().map(|(_, first)| Movers {
        migrants: first.migrants,
        hukou: lang.pick(&first.hukou_zh, &first.hukou_en).to_string(),
        t: CardsTable {
            labels: crate::names(&[
                lang.pick("常住地", "Destination"),
                lang.pick("常住地财政多出", "Destination pays more"),
                lang.pick("户籍地财政少出", "Origin pays less"),
                lang.pick("中央财政变化", "Central change"),
                lang.pick("合计变化", "Change, all budgets"),
            ]),
            rows: movers
                .iter()
                .map(|(r, m)| {
                    (
                        "",
                        vec![
                            name(&r.region_zh, &r.region_en),
                            analyst::yuan(m.destination_local_change_fen.0),
                            analyst::yuan(-m.origin_local_change_fen.0),
                            analyst::yuan(m.central_change_fen.0),
                            analyst::yuan(m.total_change_fen.0),
                        ],
                    )
                })
                .collect(),
        },
    });
    // The assumptions behind the figures, once each.
    let mut seen = std::collections::BTreeSet::new();
    let notes = results
        .iter()
        .flat_map(|r| r.assumptions.iter().chain(&r.notes))
        .filter(|n| seen.insert(n.en.clone()))
        .map(|n| name(&n.zh, &n.en))
        .collect();
    FiscalView {
        provinces,
        migrants: a.migrants,
        residents: a.residents,
        shares,
        chart: chart.to_svg(),
        movers,
        notes,
        query: format!(
            "hukou={}&migrants={}&residents={}",
            crate::url_encode(&a.hukou),
            a.migrants,
            a.residents
        ),
    }
}

/// The reforms asked for, known and each named once (the cohort forward's own check).
fn check_reforms(state: &AppState, reforms: &[String]) -> Result<(), ApiError> {
    let probe = request(state, reforms.to_vec(), 1, 0, 1);
    Ok(analyst::check(
        &state.policy,
        &probe,
        state.gates.sim_bounds(),
    )?)
}

/// `GET /analyst/tables/{name}.csv|.xlsx|.parquet`: a table of the run the query describes (run again:
/// the same seed gives the same bytes), or the fiscal table.
pub async fn table(
    State(state): State<AppState>,
    caller: Caller,
    Path(file): Path<String>,
    uri: Uri,
) -> Result<Response, ApiError> {
    caller.may(Action::Analyse)?;
    let a = ask_of(&uri)?;
    let (name, ext) = file.rsplit_once('.').unwrap_or((file.as_str(), ""));
    if !matches!(ext, "csv" | "xlsx" | "parquet")
        || !(SIM_TABLES.contains(&name) || name == "fiscal" || name == "cohort")
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "没有这张表：可下载 {}、cohort、fiscal，格式 .csv、.xlsx 或 .parquet",
                SIM_TABLES.join("、")
            ),
            format!(
                "no such table: {}, cohort and fiscal, as .csv, .xlsx or .parquet",
                SIM_TABLES.join(", ")
            ),
        ));
    }
    let (header, rows) = if name == "fiscal" {
        let year = state.today().year();
        let results = fiscal(&state, year, a.residents, a.migrants, a.hukou.clone()).await?;
        analyst::fiscal_table(&results)
    } else if name == "cohort" {
        check_reforms(&state, &a.reforms)?;
        let _running = state.gates.simulation()?;
        match cohorts(&state, &caller, a.seed, a.reforms.clone()).await? {
            Some(desk) => analyst::cohort_table(&desk),
            None => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "no_records",
                    "本服务没有打开数据目录，没有因入学参保人员台账",
                    "this server has no data directory, so no identification ledger",
                ));
            }
        }
    } else {
        let mut desk = simulate(
            &state,
            request(&state, a.reforms.clone(), a.years, a.seed, a.persons),
        )
        .await?;
        desk.tables.remove(name).unwrap_or_default()
    };
    Ok(if ext == "csv" {
        crate::csv_table(&header, rows, &file)
    } else if ext == "parquet" {
        match anxin_service::parquet_table::table_bytes(&header, &rows) {
            Ok(bytes) => crate::attachment(bytes, "application/vnd.apache.parquet", &file),
            Err(_) => ApiError::internal().into_response(),
        }
    } else {
        crate::xlsx_table(&header, rows, &file)
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimBody {
    #[serde(default)]
    reforms: Vec<String>,
    years: Option<u32>,
    seed: Option<u64>,
    persons: Option<u32>,
}

/// `POST /api/analyst/simulate`: `{"reforms": […], "years", "seed", "persons"}` (each
/// optional) → the summary and every table.
pub async fn api_simulate(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    caller.may(Action::Analyse)?;
    let b: SimBody = if body.is_empty() {
        SimBody {
            reforms: Vec::new(),
            years: None,
            seed: None,
            persons: None,
        }
    } else {
        crate::json_object(&body).map_err(|e| {
            ApiError::bad_input(
                format!("请求读不懂：{e}"),
                format!("the request cannot be read: {e}"),
            )
        })?
    };
    let req = request(
        &state,
        b.reforms,
        b.years.unwrap_or(YEARS),
        b.seed.unwrap_or(SEED),
        b.persons.unwrap_or(PERSONS),
    );
    let desk = simulate(&state, req).await?;
    let r = &desk.result.request;
    let tables: serde_json::Map<String, serde_json::Value> = desk
        .tables
        .iter()
        .map(|(name, (header, rows))| {
            (
                name.to_string(),
                serde_json::json!({ "header": header, "rows": rows }),
            )
        })
        .collect();
    Ok(axum::Json(serde_json::json!({
        "start": r.start.to_string(),
        "years": r.years,
        "seed": r.seed,
        "persons": r.persons,
        "reforms": r.reforms,
        "regions": desk.result.regions,
        "summary": desk.summary,
        "tables": tables,
    })))
}

#[derive(Deserialize)]
pub struct FiscalQuery {
    hukou: Option<String>,
    migrants: Option<String>,
    residents: Option<String>,
}

/// `GET /api/analyst/fiscal?hukou=&migrants=&residents=`: the fiscal sharing of every region
/// whose tier is recorded, this year, with the calculator's trace.
pub async fn api_fiscal(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<FiscalQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    caller.may(Action::Analyse)?;
    let count = |v: Option<String>, name: &str, zh: &str| -> Result<u64, ApiError> {
        v.map_or(Ok(PEOPLE), |v| number(name, &v, zh))
    };
    let migrants = count(q.migrants, "migrants", "流动人口人数")?;
    let residents = count(q.residents, "residents", "参保居民人数")?;
    let hukou = q.hukou.unwrap_or_else(|| HUKOU.into());
    let year = state.today().year();
    let results = fiscal(&state, year, residents, migrants, hukou).await?;
    Ok(axum::Json(
        serde_json::json!({ "year": year, "regions": results }),
    ))
}

/// Largest population file the page takes (about 200 000 people, the page's bound, at 80
/// bytes a row).
pub const MAX_PEOPLE_BYTES: usize = 16 * 1024 * 1024;
/// Refused rows shown on the page.
const REFUSED_SHOWN: usize = 200;

/// `POST /analyst/people`: the simulation over an uploaded population file instead of the
/// synthetic population; a file with bad rows gets every row's reason and nothing runs.
pub async fn people_submit(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<crate::LangQuery>,
    multipart: axum::extract::Multipart,
) -> Result<Response, ApiError> {
    caller.may(Action::Analyse)?;
    let lang = lang_of(q.lang.as_deref());
    let mut upload = crate::upload::Upload::read(multipart, MAX_PEOPLE_BYTES).await?;
    caller.check_csrf(upload.field("csrf"))?;
    let years = match upload.field("years").trim() {
        "" => YEARS,
        t => number("years", t, "年数")?,
    };
    let seed = match upload.field("seed").trim() {
        "" => SEED,
        t => number("seed", t, "随机种子")?,
    };
    let params = SimParams::embedded()?;
    let reforms: Vec<String> = state
        .policy
        .reforms
        .keys()
        .filter(|r| upload.fields.contains_key(&format!("reform.{r}")))
        .cloned()
        .collect();
    check_reforms(&state, &reforms)?;
    let file = upload.take_file()?;
    if !matches!(file.format, anxin_import::Format::Csv) {
        return Err(ApiError::bad_input(
            "人口文件须是 CSV（UTF-8，第一行是表头）",
            "the population file must be CSV (UTF-8, a header row)",
        ));
    }
    let limits = anxin_service::population::Limits::embedded()?;
    let start = state.today();
    let people =
        match anxin_service::population::read(&state.policy, &params, &limits, start, &file.bytes)?
        {
            Ok(p) => p,
            Err(refused) => {
                let t = CardsTable::refusals(refused.iter().take(REFUSED_SHOWN), lang);
                let mut r = crate::private_html(&PeoplePage {
                    c: Chrome::new(lang, lang.pick("人口文件不合格", "Population file refused")),
                    refused: Some(PeopleRefused {
                        count: refused.len(),
                        cut: refused.len() > REFUSED_SHOWN,
                        shown: REFUSED_SHOWN,
                        t,
                    }),
                    results: None,
                });
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return Ok(r);
            }
        };
    let req = request(&state, reforms.clone(), years, seed, 1);
    let bounds = state.gates.sim_bounds();
    let mut checked = req.clone();
    checked.persons = u32::try_from(people.len()).unwrap_or(u32::MAX);
    analyst::check(&state.policy, &checked, bounds)?;
    let _running = state.gates.simulation()?;
    let policy = state.policy.clone();
    let desk = tokio::task::spawn_blocking(move || {
        analyst::run_people(&policy, &SimParams::embedded()?, &req, &people, bounds)
    })
    .await
    .map_err(|_| ApiError::internal())??;
    let a = Ask {
        lang,
        run: true,
        uploaded: true,
        reforms,
        years,
        seed,
        persons: desk.result.request.persons,
        hukou: HUKOU.into(),
        migrants: PEOPLE,
        residents: PEOPLE,
    };
    Ok(crate::private_html(&PeoplePage {
        c: Chrome::new(
            lang,
            lang.pick(
                "政策分析：上传的人口",
                "Analyst's desk: an uploaded population",
            ),
        ),
        refused: None,
        results: Some(results(&state.policy, &params, &desk, &a)),
    }))
}
