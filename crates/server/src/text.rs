//! Words for records, shared by the CLI and the pages: region names, month states and the
//! personal work account's summary lines, in Chinese or English.

use anxin_domain::{Fen, RegionCode, YearMonth};
use anxin_policy::{Lang, Policy};
use anxin_records::account::{MonthState, Summary};
use anxin_records::cert::payer_zh;

/// The region's name, if the policy files know the code.
fn known_name(policy: &Policy, code: u32, lang: Lang) -> Option<String> {
    RegionCode::parse(&format!("{code:06}"))
        .ok()
        .and_then(|c| policy.region_by_code(c))
        .map(|r| lang.pick(&r.name_zh, &r.name_en).to_string())
}

pub fn region_name(policy: &Policy, code: u32, lang: Lang) -> String {
    match known_name(policy, code, lang) {
        Some(n) => format!("{n} {code:06}"),
        None => format!("{code:06}"),
    }
}

/// A region as a page names it: its name alone ("杭州市"), the code only where the name is not
/// known (the CLI's [`region_name`] keeps the code beside the name for clerks' files).
pub fn place_name(policy: &Policy, code: u32, lang: Lang) -> String {
    known_name(policy, code, lang).unwrap_or_else(|| format!("{code:06}"))
}

/// A gap's reasons by their names (a code the list does not know stays as written).
fn reason_names(reasons: &[String], lang: Lang) -> Vec<&str> {
    reasons
        .iter()
        .map(|r| match anxin_import::GapReason::parse(r) {
            Some(g) => lang.pick(g.zh(), g.as_str()),
            None => r.as_str(),
        })
        .collect()
}

pub fn month_text(index: i32) -> String {
    YearMonth::from_index(index)
        .map(|m| m.to_string())
        .unwrap_or_default()
}

pub fn state_text(state: MonthState, lang: Lang) -> &'static str {
    match (state, lang) {
        (MonthState::Paid, Lang::Zh) => "已缴",
        (MonthState::Excused, Lang::Zh) => "免缴",
        (MonthState::Deferred, Lang::Zh) => "缓缴",
        (MonthState::Unpaid, Lang::Zh) => "未缴",
        (MonthState::Missing, Lang::Zh) => "无记录",
        (MonthState::Paid, Lang::En) => "paid",
        (MonthState::Excused, Lang::En) => "excused",
        (MonthState::Deferred, Lang::En) => "deferred",
        (MonthState::Unpaid, Lang::En) => "unpaid",
        (MonthState::Missing, Lang::En) => "no record",
    }
}

pub fn render_summary(s: &Summary, policy: &Policy, lang: Lang) -> String {
    let mut out = String::new();
    let place = match s.region {
        None => lang.pick("全部地区合计", "all regions").to_string(),
        Some(code) => region_name(policy, code, lang),
    };
    let run = |r: &Option<anxin_records::account::Run>| match (r, lang) {
        (Some(r), Lang::Zh) => format!("{} 个月（{}~{}）", r.months, r.from, r.to),
        (Some(r), Lang::En) => format!("{} months ({}~{})", r.months, r.from, r.to),
        (None, _) => "0".into(),
    };
    out.push_str(&match lang {
        Lang::Zh => format!(
            "  {place}：累计 {} 个月（其中补缴 {}），最长连续 {}，当前连续 {}，缺口 {} 段；缴费 {} 元，记入个人账户 {} 元\n",
            s.paid_months, s.back_paid_months, run(&s.longest_run), run(&s.current_run), s.gaps.len(),
            Fen(s.amount_fen).yuan_string(), Fen(s.account_fen).yuan_string()
        ),
        Lang::En => format!(
            "  {place}: {} months in all ({} back-paid), longest run {}, current run {}, {} gaps; paid {} yuan, {} to the personal account\n",
            s.paid_months, s.back_paid_months, run(&s.longest_run), run(&s.current_run), s.gaps.len(),
            Fen(s.amount_fen).yuan_string(), Fen(s.account_fen).yuan_string()
        ),
    });
    if s.region.is_none() && !s.by_payer_fen.is_empty() {
        let parts: Vec<String> = s
            .by_payer_fen
            .iter()
            .map(|(payer, fen)| {
                format!(
                    "{} {}",
                    lang.pick(payer_zh(payer), payer),
                    Fen(*fen).yuan_string()
                )
            })
            .collect();
        out.push_str(&format!(
            "    {}{}\n",
            lang.pick("按缴费方：", "by payer: "),
            parts.join(lang.pick("，", ", "))
        ));
    }
    for gap in &s.gaps {
        let reasons = if gap.reasons.is_empty() {
            String::new()
        } else {
            let named = reason_names(&gap.reasons, lang);
            format!(" ({})", named.join(", "))
        };
        out.push_str(&format!(
            "    {} {}~{} {} {}{}\n",
            lang.pick("缺口", "gap"),
            gap.from,
            gap.to,
            match lang {
                Lang::Zh => format!("{} 个月", gap.months),
                Lang::En => format!("{} months", gap.months),
            },
            state_text(gap.state, lang),
            reasons
        ));
    }
    out
}

