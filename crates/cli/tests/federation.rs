//! Transfers between real instances (issue 14): two `anxin serve` processes on loopback,
//! 杭州 on SQLite and 阜阳 on PostgreSQL (`ANXIN_TEST_POSTGRES`'s server, a database of its
//! own), each with its own data directory, port, federation key and peers file.
//!
//! 阜阳 is down when 杭州's clerk asks for the worker's pension; 杭州 is then killed (SIGKILL)
//! with the liaison request in its outbox; both come back and the transfer completes exactly
//! once: done at 杭州 with the 120 months, each state once in 阜阳's log. Messages that are
//! garbage, from an unknown peer or altered after signing are refused with their reason and
//! change nothing.

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
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    let mut child = anxin(
        data,
        &[
            "serve",
            "--addr",
            &addr,
            "--log",
            "info",
            "--federation-name",
            name,
            "--outbox-every",
            "1",
        ],
    )
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
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
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
fn a_transfer_between_two_servers_completes_once_through_kills_and_refuses_forgeries() {
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
    let entry = |data: &Path, name: &str, port: u16, region: &str| {
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
    };
    let hz_entry = entry(&hz, "hangzhou", hz_port, "330100");
    let fy_entry = entry(&fy, "fuyang", fy_port, "341200");
    std::fs::write(hz.join("peers.toml"), &fy_entry).unwrap();
    std::fs::write(fy.join("peers.toml"), &hz_entry).unwrap();

    // 阜阳 is down: 杭州's clerk asks; the request waits in the outbox. 杭州 is killed.
    let server = serve(&hz, "hangzhou", hz_port, &log);
    let token = server.sign_in();
    let ask = format!(r#"{{"person_id":"{worker}","from_region":"341200","to_region":"330100"}}"#);
    let (status, body) = server.call("POST", "/api/transfers", Some(&token), ask.as_bytes());
    assert_eq!(status, 201, "{body}");
    let started: serde_json::Value = serde_json::from_str(&body).unwrap();
    let transfer = started["id"].as_str().unwrap().to_string();
    assert_eq!(started["state"], "requested");
    assert_eq!(started["peer"], "fuyang");
    std::thread::sleep(Duration::from_millis(1500));
    let queue = server.json("/api/transfers", &token);
    assert_eq!(queue["items"][0]["id"], transfer.as_str(), "{queue}");
    drop(server);

    // Both come back: the transfer completes.
    let fy_server = serve(&fy, "fuyang", fy_port, &log);
    let hz_server = serve(&hz, "hangzhou", hz_port, &log);
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
    let fy_token = fy_server.sign_in();
    let origin = fy_server.json(&path, &fy_token);
    assert_eq!(origin["state"], "sealed", "{origin}");
    assert_eq!(origin["package"], done["package"]);
    // Exactly once: each state once in 阜阳's log, nothing left to send on either side.
    let steps = psql_output(
        &database,
        "SELECT key FROM events WHERE kind = 'transfer_step' ORDER BY seq",
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
    let (status, body) = hz_server.call(
        "POST",
        "/api/transfers",
        Some(&own),
        format!(r#"{{"person_id":"{other}","from_region":"341200","to_region":"330100"}}"#)
            .as_bytes(),
    );
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
    drop((hz_server, fy_server));
    let _ = psql_output("postgres", &format!("DROP DATABASE IF EXISTS {database}"));
    let _ = std::fs::remove_dir_all(&root);
}
