//! The liaison request and the transfer package: built at the origin from its ledger, verified
//! offline at the destination.
//!
//! What a package proves, and what it cannot: every month it moves is a `contribution_recorded`
//! entry of the origin's log, given in full with its inclusion proof against one checkpoint
//! signed by the origin's log key, and the hukou comes from the person's `person_registered`
//! entry proven the same way; all those entries carry the same person key. That key is the
//! origin's keyed hash of the resident ID, which the destination cannot recompute (it has not
//! the origin's data key): that the entries are this ID's is the origin's signed statement,
//! and the origin's log makes it answerable for it (the entries stay in its log forever).
//!
//! The history a package carries is derived from the entries by one rule, written once
//! ([`history_of`]): the paid pension months (paid on time or back-paid) of each region in
//! order, a run wherever the region and the base stay the same; where two payers paid one
//! month (a platform and the worker), the month's base is the larger. The personal-account
//! balance is the sum of the proven pension entries' account parts and the medical balance
//! the same over medical entries — without interest (an assumption, labelled in the package's
//! trace by the calculator as "personal account as given").

use std::collections::{BTreeMap, BTreeSet};

use anxin_domain::{Fen, Insurance, RegionCode, ResidentId, YearMonth};
use anxin_ledger::{Bundle, Checkpoint};
use anxin_policy::Policy;
use anxin_policy::calc::transfer::{Period, TransferRequest, TransferResult};
use anxin_records::event::{ContributionEvent, Event};
use anxin_records::keys::{PersonKey, hex};
use anxin_records::{Records, Store};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};

use super::keys::{InstanceKey, Peer, Peers, seal_to};
use super::message::{self, Envelope, Kind, Signed, malformed};
use super::{Refusal, Why};

/// Most entries one package may carry (80 years × 12 months × 2 insurances, and then some).
pub const MAX_ENTRIES: usize = 4_096;

/// destination → origin.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiaisonRequest {
    /// The resident ID sealed to the origin ([`identity_aad`]).
    pub identity: String,
    /// The region the relationship is in now (转出地) and the destination's (转入地).
    pub from_region: String,
    pub to_region: String,
    /// The day the worker asked, YYYY-MM-DD: the calculator's date, the deadlines count from it.
    pub date: String,
    /// The months the destination knows of the worker elsewhere (its own ledger): the origin
    /// counts them for the claim place and the duplicate months.
    #[serde(default)]
    pub elsewhere: Vec<Period>,
    #[serde(default)]
    pub approved_transfer: bool,
    #[serde(default)]
    pub medical_gap_months: Option<u32>,
}

/// One proven entry of the origin's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub index: u64,
    pub leaf_data_base64: String,
    pub inclusion_proof_base64: Vec<String>,
}

/// origin → destination.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// The resident ID sealed to the destination ([`identity_aad`]).
    pub identity: String,
    /// The origin's keyed hash of the person (a pseudonym only the origin can resolve).
    pub person: String,
    pub from_region: String,
    pub to_region: String,
    pub hukou: String,
    pub date: String,
    pub elsewhere: Vec<Period>,
    /// The origin's months, derived from `entries` by [`history_of`].
    pub history: Vec<Period>,
    pub personal_account_fen: Option<Fen>,
    pub medical_account_fen: Option<Fen>,
    pub approved_transfer: bool,
    pub medical_gap_months: Option<u32>,
    /// The origin's signed checkpoint every entry is proven against.
    pub checkpoint: String,
    pub entries: Vec<Entry>,
    /// The transfer calculator's result (amounts, steps and deadlines, trace with sources).
    pub result: serde_json::Value,
}

/// What a package's identity and a request's are bound to.
pub fn identity_aad(transfer: &str, from: &str, to: &str) -> Vec<u8> {
    format!("anxin/federation/identity/v1\0{transfer}\0{from}\0{to}").into_bytes()
}

/// Opens a sealed resident ID.
pub fn open_identity(
    key: &InstanceKey,
    envelope: &Envelope,
    sealed: &str,
) -> Result<ResidentId, Refusal> {
    let bytes = key.open(
        &identity_aad(&envelope.transfer, &envelope.from, &envelope.to),
        sealed,
    )?;
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|s| ResidentId::parse(s).ok())
        .ok_or_else(|| {
            Refusal::new(
                Why::IdentityDoesNotOpen,
                "封装的身份信息不是有效的公民身份号码",
                "the sealed identity is not a valid resident ID",
            )
        })
}

