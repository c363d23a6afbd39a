//! The log's proofs, as the CLI (`anxin log prove`) and the API (`/api/log/…`) give them: an
//! offline bundle for one entry (its bytes, inclusion proof and the signed checkpoint), and a
//! consistency proof between two signed checkpoints (the log only grew between them).

use anxin_ledger::{Bundle, LogHasher as _};
use anxin_records::keys::hex;
use anxin_records::{Error, Records, Result, Store};
use serde::Serialize;

/// Which entry to prove.
#[derive(Debug, Clone)]
pub enum Entry {
    /// Its place in the log, from 0.
    Seq(u64),
    /// Its record id (the import's idempotency key).
    Key(String),
}

/// The offline bundle of one entry against the current signed checkpoint.
pub fn inclusion<S: Store>(records: &mut Records<S>, entry: &Entry) -> Result<Bundle> {
    let head = records.store().head()?;
    let index = match entry {
        Entry::Seq(s) => *s,
        Entry::Key(k) => {
            records
                .store()
                .event_by_key(k)?
                .ok_or_else(|| {
                    Error::not_found(
                        format!("日志中没有记录号 {k}"),
                        format!("no log entry with record id {k}"),
                    )
                })?
                .seq
        }
    };
    if index >= head.size {
        return Err(Error::not_found(
            format!("日志只有 {} 条，没有第 {index} 条", head.size),
            format!("the log has {} entries; there is no #{index}", head.size),
        ));
    }
    let (head, leaf, proof) = records.inclusion_proof(index)?;
    let event = records.store().events(index, index + 1)?;
    match event.first() {
        Some(e) if records.hasher().leaf(&e.body) == leaf => Ok(Bundle::with_leaf_data(
            index,
            head.size,
            &e.body,
            &proof,
            &head.checkpoint,
        )),
        Some(_) => Err(Error::Corrupt(format!(
            "log entry #{index} does not hash to its leaf: run anxin audit"
        ))),
        None => Ok(Bundle::with_leaf_hash(
            index,
            head.size,
            &leaf,
            &proof,
            &head.checkpoint,
        )),
    }
}

/// A consistency proof between two signed checkpoints, with both.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Consistency {
    pub size1: u64,
    pub size2: u64,
    pub checkpoint1: String,
    pub checkpoint2: String,
    pub consistency_proof_hex: Vec<String>,
}

/// Proves the log of `size2` (default: now) extends the one of `size1`. Both sizes must be
/// ones the log signed a checkpoint at.
pub fn consistency<S: Store>(
    records: &mut Records<S>,
    size1: u64,
    size2: Option<u64>,
) -> Result<Consistency> {
    let size2 = match size2 {
        Some(s) => s,
        None => records.store().head()?.size,
    };
    if size1 > size2 {
        return Err(Error::refused(
            format!("起点 {size1} 大于终点 {size2}：一致性证明从较早的检查点到较晚的"),
            format!(
                "from {size1} is after to {size2}: a consistency proof runs from the earlier checkpoint to the later"
            ),
        ));
    }
    if size1 == 0 {
        return Err(Error::refused(
            "起点须至少为 1：任何日志都是空日志的延续，无需证明",
            "from must be at least 1: every log extends the empty one, there is nothing to prove",
        ));
    }
    let history = records.store().checkpoints()?;
    let find = |size: u64| {
        history
            .iter()
            .find(|(s, _)| *s == size)
            .map(|(_, t)| t.clone())
    };
    let (Some(checkpoint1), Some(checkpoint2)) = (find(size1), find(size2)) else {
        let mut sizes: Vec<String> = history
            .iter()
            .rev()
            .take(20)
            .map(|(s, _)| s.to_string())
            .collect();
        if history.len() > 20 {
            sizes.push("…".into());
        }
        return Err(Error::not_found(
            format!("没有这个大小的签名检查点；最近的：{}", sizes.join(", ")),
            format!(
                "no signed checkpoint of that size; the latest: {}",
                sizes.join(", ")
            ),
        ));
    };
    let root_of = |text: &str| -> Result<anxin_ledger::Hash> {
        Ok(anxin_ledger::parse_and_verify_checkpoint(text, records.verifier())?.root_hash)
    };
    let (root1, root2) = (root_of(&checkpoint1)?, root_of(&checkpoint2)?);
    let head_size = records.store().head()?.size;
    let hasher = records.hasher();
    let proof = anxin_records::tiles::consistency(
        records.store(),
        &hasher,
        head_size,
        (size1, &root1),
        (size2, &root2),
    )?;
    Ok(Consistency {
        size1,
        size2,
        checkpoint1,
        checkpoint2,
        consistency_proof_hex: proof.iter().map(|h| hex(h)).collect(),
    })
}
