//! The pages as a person on a phone uses them: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, which `.ci/run` installs) driven over WebDriver against
//! `anxin serve --demo`, in a 360×800 window.
//!
//! - a worker signs in, lands on their record, gets a quote, issues a certificate and opens its
//!   printable page (code and QR code), downloads the file; signed out, the code typed on
//!   `/verify` and the QR code's address show it genuine, an altered code is refused, the file
//!   verifies offline and a changed or damaged copy fails;
//! - a worker who opens another worker's record is refused;
//! - a clerk finds a person by resident ID, stating why, and sees the ID masked; the worker then
//!   sees that read under "谁查阅过我的记录";
//! - the English switch works;
//! - the platform reads its report (masked IDs, as wide as the phone) and its next page;
//! - on `anxin federation demo` (杭州 and 阜阳, two processes): the worker who moved asks at
//!   杭州 to move their pension from 阜阳, follows each step to the end, reads where their
//!   pension will be claimed, downloads the transfer voucher, which `anxin transfer voucher`
//!   verifies offline (and refuses once altered), and finds a message of each step in their
//!   inbox; 杭州's clerk sees the queue and the transfer.
//!
//! Every page is saved as a PNG in `target/screenshots/browser/` (or `$CARGO_TARGET_DIR/…`).
//! A failed step names itself and prints the URL, title and text the browser showed, with a
//! `FAILED-….png` beside the others.
//!
//! The WebDriver client is the few commands needed, over plain HTTP on loopback (no crate).
//! Set `ANXIN_CHROMIUM` / `ANXIN_CHROMEDRIVER` to use other binaries; `ANXIN_SKIP_BROWSER=1`
//! skips the test on a machine without a browser (CI never sets it).

use std::io::{BufRead as _, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long one step waits for what it expects before it fails.
const PATIENCE: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);
/// A phone.
const WIDTH: u32 = 360;
const HEIGHT: u32 = 800;

type Step<T = ()> = Result<T, String>;

/// Kills a child process this test started when the test ends, passed or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---- the demo server ----

struct Demo {
    base: String,
    /// (username, password, role), as printed.
    accounts: Vec<(String, String, String)>,
    /// Sample resident IDs, in printed order (worker1 owns the first).
    samples: Vec<String>,
    /// The demo's data directory, as printed.
    data: String,
    process: Killed,
}

/// The server is killed (SIGKILL), so it cannot remove its demo directory as it does on
/// SIGTERM: the test does, after it.
impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.process.0.kill();
        let _ = self.process.0.wait();
        if self.data.contains("anxin-demo-") {
            let _ = std::fs::remove_dir_all(&self.data);
        }
    }
}

impl Demo {
    fn password(&self, username: &str) -> &str {
        self.accounts
            .iter()
            .find(|(u, _, _)| u == username)
            .map(|(_, p, _)| p.as_str())
            .unwrap_or_else(|| panic!("the demo prints no account {username}: {:?}", self.accounts))
    }
}

fn start_demo(workers: u32) -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args(["--today", "2026-10", "serve", "--demo", "--demo-workers"])
        .arg(workers.to_string())
        .args(["--addr", "127.0.0.1:0"])
        .env_remove("ANXIN_POLICY")
        .env_remove("ANXIN_DATA_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start anxin serve --demo");
    let stdout = child.stdout.take().unwrap();
    let process = Killed(child);
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut printed = String::new();
    let (mut samples, mut accounts) = (Vec::new(), Vec::new());
    let mut data = String::new();
    let mut section = "";
    let base = loop {
        let Some(Ok(line)) = lines.next() else {
            panic!("anxin serve --demo ended before it printed its address:\n{printed}");
        };
        printed.push_str(&line);
        printed.push('\n');
        if let Some(rest) = line.split("http://").nth(1) {
            break format!("http://{}", rest.split_whitespace().next().unwrap());
        }
        if let Some(dir) = line.split("数据目录 data: ").nth(1) {
            data = dir.trim().to_string();
        }
        if line.contains("try these IDs") {
            section = "ids";
        } else if line.contains("demo accounts") {
            section = "accounts";
        } else if let Some(row) = line.strip_prefix("    ") {
            let words: Vec<&str> = row.split_whitespace().collect();
            match (section, words.as_slice()) {
                ("ids", [id, ..]) => samples.push(id.to_string()),
                ("accounts", [user, password, role, ..]) => {
                    accounts.push((user.to_string(), password.to_string(), role.to_string()))
                }
                _ => {}
            }
        }
    };
    // Keep the pipe drained so the server never blocks on a full stdout.
    std::thread::spawn(move || for _ in lines {});
    assert!(
        samples.len() >= 3 && accounts.len() >= 4,
        "could not read the sample IDs and demo accounts from:\n{printed}"
    );
    Demo {
        base,
        accounts,
        samples,
        data,
        process,
    }
}

// ---- a minimal WebDriver client ----

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A free loopback port whose next one is free too (the federation demo listens on both).
fn free_port_pair() -> u16 {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        let port = first.local_addr().expect("its address").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
}

/// One HTTP/1.1 exchange with the driver: (status, JSON body).
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Step<(u16, Value)> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let (status, _, content) =
        exchange(addr, method, path, "application/json; charset=utf-8", &body)?;
    Ok((
        status,
        serde_json::from_slice(&content).unwrap_or(Value::Null),
    ))
}

/// An HTTP answer: status, headers (names in lower case), body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// One HTTP/1.1 exchange.
fn exchange(addr: &str, method: &str, path: &str, content_type: &str, body: &str) -> Step<Answer> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("{method} {path}: {e}"))?;
    // The driver keeps the connection open whatever the request asks, so the answer is read
    // by its length, not to the end of the stream.
    let fail = |e: std::io::Error| format!("{method} {path}: {e}");
    let mut reader = std::io::BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).map_err(fail)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (mut length, mut chunked, mut headers) = (None, false, Vec::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(fail)? == 0 || line.trim().is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or((&line, ""));
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
        match name.as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
        headers.push((name, value));
    }
    let mut content = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).map_err(fail)?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|e| format!("{method} {path}: bad chunk size: {e}"))?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).map_err(fail)?;
            if size == 0 {
                break;
            }
            content.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(n) = length {
        content.resize(n, 0);
        reader.read_exact(&mut content).map_err(fail)?;
    } else {
        reader.read_to_end(&mut content).map_err(fail)?;
    }
    Ok((status, headers, content))
}

/// The W3C name of an element reference in JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    driver: String,
    session: String,
    shots: PathBuf,
    downloads: PathBuf,
    shot_count: u32,
    _chromedriver: Killed,
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends Chromium; the driver itself is killed after.
        let _ = http(
            &self.driver,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
        // The profile and downloads (the screenshots are kept elsewhere).
        if let Some(scratch) = self.downloads.parent() {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

fn binary(var: &str, default: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p));
    }
    if Path::new(default).is_file() {
        return Some(default.into());
    }
    names.iter().find_map(|n| which(n))
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots").join("browser")
}

