//! Transfers between real instances (issue 14): two `anxin serve` processes on loopback,
//! 杭州 on SQLite and 阜阳 on PostgreSQL (`ANXIN_TEST_POSTGRES`'s server, a database of its
//! own), each with its own data directory, port, federation key and peers file.
//!
//! 阜阳 is down when 杭州's clerk asks for the worker's pension on 2026-09-28; 杭州 is then
//! killed (SIGKILL) with the liaison request in its outbox and started again on later days
//! (`--today`): the step's deadline runs across National Day with its make-up Saturday and
//! ends overdue. A third server, 宁波, which 杭州 does not list, sends real signed requests
//! and is refused as an unknown peer. 阜阳 and 杭州 come back and the transfer completes
//! exactly once: done at 杭州 with the 120 months, each state once in 阜阳's log. Messages
//! that are garbage, from an unknown peer or altered after signing are refused with their
//! reason and change nothing. A second test runs three servers (one on PostgreSQL) that
//! witness each other's logs and catch one of them rolled back.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{POSTGRES, id, psql, psql_output};

const PASSWORD: &str = "a clerk's password 1";

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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

fn serve(data: &Path, name: &str, port: u16, log: &Path) -> Server {
    serve_on(data, name, port, log, None)
}

/// `anxin serve`, its clock started at 09:00 China time on `day` when given.
fn serve_on(data: &Path, name: &str, port: u16, log: &Path, day: Option<&str>) -> Server {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec![
        "serve",
        "--addr",
        &addr,
        "--log",
        "info",
        "--federation-name",
        name,
        "--outbox-every",
        "1",
    ];
    if let Some(day) = day {
        args.extend(["--today", day]);
    }
    let mut child = anxin(data, &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .expect("start anxin serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("anxin serve ({name}) ended before it printed its address");
        };
        if line.contains("http://") {
            break;
        }
    }
    Server { child, addr }
}

impl Server {
    fn call(&self, method: &str, path: &str, token: Option<&str>, body: &[u8]) -> (u16, String) {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        self.request(method, path, &auth, body)
    }

    /// A page, as `username`'s browser asks for it: signed in with the form, then with the
    /// session cookie the form set.
    fn page(&self, path: &str, username: &str) -> (u16, String) {
        let form = format!(
            "username={username}&password={}",
            PASSWORD.replace(' ', "+").replace('\'', "%27")
        );
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "POST /login HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            self.addr,
            form.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let cookie = response
            .lines()
            .find_map(|l| l.strip_prefix("set-cookie: anxin_session="))
            .and_then(|v| v.split(';').next())
            .expect("the sign-in form sets the session cookie")
            .to_string();
        self.request(
            "GET",
            path,
            &format!("Cookie: anxin_session={cookie}\r\n"),
            b"",
        )
    }

