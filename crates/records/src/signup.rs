//! A worker's own sign-up (issue 13): a request that waits until a clerk of the region it
//! names confirms the worker's identity at the first visit, or refuses it with a reason.
//!
//! The resident ID, the name and the phone are never stored in clear: the request holds the
//! ID's keyed hash (the person key, as the registry does) and the three sealed to that key
//! ([`SignupPrivate`]). The password is an Argon2id hash from the start, so the clerk never
//! sees or sets it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::{DataKey, PersonKey};

/// What a request holds sealed: only its holder and a clerk opening it see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupPrivate {
    pub resident_id: String,
    pub name: String,
    pub phone: String,
}

impl SignupPrivate {
    pub fn seal(&self, key: &DataKey, person: &PersonKey) -> Result<Vec<u8>> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::Store(e.to_string()))?;
        key.seal(person, &bytes)
    }

    pub fn open(key: &DataKey, person: &PersonKey, sealed: &[u8]) -> Result<SignupPrivate> {
        let bytes = key.open(person, sealed)?;
        serde_json::from_slice(&bytes)
            .map_err(|_| Error::Corrupt("a sign-up's sealed part does not parse".into()))
    }
}

/// A request to store.
#[derive(Debug, Clone)]
pub struct NewSignup {
    pub username: String,
    pub person: [u8; 32],
    pub sealed: Vec<u8>,
    /// The region whose office the worker will visit (six digits).
    pub region: u32,
    pub password_hash: String,
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupState {
    Pending,
    Confirmed,
    Refused,
}

impl SignupState {
    pub fn as_str(self) -> &'static str {
        match self {
            SignupState::Pending => "pending",
            SignupState::Confirmed => "confirmed",
            SignupState::Refused => "refused",
        }
    }

    pub fn parse(text: &str) -> Result<SignupState> {
        match text {
            "pending" => Ok(SignupState::Pending),
            "confirmed" => Ok(SignupState::Confirmed),
            "refused" => Ok(SignupState::Refused),
            other => Err(Error::Corrupt(format!("a sign-up in state {other:?}"))),
        }
    }
}

/// A stored request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignupRow {
    pub id: i64,
    pub username: String,
    pub person: [u8; 32],
    pub sealed: Vec<u8>,
    pub region: u32,
    pub password_hash: String,
    /// Unix seconds.
    pub created_at: i64,
    pub state: SignupState,
    /// Why it was refused (never empty for a refused request).
    pub reason: Option<String>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<i64>,
    /// The account made when it was confirmed.
    pub account: Option<i64>,
}

/// A clerk's decision on a pending request.
#[derive(Debug, Clone)]
pub enum SignupDecision {
    /// Identity confirmed: make this account (a worker's, for the request's person).
    Confirm(crate::access::NewAccount),
    /// Refused, with the reason the worker will read.
    Refuse(String),
}

/// "Already decided", when a second clerk (or a double click) decides a request again.
pub fn already_decided() -> Error {
    Error::refused(
        "这份开户申请已经处理过了",
        "this sign-up request has already been decided",
    )
}
