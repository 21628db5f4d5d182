//! The server's accept loop (SPEC.md §13): HTTP/1.1 over hyper, with the limits `axum::serve`
//! cannot set.
//!
//! - **Header timeout**: a request's head (request line and headers) must arrive within it,
//!   counted from when the connection starts waiting for that request, so it also bounds how
//!   long a kept-alive connection may sit idle between requests (hyper's `header_read_timeout`).
//! - **Idle timeout**: a connection on which no byte moved either way for this long is closed
//!   ([`IdleTimeout`]): a client that stops reading its response, or stalls mid-body.
//! - **Connections per client**: a client ([`crate::rate_limit::client_key`]) with this many
//!   connections open has further ones closed at once.
//! - The body timeout and the in-flight body budget are per request (`admission.rs`).
//!
//! Each request carries its peer address (`ConnectInfo<SocketAddr>`) for the rate limits. On
//! the shutdown signal the listener closes and every open connection finishes its request.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::admission::Admission;
use crate::metrics::HttpMetrics;
use crate::rate_limit::client_key;

/// The connection-level limits.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// How long a connection may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a connection may stay open with nothing moving.
    pub idle_timeout: Duration,
    /// The most connections one client may hold open at once.
    pub max_connections_per_client: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits { header_timeout: Duration::from_secs(10), idle_timeout: Duration::from_secs(60), max_connections_per_client: 256 }
    }
}

/// How often forgotten clients are dropped from the rate limiters.
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// Serves `app` on `listener` until `shutdown` resolves, then lets open connections finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    metrics: Arc<HttpMetrics>,
    admission: Arc<Admission>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let clients = Arc::new(Clients::default());
    let mut shutdown = std::pin::pin!(shutdown);
    let mut forget = tokio::time::interval(FORGET_EVERY);
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = forget.tick() => {
                admission.forget_idle_clients();
                continue;
            }
            () = &mut shutdown => break,
        };
        let Some(slot) = Clients::enter(&clients, peer.ip(), limits.max_connections_per_client) else {
            metrics.refusals.count("connection_limit");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let idle = IdleTimeout::new(stream, limits.idle_timeout);
        let timed_out = Arc::clone(&idle.timed_out);
        let service = app.clone().map_request(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            req
        });
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(idle), TowerToHyperService::new(service)));
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = conn.await {
                let reason = if e.is_timeout() {
                    "header_timeout"
                } else if timed_out.load(std::sync::atomic::Ordering::Relaxed) {
                    "idle_timeout"
                } else {
                    "connection_error"
                };
                metrics.refusals.count(reason);
                tracing::debug!(error = %e, reason, "connection closed");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Open connections per client.
#[derive(Default)]
struct Clients(Mutex<HashMap<IpAddr, usize>>);

/// One open connection of a client; leaving frees its place.
struct Slot {
    clients: Arc<Clients>,
    key: IpAddr,
}

impl Clients {
    /// Takes a place for a connection from `ip`, unless it has `max` open already.
    fn enter(clients: &Arc<Clients>, ip: IpAddr, max: usize) -> Option<Slot> {
        let key = client_key(ip);
        let mut open = clients.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot { clients: Arc::clone(clients), key })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.clients.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// A stream that fails with `TimedOut` once no byte has moved either way for `idle`. The timer
/// is re-armed lazily: progress only records the time, and a read or write that has to wait
/// checks the deadline.
pub struct IdleTimeout<S> {
    inner: S,
    idle: Duration,
    last_progress: Instant,
    timer: Pin<Box<Sleep>>,
    /// Set when the stream timed out, for the connection's metrics.
    pub timed_out: Arc<std::sync::atomic::AtomicBool>,
}

impl<S> IdleTimeout<S> {
    /// Wraps `inner`, cut after `idle` with nothing read or written.
    pub fn new(inner: S, idle: Duration) -> IdleTimeout<S> {
        IdleTimeout { inner, idle, last_progress: Instant::now(), timer: Box::pin(tokio::time::sleep(idle)), timed_out: Default::default() }
    }

    /// `Ready(error)` once the deadline has passed with no progress; otherwise arms the timer.
    fn expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        loop {
            let deadline = self.last_progress + self.idle;
            if Instant::now() >= deadline {
                self.timed_out.store(true, std::sync::atomic::Ordering::Relaxed);
                return Poll::Ready(io::Error::new(io::ErrorKind::TimedOut, "no byte moved within the idle timeout"));
            }
            if self.timer.deadline() != deadline {
                self.timer.as_mut().reset(deadline);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    fn progressed(&mut self, moved: bool) {
        if moved {
            self.last_progress = Instant::now();
        }
    }

    /// A write's outcome: progress if bytes moved, the deadline if it has to wait.
    fn after_write(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(r) => {
                self.progressed(matches!(r, Ok(n) if n > 0));
                Poll::Ready(r)
            }
            Poll::Pending => self.expired(cx).map(Err),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.progressed(buf.filled().len() > before);
                Poll::Ready(r)
            }
            Poll::Pending => this.expired(cx).map(Err),
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, data);
        this.after_write(cx, written)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.after_write(cx, written)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_stream_with_no_progress_times_out_and_progress_keeps_it_open() {
        let (client, server) = tokio::io::duplex(64);
        let mut s = IdleTimeout::new(server, Duration::from_secs(10));
        let mut c = client;
        let mut buf = [0u8; 8];
        // Progress every 6 s keeps it open past the 10 s.
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_secs(6)).await;
            c.write_all(b"x").await.unwrap();
            assert_eq!(s.read(&mut buf).await.unwrap(), 1);
        }
        let err = s.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(s.timed_out.load(std::sync::atomic::Ordering::Relaxed));
    }

    #[test]
    fn a_client_has_at_most_its_connections() {
        let clients = Arc::new(Clients::default());
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let first = Clients::enter(&clients, a, 2).unwrap();
        let _second = Clients::enter(&clients, a, 2).unwrap();
        assert!(Clients::enter(&clients, a, 2).is_none());
        assert!(Clients::enter(&clients, "192.0.2.2".parse().unwrap(), 2).is_some(), "another client");
        drop(first);
        assert!(Clients::enter(&clients, a, 2).is_some(), "a closed connection frees its place");
    }
}
