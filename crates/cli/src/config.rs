//! `anxin serve`'s settings. Each one comes from the first place that gives it: the command
//! line, the environment (`ANXIN_ADDR`, `ANXIN_DATA`, `ANXIN_LOG`, …), the config file
//! (`--config FILE` or `ANXIN_CONFIG`, its `[server]` table), the built-in default.
//! `anxin.example.toml` at the repository's root documents every key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anxin_server::auth::LoginLimits;
use anxin_server::listen::ConnectionLimits;
use anxin_server::logging::{Filter, Format};
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::fail::{Fail, Result};

/// The data directory when nothing names one.
pub const DEFAULT_DATA: &str = "anxin-data";
const DEFAULT_ADDR: &str = "127.0.0.1:8080";
const DEFAULT_DEMO_WORKERS: u32 = 20_000;
/// Months of contributions each demo worker has, and the range allowed: the demo's gaps (a
/// 3-month gap, 2 unpaid months, 2 excused months, a move between cities) need at least 12.
pub const DEFAULT_DEMO_MONTHS: u32 = 24;
pub const DEMO_MONTHS: std::ops::RangeInclusive<u32> = 12..=24;

#[derive(Args)]
pub struct ServeArgs {
    /// Read settings from this TOML file (its [server] table; see anxin.example.toml).
    /// The command line and the environment override it.
    #[arg(long, env = "ANXIN_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on (port 0: any free port) [default: 127.0.0.1:8080]
    #[arg(long, env = "ANXIN_ADDR", value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// Make a fresh demo data directory with synthetic workers, then serve it.
    #[arg(long)]
    pub demo: bool,
    /// Workers in the demo region [default: 20000]
    #[arg(long, env = "ANXIN_DEMO_WORKERS", value_name = "N")]
    pub demo_workers: Option<u32>,
    /// Months of contributions per demo worker, the last ending at --today's month (12–24;
    /// 12 makes a province's year: `--demo-workers 10000000 --demo-months 12`) [default: 24]
    #[arg(long, env = "ANXIN_DEMO_MONTHS", value_name = "N")]
    pub demo_months: Option<u32>,
    /// The demo's database: default SQLite in the demo directory; or postgres://….
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Mark the session cookie Secure (when a TLS proxy fronts anxin).
    #[arg(
        long,
        env = "ANXIN_SECURE_COOKIES",
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = clap::builder::BoolishValueParser::new(),
    )]
    pub secure_cookies: Option<bool>,
    /// Log events to write: a level (off, error, warn, info, debug, trace) or TARGET=LEVEL
    /// pairs, e.g. info,anxin::http=warn (requests only when they fail) [default: info]
    #[arg(long, env = "ANXIN_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Log format on stderr: json or text [default: text on a terminal, json otherwise]
    #[arg(long, env = "ANXIN_LOG_FORMAT", value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Seconds a client has to send a request's whole header once it has begun [default: 10]
    #[arg(long, env = "ANXIN_HEADER_READ_TIMEOUT", value_name = "SECONDS")]
    pub header_read_timeout: Option<u64>,
    /// Seconds an open connection may wait for its next request [default: 60]
    #[arg(long, env = "ANXIN_IDLE_TIMEOUT", value_name = "SECONDS")]
    pub idle_timeout: Option<u64>,
    /// Connections open at once from one client address [default: 64]
    #[arg(long, env = "ANXIN_CONNECTIONS_PER_CLIENT", value_name = "N")]
    pub connections_per_client: Option<u32>,
    /// Generate the inbox's messages and post them to the webhook every so many seconds,
    /// inside the server (as `anxin inbox run` does), 1 to 604800 [default: off]
    #[arg(long, env = "ANXIN_INBOX_EVERY", value_name = "SECONDS")]
    pub inbox_every: Option<u64>,
    /// How many nice steps below the pages the writer and imports run, 0 (the same) to 19:
    /// an import then takes what the readers leave of the cores [default: 10]
    #[arg(long, env = "ANXIN_BACKGROUND_NICE", value_name = "N")]
    pub background_nice: Option<i32>,
    /// This instance's name among its peers: it takes transfers between instances
    /// (POST /federation/v1/messages), with keys/federation.key and peers.toml in the data
    /// directory [default: off]
    #[arg(long, env = "ANXIN_FEDERATION_NAME", value_name = "NAME")]
    pub federation_name: Option<String>,
    /// Post the transfer outbox to the peers every so many seconds, 1 to 3600 [default: 2]
    #[arg(long, env = "ANXIN_OUTBOX_EVERY", value_name = "SECONDS")]
    pub outbox_every: Option<u64>,
}

