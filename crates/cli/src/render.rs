//! Human output of the calculators: Chinese labels by default, English with `--lang en`.

use std::fmt::Write;

use anxin_domain::Fen;
use anxin_policy::calc::Note;
use anxin_policy::calc::backpay::BackpayResult;
use anxin_policy::calc::fiscal::{FiscalResult, Split};
use anxin_policy::calc::injury::{DeliveryTier, InjuryResult};
use anxin_policy::calc::medical::MedicalResult;
use anxin_policy::calc::pension::PensionResult;
use anxin_policy::calc::platform::PlatformResult;
use anxin_policy::calc::quote::QuoteResult;
use anxin_policy::{Lang, ParamRef, Policy, Scope, schema};

pub(crate) fn yuan(f: Fen, lang: Lang) -> String {
    format!("{} {}", f, lang.pick("元", "yuan"))
}

pub(crate) fn line(out: &mut String, label: &str, value: impl AsRef<str>) {
    // Pad by display width: a CJK character takes two columns.
    let width: usize = label
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 2 })
        .sum();
    let pad = 16usize.saturating_sub(width);
    let _ = writeln!(out, "  {label}{}{}", " ".repeat(pad), value.as_ref());
}

pub(crate) fn notes(out: &mut String, notes: &[Note], lang: Lang) {
    for n in notes {
        let _ = writeln!(out, "  ※ {}", lang.pick(&n.zh, &n.en));
    }
}

pub fn quote(r: &QuoteResult, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}（{}） {} {}",
        lang.pick(&r.region_zh, &r.region_en),
        r.region_code,
        r.month,
        lang.pick(
            "灵活就业人员养老保险缴费",
            "flexible-worker pension contribution"
        )
    );
    line(
        &mut o,
        lang.pick("缴费基数", "base"),
        format!(
            "{}（{} {}，{} {}–{}）",
            yuan(r.base_fen, lang),
            lang.pick("档次", "tier"),
            r.tier_bps,
            lang.pick("可选", "allowed"),
            r.base_floor_fen,
            r.base_ceiling_fen
        ),
    );
    line(
        &mut o,
        lang.pick("缴费比例", "rate"),
        r.rate_bps.to_string(),
    );
    line(
        &mut o,
        lang.pick("每月应缴", "monthly"),
        format!(
            "{}（{} {}，{} {}）",
            yuan(r.monthly_fen, lang),
            lang.pick("统筹基金", "pooling"),
            r.pooling_fen,
            lang.pick("个人账户", "account"),
            r.account_fen
        ),
    );
    for s in &r.subsidies {
        let cond = if s.conditional {
            lang.pick("（有条件）", " (conditional)")
        } else {
            ""
        };
        line(
            &mut o,
            lang.pick("补贴", "subsidy"),
            format!(
                "−{} {}{cond}",
                yuan(s.monthly_fen, lang),
                lang.pick(&s.zh, &s.en)
            ),
        );
    }
    line(
        &mut o,
        lang.pick("每月自己交", "you pay"),
        yuan(r.net_monthly_fen, lang),
    );
    if r.net_after_conditions_fen != r.net_monthly_fen {
        line(
            &mut o,
            lang.pick("条件满足后", "once conditions met"),
            yuan(r.net_after_conditions_fen, lang),
        );
    }
    let freq = match lang {
        Lang::Zh => r.frequency.zh().to_string(),
        Lang::En => r.frequency.name().to_string(),
    };
    let first = r
        .payments
        .first()
        .map(|p| format!("{} {}", p.due, p.amount_fen))
        .unwrap_or_default();
    line(
        &mut o,
        lang.pick("缴费方式", "frequency"),
        format!(
            "{freq}：{} {}，{}（{} {}）",
            r.payments.len(),
            lang.pick("次", "payments"),
            lang.pick("全年", "year"),
            lang.pick("首次", "first"),
            first
        ),
    );
    if r.frequency.name() == "peak-trough" {
        let amounts: Vec<String> = r
            .payments
            .iter()
            .map(|p| p.amount_fen.to_string())
            .collect();
        line(&mut o, lang.pick("每月计划", "plan"), amounts.join(" "));
    }
    line(
        &mut o,
        lang.pick("全年合计", "per year"),
        yuan(r.annual_fen, lang),
    );
    if let (Some(b), Some(over)) = (r.burden_bps, r.over_ilo_line) {
        let verdict = if over {
            lang.pick("超过", "above")
        } else {
            lang.pick("不超过", "within")
        };
        line(
            &mut o,
            lang.pick("缴费负担", "burden"),
            format!(
                "{} {b}，{verdict} {} {}",
                lang.pick("占月收入", "of monthly income:"),
                lang.pick("国际劳工组织建议的", "the ILO line of"),
                r.ilo_line_bps
            ),
        );
    }
    if let Some(s) = r.savings_pretax_fen {
        line(
            &mut o,
            lang.pick("储蓄账户", "savings"),
            format!(
                "{} {}",
                lang.pick("可税前转入", "may move in pre-tax:"),
                yuan(s, lang)
            ),
        );
    }
    notes(&mut o, &r.notes, lang);
    o
}

