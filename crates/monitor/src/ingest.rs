//! A platform's monthly delivery (CSV or Parquet) onto the data directory (`anxin monitor
//! ingest`).
//!
//! The file must have exactly the columns of [`layout::DELIVERY_COLUMNS`] (any order): a
//! column missing, renamed or unknown refuses the whole file, naming them, and nothing lands.
//! Each row is then checked; a refused row gets its reason in the report (line, order id,
//! reason — never the resident ID), the good rows land. The resident ID is replaced by the
//! deployment's keyed hash as the row is read ([`layout::person_id`]) and is never stored,
//! logged or reported. The good rows are written to a staging file that is renamed into
//! `orders/month=…/platform=…/` in one step: a failure at any point lands nothing.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anxin_domain::{CreditCode, RegionCode, ResidentId, YearMonth};
use anxin_policy::calc::injury::Sector;
use anxin_records::keys::DataKey;
use arrow::array::{Array, ArrayRef, AsArray, Int32Builder, Int64Builder, StringBuilder};
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::layout::{self, DELIVERY_COLUMNS};
use crate::platforms::Registry;
use crate::{Error, Result, internal};

/// Why a row was refused. The code is stable (it is the report's `reason` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    MissingOrderId,
    BadOrderId,
    DuplicateOrder,
    UnknownPlatform,
    OtherPlatform,
    MissingId,
    MalformedId,
    BadTime,
    FutureTime,
    OtherMonth,
    BadAmount,
    NegativeAmount,
    BadSector,
    BadArea,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::MissingOrderId => "missing_order_id",
            Reason::BadOrderId => "bad_order_id",
            Reason::DuplicateOrder => "duplicate_order",
            Reason::UnknownPlatform => "unknown_platform",
            Reason::OtherPlatform => "other_platform",
            Reason::MissingId => "missing_id",
            Reason::MalformedId => "malformed_id",
            Reason::BadTime => "bad_time",
            Reason::FutureTime => "future_time",
            Reason::OtherMonth => "other_month",
            Reason::BadAmount => "bad_amount",
            Reason::NegativeAmount => "negative_amount",
            Reason::BadSector => "bad_sector",
            Reason::BadArea => "bad_area",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Reason::MissingOrderId => "缺少订单号",
            Reason::BadOrderId => "订单号超过 64 个字符",
            Reason::DuplicateOrder => "订单号重复（本文件中或已导入的数据中已有）",
            Reason::UnknownPlatform => "平台信用代码无效或未登记",
            Reason::OtherPlatform => "这是另一个平台的订单，不能由本平台报送",
            Reason::MissingId => "缺少身份证号",
            Reason::MalformedId => "身份证号无效（长度、字符、出生日期或校验码不对）",
            Reason::BadTime => {
                "时间格式不对（应为 2026-03-05T12:34:56+08:00 或 2026-03-05 12:34:56）"
            }
            Reason::FutureTime => "时间在将来",
            Reason::OtherMonth => "时间不在本次报送的月份内",
            Reason::BadAmount => "金额应为整数（单位：分）",
            Reason::NegativeAmount => "金额为负数",
            Reason::BadSector => "行业只能是 出行、即时配送、外卖、同城货运",
            Reason::BadArea => "区域应为 6 位区县代码或网格编号（区县代码-格号，如 330106-017）",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Reason::MissingOrderId => "the order id is missing",
            Reason::BadOrderId => "the order id is longer than 64 characters",
            Reason::DuplicateOrder => {
                "the order id is a duplicate (in this file or already imported)"
            }
            Reason::UnknownPlatform => "the platform's credit code is not valid or not registered",
            Reason::OtherPlatform => {
                "this is another platform's order: a platform delivers only its own"
            }
            Reason::MissingId => "the resident ID is missing",
            Reason::MalformedId => {
                "the resident ID is not valid (length, characters, birth date or check digit)"
            }
            Reason::BadTime => {
                "the time is malformed (2026-03-05T12:34:56+08:00 or 2026-03-05 12:34:56)"
            }
            Reason::FutureTime => "the time is in the future",
            Reason::OtherMonth => "the time is not in the month of this delivery",
            Reason::BadAmount => "the amount must be a whole number of fen",
            Reason::NegativeAmount => "the amount is negative",
            Reason::BadSector => {
                "the sector must be ride-hailing, instant-delivery, food-delivery or same-city-freight"
            }
            Reason::BadArea => {
                "the area must be a 6-digit district code or a grid cell (district-cell, e.g. 330106-017)"
            }
        }
    }
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Refusal {
    /// The line of the file (CSV: the header is line 1) or the row number (Parquet: from 2,
    /// as if it had a header).
    pub line: u64,
    pub order_id: String,
    pub reason: Reason,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct IngestReport {
    pub batch: String,
    pub platform: String,
    pub month: String,
    pub rows: u64,
    pub landed: u64,
    pub refused: u64,
    /// Refusals per reason code.
    pub reasons: std::collections::BTreeMap<&'static str, u64>,
    /// The first refusals (all are in the report file).
    pub first_refusals: Vec<Refusal>,
    /// Where the good rows landed, if any did.
    pub file: Option<PathBuf>,
    pub file_bytes: u64,
    pub report: Option<PathBuf>,
    /// Every refusal (the report file's rows), for a caller that answers with them all.
    #[serde(skip)]
    pub refusals: Vec<Refusal>,
}

pub struct IngestOptions<'a> {
    pub file: &'a Path,
    /// The delivering platform's credit code.
    pub platform: &'a str,
    pub month: YearMonth,
    pub now: jiff::Timestamp,
}