/// The config file.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    server: Server,
}

/// The `[server]` table; also what the command line and the environment gave.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Server {
    addr: Option<String>,
    data: Option<PathBuf>,
    policy: Option<PathBuf>,
    secure_cookies: Option<bool>,
    log: Option<String>,
    log_format: Option<String>,
    demo_workers: Option<u32>,
    demo_months: Option<u32>,
    header_read_timeout: Option<u64>,
    idle_timeout: Option<u64>,
    connections_per_client: Option<u32>,
    inbox_every: Option<u64>,
    background_nice: Option<i32>,
    login: Option<Login>,
}

/// `[server.login]`: the sign-in limits.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct Login {
    failures_per_name: Option<u32>,
    window_minutes: Option<u64>,
    attempts_per_second: Option<u32>,
}

impl Server {
    /// Each setting from `self`, else from `lower`.
    fn or(self, lower: Server) -> Server {
        Server {
            addr: self.addr.or(lower.addr),
            data: self.data.or(lower.data),
            policy: self.policy.or(lower.policy),
            secure_cookies: self.secure_cookies.or(lower.secure_cookies),
            log: self.log.or(lower.log),
            log_format: self.log_format.or(lower.log_format),
            demo_workers: self.demo_workers.or(lower.demo_workers),
            demo_months: self.demo_months.or(lower.demo_months),
            header_read_timeout: self.header_read_timeout.or(lower.header_read_timeout),
            idle_timeout: self.idle_timeout.or(lower.idle_timeout),
            connections_per_client: self.connections_per_client.or(lower.connections_per_client),
            inbox_every: self.inbox_every.or(lower.inbox_every),
            background_nice: self.background_nice.or(lower.background_nice),
            login: self.login.or(lower.login),
        }
    }
}

/// What `anxin serve` runs with.
#[derive(Debug)]
pub struct Settings {
    pub addr: String,
    pub data: PathBuf,
    /// `None`: the policy built into anxin.
    pub policy: Option<PathBuf>,
    pub secure_cookies: bool,
    pub log: Filter,
    pub log_format: Format,
    pub demo_workers: u32,
    /// Months of contributions per demo worker, within [`DEMO_MONTHS`].
    pub demo_months: u32,
    pub login: LoginLimits,
    pub connections: ConnectionLimits,
    /// How often the server runs the inbox (generation, then webhook delivery); `None`: never
    /// (then `anxin inbox run` does it, by hand or from a timer).
    pub inbox_every: Option<Duration>,
    /// Nice steps below the readers for the writer and imports (0–19).
    pub background_nice: i32,
}

/// The settings for `args`, with `--data` and `--policy` (or their variables) if given.
pub fn settings(
    args: &ServeArgs,
    data: Option<PathBuf>,
    policy: Option<PathBuf>,
) -> Result<Settings> {
    let given = Server {
        addr: args.addr.clone(),
        data,
        policy,
        secure_cookies: args.secure_cookies,
        log: args.log.clone(),
        log_format: args.log_format.clone(),
        demo_workers: args.demo_workers,
        demo_months: args.demo_months,
        header_read_timeout: args.header_read_timeout,
        idle_timeout: args.idle_timeout,
        connections_per_client: args.connections_per_client,
        inbox_every: args.inbox_every,
        background_nice: args.background_nice,
        login: None,
    };
    let file = match &args.config {
        Some(path) => read(path)?,
        None => Server::default(),
    };
    resolve(given.or(file))
}

/// The `[server]` table of the file at `path`, its relative paths made relative to the file.
fn read(path: &Path) -> Result<Server> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Fail::not_found(
            format!("读不到配置文件 {}：{e}", path.display()),
            format!("cannot read the config file {}: {e}", path.display()),
        )
    })?;
    let mut server = parse(&text).map_err(|(zh, en)| {
        Fail::bad_input(
            format!("配置文件 {} {zh}", path.display()),
            format!("config file {}, {en}", path.display()),
        )
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    for p in [&mut server.data, &mut server.policy].into_iter().flatten() {
        if p.is_relative() {
            *p = dir.join(&*p);
        }
    }
    Ok(server)
}

/// Parses a config file; a refusal says where, in Chinese and in English.
fn parse(text: &str) -> std::result::Result<Server, (String, String)> {
    let e = match toml::from_str::<File>(text) {
        Ok(file) => return Ok(file.server),
        Err(e) => e,
    };
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let message = e.message().trim().to_string();
    let zh = match message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once("`, expected "))
    {
        Some((key, allowed)) => {
            let allowed = allowed.trim_start_matches("one of ").replace(", ", "、");
            format!("：不认识的设置 {key}；可用的设置：{allowed}")
        }
        None => format!("：写得不对：{message}"),
    };
    Err(match line {
        Some(n) => (format!("第 {n} 行{zh}"), format!("line {n}: {message}")),
        None => (zh.trim_start_matches('：').to_string(), message),
    })
}

