//! C6 — occupational-injury cover of platform workers (新就业形态人员职业伤害保障): where and
//! when the pilot runs, which sectors it covers, and what a platform pays per order. Two views
//! of one request: a platform's monthly bill (`orders` given) and a worker's question "is my
//! order covered?" (no `orders`). The platform pays all of it, per order; the worker pays
//! nothing (人社部发〔2021〕110号: "平台全额缴费、按单缴费、每单必保").

use anxin_domain::{ErrorKind, Fen, YearMonth};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::{Key, param};
use crate::scope::{ParamRef, Scope};
use crate::trace::Trace;
use crate::value::Value;

/// A sector of the pilot. Food delivery (外卖) is its own sector until 2025-06 and part of
/// instant delivery from 2025-07-01 (人社部发〔2025〕24号).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sector {
    RideHailing,
    FoodDelivery,
    InstantDelivery,
    SameCityFreight,
}

impl Sector {
    pub const ALL: [Sector; 4] = [
        Sector::RideHailing,
        Sector::FoodDelivery,
        Sector::InstantDelivery,
        Sector::SameCityFreight,
    ];

    /// The name used in the parameter files and the API.
    pub fn name(self) -> &'static str {
        match self {
            Sector::RideHailing => "ride-hailing",
            Sector::FoodDelivery => "food-delivery",
            Sector::InstantDelivery => "instant-delivery",
            Sector::SameCityFreight => "same-city-freight",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Sector::RideHailing => "出行",
            Sector::FoodDelivery => "外卖",
            Sector::InstantDelivery => "即时配送",
            Sector::SameCityFreight => "同城货运",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Sector::RideHailing => "ride-hailing",
            Sector::FoodDelivery => "food delivery",
            Sector::InstantDelivery => "instant delivery",
            Sector::SameCityFreight => "same-city freight",
        }
    }
    /// Reads a sector by its name, a short name or its Chinese name.
    pub fn parse(s: &str) -> Option<Sector> {
        match s.trim().to_lowercase().as_str() {
            "ride-hailing" | "ride_hailing" | "ride" | "出行" | "网约车" => {
                Some(Sector::RideHailing)
            }
            "food-delivery" | "food_delivery" | "food" | "takeout" | "外卖" => {
                Some(Sector::FoodDelivery)
            }
            "instant-delivery" | "instant_delivery" | "delivery" | "即时配送" | "配送" => {
                Some(Sector::InstantDelivery)
            }
            "same-city-freight" | "same_city_freight" | "freight" | "同城货运" | "货运" => {
                Some(Sector::SameCityFreight)
            }
            _ => None,
        }
    }
    /// The list of sectors a request may name, in both languages.
    pub fn allowed() -> (String, String) {
        let zh: Vec<String> = Sector::ALL
            .iter()
            .map(|s| format!("{}（{}）", s.zh(), s.name()))
            .collect();
        let en: Vec<String> = Sector::ALL
            .iter()
            .map(|s| format!("{} ({})", s.name(), s.zh()))
            .collect();
        (zh.join("、"), en.join(", "))
    }
}

/// Which per-order amount an instant-delivery platform pays. Platforms new to the pilot pay
/// the standard amount; pilot-era platforms pay the standard or the higher one by their own
/// payout ratio (重庆人社 Q&A, 2025-07-15).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryTier {
    #[default]
    Standard,
    High,
}

impl DeliveryTier {
    pub fn parse(s: &str) -> Option<DeliveryTier> {
        match s.trim() {
            "standard" | "low" | "0.07" | "标准" => Some(DeliveryTier::Standard),
            "high" | "0.25" | "较高" => Some(DeliveryTier::High),
            _ => None,
        }
    }
}

