//! The records commands: person show, cert issue, verify, log checkpoint/prove, audit.

use std::path::{Path, PathBuf};

use anxin_domain::{Fen, RegionCode, ResidentId, YearMonth};
use anxin_ledger::{Verifier, parse_and_verify_checkpoint};
use anxin_policy::{Lang, Policy};
use anxin_records::account::summarize;
use anxin_records::cert;
use anxin_records::keys::hex;
use anxin_records::{AuditScope, Known};

use anxin_server::text::{month_text, region_name, render_summary};

use crate::data::DataDir;
use crate::fail::{Fail, Result};

pub fn parse_id(text: &str) -> Result<ResidentId> {
    ResidentId::parse(text).map_err(|e| {
        Fail::bad_input(
            format!("身份证号无效：{e}（须为 18 位，最后一位是按 GB 11643 算出的校验码 0–9 或 X）"),
            format!(
                "invalid resident ID: {e} (18 characters, the last a GB 11643 check digit 0–9 or X)"
            ),
        )
    })
}

type Opened = anxin_records::Records<Box<dyn anxin_records::Store>>;

/// The person's lookup key and registry row, or "not in the registry".
fn registered(
    records: &mut Opened,
    id: &ResidentId,
) -> Result<(anxin_records::PersonKey, anxin_records::store::PersonRow)> {
    let key = records.person_key(id);
    let row = records.store().person(&key.0)?.ok_or_else(|| {
        Fail::not_found(
            "登记册中没有此人（身份证号校验无误）：先用 anxin import persons 导入",
            "this person is not in the registry (the ID is valid): import them with anxin import persons",
        )
    })?;
    Ok((key, row))
}

/// `anxin person show ID`
pub fn person_show(
    data: &DataDir,
    policy: &Policy,
    id: &str,
    months: bool,
    lang: Lang,
    json: bool,
) -> Result<()> {
    let id = parse_id(id)?;
    let mut records = data.records()?;
    let (key, row) = registered(&mut records, &id)?;
    let clear = records.data_key().open(&key, &row.sealed)?;
    let clear: serde_json::Value = serde_json::from_slice(&clear).unwrap_or_default();
    let name = clear["name"].as_str().unwrap_or("").to_string();
    let rows = records.store().contributions_of(&key.0)?;
    let children = records.store().children_of(&key.0)?;
    let summaries = summarize(&rows);
    if json {
        let view = records.person_view(&key)?.ok_or_else(|| {
            Fail::not_found("登记册中没有此人", "this person is not in the registry")
        })?;
        println!(
            "{}",
            serde_json::to_string_pretty(&view.to_json(false)).expect("JSON values serialize")
        );
        return Ok(());
    }
    let mut out = String::new();
    out.push_str(&format!("{name}  {}\n", id.masked()));
    out.push_str(&format!(
        "{}{}",
        lang.pick("居住地 ", "lives in "),
        region_name(policy, row.residence_region, lang)
    ));
    if let Some(h) = row.hukou_region {
        out.push_str(&format!(
            "{}{}",
            lang.pick("  户籍地 ", "  hukou "),
            region_name(policy, h, lang)
        ));
    }
    let form = anxin_import::EmploymentForm::parse(&row.employment_form)
        .map_or(row.employment_form.as_str(), |f| {
            lang.pick(f.zh(), f.as_str())
        });
    out.push_str(&format!(
        "  {}{form}\n",
        lang.pick("就业形态 ", "works as ")
    ));
    if let (Some(r), Some(since)) = (row.permit_region, &row.permit_since) {
        out.push_str(&format!(
            "{}{} {since}\n",
            lang.pick("居住证 ", "residence permit "),
            region_name(policy, r, lang)
        ));
    }
    if !row.platforms.is_empty() {
        out.push_str(&format!(
            "{}{}\n",
            lang.pick("平台 ", "platforms "),
            row.platforms
        ));
    }
    if !children.is_empty() {
        out.push_str(&format!(
            "{}{}\n",
            lang.pick("登记子女数 ", "children registered "),
            children.len()
        ));
    }
    if rows.is_empty() {
        out.push_str(lang.pick("还没有缴费记录。\n", "No contribution records yet.\n"));
    }
    let mut current = None;
    for s in &summaries {
        if current != Some(s.insurance) {
            current = Some(s.insurance);
            out.push_str(&format!(
                "\n{}\n",
                lang.pick(&s.insurance.name_zh(), s.insurance.as_str())
            ));
        }
        out.push_str(&render_summary(s, policy, lang));
    }
    if months && !rows.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            lang.pick(
                "所属期  险种  参保地  缴费方  状态  金额（元）",
                "month  insurance  region  payer  status  amount (yuan)"
            )
        ));
        for r in &rows {
            out.push_str(&format!(
                "{}  {}  {}  {}  {}  {}\n",
                month_text(r.month),
                lang.pick(r.insurance.zh(), r.insurance.as_str()),
                region_name(policy, r.region, lang),
                lang.pick(r.payer.zh(), r.payer.as_str()),
                lang.pick(r.status.zh(), r.status.as_str()),
                Fen(r.amount_fen).yuan_string()
            ));
        }
    } else if !rows.is_empty() {
        out.push_str(lang.pick(
            "\n（加 --months 列出每个月）\n",
            "\n(add --months to list every month)\n",
        ));
    }
    print!("{out}");
    Ok(())
}