/// A school-driven enrolment's lapse risk, in words.
pub fn risk_text(risk: &anxin_records::identify::Risk, lang: Lang) -> &'static str {
    use anxin_records::identify::Risk;
    match risk {
        Risk::Paying => lang.pick("正常缴费", "paying"),
        Risk::MinimumOnly => lang.pick("只按最低档缴费", "paying the minimum only"),
        Risk::Stopped => lang.pick("已断缴（断保风险）", "stopped (lapse risk)"),
    }
}

/// A summary as a card for the record page (`templates/summary_card.html`): where, the
/// months as a large figure, then each fact on its own line, the gaps with their state and
/// reasons. The CLI keeps [`render_summary`]'s lines.
pub struct SummaryCard {
    pub place: String,
    pub months: String,
    pub facts: Vec<(&'static str, String)>,
    /// "有 N 段没有缴费：" (empty: no gap).
    pub gaps_title: String,
    pub gaps: Vec<String>,
}

pub fn summary_card(s: &Summary, policy: &Policy, lang: Lang) -> SummaryCard {
    let place = match s.region {
        None => lang.pick("全部地区合计", "All regions").to_string(),
        Some(code) => place_name(policy, code, lang),
    };
    let months = |n: u32| match lang {
        Lang::Zh => format!("{n} 个月"),
        Lang::En => format!("{n} months"),
    };
    let run = |r: &Option<anxin_records::account::Run>| match r {
        Some(r) => format!("{}（{} ~ {}）", months(r.months), r.from, r.to),
        None => lang.pick("无", "none").to_string(),
    };
    let yuan = |fen: i64| format!("{} {}", Fen(fen).yuan_string(), lang.pick("元", "yuan"));
    let mut facts: Vec<(&'static str, String)> = vec![
        (
            lang.pick("其中补缴", "Back-paid"),
            months(s.back_paid_months),
        ),
        (lang.pick("最长连续", "Longest run"), run(&s.longest_run)),
        (lang.pick("当前连续", "Current run"), run(&s.current_run)),
        (lang.pick("缴费合计", "Paid in all"), yuan(s.amount_fen)),
        (
            lang.pick("记入个人账户", "To the personal account"),
            yuan(s.account_fen),
        ),
    ];
    if s.region.is_none() && !s.by_payer_fen.is_empty() {
        let parts: Vec<String> = s
            .by_payer_fen
            .iter()
            .map(|(payer, fen)| format!("{} {}", lang.pick(payer_zh(payer), payer), yuan(*fen)))
            .collect();
        facts.push((
            lang.pick("谁缴的", "Who paid"),
            parts.join(lang.pick("；", "; ")),
        ));
    }
    let gaps_title = match (s.gaps.len(), lang) {
        (0, _) => String::new(),
        (n, Lang::Zh) => format!("有 {n} 段没有缴费："),
        (n, Lang::En) => format!("{n} gaps without payment:"),
    };
    let gaps = s
        .gaps
        .iter()
        .map(|gap| {
            let reasons = reason_names(&gap.reasons, lang);
            let mut line = format!(
                "{} ~ {} · {} · {}",
                gap.from,
                gap.to,
                months(gap.months),
                state_text(gap.state, lang)
            );
            if !reasons.is_empty() {
                line.push_str(&format!(
                    " · {}{}",
                    lang.pick("原因：", "why: "),
                    reasons.join(lang.pick("、", ", "))
                ));
            }
            line
        })
        .collect();
    SummaryCard {
        place,
        months: months(s.paid_months),
        facts,
        gaps_title,
        gaps,
    }
}
