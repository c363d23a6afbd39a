//! C1 — what a flexible worker pays: base, rate, pooling/account split, subsidies and
//! vouchers, net cost, payment schedule and burden against the ILO 10 % line.

use anxin_domain::{Bps, Fen, Rounding, YearMonth};
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::error::{Error, ErrorKind, Result};
use crate::load::Policy;
use crate::scope::{ParamRef, Scope, band_rate};
use crate::trace::Trace;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Frequency {
    #[default]
    Monthly,
    Quarterly,
    Yearly,
    /// More in peak months, less (or nothing) in troughs; the same total for the year.
    PeakTrough,
}

impl Frequency {
    pub fn name(self) -> &'static str {
        match self {
            Frequency::Monthly => "monthly",
            Frequency::Quarterly => "quarterly",
            Frequency::Yearly => "yearly",
            Frequency::PeakTrough => "peak-trough",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Frequency::Monthly => "按月",
            Frequency::Quarterly => "按季",
            Frequency::Yearly => "按年",
            Frequency::PeakTrough => "旺季多缴、淡季少缴",
        }
    }
    pub fn parse(s: &str) -> Option<Frequency> {
        match s.trim() {
            "monthly" | "month" | "按月" => Some(Frequency::Monthly),
            "quarterly" | "quarter" | "按季" => Some(Frequency::Quarterly),
            "yearly" | "year" | "annual" | "按年" => Some(Frequency::Yearly),
            "peak-trough" | "flexible" => Some(Frequency::PeakTrough),
            _ => None,
        }
    }
}

