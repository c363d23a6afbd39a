//! `anxin serve` as an operator runs it: settings from a config file that the environment and
//! the command line override, a clear refusal of a bad file, structured logs on stderr, and a
//! graceful stop on SIGTERM.

use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod support;

/// `anxin ARGS…` with only `env` of anxin's variables set, so the caller's environment
/// changes nothing.
fn anxin(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = support::command(args);
    c.envs(env.iter().copied());
    c
}

/// A folder of its own for one test, with `anxin.toml` holding `config`.
fn folder(name: &str, config: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("anxin-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("anxin.toml"), config).unwrap();
    dir
}

struct Server {
    child: Child,
    addr: String,
}

/// Starts the server and waits for the address it prints.
fn start(mut command: Command) -> Server {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start anxin serve");
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let Some(Ok(line)) = lines.next() else {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("anxin serve ended before it printed its address:\n{err}");
        };
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    Server { child, addr }
}

impl Server {
    /// `GET path`: the whole response.
    fn get(&self, path: &str) -> String {
        let mut stream = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    /// Sends SIGTERM; gives the exit code and everything written to stderr.
    fn terminate(mut self) -> (Option<i32>, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("anxin serve did not stop within 30 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (status.code(), err)
    }
}

/// Starts the server, asks for `/healthz` (a 200), stops it with SIGTERM (exit 0); gives the
/// answer and stderr.
fn healthz_then_stop(command: Command) -> (String, String) {
    let server = start(command);
    let health = server.get("/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let (code, stderr) = server.terminate();
    assert_eq!(code, Some(0), "a graceful stop exits 0:\n{stderr}");
    (health, stderr)
}

fn json_events(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect()
}

#[test]
fn sigterm_stops_the_server_gracefully_and_the_log_says_so() {
    let dir = folder("sigterm", "");
    let (health, stderr) = healthz_then_stop(anxin(
        &["serve", "--addr", "127.0.0.1:0", "--log-format", "json"],
        &[("ANXIN_DATA", dir.join("none").to_str().unwrap())],
    ));
    let request_id = health
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap_or_else(|| panic!("no x-request-id: {health}"))
        .trim()
        .to_string();
    let events = json_events(&stderr);
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "no records: serving the calculators only",
            "listening",
            "request",
            "graceful shutdown begun",
            "graceful shutdown finished"
        ],
        "{stderr}"
    );
    assert_eq!(events[0]["level"], "WARN");
    assert!(
        events[1]["addr"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert_eq!(events[2]["route"], "/healthz");
    assert_eq!(events[2]["status"], 200);
    assert_eq!(events[2]["request_id"], request_id.as_str());
    assert_eq!(events[3]["signal"], "SIGTERM");
    assert!(
        events
            .iter()
            .all(|e| e["target"] == "anxin::server" || e["target"] == "anxin::http")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_environment_and_the_command_line_override_the_config_file() {
    let dir = folder(
        "precedence",
        "[server]\naddr = \"not an address\"\ndata = \"missing\"\nlog = \"warn\"\nlog_format = \"text\"\n",
    );
    let config = dir.join("anxin.toml");
    let config = config.to_str().unwrap();

    // The environment's address beats the file's; the file's log settings beat the defaults.
    let (_, stderr) = healthz_then_stop(anxin(
        &["serve", "--config", config],
        &[("ANXIN_ADDR", "127.0.0.1:0")],
    ));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "warn: no INFO events:\n{stderr}");
    assert!(
        lines[0].contains(" WARN anxin::server: no records: serving the calculators only")
            && lines[0].contains(&format!(
                "data={}",
                Path::new(&dir).join("missing").display()
            )),
        "text format, the data folder from the file, relative to it:\n{stderr}"
    );

    // The command line's address beats the environment's; the environment's format and the
    // command line's level beat the file's.
    let (_, stderr) = healthz_then_stop(anxin(
        &["serve", "--addr", "127.0.0.1:0", "--log", "info"],
        &[
            ("ANXIN_CONFIG", config),
            ("ANXIN_ADDR", "also not an address"),
            ("ANXIN_LOG_FORMAT", "json"),
        ],
    ));
    let events = json_events(&stderr);
    assert!(
        events
            .iter()
            .any(|e| e["message"] == "request" && e["level"] == "INFO"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_config_file_is_refused_clearly() {
    let dir = folder(
        "refused",
        "[server]\naddr = \"127.0.0.1:0\"\nadress = \"127.0.0.1:1\"\n",
    );
    let config = dir.join("anxin.toml");
    let out = anxin(&["serve", "--config", config.to_str().unwrap()], &[])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("第 3 行：不认识的设置 adress；可用的设置：`addr`、`data`")
            && stderr.contains("line 3: unknown field `adress`, expected one of `addr`, `data`"),
        "{stderr}"
    );

    let out = anxin(&["serve"], &[("ANXIN_CONFIG", "/no/such/anxin.toml")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("读不到配置文件 /no/such/anxin.toml")
            && stderr.contains("cannot read the config file /no/such/anxin.toml"),
        "{stderr}"
    );

    let out = anxin(&["serve", "--addr", "8080"], &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'8080' is not HOST:PORT"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_server_runs_the_inbox_on_a_schedule_and_stops_it_gracefully() {
    let server = start(anxin(
        &[
            "serve",
            "--demo",
            "--demo-workers",
            "30",
            "--addr",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--inbox-every",
            "1",
        ],
        &[],
    ));
    // Two rounds at least: one at start, one a second later.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(server.get("/healthz").starts_with("HTTP/1.1 200"));
    let (code, stderr) = server.terminate();
    assert_eq!(code, Some(0), "a graceful stop exits 0:\n{stderr}");
    let events = json_events(&stderr);
    let message = |e: &serde_json::Value| e["message"].as_str().unwrap_or("").to_string();
    let rounds: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| message(e) == "inbox round")
        .collect();
    assert!(rounds.len() >= 2, "{stderr}");
    for r in &rounds {
        assert!(r["persons"].as_u64().unwrap() >= 30, "{stderr}");
        assert_eq!(r["webhook"], false, "the demo has no webhook");
    }
    let position = |m: &str| events.iter().position(|e| message(e) == m);
    let started = position("inbox runs in the server").expect("said at start");
    let finished = position("graceful shutdown finished").expect("graceful");
    let stopped = position("inbox stopped").expect("the inbox stops");
    assert!(started < finished && finished < stopped, "{stderr}");
    // Off unless asked for: the other tests' servers run no inbox.
}
