//! Signed federation messages. A message is the compact JSON of an [`Envelope`], sent as the
//! exact string that was signed together with its Ed25519 signature (context [`CONTEXT`]), so
//! the receiver verifies the bytes it got and never a re-encoding of them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::keys::{InstanceKey, Peer, Peers};
use super::{Refusal, Why};

/// The signature context of every federation message.
pub const CONTEXT: &str = "anxin/federation/v1";
/// Largest message accepted (a package of a whole working life with its proofs is far below).
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// destination → origin: the worker asks to move (联系函).
    LiaisonRequest,
    /// origin → destination: the history, the amounts and their proofs (信息表 and the money).
    Package,
    /// destination → origin: the months are recorded.
    Ack,
    /// origin → destination: the account is sealed; the transfer is over.
    Seal,
    /// Either way: the step is refused, with the reason; nothing moved.
    Refusal,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::LiaisonRequest => "liaison_request",
            Kind::Package => "package",
            Kind::Ack => "ack",
            Kind::Seal => "seal",
            Kind::Refusal => "refusal",
        }
    }
}

/// What is signed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub v: u32,
    pub kind: Kind,
    /// Sender and receiver instance names.
    pub from: String,
    pub to: String,
    /// The transfer's id, chosen by the destination (`{destination}:{n}`).
    pub transfer: String,
    /// The idempotency key: the same step sent again carries the same key, and the receiver
    /// answers it once.
    pub idem: String,
    /// Unix seconds when the sender made it (informative: the receiver's own clock decides).
    pub at: i64,
    pub body: serde_json::Value,
}

/// A message on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    /// The envelope's JSON, exactly as signed.
    pub message: String,
    /// Ed25519 signature of it, standard base64.
    pub signature: String,
}

impl Signed {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Signed, Refusal> {
        if text.len() > MAX_MESSAGE_BYTES + 1024 {
            return Err(too_large());
        }
        serde_json::from_str(text).map_err(|e| malformed(&e.to_string()))
    }
}

fn too_large() -> Refusal {
    Refusal::new(
        Why::Malformed,
        format!("消息超过 {MAX_MESSAGE_BYTES} 字节"),
        format!("the message is over {MAX_MESSAGE_BYTES} bytes"),
    )
}

pub(crate) fn malformed(detail: &str) -> Refusal {
    let detail: String = detail.chars().take(200).collect();
    Refusal::new(
        Why::Malformed,
        format!("消息格式不对：{detail}"),
        format!("the message is malformed: {detail}"),
    )
}

/// Signs an envelope with the instance's key.
pub fn sign(key: &InstanceKey, envelope: &Envelope) -> Result<Signed, Refusal> {
    let message = serde_json::to_string(envelope).map_err(|e| malformed(&e.to_string()))?;
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(too_large());
    }
    let signature = key.sign(CONTEXT, message.as_bytes())?;
    Ok(Signed {
        message,
        signature: B64.encode(signature),
    })
}

/// Checks a message offline: it parses, it is for `me`, its sender is a listed peer, and the
/// peer's key signed it. Returns the envelope and the peer.
pub fn open<'p>(
    peers: &'p Peers,
    me: &str,
    signed: &Signed,
) -> Result<(Envelope, &'p Peer), Refusal> {
    if signed.message.len() > MAX_MESSAGE_BYTES {
        return Err(too_large());
    }
    let envelope: Envelope =
        serde_json::from_str(&signed.message).map_err(|e| malformed(&e.to_string()))?;
    if envelope.v != 1 {
        return Err(malformed(&format!("version {} (expected 1)", envelope.v)));
    }
    let Some(peer) = peers.named(&envelope.from) else {
        let from: String = envelope.from.chars().take(64).collect();
        return Err(Refusal::new(
            Why::UnknownPeer,
            format!("发送方 {from} 不在本实例信任的对等实例名单（peers.toml）中"),
            format!("the sender {from} is not a peer this instance trusts (peers.toml)"),
        ));
    };
    if envelope.to != me {
        let to: String = envelope.to.chars().take(64).collect();
        return Err(Refusal::new(
            Why::NotForUs,
            format!("消息是发给 {to} 的，不是本实例 {me}"),
            format!("the message is addressed to {to}, not to this instance {me}"),
        ));
    }
    let signature = B64.decode(&signed.signature).unwrap_or_default();
    anxin_ledger::verify_bytes(&peer.verifier()?, CONTEXT, signed.message.as_bytes(), &signature)
        .map_err(|_| {
            Refusal::new(
                Why::WrongKey,
                format!("签名与对等实例 {} 登记的公钥不符（密钥不对，或消息被改动）", peer.name),
                format!(
                    "the signature does not verify with peer {}'s listed key (wrong key, or the message was altered)",
                    peer.name
                ),
            )
        })?;
    Ok((envelope, peer))
}

/// The body of a message of the expected kind.
pub fn body<T: for<'de> Deserialize<'de>>(envelope: &Envelope, kind: Kind) -> Result<T, Refusal> {
    if envelope.kind != kind {
        return Err(Refusal::new(
            Why::WrongKind,
            format!("期望 {}，收到 {}", kind.code(), envelope.kind.code()),
            format!("expected a {}, got a {}", kind.code(), envelope.kind.code()),
        ));
    }
    serde_json::from_value(envelope.body.clone()).map_err(|e| malformed(&e.to_string()))
}
