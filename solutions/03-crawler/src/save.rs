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
    // ANCHOR: save_path
    let url = url.normalize();
    let mut path = dir.to_path_buf();
    let authority = url.authority();
    path.push(if matches!(authority.as_str(), "" | "." | "..") { "_" } else { authority.as_str() });
    let segments: Vec<&str> = url.path().split('/').collect();
    let (file, directories) = segments.split_last().unwrap_or((&"", &[]));
    for segment in directories {
        if !matches!(*segment, "" | "." | "..") {
            path.push(segment);
        }
    }
    let mut file =
        if matches!(*file, "" | "." | "..") { "index.html".to_owned() } else { (*file).to_owned() };
    if let Some(query) = url.query() {
        file.push('?');
        file.push_str(&query.replace('/', "%2F"));
    }
    path.push(file);
    path
    // ANCHOR_END: save_path
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
