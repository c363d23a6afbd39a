//! Sources of raw rows: CSV and JSON/NDJSON (xlsx is in `xlsx.rs`). A source maps its
//! columns onto the fields of the kind and hands out cells; the validators do the rest.

use std::fmt;
use std::io::{BufRead, Read};

use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::Kind;
use crate::cell::{Cell, MAX_FIELD_BYTES};
use crate::columns::{self, Header, Lookup, MAX_COLUMNS, display_header, map_header};
use crate::error::{FileError, Msg, Rejection};

pub(crate) enum Item {
    Record { row: u64, cells: Vec<Cell> },
    Reject(Rejection),
    Fatal { row: u64, error: FileError },
}

pub(crate) trait Source {
    fn next_item(&mut self) -> Option<Item>;
    fn ignored(&self) -> &[String];
}

fn io_error(e: impl fmt::Display) -> FileError {
    FileError::Io {
        path: String::new(),
        message: e.to_string(),
    }
}

fn all_blank(cells: &[Cell]) -> bool {
    cells.iter().all(Cell::is_blank)
}

// ---------------------------------------------------------------------------------------
// CSV

/// How a CSV file is written: its delimiter and its line ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dialect {
    pub delimiter: u8,
    /// Old Mac files end lines with CR alone; row numbers are then counted by record.
    pub cr_only: bool,
}

/// Sniffs the dialect from the start of the file: the delimiter is a comma unless tabs or
/// semicolons outnumber commas in the first line.
pub(crate) fn sniff_dialect(start: &[u8]) -> Dialect {
    let cr_only = start.contains(&b'\r') && !start.contains(&b'\n');
    let end = if cr_only { b'\r' } else { b'\n' };
    let line = start.split(|b| *b == end).next().unwrap_or(start);
    let mut best = (b',', 0usize);
    for d in [b',', b'\t', b';'] {
        let n = line.iter().filter(|b| **b == d).count();
        if n > best.1 {
            best = (d, n);
        }
    }
    Dialect {
        delimiter: best.0,
        cr_only,
    }
}

/// The longest CSV record (one row, all its fields and quotes), in bytes: a row of 256
/// full cells fits. The CSV reader holds a whole record, so a longer one is refused before
/// it is read, whatever it holds.
pub(crate) const MAX_RECORD: u64 = 2 * 1024 * 1024;

/// The error [`RecordGuard`] gives for a record longer than [`MAX_RECORD`].
#[derive(Debug)]
pub(crate) struct RecordTooLong;

impl fmt::Display for RecordTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a CSV row longer than {MAX_RECORD} bytes")
    }
}

impl std::error::Error for RecordTooLong {}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    /// At the start of a field: a quote here opens a quoted field.
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: a second one is an escaped quote.
    QuoteInQuoted,
}

/// Follows the CSV reader's quoting (a quote opens a quoted field only at the start of a
/// field; `""` inside is a quote) to find where records end, and fails the read once a
/// record is longer than [`MAX_RECORD`].
pub(crate) struct RecordGuard<R> {
    inner: R,
    delimiter: u8,
    /// Ends a record: `\n`, or also `\r` for files with CR line ends.
    cr_ends: bool,
    state: Quoting,
    len: u64,
}

impl<R: Read> RecordGuard<R> {
    fn new(inner: R, dialect: Dialect) -> RecordGuard<R> {
        RecordGuard {
            inner,
            delimiter: dialect.delimiter,
            cr_ends: dialect.cr_only,
            state: Quoting::FieldStart,
            len: 0,
        }
    }
}

impl<R: Read> Read for RecordGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in buf.get(..n).unwrap_or(&[]) {
            let ends = b == b'\n' || (self.cr_ends && b == b'\r');
            self.len = self.len.saturating_add(1);
            self.state = match self.state {
                Quoting::Quoted => {
                    if b == b'"' {
                        Quoting::QuoteInQuoted
                    } else {
                        Quoting::Quoted
                    }
                }
                Quoting::QuoteInQuoted if b == b'"' => Quoting::Quoted,
                Quoting::FieldStart if b == b'"' => Quoting::Quoted,
                _ if ends => {
                    self.len = 0;
                    Quoting::FieldStart
                }
                _ if b == self.delimiter => Quoting::FieldStart,
                _ => Quoting::Unquoted,
            };
            if self.len > MAX_RECORD {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    RecordTooLong,
                ));
            }
        }
        Ok(n)
    }
}

