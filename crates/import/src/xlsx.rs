//! Excel workbooks (.xlsx): the first worksheet, its first non-empty row as the header.
//!
//! Memory stays bounded whatever the file (see [`crate::zipguard`]): before calamine opens
//! the workbook every part of the zip is inflated once, counting, and refused if it is
//! larger than it may be (the shared-strings table and the other parts read whole), if a
//! single piece of markup or a single cell is longer than `zipguard::MAX_CELL_XML`, or if there are
//! too many parts or shared strings. The sheet is then streamed (calamine's cell reader) on a
//! worker thread: a first pass finds the header and counts the rows, a second hands the
//! rows out one at a time through a small bounded channel, each already cut to the fields of
//! its kind.

use std::io::{Read, Seek};
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{DataRef, Reader, Xlsx};

use crate::Kind;
use crate::cell::{Cell, float_text};
use crate::columns::{self, Header, MAX_COLUMNS, map_header};
use crate::error::FileError;
use crate::source::{Item, Source};
use crate::zipguard;

/// Excel's last column is XFD (16384 columns).
const EXCEL_COLUMNS: u32 = 16_384;

/// Excel's last row.
const EXCEL_ROWS: usize = 1_048_576;

/// Rows waiting between the reading thread and the caller.
const CHANNEL_ROWS: usize = 16;

enum Msg {
    Start(Result<(Header, u64), FileError>),
    Row(u64, Vec<Cell>),
    Fatal(u64, FileError),
}

