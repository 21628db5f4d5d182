//! HTTP/1.1 written by hand on a socket, for what a well-behaved client library will not do:
//! upload a body the server refuses to read, pause in the middle of a request, or send its
//! head one byte at a time. Also the server's memory, read from `/proc/<pid>/status`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// `host:port` of a base URL `http://host:port`.
pub fn addr_of(base: &str) -> String {
    base.trim_start_matches("http://").trim_end_matches('/').to_string()
}

/// A request head: request line, `Host`, the given headers, and `Content-Length` if given.
pub fn head(method: &str, path: &str, host: &str, headers: &[(&str, &str)], content_length: Option<usize>) -> String {
    let mut h = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        h.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(n) = content_length {
        h.push_str(&format!("Content-Length: {n}\r\n"));
    }
    h.push_str("\r\n");
    h
}

/// What came back on a raw connection.
#[derive(Debug, Default, Clone)]
pub struct RawOutcome {
    /// The response's status, if one arrived before the connection ended.
    pub status: Option<u16>,
    /// The response's headers (names lower-cased).
    pub headers: Vec<(String, String)>,
    /// Body bytes the client managed to write before the server closed the connection.
    pub body_sent: usize,
}

impl RawOutcome {
    /// The value of the header named `name`, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Parses the status line and headers of a (possibly partial) response.
fn parse_response(bytes: &[u8]) -> (Option<u16>, Vec<(String, String)>) {
    let text = String::from_utf8_lossy(bytes);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok());
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    (status, headers)
}

/// Sends `head`, then up to `body_len` bytes of `fill` in 64 KiB chunks, pausing `pause` once
/// after `pause_after` bytes; meanwhile reads whatever the server answers. Returns when the
/// server has answered and closed, or the body is sent and the answer read.
pub fn upload(addr: &str, head: &str, body_len: usize, fill: u8, pause_after: Option<(usize, Duration)>) -> RawOutcome {
    let Ok(mut stream) = TcpStream::connect(addr) else { return RawOutcome::default() };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let Ok(mut reader) = stream.try_clone() else { return RawOutcome::default() };
    let reading = std::thread::spawn(move || read_answer(&mut reader, false));
    let mut sent = 0;
    if stream.write_all(head.as_bytes()).is_ok() {
        let chunk = vec![fill; 64 * 1024];
        let mut paused = false;
        while sent < body_len {
            if let Some((after, pause)) = pause_after {
                if !paused && sent >= after {
                    std::thread::sleep(pause);
                    paused = true;
                }
            }
            let n = chunk.len().min(body_len - sent);
            if stream.write_all(&chunk[..n]).is_err() {
                break;
            }
            sent += n;
        }
    }
    // No half-close: the server takes the end of the client's stream for an abandoned request.
    // `Connection: close` makes it close after answering.
    let got = reading.join().unwrap_or_default();
    drop(stream);
    let (status, headers) = parse_response(&got);
    RawOutcome { status, headers, body_sent: sent }
}

/// Sends `head` without its body, and returns the answer the server gives without waiting for
/// the body (within `wait`), if any.
pub fn head_only(addr: &str, head: &str, wait: Duration) -> RawOutcome {
    let Ok(mut stream) = TcpStream::connect(addr) else { return RawOutcome::default() };
    let _ = stream.set_read_timeout(Some(wait));
    if stream.write_all(head.as_bytes()).is_err() {
        return RawOutcome::default();
    }
    let (status, headers) = parse_response(&read_answer(&mut stream, true));
    RawOutcome { status, headers, body_sent: 0 }
}

/// Reads what the server sends until it closes the connection (or a read fails or times out),
/// or only until the end of the response head.
fn read_answer(stream: &mut TcpStream, head_only: bool) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if head_only && got.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    got
}

/// Writes `text` one byte every `every`, until the server closes the connection (or answers,
/// or it was all sent). Returns how long the connection stayed open, and whether it closed
/// before the text was all sent.
pub fn drip(addr: &str, text: &[u8], every: Duration) -> (Duration, bool) {
    let start = Instant::now();
    let Ok(mut stream) = TcpStream::connect(addr) else { return (start.elapsed(), true) };
    let _ = stream.set_read_timeout(Some(every));
    let mut buf = [0u8; 1024];
    for b in text {
        if stream.write_all(std::slice::from_ref(b)).is_err() {
            return (start.elapsed(), true);
        }
        match stream.read(&mut buf) {
            // Closed (0) or reset, or an answer: either way the server is done with it.
            Ok(_) => return (start.elapsed(), true),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(_) => return (start.elapsed(), true),
        }
    }
    (start.elapsed(), false)
}

/// A field of `/proc/<pid>/status` in KiB (`VmHWM`: the peak resident memory; `VmRSS`: now).
pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_head_is_parsed() {
        let (status, headers) = parse_response(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\ncontent-type: x\r\n\r\n{}");
        assert_eq!(status, Some(503));
        assert_eq!(headers[0], ("retry-after".to_string(), "1".to_string()));
        assert_eq!(parse_response(b"").0, None);
    }

    #[test]
    fn this_process_has_a_peak_resident_size() {
        assert!(proc_status_kib(std::process::id(), "VmHWM").is_some_and(|k| k > 0));
    }
}
