//! Errors of the records layer. Messages never carry personal data: a person appears as the
//! first digits of their keyed hash at most.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed or refused; the text is the backend's.
    #[error("数据库错误 database error: {0}")]
    Store(String),
    /// Stored data that cannot be what this program wrote (an audit finds these too).
    #[error("存储数据损坏 stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("密码运算失败 cryptography failed: {0}")]
    Crypto(String),
    #[error("签名日志错误 log error: {0}")]
    Log(#[from] anxin_ledger::Error),
    /// Something the caller asked for that does not exist.
    #[error("{zh} / {en}")]
    NotFound { zh: String, en: String },
    /// A request that is well-formed but not allowed.
    #[error("{zh} / {en}")]
    Refused { zh: String, en: String },
}

impl Error {
    /// What kind of failure this is (`anxin_domain::ErrorKind`: one table of statuses and
    /// exit codes for every crate).
    pub fn kind(&self) -> anxin_domain::ErrorKind {
        use anxin_domain::ErrorKind as K;
        match self {
            Error::NotFound { .. } => K::NotFound,
            Error::Refused { .. } => K::Refused,
            Error::Corrupt(_) => K::Corrupt,
            Error::Store(_) | Error::Crypto(_) | Error::Log(_) => K::Internal,
        }
    }

    pub fn store(e: impl std::fmt::Display) -> Error {
        Error::Store(e.to_string())
    }

    pub fn not_found(zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::NotFound {
            zh: zh.into(),
            en: en.into(),
        }
    }

    pub fn refused(zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::Refused {
            zh: zh.into(),
            en: en.into(),
        }
    }
}
