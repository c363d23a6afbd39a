//! Policy as code (SPEC §P and §C).
//!
//! - [`load`]: the parameter files, validated strictly (unknown key, wrong unit, missing
//!   source, overlapping dates, a region without a parent: each an error with file and line);
//! - [`scope`]: resolving a parameter for a region, date and reforms (reforms overlay the law
//!   in force; a city inherits from its province, a province from the national level);
//! - [`calc`]: the calculators, each returning its result with a [`trace::Trace`];
//! - [`batch`]: the same rules evaluated column-wise over whole populations;
//! - [`sim`]: the microsimulation of a synthetic population over years, on those rules.
//!
//! This crate reads its files and does nothing else: no network, no database, no clock
//! (callers pass "today").

pub mod batch;
pub mod calc;
pub mod calendar;
pub mod cohort;
mod error;
pub mod load;
pub mod schema;
pub mod scope;
pub mod sim;
pub mod trace;
pub mod value;

pub use error::{Error, ErrorKind, Result};
pub use load::{Confidence, LoadError, Policy, Reform, Region, Source};
pub use schema::{Key, param};
pub use scope::{ParamRef, Scope};
pub use trace::{GLOSSARY, Lang, Trace};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