fn io(e: impl std::fmt::Display) -> Error {
    internal("导入平台数据失败", "cannot ingest the platform data", e)
}

fn unreadable(file: &Path, e: impl std::fmt::Display) -> Error {
    Error::bad_input(
        format!("读不了文件 {}：{e}", file.display()),
        format!("cannot read the file {}: {e}", file.display()),
    )
}

/// Where each delivery column is in the file, or the error naming what is missing/unknown.
fn map_columns(names: &[String]) -> Result<[usize; 7]> {
    let mut at = [usize::MAX; 7];
    let mut unknown = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let n = n.trim().trim_start_matches('\u{feff}');
        match DELIVERY_COLUMNS.iter().position(|c| *c == n) {
            Some(k) if at[k] == usize::MAX => at[k] = i,
            Some(_) => unknown.push(format!("{n}（重复 twice）")),
            None => unknown.push(n.chars().take(40).collect()),
        }
    }
    let missing: Vec<&str> = DELIVERY_COLUMNS
        .iter()
        .zip(at)
        .filter(|(_, a)| *a == usize::MAX)
        .map(|(c, _)| *c)
        .collect();
    if missing.is_empty() && unknown.is_empty() {
        return Ok(at);
    }
    Err(Error::bad_input(
        format!(
            "文件的列不对，整个文件未导入：缺少 {}；不认识的列 {}（列名应为 {}）",
            list(&missing),
            list(&unknown),
            DELIVERY_COLUMNS.join(",")
        ),
        format!(
            "the file's columns are wrong, nothing was imported: missing {}; unknown {} (the columns are {})",
            list(&missing),
            list(&unknown),
            DELIVERY_COLUMNS.join(",")
        ),
    ))
}

fn list<S: AsRef<str>>(v: &[S]) -> String {
    if v.is_empty() {
        "—".to_string()
    } else {
        v.iter().map(|s| s.as_ref()).collect::<Vec<_>>().join(", ")
    }
}

fn order_hash(id: &str) -> u128 {
    let mut a = std::hash::DefaultHasher::new();
    (0u8, id).hash(&mut a);
    let mut b = std::hash::DefaultHasher::new();
    (1u8, id).hash(&mut b);
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

fn china() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::fixed(jiff::tz::offset(8))
}

fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_second());
    }
    let dt = s.parse::<jiff::civil::DateTime>().ok()?;
    dt.to_zoned(china()).ok().map(|z| z.timestamp().as_second())
}

