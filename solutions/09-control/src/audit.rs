//! The audit log: who ran what, where, and with what result, one JSON object a line, appended.
//!
//! Every job writes a `start` record (the operator's key, the target, the program and its
//! arguments, the hosts, and the signed command itself), a `sent` record before each batch of
//! hosts is sent the command, one `host` record as each host ends (with what it printed), and an
//! `end` record with the counts; a command the master refuses writes a `refused` record. Each
//! record is one `write` of a whole line to a file opened for appending, so records of concurrent
//! jobs never interleave and a crash cuts at most the last line, which [`AuditLog::read`] skips.
//!
//! It is also the master's journal: a master that restarts reads it, and a job with a start and
//! no end is taken up again where it was ([`crate::master`]).

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::command::{Refusal, SignedCommand};
use crate::error::Error;

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditRecord {
    /// A job began.
    Start {
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
        /// The command's id.
        job: u64,
        /// The signing operator's public key, in hex.
        operator: String,
        /// The target expression.
        targets: String,
        /// The program.
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// The hosts the target named, in the order they are started.
        hosts: Vec<String>,
        /// The batch, as `-b` takes it (`10%`, `5`), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch: Option<String>,
        /// The failure budget, likewise, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_budget: Option<String>,
        /// How long a reply was awaited before asking, in milliseconds.
        wait_ms: u64,
        /// How long an answer was awaited, in milliseconds.
        probe_ms: u64,
        /// The command as signed: what a restarted master sends the hosts not yet sent it.
        signed: SignedCommand,
    },
    /// Hosts about to be sent the command: written before they are, so a restarted master knows
    /// whom to ask rather than send it twice.
    Sent {
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
        /// The command's id.
        job: u64,
        /// The hosts.
        hosts: Vec<String>,
    },
    /// One host's end in a job.
    Host {
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
        /// The command's id.
        job: u64,
        /// The host.
        host: String,
        /// How it ended: `done`, `failed`, `timed out`, `refused`, `lost`, `unreachable`,
        /// `skipped`.
        ending: String,
        /// Its exit status, when it ran.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<i32>,
        /// Why, when it did not run or was lost.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The agent's refusal, when it refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refusal: Option<Refusal>,
        /// Its exit code, when it exited.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<i32>,
        /// The signal that ended it, when one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<i32>,
        /// What it printed on standard output (invalid UTF-8 replaced).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        stdout: String,
        /// What it printed on standard error.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        stderr: String,
        /// Whether either was cut at the agent's cap.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
    },
    /// A job ended: how many hosts ended each way.
    End {
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
        /// The command's id.
        job: u64,
        /// Hosts by ending.
        counts: BTreeMap<String, usize>,
        /// Whether its failure budget stopped it.
        stopped: bool,
    },
    /// A command the master would not send, and why.
    Refused {
        /// When, in milliseconds since the Unix epoch.
        at_ms: u64,
        /// The operator's key it named, in hex.
        operator: String,
        /// Why.
        reason: String,
    },
}

/// An audit log open for appending.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    /// Opens `path` for appending, creating it readable by its owner only. A torn last line (a
    /// crash mid-write) is ended first, so the next record starts a line of its own.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it cannot be opened.
    pub fn open(path: &Path) -> Result<AuditLog, Error> {
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(Error::file(path))?;
        if ends_torn(&mut file).map_err(Error::file(path))? {
            file.write_all(b"\n").map_err(Error::file(path))?;
        }
        Ok(AuditLog { path: path.to_owned(), file: Mutex::new(file) })
    }

    /// Appends `record` as one line.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when the write fails (a full disk).
    pub fn record(&self, record: &AuditRecord) -> Result<(), Error> {
        // Records are plain data: serializing them cannot fail.
        let mut line = serde_json::to_vec(record).expect("audit records are plain data");
        line.push(b'\n');
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        file.write_all(&line).map_err(Error::file(&self.path))
    }

    /// The records of the log at `path`, oldest first; a line that is not a record (the torn last
    /// line of a crash, bytes that are not even text) is skipped.
    ///
    /// # Errors
    ///
    /// [`Error::File`] when it cannot be read.
    pub fn read(path: &Path) -> Result<Vec<AuditRecord>, Error> {
        let file = File::open(path).map_err(Error::file(path))?;
        let mut records = Vec::new();
        // By bytes, not text: a torn or foreign line need not even be UTF-8.
        for line in BufReader::new(file).split(b'\n') {
            let line = line.map_err(Error::file(path))?;
            if let Ok(record) = serde_json::from_slice(&line) {
                records.push(record);
            }
        }
        Ok(records)
    }
}

/// Whether `file` is not empty and does not end with a newline.
fn ends_torn(file: &mut File) -> std::io::Result<bool> {
    if file.metadata()?.len() == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}
