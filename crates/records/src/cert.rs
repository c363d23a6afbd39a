//! Certificates (参保缴费凭证): a signed document whose hash is in the log, with the inclusion
//! proof and a signed checkpoint, checkable offline with only the log's public key.
//!
//! The file is compact JSON with no insignificant whitespace; the document and the log entry
//! travel as exact strings, so the verifier checks the very bytes that were signed. `verify`
//! runs every check and says which fail; a file whose bytes differ from the canonical
//! encoding of what it holds fails too, so no byte can change unnoticed.

use anxin_domain::ResidentId;
use anxin_domain::codes::{Code, Insurance, Payer, Status};
use anxin_ledger::{
    Algorithm, Hash, LogHasher, Verifier, parse_and_verify_checkpoint, sign_bytes, verify_bytes,
    verify_inclusion,
};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD as B64URL};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::account::summarize;
use crate::error::{Error, Result};
use crate::event::{CertificateEvent, Event};
use crate::keys::{PersonKey, hex, unhex};
use crate::log::Suite;
use crate::records::{Outcome, Records};
use crate::store::Store;

pub const FORMAT: &str = "anxin-certificate/v1";
pub const CONTRIBUTION_HISTORY: &str = "contribution_history";
const SIGNING_CONTEXT: &str = "anxin/certificate/v1";
/// Largest certificate file `verify` reads.
pub const MAX_CERT_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certificate {
    pub format: String,
    pub suite: String,
    /// The certificate document, exact JSON text.
    pub document: String,
    /// Signature over the document, standard base64.
    pub signature: String,
    /// The log entry that records the document's hash, exact JSON text.
    pub event: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Inclusion proof, lowercase hex, leaf level first.
    pub inclusion_proof: Vec<String>,
    /// Signed checkpoint note for `tree_size`.
    pub checkpoint: String,
}

/// One line of a verification: what was checked and whether it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub zh: &'static str,
    pub en: &'static str,
    pub ok: bool,
    /// Why it failed (both languages), empty when it held.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    pub checks: Vec<Check>,
    /// The document, when it could be read.
    #[serde(skip)]
    pub document: Option<serde_json::Value>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }
}

impl Certificate {
    /// The file bytes: compact JSON, no trailing newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("plain strings and integers serialize")
    }

    /// The text a QR code carries: the document hash and its signature, enough to check a
    /// printed page against the key without the file.
    pub fn qr_text(&self) -> String {
        let digest = sha2::Sha256::digest(self.document.as_bytes());
        let signature = BASE64.decode(&self.signature).unwrap_or_default();
        format!(
            "ANXIN1:{}:{}",
            B64URL.encode(digest),
            B64URL.encode(signature)
        )
    }
}