/// Fills in the defaults and checks every value.
fn resolve(s: Server) -> Result<Settings> {
    let connections = connection_limits(&s)?;
    let inbox_every = match s.inbox_every {
        None => None,
        Some(n @ 1..=604_800) => Some(Duration::from_secs(n)),
        Some(n) => {
            return Err(Fail::bad_input(
                format!(
                    "inbox_every 是 {n} 秒：须在 1 到 604800 秒（一周）之间（来自 --inbox-every、ANXIN_INBOX_EVERY 或配置文件）"
                ),
                format!(
                    "inbox_every is {n} s: it must be 1 to 604800 seconds (a week) (from --inbox-every, ANXIN_INBOX_EVERY or the config file)"
                ),
            ));
        }
    };
    let background_nice = match s.background_nice {
        None => anxin_service::db::BACKGROUND_NICE,
        Some(n @ 0..=19) => n,
        Some(n) => {
            return Err(Fail::bad_input(
                format!(
                    "background_nice 是 {n}：须在 0（与读取同等）到 19（最低）之间（来自 --background-nice、ANXIN_BACKGROUND_NICE 或配置文件）"
                ),
                format!(
                    "background_nice is {n}: it must be 0 (the same as reads) to 19 (the lowest) (from --background-nice, ANXIN_BACKGROUND_NICE or the config file)"
                ),
            ));
        }
    };
    let demo_months = match s.demo_months {
        None => DEFAULT_DEMO_MONTHS,
        Some(n) if DEMO_MONTHS.contains(&n) => n,
        Some(n) => {
            return Err(Fail::bad_input(
                format!(
                    "demo_months 是 {n}：须在 {} 到 {} 之间（演示的断缴、免缴和跨城转移需要至少 12 个月；来自 --demo-months、ANXIN_DEMO_MONTHS 或配置文件）",
                    DEMO_MONTHS.start(),
                    DEMO_MONTHS.end()
                ),
                format!(
                    "demo_months is {n}: it must be {} to {} (the demo's gaps, excused months and move between cities need at least 12; from --demo-months, ANXIN_DEMO_MONTHS or the config file)",
                    DEMO_MONTHS.start(),
                    DEMO_MONTHS.end()
                ),
            ));
        }
    };
    let addr = s.addr.unwrap_or_else(|| DEFAULT_ADDR.to_string());
    let port_ok = addr
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !port_ok {
        return Err(Fail::bad_input(
            format!(
                "监听地址“{addr}”无效：写成 主机:端口，如 127.0.0.1:8080（来自 --addr、ANXIN_ADDR 或配置文件的 addr）"
            ),
            format!(
                "listening address '{addr}' is not HOST:PORT, e.g. 127.0.0.1:8080 (from --addr, ANXIN_ADDR or the config file's addr)"
            ),
        ));
    }
    let log = match &s.log {
        Some(text) => Filter::parse(text)?,
        None => Filter::default(),
    };
    let log_format = match &s.log_format {
        Some(text) => Format::parse(text)?,
        None => Format::for_stderr(),
    };
    let login = s.login.unwrap_or_default();
    let defaults = LoginLimits::default();
    let at_least_one = |name: &str, v: Option<u64>| match v {
        Some(0) => Err(Fail::bad_input(
            format!("配置文件的 login.{name} 至少是 1"),
            format!("the config file's login.{name} must be at least 1"),
        )),
        other => Ok(other),
    };
    let failures = at_least_one("failures_per_name", login.failures_per_name.map(u64::from))?;
    let window = at_least_one("window_minutes", login.window_minutes)?;
    let per_second = at_least_one(
        "attempts_per_second",
        login.attempts_per_second.map(u64::from),
    )?;
    Ok(Settings {
        addr,
        data: s.data.unwrap_or_else(|| PathBuf::from(DEFAULT_DATA)),
        policy: s.policy,
        secure_cookies: s.secure_cookies.unwrap_or(false),
        log,
        log_format,
        demo_workers: s.demo_workers.unwrap_or(DEFAULT_DEMO_WORKERS),
        demo_months,
        login: LoginLimits {
            failures_per_name: failures.map_or(defaults.failures_per_name, |n| n as usize),
            window: window.map_or(defaults.window, |m| {
                Duration::from_secs(m.saturating_mul(60))
            }),
            attempts_per_second: per_second.map_or(defaults.attempts_per_second, |n| n as u32),
        },
        connections,
        inbox_every,
        background_nice,
    })
}

