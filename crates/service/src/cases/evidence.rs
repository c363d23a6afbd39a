//! Evidence for a case (issue 15, 一键维权): files a worker attaches to their complaint, and
//! the evidence bundle an inspector, a union lawyer or a court checks offline.
//!
//! Attaching: the limits (size of a file, number of files, total) are parameters
//! (`case.evidence.*`, `policy/params/000000-cases.toml`); the type a file is declared as (its
//! content type or its name's extension) must be what its content is (magic bytes: JPEG, PNG,
//! PDF; a chat export is UTF-8 text without control characters). Every file of a request is
//! checked before any is stored, and all are stored in one transaction, so a refusal stores
//! nothing. The log gets each file's SHA-256, type and size (`case_evidence` events); the name
//! and the content are sealed with the data key (migration 13) and never reach a log line or
//! an error (a refused file is named by its position, not its name).
//!
//! The bundle: a signed manifest (the case, its steps, every file's name, type, size and
//! SHA-256, the certificate's hash), the files, the worker's contribution-history certificate
//! (`anxin_records::cert`), and inclusion proofs of the case's steps and of the files' hash
//! events against one signed checkpoint. [`verify_bundle`] checks it with the log's public key
//! alone and names the file whose bytes changed.

use anxin_domain::{Clock, ResidentId, china};
use anxin_ledger::{
    Algorithm, Hash, LogHasher, Verifier, parse_and_verify_checkpoint, verify_bytes,
    verify_inclusion,
};
use anxin_policy::{Key, param};
use anxin_records::cert::{self, Certificate};
use anxin_records::event::{Event, EvidenceEvent};
use anxin_records::keys::{hex, unhex};
use anxin_records::records::{EVIDENCE_BUNDLE_CONTEXT, Outcome};
use anxin_records::store::EvidenceRow;
use anxin_records::{Error, PersonKey, Records, Store, Suite};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::{CaseError, Engine, ParamView, Result, bad, facts, load, region};
use crate::access::{self, Actor};

/// The bundle file's format.
pub const BUNDLE_FORMAT: &str = "anxin-evidence-bundle/v1";
/// The manifest's format (inside the bundle, signed).
pub const MANIFEST_FORMAT: &str = "anxin-evidence-manifest/v1";
/// Largest bundle [`verify_bundle`] reads: the largest total the limits could allow, base64
/// and all, is well under this.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;
/// Longest file name kept (characters).
const MAX_NAME_CHARS: usize = 120;

/// What a file's content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Jpeg,
    Png,
    Pdf,
    Text,
}

impl Media {
    pub const ALL: [Media; 4] = [Media::Jpeg, Media::Png, Media::Pdf, Media::Text];

    pub fn mime(self) -> &'static str {
        match self {
            Media::Jpeg => "image/jpeg",
            Media::Png => "image/png",
            Media::Pdf => "application/pdf",
            Media::Text => "text/plain",
        }
    }

    /// How a person calls it.
    pub fn label(self) -> (&'static str, &'static str) {
        match self {
            Media::Jpeg => ("JPEG 照片", "a JPEG photo"),
            Media::Png => ("PNG 图片（截图）", "a PNG image (screenshot)"),
            Media::Pdf => ("PDF 文件", "a PDF"),
            Media::Text => ("文本（聊天记录导出）", "text (a chat export)"),
        }
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            Media::Jpeg => &["jpg", "jpeg"],
            Media::Png => &["png"],
            Media::Pdf => &["pdf"],
            Media::Text => &["txt", "csv", "log"],
        }
    }

    /// A declared content type (`image/jpeg; …`); `None` for a generic or unknown one.
    fn from_mime(text: &str) -> Option<Media> {
        let base = text
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let base = if base == "image/jpg" || base == "image/pjpeg" {
            "image/jpeg".to_string()
        } else if base == "text/csv" {
            "text/plain".to_string()
        } else {
            base
        };
        Media::ALL.into_iter().find(|m| m.mime() == base)
    }

    fn from_name(name: &str) -> Option<Media> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        Media::ALL
            .into_iter()
            .find(|m| m.extensions().contains(&ext.as_str()))
    }
}

