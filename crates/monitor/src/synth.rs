//! A seeded month (or months) of platform activity, as platforms would deliver it, with the
//! registry and insured state an instance would know (`anxin monitor gen`).
//!
//! Shapes (each a share drawn from the worker's own stream, all synthetic, none sourced):
//! six platforms in three sectors of different size; 35 % full-timers (5–8 times the orders of
//! a part-timer); 25 % work on a second platform; 22 % never insured, 10 % stopped paying
//! 3–14 months before the last month, 8 % missed the last one or two months, the rest paying,
//! 12 % of whom see their orders fall by 60 % in the last month; 10 % of the insured are insured
//! in another province the instance knows. Areas are grid cells `DDDDDD-NNN` of nine districts
//! of Zhejiang, 85 % of a worker's orders in their home cell. The ID numbers are synthetic
//! (valid GB 11643 check digits, addresses of the districts, birth dates 1970–2003).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anxin_domain::{CreditCode, ResidentId, YearMonth};
use anxin_policy::calc::injury::{DeliveryTier, Sector};
use arrow::array::{ArrayRef, Int64Builder, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;

use crate::platforms::{Platform, Registry};
use crate::rng::Rng;
use crate::{Error, Result, internal};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

#[derive(Clone, Debug)]
pub struct GenOptions {
    pub workers: u64,
    /// Orders in each month.
    pub orders: u64,
    pub seed: u64,
    /// The last month generated.
    pub month: YearMonth,
    /// How many months end at `month` (income drops need the months before).
    pub months: u32,
    pub format: Format,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GenSummary {
    pub platforms: usize,
    pub workers: u64,
    pub orders: u64,
    pub insured_runs: u64,
    pub files: Vec<PathBuf>,
}

pub const DISTRICTS: [&str; 9] = [
    "330102", "330105", "330106", "330108", "330109", "330110", "330203", "330212", "330602",
];
const CELLS: i64 = 30;
/// At most this many workers: ID numbers are made from the index without repeats.
pub const MAX_WORKERS: u64 = 9 * 12_000 * 1_000;

struct PlatformSpec {
    name: &'static str,
    sector: Sector,
    tier: Option<DeliveryTier>,
    weight: u64,
}

const PLATFORMS: [PlatformSpec; 6] = [
    PlatformSpec {
        name: "示例出行甲",
        sector: Sector::RideHailing,
        tier: None,
        weight: 20,
    },
    PlatformSpec {
        name: "示例出行乙",
        sector: Sector::RideHailing,
        tier: None,
        weight: 8,
    },
    PlatformSpec {
        name: "示例配送甲",
        sector: Sector::InstantDelivery,
        tier: Some(DeliveryTier::High),
        weight: 30,
    },
    PlatformSpec {
        name: "示例配送乙",
        sector: Sector::InstantDelivery,
        tier: Some(DeliveryTier::Standard),
        weight: 20,
    },
    PlatformSpec {
        name: "示例配送丙",
        sector: Sector::InstantDelivery,
        tier: Some(DeliveryTier::Standard),
        weight: 10,
    },
    PlatformSpec {
        name: "示例货运甲",
        sector: Sector::SameCityFreight,
        tier: None,
        weight: 12,
    },
];

/// The synthetic platforms' credit codes (valid GB 32100 check characters).
pub fn platform_code(i: usize) -> CreditCode {
    // Seventeen characters of the code's alphabet: always completes.
    CreditCode::complete(&format!("91330106MA2H0000{}", i % 9 + 1))
        .expect("a fixed prefix of valid characters")
}

pub fn registry() -> Registry {
    let mut r = Registry::default();
    for (i, p) in PLATFORMS.iter().enumerate() {
        let code = platform_code(i);
        r.0.insert(
            code.as_str().to_string(),
            Platform {
                code,
                name: p.name.to_string(),
                sector: p.sector,
                tier: p.tier,
            },
        );
    }
    r
}

/// The synthetic ID of worker `i`: a district's address, a birth date, a sequence number.
pub fn resident_id(i: u64) -> ResidentId {
    let district = DISTRICTS[(i % 9) as usize];
    let day = (i / 9) % 12_000;
    let seq = (i / 108_000) % 1_000;
    let birth = jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(day as i64))
        .unwrap_or(jiff::civil::date(1970, 1, 1));
    let prefix = format!(
        "{district}{:04}{:02}{:02}{seq:03}",
        birth.year(),
        birth.month(),
        birth.day()
    );
    ResidentId::complete(&prefix).unwrap_or_else(|_| {
        ResidentId::complete("33010619700101001").expect("a fixed valid prefix")
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Uninsured,
    Stopped,
    Missed,
    Paying,
}

struct Worker {
    district: usize,
    cell: i64,
    weight: u64,
    primary: usize,
    second: Option<usize>,
    status: Status,
    drops: bool,
}

fn pick_platform(r: &mut Rng) -> usize {
    let total: u64 = PLATFORMS.iter().map(|p| p.weight).sum();
    let mut x = r.below(total);
    for (i, p) in PLATFORMS.iter().enumerate() {
        if x < p.weight {
            return i;
        }
        x -= p.weight;
    }
    0
}

fn worker(seed: u64, i: u64) -> Worker {
    let mut r = Rng::stream(seed, i);
    let district = (i % 9) as usize;
    let cell = r.range(1, CELLS);
    let full = r.chance(350);
    let weight = if full { r.range(5, 8) } else { r.range(1, 2) } as u64;
    let primary = pick_platform(&mut r);
    let second = if r.chance(250) {
        let s = pick_platform(&mut r);
        (s != primary).then_some(s)
    } else {
        None
    };
    let u = r.below(1000);
    let status = match u {
        0..220 => Status::Uninsured,
        220..320 => Status::Stopped,
        320..400 => Status::Missed,
        _ => Status::Paying,
    };
    let drops = status == Status::Paying && r.chance(120);
    Worker {
        district,
        cell,
        weight,
        primary,
        second,
        status,
        drops,
    }
}

fn weight_in(w: &Worker, last: bool, months: u32) -> u64 {
    // A drop of 60 %: weights are in tenths.
    if last && months > 1 && w.drops {
        w.weight * 4
    } else {
        w.weight * 10
    }
}

fn io(e: impl std::fmt::Display) -> Error {
    internal("写生成数据失败", "cannot write the generated data", e)
}

pub fn delivery_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Utf8, false),
        Field::new("platform", DataType::Utf8, false),
        Field::new("resident_id", DataType::Utf8, false),
        Field::new("time", DataType::Utf8, false),
        Field::new("amount_fen", DataType::Int64, false),
        Field::new("sector", DataType::Utf8, false),
        Field::new("area", DataType::Utf8, false),
    ]))
}

