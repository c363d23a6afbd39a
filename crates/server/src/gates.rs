//! Limits on the work that costs the server most, so that one account (or one runaway client)
//! cannot starve the rest: one full audit at a time, two school reviews at a time, one
//! simulation at a time (of a bounded population and window), and two unfinished imports per
//! clerk (see `imports`). Past a limit the request is refused at once
//! with 429 and `Retry-After`, never queued. Sign-in has its own limiter (`auth`), and request
//! bodies their size limits (the router).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::StatusCode;
use jiff::Timestamp;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::ApiError;

/// Full audits running at once (each reads the whole log and holds the records).
pub const AUDITS: usize = 1;
/// School reviews running at once (each reads a file of up to 32 MiB).
pub const REVIEWS: usize = 2;
/// Unfinished imports per clerk.
pub const IMPORTS_PER_CLERK: usize = 2;
/// Certificate lookups by verification code per client in [`CODE_WINDOW`] (pages, the QR's
/// address and the API together): plenty for a person checking a few certificates, nothing
/// for anyone trying codes (see ARCHITECTURE.md on why codes cannot be guessed).
pub const CODE_LOOKUPS: usize = 20;
pub const CODE_WINDOW: Duration = Duration::from_secs(60);
/// Simulations running at once (`/analyst`, `/api/analyst/simulate`): each takes every core
/// for a moment.
pub const SIMULATIONS: usize = 1;
/// The largest synthetic population and the longest window a simulation from the server may
/// have (`anxin simulate` on the command line takes up to 20 million people and 50 years).
pub const SIM_PERSONS: u32 = 200_000;
pub const SIM_YEARS: u32 = 20;
/// People × years × scenarios of one run: the largest population over the longest window
/// with two reforms, alone and together (4 scenarios).
pub const SIM_WORK: u64 = SIM_PERSONS as u64 * SIM_YEARS as u64 * 4;

/// Sign-up requests per client in [`SIGNUP_WINDOW`]: a family signing up on one phone gets
/// through, a script filling the clerks' desks does not (each request also costs an
/// Argon2id hash).
pub const SIGNUPS: usize = 5;
pub const SIGNUP_WINDOW: Duration = Duration::from_secs(3600);

pub struct Gates {
    audit: Semaphore,
    review: Semaphore,
    simulation: Semaphore,
    /// When each client last looked certificates up by code, oldest first.
    lookups: Mutex<HashMap<Option<IpAddr>, VecDeque<Timestamp>>>,
    /// When each client last sent a sign-up request, oldest first.
    signups: Mutex<HashMap<Option<IpAddr>, VecDeque<Timestamp>>>,
}

impl Default for Gates {
    fn default() -> Gates {
        Gates {
            audit: Semaphore::new(AUDITS),
            review: Semaphore::new(REVIEWS),
            simulation: Semaphore::new(SIMULATIONS),
            lookups: Mutex::default(),
            signups: Mutex::default(),
        }
    }
}

impl Gates {
    pub fn audit(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        enter(&self.audit, "账本审计", "a ledger audit", AUDITS)
    }

    pub fn review(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        enter(&self.review, "入学审核", "a school review", REVIEWS)
    }

    pub fn simulation(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        enter(&self.simulation, "模拟", "a simulation", SIMULATIONS)
    }

    /// The bounds of a simulation run from the server.
    pub fn sim_bounds(&self) -> anxin_service::analyst::Bounds {
        anxin_service::analyst::Bounds {
            max_persons: SIM_PERSONS,
            max_years: SIM_YEARS,
            max_work: SIM_WORK,
        }
    }

