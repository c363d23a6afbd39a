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

/// A date as a worker reads it: `2026年12月26日（周六）`, in English `Sat 26 Dec 2026`.
pub fn date_text(date: jiff::civil::Date, lang: Lang) -> String {
    use jiff::civil::Weekday;
    match lang {
        Lang::Zh => {
            let day = match date.weekday() {
                Weekday::Monday => "一",
                Weekday::Tuesday => "二",
                Weekday::Wednesday => "三",
                Weekday::Thursday => "四",
                Weekday::Friday => "五",
                Weekday::Saturday => "六",
                Weekday::Sunday => "日",
            };
            format!(
                "{}年{}月{}日（周{day}）",
                date.year(),
                date.month(),
                date.day()
            )
        }
        Lang::En => date.strftime("%a %-d %b %Y").to_string(),
    }
}

/// [`date_text`] in Chinese: `2026年12月26日（周六）`.
pub fn date_zh(date: jiff::civil::Date) -> String {
    date_text(date, Lang::Zh)
}

/// The date of a timestamp as the records write it (`2026-12-26 00:00 +08:00`, or a bare
/// `2026-12-26`); `None` for anything else.
pub fn date_in(text: &str) -> Option<jiff::civil::Date> {
    text.trim().get(..10)?.parse().ok()
}

/// A deadline as a worker reads it: the date, then the working days left by the official
/// calendar (`policy/calendar`), or how many are past: `2026年12月26日（周六），还剩 5 个工作日`.
/// Where the calendar has no notice for the years between, the date alone (never a weekday
/// guess).
pub fn deadline_text(
    due: jiff::civil::Date,
    today: jiff::civil::Date,
    policy: &Policy,
    lang: Lang,
) -> String {
    let date = date_text(due, lang);
    let Ok(days) = policy.calendar.working_days_between(today, due) else {
        return date;
    };
    let late = due < today;
    match (lang, late, days.abs()) {
        (Lang::Zh, false, 0) => format!("{date}，今天截止"),
        (Lang::En, false, 0) => format!("{date}, due today"),
        (Lang::Zh, false, d) => format!("{date}，还剩 {d} 个工作日"),
        (Lang::En, false, 1) => format!("{date}, 1 working day left"),
        (Lang::En, false, d) => format!("{date}, {d} working days left"),
        (Lang::Zh, true, 0) => format!("{date}，已过期"),
        (Lang::En, true, 0) => format!("{date}, past"),
        (Lang::Zh, true, d) => format!("{date}，已超过 {d} 个工作日"),
        (Lang::En, true, 1) => format!("{date}, 1 working day overdue"),
        (Lang::En, true, d) => format!("{date}, {d} working days overdue"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn dates_read_as_a_worker_reads_them() {
        let d = date(2026, 12, 26);
        assert_eq!(date_zh(d), "2026年12月26日（周六）");
        assert_eq!(date_text(d, Lang::En), "Sat 26 Dec 2026");
        assert_eq!(date_in("2026-12-26 00:00 +08:00"), Some(d));
        assert_eq!(date_in("2026-12-26"), Some(d));
        assert_eq!(date_in("soon"), None);
        assert_eq!(date_in("2026-13-01 00:00"), None);
    }

    #[test]
    fn deadlines_count_working_days_by_the_official_calendar() {
        let policy = Policy::embedded().expect("embedded policy loads");
        // National Day 2026 (off 1–7 October, Saturday 10 October worked): from Wednesday
        // 30 September to Friday 9 October only the 8th and the 9th are working days.
        assert_eq!(
            deadline_text(date(2026, 10, 9), date(2026, 9, 30), &policy, Lang::Zh),
            "2026年10月9日（周五），还剩 2 个工作日"
        );
        assert_eq!(
            deadline_text(date(2026, 10, 9), date(2026, 9, 30), &policy, Lang::En),
            "Fri 9 Oct 2026, 2 working days left"
        );
        assert_eq!(
            deadline_text(date(2026, 10, 9), date(2026, 10, 9), &policy, Lang::Zh),
            "2026年10月9日（周五），今天截止"
        );
        // Past it: the make-up Saturday counts as a working day.
        assert_eq!(
            deadline_text(date(2026, 10, 9), date(2026, 10, 12), &policy, Lang::Zh),
            "2026年10月9日（周五），已超过 2 个工作日"
        );
        // A year without a notice: the date alone, never a weekday guess.
        assert_eq!(
            deadline_text(date(2031, 3, 3), date(2026, 10, 12), &policy, Lang::Zh),
            "2031年3月3日（周一）"
        );
    }
}
