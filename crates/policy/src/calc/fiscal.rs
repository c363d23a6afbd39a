//! A2 — fiscal sharing of resident medical insurance (城乡居民医保财政补助的中央与地方分担,
//! seed 002): the public subsidy per resident and year, split between the central and the local
//! budget by the region's tier; and what changes if inter-provincial migrants are covered where
//! they live instead of where their hukou is. Residence-permit holders are subsidised like
//! locals (医保发〔2020〕32号), so the destination pays its local share of its own tier and the
//! central share follows the destination's tier.

use anxin_domain::{Bps, ErrorKind, Fen, Rounding, YearMonth};
use serde::{Deserialize, Serialize};

use crate::calc::Note;
use crate::error::{Error, Result};
use crate::load::Policy;
use crate::schema::param;
use crate::scope::{ParamRef, Scope};
use crate::trace::Trace;

/// Two billion people: above the population of the country.
pub const MAX_PEOPLE: u64 = 2_000_000_000;
/// Years the calculator answers for.
pub const YEARS: std::ops::RangeInclusive<i32> = 1990..=2100;

/// A region's insured residents in a year, and optionally migrants from another province to be
/// covered where they live.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FiscalRequest {
    /// Region code, name or alias (the place of residence).
    pub region: String,
    /// The year; the current year if not given.
    pub year: Option<i32>,
    /// Residents insured in resident medical insurance there.
    pub residents: u64,
    /// Inter-provincial migrants to be covered at their place of residence.
    pub migrants: Option<u64>,
    /// The migrants' hukou province (code, name or alias); needed with `migrants`.
    pub hukou: Option<String>,
    pub reforms: Vec<String>,
}

/// A subsidy split into its central and local parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Split {
    pub subsidy_fen: Fen,
    pub central_fen: Fen,
    pub local_fen: Fen,
}

/// The cost of covering migrants where they live instead of where their hukou is.
#[derive(Clone, Debug, Serialize)]
pub struct MigrantCost {
    pub migrants: u64,
    pub hukou_code: String,
    pub hukou_zh: String,
    pub hukou_en: String,
    pub hukou_tier: i64,
    pub hukou_central_share_bps: Bps,
    /// Per migrant at the hukou place (the origin's tier).
    pub per_migrant_at_hukou: Split,
    /// Per migrant at the place of residence (the destination's tier).
    pub per_migrant_at_residence: Split,
    /// All migrants covered at the hukou place.
    pub at_hukou: Split,
    /// All migrants covered at the place of residence.
    pub at_residence: Split,
    /// What the destination's local budget pays more (its local share for every migrant).
    pub destination_local_change_fen: Fen,
    /// What the origin's local budget pays less (negative: a saving), if the migrants were
    /// covered there before.
    pub origin_local_change_fen: Fen,
    /// What the central budget pays more (negative: less).
    pub central_change_fen: Fen,
    /// The change for all budgets together.
    pub total_change_fen: Fen,
}

#[derive(Clone, Debug, Serialize)]
pub struct FiscalResult {
    pub region_code: String,
    pub region_zh: String,
    pub region_en: String,
    pub year: i32,
    pub tier: i64,
    pub central_share_bps: Bps,
    /// Per resident and year.
    pub per_resident: Split,
    /// What a resident pays himself per year, where recorded.
    pub individual_per_resident_fen: Option<Fen>,
    pub residents: u64,
    /// All residents.
    pub total: Split,
    pub migrants: Option<MigrantCost>,
    /// The figures that are assumptions or unverified, in plain words.
    pub assumptions: Vec<Note>,
    pub notes: Vec<Note>,
    pub trace: Trace,
}

/// One region's sharing parameters in a year.
#[derive(Clone, Debug)]
pub struct Sharing {
    pub code: String,
    pub zh: String,
    pub en: String,
    /// The province the region belongs to (itself for a province).
    pub province: String,
    pub subsidy: (Fen, ParamRef),
    pub tier: (i64, ParamRef),
    pub share: (Bps, ParamRef),
}

/// Everything the fiscal calculator needs, resolved once from the scopes.
#[derive(Clone, Debug)]
pub struct FiscalParams {
    pub year: i32,
    pub here: Sharing,
    pub hukou: Option<Sharing>,
    pub individual: Option<(Fen, ParamRef)>,
    pub permit_equal: Option<(bool, ParamRef)>,
    pub rounding: (Rounding, ParamRef),
}