/// A paid month proven by an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvenMonth {
    pub index: u64,
    pub region: RegionCode,
    pub month: YearMonth,
    pub insurance: Insurance,
    pub base_fen: i64,
    pub account_fen: i64,
    pub key: String,
}

/// The history of the paid pension months, one rule for both ends (see the module text).
pub fn history_of(months: &[ProvenMonth]) -> Vec<Period> {
    let mut by: BTreeMap<(RegionCode, YearMonth), i64> = BTreeMap::new();
    for m in months.iter().filter(|m| m.insurance == Insurance::Pension) {
        let base = by.entry((m.region, m.month)).or_insert(m.base_fen);
        *base = (*base).max(m.base_fen);
    }
    let mut out: Vec<Period> = Vec::new();
    let mut last: Option<(RegionCode, YearMonth, i64)> = None;
    for ((region, month), base) in by {
        let extends = matches!(last, Some((r, m, b)) if r == region && b == base && m.index() + 1 == month.index());
        if extends && let Some(p) = out.last_mut() {
            p.to = month;
        } else {
            out.push(Period {
                region: region.to_string(),
                from: month,
                to: month,
                base_fen: Some(Fen(base)),
                total_base_fen: None,
            });
        }
        last = Some((region, month, base));
    }
    out
}

fn sum_account(months: &[ProvenMonth], insurance: Insurance) -> Option<Fen> {
    let of: Vec<&ProvenMonth> = months.iter().filter(|m| m.insurance == insurance).collect();
    (!of.is_empty()).then(|| Fen(of.iter().map(|m| m.account_fen).sum()))
}

fn calc_request(p: &Package, id: &ResidentId) -> Result<TransferRequest, Refusal> {
    let birth = id.birth_date().ok_or_else(|| {
        Refusal::new(
            Why::IdentityDoesNotOpen,
            "身份号码中的出生日期无效",
            "the resident ID's birth date is not a date",
        )
    })?;
    let mut history = p.elsewhere.clone();
    history.extend(p.history.iter().cloned());
    Ok(TransferRequest {
        from: p.from_region.clone(),
        to: p.to_region.clone(),
        hukou: p.hukou.clone(),
        sex: id.sex(),
        birth: birth.to_string(),
        date: p.date.clone(),
        history,
        personal_account_fen: p.personal_account_fen,
        medical_account_fen: p.medical_account_fen,
        approved_transfer: p.approved_transfer,
        medical_gap_months: p.medical_gap_months,
        reforms: Vec::new(),
    })
}

fn run_calculator(policy: &Policy, req: &TransferRequest) -> Result<TransferResult, Refusal> {
    let today = req
        .date
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(YearMonth::of_date)
        .ok_or_else(|| malformed("date"))?;
    anxin_policy::calc::transfer::transfer(policy, req, today).map_err(|e| {
        Refusal::new(
            Why::Calculator,
            format!("转移计算拒绝：{}", e.zh),
            format!("the transfer calculator refused: {}", e.en),
        )
    })
}

