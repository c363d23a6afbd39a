//! Who may read what (SPEC §X2): accounts with a role scoped to a region, sessions, and the
//! access log every official read of personal data goes to, which the person can read back.
//!
//! Passwords are kept only as Argon2id hashes (PHC strings); session tokens only as their
//! SHA-256, so a copy of the database opens no session. The access log is append-only: the
//! code has no path that edits or deletes it, the schema refuses both (triggers on each
//! backend; PostgreSQL refuses TRUNCATE too), and each row is chained into the Merkle log by
//! an `access_logged` event carrying its keyed hash ([`row_hash`]), so the audit names a row
//! removed or altered even with the triggers disabled.

use anxin_domain::RegionCode;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// The roles of SPEC §X2. Each account has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A worker: reads only their own record.
    Worker,
    /// A social-insurance clerk: persons of their region, each read logged with its purpose.
    Clerk,
    /// A grid worker (网格员): outreach lists, no personal records.
    Grid,
    /// A school office: school reviews and attestations.
    Education,
    /// A platform: reports on its own workers only.
    Platform,
    /// A labour inspector: persons of their region, each read logged.
    Inspector,
    /// A union: aggregate figures and rights cases, no personal records.
    Union,
    /// A policy analyst: aggregates and simulations only.
    Analyst,
    /// An auditor: the log, its proofs and the audit; no personal records.
    Auditor,
    /// Makes accounts; no personal records.
    Admin,
    /// A supervisor (督办) of a region's offices: holds the cases escalated to them when
    /// overdue (issue 15) and takes their handler's steps; no personal records.
    Supervisor,
}

/// What a session was issued for. A page session (the `anxin_session` cookie) opens pages
/// only; an API session (`Authorization: Bearer`) opens the API only: a token of one kind
/// presented as the other finds no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// Signed in through the sign-in form; carried by the session cookie.
    Page,
    /// Signed in through `POST /api/sessions`; carried as a bearer token.
    Api,
}

impl SessionKind {
    /// The value stored in the `sessions.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Page => "page",
            SessionKind::Api => "api",
        }
    }
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::Worker,
        Role::Clerk,
        Role::Grid,
        Role::Education,
        Role::Platform,
        Role::Inspector,
        Role::Union,
        Role::Analyst,
        Role::Auditor,
        Role::Admin,
        Role::Supervisor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Clerk => "clerk",
            Role::Grid => "grid",
            Role::Education => "education",
            Role::Platform => "platform",
            Role::Inspector => "inspector",
            Role::Union => "union",
            Role::Analyst => "analyst",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Role::Worker => "劳动者",
            Role::Clerk => "社保经办员",
            Role::Grid => "网格员",
            Role::Education => "教育部门",
            Role::Platform => "平台企业",
            Role::Inspector => "劳动监察",
            Role::Union => "工会",
            Role::Analyst => "政策分析",
            Role::Auditor => "审计",
            Role::Admin => "管理员",
            Role::Supervisor => "督办主管",
        }
    }

    pub fn parse(text: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                let allowed = Role::ALL.map(Role::as_str).join(", ");
                Error::refused(
                    format!("未知角色 {text:?}：可用 {allowed}"),
                    format!("unknown role {text:?}: use one of {allowed}"),
                )
            })
    }

    /// Officials whose reads of a person's record are logged and need a stated purpose.
    pub fn reads_persons(self) -> bool {
        matches!(self, Role::Clerk | Role::Inspector)
    }
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub role: String,
    /// The region the account may act in: a province (`330000`), a city (`330100`) or a
    /// county; `None` for national accounts.
    pub region: Option<u32>,
    /// A worker account's own person key.
    pub person: Option<[u8; 32]>,
    /// A platform account's credit code.
    pub org: Option<String>,
    pub password_hash: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl AccountRow {
    pub fn role(&self) -> Result<Role> {
        Role::parse(&self.role).map_err(|_| {
            Error::Corrupt(format!(
                "account {} has an unknown role {:?}",
                self.id, self.role
            ))
        })
    }

    /// Whether `region` (a six-digit code) lies within this account's region.
    pub fn covers(&self, region: u32) -> bool {
        match self.region {
            None => true,
            Some(scope) => within(scope, region),
        }
    }
}

/// Whether `region` lies within `scope`: a province covers its cities and counties, a city its
/// counties (GB/T 2260 codes: `PPCCDD`).
pub fn within(scope: u32, region: u32) -> bool {
    if scope.is_multiple_of(10_000) {
        scope / 10_000 == region / 10_000
    } else if scope.is_multiple_of(100) {
        scope / 100 == region / 100
    } else {
        scope == region
    }
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub username: String,
    pub role: Role,
    pub region: Option<RegionCode>,
    pub person: Option<[u8; 32]>,
    pub org: Option<String>,
    pub password_hash: String,
}