/// A platform's month of orders in one sector, or (without `orders`) a worker's question
/// whether an order there and then is covered.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InjuryRequest {
    /// Region code, name or alias.
    pub region: String,
    pub month: Option<YearMonth>,
    /// ride-hailing, instant-delivery (delivery), food-delivery, same-city-freight, or the
    /// Chinese names 出行、即时配送、外卖、同城货运.
    pub sector: String,
    /// Orders in the month; none for a worker's view.
    pub orders: Option<u64>,
    /// Instant delivery only: the standard (default) or the higher per-order amount.
    pub delivery_tier: Option<DeliveryTier>,
    pub reforms: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct InjuryResult {
    pub region_code: String,
    pub region_zh: String,
    pub region_en: String,
    pub month: YearMonth,
    /// The sector the order counts in (food delivery becomes instant delivery from 2025-07).
    pub sector: Sector,
    pub sector_zh: &'static str,
    pub sector_en: &'static str,
    /// Whether the cover (the pilot) runs in the region that month.
    pub pilot: bool,
    /// The day it runs from: since when (if it runs), or when it starts (if it does not yet).
    pub pilot_from: Option<String>,
    /// Whether an order of this sector, there and then, is covered.
    pub covered: bool,
    /// Who pays and what is covered, in plain words.
    pub coverage: Note,
    /// What the platform pays per order; none where no amount is recorded.
    pub per_order_fen: Option<Fen>,
    pub delivery_tier: Option<DeliveryTier>,
    pub orders: Option<u64>,
    /// The platform's bill for the month.
    pub bill_fen: Option<Fen>,
    /// Always zero: the worker pays nothing.
    pub worker_pays_fen: Fen,
    pub notes: Vec<Note>,
    pub trace: Trace,
}

/// Ten billion orders a month: far above any platform of a province.
pub const MAX_ORDERS: u64 = 10_000_000_000;

/// Everything the injury calculator needs, resolved once from the scope.
#[derive(Clone, Debug)]
pub struct InjuryParams {
    pub region_code: String,
    pub region_zh: String,
    pub region_en: String,
    pub date: Date,
    /// Whether the pilot runs, with its parameter; `None` where no level records it (before
    /// the pilot began anywhere).
    pub pilot: Option<(bool, ParamRef)>,
    /// The next day the pilot starts here, if it does not run on `date`.
    pub next_start: Option<Date>,
    /// The sectors covered, kept as the error to give if no level records them.
    pub sectors: std::result::Result<(Vec<String>, ParamRef), Error>,
    /// Per-order amounts: ride-hailing, instant delivery (standard, high), same-city freight.
    pub per_order: [std::result::Result<(Fen, ParamRef), Error>; 4],
}

const AMOUNT_KEYS: [Key; 4] = [
    param::INJURY_PER_ORDER_RIDE_HAILING,
    param::INJURY_PER_ORDER_INSTANT_DELIVERY,
    param::INJURY_PER_ORDER_INSTANT_DELIVERY_HIGH,
    param::INJURY_PER_ORDER_SAME_CITY_FREIGHT,
];

impl InjuryParams {
    pub fn resolve(scope: &Scope) -> Result<InjuryParams> {
        let pilot = match scope.find(param::INJURY_PILOT) {
            Some(r) => match r.value {
                Value::Bool(b) => Some((*b, r.pref)),
                _ => return Err(wrong_type()),
            },
            None => None,
        };
        let runs = matches!(pilot, Some((true, _)));
        Ok(InjuryParams {
            region_code: scope.region.code.to_string(),
            region_zh: scope.region.name_zh.clone(),
            region_en: scope.region.name_en.clone(),
            date: scope.date,
            next_start: if runs { None } else { next_start(scope) },
            pilot,
            sectors: scope.set(param::INJURY_SECTORS),
            per_order: AMOUNT_KEYS.map(|k| scope.money(k)),
        })
    }

    fn amount(
        &self,
        sector: Sector,
        tier: DeliveryTier,
    ) -> &std::result::Result<(Fen, ParamRef), Error> {
        match (sector, tier) {
            (Sector::RideHailing, _) => &self.per_order[0],
            (Sector::FoodDelivery | Sector::InstantDelivery, DeliveryTier::Standard) => {
                &self.per_order[1]
            }
            (Sector::FoodDelivery | Sector::InstantDelivery, DeliveryTier::High) => {
                &self.per_order[2]
            }
            (Sector::SameCityFreight, _) => &self.per_order[3],
        }
    }
}

fn wrong_type() -> Error {
    Error::new(
        ErrorKind::PolicyFiles,
        "参数 injury.pilot 类型不对",
        "parameter injury.pilot has the wrong type",
    )
}