/// Whether a CSV error is [`RecordGuard`]'s refusal.
pub(crate) fn record_too_long(e: &csv::Error) -> bool {
    match e.kind() {
        csv::ErrorKind::Io(io) => io
            .get_ref()
            .is_some_and(|inner| inner.is::<RecordTooLong>()),
        _ => false,
    }
}

fn csv_error(e: &csv::Error) -> FileError {
    if record_too_long(e) {
        FileError::RowTooLong { max: MAX_RECORD }
    } else {
        io_error(e)
    }
}

type CsvReader<R> = csv::Reader<RecordGuard<std::io::Chain<R, &'static [u8]>>>;

/// A CSV reader whose every record ends in a line feed (one is appended to the input, a
/// blank line if the file already ends with one), so that line counts give row numbers.
pub(crate) fn csv_reader<R: Read>(r: R, dialect: Dialect) -> CsvReader<R> {
    let terminator = if dialect.cr_only {
        csv::Terminator::CRLF
    } else {
        // A CR before the LF stays at the end of the last field, where trimming drops it.
        csv::Terminator::Any(b'\n')
    };
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(dialect.delimiter)
        .terminator(terminator)
        .from_reader(RecordGuard::new(r.chain(&b"\n"[..]), dialect))
}

/// Counts the non-blank records after the first non-blank one (the header).
pub(crate) fn count_csv_rows<R: Read>(r: R, dialect: Dialect) -> Result<u64, FileError> {
    let mut reader = csv_reader(r, dialect);
    let mut rec = csv::ByteRecord::new();
    let mut n: u64 = 0;
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(false) => return Ok(n.saturating_sub(1)),
            Ok(true) => {
                if rec.iter().any(|f| !f.trim_ascii().is_empty()) {
                    n = n.saturating_add(1);
                }
            }
            Err(e) => return Err(csv_error(&e)),
        }
    }
}

pub(crate) struct CsvSource<R> {
    reader: CsvReader<R>,
    record: csv::StringRecord,
    by_column: Vec<Option<usize>>,
    kind: Kind,
    dialect: Dialect,
    width: usize,
    /// Line feeds inside quoted values so far: a value spanning three lines is still one
    /// spreadsheet row.
    embedded: u64,
    last_row: u64,
    ignored: Vec<String>,
}

fn newlines(rec: &csv::StringRecord) -> u64 {
    rec.iter()
        .map(|f| f.bytes().filter(|b| *b == b'\n').count() as u64)
        .sum()
}

/// Excel's trick to keep a long number as text in a CSV: `="11010519491231002X"`.
fn unwrap_excel_text(s: &str) -> &str {
    let t = s.trim();
    t.strip_prefix("=\"")
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(s)
}

pub(crate) fn csv_source<R: Read>(
    r: R,
    dialect: Dialect,
    kind: Kind,
) -> Result<(CsvSource<R>, Header), FileError> {
    let mut reader = csv_reader(r, dialect);
    let mut record = csv::StringRecord::new();
    let mut embedded = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Err(FileError::Empty),
            Ok(true) => {
                embedded = embedded.saturating_add(newlines(&record));
                if record.iter().any(|f| !f.trim().is_empty()) {
                    break;
                }
            }
            Err(e) => return Err(csv_error(&e)),
        }
    }
    let headers: Vec<&str> = record.iter().collect();
    let header = map_header(kind, &headers)?;
    let source = CsvSource {
        reader,
        width: record.len(),
        record: csv::StringRecord::new(),
        by_column: header.by_column.clone(),
        kind,
        dialect,
        embedded,
        last_row: 1,
        ignored: header.ignored.clone(),
    };
    Ok((source, header))
}

impl<R: Read> CsvSource<R> {
    /// The spreadsheet row of the record just read: the line it ends on, less the line
    /// feeds inside quoted values (of this record and all before it).
    fn row_just_read(&self) -> u64 {
        if self.dialect.cr_only {
            let record = self.record.position().map_or(0, |p| p.record());
            return record.saturating_add(1);
        }
        self.reader
            .position()
            .line()
            .saturating_sub(1)
            .saturating_sub(self.embedded)
    }
}

impl<R: Read> Source for CsvSource<R> {
    fn ignored(&self) -> &[String] {
        &self.ignored
    }