impl NewAccount {
    /// Checks the name and the role's ties: a worker has a person, a platform an org, and
    /// every official below national level a region.
    pub fn new(
        username: &str,
        role: Role,
        password: &str,
        region: Option<RegionCode>,
        person: Option<[u8; 32]>,
        org: Option<String>,
    ) -> Result<NewAccount> {
        check_username(username)?;
        if role == Role::Worker && person.is_none() {
            return Err(Error::refused(
                "劳动者账户须对应登记簿中的一个人（给出身份证号）",
                "a worker account must belong to a person in the registry (give the resident ID)",
            ));
        }
        if role == Role::Platform && org.is_none() {
            return Err(Error::refused(
                "平台账户须给出平台的统一社会信用代码",
                "a platform account needs the platform's credit code",
            ));
        }
        Ok(NewAccount {
            username: username.to_string(),
            role,
            region,
            person,
            org,
            password_hash: hash_password(password)?,
        })
    }
}

/// 3–32 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn check_username(name: &str) -> Result<()> {
    let ok = (3..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(Error::refused(
            "用户名须为 3–32 个小写字母、数字或 . _ -，以字母或数字开头",
            "a username is 3–32 lowercase letters, digits or . _ -, starting with a letter or digit",
        ))
    }
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// An Argon2id hash (PHC string) of `password`, with a fresh salt.
pub fn hash_password(password: &str) -> Result<String> {
    if password.chars().count() < MIN_PASSWORD || password.len() > 256 {
        return Err(Error::refused(
            format!("密码须有 {MIN_PASSWORD}–256 个字符"),
            format!("a password must have {MIN_PASSWORD} to 256 characters"),
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::Store(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Store(e.to_string()))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Store(format!("hashing a password failed: {e}")))
}

/// Whether `password` matches the stored hash. A malformed hash matches nothing.
pub fn verify_password(stored: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    argon2::Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash to check when the username is unknown, so both cases take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy-password-never-valid").unwrap_or_default())
}

/// A new session token (what the client holds) and its hash (what the database holds).
pub fn new_token() -> Result<(String, [u8; 32])> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|e| Error::Store(format!("no randomness: {e}")))?;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let hash = token_hash(&token);
    Ok((token, hash))
}

pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// One read of a person's data by an official.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRow {
    /// Its place in the log (assigned by the store; ignored when writing). Pages of the log
    /// continue from it.
    #[serde(skip)]
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub account: i64,
    pub username: String,
    pub role: String,
    #[serde(skip)]
    pub person: [u8; 32],
    /// What was read ("record", "certificate", …).
    pub what: String,
    /// The purpose the official stated.
    pub purpose: String,
}

/// The keyed hash of an access row's canonical bytes (a JSON array of every column but the
/// id), which its `access_logged` event carries: the log then witnesses the row without
/// holding the person or the purpose, and a guess of a purpose cannot be checked against it
/// without the data key.
pub fn row_hash(key: &crate::keys::DataKey, row: &AccessRow) -> [u8; 32] {
    let canonical = serde_json::json!([
        row.at,
        row.account,
        row.username,
        row.role,
        crate::keys::hex(&row.person),
        row.what,
        row.purpose
    ]);
    key.keyed_hash("access-row", canonical.to_string().as_bytes())
}

/// A stated purpose: 2–200 characters, no control characters.
pub fn check_purpose(purpose: &str) -> Result<String> {
    let p = purpose.trim();
    let n = p.chars().count();
    if !(2..=200).contains(&n) || p.chars().any(char::is_control) {
        return Err(Error::refused(
            "查阅他人记录须说明用途（2–200 个字，如“办理转移接续”）",
            "reading someone's record needs a stated purpose (2–200 characters, e.g. \"transfer request\")",
        ));
    }
    Ok(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest() {
        assert!(within(330000, 330106));
        assert!(within(330100, 330106));
        assert!(!within(330100, 330206));
        assert!(within(330106, 330106));
        assert!(!within(330106, 330105));
        assert!(!within(330000, 340100));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse battery"));
        assert!(!verify_password(&h, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn usernames_and_purposes_are_checked() {
        assert!(check_username("clerk.hz-1").is_ok());
        for bad in ["ab", "Clerk", "-x1", "名字名字", "a b c"] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
        assert!(check_purpose("  办理转移接续 ").is_ok());
        assert!(check_purpose("x").is_err());
        assert!(check_purpose("ok\u{7}bell").is_err());
        assert!(Role::parse("clerk").is_ok());
        assert!(Role::parse("root").is_err());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, ha) = new_token().unwrap();
        let (b, _) = new_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), ha);
        assert_eq!(a.len(), 43);
    }
}
