//! Durable imports: a file uploaded to `anxin serve` is a stored job. The server is killed
//! (SIGKILL) while the job lands and started again: the job resumes after its last durable
//! batch and finishes, no row lost or doubled, every refusal there once.
//!
//! Runs on SQLite, and on PostgreSQL (`ANXIN_TEST_POSTGRES`'s server, a database of its own).

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{id, psql};

const PASSWORD: &str = "a clerk's password 1";
const PLATFORM: &str = "91350100M000100Y43";
const PERSONS: u32 = 800;
const MONTHS: u32 = 60;

/// `anxin --data DATA ARGS…` run from the data directory's parent.
fn anxin(data: &Path, args: &[&str]) -> Command {
    let mut c = support::anxin(data, args);
    c.current_dir(data.parent().unwrap());
    c
}

fn ok(mut c: Command) -> String {
    let out = c.output().expect("run anxin");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn worker(n: u32) -> String {
    id(&format!("3401021990{:07}", 1_010_000 + n))
}

fn person_name(n: u32) -> String {
    let digits = ['〇', '一', '二', '三', '四', '五', '六', '七', '八', '九'];
    format!(
        "工人{}",
        n.to_string()
            .chars()
            .map(|c| digits[c.to_digit(10).unwrap() as usize])
            .collect::<String>()
    )
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path, log: &Path) -> Server {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut child = anxin(data, &["serve", "--addr", "127.0.0.1:0", "--log", "warn"])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start anxin serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("anxin serve ended before it printed its address");
        };
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    Server { child, addr }
}

impl Server {
    /// One HTTP/1.1 request; the status and the body. The token goes as a bearer token to
    /// the API and as the session cookie to pages.
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        let auth = match token {
            Some(t) if path.starts_with("/api/") => format!("Authorization: Bearer {t}\r\n"),
            Some(t) => format!("Cookie: anxin_session={t}\r\n"),
            None => String::new(),
        };
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}Content-Type: {}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            if path == "/login" {
                "application/x-www-form-urlencoded"
            } else {
                "application/octet-stream"
            },
            body.len()
        )
        .unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response[9..12].parse().unwrap();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        // The sign-in form: the session cookie it sets, in place of the body.
        if path == "/login" {
            let cookie = head
                .lines()
                .find_map(|l| l.strip_prefix("set-cookie: anxin_session="))
                .and_then(|v| v.split(';').next())
                .unwrap_or_default();
            return (status, cookie.to_string());
        }
        (status, body.to_string())
    }

    fn json(&self, path: &str, token: &str) -> serde_json::Value {
        let (status, body) = self.call("GET", path, Some(token), b"");
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }
}

/// A data directory with the platform and the workers, a clerk, and the contributions file:
/// (data, file, rows, refused rows).
fn world(root: &Path, database: Option<&str>) -> (PathBuf, Vec<u8>, u64, Vec<u64>) {
    let data = root.join("data");
    let mut init = vec!["init"];
    if let Some(url) = database {
        init.extend(["--database", url]);
    }
    ok(anxin(&data, &init));
    std::fs::write(
        root.join("orgs.csv"),
        format!("统一社会信用代码,名称,类型,地区\n{PLATFORM},某外卖平台,平台,杭州\n"),
    )
    .unwrap();
    let mut p = String::from("身份证号,姓名,户籍地,居住地,就业形态,平台,居住证地,居住证起始\n");
    for n in 0..PERSONS {
        p.push_str(&format!(
            "{},{},阜阳,杭州,多平台,{PLATFORM},杭州,2019-03-01\n",
            worker(n),
            person_name(n)
        ));
    }
    std::fs::write(root.join("persons.csv"), p).unwrap();
    for kind in ["orgs", "persons"] {
        let file = root.join(format!("{kind}.csv"));
        ok(anxin(&data, &["import", kind, file.to_str().unwrap()]));
    }
    let mut clerk = anxin(
        &data,
        &[
            "account", "add", "clerk", "--role", "clerk", "--region", "330100",
        ],
    );
    clerk.env("ANXIN_PASSWORD", PASSWORD);
    ok(clerk);

    // Every 499th row has a month that does not exist (refused by the reader); every 997th
    // names a worker not in the registry (refused by the ledger).
    let mut c = String::from(
        "record_id,person_id,month,insurance,region,payer,payer_code,base,amount,status\n",
    );
    let mut refused = Vec::new();
    let mut row = 1u64;
    for n in 0..PERSONS {
        for m in 0..MONTHS {
            row += 1;
            let mut month = format!("{}-{:02}", 2020 + m / 12, m % 12 + 1);
            let mut who = worker(n);
            if row.is_multiple_of(499) {
                month = "2021-13".into();
                refused.push(row);
            } else if row.is_multiple_of(997) {
                who = worker(PERSONS + n);
                refused.push(row);
            }
            c.push_str(&format!(
                "r-{n}-{m},{who},{month},pension,330100,self,,4812,962.40,paid\n"
            ));
        }
    }
    (data, c.into_bytes(), row - 1, refused)
}