/// `anxin cert issue ID`
pub fn cert_issue(
    data: &DataDir,
    id: &str,
    out: Option<&Path>,
    today: jiff::civil::Date,
    json: bool,
) -> Result<()> {
    let id = parse_id(id)?;
    let mut records = data.records()?;
    let certificate = records.issue_certificate(&id, today)?;
    // The holder is told in their inbox (no code, no record in the message).
    let key = records.person_key(&id);
    let told = anxin_service::inbox::certificate_issued(&key, certificate.leaf_index, today);
    records.store().inbox_add(
        &[told],
        anxin_domain::Clock::unix_seconds(&anxin_domain::SystemClock),
    )?;
    let code = records.certificate_code(&certificate);
    let stem = format!("cert-{}-{}", &records.person_key(&id).hex()[..8], today);
    let json_path = write_out(out, &format!("{stem}.json"), &certificate.to_bytes())?;
    let html_path = write_out(
        out,
        &format!("{stem}.html"),
        cert::render_html(&certificate)?.as_bytes(),
    )?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "certificate": json_path, "page": html_path, "code": code, "log_index": certificate.leaf_index, "tree_size": certificate.tree_size })
        );
    } else {
        println!("参保缴费凭证已签发 Certificate issued");
        println!("  核验码 verification code: {code}");
        println!("  文件 file: {}", json_path.display());
        println!("  打印页 printable page: {}", html_path.display());
        println!(
            "  日志位置 log entry: #{} / {}",
            certificate.leaf_index, certificate.tree_size
        );
        println!("{}", verify_hint(data, &json_path));
    }
    Ok(())
}

/// Writes a signed file into `out` (default: the current directory).
fn write_out(out: Option<&Path>, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let dir = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let io = |e: std::io::Error| {
        Fail::data(
            format!("写 {name} 失败：{e}"),
            format!("writing {name} failed: {e}"),
        )
    };
    std::fs::create_dir_all(&dir).map_err(io)?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(io)?;
    Ok(path)
}

/// How to check a signed file offline with this deployment's public key.
fn verify_hint(data: &DataDir, path: &Path) -> String {
    format!(
        "  核验 verify: anxin verify {} --key {}",
        path.display(),
        data.dir.join(&data.config.public_key_file).display()
    )
}