fn sharing(policy: &Policy, scope: &Scope) -> Result<Sharing> {
    let chain = policy.chain(scope.region.code);
    let province = chain
        .iter()
        .rev()
        .nth(1)
        .map_or(scope.region.code.to_string(), |r| r.code.to_string());
    let (tier, share) = match (
        scope.int(param::FISCAL_TIER),
        scope.rate(param::FISCAL_CENTRAL_SHARE),
    ) {
        (Ok(t), Ok(s)) => (t, s),
        _ => return Err(no_tier(policy, scope)),
    };
    Ok(Sharing {
        code: scope.region.code.to_string(),
        zh: scope.region.name_zh.clone(),
        en: scope.region.name_en.clone(),
        province,
        subsidy: scope.money(param::RESIDENT_MEDICAL_SUBSIDY)?,
        tier,
        share,
    })
}

/// "Not recorded here", with the regions whose tier is recorded.
fn no_tier(policy: &Policy, scope: &Scope) -> Error {
    let mut known: Vec<(String, String, String)> = policy
        .regions
        .values()
        .filter_map(|r| {
            let s = policy.scope_at(&r.code.to_string(), scope.date, &[]).ok()?;
            let (b, _) = s.rate(param::FISCAL_CENTRAL_SHARE).ok()?;
            let b = b.percent_string();
            Some((
                r.code.to_string(),
                format!("{}（{}）{b}", r.name_zh, r.code),
                format!("{} ({}) {b}", r.name_en, r.code),
            ))
        })
        .collect();
    known.sort();
    let zh: Vec<&str> = known.iter().map(|k| k.1.as_str()).collect();
    let en: Vec<&str> = known.iter().map(|k| k.2.as_str()).collect();
    Error::new(
        ErrorKind::NotFound,
        format!(
            "没有记录 {}（{}）在 {} 年的中央与地方分担档次，算不出中央和地方各出多少（anxin 只用有出处的比例）；已记录的地区（中央承担比例，未核实）：{}",
            scope.region.name_zh,
            scope.region.code,
            scope.date.year(),
            if zh.is_empty() {
                "无".to_string()
            } else {
                zh.join("、")
            }
        ),
        format!(
            "the central–local sharing tier of {} ({}) in {} is not recorded, so the split cannot be computed (anxin uses sourced shares only); recorded regions (central share, unverified): {}",
            scope.region.name_en,
            scope.region.code,
            scope.date.year(),
            if en.is_empty() {
                "none".to_string()
            } else {
                en.join(", ")
            }
        ),
    )
}

impl FiscalParams {
    pub fn resolve(policy: &Policy, scope: &Scope, hukou: Option<&Scope>) -> Result<FiscalParams> {
        Ok(FiscalParams {
            year: i32::from(scope.date.year()),
            here: sharing(policy, scope)?,
            hukou: hukou.map(|h| sharing(policy, h)).transpose()?,
            individual: scope.money(param::RESIDENT_MEDICAL_INDIVIDUAL).ok(),
            permit_equal: scope
                .flag(param::RESIDENT_MEDICAL_PERMIT_EQUAL_SUBSIDY)
                .ok(),
            rounding: scope.rounding(param::ROUNDING_FISCAL)?,
        })
    }
}

/// The figures of one request, with no explanation.
#[derive(Clone, Debug)]
pub struct FiscalFigures {
    pub per_resident: Split,
    pub total: Split,
    pub migrants: Option<MigrantCost>,
}

fn too_big() -> Error {
    Error::bad_input(
        "人数太大，金额超出可计算范围",
        "too many people: the amounts are beyond what can be computed",
    )
}

fn per_person(subsidy: Fen, share: Bps, rounding: Rounding) -> Split {
    let central = subsidy.times_rate(share, rounding);
    Split {
        subsidy_fen: subsidy,
        central_fen: central,
        local_fen: Fen(subsidy.0 - central.0),
    }
}

fn times(s: Split, n: u64) -> Result<Split> {
    let n = i64::try_from(n).map_err(|_| too_big())?;
    let m = |f: Fen| f.0.checked_mul(n).map(Fen).ok_or_else(too_big);
    Ok(Split {
        subsidy_fen: m(s.subsidy_fen)?,
        central_fen: m(s.central_fen)?,
        local_fen: m(s.local_fen)?,
    })
}