    fn next_item(&mut self) -> Option<Item> {
        let nfields = columns::fields(self.kind).len();
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                Err(e) => {
                    let row = self.last_row.saturating_add(1);
                    if let csv::ErrorKind::Utf8 { .. } = e.kind() {
                        let row = self.row_just_read().max(row);
                        self.last_row = row;
                        return Some(Item::Reject(Rejection::new(
                            row,
                            "",
                            "",
                            String::new(),
                            Msg::new(
                                "本行含有无法识别的字符（编码与文件其他部分不同）：请把整个文件另存为“CSV UTF-8”",
                                "this row contains undecodable characters (an encoding other than the rest of the file): save the whole file as \"CSV UTF-8\"",
                            ),
                        )));
                    }
                    return Some(Item::Fatal {
                        row,
                        error: csv_error(&e),
                    });
                }
            }
            self.embedded = self.embedded.saturating_add(newlines(&self.record));
            let row = self.row_just_read();
            self.last_row = row;
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            if self.record.len() != self.width {
                let (n, m) = (self.record.len(), self.width);
                return Some(Item::Reject(Rejection::new(
                    row,
                    "",
                    "",
                    String::new(),
                    Msg::new(
                        format!(
                            "本行有 {n} 个字段，表头有 {m} 列：每行的字段数须与表头相同；含逗号的值请用英文双引号括起来"
                        ),
                        format!(
                            "this row has {n} fields but the header has {m} columns: every row must have as many fields as the header; put values that contain a comma in double quotes"
                        ),
                    ),
                )));
            }
            let mut cells = vec![Cell::Empty; nfields];
            for (col, text) in self.record.iter().enumerate() {
                if let Some(Some(f)) = self.by_column.get(col)
                    && let Some(slot) = cells.get_mut(*f)
                {
                    *slot = Cell::text(unwrap_excel_text(text));
                }
            }
            if all_blank(&cells) {
                continue;
            }
            return Some(Item::Record { row, cells });
        }
    }
}

// ---------------------------------------------------------------------------------------
// JSON

/// A JSON object as its keys and unparsed values, in order (repeated keys kept).
pub(crate) struct Obj(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Obj {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Obj, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Obj;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Obj, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Box<RawValue>>()? {
                    if out.len() >= MAX_COLUMNS * 4 {
                        return Err(serde::de::Error::custom(format!(
                            "more than {} keys",
                            MAX_COLUMNS * 4
                        )));
                    }
                    out.push((k, v));
                }
                Ok(Obj(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn raw_cell(raw: &RawValue) -> Cell {
    let t = raw.get().trim();
    match t.as_bytes().first() {
        Some(b'"') => match serde_json::from_str::<String>(t) {
            Ok(s) => Cell::text(&s),
            Err(_) => Cell::Unusable {
                zh: "无法解析的字符串".into(),
                en: "an unreadable string".into(),
            },
        },
        Some(b'n') | None => Cell::Empty,
        Some(b't') => Cell::Bool(true),
        Some(b'f') => Cell::Bool(false),
        Some(b'{') => Cell::Unusable {
            zh: "JSON 对象".into(),
            en: "a JSON object".into(),
        },
        Some(b'[') => Cell::Unusable {
            zh: "JSON 数组".into(),
            en: "a JSON array".into(),
        },
        Some(_) => {
            if t.len() > MAX_FIELD_BYTES {
                Cell::TooLong(t.len())
            } else {
                Cell::Number(t.to_string())
            }
        }
    }
}

const TOO_MANY_ITEMS: &str = "anxin: too many items";

/// Reads a JSON array as the spans of its items in the text, refusing more than `max_rows`
/// of them as soon as there are.
struct ItemSpans<'t> {
    text: &'t str,
    max_rows: usize,
}

impl<'de, 't> serde::de::DeserializeSeed<'de> for ItemSpans<'t> {
    type Value = Vec<(u32, u32)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, 't> Visitor<'de> for ItemSpans<'t> {
    type Value = Vec<(u32, u32)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let base = self.text.as_ptr() as usize;
        let mut spans = Vec::new();
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            if spans.len() >= self.max_rows {
                return Err(serde::de::Error::custom(TOO_MANY_ITEMS));
            }
            let item = raw.get();
            let start = (item.as_ptr() as usize).wrapping_sub(base);
            let end = start.saturating_add(item.len());
            let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(end)) else {
                return Err(serde::de::Error::custom("JSON array too large"));
            };
            spans.push((start, end));
        }
        Ok(spans)
    }
}

/// The longest NDJSON line read (a row of 256 full cells fits).
const MAX_LINE: usize = 2 * 1024 * 1024;

enum JsonInput {
    /// The array's text and where each of its items lies in it (start, end): eight bytes
    /// an item, however small, rather than an allocation each.
    Array {
        text: String,
        items: std::vec::IntoIter<(u32, u32)>,
        index: u64,
    },
    Lines {
        reader: Box<dyn BufRead>,
        line: u64,
        buf: Vec<u8>,
    },
}

