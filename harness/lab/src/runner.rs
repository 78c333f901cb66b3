//! One test in one sandboxed process: a process group of its own, an address-space limit and a time
//! limit.
//!
//! The test binary runs `--exact NAME --test-threads=1 --nocapture` with its output captured. When it
//! exits, or when its time is up, the whole process group is killed: that stops a hung test and the
//! children a test left behind (a server it started, a fork bomb). The group is killed before the test
//! process is reaped, so the group id cannot have been reused by then.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::cgroup::{self, Cgroup};
use crate::interrupt;
use crate::libtest;
use crate::sandbox::{self, Isolation};
use crate::verdict::{self, Channel};

/// How much of each output stream is kept; the rest is read and dropped so the test never blocks.
const OUTPUT_CAP: usize = 1 << 20;

/// How long to wait for the output pipes to close once the group is dead: a process that left the
/// group (setsid) may hold them open forever.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// Resource limits of one test process.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock limit.
    pub timeout: Duration,
    /// Address-space limit in MiB of each process; in a sandbox with a cgroup, also the memory of the
    /// test's processes together. 0 for none.
    pub memory_mb: u64,
    /// How the test is isolated.
    pub isolation: Isolation,
    /// In a sandbox with a cgroup: the most processes and threads the test may have at once.
    pub processes: u32,
}

/// How a test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It ran and passed.
    Passed,
    /// It ran and failed (a panic, or it did not run at all).
    Failed,
    /// It was still running at the time limit and was killed.
    TimedOut,
    /// It was killed by a signal (an abort, a segfault, the out-of-memory killer).
    Crashed {
        /// The signal number.
        signal: i32,
    },
}

impl Outcome {
    /// Whether the test passed.
    pub fn passed(self) -> bool {
        self == Outcome::Passed
    }
}

/// The result of running one test.
#[derive(Debug, Clone)]
pub struct Finished {
    /// How it ended.
    pub outcome: Outcome,
    /// Wall-clock time from start to exit (or kill).
    pub duration: Duration,
    /// Why it failed: the panic message, the time limit or the signal; empty when it passed.
    pub message: String,
}

/// One test to run.
#[derive(Debug)]
pub struct TestProcess<'a> {
    /// The test binary.
    pub exe: &'a Path,
    /// The test's full name, as `--list` gave it.
    pub name: &'a str,
    /// The working directory: the package's directory, as under `cargo test`.
    pub cwd: &'a Path,
    /// Extra environment variables.
    pub env: &'a [(OsString, OsString)],
    /// In a sandbox, the folders to keep in view below its private `/tmp` (the workspace and the
    /// build the test runs from).
    pub visible: &'a [&'a Path],
    /// In a sandbox, files the test must not read (hidden tests' sources): they read as empty.
    pub masked: &'a [&'a Path],
}