/// Checks the counts, the year and that migrants come with a hukou province (and the reverse).
fn check(req: &FiscalRequest) -> Result<()> {
    for (n, zh, en) in [
        (
            Some(req.residents),
            "参保居民人数",
            "the number of insured residents",
        ),
        (
            req.migrants,
            "跨省流动人口人数",
            "the number of inter-provincial migrants",
        ),
    ] {
        if n.is_some_and(|n| n > MAX_PEOPLE) {
            return Err(Error::bad_input(
                format!("{zh}要在 0 到 {MAX_PEOPLE} 之间"),
                format!("{en} must be 0 to {MAX_PEOPLE}"),
            ));
        }
    }
    if let Some(y) = req.year
        && !YEARS.contains(&y)
    {
        return Err(Error::bad_input(
            format!("年份 {y} 不在 {} 到 {} 之间", YEARS.start(), YEARS.end()),
            format!(
                "the year {y} is not between {} and {}",
                YEARS.start(),
                YEARS.end()
            ),
        ));
    }
    match (req.migrants, req.hukou.as_deref().map(str::trim)) {
        (Some(_), None | Some("")) => Err(Error::bad_input(
            "给了流动人口人数，还要给出他们的户籍省份（hukou，例如 340000 或 安徽）",
            "migrants need their hukou province (hukou, e.g. 340000 or Anhui)",
        )),
        (None, Some(h)) if !h.is_empty() => Err(Error::bad_input(
            "给了户籍省份，还要给出流动人口人数（migrants）",
            "a hukou province needs the number of migrants (migrants)",
        )),
        _ => Ok(()),
    }
}

/// The split per resident and in total, and the migrants' cost, with no explanation.
pub fn compute(p: &FiscalParams, req: &FiscalRequest) -> Result<FiscalFigures> {
    check(req)?;
    let r = p.rounding.0;
    let per_resident = per_person(p.here.subsidy.0, p.here.share.0, r);
    let total = times(per_resident, req.residents)?;
    let migrants = match (req.migrants, &p.hukou) {
        (Some(n), Some(h)) => {
            if h.province == p.here.province {
                return Err(Error::bad_input(
                    format!(
                        "户籍地 {}（{}）和常住地 {}（{}）在同一个省，不是跨省流动人口",
                        h.zh, h.code, p.here.zh, p.here.code
                    ),
                    format!(
                        "the hukou place {} ({}) and the place of residence {} ({}) are in the same province: these are not inter-provincial migrants",
                        h.en, h.code, p.here.en, p.here.code
                    ),
                ));
            }
            let at_res1 = per_resident;
            let at_huk1 = per_person(h.subsidy.0, h.share.0, r);
            let at_residence = times(at_res1, n)?;
            let at_hukou = times(at_huk1, n)?;
            let dest = at_residence.local_fen;
            let origin = Fen(-at_hukou.local_fen.0);
            let central = Fen(at_residence.central_fen.0 - at_hukou.central_fen.0);
            let total_change = dest
                .checked_add(origin)
                .and_then(|x| x.checked_add(central))
                .ok_or_else(too_big)?;
            Some(MigrantCost {
                migrants: n,
                hukou_code: h.code.clone(),
                hukou_zh: h.zh.clone(),
                hukou_en: h.en.clone(),
                hukou_tier: h.tier.0,
                hukou_central_share_bps: h.share.0,
                per_migrant_at_hukou: at_huk1,
                per_migrant_at_residence: at_res1,
                at_hukou,
                at_residence,
                destination_local_change_fen: dest,
                origin_local_change_fen: origin,
                central_change_fen: central,
                total_change_fen: total_change,
            })
        }
        _ => None,
    };
    Ok(FiscalFigures {
        per_resident,
        total,
        migrants,
    })
}

pub fn fiscal(policy: &Policy, req: &FiscalRequest, today: YearMonth) -> Result<FiscalResult> {
    check(req)?;
    let year = req.year.unwrap_or(today.year());
    let month = YearMonth::new(year, 1)
        .ok_or_else(|| Error::bad_input(format!("年份 {year} 不对"), format!("bad year {year}")))?;
    let scope = policy.scope(&req.region, month, &req.reforms)?;
    let hukou_scope = match req.hukou.as_deref().map(str::trim) {
        // The reforms asked for are the destination's; the origin keeps the law in force.
        Some(h) if !h.is_empty() => Some(policy.scope(h, month, &[])?),
        _ => None,
    };
    let p = FiscalParams::resolve(policy, &scope, hukou_scope.as_ref())?;
    let f = compute(&p, req)?;
    Ok(explain(&p, req, &f))
}

