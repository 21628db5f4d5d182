//! The lease and the queue of front ends sharing one database ([`Coordination`] for
//! [`PgStore`]), in plain `UPDATE … WHERE … RETURNING`, `SELECT … FOR UPDATE` (in the commit,
//! `mod.rs`) and `INSERT` statements that CockroachDB and YugabyteDB run too. Time is the
//! database's own clock (`now()`), so the front ends' clocks do not matter.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::record::Channel;
use crate::store::postgres::columns::{db_index, log_index};
use crate::store::postgres::pool::column;
use crate::store::postgres::PgStore;
use crate::store::{Coordination, HandedEffect, HandedJob, HandedMessage, HandedRecord, Lease};

const TAKE: &str = "UPDATE sightline_lease SET holder = $1, epoch = epoch + 1, expires_at = now() + $2::FLOAT8 * INTERVAL '1 millisecond' \
                    WHERE id = 1 AND expires_at < now() RETURNING epoch";
const KEEP: &str = "UPDATE sightline_lease SET expires_at = now() + $3::FLOAT8 * INTERVAL '1 millisecond' \
                    WHERE id = 1 AND holder = $1 AND epoch = $2";
const GIVE_UP: &str =
    "UPDATE sightline_lease SET expires_at = TIMESTAMPTZ '1970-01-01 00:00:00+00' WHERE id = 1 AND holder = $1 AND epoch = $2";
const HOLDER: &str = "SELECT holder FROM sightline_lease WHERE id = 1 AND expires_at >= now()";
const QUEUE: &str = "INSERT INTO sightline_handoff (kind, log_body, effect, advertiser, handles) VALUES ($1, $2, $3, $4, $5) RETURNING id";
const QUEUE_RECORDS: &str = "INSERT INTO sightline_handoff_records \
     (job, pos, body, sig, signer_key, message_key, personal, handle, signer, message_id, advertiser, channel) \
     SELECT $1, * FROM UNNEST($2::INT[], $3::BYTEA[], $4::BYTEA[], $5::BYTEA[], $6::BYTEA[], $7::BYTEA[], $8::BYTEA[], \
     $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[])";
const WAITING: &str = "SELECT id, kind, log_body, effect, advertiser, handles FROM sightline_handoff \
                       WHERE answer IS NULL AND NOT (id = ANY($1)) ORDER BY id LIMIT $2";
const WAITING_RECORDS: &str = "SELECT job, body, sig, signer_key, message_key, personal, handle, signer, message_id, advertiser, channel \
                               FROM sightline_handoff_records WHERE job = ANY($1) ORDER BY job, pos";
const ANSWER: &str = "UPDATE sightline_handoff SET answer = $2, answered_at = now() WHERE id = $1 AND answer IS NULL";
const ANSWERS: &str = "SELECT id, answer FROM sightline_handoff WHERE id = ANY($1) AND answer IS NOT NULL";
const WITHDRAW: &str = "DELETE FROM sightline_handoff WHERE id = ANY($1)";
const SWEEP: &str =
    "DELETE FROM sightline_handoff WHERE answer IS NOT NULL AND answered_at < now() - $1::FLOAT8 * INTERVAL '1 millisecond'";

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn epoch_of(lease: &Lease) -> Result<i64> {
    i64::try_from(lease.epoch).map_err(|_| Error::Storage(format!("lease epoch {} is out of range; this is a bug", lease.epoch)))
}

impl Coordination for PgStore {
    fn take_lease(&self, holder: &str, ttl: Duration) -> Result<Option<Lease>> {
        let holder = holder.to_string();
        self.lease.run(move |conn| {
            let rows = conn.query("taking the sequencing lease", TAKE, &[&holder, &millis(ttl)])?;
            let Some(row) = rows.first() else { return Ok(None) };
            let epoch = log_index(column(row, 0, "the lease's epoch")?)?;
            Ok(Some(Lease { holder, epoch }))
        })
    }

    fn keep_lease(&self, lease: &Lease, ttl: Duration) -> Result<bool> {
        let (holder, epoch) = (lease.holder.clone(), epoch_of(lease)?);
        self.lease.run(move |conn| Ok(conn.execute("renewing the sequencing lease", KEEP, &[&holder, &epoch, &millis(ttl)])? == 1))
    }

    fn give_up_lease(&self, lease: &Lease) -> Result<()> {
        let (holder, epoch) = (lease.holder.clone(), epoch_of(lease)?);
        self.lease.run(move |conn| conn.execute("giving up the sequencing lease", GIVE_UP, &[&holder, &epoch]).map(|_| ()))
    }

    fn lease_holder(&self) -> Result<Option<String>> {
        self.lease.run(|conn| {
            let rows = conn.query("reading the sequencing lease", HOLDER, &[])?;
            rows.first().map(|r| column(r, 0, "the lease's holder")).transpose()
        })
    }

    fn fence(&self, lease: Option<Lease>) {
        if let Ok(mut f) = self.fence.lock() {
            *f = lease;
        }
    }

