//! Where the monitor keeps its data under the data directory, and the columns of each file.
//!
//! ```text
//! DATA/monitor/platforms.csv                                the registered platforms
//! DATA/monitor/insured/insured.parquet                      runs of paid months the instance knows
//! DATA/monitor/insured/school.parquet                       the school cohort (person, review month)
//! DATA/monitor/orders/month=YYYY-MM/platform=CODE/B.parquet one file per accepted delivery
//! DATA/monitor/reports/B-refused.csv                        the refused rows of delivery B
//! DATA/monitor/runs/YYYY-MM/*.csv                           the monthly run's results
//! ```
//!
//! A worker is stored as `person`: the first 8 bytes (big-endian, signed) of the deployment's
//! keyed hash of the resident ID (`DataKey::person_key`, the key the records use). An integer
//! joins and groups fast in any engine; two of 10 million workers share one with probability
//! about n²/2^65 ≈ 3·10⁻⁶, and the full key of a person found by an alert is looked up by this
//! prefix. Months are stored as their index (`YearMonth::index`: year × 12 + month − 1), so
//! "months between" is a subtraction in SQL.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anxin_domain::{ResidentId, YearMonth};
use anxin_records::keys::DataKey;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("monitor")
}
pub fn orders_dir(data_dir: &Path) -> PathBuf {
    root(data_dir).join("orders")
}
pub fn partition_dir(data_dir: &Path, month: YearMonth, platform: &str) -> PathBuf {
    orders_dir(data_dir)
        .join(format!("month={month}"))
        .join(format!("platform={platform}"))
}
pub fn insured_file(data_dir: &Path) -> PathBuf {
    root(data_dir).join("insured").join("insured.parquet")
}
/// The school cohort: people whose enrolment a school review drove, and the review's month.
pub fn school_file(data_dir: &Path) -> PathBuf {
    root(data_dir).join("insured").join("school.parquet")
}
pub fn platforms_file(data_dir: &Path) -> PathBuf {
    root(data_dir).join("platforms.csv")
}
pub fn reports_dir(data_dir: &Path) -> PathBuf {
    root(data_dir).join("reports")
}
pub fn runs_dir(data_dir: &Path, month: YearMonth) -> PathBuf {
    root(data_dir).join("runs").join(month.to_string())
}
pub fn staging_dir(data_dir: &Path) -> PathBuf {
    root(data_dir).join(".staging")
}

/// The columns a platform delivers, in this order (CSV header or Parquet field names).
pub const DELIVERY_COLUMNS: [&str; 7] = [
    "order_id",
    "platform",
    "resident_id",
    "time",
    "amount_fen",
    "sector",
    "area",
];

/// The stored order: what a delivery row becomes once checked and pseudonymised.
pub fn orders_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Utf8, false),
        Field::new("platform", DataType::Utf8, false),
        Field::new("person", DataType::Int64, false),
        Field::new("ts", DataType::Int64, false),
        Field::new("month", DataType::Int32, false),
        Field::new("amount_fen", DataType::Int64, false),
        Field::new("sector", DataType::Utf8, false),
        Field::new("area", DataType::Utf8, false),
    ]))
}

/// Runs of paid months the instance knows (both ends included), with the insuring region.
pub fn insured_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("person", DataType::Int64, false),
        Field::new("from_month", DataType::Int32, false),
        Field::new("to_month", DataType::Int32, false),
        Field::new("region", DataType::Utf8, false),
    ]))
}

/// The school cohort: a person whose (re-)enrolment a school review drove, and the month of
/// that review (its index).
pub fn school_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("person", DataType::Int64, false),
        Field::new("reviewed", DataType::Int32, false),
    ]))
}

/// The monitor's pseudonym of a worker: the keyed hash's first 8 bytes as a signed integer.
pub fn person_id(key: &DataKey, id: &ResidentId) -> i64 {
    person_of_key(&key.person_key(id).0)
}

/// The monitor's pseudonym of a person the records know by their key.
pub fn person_of_key(key: &[u8; 32]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&key[..8]);
    i64::from_be_bytes(b)
}

/// How a pseudonym is shown: 16 hex digits, the prefix of the person's key in the records.
pub fn person_hex(person: i64) -> String {
    format!("{:016x}", person as u64)
}