fn valid_area(s: &str) -> bool {
    let (district, cell) = match s.split_once('-') {
        Some((d, c)) => (d, Some(c)),
        None => (s, None),
    };
    let district_ok = district.len() == 6
        && district.bytes().all(|b| b.is_ascii_digit())
        && RegionCode::parse(district).is_ok();
    let cell_ok =
        cell.is_none_or(|c| (1..=4).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_digit()));
    district_ok && cell_ok
}

struct Checker<'a> {
    key: &'a DataKey,
    reg: &'a Registry,
    platform: &'a str,
    month: i32,
    start: i64,
    end: i64,
    now: i64,
    seen: HashSet<u128>,
}

struct Good {
    person: i64,
    ts: i64,
    amount: i64,
    sector: Sector,
}

impl Checker<'_> {
    /// Checks one row given as its seven fields in delivery-column order.
    fn check(&mut self, f: [&str; 7]) -> std::result::Result<Good, Reason> {
        let [order_id, platform, id, time, amount, sector, area] = f.map(str::trim);
        if order_id.is_empty() {
            return Err(Reason::MissingOrderId);
        }
        if order_id.chars().count() > 64 {
            return Err(Reason::BadOrderId);
        }
        if platform != self.platform {
            return Err(match CreditCode::parse(platform) {
                Ok(c) if self.reg.get(c.as_str()).is_some() => Reason::OtherPlatform,
                _ => Reason::UnknownPlatform,
            });
        }
        if id.is_empty() {
            return Err(Reason::MissingId);
        }
        let Ok(rid) = ResidentId::parse(id) else {
            return Err(Reason::MalformedId);
        };
        let ts = parse_time(time).ok_or(Reason::BadTime)?;
        if ts > self.now {
            return Err(Reason::FutureTime);
        }
        if ts < self.start || ts >= self.end {
            return Err(Reason::OtherMonth);
        }
        let amount: i64 = amount.parse().map_err(|_| Reason::BadAmount)?;
        if amount < 0 {
            return Err(Reason::NegativeAmount);
        }
        let sector = Sector::parse(sector).ok_or(Reason::BadSector)?;
        if !valid_area(area) {
            return Err(Reason::BadArea);
        }
        // Last: a refused row does not take its order id.
        if !self.seen.insert(order_hash(order_id)) {
            return Err(Reason::DuplicateOrder);
        }
        Ok(Good {
            person: layout::person_id(self.key, &rid),
            ts,
            amount,
            sector,
        })
    }
}

#[derive(Default)]
struct Out {
    order_id: StringBuilder,
    platform: StringBuilder,
    person: Int64Builder,
    ts: Int64Builder,
    month: Int32Builder,
    amount: Int64Builder,
    sector: StringBuilder,
    area: StringBuilder,
    len: usize,
}

impl Out {
    fn push(&mut self, order_id: &str, platform: &str, month: i32, area: &str, g: &Good) {
        self.order_id.append_value(order_id.trim());
        self.platform.append_value(platform);
        self.person.append_value(g.person);
        self.ts.append_value(g.ts);
        self.month.append_value(month);
        self.amount.append_value(g.amount);
        self.sector.append_value(g.sector.name());
        self.area.append_value(area.trim());
        self.len += 1;
    }
    fn batch(&mut self) -> Result<RecordBatch> {
        self.len = 0;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.order_id.finish()),
            Arc::new(self.platform.finish()),
            Arc::new(self.person.finish()),
            Arc::new(self.ts.finish()),
            Arc::new(self.month.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.sector.finish()),
            Arc::new(self.area.finish()),
        ];
        RecordBatch::try_new(layout::orders_schema(), cols).map_err(io)
    }
}

pub fn writer_props() -> parquet::file::properties::WriterProperties {
    parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(
            parquet::basic::ZstdLevel::try_new(1).unwrap_or_default(),
        ))
        .set_max_row_group_row_count(Some(1 << 20))
        .build()
}

struct Landing {
    path: PathBuf,
    writer: Option<ArrowWriter<File>>,
    out: Out,
    landed: u64,
}

