//! Ctrl-C and SIGTERM: kill every running test's process group, then exit.
//!
//! Tests run in process groups of their own, so the terminal's SIGINT never reaches them; without
//! this, an interrupted `cargo lab` would leave hung tests spinning. Every test process is started
//! through [`spawn`], which records its group while holding the same lock the signal handler takes,
//! so no test can be started after the handler has killed the others.

use std::io;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

static GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();

fn groups() -> MutexGuard<'static, Vec<i32>> {
    GROUPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Installs the handler once; later calls do nothing. A failure to install is reported and ignored:
/// the harness still works, only an interrupt may leave tests behind.
pub fn install() {
    INSTALL.call_once(|| match Signals::new([SIGINT, SIGTERM]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    INTERRUPTED.store(true, Ordering::SeqCst);
                    let groups = groups();
                    for &group in groups.iter() {
                        kill_group(group);
                    }
                    eprintln!("\ncargo-lab: interrupted");
                    // The lock stays held: no test can start between the kill and the exit.
                    std::process::exit(128 + signal);
                }
            });
        }
        Err(err) => {
            eprintln!("cargo-lab: cannot handle Ctrl-C ({err}); an interrupt may leave tests running")
        }
    });
}

/// Spawns `command`, which must start a new process group (`process_group(0)`), and records the
/// group until [`finished`] is called with the child's id.
///
/// # Errors
///
/// The spawn error, or `Interrupted` when the run is being interrupted.
pub fn spawn(command: &mut Command) -> io::Result<Child> {
    let mut groups = groups();
    if INTERRUPTED.load(Ordering::SeqCst) {
        return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
    }
    let child = command.spawn()?;
    // A child id is a positive pid_t.
    groups.push(child.id() as i32);
    Ok(child)
}

/// Forgets the group of a finished child.
pub fn finished(pid: i32) {
    let mut groups = groups();
    if let Some(at) = groups.iter().position(|&group| group == pid) {
        groups.swap_remove(at);
    }
}

/// Sends SIGKILL to every process in the group `group`; a group that is gone already is not an error.
pub fn kill_group(group: i32) {
    // SAFETY: killpg has no memory-safety preconditions; at worst it fails with ESRCH.
    unsafe {
        libc::killpg(group, libc::SIGKILL);
    }
}

/// The groups currently running, for tests.
#[cfg(test)]
pub fn running() -> std::collections::HashSet<i32> {
    groups().iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;

    #[test]
    fn records_and_forgets_groups() {
        let mut command = Command::new("true");
        command.process_group(0);
        let mut child = spawn(&mut command).unwrap();
        let pid = child.id() as i32;
        assert!(running().contains(&pid));
        child.wait().unwrap();
        finished(pid);
        assert!(!running().contains(&pid));
    }
}