/// What the content is, by its first bytes (JPEG, PNG, PDF) or, failing those, whether it is
/// UTF-8 text with no control characters but tab, line feed, carriage return and form feed
/// (a chat export). `None`: none of the kinds taken.
pub fn sniff(bytes: &[u8]) -> Option<Media> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Media::Jpeg);
    }
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some(Media::Png);
    }
    if bytes.starts_with(b"%PDF-") {
        return Some(Media::Pdf);
    }
    let text = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(text).ok()?;
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
    {
        return None;
    }
    Some(Media::Text)
}

/// A file as uploaded: the name the worker's device gave it, the content type it was sent
/// with (if any) and its bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// The limits in force for a case, each with its parameter (value, source).
#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_files: u32,
    pub max_total_bytes: u64,
    pub params: Vec<ParamView>,
}

impl Limits {
    /// The limits where (the case's region) and when (`date`) a file is attached.
    pub fn resolve(
        engine: &Engine<'_>,
        case_region: u32,
        date: jiff::civil::Date,
    ) -> Result<Limits> {
        let region = engine.policy_region(region(case_region)?);
        let scope = engine
            .policy
            .scope_at(&region, date, engine.reforms)
            .map_err(super::policy_err)?;
        let mut params = Vec::new();
        let mut get = |key: Key| -> Result<u64> {
            let (v, r) = scope.int(key).map_err(super::policy_err)?;
            params.push(ParamView {
                key: r.key.to_string(),
                value: v,
                region: r.region,
                from: r.from,
                source: r.source.doc.clone(),
                reform: r.reform,
            });
            u64::try_from(v).map_err(|_| bad("证据限额为负", "a negative evidence limit"))
        };
        let max_file_bytes = get(param::CASE_EVIDENCE_MAX_FILE_BYTES)?;
        let max_files = u32::try_from(get(param::CASE_EVIDENCE_MAX_FILES)?)
            .map_err(|_| bad("证据份数上限过大", "the evidence count limit is too large"))?;
        let max_total_bytes = get(param::CASE_EVIDENCE_MAX_TOTAL_BYTES)?;
        Ok(Limits {
            max_file_bytes,
            max_files,
            max_total_bytes,
            params,
        })
    }
}

/// A file of evidence as listed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EvidenceView {
    pub n: u32,
    pub name: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    /// The log entry that records its hash.
    pub log_index: u64,
}

fn view_of(row: &EvidenceRow, name: &str) -> EvidenceView {
    EvidenceView {
        n: row.n,
        name: name.to_string(),
        media_type: row.media_type.clone(),
        size: row.size,
        sha256: row.sha256.clone(),
        log_index: row.seq,
    }
}

fn mb(bytes: u64) -> String {
    // One decimal, by integer arithmetic.
    let tenths = (bytes * 10 + 524_288) / 1_048_576;
    format!("{}.{} MB", tenths / 10, tenths % 10)
}

/// An amount over a limit, in MB, or in bytes when the MB would read the same as the limit.
fn over(actual: u64, limit: u64) -> (String, String) {
    if mb(actual) == mb(limit) {
        (format!("{actual} 字节"), format!("{actual} bytes"))
    } else {
        (mb(actual), mb(actual))
    }
}

/// The name kept: the last path component, trimmed, control characters dropped, at most
/// [`MAX_NAME_CHARS`] characters; a name left empty becomes `file-{n}`.
fn clean_name(name: &str, n: u32, media: Media) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_NAME_CHARS)
        .collect();
    if kept.is_empty() {
        format!("file-{n}.{}", media.extensions()[0])
    } else {
        kept
    }
}

