//! One error type for every policy and calculator failure. Each carries its message in
//! Chinese (shown first: workers and clerks read Chinese) and English, and a kind that the
//! CLI maps to an exit code and the server to an HTTP status.

use std::fmt;

pub use anxin_domain::ErrorKind;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Error {
    pub kind: ErrorKind,
    pub zh: String,
    pub en: String,
}

impl Error {
    pub fn new(kind: ErrorKind, zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error {
            kind,
            zh: zh.into(),
            en: en.into(),
        }
    }
    pub fn bad_input(zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::new(ErrorKind::BadInput, zh, en)
    }
    pub fn message(&self, lang: crate::Lang) -> &str {
        match lang {
            crate::Lang::Zh => &self.zh,
            crate::Lang::En => &self.en,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{}", self.zh, self.en)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