pub fn pension(r: &PensionResult, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}（{}） {} {}",
        r.region_zh,
        r.region_code,
        lang.pick("养老金测算，截至", "pension projection as of"),
        r.as_of
    );
    line(
        &mut o,
        lang.pick("法定退休", "retirement"),
        format!(
            "{} {} {} {}，{}",
            r.retirement_age_months / 12,
            lang.pick("岁", "years"),
            r.retirement_age_months % 12,
            lang.pick("个月", "months"),
            r.retirement_month
        ),
    );
    line(
        &mut o,
        lang.pick("计发月数", "payout months"),
        format!(
            "{}.{}",
            r.payout_months_tenths / 10,
            r.payout_months_tenths % 10
        ),
    );
    line(
        &mut o,
        lang.pick("计发基数", "calc. base"),
        yuan(r.calc_base_fen, lang),
    );
    line(
        &mut o,
        lang.pick("现在每月缴费", "monthly now"),
        yuan(r.monthly_contribution_fen, lang),
    );
    let _ = writeln!(o);
    let max = r
        .scenarios
        .iter()
        .map(|s| s.total_fen.max(s.resident_total_fen).0)
        .max()
        .unwrap_or(0)
        .max(1);
    for s in &r.scenarios {
        let _ = writeln!(o, "  ■ {}", lang.pick(&s.label_zh, &s.label_en));
        if s.eligible {
            line(
                &mut o,
                lang.pick("  职工养老金", "  employee"),
                format!(
                    "{} {}（{} {} + {} {}{}）",
                    yuan(s.total_fen, lang),
                    lang.pick("每月", "a month"),
                    lang.pick("基础", "basic"),
                    s.basic_fen,
                    lang.pick("个人账户", "account"),
                    s.account_pension_fen,
                    if s.transitional_fen.0 > 0 {
                        format!(" + {}", s.transitional_fen)
                    } else {
                        String::new()
                    }
                ),
            );
            line(
                &mut o,
                lang.pick("  替代率", "  replacement"),
                format!(
                    "{} {}",
                    s.replacement_bps,
                    lang.pick("（相对当地平均工资）", "(of the local average wage)")
                ),
            );
            if let Some(p) = s.payback_months {
                line(
                    &mut o,
                    lang.pick("  回本", "  payback"),
                    format!(
                        "{} {} {}，{} {p} {}",
                        lang.pick("今后自己交", "you pay"),
                        s.own_paid_fen,
                        lang.pick("元", "yuan"),
                        lang.pick("领", "repaid in"),
                        lang.pick("个月养老金就回本", "months of pension")
                    ),
                );
            }
        } else {
            line(
                &mut o,
                lang.pick("  职工养老金", "  employee"),
                format!(
                    "{}：{} {} {}，{} {} {}",
                    lang.pick("不能按月领取", "no monthly pension"),
                    lang.pick("共缴", "paid"),
                    s.total_months,
                    lang.pick("个月", "months"),
                    lang.pick("还差", "short by"),
                    s.shortfall_months,
                    lang.pick("个月", "months")
                ),
            );
        }
        line(
            &mut o,
            lang.pick("  居民养老金", "  resident"),
            if s.resident_eligible {
                format!(
                    "{} {}",
                    yuan(s.resident_total_fen, lang),
                    lang.pick("每月", "a month")
                )
            } else {
                lang.pick("不满 15 年，不能领取", "under 15 years: none")
                    .to_string()
            },
        );
        let bar = |v: Fen| "█".repeat(((v.0 * 40) / max).max(0) as usize);
        let _ = writeln!(
            o,
            "    {} {:<40} {}",
            lang.pick("职工", "empl."),
            bar(s.total_fen),
            s.total_fen
        );
        let _ = writeln!(
            o,
            "    {} {:<40} {}",
            lang.pick("居民", "resid"),
            bar(s.resident_total_fen),
            s.resident_total_fen
        );
    }
    notes(&mut o, &r.notes, lang);
    o
}

