//! Rows of the inbox (SPEC §M4, migration 11): messages generated for a person from their
//! record, and the state of each message's delivery to the webhook. Not in the Merkle log:
//! a reminder is outreach derived from the record, not a record of insurance, and can always
//! be generated again from the log and the policy. The rules that make messages live in
//! `anxin_service::inbox`; this module only names the rows.

/// A message to store. Its `key` is stable (kind, person, month): storing the same key again
/// adds nothing, so generation is idempotent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub key: String,
    pub person: [u8; 32],
    /// The template's kind (`payment_reminder`, `lapse_warning`, …).
    pub kind: String,
    /// The month the message is about (`YYYY-MM`).
    pub month: String,
    /// The template's values as a JSON object of strings (no name, no resident ID).
    pub params: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: i64,
    pub key: String,
    pub person: [u8; 32],
    pub kind: String,
    pub month: String,
    pub params: String,
    /// Unix seconds.
    pub created_at: i64,
    pub read_at: Option<i64>,
}

/// Where a message's delivery to the webhook stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not delivered yet: tried again at `next_at`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up after the configured number of attempts (the dead-letter list).
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryState> {
        match s {
            "pending" => Some(DeliveryState::Pending),
            "delivered" => Some(DeliveryState::Delivered),
            "dead" => Some(DeliveryState::Dead),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRow {
    pub message: i64,
    pub attempts: u32,
    /// Unix seconds of the next attempt (pending only).
    pub next_at: i64,
    pub state: DeliveryState,
    /// Why the last attempt failed (a status code or a transport error; never a body).
    pub last_error: Option<String>,
    pub delivered_at: Option<i64>,
}

/// Counts of one message kind, for the delivery and read rates shown to clerks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KindCounts {
    pub kind: String,
    pub messages: u64,
    pub read: u64,
    pub delivered: u64,
    pub dead: u64,
}
