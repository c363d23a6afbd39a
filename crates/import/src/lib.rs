//! Import files for the anxin ledger: persons, organisations (platforms and employers),
//! children and contribution records, from CSV (UTF-8 with or without BOM, or GBK/GB18030
//! as Chinese Excel writes it), Excel `.xlsx` (the first sheet) or JSON (an array of
//! objects, or NDJSON with one object per line).
//!
//! Each data row becomes a typed, validated [`Row`] or a [`Rejection`] that says, in
//! Chinese and in English, what is wrong and what is allowed. A problem with the whole
//! file (unreadable, unknown format or encoding, missing columns, too many rows) is a
//! [`FileError`] and nothing of the file is read.
//!
//! ```no_run
//! use anxin_import::{Kind, Options, open};
//! # fn regions(t: &str) -> Option<anxin_domain::RegionCode> { anxin_domain::RegionCode::parse(t).ok() }
//! let today = jiff::civil::date(2026, 11, 22);
//! let rows = open("缴费.csv".as_ref(), Kind::Contributions, Options::new(today), &regions)?;
//! for row in rows {
//!     match row {
//!         Ok(row) => { /* append to the ledger */ }
//!         Err(rejection) => eprintln!("{rejection}"),
//!     }
//! }
//! # Ok::<(), anxin_import::FileError>(())
//! ```
//!
//! Columns are matched by header, in English or Chinese, ignoring case, surrounding
//! whitespace, a UTF-8 BOM and required-markers such as `*姓名` or `姓名（必填）`; unknown
//! columns are ignored and listed by [`Rows::ignored_columns`].
//!
//! CSV and NDJSON opened from a path are streamed: a first pass checks the encoding and
//! counts the rows (for [`Rows::progress`] and [`Options::max_rows`]), a second pass reads
//! them, so memory does not grow with the file; a CSV row longer than 2 MiB and an NDJSON
//! line longer than 2 MiB are refused before they are held. An xlsx workbook is checked
//! part by part before it is opened (sizes unpacked, cells, shared strings) and its sheet
//! streamed; a JSON array is read whole and so is limited to [`MAX_JSON_ARRAY`] bytes.
//! No input can make this crate panic, and it logs nothing.
//!
//! Resident ID numbers are personal data: a [`Rejection`] shows them masked only.

// Untrusted input must never panic: no unwrap, expect, panic or unchecked indexing outside tests.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::string_slice
    )
)]
// A rejection is the ordinary result for a bad row, and the public item type is
// `Result<Row, Rejection>` whose `Row` is larger still: boxing it would gain nothing.
#![allow(clippy::result_large_err)]

mod cell;
/// The domain's code lists, now in `anxin-domain` (re-exported here for the rows' types).
pub use anxin_domain::codes;
mod columns;
mod decode;
mod error;
mod rows;
mod source;
pub mod template;
mod validate;
mod xlsx;
mod zipguard;

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;
use std::str::FromStr;

use anxin_domain::RegionCode;
use encoding_rs::GB18030;

pub use codes::{
    Code, EmploymentForm, GapReason, Insurance, OrgKind, Payer, ProofKind, Relation, Status,
    UnknownCode, YesNo,
};
pub use error::{ColumnName, FileError, Rejection};
pub use rows::{
    ApplicationRow, ChildRow, ContributionRow, OrgRow, Permit, PersonRow, Progress, Row, Rows,
};

use decode::{Encoding, UTF8_BOM, Utf8Probe, check_gb18030_stream, check_utf16, decode};
use source::{JsonSource, count_csv_rows, count_lines, csv_source, sniff_dialect};

/// The file formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Xlsx,
    /// A JSON array of objects, or NDJSON (one object per line): told apart by the first
    /// character.
    Json,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// OLE compound file: legacy .xls, or an encrypted .xlsx.
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