pub(crate) fn load_verifier(key: Option<&str>, data: Option<&DataDir>) -> Result<Verifier> {
    let text = match key {
        Some(k) if Path::new(k).exists() => std::fs::read_to_string(k).map_err(|e| {
            Fail::bad_input(
                format!("读不到公钥文件：{e}"),
                format!("cannot read the key file: {e}"),
            )
        })?,
        Some(k) => {
            // Not a file: it must be the key text itself. If it is not that either, the
            // likelier mistake is a file name, so say that the file is missing.
            return Verifier::from_vkey(k.trim()).map_err(|e| {
                Fail::bad_input(
                    format!("找不到公钥文件 {k}，它也不是公钥文本（{e}）：--key 须是签发机构的 .vkey 文件或公钥文本"),
                    format!("no key file {k} exists, and it is not a public key text either ({e}): --key takes the issuer's .vkey file or its key text"),
                )
            });
        }
        None => match data {
            Some(d) => d.public_key_text()?,
            None => {
                return Err(Fail::bad_input(
                    "需要签发机构的公钥：用 --key 指定 .vkey 文件或公钥文本",
                    "the issuer's public key is needed: pass --key with a .vkey file or the key text",
                ));
            }
        },
    };
    Verifier::from_vkey(text.trim())
        .map_err(|e| Fail::bad_input(format!("公钥无效：{e}"), format!("invalid public key: {e}")))
}

/// `anxin verify FILE`: offline; needs only the public key.
pub fn verify(
    file: &Path,
    key: Option<&str>,
    witnesses: &[String],
    data: Option<&DataDir>,
    lang: Lang,
    json: bool,
) -> Result<()> {
    let verifier = load_verifier(key, data)?;
    // The witnesses named: NAME=BASE64 of an Ed25519 key.
    let mut named = Vec::with_capacity(witnesses.len());
    for w in witnesses {
        use base64::Engine as _;
        let parsed = w.split_once('=').and_then(|(name, key)| {
            base64::engine::general_purpose::STANDARD
                .decode(key.trim())
                .ok()
                .and_then(|k| <[u8; 32]>::try_from(k).ok())
                .map(|k| (name.trim().to_string(), k))
        });
        named.push(parsed.ok_or_else(|| {
            Fail::bad_input(
                format!("--witness {w} 应为 名称=base64 公钥（对等实例条目中的 witness_key）"),
                format!(
                    "--witness {w} must be NAME=BASE64 (the witness_key of a peers-file entry)"
                ),
            )
        })?);
    }
    let bytes = std::fs::read(file).map_err(|e| {
        Fail::bad_input(
            format!("读不到文件 {}：{e}", file.display()),
            format!("cannot read {}: {e}", file.display()),
        )
    })?;
    let result = cert::verify(&bytes, &verifier);
    // Each witness named must have cosigned the certificate's checkpoint.
    let checkpoint = serde_json::from_slice::<cert::Certificate>(&bytes)
        .map(|c| c.checkpoint)
        .unwrap_or_default();
    let cosigned: Vec<(String, std::result::Result<u64, String>)> = named
        .iter()
        .map(|(name, key)| {
            let r = anxin_service::transfer::witness::cosigned_by(&checkpoint, name, key)
                .map_err(|e| lang.pick(&e.zh, &e.en).to_string());
            (name.clone(), r)
        })
        .collect();
    let witnessed = cosigned.iter().all(|(_, r)| r.is_ok());
    if json {
        let witnesses: Vec<serde_json::Value> = cosigned
            .iter()
            .map(|(name, r)| {
                serde_json::json!({ "witness": name, "ok": r.is_ok(), "detail": r.as_ref().err() })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "ok": result.ok() && witnessed, "checks": result.checks, "witnesses": witnesses })
        );
    } else {
        for c in &result.checks {
            let mark = if c.ok { "✓" } else { "✗" };
            println!("{mark} {}", lang.pick(c.zh, c.en));
            if !c.ok {
                println!("    {}", c.detail);
            }
        }
        for (name, r) in &cosigned {
            match r {
                Ok(_) => println!(
                    "✓ {}",
                    lang.pick(
                        &format!("见证人 {name} 联署了检查点"),
                        &format!("witness {name} cosigned the checkpoint")
                    )
                ),
                Err(e) => println!("✗ {e}"),
            }
        }
        if result.ok()
            && witnessed
            && let Some(doc) = &result.document
        {
            println!(
                "{}{} {} {}",
                lang.pick("凭证有效：", "valid certificate: "),
                doc["subject"]["name"].as_str().unwrap_or(""),
                doc["subject"]["id_masked"].as_str().unwrap_or(""),
                doc["issued_on"].as_str().unwrap_or("")
            );
        }
    }
    if result.ok() && witnessed {
        Ok(())
    } else {
        let mut failed: Vec<&str> = result
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.en)
            .collect();
        if !witnessed {
            failed.push("a witness's cosignature");
        }
        Err(Fail::failed_check(
            format!("凭证核验失败（{} 项不通过）", failed.len()),
            format!("the certificate does not verify ({})", failed.join("; ")),
        ))
    }
}

