//! Limits on the work that costs the server most, so that one account (or one runaway client)
//! cannot starve the rest: one full audit at a time, two school reviews at a time, and two
//! unfinished imports per clerk (see `imports`). Past a limit the request is refused at once
//! with 429 and `Retry-After`, never queued. Sign-in has its own limiter (`auth`), and request
//! bodies their size limits (the router).

use axum::http::StatusCode;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::ApiError;

/// Full audits running at once (each reads the whole log and holds the records).
pub const AUDITS: usize = 1;
/// School reviews running at once (each reads a file of up to 32 MiB).
pub const REVIEWS: usize = 2;
/// Unfinished imports per clerk.
pub const IMPORTS_PER_CLERK: usize = 2;

pub struct Gates {
    audit: Semaphore,
    review: Semaphore,
}

impl Default for Gates {
    fn default() -> Gates {
        Gates {
            audit: Semaphore::new(AUDITS),
            review: Semaphore::new(REVIEWS),
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
    }
}