impl Format {
    /// Decides the format from the file's first bytes and its extension: a zip container
    /// is xlsx whatever its name; otherwise the extension (`.csv`/`.txt`/`.tsv`,
    /// `.xlsx`/`.xlsm`, `.json`/`.ndjson`/`.jsonl`) decides; without one, text starting
    /// with `[` or `{` is JSON and other text is CSV.
    pub fn detect(path: &Path, first_bytes: &[u8]) -> Result<Format, FileError> {
        if first_bytes.starts_with(ZIP_MAGIC) {
            return Ok(Format::Xlsx);
        }
        if first_bytes.starts_with(OLE_MAGIC) {
            return Err(FileError::LegacyExcel);
        }
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => return Ok(Format::Csv),
            "xlsx" | "xlsm" => return Ok(Format::Xlsx),
            "json" | "ndjson" | "jsonl" => return Ok(Format::Json),
            "xls" | "et" => return Err(FileError::LegacyExcel),
            _ => {}
        }
        let body = first_bytes.strip_prefix(UTF8_BOM).unwrap_or(first_bytes);
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        let texty = !body.is_empty()
            && !body
                .iter()
                .any(|b| *b == 0 || (*b < 0x20 && !b"\t\r\n".contains(b)));
        match first {
            Some(b'[' | b'{') => Ok(Format::Json),
            Some(_) if texty => Ok(Format::Csv),
            _ => Err(FileError::UnknownFormat {
                name: path.display().to_string(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Persons,
    Orgs,
    Children,
    Contributions,
    /// School applications (child, guardian, city, month), for the school review.
    Applications,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Persons,
        Kind::Orgs,
        Kind::Children,
        Kind::Contributions,
        Kind::Applications,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Persons => "persons",
            Kind::Orgs => "orgs",
            Kind::Children => "children",
            Kind::Contributions => "contributions",
            Kind::Applications => "applications",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Kind::Persons => "人员",
            Kind::Orgs => "单位",
            Kind::Children => "子女",
            Kind::Contributions => "缴费记录",
            Kind::Applications => "入学申请",
        }
    }

    /// The columns of this kind, in their documented order.
    pub fn columns(self) -> Vec<ColumnName> {
        columns::fields(self)
            .iter()
            .map(columns::Field::column_name)
            .collect()
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = UnknownCode;
    /// "persons", "orgs", "children", "contributions" (also singular, or in Chinese).
    fn from_str(s: &str) -> Result<Kind, UnknownCode> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "persons" | "person" | "人员" => Ok(Kind::Persons),
            "orgs" | "org" | "organisations" | "organizations" | "单位" => Ok(Kind::Orgs),
            "children" | "child" | "子女" => Ok(Kind::Children),
            "contributions" | "contribution" | "缴费记录" | "缴费" => Ok(Kind::Contributions),
            "applications" | "application" | "入学申请" => Ok(Kind::Applications),
            _ => Err(UnknownCode {
                text: s.to_string(),
                allowed: "persons (人员), orgs (单位), children (子女), contributions (缴费记录), applications (入学申请)"
                    .to_string(),
            }),
        }
    }
}

/// Settings of one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Months and dates after this day are refused; children must be born by then.
    pub today: jiff::civil::Date,
    /// Files with more data rows are refused whole.
    pub max_rows: usize,
}

impl Options {
    pub const DEFAULT_MAX_ROWS: usize = 5_000_000;

    pub fn new(today: jiff::civil::Date) -> Options {
        Options {
            today,
            max_rows: Options::DEFAULT_MAX_ROWS,
        }
    }
}

/// The regions the caller knows: turns a cell's text (a code such as `330100`, or a name
/// such as `杭州`) into a region code, or `None` if it is not a known region.
pub trait Regions {
    fn resolve(&self, text: &str) -> Option<RegionCode>;
}

impl<F: Fn(&str) -> Option<RegionCode>> Regions for F {
    fn resolve(&self, text: &str) -> Option<RegionCode> {
        self(text)
    }
}

impl Regions for std::collections::HashMap<String, RegionCode> {
    fn resolve(&self, text: &str) -> Option<RegionCode> {
        self.get(text).copied()
    }
}

impl Regions for std::collections::BTreeMap<String, RegionCode> {
    fn resolve(&self, text: &str) -> Option<RegionCode> {
        self.get(text).copied()
    }
}

/// Accepts every well-formed GB/T 2260 code and no names (for tests and fuzzing).
#[derive(Debug, Clone, Copy, Default)]
pub struct AnyRegionCode;

