//! Mirroring a directory tree, for the grading workspace, and finding the files a submission changed.
//!
//! Mirroring writes only the files whose contents differ and deletes what the source no longer has,
//! so that cargo, which compares modification times, rebuilds only what changed between two
//! gradings. Symbolic links are never followed or copied: a submission cannot smuggle in a file from
//! elsewhere on the machine.

use std::io;
use std::path::{Path, PathBuf};

/// What to do with one path of a mirrored tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Mirror it.
    Include,
    /// Treat it as absent from the source: the destination's copy is deleted.
    Exclude,
    /// Leave it alone on both sides.
    Keep,
}

/// Makes `dst` a copy of `src`, except where `rule(relative path, is_dir)` says otherwise.
///
/// # Errors
///
/// The first I/O error, with the path it happened on.
pub fn mirror(src: &Path, dst: &Path, rule: &dyn Fn(&Path, bool) -> Rule) -> io::Result<()> {
    mirror_at(src, dst, Path::new(""), rule)
}

fn mirror_at(src: &Path, dst: &Path, relative: &Path, rule: &dyn Fn(&Path, bool) -> Rule) -> io::Result<()> {
    let here = src.join(relative);
    let there = dst.join(relative);
    if std::fs::symlink_metadata(&there).is_ok_and(|meta| !meta.is_dir()) {
        std::fs::remove_file(&there).map_err(|err| at(&there, err))?;
    }
    std::fs::create_dir_all(&there).map_err(|err| at(&there, err))?;
    let mut wanted = Vec::new();
    for entry in std::fs::read_dir(&here).map_err(|err| at(&here, err))? {
        let entry = entry.map_err(|err| at(&here, err))?;
        let file_type = entry.file_type().map_err(|err| at(&entry.path(), err))?;
        if file_type.is_symlink() {
            continue;
        }
        let child = relative.join(entry.file_name());
        match rule(&child, file_type.is_dir()) {
            Rule::Include => {}
            Rule::Exclude => continue,
            Rule::Keep => {
                wanted.push(entry.file_name());
                continue;
            }
        }
        wanted.push(entry.file_name());
        if file_type.is_dir() {
            mirror_at(src, dst, &child, rule)?;
        } else if file_type.is_file() {
            copy_if_changed(&src.join(&child), &dst.join(&child))?;
        }
    }
    for entry in std::fs::read_dir(&there).map_err(|err| at(&there, err))? {
        let entry = entry.map_err(|err| at(&there, err))?;
        if wanted.contains(&entry.file_name()) {
            continue;
        }
        let child = relative.join(entry.file_name());
        let file_type = entry.file_type().map_err(|err| at(&entry.path(), err))?;
        if rule(&child, file_type.is_dir()) == Rule::Keep {
            continue;
        }
        let path = entry.path();
        let removed =
            if file_type.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        removed.map_err(|err| at(&path, err))?;
    }
    Ok(())
}

fn copy_if_changed(from: &Path, to: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(to).is_ok_and(|meta| meta.is_dir()) {
        std::fs::remove_dir_all(to).map_err(|err| at(to, err))?;
    }
    if same_contents(from, to) {
        return Ok(());
    }
    std::fs::copy(from, to).map_err(|err| at(to, err))?;
    Ok(())
}

