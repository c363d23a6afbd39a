//! `anxin` — the command line. Parses arguments once into calculator requests, calls the
//! policy engine, and prints the result for people (Chinese by default, `--lang en`), for
//! machines (`--json`), with the full explanation on request (`--explain`).
//!
//! Exit codes: 0 ok; 2 bad input; 3 not found (region, reform, parameter, person); 4 not
//! applicable (a reform or rule that does not apply there or then); 5 invalid policy files;
//! 6 storage or data-directory failure; 7 a certificate or audit check that failed.

mod account_cmd;
mod batch_cmd;
mod case_cmd;
mod config;
mod data;
mod demo;
mod fail;
mod federation_cmd;
mod import_cmd;
mod inbox_cmd;
mod monitor_cmd;
mod progress;
mod records_cmd;
mod render;
mod sim_cmd;
mod transfer_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anxin_domain::{Fen, YearMonth};
use anxin_policy::calc::backpay::BackpayRequest;
use anxin_policy::calc::fiscal::FiscalRequest;
use anxin_policy::calc::injury::{DeliveryTier, InjuryRequest};
use anxin_policy::calc::medical::MedicalRequest;
use anxin_policy::calc::pension::{PensionRequest, Scenario, Track};
use anxin_policy::calc::platform::PlatformRequest;
use anxin_policy::calc::quote::{Frequency, QuoteRequest};
use anxin_policy::{Error, ErrorKind, Lang, Policy, calc};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "anxin",
    version,
    about = "安心 anxin：灵活就业与流动人员社会保险 — social insurance for flexible and migrant workers"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Global {
    /// Read policy files from this directory instead of the copy built into anxin.
    #[arg(long, global = true, env = "ANXIN_POLICY", value_name = "DIR")]
    policy: Option<PathBuf>,
    /// Language of the output: zh (default) or en.
    #[arg(long, global = true, default_value = "zh", value_parser = parse_lang)]
    lang: Lang,
    /// Print the result as JSON (amounts in fen).
    #[arg(long, global = true)]
    json: bool,
    /// Print every step of the computation, each parameter with its value and source.
    #[arg(long, global = true)]
    explain: bool,
    /// Take this month (YYYY-MM) or day (YYYY-MM-DD) as "now"; default: the current month.
    /// `serve` given a day runs its clock from 09:00 China time that day: deadlines in working
    /// days, the inbox and the cases read that day (a drill, or a test across a holiday).
    #[arg(long, global = true, value_parser = parse_today)]
    today: Option<Today>,
    /// The data directory made by `anxin init` [default: anxin-data]
    #[arg(long, global = true, env = "ANXIN_DATA", value_name = "DIR")]
    data: Option<PathBuf>,
}

impl Global {
    /// `--data`, else `ANXIN_DATA`, else `anxin-data`.
    fn data_dir(&self) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| PathBuf::from(config::DEFAULT_DATA))
    }
}

#[derive(Subcommand)]
enum Command {
    /// 缴费测算 — what a flexible worker pays: base, rate, split, subsidies, net cost, burden.
    Quote(QuoteArgs),
    /// 养老金测算 — pension projection with scenarios side by side ("长缴多得").
    Pension(PensionArgs),
    /// 补缴测算 — which missed months may still be paid, and at what cost.
    Backpay(BackpayArgs),
    /// 医保对比 — employee versus resident medical insurance where a migrant lives.
    Medical(MedicalArgs),
    /// 平台成本 — a platform's contributions, tax deduction, refund and union dues.
    Platform(PlatformArgs),
    /// 职业伤害保障 — a platform's monthly bill per order (with --orders), or whether a worker's order is covered.
    Injury(InjuryArgs),
    /// 财政分担 — the resident medical subsidy split between central and local budgets, and the cost of covering inter-provincial migrants where they live.
    Fiscal(FiscalArgs),
    /// 转移接续 — moving pension and medical insurance between provinces: what moves, deadlines in working days, where the pension is claimed.
    Transfer {
        #[command(subcommand)]
        command: transfer_cmd::TransferCommand,
    },
    /// 联邦 — a small federation of regional instances on this machine (杭州 and 阜阳).
    Federation {
        #[command(subcommand)]
        command: federation_cmd::FederationCommand,
    },
    /// 批量测算 — a population file (CSV) through the quote or pension rules, one result row a person.
    Batch(batch_cmd::BatchArgs),
    /// 政策模拟 — a synthetic population of flexible workers over years: the law in force against reforms.
    Simulate(sim_cmd::SimArgs),
    /// 政策参数 — show parameters in force, list reforms, validate the policy files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// 初始化 — make a data directory: database, signing key, data key, signed empty log.
    Init {
        /// PostgreSQL instead of the embedded SQLite, e.g. postgres://postgres@127.0.0.1/test
        #[arg(long)]
        database: Option<String>,
        /// standard (SHA-256 + Ed25519) or guomi (SM3 + SM2 国密).
        #[arg(long, default_value = "standard")]
        suite: String,
        /// The log's name in its signed checkpoints.
        #[arg(long, default_value = "anxin.local/log")]
        origin: String,
    },
    /// 导入 — persons, orgs, children or contributions from CSV (UTF-8 or GBK), .xlsx or JSON.
    Import {
        /// persons | orgs | children | contributions
        kind: String,
        file: PathBuf,
        /// Where to write the rejected rows (default: FILE.rejected.csv).
        #[arg(long)]
        report: Option<PathBuf>,
        /// Rows per transaction, at most 100,000: larger batches write each index page once
        /// per batch (BENCHMARKS.md: at 2 M records, 100,000 against 50,000 writes 0.59× the
        /// bytes at 1.24× the rate).
        #[arg(long, default_value_t = anxin_records::records::MAX_BATCH)]
        batch: usize,
        /// Print "ack ROW SIZE" after each durable commit.
        #[arg(long)]
        ack: bool,
    },
    /// 个人工作账户 — a worker's record across platforms and regions.
    Person {
        #[command(subcommand)]
        command: PersonCommand,
    },
    /// 凭证 — issue a signed contribution-history certificate (JSON + printable HTML with QR).
    Cert {
        #[command(subcommand)]
        command: CertCommand,
    },
    /// 核验凭证 — check a certificate offline with the issuer's public key.
    Verify {
        file: PathBuf,
        /// The issuer's public key: a .vkey file or its text (default: this data directory's).
        #[arg(long)]
        key: Option<String>,
        /// A peer's witness whose cosignature the certificate's checkpoint must carry,
        /// NAME=BASE64 (the `witness_key` of its peers-file entry; repeatable).
        #[arg(long = "witness", value_name = "NAME=BASE64")]
        witnesses: Vec<String>,
    },
    /// 日志 — the signed tree head, inclusion and consistency proofs.
    Log {
        #[command(subcommand)]
        command: LogCommand,
    },
    /// 审计 — recompute the log from the stored rows; name every row changed behind its back.
    /// Fails if the checkpoint file kept outside the database is missing, or if the log is
    /// smaller than, or inconsistent with, any checkpoint known from elsewhere.
    Audit {
        /// A signed checkpoint known from elsewhere (a backup of `checkpoint`, a peer's copy);
        /// may be repeated.
        #[arg(long = "checkpoint", value_name = "FILE")]
        checkpoints: Vec<PathBuf>,
        /// A certificate issued by this log: its embedded checkpoint is checked too; may be
        /// repeated.
        #[arg(long = "certificate", value_name = "FILE")]
        certificates: Vec<PathBuf>,
    },
    /// 入学审核 — will a guardian's child meet the city's school-admission insurance condition?
    School {
        #[command(subcommand)]
        command: SchoolCommand,
    },
    /// 案件 — cases with legal clocks: file a rights complaint, show it, take a step, the
    /// queue, and the clock's tick that escalates overdue cases.
    Case {
        /// Reforms the deployment runs (e.g. complaint-72h-response, the 72-hour proposal).
        #[arg(long = "reform", global = true)]
        reforms: Vec<String>,
        #[command(subcommand)]
        command: case_cmd::CaseCommand,
    },
    /// 账户 — sign-in accounts for the server: the first administrator, clerks, workers, ….
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// 服务 — the web pages and JSON API; --demo makes a synthetic region first.
    Serve(config::ServeArgs),
    /// 消息 — the inbox: generate reminders and warnings from the records, post them to the
    /// webhook (with retries), list the dead letters.
    Inbox {
        #[command(subcommand)]
        command: InboxCommand,
    },
    /// 平台数据监测 — platform orders at province scale: generate, ingest (pseudonymised,
    /// Parquet), the monthly run (alerts per grid cell, compliance, injury bills, union dues).
    Monitor {
        #[command(subcommand)]
        command: monitor_cmd::MonitorCommand,
    },
}

