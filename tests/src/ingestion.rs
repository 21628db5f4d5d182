//! Submitters that keep ingesting while the tests break things ([`Ingestion`]): each client
//! thread sends numbered batches to the front ends it is given, and sends the same batch again
//! (the same bytes, so a record already appended is a duplicate) after a `503`, a `429` or a
//! broken connection, moving to the next front end after a broken connection. Every
//! acknowledged record is kept, with the entry its receipt carries, so that a test can check
//! that each one is in the log afterwards.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};

use crate::{personal, plain_message, Submitter};

/// One acknowledged record: its message id, entry index and the entry its receipt carries.
#[derive(Clone, Debug)]
pub struct Acked {
    /// The record's message id.
    pub message_id: String,
    /// Its entry.
    pub index: u64,
    /// The entry bytes of its receipt, as JSON.
    pub entry: Value,
}

/// What the clients saw besides acknowledgements.
#[derive(Default, Debug)]
pub struct Refusals {
    /// `503` answers, and how many of them carried `Retry-After`.
    pub unavailable: AtomicUsize,
    /// `503` answers with a `Retry-After` header.
    pub unavailable_with_retry_after: AtomicUsize,
    /// Connections refused or broken (a front end killed).
    pub broken: AtomicUsize,
}

/// Client threads ingesting until told to stop or done.
pub struct Ingestion {
    threads: Vec<JoinHandle<Result<(), String>>>,
    stop: Arc<AtomicBool>,
    /// Every acknowledged record so far.
    pub acked: Arc<Mutex<Vec<Acked>>>,
    /// What else the clients saw.
    pub refusals: Arc<Refusals>,
}

impl Ingestion {
    /// Starts `clients` threads, client `c` sending to `bases[c % len]` first; each sends
    /// `batches` batches of `records` messages of `submitter` (message ids `prefix-c-b-r`).
    pub fn start(bases: &[String], submitter: &Submitter, prefix: &str, clients: usize, batches: usize, records: usize) -> Ingestion {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let refusals = Arc::new(Refusals::default());
        let threads = (0..clients)
            .map(|c| {
                let mut bases: Vec<String> = bases.to_vec();
                let n = bases.len();
                bases.rotate_left(c % n);
                let (submitter, prefix, stop, acked, refusals) =
                    (submitter.clone(), prefix.to_string(), Arc::clone(&stop), Arc::clone(&acked), Arc::clone(&refusals));
                std::thread::spawn(move || {
                    for b in 0..batches {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let batch: Vec<Value> = (0..records)
                            .map(|r| {
                                let id = format!("{prefix}-{c}-{b}-{r}");
                                submitter.record(
                                    plain_message(&submitter.id, &id, "Ingested while the log is being broken"),
                                    &personal(&format!("{id}@example.org"), &[], &[]),
                                )
                            })
                            .collect();
                        let body = json!({ "records": batch }).to_string();
                        let answer = send_until_acknowledged(&mut bases, &submitter, &body, &refusals)?;
                        let mut acked = acked.lock().map_err(|_| "lock".to_string())?;
                        for receipt in answer["receipts"].as_array().into_iter().flatten() {
                            let entry = B64.decode(receipt["receipt"]["entry"].as_str().unwrap_or_default()).map_err(|e| e.to_string())?;
                            acked.push(Acked {
                                message_id: receipt["message_id"].as_str().unwrap_or_default().to_string(),
                                index: receipt["index"].as_u64().ok_or("a receipt without index")?,
                                entry: serde_json::from_slice(&entry).map_err(|e| e.to_string())?,
                            });
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        Ingestion { threads, stop, acked, refusals }
    }

    /// How many records are acknowledged so far.
    pub fn acknowledged(&self) -> usize {
        self.acked.lock().map(|a| a.len()).unwrap_or(0)
    }

    /// Waits until at least `n` records are acknowledged, at most `within`.
    pub fn wait_for(&self, n: usize, within: Duration) {
        let deadline = Instant::now() + within;
        while self.acknowledged() < n {
            assert!(Instant::now() < deadline, "only {} of {n} records acknowledged within {within:?}", self.acknowledged());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for every client to send its batches; panics with a client's error.
    pub fn finish(self) -> (Vec<Acked>, Arc<Refusals>) {
        for t in self.threads {
            t.join().expect("a client thread panicked").unwrap_or_else(|e| panic!("an ingesting client gave up: {e}"));
        }
        let acked = self.acked.lock().map(|a| a.clone()).unwrap_or_default();
        (acked, self.refusals)
    }

    /// Tells the clients to stop after their current batch, then [`Ingestion::finish`]es.
    pub fn stop(self) -> (Vec<Acked>, Arc<Refusals>) {
        self.stop.store(true, Ordering::SeqCst);
        self.finish()
    }
}

/// Sends `body` until a front end acknowledges it (at most two minutes); returns the answer.
fn send_until_acknowledged(bases: &mut [String], submitter: &Submitter, body: &str, refusals: &Refusals) -> Result<Value, String> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).max_idle_connections(0).build();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut last = String::new();
    while Instant::now() < deadline {
        let sent = agent
            .post(&format!("{}/api/v1/submissions", bases[0]))
            .set("content-type", "application/json")
            .set("authorization", &submitter.auth_header())
            .send_string(body);
        match sent {
            Ok(r) => return serde_json::from_str(&r.into_string().map_err(|e| e.to_string())?).map_err(|e| e.to_string()),
            Err(ureq::Error::Status(status @ (503 | 429), r)) => {
                if status == 503 {
                    refusals.unavailable.fetch_add(1, Ordering::SeqCst);
                }
                let retry_after = r.header("retry-after").and_then(|v| v.parse::<u64>().ok());
                if status == 503 && retry_after.is_some() {
                    refusals.unavailable_with_retry_after.fetch_add(1, Ordering::SeqCst);
                }
                last = format!("{status}: {}", r.into_string().unwrap_or_default());
                // Sooner than Retry-After asks: the test wants to see the log come back.
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(ureq::Error::Status(status, r)) => return Err(format!("status {status}: {}", r.into_string().unwrap_or_default())),
            Err(e) => {
                refusals.broken.fetch_add(1, Ordering::SeqCst);
                last = e.to_string();
                bases.rotate_left(1);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    Err(format!("no front end acknowledged a batch within two minutes; last answer: {last}"))
}
