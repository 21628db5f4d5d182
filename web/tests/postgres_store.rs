//! The server calls some ledger reads straight on its async workers (a why page's snapshot).
//! PostgreSQL's synchronous client runs a runtime of its own and panics when driven inside
//! another; the store sends every statement to threads of its own instead, so its reads and
//! commits work from an async task (ledger/src/store/postgres/pool.rs). Skipped, saying why,
//! where PostgreSQL is not installed (under `CI` it fails).

use sightline_e2e::postgres::PgCluster;
use sightline_ledger::store::postgres::PgStore;
use sightline_ledger::store::{Commit, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_store_works_on_the_servers_async_workers() {
    let Some(pg) = PgCluster::start("the_postgres_store_works_on_the_servers_async_workers") else { return };
    let url = pg.database("async_workers");
    let store = PgStore::open(&url).expect("open the store");
    // Directly on a worker of this runtime, as a handler would call it.
    store.commit(&Commit { size: 1, checkpoint: "cp".into(), entries: vec![(0, b"entry".to_vec())], ..Commit::default() }).expect("commit");
    assert_eq!(store.head().expect("head").map(|h| h.size), Some(1));
    let read = tokio::spawn(async move { store.entry(0) }).await.expect("the task did not panic");
    assert_eq!(read.expect("an entry read on a worker"), Some(b"entry".to_vec()));
}