impl<S: Store> Records<S> {
    /// Issues a contribution-history certificate for the person with `id`.
    pub fn issue_certificate(
        &mut self,
        id: &ResidentId,
        today: jiff::civil::Date,
    ) -> Result<Certificate> {
        let subject = self.subject(id)?;
        let person = self.person_key(id);
        let rows = self.store().contributions_of(&person.0)?;
        let months: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "month": anxin_domain::YearMonth::from_index(r.month).map(|m| m.to_string()),
                    "insurance": r.insurance,
                    "region": format!("{:06}", r.region),
                    "payer": r.payer,
                    "status": r.status,
                    "reason": r.reason,
                    "base_fen": r.base_fen,
                    "amount_fen": r.amount_fen,
                    "account_fen": r.account_fen,
                    "log_index": r.seq,
                })
            })
            .collect();
        let document = serde_json::json!({
            "cert_type": CONTRIBUTION_HISTORY,
            "title": "参保缴费凭证 Contribution history certificate",
            "issued_on": today.to_string(),
            "issuer": self.verifier().name(),
            "log_origin": self.origin(),
            "subject": subject,
            "summaries": summarize(&rows),
            "months": months,
        })
        .to_string();
        self.issue_document(&person, CONTRIBUTION_HISTORY, document, None)
    }

    /// The holder's name and masked ID for a document's subject, if they are registered.
    pub fn subject(&mut self, id: &ResidentId) -> Result<serde_json::Value> {
        let person = self.person_key(id);
        let row = self.store().person(&person.0)?.ok_or_else(|| {
            Error::not_found(
                "登记册中没有此人（身份证号已核对校验位）",
                "this person is not in the registry (the ID's check digit is valid)",
            )
        })?;
        let clear = self.data_key().open(&person, &row.sealed)?;
        let clear: serde_json::Value = serde_json::from_slice(&clear)
            .map_err(|_| Error::Corrupt("sealed person record does not parse".into()))?;
        Ok(
            serde_json::json!({ "name": clear["name"], "id_masked": id.masked(), "person": person.hex() }),
        )
    }

    /// Signs `document` (JSON text whose `cert_type` and `subject.person` name the type and
    /// the holder), records its hash in the log and returns the offline-checkable file.
    pub fn issue_document(
        &mut self,
        person: &PersonKey,
        cert_type: &str,
        document: String,
        month: Option<anxin_domain::YearMonth>,
    ) -> Result<Certificate> {
        let signature = sign_bytes(self.signer(), SIGNING_CONTEXT, document.as_bytes())?;
        let digest = hex(&sha2::Sha256::digest(document.as_bytes()));
        let event = Event::CertificateIssued(CertificateEvent {
            key: format!("cert:{}", &digest[..32]),
            person: person.hex(),
            cert_type: cert_type.into(),
            document_sha256: digest,
            month,
        });
        let event_bytes = event.to_bytes();
        let (outcome, _) = self.append_event(event)?;
        let leaf_index = match outcome {
            Outcome::Added(seq) | Outcome::Unchanged(seq) => seq,
            Outcome::Rejected(r) => return Err(Error::refused(r.reason_zh, r.reason_en)),
        };
        let (head, _, proof) = self.inclusion_proof(leaf_index)?;
        let certificate = Certificate {
            format: FORMAT.into(),
            suite: self.suite().as_str().into(),
            document,
            signature: BASE64.encode(signature),
            event: String::from_utf8(event_bytes).expect("JSON is UTF-8"),
            leaf_index,
            tree_size: head.size,
            inclusion_proof: proof.iter().map(|h| hex(h)).collect(),
            checkpoint: head.checkpoint,
        };
        // Kept under its verification code after the entry is durable: were this to fail, the
        // same document issued again finds its entry and keeps it then.
        self.keep_certificate(person, &certificate)?;
        Ok(certificate)
    }
}