/// `anxin log checkpoint`
pub fn log_checkpoint(data: &DataDir, json: bool) -> Result<()> {
    let mut records = data.records()?;
    let head = records.store().head()?;
    parse_and_verify_checkpoint(&head.checkpoint, records.verifier()).map_err(|e| {
        Fail::failed_check(
            format!("日志头签名无效：{e}"),
            format!("the log head's signature does not verify: {e}"),
        )
    })?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "tree_size": head.size, "root_hex": hex(&head.root), "checkpoint": head.checkpoint })
        );
    } else {
        print!("{}", head.checkpoint);
    }
    Ok(())
}

/// `anxin log prove --seq N | --key ID | --from A [--to B]`
pub fn log_prove(
    data: &DataDir,
    seq: Option<u64>,
    key: Option<&str>,
    from: Option<u64>,
    to: Option<u64>,
) -> Result<()> {
    use anxin_service::proofs::{self, Entry};
    let mut records = data.records()?;
    if let Some(size1) = from {
        let proof = proofs::consistency(&mut records, size1, to)?;
        println!(
            "{}",
            serde_json::to_string_pretty(&proof).expect("JSON values serialize")
        );
        return Ok(());
    }
    let entry = match (seq, key) {
        (Some(s), _) => Entry::Seq(s),
        (None, Some(k)) => Entry::Key(k.to_string()),
        (None, None) => {
            return Err(Fail::bad_input(
                "请指定 --seq 序号、--key 记录号，或 --from 大小（一致性证明）",
                "give --seq N, --key RECORD_ID, or --from SIZE (consistency proof)",
            ));
        }
    };
    let bundle = proofs::inclusion(&mut records, &entry)?;
    println!(
        "{}",
        bundle
            .to_json()
            .map_err(|e| Fail::data(format!("{e}"), format!("{e}")))?
    );
    Ok(())
}

/// The checkpoints given to `anxin audit` with `--checkpoint` and `--certificate`.
fn known_checkpoints(checkpoints: &[PathBuf], certificates: &[PathBuf]) -> Result<Vec<Known>> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| {
            Fail::bad_input(
                format!("读不到文件 {}：{e}", path.display()),
                format!("cannot read {}: {e}", path.display()),
            )
        })
    };
    let mut known = Vec::new();
    for path in checkpoints {
        let text = String::from_utf8(read(path)?).map_err(|_| {
            Fail::bad_input(
                format!("{} 不是检查点文本（须为 UTF-8）", path.display()),
                format!(
                    "{} is not a checkpoint (it must be UTF-8 text)",
                    path.display()
                ),
            )
        })?;
        known.push(Known {
            source: path.display().to_string(),
            text,
        });
    }
    for path in certificates {
        let bytes = read(path)?;
        let certificate: anxin_records::Certificate = (bytes.len() <= cert::MAX_CERT_BYTES)
            .then(|| serde_json::from_slice(&bytes).ok())
            .flatten()
            .ok_or_else(|| {
                Fail::bad_input(
                    format!("{} 不是 anxin 凭证文件", path.display()),
                    format!("{} is not an anxin certificate file", path.display()),
                )
            })?;
        known.push(Known {
            source: format!("certificate {}", path.display()),
            text: certificate.checkpoint,
        });
    }
    Ok(known)
}