/// Checks one upload (the `i`-th of the request, 1-based) against the type rules and the
/// size limit; returns its type. The refusal names the file by its position only.
fn check_upload(i: usize, up: &Upload, limits: &Limits) -> Result<Media> {
    let size = up.bytes.len() as u64;
    if size == 0 {
        return Err(bad(
            format!("第 {i} 个文件是空的：请重新选择文件"),
            format!("file {i} is empty: choose the file again"),
        ));
    }
    if size > limits.max_file_bytes {
        let (zh, en) = over(size, limits.max_file_bytes);
        return Err(bad(
            format!(
                "第 {i} 个文件有 {zh}，超过每份 {} 的上限：请压缩或分开上传",
                mb(limits.max_file_bytes)
            ),
            format!(
                "file {i} is {en}, over the limit of {} per file: compress or split it",
                mb(limits.max_file_bytes)
            ),
        ));
    }
    let allowed_zh: Vec<&str> = Media::ALL.iter().map(|m| m.label().0).collect();
    let allowed_en: Vec<&str> = Media::ALL.iter().map(|m| m.label().1).collect();
    let declared = up
        .content_type
        .as_deref()
        .and_then(Media::from_mime)
        .or_else(|| Media::from_name(&up.name));
    let Some(declared) = declared else {
        return Err(bad(
            format!(
                "第 {i} 个文件的类型不在可收之列（可收：{}）",
                allowed_zh.join("、")
            ),
            format!(
                "file {i} is not of a type taken (taken: {})",
                allowed_en.join(", ")
            ),
        ));
    };
    match sniff(&up.bytes) {
        Some(found) if found == declared => Ok(found),
        Some(found) => Err(bad(
            format!(
                "第 {i} 个文件标为{}，内容却是{}：请确认文件没有改过扩展名",
                declared.label().0,
                found.label().0
            ),
            format!(
                "file {i} is declared as {} but its content is {}: check its extension was not changed",
                declared.label().1,
                found.label().1
            ),
        )),
        None => Err(bad(
            format!(
                "第 {i} 个文件标为{}，内容却不是（也不是{}中的任何一种）",
                declared.label().0,
                allowed_zh.join("、")
            ),
            format!(
                "file {i} is declared as {} but its content is not (nor any of: {})",
                declared.label().1,
                allowed_en.join(", ")
            ),
        )),
    }
}

/// Attaches `uploads` to the case for its worker: every file checked first (type against
/// content, size, count and total against the limits), then all stored in one transaction.
pub fn attach<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    id: &str,
    uploads: &[Upload],
    clock: &dyn Clock,
) -> Result<Vec<EvidenceView>> {
    let (steps, kind) = load(records, engine, id)?;
    let last = steps.last().expect("loaded cases have a step");
    let filer = PersonKey(last.person);
    let open = !kind.state(&last.state).is_some_and(|s| s.terminal);
    access::check_case_attach(actor, &facts(kind, last, &filer), open)?;
    if uploads.is_empty() {
        return Err(bad("请至少选择一个文件", "choose at least one file"));
    }
    let limits = Limits::resolve(engine, last.region, clock.today())?;
    let existing = records.store().case_evidence_of(id, false)?;
    let count = existing.len() + uploads.len();
    if count > limits.max_files as usize {
        return Err(bad(
            format!(
                "一个案件最多附 {} 份证据，已有 {} 份，这次 {} 份：请精选后再传",
                limits.max_files,
                existing.len(),
                uploads.len()
            ),
            format!(
                "a case takes at most {} files of evidence; it has {} and this adds {}: choose fewer",
                limits.max_files,
                existing.len(),
                uploads.len()
            ),
        ));
    }
    let mut media = Vec::with_capacity(uploads.len());
    for (i, up) in uploads.iter().enumerate() {
        media.push(check_upload(i + 1, up, &limits)?);
    }
    let total: u64 = existing.iter().map(|r| r.size).sum::<u64>()
        + uploads.iter().map(|u| u.bytes.len() as u64).sum::<u64>();
    if total > limits.max_total_bytes {
        let (zh, en) = over(total, limits.max_total_bytes);
        return Err(bad(
            format!(
                "证据合计 {zh}，超过一个案件 {} 的上限：请精选后再传",
                mb(limits.max_total_bytes)
            ),
            format!(
                "the evidence would total {en}, over the limit of {} per case: choose fewer",
                mb(limits.max_total_bytes)
            ),
        ));
    }
    let first = existing.iter().map(|r| r.n).max().unwrap_or(0) + 1;
    let now = clock.unix_seconds();
    let names: Vec<String> = uploads
        .iter()
        .zip(&media)
        .enumerate()
        .map(|(i, (u, m))| clean_name(&u.name, first + i as u32, *m))
        .collect();
    let files: Vec<(EvidenceEvent, &str, &[u8])> = uploads
        .iter()
        .zip(&media)
        .zip(&names)
        .enumerate()
        .map(|(i, ((u, m), name))| {
            let n = first + i as u32;
            (
                EvidenceEvent {
                    key: format!("evidence:{id}:{n}"),
                    case: id.to_string(),
                    n,
                    person: filer.hex(),
                    media_type: m.mime().to_string(),
                    size: u.bytes.len() as u64,
                    sha256: hex(&sha2::Sha256::digest(&u.bytes)),
                    actor: format!("account:{}", actor.account.id),
                    at: now,
                },
                name.as_str(),
                u.bytes.as_slice(),
            )
        })
        .collect();
    let (outcomes, _) = records.append_evidence(files)?;
    if let Some(Outcome::Rejected(r)) = outcomes.iter().find(|o| matches!(o, Outcome::Rejected(_)))
    {
        return Err(bad(r.reason_zh.clone(), r.reason_en.clone()));
    }
    list_unchecked(records, id)
}