/// The origin's side: the package for a liaison request, from its ledger. Refuses a person it
/// does not know and one with months owed (欠缴). `records` must not be written meanwhile
/// (the server's writer thread): every proof ends in the same signed checkpoint.
pub fn build<S: Store>(
    records: &mut Records<S>,
    policy: &Policy,
    dest: &Peer,
    envelope: &Envelope,
    request: &LiaisonRequest,
    id: &ResidentId,
) -> Result<Package, Refusal> {
    let person: PersonKey = records.person_key(id);
    let Some(row) = records.store().person(&person.0)? else {
        return Err(Refusal::new(
            Why::NoSuchPerson,
            "转出地没有此人的参保记录",
            "the origin has no record of this person",
        ));
    };
    let rows = records.store().contributions_of(&person.0)?;
    if let Some(owed) = rows
        .iter()
        .find(|r| r.status == anxin_domain::Status::Unpaid)
    {
        let month = YearMonth::from_index(owed.month)
            .map(|m| m.to_string())
            .unwrap_or_default();
        return Err(Refusal::new(
            Why::Arrears,
            format!("转出地有欠缴月份（最早 {month}）：补缴或清理后才能转移"),
            format!("months are owed at the origin (from {month}): settle them before a transfer"),
        ));
    }
    let Some(hukou) = row.hukou_region else {
        return Err(Refusal::new(
            Why::Calculator,
            "转出地没有此人的户籍地区，无法判断临时账户和待遇领取地",
            "the origin does not record the person's hukou region: the temporary account and the claim place cannot be decided",
        ));
    };
    let mut seqs: BTreeSet<u64> = BTreeSet::from([row.seq]);
    seqs.extend(
        rows.iter()
            .filter(|r| {
                r.status.is_paid() && matches!(r.insurance, Insurance::Pension | Insurance::Medical)
            })
            .map(|r| r.seq),
    );
    if seqs.len() > MAX_ENTRIES {
        return Err(Refusal::new(
            Why::Calculator,
            format!("记录超过 {MAX_ENTRIES} 条，无法一次转移"),
            format!("over {MAX_ENTRIES} entries: too many for one package"),
        ));
    }
    let hasher = records.hasher();
    let mut entries = Vec::with_capacity(seqs.len());
    let mut checkpoint = String::new();
    let mut months = Vec::new();
    for seq in seqs {
        let (head, leaf, proof) = records.inclusion_proof(seq)?;
        if checkpoint.is_empty() {
            checkpoint = head.checkpoint.clone();
        } else if checkpoint != head.checkpoint {
            return Err(Refusal::new(
                Why::Internal,
                "日志在打包时增长了，请重试",
                "the log grew while the package was made: try again",
            ));
        }
        let body = records
            .store()
            .events(seq, seq + 1)?
            .pop()
            .map(|e| e.body)
            .ok_or_else(|| Refusal::new(Why::Internal, "日志条目缺失", "log entry missing"))?;
        use anxin_ledger::LogHasher as _;
        if hasher.leaf(&body) != leaf {
            return Err(Refusal::new(
                Why::Internal,
                "日志条目与其哈希不符：请运行 anxin audit",
                "a log entry does not hash to its leaf: run anxin audit",
            ));
        }
        if let Ok(Event::ContributionRecorded(c)) = Event::from_bytes(&body) {
            months.push(proven(seq, &c));
        }
        entries.push(Entry {
            index: seq,
            leaf_data_base64: B64.encode(&body),
            inclusion_proof_base64: proof.iter().map(|h| B64.encode(h)).collect(),
        });
    }
    let mut package = Package {
        identity: seal_to(
            &dest.key,
            &identity_aad(&envelope.transfer, &envelope.to, &envelope.from),
            id.expose().as_bytes(),
        )?,
        person: person.hex(),
        from_region: request.from_region.clone(),
        to_region: request.to_region.clone(),
        hukou: hukou_text(hukou),
        date: request.date.clone(),
        elsewhere: request.elsewhere.clone(),
        history: history_of(&months),
        personal_account_fen: sum_account(&months, Insurance::Pension),
        medical_account_fen: sum_account(&months, Insurance::Medical),
        approved_transfer: request.approved_transfer,
        medical_gap_months: request.medical_gap_months,
        checkpoint,
        entries,
        result: serde_json::Value::Null,
    };
    let result = run_calculator(policy, &calc_request(&package, id)?)?;
    package.result = serde_json::to_value(&result).map_err(|e| malformed(&e.to_string()))?;
    Ok(package)
}

fn hukou_text(code: u32) -> String {
    format!("{code:06}")
}

fn proven(index: u64, c: &ContributionEvent) -> ProvenMonth {
    ProvenMonth {
        index,
        region: c.region,
        month: c.month,
        insurance: c.insurance,
        base_fen: c.base_fen,
        account_fen: c.account_fen,
        key: c.key.clone(),
    }
}

/// A package that passed every check.
#[derive(Debug)]
pub struct Verified {
    pub package: Package,
    pub id: ResidentId,
    pub checkpoint: Checkpoint,
    /// The proven paid months (pension and medical) with their entries.
    pub months: Vec<ProvenMonth>,
    pub result: TransferResult,
}

fn differ(why: Why, zh: String, en: String) -> Refusal {
    Refusal::new(why, zh, en)
}