#[derive(Subcommand)]
enum InboxCommand {
    /// Generate what each person should have been told by today, store what is new, and post
    /// what is due to the webhook of anxin.toml's [inbox.webhook] (if any).
    Run {
        /// The day to run for (YYYY-MM-DD, China time; default: today).
        #[arg(long, value_parser = parse_day)]
        date: Option<jiff::civil::Date>,
        /// Run again every so many seconds, for ever (on the real clock).
        #[arg(long)]
        every: Option<u64>,
    },
    /// The dead-letter list: deliveries given up after the configured attempts.
    Dead,
}

fn parse_day(s: &str) -> Result<jiff::civil::Date, String> {
    s.parse::<jiff::civil::Date>()
        .map_err(|e| format!("日期应为 YYYY-MM-DD / a date is YYYY-MM-DD: {e}"))
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account. The password comes from ANXIN_PASSWORD, or is generated and printed.
    Add {
        username: String,
        /// worker, clerk, grid, education, platform, inspector, union, analyst, auditor, admin, supervisor.
        #[arg(long)]
        role: String,
        /// The region it acts in (6-digit code, e.g. 330100); none: national.
        #[arg(long)]
        region: Option<String>,
        /// For a worker: their resident ID (they must be in the registry).
        #[arg(long)]
        person: Option<String>,
        /// For a platform: its credit code.
        #[arg(long)]
        org: Option<String>,
    },
    /// List the accounts (never their passwords).
    List,
}

#[derive(Subcommand)]
enum PersonCommand {
    /// Months by insurance, region and payer; cumulative months, longest run, gaps.
    Show {
        /// Resident ID (18 characters).
        id: String,
        /// List every month.
        #[arg(long)]
        months: bool,
    },
}

