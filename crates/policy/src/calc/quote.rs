//! C1 — what a flexible worker pays: base, rate, pooling/account split, subsidies and
//! vouchers, net cost, payment schedule and burden against the ILO 10 % line.

use anxin_domain::{Bps, Fen, Rounding, YearMonth};
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::error::{Error, ErrorKind, Result};
use crate::load::Policy;
use crate::schema::param;
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

/// How a request asks for its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseBasis {
    /// A tier of the average wage.
    Tier(Bps),
    /// An amount the worker chose.
    Amount(Fen),
    /// The monthly income (only where the parameters allow it).
    Income,
}

impl BaseBasis {
    /// Reads a request's fields as every calculator does: income first, then an amount, then
    /// a tier in percent (the lowest tier when none is given).
    pub fn of(
        tier_percent: Option<u32>,
        base_fen: Option<i64>,
        income_based: bool,
        tier_min: Bps,
    ) -> BaseBasis {
        if income_based {
            BaseBasis::Income
        } else if let Some(b) = base_fen {
            BaseBasis::Amount(Fen(b))
        } else {
            BaseBasis::Tier(Bps(tier_percent
                .unwrap_or(tier_min.0 / 100)
                .saturating_mul(100)))
        }
    }
}

/// The contribution-base rule of one region and date, resolved once from the scope.
#[derive(Clone, Debug)]
pub struct BaseRule {
    pub floor: Fen,
    pub ceiling: Fen,
    pub avg: Fen,
    pub tier_min: Bps,
    pub tier_max: Bps,
    pub rounding: Rounding,
    /// Whether the base may follow income; kept as the error to give if a request asks for
    /// it where no level says.
    pub income_based: std::result::Result<(bool, ParamRef), Error>,
    region_zh: String,
    region_en: String,
    /// floor, ceiling, average wage, lowest tier, highest tier, rounding.
    refs: [ParamRef; 6],
}

impl BaseRule {
    pub fn resolve(scope: &Scope) -> Result<BaseRule> {
        let (floor, floor_r) = scope.money(param::FLEX_BASE_FLOOR)?;
        let (ceiling, ceil_r) = scope.money(param::FLEX_BASE_CEILING)?;
        let (avg, avg_r) = scope.money(param::FLEX_BASE_AVG_WAGE)?;
        let (tier_min, tmin_r) = scope.rate(param::FLEX_BASE_TIER_MIN)?;
        let (tier_max, tmax_r) = scope.rate(param::FLEX_BASE_TIER_MAX)?;
        let (rounding, rb_r) = scope.rounding(param::ROUNDING_BASE)?;
        Ok(BaseRule {
            floor,
            ceiling,
            avg,
            tier_min,
            tier_max,
            rounding,
            income_based: scope.flag(param::FLEX_BASE_INCOME_BASED),
            region_zh: scope.region.name_zh.clone(),
            region_en: scope.region.name_en.clone(),
            refs: [floor_r, ceil_r, avg_r, tmin_r, tmax_r, rb_r],
        })
    }

    /// Whether the parameters let the base follow income.
    pub fn income_based_allowed(&self) -> bool {
        matches!(self.income_based, Ok((true, _)))
    }