pub(crate) struct JsonSource {
    input: JsonInput,
    kind: Kind,
    lookup: Lookup,
    ignored: Vec<String>,
    pending: Option<(u64, Obj)>,
}

fn json_error(e: &serde_json::Error) -> FileError {
    let full = e.to_string();
    let message = full
        .split(" at line ")
        .next()
        .unwrap_or(full.as_str())
        .to_string();
    FileError::Json {
        line: e.line(),
        column: e.column(),
        message,
    }
}

enum Line {
    Eof,
    Text,
    TooLong,
}

/// Reads one line into `buf` (without its end), at most `MAX_LINE` bytes; the rest of a
/// longer line is skipped.
fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<Line> {
    buf.clear();
    let n = Read::take(&mut *r, MAX_LINE as u64 + 1).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(Line::Eof);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok(Line::Text);
    }
    if buf.len() <= MAX_LINE {
        return Ok(Line::Text); // the last line, without a line break
    }
    loop {
        let avail = r.fill_buf()?;
        if avail.is_empty() {
            break;
        }
        match avail.iter().position(|b| *b == b'\n') {
            Some(p) => {
                r.consume(p.saturating_add(1));
                break;
            }
            None => {
                let len = avail.len();
                r.consume(len);
            }
        }
    }
    Ok(Line::TooLong)
}

/// Counts the lines that are not blank.
pub(crate) fn count_lines(text: &[u8]) -> u64 {
    text.split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .count() as u64
}

impl JsonSource {
    /// A JSON array (already decoded text). Returns the source, header and element count.
    pub fn array(
        text: String,
        kind: Kind,
        max_rows: usize,
    ) -> Result<(JsonSource, Option<Header>, u64), FileError> {
        let items = {
            let mut de = serde_json::Deserializer::from_str(&text);
            let items = ItemSpans {
                text: &text,
                max_rows,
            }
            .deserialize(&mut de)
            .and_then(|items| de.end().map(|()| items));
            match items {
                Ok(items) => items,
                Err(e) if e.to_string().starts_with(TOO_MANY_ITEMS) => {
                    return Err(FileError::TooManyRows {
                        found: (max_rows as u64).saturating_add(1),
                        max: max_rows,
                    });
                }
                Err(e) if e.is_data() => return Err(FileError::JsonShape),
                Err(e) => return Err(json_error(&e)),
            }
        };
        let total = items.len() as u64;
        let header = match items.first() {
            None => None,
            Some(&(start, end)) => {
                let first = text.get(start as usize..end as usize).unwrap_or("");
                let obj: Obj = serde_json::from_str(first).map_err(|_| FileError::JsonShape)?;
                Some(obj_header(kind, &obj)?)
            }
        };
        let ignored = header
            .as_ref()
            .map(|h| h.ignored.clone())
            .unwrap_or_default();
        let source = JsonSource {
            input: JsonInput::Array {
                text,
                items: items.into_iter(),
                index: 0,
            },
            kind,
            lookup: Lookup::new(kind),
            ignored,
            pending: None,
        };
        Ok((source, header, total))
    }

    /// NDJSON: one object per line. The first object must parse: it gives the header.
    pub fn lines(
        mut reader: Box<dyn BufRead>,
        kind: Kind,
    ) -> Result<(JsonSource, Header), FileError> {
        let mut buf = Vec::new();
        let mut line: u64 = 0;
        let first = loop {
            let got = read_line(reader.as_mut(), &mut buf).map_err(io_error)?;
            line = line.saturating_add(1);
            match got {
                Line::Eof => return Err(FileError::Empty),
                Line::TooLong => return Err(FileError::JsonShape),
                Line::Text => {}
            }
            let text = std::str::from_utf8(&buf).map_err(|_| FileError::Encoding { offset: 0 })?;
            let text = text.trim_start_matches('\u{feff}').trim();
            if text.is_empty() {
                continue;
            }
            let obj: Obj = serde_json::from_str(text).map_err(|e| {
                if e.is_data() {
                    FileError::JsonShape
                } else {
                    let mut err = json_error(&e);
                    if let FileError::Json { line: l, .. } = &mut err {
                        *l = usize::try_from(line).unwrap_or(usize::MAX);
                    }
                    err
                }
            })?;
            break obj;
        };
        let header = obj_header(kind, &first)?;
        let source = JsonSource {
            input: JsonInput::Lines { reader, line, buf },
            kind,
            lookup: Lookup::new(kind),
            ignored: header.ignored.clone(),
            pending: Some((line, first)),
        };
        Ok((source, header))
    }