enum Sink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Parquet(Box<ArrowWriter<File>>, Box<Buffers>),
}

#[derive(Default)]
struct Buffers {
    order_id: StringBuilder,
    platform: StringBuilder,
    resident_id: StringBuilder,
    time: StringBuilder,
    amount: Int64Builder,
    sector: StringBuilder,
    area: StringBuilder,
    len: usize,
}

impl Buffers {
    fn batch(&mut self) -> Result<RecordBatch> {
        self.len = 0;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(self.order_id.finish()),
            Arc::new(self.platform.finish()),
            Arc::new(self.resident_id.finish()),
            Arc::new(self.time.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.sector.finish()),
            Arc::new(self.area.finish()),
        ];
        RecordBatch::try_new(delivery_schema(), cols).map_err(io)
    }
}

struct Row<'a> {
    order_id: &'a str,
    platform: &'a str,
    id: &'a str,
    time: &'a str,
    amount: i64,
    sector: &'a str,
    area: &'a str,
}

impl Sink {
    fn open(path: &Path, format: Format) -> Result<Sink> {
        let f = File::create(path).map_err(io)?;
        Ok(match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f));
                w.write_record(crate::layout::DELIVERY_COLUMNS)
                    .map_err(io)?;
                Sink::Csv(Box::new(w))
            }
            Format::Parquet => {
                let props = parquet::file::properties::WriterProperties::builder()
                    .set_compression(parquet::basic::Compression::SNAPPY)
                    .build();
                let w = ArrowWriter::try_new(f, delivery_schema(), Some(props)).map_err(io)?;
                Sink::Parquet(Box::new(w), Box::default())
            }
        })
    }

    fn push(&mut self, r: Row) -> Result<()> {
        match self {
            Sink::Csv(w) => w
                .write_record([
                    r.order_id,
                    r.platform,
                    r.id,
                    r.time,
                    &r.amount.to_string(),
                    r.sector,
                    r.area,
                ])
                .map_err(io),
            Sink::Parquet(w, b) => {
                b.order_id.append_value(r.order_id);
                b.platform.append_value(r.platform);
                b.resident_id.append_value(r.id);
                b.time.append_value(r.time);
                b.amount.append_value(r.amount);
                b.sector.append_value(r.sector);
                b.area.append_value(r.area);
                b.len += 1;
                if b.len >= 65_536 {
                    let batch = b.batch()?;
                    w.write(&batch).map_err(io)?;
                }
                Ok(())
            }
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Csv(mut w) => w.flush().map_err(io),
            Sink::Parquet(mut w, mut b) => {
                if b.len > 0 {
                    let batch = b.batch()?;
                    w.write(&batch).map_err(io)?;
                }
                w.close().map_err(io).map(|_| ())
            }
        }
    }
}

