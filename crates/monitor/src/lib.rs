//! anxin monitor (issue 16; SPEC §M1–§M3, §W6, §C6): platform activity at province scale.
//!
//! - [`synth`]: a seeded month (or months) of platform orders with realistic shapes, and the
//!   registry and insured state the instance knows to match them;
//! - [`ingest`]: a platform's delivery (CSV or Parquet) checked row by row, the resident ID
//!   replaced at once by the deployment's keyed hash, the good rows landed as one Parquet file
//!   partitioned by month and platform (one rename: nothing is ever half-imported);
//! - [`run`]: the monthly run, SQL on Apache DataFusion over the Parquet files: alerts per grid
//!   cell, platform compliance per year, each platform's occupational-injury bill (the injury
//!   calculator's own resolve → compute) and union dues by active workers (a reform overlay).
//!
//! This crate alone carries DataFusion, Arrow and Parquet, so no other crate's build waits for
//! them. Every threshold is a parameter (`policy/params/000000-monitor.toml`); the SQL text is
//! in `sql/`, shared word for word with the DuckDB side of `scripts/bench-monitor.sh`.

pub mod ingest;
pub mod layout;
pub mod platforms;
pub mod rng;
#[cfg(feature = "engine")]
pub mod run;
pub mod synth;

pub use anxin_policy::{Error, ErrorKind};
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An I/O or engine failure, in both languages; never carries a row's content.
pub(crate) fn internal(what_zh: &str, what_en: &str, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("{what_zh}：{e}"),
        format!("{what_en}: {e}"),
    )
}
