//! Templates a clerk fills in: every column of a kind of file under its Chinese header, and
//! one example row taken from the shipped examples (`examples/records/`), as .xlsx (every
//! cell text, so Excel keeps IDs and months as typed) or as UTF-8 CSV. [`ORDER`] is the order
//! the imports need: a contribution names a person (and a payer) already registered.

use crate::Kind;
use crate::columns::fields;

/// The order files are imported in: organisations and persons before the children and
/// contributions that name them, school applications last.
pub const ORDER: [Kind; 5] = [
    Kind::Orgs,
    Kind::Persons,
    Kind::Children,
    Kind::Contributions,
    Kind::Applications,
];

/// The shipped example of each kind: a header row of Chinese names and rows of values.
fn example(kind: Kind) -> &'static str {
    match kind {
        Kind::Persons => include_str!("../../../examples/records/persons.csv"),
        Kind::Orgs => include_str!("../../../examples/records/orgs.csv"),
        Kind::Children => include_str!("../../../examples/records/children.csv"),
        Kind::Contributions => include_str!("../../../examples/records/contributions.csv"),
        Kind::Applications => include_str!("../../../examples/records/applications.csv"),
    }
}

/// Every column's header (the canonical Chinese name, "*" before a required one) and the
/// example row's value under it ("" where the example leaves it out).
pub fn template_rows(kind: Kind) -> (Vec<String>, Vec<String>) {
    let mut lines = example(kind).lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let row: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let mut names = Vec::new();
    let mut values = Vec::new();
    for field in fields(kind) {
        let at = header
            .iter()
            .position(|h| field.zh.contains(h) || *h == field.key);
        let mark = if field.required { "*" } else { "" };
        names.push(format!("{mark}{}", field.zh_name()));
        values.push(at.and_then(|i| row.get(i)).unwrap_or(&"").to_string());
    }
    (names, values)
}

/// The template as UTF-8 CSV (with a byte-order mark, so Excel opens it as UTF-8).
pub fn template_csv(kind: Kind) -> Vec<u8> {
    let (names, values) = template_rows(kind);
    let mut out = "\u{feff}".as_bytes().to_vec();
    let mut w = csv::Writer::from_writer(&mut out);
    // Writing to memory cannot fail.
    let _ = w.write_record(&names);
    let _ = w.write_record(&values);
    let _ = w.flush();
    drop(w);
    out
}

/// The template as an .xlsx workbook: the header in bold, the example row, every cell text.
pub fn template_xlsx(kind: Kind) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let (names, values) = template_rows(kind);
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let text = rust_xlsxwriter::Format::new().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name(kind.zh())?;
    for (c, (name, value)) in names.iter().zip(&values).enumerate() {
        let c = u16::try_from(c).unwrap_or(u16::MAX);
        sheet.set_column_format(c, &text)?;
        sheet.set_column_width(c, 20)?;
        sheet.write_string_with_format(0, c, name, &bold)?;
        if !value.is_empty() {
            sheet.write_string_with_format(1, c, value, &text)?;
        }
    }
    book.save_to_buffer()
}