    fn hand_over(&self, job: &HandedJob) -> Result<u64> {
        let job = job.clone();
        self.writer.run(move |conn| {
            let (queue, queue_records) = (conn.prepared(QUEUE)?, conn.prepared(QUEUE_RECORDS)?);
            let place = conn.place.clone();
            let failed = |e| super::pool::db_error("handing a job to the sequencer", &place, e);
            let row = JobRow::of(&job);
            let mut tx = conn.client()?.transaction().map_err(failed)?;
            let queued = tx.query_one(&queue, &[&row.kind, &row.log_body, &row.effect, &row.advertiser, &row.handles]).map_err(failed)?;
            let id: i64 = column(&queued, 0, "a job's id")?;
            let r = RecordColumns::of(job_records(&job));
            if !r.pos.is_empty() {
                tx.execute(
                    &queue_records,
                    &[
                        &id,
                        &r.pos,
                        &r.body,
                        &r.sig,
                        &r.key,
                        &r.message_key,
                        &r.personal,
                        &r.handle,
                        &r.signer,
                        &r.message_id,
                        &r.advertiser,
                        &r.channel,
                    ],
                )
                .map_err(failed)?;
            }
            tx.commit().map_err(failed)?;
            log_index(id)
        })
    }

    fn handed_over(&self, skip: &[u64], limit: usize) -> Result<Vec<(u64, Result<HandedJob>)>> {
        let skip = skip.iter().map(|i| db_index(*i)).collect::<Result<Vec<_>>>()?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers.run(move |conn| {
            let jobs = conn.query("reading the jobs handed to the sequencer", WAITING, &[&skip, &limit])?;
            let ids: Vec<i64> = jobs.iter().map(|r| column(r, 0, "a job's id")).collect::<Result<_>>()?;
            let records = if ids.is_empty() { Vec::new() } else { conn.query("reading handed-over records", WAITING_RECORDS, &[&ids])? };
            let mut out = Vec::with_capacity(jobs.len());
            for (row, id) in jobs.iter().zip(&ids) {
                let of_job: Vec<&postgres::Row> =
                    records.iter().filter(|r| column::<i64>(r, 0, "a record's job").ok() == Some(*id)).collect();
                out.push((log_index(*id)?, read_job(row, &of_job)));
            }
            Ok(out)
        })
    }

    fn answer(&self, id: u64, answer: &str) -> Result<()> {
        let (id, answer) = (db_index(id)?, answer.to_string());
        self.writer.run(move |conn| conn.execute("answering a handed-over job", ANSWER, &[&id, &answer]).map(|_| ()))
    }

    fn answers(&self, ids: &[u64]) -> Result<Vec<(u64, String)>> {
        let ids = ids.iter().map(|i| db_index(*i)).collect::<Result<Vec<_>>>()?;
        self.readers.run(move |conn| {
            let rows = conn.query("reading the answers to handed-over jobs", ANSWERS, &[&ids])?;
            rows.iter().map(|r| Ok((log_index(column(r, 0, "a job's id")?)?, column(r, 1, "a job's answer")?))).collect()
        })
    }

    fn withdraw(&self, ids: &[u64]) -> Result<()> {
        let ids = ids.iter().map(|i| db_index(*i)).collect::<Result<Vec<_>>>()?;
        self.writer.run(move |conn| conn.execute("removing handed-over jobs", WITHDRAW, &[&ids]).map(|_| ()))
    }

    fn sweep_answered(&self, older_than: Duration) -> Result<u64> {
        self.writer.run(move |conn| conn.execute("removing old answered jobs", SWEEP, &[&millis(older_than)]))
    }
}

/// The job row's columns besides its records.
struct JobRow {
    kind: &'static str,
    log_body: Option<String>,
    effect: Option<&'static str>,
    advertiser: Option<String>,
    handles: Option<Vec<Vec<u8>>>,
}

impl JobRow {
    fn of(job: &HandedJob) -> JobRow {
        let none = |kind| JobRow { kind, log_body: None, effect: None, advertiser: None, handles: None };
        match job {
            HandedJob::Messages(_) => none("messages"),
            HandedJob::Tallies(_) => none("tallies"),
            HandedJob::Log { body, effect } => {
                let (effect, advertiser, handles) = match effect {
                    HandedEffect::Registry => ("registry", None, None),
                    HandedEffect::Objection { handle, advertiser } => ("objection", Some(advertiser.clone()), Some(vec![handle.to_vec()])),
                    HandedEffect::Erase { handles } => ("erase", None, Some(handles.iter().map(|h| h.to_vec()).collect())),
                };
                JobRow { kind: "log", log_body: Some(body.clone()), effect: Some(effect), advertiser, handles }
            }
        }
    }
}

fn job_records(job: &HandedJob) -> &[HandedRecord] {
    match job {
        HandedJob::Messages(r) | HandedJob::Tallies(r) => r,
        HandedJob::Log { .. } => &[],
    }
}

