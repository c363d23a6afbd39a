//! `anxin account add|list`: sign-in accounts for the server — the first administrator, and
//! the clerks, workers and others it serves. Passwords come from `ANXIN_PASSWORD` or are
//! generated and printed once; only their Argon2id hashes are stored.

use anxin_domain::RegionCode;
use anxin_records::access::{NewAccount, Role};
use anxin_records::{Records, Store};

use crate::fail::{Fail, Result};
use crate::records_cmd::parse_id;

/// A random password of 16 base64url characters (96 bits).
pub fn generate_password() -> Result<String> {
    let (token, _) = anxin_records::access::new_token()?;
    Ok(token[..16].to_string())
}

pub struct AddArgs<'a> {
    pub username: &'a str,
    pub role: &'a str,
    pub region: Option<&'a str>,
    /// A worker's resident ID.
    pub person: Option<&'a str>,
    /// A platform's credit code.
    pub org: Option<&'a str>,
    pub password: Option<String>,
}

/// Creates the account; returns the password (generated when not given).
pub fn add(records: &mut Records<Box<dyn Store>>, a: AddArgs<'_>) -> Result<String> {
    let role = Role::parse(a.role)?;
    let region = a
        .region
        .map(|r| {
            RegionCode::parse(r).map_err(|e| {
                Fail::bad_input(
                    format!("地区代码 {r:?} 无效：{e}（6 位行政区划代码，如 330100）"),
                    format!(
                        "region {r:?} is invalid: {e} (a 6-digit GB/T 2260 code such as 330100)"
                    ),
                )
            })
        })
        .transpose()?;
    let person = match a.person {
        Some(id) => {
            let id = parse_id(id)?;
            let key = records.person_key(&id);
            if records.store().person(&key.0)?.is_none() {
                return Err(Fail::not_found(
                    "登记册中没有此人：先用 anxin import persons 导入",
                    "this person is not in the registry: import them with anxin import persons",
                ));
            }
            Some(key.0)
        }
        None => None,
    };
    let org = match a.org {
        Some(code) => Some(
            anxin_domain::CreditCode::parse(code)
                .map_err(|e| {
                    Fail::bad_input(
                        format!("统一社会信用代码无效：{e}"),
                        format!("invalid credit code: {e}"),
                    )
                })?
                .to_string(),
        ),
        None => None,
    };
    let password = match a.password {
        Some(p) => p,
        None => generate_password()?,
    };
    let account = NewAccount::new(a.username, role, &password, region, person, org)?;
    records.store().create_account(
        &account,
        anxin_domain::Clock::unix_seconds(&anxin_domain::SystemClock),
    )?;
    Ok(password)
}

pub fn list(records: &mut Records<Box<dyn Store>>, json: bool) -> Result<()> {
    let accounts = records.store().accounts_all()?;
    if json {
        let list: Vec<serde_json::Value> = accounts
            .iter()
            .map(anxin_server::auth::account_json)
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "accounts": list }))
                .expect("JSON values serialize")
        );
        return Ok(());
    }
    for a in accounts {
        println!(
            "{:<24} {:<10} {}",
            a.username,
            a.role,
            a.region.map(|r| format!("{r:06}")).unwrap_or_default()
        );
    }
    Ok(())
}