#[derive(Subcommand)]
enum SchoolCommand {
    /// Review a file of applications (CSV, xlsx or JSON: application_id, child_id,
    /// guardian_id, city, month, hardship, proofs as ;-separated codes) on the guardians'
    /// ledger months, and rank them.
    Review {
        file: PathBuf,
        /// Places per city and month.
        #[arg(long)]
        places: u32,
        #[arg(long = "reform")]
        reforms: Vec<String>,
        /// Results file (default: FILE.results.csv).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The identification ledger: school-driven enrolments, their payments since, lapse risk,
    /// and the cohort retention table.
    Ledger {
        /// Also write the retention chart (SVG) to this file.
        #[arg(long)]
        chart: Option<PathBuf>,
    },
    /// The ledger's school cohorts forward: how many guardians are still paying 3, 6, 12 and 24
    /// months after the review, under the law in force and each reform (the behavioural model,
    /// an assumption, is policy/simulation/school-cohort.toml). Same seed, same bytes.
    Cohort {
        /// A reform to compare with the law in force (repeatable; each alone).
        #[arg(long = "reform")]
        reforms: Vec<String>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Times each guardian is followed (default 200, fewer for a large ledger).
        #[arg(long)]
        draws: Option<u32>,
        /// Where to write cohort.csv and cohort.svg.
        #[arg(long, default_value = "cohort")]
        out: PathBuf,
    },
    /// Sign an attestation for the school office: decision, points, thresholds met — no months.
    Attest {
        id: String,
        #[arg(long)]
        city: Option<String>,
        #[arg(long, value_parser = parse_month)]
        month: Option<YearMonth>,
        #[arg(long)]
        hardship: bool,
        #[arg(long = "reform")]
        reforms: Vec<String>,
        /// Another proof shown: KIND or KIND@YYYY-MM (the month on the document).
        #[arg(long = "proof", value_parser = parse_proof)]
        proofs: Vec<anxin_policy::calc::school::Proof>,
        /// Directory to write the attestation into (default: the current one).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the review on the guardian's ledger months (the city: --city, else where they live).
    Check {
        /// The guardian's resident ID.
        id: String,
        #[arg(long)]
        city: Option<String>,
        /// Application month (YYYY-MM); default: this month.
        #[arg(long, value_parser = parse_month)]
        month: Option<YearMonth>,
        /// The family is in hardship (low income, single parent, several children).
        #[arg(long)]
        hardship: bool,
        /// Apply a reform, e.g. school-cumulative-first.
        #[arg(long = "reform")]
        reforms: Vec<String>,
        /// Another proof shown (repeat for several): business_licence, labour_contract,
        /// tax_records, platform_orders or community_residence, optionally @YYYY-MM, the
        /// month the document starts from (e.g. labour_contract@2025-06).
        #[arg(long = "proof", value_parser = parse_proof)]
        proofs: Vec<anxin_policy::calc::school::Proof>,
    },
}

#[derive(Subcommand)]
enum CertCommand {
    /// Issue a certificate for the person with this resident ID.
    Issue {
        id: String,
        /// Directory to write the .json and .html into (default: the current one).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum LogCommand {
    /// The current signed checkpoint.
    Checkpoint,
    /// An inclusion proof bundle (--seq or --key) or a consistency proof (--from [--to]).
    Prove {
        #[arg(long)]
        seq: Option<u64>,
        /// A record id (idempotency key).
        #[arg(long)]
        key: Option<String>,
        #[arg(long)]
        from: Option<u64>,
        #[arg(long)]
        to: Option<u64>,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Every parameter in force for a region on a date, with value, unit and source.
    Show {
        /// Region: code (330000), name (浙江, Zhejiang) or alias.
        region: String,
        /// Date (YYYY-MM-DD or YYYY-MM); default: today.
        #[arg(long)]
        date: Option<String>,
        /// Apply a reform (repeatable).
        #[arg(long = "reform")]
        reforms: Vec<String>,
    },
    /// Validate every policy file strictly; report each problem with file and line.
    Check,
    /// List the reforms, where and from when each applies.
    Reforms,
    /// List the regions.
    Regions,
}

#[derive(Args)]
struct Common {
    /// Region: code (330000), name (浙江 / Zhejiang) or alias (zj).
    #[arg(long, short)]
    region: String,
    /// Apply a reform (repeatable): see `anxin policy reforms`.
    #[arg(long = "reform")]
    reforms: Vec<String>,
}

#[derive(Args)]
struct BaseArgs {
    /// Base tier, percent of the average wage (60–300). Default: the lowest.
    #[arg(long, conflicts_with = "base")]
    tier: Option<u32>,
    /// Base in yuan, instead of a tier.
    #[arg(long, value_parser = parse_yuan)]
    base: Option<Fen>,
}

#[derive(Args)]
struct QuoteArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    base: BaseArgs,
    /// Month (YYYY-MM); default: this month.
    #[arg(long, value_parser = parse_month)]
    month: Option<YearMonth>,
    /// Monthly income in yuan (for the burden, and income-band reforms).
    #[arg(long, value_parser = parse_yuan)]
    income: Option<Fen>,
    /// Base follows income (where a reform allows it).
    #[arg(long)]
    income_based: bool,
    /// monthly, quarterly, yearly or peak-trough.
    #[arg(long, default_value = "monthly", value_parser = parse_frequency)]
    frequency: Frequency,
    /// Twelve expected monthly incomes in yuan, comma-separated, for peak-trough.
    #[arg(long, value_delimiter = ',', value_parser = parse_yuan)]
    incomes: Vec<Fen>,
    /// 就业困难人员: entitled to the employment-difficulty subsidy.
    #[arg(long)]
    difficulty: bool,
    /// Enrolling for the first time because a child applies for school.
    #[arg(long)]
    school_first: bool,
    /// Household hardship (low income, single parent, several children).
    #[arg(long)]
    hardship: bool,
    /// Occasional income of the year in yuan (personal savings account reform).
    #[arg(long, value_parser = parse_yuan)]
    occasional: Option<Fen>,
}

#[derive(Args)]
struct PensionArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    base: BaseArgs,
    /// Birth month (YYYY-MM).
    #[arg(long, value_parser = parse_month)]
    birth: YearMonth,
    /// male, female55 (women originally retiring at 55, most flexible workers) or female50.
    #[arg(long, default_value = "male", value_parser = parse_track)]
    track: Track,
    /// Months already paid into the employee pension.
    #[arg(long, default_value_t = 0)]
    paid_months: u32,
    /// Personal-account balance today, yuan.
    #[arg(long, value_parser = parse_yuan)]
    balance: Option<Fen>,
    /// Average tier (percent) of the months already paid.
    #[arg(long)]
    past_tier: Option<u32>,
    /// Monthly income in yuan (to compare the pension with it).
    #[arg(long, value_parser = parse_yuan)]
    income: Option<Fen>,
    /// Transitional pension per month, yuan (0 for almost every flexible worker).
    #[arg(long, value_parser = parse_yuan)]
    transitional: Option<Fen>,
    /// Resident-pension tier to compare with, yuan a year (default 500).
    #[arg(long, value_parser = parse_yuan)]
    resident_tier: Option<Fen>,
    /// Scenario (repeatable): keep, stop:N, gap:N, tier:P. Default: keep, stop:12, tier:100.
    #[arg(long = "scenario", value_parser = parse_scenario)]
    scenarios: Vec<Scenario>,
    /// Projection month; default: this month.
    #[arg(long, value_parser = parse_month)]
    as_of: Option<YearMonth>,
}

#[derive(Args)]
struct BackpayArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    base: BaseArgs,
    /// Missed months: YYYY-MM, or a range YYYY-MM..YYYY-MM; comma-separated or repeated.
    #[arg(long, value_delimiter = ',', required = true)]
    missed: Vec<String>,
    #[arg(long, value_parser = parse_month)]
    as_of: Option<YearMonth>,
    /// Monthly income in yuan (income-band reforms).
    #[arg(long, value_parser = parse_yuan)]
    income: Option<Fen>,
}

#[derive(Args)]
struct MedicalArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    base: BaseArgs,
    /// Region of the hukou; default: the region of residence (local).
    #[arg(long)]
    hukou: Option<String>,
    /// Holds a residence permit (居住证) where they live.
    #[arg(long)]
    permit: bool,
    /// Whole years without cover before enrolling now.
    #[arg(long, default_value_t = 0)]
    uncovered_years: u32,
    /// Years of continuous cover since re-enrolling.
    #[arg(long, default_value_t = 0)]
    continuous_years: u32,
    /// Enrolling during the yearly enrolment window.
    #[arg(long)]
    in_window: bool,
    #[arg(long, value_parser = parse_month)]
    as_of: Option<YearMonth>,
}