/// The connection limits: each at least 1, the timeouts at most a day.
fn connection_limits(s: &Server) -> Result<ConnectionLimits> {
    let defaults = ConnectionLimits::default();
    let seconds = |name: &str, flag: &str, v: Option<u64>, default: Duration| match v {
        None => Ok(default),
        Some(n @ 1..=86_400) => Ok(Duration::from_secs(n)),
        Some(n) => Err(Fail::bad_input(
            format!(
                "{name} 是 {n} 秒：须在 1 到 86400 秒之间（来自 --{flag}、环境变量或配置文件）"
            ),
            format!(
                "{name} is {n} s: it must be 1 to 86400 seconds (from --{flag}, the environment or the config file)"
            ),
        )),
    };
    let per_client = match s.connections_per_client {
        None => defaults.per_client,
        Some(0) => {
            return Err(Fail::bad_input(
                "connections_per_client 至少是 1（来自 --connections-per-client、环境变量或配置文件）",
                "connections_per_client must be at least 1 (from --connections-per-client, the environment or the config file)",
            ));
        }
        Some(n) => n as usize,
    };
    Ok(ConnectionLimits {
        header_read: seconds(
            "header_read_timeout",
            "header-read-timeout",
            s.header_read_timeout,
            defaults.header_read,
        )?,
        idle: seconds(
            "idle_timeout",
            "idle-timeout",
            s.idle_timeout,
            defaults.idle,
        )?,
        per_client,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../anxin.example.toml");

    #[test]
    fn the_example_parses_and_documents_every_key() {
        let s = resolve(parse(EXAMPLE).unwrap()).unwrap();
        assert_eq!(s.addr, DEFAULT_ADDR);
        assert_eq!(s.login, LoginLimits::default());
        assert_eq!(s.demo_workers, DEFAULT_DEMO_WORKERS);
        assert_eq!(s.demo_months, DEFAULT_DEMO_MONTHS);
        assert_eq!(s.connections, ConnectionLimits::default());
        assert_eq!(s.inbox_every, None, "off unless asked for");
        assert_eq!(s.background_nice, anxin_service::db::BACKGROUND_NICE);
        // The keys shown commented out parse too.
        let uncommented: String = EXAMPLE
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest
                        .split_once(" = ")
                        .is_some_and(|(k, _)| !k.contains(' ')) =>
                {
                    rest
                }
                _ => l,
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let all = parse(&uncommented).unwrap();
        let shown = toml::to_string(&File { server: all }).unwrap();
        // Every key of the file's shape is in the example with a value.
        let every = File {
            server: Server {
                addr: Some(String::new()),
                data: Some(PathBuf::new()),
                policy: Some(PathBuf::new()),
                secure_cookies: Some(false),
                log: Some(String::new()),
                log_format: Some(String::new()),
                demo_workers: Some(0),
                demo_months: Some(0),
                header_read_timeout: Some(0),
                idle_timeout: Some(0),
                connections_per_client: Some(0),
                inbox_every: Some(0),
                background_nice: Some(0),
                login: Some(Login {
                    failures_per_name: Some(0),
                    window_minutes: Some(0),
                    attempts_per_second: Some(0),
                }),
            },
        };
        for line in toml::to_string(&every).unwrap().lines() {
            if let Some((key, _)) = line.split_once(" = ") {
                assert!(
                    shown.contains(&format!("{key} = ")),
                    "anxin.example.toml does not show {key}"
                );
            }
        }
    }

    #[test]
    fn unknown_keys_are_refused_by_name_with_the_allowed_ones() {
        let (zh, en) = parse("[server]\naddr = \"127.0.0.1:1\"\nadress = \"x\"\n").unwrap_err();
        assert!(
            en.starts_with("line 3: unknown field `adress`")
                && en.contains("`addr`")
                && en.contains("`log_format`"),
            "{en}"
        );
        assert!(
            zh.starts_with("第 3 行：不认识的设置 adress；可用的设置：`addr`、"),
            "{zh}"
        );
        let (_, en) = parse("[sever]\n").unwrap_err();
        assert!(
            en.contains("unknown field `sever`, expected `server`"),
            "{en}"
        );
        let (zh, en) = parse("[server]\nsecure_cookies = \"yes\"\n").unwrap_err();
        assert!(
            en.starts_with("line 2:") && zh.starts_with("第 2 行"),
            "{en}"
        );
    }

    #[test]
    fn flags_and_environment_win_over_the_file_which_wins_over_defaults() {
        let file = parse(
            "[server]\naddr = \"0.0.0.0:9000\"\nlog = \"warn\"\nlog_format = \"text\"\n\
             secure_cookies = true\n[server.login]\nwindow_minutes = 1\n",
        )
        .unwrap();
        let given = Server {
            addr: Some("127.0.0.1:0".into()),
            secure_cookies: Some(false),
            ..Server::default()
        };
        let s = resolve(given.or(file)).unwrap();
        assert_eq!(s.addr, "127.0.0.1:0");
        assert!(!s.secure_cookies, "false given beats true in the file");
        assert_eq!(s.log_format, Format::Text, "from the file");
        assert_eq!(s.login.window, Duration::from_secs(60));
        assert_eq!(s.login.failures_per_name, 5, "the default");
        assert_eq!(s.data, PathBuf::from(DEFAULT_DATA));
    }

    #[test]
    fn connection_limits_come_from_flags_environment_file_or_defaults() {
        let file = parse(
            "[server]\nheader_read_timeout = 5\nidle_timeout = 30\nconnections_per_client = 8\n",
        )
        .unwrap();
        let given = Server {
            idle_timeout: Some(90),
            ..Server::default()
        };
        let s = resolve(given.or(file)).unwrap();
        assert_eq!(
            s.connections,
            ConnectionLimits {
                header_read: Duration::from_secs(5),
                idle: Duration::from_secs(90),
                per_client: 8,
            }
        );
        let s = resolve(Server::default()).unwrap();
        assert_eq!(s.connections.header_read, Duration::from_secs(10));
        assert_eq!(s.connections.idle, Duration::from_secs(60));
        assert_eq!(s.connections.per_client, 64);
    }

    #[test]
    fn bad_values_are_refused_clearly() {
        let bad = |toml: &str| {
            let e = resolve(parse(toml).unwrap()).unwrap_err();
            format!("{} | {}", e.zh, e.en)
        };
        assert!(bad("[server]\naddr = \"localhost\"\n").contains("not HOST:PORT"));
        assert!(bad("[server]\naddr = \"127.0.0.1:99999\"\n").contains("主机:端口"));
        assert!(bad("[server]\nlog = \"loud\"\n").contains("not a log filter"));
        assert!(bad("[server]\nlog_format = \"xml\"\n").contains("json or text"));
        assert!(
            bad("[server.login]\nattempts_per_second = 0\n")
                .contains("login.attempts_per_second must be at least 1")
        );
        assert!(bad("[server]\nidle_timeout = 0\n").contains("1 to 86400 seconds"));
        assert!(bad("[server]\nheader_read_timeout = 100000\n").contains("1 到 86400 秒"));
        assert!(bad("[server]\nconnections_per_client = 0\n").contains("at least 1"));
        assert!(bad("[server]\ninbox_every = 0\n").contains("1 to 604800 seconds"));
        let s = resolve(parse("[server]\ninbox_every = 3600\n").unwrap()).unwrap();
        assert_eq!(s.inbox_every, Some(Duration::from_secs(3600)));
        assert!(bad("[server]\nbackground_nice = 20\n").contains("0 (the same as reads) to 19"));
        assert!(bad("[server]\nbackground_nice = -1\n").contains("0（与读取同等）到 19"));
        let s = resolve(parse("[server]\nbackground_nice = 0\n").unwrap()).unwrap();
        assert_eq!(
            s.background_nice, 0,
            "0 keeps the writer at the readers' priority"
        );
        assert!(
            bad("[server]\ndemo_months = 11\n").contains("demo_months is 11: it must be 12 to 24")
        );
        assert!(bad("[server]\ndemo_months = 25\n").contains("须在 12 到 24 之间"));
        let s = resolve(parse("[server]\ndemo_months = 12\n").unwrap()).unwrap();
        assert_eq!(s.demo_months, 12);
    }

    #[test]
    fn relative_paths_in_the_file_are_from_its_folder() {
        let dir = std::env::temp_dir().join(format!("anxin-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("anxin.toml");
        std::fs::write(&path, "[server]\ndata = \"d\"\npolicy = \"/abs/policy\"\n").unwrap();
        let s = read(&path).unwrap();
        assert_eq!(s.data, Some(dir.join("d")));
        assert_eq!(s.policy, Some(PathBuf::from("/abs/policy")));
        let missing = read(&dir.join("nope.toml")).unwrap_err();
        assert_eq!(missing.code, 3);
        assert!(missing.en.contains("cannot read the config file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