/// The first place two JSON values differ, as a dotted path with both values.
pub fn first_difference(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Option<(String, String, String)> {
    use serde_json::Value as V;
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (V::Object(x), V::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    &join(k),
                    x.get(k).unwrap_or(&V::Null),
                    y.get(k).unwrap_or(&V::Null),
                )
            })
        }
        (V::Array(x), V::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(&join(&i.to_string()), p, q)),
        _ if a == b => None,
        _ => {
            let short = |v: &V| v.to_string().chars().take(80).collect::<String>();
            Some((path.to_string(), short(a), short(b)))
        }
    }
}

/// The destination's side, offline: checks a signed package from a peer against this
/// instance's key and policy; `sent` is the liaison request this instance sent for the
/// transfer (its `elsewhere`, date and regions must come back unchanged).
pub fn verify(
    policy: &Policy,
    me: &InstanceKey,
    peers: &Peers,
    signed: &Signed,
    sent: Option<&LiaisonRequest>,
) -> Result<(Envelope, Verified), Refusal> {
    let (envelope, peer) = message::open(peers, me.name(), signed)?;
    let package: Package = message::body(&envelope, Kind::Package)?;
    let verified = verify_package(policy, me, peer, &envelope, package, sent)?;
    Ok((envelope, verified))
}

/// [`verify`] once the envelope is open.
pub fn verify_package(
    policy: &Policy,
    me: &InstanceKey,
    peer: &Peer,
    envelope: &Envelope,
    package: Package,
    sent: Option<&LiaisonRequest>,
) -> Result<Verified, Refusal> {
    let id = open_identity(me, envelope, &package.identity)?;
    let checkpoint = anxin_ledger::parse_and_verify_checkpoint(&package.checkpoint, &peer.log_key)
        .map_err(|e| {
            differ(
                Why::CheckpointInvalid,
                format!("检查点不是对等实例 {} 的日志密钥签的：{e}", peer.name),
                format!(
                    "the checkpoint is not signed by peer {}'s log key: {e}",
                    peer.name
                ),
            )
        })?;
    if package.entries.len() > MAX_ENTRIES {
        return Err(malformed("too many entries"));
    }
    let hasher = peer.log_hash.hasher();
    let mut months = Vec::new();
    let mut seen = BTreeSet::new();
    let mut hukou: Option<String> = None;
    for entry in &package.entries {
        let at = entry.index;
        if !seen.insert(at) {
            return Err(malformed(&format!("entry #{at} twice")));
        }
        let bundle = Bundle {
            leaf_index: at,
            tree_size: checkpoint.tree_size,
            leaf_data_base64: Some(entry.leaf_data_base64.clone()),
            leaf_hash_base64: None,
            inclusion_proof_base64: entry.inclusion_proof_base64.clone(),
            checkpoint: package.checkpoint.clone(),
        };
        let proven_entry = bundle.verify_with(hasher.as_ref(), &peer.log_key).map_err(|e| {
            differ(
                Why::ProofInvalid,
                format!("第 {at} 条的包含证明不成立（数据或证明被改动）：{e}"),
                format!("entry #{at}: the inclusion proof does not verify (data or proof altered): {e}"),
            )
        })?;
        let data = proven_entry.leaf_data.unwrap_or_default();
        let not_this = |zh: &str, en: &str| {
            differ(
                Why::NotThisPerson,
                format!("第 {at} 条不是此人的{zh}"),
                format!("entry #{at} is not this person's {en}"),
            )
        };
        match Event::from_bytes(&data) {
            Ok(Event::ContributionRecorded(c)) if c.person == package.person => {
                if c.status.is_paid()
                    && matches!(c.insurance, Insurance::Pension | Insurance::Medical)
                {
                    months.push(proven(at, &c));
                } else {
                    return Err(not_this(
                        "已缴养老或医疗记录",
                        "paid pension or medical month",
                    ));
                }
            }
            Ok(Event::PersonRegistered(p)) if p.person == package.person => {
                hukou = p.hukou_region.map(|r| r.to_string());
            }
            _ => return Err(not_this("记录", "record")),
        }
    }
    if hukou.as_deref() != Some(package.hukou.as_str()) {
        return Err(differ(
            Why::HistoryDiffers,
            "户籍地区与证明的登记记录不符（或缺少登记记录）".into(),
            "the hukou region differs from the proven registration entry (or it is missing)".into(),
        ));
    }
    let derived = history_of(&months);
    let as_json = |v: &Vec<Period>| serde_json::to_value(v).unwrap_or_default();
    if let Some((path, sent_v, proven_v)) =
        first_difference("history", &as_json(&package.history), &as_json(&derived))
    {
        return Err(differ(
            Why::HistoryDiffers,
            format!("转移的缴费历史与证明的记录不符：{path} 为 {sent_v}，记录是 {proven_v}"),
            format!(
                "the history differs from the proven entries: {path} is {sent_v}, the entries say {proven_v}"
            ),
        ));
    }
    for (what, given, proven_sum) in [
        (
            "personal_account_fen",
            package.personal_account_fen,
            sum_account(&months, Insurance::Pension),
        ),
        (
            "medical_account_fen",
            package.medical_account_fen,
            sum_account(&months, Insurance::Medical),
        ),
    ] {
        if given != proven_sum {
            let show = |f: Option<Fen>| f.map(|f| f.0.to_string()).unwrap_or_else(|| "-".into());
            return Err(differ(
                Why::AccountDiffers,
                format!(
                    "{what} 为 {}，证明的记录合计 {}",
                    show(given),
                    show(proven_sum)
                ),
                format!(
                    "{what} is {}, the proven entries sum to {}",
                    show(given),
                    show(proven_sum)
                ),
            ));
        }
    }
    if let Some(sent) = sent {
        let mine = (
            &sent.from_region,
            &sent.to_region,
            &sent.date,
            as_json(&sent.elsewhere),
            sent.approved_transfer,
            sent.medical_gap_months,
        );
        let theirs = (
            &package.from_region,
            &package.to_region,
            &package.date,
            as_json(&package.elsewhere),
            package.approved_transfer,
            package.medical_gap_months,
        );
        if mine != theirs {
            return Err(differ(
                Why::HistoryDiffers,
                "转移包里的申请内容（地区、日期、其他地区的月份）与本实例发出的联系函不同".into(),
                "the package's request (regions, date, months elsewhere) differs from the liaison request this instance sent".into(),
            ));
        }
    }
    let result = run_calculator(policy, &calc_request(&package, &id)?)?;
    let recomputed = serde_json::to_value(&result).map_err(|e| malformed(&e.to_string()))?;
    if let Some((path, sent_v, ours)) = first_difference("", &package.result, &recomputed) {
        return Err(differ(
            Why::FiguresDiffer,
            format!("转移包的计算结果与本实例重算不同：{path} 为 {sent_v}，重算为 {ours}"),
            format!(
                "the package's figures differ from re-running the calculator here: {path} is {sent_v}, recomputed {ours}"
            ),
        ));
    }
    Ok(Verified {
        package,
        id,
        checkpoint,
        months,
        result,
    })
}

