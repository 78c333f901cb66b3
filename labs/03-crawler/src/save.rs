//! Mirroring fetched pages to disk as `wget --recursive` does: `DIR/host[:port]/path`, with
//! `index.html` for a path that names a directory, and never a file outside `DIR`.

use std::io;
use std::path::{Path, PathBuf};

use crate::url::Url;

/// Where the page at `url` is saved under `dir`: `dir/AUTHORITY/SEGMENT/…/FILE`, where AUTHORITY
/// is the host, with `:port` when the port is not 80; a path ending in `/` (or empty) gets
/// `index.html` as its file name; a query is kept in the file name (`page?x=1`, with any `/` in it
/// written `%2F`). Nothing can escape `dir`: empty, `.` and `..` segments are dropped, and a host of
/// `.` or `..` is written `_`.
pub fn save_path(dir: &Path, url: &Url) -> PathBuf {
    todo!("stage 4: dir, then the authority, then the path's segments, index.html for a directory")
}

/// Writes `body` to [`save_path`]`(dir, url)`, creating the directories, and returns the path.
///
/// The writing happens on tokio's blocking pool, in one hop: the file is created first, and its
/// directories only when that fails because they are missing, which saves a system call per page.
///
/// # Errors
///
/// When a directory or the file cannot be created (a file is in the way of a directory).
pub async fn save_page(dir: &Path, url: &Url, body: Vec<u8>) -> io::Result<PathBuf> {
    let path = save_path(dir, url);
    let write = move || {
        match std::fs::write(&path, &body) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(&path, &body)?;
            }
            other => other?,
        }
        Ok(path)
    };
    tokio::task::spawn_blocking(write).await.map_err(io::Error::other)?
}