    /// The base for a basis — the one rule every calculator and the batch kernel use.
    #[inline]
    pub fn base(&self, basis: BaseBasis, income: Option<Fen>) -> Result<Fen> {
        let (floor, ceiling) = (self.floor, self.ceiling);
        match basis {
            BaseBasis::Income => {
                let allowed = match &self.income_based {
                    Ok((a, _)) => *a,
                    Err(e) => return Err(e.clone()),
                };
                if !allowed {
                    return Err(Error::new(
                        ErrorKind::NotApplicable,
                        format!(
                            "{} 现行规定不能按实际收入确定缴费基数；可以试试改革方案 income-band-rate",
                            self.region_zh
                        ),
                        format!(
                            "{} does not let the base follow income under the law in force; try the reform income-band-rate",
                            self.region_en
                        ),
                    ));
                }
                let income = income.ok_or_else(|| {
                    Error::bad_input(
                        "按收入定基数需要提供月收入（--income）",
                        "an income-based base needs the monthly income (--income)",
                    )
                })?;
                Ok(income.max(floor).min(ceiling))
            }
            BaseBasis::Amount(b) => {
                if b < floor || b > ceiling {
                    let floor_r = &self.refs[0];
                    return Err(Error::bad_input(
                        format!(
                            "缴费基数 {b} 元不在 {} 允许的范围内：{floor}–{ceiling} 元（{} 自 {}）",
                            self.region_zh, floor_r.source.doc, floor_r.from
                        ),
                        format!(
                            "base {b} yuan is outside the range allowed in {}: {floor}–{ceiling} yuan",
                            self.region_en
                        ),
                    ));
                }
                Ok(b)
            }
            BaseBasis::Tier(tier) => {
                let (tier_min, tier_max) = (self.tier_min, self.tier_max);
                if tier < tier_min || tier > tier_max {
                    return Err(Error::bad_input(
                        format!(
                            "缴费档次 {tier} 不在允许的 {tier_min}–{tier_max} 之间（即 {floor}–{ceiling} 元）"
                        ),
                        format!(
                            "base tier {tier} is outside the allowed {tier_min}–{tier_max} (that is {floor}–{ceiling} yuan)"
                        ),
                    ));
                }
                // The lowest and highest tiers are the published floor and ceiling themselves;
                // the tiers between are the average wage times the tier, kept inside them.
                Ok(if tier == tier_min {
                    floor
                } else if tier == tier_max {
                    ceiling
                } else {
                    self.avg
                        .times_rate(tier, self.rounding)
                        .max(floor)
                        .min(ceiling)
                })
            }
        }
    }

    /// The explanation of a base found by [`BaseRule::base`].
    pub fn explain(&self, basis: BaseBasis, base: Fen, income: Option<Fen>, trace: &mut Trace) {
        let (floor, ceiling, avg) = (self.floor, self.ceiling, self.avg);
        let [floor_r, ceil_r, avg_r, tmin_r, tmax_r, rb_r] = &self.refs;
        trace.term("base");
        let range_zh = format!("{floor}–{ceiling} 元");
        let range_en = format!("{floor}–{ceiling} yuan");
        match basis {
            BaseBasis::Income => {
                let income = income.unwrap_or_default();
                let mut refs = Vec::new();
                if let Ok((_, ib_r)) = &self.income_based {
                    refs.push(ib_r.clone());
                }
                refs.extend([floor_r.clone(), ceil_r.clone()]);
                trace.step(
                    format!("按实际月收入 {income} 元定缴费基数，低于下限按下限、高于上限按上限：{base} 元"),
                    format!("the base follows monthly income {income} yuan, kept between floor and ceiling: {base} yuan"),
                    refs,
                );
            }
            BaseBasis::Amount(_) => trace.step(
                format!("你选的缴费基数是 {base} 元，在允许的 {range_zh} 之内"),
                format!("your chosen base is {base} yuan, within the allowed {range_en}"),
                vec![floor_r.clone(), ceil_r.clone()],
            ),
            BaseBasis::Tier(tier) => {
                trace.term("tier");
                trace.step(
                    format!("缴费档次 {tier}：最低档就是基数下限 {floor} 元，最高档就是上限 {ceiling} 元，中间各档 = 平均工资 {avg} 元 × {tier}；所以缴费基数是 {base} 元"),
                    format!("tier {tier}: the lowest tier is the floor {floor} yuan, the highest the ceiling {ceiling} yuan, the others average wage {avg} × {tier}; so the base is {base} yuan"),
                    vec![floor_r.clone(), ceil_r.clone(), avg_r.clone(), tmin_r.clone(), tmax_r.clone(), rb_r.clone()],
                );
            }
        }
    }

    /// The base for a request's fields, explained.
    pub fn choose(
        &self,
        tier_percent: Option<u32>,
        base_fen: Option<i64>,
        income_based: bool,
        income: Option<Fen>,
        trace: &mut Trace,
    ) -> Result<BaseChoice> {
        let basis = BaseBasis::of(tier_percent, base_fen, income_based, self.tier_min);
        let base = self.base(basis, income)?;
        self.explain(basis, base, income, trace);
        Ok(BaseChoice {
            base,
            floor: self.floor,
            ceiling: self.ceiling,
            avg: self.avg,
        })
    }
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
    BaseRule::resolve(scope)?.choose(tier_percent, base_fen, income_based, income, trace)
}

