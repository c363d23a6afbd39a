//! The server on a real socket, against clients that hold connections open (issue 12, item
//! 6): a header sent by halves is cut off after the header-read timeout, an idle connection
//! after the idle timeout, one client's connection past its limit is answered 429, and plain
//! requests (kept alive too) still work.

use std::time::{Duration, Instant};

use anxin_server::listen::{ConnectionLimits, run};
use anxin_server::{AppState, router};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const GET: &[u8] = b"GET /healthz HTTP/1.1\r\nhost: anxin.test\r\n\r\n";

/// A server with `limits` on a free port; stops when the returned sender is dropped.
async fn server(
    limits: ConnectionLimits,
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState::new(anxin_policy::Policy::embedded().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(run(listener, router(state), limits, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

/// Reads one response (headers and a body of content-length bytes).
async fn response(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("a response in time")
            .unwrap();
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}

/// How long until the server closes `stream` (reading and discarding anything it sends).
async fn closed_after(stream: &mut TcpStream, at_most: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(at_most, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("still open after {at_most:?}"),
        }
    }
}

#[tokio::test]
async fn a_half_sent_header_is_cut_off_after_the_header_read_timeout() {
    let (addr, _stop) = server(ConnectionLimits {
        header_read: Duration::from_millis(300),
        idle: Duration::from_secs(30),
        per_client: 64,
    })
    .await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: anx")
        .await
        .unwrap();
    let waited = closed_after(&mut slow, Duration::from_secs(5)).await;
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
    // A client sending its header at a normal pace is served, and kept alive.
    let mut fine = TcpStream::connect(addr).await.unwrap();
    for _ in 0..3 {
        fine.write_all(GET).await.unwrap();
        let r = response(&mut fine).await;
        assert!(r.starts_with("HTTP/1.1 200") && r.ends_with("ok"), "{r}");
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let (addr, _stop) = server(ConnectionLimits {
        header_read: Duration::from_secs(30),
        idle: Duration::from_millis(500),
        per_client: 64,
    })
    .await;
    // Never sends a byte.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let waited = closed_after(&mut silent, Duration::from_secs(5)).await;
    assert!(
        waited >= Duration::from_millis(400),
        "closed after {waited:?}"
    );
    // Kept alive after a request, then silent.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(GET).await.unwrap();
    assert!(response(&mut kept).await.starts_with("HTTP/1.1 200"));
    let waited = closed_after(&mut kept, Duration::from_secs(5)).await;
    assert!(
        waited >= Duration::from_millis(400),
        "closed after {waited:?}"
    );
}

#[tokio::test]
async fn one_client_gets_at_most_its_connections() {
    let (addr, _stop) = server(ConnectionLimits {
        header_read: Duration::from_secs(30),
        idle: Duration::from_secs(30),
        per_client: 3,
    })
    .await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(GET).await.unwrap();
        assert!(response(&mut c).await.starts_with("HTTP/1.1 200"));
        open.push(c);
    }
    // The fourth: 429 in the one error shape, then closed.
    let mut fourth = TcpStream::connect(addr).await.unwrap();
    let r = response(&mut fourth).await;
    assert!(r.starts_with("HTTP/1.1 429"), "{r}");
    let body = r.split_once("\r\n\r\n").unwrap().1;
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["error"]["kind"], "too_many_connections");
    assert!(v["error"]["zh"].is_string() && v["error"]["en"].is_string());
    closed_after(&mut fourth, Duration::from_secs(5)).await;
    // The first three still work; closing one makes room for another.
    for c in &mut open {
        c.write_all(GET).await.unwrap();
        assert!(response(c).await.starts_with("HTTP/1.1 200"));
    }
    drop(open.pop());
    let mut again = None;
    for _ in 0..50 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(GET).await.unwrap();
        if response(&mut c).await.starts_with("HTTP/1.1 200") {
            again = Some(c);
            break;
        }
        // The server may not have seen the close yet.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        again.is_some(),
        "a freed place is given to the next connection"
    );
}
