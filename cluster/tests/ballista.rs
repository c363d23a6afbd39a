//! The Ballista test (issue 16): a scheduler and two executors, each a separate process on
//! loopback (`anxin-cluster scheduler|executor`), and `anxin-cluster run` against them; its
//! result files must be byte for byte those of the embedded run (`anxin_monitor::run::run`)
//! over the same data directory, and both executors must have run tasks.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anxin_domain::YearMonth;
use anxin_monitor::ingest::{self, IngestOptions};
use anxin_monitor::layout;
use anxin_monitor::platforms::Registry;
use anxin_monitor::run::{self, AlertKind, RunOptions};
use anxin_monitor::synth::{self, Format, GenOptions};
use anxin_policy::Policy;
use anxin_records::keys::DataKey;

const BIN: &str = env!("CARGO_BIN_EXE_anxin-cluster");

/// A child process killed when the test ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `anxin-cluster ARGS` with its output in `log`; Ballista's own lines at info level, so that an
/// executor's log says which tasks it finished.
fn spawn(args: &[&str], log: &Path) -> Proc {
    let log = std::fs::File::create(log).unwrap();
    Proc(
        Command::new(BIN)
            .args(args)
            .env("ANXIN_CLUSTER_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The status line and body of GET `path` on the scheduler's port, if it answers.
fn get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn wait_for(what: &str, logs: &[&Path], mut ok: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !ok() {
        if t0.elapsed() > Duration::from_secs(90) {
            let text: Vec<String> = logs
                .iter()
                .map(|p| std::fs::read_to_string(p).unwrap_or_default())
                .collect();
            panic!(
                "{what} did not happen within 90 s; logs:\n{}",
                text.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn files(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(d) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Two generated months (every kind of alert appears), delivered per platform and month and
/// ingested, with the insured state: the data directory both engines read.
fn data_dir(d: &Path) -> Registry {
    let month = YearMonth::new(2026, 3).unwrap();
    let gen_dir = d.join("gen");
    synth::generate(
        &gen_dir,
        &GenOptions {
            workers: 400,
            orders: 6_000,
            seed: 11,
            month,
            months: 2,
            format: Format::Parquet,
        },
    )
    .unwrap();
    let data = d.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let reg = Registry::read(&gen_dir.join("platforms.csv")).unwrap();
    reg.write(&layout::platforms_file(&data)).unwrap();
    let key = DataKey::from_secret(&[7u8; 32]);
    for f in files(&gen_dir.join("orders")) {
        let name = f.file_stem().unwrap().to_str().unwrap().to_string();
        let (p, m) = name.split_at(18);
        let r = ingest::ingest(
            &data,
            &key,
            &reg,
            &IngestOptions {
                file: &f,
                platform: p,
                month: YearMonth::parse(&m[1..]).unwrap(),
                now: "2026-04-10T00:00:00+08:00".parse().unwrap(),
            },
        )
        .unwrap();
        assert_eq!(r.refused, 0);
    }
    ingest::load_insured(&data, &key, &gen_dir.join("insured.csv")).unwrap();
    reg
}

#[test]
fn a_scheduler_and_two_executors_find_exactly_what_the_embedded_run_finds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reg = data_dir(d);
    let data = d.join("data");

    // The embedded run.
    let o = RunOptions {
        region: "330000".into(),
        month: YearMonth::new(2026, 3).unwrap(),
        reforms: vec!["platform-union-dues".into()],
        threads: 2,
    };
    let embedded = run::run(&data, &Policy::embedded().unwrap(), &reg, &o).unwrap();
    let kinds: std::collections::BTreeSet<AlertKind> =
        embedded.alerts.iter().map(|a| a.kind).collect();
    assert_eq!(kinds.len(), 4, "every kind of alert is compared: {kinds:?}");
    assert!(!embedded.compliance.is_empty() && !embedded.union.lines.is_empty());
    run::write_outputs(&d.join("embedded"), &embedded).unwrap();

    // The cluster: three processes on loopback.
    let port = free_port();
    let sched = format!("127.0.0.1:{port}");
    let logs = d.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let (ls, l1, l2) = (
        logs.join("scheduler.log"),
        logs.join("executor-1.log"),
        logs.join("executor-2.log"),
    );
    let _scheduler = spawn(&["scheduler", "--bind", &sched, "--executors", "2"], &ls);
    wait_for("the scheduler answering /healthz", &[&ls], || {
        get(port, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200"))
    });
    let mut executors = Vec::new();
    for (i, log) in [(1, &l1), (2, &l2)] {
        let work = d.join(format!("work-{i}"));
        std::fs::create_dir_all(&work).unwrap();
        let (f, g) = (free_port().to_string(), free_port().to_string());
        executors.push(spawn(
            &[
                "executor",
                "--scheduler",
                &sched,
                "--host",
                "127.0.0.1",
                "--flight-port",
                &f,
                "--grpc-port",
                &g,
                "--slots",
                "1",
                "--work-dir",
                work.to_str().unwrap(),
            ],
            log,
        ));
    }
    wait_for(
        "two executors registered (/readyz)",
        &[&ls, &l1, &l2],
        || get(port, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")),
    );

    // The operator's command, pointed at the cluster (killed if it has not ended in 5 minutes:
    // a planner that never finishes fails the test instead of hanging it).
    let (out_log, err_log) = (logs.join("run.out"), logs.join("run.err"));
    let t0 = Instant::now();
    let mut run = Command::new(BIN)
        .args([
            "run",
            "--cluster",
            &format!("df://{sched}"),
            "--data",
            data.to_str().unwrap(),
            "--month",
            "2026-03",
            "--reform",
            "platform-union-dues",
            "--threads",
            "2",
            "--out",
            d.join("cluster").to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_log).unwrap())
        .stderr(std::fs::File::create(&err_log).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = run.try_wait().unwrap() {
            break status;
        }
        if t0.elapsed() > Duration::from_secs(300) {
            let _ = run.kill();
            let _ = run.wait();
            let counts: Vec<String> = [1, 2]
                .iter()
                .map(|i| {
                    format!(
                        "work-{i}: {} files",
                        files(&d.join(format!("work-{i}"))).len()
                    )
                })
                .collect();
            panic!(
                "anxin-cluster run did not end within 5 minutes ({})",
                counts.join(", ")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    eprintln!("the cluster's run took {:.1} s", t0.elapsed().as_secs_f64());
    assert!(
        status.success(),
        "anxin-cluster run failed: {}\n{}",
        std::fs::read_to_string(&err_log).unwrap_or_default(),
        std::fs::read_to_string(&ls).unwrap_or_default()
    );
    let said = std::fs::read_to_string(&out_log).unwrap();
    assert!(
        said.contains(&format!("预警 {} 条", embedded.alerts.len())),
        "{said}"
    );

    // Exactly the embedded run's findings, file by file.
    let a = files(&d.join("embedded"));
    let b = files(&d.join("cluster"));
    assert_eq!(a.len(), 7);
    assert_eq!(
        a.iter().map(|p| p.file_name()).collect::<Vec<_>>(),
        b.iter().map(|p| p.file_name()).collect::<Vec<_>>()
    );
    for (x, y) in a.iter().zip(&b) {
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs between the embedded run and the cluster",
            x.file_name().unwrap().to_string_lossy()
        );
    }
    // Both executors ran tasks: each one's log names the tasks it finished.
    for (i, log) in [(1, &l1), (2, &l2)] {
        let text = std::fs::read_to_string(log).unwrap();
        let tasks = text.matches("Finished task").count();
        eprintln!("executor {i} finished {tasks} tasks");
        assert!(tasks > 0, "executor {i} ran no task:\n{text}");
    }
}

#[test]
fn a_bad_cluster_address_or_no_scheduler_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    data_dir(dir.path());
    let d = &dir.path().join("data");
    let run = |cluster: &str| {
        Command::new(BIN)
            .args([
                "run",
                "--cluster",
                cluster,
                "--data",
                d.to_str().unwrap(),
                "--month",
                "2026-03",
            ])
            .output()
            .unwrap()
    };
    let out = run("http://127.0.0.1:1");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("df://主机:端口") && err.contains("df://HOST:PORT"),
        "{err}"
    );
    // Nothing listens on this port: an error in both languages, no panic, no result file.
    let out = run(&format!("df://127.0.0.1:{}", free_port()));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(" / "), "{err}");
    assert!(!layout::runs_dir(d, YearMonth::new(2026, 3).unwrap()).exists());
}