/// The first day after the scope's date on which the pilot runs in its region, found by
/// resolving the parameter at every date any level (or reform) changes it.
fn next_start(scope: &Scope) -> Option<Date> {
    let key = param::INJURY_PILOT.as_str();
    let mut dates: Vec<Date> = scope
        .policy
        .chain(scope.region.code)
        .iter()
        .filter_map(|r| scope.policy.params.get(&(r.code, key)))
        .chain(scope.reforms.iter().filter_map(|r| r.params.get(key)))
        .flatten()
        .map(|e| e.from)
        .filter(|d| *d > scope.date)
        .collect();
    dates.sort();
    dates.dedup();
    dates.into_iter().find(|d| {
        scope
            .at(*d)
            .find(param::INJURY_PILOT)
            .is_some_and(|r| matches!(r.value, Value::Bool(true)))
    })
}

/// The figures of one request, with no explanation.
#[derive(Clone, Debug)]
pub struct InjuryFigures {
    /// The sector asked for.
    pub asked: Sector,
    /// The sector the order counts in.
    pub sector: Sector,
    pub tier: Option<DeliveryTier>,
    pub pilot: bool,
    /// Why an order is not covered, if it is not.
    pub not_covered: Option<Note>,
    pub per_order: Option<Fen>,
    pub bill: Option<Fen>,
}

/// Checks the request's sector, order count and tier.
fn check(req: &InjuryRequest) -> Result<(Sector, Option<DeliveryTier>)> {
    let Some(sector) = Sector::parse(&req.sector) else {
        let (zh, en) = Sector::allowed();
        let given = req.sector.chars().take(40).collect::<String>();
        return Err(Error::bad_input(
            format!(
                "不认识的行业“{given}”；职业伤害保障的行业只有：{zh}（即时配送也可写 delivery）"
            ),
            format!(
                "unknown sector '{given}'; the sectors of the occupational-injury cover are: {en} (instant delivery may be written delivery)"
            ),
        ));
    };
    if req.orders.is_some_and(|n| n > MAX_ORDERS) {
        return Err(Error::bad_input(
            format!("订单数要在 0 到 {MAX_ORDERS} 之间"),
            format!("the number of orders must be 0 to {MAX_ORDERS}"),
        ));
    }
    let delivery = matches!(sector, Sector::InstantDelivery | Sector::FoodDelivery);
    if req.delivery_tier.is_some() && !delivery {
        return Err(Error::bad_input(
            format!(
                "缴费档次（0.07 元或 0.25 元）只适用于即时配送行业，不适用于{}",
                sector.zh()
            ),
            format!(
                "the delivery tier (0.07 or 0.25 yuan) applies to instant delivery only, not to {}",
                sector.en()
            ),
        ));
    }
    let tier = if delivery {
        Some(req.delivery_tier.unwrap_or_default())
    } else {
        None
    };
    Ok((sector, tier))
}

/// Whether an order is covered and what the platform owes, with no explanation.
pub fn compute(p: &InjuryParams, req: &InjuryRequest) -> Result<InjuryFigures> {
    let (asked, tier) = check(req)?;
    let pilot = matches!(p.pilot, Some((true, _)));
    let mut sector = asked;
    let mut not_covered = None;
    if !pilot {
        not_covered = Some(not_running(p));
    } else {
        let (sectors, sectors_r) = p.sectors.as_ref().map_err(Clone::clone)?;
        let has = |s: Sector| sectors.iter().any(|x| x == s.name());
        if asked == Sector::FoodDelivery && !has(asked) && has(Sector::InstantDelivery) {
            sector = Sector::InstantDelivery;
        }
        if !has(sector) {
            let zh: Vec<&str> = sectors
                .iter()
                .filter_map(|s| Sector::parse(s))
                .map(Sector::zh)
                .collect();
            not_covered = Some(Note::new(
                format!(
                    "{} 在 {} 的职业伤害保障不覆盖{}行业，只覆盖：{}（依据 {}）",
                    p.region_zh,
                    p.date,
                    sector.zh(),
                    zh.join("、"),
                    sectors_r.source.doc
                ),
                format!(
                    "on {} the occupational-injury cover of {} does not cover {}, only: {} (source {})",
                    p.date,
                    p.region_en,
                    sector.en(),
                    sectors.join(", "),
                    sectors_r.source.doc
                ),
            ));
        }
    }
    let covered = not_covered.is_none();
    let amount = p.amount(sector, tier.unwrap_or_default());
    let per_order = match (covered, amount) {
        (true, Ok((f, _))) => Some(*f),
        _ => None,
    };
    let bill = match req.orders {
        None => None,
        Some(_) if !covered => {
            let why = not_covered.clone().unwrap_or_default();
            return Err(Error::new(ErrorKind::NotApplicable, why.zh, why.en));
        }
        Some(n) => {
            let per = match amount {
                Ok((f, _)) => *f,
                Err(e) => {
                    return Err(Error::new(
                        ErrorKind::NotFound,
                        format!(
                            "{} 在 {} 的{}行业每单缴费额没有记录，算不出账单（anxin 只用有出处的金额）：{}",
                            p.region_zh,
                            p.date,
                            sector.zh(),
                            e.message(crate::Lang::Zh)
                        ),
                        format!(
                            "the per-order amount of {} in {} on {} is not recorded, so there is no bill (anxin uses sourced amounts only): {}",
                            sector.en(),
                            p.region_en,
                            p.date,
                            e.message(crate::Lang::En)
                        ),
                    ));
                }
            };
            let n = i64::try_from(n).unwrap_or(i64::MAX);
            Some(per.0.checked_mul(n).map(Fen).ok_or_else(|| {
                Error::bad_input(
                    "订单数太大，账单金额超出可计算范围",
                    "too many orders: the bill is beyond what can be computed",
                )
            })?)
        }
    };
    Ok(InjuryFigures {
        asked,
        sector,
        tier,
        pilot,
        not_covered,
        per_order,
        bill,
    })
}