/// What the worker asks. Amounts are fen; a tier is a percentage of the average wage.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuoteRequest {
    pub region: String,
    pub month: Option<YearMonth>,
    /// Base tier in percent of the average wage (60–300). Default: the lowest tier.
    pub tier_percent: Option<u32>,
    /// An explicit base in fen, instead of a tier.
    pub base_fen: Option<i64>,
    /// Base follows income (only where a reform allows it).
    pub income_based: bool,
    /// Monthly income in fen, for the burden, and for income-band reforms.
    pub income_fen: Option<i64>,
    pub frequency: Frequency,
    /// Twelve monthly incomes (fen) for a peak/trough plan.
    pub monthly_incomes_fen: Vec<i64>,
    pub reforms: Vec<String>,
    /// 就业困难人员: entitled to the flexible-employment social-insurance subsidy.
    pub employment_difficulty: bool,
    /// First enrolment in the employee pension because a child applies for school.
    pub school_first_enrollment: bool,
    /// Household hardship (low income, single parent, several children).
    pub household_hardship: bool,
    /// Occasional income of the year in fen (for the personal savings account reform).
    pub occasional_income_fen: Option<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SubsidyLine {
    pub id: &'static str,
    pub zh: String,
    pub en: String,
    pub monthly_fen: Fen,
    /// Paid only once a condition is met (e.g. a full school year of payments).
    pub conditional: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Payment {
    pub due: YearMonth,
    pub covers_months: u32,
    pub amount_fen: Fen,
}

#[derive(Clone, Debug, Serialize)]
pub struct QuoteResult {
    pub region_code: String,
    pub region_zh: String,
    pub region_en: String,
    pub month: YearMonth,
    pub base_fen: Fen,
    /// Base as a share of the average wage.
    pub tier_bps: Bps,
    pub base_floor_fen: Fen,
    pub base_ceiling_fen: Fen,
    pub rate_bps: Bps,
    pub monthly_fen: Fen,
    pub pooling_fen: Fen,
    pub account_fen: Fen,
    pub subsidies: Vec<SubsidyLine>,
    /// What the worker pays each month after the subsidies paid at once.
    pub net_monthly_fen: Fen,
    /// After conditional subsidies too, once their condition is met.
    pub net_after_conditions_fen: Fen,
    pub frequency: Frequency,
    pub payments: Vec<Payment>,
    pub annual_fen: Fen,
    pub income_fen: Option<Fen>,
    pub burden_bps: Option<Bps>,
    pub ilo_line_bps: Bps,
    pub over_ilo_line: Option<bool>,
    /// Personal savings account: how much occasional income may move in pre-tax.
    pub savings_pretax_fen: Option<Fen>,
    pub notes: Vec<Note>,
    pub trace: Trace,
}

/// The base the worker contributes on, with the floor and ceiling that bound it.
pub struct BaseChoice {
    pub base: Fen,
    pub floor: Fen,
    pub ceiling: Fen,
    pub avg: Fen,
}

/// Works out the contribution base from a tier, an amount or the income. Shared with the
/// pension, back-payment and platform calculators so every one bounds the base the same way.
pub fn choose_base(
    scope: &Scope,
    tier_percent: Option<u32>,
    base_fen: Option<i64>,
    income_based: bool,
    income: Option<Fen>,
    trace: &mut Trace,
) -> Result<BaseChoice> {
    let (floor, floor_r) = scope.money("flex.base.floor")?;
    let (ceiling, ceil_r) = scope.money("flex.base.ceiling")?;
    let (avg, avg_r) = scope.money("flex.base.avg_wage")?;
    let (tier_min, tmin_r) = scope.rate("flex.base.tier_min")?;
    let (tier_max, tmax_r) = scope.rate("flex.base.tier_max")?;
    let (round_base, rb_r) = scope.rounding("rounding.base")?;
    trace.term("base");
    let range_zh = format!("{floor}–{ceiling} 元");
    let range_en = format!("{floor}–{ceiling} yuan");
    let base = if income_based {
        let (allowed, ib_r) = scope.flag("flex.base.income_based")?;
        if !allowed {
            return Err(Error::new(
                ErrorKind::NotApplicable,
                format!(
                    "{} 现行规定不能按实际收入确定缴费基数；可以试试改革方案 income-band-rate",
                    scope.region.name_zh
                ),
                format!(
                    "{} does not let the base follow income under the law in force; try the reform income-band-rate",
                    scope.region.name_en
                ),
            ));
        }
        let income = income.ok_or_else(|| {
            Error::bad_input(
                "按收入定基数需要提供月收入（--income）",
                "an income-based base needs the monthly income (--income)",
            )
        })?;
        let b = income.max(floor).min(ceiling);
        trace.step(
            format!("按实际月收入 {income} 元定缴费基数，低于下限按下限、高于上限按上限：{b} 元"),
            format!("the base follows monthly income {income} yuan, kept between floor and ceiling: {b} yuan"),
            vec![ib_r, floor_r, ceil_r],
        );
        b
    } else if let Some(b) = base_fen {
        let b = Fen(b);
        if b < floor || b > ceiling {
            return Err(Error::bad_input(
                format!(
                    "缴费基数 {b} 元不在 {} 允许的范围内：{range_zh}（{} 自 {}）",
                    scope.region.name_zh, floor_r.source.doc, floor_r.from
                ),
                format!(
                    "base {b} yuan is outside the range allowed in {}: {range_en}",
                    scope.region.name_en
                ),
            ));
        }
        trace.step(
            format!("你选的缴费基数是 {b} 元，在允许的 {range_zh} 之内"),
            format!("your chosen base is {b} yuan, within the allowed {range_en}"),
            vec![floor_r, ceil_r],
        );
        b
    } else {
        let tier = Bps(tier_percent.unwrap_or(tier_min.0 / 100).saturating_mul(100));
        trace.term("tier");
        if tier < tier_min || tier > tier_max {
            return Err(Error::bad_input(
                format!("缴费档次 {tier} 不在允许的 {tier_min}–{tier_max} 之间（即 {range_zh}）"),
                format!(
                    "base tier {tier} is outside the allowed {tier_min}–{tier_max} (that is {range_en})"
                ),
            ));
        }
        // The lowest and highest tiers are the published floor and ceiling themselves; the
        // tiers between are the average wage times the tier, kept inside them.
        let b = if tier == tier_min {
            floor
        } else if tier == tier_max {
            ceiling
        } else {
            avg.times_rate(tier, round_base).max(floor).min(ceiling)
        };
        trace.step(
            format!("缴费档次 {tier}：最低档就是基数下限 {floor} 元，最高档就是上限 {ceiling} 元，中间各档 = 平均工资 {avg} 元 × {tier}；所以缴费基数是 {b} 元"),
            format!("tier {tier}: the lowest tier is the floor {floor} yuan, the highest the ceiling {ceiling} yuan, the others average wage {avg} × {tier}; so the base is {b} yuan"),
            vec![floor_r, ceil_r, avg_r, tmin_r, tmax_r, rb_r],
        );
        b
    };
    Ok(BaseChoice {
        base,
        floor,
        ceiling,
        avg,
    })
}

/// The pension rate and account share that apply, given the income (for band reforms).
pub fn pension_rate(
    scope: &Scope,
    income: Option<Fen>,
    trace: &mut Trace,
) -> Result<(Bps, Bps, Vec<ParamRef>)> {
    let (account, acc_r) = scope.rate("flex.pension.account_rate")?;
    if let Some((bands, bands_r)) = scope.bands_opt("flex.pension.rate_bands") {
        let income = income.ok_or_else(|| {
            Error::bad_input(
                "这个改革方案按月收入分档定费率，请提供月收入（--income）",
                "this reform sets the rate by monthly income band: give the monthly income (--income)",
            )
        })?;
        let rate = band_rate(&bands, income);
        trace.step(
            format!("按月收入 {income} 元所在的档次，缴费比例是 {rate}"),
            format!("monthly income {income} yuan falls in the band with rate {rate}"),
            vec![bands_r.clone()],
        );
        return Ok((rate, account.min(rate), vec![bands_r, acc_r]));
    }
    let (rate, rate_r) = scope.rate("flex.pension.rate")?;
    Ok((rate, account.min(rate), vec![rate_r, acc_r]))
}

pub fn quote(policy: &Policy, req: &QuoteRequest, today: YearMonth) -> Result<QuoteResult> {
    let month = req.month.unwrap_or(today);
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    let mut trace = Trace::default();
    let income = req.income_fen.map(Fen);
    if income.is_some_and(|i| i.0 < 0 || i.0 > 10_000_000_000) {
        return Err(Error::bad_input(
            "月收入必须在 0 到 1 亿元之间",
            "monthly income must be between 0 and 100 million yuan",
        ));
    }
    for r in &scope.reforms {
        trace.step(
            format!("采用改革方案“{}”：{}", r.title_zh, r.summary_zh),
            format!("reform '{}' applied: {}", r.title_en, r.summary_en),
            vec![],
        );
    }
    let bc = choose_base(
        &scope,
        req.tier_percent,
        req.base_fen,
        req.income_based,
        income,
        &mut trace,
    )?;
    let (rate, account_rate, rate_refs) = pension_rate(&scope, income, &mut trace)?;
    let (rounding, round_r) = scope.rounding("rounding.contribution")?;
    let monthly = bc.base.times_rate(rate, rounding);
    let account = bc.base.times_rate(account_rate, rounding);
    let pooling = monthly - account;
    trace.term("pooling");
    trace.term("account");
    let mut refs = rate_refs;
    refs.push(round_r);
    trace.step(
        format!("每月养老保险费 = 缴费基数 {} 元 × {rate} = {monthly} 元；其中 {account_rate}（{account} 元）记入你的个人账户，其余 {pooling} 元进统筹基金", bc.base),
        format!("monthly pension contribution = base {} yuan × {rate} = {monthly} yuan; {account_rate} ({account} yuan) goes to your personal account, the other {pooling} yuan to the pooling fund", bc.base),
        refs,
    );

    let mut subsidies = Vec::new();
    let mut notes = Vec::new();
    let (sub_rounding, _) = scope.rounding("rounding.subsidy")?;
    if req.employment_difficulty {
        let ((n, d), share_r) = scope.ratio("subsidy.difficulty.share")?;
        let (cap, cap_r) = scope.money("subsidy.difficulty.cap")?;
        let (max_months, mm_r) = scope.int("subsidy.difficulty.max_months")?;
        let mut amt = monthly.mul_ratio(n, d, sub_rounding);
        if cap > Fen::ZERO {
            amt = amt.min(cap);
        }
        trace.step(
            format!("你是就业困难人员，可以领社保补贴：实际缴费的 {n}/{d}{}，= {amt} 元/月，最长 {max_months} 个月", if cap > Fen::ZERO { format!("，每月最多 {cap} 元") } else { String::new() }),
            format!("as a person with employment difficulties you get a subsidy of {n}/{d} of what you pay{}: {amt} yuan a month, for at most {max_months} months", if cap > Fen::ZERO { format!(", at most {cap} yuan a month") } else { String::new() }),
            vec![share_r, cap_r, mm_r],
        );
        subsidies.push(SubsidyLine {
            id: "difficulty",
            zh: "就业困难人员社保补贴".into(),
            en: "subsidy for people with employment difficulties".into(),
            monthly_fen: amt,
            conditional: false,
        });
    }
    if let Some((bands, bands_r)) = scope.bands_opt("subsidy.provincial.bands") {
        match income {
            Some(inc) => {
                let share = band_rate(&bands, inc);
                let amt = monthly.times_rate(share, sub_rounding);
                trace.step(
                    format!("省级财政补贴：月收入 {inc} 元，补贴实际缴费的 {share}，= {amt} 元/月"),
                    format!("provincial subsidy: with a monthly income of {inc} yuan, {share} of the contribution = {amt} yuan a month"),
                    vec![bands_r],
                );
                if amt > Fen::ZERO {
                    subsidies.push(SubsidyLine { id: "provincial", zh: "省级灵活就业养老保险补贴".into(), en: "provincial flexible-worker pension subsidy".into(), monthly_fen: amt, conditional: false });
                }
            }
            None => notes.push(Note::new(
                "省级补贴按月收入定，没有提供月收入，所以没有算进去",
                "the provincial subsidy depends on monthly income, which was not given, so it is not counted",
            )),
        }
    }
    if let Some((bands, bands_r)) = scope.bands_opt("voucher.bands") {
        trace.term("voucher");
        if !req.school_first_enrollment {
            notes.push(Note::new(
                "入学社保券只发给因孩子入学而第一次参加职工养老保险的人",
                "the school-entry voucher is only for people enrolling for the first time because a child starts school",
            ));
        } else if let Some(inc) = income {
            let mut share = band_rate(&bands, inc);
            let mut refs = vec![bands_r];
            if share > Bps(0) && req.household_hardship {
                let (extra, extra_r) = scope.rate("voucher.hardship_extra")?;
                share = Bps(share.0 + extra.0);
                refs.push(extra_r);
            }
            let (cap, cap_r) = scope.money("voucher.cap")?;
            let (vest, vest_r) = scope.int("voucher.vesting_months")?;
            refs.push(cap_r);
            refs.push(vest_r);
            let amt = monthly.times_rate(share, sub_rounding).min(cap);
            trace.step(
                format!("入学社保券：月收入 {inc} 元{}，补贴缴费的 {share}，每月最多 {cap} 元，= {amt} 元/月；要连续缴满 {vest} 个月（一个完整学年）后才发，中途断缴不发", if req.household_hardship { "，家庭困难加一档" } else { "" }),
                format!("school-entry voucher: income {inc} yuan{}, {share} of the contribution, at most {cap} yuan a month = {amt} yuan a month; paid only after {vest} continuous months (a full school year)", if req.household_hardship { ", plus the hardship extra" } else { "" }),
                refs,
            );
            if amt > Fen::ZERO {
                subsidies.push(SubsidyLine {
                    id: "voucher",
                    zh: format!("入学社保券（连续缴满 {vest} 个月后发放）"),
                    en: format!("school-entry voucher (paid after {vest} continuous months)"),
                    monthly_fen: amt,
                    conditional: true,
                });
            }
        } else {
            notes.push(Note::new(
                "入学社保券按月收入定，请提供月收入",
                "the voucher depends on monthly income: give it",
            ));
        }
    }
    // Anti-arbitrage: the worker keeps paying a share of their own, whatever the subsidies.
    if let Some(r) = scope.find("voucher.min_own_share") {
        let min_own = match r.value {
            crate::value::Value::Rate(b) => *b,
            _ => Bps(0),
        };
        let most = monthly - monthly.times_rate(min_own, rounding);
        let total: Fen = subsidies.iter().map(|s| s.monthly_fen).sum();
        if total > most {
            let mut excess = total - most;
            for s in subsidies.iter_mut().rev() {
                let cut = excess.min(s.monthly_fen);
                s.monthly_fen = s.monthly_fen - cut;
                excess = excess - cut;
            }
            trace.step(
                format!("防止套利：各项补贴合计不能超过缴费的 {}，本人至少要自己交 {min_own}；补贴合计减为 {most} 元", Bps(10_000 - min_own.0), ),
                format!("anti-arbitrage: subsidies together may not exceed {} of the contribution; the worker pays at least {min_own} themself; subsidies cut to {most} yuan", Bps(10_000 - min_own.0)),
                vec![r.pref],
            );
        }
    }
    let paid_now: Fen = subsidies
        .iter()
        .filter(|s| !s.conditional)
        .map(|s| s.monthly_fen)
        .sum();
    let later: Fen = subsidies
        .iter()
        .filter(|s| s.conditional)
        .map(|s| s.monthly_fen)
        .sum();
    let net = monthly - paid_now;
    let net_after = net - later;

    let (allowed, freq_r) = scope.set("flex.frequencies")?;
    trace.term("frequency");
    if !allowed.iter().any(|f| f == req.frequency.name()) {
        let list_zh: Vec<&str> = allowed
            .iter()
            .filter_map(|f| Frequency::parse(f))
            .map(|f| f.zh())
            .collect();
        return Err(Error::new(
            ErrorKind::NotApplicable,
            format!(
                "{} 不允许{}缴费，只允许：{}（依据 {}）；可以试试改革方案 flexible-frequency",
                scope.region.name_zh,
                req.frequency.zh(),
                list_zh.join("、"),
                freq_r.source.doc
            ),
            format!(
                "{} does not allow {} payment, only: {} (source {}); try the reform flexible-frequency",
                scope.region.name_en,
                req.frequency.name(),
                allowed.join(", "),
                freq_r.source.doc
            ),
        ));
    }
    let annual = net * 12;
    let payments = schedule(&scope, req, month, net, &mut trace, freq_r)?;

    let (ilo, ilo_r) = scope.rate("burden.ilo_line")?;
    let burden = income.filter(|i| i.0 > 0).map(|i| net.share_of(i));
    if let Some(b) = burden {
        trace.term("burden");
        trace.step(
            format!("每月自己交 {net} 元，占月收入 {} 元的 {b}；国际劳工组织认为不宜超过 {ilo}", income.unwrap_or_default()),
            format!("you pay {net} yuan a month, {b} of your monthly income of {} yuan; the ILO suggests no more than {ilo}", income.unwrap_or_default()),
            vec![ilo_r],
        );
    }
    let savings = match (req.occasional_income_fen, scope.find("savings.max_share")) {
        (Some(occ), Some(_)) => {
            let (share, share_r) = scope.rate("savings.max_share")?;
            let amt = Fen(occ.max(0)).times_rate(share, sub_rounding);
            let months = if monthly.0 > 0 { amt.0 / monthly.0 } else { 0 };
            trace.step(
                format!("个人养老储蓄账户：今年的偶然收入 {} 元中，最多 {share}（{amt} 元）可以税前转入，用来补缴或提高档次，约等于 {months} 个月的缴费", Fen(occ)),
                format!("personal savings account: up to {share} of this year's occasional income of {} yuan ({amt} yuan) may move in before tax, for back-payment or a higher tier — about {months} months of contributions", Fen(occ)),
                vec![share_r],
            );
            Some(amt)
        }
        (Some(_), None) => {
            notes.push(Note::new("个人养老储蓄账户是改革方案 savings-account，现行规定没有", "the personal savings account is the reform savings-account; the law in force has none"));
            None
        }
        _ => None,
    };
    Ok(QuoteResult {
        region_code: scope.region.code.to_string(),
        region_zh: scope.region.name_zh.clone(),
        region_en: scope.region.name_en.clone(),
        month,
        base_fen: bc.base,
        tier_bps: bc.base.share_of(bc.avg),
        base_floor_fen: bc.floor,
        base_ceiling_fen: bc.ceiling,
        rate_bps: rate,
        monthly_fen: monthly,
        pooling_fen: pooling,
        account_fen: account,
        subsidies,
        net_monthly_fen: net,
        net_after_conditions_fen: net_after,
        frequency: req.frequency,
        payments,
        annual_fen: annual,
        income_fen: income,
        burden_bps: burden,
        ilo_line_bps: ilo,
        over_ilo_line: burden.map(|b| b > ilo),
        savings_pretax_fen: savings,
        notes,
        trace,
    })
}

/// The payments of the twelve months from `month`, by the chosen frequency.
fn schedule(
    scope: &Scope,
    req: &QuoteRequest,
    month: YearMonth,
    net: Fen,
    trace: &mut Trace,
    freq_r: ParamRef,
) -> Result<Vec<Payment>> {
    let mut out = Vec::new();
    match req.frequency {
        Frequency::Monthly => {
            for i in 0..12 {
                out.push(Payment {
                    due: month.plus(i),
                    covers_months: 1,
                    amount_fen: net,
                });
            }
        }
        Frequency::Quarterly => {
            for q in 0..4 {
                out.push(Payment {
                    due: month.plus(q * 3),
                    covers_months: 3,
                    amount_fen: net * 3,
                });
            }
            trace.step(
                format!("按季缴费：每 3 个月交一次 {} 元", net * 3),
                format!("quarterly: {} yuan every 3 months", net * 3),
                vec![freq_r],
            );
        }
        Frequency::Yearly => {
            out.push(Payment {
                due: month,
                covers_months: 12,
                amount_fen: net * 12,
            });
            trace.step(
                format!("按年缴费：一次交 {} 元", net * 12),
                format!("yearly: {} yuan at once", net * 12),
                vec![freq_r],
            );
        }
        Frequency::PeakTrough => {
            if req.monthly_incomes_fen.len() != 12 {
                return Err(Error::bad_input(
                    format!(
                        "旺季多缴、淡季少缴需要今后 12 个月每月的预计收入，现在给了 {} 个",
                        req.monthly_incomes_fen.len()
                    ),
                    format!(
                        "a peak/trough plan needs the expected income of each of the next 12 months; {} were given",
                        req.monthly_incomes_fen.len()
                    ),
                ));
            }
            if req
                .monthly_incomes_fen
                .iter()
                .any(|i| *i < 0 || *i > 10_000_000_000)
            {
                return Err(Error::bad_input(
                    "每月收入必须在 0 到 1 亿元之间",
                    "each monthly income must be between 0 and 100 million yuan",
                ));
            }
            let (min_share, ms_r) = scope.rate("flex.peak_trough.min_share")?;
            let amounts = peak_trough(net, &req.monthly_incomes_fen, min_share);
            for (i, a) in amounts.iter().enumerate() {
                out.push(Payment {
                    due: month.plus(i as i32),
                    covers_months: 1,
                    amount_fen: *a,
                });
            }
            trace.step(
                format!("旺季多缴、淡季少缴：一年共交 {} 元不变；每月至少交平均数的 {min_share}，其余按每月收入多少分摊", net * 12),
                format!("peak/trough: the year's total stays {} yuan; each month pays at least {min_share} of the average, the rest follows the month's income", net * 12),
                vec![freq_r, ms_r],
            );
        }
    }
    Ok(out)
}

/// Splits a year's contributions (12 × `net`) over months in proportion to income, each month
/// paying at least `min_share` of `net`. Exact to the fen: the amounts sum to 12 × `net`.
pub fn peak_trough(net: Fen, incomes: &[i64], min_share: Bps) -> Vec<Fen> {
    let n = incomes.len() as i64;
    let total = net.0 * n;
    let floor = net
        .times_rate(min_share, Rounding::TruncateFen)
        .0
        .min(net.0);
    let rest = total - floor * n;
    let sum_income: i128 = incomes.iter().map(|i| (*i).max(0) as i128).sum();
    let mut out: Vec<i64> = if sum_income == 0 {
        incomes.iter().map(|_| rest / n).collect()
    } else {
        incomes
            .iter()
            .map(|i| ((rest as i128 * (*i).max(0) as i128) / sum_income) as i64)
            .collect()
    };
    // Hand the fen lost to truncation to the months with the highest income.
    let mut left = rest - out.iter().sum::<i64>();
    // Months with no income get nothing extra: they are the ones being deferred.
    let mut order: Vec<usize> = (0..incomes.len())
        .filter(|i| incomes[*i] > 0 || sum_income == 0)
        .collect();
    order.sort_by_key(|i| std::cmp::Reverse(incomes[*i]));
    let mut k = 0;
    while left > 0 && !order.is_empty() {
        out[order[k % order.len()]] += 1;
        left -= 1;
        k += 1;
    }
    out.into_iter().map(|v| Fen(v + floor)).collect()
}