fn list_unchecked<S: Store>(records: &mut Records<S>, id: &str) -> Result<Vec<EvidenceView>> {
    Ok(records
        .evidence_names(id)?
        .iter()
        .map(|(row, name)| view_of(row, name))
        .collect())
}

/// An official who opens a worker's evidence or builds their bundle (which holds the
/// worker's certificate: name, months, regions) has read personal data: the read goes to the
/// append-only access log the worker reads, with the case as its purpose. The worker's own
/// reads are not logged.
fn log_official_read<S: Store>(
    records: &mut Records<S>,
    actor: Actor<'_>,
    filer: &PersonKey,
    id: &str,
    what: &str,
    now: i64,
) -> Result<()> {
    if actor.account.person == Some(filer.0) {
        return Ok(());
    }
    records.log_access(anxin_records::access::AccessRow {
        id: 0,
        at: now,
        account: actor.account.id,
        username: actor.account.username.clone(),
        role: actor.role.as_str().into(),
        person: filer.0,
        what: what.into(),
        purpose: format!("办理案件 {id} / handling case {id}"),
    })?;
    Ok(())
}

/// The case's evidence, for whoever may read the case.
pub fn list<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    id: &str,
) -> Result<Vec<EvidenceView>> {
    let (steps, kind) = load(records, engine, id)?;
    let last = steps.last().expect("loaded cases have a step");
    access::check_case_read(actor, &facts(kind, last, &PersonKey(last.person)))?;
    list_unchecked(records, id)
}

/// One file of the case's evidence (its listing and its bytes), for whoever may read the case;
/// an official's download is written to the worker's access log (so this writes).
pub fn download<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    id: &str,
    n: u32,
    clock: &dyn Clock,
) -> Result<(EvidenceView, Vec<u8>)> {
    let (steps, kind) = load(records, engine, id)?;
    let last = steps.last().expect("loaded cases have a step");
    let filer = PersonKey(last.person);
    access::check_case_read(actor, &facts(kind, last, &filer))?;
    let found = records
        .evidence_opened(id)?
        .into_iter()
        .any(|(row, _, _)| row.n == n);
    if found {
        log_official_read(
            records,
            actor,
            &filer,
            id,
            "case_evidence",
            clock.unix_seconds(),
        )?;
    }
    records
        .evidence_opened(id)?
        .into_iter()
        .find(|(row, _, _)| row.n == n)
        .map(|(row, name, bytes)| (view_of(&row, &name), bytes))
        .ok_or_else(|| {
            CaseError::Records(Error::not_found(
                format!("案件 {id} 没有第 {n} 份证据"),
                format!("case {id} has no evidence file {n}"),
            ))
        })
}