/// Checks a certificate file offline against the log's public key.
pub fn verify(bytes: &[u8], verifier: &Verifier) -> Verification {
    let mut checks = Vec::new();
    let mut push = |zh: &'static str, en: &'static str, result: std::result::Result<(), String>| {
        let ok = result.is_ok();
        checks.push(Check {
            zh,
            en,
            ok,
            detail: result.err().unwrap_or_default(),
        });
        ok
    };
    if bytes.len() > MAX_CERT_BYTES {
        push(
            "文件大小",
            "file size",
            Err(format!(
                "文件超过 {MAX_CERT_BYTES} 字节 / file exceeds {MAX_CERT_BYTES} bytes"
            )),
        );
        return Verification {
            checks,
            document: None,
        };
    }
    let cert: Certificate = match serde_json::from_slice(bytes) {
        Ok(c) => c,
        Err(e) => {
            push(
                "文件结构",
                "file structure",
                Err(format!("不是有效的凭证文件 / not a certificate file: {e}")),
            );
            return Verification {
                checks,
                document: None,
            };
        }
    };
    push(
        "文件格式版本",
        "format version",
        if cert.format == FORMAT {
            Ok(())
        } else {
            Err(format!(
                "格式为 {:?}，应为 {FORMAT} / format is {:?}, expected {FORMAT}",
                cert.format, cert.format
            ))
        },
    );
    let suite = match verifier.algorithm() {
        Algorithm::Ed25519 => Suite::Standard,
        Algorithm::Sm2 => Suite::Guomi,
    };
    push(
        "密码套件与公钥一致",
        "suite matches the key",
        if cert.suite == suite.as_str() {
            Ok(())
        } else {
            Err(format!(
                "凭证写明 {:?}，公钥属于 {} / the file says {:?}, the key is {}",
                cert.suite,
                suite.as_str(),
                cert.suite,
                suite.as_str()
            ))
        },
    );
    let hasher = suite.hasher();

    let checkpoint = parse_and_verify_checkpoint(&cert.checkpoint, verifier);
    let cp_ok = push(
        "检查点签名",
        "checkpoint signature",
        checkpoint.as_ref().map(|_| ()).map_err(|e| format!("{e}")),
    );
    let root = checkpoint
        .ok()
        .filter(|_| cp_ok)
        .map(|cp| (cp.tree_size, cp.root_hash));
    if let Some((size, _)) = root {
        push(
            "检查点大小",
            "checkpoint size",
            if size == cert.tree_size {
                Ok(())
            } else {
                Err(format!(
                    "检查点为 {size} 条，凭证写 {} 条 / checkpoint is for {size} entries, the file says {}",
                    cert.tree_size, cert.tree_size
                ))
            },
        );
    }

    let signature = BASE64
        .decode(&cert.signature)
        .ok()
        .and_then(|s| <[u8; 64]>::try_from(s).ok());
    push(
        "文件签名",
        "document signature",
        match signature {
            Some(sig) if BASE64.encode(sig) == cert.signature => {
                verify_bytes(verifier, SIGNING_CONTEXT, cert.document.as_bytes(), &sig).map_err(
                    |e| {
                        format!(
                            "签名与文件内容不符 / the signature does not match the document: {e}"
                        )
                    },
                )
            }
            _ => Err("签名不是 64 字节的 base64 / the signature is not 64 bytes of base64".into()),
        },
    );

    let document: Option<serde_json::Value> = serde_json::from_str(&cert.document).ok();
    let event = Event::from_bytes(cert.event.as_bytes());
    let digest = hex(&sha2::Sha256::digest(cert.document.as_bytes()));
    push(
        "日志条目记录了此文件",
        "the log entry records this document",
        match (&event, &document) {
            (Ok(Event::CertificateIssued(e)), Some(doc)) => {
                if e.document_sha256 != digest {
                    Err("日志条目中的哈希与文件不符 / the hash in the log entry differs from the document's".into())
                } else if doc["subject"]["person"].as_str() != Some(e.person.as_str())
                    || doc["cert_type"].as_str() != Some(e.cert_type.as_str())
                {
                    Err("日志条目与文件的持证人或类型不符 / the log entry and the document name different holders or types".into())
                } else {
                    Ok(())
                }
            }
            (Ok(_), _) => {
                Err("日志条目不是凭证签发记录 / the log entry is not a certificate issuance".into())
            }
            (Err(e), _) => Err(format!(
                "日志条目无法读取 / the log entry does not parse: {e}"
            )),
        },
    );
    let proof: Option<Vec<Hash>> = cert
        .inclusion_proof
        .iter()
        .map(|h| unhex(h).and_then(|b| <Hash>::try_from(b).ok()))
        .collect();
    push(
        "包含证明",
        "inclusion proof",
        match (proof, root) {
            (None, _) => Err(
                "包含证明不是 32 字节的小写十六进制 / the proof is not 32-byte lowercase hex"
                    .into(),
            ),
            (_, None) => {
                Err("没有可信的检查点可对照 / no trusted checkpoint to check against".into())
            }
            (Some(proof), Some((_, root))) => verify_inclusion(
                &hasher,
                cert.leaf_index,
                cert.tree_size,
                &hasher.leaf(cert.event.as_bytes()),
                &proof,
                &root,
            )
            .map_err(|e| {
                format!("日志条目不在签名的日志中 / the entry is not in the signed log: {e}")
            }),
        },
    );
    push(
        "文件未被改排",
        "file bytes are canonical",
        if cert.to_bytes() == bytes {
            Ok(())
        } else {
            Err("文件字节与其内容的标准编码不同（有改动） / the file's bytes differ from the canonical encoding of its content (it was altered)".into())
        },
    );
    Verification { checks, document }
}

/// `text` as a QR code (error correction M), an SVG of at least 180 × 180.
pub fn qr_svg(text: &str) -> Result<String> {
    Ok(
        qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
            .map_err(|e| Error::Crypto(format!("QR code: {e}")))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(180, 180)
            .build(),
    )
}

