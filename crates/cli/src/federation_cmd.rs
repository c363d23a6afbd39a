//! The transfer outbox run by `anxin serve --federation-name NAME`: a thread of its own that
//! posts what is due to each peer every `--outbox-every` seconds (each message backs off on
//! its own: 2 s doubling to 10 minutes, `anxin_service::transfer::machine`) and hands the
//! answers to the state machine, then sends this log's head to each peer's witness (C2SP
//! tlog-witness) and keeps their cosignatures; stopped gracefully with the server. It logs
//! counts only, never a person or a message.

use std::sync::Arc;
use std::time::Duration;

use anxin_service::transfer::node::Node;

pub struct Background {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Background {
    pub fn start(node: Arc<Node>, every: Duration) -> Background {
        use anxin_server::logging::SERVER;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            loop {
                match node.deliver() {
                    Ok(d) if d.sent > 0 || d.failed > 0 => {
                        tracing::info!(
                            target: SERVER,
                            sent = d.sent,
                            answered = d.answered,
                            failed = d.failed,
                            "transfer outbox round"
                        );
                        // A peer that refuses this instance's messages: its name and the
                        // reason's code (what the clerk's transfer page says in words).
                        for (peer, reason) in &d.refused {
                            tracing::warn!(
                                target: SERVER,
                                peer = %peer,
                                reason = %reason,
                                "a peer refused a transfer message; it is tried again"
                            );
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(target: SERVER, reason = %e.en, "transfer outbox round failed")
                    }
                }
                // Witnessing: this log's head to each peer's witness, cosignatures kept.
                match node.witness_round() {
                    Ok(w) if !w.behind.is_empty() => tracing::error!(
                        target: SERVER,
                        witnesses = w.behind.len(),
                        "a peer's witness has cosigned more of this log than this database holds: this log was rolled back (see /api/witness)"
                    ),
                    Ok(w) if w.cosigned > 0 || w.failed > 0 => tracing::info!(
                        target: SERVER,
                        cosigned = w.cosigned,
                        failed = w.failed,
                        "witness round"
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(target: SERVER, reason = %e.en, "witness round failed")
                    }
                }
                match stopped.recv_timeout(every) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
            }
            tracing::info!(target: SERVER, "transfer outbox stopped");
        });
        Background { stop, thread }
    }

    /// Asks the thread to stop and waits for the round under way.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// `anxin federation demo`: a small federation on this machine — 杭州 (SQLite) and 阜阳
/// (PostgreSQL with `--fuyang-database`, else SQLite), each with its own data directory,
/// port, federation key and peers file, a clerk at each and a demo worker insured ten years
/// in 阜阳 who moved to 杭州. Both servers run as child processes of this command until
/// Ctrl-C; the directories are removed then.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// 杭州's port; 阜阳 listens on the next one.
    #[arg(long, default_value_t = 8081)]
    port: u16,
    /// A PostgreSQL database for 阜阳 (e.g. postgres://postgres@127.0.0.1:5432/fuyang);
    /// default: SQLite.
    #[arg(long, value_name = "URL")]
    fuyang_database: Option<String>,
}

#[derive(clap::Subcommand)]
pub enum FederationCommand {
    /// 演示联邦 — start 杭州 and 阜阳 here, peers of each other, with a demo worker who moved; prints the accounts and URLs.
    Demo(DemoArgs),
}

/// The demo worker: born 1985-06-15, hukou 阜阳, insured there 2010–2019.
const DEMO_WORKER: &str = "341202198506151236";

fn password() -> String {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut out = String::from("demo-");
    for _ in 0..2 {
        let h = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        out.push_str(&format!("{h:016x}"));
    }
    out
}