/// The pension contribution rate of one region and date, resolved once: one rate, or rates
/// by income band where a reform sets them, and the share credited to the account.
#[derive(Clone, Debug)]
pub struct RateRule {
    pub rate: Bps,
    pub bands: Option<Vec<(Fen, Bps)>>,
    pub account: Bps,
    /// The rate (or bands) and the account share.
    refs: [ParamRef; 2],
}

impl RateRule {
    pub fn resolve(scope: &Scope) -> Result<RateRule> {
        let (account, acc_r) = scope.rate(param::FLEX_PENSION_ACCOUNT_RATE)?;
        if let Some((bands, bands_r)) = scope.bands_opt(param::FLEX_PENSION_RATE_BANDS) {
            return Ok(RateRule {
                rate: Bps(0),
                bands: Some(bands),
                account,
                refs: [bands_r, acc_r],
            });
        }
        let (rate, rate_r) = scope.rate(param::FLEX_PENSION_RATE)?;
        Ok(RateRule {
            rate,
            bands: None,
            account,
            refs: [rate_r, acc_r],
        })
    }

    /// The rate and the account share for an income (needed only where bands apply).
    #[inline]
    pub fn rates(&self, income: Option<Fen>) -> Result<(Bps, Bps)> {
        let rate = match &self.bands {
            Some(bands) => {
                let income = income.ok_or_else(|| {
                    Error::bad_input(
                        "这个改革方案按月收入分档定费率，请提供月收入（--income）",
                        "this reform sets the rate by monthly income band: give the monthly income (--income)",
                    )
                })?;
                band_rate(bands, income)
            }
            None => self.rate,
        };
        Ok((rate, self.account.min(rate)))
    }

    /// Explains the rate found for an income; returns the parameters it rests on.
    pub fn explain(&self, income: Option<Fen>, rate: Bps, trace: &mut Trace) -> Vec<ParamRef> {
        if self.bands.is_some() {
            let income = income.unwrap_or_default();
            trace.step(
                format!("按月收入 {income} 元所在的档次，缴费比例是 {rate}"),
                format!("monthly income {income} yuan falls in the band with rate {rate}"),
                vec![self.refs[0].clone()],
            );
        }
        self.refs.to_vec()
    }
}

/// The pension rate and account share that apply, given the income (for band reforms).
pub fn pension_rate(
    scope: &Scope,
    income: Option<Fen>,
    trace: &mut Trace,
) -> Result<(Bps, Bps, Vec<ParamRef>)> {
    let rule = RateRule::resolve(scope)?;
    let (rate, account) = rule.rates(income)?;
    let refs = rule.explain(income, rate, trace);
    Ok((rate, account, refs))
}

/// The subsidy for people with employment difficulties.
#[derive(Clone, Debug)]
pub struct DifficultyRule {
    pub share: (i64, i64),
    pub cap: Fen,
    pub max_months: i64,
    refs: [ParamRef; 3],
}

/// The school-entry voucher (a reform).
#[derive(Clone, Debug)]
pub struct VoucherRule {
    pub bands: Vec<(Fen, Bps)>,
    bands_r: ParamRef,
    pub hardship_extra: std::result::Result<(Bps, ParamRef), Error>,
    pub cap: std::result::Result<(Fen, ParamRef), Error>,
    pub vesting_months: std::result::Result<(i64, ParamRef), Error>,
}

/// Everything a quote needs, resolved once from the scope (region, month, reforms). A
/// parameter that only some requests need is kept as the error to give if one does.
#[derive(Clone, Debug)]
pub struct QuoteParams {
    pub region_code: String,
    pub region_zh: String,
    pub region_en: String,
    /// The reforms applied: (title, summary) in Chinese and English.
    pub reforms: Vec<(String, String, String, String)>,
    pub base: BaseRule,
    pub rates: RateRule,
    pub rounding: Rounding,
    rounding_r: ParamRef,
    pub subsidy_rounding: Rounding,
    subsidy_rounding_r: ParamRef,
    pub difficulty: std::result::Result<DifficultyRule, Error>,
    pub provincial: Option<(Vec<(Fen, Bps)>, ParamRef)>,
    pub voucher: Option<VoucherRule>,
    pub min_own_share: Option<(Bps, ParamRef)>,
    pub frequencies: std::result::Result<(Vec<String>, ParamRef), Error>,
    pub peak_min_share: std::result::Result<(Bps, ParamRef), Error>,
    pub ilo_line: std::result::Result<(Bps, ParamRef), Error>,
    pub savings_max_share: Option<std::result::Result<(Bps, ParamRef), Error>>,
}