/// `2026-03-05T12:34:56+08:00` for `secs` seconds into `month` (China time).
fn time_text(month: YearMonth, secs: i64) -> String {
    let day = secs / 86_400 + 1;
    let rem = secs % 86_400;
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
        month.year(),
        month.month(),
        day,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn days_in(month: YearMonth) -> i64 {
    i64::from(month.first_day().days_in_month())
}

pub fn generate(out: &Path, o: &GenOptions) -> Result<GenSummary> {
    if o.workers == 0 || o.workers > MAX_WORKERS {
        return Err(Error::bad_input(
            format!("人数要在 1 到 {MAX_WORKERS} 之间"),
            format!("the number of workers must be 1 to {MAX_WORKERS}"),
        ));
    }
    if o.months == 0 || o.months > 36 {
        return Err(Error::bad_input(
            "月数要在 1 到 36 之间",
            "the number of months must be 1 to 36",
        ));
    }
    if o.orders > 10_000_000_000 {
        return Err(Error::bad_input(
            "每月订单数不能超过 100 亿",
            "at most 10 billion orders a month",
        ));
    }
    std::fs::create_dir_all(out.join("orders")).map_err(io)?;
    let reg = registry();
    reg.write(&out.join("platforms.csv"))?;
    let codes: Vec<String> = (0..PLATFORMS.len())
        .map(|i| platform_code(i).as_str().to_string())
        .collect();
    let mut summary = GenSummary {
        platforms: PLATFORMS.len(),
        workers: o.workers,
        ..GenSummary::default()
    };
    let first = o.month.plus(-(o.months as i32 - 1));
    for k in 0..o.months {
        let month = first.plus(k as i32);
        let last = k + 1 == o.months;
        let total_w: u128 = (0..o.workers)
            .map(|i| weight_in(&worker(o.seed, i), last, o.months) as u128)
            .sum();
        let ext = match o.format {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        };
        let mut sinks = Vec::new();
        for code in &codes {
            let path = out.join("orders").join(format!("{code}-{month}.{ext}"));
            sinks.push(Sink::open(&path, o.format)?);
            summary.files.push(path);
        }
        let mut seq = vec![0u64; PLATFORMS.len()];
        let days = days_in(month);
        let yyyymm = format!("{:04}{:02}", month.year(), month.month());
        // Exactly o.orders: each worker's share floored, the remainder one each to the first.
        let mut given = 0u64;
        let mut floor_sum = 0u64;
        for i in 0..o.workers {
            let w = weight_in(&worker(o.seed, i), last, o.months) as u128;
            floor_sum += (o.orders as u128 * w / total_w.max(1)) as u64;
        }
        let mut remainder = o.orders.saturating_sub(floor_sum);
        for i in 0..o.workers {
            let wk = worker(o.seed, i);
            let w = weight_in(&wk, last, o.months) as u128;
            let mut n = (o.orders as u128 * w / total_w.max(1)) as u64;
            if remainder > 0 {
                n += 1;
                remainder -= 1;
            }
            if n == 0 {
                continue;
            }
            let id = resident_id(i);
            let mut r = Rng::stream(o.seed ^ (month.index() as u64).wrapping_mul(0x1000_0001), i);
            let home = format!("{}-{:03}", DISTRICTS[wk.district], wk.cell);
            for _ in 0..n {
                let p = match wk.second {
                    Some(s) if r.chance(300) => s,
                    _ => wk.primary,
                };
                let spec = &PLATFORMS[p];
                let amount = match spec.sector {
                    Sector::RideHailing => r.range(1_200, 6_000),
                    Sector::SameCityFreight => r.range(3_000, 15_000),
                    _ => r.range(500, 1_500),
                };
                let area = if r.chance(850) {
                    home.clone()
                } else {
                    let d = r.below(DISTRICTS.len() as u64) as usize;
                    format!("{}-{:03}", DISTRICTS[d], r.range(1, CELLS))
                };
                let secs = r.range(6 * 3600, days * 86_400 - 1);
                seq[p] += 1;
                let order_id = format!("P{}-{yyyymm}-{:010}", p + 1, seq[p]);
                sinks[p].push(Row {
                    order_id: &order_id,
                    platform: &codes[p],
                    id: id.expose(),
                    time: &time_text(month, secs),
                    amount,
                    sector: spec.sector.name(),
                    area: &area,
                })?;
                given += 1;
            }
        }
        for s in sinks {
            s.finish()?;
        }
        summary.orders += given;
    }
    summary.insured_runs = write_insured(&out.join("insured.csv"), o)?;
    Ok(summary)
}

/// The runs of paid months the instance knows, one line a run: `resident_id,from,to,region`.
fn write_insured(path: &Path, o: &GenOptions) -> Result<u64> {
    let f = File::create(path).map_err(io)?;
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f));
    w.write_record(INSURED_HEADER).map_err(io)?;
    let last = o.month;
    let mut runs = 0u64;
    for i in 0..o.workers {
        let wk = worker(o.seed, i);
        let mut r = Rng::stream(o.seed ^ 0x5eed_1275, i);
        let to = match wk.status {
            Status::Uninsured => continue,
            Status::Stopped => last.plus(-(r.range(3, 14) as i32)),
            Status::Missed => last.plus(-(r.range(1, 2) as i32)),
            Status::Paying => last,
        };
        let from = to.plus(-(r.range(3, 48) as i32));
        let region = if r.chance(100) { "340000" } else { "330000" };
        let id = resident_id(i);
        w.write_record([id.expose(), &from.to_string(), &to.to_string(), region])
            .map_err(io)?;
        runs += 1;
        if r.chance(150) {
            let to2 = from.plus(-(r.range(2, 12) as i32));
            let from2 = to2.plus(-(r.range(1, 24) as i32));
            w.write_record([id.expose(), &from2.to_string(), &to2.to_string(), region])
                .map_err(io)?;
            runs += 1;
        }
    }
    w.flush().map_err(io)?;
    Ok(runs)
}

