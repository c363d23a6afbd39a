//! Records of anxin (SPEC §L): the registry, contributions with their double entries, the
//! tamper-evident event log over a storage trait, the audit, and certificates.
//!
//! Every change is an [`event::Event`] appended to an RFC 9162 Merkle log and projected into
//! query tables in the same transaction; the projections can always be recomputed from the
//! log, which is what [`Records::audit`] does. This crate knows no database: backends
//! implement [`store::Store`].

pub mod access;
pub mod account;
pub mod audit;
pub mod cert;
pub mod cert_code;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
pub mod event;
pub mod identify;
pub mod inbox;
pub mod input;
pub mod jobs;
pub mod keys;
pub mod log;
pub mod payer;
pub mod records;
pub mod signup;
pub mod store;
pub mod stored_codes;
pub mod tiles;
pub mod transfer;
pub mod view;
pub mod witness;

pub use audit::{AuditReport, AuditScope, Finding, Known, OutsideRead};
pub use cert::{Certificate, Verification};
pub use cert_code::{Certified, CodeCheck, VerifyCode};
pub use error::{Error, Result};
pub use input::{ChildInput, ContributionInput, Input, OrgInput, PersonInput};
pub use keys::{DataKey, PersonKey};
pub use log::{Frontier, Suite, SuiteHasher, TreeHash};
pub use payer::PayerWorker;
pub use records::{Committed, NO_PERSON, Outcome, OutsideCheckpoint, Records, Rejection, Secrets};
pub use store::{Head, Store, Txn};
