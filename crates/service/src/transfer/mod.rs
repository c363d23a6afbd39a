//! Transfers between regional instances (issue 14, SPEC §W2): the protocol below HTTP.
//!
//! Four signed messages ([`message`]): the **liaison request** (destination → origin: the
//! worker's resident ID sealed to the origin, the date, what the destination knows of the
//! worker's months elsewhere), the **package** (origin → destination: the origin's months per
//! region with their bases, each proven by an inclusion proof against the origin's signed
//! checkpoint, the amounts the transfer calculator computed with its trace and sources, and
//! the ID sealed back to the destination), the **acknowledgement** (destination → origin: the
//! months are recorded) and the **seal** (origin → destination: the account is closed).
//!
//! [`package::verify`] checks a package offline and names what is wrong: an unknown peer, a
//! signature by another key, an identity not sealed to us, a proof that does not verify, an
//! entry of another person, a history that is not what the proven entries say, or figures
//! that differ from re-running the calculator here. [`keys`] holds the instance key, the
//! peers file and the sealed box (how identity crosses: see there). [`machine`] is the state
//! machine of both sides with their outboxes, and the deterministic simulation drives it.
//! [`ledger`] is the machine's book over a real ledger; [`witness`] cosigns the peers'
//! checkpoints (C2SP tlog-cosignature) after checking each is consistent with the last seen.

pub mod keys;
pub mod ledger;
pub mod machine;
pub mod message;
pub mod node;
pub mod notify;
pub mod package;
pub mod voucher;
pub mod witness;

use anxin_domain::ErrorKind;

/// Why a message or a step is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// Not a message of this protocol, or a body that does not parse.
    Malformed,
    /// The sender (or the region asked for) is not in the peers file.
    UnknownPeer,
    /// The signature does not verify with the peer's listed key.
    WrongKey,
    /// Addressed to another instance.
    NotForUs,
    /// Another kind of message than the step expects.
    WrongKind,
    /// The sealed resident ID does not open with this instance's key and this transfer.
    IdentityDoesNotOpen,
    /// The checkpoint is not signed by the peer's log key.
    CheckpointInvalid,
    /// An entry's inclusion proof does not verify against the checkpoint.
    ProofInvalid,
    /// A proven entry is about another person, or not an entry a package may carry.
    NotThisPerson,
    /// The history does not match what the proven entries say.
    HistoryDiffers,
    /// An account balance does not match the proven entries.
    AccountDiffers,
    /// Re-running the calculator here gives other figures than the package.
    FiguresDiffer,
    /// The origin does not know the person.
    NoSuchPerson,
    /// Months owed at the origin: no transfer before they are settled.
    Arrears,
    /// A transfer of this person is already open.
    OpenTransfer,
    /// The calculator refused the request (its own reason is in the text).
    Calculator,
    /// The transfer is not in a state where this message fits (a replay, a reordering).
    OutOfOrder,
    /// A peer's log is smaller than a checkpoint already seen (rolled back).
    Rollback,
    /// A peer's log is not consistent with a checkpoint already seen (forked).
    Fork,
    /// Storage or cryptography failed here; the step can be retried.
    Internal,
}

impl Why {
    pub fn code(self) -> &'static str {
        match self {
            Why::Malformed => "malformed",
            Why::UnknownPeer => "unknown_peer",
            Why::WrongKey => "wrong_key",
            Why::NotForUs => "not_for_us",
            Why::WrongKind => "wrong_kind",
            Why::IdentityDoesNotOpen => "identity_does_not_open",
            Why::CheckpointInvalid => "checkpoint_invalid",
            Why::ProofInvalid => "proof_invalid",
            Why::NotThisPerson => "not_this_person",
            Why::HistoryDiffers => "history_differs",
            Why::AccountDiffers => "account_differs",
            Why::FiguresDiffer => "figures_differ",
            Why::NoSuchPerson => "no_such_person",
            Why::Arrears => "arrears",
            Why::OpenTransfer => "open_transfer",
            Why::Calculator => "calculator",
            Why::OutOfOrder => "out_of_order",
            Why::Rollback => "rollback",
            Why::Fork => "fork",
            Why::Internal => "internal",
        }
    }

    /// The reason of a code, as a peer's refusal names it; `None` for a code this instance
    /// does not know.
    pub fn from_code(code: &str) -> Option<Why> {
        ALL_WHYS.iter().copied().find(|w| w.code() == code)
    }

    pub fn kind(self) -> ErrorKind {
        match self {
            Why::Malformed | Why::WrongKind => ErrorKind::BadInput,
            Why::UnknownPeer | Why::WrongKey | Why::NotForUs => ErrorKind::Forbidden,
            Why::NoSuchPerson => ErrorKind::NotFound,
            Why::Arrears | Why::OpenTransfer | Why::Calculator | Why::OutOfOrder => {
                ErrorKind::Refused
            }
            Why::IdentityDoesNotOpen
            | Why::CheckpointInvalid
            | Why::ProofInvalid
            | Why::NotThisPerson
            | Why::HistoryDiffers
            | Why::AccountDiffers
            | Why::FiguresDiffer
            | Why::Rollback
            | Why::Fork => ErrorKind::Corrupt,
            Why::Internal => ErrorKind::Internal,
        }
    }

    /// Whether the step may succeed if tried again (a final refusal ends the transfer).
    pub fn retryable(self) -> bool {
        matches!(self, Why::Internal)
    }
}

const ALL_WHYS: [Why; 20] = [
    Why::Malformed,
    Why::UnknownPeer,
    Why::WrongKey,
    Why::NotForUs,
    Why::WrongKind,
    Why::IdentityDoesNotOpen,
    Why::CheckpointInvalid,
    Why::ProofInvalid,
    Why::NotThisPerson,
    Why::HistoryDiffers,
    Why::AccountDiffers,
    Why::FiguresDiffer,
    Why::NoSuchPerson,
    Why::Arrears,
    Why::OpenTransfer,
    Why::Calculator,
    Why::OutOfOrder,
    Why::Rollback,
    Why::Fork,
    Why::Internal,
];

/// A refusal with its reason in both languages. Never carries a resident ID or a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub why: Why,
    pub zh: String,
    pub en: String,
}

impl Refusal {
    pub fn new(why: Why, zh: impl Into<String>, en: impl Into<String>) -> Refusal {
        Refusal {
            why,
            zh: zh.into(),
            en: en.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}\n{}", self.zh, self.en)
    }
}

impl std::error::Error for Refusal {}

impl From<anxin_records::Error> for Refusal {
    fn from(e: anxin_records::Error) -> Refusal {
        let why = match e.kind() {
            ErrorKind::NotFound => Why::NoSuchPerson,
            ErrorKind::Refused => Why::Calculator,
            _ => Why::Internal,
        };
        let text = e.to_string();
        Refusal::new(why, text.clone(), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_reads_back_from_its_code_and_no_two_share_one() {
        for w in ALL_WHYS {
            assert_eq!(Why::from_code(w.code()), Some(w));
        }
        let mut codes: Vec<&str> = ALL_WHYS.iter().map(|w| w.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ALL_WHYS.len());
        for other in ["", "UNKNOWN_PEER", "unknown_peer ", "ok", "\u{0}"] {
            assert_eq!(Why::from_code(other), None, "{other:?}");
        }
    }
}