    /// Counts one lookup by verification code from `client` at `now`; past
    /// [`CODE_LOOKUPS`] in [`CODE_WINDOW`], 429 with the seconds to wait. A client the server
    /// cannot name (tests driving the router) shares one count.
    pub fn code_lookup(&self, client: Option<IpAddr>, now: Timestamp) -> Result<(), ApiError> {
        let mut all = self.lookups.lock().unwrap_or_else(|p| p.into_inner());
        // Time read from a clock that went back counts as no time passed.
        let since = |t: Timestamp| Duration::try_from(now.duration_since(t)).unwrap_or_default();
        if all.len() > 100_000 {
            all.retain(|_, q| q.back().is_some_and(|t| since(*t) < CODE_WINDOW));
        }
        let q = all.entry(client).or_default();
        while q.front().is_some_and(|t| since(*t) >= CODE_WINDOW) {
            q.pop_front();
        }
        if q.len() >= CODE_LOOKUPS {
            let wait = CODE_WINDOW.saturating_sub(since(q[0])).as_secs().max(1);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("核验太频繁：每分钟最多 {CODE_LOOKUPS} 次，请 {wait} 秒后再试"),
                format!(
                    "too many verifications: at most {CODE_LOOKUPS} a minute, try again in {wait} s"
                ),
            )
            .retry_after(wait));
        }
        q.push_back(now);
        Ok(())
    }
}

impl Gates {
    /// Counts one sign-up request from `client` at `now`; past [`SIGNUPS`] in
    /// [`SIGNUP_WINDOW`], 429 with the seconds to wait.
    pub fn signup(&self, client: Option<IpAddr>, now: Timestamp) -> Result<(), ApiError> {
        let mut all = self.signups.lock().unwrap_or_else(|p| p.into_inner());
        let since = |t: Timestamp| Duration::try_from(now.duration_since(t)).unwrap_or_default();
        if all.len() > 100_000 {
            all.retain(|_, q| q.back().is_some_and(|t| since(*t) < SIGNUP_WINDOW));
        }
        let q = all.entry(client).or_default();
        while q.front().is_some_and(|t| since(*t) >= SIGNUP_WINDOW) {
            q.pop_front();
        }
        if q.len() >= SIGNUPS {
            let wait = SIGNUP_WINDOW.saturating_sub(since(q[0])).as_secs().max(1);
            let minutes = wait.div_ceil(60);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("注册申请太频繁：每小时最多 {SIGNUPS} 份，请 {minutes} 分钟后再试"),
                format!(
                    "too many sign-up requests: at most {SIGNUPS} an hour, try again in {minutes} min"
                ),
            )
            .retry_after(wait));
        }
        q.push_back(now);
        Ok(())
    }
}

fn enter<'a>(
    gate: &'a Semaphore,
    zh: &str,
    en: &str,
    limit: usize,
) -> Result<SemaphorePermit<'a>, ApiError> {
    gate.try_acquire().map_err(|_| busy(zh, en, limit))
}

/// 429: `limit` of this work are already running.
pub fn busy(zh: &str, en: &str, limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "busy",
        format!("已有 {limit} 个{zh}在进行，请等它完成后再试"),
        format!("{limit} of {en} already running at once: try again when it has finished"),
    )
    .retry_after(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_the_limit_is_refused_until_one_finishes() {
        let gates = Gates::default();
        let held = gates.audit().expect("the first audit runs");
        let e = gates.audit().expect_err("a second is refused");
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(e.en.contains("already running"), "{}", e.en);
        drop(held);
        assert!(gates.audit().is_ok(), "free again once the first finished");
        let (a, b) = (gates.review().unwrap(), gates.review().unwrap());
        assert!(gates.review().is_err());
        drop((a, b));
        let s = gates.simulation().expect("one simulation runs");
        assert!(
            gates.simulation().is_err(),
            "a second waits for nothing: 429"
        );
        drop(s);
        assert!(gates.simulation().is_ok());
    }

    #[test]
    fn code_lookups_are_limited_per_client_and_window() {
        let gates = Gates::default();
        let t0 = Timestamp::from_second(1_800_000_000).unwrap();
        let me = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..CODE_LOOKUPS {
            gates.code_lookup(me, t0).expect("within the limit");
        }
        let e = gates.code_lookup(me, t0).expect_err("one too many");
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(e.retry_after, Some(60));
        // Another client is not held up; the same one is free again after the window.
        assert!(
            gates
                .code_lookup(Some(IpAddr::from([10, 0, 0, 2])), t0)
                .is_ok()
        );
        let later = t0 + jiff::SignedDuration::from_secs(60);
        assert!(gates.code_lookup(me, later).is_ok());
    }
}
