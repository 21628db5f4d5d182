//! The store benchmark's baseline (`web/benches/stores/baseline.sql`) is what BENCHMARKS.md
//! says it is: each row's hash is SHA-256 of the previous row's hash and its body, rows of one
//! statement and of the next chain on, and indexes run from 0 without a gap. Skipped, saying
//! why, where PostgreSQL is not installed (under `CI` it fails).

use sha2::{Digest, Sha256};
use sightline_e2e::postgres::PgCluster;

#[test]
fn the_trigger_baseline_chains_sha256_hashes_across_batches() {
    let Some(pg) = PgCluster::start("the_trigger_baseline_chains_sha256_hashes_across_batches") else { return };
    pg.database("baseline");
    pg.psql("baseline", include_str!("../../web/benches/stores/baseline.sql"));
    pg.psql("baseline", "INSERT INTO baseline_log (body) SELECT * FROM UNNEST(ARRAY['a', 'bb', 'ccc']::BYTEA[])");
    pg.psql("baseline", "INSERT INTO baseline_log (body) SELECT * FROM UNNEST(ARRAY['dddd', 'eeeee']::BYTEA[])");
    let rows =
        pg.psql("baseline", "SELECT idx, encode(body, 'hex'), encode(prev, 'hex'), encode(hash, 'hex') FROM baseline_log ORDER BY idx");
    let mut prev = [0u8; 32];
    let mut count = 0;
    for (want, line) in ["a", "bb", "ccc", "dddd", "eeeee"].iter().zip(rows.lines()) {
        let cols: Vec<&str> = line.split('|').collect();
        assert_eq!(cols[0], count.to_string(), "indexes run from 0 without a gap: {rows}");
        assert_eq!(hex::decode(cols[1]).unwrap(), want.as_bytes());
        assert_eq!(cols[2], hex::encode(prev), "row {count} names the previous row's hash");
        let hash: [u8; 32] = Sha256::new().chain_update(prev).chain_update(want.as_bytes()).finalize().into();
        assert_eq!(cols[3], hex::encode(hash), "row {count}'s hash is SHA-256(previous hash || body)");
        prev = hash;
        count += 1;
    }
    assert_eq!(count, 5, "{rows}");
}