fn yuan(f: Fen) -> String {
    f.yuan_string()
}

/// The result with its explanation, from the parameters and the figures.
pub fn explain(p: &FiscalParams, req: &FiscalRequest, f: &FiscalFigures) -> FiscalResult {
    let mut trace = Trace::default();
    let mut notes = Vec::new();
    let mut assumptions = Vec::new();
    let h = &p.here;
    let (sub, sub_r) = &h.subsidy;
    let sub_year = sub_r.from.get(..4).and_then(|y| y.parse::<i32>().ok());
    trace.step(
        format!("{} 年城乡居民医保财政补助每人每年 {} 元（全国最低标准，依据 {}）", p.year, yuan(*sub), sub_r.source.doc),
        format!("in {} the public subsidy of resident medical insurance is {} yuan per resident and year (the national minimum, source {})", p.year, yuan(*sub), sub_r.source.doc),
        vec![sub_r.clone()],
    );
    if let Some(y) = sub_year.filter(|y| *y != p.year) {
        notes.push(Note::new(
            format!("{} 年的补助标准没有记录，这里用的是 {y} 年起的标准 {} 元", p.year, yuan(*sub)),
            format!("the subsidy standard of {} is not recorded; the one in force from {y}, {} yuan, is used", p.year, yuan(*sub)),
        ));
    }
    assumptions.push(Note::new(
        "假设：各地财政补助正好是全国最低标准（文件写的是“不低于”，地方可以更高）",
        "assumption: every region's subsidy is exactly the national minimum (the notices say 'at least'; a region may pay more)",
    ));
    trace.step(
        format!(
            "{}（{}）属第 {} 档，中央财政承担 {}，地方财政承担其余；每人中央 {} 元、地方 {} 元（中央部分按 {} 取整）",
            h.zh, h.code, h.tier.0, h.share.0.percent_string(),
            yuan(f.per_resident.central_fen), yuan(f.per_resident.local_fen), p.rounding.0.name()
        ),
        format!(
            "{} ({}) is in tier {}: the central budget pays {}, the local budget the rest; per resident {} yuan central, {} yuan local (central part rounded {})",
            h.en, h.code, h.tier.0, h.share.0.percent_string(),
            yuan(f.per_resident.central_fen), yuan(f.per_resident.local_fen), p.rounding.0.name()
        ),
        vec![h.tier.1.clone(), h.share.1.clone(), p.rounding.1.clone()],
    );
    assumptions.push(Note::new(
        "未核实：中央与地方分担档次（第一档 80%、第二档 60%、第三档 50%、第四档 30%、第五档 10%）出自国办发〔2018〕6号，原文没有找到公开副本；北京、上海 10%，深圳、宁波 30% 与种子材料 002 一致",
        "unverified: the sharing tiers (tier 1 80 %, tier 2 60 %, tier 3 50 %, tier 4 30 %, tier 5 10 %) come from 国办发〔2018〕6号, of which no public copy was found; Beijing and Shanghai 10 %, Shenzhen and Ningbo 30 % agree with seed 002",
    ));
    trace.step(
        format!(
            "{} 名参保居民 × {} 元 = {} 元；其中中央 {} 元，地方 {} 元",
            req.residents,
            yuan(*sub),
            yuan(f.total.subsidy_fen),
            yuan(f.total.central_fen),
            yuan(f.total.local_fen)
        ),
        format!(
            "{} insured residents × {} yuan = {} yuan; central {} yuan, local {} yuan",
            req.residents,
            yuan(*sub),
            yuan(f.total.subsidy_fen),
            yuan(f.total.central_fen),
            yuan(f.total.local_fen)
        ),
        vec![],
    );
    if let Some((ind, r)) = &p.individual {
        trace.step(
            format!("居民个人每人每年另缴 {} 元（不计入财政补助）", yuan(*ind)),
            format!(
                "each resident also pays {} yuan a year himself (not part of the public subsidy)",
                yuan(*ind)
            ),
            vec![r.clone()],
        );
    }
    if let (Some(m), Some(hk)) = (&f.migrants, &p.hukou) {
        let mut refs = vec![h.tier.1.clone(), h.share.1.clone()];
        if let Some((_, r)) = &p.permit_equal {
            refs.push(r.clone());
        }
        trace.step(
            format!(
                "{} 名跨省流动人口若在户籍地 {}（第 {} 档，中央 {}）参保：每人中央 {} 元、户籍地财政 {} 元；共中央 {} 元、户籍地 {} 元",
                m.migrants, hk.zh, hk.tier.0, hk.share.0.percent_string(),
                yuan(m.per_migrant_at_hukou.central_fen), yuan(m.per_migrant_at_hukou.local_fen),
                yuan(m.at_hukou.central_fen), yuan(m.at_hukou.local_fen)
            ),
            format!(
                "{} inter-provincial migrants covered at their hukou place {} (tier {}, central {}): per person {} yuan central, {} yuan from the origin's budget; in all {} yuan central, {} yuan origin",
                m.migrants, hk.en, hk.tier.0, hk.share.0.percent_string(),
                yuan(m.per_migrant_at_hukou.central_fen), yuan(m.per_migrant_at_hukou.local_fen),
                yuan(m.at_hukou.central_fen), yuan(m.at_hukou.local_fen)
            ),
            vec![hk.tier.1.clone(), hk.share.1.clone()],
        );
        trace.step(
            format!(
                "改为在常住地 {} 参保（持居住证与本地居民同等补助）：中央按常住地档次 {}，常住地财政出其余；共中央 {} 元、常住地 {} 元",
                h.zh, h.share.0.percent_string(), yuan(m.at_residence.central_fen), yuan(m.at_residence.local_fen)
            ),
            format!(
                "covered instead at the place of residence {} (permit holders subsidised like locals): central share by the destination's tier, {}, the destination's budget the rest; in all {} yuan central, {} yuan destination",
                h.en, h.share.0.percent_string(), yuan(m.at_residence.central_fen), yuan(m.at_residence.local_fen)
            ),
            refs,
        );
        trace.step(
            format!(
                "差额：常住地财政多出 {} 元，户籍地财政少出 {} 元，中央财政变化 {} 元，合计变化 {} 元",
                yuan(m.destination_local_change_fen), yuan(Fen(-m.origin_local_change_fen.0)),
                yuan(m.central_change_fen), yuan(m.total_change_fen)
            ),
            format!(
                "difference: the destination's budget pays {} yuan more, the origin's {} yuan less, the central budget changes by {} yuan, all budgets by {} yuan",
                yuan(m.destination_local_change_fen), yuan(Fen(-m.origin_local_change_fen.0)),
                yuan(m.central_change_fen), yuan(m.total_change_fen)
            ),
            vec![],
        );
        if matches!(p.permit_equal, Some((false, _))) {
            notes.push(Note::new(
                format!("注意：{} 记录为持居住证参保不享受与本地居民相同的财政补助，上面的常住地数字是按相同补助算的", h.zh),
                format!("note: {} is recorded as not subsidising residence-permit holders like locals; the figures for the place of residence assume it does", h.en),
            ));
        }
        assumptions.push(Note::new(
            "假设：这些流动人口原来都在户籍地参保，所以户籍地省下的正是它原来出的那一份；没有参保的人，户籍地什么也省不下，常住地和中央的支出则是新增的",
            "assumption: the migrants were all insured at their hukou place before, so the origin saves exactly its former share; for those who were not insured the origin saves nothing and the destination's and the central spending are new",
        ));
        assumptions.push(Note::new(
            "假设：中央补助跟着参保地走，按常住地的档次计算（持居住证参保的，各级财政按当地居民相同标准补助）",
            "assumption: the central subsidy follows the place of enrolment and is computed at the destination's tier (permit holders are subsidised by every level like local residents)",
        ));
    }
    FiscalResult {
        region_code: h.code.clone(),
        region_zh: h.zh.clone(),
        region_en: h.en.clone(),
        year: p.year,
        tier: h.tier.0,
        central_share_bps: h.share.0,
        per_resident: f.per_resident,
        individual_per_resident_fen: p.individual.as_ref().map(|(f, _)| *f),
        residents: req.residents,
        total: f.total,
        migrants: f.migrants.clone(),
        assumptions,
        notes,
        trace,
    }
}