impl Landing {
    fn push(
        &mut self,
        order_id: &str,
        platform: &str,
        month: i32,
        area: &str,
        g: &Good,
    ) -> Result<()> {
        self.out.push(order_id, platform, month, area, g);
        self.landed += 1;
        if self.out.len >= 65_536 {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> Result<()> {
        if self.out.len == 0 {
            return Ok(());
        }
        let batch = self.out.batch()?;
        if self.writer.is_none() {
            let f = File::create(&self.path).map_err(io)?;
            self.writer = Some(
                ArrowWriter::try_new(f, layout::orders_schema(), Some(writer_props()))
                    .map_err(io)?,
            );
        }
        if let Some(w) = self.writer.as_mut() {
            w.write(&batch).map_err(io)?;
        }
        Ok(())
    }
}

/// Order ids already landed for this platform and month (a delivery sent twice is refused
/// row by row as duplicates, so nothing is counted twice).
fn landed_ids(dir: &Path, seen: &mut HashSet<u128>) -> Result<()> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "parquet") {
            continue;
        }
        let f = File::open(&p).map_err(io)?;
        let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(io)?;
        let mask = parquet::arrow::ProjectionMask::roots(b.parquet_schema(), [0]);
        for batch in b.with_projection(mask).build().map_err(io)? {
            let batch = batch.map_err(io)?;
            let col = batch.column(0).as_string::<i32>();
            for i in 0..col.len() {
                seen.insert(order_hash(col.value(i)));
            }
        }
    }
    Ok(())
}

/// A delivery's name: its time, the process and a counter, so that two deliveries taken at
/// once (the API) never share a name.
fn batch_name(now: jiff::Timestamp) -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{}-{n}", now.as_millisecond(), std::process::id())
}

pub fn ingest(
    data_dir: &Path,
    key: &DataKey,
    reg: &Registry,
    o: &IngestOptions,
) -> Result<IngestReport> {
    let code = CreditCode::parse(o.platform).map_err(|_| {
        Error::bad_input(
            "报送平台的统一社会信用代码无效，整个文件未导入",
            "the delivering platform's credit code is not valid; nothing was imported",
        )
    })?;
    if reg.get(code.as_str()).is_none() {
        return Err(Error::new(
            anxin_policy::ErrorKind::NotFound,
            format!(
                "平台 {} 未登记，整个文件未导入：先用 anxin monitor platforms 登记",
                code.as_str()
            ),
            format!(
                "platform {} is not registered, nothing was imported: register it with anxin monitor platforms",
                code.as_str()
            ),
        ));
    }
    let platform = code.as_str().to_string();
    let start = o
        .month
        .first_day()
        .to_zoned(china())
        .map_err(io)?
        .timestamp()
        .as_second();
    let end = o
        .month
        .plus(1)
        .first_day()
        .to_zoned(china())
        .map_err(io)?
        .timestamp()
        .as_second();
    let part = layout::partition_dir(data_dir, o.month, &platform);
    let mut seen = HashSet::new();
    landed_ids(&part, &mut seen)?;
    let mut ck = Checker {
        key,
        reg,
        platform: &platform,
        month: o.month.index(),
        start,
        end,
        now: o.now.as_second(),
        seen,
    };
    let staging = layout::staging_dir(data_dir);
    std::fs::create_dir_all(&staging).map_err(io)?;
    let batch = batch_name(o.now);
    let mut landing = Landing {
        path: staging.join(format!("{batch}.parquet")),
        writer: None,
        out: Out::default(),
        landed: 0,
    };
    let mut refusals: Vec<Refusal> = Vec::new();
    let mut rows = 0u64;
    let result = read_rows(o.file, |line, f| {
        rows += 1;
        match ck.check(f) {
            Ok(g) => landing.push(f[0], &platform, ck.month, f[6], &g),
            Err(reason) => {
                refusals.push(Refusal {
                    line,
                    order_id: f[0].trim().chars().take(64).collect(),
                    reason,
                });
                Ok(())
            }
        }
    })
    .and_then(|_| landing.flush());
    let staged = landing.path.clone();
    let cleanup = || {
        let _ = std::fs::remove_file(&staged);
    };
    if let Err(e) = result {
        cleanup();
        return Err(e);
    }
    let landed = landing.landed;
    let file_bytes;
    let mut file = None;
    if let Some(w) = landing.writer.take() {
        let close = w
            .close()
            .map_err(io)
            .and_then(|_| File::open(&staged).and_then(|f| f.sync_all()).map_err(io));
        if let Err(e) = close {
            cleanup();
            return Err(e);
        }
        file_bytes = std::fs::metadata(&staged).map(|m| m.len()).unwrap_or(0);
        let dest = part.join(format!("{batch}.parquet"));
        if let Err(e) = std::fs::create_dir_all(&part).and_then(|_| std::fs::rename(&staged, &dest))
        {
            cleanup();
            return Err(io(e));
        }
        file = Some(dest);
    } else {
        file_bytes = 0;
    }
    let mut reasons = std::collections::BTreeMap::new();
    for r in &refusals {
        *reasons.entry(r.reason.code()).or_insert(0) += 1;
    }
    let report = if refusals.is_empty() {
        None
    } else {
        Some(write_report(data_dir, &batch, &refusals)?)
    };
    Ok(IngestReport {
        batch,
        platform,
        month: o.month.to_string(),
        rows,
        landed,
        refused: refusals.len() as u64,
        reasons,
        first_refusals: refusals.iter().take(20).cloned().collect(),
        refusals,
        file,
        file_bytes,
        report,
    })
}

