//! `anxin-cluster`: the monitor's monthly run on Apache DataFusion Ballista (issue 16).
//!
//! ```text
//! anxin-cluster scheduler --bind 0.0.0.0:50050 [--executors N]
//! anxin-cluster executor --scheduler HOST:50050 --host THIS_HOST [--flight-port 50051] [--grpc-port 50052]
//! anxin-cluster run --cluster df://HOST:50050 --data DATA --month YYYY-MM [--region 330000] [--reform R]… [--out DIR]
//! ```
//!
//! `run` is `anxin monitor run` with the queries sent to the cluster; it writes the same result
//! files into the same place (DATA/monitor/runs/YYYY-MM unless --out).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anxin_domain::YearMonth;
use anxin_monitor::layout;
use anxin_monitor::platforms::Registry;
use anxin_monitor::run::{self, RunOptions};
use anxin_policy::{Error, ErrorKind, Policy};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "anxin-cluster",
    about = "anxin 监测月度运行的集群 — the monitor's monthly run on a Ballista cluster"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 调度器 — a Ballista scheduler (gRPC; /healthz and /readyz over HTTP on the same port).
    Scheduler {
        #[arg(long, default_value = "127.0.0.1:50050")]
        bind: SocketAddr,
        /// Ready (/readyz 200) once this many executors have registered.
        #[arg(long, default_value_t = 1)]
        executors: usize,
    },
    /// 执行器 — a Ballista executor serving the scheduler at --scheduler.
    Executor(anxin_monitor_cluster::ExecutorOptions),
    /// 月度运行 — `anxin monitor run` with the queries on the cluster.
    Run {
        /// The scheduler, df://HOST:PORT.
        #[arg(long, env = "ANXIN_CLUSTER")]
        cluster: String,
        /// The data directory (the same path on every executor).
        #[arg(long, env = "ANXIN_DATA")]
        data: PathBuf,
        /// Policy files [default: the copy built in].
        #[arg(long)]
        policy: Option<PathBuf>,
        #[arg(long, default_value = "330000")]
        region: String,
        #[arg(long, value_parser = parse_month)]
        month: YearMonth,
        #[arg(long = "reform")]
        reforms: Vec<String>,
        /// Target partitions of each stage (0: DataFusion's default).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Where to write the CSV results [default: DATA/monitor/runs/YYYY-MM].
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn parse_month(s: &str) -> Result<YearMonth, String> {
    YearMonth::parse(s).map_err(|_| format!("月份应为 YYYY-MM / a month is YYYY-MM: {s}"))
}

/// Ballista's log lines (the `log` crate) on standard error, at the level in `ANXIN_CLUSTER_LOG`
/// (error, warn, info, debug, trace; default warn).
struct Stderr;

impl log::Log for Stderr {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            eprintln!("{} {} {}", r.level(), r.target(), r.args());
        }
    }
    fn flush(&self) {}
}

static LOGGER: Stderr = Stderr;

fn main() -> ExitCode {
    let level = std::env::var("ANXIN_CLUSTER_LOG")
        .ok()
        .and_then(|v| v.parse::<log::LevelFilter>().ok())
        .unwrap_or(log::LevelFilter::Warn);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
    let cli = Cli::parse();
    match go(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} / {}", e.zh, e.en);
            ExitCode::from(match e.kind {
                ErrorKind::BadInput => 2,
                ErrorKind::NotFound => 3,
                _ => 1,
            })
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::new(ErrorKind::Internal, format!("{e}"), format!("{e}")))
}

fn go(cmd: Command) -> Result<(), Error> {
    match cmd {
        Command::Scheduler { bind, executors } => {
            println!("调度器监听 {bind} / scheduler listening on {bind}");
            runtime()?.block_on(anxin_monitor_cluster::scheduler(bind, executors))
        }
        Command::Executor(o) => runtime()?.block_on(anxin_monitor_cluster::executor(o)),
        Command::Run {
            cluster,
            data,
            policy,
            region,
            month,
            reforms,
            threads,
            out,
        } => {
            let policy = match &policy {
                Some(dir) => Policy::load_dir(dir),
                None => Policy::embedded(),
            }
            .map_err(|errs| {
                let list: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
                Error::new(
                    ErrorKind::PolicyFiles,
                    format!("政策文件有 {} 处错误：{}", errs.len(), list.join("；")),
                    format!(
                        "{} problem(s) in the policy files: {}",
                        errs.len(),
                        list.join("; ")
                    ),
                )
            })?;
            let reg = Registry::of_data_dir(&data)?;
            let t0 = std::time::Instant::now();
            let o = RunOptions {
                region,
                month,
                reforms,
                threads,
            };
            let r = anxin_monitor_cluster::run(&cluster, &data, &policy, &reg, &o)?;
            let out = out.unwrap_or_else(|| layout::runs_dir(&data, month));
            run::write_outputs(&out, &r)?;
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "{} 月度运行在集群 {cluster} 上完成（{secs:.1} 秒）：预警 {} 条，平台评级 {} 个，结果写入 {} / \
                 {} monthly run on the cluster {cluster} ({secs:.1} s): {} alerts, {} platforms rated, results in {}",
                r.month,
                r.alerts.len(),
                r.compliance.len(),
                out.display(),
                r.month,
                r.alerts.len(),
                r.compliance.len(),
                out.display()
            );
            Ok(())
        }
    }
}