/// `anxin audit [--checkpoint FILE]… [--certificate FILE]…`
pub fn audit(
    data: &DataDir,
    checkpoints: &[PathBuf],
    certificates: &[PathBuf],
    lang: Lang,
    json: bool,
) -> Result<()> {
    let known = known_checkpoints(checkpoints, certificates)?;
    // The data directory's checkpoint file is attached to the records and required.
    let mut records = data.records()?;
    let started = std::time::Instant::now();
    let report = records.audit_known(&known, AuditScope { projections: true })?;
    let seconds = started.elapsed().as_secs_f64();
    if json {
        let mut value = report.to_json();
        value["seconds"] = serde_json::json!(seconds);
        println!(
            "{}",
            serde_json::to_string_pretty(&value).expect("JSON values serialize")
        );
    } else {
        match lang {
            Lang::Zh => println!(
                "审计 {} 条日志、{} 个检查点、{} 条缴费、{} 条分录（合计 {} 分）、{} 人、{} 个单位、{} 名子女，用时 {:.2} 秒",
                report.events,
                report.checkpoints,
                report.contributions,
                report.postings,
                report.postings_sum_fen,
                report.persons,
                report.orgs,
                report.children,
                seconds
            ),
            Lang::En => println!(
                "audited {} log entries, {} checkpoints, {} contributions, {} postings (sum {} fen), {} persons, {} orgs, {} children in {:.2} s",
                report.events,
                report.checkpoints,
                report.contributions,
                report.postings,
                report.postings_sum_fen,
                report.persons,
                report.orgs,
                report.children,
                seconds
            ),
        }
        for f in &report.findings {
            println!("✗ [{} {}] {}", f.table, f.row, lang.pick(&f.zh, &f.en));
        }
        if report.findings_not_listed > 0 {
            println!("… {} more", report.findings_not_listed);
        }
        if report.is_clean() {
            println!(
                "{}",
                lang.pick(
                    "✓ 日志与所有表一致，签名有效",
                    "✓ the log and every table agree; signatures valid"
                )
            );
        }
    }
    if report.is_clean() {
        Ok(())
    } else {
        let n = report.findings.len() as u64 + report.findings_not_listed;
        Err(Fail::failed_check(
            format!("审计发现 {n} 处问题"),
            format!("the audit found {n} problem(s)"),
        ))
    }
}

/// The school review run on the guardian's own ledger months, in `city` (default: where
/// they live).
pub struct SchoolReview {
    pub records: Opened,
    pub id: ResidentId,
    pub key: anxin_records::PersonKey,
    pub result: anxin_policy::calc::school::SchoolResult,
}

#[allow(clippy::too_many_arguments)]
pub fn school_review(
    data: &DataDir,
    policy: &Policy,
    id: &str,
    city: Option<&str>,
    month: YearMonth,
    hardship: bool,
    reforms: Vec<String>,
    proofs: Vec<anxin_policy::calc::school::Proof>,
) -> Result<SchoolReview> {
    let id = parse_id(id)?;
    let mut records = data.records()?;
    let (key, row) = registered(&mut records, &id)?;
    let city = match city {
        Some(c) => policy.region(c)?.code,
        None => RegionCode::parse(&format!("{:06}", row.residence_region))
            .map_err(|e| Fail::data(e.to_string(), e.to_string()))?,
    };
    let months = anxin_service::school::ledger_months(&mut records, &key, city)?;
    let (permit, permit_since) = anxin_service::school::permit_in(&row, city);
    let request = anxin_policy::calc::school::SchoolRequest {
        region: city.to_string(),
        month: Some(month),
        permit,
        permit_since,
        hardship,
        reforms,
        months,
        paid_ranges: Vec::new(),
        proofs,
    };
    let result = anxin_policy::calc::school::review(policy, &request, month)?;
    Ok(SchoolReview {
        records,
        id,
        key,
        result,
    })
}