/// "Not applicable here and then", with the day the cover does start.
fn not_running(p: &InjuryParams) -> Note {
    let (when_zh, when_en) = match p.next_start {
        Some(d) => (
            format!("这里从 {d} 起实行"),
            format!("it runs here from {d}"),
        ),
        None => (
            "已记录的参数里没有这里实行的日期".to_string(),
            "the recorded parameters give no day it runs here".to_string(),
        ),
    };
    Note::new(
        format!(
            "不适用：{}（{}）在 {} 还没有实行新就业形态人员职业伤害保障（试点）；{when_zh}。试点 2022-07-01 起在北京、上海、江苏、广东、海南、重庆、四川，2025-07-01 起扩大到天津、河北、辽宁、浙江、安徽、福建、山东、湖北、广西、宁夏，2026 年起全国",
            p.region_zh, p.region_code, p.date
        ),
        format!(
            "not applicable: the occupational-injury cover of platform workers (the pilot) does not run in {} ({}) on {}; {when_en}. The pilot runs from 2022-07-01 in Beijing, Shanghai, Jiangsu, Guangdong, Hainan, Chongqing and Sichuan, from 2025-07-01 also in Tianjin, Hebei, Liaoning, Zhejiang, Anhui, Fujian, Shandong, Hubei, Guangxi and Ningxia, and everywhere from 2026",
            p.region_en, p.region_code, p.date
        ),
    )
}

/// Who pays and what is covered, in plain words.
pub fn who_pays() -> Note {
    Note::new(
        "平台全额缴费、按单缴费、每单必保：每接一单，平台就为这一单交钱，劳动者自己一分钱不用交；在执行平台订单任务期间受伤，可以按规定申请职业伤害保障待遇（待遇与工伤保险总体一致）",
        "the platform pays all of it, per order, and every order is covered: for each order the platform pays, the worker pays nothing; an injury while carrying out a platform order may be claimed under the cover (benefits broadly as work-injury insurance)",
    )
}

pub fn injury(policy: &Policy, req: &InjuryRequest, today: YearMonth) -> Result<InjuryResult> {
    let month = req.month.unwrap_or(today);
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    check(req)?;
    let p = InjuryParams::resolve(&scope)?;
    let f = compute(&p, req)?;
    Ok(explain(&p, req, month, &f))
}