fn write_report(data_dir: &Path, batch: &str, refusals: &[Refusal]) -> Result<PathBuf> {
    let dir = layout::reports_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(io)?;
    let path = dir.join(format!("{batch}-refused.csv"));
    let mut w = csv::Writer::from_path(&path).map_err(io)?;
    w.write_record(["line", "order_id", "reason", "原因", "why"])
        .map_err(io)?;
    for r in refusals {
        w.write_record([
            &r.line.to_string(),
            &r.order_id,
            r.reason.code(),
            r.reason.zh(),
            r.reason.en(),
        ])
        .map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(path)
}

/// Calls `row(line, fields)` for every row of a CSV or Parquet delivery, fields in delivery
/// column order; a file that cannot be read or has the wrong columns is an error before any
/// row.
fn read_rows(file: &Path, mut row: impl FnMut(u64, [&str; 7]) -> Result<()>) -> Result<()> {
    let is_parquet = file
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("parquet"));
    if is_parquet {
        let f = File::open(file).map_err(|e| unreadable(file, e))?;
        let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| unreadable(file, e))?;
        let names: Vec<String> = b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let at = map_columns(&names)?;
        let reader = b
            .with_batch_size(8192)
            .build()
            .map_err(|e| unreadable(file, e))?;
        let mut line = 1u64;
        for batch in reader {
            let batch = batch.map_err(|e| unreadable(file, e))?;
            let cols: Vec<ArrayRef> = at
                .iter()
                .map(|&i| arrow::compute::cast(batch.column(i), &DataType::Utf8))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| unreadable(file, e))?;
            let strs: Vec<&arrow::array::StringArray> =
                cols.iter().map(|c| c.as_string::<i32>()).collect();
            for i in 0..batch.num_rows() {
                line += 1;
                let get = |k: usize| {
                    if strs[k].is_null(i) {
                        ""
                    } else {
                        strs[k].value(i)
                    }
                };
                row(
                    line,
                    [get(0), get(1), get(2), get(3), get(4), get(5), get(6)],
                )?;
            }
        }
        return Ok(());
    }
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(file)
        .map_err(|e| unreadable(file, e))?;
    let names: Vec<String> = r
        .headers()
        .map_err(|e| unreadable(file, e))?
        .iter()
        .map(str::to_string)
        .collect();
    let at = map_columns(&names)?;
    let mut rec = csv::StringRecord::new();
    loop {
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                let get = |k: usize| rec.get(at[k]).unwrap_or("");
                row(
                    line,
                    [get(0), get(1), get(2), get(3), get(4), get(5), get(6)],
                )?;
            }
            Err(e) => {
                return Err(Error::bad_input(
                    format!(
                        "文件 {} 不是有效的 UTF-8 CSV，整个文件未导入：{e}",
                        file.display()
                    ),
                    format!(
                        "{} is not valid UTF-8 CSV, nothing was imported: {e}",
                        file.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The instance's insured state from a CSV of runs (`resident_id,from,to,region`, months as
/// YYYY-MM) into `insured/insured.parquet`, replacing the previous one in one rename. Any bad
/// line refuses the whole file (it is the instance's own export, not a delivery).
pub fn load_insured(data_dir: &Path, key: &DataKey, file: &Path) -> Result<u64> {
    let mut r = csv::Reader::from_path(file).map_err(|e| unreadable(file, e))?;
    let head: Vec<String> = r
        .headers()
        .map_err(|e| unreadable(file, e))?
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    if head != crate::synth::INSURED_HEADER {
        return Err(Error::bad_input(
            format!(
                "参保记录的表头应为 {}",
                crate::synth::INSURED_HEADER.join(",")
            ),
            format!(
                "the insured file's header must be {}",
                crate::synth::INSURED_HEADER.join(",")
            ),
        ));
    }
    let (mut person, mut from, mut to, mut region) = (
        Int64Builder::new(),
        Int32Builder::new(),
        Int32Builder::new(),
        StringBuilder::new(),
    );
    let mut n = 0u64;
    for rec in r.records() {
        let rec = rec.map_err(|e| unreadable(file, e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let bad = |zh: &str, en: &str| {
            Error::bad_input(
                format!("参保记录第 {line} 行：{zh}，整个文件未导入"),
                format!("insured file line {line}: {en}; nothing was imported"),
            )
        };
        let id = ResidentId::parse(rec.get(0).unwrap_or(""))
            .map_err(|_| bad("身份证号无效", "the resident ID is not valid"))?;
        let f = YearMonth::parse(rec.get(1).unwrap_or("").trim())
            .map_err(|_| bad("起始月份应为 YYYY-MM", "the first month must be YYYY-MM"))?;
        let t = YearMonth::parse(rec.get(2).unwrap_or("").trim())
            .map_err(|_| bad("终止月份应为 YYYY-MM", "the last month must be YYYY-MM"))?;
        if t < f {
            return Err(bad(
                "终止月份早于起始月份",
                "the last month is before the first",
            ));
        }
        let reg = rec.get(3).unwrap_or("").trim();
        RegionCode::parse(reg)
            .map_err(|_| bad("参保地区代码无效", "the region code is not valid"))?;
        person.append_value(layout::person_id(key, &id));
        from.append_value(f.index());
        to.append_value(t.index());
        region.append_value(reg);
        n += 1;
    }
    write_insured(data_dir, person, from, to, region)?;
    Ok(n)
}

/// Writes `insured/insured.parquet` from its four columns, replacing the previous file in one
/// rename.
fn write_insured(
    data_dir: &Path,
    mut person: Int64Builder,
    mut from: Int32Builder,
    mut to: Int32Builder,
    mut region: StringBuilder,
) -> Result<()> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(person.finish()),
        Arc::new(from.finish()),
        Arc::new(to.finish()),
        Arc::new(region.finish()),
    ];
    let batch = RecordBatch::try_new(layout::insured_schema(), cols).map_err(io)?;
    replace_file(&layout::insured_file(data_dir), &batch)
}

/// Writes `batch` as the Parquet file `dest`, replacing the previous one in one rename.
fn replace_file(dest: &Path, batch: &RecordBatch) -> Result<()> {
    let dir = dest.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&dir).map_err(io)?;
    let mut tmp = dest.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let f = File::create(&tmp).map_err(io)?;
    let mut w = ArrowWriter::try_new(f, batch.schema(), Some(writer_props())).map_err(io)?;
    w.write(batch).map_err(io)?;
    w.close().map_err(io)?;
    std::fs::rename(&tmp, dest).map_err(io)?;
    Ok(())
}

/// What [`insured_from_records`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct InsuredFromRecords {
    /// Contribution months read (every insurance, every state).
    pub months_read: u64,
    /// Of them paid (on time or back-paid).
    pub paid: u64,
    /// People with at least one paid month.
    pub persons: u64,
    /// Runs of consecutive paid months written (per person and insuring region).
    pub runs: u64,
}

/// The instance's insured state from its own records store, the way an instance that runs the
/// monitor beside its records knows it: every paid or back-paid contribution month (any
/// insurance) of each person, as runs of consecutive months per insuring region, into
/// `insured/insured.parquet` (replacing the previous one in one rename). A person is the
/// records' own key, so no resident ID is read or hashed here. The store is read in pages of
/// `page` log entries.
pub fn insured_from_records(
    data_dir: &Path,
    store: &mut dyn anxin_records::store::Store,
    page: u64,
) -> Result<InsuredFromRecords> {
    let store_err = |e: anxin_records::Error| {
        crate::internal("读取记录库失败", "cannot read the records store", e)
    };
    let size = store.head().map_err(store_err)?.size;
    let mut paid: Vec<(i64, u32, i32)> = Vec::new();
    let mut out = InsuredFromRecords::default();
    let mut distinct = 0;
    let mut at = 0;
    while at < size {
        let to = at.saturating_add(page.max(1)).min(size);
        for c in store.contributions(at, to).map_err(store_err)? {
            out.months_read += 1;
            if c.status.is_paid() {
                out.paid += 1;
                paid.push((layout::person_of_key(&c.person), c.region, c.month));
            }
        }
        at = to;
        // The same month paid for several insurances is one paid month: keep memory to the
        // distinct months as the list grows.
        if paid.len() > (1 << 22) && paid.len() > 2 * distinct {
            paid.sort_unstable();
            paid.dedup();
            distinct = paid.len();
        }
    }
    paid.sort_unstable();
    paid.dedup();
    let (mut person, mut from, mut to, mut region) = (
        Int64Builder::new(),
        Int32Builder::new(),
        Int32Builder::new(),
        StringBuilder::new(),
    );
    let mut last_person = None;
    // Runs of (person, region, first month, last month).
    let mut runs: Vec<(i64, u32, i32, i32)> = Vec::new();
    for (p, reg, m) in paid {
        if last_person != Some(p) {
            out.persons += 1;
            last_person = Some(p);
        }
        match runs.last_mut() {
            Some(r) if r.0 == p && r.1 == reg && m == r.3 + 1 => r.3 = m,
            _ => runs.push((p, reg, m, m)),
        }
    }
    for (p, reg, f, t) in &runs {
        person.append_value(*p);
        region.append_value(format!("{reg:06}"));
        from.append_value(*f);
        to.append_value(*t);
    }
    out.runs = runs.len() as u64;
    write_insured(data_dir, person, from, to, region)?;
    Ok(out)
}

/// The school cohort into `insured/school.parquet` (replacing the previous one in one rename):
/// each person (the records' key) whose enrolment a school review drove, with the review's
/// month. Returns the rows written.
pub fn write_school(data_dir: &Path, cohort: &[([u8; 32], YearMonth)]) -> Result<u64> {
    let mut rows: Vec<(i64, i32)> = cohort
        .iter()
        .map(|(k, m)| (layout::person_of_key(k), m.index()))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let (mut person, mut reviewed) = (Int64Builder::new(), Int32Builder::new());
    for (p, m) in &rows {
        person.append_value(*p);
        reviewed.append_value(*m);
    }
    let cols: Vec<ArrayRef> = vec![Arc::new(person.finish()), Arc::new(reviewed.finish())];
    let batch = RecordBatch::try_new(layout::school_schema(), cols).map_err(io)?;
    replace_file(&layout::school_file(data_dir), &batch)?;
    Ok(rows.len() as u64)
}