/// Runs `test` under `limits` and reports how it ended.
///
/// # Errors
///
/// When the process cannot be started (or the run is being interrupted).
pub fn run(test: &TestProcess, limits: Limits) -> io::Result<Finished> {
    let channel = Channel::new()?;
    let verdict_fd = channel.test_fd();
    let memory_bytes = limits.memory_mb.saturating_mul(1024 * 1024);
    let (mut command, cgroup) = match limits.isolation {
        Isolation::ProcessGroup => (Command::new(test.exe), None),
        Isolation::Sandbox => (
            sandbox::command(test.exe, test.cwd, test.visible, test.masked),
            // Without a cgroup the per-process limits still hold; the grader said so when it started.
            Cgroup::create(limits.processes, memory_bytes).ok(),
        ),
    };
    let procs = cgroup.as_ref().map(|group| group.procs_files().to_vec()).unwrap_or_default();
    command
        .args(["--exact", test.name, "--test-threads=1", "--nocapture"])
        .current_dir(test.cwd)
        .envs(test.env.iter().map(|(key, value)| (key, value)))
        .env("RUST_BACKTRACE", "0")
        .env("PROPTEST_DISABLE_FAILURE_PERSISTENCE", "1")
        .env(verdict::ENV, channel.env_value());
    // SAFETY: the closure runs in the forked child before exec, where only async-signal-safe calls are
    // allowed: it calls open, write, close, dup2, fcntl and setrlimit only, allocates nothing and
    // takes no lock.
    unsafe {
        command.pre_exec(move || {
            // First, so that every process the test will ever start is in the group.
            cgroup::join(&procs)?;
            verdict::install(verdict_fd)?;
            if memory_bytes > 0 {
                let limit = libc::rlimit { rlim_cur: memory_bytes, rlim_max: memory_bytes };
                if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            // A crashing test must not leave core files in the student's tree.
            let no_core = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            Ok(())
        });
    }

    // The secret goes out once the test process holds its end of the socket, and only it does.
    let (ended, proof) = run_to_limit(&mut command, limits.timeout, || channel.listen())?;
    let (status, timed_out, duration) = (ended.status, ended.timed_out, ended.duration);
    let stdout = String::from_utf8_lossy(&ended.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&ended.stderr).into_owned();

    // The test's own word that its body returned a pass: exit codes and libtest's lines can be forged
    // by the code under test, the secret cannot (see `verdict`).
    let proved = proof.ok().and_then(|proof| proof.recv_timeout(PIPE_GRACE).ok()).unwrap_or(false);

    let (outcome, message) = if timed_out {
        (Outcome::TimedOut, format!("timed out after {}s", limits.timeout.as_secs_f64().round()))
    } else if let Some(signal) = status.signal().or_else(|| crash_in_sandbox(limits.isolation, status.code()))
    {
        let oom = cgroup.as_ref().is_some_and(Cgroup::oom_killed);
        (Outcome::Crashed { signal }, crash_message(signal, oom, &stderr, &stdout))
    } else if status.success() && proved {
        (Outcome::Passed, String::new())
    } else if status.success() && libtest::ran_no_test(&stdout) {
        (Outcome::Failed, "the test did not run: no test has this exact name".to_owned())
    } else if status.success() {
        (Outcome::Failed, EXITED_EARLY.to_owned())
    } else {
        (Outcome::Failed, failure_message(&stderr, &stdout, status.code()))
    };
    Ok(Finished { outcome, duration, message: libtest::sanitize(&message) })
}

/// Runs `command` (in a process group of its own) to its end or for `limit`, whichever comes first,
/// and returns its output, or `None` when it was killed at the limit. For short jobs such as listing
/// a test binary's tests, which runs the code's constructors too.
///
/// # Errors
///
/// When the process cannot be started (or the run is being interrupted).
pub fn output_within(command: &mut Command, limit: Duration) -> io::Result<Option<std::process::Output>> {
    let (ended, ()) = run_to_limit(command, limit, || ())?;
    Ok((!ended.timed_out).then_some(std::process::Output {
        status: ended.status,
        stdout: ended.stdout,
        stderr: ended.stderr,
    }))
}

/// How a process run by [`run_to_limit`] ended.
struct Ended {
    status: ExitStatus,
    /// Whether it was still running at the limit (and was killed then).
    timed_out: bool,
    /// From the spawn to the exit, or to the kill.
    duration: Duration,
    /// The first [`OUTPUT_CAP`] bytes of each stream.
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Spawns `command` in a process group of its own with its output captured, calls `spawned` once it
/// runs, and waits for it to exit or for `limit`, whichever comes first; then kills the whole group,
/// the leader included if it still runs, and reaps the leader. The group is killed before the leader
/// is reaped, so the group id cannot have been reused by then.
fn run_to_limit<T>(
    command: &mut Command,
    limit: Duration,
    spawned: impl FnOnce() -> T,
) -> io::Result<(Ended, T)> {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let started = Instant::now();
    let mut child = interrupt::spawn(command)?;
    // A child id is a positive pid_t, and the child leads its own group.
    let pid = child.id() as i32;
    let after_spawn = spawned();
    let stdout = capture(child.stdout.take());
    let stderr = capture(child.stderr.take());
    let (exited_tx, exited) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        wait_without_reaping(pid);
        let _ = exited_tx.send(());
    });
    let timed_out = matches!(exited.recv_timeout(limit), Err(RecvTimeoutError::Timeout));
    let duration = started.elapsed();
    // The leader is alive or a zombie, never reaped here, so `pid` still names its group.
    interrupt::kill_group(pid);
    let _ = waiter.join();
    let status = child.wait();
    interrupt::finished(pid);
    let status = status?;
    let stdout = stdout.recv_timeout(PIPE_GRACE).unwrap_or_default();
    let stderr = stderr.recv_timeout(PIPE_GRACE).unwrap_or_default();
    Ok((Ended { status, timed_out, duration, stdout, stderr }, after_spawn))
}

