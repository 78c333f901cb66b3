//! The grader's side of the verdict: proof that a test ran to its end, which the code under test
//! cannot forge by exiting early, aborting or printing libtest's lines.
//!
//! Before each test process starts, the runner makes a socket pair and a fresh secret. The test's
//! end of the socket becomes its descriptor 3, named with its inode in `LAB_VERDICT`; the secret is
//! written into the socket, never into the environment or a file. `testkit::verdict` (the test's
//! side, called by `#[testkit::test]`) reads the secret before the test's body runs and writes it
//! back, after `lab-verdict `, once the body has returned a pass. A test passes only if that line
//! came back. The constants here are testkit's; a test of this module checks that they agree.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::sync::mpsc::{self, Receiver};

/// The variable naming the test's socket: `<fd>:<inode>`.
pub const ENV: &str = "LAB_VERDICT";

/// The descriptor the socket has in the test process.
pub const TEST_FD: RawFd = 3;

/// What the test writes back before the secret.
const PREFIX: &[u8] = b"lab-verdict ";

/// The secret's length in hex digits.
const SECRET_LEN: usize = 64;

/// The most a test may write on its socket before the secret is no longer looked for.
const READ_CAP: usize = 1 << 20;

/// A socket pair and a secret for one test process.
#[derive(Debug)]
pub struct Channel {
    grader: OwnedFd,
    test: OwnedFd,
    inode: u64,
    secret: Vec<u8>,
}

impl Channel {
    /// A new socket pair and a new secret.
    ///
    /// # Errors
    ///
    /// When the socket pair cannot be made or `/dev/urandom` cannot be read.
    pub fn new() -> io::Result<Channel> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors socketpair writes.
        if unsafe {
            libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0, fds.as_mut_ptr())
        } != 0
        {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: socketpair succeeded: two new descriptors that nothing else owns.
        let (grader, test) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let inode = File::from(test.try_clone()?).metadata()?.ino();
        let mut random = [0u8; SECRET_LEN / 2];
        File::open("/dev/urandom")?.read_exact(&mut random)?;
        let secret = random.iter().flat_map(|byte| format!("{byte:02x}").into_bytes()).collect();
        Ok(Channel { grader, test, inode, secret })
    }

    /// The value of [`ENV`] for the test process.
    pub fn env_value(&self) -> String {
        format!("{TEST_FD}:{}", self.inode)
    }

    /// The descriptor to install as [`TEST_FD`] in the child, with [`install`].
    pub fn test_fd(&self) -> RawFd {
        self.test.as_raw_fd()
    }

    /// Sends the secret and listens for it on a thread; call once the test process has started.
    /// The receiver says whether the test wrote the secret back before its end of the socket closed.
    ///
    /// # Errors
    ///
    /// When the secret cannot be written (the test process is already gone).
    pub fn listen(self) -> io::Result<Receiver<bool>> {
        let Channel { grader, test, secret, .. } = self;
        // Only the test process may hold the other end, so the socket ends when it does.
        drop(test);
        let mut socket = File::from(grader);
        let (tx, rx) = mpsc::channel();
        // A test that exits before reading leaves the write failing: no verdict either way.
        let sent = socket.write_all(&secret);
        std::thread::spawn(move || {
            let proved = sent.is_ok() && read_secret_back(&mut socket, &secret);
            let _ = tx.send(proved);
        });
        Ok(rx)
    }
}

/// Installs `fd` as [`TEST_FD`] in a forked child, inheritable across exec. Async-signal-safe: for
/// `pre_exec`.
///
/// # Errors
///
/// When `dup2` or `fcntl` fails.
pub fn install(fd: RawFd) -> io::Result<()> {
    // SAFETY: dup2 and fcntl on descriptors of this process; both are async-signal-safe.
    let done =
        unsafe { if fd == TEST_FD { libc::fcntl(fd, libc::F_SETFD, 0) } else { libc::dup2(fd, TEST_FD) } };
    if done == -1 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Whether `PREFIX secret \n` arrives on `socket` before its end (or [`READ_CAP`] bytes).
fn read_secret_back(socket: &mut File, secret: &[u8]) -> bool {
    let mut line = PREFIX.to_vec();
    line.extend_from_slice(secret);
    line.push(b'\n');
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while seen.len() < READ_CAP {
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                // Look only where the new bytes could complete the line.
                let from = seen.len().saturating_sub(line.len());
                seen.extend_from_slice(&buf[..n]);
                if seen[from..].windows(line.len()).any(|window| window == line) {
                    return true;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_constants_are_testkit_s() {
        assert_eq!(ENV, testkit::verdict::ENV, "the variable's name");
        assert_eq!(PREFIX, testkit::verdict::PREFIX.as_bytes(), "the line's prefix");
        assert_eq!(SECRET_LEN, testkit::verdict::SECRET_LEN, "the secret's length");
    }

    #[test]
    fn each_channel_has_its_own_secret() {
        let (a, b) = (Channel::new().expect("channel"), Channel::new().expect("channel"));
        assert_eq!(a.secret.len(), SECRET_LEN, "the secret's length");
        assert_ne!(a.secret, b.secret, "two secrets");
        assert!(a.env_value().starts_with("3:"), "the variable names descriptor 3: {}", a.env_value());
    }
}
