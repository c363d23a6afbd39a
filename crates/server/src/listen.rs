//! The accept loop: HTTP/1.1 connections served by hyper, with the limits a public server
//! needs against clients that hold connections open (issue 12, item 6).
//!
//! - **Header read**: once a request has begun to arrive, its whole header must be in within
//!   [`ConnectionLimits::header_read`], or the connection is closed.
//! - **Idle**: a connection waiting for its next request (a fresh one, or kept alive between
//!   requests) is closed after [`ConnectionLimits::idle`] (hyper's header-read timer, which
//!   runs whenever the connection waits for a request head).
//! - **Per client**: at most [`ConnectionLimits::per_client`] connections open from one
//!   address; the next one is answered `429` in the one error shape and closed.
//!
//! A request being handled is never cut short by these: a long import or audit is bounded by
//! its own limits, not by the connection's.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;

use crate::logging;

/// How long a connection may take and how many one client may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a request's first byte to the end of its header.
    pub header_read: Duration,
    /// Waiting for the next request on an open connection.
    pub idle: Duration,
    /// Connections open at once from one client address.
    pub per_client: usize,
}

impl Default for ConnectionLimits {
    /// What a public deployment can use: 10 s to send a header, 60 s idle, 64 connections per
    /// client address (a browser opens 6; a proxy or office behind one address more).
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            per_client: 64,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then stops accepting and waits
/// for the connections' requests in flight to finish.
pub async fn run(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let clients = Clients::default();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.idle);
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin.
                    tracing::warn!(target: logging::SERVER, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = clients.take(addr.ip(), limits.per_client) else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let _ = stream.set_nodelay(true);
        let watch = Arc::new(Watch::default());
        let io = TokioIo::new(Watched {
            inner: stream,
            watch: watch.clone(),
        });
        let service = hyper::service::service_fn({
            let router = router.clone();
            let watch = watch.clone();
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(addr));
                let busy = Busy::begin(&watch);
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await;
                    drop(busy);
                    response
                }
            }
        });
        let connection = graceful.watch(http.serve_connection(io, service));
        let header_read = limits.header_read;
        tokio::spawn(async move {
            tokio::select! {
                _ = connection => {}
                () = watch.header_overdue(header_read) => {}
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The answer to a connection over the per-client limit.
async fn refuse(mut stream: TcpStream) {
    let body = r#"{"error":{"kind":"too_many_connections","zh":"来自你这个地址的连接太多：请先关掉一些再试","en":"too many connections from your address: close some and try again"}}"#;
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    })
    .await;
}

/// Open connections per client address.
#[derive(Clone, Default)]
struct Clients(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl Clients {
    fn lock(&self) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot for one more connection from `ip`, if it has fewer than `max`.
    fn take(&self, ip: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self.lock();
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            clients: self.clone(),
            ip,
        })
    }
}

/// One open connection; gives its place back when dropped.
struct Slot {
    clients: Clients,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.clients.lock();
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// What one connection is doing: requests in flight, and when the bytes of the next request
/// began to arrive.
#[derive(Default)]
struct Watch(Mutex<WatchState>);

#[derive(Default)]
struct WatchState {
    in_flight: usize,
    head_started: Option<Instant>,
}

impl Watch {
    fn lock(&self) -> MutexGuard<'_, WatchState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes arrived: with no request in flight, they begin the next request's header.
    fn read(&self) {
        let mut s = self.lock();
        if s.in_flight == 0 && s.head_started.is_none() {
            s.head_started = Some(Instant::now());
        }
    }

    /// Resolves when a header has been arriving for longer than `limit`.
    async fn header_overdue(&self, limit: Duration) {
        let tick = (limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        loop {
            let started = self.lock().head_started;
            match started.map(|t| t.elapsed()) {
                Some(waited) if waited >= limit => return,
                Some(waited) => tokio::time::sleep(limit - waited).await,
                None => tokio::time::sleep(tick).await,
            }
        }
    }
}

/// A request in flight on a connection.
struct Busy(Arc<Watch>);

impl Busy {
    fn begin(watch: &Arc<Watch>) -> Busy {
        let mut s = watch.lock();
        s.in_flight += 1;
        s.head_started = None;
        drop(s);
        Busy(watch.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

/// The connection's stream, telling its [`Watch`] when bytes arrive.
struct Watched {
    inner: TcpStream,
    watch: Arc<Watch>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.watch.read();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