/// A job's records as the columns of one `INSERT … SELECT * FROM UNNEST(…)`.
struct RecordColumns {
    pos: Vec<i32>,
    body: Vec<Vec<u8>>,
    sig: Vec<Vec<u8>>,
    key: Vec<Vec<u8>>,
    message_key: Vec<Vec<u8>>,
    personal: Vec<Option<Vec<u8>>>,
    handle: Vec<Option<Vec<u8>>>,
    signer: Vec<Option<String>>,
    message_id: Vec<Option<String>>,
    advertiser: Vec<Option<String>>,
    channel: Vec<Option<String>>,
}

impl RecordColumns {
    fn of(records: &[HandedRecord]) -> RecordColumns {
        let m = |f: fn(&HandedMessage) -> String| records.iter().map(|r| r.message.as_ref().map(f)).collect();
        RecordColumns {
            pos: (0..records.len()).map(|p| i32::try_from(p).unwrap_or(i32::MAX)).collect(),
            body: records.iter().map(|r| r.body.clone()).collect(),
            sig: records.iter().map(|r| r.sig.to_vec()).collect(),
            key: records.iter().map(|r| r.key.to_vec()).collect(),
            message_key: records.iter().map(|r| r.message_key.to_vec()).collect(),
            personal: records.iter().map(|r| r.personal.as_ref().map(|(p, _)| p.clone())).collect(),
            handle: records.iter().map(|r| r.personal.as_ref().map(|(_, h)| h.to_vec())).collect(),
            signer: m(|m| m.signer.clone()),
            message_id: m(|m| m.message_id.clone()),
            advertiser: m(|m| m.advertiser.clone()),
            channel: m(|m| channel_name(m.channel)),
        }
    }
}

fn channel_name(c: Channel) -> String {
    serde_json::to_value(c).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn bad_job(what: &str) -> Error {
    Error::Corrupt(format!("a job handed to the sequencer cannot be read: {what}"))
}

/// A fixed-size value of a job's column.
fn fixed<const N: usize>(bytes: Vec<u8>, what: &str) -> Result<[u8; N]> {
    <[u8; N]>::try_from(bytes).map_err(|_| bad_job(&format!("{what} is not {N} bytes")))
}

/// The job of `row` with its record rows.
fn read_job(row: &postgres::Row, records: &[&postgres::Row]) -> Result<HandedJob> {
    let kind: String = column(row, 1, "a job's kind")?;
    let records = || records.iter().map(|r| read_record(r)).collect::<Result<Vec<_>>>();
    match kind.as_str() {
        "messages" => Ok(HandedJob::Messages(records()?)),
        "tallies" => Ok(HandedJob::Tallies(records()?)),
        "log" => {
            let body: Option<String> = column(row, 2, "a log record's body")?;
            let effect: Option<String> = column(row, 3, "a log record's effect")?;
            let advertiser: Option<String> = column(row, 4, "an objection's advertiser")?;
            let handles: Vec<[u8; 32]> = column::<Option<Vec<Vec<u8>>>>(row, 5, "a log record's recipients")?
                .unwrap_or_default()
                .into_iter()
                .map(|h| fixed::<32>(h, "a recipient handle"))
                .collect::<Result<_>>()?;
            let effect = match (effect.as_deref(), advertiser, handles.as_slice()) {
                (Some("registry"), _, _) => HandedEffect::Registry,
                (Some("objection"), Some(advertiser), [handle]) => HandedEffect::Objection { handle: *handle, advertiser },
                (Some("erase"), _, _) => HandedEffect::Erase { handles },
                _ => return Err(bad_job("a log record's effect is not one this build knows")),
            };
            Ok(HandedJob::Log { body: body.ok_or_else(|| bad_job("a log record has no body"))?, effect })
        }
        other => Err(bad_job(&format!("kind `{other}` is not one this build knows"))),
    }
}

fn read_record(row: &postgres::Row) -> Result<HandedRecord> {
    let personal: Option<Vec<u8>> = column(row, 5, "a personal part")?;
    let handle: Option<Vec<u8>> = column(row, 6, "a recipient handle")?;
    let text = |i, what| column::<Option<String>>(row, i, what);
    let message = match (text(7, "a signer")?, text(8, "a message id")?, text(9, "an advertiser")?, text(10, "a channel")?) {
        (Some(signer), Some(message_id), Some(advertiser), Some(channel)) => {
            let channel = serde_json::from_value(serde_json::Value::String(channel)).map_err(|_| bad_job("its channel is unknown"))?;
            Some(HandedMessage { signer, message_id, advertiser, channel })
        }
        _ => None,
    };
    Ok(HandedRecord {
        body: column(row, 1, "a record's body")?,
        sig: fixed(column(row, 2, "a signature")?, "a signature")?,
        key: fixed(column(row, 3, "a submitter key")?, "a submitter key")?,
        message_key: fixed(column(row, 4, "a message key")?, "a message key")?,
        personal: match (personal, handle) {
            (Some(p), Some(h)) => Some((p, fixed(h, "a recipient handle")?)),
            _ => None,
        },
        message,
    })
}