impl Regions for AnyRegionCode {
    fn resolve(&self, text: &str) -> Option<RegionCode> {
        RegionCode::parse(text).ok()
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> FileError + '_ {
    move |e| FileError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Reads up to `n` bytes from the start of the file.
fn read_prefix(path: &Path, n: usize) -> Result<Vec<u8>, FileError> {
    let file = File::open(path).map_err(io_error(path))?;
    let mut buf = Vec::with_capacity(n.min(64 * 1024));
    file.take(n as u64)
        .read_to_end(&mut buf)
        .map_err(io_error(path))?;
    Ok(buf)
}

fn check_rows(total: u64, opts: &Options) -> Result<(), FileError> {
    if total > opts.max_rows as u64 {
        return Err(FileError::TooManyRows {
            found: total,
            max: opts.max_rows,
        });
    }
    Ok(())
}

/// Opens an import file, deciding its format by [`Format::detect`].
pub fn open<'r>(
    path: &Path,
    kind: Kind,
    opts: Options,
    regions: &'r dyn Regions,
) -> Result<Rows<'r>, FileError> {
    let start = read_prefix(path, 512)?;
    let format = Format::detect(path, &start)?;
    open_as(path, format, kind, opts, regions)
}

/// Opens an import file of a known format.
pub fn open_as<'r>(
    path: &Path,
    format: Format,
    kind: Kind,
    opts: Options,
    regions: &'r dyn Regions,
) -> Result<Rows<'r>, FileError> {
    let start = read_prefix(path, 64 * 1024)?;
    if format == Format::Xlsx {
        if start.starts_with(OLE_MAGIC) {
            return Err(FileError::LegacyExcel);
        }
        let file = File::open(path).map_err(io_error(path))?;
        let (source, header, total) = xlsx::xlsx_source(BufReader::new(file), kind, opts.max_rows)?;
        check_rows(total, &opts)?;
        return Ok(Rows::new(
            kind,
            format,
            opts,
            regions,
            Box::new(source),
            header.labels,
            total,
        ));
    }
    check_utf16(&start)?;
    let body = start.strip_prefix(UTF8_BOM).unwrap_or(&start);
    let ndjson = match format {
        Format::Json => match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => true,
            // A JSON array is read whole.
            Some(b'[') => {
                let file = File::open(path).map_err(io_error(path))?;
                let mut bytes = Vec::new();
                file.take(MAX_JSON_ARRAY.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(io_error(path))?;
                return json_array(&bytes, kind, opts, regions);
            }
            Some(_) => return Err(FileError::JsonShape),
            None => return Err(FileError::Empty),
        },
        _ => false,
    };
    let dialect = sniff_dialect(body);

    // First pass: is it UTF-8, and how many rows are there?
    let file = File::open(path).map_err(io_error(path))?;
    let mut probe = Utf8Probe::new(file);
    let total = if ndjson {
        count_lines_stream(&mut probe).map_err(io_error(path))?
    } else {
        count_csv_rows(&mut probe, dialect).map_err(|e| match e {
            FileError::Io { message, .. } => FileError::Io {
                path: path.display().to_string(),
                message,
            },
            other => other,
        })?
    };
    let (utf8, nul) = probe.finish();
    if nul {
        return Err(FileError::Binary);
    }
    let encoding = if utf8 {
        Encoding::Utf8
    } else {
        let file = File::open(path).map_err(io_error(path))?;
        check_gb18030_stream(BufReader::new(file))?;
        Encoding::Gb18030
    };
    check_rows(total, &opts)?;

    // Second pass: stream the rows.
    let file = File::open(path).map_err(io_error(path))?;
    let reader: Box<dyn Read> = match encoding {
        Encoding::Utf8 => Box::new(file),
        Encoding::Gb18030 => Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(GB18030))
                .build(file),
        ),
    };
    if ndjson {
        let (source, header) = JsonSource::lines(Box::new(BufReader::new(reader)), kind)?;
        Ok(Rows::new(
            kind,
            format,
            opts,
            regions,
            Box::new(source),
            header.labels,
            total,
        ))
    } else {
        let (source, header) = csv_source(reader, dialect, kind)?;
        Ok(Rows::new(
            kind,
            format,
            opts,
            regions,
            Box::new(source),
            header.labels,
            total,
        ))
    }
}