impl QuoteParams {
    pub fn resolve(scope: &Scope) -> Result<QuoteParams> {
        let base = BaseRule::resolve(scope)?;
        let rates = RateRule::resolve(scope)?;
        let (rounding, rounding_r) = scope.rounding(param::ROUNDING_CONTRIBUTION)?;
        let (subsidy_rounding, subsidy_rounding_r) = scope.rounding(param::ROUNDING_SUBSIDY)?;
        let difficulty = (|| {
            let (share, share_r) = scope.ratio(param::SUBSIDY_DIFFICULTY_SHARE)?;
            let (cap, cap_r) = scope.money(param::SUBSIDY_DIFFICULTY_CAP)?;
            let (max_months, mm_r) = scope.int(param::SUBSIDY_DIFFICULTY_MAX_MONTHS)?;
            Ok(DifficultyRule {
                share,
                cap,
                max_months,
                refs: [share_r, cap_r, mm_r],
            })
        })();
        let voucher = scope
            .bands_opt(param::VOUCHER_BANDS)
            .map(|(bands, bands_r)| VoucherRule {
                bands,
                bands_r,
                hardship_extra: scope.rate(param::VOUCHER_HARDSHIP_EXTRA),
                cap: scope.money(param::VOUCHER_CAP),
                vesting_months: scope.int(param::VOUCHER_VESTING_MONTHS),
            });
        let min_own_share = scope.find(param::VOUCHER_MIN_OWN_SHARE).map(|r| {
            let share = match r.value {
                crate::value::Value::Rate(b) => *b,
                _ => Bps(0),
            };
            (share, r.pref)
        });
        Ok(QuoteParams {
            region_code: scope.region.code.to_string(),
            region_zh: scope.region.name_zh.clone(),
            region_en: scope.region.name_en.clone(),
            reforms: scope
                .reforms
                .iter()
                .map(|r| {
                    (
                        r.title_zh.clone(),
                        r.summary_zh.clone(),
                        r.title_en.clone(),
                        r.summary_en.clone(),
                    )
                })
                .collect(),
            base,
            rates,
            rounding,
            rounding_r,
            subsidy_rounding,
            subsidy_rounding_r,
            difficulty,
            provincial: scope.bands_opt(param::SUBSIDY_PROVINCIAL_BANDS),
            voucher,
            min_own_share,
            frequencies: scope.set(param::FLEX_FREQUENCIES),
            peak_min_share: scope.rate(param::FLEX_PEAK_TROUGH_MIN_SHARE),
            ilo_line: scope.rate(param::BURDEN_ILO_LINE),
            savings_max_share: scope
                .find(param::SAVINGS_MAX_SHARE)
                .map(|_| scope.rate(param::SAVINGS_MAX_SHARE)),
        })
    }
}

/// What one month's contribution is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthAsk {
    pub basis: BaseBasis,
    pub income: Option<Fen>,
    pub employment_difficulty: bool,
    pub school_first_enrollment: bool,
    pub household_hardship: bool,
}

/// Every figure of one month's contribution. Subsidies are in a fixed order — difficulty,
/// provincial, voucher — `None` where the line does not apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MonthFigures {
    pub base: Fen,
    pub rate: Bps,
    pub account_rate: Bps,
    pub monthly: Fen,
    pub account: Fen,
    pub pooling: Fen,
    /// The share that applies to each subsidy line (the difficulty share is a ratio: 0 here).
    pub shares: [Bps; 3],
    /// Each line as the rule gives it, before the anti-arbitrage cut.
    pub subsidies: [Option<Fen>; 3],
    /// Each line after the cut.
    pub subsidies_paid: [Option<Fen>; 3],
    /// Most the subsidies may add up to, when the anti-arbitrage cut applied.
    pub cut_to: Option<Fen>,
    /// Subsidies paid at once (difficulty, provincial).
    pub paid_now: Fen,
    /// Subsidies paid once their condition is met (the voucher).
    pub later: Fen,
    pub net: Fen,
    pub net_after: Fen,
}

