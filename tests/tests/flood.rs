//! A flood of large uploads against the real server (SPEC.md §13, §14.4): memory stays bounded
//! and a real submitter is still served.
//!
//! The flood: 20 clients upload 16 MiB bodies with an `Authorization` header signed by the wrong
//! key and 20 with no header at all, each starting again as soon as it is refused, for the
//! whole test. Meanwhile 3 clients with a *valid* header announce 16 MiB bodies of garbage and
//! send them slowly, taking the whole in-flight budget (48 MiB here), and 8 more like them
//! arrive while it is taken: those are answered `503` with `Retry-After` at once. During the
//! flood a real submission is acknowledged (`200`).
//!
//! Bound: the server's peak resident memory (`VmHWM` of `/proc/<pid>/status`) stays under
//! 200 MiB. Before authentication and the in-flight budget, every upload was read whole before
//! its signatures were checked: 12 concurrent 16 MiB uploads took the server to 1.0 GiB (the
//! issue's report), and this flood's 51 would need more than 800 MiB for their bodies alone.
//! Measured on the 2-core development machine (debug build, three runs): 62 MiB before the
//! flood, a peak of 103–121 MiB after it (the 48 MiB budget, taken whole, and its parsing).
//!
//! Every client shares 127.0.0.1, so the per-client rate limit on submissions would cut the
//! flood short; it is turned off here to show that memory is bounded without it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sightline_e2e::raw_http::{addr_of, head, proc_status_kib, upload, RawOutcome};
use sightline_e2e::*;

const MIB: usize = 1024 * 1024;
/// The stated bound on the server's peak resident memory.
const BOUND_MIB: u64 = 200;

#[test]
fn a_flood_of_uploads_keeps_memory_bounded_and_a_real_submission_is_served() {
    let server = Server::start_with(ServerOptions {
        args: ["--max-in-flight-bytes", &(48 * MIB).to_string(), "--rate-submissions", "off"].map(String::from).to_vec(),
        ..Default::default()
    });
    let acme = Submitter::new("acme-ads");
    server.register_submitter(&acme);
    server.register_standard_parties();
    let pid = server.pid().expect("running");
    let before_kib = proc_status_kib(pid, "VmHWM").expect("VmHWM");
    let size = server.tree_size();
    let addr = addr_of(&server.base);
    let path = "/api/v1/submissions";

    // 20 wrong-key and 20 headerless uploads, over and over until the end of the test.
    let stop = Arc::new(AtomicBool::new(false));
    let refused: Arc<Mutex<Vec<RawOutcome>>> = Arc::default();
    let impostor = Submitter::new("acme-ads");
    let flooders: Vec<_> = (0..40)
        .map(|i| {
            let (stop, refused, addr) = (stop.clone(), refused.clone(), addr.clone());
            let auth = (i % 2 == 0).then(|| impostor.auth_header());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut headers = vec![("Content-Type", "application/json")];
                    if let Some(a) = &auth {
                        headers.push(("Authorization", a.as_str()));
                    }
                    let out = upload(&addr, &head("POST", path, &addr, &headers, Some(16 * MIB)), 16 * MIB, b'{', None);
                    refused.lock().unwrap().push(out);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));

    // 3 valid uploads take the 48 MiB budget and hold it; 8 more arrive meanwhile.
    let garbage = |pause: Option<(usize, Duration)>| {
        let (addr, auth) = (addr.clone(), acme.auth_header());
        std::thread::spawn(move || {
            let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str())];
            upload(&addr, &head("POST", path, &addr, &headers, Some(16 * MIB)), 16 * MIB, b'x', pause)
        })
    };
    let holders: Vec<_> = (0..3).map(|_| garbage(Some((MIB, Duration::from_secs(4))))).collect();
    std::thread::sleep(Duration::from_secs(1));
    let late: Vec<_> = (0..8).map(|_| garbage(None)).collect();
    let late: Vec<RawOutcome> = late.into_iter().map(|t| t.join().unwrap()).collect();
    let holders: Vec<RawOutcome> = holders.into_iter().map(|t| t.join().unwrap()).collect();
    let over: Vec<&RawOutcome> = late.iter().chain(&holders).filter(|o| o.status == Some(503)).collect();
    assert!(!over.is_empty(), "uploads beyond the budget are refused with 503: {late:?}");
    for o in &over {
        assert!(o.header("retry-after").is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)), "503 carries Retry-After: {o:?}");
    }
    for o in late.iter().chain(&holders) {
        assert!(matches!(o.status, Some(400 | 503)), "garbage is 400 once read, or 503 before: {o:?}");
    }

    // The real submitter is served during the flood.
    let ack =
        server.submit(&[acme.record(political_message("acme-ads", "flood/real", "Still served"), &political_personal("r@example.org"))]);
    assert_eq!(ack["receipts"][0]["duplicate"], false);

    stop.store(true, Ordering::Relaxed);
    for t in flooders {
        t.join().unwrap();
    }
    let peak_kib = proc_status_kib(pid, "VmHWM").expect("VmHWM");
    eprintln!("server VmHWM: {} MiB before the flood, {} MiB after", before_kib / 1024, peak_kib / 1024);
    assert!(peak_kib < BOUND_MIB * 1024, "peak resident memory {} MiB is over the {BOUND_MIB} MiB bound", peak_kib / 1024);
    assert_eq!(server.tree_size(), size + 1, "only the real submission was written");

    let refused = refused.lock().unwrap();
    assert!(refused.len() >= 40, "every flooder made at least one attempt");
    assert!(refused.iter().all(|o| matches!(o.status, None | Some(401 | 403))), "no flood upload was accepted");
    for status in [401, 403] {
        assert!(refused.iter().any(|o| o.status == Some(status)), "some flood uploads were answered {status}");
    }
    let metrics = server.get("/metrics").text();
    for reason in ["unauthenticated", "request_signature", "over_capacity"] {
        let line = metrics.lines().find(|l| l.starts_with(&format!("sightline_refusals_total{{reason=\"{reason}\"}}"))).expect(reason);
        assert!(!line.ends_with(" 0"), "{line}");
    }
}
