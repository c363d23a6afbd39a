//! The monitor's monthly run on a cluster (issue 16): Apache DataFusion Ballista, the
//! distributed engine of the DataFusion project, for when one machine is outgrown.
//!
//! - [`run`]: the same run as `anxin monitor run` — `anxin_monitor::run::run_on`, the same SQL
//!   and the same rules — on a session connected to a Ballista scheduler instead of one in
//!   this process. Only the [`SessionContext`] differs.
//! - [`scheduler`] and [`executor`]: the cluster's processes, built from Ballista's own
//!   crates (`anxin-cluster scheduler|executor`).
//!
//! Every executor reads the Parquet files itself, so the data directory must be at the same
//! path on every machine (shared storage); the results come back to the caller, who writes
//! them as the embedded run does.
//!
//! Ballista lives in this crate only, so no other crate's build waits for it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anxin_monitor::platforms::Registry;
use anxin_monitor::run::{self, RunOptions, RunReport};
use anxin_policy::{Error, ErrorKind, Policy};
use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn cluster_error(e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("集群出错：{e}"),
        format!("the cluster failed: {e}"),
    )
}

/// A scheduler's address as `df://HOST:PORT` (the port defaults to 50050).
pub fn check_url(url: &str) -> Result<()> {
    let rest = url.strip_prefix("df://").ok_or_else(|| {
        Error::new(
            ErrorKind::BadInput,
            format!("集群地址应为 df://主机:端口，收到 {url}"),
            format!("a cluster address is df://HOST:PORT, got {url}"),
        )
    })?;
    if rest.is_empty() || rest.contains('/') {
        return Err(Error::new(
            ErrorKind::BadInput,
            format!("集群地址应为 df://主机:端口（不带路径），收到 {url}"),
            format!("a cluster address is df://HOST:PORT (no path), got {url}"),
        ));
    }
    Ok(())
}

/// A session whose queries run on the cluster behind the scheduler at `url`
/// (`threads`: the target partitions of each stage, 0 for DataFusion's default).
pub async fn connect(url: &str, threads: usize) -> Result<SessionContext> {
    check_url(url)?;
    // Ballista 55's adaptive planner (its default) never finishes the alerts query: once it
    // sees the empty `school` view's side of a join (an EmptyExec), every replan adds one
    // more single-task stage (tens of thousands of stages and shuffle files, no end). The
    // static distributed planner cuts DataFusion's own physical plan into stages and ends.
    let mut config: SessionConfig = SessionConfig::new_with_ballista()
        .with_ballista_job_name("anxin monitor run")
        .set_bool("ballista.planner.adaptive.enabled", false);
    if threads > 0 {
        config = config.with_target_partitions(threads);
    }
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    SessionContext::remote_with_state(url, state)
        .await
        .map_err(cluster_error)
}

/// The monthly run on the cluster at `url`: the embedded run's code path with the cluster's
/// session.
pub fn run(
    url: &str,
    data_dir: &Path,
    policy: &Policy,
    reg: &Registry,
    o: &RunOptions,
) -> Result<RunReport> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(cluster_error)?;
    rt.block_on(async {
        let ctx = connect(url, o.threads).await?;
        run::run_on(ctx, data_dir, policy, reg, o).await
    })
}

/// A Ballista scheduler listening on `bind` (gRPC, and `/healthz`, `/readyz` over HTTP on the
/// same port), ready once `executors` executors have registered. Runs until the process ends.
pub async fn scheduler(bind: SocketAddr, executors: usize) -> Result<()> {
    let config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        min_ready_executors: executors.max(1),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(cluster_error)?;
    ballista_scheduler::scheduler_process::start_server(cluster, bind, Arc::new(config))
        .await
        .map_err(cluster_error)
}

/// Where an executor listens and which scheduler it serves (`anxin-cluster executor`'s
/// options).
#[derive(Clone, Debug, clap::Args)]
pub struct ExecutorOptions {
    /// The scheduler's gRPC address.
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub scheduler: SocketAddr,
    /// The address this executor binds and advertises to the others.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Arrow Flight port: the shuffle and the results are fetched from here.
    #[arg(long, default_value_t = 50051)]
    pub flight_port: u16,
    /// The executor's own gRPC port.
    #[arg(long, default_value_t = 50052)]
    pub grpc_port: u16,
    /// Tasks run at once (0: every core).
    #[arg(long, default_value_t = 0)]
    pub slots: usize,
    /// Where the shuffle files go (default: a directory of the system's temporary directory).
    #[arg(long)]
    pub work_dir: Option<String>,
}

/// A Ballista executor that registers with the scheduler and runs its tasks until the
/// process ends.
pub async fn executor(o: ExecutorOptions) -> Result<()> {
    let mut config = ExecutorProcessConfig {
        bind_host: o.host.clone(),
        external_host: Some(o.host.clone()),
        port: o.flight_port,
        grpc_port: o.grpc_port,
        scheduler_host: o.scheduler.ip().to_string(),
        scheduler_port: o.scheduler.port(),
        scheduler_connect_timeout_seconds: 30,
        work_dir: o.work_dir.clone(),
        ..ExecutorProcessConfig::default()
    };
    if o.slots > 0 {
        config.vcores = o.slots;
    }
    start_executor_process(Arc::new(config))
        .await
        .map_err(cluster_error)
}