/// `anxin school check ID`
#[allow(clippy::too_many_arguments)]
pub fn school_check(
    data: &DataDir,
    policy: &Policy,
    id: &str,
    city: Option<&str>,
    month: YearMonth,
    hardship: bool,
    reforms: Vec<String>,
    proofs: Vec<anxin_policy::calc::school::Proof>,
    lang: Lang,
    json: bool,
    explain: bool,
) -> Result<()> {
    let r = school_review(data, policy, id, city, month, hardship, reforms, proofs)?.result;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r).expect("results serialize")
        );
        return Ok(());
    }
    let decision = match (r.decision, lang) {
        ("eligible", Lang::Zh) => "符合入学的社保条件".to_string(),
        ("eligible", Lang::En) => "meets the school-admission insurance condition".to_string(),
        ("eligible_hardship", Lang::Zh) => "通过困难家庭兜底渠道符合条件".to_string(),
        ("eligible_hardship", Lang::En) => "qualifies through the hardship channel".to_string(),
        (_, Lang::Zh) => "暂不符合".to_string(),
        (_, Lang::En) => "does not qualify yet".to_string(),
    };
    println!("{} {}：{decision}", r.region_zh, r.month);
    for m in &r.missing {
        println!("  · {}", lang.pick(&m.zh, &m.en));
    }
    if let Some(e) = r.earliest_month {
        println!(
            "{}",
            match lang {
                Lang::Zh => format!("  从现在起每月按时缴费，最早 {e} 可以满足"),
                Lang::En => format!(
                    "  paying every month from now on, the earliest month it can be met is {e}"
                ),
            }
        );
    }
    for p in &r.proofs {
        println!("  · {}", lang.pick(&p.note.zh, &p.note.en));
    }
    for g in &r.forgiven {
        println!(
            "{}",
            match lang {
                Lang::Zh => format!(
                    "  {}~{} 因 {} 断缴 {} 个月，已按宽限处理",
                    g.from, g.to, g.reason, g.months
                ),
                Lang::En => format!(
                    "  {}~{}: {} months missed for {}, forgiven",
                    g.from, g.to, g.months, g.reason
                ),
            }
        );
    }
    if explain {
        println!();
        print!("{}", r.trace.render(lang));
    } else {
        println!(
            "{}",
            lang.pick(
                "（加 --explain 查看依据）",
                "(add --explain for the rules and their sources)"
            )
        );
    }
    Ok(())
}

/// `anxin school attest ID`: a signed attestation that discloses only what a school office
/// needs — the decision, the points, which thresholds were met — never the months or amounts.
#[allow(clippy::too_many_arguments)]
pub fn school_attest(
    data: &DataDir,
    policy: &Policy,
    id: &str,
    city: Option<&str>,
    month: YearMonth,
    hardship: bool,
    reforms: Vec<String>,
    proofs: Vec<anxin_policy::calc::school::Proof>,
    out: Option<&Path>,
    today: jiff::civil::Date,
) -> Result<()> {
    let SchoolReview {
        mut records,
        id,
        key,
        result: r,
    } = school_review(
        data,
        policy,
        id,
        city,
        month,
        hardship,
        reforms.clone(),
        proofs,
    )?;
    let document = anxin_service::school::attestation(&mut records, &id, &r, &reforms, today)?;
    let certificate =
        records.issue_document(&key, "school_eligibility", document, Some(r.month))?;
    let name = format!("school-{}-{}.json", &key.hex()[..8], r.month);
    let path = write_out(out, &name, &certificate.to_bytes())?;
    println!(
        "入学社保条件证明已签发 Attestation issued: {}",
        path.display()
    );
    println!("  结论 decision: {}，积分 points: {}", r.decision, r.points);
    println!("{}", verify_hint(data, &path));
    Ok(())
}