pub fn backpay(r: &BackpayResult, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}（{}） {} {}",
        r.region_zh,
        r.region_code,
        lang.pick("补缴测算，截至", "back-payment as of"),
        r.as_of
    );
    line(
        &mut o,
        lang.pick("补缴期限", "window"),
        if r.window_months > 0 {
            format!("{} {}", r.window_months, lang.pick("个月", "months"))
        } else {
            lang.pick("不允许补缴", "not allowed").to_string()
        },
    );
    for m in &r.months {
        let mark = if m.allowed { "✓" } else { "✗" };
        let amount = if m.allowed {
            format!(" {}", m.amount_fen + m.late_fee_fen)
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "  {mark} {}{amount}  {}",
            m.month,
            lang.pick(&m.reason_zh, &m.reason_en)
        );
    }
    line(
        &mut o,
        lang.pick("可补", "allowed"),
        format!(
            "{} {}，{}（{} {}）",
            r.allowed_count,
            lang.pick("个月", "months"),
            yuan(r.total_fen + r.late_fee_total_fen, lang),
            lang.pick("其中滞纳金", "late fees"),
            r.late_fee_total_fen
        ),
    );
    notes(&mut o, &r.notes, lang);
    o
}

pub fn medical(r: &MedicalResult, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}（{}） {}",
        r.region_zh,
        r.region_code,
        lang.pick("医疗保险对比", "medical insurance compared")
    );
    let e = &r.employee;
    line(
        &mut o,
        lang.pick("职工医保", "employee"),
        if e.eligible {
            format!(
                "{} {}，{} {}（{}）",
                lang.pick("每月", "monthly"),
                e.monthly_fen,
                lang.pick("每年", "yearly"),
                e.yearly_fen,
                lang.pick(&e.reason_zh, &e.reason_en)
            )
        } else {
            lang.pick(&e.reason_zh, &e.reason_en).to_string()
        },
    );
    let res = &r.resident;
    line(
        &mut o,
        lang.pick("居民医保", "resident"),
        if res.eligible {
            format!(
                "{} {}，{} {}，{} {} {}",
                lang.pick("每年自己交", "you pay yearly"),
                res.yearly_fen,
                lang.pick("财政补助", "public subsidy"),
                res.subsidy_yearly_fen,
                lang.pick("等待期", "waiting"),
                res.waiting_months,
                lang.pick("个月", "months")
            )
        } else {
            lang.pick(&res.reason_zh, &res.reason_en).to_string()
        },
    );
    notes(&mut o, &r.notes, lang);
    o
}

pub fn injury(r: &InjuryResult, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}（{}） {} {}  {}",
        lang.pick(&r.region_zh, &r.region_en),
        r.region_code,
        r.month,
        lang.pick("职业伤害保障", "occupational-injury cover"),
        lang.pick(r.sector_zh, r.sector_en)
    );
    line(
        &mut o,
        lang.pick("是否实行", "cover runs"),
        match (r.pilot, &r.pilot_from) {
            (true, Some(d)) => format!(
                "{}{d}{}",
                lang.pick("是，自 ", "yes, from "),
                lang.pick(" 起", "")
            ),
            (true, None) => lang.pick("是", "yes").to_string(),
            (false, Some(d)) => format!(
                "{}{d}{}",
                lang.pick("否，从 ", "no, from "),
                lang.pick(" 起才实行", " on")
            ),
            (false, None) => lang.pick("否", "no").to_string(),
        },
    );
    line(
        &mut o,
        lang.pick("这一单有保障", "order covered"),
        if r.covered {
            lang.pick("是", "yes")
        } else {
            lang.pick("否", "no")
        },
    );
    if let Some(per) = r.per_order_fen {
        let tier = match r.delivery_tier {
            Some(DeliveryTier::High) => lang.pick("（较高档）", " (higher tier)"),
            Some(DeliveryTier::Standard) => lang.pick("（标准档）", " (standard tier)"),
            None => "",
        };
        line(
            &mut o,
            lang.pick("平台每单缴费", "per order"),
            format!("{}{tier}", yuan(per, lang)),
        );
    }
    if let (Some(n), Some(bill)) = (r.orders, r.bill_fen) {
        line(&mut o, lang.pick("本月订单", "orders"), n.to_string());
        line(
            &mut o,
            lang.pick("平台本月应缴", "platform's bill"),
            yuan(bill, lang),
        );
    }
    line(
        &mut o,
        lang.pick("劳动者缴费", "worker pays"),
        yuan(r.worker_pays_fen, lang),
    );
    let _ = writeln!(o, "  {}", lang.pick(&r.coverage.zh, &r.coverage.en));
    notes(&mut o, &r.notes, lang);
    o
}