#[derive(Args)]
struct PlatformArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    base: BaseArgs,
    /// Number of workers.
    #[arg(long)]
    workers: u32,
    #[arg(long, value_parser = parse_month)]
    month: Option<YearMonth>,
    /// Share of each contribution the platform pays, percent (default 100).
    #[arg(long)]
    share: Option<u32>,
    /// Average monthly pay per worker, yuan (for union dues).
    #[arg(long, value_parser = parse_yuan)]
    avg_pay: Option<Fen>,
    /// Annual revenue, yuan (for the immediate-refund threshold).
    #[arg(long, value_parser = parse_yuan)]
    revenue: Option<Fen>,
}

#[derive(Args)]
struct InjuryArgs {
    #[command(flatten)]
    common: Common,
    /// Month (YYYY-MM); default: this month.
    #[arg(long, value_parser = parse_month)]
    month: Option<YearMonth>,
    /// ride-hailing (出行), delivery (即时配送), food-delivery (外卖) or same-city-freight (同城货运).
    #[arg(long)]
    sector: String,
    /// Orders in the month: the platform's bill. Without it: whether an order is covered.
    #[arg(long)]
    orders: Option<u64>,
    /// Instant delivery only: standard (0.07 yuan an order, the default) or high (0.25).
    #[arg(long, value_parser = parse_delivery_tier)]
    tier: Option<DeliveryTier>,
}

#[derive(Args)]
struct FiscalArgs {
    #[command(flatten)]
    common: Common,
    /// Year; default: this year.
    #[arg(long)]
    year: Option<i32>,
    /// Residents insured in resident medical insurance in the region.
    #[arg(long)]
    residents: u64,
    /// Inter-provincial migrants to be covered where they live (needs --hukou).
    #[arg(long)]
    migrants: Option<u64>,
    /// The migrants' hukou province: code, name or alias (e.g. 340000, 安徽, ah).
    #[arg(long)]
    hukou: Option<String>,
}

fn parse_delivery_tier(s: &str) -> Result<DeliveryTier, String> {
    DeliveryTier::parse(s).ok_or_else(|| {
        format!("'{s}' is not a delivery tier: use standard (0.07) or high (0.25) / 档次只有 standard（0.07 元）和 high（0.25 元）")
    })
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("'{s}' is not a language: use zh or en"))
}
/// `--today`: a month, or a day and its month.
#[derive(Clone, Copy, Debug)]
struct Today {
    month: YearMonth,
    day: Option<jiff::civil::Date>,
}

fn parse_today(s: &str) -> Result<Today, String> {
    if s.trim().len() > 7 {
        let day: jiff::civil::Date = s.trim().parse().map_err(|_| {
            format!("「{s}」不是日期 is not a date: YYYY-MM-DD（如 2026-09-28）or YYYY-MM")
        })?;
        let month = YearMonth::of_date(day)
            .ok_or_else(|| format!("{s}: 日期超出范围 date out of range"))?;
        return Ok(Today {
            month,
            day: Some(day),
        });
    }
    Ok(Today {
        month: parse_month(s)?,
        day: None,
    })
}

/// A clock that starts at 09:00 China time on a given day and runs at the real clock's pace
/// from the moment the server started (`serve --today YYYY-MM-DD`).
struct StartedClock {
    start: jiff::Timestamp,
    since: std::time::Instant,
}

impl anxin_domain::Clock for StartedClock {
    fn now(&self) -> jiff::Timestamp {
        let elapsed = jiff::SignedDuration::try_from(self.since.elapsed()).unwrap_or_default();
        self.start.saturating_add(elapsed).unwrap_or(self.start)
    }
}

/// The server's clock: the system's, or `--today`'s day from 09:00 China time.
fn server_clock(g: &Global) -> anxin_domain::SharedClock {
    let start = g
        .today
        .and_then(|t| t.day)
        .and_then(|d| d.at(9, 0, 0, 0).to_zoned(anxin_domain::china()).ok());
    match start {
        Some(z) => std::sync::Arc::new(StartedClock {
            start: z.timestamp(),
            since: std::time::Instant::now(),
        }),
        None => anxin_domain::system_clock(),
    }
}

fn parse_month(s: &str) -> Result<YearMonth, String> {
    YearMonth::parse(s).map_err(|e| e.to_string())
}
/// KIND or KIND@YYYY-MM (the code or its Chinese name, as in import files); an unknown kind
/// is refused naming the proof codes.
fn parse_proof(s: &str) -> Result<anxin_policy::calc::school::Proof, String> {
    let (kind, since) = match s.split_once('@') {
        Some((k, m)) => (k.trim(), Some(parse_month(m.trim())?)),
        None => (s.trim(), None),
    };
    let kind = anxin_policy::calc::school::check_proof_kind(kind)
        .map_err(|e| format!("{} {}", e.zh, e.en))?;
    Ok(anxin_policy::calc::school::Proof { kind, since })
}
fn parse_yuan(s: &str) -> Result<Fen, String> {
    Fen::parse_yuan(s).map_err(|e| e.to_string())
}
fn parse_frequency(s: &str) -> Result<Frequency, String> {
    Frequency::parse(s).ok_or_else(|| {
        format!("'{s}' is not a frequency: use monthly, quarterly, yearly or peak-trough")
    })
}
fn parse_track(s: &str) -> Result<Track, String> {
    Track::parse(s).ok_or_else(|| format!("'{s}' is not a track: use male, female55 or female50"))
}
fn parse_scenario(s: &str) -> Result<Scenario, String> {
    Scenario::parse(s).ok_or_else(|| format!("'{s}' is not a scenario: use keep, stop:N, gap:N or tier:P (N months ≤ 1200, P percent)"))
}

/// The months missed, and the span they were written as when given as one range.
type Missed = (Vec<YearMonth>, Option<(YearMonth, YearMonth)>);

fn parse_missed(items: &[String]) -> Result<Missed, Error> {
    let mut months = Vec::new();
    let mut range = None;
    for item in items {
        if let Some((a, b)) = item.split_once("..") {
            let a =
                YearMonth::parse(a).map_err(|e| Error::bad_input(e.to_string(), e.to_string()))?;
            let b =
                YearMonth::parse(b).map_err(|e| Error::bad_input(e.to_string(), e.to_string()))?;
            if range.is_some() {
                return Err(Error::bad_input(
                    "只能给一个月份区间",
                    "give at most one range of months",
                ));
            }
            range = Some((a, b));
        } else {
            months.push(
                YearMonth::parse(item)
                    .map_err(|e| Error::bad_input(e.to_string(), e.to_string()))?,
            );
        }
    }
    Ok((months, range))
}