/// A printable HTML page: the document as a table, the QR code, how to verify.
pub fn render_html(cert: &Certificate) -> Result<String> {
    let doc: serde_json::Value = serde_json::from_str(&cert.document)
        .map_err(|e| Error::Corrupt(format!("certificate document: {e}")))?;
    let qr = qr_svg(&cert.qr_text())?;
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let text = |v: &serde_json::Value| esc(v.as_str().unwrap_or(""));
    let yuan = |v: &serde_json::Value| anxin_domain::Fen(v.as_i64().unwrap_or(0)).yuan_string();
    let mut rows = String::new();
    for m in doc["months"].as_array().into_iter().flatten() {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td></tr>\n",
            text(&m["month"]), insurance_zh(m["insurance"].as_str().unwrap_or("")), text(&m["region"]),
            payer_zh(m["payer"].as_str().unwrap_or("")), status_zh(m["status"].as_str().unwrap_or("")),
            yuan(&m["base_fen"]), yuan(&m["amount_fen"]),
        ));
    }
    let mut sums = String::new();
    for s in doc["summaries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["region"].is_null())
    {
        sums.push_str(&format!(
            "<li>{}：累计 {} 个月，最长连续 {} 个月，缺口 {} 段 <span class=en>({}: {} months in all, longest run {}, {} gaps)</span></li>\n",
            insurance_zh(s["insurance"].as_str().unwrap_or("")), s["paid_months"], s["longest_run"]["months"].as_u64().unwrap_or(0),
            s["gaps"].as_array().map_or(0, |g| g.len()), text(&s["insurance"]), s["paid_months"],
            s["longest_run"]["months"].as_u64().unwrap_or(0), s["gaps"].as_array().map_or(0, |g| g.len()),
        ));
    }
    Ok(format!(
        r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>参保缴费凭证 Contribution history certificate</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;max-width:50rem;margin:1rem auto;padding:0 1rem;color:#111}}
table{{border-collapse:collapse;width:100%;font-size:.9rem}}td,th{{border:1px solid #999;padding:.2rem .4rem}}.n{{text-align:right}}
.en{{color:#555;font-size:.85em}}.qr{{float:right;margin-left:1rem}}@media print{{.noprint{{display:none}}}}</style></head>
<body>
<div class="qr">{qr}</div>
<h1>参保缴费凭证 <span class=en>Contribution history certificate</span></h1>
<p>姓名 <span class=en>Name</span>：{name}　身份证号 <span class=en>ID</span>：{id}</p>
<p>签发日期 <span class=en>Issued</span>：{issued}　签发机构密钥 <span class=en>Issuer key</span>：{issuer}</p>
<ul>{sums}</ul>
<table><thead><tr><th>所属期 Month</th><th>险种 Insurance</th><th>参保地 Region</th><th>缴费方 Payer</th><th>状态 Status</th><th>缴费基数（元） Base</th><th>金额（元） Amount</th></tr></thead>
<tbody>
{rows}</tbody></table>
<p>日志位置 <span class=en>Log entry</span> #{index} / {size}（{origin}）</p>
<p>核验方法：用签发机构公开的公钥运行 <code>anxin verify 凭证文件.json --key 公钥.vkey</code>，或扫描二维码核对文件哈希与签名。
<span class=en>To verify: run <code>anxin verify CERT.json --key ISSUER.vkey</code> with the issuer's public key, or scan the QR code to check the document hash and signature.</span></p>
</body></html>
"#,
        name = text(&doc["subject"]["name"]),
        id = text(&doc["subject"]["id_masked"]),
        issued = text(&doc["issued_on"]),
        issuer = text(&doc["issuer"]),
        index = cert.leaf_index,
        size = cert.tree_size,
        origin = text(&doc["log_origin"]),
    ))
}

/// The Chinese name of a code as it stands in a certificate's JSON (the codes' serialized
/// form); "其他" for a code anxin does not know (a newer issuer's).
fn code_zh<T: Code>(code: &str) -> &'static str {
    T::from_code(code).map(T::zh).unwrap_or("其他")
}

pub fn insurance_zh(code: &str) -> &'static str {
    code_zh::<Insurance>(code)
}

pub fn payer_zh(code: &str) -> &'static str {
    code_zh::<Payer>(code)
}

pub fn status_zh(code: &str) -> &'static str {
    code_zh::<Status>(code)
}
