//! Threads that `fdatasync` a commit's record files side by side, so that a commit waits for
//! the slowest sync instead of the sum of them.
//!
//! They sleep on a channel between commits. (A rayon pool did this job before; its idle
//! workers spin, calling `sched_yield`, after every commit, and with small commits that
//! spinning took a fifth of the server's CPU: BENCHMARKS.md.)

use std::fs::File;
use std::sync::{mpsc, Arc, Mutex};
use std::thread::JoinHandle;

use crate::error::{Error, Result};

/// A file to sync, and what to call it in an error.
pub(crate) type SyncFile = (Arc<File>, Arc<str>);

struct Job {
    file: SyncFile,
    reply: mpsc::Sender<(Arc<str>, std::io::Result<()>)>,
}

/// The sync threads; they stop when this is dropped.
pub(crate) struct Syncer {
    queue: Option<mpsc::Sender<Job>>,
    threads: Vec<JoinHandle<()>>,
}

impl Syncer {
    /// Starts `threads` sync threads.
    pub(crate) fn start(threads: usize) -> Result<Self> {
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let threads = (0..threads)
            .map(|i| {
                let jobs = jobs.clone();
                std::thread::Builder::new()
                    .name(format!("sightline-sync-{i}"))
                    .spawn(move || loop {
                        // The guard is dropped before the sync, so another thread can take the next job.
                        let job = match jobs.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(Job { file: (file, name), reply }) = job else { return };
                        // The committer may have given up waiting (it never does today); nothing to tell then.
                        let _ = reply.send((name, file.sync_data()));
                    })
                    .map_err(|e| Error::Storage(format!("cannot start the store's sync threads: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Syncer { queue: Some(queue), threads })
    }

    /// Syncs every file in `files` (the calling thread takes the first), and returns once all
    /// are synced; on failure, the first error, naming its file.
    pub(crate) fn sync_all(&self, files: &[SyncFile]) -> Result<()> {
        let Some((first, rest)) = files.split_first() else { return Ok(()) };
        let (reply, replies) = mpsc::channel();
        let mut inline = Vec::new();
        for file in rest {
            let job = Job { file: file.clone(), reply: reply.clone() };
            // Threads that are gone (a panic) leave their share to this thread.
            if let Some(Err(mpsc::SendError(job))) = self.queue.as_ref().map(|q| q.send(job)) {
                inline.push(job.file);
            }
        }
        drop(reply);
        let mut results = vec![(first.1.clone(), first.0.sync_data())];
        results.extend(inline.into_iter().map(|(file, name)| (name, file.sync_data())));
        results.extend(replies.iter());
        let expected = files.len();
        if results.len() != expected {
            return Err(Error::Storage(format!(
                "{} of {expected} record files were not synced (a sync thread stopped); restart the server",
                expected - results.len()
            )));
        }
        match results.into_iter().find(|(_, r)| r.is_err()) {
            Some((name, Err(e))) => Err(Error::Storage(format!("cannot sync {name}: {e}"))),
            _ => Ok(()),
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        drop(self.queue.take());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_is_synced_and_a_failure_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let open = |n: &str| Arc::new(File::create(dir.path().join(n)).unwrap());
        let syncer = Syncer::start(2).unwrap();
        let files: Vec<SyncFile> = ["a.dat", "b.dat", "c.dat", "d.dat"].map(|n| (open(n), Arc::from(n))).to_vec();
        syncer.sync_all(&files).unwrap();
        syncer.sync_all(&[]).unwrap();
        // A read-only descriptor of a directory cannot be fdatasync'ed on every file system, so
        // the failure is forced with a descriptor that is not a file: /dev/null syncs fine, a
        // pipe does not (EINVAL).
        let (reader, _writer) = std::io::pipe().unwrap();
        let pipe = Arc::new(File::from(std::os::fd::OwnedFd::from(reader)));
        let err = syncer.sync_all(&[files[0].clone(), (pipe, Arc::from("pipe.dat")), files[1].clone()]).unwrap_err();
        assert!(err.to_string().contains("cannot sync pipe.dat"), "{err}");
        // The threads still work after a failure.
        syncer.sync_all(&files).unwrap();
    }
}
