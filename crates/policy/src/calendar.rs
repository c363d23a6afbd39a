//! China's official working-day calendar as data: `policy/calendar/YYYY.toml`, one file per
//! year from the State Council's notice (国务院办公厅关于YYYY年部分节假日安排的通知), each
//! holiday with its days off and the weekend days worked instead (调休). The counting is
//! [`anxin_domain::WorkCalendar`]; this module loads the files, keeps each year's source for
//! the trace, and turns a date outside the recorded years into a bilingual error (never a
//! weekday guess). Every legal clock (the transfer deadlines, issue 15's case clocks) counts
//! working days here.

use std::collections::BTreeMap;

use anxin_domain::{CalendarError, ErrorKind, WorkCalendar};
use jiff::civil::Date;
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::load::{Confidence, LoadError, Source, line_of};

/// One holiday of a notice.
#[derive(Clone, Debug)]
pub struct Holiday {
    pub name_zh: String,
    pub name_en: String,
    /// The notice's own sentence.
    pub text: String,
    pub first: Date,
    pub last: Date,
    /// Weekend days worked instead.
    pub work: Vec<Date>,
}

/// One year's notice.
#[derive(Clone, Debug)]
pub struct YearNotice {
    pub year: i16,
    pub issued: Date,
    pub source: Source,
    pub holidays: Vec<Holiday>,
}

/// The official working-day calendar over the recorded years.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    pub work: WorkCalendar,
    pub notices: BTreeMap<i16, YearNotice>,
}

fn error(e: CalendarError) -> Error {
    let kind = match e {
        CalendarError::Outside { .. } => ErrorKind::NotFound,
        CalendarError::Invalid { .. } => ErrorKind::BadInput,
    };
    let t = e.text();
    Error::new(kind, t.zh.clone(), t.en.clone())
}

impl Calendar {
    /// The `n`-th working day after `d`; refused (not found) outside the recorded years.
    pub fn add_working_days(&self, d: Date, n: u32) -> Result<Date> {
        self.work.add_working_days(d, n).map_err(error)
    }

    /// Working days after `from` up to and including `to` (negative if `to` is earlier).
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<i64> {
        self.work.working_days_between(from, to).map_err(error)
    }

    pub fn is_working_day(&self, d: Date) -> Result<bool> {
        self.work.is_working_day(d).map_err(error)
    }

    /// The notice of `d`'s year, for the trace.
    pub fn notice(&self, d: Date) -> Option<&YearNotice> {
        self.notices.get(&d.year())
    }