fn sign_in(server: &Server) -> String {
    let (status, body) = server.call(
        "POST",
        "/api/sessions",
        None,
        format!(r#"{{"username":"clerk","password":"{PASSWORD}"}}"#).as_bytes(),
    );
    assert_eq!(status, 201, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["token"].as_str().unwrap().to_string()
}

fn killed_mid_import_then_restarted(name: &str, database: Option<&str>) {
    let root = std::env::temp_dir().join(format!("anxin-jobs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let log = root.join("server.log");
    let (data, file, rows, refused) = world(&root, database);
    let server = serve(&data, &log);
    let token = sign_in(&server);
    let size_before = server.json("/api/log/checkpoint", &token)["size"]
        .as_u64()
        .unwrap();
    let (status, body) = server.call(
        "POST",
        "/api/imports?kind=contributions&name=contributions.csv",
        Some(&token),
        &file,
    );
    assert_eq!(status, 202, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = job["id"].as_u64().unwrap();
    let status_path = format!("/api/imports/{id}");

    // Kill it once at least one batch is durable and the job is not done.
    let deadline = Instant::now() + Duration::from_secs(120);
    let seen = loop {
        let s = server.json(&status_path, &token);
        assert_eq!(
            s["finished"], false,
            "finished before the kill: make the file longer"
        );
        if s["rows_read"].as_u64().unwrap() > 0 {
            break s;
        }
        assert!(Instant::now() < deadline, "no batch landed in time");
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(server); // SIGKILL
    let read_at_kill = seen["rows_read"].as_u64().unwrap();
    assert!(read_at_kill < rows, "{seen}");

    let server = serve(&data, &log);
    let deadline = Instant::now() + Duration::from_secs(300);
    let done = loop {
        let s = server.json(&status_path, &token);
        assert!(
            s["rows_read"].as_u64().unwrap() >= read_at_kill,
            "the progress survived the kill: {s}"
        );
        if s["finished"] == true {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "the resumed job did not finish: {s}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let good = rows - refused.len() as u64;
    assert_eq!(done["error"], serde_json::Value::Null, "{done}");
    assert_eq!(done["rows_read"], rows, "{done}");
    assert_eq!(done["counts"]["added"], good, "no row lost: {done}");
    assert_eq!(
        done["counts"]["unchanged"], 0,
        "the resumed job starts after its last durable batch, not before: {done}"
    );
    assert_eq!(done["counts"]["rejected"], refused.len() as u64, "{done}");

    // Every refusal once, in file order.
    let mut listed = Vec::new();
    let mut path = format!("/api/imports/{id}/rejected?limit=200");
    loop {
        let page = server.json(&path, &token);
        for item in page["items"].as_array().unwrap() {
            listed.push(item["row"].as_u64().unwrap());
        }
        match page["next"].as_str() {
            Some(next) => path = format!("/api/imports/{id}/rejected?limit=200&after={next}"),
            None => break,
        }
    }
    assert_eq!(listed, refused, "every refusal, once each");
    // The clerk's page after the restart (signed in by the form): the counts and the
    // refused rows.
    let form = format!(
        "username=clerk&password={}",
        PASSWORD.replace(' ', "+").replace('\'', "%27")
    );
    let (status, cookie) = server.call("POST", "/login", None, form.as_bytes());
    assert_eq!((status, cookie.len()), (303, 43), "page sign-in");
    let (status, page) = server.call(
        "GET",
        &format!("/clerk/import/{id}?lang=en"),
        Some(&cookie),
        b"",
    );
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains(&format!(
            "added {good} · already there 0 · refused {}",
            refused.len()
        )),
        "{page}"
    );
    assert!(
        page.contains(&format!("<td data-label=\"Row\">{}</td>", refused[0])),
        "{page}"
    );

    // The ledger holds each good row exactly once.
    let size = server.json("/api/log/checkpoint", &token)["size"]
        .as_u64()
        .unwrap();
    assert_eq!(size, size_before + good, "no row doubled on the ledger");
    drop(server);
    let audit = anxin(&data, &["audit"]).output().unwrap();
    assert!(
        audit.status.success(),
        "{}{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr)
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        !log.contains("34010219901"),
        "no resident ID in the log:\n{log}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn an_import_survives_sigkill_and_finishes_after_a_restart_sqlite() {
    killed_mid_import_then_restarted("sqlite", None);
}

/// Runs `story` on a database of its own named `db` on `ANXIN_TEST_POSTGRES`'s server.
fn on_postgres(db: &str, story: fn(&str, Option<&str>)) {
    let db = format!("{db}_{}", std::process::id());
    psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    psql("postgres", &format!("CREATE DATABASE {db}"));
    story(
        "postgres",
        Some(&format!("postgres://postgres@127.0.0.1:5432/{db}")),
    );
    psql("postgres", &format!("DROP DATABASE {db}"));
}

#[test]
fn an_import_survives_sigkill_and_finishes_after_a_restart_postgres() {
    on_postgres("anxin_jobs", killed_mid_import_then_restarted);
}

/// `anxin import` is a stored job too: killed after its first durable batch, the same command
/// resumes after that batch; the counts, the ledger and the refusal report come out whole.
#[test]
fn a_command_line_import_killed_mid_way_resumes_when_run_again() {
    let root = std::env::temp_dir().join(format!("anxin-jobs-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let (data, file, rows, refused) = world(&root, None);
    let path = root.join("contributions.csv");
    std::fs::write(&path, &file).unwrap();
    let path = path.to_str().unwrap();
    let before: serde_json::Value =
        serde_json::from_str(&ok(anxin(&data, &["--json", "audit"]))).unwrap();

    let mut child = anxin(
        &data,
        &["import", "contributions", "--ack", "--batch", "1000", path],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("ack "), "{first}");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt as _;
    assert_eq!(status.signal(), Some(9), "killed mid-import, not finished");

    let out = ok(anxin(
        &data,
        &["--json", "import", "contributions", "--batch", "1000", path],
    ));
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let good = rows - refused.len() as u64;
    assert_eq!(v["rows"], rows, "{v}");
    assert_eq!(v["added"], good, "no row lost: {v}");
    assert_eq!(
        v["unchanged"], 0,
        "resumed after the last durable batch: {v}"
    );
    assert_eq!(v["rejected"], refused.len() as u64, "{v}");
    let report = std::fs::read_to_string(format!("{path}.rejected.csv")).unwrap();
    let mut listed: Vec<u64> = report
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().parse().unwrap())
        .collect();
    listed.sort_unstable();
    assert_eq!(listed, refused, "every refusal in the report, once each");
    let after: serde_json::Value =
        serde_json::from_str(&ok(anxin(&data, &["--json", "audit"]))).unwrap();
    assert_eq!(
        after["contributions"].as_u64().unwrap(),
        before["contributions"].as_u64().unwrap() + good,
        "each good row once on the ledger: {after}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// One request that may meet a server being killed: `None` when the connection fails or
/// the answer is cut short.
fn try_get(addr: &str, path: &str, token: &str) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    // Only a whole answer counts as acknowledged (the body ends the JSON object).
    if !text.trim_end().ends_with('}') {
        return None;
    }
    text.get(9..12)?.parse().ok()
}

/// Officials' reads are acknowledged only once their access rows are committed by the one
/// writer, in groups with the other reads waiting. The server is killed (SIGKILL) at varied
/// points while eight clients read, many times over: after each restart the log holds every
/// acknowledged read (and at most the eight in flight more), and the audit passes at the end
/// (every access row against its entry, the checkpoint file against the log).
fn killed_during_grouped_commits(name: &str, database: Option<&str>) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    const CLIENTS: u64 = 8;
    const ROUNDS: u64 = 12;
    let root = std::env::temp_dir().join(format!("anxin-group-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let log = root.join("server.log");
    let (data, _, _, _) = world(&root, database);
    let server = serve(&data, &log);
    let token = sign_in(&server);
    let (status, body) = server.call(
        "POST",
        "/api/persons/lookup",
        Some(&token),
        format!(r#"{{"id":"{}","purpose":"核对缴费"}}"#, worker(0)).as_bytes(),
    );
    assert_eq!(status, 200, "{body}");
    let key: serde_json::Value = serde_json::from_str(&body).unwrap();
    let path = format!(
        "/api/persons/{}?purpose=%E6%A0%B8%E5%AF%B9",
        key["person"].as_str().unwrap()
    );
    let mut size = server.json("/api/log/checkpoint", &token)["size"]
        .as_u64()
        .unwrap();
    let mut server = Some(server);
    let mut acked_total = 0;
    for round in 0..ROUNDS {
        let running = server.take().unwrap_or_else(|| serve(&data, &log));
        let now = running.json("/api/log/checkpoint", &token)["size"]
            .as_u64()
            .unwrap();
        assert!(now >= size, "{name} round {round}: the log shrank");
        size = now;
        let acked = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let (acked, stop) = (acked.clone(), stop.clone());
                let (addr, path, token) = (running.addr.clone(), path.clone(), token.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        match try_get(&addr, &path, &token) {
                            Some(200) => {
                                acked.fetch_add(1, Ordering::SeqCst);
                            }
                            Some(other) => panic!("a read was refused: {other}"),
                            None => break,
                        }
                    }
                })
            })
            .collect();
        // Killed at a different moment each round (13 ms to about 0.4 s in).
        std::thread::sleep(Duration::from_millis(13 + (round * 97 + 31) % 389));
        drop(running); // SIGKILL
        stop.store(true, Ordering::Relaxed);
        for c in clients {
            c.join().unwrap();
        }
        // A kill early in a round may come before any answer: that round checks only that
        // nothing unasked was logged.
        let acked = acked.load(Ordering::SeqCst);
        acked_total += acked;
        let again = serve(&data, &log);
        let after = again.json("/api/log/checkpoint", &token)["size"]
            .as_u64()
            .unwrap();
        assert!(
            after >= size + acked,
            "{name} round {round}: {acked} reads acknowledged, only {} logged",
            after - size
        );
        assert!(
            after <= size + acked + CLIENTS,
            "{name} round {round}: more logged ({}) than read ({acked}) and in flight",
            after - size
        );
        size = after;
        server = Some(again);
    }
    drop(server);
    assert!(acked_total > ROUNDS, "{name}: {acked_total} reads in all");
    let audit = anxin(&data, &["audit"]).output().unwrap();
    assert!(
        audit.status.success(),
        "{}{}",
        String::from_utf8_lossy(&audit.stdout),
        String::from_utf8_lossy(&audit.stderr)
    );
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn acknowledged_reads_survive_sigkill_during_grouped_commits_sqlite() {
    killed_during_grouped_commits("sqlite", None);
}

#[test]
fn acknowledged_reads_survive_sigkill_during_grouped_commits_postgres() {
    on_postgres("pool_group", killed_during_grouped_commits);
}
