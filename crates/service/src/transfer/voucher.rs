//! The transfer voucher (转移凭证): what the destination gives the worker when a transfer is
//! done, verifiable offline by anyone who has both instances' federation keys. It is signed by
//! the destination (context `anxin/transfer-voucher/v1`) and carries the origin's own signed
//! seal of the same package, so neither instance alone can make one: the origin's seal says
//! the account left, naming the package; the destination's signature says these months and
//! amounts arrived from that package. It shows what a paper voucher shows — the holder's ID
//! masked, the months per region, the amounts, the claim place — never the full ID or name.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::keys::InstanceKey;
use super::ledger::Received;
use super::message::{self, CONTEXT, Envelope, Kind, Signed, malformed};
use super::{Refusal, Why};

pub const VOUCHER_CONTEXT: &str = "anxin/transfer-voucher/v1";

/// Months of one region, as the voucher lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionMonths {
    pub region: String,
    pub first: String,
    pub last: String,
    pub months: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Voucher {
    pub transfer: String,
    pub origin: String,
    pub destination: String,
    /// The holder's resident ID, masked.
    pub holder: String,
    pub issued: String,
    pub months: Vec<RegionMonths>,
    pub pooling_fen: i64,
    pub personal_account_fen: Option<i64>,
    pub total_fen: Option<i64>,
    pub claim_place: String,
    /// SHA-256 of the package (what the seal names).
    pub package: String,
    /// The origin's signed seal.
    pub seal: Signed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedVoucher {
    pub voucher: String,
    pub signature: String,
}

/// The destination issues the voucher of a done transfer.
pub fn issue(
    key: &InstanceKey,
    transfer: &str,
    origin: &str,
    package: &str,
    seal: &Signed,
    received: &Received,
    issued: &str,
) -> Result<SignedVoucher, Refusal> {
    let mut months: Vec<RegionMonths> = Vec::new();
    let mut sorted = received.months.clone();
    sorted.sort_by_key(|m| (m.region, m.month));
    for m in sorted
        .iter()
        .filter(|m| m.insurance == anxin_domain::Insurance::Pension)
    {
        let (region, month) = (m.region.to_string(), m.month.to_string());
        match months.last_mut() {
            Some(r) if r.region == region => {
                r.last = month;
                r.months += 1;
            }
            _ => months.push(RegionMonths {
                region,
                first: month.clone(),
                last: month,
                months: 1,
            }),
        }
    }
    let voucher = Voucher {
        transfer: transfer.to_string(),
        origin: origin.to_string(),
        destination: key.name().to_string(),
        holder: received.holder.clone(),
        issued: issued.to_string(),
        months,
        pooling_fen: received.pooling_fen,
        personal_account_fen: received.personal_account_fen,
        total_fen: received.pension_total_fen,
        claim_place: received.claim_place.clone(),
        package: package.to_string(),
        seal: seal.clone(),
    };
    let text = serde_json::to_string(&voucher).map_err(|e| malformed(&e.to_string()))?;
    let signature = key.sign(VOUCHER_CONTEXT, text.as_bytes())?;
    Ok(SignedVoucher {
        voucher: text,
        signature: B64.encode(signature),
    })
}

fn refused(zh: String, en: String) -> Refusal {
    Refusal::new(Why::WrongKey, zh, en)
}

/// Checks a voucher offline with the destination's and the origin's federation keys.
pub fn verify(
    signed: &SignedVoucher,
    destination_key: &[u8; 32],
    origin_key: &[u8; 32],
) -> Result<Voucher, Refusal> {
    if signed.voucher.len() > message::MAX_MESSAGE_BYTES {
        return Err(malformed("voucher too large"));
    }
    let voucher: Voucher =
        serde_json::from_str(&signed.voucher).map_err(|e| malformed(&e.to_string()))?;
    let verifier = |name: &str, key: &[u8; 32]| {
        anxin_ledger::Verifier::new(name, key).map_err(|_| {
            refused(
                format!("{name} 的公钥无效"),
                format!("{name}'s key is not a valid Ed25519 key"),
            )
        })
    };
    let sig = B64.decode(&signed.signature).unwrap_or_default();
    anxin_ledger::verify_bytes(
        &verifier(&voucher.destination, destination_key)?,
        VOUCHER_CONTEXT,
        signed.voucher.as_bytes(),
        &sig,
    )
    .map_err(|_| {
        refused(
            format!(
                "凭证的签名与转入地 {} 的公钥不符（伪造或被改动）",
                voucher.destination
            ),
            format!(
                "the voucher's signature does not verify with {}'s key (forged or altered)",
                voucher.destination
            ),
        )
    })?;
    let seal_sig = B64.decode(&voucher.seal.signature).unwrap_or_default();
    anxin_ledger::verify_bytes(
        &verifier(&voucher.origin, origin_key)?,
        CONTEXT,
        voucher.seal.message.as_bytes(),
        &seal_sig,
    )
    .map_err(|_| {
        refused(
            format!("封存确认不是转出地 {} 签的", voucher.origin),
            format!("the seal is not signed by the origin {}", voucher.origin),
        )
    })?;
    let env: Envelope =
        serde_json::from_str(&voucher.seal.message).map_err(|e| malformed(&e.to_string()))?;
    let names = env.body.get("package").and_then(|p| p.as_str());
    if env.kind != Kind::Seal
        || env.transfer != voucher.transfer
        || env.from != voucher.origin
        || env.to != voucher.destination
        || names != Some(voucher.package.as_str())
    {
        return Err(Refusal::new(
            Why::HistoryDiffers,
            "封存确认不是这笔转移、这个转移包的",
            "the seal is not this transfer's, or not of this package",
        ));
    }
    Ok(voucher)
}
