//! Every storage backend against the one store contract (`sightline_ledger::store::contract`):
//! positional reads, the head, tiles, key spaces, wipes, rewritten private heads, replaced
//! lookup records, refused commits that change nothing, and, for a backend on disk, every
//! commit readable after the store is opened again. A new backend adds one line here.

use sightline_e2e::postgres::PgCluster;
use sightline_ledger::store::memory::MemoryStore;
use sightline_ledger::store::postgres::PgStore;
use sightline_ledger::store::sled::SledStore;
use sightline_ledger::store::{contract, Commit, Head, LookupRecord, Space, Store};
use sightline_ledger::Result;

#[test]
fn the_sled_backend_keeps_the_store_contract() {
    contract::run_durable(SledStore::open);
}

/// Each store of the suite is a database of its own, named after the folder the suite gives it.
#[test]
fn the_postgres_backend_keeps_the_store_contract() {
    let Some(pg) = PgCluster::start("the_postgres_backend_keeps_the_store_contract") else { return };
    contract::run_durable(|dir| PgStore::open(&pg.database(&dir.file_name().unwrap().to_string_lossy().replace('-', "_"))));
}

#[test]
fn the_memory_backend_keeps_the_store_contract() {
    contract::run(|| Ok(MemoryStore::default()));
}

/// A backend that breaks one rule: it forgets the wipes of a commit.
struct ForgetsWipes(MemoryStore);

impl Store for ForgetsWipes {
    fn head(&self) -> Result<Option<Head>> {
        self.0.head()
    }
    fn entry(&self, index: u64) -> Result<Option<Vec<u8>>> {
        self.0.entry(index)
    }
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Vec<u8>>> {
        self.0.entries(start, end)
    }
    fn private(&self, index: u64) -> Result<Option<Vec<u8>>> {
        self.0.private(index)
    }
    fn lookups(&self, start: u64, end: u64) -> Result<Vec<LookupRecord>> {
        self.0.lookups(start, end)
    }
    fn lookup_count(&self) -> Result<u64> {
        self.0.lookup_count()
    }
    fn replace_lookups(&self, records: &[LookupRecord]) -> Result<()> {
        self.0.replace_lookups(records)
    }
    fn rewrite_private_heads(&self, heads: &[(u64, Vec<u8>)]) -> Result<()> {
        self.0.rewrite_private_heads(heads)
    }
    fn tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>> {
        self.0.tile(level, index)
    }
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.0.get(space, key)
    }
    fn get_many(&self, space: Space, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        self.0.get_many(space, keys)
    }
    fn scan(&self, space: Space, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.0.scan(space, prefix)
    }
    fn commit(&self, c: &Commit) -> Result<()> {
        let forgetful = Commit {
            size: c.size,
            checkpoint: c.checkpoint.clone(),
            entries: c.entries.clone(),
            private: c.private.clone(),
            lookup: c.lookup.clone(),
            wipe: Vec::new(),
            tiles: c.tiles.clone(),
            puts: c.puts.clone(),
            deletes: c.deletes.clone(),
            answers: c.answers.clone(),
        };
        self.0.commit(&forgetful)
    }
    fn size_on_disk(&self) -> Result<u64> {
        self.0.size_on_disk()
    }
}

#[test]
fn a_backend_that_breaks_a_rule_fails_the_contract_naming_it() {
    let failed = std::panic::catch_unwind(|| contract::run(|| Ok(ForgetsWipes(MemoryStore::default()))));
    let message = failed.expect_err("a store that forgets wipes passes the contract");
    let text = message.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(text.contains("a wipe zeros private records"), "{text}");
}