/// The result with its explanation, from the parameters and the figures.
pub fn explain(
    p: &InjuryParams,
    req: &InjuryRequest,
    month: YearMonth,
    f: &InjuryFigures,
) -> InjuryResult {
    let mut trace = Trace::default();
    let mut notes = Vec::new();
    trace.term("injury_cover");
    let pilot_refs: Vec<ParamRef> = p.pilot.iter().map(|(_, r)| r.clone()).collect();
    let pilot_from = match (&p.pilot, p.next_start) {
        (Some((true, r)), _) => Some(r.from.clone()),
        (_, Some(d)) => Some(d.to_string()),
        _ => None,
    };
    if f.pilot {
        let from = pilot_from.clone().unwrap_or_default();
        trace.step(
            format!("{} 自 {from} 起实行新就业形态人员职业伤害保障，{month} 在实行期内", p.region_zh),
            format!("the occupational-injury cover of platform workers runs in {} from {from}; {month} is inside it", p.region_en),
            pilot_refs,
        );
    } else if let Some(why) = &f.not_covered {
        trace.step(why.zh.clone(), why.en.clone(), pilot_refs);
    }
    if f.pilot
        && let Ok((sectors, sectors_r)) = &p.sectors
    {
        let zh: Vec<&str> = sectors
            .iter()
            .filter_map(|s| Sector::parse(s))
            .map(Sector::zh)
            .collect();
        if f.asked != f.sector {
            trace.step(
                format!("外卖自 2025-07-01 起并入即时配送行业，按即时配送计；覆盖的行业：{}", zh.join("、")),
                format!("food delivery is part of instant delivery from 2025-07-01 and counts as such; sectors covered: {}", sectors.join(", ")),
                vec![sectors_r.clone()],
            );
            notes.push(Note::new(
                "外卖订单按即时配送行业缴费",
                "food-delivery orders are paid for as instant delivery",
            ));
        } else if f.not_covered.is_none() {
            trace.step(
                format!(
                    "{}行业在覆盖范围内；覆盖的行业：{}",
                    f.sector.zh(),
                    zh.join("、")
                ),
                format!(
                    "{} is covered; sectors covered: {}",
                    f.sector.en(),
                    sectors.join(", ")
                ),
                vec![sectors_r.clone()],
            );
        } else if let Some(why) = &f.not_covered {
            trace.step(why.zh.clone(), why.en.clone(), vec![sectors_r.clone()]);
        }
    }
    if f.not_covered.is_none() {
        let tier_zh = match f.tier {
            Some(DeliveryTier::High) => "（较高档）",
            Some(DeliveryTier::Standard) => "（标准档）",
            None => "",
        };
        let tier_en = match f.tier {
            Some(DeliveryTier::High) => " (higher tier)",
            Some(DeliveryTier::Standard) => " (standard tier)",
            None => "",
        };
        match p.amount(f.sector, f.tier.unwrap_or_default()) {
            Ok((per, r)) => {
                trace.step(
                    format!("{}行业每单缴费 {per} 元{tier_zh}，由平台交", f.sector.zh()),
                    format!("{} pays {per} yuan per order{tier_en}, paid by the platform", f.sector.en()),
                    vec![r.clone()],
                );
                if r.source.confidence == crate::load::Confidence::Assumption {
                    notes.push(Note::new(
                        format!("{} 没有记录自己的每单缴费额；这里用的是重庆市公布的金额（四川相同），是 anxin 的假设，以当地通知为准", p.region_zh),
                        format!("{} has no recorded per-order amount of its own; this is the amount Chongqing published (Sichuan's is the same), an assumption of anxin — the local notice prevails", p.region_en),
                    ));
                }
            }
            Err(_) => notes.push(Note::new(
                format!("{} 在 {} 的每单缴费额没有记录；这一单仍然受保障，由平台缴费", p.region_zh, p.date),
                format!("the per-order amount in {} on {} is not recorded; the order is still covered, and the platform pays", p.region_en, p.date),
            )),
        }
    }
    if let (Some(n), Some(bill), Some(per)) = (req.orders, f.bill, f.per_order) {
        trace.step(
            format!("本月 {n} 单 × 每单 {per} 元 = {bill} 元，由平台全额缴纳；劳动者个人不缴费"),
            format!("{n} orders this month × {per} yuan = {bill} yuan, all paid by the platform; the worker pays nothing"),
            vec![],
        );
    }
    let covered = f.not_covered.is_none();
    let coverage = if covered {
        who_pays()
    } else {
        f.not_covered.clone().unwrap_or_default()
    };
    InjuryResult {
        region_code: p.region_code.clone(),
        region_zh: p.region_zh.clone(),
        region_en: p.region_en.clone(),
        month,
        sector: f.sector,
        sector_zh: f.sector.zh(),
        sector_en: f.sector.en(),
        pilot: f.pilot,
        pilot_from,
        covered,
        coverage,
        per_order_fen: f.per_order,
        delivery_tier: f.tier,
        orders: req.orders,
        bill_fen: f.bill,
        worker_pays_fen: Fen::ZERO,
        notes,
        trace,
    }
}
