//! Domain types shared by every anxin crate.
//!
//! Nothing here does IO, and nothing here can fail on valid input: every constructor from
//! outside data returns a `Result` whose error says what is wrong and what is allowed.

mod calendar;
mod clock;
pub mod codes;
mod ids;
mod money;
mod month;
mod region;
pub mod text;

pub use calendar::{CalendarError, MAX_WORKING_DAYS, WorkCalendar};
pub use clock::{Clock, SharedClock, SystemClock, TestClock, china, system_clock};
pub use codes::{
    Code, EmploymentForm, GapReason, Insurance, OrgKind, Payer, ProofKind, Relation, Status,
    UnknownCode, YesNo,
};
pub use ids::{CreditCode, IdError, ResidentId, Sex};
pub use jiff::SignedDuration;
pub use money::{Bps, Fen, MoneyError, Rounding};
pub use month::{MonthError, YearMonth};
pub use region::{RegionCode, RegionError};
pub use text::{ErrorKind, Lang, Text};