pub const INSURED_HEADER: [&str; 4] = ["resident_id", "from", "to", "region"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_codes_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for i in (0..MAX_WORKERS).step_by(997_331).chain(0..2000) {
            let id = resident_id(i);
            assert!(ResidentId::parse(id.expose()).is_ok());
            seen.insert((i, id.expose().to_string()));
        }
        let ids: std::collections::HashSet<String> = (0..5000)
            .map(|i| resident_id(i).expose().to_string())
            .collect();
        assert_eq!(ids.len(), 5000);
        for i in 0..PLATFORMS.len() {
            assert!(CreditCode::parse(platform_code(i).as_str()).is_ok());
        }
        assert_eq!(registry().0.len(), 6);
    }

    #[test]
    fn exact_order_count_and_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let o = GenOptions {
            workers: 300,
            orders: 5_000,
            seed: 42,
            month: YearMonth::new(2026, 3).unwrap(),
            months: 2,
            format: Format::Csv,
        };
        let s = generate(dir.path(), &o).unwrap();
        assert_eq!(s.orders, 10_000);
        let a = std::fs::read(&s.files[0]).unwrap();
        let dir2 = tempfile::tempdir().unwrap();
        let s2 = generate(dir2.path(), &o).unwrap();
        assert_eq!(a, std::fs::read(&s2.files[0]).unwrap());
        let bad = GenOptions { workers: 0, ..o };
        assert_eq!(
            generate(dir.path(), &bad).unwrap_err().kind,
            crate::ErrorKind::BadInput
        );
    }
}