fn same_contents(a: &Path, b: &Path) -> bool {
    let (Ok(meta_a), Ok(meta_b)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    meta_a.len() == meta_b.len() && matches!((std::fs::read(a), std::fs::read(b)), (Ok(x), Ok(y)) if x == y)
}

fn at(path: &Path, err: io::Error) -> io::Error {
    io::Error::new(err.kind(), format!("{}: {err}", path.display()))
}

/// The files under `submission` (relative paths from `files`, directories walked) that differ from
/// the same file under `pristine` or that `pristine` does not have. Files the submission lacks are
/// not changes: a submission may hold only `src/`.
pub fn changed_files(submission: &Path, pristine: &Path, files: &[&str]) -> Vec<PathBuf> {
    let mut changed = Vec::new();
    for file in files {
        let mut found = Vec::new();
        walk_files(&submission.join(file), Path::new(file), &mut found);
        for relative in found {
            if !same_contents(&submission.join(&relative), &pristine.join(&relative)) {
                changed.push(relative);
            }
        }
    }
    changed.sort();
    changed
}

fn walk_files(path: &Path, relative: &Path, found: &mut Vec<PathBuf>) {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return };
    if meta.is_file() {
        found.push(relative.to_path_buf());
    } else if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            walk_files(&entry.path(), &relative.join(entry.file_name()), found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn mtime(path: &Path) -> SystemTime {
        std::fs::metadata(path).unwrap().modified().unwrap()
    }

    #[test]
    fn mirrors_rewrites_only_changes_and_deletes_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        write(&src.join("a.rs"), "a");
        write(&src.join("m/b.rs"), "b");
        write(&src.join("notes.txt"), "n");
        write(&dst.join("stale.rs"), "old");
        write(&dst.join("gone/c.rs"), "c");
        let only_rs = |path: &Path, is_dir: bool| {
            if is_dir || path.extension().is_some_and(|ext| ext == "rs") {
                Rule::Include
            } else {
                Rule::Exclude
            }
        };
        mirror(&src, &dst, &only_rs).unwrap();
        assert_eq!(std::fs::read_to_string(dst.join("a.rs")).unwrap(), "a");
        assert_eq!(std::fs::read_to_string(dst.join("m/b.rs")).unwrap(), "b");
        assert!(!dst.join("notes.txt").exists());
        assert!(!dst.join("stale.rs").exists());
        assert!(!dst.join("gone").exists());

        let before = mtime(&dst.join("a.rs"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        write(&src.join("m/b.rs"), "b2");
        mirror(&src, &dst, &only_rs).unwrap();
        assert_eq!(mtime(&dst.join("a.rs")), before, "an unchanged file is not rewritten");
        assert_eq!(std::fs::read_to_string(dst.join("m/b.rs")).unwrap(), "b2");
    }

    #[test]
    fn kept_paths_are_left_alone_on_both_sides() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        write(&src.join("target/big"), "artifact");
        write(&src.join("Cargo.toml"), "x");
        write(&dst.join("Cargo.lock"), "lock");
        let rule = |path: &Path, _: bool| {
            if path == Path::new("target") || path == Path::new("Cargo.lock") {
                Rule::Keep
            } else {
                Rule::Include
            }
        };
        mirror(&src, &dst, &rule).unwrap();
        assert!(!dst.join("target").exists());
        assert!(dst.join("Cargo.lock").exists());
        assert!(dst.join("Cargo.toml").exists());
    }

    #[test]
    fn symlinks_are_not_copied() {
        let tmp = tempfile::tempdir().unwrap();
        let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
        write(&src.join("a.rs"), "a");
        std::os::unix::fs::symlink("/etc/passwd", src.join("passwd.rs")).unwrap();
        mirror(&src, &dst, &|_, _| Rule::Include).unwrap();
        assert!(!dst.join("passwd.rs").exists());
    }

    #[test]
    fn finds_changed_and_added_files_not_missing_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let (sub, pristine) = (tmp.path().join("sub"), tmp.path().join("pristine"));
        write(&pristine.join("tests/a.rs"), "a");
        write(&pristine.join("tests/b.rs"), "b");
        write(&pristine.join("Cargo.toml"), "c");
        write(&sub.join("tests/a.rs"), "a");
        write(&sub.join("tests/b.rs"), "B");
        write(&sub.join("tests/new.rs"), "n");
        let changed = changed_files(&sub, &pristine, &["tests", "benches", "Cargo.toml", "lab.toml"]);
        assert_eq!(changed, [PathBuf::from("tests/b.rs"), PathBuf::from("tests/new.rs")]);
    }
}
