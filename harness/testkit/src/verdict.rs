//! The test's own word to the grader that it ran to its end.
//!
//! `cargo lab`'s runner does not take a test's exit code or libtest's "test result: ok" line as proof
//! that it passed: the code under test runs in the same process and could exit with 0 or print that
//! line itself. Instead, the runner hands each test process a fresh secret over a socket on
//! descriptor 3 and names it in `LAB_VERDICT` (`3:<inode>`). [`started`], the first thing a graded
//! test does, reads the secret and keeps the socket away from child processes, before any code under
//! test runs; [`finished`], the last, writes the secret back, and only when the body returned
//! normally and successfully. A test that exits early, aborts or forges libtest's output never writes
//! it, and fails.
//!
//! `#[testkit::test]` adds both calls; tests never call them by hand. Without `LAB_VERDICT` (a plain
//! `cargo test`) both do nothing. What this does not stop is stated in the instructors' chapter: code
//! that reads its own process's memory can find the secret.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::Mutex;

/// The environment variable naming the verdict socket: `<fd>:<inode>`.
pub const ENV: &str = "LAB_VERDICT";

/// The length of the secret, in bytes (hex digits).
pub const SECRET_LEN: usize = 64;

/// The line the test writes back: this prefix, the secret, a newline.
pub const PREFIX: &str = "lab-verdict ";

/// The socket and the secret read from it, between [`started`] and [`finished`].
static CHANNEL: Mutex<Option<(File, Vec<u8>)>> = Mutex::new(None);

/// Reads the runner's secret, if this process was given one. Called first thing in every graded
/// test by `#[testkit::test]`.
pub fn started() {
    let Some((fd, inode)) = std::env::var(ENV).ok().and_then(|value| parse(&value)) else {
        return;
    };
    // SAFETY: fstat only fills the struct; an fd that is not open fails with EBADF.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `stat` is a valid, writable struct stat.
    if unsafe { libc::fstat(fd, &mut stat) } != 0 || stat.st_ino != inode {
        // A child process of the test, which inherited the variable but not the socket.
        return;
    }
    // SAFETY: the descriptor is open (fstat succeeded) and the runner gave it to this process alone;
    // from here the File owns it.
    let mut socket = unsafe { File::from_raw_fd(fd) };
    // SAFETY: fcntl on an owned descriptor: child processes must not inherit the socket.
    unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    let mut secret = vec![0; SECRET_LEN];
    if socket.read_exact(&mut secret).is_ok() {
        *CHANNEL.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((socket, secret));
    }
}

/// Whether a test's result is a pass: `()`, or `Ok` of a test returning `Result`.
pub trait Passing {
    /// Whether the body succeeded.
    fn passed(&self) -> bool;
}

impl Passing for () {
    fn passed(&self) -> bool {
        true
    }
}

impl<T, E> Passing for Result<T, E> {
    fn passed(&self) -> bool {
        self.is_ok()
    }
}

/// Writes the secret back when the test body returned `result` and it is a pass. Called last in
/// every graded test by `#[testkit::test]`.
pub fn finished<T: Passing>(result: &T) {
    if !result.passed() {
        return;
    }
    let channel = CHANNEL.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    if let Some((mut socket, secret)) = channel {
        let mut line = PREFIX.as_bytes().to_vec();
        line.extend_from_slice(&secret);
        line.push(b'\n');
        // A failed write leaves the grader without the line: the test fails, as it should.
        let _ = socket.write_all(&line);
    }
}

/// `<fd>:<inode>` from the environment variable.
fn parse(value: &str) -> Option<(i32, u64)> {
    let (fd, inode) = value.split_once(':')?;
    Some((fd.parse().ok()?, inode.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_names_a_descriptor_and_an_inode() {
        assert_eq!(parse("3:1234"), Some((3, 1234)), "a well-formed value");
        assert_eq!(parse("3"), None, "no inode");
        assert_eq!(parse("x:1"), None, "no descriptor");
    }

    #[test]
    fn only_a_pass_is_passing() {
        assert!(().passed(), "a body that returned");
        assert!(Ok::<(), ()>(()).passed(), "Ok");
        assert!(!Err::<(), ()>(()).passed(), "Err");
    }
}
