//! The sandbox a graded test runs in: bubblewrap (`bwrap`, Debian's package `bubblewrap`).
//!
//! Each test process gets new namespaces (PID, network, IPC, UTS, user where the kernel allows), so
//! every process it starts dies with it and nothing outside is visible or signalable; the whole file
//! system read-only (the pristine course, the grading workspace and the toolchain included), with a
//! private, size-capped `/tmp` and `/dev/shm`; only loopback networking; no capabilities, even when the
//! grader runs as root; a new session, so it cannot push input into the grader's terminal. Limits for
//! the test as a whole (processes, memory) come from [`crate::cgroup`] where the machine allows.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The private `/tmp` (and `/dev/shm`) of one test, in bytes.
const TMP_BYTES: u64 = 512 * 1024 * 1024;

/// How graded tests are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// A plain process group (a student's own `cargo lab test`, or `grade --no-sandbox`).
    ProcessGroup,
    /// bubblewrap, plus cgroup limits where available.
    Sandbox,
}

/// Why the sandbox cannot run here, or `None` when it can (checked once, by running one).
pub fn unavailable() -> Option<&'static str> {
    static CHECKED: OnceLock<Option<String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let Some(bwrap) = bwrap() else {
                return Some("bwrap is not installed (Debian's package `bubblewrap`)".to_owned());
            };
            let mut probe = Command::new(bwrap);
            probe.args(arguments());
            probe.arg("true").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
            match probe.output() {
                Ok(out) if out.status.success() => None,
                Ok(out) => Some(format!(
                    "bwrap cannot make a sandbox here: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
                Err(err) => Some(format!("bwrap cannot run: {err}")),
            }
        })
        .as_deref()
}

/// Why no control group can be made for a test here, or `None` when one can (tried once).
pub fn cgroup_unavailable() -> Option<&'static str> {
    static CHECKED: OnceLock<Option<String>> = OnceLock::new();
    CHECKED.get_or_init(|| crate::cgroup::Cgroup::create(16, 0).err().map(|err| err.to_string())).as_deref()
}

/// A command that runs `exe` in the sandbox, in the directory `cwd`, with the folders `visible` kept
/// in view (read-only) and the files `masked` replaced by empty ones; arguments, environment and
/// descriptors given to it reach `exe`.
pub fn command(exe: &Path, cwd: &Path, visible: &[&Path], masked: &[&Path]) -> Command {
    let mut command = Command::new(bwrap().unwrap_or_else(|| PathBuf::from("bwrap")));
    command.args(arguments());
    // The private /tmp hides whatever was under the real one: bring back what the test needs (a
    // course checked out under /tmp, its build).
    for path in visible {
        command.arg("--ro-bind").arg(path).arg(path);
    }
    for path in masked {
        command.arg("--ro-bind").arg("/dev/null").arg(path);
    }
    command.arg("--chdir").arg(cwd).arg("--").arg(exe);
    command
}

/// bubblewrap's options, before the paths brought back into view.
fn arguments() -> Vec<OsString> {
    let size = TMP_BYTES.to_string();
    [
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--size",
        &size,
        "--tmpfs",
        "/tmp",
        "--size",
        &size,
        "--tmpfs",
        "/dev/shm",
        "--setenv",
        "TMPDIR",
        "/tmp",
    ]
    .iter()
    .map(OsString::from)
    .collect()
}

/// The `bwrap` on the `PATH`.
fn bwrap() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("bwrap")).find(|candidate| candidate.is_file())
}

/// The signal that killed a sandboxed test: bwrap exits with 128 + the signal's number, as a shell
/// does.
pub fn signal_of_exit_code(code: i32) -> Option<i32> {
    let signal = code - 128;
    [libc::SIGABRT, libc::SIGBUS, libc::SIGFPE, libc::SIGILL, libc::SIGKILL, libc::SIGSEGV, libc::SIGTRAP]
        .contains(&signal)
        .then_some(signal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_is_told_from_an_exit_code() {
        assert_eq!(signal_of_exit_code(139), Some(libc::SIGSEGV), "128 + SIGSEGV");
        assert_eq!(signal_of_exit_code(101), None, "libtest's failure");
        assert_eq!(signal_of_exit_code(0), None, "success");
    }
}
