//! A log file of messages, a JSON line each: the receiver of last resort, and the one a script
//! tails.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Notifier;
use crate::alarm::notification::Notification;
use crate::point::Millis;

/// Appends each message to a file as a JSON line `{"at":…,"subject":…,"notification":{…}}`.
#[derive(Debug)]
pub struct LogNotifier {
    /// The file.
    path: PathBuf,
    /// It, open for appending once it has been.
    file: Option<File>,
}

impl LogNotifier {
    /// A notifier appending to `path` (made at the first message).
    pub fn new(path: &Path) -> LogNotifier {
        LogNotifier { path: path.to_owned(), file: None }
    }
}

impl Notifier for LogNotifier {
    fn describe(&self) -> String {
        format!("log {}", self.path.display())
    }

    fn send(&mut self, notification: &Notification, now: Millis) -> Result<(), String> {
        if self.file.is_none() {
            let file = OpenOptions::new().create(true).append(true).open(&self.path);
            self.file = Some(file.map_err(|err| format!("{}: {err}", self.path.display()))?);
        }
        let line =
            serde_json::json!({ "at": now, "subject": notification.subject(), "notification": notification });
        let mut bytes = line.to_string().into_bytes();
        bytes.push(b'\n');
        let written = self.file.as_mut().map(|file| file.write_all(&bytes).and_then(|()| file.flush()));
        if let Some(Err(err)) = written {
            // Opened again at the next try: the file may have been rotated away.
            self.file = None;
            return Err(format!("{}: {err}", self.path.display()));
        }
        Ok(())
    }
}
