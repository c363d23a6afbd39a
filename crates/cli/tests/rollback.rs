//! A database put back from an older copy, or rolled back behind the system's back, fails the
//! audit — from the command line and through the server — also when the checkpoint file kept
//! outside the database was deleted with it, and when the only other witness is a checkpoint
//! or a certificate kept elsewhere. Writes made through the server advance that file too.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;
use support::{POSTGRES, anxin_in, psql, psql_output, scratch};

const WANG: &str = "341221199003150024";

fn example(kind: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../examples/records/{kind}.csv"))
        .to_str()
        .unwrap()
        .to_string()
}

fn import(data: &Path, kind: &str) {
    let report = data.join(format!("../{kind}.rejected.csv"));
    let (code, out, err) = anxin_in(
        data,
        &[
            "import",
            kind,
            &example(kind),
            "--report",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{kind}: {out}{err}");
}

fn audit(data: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["--lang", "en", "audit"];
    args.extend(extra);
    let (code, out, err) = anxin_in(data, &args);
    (code, format!("{out}{err}"))
}

/// Copies the SQLite database (and any WAL beside it; no process has it open).
fn copy_db(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let f = PathBuf::from(format!("{}{suffix}", from.display()));
        let t = PathBuf::from(format!("{}{suffix}", to.display()));
        let _ = std::fs::remove_file(&t);
        if f.exists() {
            std::fs::copy(&f, &t).unwrap();
        }
    }
}

#[test]
fn sqlite_rollback_with_the_checkpoint_file_deleted_fails_the_audit() {
    let root = scratch("rollback", "sqlite");
    let data = root.join("data");
    assert_eq!(anxin_in(&data, &["init"]).0, 0);
    for kind in ["orgs", "persons", "children"] {
        import(&data, kind);
    }
    let db = data.join("anxin.db");
    copy_db(&db, &root.join("old.db"));
    let old_checkpoint = std::fs::read_to_string(data.join("checkpoint")).unwrap();
    import(&data, "contributions");
    let (code, out, err) = anxin_in(
        &data,
        &[
            "cert",
            "issue",
            WANG,
            "--out",
            root.join("certs").to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let cert = std::fs::read_dir(root.join("certs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let new_checkpoint = std::fs::read_to_string(data.join("checkpoint")).unwrap();
    std::fs::write(root.join("later.checkpoint"), &new_checkpoint).unwrap();
    assert_eq!(audit(&data, &[]).0, 0);

    // Only the file deleted: the audit fails and says why.
    std::fs::remove_file(data.join("checkpoint")).unwrap();
    let (code, out) = audit(&data, &[]);
    assert_eq!(code, 7, "{out}");
    assert!(
        out.contains("is missing") && out.contains("could not be detected"),
        "{out}"
    );
    let (code, out, _) = anxin_in(&data, &["--lang", "zh", "audit"]);
    assert_eq!(code, 7);
    assert!(
        out.contains("库外保存的检查点文件") && out.contains("不见了"),
        "{out}"
    );

    // The issue's scenario: the older copy put back and the checkpoint file deleted.
    copy_db(&root.join("old.db"), &db);
    let (code, out) = audit(&data, &[]);
    assert_eq!(code, 7, "the rollback must fail the audit:\n{out}");
    assert!(out.contains("is missing"), "{out}");

    // The file put back: the rollback is named.
    std::fs::write(data.join("checkpoint"), &new_checkpoint).unwrap();
    let (code, out) = audit(&data, &[]);
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("the log was cut or rolled back"), "{out}");

    // The older file put back with the older database: consistent with each other, but a
    // checkpoint or a certificate kept elsewhere catches it.
    std::fs::write(data.join("checkpoint"), &old_checkpoint).unwrap();
    assert_eq!(audit(&data, &[]).0, 0, "the older pair agrees with itself");
    let later = root.join("later.checkpoint");
    let (code, out) = audit(&data, &["--checkpoint", later.to_str().unwrap()]);
    assert_eq!(code, 7, "{out}");
    assert!(
        out.contains(&format!("({})", later.display())) && out.contains("cut or rolled back"),
        "{out}"
    );
    let (code, out) = audit(&data, &["--certificate", cert.to_str().unwrap()]);
    assert_eq!(code, 7, "{out}");
    assert!(
        out.contains("(certificate ") && out.contains("cut or rolled back"),
        "{out}"
    );
    // A checkpoint that is not one is refused as bad input, not taken as a pass.
    std::fs::write(root.join("junk"), "not a checkpoint").unwrap();
    let (code, out) = audit(
        &data,
        &["--checkpoint", root.join("junk").to_str().unwrap()],
    );
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("does not verify"), "{out}");
    let (code, _) = audit(
        &data,
        &["--certificate", root.join("junk").to_str().unwrap()],
    );
    assert_eq!(code, 2);
}

fn head_size(db: &str) -> u64 {
    let out = psql_output(db, "SELECT size FROM head");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.trim().parse().ok())
        .unwrap()
}

#[test]
fn postgres_rollback_to_an_older_dump_fails_the_audit() {
    let db = format!("anxin_rollback_{}", std::process::id());
    psql("postgres", &format!("DROP DATABASE IF EXISTS {db}"));
    psql("postgres", &format!("CREATE DATABASE {db}"));
    let root = scratch("rollback", "pg");
    let data = root.join("data");
    let url = format!("{POSTGRES}/{db}");
    let (code, out, err) = anxin_in(&data, &["init", "--database", &url]);
    assert_eq!(code, 0, "{out}{err}");
    for kind in ["orgs", "persons", "children"] {
        import(&data, kind);
    }
    let dump = root.join("old.sql");
    let out = Command::new("pg_dump")
        .args(["-d", &url, "-f", dump.to_str().unwrap()])
        .output()
        .expect("pg_dump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    import(&data, "contributions");
    assert_eq!(audit(&data, &[]).0, 0);

    // The older dump restored, the checkpoint file deleted: the audit fails.
    psql("postgres", &format!("DROP DATABASE {db}"));
    psql("postgres", &format!("CREATE DATABASE {db}"));
    let out = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &url,
            "-f",
            dump.to_str().unwrap(),
        ])
        .output()
        .expect("psql");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = std::fs::read_to_string(data.join("checkpoint")).unwrap();
    std::fs::remove_file(data.join("checkpoint")).unwrap();
    let (code, out) = audit(&data, &[]);
    assert_eq!(code, 7, "the older dump must fail the audit:\n{out}");
    assert!(out.contains("is missing"), "{out}");
    std::fs::write(data.join("checkpoint"), &kept).unwrap();
    let (code, out) = audit(&data, &[]);
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("cut or rolled back"), "{out}");

    // The equivalent rollback in place: the newest entries deleted with the triggers
    // disabled, and the head set back to an older signed one.
    psql("postgres", &format!("DROP DATABASE {db}"));
    psql("postgres", &format!("CREATE DATABASE {db}"));
    let root2 = scratch("rollback", "pg2");
    let data2 = root2.join("data");
    assert_eq!(anxin_in(&data2, &["init", "--database", &url]).0, 0);
    for kind in ["orgs", "persons", "children"] {
        import(&data2, kind);
    }
    let keep = head_size(&db);
    import(&data2, "contributions");
    assert!(head_size(&db) > keep);
    psql(
        &db,
        &format!(
            "SET session_replication_role = replica;
             DELETE FROM events WHERE seq >= {keep}; DELETE FROM contribution_rows WHERE seq >= {keep};
             DELETE FROM checkpoints WHERE size > {keep};
             UPDATE head SET size = {keep}, checkpoint = (SELECT text FROM checkpoints WHERE size = {keep})"
        ),
    );
    std::fs::remove_file(data2.join("checkpoint")).unwrap();
    let (code, out) = audit(&data2, &[]);
    assert_eq!(code, 7, "the rollback must fail the audit:\n{out}");
    assert!(out.contains("is missing"), "{out}");
    psql("postgres", &format!("DROP DATABASE {db}"));
}