/// Why a test that exited with 0 but never proved its end failed.
const EXITED_EARLY: &str = "the test process exited with code 0 before the test reached its end: \
does the code under test call std::process::exit? (A test passes only when its body returns.)";

/// Blocks until process `pid` has exited, leaving it a zombie so that its pid (and group id) stays
/// taken until the caller reaps it.
fn wait_without_reaping(pid: i32) {
    loop {
        // SAFETY: siginfo_t is a plain C struct; all zeroes is a valid value of it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable siginfo_t for the duration of the call.
        let rc =
            unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if rc == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// Reads `stream` to its end on a thread, keeping the first [`OUTPUT_CAP`] bytes.
fn capture(stream: Option<impl Read + Send + 'static>) -> Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        if let Some(mut stream) = stream {
            let mut buf = [0u8; 8192];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        let room = OUTPUT_CAP.saturating_sub(kept.len());
                        kept.extend_from_slice(&buf[..n.min(room)]);
                    }
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

fn failure_message(stderr: &str, stdout: &str, code: Option<i32>) -> String {
    if let Some(message) = libtest::panic_message(stderr).or_else(|| libtest::panic_message(stdout)) {
        return message;
    }
    let last = libtest::last_lines(&format!("{stdout}\n{stderr}"));
    let code = code.map_or_else(|| "?".to_owned(), |code| code.to_string());
    if last.is_empty() { format!("failed with exit code {code}") } else { last }
}

/// The signal that killed a sandboxed test, which bwrap turns into an exit code.
fn crash_in_sandbox(isolation: Isolation, code: Option<i32>) -> Option<i32> {
    (isolation == Isolation::Sandbox).then_some(code).flatten().and_then(sandbox::signal_of_exit_code)
}

fn crash_message(signal: i32, oom: bool, stderr: &str, stdout: &str) -> String {
    let name = signal_name(signal);
    let mut message = format!("crashed: killed by signal {signal} ({name})");
    if oom {
        message.push_str(": the test's processes used more memory than its limit");
    } else if signal == libc::SIGKILL {
        message.push_str(", perhaps by the out-of-memory killer");
    }
    let last = libtest::last_lines(&format!("{stdout}\n{stderr}"));
    if !last.is_empty() {
        message.push('\n');
        message.push_str(&last);
    }
    message
}

/// The usual name of a signal number.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGILL => "SIGILL",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTRAP => "SIGTRAP",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A shell script standing in for a test binary: it ignores libtest's arguments.
    fn fake_test(dir: &Path, body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("fake-test");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    /// Limits without a sandbox: the time, and the address space in MiB.
    fn plain(timeout: Duration, memory_mb: u64) -> Limits {
        Limits { timeout, memory_mb, isolation: Isolation::ProcessGroup, processes: 0 }
    }

    fn run_script(body: &str, timeout: Duration) -> Finished {
        let tmp = tempfile::tempdir().unwrap();
        let exe = fake_test(tmp.path(), body);
        let test = TestProcess { exe: &exe, name: "t", cwd: tmp.path(), env: &[], visible: &[], masked: &[] };
        run(&test, plain(timeout, 0)).unwrap()
    }

    /// What `testkit::verdict` does: read the secret from descriptor 3, write it back at the end.
    const PROVE: &str = "secret=$(head -c 64 <&3); printf 'lab-verdict %s\\n' \"$secret\" >&3";

    #[test]
    fn passes_when_the_test_proves_its_end() {
        let finished =
            run_script(&format!("{PROVE}; echo 'test result: ok. 1 passed'"), Duration::from_secs(10));
        assert_eq!(finished.outcome, Outcome::Passed, "{}", finished.message);
        assert!(finished.message.is_empty());
    }

    #[test]
    fn a_forged_result_without_the_proof_fails() {
        let forged = "echo 'test result: ok. 1 passed; 0 failed'; exit 0";
        let finished = run_script(forged, Duration::from_secs(10));
        assert_eq!(finished.outcome, Outcome::Failed, "libtest's line printed by the code under test");
        assert_eq!(finished.message, EXITED_EARLY);
        let guessed = "head -c 64 <&3 >/dev/null; printf 'lab-verdict %064d\\n' 0 >&3; echo 'test result: ok. 1 passed'";
        let finished = run_script(guessed, Duration::from_secs(10));
        assert_eq!(finished.outcome, Outcome::Failed, "a guessed secret");
    }

    #[test]
    fn the_proof_with_a_failing_exit_code_fails() {
        let finished = run_script(&format!("{PROVE}; exit 101"), Duration::from_secs(10));
        assert_eq!(finished.outcome, Outcome::Failed, "the process failed after the body returned");
    }

    #[test]
    fn exit_zero_without_a_test_is_a_failure() {
        let finished =
            run_script("echo 'running 0 tests'; echo 'test result: ok. 0 passed'", Duration::from_secs(10));
        assert_eq!(finished.outcome, Outcome::Failed);
        assert!(finished.message.contains("did not run"));
    }

    #[test]
    fn a_panic_gives_its_message() {
        let body =
            "echo \"thread 't' panicked at tests/a.rs:1:2:\" >&2; echo 'not yet implemented' >&2; exit 101";
        let finished = run_script(body, Duration::from_secs(10));
        assert_eq!(finished.outcome, Outcome::Failed);
        assert_eq!(finished.message, "thread 't' panicked at tests/a.rs:1:2:\nnot yet implemented");
    }

    #[test]
    fn a_hung_test_and_its_children_are_killed_at_the_deadline() {
        let tmp = tempfile::tempdir().unwrap();
        let marker = tmp.path().join("child-pid");
        let body = format!("sleep 30 & echo $! > {}; sleep 30", marker.display());
        let started = Instant::now();
        let finished = run_script(&body, Duration::from_millis(300));
        assert_eq!(finished.outcome, Outcome::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(finished.message.starts_with("timed out after"));
        let child: i32 = std::fs::read_to_string(&marker).unwrap().trim().parse().unwrap();
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(child, 0) } == 0;
        // A killed child may linger briefly as a zombie of init; it must not be running `sleep`.
        let running = alive
            && std::fs::read_to_string(format!("/proc/{child}/stat"))
                .is_ok_and(|stat| !stat.contains(") Z "));
        assert!(!running, "the background child survived");
    }

    #[test]
    fn a_signal_is_a_crash() {
        let finished = run_script(
            "echo 'fatal runtime error: stack overflow' >&2; kill -SEGV $$",
            Duration::from_secs(10),
        );
        assert_eq!(finished.outcome, Outcome::Crashed { signal: libc::SIGSEGV });
        assert!(finished.message.contains("SIGSEGV"), "{}", finished.message);
        assert!(finished.message.contains("stack overflow"), "{}", finished.message);
    }

    #[test]
    fn the_memory_limit_applies() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = fake_test(tmp.path(), "ulimit -v");
        let test = TestProcess { exe: &exe, name: "t", cwd: tmp.path(), env: &[], visible: &[], masked: &[] };
        let finished = run(&test, plain(Duration::from_secs(10), 64)).unwrap();
        // `ulimit -v` prints the limit in KiB; exit 0 without libtest's line is reported as not run.
        assert_eq!(finished.outcome, Outcome::Failed);
        let exe = fake_test(tmp.path(), &format!("test \"$(ulimit -v)\" = 65536 && {PROVE}"));
        let test = TestProcess { exe: &exe, name: "t", cwd: tmp.path(), env: &[], visible: &[], masked: &[] };
        let finished = run(&test, plain(Duration::from_secs(10), 64)).unwrap();
        assert_eq!(finished.outcome, Outcome::Passed, "{}", finished.message);
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(libc::SIGABRT), "SIGABRT");
        assert_eq!(signal_name(1000), "signal");
    }
}