fn step(
    exe: &std::path::Path,
    data: &std::path::Path,
    args: &[&str],
    pw: Option<&str>,
) -> crate::fail::Result<String> {
    let mut c = std::process::Command::new(exe);
    c.arg("--data").arg(data).args(args);
    if let Some(pw) = pw {
        c.env("ANXIN_PASSWORD", pw);
    }
    let out = c.output().map_err(|e| {
        crate::fail::Fail::data(
            format!("无法运行 anxin：{e}"),
            format!("cannot run anxin: {e}"),
        )
    })?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        return Err(crate::fail::Fail::data(
            format!("演示联邦准备失败（anxin {}）：{err}", args.join(" ")),
            format!(
                "setting up the demo federation failed (anxin {}): {err}",
                args.join(" ")
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn run(command: FederationCommand) -> crate::fail::Result<()> {
    let FederationCommand::Demo(a) = command;
    let exe = std::env::current_exe()
        .map_err(|e| crate::fail::Fail::data(e.to_string(), e.to_string()))?;
    let root = std::env::temp_dir().join(format!("anxin-federation-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root)
        .map_err(|e| crate::fail::Fail::data(e.to_string(), e.to_string()))?;
    let fy_port = a.port.checked_add(1).ok_or_else(|| {
        crate::fail::Fail::bad_input("--port 须小于 65535", "--port must be below 65535")
    })?;
    let instances = [
        ("hangzhou", "杭州", "330100", a.port, None),
        (
            "fuyang",
            "阜阳",
            "341200",
            fy_port,
            a.fuyang_database.as_deref(),
        ),
    ];
    let mut accounts = Vec::new();
    let mut entries = Vec::new();
    for (name, zh, region, port, database) in instances {
        let data = root.join(name);
        let mut init = vec!["init"];
        if let Some(url) = database {
            init.extend(["--database", url]);
        }
        step(&exe, &data, &init, None)?;
        let pw = password();
        let clerk = format!("clerk.{name}");
        step(
            &exe,
            &data,
            &[
                "account", "add", &clerk, "--role", "clerk", "--region", region,
            ],
            Some(&pw),
        )?;
        accounts.push((zh, clerk, pw));
        entries.push(step(
            &exe,
            &data,
            &[
                "transfer",
                "key",
                "--name",
                name,
                "--url",
                &format!("http://127.0.0.1:{port}"),
                "--region",
                region,
            ],
            None,
        )?);
    }
    // Each lists the other as its peer.
    let write = |name: &str, text: &str| {
        std::fs::write(root.join(name).join("peers.toml"), text)
            .map_err(|e| crate::fail::Fail::data(e.to_string(), e.to_string()))
    };
    write("hangzhou", &entries[1])?;
    write("fuyang", &entries[0])?;
    // The worker's ten years in 阜阳.
    let fy = root.join("fuyang");
    let persons = root.join("persons.csv");
    let contributions = root.join("contributions.csv");
    let mut c = String::from(
        "record_id,person_id,month,insurance,region,payer,payer_code,base,amount,status\n",
    );
    for m in 0..120 {
        c.push_str(&format!(
            "fy-{m},{DEMO_WORKER},{}-{:02},pension,341200,self,,4000,800,paid\n",
            2010 + m / 12,
            m % 12 + 1
        ));
    }
    // Employee medical insurance for the last two years in 阜阳: it moves too.
    for m in 96..120 {
        c.push_str(&format!(
            "fy-medical-{m},{DEMO_WORKER},{}-{:02},medical,341200,self,,4000,400,paid\n",
            2010 + m / 12,
            m % 12 + 1
        ));
    }
    std::fs::write(
        &persons,
        format!("身份证号,姓名,户籍地,居住地,就业形态,平台,居住证地,居住证起始\n{DEMO_WORKER},演示劳动者,阜阳,杭州,灵活就业,,,\n"),
    )
    .and_then(|()| std::fs::write(&contributions, c))
    .map_err(|e| crate::fail::Fail::data(e.to_string(), e.to_string()))?;
    for (kind, file) in [("persons", &persons), ("contributions", &contributions)] {
        step(
            &exe,
            &fy,
            &["import", kind, &file.display().to_string()],
            None,
        )?;
    }
    // In 杭州, where they live now, they registered and have an account of their own: they
    // ask for the transfer themselves at /transfers.
    let hz = root.join("hangzhou");
    step(
        &exe,
        &hz,
        &["import", "persons", &persons.display().to_string()],
        None,
    )?;
    let worker_pw = password();
    step(
        &exe,
        &hz,
        &[
            "account",
            "add",
            "worker.hangzhou",
            "--role",
            "worker",
            "--person",
            DEMO_WORKER,
        ],
        Some(&worker_pw),
    )?;
    let mut children = Vec::new();
    for (name, _, _, port, _) in instances {
        let child = std::process::Command::new(&exe)
            .arg("--data")
            .arg(root.join(name))
            .args([
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--federation-name",
                name,
                "--outbox-every",
                "1",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| crate::fail::Fail::data(e.to_string(), e.to_string()))?;
        children.push(child);
    }
    // Ctrl-C (or a TERM sent to the group) reaches the children too: they stop. This process
    // must outlive them to remove the demo's directory, so it takes both signals itself
    // (a handler replaces the default, which would end it at once) and waits.
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .and_then(|rt| {
            use tokio::signal::unix::{SignalKind, signal};
            let handlers = rt.block_on(async {
                Ok::<_, std::io::Error>((
                    signal(SignalKind::interrupt())?,
                    signal(SignalKind::terminate())?,
                ))
            })?;
            Ok((rt, handlers))
        });
    println!("演示联邦 Demo federation (数据 data: {}):", root.display());
    for ((_, zh, _, port, database), (_, clerk, pw)) in instances.iter().zip(&accounts) {
        println!(
            "  {zh}  http://127.0.0.1:{port}  ({})  经办员 clerk: {clerk} / {pw}",
            if database.is_some() {
                "PostgreSQL"
            } else {
                "SQLite"
            }
        );
    }
    println!(
        "  演示劳动者 demo worker: {DEMO_WORKER}（阜阳 2010–2019 养老 120 个月、2018–2019 医保 24 个月 paid 120 pension and 24 medical months in 阜阳）"
    );
    println!(
        "  杭州劳动者账户 worker account in 杭州: worker.hangzhou / {worker_pw}  → http://127.0.0.1:{}/transfers",
        a.port
    );
    println!("  或者杭州经办员为其申请转入 or the 杭州 clerk asks for the transfer:");
    println!(
        "    TOKEN=$(curl -s -X POST http://127.0.0.1:{}/api/sessions -d '{{\"username\":\"{}\",\"password\":\"{}\"}}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')",
        a.port, accounts[0].1, accounts[0].2
    );
    println!(
        "    curl -s -X POST http://127.0.0.1:{}/api/transfers -H \"Authorization: Bearer $TOKEN\" -d '{{\"person_id\":\"{DEMO_WORKER}\",\"from_region\":\"341200\",\"to_region\":\"330100\"}}'",
        a.port
    );
    println!(
        "    curl -s http://127.0.0.1:{}/api/transfers/hangzhou:1 -H \"Authorization: Bearer $TOKEN\"",
        a.port
    );
    println!("  Ctrl-C 停止 to stop");
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    for mut child in children {
        let _ = child.wait();
    }
    drop(signals);
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
