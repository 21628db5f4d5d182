//! `sightline migrate`'s copy of another store into PostgreSQL: see [`PgStore::copy_from`].
