//! A minimal HTTP/1.1 endpoint for Prometheus: `GET /metrics` answers the text exposition, one
//! request per connection. No HTTP framework: a scrape is one small request, and an
//! application that already runs a web server mounts
//! [`MetricsProcessor::encode_prometheus`] on its own router instead.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::task::JoinHandle;

use super::prometheus::CONTENT_TYPE;
use super::MetricsProcessor;

/// The largest request head read; longer ones get `431`.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A `/metrics` endpoint running on the current Tokio runtime; stops when dropped.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// let metrics = agent_trace_toolkit::metrics::MetricsProcessor::new();
/// let server = agent_trace_toolkit::metrics::MetricsServer::bind("127.0.0.1:9464", metrics).await?;
/// println!("scrape http://{}/metrics", server.local_addr());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl MetricsServer {
    /// Binds `addr` (port 0 picks a free port) and serves `metrics` there in a task of the
    /// current runtime.
    pub async fn bind(addr: impl ToSocketAddrs, metrics: MetricsProcessor) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = serve(listener, metrics).await;
        });
        Ok(MetricsServer { addr, task })
    }

    /// Serves `metrics` on an already bound, non-blocking std listener, in a task of the
    /// current runtime (call it inside one).
    pub fn from_std(
        listener: std::net::TcpListener,
        metrics: MetricsProcessor,
    ) -> io::Result<Self> {
        let listener = TcpListener::from_std(listener)?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = serve(listener, metrics).await;
        });
        Ok(MetricsServer { addr, task })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `metrics` on `listener` until accepting fails; each connection is handled in its own
/// task. `GET` or `HEAD /metrics` gets the Prometheus text format, any other path `404`, any
/// other method `405`.
pub async fn serve(listener: TcpListener, metrics: MetricsProcessor) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(READ_TIMEOUT, handle(stream, &metrics)).await;
        });
    }
}

async fn handle(mut stream: TcpStream, metrics: &MetricsProcessor) -> io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return respond(
                &mut stream,
                "431 Request Header Fields Too Large",
                "",
                false,
            )
            .await;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET" | "HEAD", "/metrics") => {
            let body = metrics.encode_prometheus();
            respond(&mut stream, "200 OK", &body, method == "HEAD").await
        }
        ("GET" | "HEAD", _) => respond(&mut stream, "404 Not Found", "try /metrics\n", false).await,
        _ => respond(&mut stream, "405 Method Not Allowed", "", false).await,
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    body: &str,
    head_only: bool,
) -> io::Result<()> {
    let content_type = if status.starts_with("200") {
        CONTENT_TYPE
    } else {
        "text/plain; charset=utf-8"
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(body);
    }
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}
