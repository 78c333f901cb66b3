//! Limits for a test as a whole, through a control group of its own: at most so many processes and
//! threads (a fork bomb stops there), at most so much memory for all of them together, and every
//! process of the group killed at the end.
//!
//! cgroup v2 is used where it is mounted (`/sys/fs/cgroup/cgroup.controllers`), v1's `pids` and
//! `memory` hierarchies otherwise. Both need the right to make groups, which root has; elsewhere
//! [`Cgroup::create`] says why not and the tests run with per-process limits only.

use std::ffi::CString;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ROOT: &str = "/sys/fs/cgroup";

/// The parent of the harness's groups, under the root of each hierarchy.
const PARENT: &str = "cargo-lab";

/// The control group of one test: one directory in v2, one per hierarchy in v1.
#[derive(Debug)]
pub struct Cgroup {
    dirs: Vec<PathBuf>,
    /// `cgroup.procs` of each directory, for `pre_exec`.
    procs: Vec<CString>,
}

impl Cgroup {
    /// A new group allowing `processes` tasks and `memory_bytes` of memory (0: no memory limit).
    ///
    /// # Errors
    ///
    /// Why no group could be made here (no cgroup file system, no right to write it).
    pub fn create(processes: u32, memory_bytes: u64) -> io::Result<Cgroup> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let root = Path::new(ROOT);
        let mut group = Cgroup { dirs: Vec::new(), procs: Vec::new() };
        if root.join("cgroup.controllers").exists() {
            let parent = root.join(PARENT);
            ensure_dir(&parent)?;
            // Controllers must be enabled on the way down: the root's and our parent's subtrees.
            write(&root.join("cgroup.subtree_control"), "+pids +memory")?;
            write(&parent.join("cgroup.subtree_control"), "+pids +memory")?;
            let dir = group.add(parent.join(&name))?;
            write(&dir.join("pids.max"), &processes.to_string())?;
            if memory_bytes > 0 {
                write(&dir.join("memory.max"), &memory_bytes.to_string())?;
                // Swap would let a test's memory outgrow the limit, slowly.
                let _ = write(&dir.join("memory.swap.max"), "0");
            }
        } else {
            let pids = root.join("pids").join(PARENT);
            ensure_dir(&pids)?;
            let dir = group.add(pids.join(&name))?;
            write(&dir.join("pids.max"), &processes.to_string())?;
            if memory_bytes > 0 {
                let memory = root.join("memory").join(PARENT);
                ensure_dir(&memory)?;
                let dir = group.add(memory.join(&name))?;
                write(&dir.join("memory.limit_in_bytes"), &memory_bytes.to_string())?;
            }
        }
        Ok(group)
    }

    fn add(&mut self, dir: PathBuf) -> io::Result<PathBuf> {
        std::fs::create_dir(&dir)?;
        let procs = CString::new(dir.join("cgroup.procs").as_os_str().as_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a cgroup path"))?;
        self.dirs.push(dir.clone());
        self.procs.push(procs);
        Ok(dir)
    }

    /// The paths to give [`join`] in the child.
    pub fn procs_files(&self) -> &[CString] {
        &self.procs
    }

    /// Whether the kernel's out-of-memory killer killed a process of the group.
    pub fn oom_killed(&self) -> bool {
        // v2 counts in memory.events, v1 in memory.oom_control: both as a line `oom_kill N`.
        self.dirs.iter().flat_map(|dir| [dir.join("memory.events"), dir.join("memory.oom_control")]).any(
            |file| {
                let text = std::fs::read_to_string(file).unwrap_or_default();
                text.lines()
                    .any(|line| line.strip_prefix("oom_kill ").is_some_and(|count| count.trim() != "0"))
            },
        )
    }
}

impl Drop for Cgroup {
    /// Kills whatever is left in the group and removes it.
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        for dir in self.dirs.iter().rev() {
            // cgroup v2 (Linux 5.14 on) kills a whole group at once, a fork in flight included; the
            // loop below is for older kernels and v1, where a process forked between reading the list
            // and killing it is caught on the next pass.
            let _ = std::fs::write(dir.join("cgroup.kill"), "1");
            loop {
                let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
                for pid in procs.lines().filter_map(|line| line.trim().parse::<i32>().ok()) {
                    // SAFETY: kill has no memory-safety preconditions; the pid is in our group.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// Moves the calling process into the groups whose `cgroup.procs` files are `procs`. For
/// `pre_exec`: async-signal-safe (open, write, close).
///
/// # Errors
///
/// When a file cannot be opened or written.
pub fn join(procs: &[CString]) -> io::Result<()> {
    for path in procs {
        // SAFETY: a NUL-terminated path; open, write and close are async-signal-safe.
        unsafe {
            let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // "0" is the writing process itself.
            let written = libc::write(fd, b"0".as_ptr().cast(), 1);
            libc::close(fd);
            if written != 1 {
                return Err(io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

fn ensure_dir(dir: &Path) -> io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(err) if err.kind() != io::ErrorKind::AlreadyExists => Err(err),
        _ => Ok(()),
    }
}

fn write(path: &Path, text: &str) -> io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))
}