/// [`decode`] for bytes owned: valid UTF-8 without a BOM becomes the text in place.
fn decode_owned(bytes: Vec<u8>) -> Result<String, FileError> {
    if bytes.starts_with(UTF8_BOM) {
        return decode(&bytes);
    }
    check_utf16(&bytes)?;
    match String::from_utf8(bytes) {
        Ok(text) if text.contains('\0') => Err(FileError::Binary),
        Ok(text) => Ok(text),
        Err(e) => decode(e.as_bytes()),
    }
}

/// Counts the lines that are not blank, streaming.
fn count_lines_stream<R: Read>(mut r: R) -> std::io::Result<u64> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut lines: u64 = 0;
    let mut content = false;
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            return Ok(lines.saturating_add(u64::from(content)));
        }
        for b in buf.get(..n).unwrap_or(&[]) {
            if *b == b'\n' {
                lines = lines.saturating_add(u64::from(content));
                content = false;
            } else if !b.is_ascii_whitespace() {
                content = true;
            }
        }
    }
}

/// The largest JSON array file: an array is read whole (its text, and where each item lies
/// in it); NDJSON is streamed and has no such limit.
pub const MAX_JSON_ARRAY: u64 = 16 * 1024 * 1024;

fn json_array<'r>(
    bytes: &[u8],
    kind: Kind,
    opts: Options,
    regions: &'r dyn Regions,
) -> Result<Rows<'r>, FileError> {
    if bytes.len() as u64 > MAX_JSON_ARRAY {
        return Err(FileError::JsonTooLarge {
            max: MAX_JSON_ARRAY,
        });
    }
    let text = decode(bytes)?;
    let (source, header, total) = JsonSource::array(text, kind, opts.max_rows)?;
    let labels = match header {
        Some(h) => h.labels,
        None => columns::fields(kind)
            .iter()
            .map(|f| f.key.to_string())
            .collect(),
    };
    Ok(Rows::new(
        kind,
        Format::Json,
        opts,
        regions,
        Box::new(source),
        labels,
        total,
    ))
}

/// Reads an import held in memory (tests, fuzzing). Holds one copy of the bytes while it
/// reads; [`from_vec`] takes them over instead.
pub fn from_bytes<'r>(
    bytes: &[u8],
    format: Format,
    kind: Kind,
    opts: Options,
    regions: &'r dyn Regions,
) -> Result<Rows<'r>, FileError> {
    from_vec(bytes.to_vec(), format, kind, opts, regions)
}

/// Reads an import held in memory (an upload), taking the bytes over: a UTF-8 file or a
/// workbook is read in place, without a second copy.
pub fn from_vec<'r>(
    bytes: Vec<u8>,
    format: Format,
    kind: Kind,
    opts: Options,
    regions: &'r dyn Regions,
) -> Result<Rows<'r>, FileError> {
    match format {
        Format::Xlsx => {
            if bytes.starts_with(OLE_MAGIC) {
                return Err(FileError::LegacyExcel);
            }
            let (source, header, total) =
                xlsx::xlsx_source(Cursor::new(bytes), kind, opts.max_rows)?;
            check_rows(total, &opts)?;
            Ok(Rows::new(
                kind,
                format,
                opts,
                regions,
                Box::new(source),
                header.labels,
                total,
            ))
        }
        Format::Csv => {
            let text = decode_owned(bytes)?;
            let dialect =
                sniff_dialect(text.as_bytes().get(..64 * 1024).unwrap_or(text.as_bytes()));
            let total = count_csv_rows(text.as_bytes(), dialect)?;
            check_rows(total, &opts)?;
            let (source, header) = csv_source(Cursor::new(text.into_bytes()), dialect, kind)?;
            Ok(Rows::new(
                kind,
                format,
                opts,
                regions,
                Box::new(source),
                header.labels,
                total,
            ))
        }
        Format::Json => {
            let text = decode_owned(bytes)?;
            match text.trim_start().as_bytes().first() {
                Some(b'[') => json_array(text.as_bytes(), kind, opts, regions),
                Some(b'{') => {
                    let total = count_lines(text.as_bytes());
                    check_rows(total, &opts)?;
                    let (source, header) =
                        JsonSource::lines(Box::new(Cursor::new(text.into_bytes())), kind)?;
                    Ok(Rows::new(
                        kind,
                        format,
                        opts,
                        regions,
                        Box::new(source),
                        header.labels,
                        total,
                    ))
                }
                Some(_) => Err(FileError::JsonShape),
                None => Err(FileError::Empty),
            }
        }
    }
}
