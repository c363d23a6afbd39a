//! The command line's one error type: a message in both languages and the exit code.
//!
//! Exit codes: 2 bad input; 3 not found; 4 not applicable; 5 invalid policy files;
//! 6 storage or data-directory failure; 7 a verification or audit that found a problem.

use anxin_policy::{Error as PolicyError, ErrorKind};

pub type Result<T, E = Fail> = std::result::Result<T, E>;

#[derive(Debug)]
pub struct Fail {
    pub code: u8,
    pub kind: &'static str,
    pub zh: String,
    pub en: String,
}

impl Fail {
    fn new(code: u8, kind: &'static str, zh: impl Into<String>, en: impl Into<String>) -> Fail {
        Fail {
            code,
            kind,
            zh: zh.into(),
            en: en.into(),
        }
    }
    pub fn bad_input(zh: impl Into<String>, en: impl Into<String>) -> Fail {
        Fail::new(2, "bad_input", zh, en)
    }
    pub fn not_found(zh: impl Into<String>, en: impl Into<String>) -> Fail {
        Fail::new(3, "not_found", zh, en)
    }
    pub fn data(zh: impl Into<String>, en: impl Into<String>) -> Fail {
        Fail::new(6, "data", zh, en)
    }
    pub fn failed_check(zh: impl Into<String>, en: impl Into<String>) -> Fail {
        Fail::new(7, "check_failed", zh, en)
    }
}

/// The exit code and kind word of each kind of failure: the one table (the server's HTTP
/// statuses are its twin).
pub fn exit_code(kind: ErrorKind) -> (u8, &'static str) {
    match kind {
        ErrorKind::BadInput | ErrorKind::Refused | ErrorKind::Forbidden => (2, "bad_input"),
        ErrorKind::NotFound => (3, "not_found"),
        ErrorKind::NotApplicable => (4, "not_applicable"),
        ErrorKind::PolicyFiles => (5, "policy_files"),
        ErrorKind::Internal => (6, "data"),
        ErrorKind::Corrupt => (7, "check_failed"),
    }
}

impl From<PolicyError> for Fail {
    fn from(e: PolicyError) -> Fail {
        let (code, kind) = exit_code(e.kind);
        Fail::new(code, kind, e.zh, e.en)
    }
}

impl From<anxin_records::Error> for Fail {
    fn from(e: anxin_records::Error) -> Fail {
        use anxin_records::Error as E;
        match e {
            E::NotFound { zh, en } => Fail::not_found(zh, en),
            E::Refused { zh, en } => Fail::bad_input(zh, en),
            other => {
                let text = other.to_string();
                Fail::data(text.clone(), text)
            }
        }
    }
}

impl From<anxin_service::deployment::Error> for Fail {
    fn from(e: anxin_service::deployment::Error) -> Fail {
        use anxin_service::deployment::Error as E;
        match e {
            E::BadInput { zh, en } => Fail::bad_input(zh, en),
            E::NotFound { zh, en } => Fail::not_found(zh, en),
            E::Data { zh, en } => Fail::data(zh, en),
            E::Records(e) => Fail::from(e),
        }
    }
}