fn load_policy(g: &Global) -> Result<Policy, Error> {
    let loaded = match &g.policy {
        Some(dir) => Policy::load_dir(dir),
        None => Policy::embedded(),
    };
    loaded.map_err(|errs| {
        let list: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        Error::new(
            ErrorKind::PolicyFiles,
            format!("政策文件有 {} 处错误：\n{}", errs.len(), list.join("\n")),
            format!(
                "{} problem(s) in the policy files (listed above)",
                errs.len()
            ),
        )
    })
}

fn today(g: &Global) -> YearMonth {
    g.today.map(|t| t.month).unwrap_or_else(|| {
        let now = anxin_domain::Clock::today(&anxin_domain::SystemClock);
        YearMonth::of_date(now)
            .unwrap_or_else(|| YearMonth::new(2026, 1).expect("2026-01 is a valid month"))
    })
}

fn today_date(g: &Global) -> jiff::civil::Date {
    match g.today {
        Some(Today { day: Some(day), .. }) => day,
        // A given month means its last day: every month up to it has arrived.
        Some(Today { month: m, .. }) => m.plus(1).first_day().yesterday().unwrap_or(m.first_day()),
        None => anxin_domain::Clock::today(&anxin_domain::SystemClock),
    }
}

fn run(cli: Cli) -> Result<(), fail::Fail> {
    let mut g = cli.global.clone();
    if let Command::Serve(args) = &cli.command {
        let settings = config::settings(args, g.data.clone(), g.policy.clone())?;
        g.policy = settings.policy.clone();
        let policy = load_policy(&g)?;
        let demo = args.demo.then(|| args.database.clone());
        let federation = match (&args.federation_name, args.outbox_every) {
            (_, Some(n)) if !(1..=3600).contains(&n) => {
                return Err(fail::Fail::bad_input(
                    format!("--outbox-every 是 {n} 秒：须在 1 到 3600 秒之间"),
                    format!("--outbox-every is {n} s: it must be 1 to 3600 seconds"),
                ));
            }
            (Some(name), every) => Some((
                name.clone(),
                std::time::Duration::from_secs(every.unwrap_or(2)),
            )),
            (None, _) => None,
        };
        return serve(&g, policy, today(&g), settings, demo, federation);
    }
    let policy = load_policy(&g)?;
    let today = today(&g);
    let (lang, json) = (g.lang, g.json);
    let command = match cli.command {
        Command::Init {
            database,
            suite,
            origin,
        } => {
            let d = data::init(&g.data_dir(), database.as_deref(), &suite, &origin)?;
            let vkey = d.public_key_text()?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "data": d.dir, "database": d.config.database, "suite": d.config.suite, "vkey": vkey })
                );
            } else {
                println!("数据目录已建立 Data directory ready: {}", d.dir.display());
                println!("  数据库 database: {}", d.config.database);
                println!("  密码套件 suite: {}", d.config.suite);
                println!("  公钥（交给核验方） public key for verifiers: {vkey}");
            }
            return Ok(());
        }
        Command::Monitor { command } => {
            return monitor_cmd::run_cmd(g.data_dir(), &policy, today, command, lang, json);
        }
        Command::Batch(a) => return batch_cmd::run(&policy, today, a, lang, json),
        Command::Simulate(a) => return sim_cmd::run(&policy, today, a, lang, json),
        Command::Import {
            kind,
            file,
            report,
            batch,
            ack,
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            let args = import_cmd::ImportArgs {
                kind: &kind,
                file: &file,
                report,
                batch,
                ack,
                today: today_date(&g),
            };
            return import_cmd::import(&d, &policy, args, lang, json);
        }
        Command::Person {
            command: PersonCommand::Show { id, months },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            return records_cmd::person_show(&d, &policy, &id, months, lang, json);
        }
        Command::Cert {
            command: CertCommand::Issue { id, out },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            return records_cmd::cert_issue(&d, &id, out.as_deref(), today_date(&g), json);
        }
        Command::Verify {
            file,
            key,
            witnesses,
        } => {
            let d = data::DataDir::open(&g.data_dir()).ok();
            return records_cmd::verify(&file, key.as_deref(), &witnesses, d.as_ref(), lang, json);
        }
        Command::Log {
            command: LogCommand::Checkpoint,
        } => {
            return records_cmd::log_checkpoint(&data::DataDir::open(&g.data_dir())?, json);
        }
        Command::Log {
            command: LogCommand::Prove { seq, key, from, to },
        } => {
            return records_cmd::log_prove(
                &data::DataDir::open(&g.data_dir())?,
                seq,
                key.as_deref(),
                from,
                to,
            );
        }
        Command::Audit {
            checkpoints,
            certificates,
        } => {
            return records_cmd::audit(
                &data::DataDir::open(&g.data_dir())?,
                &checkpoints,
                &certificates,
                lang,
                json,
            );
        }
        Command::School {
            command:
                SchoolCommand::Review {
                    file,
                    places,
                    reforms,
                    out,
                },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            return records_cmd::school_review_file(
                &d,
                &policy,
                &file,
                places,
                reforms,
                out,
                today_date(&g),
                lang,
            );
        }
        Command::School {
            command:
                SchoolCommand::Cohort {
                    reforms,
                    seed,
                    draws,
                    out,
                },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            let ask = sim_cmd::CohortAsk {
                reforms,
                seed,
                draws,
                out,
            };
            return sim_cmd::cohort(&d, &policy, today, ask, lang, json);
        }
        Command::School {
            command: SchoolCommand::Ledger { chart },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            return records_cmd::school_ledger(&d, &policy, today, lang, json, chart.as_deref());
        }
        Command::School {
            command:
                SchoolCommand::Attest {
                    id,
                    city,
                    month,
                    hardship,
                    reforms,
                    proofs,
                    out,
                },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            return records_cmd::school_attest(
                &d,
                &policy,
                &id,
                city.as_deref(),
                month.unwrap_or(today),
                hardship,
                reforms,
                proofs,
                out.as_deref(),
                today_date(&g),
            );
        }
        Command::School {
            command:
                SchoolCommand::Check {
                    id,
                    city,
                    month,
                    hardship,
                    reforms,
                    proofs,
                },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            return records_cmd::school_check(
                &d,
                &policy,
                &id,
                city.as_deref(),
                month.unwrap_or(today),
                hardship,
                reforms,
                proofs,
                lang,
                json,
                g.explain,
            );
        }
        Command::Case { reforms, command } => {
            if let Some(done) = case_cmd::offline(
                &command,
                data::DataDir::open(&g.data_dir()).ok().as_ref(),
                json,
                lang,
            ) {
                return done;
            }
            let d = data::DataDir::open(&g.data_dir())?;
            let mut records = d.records()?;
            return case_cmd::run(&mut records, &policy, &reforms, command, json, lang);
        }
        Command::Account {
            command:
                AccountCommand::Add {
                    username,
                    role,
                    region,
                    person,
                    org,
                },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            let mut records = d.records()?;
            let given = std::env::var("ANXIN_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty());
            let generated = given.is_none();
            let password = account_cmd::add(
                &mut records,
                account_cmd::AddArgs {
                    username: &username,
                    role: &role,
                    region: region.as_deref(),
                    person: person.as_deref(),
                    org: org.as_deref(),
                    password: given,
                },
            )?;
            println!("已创建账户 account created: {username} ({role})");
            if generated {
                println!("密码 password (只显示这一次 shown once): {password}");
            }
            return Ok(());
        }
        Command::Federation { command } => return federation_cmd::run(command),
        Command::Inbox {
            command: InboxCommand::Run { date, every },
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            let date = date.or(g.today.map(|_| today_date(&g)));
            return inbox_cmd::run(&d, &policy, date, every, json);
        }
        Command::Inbox {
            command: InboxCommand::Dead,
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            return inbox_cmd::dead(&d, json);
        }
        Command::Account {
            command: AccountCommand::List,
        } => {
            let d = data::DataDir::open(&g.data_dir())?;
            return account_cmd::list(&mut d.records()?, json);
        }
        other => other,
    };
    run_calculator(&g, &policy, today, command).map_err(fail::Fail::from)
}