/// The evidence bundle file: compact JSON; `manifest` is the exact signed text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub format: String,
    pub suite: String,
    /// The manifest ([`Manifest`]), exact JSON text.
    pub manifest: String,
    /// Signature of the log's key over the manifest, standard base64.
    pub signature: String,
    /// Each file's content, standard base64, in the manifest's order.
    pub files: Vec<BundleFile>,
    /// The log entries the manifest names (the case's steps, the files' hash events), each
    /// with its inclusion proof against `checkpoint`.
    pub entries: Vec<BundleEntry>,
    pub tree_size: u64,
    pub checkpoint: String,
    /// The worker's contribution-history certificate (checked on its own, `anxin verify`).
    pub certificate: Certificate,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    pub n: u32,
    pub content: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct BundleEntry {
    pub leaf_index: u64,
    /// The entry's canonical bytes, exact JSON text.
    pub event: String,
    /// Lowercase hex, leaf level first.
    pub inclusion_proof: Vec<String>,
}

/// What the bundle states, signed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub case: String,
    pub kind: String,
    pub subject: Option<String>,
    pub party: Option<String>,
    pub region: String,
    pub state: String,
    /// The worker (keyed hash, lowercase hex).
    pub person: String,
    pub built_at: String,
    pub files: Vec<EvidenceView>,
    /// Each step: number, action, state after it, log entry.
    pub steps: Vec<ManifestStep>,
    /// SHA-256 of the certificate's document.
    pub certificate_sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ManifestStep {
    pub step: u32,
    pub action: String,
    pub state: String,
    pub log_index: u64,
}

impl Bundle {
    /// The file's bytes: compact JSON, no trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("plain strings and integers serialize")
    }
}

/// Builds the case's evidence bundle, for whoever may read the case. Issues the worker's
/// contribution-history certificate (an entry in the log, like any certificate), then proves
/// every step and every file's hash event against the signed head after it.
pub fn bundle<S: Store>(
    records: &mut Records<S>,
    engine: &Engine<'_>,
    actor: Actor<'_>,
    id: &str,
    clock: &dyn Clock,
) -> Result<Bundle> {
    let (steps, kind) = load(records, engine, id)?;
    let last = steps.last().expect("loaded cases have a step").clone();
    let person = PersonKey(last.person);
    access::check_case_read(actor, &facts(kind, &last, &person))?;
    log_official_read(
        records,
        actor,
        &person,
        id,
        "case_bundle",
        clock.unix_seconds(),
    )?;
    let opened = records.evidence_opened(id)?;
    // The certificate is issued for the worker's ID, opened from their registry row.
    let row = records.store().person(&person.0)?.ok_or_else(|| {
        CaseError::Records(Error::not_found(
            "登记册中没有此案件的投诉人",
            "the case's worker is not in the registry",
        ))
    })?;
    let clear = records.data_key().open(&person, &row.sealed)?;
    let clear: serde_json::Value = serde_json::from_slice(&clear).map_err(|_| {
        CaseError::Records(Error::Corrupt("sealed person record does not parse".into()))
    })?;
    let rid = ResidentId::parse(clear["id"].as_str().unwrap_or_default()).map_err(|_| {
        CaseError::Records(Error::Corrupt("sealed resident ID does not parse".into()))
    })?;
    let certificate = records.issue_certificate(&rid, clock.today())?;
    let manifest = Manifest {
        format: MANIFEST_FORMAT.into(),
        case: id.to_string(),
        kind: kind.name.clone(),
        subject: steps[0].subject.clone(),
        party: steps[0].party.clone(),
        region: format!("{:06}", last.region),
        state: last.state.clone(),
        person: person.hex(),
        built_at: clock
            .now()
            .to_zoned(china())
            .strftime("%Y-%m-%d %H:%M %:z")
            .to_string(),
        files: opened.iter().map(|(r, name, _)| view_of(r, name)).collect(),
        steps: steps
            .iter()
            .map(|s| ManifestStep {
                step: s.step,
                action: s.action.clone(),
                state: s.state.clone(),
                log_index: s.seq,
            })
            .collect(),
        certificate_sha256: hex(&sha2::Sha256::digest(certificate.document.as_bytes())),
    };
    let manifest = serde_json::to_string(&manifest)
        .map_err(|e| CaseError::Records(Error::Corrupt(e.to_string())))?;
    let signature = records.sign_evidence_manifest(manifest.as_bytes())?;
    let head = records.store().head()?;
    let mut indices: Vec<u64> = steps.iter().map(|s| s.seq).collect();
    indices.extend(opened.iter().map(|(r, _, _)| r.seq));
    indices.sort_unstable();
    let mut entries = Vec::with_capacity(indices.len());
    let hasher = records.hasher();
    for index in indices {
        let (_, proof) = anxin_records::tiles::inclusion(records.store(), &hasher, &head, index)?;
        let event = records
            .store()
            .events(index, index + 1)?
            .pop()
            .ok_or_else(|| {
                CaseError::Records(Error::Corrupt(format!("entry {index} is missing")))
            })?;
        entries.push(BundleEntry {
            leaf_index: index,
            event: String::from_utf8(event.body)
                .map_err(|_| CaseError::Records(Error::Corrupt("an entry is not UTF-8".into())))?,
            inclusion_proof: proof.iter().map(|h| hex(h)).collect(),
        });
    }
    Ok(Bundle {
        format: BUNDLE_FORMAT.into(),
        suite: records.suite().as_str().into(),
        manifest,
        signature: BASE64.encode(signature),
        files: opened
            .iter()
            .map(|(r, _, bytes)| BundleFile {
                n: r.n,
                content: BASE64.encode(bytes),
            })
            .collect(),
        entries,
        tree_size: head.size,
        checkpoint: head.checkpoint,
        certificate,
    })
}