    fn record(&mut self, row: u64, obj: Obj) -> Item {
        let fields = columns::fields(self.kind);
        let mut cells = vec![Cell::Empty; fields.len()];
        let mut keys: Vec<Option<String>> = vec![None; fields.len()];
        for (k, v) in obj.0 {
            match self.lookup.get(&k) {
                Some(i) => {
                    if let Some(Some(prev)) = keys.get(i) {
                        let key = fields.get(i).map(|f| f.key).unwrap_or("");
                        let (a, b) = (display_header(prev), display_header(&k));
                        return Item::Reject(Rejection::new(
                            row,
                            &b,
                            key,
                            String::new(),
                            Msg::new(
                                format!(
                                    "「{a}」和「{b}」是同一列（{key}）：每个对象只能有其中一个"
                                ),
                                format!(
                                    "'{a}' and '{b}' are the same column ({key}): an object may have only one of them"
                                ),
                            ),
                        ));
                    }
                    if let Some(slot) = cells.get_mut(i) {
                        *slot = raw_cell(&v);
                    }
                    if let Some(slot) = keys.get_mut(i) {
                        *slot = Some(k);
                    }
                }
                None => {
                    let shown = display_header(&k);
                    if self.ignored.len() < MAX_COLUMNS && !self.ignored.contains(&shown) {
                        self.ignored.push(shown);
                    }
                }
            }
        }
        Item::Record { row, cells }
    }

    fn not_object(row: u64, err: &serde_json::Error) -> Item {
        let detail = json_error(err);
        let detail_en = match &detail {
            FileError::Json { message, .. } => message.clone(),
            _ => String::new(),
        };
        Item::Reject(Rejection::new(
            row,
            "",
            "",
            String::new(),
            Msg::new(
                format!("这一项不是 JSON 对象（{detail_en}）：每条记录须写成 {{\"列名\": 值, …}}"),
                format!(
                    "this item is not a JSON object ({detail_en}): each record must be {{\"column\": value, …}}"
                ),
            ),
        ))
    }
}

impl Source for JsonSource {
    fn ignored(&self) -> &[String] {
        &self.ignored
    }

    fn next_item(&mut self) -> Option<Item> {
        loop {
            if let Some((row, obj)) = self.pending.take() {
                let item = self.record(row, obj);
                if let Item::Record { cells, .. } = &item
                    && all_blank(cells)
                {
                    continue;
                }
                return Some(item);
            }
            let (row, parsed) = match &mut self.input {
                JsonInput::Array { text, items, index } => {
                    let (start, end) = items.next()?;
                    *index = index.saturating_add(1);
                    let raw = text.get(start as usize..end as usize).unwrap_or("");
                    (*index, serde_json::from_str::<Obj>(raw))
                }
                JsonInput::Lines { reader, line, buf } => {
                    let got = match read_line(reader.as_mut(), buf) {
                        Ok(got) => got,
                        Err(e) => {
                            return Some(Item::Fatal {
                                row: line.saturating_add(1),
                                error: io_error(e),
                            });
                        }
                    };
                    *line = line.saturating_add(1);
                    let row = *line;
                    match got {
                        Line::Eof => return None,
                        Line::TooLong => {
                            return Some(Item::Reject(Rejection::new(
                                row,
                                "",
                                "",
                                String::new(),
                                Msg::new(
                                    format!(
                                        "本行超过 {} MiB：每行一个对象，每个值最长 4 KiB",
                                        MAX_LINE / (1024 * 1024)
                                    ),
                                    format!(
                                        "this line is longer than {} MiB: one object per line, each value at most 4 KiB",
                                        MAX_LINE / (1024 * 1024)
                                    ),
                                ),
                            )));
                        }
                        Line::Text => {}
                    }
                    let Ok(text) = std::str::from_utf8(buf) else {
                        return Some(Item::Reject(Rejection::new(
                            row,
                            "",
                            "",
                            String::new(),
                            Msg::new(
                                "本行含有无法识别的字符：请把整个文件另存为 UTF-8",
                                "this line contains undecodable characters: save the whole file as UTF-8",
                            ),
                        )));
                    };
                    let text = text.trim();
                    if text.is_empty() {
                        continue;
                    }
                    (row, serde_json::from_str::<Obj>(text))
                }
            };
            match parsed {
                Ok(obj) => self.pending = Some((row, obj)),
                Err(e) => return Some(Self::not_object(row, &e)),
            }
        }
    }
}

fn obj_header(kind: Kind, obj: &Obj) -> Result<Header, FileError> {
    let keys: Vec<&str> = obj.0.iter().map(|(k, _)| k.as_str()).collect();
    map_header(kind, &keys)
}