fn need<T: Clone>(r: &std::result::Result<T, Error>) -> Result<T> {
    r.clone()
}

/// One month's contribution: the rule, with no explanation. The calculator explains what
/// this returns; the batch kernel calls it for every worker-month.
#[inline]
pub fn compute_month(p: &QuoteParams, ask: &MonthAsk) -> Result<MonthFigures> {
    let base = p.base.base(ask.basis, ask.income)?;
    let (rate, account_rate) = p.rates.rates(ask.income)?;
    let monthly = base.times_rate(rate, p.rounding);
    let account = base.times_rate(account_rate, p.rounding);
    let mut lines: [Option<Fen>; 3] = [None; 3];
    let mut shares = [Bps(0); 3];
    if ask.employment_difficulty {
        let d = p.difficulty.as_ref().map_err(Clone::clone)?;
        let mut amt = monthly.mul_ratio(d.share.0, d.share.1, p.subsidy_rounding);
        if d.cap > Fen::ZERO {
            amt = amt.min(d.cap);
        }
        lines[0] = Some(amt);
    }
    if let (Some((bands, _)), Some(inc)) = (&p.provincial, ask.income) {
        let share = band_rate(bands, inc);
        shares[1] = share;
        let amt = monthly.times_rate(share, p.subsidy_rounding);
        if amt > Fen::ZERO {
            lines[1] = Some(amt);
        }
    }
    if let Some(v) = &p.voucher
        && ask.school_first_enrollment
        && let Some(inc) = ask.income
    {
        let mut share = band_rate(&v.bands, inc);
        if share > Bps(0) && ask.household_hardship {
            let (extra, _) = need(&v.hardship_extra)?;
            share = Bps(share.0 + extra.0);
        }
        shares[2] = share;
        let (cap, _) = need(&v.cap)?;
        need(&v.vesting_months)?;
        let amt = monthly.times_rate(share, p.subsidy_rounding).min(cap);
        if amt > Fen::ZERO {
            lines[2] = Some(amt);
        }
    }
    // Anti-arbitrage: the worker keeps paying a share of their own, whatever the subsidies.
    let mut paid = lines;
    let mut cut_to = None;
    if let Some((min_own, _)) = p.min_own_share {
        let most = monthly - monthly.times_rate(min_own, p.rounding);
        let total: Fen = lines.iter().flatten().copied().sum();
        if total > most {
            let mut excess = total - most;
            for s in paid.iter_mut().rev().flatten() {
                let cut = excess.min(*s);
                *s = *s - cut;
                excess = excess - cut;
            }
            cut_to = Some(most);
        }
    }
    let paid_now = paid[0].unwrap_or_default() + paid[1].unwrap_or_default();
    let later = paid[2].unwrap_or_default();
    let net = monthly - paid_now;
    Ok(MonthFigures {
        base,
        rate,
        account_rate,
        monthly,
        account,
        pooling: monthly - account,
        shares,
        subsidies: lines,
        subsidies_paid: paid,
        cut_to,
        paid_now,
        later,
        net,
        net_after: net - later,
    })
}

