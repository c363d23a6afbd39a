//! `anxin case file|show|act|queue|tick|attach|evidence|bundle`: cases (issue 15) from the command line, acting as a
//! named account of the deployment (`--as`). Rules, clocks and permissions are
//! `anxin_service::cases` and `access`; this file only parses and prints.

use anxin_domain::{Clock, Lang, SystemClock};
use anxin_policy::Policy;
use anxin_records::access::{AccountRow, Role};
use anxin_records::{Records, Store};
use anxin_service::access::Actor;
use anxin_service::cases::evidence::{self, Upload};
use anxin_service::cases::{self, CaseError, CaseView, Engine, FileRequest, Kinds};
use clap::Subcommand;

use crate::fail::{Fail, Result};

#[derive(Subcommand)]
pub enum CaseCommand {
    /// File a case for yourself (a worker's account): a rights complaint (`--kind complaint`),
    /// a back-payment request (`--kind backpay --subject pension --month 2026-01 …`), an
    /// enrolment without an employer (`--kind enrolment --subject pension|medical|injury`);
    /// or, as a union, a collective agreement with a registered platform (`--kind agreement
    /// --subject collective|wages|insurance --party CREDIT-CODE --terms terms.json`).
    File {
        /// The account acting (its username).
        #[arg(long = "as")]
        actor: String,
        /// complaint, backpay or enrolment (the kinds under policy/cases/).
        #[arg(long, default_value = "complaint")]
        kind: String,
        /// A complaint: unpaid_wages, contributions_unpaid, injury, account_blocked, penalty,
        /// other; a back-payment: pension; an enrolment: pension, medical or injury.
        #[arg(long)]
        subject: String,
        /// A complaint's platform or employer (credit code or name); other kinds take none.
        #[arg(long, default_value = "")]
        party: String,
        /// A back-payment's missed months (2026-01), repeated or comma-separated.
        #[arg(long = "month", value_delimiter = ',')]
        months: Vec<String>,
        /// An agreement's terms: a JSON file as `POST /api/cases` takes them (title,
        /// pay_rates, contribution_base_fen, platform_share_percent, supplementary, regions,
        /// categories, from, to; see examples/cases/agreement-terms.json).
        #[arg(long)]
        terms: Option<std::path::PathBuf>,
    },
    /// The collective agreements in force that cover you (a worker), each with your quote
    /// under it (the agreed base, the platform's share).
    Agreements {
        #[arg(long = "as")]
        actor: String,
    },
    /// One case: its state, who holds it, each deadline and every step.
    Show {
        id: String,
        #[arg(long = "as")]
        actor: String,
    },
    /// Take a step (a complaint: accept, refuse, extend, mediate, extend_mediation, close,
    /// withdraw; a back-payment or an enrolment: approve, refuse, withdraw; an agreement:
    /// union_sign, platform_sign, submit, register, object, terminate, withdraw).
    Act {
        id: String,
        action: String,
        #[arg(long = "as")]
        actor: String,
        /// For a closing step: penalty, order_to_correct, revoked, referred, mediated,
        /// not_accepted (a complaint); not_eligible, documents_missing, paid_elsewhere (a
        /// back-payment refused); income_not_shown, insured_elsewhere, injury_by_platform (an
        /// enrolment refused); parties_not_qualified, procedure_unlawful, content_unlawful (an
        /// agreement objected to).
        #[arg(long)]
        outcome: Option<String>,
    },
    /// The cases an inspector's or a clerk's office holds or a union's region sees.
    Queue {
        #[arg(long = "as")]
        actor: String,
    },
    /// Escalate every overdue case (run it from a timer; running it twice escalates once).
    Tick {
        /// Tick as of this moment (RFC 3339, e.g. 2027-01-05T09:00:00+08:00) instead of now:
        /// for catching up after an outage, and for tests that move the clock.
        #[arg(long)]
        at: Option<String>,
    },
    /// Attach files of evidence to your complaint (photos, screenshots, chat exports, PDFs).
    Attach {
        id: String,
        /// The files (JPEG, PNG, PDF, UTF-8 text); all are checked before any is stored.
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        #[arg(long = "as")]
        actor: String,
    },
    /// The evidence of a case; with --get N --out FILE, one file's content.
    Evidence {
        id: String,
        #[arg(long = "as")]
        actor: String,
        #[arg(long, requires = "out")]
        get: Option<u32>,
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// The evidence bundle: make one, or verify one offline.
    Bundle {
        #[command(subcommand)]
        command: BundleCommand,
    },
}

#[derive(Subcommand)]
pub enum BundleCommand {
    /// Build a case's evidence bundle (manifest, files, certificate, proofs, signature).
    Make {
        id: String,
        #[arg(long = "as")]
        actor: String,
        /// Where to write it.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Check a bundle offline with the issuer's public key; names a changed file.
    Verify {
        file: std::path::PathBuf,
        /// The issuer's .vkey file or key text (default: this data directory's key).
        #[arg(long)]
        key: Option<String>,
    },
}

/// `anxin case bundle verify`: needs no database, only the key (from `--key`, else the data
/// directory when there is one). `None` for every other command.
pub fn offline(
    command: &CaseCommand,
    data: Option<&crate::data::DataDir>,
    json: bool,
    lang: Lang,
) -> Option<Result<()>> {
    let CaseCommand::Bundle {
        command: BundleCommand::Verify { file, key },
    } = command
    else {
        return None;
    };
    Some((|| {
        let verifier = crate::records_cmd::load_verifier(key.as_deref(), data)?;
        let bytes = std::fs::read(file).map_err(|e| {
            Fail::bad_input(
                format!("读不到文件 {}：{e}", file.display()),
                format!("cannot read {}: {e}", file.display()),
            )
        })?;
        let result = evidence::verify_bundle(&bytes, &verifier);
        if json {
            println!(
                "{}",
                serde_json::json!({ "ok": result.ok(), "checks": result.checks })
            );
        } else {
            for c in &result.checks {
                let mark = if c.ok { "✓" } else { "✗" };
                println!("{mark} {}", lang.pick(&c.zh, &c.en));
                if !c.ok {
                    println!("    {}", c.detail);
                }
            }
            if let (true, Some(m)) = (result.ok(), &result.manifest) {
                println!(
                    "{} {} — {} {}",
                    lang.pick("证据包有效：", "valid evidence bundle:"),
                    m.case,
                    m.files.len(),
                    lang.pick("份证据", "file(s) of evidence")
                );
            }
        }
        if result.ok() {
            Ok(())
        } else {
            Err(Fail::bad_input(
                "证据包未通过核验",
                "the evidence bundle does not verify",
            ))
        }
    })())
}

impl From<CaseError> for Fail {
    fn from(e: CaseError) -> Fail {
        match e {
            CaseError::Denied(d) => Fail::bad_input(d.zh, d.en),
            CaseError::Records(e) => Fail::from(e),
        }
    }
}

fn account(records: &mut Records<Box<dyn Store>>, name: &str) -> Result<(AccountRow, Role)> {
    let row = records.store().account_named(name)?.ok_or_else(|| {
        Fail::not_found(
            format!("没有名为 {name} 的账户：先用 anxin account add 创建"),
            format!("there is no account {name}: create it with anxin account add"),
        )
    })?;
    let role = Role::parse(&row.role)?;
    Ok((row, role))
}

fn print(view: &CaseView, json: bool, lang: Lang) -> Result<()> {
    if json {
        let text = serde_json::to_string_pretty(view)
            .map_err(|e| Fail::data(e.to_string(), e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    let pick = |zh: &str, en: &str| lang.pick(zh, en).to_string();
    println!(
        "{} {} — {}",
        view.id,
        pick(&view.kind_zh, &view.kind_en),
        pick(&view.state_zh, &view.state_en)
    );
    println!(
        "{} {} {}{}",
        pick("承办", "held by"),
        view.holder_role,
        view.holder_region,
        if view.level > 0 {
            pick("（已逾期升级）", " (escalated: overdue)")
        } else {
            String::new()
        }
    );
    for c in &view.clocks {
        let late = if c.overdue {
            pick(" 已逾期", " overdue")
        } else {
            String::new()
        };
        let due = c.due.clone().or(c.note.clone()).unwrap_or_default();
        println!("  {}: {due}{late}", pick(&c.zh, &c.en));
    }
    for s in &view.steps {
        println!(
            "  #{} {} {} → {} ({} {}){}",
            s.step,
            s.at,
            pick(&s.action_zh, &s.action_en),
            s.state,
            s.holder_role,
            s.holder_region,
            s.outcome
                .as_deref()
                .map(|o| format!(" [{o}]"))
                .unwrap_or_default()
        );
        for (zh, en) in s
            .detail
            .as_ref()
            .map(cases::effects::detail_lines)
            .unwrap_or_default()
        {
            println!("      {}", pick(&zh, &en));
        }
    }
    if !view.next.is_empty() {
        println!(
            "{} {}",
            pick("可办理：", "next steps:"),
            view.next.join(", ")
        );
    }
    Ok(())
}

fn print_evidence(list: &[evidence::EvidenceView], json: bool) -> Result<()> {
    if json {
        let text = serde_json::to_string_pretty(list)
            .map_err(|e| Fail::data(e.to_string(), e.to_string()))?;
        println!("{text}");
        return Ok(());
    }
    for e in list {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            e.n, e.media_type, e.size, e.sha256, e.name
        );
    }
    Ok(())
}

pub fn run(
    records: &mut Records<Box<dyn Store>>,
    policy: &Policy,
    reforms: &[String],
    command: CaseCommand,
    json: bool,
    lang: Lang,
) -> Result<()> {
    if let Some(done) = offline(&command, None, json, lang) {
        return done;
    }
    let kinds = Kinds::embedded().map_err(|e| Fail::bad_input(e.clone(), e))?;
    let engine = Engine {
        policy,
        kinds: &kinds,
        reforms,
    };
    let clock = SystemClock;
    match command {
        CaseCommand::File {
            actor,
            kind,
            subject,
            party,
            months,
            terms,
        } => {
            let (row, role) = account(records, &actor)?;
            let terms = match terms {
                None => None,
                Some(path) => {
                    let text = std::fs::read_to_string(&path).map_err(|e| {
                        Fail::bad_input(
                            format!("读不到文件 {}：{e}", path.display()),
                            format!("cannot read {}: {e}", path.display()),
                        )
                    })?;
                    Some(serde_json::from_str(&text).map_err(|e| {
                        Fail::bad_input(
                            format!("{} 不是协议条款的 JSON：{e}", path.display()),
                            format!(
                                "{} is not an agreement's terms as JSON: {e}",
                                path.display()
                            ),
                        )
                    })?)
                }
            };
            let req = FileRequest {
                kind,
                subject,
                party,
                months,
                terms,
            };
            let view = cases::file(records, &engine, Actor::new(&row, role), &req, &clock)?;
            print(&view, json, lang)
        }
        CaseCommand::Agreements { actor } => {
            let (row, role) = account(records, &actor)?;
            let list = cases::agreement::mine(records, &engine, Actor::new(&row, role), &clock)?;
            if json {
                let items: Vec<serde_json::Value> = list
                    .iter()
                    .map(|(a, q)| serde_json::json!({ "agreement": a, "quote": q }))
                    .collect();
                println!("{}", serde_json::Value::Array(items));
                return Ok(());
            }
            if list.is_empty() {
                println!(
                    "{}",
                    lang.pick(
                        "没有覆盖你的生效集体合同。",
                        "No collective agreement in force covers you."
                    )
                );
            }
            for (a, q) in &list {
                println!(
                    "{} {} — {} ({} {}..{})",
                    a.case,
                    a.terms.title,
                    a.platform_name,
                    lang.pick(&a.state_zh, &a.state_en),
                    a.terms.from,
                    a.terms.to
                );
                println!("  {}", lang.pick(&q.zh, &q.en));
            }
            Ok(())
        }
        CaseCommand::Show { id, actor } => {
            let (row, role) = account(records, &actor)?;
            let view = cases::show(records, &engine, Actor::new(&row, role), &id, &clock)?;
            print(&view, json, lang)
        }
        CaseCommand::Act {
            id,
            action,
            actor,
            outcome,
        } => {
            let (row, role) = account(records, &actor)?;
            let actor = Actor::new(&row, role);
            let view = cases::act(
                records,
                &engine,
                actor,
                &id,
                &action,
                outcome.as_deref(),
                &clock,
            )?;
            print(&view, json, lang)
        }
        CaseCommand::Queue { actor } => {
            let (row, role) = account(records, &actor)?;
            let rows = cases::queue(records, &engine, Actor::new(&row, role))?;
            for c in rows {
                let due = c
                    .due
                    .and_then(|d| jiff::Timestamp::from_second(d).ok())
                    .map(|t| {
                        t.to_zoned(anxin_domain::china())
                            .strftime("%Y-%m-%d %H:%M")
                            .to_string()
                    })
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{}\t{}\t{}\t{:06}\t{due}",
                    c.case_id, c.case_kind, c.state, c.holder_region
                );
            }
            Ok(())
        }
        CaseCommand::Attach { id, files, actor } => {
            let (row, role) = account(records, &actor)?;
            let mut uploads = Vec::with_capacity(files.len());
            for path in &files {
                let bytes = std::fs::read(path).map_err(|e| {
                    Fail::bad_input(
                        format!("读不到文件 {}：{e}", path.display()),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                uploads.push(Upload {
                    name: path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    content_type: None,
                    bytes,
                });
            }
            let list = evidence::attach(
                records,
                &engine,
                Actor::new(&row, role),
                &id,
                &uploads,
                &clock,
            )?;
            print_evidence(&list, json)
        }
        CaseCommand::Evidence {
            id,
            actor,
            get,
            out,
        } => {
            let (row, role) = account(records, &actor)?;
            let actor = Actor::new(&row, role);
            match (get, out) {
                (Some(n), Some(out)) => {
                    let (_, bytes) = evidence::download(records, &engine, actor, &id, n, &clock)?;
                    std::fs::write(&out, bytes).map_err(|e| {
                        Fail::data(
                            format!("写不了 {}：{e}", out.display()),
                            format!("cannot write {}: {e}", out.display()),
                        )
                    })
                }
                _ => {
                    let list = evidence::list(records, &engine, actor, &id)?;
                    print_evidence(&list, json)
                }
            }
        }
        CaseCommand::Bundle {
            command: BundleCommand::Make { id, actor, out },
        } => {
            let (row, role) = account(records, &actor)?;
            let bundle = evidence::bundle(records, &engine, Actor::new(&row, role), &id, &clock)?;
            std::fs::write(&out, bundle.to_bytes()).map_err(|e| {
                Fail::data(
                    format!("写不了 {}：{e}", out.display()),
                    format!("cannot write {}: {e}", out.display()),
                )
            })?;
            println!(
                "{} {}",
                lang.pick("证据包已写入", "evidence bundle written to"),
                out.display()
            );
            Ok(())
        }
        // Answered by `offline` above, before any database is needed.
        CaseCommand::Bundle {
            command: BundleCommand::Verify { .. },
        } => Ok(()),
        CaseCommand::Tick { at } => {
            let clock: Box<dyn Clock> = match at {
                None => Box::new(clock),
                Some(text) => {
                    let t: jiff::Timestamp = text.parse().map_err(|e| {
                        Fail::bad_input(
                            format!("--at 须是 RFC 3339 时间，如 2027-01-05T09:00:00+08:00：{e}"),
                            format!(
                                "--at takes an RFC 3339 time, like 2027-01-05T09:00:00+08:00: {e}"
                            ),
                        )
                    })?;
                    Box::new(anxin_domain::TestClock::at(t))
                }
            };
            let clock = clock.as_ref();
            let escalated = cases::tick(records, &engine, clock)?;
            println!(
                "{}",
                lang.pick(
                    &format!("逾期升级 {} 件（{}）", escalated.len(), clock.today()),
                    &format!(
                        "{} overdue case(s) escalated ({})",
                        escalated.len(),
                        clock.today()
                    ),
                )
            );
            Ok(())
        }
    }
}