struct Server {
    child: Child,
    addr: String,
}

fn start(data: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> (Server, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args(["--today", "2026-11", "--data"])
        .arg(data)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("ANXIN_POLICY")
        .env_remove("ANXIN_DATA_KEY")
        .env_remove("ANXIN_DATA")
        .env_remove("ANXIN_CONFIG")
        .env_remove("ANXIN_ADDR")
        .env_remove("ANXIN_DEMO_WORKERS")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start anxin serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut before = Vec::new();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("anxin serve ended before it printed its address:\n{err}");
        };
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
        before.push(line);
    };
    (Server { child, addr }, before)
}

impl Server {
    /// One HTTP/1.1 request: (status, body).
    fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        ct: &str,
        body: &str,
    ) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response[9..12].parse().unwrap();
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        // Chunked bodies: the JSON is all the test needs; keep from the first brace.
        let body = body
            .find('{')
            .map(|i| &body[i..body.rfind('}').map_or(body.len(), |j| j + 1)])
            .unwrap_or(body);
        (status, body.to_string())
    }

    fn terminate(mut self) -> String {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let started = Instant::now();
        loop {
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                let _ = self.child.kill();
                panic!("anxin serve did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut err = String::new();
        let _ = self.child.stderr.take().unwrap().read_to_string(&mut err);
        err
    }
}

fn checkpoint_size(data: &Path) -> u64 {
    std::fs::read_to_string(data.join("checkpoint"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

fn sqlite3(db: &Path, sql: &str) {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 tool");
    assert!(
        out.status.success(),
        "sqlite3 {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn writes_through_the_server_advance_the_checkpoint_and_a_rollback_behind_its_back_is_caught() {
    let root = scratch("rollback", "server");
    let data = root.join("data");
    assert_eq!(anxin_in(&data, &["init"]).0, 0);
    for kind in ["orgs", "persons", "children"] {
        import(&data, kind);
    }
    let (code, out, err) = anxin_in(
        &data,
        &[
            "account", "add", "clerk.hz", "--role", "clerk", "--region", "330100",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    // The head before the server writes, kept aside to roll back to.
    let db = data.join("anxin.db");
    sqlite3(&db, "CREATE TABLE old_head AS SELECT * FROM head");
    let before = checkpoint_size(&data);

    let (server, _) = start(&data, &[], &[]);
    let (status, body) = server.send(
        "POST",
        "/api/sessions",
        None,
        "application/json",
        &format!(
            r#"{{"username":"clerk.hz","password":"{}"}}"#,
            support::PASSWORD
        ),
    );
    assert_eq!(status, 201, "{body}");
    let token: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    // An import through the server.
    let csv = std::fs::read_to_string(example("contributions")).unwrap();
    let (status, body) = server.send(
        "POST",
        "/api/imports?kind=contributions&name=c.csv",
        Some(&token),
        "text/csv",
        &csv,
    );
    assert_eq!(status, 202, "{body}");
    let job: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = job["id"]
        .as_str()
        .map(String::from)
        .unwrap_or_else(|| job["id"].to_string());
    let mut finished = false;
    for _ in 0..400 {
        let (_, body) = server.send(
            "GET",
            &format!("/api/imports/{id}"),
            Some(&token),
            "application/json",
            "",
        );
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if v["finished"] == true {
            // The example file holds two rows the ledger refuses.
            assert_eq!(v["counts"]["added"], 32, "{v}");
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(finished, "the import finished");
    let after_import = checkpoint_size(&data);
    assert_eq!(
        after_import,
        before + 32,
        "the server's import advanced the checkpoint file"
    );
    // A read with a stated purpose: the access row's entry advances it too.
    let (status, body) = server.send(
        "POST",
        "/api/persons/lookup",
        Some(&token),
        "application/json",
        &format!(r#"{{"id":"{WANG}","purpose":"办理转移接续"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(checkpoint_size(&data), after_import + 1);
    let (status, body) = server.send(
        "POST",
        "/api/audit",
        Some(&token),
        "application/json",
        r#"{"projections":true}"#,
    );
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["clean"], true, "{body}");
    assert_eq!(report["access_rows"], 1, "{body}");

    // Rolled back behind the running server's back, with sqlite3.
    sqlite3(
        &db,
        &format!(
            "DROP TRIGGER access_log_no_delete; DELETE FROM access_log;
             DELETE FROM events WHERE seq >= {before}; DELETE FROM contribution_rows WHERE seq >= {before};
             DELETE FROM checkpoints WHERE size > {before};
             UPDATE head SET size = o.size, root = o.root, frontier = o.frontier, checkpoint = o.checkpoint FROM old_head o;"
        ),
    );
    let (status, body) = server.send(
        "POST",
        "/api/audit",
        Some(&token),
        "application/json",
        r#"{"projections":true}"#,
    );
    assert_eq!(status, 200, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        report["clean"], false,
        "the API audit catches the rollback: {body}"
    );
    assert!(body.contains("the log was cut or rolled back"), "{body}");
    // The checkpoint file gone as well: the API says so.
    let kept = std::fs::read_to_string(data.join("checkpoint")).unwrap();
    std::fs::remove_file(data.join("checkpoint")).unwrap();
    let (_, body) = server.send("POST", "/api/audit", Some(&token), "application/json", "");
    assert!(
        body.contains("is missing") && body.contains("不见了"),
        "{body}"
    );
    std::fs::write(data.join("checkpoint"), &kept).unwrap();
    server.terminate();
    let (code, out) = audit(&data, &[]);
    assert_eq!(code, 7, "the CLI audit catches it too:\n{out}");
    assert!(out.contains("the log was cut or rolled back"), "{out}");
}

#[cfg(unix)]
#[test]
fn the_demo_directory_is_private_and_gone_after_a_graceful_stop() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = scratch("rollback", "demo");
    let (server, lines) = start(
        &tmp.join("no-data-here"),
        &["--demo", "--demo-workers", "5"],
        &[("TMPDIR", tmp.to_str().unwrap())],
    );
    let dir = lines
        .iter()
        .find_map(|l| l.split("数据目录 data: ").nth(1))
        .map(|d| PathBuf::from(d.trim()))
        .unwrap_or_else(|| panic!("the demo names its directory:\n{}", lines.join("\n")));
    assert!(dir.starts_with(&tmp), "{}", dir.display());
    assert!(dir.join("keys/log.skey").exists());
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the demo directory is private");
    // Serving (its signal handlers installed), then stopped.
    let (status, _) = server.send("GET", "/healthz", None, "text/plain", "");
    assert_eq!(status, 200);
    let stderr = server.terminate();
    assert!(
        !dir.exists(),
        "the demo directory is removed after SIGTERM:\n{stderr}"
    );
    assert!(stderr.contains("demo data directory removed"), "{stderr}");
}