pub fn quote(policy: &Policy, req: &QuoteRequest, today: YearMonth) -> Result<QuoteResult> {
    let month = req.month.unwrap_or(today);
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    let income = req.income_fen.map(Fen);
    if income.is_some_and(|i| i.0 < 0 || i.0 > 10_000_000_000) {
        return Err(Error::bad_input(
            "月收入必须在 0 到 1 亿元之间",
            "monthly income must be between 0 and 100 million yuan",
        ));
    }
    // Resolve.
    let p = QuoteParams::resolve(&scope)?;
    // Compute.
    let ask = MonthAsk {
        basis: BaseBasis::of(
            req.tier_percent,
            req.base_fen,
            req.income_based,
            p.base.tier_min,
        ),
        income,
        employment_difficulty: req.employment_difficulty,
        school_first_enrollment: req.school_first_enrollment,
        household_hardship: req.household_hardship,
    };
    let f = compute_month(&p, &ask)?;
    let net = f.net;
    check_frequency(&p, req.frequency)?;
    let payments = schedule(&p, req, month, net)?;
    let burden = income.filter(|i| i.0 > 0).map(|i| net.share_of(i));
    let (ilo, _) = need(&p.ilo_line)?;
    let savings = match (req.occasional_income_fen, &p.savings_max_share) {
        (Some(occ), Some(share)) => {
            let (share, _) = need(share)?;
            Some(Fen(occ.max(0)).times_rate(share, p.subsidy_rounding))
        }
        _ => None,
    };
    // Explain.
    let mut trace = Trace::default();
    let mut notes = Vec::new();
    let subsidies = explain_month(&p, &ask, &f, &mut trace, &mut notes);
    explain_schedule(&p, req, net, &mut trace);
    if let Some(b) = burden {
        let ilo_r = need(&p.ilo_line)?.1;
        trace.term("burden");
        trace.step(
            format!("每月自己交 {net} 元，占月收入 {} 元的 {b}；国际劳工组织认为不宜超过 {ilo}", income.unwrap_or_default()),
            format!("you pay {net} yuan a month, {b} of your monthly income of {} yuan; the ILO suggests no more than {ilo}", income.unwrap_or_default()),
            vec![ilo_r],
        );
    }
    match (req.occasional_income_fen, &p.savings_max_share, savings) {
        (Some(occ), Some(share), Some(amt)) => {
            let (share, share_r) = need(share)?;
            let monthly = f.monthly;
            let months = if monthly.0 > 0 { amt.0 / monthly.0 } else { 0 };
            trace.step(
                format!("个人养老储蓄账户：今年的偶然收入 {} 元中，最多 {share}（{amt} 元）可以税前转入，用来补缴或提高档次，约等于 {months} 个月的缴费", Fen(occ)),
                format!("personal savings account: up to {share} of this year's occasional income of {} yuan ({amt} yuan) may move in before tax, for back-payment or a higher tier — about {months} months of contributions", Fen(occ)),
                vec![share_r],
            );
        }
        (Some(_), None, _) => {
            notes.push(Note::new("个人养老储蓄账户是改革方案 savings-account，现行规定没有", "the personal savings account is the reform savings-account; the law in force has none"));
        }
        _ => {}
    }
    Ok(QuoteResult {
        region_code: p.region_code.clone(),
        region_zh: p.region_zh.clone(),
        region_en: p.region_en.clone(),
        month,
        base_fen: f.base,
        tier_bps: f.base.share_of(p.base.avg),
        base_floor_fen: p.base.floor,
        base_ceiling_fen: p.base.ceiling,
        rate_bps: f.rate,
        monthly_fen: f.monthly,
        pooling_fen: f.pooling,
        account_fen: f.account,
        subsidies,
        net_monthly_fen: net,
        net_after_conditions_fen: f.net_after,
        frequency: req.frequency,
        payments,
        annual_fen: net * 12,
        income_fen: income,
        burden_bps: burden,
        ilo_line_bps: ilo,
        over_ilo_line: burden.map(|b| b > ilo),
        savings_pretax_fen: savings,
        notes,
        trace,
    })
}

