//! Witnessing between regional instances (issue 14, migration 18): the rows behind C2SP
//! `tlog-witness`. As a **witness**, an instance keeps the latest checkpoint it cosigned of
//! each peer's log ([`SeenRow`]) and every checkpoint of a peer it refused because the log
//! shrank or forked ([`AlarmRow`]: a checkpoint signed by the peer's own key with fewer
//! entries than one it signed before is proof of a rollback). As a **log**, it keeps the
//! cosignatures its peers' witnesses gave its checkpoints ([`CosignatureRow`]). The backends
//! store them as they are; `anxin_service::transfer::witness` gives them meaning.

/// The latest checkpoint of a peer's log this instance cosigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRow {
    /// The peer's name (its `[[peer]]` entry).
    pub peer: String,
    pub size: u64,
    pub root: [u8; 32],
    /// The signed note as the peer sent it.
    pub checkpoint: String,
    /// When it was cosigned (Unix seconds).
    pub at: i64,
}

/// A peer's checkpoint refused because it contradicts one cosigned before.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AlarmRow {
    /// Given by the store (0 when adding).
    pub id: i64,
    pub peer: String,
    pub at: i64,
    /// `rollback` (fewer entries than seen) or `fork` (another history) of a peer's log;
    /// `behind`: a peer's witness has cosigned more of this log than this database holds.
    pub kind: String,
    /// The size cosigned before, and the size presented.
    pub seen_size: u64,
    pub size: u64,
    pub zh: String,
    pub en: String,
    /// The refused checkpoint, as signed by the peer (the evidence).
    pub checkpoint: String,
}

/// A cosignature a peer's witness gave one of this log's checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureRow {
    /// The witness's name (the note signature line's).
    pub witness: String,
    /// The size of the checkpoint cosigned.
    pub size: u64,
    /// The note signature line, without its newline.
    pub line: String,
    /// The checkpoint it cosigns: this log's signed note of `size`, as sent.
    pub checkpoint: String,
    pub at: i64,
}