/// One line of a bundle's verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BundleCheck {
    pub zh: String,
    pub en: String,
    pub ok: bool,
    /// Why it failed (both languages), empty when it held.
    pub detail: String,
}

/// A bundle's verification: every check, and the manifest when it could be read.
#[derive(Debug, Clone, Serialize)]
pub struct BundleVerification {
    pub checks: Vec<BundleCheck>,
    pub manifest: Option<Manifest>,
}

impl BundleVerification {
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// The checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = &BundleCheck> {
        self.checks.iter().filter(|c| !c.ok)
    }
}

/// Checks an evidence bundle offline with the log's public key: the manifest's signature,
/// the checkpoint's, every file against its hash in the manifest (a changed file is named),
/// every entry's inclusion proof, the entries against the manifest, the certificate (its own
/// offline check) and that the file's bytes are canonical.
pub fn verify_bundle(bytes: &[u8], verifier: &Verifier) -> BundleVerification {
    let mut checks: Vec<BundleCheck> = Vec::new();
    let mut push = |zh: String, en: String, result: std::result::Result<(), String>| {
        let ok = result.is_ok();
        checks.push(BundleCheck {
            zh,
            en,
            ok,
            detail: result.err().unwrap_or_default(),
        });
        ok
    };
    let s = |t: &str| t.to_string();
    if bytes.len() > MAX_BUNDLE_BYTES {
        push(
            s("文件大小"),
            s("file size"),
            Err(format!(
                "证据包超过 {MAX_BUNDLE_BYTES} 字节 / the bundle exceeds {MAX_BUNDLE_BYTES} bytes"
            )),
        );
        return BundleVerification {
            checks,
            manifest: None,
        };
    }
    let b: Bundle = match serde_json::from_slice(bytes) {
        Ok(b) => b,
        Err(e) => {
            push(
                s("文件结构"),
                s("file structure"),
                Err(format!("不是证据包文件 / not an evidence bundle: {e}")),
            );
            return BundleVerification {
                checks,
                manifest: None,
            };
        }
    };
    push(
        s("文件格式版本"),
        s("format version"),
        if b.format == BUNDLE_FORMAT {
            Ok(())
        } else {
            Err(format!(
                "格式为 {:?}，应为 {BUNDLE_FORMAT} / format is {:?}, expected {BUNDLE_FORMAT}",
                b.format, b.format
            ))
        },
    );
    let suite = match verifier.algorithm() {
        Algorithm::Ed25519 => Suite::Standard,
        Algorithm::Sm2 => Suite::Guomi,
    };
    push(
        s("密码套件与公钥一致"),
        s("suite matches the key"),
        if b.suite == suite.as_str() {
            Ok(())
        } else {
            Err(format!(
                "证据包写明 {:?}，公钥属于 {} / the bundle says {:?}, the key is {}",
                b.suite,
                suite.as_str(),
                b.suite,
                suite.as_str()
            ))
        },
    );
    let hasher = suite.hasher();
    // The manifest and its signature.
    let signature = BASE64.decode(&b.signature).ok();
    push(
        s("清单签名"),
        s("manifest signature"),
        match signature {
            Some(sig) if BASE64.encode(&sig) == b.signature => verify_bytes(
                verifier,
                EVIDENCE_BUNDLE_CONTEXT,
                b.manifest.as_bytes(),
                &sig,
            )
            .map_err(|e| {
                format!("签名与清单不符 / the signature does not match the manifest: {e}")
            }),
            _ => Err("签名不是 base64 / the signature is not base64".into()),
        },
    );
    let manifest: Option<Manifest> = serde_json::from_str(&b.manifest).ok();
    push(
        s("清单可读"),
        s("manifest readable"),
        match &manifest {
            Some(m) if m.format == MANIFEST_FORMAT => Ok(()),
            Some(m) => Err(format!(
                "清单格式为 {:?} / manifest format is {:?}",
                m.format, m.format
            )),
            None => Err("清单不是有效的 JSON / the manifest is not valid JSON".into()),
        },
    );
    // The checkpoint.
    let checkpoint = parse_and_verify_checkpoint(&b.checkpoint, verifier);
    let root: Option<Hash> = match &checkpoint {
        Ok(cp) if cp.tree_size == b.tree_size => {
            push(s("检查点签名"), s("checkpoint signature"), Ok(()));
            Some(cp.root_hash)
        }
        Ok(cp) => {
            push(
                s("检查点签名"),
                s("checkpoint signature"),
                Err(format!(
                    "检查点为 {} 条，证据包写 {} 条 / the checkpoint is for {} entries, the bundle says {}",
                    cp.tree_size, b.tree_size, cp.tree_size, b.tree_size
                )),
            );
            None
        }
        Err(e) => {
            push(
                s("检查点签名"),
                s("checkpoint signature"),
                Err(format!("{e}")),
            );
            None
        }
    };
    // The entries: each proved against the checkpoint.
    let mut events: Vec<(u64, Event)> = Vec::new();
    for e in &b.entries {
        let label = (
            format!("日志条目 #{} 在签名的日志中", e.leaf_index),
            format!("log entry #{} is in the signed log", e.leaf_index),
        );
        let proof: Option<Vec<Hash>> = e
            .inclusion_proof
            .iter()
            .map(|h| unhex(h).and_then(|b| <Hash>::try_from(b).ok()))
            .collect();
        let result = match (proof, root) {
            (None, _) => Err(
                "包含证明不是 32 字节的小写十六进制 / the proof is not 32-byte lowercase hex"
                    .to_string(),
            ),
            (_, None) => {
                Err("没有可信的检查点可对照 / no trusted checkpoint to check against".into())
            }
            (Some(proof), Some(root)) => verify_inclusion(
                &hasher,
                e.leaf_index,
                b.tree_size,
                &hasher.leaf(e.event.as_bytes()),
                &proof,
                &root,
            )
            .map_err(|err| {
                format!("条目或其证明被改动 / the entry or its proof was altered: {err}")
            }),
        };
        if push(label.0, label.1, result) {
            match Event::from_bytes(e.event.as_bytes()) {
                Ok(ev) => events.push((e.leaf_index, ev)),
                Err(err) => {
                    push(
                        format!("日志条目 #{} 可读", e.leaf_index),
                        format!("log entry #{} readable", e.leaf_index),
                        Err(format!("{err}")),
                    );
                }
            }
        }
    }
    let entry = |index: u64| events.iter().find(|(i, _)| *i == index).map(|(_, e)| e);
    if let Some(m) = &manifest {
        // Every file: present, its bytes hash to the manifest's, and the log entry records it.
        for f in &m.files {
            let zh = format!("证据文件 {}「{}」", f.n, f.name);
            let en = format!("evidence file {} \"{}\"", f.n, f.name);
            let content = b.files.iter().find(|x| x.n == f.n);
            let result = match content.map(|c| BASE64.decode(&c.content)) {
                None => Err("证据包里没有这份文件 / the bundle lacks this file".to_string()),
                Some(Err(_)) => Err(
                    "内容不是有效的 base64（被改动） / its content is not valid base64 (altered)"
                        .into(),
                ),
                Some(Ok(bytes)) => {
                    let digest = hex(&sha2::Sha256::digest(&bytes));
                    if digest != f.sha256 || bytes.len() as u64 != f.size {
                        Err(format!(
                            "文件内容与清单中的哈希不符：这份文件被改动过 / its content does not match the manifest's hash: this file was altered (sha256 {digest})"
                        ))
                    } else {
                        match entry(f.log_index) {
                            Some(Event::CaseEvidence(ev))
                                if ev.sha256 == f.sha256
                                    && ev.size == f.size
                                    && ev.n == f.n
                                    && ev.case == m.case
                                    && ev.person == m.person
                                    && ev.media_type == f.media_type =>
                            {
                                Ok(())
                            }
                            Some(_) => Err(format!(
                                "日志条目 #{} 记录的不是这份文件 / log entry #{} does not record this file",
                                f.log_index, f.log_index
                            )),
                            None => Err(format!(
                                "证据包里没有经证明的日志条目 #{} / the bundle has no proven log entry #{}",
                                f.log_index, f.log_index
                            )),
                        }
                    }
                }
            };
            push(zh, en, result);
        }
        let extra: Vec<u32> = b
            .files
            .iter()
            .filter(|x| !m.files.iter().any(|f| f.n == x.n))
            .map(|x| x.n)
            .collect();
        if !extra.is_empty() {
            push(
                s("证据包里没有清单以外的文件"),
                s("no file outside the manifest"),
                Err(format!("多出的文件 / extra files: {extra:?}")),
            );
        }
        // Every step: its entry is this case's step.
        let steps_ok = m.steps.iter().try_for_each(|st| match entry(st.log_index) {
            Some(Event::CaseStep(ev))
                if ev.case == m.case
                    && ev.step == st.step
                    && ev.action == st.action
                    && ev.state == st.state
                    && ev.person == m.person =>
            {
                Ok(())
            }
            _ => Err(format!(
                "第 {} 步与日志条目 #{} 不符 / step {} does not match log entry #{}",
                st.step, st.log_index, st.step, st.log_index
            )),
        });
        push(
            s("案件各步在日志中"),
            s("the case's steps are in the log"),
            steps_ok,
        );
        // The certificate: its own offline check, and it is this worker's, the one signed.
        let cert_check = cert::verify(&b.certificate.to_bytes(), verifier);
        let digest = hex(&sha2::Sha256::digest(b.certificate.document.as_bytes()));
        let holder = serde_json::from_str::<serde_json::Value>(&b.certificate.document)
            .ok()
            .and_then(|d| d["subject"]["person"].as_str().map(str::to_string));
        push(
            s("缴费凭证"),
            s("contribution-history certificate"),
            if !cert_check.ok() {
                let failed: Vec<String> = cert_check
                    .checks
                    .iter()
                    .filter(|c| !c.ok)
                    .map(|c| format!("{} / {}: {}", c.zh, c.en, c.detail))
                    .collect();
                Err(failed.join("; "))
            } else if digest != m.certificate_sha256 {
                Err("凭证不是清单签名时的那一份 / the certificate is not the one the manifest signed".into())
            } else if holder.as_deref() != Some(m.person.as_str()) {
                Err(
                    "凭证的持证人不是投诉人 / the certificate's holder is not the case's worker"
                        .into(),
                )
            } else {
                Ok(())
            },
        );
    }
    push(
        s("文件未被改排"),
        s("file bytes are canonical"),
        if b.to_bytes() == bytes {
            Ok(())
        } else {
            Err("文件字节与其内容的标准编码不同（有改动） / the file's bytes differ from the canonical encoding of its content (it was altered)".into())
        },
    );
    BundleVerification { checks, manifest }
}