pub(crate) struct XlsxSource {
    rx: Receiver<Msg>,
    ignored: Vec<String>,
    last_row: u64,
    done: bool,
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

fn open_error(e: calamine::XlsxError) -> FileError {
    match e {
        calamine::XlsxError::Password => FileError::LegacyExcel,
        other => xlsx_error(other),
    }
}

/// Walks the non-blank cells of the first sheet, in file order, grouped into rows (a run of
/// cells with the same row number). `each` gets the row number and its cells and says
/// whether to go on.
fn walk_rows<RS: Read + Seek>(
    workbook: &mut Xlsx<RS>,
    name: &str,
    mut each: impl FnMut(u32, &mut Vec<(u32, Cell)>) -> Result<bool, FileError>,
) -> Result<(), FileError> {
    let mut reader = workbook.worksheet_cells_reader(name).map_err(xlsx_error)?;
    let mut current: Option<u32> = None;
    let mut cells: Vec<(u32, Cell)> = Vec::new();
    while let Some(cell) = reader.next_cell().map_err(xlsx_error)? {
        let (row, col) = cell.get_position();
        if current != Some(row) {
            if let Some(r) = current
                && !cells.is_empty()
                && !each(r, &mut cells)?
            {
                return Ok(());
            }
            cells.clear();
            current = Some(row);
        }
        if col >= EXCEL_COLUMNS {
            continue;
        }
        let value = convert(cell.get_value());
        if value.is_blank() {
            continue;
        }
        // A row holds at most one cell per column: more are a damaged sheet, not kept.
        if cells.len() < EXCEL_COLUMNS as usize {
            cells.push((col, value));
        }
    }
    if let Some(r) = current
        && !cells.is_empty()
    {
        each(r, &mut cells)?;
    }
    Ok(())
}

/// The header row's texts, by column.
fn header_texts(cells: &[(u32, Cell)]) -> Result<Vec<String>, FileError> {
    if cells.len() > MAX_COLUMNS {
        return Err(FileError::TooManyColumns {
            found: cells.len(),
            max: MAX_COLUMNS,
        });
    }
    let width = cells
        .iter()
        .map(|(c, _)| *c as usize)
        .max()
        .map_or(0, |m| m.saturating_add(1));
    let mut headers = vec![String::new(); width];
    for (c, v) in cells {
        if let Some(slot) = headers.get_mut(*c as usize) {
            *slot = match v {
                Cell::Float(f) => float_text(*f),
                other => other.raw_display(),
            };
        }
    }
    Ok(headers)
}

/// Runs on the worker thread: checks the container, opens the workbook, finds the header
/// and counts the rows, then sends the rows one by one. Stops when the caller hangs up.
fn read_workbook<RS: Read + Seek>(
    mut rs: RS,
    kind: Kind,
    max_rows: usize,
    tx: &SyncSender<Msg>,
) -> Result<(), FileError> {
    zipguard::check(&mut rs)?;
    rs.rewind().map_err(xlsx_error)?;
    let mut workbook: Xlsx<RS> = Xlsx::new(rs).map_err(open_error)?;
    let name = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or(FileError::NoSheet)?;

    // First pass: the header (the first non-blank row), then the number of data rows after
    // it. An Excel sheet has at most 1,048,576 rows, so a workbook with more is refused
    // without counting on to `max_rows`.
    let max_rows = max_rows.min(EXCEL_ROWS - 1);
    let mut headers: Option<Vec<String>> = None;
    let mut total: u64 = 0;
    walk_rows(&mut workbook, &name, |_, cells| {
        if headers.is_none() {
            headers = Some(header_texts(cells)?);
            return Ok(true);
        }
        total = total.saturating_add(1);
        if total > max_rows as u64 {
            return Err(FileError::TooManyRows {
                found: total,
                max: max_rows,
            });
        }
        Ok(true)
    })?;
    let Some(headers) = headers else {
        return Err(FileError::Empty);
    };
    let header = map_header(kind, &headers)?;
    let by_column = header.by_column.clone();
    if tx.send(Msg::Start(Ok((header, total)))).is_err() {
        return Ok(());
    }

    // Second pass: the data rows, cut to the fields of the kind.
    let nfields = columns::fields(kind).len();
    let mut first = true;
    let mut last_row = 0u64;
    let sent = walk_rows(&mut workbook, &name, |r, values| {
        if std::mem::take(&mut first) {
            return Ok(true); // the header
        }
        let row = u64::from(r).saturating_add(1);
        last_row = row;
        let mut cells = vec![Cell::Empty; nfields];
        for (c, v) in values.drain(..) {
            if let Some(Some(f)) = by_column.get(c as usize)
                && let Some(slot) = cells.get_mut(*f)
            {
                *slot = v;
            }
        }
        if cells.iter().all(Cell::is_blank) {
            return Ok(true);
        }
        Ok(tx.send(Msg::Row(row, cells)).is_ok())
    });
    if let Err(e) = sent {
        let _ = tx.send(Msg::Fatal(last_row.saturating_add(1), e));
    }
    Ok(())
}

/// Opens the first sheet. Returns the source, the header and the number of data rows.
pub(crate) fn xlsx_source<RS: Read + Seek + Send + 'static>(
    rs: RS,
    kind: Kind,
    max_rows: usize,
) -> Result<(XlsxSource, Header, u64), FileError> {
    let (tx, rx) = sync_channel::<Msg>(CHANNEL_ROWS);
    std::thread::Builder::new()
        .name("anxin-xlsx".into())
        .spawn(move || {
            // A damaged workbook must not take the caller down with it, whatever the parser does.
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                read_workbook(rs, kind, max_rows, &tx)
            }))
            .unwrap_or_else(|_| {
                Err(FileError::Xlsx {
                    message: "damaged workbook".into(),
                })
            });
            if let Err(e) = result {
                // Before the start this is the answer; after it, the caller has hung up or
                // the error was already sent.
                let _ = tx.send(Msg::Start(Err(e)));
            }
        })
        .map_err(xlsx_error)?;
    let (header, total) = match rx.recv() {
        Ok(Msg::Start(started)) => started?,
        _ => {
            return Err(FileError::Xlsx {
                message: "damaged workbook".into(),
            });
        }
    };
    let source = XlsxSource {
        rx,
        ignored: header.ignored.clone(),
        last_row: 1,
        done: false,
    };
    Ok((source, header, total))
}

impl Source for XlsxSource {
    fn ignored(&self) -> &[String] {
        &self.ignored
    }

    fn next_item(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        match self.rx.recv() {
            Ok(Msg::Row(row, cells)) => {
                self.last_row = row;
                Some(Item::Record { row, cells })
            }
            Ok(Msg::Fatal(row, error)) => {
                self.done = true;
                Some(Item::Fatal { row, error })
            }
            Ok(Msg::Start(Err(error))) => {
                self.done = true;
                Some(Item::Fatal {
                    row: self.last_row.saturating_add(1),
                    error,
                })
            }
            Ok(Msg::Start(Ok(_))) | Err(_) => {
                self.done = true;
                None
            }
        }
    }
}