/// The destination's side: the liaison request for a worker, signed.
#[allow(clippy::too_many_arguments)]
pub fn liaison_request(
    key: &InstanceKey,
    origin: &Peer,
    transfer: &str,
    id: &ResidentId,
    mut request: LiaisonRequest,
    at: i64,
) -> Result<Signed, Refusal> {
    request.identity = seal_to(
        &origin.key,
        &identity_aad(transfer, key.name(), &origin.name),
        id.expose().as_bytes(),
    )?;
    let envelope = Envelope {
        v: 1,
        kind: Kind::LiaisonRequest,
        from: key.name().to_string(),
        to: origin.name.clone(),
        transfer: transfer.to_string(),
        idem: format!("{transfer}:request"),
        at,
        body: serde_json::to_value(&request).map_err(|e| malformed(&e.to_string()))?,
    };
    message::sign(key, &envelope)
}

/// The origin's side: a package as a signed message answering `request`.
pub fn package_message(
    key: &InstanceKey,
    request: &Envelope,
    package: &Package,
    at: i64,
) -> Result<Signed, Refusal> {
    let envelope = Envelope {
        v: 1,
        kind: Kind::Package,
        from: key.name().to_string(),
        to: request.from.clone(),
        transfer: request.transfer.clone(),
        idem: format!("{}:package", request.transfer),
        at,
        body: serde_json::to_value(package).map_err(|e| malformed(&e.to_string()))?,
    };
    message::sign(key, &envelope)
}

/// The package's SHA-256 (what the acknowledgement and the seal name), lowercase hex.
pub fn digest(signed: &Signed) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(signed.message.as_bytes()))
}
