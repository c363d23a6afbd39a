//! Words people read: every message of anxin is in Chinese (shown first: workers and clerks
//! read Chinese) with its English beside it ([`Text`]), picked by [`Lang`]; and the one list of
//! what can go wrong ([`ErrorKind`]) that every crate's error maps to, so the command line has
//! one table of exit codes and the server one table of HTTP statuses.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" | "中文" => Some(Lang::Zh),
            "en" | "en-us" | "english" => Some(Lang::En),
            _ => None,
        }
    }
    /// The code `parse` reads back: "zh" or "en".
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// Full-width Chinese punctuation in text meant for English readers becomes ASCII.
    pub fn punctuate(self, text: String) -> String {
        match self {
            Lang::Zh => text,
            Lang::En => text
                .replace('（', " (")
                .replace('）', ")")
                .replace('，', ", ")
                .replace('：', ": ")
                .replace('；', "; "),
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// A text in Chinese with its English beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub zh: String,
    pub en: String,
}

impl Text {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Text {
        Text {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn pick(&self, lang: Lang) -> &str {
        lang.pick(&self.zh, &self.en)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.zh, self.en)
    }
}

/// What kind of failure an error is, whichever crate raised it. The command line maps each to
/// one exit code, the server to one HTTP status; the serde form is the `kind` of the API's
/// error shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request is malformed or out of the allowed range.
    BadInput,
    /// A region, reform, parameter, person or record asked for does not exist.
    NotFound,
    /// The reform or rule exists but does not apply to this region or date.
    NotApplicable,
    /// The parameter files themselves are invalid.
    PolicyFiles,
    /// Well-formed, but the rules do not allow it (a slot taken, a batch too large).
    Refused,
    /// The caller may not do this (role, region, ownership).
    Forbidden,
    /// Stored data that cannot be what anxin wrote, or a check (audit, verification) failed.
    Corrupt,
    /// The database, the file system or the cryptography failed.
    Internal,
}

impl ErrorKind {
    /// The serde form: `bad_input`, `not_found`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadInput => "bad_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::NotApplicable => "not_applicable",
            ErrorKind::PolicyFiles => "policy_files",
            ErrorKind::Refused => "refused",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Corrupt => "corrupt",
            ErrorKind::Internal => "internal",
        }
    }
}
