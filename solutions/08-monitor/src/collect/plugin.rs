//! Plugins: any executable that prints samples ([`super::plugin_output`]), run as a collector.
//!
//! A plugin is whatever the machine's owner wrote, so it is run as if it could misbehave in every
//! way, and none of them may stop the agent:
//!
//! - **no shell**: the program is executed with its arguments as given, so nothing in them is
//!   expanded or split, and standard input is `/dev/null`;
//! - **its own process group**, so that when it has to go, the shell pipelines and background
//!   children it started go with it: killing only the child would leave a grandchild that holds
//!   the output pipe, and the read would never end;
//! - **a timeout**: a plugin is done when it has exited *and* its output has closed; one that is
//!   not done in time has its process group killed (SIGKILL) and the reading fails;
//! - **capped output**: past [`PluginSpec::max_output`] bytes the group is killed too;
//! - a **non-zero exit**, a **signal**, or output that does not parse is an error naming the plugin,
//!   with the start of its standard error.

use std::io::{self, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use std::os::unix::process::CommandExt;

use super::{CollectError, Collector, parse_plugin_output};
use crate::{Millis, Sample};

/// How much of a failed plugin's standard error is kept for the report.
pub const MAX_STDERR: usize = 1024;

/// How long to wait, after killing a plugin's group, for its pipes to close and its exit status.
const REAP_GRACE: Duration = Duration::from_secs(2);

/// How to run one plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSpec {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments, passed as they are.
    pub args: Vec<String>,
    /// How often it runs.
    pub interval: Duration,
    /// How long one run may take, output included; keep it under the interval.
    pub timeout: Duration,
    /// The most bytes it may print on standard output.
    pub max_output: usize,
}

impl PluginSpec {
    /// Running `program` with no arguments every 60 s, with a 10 s timeout and 1 MiB of output.
    pub fn new(program: impl Into<PathBuf>) -> PluginSpec {
        PluginSpec {
            program: program.into(),
            args: Vec::new(),
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            max_output: 1024 * 1024,
        }
    }

    /// The plugin's name in reports: its program's file name.
    pub fn name(&self) -> String {
        let name = self.program.file_name().unwrap_or(self.program.as_os_str());
        name.to_string_lossy().into_owned()
    }
}

/// Runs the plugin once and returns what it printed on standard output.
///
/// # Errors
///
/// [`CollectError::PluginStart`] when it cannot be started, [`CollectError::PluginTimeout`] when it
/// has not exited and closed its output within the timeout, [`CollectError::PluginFlood`] when it
/// printed more than `max_output` bytes, [`CollectError::PluginFailed`] when it exited with a
/// status other than 0 or was killed by a signal. In the first three cases its whole process group
/// is killed.
pub fn run_plugin(spec: &PluginSpec) -> Result<Vec<u8>, CollectError> {
    let plugin = spec.name();
    let start_error = |source| CollectError::PluginStart { plugin: plugin.clone(), source };
    let mut child = Command::new(&spec.program)
        .args(&spec.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(start_error)?;
    // The child leads its own group, whose ID is its PID.
    let group = child.id() as libc::pid_t;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());

    let (err_tx, err_rx) = mpsc::channel();
    let stderr_reader = thread::Builder::new().name(format!("plugin-{plugin}-stderr")).spawn(move || {
        let _ = err_tx.send(read_capped(stderr, MAX_STDERR, true).0);
    });
    if let Err(err) = stderr_reader {
        kill_group(group);
        let _ = child.wait();
        return Err(start_error(err));
    }
    let (out_tx, out_rx) = mpsc::channel();
    let max_output = spec.max_output;
    let stdout_reader = thread::Builder::new().name(format!("plugin-{plugin}")).spawn(move || {
        let (output, flooded) = read_capped(stdout, max_output, false);
        if flooded {
            kill_group(group);
        }
        let _ = out_tx.send((output, flooded, child.wait()));
    });
    if let Err(err) = stdout_reader {
        kill_group(group);
        return Err(start_error(err));
    }

    let (output, flooded, status) = match out_rx.recv_timeout(spec.timeout) {
        Ok(finished) => finished,
        Err(_) => {
            kill_group(group);
            // Reap it, so that no zombie is left; a plugin that left its group is out of reach.
            let _ = out_rx.recv_timeout(REAP_GRACE);
            return Err(CollectError::PluginTimeout { plugin, timeout: spec.timeout });
        }
    };
    if flooded {
        return Err(CollectError::PluginFlood { plugin, limit: spec.max_output });
    }
    match status {
        Ok(status) if status.success() => Ok(output),
        Ok(status) => {
            let stderr = err_rx.recv_timeout(REAP_GRACE).unwrap_or_default();
            let stderr = String::from_utf8_lossy(&stderr).trim().to_owned();
            // `exit status: 1`, `signal: 9 (SIGKILL)`.
            Err(CollectError::PluginFailed { plugin, status: status.to_string(), stderr })
        }
        Err(source) => Err(CollectError::PluginStart { plugin, source }),
    }
}

/// Reads `pipe` to its end, keeping at most `limit` bytes. Returns them, and whether there were
/// more. With `drain`, the rest is read and dropped (so the writer never blocks); without, reading
/// stops at the first byte past the limit.
fn read_capped(pipe: Option<impl Read>, limit: usize, drain: bool) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else { return (kept, false) };
    let _ = pipe.by_ref().take(limit as u64 + 1).read_to_end(&mut kept);
    let over = kept.len() > limit;
    kept.truncate(limit);
    if over && drain {
        let _ = io::copy(&mut pipe, &mut io::sink());
    }
    (kept, over)
}

/// SIGKILL to every process in the group.
fn kill_group(group: libc::pid_t) {
    // SAFETY: kill has no memory effects; a group that is already gone gives ESRCH, which is fine.
    unsafe {
        libc::kill(-group, libc::SIGKILL);
    }
}

/// A plugin, run as a collector.
#[derive(Debug)]
pub struct PluginCollector {
    spec: PluginSpec,
    name: String,
}

impl PluginCollector {
    /// The collector running `spec`; it is named `plugin:` and the program's file name.
    pub fn new(spec: PluginSpec) -> PluginCollector {
        let name = format!("plugin:{}", spec.name());
        PluginCollector { spec, name }
    }
}

impl Collector for PluginCollector {
    fn name(&self) -> &str {
        &self.name
    }

    fn interval(&self) -> Duration {
        self.spec.interval
    }

    fn collect(&mut self, _now: Millis) -> Result<Vec<Sample>, CollectError> {
        let output = run_plugin(&self.spec)?;
        let plugin = self.spec.name();
        let text = String::from_utf8(output).map_err(|err| {
            let line =
                1 + err.as_bytes()[..err.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n').count();
            CollectError::PluginOutput {
                plugin: plugin.clone(),
                source: super::ParseError::new(line, "not UTF-8"),
            }
        })?;
        parse_plugin_output(&text).map_err(|source| CollectError::PluginOutput { plugin, source })
    }
}