pub fn platform(r: &PlatformResult, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}（{}） {} {} {}",
        r.region_zh,
        r.region_code,
        lang.pick("平台成本：", "platform cost:"),
        r.workers,
        lang.pick("人", "workers")
    );
    line(
        &mut o,
        lang.pick("每人每月", "per worker"),
        yuan(r.per_worker_monthly_fen, lang),
    );
    line(
        &mut o,
        lang.pick("平台每年缴费", "paid a year"),
        yuan(r.platform_annual_fen, lang),
    );
    line(
        &mut o,
        lang.pick("税前扣除", "deduction"),
        yuan(r.deduction_annual_fen, lang),
    );
    line(
        &mut o,
        lang.pick("少交所得税", "tax saved"),
        format!(
            "{}（{} {}）",
            yuan(r.tax_saving_annual_fen, lang),
            lang.pick("比普通扣除多省", "beyond a plain deduction:"),
            r.extra_saving_annual_fen
        ),
    );
    line(
        &mut o,
        lang.pick("即征即退", "refund now"),
        if r.refund_immediately {
            lang.pick("是", "yes")
        } else {
            lang.pick("否", "no")
        },
    );
    line(
        &mut o,
        lang.pick("工会经费", "union dues"),
        yuan(r.union_dues_annual_fen, lang),
    );
    line(
        &mut o,
        lang.pick("每年净成本", "net a year"),
        yuan(r.net_annual_cost_fen, lang),
    );
    o
}

/// Every known parameter as resolved in the scope, in schema order.
pub fn policy_rows(scope: &Scope) -> Vec<ParamRef> {
    schema::KEYS
        .iter()
        .filter_map(|k| scope.find(k.id()).map(|r| r.pref))
        .collect()
}