/// `anxin school ledger`: the identification ledger of school-driven enrolments and the
/// cohort retention table.
pub fn school_ledger(
    data: &DataDir,
    policy: &Policy,
    today: YearMonth,
    lang: Lang,
    json: bool,
    chart: Option<&Path>,
) -> Result<()> {
    let mut records = data.records()?;
    let anxin_service::school::Ledger {
        reviews,
        entries,
        table,
    } = anxin_service::school::ledger::<_, Fail>(&mut records, policy, today)?;
    if let Some(path) = chart {
        std::fs::write(
            path,
            anxin_service::school::retention_chart(policy, &table, today, lang),
        )
        .map_err(|e| {
            Fail::data(
                format!("写留存图 {} 失败：{e}", path.display()),
                format!("writing the retention chart {} failed: {e}", path.display()),
            )
        })?;
        if !json {
            println!(
                "留存图已写入 {0}  retention chart written to {0}",
                path.display()
            );
        }
    }
    if json {
        let list: Vec<_> = entries.iter().map(|(e, _)| e).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "reviews": reviews, "entries": list, "retention": table })
            )
            .expect("serializes")
        );
        return Ok(());
    }
    println!(
        "{}",
        match lang {
            Lang::Zh => format!(
                "入学审核 {} 人，其中因入学参保 {} 人（截至 {today}）",
                reviews,
                entries.len()
            ),
            Lang::En => format!(
                "{} school reviews, {} school-driven enrolments (as of {today})",
                reviews,
                entries.len()
            ),
        }
    );
    for (e, _) in &entries {
        let risk = anxin_server::text::risk_text(&e.risk, lang);
        println!(
            "  {}…  {}  {} → {}  {} {}  {risk}",
            e.person,
            region_name(policy, e.region, lang),
            e.enrolled,
            e.reviewed,
            e.months_paid_since,
            lang.pick("个月已缴", "months paid since"),
        );
    }
    if !table.is_empty() {
        println!(
            "{}",
            lang.pick(
                "\n留存（审核后第 N 个月仍在缴费 / 已到期人数）：",
                "\nretention (still paying in month N after the review / members due):"
            )
        );
        for t in &table {
            let cells: Vec<String> = t
                .still_paying
                .iter()
                .map(|(n, due, paying)| {
                    if *due == 0 {
                        format!("{n}: -")
                    } else {
                        format!(
                            "{n}: {paying}/{due} ({:.0}%)",
                            100.0 * *paying as f64 / *due as f64
                        )
                    }
                })
                .collect();
            println!(
                "  {} {}  {} {}  {}",
                region_name(policy, t.region, lang),
                t.year,
                t.admitted,
                lang.pick("人", "people"),
                cells.join("  ")
            );
        }
    }
    Ok(())
}

/// `anxin school review FILE`: every application in the file reviewed against the guardian's
/// ledger months, ranked per city and month for `places` places, written to a results CSV.
#[allow(clippy::too_many_arguments)]
pub fn school_review_file(
    data: &DataDir,
    policy: &Policy,
    file: &Path,
    places: u32,
    reforms: Vec<String>,
    out: Option<PathBuf>,
    today: jiff::civil::Date,
    lang: Lang,
) -> Result<()> {
    let regions = anxin_service::PolicyRegions(policy);
    let mut rows = anxin_import::open(
        file,
        anxin_import::Kind::Applications,
        anxin_import::Options::new(today),
        &regions,
    )
    .map_err(|e| Fail::bad_input(e.zh(), e.en()))?;
    let mut records = data.records()?;
    let review = anxin_service::school::review_file::<_, Fail>(
        &mut records,
        policy,
        &mut rows,
        places,
        &reforms,
        Some(today),
    )?;
    let out = out.unwrap_or_else(|| {
        let mut p = file.as_os_str().to_owned();
        p.push(".results.csv");
        PathBuf::from(p)
    });
    let io = |e: std::io::Error| {
        Fail::data(
            format!("写结果失败：{e}"),
            format!("writing the results failed: {e}"),
        )
    };
    let mut f = std::fs::File::create(&out).map_err(io)?;
    std::io::Write::write_all(&mut f, b"\xEF\xBB\xBF").map_err(io)?;
    let mut w = csv::Writer::from_writer(f);
    let csv_err = |e: csv::Error| Fail::data(e.to_string(), e.to_string());
    w.write_record(anxin_service::school::ResultLine::HEADER)
        .map_err(csv_err)?;
    for line in &review.lines {
        w.write_record(line.cells()).map_err(csv_err)?;
    }
    w.flush().map_err(io)?;
    let (reviewed, admitted) = (review.reviewed, review.admitted);
    match lang {
        Lang::Zh => println!(
            "审核 {reviewed} 份申请，录取 {admitted} 份，{} 份因资料问题未审核（原因见 {}）",
            review.refused,
            out.display()
        ),
        Lang::En => println!(
            "reviewed {reviewed} applications, {admitted} admitted, {} not reviewed for problems in the file (reasons in {})",
            review.refused,
            out.display()
        ),
    }
    Ok(())
}