/// The explanation of one month's figures, step by step, and the subsidy lines to show.
fn explain_month(
    p: &QuoteParams,
    ask: &MonthAsk,
    f: &MonthFigures,
    trace: &mut Trace,
    notes: &mut Vec<Note>,
) -> Vec<SubsidyLine> {
    for (title_zh, summary_zh, title_en, summary_en) in &p.reforms {
        trace.step(
            format!("采用改革方案“{title_zh}”：{summary_zh}"),
            format!("reform '{title_en}' applied: {summary_en}"),
            vec![],
        );
    }
    p.base.explain(ask.basis, f.base, ask.income, trace);
    let mut refs = p.rates.explain(ask.income, f.rate, trace);
    let (rate, account_rate, monthly, account, pooling) =
        (f.rate, f.account_rate, f.monthly, f.account, f.pooling);
    trace.term("pooling");
    trace.term("account");
    refs.push(p.rounding_r.clone());
    trace.step(
        format!("每月养老保险费 = 缴费基数 {} 元 × {rate} = {monthly} 元；其中 {account_rate}（{account} 元）记入你的个人账户，其余 {pooling} 元进统筹基金", f.base),
        format!("monthly pension contribution = base {} yuan × {rate} = {monthly} yuan; {account_rate} ({account} yuan) goes to your personal account, the other {pooling} yuan to the pooling fund", f.base),
        refs,
    );
    let mut lines = Vec::new();
    if let (Some(amt), Ok(d)) = (f.subsidies[0], &p.difficulty) {
        let ((n, dd), cap, max_months) = (d.share, d.cap, d.max_months);
        let mut refs = d.refs.to_vec();
        refs.push(p.subsidy_rounding_r.clone());
        trace.step(
            format!("你是就业困难人员，可以领社保补贴：实际缴费的 {n}/{dd}{}，= {amt} 元/月，最长 {max_months} 个月", if cap > Fen::ZERO { format!("，每月最多 {cap} 元") } else { String::new() }),
            format!("as a person with employment difficulties you get a subsidy of {n}/{dd} of what you pay{}: {amt} yuan a month, for at most {max_months} months", if cap > Fen::ZERO { format!(", at most {cap} yuan a month") } else { String::new() }),
            refs,
        );
        lines.push(SubsidyLine {
            id: "difficulty",
            zh: "就业困难人员社保补贴".into(),
            en: "subsidy for people with employment difficulties".into(),
            monthly_fen: f.subsidies_paid[0].unwrap_or_default(),
            conditional: false,
        });
    }
    if let Some((_, bands_r)) = &p.provincial {
        match ask.income {
            Some(inc) => {
                let share = f.shares[1];
                let amt = f.subsidies[1].unwrap_or_default();
                trace.step(
                    format!("省级财政补贴：月收入 {inc} 元，补贴实际缴费的 {share}，= {amt} 元/月"),
                    format!("provincial subsidy: with a monthly income of {inc} yuan, {share} of the contribution = {amt} yuan a month"),
                    vec![bands_r.clone(), p.subsidy_rounding_r.clone()],
                );
                if let Some(paid) = f.subsidies_paid[1] {
                    lines.push(SubsidyLine { id: "provincial", zh: "省级灵活就业养老保险补贴".into(), en: "provincial flexible-worker pension subsidy".into(), monthly_fen: paid, conditional: false });
                }
            }
            None => notes.push(Note::new(
                "省级补贴按月收入定，没有提供月收入，所以没有算进去",
                "the provincial subsidy depends on monthly income, which was not given, so it is not counted",
            )),
        }
    }
    if let Some(v) = &p.voucher {
        trace.term("voucher");
        if !ask.school_first_enrollment {
            notes.push(Note::new(
                "入学社保券只发给因孩子入学而第一次参加职工养老保险的人",
                "the school-entry voucher is only for people enrolling for the first time because a child starts school",
            ));
        } else if let Some(inc) = ask.income {
            let share = f.shares[2];
            let mut refs = vec![v.bands_r.clone()];
            if band_rate(&v.bands, inc) > Bps(0)
                && ask.household_hardship
                && let Ok((_, r)) = &v.hardship_extra
            {
                refs.push(r.clone());
            }
            let (cap, vest) = match (&v.cap, &v.vesting_months) {
                (Ok((cap, cap_r)), Ok((vest, vest_r))) => {
                    refs.push(cap_r.clone());
                    refs.push(vest_r.clone());
                    (*cap, *vest)
                }
                _ => (Fen::ZERO, 0),
            };
            refs.push(p.subsidy_rounding_r.clone());
            let amt = f.subsidies[2].unwrap_or_default();
            trace.step(
                format!("入学社保券：月收入 {inc} 元{}，补贴缴费的 {share}，每月最多 {cap} 元，= {amt} 元/月；要连续缴满 {vest} 个月（一个完整学年）后才发，中途断缴不发", if ask.household_hardship { "，家庭困难加一档" } else { "" }),
                format!("school-entry voucher: income {inc} yuan{}, {share} of the contribution, at most {cap} yuan a month = {amt} yuan a month; paid only after {vest} continuous months (a full school year)", if ask.household_hardship { ", plus the hardship extra" } else { "" }),
                refs,
            );
            if let Some(paid) = f.subsidies_paid[2] {
                lines.push(SubsidyLine {
                    id: "voucher",
                    zh: format!("入学社保券（连续缴满 {vest} 个月后发放）"),
                    en: format!("school-entry voucher (paid after {vest} continuous months)"),
                    monthly_fen: paid,
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
    if let (Some(most), Some((min_own, r))) = (f.cut_to, &p.min_own_share) {
        let min_own = *min_own;
        trace.step(
            format!("防止套利：各项补贴合计不能超过缴费的 {}，本人至少要自己交 {min_own}；补贴合计减为 {most} 元", Bps(10_000 - min_own.0)),
            format!("anti-arbitrage: subsidies together may not exceed {} of the contribution; the worker pays at least {min_own} themself; subsidies cut to {most} yuan", Bps(10_000 - min_own.0)),
            vec![r.clone()],
        );
    }
    lines
}

/// Refuses a payment frequency the region does not allow.
fn check_frequency(p: &QuoteParams, frequency: Frequency) -> Result<()> {
    let (allowed, freq_r) = need(&p.frequencies)?;
    if !allowed.iter().any(|f| f == frequency.name()) {
        let list_zh: Vec<&str> = allowed
            .iter()
            .filter_map(|f| Frequency::parse(f))
            .map(|f| f.zh())
            .collect();
        return Err(Error::new(
            ErrorKind::NotApplicable,
            format!(
                "{} 不允许{}缴费，只允许：{}（依据 {}）；可以试试改革方案 flexible-frequency",
                p.region_zh,
                frequency.zh(),
                list_zh.join("、"),
                freq_r.source.doc
            ),
            format!(
                "{} does not allow {} payment, only: {} (source {}); try the reform flexible-frequency",
                p.region_en,
                frequency.name(),
                allowed.join(", "),
                freq_r.source.doc
            ),
        ));
    }
    Ok(())
}

/// The payments of the twelve months from `month`, by the chosen frequency.
fn schedule(
    p: &QuoteParams,
    req: &QuoteRequest,
    month: YearMonth,
    net: Fen,
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
        }
        Frequency::Yearly => {
            out.push(Payment {
                due: month,
                covers_months: 12,
                amount_fen: net * 12,
            });
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
            let (min_share, _) = need(&p.peak_min_share)?;
            let amounts = peak_trough(net, &req.monthly_incomes_fen, min_share, p.rounding);
            for (i, a) in amounts.iter().enumerate() {
                out.push(Payment {
                    due: month.plus(i as i32),
                    covers_months: 1,
                    amount_fen: *a,
                });
            }
        }
    }
    Ok(out)
}

/// The explanation of the payment schedule.
fn explain_schedule(p: &QuoteParams, req: &QuoteRequest, net: Fen, trace: &mut Trace) {
    trace.term("frequency");
    let Ok((_, freq_r)) = &p.frequencies else {
        return;
    };
    match req.frequency {
        Frequency::Monthly => {}
        Frequency::Quarterly => trace.step(
            format!("按季缴费：每 3 个月交一次 {} 元", net * 3),
            format!("quarterly: {} yuan every 3 months", net * 3),
            vec![freq_r.clone()],
        ),
        Frequency::Yearly => trace.step(
            format!("按年缴费：一次交 {} 元", net * 12),
            format!("yearly: {} yuan at once", net * 12),
            vec![freq_r.clone()],
        ),
        Frequency::PeakTrough => {
            if let Ok((min_share, ms_r)) = &p.peak_min_share {
                trace.step(
                    format!("旺季多缴、淡季少缴：一年共交 {} 元不变；每月至少交平均数的 {min_share}，其余按每月收入多少分摊", net * 12),
                    format!("peak/trough: the year's total stays {} yuan; each month pays at least {min_share} of the average, the rest follows the month's income", net * 12),
                    vec![freq_r.clone(), ms_r.clone(), p.rounding_r.clone()],
                );
            }
        }
    }
}

/// Splits a year's contributions (12 × `net`) over months in proportion to income, each month
/// paying at least `min_share` of `net` (rounded by `rounding`, the contribution rounding).
/// Exact to the fen: the amounts sum to 12 × `net`, the fen the proportional split leaves
/// over going to the months with the highest income.
pub fn peak_trough(net: Fen, incomes: &[i64], min_share: Bps, rounding: Rounding) -> Vec<Fen> {
    let n = incomes.len() as i64;
    let total = net.0 * n;
    let floor = net.times_rate(min_share, rounding).0.min(net.0);
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