    /// The holidays (and make-up days) that fall after `from` up to `to`, for an explanation
    /// of why a deadline is later than weekdays alone would make it.
    pub fn holidays_between(&self, from: Date, to: Date) -> Vec<&Holiday> {
        self.notices
            .values()
            .flat_map(|n| &n.holidays)
            .filter(|h| {
                (h.first <= to && h.last > from) || h.work.iter().any(|w| *w > from && *w <= to)
            })
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i64>,
    source: String,
    url: Option<String>,
    issued: toml::value::Datetime,
    confidence: Confidence,
    note: Option<String>,
    holiday: Vec<Spanned<RawHoliday>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name_zh: String,
    name_en: String,
    text: String,
    off: [toml::value::Datetime; 2],
    #[serde(default)]
    work: Vec<toml::value::Datetime>,
}

fn date_of(v: &toml::value::Datetime) -> std::result::Result<Date, String> {
    v.to_string()
        .parse::<Date>()
        .map_err(|_| format!("'{v}' is not a date: write YYYY-MM-DD"))
}

/// Loads `calendar/*.toml` from the (path, text) pairs, pushing every problem to `errors`.
pub(crate) fn load(files: &[(String, String)], errors: &mut Vec<LoadError>) -> Calendar {
    let mut notices: BTreeMap<i16, YearNotice> = BTreeMap::new();
    let mut off = Vec::new();
    let mut on = Vec::new();
    let before = errors.len();
    for (name, text) in files.iter().filter(|(n, _)| n.starts_with("calendar/")) {
        let mut err = |offset: usize, message: String| {
            errors.push(LoadError {
                file: name.clone(),
                line: line_of(text, offset),
                message,
            })
        };
        let raw: RawYear = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                err(
                    e.span().map(|s| s.start).unwrap_or(0),
                    e.message().to_string(),
                );
                continue;
            }
        };
        let year = match i16::try_from(*raw.year.get_ref()) {
            Ok(y) if (1949..=2200).contains(&y) => y,
            _ => {
                err(raw.year.span().start, "year must be 1949–2200".into());
                continue;
            }
        };
        if notices.contains_key(&year) {
            err(raw.year.span().start, format!("year {year} is given twice"));
            continue;
        }
        if raw.source.trim().is_empty() {
            err(
                0,
                "a calendar year needs its source (the State Council notice)".into(),
            );
        }
        if matches!(
            raw.confidence,
            Confidence::OfficialQuoted | Confidence::OfficialUrlOnly
        ) && raw.url.is_none()
        {
            err(0, "marked official but has no url".into());
        }
        let issued = match date_of(&raw.issued) {
            Ok(d) => d,
            Err(m) => {
                err(0, m);
                continue;
            }
        };
        let mut holidays = Vec::new();
        for sh in &raw.holiday {
            let at = sh.span().start;
            let h = sh.get_ref();
            let dates = (
                date_of(&h.off[0]),
                date_of(&h.off[1]),
                h.work
                    .iter()
                    .map(date_of)
                    .collect::<std::result::Result<Vec<_>, _>>(),
            );
            let (first, last, work) = match dates {
                (Ok(a), Ok(b), Ok(w)) => (a, b, w),
                (Err(m), _, _) | (_, Err(m), _) | (_, _, Err(m)) => {
                    err(at, m);
                    continue;
                }
            };
            if first > last || last.since(first).map(|s| s.get_days()).unwrap_or(99) > 15 {
                err(
                    at,
                    format!(
                        "off = [{first}, {last}]: the first day must not be after the last, and a holiday is at most 16 days"
                    ),
                );
                continue;
            }
            let mut d = first;
            loop {
                off.push(d);
                if d >= last {
                    break;
                }
                match d.tomorrow() {
                    Ok(n) => d = n,
                    Err(_) => break,
                }
            }
            on.extend(work.iter().copied());
            holidays.push(Holiday {
                name_zh: h.name_zh.clone(),
                name_en: h.name_en.clone(),
                text: h.text.clone(),
                first,
                last,
                work,
            });
        }
        notices.insert(
            year,
            YearNotice {
                year,
                issued,
                source: Source {
                    doc: raw.source.clone(),
                    url: raw.url.clone(),
                    confidence: raw.confidence,
                    note: raw.note.clone(),
                },
                holidays,
            },
        );
    }
    if errors.len() > before {
        return Calendar::default();
    }
    // A holiday's days off may run over a weekend of the year before (e.g. 2024's New Year
    // joined to the weekend of 30–31 December 2023); only the days in recorded years count.
    let years: Vec<i16> = notices.keys().copied().collect();
    off.retain(|d: &Date| years.contains(&d.year()));
    match WorkCalendar::new(years, off, on) {
        Ok(work) => Calendar { work, notices },
        Err(e) => {
            errors.push(LoadError {
                file: "calendar/".into(),
                line: 0,
                message: e.text().en.clone(),
            });
            Calendar::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> Calendar {
        crate::Policy::embedded().unwrap().calendar
    }

    #[test]
    fn records_2024_to_2026() {
        let c = cal();
        let years: Vec<i16> = c.notices.keys().copied().collect();
        assert!(years.contains(&2024) && years.contains(&2025) && years.contains(&2026));
        for n in c.notices.values() {
            // A notice's own title, or a provisional year from the law alone (2027.toml).
            let provisional = n.source.confidence == crate::load::Confidence::Assumption
                && n.source.doc.contains("全国年节及纪念日放假办法");
            assert!(
                n.source.doc.contains("节假日安排") || provisional,
                "{}",
                n.year
            );
        }
    }

    /// Days checked one by one against the notices' own sentences.
    #[test]
    fn days_by_the_notices() {
        let c = cal();
        let working = |y, m, d| c.is_working_day(date(y, m, d)).unwrap();
        // 2024: 2月4日（星期日）上班; 2月9日 除夕 only "encouraged" off; 2月10–17日 off.
        assert!(working(2024, 2, 4));
        assert!(working(2024, 2, 9));
        assert!(!working(2024, 2, 16));
        assert!(working(2024, 2, 18));
        // 2025: 元旦 one day, 不调休; 5月2日 off (a Friday); 4月27日 Sunday worked.
        assert!(!working(2025, 1, 1));
        assert!(!working(2025, 5, 2));
        assert!(working(2025, 4, 27));
        assert!(!working(2025, 10, 8));
        assert!(working(2025, 10, 11));
        // 2026: 2月14日、2月28日（周六）上班; 2月23日（周一）off.
        assert!(working(2026, 2, 14));
        assert!(!working(2026, 2, 23));
        assert!(working(2026, 2, 28));
    }

    #[test]
    fn fifteen_working_days_over_the_national_day_2025() {
        let c = cal();
        // Request on Friday 2025-09-26: Sat 27 off, Sun 28 worked (1), Mon 29 (2), Tue 30 (3),
        // 1–8 Oct off, Thu 9 (4), Fri 10 (5), Sat 11 worked (6), 13–17 (7–11), 20–23 (12–15).
        let d = c.add_working_days(date(2025, 9, 26), 15).unwrap();
        assert_eq!(d, date(2025, 10, 23));
        assert_eq!(
            c.working_days_between(date(2025, 9, 26), date(2025, 10, 23))
                .unwrap(),
            15
        );
        let hs = c.holidays_between(date(2025, 9, 26), d);
        assert!(hs.iter().any(|h| h.name_zh.contains("国庆")));
    }

    #[test]
    fn refuses_unrecorded_years_with_a_clear_error() {
        let c = cal();
        let e = c.add_working_days(date(2023, 12, 29), 1).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotFound);
        assert!(
            e.zh.contains("2023") && e.zh.contains("国务院办公厅"),
            "{}",
            e.zh
        );
        assert!(e.en.contains("does not guess"), "{}", e.en);
        let last = *c.notices.keys().last().unwrap();
        let e = c.add_working_days(date(last, 12, 1), 40).unwrap_err();
        assert!(e.zh.contains(&(last + 1).to_string()));
    }

    #[test]
    fn bad_files_are_refused_with_file_and_line() {
        let files = vec![(
            "calendar/2030.toml".to_string(),
            "year = 2030\nsource = \"x\"\nissued = 2029-11-01\nconfidence = \"assumption\"\n\n[[holiday]]\nname_zh = \"a\"\nname_en = \"a\"\ntext = \"a\"\noff = [2030-01-02, 2030-01-01]\n".to_string(),
        )];
        let mut errors = Vec::new();
        load(&files, &mut errors);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, 6);
        let files = vec![(
            "calendar/2030.toml".to_string(),
            "year = 2030\nsource = \"x\"\nissued = 2029-11-01\nconfidence = \"assumption\"\n\n[[holiday]]\nname_zh = \"a\"\nname_en = \"a\"\ntext = \"a\"\noff = [2030-01-01, 2030-01-01]\nwork = [2030-01-07]\n".to_string(),
        )];
        let mut errors = Vec::new();
        load(&files, &mut errors);
        assert!(errors[0].message.contains("weekday"), "{errors:?}");
    }
}
