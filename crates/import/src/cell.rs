//! One cell of input as it arrived, before it is read as the type of its column, and the
//! masking of values shown in rejections.

use jiff::civil::Date;

/// The longest value a cell may hold, in bytes of UTF-8.
pub(crate) const MAX_FIELD_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Empty,
    /// Text: every CSV field, xlsx strings, JSON strings.
    Text(String),
    /// A JSON number as its literal text, so money never passes through a float.
    Number(String),
    /// A spreadsheet number.
    Float(f64),
    Int(i64),
    /// A spreadsheet cell formatted as a date.
    Date(Date),
    Bool(bool),
    /// Longer than [`MAX_FIELD_BYTES`]; holds the length in bytes.
    TooLong(usize),
    /// Not a value: an Excel error such as #N/A, a duration, a JSON object or array.
    Unusable {
        zh: String,
        en: String,
    },
}

impl Cell {
    pub fn text(s: &str) -> Cell {
        if s.len() > MAX_FIELD_BYTES {
            Cell::TooLong(s.len())
        } else if s.trim().is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s.to_string())
        }
    }

    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a person would read it (before masking).
    pub fn raw_display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(s) => s.clone(),
            Cell::Float(f) => float_text(*f),
            Cell::Int(i) => i.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Cell::TooLong(n) => format!("<{n} bytes>"),
            Cell::Unusable { en, .. } => en.clone(),
        }
    }
}

/// A float as text: whole numbers without ".0" (330100, not 330100.0).
pub(crate) fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Full-width ASCII forms (０-９, Ａ-Ｚ, ，．－／ …) and the ideographic space as ASCII.
pub(crate) fn halfwidth(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Cuts a value to 64 characters and masks every run of 15 or more digits (which could be
/// a resident ID) to its first six digits and `****`.
pub(crate) fn shown(s: &str) -> String {
    let mut cut: String = s.chars().take(64).collect();
    if s.chars().nth(64).is_some() {
        cut.push('…');
    }
    scrub_digits(&cut)
}

fn scrub_digits(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().count() >= 15 {
            out.extend(run.chars().take(6));
            out.push_str("****");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        let digitish = c.is_ascii_digit()
            || ('\u{FF10}'..='\u{FF19}').contains(&c)
            || ((c == 'X' || c == 'x' || c == 'Ｘ') && run.chars().count() >= 14);
        if digitish {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// An ID column's value that did not parse: its first six characters (the region code of
/// registration) and `****`; never more.
pub(crate) fn mask_id_text(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() {
        return String::new();
    }
    let mut out: String = t.chars().take(6).collect();
    out.push_str("****");
    out
}

/// A name: its first character and `**`.
pub(crate) fn mask_name(s: &str) -> String {
    let t = s.trim();
    match t.chars().next() {
        Some(c) => format!("{c}**"),
        None => String::new(),
    }
}

/// An Excel serial day number (1900 system) as a date; serials before 1900-03-01, where
/// Excel counts a 29 February 1900 that never was, are refused.
pub(crate) fn excel_serial_date(serial: f64) -> Option<Date> {
    if !serial.is_finite() || !(61.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64;
    let epoch = Date::new(1899, 12, 30).ok()?;
    epoch
        .checked_add(jiff::Span::new().try_days(days).ok()?)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking() {
        assert_eq!(shown("id 11010519491231002X here"), "id 110105**** here");
        assert_eq!(shown("3500.00"), "3500.00");
        assert_eq!(
            shown("１１０１０５１９４９１２３１００２Ｘ"),
            "１１０１０５****"
        );
        assert_eq!(mask_id_text("11010519491231002Y"), "110105****");
        assert_eq!(mask_name("张三"), "张**");
        assert_eq!(halfwidth("３，５００．００"), "3,500.00");
        assert_eq!(float_text(330100.0), "330100");
        assert_eq!(float_text(1.5), "1.5");
    }

    #[test]
    fn serial_dates() {
        assert_eq!(
            excel_serial_date(45943.5),
            Date::new(2025, 10, 13).ok(),
            "calamine's own example"
        );
        assert_eq!(excel_serial_date(61.0), Date::new(1900, 3, 1).ok());
        assert_eq!(excel_serial_date(f64::NAN), None);
        assert_eq!(excel_serial_date(1e300), None);
    }
}
