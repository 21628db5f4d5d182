//! Slow and greedy clients against the real server (SPEC.md §13): a request head sent one byte
//! a second is cut at the header timeout, a body that stalls is answered `408` at the body
//! timeout, a client over its connection cap has further connections closed, and normal
//! clients are served meanwhile.

use std::time::{Duration, Instant};

use sightline_e2e::raw_http::{addr_of, drip, head, head_only};
use sightline_e2e::*;

fn server_with(args: &[&str]) -> (Server, Submitter) {
    let server = Server::start_with(ServerOptions { args: args.iter().map(|s| s.to_string()).collect(), ..Default::default() });
    let acme = Submitter::new("acme-ads");
    server.register_submitter(&acme);
    server.register_standard_parties();
    (server, acme)
}

#[test]
fn connections_sending_a_byte_a_second_are_closed_at_the_header_timeout_while_others_are_served() {
    let (server, acme) = server_with(&["--header-timeout", "5"]);
    let addr = addr_of(&server.base);
    // A 60-byte head at one byte a second would take a minute. The timeout leaves a loaded
    // machine (a debug build, other tests) room to serve the normal client while they drip.
    let slow_head = head("GET", "/healthz", &addr, &[("X-Slow", "aaaaaaaaaaaaaaaaaaaaa")], None);
    let slow: Vec<_> = (0..5)
        .map(|_| {
            let (addr, text) = (addr.clone(), slow_head.clone());
            std::thread::spawn(move || drip(&addr, text.as_bytes(), Duration::from_secs(1)))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // A normal client is served at once meanwhile, reads and writes alike.
    let started = Instant::now();
    assert_eq!(server.get("/healthz").status, 200);
    server.submit(&[acme.record(political_message("acme-ads", "slow/normal", "Normal"), &political_personal("n@example.org"))]);
    assert!(started.elapsed() < Duration::from_secs(4), "the normal client waited {:?}", started.elapsed());
    for t in slow {
        let (open_for, closed) = t.join().unwrap();
        assert!(closed, "the slow connection was closed by the server");
        assert!(open_for < Duration::from_secs(9), "closed after {open_for:?}, not at the 5 s header timeout");
    }
    // The server counts a connection once it has closed it, so the client can see the close a
    // moment before the count: wait for it a little.
    let counted = "sightline_refusals_total{reason=\"header_timeout\"} 5";
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut metrics = server.get("/metrics").text();
    while !metrics.contains(counted) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        metrics = server.get("/metrics").text();
    }
    assert!(metrics.contains(counted), "{metrics}");
}

#[test]
fn a_body_that_stalls_is_answered_408_at_the_body_timeout_and_writes_nothing() {
    let (server, acme) = server_with(&["--body-timeout", "2"]);
    let size = server.tree_size();
    let addr = addr_of(&server.base);
    let auth = acme.auth_header();
    let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    let started = Instant::now();
    // 1 KiB announced, 100 bytes sent, then nothing.
    let mut text = head("POST", "/api/v1/submissions", &addr, &headers, Some(1024));
    text.push_str(&"{".repeat(100));
    let out = head_only(&addr, &text, Duration::from_secs(10));
    assert_eq!(out.status, Some(408), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(8), "answered after {:?}", started.elapsed());
    assert_eq!(server.tree_size(), size);
    let metrics = server.get("/metrics").text();
    assert!(!metrics.contains("sightline_refusals_total{reason=\"body_timeout\"} 0"), "{metrics}");
}

#[test]
fn a_client_over_its_connection_cap_has_further_connections_closed() {
    let (server, _acme) = server_with(&["--max-connections-per-client", "4", "--header-timeout", "20"]);
    let addr = addr_of(&server.base);
    // Four open connections that send nothing.
    let held: Vec<_> = (0..4).map(|_| std::net::TcpStream::connect(&addr).expect("connect")).collect();
    // On a loaded machine the server may take a moment to accept all four; until it has, a fifth
    // may still be served. Once it has, a fifth is closed without an answer.
    let deadline = Instant::now() + Duration::from_secs(10);
    let fifth = loop {
        let fifth = head_only(&addr, &head("GET", "/healthz", &addr, &[], None), Duration::from_secs(2));
        if fifth.status.is_none() || Instant::now() > deadline {
            break fifth;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(fifth.status, None, "the fifth connection is closed without an answer: {fifth:?}");
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.get("/healthz").status, 200, "closed connections free their places");
    let metrics = server.get("/metrics").text();
    assert!(!metrics.contains("sightline_refusals_total{reason=\"connection_limit\"} 0"), "{metrics}");
}
