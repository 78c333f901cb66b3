//! The two socket operations std does not offer: a TCP reset, and waiting for sent bytes to leave.

use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::shutdown::Shutdown;

/// How long a reset waits for the bytes already written to reach the peer.
const DRAIN_DEADLINE: Duration = Duration::from_secs(1);

/// Closes `stream` with a TCP reset (RST) instead of a graceful FIN. A reset discards whatever is
/// still queued, so call [`wait_sent`] first. The caller must hold no other descriptor of the
/// socket, or the reset waits for the last one to close.
pub(super) fn reset(stream: TcpStream) {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: the descriptor is open (owned by `stream`, alive for the call); the option value
        // points at an initialised `linger` and its exact size is passed. A failure only means a
        // FIN instead of a reset, which is harmless.
        unsafe {
            libc::setsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&raw const linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }
    drop(stream);
}

/// Waits (bounded, and not past a stop) until the kernel holds no unsent or unacknowledged byte.
pub(super) fn wait_sent(stream: &TcpStream, shutdown: &Shutdown) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let start = Instant::now();
        loop {
            let mut queued: libc::c_int = 0;
            // SAFETY: the descriptor is open; TIOCOUTQ (SIOCOUTQ for TCP) writes one c_int into the
            // pointed-at, initialised variable.
            let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &raw mut queued) };
            if rc != 0 || queued == 0 || start.elapsed() > DRAIN_DEADLINE {
                return;
            }
            if !shutdown.pause(Duration::from_millis(1)) {
                return;
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (stream, shutdown, Instant::now(), DRAIN_DEADLINE);
    }
}