    fn request(&self, method: &str, path: &str, auth: &str, body: &[u8]) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .unwrap();
        stream.write_all(body).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        let response = String::from_utf8_lossy(&response).into_owned();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    fn json(&self, path: &str, token: &str) -> serde_json::Value {
        let (status, body) = self.call("GET", path, Some(token), b"");
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    fn sign_in(&self) -> String {
        self.sign_in_as("clerk")
    }

    fn sign_in_as(&self, username: &str) -> String {
        let (status, body) = self.call(
            "POST",
            "/api/sessions",
            None,
            format!(r#"{{"username":"{username}","password":"{PASSWORD}"}}"#).as_bytes(),
        );
        assert_eq!(status, 201, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    /// `POST /api/transfers`: moving `person` from region `from` to region `to`.
    fn ask_transfer(&self, token: &str, person: &str, from: &str, to: &str) -> (u16, String) {
        let ask =
            format!(r#"{{"person_id":"{person}","from_region":"{from}","to_region":"{to}"}}"#);
        self.call("POST", "/api/transfers", Some(token), ask.as_bytes())
    }

    /// Posts a federation message; the status and the refusal's reason code.
    fn post_message(&self, body: &str) -> (u16, String) {
        let (status, text) = self.call("POST", "/federation/v1/messages", None, body.as_bytes());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        (
            status,
            v["error"]["kind"].as_str().unwrap_or_default().to_string(),
        )
    }
}

/// Instance `name`'s entry for its peers' `peers.toml` (`anxin transfer key`).
fn entry(data: &Path, name: &str, port: u16, region: &str) -> String {
    ok(anxin(
        data,
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
    ))
}

/// A data directory for instance `name`, with a clerk of `region`.
fn instance(root: &Path, name: &str, region: &str, database: Option<&str>) -> PathBuf {
    let data = root.join(name);
    let mut init = vec!["init"];
    if let Some(url) = database {
        init.extend(["--database", url]);
    }
    ok(anxin(&data, &init));
    let mut clerk = anxin(
        &data,
        &[
            "account", "add", "clerk", "--role", "clerk", "--region", region,
        ],
    );
    clerk.env("ANXIN_PASSWORD", PASSWORD);
    ok(clerk);
    data
}

#[test]
fn a_transfer_completes_once_through_kills_and_a_holiday_and_refuses_strangers() {
    let root = support::scratch("federation", "two");
    let database = format!("anxin_xfer_{}", std::process::id());
    let _ = psql_output("postgres", &format!("DROP DATABASE IF EXISTS {database}"));
    psql("postgres", &format!("CREATE DATABASE {database}"));
    let fy_url = format!("{POSTGRES}/{database}");
    let log = root.join("servers.log");
    let (hz_port, fy_port) = (free_port(), free_port());

    let hz = instance(&root, "hangzhou", "330100", None);
    let fy = instance(&root, "fuyang", "341200", Some(&fy_url));
    // The worker: insured in 阜阳 2010–2019 (120 months at 4000 yuan), now moving to 杭州.
    let worker = id("34120219850615123");
    std::fs::write(
        root.join("persons.csv"),
        format!("身份证号,姓名,户籍地,居住地,就业形态,平台,居住证地,居住证起始\n{worker},张三,阜阳,阜阳,灵活就业,,,\n"),
    )
    .unwrap();
    let mut c = String::from(
        "record_id,person_id,month,insurance,region,payer,payer_code,base,amount,status\n",
    );
    for m in 0..120 {
        c.push_str(&format!(
            "fy-{m},{worker},{}-{:02},pension,341200,self,,4000,800,paid\n",
            2010 + m / 12,
            m % 12 + 1
        ));
    }
    std::fs::write(root.join("contributions.csv"), c).unwrap();
    for kind in ["persons", "contributions"] {
        let file = root.join(format!("{kind}.csv"));
        ok(anxin(&fy, &["import", kind, file.to_str().unwrap()]));
    }
    // In 杭州 the worker registered and has an account of their own.
    ok(anxin(
        &hz,
        &[
            "import",
            "persons",
            root.join("persons.csv").to_str().unwrap(),
        ],
    ));
    let mut account = anxin(
        &hz,
        &[
            "account", "add", "worker", "--role", "worker", "--person", &worker,
        ],
    );
    account.env("ANXIN_PASSWORD", PASSWORD);
    ok(account);
    // Keys and peers: each instance lists the other.
    let hz_entry = entry(&hz, "hangzhou", hz_port, "330100");
    let fy_entry = entry(&fy, "fuyang", fy_port, "341200");
    std::fs::write(hz.join("peers.toml"), &fy_entry).unwrap();
    std::fs::write(fy.join("peers.toml"), &hz_entry).unwrap();

    // 阜阳 is down: 杭州's clerk asks on Monday 2026-09-28, before National Day; the request
    // waits in the outbox. 杭州 is killed.
    let server = serve_on(&hz, "hangzhou", hz_port, &log, Some("2026-09-28"));
    let token = server.sign_in();
    let (status, body) = server.ask_transfer(&token, &worker, "341200", "330100");
    assert_eq!(status, 201, "{body}");
    let started: serde_json::Value = serde_json::from_str(&body).unwrap();
    let transfer = started["id"].as_str().unwrap().to_string();
    assert_eq!(started["state"], "requested");
    assert_eq!(started["peer"], "fuyang");
    std::thread::sleep(Duration::from_millis(1500));
    // The origin's 15 working days to answer (国办发〔2009〕66号) run across the holiday by
    // policy/calendar/2026.toml: 9-29, 9-30; 10-1…10-7 off; 10-8, 10-9, Saturday 10-10 a
    // make-up working day, then 10-12…10-16 and 10-19…10-23. Weekdays alone would say 10-19.
    let queue = server.json("/api/transfers", &token);
    let item = &queue["items"][0];
    assert_eq!(item["id"], transfer.as_str(), "{queue}");
    assert_eq!(
        (&item["due"], &item["working_days_left"]),
        (&serde_json::json!("2026-10-23"), &serde_json::json!(15)),
        "{queue}"
    );
    drop(server);

    // The clock moves on, still with 阜阳 down: on Friday 10-09, 11 working days are left
    // (10-10 counts, the Sunday 10-11 does not); on Monday 10-26 the step is one working day
    // overdue (the weekend 10-24/25 counts for nothing).
    for (day, left) in [("2026-10-09", 11), ("2026-10-26", -1)] {
        let server = serve_on(&hz, "hangzhou", hz_port, &log, Some(day));
        let token = server.sign_in();
        let queue = server.json("/api/transfers", &token);
        assert_eq!(
            queue["items"][0]["working_days_left"], left,
            "{day}: {queue}"
        );
        assert_eq!(queue["items"][0]["state"], "requested", "{day}: {queue}");
        // The clerk sees why nothing moves: the liaison request does not reach 阜阳.
        let path = format!("/api/transfers/{transfer}");
        let undelivered = wait_for_value(&server, &path, &token, "undelivered");
        assert_eq!(undelivered["kind"], "unreachable", "{day}: {undelivered}");
        assert!(undelivered["next_try"].as_i64().is_some(), "{undelivered}");
        drop(server);
    }

    // 宁波 lists 杭州 as a peer, but 杭州 does not list 宁波: 宁波's real, signed liaison
    // requests are refused as from an unknown peer, again and again, and make nothing at 杭州.
    let nb = instance(&root, "ningbo", "330200", None);
    let nb_port = free_port();
    ok(anxin(
        &nb,
        &[
            "import",
            "persons",
            root.join("persons.csv").to_str().unwrap(),
        ],
    ));
    let _ = entry(&nb, "ningbo", nb_port, "330200");
    std::fs::write(nb.join("peers.toml"), &hz_entry).unwrap();
    let hz_server = serve_on(&hz, "hangzhou", hz_port, &log, Some("2026-10-26"));
    let nb_server = serve_on(&nb, "ningbo", nb_port, &log, Some("2026-10-26"));
    let nb_token = nb_server.sign_in();
    let (status, body) = nb_server.ask_transfer(&nb_token, &worker, "330100", "330200");
    assert_eq!(status, 201, "{body}");
    let nb_transfer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let nb_path = format!("/api/transfers/{}", nb_transfer["id"].as_str().unwrap());
    let refused = |log: &Path| {
        std::fs::read_to_string(log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("federation message refused") && l.contains("unknown_peer"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while refused(&log) == 0 {
        assert!(
            Instant::now() < deadline,
            "宁波's request was never refused"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(nb_server.json(&nb_path, &nb_token)["state"], "requested");
    // 宁波's clerk is told why, in words: 杭州 does not list 宁波 (the code 杭州 answered,
    // in 宁波's own words), and that it is tried again; the page says it too.
    let undelivered = wait_for_value(&nb_server, &nb_path, &nb_token, "undelivered");
    assert_eq!(
        (&undelivered["kind"], &undelivered["status"]),
        (&serde_json::json!("unknown_peer"), &serde_json::json!(403)),
        "{undelivered}"
    );
    assert!(
        undelivered["zh"].as_str().unwrap().contains("可信机构名单")
            && undelivered["en"].as_str().unwrap().contains("peers file"),
        "{undelivered}"
    );
    let page_path = format!("/transfers/{}", nb_transfer["id"].as_str().unwrap());
    let (status, page) = nb_server.page(&page_path, "clerk");
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("消息还没有送到")
            && page.contains("没送到的原因")
            && page.contains("不认识本机构")
            && page.contains("下次重试")
            && !page.contains("联系函已发往"),
        "{page}"
    );
    let hz_token = hz_server.sign_in();
    let queue = hz_server.json("/api/transfers", &hz_token);
    assert_eq!(queue["items"].as_array().unwrap().len(), 1, "{queue}");
    drop(hz_server);

    // Both come back on 10-26: the transfer completes.
    let fy_server = serve_on(&fy, "fuyang", fy_port, &log, Some("2026-10-26"));
    let hz_server = serve_on(&hz, "hangzhou", hz_port, &log, Some("2026-10-26"));
    let token = hz_server.sign_in();
    let path = format!("/api/transfers/{transfer}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let t = hz_server.json(&path, &token);
        if t["state"] == "done" {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "not done in time: {t}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(done["months"], 120, "{done}");
    assert_eq!(done["sealed"], true);
    assert!(
        done["undelivered"].is_null(),
        "a done transfer has nothing undelivered: {done}"
    );
    let fy_token = fy_server.sign_in();
    let origin = fy_server.json(&path, &fy_token);
    assert_eq!(origin["state"], "sealed", "{origin}");
    assert_eq!(origin["package"], done["package"]);
    // Exactly once: each state once in 阜阳's log, nothing left to send on either side.
    let steps = psql_output(
        &database,
        "SELECT key FROM events WHERE kind = (SELECT id FROM event_kinds WHERE name = 'transfer_step') ORDER BY seq",
    );
    let steps = String::from_utf8_lossy(&steps.stdout).into_owned();
    let keys: Vec<&str> = steps
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("transfer:"))
        .collect();
    assert_eq!(
        keys,
        [
            format!("transfer:{transfer}:frozen"),
            format!("transfer:{transfer}:sealed")
        ],
        "{steps}"
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        hz_server.json("/api/transfers", &token)["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // The worker reads their own transfer and its voucher, and was told of each step in
    // their inbox (requested, recorded, done), each once.
    let own = hz_server.sign_in_as("worker");
    assert_eq!(hz_server.json(&path, &own)["state"], "done");
    let voucher = hz_server.json(&format!("{path}/voucher"), &own);
    assert!(
        voucher["signature"].as_str().is_some_and(|s| !s.is_empty()),
        "{voucher}"
    );
    assert!(
        voucher["voucher"]
            .as_str()
            .unwrap()
            .contains("3412**********1236"),
        "the holder is masked: {voucher}"
    );
    let inbox = hz_server.json("/api/inbox", &own);
    let steps: Vec<&str> = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "transfer_step")
        .filter_map(|m| m["text_zh"].as_str())
        .collect();
    assert_eq!(steps.len(), 3, "{inbox}");
    assert!(steps.iter().all(|t| t.contains(&transfer)), "{inbox}");
    assert!(steps.iter().any(|t| t.contains("已办结")), "{inbox}");
    // A worker asks only for themselves: naming another person is refused, nothing starts.
    let other = id("33010619900101123");
    let (status, body) = hz_server.ask_transfer(&own, &other, "341200", "330100");
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("not_this_person") && body.contains("本人"),
        "{body}"
    );
    let (status, _) = hz_server.call("GET", "/api/transfers/hangzhou:2", Some(&token), b"");
    assert_eq!(status, 404, "the refused request made no transfer");

    // Forgeries change nothing: garbage, an unknown peer, a message altered after signing.
    assert_eq!(hz_server.post_message("not json").0, 400);
    let (status, why) = hz_server.post_message(r#"{"message":"{}","signature":""}"#);
    assert_eq!((status, why.as_str()), (400, "malformed"));
    let envelope = |from: &str| {
        serde_json::json!({
            "v": 1, "kind": "package", "from": from, "to": "hangzhou",
            "transfer": "hangzhou:9", "idem": "hangzhou:9:package", "at": 0, "body": {}
        })
        .to_string()
    };
    let forged = |from: &str| {
        serde_json::json!({ "message": envelope(from), "signature": "AAAA" }).to_string()
    };
    assert_eq!(
        hz_server.post_message(&forged("ningbo")),
        (403, "unknown_peer".to_string())
    );
    assert_eq!(
        hz_server.post_message(&forged("fuyang")),
        (403, "wrong_key".to_string())
    );
    let (status, _) = hz_server.call("GET", "/api/transfers/hangzhou:9", Some(&token), b"");
    assert_eq!(status, 404, "the forgeries made no transfer");
    // 宁波 is still refused, and its request is still where it started.
    assert_eq!(nb_server.json(&nb_path, &nb_token)["state"], "requested");
    drop((hz_server, fy_server, nb_server));
    let _ = psql_output("postgres", &format!("DROP DATABASE IF EXISTS {database}"));
    let _ = std::fs::remove_dir_all(&root);
}

/// Polls `path` until its JSON has a non-null `field` (10 s at most); that field.
fn wait_for_value(server: &Server, path: &str, token: &str, field: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = server.json(path, token);
        if !v[field].is_null() {
            return v[field].clone();
        }
        assert!(Instant::now() < deadline, "{path} never had {field}: {v}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Copies the SQLite database and the checkpoint file kept beside it (no process has them
/// open): what an operator restoring an old backup of the whole data directory puts back.
fn copy_state(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["anxin.db", "anxin.db-wal", "anxin.db-shm", "checkpoint"] {
        let (f, t) = (from.join(name), to.join(name));
        let _ = std::fs::remove_file(&t);
        if f.exists() {
            std::fs::copy(&f, &t).unwrap();
        }
    }
}

/// Polls `path` on `server` until `done` holds of its JSON, or fails with the servers' log.
fn wait_for(
    server: &Server,
    path: &str,
    token: &str,
    log: &Path,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = server.json(path, token);
        if done(&v) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "{path} not as expected in time: {v}\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The size of `peer`'s log this instance's witness last cosigned (`GET /api/witness`).
fn seen_of(status: &serde_json::Value, peer: &str) -> Option<u64> {
    status["seen"]
        .as_array()?
        .iter()
        .find(|s| s["peer"] == peer)?["size"]
        .as_u64()
}

/// The size of this log each witness last cosigned, by witness.
fn cosigned_of(status: &serde_json::Value) -> Vec<(String, u64)> {
    status["cosigned_by"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| {
                    (
                        c["witness"].as_str().unwrap_or_default().to_string(),
                        c["size"].as_u64().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Witnesses (issue 14, C2SP tlog-witness and tlog-cosignature), three real servers on
/// loopback: 杭州 and 阜阳 on SQLite, the province (安徽) on PostgreSQL. Each cosigns the
/// others' checkpoints after checking they extend the last one it cosigned, and serves its own
/// checkpoint with their cosignatures; a worker's certificate downloaded again carries them and
/// `anxin verify --witness` checks them offline. 阜阳's operator then puts back an old copy of
/// its whole data directory (database and checkpoint file together, so 阜阳's own audit has
/// nothing to compare with): both other witnesses refuse the smaller checkpoint and keep it as
/// a rollback alarm, and 阜阳 learns from their answers that its log is behind what they
/// cosigned. Malformed and unknown requests are refused with their reason.
#[test]
fn witnesses_cosign_each_others_logs_and_catch_a_rollback() {
    use anxin_service::transfer::witness::verify_cosignature;
    let root = support::scratch("federation", "witness");
    let database = format!("anxin_witness_{}", std::process::id());
    let _ = psql_output("postgres", &format!("DROP DATABASE IF EXISTS {database}"));
    psql("postgres", &format!("CREATE DATABASE {database}"));
    let ah_url = format!("{POSTGRES}/{database}");
    let log = root.join("servers.log");
    let (hz_port, fy_port, ah_port) = (free_port(), free_port(), free_port());
    let hz = instance(&root, "hangzhou", "330100", None);
    let fy = instance(&root, "fuyang", "341200", None);
    let ah = instance(&root, "anhui", "340000", Some(&ah_url));
    let hz_entry = entry(&hz, "hangzhou", hz_port, "330100");
    let fy_entry = entry(&fy, "fuyang", fy_port, "341200");
    let ah_entry = entry(&ah, "anhui", ah_port, "340000");
    assert!(hz_entry.contains("witness_key = "), "{hz_entry}");
    std::fs::write(hz.join("peers.toml"), format!("{fy_entry}{ah_entry}")).unwrap();
    std::fs::write(fy.join("peers.toml"), format!("{hz_entry}{ah_entry}")).unwrap();
    std::fs::write(ah.join("peers.toml"), format!("{hz_entry}{fy_entry}")).unwrap();
    let import_persons = |data: &Path, first: u32| {
        let mut csv =
            String::from("身份证号,姓名,户籍地,居住地,就业形态,平台,居住证地,居住证起始\n");
        for (i, name) in ["张一", "张二", "张三"].iter().enumerate() {
            let i = i as u32;
            csv.push_str(&format!(
                "{},{name},阜阳,阜阳,灵活就业,,,\n",
                id(&format!("341202198506{:02}{:03}", 10 + i, first + i))
            ));
        }
        let file = root.join(format!("persons-{first}.csv"));
        std::fs::write(&file, csv).unwrap();
        ok(anxin(data, &["import", "persons", file.to_str().unwrap()]));
    };
    import_persons(&fy, 100);
    import_persons(&hz, 300);
    import_persons(&ah, 400);
    // A worker of 阜阳 with an account, and a certificate issued before anyone witnessed.
    let holder = id("34120219850610100");
    let mut account = anxin(
        &fy,
        &[
            "account", "add", "holder", "--role", "worker", "--person", &holder,
        ],
    );
    account.env("ANXIN_PASSWORD", PASSWORD);
    ok(account);
    let issued = ok(anxin(
        &fy,
        &[
            "--json",
            "cert",
            "issue",
            &holder,
            "--out",
            root.to_str().unwrap(),
        ],
    ));
    let issued: serde_json::Value = serde_json::from_str(issued.trim()).unwrap();
    let code = issued["code"].as_str().unwrap().to_string();
    let unwitnessed = issued["certificate"].as_str().unwrap().to_string();
    // The backup the operator will put back later.
    let backup = root.join("fuyang-backup");
    copy_state(&fy, &backup);

    let hz_server = serve(&hz, "hangzhou", hz_port, &log);
    let fy_server = serve(&fy, "fuyang", fy_port, &log);
    let ah_server = serve(&ah, "anhui", ah_port, &log);
    let (hz_token, fy_token, ah_token) = (
        hz_server.sign_in(),
        fy_server.sign_in(),
        ah_server.sign_in(),
    );
    let size_of = |note: &str| -> u64 { note.lines().nth(1).unwrap().parse().unwrap() };
    let fy_head = || size_of(&fy_server.call("GET", "/log/checkpoint", None, b"").1);
    let first = fy_head();
    // Both witnesses cosigned 阜阳's head; 阜阳 keeps the cosignatures and serves them with
    // its checkpoint.
    for (server, token) in [(&hz_server, &hz_token), (&ah_server, &ah_token)] {
        wait_for(server, "/api/witness", token, &log, |v| {
            seen_of(v, "fuyang") >= Some(first)
        });
    }
    let hz_witness = hz_server.json("/api/witness", &hz_token);
    let ah_witness = ah_server.json("/api/witness", &ah_token);
    assert_eq!(hz_witness["name"], "hangzhou/witness", "{hz_witness}");
    // 阜阳's head cosigned by both (at the same size, so one checkpoint carries both).
    wait_for(&fy_server, "/api/witness", &fy_token, &log, |v| {
        let head = fy_head();
        let by = cosigned_of(v);
        by.len() == 2 && by.iter().all(|(_, size)| *size == head)
    });
    let (_, served) = fy_server.call("GET", "/log/checkpoint", None, b"");
    // The note's text: up to the blank line before the signatures.
    let body = &served[..=served.rfind("\n\n").unwrap()];
    for (name, status) in [
        ("hangzhou/witness", &hz_witness),
        ("anhui/witness", &ah_witness),
    ] {
        let line = served
            .lines()
            .find(|l| l.starts_with(&format!("\u{2014} {name} ")))
            .unwrap_or_else(|| panic!("no cosignature of {name}: {served}"));
        let key: [u8; 32] = base64_decode(status["public_key"].as_str().unwrap());
        verify_cosignature(name, &key, body, line).expect("the cosignature verifies");
    }
    // And the other way round: each instance's log witnessed by the two others.
    for (server, token, peers) in [
        (&fy_server, &fy_token, ["hangzhou", "anhui"]),
        (&hz_server, &hz_token, ["fuyang", "anhui"]),
        (&ah_server, &ah_token, ["hangzhou", "fuyang"]),
    ] {
        wait_for(server, "/api/witness", token, &log, |v| {
            peers.iter().all(|p| seen_of(v, p).is_some())
        });
    }

    // The holder downloads their certificate again: proven against the checkpoint both
    // witnesses cosigned, carrying both cosignatures, which `anxin verify --witness` checks
    // offline. The file issued before any witness is refused with the reason; the code's
    // page names the witnesses; a clerk may not download the holder's file.
    let holder_token = fy_server.sign_in_as("holder");
    let file_path = format!("/api/certificates/{code}/file");
    let (status, file) = fy_server.call("GET", &file_path, Some(&holder_token), b"");
    assert_eq!(status, 200, "{file}");
    let witnessed = root.join("witnessed.json");
    std::fs::write(&witnessed, &file).unwrap();
    let witness_args = [
        format!(
            "hangzhou/witness={}",
            hz_witness["public_key"].as_str().unwrap()
        ),
        format!(
            "anhui/witness={}",
            ah_witness["public_key"].as_str().unwrap()
        ),
    ];
    let verify = |file: &str| {
        let mut args = vec!["--lang", "en", "verify", file];
        for w in &witness_args {
            args.extend(["--witness", w.as_str()]);
        }
        anxin(&fy, &args).output().unwrap()
    };
    let out = verify(witnessed.to_str().unwrap());
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["hangzhou/witness", "anhui/witness"] {
        assert!(
            text.contains(&format!("witness {name} cosigned the checkpoint")),
            "{text}"
        );
    }
    let out = verify(&unwitnessed);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("no cosignature by witness hangzhou/witness"),
        "{text}"
    );
    let (status, body) = fy_server.call("GET", &format!("/api/certificates/{code}"), None, b"");
    assert_eq!(status, 200, "{body}");
    let checked: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(checked["ok"], true, "{body}");
    assert_eq!(
        checked["witnesses"],
        serde_json::json!(["anhui/witness", "hangzhou/witness"]),
        "{body}"
    );
    let (status, body) = fy_server.call("GET", &file_path, Some(&fy_token), b"");
    assert_eq!(status, 403, "{body}");

    // 阜阳 grows while it is down; back up, both witnesses cosign the larger log through
    // the consistency proof from the size each had cosigned.
    drop(fy_server);
    import_persons(&fy, 200);
    let fy_server = serve(&fy, "fuyang", fy_port, &log);
    let second = size_of(&fy_server.call("GET", "/log/checkpoint", None, b"").1);
    assert!(second > first);
    let mut cosigned = Vec::new();
    for (server, token) in [(&hz_server, &hz_token), (&ah_server, &ah_token)] {
        let v = wait_for(server, "/api/witness", token, &log, |v| {
            seen_of(v, "fuyang") >= Some(second)
        });
        cosigned.push(seen_of(&v, "fuyang").unwrap());
    }

    // The operator puts back the old copy: both witnesses refuse it as a rollback, with
    // 阜阳's own signed checkpoint as evidence; 阜阳 learns it is behind what they cosigned.
    drop(fy_server);
    copy_state(&backup, &fy);
    let fy_server = serve(&fy, "fuyang", fy_port, &log);
    let fy_token = fy_server.sign_in();
    for ((server, token), cosigned) in [(&hz_server, &hz_token), (&ah_server, &ah_token)]
        .into_iter()
        .zip(cosigned)
    {
        let alarms = wait_for(server, "/api/witness", token, &log, |v| {
            v["alarms"].as_array().is_some_and(|a| !a.is_empty())
        });
        let alarm = &alarms["alarms"][0];
        assert_eq!(alarm["peer"], "fuyang", "{alarms}");
        assert_eq!(alarm["kind"], "rollback", "{alarms}");
        assert_eq!(alarm["seen_size"].as_u64(), Some(cosigned), "{alarms}");
        assert!(alarm["size"].as_u64().unwrap() < cosigned, "{alarms}");
        assert!(
            alarm["en"].as_str().unwrap().contains("rolled back")
                && alarm["zh"].as_str().unwrap().contains("回滚"),
            "{alarms}"
        );
        assert!(
            alarm["checkpoint"]
                .as_str()
                .unwrap()
                .contains("\n\n\u{2014} ")
        );
        // The witness still holds the larger size: the rollback was not cosigned.
        assert_eq!(
            seen_of(&server.json("/api/witness", token), "fuyang"),
            Some(cosigned)
        );
    }
    let behind = wait_for(&fy_server, "/api/witness", &fy_token, &log, |v| {
        v["alarms"]
            .as_array()
            .is_some_and(|a| a.iter().filter(|x| x["kind"] == "behind").count() == 2)
    });
    assert!(
        behind["alarms"][0]["zh"]
            .as_str()
            .unwrap()
            .contains("本实例的日志被回滚了"),
        "{behind}"
    );

    // Bad requests: garbage (400), a checkpoint of no peer's log (404); nothing changes.
    let (status, body) = hz_server.call("POST", "/federation/v1/add-checkpoint", None, b"hello");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("tlog-witness"), "{body}");
    let (_, own) = hz_server.call("GET", "/log/checkpoint", None, b"");
    let request = format!("old 0\n\n{own}");
    let (status, body) = hz_server.call(
        "POST",
        "/federation/v1/add-checkpoint",
        None,
        request.as_bytes(),
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        hz_server.json("/api/witness", &hz_token)["alarms"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    drop((hz_server, fy_server, ah_server));
    let _ = psql_output("postgres", &format!("DROP DATABASE IF EXISTS {database}"));
    let _ = std::fs::remove_dir_all(&root);
}

fn base64_decode(text: &str) -> [u8; 32] {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
        .try_into()
        .unwrap()
}