impl Browser {
    fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = free_port();
        let driver = format!("127.0.0.1:{port}");
        let process = Killed(
            Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display())),
        );
        let started = Instant::now();
        loop {
            let ready = http(&driver, "GET", "/status", None)
                .is_ok_and(|(status, v)| status == 200 && v["value"]["ready"] == true);
            if ready {
                break;
            }
            assert!(
                started.elapsed() < PATIENCE,
                "{} did not answer on {driver} within {PATIENCE:?}",
                chromedriver.display()
            );
            std::thread::sleep(POLL);
        }
        let scratch = std::env::temp_dir().join(format!("anxin-browser-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        let downloads = scratch.join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let shots = screenshot_dir();
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots).unwrap();
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new",
                    // CI runs as root in a container: Chromium's sandbox cannot start there.
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--no-first-run",
                    "--hide-scrollbars",
                    format!("--window-size={WIDTH},{HEIGHT}"),
                    format!("--user-data-dir={}", scratch.join("profile").display()),
                ],
                // A phone's screen: 360×800 CSS pixels, touch, the mobile viewport rules.
                "mobileEmulation": {"deviceMetrics": {
                    "width": WIDTH, "height": HEIGHT, "pixelRatio": 1, "touch": true, "mobile": true,
                }},
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                    "safebrowsing.enabled": false,
                },
            },
        }}});
        let (status, v) = http(&driver, "POST", "/session", Some(&capabilities))
            .unwrap_or_else(|e| panic!("new WebDriver session: {e}"));
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "Chromium did not start (HTTP {status}): {}",
                    v["value"]["message"]
                )
            })
            .to_string();
        Browser {
            driver,
            session,
            shots,
            downloads,
            shot_count: 0,
            _chromedriver: process,
        }
    }

    /// A session command; a WebDriver error becomes `Err` with its message.
    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Step<Value> {
        let full = format!("/session/{}{path}", self.session);
        let body = body.or_else(|| (method == "POST").then(|| json!({})));
        let (status, v) = http(&self.driver, method, &full, body.as_ref())?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "WebDriver {method} {path}: HTTP {status} {} {}",
                v["value"]["error"], v["value"]["message"]
            ))
        }
    }

    fn goto(&self, url: &str) -> Step {
        self.cmd("POST", "/url", Some(json!({ "url": url })))
            .map(|_| ())
            .map_err(|e| format!("opening {url}: {e}"))
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }

    fn script(&self, script: &str, args: Value) -> Step<Value> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// What a person reads on the page.
    fn text(&self) -> String {
        self.script(
            "return document.body ? document.body.innerText : ''",
            json!([]),
        )
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
    }

    fn source(&self) -> String {
        self.cmd("GET", "/source", None)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    }

    /// A step that did not go as expected: what the browser showed, and a screenshot of it.
    fn failed(&self, step: &str, why: &str) -> String {
        let shot = self.shots.join(format!("FAILED-{}.png", slug(step)));
        let saved = self
            .png()
            .and_then(|png| std::fs::write(&shot, png).map_err(|e| e.to_string()));
        let title = self
            .cmd("GET", "/title", None)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let text: String = self.text().chars().take(3000).collect();
        format!(
            "step “{step}” failed: {why}\n  URL:   {}\n  title: {title}\n  screenshot: {}\n  page text:\n{}\n",
            self.url(),
            match saved {
                Ok(()) => shot.display().to_string(),
                Err(e) => format!("(not saved: {e})"),
            },
            text.lines()
                .map(|l| format!("    | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }

    /// Waits until the page shows every one of `needles`.
    fn expect_text(&self, step: &str, needles: &[&str]) -> Step<String> {
        let started = Instant::now();
        loop {
            let text = self.text();
            let missing: Vec<&&str> = needles.iter().filter(|n| !text.contains(**n)).collect();
            if missing.is_empty() {
                return Ok(text);
            }
            if started.elapsed() > PATIENCE {
                return Err(self.failed(
                    step,
                    &format!("after {PATIENCE:?} the page still does not show {missing:?}"),
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the URL's path (and query) starts with `prefix`.
    fn expect_url(&self, step: &str, prefix: &str) -> Step<String> {
        let started = Instant::now();
        loop {
            let url = self.url();
            let path = url
                .strip_prefix("http://")
                .and_then(|rest| rest.find('/').map(|i| &rest[i..]));
            if let Some(path) = path.filter(|p| p.starts_with(prefix)) {
                return Ok(path.to_string());
            }
            if started.elapsed() > PATIENCE {
                return Err(self.failed(step, &format!("the URL never started with {prefix}")));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits for an element matching the CSS selector.
    fn find(&self, step: &str, css: &str) -> Step<String> {
        let started = Instant::now();
        loop {
            let found = self.cmd(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            );
            let id = found
                .as_ref()
                .ok()
                .and_then(|v| v[ELEMENT].as_str().map(String::from));
            if let Some(id) = id {
                return Ok(id);
            }
            if started.elapsed() > PATIENCE {
                let answer = match found {
                    Ok(v) => v.to_string(),
                    Err(e) => e,
                };
                return Err(self.failed(
                    step,
                    &format!("no element matches `{css}` (the driver said: {answer:.300})"),
                ));
            }
            std::thread::sleep(POLL);
        }
    }

    fn click(&self, step: &str, css: &str) -> Step {
        let id = self.find(step, css)?;
        self.cmd("POST", &format!("/element/{id}/click"), None)
            .map(|_| ())
            .map_err(|e| self.failed(step, &format!("clicking `{css}`: {e}")))
    }

    fn type_into(&self, step: &str, css: &str, text: &str) -> Step {
        let id = self.find(step, css)?;
        self.cmd("POST", &format!("/element/{id}/clear"), None)
            .and_then(|_| {
                self.cmd(
                    "POST",
                    &format!("/element/{id}/value"),
                    Some(json!({ "text": text })),
                )
            })
            .map(|_| ())
            .map_err(|e| self.failed(step, &format!("typing into `{css}`: {e}")))
    }

    fn png(&self) -> Step<Vec<u8>> {
        let v = self.cmd("GET", "/screenshot", None)?;
        base64_decode(v.as_str().unwrap_or_default())
    }

    /// Saves what the phone shows as `NN-name.png`.
    fn shot(&mut self, name: &str) -> Step {
        self.shot_count += 1;
        let path = self
            .shots
            .join(format!("{:02}-{name}.png", self.shot_count));
        let png = self.png().map_err(|e| self.failed(name, &e))?;
        std::fs::write(&path, png).map_err(|e| format!("write {}: {e}", path.display()))
    }

    /// Fails unless the page is no wider than the phone (nothing hidden off to the side).
    fn fits(&self, step: &str) -> Step {
        let wide = self.script(
            "return document.documentElement.scrollWidth - window.innerWidth",
            json!([]),
        )?;
        if wide.as_i64().is_none_or(|w| w > 0) {
            return Err(self.failed(
                step,
                &format!("the page is wider than the phone by {wide} px"),
            ));
        }
        Ok(())
    }

    /// Runs axe-core in the page and fails on any serious or critical violation. Without
    /// axe-core installed (`ANXIN_AXE`, or `target/npm/node_modules/axe-core/axe.min.js`, which
    /// `npm install --prefix target/npm axe-core` puts there) it says so and checks nothing.
    fn accessible(&self, step: &str) -> Step {
        let Some(found) = self.violations()? else {
            eprintln!("{step}: axe-core not installed, accessibility not checked");
            return Ok(());
        };
        if found.is_empty() {
            Ok(())
        } else {
            Err(self.failed(step, &format!("accessibility: {}", found.join("; "))))
        }
    }

    /// axe-core's serious and critical violations in the page; `None` without axe-core.
    fn violations(&self) -> Step<Option<Vec<String>>> {
        let Some(source) = axe_source() else {
            return Ok(None);
        };
        self.script(&source, json!([]))
            .map_err(|e| format!("loading axe-core: {e}"))?;
        let found = self.cmd(
            "POST",
            "/execute/async",
            Some(json!({"args": [], "script": "const done = arguments[arguments.length - 1];\
                axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations\
                .filter(v => v.impact === 'serious' || v.impact === 'critical')\
                .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`)))\
                .catch(e => done(['axe-core failed: ' + e]));"})),
        )?;
        Ok(Some(serde_json::from_value(found).unwrap_or_default()))
    }

    /// Signs in through the form, as a person does, and waits to leave the sign-in page.
    fn sign_in(&mut self, step: &str, base: &str, username: &str, password: &str) -> Step {
        self.find(step, "form[action=\"/login\"] input[name=username]")?;
        self.type_into(step, "input[name=username]", username)?;
        self.type_into(step, "input[name=password]", password)?;
        self.click(step, "form[action=\"/login\"] button")?;
        let started = Instant::now();
        loop {
            let url = self.url();
            let path = url
                .strip_prefix(base)
                .unwrap_or(&url)
                .split('?')
                .next()
                .unwrap_or("");
            if path != "/login" {
                return Ok(());
            }
            let text = self.text();
            if text.contains("登录表单必须从本站提交") || text.contains("用户名或密码不对")
            {
                return Err(self.failed(step, &format!("{username}'s sign-in was refused")));
            }
            if started.elapsed() > PATIENCE {
                return Err(self.failed(step, &format!("{username} stays on the sign-in page")));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Signs out with the button on the page, and waits for the home page it leads to.
    fn sign_out(&self, step: &str) -> Step {
        self.click(step, "form[action=\"/logout\"] button")?;
        let started = Instant::now();
        loop {
            let url = self.url();
            let path = url
                .strip_prefix("http://")
                .and_then(|rest| rest.find('/').map(|i| &rest[i..]));
            if path == Some("/") {
                return Ok(());
            }
            if started.elapsed() > PATIENCE {
                return Err(self.failed(step, "signing out did not lead to the home page"));
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits for a finished download named `name` and returns its bytes.
    fn downloaded(&self, step: &str, name: &str) -> Step<Vec<u8>> {
        let path = self.downloads.join(name);
        let started = Instant::now();
        loop {
            // Chromium writes `name.crdownload` and renames it when done.
            if let Some(bytes) = std::fs::read(&path).ok().filter(|b| !b.is_empty()) {
                return Ok(bytes);
            }
            if started.elapsed() > PATIENCE {
                let seen: Vec<String> = std::fs::read_dir(&self.downloads)
                    .map(|d| {
                        d.filter_map(|e| e.ok())
                            .map(|e| e.file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                return Err(self.failed(
                    step,
                    &format!(
                        "no {name} in {} (it holds {seen:?})",
                        self.downloads.display()
                    ),
                ));
            }
            std::thread::sleep(POLL);
        }
    }
}

/// axe-core's script, if installed (see [`Browser::accessible`]). Named by `ANXIN_AXE` (as
/// `scripts/test` does), it must be there: a check asked for is never skipped in silence.
fn axe_source() -> Option<String> {
    if let Some(path) = std::env::var_os("ANXIN_AXE") {
        return Some(std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "ANXIN_AXE names {}, which cannot be read: {e}",
                PathBuf::from(&path).display()
            )
        }));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/npm/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(path).ok()
}

fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn base64_decode(text: &str) -> Step<Vec<u8>> {
    let value = |c: u8| -> Step<u32> {
        Ok(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return Err(format!("not base64: {c:?}")),
        } as u32)
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    Ok(out)
}

// ---- the test ----

#[test]
fn a_person_on_a_phone_uses_the_pages() {
    let chromium = binary(
        "ANXIN_CHROMIUM",
        "/usr/bin/chromium",
        &["chromium", "chromium-browser"],
    );
    let chromedriver = binary(
        "ANXIN_CHROMEDRIVER",
        "/usr/bin/chromedriver",
        &["chromedriver"],
    );
    let (Some(chromium), Some(chromedriver)) = (chromium, chromedriver) else {
        if std::env::var_os("ANXIN_SKIP_BROWSER").is_some() {
            eprintln!("browser test skipped: ANXIN_SKIP_BROWSER is set and Chromium is missing");
            return;
        }
        panic!(
            "the browser test needs Chromium and its WebDriver: apt-get install chromium chromium-driver \
             (.ci/run does), or set ANXIN_CHROMIUM and ANXIN_CHROMEDRIVER, or ANXIN_SKIP_BROWSER=1 to skip"
        );
    };
    let demo = start_demo(300);
    let mut browser = Browser::start(&chromium, &chromedriver);
    if let Err(report) = walk(&mut browser, &demo) {
        panic!("{report}");
    }
    if let Err(report) = every_page_of_every_role(&mut browser, &demo) {
        panic!("{report}");
    }
    if let Err(report) = grid_walk(&mut browser, &demo) {
        panic!("{report}");
    }
    let federation = start_federation();
    if let Err(report) = transfer_walk(&mut browser, &federation) {
        panic!("{report}");
    }
    // Stopped as Ctrl-C stops it (a signal to its process group), the demo removes its data.
    let data = federation.data.clone();
    assert!(
        data.is_dir(),
        "the federation demo names its data directory"
    );
    drop(federation);
    assert!(
        !data.exists(),
        "the federation demo left its directory behind: {}",
        data.display()
    );
    eprintln!("screenshots: {}", browser.shots.display());
}

fn walk(b: &mut Browser, demo: &Demo) -> Step {
    let base = &demo.base;
    let at = |path: &str| format!("{base}{path}");

    // Worker 2 signs in once, to learn their record's address (what /me sends them to).
    let step = "worker2 finds their record's address";
    b.goto(&at("/me"))?;
    b.expect_url(step, "/login?next=/me")?;
    b.sign_in(step, base, "worker2", demo.password("worker2"))?;
    let other_record = b.expect_url(step, "/persons/")?;
    b.expect_text(step, &["我的社保记录"])?;
    b.sign_out(step)?;

    // a. Worker 1: sign in, own record, a quote, a certificate verified on the public page.
    let step = "sign-in page";
    b.goto(&at("/me"))?;
    b.expect_url(step, "/login?next=/me")?;
    b.expect_text(step, &["登录", "用户名", "密码"])?;
    b.shot("login")?;

    let step = "worker1 signs in and lands on their record";
    b.sign_in(step, base, "worker1", demo.password("worker1"))?;
    let record = b.expect_url(step, "/persons/")?;
    let own_id = &demo.samples[0];
    b.expect_text(
        step,
        &[
            "我的社保记录",
            own_id,
            "谁查阅过我的记录",
            "还没有工作人员查阅过你的记录",
        ],
    )?;
    if record == other_record {
        return Err(b.failed(step, "worker1 and worker2 got the same record address"));
    }
    // The record as cards with names: the platform by its registered name, places by name,
    // never a credit code or a region code in the worker's Chinese page.
    b.find(step, ".card dl")?;
    b.expect_text(step, &["（示例）", "最长连续", "杭州市"])?;
    let text = b.text();
    if text.contains("9133010000000001") || text.contains("330100") {
        return Err(b.failed(step, "the record shows a raw credit code or region code"));
    }
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("record")?;

    // The demo has paid through its day (the end of October 2026), so its inboxes are empty;
    // late in November, November is due: `anxin inbox run` on that day, beside the server.
    let step = "worker1 reads their messages";
    let run = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args(["--data", &demo.data, "inbox", "run", "--date", "2026-11-25"])
        .env_remove("ANXIN_DATA_KEY")
        .output()
        .map_err(|e| b.failed(step, &format!("anxin inbox run: {e}")))?;
    if !run.status.success() || !String::from_utf8_lossy(&run.stdout).contains("新增") {
        return Err(b.failed(step, &format!("anxin inbox run: {run:?}")));
    }
    b.goto(&at("/inbox"))?;
    b.expect_url(step, "/inbox")?;
    b.expect_text(step, &["我的消息", "缴费提醒", "2026-11-30", "标为已读"])?;
    b.fits(step)?;
    b.shot("inbox")?;
    b.click(step, "section.msg form button")?;
    b.expect_url(step, "/inbox")?;
    b.expect_text(step, &["已读"])?;
    b.shot("inbox-read")?;
    b.goto(&at(&record))?;

    let step = "worker1 gets a quote";
    b.click(step, "li a[href^=\"/quote\"]")?;
    b.expect_url(step, "/quote")?;
    b.click(step, "select[name=region] option[value=\"330100\"]")?;
    b.type_into(step, "input[name=income]", "5000")?;
    b.click(step, "form[action=\"/quote\"] button")?;
    b.expect_url(step, "/quote?")?;
    b.expect_text(step, &["元/月", "杭州", "统筹基金", "个人账户"])?;
    if !b.url().contains("region=330100") || !b.url().contains("income=5000") {
        return Err(b.failed(step, "the quote's URL does not carry the region and income"));
    }
    b.fits(step)?;
    b.shot("quote")?;

    // The whole bill: pension and employee medical insurance, at the tier picked.
    let step = "worker1 picks a tier and sees the whole monthly bill";
    b.click(step, "select[name=tier] option[value=\"150\"]")?;
    b.click(step, "form[action=\"/quote\"] button")?;
    b.expect_url(step, "/quote?")?;
    b.expect_text(
        step,
        &["养老保险", "职工医保（灵活就业）", "150%", "怎么算的"],
    )?;
    b.fits(step)?;
    b.shot("quote-bill")?;

    // The school self-check, prefilled from the worker's own record.
    let step = "worker1 opens the school self-check";
    b.goto(&at("/school"))?;
    let text = b.expect_text(step, &["社保条件自查"])?;
    if text.contains("居住证满 0 年") {
        return Err(b.failed(step, "a ticked permit reads as 0 years"));
    }
    b.fits(step)?;
    b.shot("school-self-check")?;

    // Back-payment and medical options: reasons and eligibility readable on the phone.
    let step = "worker1 reads their back-payment and medical options";
    b.goto(&at(&format!("{record}/options")))?;
    b.expect_text(step, &["断缴的月份能不能补", "居民医保"])?;
    b.fits(step)?;
    b.shot("options")?;

    // The accessibility check finds what it should: an unlabelled field.
    let step = "axe-core finds an unlabelled field";
    b.goto("data:text/html,<!doctype html><html lang=en><title>t</title><main><input></main>")?;
    if b.violations()?
        .is_some_and(|found| !found.iter().any(|v| v.contains(" label:")))
    {
        return Err(b.failed(step, "axe-core did not report the unlabelled field"));
    }

    let step = "worker1 issues a certificate and opens its printable page";
    b.goto(&at(&record))?;
    b.click(
        step,
        &format!("form[action=\"{record}/certificate\"] button"),
    )?;
    b.expect_url(step, "/certificates/")?;
    b.expect_text(
        step,
        &["参保缴费凭证", "核验码", "累计缴费", "最长连续", "参保地"],
    )?;
    b.find(step, ".qr svg")?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("certificate-printable")?;
    let code = b
        .script(
            "return document.querySelector('p.code').textContent",
            json!([]),
        )?
        .as_str()
        .unwrap_or_default()
        .to_string();
    let qr_url = b
        .script(
            "return document.querySelector('.qr svg').getAttribute('aria-label')",
            json!([]),
        )?
        .as_str()
        .unwrap_or_default()
        .to_string();
    if code.len() != 19 || !qr_url.ends_with(&format!("/verify/{}", code.replace('-', ""))) {
        return Err(b.failed(step, &format!("code {code:?}, QR {qr_url:?}")));
    }
    b.script("window.scrollTo(0, document.body.scrollHeight)", json!([]))?;
    b.shot("certificate-printable-code")?;
    b.click(step, "a[href$=\"/file\"]")?;
    let certificate = b.downloaded(step, "certificate.json")?;
    let certificate = String::from_utf8(certificate).map_err(|e| b.failed(step, &e.to_string()))?;
    if !certificate.contains("\"signature\"") {
        return Err(b.failed(
            step,
            &format!("the download is not a certificate: {certificate:.300}"),
        ));
    }
    let masked = format!("{}**********{}", &own_id[..4], &own_id[14..]);

    // Signed out, like anyone the worker shows the paper to.
    let step = "the code typed on the public verify page";
    b.goto(&at(&record))?;
    b.sign_out(step)?;
    b.goto(&at("/verify"))?;
    b.expect_text(step, &["核验凭证", "核验码"])?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("verify-form")?;
    b.type_into(
        step,
        "form[action=\"/verify\"] input[name=code]",
        &code.to_lowercase(),
    )?;
    b.click(step, "form[action=\"/verify\"] button")?;
    b.expect_url(step, "/verify/")?;
    b.expect_text(step, &["凭证真实有效", &masked, "养老保险", "最长连续"])?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("verify-by-code")?;

    let step = "the QR code's address";
    b.goto(&qr_url)?;
    b.expect_text(step, &["凭证真实有效", &masked, &code])?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("verify-by-qr")?;

    let step = "an altered code is refused";
    let mut altered: Vec<char> = code.chars().collect();
    altered[0] = if altered[0] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    b.goto(&at("/verify"))?;
    b.type_into(step, "form[action=\"/verify\"] input[name=code]", &altered)?;
    b.click(step, "form[action=\"/verify\"] button")?;
    let text = b.expect_text(step, &["无法核验", "核验码有一位不对"])?;
    if text.contains(&masked) {
        return Err(b.failed(step, "an altered code shows the certificate"));
    }
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("verify-altered-code")?;

    let step = "the certificate file verifies offline on the public page";
    b.goto(&at("/verify"))?;
    paste(b, step, &certificate)?;
    b.click(step, "form[method=\"post\"][action^=\"/verify\"] button")?;
    let text = b.expect_text(step, &["凭证真实有效"])?;
    if !text.contains(&masked) {
        return Err(b.failed(step, &format!("the verdict does not name {masked}")));
    }
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("verify-genuine")?;

    let step = "a changed certificate file fails on the public page";
    let changed = certificate.replacen("\\\"paid_months\\\":", "\\\"paid_months\\\":1", 1);
    if changed == certificate {
        return Err(b.failed(step, "no paid_months field to change"));
    }
    paste(b, step, &changed)?;
    b.click(step, "form[method=\"post\"][action^=\"/verify\"] button")?;
    b.expect_text(step, &["凭证未通过核验"])?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("verify-changed")?;

    let step = "a damaged certificate fails on the public page";
    let damaged = damage(&certificate).ok_or_else(|| b.failed(step, "no signature to damage"))?;
    paste(b, step, &damaged)?;
    b.click(step, "form[method=\"post\"][action^=\"/verify\"] button")?;
    b.expect_text(step, &["凭证未通过核验"])?;
    b.shot("verify-damaged")?;

    // b. Worker 1 opens worker 2's record: refused.
    let step = "worker1 opens worker2's record";
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "worker1", demo.password("worker1"))?;
    b.expect_url(step, &record)?;
    b.goto(&at(&other_record))?;
    let text = b.expect_text(step, &["只能查看本人的记录"])?;
    let status = b.script(
        "return performance.getEntriesByType('navigation')[0].responseStatus",
        json!([]),
    )?;
    if status != 403 {
        return Err(b.failed(step, &format!("HTTP status {status}, not 403")));
    }
    if text.contains("我的社保记录") || text.contains("逐月明细") {
        return Err(b.failed(step, "worker2's record is shown to worker1"));
    }
    b.shot("other-record-refused")?;
    b.goto(&at(&record))?;
    b.sign_out(step)?;

    // c. A Hangzhou clerk finds worker 1 by resident ID, stating why.
    let step = "clerk searches by resident ID";
    let purpose = "办理转移接续 e2e";
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "clerk.hz", demo.password("clerk.hz"))?;
    b.expect_url(step, "/clerk")?;
    b.expect_text(step, &["查找参保人", "clerk.hz"])?;
    b.type_into(step, "form[action=\"/clerk\"] input[name=id]", own_id)?;
    b.type_into(step, "form[action=\"/clerk\"] input[name=purpose]", purpose)?;
    b.shot("clerk-search")?;
    b.click(step, "form[action=\"/clerk\"] button")?;
    let seen = b.expect_url(step, &format!("{record}?purpose="))?;
    b.expect_text(step, &["参保记录", &masked])?;
    if b.source().contains(own_id.as_str()) || seen.contains(own_id.as_str()) {
        return Err(b.failed(step, "the clerk's page or URL shows the full resident ID"));
    }
    b.shot("clerk-reads-record")?;
    b.sign_out(step)?;

    let step = "worker1 sees the clerk's read";
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "worker1", demo.password("worker1"))?;
    b.expect_url(step, &record)?;
    b.expect_text(
        step,
        &[
            "谁查阅过我的记录",
            "clerk.hz",
            purpose,
            "按身份证号查找",
            "缴费记录",
        ],
    )?;
    b.script(
        "let h = [...document.querySelectorAll('h2')].find(e => e.textContent.includes('谁查阅过我的记录')); if (h) h.scrollIntoView();",
        json!([]),
    )?;
    b.shot("worker-sees-read")?;

    // d. The English switch.
    let step = "English switch";
    b.script("window.scrollTo(0, 0)", json!([]))?;
    b.click(step, "nav a[href=\"?lang=en\"]")?;
    b.expect_url(step, &format!("{record}?lang=en"))?;
    b.expect_text(
        step,
        &[
            "My insurance record",
            "Who read my record",
            "Sign out",
            "中文",
        ],
    )?;
    let lang = b.script("return document.documentElement.lang", json!([]))?;
    if lang != "en" {
        return Err(b.failed(step, &format!("<html lang> is {lang}, not en")));
    }
    b.shot("record-english")?;

    // e. The pension projection: keep paying beside stopping after the school year, as a chart.
    let step = "worker1 sees the pension projection chart";
    b.goto(&at(&format!("{record}/pension")))?;
    b.expect_text(step, &["养老金测算", "一直交到退休", "交满一个学年"])?;
    b.find(step, "figure svg")?;
    b.fits(step)?;
    // Its smallest text, as drawn at this width, is 12 px or more (the chart's smallest is 12
    // units of a 340-unit view box), and a scenario without a pension says why in words.
    let scale = b.script(
        "const s = document.querySelector('figure svg'); return s.getBoundingClientRect().width / s.viewBox.baseVal.width",
        json!([]),
    )?;
    if scale.as_f64().is_none_or(|k| 12.0 * k < 11.5) {
        return Err(b.failed(
            step,
            &format!("the chart's text is drawn at {scale} × 12 px"),
        ));
    }
    b.expect_text(step, &["没有职工养老金这一柱", "还差"])?;
    b.accessible(step)?;
    b.shot("pension-chart")?;
    b.goto(&at(&record))?;
    b.sign_out(step)?;

    // f. A clerk imports a file with a bad row and sees it reported.
    let step = "clerk imports a file with a bad row";
    let file = std::env::temp_dir().join(format!("anxin-browser-{}.csv", std::process::id()));
    std::fs::write(
        &file,
        "身份证号,姓名,户籍地,居住地,就业形态,平台,居住证地,居住证起始\n\
         330106199203033453,赵六,阜阳,杭州,灵活就业,,杭州,2024-06-15\n\
         330106199203033450,钱七,阜阳,杭州,灵活就业,,杭州,2024-06-15\n",
    )
    .map_err(|e| format!("write {}: {e}", file.display()))?;
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "clerk.hz", demo.password("clerk.hz"))?;
    b.goto(&at("/clerk/import"))?;
    b.click(step, "select[name=kind] option[value=\"persons\"]")?;
    b.type_into(step, "input[type=file]", &file.display().to_string())?;
    b.shot("import-form")?;
    b.click(step, "form[action^=\"/clerk/import\"] button")?;
    b.expect_url(step, "/clerk/import/")?;
    b.expect_text(step, &["新增 1", "拒收 1", "校验"])?;
    b.shot("import-result")?;
    let _ = std::fs::remove_file(&file);
    b.goto(&at("/me"))?;
    b.sign_out(step)?;

    // h. The education office reviews two applications; a "not yet" card says why, and the
    // results fit the phone.
    let step = "the education office reviews applications";
    let file = std::env::temp_dir().join(format!("anxin-browser-apps-{}.csv", std::process::id()));
    std::fs::write(
        &file,
        format!(
            "申请编号,子女身份证号,监护人身份证号,申请城市,申请月份,困难家庭\n\
             A-1,330106201809010045,{},杭州,2026-10,否\n\
             A-2,330106201809020024,{},杭州,2025-06,否\n",
            demo.samples[0], demo.samples[1]
        ),
    )
    .map_err(|e| format!("write {}: {e}", file.display()))?;
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "edu.hz", demo.password("edu.hz"))?;
    b.goto(&at("/school/review"))?;
    b.type_into(step, "input[type=file]", &file.display().to_string())?;
    b.click(step, "form[action^=\"/school/review\"] button")?;
    // (Under 480 px the header row is hidden: each card names its cells itself.)
    b.expect_text(step, &["审核 2", "暂不符合"])?;
    let _ = std::fs::remove_file(&file);
    let silent = b.script(
        "return [...document.querySelectorAll('table.cards tr')].filter(r => r.textContent.includes('暂不符合')).filter(r => r.cells[r.cells.length - 1].textContent.trim() === '').length",
        json!([]),
    )?;
    if silent != 0 {
        return Err(b.failed(step, &format!("{silent} \"not yet\" rows without a reason")));
    }
    b.fits(step)?;
    b.shot("school-review")?;
    b.goto(&at("/me"))?;
    b.sign_out(step)?;

    // g. The platform reads its report: what it paid, month by month and worker by worker,
    // IDs masked, the page as wide as the phone, then the next page.
    let step = "platform reads its report";
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "platform", demo.password("platform"))?;
    // It lands on its report, its one desk.
    b.expect_url(step, "/platform")?;
    let text = b.expect_text(
        step,
        &[
            "本平台缴费报告",
            "统一社会信用代码",
            "本平台缴费的劳动者",
            "工伤",
        ],
    )?;
    if !text.contains("**********") || b.source().contains(own_id.as_str()) {
        return Err(b.failed(step, "the report's IDs are not masked"));
    }
    b.find(step, "figure svg")?;
    let wide = b.script(
        "return document.documentElement.scrollWidth - window.innerWidth",
        json!([]),
    )?;
    if wide.as_i64().is_none_or(|w| w > 0) {
        return Err(b.failed(
            step,
            &format!("the page is wider than the phone by {wide} px"),
        ));
    }
    b.shot("platform-report")?;
    b.goto(&at("/platform?limit=2"))?;
    b.click(step, "a[href^=\"/platform?after=\"]")?;
    b.expect_url(step, "/platform?after=")?;
    b.expect_text(step, &["回到第一页", "**********"])?;
    b.shot("platform-report-next")?;
    b.goto(&at("/me"))?;
    b.sign_out(step)?;

    // h. The grid worker lands on a page with the tools they use with people and a word on
    // their alerts, the region by its name; never a page with only "sign out".
    let step = "grid worker lands on their page";
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "grid.hz", demo.password("grid.hz"))?;
    // Since issue 16 the grid worker's page is the alerts of their cells (`grid_walk`).
    b.expect_url(step, "/grid")?;
    b.expect_text(step, &["帮人算缴费", "网格预警", "我的网格："])?;
    b.find(step, "a[href^=\"/quote\"]")?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("grid-landing")?;

    // i. The analyst lands on the desk, compares two reforms with the law in force on a small
    // population, and reads the summary, the charts and the fiscal sharing on the phone.
    let step = "analyst compares reforms";
    b.sign_out(step)?;
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "analyst", demo.password("analyst"))?;
    b.expect_url(step, "/analyst")?;
    b.expect_text(
        step,
        &[
            "政策分析",
            "与现行规定比较的改革方案",
            "城乡居民医保财政补助的分担",
        ],
    )?;
    b.click(step, "input[name=reform][value=\"income-band-rate\"]")?;
    b.click(step, "input[name=reform][value=\"provincial-subsidy\"]")?;
    b.type_into(step, "input[name=persons]", "2000")?;
    b.type_into(step, "input[name=years]", "5")?;
    b.click(step, "form[action=\"/analyst\"] button")?;
    b.expect_text(
        step,
        &[
            "一屏摘要",
            "现行规定",
            "全部合并",
            "养老金的得失",
            "下载各表",
            "因入学参保人员的后续缴费预测",
        ],
    )?;
    let charts = b.script(
        "return document.querySelectorAll('figure svg').length",
        json!([]),
    )?;
    // Four, two by decile for each of three scenarios, winners and losers, the fiscal one.
    // (A school cohort of the ledger would add one more.)
    if charts.as_i64().is_none_or(|n| n < 12) {
        return Err(b.failed(step, &format!("{charts} charts, not 12")));
    }
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("analyst-summary")?;
    b.script(
        "document.querySelector('table.cards').scrollIntoView()",
        json!([]),
    )?;
    b.shot("analyst-summary-cards")?;
    b.script(
        "document.querySelector('figure').scrollIntoView()",
        json!([]),
    )?;
    b.shot("analyst-chart-coverage")?;
    b.script(
        "document.querySelectorAll('figure')[5].scrollIntoView()",
        json!([]),
    )?;
    b.shot("analyst-chart-deciles")?;
    b.script(
        "document.getElementById('cohorts').scrollIntoView()",
        json!([]),
    )?;
    b.shot("analyst-cohorts")?;
    b.script(
        "document.getElementById('fiscal').scrollIntoView()",
        json!([]),
    )?;
    b.shot("analyst-fiscal")?;
    b.sign_out(step)?;
    complaint(b, demo)
}

/// i. A rights complaint (issue 15): the worker files one with two files at 360 px; the
/// inspector accepts it and refers it to mediation; the clock passes the mediation's end and
/// the case escalates; the worker sees it all, and their inbox says so.
fn complaint(b: &mut Browser, demo: &Demo) -> Step {
    let base = &demo.base;
    let at = |path: &str| format!("{base}{path}");
    let step = "worker1 files a complaint with two files";
    let dir = std::env::temp_dir().join(format!("anxin-browser-evidence-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let photo = dir.join("工资条.jpg");
    let chat = dir.join("聊天记录.txt");
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg.extend((0..2000u32).map(|i| (i % 251) as u8));
    std::fs::write(&photo, jpeg).map_err(|e| e.to_string())?;
    std::fs::write(&chat, "（示例）站长：这个月工资下周发。\n").map_err(|e| e.to_string())?;
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "worker1", demo.password("worker1"))?;
    b.goto(&at("/cases/new"))?;
    b.expect_text(step, &["一键维权", "遇到了什么问题", "证据"])?;
    b.click(step, "select[name=subject] option[value=\"unpaid_wages\"]")?;
    b.click(step, "select[name=party_code] option:nth-child(2)")?;
    let input = b.find(step, "input[name=files]")?;
    let paths = format!("{}\n{}", photo.display(), chat.display());
    b.cmd(
        "POST",
        &format!("/element/{input}/value"),
        Some(json!({ "text": paths })),
    )
    .map_err(|e| b.failed(step, &format!("choosing the files: {e}")))?;
    b.fits(step)?;
    b.shot("complaint-form")?;
    b.click(step, "form[action=\"/cases/new\"] button")?;
    let case = b.expect_url(step, "/cases/c-")?;
    b.expect_text(
        step,
        &[
            "已提交，待受理",
            "受理时限",
            "拖欠工资",
            "蜂鸟配送",
            "工资条.jpg",
            "聊天记录.txt",
        ],
    )?;
    b.fits(step)?;
    b.shot("complaint-filed")?;
    let case = case
        .split(base.as_str())
        .last()
        .unwrap_or(&case)
        .to_string();
    let case = case.split('?').next().unwrap_or(&case).to_string();
    let id = case.trim_start_matches("/cases/").to_string();
    b.goto(&at("/cases"))?;
    b.expect_text(step, &["我的案件", &id])?;
    b.shot("my-cases")?;
    b.goto(&at("/me"))?;
    b.sign_out(step)?;

    let step = "the inspector accepts it and refers it to mediation";
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "inspector.zj", demo.password("inspector.zj"))?;
    b.goto(&at("/cases"))?;
    b.expect_text(step, &["案件队列", &id])?;
    b.fits(step)?;
    b.shot("inspector-queue")?;
    b.goto(&at(&case))?;
    b.click(step, "form.act:has(input[value=\"accept\"]) button")?;
    b.expect_text(step, &["已受理立案，调查中", "调查办结时限"])?;
    b.shot("inspector-accepted")?;
    b.click(step, "form.act:has(input[value=\"mediate\"]) button")?;
    b.expect_text(step, &["平台争议调解中", "调解结束时限"])?;
    b.fits(step)?;
    b.shot("inspector-mediating")?;
    b.goto(&at("/cases"))?;
    b.sign_out(step)?;

    let step = "the clock passes the mediation's end and the case escalates";
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 16);
    let tick = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args([
            "--data",
            &demo.data,
            "case",
            "tick",
            "--at",
            &later.to_string(),
        ])
        .env_remove("ANXIN_DATA_KEY")
        .output()
        .map_err(|e| b.failed(step, &format!("anxin case tick: {e}")))?;
    if !tick.status.success() {
        return Err(b.failed(step, &format!("anxin case tick: {tick:?}")));
    }

    let step = "the worker sees it all";
    b.goto(&at("/login"))?;
    b.sign_in(step, base, "worker1", demo.password("worker1"))?;
    b.goto(&at(&case))?;
    b.expect_text(
        step,
        &[
            "逾期，已升级至上级监察机构",
            "受理并立案",
            "转平台争议一站式调解",
            "调解结束时限",
            "浙江",
        ],
    )?;
    b.fits(step)?;
    b.shot("worker-sees-escalation")?;
    b.goto(&at("/inbox"))?;
    b.expect_text(step, &["投诉已提交", "投诉已受理", "投诉已逾期升级", &id])?;
    b.shot("worker-inbox-case")?;
    b.goto(&at("/cases"))?;
    b.sign_out(step)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Puts `text` in the verify page's box, as pasting would (typing a few kilobytes key by key
/// only costs time).
fn paste(b: &Browser, step: &str, text: &str) -> Step {
    b.find(step, "textarea[name=certificate]")?;
    b.script(
        "const t = document.querySelector('textarea[name=certificate]'); const d = t.closest('details'); if (d) d.open = true; t.value = arguments[0]; t.dispatchEvent(new Event('input'));",
        json!([text]),
    )
    .map(|_| ())
    .map_err(|e| b.failed(step, &e))
}

/// The certificate with one character of its signature changed.
fn damage(certificate: &str) -> Option<String> {
    let at = certificate.find("\"signature\":\"")? + "\"signature\":\"".len();
    let old = certificate[at..].chars().next()?;
    let new = if old == 'A' { 'B' } else { 'A' };
    Some(format!(
        "{}{new}{}",
        &certificate[..at],
        &certificate[at + old.len_utf8()..]
    ))
}

// ---- every page of every role ----

/// Pages visited per role at most, and per kind of page (the same path with another key).
const PAGES_PER_ROLE: usize = 30;
const PAGES_PER_KIND: usize = 2;

#[derive(serde::Deserialize)]
struct Leaks {
    leak: Vec<Leak>,
}

#[derive(serde::Deserialize)]
struct Leak {
    text: String,
    why: String,
    /// Pages (path prefixes the browser is on) where this leak is tolerated until the slice
    /// changing them lands.
    #[serde(default)]
    not_yet: Vec<String>,
}

fn leaks() -> Vec<Leak> {
    toml::from_str::<Leaks>(include_str!("data/page-leaks.toml"))
        .expect("tests/data/page-leaks.toml parses")
        .leak
}

/// Whether `needle` stands in `text` as a whole word (no letter, digit or _ beside it).
fn has_word(text: &str, needle: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(needle).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + needle.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// A page's kind: its path with every key, code or number replaced, so `/persons/ab…` and
/// `/persons/cd…` are one kind.
fn kind_of(path: &str) -> String {
    path.split('?')
        .next()
        .unwrap_or("")
        .split('/')
        .map(|seg| {
            if seg.len() > 8 || seg.chars().any(|c| c.is_ascii_digit()) {
                "*"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Links the walk follows: this site's pages, read in Chinese, never a download, the API,
/// the log's files or signing out.
fn followed(path: &str) -> bool {
    let bare = path.split('?').next().unwrap_or("");
    !(path.contains("lang=en")
        || path.contains("download")
        || bare.starts_with("/api/")
        || bare.starts_with("/log/")
        || bare.starts_with("/logout")
        || bare.starts_with("/login")
        || bare.starts_with("/metrics")
        || bare.starts_with("/healthz")
        || bare.starts_with("/clerk/templates/")
        || bare.ends_with("/file")
        || [".csv", ".xlsx", ".json", ".pdf", ".svg", ".png"]
            .iter()
            .any(|e| bare.ends_with(e)))
}

/// Every demo role signs in and visits every page it can reach by links (GET only: no form
/// is sent), at 360 × 800: no page wider than the phone, no leak of `page-leaks.toml` in a
/// Chinese page, no empty line where a decision is "no" (a reason, a rank), a screenshot of
/// each.
fn every_page_of_every_role(b: &mut Browser, demo: &Demo) -> Step {
    let base = &demo.base;
    signs_up_and_is_confirmed(b, demo)?;
    let leaks = leaks();
    let mut roles = std::collections::HashSet::new();
    let mut visited = 0;
    for (user, password, role) in &demo.accounts {
        if !roles.insert(role.clone()) {
            continue;
        }
        let step = format!("{role} ({user}) signs in");
        b.cmd("DELETE", "/cookie", None)?;
        b.goto(&format!("{base}/login"))?;
        b.sign_in(&step, base, user, password)?;
        let mut queue = std::collections::VecDeque::from([b.url()]);
        let mut seen = std::collections::HashSet::new();
        let mut kinds: std::collections::HashMap<String, usize> = Default::default();
        let mut pages = 0;
        while let Some(url) = queue.pop_front() {
            if pages >= PAGES_PER_ROLE {
                break;
            }
            let path = url.strip_prefix(base.as_str()).unwrap_or(&url).to_string();
            let path = path.split('#').next().unwrap_or("").to_string();
            if !seen.insert(path.clone()) || !followed(&path) {
                continue;
            }
            let kind = kind_of(&path);
            let n = kinds.entry(kind.clone()).or_default();
            if *n >= PAGES_PER_KIND {
                continue;
            }
            *n += 1;
            pages += 1;
            let step = format!("{role} visits {path}");
            b.goto(&format!("{base}{path}"))?;
            b.fits(&step)?;
            let chinese = b.script("return document.documentElement.lang", json!([]))?;
            if chinese == "zh-CN" {
                let text = b.text();
                let here = b.url();
                let here = here
                    .strip_prefix(base.as_str())
                    .unwrap_or(&here)
                    .to_string();
                for leak in &leaks {
                    if has_word(&text, &leak.text)
                        && !leak.not_yet.iter().any(|p| here.starts_with(p.as_str()))
                    {
                        return Err(b.failed(
                            &step,
                            &format!("the Chinese page shows “{}”: {}", leak.text, leak.why),
                        ));
                    }
                }
            }
            let empty = b.script(
                "const label = /原因|理由|名次|录取|依据/, no = /不符合|未通过|不予|拒绝|否/;\
                 const bad = [];\
                 document.querySelectorAll('dt').forEach(dt => { const dd = dt.nextElementSibling;\
                   if (label.test(dt.textContent) && dd && dd.tagName === 'DD' && dd.textContent.trim() === '') bad.push(dt.textContent.trim()); });\
                 document.querySelectorAll('tr').forEach(tr => { if (!no.test(tr.textContent)) return;\
                   tr.querySelectorAll('td[data-label]').forEach(td => {\
                     if (label.test(td.dataset.label) && td.textContent.trim() === '') bad.push(td.dataset.label); }); });\
                 return bad;",
                json!([]),
            )?;
            if empty.as_array().is_some_and(|a| !a.is_empty()) {
                return Err(b.failed(
                    &step,
                    &format!("a decision \"no\" with empty lines: {empty}"),
                ));
            }
            b.shot(&format!("{role}-{}", slug(&kind)))?;
            visited += 1;
            let links = b.script(
                "return [...document.querySelectorAll('a[href]')].filter(a => !a.hasAttribute('download')).map(a => a.href)",
                json!([]),
            )?;
            for link in links.as_array().into_iter().flatten() {
                if let Some(link) = link.as_str()
                    && link.starts_with(base.as_str())
                {
                    queue.push_back(link.to_string());
                }
            }
        }
        if pages == 0 {
            return Err(b.failed(&step, "no page to visit after signing in"));
        }
    }
    eprintln!("every role: {} roles, {visited} pages checked", roles.len());
    Ok(())
}

/// A worker signs up on the phone; the 杭州 clerk sees the request as a card, types the
/// number on the card and opens the account; the worker signs in with their own password.
fn signs_up_and_is_confirmed(b: &mut Browser, demo: &Demo) -> Step {
    let base = &demo.base;
    let step = "a worker signs up";
    let id = &demo.samples[2];
    b.cmd("DELETE", "/cookie", None)?;
    b.goto(&format!("{base}/login"))?;
    b.click(step, "a[href=\"/signup\"]")?;
    b.expect_url(step, "/signup")?;
    b.type_into(step, "input[name=resident_id]", id)?;
    b.type_into(step, "input[name=name]", "王五")?;
    b.type_into(step, "input[name=phone]", "13900139000")?;
    b.type_into(step, "input[name=username]", "wangwu")?;
    b.type_into(step, "input[name=password]", "wangwu password")?;
    b.script(
        "document.querySelector('select[name=region]').value = '330100'",
        json!([]),
    )?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("signup")?;
    b.click(step, "form[action=\"/signup\"] button")?;
    b.expect_text(step, &["申请已提交", "杭州市", "wangwu"])?;
    b.shot("signup-sent")?;

    let step = "the clerk confirms the sign-up at the desk";
    b.goto(&format!("{base}/login"))?;
    b.sign_in(step, base, "clerk.hz", demo.password("clerk.hz"))?;
    b.goto(&format!("{base}/clerk/signups"))?;
    b.expect_text(step, &["王五", "wangwu", "9000"])?;
    if b.source().contains(id.as_str()) {
        return Err(b.failed(step, "the desk shows the full resident ID"));
    }
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("clerk-signups")?;
    b.type_into(step, "input[name=card]", id)?;
    b.click(step, "form[action$=\"/confirm\"] button")?;
    b.expect_text(step, &["已开通", "wangwu"])?;
    b.cmd("DELETE", "/cookie", None)?;

    let step = "the new worker signs in";
    b.goto(&format!("{base}/login"))?;
    b.sign_in(step, base, "wangwu", "wangwu password")?;
    b.expect_url(step, "/persons/")?;
    b.expect_text(step, &["我的社保记录"])?;
    b.cmd("DELETE", "/cookie", None)?;
    Ok(())
}

#[test]
fn whole_words_and_kinds_of_pages() {
    assert!(has_word("舍入 half_up_yuan。", "half_up_yuan"));
    assert!(!has_word("half_up_yuan", "half_up"));
    assert!(has_word("x half_up y", "half_up"));
    assert!(!has_word("Errors", "Error"));
    assert_eq!(kind_of("/persons/abcdef0123456789?purpose=x"), "/persons/*");
    assert_eq!(kind_of("/clerk/import/12"), "/clerk/import/*");
    assert!(!followed("/persons/ab?lang=en"));
    assert!(!followed("/clerk/templates/persons.xlsx"));
    assert!(followed("/clerk/inbox"));
    assert!(
        leaks()
            .iter()
            .all(|l| !l.why.is_empty() && !l.text.is_empty())
    );
}

/// The grid worker on a phone (issue 16): signs in and lands on the alerts of their cells,
/// acknowledges one, records a visit and closes it with an outcome — three forms, no script.
fn grid_walk(b: &mut Browser, demo: &Demo) -> Step {
    let base = &demo.base;
    let step = "the grid worker lands on the alerts of their cells";
    b.cmd("DELETE", "/cookie", None)?;
    b.goto(&format!("{base}/login"))?;
    b.sign_in(step, base, "grid.hz", demo.password("grid.hz"))?;
    b.expect_url(step, "/grid")?;
    b.expect_text(step, &["我的网格预警", "我的网格：", "330106", "确认收到"])?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("grid-alerts")?;
    let id = b.script(
        "const s = document.querySelector('section.alert.open'); return s ? s.id : ''",
        json!([]),
    )?;
    let id = id.as_str().unwrap_or_default().to_string();
    if id.is_empty() {
        return Err(b.failed(step, "no open alert in the grid worker's cells"));
    }
    let card = format!("section#{id}");
    let step = "acknowledges the alert";
    b.click(
        step,
        &format!("{card} form:has(input[value=\"acknowledge\"]) button"),
    )?;
    b.find(step, &format!("{card}.acknowledged"))?;
    b.expect_text(step, &["已确认", "确认收到"])?;
    let step = "records a visit";
    b.click(
        step,
        &format!("{card} select[name=via] option[value=\"visit\"]"),
    )?;
    b.type_into(
        step,
        &format!("{card} textarea[name=note]"),
        "上门讲了灵活就业参保，本人愿意下周去办",
    )?;
    b.click(
        step,
        &format!("{card} form:has(input[value=\"contact\"]) button"),
    )?;
    b.find(step, &format!("{card}.contacted"))?;
    b.expect_text(step, &["已联系", "记录联系：上门", "上门讲了灵活就业参保"])?;
    b.fits(step)?;
    b.shot("grid-contacted")?;
    let step = "closes it with an outcome";
    b.click(
        step,
        &format!("{card} select[name=outcome] option[value=\"will_enrol\"]"),
    )?;
    b.click(
        step,
        &format!("{card} form:has(input[value=\"close\"]) button"),
    )?;
    b.find(step, &format!("{card}.closed"))?;
    b.expect_text(step, &["已办结", "同意参保，尚未办理"])?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("grid-closed")?;
    b.sign_out(step)?;
    Ok(())
}

// ---- a transfer between two instances (issue 14) ----

/// `anxin federation demo`: 杭州 and 阜阳 as child processes of the demo, all in a process
/// group of their own, ended together (SIGTERM to the group: the servers stop gracefully and
/// the demo removes its directories) when the test ends.
struct Federation {
    hz: String,
    worker: String,
    worker_password: String,
    clerk: String,
    clerk_password: String,
    process: Child,
    /// The servers' own log, removed with the federation.
    log: tempfile::NamedTempFile,
    /// The demo's data directory, which it removes itself when stopped.
    data: PathBuf,
}

impl Drop for Federation {
    fn drop(&mut self) {
        let group = format!("-{}", self.process.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if matches!(self.process.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(POLL);
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.process.wait();
    }
}

fn start_federation() -> Federation {
    use std::os::unix::process::CommandExt as _;
    let port = free_port_pair();
    // The servers' own log, shown if one of them does not answer.
    let log = tempfile::Builder::new()
        .prefix("anxin-browser-federation-")
        .suffix(".log")
        .tempfile()
        .expect("a log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_anxin"))
        .args(["federation", "demo", "--port", &port.to_string()])
        .env_remove("ANXIN_POLICY")
        .env_remove("ANXIN_DATA_KEY")
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log.reopen().expect("the log file")))
        .spawn()
        .expect("start anxin federation demo");
    let stdout = child.stdout.take().unwrap();
    let mut fed = Federation {
        hz: format!("http://127.0.0.1:{port}"),
        worker: "worker.hangzhou".into(),
        worker_password: String::new(),
        clerk: "clerk.hangzhou".into(),
        clerk_password: String::new(),
        process: child,
        log,
        data: PathBuf::new(),
    };
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut printed = String::new();
    let after = |line: &str, what: &str| {
        line.split(&format!("{what} / "))
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .map(String::from)
    };
    while fed.worker_password.is_empty() || fed.clerk_password.is_empty() {
        let Some(Ok(line)) = lines.next() else {
            panic!("anxin federation demo ended before it printed its accounts:\n{printed}");
        };
        printed.push_str(&line);
        printed.push('\n');
        if let Some(dir) = line.split("(数据 data: ").nth(1) {
            fed.data = PathBuf::from(dir.trim_end_matches("):"));
        }
        if let Some(pw) = after(&line, "clerk.hangzhou") {
            fed.clerk_password = pw;
        }
        if let Some(pw) = after(&line, "worker.hangzhou") {
            fed.worker_password = pw;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    // Both servers answer before the walk starts.
    for p in [port, port + 1] {
        let started = Instant::now();
        while exchange(
            &format!("127.0.0.1:{p}"),
            "GET",
            "/healthz",
            "text/plain",
            "",
        )
        .map(|(status, _, _)| status != 200)
        .unwrap_or(true)
        {
            assert!(
                started.elapsed() < PATIENCE * 3,
                "the federation's server on port {p} did not answer:\n{printed}\n{}",
                std::fs::read_to_string(fed.log.path()).unwrap_or_default()
            );
            std::thread::sleep(POLL);
        }
    }
    fed
}

fn transfer_walk(b: &mut Browser, fed: &Federation) -> Step {
    let base = &fed.hz;
    let step = "the worker who moved to 杭州 opens the transfer page";
    b.cmd("DELETE", "/cookie", None)?;
    b.goto(&format!("{base}/login"))?;
    b.sign_in(step, base, &fed.worker, &fed.worker_password)?;
    b.goto(&format!("{base}/transfers"))?;
    b.expect_text(
        step,
        &[
            "转移接续",
            "申请把社保转到这里",
            "阜阳市",
            "杭州市",
            "你还没有在这里申请过转移",
        ],
    )?;
    // The worker's form names nobody: their own record is used.
    if b.source().contains("name=\"person_id\"") {
        return Err(b.failed(step, "the worker's form asks for a resident ID"));
    }
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("transfer-ask")?;

    let step = "asks to move their pension and medical insurance from 阜阳";
    b.click(step, "select[name=from_region] option[value=\"341200\"]")?;
    b.type_into(step, "input[name=medical_gap]", "2")?;
    b.click(step, "form[action=\"/transfers\"] button")?;
    let page = b.expect_url(step, "/transfers/hangzhou:")?;
    b.expect_text(
        step,
        &[
            "办理步骤",
            "转入地向转出地发出联系函",
            "现在由谁办理",
            "你需要做的",
        ],
    )?;
    b.fits(step)?;
    b.shot("transfer-asked")?;

    // The two instances exchange the liaison request, the package, the acknowledgement and
    // the seal on their own (each outbox every second); the worker comes back to the page.
    let step = "follows the steps until the transfer is done";
    let started = Instant::now();
    loop {
        b.goto(&format!("{base}{page}"))?;
        let text = b.text();
        if text.contains("已办结") {
            break;
        }
        if text.contains("未办成") || started.elapsed() > PATIENCE * 3 {
            return Err(b.failed(step, "the transfer did not end done"));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    b.expect_text(
        step,
        &[
            "✓ 已完成",
            "转入的缴费记录和资金",
            "阜阳市",
            "2010-01 – 2019-12",
            "120",
            "统筹基金",
            "医疗保险",
            "24 个月",
            "在连续计算的期限内",
            "待遇领取地",
            "规则",
            "下载转移凭证",
        ],
    )?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("transfer-done")?;
    b.click(step, "details summary")?;
    b.expect_text(step, &["国办发〔2009〕66号 第六条", "规则四"])?;
    b.script("window.scrollTo(0, document.body.scrollHeight)", json!([]))?;
    b.fits(step)?;
    b.shot("transfer-claim-and-voucher")?;

    let step = "downloads the voucher and checks it offline";
    let keys: Vec<String> = b
        .script("return document.querySelector('pre').innerText", json!([]))?
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .filter(|w| w.contains('=') && !w.starts_with("--"))
        .map(String::from)
        .collect();
    if keys.len() != 2 {
        return Err(b.failed(step, &format!("the page names {} keys, not 2", keys.len())));
    }
    b.click(step, "a.voucher")?;
    let file = page.trim_start_matches("/transfers/").replace(':', "-");
    let voucher = b.downloaded(step, &format!("voucher-{file}.json"))?;
    let path = b.downloads.join("voucher-checked.json");
    std::fs::write(&path, &voucher).map_err(|e| e.to_string())?;
    let check = |path: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_anxin"));
        c.args(["transfer", "voucher"]).arg(path);
        for k in &keys {
            c.args(["--key", k]);
        }
        c.output().map_err(|e| e.to_string())
    };
    let out = check(&path)?;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success()
        || !said.contains("转移凭证核验通过")
        || !said.contains("3412**********1236")
    {
        return Err(b.failed(
            step,
            &format!(
                "the voucher did not verify: {said}{}",
                String::from_utf8_lossy(&out.stderr)
            ),
        ));
    }
    // One altered figure and the destination's signature no longer holds.
    let text = String::from_utf8(voucher).map_err(|e| e.to_string())?;
    let altered = text.replacen("\\\"months\\\":120", "\\\"months\\\":121", 1);
    if altered == text {
        return Err(b.failed(step, &format!("no month count to alter in {text:.300}")));
    }
    let bad = b.downloads.join("voucher-altered.json");
    std::fs::write(&bad, altered).map_err(|e| e.to_string())?;
    let out = check(&bad)?;
    if out.status.success() || !String::from_utf8_lossy(&out.stderr).contains("签名") {
        return Err(b.failed(step, "an altered voucher was not refused"));
    }

    let step = "finds each step in the inbox";
    b.goto(&format!("{base}/inbox"))?;
    b.expect_text(step, &["转移接续新进展", "已办结", "转移凭证"])?;
    b.fits(step)?;
    b.shot("transfer-inbox")?;
    b.goto(&format!("{base}/transfers"))?;
    b.expect_text(step, &["我的转移", "已办结"])?;
    b.shot("transfer-mine")?;
    b.sign_out(step)?;

    let step = "杭州's clerk sees the queue and the transfer";
    b.goto(&format!("{base}/login"))?;
    b.sign_in(step, base, &fed.clerk, &fed.clerk_password)?;
    b.goto(&format!("{base}/transfers"))?;
    b.expect_text(
        step,
        &[
            "待办队列（逾期在前）",
            "为窗口前的劳动者申请转入",
            "身份证号",
        ],
    )?;
    b.fits(step)?;
    b.accessible(step)?;
    b.shot("transfer-clerk-queue")?;
    b.goto(&format!("{base}{page}"))?;
    b.expect_text(step, &["已办结", "待遇领取地"])?;
    b.sign_out(step)?;
    Ok(())
}
