//! The rows of transfers between regional instances (issue 14, migration 15): what the
//! state machine of `anxin_service::transfer::machine` commits with each message, in the same
//! transaction as its `transfer_step` event ([`crate::event::TransferEvent`]). The backends
//! store them as they are; the service gives them meaning.

/// A transfer as this instance sees it. Written as an upsert: a `None` keeps what is stored
/// (the person, the request, the package, the seal are written once and then kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferRow {
    /// `{destination}:{n}`.
    pub id: String,
    /// `origin` or `destination`.
    pub role: String,
    pub peer: String,
    pub state: String,
    /// The day the state began and its deadline, `YYYY-MM-DD`.
    pub since: String,
    pub due: Option<String>,
    /// The package's digest.
    pub package: Option<String>,
    /// JSON `[code, zh, en]`.
    pub refusal: Option<String>,
    /// Destination: the origin's signed seal (JSON of the signed message).
    pub seal: Option<String>,
    /// This instance's keyed hash of the person.
    pub person: Option<[u8; 32]>,
    /// Destination: the liaison request sent (JSON; the ID in it is sealed to the origin).
    pub request: Option<String>,
    /// Destination: what was recorded (JSON of the verified figures).
    pub received: Option<String>,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub key: String,
    pub peer: String,
    pub transfer: String,
    /// JSON of the signed message.
    pub message: String,
    pub attempts: u32,
    pub next_try: i64,
}

/// A month received at the destination, with its provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferMonthRow {
    pub transfer: String,
    /// 0, 1, … within the transfer.
    pub n: u32,
    pub origin: String,
    pub entry: u64,
    pub checkpoint_size: u64,
    pub region: u32,
    /// `YearMonth::index`.
    pub month: i32,
    pub insurance: String,
    pub base_fen: i64,
    pub person: [u8; 32],
}

/// Everything one step of the machine writes besides its events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferWrite {
    pub transfers: Vec<TransferRow>,
    /// Messages put in the outbox (a key already there is replaced).
    pub outbox_put: Vec<OutboxRow>,
    /// Keys taken out of the outbox.
    pub outbox_take: Vec<String>,
    /// Replies stored: sender, idempotency key, the reply (JSON of the signed message).
    pub replies: Vec<(String, String, Option<String>)>,
    pub months: Vec<TransferMonthRow>,
}