pub fn policy_show(scope: &Scope, rows: &[ParamRef], lang: Lang) -> String {
    let mut o = String::new();
    let reforms: Vec<&str> = scope.reforms.iter().map(|r| r.name.as_str()).collect();
    let _ = writeln!(
        o,
        "{}（{}） {} {}{}",
        scope.region.name_zh,
        scope.region.code,
        lang.pick("现行参数，日期", "parameters in force on"),
        scope.date,
        if reforms.is_empty() {
            String::new()
        } else {
            format!(" + {}", reforms.join(", "))
        }
    );
    for p in rows {
        let _ = writeln!(o, "  {:<40} {}", p.key, lang.pick(&p.value, &p.value_en));
        let _ = writeln!(o, "      {}", lang.pick(p.label_zh, p.label_en));
        let conf = match lang {
            Lang::Zh => p.source.confidence.label_zh(),
            Lang::En => p.source.confidence.label_en(),
        };
        let by = p
            .reform
            .as_ref()
            .map(|r| format!(" [{r}]"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "      {} {} · {}{by} · {} · {conf}",
            lang.pick("自", "from"),
            p.from,
            lang.pick(&p.region, &p.region_en),
            p.source.doc
        );
        if let Some(u) = &p.source.url {
            let _ = writeln!(o, "      {u}");
        }
    }
    let missing: Vec<&str> = schema::KEYS
        .iter()
        .map(|k| k.key)
        .filter(|k| !rows.iter().any(|r| r.key == *k))
        .collect();
    if !missing.is_empty() {
        let _ = writeln!(
            o,
            "  {}: {}",
            lang.pick("此日期没有数值的参数", "no value on this date"),
            missing.join(", ")
        );
    }
    o
}

pub fn reforms(policy: &Policy, lang: Lang) -> String {
    let mut o = String::new();
    for r in policy.reforms.values() {
        let regions: Vec<String> = r
            .regions
            .iter()
            .filter_map(|c| policy.region_by_code(*c))
            .map(|x| format!("{} {}", x.code, lang.pick(&x.name_zh, &x.name_en)))
            .collect();
        let _ = writeln!(o, "{:<26} {}", r.name, lang.pick(&r.title_zh, &r.title_en));
        let _ = writeln!(o, "    {}", lang.pick(&r.summary_zh, &r.summary_en));
        let _ = writeln!(
            o,
            "    {} {} · {} · {}",
            lang.pick("自", "from"),
            r.from,
            regions.join(", "),
            r.source.doc
        );
    }
    o
}

fn split(o: &mut String, label: &str, s: &Split, lang: Lang) {
    line(
        o,
        label,
        format!(
            "{}（{} {}，{} {}）",
            yuan(s.subsidy_fen, lang),
            lang.pick("中央", "central"),
            yuan(s.central_fen, lang),
            lang.pick("地方", "local"),
            yuan(s.local_fen, lang)
        )
        .replace('（', lang.pick("（", " ("))
        .replace('）', lang.pick("）", ")"))
        .replace('，', lang.pick("，", ", ")),
    );
}

pub fn fiscal(r: &FiscalResult, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}（{}） {} {}",
        lang.pick(&r.region_zh, &r.region_en),
        r.region_code,
        r.year,
        lang.pick(
            "城乡居民医保财政补助分担",
            "resident medical subsidy: central and local shares"
        )
    );
    let share = r.central_share_bps.percent_string();
    line(
        &mut o,
        lang.pick("分担档次", "sharing tier"),
        match lang {
            Lang::Zh => format!("第 {} 档，中央承担 {share}", r.tier),
            Lang::En => format!("tier {}, central share {share}", r.tier),
        },
    );
    split(
        &mut o,
        lang.pick("每人每年补助", "per resident"),
        &r.per_resident,
        lang,
    );
    if let Some(ind) = r.individual_per_resident_fen {
        line(
            &mut o,
            lang.pick("个人每年缴费", "resident pays"),
            yuan(ind, lang),
        );
    }
    line(
        &mut o,
        lang.pick("参保居民", "residents"),
        r.residents.to_string(),
    );
    split(
        &mut o,
        lang.pick("补助合计", "subsidy in all"),
        &r.total,
        lang,
    );
    if let Some(m) = &r.migrants {
        let share = m.hukou_central_share_bps.percent_string();
        let _ = match lang {
            Lang::Zh => writeln!(
                o,
                "跨省流动人口 {} 人，户籍地 {}（第 {} 档，中央承担 {share}）",
                m.migrants, m.hukou_zh, m.hukou_tier
            ),
            Lang::En => writeln!(
                o,
                "{} inter-provincial migrants with hukou in {} (tier {}, central share {share})",
                m.migrants, m.hukou_en, m.hukou_tier
            ),
        };
        split(
            &mut o,
            lang.pick("在户籍地参保", "at hukou place"),
            &m.at_hukou,
            lang,
        );
        split(
            &mut o,
            lang.pick("在常住地参保", "where they live"),
            &m.at_residence,
            lang,
        );
        line(
            &mut o,
            lang.pick("常住地财政多出", "destination +"),
            yuan(m.destination_local_change_fen, lang),
        );
        line(
            &mut o,
            lang.pick("户籍地财政变化", "origin change"),
            yuan(m.origin_local_change_fen, lang),
        );
        line(
            &mut o,
            lang.pick("中央财政变化", "central change"),
            yuan(m.central_change_fen, lang),
        );
        line(
            &mut o,
            lang.pick("合计变化", "total change"),
            yuan(m.total_change_fen, lang),
        );
    }
    for a in &r.assumptions {
        let _ = writeln!(o, "  ⚠ {}", lang.pick(&a.zh, &a.en));
    }
    notes(&mut o, &r.notes, lang);
    o
}