/// `anxin serve [--demo]`
fn serve(
    g: &Global,
    policy: Policy,
    today: YearMonth,
    settings: config::Settings,
    demo: Option<Option<String>>,
    federation: Option<(String, std::time::Duration)>,
) -> Result<(), fail::Fail> {
    use anxin_server::logging::SERVER;
    anxin_server::logging::init(settings.log_format, &settings.log);
    let workers = settings.demo_workers;
    // The records the server works on: the demo's, freshly written, or the data directory's.
    // The demo's directory (keys included) is removed when serving ends, however it ends
    // short of a kill: after a graceful shutdown (SIGTERM, Ctrl-C) or an error.
    let mut demo_dir: Option<DemoDir> = None;
    let mut case_reforms: Vec<String> = Vec::new();
    let opened = match demo {
        Some(database) => {
            let dir = std::env::temp_dir().join(format!("anxin-demo-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let guard = demo_dir.insert(DemoDir::create(dir)?);
            let d = data::init(&guard.0, database.as_deref(), "standard", "anxin.demo/log")?;
            let dir = d.dir.clone();
            let mut demo = demo::Generator::new(&policy, workers, settings.demo_months, today)?;
            let mut records = d.records()?;
            let started = std::time::Instant::now();
            let mut total = 0usize;
            let mut bar = progress::Bar::new(u64::from(workers));
            // Made and written a batch at a time: a province-sized demo never sits in memory.
            // The next batch is made and prepared on one core while the records write the one
            // before on the other (`Records::append_all`); each commit advances the outside
            // checkpoint (the deployment's hook).
            let made = std::sync::atomic::AtomicU32::new(0);
            let mut failed = None;
            let batches = std::iter::from_fn(|| match demo.next_batch(50_000) {
                Ok(batch) => {
                    made.store(demo.progress().0, std::sync::atomic::Ordering::Relaxed);
                    batch
                }
                Err(e) => {
                    failed = Some(e);
                    None
                }
            });
            records.append_all(batches, &mut |committed| {
                total += committed.outcomes.len();
                bar.show(
                    u64::from(made.load(std::sync::atomic::Ordering::Relaxed)),
                    total as u64,
                );
                Ok(())
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            bar.finish();
            // The demo workers' inboxes, as `anxin inbox run` would fill them on the demo's
            // day (the last day of --today's month, as every other command reads it).
            let day = anxin_domain::TestClock::on(today_date(g));
            let inboxes = std::time::Instant::now();
            let told = anxin_service::inbox::generate(records.store(), &policy, &day, &[])?;
            println!(
                "  收件箱已生成 Inboxes filled: {} 人 persons, {} 条消息 messages in {:.1} s",
                told.persons,
                told.new,
                inboxes.elapsed().as_secs_f64()
            );
            println!(
                "演示地区已生成 Demo region ready: {workers} 名劳动者 workers, {total} 条记录 records in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            println!("  数据目录 data: {}", d.dir.display());
            println!(
                "  可以试试这些身份证号 try these IDs (anxin --data {} person show ID):",
                d.dir.display()
            );
            for (id, what) in &demo.samples {
                println!("    {id}  {what}");
            }
            println!(
                "  演示账户 demo accounts (用户名 username / 密码 password, 每次启动重新生成 new each start):"
            );
            for (username, role, password, what) in demo::accounts(&mut records, &demo.samples)? {
                println!("    {username:<14} {password}  {role:<10} {what}");
            }
            // Complaints in every state, some overdue, on the server's clock (`--today DAY`
            // dates them on that day).
            let now = anxin_domain::Clock::now(server_clock(g).as_ref());
            let made = demo::cases(&mut records, &policy, now)?
                + demo::more_cases(&mut records, &policy, now, today)?
                + demo::agreements(&mut records, &policy, now)?;
            println!("  演示案件 demo cases: {made}（/cases）");
            // A monitor month (issue 16): alerts for the grid account, ratings for the inspector.
            let (alerts, mine, rated, month) = demo::monitor(&d, &policy, today)?;
            println!(
                "  演示网格预警 demo monitor {month}: {alerts} 条预警 alerts, {mine} 条在 {} 的网格 in its cells (/grid), {rated} 个平台评级 platforms rated (/monitor/compliance)",
                demo::MONITOR_GRID.0
            );
            let backend = d.config.backend();
            case_reforms = d.config.case_reforms();
            tracing::info!(target: SERVER, backend, data = %d.dir.display(), workers, "demo records opened");
            Some((records, dir))
        }
        None => match data::DataDir::open(&settings.data) {
            Ok(d) => {
                // Every write through the server advances the data directory's checkpoint
                // file, and the server's audit checks the log against it.
                let records = d.records()?;
                let backend = d.config.backend();
                case_reforms = d.config.case_reforms();
                tracing::info!(target: SERVER, backend, data = %d.dir.display(), "records opened");
                Some((records, d.dir.clone()))
            }
            Err(e) => {
                let e = fail::Fail::from(e);
                tracing::warn!(target: SERVER, data = %settings.data.display(), reason = %e.en, "no records: serving the calculators only");
                None
            }
        },
    };
    // The data directory, for the inbox's own connection when the server runs it.
    let (opened, data_dir) = match opened {
        Some((records, dir)) => (Some(records), Some(dir)),
        None => (None, None),
    };
    let verifier = opened
        .as_ref()
        .map(|r| std::sync::Arc::new(r.verifier().clone()));
    let records = opened.map(|mut records| {
        // Uploaded contributions without a personal-account amount get the policy's.
        records.set_account_rule(anxin_service::account_rule(&policy, today.first_day()));
        // Readers beside the one writer: a page waits for no import.
        anxin_service::db::Db::start_with(
            records,
            anxin_service::db::READERS,
            settings.background_nice,
        )
    });
    let records = records.transpose()?;
    let state = anxin_server::AppState {
        verifier,
        today: g.today.map(|t| t.month),
        records,
        secure_cookies: settings.secure_cookies,
        logins: std::sync::Arc::new(anxin_server::auth::LoginLimiter::new(settings.login)),
        clock: server_clock(g),
        case_reforms: std::sync::Arc::new(case_reforms),
        data_dir: data_dir.clone().map(std::sync::Arc::new),
        background_nice: settings.background_nice,
        ..anxin_server::AppState::new(policy)
    };
    // Transfers between instances: the state machine on its own connection, its outbox posted
    // by a thread of its own.
    let (state, outbox) = match (federation, &data_dir) {
        (Some((name, every)), Some(dir)) => {
            let node = anxin_service::transfer::node::Node::open(
                dir,
                &name,
                state.policy.clone(),
                state.clock.clone(),
            )
            .map_err(|r| fail::Fail::bad_input(r.zh, r.en))?;
            let node = std::sync::Arc::new(node);
            tracing::info!(target: SERVER, every_seconds = every.as_secs(), "transfers between instances on");
            let worker = federation_cmd::Background::start(node.clone(), every);
            (
                anxin_server::AppState {
                    federation: Some(node),
                    ..state
                },
                Some(worker),
            )
        }
        (Some(_), None) => {
            return Err(fail::Fail::bad_input(
                "实例间转移需要数据目录（--data）",
                "transfers between instances need a data directory (--data)",
            ));
        }
        (None, _) => (state, None),
    };
    let inbox = match (settings.inbox_every, data_dir) {
        (Some(every), Some(dir)) => {
            let d = data::DataDir::open(&dir)?;
            tracing::info!(target: SERVER, every_seconds = every.as_secs(), "inbox runs in the server");
            Some(inbox_cmd::Background::start(
                d,
                state.policy.clone(),
                state.clock.clone(),
                every,
            ))
        }
        (Some(_), None) => {
            tracing::warn!(target: SERVER, "no records: the inbox does not run");
            None
        }
        (None, _) => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| fail::Fail::data(format!("启动失败：{e}"), format!("cannot start: {e}")))?;
    let addr = settings.addr.as_str();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            fail::Fail::bad_input(
                format!("不能监听 {addr}：{e}"),
                format!("cannot listen on {addr}: {e}"),
            )
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| fail::Fail::data(e.to_string(), e.to_string()))?;
        println!("正在服务 listening on http://{local}  (Ctrl-C 停止 to stop)");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        // Imports a crash or restart interrupted go on after their last durable batch.
        if state.records.is_some()
            && let Err(e) = anxin_server::imports::resume(&state).await
        {
            tracing::warn!(target: SERVER, reason = %e.en, "unfinished imports not resumed");
        }
        anxin_server::serve(listener, state, settings.connections)
            .await
            .map_err(|e| fail::Fail::data(format!("服务出错：{e}"), format!("server error: {e}")))
    })?;
    if let Some(outbox) = outbox {
        outbox.stop();
    }
    // The inbox finishes the round under way, then stops.
    if let Some(inbox) = inbox {
        inbox.stop();
    }
    // Every handle on the records is gone with the runtime; the demo directory goes now.
    drop(runtime);
    drop(demo_dir);
    Ok(())
}

/// The demo's temporary data directory: made private (0700) and removed when dropped.
struct DemoDir(std::path::PathBuf);

impl DemoDir {
    fn create(dir: std::path::PathBuf) -> Result<DemoDir, fail::Fail> {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            builder.mode(0o700);
        }
        builder.create(&dir).map_err(|e| {
            fail::Fail::data(
                format!("建演示目录 {} 失败：{e}", dir.display()),
                format!("creating the demo directory {} failed: {e}", dir.display()),
            )
        })?;
        Ok(DemoDir(dir))
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        match std::fs::remove_dir_all(&self.0) {
            Ok(()) => {
                tracing::info!(target: anxin_server::logging::SERVER, "demo data directory removed")
            }
            Err(e) => {
                tracing::warn!(target: anxin_server::logging::SERVER, data = %self.0.display(), reason = %e, "the demo data directory could not be removed")
            }
        }
    }
}

fn run_calculator(
    g: &Global,
    policy: &Policy,
    today: YearMonth,
    command: Command,
) -> Result<(), Error> {
    let g = g.clone();
    let fen = |f: Option<Fen>| f.map(|f| f.0);
    match command {
        Command::Quote(a) => {
            let req = QuoteRequest {
                region: a.common.region,
                month: a.month,
                tier_percent: a.base.tier,
                base_fen: fen(a.base.base),
                income_based: a.income_based,
                income_fen: fen(a.income),
                frequency: a.frequency,
                monthly_incomes_fen: a.incomes.iter().map(|f| f.0).collect(),
                reforms: a.common.reforms,
                employment_difficulty: a.difficulty,
                school_first_enrollment: a.school_first,
                household_hardship: a.hardship,
                occasional_income_fen: fen(a.occasional),
            };
            let r = calc::quote::quote(policy, &req, today)?;
            emit(&g, &r, &r.trace, || render::quote(&r, g.lang))
        }
        Command::Pension(a) => {
            let req = PensionRequest {
                region: a.common.region,
                as_of: a.as_of,
                birth: Some(a.birth),
                track: a.track,
                paid_months: a.paid_months,
                account_balance_fen: a.balance.map(|f| f.0).unwrap_or(0),
                past_tier_percent: a.past_tier,
                tier_percent: a.base.tier,
                base_fen: fen(a.base.base),
                income_fen: fen(a.income),
                transitional_fen: a.transitional.map(|f| f.0).unwrap_or(0),
                resident_tier_fen: fen(a.resident_tier),
                scenarios: a.scenarios,
                reforms: a.common.reforms,
            };
            let r = calc::pension::project(policy, &req, today)?;
            emit(&g, &r, &r.trace, || render::pension(&r, g.lang))
        }
        Command::Backpay(a) => {
            let (missed, range) = parse_missed(&a.missed)?;
            let req = BackpayRequest {
                region: a.common.region,
                as_of: a.as_of,
                missed,
                missed_from: range.map(|r| r.0),
                missed_to: range.map(|r| r.1),
                tier_percent: a.base.tier,
                base_fen: fen(a.base.base),
                income_fen: fen(a.income),
                reforms: a.common.reforms,
            };
            let r = calc::backpay::backpay(policy, &req, today)?;
            emit(&g, &r, &r.trace, || render::backpay(&r, g.lang))
        }
        Command::Medical(a) => {
            let req = MedicalRequest {
                region: a.common.region,
                hukou_region: a.hukou,
                residence_permit: a.permit,
                as_of: a.as_of,
                tier_percent: a.base.tier,
                base_fen: fen(a.base.base),
                uncovered_years: a.uncovered_years,
                continuous_years: a.continuous_years,
                in_enrollment_window: a.in_window,
                reforms: a.common.reforms,
            };
            let r = calc::medical::medical(policy, &req, today)?;
            emit(&g, &r, &r.trace, || render::medical(&r, g.lang))
        }
        Command::Platform(a) => {
            let req = PlatformRequest {
                region: a.common.region,
                month: a.month,
                workers: a.workers,
                tier_percent: a.base.tier,
                base_fen: fen(a.base.base),
                platform_share_percent: a.share,
                avg_pay_fen: fen(a.avg_pay),
                annual_revenue_fen: fen(a.revenue),
                reforms: a.common.reforms,
            };
            let r = calc::platform::platform(policy, &req, today)?;
            emit(&g, &r, &r.trace, || render::platform(&r, g.lang))
        }
        Command::Injury(a) => {
            let req = InjuryRequest {
                region: a.common.region,
                month: a.month,
                sector: a.sector,
                orders: a.orders,
                delivery_tier: a.tier,
                reforms: a.common.reforms,
            };
            let r = calc::injury::injury(policy, &req, today)?;
            emit(&g, &r, &r.trace, || render::injury(&r, g.lang))
        }
        Command::Fiscal(a) => {
            let req = FiscalRequest {
                region: a.common.region,
                year: a.year,
                residents: a.residents,
                migrants: a.migrants,
                hukou: a.hukou,
                reforms: a.common.reforms,
            };
            let r = calc::fiscal::fiscal(policy, &req, today)?;
            emit(&g, &r, &r.trace, || render::fiscal(&r, g.lang))
        }
        Command::Transfer { command } => {
            transfer_cmd::run(&g, policy, today, today_date(&g), command)
        }
        Command::Policy { command } => match command {
            PolicyCommand::Check => {
                let n_params: usize = anxin_policy::schema::KEYS.len();
                println!(
                    "{}",
                    g.lang.pick(
                        &format!("政策文件全部有效：{} 个地区，{} 个改革方案，{n_params} 种参数", policy.regions.len(), policy.reforms.len()),
                        &format!("policy files valid: {} regions, {} reforms, {n_params} known parameters", policy.regions.len(), policy.reforms.len()),
                    )
                );
                Ok(())
            }
            PolicyCommand::Show {
                region,
                date,
                reforms,
            } => {
                let date = match date {
                    Some(d) => parse_date(&d)?,
                    None => today.first_day(),
                };
                let scope = policy.scope_at(&region, date, &reforms)?;
                let rows = render::policy_rows(&scope);
                if g.json {
                    print_json(&rows)
                } else {
                    print!("{}", render::policy_show(&scope, &rows, g.lang));
                    Ok(())
                }
            }
            PolicyCommand::Reforms => {
                if g.json {
                    let list: Vec<serde_json::Value> = policy
                        .reforms
                        .values()
                        .map(|r| serde_json::json!({"name": r.name, "title_zh": r.title_zh, "title_en": r.title_en, "from": r.from.to_string(), "regions": r.regions.iter().map(|c| c.to_string()).collect::<Vec<_>>(), "source": r.source.doc}))
                        .collect();
                    return print_json(&list);
                }
                print!("{}", render::reforms(policy, g.lang));
                Ok(())
            }
            PolicyCommand::Regions => {
                if g.json {
                    return print_json(&policy.regions.values().collect::<Vec<_>>());
                }
                for r in policy.regions.values() {
                    let parent = r
                        .parent
                        .map(|p| p.to_string())
                        .unwrap_or_else(|| "—".into());
                    println!("{}  {}  {}  ← {parent}", r.code, r.name_zh, r.name_en);
                }
                Ok(())
            }
        },
        _ => unreachable!("records commands are handled in run"),
    }
}

fn parse_date(s: &str) -> Result<jiff::civil::Date, Error> {
    if let Ok(d) = s.parse::<jiff::civil::Date>() {
        return Ok(d);
    }
    YearMonth::parse(s).map(|m| m.first_day()).map_err(|_| {
        Error::bad_input(
            format!("“{s}”不是日期：请写成 YYYY-MM-DD 或 YYYY-MM"),
            format!("'{s}' is not a date: write YYYY-MM-DD or YYYY-MM"),
        )
    })
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<(), Error> {
    let s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::bad_input(e.to_string(), e.to_string()))?;
    println!("{s}");
    Ok(())
}

fn emit<T: serde::Serialize>(
    g: &Global,
    value: &T,
    trace: &anxin_policy::Trace,
    human: impl FnOnce() -> String,
) -> Result<(), Error> {
    if g.json {
        return print_json(value);
    }
    print!("{}", g.lang.punctuate(human()));
    if g.explain {
        println!();
        print!("{}", trace.render(g.lang));
    } else {
        println!(
            "{}",
            g.lang.pick(
                "（加 --explain 查看每一步怎么算、依据哪个文件）",
                "(add --explain for every step and its source)"
            )
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let lang = cli.global.lang;
    let json = cli.global.json;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                eprintln!(
                    "{}",
                    serde_json::json!({"error": {"kind": e.kind, "zh": e.zh, "en": e.en}})
                );
            } else {
                match lang {
                    Lang::Zh => eprintln!("错误：{}\nError: {}", e.zh, e.en),
                    Lang::En => eprintln!("Error: {}\n错误：{}", e.en, e.zh),
                }
            }
            ExitCode::from(e.code)
        }
    }
}
