//! Excel workbooks (.xlsx): the first worksheet, its first non-empty row as the header.
//!
//! Cells are read one by one (calamine's cell reader) and only non-empty ones are kept, so
//! a sheet whose used range claims a million rows or columns costs only what it holds.

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::panic::AssertUnwindSafe;

use calamine::{DataRef, Reader, Xlsx};

use crate::Kind;
use crate::cell::{Cell, float_text};
use crate::columns::{self, Header, map_header};
use crate::error::FileError;
use crate::source::{Item, Source};

/// Excel's last column is XFD (16384 columns).
const EXCEL_COLUMNS: u32 = 16_384;

type Sheet = BTreeMap<u32, Vec<(u32, Cell)>>;

pub(crate) struct XlsxSource {
    rows: std::collections::btree_map::IntoIter<u32, Vec<(u32, Cell)>>,
    by_column: Vec<Option<usize>>,
    kind: Kind,
    ignored: Vec<String>,
}

fn xlsx_error(e: impl std::fmt::Display) -> FileError {
    FileError::Xlsx {
        message: e.to_string(),
    }
}

fn convert(v: &DataRef<'_>) -> Cell {
    match v {
        DataRef::Empty => Cell::Empty,
        DataRef::Int(i) => Cell::Int(*i),
        DataRef::Float(f) => Cell::Float(*f),
        DataRef::String(s) | DataRef::DateTimeIso(s) => Cell::text(s),
        DataRef::SharedString(s) => Cell::text(s),
        DataRef::Bool(b) => Cell::Bool(*b),
        DataRef::DateTime(dt) => {
            let serial = dt.as_f64();
            // calamine's conversion overflows outside Excel's own range: check first.
            if dt.is_datetime() && serial.is_finite() && (1.0..2_958_466.0).contains(&serial) {
                let (y, m, d, ..) = dt.to_ymd_hms_milli();
                let date = i16::try_from(y)
                    .ok()
                    .and_then(|y| jiff::civil::Date::new(y, m as i8, d as i8).ok());
                match date {
                    Some(date) => Cell::Date(date),
                    None => Cell::Unusable {
                        zh: "不存在的日期".into(),
                        en: "a date that does not exist".into(),
                    },
                }
            } else if dt.is_datetime() {
                Cell::Float(serial)
            } else {
                Cell::Unusable {
                    zh: "时长".into(),
                    en: "a duration".into(),
                }
            }
        }
        DataRef::DurationIso(_) => Cell::Unusable {
            zh: "时长".into(),
            en: "a duration".into(),
        },
        DataRef::Error(e) => Cell::Unusable {
            zh: format!("Excel 错误值 {e}"),
            en: format!("the Excel error {e}"),
        },
    }
}

fn read_sheet<RS: Read + Seek>(rs: RS, max_rows: usize) -> Result<Sheet, FileError> {
    let mut workbook: Xlsx<RS> = Xlsx::new(rs).map_err(|e| match e {
        calamine::XlsxError::Password => FileError::LegacyExcel,
        other => xlsx_error(other),
    })?;
    let name = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or(FileError::NoSheet)?;
    let mut reader = workbook.worksheet_cells_reader(&name).map_err(xlsx_error)?;
    let mut sheet: Sheet = BTreeMap::new();
    let limit = max_rows.saturating_add(1);
    while let Some(cell) = reader.next_cell().map_err(xlsx_error)? {
        let (row, col) = cell.get_position();
        if col >= EXCEL_COLUMNS {
            continue;
        }
        let value = convert(cell.get_value());
        if value.is_blank() {
            continue;
        }
        sheet.entry(row).or_default().push((col, value));
        if sheet.len() > limit {
            return Err(FileError::TooManyRows {
                found: (sheet.len() as u64).saturating_sub(1),
                max: max_rows,
            });
        }
    }
    Ok(sheet)
}

/// Opens the first sheet. Returns the source, the header and the number of data rows.
pub(crate) fn xlsx_source<RS: Read + Seek>(
    rs: RS,
    kind: Kind,
    max_rows: usize,
) -> Result<(XlsxSource, Header, u64), FileError> {
    // A damaged workbook must not take the caller down with it, whatever the parser does.
    let sheet = std::panic::catch_unwind(AssertUnwindSafe(move || read_sheet(rs, max_rows)))
        .unwrap_or_else(|_| {
            Err(FileError::Xlsx {
                message: "damaged workbook".into(),
            })
        })?;
    let mut rows = sheet.into_iter();
    let Some((_, header_cells)) = rows.next() else {
        return Err(FileError::Empty);
    };
    let width = header_cells
        .iter()
        .map(|(c, _)| *c as usize)
        .max()
        .map_or(0, |m| m.saturating_add(1));
    let mut headers = vec![String::new(); width];
    for (c, v) in &header_cells {
        if let Some(slot) = headers.get_mut(*c as usize) {
            *slot = match v {
                Cell::Float(f) => float_text(*f),
                other => other.raw_display(),
            };
        }
    }
    let header = map_header(kind, &headers)?;
    let total = rows.len() as u64;
    let source = XlsxSource {
        rows,
        by_column: header.by_column.clone(),
        kind,
        ignored: header.ignored.clone(),
    };
    Ok((source, header, total))
}

impl Source for XlsxSource {
    fn ignored(&self) -> &[String] {
        &self.ignored
    }

    fn next_item(&mut self) -> Option<Item> {
        let nfields = columns::fields(self.kind).len();
        for (r, values) in self.rows.by_ref() {
            let mut cells = vec![Cell::Empty; nfields];
            for (c, v) in values {
                if let Some(Some(f)) = self.by_column.get(c as usize)
                    && let Some(slot) = cells.get_mut(*f)
                {
                    *slot = v;
                }
            }
            if cells.iter().all(Cell::is_blank) {
                continue;
            }
            return Some(Item::Record {
                row: u64::from(r).saturating_add(1),
                cells,
            });
        }
        None
    }
}
